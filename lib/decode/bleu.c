/* SPDX-License-Identifier: Apache-2.0 */
/* BLEU over int32 token ids, with the semantics of NLTK 3.8's
 * nltk.translate.bleu_score (corpus_bleu / sentence_bleu with uniform
 * weights, no smoothing or SmoothingFunction().method1):
 *
 *  - for each order n, a hypothesis contributes to the corpus numerator the
 *    sum over its distinct n-grams of min(count in hypothesis, max count in
 *    any one of its references), and to the denominator max(1, number of its
 *    n-grams) (so a hypothesis shorter than n still adds 1);
 *  - the corpus reference length sums, per hypothesis, the reference length
 *    closest to the hypothesis length (ties: the shorter one);
 *  - no unigram match in the whole corpus (an empty corpus or hypothesis
 *    included): the score is 0, smoothing or not;
 *  - an order with numerator 0 becomes DBL_MIN without smoothing (NLTK's
 *    sys.float_info.min: a tiny, not zero, score) and epsilon / denominator
 *    with method1;
 *  - score = BP * exp(fsum(w * log(p_n))), w = 1 / max_order, p_n the
 *    correctly rounded numerator / denominator, fsum exactly rounded like
 *    Python's math.fsum; BP = 1 when hyp_len > ref_len, 0 when hyp_len is 0,
 *    else exp(1 - ref_len / hyp_len).
 *
 * Counting n-grams uses an open-addressing hash table keyed by the n-gram's
 * position in the hypothesis: per hypothesis and order, its n-grams are
 * inserted once, then each reference's n-grams are looked up, so the work is
 * O(max_order^2 * total tokens) with no per-n-gram allocation. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "rnn/metrics.h"

#define BLEU_MAX_ORDER 16

void rnn_bleu_options_init(rnn_bleu_options *options)
{
    if (!options)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->max_order = 4;
    options->smoothing = RNN_BLEU_SMOOTH_NONE;
    options->epsilon = 0.1;
}

/* Copies and checks the options (NULL: the defaults). */
static rnn_status bleu_options(const char *func, const rnn_bleu_options *options,
                               rnn_bleu_options *o)
{
    rnn_bleu_options_init(o);
    if (!options)
        return RNN_OK;
    rnn_status st = rnn__opts_copy(func, "options", "rnn_bleu_options", o, sizeof *o, options,
                                   RNN__STRUCT_END(rnn_bleu_options, epsilon));
    if (st)
        return st;
    if (o->max_order < 1 || o->max_order > BLEU_MAX_ORDER)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "options->max_order must be in [1, %d] (got %d)",
                        BLEU_MAX_ORDER, o->max_order);
    if (o->smoothing != RNN_BLEU_SMOOTH_NONE && o->smoothing != RNN_BLEU_SMOOTH_METHOD1)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->smoothing must be RNN_BLEU_SMOOTH_NONE or "
                        "RNN_BLEU_SMOOTH_METHOD1 (got %d)",
                        (int)o->smoothing);
    if (!(o->epsilon > 0.0 && o->epsilon <= 1.0))
        return rnn__err(RNN_ERR_INVALID_ARG, func, "options->epsilon must be in (0, 1] (got %g)",
                        o->epsilon);
    return RNN_OK;
}

/* ------------------------------------------------------------ n-gram table */

typedef struct ngram_entry {
    int64_t pos;     /* first occurrence in the hypothesis */
    uint64_t hash;
    int64_t count;   /* occurrences in the hypothesis */
    int64_t max_ref; /* max occurrences in one reference */
    int64_t cur;     /* occurrences in the reference being scanned */
    int64_t stamp;   /* which reference cur belongs to (-1: none) */
} ngram_entry;

typedef struct ngram_table {
    int64_t *slots;       /* entry index + 1, 0 = empty; capacity slots */
    ngram_entry *entries; /* up to the longest hypothesis' length */
    size_t capacity;      /* power of two */
} ngram_table;

