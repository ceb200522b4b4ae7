/* SPDX-License-Identifier: Apache-2.0 */
/* common/gradcheck.c itself: a right gradient passes, a wrong element fails and is named with
 * both values, sampling compares the bounded number of elements it is given and the same
 * seed checks the same elements, a model check passes and counts every element. */
#include <math.h>

#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

/* f(x) = sum_i c_i x_i^2 + x_0 x_1, gradient 2 c_i x_i (+ the cross terms). */
enum { K = 12 };
static const double CO[K] = {1, -2, 0.5, 3, 1, 1, -1, 0.25, 2, 1, -0.5, 1};

static double quad(void *p)
{
    const float *x = p;
    double f = (double)x[0] * x[1];
    for (int i = 0; i < K; i++)
        f += CO[i] * x[i] * x[i];
    return f;
}

static void quad_grad(const float *x, float *g)
{
    for (int i = 0; i < K; i++)
        g[i] = (float)(2 * CO[i] * x[i]);
    g[0] += x[1];
    g[1] += x[0];
}

START_TEST(scalar_passes_and_fails_on_the_wrong_element)
{
    float x[K], g[K];
    for (int i = 0; i < K; i++)
        x[i] = 0.3f * (float)(i - 5);
    quad_grad(x, g);
    const int64_t dims[2] = {3, 4};
    gc_result r = gc_scalar_run(quad, x, x, g, 2, dims, K, NULL, "harness: right gradient");
    ck_assert_msg(r.worst <= 1.0 && r.checked == K, "worst %g checked %lld", r.worst,
                  (long long)r.checked);
    /* x is restored exactly */
    for (int i = 0; i < K; i++)
        ck_assert(x[i] == 0.3f * (float)(i - 5));
    /* one element 10% off: caught, and named */
    g[7] *= 1.1f;
    r = gc_scalar_run(quad, x, x, g, 2, dims, K, NULL, "harness: element [1,3] 10% off");
    ck_assert_msg(r.worst > 1.0, "a wrong element passed (worst %g)", r.worst);
    ck_assert_msg(strstr(r.where, "x[1,3]: analytic") != NULL, "where: %s", r.where);
    g[7] /= 1.1f;
    /* a sign error */
    g[3] = -g[3];
    r = gc_scalar_run(quad, x, x, g, 0, NULL, K, NULL, "harness: sign error");
    ck_assert_msg(r.worst > 1.0 && strstr(r.where, "x[3]"), "worst %g at %s", r.worst, r.where);
}
END_TEST

START_TEST(sampling_is_bounded_and_seeded)
{
    float x[K], g[K];
    for (int i = 0; i < K; i++)
        x[i] = 0.2f * (float)i - 1.0f;
    quad_grad(x, g);
    g[5] += 1.0f; /* wrong: found exactly when element 5 is drawn */
    gc_options o;
    gc_options_init(&o);
    o.max_elems = 4;
    int found = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        o.seed = seed;
        o.quiet = 1;
        gc_result a = gc_scalar_run(quad, x, x, g, 0, NULL, K, &o, "sampled");
        gc_result b = gc_scalar_run(quad, x, x, g, 0, NULL, K, &o, "sampled");
        ck_assert_int_eq(a.checked, 4);
        ck_assert(a.worst == b.worst && strcmp(a.where, b.where) == 0);
        found += a.worst > 1.0;
    }
    /* element 5 is in about a third of the 4-of-12 samples */
    ck_assert_msg(found > 0 && found < 12, "the wrong element was drawn %d times in 12", found);
}
END_TEST

START_TEST(model_counts_every_element)
{
    rnn_model *m;
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 2;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, sh, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2, d.activation = RNN_ACT_SIGMOID;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    int64_t xd[3] = {2, 4, 3};
    tm_rng = 0x4A5ull;
    rnn_tensor *x = tm_tensor(3, xd, 1.0);
    gc_result r = gc_model_run(m, 1, &x, NULL, NULL, "harness: dense");
    ck_assert_msg(r.worst <= 1.0, "%s", r.where);
    ck_assert_int_eq(r.checked, 3 * 2 + 2 + 2 * 4 * 3); /* kernel, bias, input */
    gc_options o;
    gc_options_init(&o);
    o.max_elems = 5;
    r = gc_model_run(m, 1, &x, NULL, &o, "harness: dense, 5 per tensor");
    ck_assert_int_eq(r.checked, 5 + 2 + 5);
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
}
END_TEST

void gc_add_harness(TCase *tc)
{
    tcase_add_test(tc, scalar_passes_and_fails_on_the_wrong_element);
    tcase_add_test(tc, sampling_is_bounded_and_seeded);
    tcase_add_test(tc, model_counts_every_element);
}
