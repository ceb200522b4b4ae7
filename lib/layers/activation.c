/* SPDX-License-Identifier: Apache-2.0 */
/* Activation: an activation over the last axis (softmax, log-softmax per row). Keeps
 * shape and lengths. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct activation_opts {
    rnn_activation activation;
} activation_opts;

static const rnn__field FIELDS[] = {
    RNN__ENUM(activation_opts, activation, rnn__act_names),
    RNN__FIELDS_END,
};

static const char *activation_type(const void *opts)
{
    (void)opts;
    return "Activation";
}

static rnn_status activation_infer(const char *func, const void *opts, int n_in,
                                   const rnn__src *in, rnn__spec *s)
{
    (void)opts;
    (void)n_in;
    if (in[0].d.dtype != RNN_F32 || in[0].d.features < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        in[0].name);
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, in[0].d.seq, in[0].d.seq ? in[0].d.steps : 0,
                            in[0].d.features, 0};
    s->base = "activation";
    return RNN_OK;
}

static rnn_status activation_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const activation_opts *o = l->opts;
    const rnn_tensor *x = rnn__layer_in(l);
    rnn_status st = rnn__tensor_ensure(&l->out[0], x->rank, x->dims, 0);
    if (st)
        return st;
    float *y = rnn__f32(l->out[0]);
    memcpy(y, x->data, x->nbytes);
    l->out_len[0] = rnn__layer_in_len(l);
    const int64_t F = x->dims[x->rank - 1];
    rnn__activate(o->activation, y, x->numel / F, F);
    return RNN_OK;
}

static rnn_status activation_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const activation_opts *o = l->opts;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t F = x->dims[x->rank - 1], rows = x->numel / F;
    rnn__activation_grad(o->activation, rnn__f32(l->out[0]), rnn__f32(l->dout[0]),
                         rnn__f32(din), rows, F, 1);
    return RNN_OK;
}

const rnn__layer_ops rnn__activation_ops = {
    .kind = "activation",
    .type_name = activation_type,
    .options_size = sizeof(activation_opts),
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .infer = activation_infer,
    .forward = activation_forward,
    .backward = activation_backward,
    .step_check = rnn__step_any,
};

rnn_status rnn_model_add_activation(rnn_model *model, rnn_activation activation, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (activation < RNN_ACT_LINEAR || activation > RNN_ACT_LOG_SOFTMAX)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "activation must be a rnn_activation (got %d)",
                        (int)activation);
    activation_opts o = {activation};
    return rnn__model_add(__func__, model, &rnn__activation_ops, &o, 0, NULL, out);
}
