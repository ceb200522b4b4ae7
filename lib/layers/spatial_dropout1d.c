/* SPDX-License-Identifier: Apache-2.0 */
/* SpatialDropout1D: in training, whole feature channels are dropped: one
 * keep/drop draw per (sample, feature), applied at every step (scaled by
 * 1/(1-rate)); identity in inference. Needs a sequence; keeps lengths. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct spatial_dropout1d_opts {
    float rate;
} spatial_dropout1d_opts;

typedef struct spatial_dropout1d {
    rnn__mask mask; /* [N][F] of the last training forward */
    int masked;     /* the last forward applied the mask */
} spatial_dropout1d;

static const rnn__field FIELDS[] = {
    RNN__FLOAT(spatial_dropout1d_opts, rate, 0, 1),
    RNN__FIELDS_END,
};

static const char *spatial_dropout1d_type(const void *opts)
{
    (void)opts;
    return "SpatialDropout1D";
}

static rnn_status spatial_dropout1d_infer(const char *func, const void *opts, int n_in,
                                          const rnn__src *in, rnn__spec *s)
{
    (void)opts;
    (void)n_in;
    if (in[0].d.dtype != RNN_F32 || in[0].d.features < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        in[0].name);
    if (!in[0].d.seq)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs no sequence (a %s layer needs one)",
                        in[0].name, "spatial_dropout1d");
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, 1, in[0].d.steps, in[0].d.features, 0};
    s->base = "spatial_dropout1d";
    return RNN_OK;
}

static rnn_status spatial_dropout1d_forward(rnn_layer *l, const rnn__run *r)
{
    spatial_dropout1d *d = l->impl;
    return rnn__dropout_forward(l, r, &d->mask, ((spatial_dropout1d_opts *)l->opts)->rate, 1, &d->masked);
}

static rnn_status spatial_dropout1d_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const spatial_dropout1d *d = l->impl;
    return rnn__dropout_backward(l, &d->mask, d->masked, 1);
}

static void spatial_dropout1d_destroy(rnn_layer *l)
{
    spatial_dropout1d *d = l->impl;
    rnn__fbuf_free(&d->mask.m);
}

const rnn__layer_ops rnn__spatial_dropout1d_ops = {
    .kind = "spatial_dropout1d",
    .type_name = spatial_dropout1d_type,
    .options_size = sizeof(spatial_dropout1d_opts),
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(spatial_dropout1d),
    .infer = spatial_dropout1d_infer,
    .forward = spatial_dropout1d_forward,
    .backward = spatial_dropout1d_backward,
    .destroy = spatial_dropout1d_destroy,
    .step_check = rnn__step_any,
};

rnn_status rnn_model_add_spatial_dropout1d(rnn_model *model, float rate, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (!(rate >= 0.0f && rate < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "rate must be in [0, 1) (got %g)", (double)rate);
    spatial_dropout1d_opts o = {rate};
    return rnn__model_add(__func__, model, &rnn__spatial_dropout1d_ops, &o, 0, NULL, out);
}
