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

#include "train/train.h"
#include "governor.h"
#include "rnn/fit.h"
#include "train/batch.h"
#include "train/dist.h"
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

/* A model step (train: with the update) on batch x, timed by g (NULL: not
 * timed). With a collective, x is this rank's share (NULL: it has none) and
 * local_st the failure of making it, which every rank then fails with;
 * without one, local_st is returned as is. stop: rnn__dist_step's (NULL
 * without a collective); when it comes back set, the step was void. */
static rnn_status model_step(const char *func, rnn_model *m, rnn__gov *g, rnn_status local_st,
                             const rnn_tensor **x, const rnn_tensor **len, const rnn_tensor *y,
                             int train, float *l, float *ac, rnn__loss_stats *s, int *stop)
{
    if (!m->dist && local_st)
        return local_st;
    if (g && x)
        rnn__gov_begin(g);
    rnn_status st = m->dist
                        ? rnn__dist_step(func, m, local_st, 1, x, len, y, train, l, ac, s, stop)
                        : rnn__model_step(func, m, 1, x, len, y, train, l, ac, s);
    if (g && x && !st && !(stop && *stop))
        rnn__gov_end(g, rnn__gov_work(*x));
    return st;
}

/* Samples in the step that gave s on batch x. */
static int64_t step_samples(const rnn_model *m, const rnn_tensor *x, const rnn__loss_stats *s)
{
    return m->dist ? (int64_t)s->samples : batch_size_of(x);
}

/* Batch rows[0..n) of in-memory data: with a collective, this rank's share
 * (padded to the whole batch's longest sample, so that every loss reduction
 * sees the batch one process would); *x NULL when the share is empty. */
static rnn_status make_batch(rnn_model *m, rnn__batcher *b, const int64_t *rows, int64_t n,
                             const rnn_tensor **x, const rnn_tensor **len, const rnn_tensor **y)
{
    int64_t lo = 0, hi = n;
    *x = *len = *y = NULL;
    b->min_steps = 0;
    if (m->dist) {
        rnn__dist_share(m, n, &lo, &hi);
        if (b->trim_x)
            for (int64_t i = 0; i < n; i++) {
                const int32_t li = ((const int32_t *)b->d->lengths->data)[rows[i]];
                b->min_steps = li > b->min_steps ? li : b->min_steps;
            }
    }
    if (hi == lo)
        return RNN_OK;
    return rnn__batcher_make(b, rows + lo, hi - lo, x, len, y);
}

