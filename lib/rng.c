/* SPDX-License-Identifier: Apache-2.0 */
#include "rng.h"

#include "rnn/layers.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rnn__rng_seed(rnn__rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rnn__rng_u64(rnn__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rnn__rng_uniform(rnn__rng *r)
{
    return (double)(rnn__rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double rnn__rng_normal(rnn__rng *r)
{
    double u1 = rnn__rng_uniform(r), u2 = rnn__rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void rnn__init_glorot_uniform(rnn__rng *r, float *w, int64_t rows, int64_t cols)
{
    double limit = sqrt(6.0 / (double)(rows + cols));
    for (int64_t i = 0; i < rows * cols; i++)
        w[i] = (float)((2.0 * rnn__rng_uniform(r) - 1.0) * limit);
}

rnn_status rnn__init_orthogonal(rnn__rng *r, float *w, int64_t rows, int64_t cols)
{
    /* a: n x m column-major-ish (we store columns contiguously), n >= m. */
    int64_t n = rows > cols ? rows : cols, m = rows > cols ? cols : rows;
    size_t bytes;
    if (!rnn__mul_size((size_t)n * (size_t)m, sizeof(double), &bytes))
        return RNN_ERR_OVERFLOW;
    double *q = rnn__malloc(bytes);
    if (!q)
        return RNN_ERR_NOMEM;
    for (int64_t i = 0; i < n * m; i++)
        q[i] = rnn__rng_normal(r);
    /* Modified Gram-Schmidt on the m columns (column j at q + j*n). It yields
     * Q with positive diag(R), i.e. QR followed by Keras' sign fix. */
    for (int64_t j = 0; j < m; j++) {
        double *cj = q + j * n;
        for (int64_t k = 0; k < j; k++) {
            const double *ck = q + k * n;
            double dot = 0;
            for (int64_t i = 0; i < n; i++)
                dot += ck[i] * cj[i];
            for (int64_t i = 0; i < n; i++)
                cj[i] -= dot * ck[i];
        }
        double norm = 0;
        for (int64_t i = 0; i < n; i++)
            norm += cj[i] * cj[i];
        norm = sqrt(norm);
        if (norm < 1e-12) { /* measure-zero degenerate draw: use a unit vector */
            memset(cj, 0, sizeof(double) * (size_t)n);
            cj[j] = 1.0;
            norm = 1.0;
        }
        for (int64_t i = 0; i < n; i++)
            cj[i] /= norm;
    }
    /* Q is (n x m) with Q[i][j] = q[j*n + i]. Keras returns Q when rows >= cols
     * (shape rows x cols = n x m), else Q^T (m x n = rows x cols). */
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            w[i * cols + j] = (float)(rows >= cols ? q[j * n + i] : q[i * n + j]);
    rnn__free(q);
    return RNN_OK;
}

rnn_status rnn__init_fill(rnn__rng *r, int how, float *w, int64_t rows, int64_t cols)
{
    switch ((rnn_initializer)how) {
    case RNN_INIT_GLOROT_UNIFORM: rnn__init_glorot_uniform(r, w, rows, cols); return RNN_OK;
    case RNN_INIT_ORTHOGONAL: return rnn__init_orthogonal(r, w, rows, cols);
    case RNN_INIT_ZEROS: memset(w, 0, sizeof(float) * (size_t)(rows * cols)); return RNN_OK;
    case RNN_INIT_ONES:
        for (int64_t i = 0; i < rows * cols; i++)
            w[i] = 1.0f;
        return RNN_OK;
    }
    return RNN_ERR_INVALID_ARG;
}

void rnn__init_uniform(rnn__rng *r, float *w, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        w[i] = (float)(lo + (hi - lo) * rnn__rng_uniform(r));
}
