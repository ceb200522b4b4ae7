/* SPDX-License-Identifier: Apache-2.0 */
/* The attention models of the attention tests (layers/test_attention.c) and of their gradient
 * checks (gradcheck/test_attention.c). */
#ifndef RNN_TEST_ATTENTION_MODELS_H
#define RNN_TEST_ATTENTION_MODELS_H

#include "../layers/rnn_test_model.h"

enum { N = 3, TQ = 3, TV = 5 };

/* Query and value lengths of the padded cases. */
static const int32_t QL[N] = {3, 1, 2}, VL[N] = {5, 3, 2};

static inline rnn_model *am_new_model_on(rnn_backend be, uint64_t seed)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = seed;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    return m;
}

static inline rnn_model *am_new_model(uint64_t seed)
{
    return am_new_model_on(RNN_BACKEND_ONEDNN, seed);
}

/* q (TQ, dq), v (TV, dv) -> attention; outputs: contexts and weights. */
static inline rnn_model *att_model_on(rnn_backend be, rnn_attention_score score, int scale,
                                      int64_t dq, int64_t dv, rnn_layer **att)
{
    rnn_model *m = am_new_model_on(be, 3);
    rnn_layer *q, *v;
    int64_t sq[2] = {TQ, dq}, sv[2] = {TV, dv};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, sq, &q));
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, sv, &v));
    rnn_attention_options o;
    rnn_attention_options_init(&o);
    o.score = score;
    o.scale = scale;
    o.units = score == RNN_ATTENTION_ADDITIVE ? 5 : 0;
    ck_ok(rnn_model_add_attention(m, &o, q, 0, v, 0, att));
    rnn_layer *ls[2] = {*att, *att};
    int os[2] = {0, 1};
    ck_ok(rnn_model_set_outputs(m, 2, ls, os));
    return m;
}

static inline rnn_tensor *i32(int rank, const int64_t *dims, const int32_t *vals)
{
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_I32, rank, dims, &t));
    void *p;
    rnn_tensor_data(t, &p);
    int64_t n = tm_numel(t);
    memcpy(p, vals, sizeof(int32_t) * (size_t)n);
    return t;
}

/* src ids (any length) -> Embedding -> LSTM(return_sequences, return_state);
 * tgt ids -> Embedding -> LSTM(from the encoder's states) -> attention over
 * the encoder outputs -> Concatenate(context, decoder) -> Dense tanh ->
 * Dense softmax over V. */
static inline rnn_model *seq2seq_on(rnn_backend be, int V, rnn_attention_score score,
                                    int f32_inputs, uint64_t seed)
{
    rnn_model *m = am_new_model_on(be, seed);
    rnn_layer *src, *tgt, *enc, *dec, *att, *cat, *es, *ds;
    int64_t s1[1] = {0}, s2[2] = {0, 3};
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = V, e.output_dim = 3;
    if (f32_inputs) {
        ck_ok(rnn_model_add_input(m, RNN_F32, 2, s2, &src));
        es = src;
    } else {
        ck_ok(rnn_model_add_input(m, RNN_I32, 1, s1, &src));
        ck_ok(rnn_model_add_embedding(m, &e, &es));
    }
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 4, r.return_sequences = 1, r.return_state = 1;
    ck_ok(rnn_model_connect_next(m, es, 0));
    ck_ok(rnn_model_add_recurrent(m, &r, &enc));
    if (f32_inputs) {
        ck_ok(rnn_model_add_input(m, RNN_F32, 2, s2, &tgt));
        ds = tgt;
    } else {
        ck_ok(rnn_model_add_input(m, RNN_I32, 1, s1, &tgt));
        ck_ok(rnn_model_add_embedding(m, &e, &ds));
    }
    r.return_state = 0;
    ck_ok(rnn_model_connect_next(m, ds, 0));
    ck_ok(rnn_model_add_recurrent(m, &r, &dec));
    rnn_layer *st[2] = {enc, enc};
    int so[2] = {1, 2};
    ck_ok(rnn_layer_connect_initial_state(dec, 2, st, so));
    rnn_attention_options ao;
    rnn_attention_options_init(&ao);
    ao.score = score;
    ck_ok(rnn_model_add_attention(m, &ao, dec, 0, enc, 0, &att));
    rnn_layer *parts[2] = {att, dec};
    ck_ok(rnn_model_add_concatenate(m, 2, parts, NULL, &cat));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 5, d.activation = RNN_ACT_TANH;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    d.units = V, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

static inline rnn_model *att_model(rnn_attention_score score, int scale, int64_t dq, int64_t dv,
                                   rnn_layer **att)
{
    return att_model_on(RNN_BACKEND_ONEDNN, score, scale, dq, dv, att);
}

static inline rnn_model *seq2seq(int V, rnn_attention_score score, int f32_inputs, uint64_t seed)
{
    return seq2seq_on(RNN_BACKEND_ONEDNN, V, score, f32_inputs, seed);
}

#endif
