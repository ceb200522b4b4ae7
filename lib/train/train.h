/* SPDX-License-Identifier: Apache-2.0 */
/* Training internals shared by compile.c and fit.c. */
#ifndef RNN_TRAIN_TRAIN_H
#define RNN_TRAIN_TRAIN_H

#include "model/graph.h"
#include "train/loss.h"

/* Forward, loss (filling *stats when not NULL) and, when train, backward and
 * the optimizer update: rnn_model_train_step/test_step, errors under func. */
RNN__HIDDEN rnn_status rnn__model_step(const char *func, rnn_model *m, int num_inputs,
                                       const rnn_tensor *const *inputs,
                                       const rnn_tensor *const *lengths,
                                       const rnn_tensor *targets, int train, float *loss,
                                       float *accuracy, rnn__loss_stats *stats);

#endif