static uint64_t ngram_hash(const int32_t *t, int n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    for (int k = 0; k < n; k++) {
        h ^= (uint32_t)t[k];
        h *= 0x100000001b3ull;
        h ^= h >> 29;
    }
    /* splitmix64's finalizer spreads the low bits used for the slot */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

/* Slot of the n-gram t[0..n) in hyp: the matching entry's slot, or the empty
 * slot where it would go. mask + 1 is more than twice the entry count. */
static size_t ngram_find(const ngram_table *tb, size_t mask, const int32_t *hyp, const int32_t *t,
                         int n, uint64_t h)
{
    size_t s = (size_t)h & mask;
    for (;;) {
        int64_t e = tb->slots[s];
        if (e == 0)
            return s;
        const ngram_entry *en = &tb->entries[e - 1];
        if (en->hash == h && memcmp(hyp + en->pos, t, (size_t)n * sizeof *t) == 0)
            return s;
        s = (s + 1) & mask;
    }
}

/* Adds one hypothesis' clipped matches and n-gram counts of orders
 * 1..max_order to num[] and den[]. */
static void count_sentence(ngram_table *tb, int max_order, const int32_t *hyp, int64_t hyp_len,
                           int num_refs, const int32_t *const *refs, const int64_t *ref_lens,
                           int64_t *num, int64_t *den)
{
    for (int n = 1; n <= max_order; n++) {
        int64_t grams = hyp_len >= n ? hyp_len - n + 1 : 0;
        den[n - 1] += grams > 1 ? grams : 1;
        if (grams == 0)
            continue; /* no n-gram, no match (and no longer order either) */
        size_t size = 16;
        while (size < 2 * (size_t)grams)
            size *= 2;
        size_t mask = size - 1;
        memset(tb->slots, 0, size * sizeof *tb->slots);
        int64_t used = 0;
        for (int64_t i = 0; i < grams; i++) {
            uint64_t h = ngram_hash(hyp + i, n);
            size_t s = ngram_find(tb, mask, hyp, hyp + i, n, h);
            if (tb->slots[s]) {
                tb->entries[tb->slots[s] - 1].count++;
            } else {
                ngram_entry *en = &tb->entries[used++];
                *en = (ngram_entry){.pos = i, .hash = h, .count = 1, .stamp = -1};
                tb->slots[s] = used;
            }
        }
        for (int r = 0; r < num_refs; r++) {
            const int32_t *ref = refs[r];
            for (int64_t j = 0; j + n <= ref_lens[r]; j++) {
                uint64_t h = ngram_hash(ref + j, n);
                size_t s = ngram_find(tb, mask, hyp, ref + j, n, h);
                if (!tb->slots[s])
                    continue;
                ngram_entry *en = &tb->entries[tb->slots[s] - 1];
                if (en->stamp != r) {
                    en->stamp = r;
                    en->cur = 0;
                }
                if (++en->cur > en->max_ref)
                    en->max_ref = en->cur;
            }
        }
        for (int64_t e = 0; e < used; e++) {
            const ngram_entry *en = &tb->entries[e];
            num[n - 1] += en->count < en->max_ref ? en->count : en->max_ref;
        }
    }
}

/* The reference length closest to hyp_len; ties go to the shorter one. */
static int64_t closest_ref_len(int num_refs, const int64_t *ref_lens, int64_t hyp_len)
{
    int64_t best = ref_lens[0];
    for (int r = 1; r < num_refs; r++) {
        int64_t d = ref_lens[r] > hyp_len ? ref_lens[r] - hyp_len : hyp_len - ref_lens[r];
        int64_t bd = best > hyp_len ? best - hyp_len : hyp_len - best;
        if (d < bd || (d == bd && ref_lens[r] < best))
            best = ref_lens[r];
    }
    return best;
}

/* Correctly rounded sum of x[0..n), as Python's math.fsum (Shewchuk's
 * non-overlapping partials, then a half-even fix across partials). The
 * values are finite and few. */
static double exact_sum(const double *x, int n)
{
    double p[BLEU_MAX_ORDER + 1];
    int np = 0;
    for (int i = 0; i < n; i++) {
        double v = x[i];
        int k = 0;
        for (int j = 0; j < np; j++) {
            double y = p[j];
            if (fabs(v) < fabs(y)) {
                double t = v;
                v = y;
                y = t;
            }
            double hi = v + y;
            double lo = y - (hi - v);
            if (lo != 0.0)
                p[k++] = lo;
            v = hi;
        }
        np = k;
        p[np++] = v;
    }
    if (np == 0)
        return 0.0;
    double hi = p[--np], lo = 0.0;
    while (np > 0) {
        double v = hi, y = p[--np];
        hi = v + y;
        lo = y - (hi - v);
        if (lo != 0.0)
            break;
    }
    if (np > 0 && ((lo < 0.0 && p[np - 1] < 0.0) || (lo > 0.0 && p[np - 1] > 0.0))) {
        double y = lo * 2.0, v = hi + y;
        if (y == v - hi)
            hi = v;
    }
    return hi;
}

/* BLEU of validated arguments; fails only on allocation. */
static rnn_status bleu(const char *func, const rnn_bleu_options *o, int64_t count,
                       const int32_t *const *hyps, const int64_t *hyp_lens, int refs_per_hyp,
                       const int32_t *const *refs, const int64_t *ref_lens, double *out)
{
    int64_t max_len = 0;
    for (int64_t i = 0; i < count; i++)
        if (hyp_lens[i] > max_len)
            max_len = hyp_lens[i];
    if ((uint64_t)max_len > (SIZE_MAX / 4) / sizeof(ngram_entry))
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory: hypothesis of %lld tokens",
                        (long long)max_len);
    size_t cap = 16;
    while (cap < 2 * (size_t)max_len)
        cap *= 2;
    ngram_table tb = {NULL, NULL, cap};
    tb.slots = rnn__malloc(cap * sizeof *tb.slots);
    tb.entries = rnn__malloc((size_t)(max_len > 0 ? max_len : 1) * sizeof *tb.entries);
    if (!tb.slots || !tb.entries) {
        size_t bytes = cap * sizeof *tb.slots + (size_t)max_len * sizeof *tb.entries;
        rnn__free(tb.slots);
        rnn__free(tb.entries);
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes", bytes);
    }

    int64_t num[BLEU_MAX_ORDER] = {0}, den[BLEU_MAX_ORDER] = {0};
    int64_t hyp_total = 0, ref_total = 0;
    for (int64_t i = 0; i < count; i++) {
        const int32_t *const *r = refs + i * refs_per_hyp;
        const int64_t *rl = ref_lens + i * refs_per_hyp;
        count_sentence(&tb, o->max_order, hyps[i], hyp_lens[i], refs_per_hyp, r, rl, num, den);
        hyp_total += hyp_lens[i];
        ref_total += closest_ref_len(refs_per_hyp, rl, hyp_lens[i]);
    }
    rnn__free(tb.slots);
    rnn__free(tb.entries);

    if (num[0] == 0) {
        *out = 0.0;
        return RNN_OK;
    }
    double bp;
    if (hyp_total > ref_total)
        bp = 1.0;
    else if (hyp_total == 0)
        bp = 0.0; /* unreachable: no hypothesis token, no unigram match */
    else
        bp = exp(1.0 - (double)ref_total / (double)hyp_total);
    double w = 1.0 / o->max_order, terms[BLEU_MAX_ORDER];
    for (int n = 0; n < o->max_order; n++) {
        double p;
        if (num[n] != 0)
            p = (double)num[n] / (double)den[n];
        else if (o->smoothing == RNN_BLEU_SMOOTH_METHOD1)
            p = o->epsilon / (double)den[n];
        else
            p = DBL_MIN;
        terms[n] = w * log(p);
    }
    *out = bp * exp(exact_sum(terms, o->max_order));
    return RNN_OK;
}

