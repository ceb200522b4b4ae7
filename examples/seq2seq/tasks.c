/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/rng.h"
#include "../common/tgz.h"

/* ------------------------------------------------------------------ PRNG */

/* xoshiro256** (Blackman & Vigna), seeded by splitmix64. */
typedef struct rng {
    uint64_t s[4];
} rng;

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = ex_splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n), n >= 1, without modulo bias. */
static uint64_t rng_below(rng *r, uint64_t n)
{
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = rng_next(r);
        if (x >= threshold)
            return x % n;
    }
}

/* ------------------------------------------------------------------ pairs */

static int pairs_add_n(pairs *p, const char *src, size_t ns, const char *tgt, size_t nt)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        char **s = realloc(p->src, cap * sizeof *s);
        if (!s)
            return -1;
        p->src = s;
        char **t = realloc(p->tgt, cap * sizeof *t);
        if (!t)
            return -1;
        p->tgt = t;
        p->cap = cap;
    }
    char *a = malloc(ns + 1), *b = malloc(nt + 1);
    if (!a || !b) {
        free(a);
        free(b);
        return -1;
    }
    memcpy(a, src, ns);
    a[ns] = 0;
    memcpy(b, tgt, nt);
    b[nt] = 0;
    p->src[p->n] = a;
    p->tgt[p->n++] = b;
    return 0;
}

int pairs_add(pairs *p, const char *src, const char *tgt)
{
    return pairs_add_n(p, src, strlen(src), tgt, strlen(tgt));
}

void pairs_free(pairs *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->src[i]);
        free(p->tgt[i]);
    }
    free(p->src);
    free(p->tgt);
    memset(p, 0, sizeof *p);
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

int pairs_split_disjoint(const pairs *all, uint64_t seed, size_t n_heldout, pairs *train,
                         pairs *heldout, char *err, size_t errlen)
{
    if (n_heldout > all->n) {
        snprintf(err, errlen, "cannot hold out %zu of %zu pairs", n_heldout, all->n);
        return -1;
    }
    size_t n = all->n, m = n ? n : 1, ngroups = 0;
    size_t *perm = malloc(m * sizeof *perm), *group = malloc(m * sizeof *group);
    size_t *gsize = calloc(m, sizeof *gsize);
    unsigned char *take = calloc(m, 1);
    vocab by_src;
    int rc = vocab_init(&by_src, pow2_at_least(2 * n + 2));
    if (!perm || !group || !gsize || !take)
        rc = -1;
    if (!rc) {
        rng r;
        rng_seed(&r, seed);
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
            size_t j = (size_t)rng_below(&r, i), t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        /* groups of equal sources, numbered in shuffled order of first sight */
        for (size_t k = 0; !rc && k < n; k++) {
            int32_t g = vocab_find(&by_src, all->src[perm[k]]);
            if (g < 0) {
                g = (int32_t)ngroups++;
                rc = vocab_add(&by_src, all->src[perm[k]], 1, g);
            }
            group[k] = (size_t)g;
            gsize[g]++;
        }
    }
    size_t held = 0;
    for (size_t g = 0; !rc && g < ngroups && held < n_heldout; g++)
        if (held + gsize[g] <= n_heldout) {
            take[g] = 1;
            held += gsize[g];
        }
    for (size_t k = 0; !rc && k < n; k++) {
        size_t i = perm[k];
        rc = pairs_add(take[group[k]] ? heldout : train, all->src[i], all->tgt[i]);
    }
    if (rc)
        snprintf(err, errlen, "out of memory splitting %zu pairs", n);
    vocab_free(&by_src);
    free(perm);
    free(group);
    free(gsize);
    free(take);
    return rc;
}

/* ------------------------------------------------------------------ dates */

static const int DAYS_BEFORE_MONTH[13] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
static const char *const MONTHS[12] = {"January", "February", "March",     "April",
                                       "May",     "June",     "July",      "August",
                                       "September", "October", "November", "December"};

