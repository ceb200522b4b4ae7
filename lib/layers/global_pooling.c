/* SPDX-License-Identifier: Apache-2.0 */
/* GlobalMaxPooling1D and GlobalAveragePooling1D: (N, T, F) -> (N, F) over
 * each sample's real steps (its length), so padding never reaches the
 * result. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct pooling_opts {
    rnn_pooling pooling;
} pooling_opts;

typedef struct pool_state {
    int32_t *argmax; /* max pooling: the step chosen per (n, f) */
    size_t argmax_n; /* capacity */
} pool_state;

/* Index = rnn_pooling value. */
static const char *const POOL_NAMES[] = {NULL, "average", "max"};

static const rnn__field FIELDS[] = {
    RNN__ENUM(pooling_opts, pooling, POOL_NAMES),
    RNN__FIELDS_END,
};

static const char *pooling_type(const void *opts)
{
    const pooling_opts *o = opts;
    return o->pooling == RNN_POOL_MAX ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D";
}

static rnn_status pooling_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                                rnn__spec *s)
{
    (void)n_in;
    const pooling_opts *o = opts;
    if (in[0].d.dtype != RNN_F32 || in[0].d.features < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        in[0].name);
    if (!in[0].d.seq)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs no sequence (a %s layer needs one)",
                        in[0].name, "global_pooling");
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, 0, 0, in[0].d.features, 0};
    s->base = o->pooling == RNN_POOL_MAX ? "global_max_pooling1d" : "global_average_pooling1d";
    return RNN_OK;
}

static rnn_status pooling_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const pooling_opts *o = l->opts;
    pool_state *p = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int32_t *len = rnn__layer_in_len(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = x->dims[2];
    int64_t dims[2] = {N, F};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 2, dims, 0);
    if (st)
        return st;
    const size_t need = (size_t)(N * F);
    if (o->pooling == RNN_POOL_MAX && p->argmax_n < need) {
        int32_t *a = rnn__malloc(need * sizeof(int32_t));
        if (!a)
            return RNN__NOMEM(need * sizeof(int32_t));
        rnn__free(p->argmax);
        p->argmax = a;
        p->argmax_n = need;
    }
    const float *xp = rnn__f32(x);
    float *y = rnn__f32(l->out[0]);
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = len ? len[n] : T;
        for (int64_t f = 0; f < F; f++) {
            if (o->pooling == RNN_POOL_AVERAGE) {
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
                p->argmax[n * F + f] = (int32_t)best;
            }
        }
    }
    l->out_len[0] = NULL;
    return RNN_OK;
}

static rnn_status pooling_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const pooling_opts *o = l->opts;
    const pool_state *p = l->impl;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    const rnn_tensor *x = rnn__layer_in(l);
    const int32_t *len = rnn__layer_in_len(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = x->dims[2];
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = len ? len[n] : T;
        for (int64_t f = 0; f < F; f++) {
            float g = dy[n * F + f];
            if (o->pooling == RNN_POOL_AVERAGE)
                for (int64_t t = 0; t < L; t++)
                    dx[(n * T + t) * F + f] += g / (float)L;
            else
                dx[(n * T + p->argmax[n * F + f]) * F + f] += g;
        }
    }
    return RNN_OK;
}

static void pooling_destroy(rnn_layer *l)
{
    pool_state *p = l->impl;
    rnn__free(p->argmax);
}

const rnn__layer_ops rnn__global_pooling_ops = {
    .kind = "global_pooling",
    .type_name = pooling_type,
    .options_size = sizeof(pooling_opts),
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(pool_state),
    .infer = pooling_infer,
    .forward = pooling_forward,
    .backward = pooling_backward,
    .destroy = pooling_destroy,
};

rnn_status rnn_model_add_global_pooling(rnn_model *model, rnn_pooling pooling, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (pooling != RNN_POOL_AVERAGE && pooling != RNN_POOL_MAX)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "pooling must be RNN_POOL_AVERAGE or RNN_POOL_MAX (got %d)", (int)pooling);
    pooling_opts o = {pooling};
    return rnn__model_add(__func__, model, &rnn__global_pooling_ops, &o, 0, NULL, out);
}
