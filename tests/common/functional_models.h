/* SPDX-License-Identifier: Apache-2.0 */
/* The functional graphs of layers/test_functional.c and of their gradient checks
 * (gradcheck/test_model.c). */
#ifndef RNN_TEST_FUNCTIONAL_MODELS_H
#define RNN_TEST_FUNCTIONAL_MODELS_H

#include "../layers/rnn_test_model.h"

enum { N = 3, T1 = 5, T2 = 4 };

static inline rnn_model *fm_new_model(rnn_backend be)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 11;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    return m;
}

/* enc: input (T1, 3) -> cell(4, return_state); dec: input (T2, 2) ->
 * cell(4, return_sequences) from the encoder's states -> Dense(3). */
static inline rnn_model *encdec(rnn_backend be, rnn_cell_type cell, rnn_layer **enc,
                                 rnn_layer **dec)
{
    rnn_model *m = fm_new_model(be);
    int64_t s1[2] = {0, 3}, s2[2] = {0, 2};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, s1, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, cell);
    o.units = 4, o.return_state = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, enc));
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, s2, NULL));
    o.return_state = 0, o.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, dec));
    int ns;
    ck_ok(rnn_layer_num_states(*dec, &ns));
    rnn_layer *src[2] = {*enc, *enc};
    int outs[2] = {1, 2};
    ck_ok(rnn_layer_connect_initial_state(*dec, ns, src, outs));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 3;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

/* tok1 -> Embedding E -> avg pool; tok2 -> E (shared) -> max pool;
 * concatenate -> Dense(2, softmax); outputs: [dense, concatenation]. */
static inline rnn_model *shared_model(rnn_backend be, rnn_layer **emb)
{
    rnn_model *m = fm_new_model(be);
    int64_t s[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, s, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 7, e.output_dim = 3;
    ck_ok(rnn_model_add_embedding(m, &e, emb));
    rnn_layer *p1, *p2, *cat, *dense;
    ck_ok(rnn_model_add_global_pooling(m, RNN_POOL_AVERAGE, &p1));
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, s, NULL));
    ck_ok(rnn_model_add_shared(m, *emb, NULL));
    ck_ok(rnn_model_add_global_pooling(m, RNN_POOL_MAX, &p2));
    rnn_layer *ops[2] = {p1, p2};
    ck_ok(rnn_model_add_concatenate(m, 2, ops, NULL, &cat));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, &dense));
    rnn_layer *outs[2] = {dense, cat};
    ck_ok(rnn_model_set_outputs(m, 2, outs, NULL));
    return m;
}

static inline rnn_tensor *ids(uint64_t seed)
{
    int64_t d[2] = {N, 6};
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_I32, 2, d, &t));
    int32_t *p = (int32_t *)tm_f(t);
    for (int i = 0; i < N * 6; i++)
        p[i] = (int32_t)((seed * 2654435761u + (uint64_t)i * 40503u) % 7);
    return t;
}

#endif
