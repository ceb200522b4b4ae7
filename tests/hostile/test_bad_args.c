/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bad arguments at every public function (issue 15). Each RNN_API function
 * declared in include/rnn/ (each *.h) has a probe in the table at the end; the meson
 * test 'bad-args-coverage' (check_probes.py) compares `test_bad_args --list`
 * with the headers, so a new public function without a probe fails the suite.
 *
 * A probe passes each pointer argument NULL (one at a time), out-of-range
 * counts and enums, tensors of the wrong dtype or shape and objects in the
 * wrong state, and checks for every call: the documented status; a fresh
 * rnn_last_error() (not the one left by the previous failure) that starts
 * with "<function>: " and names the argument; out-parameters set to NULL/0.
 */
#include "hostile_util.h"

/* Poison for out-parameters: a failing call must reset them to NULL / 0. */
#define POISON_PTR ((void *)(uintptr_t)0x5a5a)
#define POISON_INT (-12345)

static char primed[512];

/* Leaves a known message, so that a call which fails without setting its
 * own is caught. */
static void prime(void)
{
    ck_assert_int_eq(rnn_set_num_threads(-12345), RNN_ERR_INVALID_ARG);
    snprintf(primed, sizeof primed, "%s", rnn_last_error());
}

static void check_(rnn_status st, rnn_status want, const char *fn, const char *arg,
                   const char *call, int line)
{
    const char *e = rnn_last_error();
    ck_assert_msg(st == want, "line %d: %s returned %d (%s), expected %d (%s); last error: %s",
                  line, call, (int)st, rnn_status_string(st), (int)want,
                  rnn_status_string(want), e);
    size_t n = strlen(fn);
    ck_assert_msg(strcmp(e, primed) != 0, "line %d: %s failed without setting rnn_last_error()",
                  line, call);
    ck_assert_msg(strncmp(e, fn, n) == 0 && e[n] == ':' && e[n + 1] == ' ',
                  "line %d: %s: the message does not start with \"%s: \": \"%s\"", line, call, fn,
                  e);
    if (arg)
        ck_assert_msg(strstr(e + n, arg) != NULL,
                      "line %d: %s: the message does not name \"%s\": \"%s\"", line, call, arg, e);
}

/* EXPECT(status, "argument named" or NULL, call) inside a probe (F is the
 * function's name). */
#define EXPECT(want, arg, call)                                                   \
    do {                                                                          \
        prime();                                                                  \
        rnn_status st_ = (call);                                                  \
        check_(st_, (want), F, (arg), #call, __LINE__);                           \
    } while (0)
#define NULLARG(arg, call) EXPECT(RNN_ERR_INVALID_ARG, arg, call)
#define OUT_NULL(p) ck_assert_msg((p) == NULL, "line %d: out-parameter %s not reset to NULL", \
                                  __LINE__, #p)
#define OUT_ZERO(v) ck_assert_msg((v) == 0, "line %d: out-parameter %s not reset to 0 (%g)", \
                                  __LINE__, #v, (double)(v))

#define PROBE(name) static void probe_##name(const char *F)

/* ------------------------------------------------------------ common.h */

PROBE(rnn_status_string)
{
    (void)F;
    ck_assert_str_eq(rnn_status_string((rnn_status)99), "unknown status");
    ck_assert_str_eq(rnn_status_string((rnn_status)-1), "unknown status");
    ck_assert_ptr_nonnull(rnn_status_string(RNN_OK));
}

PROBE(rnn_last_error)
{
    (void)F;
    ck_assert_ptr_nonnull(rnn_last_error());
}

PROBE(rnn_set_last_error)
{
    (void)F;
    ck_assert_int_eq(rnn_set_last_error(RNN_ERR_UNSUPPORTED, "rnn_x", "a cause"),
                     RNN_ERR_UNSUPPORTED);
    ck_assert_str_eq(rnn_last_error(), "rnn_x: a cause");
    ck_assert_int_eq(rnn_set_last_error(RNN_ERR_IO, NULL, NULL), RNN_ERR_IO);
    ck_assert_str_eq(rnn_last_error(), "");
    ck_assert_int_eq(rnn_set_last_error(RNN_ERR_IO, "", "only"), RNN_ERR_IO);
    ck_assert_str_eq(rnn_last_error(), "only");
}

PROBE(rnn_version_number)
{
    (void)F;
    ck_assert_uint_eq(rnn_version_number(), RNN_VERSION_NUMBER);
}

PROBE(rnn_version_string)
{
    (void)F;
    ck_assert_str_eq(rnn_version_string(), RNN_VERSION_STRING);
}

static void *my_alloc(void *u, size_t n)
{
    (void)u;
    return malloc(n);
}
static void my_free(void *u, void *p)
{
    (void)u;
    free(p);
}

PROBE(rnn_set_allocator)
{
    NULLARG("free_fn", rnn_set_allocator(my_alloc, NULL, NULL));
    NULLARG("alloc_fn", rnn_set_allocator(NULL, my_free, NULL));
    rnn_tensor *t = h_tensor(RNN_F32, 1, 4);
    EXPECT(RNN_ERR_STATE, NULL, rnn_set_allocator(my_alloc, my_free, NULL));
    rnn_tensor_destroy(t);
    ck_assert_uint_eq(rnn_memory_used(), 0);
    ck_ok(rnn_set_allocator(NULL, NULL, NULL));
}

PROBE(rnn_memory_used)
{
    (void)F;
    ck_assert_uint_eq(rnn_memory_used(), 0);
}

static void on_log(void *u, rnn_log_level l, const char *m)
{
    (void)u, (void)l, (void)m;
}

PROBE(rnn_set_log_callback)
{
    EXPECT(RNN_ERR_INVALID_ARG, "max_level", rnn_set_log_callback(on_log, NULL, (rnn_log_level)99));
    EXPECT(RNN_ERR_INVALID_ARG, "max_level", rnn_set_log_callback(on_log, NULL, (rnn_log_level)-1));
    ck_ok(rnn_set_log_callback(NULL, NULL, RNN_LOG_DEBUG));
}

PROBE(rnn_set_num_threads)
{
    /* prime() itself uses -12345: check another value gives a new message. */
    ck_assert_int_eq(rnn_set_num_threads(-1), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(rnn_last_error(), "rnn_set_num_threads: "));
    ck_assert_ptr_nonnull(strstr(rnn_last_error(), "(got -1)"));
    ck_assert_int_eq(rnn_set_num_threads(4097), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(rnn_last_error(), "(got 4097)"));
    ck_assert_int_eq(rnn_set_num_threads(INT32_MIN), RNN_ERR_INVALID_ARG);
    (void)F;
}

PROBE(rnn_get_num_threads)
{
    (void)F;
    ck_assert_int_ge(rnn_get_num_threads(), 1);
}

PROBE(rnn_set_thread_policy)
{
    EXPECT(RNN_ERR_INVALID_ARG, "policy", rnn_set_thread_policy((rnn_thread_policy)2));
    EXPECT(RNN_ERR_INVALID_ARG, "policy", rnn_set_thread_policy((rnn_thread_policy)-1));
    ck_assert_int_eq(rnn_get_thread_policy(), RNN_THREADS_ADAPTIVE); /* unchanged */
}

PROBE(rnn_get_thread_policy)
{
    (void)F;
    ck_assert_int_eq(rnn_get_thread_policy(), RNN_THREADS_ADAPTIVE);
}

PROBE(rnn_set_workspace_limit)
{
    (void)F; /* every size is valid: 0 none, below one step's workspace single steps */
    ck_assert_int_eq(rnn_set_workspace_limit(SIZE_MAX), RNN_OK);
    ck_assert_uint_eq(rnn_get_workspace_limit(), SIZE_MAX);
    ck_assert_int_eq(rnn_set_workspace_limit(0), RNN_OK);
}

PROBE(rnn_get_workspace_limit)
{
    (void)F;
    ck_assert_uint_eq(rnn_get_workspace_limit(), 0);
}

PROBE(rnn_get_active_threads)
{
    (void)F;
    ck_assert_int_ge(rnn_get_active_threads(), 1);
    ck_assert_int_le(rnn_get_active_threads(), rnn_get_num_threads());
}

/* ------------------------------------------------------------ tensor.h */

PROBE(rnn_dtype_size)
{
    (void)F;
    ck_assert_uint_eq(rnn_dtype_size((rnn_dtype)99), 0);
    ck_assert_uint_eq(rnn_dtype_size((rnn_dtype)0), 0);
    ck_assert_uint_eq(rnn_dtype_size((rnn_dtype)-1), 0);
}

PROBE(rnn_tensor_create)
{
    int64_t d[2] = {2, 3}, neg[2] = {2, -1}, huge[2] = {INT64_MAX, INT64_MAX};
    rnn_tensor *t = POISON_PTR;
    NULLARG("out", rnn_tensor_create(RNN_F32, 2, d, NULL));
    NULLARG("dims", rnn_tensor_create(RNN_F32, 2, NULL, &t));
    OUT_NULL(t);
    t = POISON_PTR;
    EXPECT(RNN_ERR_INVALID_ARG, "dtype", rnn_tensor_create((rnn_dtype)99, 2, d, &t));
    OUT_NULL(t);
    t = POISON_PTR;
    EXPECT(RNN_ERR_SHAPE, "rank", rnn_tensor_create(RNN_F32, -1, d, &t));
    OUT_NULL(t);
    EXPECT(RNN_ERR_SHAPE, "rank", rnn_tensor_create(RNN_F32, RNN_MAX_RANK + 1, d, &t));
    EXPECT(RNN_ERR_SHAPE, "dims[1]", rnn_tensor_create(RNN_F32, 2, neg, &t));
    t = POISON_PTR;
    EXPECT(RNN_ERR_OVERFLOW, NULL, rnn_tensor_create(RNN_F32, 2, huge, &t));
    OUT_NULL(t);
}

PROBE(rnn_tensor_wrap)
{
    static float buf[16];
    int64_t d[2] = {2, 3};
    rnn_tensor *t = POISON_PTR;
    NULLARG("out", rnn_tensor_wrap(RNN_F32, 2, d, buf, sizeof buf, NULL));
    NULLARG("data", rnn_tensor_wrap(RNN_F32, 2, d, NULL, sizeof buf, &t));
    OUT_NULL(t);
    t = POISON_PTR;
    NULLARG("dims", rnn_tensor_wrap(RNN_F32, 2, NULL, buf, sizeof buf, &t));
    OUT_NULL(t);
    t = POISON_PTR;
    EXPECT(RNN_ERR_SHAPE, "nbytes", rnn_tensor_wrap(RNN_F32, 2, d, buf, 23, &t));
    OUT_NULL(t);
    EXPECT(RNN_ERR_INVALID_ARG, "data", rnn_tensor_wrap(RNN_F32, 2, d, (char *)buf + 1, 60, &t));
    EXPECT(RNN_ERR_INVALID_ARG, "dtype", rnn_tensor_wrap((rnn_dtype)99, 2, d, buf, sizeof buf, &t));
    EXPECT(RNN_ERR_SHAPE, "rank", rnn_tensor_wrap(RNN_F32, 99, d, buf, sizeof buf, &t));
    OUT_NULL(t);
}

PROBE(rnn_tensor_clone)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3), *t = POISON_PTR;
    NULLARG("src", rnn_tensor_clone(NULL, &t));
    OUT_NULL(t);
    NULLARG("out", rnn_tensor_clone(x, NULL));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_destroy)
{
    (void)F;
    rnn_tensor_destroy(NULL);
}

