/* SPDX-License-Identifier: Apache-2.0 */
/* Version queries and the thread-count setting. */
#include "internal.h"

/* The two OpenMP runtime calls librnn makes (libgomp, the runtime Debian's
 * oneDNN uses). Declared here rather than through <omp.h> so that any C
 * compiler can build the library (clang cannot parse gcc's omp.h). */
extern int omp_get_max_threads(void);
extern void omp_set_num_threads(int num_threads);

unsigned rnn_version_number(void)
{
    return RNN_VERSION_NUMBER;
}

const char *rnn_version_string(void)
{
    return RNN_VERSION_STRING;
}

/* 0 = default (OpenMP's own choice, captured once). Atomic. */
static int requested_threads;
static int default_threads;

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

void rnn__threads_apply(void)
{
    int n = rnn__threads();
    /* omp_set_num_threads() affects the calling thread's parallel regions,
     * which is where oneDNN (OpenMP runtime) and our loops fork. */
    if (omp_get_max_threads() != n)
        omp_set_num_threads(n);
}
