/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oneDNN recurrent kernels (one layer, one direction) behind backend.h.
 *
 * - One left-to-right primitive family per kernel. Right-to-left runs each
 *   sample's valid prefix reversed (reverse_sequence) through it.
 * - Variable lengths (oneDNN has none): samples are sorted by length,
 *   descending; time is cut at every distinct length into segments; segment
 *   k runs on the active prefix of N_k samples through strided views of the
 *   padded time-major buffers; its src_iter is a prefix of the previous
 *   segment's dst_iter; a sample's final state is read from the dst_iter of
 *   the segment where it ends. Backward walks the segments in reverse,
 *   feeding diff_dst_iter from the next segment's diff_src_iter and from the
 *   state gradients of samples that end there. Uniform lengths are one
 *   segment with no copies (left-to-right).
 * - Primitives are created once per (kind, T_k, N_k, N) and cached; weights
 *   are reordered from the canonical ldigo layout into each primitive's
 *   preferred layout (format_tag any) only when their version changes.
 * - Traps of Debian's oneDNN 2.6 (shared/notes/onednn-2.6.md): an explicit
 *   zero src_iter is always passed (a NULL one corrupts diff_weights_iter);
 *   scratchpads are user-mode (primitives may run on another thread); diff
 *   weights accumulate, which is exactly this interface's contract. The same
 *   code runs on oneDNN 3.x (backend/onednn_compat.c; docs/building.md says
 *   which traps remain there).
 */
#include <string.h>

#include "backend/onednn_internal.h"

enum { K_FWD_TRAIN = 0, K_FWD_INFER = 1, K_BWD = 2 };

typedef struct prim_entry {
    struct prim_entry *next;
    int kind;
    int64_t T, N, Ntot;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    rnn__md src_layer, dst_layer, wl, wi, ws, scratch;
    rnn__md state; /* src_iter, dst_iter and the _c ones: {1, 1, N, H} ldnc */
} prim_entry;

/* A reordered copy of a canonical weight array in some layout. */
typedef struct wslot {
    struct wslot *next;
    int which; /* 0 layer, 1 iter */
    rnn__md md;
    float *buf;
    const float *src;
    uint64_t version;
    int valid;
    dnnl_primitive_t reorder;
} wslot;

typedef struct seg {
    int64_t t0, T, N; /* time offset, length, active samples */
    float *ws;        /* workspace of this segment's training forward */
    size_t ws_bytes;
    rnn__fbuf h, c; /* dst_iter, dst_iter_c [N][H] */
} seg;

struct rnn__dnnl_rnn {
    rnn__dnnl_ctx *ctx;
    rnn__rnn_shape s;
    int G, Gb;
    dnnl_alg_kind_t act;
    prim_entry *prims;
    wslot *slots;
    rnn__md canon_wl, canon_wi, canon_bias;
    void *scratch;
    size_t scratch_bytes;
    /* Plan of the last forward. */
    int64_t T, N;
    int gathered, trained;
    int64_t *perm;   /* [N]: sorted position -> sample */
    int32_t *slen;   /* [N]: sorted lengths */
    seg *segs;       /* up to T segments */
    int nseg;
    /* Work buffers, grown as needed. */
    rnn__fbuf xs, ys, h0, c0, dys, dxs, ddi, ddic, dsi, dsic, gw[3];
};

/* ------------------------------------------------------------ helpers */

static void prim_free(prim_entry *e)
{
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    if (e->pd)
        dnnl_primitive_desc_destroy(e->pd);
    rnn__md *mds[] = {&e->src_layer, &e->dst_layer, &e->state,  &e->wl,
                      &e->wi,        &e->ws,        &e->scratch};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++)
        rnn__md_free(mds[i]);
    rnn__free(e);
}

static void slot_free(wslot *w)
{
    if (w->reorder)
        dnnl_primitive_destroy(w->reorder);
    rnn__md_free(&w->md);
    rnn__free(w->buf);
    rnn__free(w);
}

static int is_lstm(const rnn__dnnl_rnn *k)
{
    return k->s.cell == RNN__CELL_LSTM;
}

