/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests: rnn_tensor, every query and every misuse. */
#include <stdint.h>

#include "test_util.h"

START_TEST(create_query_destroy)
{
    int64_t dims[3] = {2, 3, 4};
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, 3, dims, &t));
    rnn_dtype dt;
    int rank;
    int64_t d, n, shape[RNN_MAX_RANK];
    size_t nb;
    ck_ok(rnn_tensor_dtype(t, &dt));
    ck_assert_int_eq(dt, RNN_F32);
    ck_ok(rnn_tensor_rank(t, &rank));
    ck_assert_int_eq(rank, 3);
    ck_ok(rnn_tensor_dim(t, 1, &d));
    ck_assert_int_eq(d, 3);
    ck_ok(rnn_tensor_dim(t, -1, &d));
    ck_assert_int_eq(d, 4);
    ck_ok(rnn_tensor_dim(t, -3, &d));
    ck_assert_int_eq(d, 2);
    ck_rnn(rnn_tensor_dim(t, 3, &d), RNN_ERR_RANGE);
    ck_assert_int_eq(d, 0);
    ck_errmsg("rnn_tensor_dim: axis must be in [-3, 3) for a rank-3 tensor (got 3)");
    ck_rnn(rnn_tensor_dim(t, -4, &d), RNN_ERR_RANGE);
    ck_ok(rnn_tensor_shape(t, shape, RNN_MAX_RANK, &rank));
    ck_assert_int_eq(rank, 3);
    ck_assert_int_eq(shape[0], 2);
    ck_assert_int_eq(shape[2], 4);
    ck_rnn(rnn_tensor_shape(t, shape, 2, &rank), RNN_ERR_INVALID_ARG);
    ck_assert_int_eq(rank, 0);
    ck_ok(rnn_tensor_numel(t, &n));
    ck_assert_int_eq(n, 24);
    ck_ok(rnn_tensor_nbytes(t, &nb));
    ck_assert_uint_eq(nb, 96);
    void *data;
    ck_ok(rnn_tensor_data(t, &data));
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq((uintptr_t)data % 64, 0); /* owned buffers are 64-byte aligned */
    for (int i = 0; i < 24; i++)
        ck_assert(((float *)data)[i] == 0.0f); /* zero-filled */
    rnn_tensor_destroy(t);
    rnn_tensor_destroy(NULL);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(scalar_tensor)
{
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_create(RNN_I32, 0, NULL, &t));
    int64_t n;
    ck_ok(rnn_tensor_numel(t, &n));
    ck_assert_int_eq(n, 1);
    ck_ok(rnn_tensor_set_i32(t, 0, NULL, 42));
    int32_t v;
    ck_ok(rnn_tensor_get_i32(t, 0, NULL, &v));
    ck_assert_int_eq(v, 42);
    rnn_tensor_destroy(t);
}
END_TEST

