/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers shared by every file of lib/. Not installed, not API. */
#ifndef RNN_INTERNAL_H
#define RNN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "rnn.h"

/* Internal symbols are hidden (-fvisibility=hidden) and prefixed rnn__ so
 * that a static link leaks nothing outside the rnn_ namespace. */
#define RNN__HIDDEN __attribute__((visibility("hidden")))

#if defined(__GNUC__)
#define RNN__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RNN__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define RNN__PRINTF(a, b)
#define RNN__UNLIKELY(x) (x)
#endif

/* ------------------------------------------------------------ errors */

/* Records message as the thread's last error (the innermost cause), logs it
 * at DEBUG level, and returns status (so callers can `return rnn__err(...)`).
 * func names the public function (rnn_...) the user called; any other name
 * (rnn__*, static helpers, NULL) is not recorded: rnn_last_error() never shows
 * an internal name. The message reads "func: message". */
RNN__HIDDEN rnn_status rnn__err(rnn_status status, const char *func, const char *fmt, ...)
    RNN__PRINTF(3, 4);
/* Adds context in front of the current cause ("epoch 1, batch 1: <cause>";
 * fmt may be NULL for none) and, when func is a public name, makes it the
 * function the message names (the outermost public caller wins). Returns
 * status. Use it instead of formatting rnn_last_error() into a new message. */
RNN__HIDDEN rnn_status rnn__err_wrap(rnn_status status, const char *func, const char *fmt, ...)
    RNN__PRINTF(3, 4);
#define RNN__WRAP(status, ...) rnn__err_wrap((status), __func__, __VA_ARGS__)
/* Names the enclosing public function on an error passed up unchanged. */
#define RNN__PASS(status) rnn__err_wrap((status), __func__, NULL)

/* RNN_ERR(status, "fmt", ...) names the enclosing function. Use it in the
 * public entry point so that the message names what the caller called. */
#define RNN__ERR(status, ...) rnn__err((status), __func__, __VA_ARGS__)

/* Loops over at least this many floats (memory-bound copies) run on the OpenMP threads. */
#define RNN__PAR_MIN ((size_t)1 << 16)

/* Check a pointer argument; returns from the function on NULL. */
#define RNN__CHECK_ARG(p)                                                                  \
    do {                                                                                   \
        if (RNN__UNLIKELY((p) == NULL))                                                    \
            return RNN__ERR(RNN_ERR_INVALID_ARG, "%s must not be NULL", #p);               \
    } while (0)

/* Same, for a parameter whose name in the code differs from the header's. */
#define RNN__CHECK_ARG_AS(p, name)                                                         \
    do {                                                                                   \
        if (RNN__UNLIKELY((p) == NULL))                                                    \
            return RNN__ERR(RNN_ERR_INVALID_ARG, "%s must not be NULL", name);             \
    } while (0)

/* ------------------------------------------------------------ versioned structs */

/* Bytes from the start of struct type to the end of its member field: the
 * smallest struct_size that still holds field. */
#define RNN__STRUCT_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Copies a caller's input struct that starts with `uint32_t struct_size`
 * (options, datasets) into dst, which the caller has filled with the
 * library's defaults and whose size is dst_size (sizeof the library's
 * struct). Accepted: min_size <= src->struct_size <= dst_size, that is a
 * struct from older headers that holds every required field (the fields
 * after it keep dst's defaults), up to the struct this library knows; a
 * larger one (newer headers than the library) or a smaller one is refused
 * with RNN_ERR_INVALID_ARG naming func, name ("options",
 * "options->validation_data") and type ("rnn_fit_options"). On success
 * dst's struct_size is dst_size. src must not be NULL. */
RNN__HIDDEN rnn_status rnn__opts_copy(const char *func, const char *name, const char *type,
                                      void *dst, size_t dst_size, const void *src,
                                      size_t min_size);
#define RNN__OPTS_COPY(name, type, dst, src, last_required)                                \
    rnn__opts_copy(__func__, (name), #type, (dst), sizeof(type), (src),                    \
                   RNN__STRUCT_END(type, last_required))

/* The other direction, for result structs the caller passes to be filled
 * (struct_size set by the caller): checks that min_size <= dst->struct_size
 * <= lib_size (else RNN_ERR_INVALID_ARG as above), ... */
RNN__HIDDEN rnn_status rnn__result_check(const char *func, const char *name, const char *type,
                                         const void *dst, size_t lib_size, size_t min_size);
/* ... and, once checked, copies the first dst->struct_size bytes of src (the
 * library's filled struct) into dst, keeping dst's struct_size. */
RNN__HIDDEN void rnn__result_copy(void *dst, const void *src);

/* Emits a log message if a callback is installed and level is enabled. */
RNN__HIDDEN void rnn__log(rnn_log_level level, const char *fmt, ...) RNN__PRINTF(2, 3);
RNN__HIDDEN int rnn__log_enabled(rnn_log_level level);

/* ------------------------------------------------------------ memory */

/* All allocations go through these. Blocks are 64-byte aligned. They return
 * NULL on failure and do NOT set an error: callers report RNN_ERR_NOMEM with
 * their own function name (see RNN__NOMEM). size 0 is treated as 1. */
RNN__HIDDEN void *rnn__malloc(size_t size);
RNN__HIDDEN void *rnn__calloc(size_t count, size_t size); /* zeroed, overflow-checked */
RNN__HIDDEN void rnn__free(void *ptr);                      /* NULL-safe */

#define RNN__NOMEM(bytes)                                                                  \
    RNN__ERR(RNN_ERR_NOMEM, "out of memory allocating %zu bytes", (size_t)(bytes))

/* Overflow-checked arithmetic on sizes: returns 0 on overflow. */
static inline int rnn__mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}
static inline int rnn__add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* ------------------------------------------------------------ threads */

