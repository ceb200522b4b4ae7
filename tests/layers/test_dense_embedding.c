/* SPDX-License-Identifier: Apache-2.0 */
/* Embedding, Dense and the layers without parameters through the public API:
 * mask_zero lengths, errors, the trainable flag, pooling never reads padding,
 * summaries and parameter counts as Keras, log-softmax's values and loss. Suite "layers" (their gradient
 * checks are gradcheck/test_dense.c, test_embedding.c, test_simple.c). */
#include <stdio.h>

#include "rnn_test_model.h"

static rnn_model *emb_lstm_model(int mask_zero, int with_dense, rnn_layer **emb)
{
    rnn_model *m;
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 21;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, shape, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 7;
    e.output_dim = 3;
    e.mask_zero = mask_zero;
    ck_ok(rnn_model_add_embedding(m, &e, emb));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 2;
    o.bidirectional = 1;
    o.return_sequences = with_dense;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    if (with_dense) {
        rnn_dense_options d;
        rnn_dense_options_init(&d);
        d.units = 3;
        d.activation = RNN_ACT_SOFTMAX;
        ck_ok(rnn_model_add_dense(m, &d, NULL));
    }
    return m;
}

static rnn_tensor *ids_tensor(int64_t N, int64_t T, const int32_t *v)
{
    int64_t d[2] = {N, T};
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_I32, 2, d, &t));
    memcpy(tm_f(t), v, sizeof(int32_t) * (size_t)(N * T));
    return t;
}

START_TEST(mask_zero_equals_explicit_lengths)
{
    static const int32_t v[12] = {1, 2, 3, 6, 5, 0, 0, 0, 4, 4, 1, 0};
    static const int32_t lens[3] = {4, 1, 3};
    rnn_layer *e1, *e2;
    rnn_model *a = emb_lstm_model(1, 0, &e1), *b = emb_lstm_model(0, 0, &e2);
    rnn_tensor *x = ids_tensor(3, 4, v), *len;
    int64_t ld[1] = {3};
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
    memcpy(tm_f(len), lens, sizeof lens);
    const rnn_tensor *in[1] = {x}, *ls[1] = {len}, *ya, *yb;
    ck_ok(rnn_model_forward(a, 1, in, NULL, 0));
    ck_ok(rnn_model_forward(b, 1, in, ls, 0));
    ck_ok(rnn_model_output(a, 0, &ya));
    ck_ok(rnn_model_output(b, 0, &yb));
    ck_assert(tm_max_rel(tm_f(ya), tm_f(yb), tm_numel(ya)) < 1e-6);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(len);
    rnn_model_destroy(a);
    rnn_model_destroy(b);
}
END_TEST

