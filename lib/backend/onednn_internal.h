/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the backend/onednn*.c files only: the one place oneDNN's
 * headers are included. oneDNN 2.6 C API ("op descriptors"); a port to 3.x
 * touches these files and nothing else. */
#ifndef RNN_ONEDNN_INTERNAL_H
#define RNN_ONEDNN_INTERNAL_H

#include <oneapi/dnnl/dnnl.h>

#include "backend/backend.h"

struct rnn__dnnl_ctx {
    dnnl_engine_t engine; /* CPU engine, created once per context */
    dnnl_stream_t stream; /* in-order stream on that engine */
    struct rnn__dnnl_mm *matmuls; /* cache of matmul primitives by shape */
    float *bt;                    /* scratch for a transposed B operand */
    size_t bt_n;
};

/* Reports a oneDNN failure as RNN_ERR_BACKEND ("func: what: oneDNN status"). */
RNN__HIDDEN rnn_status rnn__dnnl_fail(const char *func, const char *what, dnnl_status_t st);

/* Evaluates a oneDNN call; on failure reports it and jumps to `fail` after
 * storing the status in local `st` (rnn_status). */
#define RNN__DNNL(call)                                                                    \
    do {                                                                                   \
        dnnl_status_t dnnl_st_ = (call);                                                   \
        if (RNN__UNLIKELY(dnnl_st_ != dnnl_success)) {                                     \
            st = rnn__dnnl_fail(__func__, #call, dnnl_st_);                                \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

/* One execution argument: a oneDNN argument id, its memory descriptor, and
 * the caller's buffer (borrowed; wrapped in a memory object for the call). */
typedef struct rnn__dnnl_arg {
    int arg;
    const dnnl_memory_desc_t *md;
    void *ptr;
} rnn__dnnl_arg;

#define RNN__DNNL_MAX_ARGS 32

/* Executes prim on the context's stream with the current thread count and
 * waits for it. Buffers must match their descriptors. */
RNN__HIDDEN rnn_status rnn__dnnl_exec(rnn__dnnl_ctx *c, dnnl_primitive_t prim,
                                      const rnn__dnnl_arg *args, int n);

#endif
