/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/simple.c, the layers without parameters: Dropout and SpatialDropout1D (frozen
 * masks), Activation (every activation), GlobalAveragePooling1D and GlobalMaxPooling1D, each
 * on inputs with and without lengths (garbage in the padding), on both backends; and the
 * original chain GRU -> Dropout -> pooling -> Activation -> Dense -> Activation(softmax). */
#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

enum { N = 3, T = 5, F = 4 };
static const int32_t LV[N] = {5, 2, 4};

static rnn_model *new_model(rnn_backend be, int seq)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 4;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[2] = {0, F}, vs[1] = {F};
    ck_ok(rnn_model_add_input(m, RNN_F32, seq ? 2 : 1, seq ? sh : vs, NULL));
    return m;
}

/* x (N, T, F) or (N, F); with lengths, garbage past them. */
static rnn_tensor *input(int seq, int with_len, rnn_tensor **len)
{
    int64_t xd[3] = {N, T, F}, vd[2] = {N, F}, ld[1] = {N};
    tm_rng = 0x51Bull; /* the same data whatever ran before (CK_FORK=no) */
    rnn_tensor *x = seq ? tm_tensor(3, xd, 1.0) : tm_tensor(2, vd, 1.0);
    *len = NULL;
    if (seq && with_len) {
        ck_ok(rnn_tensor_create(RNN_I32, 1, ld, len));
        memcpy(tm_f(*len), LV, sizeof LV);
        for (int n = 0; n < N; n++)
            for (int t = LV[n]; t < T; t++)
                for (int f = 0; f < F; f++)
                    tm_f(x)[(n * T + t) * F + f] = 30.0f + (float)f;
    }
    return x;
}

enum { DROPOUT, SPATIAL, ACTIVATION, POOL_AVG, POOL_MAX };

/* One layer of kind k (activation act) alone after the input. */
static void check_alone(int kind, rnn_activation act, int seq, int with_len, rnn_backend be)
{
    rnn_model *m = new_model(be, seq);
    switch (kind) {
    case DROPOUT: ck_ok(rnn_model_add_dropout(m, 0.4f, NULL)); break;
    case SPATIAL: ck_ok(rnn_model_add_spatial_dropout1d(m, 0.5f, NULL)); break;
    case ACTIVATION: ck_ok(rnn_model_add_activation(m, act, NULL)); break;
    case POOL_AVG: ck_ok(rnn_model_add_global_pooling(m, RNN_POOL_AVERAGE, NULL)); break;
    default: ck_ok(rnn_model_add_global_pooling(m, RNN_POOL_MAX, NULL)); break;
    }
    rnn_tensor *len, *x = input(seq, with_len, &len);
    gc_options o;
    gc_options_init(&o);
    if (kind == POOL_MAX || (kind == ACTIVATION && act == RNN_ACT_RELU))
        o.eps = 1e-3; /* kinks */
    if (with_len && kind != POOL_AVG && kind != POOL_MAX)
        o.out_len[0] = LV; /* sequence outputs: the next layers ignore the padding */
    static const char *kinds[] = {"dropout", "spatial_dropout1d", "activation",
                                  "global_average_pooling1d", "global_max_pooling1d"};
    static const char *acts[] = {" linear", " tanh",    " relu",
                                 " sigmoid", " softmax", " log_softmax"};
    char what[96];
    snprintf(what, sizeof what, "%s%s %s%s %s", kinds[kind], kind == ACTIVATION ? acts[act] : "",
             seq ? "sequence" : "vector", with_len ? " lengths" : "",
             be == RNN_BACKEND_ONEDNN ? "onednn" : "reference");
    gc_model(m, 1, &x, &len, &o, what);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(len);
    rnn_model_destroy(m);
}

START_TEST(dropout_and_spatial_dropout)
{
    for (int be = 0; be < 2; be++) {
        rnn_backend b = be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
        check_alone(DROPOUT, 0, 0, 0, b);
        check_alone(DROPOUT, 0, 1, 0, b);
        check_alone(DROPOUT, 0, 1, 1, b);
        check_alone(SPATIAL, 0, 1, 0, b);
        check_alone(SPATIAL, 0, 1, 1, b);
    }
}
END_TEST

START_TEST(activation_every_kind)
{
    for (int be = 0; be < 2; be++)
        for (int act = RNN_ACT_LINEAR; act <= RNN_ACT_LOG_SOFTMAX; act++)
            for (int v = 0; v < 3; v++)
                check_alone(ACTIVATION, (rnn_activation)act, v > 0, v == 2,
                            be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN);
}
END_TEST

START_TEST(global_pooling)
{
    for (int be = 0; be < 2; be++)
        for (int with_len = 0; with_len < 2; with_len++) {
            rnn_backend b = be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
            check_alone(POOL_AVG, 0, 1, with_len, b);
            check_alone(POOL_MAX, 0, 1, with_len, b);
        }
}
END_TEST

/* GRU -> Dropout -> global pooling -> Activation(tanh) -> Dense(softmax) -> Activation(softmax). */
START_TEST(chain_after_recurrent)
{
    for (int pool = RNN_POOL_AVERAGE; pool <= RNN_POOL_MAX; pool++)
        for (int be = 0; be < 2; be++) {
            rnn_model *m = new_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN, 1);
            rnn_recurrent_options r;
            rnn_recurrent_options_init(&r, RNN_GRU);
            r.units = 3, r.return_sequences = 1;
            ck_ok(rnn_model_add_recurrent(m, &r, NULL));
            ck_ok(rnn_model_add_dropout(m, 0.3f, NULL));
            ck_ok(rnn_model_add_global_pooling(m, (rnn_pooling)pool, NULL));
            ck_ok(rnn_model_add_activation(m, RNN_ACT_TANH, NULL));
            rnn_dense_options d;
            rnn_dense_options_init(&d);
            d.units = 2, d.activation = RNN_ACT_SOFTMAX;
            ck_ok(rnn_model_add_dense(m, &d, NULL));
            ck_ok(rnn_model_add_activation(m, RNN_ACT_SOFTMAX, NULL));
            for (int with_len = 0; with_len < 2; with_len++) {
                rnn_tensor *len, *x = input(1, with_len, &len);
                gc_options o;
                gc_options_init(&o);
                if (pool == RNN_POOL_MAX)
                    o.eps = 1e-3; /* no near-tie crossed */
                char what[96];
                snprintf(what, sizeof what, "gru+dropout+%s pooling+activations%s %s",
                         pool == RNN_POOL_MAX ? "max" : "average", with_len ? " lengths" : "",
                         be ? "reference" : "onednn");
                gc_model(m, 1, &x, &len, &o, what);
                rnn_tensor_destroy(x);
                rnn_tensor_destroy(len);
            }
            rnn_model_destroy(m);
        }
}
END_TEST

void gc_add_simple(TCase *tc)
{
    tcase_add_test(tc, dropout_and_spatial_dropout);
    tcase_add_test(tc, activation_every_kind);
    tcase_add_test(tc, global_pooling);
    tcase_add_test(tc, chain_after_recurrent);
}