static int is_leap(int y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int y, int m)
{
    static const int d[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m];
}

int64_t date_to_ordinal(int year, int month, int day)
{
    int64_t y = year - 1;
    return y * 365 + y / 4 - y / 100 + y / 400 + DAYS_BEFORE_MONTH[month] +
           (month > 2 && is_leap(year)) + day;
}

/* Python's datetime._ord2ymd. */
void date_from_ordinal(int64_t ordinal, int *year, int *month, int *day)
{
    int64_t n = ordinal - 1;
    int64_t n400 = n / 146097;
    n %= 146097;
    int64_t n100 = n / 36524;
    n %= 36524;
    int64_t n4 = n / 1461;
    n %= 1461;
    int64_t n1 = n / 365;
    n %= 365;
    int y = (int)(n400 * 400 + 1 + n100 * 100 + n4 * 4 + n1);
    if (n1 == 4 || n100 == 4) { /* the last day of a leap 4- or 400-year cycle */
        *year = y - 1;
        *month = 12;
        *day = 31;
        return;
    }
    int leap = n1 == 3 && (n4 != 24 || n100 == 3);
    int m = (int)((n + 50) >> 5);
    int64_t preceding = DAYS_BEFORE_MONTH[m] + (m > 2 && leap);
    if (preceding > n) {
        m--;
        preceding -= days_in_month(y, m);
    }
    *year = y;
    *month = m;
    *day = (int)(n - preceding + 1);
}

int dates_generate(uint64_t seed, size_t count, pairs *out, char *err, size_t errlen)
{
    rng r;
    rng_seed(&r, seed);
    int64_t lo = date_to_ordinal(1000, 1, 1), hi = date_to_ordinal(9999, 12, 31);
    for (size_t i = 0; i < count; i++) {
        int64_t o = lo + (int64_t)rng_below(&r, (uint64_t)(hi - lo + 1));
        int y, m, d;
        date_from_ordinal(o, &y, &m, &d);
        char src[64], tgt[48];
        snprintf(src, sizeof src, "%s %02d, %04d", MONTHS[m - 1], d, y);
        snprintf(tgt, sizeof tgt, "%04d-%02d-%02d", y, m, d);
        if (pairs_add(out, src, tgt)) {
            snprintf(err, errlen, "out of memory generating %zu dates", count);
            return -1;
        }
    }
    return 0;
}

/* --------------------------------------------------------------- addition */

/* Set of unordered pairs {a, b}, stored as (min, max). */
typedef struct pair_set {
    size_t cap, n;
    uint64_t *a, *b;
    unsigned char *used;
} pair_set;

static size_t pair_slot(const pair_set *s, uint64_t a, uint64_t b)
{
    uint64_t x = a, h = ex_splitmix64(&x) ^ b;
    size_t i = (size_t)(ex_splitmix64(&h) & (s->cap - 1));
    while (s->used[i] && (s->a[i] != a || s->b[i] != b))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int pair_set_init(pair_set *s, size_t cap)
{
    s->cap = cap;
    s->n = 0;
    s->a = malloc(cap * sizeof *s->a);
    s->b = malloc(cap * sizeof *s->b);
    s->used = calloc(cap, 1);
    return s->a && s->b && s->used ? 0 : -1;
}

static void pair_set_free(pair_set *s)
{
    free(s->a);
    free(s->b);
    free(s->used);
    memset(s, 0, sizeof *s);
}

/* 1 if inserted, 0 if already there, -1 out of memory. */
static int pair_set_insert(pair_set *s, uint64_t a, uint64_t b)
{
    if (a > b) {
        uint64_t t = a;
        a = b;
        b = t;
    }
    if ((s->n + 1) * 2 > s->cap) {
        pair_set g;
        if (pair_set_init(&g, s->cap * 2)) {
            pair_set_free(&g);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i]) {
                size_t j = pair_slot(&g, s->a[i], s->b[i]);
                g.used[j] = 1;
                g.a[j] = s->a[i];
                g.b[j] = s->b[i];
            }
        g.n = s->n;
        pair_set_free(s);
        *s = g;
    }
    size_t i = pair_slot(s, a, b);
    if (s->used[i])
        return 0;
    s->used[i] = 1;
    s->a[i] = a;
    s->b[i] = b;
    s->n++;
    return 1;
}

