/* SPDX-License-Identifier: Apache-2.0 */
/* The variable-length plan of a oneDNN recurrent kernel: samples sorted by length and time
 * cut into segments (onednn_rnn.c's head comment says how they run; onednn_internal.h
 * declares these). */
#include <string.h>

#include "backend/onednn_internal.h"

/* Rows of a segment that starts with `running` samples: rounded up, at most N. */
static int64_t seg_rows(int64_t running, int64_t N)
{
    int64_t r = (running + RNN__SEG_ROWS - 1) / RNN__SEG_ROWS * RNN__SEG_ROWS;
    return r < N ? r : N;
}

void rnn__plan_make(rnn__seg_plan *pl, const rnn__rnn_fwd *f, int reverse, int cut_at_every_end,
                    int64_t max_steps)
{
    const int64_t N = f->N, T = f->T;
    pl->T = T;
    pl->N = N;
    pl->reverse = reverse;
    pl->gathered = f->lengths != NULL || reverse;
    for (int64_t n = 0; n < N; n++) {
        pl->perm[n] = n;
        pl->slen[n] = f->lengths ? f->lengths[n] : (int32_t)T;
    }
    /* Insertion sort is fine for batch sizes (and stable). */
    for (int64_t i = 1; i < N; i++) {
        int64_t p = pl->perm[i];
        int32_t l = pl->slen[i];
        int64_t j = i - 1;
        while (j >= 0 && pl->slen[j] < l) {
            pl->perm[j + 1] = pl->perm[j];
            pl->slen[j + 1] = pl->slen[j];
            j--;
        }
        pl->perm[j + 1] = p;
        pl->slen[j + 1] = l;
    }
    /* Segments: cut where seg_rows() changes (or at every end), and every max_steps steps. */
    int nseg = 0;
    int64_t t0 = 0, active = N, off = 0;
    while (t0 < pl->slen[0]) {
        while (active > 0 && pl->slen[active - 1] <= t0)
            active--;
        const int64_t rows = seg_rows(active, N);
        int64_t t1 = pl->slen[active - 1], a = active; /* shortest running sample ends at t1 */
        while (!cut_at_every_end && t1 < pl->slen[0]) {
            while (a > 0 && pl->slen[a - 1] <= t1)
                a--;
            if (seg_rows(a, N) != rows)
                break;
            t1 = pl->slen[a - 1];
        }
        if (max_steps > 0 && t1 - t0 > max_steps)
            t1 = t0 + max_steps;
        pl->segs[nseg].t0 = t0;
        pl->segs[nseg].T = t1 - t0;
        pl->segs[nseg].N = rows;
        pl->segs[nseg].off = off;
        for (int64_t t = t0; t < t1; t++)
            pl->tbase[t] = off + (t - t0) * rows;
        off += (t1 - t0) * rows;
        nseg++;
        t0 = t1;
    }
    pl->nseg = nseg;
    pl->rows = off;
}

void rnn__plan_zero_past_ends(const rnn__seg_plan *pl, int64_t I, float *xs)
{
    for (int s = 0; s < pl->nseg; s++) {
        const rnn__seg *g = &pl->segs[s];
        const int64_t t1 = g->t0 + g->T;
        for (int64_t j = g->N - 1; j >= 0 && pl->slen[j] < t1; j--)
            for (int64_t t = pl->slen[j] > g->t0 ? pl->slen[j] : g->t0; t < t1; t++)
                memset(xs + (pl->tbase[t] + j) * I, 0, sizeof(float) * (size_t)I);
    }
}

void rnn__plan_permute(const rnn__seg_plan *pl, int64_t C, const rnn__rows *rows,
                       const float *src, float *dst, int mode)
{
    const int64_t N = pl->N, T = pl->T;
    const int to_sorted = mode == RNN__PERM_TO_SORTED;
    const size_t row = sizeof(float) * (size_t)C;
#pragma omp parallel for schedule(static) if ((size_t)(T * N * C) >= RNN__PAR_MIN)
    for (int64_t j = 0; j < N; j++) {
        const int64_t n = pl->perm[j], L = pl->slen[j];
        for (int64_t t = 0; t < L; t++) {
            const int64_t u = pl->reverse ? L - 1 - t : t; /* the caller's step */
            const int64_t sorted = (pl->tbase[t] + j) * C, caller = rnn__row_at(rows, N, C, u, n);
            const float *s = src + (to_sorted ? caller : sorted);
            float *d = dst + (to_sorted ? sorted : caller);
            if (mode == RNN__PERM_ADD_FROM_SORTED)
                for (int64_t c = 0; c < C; c++)
                    d[c] += s[c];
            else
                memcpy(d, s, row);
        }
        for (int64_t u = L; mode == RNN__PERM_FROM_SORTED && u < T; u++)
            memset(dst + rnn__row_at(rows, N, C, u, n), 0, row);
    }
}

int64_t rnn__plan_seg_end(const rnn__seg_plan *pl, int64_t L)
{
    int s = 0;
    while (pl->segs[s].t0 + pl->segs[s].T < L)
        s++;
    return pl->segs[s].t0 + pl->segs[s].T;
}

int rnn__plan_make_capped(rnn__seg_plan *pl, const rnn__rnn_fwd *f, int reverse,
                          int cut_at_every_end, size_t limit, double row_step)
{
    rnn__plan_make(pl, f, reverse, cut_at_every_end, 0);
    double cells = 0; /* steps times rows over the segments: what their workspaces grow with */
    for (int s = 0; s < pl->nseg; s++)
        cells += (double)(pl->segs[s].T * pl->segs[s].N);
    if (!limit || row_step * cells <= (double)limit)
        return 0;
    const double steps = (double)limit / (row_step * (double)pl->segs[0].N);
    rnn__plan_make(pl, f, reverse, cut_at_every_end, steps >= 2 ? (int64_t)steps : 1);
    return 1;
}
