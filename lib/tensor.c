/* SPDX-License-Identifier: Apache-2.0 */
/* rnn_tensor: owned or borrowed dense C-ordered buffers. */
#include <string.h>

#include "internal.h"

size_t rnn_dtype_size(rnn_dtype dtype)
{
    switch (dtype) {
    case RNN_F32: return sizeof(float);
    case RNN_I32: return sizeof(int32_t);
    }
    return 0;
}

static const char *dtype_name(rnn_dtype d)
{
    return d == RNN_F32 ? "RNN_F32" : d == RNN_I32 ? "RNN_I32" : "unknown";
}

rnn_status rnn__shape_check(const char *func, rnn_dtype dtype, int rank, const int64_t *dims,
                            int64_t *numel, size_t *nbytes)
{
    size_t esize = rnn_dtype_size(dtype);
    if (esize == 0)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "dtype must be RNN_F32 or RNN_I32 (got %d)",
                        (int)dtype);
    if (rank < 0 || rank > RNN_MAX_RANK)
        return rnn__err(RNN_ERR_SHAPE, func, "rank must be in 0..%d (got %d)", RNN_MAX_RANK,
                        rank);
    if (rank > 0 && dims == NULL)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "dims must not be NULL when rank is %d",
                        rank);
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 1)
            return rnn__err(RNN_ERR_SHAPE, func, "dims[%d] must be > 0 (got %lld)", i,
                            (long long)dims[i]);
        if (__builtin_mul_overflow(n, dims[i], &n))
            return rnn__err(RNN_ERR_OVERFLOW, func,
                            "element count overflows int64 at dims[%d] = %lld", i,
                            (long long)dims[i]);
    }
    size_t bytes;
    if ((uint64_t)n > SIZE_MAX || !rnn__mul_size((size_t)n, esize, &bytes) ||
        bytes > (size_t)INT64_MAX)
        return rnn__err(RNN_ERR_OVERFLOW, func, "byte size of %lld elements of %s overflows",
                        (long long)n, dtype_name(dtype));
    *numel = n;
    *nbytes = bytes;
    return RNN_OK;
}

static rnn_status make(const char *func, rnn_dtype dtype, int rank, const int64_t *dims,
                       void *data, size_t nbytes_given, rnn_tensor **out)
{
    int64_t numel;
    size_t nbytes;
    rnn_status st = rnn__shape_check(func, dtype, rank, dims, &numel, &nbytes);
    if (st)
        return st;
    if (data) {
        if (nbytes_given < nbytes)
            return rnn__err(RNN_ERR_SHAPE, func,
                            "nbytes is %zu but the shape needs %zu bytes", nbytes_given, nbytes);
        if ((uintptr_t)data % rnn_dtype_size(dtype) != 0)
            return rnn__err(RNN_ERR_INVALID_ARG, func,
                            "data %p is not aligned to the %zu-byte element size", data,
                            rnn_dtype_size(dtype));
    }
    rnn_tensor *tensor = rnn__calloc(1, sizeof *tensor);
    if (!tensor)
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes", sizeof *tensor);
    tensor->dtype = dtype;
    tensor->rank = rank;
    for (int i = 0; i < rank; i++)
        tensor->dims[i] = dims[i];
    tensor->numel = numel;
    tensor->nbytes = nbytes;
    if (data) {
        tensor->data = data;
        tensor->owned = 0;
    } else {
        tensor->data = rnn__calloc(1, nbytes);
        if (!tensor->data) {
            rnn__free(tensor);
            return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes", nbytes);
        }
        tensor->owned = 1;
        tensor->capacity = nbytes;
    }
    *out = tensor;
    return RNN_OK;
}

rnn_status rnn_tensor_create(rnn_dtype dtype, int rank, const int64_t *dims, rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    return make(__func__, dtype, rank, dims, NULL, 0, out);
}

rnn_status rnn_tensor_wrap(rnn_dtype dtype, int rank, const int64_t *dims, void *data,
                           size_t nbytes, rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(data);
    return make(__func__, dtype, rank, dims, data, nbytes, out);
}

