/* SPDX-License-Identifier: Apache-2.0 */
/* lib/train/loss.c (white-box, rnn__loss_compute): the gradient of every loss with respect to
 * its predictions, on probabilities and on logits, vector (N, C) and per-step (N, T, C)
 * outputs, with and without a length mask (exactly zero gradient at masked steps), both
 * reductions. */
#include <math.h>
#include <stdio.h>

#include "../unit/test_util.h"
#include "gc_tests.h"
#include "gradcheck.h"
#include "train/loss.h"

static uint64_t rs = 12345;
static double u01(void)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static float *F(rnn_tensor *t)
{
    void *p;
    rnn_tensor_data(t, &p);
    return p;
}

typedef struct loss_fn {
    rnn__loss_cfg cfg;
    rnn_tensor *pred, *target;
    const int32_t *len;
} loss_fn;

static double loss_value(void *p)
{
    loss_fn *f = p;
    double l;
    ck_ok(rnn__loss_compute("t", &f->cfg, f->pred, f->len, f->target, &l, NULL, NULL));
    return l;
}

static void check(rnn_loss_type type, int logits, rnn_reduction red, int seq, int masked)
{
    const int64_t N = 3, T = 4, C = 5;
    int64_t pd[3] = {N, T, C}, vd[2] = {N, C}, sd[2] = {N, T}, sv[1] = {N};
    static const int32_t lens[3] = {4, 1, 3};
    const int sparse = type == RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    loss_fn f = {{type, logits, red}, NULL, NULL, seq && masked ? lens : NULL};
    ck_ok(rnn_tensor_create(RNN_F32, seq ? 3 : 2, seq ? pd : vd, &f.pred));
    if (sparse)
        ck_ok(rnn_tensor_create(RNN_I32, seq ? 2 : 1, seq ? sd : sv, &f.target));
    else
        ck_ok(rnn_tensor_create(RNN_F32, seq ? 3 : 2, seq ? pd : vd, &f.target));
    int64_t np, nt;
    rnn_tensor_numel(f.pred, &np);
    rnn_tensor_numel(f.target, &nt);
    for (int64_t i = 0; i < np; i++) /* probabilities in (0.05, 0.95); logits in (-2, 2) */
        F(f.pred)[i] = logits ? (float)(4 * u01() - 2) : (float)(0.05 + 0.9 * u01());
    for (int64_t i = 0; i < nt; i++) {
        if (sparse)
            ((int32_t *)F(f.target))[i] = (int32_t)(u01() * C) % (int32_t)C;
        else
            F(f.target)[i] = (float)u01();
    }
    float *g = malloc(sizeof(float) * (size_t)np);
    double l;
    ck_ok(rnn__loss_compute("t", &f.cfg, f.pred, f.len, f.target, &l, NULL, g));
    if (f.len) /* masked steps: exactly nothing */
        for (int64_t i = 0; i < np; i++)
            if ((i / C) % T >= f.len[(i / C) / T])
                ck_assert_msg(g[i] == 0.0f, "masked gradient [%lld] is %g", (long long)i, g[i]);
    gc_options o;
    gc_options_init(&o);
    o.eps = 1e-3, o.rtol = 1e-3, o.atol = 1e-6;
    char what[96];
    snprintf(what, sizeof what, "loss %d%s reduction %d %s%s", type, logits ? " logits" : "", red,
             seq ? "per step" : "vector", masked ? " masked" : "");
    gc_scalar(loss_value, &f, F(f.pred), g, seq ? 3 : 2, seq ? pd : vd, np, &o, what);
    free(g);
    rnn_tensor_destroy(f.pred);
    rnn_tensor_destroy(f.target);
}

START_TEST(every_loss)
{
    for (int type = RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY; type <= RNN_LOSS_MEAN_SQUARED_ERROR;
         type++)
        for (int logits = 0; logits < 2; logits++)
            for (int red = 0; red < 2; red++)
                for (int v = 0; v < 3; v++) {
                    if (logits && type == RNN_LOSS_MEAN_SQUARED_ERROR)
                        continue;
                    check((rnn_loss_type)type, logits, (rnn_reduction)red, v > 0, v == 2);
                }
}
END_TEST

void gc_add_loss(TCase *tc)
{
    tcase_add_test(tc, every_loss);
}
