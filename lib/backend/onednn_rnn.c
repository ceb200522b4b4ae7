/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oneDNN recurrent kernels (one layer, one direction) behind backend.h.
 *
 * - One left-to-right primitive family per kernel. Right-to-left runs each
 *   sample's valid prefix reversed (reverse_sequence) through it.
 * - Variable lengths (oneDNN has none): samples are sorted by length,
 *   descending; segment k runs on a prefix of N_k samples, its T_k x N_k
 *   rows dense in the sorted copies (the segments one after the other, so
 *   the copies hold the rows run, not the padded T x N grid, and each
 *   segment's layer GEMMs can merge over its steps), from a prefix of the
 *   previous segment's dst_iter (onednn_plan.c cuts them). N_k is the count still
 *   running at its start rounded up to RNN__SEG_ROWS (at most N); the ended
 *   samples it carries read zeros, their outputs are dropped and every
 *   gradient entering their extra steps is zero, so none flows out. A
 *   segment ends where N_k would change (and at every distinct length when an
 *   LSTM's c_T is wanted: it is only in dst_iter_c). A final h is the
 *   dst_iter of the segment a sample ends with, else its last output; its
 *   gradient enters as diff_dst_iter or joins diff_dst_layer there. Backward
 *   walks the segments in reverse. Rounding bounds the shapes (N_k takes
 *   N / RNN__SEG_ROWS values) and the segments of a batch; uniform lengths
 *   are one segment with no copies (left-to-right).
 * - Under rnn_set_workspace_limit(), a training batch is also cut into chunks of time sharing
 *   one workspace; backward runs each chunk's forward again first (but the last one's).
 * - Without lengths or reversal, backward reads dy and writes dx (unless it is added to) in
 *   the caller's rows, whatever their layout (the diff_* views are strided); x and y always
 *   go through dense time-major copies when the caller's are not, since their time stride
 *   decides whether oneDNN merges the layer GEMMs over the steps.
 * - Primitives are created once per (kind, T_k, N_k, diff_* strides) and cached;
 *   weights are reordered from the canonical ldigo layout into each primitive's
 *   preferred layout (format_tag any) only when their version changes (onednn_weights.c).
 * - Mixed precision (f->bf16): the primitives take bf16 layer and iteration
 *   data and weights (reordered from the f32 canonical ones, cached by version
 *   beside the f32 copies) and f32 bias, LSTM cell state and every diff_*
 *   tensor (oneDNN's data type table, the same in 2.6 and 3.x). x and h0 are
 *   converted on the way in, y and hT on the way out; the bf16 x and y of a
 *   training forward are kept for its backward. Primitives are cached per
 *   precision, so switching back and forth rebuilds nothing.
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
    rnn__dnnl_cached link; /* first; used: the kernel's clock (forwards so far) */
    int kind, bf16;
    int nthr; /* the thread count it was created for and runs on */
    int64_t T, N, Ntot;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    rnn__md src_layer, dst_layer, wl, wi, ws, scratch;
    rnn__md state; /* src_iter, dst_iter: {1, 1, N, H} ldnc, f32 or bf16 */
    /* f32 always: the gradients' views and states, and LSTM's c (also in bf16) */
    rnn__md gsrc_layer, gdst_layer, gstate;
    rnn__rows gx, gy; /* K_BWD: where diff_src/diff_dst_layer's rows are ({0, 0}: the view) */
} prim_entry;

struct rnn__dnnl_rnn {
    rnn__dnnl_ctx *ctx;
    rnn__rnn_shape s;
    int G, Gb;
    dnnl_alg_kind_t act;
    rnn__dnnl_cached *prims; /* prim_entry; a forward's and its backward's stay (LRU) */
    uint64_t clock;          /* forwards so far */
    rnn__wslot *slots; /* reordered weights (onednn_weights.c) */
    rnn__md canon_wl, canon_wi, canon_bias;
    /* The last training forward's segments' workspaces, one after the other (their sum is
     * at most about one of the whole batch: the segments split its time). */
    void *ws;
    size_t ws_bytes;
    /* recompute (rnn_set_workspace_limit()): ws holds segment ws_seg's, the others run again
     * before their backward, outputs in yr. ws_row_step: at wsr_N rows, precision wsr_bf16. */
    int recompute, ws_seg, wsr_bf16;
    double ws_row_step;
    int64_t wsr_N;
    rnn__seg_plan p; /* of the last forward */
    int trained;
    int bf16; /* precision of the last forward */
    /* Work buffers, grown as needed. In bf16 (mixed precision) the primitives
     * read xb, h0b and write yb and the segments' h in bf16 (two per float of
     * the buffer); c and every gradient stay f32. */
    rnn__fbuf xs, ys, h0, c0, ddi, ddic, dsi, dsic, gw[3], xb, yb, h0b, yr;
};

/* ------------------------------------------------------------ helpers */

static void prim_free(void *entry)
{
    prim_entry *e = entry;
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    if (e->pd)
        dnnl_primitive_desc_destroy(e->pd);
    rnn__md *mds[] = {&e->src_layer, &e->dst_layer,  &e->state,      &e->wl,
                      &e->wi,        &e->ws,         &e->scratch,    &e->gsrc_layer,
                      &e->gdst_layer, &e->gstate};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++)
        rnn__md_free(mds[i]);
    rnn__free(e);
}

