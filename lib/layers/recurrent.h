/* SPDX-License-Identifier: Apache-2.0 */
/* Internal state of a recurrent layer (layers/recurrent*.c). */
#ifndef RNN_LAYERS_RECURRENT_H
#define RNN_LAYERS_RECURRENT_H

#include "layer/layer.h"

/* One direction: one kernel (one oneDNN primitive family). */
typedef struct rnn__rdir {
    rnn__rnn_kernel *k;
    int64_t kT, kN;        /* capacity the kernel was created for */
    rnn__rnn_kernel *kref; /* reference kernel: training with recurrent dropout */
    int64_t krT, krN;
    rnn__rnn_kernel *used; /* the kernel of the last forward (k or kref) */
    int reverse;
    int pk, pr, pb;        /* parameter indices; pb = -1 without bias */
    rnn__fbuf bias;        /* [Gb*H] kernel-layout bias */
    uint64_t bias_version; /* params_version the bias was converted at */
    int bias_valid;
    rnn__fbuf dbias; /* [Gb*H] kernel-layout bias gradient (temporary) */
    /* y and dy: time-major, unless the output is written in place; dx: batch-major, with a
     * dropout mask only */
    rnn__fbuf y, hT, cT, dy, dhT, dcT, dx, dh0, dc0;
    rnn__fbuf xin, mask; /* dropout: masked input (N, T, I), mask [N][I] */
    rnn__fbuf rmask;     /* recurrent dropout mask [N][H] */
    int masked;
    int64_t mask_N;  /* batch size the masks were drawn for (0: none) */
    int64_t rmask_N;
    rnn__rnn_fwd fwd; /* what the last forward ran, kept for backward */
} rnn__rdir;

typedef struct rnn__recurrent {
    const rnn_recurrent_options *o; /* the layer's options (l->opts) */
    rnn__cell cell;
    int G, Gb, ns, ndir;
    int64_t I, H;
    rnn__rdir d[2];
    /* Caller-given initial states (copied) and their gradients. */
    int n_init;
    rnn_tensor *init[4];
    rnn_tensor *init_grad[4];
    /* Stateful carry: final states of the previous batch. */
    rnn__fbuf carry[4];
    int64_t carry_N;
    int carry_valid;
    int64_t N, T;
    const int32_t *len; /* lengths of the last forward's input */
} rnn__recurrent;

/* Converts the canonical (Keras) bias to the kernel layout, and a kernel
 * bias gradient back, accumulating into the canonical gradient. */
RNN__HIDDEN void rnn__recurrent_bias_to_kernel(const rnn__recurrent *r, const float *keras,
                                               float *kernel);
RNN__HIDDEN void rnn__recurrent_dbias_to_keras(const rnn__recurrent *r, const float *kernel,
                                               float *keras);

RNN__HIDDEN extern const rnn__layer_ops rnn__recurrent_ops;

/* The recurrent state of layer l, or an error (named after func) when l is
 * NULL or not a recurrent layer. */
RNN__HIDDEN rnn_status rnn__recurrent_impl(const char *func, const rnn_layer *l,
                                           rnn__recurrent **out);

#endif
