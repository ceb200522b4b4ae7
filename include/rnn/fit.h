/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/fit.h
 * @brief Training loops: fit, evaluate and predict over whole datasets
 * (Keras `model.fit`, `model.evaluate`, `model.predict`).
 *
 * A dataset (::rnn_data) is either in-memory tensors whose first axis is
 * the sample axis, which the library slices into batches (seeded shuffling,
 * length bucketing, validation split), or a caller-supplied batch iterator.
 * rnn_model_fit() runs epochs of rnn_model_train_step() with callbacks,
 * learning-rate schedules, early stopping and best-model checkpoints.
 *
 * The library never prints: a progress bar or per-epoch lines are drawn by
 * the caller from ::rnn_progress reports (rnn_fit_options.on_progress).
 *
 * With a collective attached (rnn/collective.h), rnn_model_fit() and
 * rnn_model_evaluate() train and evaluate data-parallel over several
 * processes, each taking its share of every batch; rnn_model_predict()
 * stays local (each rank predicts what it is given).
 */
#ifndef RNN_FIT_H
#define RNN_FIT_H

#include "rnn/common.h"
#include "rnn/model.h"
#include "rnn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Supplies one batch of a caller-defined dataset.
 *
 * Called repeatedly during an epoch (@p epoch counts from 0, @p batch from 0
 * within the epoch). Set @p *x (model input), @p *lengths (NULL or i32 (N))
 * and @p *targets (NULL is allowed for prediction only) to tensors that stay
 * valid until the next call, and return 1; return 0 at the end of the epoch
 * (the next call starts a new epoch at batch 0); return a negative value to
 * abort (the calling function then fails with RNN_ERR_STATE).
 */
typedef int (*rnn_batch_fn)(void *user, int epoch, int64_t batch, const rnn_tensor **x,
                            const rnn_tensor **lengths, const rnn_tensor **targets);

/**
 * @brief A dataset: in-memory tensors (@p x not NULL) or an iterator
 * (@p x NULL, @p next not NULL). Fill with rnn_data_init(), then set the
 * fields; the struct only grows at the end.
 */
typedef struct rnn_data {
    uint32_t struct_size;      /**< sizeof(rnn_data), set by rnn_data_init(). */
    const rnn_tensor *x;       /**< Model input for every sample: (S, ...) as rnn_model_forward()
                                    takes for one batch, with S samples on the first axis. */
    const rnn_tensor *lengths; /**< NULL, or i32 (S): each sample's length, in [1, T]. */
    const rnn_tensor *targets; /**< Targets (S, ...) as rnn_model_train_step() takes; may be
                                    NULL for rnn_model_predict(). */
    rnn_batch_fn next;         /**< Iterator, used when @p x is NULL. */
    void *user;                /**< Passed to @p next. */
} rnn_data;

/**
 * @brief Fills @p data with an empty dataset: struct_size = sizeof(rnn_data)
 * and every other field NULL. Then set @p x, @p lengths and @p targets
 * (in-memory data) or @p next and @p user (an iterator). The functions that
 * take an ::rnn_data refuse one whose struct_size is not set
 * (::RNN_ERR_INVALID_ARG).
 */
RNN_API void rnn_data_init(rnn_data *data);

/** @brief What early stopping, checkpoints and reduce-on-plateau watch. */
typedef enum rnn_monitor {
    RNN_MONITOR_VAL_LOSS = 0,     /**< Validation loss (lower is better); the default. */
    RNN_MONITOR_VAL_ACCURACY = 1, /**< Validation accuracy (higher is better). */
    RNN_MONITOR_LOSS = 2,         /**< Training loss of the epoch. */
    RNN_MONITOR_ACCURACY = 3      /**< Training accuracy of the epoch. */
} rnn_monitor;

