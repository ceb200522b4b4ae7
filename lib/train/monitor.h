/* SPDX-License-Identifier: Apache-2.0 */
/* What rnn_model_fit() watches after every epoch (monitor.c): the best epoch
 * of the monitored quantity (early stopping, the checkpoint file, the weights
 * restore_best_weights returns to) and Keras' ReduceLROnPlateau, which
 * tracks the same quantity on its own. */
#ifndef RNN_TRAIN_MONITOR_H
#define RNN_TRAIN_MONITOR_H

#include "internal.h"
#include "rnn/fit.h"

typedef struct rnn__monitor {
    rnn_model *m;
    const rnn_fit_options *o;
    /* best epoch and early stopping */
    int have_best;
    int wait;          /* epochs since the last improvement */
    float best;
    int best_epoch;    /* -1 until an epoch improves */
    char *best_params; /* restore_best_weights: every parameter of the best epoch */
    /* reduce-on-plateau (as Keras: apart from early stopping) */
    int p_have, p_wait, p_cool;
    float p_best;
} rnn__monitor;

/* Sets up the monitors for a fit of m with options o (o must outlive mon):
 * with restore_best_weights, room for a copy of every parameter. Errors
 * (RNN_ERR_NOMEM) name rnn_model_fit. */
RNN__HIDDEN rnn_status rnn__monitor_init(rnn__monitor *mon, rnn_model *m,
                                         const rnn_fit_options *o);

/* After epoch `epoch` (from 0) whose figures are e (learning_rate not yet
 * set): on an improvement of the monitored quantity, sets e->improved, keeps
 * the weights and writes the checkpoint; then reduce-on-plateau may lower the
 * optimizer's learning rate. Errors name rnn_model_fit and the epoch. */
RNN__HIDDEN rnn_status rnn__monitor_epoch(rnn__monitor *mon, int epoch, rnn_epoch_log *e);

/* Early stopping: patience is exhausted. */
RNN__HIDDEN int rnn__monitor_stop(const rnn__monitor *mon);

/* Once training ended normally after epochs_run epochs: restore_best_weights
 * puts back the best epoch's weights when it was not the last one. */
RNN__HIDDEN void rnn__monitor_restore(rnn__monitor *mon, int epochs_run);

RNN__HIDDEN void rnn__monitor_free(rnn__monitor *mon);

/* Sets the optimizer's learning rate of m, never below 1e-30. */
RNN__HIDDEN rnn_status rnn__fit_set_lr(rnn_model *m, float lr);

#endif /* RNN_TRAIN_MONITOR_H */
