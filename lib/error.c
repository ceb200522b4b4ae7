/* SPDX-License-Identifier: Apache-2.0 */
/* Status strings, the thread-local last-error message, and logging. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define RNN__ERRMSG_MAX 512
#define RNN__FUNC_MAX 64

/*
 * The thread's last error is kept as two parts: the public function the user
 * called (empty until one names itself) and the cause, innermost first with
 * the context each level added in front ("epoch 1, batch 1: layer 'dense'
 * (Dense): ..."). Internal functions (rnn__*, static helpers) never name
 * themselves: only names of the public API (rnn_ but not rnn__) are kept, and
 * the outermost public function wins, so that a message names what the user
 * called and states the cause once.
 */
static _Thread_local char err_func[RNN__FUNC_MAX];
static _Thread_local char err_cause[RNN__ERRMSG_MAX];
static _Thread_local char last_error[RNN__FUNC_MAX + 2 + RNN__ERRMSG_MAX];

const char *rnn_status_string(rnn_status status)
{
    switch (status) {
    case RNN_OK: return "success";
    case RNN_ERR_INVALID_ARG: return "invalid argument";
    case RNN_ERR_NOMEM: return "out of memory";
    case RNN_ERR_SHAPE: return "shape mismatch";
    case RNN_ERR_DTYPE: return "wrong element type";
    case RNN_ERR_OVERFLOW: return "size overflow";
    case RNN_ERR_RANGE: return "value out of range";
    case RNN_ERR_STATE: return "invalid state for this call";
    case RNN_ERR_BACKEND: return "compute backend failure";
    case RNN_ERR_IO: return "input/output error";
    case RNN_ERR_FORMAT: return "invalid or corrupted data format";
    case RNN_ERR_NUMERIC: return "non-finite numeric value";
    case RNN_ERR_UNSUPPORTED: return "unsupported operation";
    case RNN_ERR_INTERNAL: return "internal error";
    case RNN_ERR_COLLECTIVE: return "collective operation failed";
    }
    return "unknown status";
}

const char *rnn_last_error(void)
{
    return last_error;
}

static int is_public(const char *func)
{
    return func && strncmp(func, "rnn_", 4) == 0 && func[4] != '_';
}

static rnn_status compose(rnn_status status, const char *func)
{
    if (is_public(func))
        snprintf(err_func, sizeof err_func, "%s", func);
    if (err_func[0])
        snprintf(last_error, sizeof last_error, "%s: %s", err_func, err_cause);
    else
        snprintf(last_error, sizeof last_error, "%s", err_cause);
    rnn__log(RNN_LOG_DEBUG, "%s (%s)", last_error, rnn_status_string(status));
    return status;
}

rnn_status rnn__err(rnn_status status, const char *func, const char *fmt, ...)
{
    /* Format into a local buffer first: an argument may point into the
     * thread's error buffers. */
    char msg[RNN__ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(err_cause, msg, sizeof msg);
    err_func[0] = 0;
    return compose(status, func);
}

rnn_status rnn_set_last_error(rnn_status status, const char *function, const char *message)
{
    char msg[RNN__ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", message ? message : "");
    memcpy(err_cause, msg, sizeof msg);
    snprintf(err_func, sizeof err_func, "%s", function ? function : "");
    if (err_func[0])
        snprintf(last_error, sizeof last_error, "%s: %s", err_func, err_cause);
    else
        snprintf(last_error, sizeof last_error, "%s", err_cause);
    rnn__log(RNN_LOG_DEBUG, "%s (%s)", last_error, rnn_status_string(status));
    return status;
}

rnn_status rnn__err_wrap(rnn_status status, const char *func, const char *fmt, ...)
{
    if (fmt) {
        char msg[RNN__ERRMSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n + 2 < sizeof msg) {
            /* context ": " cause, cut to the buffer */
            size_t at = (size_t)n, room = sizeof msg - at - 3, len = strlen(err_cause);
            memcpy(msg + at, ": ", 2);
            memcpy(msg + at + 2, err_cause, len < room ? len : room);
            msg[at + 2 + (len < room ? len : room)] = 0;
            memcpy(err_cause, msg, sizeof msg);
        }
    }
    return compose(status, func);
}

/* ---------------------------------------------------------------- logging */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static rnn_log_fn log_fn;
static void *log_user;
static int log_max; /* 0 when no callback: checked without the lock */

rnn_status rnn_set_log_callback(rnn_log_fn fn, void *user_data, rnn_log_level max_level)
{
    if (max_level < RNN_LOG_ERROR || max_level > RNN_LOG_DEBUG)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "max_level must be RNN_LOG_ERROR..RNN_LOG_DEBUG (got %d)", (int)max_level);
    pthread_mutex_lock(&log_lock);
    log_fn = fn;
    log_user = user_data;
    __atomic_store_n(&log_max, fn ? (int)max_level : 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&log_lock);
    return RNN_OK;
}

int rnn__log_enabled(rnn_log_level level)
{
    return (int)level <= __atomic_load_n(&log_max, __ATOMIC_ACQUIRE);
}

void rnn__log(rnn_log_level level, const char *fmt, ...)
{
    if (!rnn__log_enabled(level))
        return;
    char msg[RNN__ERRMSG_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    rnn_log_fn fn = log_fn;
    void *user = log_user;
    int max = log_max;
    pthread_mutex_unlock(&log_lock);
    if (fn && (int)level <= max)
        fn(user, level, msg);
}
