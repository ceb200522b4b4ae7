/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Probes of raw oneDNN behaviour behind the workarounds in onednn_rnn.c (the
 * "traps" of shared/notes/onednn-2.6.md), run on whatever oneDNN the build
 * links. Not part of librnn: compiled into tools/onednn_traps only, which
 * prints the findings (docs/building.md records them for 2.6 and 3.7).
 *
 *  1. NULL src_iter: backward with src_iter (and src_iter_c) omitted, against
 *     an explicit zero src_iter: the largest relative difference of
 *     diff_weights_iter (2.6: wrong, an off-by-one in the library).
 *  2. Thread affinity: a primitive created in one thread with the library
 *     (default) scratchpad mode, executed in another (2.6 on Debian: crash).
 *     Run by the caller in a child process.
 *  3. Accumulation: backward twice without zeroing the diff weights: the
 *     ratio of the second result to the first (2 = accumulate, 1 = overwrite).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backend/onednn_internal.h"
#include "backend/onednn_probe.h"

enum { T = 5, N = 3, I = 4, H = 6 };

typedef struct probe {
    rnn__dnnl_ctx *ctx;
    int cell, G;
    rnn__md sl, dl, st, wl, wi, b, ws, scratch, bwl, bwi, bscratch;
    dnnl_primitive_desc_t fpd, bpd;
    dnnl_primitive_t fwd, bwd;
    float *x, *wx, *wh, *bias, *y, *hT, *cT, *h0, *c0, *dy, *dhT, *dx, *dh0, *dc0, *dwx, *dwh, *db;
    void *wsbuf, *sbuf, *bsbuf, *bwx, *bwh; /* bwx, bwh: weights in the backward's layout */
} probe;