PROBE(rnn_tensor_dtype)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3);
    rnn_dtype d = (rnn_dtype)POISON_INT;
    NULLARG("tensor", rnn_tensor_dtype(NULL, &d));
    OUT_ZERO((int)d);
    NULLARG("out", rnn_tensor_dtype(x, NULL));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_rank)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3);
    int r = POISON_INT;
    NULLARG("tensor", rnn_tensor_rank(NULL, &r));
    OUT_ZERO(r);
    NULLARG("out", rnn_tensor_rank(x, NULL));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_dim)
{
    rnn_tensor *x = h_tensor(RNN_F32, 2, 2, 3);
    int64_t v = POISON_INT;
    NULLARG("tensor", rnn_tensor_dim(NULL, 0, &v));
    OUT_ZERO(v);
    NULLARG("out", rnn_tensor_dim(x, 0, NULL));
    v = POISON_INT;
    EXPECT(RNN_ERR_RANGE, "axis", rnn_tensor_dim(x, 2, &v));
    OUT_ZERO(v);
    EXPECT(RNN_ERR_RANGE, "axis", rnn_tensor_dim(x, -3, &v));
    EXPECT(RNN_ERR_RANGE, "axis", rnn_tensor_dim(x, INT32_MIN, &v));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_shape)
{
    rnn_tensor *x = h_tensor(RNN_F32, 2, 2, 3);
    int64_t d[2];
    int r = POISON_INT;
    NULLARG("tensor", rnn_tensor_shape(NULL, d, 2, &r));
    OUT_ZERO(r);
    NULLARG("dims", rnn_tensor_shape(x, NULL, 2, &r));
    NULLARG("rank", rnn_tensor_shape(x, d, 2, NULL));
    r = POISON_INT;
    EXPECT(RNN_ERR_INVALID_ARG, "capacity", rnn_tensor_shape(x, d, 1, &r));
    EXPECT(RNN_ERR_INVALID_ARG, "capacity", rnn_tensor_shape(x, d, -1, &r));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_numel)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3);
    int64_t v = POISON_INT;
    NULLARG("tensor", rnn_tensor_numel(NULL, &v));
    OUT_ZERO(v);
    NULLARG("out", rnn_tensor_numel(x, NULL));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_nbytes)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3);
    size_t v = 777;
    NULLARG("tensor", rnn_tensor_nbytes(NULL, &v));
    OUT_ZERO(v);
    NULLARG("out", rnn_tensor_nbytes(x, NULL));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_data)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3);
    void *p = POISON_PTR;
    NULLARG("tensor", rnn_tensor_data(NULL, &p));
    OUT_NULL(p);
    NULLARG("out", rnn_tensor_data(x, NULL));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_data_const)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3);
    const void *p = POISON_PTR;
    NULLARG("tensor", rnn_tensor_data_const(NULL, &p));
    OUT_NULL(p);
    NULLARG("out", rnn_tensor_data_const(x, NULL));
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_reshape)
{
    rnn_tensor *x = h_tensor(RNN_F32, 2, 2, 3);
    int64_t d5[1] = {5}, dneg[2] = {-2, -3}, d6[1] = {6};
    NULLARG("tensor", rnn_tensor_reshape(NULL, 1, d6));
    NULLARG("dims", rnn_tensor_reshape(x, 1, NULL));
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_tensor_reshape(x, 1, d5));
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_tensor_reshape(x, 2, dneg));
    EXPECT(RNN_ERR_SHAPE, "rank", rnn_tensor_reshape(x, -1, d6));
    EXPECT(RNN_ERR_SHAPE, "rank", rnn_tensor_reshape(x, 99, d6));
    int64_t n;
    ck_ok(rnn_tensor_dim(x, 1, &n));
    ck_assert_int_eq(n, 3); /* unchanged */
    rnn_tensor_destroy(x);
}

PROBE(rnn_tensor_get_f32)
{
    rnn_tensor *x = h_tensor(RNN_F32, 2, 2, 3), *i = h_tensor(RNN_I32, 2, 2, 3);
    int64_t ok[2] = {1, 2}, bad[2] = {1, 3}, neg[2] = {-1, 0};
    float v = 7.0f;
    NULLARG("tensor", rnn_tensor_get_f32(NULL, 2, ok, &v));
    OUT_ZERO(v);
    NULLARG("index", rnn_tensor_get_f32(x, 2, NULL, &v));
    NULLARG("out", rnn_tensor_get_f32(x, 2, ok, NULL));
    v = 7.0f;
    EXPECT(RNN_ERR_RANGE, "index[1]", rnn_tensor_get_f32(x, 2, bad, &v));
    OUT_ZERO(v);
    EXPECT(RNN_ERR_RANGE, "index[0]", rnn_tensor_get_f32(x, 2, neg, &v));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_tensor_get_f32(i, 2, ok, &v));
    EXPECT(RNN_ERR_INVALID_ARG, "n_index", rnn_tensor_get_f32(x, 1, ok, &v));
    EXPECT(RNN_ERR_INVALID_ARG, "n_index", rnn_tensor_get_f32(x, -1, ok, &v));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(i);
}

PROBE(rnn_tensor_set_f32)
{
    rnn_tensor *x = h_tensor(RNN_F32, 2, 2, 3), *i = h_tensor(RNN_I32, 2, 2, 3);
    int64_t ok[2] = {1, 2}, bad[2] = {2, 0};
    NULLARG("tensor", rnn_tensor_set_f32(NULL, 2, ok, 1.0f));
    NULLARG("index", rnn_tensor_set_f32(x, 2, NULL, 1.0f));
    EXPECT(RNN_ERR_RANGE, "index[0]", rnn_tensor_set_f32(x, 2, bad, 1.0f));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_tensor_set_f32(i, 2, ok, 1.0f));
    EXPECT(RNN_ERR_INVALID_ARG, "n_index", rnn_tensor_set_f32(x, 3, ok, 1.0f));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(i);
}

PROBE(rnn_tensor_get_i32)
{
    rnn_tensor *x = h_tensor(RNN_F32, 2, 2, 3), *i = h_tensor(RNN_I32, 2, 2, 3);
    int64_t ok[2] = {1, 2}, bad[2] = {0, INT64_MAX};
    int32_t v = 7;
    NULLARG("tensor", rnn_tensor_get_i32(NULL, 2, ok, &v));
    OUT_ZERO(v);
    NULLARG("index", rnn_tensor_get_i32(i, 2, NULL, &v));
    NULLARG("out", rnn_tensor_get_i32(i, 2, ok, NULL));
    EXPECT(RNN_ERR_RANGE, "index[1]", rnn_tensor_get_i32(i, 2, bad, &v));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_tensor_get_i32(x, 2, ok, &v));
    EXPECT(RNN_ERR_INVALID_ARG, "n_index", rnn_tensor_get_i32(i, 0, NULL, &v));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(i);
}

PROBE(rnn_tensor_set_i32)
{
    rnn_tensor *x = h_tensor(RNN_F32, 2, 2, 3), *i = h_tensor(RNN_I32, 2, 2, 3);
    int64_t ok[2] = {1, 2}, bad[2] = {INT64_MIN, 0};
    NULLARG("tensor", rnn_tensor_set_i32(NULL, 2, ok, 1));
    NULLARG("index", rnn_tensor_set_i32(i, 2, NULL, 1));
    EXPECT(RNN_ERR_RANGE, "index[0]", rnn_tensor_set_i32(i, 2, bad, 1));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_tensor_set_i32(x, 2, ok, 1));
    EXPECT(RNN_ERR_INVALID_ARG, "n_index", rnn_tensor_set_i32(i, INT32_MAX, ok, 1));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(i);
}

PROBE(rnn_tensor_copy)
{
    rnn_tensor *a = h_tensor(RNN_F32, 2, 2, 3), *b = h_tensor(RNN_F32, 2, 3, 2),
               *i = h_tensor(RNN_I32, 2, 2, 3);
    NULLARG("dst", rnn_tensor_copy(NULL, a));
    NULLARG("src", rnn_tensor_copy(a, NULL));
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_tensor_copy(a, b));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_tensor_copy(a, i));
    rnn_tensor_destroy(a);
    rnn_tensor_destroy(b);
    rnn_tensor_destroy(i);
}

PROBE(rnn_tensor_fill_f32)
{
    rnn_tensor *i = h_tensor(RNN_I32, 1, 3);
    NULLARG("tensor", rnn_tensor_fill_f32(NULL, 1.0f));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_tensor_fill_f32(i, 1.0f));
    rnn_tensor_destroy(i);
}

PROBE(rnn_tensor_fill_i32)
{
    rnn_tensor *x = h_tensor(RNN_F32, 1, 3);
    NULLARG("tensor", rnn_tensor_fill_i32(NULL, 1));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_tensor_fill_i32(x, 1));
    rnn_tensor_destroy(x);
}

/* ------------------------------------------------------------ model.h */

PROBE(rnn_model_options_init)
{
    (void)F;
    rnn_model_options_init(NULL);
}

PROBE(rnn_model_create)
{
    rnn_model_options o;
    rnn_model_options_init(&o);
    rnn_model *m = POISON_PTR;
    NULLARG("out", rnn_model_create(&o, NULL));
    o.backend = (rnn_backend)99;
    EXPECT(RNN_ERR_INVALID_ARG, "backend", rnn_model_create(&o, &m));
    OUT_NULL(m);
    rnn_model_options_init(&o);
    o.struct_size = 0;
    m = POISON_PTR;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_create(&o, &m));
    OUT_NULL(m);
    o.struct_size = 1u << 30;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_create(&o, &m));
}

PROBE(rnn_model_destroy)
{
    (void)F;
    rnn_model_destroy(NULL);
}

PROBE(rnn_model_add_input)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t s[2] = {0, 3}, neg[2] = {-1, 3};
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_input(NULL, RNN_F32, 2, s, &l));
    OUT_NULL(l);
    NULLARG("shape", rnn_model_add_input(m, RNN_F32, 2, NULL, NULL));
    EXPECT(RNN_ERR_DTYPE, "dtype", rnn_model_add_input(m, (rnn_dtype)99, 2, s, NULL));
    l = POISON_PTR;
    EXPECT(RNN_ERR_SHAPE, "rank", rnn_model_add_input(m, RNN_F32, -1, s, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_SHAPE, "rank", rnn_model_add_input(m, RNN_F32, 99, s, NULL));
    prime();
    rnn_status st = rnn_model_add_input(m, RNN_F32, 2, neg, NULL);
    ck_assert_msg(st == RNN_ERR_SHAPE || st == RNN_ERR_INVALID_ARG, "negative steps: %d: %s",
                  (int)st, rnn_last_error());
    check_(st, st, F, NULL, "negative steps", __LINE__);
    int n = POISON_INT;
    ck_ok(rnn_model_num_inputs(m, &n));
    ck_assert_int_eq(n, 0);
    rnn_model_destroy(m);
}

PROBE(rnn_model_num_inputs)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    int n = POISON_INT;
    NULLARG("model", rnn_model_num_inputs(NULL, &n));
    OUT_ZERO(n);
    NULLARG("out", rnn_model_num_inputs(m, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_connect_next)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL), *other = h_seq_model(0, NULL, NULL);
    rnn_layer *ol;
    ck_ok(rnn_model_layer(other, 1, &ol));
    NULLARG("model", rnn_model_connect_next(NULL, lstm, 0));
    NULLARG("layer", rnn_model_connect_next(m, NULL, 0));
    EXPECT(RNN_ERR_INVALID_ARG, "layer", rnn_model_connect_next(m, ol, 0));
    EXPECT(RNN_ERR_RANGE, "output", rnn_model_connect_next(m, lstm, 1));
    EXPECT(RNN_ERR_RANGE, "output", rnn_model_connect_next(m, lstm, -1));
    rnn_model_destroy(m);
    rnn_model_destroy(other);
}

PROBE(rnn_model_add_shared)
{
    rnn_layer *dense;
    rnn_model *m = h_seq_model(0, NULL, &dense), *other = h_seq_model(0, NULL, NULL);
    rnn_layer *in, *ol, *out = POISON_PTR;
    ck_ok(rnn_model_layer(m, 0, &in));
    ck_ok(rnn_model_layer(other, 2, &ol));
    NULLARG("model", rnn_model_add_shared(NULL, dense, &out));
    OUT_NULL(out);
    NULLARG("source", rnn_model_add_shared(m, NULL, NULL));
    out = POISON_PTR;
    EXPECT(RNN_ERR_INVALID_ARG, "source", rnn_model_add_shared(m, ol, &out));
    OUT_NULL(out);
    EXPECT(RNN_ERR_INVALID_ARG, "source", rnn_model_add_shared(m, in, NULL));
    rnn_model_destroy(m);
    rnn_model_destroy(other);
}

PROBE(rnn_model_set_outputs)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    rnn_layer *ls[1] = {lstm}, *nul[1] = {NULL};
    int bad[1] = {3};
    NULLARG("model", rnn_model_set_outputs(NULL, 1, ls, NULL));
    NULLARG("layers", rnn_model_set_outputs(m, 1, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "layers[0]", rnn_model_set_outputs(m, 1, nul, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_model_set_outputs(m, -1, ls, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_model_set_outputs(m, INT32_MAX, ls, NULL));
    EXPECT(RNN_ERR_RANGE, "outputs[0] must be in [0, 1)", rnn_model_set_outputs(m, 1, ls, bad));
    rnn_model_destroy(m);
}

PROBE(rnn_model_num_layers)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    int n = POISON_INT;
    NULLARG("model", rnn_model_num_layers(NULL, &n));
    OUT_ZERO(n);
    NULLARG("out", rnn_model_num_layers(m, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_layer)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_layer(NULL, 0, &l));
    OUT_NULL(l);
    NULLARG("out", rnn_model_layer(m, 0, NULL));
    l = POISON_PTR;
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_layer(m, 3, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_layer(m, -1, &l));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_layer(m, INT32_MIN, &l));
    rnn_model_destroy(m);
}

