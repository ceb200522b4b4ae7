/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the backend/onednn*.c files only: the one place oneDNN's
 * headers are included. Both C APIs are supported: 2.x (operation
 * descriptors, memory descriptors as plain structs; Debian bookworm's 2.6)
 * and 3.x (primitive descriptors created directly, memory descriptors as
 * opaque handles; Debian trixie's 3.7). The differences are absorbed here
 * (rnn__md) and in backend/onednn_compat.c; no other file tests
 * DNNL_VERSION_MAJOR. */
#ifndef RNN_ONEDNN_INTERNAL_H
#define RNN_ONEDNN_INTERNAL_H

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_version.h>

#include "backend/backend.h"

#if DNNL_VERSION_MAJOR >= 3
/* An owned handle (NULL = none), released with rnn__md_free. */
typedef dnnl_memory_desc_t rnn__md;
typedef const_dnnl_memory_desc_t rnn__cmd;
#define RNN__CMD(md) (md)
#else
/* A plain struct (all zero = none); rnn__md_free does nothing. */
typedef dnnl_memory_desc_t rnn__md;
typedef const dnnl_memory_desc_t *rnn__cmd;
#define RNN__CMD(md) (&(md))
#endif

/* Memory descriptors: f32 with a format tag (format_tag_any lets the primitive
 * choose), f32 with explicit strides, a copy of what a primitive descriptor
 * reports (weights_md, workspace_md, scratchpad_md, ...). Each replaces
 * whatever *md held. */
RNN__HIDDEN dnnl_status_t rnn__md_tag(rnn__md *md, int nd, const dnnl_dims_t dims,
                                      dnnl_format_tag_t tag);
RNN__HIDDEN dnnl_status_t rnn__md_strides(rnn__md *md, int nd, const dnnl_dims_t dims,
                                          const dnnl_dims_t strides);
/* The same with another data type (dnnl_bf16 for mixed precision). */
RNN__HIDDEN dnnl_status_t rnn__md_tag_dt(rnn__md *md, int nd, const dnnl_dims_t dims,
                                         dnnl_data_type_t dt, dnnl_format_tag_t tag);
RNN__HIDDEN dnnl_status_t rnn__md_strides_dt(rnn__md *md, int nd, const dnnl_dims_t dims,
                                             dnnl_data_type_t dt, const dnnl_dims_t strides);
RNN__HIDDEN dnnl_status_t rnn__md_query(rnn__md *md, const_dnnl_primitive_desc_t pd,
                                        dnnl_query_t what, int index);
RNN__HIDDEN dnnl_status_t rnn__md_copy(rnn__md *md, rnn__cmd src);
RNN__HIDDEN void rnn__md_free(rnn__md *md);
RNN__HIDDEN size_t rnn__md_size(rnn__cmd md);
RNN__HIDDEN int rnn__md_equal(rnn__cmd a, rnn__cmd b);

/* The memory descriptors of one recurrent primitive (NULL where absent: the
 * _c ones for every cell but LSTM). */
typedef struct rnn__rnn_mds {
    rnn__cmd src_layer, src_iter, src_iter_c, weights_layer, weights_iter, bias, dst_layer,
        dst_iter, dst_iter_c;
} rnn__rnn_mds;

/* A primitive descriptor for one recurrent cell (RNN__CELL_*; act is the
 * vanilla cell's activation), left to right. Forward when diff is NULL (prop
 * forward_training or forward_inference); backward when diff gives the
 * gradients' descriptors, with hint the forward_training descriptor. The
 * flags are oneDNN's default: diff weights accumulate. */
RNN__HIDDEN dnnl_status_t rnn__dnnl_rnn_pd_create(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                                  int cell, dnnl_alg_kind_t act,
                                                  dnnl_prop_kind_t prop, const rnn__rnn_mds *d,
                                                  const rnn__rnn_mds *diff,
                                                  const_dnnl_primitive_desc_t hint,
                                                  const_dnnl_primitive_attr_t attr);

/* A matmul primitive descriptor (bias may be NULL). */
RNN__HIDDEN dnnl_status_t rnn__dnnl_matmul_pd_create(dnnl_primitive_desc_t *pd,
                                                     dnnl_engine_t engine, rnn__cmd a, rnn__cmd b,
                                                     rnn__cmd bias, rnn__cmd c,
                                                     const_dnnl_primitive_attr_t attr);

/* oneDNN's name of a status ("out_of_memory"), static text. */
RNN__HIDDEN const char *rnn__dnnl_status_name(dnnl_status_t s);

/* Appends dst += 1.0 * dst_before to post_ops (the accumulate of C += A*B). */
RNN__HIDDEN dnnl_status_t rnn__dnnl_post_ops_append_sum(dnnl_post_ops_t po);

/* Memory objects reused from call to call (rnn__dnnl_exec): keyed by the
 * address of the caller's descriptor and the argument id (one descriptor may
 * serve several arguments of a call), checked against its contents, given
 * the call's buffer with dnnl_memory_set_data_handle. Creating a memory
 * object per argument per call cost about 3.5% of an N=1 LSTM inference step
 * (two allocations each, measured with callgrind). */
#define RNN__DNNL_MEM_SLOTS 256
typedef struct rnn__dnnl_mem_slot {
    rnn__cmd key;      /* the descriptor's address as passed (NULL: empty) */
    int arg;           /* the argument id it was used for */
    dnnl_memory_t mem; /* created from *key */
} rnn__dnnl_mem_slot;

/* The first member of every cached primitive entry (recurrent kernels' primitives, f32 and
 * bf16 matmuls): their lists are bounded like oneDNN's own primitive cache, an LRU. A list
 * that holds more than rnn__dnnl_cache_cap entries loses its least recently used one not used
 * since keep_from (the entries of the call or batch under way are never taken). */
typedef struct rnn__dnnl_cached {
    struct rnn__dnnl_cached *next;
    uint64_t used; /* the owner's clock when last used */
} rnn__dnnl_cached;
RNN__HIDDEN extern size_t rnn__dnnl_cache_cap; /* 512; tests lower it */
/* Puts the new entry e at the head of the list, used at now, and frees (free_entry(entry))
 * the least recently used ones not used since now while the list is over the cap. */
RNN__HIDDEN void rnn__dnnl_cache_push(rnn__dnnl_cached **head, rnn__dnnl_cached *e, uint64_t now,
                                      void (*free_entry)(void *));
RNN__HIDDEN size_t rnn__dnnl_rnn_cached(const rnn__dnnl_rnn *k); /* its primitives (tests) */

/* The variable-length plan of a recurrent kernel's last forward (onednn_plan.c; the head
 * comment of onednn_rnn.c says how its segments run). */
#define RNN__SEG_ROWS 8 /* a segment's rows: the samples running, rounded up to this */
typedef struct rnn__seg {
    int64_t t0, T, N; /* time offset, length, rows */
    int64_t off;      /* its first row in the sorted buffers: the earlier segments' T x N */
    size_t ws_off;    /* its training forward's workspace, in the kernel's buffer */
    rnn__fbuf h, c;   /* dst_iter, dst_iter_c [N][H] */
} rnn__seg;
typedef struct rnn__seg_plan {
    int64_t T, N;
    /* gathered: x and y go through sorted copies (lengths, right-to-left, or rows that are
     * not dense time-major) */
    int reverse, gathered;
    int64_t *perm;         /* [N]: sorted position -> sample */
    int32_t *slen;         /* [N]: sorted lengths, descending */
    rnn__seg *segs;        /* up to T */
    int nseg;
    /* The sorted buffers hold each segment's T x N rows, dense, one segment after the other:
     * rows in all (at most T x N; fewer when samples end early), and tbase[t] the row of step
     * t's first sample (its segment's off + (t - t0) x N), so sample rank j's row at step t is
     * tbase[t] + j. */
    int64_t rows;
    int64_t *tbase; /* [T] */
} rnn__seg_plan;
/* Sorts f's samples by length (stable) and cuts time where the rounded count of running
 * samples changes, or at every distinct length (cut_at_every_end), and after at most
 * max_steps steps (> 0: the workspace limit's chunks). */
RNN__HIDDEN void rnn__plan_make(rnn__seg_plan *p, const rnn__rnn_fwd *f, int reverse,
                                int cut_at_every_end, int64_t max_steps);
/* Moves the rows of C floats between the caller's layout (sample n, step t; rows: where its
 * rows are) and the sorted one the primitives run on (segment by segment, dense time-major
 * within each: sample rank j, step t at row tbase[t] + j,
 * each sample's own steps reversed for a right-to-left kernel). Only each sample's first L
 * steps move: RNN__PERM_TO_SORTED copies the caller's src into the sorted dst;
 * RNN__PERM_FROM_SORTED copies them back and zeroes the caller's rows at t >= L;
 * RNN__PERM_ADD_FROM_SORTED adds them into the caller's rows (and leaves the others). */
enum { RNN__PERM_TO_SORTED = 0, RNN__PERM_FROM_SORTED = 1, RNN__PERM_ADD_FROM_SORTED = 2 };
RNN__HIDDEN void rnn__plan_permute(const rnn__seg_plan *p, int64_t C, const rnn__rows *rows,
                                   const float *src, float *dst, int mode);
/* Zeroes the sorted rows (inputs, or output gradients; I floats each) of the steps segments
 * run past their samples' ends. */
RNN__HIDDEN void rnn__plan_zero_past_ends(const rnn__seg_plan *p, int64_t I, float *xs);
/* rnn__plan_make without max_steps; then, when the segments' workspaces at row_step bytes per
 * row and step would pass limit (0: no limit), again with chunks of as many steps as fit (at
 * least 1). Returns 1 when it cut so (the chunks then share one workspace, recomputed). */
RNN__HIDDEN int rnn__plan_make_capped(rnn__seg_plan *p, const rnn__rnn_fwd *f, int reverse,
                                      int cut_at_every_end, size_t limit, double row_step);
/* The end of the segment holding step L - 1. */
RNN__HIDDEN int64_t rnn__plan_seg_end(const rnn__seg_plan *p, int64_t L);

/* A recurrent kernel's reordered weights (onednn_weights.c): one copy per layout asked for,
 * in a list. rnn__wslot_get sets *out to src when md is the canonical layout canon, else to
 * the copy in layout md (which: 0 the layer weights, 1 the iteration weights), reordered from
 * src when src or version changed since the last call. */
typedef struct rnn__wslot rnn__wslot;
RNN__HIDDEN rnn_status rnn__wslot_get(rnn__dnnl_ctx *ctx, rnn__wslot **slots, int which,
                                      rnn__cmd canon, rnn__cmd md, const float *src,
                                      uint64_t version, const float **out);
RNN__HIDDEN void rnn__wslot_free_all(rnn__wslot **slots);

struct rnn__dnnl_ctx {
    dnnl_engine_t engine; /* CPU engine, created once per context */
    dnnl_stream_t stream; /* in-order stream on that engine */
    rnn__dnnl_cached *matmuls;    /* cache of matmul primitives by shape (rnn__dnnl_mm) */
    rnn__fbuf bt;                 /* scratch for a transposed B operand */
    rnn__dnnl_cached *mm16;       /* cache of bf16 matmul primitives (onednn_bf16.c) */
    uint64_t mm_clock;            /* matmul calls so far: the two caches' LRU clock */
    rnn__dnnl_mem_slot mem[RNN__DNNL_MEM_SLOTS];
    /* The user-mode scratchpad of every primitive of the context (recurrent kernels,
     * matmuls): they run one at a time, so one buffer, grown to the largest, serves them
     * all (rnn__dnnl_scratch_reserve); read it at execution, after any reservation. */
    void *scratch;
    size_t scratch_bytes;
    /* A recurrent backward's dy and dx in the kernel's sorted (and reversed) order, when it
     * cannot use the caller's: written and read within one rnn__dnnl_rnn_backward, so the
     * context's kernels (the directions and layers, run one at a time) share them. */
    rnn__fbuf bdy, bdx;
};

/* Grows the context's scratchpad to at least `bytes` (a new primitive's). */
RNN__HIDDEN rnn_status rnn__dnnl_scratch_reserve(rnn__dnnl_ctx *c, size_t bytes);

/* Releases the context's bf16 matmul primitives (backend/onednn_bf16.c). */
RNN__HIDDEN void rnn__dnnl_bf16_release(rnn__dnnl_ctx *c);

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
 * the caller's buffer (borrowed; given to a memory object for the call). */
typedef struct rnn__dnnl_arg {
    int arg;
    rnn__cmd md;
    void *ptr;
} rnn__dnnl_arg;

#define RNN__DNNL_MAX_ARGS 32

/* Executes prim on the context's stream with the current thread count and
 * waits for it. Buffers must match their descriptors. */
RNN__HIDDEN rnn_status rnn__dnnl_exec(rnn__dnnl_ctx *c, dnnl_primitive_t prim,
                                      const rnn__dnnl_arg *args, int n);

#endif
