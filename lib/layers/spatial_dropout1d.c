/* SPDX-License-Identifier: Apache-2.0 */
/* SpatialDropout1D: in training, whole feature channels are dropped: one
 * keep/drop draw per (sample, feature), applied at every step (scaled by
 * 1/(1-rate)); identity in inference. Needs a sequence; keeps lengths. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

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

/* One mask value per (sample, feature), applied at every step. */
static rnn_status spatial_dropout1d_build(rnn_layer *l)
{
    ((rnn__dropout *)l->impl)->per_feature = 1;
    return RNN_OK;
}

const rnn__layer_ops rnn__spatial_dropout1d_ops = {
    .kind = "spatial_dropout1d",
    .type_name = spatial_dropout1d_type,
    .options_size = sizeof(rnn__dropout_opts),
    .fields = rnn__dropout_fields,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(rnn__dropout),
    .infer = spatial_dropout1d_infer,
    .build = spatial_dropout1d_build,
    .forward = rnn__dropout_forward,
    .backward = rnn__dropout_backward,
    .destroy = rnn__dropout_destroy,
    .step_check = rnn__step_any,
};

rnn_status rnn_model_add_spatial_dropout1d(rnn_model *model, float rate, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (!(rate >= 0.0f && rate < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "rate must be in [0, 1) (got %g)", (double)rate);
    rnn__dropout_opts o = {rate};
    return rnn__model_add(__func__, model, &rnn__spatial_dropout1d_ops, &o, 0, NULL, out);
}
