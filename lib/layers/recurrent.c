/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recurrent layers: SimpleRNN, LSTM, GRU (both variants), optionally
 * Bidirectional, on the backend's whole-sequence kernels (one kernel per
 * direction, see backend/backend.h).
 *
 * Data path of a forward: the batch-major input (N, T, I) is transposed once
 * to time-major, optionally multiplied by the per-sequence dropout mask,
 * run through each direction's kernel with the batch's lengths, and the
 * time-major results are merged back into batch-major outputs.
 *
 * recurrent_dropout (one mask per sequence on h_prev where it enters the
 * recurrent products) cannot be expressed by oneDNN's RNN primitives: the
 * TRAINING forwards and backwards of a layer with recurrent_dropout > 0 run on
 * the reference kernels (much slower); its inference runs on oneDNN.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "layers/recurrent.h"

void rnn_recurrent_options_init(rnn_recurrent_options *o, rnn_cell_type cell)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->cell = cell;
    o->units = 0;
    o->activation = RNN_ACT_TANH;
    o->use_bias = 1;
    o->reset_after = 1;
    o->unit_forget_bias = 1;
    o->kernel_initializer = RNN_INIT_GLOROT_UNIFORM;
    o->recurrent_initializer = RNN_INIT_ORTHOGONAL;
    o->bias_initializer = RNN_INIT_ZEROS;
    o->merge_mode = RNN_MERGE_CONCAT;
}

static const char *cell_base_name(const rnn_recurrent_options *o)
{
    if (o->bidirectional)
        return "bidirectional";
    return o->cell == RNN_LSTM ? "lstm" : o->cell == RNN_GRU ? "gru" : "simple_rnn";
}

/* ------------------------------------------------------------ bias layout */

void rnn__recurrent_bias_to_kernel(const rnn__recurrent *r, const float *kb, float *b)
{
    int64_t H = r->H;
    if (r->cell != RNN__CELL_LBR_GRU) {
        memcpy(b, kb, sizeof(float) * (size_t)(r->Gb * H));
        return;
    }
    /* Keras (2, 3H) = [input bias z r h; recurrent bias z r h] ->
     * kernel [u, r, o, u'] = [bx_z + bh_z, bx_r + bh_r, bx_h, bh_h]. */
    const float *bx = kb, *bh = kb + 3 * H;
    for (int64_t j = 0; j < H; j++) {
        b[j] = bx[j] + bh[j];
        b[H + j] = bx[H + j] + bh[H + j];
        b[2 * H + j] = bx[2 * H + j];
        b[3 * H + j] = bh[2 * H + j];
    }
}

void rnn__recurrent_dbias_to_keras(const rnn__recurrent *r, const float *db, float *kb)
{
    int64_t H = r->H;
    if (r->cell != RNN__CELL_LBR_GRU) {
        for (int64_t j = 0; j < r->Gb * H; j++)
            kb[j] += db[j];
        return;
    }
    float *bx = kb, *bh = kb + 3 * H;
    for (int64_t j = 0; j < H; j++) {
        bx[j] += db[j];
        bh[j] += db[j];
        bx[H + j] += db[H + j];
        bh[H + j] += db[H + j];
        bx[2 * H + j] += db[2 * H + j];
        bh[2 * H + j] += db[3 * H + j];
    }
}

/* ------------------------------------------------------------ lifecycle */

static void recurrent_destroy(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    if (!r)
        return;
    for (int d = 0; d < 2; d++) {
        rnn__rdir *D = &r->d[d];
        rnn__rnn_destroy(D->k);
        rnn__rnn_destroy(D->kref);
        rnn__fbuf *bufs[] = {&D->bias, &D->dbias, &D->y,   &D->hT,  &D->cT,   &D->dy,  &D->dhT,
                             &D->dcT,  &D->dx,    &D->dh0, &D->dc0, &D->xin, &D->mask, &D->rmask};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            rnn__fbuf_free(bufs[i]);
    }
    rnn__fbuf_free(&r->x_tm);
    rnn__fbuf_free(&r->dx_tm);
    for (int i = 0; i < 4; i++) {
        rnn_tensor_destroy(r->init[i]);
        rnn_tensor_destroy(r->init_grad[i]);
        rnn__fbuf_free(&r->carry[i]);
    }
    rnn__free(r);
    l->impl = NULL;
}

static void recurrent_reset_state(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    r->carry_valid = 0;
}

