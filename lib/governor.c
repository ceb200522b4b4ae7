/* SPDX-License-Identifier: Apache-2.0 */
/* The adaptive thread count of the batch loops (governor.h). Tunables are the
 * GOV_* constants below; docs/design.md gives the measurements behind them. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <string.h>
#include <time.h>

#include "governor.h"

/* Batches at the start of a loop that are not measured (first-touch, caches). */
#define GOV_WARM 2
/* Batches at a level before its cost model is trusted (a probe waits for them). */
#define GOV_MIN_POINTS 8
/* Forgetting factor of the cost model per batch: a memory of about 30 batches. */
#define GOV_FORGET 0.97
/* A batch enters the model at most this many times its predicted time (a
 * preempted batch must not drag the model). */
#define GOV_CLIP 4.0
/* Probe intervals, in measured batches at the current level: after a probe
 * that kept the level the interval doubles, from GOV_INTERVAL_MIN up to
 * GOV_INTERVAL_MAX (the configured count, where a change of load also shows
 * as a change of speed: see GOV_DRIFT_*) or GOV_INTERVAL_MAX_LOW (a lowered
 * count, which must notice the load going away; a lone thread on its own
 * core runs as fast with or without the load, so only a probe can tell). */
#define GOV_INTERVAL_MIN 32
#define GOV_INTERVAL_MAX 1024
#define GOV_INTERVAL_MAX_LOW 256
/* ... and never shorter than 1/GOV_BUDGET times what the last probe cost (its
 * batches on the probed level, in batches of the current level, less what
 * they would have cost there), up to GOV_INTERVAL_CAP: probes that keep
 * finding the current level faster take at most about 2% of the time, also
 * when the other level is far slower (2 threads under a heavy load: 5-20x),
 * yet at most GOV_INTERVAL_CAP batches before a load that left is noticed. */
#define GOV_BUDGET 0.02
#define GOV_INTERVAL_CAP 1024
/* A switch that reverses one made fewer than GOV_REVERSAL batches before
 * doubles the interval that follows a switch (up to 2^GOV_BACKOFF_MAX times). */
#define GOV_REVERSAL 512
#define GOV_BACKOFF_MAX 4
/* A probe alternates batches on the probed level and the current one and
 * compares the means of their times (each over the current level's model).
 * It decides early when the ratio q (probed / current) is clear: above
 * GOV_CLEAR_SLOWER_1 after one batch per side or GOV_CLEAR_SLOWER after
 * GOV_PROBE_STAY (stay: the idle case, 1.5 to 2 on 2 cores, so an idle probe
 * costs one or two batches on fewer threads), below
 * GOV_CLEAR_FASTER after GOV_PROBE_MIN (take it: the measured load case is
 * 0.05..0.35). Otherwise it runs RNN__GOV_PROBE per side; then q below
 * 1 - GOV_MARGIN takes the probed level only if the probe right after it
 * (started at once) agrees: noise alone fools two probes in a row far more
 * rarely than one. */
#define GOV_CLEAR_SLOWER_1 1.6
#define GOV_PROBE_STAY 2
#define GOV_PROBE_MIN 3
#define GOV_CLEAR_SLOWER 1.25
#define GOV_CLEAR_FASTER 0.5
#define GOV_MARGIN 0.10
/* Between probes: when the median of the last RNN__GOV_RECENT batches at the
 * current level is GOV_DRIFT_UP times its model (the load arrived: measured
 * 4x for two spinning threads) or GOV_DRIFT_DOWN times, probe now, toward
 * fewer or more threads; not sooner than GOV_DRIFT_MIN batches after a
 * probe, nor than 1/GOV_DRIFT_BUDGET times the last probe's cost: under a
 * load that comes and goes the lone thread's speed wobbles, and each probe
 * of 2 threads cost 2 to 60 batches (measured beside other processes). */
#define GOV_DRIFT_UP 1.5
#define GOV_DRIFT_DOWN 0.6
#define GOV_DRIFT_MIN 8
#define GOV_DRIFT_BUDGET 0.08
/* A loop starts at the level the thread's previous loop ended on when that
 * ended less than this many seconds ago (evaluate after fit). */
#define GOV_HINT_SECONDS 30.0
/* A governor whose last batch is older than this starts afresh: what it
 * measured may no longer hold. */
