/* SPDX-License-Identifier: Apache-2.0 */
/* Datasets and batches for fit, evaluate and predict: checking a dataset,
 * gathering the samples of a batch (trimmed to its longest sample), and
 * planning an epoch (shuffle, length buckets). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/batch.h"

/* ------------------------------------------------------------ data checks */

/* Copies the caller's dataset src (struct_size checked) into *d and checks it;
 * for in-memory data sets *S to its number of samples. */
rnn_status rnn__check_data(const char *func, const char *name, const rnn_data *src,
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

/* The lowest id bound of the layers that read the model's input 0 as ids
 * (0: none does). */
static int64_t input_id_limit(const rnn_model *m)
{
    int64_t lim = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const rnn_layer *l = m->layers[i];
        if (l->ops->id_limit && l->n_in > 0 && l->in[0].layer == m->inputs[0]) {
            const int64_t v = l->ops->id_limit(l);
            lim = lim == 0 || v < lim ? v : lim;
        }
    }
    return lim;
}

/* Flat index i of tensor t as "[a][b]...". */
static const char *at_index(char *buf, size_t size, const rnn_tensor *t, int64_t i)
{
    int64_t idx[8] = {0};
    for (int k = t->rank - 1; k >= 0 && k < 8; k--) {
        idx[k] = i % t->dims[k];
        i /= t->dims[k];
    }
    size_t n = 0;
    buf[0] = 0;
    for (int k = 0; k < t->rank && k < 8 && n < size; k++)
        n += (size_t)snprintf(buf + n, size - n, "[%lld]", (long long)idx[k]);
    return buf;
}

/* Whether step t of sample n can be masked: beyond its length, or a padding
 * id 0 in x (Embedding(mask_zero=True) masks those). */
static int maybe_masked(const rnn_data *d, int64_t n, int64_t t, int64_t T)
{
    const rnn_tensor *x = d->x;
    if (d->lengths && t >= ((const int32_t *)d->lengths->data)[n])
        return 1;
    return x->dtype == RNN_I32 && x->rank == 2 && x->dims[1] == T &&
           ((const int32_t *)x->data)[n * T + t] == 0;
}

rnn_status rnn__check_values(const char *func, const char *name, const rnn_model *m,
                             const rnn_data *d)
{
    char at[48];
    const rnn_tensor *x = d->x;
    if (x->dtype == RNN_F32) {
        const float *v = x->data;
        for (int64_t i = 0; i < x->numel; i++)
            if (!isfinite(v[i]))
                return rnn__err(RNN_ERR_NUMERIC, func, "%s->x%s is %g", name,
                                at_index(at, sizeof at, x, i), (double)v[i]);
    } else if (x->dtype == RNN_I32) {
        const int64_t lim = input_id_limit(m);
        const int32_t *v = x->data;
        for (int64_t i = 0; lim > 0 && i < x->numel; i++)
            if (v[i] < 0 || v[i] >= lim)
                return rnn__err(RNN_ERR_RANGE, func, "%s->x%s must be a token id in [0, %lld) "
                                "(got %d)",
                                name, at_index(at, sizeof at, x, i), (long long)lim, v[i]);
    }
    const rnn_tensor *y = d->targets;
    if (!y || !m->compiled)
        return RNN_OK;
    if (y->dtype == RNN_F32) {
        const float *v = y->data;
        for (int64_t i = 0; i < y->numel; i++)
            if (!isfinite(v[i]))
                return rnn__err(RNN_ERR_NUMERIC, func, "%s->targets%s is %g", name,
                                at_index(at, sizeof at, y, i), (double)v[i]);
        return RNN_OK;
    }
    if (y->dtype != RNN_I32 || m->loss.type != RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ||
        y->rank > 2)
        return RNN_OK; /* the first step reports the dtype or shape */
    const rnn__port out = rnn__model_output_port(m, 0);
    const int64_t C = out.layer->out_features[out.output], T = y->rank == 2 ? y->dims[1] : 0;
    const int32_t *v = y->data;
    for (int64_t i = 0; C > 0 && i < y->numel; i++)
        if ((v[i] < 0 || v[i] >= C) && !(T > 0 && maybe_masked(d, i / T, i % T, T)))
            return rnn__err(RNN_ERR_RANGE, func, "%s->targets%s must be a class in [0, %lld) "
                            "(got %d)",
                            name, at_index(at, sizeof at, y, i), (long long)C, v[i]);
    return RNN_OK;
}

