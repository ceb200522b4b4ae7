/* SPDX-License-Identifier: Apache-2.0 */
/* Concatenate along the last axis: the operands are the layer's inputs
 * in[0..n_in). Sequences must have the same steps; a step counts while it
 * counts in every operand (Keras ANDs the masks): lengths are the minimum. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct concatenate_opts {
    int unused;
} concatenate_opts;

typedef struct concat {
    int32_t *len; /* output lengths, when an operand has any */
    size_t len_n; /* capacity */
} concat;

static const rnn__field FIELDS[] = {
    RNN__FIELDS_END,
};

static const char *concat_type(const void *opts)
{
    (void)opts;
    return "Concatenate";
}

static rnn_status concat_infer(const char *func, const void *opts, int n_in, const rnn__src *in,
                               rnn__spec *s)
{
    (void)opts;
    int64_t F = 0;
    for (int k = 0; k < n_in; k++) {
        const rnn__desc *d = &in[k].d, *d0 = &in[0].d;
        if (d->dtype != RNN_F32 || d->features < 1)
            return rnn__err(RNN_ERR_STATE, func,
                            "layers[%d] (%s) outputs token ids; embed them first", k, in[k].name);
        if (d->seq != d0->seq || (d->seq && d->steps && d0->steps && d->steps != d0->steps))
            return rnn__err(RNN_ERR_SHAPE, func,
                            "layers[%d] (%s) and layers[0] (%s) must both be sequences with the "
                            "same steps or both be vectors",
                            k, in[k].name, in[0].name);
        F += d->features;
    }
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, in[0].d.seq, in[0].d.seq ? in[0].d.steps : 0, F, 0};
    s->base = "concatenate";
    return RNN_OK;
}

static rnn_status concat_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    concat *c = l->impl;
    const int n = l->n_in;
    const rnn_tensor *a = rnn__layer_input(l, 0);
    const int seq = a->rank == 3;
    const int64_t N = a->dims[0], T = seq ? a->dims[1] : 1, Fo = l->out_features[0];
    for (int k = 1; k < n; k++) {
        const rnn_tensor *b = rnn__layer_input(l, k);
        if (b->dims[0] != N || (seq && b->dims[1] != T))
            return rnn__err(RNN_ERR_SHAPE, NULL, "operand %d has %s %lld, operand 0 has %lld", k,
                            b->dims[0] != N ? "batch size" : "steps",
                            (long long)(b->dims[0] != N ? b->dims[0] : b->dims[1]),
                            (long long)(b->dims[0] != N ? N : T));
    }
    int64_t dims[3] = {N, seq ? T : Fo, Fo};
    rnn_status st = rnn__tensor_ensure(&l->out[0], seq ? 3 : 2, dims, 0);
    if (st)
        return st;
    float *y = rnn__f32(l->out[0]);
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        const rnn_tensor *b = rnn__layer_input(l, k);
        const int64_t Fk = b->dims[b->rank - 1];
        const float *bp = rnn__f32(b);
        for (int64_t i = 0; i < N * T; i++)
            memcpy(y + i * Fo + off, bp + i * Fk, sizeof(float) * (size_t)Fk);
        off += Fk;
    }
    l->out_len[0] = NULL;
    if (!seq)
        return RNN_OK;
    for (int k = 0; k < n; k++) {
        const int32_t *lk = rnn__layer_input_len(l, k);
        if (!lk)
            continue;
        if (!l->out_len[0]) {
            if (c->len_n < (size_t)N) {
                int32_t *p = rnn__malloc(sizeof(int32_t) * (size_t)N);
                if (!p)
                    return RNN__NOMEM(sizeof(int32_t) * (size_t)N);
                rnn__free(c->len);
                c->len = p;
                c->len_n = (size_t)N;
            }
            memcpy(c->len, lk, sizeof(int32_t) * (size_t)N);
            l->out_len[0] = c->len;
        } else {
            for (int64_t i = 0; i < N; i++)
                c->len[i] = lk[i] < c->len[i] ? lk[i] : c->len[i];
        }
    }
    return RNN_OK;
}

static rnn_status concat_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const int n = l->n_in;
    const rnn_tensor *a = rnn__layer_input(l, 0);
    const int64_t rows = a->numel / a->dims[a->rank - 1], Fo = l->out_features[0];
    const float *dy = rnn__f32(l->dout[0]);
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        const rnn_tensor *b = rnn__layer_input(l, k);
        const int64_t Fk = b->dims[b->rank - 1];
        rnn_tensor *din = rnn__layer_input_grad(l, k);
        if (din) {
            float *dx = rnn__f32(din);
            for (int64_t i = 0; i < rows; i++)
                for (int64_t f = 0; f < Fk; f++)
                    dx[i * Fk + f] += dy[i * Fo + off + f];
        }
        off += Fk;
    }
    return RNN_OK;
}

static void concat_destroy(rnn_layer *l)
{
    concat *c = l->impl;
    rnn__free(c->len);
}

const rnn__layer_ops rnn__concatenate_ops = {
    .kind = "concatenate",
    .type_name = concat_type,
    .options_size = sizeof(concatenate_opts),
    .fields = FIELDS,
    .min_in = 2,
    .max_in = RNN__MAX_IN,
    .impl_size = sizeof(concat),
    .infer = concat_infer,
    .forward = concat_forward,
    .backward = concat_backward,
    .destroy = concat_destroy,
    .step_check = rnn__step_any,
};

rnn_status rnn_model_add_concatenate(rnn_model *m, int count, rnn_layer *const *layers,
                                     const int *outputs, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (count < 2 || count > RNN__MAX_IN)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be in 2..%d (got %d)", RNN__MAX_IN,
                        count);
    RNN__CHECK_ARG(layers);
    rnn__port in[RNN__MAX_IN];
    for (int k = 0; k < count; k++) {
        const rnn_layer *p = layers[k];
        const int o = outputs ? outputs[k] : 0;
        /* rnn__model_add checks that the operands are layers of m */
        if (p && (o < 0 || o >= p->n_outputs))
            return RNN__ERR(RNN_ERR_RANGE, "outputs[%d]: layer %s has outputs [0, %d) (got %d)",
                            k, p->name, p->n_outputs, o);
        in[k] = (rnn__port){layers[k], o};
    }
    concatenate_opts o = {0};
    return rnn__model_add(__func__, m, &rnn__concatenate_ops, &o, count, in, out);
}
