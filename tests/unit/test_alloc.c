/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: the replaceable allocator and the out-of-memory loop.
 * White-box (linked against the internal static copy) so that it can also
 * drive internal objects such as backend contexts. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "test_util.h"

/* A failing allocator: the k-th allocation (0-based) and every later one fail
 * when fail_at >= 0. Counts live blocks itself, independently of librnn. */
typedef struct counting {
    long calls;
    long fail_at;
    long live;
} counting;

static void *count_alloc(void *user, size_t size)
{
    counting *c = user;
    if (c->fail_at >= 0 && c->calls >= c->fail_at) {
        c->calls++;
        return NULL;
    }
    c->calls++;
    void *p = malloc(size);
    if (p)
        c->live++;
    return p;
}

static void count_free(void *user, void *ptr)
{
    counting *c = user;
    c->live--;
    free(ptr);
}

START_TEST(allocator_replacement_rules)
{
    counting c = {0, -1, 0};
    ck_rnn(rnn_set_allocator(count_alloc, NULL, &c), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_set_allocator: alloc_fn and free_fn must both be set or both be NULL");
    ck_ok(rnn_set_allocator(count_alloc, count_free, &c));
    int64_t dims[1] = {10};
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, 1, dims, &t));
    ck_assert_int_gt(c.calls, 0);
    ck_assert_int_gt(c.live, 0);
    ck_assert_uint_ge(rnn_memory_used(), 40);
    /* Not while memory is live: it would be released by the wrong allocator. */
    ck_rnn(rnn_set_allocator(NULL, NULL, NULL), RNN_ERR_STATE);
    ck_errmsg("blocks are live");
    rnn_tensor_destroy(t);
    ck_assert_int_eq(c.live, 0);
    ck_assert_uint_eq(rnn_memory_used(), 0);
    ck_ok(rnn_set_allocator(NULL, NULL, NULL));
    long before = c.calls;
    ck_ok(rnn_tensor_create(RNN_F32, 1, dims, &t));
    ck_assert_int_eq(c.calls, before); /* back on malloc */
    rnn_tensor_destroy(t);
}
END_TEST

#if !defined(__SANITIZE_ADDRESS__) /* ASan's allocator is not glibc's: no RSS check there */
/* Resident KiB of this process (VmRSS), or -1. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}
#endif

/* Blocks of 1 MiB and more: aligned, zeroed by rnn__calloc, accounted, and
 * given back to the system when freed even after glibc has raised its mmap
 * threshold (through malloc, the block below would come from the heap and
 * stay resident). A replaced allocator still gets every block. */
START_TEST(large_blocks)
{
    const size_t big = (size_t)24 << 20;
    for (int round = 0; round < 2; round++) { /* the second: a reused range is zero too */
        unsigned char *p = rnn__calloc(big, 1);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 64, 0);
        ck_assert_uint_eq(rnn_memory_used(), big);
        for (size_t i = 0; i < big; i += 4093)
            ck_assert_msg(p[i] == 0, "byte %zu of a calloc'ed block is %d", i, p[i]);
        memset(p, 0xA5, big);
        rnn__free(p);
        ck_assert_uint_eq(rnn_memory_used(), 0);
    }
    /* Just under and over the threshold, through rnn__malloc + rnn__calloc. */
    const size_t sizes[] = {((size_t)1 << 20) - 200, ((size_t)1 << 20) + 1};
    for (int i = 0; i < 2; i++) {
        unsigned char *a = rnn__malloc(sizes[i]);
        ck_assert_ptr_nonnull(a);
        memset(a, 0x5A, sizes[i]);
        rnn__free(a);
        unsigned char *z = rnn__calloc(1, sizes[i]);
        ck_assert_ptr_nonnull(z);
        ck_assert_int_eq(z[0] | z[sizes[i] / 2] | z[sizes[i] - 1], 0);
        rnn__free(z);
    }
    /* Sizes no system can give: NULL, not a crash. */
    ck_assert_ptr_null(rnn__malloc(SIZE_MAX - 16));
    ck_assert_ptr_null(rnn__malloc((size_t)1 << 62));
    ck_assert_uint_eq(rnn_memory_used(), 0);

#if !defined(__SANITIZE_ADDRESS__)
    if (getenv("LD_PRELOAD") == NULL) { /* nor valgrind's */
        void *raise = malloc((size_t)30 << 20); /* freeing it raises glibc's threshold */
        ck_assert_ptr_nonnull(raise);
        memset(raise, 1, (size_t)30 << 20);
        free(raise);
        const long before = rss_kib();
        unsigned char *p = rnn__malloc((size_t)16 << 20);
        ck_assert_ptr_nonnull(p);
        memset(p, 1, (size_t)16 << 20);
        const long touched = rss_kib();
        rnn__free(p);
        const long after = rss_kib();
        ck_assert_msg(touched - after > 15 * 1024,
                      "a freed 16 MiB block stays resident: RSS %ld KiB before, %ld touched, "
                      "%ld freed",
                      before, touched, after);
    }
#endif

    counting c = {0, -1, 0};
    ck_ok(rnn_set_allocator(count_alloc, count_free, &c));
    void *q = rnn__malloc(big);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_int_eq(c.live, 1);
    rnn__free(q);
    ck_assert_int_eq(c.live, 0);
    ck_ok(rnn_set_allocator(NULL, NULL, NULL));
}
END_TEST

