/* SPDX-License-Identifier: Apache-2.0 */
/* Optimizers against Keras' update formulas, computed here in double on
 * fixed parameters and gradients over several steps; clipping; frozen
 * layers; option errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

enum { NP = 6 }; /* Dense(2) on 2 features: kernel 4 + bias 2 */

static rnn_model *small_model(rnn_layer **dense)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t sh[1] = {2};
    ck_ok(rnn_model_add_input(m, RNN_F32, 1, sh, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2;
    ck_ok(rnn_model_add_dense(m, &d, dense));
    return m;
}

static float *pdata(rnn_layer *l, int i, int grad)
{
    rnn_tensor *v, *g;
    rnn_layer_param(l, i, NULL, &v, &g);
    void *p;
    rnn_tensor_data(grad ? g : v, &p);
    return p;
}

static const double W0[NP] = {0.5, -0.25, 0.125, 1.0, 0.1, -0.3};
static double grad_of(int step, int k)
{
    return 0.3 * sin(1.0 + step * 1.7 + k * 0.9) + (k == 2 ? 2.5 : 0.0);
}

/* Runs 4 steps through librnn; returns final params in out. */
static void run_lib(const rnn_optimizer_options *o, double *out)
{
    rnn_layer *l;
    rnn_model *m = small_model(&l);
    float *w = pdata(l, 0, 0), *b = pdata(l, 1, 0), *gw = pdata(l, 0, 1), *gb = pdata(l, 1, 1);
    for (int k = 0; k < 4; k++)
        w[k] = (float)W0[k];
    for (int k = 0; k < 2; k++)
        b[k] = (float)W0[4 + k];
    rnn_layer_params_changed(l);
    rnn_optimizer *opt;
    ck_ok(rnn_optimizer_create(m, o, &opt));
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < 4; k++)
            gw[k] = (float)grad_of(s, k);
        for (int k = 0; k < 2; k++)
            gb[k] = (float)grad_of(s, 4 + k);
        ck_ok(rnn_optimizer_step(opt));
    }
    int64_t it;
    ck_ok(rnn_optimizer_iterations(opt, &it));
    ck_assert_int_eq(it, 4);
    for (int k = 0; k < 4; k++)
        out[k] = w[k];
    for (int k = 0; k < 2; k++)
        out[4 + k] = b[k];
    rnn_optimizer_destroy(opt);
    rnn_model_destroy(m);
}

/* The same 4 steps with Keras' formulas, in double. Clipping is per tensor:
 * kernel = elements 0..3, bias = 4..5. */
static void run_formula(const rnn_optimizer_options *o, double *p)
{
    double m[NP] = {0}, v[NP] = {0}, u_product = 1.0;
    for (int k = 0; k < NP; k++)
        p[k] = W0[k];
    for (int s = 0; s < 4; s++) {
        double g[NP];
        for (int k = 0; k < NP; k++)
            g[k] = grad_of(s, k);
        if (o->global_clipnorm > 0) {
            double sq = 0;
            for (int k = 0; k < NP; k++)
                sq += g[k] * g[k];
            if (sqrt(sq) > o->global_clipnorm)
                for (int k = 0; k < NP; k++)
                    g[k] *= o->global_clipnorm / sqrt(sq);
        }
        if (o->clipnorm > 0) {
            int lo[2] = {0, 4}, hi[2] = {4, 6};
            for (int t = 0; t < 2; t++) {
                double sq = 0;
                for (int k = lo[t]; k < hi[t]; k++)
                    sq += g[k] * g[k];
                if (sqrt(sq) > o->clipnorm)
                    for (int k = lo[t]; k < hi[t]; k++)
                        g[k] *= o->clipnorm / sqrt(sq);
            }
        }
        if (o->clipvalue > 0)
            for (int k = 0; k < NP; k++)
                g[k] = fmax(-o->clipvalue, fmin(o->clipvalue, g[k]));
        double t = s + 1, lr = o->learning_rate, b1 = o->beta_1, b2 = o->beta_2, eps = o->epsilon;
        double u_t = b1 * (1 - 0.5 * pow(0.96, (double)t));
        double u_t1 = b1 * (1 - 0.5 * pow(0.96, (double)(t + 1)));
        double up = u_product * u_t, up1 = up * u_t1;
        u_product = up;
        for (int k = 0; k < NP; k++) {
            switch (o->type) {
            case RNN_OPTIM_SGD:
                m[k] = o->momentum * m[k] - lr * g[k];
                p[k] += o->nesterov ? o->momentum * m[k] - lr * g[k] : m[k];
                break;
            case RNN_OPTIM_RMSPROP:
                v[k] = o->rho * v[k] + (1 - o->rho) * g[k] * g[k];
                p[k] -= lr * g[k] / sqrt(v[k] + eps);
                break;
            case RNN_OPTIM_ADAMW:
                p[k] -= lr * o->weight_decay * p[k];
                /* fall through */
            case RNN_OPTIM_ADAM: {
                m[k] = b1 * m[k] + (1 - b1) * g[k];
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
                double alpha = lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t));
                p[k] -= alpha * m[k] / (sqrt(v[k]) + eps);
                break;
            }
            case RNN_OPTIM_NADAM: {
                m[k] = b1 * m[k] + (1 - b1) * g[k];
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
                double mh = u_t1 * m[k] / (1 - up1) + (1 - u_t) * g[k] / (1 - up);
                double vh = v[k] / (1 - pow(b2, t));
                p[k] -= lr * mh / (sqrt(vh) + eps);
                break;
            }
            }
        }
    }
}