START_TEST(embedding_errors_and_trainable)
{
    rnn_layer *emb;
    rnn_model *m = emb_lstm_model(1, 0, &emb);
    static const int32_t bad[4] = {1, 7, 0, 0}, pad[4] = {0, 0, 2, 1};
    rnn_tensor *x = ids_tensor(2, 2, bad);
    const rnn_tensor *in[1] = {x};
    ck_rnn(rnn_model_forward(m, 1, in, NULL, 0), RNN_ERR_RANGE);
    ck_errmsg("rnn_model_forward: layer 'embedding' (Embedding): token id at [0][1] must be in [0, 7) (got 7)");
    rnn_tensor_destroy(x);
    x = ids_tensor(2, 2, pad);
    in[0] = x;
    ck_rnn(rnn_model_forward(m, 1, in, NULL, 0), RNN_ERR_RANGE);
    ck_errmsg("sample 0 is only padding (id 0) and mask_zero is set");
    /* A frozen embedding gets no gradient. */
    static const int32_t ok[4] = {1, 2, 3, 0};
    rnn_tensor_destroy(x);
    x = ids_tensor(2, 2, ok);
    in[0] = x;
    int tr = -1;
    ck_ok(rnn_layer_trainable(emb, &tr));
    ck_assert_int_eq(tr, 1);
    ck_ok(rnn_layer_set_trainable(emb, 0));
    ck_ok(rnn_layer_trainable(emb, &tr));
    ck_assert_int_eq(tr, 0);
    ck_rnn(rnn_layer_trainable(NULL, &tr), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_layer_trainable: layer must not be NULL");
    ck_rnn(rnn_layer_trainable(emb, NULL), RNN_ERR_INVALID_ARG);
    ck_ok(rnn_model_forward(m, 1, in, NULL, 1));
    ck_ok(rnn_model_zero_grad(m));
    ck_ok(rnn_model_backward(m, 1, NULL));
    rnn_tensor *g;
    ck_ok(rnn_layer_param(emb, 0, NULL, NULL, &g));
    for (int64_t i = 0; i < tm_numel(g); i++)
        ck_assert(tm_f(g)[i] == 0.0f);
    const rnn_tensor *dx;
    ck_rnn(rnn_model_input_grad(m, 0, &dx), RNN_ERR_DTYPE);
    /* Dense after token ids is refused. */
    rnn_model *m2;
    ck_ok(rnn_model_create(NULL, &m2));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m2, RNN_I32, 1, sh, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2;
    ck_rnn(rnn_model_add_dense(m2, &d, NULL), RNN_ERR_STATE);
    ck_errmsg("outputs token ids; add an Embedding layer first");
    rnn_embedding_options eo;
    rnn_embedding_options_init(&eo);
    eo.input_dim = 0;
    eo.output_dim = 4;
    ck_rnn(rnn_model_add_embedding(m2, &eo, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->input_dim must be in 1..");
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
    rnn_model_destroy(m2);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

static rnn_model *pooling_model(rnn_pooling pool, rnn_backend be)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 4;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, sh, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_GRU);
    o.units = 3, o.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    ck_ok(rnn_model_add_dropout(m, 0.3f, NULL));
    ck_ok(rnn_model_add_global_pooling(m, pool, NULL));
    ck_ok(rnn_model_add_activation(m, RNN_ACT_TANH, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    ck_ok(rnn_model_add_activation(m, RNN_ACT_SOFTMAX, NULL)); /* softmax backward too */
    return m;
}

START_TEST(pooling_never_sees_padding)
{
    for (int pool = RNN_POOL_AVERAGE; pool <= RNN_POOL_MAX; pool++) {
        rnn_model *m = pooling_model((rnn_pooling)pool, RNN_BACKEND_ONEDNN);
        int64_t xd[3] = {2, 4, 3}, ld[1] = {2};
        rnn_tensor *x = tm_tensor(3, xd, 1.0), *len;
        ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
        ((int32_t *)tm_f(len))[0] = 2, ((int32_t *)tm_f(len))[1] = 4;
        const rnn_tensor *in[1] = {x}, *lens[1] = {len}, *y;
        float a[4], b[4];
        ck_ok(rnn_model_forward(m, 1, in, lens, 0));
        ck_ok(rnn_model_output(m, 0, &y));
        memcpy(a, tm_f(y), sizeof a);
        for (int t = 2; t < 4; t++) /* garbage in sample 0's padding */
            for (int i = 0; i < 3; i++)
                tm_f(x)[(0 * 4 + t) * 3 + i] = 1e4f;
        ck_ok(rnn_model_forward(m, 1, in, lens, 0));
        ck_ok(rnn_model_output(m, 0, &y));
        memcpy(b, tm_f(y), sizeof b);
        ck_assert(memcmp(a, b, sizeof a) == 0);
        rnn_tensor_destroy(x);
        rnn_tensor_destroy(len);
        rnn_model_destroy(m);
    }
}
END_TEST

START_TEST(summary_like_keras)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 10000, e.output_dim = 64, e.trainable = 0;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 64, o.bidirectional = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    ck_ok(rnn_model_add_dropout(m, 0.5f, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 1, d.activation = RNN_ACT_SIGMOID;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    char buf[2048];
    size_t need;
    ck_ok(rnn_model_summary(m, buf, sizeof buf, &need));
    ck_assert_uint_eq(need, strlen(buf) + 1);
    ck_assert_ptr_nonnull(strstr(buf, " embedding (Embedding)        (None, None, 64)          640000"));
    ck_assert_ptr_nonnull(strstr(buf, "bidirectional (Bidirectional) (None, 128)"));
    ck_assert_ptr_nonnull(strstr(buf, "Total params: 706,177\n"));
    ck_assert_ptr_nonnull(strstr(buf, "Trainable params: 66,177\n"));
    ck_assert_ptr_nonnull(strstr(buf, "Non-trainable params: 640,000\n"));
    char small[16];
    size_t need2;
    ck_ok(rnn_model_summary(m, small, sizeof small, &need2));
    ck_assert_uint_eq(need2, need);
    ck_assert_uint_eq(strlen(small), 15);
    ck_ok(rnn_model_summary(m, NULL, 0, &need2));
    ck_assert_uint_eq(need2, need);
    ck_rnn(rnn_model_add_dropout(m, 1.0f, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_add_dropout: rate must be in [0, 1) (got 1)");
    ck_rnn(rnn_model_add_global_pooling(m, RNN_POOL_MAX, NULL), RNN_ERR_STATE);
    ck_errmsg("outputs no sequence (a global_pooling layer needs one)");
    rnn_model_destroy(m);
}
END_TEST

START_TEST(keras_param_counts)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 10000;
    e.output_dim = 64;
    rnn_layer *le, *ld;
    ck_ok(rnn_model_add_embedding(m, &e, &le));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 64;
    o.bidirectional = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 1;
    d.activation = RNN_ACT_SIGMOID;
    ck_ok(rnn_model_add_dense(m, &d, &ld));
    int64_t n;
    ck_ok(rnn_layer_count_params(le, &n));
    ck_assert_int_eq(n, 640000);
    ck_ok(rnn_layer_count_params(ld, &n));
    ck_assert_int_eq(n, 129);
    ck_ok(rnn_model_count_params(m, &n));
    ck_assert_int_eq(n, 640000 + 66048 + 129); /* Keras summary of the same model */
    rnn_model_destroy(m);
}
END_TEST

/* Activation(log_softmax): x - max - log(sum(exp(x - max))) per row, finite on inputs that
 * overflow exp(), the log of softmax's output elsewhere; and through a cross-entropy with
 * from_logits = 1 (log-softmax of log-probabilities is themselves) a Dense(log_softmax)
 * trains exactly as Dense(linear) logits do. */
static rnn_model *seq_model(uint64_t seed, int64_t F, rnn_activation act, int64_t units,
                               rnn_layer **dense)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = seed;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, F};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    if (units) {
        rnn_dense_options d;
        rnn_dense_options_init(&d);
        d.units = units, d.activation = act;
        ck_ok(rnn_model_add_dense(m, &d, dense));
    } else {
        ck_ok(rnn_model_add_activation(m, act, NULL));
    }
    return m;
}

START_TEST(log_softmax_values)
{
    const float xv[3][4] = {{1000, 0, -1000, 3}, {0.5f, -0.25f, 2, 1}, {-80, -81, -79, -90}};
    int64_t xd[3] = {1, 3, 4};
    rnn_tensor *x;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    memcpy(tm_f(x), xv, sizeof xv);
    const rnn_tensor *in[1] = {x}, *y, *p;
    rnn_model *ml = seq_model(1, 4, RNN_ACT_LOG_SOFTMAX, 0, NULL);
    rnn_model *ms = seq_model(1, 4, RNN_ACT_SOFTMAX, 0, NULL);
    ck_ok(rnn_model_forward(ml, 1, in, NULL, 0));
    ck_ok(rnn_model_forward(ms, 1, in, NULL, 0));
    ck_ok(rnn_model_output(ml, 0, &y));
    ck_ok(rnn_model_output(ms, 0, &p));
    const float *yv = tm_f(y), *pv = tm_f(p);
    for (int r = 0; r < 3; r++) {
        double mx = xv[r][0], sum = 0, psum = 0;
        for (int j = 1; j < 4; j++)
            mx = xv[r][j] > mx ? xv[r][j] : mx;
        for (int j = 0; j < 4; j++)
            sum += exp(xv[r][j] - mx);
        for (int j = 0; j < 4; j++) {
            double want = xv[r][j] - mx - log(sum), got = yv[r * 4 + j];
            ck_assert_msg(isfinite(got) && fabs(got - want) <= 1e-5 * (1 + fabs(want)),
                          "row %d col %d: %g, want %g", r, j, got, want);
            psum += exp(got);
            if (pv[r * 4 + j] > 1e-30f) /* where softmax's output is a normal float */
                ck_assert_msg(fabs(got - log(pv[r * 4 + j])) <= 1e-5,
                              "row %d col %d: %g vs log(softmax) %g", r, j, got,
                              log(pv[r * 4 + j]));
        }
        ck_assert(fabs(psum - 1) < 1e-6);
    }
    rnn_model_destroy(ml);
    rnn_model_destroy(ms);
    /* every name table knows it: the layer's configuration and rnn_model_add_layer() */
    rnn_model *m = seq_model(1, 4, RNN_ACT_LINEAR, 0, NULL);
    rnn_layer *l;
    ck_ok(rnn_model_add_layer(m, "dense", "{\"units\": 2, \"activation\": \"log_softmax\"}", 0,
                              NULL, NULL, &l));
    char cfg[1024];
    ck_ok(rnn_layer_config(l, cfg, sizeof cfg, NULL));
    ck_assert_msg(strstr(cfg, "\"activation\": \"log_softmax\"") ||
                      strstr(cfg, "\"activation\":\"log_softmax\""), "%s", cfg);
    ck_assert_int_eq(rnn_model_add_activation(m, (rnn_activation)6, NULL), RNN_ERR_INVALID_ARG);
    rnn_model_destroy(m);
    rnn_tensor_destroy(x);
}
END_TEST

START_TEST(log_softmax_trains_like_logits)
{
    rnn_layer *dl, *dg;
    rnn_model *ml = seq_model(5, 4, RNN_ACT_LOG_SOFTMAX, 3, &dl);
    rnn_model *mg = seq_model(5, 4, RNN_ACT_LINEAR, 3, &dg);
    int64_t xd[3] = {4, 2, 4}, yd[2] = {4, 2}; /* per step: TimeDistributed(Dense) */
    tm_rng = 0x1234567ull;
    rnn_tensor *x = tm_tensor(3, xd, 2.0), *t;
    ck_ok(rnn_tensor_create(RNN_I32, 2, yd, &t));
    for (int n = 0; n < 8; n++)
        ((int32_t *)tm_f(t))[n] = n % 3;
    rnn_model *ms[2] = {ml, mg};
    float loss[2][2];
    rnn_optimizer_options sgd;
    rnn_optimizer_options_init(&sgd, RNN_OPTIM_SGD);
    sgd.learning_rate = 0.5f;
    rnn_compile_options ce; /* the loss applies log-softmax: from_logits */
    rnn_compile_options_init(&ce, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    ce.from_logits = 1;
    for (int k = 0; k < 2; k++) {
        ck_ok(rnn_model_compile(ms[k], &ce, &sgd));
        const rnn_tensor *in[1] = {x};
        ck_ok(rnn_model_train_step(ms[k], 1, in, NULL, t, &loss[k][0], NULL));
        ck_ok(rnn_model_test_step(ms[k], 1, in, NULL, t, &loss[k][1], NULL));
    }
    ck_assert_msg(fabs(loss[0][0] - loss[1][0]) < 1e-6 && fabs(loss[0][1] - loss[1][1]) < 1e-6,
                  "losses %g %g vs logits %g %g", loss[0][0], loss[0][1], loss[1][0], loss[1][1]);
    ck_assert(loss[0][1] < loss[0][0]); /* the step helped */
    for (int k = 0; k < 2; k++) { /* the same gradients: the same weights after the step */
        rnn_tensor *a, *b;
        ck_ok(rnn_layer_param(dl, k, NULL, &a, NULL));
        ck_ok(rnn_layer_param(dg, k, NULL, &b, NULL));
        for (int64_t i = 0; i < tm_numel(a); i++)
            ck_assert_msg(fabs(tm_f(a)[i] - tm_f(b)[i]) < 1e-6, "param %d [%lld]: %g vs %g", k,
                          (long long)i, tm_f(a)[i], tm_f(b)[i]);
    }
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(t);
    rnn_model_destroy(ml);
    rnn_model_destroy(mg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, mask_zero_equals_explicit_lengths);
    tcase_add_test(tc, embedding_errors_and_trainable);
    tcase_add_test(tc, keras_param_counts);
    tcase_add_test(tc, pooling_never_sees_padding);
    tcase_add_test(tc, summary_like_keras);
    tcase_add_test(tc, log_softmax_values);
    tcase_add_test(tc, log_softmax_trains_like_logits);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
