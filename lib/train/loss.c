/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Losses with Keras' definitions. A "row" is one prediction vector: a sample
 * for (N, C) outputs, a sample-step for (N, T, C). Each row gets a loss; rows
 * at masked steps (t >= length) get none. Reduction: Keras' mean divides the
 * sum by all rows, the masked mean by the unmasked rows.
 *   probabilities are clipped to [1e-7, 1 - 1e-7] as Keras' epsilon does;
 *   from_logits uses the stable log-softmax / logistic forms.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/loss.h"

#define EPS 1e-7

static double clipd(double p)
{
    return p < EPS ? EPS : p > 1.0 - EPS ? 1.0 - EPS : p;
}

static const char *loss_name(rnn_loss_type t)
{
    switch (t) {
    case RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: return "sparse categorical cross-entropy";
    case RNN_LOSS_CATEGORICAL_CROSSENTROPY: return "categorical cross-entropy";
    case RNN_LOSS_BINARY_CROSSENTROPY: return "binary cross-entropy";
    case RNN_LOSS_MEAN_SQUARED_ERROR: return "mean squared error";
    }
    return "?";
}

static rnn_status check_targets(const char *func, const rnn__loss_cfg *cfg, const rnn_tensor *p,
                                const rnn_tensor *t)
{
    if (!t)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "targets must not be NULL");
    const int sparse = cfg->type == RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    const rnn_dtype want = sparse ? RNN_I32 : RNN_F32;
    if (t->dtype != want)
        return rnn__err(RNN_ERR_DTYPE, func, "targets must be %s for %s (got dtype %d)",
                        sparse ? "RNN_I32 class ids" : "RNN_F32", loss_name(cfg->type),
                        (int)t->dtype);
    const int rank = sparse ? p->rank - 1 : p->rank;
    int ok = t->rank == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = t->dims[i] == p->dims[i];
    if (!ok) {
        char buf[96];
        int n = snprintf(buf, sizeof buf, "(");
        for (int i = 0; i < rank && n < (int)sizeof buf - 24; i++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%lld", i ? ", " : "",
                          (long long)p->dims[i]);
        snprintf(buf + n, sizeof buf - (size_t)n, ")");
        return rnn__err(RNN_ERR_SHAPE, func, "targets must have shape %s for %s on output 0",
                        buf, loss_name(cfg->type));
    }
    return RNN_OK;
}

rnn_status rnn__loss_compute(const char *func, const rnn__loss_cfg *cfg, const rnn_tensor *pred,
                             const int32_t *len, const rnn_tensor *target, double *loss_out,
                             double *acc_out, float *grad)
{
    return rnn__loss_compute_stats(func, cfg, pred, len, target, loss_out, acc_out, grad, NULL);
}

/* Checks that every sparse class id of an unmasked row is in [0, C). */
static rnn_status check_class_ids(const char *func, const rnn_tensor *pred, const int32_t *len,
                                  const int32_t *ids, int64_t rows, int64_t T, int64_t C)
{
    for (int64_t r = 0; r < rows; r++) {
        int64_t n = r / T, t = r % T;
        if (len && t >= len[n])
            continue;
        if (ids[r] < 0 || ids[r] >= C)
            return pred->rank == 3
                       ? rnn__err(RNN_ERR_RANGE, func,
                                  "targets[%lld][%lld] must be a class in [0, %lld) (got %d)",
                                  (long long)n, (long long)t, (long long)C, ids[r])
                       : rnn__err(RNN_ERR_RANGE, func,
                                  "targets[%lld] must be a class in [0, %lld) (got %d)",
                                  (long long)r, (long long)C, ids[r]);
    }
    return RNN_OK;
}

