/* SPDX-License-Identifier: Apache-2.0 */
/* Version queries, the thread-count setting, and the struct_size check-and-copy
 * of the public structs that grow at the end (options, datasets, results). */
#include <stdio.h>
#include <string.h>

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

/* ------------------------------------------------------------ versioned structs */

static rnn_status size_error(const char *func, const char *name, const char *type,
                             uint32_t got, size_t lib_size, size_t min_size, int input)
{
    char older[96] = "";
    if (min_size < lib_size)
        snprintf(older, sizeof older, ", or at least %zu from older headers", min_size);
    if (input)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "%s->struct_size must be sizeof(%s) = %zu%s (got %u); call %s_init()",
                        name, type, lib_size, older, (unsigned)got, type);
    return rnn__err(RNN_ERR_INVALID_ARG, func,
                    "%s->struct_size must be sizeof(%s) = %zu%s (got %u); set it before the call",
                    name, type, lib_size, older, (unsigned)got);
}

rnn_status rnn__opts_copy(const char *func, const char *name, const char *type, void *dst,
                          size_t dst_size, const void *src, size_t min_size)
{
    uint32_t got;
    memcpy(&got, src, sizeof got);
    if (got < min_size || got > dst_size)
        return size_error(func, name, type, got, dst_size, min_size, 1);
    memcpy(dst, src, got);
    const uint32_t size = (uint32_t)dst_size;
    memcpy(dst, &size, sizeof size);
    return RNN_OK;
}

rnn_status rnn__result_check(const char *func, const char *name, const char *type,
                             const void *dst, size_t lib_size, size_t min_size)
{
    uint32_t got;
    memcpy(&got, dst, sizeof got);
    if (got < min_size || got > lib_size)
        return size_error(func, name, type, got, lib_size, min_size, 0);
    return RNN_OK;
}

void rnn__result_copy(void *dst, const void *src)
{
    uint32_t size;
    memcpy(&size, dst, sizeof size);
    memcpy((char *)dst + sizeof size, (const char *)src + sizeof size, size - sizeof size);
}
