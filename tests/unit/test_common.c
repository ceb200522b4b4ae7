/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: status strings, last error, version, log callback, threads, the
 * struct_size check-and-copy of versioned structs. */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>

#include "internal.h"
#include "test_util.h"

START_TEST(status_strings)
{
    ck_assert_str_eq(rnn_status_string(RNN_OK), "success");
    for (int s = RNN_ERR_INVALID_ARG; s <= RNN_ERR_INTERNAL; s++) {
        const char *t = rnn_status_string((rnn_status)s);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_ne(t, "unknown status");
    }
    ck_assert_str_eq(rnn_status_string((rnn_status)999), "unknown status");
    ck_assert_str_eq(rnn_status_string((rnn_status)-1), "unknown status");
    /* Codes are ABI: they must never be renumbered. */
    ck_assert_int_eq(RNN_ERR_NOMEM, 2);
    ck_assert_int_eq(RNN_ERR_FORMAT, 10);
    ck_assert_int_eq(RNN_ERR_NUMERIC, 11);
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(rnn_version_number(), RNN_VERSION_NUMBER);
    ck_assert_str_eq(rnn_version_string(), RNN_VERSION_STRING);
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", RNN_VERSION_MAJOR, RNN_VERSION_MINOR,
             RNN_VERSION_PATCH);
    ck_assert_str_eq(buf, RNN_VERSION_STRING);
    ck_assert_uint_eq(RNN_VERSION_NUMBER,
                      RNN_VERSION_MAJOR * 10000 + RNN_VERSION_MINOR * 100 + RNN_VERSION_PATCH);
}
END_TEST

START_TEST(last_error_names_function_and_value)
{
    rnn_tensor *t = (rnn_tensor *)0x1;
    int64_t dims[2] = {3, 0};
    ck_rnn(rnn_tensor_create(RNN_F32, 2, dims, &t), RNN_ERR_SHAPE);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(rnn_last_error(), "rnn_tensor_create: dims[1] must be > 0 (got 0)");
    /* Successful calls leave the message alone (errno-like). */
    ck_ok(rnn_set_num_threads(0));
    ck_assert_str_eq(rnn_last_error(), "rnn_tensor_create: dims[1] must be > 0 (got 0)");
}
END_TEST

static void *other_thread_error(void *arg)
{
    (void)arg;
    /* A fresh thread has no error yet, then gets its own. */
    int empty = rnn_last_error()[0] == '\0';
    rnn_set_num_threads(-5);
    int own = strstr(rnn_last_error(), "(got -5)") != NULL;
    return (void *)(intptr_t)(empty && own);
}

