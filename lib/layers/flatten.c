/* SPDX-License-Identifier: Apache-2.0 */
/* Flatten: (N, T, F) -> (N, T*F), the same bytes. The sequence needs a
 * fixed number of steps; like Keras, lengths do not pass. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct flatten_opts {
    int unused;
} flatten_opts;

static const rnn__field FIELDS[] = {
    RNN__FIELDS_END,
};

static const char *flatten_type(const void *opts)
{
    (void)opts;
    return "Flatten";
}

static rnn_status flatten_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                                rnn__spec *s)
{
    (void)opts;
    (void)n_in;
    const rnn__desc *d = &in[0].d;
    if (d->dtype != RNN_F32 || d->features < 1 || !d->seq)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s does not output an f32 sequence (N, T, F)",
                        in[0].name);
    if (d->steps < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs sequences of any length; Flatten needs "
                        "a fixed number of steps (declare it in rnn_model_add_input)",
                        in[0].name);
    if (d->steps > (INT64_C(1) << 31) / d->features)
        return rnn__err(RNN_ERR_SHAPE, func, "%lld steps x %lld features is too large to flatten",
                        (long long)d->steps, (long long)d->features);
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, 0, 0, d->steps * d->features, 0};
    s->base = "flatten";
    return RNN_OK;
}

static rnn_status flatten_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const rnn_tensor *x = rnn__layer_in(l);
    if (x->dims[1] * x->dims[2] != l->out_features[0])
        return rnn__err(RNN_ERR_SHAPE, NULL, "expects %lld steps (got %lld)",
                        (long long)(l->out_features[0] / x->dims[2]), (long long)x->dims[1]);
    int64_t dims[2] = {x->dims[0], l->out_features[0]};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 2, dims, 0);
    if (st)
        return st;
    memcpy(l->out[0]->data, x->data, x->nbytes);
    l->out_len[0] = NULL;
    return RNN_OK;
}

static rnn_status flatten_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    for (int64_t i = 0; i < din->numel; i++)
        dx[i] += dy[i];
    return RNN_OK;
}

const rnn__layer_ops rnn__flatten_ops = {
    .kind = "flatten",
    .type_name = flatten_type,
    .options_size = sizeof(flatten_opts),
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .infer = flatten_infer,
    .forward = flatten_forward,
    .backward = flatten_backward,
};

rnn_status rnn_model_add_flatten(rnn_model *model, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    flatten_opts o = {0};
    return rnn__model_add(__func__, model, &rnn__flatten_ops, &o, 0, NULL, out);
}
