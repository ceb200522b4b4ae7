/* SPDX-License-Identifier: Apache-2.0 */
/* Dropout: in training, each value is zeroed with probability rate and the
 * others scaled by 1/(1-rate); identity in inference. Keeps shape and
 * lengths. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

static const char *dropout_type(const void *opts)
{
    (void)opts;
    return "Dropout";
}

static rnn_status dropout_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                                rnn__spec *s)
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
    s->base = "dropout";
    return RNN_OK;
}

const rnn__layer_ops rnn__dropout_ops = {
    .kind = "dropout",
    .type_name = dropout_type,
    .options_size = sizeof(rnn__dropout_opts),
    .fields = rnn__dropout_fields,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(rnn__dropout),
    .infer = dropout_infer,
    .forward = rnn__dropout_forward,
    .backward = rnn__dropout_backward,
    .destroy = rnn__dropout_destroy,
    .step_check = rnn__step_any,
};

rnn_status rnn_model_add_dropout(rnn_model *model, float rate, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (!(rate >= 0.0f && rate < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "rate must be in [0, 1) (got %g)", (double)rate);
    rnn__dropout_opts o = {rate};
    return rnn__model_add(__func__, model, &rnn__dropout_ops, &o, 0, NULL, out);
}
