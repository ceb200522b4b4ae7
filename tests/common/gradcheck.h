/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The finite-difference gradient check every test uses (issue 14).
 *
 * gc_model(): given a built model, its inputs and optional lengths, the loss is a fixed random
 * linear functional of every output, L = sum_k sum_i W_k[i] * out_k[i] (W_k uniform in [-1, 1)
 * from opts.seed, so every output element matters), accumulated in double. One training
 * forward and rnn_model_backward(W) give the analytic gradients; each is then compared with
 * the central difference (L(v + eps) - L(v - eps)) / (2 eps) (the steps actually taken in
 * float) for:
 *   - every parameter of every layer (rnn_layer_param; a non-trainable layer's gradient must
 *     be exactly zero instead),
 *   - every element of every f32 input (rnn_model_input_grad); with lengths, the padding of a
 *     sequence input must have an exactly zero gradient and move the loss by exactly nothing,
 *   - every caller-given initial state listed in opts.states (rnn_layer_initial_state_grad).
 * An element passes when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|);
 * the check fails (Check assertion) on the worst element, naming its layer, parameter and
 * index with both values. It goes through the public API only, plus one white-box hook:
 * rnn__model_freeze_masks(model, 1), so that dropout draws its masks once (the model's masks
 * stay frozen afterwards). Stateful layers are reset before every forward.
 *
 * gc_scalar(): the same comparison for a scalar function of one float array (a loss against
 * its predictions, say) given its analytic gradient.
 *
 * Both print one line per check: what, elements compared, the worst element's error as a
 * fraction of its tolerance.
 */
#ifndef RNN_TEST_GRADCHECK_H
#define RNN_TEST_GRADCHECK_H

#include <stdint.h>

#include "rnn.h"

enum { GC_MAX_IO = 8 };

/* Initial states given with rnn_layer_set_initial_state() whose gradients are checked too:
 * the harness perturbs states[k] and sets them again. */
typedef struct gc_state {
    rnn_layer *layer;
    int count;
    rnn_tensor *const *states;
} gc_state;

typedef struct gc_options {
    double eps;         /* central-difference step; gc_options_init: 1e-2 (use 1e-3 near a kink:
                         * ReLU, max) */
    double rtol, atol;  /* tolerance, see above; gc_options_init: 1e-2 and 2e-4 */
    int64_t max_elems;  /* elements compared per tensor, sampled without replacement when the
                         * tensor has more; 0: every element */
    uint64_t seed;      /* of W and of the sampled elements (same seed, same check) */
    /* Per model output: NULL, or the real steps of each sample of a sequence output (N, T, F)
     * whose steps past them are padding the following layers would ignore: W is zero there. */
    const int32_t *out_len[GC_MAX_IO];
    const gc_state *states; /* num_states entries */
    int num_states;
    int quiet;              /* 1: no summary line */
} gc_options;

/* What a check found. */
typedef struct gc_result {
    double worst;        /* the worst element's |a - n| / (atol + rtol max(|a|, |n|)); <= 1 passes */
    int64_t checked;     /* elements compared */
    char where[384];     /* the worst element: tensor, index, analytic and numeric values */
} gc_result;

/* Defaults (see gc_options). */
void gc_options_init(gc_options *o);

/* Checks without asserting (for the harness' own tests); o NULL: defaults. */
gc_result gc_model_run(rnn_model *m, int num_inputs, rnn_tensor *const *inputs,
                       rnn_tensor *const *lengths, const gc_options *o, const char *what);

/* gc_model_run, then a Check failure naming the worst element unless it passes; returns its
 * gc_result.worst. lengths: NULL or num_inputs entries (each NULL or an i32 tensor (N)). */
double gc_model(rnn_model *m, int num_inputs, rnn_tensor *const *inputs,
                rnn_tensor *const *lengths, const gc_options *o, const char *what);

/* A scalar function of x[0..n): returns its value (in double) at the current x. */
typedef double (*gc_fn)(void *ctx);

/* Central differences of f in each element of x (perturbed in place, restored) against
 * grad[0..n); dims/rank (rank 0: flat) only name the worst index. */
gc_result gc_scalar_run(gc_fn f, void *ctx, float *x, const float *grad, int rank,
                        const int64_t *dims, int64_t n, const gc_options *o, const char *what);
double gc_scalar(gc_fn f, void *ctx, float *x, const float *grad, int rank, const int64_t *dims,
                 int64_t n, const gc_options *o, const char *what);

/* White-box hook (lib/model/model.c; the harness links the internal static library): while
 * frozen, training forwards reuse the dropout masks drawn for the same batch size. */
void rnn__model_freeze_masks(rnn_model *m, int freeze);

#endif
