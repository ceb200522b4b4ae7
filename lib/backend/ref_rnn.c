/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reference recurrent kernels: per sample, per step, straight from the cell
 * equations in backend.h. Written to be checked by eye, not to be fast:
 * every dot product accumulates in double. The oneDNN backend is tested
 * against this file, and gradients here are tested by finite differences.
 *
 * Storage per (time index t, sample n) kept by a training forward:
 *   hp  h before the step        cp  c before the step (LSTM)
 *   gt  gate activations [G*H]   cn  c after the step (LSTM)
 *   nh  h_prev Who + bu' (LBR_GRU: needed for the reset-gate gradient)
 *
 * bf16 (f->bf16, mixed precision) is emulated: the weights, x, and the
 * states entering the recurrent products (GRU: r * h_prev) are rounded to
 * bf16, and h is rounded after every step (so y and hT are bf16 values, as
 * the oneDNN primitive's bf16 outputs); sums still accumulate in double, and
 * LSTM's c stays f32. Backward uses the same rounded operands, and rounds
 * the gate gradients before they enter products and the bias gradient (as
 * oneDNN's bf16 backward keeps them); the state gradients stay f32.
 */
#include <math.h>
#include <string.h>

#include "backend/backend.h"

struct rnn__ref_rnn {
    rnn__rnn_shape s;
    int G, Gb;
    float *hp, *cp, *gt, *cn, *nh; /* [T][N][...] */
    int64_t fT, fN;                /* sizes of the last training forward, 0 = none */
};

static double sigm(double v)
{
    return 1.0 / (1.0 + exp(-v));
}

rnn_status rnn__ref_rnn_create(const rnn__rnn_shape *s, rnn__ref_rnn **out)
{
    *out = NULL;
    rnn__ref_rnn *k = rnn__calloc(1, sizeof *k);
    if (!k)
        return RNN__NOMEM(sizeof *k);
    k->s = *s;
    k->G = rnn__cell_gates(s->cell);
    k->Gb = rnn__cell_bias_gates(s->cell);
    size_t TN = (size_t)(s->T * s->N), H = (size_t)s->H;
    k->hp = rnn__calloc(TN * H, sizeof(float));
    k->cp = rnn__calloc(TN * H, sizeof(float));
    k->cn = rnn__calloc(TN * H, sizeof(float));
    k->nh = rnn__calloc(TN * H, sizeof(float));
    k->gt = rnn__calloc(TN * H * (size_t)k->G, sizeof(float));
    if (!k->hp || !k->cp || !k->cn || !k->nh || !k->gt) {
        rnn__ref_rnn_destroy(k);
        return RNN__NOMEM(TN * H * (size_t)(4 + k->G) * sizeof(float));
    }
    *out = k;
    return RNN_OK;
}

void rnn__ref_rnn_destroy(rnn__ref_rnn *k)
{
    if (!k)
        return;
    rnn__free(k->hp);
    rnn__free(k->cp);
    rnn__free(k->cn);
    rnn__free(k->nh);
    rnn__free(k->gt);
    rnn__free(k);
}

/* The weights the products use: w itself, or in bf16 rounded copies in *buf
 * (the caller frees it). */
static rnn_status product_weights(const rnn__ref_rnn *k, const rnn__rnn_weights *w, int bf16,
                                  rnn__rnn_weights *out, float **buf)
{
    *out = *w;
    *buf = NULL;
    if (!bf16)
        return RNN_OK;
    const size_t nx = (size_t)(k->s.I * k->G * k->s.H), nh = (size_t)(k->s.H * k->G * k->s.H);
    float *p = rnn__malloc(sizeof(float) * (nx + nh));
    if (!p)
        return RNN__NOMEM(sizeof(float) * (nx + nh));
    rnn__bf16_round_n(p, w->wx, nx);
    rnn__bf16_round_n(p + nx, w->wh, nh);
    out->wx = p;
    out->wh = p + nx;
    *buf = p;
    return RNN_OK;
}

/* x row (t, n) as the products see it (rounded into tmp in bf16). */
static const float *input_row(const rnn__ref_rnn *k, const rnn__rnn_fwd *f, int64_t t, int64_t n,
                              float *tmp)
{
    const float *x = f->x + rnn__row_at(&f->x_rows, f->N, k->s.I, t, n);
    if (!f->bf16)
        return x;
    rnn__bf16_round_n(tmp, x, (size_t)k->s.I);
    return tmp;
}

/* acc[j] += sum_i v[i] * W[i][off + j], j < H; W has row length ld. */
static void vec_mat(double *acc, const float *v, int64_t rows, const float *W, int64_t ld,
                    int64_t off, int64_t H)
{
    for (int64_t i = 0; i < rows; i++) {
        double vi = v[i];
        if (vi == 0.0)
            continue;
        const float *w = W + i * ld + off;
        for (int64_t j = 0; j < H; j++)
            acc[j] += vi * w[j];
    }
}

rnn_status rnn__ref_rnn_forward(rnn__ref_rnn *k, const rnn__rnn_weights *w0,
                                 const rnn__rnn_fwd *f)
{
    /* Arguments were checked by rnn__rnn_forward/_backward. */
    const rnn__cell cell = k->s.cell;
    const int64_t N = f->N, T = f->T, I = k->s.I, H = k->s.H, G = k->G, GH = G * H;
    rnn__rnn_weights wr;
    float *wbuf;
    rnn_status st = product_weights(k, w0, f->bf16, &wr, &wbuf);
    if (st)
        return st;
    const rnn__rnn_weights *w = &wr;
    double *pre = rnn__malloc(sizeof(double) * (size_t)(GH + H));
    float *h = rnn__malloc(sizeof(float) * (size_t)(4 * H + I));
    if (!pre || !h) {
        rnn__free(pre);
        rnn__free(h);
        rnn__free(wbuf);
        return RNN__NOMEM(sizeof(double) * (size_t)(GH + H) + sizeof(float) * (size_t)(4 * H + I));
    }
    double *nh = pre + GH;
    float *c = h + H, *hn = h + 2 * H, *hm = h + 3 * H, *xr = h + 4 * H;
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = f->lengths ? f->lengths[n] : T;
        for (int64_t j = 0; j < H; j++) {
            h[j] = f->h0 ? f->h0[n * H + j] : 0.0f;
            c[j] = f->c0 && cell == RNN__CELL_LSTM ? f->c0[n * H + j] : 0.0f;
        }
        for (int64_t s = 0; s < L; s++) {
            const int64_t t = k->s.reverse ? L - 1 - s : s, tn = t * N + n;
            const float *x = input_row(k, f, t, n, xr);
            /* Input part of every gate, plus bias. */
            for (int64_t g = 0; g < GH; g++)
                pre[g] = w->b[g];
            vec_mat(pre, x, I, w->wx, GH, 0, GH);
            float *gt = k->gt + tn * GH;
            if (f->training) {
                memcpy(k->hp + tn * H, h, sizeof(float) * (size_t)H);
                memcpy(k->cp + tn * H, c, sizeof(float) * (size_t)H);
            }
            /* hm: h_prev as the recurrent products see it (recurrent dropout). */
            for (int64_t j = 0; j < H; j++)
                hm[j] = f->rec_mask ? h[j] * f->rec_mask[n * H + j] : h[j];
            if (f->bf16)
                rnn__bf16_round_n(hm, hm, (size_t)H);
            if (cell == RNN__CELL_GRU || cell == RNN__CELL_LBR_GRU) {
                /* u and r see h_prev directly. */
                vec_mat(pre, hm, H, w->wh, GH, 0, 2 * H);
                for (int64_t j = 0; j < 2 * H; j++)
                    gt[j] = (float)sigm(pre[j]);
                const float *u = gt, *r = gt + H;
                if (cell == RNN__CELL_GRU) {
                    float *rh = hn; /* scratch: r * h_prev */
                    for (int64_t j = 0; j < H; j++)
                        rh[j] = f->bf16 ? rnn__bf16_round(r[j] * hm[j]) : r[j] * hm[j];
                    vec_mat(pre + 2 * H, rh, H, w->wh, GH, 2 * H, H);
                    for (int64_t j = 0; j < H; j++)
                        gt[2 * H + j] = (float)tanh(pre[2 * H + j]);
                } else {
                    for (int64_t j = 0; j < H; j++)
                        nh[j] = w->b[3 * H + j];
                    vec_mat(nh, hm, H, w->wh, GH, 2 * H, H);
                    for (int64_t j = 0; j < H; j++) {
                        gt[2 * H + j] = (float)tanh(pre[2 * H + j] + r[j] * nh[j]);
                        if (f->training)
                            k->nh[tn * H + j] = (float)nh[j];
                    }
                }
                for (int64_t j = 0; j < H; j++)
                    hn[j] = u[j] * h[j] + (1.0f - u[j]) * gt[2 * H + j];
            } else {
                vec_mat(pre, hm, H, w->wh, GH, 0, GH);
                if (cell == RNN__CELL_LSTM) {
                    for (int64_t j = 0; j < H; j++) {
                        gt[j] = (float)sigm(pre[j]);
                        gt[H + j] = (float)sigm(pre[H + j]);
                        gt[2 * H + j] = (float)tanh(pre[2 * H + j]);
                        gt[3 * H + j] = (float)sigm(pre[3 * H + j]);
                        c[j] = gt[H + j] * c[j] + gt[j] * gt[2 * H + j];
                        hn[j] = gt[3 * H + j] * (float)tanh(c[j]);
                    }
                    if (f->training)
                        memcpy(k->cn + tn * H, c, sizeof(float) * (size_t)H);
                } else {
                    for (int64_t j = 0; j < H; j++) {
                        double v = pre[j];
                        hn[j] = (float)(cell == RNN__CELL_RNN_RELU ? (v > 0 ? v : 0) : tanh(v));
                        gt[j] = hn[j];
                    }
                }
            }
            if (f->bf16)
                rnn__bf16_round_n(hn, hn, (size_t)H);
            memcpy(h, hn, sizeof(float) * (size_t)H);
            memcpy(f->y + rnn__row_at(&f->y_rows, N, H, t, n), h, sizeof(float) * (size_t)H);
        }
        for (int64_t t = L; t < T; t++)
            memset(f->y + rnn__row_at(&f->y_rows, N, H, t, n), 0, sizeof(float) * (size_t)H);
        if (f->hT)
            memcpy(f->hT + n * H, h, sizeof(float) * (size_t)H);
        if (f->cT && cell == RNN__CELL_LSTM)
            memcpy(f->cT + n * H, c, sizeof(float) * (size_t)H);
    }
    rnn__free(pre);
    rnn__free(h);
    rnn__free(wbuf);
    k->fT = f->training ? T : 0;
    k->fN = f->training ? N : 0;
    return RNN_OK;
}

/* W^T-side product: out[i] = sum_j W[i][off + j] * v[j], i < rows. */
static void mat_vec_add(float *out, const float *W, int64_t rows, int64_t ld, int64_t off,
                        const double *v, int64_t H)
{
    for (int64_t i = 0; i < rows; i++) {
        const float *wr = W + i * ld + off;
        double acc = 0;
        for (int64_t j = 0; j < H; j++)
            acc += wr[j] * v[j];
        out[i] += (float)acc;
    }
}

/* dW[i][off + j] += a[i] * d[j]. */
static void outer_add(float *dW, int64_t ld, int64_t off, const float *a, int64_t rows,
                      const double *d, int64_t H)
{
    for (int64_t i = 0; i < rows; i++) {
        double ai = a[i];
        if (ai == 0.0)
            continue;
        float *wr = dW + i * ld + off;
        for (int64_t j = 0; j < H; j++)
            wr[j] += (float)(ai * d[j]);
    }
}

/* Gate gradients as oneDNN's bf16 backward keeps them for its products and its bias
 * gradient: rounded to bf16 (nothing to do in f32). */
static void round_grads(double *v, int64_t n, int bf16)
{
    for (int64_t i = 0; bf16 && i < n; i++)
        v[i] = rnn__bf16_round((float)v[i]);
}

/* One GRU/LBR_GRU step backward: gate gradients dp, h_prev's dhp and dhr, Wh and bu' grads. */
static void gru_step_backward(const rnn__ref_rnn *k, const rnn__rnn_weights *w,
                              const rnn__rnn_bwd *b, int64_t tn, const float *hp, const float *hm,
                              const float *dh, double *dp, double *dnh, float *dhp, float *dhr,
                              float *tmp, int bf16)
{
    const rnn__cell cell = k->s.cell;
    const int64_t H = k->s.H, GH = k->G * H;
    const float *gt = k->gt + tn * GH;
    const float *u = gt, *r = gt + H, *o = gt + 2 * H;
    for (int64_t j = 0; j < H; j++) {
        double du = dh[j] * ((double)hp[j] - o[j]);
        dp[2 * H + j] = dh[j] * (1.0 - u[j]) * (1.0 - (double)o[j] * o[j]);
        dp[j] = du * u[j] * (1.0 - u[j]);
        dhp[j] = dh[j] * u[j];
    }
    if (cell == RNN__CELL_GRU) {
        /* o = tanh(x Wxo + (r * h) Who + bo) */
        round_grads(dp, H, bf16);
        round_grads(dp + 2 * H, H, bf16);
        for (int64_t j = 0; j < H; j++)
            tmp[j] = 0.0f;
        mat_vec_add(tmp, w->wh, H, GH, 2 * H, dp + 2 * H, H); /* d(r*h) */
        for (int64_t j = 0; j < H; j++) {
            dp[H + j] = (double)tmp[j] * hm[j] * r[j] * (1.0 - r[j]);
            dhr[j] += tmp[j] * r[j];
        }
        round_grads(dp + H, H, bf16);
        mat_vec_add(dhr, w->wh, H, GH, 0, dp, 2 * H);
        if (b->dwh) {
            outer_add(b->dwh, GH, 0, hm, H, dp, 2 * H);
            for (int64_t j = 0; j < H; j++)
                tmp[j] = bf16 ? rnn__bf16_round(r[j] * hm[j]) : r[j] * hm[j];
            outer_add(b->dwh, GH, 2 * H, tmp, H, dp + 2 * H, H);
        }
    } else {
        /* o = tanh(x Wxo + bo + r * (h Who + bu')) */
        const float *nh = k->nh + tn * H;
        for (int64_t j = 0; j < H; j++) {
            dp[H + j] = dp[2 * H + j] * nh[j] * r[j] * (1.0 - r[j]);
            dnh[j] = dp[2 * H + j] * r[j];
        }
        round_grads(dp, GH, bf16);
        round_grads(dnh, H, bf16);
        mat_vec_add(dhr, w->wh, H, GH, 0, dp, 2 * H);
        mat_vec_add(dhr, w->wh, H, GH, 2 * H, dnh, H);
        if (b->dwh) {
            outer_add(b->dwh, GH, 0, hm, H, dp, 2 * H);
            outer_add(b->dwh, GH, 2 * H, hm, H, dnh, H);
        }
        if (b->db)
            for (int64_t j = 0; j < H; j++)
                b->db[3 * H + j] += (float)dnh[j];
    }
}

rnn_status rnn__ref_rnn_backward(rnn__ref_rnn *k, const rnn__rnn_weights *w0,
                                 const rnn__rnn_fwd *f, const rnn__rnn_bwd *b)
{
    /* Arguments were checked by rnn__rnn_forward/_backward. */
    if (k->fT != f->T || k->fN != f->N)
        return RNN__ERR(RNN_ERR_STATE, "backward needs a training forward of the same batch first");
    const rnn__cell cell = k->s.cell;
    const int64_t N = f->N, T = f->T, I = k->s.I, H = k->s.H, G = k->G, GH = G * H;
    rnn__rnn_weights wr;
    float *wbuf;
    rnn_status st = product_weights(k, w0, f->bf16, &wr, &wbuf);
    if (st)
        return st;
    const rnn__rnn_weights *w = &wr;
    double *dp = rnn__malloc(sizeof(double) * (size_t)(GH + H));
    float *dh = rnn__malloc(sizeof(float) * (size_t)(6 * H));
    float *dx1 = rnn__malloc(sizeof(float) * (size_t)(2 * I));
    if (!dp || !dh || !dx1) {
        rnn__free(dp);
        rnn__free(dh);
        rnn__free(dx1);
        rnn__free(wbuf);
        return RNN__NOMEM(sizeof(double) * (size_t)(GH + H));
    }
    double *dnh = dp + GH;
    /* dhp: gradient of h_prev through the direct paths (GRU carry);
     * dhr: through the recurrent products, i.e. of hm = h_prev * rec_mask. */
    float *dc = dh + H, *dhp = dh + 2 * H, *tmp = dh + 3 * H, *dhr = dh + 4 * H, *hm = dh + 5 * H;
    for (int64_t n = 0; n < N; n++) {
        const int64_t L = f->lengths ? f->lengths[n] : T;
        for (int64_t j = 0; j < H; j++) {
            dh[j] = b->dhT ? b->dhT[n * H + j] : 0.0f;
            dc[j] = b->dcT && cell == RNN__CELL_LSTM ? b->dcT[n * H + j] : 0.0f;
        }
        for (int64_t s = L - 1; s >= 0; s--) {
            const int64_t t = k->s.reverse ? L - 1 - s : s, tn = t * N + n;
            const float *x = input_row(k, f, t, n, dx1 + I), *hp = k->hp + tn * H;
            const float *cp = k->cp + tn * H;
            const float *gt = k->gt + tn * GH;
            const float *dy = b->dy ? b->dy + rnn__row_at(&b->dy_rows, N, H, t, n) : NULL;
            for (int64_t j = 0; dy && j < H; j++)
                dh[j] += dy[j];
            memset(dhp, 0, sizeof(float) * (size_t)H);
            memset(dhr, 0, sizeof(float) * (size_t)H);
            for (int64_t j = 0; j < H; j++)
                hm[j] = f->rec_mask ? hp[j] * f->rec_mask[n * H + j] : hp[j];
            if (f->bf16)
                rnn__bf16_round_n(hm, hm, (size_t)H);
            const float *whp = hm; /* what multiplies each Wh block */
            if (cell == RNN__CELL_LSTM) {
                const float *cn = k->cn + tn * H;
                for (int64_t j = 0; j < H; j++) {
                    double i_ = gt[j], f_ = gt[H + j], g_ = gt[2 * H + j], o_ = gt[3 * H + j];
                    double tc = tanh(cn[j]);
                    double dcj = dc[j] + dh[j] * o_ * (1 - tc * tc);
                    dp[j] = dcj * g_ * i_ * (1 - i_);
                    dp[H + j] = dcj * cp[j] * f_ * (1 - f_);
                    dp[2 * H + j] = dcj * i_ * (1 - g_ * g_);
                    dp[3 * H + j] = dh[j] * tc * o_ * (1 - o_);
                    dc[j] = (float)(dcj * f_);
                }
                round_grads(dp, GH, f->bf16);
                mat_vec_add(dhr, w->wh, H, GH, 0, dp, GH);
                if (b->dwh)
                    outer_add(b->dwh, GH, 0, whp, H, dp, GH);
            } else if (cell == RNN__CELL_GRU || cell == RNN__CELL_LBR_GRU) {
                gru_step_backward(k, w, b, tn, hp, hm, dh, dp, dnh, dhp, dhr, tmp, f->bf16);
            } else {
                for (int64_t j = 0; j < H; j++) {
                    double hn = gt[j];
                    dp[j] = cell == RNN__CELL_RNN_RELU ? (hn > 0 ? dh[j] : 0.0)
                                                       : dh[j] * (1.0 - hn * hn);
                }
                round_grads(dp, GH, f->bf16);
                mat_vec_add(dhr, w->wh, H, GH, 0, dp, GH);
                if (b->dwh)
                    outer_add(b->dwh, GH, 0, hm, H, dp, GH);
            }
            for (int64_t j = 0; j < H; j++)
                dhp[j] += f->rec_mask ? dhr[j] * f->rec_mask[n * H + j] : dhr[j];
            /* Input side, shared by every cell: all G gate pre-activations. */
            if (b->dwx)
                outer_add(b->dwx, GH, 0, x, I, dp, GH);
            if (b->db)
                for (int64_t g = 0; g < GH; g++)
                    b->db[g] += (float)dp[g];
            if (b->dx) {
                float *dx = b->dx + rnn__row_at(&b->dx_rows, N, I, t, n);
                memset(dx1, 0, sizeof(float) * (size_t)I);
                mat_vec_add(dx1, w->wx, I, GH, 0, dp, GH);
                for (int64_t i = 0; i < I; i++)
                    dx[i] = b->dx_add ? dx[i] + dx1[i] : dx1[i];
            }
            memcpy(dh, dhp, sizeof(float) * (size_t)H);
        }
        for (int64_t t = L; b->dx && !b->dx_add && t < T; t++)
            memset(b->dx + rnn__row_at(&b->dx_rows, N, I, t, n), 0, sizeof(float) * (size_t)I);
        if (b->dh0)
            memcpy(b->dh0 + n * H, dh, sizeof(float) * (size_t)H);
        if (b->dc0 && cell == RNN__CELL_LSTM)
            memcpy(b->dc0 + n * H, dc, sizeof(float) * (size_t)H);
    }
    rnn__free(dp);
    rnn__free(dh);
    rnn__free(dx1);
    rnn__free(wbuf);
    return RNN_OK;
}