static void compare(const rnn_optimizer_options *o, const char *what)
{
    double a[NP], b[NP];
    run_lib(o, a);
    run_formula(o, b);
    for (int k = 0; k < NP; k++)
        ck_assert_msg(fabs(a[k] - b[k]) <= 1e-6 + 1e-5 * fabs(b[k]),
                      "%s: param %d is %.8f, Keras' formula gives %.8f", what, k, a[k], b[k]);
}

START_TEST(updates_equal_keras_formulas)
{
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    compare(&o, "SGD");
    o.momentum = 0.9f;
    compare(&o, "SGD momentum");
    o.nesterov = 1;
    compare(&o, "SGD Nesterov");
    rnn_optimizer_options_init(&o, RNN_OPTIM_RMSPROP);
    o.learning_rate = 0.01f;
    compare(&o, "RMSprop");
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.learning_rate = 0.01f;
    compare(&o, "Adam");
    rnn_optimizer_options_init(&o, RNN_OPTIM_NADAM);
    o.learning_rate = 0.01f;
    compare(&o, "Nadam");
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAMW);
    o.learning_rate = 0.01f;
    compare(&o, "AdamW");
}
END_TEST

/* The update written one element at a time, exactly as the library states it
 * (the same double and float operations in the same order). */
static void scalar_update(const rnn_optimizer_options *o, int64_t t, double *u_product, float *w,
                          const float *g, float *m, float *v, int64_t n)
{
    const double lr = o->learning_rate, b1 = o->beta_1, b2 = o->beta_2, eps = o->epsilon;
    const double alpha = lr * sqrt(1.0 - pow(b2, (double)t)) / (1.0 - pow(b1, (double)t));
    const double u_t = b1 * (1.0 - 0.5 * pow(0.96, (double)t));
    const double u_t1 = b1 * (1.0 - 0.5 * pow(0.96, (double)(t + 1)));
    const double up = *u_product * u_t, up1 = up * u_t1, b2_pow = pow(b2, (double)t);
    const double wd = o->type == RNN_OPTIM_ADAMW ? lr * o->weight_decay : 0.0;
    for (int64_t k = 0; k < n; k++) {
        switch (o->type) {
        case RNN_OPTIM_SGD:
            if (o->momentum == 0.0f) {
                w[k] -= (float)(lr * g[k]);
                break;
            }
            m[k] = (float)(o->momentum * m[k] - lr * g[k]);
            w[k] += o->nesterov ? (float)(o->momentum * m[k] - lr * g[k]) : m[k];
            break;
        case RNN_OPTIM_RMSPROP:
            v[k] = (float)(o->rho * v[k] + (1.0 - o->rho) * g[k] * g[k]);
            w[k] -= (float)(lr * g[k] / sqrt((double)v[k] + eps));
            break;
        case RNN_OPTIM_ADAMW:
        case RNN_OPTIM_ADAM:
            if (wd != 0.0)
                w[k] -= (float)(wd * w[k]);
            m[k] = (float)(b1 * m[k] + (1.0 - b1) * g[k]);
            v[k] = (float)(b2 * v[k] + (1.0 - b2) * g[k] * g[k]);
            w[k] -= (float)(alpha * m[k] / (sqrt((double)v[k]) + eps));
            break;
        case RNN_OPTIM_NADAM: {
            m[k] = (float)(b1 * m[k] + (1.0 - b1) * g[k]);
            v[k] = (float)(b2 * v[k] + (1.0 - b2) * g[k] * g[k]);
            double mh = u_t1 * m[k] / (1.0 - up1) + (1.0 - u_t) * g[k] / (1.0 - up);
            double vh = v[k] / (1.0 - b2_pow);
            w[k] -= (float)(lr * mh / (sqrt(vh) + eps));
            break;
        }
        }
    }
    *u_product = up;
}