#define GOV_STALE_SECONDS 30.0

/* ------------------------------------------------------------ decision logic */

static void model_reset(rnn__gov *g)
{
    g->s1 = g->sw = g->st = g->sww = g->swt = 0.0;
    g->points = 0;
    g->n_recent = 0;
}

/* Predicted seconds at the current level for `work`; 0 when the model is not
 * ready. The straight line through the batches when their work varies enough
 * to fit one (length bucketing), else proportional to the work; a fitted line
 * with a negative slope or intercept falls back to the nearest sane one. */
static double model_predict(const rnn__gov *g, double w)
{
    if (g->points < GOV_MIN_POINTS || g->s1 <= 0.0)
        return 0.0;
    const double mw = g->sw / g->s1, mt = g->st / g->s1;
    const double vw = g->sww / g->s1 - mw * mw, cwt = g->swt / g->s1 - mw * mt;
    double a = 0.0, b = mt / mw;
    if (vw > 0.0025 * mw * mw) { /* relative spread of the work above 5% */
        b = cwt / vw;
        a = mt - b * mw;
        if (b < 0.0) {
            b = 0.0;
            a = mt;
        } else if (a < 0.0) {
            a = 0.0;
            b = mt / mw;
        }
    }
    const double p = a + b * w;
    return p > 0.0 ? p : 0.0;
}

static void model_add(rnn__gov *g, double t, double w)
{
    const double p = model_predict(g, w);
    if (p > 0.0 && t > GOV_CLIP * p)
        t = GOV_CLIP * p;
    const double f = GOV_FORGET;
    g->s1 = g->s1 * f + 1.0;
    g->sw = g->sw * f + w;
    g->st = g->st * f + t;
    g->sww = g->sww * f + w * w;
    g->swt = g->swt * f + w * t;
    g->points++;
}

/* The probes compare means, not medians: a level's cost is its total time,
 * and under load the slow batches of too many threads are the cost (a
 * spinning thread whose sibling was descheduled: a few batches 5-60x slower
 * among normal ones, which a median hides; measured on the POS tagger beside
 * a busy process, medians took 2 threads for as fast as 1 in 3 of 12 probes). */
static double mean(const double *v, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s / n;
}

static double median(const double *v, int n)
{
    double s[RNN__GOV_PROBE > RNN__GOV_RECENT ? RNN__GOV_PROBE : RNN__GOV_RECENT];
    memcpy(s, v, sizeof(double) * (size_t)n);
    for (int i = 1; i < n; i++) /* insertion sort: n <= 6 */
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            const double x = s[j];
            s[j] = s[j - 1];
            s[j - 1] = x;
        }
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

void rnn__gov_init(rnn__gov *g, int threads, int adaptive)
{
    memset(g, 0, sizeof *g);
    g->ready = 1;
    if (threads < 1)
        threads = 1;
    /* The ladder: P, P-1 (one core taken by another process: the common
     * case), then halvings (heavier load: each step at least halves the
     * threads that can be descheduled, so a few probes reach any load). */
    g->levels[g->n_levels++] = threads;
    if (threads > 2)
        g->levels[g->n_levels++] = threads - 1;
    for (int h = threads / 2; h >= 1 && g->n_levels < RNN__GOV_LEVELS; h /= 2)
        if (h < g->levels[g->n_levels - 1])
            g->levels[g->n_levels++] = h;
    g->on = adaptive && threads > 1;
    g->alt = -1;
    g->pending = -1;
    g->dir = 1;
    g->warm = GOV_WARM;
    g->interval = 0; /* the first probe as soon as the model is ready */
}

int rnn__gov_threads(const rnn__gov *g)
{
    return g->levels[g->cur];
}

static int drift(const rnn__gov *g)
{
    if (g->n_recent < RNN__GOV_RECENT || g->since < GOV_DRIFT_MIN ||
        (double)g->since < g->last_cost / GOV_DRIFT_BUDGET)
        return 0;
    const double m = median(g->recent, RNN__GOV_RECENT);
    return m > GOV_DRIFT_UP ? 1 : m < GOV_DRIFT_DOWN ? -1 : 0;
}

