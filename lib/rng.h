/* SPDX-License-Identifier: Apache-2.0 */
/* The model's random generator (xoshiro256**, seeded by splitmix64): same
 * seed, same sequence, on every platform. Not thread-safe: it lives in a
 * model, which one thread uses at a time. */
#ifndef RNN_RNG_H
#define RNN_RNG_H

#include "internal.h"

typedef struct rnn__rng {
    uint64_t s[4];
} rnn__rng;

RNN__HIDDEN void rnn__rng_seed(rnn__rng *r, uint64_t seed);
RNN__HIDDEN uint64_t rnn__rng_u64(rnn__rng *r);
RNN__HIDDEN double rnn__rng_uniform(rnn__rng *r); /* [0, 1) with 53 random bits */
RNN__HIDDEN double rnn__rng_normal(rnn__rng *r);  /* standard normal (Box-Muller) */

/* Weight initializers on a row-major (rows, cols) matrix; fan_in = rows,
 * fan_out = cols as Keras computes them for 2-D kernels. */
RNN__HIDDEN void rnn__init_glorot_uniform(rnn__rng *r, float *w, int64_t rows, int64_t cols);
/* Keras Orthogonal(gain=1): QR of a normal (max, min) matrix, sign-fixed,
 * transposed when rows < cols. Returns RNN_ERR_NOMEM on allocation failure. */
RNN__HIDDEN rnn_status rnn__init_orthogonal(rnn__rng *r, float *w, int64_t rows, int64_t cols);

/* Fills a (rows, cols) matrix with a public rnn_initializer; returns
 * RNN_ERR_NOMEM (orthogonal's workspace) or RNN_ERR_INVALID_ARG. */
RNN__HIDDEN rnn_status rnn__init_fill(rnn__rng *r, int how, float *w, int64_t rows, int64_t cols);
/* Uniform in [lo, hi). */
RNN__HIDDEN void rnn__init_uniform(rnn__rng *r, float *w, int64_t n, double lo, double hi);

#endif