/** @brief Learning-rate schedules; lr0 is the optimizer's rate when fit starts. */
typedef enum rnn_lr_schedule {
    RNN_LR_CONSTANT = 0,    /**< lr0 throughout. */
    /** Keras ExponentialDecay, per optimizer step s (counted from the start of this fit):
     *  lr0 * decay_rate^(s / decay_steps), with floor(s / decay_steps) when staircase. */
    RNN_LR_EXPONENTIAL = 1,
    /** Step decay per epoch e (from 0): lr0 * decay_rate^floor(e / decay_steps). */
    RNN_LR_STEP = 2,
    /** Keras ReduceLROnPlateau on the monitored quantity: after plateau_patience epochs
     *  without an improvement larger than plateau_min_delta, lr *= plateau_factor (not
     *  below min_lr), then plateau_cooldown epochs of rest. */
    RNN_LR_PLATEAU = 3
} rnn_lr_schedule;

/** @brief Figures handed to the per-batch callback. Filled by the library, as
 * ::rnn_epoch_log. */
typedef struct rnn_batch_log {
    uint32_t struct_size;  /**< sizeof(rnn_batch_log) of the library. */
    int epoch;             /**< From 0. */
    int64_t batch;         /**< Within the epoch, from 0. */
    int64_t batches;       /**< Batches in the epoch; iterators: those of the previous
                                epoch, 0 in the first (Keras' "unknown"). */
    int64_t samples;       /**< Samples in this batch. */
    float loss;            /**< Batch loss. */
    float accuracy;        /**< Batch accuracy (NaN when undefined). */
    float learning_rate;   /**< Rate used for this batch's update. */
} rnn_batch_log;

/** @brief Figures of a finished epoch (per-epoch callback, results). Filled by the
 * library; a field that ends beyond struct_size does not exist in the library the
 * program runs with. */
typedef struct rnn_epoch_log {
    uint32_t struct_size;   /**< sizeof(rnn_epoch_log) of the library. */
    int epoch;              /**< From 0. */
    float loss;             /**< Mean training loss over the epoch's batches, weighted as the
                                 loss reduction weights them (per token for masked outputs). */
    float accuracy;         /**< Training accuracy over every counted sample or token; NaN
                                 for a loss without accuracy (mean squared error). */
    float perplexity;       /**< exp(mean loss per unmasked sample or token) for the
                                 cross-entropy losses, NaN otherwise. */
    float val_loss;         /**< Same on the validation data; NaN without validation. */
    float val_accuracy;     /**< NaN without validation or for a loss without accuracy. */
    float val_perplexity;   /**< NaN without validation or for non-cross-entropy losses. */
    float learning_rate;    /**< Rate at the end of the epoch. */
    double seconds;         /**< Wall time of the epoch, validation included. */
    int improved;           /**< The monitored quantity improved (a checkpoint was written). */
    int threads;            /**< Threads the training batches ran on at the end of the
                                 epoch: rnn_get_num_threads(), or fewer when the adaptive
                                 thread policy measured fewer faster
                                 (rnn_set_thread_policy()). */
} rnn_epoch_log;

/** @brief Called after every training batch; return nonzero to stop training. */
typedef int (*rnn_batch_callback)(void *user, const rnn_batch_log *log);
/** @brief Called after every epoch; return nonzero to stop training. */
typedef int (*rnn_epoch_callback)(void *user, const rnn_epoch_log *log);

/** @brief What an ::rnn_progress report is about. */
typedef enum rnn_progress_phase {
    /** A training batch is done: the update of a progress bar. */
    RNN_PROGRESS_BATCH = 0,
    /** The epoch is done, validation and monitors included: the epoch's line.
     *  Sent once per epoch that ran (also one a callback cut short), last of
     *  the epoch's reports, before rnn_fit_options.on_epoch. */
    RNN_PROGRESS_EPOCH = 1
} rnn_progress_phase;

/**
 * @brief Progress of rnn_model_fit(), what a progress bar or a log line shows
 * (Keras' `verbose=1` bar and `verbose=2` lines are drawn from it).
 *
 * Filled by the library, which sets struct_size to its own
 * sizeof(rnn_progress): a field that ends beyond struct_size does not exist
 * in the library the program runs with. Counts are 1-based, as displayed.
 */
