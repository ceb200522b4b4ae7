/* SPDX-License-Identifier: Apache-2.0 */
/* The thread settings: the configured count (rnn_set_num_threads), the policy
 * (rnn_set_thread_policy), and each calling thread's active count, which the
 * adaptive batch loops lower (governor.c) and rnn__threads_apply() hands to
 * OpenMP before every primitive execution. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <time.h>

#include "internal.h"

/* The two OpenMP runtime calls librnn makes (libgomp, the runtime Debian's
 * oneDNN uses). Declared here rather than through <omp.h> so that any C
 * compiler can build the library (clang cannot parse gcc's omp.h). */
extern int omp_get_max_threads(void);
extern void omp_set_num_threads(int num_threads);

/* 0 = default (OpenMP's own choice, captured once). Atomic. */
static int requested_threads;
static int default_threads;
static int thread_policy; /* rnn_thread_policy; atomic */

/* The calling thread's active count (0: none) and the last one a batch loop
 * reported (0: none yet), for rnn_get_active_threads(). */
static _Thread_local int active_threads;
static _Thread_local int last_active;
/* Seconds this thread has spent creating primitives: from the first
 * rnn__threads_create_begin() of a creation to the rnn__threads_apply() of the
 * execution that follows it (creating_since > 0 in between). */
static _Thread_local double creating, creating_since;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int resolve_default(void)
{
    int d = __atomic_load_n(&default_threads, __ATOMIC_ACQUIRE);
    if (d == 0) {
        d = omp_get_max_threads();
        if (d < 1)
            d = 1;
        __atomic_store_n(&default_threads, d, __ATOMIC_RELEASE);
    }
    return d;
}

rnn_status rnn_set_num_threads(int n)
{
    if (n < 0 || n > 4096)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "n must be in 0..4096 (got %d)", n);
    resolve_default(); /* capture OpenMP's default before we change it */
    __atomic_store_n(&requested_threads, n, __ATOMIC_RELEASE);
    return RNN_OK;
}

int rnn__threads(void)
{
    int n = __atomic_load_n(&requested_threads, __ATOMIC_ACQUIRE);
    return n > 0 ? n : resolve_default();
}

int rnn_get_num_threads(void)
{
    return rnn__threads();
}

rnn_status rnn_set_thread_policy(rnn_thread_policy policy)
{
    if (policy != RNN_THREADS_ADAPTIVE && policy != RNN_THREADS_FIXED)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "policy must be RNN_THREADS_ADAPTIVE or RNN_THREADS_FIXED (got %d)",
                        (int)policy);
    __atomic_store_n(&thread_policy, (int)policy, __ATOMIC_RELEASE);
    return RNN_OK;
}

rnn_thread_policy rnn_get_thread_policy(void)
{
    return (rnn_thread_policy)__atomic_load_n(&thread_policy, __ATOMIC_ACQUIRE);
}

int rnn__threads_adaptive(void)
{
    return rnn_get_thread_policy() == RNN_THREADS_ADAPTIVE;
}

void rnn__threads_set_active(int n)
{
    active_threads = n > 0 ? n : 0;
    if (n > 0)
        last_active = n;
}

int rnn_get_active_threads(void)
{
    const int p = rnn__threads();
    if (!rnn__threads_adaptive() || last_active <= 0)
        return p;
    return last_active < p ? last_active : p;
}

static void apply(int n)
{
    /* omp_set_num_threads() affects the calling thread's parallel regions,
     * which is where oneDNN (OpenMP runtime) and our loops fork. */
    if (omp_get_max_threads() != n)
        omp_set_num_threads(n);
}

int rnn__threads_current(void)
{
    const int p = rnn__threads(), a = active_threads;
    return a > 0 && a < p ? a : p;
}

void rnn__threads_apply(void)
{
    if (creating_since > 0.0) {
        creating += now_seconds() - creating_since;
        creating_since = 0.0;
    }
    apply(rnn__threads_current());
}

void rnn__threads_create_begin(void)
{
    if (creating_since == 0.0)
        creating_since = now_seconds();
    apply(rnn__threads_current());
}

double rnn__threads_creating(void)
{
    if (creating_since > 0.0) { /* a creation that failed: it ended now */
        creating += now_seconds() - creating_since;
        creating_since = 0.0;
    }
    return creating;
}