/* The dataset form (rnn_data) carries one input tensor. */
rnn_status rnn__single_input(const char *func, const rnn_model *m)
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


void rnn__batcher_init(rnn__batcher *b, const rnn_model *m, const rnn_data *d, int allow_trim)
{
    memset(b, 0, sizeof *b);
    b->d = d;
    const rnn_layer *in = m->inputs[0];
    const rnn__port out0 = rnn__model_output_port(m, 0);
    b->trim_x = allow_trim && d->x && d->lengths && in->out_seq[0] && in->out_steps[0] == 0;
    b->trim_y = b->trim_x && d->targets && d->targets->rank >= 2 && out0.layer->out_seq[out0.output] &&
                d->targets->dims[1] == d->x->dims[1];
}

void rnn__batcher_free(rnn__batcher *b)
{
    rnn_tensor_destroy(b->x);
    rnn_tensor_destroy(b->len);
    rnn_tensor_destroy(b->y);
}

/* Builds the batch of samples idx[0..n). */
rnn_status rnn__batcher_make(rnn__batcher *b, const int64_t *idx, int64_t n, const rnn_tensor **x,
                               const rnn_tensor **len, const rnn_tensor **y)
{
    const rnn_data *d = b->d;
    int64_t steps = -1;
    rnn_status st;
    if (d->lengths) {
        const int32_t *lv = d->lengths->data;
        if (b->trim_x) {
            steps = b->min_steps > 1 ? b->min_steps : 1;
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


static int by_length(const void *a, const void *b)
{
    const rnn__keyed *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void rnn__shuffle64(rnn__rng *r, int64_t *v, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rnn__rng_u64(r) % (uint64_t)(i + 1));
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

void rnn__plan_epoch(rnn__plan *p, const int64_t *pool, int64_t n, int64_t B, int shuffle,
                       int bucket, const int32_t *len, rnn__rng *r)
{
    memcpy(p->order, pool, sizeof(int64_t) * (size_t)n);
    if (shuffle)
        rnn__shuffle64(r, p->order, n);
    if (B > n) /* a batch larger than the data is all of it (Keras); no overflow below */
        B = n > 0 ? n : 1;
    p->nb = (n + B - 1) / B;
    if (bucket > 0 && len) {
        const int64_t chunk = B * bucket;
        for (int64_t i = 0; i < n; i++)
            p->keys[i] = (rnn__keyed){len[p->order[i]], p->order[i]};
        for (int64_t c = 0; c < n; c += chunk)
            qsort(p->keys + c, (size_t)(n - c < chunk ? n - c : chunk), sizeof(rnn__keyed),
                  by_length);
        for (int64_t i = 0; i < n; i++)
            p->order[i] = p->keys[i].idx;
    }
    for (int64_t k = 0; k < p->nb; k++)
        p->tmp[k] = k;
    if (bucket > 0 && len && shuffle)
        rnn__shuffle64(r, p->tmp, p->nb); /* batch order */
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

/* An iterator's call for batch k (from 0) that gave no usable batch: it
 * returned r < 0, or 1 without x (or without targets when need_y). epoch:
 * from 0, or -1 outside fit. Messages count batches from 1, as everywhere. */
rnn_status rnn__iter_error(const char *func, int epoch, int64_t k, int r, const rnn_tensor *x,
                             int need_y)
{
    char where[64] = "";
    if (epoch >= 0)
        snprintf(where, sizeof where, "epoch %d, ", epoch + 1);
    if (r < 0)
        return rnn__err(RNN_ERR_STATE, func,
                        "%sbatch %lld: the batch iterator failed (next returned %d)", where,
                        (long long)k + 1, r);
    return rnn__err(RNN_ERR_STATE, func,
                    "%sbatch %lld: the batch iterator returned %d but set no %s", where,
                    (long long)k + 1, r, !x ? "x" : need_y ? "targets" : "x");
}
