/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regression tests for the traps of Debian's oneDNN 2.6 build
 * (shared/notes/onednn-2.6.md), on the recurrent kernels directly:
 *  1. a NULL src_iter gives a wrong diff_weights_iter (LSTM, vanilla RNN):
 *     kernels must pass explicit zeros, so h0 = NULL must match the reference;
 *  2. primitives executed from another thread than their creator crash in
 *     the default scratchpad mode: create here, run on a pthread;
 *  3. diff weights accumulate: backward twice gives twice the gradient, and
 *     the kernel contract (ACCUMULATE) holds across variable-length segments.
 * Plus: new weight versions are picked up after a reorder cache hit; the
 * primitive caches stay bounded and evict nothing a batch still needs.
 */
#include <math.h>
#include <pthread.h>

#include "backend/backend.h"
#include "backend/onednn_internal.h"
#include "../unit/test_util.h"

typedef struct bufs {
    int64_t T, N, I, H, G, Gb;
    float *x, *wx, *wh, *b, *y, *hT, *cT, *dy, *dx, *dh0, *dwx, *dwh, *db;
} bufs;

static uint64_t seed = 7;
static float rnd(void)
{
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(seed >> 11) / 9007199254740992.0 * 2 - 1);
}

static float *arr(int64_t n, int random)
{
    float *p = calloc((size_t)n, sizeof(float));
    for (int64_t i = 0; random && i < n; i++)
        p[i] = 0.5f * rnd();
    return p;
}

static void bufs_init(bufs *B, rnn__cell cell, int64_t T, int64_t N, int64_t I, int64_t H)
{
    seed = 7;
    B->T = T, B->N = N, B->I = I, B->H = H;
    B->G = rnn__cell_gates(cell), B->Gb = rnn__cell_bias_gates(cell);
    int64_t GH = B->G * H;
    B->x = arr(T * N * I, 1), B->wx = arr(I * GH, 1), B->wh = arr(H * GH, 1);
    B->b = arr(B->Gb * H, 1), B->dy = arr(T * N * H, 1);
    B->y = arr(T * N * H, 0), B->hT = arr(N * H, 0), B->cT = arr(N * H, 0);
    B->dx = arr(T * N * I, 0), B->dh0 = arr(N * H, 0);
    B->dwx = arr(I * GH, 0), B->dwh = arr(H * GH, 0), B->db = arr(B->Gb * H, 0);
}

static void bufs_free(bufs *B)
{
    float *all[] = {B->x, B->wx, B->wh, B->b, B->y, B->hT, B->cT, B->dy, B->dx, B->dh0, B->dwx,
                    B->dwh, B->db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

/* Forward + backward (h0 = NULL) on kernel k; gradients accumulate into B. */
static rnn_status fwd_bwd(rnn__rnn_kernel *k, bufs *B, const int32_t *lengths, uint64_t version)
{
    rnn__rnn_weights w = {B->wx, B->wh, B->b, version};
    rnn__rnn_fwd f = {.T = B->T, .N = B->N, .x = B->x, .lengths = lengths, .y = B->y,
                      .hT = B->hT, .cT = B->cT, .training = 1};
    rnn_status st = rnn__rnn_forward(k, &w, &f);
    if (st)
        return st;
    rnn__rnn_bwd b = {.dy = B->dy, .dx = B->dx, .dh0 = B->dh0, .dwx = B->dwx, .dwh = B->dwh,
                      .db = B->db};
    return rnn__rnn_backward(k, &w, &f, &b);
}

static double rel(const float *a, const float *b, int64_t n)
{
    double e = 0;
    for (int64_t i = 0; i < n; i++)
        e = fmax(e, fabs((double)a[i] - b[i]) / (1e-3 + fabs((double)b[i])));
    return e;
}

static void run_both(rnn__cell cell, const int32_t *lengths, bufs *D, bufs *R)
{
    rnn__ctx *cd, *cr;
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &cd));
    ck_ok(rnn__ctx_create(RNN__BACKEND_REF, &cr));
    rnn__rnn_shape sh = {cell, 6, 3, 5, 4, 0};
    bufs_init(D, cell, 6, 3, 5, 4);
    bufs_init(R, cell, 6, 3, 5, 4);
    rnn__rnn_kernel *kd, *kr;
    ck_ok(rnn__rnn_create(cd, &sh, &kd));
    ck_ok(rnn__rnn_create(cr, &sh, &kr));
    ck_ok(fwd_bwd(kd, D, lengths, 1));
    ck_ok(fwd_bwd(kr, R, lengths, 1));
    rnn__rnn_destroy(kd);
    rnn__rnn_destroy(kr);
    rnn__ctx_destroy(cd);
    rnn__ctx_destroy(cr);
}

