/* SPDX-License-Identifier: Apache-2.0 */
/* RepeatVector: (N, F) -> (N, n, F), the vector repeated at each of n steps. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct repeat_vector_opts {
    int64_t n;
} repeat_vector_opts;

static const rnn__field FIELDS[] = {
    RNN__INT(repeat_vector_opts, n, 1, 1 << 24),
    RNN__FIELDS_END,
};

static const char *repeat_vector_type(const void *opts)
{
    (void)opts;
    return "RepeatVector";
}

static rnn_status repeat_vector_infer(const char *func, const void *opts, int n_in,
                                      const rnn__src *in, rnn__spec *s)
{
    (void)n_in;
    const repeat_vector_opts *o = opts;
    if (in[0].d.dtype != RNN_F32 || in[0].d.features < 1 || in[0].d.seq)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s does not output f32 vectors (N, F)", in[0].name);
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, 1, o->n, in[0].d.features, 0};
    s->base = "repeat_vector";
    return RNN_OK;
}

static rnn_status repeat_vector_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const int64_t reps = ((const repeat_vector_opts *)l->opts)->n;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], F = x->dims[1];
    int64_t dims[3] = {N, reps, F};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 3, dims, 0);
    if (st)
        return st;
    const float *xp = rnn__f32(x);
    float *y = rnn__f32(l->out[0]);
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < reps; t++)
            memcpy(y + (n * reps + t) * F, xp + n * F, sizeof(float) * (size_t)F);
    l->out_len[0] = NULL;
    return RNN_OK;
}

static rnn_status repeat_vector_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const int64_t reps = ((const repeat_vector_opts *)l->opts)->n;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    const int64_t N = din->dims[0], F = din->dims[1];
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < reps; t++)
            for (int64_t f = 0; f < F; f++)
                dx[n * F + f] += dy[(n * reps + t) * F + f];
    return RNN_OK;
}

const rnn__layer_ops rnn__repeat_vector_ops = {
    .kind = "repeat_vector",
    .type_name = repeat_vector_type,
    .options_size = sizeof(repeat_vector_opts),
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .infer = repeat_vector_infer,
    .forward = repeat_vector_forward,
    .backward = repeat_vector_backward,
};

rnn_status rnn_model_add_repeat_vector(rnn_model *model, int64_t n, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (n < 1 || n > (1 << 24))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "n must be in 1..16777216 (got %lld)", (long long)n);
    repeat_vector_opts o = {n};
    return rnn__model_add(__func__, model, &rnn__repeat_vector_ops, &o, 0, NULL, out);
}
