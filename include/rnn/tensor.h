/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/tensor.h
 * @brief Dense, C-ordered (row-major) tensors of f32 or i32 elements.
 *
 * A tensor either owns its buffer (rnn_tensor_create(), rnn_tensor_clone())
 * or borrows a caller's buffer (rnn_tensor_wrap(), the zero-copy path used by
 * numpy and by programs that already hold their data). The library never
 * frees a borrowed buffer; the caller keeps it alive and unmoved until the
 * tensor is destroyed. Owned buffers are 64-byte aligned.
 *
 * Dimensions are int64_t, each at least 1; the rank is 0 (a scalar) to
 * RNN_MAX_RANK. Axis 0 is the outermost (slowest varying) axis.
 */
#ifndef RNN_TENSOR_H
#define RNN_TENSOR_H

#include "rnn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Largest supported tensor rank. */
#define RNN_MAX_RANK 8

/** @brief Element type of a tensor. Values are fixed forever. */
typedef enum rnn_dtype {
    RNN_F32 = 1, /**< IEEE-754 binary32, `float`. */
    RNN_I32 = 2  /**< Two's complement 32-bit integer, `int32_t`. */
} rnn_dtype;

/** @brief Opaque tensor handle. */
typedef struct rnn_tensor rnn_tensor;

/** @brief Size in bytes of one element of @p dtype, or 0 if @p dtype is unknown. */
RNN_API size_t rnn_dtype_size(rnn_dtype dtype);

/**
 * @brief Creates a tensor that owns a zero-filled buffer.
 * @param dtype element type.
 * @param rank number of dimensions, 0..RNN_MAX_RANK.
 * @param dims @p rank dimensions, each >= 1 (may be NULL when rank is 0).
 * @param[out] out the new tensor, or NULL on failure. Release it with
 *             rnn_tensor_destroy().
 * @retval RNN_ERR_INVALID_ARG NULL @p out or @p dims, unknown dtype.
 * @retval RNN_ERR_SHAPE bad rank or a dimension < 1.
 * @retval RNN_ERR_OVERFLOW the byte size does not fit in size_t / int64_t.
 * @retval RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_tensor_create(rnn_dtype dtype, int rank, const int64_t *dims,
                                     rnn_tensor **out);

/**
 * @brief Creates a tensor over a caller-owned buffer, without copying.
 *
 * @p data must hold at least the tensor's byte size (@p nbytes says how much
 * it holds, so a short buffer is caught) and be aligned to the element size.
 * Writes through the tensor go to @p data. The buffer is never freed by
 * librnn and must outlive the tensor.
 * @retval RNN_ERR_INVALID_ARG NULL @p data or @p out, misaligned @p data.
 * @retval RNN_ERR_SHAPE bad rank or dimension, or @p nbytes too small.
 * @retval RNN_ERR_OVERFLOW, RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_tensor_wrap(rnn_dtype dtype, int rank, const int64_t *dims,
                                   void *data, size_t nbytes, rnn_tensor **out);

/**
 * @brief Creates an owned deep copy of @p src (same dtype, shape and values).
 * @retval RNN_ERR_INVALID_ARG, RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_tensor_clone(const rnn_tensor *src, rnn_tensor **out);

/** @brief Releases a tensor (and its buffer if owned). NULL is allowed. */
RNN_API void rnn_tensor_destroy(rnn_tensor *tensor);

/** @brief Element type of @p tensor. */
RNN_API rnn_status rnn_tensor_dtype(const rnn_tensor *tensor, rnn_dtype *out);

/** @brief Number of dimensions of @p tensor. */
RNN_API rnn_status rnn_tensor_rank(const rnn_tensor *tensor, int *out);

/**
 * @brief Size of dimension @p axis; negative axes count from the end
 * (-1 is the last), as in numpy.
 * @retval RNN_ERR_RANGE @p axis outside [-rank, rank).
 */
RNN_API rnn_status rnn_tensor_dim(const rnn_tensor *tensor, int axis, int64_t *out);

