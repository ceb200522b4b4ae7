/* SPDX-License-Identifier: Apache-2.0 */
/* The one growable f32 work buffer (core): layers, the graph and the oneDNN
 * backend keep their scratch arrays in it. */
#include <string.h>

#include "internal.h"

rnn_status rnn__bytes_ensure(void **p, size_t *bytes, size_t need)
{
    if (need <= *bytes)
        return RNN_OK;
    /* The old contents are not kept, so the old block goes first: growing a workspace of
     * hundreds of MiB must not hold both for a moment (the process's peak). */
    rnn__free(*p);
    *p = NULL;
    *bytes = 0;
    void *q = rnn__malloc(need);
    if (!q)
        return RNN__NOMEM(need);
    *p = q;
    *bytes = need;
    return RNN_OK;
}

rnn_status rnn__fbuf_ensure(rnn__fbuf *b, size_t n, int zero)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / sizeof(float))
        return RNN__NOMEM(SIZE_MAX);
    void *p = b->p;
    size_t bytes = b->n * sizeof(float);
    rnn_status st = rnn__bytes_ensure(&p, &bytes, n * sizeof(float));
    b->p = p; /* NULL and 0 when growing failed: the old block is gone */
    b->n = bytes / sizeof(float);
    if (st)
        return st;
    if (zero)
        rnn__zero(b->p, n * sizeof(float));
    return RNN_OK;
}

void rnn__zero(void *p, size_t nbytes)
{
    /* One thread clears about 10-20 GB/s; a chunk of 1 MiB per thread is
     * worth a parallel region (a few microseconds). */
    const size_t chunk = (size_t)1 << 20;
    if (nbytes < 2 * chunk) {
        memset(p, 0, nbytes);
        return;
    }
    const int64_t nc = (int64_t)((nbytes + chunk - 1) / chunk);
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        size_t off = (size_t)c * chunk;
        memset((char *)p + off, 0, nbytes - off < chunk ? nbytes - off : chunk);
    }
}

void rnn__fbuf_free(rnn__fbuf *b)
{
    rnn__free(b->p);
    b->p = NULL;
    b->n = 0;
}