/* (threads.c) rnn__threads(): the configured count, rnn_set_num_threads()
 * resolved (>= 1). A batch loop under the adaptive policy (governor.h) may
 * give the calling thread a smaller active count with rnn__threads_set_active()
 * (n <= 0: none); rnn__threads_current() is the count the calling thread
 * computes with: the active count, else the configured one. Before running
 * oneDNN primitives or an OpenMP loop, call rnn__threads_apply(): it sets the
 * calling thread's OpenMP count to rnn__threads_current().
 *
 * A oneDNN primitive belongs to the count it was created with: oneDNN sizes
 * per-thread scratchpads for it (a matmul's: 640 bytes on 1 thread, 1152 on
 * 2), so running it on more threads overruns them, and some kernels fork
 * exactly that many threads whatever the count at execution (measured: a
 * "1-thread" batch of the POS tagger spent 95% of its OpenMP time in regions
 * of 2 threads when its primitives had been created for 2). So the backends
 * key their primitive caches by rnn__threads_current() and create a primitive
 * after rnn__threads_create_begin(), which applies that count and starts the
 * clock of rnn__threads_creating(). */
RNN__HIDDEN int rnn__threads(void);
RNN__HIDDEN int rnn__threads_current(void);
RNN__HIDDEN void rnn__threads_apply(void);
RNN__HIDDEN void rnn__threads_create_begin(void);
RNN__HIDDEN void rnn__threads_set_active(int n);
RNN__HIDDEN int rnn__threads_adaptive(void); /* the policy is RNN_THREADS_ADAPTIVE */
/* Seconds this thread has spent creating oneDNN primitives so far (from each
 * creation's rnn__threads_create_begin() to the next rnn__threads_apply()): a
 * batch loop takes them out of the batch's time, as they say nothing about
 * the speed of a thread count (bucketing makes new shapes all through the
 * first epoch). */
RNN__HIDDEN double rnn__threads_creating(void);

/* ------------------------------------------------------------ buffers */

/* A growable f32 work buffer (buf.c): grown, never shrunk; contents are
 * unspecified after growing unless zero is set (then the first n floats are
 * zero). Zero-initialised = empty. */
typedef struct rnn__fbuf {
    float *p;
    size_t n; /* capacity in floats */
} rnn__fbuf;

RNN__HIDDEN rnn_status rnn__fbuf_ensure(rnn__fbuf *b, size_t n, int zero);
/* A raw buffer *p of *bytes grown to at least `need` bytes (contents not kept: the old block
 * is freed before the new one is allocated; on failure *p is NULL and *bytes 0). */
RNN__HIDDEN rnn_status rnn__bytes_ensure(void **p, size_t *bytes, size_t need);
/* memset(p, 0, nbytes), split over the library's threads when large. */
RNN__HIDDEN void rnn__zero(void *p, size_t nbytes);
RNN__HIDDEN void rnn__fbuf_free(rnn__fbuf *b);

/* ------------------------------------------------------------ tensors */

/* Internal view of the tensor object (tensor.c owns it). */
struct rnn_tensor {
    rnn_dtype dtype;
    int rank;
    int owned;
    int64_t dims[RNN_MAX_RANK];
    int64_t numel;
    size_t nbytes;
    size_t capacity; /* bytes allocated, owned tensors only */
    void *data;
};

/* Validates dtype/rank/dims and computes numel and nbytes. Reports errors
 * under the name func. */
RNN__HIDDEN rnn_status rnn__shape_check(const char *func, rnn_dtype dtype, int rank,
                                        const int64_t *dims, int64_t *numel, size_t *nbytes);

#endif /* RNN_INTERNAL_H */