/* Time-major view {T, N, C} of the first N rows of a [*][Ntot][C] buffer. */
static dnnl_status_t init_view(rnn__md *md, int64_t T, int64_t N, int64_t Ntot, int64_t C)
{
    dnnl_dims_t dims = {T, N, C}, strides = {Ntot * C, C, 1};
    return rnn__md_strides(md, 3, dims, strides);
}

/* ------------------------------------------------------------ primitives */

/* The primitive descriptor of e (kind, T, N, Ntot set) and the descriptors
 * of its data arguments; weights in format any (the primitive chooses). */
static rnn_status make_pd(rnn__dnnl_rnn *k, prim_entry *e, dnnl_primitive_attr_t attr,
                          const_dnnl_primitive_desc_t hint)
{
    rnn_status st = RNN_OK;
    const int64_t I = k->s.I, H = k->s.H, G = k->G;
    dnnl_dims_t wl_d = {1, 1, I, G, H}, wi_d = {1, 1, H, G, H}, st_d = {1, 1, e->N, H};
    rnn__md wl = {0}, wi = {0};
    RNN__DNNL(init_view(&e->src_layer, e->T, e->N, e->Ntot, I));
    RNN__DNNL(init_view(&e->dst_layer, e->T, e->N, e->Ntot, H));
    RNN__DNNL(rnn__md_tag(&e->state, 4, st_d, dnnl_ldnc));
    RNN__DNNL(rnn__md_tag(&wl, 5, wl_d, dnnl_format_tag_any));
    RNN__DNNL(rnn__md_tag(&wi, 5, wi_d, dnnl_format_tag_any));
    const int lstm = is_lstm(k);
    const rnn__rnn_mds d = {
        .src_layer = RNN__CMD(e->src_layer), .src_iter = RNN__CMD(e->state),
        .src_iter_c = lstm ? RNN__CMD(e->state) : NULL, .weights_layer = RNN__CMD(wl),
        .weights_iter = RNN__CMD(wi), .bias = RNN__CMD(k->canon_bias),
        .dst_layer = RNN__CMD(e->dst_layer), .dst_iter = RNN__CMD(e->state),
        .dst_iter_c = lstm ? RNN__CMD(e->state) : NULL};
    /* Gradients: the data's layouts; weight gradients in the canonical ldigo
     * layout, accumulated in place into the caller's buffers. */
    rnn__rnn_mds g = d;
    g.weights_layer = RNN__CMD(k->canon_wl);
    g.weights_iter = RNN__CMD(k->canon_wi);
    dnnl_prop_kind_t prop = e->kind == K_BWD         ? dnnl_backward
                            : e->kind == K_FWD_TRAIN ? dnnl_forward_training
                                                     : dnnl_forward_inference;
    RNN__DNNL(rnn__dnnl_rnn_pd_create(&e->pd, k->ctx->engine, k->s.cell, k->act, prop, &d,
                                      e->kind == K_BWD ? &g : NULL, hint, attr));
    RNN__DNNL(rnn__md_query(&e->wl, e->pd, dnnl_query_weights_md, 0));
    RNN__DNNL(rnn__md_query(&e->wi, e->pd, dnnl_query_weights_md, 1));
    RNN__DNNL(rnn__md_query(&e->ws, e->pd, dnnl_query_workspace_md, 0));
    RNN__DNNL(rnn__md_query(&e->scratch, e->pd, dnnl_query_scratchpad_md, 0));
fail:
    rnn__md_free(&wl);
    rnn__md_free(&wi);
    return st;
}

static prim_entry *find_prim(rnn__dnnl_rnn *k, int kind, int64_t T, int64_t N, int64_t Ntot)
{
    for (prim_entry *e = k->prims; e; e = e->next)
        if (e->kind == kind && e->T == T && e->N == N && e->Ntot == Ntot)
            return e;
    return NULL;
}

