/* SPDX-License-Identifier: Apache-2.0 */
/* Dispatch of the recurrent kernels to the context's backend. */
#include "backend/backend.h"

struct rnn__rnn_kernel {
    rnn__backend_kind kind;
    rnn__ref_rnn *ref;
    rnn__dnnl_rnn *dnnl;
};

rnn_status rnn__rnn_create(rnn__ctx *ctx, const rnn__rnn_shape *shape, rnn__rnn_kernel **out)
{
    *out = NULL;
    if (shape->T < 1 || shape->N < 1 || shape->I < 1 || shape->H < 1)
        return RNN__ERR(RNN_ERR_SHAPE, "T, N, I, H must be >= 1 (got %lld, %lld, %lld, %lld)",
                        (long long)shape->T, (long long)shape->N, (long long)shape->I,
                        (long long)shape->H);
    rnn__rnn_kernel *k = rnn__calloc(1, sizeof *k);
    if (!k)
        return RNN__NOMEM(sizeof *k);
    k->kind = rnn__ctx_kind(ctx);
    rnn_status st = k->kind == RNN__BACKEND_ONEDNN
                        ? rnn__dnnl_rnn_create(rnn__ctx_dnnl(ctx), shape, &k->dnnl)
                        : rnn__ref_rnn_create(shape, &k->ref);
    if (st) {
        rnn__free(k);
        return st;
    }
    *out = k;
    return RNN_OK;
}

rnn_status rnn__rnn_create_ref(const rnn__rnn_shape *shape, rnn__rnn_kernel **out)
{
    *out = NULL;
    rnn__rnn_kernel *k = rnn__calloc(1, sizeof *k);
    if (!k)
        return RNN__NOMEM(sizeof *k);
    k->kind = RNN__BACKEND_REF;
    rnn_status st = rnn__ref_rnn_create(shape, &k->ref);
    if (st) {
        rnn__free(k);
        return st;
    }
    *out = k;
    return RNN_OK;
}

void rnn__rnn_destroy(rnn__rnn_kernel *k)
{
    if (!k)
        return;
    rnn__dnnl_rnn_destroy(k->dnnl);
    rnn__ref_rnn_destroy(k->ref);
    rnn__free(k);
}

rnn_status rnn__rnn_forward(rnn__rnn_kernel *k, const rnn__rnn_weights *w, const rnn__rnn_fwd *f)
{
    return k->kind == RNN__BACKEND_ONEDNN ? rnn__dnnl_rnn_forward(k->dnnl, w, f)
                                          : rnn__ref_rnn_forward(k->ref, w, f);
}

rnn_status rnn__rnn_backward(rnn__rnn_kernel *k, const rnn__rnn_weights *w,
                             const rnn__rnn_fwd *f, const rnn__rnn_bwd *b)
{
    return k->kind == RNN__BACKEND_ONEDNN ? rnn__dnnl_rnn_backward(k->dnnl, w, f, b)
                                          : rnn__ref_rnn_backward(k->ref, w, f, b);
}