typedef struct rnn_progress {
    uint32_t struct_size;     /**< sizeof(rnn_progress) of the library. */
    rnn_progress_phase phase; /**< A batch update or the end of the epoch. */
    int epoch;                /**< The current epoch, from 1 to @p epochs. */
    int epochs;               /**< Epochs asked for (training may stop earlier). */
    int64_t batch;            /**< Training batches done in this epoch, from 1; at
                                   RNN_PROGRESS_EPOCH all of them. Grows by one per report. */
    int64_t batches;          /**< Batches of the epoch. In-memory data: exact. An iterator:
                                   the count of its previous epoch, 0 (unknown) in its first
                                   epoch; @p batch may pass it if the iterator changes length.
                                   At RNN_PROGRESS_EPOCH: equal to @p batch. */
    int64_t samples;          /**< Training samples seen in this epoch. */
    float loss;               /**< Mean training loss of the epoch so far (at
                                   RNN_PROGRESS_EPOCH: rnn_epoch_log.loss). */
    float accuracy;           /**< Accuracy of the epoch so far, the metric of
                                   rnn_model_train_step() (NaN when undefined). */
    float val_loss;           /**< RNN_PROGRESS_EPOCH with validation data: the validation
                                   loss; NaN otherwise. */
    float val_accuracy;       /**< Same, validation accuracy. */
    float learning_rate;      /**< The optimizer's current rate (at RNN_PROGRESS_EPOCH: after
                                   the epoch's schedule, as rnn_epoch_log.learning_rate). */
    int improved;             /**< RNN_PROGRESS_EPOCH: the monitored quantity improved
                                   (rnn_epoch_log.improved); 0 in batch reports. */
    double elapsed;           /**< Seconds since the epoch started (at RNN_PROGRESS_EPOCH:
                                   rnn_epoch_log.seconds, validation included). */
    double eta;               /**< Estimated seconds until the epoch's last training batch is
                                   done, from the mean batch time so far; -1 when @p batches
                                   is unknown (0) or already passed; 0 at RNN_PROGRESS_EPOCH. */
    int threads;              /**< Threads the batch ran on (at RNN_PROGRESS_EPOCH:
                                   rnn_epoch_log.threads); see rnn_set_thread_policy(). */
} rnn_progress;

/**
 * @brief Receives rnn_model_fit()'s progress reports: one per training batch
 * (::RNN_PROGRESS_BATCH), then one per epoch (::RNN_PROGRESS_EPOCH). Return
 * nonzero to stop training, as from the on_batch or on_epoch callback: the
 * epoch is finished (validated, monitored, reported) and fit ends with
 * ::RNN_FIT_CALLBACK.
 */
typedef int (*rnn_progress_callback)(void *user, const rnn_progress *progress);

