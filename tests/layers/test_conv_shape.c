/* SPDX-License-Identifier: Apache-2.0 */
/* Conv1D, MaxPooling1D, SpatialDropout1D, Flatten, RepeatVector through the
 * public API: a direct convolution formula as reference, oneDNN == reference
 * backend, each sample equal to itself run alone, shapes and parameter counts
 * as Keras, errors, save/load round trips. Suite "layers" (their gradient
 * checks are gradcheck/test_conv.c and test_shape.c). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

#include "rnn_test_model.h"

enum { N = 3, T = 9, F = 4 };

static rnn_model *new_model(rnn_backend be, int64_t steps, int64_t feat)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 5;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {steps, feat};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    return m;
}

static rnn_tensor *lengths_tensor(const int32_t *v, int64_t n)
{
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_I32, 1, &n, &t));
    memcpy(tm_f(t), v, sizeof(int32_t) * (size_t)n);
    return t;
}

static rnn_model *conv_model(rnn_backend be, int64_t k, int64_t s, int64_t d, rnn_padding pad,
                             rnn_activation act, rnn_layer **out)
{
    rnn_model *m = new_model(be, 0, F);
    rnn_conv1d_options o;
    rnn_conv1d_options_init(&o);
    o.filters = 3, o.kernel_size = k, o.strides = s, o.dilation_rate = d, o.padding = pad;
    o.activation = act;
    ck_ok(rnn_model_add_conv1d(m, &o, out));
    /* a non-zero bias so that the bias path is exercised */
    rnn_tensor *b;
    ck_ok(rnn_layer_param(*out, 1, NULL, &b, NULL));
    for (int i = 0; i < 3; i++)
        tm_f(b)[i] = 0.1f * (float)(i + 1);
    ck_ok(rnn_layer_params_changed(*out));
    return m;
}

static const struct {
    int64_t k, s, d;
    rnn_padding pad;
    rnn_activation act;
} CASES[] = {
    {3, 1, 1, RNN_PADDING_VALID, RNN_ACT_LINEAR}, {3, 1, 1, RNN_PADDING_SAME, RNN_ACT_TANH},
    {4, 2, 1, RNN_PADDING_SAME, RNN_ACT_LINEAR},  {2, 3, 1, RNN_PADDING_VALID, RNN_ACT_SIGMOID},
    {3, 1, 2, RNN_PADDING_SAME, RNN_ACT_LINEAR},  {5, 1, 1, RNN_PADDING_SAME, RNN_ACT_SOFTMAX},
};

/* Direct formula: y[n,t,u] = act(b[u] + sum_k sum_f x[n, t*s - pl + k*d, f] W[k,f,u]),
 * zero outside [0, T). */