rnn_status rnn__recurrent_select_carry(rnn_layer *l, const int32_t *rows, int64_t N,
                                       rnn__fbuf *tmp)
{
    rnn__recurrent *r = l->impl;
    if (!r->carry_valid)
        return RNN_OK;
    const int64_t H = r->H;
    rnn_status st = rnn__fbuf_ensure(tmp, (size_t)(N * H), 0);
    if (st)
        return st;
    for (int k = 0; k < r->ndir * r->ns; k++) {
        float *c = r->carry[k].p;
        for (int64_t n = 0; n < N; n++)
            memcpy(tmp->p + n * H, c + (int64_t)rows[n] * H, sizeof(float) * (size_t)H);
        memcpy(c, tmp->p, sizeof(float) * (size_t)(N * H));
    }
    return RNN_OK;
}

static void recurrent_params_changed(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    r->d[0].bias_valid = r->d[1].bias_valid = 0;
}

/* Makes sure direction D has a kernel for T x N (the reference one when
 * use_ref) and up-to-date weights; D->used is set to it. */
static rnn_status prepare_dir(rnn_layer *l, rnn__recurrent *r, rnn__rdir *D, int64_t T,
                              int64_t N, int use_ref, rnn__rnn_weights *w)
{
    rnn_status st;
    rnn__rnn_kernel **kp = use_ref ? &D->kref : &D->k;
    int64_t *cT = use_ref ? &D->krT : &D->kT, *cN = use_ref ? &D->krN : &D->kN;
    if (!*kp || T > *cT || N > *cN) {
        rnn__rnn_shape sh = {r->cell, T > *cT ? T : *cT, N > *cN ? N : *cN, r->I, r->H, D->reverse};
        rnn__rnn_destroy(*kp);
        *kp = NULL;
        st = use_ref ? rnn__rnn_create_ref(&sh, kp) : rnn__rnn_create(l->model->ctx, &sh, kp);
        if (st)
            return st;
        *cT = sh.T;
        *cN = sh.N;
    }
    D->used = *kp;
    if (!D->bias_valid || D->bias_version != l->params_version) {
        st = rnn__fbuf_ensure(&D->bias, (size_t)(r->Gb * r->H), 1);
        if (st)
            return st;
        if (D->pb >= 0)
            rnn__recurrent_bias_to_kernel(r, rnn__f32(l->param[D->pb]), D->bias.p);
        D->bias_version = l->params_version;
        D->bias_valid = 1;
    }
    w->wx = rnn__f32(l->param[D->pk]);
    w->wh = rnn__f32(l->param[D->pr]);
    w->b = D->bias.p;
    w->version = l->params_version;
    return RNN_OK;
}

/* Length of sample n (T when the batch has no lengths). */
static inline int64_t len_of(const int32_t *len, int64_t n, int64_t T)
{
    return len ? len[n] : T;
}

static float merge(rnn_merge_mode m, float a, float b)
{
    switch (m) {
    case RNN_MERGE_SUM: return a + b;
    case RNN_MERGE_MUL: return a * b;
    case RNN_MERGE_AVE: return 0.5f * (a + b);
    case RNN_MERGE_CONCAT: break;
    }
    return a;
}

/* ------------------------------------------------------------ forward */