static float *arr(size_t n, unsigned *seed)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    for (size_t i = 0; p && seed && i < n; i++) {
        *seed = *seed * 1103515245u + 12345u;
        p[i] = (float)((*seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

static void probe_free(probe *p)
{
    if (p->fwd)
        dnnl_primitive_destroy(p->fwd);
    if (p->bwd)
        dnnl_primitive_destroy(p->bwd);
    if (p->fpd)
        dnnl_primitive_desc_destroy(p->fpd);
    if (p->bpd)
        dnnl_primitive_desc_destroy(p->bpd);
    rnn__md *mds[] = {&p->sl, &p->dl,      &p->st,  &p->wl,  &p->wi,      &p->b,
                      &p->ws, &p->scratch, &p->bwl, &p->bwi, &p->bscratch};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++)
        rnn__md_free(mds[i]);
    float *f[] = {p->x,  p->wx, p->wh,  p->bias, p->y,   p->hT,  p->cT,  p->h0, p->c0,
                  p->dy, p->dhT, p->dx, p->dh0,  p->dc0, p->dwx, p->dwh, p->db};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        free(f[i]);
    free(p->wsbuf);
    free(p->sbuf);
    free(p->bsbuf);
    free(p->bwx);
    free(p->bwh);
    rnn__dnnl_ctx_destroy(p->ctx);
    memset(p, 0, sizeof *p);
}

/* *dst = src (described by from) in the layout to, in a new buffer. */
static rnn_status reorder_into(probe *p, rnn__cmd from, const float *src, rnn__cmd to, void **dst)
{
    rnn_status st = RNN_OK;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    *dst = calloc(1, rnn__md_size(to) + 64);
    if (!*dst)
        return RNN__NOMEM(rnn__md_size(to));
    RNN__DNNL(dnnl_reorder_primitive_desc_create(&rpd, from, p->ctx->engine, to, p->ctx->engine,
                                                 NULL));
    RNN__DNNL(dnnl_primitive_create(&r, rpd));
    rnn__dnnl_arg a[2] = {{DNNL_ARG_FROM, from, (void *)src}, {DNNL_ARG_TO, to, *dst}};
    st = rnn__dnnl_exec(p->ctx, r, a, 2);
fail:
    if (r)
        dnnl_primitive_destroy(r);
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    return st;
}

/* Primitives for one cell; null_iter: the descriptors omit src_iter(_c);
 * user_scratch: user scratchpad mode (else the library's). */
static rnn_status probe_init(probe *p, int cell, int null_iter, int user_scratch)
{
    rnn_status st = RNN_OK;
    dnnl_primitive_attr_t attr = NULL;
    memset(p, 0, sizeof *p);
    p->cell = cell;
    p->G = rnn__cell_gates((rnn__cell)cell);
    const int lstm = cell == RNN__CELL_LSTM, G = p->G, Gb = rnn__cell_bias_gates((rnn__cell)cell);
    if ((st = rnn__dnnl_ctx_create(&p->ctx)))
        return st;
    dnnl_dims_t x_d = {T, N, I}, y_d = {T, N, H}, s_d = {1, 1, N, H};
    dnnl_dims_t wl_d = {1, 1, I, G, H}, wi_d = {1, 1, H, G, H}, b_d = {1, 1, Gb, H};
    RNN__DNNL(rnn__md_tag(&p->sl, 3, x_d, dnnl_tnc));
    RNN__DNNL(rnn__md_tag(&p->dl, 3, y_d, dnnl_tnc));
    RNN__DNNL(rnn__md_tag(&p->st, 4, s_d, dnnl_ldnc));
    RNN__DNNL(rnn__md_tag(&p->wl, 5, wl_d, dnnl_ldigo));
    RNN__DNNL(rnn__md_tag(&p->wi, 5, wi_d, dnnl_ldigo));
    RNN__DNNL(rnn__md_tag(&p->b, 4, b_d, dnnl_ldgo));
    RNN__DNNL(dnnl_primitive_attr_create(&attr));
    if (user_scratch)
        RNN__DNNL(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    rnn__cmd sti = null_iter ? NULL : RNN__CMD(p->st);
    rnn__rnn_mds d = {RNN__CMD(p->sl), sti, lstm ? sti : NULL, RNN__CMD(p->wl),
                      RNN__CMD(p->wi), RNN__CMD(p->b), RNN__CMD(p->dl), RNN__CMD(p->st),
                      lstm ? RNN__CMD(p->st) : NULL};
    /* Forward: weights as given (ldigo, which the forward accepts); the
     * backward chooses its weights layout (format any; it refuses ldigo) and
     * gets the same weights reordered into it. Diff weights: ldigo. */
    RNN__DNNL(rnn__dnnl_rnn_pd_create(&p->fpd, p->ctx->engine, cell, dnnl_eltwise_tanh,
                                      dnnl_forward_training, &d, NULL, NULL, attr));
    RNN__DNNL(rnn__md_tag(&p->bwl, 5, wl_d, dnnl_format_tag_any));
    RNN__DNNL(rnn__md_tag(&p->bwi, 5, wi_d, dnnl_format_tag_any));
    rnn__rnn_mds db = d;
    db.weights_layer = RNN__CMD(p->bwl);
    db.weights_iter = RNN__CMD(p->bwi);
    rnn__rnn_mds g = d; /* diff_src_iter(_c) omitted with src_iter(_c) */
    RNN__DNNL(rnn__dnnl_rnn_pd_create(&p->bpd, p->ctx->engine, cell, dnnl_eltwise_tanh,
                                      dnnl_backward, &db, &g, p->fpd, attr));
    RNN__DNNL(rnn__md_query(&p->ws, p->fpd, dnnl_query_workspace_md, 0));
    RNN__DNNL(rnn__md_query(&p->scratch, p->fpd, dnnl_query_scratchpad_md, 0));
    RNN__DNNL(rnn__md_query(&p->bscratch, p->bpd, dnnl_query_scratchpad_md, 0));
    RNN__DNNL(rnn__md_query(&p->bwl, p->bpd, dnnl_query_weights_md, 0));
    RNN__DNNL(rnn__md_query(&p->bwi, p->bpd, dnnl_query_weights_md, 1));
    RNN__DNNL(dnnl_primitive_create(&p->fwd, p->fpd));
    RNN__DNNL(dnnl_primitive_create(&p->bwd, p->bpd));
    unsigned seed = 11;
    p->x = arr(T * N * I, &seed), p->wx = arr(I * G * H, &seed), p->wh = arr(H * G * H, &seed);
    p->bias = arr((size_t)(Gb * H), &seed), p->dy = arr(T * N * H, &seed);
    p->y = arr(T * N * H, NULL), p->hT = arr(N * H, NULL), p->cT = arr(N * H, NULL);
    p->h0 = arr(N * H, NULL), p->dhT = arr(N * H, NULL), p->c0 = arr(N * H, NULL), p->dx = arr(T * N * I, NULL);
    p->dh0 = arr(N * H, NULL), p->dc0 = arr(N * H, NULL), p->dwx = arr(I * G * H, NULL);
    p->dwh = arr(H * G * H, NULL), p->db = arr((size_t)(Gb * H), NULL);
    p->wsbuf = calloc(1, rnn__md_size(RNN__CMD(p->ws)) + 64);
    p->sbuf = calloc(1, rnn__md_size(RNN__CMD(p->scratch)) + 64);
    p->bsbuf = calloc(1, rnn__md_size(RNN__CMD(p->bscratch)) + 64);
    if (!p->x || !p->wx || !p->wh || !p->bias || !p->dy || !p->y || !p->hT || !p->cT ||
        !p->h0 || !p->dhT || !p->c0 || !p->dx || !p->dh0 || !p->dc0 || !p->dwx || !p->dwh ||
        !p->db || !p->wsbuf || !p->sbuf || !p->bsbuf) {
        st = RNN__NOMEM(0);
        goto fail;
    }
    if ((st = reorder_into(p, RNN__CMD(p->wl), p->wx, RNN__CMD(p->bwl), &p->bwx)) ||
        (st = reorder_into(p, RNN__CMD(p->wi), p->wh, RNN__CMD(p->bwi), &p->bwh)))
        goto fail;
fail:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return st;
}

static rnn_status run_fwd(probe *p, int null_iter)
{
    const int lstm = p->cell == RNN__CELL_LSTM;
    rnn__dnnl_arg a[RNN__DNNL_MAX_ARGS];
    int n = 0;
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_SRC_LAYER, RNN__CMD(p->sl), p->x};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_LAYER, RNN__CMD(p->wl), p->wx};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_ITER, RNN__CMD(p->wi), p->wh};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_BIAS, RNN__CMD(p->b), p->bias};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DST_LAYER, RNN__CMD(p->dl), p->y};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER, RNN__CMD(p->st), p->hT};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_WORKSPACE, RNN__CMD(p->ws), p->wsbuf};
    if (rnn__md_size(RNN__CMD(p->scratch)))
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_SCRATCHPAD, RNN__CMD(p->scratch), p->sbuf};
    if (!null_iter)
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER, RNN__CMD(p->st), p->h0};
    if (lstm) {
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER_C, RNN__CMD(p->st), p->cT};
        if (!null_iter)
            a[n++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER_C, RNN__CMD(p->st), p->c0};
    }
    return rnn__dnnl_exec(p->ctx, p->fwd, a, n);
}

