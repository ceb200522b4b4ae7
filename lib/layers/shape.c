/* SPDX-License-Identifier: Apache-2.0 */
/* Layers that only rearrange values: Flatten and RepeatVector. */
#include <string.h>

#include "model/graph.h"

static void shape_destroy(rnn_layer *l)
{
    rnn__free(l->impl);
}

static const void *shape_options(const rnn_layer *l)
{
    return l->impl;
}

/* Flatten: (N, T, F) -> (N, T*F), the same bytes. */
static rnn_status flatten_forward(rnn_layer *l, int training)
{
    (void)training;
    const rnn_tensor *x = rnn__layer_in(l);
    if (x->dims[1] * x->dims[2] != l->out_features[0])
        return rnn__err(RNN_ERR_SHAPE, "rnn_model_forward",
                        "layer %s (flatten) expects %lld steps (got %lld)", l->name,
                        (long long)(l->out_features[0] / x->dims[2]), (long long)x->dims[1]);
    int64_t dims[2] = {x->dims[0], l->out_features[0]};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 2, dims, 0);
    if (st)
        return st;
    memcpy(l->out[0]->data, x->data, x->nbytes);
    l->out_len[0] = NULL;
    return RNN_OK;
}

static rnn_status flatten_backward(rnn_layer *l)
{
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    for (int64_t i = 0; i < din->numel; i++)
        dx[i] += dy[i];
    return RNN_OK;
}

/* RepeatVector: (N, F) -> (N, n, F). */
static rnn_status repeat_forward(rnn_layer *l, int training)
{
    (void)training;
    const rnn__shape_desc *d = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], F = x->dims[1];
    int64_t dims[3] = {N, d->n, F};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 3, dims, 0);
    if (st)
        return st;
    const float *xp = rnn__f32(x);
    float *y = rnn__f32(l->out[0]);
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < d->n; t++)
            memcpy(y + (n * d->n + t) * F, xp + n * F, sizeof(float) * (size_t)F);
    l->out_len[0] = NULL;
    return RNN_OK;
}

static rnn_status repeat_backward(rnn_layer *l)
{
    const rnn__shape_desc *d = l->impl;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    const int64_t N = din->dims[0], F = din->dims[1];
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < d->n; t++)
            for (int64_t f = 0; f < F; f++)
                dx[n * F + f] += dy[(n * d->n + t) * F + f];
    return RNN_OK;
}

static const rnn__layer_vt flatten_vt = {.kind = "flatten", .forward = flatten_forward,
                                         .backward = flatten_backward, .destroy = shape_destroy,
                                         .options = shape_options};
static const rnn__layer_vt repeat_vt = {.kind = "repeat_vector", .forward = repeat_forward,
                                        .backward = repeat_backward, .destroy = shape_destroy,
                                        .options = shape_options};

