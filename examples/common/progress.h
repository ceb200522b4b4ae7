/* SPDX-License-Identifier: Apache-2.0 */
/* Training progress for the example programs: a bar on a terminal, one line
 * per epoch otherwise (on stderr). Pass as rnn_fit_options.user. */
#ifndef EX_PROGRESS_H
#define EX_PROGRESS_H

#include <rnn.h>

typedef struct progress {
    int tty, epochs;
    const char *what; /* prefix, e.g. the dataset name, may be "" */
} progress;

void progress_init(progress *p, int epochs, const char *what);
int progress_batch(void *user, const rnn_batch_log *log);
int progress_epoch(void *user, const rnn_epoch_log *log);
double now_seconds(void);
/* Prints rnn_model_summary() on stderr, whatever its length. */
void print_summary(const rnn_model *m);

#endif