START_TEST(last_error_is_thread_local)
{
    ck_rnn(rnn_set_num_threads(-1), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_set_num_threads: n must be in 0..4096 (got -1)");
    pthread_t th;
    void *res = NULL;
    ck_assert_int_eq(pthread_create(&th, NULL, other_thread_error, NULL), 0);
    pthread_join(th, &res);
    ck_assert_int_eq((int)(intptr_t)res, 1);
    ck_errmsg("(got -1)"); /* ours is untouched */
}
END_TEST

typedef struct log_capture {
    int calls;
    rnn_log_level last_level;
    char last[512];
} log_capture;

static void capture_log(void *user, rnn_log_level level, const char *msg)
{
    log_capture *c = user;
    c->calls++;
    c->last_level = level;
    snprintf(c->last, sizeof c->last, "%s", msg);
}

START_TEST(log_callback)
{
    log_capture cap = {0};
    ck_rnn(rnn_set_log_callback(capture_log, &cap, (rnn_log_level)0), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_set_log_callback(capture_log, &cap, (rnn_log_level)5), RNN_ERR_INVALID_ARG);
    ck_errmsg("max_level");

    /* Errors are logged at DEBUG level only. */
    ck_ok(rnn_set_log_callback(capture_log, &cap, RNN_LOG_INFO));
    rnn_set_num_threads(-2);
    ck_assert_int_eq(cap.calls, 0);
    ck_ok(rnn_set_log_callback(capture_log, &cap, RNN_LOG_DEBUG));
    rnn_set_num_threads(-3);
    ck_assert_int_eq(cap.calls, 1);
    ck_assert_int_eq(cap.last_level, RNN_LOG_DEBUG);
    ck_assert_ptr_nonnull(strstr(cap.last, "rnn_set_num_threads: n must be in 0..4096 (got -3)"));

    /* Removing the callback silences everything. */
    ck_ok(rnn_set_log_callback(NULL, NULL, RNN_LOG_DEBUG));
    rnn_set_num_threads(-4);
    ck_assert_int_eq(cap.calls, 1);
}
END_TEST

/* A struct of "version 2": version 1 ended at b. */
typedef struct v2 {
    uint32_t struct_size;
    int a;
    double b;
    int c; /* added in version 2, default 7 */
} v2;

START_TEST(struct_size_check_and_copy)
{
    v2 dst = {sizeof dst, 0, 0, 7}, src = {sizeof src, 1, 2.0, 3};
    const size_t v1 = RNN__STRUCT_END(v2, b);
    /* Same version: everything copied. */
    ck_ok(rnn__opts_copy("rnn_x", "options", "v2", &dst, sizeof dst, &src, v1));
    ck_assert_int_eq(dst.a, 1);
    ck_assert_int_eq(dst.c, 3);
    /* Older caller: the new field keeps the library's default; struct_size is the library's. */
    dst = (v2){sizeof dst, 0, 0, 7};
    src.struct_size = (uint32_t)v1;
    ck_ok(rnn__opts_copy("rnn_x", "options", "v2", &dst, sizeof dst, &src, v1));
    ck_assert_int_eq(dst.a, 1);
    ck_assert(dst.b == 2.0);
    ck_assert_int_eq(dst.c, 7);
    ck_assert_uint_eq(dst.struct_size, sizeof dst);
    /* Smaller than the first version, or larger than the library knows: refused. */
    src.struct_size = (uint32_t)v1 - 1;
    ck_rnn(rnn__opts_copy("rnn_x", "options", "v2", &dst, sizeof dst, &src, v1),
           RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_x: options->struct_size must be sizeof(v2)");
    ck_errmsg("or at least");
    ck_errmsg("call v2_init()");
    src.struct_size = sizeof src + 8;
    ck_rnn(rnn__opts_copy("rnn_x", "options", "v2", &dst, sizeof dst, &src, v1),
           RNN_ERR_INVALID_ARG);
    /* Results: checked first, then filled up to the caller's struct_size. */
    v2 res = {(uint32_t)v1, -1, -1.0, -1}, mine = {sizeof mine, 5, 6.0, 8};
    ck_ok(rnn__result_check("rnn_x", "result", "v2", &res, sizeof res, v1));
    rnn__result_copy(&res, &mine);
    ck_assert_uint_eq(res.struct_size, v1);
    ck_assert_int_eq(res.a, 5);
    ck_assert(res.b == 6.0);
    ck_assert_int_eq(res.c, -1); /* beyond the caller's struct: untouched */
    res.struct_size = 0;
    ck_rnn(rnn__result_check("rnn_x", "result", "v2", &res, sizeof res, v1), RNN_ERR_INVALID_ARG);
    ck_errmsg("set it before the call");
    res.struct_size = sizeof res + 1;
    ck_rnn(rnn__result_check("rnn_x", "result", "v2", &res, sizeof res, v1), RNN_ERR_INVALID_ARG);
}
END_TEST

START_TEST(threads_setting)
{
    int def = rnn_get_num_threads();
    ck_assert_int_ge(def, 1);
    ck_rnn(rnn_set_num_threads(-1), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_set_num_threads(4097), RNN_ERR_INVALID_ARG);
    ck_ok(rnn_set_num_threads(1));
    ck_assert_int_eq(rnn_get_num_threads(), 1);
    ck_ok(rnn_set_num_threads(3));
    ck_assert_int_eq(rnn_get_num_threads(), 3);
    ck_ok(rnn_set_num_threads(0));
    ck_assert_int_eq(rnn_get_num_threads(), def);
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("unit-common");
    TCase *tc = tcase_create("common");
    tcase_add_test(tc, status_strings);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, last_error_names_function_and_value);
    tcase_add_test(tc, last_error_is_thread_local);
    tcase_add_test(tc, log_callback);
    tcase_add_test(tc, threads_setting);
    tcase_add_test(tc, struct_size_check_and_copy);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rnn_test_run(common_suite());
}
