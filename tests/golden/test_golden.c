/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden parity with PyTorch (fixtures from gen_fixtures.py): for every case
 * (RNN tanh/relu, LSTM, GRU; uni/bidirectional; 1 or 2 layers; uniform or
 * variable lengths; with and without initial states), a librnn model with
 * PyTorch's weights imported through RNN_WEIGHTS_PYTORCH must give PyTorch's
 * outputs, final states and every gradient, on both backends.
 * Parameter gradients are converted to PyTorch's layout HERE, independently
 * of the library's import code.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../unit/test_util.h"
#include "fixture.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must name the fixtures folder"
#endif

#define TOL 1e-5

static char names[64][64];
static int n_names;
static double worst_err;

static int load_index(void)
{
    FILE *f = fopen(GOLDEN_DIR "/index.txt", "r");
    if (!f) {
        fprintf(stderr, "cannot open %s/index.txt\n", GOLDEN_DIR);
        return -1;
    }
    char line[256];
    while (fgets(line, sizeof line, f) && n_names < 64) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        snprintf(names[n_names++], sizeof names[0], "%.63s", line);
    }
    fclose(f);
    return n_names > 0 ? 0 : -1;
}

static const fx_array *need(const fx_file *f, const char *name)
{
    const fx_array *a = fx_get(f, name);
    ck_assert_msg(a != NULL, "fixture has no array %s", name);
    return a;
}

/* |a - b| <= TOL * (|b| + 1e-2 * max|B|): relative error, with a floor of 1%
 * of the array's scale so entries that are nearly zero do not dominate. */
static void compare(const char *ctx, const char *what, const float *a, const float *b, int64_t n)
{
    double scale = 0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs((double)b[i]));
    for (int64_t i = 0; i < n; i++) {
        double den = fabs((double)b[i]) + 1e-2 * scale + 1e-30;
        double e = fabs((double)a[i] - b[i]) / den;
        worst_err = fmax(worst_err, e);
        ck_assert_msg(e <= TOL, "%s: %s[%lld] = %.8g, PyTorch %.8g (rel err %.2g)", ctx, what,
                      (long long)i, (double)a[i], (double)b[i], e);
    }
}

static float *tdata(const rnn_tensor *t)
{
    void *p;
    rnn_tensor_data((rnn_tensor *)t, &p);
    return p;
}

static rnn_tensor *wrap_copy(const fx_array *a)
{
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, a->rank, a->dims, &t));
    memcpy(tdata(t), a->data, (size_t)a->numel * 4);
    return t;
}

/* (T, N, C) time-major <-> (N, T, C) batch-major. */
static void tn_to_nt(float *dst, const float *src, int64_t T, int64_t N, int64_t C)
{
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = 0; n < N; n++)
            memcpy(dst + (n * T + t) * C, src + (t * N + n) * C, sizeof(float) * (size_t)C);
}

