/* SPDX-License-Identifier: Apache-2.0 */
/* Conv1D over the time axis: (N, T, F) -> (N, To, filters), the window of
 * window.h. Steps outside [0, T) (padding) and at or after a sample's length
 * read as zeros.
 *
 * The windows are unfolded into a (N*To, size*F) matrix multiplied by the
 * (size*F, filters) kernel with the backend matmul (a oneDNN matmul
 * primitive): the forward, the kernel gradient and the input gradient are
 * each one large GEMM. */
#include <math.h>
#include <string.h>

#include "layer/layer.h"
#include "layers/window.h"
#include "model/add.h"

#define FILTERS_MAX ((int64_t)1 << 20)

typedef struct conv {
    rnn__fbuf col, dz, dcol; /* unfolded windows, gradients before the activation and of col */
    rnn__ibuf len;           /* output lengths */
} conv;

static const rnn__field FIELDS[] = {
    RNN__INT(rnn_conv1d_options, filters, 1, FILTERS_MAX),
    RNN__INT(rnn_conv1d_options, kernel_size, 1, 4096),
    RNN__INT(rnn_conv1d_options, strides, 1, 4096),
    RNN__ENUM(rnn_conv1d_options, padding, rnn__pad_names),
    RNN__INT(rnn_conv1d_options, dilation_rate, 1, 4096),
    RNN__ENUM(rnn_conv1d_options, activation, rnn__act_names),
    RNN__BOOL(rnn_conv1d_options, use_bias),
    RNN__ENUM(rnn_conv1d_options, kernel_initializer, rnn__init_names),
    RNN__ENUM(rnn_conv1d_options, bias_initializer, rnn__init_names),
    RNN__FIELDS_END,
};

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

static rnn__window window_of(const rnn_conv1d_options *o)
{
    return (rnn__window){o->kernel_size, o->strides, o->dilation_rate, o->padding};
}

static const char *conv_type(const void *opts)
{
    (void)opts;
    return "Conv1D";
}

static rnn_status conv_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                             rnn__spec *s)
{
    (void)n_in;
    const rnn_conv1d_options *o = opts;
    const rnn__window w = window_of(o);
    int64_t To;
    rnn_status st = rnn__window_infer(func, "conv1d", &w, &in[0], &To);
    if (st)
        return st;
    const int64_t F = in[0].d.features;
    if (F > FILTERS_MAX || o->kernel_size * F > FILTERS_MAX * 16)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "kernel_size * input features is too large (%lld)",
                        (long long)(o->kernel_size * F));
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, 1, To, o->filters, 0};
    s->n_params = o->use_bias ? 2 : 1;
    s->param_name[0] = "kernel";
    s->param_rank[0] = 3;
    s->param_dims[0][0] = o->kernel_size;
    s->param_dims[0][1] = F;
    s->param_dims[0][2] = o->filters;
    s->param_name[1] = "bias";
    s->param_rank[1] = 1;
    s->param_dims[1][0] = o->filters;
    s->base = "conv1d";
    return RNN_OK;
}

static rnn_status conv_init(rnn_layer *l, rnn__rng *rng)
{
    const rnn_conv1d_options *o = l->opts;
    const int64_t F = l->param[0]->dims[1];
    const int64_t fan_in = o->kernel_size * F, fan_out = o->kernel_size * o->filters;
    rnn_status st = RNN_OK;
    if (o->kernel_initializer == RNN_INIT_GLOROT_UNIFORM) { /* Keras' fans of a 3-D kernel */
        const double lim = sqrt(6.0 / (double)(fan_in + fan_out));
        rnn__init_uniform(rng, rnn__f32(l->param[0]), fan_in * o->filters, -lim, lim);
    } else {
        st = rnn__init_fill(rng, (int)o->kernel_initializer, rnn__f32(l->param[0]), fan_in,
                            o->filters);
    }
    if (!st && o->use_bias)
        st = rnn__init_fill(rng, (int)o->bias_initializer, rnn__f32(l->param[1]), 1, o->filters);
    return st;
}