/* Backward (the forward must have run); diff weights as the primitive left
 * them in p->dwx, dwh, db (ldigo). */
static rnn_status run_bwd(probe *p, int null_iter)
{
    const int lstm = p->cell == RNN__CELL_LSTM;
    rnn__dnnl_arg a[RNN__DNNL_MAX_ARGS];
    int n = 0;
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_SRC_LAYER, RNN__CMD(p->sl), p->x};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_LAYER, RNN__CMD(p->bwl), p->bwx};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_ITER, RNN__CMD(p->bwi), p->bwh};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_BIAS, RNN__CMD(p->b), p->bias};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DST_LAYER, RNN__CMD(p->dl), p->y};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER, RNN__CMD(p->st), p->hT};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_WORKSPACE, RNN__CMD(p->ws), p->wsbuf};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_LAYER, RNN__CMD(p->sl), p->dx};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_WEIGHTS_LAYER, RNN__CMD(p->wl), p->dwx};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_WEIGHTS_ITER, RNN__CMD(p->wi), p->dwh};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_BIAS, RNN__CMD(p->b), p->db};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_LAYER, RNN__CMD(p->dl), p->dy};
    a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_ITER, RNN__CMD(p->st), p->dhT};
    if (rnn__md_size(RNN__CMD(p->bscratch)))
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_SCRATCHPAD, RNN__CMD(p->bscratch), p->bsbuf};
    if (!null_iter) {
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER, RNN__CMD(p->st), p->h0};
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_ITER, RNN__CMD(p->st), p->dh0};
    }
    if (lstm) {
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER_C, RNN__CMD(p->st), p->cT};
        a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_ITER_C, RNN__CMD(p->st), p->dhT};
        if (!null_iter) {
            a[n++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER_C, RNN__CMD(p->st), p->c0};
            a[n++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_ITER_C, RNN__CMD(p->st), p->dc0};
        }
    }
    return rnn__dnnl_exec(p->ctx, p->bwd, a, n);
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return m > 0 ? d / m : d;
}