/** @brief Options of rnn_model_fit(). Fill with rnn_fit_options_init(). */
typedef struct rnn_fit_options {
    uint32_t struct_size;  /**< sizeof(rnn_fit_options), set by _init. */
    int64_t batch_size;    /**< Samples per batch of in-memory data (training or validation):
                                32; ignored when both are iterators. The last batch of an
                                epoch may be smaller. */
    int epochs;            /**< 1. */
    int shuffle;           /**< 1: a new seeded permutation of the training samples each epoch. */
    uint64_t seed;         /**< Seed of the shuffling (0). Same seed, same batches. */
    /** Length bucketing (in-memory data with lengths): 0 off; k > 0 sorts each run of
     *  k batches (after shuffling) by length, so that batches hold sequences of similar
     *  lengths, then shuffles the batch order; each batch is cut to its longest
     *  sequence (when the model input has no fixed number of steps) and so are per-step
     *  targets. With RNN_REDUCTION_MEAN the per-step loss is then averaged over the
     *  shorter padded batch; RNN_REDUCTION_MASKED_MEAN is unaffected. */
    int bucket_batches;
    /** Fraction of the in-memory samples held out for validation, taken from the END
     *  before shuffling (as Keras): in [0, 1). 0 = none. */
    float validation_split;
    const rnn_data *validation_data; /**< NULL, or the validation set (wins over the split). */
    int reset_states;      /**< 1: rnn_model_reset_states() before each epoch (stateful models). */

    rnn_monitor monitor;   /**< For early stopping, checkpoints and plateau (VAL_LOSS). */
    int early_stopping;    /**< 1: stop after @p patience epochs without improvement. */
    int patience;          /**< Epochs without improvement tolerated (0). */
    float min_delta;       /**< An improvement must exceed this (0). */
    int restore_best_weights; /**< 1: end with the weights of the best epoch. */
    const char *checkpoint_path; /**< NULL, or a file where the model is saved (atomically)
                                      each time the monitored quantity improves; with a
                                      collective attached (rnn/collective.h), by rank 0
                                      alone. */

    rnn_lr_schedule lr_schedule; /**< RNN_LR_CONSTANT. */
    float decay_rate;      /**< Exponential/step decay factor (0.96). */
    int64_t decay_steps;   /**< Steps (exponential) or epochs (step) per decay (1000 / 10). */
    int staircase;         /**< Exponential: decay in whole steps of decay_steps (0). */
    float plateau_factor;  /**< 0.1. */
    int plateau_patience;  /**< 10. */
    float plateau_min_delta; /**< 1e-4. */
    int plateau_cooldown;  /**< 0. */
    float min_lr;          /**< Floor of plateau reductions (0). */

    rnn_batch_callback on_batch; /**< NULL, or called after each batch. */
    rnn_epoch_callback on_epoch; /**< NULL, or called after each epoch, also after one that
                                      on_batch or on_progress cut short (it is validated and
                                      counted). */
    void *user;            /**< Passed to the callbacks (on_batch, on_epoch, on_progress). */
    /** 0 (default) or 1: one line per finished epoch ("rnn_model_fit: epoch 2/10  3.1s
     *  loss 0.4127  accuracy 0.8512  val_loss ...  lr 0.001  *"; no accuracy for a loss
     *  without one, mean squared error) goes to the log callback
     *  (rnn_set_log_callback()) at ::RNN_LOG_INFO. The library never prints: with no log
     *  callback installed, or one with a lower max_level, nothing is produced. A
     *  progress bar or lines on a terminal are the caller's to draw, from on_progress. */
    int verbose;
    /** NULL, or receives a progress report after each training batch and at the end of
     *  each epoch (::rnn_progress), with @p user. rnn_model_fit() also accepts a
     *  struct_size that ends at @p verbose (a struct without this field): no reports. */
    rnn_progress_callback on_progress;
} rnn_fit_options;

/** @brief Fills @p options with the defaults listed at each field. */
RNN_API void rnn_fit_options_init(rnn_fit_options *options);

/** @brief Why rnn_model_fit() ended. */
typedef enum rnn_fit_stop {
    RNN_FIT_COMPLETED = 0,     /**< Ran every epoch. */
    RNN_FIT_EARLY_STOPPED = 1, /**< Early stopping. */
    RNN_FIT_CALLBACK = 2       /**< A callback asked to stop. */
} rnn_fit_stop;

/**
 * @brief Outcome of rnn_model_fit().
 *
 * An output struct: the caller sets struct_size, the library writes that
 * many bytes. @p last embeds ::rnn_epoch_log, which may grow: it therefore
 * stays the LAST member, rnn_fit_result never gains fields after it, and
 * rnn_fit_result grows only as rnn_epoch_log does (a new result figure
 * becomes a new function).
 */
typedef struct rnn_fit_result {
    uint32_t struct_size; /**< Set by the caller: sizeof(rnn_fit_result); at least up to
                               @p stop (then @p last is not written). */
    int epochs_run;       /**< Epochs completed. */
    int best_epoch;       /**< Epoch with the best monitored value (-1 if none). */
    float best_value;     /**< That value. */
    rnn_fit_stop stop;    /**< Why training ended. */
    rnn_epoch_log last;   /**< Figures of the last completed epoch; its struct_size says how
                               much of it was written. Always the last member. */
} rnn_fit_result;

