/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/collective.h
 * @brief Data-parallel training over a collective engine (MPI, or any other):
 * the engine-neutral interface the training loops use.
 *
 * Every process ("rank") holds the whole model. Attach the same kind of
 * collective to the model on every rank with rnn_model_set_collective(); from
 * then on rnn_model_fit(), rnn_model_evaluate(), rnn_model_train_step() and
 * rnn_model_test_step() work together across the ranks, as Horovod and
 * PyTorch's DistributedDataParallel do:
 *
 * - rank 0's weights (and optimizer state) are broadcast to the others when
 *   the collective is attached and when every fit starts;
 * - in-memory data (rnn_data.x): every rank passes the same dataset (its
 *   sample count is checked) and the same options; every global batch of
 *   rnn_fit_options.batch_size samples, in the same seeded order as on one
 *   process, is cut into size contiguous shares, rank r taking share r. The
 *   batch size and the learning rate mean what they mean on one process.
 *   Iterators (rnn_data.next): each rank's iterator yields that rank's share
 *   of each global batch; an epoch ends when every rank's iterator has ended
 *   (a rank whose iterator ended first takes part with an empty share);
 * - each step computes the loss and its gradient on the local share, then
 *   the ranks sum the loss figures and the loss denominators (samples, or
 *   real time steps for ::RNN_REDUCTION_MASKED_MEAN) so that each rank's loss
 *   gradient is scaled by its share of the global denominator; the
 *   parameter gradients are then summed over the ranks, layer by layer, each
 *   layer's bucket started as soon as its backward has finished (overlapping
 *   the backward of the layers below it). The result is the gradient of the
 *   global batch's loss, as one process computes it (to float rounding),
 *   before the finiteness check, clipping and the optimizer step, which
 *   every rank then applies identically;
 * - losses, metrics, validation and evaluation figures are reduced, so every
 *   rank sees the same numbers; early stopping, learning-rate schedules and
 *   callbacks' stop requests are decided alike everywhere (any rank's
 *   request stops all ranks at the same batch); best-model checkpoints are
 *   written by rank 0 only;
 * - a step that fails on one rank (bad data, a non-finite loss) fails on
 *   every rank at the same step, without an update.
 *
 * Dropout draws its masks from each rank's own model generator, so a model
 * with dropout is not bit-for-bit the one-process model (it is the same in
 * distribution). rnn_model_train_step() with a collective takes this rank's
 * share of the batch.
 *
 * librnn itself does not link any transport: librnn-mpi (rnn/mpi.h) fills
 * an ::rnn_collective from an MPI communicator; another engine can fill one
 * with its own callbacks.
 */
#ifndef RNN_COLLECTIVE_H
#define RNN_COLLECTIVE_H

#include "rnn/common.h"
#include "rnn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief ::rnn_collective flag: start the gradient sums only after the whole
 *  backward has finished, instead of layer by layer as each layer's backward
 *  ends (for measuring what the overlap brings; slower). */
#define RNN_COLLECTIVE_NO_OVERLAP 1u

/**
 * @brief A collective engine: the ranks' identity and three operations.
 *
 * Filled by an engine (librnn-mpi's rnn_mpi_collective()) or by hand, with
 * every field of this version set (struct_size = sizeof(rnn_collective)).
 * The callbacks return 0 on success and a nonzero engine code on failure
 * (the training function then fails with ::RNN_ERR_COLLECTIVE, naming the
 * operation, the code and, when @p error_message is set, its text). Every
 * rank must make the same sequence of calls; librnn guarantees that as long
 * as every rank calls the same librnn functions in the same order.
 * A failure must not hang: an engine bounds its waits (librnn-mpi: a
 * timeout), so that the ranks left behind see an error.
 */
typedef struct rnn_collective {
    uint32_t struct_size; /**< sizeof(rnn_collective). */
    void *user;           /**< Passed to every callback. */
    int rank;             /**< This process, in [0, size). */
    int size;             /**< Number of ranks, >= 1. */
    unsigned flags;       /**< 0 or ::RNN_COLLECTIVE_NO_OVERLAP. */
    /**
     * Starts replacing @p data[0..count) by its sum over all ranks (count >=
     * 1; every rank passes the same count). May return before the sum is
     * done, setting @p *request to something @p wait takes; an engine that
     * sums at once sets *request to NULL. @p data is not touched by librnn
     * until the matching @p wait.
     */
    int (*allreduce_sum)(void *user, float *data, int64_t count, void **request);
    /** Waits until the sum started with @p request is in place (request
     *  NULL: returns 0 at once). Called exactly once per started sum. */
    int (*wait)(void *user, void *request);
    /** Copies @p bytes bytes of rank @p root's @p data into every other
     *  rank's @p data (every rank passes the same bytes and root). */
    int (*broadcast)(void *user, void *data, int64_t bytes, int root);
    /** Optional (may be NULL): the text of an engine code, for messages. */
    const char *(*error_message)(void *user, int code);
} rnn_collective;

/**
 * @brief Makes the model train and evaluate together with the other ranks
 * of @p collective (see the file's description), or alone again
 * (@p collective NULL).
 *
 * A collective call: every rank calls it at the same point, with a
 * collective of the same size. It copies @p *collective (its callbacks and
 * user pointer must stay valid until the model is destroyed or another
 * collective replaces it) and broadcasts rank 0's parameters to every rank.
 * Attaching with size 1 is allowed and changes nothing in the results.
 *
 * @retval RNN_ERR_INVALID_ARG @p model NULL, a struct_size other than this
 *         version's, size < 1, rank outside [0, size), a NULL callback
 *         (other than error_message) or unknown flags; nothing changes.
 * @retval RNN_ERR_COLLECTIVE the broadcast failed; the model is left alone
 *         (no collective attached).
 */
RNN_API rnn_status rnn_model_set_collective(rnn_model *model, const rnn_collective *collective);

/**
 * @brief Broadcasts rank 0's parameters and, when the model is compiled and
 * rank 0's optimizer has state, its optimizer state (moments, iteration
 * count, learning rate) to every rank of the attached collective: after a
 * rank loaded or changed weights on its own. rnn_model_fit() does this when
 * it starts. A collective call.
 * @retval RNN_ERR_STATE no collective is attached.
 * @retval RNN_ERR_COLLECTIVE the engine failed.
 */
RNN_API rnn_status rnn_model_sync_weights(rnn_model *model);

/**
 * @brief The rank and size of the attached collective (0 and 1 without
 * one), so that a program can print or save on rank 0 only.
 * Either pointer may be NULL.
 */
RNN_API rnn_status rnn_model_collective_rank(const rnn_model *model, int *rank, int *size);

#ifdef __cplusplus
}
#endif

#endif /* RNN_COLLECTIVE_H */
