/* SPDX-License-Identifier: Apache-2.0 */
/* Losses (white-box): exact values on hand-checkable inputs, masked
 * reductions, errors. Their gradient checks are gradcheck/test_loss.c. */
#include <math.h>

#include "train/loss.h"
#include "test_util.h"

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
    tcase_add_test(tc, masked_reductions);
    tcase_add_test(tc, target_errors);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
