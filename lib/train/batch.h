/* SPDX-License-Identifier: Apache-2.0 */
/* Datasets and batches for fit, evaluate and predict (train/batch.c). */
#ifndef RNN_TRAIN_BATCH_H
#define RNN_TRAIN_BATCH_H

#include "rnn/fit.h"
#include "train/train.h"

/* Copies the caller's dataset src (struct_size checked) into *d and checks it;
 * for in-memory data sets *S to its number of samples. */
RNN__HIDDEN rnn_status rnn__check_data(const char *func, const char *name, const rnn_data *src,
                                       rnn_data *d, int need_targets, int64_t *S);
/* Checks the values of in-memory data (checked by rnn__check_data) before
 * any step: x finite (f32) or ids within what the layers reading it accept
 * (i32); targets finite (f32), or classes in [0, C) at every step that is not
 * masked (the sparse loss). Errors name the sample (and step). */
RNN__HIDDEN rnn_status rnn__check_values(const char *func, const char *name, const rnn_model *m,
                                         const rnn_data *d);
/* The dataset form (rnn_data) carries one input tensor. */
RNN__HIDDEN rnn_status rnn__single_input(const char *func, const rnn_model *m);

/* Builds batches of in-memory samples. */
typedef struct rnn__batcher {
    const rnn_data *d;
    int trim_x, trim_y; /* cut axis 1 of x / targets to the batch's longest sample */
    int64_t min_steps;  /* but keep at least this many (a rank's share of a global
                           batch keeps the global batch's length) */
    rnn_tensor *x, *len, *y;
} rnn__batcher;

RNN__HIDDEN void rnn__batcher_init(rnn__batcher *b, const rnn_model *m, const rnn_data *d,
                                   int allow_trim);
RNN__HIDDEN void rnn__batcher_free(rnn__batcher *b);
/* The batch of samples idx[0..n). */
RNN__HIDDEN rnn_status rnn__batcher_make(rnn__batcher *b, const int64_t *idx, int64_t n,
                                         const rnn_tensor **x, const rnn_tensor **len,
                                         const rnn_tensor **y);

/* Batches of one epoch over samples pool[0..n): order[] holds the samples in
 * batch order, start[k] where batch k begins (start[nb] = n). */
typedef struct rnn__keyed {
    int32_t len;
    int64_t idx;
} rnn__keyed;

typedef struct rnn__plan {
    int64_t *order, *start, *tmp;
    rnn__keyed *keys; /* bucketing: (length, sample) pairs, so qsort needs no global */
    int64_t nb;
} rnn__plan;

/* Fisher-Yates shuffle of v[0..n) from r. */
RNN__HIDDEN void rnn__shuffle64(rnn__rng *r, int64_t *v, int64_t n);
/* Plans an epoch: shuffled (shuffle), by length buckets (bucket, len), batches of B. */
RNN__HIDDEN void rnn__plan_epoch(rnn__plan *p, const int64_t *pool, int64_t n, int64_t B,
                                 int shuffle, int bucket, const int32_t *len, rnn__rng *r);

/* An iterator's call for batch k (from 0) that gave no usable batch: it
 * returned r < 0, or 1 without x (or without targets when need_y). epoch:
 * from 0, or -1 outside fit. Messages count batches from 1. */
RNN__HIDDEN rnn_status rnn__iter_error(const char *func, int epoch, int64_t k, int r,
                                       const rnn_tensor *x, int need_y);

#endif
