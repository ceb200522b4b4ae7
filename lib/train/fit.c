/* SPDX-License-Identifier: Apache-2.0 */
/* fit / evaluate / predict over datasets: batching, seeded shuffling, length
 * bucketing, validation, callbacks, learning-rate schedules, early stopping,
 * best checkpoints. Built on rnn__model_step(). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/graph.h"
#include "rnn/fit.h"
#include "train/monitor.h"

void rnn_fit_options_init(rnn_fit_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->batch_size = 32;
    o->epochs = 1;
    o->shuffle = 1;
    o->monitor = RNN_MONITOR_VAL_LOSS;
    o->lr_schedule = RNN_LR_CONSTANT;
    o->decay_rate = 0.96f;
    o->decay_steps = 0; /* resolved per schedule: 1000 steps / 10 epochs */
    o->plateau_factor = 0.1f;
    o->plateau_patience = 10;
    o->plateau_min_delta = 1e-4f;
}

void rnn_data_init(rnn_data *data)
{
    if (!data)
        return;
    memset(data, 0, sizeof *data);
    data->struct_size = sizeof *data;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------ data checks */

/* Copies the caller's dataset src (struct_size checked) into *d and checks it;
 * for in-memory data sets *S to its number of samples. */
static rnn_status check_data(const char *func, const char *name, const rnn_data *src,
                             rnn_data *d, int need_targets, int64_t *S)
{
    *S = 0;
    rnn_data_init(d);
    if (!src)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s must not be NULL", name);
    rnn_status st = rnn__opts_copy(func, name, "rnn_data", d, sizeof *d, src,
                                   RNN__STRUCT_END(rnn_data, user));
    if (st)
        return st;
    if (!d->x) {
        if (!d->next)
            return rnn__err(RNN_ERR_INVALID_ARG, func,
                            "%s: set x (in-memory tensors) or next (an iterator)", name);
        return RNN_OK;
    }
    const rnn_tensor *x = d->x;
    if (x->rank < 1 || x->dims[0] < 1)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s->x holds no samples (first axis %lld)",
                        name, (long long)(x->rank ? x->dims[0] : 0));
    if (x->dims[0] > INT32_MAX)
        return rnn__err(RNN_ERR_SHAPE, func, "%s->x has too many samples (%lld)", name,
                        (long long)x->dims[0]);
    *S = x->dims[0];
    if (d->lengths) {
        const rnn_tensor *l = d->lengths;
        if (l->dtype != RNN_I32)
            return rnn__err(RNN_ERR_DTYPE, func, "%s->lengths must be RNN_I32 (got dtype %d)",
                            name, (int)l->dtype);
        if (l->rank != 1 || l->dims[0] != *S)
            return rnn__err(RNN_ERR_SHAPE, func,
                            "%s->lengths must have shape (%lld), one per sample of x (got rank "
                            "%d, %lld elements)",
                            name, (long long)*S, l->rank, (long long)l->numel);
        if (x->rank < 2)
            return rnn__err(RNN_ERR_INVALID_ARG, func,
                            "%s->lengths must be NULL: x has no time axis", name);
        const int32_t *lv = l->data;
        for (int64_t i = 0; i < *S; i++)
            if (lv[i] < 1 || lv[i] > x->dims[1])
                return rnn__err(RNN_ERR_RANGE, func, "%s->lengths[%lld] must be in [1, %lld] "
                                                     "(got %d)",
                                name, (long long)i, (long long)x->dims[1], lv[i]);
    }
    if (need_targets && !d->targets)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s->targets must not be NULL", name);
    if (d->targets && (d->targets->rank < 1 || d->targets->dims[0] != *S))
        return rnn__err(RNN_ERR_SHAPE, func,
                        "%s->targets must have %lld samples on its first axis, as x (got %lld)",
                        name, (long long)*S,
                        (long long)(d->targets->rank ? d->targets->dims[0] : 0));
    return RNN_OK;
}

/* The dataset form (rnn_data) carries one input tensor. */
static rnn_status single_input(const char *func, const rnn_model *m)
{
    if (m->n_inputs != 1)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "datasets feed models with one input (this one has %d); run "
                        "rnn_model_train_step() in a loop instead",
                        m->n_inputs);
    return RNN_OK;
}

/* ------------------------------------------------------------ batching */

/* Copies samples idx[0..n) of src into *dst, keeping the first `steps` steps
 * of axis 1 when steps >= 0. */
