/* SPDX-License-Identifier: Apache-2.0 */
/* Backend tests: contexts, the matmul primitive against the reference, the
 * thread setting, and running a primitive from a thread other than the one
 * that created it (oneDNN trap 2: user-mode scratchpad). */
#include <math.h>
#include <omp.h>
#include <pthread.h>

#include "backend/backend.h"
#include "test_util.h"

static uint64_t rng_state = 88172645463325252ull;
static float frand(void)
{
    return rnn_test_uniform(&rng_state);
}

static void fill(float *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = frand();
}

#define max_rel_err rnn_test_max_rel_err

START_TEST(context_lifecycle)
{
    rnn__ctx *ref = NULL, *dnnl = NULL;
    ck_ok(rnn__ctx_create(RNN__BACKEND_REF, &ref));
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &dnnl));
    ck_assert_int_eq(rnn__ctx_kind(ref), RNN__BACKEND_REF);
    ck_assert_int_eq(rnn__ctx_kind(dnnl), RNN__BACKEND_ONEDNN);
    ck_assert_ptr_null(rnn__ctx_dnnl(ref));
    ck_assert_ptr_nonnull(rnn__ctx_dnnl(dnnl));
    ck_assert_str_eq(rnn__backend_name(RNN__BACKEND_ONEDNN), "onednn");
    rnn__ctx *bad = (rnn__ctx *)0x1;
    ck_rnn(rnn__ctx_create((rnn__backend_kind)9, &bad), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(bad);
    rnn__ctx_destroy(ref);
    rnn__ctx_destroy(dnnl);
    rnn__ctx_destroy(NULL);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(matmul_onednn_equals_reference)
{
    rnn__ctx *ref = NULL, *dnnl = NULL;
    ck_ok(rnn__ctx_create(RNN__BACKEND_REF, &ref));
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &dnnl));
    static const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {64, 33, 17}, {2, 256, 300}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *bias = malloc(sizeof(float) * N);
        float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
        fill(A, M * K);
        fill(B, K * N);
        fill(bias, N);
        /* Every transpose/accumulate combination; C starts non-zero so that
         * beta = 1 is visible. The second repetition reuses cached primitives. */
        for (int v = 0; v < 16; v++) {
            int with_bias = v & 1, ta = (v >> 1) & 1, tb = (v >> 2) & 1;
            float beta = (v >> 3) & 1 ? 1.0f : 0.0f;
            for (int rep = 0; rep < 2; rep++) {
                for (int64_t i = 0; i < M * N; i++)
                    C1[i] = C2[i] = 0.25f * (float)(i % 7);
                ck_ok(rnn__matmul(ref, ta, tb, M, K, N, A, B, with_bias ? bias : NULL, beta, C1));
                ck_ok(rnn__matmul(dnnl, ta, tb, M, K, N, A, B, with_bias ? bias : NULL, beta, C2));
                double e = max_rel_err(C2, C1, M * N);
                ck_assert_msg(e < 1e-5, "matmul %lldx%lldx%lld bias=%d ta=%d tb=%d beta=%g: rel err %g",
                              (long long)M, (long long)K, (long long)N, with_bias, ta, tb,
                              (double)beta, e);
            }
        }
        free(A), free(B), free(bias), free(C1), free(C2);
    }
    float x = 0;
    ck_rnn(rnn__matmul(dnnl, 0, 0, 0, 1, 1, &x, &x, NULL, 0.0f, &x), RNN_ERR_SHAPE);
    ck_errmsg("M, K, N must be >= 1 (got 0, 1, 1)");
    rnn__ctx_destroy(ref);
    rnn__ctx_destroy(dnnl);
}
END_TEST

typedef struct run_args {
    rnn__ctx *ctx;
    rnn_status st;
    float C[4];
} run_args;

static void *run_in_thread(void *p)
{
    run_args *a = p;
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 1, 0, 1};
    a->st = rnn__matmul(a->ctx, 0, 0, 2, 2, 2, A, B, NULL, 0.0f, a->C);
    return NULL;
}

START_TEST(primitive_runs_on_another_thread)
{
    /* Create context and primitive here, then execute from another thread:
     * crashes with oneDNN's default scratchpad mode in this build. */
    run_args a = {0};
    ck_ok(rnn__ctx_create(RNN__BACKEND_ONEDNN, &a.ctx));
    run_in_thread(&a);
    ck_ok(a.st);
    pthread_t th;
    memset(a.C, 0, sizeof a.C);
    ck_assert_int_eq(pthread_create(&th, NULL, run_in_thread, &a), 0);
    pthread_join(th, NULL);
    ck_ok(a.st);
    ck_assert(a.C[0] == 1 && a.C[1] == 3 && a.C[2] == 3 && a.C[3] == 7);
    rnn__ctx_destroy(a.ctx);
}
END_TEST

static void *threads_seen(void *p)
{
    (void)p;
    rnn__threads_apply();
    int n = 0;
#pragma omp parallel
    {
#pragma omp single
        n = omp_get_num_threads();
    }
    return (void *)(intptr_t)n;
}

START_TEST(thread_setting_reaches_openmp)
{
    /* oneDNN's OpenMP runtime sizes its parallel regions from
     * omp_get_max_threads() of the calling thread; rnn__threads_apply() (run
     * before every primitive and library loop) must set it, on any thread. */
    ck_ok(rnn_set_num_threads(1));
    ck_assert_int_eq((int)(intptr_t)threads_seen(NULL), 1);
    ck_assert_int_eq(omp_get_max_threads(), 1);
    ck_ok(rnn_set_num_threads(2));
    pthread_t th;
    void *res;
    pthread_create(&th, NULL, threads_seen, NULL);
    pthread_join(th, &res);
    ck_assert_int_eq((int)(intptr_t)res, 2);
    ck_ok(rnn_set_num_threads(0));
}
END_TEST

static Suite *backend_suite(void)
{
    Suite *s = suite_create("backend-core");
    TCase *tc = tcase_create("backend");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, context_lifecycle);
    tcase_add_test(tc, matmul_onednn_equals_reference);
    tcase_add_test(tc, primitive_runs_on_another_thread);
    tcase_add_test(tc, thread_setting_reaches_openmp);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rnn_test_run(backend_suite());
}
