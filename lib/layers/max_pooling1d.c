/* SPDX-License-Identifier: Apache-2.0 */
/* MaxPooling1D over the time axis: (N, T, F) -> (N, To, F), the window of
 * window.h. Steps outside [0, T) (padding) and at or after a sample's length
 * never win; a window with no step left outputs 0. */
#include <string.h>

#include "layer/layer.h"
#include "layers/window.h"
#include "model/add.h"

/* The options (no public struct: the constructor takes them as arguments). */
typedef struct pool_opts {
    int64_t pool_size, strides;
    rnn_padding padding;
} pool_opts;

typedef struct pool {
    rnn__ibuf arg; /* winning input step per (n, to, f), -1: none */
    rnn__ibuf len; /* output lengths */
} pool;

static const rnn__field FIELDS[] = {
    RNN__INT(pool_opts, pool_size, 1, 4096),
    RNN__INT(pool_opts, strides, 1, 4096),
    RNN__ENUM(pool_opts, padding, rnn__pad_names),
    RNN__FIELDS_END,
};

static rnn__window window_of(const pool_opts *o)
{
    return (rnn__window){o->pool_size, o->strides, 1, o->padding};
}

static const char *pool_type(const void *opts)
{
    (void)opts;
    return "MaxPooling1D";
}

static rnn_status pool_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                             rnn__spec *s)
{
    (void)n_in;
    const rnn__window w = window_of(opts);
    int64_t To;
    rnn_status st = rnn__window_infer(func, "max_pooling1d", &w, &in[0], &To);
    if (st)
        return st;
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, 1, To, in[0].d.features, 0};
    s->base = "max_pooling1d";
    return RNN_OK;
}

static rnn_status pool_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    pool *p = l->impl;
    const rnn__window w = window_of(l->opts);
    const rnn_tensor *x = rnn__layer_in(l);
    const int32_t *len = rnn__layer_in_len(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = x->dims[2];
    int64_t To;
    rnn_status st = rnn__window_run_steps(&w, T, &To);
    if (st)
        return st;
    const int64_t pl = rnn__window_pad_left(&w, T, To);
    int64_t dims[3] = {N, To, F};
    if ((st = rnn__tensor_ensure(&l->out[0], 3, dims, 0)) ||
        (st = rnn__ibuf_ensure(&p->arg, (size_t)(N * To * F))))
        return st;
    const float *xp = rnn__f32(x);
    float *y = rnn__f32(l->out[0]);
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = len ? len[n] : T;
        for (int64_t t = 0; t < To; t++)
            for (int64_t f = 0; f < F; f++) {
                int32_t best = -1;
                for (int64_t k = 0; k < w.size; k++) {
                    const int64_t ti = t * w.stride - pl + k;
                    if (ti >= 0 && ti < L &&
                        (best < 0 || xp[(n * T + ti) * F + f] > xp[(n * T + best) * F + f]))
                        best = (int32_t)ti;
                }
                const int64_t o = (n * To + t) * F + f;
                p->arg.p[o] = best;
                y[o] = best >= 0 ? xp[(n * T + best) * F + f] : 0.0f;
            }
    }
    return rnn__window_lengths(&w, len, N, To, &p->len, &l->out_len[0]);
}

static rnn_status pool_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    pool *p = l->impl;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = x->dims[2], To = l->out[0]->dims[1];
    const int32_t *olen = l->out_len[0];
    const float *dy = rnn__f32(l->dout[0]);
    float *dx = rnn__f32(din);
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lo = olen ? olen[n] : To;
        for (int64_t t = 0; t < Lo; t++)
            for (int64_t f = 0; f < F; f++) {
                const int64_t o = (n * To + t) * F + f;
                if (p->arg.p[o] >= 0)
                    dx[(n * T + p->arg.p[o]) * F + f] += dy[o];
            }
    }
    return RNN_OK;
}

static void pool_destroy(rnn_layer *l)
{
    pool *p = l->impl;
    rnn__ibuf_free(&p->arg);
    rnn__ibuf_free(&p->len);
}

/* No step_check: a window spans several steps. */
/* Keras' defaults: pool_size 2, strides = pool_size, "valid". */
static void options_init(void *opts)
{
    pool_opts *o = opts;
    o->pool_size = 2;
    o->strides = 2;
    o->padding = RNN_PADDING_VALID;
}

const rnn__layer_ops rnn__max_pooling1d_ops = {
    .kind = "max_pooling1d",
    .type_name = pool_type,
    .options_size = sizeof(pool_opts),
    .options_init = options_init,
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(pool),
    .infer = pool_infer,
    .forward = pool_forward,
    .backward = pool_backward,
    .destroy = pool_destroy,
};

rnn_status rnn_model_add_max_pooling1d(rnn_model *model, int64_t pool_size, int64_t strides,
                                       rnn_padding padding, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (pool_size < 1 || pool_size > 4096)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "pool_size must be in 1..4096 (got %lld)",
                        (long long)pool_size);
    if (strides < 0 || strides > 4096)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "strides must be in 0..4096, 0 for pool_size (got %lld)",
                        (long long)strides);
    if (padding != RNN_PADDING_VALID && padding != RNN_PADDING_SAME)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "padding must be RNN_PADDING_VALID or RNN_PADDING_SAME (got %d)",
                        (int)padding);
    pool_opts o = {pool_size, strides ? strides : pool_size, padding};
    return rnn__model_add(__func__, model, &rnn__max_pooling1d_ops, &o, 0, NULL, out);
}