rnn_status rnn_tensor_clone(const rnn_tensor *src, rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(src);
    rnn_status st = make(__func__, src->dtype, src->rank, src->dims, NULL, 0, out);
    if (st)
        return st;
    memcpy((*out)->data, src->data, src->nbytes);
    return RNN_OK;
}

void rnn_tensor_destroy(rnn_tensor *tensor)
{
    if (!tensor)
        return;
    if (tensor->owned)
        rnn__free(tensor->data);
    rnn__free(tensor);
}

rnn_status rnn_tensor_dtype(const rnn_tensor *tensor, rnn_dtype *out)
{
    RNN__CHECK_ARG(out);
    *out = (rnn_dtype)0;
    RNN__CHECK_ARG(tensor);
    *out = tensor->dtype;
    return RNN_OK;
}

rnn_status rnn_tensor_rank(const rnn_tensor *tensor, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(tensor);
    *out = tensor->rank;
    return RNN_OK;
}

rnn_status rnn_tensor_dim(const rnn_tensor *tensor, int axis, int64_t *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(tensor);
    int a = axis < 0 ? axis + tensor->rank : axis;
    if (a < 0 || a >= tensor->rank)
        return RNN__ERR(RNN_ERR_RANGE, "axis must be in [%d, %d) for a rank-%d tensor (got %d)",
                        -tensor->rank, tensor->rank, tensor->rank, axis);
    *out = tensor->dims[a];
    return RNN_OK;
}

rnn_status rnn_tensor_shape(const rnn_tensor *tensor, int64_t *dims, int capacity, int *rank)
{
    RNN__CHECK_ARG(rank);
    *rank = 0;
    RNN__CHECK_ARG(tensor);
    if (tensor->rank > 0)
        RNN__CHECK_ARG(dims);
    if (capacity < tensor->rank)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "capacity must be >= the rank %d (got %d); RNN_MAX_RANK always fits",
                        tensor->rank, capacity);
    for (int i = 0; i < tensor->rank; i++)
        dims[i] = tensor->dims[i];
    *rank = tensor->rank;
    return RNN_OK;
}

rnn_status rnn_tensor_numel(const rnn_tensor *tensor, int64_t *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(tensor);
    *out = tensor->numel;
    return RNN_OK;
}

rnn_status rnn_tensor_nbytes(const rnn_tensor *tensor, size_t *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(tensor);
    *out = tensor->nbytes;
    return RNN_OK;
}

rnn_status rnn_tensor_data(rnn_tensor *tensor, void **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(tensor);
    *out = tensor->data;
    return RNN_OK;
}

rnn_status rnn_tensor_data_const(const rnn_tensor *tensor, const void **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(tensor);
    *out = tensor->data;
    return RNN_OK;
}

rnn_status rnn_tensor_reshape(rnn_tensor *tensor, int rank, const int64_t *dims)
{
    RNN__CHECK_ARG(tensor);
    int64_t numel;
    size_t nbytes;
    rnn_status st = rnn__shape_check(__func__, tensor->dtype, rank, dims, &numel, &nbytes);
    if (st)
        return st;
    if (numel != tensor->numel)
        return RNN__ERR(RNN_ERR_SHAPE, "new shape has %lld elements, the tensor has %lld",
                        (long long)numel, (long long)tensor->numel);
    tensor->rank = rank;
    for (int i = 0; i < rank; i++)
        tensor->dims[i] = dims[i];
    return RNN_OK;
}

/* Flat offset of a multi-index, or an error naming the caller. */
static rnn_status offset_of(const char *func, const rnn_tensor *tensor, int n_index,
                            const int64_t *index, rnn_dtype want, int64_t *off)
{
    if (tensor->dtype != want)
        return rnn__err(RNN_ERR_DTYPE, func, "tensor has dtype %s, this call needs %s",
                        dtype_name(tensor->dtype), dtype_name(want));
    if (n_index != tensor->rank)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "n_index must be the tensor's rank, %d (got %d)", tensor->rank, n_index);
    if (tensor->rank > 0 && index == NULL)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "index must not be NULL for a rank-%d tensor",
                        tensor->rank);
    int64_t o = 0;
    for (int i = 0; i < tensor->rank; i++) {
        if (index[i] < 0 || index[i] >= tensor->dims[i])
            return rnn__err(RNN_ERR_RANGE, func, "index[%d] must be in [0, %lld) (got %lld)", i,
                            (long long)tensor->dims[i], (long long)index[i]);
        o = o * tensor->dims[i] + index[i];
    }
    *off = o;
    return RNN_OK;
}

