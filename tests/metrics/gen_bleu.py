#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes bleu_fixture.h: BLEU cases scored by the real NLTK 3.8.

Each case is scored by nltk.translate.bleu_score.sentence_bleu (one
hypothesis) or corpus_bleu (several) with uniform weights (1/N,)*N and no
smoothing or SmoothingFunction(epsilon).method1, on lists of int token ids
(the very ids the C test passes to rnn_sentence_bleu / rnn_corpus_bleu).
Expected values are written with repr(), which round-trips the double.

Needs NLTK 3.8 (Debian: apt-get install python3-nltk, then run with
/usr/bin/python3):
    /usr/bin/python3 tests/metrics/gen_bleu.py > tests/metrics/bleu_fixture.h
"""
import random
import sys
import warnings

import nltk
from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu

if not nltk.__version__.startswith("3.8"):
    sys.exit(f"gen_bleu.py: needs NLTK 3.8 (found {nltk.__version__})")

# NLTK warns for each order without a match when there is no smoothing.
warnings.simplefilter("ignore")

NONE, METHOD1 = 0, 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class Vocab:
    """Word -> id, in order of first appearance, from 1."""

    def __init__(self):
        self.ids = {}

    def __call__(self, text):
        return [self.ids.setdefault(w, len(self.ids) + 1) for w in text.split()]


cases = []


def add(name, pairs, max_order=4, smoothing=NONE, epsilon=0.1, sentence=None):
    """pairs: [(hyp, [ref, ...]), ...], every hyp with the same number of refs."""
    refs_per_hyp = len(pairs[0][1]) if pairs else 1
    assert all(len(refs) == refs_per_hyp for _, refs in pairs)
    if sentence is None:
        sentence = len(pairs) == 1
    weights = (1 / max_order,) * max_order
    sf = SmoothingFunction(epsilon=epsilon).method1 if smoothing == METHOD1 else None
    if sentence:
        (hyp, refs), = pairs
        value = sentence_bleu(refs, hyp, weights=weights, smoothing_function=sf)
    else:
        value = corpus_bleu([refs for _, refs in pairs], [hyp for hyp, _ in pairs],
                            weights=weights, smoothing_function=sf)
    cases.append(dict(name=name, pairs=pairs, max_order=max_order, smoothing=smoothing,
                      epsilon=epsilon, sentence=sentence, refs_per_hyp=refs_per_hyp,
                      expected=float(value)))


def both(name, pairs, **kw):
    add(name, pairs, **kw)
    add(name + "_method1", pairs, smoothing=METHOD1, **kw)


# ------------------------------------------------------------ sentence level
v = Vocab()
cat_ref1 = v("the cat is on the mat")
cat_ref2 = v("there is a cat on the mat")
both("nltk_cat_two_refs", [(v("the cat the cat on the mat"), [cat_ref1, cat_ref2])])

w = Vocab()
guide_hyp = w("It is a guide to action which ensures that the military always obeys "
              "the commands of the party")
guide_refs = [w("It is a guide to action that ensures that the military will forever "
                "heed Party commands"),
              w("It is the guiding principle which guarantees the military forces always "
                "being under the command of the Party"),
              w("It is the practical guide for the army always to heed the directions "
                "of the party")]
both("nltk_guide_three_refs", [(guide_hyp, guide_refs)])
both("nltk_guide_one_ref", [(guide_hyp, guide_refs[:1])])
add("nltk_guide_method1_eps_0_5", [(guide_hyp, guide_refs[:1])], smoothing=METHOD1, epsilon=0.5)

both("perfect_match", [(cat_ref1, [cat_ref1])])
both("no_match_at_all", [(v("dog bird fish cow pig"), [cat_ref1, cat_ref2])])
# clipping: "the" seven times, at most twice in one reference
sevens = v("the the the the the the the")
add("clip_unigram_one_ref", [(sevens, [cat_ref1])], max_order=1)
add("clip_unigram_max_over_refs", [(sevens, [cat_ref2, cat_ref1])], max_order=1)
both("clip_order4", [(sevens, [cat_ref1, cat_ref2])])
both("clip_repeats_three_refs", [(v("cat cat cat on on mat mat mat"),
                                  [v("cat on the mat"), v("cat cat on mat"),
                                   v("mat mat mat is on the cat")])])
both("hyp_len_3_lt_order", [(v("the cat sat"), [v("the cat sat on the mat")])])
both("hyp_len_1", [(v("cat"), [v("the cat")])])
both("hyp_len_2_order3", [(v("the cat"), [v("the cat")])], max_order=3)
both("empty_hyp", [([], [cat_ref1])])
both("empty_hyp_empty_ref", [([], [[]])])
both("empty_ref_and_short_ref", [(v("the cat on the mat"), [[], v("the")])])
both("no_trigram_match", [(v("a cat on a the mat dog"), [v("the cat on the mat")])])
# closest reference length: 5 vs 3 and 7 is a tie, NLTK takes 3 (BP 1)
both("closest_ref_tie_takes_shorter", [(v("the cat is on mat"),
                                        [v("the cat sat on a big mat"), v("cat on mat")])])
both("closest_ref_tie_order_swapped", [(v("the cat is on mat"),
                                        [v("cat on mat"), v("the cat sat on a big mat")])])
both("brevity_penalty_short_hyp", [(v("the cat on"), [v("the cat on the mat of the house")])],
     max_order=2)
both("hyp_longer_than_refs", [(v("the cat is on the mat and the dog is on the rug"),
                               [cat_ref1, cat_ref2])])
for n in (1, 2, 3, 5, 16):
    both(f"max_order_{n}", [(guide_hyp, guide_refs)], max_order=n)
add("max_order_16_short_hyp", [(v("the cat is on the mat"), [cat_ref1])], max_order=16)
both("extreme_token_ids", [([INT32_MIN, -1, 0, INT32_MAX, INT32_MAX, 7, -1, 0],
                            [[0, INT32_MAX, INT32_MAX, 7, -1, 0, INT32_MIN],
                             [INT32_MIN, -1, 0, 5, INT32_MAX]])])

rng = random.Random(20240611)


def noisy(ref, vocab, p):
    """A hypothesis from a reference: tokens dropped, replaced or inserted."""
    out = []
    for t in ref:
        r = rng.random()
        if r < p / 3:
            continue
        if r < 2 * p / 3:
            out.append(rng.randrange(vocab))
        else:
            out.append(t)
        if rng.random() < p / 3:
            out.append(rng.randrange(vocab))
    return out


long_ref = [rng.randrange(6) for _ in range(80)]
both("long_small_vocab_two_refs", [(noisy(long_ref, 6, 0.3),
                                    [long_ref, noisy(long_ref, 6, 0.2)])])

# ------------------------------------------------------------ corpus level
cat_pairs = [(v("the cat the cat on the mat"), [cat_ref1]),
             (v("there is cat on a mat"), [cat_ref2]),
             (v("the mat is on the cat"), [cat_ref1])]
both("corpus_three_one_ref", cat_pairs)
both("corpus_single_sentence", cat_pairs[:1], sentence=False)
both("corpus_with_empty_hyp", cat_pairs[:2] + [([], [cat_ref1])])
both("corpus_short_hyps", [(v("the cat"), [cat_ref1]), (v("mat"), [cat_ref2]),
                           (v("the cat is on the mat"), [cat_ref1])])
both("corpus_no_unigram_match", [(v("a b"), [cat_ref1]), (v("c d e"), [cat_ref2])])
both("corpus_no_4gram_match", [(v("the cat is on a mat"), [cat_ref1]),
                               (v("a cat is on the mat"), [cat_ref2])])
# An empty corpus is not scored: NLTK raises ZeroDivisionError (Fraction(0, 0));
# rnn_corpus_bleu gives 0 (tested in test_bleu.c).
add("corpus_all_empty_hyps", [([], [cat_ref1]), ([], [cat_ref2])])


def random_corpus(count, refs_per_hyp, vocab, lo, hi):
    pairs = []
    for _ in range(count):
        base = [rng.randrange(vocab) for _ in range(rng.randrange(lo, hi + 1))]
        refs = [noisy(base, vocab, 0.25) for _ in range(refs_per_hyp)]
        pairs.append((noisy(base, vocab, 0.35), refs))
    return pairs


rc2 = random_corpus(40, 2, 25, 0, 30)
both("corpus_random_40x2", rc2)
rc3 = random_corpus(30, 3, 12, 1, 20)
both("corpus_random_30x3_order2", rc3, max_order=2)
add("corpus_random_30x3_order5_eps_0_01", rc3, max_order=5, smoothing=METHOD1, epsilon=0.01)
rc1 = random_corpus(25, 1, 40, 2, 8)
both("corpus_random_25x1_sparse", rc1)

# ------------------------------------------------------------ output


def c_int(t):
    return "(-2147483647 - 1)" if t == INT32_MIN else str(t)


def wrap(items, indent="    ", width=96):
    lines, line = [], indent
    for s in items:
        if len(line) + len(s) + 2 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += s + ", "
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


lens, tokens, rows = [], [], []
for c in cases:
    lens_off, tok_off = len(lens), len(tokens)
    for hyp, refs in c["pairs"]:
        lens.append(len(hyp))
        tokens.extend(hyp)
        for ref in refs:
            lens.append(len(ref))
            tokens.extend(ref)
    rows.append('    {"%s", %d, %d, %d, %r, %d, %d, %d, %d, %r},'
                % (c["name"], c["sentence"], c["max_order"], c["smoothing"], c["epsilon"],
                   len(c["pairs"]), c["refs_per_hyp"], lens_off, tok_off, c["expected"]))

print(f"""/* SPDX-License-Identifier: Apache-2.0 */
/* Generated by tests/metrics/gen_bleu.py with NLTK {nltk.__version__}: do not edit. */
#ifndef BLEU_FIXTURE_H
#define BLEU_FIXTURE_H

#include <stdint.h>

/* Case i: count hypotheses, each followed by its refs_per_hyp references, in
 * bleu_lens[lens_off..] (lengths) and bleu_tokens[tokens_off..] (ids, one
 * sequence after the other). sentence: scored by sentence_bleu (count 1),
 * else by corpus_bleu. smoothing: 0 none, 1 method1. */
typedef struct bleu_case {{
    const char *name;
    int sentence;
    int max_order;
    int smoothing;
    double epsilon;
    int count;
    int refs_per_hyp;
    int lens_off;
    int tokens_off;
    double expected;
}} bleu_case;

static const int64_t bleu_lens[] = {{
{wrap(str(x) for x in lens)}
}};

static const int32_t bleu_tokens[] = {{
{wrap(c_int(x) for x in tokens)}
}};

static const bleu_case bleu_cases[] = {{
{chr(10).join(rows)}
}};

#endif""")
