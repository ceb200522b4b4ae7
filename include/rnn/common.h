/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/common.h
 * @brief Status codes, error messages, versions, allocator, logging, threads.
 *
 * Conventions shared by every librnn function:
 *  - a function that can fail returns ::rnn_status (::RNN_OK is 0);
 *  - results come back through out-parameters placed last, which are set to
 *    NULL / 0 when the call fails;
 *  - on failure rnn_last_error() returns a message naming the function, the
 *    argument and the value, e.g.
 *    "rnn_tensor_create: dims[1] must be > 0 (got 0)";
 *  - the library never aborts, exits or prints.
 */
#ifndef RNN_COMMON_H
#define RNN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "rnn/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Marks a public symbol; everything else in librnn is hidden. */
#if defined(RNN_STATIC_BUILD)
#define RNN_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define RNN_API __attribute__((visibility("default")))
#else
#define RNN_API
#endif

/**
 * @brief Result of every librnn call that can fail.
 *
 * Values are fixed forever; new codes are only ever appended.
 */
typedef enum rnn_status {
    RNN_OK = 0,               /**< Success. */
    RNN_ERR_INVALID_ARG = 1,  /**< An argument is NULL, out of its domain, or inconsistent. */
    RNN_ERR_NOMEM = 2,        /**< A memory allocation failed; nothing was changed. */
    RNN_ERR_SHAPE = 3,        /**< Tensor ranks or dimensions do not fit the operation. */
    RNN_ERR_DTYPE = 4,        /**< A tensor has the wrong element type. */
    RNN_ERR_OVERFLOW = 5,     /**< A size computation would overflow. */
    RNN_ERR_RANGE = 6,        /**< An index, id or label is outside its valid range. */
    RNN_ERR_STATE = 7,        /**< The object is not in a state that allows this call. */
    RNN_ERR_BACKEND = 8,      /**< The compute backend (oneDNN) reported a failure. */
    RNN_ERR_IO = 9,           /**< A file could not be opened, read or written. */
    RNN_ERR_FORMAT = 10,      /**< A file or buffer is truncated, corrupted or of another version. */
    RNN_ERR_NUMERIC = 11,     /**< A NaN or infinity appeared where a finite value is required. */
    RNN_ERR_UNSUPPORTED = 12, /**< A valid request this build or backend cannot perform. */
    RNN_ERR_INTERNAL = 13,    /**< A bug in librnn; please report it with rnn_last_error(). */
    RNN_ERR_COLLECTIVE = 14   /**< The collective engine of data-parallel training (rnn/collective.h)
                                   failed or timed out; every rank fails at the same step. */
} rnn_status;

/**
 * @brief Static English text for a status code ("invalid argument", ...).
 * @return Never NULL; unknown codes give "unknown status".
 */
RNN_API const char *rnn_status_string(rnn_status status);

/**
 * @brief Message describing the most recent failure on the calling thread.
 *
 * The text names the failing function and argument. It is thread-local,
 * stays valid until the next failing librnn call on the same thread, and is
 * not cleared by successful calls (like errno). Never NULL; "" when no call
 * has failed on this thread yet.
 */
RNN_API const char *rnn_last_error(void);

/**
 * @brief Records a failure as the calling thread's last error, for libraries
 * and bindings built on librnn (librnn-keras, for one) whose errors should
 * read like librnn's own: rnn_last_error() then gives "function: message"
 * (just @p message when @p function is NULL or ""), the message cut to 511
 * bytes, the function name to 63. Nothing else changes. The log callback
 * sees it at RNN_LOG_DEBUG, as librnn's own errors.
 * @param status what the caller will return (returned unchanged, so that a
 *        caller can write `return rnn_set_last_error(RNN_ERR_UNSUPPORTED, ...)`).
 * @param function the public function that failed, e.g. "rnn_model_load_keras"
 *        (may be NULL).
 * @param message the cause (NULL is taken as "").
 * @return @p status.
 */
