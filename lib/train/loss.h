/* SPDX-License-Identifier: Apache-2.0 */
/* Losses and the accuracy metric over a model output. */
#ifndef RNN_LOSS_H
#define RNN_LOSS_H

#include "model/graph.h"

/* Checks targets against pred, then computes the reduced loss, the accuracy
 * (NaN where undefined) and, when grad is not NULL, d(loss)/d(pred) (same
 * layout as pred, zero at masked positions). len (NULL: none) masks the time
 * axis of a rank-3 pred. Errors are reported under func. */
RNN__HIDDEN rnn_status rnn__loss_compute(const char *func, const rnn__loss_cfg *cfg,
                                         const rnn_tensor *pred, const int32_t *len,
                                         const rnn_tensor *target, double *loss, double *acc,
                                         float *grad);

/* What lets batch figures be combined into dataset figures. */
typedef struct rnn__loss_stats {
    double denom;   /* the reduction's denominator (loss * denom = sum of losses) */
    double active;  /* unmasked samples or steps */
    double counted; /* samples/steps/elements the accuracy counted */
    /* Data-parallel steps (train/dist.c) only: the samples of the global
     * batch, and whether no rank had one (the end of an iterator epoch). */
    double samples;
    int empty;
} rnn__loss_stats;

/* rnn__loss_compute, also filling *stats (may be NULL). */
RNN__HIDDEN rnn_status rnn__loss_compute_stats(const char *func, const rnn__loss_cfg *cfg,
                                               const rnn_tensor *pred, const int32_t *len,
                                               const rnn_tensor *target, double *loss,
                                               double *acc, float *grad, rnn__loss_stats *stats);

#endif