static rnn_status gather(const rnn_tensor *src, const int64_t *idx, int64_t n, int64_t steps,
                         rnn_tensor **dst)
{
    int64_t dims[RNN_MAX_RANK];
    memcpy(dims, src->dims, sizeof(int64_t) * (size_t)src->rank);
    dims[0] = n;
    if (steps >= 0)
        dims[1] = steps;
    rnn_status st = rnn__tensor_ensure_as(dst, src->dtype, src->rank, dims, 0);
    if (st)
        return st;
    const size_t row = src->nbytes / (size_t)src->dims[0];
    const size_t keep = steps >= 0 ? row / (size_t)src->dims[1] * (size_t)steps : row;
    char *o = (*dst)->data;
    const char *s = src->data;
    for (int64_t i = 0; i < n; i++)
        memcpy(o + (size_t)i * keep, s + (size_t)idx[i] * row, keep);
    return RNN_OK;
}

typedef struct batcher {
    const rnn_data *d;
    int trim_x, trim_y; /* cut axis 1 of x / targets to the batch's longest sample */
    rnn_tensor *x, *len, *y;
} batcher;

static void batcher_init(batcher *b, const rnn_model *m, const rnn_data *d, int allow_trim)
{
    memset(b, 0, sizeof *b);
    b->d = d;
    const rnn__input_desc *in = m->inputs[0]->vt->options(m->inputs[0]);
    rnn_layer *last;
    int oi;
    rnn__model_output_ref(m, 0, &last, &oi);
    b->trim_x = allow_trim && d->x && d->lengths && in->seq && in->steps == 0;
    b->trim_y = b->trim_x && d->targets && d->targets->rank >= 2 && last->out_seq[oi] &&
                d->targets->dims[1] == d->x->dims[1];
}

static void batcher_free(batcher *b)
{
    rnn_tensor_destroy(b->x);
    rnn_tensor_destroy(b->len);
    rnn_tensor_destroy(b->y);
}

/* Builds the batch of samples idx[0..n). */
static rnn_status batcher_make(batcher *b, const int64_t *idx, int64_t n, const rnn_tensor **x,
                               const rnn_tensor **len, const rnn_tensor **y)
{
    const rnn_data *d = b->d;
    int64_t steps = -1;
    rnn_status st;
    if (d->lengths) {
        const int32_t *lv = d->lengths->data;
        if (b->trim_x) {
            steps = 1;
            for (int64_t i = 0; i < n; i++)
                steps = lv[idx[i]] > steps ? lv[idx[i]] : steps;
        }
        int64_t ld = n;
        if ((st = rnn__tensor_ensure_as(&b->len, RNN_I32, 1, &ld, 0)))
            return st;
        int32_t *o = b->len->data;
        for (int64_t i = 0; i < n; i++)
            o[i] = lv[idx[i]];
    }
    if ((st = gather(d->x, idx, n, b->trim_x ? steps : -1, &b->x)))
        return st;
    if (d->targets && (st = gather(d->targets, idx, n, b->trim_y ? steps : -1, &b->y)))
        return st;
    *x = b->x;
    *len = d->lengths ? b->len : NULL;
    *y = d->targets ? b->y : NULL;
    return RNN_OK;
}

/* Batches of one epoch over samples pool[0..n): order[] holds the samples in
 * batch order, start[k] where batch k begins (start[nb] = n). */
typedef struct keyed {
    int32_t len;
    int64_t idx;
} keyed;

typedef struct plan {
    int64_t *order, *start, *tmp;
    keyed *keys; /* bucketing: (length, sample) pairs, so qsort needs no global */
    int64_t nb;
} plan;

