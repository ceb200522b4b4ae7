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

/* Forward and loss on a batch, filling *stats when not NULL; when train, also
 * d(loss)/d(output 0) into m->loss_grad. A non-finite loss is an error
 * (RNN_ERR_NUMERIC), as every other, under func. */
RNN__HIDDEN rnn_status rnn__forward_loss(const char *func, rnn_model *m, int num_inputs,
                                         const rnn_tensor *const *inputs,
                                         const rnn_tensor *const *lengths,
                                         const rnn_tensor *targets, int train, double *loss,
                                         double *accuracy, rnn__loss_stats *stats);

/* The first trainable parameter whose gradient holds an Inf or a NaN, or
 * NULL: an update from it would poison the weights. */
RNN__HIDDEN const rnn__param *rnn__nonfinite_grad(const rnn_model *m);

#endif
