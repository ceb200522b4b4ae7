/* SPDX-License-Identifier: Apache-2.0 */
/* Layers that only rearrange values: Flatten and RepeatVector. */
#include <string.h>

#include "model/graph.h"

static void shape_destroy(rnn_layer *l)
{
    rnn__free(l->impl);
}

static const void *shape_options(const rnn_layer *l)
{
    return l->impl;
}

/* Flatten: (N, T, F) -> (N, T*F), the same bytes. */
static rnn_status flatten_forward(rnn_layer *l, int training)
{
    (void)training;
    const rnn_tensor *x = rnn__layer_in(l);
    if (x->dims[1] * x->dims[2] != l->out_features[0])
        return rnn__err(RNN_ERR_SHAPE, "rnn_model_forward",
                        "layer %s (flatten) expects %lld steps (got %lld)", l->name,
                        (long long)(l->out_features[0] / x->dims[2]), (long long)x->dims[1]);
    int64_t dims[2] = {x->dims[0], l->out_features[0]};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 2, dims, 0);
    if (st)
        return st;
    memcpy(l->out[0]->data, x->data, x->nbytes);
    l->out_len[0] = NULL;
    return RNN_OK;
}

static rnn_status flatten_backward(rnn_layer *l)
{
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    for (int64_t i = 0; i < din->numel; i++)
        dx[i] += dy[i];
    return RNN_OK;
}

/* RepeatVector: (N, F) -> (N, n, F). */
static rnn_status repeat_forward(rnn_layer *l, int training)
{
    (void)training;
    const rnn__shape_desc *d = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], F = x->dims[1];
    int64_t dims[3] = {N, d->n, F};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 3, dims, 0);
    if (st)
        return st;
    const float *xp = rnn__f32(x);
    float *y = rnn__f32(l->out[0]);
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < d->n; t++)
            memcpy(y + (n * d->n + t) * F, xp + n * F, sizeof(float) * (size_t)F);
    l->out_len[0] = NULL;
    return RNN_OK;
}

static rnn_status repeat_backward(rnn_layer *l)
{
    const rnn__shape_desc *d = l->impl;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    const int64_t N = din->dims[0], F = din->dims[1];
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < d->n; t++)
            for (int64_t f = 0; f < F; f++)
                dx[n * F + f] += dy[(n * d->n + t) * F + f];
    return RNN_OK;
}

static const rnn__layer_vt flatten_vt = {.kind = "flatten", .forward = flatten_forward,
                                         .backward = flatten_backward, .destroy = shape_destroy,
                                         .options = shape_options};
static const rnn__layer_vt repeat_vt = {.kind = "repeat_vector", .forward = repeat_forward,
                                        .backward = repeat_backward, .destroy = shape_destroy,
                                        .options = shape_options};

rnn_status rnn_model_add_flatten(rnn_model *m, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(m);
    rnn_layer *prev, *l;
    rnn_status st = rnn__model_tail(__func__, m, &prev);
    if (st)
        return st;
    if (prev->out_dtype[0] != RNN_F32 || prev->out_features[0] < 1 || !prev->out_seq[0])
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s does not output an f32 sequence (N, T, F)",
                        prev->name);
    if (prev->out_steps[0] < 1)
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s outputs sequences of any length; Flatten needs "
                        "a fixed number of steps (declare it in rnn_model_add_input)",
                        prev->name);
    if (prev->out_steps[0] > (INT64_C(1) << 31) / prev->out_features[0])
        return RNN__ERR(RNN_ERR_SHAPE, "%lld steps x %lld features is too large to flatten",
                        (long long)prev->out_steps[0], (long long)prev->out_features[0]);
    if ((st = rnn__layer_new(__func__, &flatten_vt, sizeof(rnn__shape_desc), &l)))
        return st;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_features[0] = prev->out_steps[0] * prev->out_features[0];
    if ((st = rnn__model_append(m, l, "flatten")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}

rnn_status rnn_model_add_repeat_vector(rnn_model *m, int64_t n, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(m);
    if (n < 1 || n > (1 << 24))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "n must be in 1..16777216 (got %lld)", (long long)n);
    rnn_layer *prev, *l;
    rnn_status st = rnn__model_tail(__func__, m, &prev);
    if (st)
        return st;
    if (prev->out_dtype[0] != RNN_F32 || prev->out_features[0] < 1 || prev->out_seq[0])
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s does not output f32 vectors (N, F)", prev->name);
    if ((st = rnn__layer_new(__func__, &repeat_vt, sizeof(rnn__shape_desc), &l)))
        return st;
    ((rnn__shape_desc *)l->impl)->n = n;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = 1;
    l->out_steps[0] = n;
    l->out_features[0] = prev->out_features[0];
    if ((st = rnn__model_append(m, l, "repeat_vector")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}
