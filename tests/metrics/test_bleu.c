/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rnn_sentence_bleu / rnn_corpus_bleu against NLTK 3.8:
 *  - every case of bleu_fixture.h (written by gen_bleu.py with the real
 *    nltk.translate.bleu_score) within 1e-12 relative, zeros exactly:
 *    sentence and corpus level, no smoothing and method1, 1-3 references,
 *    clipping, short and empty hypotheses, orders 1..16;
 *  - a one-sentence corpus equals the sentence score; NULL options are the
 *    defaults; an empty corpus scores 0 (NLTK raises ZeroDivisionError);
 *  - long inputs (one n-gram repeated 20000 times, 200000 distinct tokens)
 *    give the closed-form scores quickly;
 *  - each bad argument gives RNN_ERR_INVALID_ARG, *out = 0 and a message
 *    naming the function, the argument and its value.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../unit/test_util.h"
#include "bleu_fixture.h"
#include "rnn/metrics.h"

enum { NCASES = sizeof bleu_cases / sizeof bleu_cases[0] };

/* Pointer arrays of one fixture case. */
typedef struct unpacked {
    const int32_t **hyps, **refs;
    int64_t *hyp_lens, *ref_lens;
} unpacked;

static void unpack(const bleu_case *c, unpacked *u)
{
    int n = c->count > 0 ? c->count : 1, r = c->refs_per_hyp;
    u->hyps = calloc((size_t)n, sizeof *u->hyps);
    u->hyp_lens = calloc((size_t)n, sizeof *u->hyp_lens);
    u->refs = calloc((size_t)(n * r), sizeof *u->refs);
    u->ref_lens = calloc((size_t)(n * r), sizeof *u->ref_lens);
    ck_assert(u->hyps && u->hyp_lens && u->refs && u->ref_lens);
    const int64_t *len = bleu_lens + c->lens_off;
    const int32_t *tok = bleu_tokens + c->tokens_off;
    for (int i = 0; i < c->count; i++) {
        u->hyp_lens[i] = *len++;
        u->hyps[i] = u->hyp_lens[i] ? tok : NULL; /* NULL is fine for length 0 */
        tok += u->hyp_lens[i];
        for (int k = 0; k < r; k++) {
            u->ref_lens[i * r + k] = *len++;
            u->refs[i * r + k] = tok;
            tok += u->ref_lens[i * r + k];
        }
    }
}

static void unpacked_free(unpacked *u)
{
    free(u->hyps);
    free(u->refs);
    free(u->hyp_lens);
    free(u->ref_lens);
}

static double rel_diff(double got, double want)
{
    if (got == want)
        return 0.0;
    if (want == 0.0)
        return INFINITY;
    return fabs(got - want) / fabs(want);
}

START_TEST(fixture_matches_nltk)
{
    double worst = 0.0;
    const char *worst_name = "";
    for (int ci = 0; ci < NCASES; ci++) {
        const bleu_case *c = &bleu_cases[ci];
        unpacked u;
        unpack(c, &u);
        rnn_bleu_options o;
        rnn_bleu_options_init(&o);
        o.max_order = c->max_order;
        o.smoothing = (rnn_bleu_smoothing)c->smoothing;
        o.epsilon = c->epsilon;

        double got = -1.0, corpus = -1.0;
        ck_ok(rnn_corpus_bleu(&o, c->count, u.hyps, u.hyp_lens, c->refs_per_hyp, u.refs,
                              u.ref_lens, &corpus));
        if (c->sentence) {
            ck_ok(rnn_sentence_bleu(&o, u.hyps[0], u.hyp_lens[0], c->refs_per_hyp, u.refs,
                                    u.ref_lens, &got));
            ck_assert_msg(got == corpus, "%s: sentence %.17g != corpus of one %.17g", c->name,
                          got, corpus);
        } else {
            got = corpus;
        }
        double d = rel_diff(got, c->expected);
        ck_assert_msg(d <= 1e-12, "%s: got %.17g, NLTK %.17g (relative difference %g)", c->name,
                      got, c->expected, d);
        ck_assert_msg(got >= 0.0 && got <= 1.0, "%s: %g out of [0, 1]", c->name, got);
        if (d > worst) {
            worst = d;
            worst_name = c->name;
        }
        unpacked_free(&u);
    }
    printf("bleu: %d NLTK cases, max relative difference %.3g%s%s\n", (int)NCASES, worst,
           worst > 0.0 ? " in " : "", worst_name);
}
END_TEST

