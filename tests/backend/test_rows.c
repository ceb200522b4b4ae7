/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recurrent kernels on rows that are not dense time-major (backend.h's rnn__rows), as a
 * layer passes them: x batch-major (N, T, I) in place, y and dy as one half of a
 * bidirectional layer's concatenated (N, T, 2H), dx batch-major and added to (dx_add) or
 * written (a layer's first write into a fresh gradient). On both backends, every cell, both
 * directions, with and without lengths, uncapped and with the workspace capped to one step a
 * chunk, and one inference step (where the step kernel takes dense rows only): the same
 * numbers as the dense time-major call, the other half of y untouched, y's rows past a
 * sample's length zero, dx's left as they were (added to) or zero (written).
 */
#include <math.h>

#include "backend/backend.h"
#include "../unit/test_util.h"

enum { T = 7, N = 4, I = 6, H = 4 }; /* N: at most RNN__STEP_MAX_N, for the step */

static uint64_t seed; /* rnn_test_uniform's state */

static float *arr(int64_t n, float fill, int random)
{
    float *p = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        p[i] = random ? 0.5f * rnn_test_uniform(&seed) : fill;
    return p;
}

/* What one forward + backward produced. */
typedef struct result {
    float *y, *hT, *dx, *dh0, *dwx, *dwh, *db;
} result;

static void result_free(result *r)
{
    float *all[] = {r->y, r->hT, r->dx, r->dh0, r->dwx, r->dwh, r->db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

static const float SENTINEL = 7.0f, BASE = 0.25f;

/* Forward (+ backward when Tn > 1) on kernel k with the same inputs, dense time-major rows
 * (strided = 0) or batch-major x and dx (1: added to BASE, 2: written over BASE) and y, dy as
 * columns [H, 2H) of an (N, T, 2H) array whose columns [0, H) hold SENTINEL. Results are
 * returned dense time-major (dx without BASE); the strided call's untouched entries are
 * checked here. */
static void run(rnn__rnn_kernel *k, rnn__cell cell, int64_t Tn, const int32_t *len, int strided,
                result *out)
{
    const int G = rnn__cell_gates(cell), Gb = rnn__cell_bias_gates(cell);
    seed = 11;
    float *x = arr(Tn * N * I, 0, 1), *wx = arr(I * G * H, 0, 1), *wh = arr(H * G * H, 0, 1);
    float *b = arr(Gb * H, 0, 1), *dy = arr(Tn * N * H, 0, 1);
    rnn__rnn_weights w = {wx, wh, b, 1};
    rnn__rows xr = {0, 0}, yr = {0, 0};
    const float *xin = x;
    float *xb = NULL, *yb = NULL, *dyb = NULL, *dxb = NULL;
    if (strided) { /* the same values, batch-major; y and dy in the second half of 2H */
        xb = arr(N * Tn * I, 0, 0), yb = arr(N * Tn * 2 * H, SENTINEL, 0);
        dyb = arr(N * Tn * 2 * H, 0, 0), dxb = arr(N * Tn * I, BASE, 0);
        for (int64_t t = 0; t < Tn; t++)
            for (int64_t n = 0; n < N; n++) {
                memcpy(xb + (n * Tn + t) * I, x + (t * N + n) * I, sizeof(float) * I);
                memcpy(dyb + (n * Tn + t) * 2 * H + H, dy + (t * N + n) * H, sizeof(float) * H);
            }
        xin = xb;
        xr = (rnn__rows){I, Tn * I}, yr = (rnn__rows){2 * H, Tn * 2 * H};
    }
    out->y = arr(Tn * N * H, 0, 0), out->hT = arr(N * H, 0, 0), out->dx = arr(Tn * N * I, 0, 0);
    out->dh0 = arr(N * H, 0, 0), out->dwx = arr(I * G * H, 0, 0), out->dwh = arr(H * G * H, 0, 0);
    out->db = arr(Gb * H, 0, 0);
    rnn__rnn_fwd f = {.T = Tn, .N = N, .x = xin, .lengths = len, .y = strided ? yb + H : out->y,
                      .hT = out->hT, .training = Tn > 1, .x_rows = xr, .y_rows = yr};
    ck_ok(rnn__rnn_forward(k, &w, &f));
    if (Tn > 1) {
        rnn__rnn_bwd g = {.dy = strided ? dyb + H : dy, .dx = strided ? dxb : out->dx,
                          .dh0 = out->dh0, .dwx = out->dwx, .dwh = out->dwh, .db = out->db,
                          .dy_rows = yr, .dx_rows = xr, .dx_add = strided == 1};
        ck_ok(rnn__rnn_backward(k, &w, &f, &g));
    }
    for (int64_t t = 0; strided && t < Tn; t++)
        for (int64_t n = 0; n < N; n++) {
            const float *yrow = yb + (n * Tn + t) * 2 * H, *dxrow = dxb + (n * Tn + t) * I;
            const int64_t L = len ? len[n] : Tn;
            for (int64_t j = 0; j < H; j++) {
                ck_assert_msg(yrow[j] == SENTINEL, "y's other half written (t %lld n %lld)",
                              (long long)t, (long long)n);
                ck_assert_msg(t < L || yrow[H + j] == 0.0f, "y past the length not zero");
                out->y[(t * N + n) * H + j] = yrow[H + j];
            }
            for (int64_t i = 0; Tn > 1 && i < I; i++) {
                const float base = strided == 1 ? BASE : 0.0f;
                ck_assert_msg(t < L || dxrow[i] == base, "dx past the length not %g", base);
                out->dx[(t * N + n) * I + i] = dxrow[i] - base;
            }
        }
    free(x), free(wx), free(wh), free(b), free(dy), free(xb), free(yb), free(dyb), free(dxb);
}

static void compare(const result *a, const result *b, rnn__cell cell, int64_t Tn, double tol,
                    const char *what)
{
    const int G = rnn__cell_gates(cell), Gb = rnn__cell_bias_gates(cell);
    const float *pa[] = {a->y, a->hT, a->dx, a->dh0, a->dwx, a->dwh, a->db};
    const float *pb[] = {b->y, b->hT, b->dx, b->dh0, b->dwx, b->dwh, b->db};
    const int64_t n[] = {Tn * N * H, N * H, Tn * N * I, N * H, I * G * H, H * G * H, Gb * H};
    static const char *const names[] = {"y", "hT", "dx", "dh0", "dwx", "dwh", "db"};
    for (int i = 0; i < (Tn > 1 ? 7 : 2); i++) {
        double e = rnn_test_norm_rel(pa[i], pb[i], n[i]);
        ck_assert_msg(e <= tol, "%s: %s differs by %g (cell %d)", what, names[i], e, (int)cell);
    }
}

START_TEST(strided_rows_equal_dense_rows)
{
    static const rnn__cell cells[] = {RNN__CELL_RNN_TANH, RNN__CELL_LSTM, RNN__CELL_GRU,
                                      RNN__CELL_LBR_GRU};
    static const int32_t lens[N] = {3, 7, 1, 5};
    rnn__ctx *ctx[2];
    ck_ok(rnn__ctx_create(RNN__BACKEND_REF, &ctx[0]));
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &ctx[1]));
    for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++)
        for (int reverse = 0; reverse < 2; reverse++)
            for (int varlen = 0; varlen < 2; varlen++)
                for (int64_t Tn = 1; Tn <= T; Tn += T - 1) {
                    const int32_t *len = varlen && Tn == T ? lens : NULL;
                    rnn__rnn_shape sh = {cells[c], T, N, I, H, reverse};
                    /* [backend][dense, added, written, added capped, written capped] */
                    result r[2][5];
                    for (int be = 0; be < 2; be++)
                        for (int s = 0; s < 5; s++) {
                            rnn__rnn_kernel *k;
                            ck_ok(rnn_set_workspace_limit(s > 2 ? 1 : 0));
                            ck_ok(rnn__rnn_create(ctx[be], &sh, &k));
                            run(k, cells[c], Tn, len, s > 2 ? s - 2 : s, &r[be][s]);
                            rnn__rnn_destroy(k);
                        }
                    ck_ok(rnn_set_workspace_limit(0));
                    /* one step: the dense call runs on the step kernel (its own sums); the
                     * capped runs sum the weight gradients chunk by chunk */
                    for (int s = 1; s < 5; s++) {
                        compare(&r[0][s], &r[0][0], cells[c], Tn, 1e-6, "reference, strided");
                        compare(&r[1][s], &r[1][0], cells[c], Tn, Tn == 1 ? 1e-5 : 1e-6,
                                "oneDNN, strided");
                        compare(&r[1][s], &r[0][0], cells[c], Tn, 1e-4,
                                "oneDNN against reference");
                    }
                    for (int i = 0; i < 10; i++)
                        result_free(&r[i / 5][i % 5]);
                }
    rnn__ctx_destroy(ctx[0]);
    rnn__ctx_destroy(ctx[1]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backend-rows");
    TCase *tc = tcase_create("rows");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, strided_rows_equal_dense_rows);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