/* One scenario of calls that allocate; returns the first failing status. */
typedef rnn_status (*scenario_fn)(void);

static rnn_status scenario_tensors(void)
{
    int64_t dims[2] = {4, 5};
    float buf[20] = {0};
    rnn_tensor *a = NULL, *b = NULL, *c = NULL;
    rnn_status st = rnn_tensor_create(RNN_F32, 2, dims, &a);
    if (!st)
        st = rnn_tensor_wrap(RNN_F32, 2, dims, buf, sizeof buf, &b);
    if (!st)
        st = rnn_tensor_clone(b, &c);
    if (!st)
        st = rnn_tensor_copy(a, c);
    rnn_tensor_destroy(a);
    rnn_tensor_destroy(b);
    rnn_tensor_destroy(c);
    return st;
}

static rnn_status scenario_backend(void)
{
    rnn__ctx *ctx = NULL;
    rnn_status st = rnn__ctx_create(RNN__BACKEND_ONEDNN, &ctx);
    if (st)
        return st;
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4], C2[9];
    st = rnn__matmul(ctx, 0, 0, 2, 3, 2, A, B, NULL, 0.0f, C);
    if (!st) /* a second shape, with bias: a second cached primitive */
        st = rnn__matmul(ctx, 0, 0, 3, 2, 3, A, B, A, 0.0f, C2);
    rnn__ctx_destroy(ctx);
    return st;
}

/* A whole model: build, compile, one training step (forward, loss,
 * backward, Adam update) on a variable-length token batch. */
static rnn_status scenario_model(void)
{
    rnn_model *m = NULL;
    rnn_tensor *x = NULL, *y = NULL;
    rnn_status st = rnn_model_create(NULL, &m);
    int64_t steps[1] = {0}, xd[2] = {2, 3}, yd[1] = {2};
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 5, e.output_dim = 3, e.mask_zero = 1;
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 2, o.bidirectional = 1;
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2, d.activation = RNN_ACT_SOFTMAX;
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    if (!st)
        st = rnn_model_add_input(m, RNN_I32, 1, steps, NULL);
    if (!st)
        st = rnn_model_add_embedding(m, &e, NULL);
    if (!st)
        st = rnn_model_add_recurrent(m, &o, NULL);
    if (!st)
        st = rnn_model_add_dense(m, &d, NULL);
    if (!st)
        st = rnn_model_compile(m, &c, &oo);
    if (!st)
        st = rnn_tensor_create(RNN_I32, 2, xd, &x);
    if (!st)
        st = rnn_tensor_create(RNN_I32, 1, yd, &y);
    if (!st) {
        int32_t *xi, *yi;
        rnn_tensor_data(x, (void **)&xi);
        rnn_tensor_data(y, (void **)&yi);
        xi[0] = 1, xi[1] = 2, xi[2] = 3, xi[3] = 4, xi[4] = 0, xi[5] = 0;
        yi[0] = 1, yi[1] = 0;
        const rnn_tensor *in[1] = {x};
        st = rnn_model_train_step(m, 1, in, NULL, y, NULL, NULL);
    }
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
    return st;
}

/* Runs the scenario with allocation k failing, for every k until it
 * succeeds: each failure must be RNN_ERR_NOMEM, leave no block live, and
 * name the function in its message. */
static void oom_loop(scenario_fn fn, const char *name)
{
    long k;
    for (k = 0; k < 10000; k++) {
        counting c = {0, k, 0};
        ck_ok(rnn_set_allocator(count_alloc, count_free, &c));
        rnn_status st = fn();
        ck_assert_msg(c.live == 0, "%s: %ld blocks leaked when allocation %ld failed", name,
                      c.live, k);
        ck_assert_uint_eq(rnn_memory_used(), 0);
        ck_ok(rnn_set_allocator(NULL, NULL, NULL));
        if (st == RNN_OK) {
            ck_assert_msg(c.calls <= k, "%s succeeded although allocation %ld failed", name, k);
            break;
        }
        ck_assert_msg(st == RNN_ERR_NOMEM, "%s: allocation %ld failed but the status is %d (%s)",
                      name, k, (int)st, rnn_last_error());
        ck_assert_msg(strstr(rnn_last_error(), "out of memory") != NULL, "%s: message \"%s\"",
                      name, rnn_last_error());
    }
    ck_assert_msg(k > 0 && k < 10000, "%s: scenario never allocated or never succeeded", name);
}

START_TEST(oom_tensors)
{
    oom_loop(scenario_tensors, "tensors");
}
END_TEST

START_TEST(oom_backend_context)
{
    oom_loop(scenario_backend, "backend");
}
END_TEST

START_TEST(oom_model_build_and_train_step)
{
    oom_loop(scenario_model, "model");
}
END_TEST

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("unit-alloc");
    TCase *tc = tcase_create("alloc");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, allocator_replacement_rules);
    tcase_add_test(tc, large_blocks);
    tcase_add_test(tc, oom_tensors);
    tcase_add_test(tc, oom_backend_context);
    tcase_add_test(tc, oom_model_build_and_train_step);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rnn_test_run(alloc_suite());
}