static int by_length(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void shuffle64(rnn__rng *r, int64_t *v, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rnn__rng_u64(r) % (uint64_t)(i + 1));
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

static void plan_epoch(plan *p, const int64_t *pool, int64_t n, int64_t B, int shuffle,
                       int bucket, const int32_t *len, rnn__rng *r)
{
    memcpy(p->order, pool, sizeof(int64_t) * (size_t)n);
    if (shuffle)
        shuffle64(r, p->order, n);
    p->nb = (n + B - 1) / B;
    if (bucket > 0 && len) {
        const int64_t chunk = B * bucket;
        for (int64_t i = 0; i < n; i++)
            p->keys[i] = (keyed){len[p->order[i]], p->order[i]};
        for (int64_t c = 0; c < n; c += chunk)
            qsort(p->keys + c, (size_t)(n - c < chunk ? n - c : chunk), sizeof(keyed),
                  by_length);
        for (int64_t i = 0; i < n; i++)
            p->order[i] = p->keys[i].idx;
    }
    for (int64_t k = 0; k < p->nb; k++)
        p->tmp[k] = k;
    if (bucket > 0 && len && shuffle)
        shuffle64(r, p->tmp, p->nb); /* batch order */
    /* start[] in the (possibly shuffled) batch order, over a permuted copy. */
    int64_t *perm = p->start + p->nb + 1; /* scratch after start[] */
    int64_t pos = 0;
    for (int64_t k = 0; k < p->nb; k++) {
        int64_t b0 = p->tmp[k] * B, b1 = b0 + B < n ? b0 + B : n;
        p->start[k] = pos;
        for (int64_t i = b0; i < b1; i++)
            perm[pos++] = p->order[i];
    }
    p->start[p->nb] = n;
    memcpy(p->order, perm, sizeof(int64_t) * (size_t)n);
}

/* ------------------------------------------------------------ figures */

typedef struct acc {
    double loss_sum, denom, active, hits, counted;
    int64_t samples, batches;
} acc;

static void acc_add(acc *a, float loss, float accuracy, const rnn__loss_stats *s, int64_t n)
{
    a->loss_sum += (double)loss * s->denom;
    a->denom += s->denom;
    a->active += s->active;
    if (s->counted > 0 && !isnan(accuracy)) {
        a->hits += (double)accuracy * s->counted;
        a->counted += s->counted;
    }
    a->samples += n;
    a->batches++;
}

static int is_ce(const rnn_model *m)
{
    return m->loss.type == RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ||
           m->loss.type == RNN_LOSS_CATEGORICAL_CROSSENTROPY ||
           m->loss.type == RNN_LOSS_BINARY_CROSSENTROPY;
}

static void acc_result(const rnn_model *m, const acc *a, float *loss, float *accuracy,
                       float *ppl)
{
    *loss = a->denom > 0 ? (float)(a->loss_sum / a->denom) : NAN;
    *accuracy = a->counted > 0 ? (float)(a->hits / a->counted) : NAN;
    *ppl = is_ce(m) && a->active > 0 ? (float)exp(a->loss_sum / a->active) : NAN;
}

static int64_t batch_size_of(const rnn_tensor *x)
{
    return x && x->rank > 0 ? x->dims[0] : 0;
}

/* Evaluates over samples idx[0..n) of in-memory data (idx NULL: 0..n-1), or
 * over a whole iterator epoch. */
static rnn_status eval_pass(const char *func, rnn_model *m, const rnn_data *d,
                            const int64_t *idx, int64_t n, int64_t B, acc *a)
{
    memset(a, 0, sizeof *a);
    rnn_status st = RNN_OK;
    if (!d->x) {
        for (int64_t k = 0;; k++) {
            const rnn_tensor *x = NULL, *len = NULL, *y = NULL;
            int r = d->next(d->user, 0, k, &x, &len, &y);
            if (r == 0)
                break;
            if (r < 0 || !x || !y)
                return rnn__err(RNN_ERR_STATE, func,
                                r < 0 ? "the batch iterator failed at batch %lld (returned %d)"
                                      : "the batch iterator gave no x or targets at batch %lld",
                                (long long)k, r);
            float l, ac;
            rnn__loss_stats s;
            if ((st = rnn__model_step(func, m, 1, &x, &len, y, 0, &l, &ac, &s)))
                return rnn__err_wrap(st, func, "batch %lld", (long long)k + 1);
            acc_add(a, l, ac, &s, batch_size_of(x));
        }
        return RNN_OK;
    }
    int64_t *all = NULL;
    if (!idx) {
        all = rnn__malloc(sizeof(int64_t) * (size_t)n);
        if (!all)
            return RNN__NOMEM(sizeof(int64_t) * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            all[i] = i;
        idx = all;
    }
    batcher b;
    batcher_init(&b, m, d, 1);
    for (int64_t i = 0; i < n && !st; i += B) {
        const int64_t nb = n - i < B ? n - i : B;
        const rnn_tensor *x, *len, *y;
        float l, ac;
        rnn__loss_stats s;
        if ((st = batcher_make(&b, idx + i, nb, &x, &len, &y)))
            break;
        if ((st = rnn__model_step(func, m, 1, &x, &len, y, 0, &l, &ac, &s)))
            st = rnn__err_wrap(st, func, "samples %lld..%lld", (long long)idx[i],
                               (long long)idx[i + nb - 1]);
        else
            acc_add(a, l, ac, &s, nb);
    }
    batcher_free(&b);
    rnn__free(all);
    return st;
}

rnn_status rnn_model_evaluate(rnn_model *model, const rnn_data *data, int64_t batch_size,
                              rnn_eval_result *out)
{
    RNN__CHECK_ARG(out);
    rnn_status st = rnn__result_check(__func__, "out", "rnn_eval_result", out,
                                      sizeof(rnn_eval_result), sizeof(rnn_eval_result));
    if (st)
        return st;
    rnn_eval_result r = {sizeof r, NAN, NAN, NAN, 0};
    rnn__result_copy(out, &r);
    RNN__CHECK_ARG(model);
    if (!model->compiled)
        return RNN__ERR(RNN_ERR_STATE, "call rnn_model_compile() first");
    int64_t S;
    rnn_data d;
    if ((st = single_input(__func__, model)) ||
        (st = check_data(__func__, "data", data, &d, 1, &S)))
        return st;
    if (d.x && batch_size < 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "batch_size must be >= 1 (got %lld)",
                        (long long)batch_size);
    acc a;
    if ((st = eval_pass(__func__, model, &d, NULL, S, batch_size, &a)))
        return st;
    if (a.samples == 0)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "data: the iterator gave no batch");
    acc_result(model, &a, &r.loss, &r.accuracy, &r.perplexity);
    r.samples = a.samples;
    rnn__result_copy(out, &r);
    return RNN_OK;
}

/* ------------------------------------------------------------ predict */

/* Appends output o (n samples) to *res, growing it; checks shape agreement. */
static rnn_status append_rows(const char *func, rnn_tensor **res, int64_t *rows, int64_t cap_hint,
                              const rnn_tensor *o)
{
    rnn_tensor *r = *res;
    if (r) {
        int same = r->rank == o->rank;
        for (int i = 1; same && i < o->rank; i++)
            same = r->dims[i] == o->dims[i];
        if (!same)
            return rnn__err(RNN_ERR_SHAPE, func,
                            "batch outputs differ beyond the batch axis (rank %d vs %d, or "
                            "sizes); give batches of one padded length",
                            r->rank, o->rank);
    }
    const size_t row = o->nbytes / (size_t)o->dims[0];
    const int64_t need = *rows + o->dims[0];
    if (!r || (size_t)need * row > r->capacity) {
        int64_t cap = r ? r->dims[0] * 2 : cap_hint;
        if (cap < need)
            cap = need;
        int64_t dims[RNN_MAX_RANK];
        memcpy(dims, o->dims, sizeof(int64_t) * (size_t)o->rank);
        dims[0] = cap;
        rnn_tensor *n = NULL;
        rnn_status st = rnn_tensor_create(o->dtype, o->rank, dims, &n);
        if (st)
            return st;
        if (r)
            memcpy(n->data, r->data, (size_t)*rows * row);
        rnn_tensor_destroy(r);
        *res = r = n;
    }
    memcpy((char *)r->data + (size_t)*rows * row, o->data, o->nbytes);
    *rows = need;
    return RNN_OK;
}

rnn_status rnn_model_predict(rnn_model *m, const rnn_data *data, int64_t batch_size,
                             rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (m->n_layers < 2)
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    int64_t S;
    rnn_data d;
    rnn_status st = single_input(__func__, m);
    if (st || (st = check_data(__func__, "data", data, &d, 0, &S)))
        return st;
    if (d.x && batch_size < 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "batch_size must be >= 1 (got %lld)",
                        (long long)batch_size);
    rnn_tensor *res = NULL;
    int64_t rows = 0;
    rnn_layer *last;
    int oi;
    rnn__model_output_ref(m, 0, &last, &oi);
    if (!d.x) {
        for (int64_t k = 0;; k++) {
            const rnn_tensor *x = NULL, *len = NULL, *y = NULL;
            int r = d.next(d.user, 0, k, &x, &len, &y);
            if (r == 0)
                break;
            if (r < 0 || !x) {
                st = rnn__err(RNN_ERR_STATE, __func__,
                              "the batch iterator failed at batch %lld (returned %d)",
                              (long long)k, r);
                break;
            }
            if ((st = rnn_model_forward(m, 1, &x, &len, 0))) {
                st = RNN__WRAP(st, "batch %lld", (long long)k + 1);
                break;
            }
            if ((st = append_rows(__func__, &res, &rows, 256, last->out[oi])))
                break;
        }
    } else {
        d.targets = NULL;
        batcher b;
        batcher_init(&b, m, &d, 0);
        int64_t *idx = rnn__malloc(sizeof(int64_t) * (size_t)(batch_size < S ? batch_size : S));
        if (!idx)
            st = RNN__NOMEM(sizeof(int64_t) * (size_t)batch_size);
        for (int64_t i = 0; i < S && !st; i += batch_size) {
            const int64_t nb = S - i < batch_size ? S - i : batch_size;
            for (int64_t j = 0; j < nb; j++)
                idx[j] = i + j;
            const rnn_tensor *x, *len, *y;
            if ((st = batcher_make(&b, idx, nb, &x, &len, &y)))
                break;
            if ((st = rnn_model_forward(m, 1, &x, &len, 0))) {
                st = RNN__WRAP(st, "samples %lld..%lld", (long long)i, (long long)(i + nb - 1));
                break;
            }
            st = append_rows(__func__, &res, &rows, S, last->out[oi]);
        }
        rnn__free(idx);
        batcher_free(&b);
    }
    if (!st && rows == 0)
        st = RNN__ERR(RNN_ERR_INVALID_ARG, "data: the iterator gave no batch");
    if (st) {
        rnn_tensor_destroy(res);
        return st;
    }
    /* Shrink the batch axis to what was written (capacity stays). */
    res->dims[0] = rows;
    if ((st = rnn__shape_check(__func__, res->dtype, res->rank, res->dims, &res->numel,
                               &res->nbytes))) {
        rnn_tensor_destroy(res);
        return st;
    }
    *out = res;
    return RNN_OK;
}

/* ------------------------------------------------------------ fit */

static rnn_status check_fit_options(const rnn_fit_options *o, int have_val, int in_memory)
{
    const char *func = "rnn_model_fit";
    if (in_memory && o->batch_size < 1) /* iterators make their own batches */
        return rnn__err(RNN_ERR_INVALID_ARG, func, "options->batch_size must be >= 1 (got %lld)",
                        (long long)o->batch_size);
    if (o->epochs < 1)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "options->epochs must be >= 1 (got %d)",
                        o->epochs);
    if (o->bucket_batches < 0)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->bucket_batches must be >= 0 (got %d)", o->bucket_batches);
    if (!(o->validation_split >= 0.0f && o->validation_split < 1.0f))
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->validation_split must be in [0, 1) (got %g)",
                        (double)o->validation_split);
    if (o->monitor < RNN_MONITOR_VAL_LOSS || o->monitor > RNN_MONITOR_ACCURACY)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "options->monitor must be a rnn_monitor "
                                                   "(got %d)",
                        (int)o->monitor);
    if (o->patience < 0 || !(o->min_delta >= 0.0f))
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->patience and min_delta must be >= 0 (got %d, %g)", o->patience,
                        (double)o->min_delta);
    if (o->lr_schedule < RNN_LR_CONSTANT || o->lr_schedule > RNN_LR_PLATEAU)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->lr_schedule must be a rnn_lr_schedule (got %d)",
                        (int)o->lr_schedule);
    if ((o->lr_schedule == RNN_LR_EXPONENTIAL || o->lr_schedule == RNN_LR_STEP) &&
        (!(o->decay_rate > 0.0f && isfinite(o->decay_rate)) || o->decay_steps < 0))
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->decay_rate must be > 0 and decay_steps >= 0 (got %g, %lld)",
                        (double)o->decay_rate, (long long)o->decay_steps);
    if (o->lr_schedule == RNN_LR_PLATEAU &&
        (!(o->plateau_factor > 0.0f && o->plateau_factor < 1.0f) || o->plateau_patience < 0 ||
         o->plateau_cooldown < 0 || !(o->min_lr >= 0.0f) || !(o->plateau_min_delta >= 0.0f)))
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->plateau_factor must be in (0, 1), plateau_patience, "
                        "plateau_cooldown, plateau_min_delta and min_lr >= 0 (got %g, %d, %d, "
                        "%g, %g)",
                        (double)o->plateau_factor, o->plateau_patience, o->plateau_cooldown,
                        (double)o->plateau_min_delta, (double)o->min_lr);
    int uses_monitor = o->early_stopping || o->restore_best_weights || o->checkpoint_path ||
                       o->lr_schedule == RNN_LR_PLATEAU;
    if (uses_monitor && !have_val &&
        (o->monitor == RNN_MONITOR_VAL_LOSS || o->monitor == RNN_MONITOR_VAL_ACCURACY))
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->monitor is a validation figure but there is no validation "
                        "data (set validation_data or validation_split, or monitor "
                        "RNN_MONITOR_LOSS)");
    return RNN_OK;
}