PROBE(rnn_model_count_params)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    int64_t n = POISON_INT;
    NULLARG("model", rnn_model_count_params(NULL, &n));
    OUT_ZERO(n);
    NULLARG("out", rnn_model_count_params(m, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_forward)
{
    rnn_model *m = h_seq_model(0, NULL, NULL), *empty;
    ck_ok(rnn_model_create(NULL, &empty));
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 4, 3), *xi = h_tensor(RNN_I32, 3, 2, 4, 3),
               *x2 = h_tensor(RNN_F32, 3, 2, 4, 5), *len = h_tensor(RNN_I32, 1, 2),
               *lf = h_tensor(RNN_F32, 1, 2), *l3 = h_tensor(RNN_I32, 1, 3);
    const rnn_tensor *in[1] = {x}, *nul[1] = {NULL}, *ini[1] = {xi}, *in2[1] = {x2};
    NULLARG("model", rnn_model_forward(NULL, 1, in, NULL, 0));
    NULLARG("inputs", rnn_model_forward(m, 1, NULL, NULL, 0));
    EXPECT(RNN_ERR_INVALID_ARG, "inputs[0]", rnn_model_forward(m, 1, nul, NULL, 0));
    EXPECT(RNN_ERR_INVALID_ARG, "num_inputs", rnn_model_forward(m, 2, in, NULL, 0));
    EXPECT(RNN_ERR_INVALID_ARG, "num_inputs", rnn_model_forward(m, -1, in, NULL, 0));
    EXPECT(RNN_ERR_DTYPE, "inputs[0]", rnn_model_forward(m, 1, ini, NULL, 0));
    EXPECT(RNN_ERR_SHAPE, "inputs[0]", rnn_model_forward(m, 1, in2, NULL, 0));
    const rnn_tensor *lns[1] = {lf};
    EXPECT(RNN_ERR_DTYPE, "lengths[0]", rnn_model_forward(m, 1, in, lns, 0));
    lns[0] = l3;
    EXPECT(RNN_ERR_SHAPE, "lengths[0]", rnn_model_forward(m, 1, in, lns, 0));
    int64_t idx[1] = {1};
    ck_ok(rnn_tensor_fill_i32(len, 4));
    ck_ok(rnn_tensor_set_i32(len, 1, idx, 9));
    lns[0] = len;
    EXPECT(RNN_ERR_RANGE, "lengths[0][1]", rnn_model_forward(m, 1, in, lns, 0));
    ck_ok(rnn_tensor_set_i32(len, 1, idx, 0));
    EXPECT(RNN_ERR_RANGE, "lengths[0][1]", rnn_model_forward(m, 1, in, lns, 0));
    EXPECT(RNN_ERR_INVALID_ARG, "training must be 0 or 1 (got 7)",
           rnn_model_forward(m, 1, in, NULL, 7));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_forward(empty, 1, in, NULL, 0));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(xi);
    rnn_tensor_destroy(x2);
    rnn_tensor_destroy(len);
    rnn_tensor_destroy(lf);
    rnn_tensor_destroy(l3);
    rnn_model_destroy(m);
    rnn_model_destroy(empty);
}

PROBE(rnn_model_num_outputs)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    int n = POISON_INT;
    NULLARG("model", rnn_model_num_outputs(NULL, &n));
    OUT_ZERO(n);
    NULLARG("out", rnn_model_num_outputs(m, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_output)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    const rnn_tensor *t = POISON_PTR;
    NULLARG("model", rnn_model_output(NULL, 0, &t));
    OUT_NULL(t);
    NULLARG("out", rnn_model_output(m, 0, NULL));
    t = POISON_PTR;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_output(m, 0, &t)); /* no forward yet */
    OUT_NULL(t);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 4, 3);
    const rnn_tensor *in[1] = {x};
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_output(m, 1, &t));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_output(m, -1, &t));
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
}

PROBE(rnn_model_output_source)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    const rnn_layer *l = POISON_PTR;
    int o = POISON_INT;
    NULLARG("model", rnn_model_output_source(NULL, 0, &l, &o));
    OUT_NULL(l);
    OUT_ZERO(o);
    NULLARG("layer", rnn_model_output_source(m, 0, NULL, &o));
    NULLARG("output", rnn_model_output_source(m, 0, &l, NULL));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_output_source(m, 1, &l, &o));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_output_source(m, -1, &l, &o));
    ck_ok(rnn_model_output_source(m, 0, &l, &o));
    ck_assert_ptr_nonnull(l);
    rnn_model_destroy(m);
}

PROBE(rnn_model_backward)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 4, 3), *g = h_tensor(RNN_F32, 2, 2, 3),
               *gb = h_tensor(RNN_F32, 2, 2, 4), *gi = h_tensor(RNN_I32, 2, 2, 3);
    const rnn_tensor *in[1] = {x}, *gs[1] = {g};
    NULLARG("model", rnn_model_backward(NULL, 1, gs));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_backward(m, 1, gs)); /* no forward */
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_backward(m, 1, gs)); /* inference forward */
    ck_ok(rnn_model_forward(m, 1, in, NULL, 1));
    EXPECT(RNN_ERR_INVALID_ARG, "num_outputs", rnn_model_backward(m, 2, gs));
    EXPECT(RNN_ERR_INVALID_ARG, "num_outputs", rnn_model_backward(m, -1, gs));
    gs[0] = gb;
    EXPECT(RNN_ERR_SHAPE, "grads[0]", rnn_model_backward(m, 1, gs));
    gs[0] = gi;
    EXPECT(RNN_ERR_DTYPE, "grads[0]", rnn_model_backward(m, 1, gs));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(g);
    rnn_tensor_destroy(gb);
    rnn_tensor_destroy(gi);
    rnn_model_destroy(m);
}

PROBE(rnn_model_input_grad)
{
    rnn_model *m = h_seq_model(0, NULL, NULL), *tm = h_token_model();
    const rnn_tensor *t = POISON_PTR;
    NULLARG("model", rnn_model_input_grad(NULL, 0, &t));
    OUT_NULL(t);
    NULLARG("out", rnn_model_input_grad(m, 0, NULL));
    t = POISON_PTR;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_input_grad(m, 0, &t));
    OUT_NULL(t);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 4, 3), *tok = h_tensor(RNN_I32, 2, 2, 4);
    const rnn_tensor *in[1] = {x}, *tin[1] = {tok};
    ck_ok(rnn_model_forward(m, 1, in, NULL, 1));
    ck_ok(rnn_model_backward(m, 1, NULL));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_input_grad(m, 1, &t));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_input_grad(m, -1, &t));
    ck_ok(rnn_model_forward(tm, 1, tin, NULL, 1));
    ck_ok(rnn_model_backward(tm, 1, NULL));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_model_input_grad(tm, 0, &t));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(tok);
    rnn_model_destroy(m);
    rnn_model_destroy(tm);
}

PROBE(rnn_model_zero_grad)
{
    NULLARG("model", rnn_model_zero_grad(NULL));
}

PROBE(rnn_model_reset_states)
{
    NULLARG("model", rnn_model_reset_states(NULL));
}

PROBE(rnn_model_set_precision)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    NULLARG("model", rnn_model_set_precision(NULL, RNN_PRECISION_F32));
    EXPECT(RNN_ERR_INVALID_ARG, "precision", rnn_model_set_precision(m, (rnn_precision)2));
    EXPECT(RNN_ERR_INVALID_ARG, "precision", rnn_model_set_precision(m, (rnn_precision)-1));
    rnn_model_destroy(m);
}

PROBE(rnn_model_get_precision)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_precision p = (rnn_precision)POISON_INT;
    NULLARG("model", rnn_model_get_precision(NULL, &p));
    OUT_ZERO(p);
    NULLARG("out", rnn_model_get_precision(m, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_set_collective)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    NULLARG("model", rnn_model_set_collective(NULL, NULL));
    rnn_collective c;
    memset(&c, 0, sizeof c);
    EXPECT(RNN_ERR_INVALID_ARG, "collective->struct_size", rnn_model_set_collective(m, &c));
    c.struct_size = sizeof c;
    c.size = 1;
    EXPECT(RNN_ERR_INVALID_ARG, "collective->allreduce_sum", rnn_model_set_collective(m, &c));
    c.rank = -1;
    EXPECT(RNN_ERR_INVALID_ARG, "collective->rank", rnn_model_set_collective(m, &c));
    ck_ok(rnn_model_set_collective(m, NULL)); /* detaching nothing is fine */
    rnn_model_destroy(m);
}

PROBE(rnn_model_sync_weights)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    NULLARG("model", rnn_model_sync_weights(NULL));
    EXPECT(RNN_ERR_STATE, "no collective", rnn_model_sync_weights(m));
    rnn_model_destroy(m);
}

PROBE(rnn_model_collective_rank)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    int rank = POISON_INT, size = POISON_INT;
    NULLARG("model", rnn_model_collective_rank(NULL, &rank, &size));
    OUT_ZERO(rank);
    ck_assert_int_eq(size, 1);
    ck_ok(rnn_model_collective_rank(m, NULL, NULL));
    ck_ok(rnn_model_collective_rank(m, &rank, &size));
    ck_assert(rank == 0 && size == 1);
    rnn_model_destroy(m);
}

PROBE(rnn_compile_options_init)
{
    (void)F;
    rnn_compile_options_init(NULL, RNN_LOSS_MEAN_SQUARED_ERROR);
    rnn_compile_options c;
    rnn_compile_options_init(&c, (rnn_loss_type)99); /* compile refuses it */
}

PROBE(rnn_model_compile)
{
    rnn_model *m = h_seq_model(0, NULL, NULL), *empty;
    ck_ok(rnn_model_create(NULL, &empty));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    NULLARG("model", rnn_model_compile(NULL, &c, &o));
    NULLARG("options", rnn_model_compile(m, NULL, &o));
    NULLARG("optimizer", rnn_model_compile(m, &c, NULL));
    c.loss = (rnn_loss_type)99;
    EXPECT(RNN_ERR_INVALID_ARG, "loss", rnn_model_compile(m, &c, &o));
    c.loss = RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    c.reduction = (rnn_reduction)99;
    EXPECT(RNN_ERR_INVALID_ARG, "reduction", rnn_model_compile(m, &c, &o));
    c.reduction = RNN_REDUCTION_MEAN;
    c.from_logits = 5;
    EXPECT(RNN_ERR_INVALID_ARG, "options->from_logits must be 0 or 1 (got 5)",
           rnn_model_compile(m, &c, &o));
    c.from_logits = 0;
    c.struct_size = 3;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_compile(m, &c, &o));
    c.struct_size = sizeof c;
    o.type = (rnn_optimizer_type)99;
    EXPECT(RNN_ERR_INVALID_ARG, "type", rnn_model_compile(m, &c, &o));
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.learning_rate = -1.0f;
    EXPECT(RNN_ERR_INVALID_ARG, "learning_rate", rnn_model_compile(m, &c, &o));
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_compile(empty, &c, &o));
    rnn_optimizer *opt = POISON_PTR;
    ck_assert_int_eq(rnn_model_optimizer(m, &opt), RNN_ERR_STATE); /* still not compiled */
    rnn_model_destroy(m);
    rnn_model_destroy(empty);
}

/* Shared by train_step and test_step. */
static void step_probe(const char *F, int train)
{
    rnn_status (*fn)(rnn_model *, int, const rnn_tensor *const *, const rnn_tensor *const *,
                     const rnn_tensor *, float *, float *) =
        train ? rnn_model_train_step : rnn_model_test_step;
    rnn_model *m = h_seq_model(1, NULL, NULL), *un = h_seq_model(0, NULL, NULL);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 4, 3), *y = h_tensor(RNN_I32, 1, 2),
               *yf = h_tensor(RNN_F32, 1, 2), *y3 = h_tensor(RNN_I32, 1, 3),
               *yr = h_tensor(RNN_I32, 1, 2);
    const rnn_tensor *in[1] = {x};
    size_t n;
    float *w = h_snapshot(m, &n);
    float loss = 7.0f, acc = 7.0f;
    NULLARG("model", fn(NULL, 1, in, NULL, y, &loss, &acc));
    NULLARG("inputs", fn(m, 1, NULL, NULL, y, &loss, &acc));
    NULLARG("targets", fn(m, 1, in, NULL, NULL, &loss, &acc));
    EXPECT(RNN_ERR_STATE, NULL, fn(un, 1, in, NULL, y, &loss, &acc));
    EXPECT(RNN_ERR_INVALID_ARG, "num_inputs", fn(m, 0, in, NULL, y, &loss, &acc));
    EXPECT(RNN_ERR_DTYPE, "targets", fn(m, 1, in, NULL, yf, &loss, &acc));
    EXPECT(RNN_ERR_SHAPE, "targets", fn(m, 1, in, NULL, y3, &loss, &acc));
    int64_t i1[1] = {1};
    ck_ok(rnn_tensor_set_i32(yr, 1, i1, 3));
    EXPECT(RNN_ERR_RANGE, NULL, fn(m, 1, in, NULL, yr, &loss, &acc));
    ck_ok(rnn_tensor_set_i32(yr, 1, i1, -1));
    EXPECT(RNN_ERR_RANGE, NULL, fn(m, 1, in, NULL, yr, &loss, &acc));
    h_assert_weights(m, w, n, F);
    free(w);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_tensor_destroy(yf);
    rnn_tensor_destroy(y3);
    rnn_tensor_destroy(yr);
    rnn_model_destroy(m);
    rnn_model_destroy(un);
}

PROBE(rnn_model_train_step)
{
    step_probe(F, 1);
}

PROBE(rnn_model_test_step)
{
    step_probe(F, 0);
}

/* ------------------------------------------------------------ layers.h */

PROBE(rnn_recurrent_options_init)
{
    (void)F;
    rnn_recurrent_options_init(NULL, RNN_LSTM);
    rnn_recurrent_options_init(NULL, (rnn_cell_type)99);
}

