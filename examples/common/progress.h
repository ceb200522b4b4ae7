/* SPDX-License-Identifier: Apache-2.0 */
/* Training progress for the example programs, drawn from rnn_model_fit()'s
 * progress reports (the library never prints): a bar on a terminal, one line
 * per epoch (on stderr). Pass progress_fit as rnn_fit_options.on_progress and
 * a progress as rnn_fit_options.user. */
#ifndef EX_PROGRESS_H
#define EX_PROGRESS_H

#include <rnn.h>

typedef struct progress {
    int tty;
    const char *what; /* prefix, e.g. the dataset name, may be "" */
    int threads;      /* the thread count last reported (progress_threads) */
} progress;

void progress_init(progress *p, const char *what);
/* One line on stderr when training now runs on another thread count than
 * the last one reported (rnn_set_thread_policy: the adaptive count moves
 * away from rnn_get_num_threads() while another process holds the cores,
 * and back); nothing otherwise. */
void progress_threads(progress *p, int threads);
/* The bar (on a terminal only): epoch and batch count from 1, batches 0 when
 * unknown, eta < 0 when unknown; loss and accuracy as they stand. */
void progress_bar(const progress *p, int epoch, int epochs, int64_t batch, int64_t batches,
                  float loss, float accuracy, double eta);
/* Clears the bar's line (on a terminal) before an epoch line is printed. */
void progress_clear(const progress *p);
/* rnn_fit_options.on_progress: the bar after each batch, then the epoch's line
 * (seconds, loss, accuracy, validation figures, "*" when the monitored figure
 * improved) and progress_threads() with the count the epoch ended on. */
int progress_fit(void *user, const rnn_progress *pr);
double now_seconds(void);
/* Memory of the process around a training run, for the benchmarks' "what training added"
 * (docs/benchmarks.md): rss_mark() resets the kernel's peak-RSS counter (Linux
 * /proc/self/clear_refs) and returns the resident MiB now; rss_peak() the peak resident MiB
 * since then. -1 where /proc does not tell (not Linux). */
double rss_mark(void);
double rss_peak(void);
/* Prints rnn_model_summary() on stderr, whatever its length. */
void print_summary(const rnn_model *m);

#endif
