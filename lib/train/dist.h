/* SPDX-License-Identifier: Apache-2.0 */
/* Data-parallel training (train/dist.c): the model's collective
 * (rnn/collective.h) and the steps, exchanges and gradient buckets the
 * training loops use when one is attached. */
#ifndef RNN_TRAIN_DIST_H
#define RNN_TRAIN_DIST_H

#include "train/train.h"

/* The attached collective's rank and size (0 and 1 without one). */
RNN__HIDDEN int rnn__dist_rank(const rnn_model *m);
RNN__HIDDEN int rnn__dist_size(const rnn_model *m);

/* Share r of a global batch of n samples: [*lo, *hi), contiguous and as
 * even as the division allows (empty for some ranks when n < size). */
RNN__HIDDEN void rnn__dist_share(const rnn_model *m, int64_t n, int64_t *lo, int64_t *hi);

/* Sums v[0..n) over the ranks in place (a blocking exchange). Errors are
 * RNN_ERR_COLLECTIVE under func, naming what: "<what>: the collective's
 * allreduce failed (code k: text)". */
RNN__HIDDEN rnn_status rnn__dist_sum(const char *func, rnn_model *m, const char *what, float *v,
                                     int n);

/* Copies rank 0's data[0..bytes) to every rank (errors as rnn__dist_sum). */
RNN__HIDDEN rnn_status rnn__dist_bcast(const char *func, rnn_model *m, void *data, int64_t bytes,
                                       const char *what);

/* Every rank passes its own status st; returns st when it is an error,
 * RNN_ERR_COLLECTIVE "<what> failed on another rank" when only other ranks
 * failed, RNN_OK when none did. An exchange: every rank calls it. */
RNN__HIDDEN rnn_status rnn__dist_agree(const char *func, rnn_model *m, const char *what,
                                       rnn_status st);

/* Broadcasts rank 0's parameters (and optimizer state) under func. */
RNN__HIDDEN rnn_status rnn__dist_sync(const char *func, rnn_model *m);

/* rnn__model_step() with the collective attached. This rank's batch is
 * inputs (num_inputs of them; NULL: this rank has no samples in this step),
 * or it already failed with local_st (its batch could not be made), which
 * the exchange then reports on every rank. Figures (loss, accuracy, *stats)
 * are those of the global batch, the same on every rank; stats->empty is
 * set when no rank had a batch (nothing was computed: the end of an
 * iterator epoch).
 *
 * stop (NULL: none) carries fit's stop requests on the exchange of the
 * batch's figures instead of a sum of their own: on entry, whether this
 * rank was asked to stop after the batch before; on return, whether any
 * rank was. When one was, the step is void: no backward, no update, no
 * figures, the model's generator is back where it was (the forward's
 * dropout masks are never used), a failure of this batch on any rank is
 * ignored (one process would not have made it), and RNN_OK is returned.
 * Every rank passes stop, or none does. The forward must leave no other
 * state behind (no stateful layers: see rnn__dist_can_void_step). */
RNN__HIDDEN rnn_status rnn__dist_step(const char *func, rnn_model *m, rnn_status local_st,
                                      int num_inputs, const rnn_tensor *const *inputs,
                                      const rnn_tensor *const *lengths,
                                      const rnn_tensor *targets, int train, float *loss,
                                      float *accuracy, rnn__loss_stats *stats, int *stop);

/* Whether a training forward of m can be voided after the fact
 * (rnn__dist_step's stop): none of its layers carries states from batch
 * to batch. */
RNN__HIDDEN int rnn__dist_can_void_step(const rnn_model *m);

#endif
