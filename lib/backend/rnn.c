/* SPDX-License-Identifier: Apache-2.0 */
/* Dispatch of the recurrent kernels to the context's backend. */
#include "backend/backend.h"

struct rnn__rnn_kernel {
    rnn__backend_kind kind;
    rnn__rnn_shape shape;
    rnn__ref_rnn *ref;
    rnn__dnnl_rnn *dnnl;
    rnn__step *step; /* oneDNN kind: eligible inference steps (created on first use) */
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
    k->shape = *shape;
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
    k->shape = *shape;
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
    rnn__step_destroy(k->step);
    rnn__free(k);
}

/* The contract's checks on a call, shared by both backends. */
static rnn_status check_call(const char *func, const rnn__rnn_kernel *k, const rnn__rnn_fwd *f)
{
    if (!f->x || !f->y)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "x and y must not be NULL");
    if (f->T < 1 || f->T > k->shape.T)
        return rnn__err(RNN_ERR_SHAPE, func, "T must be in [1, %lld] (got %lld)",
                        (long long)k->shape.T, (long long)f->T);
    if (f->N < 1 || f->N > k->shape.N)
        return rnn__err(RNN_ERR_SHAPE, func, "N must be in [1, %lld] (got %lld)",
                        (long long)k->shape.N, (long long)f->N);
    if (f->lengths)
        for (int64_t n = 0; n < f->N; n++)
            if (f->lengths[n] < 1 || f->lengths[n] > f->T)
                return rnn__err(RNN_ERR_RANGE, func, "lengths[%lld] must be in [1, %lld] (got %d)",
                                (long long)n, (long long)f->T, f->lengths[n]);
    if (f->rec_mask && k->kind != RNN__BACKEND_REF)
        return rnn__err(RNN_ERR_UNSUPPORTED, func,
                        "recurrent dropout masks run on the reference backend only");
    return RNN_OK;
}

rnn_status rnn__rnn_forward(rnn__rnn_kernel *k, const rnn__rnn_weights *w, const rnn__rnn_fwd *f)
{
    rnn_status st = check_call(__func__, k, f);
    if (st)
        return st;
    /* The step kernel reads x and writes y as dense rows (at T = 1, batch-major is dense). */
    if (k->kind == RNN__BACKEND_ONEDNN && rnn__step_eligible(f) &&
        rnn__rows_dense(&f->x_rows, f->T, f->N, k->shape.I) &&
        rnn__rows_dense(&f->y_rows, f->T, f->N, k->shape.H)) {
        if (!k->step && (st = rnn__step_create(&k->shape, &k->step)))
            return st;
        rnn__dnnl_rnn_untrain(k->dnnl);
        return rnn__step_forward(k->step, w, f);
    }
    return k->kind == RNN__BACKEND_ONEDNN ? rnn__dnnl_rnn_forward(k->dnnl, w, f)
                                          : rnn__ref_rnn_forward(k->ref, w, f);
}

rnn_status rnn__rnn_backward(rnn__rnn_kernel *k, const rnn__rnn_weights *w,
                             const rnn__rnn_fwd *f, const rnn__rnn_bwd *b)
{
    rnn_status st = check_call(__func__, k, f);
    if (st)
        return st;
    return k->kind == RNN__BACKEND_ONEDNN ? rnn__dnnl_rnn_backward(k->dnnl, w, f, b)
                                          : rnn__ref_rnn_backward(k->ref, w, f, b);
}