/* ------------------------------------------------------------ API */

rnn_status rnn_corpus_bleu(const rnn_bleu_options *options, int64_t count,
                           const int32_t *const *hyps, const int64_t *hyp_lens, int refs_per_hyp,
                           const int32_t *const *refs, const int64_t *ref_lens, double *out)
{
    RNN__CHECK_ARG(out);
    *out = 0.0;
    rnn_bleu_options o;
    rnn_status st = bleu_options(__func__, options, &o);
    if (st != RNN_OK)
        return st;
    if (count < 0)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be >= 0 (got %lld)", (long long)count);
    if (refs_per_hyp < 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "refs_per_hyp must be >= 1 (got %d)", refs_per_hyp);
    if (count > 0) {
        RNN__CHECK_ARG(hyps);
        RNN__CHECK_ARG(hyp_lens);
        RNN__CHECK_ARG(refs);
        RNN__CHECK_ARG(ref_lens);
    }
    int64_t num_refs;
    if (__builtin_mul_overflow(count, (int64_t)refs_per_hyp, &num_refs) ||
        (uint64_t)num_refs > SIZE_MAX / sizeof(void *))
        return RNN__ERR(RNN_ERR_OVERFLOW, "count * refs_per_hyp overflows (%lld * %d)",
                        (long long)count, refs_per_hyp);
    for (int64_t i = 0; i < count; i++) {
        if (hyp_lens[i] < 0)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "hyp_lens[%lld] must be >= 0 (got %lld)",
                            (long long)i, (long long)hyp_lens[i]);
        if (hyp_lens[i] > 0 && !hyps[i])
            return RNN__ERR(RNN_ERR_INVALID_ARG,
                            "hyps[%lld] must not be NULL (hyp_lens[%lld] = %lld)", (long long)i,
                            (long long)i, (long long)hyp_lens[i]);
    }
    for (int64_t j = 0; j < num_refs; j++) {
        if (ref_lens[j] < 0)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "ref_lens[%lld] must be >= 0 (got %lld)",
                            (long long)j, (long long)ref_lens[j]);
        if (ref_lens[j] > 0 && !refs[j])
            return RNN__ERR(RNN_ERR_INVALID_ARG,
                            "refs[%lld] must not be NULL (ref_lens[%lld] = %lld)", (long long)j,
                            (long long)j, (long long)ref_lens[j]);
    }
    return bleu(__func__, &o, count, hyps, hyp_lens, refs_per_hyp, refs, ref_lens, out);
}