START_TEST(conv1d_matches_direct_formula_and_backends)
{
    int64_t xd[3] = {N, T, F};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        rnn_layer *lr, *lo;
        rnn_model *mr = conv_model(RNN_BACKEND_REFERENCE, CASES[c].k, CASES[c].s, CASES[c].d,
                                   CASES[c].pad, RNN_ACT_LINEAR, &lr);
        rnn_model *mo = conv_model(RNN_BACKEND_ONEDNN, CASES[c].k, CASES[c].s, CASES[c].d,
                                   CASES[c].pad, RNN_ACT_LINEAR, &lo);
        rnn_tensor *W, *b, *Wo;
        ck_ok(rnn_layer_param(lr, 0, NULL, &W, NULL));
        ck_ok(rnn_layer_param(lr, 1, NULL, &b, NULL));
        ck_ok(rnn_layer_param(lo, 0, NULL, &Wo, NULL));
        ck_assert(memcmp(tm_f(W), tm_f(Wo), sizeof(float) * (size_t)tm_numel(W)) == 0);
        rnn_tensor *x = tm_tensor(3, xd, 1.0);
        const rnn_tensor *in[1] = {x}, *yr, *yo;
        ck_ok(rnn_model_forward(mr, 1, in, NULL, 0));
        ck_ok(rnn_model_output(mr, 0, &yr));
        ck_ok(rnn_model_forward(mo, 1, in, NULL, 0));
        ck_ok(rnn_model_output(mo, 0, &yo));
        int64_t To;
        rnn_tensor_dim(yr, 1, &To);
        const int64_t k = CASES[c].k, s = CASES[c].s, d = CASES[c].d, span = d * (k - 1) + 1;
        int64_t want_To = CASES[c].pad == RNN_PADDING_SAME ? (T + s - 1) / s : (T - span) / s + 1;
        ck_assert_int_eq(To, want_To);
        int64_t total = (To - 1) * s + span - T;
        int64_t pl = CASES[c].pad == RNN_PADDING_SAME && total > 0 ? total / 2 : 0;
        for (int n = 0; n < N; n++)
            for (int64_t t = 0; t < To; t++)
                for (int u = 0; u < 3; u++) {
                    double acc = tm_f(b)[u];
                    for (int64_t kk = 0; kk < k; kk++) {
                        int64_t ti = t * s - pl + kk * d;
                        if (ti < 0 || ti >= T)
                            continue;
                        for (int f = 0; f < F; f++)
                            acc += (double)tm_f(x)[(n * T + ti) * F + f] *
                                   tm_f(W)[(kk * F + f) * 3 + u];
                    }
                    float got = tm_f(yr)[(n * To + t) * 3 + u];
                    ck_assert_msg(fabs(got - acc) < 1e-5, "case %zu: y[%d,%lld,%d] %g vs %g", c,
                                  n, (long long)t, u, got, acc);
                }
        ck_assert_msg(tm_max_rel(tm_f(yo), tm_f(yr), tm_numel(yr)) < 1e-5,
                      "case %zu: oneDNN differs from the reference", c);
        rnn_tensor_destroy(x);
        rnn_model_destroy(mr);
        rnn_model_destroy(mo);
    }
}
END_TEST

/* A batch with lengths gives each sample what it gets alone at its length. */
START_TEST(conv_pool_samples_equal_alone)
{
    int64_t xd[3] = {N, T, F};
    const int32_t lv[N] = {T, 5, 2};
    for (int pad = 0; pad < 2; pad++) {
        rnn_model *m = new_model(RNN_BACKEND_ONEDNN, 0, F);
        rnn_conv1d_options o;
        rnn_conv1d_options_init(&o);
        o.filters = 3, o.kernel_size = 2, o.padding = (rnn_padding)pad, o.activation = RNN_ACT_RELU;
        ck_ok(rnn_model_add_conv1d(m, &o, NULL));
        ck_ok(rnn_model_add_max_pooling1d(m, 2, 1, RNN_PADDING_SAME, NULL));
        ck_ok(rnn_model_add_global_pooling(m, RNN_POOL_MAX, NULL));
        rnn_tensor *x = tm_tensor(3, xd, 1.0), *len = lengths_tensor(lv, N);
        const rnn_tensor *in[1] = {x}, *li[1] = {len}, *y;
        ck_ok(rnn_model_forward(m, 1, in, li, 0));
        ck_ok(rnn_model_output(m, 0, &y));
        float batch[N * 3];
        memcpy(batch, tm_f(y), sizeof batch);
        for (int n = 0; n < N; n++) {
            int64_t d1[3] = {1, lv[n], F};
            rnn_tensor *x1;
            ck_ok(rnn_tensor_create(RNN_F32, 3, d1, &x1));
            memcpy(tm_f(x1), tm_f(x) + n * T * F, sizeof(float) * (size_t)(lv[n] * F));
            const rnn_tensor *in1[1] = {x1}, *y1;
            ck_ok(rnn_model_forward(m, 1, in1, NULL, 0));
            ck_ok(rnn_model_output(m, 0, &y1));
            for (int u = 0; u < 3; u++)
                ck_assert_msg(fabsf(tm_f(y1)[u] - batch[n * 3 + u]) < 1e-6f,
                              "padding %d sample %d feature %d: %g alone, %g in the batch", pad,
                              n, u, tm_f(y1)[u], batch[n * 3 + u]);
            rnn_tensor_destroy(x1);
        }
        rnn_tensor_destroy(x);
        rnn_tensor_destroy(len);
        rnn_model_destroy(m);
    }
}
END_TEST

