/* SPDX-License-Identifier: Apache-2.0 */
/*
 * End-to-end training through the public API, on tiny synthetic tasks that
 * must reach stated accuracies:
 *  - long range: the class of a variable-length sequence is its FIRST token,
 *    followed by 5..20 random tokens (right-padded, mask_zero): the LSTM must
 *    carry it across the whole sequence; >= 95% on held-out data.
 *  - neighbours: the per-step target is the PAIR (previous token, next token),
 *    y[t] = 7 * x[t-1] + x[t+1] (0 beyond each sample's ends, lengths 3..8), so
 *    it needs both directions and exact per-sample ends, and a linear softmax
 *    on [forward, backward] can decode it (a sum of the two, mod 6, could not:
 *    it is XOR-like across the halves, and no layer here could learn it): a
 *    bidirectional LSTM with a per-step softmax and masked loss and accuracy;
 *    >= 90% token accuracy on held-out data. (Reversing a whole sequence is a
 *    sequence-to-sequence task; it comes with the encoder-decoder models.)
 * Plus: a NaN loss stops with RNN_ERR_NUMERIC and the last good weights, and
 * the same seed gives the same losses.
 */
#include <math.h>
#include <stdio.h>

#include "../unit/test_util.h"

static uint64_t rs;
static int rnd(int n)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (int)((rs >> 33) % (uint64_t)n);
}

static void *D(rnn_tensor *t)
{
    void *p;
    rnn_tensor_data(t, &p);
    return p;
}

enum { V = 12, B = 32, TMAX = 21 };

/* Long-range batch: x (B, TMAX) ids, y (B) classes. Class c in {0, 1} is
 * encoded by first token 1 + c; the rest are tokens 3..11. */
static void long_range_batch(rnn_tensor *x, rnn_tensor *y)
{
    int32_t *xi = D(x), *yi = D(y);
    memset(xi, 0, sizeof(int32_t) * B * TMAX);
    for (int n = 0; n < B; n++) {
        int c = rnd(2), L = 6 + rnd(16);
        yi[n] = c;
        xi[n * TMAX] = 1 + c;
        for (int t = 1; t < L; t++)
            xi[n * TMAX + t] = 3 + rnd(V - 3);
    }
}

static rnn_model *long_range_model(uint64_t seed)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = seed;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = V, e.output_dim = 8, e.mask_zero = 1;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 16;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    oo.learning_rate = 0.01f;
    ck_ok(rnn_model_compile(m, &c, &oo));
    return m;
}

START_TEST(long_range_dependency)
{
    rs = 1;
    rnn_model *m = long_range_model(7);
    int64_t xd[2] = {B, TMAX}, yd[1] = {B};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
    const rnn_tensor *in[1] = {x};
    float loss = 0, acc = 0, first = 0;
    for (int s = 0; s < 250; s++) {
        long_range_batch(x, y);
        ck_ok(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc));
        if (s == 0)
            first = loss;
    }
    double total = 0;
    for (int b = 0; b < 8; b++) { /* 256 held-out sequences */
        long_range_batch(x, y);
        ck_ok(rnn_model_test_step(m, 1, in, NULL, y, &loss, &acc));
        total += acc;
    }
    printf("long range: first loss %.3f, last %.3f, held-out accuracy %.3f\n", first, loss,
           total / 8);
    ck_assert_msg(loss < first, "loss did not fall (%g -> %g)", first, loss);
    ck_assert_msg(total / 8 >= 0.95, "held-out accuracy %.3f < 0.95", total / 8);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

enum { RT = 8, RV = 7 }; /* neighbours task: lengths 3..8, tokens 1..6 */

static void neighbours_batch(rnn_tensor *x, rnn_tensor *y)
{
    int32_t *xi = D(x), *yi = D(y);
    memset(xi, 0, sizeof(int32_t) * B * RT);
    memset(yi, 0, sizeof(int32_t) * B * RT);
    for (int n = 0; n < B; n++) {
        int L = 3 + rnd(RT - 2);
        for (int t = 0; t < L; t++)
            xi[n * RT + t] = 1 + rnd(RV - 1);
        for (int t = 0; t < L; t++) {
            int prev = t > 0 ? xi[n * RT + t - 1] : 0, next = t + 1 < L ? xi[n * RT + t + 1] : 0;
            yi[n * RT + t] = prev * RV + next;
        }
    }
}

