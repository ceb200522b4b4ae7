/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void progress_init(progress *p, int epochs, const char *what)
{
    p->tty = isatty(2);
    p->epochs = epochs;
    p->what = what ? what : "";
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int progress_batch(void *user, const rnn_batch_log *log)
{
    progress *p = user;
    if (!p->tty || !log->batches)
        return 0;
    int width = 30, done = (int)(width * (log->batch + 1) / log->batches);
    if (done > width) /* an iterator's count is the previous epoch's */
        done = width;
    fprintf(stderr, "\r%s%sepoch %d/%d [%.*s%*s] %lld/%lld  loss %.4f  acc %.4f", p->what,
            *p->what ? " " : "", log->epoch + 1, p->epochs, done,
            "==============================", width - done, "", (long long)(log->batch + 1),
            (long long)log->batches, (double)log->loss, (double)log->accuracy);
    return 0;
}

int progress_epoch(void *user, const rnn_epoch_log *log)
{
    progress *p = user;
    if (p->tty)
        fprintf(stderr, "\r%*s\r", 110, "");
    fprintf(stderr, "%s%sepoch %d/%d  %.0fs  loss %.4f  accuracy %.4f  val_loss %.4f  "
                    "val_accuracy %.4f%s\n",
            p->what, *p->what ? " " : "", log->epoch + 1, p->epochs, log->seconds,
            (double)log->loss, (double)log->accuracy, (double)log->val_loss,
            (double)log->val_accuracy, log->improved ? "  *" : "");
    return 0;
}

void print_summary(const rnn_model *m)
{
    size_t need = 0;
    if (rnn_model_summary(m, NULL, 0, &need) != RNN_OK)
        return;
    char *buf = malloc(need);
    if (buf && rnn_model_summary(m, buf, need, NULL) == RNN_OK)
        fputs(buf, stderr);
    free(buf);
}