/**
 * @brief Copies the shape into @p dims (room for @p capacity entries) and
 * the rank into @p rank.
 * @retval RNN_ERR_INVALID_ARG @p capacity is smaller than the rank.
 */
RNN_API rnn_status rnn_tensor_shape(const rnn_tensor *tensor, int64_t *dims, int capacity,
                                    int *rank);

/** @brief Number of elements (product of the dimensions; 1 for a scalar). */
RNN_API rnn_status rnn_tensor_numel(const rnn_tensor *tensor, int64_t *out);

/** @brief Size of the data in bytes. */
RNN_API rnn_status rnn_tensor_nbytes(const rnn_tensor *tensor, size_t *out);

/**
 * @brief Pointer to the first element (C order), borrowed from the tensor,
 * for reading and writing.
 *
 * Valid until the tensor is destroyed or reshaped with a different size.
 * For a wrapped tensor this is the caller's own buffer. To read a tensor
 * the library hands out as const (model and layer outputs, gradients), use
 * rnn_tensor_data_const().
 */
RNN_API rnn_status rnn_tensor_data(rnn_tensor *tensor, void **out);

/**
 * @brief Read-only pointer to the first element (C order): rnn_tensor_data()
 * for a `const rnn_tensor *`, such as rnn_model_output() gives, without a cast.
 * Same lifetime as rnn_tensor_data()'s pointer.
 * @param[out] out the data, NULL on failure.
 * @retval RNN_ERR_INVALID_ARG NULL @p tensor or @p out.
 */
RNN_API rnn_status rnn_tensor_data_const(const rnn_tensor *tensor, const void **out);

/**
 * @brief Gives the tensor a new shape with the same number of elements;
 * the data is not moved.
 * @retval RNN_ERR_SHAPE the element count differs or a dimension is bad.
 */
RNN_API rnn_status rnn_tensor_reshape(rnn_tensor *tensor, int rank, const int64_t *dims);

/**
 * @brief Reads one f32 element.
 * @param n_index the number of indices in @p index: the tensor's rank (0 for
 *        a scalar). It is checked, so an index array made for a tensor of
 *        another rank is refused instead of read past its end.
 * @param index @p n_index indices (NULL when 0), each in [0, dims[i]).
 * @retval RNN_ERR_DTYPE the tensor is not ::RNN_F32.
 * @retval RNN_ERR_INVALID_ARG @p n_index is not the rank, or @p index is NULL
 *         for a rank above 0.
 * @retval RNN_ERR_RANGE an index is out of bounds.
 */
RNN_API rnn_status rnn_tensor_get_f32(const rnn_tensor *tensor, int n_index,
                                      const int64_t *index, float *out);

/** @brief Writes one f32 element; errors as rnn_tensor_get_f32(). */
RNN_API rnn_status rnn_tensor_set_f32(rnn_tensor *tensor, int n_index, const int64_t *index,
                                      float value);

/** @brief Reads one i32 element; errors as rnn_tensor_get_f32(). */
RNN_API rnn_status rnn_tensor_get_i32(const rnn_tensor *tensor, int n_index,
                                      const int64_t *index, int32_t *out);

/** @brief Writes one i32 element; errors as rnn_tensor_get_f32(). */
RNN_API rnn_status rnn_tensor_set_i32(rnn_tensor *tensor, int n_index, const int64_t *index,
                                      int32_t value);

/**
 * @brief Copies the values of @p src into @p dst.
 * @retval RNN_ERR_DTYPE the element types differ.
 * @retval RNN_ERR_SHAPE the shapes differ.
 */
RNN_API rnn_status rnn_tensor_copy(rnn_tensor *dst, const rnn_tensor *src);

/** @brief Sets every element of an ::RNN_F32 tensor to @p value. */
RNN_API rnn_status rnn_tensor_fill_f32(rnn_tensor *tensor, float value);

/** @brief Sets every element of an ::RNN_I32 tensor to @p value. */
RNN_API rnn_status rnn_tensor_fill_i32(rnn_tensor *tensor, int32_t value);

#ifdef __cplusplus
}
#endif

#endif /* RNN_TENSOR_H */