/* Keras: int(''.join(np.random.choice(list('0123456789'))
 *                    for i in range(np.random.randint(1, DIGITS + 1)))) */
static uint64_t random_number(rng *r, int digits)
{
    int len = 1 + (int)rng_below(r, (uint64_t)digits);
    uint64_t v = 0;
    for (int i = 0; i < len; i++)
        v = v * 10 + rng_below(r, 10);
    return v;
}

int addition_generate(uint64_t seed, size_t count, int digits, pairs *out, char *err,
                      size_t errlen)
{
    if (digits < 1 || digits > 18) {
        snprintf(err, errlen, "addition: digits must be in 1..18, not %d", digits);
        return -1;
    }
    if (digits <= 9) {
        uint64_t n = 1;
        for (int i = 0; i < digits; i++)
            n *= 10;
        if ((uint64_t)count > n * (n + 1) / 2) {
            snprintf(err, errlen, "addition: only %llu distinct pairs of %d-digit numbers",
                     (unsigned long long)(n * (n + 1) / 2), digits);
            return -1;
        }
    }
    rng r;
    rng_seed(&r, seed);
    pair_set seen;
    if (pair_set_init(&seen, 1024)) {
        pair_set_free(&seen);
        snprintf(err, errlen, "out of memory generating %zu additions", count);
        return -1;
    }
    /* Enough for the Keras settings by far; only asking for nearly every
     * possible pair (the rarest are drawn with tiny probability) hits it. */
    uint64_t max_draws = 1000 * (uint64_t)count + 10000000, draws = 0;
    int rc = 0;
    for (size_t made = 0; made < count && !rc;) {
        if (++draws > max_draws) {
            snprintf(err, errlen,
                     "addition: %zu distinct %d-digit pairs not found in %llu draws "
                     "(found %zu)",
                     count, digits, (unsigned long long)max_draws, made);
            rc = -1;
            break;
        }
        uint64_t a = random_number(&r, digits);
        uint64_t b = random_number(&r, digits);
        int ins = pair_set_insert(&seen, a, b);
        if (ins == 0)
            continue;
        char src[48], tgt[24];
        snprintf(src, sizeof src, "%llu+%llu", (unsigned long long)a, (unsigned long long)b);
        snprintf(tgt, sizeof tgt, "%llu", (unsigned long long)(a + b));
        if (ins < 0 || pairs_add(out, src, tgt)) {
            snprintf(err, errlen, "out of memory generating %zu additions", count);
            rc = -1;
        }
        made++;
    }
    pair_set_free(&seen);
    return rc;
}

/* -------------------------------------------------------- output buffers */

/* snprintf-like writer: keeps the first cap - 1 bytes, counts them all. */
typedef struct sbuf {
    char *out;
    size_t cap, len;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, b->len++)
        if (b->len + 1 < b->cap)
            b->out[b->len] = s[i];
}

static size_t sb_end(sbuf *b)
{
    if (b->cap)
        b->out[b->len < b->cap ? b->len : b->cap - 1] = 0;
    return b->len;
}

/* ------------------------------------------------ character vocabularies */