START_TEST(defaults_and_empty_corpus)
{
    rnn_bleu_options o;
    memset(&o, 0xab, sizeof o);
    rnn_bleu_options_init(&o);
    ck_assert_uint_eq(o.struct_size, sizeof o);
    ck_assert_int_eq(o.max_order, 4);
    ck_assert_int_eq(o.smoothing, RNN_BLEU_SMOOTH_NONE);
    ck_assert(o.epsilon == 0.1);
    rnn_bleu_options_init(NULL); /* no crash */

    /* NULL options == the defaults, on the first fixture case (order 4) */
    const bleu_case *c = &bleu_cases[0];
    ck_assert_int_eq(c->max_order, 4);
    ck_assert_int_eq(c->smoothing, 0);
    unpacked u;
    unpack(c, &u);
    double a = -1, b = -1;
    ck_ok(rnn_sentence_bleu(NULL, u.hyps[0], u.hyp_lens[0], c->refs_per_hyp, u.refs, u.ref_lens,
                            &a));
    ck_ok(rnn_sentence_bleu(&o, u.hyps[0], u.hyp_lens[0], c->refs_per_hyp, u.refs, u.ref_lens,
                            &b));
    ck_assert_msg(a == b && rel_diff(a, c->expected) <= 1e-12, "%.17g %.17g", a, b);
    unpacked_free(&u);

    /* an empty corpus scores 0, with or without arrays */
    double out = 42;
    ck_ok(rnn_corpus_bleu(NULL, 0, NULL, NULL, 1, NULL, NULL, &out));
    ck_assert(out == 0.0);
    out = 42;
    o.smoothing = RNN_BLEU_SMOOTH_METHOD1;
    ck_ok(rnn_corpus_bleu(&o, 0, NULL, NULL, 3, NULL, NULL, &out));
    ck_assert(out == 0.0);
}
END_TEST

START_TEST(long_inputs)
{
    enum { L = 200000 };
    int32_t *a = malloc(L * sizeof *a), *b = malloc(L * sizeof *b);
    ck_assert(a && b);
    /* one token repeated: a single n-gram per order with a huge count.
     * hyp 20000 x 5, ref 8000 x 5: matches (8001 - n) of (20001 - n), BP 1 */
    for (int i = 0; i < L; i++)
        a[i] = 5;
    const int32_t *refs[2] = {a, b};
    int64_t lens[2] = {8000, 0};
    rnn_bleu_options o;
    rnn_bleu_options_init(&o);
    double out, sum = 0;
    ck_ok(rnn_sentence_bleu(&o, a, 20000, 1, refs, lens, &out));
    for (int n = 1; n <= 4; n++)
        sum += 0.25 * log((8001.0 - n) / (20001.0 - n));
    ck_assert_msg(rel_diff(out, exp(sum)) < 1e-14, "%.17g vs %.17g", out, exp(sum));

    /* distinct tokens: a perfect match is exactly 1 at every order, and a
     * second reference of distinct other tokens changes nothing */
    for (int i = 0; i < L; i++) {
        a[i] = i * 7919 - 1000000;
        b[i] = -i - 2000000;
    }
    lens[0] = L;
    lens[1] = L / 2;
    o.max_order = 16;
    ck_ok(rnn_sentence_bleu(&o, a, L, 2, refs, lens, &out));
    ck_assert_msg(out == 1.0, "%.17g", out);

    /* a corpus of 20000 sentences of 10 tokens, each its own reference */
    enum { S = 20000, T = 10 };
    const int32_t **hyps = malloc(S * sizeof *hyps);
    int64_t *hl = malloc(S * sizeof *hl);
    ck_assert(hyps && hl);
    for (int s = 0; s < S; s++) {
        hyps[s] = a + (int64_t)s * T;
        hl[s] = T;
    }
    o.max_order = 4;
    ck_ok(rnn_corpus_bleu(&o, S, hyps, hl, 1, hyps, hl, &out));
    ck_assert_msg(out == 1.0, "%.17g", out);
    free(hyps);
    free(hl);
    free(a);
    free(b);
}
END_TEST