static rnn_status recurrent_forward(rnn_layer *l, int training)
{
    rnn__recurrent *r = l->impl;
    rnn_model *m = l->model;
    const rnn_tensor *xt = rnn__layer_in(l);
    const int64_t N = xt->dims[0], T = xt->dims[1], I = r->I, H = r->H;
    const int32_t *len = rnn__layer_in_len(l);
    const float *x = rnn__f32(xt);
    rnn_status st;

    /* Initial states: connected to other layers' outputs, or given by the caller. */
    const int n_init = l->n_extra ? l->n_extra : r->n_init;
    const rnn_tensor *init[4] = {0};
    for (int k = 0; k < n_init; k++)
        init[k] = l->n_extra ? rnn__layer_extra_in(l, k) : r->init[k];
    for (int k = 0; k < n_init; k++)
        if (init[k]->dims[0] != N)
            return rnn__err(RNN_ERR_SHAPE, "rnn_model_forward",
                            "layer %s: its initial state %d has batch size %lld but the batch "
                            "has %lld",
                            l->name, k, (long long)init[k]->dims[0], (long long)N);
    if ((r->o.stateful || m->stepping) && r->carry_valid && r->carry_N != N)
        return rnn__err(RNN_ERR_SHAPE, "rnn_model_forward",
                        "layer %s is stateful with batch size %lld (got %lld); call "
                        "rnn_layer_reset_states() to change it",
                        l->name, (long long)r->carry_N, (long long)N);

    /* Batch-major (N, T, I) -> time-major [T][N][I]. */
    size_t nx = (size_t)(T * N * I), nh = (size_t)(N * H), ny = (size_t)(T * N * H);
    if ((st = rnn__fbuf_ensure(&r->x_tm, nx, 0)))
        return st;
    float *x_tm = r->x_tm.p;
#pragma omp parallel for schedule(static) if (nx >= RNN__PAR_MIN)
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < T; t++)
            memcpy(x_tm + (t * N + n) * I, x + (n * T + t) * I, sizeof(float) * (size_t)I);

    for (int d = 0; d < r->ndir; d++) {
        rnn__rdir *D = &r->d[d];
        rnn__rnn_weights w;
        const int rec_drop = training && r->o.recurrent_dropout > 0.0f;
        if ((st = prepare_dir(l, r, D, T, N, rec_drop, &w)))
            return st;
        if (rec_drop && !(m->freeze_masks && D->rmask_N == N)) {
            if ((st = rnn__fbuf_ensure(&D->rmask, (size_t)(N * H), 0)))
                return st;
            D->rmask_N = N;
            float keep = 1.0f - r->o.recurrent_dropout;
            for (int64_t k = 0; k < N * H; k++)
                D->rmask.p[k] = rnn__rng_uniform(&m->rng) < (double)keep ? 1.0f / keep : 0.0f;
        }
        const float *xin = r->x_tm.p;
        D->masked = training && r->o.dropout > 0.0f;
        if (D->masked) {
            if ((st = rnn__fbuf_ensure(&D->xin, nx, 0)))
                return st;
            if (!(m->freeze_masks && D->mask_N == N)) {
                if ((st = rnn__fbuf_ensure(&D->mask, (size_t)(N * I), 0)))
                    return st;
                D->mask_N = N;
                float keep = 1.0f - r->o.dropout;
                for (int64_t k = 0; k < N * I; k++)
                    D->mask.p[k] = rnn__rng_uniform(&m->rng) < (double)keep ? 1.0f / keep : 0.0f;
            }
            for (int64_t t = 0; t < T; t++)
                for (int64_t k = 0; k < N * I; k++)
                    D->xin.p[t * N * I + k] = r->x_tm.p[t * N * I + k] * D->mask.p[k];
            xin = D->xin.p;
        }
        if ((st = rnn__fbuf_ensure(&D->y, ny, 0)) || (st = rnn__fbuf_ensure(&D->hT, nh, 0)) ||
            (st = rnn__fbuf_ensure(&D->cT, nh, 0)))
            return st;
        const float *h0 = NULL, *c0 = NULL;
        if (m->stepping && r->carry_valid) { /* decoding: continue from the last step */
            h0 = r->carry[d * r->ns].p;
            c0 = r->ns == 2 ? r->carry[d * r->ns + 1].p : NULL;
        } else if (n_init) {
            h0 = rnn__f32(init[d * r->ns]);
            c0 = r->ns == 2 ? rnn__f32(init[d * r->ns + 1]) : NULL;
        } else if (r->o.stateful && r->carry_valid) {
            h0 = r->carry[d * r->ns].p;
            c0 = r->ns == 2 ? r->carry[d * r->ns + 1].p : NULL;
        }
        D->fwd = (rnn__rnn_fwd){.T = T, .N = N, .x = xin, .lengths = len, .h0 = h0, .c0 = c0,
                                .y = D->y.p, .hT = D->hT.p,
                                .cT = r->ns == 2 ? D->cT.p : NULL, .training = training,
                                .rec_mask = rec_drop ? D->rmask.p : NULL};
        if ((st = rnn__rnn_forward(D->used, &w, &D->fwd)))
            return st;
    }

    /* Output 0. */
    const int bi = r->ndir == 2, concat = bi && r->o.merge_mode == RNN_MERGE_CONCAT;
    const int64_t Ho = concat ? 2 * H : H;
    if (r->o.return_sequences) {
        int64_t dims[3] = {N, T, Ho};
        /* every step is written below unless lengths leave padding */
        if ((st = rnn__tensor_ensure(&l->out[0], 3, dims, len != NULL)))
            return st;
        float *o = rnn__f32(l->out[0]);
#pragma omp parallel for schedule(static) if (ny >= RNN__PAR_MIN)
        for (int64_t n = 0; n < N; n++) {
            int64_t L = len_of(len, n, T);
            for (int64_t t = 0; t < L; t++) {
                float *dst = o + (n * T + t) * Ho;
                if (!bi) {
                    /* go_backwards returns outputs in processing order. */
                    int64_t src = r->o.go_backwards ? L - 1 - t : t;
                    memcpy(dst, r->d[0].y.p + (src * N + n) * H, sizeof(float) * (size_t)H);
                    continue;
                }
                const float *f = r->d[0].y.p + (t * N + n) * H, *b = r->d[1].y.p + (t * N + n) * H;
                if (concat) {
                    memcpy(dst, f, sizeof(float) * (size_t)H);
                    memcpy(dst + H, b, sizeof(float) * (size_t)H);
                } else {
                    for (int64_t j = 0; j < H; j++)
                        dst[j] = merge(r->o.merge_mode, f[j], b[j]);
                }
            }
        }
    } else {
        int64_t dims[2] = {N, Ho};
        if ((st = rnn__tensor_ensure(&l->out[0], 2, dims, 0)))
            return st;
        float *o = rnn__f32(l->out[0]);
        for (int64_t n = 0; n < N; n++) {
            const float *f = r->d[0].hT.p + n * H;
            if (!bi) {
                memcpy(o + n * H, f, sizeof(float) * (size_t)H);
                continue;
            }
            const float *b = r->d[1].hT.p + n * H;
            if (concat) {
                memcpy(o + n * Ho, f, sizeof(float) * (size_t)H);
                memcpy(o + n * Ho + H, b, sizeof(float) * (size_t)H);
            } else {
                for (int64_t j = 0; j < H; j++)
                    o[n * H + j] = merge(r->o.merge_mode, f[j], b[j]);
            }
        }
    }
    /* Final states: extra outputs (return_state) and the stateful carry. */
    for (int d = 0; d < r->ndir; d++)
        for (int s = 0; s < r->ns; s++) {
            const float *src = s == 0 ? r->d[d].hT.p : r->d[d].cT.p;
            int k = d * r->ns + s;
            if (r->o.return_state) {
                int64_t dims[2] = {N, H};
                if ((st = rnn__tensor_ensure(&l->out[1 + k], 2, dims, 0)))
                    return st;
                memcpy(l->out[1 + k]->data, src, sizeof(float) * nh);
            }
            if (r->o.stateful || m->stepping) {
                if ((st = rnn__fbuf_ensure(&r->carry[k], nh, 0)))
                    return st;
                memcpy(r->carry[k].p, src, sizeof(float) * nh);
            }
        }
    if (r->o.stateful || m->stepping) {
        r->carry_valid = 1;
        r->carry_N = N;
    }
    r->N = N;
    r->T = T;
    r->len = len;
    l->out_len[0] = r->o.return_sequences ? len : NULL;
    return RNN_OK;
}