static rnn_status eval_batches(const char *func, rnn_model *m, const rnn_data *d,
                               const int64_t *idx, int64_t n, int64_t B, acc *a, rnn__gov *g)
{
    rnn_status st = RNN_OK;
    if (!d->x) {
        /* With a collective, a rank whose iterator has ended takes part
         * with no batch until every rank's has. */
        int ended = 0;
        for (int64_t k = 0;; k++) {
            const rnn_tensor *x = NULL, *len = NULL, *y = NULL;
            rnn_status ls = RNN_OK;
            if (!ended) {
                int r = d->next(d->user, 0, k, &x, &len, &y);
                if (r == 0)
                    ended = 1;
                else if (r < 0 || !x || !y)
                    ls = rnn__iter_error(func, -1, k, r, x, 1);
            }
            if (ended && !m->dist)
                break;
            float l, ac;
            rnn__loss_stats s;
            if ((st = model_step(func, m, g, ls, !ended && !ls ? &x : NULL, &len, y, 0, &l, &ac,
                                 &s, NULL)))
                return ls ? st : rnn__err_wrap(st, func, "batch %lld", (long long)k + 1);
            if (m->dist && s.empty)
                break;
            acc_add(a, l, ac, &s, step_samples(m, x, &s));
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
    rnn__batcher b;
    rnn__batcher_init(&b, m, d, 1);
    for (int64_t i = 0; i < n && !st; i += B) {
        const int64_t nb = n - i < B ? n - i : B;
        const rnn_tensor *x, *len, *y;
        float l, ac;
        rnn__loss_stats s;
        rnn_status ls = make_batch(m, &b, idx + i, nb, &x, &len, &y);
        if ((st = model_step(func, m, g, ls, x ? &x : NULL, &len, y, 0, &l, &ac, &s, NULL)))
            st = ls ? st : rnn__err_wrap(st, func, "samples %lld..%lld", (long long)idx[i],
                                         (long long)idx[i + nb - 1]);
        else
            acc_add(a, l, ac, &s, nb);
    }
    rnn__batcher_free(&b);
    rnn__free(all);
    return st;
}

/* Evaluates over samples idx[0..n) of in-memory data (idx NULL: 0..n-1), or
 * over a whole iterator epoch. hold: fit's governor, whose current count the
 * batches run on unmeasured (validation); NULL: evaluate's. */
static rnn_status eval_pass(const char *func, rnn_model *m, const rnn_data *d,
                            const int64_t *idx, int64_t n, int64_t B, acc *a,
                            const rnn__gov *hold)
{
    memset(a, 0, sizeof *a);
    rnn__gov *g = NULL;
    if (hold)
        rnn__gov_hold(hold);
    else
        rnn__gov_start(g = &m->gov[RNN__LOOP_EVALUATE]);
    rnn_status st = eval_batches(func, m, d, idx, n, B, a, g);
    if (g)
        rnn__gov_stop(g);
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
    int64_t S = 0;
    rnn_data d;
    if (!(st = rnn__single_input(__func__, model)) &&
        !(st = rnn__check_data(__func__, "data", data, &d, 1, &S)) && d.x &&
        !(st = rnn__check_values(__func__, "data", model, &d)) && batch_size < 1)
        st = RNN__ERR(RNN_ERR_INVALID_ARG, "batch_size must be >= 1 (got %lld)",
                      (long long)batch_size);
    if (model->dist)
        st = rnn__dist_agree(__func__, model, "checking the data", st);
    if (st)
        return st;
    acc a;
    if ((st = eval_pass(__func__, model, &d, NULL, S, batch_size, &a, NULL)))
        return RNN__PASS(st);
    if (a.samples == 0)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "data: the iterator gave no batch");
    acc_result(model, &a, &r.loss, &r.accuracy, &r.perplexity);
    r.samples = a.samples;
    rnn__result_copy(out, &r);
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
    rnn__plan p;               /* in-memory data: batches of the epoch */
    int64_t *pool;        /* in-memory data: 0..S-1 (training, then validation) */
    rnn__batcher b;
    rnn__rng rng;         /* shuffling */
    rnn__monitor mon;
    rnn_fit_result res;
    double t0;            /* start of the current epoch (now_seconds) */
    rnn__gov *gov;        /* the training batches' thread count (m->gov) */
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
    p.threads = f->gov->levels[f->gov->run];
    return f->o.on_progress(f->o.user, &p);
}

/* Reports the finished epoch e (a: its training figures); returns on_progress' wish
 * to stop. With verbose, the same line goes to the log callback. */
static int progress_epoch(const fit_state *f, const acc *a, const rnn_epoch_log *e)
{
    if (f->o.verbose && rnn__log_enabled(RNN_LOG_INFO)) {
        /* A loss without an accuracy (mean squared error) has NaN there: left out. */
        char accuracy[32] = "", val[80] = "", val_acc[32] = "";
        if (!isnan(e->accuracy))
            snprintf(accuracy, sizeof accuracy, "  accuracy %.4f", (double)e->accuracy);
        if (f->have_val) {
            if (!isnan(e->val_accuracy))
                snprintf(val_acc, sizeof val_acc, "  val_accuracy %.4f", (double)e->val_accuracy);
            snprintf(val, sizeof val, "  val_loss %.4f%s", (double)e->val_loss, val_acc);
        }
        rnn__log(RNN_LOG_INFO, "rnn_model_fit: epoch %d/%d  %.1fs  loss %.4f%s%s  lr %.3g%s",
                 e->epoch + 1, f->o.epochs, e->seconds, (double)e->loss, accuracy, val,
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
    p.threads = e->threads;
    return f->o.on_progress(f->o.user, &p);
}

/* ------------------------------------------------------------ fit */

/* A failed step of in-memory batch k: the context names the samples of
 * train->x it held, the first 8 (the batch's own row numbers mean nothing
 * once shuffled); they are the batch's rows in this order. */
static rnn_status batch_error(rnn_status st, const rnn__plan *p, int epoch, int64_t k)
{
    char list[160];
    size_t n = 0;
    const int64_t *rows = p->order + p->start[k], count = p->start[k + 1] - p->start[k];
    int64_t i = 0;
    for (; i < count && i < 8; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%lld", i ? ", " : "",
                              (long long)rows[i]);
    if (i < count)
        snprintf(list + n, sizeof list - n, ", ... (%lld in all)", (long long)count);
    return rnn__err_wrap(st, "rnn_model_fit", "epoch %d, batch %lld (samples %s of train->x)",
                         epoch + 1, (long long)k + 1, list);
}

/* With a collective: any rank's wish to stop (*stop) stops every rank. */
static rnn_status agree_stop(rnn_model *m, int *stop)
{
    float v = *stop ? 1.0f : 0.0f;
    rnn_status st = rnn__dist_sum("rnn_model_fit", m, "agreeing on stopping", &v, 1);
    if (!st)
        *stop = v > 0.0f;
    return st;
}

/* One training epoch over in-memory samples (order from plan) or an iterator.
 * With a collective, a rank's wish to stop after batch k (a callback's) has
 * to reach every rank before batch k + 1 is trained. On in-memory data it
 * rides on batch k + 1's exchange of figures (rnn__dist_step's stop), which
 * then voids that step everywhere; a wish after the epoch's last batch
 * leaves here as this rank's own *stop, and fit_epoch's agreement on the
 * epoch's callbacks settles it. Iterators (whose next batch one process
 * would not have asked for) and stateful models (whose voided forward would
 * move the carried states) agree after every batch with a sum of its own. */
static rnn_status train_epoch(fit_state *f, int epoch, acc *a, int *stop)
{
    rnn_model *m = f->m;
    const rnn_fit_options *o = &f->o;
    const rnn_data *d = f->train;
    const rnn__plan *p = &f->p;
    const char *func = "rnn_model_fit";
    memset(a, 0, sizeof *a);
    const int ride = m->dist && d->x && rnn__dist_can_void_step(m);
    int ended = 0; /* this rank's iterator has ended (with a collective: the
                      others' may not have) */
    for (int64_t k = 0;; k++) {
        const rnn_tensor *x = NULL, *len = NULL, *y = NULL;
        rnn_status st, ls = RNN_OK;
        if (d->x) {
            if (k >= p->nb)
                break;
            ls = make_batch(m, &f->b, p->order + p->start[k], p->start[k + 1] - p->start[k], &x,
                            &len, &y);
        } else if (!ended) {
            int r = d->next(d->user, epoch, k, &x, &len, &y);
            if (r == 0) {
                ended = 1;
                x = NULL;
                if (!m->dist) {
                    f->iter_batches = k;
                    break;
                }
            } else if (r < 0 || !x || !y) {
                ls = rnn__iter_error(func, epoch, k, r, x, 1);
                x = NULL;
            }
        }
        float l, ac, lr;
        rnn_optimizer_learning_rate(m->optimizer, &lr); /* back to it when the step is void */
        if (o->lr_schedule == RNN_LR_EXPONENTIAL && !ls && (st = rnn__fit_set_lr(m, exp_lr(f))))
            ls = st;
        rnn__loss_stats s;
        if ((st = model_step(func, m, f->gov, ls, x ? &x : NULL, &len, y, 1, &l, &ac, &s,
                             ride ? stop : NULL))) {
            if (ls)
                return st;
            return d->x ? batch_error(st, p, epoch, k)
                        : rnn__err_wrap(st, func, "epoch %d, batch %lld", epoch + 1,
                                        (long long)k + 1);
        }
        if (ride && *stop) { /* a rank was asked to stop after batch k - 1 */
            if (o->lr_schedule == RNN_LR_EXPONENTIAL)
                rnn_optimizer_set_learning_rate(m->optimizer, lr);
            break;
        }
        if (m->dist && s.empty) { /* every rank's iterator has ended */
            f->iter_batches = k;
            break;
        }
        f->steps++;
        const int64_t samples = step_samples(m, x, &s);
        acc_add(a, l, ac, &s, samples);
        rnn_optimizer_learning_rate(m->optimizer, &lr);
        const int64_t batches = d->x ? p->nb : f->iter_batches;
        if (o->on_batch) {
            rnn_batch_log bl = {sizeof bl, epoch, k, batches, samples, l, ac, lr};
            *stop = o->on_batch(o->user, &bl) != 0;
        }
        /* the batch is done: reported also when on_batch stops here */
        if (progress_batch(f, epoch, batches, a))
            *stop = 1;
        if (ride)
            continue; /* *stop rides on batch k + 1's exchange */
        if (m->dist && (st = agree_stop(m, stop)))
            return rnn__err_wrap(st, func, "epoch %d, batch %lld", epoch + 1, (long long)k + 1);
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
    if ((st = rnn__single_input(func, f->m)) ||
        (st = rnn__check_data(func, "train", train, &f->train_data, 1, &f->S)))
        return st;
    train = f->train;
    if (!train->x && o->validation_split > 0.0f && !o->validation_data)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->validation_split needs in-memory data (train->x); give "
                        "validation_data with an iterator");
    if (o->validation_data) {
        if ((st = rnn__check_data(func, "options->validation_data", o->validation_data, &f->val_data,
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
    /* Every value before the first step: a bad label in the last batch must
     * not be found after earlier batches changed the weights. */
    if ((train->x && (st = rnn__check_values(func, "train", f->m, train))) ||
        (o->validation_data && o->validation_data->x &&
         (st = rnn__check_values(func, "options->validation_data", f->m, o->validation_data))))
        return rnn__err_wrap(st, func, "nothing was trained");
    return check_fit_options(o, f->have_val,
                             train->x || (o->validation_data && o->validation_data->x));
}

/* With a collective: every rank starts (st is this rank's setup), with the
 * same settings, from rank 0's weights. */
static rnn_status fit_agree(fit_state *f, rnn_status st)
{
    const char *func = "rnn_model_fit";
    rnn_model *m = f->m;
    if ((st = rnn__dist_agree(func, m, "starting", st)))
        return st;
    const rnn_fit_options *o = &f->o;
    static const char *const names[] = {"the in-memory training samples",
                                         "the in-memory validation samples",
                                         "options->batch_size",
                                         "options->epochs",
                                         "options->seed",
                                         "options->shuffle",
                                         "options->bucket_batches",
                                         "options->validation_split's samples",
                                         "having validation data"};
    int64_t mine[9] = {f->train->x ? f->S : -1, f->SV, o->batch_size, o->epochs,
                       (int64_t)o->seed, o->shuffle, o->bucket_batches, f->n_val, f->have_val};
    int64_t r0[9];
    memcpy(r0, mine, sizeof r0);
    if ((st = rnn__dist_bcast(func, m, r0, sizeof r0, "the fit settings")))
        return st;
    for (int i = 0; i < 9 && !st; i++)
        if (mine[i] != r0[i])
            st = rnn__err(RNN_ERR_INVALID_ARG, func,
                          "%s differ: %lld on rank %d, %lld on rank 0 (every rank must pass "
                          "the same data and options)",
                          names[i], (long long)mine[i], rnn__dist_rank(m), (long long)r0[i]);
    if ((st = rnn__dist_agree(func, m, "comparing the ranks' data and options", st)))
        return st;
    return rnn__dist_sync(func, m);
}

/* Batch plans (in-memory data), the monitors and the shuffling generator. */
static rnn_status fit_alloc(fit_state *f)
{
    const int64_t n_train = f->S - f->n_val;
    if (f->train->x) {
        /* A batch larger than the data is all of it (as rnn__plan_epoch makes it). */
        const int64_t B = f->o.batch_size < n_train ? f->o.batch_size : n_train > 0 ? n_train : 1;
        const int64_t S = f->S, nb = (n_train + B - 1) / B;
        rnn__plan *p = &f->p;
        p->order = rnn__malloc(sizeof(int64_t) * (size_t)n_train);
        p->start = rnn__malloc(sizeof(int64_t) * (size_t)(nb + 1 + n_train));
        p->tmp = rnn__malloc(sizeof(int64_t) * (size_t)nb);
        p->keys = rnn__malloc(sizeof(rnn__keyed) * (size_t)n_train);
        f->pool = rnn__malloc(sizeof(int64_t) * (size_t)S);
        if (!p->order || !p->start || !p->tmp || !p->keys || !f->pool)
            return rnn__err(RNN_ERR_NOMEM, "rnn_model_fit", "out of memory allocating %zu bytes",
                            sizeof(int64_t) * (size_t)(3 * S + 2 * nb));
        for (int64_t i = 0; i < S; i++)
            f->pool[i] = i;
        rnn__batcher_init(&f->b, f->m, f->train, 1);
    }
    rnn__rng_seed(&f->rng, f->o.seed);
    return rnn__monitor_init(&f->mon, f->m, &f->o);
}

static void fit_free(fit_state *f)
{
    rnn__batcher_free(&f->b);
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
        st = eval_pass(func, f->m, o->validation_data, NULL, f->SV, o->batch_size, &va, f->gov);
    else
        st = eval_pass(func, f->m, f->train, f->pool + n_train, f->n_val, o->batch_size, &va,
                       f->gov);
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
        rnn__plan_epoch(&f->p, f->pool, f->S - f->n_val, o->batch_size, o->shuffle, o->bucket_batches,
                   f->train->lengths ? (const int32_t *)f->train->lengths->data : NULL, &f->rng);
    acc a;
    int batch_stop = 0;
    if ((st = train_epoch(f, epoch, &a, &batch_stop)))
        return st;
    rnn_epoch_log e = {sizeof e, epoch, NAN, NAN, NAN, NAN, NAN, NAN, 0, 0, 0, 0};
    e.threads = rnn__gov_threads(f->gov);
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
    int cb_stop = batch_stop || progress_stop || epoch_stop;
    if (m->dist && (st = agree_stop(m, &cb_stop)))
        return rnn__err_wrap(st, "rnn_model_fit", "epoch %d", epoch + 1);
    if (cb_stop) {
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
    /* Errors passed up from inside name rnn_model_fit. */
    return st ? rnn__err_wrap(st, "rnn_model_fit", NULL) : RNN_OK;
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
    st = m->compiled ? fit_setup(&f, train, options)
                     : RNN__ERR(RNN_ERR_STATE, "call rnn_model_compile() first");
    if (m->dist)
        st = fit_agree(&f, st);
    if (st)
        return fit_finish(&f, result, st);
    rnn_optimizer_learning_rate(m->optimizer, &f.lr0);
    f.gov = &m->gov[RNN__LOOP_FIT];
    rnn__gov_start(f.gov);
    if (!(st = fit_alloc(&f))) {
        int stop = 0;
        for (int epoch = 0; epoch < f.o.epochs && !stop && !st; epoch++)
            st = fit_epoch(&f, epoch, &stop);
        if (!st)
            rnn__monitor_restore(&f.mon, f.res.epochs_run);
    }
    rnn__gov_stop(f.gov);
    fit_free(&f);
    return fit_finish(&f, result, st);
}