PROBE(rnn_model_add_recurrent)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = 4;
    rnn_layer *l = POISON_PTR;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_recurrent(m, &r, &l)); /* no input */
    OUT_NULL(l);
    int64_t s[2] = {0, 3};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, s, NULL));
    NULLARG("model", rnn_model_add_recurrent(NULL, &r, NULL));
    NULLARG("options", rnn_model_add_recurrent(m, NULL, NULL));
    r.units = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "units", rnn_model_add_recurrent(m, &r, &l));
    r.units = -5;
    EXPECT(RNN_ERR_INVALID_ARG, "units", rnn_model_add_recurrent(m, &r, &l));
    r.units = INT64_MAX;
    EXPECT(RNN_ERR_INVALID_ARG, "units", rnn_model_add_recurrent(m, &r, &l));
    r.units = 4;
    r.cell = (rnn_cell_type)99;
    EXPECT(RNN_ERR_INVALID_ARG, "cell", rnn_model_add_recurrent(m, &r, &l));
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 4;
    r.activation = (rnn_activation)99;
    EXPECT(RNN_ERR_INVALID_ARG, "activation", rnn_model_add_recurrent(m, &r, &l));
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 4;
    r.kernel_initializer = (rnn_initializer)99;
    EXPECT(RNN_ERR_INVALID_ARG, "kernel_initializer", rnn_model_add_recurrent(m, &r, &l));
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 4;
    r.merge_mode = (rnn_merge_mode)99;
    r.bidirectional = 1;
    EXPECT(RNN_ERR_INVALID_ARG, "merge_mode", rnn_model_add_recurrent(m, &r, &l));
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 4;
    r.dropout = 1.0f;
    EXPECT(RNN_ERR_INVALID_ARG, "dropout", rnn_model_add_recurrent(m, &r, &l));
    r.dropout = -0.5f;
    EXPECT(RNN_ERR_INVALID_ARG, "dropout", rnn_model_add_recurrent(m, &r, &l));
    r.dropout = 0;
    r.recurrent_dropout = 2.0f;
    EXPECT(RNN_ERR_INVALID_ARG, "recurrent_dropout", rnn_model_add_recurrent(m, &r, &l));
    r.recurrent_dropout = 0;
    r.return_sequences = 7;
    EXPECT(RNN_ERR_INVALID_ARG, "return_sequences", rnn_model_add_recurrent(m, &r, &l));
    r.return_sequences = 0;
    r.struct_size = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_add_recurrent(m, &r, &l));
    OUT_NULL(l);
    int n;
    ck_ok(rnn_model_num_layers(m, &n));
    ck_assert_int_eq(n, 1); /* nothing was added */
    rnn_model_destroy(m);
}

/* The layer queries taking (layer, out pointer). */
#define LAYER_OUT_PROBE(fn, T, reset)                                     \
    PROBE(fn)                                                             \
    {                                                                     \
        rnn_layer *lstm;                                                  \
        rnn_model *m = h_seq_model(0, &lstm, NULL);                       \
        T v = (T)(uintptr_t)(POISON_INT);                                 \
        NULLARG("layer", fn(NULL, &v));                                   \
        reset(v);                                                         \
        NULLARG("out", fn(lstm, NULL));                                   \
        rnn_model_destroy(m);                                             \
    }
#define RESET_INT(v) OUT_ZERO(v)
#define RESET_PTR(v) OUT_NULL(v)

LAYER_OUT_PROBE(rnn_layer_name, const char *, RESET_PTR)
LAYER_OUT_PROBE(rnn_layer_type, const char *, RESET_PTR)
LAYER_OUT_PROBE(rnn_layer_count_params, int64_t, RESET_INT)
LAYER_OUT_PROBE(rnn_layer_num_params, int, RESET_INT)
LAYER_OUT_PROBE(rnn_layer_num_outputs, int, RESET_INT)
LAYER_OUT_PROBE(rnn_layer_num_states, int, RESET_INT)
LAYER_OUT_PROBE(rnn_layer_num_inputs, int, RESET_INT)

PROBE(rnn_layer_input)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    const rnn_layer *l = POISON_PTR;
    int o = POISON_INT;
    NULLARG("layer", rnn_layer_input(NULL, 0, &l, &o));
    OUT_NULL(l);
    OUT_ZERO(o);
    NULLARG("producer", rnn_layer_input(lstm, 0, NULL, &o));
    NULLARG("output", rnn_layer_input(lstm, 0, &l, NULL));
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_input(lstm, 1, &l, &o));
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_input(lstm, -1, &l, &o));
    ck_ok(rnn_layer_input(lstm, 0, &l, &o));
    ck_assert_ptr_nonnull(l);
    rnn_model_destroy(m);
}
LAYER_OUT_PROBE(rnn_layer_trainable, int, RESET_INT)

PROBE(rnn_model_add_layer)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_layer(NULL, "dense", "{\"units\": 2}", 0, NULL, NULL, &l));
    OUT_NULL(l);
    NULLARG("kind", rnn_model_add_layer(m, NULL, "{\"units\": 2}", 0, NULL, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "kind", rnn_model_add_layer(m, "nope", NULL, 0, NULL, NULL, NULL));
    l = POISON_PTR;
    EXPECT(RNN_ERR_INVALID_ARG, NULL, rnn_model_add_layer(m, "dense", "{\"units\": ", 0, NULL,
                                                          NULL, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_INVALID_ARG, "units",
           rnn_model_add_layer(m, "dense", "{\"units\": -3}", 0, NULL, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "bogus",
           rnn_model_add_layer(m, "dense", "{\"units\": 2, \"bogus\": 1}", 0, NULL, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "config",
           rnn_model_add_layer(m, "dense", "{\"units\": 1e999}", 0, NULL, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count",
           rnn_model_add_layer(m, "dense", "{\"units\": 2}", -1, NULL, NULL, NULL));
    NULLARG("layers", rnn_model_add_layer(m, "dense", "{\"units\": 2}", 1, NULL, NULL, NULL));
    int n;
    ck_ok(rnn_model_num_layers(m, &n));
    ck_assert_int_eq(n, 3);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_config)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    char buf[8];
    size_t need = 777;
    NULLARG("layer", rnn_layer_config(NULL, buf, sizeof buf, &need));
    OUT_ZERO(need);
    NULLARG("buf", rnn_layer_config(lstm, NULL, sizeof buf, &need));
    ck_ok(rnn_layer_config(lstm, NULL, 0, &need)); /* size 0: NULL buf is fine */
    ck_assert_uint_gt(need, 10);
    ck_ok(rnn_layer_config(lstm, buf, sizeof buf, NULL)); /* truncates, NUL-terminated */
    ck_assert_uint_eq(strlen(buf), sizeof buf - 1);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_param)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    const char *name = POISON_PTR;
    rnn_tensor *v = POISON_PTR, *g = POISON_PTR;
    NULLARG("layer", rnn_layer_param(NULL, 0, &name, &v, &g));
    OUT_NULL(name);
    OUT_NULL(v);
    OUT_NULL(g);
    name = POISON_PTR;
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_param(lstm, 3, &name, &v, &g));
    OUT_NULL(name);
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_param(lstm, -1, &name, &v, &g));
    ck_ok(rnn_layer_param(lstm, 0, NULL, NULL, NULL)); /* any out pointer may be NULL */
    rnn_model_destroy(m);
}

PROBE(rnn_layer_find_param)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    int i = POISON_INT;
    NULLARG("layer", rnn_layer_find_param(NULL, "kernel", &i));
    ck_assert_int_eq(i, -1);
    NULLARG("name", rnn_layer_find_param(lstm, NULL, &i));
    NULLARG("out", rnn_layer_find_param(lstm, "kernel", NULL));
    i = POISON_INT;
    EXPECT(RNN_ERR_RANGE, "nope", rnn_layer_find_param(lstm, "nope", &i));
    /* -1, "no index", rather than the 0 of common.h's convention (0 is a valid index). */
    ck_assert_int_eq(i, -1);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_set_param)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    rnn_tensor *k = h_tensor(RNN_F32, 2, 3, 32), *kb = h_tensor(RNN_F32, 2, 32, 3),
               *ki = h_tensor(RNN_I32, 2, 3, 32);
    size_t n;
    float *w = h_snapshot(m, &n);
    NULLARG("layer", rnn_layer_set_param(NULL, 0, k));
    NULLARG("value", rnn_layer_set_param(lstm, 0, NULL));
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_set_param(lstm, 3, k));
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_set_param(lstm, -1, k));
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_layer_set_param(lstm, 0, kb));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_layer_set_param(lstm, 0, ki));
    h_assert_weights(m, w, n, F);
    free(w);
    rnn_tensor_destroy(k);
    rnn_tensor_destroy(kb);
    rnn_tensor_destroy(ki);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_params_changed)
{
    NULLARG("layer", rnn_layer_params_changed(NULL));
}

PROBE(rnn_layer_weights_count)
{
    rnn_layer *lstm, *dense;
    rnn_model *m = h_seq_model(0, &lstm, &dense);
    int n = POISON_INT;
    NULLARG("layer", rnn_layer_weights_count(NULL, RNN_WEIGHTS_KERAS, &n));
    OUT_ZERO(n);
    NULLARG("out", rnn_layer_weights_count(lstm, RNN_WEIGHTS_KERAS, NULL));
    n = POISON_INT;
    EXPECT(RNN_ERR_INVALID_ARG, "format", rnn_layer_weights_count(lstm, (rnn_weights_format)99, &n));
    OUT_ZERO(n);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_weights_shape)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    int64_t dims[RNN_MAX_RANK];
    int rank = POISON_INT;
    const char *name = POISON_PTR;
    NULLARG("layer", rnn_layer_weights_shape(NULL, RNN_WEIGHTS_KERAS, 0, dims, &rank, &name));
    OUT_ZERO(rank);
    OUT_NULL(name);
    NULLARG("dims", rnn_layer_weights_shape(lstm, RNN_WEIGHTS_KERAS, 0, NULL, &rank, NULL));
    NULLARG("rank", rnn_layer_weights_shape(lstm, RNN_WEIGHTS_KERAS, 0, dims, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "format",
           rnn_layer_weights_shape(lstm, (rnn_weights_format)99, 0, dims, &rank, NULL));
    EXPECT(RNN_ERR_RANGE, "index",
           rnn_layer_weights_shape(lstm, RNN_WEIGHTS_KERAS, 3, dims, &rank, NULL));
    EXPECT(RNN_ERR_RANGE, "index",
           rnn_layer_weights_shape(lstm, RNN_WEIGHTS_PYTORCH, -1, dims, &rank, NULL));
    rnn_model_destroy(m);
}

/* Shared by get_weights and set_weights. */
static void weights_probe(const char *F, int set)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    rnn_tensor *k = h_tensor(RNN_F32, 2, 3, 32), *r = h_tensor(RNN_F32, 2, 8, 32),
               *b = h_tensor(RNN_F32, 1, 32), *bad = h_tensor(RNN_F32, 2, 32, 3),
               *bi = h_tensor(RNN_I32, 1, 32);
    rnn_tensor *arr[3] = {k, r, b};
    size_t n;
    float *w = h_snapshot(m, &n);
