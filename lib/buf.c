/* SPDX-License-Identifier: Apache-2.0 */
/* The one growable f32 work buffer (core): layers, the graph and the oneDNN
 * backend keep their scratch arrays in it. */
#include <string.h>

#include "internal.h"

rnn_status rnn__fbuf_ensure(rnn__fbuf *b, size_t n, int zero)
{
    if (n == 0)
        n = 1;
    if (b->n < n) {
        if (n > SIZE_MAX / sizeof(float))
            return RNN__NOMEM(SIZE_MAX);
        float *p = rnn__malloc(n * sizeof(float));
        if (!p)
            return RNN__NOMEM(n * sizeof(float));
        rnn__free(b->p);
        b->p = p;
        b->n = n;
    }
    if (zero)
        memset(b->p, 0, n * sizeof(float));
    return RNN_OK;
}

void rnn__fbuf_free(rnn__fbuf *b)
{
    rnn__free(b->p);
    b->p = NULL;
    b->n = 0;
}
