/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for tests that build models through the public API (gradient checks:
 * common/gradcheck.h). */
#ifndef RNN_TEST_MODEL_H
#define RNN_TEST_MODEL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "../unit/test_util.h"

static uint64_t tm_rng = 0x9E3779B97F4A7C15ull;
static inline double tm_uniform(void) /* [-1, 1) */
{
    tm_rng ^= tm_rng << 13;
    tm_rng ^= tm_rng >> 7;
    tm_rng ^= tm_rng << 17;
    return (double)(tm_rng >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static inline rnn_tensor *tm_tensor(int rank, const int64_t *dims, double scale)
{
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, rank, dims, &t));
    float *p;
    int64_t n;
    rnn_tensor_data(t, (void **)&p);
    rnn_tensor_numel(t, &n);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(scale * tm_uniform());
    return t;
}

static inline float *tm_f(const rnn_tensor *t)
{
    void *p;
    rnn_tensor_data((rnn_tensor *)t, &p);
    return p;
}

static inline int64_t tm_numel(const rnn_tensor *t)
{
    int64_t n;
    rnn_tensor_numel(t, &n);
    return n;
}

/* Builds input(I) + one recurrent layer with options o. */
static inline rnn_model *tm_model(rnn_backend be, uint64_t seed, int64_t I,
                                  const rnn_recurrent_options *o, rnn_layer **layer)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = seed;
    rnn_model *m = NULL;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, I};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    ck_ok(rnn_model_add_recurrent(m, o, layer));
    return m;
}

static inline double tm_max_rel(const float *a, const float *b, int64_t n)
{
    double e = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1e-3 + fabs((double)b[i]));
        if (fabs((double)a[i] - b[i]) < 1e-6)
            d = 0; /* absolute floor for values near zero */
        if (d > e)
            e = d;
    }
    return e;
}

#endif
