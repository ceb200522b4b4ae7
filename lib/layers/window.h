/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A window sliding over the time axis, shared by Conv1D and MaxPooling1D:
 * `size` taps spaced `dilation` apart, moved by `stride`, with "valid" or
 * "same" padding (left = total / 2, as TensorFlow). Steps outside [0, T) and
 * at or after a sample's length are not read, so every sample gets what it
 * would get alone at its own length.
 */
#ifndef RNN_LAYERS_WINDOW_H
#define RNN_LAYERS_WINDOW_H

#include "layer/layer.h"

typedef struct rnn__window {
    int64_t size, stride, dilation;
    rnn_padding padding;
} rnn__window;

static inline int64_t rnn__window_span(const rnn__window *w)
{
    return w->dilation * (w->size - 1) + 1;
}

/* Output steps for T input steps (<= 0: too short for "valid"). */
static inline int64_t rnn__window_steps(const rnn__window *w, int64_t T)
{
    if (w->padding == RNN_PADDING_SAME)
        return (T + w->stride - 1) / w->stride;
    const int64_t span = rnn__window_span(w);
    return T >= span ? (T - span) / w->stride + 1 : 0;
}

/* Padding steps before step 0. */
static inline int64_t rnn__window_pad_left(const rnn__window *w, int64_t T, int64_t To)
{
    if (w->padding != RNN_PADDING_SAME)
        return 0;
    const int64_t total = (To - 1) * w->stride + rnn__window_span(w) - T;
    return total > 0 ? total / 2 : 0;
}

/* Infer: the producer must output an f32 sequence (N, T, F) and, when its
 * steps are static, give at least one output step; *To (0: any). */
static inline rnn_status rnn__window_infer(const char *func, const char *kind,
                                           const rnn__window *w, const rnn__src *in,
                                           int64_t *To)
{
    *To = 0;
    if (in->d.dtype != RNN_F32 || in->d.features < 1 || !in->d.seq)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s does not output an f32 sequence (N, T, F)%s",
                        in->name, in->d.dtype == RNN_I32 ? "; add an Embedding layer first" : "");
    if (w->stride > 1 && w->dilation > 1)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "strides > 1 and dilation_rate > 1 cannot be combined (as in Keras)");
    const int64_t T = in->d.steps;
    if (T > 0 && (*To = rnn__window_steps(w, T)) < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "%s: the input has %lld steps, fewer than the window span %lld with "
                        "\"valid\" padding",
                        kind, (long long)T, (long long)rnn__window_span(w));
    return RNN_OK;
}

/* Forward: output steps for a batch of T steps (an error, the cause only,
 * when there are none). */
static inline rnn_status rnn__window_run_steps(const rnn__window *w, int64_t T, int64_t *To)
{
    *To = rnn__window_steps(w, T);
    if (*To < 1)
        return rnn__err(RNN_ERR_SHAPE, NULL,
                        "the input has %lld steps, fewer than the window span %lld with "
                        "\"valid\" padding",
                        (long long)T, (long long)rnn__window_span(w));
    return RNN_OK;
}

/* A growable int32 buffer (argmax positions, lengths). */
typedef struct rnn__ibuf {
    int32_t *p;
    size_t n;
} rnn__ibuf;

static inline rnn_status rnn__ibuf_ensure(rnn__ibuf *b, size_t n)
{
    if (b->n >= n)
        return RNN_OK;
    int32_t *p = rnn__calloc(n, sizeof *p);
    if (!p)
        return rnn__err(RNN_ERR_NOMEM, NULL, "out of memory allocating %zu bytes",
                        n * sizeof *p);
    rnn__free(b->p);
    b->p = p;
    b->n = n;
    return RNN_OK;
}

static inline void rnn__ibuf_free(rnn__ibuf *b)
{
    rnn__free(b->p);
    b->p = NULL;
    b->n = 0;
}

/* Output lengths from input lengths len[0..N) (NULL: *out NULL) into b. */
static inline rnn_status rnn__window_lengths(const rnn__window *w, const int32_t *len, int64_t N,
                                             int64_t To, rnn__ibuf *b, const int32_t **out)
{
    *out = NULL;
    if (!len)
        return RNN_OK;
    rnn_status st = rnn__ibuf_ensure(b, (size_t)N);
    if (st)
        return st;
    for (int64_t n = 0; n < N; n++) {
        int64_t L = rnn__window_steps(w, len[n]);
        b->p[n] = (int32_t)(L < 1 ? 1 : L > To ? To : L);
    }
    *out = b->p;
    return RNN_OK;
}

#endif