/* ------------------------------------------------------------ backward */

static rnn_status recurrent_backward(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    const int64_t N = r->N, T = r->T, I = r->I, H = r->H;
    const int32_t *len = r->len;
    const int bi = r->ndir == 2, concat = bi && r->o.merge_mode == RNN_MERGE_CONCAT;
    const int64_t Ho = concat ? 2 * H : H;
    size_t nx = (size_t)(T * N * I), nh = (size_t)(N * H), ny = (size_t)(T * N * H);
    const float *g = rnn__f32(l->dout[0]);
    rnn_status st;

    /* dy is written at every step of every sample below, except past a sample's length or
     * without return_sequences: zero it only then. */
    const int dy_full = r->o.return_sequences && !len;
    for (int d = 0; d < r->ndir; d++) {
        rnn__rdir *D = &r->d[d];
        if ((st = rnn__fbuf_ensure(&D->dy, ny, !dy_full)) ||
            (st = rnn__fbuf_ensure(&D->dhT, nh, 1)) ||
            (st = rnn__fbuf_ensure(&D->dcT, nh, 1)) || (st = rnn__fbuf_ensure(&D->dx, nx, 0)) ||
            (st = rnn__fbuf_ensure(&D->dh0, nh, 0)) || (st = rnn__fbuf_ensure(&D->dc0, nh, 0)) ||
            (st = rnn__fbuf_ensure(&D->dbias, (size_t)(r->Gb * H), 1)))
            return st;
    }
    /* Split the output gradient into per-direction gradients. */
    float *dy0 = r->d[0].dy.p, *dy1 = bi ? r->d[1].dy.p : NULL;
    if (r->o.return_sequences) {
#pragma omp parallel for schedule(static) if (ny >= RNN__PAR_MIN)
        for (int64_t n = 0; n < N; n++) {
            int64_t L = len_of(len, n, T);
            for (int64_t t = 0; t < L; t++) {
                const float *gg = g + (n * T + t) * Ho;
                if (!bi) {
                    int64_t dst = r->o.go_backwards ? L - 1 - t : t;
                    memcpy(dy0 + (dst * N + n) * H, gg, sizeof(float) * (size_t)H);
                    continue;
                }
                float *a = dy0 + (t * N + n) * H, *b = dy1 + (t * N + n) * H;
                const float *fy = r->d[0].y.p + (t * N + n) * H, *by = r->d[1].y.p + (t * N + n) * H;
                for (int64_t j = 0; j < H; j++) {
                    switch (r->o.merge_mode) {
                    case RNN_MERGE_CONCAT: a[j] = gg[j], b[j] = gg[H + j]; break;
                    case RNN_MERGE_SUM: a[j] = b[j] = gg[j]; break;
                    case RNN_MERGE_MUL: a[j] = gg[j] * by[j], b[j] = gg[j] * fy[j]; break;
                    case RNN_MERGE_AVE: a[j] = b[j] = 0.5f * gg[j]; break;
                    }
                }
            }
        }
    } else {
        float *a = r->d[0].dhT.p, *b = bi ? r->d[1].dhT.p : NULL;
        for (int64_t n = 0; n < N; n++)
            for (int64_t j = 0; j < H; j++) {
                const float *gg = g + n * Ho;
                if (!bi) {
                    a[n * H + j] = gg[j];
                    continue;
                }
                float fy = r->d[0].hT.p[n * H + j], by = r->d[1].hT.p[n * H + j];
                switch (r->o.merge_mode) {
                case RNN_MERGE_CONCAT: a[n * H + j] = gg[j], b[n * H + j] = gg[H + j]; break;
                case RNN_MERGE_SUM: a[n * H + j] = b[n * H + j] = gg[j]; break;
                case RNN_MERGE_MUL: a[n * H + j] = gg[j] * by, b[n * H + j] = gg[j] * fy; break;
                case RNN_MERGE_AVE: a[n * H + j] = b[n * H + j] = 0.5f * gg[j]; break;
                }
            }
    }
    if (r->o.return_state)
        for (int d = 0; d < r->ndir; d++)
            for (int s = 0; s < r->ns; s++) {
                float *dst = s == 0 ? r->d[d].dhT.p : r->d[d].dcT.p;
                const float *src = rnn__f32(l->dout[1 + d * r->ns + s]);
                for (size_t k = 0; k < nh; k++)
                    dst[k] += src[k];
            }

    /* Kernels. One unmasked direction: its dx goes straight to the producer (below);
     * otherwise the directions' dx are summed into dx_tm first. */
    const int direct = r->ndir == 1 && !r->d[0].masked;
    if (!direct && (st = rnn__fbuf_ensure(&r->dx_tm, nx, 1)))
        return st;
    for (int d = 0; d < r->ndir; d++) {
        rnn__rdir *D = &r->d[d];
        rnn__rnn_weights w;
        if ((st = prepare_dir(l, r, D, T, N, D->used == D->kref && D->kref, &w)))
            return st;
        rnn__rnn_bwd b = {.dy = D->dy.p, .dhT = D->dhT.p, .dcT = r->ns == 2 ? D->dcT.p : NULL,
                          .dx = D->dx.p, .dh0 = D->dh0.p, .dc0 = r->ns == 2 ? D->dc0.p : NULL,
                          .dwx = l->trainable ? rnn__f32(l->grad[D->pk]) : NULL,
                          .dwh = l->trainable ? rnn__f32(l->grad[D->pr]) : NULL,
                          .db = l->trainable && D->pb >= 0 ? D->dbias.p : NULL};
        if ((st = rnn__rnn_backward(D->used, &w, &D->fwd, &b)))
            return st;
        if (l->trainable && D->pb >= 0)
            rnn__recurrent_dbias_to_keras(r, D->dbias.p, rnn__f32(l->grad[D->pb]));
        if (direct)
            continue;
        float *acc = r->dx_tm.p;
        const float *dx = D->dx.p, *mask = D->mask.p;
        if (D->masked)
            for (size_t k = 0; k < nx; k++)
                acc[k] += dx[k] * mask[k % (size_t)(N * I)];
        else
            for (size_t k = 0; k < nx; k++)
                acc[k] += dx[k];
    }
    /* Time-major -> batch-major, added into the producer's gradient. */
    float *din = rnn__f32(rnn__layer_din(l));
    const float *dx_tm = direct ? r->d[0].dx.p : r->dx_tm.p;
#pragma omp parallel for schedule(static) if (nx >= RNN__PAR_MIN)
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < T; t++) {
            float *dst = din + (n * T + t) * I;
            const float *src = dx_tm + (t * N + n) * I;
            for (int64_t i = 0; i < I; i++)
                dst[i] += src[i];
        }
    /* Gradients of connected initial states go to their producers. */
    for (int k = 0; k < l->n_extra; k++) {
        rnn_tensor *dst = rnn__layer_extra_din(l, k);
        if (!dst)
            continue;
        const rnn__rdir *D = &r->d[k / r->ns];
        const float *src = k % r->ns == 0 ? D->dh0.p : D->dc0.p;
        float *dp = rnn__f32(dst);
        for (size_t i = 0; i < nh; i++)
            dp[i] += src[i];
    }
    /* Gradients of caller-given initial states. */
    for (int k = 0; !l->n_extra && k < r->n_init; k++) {
        int64_t dims[2] = {N, H};
        if ((st = rnn__tensor_ensure(&r->init_grad[k], 2, dims, 0)))
            return st;
        const rnn__rdir *D = &r->d[k / r->ns];
        memcpy(r->init_grad[k]->data, k % r->ns == 0 ? D->dh0.p : D->dc0.p, sizeof(float) * nh);
    }
    return RNN_OK;
}

