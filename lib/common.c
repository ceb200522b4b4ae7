/* SPDX-License-Identifier: Apache-2.0 */
/* Version queries and the struct_size check-and-copy of the public structs
 * that grow at the end (options, datasets, results). The thread settings are
 * in threads.c. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

unsigned rnn_version_number(void)
{
    return RNN_VERSION_NUMBER;
}

const char *rnn_version_string(void)
{
    return RNN_VERSION_STRING;
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
