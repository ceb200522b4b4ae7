/* SPDX-License-Identifier: Apache-2.0 */
/* Embedding: token ids (N, T) -> vectors (N, T, D); with mask_zero, id 0 is
 * padding and each sample's length (position after its last non-zero id)
 * flows to the following layers and the loss. */
#include <string.h>

#include "layer/layer.h"
#include "model/add.h"

typedef struct embedding {
    int32_t *len; /* [N] computed lengths (mask_zero) */
    int64_t len_n;
} embedding;

static const rnn__field FIELDS[] = {
    RNN__INT(rnn_embedding_options, input_dim, 1, INT32_MAX),
    RNN__INT(rnn_embedding_options, output_dim, 1, 1 << 24),
    RNN__BOOL(rnn_embedding_options, mask_zero),
    RNN__BOOL(rnn_embedding_options, trainable),
    RNN__FIELDS_END,
};

void rnn_embedding_options_init(rnn_embedding_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->trainable = 1;
}

static const char *embedding_type(const void *opts)
{
    (void)opts;
    return "Embedding";
}

static rnn_status embedding_infer(const char *func, const void *opts, int n_in,
                                  const rnn__src *in, rnn__spec *s)
{
    (void)n_in;
    const rnn_embedding_options *o = opts;
    if (in[0].d.dtype != RNN_I32)
        return rnn__err(RNN_ERR_STATE, func,
                        "an Embedding reads token ids (an RNN_I32 input); %s outputs RNN_F32",
                        in[0].name);
    s->n_outputs = 1;
    s->out[0] = (rnn__desc){RNN_F32, 1, 0, o->output_dim, 0};
    s->n_params = 1;
    s->param_name[0] = "embeddings";
    s->param_rank[0] = 2;
    s->param_dims[0][0] = o->input_dim;
    s->param_dims[0][1] = o->output_dim;
    s->base = "embedding";
    return RNN_OK;
}

static rnn_status embedding_init(rnn_layer *l, rnn__rng *rng)
{
    const rnn_embedding_options *o = l->opts;
    rnn__init_uniform(rng, rnn__f32(l->param[0]), o->input_dim * o->output_dim, -0.05, 0.05);
    return RNN_OK;
}

static rnn_status embedding_forward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const rnn_embedding_options *o = l->opts;
    embedding *e = l->impl;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t N = x->dims[0], T = x->dims[1], D = o->output_dim, V = o->input_dim;
    const int32_t *ids = x->data;
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < T; t++) {
            int32_t id = ids[n * T + t];
            if (id < 0 || id >= V)
                return rnn__err(RNN_ERR_RANGE, NULL,
                                "token id at [%lld][%lld] must be in [0, %lld) (got %d)",
                                (long long)n, (long long)t, (long long)V, id);
        }
    const int32_t *len = rnn__layer_in_len(l);
    if (o->mask_zero) {
        if (e->len_n < N) {
            int32_t *p = rnn__malloc(sizeof(int32_t) * (size_t)N);
            if (!p)
                return rnn__err(RNN_ERR_NOMEM, NULL, "out of memory allocating %zu bytes",
                                sizeof(int32_t) * (size_t)N);
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
                return rnn__err(RNN_ERR_RANGE, NULL,
                                "sample %lld is only padding (id 0) and mask_zero is set",
                                (long long)n);
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

static rnn_status embedding_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    if (!l->trainable)
        return RNN_OK;
    const rnn_embedding_options *o = l->opts;
    const rnn_tensor *x = rnn__layer_in(l);
    const int64_t NT = x->dims[0] * x->dims[1], D = o->output_dim;
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
    rnn__free(e->len);
}

/* A frozen embedding (options.trainable = 0) starts not trainable. */
static rnn_status embedding_build(rnn_layer *l)
{
    l->trainable = ((const rnn_embedding_options *)l->opts)->trainable;
    return RNN_OK;
}

static void options_init(void *o)
{
    rnn_embedding_options_init(o);
}

static int64_t embedding_id_limit(const rnn_layer *l)
{
    return ((const rnn_embedding_options *)l->opts)->input_dim;
}

const rnn__layer_ops rnn__embedding_ops = {
    .kind = "embedding",
    .type_name = embedding_type,
    .options_size = sizeof(rnn_embedding_options),
    .options_init = options_init,
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 1,
    .impl_size = sizeof(embedding),
    .infer = embedding_infer,
    .build = embedding_build,
    .init_params = embedding_init,
    .forward = embedding_forward,
    .backward = embedding_backward,
    .step_check = rnn__step_any,
    .destroy = embedding_destroy,
    .id_limit = embedding_id_limit,
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
    rnn_status st = RNN__OPTS_COPY("options", rnn_embedding_options, &o, options, trainable);
    if (st)
        return st;
    /* The options before the producer, as before (rnn__model_add checks the
     * producer first). */
    if ((st = rnn__fields_check(__func__, FIELDS, &o)))
        return st;
    rnn_layer *l;
    if ((st = rnn__model_add(__func__, model, &rnn__embedding_ops, &o, 0, NULL, &l)))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}