rnn_status rnn_model_add_flatten(rnn_model *model, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    rnn_layer *prev, *l;
    rnn_status st = rnn__model_tail(__func__, model, &prev);
    if (st)
        return st;
    if (prev->out_dtype[rnn__tail_output(model)] != RNN_F32 || prev->out_features[rnn__tail_output(model)] < 1 || !prev->out_seq[rnn__tail_output(model)])
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s does not output an f32 sequence (N, T, F)",
                        prev->name);
    if (prev->out_steps[rnn__tail_output(model)] < 1)
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s outputs sequences of any length; Flatten needs "
                        "a fixed number of steps (declare it in rnn_model_add_input)",
                        prev->name);
    if (prev->out_steps[rnn__tail_output(model)] > (INT64_C(1) << 31) / prev->out_features[rnn__tail_output(model)])
        return RNN__ERR(RNN_ERR_SHAPE, "%lld steps x %lld features is too large to flatten",
                        (long long)prev->out_steps[rnn__tail_output(model)], (long long)prev->out_features[rnn__tail_output(model)]);
    if ((st = rnn__layer_new(__func__, &flatten_vt, sizeof(rnn__shape_desc), &l)))
        return st;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_features[0] = prev->out_steps[rnn__tail_output(model)] * prev->out_features[rnn__tail_output(model)];
    if ((st = rnn__model_append(model, l, "flatten")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}

rnn_status rnn_model_add_repeat_vector(rnn_model *model, int64_t n, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    if (n < 1 || n > (1 << 24))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "n must be in 1..16777216 (got %lld)", (long long)n);
    rnn_layer *prev, *l;
    rnn_status st = rnn__model_tail(__func__, model, &prev);
    if (st)
        return st;
    if (prev->out_dtype[rnn__tail_output(model)] != RNN_F32 || prev->out_features[rnn__tail_output(model)] < 1 || prev->out_seq[rnn__tail_output(model)])
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s does not output f32 vectors (N, F)", prev->name);
    if ((st = rnn__layer_new(__func__, &repeat_vt, sizeof(rnn__shape_desc), &l)))
        return st;
    ((rnn__shape_desc *)l->impl)->n = n;
    l->input = prev;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = 1;
    l->out_steps[0] = n;
    l->out_features[0] = prev->out_features[rnn__tail_output(model)];
    if ((st = rnn__model_append(model, l, "repeat_vector")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}

/* Concatenate along the last axis: operand 0 is l->input, the others
 * l->extra[]. Sequences must have the same steps; a step counts while it
 * counts in every operand (Keras ANDs the masks): lengths are the minimum. */
typedef struct concat {
    rnn__shape_desc d; /* first: options() (unused fields) */
    int32_t *len;
    size_t len_n;
} concat;

static const rnn_tensor *operand(const rnn_layer *l, int k)
{
    return k == 0 ? rnn__layer_in(l) : rnn__layer_extra_in(l, k - 1);
}

static const int32_t *operand_len(const rnn_layer *l, int k)
{
    return k == 0 ? rnn__layer_in_len(l) : rnn__layer_extra_len(l, k - 1);
}

static rnn_status concat_forward(rnn_layer *l, int training)
{
    (void)training;
    concat *c = l->impl;
    const int n = l->n_extra + 1;
    const rnn_tensor *a = operand(l, 0);
    const int seq = a->rank == 3;
    const int64_t N = a->dims[0], T = seq ? a->dims[1] : 1, Fo = l->out_features[0];
    for (int k = 1; k < n; k++) {
        const rnn_tensor *b = operand(l, k);
        if (b->dims[0] != N || (seq && b->dims[1] != T))
            return rnn__err(RNN_ERR_SHAPE, "rnn_model_forward",
                            "layer %s (concatenate): operand %d has %s %lld, operand 0 has %lld",
                            l->name, k, b->dims[0] != N ? "batch size" : "steps",
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
        const rnn_tensor *b = operand(l, k);
        const int64_t Fk = b->dims[b->rank - 1];
        const float *bp = rnn__f32(b);
        for (int64_t r = 0; r < N * T; r++)
            memcpy(y + r * Fo + off, bp + r * Fk, sizeof(float) * (size_t)Fk);
        off += Fk;
    }
    l->out_len[0] = NULL;
    if (!seq)
        return RNN_OK;
    for (int k = 0; k < n; k++) {
        const int32_t *lk = operand_len(l, k);
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

static rnn_status concat_backward(rnn_layer *l)
{
    const int n = l->n_extra + 1;
    const rnn_tensor *a = operand(l, 0);
    const int64_t rows = a->numel / a->dims[a->rank - 1], Fo = l->out_features[0];
    const float *dy = rnn__f32(l->dout[0]);
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        const rnn_tensor *b = operand(l, k);
        const int64_t Fk = b->dims[b->rank - 1];
        rnn_tensor *din = k == 0 ? rnn__layer_din(l) : rnn__layer_extra_din(l, k - 1);
        if (din) {
            float *dx = rnn__f32(din);
            for (int64_t r = 0; r < rows; r++)
                for (int64_t f = 0; f < Fk; f++)
                    dx[r * Fk + f] += dy[r * Fo + off + f];
        }
        off += Fk;
    }
    return RNN_OK;
}

static void concat_destroy(rnn_layer *l)
{
    concat *c = l->impl;
    if (c)
        rnn__free(c->len);
    rnn__free(c);
}

static const rnn__layer_vt concat_vt = {.kind = "concatenate", .forward = concat_forward,
                                        .backward = concat_backward, .destroy = concat_destroy,
                                        .options = shape_options};

rnn_status rnn_model_add_concatenate(rnn_model *m, int count, rnn_layer *const *layers,
                                     const int *outputs, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (count < 2 || count > RNN__MAX_EXTRA + 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be in 2..%d (got %d)",
                        RNN__MAX_EXTRA + 1, count);
    RNN__CHECK_ARG(layers);
    int64_t F = 0;
    for (int k = 0; k < count; k++) {
        const rnn_layer *p = layers[k];
        const int o = outputs ? outputs[k] : 0;
        if (!p || p->model != m)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "layers[%d] must be a layer of this model", k);
        if (o < 0 || o >= p->n_outputs)
            return RNN__ERR(RNN_ERR_RANGE, "outputs[%d]: layer %s has outputs [0, %d) (got %d)",
                            k, p->name, p->n_outputs, o);
        if (p->out_dtype[o] != RNN_F32 || p->out_features[o] < 1)
            return RNN__ERR(RNN_ERR_STATE, "layers[%d] (%s) outputs token ids; embed them first",
                            k, p->name);
        const rnn_layer *p0 = layers[0];
        const int o0 = outputs ? outputs[0] : 0;
        if (p->out_seq[o] != p0->out_seq[o0] ||
            (p->out_seq[o] && p->out_steps[o] && p0->out_steps[o0] &&
             p->out_steps[o] != p0->out_steps[o0]))
            return RNN__ERR(RNN_ERR_SHAPE,
                            "layers[%d] (%s) and layers[0] (%s) must both be sequences with the "
                            "same steps or both be vectors",
                            k, p->name, p0->name);
        F += p->out_features[o];
    }
    rnn_layer *l;
    rnn_status st = rnn__layer_new(__func__, &concat_vt, sizeof(concat), &l);
    if (st)
        return st;
    const int o0 = outputs ? outputs[0] : 0;
    l->input = layers[0];
    l->input_output = o0;
    l->n_extra = count - 1;
    for (int k = 1; k < count; k++) {
        l->extra[k - 1] = layers[k];
        l->extra_output[k - 1] = outputs ? outputs[k] : 0;
    }
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = layers[0]->out_seq[o0];
    l->out_steps[0] = layers[0]->out_steps[o0];
    l->out_features[0] = F;
    m->cursor = NULL; /* explicit operands: a pending connect_next does not apply */
    if ((st = rnn__model_append(m, l, "concatenate")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}
