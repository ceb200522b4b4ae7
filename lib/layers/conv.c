/* SPDX-License-Identifier: Apache-2.0 */
/* Conv1D and MaxPooling1D over the time axis.
 *
 * Both slide a window of `size` taps (spaced `dilation` apart) with `stride`
 * over (N, T, F). Steps outside [0, T) (padding) and at or after a sample's
 * length read as zeros for the convolution and never win for max pooling,
 * so every sample gets what it would get alone at its own length.
 *
 * Conv1D unfolds the windows into a (N*To, size*F) matrix and multiplies it by
 * the (size*F, filters) kernel with the backend matmul (a oneDNN matmul
 * primitive): the forward, the kernel gradient and the input gradient are
 * each one large GEMM. */
#include <math.h>
#include <string.h>

#include "model/graph.h"

typedef struct geom {
    int64_t size, stride, dilation;
    rnn_padding padding;
} geom;

static int64_t span_of(const geom *g)
{
    return g->dilation * (g->size - 1) + 1;
}

/* Output steps for T input steps (<= 0: too short for "valid"). */
static int64_t out_steps(const geom *g, int64_t T)
{
    if (g->padding == RNN_PADDING_SAME)
        return (T + g->stride - 1) / g->stride;
    return T >= span_of(g) ? (T - span_of(g)) / g->stride + 1 : 0;
}

static int64_t pad_left(const geom *g, int64_t T, int64_t To)
{
    if (g->padding != RNN_PADDING_SAME)
        return 0;
    int64_t total = (To - 1) * g->stride + span_of(g) - T;
    return total > 0 ? total / 2 : 0;
}

/* Output lengths from input lengths (NULL stays NULL). */
static rnn_status lengths_out(const geom *g, const int32_t *len, int64_t N, int64_t To,
                              int32_t **buf, size_t *cap, const int32_t **out)
{
    *out = NULL;
    if (!len)
        return RNN_OK;
    if (*cap < (size_t)N) {
        int32_t *p = rnn__malloc(sizeof(int32_t) * (size_t)N);
        if (!p)
            return RNN__NOMEM(sizeof(int32_t) * (size_t)N);
        rnn__free(*buf);
        *buf = p;
        *cap = (size_t)N;
    }
    for (int64_t n = 0; n < N; n++) {
        int64_t L = out_steps(g, len[n]);
        L = L < 1 ? 1 : L > To ? To : L;
        (*buf)[n] = (int32_t)L;
    }
    *out = *buf;
    return RNN_OK;
}

static rnn_status check_length(const char *kind, const rnn_layer *l, const geom *g, int64_t T,
                               int64_t *To)
{
    *To = out_steps(g, T);
    if (*To < 1)
        return rnn__err(RNN_ERR_SHAPE, "rnn_model_forward",
                        "layer %s (%s): the input has %lld steps, fewer than the window span "
                        "%lld with \"valid\" padding",
                        l->name, kind, (long long)T, (long long)span_of(g));
    return RNN_OK;
}

/* ------------------------------------------------------------ Conv1D */

typedef struct conv {
    rnn_conv1d_options o;
    geom g;
    int64_t in;
    rnn__fbuf col, dz, dcol; /* unfolded windows, gradients before the activation and of col */
    int32_t *len;
    size_t len_n;
} conv;

void rnn_conv1d_options_init(rnn_conv1d_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->strides = 1;
    o->padding = RNN_PADDING_VALID;
    o->dilation_rate = 1;
    o->activation = RNN_ACT_LINEAR;
    o->use_bias = 1;
    o->kernel_initializer = RNN_INIT_GLOROT_UNIFORM;
    o->bias_initializer = RNN_INIT_ZEROS;
}