START_TEST(neighbours_need_both_directions)
{
    rs = 2;
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 3;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = RV, e.output_dim = 8, e.mask_zero = 1;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 32, o.return_sequences = 1, o.bidirectional = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = RV * RV, d.activation = RNN_ACT_SOFTMAX; /* TimeDistributed(Dense) */
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    c.reduction = RNN_REDUCTION_MASKED_MEAN;
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    oo.learning_rate = 0.01f;
    ck_ok(rnn_model_compile(m, &c, &oo));
    int64_t xd[2] = {B, RT};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &y));
    const rnn_tensor *in[1] = {x};
    float loss = 0, acc = 0;
    for (int s = 0; s < 400; s++) {
        neighbours_batch(x, y);
        ck_ok(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc));
    }
    double total = 0;
    for (int b = 0; b < 8; b++) {
        neighbours_batch(x, y);
        ck_ok(rnn_model_test_step(m, 1, in, NULL, y, &loss, &acc));
        total += acc;
    }
    printf("neighbours: last loss %.3f, held-out masked token accuracy %.3f\n", loss, total / 8);
    ck_assert_msg(total / 8 >= 0.90, "held-out token accuracy %.3f < 0.90", total / 8);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(nan_loss_keeps_last_good_weights)
{
    rs = 3;
    rnn_model *m = long_range_model(9);
    int64_t xd[2] = {B, TMAX}, yd[1] = {B};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
    const rnn_tensor *in[1] = {x};
    long_range_batch(x, y);
    float loss, acc;
    ck_ok(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc));
    /* Poison one embedding row used by the batch: the loss becomes NaN. */
    rnn_layer *emb, *lstm;
    ck_ok(rnn_model_layer(m, 1, &emb));
    ck_ok(rnn_model_layer(m, 2, &lstm));
    rnn_tensor *E, *K;
    ck_ok(rnn_layer_param(emb, 0, NULL, &E, NULL));
    ck_ok(rnn_layer_param(lstm, 0, NULL, &K, NULL));
    float *ep = D(E);
    ep[1 * 8] = NAN;
    ck_ok(rnn_layer_params_changed(emb));
    float k0 = ((float *)D(K))[0];
    ck_rnn(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc), RNN_ERR_NUMERIC);
    ck_errmsg("rnn_model_train_step: the loss is NaN: the weights are unchanged");
    ck_assert(isnan(loss));
    ck_assert(((float *)D(K))[0] == k0); /* nothing was updated */
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(same_seed_same_losses_and_errors)
{
    float l[2][5];
    for (int r = 0; r < 2; r++) {
        rs = 11;
        rnn_model *m = long_range_model(5);
        int64_t xd[2] = {B, TMAX}, yd[1] = {B};
        rnn_tensor *x, *y;
        ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &x));
        ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
        const rnn_tensor *in[1] = {x};
        for (int s = 0; s < 5; s++) {
            long_range_batch(x, y);
            ck_ok(rnn_model_train_step(m, 1, in, NULL, y, &l[r][s], NULL));
        }
        /* Errors: wrong target dtype, label out of range, not compiled. */
        rnn_tensor *yf;
        ck_ok(rnn_tensor_create(RNN_F32, 1, yd, &yf));
        ck_rnn(rnn_model_train_step(m, 1, in, NULL, yf, NULL, NULL), RNN_ERR_DTYPE);
        ((int32_t *)D(y))[3] = 2;
        ck_rnn(rnn_model_train_step(m, 1, in, NULL, y, NULL, NULL), RNN_ERR_RANGE);
        ck_errmsg("targets[3] must be a class in [0, 2) (got 2)");
        rnn_tensor_destroy(yf);
        rnn_tensor_destroy(x);
        rnn_tensor_destroy(y);
        rnn_model_destroy(m);
    }
    for (int s = 0; s < 5; s++)
        ck_assert_msg(l[0][s] == l[1][s], "step %d: %g vs %g", s, l[0][s], l[1][s]);
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    ck_rnn(rnn_model_train_step(m, 0, NULL, NULL, NULL, NULL, NULL), RNN_ERR_STATE);
    ck_errmsg("call rnn_model_compile() first");
    rnn_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, long_range_dependency);
    tcase_add_test(tc, neighbours_need_both_directions);
    tcase_add_test(tc, nan_loss_keeps_last_good_weights);
    tcase_add_test(tc, same_seed_same_losses_and_errors);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