/* One rnn_model_fit() call: the options and data it runs on, and its state. */
typedef struct fit_state {
    rnn_model *m;
    rnn_fit_options o;
    const rnn_data *train; /* &train_data */
    rnn_data train_data, val_data; /* the caller's datasets, struct_size checked */
    int64_t S, SV;        /* samples of the in-memory training / validation data */
    int64_t n_val;        /* samples held out by validation_split (from the end) */
    int have_val;
    float lr0;
    int64_t steps;        /* optimizer steps in this fit */
    int64_t iter_batches; /* batches of the iterator's last full epoch (0: none yet) */
    plan p;               /* in-memory data: batches of the epoch */
    int64_t *pool;        /* in-memory data: 0..S-1 (training, then validation) */
    batcher b;
    rnn__rng rng;         /* shuffling */
    rnn__monitor mon;
    rnn_fit_result res;
    double t0;            /* start of the current epoch (now_seconds) */
} fit_state;

static float exp_lr(const fit_state *f)
{
    const rnn_fit_options *o = &f->o;
    const double ds = o->decay_steps > 0 ? (double)o->decay_steps : 1000.0;
    double e = (double)f->steps / ds;
    if (o->staircase)
        e = floor(e);
    return (float)(f->lr0 * pow(o->decay_rate, e));
}