static rnn_status conv_forward(rnn_layer *l, int training)
{
    (void)training;
    conv *c = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int32_t *len = rnn__layer_in_len(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = c->in, K = c->g.size, U = c->o.filters;
    int64_t To;
    rnn_status st = check_length("conv1d", l, &c->g, T, &To);
    if (st)
        return st;
    const int64_t pl = pad_left(&c->g, T, To), rows = N * To, KF = K * F;
    int64_t dims[3] = {N, To, U};
    if ((st = rnn__tensor_ensure(&l->out[0], 3, dims, 0)) ||
        (st = rnn__fbuf_ensure(&c->col, (size_t)(rows * KF), 0)))
        return st;
    const float *xp = rnn__f32(x);
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = len ? len[n] : T;
        for (int64_t t = 0; t < To; t++) {
            float *row = c->col.p + (n * To + t) * KF;
            for (int64_t k = 0; k < K; k++) {
                const int64_t ti = t * c->g.stride - pl + k * c->g.dilation;
                if (ti >= 0 && ti < L)
                    memcpy(row + k * F, xp + (n * T + ti) * F, sizeof(float) * (size_t)F);
                else
                    memset(row + k * F, 0, sizeof(float) * (size_t)F);
            }
        }
    }
    float *y = rnn__f32(l->out[0]);
    if ((st = rnn__matmul(l->model->ctx, 0, 0, rows, KF, U, c->col.p, rnn__f32(l->param[0]),
                          c->o.use_bias ? rnn__f32(l->param[1]) : NULL, 0.0f, y)))
        return st;
    rnn__activate(c->o.activation, y, rows, U);
    return lengths_out(&c->g, len, N, To, &c->len, &c->len_n, &l->out_len[0]);
}

static rnn_status conv_backward(rnn_layer *l)
{
    conv *c = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = c->in, K = c->g.size, U = c->o.filters;
    const int64_t To = l->out[0]->dims[1], rows = N * To, KF = K * F;
    const int64_t pl = pad_left(&c->g, T, To);
    const int32_t *olen = l->out_len[0], *len = rnn__layer_in_len(l);
    rnn_status st = rnn__fbuf_ensure(&c->dz, (size_t)(rows * U), 0);
    if (st)
        return st;
    rnn__activation_grad(c->o.activation, rnn__f32(l->out[0]), rnn__f32(l->dout[0]), c->dz.p, rows,
                         U, 0);
    /* Steps past a sample's output length are padding: no gradient. */
    for (int64_t n = 0; olen && n < N; n++)
        memset(c->dz.p + (n * To + olen[n]) * U, 0, sizeof(float) * (size_t)((To - olen[n]) * U));
    rnn__ctx *ctx = l->model->ctx;
    if (l->trainable) {
        if ((st = rnn__matmul(ctx, 1, 0, KF, rows, U, c->col.p, c->dz.p, NULL, 1.0f,
                              rnn__f32(l->grad[0]))))
            return st;
        if (c->o.use_bias) {
            float *db = rnn__f32(l->grad[1]);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < U; j++)
                    db[j] += c->dz.p[r * U + j];
        }
    }
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    if ((st = rnn__fbuf_ensure(&c->dcol, (size_t)(rows * KF), 0)) ||
        (st = rnn__matmul(ctx, 0, 1, rows, U, KF, c->dz.p, rnn__f32(l->param[0]), NULL, 0.0f,
                          c->dcol.p)))
        return st;
    float *dx = rnn__f32(din);
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = len ? len[n] : T;
        for (int64_t t = 0; t < To; t++) {
            const float *row = c->dcol.p + (n * To + t) * KF;
            for (int64_t k = 0; k < K; k++) {
                const int64_t ti = t * c->g.stride - pl + k * c->g.dilation;
                if (ti < 0 || ti >= L)
                    continue;
                float *d = dx + (n * T + ti) * F;
                for (int64_t f = 0; f < F; f++)
                    d[f] += row[k * F + f];
            }
        }
    }
    return RNN_OK;
}

static void conv_destroy(rnn_layer *l)
{
    conv *c = l->impl;
    if (c) {
        rnn__fbuf_free(&c->col);
        rnn__fbuf_free(&c->dz);
        rnn__fbuf_free(&c->dcol);
        rnn__free(c->len);
    }
    rnn__free(c);
}

static const void *conv_options(const rnn_layer *l)
{
    return &((const conv *)l->impl)->o;
}

static const rnn__layer_vt conv_vt = {.kind = "conv1d", .forward = conv_forward,
                                      .backward = conv_backward, .destroy = conv_destroy,
                                      .options = conv_options};

/* The previous layer, which must output an f32 sequence. */
static rnn_status seq_tail(const char *func, rnn_model *m, rnn_layer **prev)
{
    rnn_status st = rnn__model_tail(func, m, prev);
    if (st)
        return st;
    if ((*prev)->out_dtype[rnn__tail_output(m)] != RNN_F32 || (*prev)->out_features[rnn__tail_output(m)] < 1 || !(*prev)->out_seq[rnn__tail_output(m)])
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s does not output an f32 sequence (N, T, F)%s",
                        (*prev)->name,
                        (*prev)->out_dtype[rnn__tail_output(m)] == RNN_I32 ? "; add an Embedding layer first" : "");
    return RNN_OK;
}

