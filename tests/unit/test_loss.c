/* SPDX-License-Identifier: Apache-2.0 */
/* Losses (white-box): exact values on hand-checkable inputs, gradient checks
 * against central differences for every loss, probabilities and logits,
 * vector and per-step outputs with masks, both reductions; errors. */
#include <math.h>

#include "train/loss.h"
#include "test_util.h"

static uint64_t rs = 12345;
static double u01(void)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rs >> 11) / 9007199254740992.0;
}

static rnn_tensor *make(rnn_dtype dt, int rank, const int64_t *d)
{
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(dt, rank, d, &t));
    return t;
}

static float *F(rnn_tensor *t)
{
    void *p;
    rnn_tensor_data(t, &p);
    return p;
}

START_TEST(exact_values)
{
    int64_t pd[2] = {2, 2}, td[1] = {2};
    rnn_tensor *p = make(RNN_F32, 2, pd), *t = make(RNN_I32, 1, td);
    F(p)[0] = 0.2f, F(p)[1] = 0.8f, F(p)[2] = 0.6f, F(p)[3] = 0.4f;
    ((int32_t *)F(t))[0] = 1, ((int32_t *)F(t))[1] = 1;
    rnn__loss_cfg c = {RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, RNN_REDUCTION_MEAN};
    double l, a;
    ck_ok(rnn__loss_compute("t", &c, p, NULL, t, &l, &a, NULL));
    ck_assert(fabs(l - (-log(0.8) - log(0.4)) / 2) < 1e-6);
    ck_assert(fabs(a - 0.5) < 1e-12);
    /* Logits: log-softmax. */
    c.from_logits = 1;
    ck_ok(rnn__loss_compute("t", &c, p, NULL, t, &l, &a, NULL));
    double l0 = -(0.8 - log(exp(0.2) + exp(0.8))), l1 = -(0.4 - log(exp(0.6) + exp(0.4)));
    ck_assert(fabs(l - (l0 + l1) / 2) < 1e-6);
    /* MSE and BCE on the same numbers (targets as f32). */
    rnn_tensor *tf = make(RNN_F32, 2, pd);
    F(tf)[0] = 0, F(tf)[1] = 1, F(tf)[2] = 1, F(tf)[3] = 0;
    c = (rnn__loss_cfg){RNN_LOSS_MEAN_SQUARED_ERROR, 0, RNN_REDUCTION_MEAN};
    ck_ok(rnn__loss_compute("t", &c, p, NULL, tf, &l, &a, NULL));
    ck_assert(fabs(l - (0.04 + 0.04 + 0.16 + 0.16) / 4) < 1e-6);
    ck_assert(isnan(a));
    c.type = RNN_LOSS_BINARY_CROSSENTROPY;
    ck_ok(rnn__loss_compute("t", &c, p, NULL, tf, &l, &a, NULL));
    double b = -(log(0.8) + log(0.8) + log(0.6) + log(0.6)) / 4;
    ck_assert(fabs(l - b) < 1e-6);
    ck_assert(fabs(a - 1.0) < 1e-12);
    rnn_tensor_destroy(p);
    rnn_tensor_destroy(t);
    rnn_tensor_destroy(tf);
}
END_TEST

/* Gradient check of one configuration on pred (N, T, C) or (N, C). */
static void gradcheck(rnn_loss_type type, int logits, rnn_reduction red, int seq, int masked)
{
    const int64_t N = 3, T = 4, C = 5;
    int64_t pd[3] = {N, T, C}, vd[2] = {N, C}, sd[2] = {N, T}, sv[1] = {N};
    const int32_t lens[3] = {4, 1, 3};
    rnn_tensor *p = seq ? make(RNN_F32, 3, pd) : make(RNN_F32, 2, vd);
    const int sparse = type == RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    rnn_tensor *t = sparse ? (seq ? make(RNN_I32, 2, sd) : make(RNN_I32, 1, sv))
                           : (seq ? make(RNN_F32, 3, pd) : make(RNN_F32, 2, vd));
    int64_t np, nt;
    rnn_tensor_numel(p, &np);
    rnn_tensor_numel(t, &nt);
    for (int64_t i = 0; i < np; i++) /* probabilities in (0.05, 0.95); logits in (-2, 2) */
        F(p)[i] = logits ? (float)(4 * u01() - 2) : (float)(0.05 + 0.9 * u01());
    for (int64_t i = 0; i < nt; i++) {
        if (sparse)
            ((int32_t *)F(t))[i] = (int32_t)(u01() * C) % (int32_t)C;
        else
            F(t)[i] = (float)u01();
    }
    rnn__loss_cfg c = {type, logits, red};
    const int32_t *len = seq && masked ? lens : NULL;
    float *g = malloc(sizeof(float) * (size_t)np);
    double l;
    ck_ok(rnn__loss_compute("t", &c, p, len, t, &l, NULL, g));
    for (int64_t i = 0; i < np; i++) {
        float keep = F(p)[i];
        const float h = 1e-3f;
        double lp, lm;
        F(p)[i] = keep + h;
        ck_ok(rnn__loss_compute("t", &c, p, len, t, &lp, NULL, NULL));
        F(p)[i] = keep - h;
        ck_ok(rnn__loss_compute("t", &c, p, len, t, &lm, NULL, NULL));
        F(p)[i] = keep;
        double num = (lp - lm) / (2 * (double)h);
        ck_assert_msg(fabs(num - g[i]) <= 2e-3 * fmax(1.0, fabs(num)) + 1e-4,
                      "loss %d logits %d reduction %d seq %d masked %d: grad[%lld] %g vs %g",
                      type, logits, red, seq, masked, (long long)i, (double)g[i], num);
        if (len && (i / C) % T >= len[(i / C) / T])
            ck_assert(g[i] == 0.0f);
    }
    free(g);
    rnn_tensor_destroy(p);
    rnn_tensor_destroy(t);
}