void char_vocab_build(char_vocab *v, const pairs *train, int side)
{
    unsigned char seen[256] = {0};
    for (size_t i = 0; i < train->n; i++)
        for (int s = 0; s < 2; s++) {
            if (!(side & (s ? PAIRS_TARGET : PAIRS_SOURCE)))
                continue;
            for (const unsigned char *p = (const unsigned char *)(s ? train->tgt[i] : train->src[i]);
                 *p; p++)
                seen[*p] = 1;
        }
    memset(v, 0, sizeof *v);
    v->n = TOK_FIRST;
    for (int c = 0; c < 256; c++) {
        v->id[c] = TOK_UNK;
        if (seen[c]) {
            v->id[c] = (int32_t)v->n;
            v->byte[v->n++] = (unsigned char)c;
        }
    }
}

size_t char_vocab_encode(const char_vocab *v, const char *s, int flags, int32_t *ids,
                         size_t cap)
{
    size_t n = 0;
    if (flags & ENC_START) {
        if (n < cap)
            ids[n] = TOK_START;
        n++;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        if (n < cap)
            ids[n] = v->id[*p];
    if (flags & ENC_END) {
        if (n < cap)
            ids[n] = TOK_END;
        n++;
    }
    return n;
}

size_t char_vocab_decode(const char_vocab *v, const int32_t *ids, size_t n, char *out,
                         size_t outlen)
{
    sbuf b = {out, outlen, 0};
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id == TOK_END)
            break;
        if (id == TOK_PAD || id == TOK_START)
            continue;
        char c = id >= TOK_FIRST && (size_t)id < v->n ? (char)v->byte[id] : '?';
        sb_put(&b, &c, 1);
    }
    return sb_end(&b);
}

/* ------------------------------------------------------------------ UTF-8 */

#define CP_BAD 0xFFFFFFFFu

/* Decodes one code point of NUL-terminated s (not at its end). Returns its
 * byte length; an invalid sequence (overlong, surrogate, > U+10FFFF,
 * truncated) gives CP_BAD and length 1. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        *cp = CP_BAD;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) { /* also stops at the NUL */
            *cp = CP_BAD;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = CP_BAD;
        return 1;
    }
    *cp = v;
    return len;
}

/* Whether s[0 .. n) is valid UTF-8 without NUL bytes. */
static int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        if (!*p)
            return 0;
        if (*p < 0x80) {
            p++;
            continue;
        }
        /* utf8_next stops at a NUL; a sequence running past end would need
         * bytes after it, which are a '\n', '\r' or the buffer's NUL */
        uint32_t cp;
        size_t len = utf8_next(p, &cp);
        if (cp == CP_BAD || len > (size_t)(end - p))
            return 0;
        p += len;
    }
    return 1;
}

static size_t utf8_put(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---------------------------------------------------------- tokenization */

enum { C_WORD, C_SPACE, C_DROP, C_PUNCT, C_APOS };

static int cp_class(uint32_t cp)
{
    switch (cp) {
    case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
    case 0xA0: case 0x2009: case 0x200B: case 0x202F:
        return C_SPACE;
    case 0xAD: case CP_BAD:
        return C_DROP;
    case '.': case ',': case '!': case '?': case ';': case ':': case '"': case 0xAB:
    case 0xBB: case '(': case ')':
        return C_PUNCT;
    case '\'': case 0x2019: case 0x2018:
        return C_APOS;
    default:
        return C_WORD;
    }
}

static uint32_t lower(uint32_t cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 32;
    if (cp == 0x152)
        return 0x153;
    if (cp == 0x178)
        return 0xFF;
    return cp;
}

/* The class of the next code point that is not dropped, and the code point. */
static int peek_class(const unsigned char *p, uint32_t *cp)
{
    while (*p) {
        p += utf8_next(p, cp);
        int c = cp_class(*cp);
        if (c != C_DROP)
            return c;
    }
    *cp = 0;
    return C_SPACE;
}

static int is_digit(uint32_t cp)
{
    return cp >= '0' && cp <= '9';
}

static int is_clitic(const char *w, size_t n)
{
    static const char *const cl[] = {"c",  "d",     "j",      "l",      "m",     "n", "s",
                                     "t",  "qu",    "jusqu",  "lorsqu", "puisqu", "quoiqu"};
    for (size_t i = 0; i < sizeof cl / sizeof *cl; i++)
        if (strlen(cl[i]) == n && !memcmp(cl[i], w, n))
            return 1;
    return 0;
}


typedef struct tok_state {
    token_list *t;
    size_t start; /* offset in t->buf of the current token */
    int fail;
} tok_state;

static void tk_put(tok_state *s, const char *b, size_t n)
{
    token_list *t = s->t;
    if (s->fail)
        return;
    if (t->len + n + 1 > t->cap_buf) {
        size_t cap = t->cap_buf ? t->cap_buf : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            s->fail = 1;
            return;
        }
        t->buf = nb;
        t->cap_buf = cap;
    }
    memcpy(t->buf + t->len, b, n);
    t->len += n;
}