static int is_lstm(const rnn__dnnl_rnn *k)
{
    return k->s.cell == RNN__CELL_LSTM;
}

/* Time-major view {T, N, C} of the first N rows of a [*][Ntot][C] buffer, or of the rows
 * that rows say (unless {0, 0}). */
static dnnl_status_t init_view(rnn__md *md, dnnl_data_type_t dt, int64_t T, int64_t N,
                               int64_t Ntot, int64_t C, const rnn__rows *rows)
{
    dnnl_dims_t dims = {T, N, C}, strides = {Ntot * C, C, 1};
    if (rows && (rows->t || rows->n))
        strides[0] = rows->t, strides[1] = rows->n;
    return rnn__md_strides_dt(md, 3, dims, dt, strides);
}

/* p advanced by off elements of esz bytes (4: f32, 2: bf16). */
static void *at(const void *p, int64_t off, size_t esz)
{
    return (char *)(uintptr_t)p + (size_t)off * esz;
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
    /* bf16 (oneDNN's data type table, 2.6 and 3.x alike): layer and iteration
     * data and weights bf16; bias, LSTM's cell state and all diff_* f32. */
    const dnnl_data_type_t dt = e->bf16 ? dnnl_bf16 : dnnl_f32;
    rnn__md wl = {0}, wi = {0};
    rnn__threads_create_begin(); /* created for the count it runs on */
    RNN__DNNL(init_view(&e->src_layer, dt, e->T, e->N, e->Ntot, I, NULL));
    RNN__DNNL(init_view(&e->dst_layer, dt, e->T, e->N, e->Ntot, H, NULL));
    RNN__DNNL(rnn__md_tag_dt(&e->state, 4, st_d, dt, dnnl_ldnc));
    RNN__DNNL(init_view(&e->gsrc_layer, dnnl_f32, e->T, e->N, e->Ntot, I, &e->gx));
    RNN__DNNL(init_view(&e->gdst_layer, dnnl_f32, e->T, e->N, e->Ntot, H, &e->gy));
    RNN__DNNL(rnn__md_tag(&e->gstate, 4, st_d, dnnl_ldnc));
    RNN__DNNL(rnn__md_tag_dt(&wl, 5, wl_d, dt, dnnl_format_tag_any));
    RNN__DNNL(rnn__md_tag_dt(&wi, 5, wi_d, dt, dnnl_format_tag_any));
    const int lstm = is_lstm(k);
    const rnn__rnn_mds d = {
        .src_layer = RNN__CMD(e->src_layer), .src_iter = RNN__CMD(e->state),
        .src_iter_c = lstm ? RNN__CMD(e->gstate) : NULL, .weights_layer = RNN__CMD(wl),
        .weights_iter = RNN__CMD(wi), .bias = RNN__CMD(k->canon_bias),
        .dst_layer = RNN__CMD(e->dst_layer), .dst_iter = RNN__CMD(e->state),
        .dst_iter_c = lstm ? RNN__CMD(e->gstate) : NULL};
    /* Gradients: f32 in the data's layouts; weight gradients in the canonical
     * ldigo layout, accumulated in place into the caller's buffers. */
    const rnn__rnn_mds g = {
        .src_layer = RNN__CMD(e->gsrc_layer), .src_iter = RNN__CMD(e->gstate),
        .src_iter_c = d.src_iter_c, .weights_layer = RNN__CMD(k->canon_wl),
        .weights_iter = RNN__CMD(k->canon_wi), .bias = RNN__CMD(k->canon_bias),
        .dst_layer = RNN__CMD(e->gdst_layer), .dst_iter = RNN__CMD(e->gstate),
        .dst_iter_c = d.dst_iter_c};
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

static int same_rows(const rnn__rows *a, const rnn__rows *b)
{
    return a->t == b->t && a->n == b->n;
}

static prim_entry *find_prim(rnn__dnnl_rnn *k, int kind, int bf16, int64_t T, int64_t N,
                             int64_t Ntot, const rnn__rows *gx, const rnn__rows *gy)
{
    for (rnn__dnnl_cached *p = k->prims; p; p = p->next) {
        prim_entry *e = (prim_entry *)p;
        if (e->kind == kind && e->bf16 == bf16 && e->T == T && e->N == N && e->Ntot == Ntot &&
            e->nthr == rnn__threads_current() && same_rows(&e->gx, gx) &&
            same_rows(&e->gy, gy)) {
            e->link.used = k->clock;
            return e;
        }
    }
    return NULL;
}

/* The primitive of kind for T x N rows of Ntot in the precision of the last forward
 * (k->bf16), made when not cached. A K_BWD one reads diff_dst_layer and writes
 * diff_src_layer where gy and gx say (NULL: the time-major view). */
static rnn_status get_prim_at(rnn__dnnl_rnn *k, int kind, int64_t T, int64_t N, int64_t Ntot,
                              const rnn__rows *gx, const rnn__rows *gy, prim_entry **out)
{
    static const rnn__rows view = {0, 0};
    gx = gx ? gx : &view, gy = gy ? gy : &view;
    prim_entry *e = find_prim(k, kind, k->bf16, T, N, Ntot, gx, gy);
    if (e) {
        *out = e;
        return RNN_OK;
    }
    rnn_status st = RNN_OK;
    prim_entry *hint = NULL;
    if (kind == K_BWD && (st = get_prim_at(k, K_FWD_TRAIN, T, N, Ntot, NULL, NULL, &hint)))
        return st;
    dnnl_primitive_attr_t attr = NULL;
    e = rnn__calloc(1, sizeof *e);
    if (!e)
        return RNN__NOMEM(sizeof *e);
    e->kind = kind, e->bf16 = k->bf16, e->T = T, e->N = N, e->Ntot = Ntot;
    e->gx = *gx, e->gy = *gy;
    e->nthr = rnn__threads_current();
    RNN__DNNL(dnnl_primitive_attr_create(&attr));
    RNN__DNNL(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if ((st = make_pd(k, e, attr, hint ? hint->pd : NULL)))
        goto fail;
    if ((st = rnn__dnnl_scratch_reserve(k->ctx, rnn__md_size(RNN__CMD(e->scratch)))))
        goto fail;
    RNN__DNNL(dnnl_primitive_create(&e->prim, e->pd));
    dnnl_primitive_attr_destroy(attr);
    if (rnn__log_enabled(RNN_LOG_DEBUG)) {
        const char *impl = NULL;
        dnnl_primitive_desc_query(e->pd, dnnl_query_impl_info_str, 0, &impl);
        rnn__log(RNN_LOG_DEBUG, "oneDNN rnn primitive kind %d%s T=%lld N=%lld: %s", kind,
                 e->bf16 ? " bf16" : "", (long long)T, (long long)N, impl ? impl : "?");
    }
    rnn__dnnl_cache_push(&k->prims, &e->link, k->clock, prim_free);
    *out = e;
    return RNN_OK;
fail:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    prim_free(e);
    return st;
}

static rnn_status get_prim(rnn__dnnl_rnn *k, int kind, int64_t T, int64_t N, int64_t Ntot,
                           prim_entry **out)
{
    return get_prim_at(k, kind, T, N, Ntot, NULL, NULL, out);
}

/* Weights in the layout md wants (which 0: layer, 1: iter). */
static rnn_status get_weights(rnn__dnnl_rnn *k, int which, rnn__cmd md, const float *src,
                              uint64_t version, const float **out)
{
    rnn__cmd canon = which ? RNN__CMD(k->canon_wi) : RNN__CMD(k->canon_wl);
    return rnn__wslot_get(k->ctx, &k->slots, which, canon, md, src, version, out);
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
    k->p.perm = rnn__calloc((size_t)s->N, sizeof *k->p.perm);
    k->p.slen = rnn__calloc((size_t)s->N, sizeof *k->p.slen);
    k->p.segs = rnn__calloc((size_t)s->T, sizeof *k->p.segs);
    k->p.tbase = rnn__calloc((size_t)s->T, sizeof *k->p.tbase);
    if (!k->p.perm || !k->p.slen || !k->p.segs || !k->p.tbase) {
        st = RNN__NOMEM((size_t)s->N * 12 + (size_t)s->T * (sizeof(rnn__seg) + sizeof *k->p.tbase));
        goto fail;
    }
    *out = k;
    return RNN_OK;
fail:
    rnn__dnnl_rnn_destroy(k);
    return st;
}

size_t rnn__dnnl_rnn_cached(const rnn__dnnl_rnn *k)
{
    size_t n = 0;
    for (const rnn__dnnl_cached *p = k->prims; p; p = p->next)
        n++;
    return n;
}

void rnn__dnnl_rnn_destroy(rnn__dnnl_rnn *k)
{
    if (!k)
        return;
    while (k->prims) {
        prim_entry *e = (prim_entry *)k->prims;
        k->prims = e->link.next;
        prim_free(e);
    }
    rnn__wslot_free_all(&k->slots);
    rnn__md_free(&k->canon_wl);
    rnn__md_free(&k->canon_wi);
    rnn__md_free(&k->canon_bias);
    if (k->p.segs)
        for (int64_t i = 0; i < k->s.T; i++) {
            rnn__fbuf_free(&k->p.segs[i].h);
            rnn__fbuf_free(&k->p.segs[i].c);
        }
    rnn__fbuf *bufs[] = {&k->xs,    &k->ys,  &k->h0,   &k->c0,    &k->ddi,   &k->ddic,
                         &k->dsi,   &k->dsic, &k->gw[0], &k->gw[1], &k->gw[2], &k->xb,
                         &k->yb,    &k->h0b, &k->yr};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        rnn__fbuf_free(bufs[i]);
    rnn__free(k->ws);
    rnn__free(k->p.perm);
    rnn__free(k->p.slen);
    rnn__free(k->p.segs);
    rnn__free(k->p.tbase);
    rnn__free(k);
}

/* ------------------------------------------------------------ forward */

/* k->ws_row_step: workspace bytes per row and step with N rows, of an 8-step descriptor (one per
 * N and precision), a bound on longer ones' (the extra state step, the page rounding). */
static rnn_status ws_row_step(rnn__dnnl_rnn *k, int64_t N)
{
    rnn_status st = RNN_OK;
    if (k->wsr_N == N && k->wsr_bf16 == k->bf16)
        return RNN_OK;
    dnnl_primitive_attr_t attr = NULL;
    prim_entry *e = rnn__calloc(1, sizeof *e);
    if (!e)
        return RNN__NOMEM(sizeof *e);
    e->kind = K_FWD_TRAIN, e->bf16 = k->bf16, e->T = 8, e->N = N, e->Ntot = N;
    RNN__DNNL(dnnl_primitive_attr_create(&attr));
    RNN__DNNL(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if ((st = make_pd(k, e, attr, NULL)))
        goto fail;
    k->ws_row_step = (double)rnn__md_size(RNN__CMD(e->ws)) / (8.0 * (double)N);
    k->wsr_N = N, k->wsr_bf16 = k->bf16;
fail:
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    prim_free(e);
    return st;
}

/* The plan of forward f; under a workspace limit that a training batch's workspaces would
 * pass, cut into chunks whose workspace fits it, to be recomputed in backward. */
static rnn_status plan_forward(rnn__dnnl_rnn *k, const rnn__rnn_fwd *f)
{
    const size_t limit = f->training ? rnn_get_workspace_limit() : 0;
    rnn_status st = limit ? ws_row_step(k, f->N) : RNN_OK;
    if (st)
        return st;
    k->recompute = rnn__plan_make_capped(&k->p, f, k->s.reverse, is_lstm(k) && f->cT, limit,
                                         k->ws_row_step);
    /* the primitives read and write dense time-major rows in place, others through copies */
    if (!rnn__rows_dense(&f->x_rows, f->T, f->N, k->s.I) ||
        !rnn__rows_dense(&f->y_rows, f->T, f->N, k->s.H))
        k->p.gathered = 1;
    return RNN_OK;
}

/* Places the training workspaces of this plan's segments in k->ws (64-byte aligned, one
 * after the other; all at 0 when recomputing), growing it when they do not fit. */
static rnn_status place_workspaces(rnn__dnnl_rnn *k)
{
    size_t total = 0;
    for (int s = 0; s < k->p.nseg; s++) {
        rnn__seg *g = &k->p.segs[s];
        prim_entry *e;
        rnn_status st = get_prim(k, K_FWD_TRAIN, g->T, g->N, g->N, &e);
        if (st)
            return st;
        const size_t b = (rnn__md_size(RNN__CMD(e->ws)) + 63) & ~(size_t)63;
        g->ws_off = k->recompute ? 0 : total;
        total = k->recompute ? (b > total ? b : total) : total + b;
    }
    return rnn__bytes_ensure(&k->ws, &k->ws_bytes, total);
}

/* The layer input and initial states as the primitives read them: x in sorted (and reversed)
 * order when gathered, h0/c0 sorted with explicit zeros when not given (trap 1); in bf16, x and
 * h0 converted (xb, h0b). *xs points at what src_layer reads. */
static rnn_status stage_inputs(rnn__dnnl_rnn *k, const rnn__rnn_fwd *f, const void **xs)
{
    rnn_status st;
    const int64_t N = f->N, R = k->p.rows, I = k->s.I, H = k->s.H;
    const int lstm = is_lstm(k);
    const float *x = f->x;
    if (k->p.gathered) {
        if ((st = rnn__fbuf_ensure(&k->xs, (size_t)(R * I), 0)))
            return st;
        rnn__plan_permute(&k->p, I, &f->x_rows, f->x, k->xs.p, RNN__PERM_TO_SORTED);
        rnn__plan_zero_past_ends(&k->p, k->s.I, k->xs.p);
        x = k->xs.p;
    }
    *xs = x;
    if ((st = rnn__fbuf_ensure(&k->h0, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->c0, (size_t)(N * H), 0)))
        return st;
    for (int64_t j = 0; j < N; j++) {
        int64_t n = k->p.perm[j];
        for (int64_t h = 0; h < H; h++) {
            k->h0.p[j * H + h] = f->h0 ? f->h0[n * H + h] : 0.0f;
            k->c0.p[j * H + h] = lstm && f->c0 ? f->c0[n * H + h] : 0.0f;
        }
    }
    if (!k->bf16)
        return RNN_OK;
    if ((st = rnn__fbuf_ensure(&k->xb, (size_t)(R * I + 1) / 2, 0)) ||
        (st = rnn__fbuf_ensure(&k->yb, (size_t)(R * H + 1) / 2, 0)) ||
        (st = rnn__fbuf_ensure(&k->h0b, (size_t)(N * H + 1) / 2, 0)))
        return st;
    rnn__bf16_pack((uint16_t *)k->xb.p, x, (size_t)(R * I));
    rnn__bf16_pack((uint16_t *)k->h0b.p, k->h0.p, (size_t)(N * H));
    *xs = k->xb.p;
    return RNN_OK;
}

/* Final states of the samples that end with segment s, from its dst_iter. */
static void final_states(const rnn__dnnl_rnn *k, int s, const rnn__rnn_fwd *f)
{
    const rnn__seg *g = &k->p.segs[s];
    const int64_t H = k->s.H, t1 = g->t0 + g->T;
    for (int64_t j = 0; j < g->N; j++) {
        if (k->p.slen[j] != t1)
            continue;
        int64_t n = k->p.perm[j];
        if (f->hT && k->bf16)
            rnn__bf16_unpack(f->hT + n * H, (const uint16_t *)g->h.p + j * H, (size_t)H);
        else if (f->hT)
            memcpy(f->hT + n * H, g->h.p + j * H, sizeof(float) * (size_t)H);
        if (f->cT && is_lstm(k))
            memcpy(f->cT + n * H, g->c.p + j * H, sizeof(float) * (size_t)H);
    }
}

/* Segment s's initial states: the previous segment's final ones, else h0 (or h0b) and c0. */
static const void *seg_hin(const rnn__dnnl_rnn *k, int s)
{
    return s > 0 ? (const void *)k->p.segs[s - 1].h.p : k->bf16 ? (void *)k->h0b.p : k->h0.p;
}
static const float *seg_cin(const rnn__dnnl_rnn *k, int s)
{
    return s > 0 ? k->p.segs[s - 1].c.p : k->c0.p;
}

/* Runs segment s forward: xs is the whole sorted input, yseg the output's step t0. */
static rnn_status forward_segment(rnn__dnnl_rnn *k, const rnn__rnn_weights *w, int s, int kind,
                                  const void *xs, void *yseg)
{
    const void *hin = seg_hin(k, s);
    const float *cin = seg_cin(k, s);
    rnn_status st;
    rnn__seg *g = &k->p.segs[s];
    const int64_t I = k->s.I, H = k->s.H;
    const size_t esz = k->bf16 ? 2 : 4;
    prim_entry *e;
    if ((st = get_prim(k, kind, g->T, g->N, g->N, &e)))
        return st;
    const float *wl, *wi;
    if ((st = get_weights(k, 0, RNN__CMD(e->wl), w->wx, w->version, &wl)) ||
        (st = get_weights(k, 1, RNN__CMD(e->wi), w->wh, w->version, &wi)))
        return st;
    if ((st = rnn__fbuf_ensure(&g->h, (size_t)(g->N * H), 0)) ||
        (st = rnn__fbuf_ensure(&g->c, (size_t)(g->N * H), 0)))
        return st;
    rnn__dnnl_arg a[RNN__DNNL_MAX_ARGS];
    int na = 0;
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_LAYER, RNN__CMD(e->src_layer),
                              at(xs, g->off * I, esz)};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER, RNN__CMD(e->state), (void *)(uintptr_t)hin};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_LAYER, RNN__CMD(e->wl), (void *)wl};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_ITER, RNN__CMD(e->wi), (void *)wi};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_BIAS, RNN__CMD(k->canon_bias), (void *)w->b};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_LAYER, RNN__CMD(e->dst_layer), yseg};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER, RNN__CMD(e->state), g->h.p};
    if (is_lstm(k)) {
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER_C, RNN__CMD(e->gstate), (void *)cin};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER_C, RNN__CMD(e->gstate), g->c.p};
    }
    if (kind == K_FWD_TRAIN)
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_WORKSPACE, RNN__CMD(e->ws),
                                  at(k->ws, (int64_t)g->ws_off, 1)};
    if (rnn__md_size(RNN__CMD(e->scratch)))
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SCRATCHPAD, RNN__CMD(e->scratch), k->ctx->scratch};
    return rnn__dnnl_exec(k->ctx, e->prim, a, na);
}

