/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/mpi.h
 * @brief Data-parallel training over MPI (librnn optional part: librnn-mpi).
 *
 * A separate library, `librnn-mpi.so.0` (pkg-config `librnn-mpi`), built
 * when the meson feature `-Dmpi` finds an MPI library (Debian's Open MPI,
 * `libopenmpi-dev`). It fills an ::rnn_collective (rnn/collective.h) from an
 * MPI communicator; librnn itself links no MPI. Link with
 * `-lrnn-mpi -lrnn` (and your MPI, when your program calls MPI itself).
 *
 *     rnn_mpi *mpi;
 *     const rnn_collective *coll;
 *     rnn_mpi_create_world(NULL, &mpi);      // or rnn_mpi_create(&comm, ...)
 *     rnn_mpi_collective(mpi, &coll);
 *     rnn_model_set_collective(model, coll); // every rank, same model
 *     rnn_model_fit(model, &data, &fit_options, &result);
 *     ...
 *     rnn_model_destroy(model);
 *     rnn_mpi_destroy(mpi);
 *
 * The gradient sums are MPI_Iallreduce (MPI_IN_PLACE, MPI_FLOAT, MPI_SUM),
 * started per layer while the backward of the layers below runs; starting
 * one also tests the sums still in flight, so that MPI libraries that
 * progress non-blocking collectives only inside MPI calls (Open MPI) move
 * them on at every layer boundary. Broadcasts are MPI_Ibcast.
 *
 * Every wait is bounded. A wait polls with MPI_Testall, without pause for its
 * first 20 microseconds, then sleeping between polls (10 to 50 microseconds
 * in its first 50 ms, while a sum may still be flowing, then up to 1 ms: the
 * ranks share cores with oneDNN's threads, so nothing spins for long); when
 * the other ranks have not answered after
 * rnn_mpi_options.timeout_seconds, the operation fails, the training call
 * returns ::RNN_ERR_COLLECTIVE with a message saying so, and the
 * communicator is unusable from then on (every later operation fails at
 * once). MPI gives no way to cancel a collective: end the process with a
 * nonzero status (mpirun then ends the others). Open MPI's mpirun itself
 * ends the whole job as soon as one rank dies, which is usually faster than
 * the timeout (docs/guide/distributed.md).
 *
 * This header does not include <mpi.h>: communicators are passed by address
 * (`&comm`, or mpi4py's `MPI._addressof(comm)`), so it compiles without an
 * MPI installation and one function serves C and Python. When <mpi.h> is
 * included before it, rnn_mpi_create_comm() takes an `MPI_Comm` by value.
 * The MPI underneath must be the one librnn-mpi was built with.
 *
 * Threads: the collective calls come from the thread that calls
 * rnn_model_fit() (or the other training functions); MPI must be
 * initialized with at least MPI_THREAD_FUNNELED when that is not the main
 * thread (rnn_mpi_create_world() asks for MPI_THREAD_FUNNELED).
 *
 * Progress thread (rnn_mpi_options.progress_us, the environment variable
 * RNN_MPI_PROGRESS): MPI libraries such as Open MPI move a non-blocking sum
 * on only inside MPI calls, and librnn makes none while a layer's backward
 * runs. A thread of the handle therefore tests the sums in flight every
 * progress_us microseconds (50 by default) while any is in flight, and
 * sleeps on a condition variable otherwise (no MPI call, no CPU). Every MPI
 * call of the handle is made under a mutex of its own, so MPI must provide
 * MPI_THREAD_SERIALIZED (or MPI_THREAD_MULTIPLE): rnn_mpi_create_world()
 * asks for MPI_THREAD_SERIALIZED when it initializes MPI; on a program's
 * MPI initialized with less, the default (::RNN_MPI_PROGRESS_AUTO) runs
 * without the thread, and an explicit interval is refused. The thread makes
 * MPI calls only while a sum started through the handle's collective is in
 * flight, which the training functions never leave when they return or
 * call a callback: a program may call MPI itself between them, from the
 * thread that trains (MPI_THREAD_SERIALIZED), or at any time from any
 * thread under MPI_THREAD_MULTIPLE. What it brings, measured:
 * docs/guide/distributed.md ("The progress thread").
 */
#ifndef RNN_MPI_H
#define RNN_MPI_H

#include "rnn/collective.h"
#include "rnn/common.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque handle: a duplicated MPI communicator and its statistics. */
typedef struct rnn_mpi rnn_mpi;

/**
 * @brief Options of rnn_mpi_create(). Fill with rnn_mpi_options_init(); the
 * struct only grows at the end.
 */
typedef struct rnn_mpi_options {
    uint32_t struct_size;   /**< sizeof(rnn_mpi_options), set by _init. */
    /** How long a wait for the other ranks may last before the operation
     *  fails: 120 s, in (0, 1e6]. The environment variable RNN_MPI_TIMEOUT
     *  (seconds), when set, wins over this field (an operator can change it
     *  without rebuilding). It must exceed the longest time one rank may
     *  compute while another waits (a validation pass, a checkpoint). */
    double timeout_seconds;
    /** Copied into rnn_collective.flags: 0, or ::RNN_COLLECTIVE_NO_OVERLAP
     *  (sum the gradients only after the whole backward, for measurements). */
    unsigned flags;
    /** The progress thread (see the file's description):
     *  ::RNN_MPI_PROGRESS_AUTO (the default): one that tests the sums in
     *  flight every 50 microseconds when MPI provides MPI_THREAD_SERIALIZED
     *  or more, none otherwise; 0: none; N in [1, 1000000]: one that tests
     *  every N microseconds, and rnn_mpi_create() fails when MPI provides
     *  less than MPI_THREAD_SERIALIZED. The environment variable
     *  RNN_MPI_PROGRESS (-1, 0 or N), when set, wins over this field. */
    int progress_us;
} rnn_mpi_options;

/** @brief rnn_mpi_options.progress_us: a progress thread when MPI's thread
 *  level allows it (the default). */
#define RNN_MPI_PROGRESS_AUTO (-1)

/** @brief Fills @p options with the defaults (timeout_seconds 120, flags 0,
 *  progress_us ::RNN_MPI_PROGRESS_AUTO). */
RNN_API void rnn_mpi_options_init(rnn_mpi_options *options);

/**
 * @brief Wraps an MPI communicator for data-parallel training.
 *
 * A collective call over the communicator: every rank calls it. The
 * communicator is duplicated (MPI_Comm_dup, so that librnn's messages never
 * meet the program's own) and the duplicate gets MPI_ERRORS_RETURN; the
 * caller's communicator may be freed afterwards. MPI must be initialized
 * and not yet finalized.
 *
 * @param comm the address of an `MPI_Comm` of the MPI librnn-mpi was built
 *        with: `&comm` in C, `MPI._addressof(comm)` from mpi4py.
 * @param options NULL for the defaults.
 * @param[out] out the handle; release with rnn_mpi_destroy() after the
 *        models that use its collective. NULL on failure.
 * @retval RNN_ERR_INVALID_ARG @p comm or @p out NULL, @p comm pointing to
 *         MPI_COMM_NULL, a bad struct_size, timeout_seconds, flags,
 *         progress_us, RNN_MPI_TIMEOUT or RNN_MPI_PROGRESS (the message names
 *         which and its value).
 * @retval RNN_ERR_STATE MPI is not initialized, or already finalized, or a
 *         progress interval is asked for (progress_us > 0) and MPI was
 *         initialized with less than MPI_THREAD_SERIALIZED (the message
 *         says which level; ::RNN_MPI_PROGRESS_AUTO then goes without the
 *         thread).
 * @retval RNN_ERR_COLLECTIVE MPI_Comm_dup (or another MPI call) failed; the
 *         message has MPI's error string.
 * @retval RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_mpi_create(const void *comm, const rnn_mpi_options *options,
                                  rnn_mpi **out);

/**
 * @brief rnn_mpi_create() on MPI_COMM_WORLD, initializing MPI first
 * (MPI_Init_thread with MPI_THREAD_SERIALIZED, for the progress thread, or
 * MPI_THREAD_FUNNELED when progress_us is 0) when nobody has; then
 * rnn_mpi_destroy()
 * finalizes it. For programs and bindings that use MPI only through librnn.
 * @retval RNN_ERR_STATE MPI was already finalized.
 * @retval RNN_ERR_COLLECTIVE MPI_Init_thread failed.
 * @retval RNN_ERR_UNSUPPORTED a progress interval is asked for (progress_us
 *         > 0) and the MPI library provides less than MPI_THREAD_SERIALIZED
 *         (MPI is finalized again; with ::RNN_MPI_PROGRESS_AUTO the handle
 *         is made without the thread).
 * Other errors as rnn_mpi_create().
 */
RNN_API rnn_status rnn_mpi_create_world(const rnn_mpi_options *options, rnn_mpi **out);

/**
 * @brief Releases the handle: stops its progress thread, if any, frees the
 * duplicated communicator (a collective call: every rank destroys its
 * handle) and, when
 * rnn_mpi_create_world() initialized MPI, finalizes MPI. After a failed or
 * timed-out operation nothing is freed or finalized (MPI could block):
 * only the handle's own memory is released, and the process should end with
 * a nonzero status. NULL is allowed.
 */
RNN_API void rnn_mpi_destroy(rnn_mpi *mpi);

/**
 * @brief The collective to attach to models with rnn_model_set_collective():
 * this rank, the communicator's size and librnn-mpi's callbacks (user =
 * @p mpi). Borrowed: valid until rnn_mpi_destroy().
 * @retval RNN_ERR_INVALID_ARG @p mpi or @p out NULL.
 */
RNN_API rnn_status rnn_mpi_collective(rnn_mpi *mpi, const rnn_collective **out);

/**
 * @brief What the handle's collectives did, to measure what the
 * communication costs and how much of it hides behind computation.
 *
 * An output struct: the caller sets struct_size, the library writes that
 * many bytes (at most its own sizeof).
 */
typedef struct rnn_mpi_stats {
    uint32_t struct_size;     /**< Set by the caller: sizeof(rnn_mpi_stats). */
    int64_t allreduces;       /**< Sums started (gradient buckets, loss figures, metrics). */
    int64_t allreduce_bytes;  /**< Bytes summed (4 per float, this rank's buffer). */
    int64_t broadcasts;       /**< Broadcasts (weights, optimizer state, decisions). */
    int64_t broadcast_bytes;  /**< Bytes broadcast. */
    /** Sums already complete when librnn came to wait for them: entirely
     *  hidden behind the computation that ran meanwhile. */
    int64_t completed_before_wait;
    /** Seconds the sums were in flight while librnn computed: for each sum,
     *  from its start to librnn's wait for it (the overlap window). */
    double inflight_seconds;
    /** Seconds spent blocked in waits for sums (the part not hidden). */
    double wait_seconds;
    /** Seconds spent in broadcasts (start to completion). */
    double broadcast_seconds;
    /** Tests (MPI_Testall) the progress thread made; 0 without one. */
    int64_t progress_tests;
    /** Sums and broadcasts the progress thread found complete (the rest
     *  completed in the calling thread's tests); 0 without one. */
    int64_t completed_by_progress;
} rnn_mpi_stats;

/**
 * @brief Reads the statistics gathered since rnn_mpi_create() or the last
 * rnn_mpi_reset_stats() (this rank's figures).
 * @retval RNN_ERR_INVALID_ARG @p mpi or @p out NULL, or out->struct_size
 *         smaller than the first field or larger than this library's struct.
 */
RNN_API rnn_status rnn_mpi_get_stats(const rnn_mpi *mpi, rnn_mpi_stats *out);

/** @brief Sets the statistics back to zero (for measuring a part of a run).
 * @retval RNN_ERR_INVALID_ARG @p mpi NULL. */
RNN_API rnn_status rnn_mpi_reset_stats(rnn_mpi *mpi);

#if defined(MPI_VERSION) && !defined(RNN_MPI_NO_COMM_WRAPPER)
/**
 * @brief rnn_mpi_create() on @p comm itself, for C and C++ programs that
 * include <mpi.h> before this header.
 */
static inline rnn_status rnn_mpi_create_comm(MPI_Comm comm, const rnn_mpi_options *options,
                                             rnn_mpi **out)
{
    return rnn_mpi_create(&comm, options, out);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* RNN_MPI_H */