static rnn_status check_geom(const char *func, const char *what, const geom *g,
                             const rnn_layer *prev, int64_t *To)
{
    *To = 0;
    if (g->padding != RNN_PADDING_VALID && g->padding != RNN_PADDING_SAME)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "padding must be RNN_PADDING_VALID or RNN_PADDING_SAME (got %d)",
                        (int)g->padding);
    if (g->stride > 1 && g->dilation > 1)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "strides > 1 and dilation_rate > 1 cannot be combined (as in Keras)");
    const int64_t T = prev->out_steps[rnn__tail_output(prev->model)];
    if (T > 0 && (*To = out_steps(g, T)) < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "%s: the input has %lld steps, fewer than the window span %lld with "
                        "\"valid\" padding",
                        what, (long long)T, (long long)span_of(g));
    return RNN_OK;
}

rnn_status rnn_model_add_conv1d(rnn_model *model, const rnn_conv1d_options *options,
                                rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(options);
    rnn_conv1d_options o;
    rnn_conv1d_options_init(&o);
    if (options->struct_size < offsetof(rnn_conv1d_options, bias_initializer) +
                                   sizeof o.bias_initializer ||
        options->struct_size > sizeof o)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->struct_size must be sizeof(rnn_conv1d_options) = %zu (got %u)",
                        sizeof o, (unsigned)options->struct_size);
    memcpy(&o, options, options->struct_size);
    o.struct_size = sizeof o;
    const int64_t BIG = 1 << 20;
    if (o.filters < 1 || o.filters > BIG)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->filters must be in 1..%lld (got %lld)",
                        (long long)BIG, (long long)o.filters);
    if (o.kernel_size < 1 || o.kernel_size > 4096)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->kernel_size must be in 1..4096 (got %lld)",
                        (long long)o.kernel_size);
    if (o.strides < 1 || o.strides > 4096 || o.dilation_rate < 1 || o.dilation_rate > 4096)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->strides and dilation_rate must be in 1..4096 (got %lld, %lld)",
                        (long long)o.strides, (long long)o.dilation_rate);
    if (o.activation < RNN_ACT_LINEAR || o.activation > RNN_ACT_SOFTMAX)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->activation must be a rnn_activation (got %d)",
                        (int)o.activation);
    if (o.kernel_initializer < RNN_INIT_GLOROT_UNIFORM || o.kernel_initializer > RNN_INIT_ONES ||
        o.bias_initializer < RNN_INIT_GLOROT_UNIFORM || o.bias_initializer > RNN_INIT_ONES)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "an initializer is not a rnn_initializer value");
    rnn_layer *prev, *l;
    rnn_status st = seq_tail(__func__, model, &prev);
    if (st)
        return st;
    geom g = {o.kernel_size, o.strides, o.dilation_rate, o.padding};
    int64_t To;
    if ((st = check_geom(__func__, "conv1d", &g, prev, &To)))
        return st;
    const int64_t F = prev->out_features[rnn__tail_output(model)];
    if (F > BIG || o.kernel_size * F > BIG * 16)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "kernel_size * input features is too large (%lld)",
                        (long long)(o.kernel_size * F));
    if ((st = rnn__layer_new(__func__, &conv_vt, sizeof(conv), &l)))
        return st;
    conv *c = l->impl;
    c->o = o;
    c->g = g;
    c->in = F;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = 1;
    l->out_steps[0] = To;
    l->out_features[0] = o.filters;
    int64_t kd[3] = {o.kernel_size, F, o.filters};
    if ((st = rnn__layer_add_param(l, "kernel", 3, kd)) ||
        (o.use_bias && (st = rnn__layer_add_param(l, "bias", 1, &kd[2]))))
        goto fail;
    const int64_t fan_in = o.kernel_size * F, fan_out = o.kernel_size * o.filters;
    if (o.kernel_initializer == RNN_INIT_GLOROT_UNIFORM) {
        const double lim = sqrt(6.0 / (double)(fan_in + fan_out));
        rnn__init_uniform(&model->rng, rnn__f32(l->param[0]), fan_in * o.filters, -lim, lim);
    } else if ((st = rnn__init_fill(&model->rng, (int)o.kernel_initializer, rnn__f32(l->param[0]),
                                    fan_in, o.filters))) {
        st = RNN__ERR(st, "cannot initialise the kernel");
        goto fail;
    }
    if (o.use_bias && (st = rnn__init_fill(&model->rng, (int)o.bias_initializer,
                                           rnn__f32(l->param[1]), 1, o.filters)))
        goto fail;
    if ((st = rnn__model_append(model, l, "conv1d")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
fail:
    rnn__layer_free(l);
    return st;
}

/* ------------------------------------------------------------ MaxPooling1D */

typedef struct pool {
    rnn__pool_desc d; /* first: what options() returns */
    geom g;
    int32_t *arg; /* winning input step per (n, to, f), -1: none */
    size_t arg_n;
    int32_t *len;
    size_t len_n;
} pool;

static rnn_status pool_forward(rnn_layer *l, int training)
{
    (void)training;
    pool *p = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int32_t *len = rnn__layer_in_len(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = x->dims[2];
    int64_t To;
    rnn_status st = check_length("max_pooling1d", l, &p->g, T, &To);
    if (st)
        return st;
    const int64_t pl = pad_left(&p->g, T, To);
    int64_t dims[3] = {N, To, F};
    if ((st = rnn__tensor_ensure(&l->out[0], 3, dims, 0)))
        return st;
    const size_t need = (size_t)(N * To * F);
    if (p->arg_n < need) {
        int32_t *a = rnn__malloc(need * sizeof(int32_t));
        if (!a)
            return RNN__NOMEM(need * sizeof(int32_t));
        rnn__free(p->arg);
        p->arg = a;
        p->arg_n = need;
    }
    const float *xp = rnn__f32(x);
    float *y = rnn__f32(l->out[0]);
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = len ? len[n] : T;
        for (int64_t t = 0; t < To; t++)
            for (int64_t f = 0; f < F; f++) {
                int32_t best = -1;
                for (int64_t k = 0; k < p->g.size; k++) {
                    const int64_t ti = t * p->g.stride - pl + k;
                    if (ti >= 0 && ti < L &&
                        (best < 0 || xp[(n * T + ti) * F + f] > xp[(n * T + best) * F + f]))
                        best = (int32_t)ti;
                }
                const int64_t o = (n * To + t) * F + f;
                p->arg[o] = best;
                y[o] = best >= 0 ? xp[(n * T + best) * F + f] : 0.0f;
            }
    }
    return lengths_out(&p->g, len, N, To, &p->len, &p->len_n, &l->out_len[0]);
}

static rnn_status pool_backward(rnn_layer *l)
{
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
                if (p->arg[o] >= 0)
                    dx[(n * T + p->arg[o]) * F + f] += dy[o];
            }
    }
    return RNN_OK;
}

