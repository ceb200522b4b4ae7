/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/embedding.c: Embedding (with and without mask_zero, whose lengths reach the next
 * layers) into a bidirectional LSTM and a per-step softmax Dense, on both backends; a frozen
 * (non-trainable) table gets exactly no gradient while the layers after it still do. */
#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

static rnn_model *emb_lstm_model(rnn_backend be, int mask_zero, int trainable)
{
    rnn_model *m;
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 21;
    mo.backend = be;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, shape, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 7;
    e.output_dim = 3;
    e.mask_zero = mask_zero;
    e.trainable = trainable;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 2;
    o.bidirectional = 1;
    o.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 3;
    d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

START_TEST(embedding_mask_zero_frozen)
{
    static const int32_t v[12] = {1, 2, 3, 6, 5, 0, 0, 0, 4, 4, 1, 0};
    for (int be = 0; be < 2; be++)
        for (int mz = 0; mz < 2; mz++)
            for (int tr = 0; tr < 2; tr++) {
                rnn_model *m =
                    emb_lstm_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN, mz, !tr);
                int64_t d[2] = {3, 4};
                rnn_tensor *x;
                ck_ok(rnn_tensor_create(RNN_I32, 2, d, &x));
                memcpy(tm_f(x), v, sizeof v);
                char what[96];
                snprintf(what, sizeof what, "embedding%s%s %s", mz ? " mask_zero" : "",
                         tr ? " frozen" : "", be ? "reference" : "onednn");
                gc_model(m, 1, &x, NULL, NULL, what);
                rnn_tensor_destroy(x);
                rnn_model_destroy(m);
            }
}
END_TEST

void gc_add_embedding(TCase *tc)
{
    tcase_add_test(tc, embedding_mask_zero_frozen);
}
