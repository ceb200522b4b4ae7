/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/shape.c, the layers that only move values: Flatten (after SpatialDropout1D and
 * Conv1D, and straight from an input), RepeatVector (into an LSTM, and into a per-step Dense),
 * Concatenate of sequences (different lengths: the result has their minimum) and of vectors;
 * on both backends. */
#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

enum { N = 3, T = 6, F = 4 };

static rnn_model *new_model(rnn_backend be)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 5;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    return m;
}

static rnn_backend backend(int be)
{
    return be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
}

static const char *bname(int be)
{
    return be ? "reference" : "onednn";
}

static void dense(rnn_model *m, int64_t units, rnn_activation act)
{
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = units, d.activation = act;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
}

START_TEST(flatten)
{
    int64_t xd[3] = {N, T, F}, sh[2] = {T, F};
    for (int be = 0; be < 2; be++)
        for (int conv = 0; conv < 2; conv++) {
            rnn_model *m = new_model(backend(be));
            ck_ok(rnn_model_add_input(m, RNN_F32, 2, sh, NULL));
            if (conv) { /* spatial dropout (masks frozen) -> conv -> flatten -> dense */
                ck_ok(rnn_model_add_spatial_dropout1d(m, 0.5f, NULL));
                rnn_conv1d_options o;
                rnn_conv1d_options_init(&o);
                o.filters = 2, o.kernel_size = 3;
                ck_ok(rnn_model_add_conv1d(m, &o, NULL));
            }
            ck_ok(rnn_model_add_flatten(m, NULL));
            dense(m, 3, RNN_ACT_TANH);
            tm_rng = 0xF1Aull;
            rnn_tensor *x = tm_tensor(3, xd, 1.0);
            char what[96];
            snprintf(what, sizeof what, "%sflatten+dense %s",
                     conv ? "spatial_dropout1d+conv1d+" : "", bname(be));
            gc_model(m, 1, &x, NULL, NULL, what);
            rnn_tensor_destroy(x);
            rnn_model_destroy(m);
        }
}
END_TEST

/* vector -> repeat_vector -> LSTM (the encoder-decoder bridge), or -> per-step Dense. */
START_TEST(repeat_vector)
{
    int64_t sh[1] = {F}, vd[2] = {N, F};
    for (int be = 0; be < 2; be++)
        for (int lstm = 0; lstm < 2; lstm++) {
            rnn_model *m = new_model(backend(be));
            ck_ok(rnn_model_add_input(m, RNN_F32, 1, sh, NULL));
            ck_ok(rnn_model_add_repeat_vector(m, 4, NULL));
            if (lstm) {
                rnn_recurrent_options r;
                rnn_recurrent_options_init(&r, RNN_LSTM);
                r.units = 3, r.return_sequences = 1;
                ck_ok(rnn_model_add_recurrent(m, &r, NULL));
            } else {
                dense(m, 2, RNN_ACT_SIGMOID);
            }
            tm_rng = 0x4E9ull;
            rnn_tensor *x = tm_tensor(2, vd, 1.0);
            char what[96];
            snprintf(what, sizeof what, "repeat_vector+%s %s", lstm ? "lstm" : "dense",
                     bname(be));
            gc_model(m, 1, &x, NULL, NULL, what);
            rnn_tensor_destroy(x);
            rnn_model_destroy(m);
        }
}
END_TEST

/* Two sequence inputs (3 and 2 features) with different lengths, each through its own Dense,
 * concatenated with one input itself: three operands, lengths min(la, lb); then a per-step
 * Dense. And vectors: two inputs, concatenated, Dense. */
START_TEST(concatenate)
{
    const int32_t la[N] = {6, 2, 5}, lb[N] = {4, 3, 6}, lmin[N] = {4, 2, 5};
    for (int be = 0; be < 2; be++)
        for (int seq = 0; seq < 2; seq++) {
            rnn_model *m = new_model(backend(be));
            int64_t sa[2] = {0, 3}, sb[2] = {0, 2};
            rnn_layer *ia, *ib, *da, *db, *cat;
            ck_ok(rnn_model_add_input(m, RNN_F32, seq ? 2 : 1, seq ? sa : sa + 1, &ia));
            rnn_dense_options d;
            rnn_dense_options_init(&d);
            d.units = 2, d.activation = RNN_ACT_TANH;
            ck_ok(rnn_model_add_dense(m, &d, &da));
            ck_ok(rnn_model_add_input(m, RNN_F32, seq ? 2 : 1, seq ? sb : sb + 1, &ib));
            d.units = 3, d.activation = RNN_ACT_LINEAR;
            ck_ok(rnn_model_add_dense(m, &d, &db));
            rnn_layer *ops[3] = {da, ib, db};
            ck_ok(rnn_model_add_concatenate(m, 3, ops, NULL, &cat));
            dense(m, 2, RNN_ACT_SOFTMAX);
            int64_t xa[3] = {N, T, 3}, xb[3] = {N, T, 2}, ld[1] = {N};
            rnn_tensor *x[2], *len[2] = {NULL, NULL};
            tm_rng = 0xCA7ull;
            x[0] = seq ? tm_tensor(3, xa, 1.0) : tm_tensor(2, (int64_t[]){N, 3}, 1.0);
            x[1] = seq ? tm_tensor(3, xb, 1.0) : tm_tensor(2, (int64_t[]){N, 2}, 1.0);
            gc_options o;
            gc_options_init(&o);
            if (seq) {
                ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len[0]));
                ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len[1]));
                memcpy(tm_f(len[0]), la, sizeof la);
                memcpy(tm_f(len[1]), lb, sizeof lb);
                o.out_len[0] = lmin;
            }
            char what[96];
            snprintf(what, sizeof what, "concatenate %s %s", seq ? "sequences lengths" : "vectors",
                     bname(be));
            gc_model(m, 2, x, seq ? len : NULL, &o, what);
            for (int k = 0; k < 2; k++) {
                rnn_tensor_destroy(x[k]);
                rnn_tensor_destroy(len[k]);
            }
            rnn_model_destroy(m);
        }
}
END_TEST

void gc_add_shape(TCase *tc)
{
    tcase_add_test(tc, flatten);
    tcase_add_test(tc, repeat_vector);
    tcase_add_test(tc, concatenate);
}
