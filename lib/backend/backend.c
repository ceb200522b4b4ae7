/* SPDX-License-Identifier: Apache-2.0 */
/* Backend contexts and dispatch of the non-recurrent backend operations. */
#include "backend/backend.h"

struct rnn__ctx {
    rnn__backend_kind kind;
    rnn__dnnl_ctx *dnnl; /* NULL for the reference backend */
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