static void run_case(const char *name, rnn_backend be)
{
    char path[512], err[256], ctx[160];
    snprintf(path, sizeof path, "%s/%s.bin", GOLDEN_DIR, name);
    snprintf(ctx, sizeof ctx, "%s [%s]", name, be == RNN_BACKEND_ONEDNN ? "onednn" : "reference");
    fx_file f;
    ck_assert_msg(fx_load(path, &f, err, sizeof err) == 0, "%s", err);
    const int32_t *cfg = need(&f, "config")->data;
    const int cell = cfg[0], T = cfg[1], N = cfg[2], I = cfg[3], H = cfg[4], L = cfg[5];
    const int bi = cfg[6], has_h0 = cfg[7], D = bi ? 2 : 1, lstm = cell == 2, ns = lstm ? 2 : 1;

    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    rnn_model *m = NULL;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, I};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    rnn_layer *layers[4];
    for (int k = 0; k < L; k++) {
        rnn_recurrent_options o;
        rnn_recurrent_options_init(&o, cell == 2 ? RNN_LSTM : cell == 3 ? RNN_GRU : RNN_SIMPLE_RNN);
        o.units = H;
        o.activation = cell == 1 ? RNN_ACT_RELU : RNN_ACT_TANH;
        o.return_sequences = 1;
        o.return_state = 1;
        o.bidirectional = bi;
        ck_ok(rnn_model_add_recurrent(m, &o, &layers[k]));
        /* Import PyTorch's weights for layer k. */
        int nw;
        ck_ok(rnn_layer_weights_count(layers[k], RNN_WEIGHTS_PYTORCH, &nw));
        rnn_tensor *w[8];
        for (int i = 0; i < nw; i++) {
            const char *wn;
            int64_t dims[RNN_MAX_RANK];
            int rank;
            ck_ok(rnn_layer_weights_shape(layers[k], RNN_WEIGHTS_PYTORCH, i, dims, &rank, &wn));
            char full[64];
            snprintf(full, sizeof full, "%.*s%d%s", (int)(strstr(wn, "_l0") - wn + 2), wn, k,
                     strstr(wn, "_reverse") ? "_reverse" : "");
            w[i] = wrap_copy(need(&f, full));
        }
        ck_ok(rnn_layer_set_weights(layers[k], RNN_WEIGHTS_PYTORCH, nw,
                                    (const rnn_tensor *const *)w));
        for (int i = 0; i < nw; i++)
            rnn_tensor_destroy(w[i]);
        if (has_h0) {
            rnn_tensor *s[4];
            int64_t sd[2] = {N, H};
            for (int d = 0; d < D; d++)
                for (int j = 0; j < ns; j++) {
                    const fx_array *src = need(&f, j == 0 ? "h0" : "c0");
                    ck_ok(rnn_tensor_create(RNN_F32, 2, sd, &s[d * ns + j]));
                    memcpy(tdata(s[d * ns + j]), (float *)src->data + (k * D + d) * N * H,
                           sizeof(float) * (size_t)(N * H));
                }
            ck_ok(rnn_layer_set_initial_state(layers[k], D * ns, (const rnn_tensor *const *)s));
            for (int i = 0; i < D * ns; i++)
                rnn_tensor_destroy(s[i]);
        }
    }
    /* Inputs, batch-major. */
    int64_t xd[3] = {N, T, I}, ld[1] = {N};
    rnn_tensor *x = NULL, *len = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    tn_to_nt(tdata(x), need(&f, "x")->data, T, N, I);
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
    memcpy(tdata(len), need(&f, "lengths")->data, sizeof(int32_t) * (size_t)N);
    const rnn_tensor *in[1] = {x}, *lens[1] = {len};
    ck_ok(rnn_model_forward(m, 1, in, lens, 1));

    /* Outputs: sequence, then the last layer's final states. */
    const rnn_tensor *y;
    ck_ok(rnn_model_output(m, 0, &y));
    float *yref = malloc(sizeof(float) * (size_t)(T * N * D * H));
    tn_to_nt(yref, need(&f, "y")->data, T, N, D * H);
    compare(ctx, "y", tdata(y), yref, (int64_t)T * N * D * H);
    for (int d = 0; d < D; d++)
        for (int j = 0; j < ns; j++) {
            const rnn_tensor *s;
            ck_ok(rnn_model_output(m, 1 + d * ns + j, &s));
            const float *ref = (const float *)need(&f, j == 0 ? "hn" : "cn")->data +
                               ((L - 1) * D + d) * N * H;
            compare(ctx, j == 0 ? "hn" : "cn", tdata(s), ref, (int64_t)N * H);
        }

    /* Backward from L = sum(y*Ry) + sum(hn_last*Rh) + sum(cn_last*Rc). */
    rnn_tensor *g[5] = {0};
    int64_t yd[3] = {N, T, D * H}, sd[2] = {N, H};
    ck_ok(rnn_tensor_create(RNN_F32, 3, yd, &g[0]));
    tn_to_nt(tdata(g[0]), need(&f, "Ry")->data, T, N, D * H);
    for (int d = 0; d < D; d++)
        for (int j = 0; j < ns; j++) {
            ck_ok(rnn_tensor_create(RNN_F32, 2, sd, &g[1 + d * ns + j]));
            memcpy(tdata(g[1 + d * ns + j]),
                   (const float *)need(&f, j == 0 ? "Rh" : "Rc")->data + ((L - 1) * D + d) * N * H,
                   sizeof(float) * (size_t)(N * H));
        }
    ck_ok(rnn_model_zero_grad(m));
    ck_ok(rnn_model_backward(m, 1 + D * ns, (const rnn_tensor *const *)g));
    const rnn_tensor *dx;
    ck_ok(rnn_model_input_grad(m, 0, &dx));
    float *dxref = malloc(sizeof(float) * (size_t)(T * N * I));
    tn_to_nt(dxref, need(&f, "grad_x")->data, T, N, I);
    compare(ctx, "grad_x", tdata(dx), dxref, (int64_t)T * N * I);

    const int G = cell == 2 ? 4 : cell == 3 ? 3 : 1, GH = G * H;
    float *buf = malloc(sizeof(float) * (size_t)(GH * (I > D * H ? I : D * H) + 2 * GH));
    for (int k = 0; k < L; k++) {
        const int64_t In = k == 0 ? I : D * H;
        for (int d = 0; d < D; d++) {
            const char *suf = d ? "_reverse" : "";
            char pn[64];
            rnn_tensor *gk, *gr, *gb;
            int pi;
            const char *pre = !bi ? "" : d == 0 ? "forward/" : "backward/";
            snprintf(pn, sizeof pn, "%skernel", pre);
            ck_ok(rnn_layer_find_param(layers[k], pn, &pi));
            ck_ok(rnn_layer_param(layers[k], pi, NULL, NULL, &gk));
            snprintf(pn, sizeof pn, "%srecurrent_kernel", pre);
            ck_ok(rnn_layer_find_param(layers[k], pn, &pi));
            ck_ok(rnn_layer_param(layers[k], pi, NULL, NULL, &gr));
            snprintf(pn, sizeof pn, "%sbias", pre);
            ck_ok(rnn_layer_find_param(layers[k], pn, &pi));
            ck_ok(rnn_layer_param(layers[k], pi, NULL, NULL, &gb));
            /* Keras (in, G*H) -> PyTorch (G*H, in); GRU swaps gates z,r -> r,z. */
            const float *srcs[2] = {tdata(gk), tdata(gr)};
            const int64_t ins[2] = {In, H};
            const char *tn[2] = {"grad_weight_ih", "grad_weight_hh"};
            for (int w = 0; w < 2; w++) {
                for (int pg = 0; pg < G; pg++) {
                    int kg = cell == 3 && pg < 2 ? 1 - pg : pg;
                    for (int j = 0; j < H; j++)
                        for (int64_t i = 0; i < ins[w]; i++)
                            buf[(pg * H + j) * ins[w] + i] = srcs[w][i * GH + kg * H + j];
                }
                snprintf(pn, sizeof pn, "%s_l%d%s", tn[w], k, suf);
                compare(ctx, pn, buf, need(&f, pn)->data, (int64_t)GH * ins[w]);
            }
            /* Biases: LSTM/RNN have one Keras bias = d(b_ih) = d(b_hh); GRU (2, 3H). */
            for (int row = 0; row < 2; row++) {
                for (int pg = 0; pg < G; pg++) {
                    int kg = cell == 3 && pg < 2 ? 1 - pg : pg;
                    for (int j = 0; j < H; j++)
                        buf[pg * H + j] = tdata(gb)[(cell == 3 ? row * GH : 0) + kg * H + j];
                }
                snprintf(pn, sizeof pn, "grad_bias_%s_l%d%s", row ? "hh" : "ih", k, suf);
                compare(ctx, pn, buf, need(&f, pn)->data, GH);
            }
        }
        if (has_h0)
            for (int d = 0; d < D; d++)
                for (int j = 0; j < ns; j++) {
                    const rnn_tensor *ds;
                    ck_ok(rnn_layer_initial_state_grad(layers[k], d * ns + j, &ds));
                    const float *ref = (const float *)need(&f, j == 0 ? "grad_h0" : "grad_c0")->data +
                                       (k * D + d) * N * H;
                    compare(ctx, j == 0 ? "grad_h0" : "grad_c0", tdata(ds), ref, (int64_t)N * H);
                }
    }
    free(buf);
    free(yref);
    free(dxref);
    for (int i = 0; i < 5; i++)
        rnn_tensor_destroy(g[i]);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(len);
    rnn_model_destroy(m);
    fx_free(&f);
}