#define WCALL(layer, fmt, count, a)                                                             \
    (set ? rnn_layer_set_weights(layer, fmt, count, (const rnn_tensor *const *)(a))              \
         : rnn_layer_get_weights(layer, fmt, count, a))
    NULLARG("layer", WCALL(NULL, RNN_WEIGHTS_KERAS, 3, arr));
    NULLARG("arrays", WCALL(lstm, RNN_WEIGHTS_KERAS, 3, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", WCALL(lstm, RNN_WEIGHTS_KERAS, 2, arr));
    EXPECT(RNN_ERR_INVALID_ARG, "count", WCALL(lstm, RNN_WEIGHTS_KERAS, -1, arr));
    EXPECT(RNN_ERR_INVALID_ARG, "format", WCALL(lstm, (rnn_weights_format)99, 3, arr));
    arr[1] = NULL;
    EXPECT(RNN_ERR_INVALID_ARG, "arrays[1]", WCALL(lstm, RNN_WEIGHTS_KERAS, 3, arr));
    arr[1] = bad;
    EXPECT(RNN_ERR_SHAPE, "arrays[1]", WCALL(lstm, RNN_WEIGHTS_KERAS, 3, arr));
    arr[1] = r;
    arr[2] = bi;
    EXPECT(RNN_ERR_DTYPE, "arrays[2]", WCALL(lstm, RNN_WEIGHTS_KERAS, 3, arr));
#undef WCALL
    h_assert_weights(m, w, n, F);
    free(w);
    rnn_tensor_destroy(k);
    rnn_tensor_destroy(r);
    rnn_tensor_destroy(b);
    rnn_tensor_destroy(bad);
    rnn_tensor_destroy(bi);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_get_weights)
{
    weights_probe(F, 0);
}

PROBE(rnn_layer_set_weights)
{
    weights_probe(F, 1);
}

PROBE(rnn_layer_output)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    const rnn_tensor *t = POISON_PTR;
    NULLARG("layer", rnn_layer_output(NULL, 0, &t));
    OUT_NULL(t);
    NULLARG("out", rnn_layer_output(lstm, 0, NULL));
    t = POISON_PTR;
    EXPECT(RNN_ERR_STATE, NULL, rnn_layer_output(lstm, 0, &t));
    OUT_NULL(t);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 4, 3);
    const rnn_tensor *in[1] = {x};
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_output(lstm, 1, &t));
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_output(lstm, -1, &t));
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_set_initial_state)
{
    rnn_layer *lstm, *dense;
    rnn_model *m = h_seq_model(0, &lstm, &dense);
    rnn_tensor *h = h_tensor(RNN_F32, 2, 2, 8), *c = h_tensor(RNN_F32, 2, 2, 8),
               *hb = h_tensor(RNN_F32, 2, 2, 7), *hi = h_tensor(RNN_I32, 2, 2, 8);
    const rnn_tensor *s[2] = {h, c};
    NULLARG("layer", rnn_layer_set_initial_state(NULL, 2, s));
    NULLARG("states", rnn_layer_set_initial_state(lstm, 2, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_layer_set_initial_state(lstm, 1, s));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_layer_set_initial_state(lstm, -1, s));
    s[1] = NULL;
    EXPECT(RNN_ERR_INVALID_ARG, "states[1]", rnn_layer_set_initial_state(lstm, 2, s));
    s[1] = hb;
    EXPECT(RNN_ERR_SHAPE, "states[1]", rnn_layer_set_initial_state(lstm, 2, s));
    s[1] = hi;
    EXPECT(RNN_ERR_DTYPE, "states[1]", rnn_layer_set_initial_state(lstm, 2, s));
    s[1] = c;
    prime();
    rnn_status st = rnn_layer_set_initial_state(dense, 2, s); /* not recurrent */
    ck_assert_msg(st == RNN_ERR_INVALID_ARG || st == RNN_ERR_STATE, "dense: %d: %s", (int)st,
                  rnn_last_error());
    check_(st, st, F, NULL, "set_initial_state(dense)", __LINE__);
    rnn_tensor_destroy(h);
    rnn_tensor_destroy(c);
    rnn_tensor_destroy(hb);
    rnn_tensor_destroy(hi);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_connect_initial_state)
{
    rnn_layer *lstm, *dense, *in;
    rnn_model *m = h_seq_model(0, &lstm, &dense);
    ck_ok(rnn_model_layer(m, 0, &in));
    rnn_layer *src[2] = {in, in};
    NULLARG("layer", rnn_layer_connect_initial_state(NULL, 2, src, NULL));
    NULLARG("sources", rnn_layer_connect_initial_state(lstm, 2, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_layer_connect_initial_state(lstm, 1, src, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_layer_connect_initial_state(lstm, -3, src, NULL));
    EXPECT(RNN_ERR_SHAPE, "sources[0]", rnn_layer_connect_initial_state(lstm, 2, src, NULL));
    src[0] = NULL;
    EXPECT(RNN_ERR_INVALID_ARG, "sources[0]", rnn_layer_connect_initial_state(lstm, 2, src, NULL));
    src[0] = src[1] = dense; /* added after the layer */
    EXPECT(RNN_ERR_INVALID_ARG, "sources[0]", rnn_layer_connect_initial_state(lstm, 2, src, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_layer_initial_state_grad)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    const rnn_tensor *t = POISON_PTR;
    NULLARG("layer", rnn_layer_initial_state_grad(NULL, 0, &t));
    OUT_NULL(t);
    NULLARG("out", rnn_layer_initial_state_grad(lstm, 0, NULL));
    t = POISON_PTR;
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_initial_state_grad(lstm, 0, &t)); /* none set */
    OUT_NULL(t);
    rnn_tensor *h = h_tensor(RNN_F32, 2, 2, 8), *c = h_tensor(RNN_F32, 2, 2, 8);
    const rnn_tensor *s[2] = {h, c};
    ck_ok(rnn_layer_set_initial_state(lstm, 2, s));
    EXPECT(RNN_ERR_STATE, NULL, rnn_layer_initial_state_grad(lstm, 0, &t)); /* no backward */
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_initial_state_grad(lstm, 2, &t));
    EXPECT(RNN_ERR_RANGE, "index", rnn_layer_initial_state_grad(lstm, -1, &t));
    rnn_tensor_destroy(h);
    rnn_tensor_destroy(c);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_reset_states)
{
    NULLARG("layer", rnn_layer_reset_states(NULL));
}

PROBE(rnn_dense_options_init)
{
    (void)F;
    rnn_dense_options_init(NULL);
}

PROBE(rnn_model_add_dense)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2;
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_dense(NULL, &d, &l));
    OUT_NULL(l);
    NULLARG("options", rnn_model_add_dense(m, NULL, NULL));
    d.units = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "units", rnn_model_add_dense(m, &d, &l));
    d.units = 2;
    d.activation = (rnn_activation)99;
    EXPECT(RNN_ERR_INVALID_ARG, "activation", rnn_model_add_dense(m, &d, &l));
    d.activation = RNN_ACT_LINEAR;
    d.bias_initializer = (rnn_initializer)0;
    EXPECT(RNN_ERR_INVALID_ARG, "bias_initializer", rnn_model_add_dense(m, &d, &l));
    d.bias_initializer = RNN_INIT_ZEROS;
    d.use_bias = -1;
    EXPECT(RNN_ERR_INVALID_ARG, "use_bias", rnn_model_add_dense(m, &d, &l));
    rnn_model *tm;
    ck_ok(rnn_model_create(NULL, &tm));
    int64_t s[1] = {0};
    ck_ok(rnn_model_add_input(tm, RNN_I32, 1, s, NULL));
    rnn_dense_options_init(&d);
    d.units = 2;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_dense(tm, &d, &l)); /* token ids */
    OUT_NULL(l);
    rnn_model_destroy(tm);
    rnn_model_destroy(m);
}

PROBE(rnn_embedding_options_init)
{
    (void)F;
    rnn_embedding_options_init(NULL);
}

PROBE(rnn_model_add_embedding)
{
    rnn_model *m, *fm = h_seq_model(0, NULL, NULL);
    ck_ok(rnn_model_create(NULL, &m));
    int64_t s[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, s, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 5;
    e.output_dim = 3;
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_embedding(NULL, &e, &l));
    OUT_NULL(l);
    NULLARG("options", rnn_model_add_embedding(m, NULL, NULL));
    e.input_dim = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "input_dim", rnn_model_add_embedding(m, &e, &l));
    e.input_dim = 5;
    e.output_dim = -1;
    EXPECT(RNN_ERR_INVALID_ARG, "output_dim", rnn_model_add_embedding(m, &e, &l));
    e.output_dim = 3;
    e.input_dim = INT64_MAX;
    EXPECT(RNN_ERR_INVALID_ARG, "input_dim", rnn_model_add_embedding(m, &e, &l));
    e.input_dim = 5;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_embedding(fm, &e, &l)); /* f32 input */
    rnn_model_destroy(m);
    rnn_model_destroy(fm);
}

/* The small constructors taking (model, value, out). */
PROBE(rnn_model_add_dropout)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_dropout(NULL, 0.5f, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_INVALID_ARG, "rate", rnn_model_add_dropout(m, 1.0f, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "rate", rnn_model_add_dropout(m, -0.1f, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "rate", rnn_model_add_dropout(m, NAN, &l));
    OUT_NULL(l);
    rnn_model_destroy(m);
}

PROBE(rnn_model_add_activation)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_activation(NULL, RNN_ACT_RELU, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_INVALID_ARG, "activation", rnn_model_add_activation(m, (rnn_activation)99, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "activation", rnn_model_add_activation(m, (rnn_activation)-1, &l));
    OUT_NULL(l);
    rnn_model_destroy(m);
}

PROBE(rnn_model_add_global_pooling)
{
    rnn_model *m = h_seq_model(0, NULL, NULL), *s;
    ck_ok(rnn_model_create(NULL, &s));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, NULL));
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_global_pooling(NULL, RNN_POOL_MAX, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_INVALID_ARG, "pooling", rnn_model_add_global_pooling(s, (rnn_pooling)99, &l));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_global_pooling(m, RNN_POOL_MAX, &l)); /* vector */
    OUT_NULL(l);
    rnn_model_destroy(m);
    rnn_model_destroy(s);
}

PROBE(rnn_model_add_spatial_dropout1d)
{
    rnn_model *m = h_seq_model(0, NULL, NULL), *s;
    ck_ok(rnn_model_create(NULL, &s));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, NULL));
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_spatial_dropout1d(NULL, 0.5f, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_INVALID_ARG, "rate", rnn_model_add_spatial_dropout1d(s, 1.5f, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "rate", rnn_model_add_spatial_dropout1d(s, NAN, &l));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_spatial_dropout1d(m, 0.5f, &l)); /* vector */
    OUT_NULL(l);
    rnn_model_destroy(m);
    rnn_model_destroy(s);
}

PROBE(rnn_model_add_flatten)
{
    rnn_model *s;
    ck_ok(rnn_model_create(NULL, &s));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, NULL));
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_flatten(NULL, &l));
    OUT_NULL(l);
    l = POISON_PTR;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_flatten(s, &l)); /* any length */
    OUT_NULL(l);
    rnn_model_destroy(s);
}

PROBE(rnn_model_add_repeat_vector)
{
    rnn_model *m = h_seq_model(0, NULL, NULL), *s;
    ck_ok(rnn_model_create(NULL, &s));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, NULL));
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_repeat_vector(NULL, 3, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_INVALID_ARG, "n", rnn_model_add_repeat_vector(m, 0, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "n", rnn_model_add_repeat_vector(m, -3, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "n", rnn_model_add_repeat_vector(m, INT64_MAX, &l));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_repeat_vector(s, 3, &l)); /* a sequence */
    OUT_NULL(l);
    rnn_model_destroy(m);
    rnn_model_destroy(s);
}

PROBE(rnn_layer_normalization_options_init)
{
    (void)F;
    rnn_layer_normalization_options_init(NULL);
}

PROBE(rnn_model_add_layer_normalization)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_layer_normalization_options o;
    rnn_layer_normalization_options_init(&o);
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_layer_normalization(NULL, &o, &l));
    OUT_NULL(l);
    NULLARG("options", rnn_model_add_layer_normalization(m, NULL, &l));
    o.epsilon = 0.0f;
    EXPECT(RNN_ERR_INVALID_ARG, "epsilon", rnn_model_add_layer_normalization(m, &o, &l));
    o.epsilon = -1.0f;
    EXPECT(RNN_ERR_INVALID_ARG, "epsilon", rnn_model_add_layer_normalization(m, &o, &l));
    o.epsilon = 1e-3f;
    o.center = 3;
    EXPECT(RNN_ERR_INVALID_ARG, "center", rnn_model_add_layer_normalization(m, &o, &l));
    OUT_NULL(l);
    rnn_model_destroy(m);
}

PROBE(rnn_conv1d_options_init)
{
    (void)F;
    rnn_conv1d_options_init(NULL);
}

PROBE(rnn_model_add_conv1d)
{
    rnn_model *s, *m = h_seq_model(0, NULL, NULL);
    ck_ok(rnn_model_create(NULL, &s));
    int64_t sh[2] = {5, 3};
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, NULL));
    rnn_conv1d_options c;
    rnn_conv1d_options_init(&c);
    c.filters = 2;
    c.kernel_size = 2;
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_conv1d(NULL, &c, &l));
    OUT_NULL(l);
    NULLARG("options", rnn_model_add_conv1d(s, NULL, &l));
    c.filters = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "filters", rnn_model_add_conv1d(s, &c, &l));
    c.filters = 2;
    c.kernel_size = -1;
    EXPECT(RNN_ERR_INVALID_ARG, "kernel_size", rnn_model_add_conv1d(s, &c, &l));
    c.kernel_size = 2;
    c.strides = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "strides", rnn_model_add_conv1d(s, &c, &l));
    c.strides = 1;
    c.dilation_rate = INT64_MIN;
    EXPECT(RNN_ERR_INVALID_ARG, "dilation_rate", rnn_model_add_conv1d(s, &c, &l));
    c.dilation_rate = 1;
    c.padding = (rnn_padding)99;
    EXPECT(RNN_ERR_INVALID_ARG, "padding", rnn_model_add_conv1d(s, &c, &l));
    c.padding = RNN_PADDING_VALID;
    c.kernel_size = 9; /* longer than the 5 steps */
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_conv1d(s, &c, &l));
    c.kernel_size = 2;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_conv1d(m, &c, &l)); /* a vector */
    OUT_NULL(l);
    rnn_model_destroy(s);
    rnn_model_destroy(m);
}

PROBE(rnn_model_add_max_pooling1d)
{
    rnn_model *s, *m = h_seq_model(0, NULL, NULL);
    ck_ok(rnn_model_create(NULL, &s));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, NULL));
    rnn_layer *l = POISON_PTR;
    NULLARG("model", rnn_model_add_max_pooling1d(NULL, 2, 0, RNN_PADDING_VALID, &l));
    OUT_NULL(l);
    EXPECT(RNN_ERR_INVALID_ARG, "pool_size",
           rnn_model_add_max_pooling1d(s, 0, 0, RNN_PADDING_VALID, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "strides",
           rnn_model_add_max_pooling1d(s, 2, -1, RNN_PADDING_VALID, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "padding", rnn_model_add_max_pooling1d(s, 2, 0, (rnn_padding)7, &l));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_add_max_pooling1d(m, 2, 0, RNN_PADDING_VALID, &l));
    OUT_NULL(l);
    rnn_model_destroy(s);
    rnn_model_destroy(m);
}

