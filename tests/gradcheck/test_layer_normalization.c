/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/layer_normalization.c: LayerNormalization on vectors and per step on sequences,
 * with and without center/scale, after a Dense (so dx flows back) and before one (so gamma and
 * beta get non-uniform gradients), on both backends; non-trivial gamma and beta. */
#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

static rnn_model *norm_model(rnn_backend be, int seq, int center, int scale)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 11;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, 4}, vshape[1] = {4};
    ck_ok(rnn_model_add_input(m, RNN_F32, seq ? 2 : 1, seq ? shape : vshape, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 5;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_layer_normalization_options n;
    rnn_layer_normalization_options_init(&n);
    n.center = center;
    n.scale = scale;
    rnn_layer *l;
    ck_ok(rnn_model_add_layer_normalization(m, &n, &l));
    int np = 0;
    ck_ok(rnn_layer_num_params(l, &np));
    ck_assert_int_eq(np, center + scale);
    for (int p = 0; p < np; p++) { /* gamma around 1, beta around 0, not uniform */
        rnn_tensor *t;
        ck_ok(rnn_layer_param(l, p, NULL, &t, NULL));
        for (int j = 0; j < 5; j++)
            tm_f(t)[j] += 0.2f * (float)(j - 2) + 0.05f * (float)p;
    }
    ck_ok(rnn_layer_params_changed(l));
    d.units = 3;
    d.activation = RNN_ACT_TANH;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

START_TEST(vectors_and_sequences_center_scale)
{
    for (int be = 0; be < 2; be++)
        for (int seq = 0; seq < 2; seq++)
            for (int cs = 0; cs < 4; cs++) {
                rnn_model *m = norm_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN, seq,
                                          cs & 1, cs >> 1);
                int64_t xd[3] = {3, 2, 4}, vd[2] = {3, 4};
                tm_rng = 0x51ED27ull + (uint64_t)cs;
                rnn_tensor *x = seq ? tm_tensor(3, xd, 1.0) : tm_tensor(2, vd, 1.0);
                gc_options o;
                gc_options_init(&o);
                o.eps = 3e-3; /* 1e-2's truncation error reaches 0.9 of tolerance here */
                char what[80];
                snprintf(what, sizeof what, "layer_normalization center %d scale %d %s %s",
                         cs & 1, cs >> 1, seq ? "sequence" : "vector",
                         be ? "reference" : "onednn");
                gc_model(m, 1, &x, NULL, &o, what);
                rnn_tensor_destroy(x);
                rnn_model_destroy(m);
            }
}
END_TEST

void gc_add_layer_normalization(TCase *tc)
{
    tcase_add_test(tc, vectors_and_sequences_center_scale);
}