static const void *recurrent_options(const rnn_layer *l)
{
    return &((const rnn__recurrent *)l->impl)->o;
}

static const rnn__layer_vt recurrent_vt = {
    .options = recurrent_options,
    .kind = "recurrent",
    .forward = recurrent_forward,
    .backward = recurrent_backward,
    .reset_state = recurrent_reset_state,
    .params_changed = recurrent_params_changed,
    .destroy = recurrent_destroy,
};

/* ------------------------------------------------------------ construction */

static int valid_init(rnn_initializer i)
{
    return i >= RNN_INIT_GLOROT_UNIFORM && i <= RNN_INIT_ONES;
}

static rnn_status check_options(const rnn_recurrent_options *o)
{
    const char *f = "rnn_model_add_recurrent";
    if (o->struct_size < offsetof(rnn_recurrent_options, merge_mode) + sizeof o->merge_mode ||
        o->struct_size > sizeof *o)
        return rnn__err(RNN_ERR_INVALID_ARG, f,
                        "options->struct_size must be sizeof(rnn_recurrent_options) = %zu (got %u); "
                        "call rnn_recurrent_options_init()",
                        sizeof *o, (unsigned)o->struct_size);
    if (o->cell != RNN_SIMPLE_RNN && o->cell != RNN_LSTM && o->cell != RNN_GRU)
        return rnn__err(RNN_ERR_INVALID_ARG, f,
                        "options->cell must be RNN_SIMPLE_RNN, RNN_LSTM or RNN_GRU (got %d)",
                        (int)o->cell);
    if (o->units < 1 || o->units > (1 << 24))
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->units must be in 1..16777216 (got %lld)",
                        (long long)o->units);
    if (o->cell == RNN_SIMPLE_RNN ? (o->activation != RNN_ACT_TANH && o->activation != RNN_ACT_RELU)
                                  : o->activation != RNN_ACT_TANH)
        return rnn__err(RNN_ERR_INVALID_ARG, f,
                        "options->activation must be RNN_ACT_TANH%s for this cell (got %d)",
                        o->cell == RNN_SIMPLE_RNN ? " or RNN_ACT_RELU" : "", (int)o->activation);
    if (!(o->dropout >= 0.0f && o->dropout < 1.0f))
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->dropout must be in [0, 1) (got %g)",
                        (double)o->dropout);
    if (!(o->recurrent_dropout >= 0.0f && o->recurrent_dropout < 1.0f))
        return rnn__err(RNN_ERR_INVALID_ARG, f,
                        "options->recurrent_dropout must be in [0, 1) (got %g)",
                        (double)o->recurrent_dropout);
    if (!valid_init(o->kernel_initializer) || !valid_init(o->recurrent_initializer) ||
        !valid_init(o->bias_initializer))
        return rnn__err(RNN_ERR_INVALID_ARG, f, "an initializer is not a rnn_initializer value "
                                                "(kernel %d, recurrent %d, bias %d)",
                        (int)o->kernel_initializer, (int)o->recurrent_initializer,
                        (int)o->bias_initializer);
    if (o->bidirectional && (o->merge_mode < RNN_MERGE_CONCAT || o->merge_mode > RNN_MERGE_AVE))
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->merge_mode must be a rnn_merge_mode (got %d)",
                        (int)o->merge_mode);
    if (o->bidirectional && o->go_backwards)
        return rnn__err(RNN_ERR_INVALID_ARG, f,
                        "options->go_backwards cannot be combined with options->bidirectional");
    return RNN_OK;
}