static rnn_status get_prim(rnn__dnnl_rnn *k, int kind, int64_t T, int64_t N, int64_t Ntot,
                           prim_entry **out)
{
    prim_entry *e = find_prim(k, kind, T, N, Ntot);
    if (e) {
        *out = e;
        return RNN_OK;
    }
    rnn_status st = RNN_OK;
    prim_entry *hint = NULL;
    if (kind == K_BWD && (st = get_prim(k, K_FWD_TRAIN, T, N, Ntot, &hint)))
        return st;
    dnnl_primitive_attr_t attr = NULL;
    e = rnn__calloc(1, sizeof *e);
    if (!e)
        return RNN__NOMEM(sizeof *e);
    e->kind = kind, e->T = T, e->N = N, e->Ntot = Ntot;
    RNN__DNNL(dnnl_primitive_attr_create(&attr));
    RNN__DNNL(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if ((st = make_pd(k, e, attr, hint ? hint->pd : NULL)))
        goto fail;
    size_t sb = rnn__md_size(RNN__CMD(e->scratch));
    if (sb > k->scratch_bytes) {
        void *p = rnn__malloc(sb);
        if (!p) {
            st = RNN__NOMEM(sb);
            goto fail;
        }
        rnn__free(k->scratch);
        k->scratch = p;
        k->scratch_bytes = sb;
    }
    RNN__DNNL(dnnl_primitive_create(&e->prim, e->pd));
    dnnl_primitive_attr_destroy(attr);
    if (rnn__log_enabled(RNN_LOG_DEBUG)) {
        const char *impl = NULL;
        dnnl_primitive_desc_query(e->pd, dnnl_query_impl_info_str, 0, &impl);
        rnn__log(RNN_LOG_DEBUG, "oneDNN rnn primitive kind %d T=%lld N=%lld: %s", kind,
                 (long long)T, (long long)N, impl ? impl : "?");
    }
    e->next = k->prims;
    k->prims = e;
    *out = e;
    return RNN_OK;
fail:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    prim_free(e);
    return st;
}

/* Weights in the layout md wants (which 0: layer, 1: iter). */
static rnn_status get_weights(rnn__dnnl_rnn *k, int which, rnn__cmd md, const float *src,
                              uint64_t version, const float **out)
{
    rnn__cmd canon = which ? RNN__CMD(k->canon_wi) : RNN__CMD(k->canon_wl);
    if (rnn__md_equal(md, canon)) {
        *out = src;
        return RNN_OK;
    }
    wslot *w = k->slots;
    while (w && !(w->which == which && rnn__md_equal(RNN__CMD(w->md), md)))
        w = w->next;
    rnn_status st = RNN_OK;
    dnnl_primitive_desc_t rpd = NULL;
    if (!w) {
        w = rnn__calloc(1, sizeof *w);
        if (!w)
            return RNN__NOMEM(sizeof *w);
        w->which = which;
        size_t bytes = rnn__md_size(md);
        w->buf = rnn__malloc(bytes);
        if (!w->buf) {
            rnn__free(w);
            return RNN__NOMEM(bytes);
        }
        RNN__DNNL(rnn__md_copy(&w->md, md));
        RNN__DNNL(dnnl_reorder_primitive_desc_create(&rpd, canon, k->ctx->engine, md,
                                                     k->ctx->engine, NULL));
        RNN__DNNL(dnnl_primitive_create(&w->reorder, rpd));
        dnnl_primitive_desc_destroy(rpd);
        rpd = NULL;
        w->next = k->slots;
        k->slots = w;
    }
    if (!w->valid || w->src != src || w->version != version) {
        rnn__dnnl_arg a[2] = {{DNNL_ARG_FROM, canon, (void *)src}, {DNNL_ARG_TO, md, w->buf}};
        if ((st = rnn__dnnl_exec(k->ctx, w->reorder, a, 2)))
            return st;
        w->src = src;
        w->version = version;
        w->valid = 1;
    }
    *out = w->buf;
    return RNN_OK;
fail:
    if (rpd)
        dnnl_primitive_desc_destroy(rpd);
    if (w && !w->reorder)
        slot_free(w);
    return st;
}

/* ------------------------------------------------------------ lifecycle */

rnn_status rnn__dnnl_rnn_create(rnn__dnnl_ctx *ctx, const rnn__rnn_shape *s, rnn__dnnl_rnn **out)
{
    *out = NULL;
    rnn_status st = RNN_OK;
    rnn__dnnl_rnn *k = rnn__calloc(1, sizeof *k);
    if (!k)
        return RNN__NOMEM(sizeof *k);
    k->ctx = ctx;
    k->s = *s;
    k->G = rnn__cell_gates(s->cell);
    k->Gb = rnn__cell_bias_gates(s->cell);
    k->act = s->cell == RNN__CELL_RNN_RELU ? dnnl_eltwise_relu : dnnl_eltwise_tanh;
    dnnl_dims_t wl_d = {1, 1, s->I, k->G, s->H}, wi_d = {1, 1, s->H, k->G, s->H},
                b_d = {1, 1, k->Gb, s->H};
    RNN__DNNL(rnn__md_tag(&k->canon_wl, 5, wl_d, dnnl_ldigo));
    RNN__DNNL(rnn__md_tag(&k->canon_wi, 5, wi_d, dnnl_ldigo));
    RNN__DNNL(rnn__md_tag(&k->canon_bias, 4, b_d, dnnl_ldgo));
    k->perm = rnn__calloc((size_t)s->N, sizeof *k->perm);
    k->slen = rnn__calloc((size_t)s->N, sizeof *k->slen);
    k->segs = rnn__calloc((size_t)s->T, sizeof *k->segs);
    if (!k->perm || !k->slen || !k->segs) {
        st = RNN__NOMEM((size_t)s->N * 12 + (size_t)s->T * sizeof(seg));
        goto fail;
    }
    *out = k;
    return RNN_OK;
fail:
    rnn__dnnl_rnn_destroy(k);
    return st;
}

void rnn__dnnl_rnn_destroy(rnn__dnnl_rnn *k)
{
    if (!k)
        return;
    while (k->prims) {
        prim_entry *e = k->prims;
        k->prims = e->next;
        prim_free(e);
    }
    while (k->slots) {
        wslot *w = k->slots;
        k->slots = w->next;
        slot_free(w);
    }
    rnn__md_free(&k->canon_wl);
    rnn__md_free(&k->canon_wi);
    rnn__md_free(&k->canon_bias);
    if (k->segs)
        for (int64_t i = 0; i < k->s.T; i++) {
            rnn__free(k->segs[i].ws);
            rnn__fbuf_free(&k->segs[i].h);
            rnn__fbuf_free(&k->segs[i].c);
        }
    rnn__fbuf *bufs[] = {&k->xs,  &k->ys,  &k->h0,    &k->c0,    &k->dys,   &k->dxs,  &k->ddi,
                         &k->ddic, &k->dsi, &k->dsic, &k->gw[0], &k->gw[1], &k->gw[2]};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        rnn__fbuf_free(bufs[i]);
    rnn__free(k->scratch);
    rnn__free(k->perm);
    rnn__free(k->slen);
    rnn__free(k->segs);
    rnn__free(k);
}

/* ------------------------------------------------------------ plan */

/* Sorts samples by length (descending, stable) and cuts time into segments. */
static void make_plan(rnn__dnnl_rnn *k, const rnn__rnn_fwd *f)
{
    const int64_t N = f->N, T = f->T;
    k->T = T;
    k->N = N;
    k->gathered = f->lengths != NULL || k->s.reverse;
    for (int64_t n = 0; n < N; n++) {
        k->perm[n] = n;
        k->slen[n] = f->lengths ? f->lengths[n] : (int32_t)T;
    }
    /* Insertion sort is fine for batch sizes (and stable). */
    for (int64_t i = 1; i < N; i++) {
        int64_t p = k->perm[i];
        int32_t l = k->slen[i];
        int64_t j = i - 1;
        while (j >= 0 && k->slen[j] < l) {
            k->perm[j + 1] = k->perm[j];
            k->slen[j + 1] = k->slen[j];
            j--;
        }
        k->perm[j + 1] = p;
        k->slen[j + 1] = l;
    }
    /* Segments: boundaries at the distinct lengths, ascending. */
    int nseg = 0;
    int64_t t0 = 0, active = N;
    while (t0 < k->slen[0]) {
        while (active > 0 && k->slen[active - 1] <= t0)
            active--;
        int64_t t1 = k->slen[active - 1]; /* shortest active sample ends here */
        k->segs[nseg].t0 = t0;
        k->segs[nseg].T = t1 - t0;
        k->segs[nseg].N = active;
        nseg++;
        t0 = t1;
    }
    k->nseg = nseg;
}

/* ------------------------------------------------------------ forward */

/* Moves the rows of C floats between the caller's time-major layout (sample n, step t) and
 * the sorted one the primitives run on (sample rank j = sorted position of n, step t, each
 * sample's own steps reversed when the kernel runs right to left): to_sorted copies the
 * caller's src into the sorted dst, else the sorted src back into the caller's dst. Only the
 * first L steps of each sample move; the caller zeroes what must be zero past them. */
static void permute_steps(const rnn__dnnl_rnn *k, int64_t N, int64_t C, const float *src,
                          float *dst, int to_sorted)
{
    for (int64_t j = 0; j < N; j++) {
        int64_t n = k->perm[j], L = k->slen[j];
        for (int64_t t = 0; t < L; t++) {
            int64_t u = k->s.reverse ? L - 1 - t : t; /* the caller's step */
            const int64_t sorted = (t * N + j) * C, caller = (u * N + n) * C;
            memcpy(dst + (to_sorted ? sorted : caller), src + (to_sorted ? caller : sorted),
                   sizeof(float) * (size_t)C);
        }
    }
}

rnn_status rnn__dnnl_rnn_forward(rnn__dnnl_rnn *k, const rnn__rnn_weights *w, const rnn__rnn_fwd *f)
{
    rnn_status st; /* arguments were checked by rnn__rnn_forward/_backward */
    k->trained = 0;
    make_plan(k, f);
    const int64_t N = f->N, T = f->T, I = k->s.I, H = k->s.H;
    const int kind = f->training ? K_FWD_TRAIN : K_FWD_INFER;
    const int lstm = is_lstm(k);
    const float *xs = f->x;
    float *ys = f->y;
    if (k->gathered) {
        if ((st = rnn__fbuf_ensure(&k->xs, (size_t)(T * N * I), 0)) ||
            (st = rnn__fbuf_ensure(&k->ys, (size_t)(T * N * H), 0)))
            return st;
        permute_steps(k, N, I, f->x, k->xs.p, 1);
        xs = k->xs.p;
        ys = k->ys.p;
    }
    /* Initial states in sorted order; explicit zeros when not given (trap 1). */
    if ((st = rnn__fbuf_ensure(&k->h0, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->c0, (size_t)(N * H), 0)))
        return st;
    for (int64_t j = 0; j < N; j++) {
        int64_t n = k->perm[j];
        for (int64_t h = 0; h < H; h++) {
            k->h0.p[j * H + h] = f->h0 ? f->h0[n * H + h] : 0.0f;
            k->c0.p[j * H + h] = lstm && f->c0 ? f->c0[n * H + h] : 0.0f;
        }
    }
    const float *hin = k->h0.p, *cin = k->c0.p;
    for (int s = 0; s < k->nseg; s++) {
        seg *g = &k->segs[s];
        prim_entry *e;
        if ((st = get_prim(k, kind, g->T, g->N, N, &e)))
            return st;
        const float *wl, *wi;
        if ((st = get_weights(k, 0, RNN__CMD(e->wl), w->wx, w->version, &wl)) ||
            (st = get_weights(k, 1, RNN__CMD(e->wi), w->wh, w->version, &wi)))
            return st;
        if ((st = rnn__fbuf_ensure(&g->h, (size_t)(g->N * H), 0)) ||
            (st = rnn__fbuf_ensure(&g->c, (size_t)(g->N * H), 0)))
            return st;
        size_t wsb = f->training ? rnn__md_size(RNN__CMD(e->ws)) : 0;
        if (wsb > g->ws_bytes) {
            rnn__free(g->ws);
            g->ws = rnn__malloc(wsb);
            g->ws_bytes = g->ws ? wsb : 0;
            if (!g->ws)
                return RNN__NOMEM(wsb);
        }
        rnn__dnnl_arg a[RNN__DNNL_MAX_ARGS];
        int na = 0;
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_LAYER, RNN__CMD(e->src_layer),
                                  (void *)(xs + g->t0 * N * I)};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER, RNN__CMD(e->state), (void *)hin};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_LAYER, RNN__CMD(e->wl), (void *)wl};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_ITER, RNN__CMD(e->wi), (void *)wi};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_BIAS, RNN__CMD(k->canon_bias), (void *)w->b};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_LAYER, RNN__CMD(e->dst_layer), ys + g->t0 * N * H};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER, RNN__CMD(e->state), g->h.p};
        if (lstm) {
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER_C, RNN__CMD(e->state), (void *)cin};
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER_C, RNN__CMD(e->state), g->c.p};
        }
        if (f->training)
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_WORKSPACE, RNN__CMD(e->ws), g->ws};
        if (rnn__md_size(RNN__CMD(e->scratch)))
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_SCRATCHPAD, RNN__CMD(e->scratch), k->scratch};
        if ((st = rnn__dnnl_exec(k->ctx, e->prim, a, na)))
            return st;
        /* Samples ending with this segment: rows [N_next, N_k). */
        int64_t nnext = s + 1 < k->nseg ? k->segs[s + 1].N : 0;
        for (int64_t j = nnext; j < g->N; j++) {
            int64_t n = k->perm[j];
            if (f->hT)
                memcpy(f->hT + n * H, g->h.p + j * H, sizeof(float) * (size_t)H);
            if (f->cT && lstm)
                memcpy(f->cT + n * H, g->c.p + j * H, sizeof(float) * (size_t)H);
        }
        hin = g->h.p;
        cin = g->c.p;
    }
    if (k->gathered) {
        memset(f->y, 0, sizeof(float) * (size_t)(T * N * H));
        permute_steps(k, N, H, ys, f->y, 0);
    }
    k->trained = f->training;
    return RNN_OK;
}