/* ------------------------------------------------------------ progress */

/* The part of a progress report common to both phases; a: the epoch so far. */
static void progress_fill(const fit_state *f, rnn_progress_phase phase, int epoch, const acc *a,
                          rnn_progress *p)
{
    float ppl;
    memset(p, 0, sizeof *p);
    p->struct_size = sizeof *p;
    p->phase = phase;
    p->epoch = epoch + 1;
    p->epochs = f->o.epochs;
    p->batch = a->batches;
    p->samples = a->samples;
    acc_result(f->m, a, &p->loss, &p->accuracy, &ppl);
    p->val_loss = p->val_accuracy = NAN;
    rnn_optimizer_learning_rate(f->m->optimizer, &p->learning_rate);
}

/* Reports the batch just done (a counts it); returns on_progress' wish to stop. */
static int progress_batch(const fit_state *f, int epoch, int64_t batches, const acc *a)
{
    if (!f->o.on_progress)
        return 0;
    rnn_progress p;
    progress_fill(f, RNN_PROGRESS_BATCH, epoch, a, &p);
    p.batches = batches;
    p.elapsed = now_seconds() - f->t0;
    p.eta = batches > 0 && p.batch <= batches
                ? p.elapsed / (double)p.batch * (double)(batches - p.batch)
                : -1.0;
    return f->o.on_progress(f->o.user, &p);
}