PROBE(rnn_model_add_concatenate)
{
    rnn_layer *lstm, *dense, *in;
    rnn_model *m = h_seq_model(0, &lstm, &dense), *other = h_seq_model(0, NULL, NULL);
    ck_ok(rnn_model_layer(m, 0, &in));
    rnn_layer *ol;
    ck_ok(rnn_model_layer(other, 1, &ol));
    rnn_layer *ls[10] = {lstm, dense}, *l = POISON_PTR;
    int outs[2] = {0, 5};
    NULLARG("model", rnn_model_add_concatenate(NULL, 2, ls, NULL, &l));
    OUT_NULL(l);
    NULLARG("layers", rnn_model_add_concatenate(m, 2, NULL, NULL, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_model_add_concatenate(m, 1, ls, NULL, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_model_add_concatenate(m, 10, ls, NULL, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_model_add_concatenate(m, -2, ls, NULL, &l));
    EXPECT(RNN_ERR_RANGE, "outputs[1]", rnn_model_add_concatenate(m, 2, ls, outs, &l));
    ls[1] = NULL;
    EXPECT(RNN_ERR_INVALID_ARG, "layers[1]", rnn_model_add_concatenate(m, 2, ls, NULL, &l));
    ls[1] = ol;
    EXPECT(RNN_ERR_INVALID_ARG, "layers[1]", rnn_model_add_concatenate(m, 2, ls, NULL, &l));
    ls[1] = in; /* a sequence with a vector */
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_model_add_concatenate(m, 2, ls, NULL, &l));
    OUT_NULL(l);
    rnn_model_destroy(m);
    rnn_model_destroy(other);
}

PROBE(rnn_attention_options_init)
{
    (void)F;
    rnn_attention_options_init(NULL);
}

PROBE(rnn_model_add_attention)
{
    rnn_model *s, *other = h_seq_model(0, NULL, NULL);
    ck_ok(rnn_model_create(NULL, &s));
    int64_t sh[2] = {0, 3};
    rnn_layer *q, *v, *ol, *l = POISON_PTR;
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, &q));
    sh[1] = 4;
    ck_ok(rnn_model_add_input(s, RNN_F32, 2, sh, &v));
    ck_ok(rnn_model_layer(other, 1, &ol));
    rnn_attention_options a;
    rnn_attention_options_init(&a);
    NULLARG("model", rnn_model_add_attention(NULL, &a, q, 0, v, 0, &l));
    OUT_NULL(l);
    NULLARG("options", rnn_model_add_attention(s, NULL, q, 0, v, 0, &l));
    NULLARG("query", rnn_model_add_attention(s, &a, NULL, 0, v, 0, &l));
    NULLARG("value", rnn_model_add_attention(s, &a, q, 0, NULL, 0, &l));
    EXPECT(RNN_ERR_RANGE, "query_output", rnn_model_add_attention(s, &a, q, 1, v, 0, &l));
    EXPECT(RNN_ERR_RANGE, "value_output", rnn_model_add_attention(s, &a, q, 0, v, -1, &l));
    EXPECT(RNN_ERR_INVALID_ARG, "value", rnn_model_add_attention(s, &a, q, 0, ol, 0, &l));
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_model_add_attention(s, &a, q, 0, v, 0, &l)); /* 3 vs 4 */
    a.score = (rnn_attention_score)99;
    EXPECT(RNN_ERR_INVALID_ARG, "score", rnn_model_add_attention(s, &a, q, 0, v, 0, &l));
    a.score = RNN_ATTENTION_ADDITIVE;
    a.units = -1;
    EXPECT(RNN_ERR_INVALID_ARG, "units", rnn_model_add_attention(s, &a, q, 0, v, 0, &l));
    OUT_NULL(l);
    rnn_model_destroy(s);
    rnn_model_destroy(other);
}

PROBE(rnn_model_summary)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    char buf[8];
    size_t need = 777;
    NULLARG("model", rnn_model_summary(NULL, buf, sizeof buf, &need));
    OUT_ZERO(need);
    NULLARG("buf", rnn_model_summary(m, NULL, 8, &need));
    ck_ok(rnn_model_summary(m, NULL, 0, &need));
    ck_assert_uint_gt(need, 100);
    ck_ok(rnn_model_summary(m, buf, sizeof buf, NULL));
    ck_assert_uint_eq(strlen(buf), sizeof buf - 1);
    rnn_model_destroy(m);
}

PROBE(rnn_layer_set_trainable)
{
    rnn_layer *lstm;
    rnn_model *m = h_seq_model(0, &lstm, NULL);
    NULLARG("layer", rnn_layer_set_trainable(NULL, 0));
    EXPECT(RNN_ERR_INVALID_ARG, "trainable must be 0 or 1 (got 2)",
           rnn_layer_set_trainable(lstm, 2));
    EXPECT(RNN_ERR_INVALID_ARG, "trainable", rnn_layer_set_trainable(lstm, -1));
    int t = -5;
    ck_ok(rnn_layer_trainable(lstm, &t));
    ck_assert_int_eq(t, 1); /* unchanged */
    rnn_model_destroy(m);
}

/* ------------------------------------------------------------ optim.h */

PROBE(rnn_optimizer_options_init)
{
    (void)F;
    rnn_optimizer_options_init(NULL, RNN_OPTIM_SGD);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, (rnn_optimizer_type)99);
}

PROBE(rnn_optimizer_create)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    rnn_optimizer *opt = POISON_PTR;
    NULLARG("model", rnn_optimizer_create(NULL, &o, &opt));
    OUT_NULL(opt);
    NULLARG("options", rnn_optimizer_create(m, NULL, &opt));
    NULLARG("out", rnn_optimizer_create(m, &o, NULL));
    static const struct {
        size_t off;
        const char *name;
        float bad;
    } fields[] = {
        {offsetof(rnn_optimizer_options, learning_rate), "learning_rate", -0.1f},
        {offsetof(rnn_optimizer_options, momentum), "momentum", 1.0f},
        {offsetof(rnn_optimizer_options, clipnorm), "clipnorm", -1.0f},
        {offsetof(rnn_optimizer_options, clipvalue), "clipvalue", -1.0f},
        {offsetof(rnn_optimizer_options, global_clipnorm), "global_clipnorm", -1.0f},
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
        memcpy((char *)&o + fields[i].off, &fields[i].bad, sizeof(float));
        opt = POISON_PTR;
        EXPECT(RNN_ERR_INVALID_ARG, fields[i].name, rnn_optimizer_create(m, &o, &opt));
        OUT_NULL(opt);
    }
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.beta_1 = 1.0f;
    EXPECT(RNN_ERR_INVALID_ARG, "beta_1", rnn_optimizer_create(m, &o, &opt));
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.epsilon = -1.0f;
    EXPECT(RNN_ERR_INVALID_ARG, "epsilon", rnn_optimizer_create(m, &o, &opt));
    rnn_optimizer_options_init(&o, RNN_OPTIM_RMSPROP);
    o.rho = 1.5f;
    EXPECT(RNN_ERR_INVALID_ARG, "rho", rnn_optimizer_create(m, &o, &opt));
    o.type = (rnn_optimizer_type)0;
    EXPECT(RNN_ERR_INVALID_ARG, "type", rnn_optimizer_create(m, &o, &opt));
    OUT_NULL(opt);
    rnn_model_destroy(m);
}

PROBE(rnn_optimizer_destroy)
{
    (void)F;
    rnn_optimizer_destroy(NULL);
}

PROBE(rnn_optimizer_step)
{
    NULLARG("optimizer", rnn_optimizer_step(NULL));
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    rnn_optimizer *opt;
    ck_ok(rnn_optimizer_create(m, &o, &opt));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    EXPECT(RNN_ERR_STATE, NULL, rnn_optimizer_step(opt)); /* the model gained parameters */
    rnn_optimizer_destroy(opt);
    rnn_model_destroy(m);
}

PROBE(rnn_optimizer_iterations)
{
    int64_t n = POISON_INT;
    NULLARG("optimizer", rnn_optimizer_iterations(NULL, &n));
    OUT_ZERO(n);
    rnn_model *m = h_seq_model(1, NULL, NULL);
    rnn_optimizer *opt;
    ck_ok(rnn_model_optimizer(m, &opt));
    NULLARG("out", rnn_optimizer_iterations(opt, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_optimizer_set_learning_rate)
{
    NULLARG("optimizer", rnn_optimizer_set_learning_rate(NULL, 0.1f));
    rnn_model *m = h_seq_model(1, NULL, NULL);
    rnn_optimizer *opt;
    ck_ok(rnn_model_optimizer(m, &opt));
    EXPECT(RNN_ERR_INVALID_ARG, "learning_rate", rnn_optimizer_set_learning_rate(opt, -1.0f));
    EXPECT(RNN_ERR_INVALID_ARG, "learning_rate", rnn_optimizer_set_learning_rate(opt, NAN));
    EXPECT(RNN_ERR_INVALID_ARG, "learning_rate", rnn_optimizer_set_learning_rate(opt, INFINITY));
    float lr;
    ck_ok(rnn_optimizer_learning_rate(opt, &lr));
    ck_assert_float_eq(lr, 0.001f);
    rnn_model_destroy(m);
}

PROBE(rnn_optimizer_learning_rate)
{
    float lr = 7.0f;
    NULLARG("optimizer", rnn_optimizer_learning_rate(NULL, &lr));
    OUT_ZERO(lr);
    rnn_model *m = h_seq_model(1, NULL, NULL);
    rnn_optimizer *opt;
    ck_ok(rnn_model_optimizer(m, &opt));
    NULLARG("out", rnn_optimizer_learning_rate(opt, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_optimizer)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_optimizer *opt = POISON_PTR;
    NULLARG("model", rnn_model_optimizer(NULL, &opt));
    OUT_NULL(opt);
    NULLARG("out", rnn_model_optimizer(m, NULL));
    opt = POISON_PTR;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_optimizer(m, &opt));
    OUT_NULL(opt);
    rnn_model_destroy(m);
}

/* ------------------------------------------------------------ io.h */

static void tmp_path(char *buf, size_t n, const char *what)
{
    snprintf(buf, n, "/tmp/librnn-badargs-%ld-%s.rnn", (long)getpid(), what);
}

PROBE(rnn_model_set_metadata)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    NULLARG("model", rnn_model_set_metadata(NULL, "k", "v"));
    NULLARG("key", rnn_model_set_metadata(m, NULL, "v"));
    EXPECT(RNN_ERR_INVALID_ARG, "key", rnn_model_set_metadata(m, "", "v"));
    EXPECT(RNN_ERR_INVALID_ARG, "key", rnn_model_set_metadata(m, "checksum", "v"));
    EXPECT(RNN_ERR_INVALID_ARG, "key", rnn_model_set_metadata(m, "librnn.x", "v"));
    EXPECT(RNN_ERR_INVALID_ARG, "value", rnn_model_set_metadata(m, "k", "\xff"));
    int n = -1;
    ck_ok(rnn_model_metadata_count(m, &n));
    ck_assert_int_eq(n, 0); /* nothing was set */
    rnn_model_destroy(m);
}

PROBE(rnn_model_get_metadata)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    const char *v = "x";
    NULLARG("model", rnn_model_get_metadata(NULL, "k", &v));
    OUT_NULL(v);
    NULLARG("key", rnn_model_get_metadata(m, NULL, &v));
    NULLARG("out", rnn_model_get_metadata(m, "k", NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_metadata_count)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    int n = 5;
    NULLARG("model", rnn_model_metadata_count(NULL, &n));
    OUT_ZERO(n);
    NULLARG("out", rnn_model_metadata_count(m, NULL));
    rnn_model_destroy(m);
}

PROBE(rnn_model_metadata_key)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    const char *k = "x";
    NULLARG("model", rnn_model_metadata_key(NULL, 0, &k));
    OUT_NULL(k);
    NULLARG("out", rnn_model_metadata_key(m, 0, NULL));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_metadata_key(m, 0, &k));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_metadata_key(m, -1, &k));
    ck_ok(rnn_model_set_metadata(m, "a", "1"));
    EXPECT(RNN_ERR_RANGE, "index", rnn_model_metadata_key(m, 1, &k));
    rnn_model_destroy(m);
}

PROBE(rnn_model_save)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    char p[128];
    tmp_path(p, sizeof p, "save");
    NULLARG("model", rnn_model_save(NULL, p));
    NULLARG("path", rnn_model_save(m, NULL));
    EXPECT(RNN_ERR_IO, NULL, rnn_model_save(m, ""));
    EXPECT(RNN_ERR_IO, NULL, rnn_model_save(m, "/nonexistent-dir/x/y.rnn"));
    EXPECT(RNN_ERR_IO, NULL, rnn_model_save(m, "/tmp")); /* a directory */
    rnn_model_destroy(m);
}

PROBE(rnn_model_save_ex)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    char p[128];
    tmp_path(p, sizeof p, "save_ex");
    NULLARG("model", rnn_model_save_ex(NULL, p, 0));
    NULLARG("path", rnn_model_save_ex(m, NULL, 0));
    EXPECT(RNN_ERR_INVALID_ARG, "flags", rnn_model_save_ex(m, p, 0x80));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_save_ex(m, p, RNN_SAVE_OPTIMIZER)); /* not compiled */
    ck_assert_int_ne(access(p, F_OK), 0); /* nothing written */
    rnn_model_destroy(m);
}

