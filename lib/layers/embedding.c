/* SPDX-License-Identifier: Apache-2.0 */
/* Embedding: token ids (N, T) -> vectors (N, T, D); with mask_zero, id 0 is
 * padding and each sample's length (position after its last non-zero id)
 * flows to the following layers and the loss. */
#include <string.h>

#include "model/graph.h"

typedef struct embedding {
    rnn_embedding_options o;
    int32_t *len; /* [N] computed lengths (mask_zero) */
    int64_t len_n;
} embedding;

void rnn_embedding_options_init(rnn_embedding_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->trainable = 1;
}

static rnn_status embedding_forward(rnn_layer *l, int training)
{
    embedding *e = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], T = x->dims[1], D = e->o.output_dim, V = e->o.input_dim;
    const int32_t *ids = x->data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < T; t++) {
            int32_t id = ids[n * T + t];
            if (id < 0 || id >= V)
                return rnn__err(RNN_ERR_RANGE, "rnn_model_forward",
                                "layer %s: token id at [%lld][%lld] must be in [0, %lld) (got %d)",
                                l->name, (long long)n, (long long)t, (long long)V, id);
        }
    const int32_t *len = rnn__layer_in_len(l);
    if (e->o.mask_zero) {
        if (e->len_n < N) {
            int32_t *p = rnn__malloc(sizeof(int32_t) * (size_t)N);
            if (!p)
                return RNN__NOMEM(sizeof(int32_t) * (size_t)N);
            rnn__free(e->len);
            e->len = p;
            e->len_n = N;
        }
        int all_full = 1;
        for (int64_t n = 0; n < N; n++) {
            int64_t L = T;
            while (L > 0 && ids[n * T + L - 1] == 0)
                L--;
            if (L == 0)
                return rnn__err(RNN_ERR_RANGE, "rnn_model_forward",
                                "layer %s: sample %lld is only padding (id 0) and mask_zero is set",
                                l->name, (long long)n);
            e->len[n] = (int32_t)L;
            all_full &= L == T;
        }
        len = all_full ? NULL : e->len;
    }
    int64_t dims[3] = {N, T, D};
    rnn_status st = rnn__tensor_ensure(&l->out[0], 3, dims, 0);
    if (st)
        return st;
    const float *E = rnn__f32(l->param[0]);
    float *y = rnn__f32(l->out[0]);
    for (int64_t i = 0; i < N * T; i++)
        memcpy(y + i * D, E + (int64_t)ids[i] * D, sizeof(float) * (size_t)D);
    l->out_len[0] = len;
    return RNN_OK;
}

static rnn_status embedding_backward(rnn_layer *l)
{
    embedding *e = l->impl;
    if (!l->trainable)
        return RNN_OK;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t NT = x->dims[0] * x->dims[1], D = e->o.output_dim;
    const int32_t *ids = x->data;
    const float *dy = rnn__f32(l->dout[0]);
    float *dE = rnn__f32(l->grad[0]);
    for (int64_t i = 0; i < NT; i++) {
        float *row = dE + (int64_t)ids[i] * D;
        for (int64_t j = 0; j < D; j++)
            row[j] += dy[i * D + j];
    }
    return RNN_OK;
}

static void embedding_destroy(rnn_layer *l)
{
    embedding *e = l->impl;
    if (e)
        rnn__free(e->len);
    rnn__free(e);
}

static const void *embedding_options(const rnn_layer *l)
{
    return &((const embedding *)l->impl)->o;
}

static const rnn__layer_vt embedding_vt = {
    .options = embedding_options,
    .kind = "embedding",
    .forward = embedding_forward,
    .backward = embedding_backward,
    .destroy = embedding_destroy,
};

rnn_status rnn_model_add_embedding(rnn_model *model, const rnn_embedding_options *options,
                                   rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(options);
    rnn_embedding_options o;
    rnn_embedding_options_init(&o);
    if (options->struct_size < offsetof(rnn_embedding_options, trainable) + sizeof(int) ||
        options->struct_size > sizeof o)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->struct_size must be sizeof(rnn_embedding_options) = %zu (got %u)",
                        sizeof o, (unsigned)options->struct_size);
    memcpy(&o, options, options->struct_size);
    o.struct_size = sizeof o;
    if (o.input_dim < 1 || o.input_dim > INT32_MAX)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->input_dim must be in 1..%d (got %lld)",
                        INT32_MAX, (long long)o.input_dim);
    if (o.output_dim < 1 || o.output_dim > (1 << 24))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->output_dim must be in 1..16777216 (got %lld)",
                        (long long)o.output_dim);
    rnn_layer *prev;
    rnn_status st = rnn__model_tail(__func__, model, &prev);
    if (st)
        return st;
    if (prev->out_dtype[rnn__tail_output(model)] != RNN_I32)
        return RNN__ERR(RNN_ERR_STATE,
                        "an Embedding reads token ids (an RNN_I32 input); %s outputs RNN_F32",
                        prev->name);
    rnn_layer *l;
    if ((st = rnn__layer_new(__func__, &embedding_vt, sizeof(embedding), &l)))
        return st;
    ((embedding *)l->impl)->o = o;
    l->input = prev;
    l->trainable = o.trainable != 0;
    l->n_outputs = 1;
    l->out_dtype[0] = RNN_F32;
    l->out_seq[0] = 1;
    l->out_features[0] = o.output_dim;
    int64_t ed[2] = {o.input_dim, o.output_dim};
    if ((st = rnn__layer_add_param(l, "embeddings", 2, ed))) {
        rnn__layer_free(l);
        return st;
    }
    rnn__init_uniform(&model->rng, rnn__f32(l->param[0]), o.input_dim * o.output_dim, -0.05, 0.05);
    if ((st = rnn__model_append(model, l, "embedding")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}