/* Reports the finished epoch e (a: its training figures); returns on_progress' wish
 * to stop. With verbose, the same line goes to the log callback. */
static int progress_epoch(const fit_state *f, const acc *a, const rnn_epoch_log *e)
{
    if (f->o.verbose && rnn__log_enabled(RNN_LOG_INFO)) {
        char val[80] = "";
        if (f->have_val)
            snprintf(val, sizeof val, "  val_loss %.4f  val_accuracy %.4f", (double)e->val_loss,
                     (double)e->val_accuracy);
        rnn__log(RNN_LOG_INFO, "rnn_model_fit: epoch %d/%d  %.1fs  loss %.4f  accuracy %.4f%s  "
                               "lr %.3g%s",
                 e->epoch + 1, f->o.epochs, e->seconds, (double)e->loss, (double)e->accuracy, val,
                 (double)e->learning_rate, e->improved ? "  *" : "");
    }
    if (!f->o.on_progress)
        return 0;
    rnn_progress p;
    progress_fill(f, RNN_PROGRESS_EPOCH, e->epoch, a, &p);
    p.batches = p.batch;
    p.loss = e->loss;
    p.accuracy = e->accuracy;
    p.val_loss = e->val_loss;
    p.val_accuracy = e->val_accuracy;
    p.learning_rate = e->learning_rate;
    p.improved = e->improved;
    p.elapsed = e->seconds;
    p.eta = 0.0;
    return f->o.on_progress(f->o.user, &p);
}

/* ------------------------------------------------------------ fit */

/* One training epoch over in-memory samples (order from plan) or an iterator. */
static rnn_status train_epoch(fit_state *f, int epoch, acc *a, int *stop)
{
    rnn_model *m = f->m;
    const rnn_fit_options *o = &f->o;
    const rnn_data *d = f->train;
    const plan *p = &f->p;
    const char *func = "rnn_model_fit";
    memset(a, 0, sizeof *a);
    for (int64_t k = 0;; k++) {
        const rnn_tensor *x = NULL, *len = NULL, *y = NULL;
        rnn_status st;
        if (d->x) {
            if (k >= p->nb)
                break;
            if ((st = batcher_make(&f->b, p->order + p->start[k], p->start[k + 1] - p->start[k],
                                   &x, &len, &y)))
                return st;
        } else {
            int r = d->next(d->user, epoch, k, &x, &len, &y);
            if (r == 0) {
                f->iter_batches = k;
                break;
            }
            if (r < 0 || !x || !y)
                return rnn__err(RNN_ERR_STATE, func,
                                r < 0 ? "epoch %d: the batch iterator failed at batch %lld "
                                        "(returned %d)"
                                      : "epoch %d: the batch iterator gave no x or targets at "
                                        "batch %lld",
                                epoch + 1, (long long)k, r);
        }
        if (o->lr_schedule == RNN_LR_EXPONENTIAL && (st = rnn__fit_set_lr(m, exp_lr(f))))
            return st;
        float l, ac, lr;
        rnn__loss_stats s;
        if ((st = rnn__model_step(func, m, 1, &x, &len, y, 1, &l, &ac, &s)))
            return rnn__err_wrap(st, func, "epoch %d, batch %lld", epoch + 1, (long long)k + 1);
        f->steps++;
        acc_add(a, l, ac, &s, batch_size_of(x));
        rnn_optimizer_learning_rate(m->optimizer, &lr);
        const int64_t batches = d->x ? p->nb : f->iter_batches;
        if (o->on_batch) {
            rnn_batch_log bl = {sizeof bl, epoch, k, batches, batch_size_of(x), l, ac, lr};
            *stop = o->on_batch(o->user, &bl) != 0;
        }
        /* the batch is done: reported also when on_batch stops here */
        if (progress_batch(f, epoch, batches, a))
            *stop = 1;
        if (*stop)
            break;
    }
    if (a->samples == 0)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "epoch %d: the iterator gave no batch", epoch + 1);
    return RNN_OK;
}