static void pool_destroy(rnn_layer *l)
{
    pool *p = l->impl;
    if (p) {
        rnn__free(p->arg);
        rnn__free(p->len);
    }
    rnn__free(p);
}

static const void *pool_options(const rnn_layer *l)
{
    return l->impl;
}

static const rnn__layer_vt pool_vt = {.kind = "max_pooling1d", .forward = pool_forward,
                                      .backward = pool_backward, .destroy = pool_destroy,
                                      .options = pool_options};

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
        return RNN__ERR(RNN_ERR_INVALID_ARG, "strides must be in 0..4096, 0 for pool_size "
                                             "(got %lld)",
                        (long long)strides);
    rnn_layer *prev, *l;
    rnn_status st = seq_tail(__func__, model, &prev);
    if (st)
        return st;
    geom g = {pool_size, strides ? strides : pool_size, 1, padding};
    int64_t To;
    if ((st = check_geom(__func__, "max_pooling1d", &g, prev, &To)))
        return st;
    if ((st = rnn__layer_new(__func__, &pool_vt, sizeof(pool), &l)))
        return st;
    pool *p = l->impl;
    p->d = (rnn__pool_desc){pool_size, g.stride, padding};
    p->g = g;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = 1;
    l->out_steps[0] = To;
    l->out_features[0] = prev->out_features[rnn__tail_output(model)];
    if ((st = rnn__model_append(model, l, "max_pooling1d")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}