rnn_status rnn_tensor_get_f32(const rnn_tensor *tensor, int n_index, const int64_t *index,
                              float *out)
{
    RNN__CHECK_ARG(out);
    *out = 0.0f;
    RNN__CHECK_ARG(tensor);
    int64_t o;
    rnn_status st = offset_of(__func__, tensor, n_index, index, RNN_F32, &o);
    if (st)
        return st;
    *out = ((const float *)tensor->data)[o];
    return RNN_OK;
}

rnn_status rnn_tensor_set_f32(rnn_tensor *tensor, int n_index, const int64_t *index,
                              float value)
{
    RNN__CHECK_ARG(tensor);
    int64_t o;
    rnn_status st = offset_of(__func__, tensor, n_index, index, RNN_F32, &o);
    if (st)
        return st;
    ((float *)tensor->data)[o] = value;
    return RNN_OK;
}

rnn_status rnn_tensor_get_i32(const rnn_tensor *tensor, int n_index, const int64_t *index,
                              int32_t *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(tensor);
    int64_t o;
    rnn_status st = offset_of(__func__, tensor, n_index, index, RNN_I32, &o);
    if (st)
        return st;
    *out = ((const int32_t *)tensor->data)[o];
    return RNN_OK;
}

rnn_status rnn_tensor_set_i32(rnn_tensor *tensor, int n_index, const int64_t *index,
                              int32_t value)
{
    RNN__CHECK_ARG(tensor);
    int64_t o;
    rnn_status st = offset_of(__func__, tensor, n_index, index, RNN_I32, &o);
    if (st)
        return st;
    ((int32_t *)tensor->data)[o] = value;
    return RNN_OK;
}

rnn_status rnn_tensor_copy(rnn_tensor *dst, const rnn_tensor *src)
{
    RNN__CHECK_ARG(dst);
    RNN__CHECK_ARG(src);
    if (dst->dtype != src->dtype)
        return RNN__ERR(RNN_ERR_DTYPE, "dst has dtype %s but src has %s", dtype_name(dst->dtype),
                        dtype_name(src->dtype));
    int same = dst->rank == src->rank;
    for (int i = 0; same && i < dst->rank; i++)
        same = dst->dims[i] == src->dims[i];
    if (!same)
        return RNN__ERR(RNN_ERR_SHAPE, "dst and src shapes differ (ranks %d and %d, %lld and "
                                       "%lld elements)",
                        dst->rank, src->rank, (long long)dst->numel, (long long)src->numel);
    if (dst != src)
        memmove(dst->data, src->data, src->nbytes);
    return RNN_OK;
}

rnn_status rnn_tensor_fill_f32(rnn_tensor *tensor, float value)
{
    RNN__CHECK_ARG(tensor);
    if (tensor->dtype != RNN_F32)
        return RNN__ERR(RNN_ERR_DTYPE, "tensor has dtype %s, this call needs RNN_F32",
                        dtype_name(tensor->dtype));
    float *p = tensor->data;
    for (int64_t i = 0; i < tensor->numel; i++)
        p[i] = value;
    return RNN_OK;
}

rnn_status rnn_tensor_fill_i32(rnn_tensor *tensor, int32_t value)
{
    RNN__CHECK_ARG(tensor);
    if (tensor->dtype != RNN_I32)
        return RNN__ERR(RNN_ERR_DTYPE, "tensor has dtype %s, this call needs RNN_I32",
                        dtype_name(tensor->dtype));
    int32_t *p = tensor->data;
    for (int64_t i = 0; i < tensor->numel; i++)
        p[i] = value;
    return RNN_OK;
}
