/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal compute-backend interface.
 *
 * Two backends implement it:
 *  - "onednn" (backend/onednn*.c): the production path, oneDNN primitives.
 *    Those files are the only ones that include oneDNN headers.
 *  - "ref" (backend/ref*.c): plain, obviously-correct C. It is the oracle the
 *    tests compare oneDNN against, and the path for the few cases oneDNN
 *    cannot express (recurrent_dropout's per-step masks).
 *
 * A context (rnn__ctx) holds what a backend creates once and reuses: for
 * oneDNN the CPU engine and a stream. A context is used by one thread at a
 * time, like the model that owns it; distinct contexts are independent.
 *
 * All buffers are caller-owned f32 arrays unless stated otherwise.
 * Functions return rnn_status and report errors through rnn__err() under the
 * internal function's name; public callers may re-wrap the message.
 */
#ifndef RNN_BACKEND_H
#define RNN_BACKEND_H

#include "internal.h"

typedef enum rnn__backend_kind {
    RNN__BACKEND_REF = 0,
    RNN__BACKEND_ONEDNN = 1
} rnn__backend_kind;

typedef struct rnn__ctx rnn__ctx;
typedef struct rnn__dnnl_ctx rnn__dnnl_ctx; /* engine + stream, backend/onednn.c */

RNN__HIDDEN rnn_status rnn__ctx_create(rnn__backend_kind kind, rnn__ctx **out);
RNN__HIDDEN void rnn__ctx_destroy(rnn__ctx *ctx);
RNN__HIDDEN rnn__backend_kind rnn__ctx_kind(const rnn__ctx *ctx);
RNN__HIDDEN const char *rnn__backend_name(rnn__backend_kind kind);

/* Dense product, row-major: C[M][N] = beta * C + op(A)[M][K] * op(B)[K][N]
 * (+ bias[N] if bias is not NULL), where op(A) = A (stored M x K) or, with
 * trans_a, A^T (A stored K x M); likewise B (stored K x N, or N x K with
 * trans_b). beta is 0 (overwrite) or 1 (accumulate). C must not alias the
 * inputs. M, K, N >= 1. */
RNN__HIDDEN rnn_status rnn__matmul(rnn__ctx *ctx, int trans_a, int trans_b, int64_t M, int64_t K,
                                   int64_t N, const float *A, const float *B, const float *bias,
                                   float beta, float *C);

/* ==================================================================
 * bf16 (mixed precision: RNN_PRECISION_MIXED_BF16)
 * ==================================================================
 * bf16 is the upper half of an IEEE f32 (8 exponent bits, 8 significant
 * bits). In mixed precision the products' operands (inputs, states, weights)
 * are rounded to bf16 (to nearest, ties to even) and the products accumulate
 * in f32; everything the library keeps (parameters, gradients, layer
 * outputs, states, biases, LSTM's cell state) stays f32. The oneDNN backend
 * runs native bf16 primitives; the reference backend emulates the same
 * rounding in plain C (its dot products still accumulate in double), so it
 * stays the oracle. Buffers never change type: conversions happen inside the
 * backend. */
RNN__HIDDEN uint16_t rnn__bf16_from_f32(float v);
RNN__HIDDEN float rnn__bf16_to_f32(uint16_t v);
/* v rounded to the nearest bf16, as an f32. */
RNN__HIDDEN float rnn__bf16_round(float v);
RNN__HIDDEN void rnn__bf16_pack(uint16_t *dst, const float *src, size_t n);
RNN__HIDDEN void rnn__bf16_unpack(float *dst, const uint16_t *src, size_t n);
/* dst[i] = bf16_round(src[i]) (dst may equal src). */
RNN__HIDDEN void rnn__bf16_round_n(float *dst, const float *src, size_t n);

/* 1 when ctx computes bf16 natively (oneDNN on a CPU with AVX512-BF16 or
 * AMX) or by emulation (the reference backend); else 0 and *isa names the
 * instruction set oneDNN runs at instead (static text, "avx512_core"). */
RNN__HIDDEN int rnn__ctx_bf16_ok(rnn__ctx *ctx, const char **isa);

/* A bf16 copy of a constant matmul operand (a layer's weights), owned by the
 * layer, kept until the weights' version changes. NULL-safe free. */
typedef struct rnn__mm_cache rnn__mm_cache;
RNN__HIDDEN void rnn__mm_cache_free(rnn__mm_cache *c);

/* rnn__matmul in the given precision: with bf16 == 0 exactly rnn__matmul;
 * with bf16 != 0, A and B rounded to bf16, products accumulated in f32 (the
 * bias and C stay f32). bcache: NULL, or the caller's cache of B (created on
 * first use), valid while (B, trans_b, K, N, b_version) stay the same. */
RNN__HIDDEN rnn_status rnn__matmul_prec(rnn__ctx *ctx, int bf16, int trans_a, int trans_b,
                                        int64_t M, int64_t K, int64_t N, const float *A,
                                        const float *B, rnn__mm_cache **bcache,
                                        uint64_t b_version, const float *bias, float beta,
                                        float *C);

/* ==================================================================
 * Recurrent kernels: ONE layer, ONE direction, whole sequence.
 * ==================================================================
 *
 * Data layout (time-major, dense, unless the call's rnn__rows say where the rows are):
 *   x  [T][N][I]    y [T][N][H]    h0, c0, hT, cT, dh*, dc* [N][H]
 * Weights (canonical = oneDNN "ldigo" = Keras kernel layout, gate blocks
 * in oneDNN order, which equals Keras order):
 *   wx [I][G*H]   wh [H][G*H]   b [Gb*H]
 *   G  = gates: RNN 1, LSTM 4 (i,f,c~,o), GRU 3 (u=z, r, o=h~), LBR_GRU 3
 *   Gb = bias gates: same as G except LBR_GRU 4 ([u, r, o, u'] where u' is
 *        the recurrent bias of the candidate, as in oneDNN).
 * Column g*H + j of wx/wh/b belongs to gate g, unit j.
 *
 * Cell equations (sigma = logistic, * = elementwise, Wx = x*wx-block):
 *  RNN_TANH/RELU: h = act(x Wx + h_prev Wh + b)
 *  LSTM: i = s(.), f = s(.), c~ = tanh(.), o = s(.);
 *        c = f*c_prev + i*c~;  h = o*tanh(c)
 *  GRU (original, Keras reset_after=False, oneDNN "gru"):
 *        u = s(x Wxu + h_prev Whu + bu); r = s(x Wxr + h_prev Whr + br)
 *        o = tanh(x Wxo + (r*h_prev) Who + bo);  h = u*h_prev + (1-u)*o
 *  LBR_GRU (Keras reset_after=True, PyTorch, cuDNN, oneDNN "lbr_gru"):
 *        u, r as GRU;  o = tanh(x Wxo + bo + r*(h_prev Who + bu'))
 *        h = u*h_prev + (1-u)*o
 *
 * Variable lengths: lengths[n] in [1, T] (NULL = all T). Sample n is computed
 * exactly as if it were run alone on its first lengths[n] steps:
 *   - reverse == 0: it consumes x[0..len-1] in order;
 *   - reverse == 1: it consumes x[len-1], ..., x[0] (its own valid prefix,
 *     reversed: TensorFlow's reverse_sequence semantics), and y[t] is the
 *     output produced when consuming x[t] (aligned with the input).
 *   y[t][n][:] = 0 for t >= len; hT/cT hold the state after the sample's
 *   last processed step. Padding never affects any output or gradient, and
 *   backward writes dx[t][n][:] = 0 for t >= len.
 */
typedef enum rnn__cell {
    RNN__CELL_RNN_TANH = 0,
    RNN__CELL_RNN_RELU = 1,
    RNN__CELL_LSTM = 2,
    RNN__CELL_GRU = 3,
    RNN__CELL_LBR_GRU = 4
} rnn__cell;

RNN__HIDDEN int rnn__cell_gates(rnn__cell cell);      /* G  */
RNN__HIDDEN int rnn__cell_bias_gates(rnn__cell cell); /* Gb */
RNN__HIDDEN int rnn__cell_has_c(rnn__cell cell);      /* LSTM only */

typedef struct rnn__rnn_shape {
    rnn__cell cell;
    int64_t T;   /* max time steps a call may use */
    int64_t N;   /* max batch a call may use */
    int64_t I;   /* input channels */
    int64_t H;   /* units */
    int reverse; /* 0 left-to-right, 1 right-to-left (see above) */
} rnn__rnn_shape;

/* Where the rows of a sequence array are: row (t, n) of x, y, dy or dx (C floats each) starts
 * t * r.t + n * r.n floats into the array. {0, 0} (what a zeroed struct holds) is the dense
 * time-major layout [T][N][C] above. A layer passes its batch-major tensors ([N][T][C]: {C,
 * T * C}) in place, and a bidirectional layer's concatenated output (N, T, 2H) as two views
 * ({2H, 2TH} from column 0 and from column H). Rows never overlap. */
typedef struct rnn__rows {
    int64_t t, n;
} rnn__rows;

/* Offset in floats of row (t, n) of rows r of C floats, N samples. */
static inline int64_t rnn__row_at(const rnn__rows *r, int64_t N, int64_t C, int64_t t, int64_t n)
{
    return r->t || r->n ? t * r->t + n * r->n : (t * N + n) * C;
}

/* 1 when rows r of T x N rows of C floats are laid out as dense time-major ones. */
static inline int rnn__rows_dense(const rnn__rows *r, int64_t T, int64_t N, int64_t C)
{
    return (!r->t && !r->n) || ((T == 1 || r->t == N * C) && (N == 1 || r->n == C));
}

typedef struct rnn__rnn_weights {
    const float *wx; /* [I][G*H] */
    const float *wh; /* [H][G*H] */
    const float *b;  /* [Gb*H], never NULL (zeros when the layer has no bias) */
    /* Incremented by the owner every time any of the three arrays changes
     * (or the pointers change). Backends may cache reordered copies keyed by
     * (pointers, version) and must re-import when it differs. */
    uint64_t version;
} rnn__rnn_weights;

typedef struct rnn__rnn_fwd {
    int64_t T, N;           /* this call's sizes: 1..shape.T, 1..shape.N */
    const float *x;         /* [T][N][I] */
    const int32_t *lengths; /* [N] in [1, T], or NULL (all T) */
    const float *h0;        /* [N][H] or NULL (zeros) */
    const float *c0;        /* [N][H] or NULL (zeros); LSTM only */
    float *y;               /* [T][N][H], written */
    float *hT;              /* [N][H] or NULL, written */
    float *cT;              /* [N][H] or NULL, written; LSTM only. NULL when nothing
                             * reads it: oneDNN then runs samples of different lengths
                             * in one segment (onednn_rnn.c) */
    int training;           /* 1: keep what backward needs */
    /* [N][H] or NULL. Recurrent dropout (Keras, one mask per sequence): h_prev
     * is multiplied by it where it enters the products with wh (every gate,
     * and the candidate's recurrent part), never in GRU's u*h_prev carry or
     * LSTM's cell state. REFERENCE BACKEND ONLY: oneDNN cannot express it. */
    const float *rec_mask;
    /* 1: mixed precision (see "bf16" above): x, the states entering the
     * products and the weights rounded to bf16, f32 accumulation; h (and so
     * y, hT) is rounded to bf16 after every step, LSTM's c stays f32. The
     * backward of this forward runs in the same precision (gradients f32). */
    int bf16;
    rnn__rows x_rows, y_rows; /* where x's and y's rows are ({0, 0}: [T][N][.]) */
} rnn__rnn_fwd;

typedef struct rnn__rnn_bwd {
    const float *dy;  /* [T][N][H] or NULL (zero); entries at t >= len ignored */
    const float *dhT; /* [N][H] or NULL (zero) */
    const float *dcT; /* [N][H] or NULL (zero); LSTM only, and only if forward wrote cT */
    float *dx;        /* [T][N][I] or NULL; OVERWRITTEN */
    float *dh0;       /* [N][H] or NULL; OVERWRITTEN */
    float *dc0;       /* [N][H] or NULL; OVERWRITTEN; LSTM only */
    float *dwx;       /* [I][G*H] or NULL; ACCUMULATED (+=) */
    float *dwh;       /* [H][G*H] or NULL; ACCUMULATED (+=) */
    float *db;        /* [Gb*H]  or NULL; ACCUMULATED (+=) */
    rnn__rows dy_rows, dx_rows; /* where dy's and dx's rows are ({0, 0}: [T][N][.]) */
    /* 1: dx is ACCUMULATED (+=) instead, and its rows at t >= len are left as they are */
    int dx_add;
} rnn__rnn_bwd;

typedef struct rnn__rnn_kernel rnn__rnn_kernel;

/* Creates a kernel for up to shape->T x shape->N. Primitives, workspaces and
 * scratchpads are created lazily per (T, N, lengths pattern) and reused. */
RNN__HIDDEN rnn_status rnn__rnn_create(rnn__ctx *ctx, const rnn__rnn_shape *shape,
                                       rnn__rnn_kernel **out);
/* Same, always on the reference backend (the path for recurrent dropout). */
RNN__HIDDEN rnn_status rnn__rnn_create_ref(const rnn__rnn_shape *shape, rnn__rnn_kernel **out);
RNN__HIDDEN void rnn__rnn_destroy(rnn__rnn_kernel *k);

/* Runs the forward pass. With f->training the kernel keeps what backward
 * needs (workspace); the caller keeps every input of f (x, lengths, h0, c0,
 * and y) alive and unchanged until the matching backward. */
RNN__HIDDEN rnn_status rnn__rnn_forward(rnn__rnn_kernel *k, const rnn__rnn_weights *w,
                                        const rnn__rnn_fwd *f);

/* Backward of the last training forward: f must be the same description
 * passed to that forward. */
RNN__HIDDEN rnn_status rnn__rnn_backward(rnn__rnn_kernel *k, const rnn__rnn_weights *w,
                                         const rnn__rnn_fwd *f, const rnn__rnn_bwd *b);

/* Per-backend implementations behind the dispatching functions above.
 * rnn__rnn_create() wraps one of these in the generic handle. Each has the
 * same contract as the generic function of the same suffix; the dispatcher
 * has already validated the call (sizes, lengths, NULLs). */
typedef struct rnn__ref_rnn rnn__ref_rnn;
RNN__HIDDEN rnn_status rnn__ref_rnn_create(const rnn__rnn_shape *shape, rnn__ref_rnn **out);
RNN__HIDDEN void rnn__ref_rnn_destroy(rnn__ref_rnn *k);
RNN__HIDDEN rnn_status rnn__ref_rnn_forward(rnn__ref_rnn *k, const rnn__rnn_weights *w,
                                            const rnn__rnn_fwd *f);
RNN__HIDDEN rnn_status rnn__ref_rnn_backward(rnn__ref_rnn *k, const rnn__rnn_weights *w,
                                             const rnn__rnn_fwd *f, const rnn__rnn_bwd *b);

typedef struct rnn__dnnl_rnn rnn__dnnl_rnn;
RNN__HIDDEN rnn_status rnn__dnnl_rnn_create(rnn__dnnl_ctx *ctx, const rnn__rnn_shape *shape,
                                            rnn__dnnl_rnn **out);
RNN__HIDDEN void rnn__dnnl_rnn_destroy(rnn__dnnl_rnn *k);
RNN__HIDDEN rnn_status rnn__dnnl_rnn_forward(rnn__dnnl_rnn *k, const rnn__rnn_weights *w,
                                             const rnn__rnn_fwd *f);
RNN__HIDDEN rnn_status rnn__dnnl_rnn_backward(rnn__dnnl_rnn *k, const rnn__rnn_weights *w,
                                              const rnn__rnn_fwd *f, const rnn__rnn_bwd *b);

/* One inference step of up to RNN__STEP_MAX_N samples on the oneDNN backend
 * (backend/step.c): T == 1, no training, on a CPU with AVX-512F (f32) or
 * AVX-512F and AVX512-BF16 (mixed precision), no recurrent dropout. The
 * dispatcher sends eligible forwards there instead of to oneDNN. */
#define RNN__STEP_MAX_N 4
typedef struct rnn__step rnn__step;
RNN__HIDDEN int rnn__step_eligible(const rnn__rnn_fwd *f);
RNN__HIDDEN rnn_status rnn__step_create(const rnn__rnn_shape *shape, rnn__step **out);
RNN__HIDDEN void rnn__step_destroy(rnn__step *k);
RNN__HIDDEN rnn_status rnn__step_forward(rnn__step *k, const rnn__rnn_weights *w,
                                         const rnn__rnn_fwd *f);
/* Forgets the last training forward (its backward is refused until the next one). */
RNN__HIDDEN void rnn__dnnl_rnn_untrain(rnn__dnnl_rnn *k);

/* oneDNN side of the context (backend/onednn.c). */
RNN__HIDDEN rnn_status rnn__dnnl_ctx_create(rnn__dnnl_ctx **out);
RNN__HIDDEN void rnn__dnnl_ctx_destroy(rnn__dnnl_ctx *c);
RNN__HIDDEN rnn__dnnl_ctx *rnn__ctx_dnnl(rnn__ctx *ctx); /* NULL for the ref backend */
/* C[M][N] (f32) = beta * C + op(A)[M][K] * B[K][N] (+ bias) with A and B bf16,
 * f32 accumulation (backend/onednn_bf16.c); A stored M x K, or K x M with
 * trans_a; B row-major. */
RNN__HIDDEN rnn_status rnn__dnnl_matmul_bf16(rnn__dnnl_ctx *c, int trans_a, int64_t M, int64_t K,
                                             int64_t N, const uint16_t *A, const uint16_t *B,
                                             const float *bias, float beta, float *C);
/* 1 when oneDNN's effective ISA has native bf16 (AVX512-BF16 or AMX); else 0
 * and *isa names that ISA ("avx512_core"). */
RNN__HIDDEN int rnn__dnnl_bf16_native(const char **isa);
RNN__HIDDEN rnn_status rnn__dnnl_matmul(rnn__dnnl_ctx *c, int trans_a, int trans_b, int64_t M,
                                        int64_t K, int64_t N, const float *A, const float *B,
                                        const float *bias, float beta, float *C);
RNN__HIDDEN rnn_status rnn__ref_matmul(int trans_a, int trans_b, int64_t M, int64_t K, int64_t N,
                                       const float *A, const float *B, const float *bias,
                                       float beta, float *C);

#endif /* RNN_BACKEND_H */
