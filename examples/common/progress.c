/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void progress_init(progress *p, const char *what)
{
    p->tty = isatty(2);
    p->what = what ? what : "";
    p->threads = rnn_get_num_threads();
}

void progress_threads(progress *p, int threads)
{
    if (threads < 1 || threads == p->threads)
        return;
    const int n = rnn_get_num_threads();
    if (threads < n)
        fprintf(stderr, "%s%sthreads: training on %d of %d (fewer measured faster: other "
                        "processes are using the cores; --fixed-threads keeps %d)\n",
                p->what, *p->what ? " " : "", threads, n, n);
    else
        fprintf(stderr, "%s%sthreads: back on %d\n", p->what, *p->what ? " " : "", threads);
    p->threads = threads;
}

/* The kB of a "Name:  N kB" line of /proc/self/status, -1 when absent. */
static double status_kb(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    double kb = -1;
    const size_t n = strlen(name);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            kb = strtod(line + n + 1, NULL);
            break;
        }
    fclose(f);
    return kb;
}

double rss_mark(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) { /* "5": reset the peak RSS to the current RSS (Linux 4.0) */
        fputs("5", f);
        fclose(f);
    }
    const double kb = status_kb("VmRSS");
    return kb < 0 ? -1 : kb / 1024.0;
}

double rss_peak(void)
{
    const double kb = status_kb("VmHWM");
    return kb < 0 ? -1 : kb / 1024.0;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_bar(const progress *p, int epoch, int epochs, int64_t batch, int64_t batches,
                  float loss, float accuracy, double eta)
{
    if (!p->tty || !batches)
        return;
    int width = 30, done = (int)(width * batch / batches);
    if (done > width) /* an iterator's count is the previous epoch's */
        done = width;
    char left[32] = "";
    if (eta >= 0)
        snprintf(left, sizeof left, "  eta %.0fs", eta);
    fprintf(stderr, "\r%s%sepoch %d/%d [%.*s%*s] %lld/%lld%s  loss %.4f  acc %.4f ", p->what,
            *p->what ? " " : "", epoch, epochs, done, "==============================",
            width - done, "", (long long)batch, (long long)batches, left, (double)loss,
            (double)accuracy);
}

void progress_clear(const progress *p)
{
    if (p->tty)
        fprintf(stderr, "\r%*s\r", 110, "");
}

int progress_fit(void *user, const rnn_progress *pr)
{
    progress *p = user;
    if (pr->phase == RNN_PROGRESS_BATCH) {
        progress_bar(p, pr->epoch, pr->epochs, pr->batch, pr->batches, pr->loss, pr->accuracy,
                     pr->eta);
        return 0;
    }
    progress_clear(p);
    fprintf(stderr, "%s%sepoch %d/%d  %.0fs  loss %.4f  accuracy %.4f  val_loss %.4f  "
                    "val_accuracy %.4f%s\n",
            p->what, *p->what ? " " : "", pr->epoch, pr->epochs, pr->elapsed, (double)pr->loss,
            (double)pr->accuracy, (double)pr->val_loss, (double)pr->val_accuracy,
            pr->improved ? "  *" : "");
    if (pr->struct_size >= offsetof(rnn_progress, threads) + sizeof pr->threads)
        progress_threads(p, pr->threads);
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