RNN_API rnn_status rnn_set_last_error(rnn_status status, const char *function,
                                      const char *message);

/** @brief Version of the library at run time, as RNN_VERSION_NUMBER. */
RNN_API unsigned rnn_version_number(void);

/** @brief Version of the library at run time, as RNN_VERSION_STRING. */
RNN_API const char *rnn_version_string(void);

/* ---------------------------------------------------------------- memory */

/**
 * @brief Allocation function of a replacement allocator.
 * @param user_data the pointer given to rnn_set_allocator().
 * @param size number of bytes (> 0).
 * @return the block, or NULL when out of memory.
 */
typedef void *(*rnn_alloc_fn)(void *user_data, size_t size);

/** @brief Release function matching ::rnn_alloc_fn (never called with NULL). */
typedef void (*rnn_free_fn)(void *user_data, void *ptr);

/**
 * @brief Replaces the allocator used for all of librnn's own memory.
 *
 * Every byte librnn allocates (tensors, models, workspaces, primitive
 * scratchpads) goes through these functions; oneDNN's internal bookkeeping
 * does not. Pass NULL for both functions to restore the default: malloc
 * and free, except that blocks of 1 MiB and more are mapped from the
 * system directly (mmap) and given back to it when freed, so that a
 * training run's memory does not stay above what it holds (glibc keeps
 * freed big blocks in its heap once it has raised its mmap threshold).
 * A replacement gets every block, big ones too.
 * Blocks are requested with no alignment promise: librnn aligns internally.
 *
 * Allowed only while no librnn memory is live (rnn_memory_used() == 0),
 * so that no block is ever released by a function that did not allocate it.
 *
 * @retval RNN_OK
 * @retval RNN_ERR_INVALID_ARG exactly one of @p alloc_fn and @p free_fn is NULL.
 * @retval RNN_ERR_STATE librnn memory is still allocated.
 */
RNN_API rnn_status rnn_set_allocator(rnn_alloc_fn alloc_fn, rnn_free_fn free_fn,
                                     void *user_data);

/**
 * @brief Bytes currently allocated by librnn through its allocator
 * (payload only). Zero once every handle has been destroyed.
 */
RNN_API size_t rnn_memory_used(void);

/**
 * @brief Caps what a recurrent layer keeps from its training forward for its
 * backward (oneDNN's workspace), per layer and direction; 0 (the default)
 * sets no cap.
 *
 * Backpropagation through time keeps every step's states and gates: for a
 * batch of N sequences of T steps, a few KiB per step and sequence (with
 * IMDB's batches of 64 reviews of up to 500 tokens, a GRU of 64 units on
 * 128-wide inputs keeps 230 MB per direction). When a training batch would
 * keep more than @p bytes, the layer cuts time into chunks whose workspace
 * fits, keeps only the states where chunks meet, and runs each chunk's
 * forward again just before its backward (gradient checkpointing): the
 * results are those of the uncapped run up to rounding, the cost about one
 * more forward pass of the recurrent layers. Inference is never affected.
 * docs/guide/memory.md gives figures. Takes effect from the next forward.
 *
 * @param bytes the cap in bytes (any value; below one step's workspace, the
 *        chunks are single steps).
 * @retval RNN_OK
 */
RNN_API rnn_status rnn_set_workspace_limit(size_t bytes);

/** @brief The cap set by rnn_set_workspace_limit() (0: none). */
RNN_API size_t rnn_get_workspace_limit(void);

/* --------------------------------------------------------------- logging */

/** @brief Severity of a log message (lower is more severe). */
typedef enum rnn_log_level {
    RNN_LOG_ERROR = 1, /**< An operation failed (also returned as a status). */
    RNN_LOG_WARN = 2,  /**< Something works but probably not as intended. */
    RNN_LOG_INFO = 3,  /**< Occasional facts: backend chosen, files written. */
    RNN_LOG_DEBUG = 4  /**< Every error message, primitive creation, etc. */
} rnn_log_level;