rnn_status rnn__dnnl_rnn_forward(rnn__dnnl_rnn *k, const rnn__rnn_weights *w, const rnn__rnn_fwd *f)
{
    rnn_status st; /* arguments were checked by rnn__rnn_forward/_backward */
    k->trained = 0;
    k->bf16 = f->bf16 != 0;
    k->clock++; /* the primitives of this forward and its backward stay cached */
    const int64_t N = f->N, H = k->s.H;
    const int kind = f->training ? K_FWD_TRAIN : K_FWD_INFER;
    const void *xs;
    if ((st = plan_forward(k, f)) || (st = stage_inputs(k, f, &xs)) ||
        (kind == K_FWD_TRAIN && (st = place_workspaces(k))))
        return st;
    /* Sorted outputs: the caller's y directly when nothing is gathered (f32). */
    float *ys = f->y;
    if (k->p.gathered && (st = rnn__fbuf_ensure(&k->ys, (size_t)(k->p.rows * H), 0)))
        return st;
    if (k->p.gathered)
        ys = k->ys.p;
    void *yd = k->bf16 ? (void *)k->yb.p : (void *)ys;
    for (int s = 0; s < k->p.nseg; s++) {
        const int64_t off = k->p.segs[s].off * H;
        if ((st = forward_segment(k, w, s, kind, xs, at(yd, off, k->bf16 ? 2 : 4))))
            return st;
        final_states(k, s, f);
    }
    if (k->bf16) /* every step of every sample was written (the zeros come below) */
        rnn__bf16_unpack(ys, (const uint16_t *)k->yb.p, (size_t)(k->p.rows * H));
    /* Samples that end inside a segment: h_T is their output at their last step (no
     * segment inside which one ends when c_T is wanted). */
    for (int64_t j = 0; f->hT && j < N; j++) {
        const int64_t L = k->p.slen[j];
        if (rnn__plan_seg_end(&k->p, L) != L)
            memcpy(f->hT + k->p.perm[j] * H, ys + (k->p.tbase[L - 1] + j) * H,
                   sizeof(float) * (size_t)H);
    }
    if (k->p.gathered)
        rnn__plan_permute(&k->p, H, &f->y_rows, ys, f->y, RNN__PERM_FROM_SORTED);
    k->trained = f->training;
    k->ws_seg = k->p.nseg - 1;
    return RNN_OK;
}