rnn_status rnn__dnnl_probe_null_src_iter(int cell, double *rel_diff)
{
    probe z, u;
    rnn_status st;
    *rel_diff = -1;
    if ((st = probe_init(&z, cell, 0, 1)) || (st = run_fwd(&z, 0)) || (st = run_bwd(&z, 0)))
        goto out_z;
    if ((st = probe_init(&u, cell, 1, 1)) || (st = run_fwd(&u, 1)) || (st = run_bwd(&u, 1)))
        goto out_u;
    *rel_diff = max_rel(u.dwh, z.dwh, (size_t)(H * z.G * H));
out_u:
    probe_free(&u);
out_z:
    probe_free(&z);
    return st;
}

rnn_status rnn__dnnl_probe_accumulation(int cell, double *ratio)
{
    probe p;
    rnn_status st;
    *ratio = -1;
    if ((st = probe_init(&p, cell, 0, 1)) || (st = run_fwd(&p, 0)) || (st = run_bwd(&p, 0)))
        goto out;
    size_t n = (size_t)(H * p.G * H);
    float *once = malloc(n * sizeof(float));
    if (!once) {
        st = RNN__NOMEM(n * sizeof(float));
        goto out;
    }
    memcpy(once, p.dwh, n * sizeof(float));
    if (!(st = run_bwd(&p, 0))) {
        double num = 0, den = 0;
        for (size_t i = 0; i < n; i++)
            num += (double)p.dwh[i] * once[i], den += (double)once[i] * once[i];
        *ratio = den > 0 ? num / den : 0;
    }
    free(once);
out:
    probe_free(&p);
    return st;
}

typedef struct job {
    probe *p;
    rnn_status st;
} job;

static void *job_run(void *arg)
{
    job *j = arg;
    j->st = run_fwd(j->p, 0);
    if (!j->st)
        j->st = run_bwd(j->p, 0);
    return NULL;
}

rnn_status rnn__dnnl_probe_other_thread(int cell, int user_scratchpad)
{
    probe p;
    rnn_status st = probe_init(&p, cell, 0, user_scratchpad);
    if (!st) {
        job j = {&p, RNN_OK};
        pthread_t t;
        if (pthread_create(&t, NULL, job_run, &j) != 0)
            st = RNN__ERR(RNN_ERR_INTERNAL, "pthread_create failed");
        else {
            pthread_join(t, NULL);
            st = j.st;
        }
    }
    probe_free(&p);
    return st;
}
