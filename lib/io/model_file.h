/* SPDX-License-Identifier: Apache-2.0 */
/* What save.c and load.c share: the format's name and the value names of
 * the "training" section. */
#ifndef RNN_IO_MODEL_FILE_H
#define RNN_IO_MODEL_FILE_H

#include "model/graph.h"

#define RNN__FORMAT_NAME "librnn"
#define RNN__FORMAT_VERSION "1"

RNN__HIDDEN extern const char *const rnn__loss_names[5];
RNN__HIDDEN extern const char *const rnn__optim_names[6];
RNN__HIDDEN extern const char *const rnn__reduction_names[2];

#endif