void rnn__dnnl_rnn_untrain(rnn__dnnl_rnn *k)
{
    k->trained = 0;
}

/* ------------------------------------------------------------ backward */

/* The data and gradient buffers of one backward (whole sorted sequences). */
typedef struct bwd_bufs {
    const void *xs, *ys; /* what the training forward read and wrote (f32 or bf16) */
    const float *dys;
    float *dxs, *dw[3];
    rnn__rows gx, gy; /* where dxs's and dys's rows are ({0, 0}: dense time-major) */
} bwd_bufs;

/* Where segment g's first row of C floats is: in the caller's rows r, or at its place in the
 * sorted (or dense time-major) ones when r is {0, 0}. */
static int64_t seg_row(const rnn__rows *r, const rnn__seg *g, int64_t C)
{
    return r->t || r->n ? g->t0 * r->t : g->off * C;
}

/* Runs segment s backward (yseg: its training forward's output at step t0); its
 * diff_dst_iter(_c) are in ddi/ddic, its diff_src_iter(_c) go to dsi/dsic. */
static rnn_status backward_segment(rnn__dnnl_rnn *k, const rnn__rnn_weights *w, int s,
                                   const bwd_bufs *u, const void *yseg)
{
    rnn_status st;
    rnn__seg *g = &k->p.segs[s];
    const int64_t I = k->s.I, H = k->s.H;
    const size_t esz = k->bf16 ? 2 : 4;
    prim_entry *e, *fe;
    if ((st = get_prim_at(k, K_BWD, g->T, g->N, g->N, &u->gx, &u->gy, &e)) ||
        (st = get_prim(k, K_FWD_TRAIN, g->T, g->N, g->N, &fe)))
        return st;
    const float *wl, *wi;
    if ((st = get_weights(k, 0, RNN__CMD(e->wl), w->wx, w->version, &wl)) ||
        (st = get_weights(k, 1, RNN__CMD(e->wi), w->wh, w->version, &wi)))
        return st;
    const void *hin = seg_hin(k, s);
    const float *cin = seg_cin(k, s);
    rnn__dnnl_arg a[RNN__DNNL_MAX_ARGS];
    int na = 0;
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_LAYER, RNN__CMD(e->src_layer),
                              at(u->xs, g->off * I, esz)};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER, RNN__CMD(e->state), (void *)(uintptr_t)hin};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_LAYER, RNN__CMD(e->wl), (void *)wl};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_WEIGHTS_ITER, RNN__CMD(e->wi), (void *)wi};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_BIAS, RNN__CMD(k->canon_bias), (void *)w->b};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_LAYER, RNN__CMD(e->dst_layer), (void *)yseg};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER, RNN__CMD(e->state), g->h.p};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_WORKSPACE, RNN__CMD(fe->ws),
                              at(k->ws, (int64_t)g->ws_off, 1)};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_LAYER, RNN__CMD(e->gsrc_layer),
                              u->dxs + seg_row(&u->gx, g, I)};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_ITER, RNN__CMD(e->gstate), k->dsi.p};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_WEIGHTS_LAYER, RNN__CMD(k->canon_wl), u->dw[0]};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_WEIGHTS_ITER, RNN__CMD(k->canon_wi), u->dw[1]};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_BIAS, RNN__CMD(k->canon_bias), u->dw[2]};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_LAYER, RNN__CMD(e->gdst_layer),
                              (void *)(u->dys + seg_row(&u->gy, g, H))};
    a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_ITER, RNN__CMD(e->gstate), k->ddi.p};
    if (is_lstm(k)) {
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SRC_ITER_C, RNN__CMD(e->gstate), (void *)cin};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DST_ITER_C, RNN__CMD(e->gstate), g->c.p};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_SRC_ITER_C, RNN__CMD(e->gstate), k->dsic.p};
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_DIFF_DST_ITER_C, RNN__CMD(e->gstate), k->ddic.p};
    }
    if (rnn__md_size(RNN__CMD(e->scratch)))
        a[na++] = (rnn__dnnl_arg){DNNL_ARG_SCRATCHPAD, RNN__CMD(e->scratch), k->ctx->scratch};
    return rnn__dnnl_exec(k->ctx, e->prim, a, na);
}