/* Starts a probe if one is due: the level to try, or -1. */
/* The levels a probe from cur tries, in turn: one step down, one up, two
 * down, two up (those that exist), starting with the direction of the last
 * move; a level whose neighbour measures the same is not a dead end when the
 * load needs a larger step (four of eight cores busy: 7 threads spin as 8). */
static int candidate(const rnn__gov *g, int k)
{
    int c[4], n = 0;
    const int steps[4] = {g->dir, -g->dir, 2 * g->dir, -2 * g->dir};
    for (int i = 0; i < 4; i++)
        if (g->cur + steps[i] >= 0 && g->cur + steps[i] < g->n_levels)
            c[n++] = g->cur + steps[i];
    return c[k % n];
}

static int probe_target(rnn__gov *g)
{
    if (g->points < GOV_MIN_POINTS)
        return -1;
    if (g->pending >= 0)
        return g->pending; /* the confirming probe */
    const int d = drift(g);
    if (!d && g->since < g->interval)
        return -1;
    if (d) { /* slower: fewer threads first; faster: more */
        const int t = g->cur + d;
        if (t >= 0 && t < g->n_levels)
            return t;
    }
    return candidate(g, g->turn);
}

int rnn__gov_next(rnn__gov *g)
{
    if (!g->on) {
        g->run = 0;
        return 0;
    }
    if (g->alt < 0 && g->warm == 0) {
        const int t = probe_target(g);
        if (t >= 0) {
            g->alt = t;
            g->n_alt = g->n_cur = 0;
            g->probes++;
        }
    }
    /* A probe alternates, starting on the probed level. */
    g->run = g->alt >= 0 && g->n_alt <= g->n_cur ? g->alt : g->cur;
    return g->run;
}

/* take: 1 switch to the probed level, 0 stay, -1 confirm with another probe */
static void probe_end(rnn__gov *g, int take)
{
    const int was = g->cur;
    g->pending = take < 0 ? g->alt : -1;
    if (take > 0) {
        /* A move back soon after a move (noise fooled a probe, or the load
         * comes and goes) waits longer before the next probe, each time. */
        const int dir = g->alt > g->cur ? 1 : -1;
        if (g->switches > 0 && dir != g->dir && g->batches - g->switched_at < GOV_REVERSAL)
            g->backoff += g->backoff < GOV_BACKOFF_MAX;
        else
            g->backoff = 0;
        g->dir = dir; /* keep going the same way */
        g->switched_at = g->batches;
        g->last_cost = 0.0;
        g->cur = g->alt;
        model_reset(g);
        g->interval = (int64_t)GOV_INTERVAL_MIN << g->backoff;
        g->turn = 0;
        g->switches++;
    } else if (take == 0) {
        const int64_t max = g->cur == 0 ? GOV_INTERVAL_MAX : GOV_INTERVAL_MAX_LOW;
        int64_t next = g->interval * 2 < GOV_INTERVAL_MIN ? GOV_INTERVAL_MIN
                       : g->interval * 2 > max            ? max
                                                          : g->interval * 2;
        double cost = 0.0; /* the probe's batches on alt, over what cur would have taken */
        for (int i = 0; i < g->n_alt; i++)
            cost += g->r_alt[i] / mean(g->r_cur, g->n_cur) - 1.0;
        g->last_cost = cost;
        if (cost / GOV_BUDGET > (double)next)
            next = cost / GOV_BUDGET > GOV_INTERVAL_CAP ? GOV_INTERVAL_CAP
                                                        : (int64_t)(cost / GOV_BUDGET);
        g->interval = next;
        g->turn++; /* the next probe tries the next candidate */
        g->n_recent = 0;
    }
    if (rnn__log_enabled(RNN_LOG_DEBUG))
        rnn__log(RNN_LOG_DEBUG, "threads: %d against %d: time ratio %.2f (means of %d), %s %d",
                 g->levels[g->alt], g->levels[was],
                 mean(g->r_alt, g->n_alt) / mean(g->r_cur, g->n_cur), g->n_alt,
                 take > 0 ? "now" : take < 0 ? "probing again before leaving" : "staying at",
                 g->levels[g->cur]);
    g->alt = -1;
    g->since = 0;
}

