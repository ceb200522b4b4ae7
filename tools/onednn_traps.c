/* SPDX-License-Identifier: Apache-2.0 */
/*
 * onednn_traps: re-checks, on the oneDNN this build links, the raw behaviours
 * librnn's oneDNN backend works around (shared/notes/onednn-2.6.md; results
 * for 2.6 and 3.7 in docs/building.md). Prints one line per trap and cell; the
 * exit status is 0 whatever the findings (it is a probe, not a test: the
 * workarounds themselves are tested by tests/backend/test_onednn_traps.c).
 *
 *   build/tools/onednn_traps
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/onednn_probe.h"

static const struct {
    rnn__cell cell;
    const char *name;
} cells[] = {{RNN__CELL_LSTM, "LSTM"},
             {RNN__CELL_GRU, "GRU"},
             {RNN__CELL_LBR_GRU, "LBR-GRU"},
             {RNN__CELL_RNN_TANH, "RNN"}};
#define NCELLS (int)(sizeof cells / sizeof cells[0])

/* Trap 2 in a child process: a crash there is a finding, not our crash. */
static const char *other_thread(rnn__cell cell, int user, char *buf, size_t n)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(rnn__dnnl_probe_other_thread(cell, user) == RNN_OK ? 0 : 3);
    int ws = 0;
    if (pid < 0 || waitpid(pid, &ws, 0) < 0)
        return "could not run";
    if (WIFSIGNALED(ws))
        snprintf(buf, n, "CRASH (signal %d%s)", WTERMSIG(ws), WTERMSIG(ws) == SIGSEGV ? ", SIGSEGV" : "");
    else
        snprintf(buf, n, WEXITSTATUS(ws) == 0 ? "runs" : "fails (exit %d)", WEXITSTATUS(ws));
    return buf;
}

int main(void)
{
    char b1[96], b2[96];
    /* Trap 2 first: forked children must not inherit a started OpenMP pool. */
    for (int i = 0; i < NCELLS; i++)
        printf("trap 2 %-7s created in one thread, run in another: library scratchpad %s; "
               "user scratchpad %s\n",
               cells[i].name, other_thread(cells[i].cell, 0, b1, sizeof b1),
               other_thread(cells[i].cell, 1, b2, sizeof b2));
    for (int i = 0; i < NCELLS; i++) {
        double d = -1;
        rnn_status st = rnn__dnnl_probe_null_src_iter(cells[i].cell, &d);
        if (st)
            printf("trap 1 %-7s NULL src_iter: probe failed: %s\n", cells[i].name, rnn_last_error());
        else
            printf("trap 1 %-7s NULL src_iter vs explicit zeros: diff_weights_iter differs by "
                   "%.3g relative: %s\n",
                   cells[i].name, d, d > 1e-5 ? "WRONG (pass explicit zeros)" : "same");
    }
    for (int i = 0; i < NCELLS; i++) {
        double r = -1;
        rnn_status st = rnn__dnnl_probe_accumulation(cells[i].cell, &r);
        if (st)
            printf("trap 3 %-7s accumulation: probe failed: %s\n", cells[i].name, rnn_last_error());
        else
            printf("trap 3 %-7s second backward / first, diff weights not zeroed: %.4f: %s\n",
                   cells[i].name, r,
                   r > 1.99 && r < 2.01   ? "accumulates"
                   : r > 0.99 && r < 1.01 ? "overwrites"
                                          : "neither");
    }
    return 0;
}