/* Ends the current token, if there is one. */
static void tk_end(tok_state *s)
{
    token_list *t = s->t;
    if (s->fail || t->len == s->start)
        return;
    tk_put(s, "", 1); /* its NUL */
    if (s->fail)
        return;
    if (t->n == t->cap_tok) {
        size_t cap = t->cap_tok ? t->cap_tok * 2 : 32;
        size_t *no = realloc(t->off, cap * sizeof *no);
        if (!no) {
            s->fail = 1;
            return;
        }
        t->off = no;
        char **nt = realloc(t->tok, cap * sizeof *nt);
        if (!nt) {
            s->fail = 1;
            return;
        }
        t->tok = nt;
        t->cap_tok = cap;
    }
    t->off[t->n++] = s->start;
    s->start = t->len;
}

int word_tokenize(const char *text, int lang, token_list *t, char *err, size_t errlen)
{
    tok_state s = {t, 0, 0};
    t->n = 0;
    t->len = 0;
    const unsigned char *p = (const unsigned char *)text;
    uint32_t prev = 0; /* the last code point of the current token */
    while (*p && !s.fail) {
        uint32_t cp, next;
        p += utf8_next(p, &cp);
        int c = cp_class(cp), in_word = t->len > s.start;
        char u[4];
        if (c == C_DROP)
            continue;
        if (c == C_SPACE) {
            tk_end(&s);
            continue;
        }
        int nc = peek_class(p, &next);
        if (c == C_PUNCT) {
            if ((cp == '.' || cp == ',' || cp == ':') && in_word && is_digit(prev) &&
                is_digit(next)) { /* "3:30", "1,000", "2.5" */
                tk_put(&s, u, utf8_put(cp, u));
                prev = cp;
                continue;
            }
            tk_end(&s);
            tk_put(&s, u, utf8_put(cp, u));
            tk_end(&s);
            continue;
        }
        if (c == C_APOS) {
            if (lang == LANG_FR && in_word && is_clitic(t->buf + s.start, t->len - s.start)) {
                tk_put(&s, "'", 1); /* "l'homme" -> "l'" "homme" */
                tk_end(&s);
            } else if (in_word || nc == C_WORD) {
                tk_put(&s, "'", 1); /* "don't", "boys'", "'em" */
                prev = '\'';
            } else {
                tk_end(&s);
                tk_put(&s, "'", 1);
                tk_end(&s);
            }
            continue;
        }
        tk_put(&s, u, utf8_put(lower(cp), u));
        prev = cp;
    }
    tk_end(&s);
    if (s.fail) {
        t->n = 0;
        snprintf(err, errlen, "out of memory tokenizing");
        return -1;
    }
    for (size_t i = 0; i < t->n; i++)
        t->tok[i] = t->buf + t->off[i];
    return 0;
}

void token_list_free(token_list *t)
{
    free(t->tok);
    free(t->buf);
    free(t->off);
    memset(t, 0, sizeof *t);
}