/* Row r's (sparse) categorical cross-entropy, added to total, hits and counted; gradient to gr. */
static void crossentropy_row(const rnn__loss_cfg *cfg, int sparse, const int32_t *ids,
                             const float *tg, int64_t r, int64_t C, const float *pr, int64_t arg,
                             double denom, double w, float *gr, double *total, double *hits,
                             double *counted)
{
    double tsum = 0;
    int64_t targ = 0;
    for (int64_t j = 0; j < C; j++) {
        double tj = sparse ? (j == ids[r]) : tg[r * C + j];
        tsum += tj;
        if (!sparse && tg[r * C + j] > tg[r * C + targ])
            targ = j;
    }
    if (sparse)
        targ = ids[r];
    *hits += arg == targ;
    *counted += 1;
    if (cfg->from_logits) {
        double mx = pr[arg], se = 0;
        for (int64_t j = 0; j < C; j++)
            se += exp(pr[j] - mx);
        double lse = mx + log(se);
        for (int64_t j = 0; j < C; j++) {
            double tj = sparse ? (j == ids[r]) : tg[r * C + j];
            *total += -tj * (pr[j] - lse) / denom;
            if (gr)
                gr[j] = (float)(w * (exp(pr[j] - lse) * tsum - tj));
        }
    } else {
        /* Keras normalises the probabilities, then clips. */
        double s = 0;
        for (int64_t j = 0; j < C; j++)
            s += pr[j];
        for (int64_t j = 0; j < C; j++) {
            double tj = sparse ? (j == ids[r]) : tg[r * C + j];
            double q = pr[j] / s, qc = clipd(q);
            if (tj != 0.0)
                *total += -tj * log(qc) / denom;
            if (gr) {
                /* d/dp_j of -sum t log(p/s): -t_j/p_j + sum(t)/s; clipped
                 * entries pass no gradient through their own term. */
                double g = tsum / s;
                if (tj != 0.0 && q == qc)
                    g -= tj / pr[j];
                gr[j] = (float)(w * g);
            }
        }
    }
}

rnn_status rnn__loss_compute_stats(const char *func, const rnn__loss_cfg *cfg,
                                   const rnn_tensor *pred, const int32_t *len,
                                   const rnn_tensor *target, double *loss_out, double *acc_out,
                                   float *grad, rnn__loss_stats *stats)
{
    rnn_status st = check_targets(func, cfg, pred, target);
    if (st)
        return st;
    const int64_t C = pred->dims[pred->rank - 1], rows = pred->numel / C;
    const int64_t T = pred->rank == 3 ? pred->dims[1] : 1;
    const float *p = pred->data;
    const int sparse = cfg->type == RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    const int32_t *ids = sparse ? target->data : NULL;
    const float *tg = sparse ? NULL : target->data;
    if (sparse && (st = check_class_ids(func, pred, len, ids, rows, T, C)))
        return st;
    /* Denominator of the reduction. */
    int64_t active = 0;
    for (int64_t r = 0; r < rows; r++)
        active += !(len && r % T >= len[r / T]);
    const double denom = cfg->reduction == RNN_REDUCTION_MASKED_MEAN ? (double)active : (double)rows;
    double total = 0, hits = 0, counted = 0;
    if (grad)
        memset(grad, 0, sizeof(float) * (size_t)pred->numel);
    for (int64_t r = 0; r < rows; r++) {
        if (len && r % T >= len[r / T])
            continue;
        const float *pr = p + r * C;
        float *gr = grad ? grad + r * C : NULL;
        const double w = 1.0 / denom;
        int64_t arg = 0;
        for (int64_t j = 1; j < C; j++)
            arg = pr[j] > pr[arg] ? j : arg;
        switch (cfg->type) {
        case RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        case RNN_LOSS_CATEGORICAL_CROSSENTROPY:
            crossentropy_row(cfg, sparse, ids, tg, r, C, pr, arg, denom, w, gr, &total, &hits,
                             &counted);
            break;
        case RNN_LOSS_BINARY_CROSSENTROPY:
            for (int64_t j = 0; j < C; j++) {
                double z = pr[j], t = tg[r * C + j], l, g;
                if (cfg->from_logits) {
                    l = (z > 0 ? z : 0) - z * t + log1p(exp(-fabs(z)));
                    g = 1.0 / (1.0 + exp(-z)) - t;
                    hits += (z > 0) == (t > 0.5);
                } else {
                    double pc = clipd(z);
                    l = -(t * log(pc) + (1 - t) * log(1 - pc));
                    g = pc == z ? (z - t) / (z * (1 - z)) : 0.0;
                    hits += (z > 0.5) == (t > 0.5);
                }
                counted += 1;
                total += l / C / denom;
                if (gr)
                    gr[j] = (float)(w * g / C);
            }
            break;
        case RNN_LOSS_MEAN_SQUARED_ERROR:
            for (int64_t j = 0; j < C; j++) {
                double d = pr[j] - tg[r * C + j];
                total += d * d / C / denom;
                if (gr)
                    gr[j] = (float)(w * 2.0 * d / C);
            }
            break;
        }
    }
    if (loss_out)
        *loss_out = total;
    if (acc_out)
        *acc_out = cfg->type == RNN_LOSS_MEAN_SQUARED_ERROR || counted == 0 ? NAN : hits / counted;
    if (stats)
        *stats = (rnn__loss_stats){denom, (double)active,
                                   cfg->type == RNN_LOSS_MEAN_SQUARED_ERROR ? 0.0 : counted,
                                   0.0, 0};
    return RNN_OK;
}
