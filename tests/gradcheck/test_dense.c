/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/dense.c: Dense with every activation on vectors and on sequences (per step), two
 * layers so that dx flows between them, on both backends; on sequences with lengths. */
#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

static rnn_model *dense_model(rnn_backend be, int seq, rnn_activation act)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 3;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, 4}, vshape[1] = {4};
    ck_ok(rnn_model_add_input(m, RNN_F32, seq ? 2 : 1, seq ? shape : vshape, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 5;
    d.activation = act;
    rnn_layer *l;
    ck_ok(rnn_model_add_dense(m, &d, &l));
    rnn_tensor *b; /* a non-zero bias (default zeros) */
    ck_ok(rnn_layer_param(l, 1, NULL, &b, NULL));
    for (int i = 0; i < 5; i++)
        tm_f(b)[i] = 0.1f * (float)(i - 2);
    ck_ok(rnn_layer_params_changed(l));
    d.units = 3;
    d.activation = RNN_ACT_TANH; /* a second layer: dx flows between layers */
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

START_TEST(every_activation_vectors_and_sequences)
{
    for (int be = 0; be < 2; be++)
        for (int act = RNN_ACT_LINEAR; act <= RNN_ACT_LOG_SOFTMAX; act++)
            for (int seq = 0; seq < 2; seq++) {
                rnn_model *m =
                    dense_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN, seq, act);
                int64_t xd[3] = {3, 2, 4}, vd[2] = {3, 4};
                tm_rng = 0x9E3779B97F4A7C15ull + (uint64_t)act;
                rnn_tensor *x = seq ? tm_tensor(3, xd, 1.0) : tm_tensor(2, vd, 1.0);
                gc_options o;
                gc_options_init(&o);
                o.eps = act == RNN_ACT_RELU ? 1e-3 : 1e-2;
                char what[64];
                snprintf(what, sizeof what, "dense act %d %s %s", act, seq ? "sequence" : "vector",
                         be ? "reference" : "onednn");
                gc_model(m, 1, &x, NULL, &o, what);
                rnn_tensor_destroy(x);
                rnn_model_destroy(m);
            }
}
END_TEST

/* Per-step Dense passes lengths through: padding steps (garbage) get no gradient and change
 * nothing the next layers would read. */
START_TEST(sequences_with_lengths)
{
    const int32_t lv[3] = {4, 1, 3};
    for (int be = 0; be < 2; be++)
        for (int act = RNN_ACT_LINEAR; act <= RNN_ACT_LOG_SOFTMAX; act++) {
            rnn_model *m = dense_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN, 1, act);
            int64_t xd[3] = {3, 4, 4}, ld[1] = {3};
            tm_rng = 0x5E9ull + (uint64_t)act;
            rnn_tensor *x = tm_tensor(3, xd, 1.0), *len;
            ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
            memcpy(tm_f(len), lv, sizeof lv);
            for (int n = 0; n < 3; n++)
                for (int t = lv[n]; t < 4; t++)
                    for (int f = 0; f < 4; f++)
                        tm_f(x)[(n * 4 + t) * 4 + f] = 50.0f;
            gc_options o;
            gc_options_init(&o);
            o.eps = act == RNN_ACT_RELU ? 1e-3 : 1e-2;
            o.out_len[0] = lv;
            char what[64];
            snprintf(what, sizeof what, "dense act %d sequence lengths %s", act,
                     be ? "reference" : "onednn");
            gc_model(m, 1, &x, &len, &o, what);
            rnn_tensor_destroy(x);
            rnn_tensor_destroy(len);
            rnn_model_destroy(m);
        }
}
END_TEST

void gc_add_dense(TCase *tc)
{
    tcase_add_test(tc, every_activation_vectors_and_sequences);
    tcase_add_test(tc, sequences_with_lengths);
}
