/* SPDX-License-Identifier: Apache-2.0 */
/* The inference step path of the oneDNN backend (backend/step.c: T = 1, up to
 * RNN__STEP_MAX_N samples, f32) against the reference backend: every cell,
 * sizes that fill whole 64-column panels and sizes that do not, with and
 * without initial states, several consecutive steps with the weights changed
 * in between (the packed copy must follow their version), the same step twice
 * (the path walks its weights in the other order on every other call: no bit may
 * change), and a training
 * forward afterwards (back on oneDNN, whose backward must still work). Where
 * the CPU lacks AVX-512F the path is not eligible and the test says so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "test_util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float *randoms(int64_t n, float scale)
{
    float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = rnn_test_uniform(&rng_state) * scale;
    return p;
}

#define max_err rnn_test_max_rel_err

typedef struct step_case {
    rnn__cell cell;
    int64_t N, I, H;
    int with_h0;
} step_case;

static const step_case CASES[] = {
    {RNN__CELL_LBR_GRU, 1, 256, 512, 1}, {RNN__CELL_LSTM, 1, 256, 512, 1},
    {RNN__CELL_GRU, 1, 256, 512, 1},     {RNN__CELL_RNN_TANH, 1, 256, 512, 1},
    {RNN__CELL_LBR_GRU, 3, 5, 37, 1},    {RNN__CELL_LSTM, 4, 7, 37, 1},
    {RNN__CELL_GRU, 2, 9, 70, 1},        {RNN__CELL_RNN_RELU, 4, 3, 65, 1},
    {RNN__CELL_RNN_TANH, 2, 1, 1, 1},    {RNN__CELL_LSTM, 2, 33, 130, 0},
    {RNN__CELL_GRU, 1, 16, 16, 0},       {RNN__CELL_LBR_GRU, 4, 64, 64, 0},
};
#define N_CASES (int)(sizeof CASES / sizeof CASES[0])

START_TEST(step_equals_reference)
{
    const step_case *c = &CASES[_i % N_CASES];
    /* the second pass: mixed precision (bf16 products, f32 accumulation, h
     * rounded to bf16), where the CPU has AVX512-BF16; the reference emulates
     * the same rounding, so the two differ by f32 sums and an occasional last
     * bf16 bit of h (2^-8 relative) */
    const int bf16 = _i >= N_CASES;
    const double tol = bf16 ? 1e-2 : 2e-6;
    const int64_t N = c->N, I = c->I, H = c->H, G = rnn__cell_gates(c->cell),
                  Gb = rnn__cell_bias_gates(c->cell);
    const int lstm = c->cell == RNN__CELL_LSTM;
    rnn__ctx *ctx;
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &ctx));
    rnn__rnn_fwd probe = {.T = 1, .N = N, .bf16 = bf16};
    if (!rnn__step_eligible(&probe)) {
        fprintf(stderr, "step path%s not eligible on this CPU: comparing oneDNN itself\n",
                bf16 ? " in bf16" : "");
        const char *isa;
        if (bf16 && !rnn__ctx_bf16_ok(ctx, &isa)) { /* oneDNN refuses bf16 there too */
            rnn__ctx_destroy(ctx);
            return;
        }
    }
    rnn__rnn_shape s = {.cell = c->cell, .T = 4, .N = 4, .I = I, .H = H};
    rnn__rnn_kernel *kd, *kr;
    ck_ok(rnn__rnn_create(ctx, &s, &kd));
    ck_ok(rnn__rnn_create_ref(&s, &kr));
    const float scale = 1.0f / sqrtf((float)(I + H));
    float *wx = randoms(I * G * H, 2 * scale), *wh = randoms(H * G * H, 2 * scale),
          *b = randoms(Gb * H, 0.5f);
    rnn__rnn_weights w = {wx, wh, b, 1};
    float *h = c->with_h0 ? randoms(N * H, 1) : NULL, *cs = c->with_h0 ? randoms(N * H, 1) : NULL;
    float *yd = randoms(N * H, 1), *yr = randoms(N * H, 1), *hd = randoms(N * H, 1),
          *hr = randoms(N * H, 1), *cd = randoms(N * H, 1), *cr = randoms(N * H, 1);
    for (int step = 0; step < 3; step++) {
        float *x = randoms(N * I, 1);
        rnn__rnn_fwd fd = {.T = 1, .N = N, .x = x, .h0 = h, .c0 = lstm ? cs : NULL, .y = yd,
                           .hT = hd, .cT = lstm ? cd : NULL, .bf16 = bf16};
        rnn__rnn_fwd fr = fd;
        fr.y = yr;
        fr.hT = hr;
        fr.cT = lstm ? cr : NULL;
        ck_ok(rnn__rnn_forward(kd, &w, &fd));
        ck_ok(rnn__rnn_forward(kr, &w, &fr));
        double e = max_err(yd, yr, N * H);
        ck_assert_msg(e < tol, "cell %d N %lld I %lld H %lld bf16 %d step %d: y differs by %g",
                      (int)c->cell, (long long)N, (long long)I, (long long)H, bf16, step, e);
        ck_assert_msg(max_err(hd, yr, N * H) < tol, "hT differs from y");
        if (lstm)
            ck_assert_msg(max_err(cd, cr, N * H) < tol, "cT differs by %g",
                          max_err(cd, cr, N * H));
        if (bf16) /* h is a bf16 value */
            for (int64_t i = 0; i < N * H; i++) {
                uint32_t u;
                memcpy(&u, &yd[i], sizeof u);
                ck_assert_msg((u & 0xffffu) == 0, "y[%lld] = %.9g is not a bf16 value",
                              (long long)i, (double)yd[i]);
            }
        /* carry the state; change the weights in place (a new version) */
        if (!h) {
            h = randoms(N * H, 0);
            cs = randoms(N * H, 0);
        }
        for (int64_t i = 0; i < N * H; i++) {
            h[i] = yr[i];
            cs[i] = lstm ? cr[i] : 0.0f;
        }
        for (int64_t i = 0; i < H * G * H; i += 7)
            wh[i] += 0.01f;
        w.version++;
        free(x);
    }
    /* The same step twice in a row: the step path walks its weights forwards on one call
     * and backwards on the next (step.c), and the order changes no bit of the result. */
    {
        float *x = randoms(N * I, 1), *y1 = randoms(N * H, 1);
        rnn__rnn_fwd f1 = {.T = 1, .N = N, .x = x, .h0 = h, .c0 = lstm ? cs : NULL, .y = y1,
                           .hT = hd, .cT = lstm ? cd : NULL, .bf16 = bf16};
        rnn__rnn_fwd f2 = f1;
        f2.y = yd;
        ck_ok(rnn__rnn_forward(kd, &w, &f1));
        ck_ok(rnn__rnn_forward(kd, &w, &f2));
        ck_assert_msg(!memcmp(y1, yd, sizeof(float) * (size_t)(N * H)),
                      "cell %d N %lld H %lld bf16 %d: two calls on the same step differ",
                      (int)c->cell, (long long)N, (long long)H, bf16);
        free(x);
        free(y1);
    }
    /* A training forward after the steps runs on oneDNN, and its backward works;
     * a backward right after an inference step is refused. */
    float *x2 = randoms(2 * N * I, 1), *y2 = randoms(2 * N * H, 1), *dy = randoms(2 * N * H, 1);
    float *dx = randoms(2 * N * I, 1);
    rnn__rnn_fwd ft = {.T = 2, .N = N, .x = x2, .y = y2, .training = 1, .bf16 = bf16};
    ck_ok(rnn__rnn_forward(kd, &w, &ft));
    rnn__rnn_bwd bw = {.dy = dy, .dx = dx};
    ck_ok(rnn__rnn_backward(kd, &w, &ft, &bw));
    rnn__rnn_fwd fi = {.T = 1, .N = N, .x = x2, .y = y2, .bf16 = bf16};
    ck_ok(rnn__rnn_forward(kd, &w, &fi));
    if (rnn__step_eligible(&fi))
        ck_rnn(rnn__rnn_backward(kd, &w, &fi, &bw), RNN_ERR_STATE);
    free(x2);
    free(y2);
    free(dy);
    free(dx);
    free(wx);
    free(wh);
    free(b);
    free(h);
    free(cs);
    free(yd);
    free(yr);
    free(hd);
    free(hr);
    free(cd);
    free(cr);
    rnn__rnn_destroy(kd);
    rnn__rnn_destroy(kr);
    rnn__ctx_destroy(ctx);
}
END_TEST

static Suite *step_suite(void)
{
    Suite *s = suite_create("step");
    TCase *tc = tcase_create("step");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, step_equals_reference, 0, 2 * N_CASES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rnn_test_run(step_suite());
}
