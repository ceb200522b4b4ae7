/* SPDX-License-Identifier: Apache-2.0 */
/* rnn_model_fit()'s monitors, run after every epoch: the best epoch of the
 * monitored quantity (early stopping, best checkpoints, restore_best_weights)
 * and reduce-on-plateau. */
#include <math.h>
#include <string.h>

#include "train/train.h"
#include "rnn/io.h"
#include "train/dist.h"
#include "train/monitor.h"

static const char FIT[] = "rnn_model_fit"; /* the public function errors name */

rnn_status rnn__fit_set_lr(rnn_model *m, float lr)
{
    return rnn_optimizer_set_learning_rate(m->optimizer, lr > 1e-30f ? lr : 1e-30f);
}

static int lower_is_better(rnn_monitor mon)
{
    return mon == RNN_MONITOR_VAL_LOSS || mon == RNN_MONITOR_LOSS;
}

static float monitored(rnn_monitor mon, const rnn_epoch_log *e)
{
    switch (mon) {
    case RNN_MONITOR_VAL_LOSS: return e->val_loss;
    case RNN_MONITOR_VAL_ACCURACY: return e->val_accuracy;
    case RNN_MONITOR_LOSS: return e->loss;
    case RNN_MONITOR_ACCURACY: return e->accuracy;
    }
    return NAN;
}

static int better(rnn_monitor mon, float v, float best, float delta, int have_best)
{
    if (isnan(v))
        return 0;
    if (!have_best)
        return 1;
    return lower_is_better(mon) ? v < best - delta : v > best + delta;
}

/* All parameter values, for restore_best_weights. */
static size_t params_bytes(const rnn_model *m)
{
    size_t n = 0;
    for (int i = 0; i < m->n_layers; i++)
        for (int p = 0; p < m->layers[i]->n_params; p++)
            n += m->layers[i]->param[p]->nbytes;
    return n;
}

static void params_copy(rnn_model *m, char *buf, int save)
{
    for (int i = 0; i < m->n_layers; i++) {
        rnn_layer *l = m->layers[i];
        for (int p = 0; p < l->n_params; p++) {
            if (save)
                memcpy(buf, l->param[p]->data, l->param[p]->nbytes);
            else
                memcpy(l->param[p]->data, buf, l->param[p]->nbytes);
            buf += l->param[p]->nbytes;
        }
        if (!save && l->n_params)
            rnn_layer_params_changed(l);
    }
}

rnn_status rnn__monitor_init(rnn__monitor *mon, rnn_model *m, const rnn_fit_options *o)
{
    memset(mon, 0, sizeof *mon);
    mon->m = m;
    mon->o = o;
    mon->best = NAN;
    mon->best_epoch = -1;
    mon->p_best = NAN;
    if (o->restore_best_weights) {
        const size_t nbytes = params_bytes(m);
        if (!(mon->best_params = rnn__malloc(nbytes ? nbytes : 1)))
            return rnn__err(RNN_ERR_NOMEM, FIT, "out of memory allocating %zu bytes", nbytes);
    }
    return RNN_OK;
}

/* Keras ReduceLROnPlateau on the monitored value v. */
static rnn_status plateau(rnn__monitor *mon, float v)
{
    const rnn_fit_options *o = mon->o;
    if (mon->p_cool > 0) {
        mon->p_cool--;
        mon->p_wait = 0;
    }
    if (better(o->monitor, v, mon->p_best, o->plateau_min_delta, mon->p_have)) {
        mon->p_have = 1;
        mon->p_best = v;
        mon->p_wait = 0;
    } else if (mon->p_cool == 0 && ++mon->p_wait >= o->plateau_patience) {
        float lr;
        rnn_optimizer_learning_rate(mon->m->optimizer, &lr);
        if (lr > o->min_lr) {
            const float nl = lr * o->plateau_factor;
            rnn_status st = rnn__fit_set_lr(mon->m, nl > o->min_lr ? nl : o->min_lr);
            if (st)
                return st;
        }
        mon->p_cool = o->plateau_cooldown;
        mon->p_wait = 0;
    }
    return RNN_OK;
}

rnn_status rnn__monitor_epoch(rnn__monitor *mon, int epoch, rnn_epoch_log *e)
{
    const rnn_fit_options *o = mon->o;
    const float v = monitored(o->monitor, e);
    if (better(o->monitor, v, mon->best, o->min_delta, mon->have_best)) {
        mon->have_best = 1;
        mon->best = v;
        mon->wait = 0;
        mon->best_epoch = epoch;
        e->improved = 1;
        if (mon->best_params)
            params_copy(mon->m, mon->best_params, 1);
        if (o->checkpoint_path) {
            /* With a collective, rank 0 alone writes it; every rank learns
             * whether that worked. */
            rnn_status st = rnn__dist_rank(mon->m) == 0 ? rnn_model_save(mon->m, o->checkpoint_path)
                                                        : RNN_OK;
            if (mon->m->dist)
                st = rnn__dist_agree(FIT, mon->m, "writing the checkpoint (rank 0)", st);
            if (st)
                return rnn__err_wrap(st, FIT, "epoch %d, checkpoint", epoch + 1);
        }
    } else {
        mon->wait++;
    }
    return o->lr_schedule == RNN_LR_PLATEAU ? plateau(mon, v) : RNN_OK;
}

int rnn__monitor_stop(const rnn__monitor *mon)
{
    return mon->o->early_stopping && mon->wait > 0 && mon->wait >= mon->o->patience;
}

void rnn__monitor_restore(rnn__monitor *mon, int epochs_run)
{
    if (mon->best_params && mon->have_best && mon->best_epoch != epochs_run - 1)
        params_copy(mon->m, mon->best_params, 0);
}

void rnn__monitor_free(rnn__monitor *mon)
{
    rnn__free(mon->best_params);
    mon->best_params = NULL;
}
