/* SPDX-License-Identifier: Apache-2.0 */
/* The seq2seq example's data: the date and addition generators (valid
 * calendar dates that match their ISO targets, correct sums, no repeated
 * unordered pair, seeds), the disjoint split, the character and word
 * vocabularies, the fra-eng tokenizer, and the fra-eng loader on a fixture in
 * the exact format with awkward lines (BOM, CRLF, blank lines, no tab,
 * U+202F / U+00A0 / U+2009, « », ’, invalid UTF-8, a NUL byte, an over-long
 * pair, a third column, no final newline); then the real fra.txt.gz when
 * ../shared/data is there. Usage: test_seq2seq_data FIXTURES_DIR [DATA_DIR] */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/seq2seq/tasks.h"
#include "data_test.h"
#include "hostile_files.h"


static const char *const MONTH[12] = {"January", "February", "March",     "April",
                                      "May",     "June",     "July",      "August",
                                      "September", "October", "November", "December"};

static int leap(int y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int mdays(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether every source of held appears nowhere in train. */
static int disjoint(const pairs *train, const pairs *held)
{
    char **s = malloc((train->n + 1) * sizeof *s);
    ck_assert_ptr_nonnull(s);
    memcpy(s, train->src, train->n * sizeof *s);
    qsort(s, train->n, sizeof *s, cmp_str);
    int ok = 1;
    for (size_t i = 0; ok && i < held->n; i++)
        ok = !bsearch(&held->src[i], s, train->n, sizeof *s, cmp_str);
    free(s);
    return ok;
}

/* ------------------------------------------------------------------ dates */

START_TEST(ordinals)
{
    static const struct {
        int y, m, d;
        int64_t ord; /* Python's date(y, m, d).toordinal() */
    } known[] = {{1, 1, 1, 1},           {1000, 1, 1, 364878},  {1600, 2, 29, 584082},
                 {1900, 2, 28, 693654},  {1900, 3, 1, 693655},  {2000, 2, 29, 730179},
                 {2000, 12, 31, 730485}, {2019, 4, 22, 737171}, {7076, 9, 2, 2584336},
                 {9999, 12, 31, 3652059}};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        int y, m, d;
        ck_assert_int_eq(date_to_ordinal(known[i].y, known[i].m, known[i].d), known[i].ord);
        date_from_ordinal(known[i].ord, &y, &m, &d);
        ck_assert_int_eq(y, known[i].y);
        ck_assert_int_eq(m, known[i].m);
        ck_assert_int_eq(d, known[i].d);
    }
    /* every day of 1000 .. 9999 in turn, against a plain calendar walk */
    int y = 1000, m = 1, d = 1;
    for (int64_t o = 364878; o <= 3652059; o++) {
        int yy, mm, dd;
        date_from_ordinal(o, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d)
            ck_abort_msg("ordinal %lld: %04d-%02d-%02d, expected %04d-%02d-%02d", (long long)o,
                         yy, mm, dd, y, m, d);
        if (++d > mdays(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    ck_assert_int_eq(y, 10000);
}
END_TEST

/* Parses "Month DD, YYYY"; checks the date is valid and the target is its ISO form. */
static void check_date(const char *src, const char *tgt, int *year, int *month, int *day)
{
    char name[16];
    int d, y, used = 0;
    ck_assert_msg(sscanf(src, "%15s %2d, %4d%n", name, &d, &y, &used) == 3, "%s", src);
    ck_assert_msg((size_t)used == strlen(src), "%s", src);
    int m = 0;
    for (int k = 0; k < 12; k++)
        if (!strcmp(name, MONTH[k]))
            m = k + 1;
    ck_assert_msg(m, "bad month in %s", src);
    ck_assert_msg(src[strlen(name) + 1] != ' ' && src[strlen(name) + 3] == ',', "%s", src);
    ck_assert_msg(y >= 1000 && y <= 9999 && d >= 1 && d <= mdays(y, m), "%s", src);
    char iso[48];
    snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m, d);
    ck_assert_str_eq(tgt, iso);
    *year = y;
    *month = m;
    *day = d;
}

START_TEST(dates)
{
    char err[256];
    pairs p = {0}, q = {0};
    int lo = 10000, hi = 0, feb29 = 0;
    for (uint64_t seed = 0; seed < 20; seed++) {
        ck_assert_msg(dates_generate(seed, 5000, &p, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(p.n, 5000);
        for (size_t i = 0; i < p.n; i++) {
            int y, m, d;
            check_date(p.src[i], p.tgt[i], &y, &m, &d);
            lo = y < lo ? y : lo;
            hi = y > hi ? y : hi;
            if (m == 2 && d == 29) {
                ck_assert(leap(y));
                feb29++;
            }
        }
        pairs_free(&p);
    }
    ck_assert_int_eq(lo, 1000);
    ck_assert_int_eq(hi, 9999);
    ck_assert_int_gt(feb29, 0);
    /* the format, as Python's MONTHS[m-1] + " " + dt.strftime("%d, %Y") */
    ck_assert_int_eq(dates_generate(7, 3, &p, err, sizeof err), 0);
    for (size_t i = 0; i < p.n; i++)
        printf("dates seed 7: %s -> %s\n", p.src[i], p.tgt[i]);
    /* same seed, same pairs; another seed, other pairs */
    ck_assert_int_eq(dates_generate(7, 3, &q, err, sizeof err), 0);
    for (size_t i = 0; i < p.n; i++) {
        ck_assert_str_eq(p.src[i], q.src[i]);
        ck_assert_str_eq(p.tgt[i], q.tgt[i]);
    }
    pairs_free(&q);
    ck_assert_int_eq(dates_generate(8, 3, &q, err, sizeof err), 0);
    int same = 0;
    for (size_t i = 0; i < p.n; i++)
        same += !strcmp(p.src[i], q.src[i]);
    ck_assert_int_eq(same, 0);
    /* appends */
    ck_assert_int_eq(dates_generate(9, 2, &q, err, sizeof err), 0);
    ck_assert_uint_eq(q.n, 5);
    pairs_free(&p);
    pairs_free(&q);
    ck_assert_int_eq(dates_generate(1, 0, &p, err, sizeof err), 0);
    ck_assert_uint_eq(p.n, 0);
    pairs_free(&p);
}
END_TEST

/* --------------------------------------------------------------- addition */

typedef struct upair {
    unsigned long long a, b;
} upair;

static int cmp_upair(const void *x, const void *y)
{
    const upair *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

/* Checks sums and digits; returns how many unordered pairs repeat. */
static size_t check_additions(const pairs *p, int digits)
{
    upair *u = malloc((p->n + 1) * sizeof *u);
    ck_assert_ptr_nonnull(u);
    for (size_t i = 0; i < p->n; i++) {
        unsigned long long a, b, s;
        int used = 0;
        ck_assert_msg(sscanf(p->src[i], "%llu+%llu%n", &a, &b, &used) == 2 &&
                          (size_t)used == strlen(p->src[i]),
                      "%s", p->src[i]);
        const char *plus = strchr(p->src[i], '+');
        ck_assert_int_le(plus - p->src[i], digits);
        ck_assert_int_le((int)strlen(plus + 1), digits);
        ck_assert_msg(p->src[i][0] != '0' || plus == p->src[i] + 1, "%s", p->src[i]);
        ck_assert_msg(sscanf(p->tgt[i], "%llu%n", &s, &used) == 1 &&
                          (size_t)used == strlen(p->tgt[i]),
                      "%s", p->tgt[i]);
        ck_assert_msg(s == a + b, "%s = %s", p->src[i], p->tgt[i]);
        u[i].a = a < b ? a : b;
        u[i].b = a < b ? b : a;
    }
    qsort(u, p->n, sizeof *u, cmp_upair);
    size_t dup = 0;
    for (size_t i = 1; i < p->n; i++)
        dup += !cmp_upair(&u[i - 1], &u[i]);
    free(u);
    return dup;
}

START_TEST(addition)
{
    char err[256];
    pairs p = {0}, q = {0};
    /* Keras' settings: 50,000 questions of up to 3 digits */
    ck_assert_msg(addition_generate(4, 50000, 3, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.n, 50000);
    ck_assert_uint_eq(check_additions(&p, 3), 0);
    size_t short_a = 0;
    for (size_t i = 0; i < p.n; i++)
        short_a += strchr(p.src[i], '+') - p.src[i] == 1;
    ck_assert_uint_gt(short_a, 500); /* random lengths: one-digit numbers are common */
    printf("addition seed 4: %s = %s, %s = %s\n", p.src[0], p.tgt[0], p.src[1], p.tgt[1]);
    ck_assert_int_eq(addition_generate(4, 50, 3, &q, err, sizeof err), 0);
    for (size_t i = 0; i < q.n; i++)
        ck_assert_str_eq(p.src[i], q.src[i]);
    pairs_free(&q);
    ck_assert_int_eq(addition_generate(5, 50, 3, &q, err, sizeof err), 0);
    int same = 0;
    for (size_t i = 0; i < q.n; i++)
        same += !strcmp(p.src[i], q.src[i]);
    ck_assert_int_lt(same, 10);
    pairs_free(&p);
    pairs_free(&q);
    /* one digit: all 55 unordered pairs of 0..9, and no more */
    ck_assert_msg(addition_generate(1, 55, 1, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(check_additions(&p, 1), 0);
    pairs_free(&p);
    ck_assert_int_eq(addition_generate(1, 56, 1, &p, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "only 55 distinct pairs"));
    ck_assert_int_eq(addition_generate(1, 5, 0, &p, err, sizeof err), -1);
    ck_assert_int_eq(addition_generate(1, 5, 19, &p, err, sizeof err), -1);
    ck_assert_uint_eq(p.n, 0);
    /* 18 digits: sums up to 1,999,999,999,999,999,998 */
    ck_assert_int_eq(addition_generate(3, 2000, 18, &p, err, sizeof err), 0);
    ck_assert_uint_eq(check_additions(&p, 18), 0);
    pairs_free(&p);
}
END_TEST

/* ------------------------------------------------------------------ split */

START_TEST(split)
{
    char err[256];
    pairs all = {0}, tr = {0}, ho = {0}, tr2 = {0}, ho2 = {0};
    ck_assert_int_eq(dates_generate(11, 20000, &all, err, sizeof err), 0);
    ck_assert_msg(pairs_split_disjoint(&all, 1, 2000, &tr, &ho, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(ho.n, 2000);
    ck_assert_uint_eq(tr.n, 18000);
    ck_assert(disjoint(&tr, &ho));
    ck_assert_int_eq(pairs_split_disjoint(&all, 1, 2000, &tr2, &ho2, err, sizeof err), 0);
    for (size_t i = 0; i < ho.n; i++)
        ck_assert_str_eq(ho.src[i], ho2.src[i]);
    pairs_free(&tr2);
    pairs_free(&ho2);
    ck_assert_int_eq(pairs_split_disjoint(&all, 2, 2000, &tr2, &ho2, err, sizeof err), 0);
    ck_assert_str_ne(ho.src[0], ho2.src[0]);
    pairs_free(&tr2);
    pairs_free(&ho2);
    pairs_free(&tr);
    pairs_free(&ho);
    pairs_free(&all);

    /* 10 sources with 10 targets each: groups stay whole, so 25 -> 20 */
    char s[16], t[16];
    for (int i = 0; i < 100; i++) {
        snprintf(s, sizeof s, "s%d", i % 10);
        snprintf(t, sizeof t, "t%d", i);
        ck_assert_int_eq(pairs_add(&all, s, t), 0);
    }
    ck_assert_int_eq(pairs_split_disjoint(&all, 3, 25, &tr, &ho, err, sizeof err), 0);
    ck_assert_uint_eq(ho.n, 20);
    ck_assert_uint_eq(tr.n, 80);
    ck_assert(disjoint(&tr, &ho));
    pairs_free(&tr);
    pairs_free(&ho);
    /* a singleton fills the rest exactly */
    ck_assert_int_eq(pairs_add(&all, "alone", "t"), 0);
    ck_assert_int_eq(pairs_split_disjoint(&all, 3, 11, &tr, &ho, err, sizeof err), 0);
    ck_assert_uint_eq(ho.n, 11);
    ck_assert(disjoint(&tr, &ho));
    pairs_free(&tr);
    pairs_free(&ho);
    ck_assert_int_eq(pairs_split_disjoint(&all, 3, 0, &tr, &ho, err, sizeof err), 0);
    ck_assert_uint_eq(ho.n, 0);
    ck_assert_uint_eq(tr.n, 101);
    pairs_free(&tr);
    pairs_free(&ho);
    ck_assert_int_eq(pairs_split_disjoint(&all, 3, 102, &tr, &ho, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot hold out 102 of 101"));
    pairs_free(&all);
}
END_TEST

/* --------------------------------------------------- character vocabulary */

START_TEST(char_vocab_round_trip)
{
    char err[256], out[64];
    pairs p = {0};
    ck_assert_int_eq(dates_generate(5, 2000, &p, err, sizeof err), 0);
    char_vocab v;
    char_vocab_build(&v, &p, PAIRS_BOTH);
    /* digits, ' ', ',', '-' and the letters of the twelve month names */
    ck_assert_int_eq(v.id[' '], TOK_FIRST);
    ck_assert_int_eq(v.id[','], TOK_FIRST + 1);
    ck_assert_int_eq(v.id['-'], TOK_FIRST + 2);
    ck_assert_int_eq(v.id['0'], TOK_FIRST + 3);
    ck_assert_int_eq(v.id['9'], TOK_FIRST + 12);
    ck_assert_int_eq(v.id['A'], TOK_FIRST + 13);
    ck_assert_int_eq(v.id['x'], TOK_UNK);
    ck_assert_int_eq(v.id['+'], TOK_UNK);
    for (int c = 1; c < 256; c++)
        if (v.id[c] != TOK_UNK)
            ck_assert_int_eq(v.byte[v.id[c]], c);
    int32_t ids[64];
    for (size_t i = 0; i < p.n; i++) {
        size_t n = char_vocab_encode(&v, p.src[i], ENC_START | ENC_END, ids, 64);
        ck_assert_uint_eq(n, strlen(p.src[i]) + 2);
        ck_assert_int_eq(ids[0], TOK_START);
        ck_assert_int_eq(ids[n - 1], TOK_END);
        ck_assert_uint_eq(char_vocab_decode(&v, ids, n, out, sizeof out), strlen(p.src[i]));
        ck_assert_str_eq(out, p.src[i]);
        n = char_vocab_encode(&v, p.tgt[i], 0, ids, 64);
        ck_assert_uint_eq(n, 10);
        ids[n] = TOK_PAD;
        ids[n + 1] = TOK_PAD;
        char_vocab_decode(&v, ids, n + 2, out, sizeof out);
        ck_assert_str_eq(out, p.tgt[i]);
    }
    /* sides: targets alone hold only digits and '-' */
    char_vocab t;
    char_vocab_build(&t, &p, PAIRS_TARGET);
    ck_assert_uint_eq(t.n, TOK_FIRST + 11);
    /* unknown, cut and stop-at-end */
    size_t n = char_vocab_encode(&v, "May 1x", ENC_END, ids, 4);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(ids[0], v.id['M']);
    n = char_vocab_encode(&v, "May 1x", ENC_END, ids, 64);
    ck_assert_int_eq(ids[5], TOK_UNK);
    ck_assert_uint_eq(char_vocab_decode(&v, ids, n, out, sizeof out), 6);
    ck_assert_str_eq(out, "May 1?");
    ck_assert_uint_eq(char_vocab_decode(&v, ids, n, out, 4), 6);
    ck_assert_str_eq(out, "May");
    int32_t odd[] = {TOK_START, v.id['4'], 999, -5, v.id['2'], TOK_END, v.id['7']};
    ck_assert_uint_eq(char_vocab_decode(&v, odd, 7, out, sizeof out), 4);
    ck_assert_str_eq(out, "4??2");
    pairs_free(&p);
}
END_TEST

/* ------------------------------------------------------------- tokenizer */

static const char *toks(const char *text, int lang, char *buf, size_t n)
{
    token_list t = {0};
    char err[128];
    ck_assert_int_eq(word_tokenize(text, lang, &t, err, sizeof err), 0);
    buf[0] = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (i)
            strncat(buf, "|", n - strlen(buf) - 1);
        strncat(buf, t.tok[i], n - strlen(buf) - 1);
    }
    token_list_free(&t);
    return buf;
}

START_TEST(tokenizer)
{
    char b[512];
    /* English: inner, trailing and leading apostrophes stay; punctuation splits */
    ck_assert_str_eq(toks("Don't, please! I'm TOM.", LANG_EN, b, sizeof b),
                     "don't|,|please|!|i'm|tom|.");
    ck_assert_str_eq(toks("The boys' club; lick 'em (now): \"yes\"?", LANG_EN, b, sizeof b),
                     "the|boys'|club|;|lick|'em|(|now|)|:|\"|yes|\"|?");
    ck_assert_str_eq(toks("It's 3:30, 1,000 or 2.5... End.", LANG_EN, b, sizeof b),
                     "it's|3:30|,|1,000|or|2.5|.|.|.|end|.");
    ck_assert_str_eq(toks("I\xe2\x80\x99m a ' lone one", LANG_EN, b, sizeof b),
                     "i'm|a|'|lone|one");
    ck_assert_str_eq(toks("  \t\r\n ", LANG_EN, b, sizeof b), "");
    ck_assert_str_eq(toks("", LANG_FR, b, sizeof b), "");
    /* English does not split elisions */
    ck_assert_str_eq(toks("l'homme", LANG_EN, b, sizeof b), "l'homme");
    /* French: elisions split after the apostrophe (' and ’), others stay */
    ck_assert_str_eq(toks("L'homme qu'il voit.", LANG_FR, b, sizeof b),
                     "l'|homme|qu'|il|voit|.");
    ck_assert_str_eq(toks("J\xe2\x80\x99" "ai vu quelqu'un aujourd'hui.", LANG_FR, b, sizeof b),
                     "j'|ai|vu|quelqu'un|aujourd'hui|.");
    ck_assert_str_eq(toks("Jusqu'\xc3\xa0 lorsqu'elle s'en va, c'est \xc3\xa7" "a ; n'y pense pas",
                          LANG_FR, b, sizeof b),
                     "jusqu'|\xc3\xa0|lorsqu'|elle|s'|en|va|,|c'|est|\xc3\xa7" "a|;|n'|y|pense|pas");
    ck_assert_str_eq(toks("Qu'est-ce que c'est\xe2\x80\xaf?", LANG_FR, b, sizeof b),
                     "qu'|est-ce|que|c'|est|?");
    /* spaces U+00A0, U+202F, U+2009, U+200B; « » */
    ck_assert_str_eq(toks("Il a dit\xc2\xa0: \xc2\xab\xc2\xa0" "Arr\xc3\xaate\xe2\x80\xaf! \xc2\xbb",
                          LANG_FR, b, sizeof b),
                     "il|a|dit|:|\xc2\xab|arr\xc3\xaate|!|\xc2\xbb");
    ck_assert_str_eq(toks("a\xe2\x80\x89" "b\xe2\x80\x8b" "c", LANG_FR, b, sizeof b), "a|b|c");
    /* lower case: À-Þ (not ×), Œ, Ÿ */
    ck_assert_str_eq(toks("\xc3\x80 \xc3\x89T\xc3\x89 \xc3\x87" "A \xc5\x92UVRE \xc3\x9e \xc3\x97 "
                          "\xc5\xb8",
                          LANG_FR, b, sizeof b),
                     "\xc3\xa0|\xc3\xa9t\xc3\xa9|\xc3\xa7" "a|\xc5\x93uvre|\xc3\xbe|\xc3\x97|\xc3\xbf");
    /* invalid bytes and soft hyphens are dropped; '-' and '$' belong to words */
    ck_assert_str_eq(toks("a\xff" "b inter\xc2\xad" "national \xc0\xaf $5 peut-\xc3\xaatre",
                          LANG_FR, b, sizeof b),
                     "ab|international|$5|peut-\xc3\xaatre");
    ck_assert_str_eq(toks("trunc\xc3", LANG_EN, b, sizeof b), "trunc");
    /* reuse: a second call overwrites */
    token_list t = {0};
    char err[64];
    ck_assert_int_eq(word_tokenize("one two three four", LANG_EN, &t, err, sizeof err), 0);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_int_eq(word_tokenize("five", LANG_EN, &t, err, sizeof err), 0);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_str_eq(t.tok[0], "five");
    token_list_free(&t);
    /* the words the loader's max_words counts */
    ck_assert_uint_eq(word_count("Va\xe2\x80\xaf!"), 1);
    ck_assert_uint_eq(word_count("Run!"), 1);
    ck_assert_uint_eq(word_count("Il n'y a personne."), 4);
    ck_assert_uint_eq(word_count("\xc2\xab Oui \xc2\xbb , dit-il ' ."), 2);
    ck_assert_uint_eq(word_count("It's 3:30."), 2);
    ck_assert_uint_eq(word_count(""), 0);
}
END_TEST

/* --------------------------------------------------------- word vocabulary */

static const char *decode_text(const word_vocab *v, const char *text, int flags, char *out,
                               size_t outlen)
{
    token_list t = {0};
    char err[64];
    int32_t ids[128];
    ck_assert_int_eq(word_tokenize(text, v->lang, &t, err, sizeof err), 0);
    size_t n = word_vocab_encode(v, &t, flags, ids, 128);
    ck_assert_uint_eq(n, t.n + !!(flags & ENC_START) + !!(flags & ENC_END));
    token_list_free(&t);
    word_vocab_decode(v, ids, n, out, outlen);
    return out;
}

START_TEST(word_vocab_round_trip)
{
    char err[256], out[256];
    pairs p = {0};
    ck_assert_int_eq(pairs_add(&p, "The cat sat.", "Le chat s'est assis."), 0);
    ck_assert_int_eq(pairs_add(&p, "The dog, the cat!", "Le chien, le chat\xe2\x80\xaf!"), 0);
    ck_assert_int_eq(pairs_add(&p, "Where's the man?", "O\xc3\xb9 est l'homme\xe2\x80\xaf?"), 0);
    word_vocab en, fr;
    ck_assert_msg(word_vocab_build(&en, &p, PAIRS_SOURCE, LANG_EN, 1, 1000, err, sizeof err) == 0,
                  "%s", err);
    /* the 4, cat 2, then by bytes: ! , . ? dog man sat where's */
    static const char *const want[] = {"<pad>", "<s>", "</s>",  "<unk>", "the", "cat", "!",
                                       ",",     ".",   "?",    "dog",   "man", "sat", "where's"};
    ck_assert_uint_eq(en.n, sizeof want / sizeof *want);
    for (size_t i = 0; i < en.n; i++)
        ck_assert_str_eq(en.word[i], want[i]);
    ck_assert_int_eq(word_vocab_id(&en, "the"), 4);
    ck_assert_int_eq(word_vocab_id(&en, "The"), TOK_UNK);
    ck_assert_int_eq(word_vocab_id(&en, "zebra"), TOK_UNK);
    ck_assert_str_eq(decode_text(&en, "Where's the dog, the man?", ENC_START | ENC_END, out,
                                 sizeof out),
                     "where's the dog, the man?");
    ck_assert_str_eq(decode_text(&en, "The zebra sat!", 0, out, sizeof out),
                     "the <unk> sat!");
    word_vocab_free(&en);
    /* min_count and max_size */
    ck_assert_int_eq(word_vocab_build(&en, &p, PAIRS_SOURCE, LANG_EN, 2, 1000, err, sizeof err), 0);
    ck_assert_uint_eq(en.n, 6);
    word_vocab_free(&en);
    ck_assert_int_eq(word_vocab_build(&en, &p, PAIRS_SOURCE, LANG_EN, 1, 7, err, sizeof err), 0);
    ck_assert_uint_eq(en.n, 7);
    ck_assert_str_eq(en.word[6], "!");
    word_vocab_free(&en);
    ck_assert_int_eq(word_vocab_build(&en, &p, PAIRS_SOURCE, LANG_EN, 1, 2, err, sizeof err), 0);
    ck_assert_uint_eq(en.n, TOK_FIRST);
    ck_assert_int_eq(word_vocab_id(&en, "the"), TOK_UNK);
    word_vocab_free(&en);

    ck_assert_msg(word_vocab_build(&fr, &p, PAIRS_TARGET, LANG_FR, 1, 1000, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(word_vocab_id(&fr, "le"), 4);
    ck_assert_int_eq(word_vocab_id(&fr, "l'") >= TOK_FIRST, 1);
    ck_assert_int_eq(word_vocab_id(&fr, "s'") >= TOK_FIRST, 1);
    ck_assert_str_eq(decode_text(&fr, "Le chat s'est assis.", ENC_END, out, sizeof out),
                     "le chat s'est assis.");
    ck_assert_str_eq(decode_text(&fr, "O\xc3\xb9 est l'homme\xe2\x80\xaf?", 0, out, sizeof out),
                     "o\xc3\xb9 est l'homme ?");
    ck_assert_str_eq(decode_text(&fr, "Le chien\xc2\xa0! Le chat, l'homme.", 0, out, sizeof out),
                     "le chien ! le chat, l'homme.");
    /* ids: pad/start skipped, end stops, unknown and out of range */
    int32_t ids[] = {TOK_PAD, TOK_START, word_vocab_id(&fr, "le"), TOK_UNK, 12345,
                     word_vocab_id(&fr, "!"), TOK_END, word_vocab_id(&fr, "chat")};
    ck_assert_uint_eq(word_vocab_decode(&fr, ids, 8, out, sizeof out), 16);
    ck_assert_str_eq(out, "le <unk> <unk> !");
    ck_assert_uint_eq(word_vocab_decode(&fr, ids, 8, out, 6), 16);
    ck_assert_str_eq(out, "le <u");
    word_vocab_free(&fr);
    pairs_free(&p);

    /* detokenization of the other marks, from a vocabulary of all sides */
    ck_assert_int_eq(pairs_add(&p, "( ) \" , . ! ? ; : \xc2\xab \xc2\xbb a b c l' qu'", ""), 0);
    ck_assert_int_eq(word_vocab_build(&en, &p, PAIRS_BOTH, LANG_EN, 1, 100, err, sizeof err), 0);
    ck_assert_int_eq(word_vocab_build(&fr, &p, PAIRS_BOTH, LANG_FR, 1, 100, err, sizeof err), 0);
    ck_assert_str_eq(decode_text(&en, "a (b) \"c\" a: b; c! a?", 0, out, sizeof out),
                     "a (b) \"c\" a: b; c! a?");
    ck_assert_str_eq(decode_text(&fr, "a (b) \"c\" a\xe2\x80\xaf: b\xc2\xa0; c ! \xc2\xab a\xc2\xa0\xc2\xbb",
                                 0, out, sizeof out),
                     "a (b) \"c\" a : b ; c ! \xc2\xab a \xc2\xbb");
    ck_assert_str_eq(decode_text(&fr, "qu'a l'b", 0, out, sizeof out), "qu'a l'b");
    word_vocab_free(&en);
    word_vocab_free(&fr);
    pairs_free(&p);
}
END_TEST

/* ----------------------------------------------------------------- loader */

START_TEST(fra_eng_fixture)
{
    char path[1024], err[256];
    pairs p = {0};
    fra_eng_stats st;
    snprintf(path, sizeof path, "%s/fra-eng/fra.txt.gz", fixtures);
    ck_assert_msg(fra_eng_load(path, 10, &p, &st, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(st.lines, 16);
    ck_assert_uint_eq(st.blank, 2);
    ck_assert_uint_eq(st.no_tab, 1);
    ck_assert_uint_eq(st.bad_utf8, 3);
    ck_assert_uint_eq(st.empty, 1);
    ck_assert_uint_eq(st.too_long, 1);
    ck_assert_uint_eq(st.kept, 8);
    ck_assert_uint_eq(st.first_bad, 5); /* "a line without any tab" */
    ck_assert_str_eq(st.first_bad_what, "no TAB between the English and the French");
    ck_assert_uint_eq(p.n, 8);
    static const char *const want[8][2] = {
        {"Go.", "Va\xe2\x80\xaf!"},
        {"Run!", "Cours\xe2\x80\xaf!"},
        {"He said \"stop\".", "Il a dit\xc2\xa0: \xc2\xab\xc2\xa0" "Arr\xc3\xaate\xc2\xa0! \xc2\xbb"},
        {"I'm hungry.", "J\xe2\x80\x99" "ai faim."},
        {"Thanks.", "Merci."},
        {"Where's the man?", "\xc3\x80 qui est l'homme\xe2\x80\x89?"},
        {"Is it today?", "C'est aujourd'hui\xe2\x80\xaf?"},
        {"It's 3:30.", "\xc3\x89" "COUTE\xc2\xa0: il est 3:30."},
    };
    for (size_t i = 0; i < 8; i++) {
        ck_assert_str_eq(p.src[i], want[i][0]);
        ck_assert_str_eq(p.tgt[i], want[i][1]);
    }
    char b[512];
    ck_assert_str_eq(toks(p.tgt[0], LANG_FR, b, sizeof b), "va|!");
    ck_assert_str_eq(toks(p.tgt[2], LANG_FR, b, sizeof b),
                     "il|a|dit|:|\xc2\xab|arr\xc3\xaate|!|\xc2\xbb");
    ck_assert_str_eq(toks(p.tgt[3], LANG_FR, b, sizeof b), "j'|ai|faim|.");
    ck_assert_str_eq(toks(p.tgt[5], LANG_FR, b, sizeof b), "\xc3\xa0|qui|est|l'|homme|?");
    ck_assert_str_eq(toks(p.tgt[6], LANG_FR, b, sizeof b), "c'|est|aujourd'hui|?");
    ck_assert_str_eq(toks(p.tgt[7], LANG_FR, b, sizeof b), "\xc3\xa9" "coute|:|il|est|3:30|.");
    ck_assert_str_eq(toks(p.src[2], LANG_EN, b, sizeof b), "he|said|\"|stop|\"|.");
    ck_assert_str_eq(toks(p.src[7], LANG_EN, b, sizeof b), "it's|3:30|.");
    /* no limit: the long pair too, appended after the others */
    ck_assert_int_eq(fra_eng_load(path, 0, &p, NULL, err, sizeof err), 0);
    ck_assert_uint_eq(p.n, 17);
    ck_assert_str_eq(p.tgt[8 + 4], "Courte.");
    pairs_free(&p);
    ck_assert_int_eq(fra_eng_load("/nonexistent/fra.txt.gz", 10, &p, &st, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open /nonexistent/fra.txt.gz"));
    ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(fra_eng_hostile)
{
    const char *dir = hostile_dir();
    char path[256], err[512], text[4000] = "";
    for (int i = 0; i < 60; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "Sentence %d.\tPhrase %d.\n", i,
                 i * 31 % 97);
    snprintf(path, sizeof path, "%s/fra.txt.gz", dir);
    size_t gn = write_gz(path, text, strlen(text), (size_t)-1, 0);
    pairs p = {0};
    fra_eng_stats st;
    ck_assert_msg(fra_eng_load(path, 10, &p, &st, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(p.n, 60);
    ck_assert_uint_eq(st.first_bad, 0);
    pairs_free(&p);
    /* cut short: whole lines would load, only the gzip check can tell */
    const size_t keep[] = {gn / 2, gn - 2};
    for (int k = 0; k < 2; k++) {
        write_gz(path, text, strlen(text), keep[k], 0);
        ck_assert_int_eq(fra_eng_load(path, 10, &p, &st, err, sizeof err), -1);
        ck_assert_msg(strstr(err, path) && strstr(err, "truncated gzip file"), "%s", err);
        ck_assert_uint_eq(p.n, 0);
        printf("%s\n", err);
    }
    /* the first malformed line and what is wrong with it */
    static const char bad[] = "Go.\tVa !\nRun!\t\nHi.\n";
    write_gz(path, bad, sizeof bad - 1, (size_t)-1, 0);
    ck_assert_int_eq(fra_eng_load(path, 10, &p, &st, err, sizeof err), 0);
    ck_assert_uint_eq(st.first_bad, 2);
    ck_assert_str_eq(st.first_bad_what, "the French side is empty");
    ck_assert_uint_eq(st.empty + st.no_tab, 2);
    pairs_free(&p);
}
END_TEST

START_TEST(real_file)
{
    char path[1024], err[256];
    pairs all = {0}, p = {0};
    fra_eng_stats st;
    snprintf(path, sizeof path, "%s/fra-eng/fra.txt.gz", data_dir);
    ck_assert_msg(fra_eng_load(path, 0, &all, &st, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(st.lines, 142787);
    ck_assert_uint_eq(st.kept, 142787);
    ck_assert_uint_eq(st.blank + st.no_tab + st.empty + st.bad_utf8 + st.too_long, 0);
    ck_assert_uint_eq(st.first_bad, 0);
    ck_assert_str_eq(all.src[0], "Go.");
    ck_assert_str_eq(all.tgt[0], "Va !");
    ck_assert_str_eq(all.tgt[1], "Cours\xe2\x80\xaf!");
    ck_assert_msg(fra_eng_load(path, 10, &p, &st, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(st.kept + st.too_long, 142787);
    ck_assert_uint_gt(p.n, 100000);
    word_vocab en, fr;
    ck_assert_int_eq(word_vocab_build(&en, &p, PAIRS_SOURCE, LANG_EN, 1, (size_t)-1, err,
                                      sizeof err), 0);
    ck_assert_int_eq(word_vocab_build(&fr, &p, PAIRS_TARGET, LANG_FR, 1, (size_t)-1, err,
                                      sizeof err), 0);
    size_t en2 = 0, fr2 = 0;
    for (size_t i = 0; i < en.index.cap; i++)
        en2 += en.index.key[i] && en.index.count[i] >= 2;
    for (size_t i = 0; i < fr.index.cap; i++)
        fr2 += fr.index.key[i] && fr.index.count[i] >= 2;
    printf("fra-eng: %zu lines; %zu pairs with <= 10 words on each side; in them %zu distinct "
           "English and %zu distinct French tokens (%zu and %zu seen twice or more)\n",
           st.lines, p.n, en.n - TOK_FIRST, fr.n - TOK_FIRST, en2, fr2);
    pairs tr = {0}, ho = {0};
    ck_assert_int_eq(pairs_split_disjoint(&p, 1, 2000, &tr, &ho, err, sizeof err), 0);
    ck_assert_uint_eq(ho.n, 2000);
    ck_assert_uint_eq(tr.n + ho.n, p.n);
    ck_assert(disjoint(&tr, &ho));
    word_vocab_free(&en);
    word_vocab_free(&fr);
    pairs_free(&tr);
    pairs_free(&ho);
    pairs_free(&p);
    pairs_free(&all);
}
END_TEST

int main(int argc, char **argv)
{
    if (!data_test_args(argc, argv))
        return 2;
    TCase *tc = tcase_create("seq2seq-data");
    tcase_add_test(tc, ordinals);
    tcase_add_test(tc, dates);
    tcase_add_test(tc, addition);
    tcase_add_test(tc, split);
    tcase_add_test(tc, char_vocab_round_trip);
    tcase_add_test(tc, tokenizer);
    tcase_add_test(tc, word_vocab_round_trip);
    tcase_add_test(tc, fra_eng_fixture);
    tcase_add_test(tc, fra_eng_hostile);
    if (have_data_file("fra-eng/fra.txt.gz", "real-file check"))
        tcase_add_test(tc, real_file);
    return data_test_run("seq2seq-data", tc);
}