rnn_status rnn_model_add_recurrent(rnn_model *m, const rnn_recurrent_options *options,
                                   rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(options);
    rnn_status st = check_options(options);
    if (st)
        return st;
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, options->cell);
    memcpy(&o, options, options->struct_size);
    o.struct_size = sizeof o;
    rnn_layer *prev;
    if ((st = rnn__model_tail(__func__, m, &prev)))
        return st;
    if (!prev->out_seq[rnn__tail_output(m)])
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s outputs no sequence (set return_sequences=1 on it)",
                        prev->name);
    if (prev->out_dtype[rnn__tail_output(m)] != RNN_F32 || prev->out_features[rnn__tail_output(m)] < 1)
        return RNN__ERR(RNN_ERR_STATE,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        prev->name);

    rnn_layer *l;
    if ((st = rnn__layer_new(__func__, &recurrent_vt, sizeof(rnn__recurrent), &l)))
        return st;
    rnn__recurrent *r = l->impl;
    l->input = prev;
    l->input_output = 0;
    r->o = o;
    r->cell = o.cell == RNN_LSTM  ? RNN__CELL_LSTM
              : o.cell == RNN_GRU ? (o.reset_after ? RNN__CELL_LBR_GRU : RNN__CELL_GRU)
              : o.activation == RNN_ACT_RELU ? RNN__CELL_RNN_RELU
                                             : RNN__CELL_RNN_TANH;
    r->G = rnn__cell_gates(r->cell);
    r->Gb = rnn__cell_bias_gates(r->cell);
    r->ns = rnn__cell_has_c(r->cell) ? 2 : 1;
    r->ndir = o.bidirectional ? 2 : 1;
    r->I = prev->out_features[rnn__tail_output(m)];
    r->H = o.units;
    const int64_t H = r->H, I = r->I, GH = r->G * H;

    /* Outputs. */
    int64_t Ho = o.bidirectional && o.merge_mode == RNN_MERGE_CONCAT ? 2 * H : H;
    l->n_outputs = 1 + (o.return_state ? r->ndir * r->ns : 0);
    l->out_seq[0] = o.return_sequences;
    l->out_features[0] = Ho;
    for (int k = 0; k < l->n_outputs; k++) {
        l->out_dtype[k] = RNN_F32;
        if (k)
            l->out_features[k] = H;
    }

    /* Parameters, initialised in Keras order, forward direction first. */
    for (int d = 0; d < r->ndir; d++) {
        rnn__rdir *D = &r->d[d];
        D->reverse = o.bidirectional ? d == 1 : o.go_backwards;
        char nk[RNN__NAME_MAX], nr[RNN__NAME_MAX], nb[RNN__NAME_MAX];
        const char *pre = !o.bidirectional ? "" : d == 0 ? "forward/" : "backward/";
        snprintf(nk, sizeof nk, "%skernel", pre);
        snprintf(nr, sizeof nr, "%srecurrent_kernel", pre);
        snprintf(nb, sizeof nb, "%sbias", pre);
        int64_t kd[2] = {I, GH}, rd[2] = {H, GH};
        int64_t bd[2] = {2, GH};
        D->pk = l->n_params;
        if ((st = rnn__layer_add_param(l, nk, 2, kd)))
            goto fail;
        D->pr = l->n_params;
        if ((st = rnn__layer_add_param(l, nr, 2, rd)))
            goto fail;
        D->pb = -1;
        if (o.use_bias) {
            D->pb = l->n_params;
            if (r->cell == RNN__CELL_LBR_GRU)
                st = rnn__layer_add_param(l, nb, 2, bd);
            else
                st = rnn__layer_add_param(l, nb, 1, &bd[1]);
            if (st)
                goto fail;
        }
        if ((st = rnn__init_fill(&m->rng, (int)o.kernel_initializer, rnn__f32(l->param[D->pk]), I, GH)) ||
            (st = rnn__init_fill(&m->rng, (int)o.recurrent_initializer, rnn__f32(l->param[D->pr]), H,
                              GH))) {
            st = st == RNN_ERR_NOMEM ? RNN__NOMEM(sizeof(double) * (size_t)(H * GH))
                                     : RNN__ERR(st, "cannot initialise %s", nr);
            goto fail;
        }
        if (D->pb >= 0) {
            rnn_tensor *b = l->param[D->pb];
            if ((st = rnn__init_fill(&m->rng, (int)o.bias_initializer, rnn__f32(b), 1, b->numel)))
                goto fail;
            if (r->cell == RNN__CELL_LSTM && o.unit_forget_bias)
                for (int64_t j = 0; j < H; j++)
                    rnn__f32(b)[H + j] = 1.0f;
        }
    }
    if ((st = rnn__model_append(m, l, cell_base_name(&o))))
        return st; /* the model released l */
    if (out)
        *out = l;
    return RNN_OK;
