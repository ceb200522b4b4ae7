/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/conv.c: Conv1D (valid and same padding, strides, dilation, activations) and
 * MaxPooling1D (valid and same, pool sizes and strides), with and without lengths, on both
 * backends. */
#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

enum { N = 3, T = 9, F = 4 };
static const int32_t LV[N] = {T, 5, 2};

static rnn_model *new_model(rnn_backend be)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 5;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, F};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    return m;
}

static rnn_tensor *lengths(void)
{
    int64_t n = N;
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_I32, 1, &n, &t));
    memcpy(tm_f(t), LV, sizeof LV);
    return t;
}

/* A window of k taps spaced d apart sliding by s: each sample's output length (as documented:
 * at least 1, at most the batch's To). */
static void out_len(int64_t k, int64_t s, int64_t d, rnn_padding pad, int64_t To, int32_t *out)
{
    const int64_t span = d * (k - 1) + 1;
    for (int n = 0; n < N; n++) {
        int64_t L = pad == RNN_PADDING_SAME ? (LV[n] + s - 1) / s
                    : LV[n] >= span         ? (LV[n] - span) / s + 1
                                            : 1;
        out[n] = (int32_t)(L < 1 ? 1 : L > To ? To : L);
    }
}

static int64_t steps_of(rnn_model *m, rnn_tensor *x)
{
    const rnn_tensor *in[1] = {x}, *y;
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &y));
    int64_t To;
    ck_ok(rnn_tensor_dim(y, 1, &To));
    return To;
}

static const struct {
    int64_t k, s, d;
    rnn_padding pad;
    rnn_activation act;
} CASES[] = {
    {3, 1, 1, RNN_PADDING_VALID, RNN_ACT_LINEAR}, {3, 1, 1, RNN_PADDING_SAME, RNN_ACT_TANH},
    {4, 2, 1, RNN_PADDING_SAME, RNN_ACT_LINEAR},  {2, 3, 1, RNN_PADDING_VALID, RNN_ACT_SIGMOID},
    {3, 1, 2, RNN_PADDING_SAME, RNN_ACT_LINEAR},  {5, 1, 1, RNN_PADDING_SAME, RNN_ACT_SOFTMAX},
    {2, 1, 3, RNN_PADDING_VALID, RNN_ACT_RELU},
};

START_TEST(conv1d)
{
    int64_t xd[3] = {N, T, F};
    for (int be = 0; be < 2; be++)
        for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++)
            for (int with_len = 0; with_len < 2; with_len++) {
                rnn_model *m = new_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN);
                rnn_conv1d_options co;
                rnn_conv1d_options_init(&co);
                co.filters = 3, co.kernel_size = CASES[c].k, co.strides = CASES[c].s;
                co.dilation_rate = CASES[c].d, co.padding = CASES[c].pad;
                co.activation = CASES[c].act;
                rnn_layer *l;
                ck_ok(rnn_model_add_conv1d(m, &co, &l));
                rnn_tensor *b; /* a non-zero bias so that the bias path is exercised */
                ck_ok(rnn_layer_param(l, 1, NULL, &b, NULL));
                for (int i = 0; i < 3; i++)
                    tm_f(b)[i] = 0.1f * (float)(i + 1);
                ck_ok(rnn_layer_params_changed(l));
                tm_rng = 0x51ull + c;
                rnn_tensor *x = tm_tensor(3, xd, 1.0), *len = with_len ? lengths() : NULL;
                int32_t ol[N];
                out_len(CASES[c].k, CASES[c].s, CASES[c].d, CASES[c].pad, steps_of(m, x), ol);
                gc_options o;
                gc_options_init(&o);
                o.eps = CASES[c].act == RNN_ACT_RELU ? 1e-3 : 1e-2;
                o.out_len[0] = with_len ? ol : NULL;
                char what[96];
                snprintf(what, sizeof what, "conv1d k%lld s%lld d%lld %s act %d%s %s",
                         (long long)CASES[c].k, (long long)CASES[c].s, (long long)CASES[c].d,
                         CASES[c].pad == RNN_PADDING_SAME ? "same" : "valid", (int)CASES[c].act,
                         with_len ? " lengths" : "", be ? "reference" : "onednn");
                gc_model(m, 1, &x, &len, &o, what);
                rnn_tensor_destroy(x);
                rnn_tensor_destroy(len);
                rnn_model_destroy(m);
            }
}
END_TEST

START_TEST(max_pooling1d)
{
    static const struct {
        int64_t pool, strides;
    } P[] = {{2, 0}, {3, 1}, {2, 3}};
    int64_t xd[3] = {N, T, F};
    for (int be = 0; be < 2; be++)
        for (size_t p = 0; p < sizeof P / sizeof P[0]; p++)
            for (int pad = 0; pad < 2; pad++)
                for (int with_len = 0; with_len < 2; with_len++) {
                    rnn_model *m = new_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN);
                    rnn_padding pd = pad ? RNN_PADDING_SAME : RNN_PADDING_VALID;
                    ck_ok(rnn_model_add_max_pooling1d(m, P[p].pool, P[p].strides, pd, NULL));
                    tm_rng = 0x77ull + p;
                    rnn_tensor *x = tm_tensor(3, xd, 1.0), *len = with_len ? lengths() : NULL;
                    int32_t ol[N];
                    out_len(P[p].pool, P[p].strides ? P[p].strides : P[p].pool, 1, pd,
                            steps_of(m, x), ol);
                    gc_options o;
                    gc_options_init(&o);
                    o.eps = 1e-3; /* max: no near-ties crossed */
                    o.out_len[0] = with_len ? ol : NULL;
                    char what[96];
                    snprintf(what, sizeof what, "max_pooling1d %lld/%lld %s%s %s",
                             (long long)P[p].pool, (long long)P[p].strides,
                             pad ? "same" : "valid", with_len ? " lengths" : "",
                             be ? "reference" : "onednn");
                    gc_model(m, 1, &x, &len, &o, what);
                    rnn_tensor_destroy(x);
                    rnn_tensor_destroy(len);
                    rnn_model_destroy(m);
                }
}
END_TEST

void gc_add_conv(TCase *tc)
{
    tcase_add_test(tc, conv1d);
    tcase_add_test(tc, max_pooling1d);
}