void rnn__gov_done(rnn__gov *g, double seconds, double work)
{
    if (!g->on)
        return;
    g->batches++;
    if (g->warm > 0) {
        g->warm--;
        return;
    }
    if (!(seconds > 0.0) || !(work > 0.0) || !isfinite(seconds) || !isfinite(work))
        return;
    const double p = model_predict(g, work);
    if (g->run == g->cur) {
        if (p > 0.0) {
            if (g->alt >= 0)
                g->r_cur[g->n_cur++] = seconds / p;
            else {
                memmove(g->recent + 1, g->recent, sizeof(double) * (RNN__GOV_RECENT - 1));
                g->recent[0] = seconds / p;
                if (g->n_recent < RNN__GOV_RECENT)
                    g->n_recent++;
            }
        }
        model_add(g, seconds, work);
        if (g->alt < 0)
            g->since++;
    } else if (g->alt >= 0 && g->run == g->alt && p > 0.0) {
        g->r_alt[g->n_alt++] = seconds / p;
    }
    if (g->alt < 0 || g->n_alt != g->n_cur || g->n_alt == 0)
        return;
    const double q = mean(g->r_alt, g->n_alt) / mean(g->r_cur, g->n_cur);
    if (g->n_alt < GOV_PROBE_STAY) {
        if (q > GOV_CLEAR_SLOWER_1)
            probe_end(g, 0);
    } else if (q > GOV_CLEAR_SLOWER)
        probe_end(g, 0);
    else if (q < GOV_CLEAR_FASTER && g->n_alt >= GOV_PROBE_MIN)
        probe_end(g, 1);
    else if (g->n_alt == RNN__GOV_PROBE)
        probe_end(g, q >= 1.0 - GOV_MARGIN ? 0 : g->pending == g->alt ? 1 : -1);
}

/* ------------------------------------------------------------ with the clock */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Where this thread's last loop ended: its configured count, the count it
 * ended on, when. */
static _Thread_local int hint_threads, hint_count;
static _Thread_local double hint_time;

void rnn__gov_start(rnn__gov *g)
{
    const int p = rnn__threads(), adaptive = rnn__threads_adaptive();
    const double now = now_seconds();
    if (g->ready && g->levels[0] == p && g->on == (adaptive && p > 1) &&
        now - g->last < GOV_STALE_SECONDS) {
        g->last = now;
        return;
    }
    rnn__gov_init(g, p, adaptive);
    g->last = now;
    if (!g->on || hint_threads != p || now - hint_time > GOV_HINT_SECONDS)
        return;
    for (int i = 1; i < g->n_levels; i++)
        if (g->levels[i] == hint_count) {
            g->cur = i;
            g->dir = -1; /* first see whether more threads are back to faster */
        }
}

void rnn__gov_begin(rnn__gov *g)
{
    const int i = rnn__gov_next(g);
    if (g->on)
        rnn__threads_set_active(g->levels[i]);
    g->creating = rnn__threads_creating();
    g->t0 = now_seconds();
}

void rnn__gov_end(rnn__gov *g, double work)
{
    const double now = now_seconds(), created = rnn__threads_creating() - g->creating;
    g->last = now;
    if (!g->on)
        return;
    const int was = g->levels[g->cur];
    rnn__gov_done(g, now - g->t0 - created, work);
    if (g->levels[g->cur] != was && rnn__log_enabled(RNN_LOG_INFO))
        rnn__log(RNN_LOG_INFO, "threads: %d of %d measured faster; using %d",
                 g->levels[g->cur], g->levels[0], g->levels[g->cur]);
}

void rnn__gov_hold(const rnn__gov *g)
{
    if (g->on)
        rnn__threads_set_active(g->levels[g->cur]);
}

void rnn__gov_stop(rnn__gov *g)
{
    if (!g->on)
        return;
    rnn__threads_set_active(g->levels[g->cur]); /* what rnn_get_active_threads() reports */
    rnn__threads_set_active(0);
    hint_threads = g->levels[0];
    hint_count = g->levels[g->cur];
    hint_time = now_seconds();
}

double rnn__gov_work(const rnn_tensor *x)
{
    if (!x || x->rank < 1)
        return 1.0;
    return (double)x->dims[0] * (x->rank >= 2 ? (double)x->dims[1] : 1.0);
}