START_TEST(trap1_null_src_iter_weights_iter_gradient)
{
    rnn__cell cells[2] = {RNN__CELL_LSTM, RNN__CELL_RNN_TANH};
    for (int c = 0; c < 2; c++) {
        bufs D, R;
        run_both(cells[c], NULL, &D, &R);
        int64_t GH = D.G * D.H;
        double e = rel(D.dwh, R.dwh, D.H * GH);
        ck_assert_msg(e < 1e-4, "cell %d: diff_weights_iter with h0 = NULL differs (rel %g)",
                      cells[c], e);
        ck_assert(rel(D.dwx, R.dwx, D.I * GH) < 1e-4);
        ck_assert(rel(D.dh0, R.dh0, D.N * D.H) < 1e-4);
        bufs_free(&D);
        bufs_free(&R);
    }
}
END_TEST

typedef struct thread_job {
    rnn__rnn_kernel *k;
    bufs *B;
    rnn_status st;
} thread_job;

static void *job_run(void *p)
{
    thread_job *j = p;
    j->st = fwd_bwd(j->k, j->B, NULL, 1);
    return NULL;
}

START_TEST(trap2_create_in_one_thread_run_in_another)
{
    rnn__ctx *cd;
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &cd));
    rnn__rnn_shape sh = {RNN__CELL_LSTM, 6, 3, 5, 4, 0};
    bufs B, R;
    bufs_init(&B, RNN__CELL_LSTM, 6, 3, 5, 4);
    rnn__rnn_kernel *k;
    ck_ok(rnn__rnn_create(cd, &sh, &k));
    ck_ok(fwd_bwd(k, &B, NULL, 1)); /* primitives created on this thread */
    memset(B.dwx, 0, sizeof(float) * (size_t)(B.I * B.G * B.H));
    thread_job j = {k, &B, RNN_ERR_INTERNAL};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, job_run, &j), 0);
    pthread_join(th, NULL);
    ck_ok(j.st);
    /* Same numbers as the reference. */
    rnn__ctx *cr;
    ck_ok(rnn__ctx_create(RNN__BACKEND_REF, &cr));
    rnn__rnn_kernel *kr;
    ck_ok(rnn__rnn_create(cr, &sh, &kr));
    bufs_init(&R, RNN__CELL_LSTM, 6, 3, 5, 4);
    ck_ok(fwd_bwd(kr, &R, NULL, 1));
    ck_assert(rel(B.y, R.y, B.T * B.N * B.H) < 1e-4);
    ck_assert(rel(B.dwx, R.dwx, B.I * B.G * B.H) < 1e-4);
    rnn__rnn_destroy(k);
    rnn__rnn_destroy(kr);
    rnn__ctx_destroy(cd);
    rnn__ctx_destroy(cr);
    bufs_free(&B);
    bufs_free(&R);
}
END_TEST

START_TEST(trap3_gradients_accumulate_across_calls_and_segments)
{
    static const int32_t lengths[3] = {6, 2, 4}; /* three segments */
    rnn__cell cells[3] = {RNN__CELL_LSTM, RNN__CELL_LBR_GRU, RNN__CELL_GRU};
    for (int c = 0; c < 3; c++) {
        rnn__ctx *cd;
        ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &cd));
        rnn__rnn_shape sh = {cells[c], 6, 3, 5, 4, 0};
        bufs B, R;
        bufs_init(&B, cells[c], 6, 3, 5, 4);
        bufs_init(&R, cells[c], 6, 3, 5, 4);
        rnn__rnn_kernel *k;
        ck_ok(rnn__rnn_create(cd, &sh, &k));
        ck_ok(fwd_bwd(k, &B, lengths, 1));
        ck_ok(fwd_bwd(k, &R, lengths, 1));
        ck_ok(fwd_bwd(k, &R, lengths, 1)); /* R accumulated twice */
        int64_t GH = B.G * B.H;
        for (int64_t i = 0; i < B.I * GH; i++)
            ck_assert_msg(fabsf(R.dwx[i] - 2 * B.dwx[i]) <= 1e-5f * (1 + fabsf(B.dwx[i])),
                          "dwx[%lld] did not accumulate", (long long)i);
        for (int64_t i = 0; i < B.Gb * B.H; i++)
            ck_assert(fabsf(R.db[i] - 2 * B.db[i]) <= 1e-5f * (1 + fabsf(B.db[i])));
        /* dx is overwritten, not accumulated. */
        ck_assert(rel(R.dx, B.dx, B.T * B.N * B.I) < 1e-6);
        rnn__rnn_destroy(k);
        rnn__ctx_destroy(cd);
        bufs_free(&B);
        bufs_free(&R);
    }
}
END_TEST

START_TEST(new_weight_version_is_picked_up)
{
    rnn__ctx *cd;
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &cd));
    rnn__rnn_shape sh = {RNN__CELL_LSTM, 6, 3, 5, 4, 0};
    bufs B;
    bufs_init(&B, RNN__CELL_LSTM, 6, 3, 5, 4);
    rnn__rnn_kernel *k;
    ck_ok(rnn__rnn_create(cd, &sh, &k));
    rnn__rnn_weights w = {B.wx, B.wh, B.b, 1};
    rnn__rnn_fwd f = {.T = 6, .N = 3, .x = B.x, .y = B.y, .training = 0};
    ck_ok(rnn__rnn_forward(k, &w, &f));
    float y0 = B.y[0];
    for (int64_t i = 0; i < B.I * B.G * B.H; i++)
        B.wx[i] *= 0.5f;
    w.version = 2;
    ck_ok(rnn__rnn_forward(k, &w, &f));
    ck_assert_msg(B.y[0] != y0, "new weights (version 2) were not used");
    rnn__rnn_destroy(k);
    rnn__ctx_destroy(cd);
    bufs_free(&B);
}
END_TEST

