/* SPDX-License-Identifier: Apache-2.0 */
/* LayerNormalization over the last axis (Keras' defaults: axis=-1,
 * epsilon=1e-3, center and scale): y = gamma * (x - mean) / sqrt(var + eps)
 * + beta per row, the mean and (biased) variance over the features. Lengths
 * pass through; padded steps are normalised too and masked downstream. */
#include <math.h>
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct norm {
    rnn__fbuf xhat; /* [rows][F] normalised input of the last forward */
    rnn__fbuf inv;  /* [rows] 1 / sqrt(var + eps) */
} norm;

static const rnn__field FIELDS[] = {
    RNN__FLOAT(rnn_layer_normalization_options, epsilon, 1e-12, 1),
    RNN__BOOL(rnn_layer_normalization_options, center),
    RNN__BOOL(rnn_layer_normalization_options, scale),
    RNN__FIELDS_END,
};

void rnn_layer_normalization_options_init(rnn_layer_normalization_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->epsilon = 1e-3f;
    o->center = 1;
    o->scale = 1;
}

static const char *norm_type(const void *opts)
{
    (void)opts;
    return "LayerNormalization";
}

static rnn_status norm_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                             rnn__spec *s)
{
    (void)n_in;
    const rnn_layer_normalization_options *o = opts;
    if (in[0].d.dtype != RNN_F32 || in[0].d.features < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        in[0].name);
    const int64_t F = in[0].d.features;
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, in[0].d.seq, 0, F, 0};
    if (o->scale) {
        s->param_name[s->n_params] = "gamma";
        s->param_rank[s->n_params] = 1;
        s->param_dims[s->n_params++][0] = F;
    }
    if (o->center) {
        s->param_name[s->n_params] = "beta";
        s->param_rank[s->n_params] = 1;
        s->param_dims[s->n_params++][0] = F;
    }
    s->base = "layer_normalization";
    return RNN_OK;
}

/* gamma starts at one, beta at zero (Keras); no random draws. */
static rnn_status norm_init(rnn_layer *l, rnn__rng *rng)
{
    (void)rng;
    const rnn_layer_normalization_options *o = l->opts;
    if (o->scale)
        for (int64_t j = 0; j < l->param[0]->numel; j++)
            rnn__f32(l->param[0])[j] = 1.0f;
    return RNN_OK; /* beta: parameters start at zero */
}

static rnn_status norm_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const rnn_layer_normalization_options *o = l->opts;
    norm *z = l->impl;
    const rnn_tensor *xt = rnn__layer_in(l);
    const int64_t F = xt->dims[xt->rank - 1], rows = xt->numel / F;
    rnn_status st;
    if ((st = rnn__tensor_ensure(&l->out[0], xt->rank, xt->dims, 0)) ||
        (st = rnn__fbuf_ensure(&z->xhat, (size_t)xt->numel, 0)) ||
        (st = rnn__fbuf_ensure(&z->inv, (size_t)rows, 0)))
        return st;
    const float *x = rnn__f32(xt);
    const float *gamma = o->scale ? rnn__f32(l->param[0]) : NULL;
    const float *beta = o->center ? rnn__f32(l->param[o->scale ? 1 : 0]) : NULL;
    float *y = rnn__f32(l->out[0]);
    for (int64_t i = 0; i < rows; i++) {
        const float *xr = x + i * F;
        double mean = 0, var = 0;
        for (int64_t j = 0; j < F; j++)
            mean += xr[j];
        mean /= (double)F;
        for (int64_t j = 0; j < F; j++)
            var += (xr[j] - mean) * (xr[j] - mean);
        var /= (double)F;
        const float inv = (float)(1.0 / sqrt(var + o->epsilon));
        z->inv.p[i] = inv;
        for (int64_t j = 0; j < F; j++) {
            const float h = (float)(xr[j] - mean) * inv;
            z->xhat.p[i * F + j] = h;
            y[i * F + j] = (gamma ? gamma[j] * h : h) + (beta ? beta[j] : 0.0f);
        }
    }
    l->out_len[0] = rnn__layer_in_len(l);
    return RNN_OK;
}

static rnn_status norm_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const rnn_layer_normalization_options *o = l->opts;
    const norm *z = l->impl;
    const rnn_tensor *dyt = l->dout[0];
    const int64_t F = dyt->dims[dyt->rank - 1], rows = dyt->numel / F;
    const float *dy = rnn__f32(dyt), *gamma = o->scale ? rnn__f32(l->param[0]) : NULL;
    float *dgamma = o->scale && l->trainable ? rnn__f32(l->grad[0]) : NULL;
    float *dbeta = o->center && l->trainable ? rnn__f32(l->grad[o->scale ? 1 : 0]) : NULL;
    rnn_tensor *din = rnn__layer_din(l);
    float *dx = din ? rnn__f32(din) : NULL;
    for (int64_t i = 0; i < rows; i++) {
        const float *g = dy + i * F, *h = z->xhat.p + i * F;
        double sum = 0, sum_h = 0; /* of dxhat and dxhat * xhat */
        for (int64_t j = 0; j < F; j++) {
            const double d = gamma ? (double)g[j] * gamma[j] : g[j];
            sum += d;
            sum_h += d * h[j];
            if (dgamma)
                dgamma[j] += g[j] * h[j];
            if (dbeta)
                dbeta[j] += g[j];
        }
        if (!dx)
            continue;
        const double k = z->inv.p[i] / (double)F;
        for (int64_t j = 0; j < F; j++) {
            const double d = gamma ? (double)g[j] * gamma[j] : g[j];
            dx[i * F + j] += (float)(k * ((double)F * d - sum - h[j] * sum_h));
        }
    }
    return RNN_OK;
}

static void norm_destroy(rnn_layer *l)
{
    norm *z = l->impl;
    rnn__fbuf_free(&z->xhat);
    rnn__fbuf_free(&z->inv);
}

static void options_init(void *o)
{
    rnn_layer_normalization_options_init(o);
}

const rnn__layer_ops rnn__layer_normalization_ops = {
    .kind = "layer_normalization",
    .type_name = norm_type,
    .options_size = sizeof(rnn_layer_normalization_options),
    .options_init = options_init,
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(norm),
    .infer = norm_infer,
    .init_params = norm_init,
    .forward = norm_forward,
    .backward = norm_backward,
    .step_check = rnn__step_any,
    .destroy = norm_destroy,
};

rnn_status rnn_model_add_layer_normalization(rnn_model *model,
                                             const rnn_layer_normalization_options *options,
                                             rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(options);
    rnn_layer_normalization_options o;
    rnn_layer_normalization_options_init(&o);
    rnn_status st = RNN__OPTS_COPY("options", rnn_layer_normalization_options, &o, options, scale);
    if (st)
        return st;
    return rnn__model_add(__func__, model, &rnn__layer_normalization_ops, &o, 0, NULL, out);
}
