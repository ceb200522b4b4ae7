/* SPDX-License-Identifier: Apache-2.0 */
/* The adaptive thread count (governor.c): a batch loop (fit, evaluate, predict,
 * decode) asks it how many threads to run each batch on and tells it how long
 * the batch took and how much work it held. Between probes it runs every batch
 * on one count (the current level); now and then it runs a few batches on a
 * neighbouring count of a ladder (P, P-1, P/2, P/4, ..., 1), interleaved with
 * batches at the current level, compares their speed (normalised by a cost
 * model of the current level, so batches of different lengths compare), and
 * keeps the faster. Why and the measurements: docs/design.md, "Threads on a
 * shared machine".
 *
 * The decision logic (rnn__gov_init, _next, _done) is pure: no clock, no
 * OpenMP; the unit tests drive it with made-up step times. rnn__gov_begin and
 * _end wrap it with the real clock and the calling thread's active count. */
#ifndef RNN_GOVERNOR_H
#define RNN_GOVERNOR_H

#include "internal.h"

#define RNN__GOV_LEVELS 16 /* ladder length: 2 + log2(4096) is enough */
#define RNN__GOV_PROBE 6   /* most batches per side of a probe */
#define RNN__GOV_RECENT 4  /* recent batches watched for a change of speed */

/* A model keeps one governor per kind of loop (the batches of each have their
 * own cost), from one call to the next: a program that calls fit for one
 * epoch at a time, predict per request, or rnn_model_train_step() in its own
 * loop is governed as one long loop. */
enum {
    RNN__LOOP_FIT,
    RNN__LOOP_EVALUATE,
    RNN__LOOP_PREDICT,
    RNN__LOOP_DECODE,
    RNN__LOOP_TRAIN_STEP,
    RNN__LOOP_TEST_STEP,
    RNN__LOOPS
};

typedef struct rnn__gov {
    int ready;                      /* initialised (a zeroed governor is not) */
    double last;                    /* clock at the last rnn__gov_start/_end */
    int on;                         /* 0: fixed (policy, or one thread): levels[0] always */
    int levels[RNN__GOV_LEVELS];    /* thread counts, levels[0] = the configured count */
    int n_levels;
    int cur;                        /* level used between probes */
    int run;                        /* level of the batch in flight */
    int dir;                        /* the last move: +1 to fewer threads, -1 to more */
    int turn;                       /* probes from cur that kept it: picks the next candidate */
    int pending;                    /* level whose probe must be confirmed, -1 none */
    int backoff;                    /* reversals in a row: the interval after a switch doubles */
    int64_t switched_at;            /* batches when the last switch was made */
    int warm;                       /* batches left that are not measured */
    int64_t since;                  /* measured batches at cur since the last probe */
    int64_t interval;               /* the next probe when since reaches it */
    double last_cost;               /* what the last probe that kept cur cost, in its batches */
    /* cost model of cur: t = a + b * work, least squares with forgetting */
    double s1, sw, st, sww, swt;
    int points;                     /* batches in the model since it was reset */
    double recent[RNN__GOV_RECENT]; /* t / model(w) of the last batches at cur */
    int n_recent;
    int alt;                        /* probed level, -1 when not probing */
    double r_alt[RNN__GOV_PROBE], r_cur[RNN__GOV_PROBE];
    int n_alt, n_cur;
    /* rnn__gov_begin/_end */
    double t0;
    double creating; /* rnn__threads_creating() at begin */
    /* counters (tests, logs) */
    int64_t batches, probes, switches;
} rnn__gov;

/* A governor for `threads` (>= 1) threads; adaptive 0 makes it fixed. */
RNN__HIDDEN void rnn__gov_init(rnn__gov *g, int threads, int adaptive);
/* Level index of the next batch; its thread count is g->levels[index]. */
RNN__HIDDEN int rnn__gov_next(rnn__gov *g);
/* The batch started by the last rnn__gov_next took `seconds` for `work`
 * units (sample-steps). A batch that is not reported is not counted. */
RNN__HIDDEN void rnn__gov_done(rnn__gov *g, double seconds, double work);
/* Thread count used between probes. */
RNN__HIDDEN int rnn__gov_threads(const rnn__gov *g);

/* A loop starts: g continues where it was when its last batch ended less
 * than a few seconds ago under the same settings; else it starts afresh with
 * the process' settings (rnn__threads(), the policy), at the level this
 * thread's previous loop ended on if that was recent. */
RNN__HIDDEN void rnn__gov_start(rnn__gov *g);
/* Before a batch: picks its count, makes it the thread's active count,
 * starts the clock. A fixed governor (policy, one thread) leaves the active
 * count alone, here and in _hold and _stop. After it: reports its time, less
 * the time spent creating oneDNN primitives during it (not the speed of a
 * thread count; measured on the POS tagger, the rest of such a batch runs as
 * fast as any other: 0.92 against 0.91 of the cost model, median). */
RNN__HIDDEN void rnn__gov_begin(rnn__gov *g);
RNN__HIDDEN void rnn__gov_end(rnn__gov *g, double work);
/* Work that is not measured (validation inside fit) runs at the current count. */
RNN__HIDDEN void rnn__gov_hold(const rnn__gov *g);
/* The loop is over: the thread's active count is cleared; its level is kept
 * as the starting point of the thread's next loop. */
RNN__HIDDEN void rnn__gov_stop(rnn__gov *g);

/* Work of a batch whose input is x: samples times steps (rank >= 2), else samples. */
RNN__HIDDEN double rnn__gov_work(const rnn_tensor *x);

#endif