START_TEST(create_misuse)
{
    int64_t dims[2] = {2, 2};
    rnn_tensor *t = (rnn_tensor *)0x1;
    ck_rnn(rnn_tensor_create(RNN_F32, 2, dims, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_tensor_create: out must not be NULL");
    ck_rnn(rnn_tensor_create((rnn_dtype)7, 2, dims, &t), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(t);
    ck_errmsg("dtype must be RNN_F32 or RNN_I32 (got 7)");
    ck_rnn(rnn_tensor_create(RNN_F32, -1, dims, &t), RNN_ERR_SHAPE);
    ck_errmsg("rank must be in 0..8 (got -1)");
    ck_rnn(rnn_tensor_create(RNN_F32, 9, dims, &t), RNN_ERR_SHAPE);
    ck_rnn(rnn_tensor_create(RNN_F32, 2, NULL, &t), RNN_ERR_INVALID_ARG);
    ck_errmsg("dims must not be NULL when rank is 2");
    int64_t neg[2] = {2, -3};
    ck_rnn(rnn_tensor_create(RNN_F32, 2, neg, &t), RNN_ERR_SHAPE);
    ck_errmsg("dims[1] must be > 0 (got -3)");
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(size_overflow)
{
    rnn_tensor *t = NULL;
    int64_t big[3] = {INT64_MAX / 2, 3, 1};
    ck_rnn(rnn_tensor_create(RNN_F32, 3, big, &t), RNN_ERR_OVERFLOW);
    ck_errmsg("overflows int64 at dims[1]");
    /* The element count fits in int64 but the byte count does not. */
    int64_t bytes[1] = {INT64_MAX / 2};
    ck_rnn(rnn_tensor_create(RNN_F32, 1, bytes, &t), RNN_ERR_OVERFLOW);
    ck_errmsg("byte size of");
    ck_assert_ptr_null(t);
    /* Large but representable: an honest out-of-memory, never a crash. */
    int64_t huge[2] = {1 << 30, 1 << 28};
    rnn_status st = rnn_tensor_create(RNN_F32, 2, huge, &t);
    ck_assert_int_eq(st, RNN_ERR_NOMEM);
    ck_assert_ptr_null(t);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(wrap_borrows)
{
    float buf[6] = {1, 2, 3, 4, 5, 6};
    int64_t dims[2] = {2, 3};
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_wrap(RNN_F32, 2, dims, buf, sizeof buf, &t));
    void *data;
    ck_ok(rnn_tensor_data(t, &data));
    ck_assert_ptr_eq(data, buf);
    float v;
    int64_t idx[2] = {1, 2};
    ck_ok(rnn_tensor_get_f32(t, 2, idx, &v));
    ck_assert(v == 6.0f);
    ck_ok(rnn_tensor_set_f32(t, 2, idx, -1.0f));
    ck_assert(buf[5] == -1.0f); /* writes go to the caller's buffer */
    ck_ok(rnn_tensor_fill_f32(t, 0.5f));
    ck_assert(buf[0] == 0.5f && buf[5] == 0.5f);
    rnn_tensor_destroy(t); /* must not free buf (ASan/valgrind would catch it) */
    ck_assert(buf[3] == 0.5f);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(wrap_misuse)
{
    float buf[6];
    int64_t dims[2] = {2, 3};
    rnn_tensor *t = (rnn_tensor *)0x1;
    ck_rnn(rnn_tensor_wrap(RNN_F32, 2, dims, NULL, 24, &t), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(t);
    ck_errmsg("rnn_tensor_wrap: data must not be NULL");
    ck_rnn(rnn_tensor_wrap(RNN_F32, 2, dims, buf, 20, &t), RNN_ERR_SHAPE);
    ck_errmsg("rnn_tensor_wrap: nbytes is 20 but the shape needs 24 bytes");
    ck_rnn(rnn_tensor_wrap(RNN_F32, 2, dims, (char *)buf + 1, 24, &t), RNN_ERR_INVALID_ARG);
    ck_errmsg("not aligned");
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(element_access_misuse)
{
    int64_t dims[2] = {2, 3};
    rnn_tensor *f = NULL, *i = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, 2, dims, &f));
    ck_ok(rnn_tensor_create(RNN_I32, 2, dims, &i));
    int64_t idx[2] = {1, 3};
    float v = 9;
    int32_t iv = 9;
    ck_rnn(rnn_tensor_get_f32(f, 2, idx, &v), RNN_ERR_RANGE);
    ck_assert(v == 0.0f);
    ck_errmsg("rnn_tensor_get_f32: index[1] must be in [0, 3) (got 3)");
    idx[1] = -1;
    ck_rnn(rnn_tensor_set_f32(f, 2, idx, 1.0f), RNN_ERR_RANGE);
    idx[1] = 0;
    ck_rnn(rnn_tensor_get_i32(f, 2, idx, &iv), RNN_ERR_DTYPE);
    ck_errmsg("rnn_tensor_get_i32: tensor has dtype RNN_F32, this call needs RNN_I32");
    ck_rnn(rnn_tensor_set_f32(i, 2, idx, 1.0f), RNN_ERR_DTYPE);
    ck_rnn(rnn_tensor_get_f32(f, 2, NULL, &v), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_get_f32(NULL, 2, idx, &v), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_tensor_get_f32: tensor must not be NULL");
    ck_rnn(rnn_tensor_get_f32(f, 2, idx, NULL), RNN_ERR_INVALID_ARG);
    /* An index array made for another rank is refused, never read past. */
    int64_t short_idx[1] = {0};
    ck_rnn(rnn_tensor_get_f32(f, 1, short_idx, &v), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_tensor_get_f32: n_index must be the tensor's rank, 2 (got 1)");
    ck_rnn(rnn_tensor_set_i32(i, 3, idx, 1), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_get_f32(f, -1, idx, &v), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_fill_i32(f, 1), RNN_ERR_DTYPE);
    ck_rnn(rnn_tensor_fill_f32(i, 1.0f), RNN_ERR_DTYPE);
    ck_ok(rnn_tensor_fill_i32(i, 7));
    ck_ok(rnn_tensor_get_i32(i, 2, idx, &iv));
    ck_assert_int_eq(iv, 7);
    rnn_tensor_destroy(f);
    rnn_tensor_destroy(i);
}
END_TEST

START_TEST(null_queries)
{
    rnn_dtype dt = RNN_F32;
    int r = 5;
    int64_t n = 5;
    size_t nb = 5;
    void *p = &n;
    ck_rnn(rnn_tensor_dtype(NULL, &dt), RNN_ERR_INVALID_ARG);
    ck_assert_int_eq(dt, 0);
    ck_rnn(rnn_tensor_rank(NULL, &r), RNN_ERR_INVALID_ARG);
    ck_assert_int_eq(r, 0);
    ck_rnn(rnn_tensor_numel(NULL, &n), RNN_ERR_INVALID_ARG);
    ck_assert_int_eq(n, 0);
    ck_rnn(rnn_tensor_nbytes(NULL, &nb), RNN_ERR_INVALID_ARG);
    ck_assert_uint_eq(nb, 0);
    ck_rnn(rnn_tensor_data(NULL, &p), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(p);
    const void *cp = &n;
    ck_rnn(rnn_tensor_data_const(NULL, &cp), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(cp);
    ck_rnn(rnn_tensor_dim(NULL, 0, &n), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_shape(NULL, &n, 1, &r), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_rank(NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_copy(NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_fill_f32(NULL, 0), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_reshape(NULL, 0, NULL), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_tensor_clone(NULL, (rnn_tensor **)&p), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(rnn_dtype_size(RNN_F32), 4);
    ck_assert_uint_eq(rnn_dtype_size(RNN_I32), 4);
    ck_assert_uint_eq(rnn_dtype_size((rnn_dtype)0), 0);
}
END_TEST

/* A const tensor (as the library hands out outputs) is read without a cast. */
START_TEST(const_data)
{
    int64_t dims[1] = {3};
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_F32, 1, dims, &t));
    ck_ok(rnn_tensor_fill_f32(t, 2.5f));
    void *w;
    ck_ok(rnn_tensor_data(t, &w));
    const rnn_tensor *ct = t;
    const void *r = NULL;
    ck_ok(rnn_tensor_data_const(ct, &r));
    ck_assert_ptr_eq(r, w);
    const float *f = r;
    ck_assert(f[2] == 2.5f);
    ck_rnn(rnn_tensor_data_const(ct, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_tensor_data_const: out must not be NULL");
    rnn_tensor_destroy(t);
}
END_TEST

START_TEST(copy_clone_reshape)
{
    int64_t dims[2] = {2, 3}, other[2] = {3, 2}, flat[1] = {6}, bad[1] = {5};
    rnn_tensor *a = NULL, *b = NULL, *c = NULL, *ii = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, 2, dims, &a));
    ck_ok(rnn_tensor_create(RNN_F32, 2, other, &b));
    ck_ok(rnn_tensor_create(RNN_I32, 2, dims, &ii));
    float *pa;
    ck_ok(rnn_tensor_data(a, (void **)&pa));
    for (int k = 0; k < 6; k++)
        pa[k] = (float)k;
    ck_rnn(rnn_tensor_copy(b, a), RNN_ERR_SHAPE);
    ck_errmsg("rnn_tensor_copy: dst and src shapes differ");
    ck_rnn(rnn_tensor_copy(ii, a), RNN_ERR_DTYPE);
    ck_ok(rnn_tensor_reshape(b, 2, dims));
    ck_ok(rnn_tensor_copy(b, a));
    ck_ok(rnn_tensor_clone(a, &c));
    pa[0] = 100.0f; /* the clone is deep */
    float v;
    int64_t idx[2] = {0, 0};
    ck_ok(rnn_tensor_get_f32(c, 2, idx, &v));
    ck_assert(v == 0.0f);
    ck_ok(rnn_tensor_get_f32(b, 2, idx, &v));
    ck_assert(v == 0.0f);
    idx[1] = 2;
    ck_ok(rnn_tensor_get_f32(c, 2, idx, &v));
    ck_assert(v == 2.0f);
    ck_rnn(rnn_tensor_reshape(c, 1, bad), RNN_ERR_SHAPE);
    ck_errmsg("new shape has 5 elements, the tensor has 6");
    ck_ok(rnn_tensor_reshape(c, 1, flat));
    int64_t i1[1] = {5};
    ck_ok(rnn_tensor_get_f32(c, 1, i1, &v));
    ck_assert(v == 5.0f);
    ck_ok(rnn_tensor_copy(a, a)); /* self-copy is a no-op */
    rnn_tensor_destroy(a);
    rnn_tensor_destroy(b);
    rnn_tensor_destroy(c);
    rnn_tensor_destroy(ii);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

static Suite *tensor_suite(void)
{
    Suite *s = suite_create("unit-tensor");
    TCase *tc = tcase_create("tensor");
    tcase_add_test(tc, create_query_destroy);
    tcase_add_test(tc, scalar_tensor);
    tcase_add_test(tc, create_misuse);
    tcase_add_test(tc, size_overflow);
    tcase_add_test(tc, wrap_borrows);
    tcase_add_test(tc, wrap_misuse);
    tcase_add_test(tc, element_access_misuse);
    tcase_add_test(tc, null_queries);
    tcase_add_test(tc, copy_clone_reshape);
    tcase_add_test(tc, const_data);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rnn_test_run(tensor_suite());
}
