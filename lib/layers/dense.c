/* SPDX-License-Identifier: Apache-2.0 */
/* Dense (and, on sequences, TimeDistributed(Dense)): y = act(x W + b) over the
 * last axis, as backend matmuls (oneDNN matmul primitives). */
#include <math.h>
#include <string.h>

#include "model/graph.h"

typedef struct dense {
    rnn_dense_options o;
    int64_t in, units;
    rnn__fbuf dz; /* [rows][units] gradient before the activation */
} dense;

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

static int64_t rows_of(const rnn_tensor *t)
{
    return t->numel / t->dims[t->rank - 1];
}

static rnn_status dense_forward(rnn_layer *l, int training)
{
    dense *d = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    int64_t dims[RNN_MAX_RANK];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
    dims[x->rank - 1] = d->units;
    rnn_status st = rnn__tensor_ensure(&l->out[0], x->rank, dims, 0);
    if (st)
        return st;
    float *y = rnn__f32(l->out[0]);
    const int64_t rows = rows_of(x);
    st = rnn__matmul(l->model->ctx, 0, 0, rows, d->in, d->units, rnn__f32(x),
                     rnn__f32(l->param[0]), d->o.use_bias ? rnn__f32(l->param[1]) : NULL, 0.0f,
                     y);
    if (st)
        return st;
    rnn__activate(d->o.activation, y, rows, d->units);
    l->out_len[0] = rnn__layer_in_len(l);
    return RNN_OK;
}

static rnn_status dense_backward(rnn_layer *l)
{
    dense *d = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t rows = rows_of(x), U = d->units;
    const float *y = rnn__f32(l->out[0]), *dy = rnn__f32(l->dout[0]);
    rnn_status st = rnn__fbuf_ensure(&d->dz, (size_t)(rows * U), 0);
    if (st)
        return st;
    float *dz = d->dz.p;
    rnn__activation_grad(d->o.activation, y, dy, dz, rows, U, 0);
    rnn__ctx *ctx = l->model->ctx;
    if (l->trainable) {
        /* dW += x^T dz; db += column sums of dz */
        if ((st = rnn__matmul(ctx, 1, 0, d->in, rows, U, rnn__f32(x), dz, NULL, 1.0f,
                              rnn__f32(l->grad[0]))))
            return st;
        if (d->o.use_bias) {
            float *db = rnn__f32(l->grad[1]);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t j = 0; j < U; j++)
                    db[j] += dz[r * U + j];
        }
    }
    rnn_tensor *din = rnn__layer_din(l);
    if (din) /* dx += dz W^T */
        return rnn__matmul(ctx, 0, 1, rows, U, d->in, dz, rnn__f32(l->param[0]), NULL, 1.0f,
                           rnn__f32(din));
    return RNN_OK;
}

static void dense_destroy(rnn_layer *l)
{
    dense *d = l->impl;
    if (d)
        rnn__fbuf_free(&d->dz);
    rnn__free(d);
}

static const void *dense_options(const rnn_layer *l)
{
    return &((const dense *)l->impl)->o;
}

static const rnn__layer_vt dense_vt = {
    .options = dense_options,
    .kind = "dense",
    .forward = dense_forward,
    .backward = dense_backward,
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
    if (options->struct_size < offsetof(rnn_dense_options, bias_initializer) +
                                   sizeof o.bias_initializer ||
        options->struct_size > sizeof o)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->struct_size must be sizeof(rnn_dense_options) = %zu (got %u)",
                        sizeof o, (unsigned)options->struct_size);
    memcpy(&o, options, options->struct_size);
    o.struct_size = sizeof o;
    if (o.units < 1 || o.units > (1 << 24))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->units must be in 1..16777216 (got %lld)",
                        (long long)o.units);
    if (o.activation < RNN_ACT_LINEAR || o.activation > RNN_ACT_SOFTMAX)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->activation must be a rnn_activation (got %d)",
                        (int)o.activation);
    if (o.kernel_initializer < RNN_INIT_GLOROT_UNIFORM || o.kernel_initializer > RNN_INIT_ONES ||
        o.bias_initializer < RNN_INIT_GLOROT_UNIFORM || o.bias_initializer > RNN_INIT_ONES)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "an initializer is not a rnn_initializer value");
    rnn_layer *prev;
    rnn_status st = rnn__model_tail(__func__, model, &prev);
    if (st)
        return st;
    if (prev->out_dtype[rnn__tail_output(model)] != RNN_F32 || prev->out_features[rnn__tail_output(model)] < 1)
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        prev->name);
    rnn_layer *l;
    if ((st = rnn__layer_new(__func__, &dense_vt, sizeof(dense), &l)))
        return st;
    dense *d = l->impl;
    d->o = o;
    d->in = prev->out_features[rnn__tail_output(model)];
    d->units = o.units;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = prev->out_seq[rnn__tail_output(model)];
    l->out_features[0] = o.units;
    int64_t kd[2] = {d->in, o.units};
    if ((st = rnn__layer_add_param(l, "kernel", 2, kd)) ||
        (o.use_bias && (st = rnn__layer_add_param(l, "bias", 1, &kd[1]))))
        goto fail;
    if ((st = rnn__init_fill(&model->rng, (int)o.kernel_initializer, rnn__f32(l->param[0]), d->in,
                             o.units)) ||
        (o.use_bias &&
         (st = rnn__init_fill(&model->rng, (int)o.bias_initializer, rnn__f32(l->param[1]), 1,
                              o.units)))) {
        st = RNN__ERR(st, "cannot initialise the kernel");
        goto fail;
    }
    if ((st = rnn__model_append(model, l, "dense")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
fail:
    rnn__layer_free(l);
    return st;
}