PROBE(rnn_model_load)
{
    rnn_model *m = POISON_PTR;
    char p[128];
    tmp_path(p, sizeof p, "load");
    rnn_model *sm = h_seq_model(0, NULL, NULL);
    ck_ok(rnn_model_save(sm, p));
    rnn_model_destroy(sm);
    NULLARG("path", rnn_model_load(NULL, NULL, &m));
    OUT_NULL(m);
    NULLARG("out", rnn_model_load(p, NULL, NULL));
    m = POISON_PTR;
    EXPECT(RNN_ERR_IO, NULL, rnn_model_load("", NULL, &m));
    OUT_NULL(m);
    m = POISON_PTR;
    EXPECT(RNN_ERR_IO, NULL, rnn_model_load("/nonexistent-dir/m.rnn", NULL, &m));
    OUT_NULL(m);
    rnn_model_options o;
    rnn_model_options_init(&o);
    o.backend = (rnn_backend)99;
    m = POISON_PTR;
    EXPECT(RNN_ERR_INVALID_ARG, "backend", rnn_model_load(p, &o, &m));
    OUT_NULL(m);
    rnn_model_options_init(&o);
    o.struct_size = 2;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_load(p, &o, &m));
    unlink(p);
}

/* ------------------------------------------------------------ fit.h */

PROBE(rnn_data_init)
{
    (void)F;
    rnn_data_init(NULL);
}

PROBE(rnn_fit_options_init)
{
    (void)F;
    rnn_fit_options_init(NULL);
}

static int stop_iter(void *u, int e, int64_t b, const rnn_tensor **x, const rnn_tensor **l,
                     const rnn_tensor **t)
{
    (void)u, (void)e, (void)b, (void)x, (void)l, (void)t;
    return -1;
}

PROBE(rnn_model_fit)
{
    rnn_model *m = h_seq_model(1, NULL, NULL), *un = h_seq_model(0, NULL, NULL);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 4, 3, 3), *y = h_tensor(RNN_I32, 1, 4),
               *y5 = h_tensor(RNN_I32, 1, 5);
    rnn_data d;
    rnn_data_init(&d);
    d.x = x;
    d.targets = y;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    size_t n;
    float *w = h_snapshot(m, &n);
    NULLARG("model", rnn_model_fit(NULL, &d, &o, NULL));
    NULLARG("train", rnn_model_fit(m, NULL, &o, NULL));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_fit(un, &d, &o, NULL));
#define BADOPT(field, value)                                                  \
    do {                                                                      \
        rnn_fit_options_init(&o);                                             \
        o.field = value;                                                      \
        EXPECT(RNN_ERR_INVALID_ARG, #field, rnn_model_fit(m, &d, &o, NULL)); \
    } while (0)
    BADOPT(batch_size, 0);
    BADOPT(batch_size, -1);
    BADOPT(epochs, -1);
    BADOPT(validation_split, 1.0f);
    BADOPT(validation_split, -0.5f);
    BADOPT(monitor, (rnn_monitor)99);
    BADOPT(lr_schedule, (rnn_lr_schedule)99);
    BADOPT(patience, -1);
    BADOPT(bucket_batches, -1);
    rnn_fit_options_init(&o);
    o.lr_schedule = RNN_LR_EXPONENTIAL;
    o.decay_steps = -1;
    EXPECT(RNN_ERR_INVALID_ARG, "decay_steps", rnn_model_fit(m, &d, &o, NULL));
    rnn_fit_options_init(&o);
    o.lr_schedule = RNN_LR_PLATEAU;
    o.monitor = RNN_MONITOR_LOSS;
    o.plateau_factor = 1.5f;
    EXPECT(RNN_ERR_INVALID_ARG, "plateau_factor", rnn_model_fit(m, &d, &o, NULL));
    BADOPT(struct_size, 0);
#undef BADOPT
    rnn_fit_options_init(&o);
    d.struct_size = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_fit(m, &d, &o, NULL));
    rnn_data_init(&d);
    EXPECT(RNN_ERR_INVALID_ARG, NULL, rnn_model_fit(m, &d, &o, NULL)); /* neither x nor next */
    d.x = x;
    d.targets = y5;
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_model_fit(m, &d, &o, NULL));
    d.targets = NULL;
    EXPECT(RNN_ERR_INVALID_ARG, "targets", rnn_model_fit(m, &d, &o, NULL));
    rnn_data_init(&d);
    d.next = stop_iter;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_fit(m, &d, &o, NULL));
    rnn_fit_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r + 64;
    d.x = x;
    d.targets = y;
    d.next = NULL;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_fit(m, &d, &o, &r));
    h_assert_weights(m, w, n, F);
    free(w);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_tensor_destroy(y5);
    rnn_model_destroy(m);
    rnn_model_destroy(un);
}

PROBE(rnn_model_evaluate)
{
    rnn_model *m = h_seq_model(1, NULL, NULL), *un = h_seq_model(0, NULL, NULL);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 4, 3, 3), *y = h_tensor(RNN_I32, 1, 4);
    rnn_data d;
    rnn_data_init(&d);
    d.x = x;
    d.targets = y;
    rnn_eval_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    NULLARG("model", rnn_model_evaluate(NULL, &d, 2, &r));
    ck_assert(isnan(r.loss));
    ck_assert_int_eq(r.samples, 0);
    NULLARG("data", rnn_model_evaluate(m, NULL, 2, &r));
    NULLARG("out", rnn_model_evaluate(m, &d, 2, NULL));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_evaluate(un, &d, 2, &r));
    EXPECT(RNN_ERR_INVALID_ARG, "batch_size", rnn_model_evaluate(m, &d, 0, &r));
    EXPECT(RNN_ERR_INVALID_ARG, "batch_size", rnn_model_evaluate(m, &d, -5, &r));
    r.struct_size = 1;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_evaluate(m, &d, 2, &r));
    r.struct_size = sizeof r;
    d.struct_size = 0;
    EXPECT(RNN_ERR_INVALID_ARG, "struct_size", rnn_model_evaluate(m, &d, 2, &r));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
    rnn_model_destroy(un);
}

PROBE(rnn_model_predict)
{
    rnn_model *m = h_seq_model(0, NULL, NULL);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 4, 3, 3), *xb = h_tensor(RNN_F32, 3, 4, 3, 2),
               *out = POISON_PTR;
    rnn_data d;
    rnn_data_init(&d);
    d.x = x;
    NULLARG("model", rnn_model_predict(NULL, &d, 2, &out));
    OUT_NULL(out);
    NULLARG("data", rnn_model_predict(m, NULL, 2, &out));
    NULLARG("out", rnn_model_predict(m, &d, 2, NULL));
    out = POISON_PTR;
    EXPECT(RNN_ERR_INVALID_ARG, "batch_size", rnn_model_predict(m, &d, 0, &out));
    OUT_NULL(out);
    d.x = xb;
    out = POISON_PTR;
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_model_predict(m, &d, 2, &out));
    OUT_NULL(out);
    rnn_data_init(&d);
    d.next = stop_iter;
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_predict(m, &d, 2, &out));
    OUT_NULL(out);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(xb);
    rnn_model_destroy(m);
}

/* ------------------------------------------------------------ decode.h */