/* ------------------------------------------------------------ backward */

rnn_status rnn__dnnl_rnn_backward(rnn__dnnl_rnn *k, const rnn__rnn_weights *w,
                                  const rnn__rnn_fwd *f, const rnn__rnn_bwd *b)
{
    rnn_status st; /* arguments were checked by rnn__rnn_forward/_backward */
    if (!k->trained || k->T != f->T || k->N != f->N)
        return RNN__ERR(RNN_ERR_STATE, "backward needs a training forward of the same batch first");
    const int64_t N = f->N, T = f->T, I = k->s.I, H = k->s.H, GH = k->G * H;
    const int lstm = is_lstm(k);
    /* Gradient destinations: the caller's (accumulated into, as oneDNN does)
     * or scratch when the caller does not want them. */
    float *dw[3] = {b->dwx, b->dwh, b->db};
    size_t nw[3] = {(size_t)(I * GH), (size_t)(H * GH), (size_t)(k->Gb * H)};
    for (int i = 0; i < 3; i++)
        if (!dw[i]) {
            if ((st = rnn__fbuf_ensure(&k->gw[i], nw[i], 0)))
                return st;
            dw[i] = k->gw[i].p;
        }
    const float *xs = k->gathered ? k->xs.p : f->x, *ys = k->gathered ? k->ys.p : f->y;
    /* Without lengths or reversal (one segment, identity order) the primitive reads the
     * caller's dy and writes the caller's dx directly; otherwise through sorted copies. */
    const int direct_dy = !k->gathered && b->dy, direct_dx = !k->gathered && b->dx;
    if ((!direct_dy && (st = rnn__fbuf_ensure(&k->dys, (size_t)(T * N * H), 0))) ||
        (!direct_dx && (st = rnn__fbuf_ensure(&k->dxs, (size_t)(T * N * I), 0))) ||
        (st = rnn__fbuf_ensure(&k->ddi, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->ddic, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->dsi, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->dsic, (size_t)(N * H), 0)))
        return st;
    const float *dys = direct_dy ? b->dy : k->dys.p;
    float *dxs = direct_dx ? b->dx : k->dxs.p;
    if (!direct_dy) {
        /* dy in sorted (and reversed) order; zero where nothing flows. */
        memset(k->dys.p, 0, sizeof(float) * (size_t)(T * N * H));
        if (b->dy)
            permute_steps(k, N, H, b->dy, k->dys.p, 1);
    }
    /* Segments in reverse. dsi holds the previous (later) segment's
     * diff_src_iter: rows < N_{k+1} feed this segment's diff_dst_iter. */
    for (int s = k->nseg - 1; s >= 0; s--) {
        seg *g = &k->segs[s];
        int64_t nnext = s + 1 < k->nseg ? k->segs[s + 1].N : 0;
        for (int64_t j = 0; j < g->N; j++) {
            float *dh = k->ddi.p + j * H, *dc = k->ddic.p + j * H;
            if (j < nnext) {
                memcpy(dh, k->dsi.p + j * H, sizeof(float) * (size_t)H);
                memcpy(dc, k->dsic.p + j * H, sizeof(float) * (size_t)H);
            } else {
                int64_t n = k->perm[j];
                for (int64_t h = 0; h < H; h++) {
                    dh[h] = b->dhT ? b->dhT[n * H + h] : 0.0f;
                    dc[h] = lstm && b->dcT ? b->dcT[n * H + h] : 0.0f;
                }
            }
        }
        prim_entry *e, *fe;
        if ((st = get_prim(k, K_BWD, g->T, g->N, N, &e)) ||
            (st = get_prim(k, K_FWD_TRAIN, g->T, g->N, N, &fe)))
            return st;
        const float *wl, *wi;
        if ((st = get_weights(k, 0, RNN__CMD(e->wl), w->wx, w->version, &wl)) ||
            (st = get_weights(k, 1, RNN__CMD(e->wi), w->wh, w->version, &wi)))
            return st;
        const float *hin = s > 0 ? k->segs[s - 1].h.p : k->h0.p;
        const float *cin = s > 0 ? k->segs[s - 1].c.p : k->c0.p;
        rnn__dnnl_arg a[RNN__DNNL_MAX_ARGS];
        int na = 0;
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_LAYER, RNN__CMD(e->src_layer), (void *)(xs + g->t0 * N * I)};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER, RNN__CMD(e->state), (void *)hin};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_LAYER, RNN__CMD(e->wl), (void *)wl};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_ITER, RNN__CMD(e->wi), (void *)wi};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_BIAS, RNN__CMD(k->canon_bias), (void *)w->b};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_LAYER, RNN__CMD(e->dst_layer), (void *)(ys + g->t0 * N * H)};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER, RNN__CMD(e->state), g->h.p};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_WORKSPACE, RNN__CMD(fe->ws), g->ws};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_LAYER, RNN__CMD(e->src_layer), dxs + g->t0 * N * I};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_ITER, RNN__CMD(e->state), k->dsi.p};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_WEIGHTS_LAYER, RNN__CMD(k->canon_wl), dw[0]};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_WEIGHTS_ITER, RNN__CMD(k->canon_wi), dw[1]};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_BIAS, RNN__CMD(k->canon_bias), dw[2]};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_LAYER, RNN__CMD(e->dst_layer),
                                  (void *)(dys + g->t0 * N * H)};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_ITER, RNN__CMD(e->state), k->ddi.p};
        if (lstm) {
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER_C, RNN__CMD(e->state), (void *)cin};
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER_C, RNN__CMD(e->state), g->c.p};
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_ITER_C, RNN__CMD(e->state), k->dsic.p};
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_ITER_C, RNN__CMD(e->state), k->ddic.p};
        }
        if (rnn__md_size(RNN__CMD(e->scratch)))
            a[na++] = (rnn__dnnl_arg){DNNL_ARG_SCRATCHPAD, RNN__CMD(e->scratch), k->scratch};
        if ((st = rnn__dnnl_exec(k->ctx, e->prim, a, na)))
            return st;
    }
    /* dsi now holds the gradient of the (sorted) initial states. */
    for (int64_t j = 0; j < N; j++) {
        int64_t n = k->perm[j];
        if (b->dh0)
            memcpy(b->dh0 + n * H, k->dsi.p + j * H, sizeof(float) * (size_t)H);
        if (b->dc0 && lstm)
            memcpy(b->dc0 + n * H, k->dsic.p + j * H, sizeof(float) * (size_t)H);
    }
    if (b->dx && !direct_dx) {
        memset(b->dx, 0, sizeof(float) * (size_t)(T * N * I));
        permute_steps(k, N, I, k->dxs.p, b->dx, 0);
    }
    return RNN_OK;
}
