/* SPDX-License-Identifier: Apache-2.0 */
/* InputLayer: a model input. Its output 0 is the caller's tensor, set by
 * each forward (rnn_layer.fed); it has no producers and no parameters. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

/* What an input accepts (its options). */
typedef struct input_desc {
    rnn_dtype dtype;
    int seq;          /* has a time axis */
    int64_t steps;    /* fixed number of time steps, 0 = any */
    int64_t features; /* 0: token ids (no feature axis) */
} input_desc;

static const char *const DTYPES[] = {NULL, "float32", "int32"};

static const rnn__field FIELDS[] = {
    RNN__ENUM(input_desc, dtype, DTYPES),
    RNN__BOOL_AS("sequence", input_desc, seq),
    RNN__INT(input_desc, steps, 0, INT32_MAX),
    RNN__INT(input_desc, features, 0, 1 << 24),
    RNN__FIELDS_END,
};

static const char *input_type(const void *opts)
{
    (void)opts;
    return "InputLayer";
}

static rnn_status input_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                              rnn__spec *s)
{
    (void)n_in;
    (void)in;
    const input_desc *d = opts;
    if ((d->dtype == RNN_I32 && (!d->seq || d->features)) ||
        (d->dtype == RNN_F32 && d->features < 1))
        return rnn__err(RNN_ERR_SHAPE, func,
                        "an input holds RNN_I32 token id sequences or RNN_F32 features");
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){d->dtype, d->seq, d->seq ? d->steps : 0, d->features, 0};
    s->base = "input";
    return RNN_OK;
}

const rnn__layer_ops rnn__input_ops = {
    .kind = "input",
    .type_name = input_type,
    .options_size = sizeof(input_desc),
    .fields = FIELDS,
    .min_in = 0,
    .max_in = 0,
    .infer = input_infer,
};

rnn_status rnn_model_add_input(rnn_model *m, rnn_dtype dtype, int rank, const int64_t *shape,
                               rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (dtype != RNN_F32 && dtype != RNN_I32)
        return RNN__ERR(RNN_ERR_DTYPE, "dtype must be RNN_F32 or RNN_I32 (got %d)", (int)dtype);
    if (rank > 0)
        RNN__CHECK_ARG(shape);
    input_desc im = {dtype, 0, 0, 0};
    if (dtype == RNN_I32 && rank == 1) { /* token ids {timesteps} */
        im.seq = 1;
        im.steps = shape[0];
    } else if (dtype == RNN_F32 && rank == 2) { /* sequence {timesteps, features} */
        im.seq = 1;
        im.steps = shape[0];
        im.features = shape[1];
        if (shape[1] < 1)
            return RNN__ERR(RNN_ERR_SHAPE, "shape[1] (features) must be > 0 (got %lld)",
                            (long long)shape[1]);
    } else if (dtype == RNN_F32 && rank == 1) { /* vector {features} */
        im.features = shape[0];
        if (shape[0] < 1)
            return RNN__ERR(RNN_ERR_SHAPE, "shape[0] (features) must be > 0 (got %lld)",
                            (long long)shape[0]);
    } else {
        return RNN__ERR(RNN_ERR_SHAPE,
                        "rank must be 1 or 2 without the batch axis: RNN_I32 {timesteps} token "
                        "ids, RNN_F32 {timesteps, features} sequences or RNN_F32 {features} "
                        "vectors (got %s rank %d)",
                        dtype == RNN_I32 ? "RNN_I32" : "RNN_F32", rank);
    }
    if (im.seq && im.steps < 0)
        return RNN__ERR(RNN_ERR_SHAPE, "shape[0] (timesteps) must be >= 0, 0 for any (got %lld)",
                        (long long)im.steps);
    rnn_layer *l;
    rnn_status st = rnn__model_add(__func__, m, &rnn__input_ops, &im, 0, NULL, &l);
    if (st)
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}