START_TEST(gradients_every_loss)
{
    for (int type = RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY; type <= RNN_LOSS_MEAN_SQUARED_ERROR;
         type++)
        for (int logits = 0; logits < 2; logits++)
            for (int red = 0; red < 2; red++)
                for (int v = 0; v < 3; v++) {
                    if (logits && type == RNN_LOSS_MEAN_SQUARED_ERROR)
                        continue;
                    gradcheck((rnn_loss_type)type, logits, (rnn_reduction)red, v > 0, v == 2);
                }
}
END_TEST

START_TEST(masked_reductions)
{
    /* Per-step SCCE where one step of two is masked: Keras' mean divides by
     * all N*T rows, the masked mean by the real ones. */
    int64_t pd[3] = {1, 2, 2}, td[2] = {1, 2};
    rnn_tensor *p = make(RNN_F32, 3, pd), *t = make(RNN_I32, 2, td);
    F(p)[0] = 0.25f, F(p)[1] = 0.75f, F(p)[2] = 0.5f, F(p)[3] = 0.5f;
    ((int32_t *)F(t))[0] = 1, ((int32_t *)F(t))[1] = 7; /* masked: never checked */
    const int32_t len[1] = {1};
    rnn__loss_cfg c = {RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, RNN_REDUCTION_MEAN};
    double l, a;
    ck_ok(rnn__loss_compute("t", &c, p, len, t, &l, &a, NULL));
    ck_assert(fabs(l - (-log(0.75) / 2)) < 1e-6);
    ck_assert(a == 1.0);
    c.reduction = RNN_REDUCTION_MASKED_MEAN;
    ck_ok(rnn__loss_compute("t", &c, p, len, t, &l, &a, NULL));
    ck_assert(fabs(l - (-log(0.75))) < 1e-6);
    /* Unmasked, the out-of-range label is an error naming sample and step. */
    ck_rnn(rnn__loss_compute("rnn_model_train_step", &c, p, NULL, t, &l, &a, NULL), RNN_ERR_RANGE);
    ck_errmsg("rnn_model_train_step: targets[0][1] must be a class in [0, 2) (got 7)");
    rnn_tensor_destroy(p);
    rnn_tensor_destroy(t);
}
END_TEST

START_TEST(target_errors)
{
    int64_t pd[2] = {3, 4}, bad[1] = {2};
    rnn_tensor *p = make(RNN_F32, 2, pd), *tb = make(RNN_I32, 1, bad), *tf = make(RNN_F32, 2, pd);
    rnn__loss_cfg c = {RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, RNN_REDUCTION_MEAN};
    double l;
    ck_rnn(rnn__loss_compute("rnn_f", &c, p, NULL, tb, &l, NULL, NULL), RNN_ERR_SHAPE);
    ck_errmsg("rnn_f: targets must have shape (3) for sparse categorical cross-entropy on output 0");
    ck_rnn(rnn__loss_compute("f", &c, p, NULL, tf, &l, NULL, NULL), RNN_ERR_DTYPE);
    ck_errmsg("targets must be RNN_I32 class ids");
    ck_rnn(rnn__loss_compute("f", &c, p, NULL, NULL, &l, NULL, NULL), RNN_ERR_INVALID_ARG);
    c.type = RNN_LOSS_MEAN_SQUARED_ERROR;
    ck_rnn(rnn__loss_compute("rnn_f", &c, p, NULL, tb, &l, NULL, NULL), RNN_ERR_DTYPE);
    rnn_tensor_destroy(p);
    rnn_tensor_destroy(tb);
    rnn_tensor_destroy(tf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("losses");
    TCase *tc = tcase_create("loss");
    tcase_add_test(tc, exact_values);
    tcase_add_test(tc, gradients_every_loss);
    tcase_add_test(tc, masked_reductions);
    tcase_add_test(tc, target_errors);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