fail:
    rnn__layer_free(l);
    return st;
}

/* ------------------------------------------------------------ states */

static rnn_status as_recurrent(const char *func, const rnn_layer *l, rnn__recurrent **out)
{
    if (!l)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "layer must not be NULL");
    if (l->vt != &recurrent_vt)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "layer %s is not a recurrent layer", l->name);
    *out = l->impl;
    return RNN_OK;
}

rnn_status rnn__recurrent_impl(const char *func, const rnn_layer *l, rnn__recurrent **out)
{
    return as_recurrent(func, l, out);
}

rnn_status rnn_layer_num_states(const rnn_layer *l, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    *out = r->ndir * r->ns;
    return RNN_OK;
}

rnn_status rnn_layer_set_initial_state(rnn_layer *l, int count, const rnn_tensor *const *states)
{
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    int want = r->ndir * r->ns;
    if (l->n_extra)
        return RNN__ERR(RNN_ERR_STATE,
                        "layer %s takes its initial states from other layers "
                        "(rnn_layer_connect_initial_state)",
                        l->name);
    if (count != 0 && count != want)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be 0 or %d for layer %s (got %d)", want,
                        l->name, count);
    if (count)
        RNN__CHECK_ARG(states);
    for (int k = 0; k < count; k++) {
        const rnn_tensor *s = states[k];
        if (!s)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "states[%d] must not be NULL", k);
        if (s->dtype != RNN_F32)
            return RNN__ERR(RNN_ERR_DTYPE, "states[%d] must be RNN_F32", k);
        if (s->rank != 2 || s->dims[1] != r->H || s->dims[0] != states[0]->dims[0])
            return RNN__ERR(RNN_ERR_SHAPE,
                            "states[%d] must have shape (batch, %lld), the same batch for all",
                            k, (long long)r->H);
    }
    rnn_tensor *copies[4] = {0};
    for (int k = 0; k < count; k++)
        if ((st = rnn_tensor_clone(states[k], &copies[k]))) {
            for (int j = 0; j < k; j++)
                rnn_tensor_destroy(copies[j]);
            return RNN__NOMEM(states[k]->nbytes);
        }
    for (int k = 0; k < 4; k++) {
        rnn_tensor_destroy(r->init[k]);
        r->init[k] = copies[k];
    }
    r->n_init = count;
    l->model->trained_forward = 0;
    return RNN_OK;
}