size_t word_count(const char *text)
{
    size_t n = 0;
    int word = 0; /* the current run holds a word character */
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        uint32_t cp;
        p += utf8_next(p, &cp);
        int c = cp_class(cp);
        if (c == C_SPACE) {
            n += (size_t)word;
            word = 0;
        } else if (c == C_WORD) {
            word = 1;
        }
    }
    return n + (size_t)word;
}

/* ---------------------------------------------------------------- fra-eng */

static int ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims ASCII whitespace around [*s, *s + *n). */
static void trim(char **s, size_t *n)
{
    while (*n && ascii_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && ascii_space((*s)[*n - 1]))
        (*n)--;
}

int fra_eng_load(const char *path_gz, int max_words, pairs *out, fra_eng_stats *stats,
                 char *err, size_t errlen)
{
    fra_eng_stats st = {0};
    size_t n;
    char *buf = read_file_gz(path_gz, &n, err, errlen);
    if (!buf) {
        if (stats)
            *stats = st;
        return -1;
    }
    char *line = buf, *end = buf + n;
    if (n >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) /* byte-order mark */
        line += 3;
    int rc = 0;
    while (!rc && line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
        char *next = nl ? nl + 1 : end;
        st.lines++;
        if (len && line[len - 1] == '\r')
            len--;
        line[len] = 0; /* the '\r', the '\n' or read_file_gz's final NUL */
        int blank = 1;
        for (size_t i = 0; i < len && blank; i++)
            blank = ascii_space(line[i]);
        char *tab = blank ? NULL : memchr(line, '\t', len);
        const char *bad = NULL;
        if (blank) {
            st.blank++;
        } else if (!utf8_valid(line, len)) {
            st.bad_utf8++;
            bad = "invalid UTF-8 or a NUL byte";
        } else if (!tab) {
            st.no_tab++;
            bad = "no TAB between the English and the French";
        } else {
            char *en = line, *fr = tab + 1, *tab2 = memchr(fr, '\t', (size_t)(line + len - fr));
            size_t nen = (size_t)(tab - line), nfr = (size_t)((tab2 ? tab2 : line + len) - fr);
            trim(&en, &nen);
            trim(&fr, &nfr);
            en[nen] = 0; /* at most the first tab */
            fr[nfr] = 0; /* at most the second tab or the line's end */
            if (!nen || !nfr) {
                st.empty++;
                bad = nen ? "the French side is empty" : "the English side is empty";
            }
            else if (max_words > 0 &&
                     (word_count(en) > (size_t)max_words || word_count(fr) > (size_t)max_words))
                st.too_long++;
            else if (pairs_add_n(out, en, nen, fr, nfr)) {
                snprintf(err, errlen, "out of memory reading %s", path_gz);
                rc = -1;
            } else
                st.kept++;
        }
        if (bad && !st.first_bad) {
            st.first_bad = st.lines;
            st.first_bad_what = bad;
        }
        line = next;
    }
    free(buf);
    if (stats)
        *stats = st;
    return rc;
}

/* ------------------------------------------------------ word vocabularies */

/* Counts one more w, doubling the table when it is half full. */
static int count_word(vocab *c, const char *w)
{
    if ((c->n + 1) * 2 > c->cap) {
        vocab g;
        if (vocab_init(&g, c->cap * 2))
            return -1;
        for (size_t i = 0; i < c->cap; i++)
            if (c->key[i] && vocab_add(&g, c->key[i], c->count[i], c->id[i])) {
                vocab_free(&g);
                return -1;
            }
        vocab_free(c);
        *c = g;
    }
    return vocab_add(c, w, 1, 0);
}

static const char *const SPECIALS[TOK_FIRST] = {"<pad>", "<s>", "</s>", "<unk>"};