/**
 * @brief Receives librnn's diagnostics. May be called from any thread that
 * calls into librnn; must not call back into librnn.
 */
typedef void (*rnn_log_fn)(void *user_data, rnn_log_level level, const char *message);

/**
 * @brief Installs (or with @p fn NULL removes) the process-wide log callback.
 *
 * Messages with a level greater than @p max_level are not produced.
 * No callback is installed by default: librnn prints nothing.
 *
 * @retval RNN_ERR_INVALID_ARG @p max_level is not a ::rnn_log_level.
 */
RNN_API rnn_status rnn_set_log_callback(rnn_log_fn fn, void *user_data,
                                        rnn_log_level max_level);

/* --------------------------------------------------------------- threads */

/**
 * @brief Sets how many threads librnn and oneDNN use for computations.
 *
 * Honoured by oneDNN primitives and by librnn's own parallel loops, for
 * work started from any thread after this call. @p n = 0 restores the
 * default (the OpenMP default, normally the number of cores).
 *
 * This is the most threads a computation uses. Under the default
 * ::RNN_THREADS_ADAPTIVE policy, rnn_model_fit(), rnn_model_evaluate(),
 * rnn_model_predict() and rnn_model_decode() may run batches on fewer when
 * that measures faster (see rnn_set_thread_policy()).
 *
 * @retval RNN_ERR_INVALID_ARG @p n < 0 or @p n > 4096.
 */
RNN_API rnn_status rnn_set_num_threads(int n);

/** @brief Number of threads computations will use (resolves the default). */
RNN_API int rnn_get_num_threads(void);

/** @brief How many threads the batch loops use: see rnn_set_thread_policy(). */
typedef enum rnn_thread_policy {
    /**
     * The default. The batch loops of rnn_model_fit(), rnn_model_evaluate(),
     * rnn_model_predict() and rnn_model_decode(), and a caller's loop of
     * rnn_model_train_step() or rnn_model_test_step() (a model keeps what it
     * measured from call to call), time their batches and now
     * and then run a few on fewer threads than rnn_get_num_threads(); when
     * fewer measure clearly faster (another process holds a core, so
     * OpenMP threads would spin waiting for a descheduled sibling), they
     * keep the smaller count, and they try the larger one again from time
     * to time, returning to it when the load is gone. On an idle machine
     * this costs well under 3% of the speed. A count of 1 is never changed.
     * Because the count depends on timing, results are reproducible only
     * as far as oneDNN's are across thread counts (docs/guide/threads.md).
     */
    RNN_THREADS_ADAPTIVE = 0,
    /** Always rnn_get_num_threads() threads: the behaviour of a fixed
     *  OpenMP thread count, reproducible run to run. */
    RNN_THREADS_FIXED = 1
} rnn_thread_policy;

/**
 * @brief Sets the process-wide thread policy (default ::RNN_THREADS_ADAPTIVE),
 * for batch loops started after the call.
 *
 * @retval RNN_ERR_INVALID_ARG @p policy is not a ::rnn_thread_policy.
 */
RNN_API rnn_status rnn_set_thread_policy(rnn_thread_policy policy);

/** @brief The thread policy in force. */
RNN_API rnn_thread_policy rnn_get_thread_policy(void);

/**
 * @brief Threads the calling thread's batch loop uses now, or the last one
 * used when it ended.
 *
 * From a callback of rnn_model_fit() (on_batch, on_epoch, on_progress): the
 * count the batch just done ran on. After rnn_model_fit(),
 * rnn_model_evaluate(), rnn_model_predict(), rnn_model_decode(),
 * rnn_model_train_step() or rnn_model_test_step() returned: the count it
 * ended with (the one its next batch starts on). rnn_get_num_threads() when
 * no such call has run on this thread, or under ::RNN_THREADS_FIXED. Other
 * computations (rnn_model_forward(), rnn_model_backward(), the step API)
 * always use rnn_get_num_threads().
 */
RNN_API int rnn_get_active_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* RNN_COMMON_H */
