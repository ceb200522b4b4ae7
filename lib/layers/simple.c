/* SPDX-License-Identifier: Apache-2.0 */
/* Layers without parameters: Dropout, Activation, global pooling over time. */
#include <math.h>
#include <string.h>

#include "model/graph.h"

typedef struct simple {
    rnn__simple_desc d; /* first: what options() returns */
    int kind;           /* 0 dropout, 1 activation, 2 pooling, 3 spatial dropout */
    float *mask;        /* dropout mask of the last training forward */
    size_t mask_n;      /* capacity */
    int64_t mask_numel; /* elements the current mask was drawn for (0: none) */
    int masked;         /* the last forward applied the mask */
    int32_t *argmax; /* max pooling: the step chosen per (n, f) */
    size_t argmax_n;
} simple;

static void simple_destroy(rnn_layer *l)
{
    simple *s = l->impl;
    if (s) {
        rnn__free(s->mask);
        rnn__free(s->argmax);
    }
    rnn__free(s);
}

static const void *simple_options(const rnn_layer *l)
{
    return l->impl;
}

static rnn_status simple_forward(rnn_layer *l, int training)
{
    simple *s = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int32_t *len = rnn__layer_in_len(l);
    rnn_status st;
    if (s->kind == 2) {
        const int64_t N = x->dims[0], T = x->dims[1], F = x->dims[2];
        int64_t dims[2] = {N, F};
        if ((st = rnn__tensor_ensure(&l->out[0], 2, dims, 0)))
            return st;
        size_t need = (size_t)(N * F);
        if (s->d.pool == RNN_POOL_MAX && s->argmax_n < need) {
            int32_t *p = rnn__malloc(need * sizeof(int32_t));
            if (!p)
                return RNN__NOMEM(need * sizeof(int32_t));
            rnn__free(s->argmax);
            s->argmax = p;
            s->argmax_n = need;
        }
        const float *xp = rnn__f32(x);
        float *y = rnn__f32(l->out[0]);
        for (int64_t n = 0; n < N; n++) {
            const int64_t L = len ? len[n] : T;
            for (int64_t f = 0; f < F; f++) {
                if (s->d.pool == RNN_POOL_AVERAGE) {
                    double acc = 0;
                    for (int64_t t = 0; t < L; t++)
                        acc += xp[(n * T + t) * F + f];
                    y[n * F + f] = (float)(acc / (double)L);
                } else {
                    int64_t best = 0;
                    for (int64_t t = 1; t < L; t++)
                        if (xp[(n * T + t) * F + f] > xp[(n * T + best) * F + f])
                            best = t;
                    y[n * F + f] = xp[(n * T + best) * F + f];
                    s->argmax[n * F + f] = (int32_t)best;
                }
            }
        }
        l->out_len[0] = NULL;
        return RNN_OK;
    }
    if ((st = rnn__tensor_ensure(&l->out[0], x->rank, x->dims, 0)))
        return st;
    float *y = rnn__f32(l->out[0]);
    memcpy(y, x->data, x->nbytes);
    l->out_len[0] = len;
    if (s->kind == 1) {
        const int64_t F = x->dims[x->rank - 1];
        rnn__activate(s->d.act, y, x->numel / F, F);
        return RNN_OK;
    }
    s->masked = training && s->d.rate > 0.0f;
    if (!s->masked)
        return RNN_OK;
    /* Spatial dropout draws one mask value per (sample, feature) and applies
     * it at every step. */
    const int64_t F = x->dims[x->rank - 1];
    const int64_t TF = s->kind == 3 ? x->dims[1] * F : 1;
    const int64_t count = s->kind == 3 ? x->dims[0] * F : x->numel;
    if (s->mask_n < (size_t)count) {
        float *p = rnn__malloc((size_t)count * sizeof(float));
        if (!p)
            return RNN__NOMEM((size_t)count * sizeof(float));
        rnn__free(s->mask);
        s->mask = p;
        s->mask_n = (size_t)count;
        s->mask_numel = 0;
    }
    /* Tests may freeze masks so that finite differences see one function. */
    if (!(l->model->freeze_masks && s->mask_numel == x->numel)) {
        const float keep = 1.0f - s->d.rate;
        for (int64_t i = 0; i < count; i++)
            s->mask[i] = rnn__rng_uniform(&l->model->rng) < (double)keep ? 1.0f / keep : 0.0f;
        s->mask_numel = x->numel;
    }
    if (s->kind == 3)
        for (int64_t i = 0; i < x->numel; i++)
            y[i] *= s->mask[i / TF * F + i % F];
    else
        for (int64_t i = 0; i < x->numel; i++)
            y[i] *= s->mask[i];
    return RNN_OK;
}