int word_vocab_build(word_vocab *v, const pairs *train, int side, int lang, int min_count,
                     size_t max_size, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->lang = lang;
    vocab counts;
    token_list t = {0};
    int rc = vocab_init(&counts, 1 << 12), oom = rc != 0;
    for (size_t i = 0; !rc && i < train->n; i++)
        for (int s = 0; !rc && s < 2; s++) {
            if (!(side & (s ? PAIRS_TARGET : PAIRS_SOURCE)))
                continue;
            rc = word_tokenize(s ? train->tgt[i] : train->src[i], lang, &t, err, errlen);
            for (size_t k = 0; !rc && k < t.n; k++)
                oom = rc = count_word(&counts, t.tok[k]);
        }
    if (!rc) {
        size_t keep = 0, room = max_size > TOK_FIRST ? max_size - TOK_FIRST : 0;
        for (size_t i = 0; i < counts.cap; i++)
            keep += counts.key[i] && counts.count[i] >= (min_count > 1 ? min_count : 1);
        oom = rc = vocab_top(&counts, keep < room ? keep : room, TOK_FIRST, &v->index);
    }
    if (!rc) {
        v->n = TOK_FIRST + v->index.n;
        v->word = malloc(v->n * sizeof *v->word);
        oom = rc = v->word ? 0 : -1;
    }
    if (!rc) {
        for (int i = 0; i < TOK_FIRST; i++)
            v->word[i] = SPECIALS[i];
        for (size_t i = 0; i < v->index.cap; i++)
            if (v->index.key[i])
                v->word[v->index.id[i]] = v->index.key[i];
    }
    vocab_free(&counts);
    token_list_free(&t);
    if (rc) {
        if (oom)
            snprintf(err, errlen, "out of memory building a vocabulary of %zu pairs", train->n);
        word_vocab_free(v);
    }
    return rc;
}

void word_vocab_free(word_vocab *v)
{
    free(v->word);
    vocab_free(&v->index);
    memset(v, 0, sizeof *v);
}

int32_t word_vocab_id(const word_vocab *v, const char *tok)
{
    int32_t id = v->index.key ? vocab_find(&v->index, tok) : -1;
    return id < 0 ? TOK_UNK : id;
}

size_t word_vocab_encode(const word_vocab *v, const token_list *t, int flags, int32_t *ids,
                         size_t cap)
{
    size_t n = 0;
    if (flags & ENC_START) {
        if (n < cap)
            ids[n] = TOK_START;
        n++;
    }
    for (size_t i = 0; i < t->n; i++, n++)
        if (n < cap)
            ids[n] = word_vocab_id(v, t->tok[i]);
    if (flags & ENC_END) {
        if (n < cap)
            ids[n] = TOK_END;
        n++;
    }
    return n;
}

static int one_of(const char *w, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(w, set[i]))
            return 1;
    return 0;
}

size_t word_vocab_decode(const word_vocab *v, const int32_t *ids, size_t n, char *out,
                         size_t outlen)
{
    static const char *const tight[] = {".", ",", ")"}, *const high[] = {"!", "?", ";", ":"};
    sbuf b = {out, outlen, 0};
    int first = 1, glue = 0, quotes = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id == TOK_END)
            break;
        if (id == TOK_PAD || id == TOK_START)
            continue;
        const char *w = id >= TOK_FIRST && (size_t)id < v->n ? v->word[id] : SPECIALS[TOK_UNK];
        size_t len = strlen(w);
        int space = !first && !glue, open_quote = 0;
        if (one_of(w, tight, 3) || (v->lang != LANG_FR && one_of(w, high, 4)))
            space = 0;
        if (!strcmp(w, "\"")) {
            if (quotes++ % 2)
                space = 0;
            else
                open_quote = 1;
        }
        if (space)
            sb_put(&b, " ", 1);
        sb_put(&b, w, len);
        glue = !strcmp(w, "(") || open_quote || (v->lang == LANG_FR && len && w[len - 1] == '\'');
        first = 0;
    }
    return sb_end(&b);
}