/* Copies and checks the options and the data; splits off the validation samples. */
static rnn_status fit_setup(fit_state *f, const rnn_data *train, const rnn_fit_options *options)
{
    const char *func = "rnn_model_fit";
    rnn_fit_options *o = &f->o;
    rnn_fit_options_init(o);
    rnn_status st;
    if (options && (st = rnn__opts_copy(func, "options", "rnn_fit_options", o, sizeof *o, options,
                                        RNN__STRUCT_END(rnn_fit_options, verbose))))
        return st;
    f->train = &f->train_data;
    if ((st = single_input(func, f->m)) ||
        (st = check_data(func, "train", train, &f->train_data, 1, &f->S)))
        return st;
    train = f->train;
    if (!train->x && o->validation_split > 0.0f && !o->validation_data)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->validation_split needs in-memory data (train->x); give "
                        "validation_data with an iterator");
    if (o->validation_data) {
        if ((st = check_data(func, "options->validation_data", o->validation_data, &f->val_data,
                             1, &f->SV)))
            return st;
        o->validation_data = &f->val_data;
    }
    if (!(o->validation_split >= 0.0f && o->validation_split < 1.0f))
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->validation_split must be in [0, 1) (got %g)",
                        (double)o->validation_split);
    if (!o->validation_data && o->validation_split > 0.0f) {
        f->n_val = (int64_t)((double)f->S * (double)o->validation_split);
        if (f->n_val < 1 || f->n_val >= f->S)
            return rnn__err(RNN_ERR_INVALID_ARG, func,
                            "options->validation_split %g of %lld samples leaves an empty "
                            "training or validation set",
                            (double)o->validation_split, (long long)f->S);
    }
    f->have_val = o->validation_data != NULL || f->n_val > 0;
    return check_fit_options(o, f->have_val,
                             train->x || (o->validation_data && o->validation_data->x));
}

/* Batch plans (in-memory data), the monitors and the shuffling generator. */
static rnn_status fit_alloc(fit_state *f)
{
    const int64_t n_train = f->S - f->n_val;
    if (f->train->x) {
        const int64_t S = f->S, nb = (n_train + f->o.batch_size - 1) / f->o.batch_size;
        plan *p = &f->p;
        p->order = rnn__malloc(sizeof(int64_t) * (size_t)n_train);
        p->start = rnn__malloc(sizeof(int64_t) * (size_t)(nb + 1 + n_train));
        p->tmp = rnn__malloc(sizeof(int64_t) * (size_t)nb);
        p->keys = rnn__malloc(sizeof(keyed) * (size_t)n_train);
        f->pool = rnn__malloc(sizeof(int64_t) * (size_t)S);
        if (!p->order || !p->start || !p->tmp || !p->keys || !f->pool)
            return rnn__err(RNN_ERR_NOMEM, "rnn_model_fit", "out of memory allocating %zu bytes",
                            sizeof(int64_t) * (size_t)(3 * S + 2 * nb));
        for (int64_t i = 0; i < S; i++)
            f->pool[i] = i;
        batcher_init(&f->b, f->m, f->train, 1);
    }
    rnn__rng_seed(&f->rng, f->o.seed);
    return rnn__monitor_init(&f->mon, f->m, &f->o);
}

static void fit_free(fit_state *f)
{
    batcher_free(&f->b);
    rnn__free(f->p.order);
    rnn__free(f->p.start);
    rnn__free(f->p.tmp);
    rnn__free(f->p.keys);
    rnn__free(f->pool);
    rnn__monitor_free(&f->mon);
}

/* Validation figures of an epoch into e. */
static rnn_status fit_validate(fit_state *f, int epoch, rnn_epoch_log *e)
{
    const char *func = "rnn_model_fit";
    const rnn_fit_options *o = &f->o;
    const int64_t n_train = f->S - f->n_val;
    acc va;
    rnn_status st;
    if (o->validation_data)
        st = eval_pass(func, f->m, o->validation_data, NULL, f->SV, o->batch_size, &va);
    else
        st = eval_pass(func, f->m, f->train, f->pool + n_train, f->n_val, o->batch_size, &va);
    if (st)
        return rnn__err_wrap(st, func, "epoch %d, validation", epoch + 1);
    acc_result(f->m, &va, &e->val_loss, &e->val_accuracy, &e->val_perplexity);
    return RNN_OK;
}

