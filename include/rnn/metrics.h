/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/metrics.h
 * @brief Evaluation metrics over token sequences: corpus and sentence BLEU,
 * equal to NLTK's.
 *
 * Sequences are plain int32 token ids (no tensors, no model): the functions
 * score what rnn_model_decode() (rnn/decode.h) or anything else produced,
 * and need nothing else from the library.
 */
#ifndef RNN_METRICS_H
#define RNN_METRICS_H

#include "rnn/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ BLEU */

/** @brief Smoothing of BLEU's n-gram precisions (NLTK's SmoothingFunction). */
typedef enum rnn_bleu_smoothing {
    /** None, as NLTK: an order without any match has precision DBL_MIN
     * (sys.float_info.min), so BLEU is practically 0 (below 1e-19; at
     * most about 1e-77 at max_order 4) but not exactly 0. */
    RNN_BLEU_SMOOTH_NONE = 0,
    /** NLTK method1: an order without any match has precision
     * epsilon / (number of hypothesis n-grams of that order). */
    RNN_BLEU_SMOOTH_METHOD1 = 1
} rnn_bleu_smoothing;

/** @brief Options of the BLEU functions. Fill with rnn_bleu_options_init(). */
typedef struct rnn_bleu_options {
    uint32_t struct_size;         /**< sizeof(rnn_bleu_options), set by _init. */
    int max_order;                /**< n-grams of 1..max_order (1..16), weights 1/max_order (4). */
    rnn_bleu_smoothing smoothing; /**< RNN_BLEU_SMOOTH_NONE. */
    double epsilon;               /**< METHOD1's epsilon, in (0, 1] (0.1). */
} rnn_bleu_options;

/** @brief Fills @p options with NLTK's defaults: max_order 4, no smoothing,
 * epsilon 0.1. */
RNN_API void rnn_bleu_options_init(rnn_bleu_options *options);

/**
 * @brief Corpus BLEU as NLTK's corpus_bleu(): n-gram matches (clipped by the
 * references' counts) and hypothesis lengths summed over the corpus, brevity
 * penalty from the closest reference lengths.
 *
 * Hypothesis i is @p hyps[i] with @p hyp_lens[i] token ids; its references
 * are @p refs[i * refs_per_hyp + r] with @p ref_lens likewise. Any int32 is
 * a token; a sequence of length 0 may be NULL. Each order n adds to its
 * denominator max(1, hyp_lens[i] - n + 1), so a hypothesis shorter than n
 * still counts 1. The reference length of a hypothesis is the one closest to
 * its length (on a tie, the shorter). BLEU is 0 when the corpus has no
 * unigram match, smoothing or not (an empty hypothesis, or @p count 0: NLTK
 * raises ZeroDivisionError there); the brevity penalty is
 * exp(1 - ref / hyp) when the summed hypothesis length is not greater than
 * the summed reference length. Results equal NLTK 3.8's to within 1e-12
 * relative (tests/metrics).
 * @param options NULL for the defaults.
 * @param count number of hypotheses (>= 0); with 0, the arrays may be NULL.
 * @param refs_per_hyp references of every hypothesis (>= 1).
 * @param[out] out BLEU in [0, 1]; 0 on failure.
 * @return RNN_ERR_INVALID_ARG for a NULL pointer, a negative count or
 * length, a NULL sequence of nonzero length or bad options;
 * RNN_ERR_NOMEM. Work is O(max_order^2 * tokens), memory O(longest
 * hypothesis).
 */
RNN_API rnn_status rnn_corpus_bleu(const rnn_bleu_options *options, int64_t count,
                                   const int32_t *const *hyps, const int64_t *hyp_lens,
                                   int refs_per_hyp, const int32_t *const *refs,
                                   const int64_t *ref_lens, double *out);

/** @brief Sentence BLEU as NLTK's sentence_bleu(): the corpus BLEU of one
 * hypothesis with its @p num_refs (>= 1) references refs[r] / ref_lens[r];
 * see rnn_corpus_bleu(). */
RNN_API rnn_status rnn_sentence_bleu(const rnn_bleu_options *options, const int32_t *hyp,
                                     int64_t hyp_len, int num_refs, const int32_t *const *refs,
                                     const int64_t *ref_lens, double *out);

#ifdef __cplusplus
}
#endif

#endif /* RNN_METRICS_H */