/* The call failed with RNN_ERR_INVALID_ARG, set *out to 0, and its message
 * names the function and contains what (the argument and value). */
#define ck_bad(call, func, what)                                                           \
    do {                                                                                   \
        out = 42;                                                                          \
        ck_rnn(call, RNN_ERR_INVALID_ARG);                                                 \
        ck_assert_msg(out == 0.0, "%s: *out = %g after the error", #call, out);            \
        ck_errmsg(func ": ");                                                              \
        ck_errmsg(what);                                                                   \
    } while (0)

#define C "rnn_corpus_bleu"
#define S "rnn_sentence_bleu"

START_TEST(bad_arguments)
{
    const int32_t h0[3] = {1, 2, 3}, h1[2] = {4, 5}, r0[2] = {1, 2};
    const int32_t *hyps[2] = {h0, h1};
    int64_t hl[2] = {3, 2};
    const int32_t *refs[4] = {r0, r0, h0, h1};
    int64_t rl[4] = {2, 2, 3, 2};
    rnn_bleu_options o;
    double out;

    /* valid calls first */
    ck_ok(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, &out));
    ck_assert(out > 0.0 && out <= 1.0);
    ck_ok(rnn_sentence_bleu(NULL, h0, 3, 2, refs, rl, &out));

    ck_rnn(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_corpus_bleu: out must not be NULL");
    ck_rnn(rnn_sentence_bleu(NULL, h0, 3, 2, refs, rl, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_sentence_bleu: out must not be NULL");

    /* options */
    rnn_bleu_options_init(&o);
    o.struct_size = 8;
    ck_bad(rnn_corpus_bleu(&o, 2, hyps, hl, 2, refs, rl, &out), C, "options->struct_size");
    ck_errmsg("(got 8)");
    o.struct_size = sizeof o + 8;
    ck_bad(rnn_sentence_bleu(&o, h0, 3, 2, refs, rl, &out), S, "options->struct_size");
    rnn_bleu_options_init(&o);
    o.max_order = 0;
    ck_bad(rnn_corpus_bleu(&o, 2, hyps, hl, 2, refs, rl, &out), C, "options->max_order");
    ck_errmsg("(got 0)");
    o.max_order = 17;
    ck_bad(rnn_sentence_bleu(&o, h0, 3, 2, refs, rl, &out), S, "options->max_order");
    ck_errmsg("(got 17)");
    rnn_bleu_options_init(&o);
    o.smoothing = (rnn_bleu_smoothing)2;
    ck_bad(rnn_corpus_bleu(&o, 2, hyps, hl, 2, refs, rl, &out), C, "options->smoothing");
    ck_errmsg("(got 2)");
    const double bad_eps[] = {0.0, -0.1, 1.5, NAN, INFINITY};
    for (size_t k = 0; k < sizeof bad_eps / sizeof bad_eps[0]; k++) {
        rnn_bleu_options_init(&o);
        o.smoothing = RNN_BLEU_SMOOTH_METHOD1;
        o.epsilon = bad_eps[k];
        ck_bad(rnn_corpus_bleu(&o, 2, hyps, hl, 2, refs, rl, &out), C, "options->epsilon");
        ck_bad(rnn_sentence_bleu(&o, h0, 3, 2, refs, rl, &out), S, "options->epsilon");
    }
    rnn_bleu_options_init(&o);
    o.epsilon = 1.0; /* the largest allowed */
    o.smoothing = RNN_BLEU_SMOOTH_METHOD1;
    ck_ok(rnn_corpus_bleu(&o, 2, hyps, hl, 2, refs, rl, &out));

    /* corpus arguments */
    ck_bad(rnn_corpus_bleu(NULL, -1, hyps, hl, 2, refs, rl, &out), C,
           "count must be >= 0 (got -1)");
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, hl, 0, refs, rl, &out), C,
           "refs_per_hyp must be >= 1 (got 0)");
    ck_bad(rnn_corpus_bleu(NULL, 0, NULL, NULL, -3, NULL, NULL, &out), C,
           "refs_per_hyp must be >= 1 (got -3)");
    ck_bad(rnn_corpus_bleu(NULL, 2, NULL, hl, 2, refs, rl, &out), C, "hyps must not be NULL");
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, NULL, 2, refs, rl, &out), C, "hyp_lens must not be NULL");
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, NULL, rl, &out), C, "refs must not be NULL");
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, NULL, &out), C, "ref_lens must not be NULL");
    hl[1] = -2;
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, &out), C,
           "hyp_lens[1] must be >= 0 (got -2)");
    hl[1] = 2;
    hyps[1] = NULL;
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, &out), C,
           "hyps[1] must not be NULL (hyp_lens[1] = 2)");
    hl[1] = 0; /* NULL with length 0 is an empty hypothesis */
    ck_ok(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, &out));
    hyps[1] = h1;
    hl[1] = 2;
    rl[2] = -1;
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, &out), C,
           "ref_lens[2] must be >= 0 (got -1)");
    rl[2] = 3;
    refs[3] = NULL;
    ck_bad(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, &out), C,
           "refs[3] must not be NULL (ref_lens[3] = 2)");
    rl[3] = 0;
    ck_ok(rnn_corpus_bleu(NULL, 2, hyps, hl, 2, refs, rl, &out));
    refs[3] = h1;
    rl[3] = 2;

    /* sentence arguments */
    ck_bad(rnn_sentence_bleu(NULL, h0, -1, 2, refs, rl, &out), S, "hyp_len must be >= 0 (got -1)");
    ck_bad(rnn_sentence_bleu(NULL, NULL, 3, 2, refs, rl, &out), S,
           "hyp must not be NULL (hyp_len = 3)");
    ck_ok(rnn_sentence_bleu(NULL, NULL, 0, 2, refs, rl, &out));
    ck_assert(out == 0.0);
    ck_bad(rnn_sentence_bleu(NULL, h0, 3, 0, refs, rl, &out), S, "num_refs must be >= 1 (got 0)");
    ck_bad(rnn_sentence_bleu(NULL, h0, 3, 2, NULL, rl, &out), S, "refs must not be NULL");
    ck_bad(rnn_sentence_bleu(NULL, h0, 3, 2, refs, NULL, &out), S, "ref_lens must not be NULL");
    rl[1] = -3;
    ck_bad(rnn_sentence_bleu(NULL, h0, 3, 2, refs, rl, &out), S,
           "ref_lens[1] must be >= 0 (got -3)");
    rl[1] = 2;
    refs[0] = NULL;
    ck_bad(rnn_sentence_bleu(NULL, h0, 3, 2, refs, rl, &out), S,
           "refs[0] must not be NULL (ref_lens[0] = 2)");
}
END_TEST
#undef C
#undef S

int main(void)
{
    Suite *s = suite_create("bleu");
    TCase *tc = tcase_create("bleu");
    tcase_add_test(tc, fixture_matches_nltk);
    tcase_add_test(tc, defaults_and_empty_corpus);
    tcase_add_test(tc, long_inputs);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