rnn_status rnn_sentence_bleu(const rnn_bleu_options *options, const int32_t *hyp, int64_t hyp_len,
                             int num_refs, const int32_t *const *refs, const int64_t *ref_lens,
                             double *out)
{
    RNN__CHECK_ARG(out);
    *out = 0.0;
    rnn_bleu_options o;
    rnn_status st = bleu_options(__func__, options, &o);
    if (st != RNN_OK)
        return st;
    if (hyp_len < 0)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "hyp_len must be >= 0 (got %lld)",
                        (long long)hyp_len);
    if (hyp_len > 0 && !hyp)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "hyp must not be NULL (hyp_len = %lld)",
                        (long long)hyp_len);
    if (num_refs < 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "num_refs must be >= 1 (got %d)", num_refs);
    RNN__CHECK_ARG(refs);
    RNN__CHECK_ARG(ref_lens);
    for (int r = 0; r < num_refs; r++) {
        if (ref_lens[r] < 0)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "ref_lens[%d] must be >= 0 (got %lld)", r,
                            (long long)ref_lens[r]);
        if (ref_lens[r] > 0 && !refs[r])
            return RNN__ERR(RNN_ERR_INVALID_ARG, "refs[%d] must not be NULL (ref_lens[%d] = %lld)",
                            r, r, (long long)ref_lens[r]);
    }
    return bleu(__func__, &o, 1, &hyp, &hyp_len, num_refs, refs, ref_lens, out);
}