/* diff_dst_iter(_c) of segment s: for samples running on, the later segment's diff_src_iter
 * (dsi/dsic); for samples ending with it, the gradients of their final states; zero for the
 * rows it carries past their ends. */
static void segment_state_grads(rnn__dnnl_rnn *k, int s, const rnn__rnn_bwd *b)
{
    const rnn__seg *g = &k->p.segs[s];
    const int64_t H = k->s.H, t1 = g->t0 + g->T;
    const int lstm = is_lstm(k);
    for (int64_t j = 0; j < g->N; j++) {
        float *dh = k->ddi.p + j * H, *dc = k->ddic.p + j * H;
        const int64_t n = k->p.perm[j], L = k->p.slen[j];
        if (L > t1) {
            memcpy(dh, k->dsi.p + j * H, sizeof(float) * (size_t)H);
            memcpy(dc, k->dsic.p + j * H, sizeof(float) * (size_t)H);
        } else {
            for (int64_t h = 0; h < H; h++) {
                dh[h] = L == t1 && b->dhT ? b->dhT[n * H + h] : 0.0f;
                dc[h] = L == t1 && lstm && b->dcT ? b->dcT[n * H + h] : 0.0f;
            }
        }
    }
}

rnn_status rnn__dnnl_rnn_backward(rnn__dnnl_rnn *k, const rnn__rnn_weights *w,
                                  const rnn__rnn_fwd *f, const rnn__rnn_bwd *b)
{
    rnn_status st; /* arguments were checked by rnn__rnn_forward/_backward */
    if (!k->trained || k->p.T != f->T || k->p.N != f->N || k->bf16 != (f->bf16 != 0))
        return RNN__ERR(RNN_ERR_STATE, "backward needs a training forward of the same batch first");
    const int64_t N = f->N, T = f->T, I = k->s.I, H = k->s.H, GH = k->G * H;
    const int lstm = is_lstm(k);
    /* Gradient destinations: the caller's (accumulated into, as oneDNN does)
     * or scratch when the caller does not want them. */
    bwd_bufs u = {.dw = {b->dwx, b->dwh, b->db}};
    size_t nw[3] = {(size_t)(I * GH), (size_t)(H * GH), (size_t)(k->Gb * H)};
    for (int i = 0; i < 3; i++)
        if (!u.dw[i]) {
            if ((st = rnn__fbuf_ensure(&k->gw[i], nw[i], 0)))
                return st;
            u.dw[i] = k->gw[i].p;
        }
    if (k->bf16)
        u.xs = k->xb.p, u.ys = k->yb.p;
    else
        u.xs = k->p.gathered ? k->xs.p : f->x, u.ys = k->p.gathered ? k->ys.p : f->y;
    /* Without lengths or reversal (the caller's order of samples and steps) the primitive
     * reads the caller's dy and writes the caller's dx (unless added to) in place, wherever
     * their rows are: oneDNN copies diff_dst_layer into its workspace and diff_src_layer out
     * of it row by row in any layout, so a batch-major view costs it nothing (unlike
     * src_layer and dst_layer, whose time stride decides whether it merges the layer
     * GEMMs over the steps). Otherwise through sorted copies, the context's (shared by its
     * kernels). */
    const int ident = !f->lengths && !k->p.reverse;
    const int direct_dy = ident && b->dy, direct_dx = ident && b->dx && !b->dx_add;
    if (direct_dy && !rnn__rows_dense(&b->dy_rows, T, N, H))
        u.gy = b->dy_rows;
    if (direct_dx && !rnn__rows_dense(&b->dx_rows, T, N, I))
        u.gx = b->dx_rows;
    rnn__fbuf *dys = &k->ctx->bdy, *dxs = &k->ctx->bdx;
    const int64_t R = k->p.rows;
    if ((!direct_dy && (st = rnn__fbuf_ensure(dys, (size_t)(R * H), 0))) ||
        (!direct_dx && (st = rnn__fbuf_ensure(dxs, (size_t)(R * I), 0))) ||
        (st = rnn__fbuf_ensure(&k->ddi, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->ddic, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->dsi, (size_t)(N * H), 0)) ||
        (st = rnn__fbuf_ensure(&k->dsic, (size_t)(N * H), 0)))
        return st;
    u.dys = direct_dy ? b->dy : dys->p;
    u.dxs = direct_dx ? b->dx : dxs->p;
    if (!direct_dy && b->dy) { /* dy in sorted (and reversed) order; zero where nothing flows */
        rnn__plan_permute(&k->p, H, &b->dy_rows, b->dy, dys->p, RNN__PERM_TO_SORTED);
        rnn__plan_zero_past_ends(&k->p, H, dys->p);
    } else if (!direct_dy) {
        memset(dys->p, 0, sizeof(float) * (size_t)(R * H));
    }
    /* The final-state gradients of samples that end inside a segment join dy at their last
     * step (h_T is y there). */
    for (int64_t j = 0; j < N; j++) {
        const int64_t L = k->p.slen[j];
        if (rnn__plan_seg_end(&k->p, L) == L)
            continue;
        if (lstm && b->dcT)
            return RNN__ERR(RNN_ERR_INTERNAL, "a final cell-state gradient for a sample "
                                              "ending inside a segment");
        for (int64_t h = 0; b->dhT && h < H; h++)
            dys->p[(k->p.tbase[L - 1] + j) * H + h] += b->dhT[k->p.perm[j] * H + h];
    }
    /* Segments in reverse. dsi holds the previous (later) segment's
     * diff_src_iter: rows < N_{k+1} feed this segment's diff_dst_iter. */
    for (int s = k->p.nseg - 1; s >= 0; s--) {
        const void *yseg = at(u.ys, k->p.segs[s].off * H, k->bf16 ? 2 : 4);
        if (k->recompute && s != k->ws_seg) {
            /* ws holds another chunk's: run this one again, outputs in yr, not the y given */
            if ((st = rnn__fbuf_ensure(&k->yr, (size_t)(k->p.segs[s].T * k->p.segs[s].N * H), 0)) ||
                (st = forward_segment(k, w, s, K_FWD_TRAIN, u.xs, k->yr.p)))
                return st;
            k->ws_seg = s;
            yseg = k->yr.p;
        }
        segment_state_grads(k, s, b);
        if ((st = backward_segment(k, w, s, &u, yseg)))
            return st;
    }
    /* dsi now holds the gradient of the (sorted) initial states. */
    for (int64_t j = 0; j < N; j++) {
        int64_t n = k->p.perm[j];
        if (b->dh0)
            memcpy(b->dh0 + n * H, k->dsi.p + j * H, sizeof(float) * (size_t)H);
        if (b->dc0 && lstm)
            memcpy(b->dc0 + n * H, k->dsic.p + j * H, sizeof(float) * (size_t)H);
    }
    if (b->dx && !direct_dx)
        rnn__plan_permute(&k->p, I, &b->dx_rows, dxs->p, b->dx,
                          b->dx_add ? RNN__PERM_ADD_FROM_SORTED : RNN__PERM_FROM_SORTED);
    return RNN_OK;
}