static rnn_status simple_backward(rnn_layer *l)
{
    simple *s = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    if (s->kind == 2) {
        const int32_t *len = rnn__layer_in_len(l);
        const int64_t N = x->dims[0], T = x->dims[1], F = x->dims[2];
        for (int64_t n = 0; n < N; n++) {
            const int64_t L = len ? len[n] : T;
            for (int64_t f = 0; f < F; f++) {
                float g = dy[n * F + f];
                if (s->d.pool == RNN_POOL_AVERAGE)
                    for (int64_t t = 0; t < L; t++)
                        dx[(n * T + t) * F + f] += g / (float)L;
                else
                    dx[(n * T + s->argmax[n * F + f]) * F + f] += g;
            }
        }
        return RNN_OK;
    }
    const float *y = rnn__f32(l->out[0]);
    const int64_t F = x->dims[x->rank - 1], rows = x->numel / F;
    if (s->kind == 0 || s->kind == 3) {
        const int64_t TF = s->kind == 3 ? x->dims[1] * F : 1;
        for (int64_t i = 0; i < x->numel; i++)
            dx[i] += !s->masked ? dy[i]
                     : s->kind == 3 ? dy[i] * s->mask[i / TF * F + i % F]
                                    : dy[i] * s->mask[i];
        return RNN_OK;
    }
    rnn__activation_grad(s->d.act, y, dy, dx, rows, F, 1);
    return RNN_OK;
}

static const rnn__layer_vt dropout_vt = {.kind = "dropout", .forward = simple_forward,
                                         .backward = simple_backward, .destroy = simple_destroy,
                                         .options = simple_options};
static const rnn__layer_vt activation_vt = {.kind = "activation", .forward = simple_forward,
                                            .backward = simple_backward,
                                            .destroy = simple_destroy, .options = simple_options};
static const rnn__layer_vt spatial_dropout_vt = {
    .kind = "spatial_dropout1d", .forward = simple_forward, .backward = simple_backward,
    .destroy = simple_destroy, .options = simple_options};
static const rnn__layer_vt pooling_vt = {.kind = "global_pooling", .forward = simple_forward,
                                         .backward = simple_backward, .destroy = simple_destroy,
                                         .options = simple_options};

static rnn_status add_simple(const char *func, rnn_model *m, const rnn__layer_vt *vt,
                             const simple *cfg, const char *base, rnn_layer **out)
{
    rnn_layer *prev, *l;
    rnn_status st = rnn__model_tail(func, m, &prev);
    if (st)
        return st;
    if (prev->out_dtype[rnn__tail_output(m)] != RNN_F32 || prev->out_features[rnn__tail_output(m)] < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        prev->name);
    if ((cfg->kind == 2 || cfg->kind == 3) && !prev->out_seq[rnn__tail_output(m)])
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs no sequence (a %s layer needs one)",
                        prev->name, vt->kind);
    if ((st = rnn__layer_new(func, vt, sizeof(simple), &l)))
        return st;
    *(simple *)l->impl = *cfg;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = cfg->kind == 2 ? 0 : prev->out_seq[rnn__tail_output(m)];
    l->out_features[0] = prev->out_features[rnn__tail_output(m)];
    if ((st = rnn__model_append(m, l, base)))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}

rnn_status rnn_model_add_dropout(rnn_model *model, float rate, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (!(rate >= 0.0f && rate < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "rate must be in [0, 1) (got %g)", (double)rate);
    simple c = {.kind = 0, .d = {.rate = rate}};
    return add_simple(__func__, model, &dropout_vt, &c, "dropout", out);
}

rnn_status rnn_model_add_activation(rnn_model *model, rnn_activation activation, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (activation < RNN_ACT_LINEAR || activation > RNN_ACT_SOFTMAX)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "activation must be a rnn_activation (got %d)",
                        (int)activation);
    simple c = {.kind = 1, .d = {.act = activation}};
    return add_simple(__func__, model, &activation_vt, &c, "activation", out);
}

rnn_status rnn_model_add_global_pooling(rnn_model *model, rnn_pooling pooling, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (pooling != RNN_POOL_AVERAGE && pooling != RNN_POOL_MAX)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "pooling must be RNN_POOL_AVERAGE or RNN_POOL_MAX (got %d)", (int)pooling);
    simple c = {.kind = 2, .d = {.pool = pooling}};
    return add_simple(__func__, model, &pooling_vt, &c,
                      pooling == RNN_POOL_MAX ? "global_max_pooling1d"
                                              : "global_average_pooling1d",
                      out);
}

rnn_status rnn_model_add_spatial_dropout1d(rnn_model *model, float rate, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (!(rate >= 0.0f && rate < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "rate must be in [0, 1) (got %g)", (double)rate);
    simple c = {.kind = 3, .d = {.rate = rate}};
    return add_simple(__func__, model, &spatial_dropout_vt, &c, "spatial_dropout1d", out);
}
