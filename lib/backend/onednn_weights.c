/* SPDX-License-Identifier: Apache-2.0 */
/* The recurrent kernels' reordered weights (onednn_internal.h declares these): each primitive
 * wants the canonical ldigo arrays in a layout of its own choosing (format_tag any); a copy
 * per layout is reordered from them only when their version changes. */
#include <string.h>

#include "backend/onednn_internal.h"

/* A reordered copy of a canonical weight array in some layout. Its reorder
 * primitives are made per thread count, like every other (a reorder made for
 * 2 threads forks 2 on a batch the governor runs on 1: measured beside a busy
 * process, the POS tagger's weight reorders took 4.5 of its 22 s that way);
 * the last WSLOT_COUNTS counts are kept. */
enum { WSLOT_COUNTS = 4 };
struct rnn__wslot {
    struct rnn__wslot *next;
    int which; /* 0 layer, 1 iter */
    rnn__md md;
    float *buf;
    const float *src;
    uint64_t version;
    int valid;
    int nthr[WSLOT_COUNTS]; /* 0: free */
    dnnl_primitive_t reorder[WSLOT_COUNTS];
};

static void slot_free(rnn__wslot *w)
{
    for (int i = 0; i < WSLOT_COUNTS; i++)
        if (w->reorder[i])
            dnnl_primitive_destroy(w->reorder[i]);
    rnn__md_free(&w->md);
    rnn__free(w->buf);
    rnn__free(w);
}

rnn_status rnn__wslot_get(rnn__dnnl_ctx *ctx, rnn__wslot **slots, int which, rnn__cmd canon,
                          rnn__cmd md, const float *src, uint64_t version, const float **out)
{
    if (rnn__md_equal(md, canon)) {
        *out = src;
        return RNN_OK;
    }
    rnn__wslot *w = *slots;
    while (w && !(w->which == which && rnn__md_equal(RNN__CMD(w->md), md)))
        w = w->next;
    rnn_status st = RNN_OK;
    dnnl_primitive_desc_t rpd = NULL;
    int fresh = 0; /* w is not in *slots yet */
    if (!w) {
        w = rnn__calloc(1, sizeof *w);
        if (!w)
            return RNN__NOMEM(sizeof *w);
        fresh = 1;
        w->which = which;
        size_t bytes = rnn__md_size(md);
        w->buf = rnn__malloc(bytes);
        if (!w->buf) {
            rnn__free(w);
            return RNN__NOMEM(bytes);
        }
        RNN__DNNL(rnn__md_copy(&w->md, md));
        w->next = *slots;
        *slots = w;
        fresh = 0;
    }
    if (!w->valid || w->src != src || w->version != version) {
        const int nthr = rnn__threads_current();
        int r = 0;
        while (r < WSLOT_COUNTS && w->nthr[r] != nthr)
            r++;
        if (r == WSLOT_COUNTS) { /* a new count: into a free entry, else the oldest's */
            r = 0;
            while (r < WSLOT_COUNTS - 1 && w->nthr[r])
                r++;
            if (w->reorder[r]) {
                dnnl_primitive_destroy(w->reorder[r]);
                w->reorder[r] = NULL;
            }
            memmove(&w->nthr[1], &w->nthr[0], sizeof w->nthr[0] * (size_t)r);
            memmove(&w->reorder[1], &w->reorder[0], sizeof w->reorder[0] * (size_t)r);
            w->nthr[0] = 0, w->reorder[0] = NULL, r = 0;
            rnn__threads_create_begin(); /* created for the count it runs on */
            RNN__DNNL(dnnl_reorder_primitive_desc_create(&rpd, canon, ctx->engine, md,
                                                         ctx->engine, NULL));
            RNN__DNNL(dnnl_primitive_create(&w->reorder[0], rpd));
            dnnl_primitive_desc_destroy(rpd);
            rpd = NULL;
            w->nthr[0] = nthr;
        }
        rnn__dnnl_arg a[2] = {{DNNL_ARG_FROM, canon, (void *)src}, {DNNL_ARG_TO, md, w->buf}};
        if ((st = rnn__dnnl_exec(ctx, w->reorder[r], a, 2)))
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
    if (fresh)
        slot_free(w);
    return st;
}

void rnn__wslot_free_all(rnn__wslot **slots)
{
    while (*slots) {
        rnn__wslot *w = *slots;
        *slots = w->next;
        slot_free(w);
    }
}