static rnn_status conv_forward(rnn_layer *l, const rnn__run *r)
{
    const rnn_conv1d_options *o = l->opts;
    conv *c = l->impl;
    const rnn__window w = window_of(o);
    const rnn_tensor *x = rnn__layer_in(l);
    const int32_t *len = rnn__layer_in_len(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = l->param[0]->dims[1], K = w.size,
                  U = o->filters;
    int64_t To;
    rnn_status st = rnn__window_run_steps(&w, T, &To);
    if (st)
        return st;
    const int64_t pl = rnn__window_pad_left(&w, T, To), rows = N * To, KF = K * F;
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
                const int64_t ti = t * w.stride - pl + k * w.dilation;
                if (ti >= 0 && ti < L)
                    memcpy(row + k * F, xp + (n * T + ti) * F, sizeof(float) * (size_t)F);
                else
                    memset(row + k * F, 0, sizeof(float) * (size_t)F);
            }
        }
    }
    float *y = rnn__f32(l->out[0]);
    if ((st = rnn__matmul(r->ctx, 0, 0, rows, KF, U, c->col.p, rnn__f32(l->param[0]),
                          o->use_bias ? rnn__f32(l->param[1]) : NULL, 0.0f, y)))
        return st;
    rnn__activate(o->activation, y, rows, U);
    return rnn__window_lengths(&w, len, N, To, &c->len, &l->out_len[0]);
}

static rnn_status conv_backward(rnn_layer *l, const rnn__run *r)
{
    const rnn_conv1d_options *o = l->opts;
    conv *c = l->impl;
    const rnn__window w = window_of(o);
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], T = x->dims[1], F = l->param[0]->dims[1], K = w.size,
                  U = o->filters;
    const int64_t To = l->out[0]->dims[1], rows = N * To, KF = K * F;
    const int64_t pl = rnn__window_pad_left(&w, T, To);
    const int32_t *olen = l->out_len[0], *len = rnn__layer_in_len(l);
    rnn_status st = rnn__fbuf_ensure(&c->dz, (size_t)(rows * U), 0);
    if (st)
        return st;
    rnn__activation_grad(o->activation, rnn__f32(l->out[0]), rnn__f32(l->dout[0]), c->dz.p, rows,
                         U, 0);
    /* Steps past a sample's output length are padding: no gradient. */
    for (int64_t n = 0; olen && n < N; n++)
        memset(c->dz.p + (n * To + olen[n]) * U, 0, sizeof(float) * (size_t)((To - olen[n]) * U));
    if (l->trainable) {
        if ((st = rnn__matmul(r->ctx, 1, 0, KF, rows, U, c->col.p, c->dz.p, NULL, 1.0f,
                              rnn__f32(l->grad[0]))))
            return st;
        if (o->use_bias) {
            float *db = rnn__f32(l->grad[1]);
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < U; j++)
                    db[j] += c->dz.p[i * U + j];
        }
    }
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    if ((st = rnn__fbuf_ensure(&c->dcol, (size_t)(rows * KF), 0)) ||
        (st = rnn__matmul(r->ctx, 0, 1, rows, U, KF, c->dz.p, rnn__f32(l->param[0]), NULL, 0.0f,
                          c->dcol.p)))
        return st;
    float *dx = rnn__f32(din);
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = len ? len[n] : T;
        for (int64_t t = 0; t < To; t++) {
            const float *row = c->dcol.p + (n * To + t) * KF;
            for (int64_t k = 0; k < K; k++) {
                const int64_t ti = t * w.stride - pl + k * w.dilation;
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
    rnn__fbuf_free(&c->col);
    rnn__fbuf_free(&c->dz);
    rnn__fbuf_free(&c->dcol);
    rnn__ibuf_free(&c->len);
}

static void options_init(void *o)
{
    rnn_conv1d_options_init(o);
}

const rnn__layer_ops rnn__conv1d_ops = {
    .kind = "conv1d",
    .type_name = conv_type,
    .options_size = sizeof(rnn_conv1d_options),
    .options_init = options_init,
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(conv),
    .infer = conv_infer,
    .init_params = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
    .destroy = conv_destroy,
};

rnn_status rnn_model_add_conv1d(rnn_model *model, const rnn_conv1d_options *options,
                                rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(options);
    rnn_conv1d_options o;
    rnn_conv1d_options_init(&o);
    rnn_status st = RNN__OPTS_COPY("options", rnn_conv1d_options, &o, options, bias_initializer);
    if (st)
        return st;
    return rnn__model_add(__func__, model, &rnn__conv1d_ops, &o, 0, NULL, out);
}