rnn_status rnn_layer_connect_initial_state(rnn_layer *l, int count, rnn_layer *const *sources,
                                          const int *outputs)
{
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    const int want = r->ndir * r->ns;
    if (count != want)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "count must be %d for layer %s (its states: h%s per direction) (got %d)",
                        want, l->name, r->ns == 2 ? " and c" : "", count);
    RNN__CHECK_ARG(sources);
    for (int k = 0; k < count; k++) {
        const rnn_layer *p = sources[k];
        const int o = outputs ? outputs[k] : 0;
        if (!p || p->model != l->model)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "sources[%d] must be a layer of the same model",
                            k);
        if (p->index >= l->index)
            return RNN__ERR(RNN_ERR_INVALID_ARG,
                            "sources[%d] (%s) must be added before layer %s", k, p->name,
                            l->name);
        if (o < 0 || o >= p->n_outputs)
            return RNN__ERR(RNN_ERR_RANGE, "outputs[%d]: layer %s has outputs [0, %d) (got %d)",
                            k, p->name, p->n_outputs, o);
        if (p->out_dtype[o] != RNN_F32 || p->out_seq[o] || p->out_features[o] != r->H)
            return RNN__ERR(RNN_ERR_SHAPE,
                            "sources[%d]: output %d of %s must be f32 vectors (N, %lld) to be a "
                            "state of %s",
                            k, o, p->name, (long long)r->H, l->name);
    }
    if (r->o.stateful)
        return RNN__ERR(RNN_ERR_STATE, "layer %s is stateful: it carries its own states",
                        l->name);
    for (int k = 0; k < count; k++) {
        l->extra[k] = sources[k];
        l->extra_output[k] = outputs ? outputs[k] : 0;
    }
    l->n_extra = count;
    l->model->trained_forward = 0;
    return RNN_OK;
}

rnn_status rnn_layer_initial_state_grad(const rnn_layer *l, int index, const rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    if (index < 0 || index >= r->n_init)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (the initial states set) (got %d)",
                        r->n_init, index);
    if (!r->init_grad[index])
        return RNN__ERR(RNN_ERR_STATE, "no backward has run since the initial states were set");
    *out = r->init_grad[index];
    return RNN_OK;
}

rnn_status rnn_layer_reset_states(rnn_layer *l)
{
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    recurrent_reset_state(l);
    return RNN_OK;
}
