/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for tests that build recurrent models through the public API. */
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

/* L = sum_k sum(out_k * R_k) over every model output: analytic gradients of
 * every parameter and every f32 input against central differences (eps 1e-2,
 * relative error below 2e-2). len: NULL or one lengths tensor (or NULL) per
 * input. Returns the worst relative error. */
static inline double tm_loss_of(rnn_model *m, int ni, rnn_tensor **x, rnn_tensor **len, int no,
                                rnn_tensor **R)
{
    ck_ok(rnn_model_forward(m, ni, (const rnn_tensor *const *)x, (const rnn_tensor *const *)len, 1));
    double L = 0;
    for (int k = 0; k < no; k++) {
        const rnn_tensor *y;
        ck_ok(rnn_model_output(m, k, &y));
        for (int64_t i = 0; i < tm_numel(y); i++)
            L += (double)tm_f(y)[i] * tm_f(R[k])[i];
    }
    return L;
}

/* Options of tm_gradcheck_opts(). */
typedef struct tm_gc_options {
    double eps;             /* finite-difference step; 0: 1e-2 (1e-3 near kinks: ReLU, max) */
    const int32_t *out_len; /* NULL, or the real steps of each sample of a sequence output 0:
                             * its upstream gradient is zero beyond them, as the layers after
                             * it would give */
} tm_gc_options;

/* Central differences for every parameter and every f32 input element against the analytic
 * gradients of L = sum_k <output k, R_k> (R_k filled by tm_tensor); asserts a relative error
 * below 2e-2 each and returns the worst. */
static inline double tm_gradcheck_opts(rnn_model *m, int ni, rnn_tensor **x, rnn_tensor **len,
                                       const tm_gc_options *o, const char *what)
{
    const double eps = o && o->eps > 0 ? o->eps : 1e-2;
    int no;
    ck_ok(rnn_model_num_outputs(m, &no));
    rnn_tensor *R[8];
    ck_ok(rnn_model_forward(m, ni, (const rnn_tensor *const *)x, (const rnn_tensor *const *)len, 1));
    for (int k = 0; k < no; k++) {
        const rnn_tensor *y;
        ck_ok(rnn_model_output(m, k, &y));
        int64_t dims[4];
        int rank;
        rnn_tensor_shape(y, dims, 4, &rank);
        R[k] = tm_tensor(rank, dims, 1.0);
        if (k == 0 && o && o->out_len && rank == 3)
            for (int64_t n = 0; n < dims[0]; n++)
                for (int64_t t = o->out_len[n]; t < dims[1]; t++)
                    memset(tm_f(R[0]) + (n * dims[1] + t) * dims[2], 0,
                           sizeof(float) * (size_t)dims[2]);
    }
    ck_ok(rnn_model_zero_grad(m));
    ck_ok(rnn_model_backward(m, no, (const rnn_tensor *const *)R));
    double worst = 0;
    int nl;
    rnn_model_num_layers(m, &nl);
    for (int li = 0; li < nl; li++) {
        rnn_layer *l;
        rnn_model_layer(m, li, &l);
        int np;
        rnn_layer_num_params(l, &np);
        for (int p = 0; p < np; p++) {
            rnn_tensor *v, *gr;
            rnn_layer_param(l, p, NULL, &v, &gr);
            for (int64_t i = 0; i < tm_numel(v); i++) {
                float keep = tm_f(v)[i];
                tm_f(v)[i] = keep + (float)eps;
                rnn_layer_params_changed(l);
                double lp = tm_loss_of(m, ni, x, len, no, R);
                tm_f(v)[i] = keep - (float)eps;
                rnn_layer_params_changed(l);
                double lm = tm_loss_of(m, ni, x, len, no, R);
                tm_f(v)[i] = keep;
                rnn_layer_params_changed(l);
                double num = (lp - lm) / (2 * eps), an = tm_f(gr)[i];
                double err = fabs(num - an) / (1e-2 + fabs(num));
                worst = err > worst ? err : worst;
                ck_assert_msg(err < 2e-2, "%s: layer %d param %d [%lld]: numeric %g analytic %g",
                              what, li, p, (long long)i, num, an);
            }
        }
    }
    for (int k = 0; k < ni; k++) {
        rnn_dtype dt;
        rnn_tensor_dtype(x[k], &dt);
        if (dt != RNN_F32)
            continue;
        const rnn_tensor *g;
        ck_ok(rnn_model_input_grad(m, k, &g));
        rnn_tensor *gc;
        ck_ok(rnn_tensor_clone(g, &gc));
        for (int64_t i = 0; i < tm_numel(x[k]); i++) {
            float keep = tm_f(x[k])[i];
            tm_f(x[k])[i] = keep + (float)eps;
            double lp = tm_loss_of(m, ni, x, len, no, R);
            tm_f(x[k])[i] = keep - (float)eps;
            double lm = tm_loss_of(m, ni, x, len, no, R);
            tm_f(x[k])[i] = keep;
            double num = (lp - lm) / (2 * eps), an = tm_f(gc)[i];
            double err = fabs(num - an) / (1e-2 + fabs(num));
            worst = err > worst ? err : worst;
            ck_assert_msg(err < 2e-2, "%s: input %d [%lld]: numeric %g analytic %g", what, k,
                          (long long)i, num, an);
        }
        rnn_tensor_destroy(gc);
    }
    printf("%-40s worst relative error %.2e\n", what, worst);
    for (int k = 0; k < no; k++)
        rnn_tensor_destroy(R[k]);
    return worst;
}

static inline double tm_gradcheck(rnn_model *m, int ni, rnn_tensor **x, rnn_tensor **len,
                                  const char *what)
{
    return tm_gradcheck_opts(m, ni, x, len, NULL, what);
}

#endif