/* Asserts the summary has the row Keras prints for a layer. */
static void has_row(const char *buf, const char *name, const char *shape, long long params)
{
    char row[160];
    snprintf(row, sizeof row, " %-28s %-25s %lld\n", name, shape, params);
    ck_assert_msg(strstr(buf, row) != NULL, "summary lacks the row \"%s\"", row);
}

START_TEST(shapes_counts_errors_and_save_load)
{
    /* Keras: Input((100, 16)) -> Conv1D(32, 5, padding="same", activation="relu")
     * -> SpatialDropout1D -> MaxPooling1D(2) -> Conv1D(8, 3) -> Flatten ->
     * RepeatVector(3) -> GRU(4): shapes and counts as model.summary() shows. */
    rnn_model *m = new_model(RNN_BACKEND_ONEDNN, 100, 16);
    rnn_conv1d_options o;
    rnn_conv1d_options_init(&o);
    o.filters = 32, o.kernel_size = 5, o.padding = RNN_PADDING_SAME, o.activation = RNN_ACT_RELU;
    rnn_layer *c1;
    ck_ok(rnn_model_add_conv1d(m, &o, &c1));
    int64_t n;
    ck_ok(rnn_layer_count_params(c1, &n));
    ck_assert_int_eq(n, 5 * 16 * 32 + 32); /* Keras: 2,592 */
    ck_ok(rnn_model_add_spatial_dropout1d(m, 0.2f, NULL));
    ck_ok(rnn_model_add_max_pooling1d(m, 2, 0, RNN_PADDING_VALID, NULL));
    o.filters = 8, o.kernel_size = 3, o.padding = RNN_PADDING_VALID, o.activation = RNN_ACT_LINEAR;
    ck_ok(rnn_model_add_conv1d(m, &o, NULL));
    rnn_layer *fl;
    ck_ok(rnn_model_add_flatten(m, &fl));
    ck_ok(rnn_model_add_repeat_vector(m, 3, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = 4;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    char buf[4096];
    ck_ok(rnn_model_summary(m, buf, sizeof buf, NULL));
    printf("%s", buf);
    has_row(buf, "conv1d (Conv1D)", "(None, 100, 32)", 2592);
    has_row(buf, "max_pooling1d (MaxPooling1D)", "(None, 50, 32)", 0);
    has_row(buf, "conv1d_1 (Conv1D)", "(None, 48, 8)", 776);
    has_row(buf, "flatten (Flatten)", "(None, 384)", 0);
    has_row(buf, "repeat_vector (RepeatVector)", "(None, 3, 384)", 0);
    has_row(buf, "spatial_dropout1d (SpatialDropout1D)", "(None, 100, 32)", 0);
    /* Keras GRU(4) on 384 features, reset_after: 3*4*(384+4) + 2*3*4 = 4680 */
    has_row(buf, "gru (GRU)", "(None, 4)", 4680);

    /* save/load round trip with a frozen layer: same outputs, same flag */
    ck_ok(rnn_layer_set_trainable(c1, 0));
    ck_ok(rnn_model_summary(m, buf, sizeof buf, NULL));
    int64_t xd[3] = {2, 100, 16};
    rnn_tensor *x = tm_tensor(3, xd, 1.0);
    const rnn_tensor *in[1] = {x}, *y1, *y2;
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &y1));
    char path[] = "/tmp/librnn-conv-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    ck_ok(rnn_model_save(m, path));
    rnn_model *m2;
    ck_ok(rnn_model_load(path, NULL, &m2));
    unlink(path);
    ck_ok(rnn_model_forward(m2, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m2, 0, &y2));
    ck_assert(memcmp(tm_f(y1), tm_f(y2), sizeof(float) * 8) == 0);
    char buf2[4096];
    ck_ok(rnn_model_summary(m2, buf2, sizeof buf2, NULL));
    ck_assert_str_eq(buf, buf2);
    ck_assert(strstr(buf2, "Non-trainable params: 2,592"));
    rnn_model_destroy(m2);
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);

    /* errors */
    m = new_model(RNN_BACKEND_ONEDNN, 0, F);
    ck_rnn(rnn_model_add_flatten(m, NULL), RNN_ERR_STATE);
    ck_errmsg("Flatten needs a fixed number of steps");
    ck_rnn(rnn_model_add_repeat_vector(m, 3, NULL), RNN_ERR_STATE);
    ck_errmsg("does not output f32 vectors (N, F)");
    ck_rnn(rnn_model_add_repeat_vector(m, 0, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_add_repeat_vector: n must be in 1..16777216 (got 0)");
    rnn_conv1d_options_init(&o);
    ck_rnn(rnn_model_add_conv1d(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->filters must be in 1..1048576 (got 0)");
    o.filters = 2, o.kernel_size = 3, o.padding = (rnn_padding)7;
    ck_rnn(rnn_model_add_conv1d(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->padding must be one of 0 (valid), 1 (same) (got 7)");
    o.padding = RNN_PADDING_VALID, o.strides = 2, o.dilation_rate = 2;
    ck_rnn(rnn_model_add_conv1d(m, &o, NULL), RNN_ERR_INVALID_ARG);
    o.strides = 1, o.dilation_rate = 1, o.kernel_size = 4;
    ck_ok(rnn_model_add_conv1d(m, &o, NULL));
    ck_rnn(rnn_model_add_max_pooling1d(m, 0, 0, RNN_PADDING_VALID, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("pool_size must be in 1..4096 (got 0)");
    ck_rnn(rnn_model_add_spatial_dropout1d(m, 1.0f, NULL), RNN_ERR_INVALID_ARG);
    /* a batch shorter than the kernel with valid padding */
    int64_t sd[3] = {2, 3, F};
    rnn_tensor *xs = tm_tensor(3, sd, 1.0);
    const rnn_tensor *ins[1] = {xs};
    ck_rnn(rnn_model_forward(m, 1, ins, NULL, 0), RNN_ERR_SHAPE);
    ck_errmsg("layer 'conv1d' (Conv1D): the input has 3 steps, fewer than the window span 4");
    rnn_tensor_destroy(xs);
    rnn_model_destroy(m);
    m = new_model(RNN_BACKEND_ONEDNN, 3, F);
    ck_rnn(rnn_model_add_conv1d(m, &o, NULL), RNN_ERR_STATE);
    ck_errmsg("conv1d: the input has 3 steps, fewer than the window span 4");
    int64_t vs[1] = {F};
    rnn_model_destroy(m);
    rnn_model *mv;
    ck_ok(rnn_model_create(NULL, &mv));
    ck_ok(rnn_model_add_input(mv, RNN_F32, 1, vs, NULL));
    ck_rnn(rnn_model_add_conv1d(mv, &o, NULL), RNN_ERR_STATE);
    ck_errmsg("does not output an f32 sequence (N, T, F)");
    ck_rnn(rnn_model_add_spatial_dropout1d(mv, 0.1f, NULL), RNN_ERR_STATE);
    rnn_model_destroy(mv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv_shape");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, conv1d_matches_direct_formula_and_backends);
    tcase_add_test(tc, conv_pool_samples_equal_alone);
    tcase_add_test(tc, shapes_counts_errors_and_save_load);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
