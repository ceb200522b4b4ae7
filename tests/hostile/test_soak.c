/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Soak (issue 15; suite 'slow', not in the default `meson test`):
 * 100,000 training steps on a tiny model, and 10,000 create / save / load /
 * destroy cycles, with resident memory read from /proc/self/statm.
 *
 * The bound: after a warm-up (the first 10% of each loop: oneDNN's primitive
 * cache, malloc's arenas and the page cache of the file reach their steady
 * size), resident memory may grow by at most 4 MiB until the end. A leak of
 * 48 bytes per training step (90,000 steps after warm-up) or of 470 bytes
 * per cycle (9,000 cycles) passes that, so any leak of a block per step or
 * cycle fails; noise from malloc's trimming stays far below it. librnn's
 * own count (rnn_memory_used()) must also be back where it started.
 *
 * Under ASan (RNN_EXPECT_SANITIZERS=1, set by the asan setup) the quarantine
 * holds freed blocks, so RSS says nothing: the figures are printed, the
 * bound is not checked, and LeakSanitizer checks the end instead.
 * RNN_SOAK_STEPS and RNN_SOAK_CYCLES change the counts.
 */
#include "hostile_util.h"

#include <time.h>

#define RSS_BOUND (4L << 20)

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    long size = 0, resident = 0;
    ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &resident), 2);
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long env_count(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && atol(v) > 0 ? atol(v) : dflt;
}

static int under_sanitizers(void)
{
    const char *v = getenv("RNN_EXPECT_SANITIZERS");
    return v && strcmp(v, "1") == 0;
}

/* Input(0, 2) -> SimpleRNN(4) -> Dense(3, softmax), Adam, with clipnorm. */
static rnn_model *tiny(uint64_t seed)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = seed;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, 2};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_SIMPLE_RNN);
    r.units = 4;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 3;
    d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.clipnorm = 1.0f;
    ck_ok(rnn_model_compile(m, &c, &o));
    return m;
}

static void check_growth(const char *what, long warm, long end)
{
    printf("%s: RSS after warm-up %.1f MiB, at the end %.1f MiB (%+ld KiB; bound %ld KiB)\n",
           what, (double)warm / 1048576.0, (double)end / 1048576.0, (end - warm) / 1024,
           RSS_BOUND / 1024);
    if (under_sanitizers()) {
        printf("%s: under sanitizers, the RSS bound is not checked\n", what);
        return;
    }
    ck_assert_msg(end - warm <= RSS_BOUND, "%s: resident memory grew by %ld KiB (bound %ld KiB)",
                  what, (end - warm) / 1024, RSS_BOUND / 1024);
}

START_TEST(training_steps_keep_memory_flat)
{
    const long steps = env_count("RNN_SOAK_STEPS", 100000);
    const long warmup = steps / 10;
    rnn_model *m = tiny(1);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 4, 5, 2), *y = h_tensor(RNN_I32, 1, 4),
               *len = h_tensor(RNN_I32, 1, 4);
    int64_t i0[1] = {0};
    ck_ok(rnn_tensor_fill_i32(len, 5));
    ck_ok(rnn_tensor_set_i32(len, 1, i0, 3)); /* variable lengths too */
    const rnn_tensor *in[1] = {x}, *lens[1] = {len};
    size_t used_warm = 0; /* the first steps allocate the workspaces */
    long rss_start = rss_bytes(), rss_warm = 0, rss_max = 0;
    double t0 = now();
    float loss = 0;
    for (long s = 0; s < steps; s++) {
        ck_ok(rnn_model_train_step(m, 1, in, (s & 1) ? lens : NULL, y, &loss, NULL));
        if (s + 1 == warmup) {
            rss_warm = rss_bytes();
            used_warm = rnn_memory_used();
        }
        if (s % 1000 == 0) {
            long r = rss_bytes();
            rss_max = r > rss_max ? r : rss_max;
        }
    }
    double t = now() - t0;
    long rss_end = rss_bytes();
    ck_assert(isfinite(loss));
    ck_assert_uint_eq(rnn_memory_used(), used_warm);
    printf("train: %ld steps in %.1f s (%.0f us/step), loss %.4f; RSS start %.1f MiB, max %.1f "
           "MiB\n",
           steps, t, 1e6 * t / (double)steps, (double)loss, (double)rss_start / 1048576.0,
           (double)rss_max / 1048576.0);
    check_growth("train", rss_warm, rss_end);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_tensor_destroy(len);
    rnn_model_destroy(m);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(create_save_load_destroy_cycles_keep_memory_flat)
{
    const long cycles = env_count("RNN_SOAK_CYCLES", 10000);
    const long warmup = cycles / 10;
    char path[64];
    snprintf(path, sizeof path, "/tmp/librnn-soak-%ld.rnn", (long)getpid());
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 3, 2), *y = h_tensor(RNN_I32, 1, 2);
    const rnn_tensor *in[1] = {x};
    const size_t used0 = rnn_memory_used();
    long rss_start = rss_bytes(), rss_warm = 0, rss_max = 0;
    double t0 = now();
    for (long c = 0; c < cycles; c++) {
        rnn_model *m = tiny((uint64_t)c);
        ck_ok(rnn_model_train_step(m, 1, in, NULL, y, NULL, NULL));
        ck_ok(rnn_model_save_ex(m, path, (c & 1) ? RNN_SAVE_OPTIMIZER : 0));
        rnn_model *back = NULL;
        ck_ok(rnn_model_load(path, NULL, &back));
        ck_ok(rnn_model_forward(back, 1, in, NULL, 0));
        rnn_model_destroy(back);
        rnn_model_destroy(m);
        ck_assert_uint_eq(rnn_memory_used(), used0);
        if (c + 1 == warmup)
            rss_warm = rss_bytes();
        if (c % 100 == 0) {
            long r = rss_bytes();
            rss_max = r > rss_max ? r : rss_max;
        }
    }
    double t = now() - t0;
    long rss_end = rss_bytes();
    unlink(path);
    printf("cycles: %ld create/train/save/load/forward/destroy in %.1f s (%.2f ms each); RSS "
           "start %.1f MiB, max %.1f MiB\n",
           cycles, t, 1e3 * t / (double)cycles, (double)rss_start / 1048576.0,
           (double)rss_max / 1048576.0);
    check_growth("cycles", rss_warm, rss_end);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("soak");
    TCase *tc = tcase_create("soak");
    tcase_set_timeout(tc, 3600);
    tcase_add_test(tc, training_steps_keep_memory_flat);
    tcase_add_test(tc, create_save_load_destroy_cycles_keep_memory_flat);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