/**
 * @brief Trains a compiled model over a dataset for several epochs.
 *
 * @param train the training set; also the validation samples with
 *        options->validation_split.
 * @param options NULL for the defaults (one epoch of batches of 32).
 * @param result NULL, or filled (set its struct_size first) also on failure,
 *        with what ran before it.
 * @retval RNN_ERR_STATE not compiled, an iterator failed, or a callback's
 *         model file could not be written.
 * @retval RNN_ERR_INVALID_ARG bad options (named) or data (e.g. an empty
 *         dataset, validation_split with an iterator, a validation monitor
 *         without validation data); a struct_size of @p train, @p options,
 *         options->validation_data or @p result that is not set, or larger than
 *         this library's struct (then nothing is written to @p result).
 * @retval RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE inconsistent tensors,
 *         lengths, token ids or labels. In-memory data (training and
 *         validation) is checked whole before the first step, so nothing has
 *         been trained and the message names the sample and step
 *         ("train->targets[9] must be a class in [0, 3) (got 3)"); an
 *         iterator's batches are checked as they come (the message names the
 *         epoch and batch).
 * @retval RNN_ERR_NUMERIC a NaN or infinite value in in-memory f32 inputs or
 *         targets (before any step), or a NaN or infinite loss or gradient:
 *         training stopped before that batch's update; the weights are those
 *         before it, and the message names the epoch, the batch and, for
 *         in-memory data, its samples of train->x.
 * @retval RNN_ERR_IO a checkpoint could not be written.
 */
RNN_API rnn_status rnn_model_fit(rnn_model *model, const rnn_data *train,
                                 const rnn_fit_options *options, rnn_fit_result *result);

/** @brief Figures of rnn_model_evaluate(). An output struct: the caller sets
 * struct_size, the library writes that many bytes. */
typedef struct rnn_eval_result {
    uint32_t struct_size; /**< Set by the caller: sizeof(rnn_eval_result). */
    float loss;        /**< Mean loss, weighted as in ::rnn_epoch_log. */
    float accuracy;    /**< Over every counted sample or token (NaN when undefined: mean
                            squared error has no accuracy). */
    float perplexity;  /**< exp(mean loss per unmasked sample/token); NaN unless cross-entropy. */
    int64_t samples;   /**< Samples seen. */
} rnn_eval_result;

/**
 * @brief Loss, accuracy and perplexity of a compiled model over a whole
 * dataset, in inference mode (Keras `model.evaluate`).
 * @param batch_size samples per batch for in-memory data (ignored for iterators).
 * @param[out] out set its struct_size first; on failure its figures are NaN
 *        and samples 0 (nothing is written when struct_size is wrong).
 * @retval RNN_ERR_STATE not compiled, or an iterator failed.
 * @retval RNN_ERR_INVALID_ARG bad data, batch_size, or struct_size of
 *         @p data or @p out.
 * @retval RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE as rnn_model_fit().
 */
RNN_API rnn_status rnn_model_evaluate(rnn_model *model, const rnn_data *data,
                                      int64_t batch_size, rnn_eval_result *out);

/**
 * @brief Runs the model in inference mode over every sample of @p data and
 * returns output 0 of all of them, concatenated on the first axis (Keras
 * `model.predict`). The model need not be compiled; targets are ignored.
 * @param[out] out a new tensor (S, ...) the caller releases with
 *        rnn_tensor_destroy().
 * @retval RNN_ERR_SHAPE iterator batches whose outputs differ beyond the
 *         batch axis.
 */
RNN_API rnn_status rnn_model_predict(rnn_model *model, const rnn_data *data,
                                     int64_t batch_size, rnn_tensor **out);

#ifdef __cplusplus
}
#endif

#endif /* RNN_FIT_H */