/* A kernel of 150 x 101 = 15,150 elements (updated vectorised, on the
 * library's threads) and a bias of 101 (one thread, a vector tail): three
 * steps of every optimizer equal the scalar formula bit for bit. */
START_TEST(wide_updates_equal_the_scalar_formula_bit_for_bit)
{
    enum { IN = 150, UNITS = 101 };
    const int64_t size[2] = {IN * UNITS, UNITS};
    rnn_optimizer_options opts[7];
    rnn_optimizer_options_init(&opts[0], RNN_OPTIM_SGD);
    rnn_optimizer_options_init(&opts[1], RNN_OPTIM_SGD);
    opts[1].momentum = 0.9f;
    opts[2] = opts[1];
    opts[2].nesterov = 1;
    rnn_optimizer_options_init(&opts[3], RNN_OPTIM_RMSPROP);
    rnn_optimizer_options_init(&opts[4], RNN_OPTIM_ADAM);
    rnn_optimizer_options_init(&opts[5], RNN_OPTIM_ADAMW);
    rnn_optimizer_options_init(&opts[6], RNN_OPTIM_NADAM);
    for (int c = 0; c < 7; c++) {
        rnn_model *m;
        ck_ok(rnn_model_create(NULL, &m));
        int64_t sh[1] = {IN};
        ck_ok(rnn_model_add_input(m, RNN_F32, 1, sh, NULL));
        rnn_dense_options d;
        rnn_dense_options_init(&d);
        d.units = UNITS;
        rnn_layer *l;
        ck_ok(rnn_model_add_dense(m, &d, &l));
        rnn_optimizer *opt;
        ck_ok(rnn_optimizer_create(m, &opts[c], &opt));
        float *ref[2][3]; /* w, m, v of kernel and bias */
        for (int p = 0; p < 2; p++) {
            float *w = pdata(l, p, 0);
            for (int64_t k = 0; k < size[p]; k++)
                w[k] = (float)(0.5 * sin(0.37 * (double)k + p));
            for (int i = 0; i < 3; i++)
                ck_assert_ptr_nonnull(ref[p][i] = calloc((size_t)size[p], sizeof(float)));
            memcpy(ref[p][0], w, (size_t)size[p] * sizeof(float));
        }
        rnn_layer_params_changed(l);
        double u_product = 1.0;
        for (int64_t t = 1; t <= 3; t++) {
            for (int p = 0; p < 2; p++) {
                float *g = pdata(l, p, 1);
                for (int64_t k = 0; k < size[p]; k++) /* magnitudes from 1e-6 to 3 */
                    g[k] = (float)(cos(1.3 * (double)k + (double)t) *
                                   pow(10.0, -6.0 + 6.5 * fmod(0.61 * (double)k, 1.0)));
                double up = u_product;
                scalar_update(&opts[c], t, &up, ref[p][0], g, ref[p][1], ref[p][2], size[p]);
                if (p == 1)
                    u_product = up;
            }
            ck_ok(rnn_optimizer_step(opt));
            for (int p = 0; p < 2; p++) {
                const float *w = pdata(l, p, 0);
                for (int64_t k = 0; k < size[p]; k++)
                    ck_assert_msg(memcmp(&w[k], &ref[p][0][k], sizeof(float)) == 0,
                                  "optimizer %d (type %d), step %lld, parameter %d, element "
                                  "%lld: %.9g, the scalar formula gives %.9g",
                                  c, (int)opts[c].type, (long long)t, p, (long long)k,
                                  (double)w[k], (double)ref[p][0][k]);
            }
        }
        for (int p = 0; p < 2; p++)
            for (int i = 0; i < 3; i++)
                free(ref[p][i]);
        rnn_optimizer_destroy(opt);
        rnn_model_destroy(m);
    }
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(clipping)
{
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    o.learning_rate = 0.1f;
    o.clipnorm = 0.5f;
    compare(&o, "clipnorm");
    o.clipnorm = 0;
    o.clipvalue = 0.2f;
    compare(&o, "clipvalue");
    o.clipvalue = 0;
    o.global_clipnorm = 1.0f;
    compare(&o, "global_clipnorm");
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.global_clipnorm = 1.0f;
    o.clipvalue = 0.3f;
    compare(&o, "Adam with global_clipnorm and clipvalue");
}
END_TEST

START_TEST(defaults_frozen_layers_and_errors)
{
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    ck_assert(o.learning_rate == 0.001f && o.beta_1 == 0.9f && o.beta_2 == 0.999f &&
              o.epsilon == 1e-7f);
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    ck_assert(o.learning_rate == 0.01f && o.momentum == 0.0f);
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAMW);
    ck_assert(o.weight_decay == 0.004f);

    rnn_layer *l;
    rnn_model *m = small_model(&l);
    rnn_optimizer *opt = (rnn_optimizer *)0x1;
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    o.learning_rate = -1;
    ck_rnn(rnn_optimizer_create(m, &o, &opt), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(opt);
    ck_errmsg("rnn_optimizer_create: options->learning_rate must be > 0 (got -1)");
    o.learning_rate = 0.1f;
    o.momentum = 1.0f;
    ck_rnn(rnn_optimizer_create(m, &o, &opt), RNN_ERR_INVALID_ARG);
    ck_errmsg("momentum must be in [0, 1) (got 1)");
    o.momentum = 0;
    o.type = (rnn_optimizer_type)42;
    ck_rnn(rnn_optimizer_create(m, &o, &opt), RNN_ERR_INVALID_ARG);
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    ck_ok(rnn_optimizer_create(m, &o, &opt));
    ck_rnn(rnn_optimizer_set_learning_rate(opt, 0.0f), RNN_ERR_INVALID_ARG);
    /* A frozen layer does not move. */
    float *w = pdata(l, 0, 0), *g = pdata(l, 0, 1);
    float before = w[0];
    g[0] = 1.0f;
    ck_ok(rnn_layer_set_trainable(l, 0));
    ck_ok(rnn_optimizer_step(opt));
    ck_assert(w[0] == before);
    ck_ok(rnn_layer_set_trainable(l, 1));
    ck_ok(rnn_optimizer_step(opt));
    ck_assert(fabsf(w[0] - (before - 0.01f)) < 1e-7f);
    /* Layers added afterwards make the optimizer stale. */
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 1;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    ck_rnn(rnn_optimizer_step(opt), RNN_ERR_STATE);
    rnn_optimizer_destroy(opt);
    rnn_optimizer_destroy(NULL);
    rnn_model_destroy(m);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optimizers");
    TCase *tc = tcase_create("optim");
    tcase_add_test(tc, updates_equal_keras_formulas);
    tcase_add_test(tc, wide_updates_equal_the_scalar_formula_bit_for_bit);
    tcase_add_test(tc, clipping);
    tcase_add_test(tc, defaults_frozen_layers_and_errors);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