/* With room for 3 primitives, batches of ever new length patterns (an LSTM's with c_T: a
 * segment per distinct length, more primitives than that in use at once) still equal the
 * reference, forward and backward, and the list shrinks back to 3 once a batch needs fewer. */
START_TEST(primitive_cache_bounded)
{
    const size_t cap = rnn__dnnl_cache_cap;
    rnn__dnnl_cache_cap = 3;
    rnn__cell cells[2] = {RNN__CELL_LSTM, RNN__CELL_GRU};
    for (int c = 0; c < 2; c++) {
        rnn__dnnl_ctx *ctx;
        ck_ok(rnn__dnnl_ctx_create(&ctx));
        rnn__rnn_shape sh = {cells[c], 9, 12, 5, 4, c};
        rnn__dnnl_rnn *kd;
        rnn__ref_rnn *kr;
        ck_ok(rnn__dnnl_rnn_create(ctx, &sh, &kd));
        ck_ok(rnn__ref_rnn_create(&sh, &kr));
        for (int round = 0; round < 8; round++) {
            static const int mult[8] = {1, 2, 4, 5, 7, 8, 2, 4}; /* prime to 9: 9 lengths */
            int32_t len[12];
            for (int n = 0; n < 12; n++)
                len[n] = 1 + (n * mult[round] + round) % 9;
            bufs D, R;
            bufs_init(&D, cells[c], 9, 12, 5, 4);
            bufs_init(&R, cells[c], 9, 12, 5, 4);
            bufs *B[2] = {&D, &R};
            for (int k = 0; k < 2; k++) {
                rnn__rnn_weights w = {B[k]->wx, B[k]->wh, B[k]->b, (uint64_t)round + 1};
                rnn__rnn_fwd f = {.T = 9, .N = 12, .x = B[k]->x, .lengths = len, .y = B[k]->y,
                                  .hT = B[k]->hT, .cT = c ? NULL : B[k]->cT, .training = 1};
                rnn__rnn_bwd b = {.dy = B[k]->dy, .dx = B[k]->dx, .dh0 = B[k]->dh0,
                                  .dwx = B[k]->dwx, .dwh = B[k]->dwh, .db = B[k]->db};
                if (k == 0) {
                    ck_ok(rnn__dnnl_rnn_forward(kd, &w, &f));
                    ck_ok(rnn__dnnl_rnn_backward(kd, &w, &f, &b));
                } else {
                    ck_ok(rnn__ref_rnn_forward(kr, &w, &f));
                    ck_ok(rnn__ref_rnn_backward(kr, &w, &f, &b));
                }
            }
            const int64_t GH = D.G * D.H;
            double e = fmax(rel(D.y, R.y, 9 * 12 * 4), rel(D.hT, R.hT, 12 * 4));
            e = fmax(e, c ? 0 : rel(D.cT, R.cT, 12 * 4));
            e = fmax(e, fmax(rel(D.dx, R.dx, 9 * 12 * 5), rel(D.dh0, R.dh0, 12 * 4)));
            e = fmax(e, fmax(rel(D.dwx, R.dwx, 5 * GH), rel(D.dwh, R.dwh, 4 * GH)));
            e = fmax(e, rel(D.db, R.db, D.Gb * 4));
            ck_assert_msg(e < 1e-4, "cell %d, round %d: oneDNN differs from the reference (%g)",
                          cells[c], round, e);
            bufs_free(&D);
            bufs_free(&R);
        }
        if (c == 0) /* LSTM with c_T: a segment per distinct length, all in use */
            ck_assert_uint_gt(rnn__dnnl_rnn_cached(kd), 3);
        bufs D;
        bufs_init(&D, cells[c], 1, 12, 5, 4);
        rnn__rnn_weights w = {D.wx, D.wh, D.b, 1};
        rnn__rnn_fwd f = {.T = 1, .N = 12, .x = D.x, .y = D.y};
        ck_ok(rnn__dnnl_rnn_forward(kd, &w, &f)); /* one new primitive */
        ck_assert_uint_eq(rnn__dnnl_rnn_cached(kd), 3);
        bufs_free(&D);
        rnn__dnnl_rnn_destroy(kd);
        rnn__ref_rnn_destroy(kr);
        rnn__dnnl_ctx_destroy(ctx);
    }
    rnn__dnnl_cache_cap = cap;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backend-traps");
    TCase *tc = tcase_create("traps");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, trap1_null_src_iter_weights_iter_gradient);
    tcase_add_test(tc, trap2_create_in_one_thread_run_in_another);
    tcase_add_test(tc, trap3_gradients_accumulate_across_calls_and_segments);
    tcase_add_test(tc, new_weight_version_is_picked_up);
    tcase_add_test(tc, primitive_cache_bounded);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
