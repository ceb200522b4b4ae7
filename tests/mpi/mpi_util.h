/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the librnn-mpi test programs (run under mpirun by run_mpi.py):
 * the tagging model of the tests (Embedding + Bidirectional LSTM + per-step
 * Dense softmax), its seeded variable-length data, rows of tensors, and
 * comparisons of weights within a rank and across ranks. */
#ifndef RNN_MPI_TEST_UTIL_H
#define RNN_MPI_TEST_UTIL_H

#include <mpi.h>
#include <rnn.h>
#include <rnn/collective.h>
#include <rnn/mpi.h>
#include <stdint.h>

enum { MT_VOCAB = 20, MT_T = 7, MT_EMB = 8, MT_UNITS = 6, MT_CLASSES = 5 };

typedef struct mt_data {
    int64_t n;
    rnn_tensor *x;   /* i32 (n, T): ids in [1, VOCAB) up to the length, 0 after */
    rnn_tensor *len; /* i32 (n): lengths in [1, T] */
    rnn_tensor *y;   /* i32 (n, T): classes in [0, CLASSES) */
    rnn_data d;      /* in-memory dataset over x, y (and len when with_lengths) */
} mt_data;

/* n samples from seed; with_lengths: d.lengths is set (else the model's
 * Embedding mask_zero gives the lengths). */
int mt_data_make(mt_data *out, int64_t n, uint64_t seed, int with_lengths);
void mt_data_free(mt_data *d);

/* The model: seed 42, Embedding (mask_zero when asked), Bidirectional LSTM
 * (return_sequences), Dense softmax per step; compiled with sparse
 * categorical cross-entropy (masked mean) and the optimizer (SGD: lr 0.1,
 * momentum 0.9; Adam: lr 0.01). NULL after printing the error. */
rnn_model *mt_model(int mask_zero, rnn_optimizer_type optimizer);
/* Compiles m as mt_model() does; 0, or -1 after printing the error. */
int mt_compile(rnn_model *m, rnn_optimizer_type optimizer);

/* A new tensor holding rows [a, b) of t's first axis. */
rnn_tensor *mt_rows(const rnn_tensor *t, int64_t a, int64_t b);

/* Rows [start, end) of a global batch of b rows that rank r of size takes:
 * contiguous shares, the first (b % size) ranks one row more. */
void mt_share(int64_t b, int rank, int size, int64_t *start, int64_t *end);

/* Every parameter of m, flattened in layer order into out (may be NULL);
 * returns the count. */
int64_t mt_weights(rnn_model *m, float *out);

/* max over parameter tensors of max|a - b| / max|b| (b's largest magnitude,
 * at least 1e-30): the relative difference of a to the reference b. */
double mt_rel_diff(rnn_model *a, rnn_model *b);

/* Largest |w - rank 0's w| over the elements, and over the ranks (every rank
 * gets the same answer). */
double mt_spread(MPI_Comm comm, const float *w, int64_t n);

/* The largest value over the ranks / 1 if any rank has v != 0. */
double mt_max(MPI_Comm comm, double v);
int mt_any(MPI_Comm comm, int v);

double mt_now(void);

#endif
