/* SPDX-License-Identifier: Apache-2.0 */
/* Dense (and, on sequences, TimeDistributed(Dense)): y = act(x W + b) over the
 * last axis, as backend matmuls (oneDNN matmul primitives). In mixed precision
 * (r->bf16) the three products (y, dW, dx) take bf16 operands and accumulate
 * in f32; the bf16 copies of W and W^T are kept until the weights change. */
#include <math.h>
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct dense {
    rnn__fbuf dz;          /* [rows][units] gradient before the activation */
    rnn__mm_cache *wc[2];  /* bf16 W (forward) and W^T (dx), by params_version */
} dense;

static const rnn__field FIELDS[] = {
    RNN__INT(rnn_dense_options, units, 1, 1 << 24),
    RNN__ENUM(rnn_dense_options, activation, rnn__act_names),
    RNN__BOOL(rnn_dense_options, use_bias),
    RNN__ENUM(rnn_dense_options, kernel_initializer, rnn__init_names),
    RNN__ENUM(rnn_dense_options, bias_initializer, rnn__init_names),
    RNN__FIELDS_END,
};

void rnn_dense_options_init(rnn_dense_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->activation = RNN_ACT_LINEAR;
    o->use_bias = 1;
    o->kernel_initializer = RNN_INIT_GLOROT_UNIFORM;
    o->bias_initializer = RNN_INIT_ZEROS;
}

static const char *dense_type(const void *opts)
{
    (void)opts;
    return "Dense";
}

static rnn_status dense_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                              rnn__spec *s)
{
    (void)n_in;
    const rnn_dense_options *o = opts;
    if (in[0].d.dtype != RNN_F32 || in[0].d.features < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        in[0].name);
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, in[0].d.seq, 0, o->units, 0};
    s->n_params = o->use_bias ? 2 : 1;
    s->param_name[0] = "kernel";
    s->param_rank[0] = 2;
    s->param_dims[0][0] = in[0].d.features;
    s->param_dims[0][1] = o->units;
    s->param_name[1] = "bias";
    s->param_rank[1] = 1;
    s->param_dims[1][0] = o->units;
    s->base = "dense";
    return RNN_OK;
}

static rnn_status dense_init(rnn_layer *l, rnn__rng *rng)
{
    const rnn_dense_options *o = l->opts;
    const int64_t in = l->param[0]->dims[0];
    rnn_status st = rnn__init_fill(rng, (int)o->kernel_initializer, rnn__f32(l->param[0]), in,
                                   o->units);
    if (!st && o->use_bias)
        st = rnn__init_fill(rng, (int)o->bias_initializer, rnn__f32(l->param[1]), 1, o->units);
    return st;
}

static int64_t rows_of(const rnn_tensor *t)
{
    return t->numel / t->dims[t->rank - 1];
}

static rnn_status dense_forward(rnn_layer *l, const rnn__run *r)
{
    const rnn_dense_options *o = l->opts;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t in = l->param[0]->dims[0];
    int64_t dims[RNN_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[x->rank - 1] = o->units;
    rnn_status st = rnn__tensor_ensure(&l->out[0], x->rank, dims, 0);
    if (st)
        return st;
    float *y = rnn__f32(l->out[0]);
    const int64_t rows = rows_of(x);
    dense *d = l->impl;
    st = rnn__matmul_prec(r->ctx, r->bf16, 0, 0, rows, in, o->units, rnn__f32(x),
                          rnn__f32(l->param[0]), &d->wc[0], l->params_version,
                          o->use_bias ? rnn__f32(l->param[1]) : NULL, 0.0f, y);
    if (st)
        return st;
    rnn__activate(o->activation, y, rows, o->units);
    l->out_len[0] = rnn__layer_in_len(l);
    return RNN_OK;
}

static rnn_status dense_backward(rnn_layer *l, const rnn__run *r)
{
    const rnn_dense_options *o = l->opts;
    dense *d = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t rows = rows_of(x), U = o->units, in = l->param[0]->dims[0];
    const float *y = rnn__f32(l->out[0]), *dy = rnn__f32(l->dout[0]);
    rnn_status st = rnn__fbuf_ensure(&d->dz, (size_t)(rows * U), 0);
    if (st)
        return st;
    float *dz = d->dz.p;
    rnn__activation_grad(o->activation, y, dy, dz, rows, U, 0);
    if (l->trainable) {
        /* dW += x^T dz; db += column sums of dz */
        if ((st = rnn__matmul_prec(r->ctx, r->bf16, 1, 0, in, rows, U, rnn__f32(x), dz, NULL,
                                   0, NULL, 1.0f, rnn__f32(l->grad[0]))))
            return st;
        if (o->use_bias) {
            float *db = rnn__f32(l->grad[1]);
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < U; j++)
                    db[j] += dz[i * U + j];
        }
    }
    rnn_tensor *din = rnn__layer_din(l);
    if (din) /* dx += dz W^T */
        return rnn__matmul_prec(r->ctx, r->bf16, 0, 1, rows, U, in, dz, rnn__f32(l->param[0]),
                                &d->wc[1], l->params_version, NULL, 1.0f, rnn__f32(din));
    return RNN_OK;
}

static void dense_destroy(rnn_layer *l)
{
    dense *d = l->impl;
    rnn__fbuf_free(&d->dz);
    rnn__mm_cache_free(d->wc[0]);
    rnn__mm_cache_free(d->wc[1]);
}

static void options_init(void *o)
{
    rnn_dense_options_init(o);
}

const rnn__layer_ops rnn__dense_ops = {
    .kind = "dense",
    .type_name = dense_type,
    .options_size = sizeof(rnn_dense_options),
    .options_init = options_init,
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(dense),
    .infer = dense_infer,
    .init_params = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .step_check = rnn__step_any,
    .destroy = dense_destroy,
};

rnn_status rnn_model_add_dense(rnn_model *model, const rnn_dense_options *options, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(options);
    rnn_dense_options o;
    rnn_dense_options_init(&o);
    rnn_status st = RNN__OPTS_COPY("options", rnn_dense_options, &o, options, bias_initializer);
    if (st)
        return st;
    return rnn__model_add(__func__, model, &rnn__dense_ops, &o, 0, NULL, out);
}