START_TEST(golden_onednn)
{
    run_case(names[_i], RNN_BACKEND_ONEDNN);
}
END_TEST

START_TEST(golden_reference)
{
    run_case(names[_i], RNN_BACKEND_REFERENCE);
}
END_TEST

START_TEST(truncated_fixture_fails_cleanly)
{
    char src[512], dst[] = "/tmp/rnn_golden_truncXXXXXX", err[256];
    snprintf(src, sizeof src, "%s/%s.bin", GOLDEN_DIR, names[0]);
    FILE *in = fopen(src, "rb");
    ck_assert_ptr_nonnull(in);
    char data[4096];
    size_t n = fread(data, 1, sizeof data, in);
    fclose(in);
    int fd = mkstemp(dst);
    ck_assert_int_ge(fd, 0);
    FILE *out = fdopen(fd, "wb");
    fwrite(data, 1, n / 2, out);
    fclose(out);
    fx_file f;
    ck_assert_int_eq(fx_load(dst, &f, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    remove(dst);
}
END_TEST

static void report(void)
{
    printf("worst relative error against PyTorch: %.3g (bound %.0e)\n", worst_err, TOL);
}

int main(void)
{
    if (load_index())
        return 1;
    Suite *s = suite_create("golden");
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, golden_onednn, 0, n_names);
    tcase_add_loop_test(tc, golden_reference, 0, n_names);
    tcase_add_test(tc, truncated_fixture_fails_cleanly);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* so worst_err accumulates */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    report();
    return failed ? 1 : 0;
}
