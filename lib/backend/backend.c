/* SPDX-License-Identifier: Apache-2.0 */
/* Backend contexts and dispatch of the non-recurrent backend operations. */
#include "backend/backend.h"

struct rnn__ctx {
    rnn__backend_kind kind;
    rnn__dnnl_ctx *dnnl; /* NULL for the reference backend */
    rnn__fbuf a16, b16, ra, rb; /* bf16 matmul operands; the reference's f32 copies */
};

struct rnn__mm_cache {
    const float *src; /* the f32 operand it was converted from */
    uint64_t version;
    int tb, valid;
    int64_t K, N;
    rnn__fbuf bf; /* [K][N] bf16, row-major */
};

const char *rnn__backend_name(rnn__backend_kind kind)
{
    return kind == RNN__BACKEND_ONEDNN ? "onednn" : kind == RNN__BACKEND_REF ? "reference" : "?";
}

rnn_status rnn__ctx_create(rnn__backend_kind kind, rnn__ctx **out)
{
    *out = NULL;
    if (kind != RNN__BACKEND_REF && kind != RNN__BACKEND_ONEDNN)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "unknown backend kind %d", (int)kind);
    rnn__ctx *c = rnn__calloc(1, sizeof *c);
    if (!c)
        return RNN__NOMEM(sizeof *c);
    c->kind = kind;
    if (kind == RNN__BACKEND_ONEDNN) {
        rnn_status st = rnn__dnnl_ctx_create(&c->dnnl);
        if (st) {
            rnn__free(c);
            return st;
        }
    }
    rnn__log(RNN_LOG_DEBUG, "backend context created: %s", rnn__backend_name(kind));
    *out = c;
    return RNN_OK;
}

void rnn__ctx_destroy(rnn__ctx *c)
{
    if (!c)
        return;
    rnn__dnnl_ctx_destroy(c->dnnl);
    rnn__fbuf *bufs[] = {&c->a16, &c->b16, &c->ra, &c->rb};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        rnn__fbuf_free(bufs[i]);
    rnn__free(c);
}

rnn__backend_kind rnn__ctx_kind(const rnn__ctx *c)
{
    return c->kind;
}

rnn__dnnl_ctx *rnn__ctx_dnnl(rnn__ctx *c)
{
    return c->dnnl;
}

rnn_status rnn__matmul(rnn__ctx *c, int ta, int tb, int64_t M, int64_t K, int64_t N,
                       const float *A, const float *B, const float *bias, float beta, float *C)
{
    if (M < 1 || K < 1 || N < 1)
        return RNN__ERR(RNN_ERR_SHAPE, "M, K, N must be >= 1 (got %lld, %lld, %lld)",
                        (long long)M, (long long)K, (long long)N);
    if (beta != 0.0f && beta != 1.0f)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "beta must be 0 or 1 (got %g)", (double)beta);
    if (c->kind == RNN__BACKEND_ONEDNN)
        return rnn__dnnl_matmul(c->dnnl, ta, tb, M, K, N, A, B, bias, beta, C);
    return rnn__ref_matmul(ta, tb, M, K, N, A, B, bias, beta, C);
}

int rnn__ctx_bf16_ok(rnn__ctx *c, const char **isa)
{
    *isa = NULL;
    if (c->kind == RNN__BACKEND_REF)
        return 1; /* emulated */
    return rnn__dnnl_bf16_native(isa);
}

void rnn__mm_cache_free(rnn__mm_cache *c)
{
    if (!c)
        return;
    rnn__fbuf_free(&c->bf);
    rnn__free(c);
}

/* Room for n bf16 values in an f32 buffer. */
static rnn_status bf16_room(rnn__fbuf *b, int64_t n)
{
    return rnn__fbuf_ensure(b, (size_t)(n + 1) / 2, 0);
}

/* dst[R][C] (bf16, row-major) = src, stored R x C, or C x R when trans. */
static void pack_rows(uint16_t *dst, const float *src, int trans, int64_t R, int64_t C)
{
    if (!trans) {
        rnn__bf16_pack(dst, src, (size_t)(R * C));
        return;
    }
    for (int64_t r = 0; r < R; r++)
        for (int64_t k = 0; k < C; k++)
            dst[r * C + k] = rnn__bf16_from_f32(src[k * R + r]);
}

/* B as bf16 [K][N]: from the caller's cache when it is current. */
static rnn_status b_bf16(rnn__ctx *c, int tb, int64_t K, int64_t N, const float *B,
                         rnn__mm_cache **cache, uint64_t version, const uint16_t **out)
{
    rnn_status st;
    if (!cache) {
        if ((st = bf16_room(&c->b16, K * N)))
            return st;
        pack_rows((uint16_t *)c->b16.p, B, tb, K, N);
        *out = (const uint16_t *)c->b16.p;
        return RNN_OK;
    }
    rnn__mm_cache *m = *cache;
    if (!m) {
        if (!(m = rnn__calloc(1, sizeof *m)))
            return RNN__NOMEM(sizeof *m);
        *cache = m;
    }
    if (!m->valid || m->src != B || m->version != version || m->tb != tb || m->K != K ||
        m->N != N) {
        m->valid = 0;
        if ((st = bf16_room(&m->bf, K * N)))
            return st;
        pack_rows((uint16_t *)m->bf.p, B, tb, K, N);
        m->src = B, m->version = version, m->tb = tb, m->K = K, m->N = N, m->valid = 1;
    }
    *out = (const uint16_t *)m->bf.p;
    return RNN_OK;
}

rnn_status rnn__matmul_prec(rnn__ctx *c, int bf16, int ta, int tb, int64_t M, int64_t K,
                            int64_t N, const float *A, const float *B, rnn__mm_cache **bcache,
                            uint64_t b_version, const float *bias, float beta, float *C)
{
    if (!bf16)
        return rnn__matmul(c, ta, tb, M, K, N, A, B, bias, beta, C);
    if (M < 1 || K < 1 || N < 1)
        return RNN__ERR(RNN_ERR_SHAPE, "M, K, N must be >= 1 (got %lld, %lld, %lld)",
                        (long long)M, (long long)K, (long long)N);
    if (beta != 0.0f && beta != 1.0f)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "beta must be 0 or 1 (got %g)", (double)beta);
    rnn_status st;
    const uint16_t *b16 = NULL;
    if ((st = bf16_room(&c->a16, M * K)) ||
        (st = b_bf16(c, tb, K, N, B, bcache, b_version, &b16)))
        return st;
    /* A keeps its layout (oneDNN reads a transposed A as is); B is made row-major. */
    uint16_t *a16 = (uint16_t *)c->a16.p;
    rnn__bf16_pack(a16, A, (size_t)(M * K));
    if (c->kind == RNN__BACKEND_ONEDNN)
        return rnn__dnnl_matmul_bf16(c->dnnl, ta, M, K, N, a16, b16, bias, beta, C);
    /* Reference: the rounded operands, back in f32, through the plain product. */
    if ((st = rnn__fbuf_ensure(&c->ra, (size_t)(M * K), 0)) ||
        (st = rnn__fbuf_ensure(&c->rb, (size_t)(K * N), 0)))
        return st;
    rnn__bf16_unpack(c->ra.p, a16, (size_t)(M * K));
    rnn__bf16_unpack(c->rb.p, b16, (size_t)(K * N));
    return rnn__ref_matmul(ta, 0, M, K, N, c->ra.p, c->rb.p, bias, beta, C);
}