PROBE(rnn_model_step_begin)
{
    rnn_model *m = h_token_model(), *fm = h_seq_model(0, NULL, NULL);
    rnn_tensor *p = h_tensor(RNN_I32, 2, 2, 1), *pf = h_tensor(RNN_F32, 3, 2, 4, 3),
               *len = h_tensor(RNN_I32, 1, 2);
    const rnn_tensor *in[1] = {p}, *fin[1] = {pf}, *nul[1] = {NULL}, *lens[1] = {len};
    NULLARG("model", rnn_model_step_begin(NULL, 0, 1, in, NULL));
    NULLARG("inputs", rnn_model_step_begin(m, 0, 1, NULL, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "inputs[0]", rnn_model_step_begin(m, 0, 1, nul, NULL));
    EXPECT(RNN_ERR_RANGE, "token_input", rnn_model_step_begin(m, 1, 1, in, NULL));
    EXPECT(RNN_ERR_RANGE, "token_input", rnn_model_step_begin(m, -1, 1, in, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "num_inputs", rnn_model_step_begin(m, 0, 2, in, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "lengths[0]", rnn_model_step_begin(m, 0, 1, in, lens));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_model_step_begin(fm, 0, 1, fin, NULL));
    rnn_tensor_destroy(p);
    rnn_tensor_destroy(pf);
    rnn_tensor_destroy(len);
    rnn_model_destroy(m);
    rnn_model_destroy(fm);
}

PROBE(rnn_model_step)
{
    rnn_model *m = h_token_model();
    rnn_tensor *p = h_tensor(RNN_I32, 2, 2, 1), *p3 = h_tensor(RNN_I32, 2, 3, 1),
               *pf = h_tensor(RNN_F32, 2, 2, 1), *bad = h_tensor(RNN_I32, 2, 2, 1);
    const rnn_tensor *in[1] = {p};
    NULLARG("model", rnn_model_step(NULL, p));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_step(m, p));
    ck_ok(rnn_model_step_begin(m, 0, 1, in, NULL));
    NULLARG("tokens", rnn_model_step(m, NULL));
    EXPECT(RNN_ERR_SHAPE, NULL, rnn_model_step(m, p3));
    EXPECT(RNN_ERR_DTYPE, NULL, rnn_model_step(m, pf));
    int64_t i[2] = {1, 0};
    ck_ok(rnn_tensor_set_i32(bad, 2, i, 6));
    EXPECT(RNN_ERR_RANGE, NULL, rnn_model_step(m, bad));
    ck_ok(rnn_model_step(m, p)); /* still usable */
    ck_ok(rnn_model_step_end(m));
    rnn_tensor_destroy(p);
    rnn_tensor_destroy(p3);
    rnn_tensor_destroy(pf);
    rnn_tensor_destroy(bad);
    rnn_model_destroy(m);
}

PROBE(rnn_model_step_select)
{
    rnn_model *m = h_token_model();
    rnn_tensor *p = h_tensor(RNN_I32, 2, 2, 1);
    const rnn_tensor *in[1] = {p};
    int32_t rows[2] = {1, 0}, bad[2] = {0, 2}, neg[2] = {-1, 0};
    NULLARG("model", rnn_model_step_select(NULL, rows, 2));
    NULLARG("rows", rnn_model_step_select(m, NULL, 2));
    EXPECT(RNN_ERR_STATE, NULL, rnn_model_step_select(m, rows, 2));
    ck_ok(rnn_model_step_begin(m, 0, 1, in, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_model_step_select(m, rows, 3));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_model_step_select(m, rows, -1));
    EXPECT(RNN_ERR_RANGE, "rows[1]", rnn_model_step_select(m, bad, 2));
    EXPECT(RNN_ERR_RANGE, "rows[0]", rnn_model_step_select(m, neg, 2));
    ck_ok(rnn_model_step_end(m));
    rnn_tensor_destroy(p);
    rnn_model_destroy(m);
}

PROBE(rnn_model_step_end)
{
    NULLARG("model", rnn_model_step_end(NULL));
    rnn_model *m = h_token_model();
    ck_ok(rnn_model_step_end(m)); /* harmless without a begin */
    rnn_model_destroy(m);
}

PROBE(rnn_decode_options_init)
{
    (void)F;
    rnn_decode_options_init(NULL);
}

PROBE(rnn_model_decode)
{
    rnn_model *m = h_token_model();
    rnn_decode_options o;
    rnn_decode_options_init(&o);
    o.max_length = 4;
    rnn_tensor *tok = h_tensor(RNN_I32, 2, 2, 4), *tokf = h_tensor(RNN_F32, 2, 2, 4),
               *tok5 = h_tensor(RNN_I32, 2, 2, 5), *ol = h_tensor(RNN_I32, 1, 3),
               *sc = h_tensor(RNN_I32, 1, 2), *p = h_tensor(RNN_I32, 2, 2, 1);
    const rnn_tensor *in[1] = {p};
    size_t n;
    float *w = h_snapshot(m, &n);
    NULLARG("model", rnn_model_decode(NULL, &o, 1, in, NULL, tok, NULL, NULL));
    NULLARG("options", rnn_model_decode(m, NULL, 1, in, NULL, tok, NULL, NULL));
    NULLARG("tokens", rnn_model_decode(m, &o, 1, in, NULL, NULL, NULL, NULL));
    EXPECT(RNN_ERR_DTYPE, "tokens", rnn_model_decode(m, &o, 1, in, NULL, tokf, NULL, NULL));
    EXPECT(RNN_ERR_SHAPE, "tokens", rnn_model_decode(m, &o, 1, in, NULL, tok5, NULL, NULL));
    EXPECT(RNN_ERR_SHAPE, "out_lengths", rnn_model_decode(m, &o, 1, in, NULL, tok, ol, NULL));
    EXPECT(RNN_ERR_DTYPE, "scores", rnn_model_decode(m, &o, 1, in, NULL, tok, NULL, sc));
    EXPECT(RNN_ERR_INVALID_ARG, "num_inputs", rnn_model_decode(m, &o, 2, in, NULL, tok, NULL, NULL));
#define BADOPT(field, value, want)                                                    \
    do {                                                                              \
        rnn_decode_options_init(&o);                                                  \
        o.max_length = 4;                                                             \
        o.field = value;                                                              \
        EXPECT(want, #field, rnn_model_decode(m, &o, 1, in, NULL, tok, NULL, NULL)); \
    } while (0)
    BADOPT(strategy, (rnn_decode_strategy)99, RNN_ERR_INVALID_ARG);
    BADOPT(token_input, 5, RNN_ERR_INVALID_ARG);
    BADOPT(token_input, -7, RNN_ERR_INVALID_ARG);
    BADOPT(output, 3, RNN_ERR_INVALID_ARG);
    BADOPT(from_logits, 4, RNN_ERR_INVALID_ARG);
    BADOPT(start_token, 6, RNN_ERR_INVALID_ARG);
    BADOPT(start_token, -1, RNN_ERR_INVALID_ARG);
    BADOPT(end_token, 99, RNN_ERR_INVALID_ARG);
    BADOPT(max_length, 0, RNN_ERR_INVALID_ARG);
    BADOPT(max_length, -1, RNN_ERR_INVALID_ARG);
    BADOPT(temperature, 0.0f, RNN_ERR_INVALID_ARG);
    BADOPT(top_k, -1, RNN_ERR_INVALID_ARG);
    BADOPT(top_p, 0.0f, RNN_ERR_INVALID_ARG);
    BADOPT(top_p, 1.5f, RNN_ERR_INVALID_ARG);
    BADOPT(beam_width, 0, RNN_ERR_INVALID_ARG);
    BADOPT(beam_width, INT32_MAX, RNN_ERR_INVALID_ARG);
    BADOPT(struct_size, 0, RNN_ERR_INVALID_ARG);
#undef BADOPT
    h_assert_weights(m, w, n, F);
    free(w);
    rnn_tensor_destroy(tok);
    rnn_tensor_destroy(tokf);
    rnn_tensor_destroy(tok5);
    rnn_tensor_destroy(ol);
    rnn_tensor_destroy(sc);
    rnn_tensor_destroy(p);
    rnn_model_destroy(m);
}

PROBE(rnn_model_scheduled_sampling)
{
    rnn_model *m = h_token_model();
    rnn_tensor *x = h_tensor(RNN_I32, 2, 2, 4), *mixed = h_tensor(RNN_I32, 2, 2, 4),
               *mf = h_tensor(RNN_F32, 2, 2, 4), *m5 = h_tensor(RNN_I32, 2, 2, 5);
    const rnn_tensor *in[1] = {x};
    NULLARG("model", rnn_model_scheduled_sampling(NULL, 0, 0, 0.5f, 1, 1, in, NULL, mixed));
    NULLARG("inputs", rnn_model_scheduled_sampling(m, 0, 0, 0.5f, 1, 1, NULL, NULL, mixed));
    NULLARG("mixed", rnn_model_scheduled_sampling(m, 0, 0, 0.5f, 1, 1, in, NULL, NULL));
    EXPECT(RNN_ERR_RANGE, "token_input",
           rnn_model_scheduled_sampling(m, 1, 0, 0.5f, 1, 1, in, NULL, mixed));
    EXPECT(RNN_ERR_RANGE, "output", rnn_model_scheduled_sampling(m, 0, 1, 0.5f, 1, 1, in, NULL, mixed));
    EXPECT(RNN_ERR_INVALID_ARG, "probability",
           rnn_model_scheduled_sampling(m, 0, 0, 1.5f, 1, 1, in, NULL, mixed));
    EXPECT(RNN_ERR_INVALID_ARG, "probability",
           rnn_model_scheduled_sampling(m, 0, 0, NAN, 1, 1, in, NULL, mixed));
    EXPECT(RNN_ERR_INVALID_ARG, "num_inputs",
           rnn_model_scheduled_sampling(m, 0, 0, 0.5f, 1, 3, in, NULL, mixed));
    EXPECT(RNN_ERR_SHAPE, "mixed", rnn_model_scheduled_sampling(m, 0, 0, 0.5f, 1, 1, in, NULL, mf));
    EXPECT(RNN_ERR_SHAPE, "mixed", rnn_model_scheduled_sampling(m, 0, 0, 0.5f, 1, 1, in, NULL, m5));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(mixed);
    rnn_tensor_destroy(mf);
    rnn_tensor_destroy(m5);
    rnn_model_destroy(m);
}

/* ------------------------------------------------------------ metrics.h */

PROBE(rnn_bleu_options_init)
{
    (void)F;
    rnn_bleu_options_init(NULL);
}

PROBE(rnn_corpus_bleu)
{
    const int32_t h0[3] = {1, 2, 3}, r0[3] = {1, 2, 4};
    const int32_t *hyps[1] = {h0}, *refs[1] = {r0}, *nulls[1] = {NULL};
    const int64_t hl[1] = {3}, rl[1] = {3}, neg[1] = {-1};
    double out = 7.0;
    NULLARG("hyps", rnn_corpus_bleu(NULL, 1, NULL, hl, 1, refs, rl, &out));
    OUT_ZERO(out);
    NULLARG("hyp_lens", rnn_corpus_bleu(NULL, 1, hyps, NULL, 1, refs, rl, &out));
    NULLARG("refs", rnn_corpus_bleu(NULL, 1, hyps, hl, 1, NULL, rl, &out));
    NULLARG("ref_lens", rnn_corpus_bleu(NULL, 1, hyps, hl, 1, refs, NULL, &out));
    NULLARG("out", rnn_corpus_bleu(NULL, 1, hyps, hl, 1, refs, rl, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "count", rnn_corpus_bleu(NULL, -1, hyps, hl, 1, refs, rl, &out));
    EXPECT(RNN_ERR_INVALID_ARG, "refs_per_hyp", rnn_corpus_bleu(NULL, 1, hyps, hl, 0, refs, rl, &out));
    EXPECT(RNN_ERR_INVALID_ARG, "hyp_lens[0]", rnn_corpus_bleu(NULL, 1, hyps, neg, 1, refs, rl, &out));
    EXPECT(RNN_ERR_INVALID_ARG, "hyps[0]", rnn_corpus_bleu(NULL, 1, nulls, hl, 1, refs, rl, &out));
    rnn_bleu_options o;
    rnn_bleu_options_init(&o);
    o.max_order = 17;
    EXPECT(RNN_ERR_INVALID_ARG, "max_order", rnn_corpus_bleu(&o, 1, hyps, hl, 1, refs, rl, &out));
    rnn_bleu_options_init(&o);
    o.smoothing = (rnn_bleu_smoothing)99;
    EXPECT(RNN_ERR_INVALID_ARG, "smoothing", rnn_corpus_bleu(&o, 1, hyps, hl, 1, refs, rl, &out));
    rnn_bleu_options_init(&o);
    o.smoothing = RNN_BLEU_SMOOTH_METHOD1;
    o.epsilon = 0.0;
    EXPECT(RNN_ERR_INVALID_ARG, "epsilon", rnn_corpus_bleu(&o, 1, hyps, hl, 1, refs, rl, &out));
    o.epsilon = NAN;
    EXPECT(RNN_ERR_INVALID_ARG, "epsilon", rnn_corpus_bleu(&o, 1, hyps, hl, 1, refs, rl, &out));
    OUT_ZERO(out);
}

PROBE(rnn_sentence_bleu)
{
    const int32_t h0[3] = {1, 2, 3}, r0[3] = {1, 2, 4};
    const int32_t *refs[1] = {r0};
    const int64_t rl[1] = {3}, neg[1] = {-3};
    double out = 7.0;
    NULLARG("hyp", rnn_sentence_bleu(NULL, NULL, 3, 1, refs, rl, &out));
    OUT_ZERO(out);
    NULLARG("refs", rnn_sentence_bleu(NULL, h0, 3, 1, NULL, rl, &out));
    NULLARG("ref_lens", rnn_sentence_bleu(NULL, h0, 3, 1, refs, NULL, &out));
    NULLARG("out", rnn_sentence_bleu(NULL, h0, 3, 1, refs, rl, NULL));
    EXPECT(RNN_ERR_INVALID_ARG, "hyp_len", rnn_sentence_bleu(NULL, h0, -1, 1, refs, rl, &out));
    EXPECT(RNN_ERR_INVALID_ARG, "num_refs", rnn_sentence_bleu(NULL, h0, 3, 0, refs, rl, &out));
    EXPECT(RNN_ERR_INVALID_ARG, "ref_lens[0]", rnn_sentence_bleu(NULL, h0, 3, 1, refs, neg, &out));
}

/* ------------------------------------------------------------ the table */

#define P(name) {#name, probe_##name}
static const struct {
    const char *name;
    void (*fn)(const char *);
} probes[] = {
    P(rnn_status_string), P(rnn_last_error), P(rnn_set_last_error), P(rnn_version_number), P(rnn_version_string),
    P(rnn_set_allocator), P(rnn_memory_used), P(rnn_set_log_callback), P(rnn_set_num_threads),
    P(rnn_get_num_threads), P(rnn_set_thread_policy), P(rnn_get_thread_policy),
    P(rnn_set_workspace_limit), P(rnn_get_workspace_limit),
    P(rnn_get_active_threads),
    P(rnn_dtype_size), P(rnn_tensor_create), P(rnn_tensor_wrap), P(rnn_tensor_clone),
    P(rnn_tensor_destroy), P(rnn_tensor_dtype), P(rnn_tensor_rank), P(rnn_tensor_dim),
    P(rnn_tensor_shape), P(rnn_tensor_numel), P(rnn_tensor_nbytes), P(rnn_tensor_data),
    P(rnn_tensor_data_const), P(rnn_tensor_reshape), P(rnn_tensor_get_f32),
    P(rnn_tensor_set_f32), P(rnn_tensor_get_i32), P(rnn_tensor_set_i32), P(rnn_tensor_copy),
    P(rnn_tensor_fill_f32), P(rnn_tensor_fill_i32),
    P(rnn_model_options_init), P(rnn_model_create), P(rnn_model_destroy), P(rnn_model_add_input),
    P(rnn_model_num_inputs), P(rnn_model_connect_next), P(rnn_model_add_shared),
    P(rnn_model_set_outputs), P(rnn_model_num_layers), P(rnn_model_layer),
    P(rnn_model_count_params), P(rnn_model_forward), P(rnn_model_num_outputs),
    P(rnn_model_output), P(rnn_model_output_source), P(rnn_model_backward),
    P(rnn_model_input_grad), P(rnn_model_zero_grad), P(rnn_model_reset_states),
    P(rnn_model_set_precision), P(rnn_model_get_precision), P(rnn_model_set_collective),
    P(rnn_model_sync_weights), P(rnn_model_collective_rank), P(rnn_compile_options_init),
    P(rnn_model_compile),
    P(rnn_model_train_step), P(rnn_model_test_step),
    P(rnn_recurrent_options_init), P(rnn_model_add_recurrent), P(rnn_layer_name),
    P(rnn_layer_type), P(rnn_model_add_layer), P(rnn_layer_config), P(rnn_layer_count_params),
    P(rnn_layer_num_params), P(rnn_layer_param), P(rnn_layer_find_param), P(rnn_layer_set_param),
    P(rnn_layer_params_changed), P(rnn_layer_weights_count), P(rnn_layer_weights_shape),
    P(rnn_layer_get_weights), P(rnn_layer_set_weights), P(rnn_layer_num_outputs), P(rnn_layer_num_inputs), P(rnn_layer_input),
    P(rnn_layer_output), P(rnn_layer_num_states), P(rnn_layer_set_initial_state),
    P(rnn_layer_connect_initial_state), P(rnn_layer_initial_state_grad),
    P(rnn_layer_reset_states), P(rnn_dense_options_init), P(rnn_model_add_dense),
    P(rnn_embedding_options_init), P(rnn_model_add_embedding), P(rnn_model_add_dropout),
    P(rnn_model_add_activation), P(rnn_model_add_global_pooling),
    P(rnn_model_add_spatial_dropout1d), P(rnn_model_add_flatten), P(rnn_model_add_repeat_vector),
    P(rnn_layer_normalization_options_init), P(rnn_model_add_layer_normalization),
    P(rnn_conv1d_options_init), P(rnn_model_add_conv1d), P(rnn_model_add_max_pooling1d),
    P(rnn_model_add_concatenate), P(rnn_attention_options_init), P(rnn_model_add_attention),
    P(rnn_model_summary), P(rnn_layer_set_trainable), P(rnn_layer_trainable),
    P(rnn_optimizer_options_init), P(rnn_optimizer_create), P(rnn_optimizer_destroy),
    P(rnn_optimizer_step), P(rnn_optimizer_iterations), P(rnn_optimizer_set_learning_rate),
    P(rnn_optimizer_learning_rate), P(rnn_model_optimizer),
    P(rnn_model_save), P(rnn_model_save_ex), P(rnn_model_load), P(rnn_model_set_metadata),
    P(rnn_model_get_metadata), P(rnn_model_metadata_count), P(rnn_model_metadata_key),
    P(rnn_data_init), P(rnn_fit_options_init), P(rnn_model_fit), P(rnn_model_evaluate),
    P(rnn_model_predict),
    P(rnn_model_step_begin), P(rnn_model_step), P(rnn_model_step_select), P(rnn_model_step_end),
    P(rnn_decode_options_init), P(rnn_model_decode), P(rnn_model_scheduled_sampling),
    P(rnn_bleu_options_init), P(rnn_corpus_bleu), P(rnn_sentence_bleu),
};
#define N_PROBES ((int)(sizeof probes / sizeof *probes))

START_TEST(probe)
{
    probes[_i].fn(probes[_i].name);
    /* Every probe releases what it made. */
    ck_assert_msg(rnn_memory_used() == 0, "%s: %zu bytes of librnn memory left", probes[_i].name,
                  rnn_memory_used());
}
END_TEST

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < N_PROBES; i++)
            printf("%s\n", probes[i].name);
        return 0;
    }
    Suite *s = suite_create("bad-args");
    TCase *tc = tcase_create("bad-args");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, probe, 0, N_PROBES);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