/* Epoch `epoch` (from 0): training, validation, monitors, callbacks. Sets
 * *stop when training ends here (res.stop says why). */
static rnn_status fit_epoch(fit_state *f, int epoch, int *stop)
{
    const rnn_fit_options *o = &f->o;
    rnn_model *m = f->m;
    f->t0 = now_seconds();
    rnn_status st;
    if (o->reset_states)
        rnn_model_reset_states(m);
    if (o->lr_schedule == RNN_LR_STEP) {
        const int64_t de = o->decay_steps > 0 ? o->decay_steps : 10;
        if ((st = rnn__fit_set_lr(m, (float)(f->lr0 * pow(o->decay_rate, (double)(epoch / de))))))
            return st;
    }
    if (f->train->x)
        plan_epoch(&f->p, f->pool, f->S - f->n_val, o->batch_size, o->shuffle, o->bucket_batches,
                   f->train->lengths ? (const int32_t *)f->train->lengths->data : NULL, &f->rng);
    acc a;
    int batch_stop = 0;
    if ((st = train_epoch(f, epoch, &a, &batch_stop)))
        return st;
    rnn_epoch_log e = {sizeof e, epoch, NAN, NAN, NAN, NAN, NAN, NAN, 0, 0, 0};
    acc_result(m, &a, &e.loss, &e.accuracy, &e.perplexity);
    if (f->have_val && (st = fit_validate(f, epoch, &e)))
        return st;
    if ((st = rnn__monitor_epoch(&f->mon, epoch, &e)))
        return st;
    if (e.improved) {
        f->res.best_epoch = epoch;
        f->res.best_value = f->mon.best;
    }
    rnn_optimizer_learning_rate(m->optimizer, &e.learning_rate);
    e.seconds = now_seconds() - f->t0;
    f->res.epochs_run = epoch + 1;
    f->res.last = e;
    /* on_progress and on_epoch see every counted epoch, also one cut short by a batch
     * callback (as Keras' on_epoch_end runs before stop_training is checked) */
    const int progress_stop = progress_epoch(f, &a, &e);
    const int epoch_stop = o->on_epoch && o->on_epoch(o->user, &e);
    if (batch_stop || progress_stop || epoch_stop) {
        f->res.stop = RNN_FIT_CALLBACK;
        *stop = 1;
    } else if (rnn__monitor_stop(&f->mon)) {
        f->res.stop = RNN_FIT_EARLY_STOPPED;
        *stop = 1;
    }
    return RNN_OK;
}

/* Hands the result to the caller (also after a failure: what ran before it), as
 * much as its struct_size holds (checked); last.struct_size tells how much of last. */
static rnn_status fit_finish(const fit_state *f, rnn_fit_result *result, rnn_status st)
{
    if (result) {
        rnn_fit_result res = f->res;
        const size_t at = offsetof(rnn_fit_result, last), size = result->struct_size;
        res.last.struct_size =
            (uint32_t)(size <= at ? 0 : size - at < sizeof res.last ? size - at : sizeof res.last);
        rnn__result_copy(result, &res);
    }
    return st;
}

rnn_status rnn_model_fit(rnn_model *m, const rnn_data *train, const rnn_fit_options *options,
                         rnn_fit_result *result)
{
    fit_state f;
    memset(&f, 0, sizeof f);
    f.m = m;
    f.res.struct_size = sizeof f.res;
    f.res.best_epoch = -1;
    f.res.best_value = NAN;
    rnn_status st;
    if (result && (st = rnn__result_check(__func__, "result", "rnn_fit_result", result,
                                          sizeof f.res, RNN__STRUCT_END(rnn_fit_result, stop))))
        return st;
    if (!m)
        return fit_finish(&f, result, RNN__ERR(RNN_ERR_INVALID_ARG, "model must not be NULL"));
    if (!m->compiled)
        return fit_finish(&f, result, RNN__ERR(RNN_ERR_STATE, "call rnn_model_compile() first"));
    if ((st = fit_setup(&f, train, options)))
        return fit_finish(&f, result, st);
    rnn_optimizer_learning_rate(m->optimizer, &f.lr0);
    if (!(st = fit_alloc(&f))) {
        int stop = 0;
        for (int epoch = 0; epoch < f.o.epochs && !stop && !st; epoch++)
            st = fit_epoch(&f, epoch, &stop);
        if (!st)
            rnn__monitor_restore(&f.mon, f.res.epochs_run);
    }
    fit_free(&f);
    return fit_finish(&f, result, st);
}
