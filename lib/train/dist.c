/* SPDX-License-Identifier: Apache-2.0 */
/* Data-parallel training over an engine-neutral collective (rnn/collective.h):
 * attaching one, broadcasting the weights, the exchanges that keep the ranks
 * in step, and the training step whose gradients are summed in per-layer
 * buckets, each started as soon as the backward of its layer has finished. */
#include <math.h>
#include <string.h>

#include "train/dist.h"
#include "optim/optimizer.h"
#include "rnn/collective.h"

/* The parameters of one layer (params[first..first+count) of the model's
 * table), summed as one buffer. */
typedef struct bucket {
    int first, count;
    int ready_at; /* the lowest graph index applying these parameters: after its
                     backward no other adds to their gradients */
    int64_t numel;
    float *buf;
    void *req;
    int started;
} bucket;

/* Small exchanges (a step's figures, agreements, sizes, settings) are made in
 * the model's own buffer, not in the caller's stack frame: an engine that gave
 * up waiting (librnn-mpi's timeout) cannot cancel the operation, which MPI may
 * complete later, at the process's next MPI call, writing the result into the
 * buffer (the frame would belong to another function by then). */
typedef union stage {
    float f[32];
    unsigned char b[128];
    double align;
} stage;

typedef struct rnn__dist {
    rnn_collective c;
    bucket *b;
    int nb;
    int n_params; /* the table the buckets were made for */
    int n_layers;
    int64_t numel;
    float failed; /* summed with the buckets: ranks whose backward failed */
    stage st;
} rnn__dist;

/* Exchanged before every step's backward (or every evaluation batch). */
enum { S_HAS, S_FAIL, S_STOP, S_DENOM, S_LOSS, S_ACTIVE, S_HITS, S_COUNTED, S_SAMPLES, S_N };

static rnn__dist *dist_of(const rnn_model *m)
{
    return m ? (rnn__dist *)m->dist : NULL;
}

int rnn__dist_rank(const rnn_model *m)
{
    const rnn__dist *d = dist_of(m);
    return d ? d->c.rank : 0;
}

int rnn__dist_size(const rnn_model *m)
{
    const rnn__dist *d = dist_of(m);
    return d ? d->c.size : 1;
}

void rnn__dist_share(const rnn_model *m, int64_t n, int64_t *lo, int64_t *hi)
{
    const int64_t r = rnn__dist_rank(m), s = rnn__dist_size(m);
    *lo = n * r / s;
    *hi = n * (r + 1) / s;
}

static void buckets_free(rnn__dist *d)
{
    for (int k = 0; k < d->nb; k++)
        rnn__free(d->b[k].buf);
    rnn__free(d->b);
    d->b = NULL;
    d->nb = 0;
}

static void release_dist(rnn_model *m)
{
    rnn__dist *d = dist_of(m);
    if (!d)
        return;
    buckets_free(d);
    rnn__free(d);
    m->dist = NULL;
    m->release_dist = NULL;
}

/* An engine failure (code) of operation op, under func. */
static rnn_status engine_error(const char *func, const rnn__dist *d, const char *what,
                               const char *op, int code)
{
    const char *text = d->c.error_message ? d->c.error_message(d->c.user, code) : NULL;
    return rnn__err(RNN_ERR_COLLECTIVE, func, "%s: the collective's %s failed (code %d%s%s)", what,
                    op, code, text && *text ? ": " : "", text && *text ? text : "");
}

rnn_status rnn__dist_sum(const char *func, rnn_model *m, const char *what, float *v, int n)
{
    rnn__dist *d = dist_of(m);
    const size_t bytes = sizeof *v * (size_t)n;
    float *buf = bytes <= sizeof d->st ? d->st.f : v; /* see stage */
    if (buf != v)
        memcpy(buf, v, bytes);
    void *req = NULL;
    int code = d->c.allreduce_sum(d->c.user, buf, n, &req);
    if (code)
        return engine_error(func, d, what, "allreduce", code);
    if ((code = d->c.wait(d->c.user, req)))
        return engine_error(func, d, what, "wait", code);
    if (buf != v)
        memcpy(v, buf, bytes);
    return RNN_OK;
}

rnn_status rnn__dist_agree(const char *func, rnn_model *m, const char *what, rnn_status st)
{
    float v[2] = {st ? 1.0f : 0.0f, 1.0f};
    rnn_status e = rnn__dist_sum(func, m, what, v, 2);
    if (e)
        return st ? st : e;
    if (st)
        return st;
    if (v[0] > 0.0f)
        return rnn__err(RNN_ERR_COLLECTIVE, func, "%s failed on %g of the %g ranks (see their "
                                                  "errors); nothing was changed here",
                        what, (double)v[0], (double)v[1]);
    return RNN_OK;
}

/* ------------------------------------------------------------ weights */

static rnn_status bcast(const char *func, rnn__dist *d, void *data, int64_t bytes,
                        const char *what)
{
    if (bytes <= 0)
        return RNN_OK;
    void *buf = bytes <= (int64_t)sizeof d->st ? d->st.b : data; /* see stage */
    if (buf != data)
        memcpy(buf, data, (size_t)bytes);
    const int code = d->c.broadcast(d->c.user, buf, bytes, 0);
    if (code)
        return engine_error(func, d, what, "broadcast", code);
    if (buf != data)
        memcpy(data, buf, (size_t)bytes);
    return RNN_OK;
}

rnn_status rnn__dist_bcast(const char *func, rnn_model *m, void *data, int64_t bytes,
                           const char *what)
{
    return bcast(func, dist_of(m), data, bytes, what);
}

rnn_status rnn__dist_sync(const char *func, rnn_model *m)
{
    rnn__dist *d = dist_of(m);
    rnn_status st;
    /* Rank 0's shape of things first: a rank whose model differs would
     * otherwise read a broadcast of another length. */
    int64_t shape[3] = {m->n_params, 0, m->optimizer ? m->optimizer->n_slots : -1};
    for (int k = 0; k < m->n_params; k++)
        shape[1] += m->params[k].value->numel;
    int64_t mine[3];
    memcpy(mine, shape, sizeof mine);
    if ((st = bcast(func, d, shape, sizeof shape, "the model's size")))
        return st;
    st = memcmp(mine, shape, sizeof mine)
             ? rnn__err(RNN_ERR_INVALID_ARG, func,
                        "rank %d's model has %lld parameter tensors (%lld values)%s, rank 0's "
                        "%lld (%lld)%s: every rank must build the same model",
                        d->c.rank, (long long)mine[0], (long long)mine[1],
                        mine[2] >= 0 ? ", compiled" : "", (long long)shape[0],
                        (long long)shape[1], shape[2] >= 0 ? ", compiled" : "")
             : RNN_OK;
    if ((st = rnn__dist_agree(func, m, "comparing the models", st)))
        return st;
    for (int k = 0; k < m->n_params; k++)
        if ((st = bcast(func, d, m->params[k].value->data, (int64_t)m->params[k].value->nbytes,
                        "the weights")))
            return st;
    for (int k = 0; k < m->n_params; k++)
        if (k + 1 == m->n_params || m->params[k + 1].layer != m->params[k].layer)
            rnn_layer_params_changed(m->params[k].layer);
    rnn_optimizer *o = m->optimizer;
    if (!o)
        return RNN_OK;
    struct {
        int64_t iterations;
        double u_product;
        float lr;
    } s = {o->iterations, o->u_product, o->o.learning_rate};
    if ((st = bcast(func, d, &s, sizeof s, "the optimizer state")))
        return st;
    o->iterations = s.iterations;
    o->u_product = s.u_product;
    o->o.learning_rate = s.lr;
    for (int k = 0; k < o->n_slots; k++) {
        const int64_t bytes = (int64_t)m->params[k].value->nbytes;
        if ((o->m && (st = bcast(func, d, o->m[k], bytes, "the optimizer state"))) ||
            (o->v && (st = bcast(func, d, o->v[k], bytes, "the optimizer state"))))
            return st;
    }
    return RNN_OK;
}

/* ------------------------------------------------------------ public */

rnn_status rnn_model_set_collective(rnn_model *model, const rnn_collective *collective)
{
    RNN__CHECK_ARG(model);
    if (!collective) {
        release_dist(model);
        return RNN_OK;
    }
    const rnn_collective *c = collective;
    if (c->struct_size != sizeof(rnn_collective))
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "collective->struct_size must be sizeof(rnn_collective) = %zu (got %u)",
                        sizeof(rnn_collective), (unsigned)c->struct_size);
    if (c->size < 1 || c->rank < 0 || c->rank >= c->size)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "collective->rank must be in [0, size) and size >= 1 (got rank %d, size "
                        "%d)",
                        c->rank, c->size);
    if (!c->allreduce_sum || !c->wait || !c->broadcast)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "collective->%s must not be NULL",
                        !c->allreduce_sum ? "allreduce_sum" : !c->wait ? "wait" : "broadcast");
    if (c->flags & ~(unsigned)RNN_COLLECTIVE_NO_OVERLAP)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "collective->flags has unknown bits (got 0x%x)",
                        c->flags);
    rnn__dist *d = rnn__calloc(1, sizeof *d);
    if (!d)
        return RNN__NOMEM(sizeof *d);
    d->c = *c;
    void *old = model->dist;
    model->dist = d;
    rnn_status st = rnn__dist_sync(__func__, model);
    model->dist = old;
    if (st) {
        rnn__free(d);
        return st;
    }
    release_dist(model); /* the collective attached before, if any */
    model->dist = d;
    model->release_dist = release_dist;
    return RNN_OK;
}

rnn_status rnn_model_sync_weights(rnn_model *model)
{
    RNN__CHECK_ARG(model);
    if (!model->dist)
        return RNN__ERR(RNN_ERR_STATE, "no collective is attached (rnn_model_set_collective)");
    return rnn__dist_sync(__func__, model);
}

rnn_status rnn_model_collective_rank(const rnn_model *model, int *rank, int *size)
{
    if (rank)
        *rank = 0;
    if (size)
        *size = 1;
    RNN__CHECK_ARG(model);
    if (rank)
        *rank = rnn__dist_rank(model);
    if (size)
        *size = rnn__dist_size(model);
    return RNN_OK;
}

/* ------------------------------------------------------------ buckets */

/* One bucket per layer owning trainable parameters, for the current table. */
static rnn_status buckets_make(const char *func, rnn_model *m, rnn__dist *d)
{
    int64_t numel = 0;
    for (int k = 0; k < m->n_params; k++)
        numel += m->params[k].value->numel;
    if (d->b && d->n_params == m->n_params && d->n_layers == m->n_layers && d->numel == numel)
        return RNN_OK;
    buckets_free(d);
    d->b = rnn__calloc((size_t)(m->n_params ? m->n_params : 1), sizeof *d->b);
    if (!d->b)
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes",
                        sizeof *d->b * (size_t)m->n_params);
    for (int k = 0; k < m->n_params; k++) {
        const rnn_layer *l = m->params[k].layer;
        if (d->nb == 0 || m->params[d->b[d->nb - 1].first].layer != l)
            d->b[d->nb++] = (bucket){.first = k, .ready_at = m->n_layers};
        bucket *b = &d->b[d->nb - 1];
        b->count++;
        b->numel += m->params[k].value->numel;
    }
    for (int k = 0; k < d->nb; k++) {
        bucket *b = &d->b[k];
        const rnn_layer *owner = m->params[b->first].layer;
        for (int i = m->n_layers - 1; i >= 0; i--)
            if (m->layers[i] == owner || m->layers[i]->shared_from == owner)
                b->ready_at = i;
        const size_t bytes = sizeof(float) * (size_t)b->numel;
        if (!(b->buf = rnn__malloc(bytes))) {
            buckets_free(d);
            return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes", bytes);
        }
    }
    d->n_params = m->n_params;
    d->n_layers = m->n_layers;
    d->numel = numel;
    return RNN_OK;
}

typedef struct sums {
    const char *func;
    rnn_model *m;
    rnn__dist *d;
    rnn_status st; /* the first failure to start a sum */
} sums;

static void bucket_start(sums *s, bucket *b)
{
    b->started = 1;
    b->req = NULL;
    if (s->st)
        return;
    const rnn_model *m = s->m;
    float *o = b->buf;
    for (int k = b->first; k < b->first + b->count; k++) {
        const rnn_tensor *g = m->params[k].grad;
        memcpy(o, g->data, g->nbytes);
        o += g->numel;
    }
    const int code = s->d->c.allreduce_sum(s->d->c.user, b->buf, b->numel, &b->req);
    if (code) {
        b->started = 0;
        s->st = engine_error(s->func, s->d, "summing the gradients", "allreduce", code);
    }
}

static int bucket_trainable(const rnn_model *m, const bucket *b)
{
    return m->params[b->first].layer->trainable;
}

/* Backward hook: layer i's backward is done. */
static rnn_status layer_done(void *ctx, int i)
{
    sums *s = ctx;
    if (s->d->c.flags & RNN_COLLECTIVE_NO_OVERLAP)
        return RNN_OK;
    for (int k = s->d->nb - 1; k >= 0; k--) {
        bucket *b = &s->d->b[k];
        if (!b->started && b->ready_at >= i && bucket_trainable(s->m, b))
            bucket_start(s, b);
    }
    return RNN_OK;
}

/* Starts what is left, waits for every sum and puts the results back.
 * local: this rank's backward failed; when any rank's did, every rank
 * returns an error (none may update alone). */
static rnn_status buckets_finish(sums *s, rnn_status local)
{
    rnn__dist *d = s->d;
    for (int k = d->nb - 1; k >= 0; k--)
        if (!d->b[k].started && bucket_trainable(s->m, &d->b[k]))
            bucket_start(s, &d->b[k]);
    void *freq = NULL;
    d->failed = local ? 1.0f : 0.0f;
    int code = s->st ? 0 : d->c.allreduce_sum(d->c.user, &d->failed, 1, &freq);
    if (code && !s->st)
        s->st = engine_error(s->func, d, "summing the gradients", "allreduce", code);
    const int flag_started = !s->st;
    rnn_status st = s->st;
    for (int k = d->nb - 1; k >= 0; k--) {
        bucket *b = &d->b[k];
        if (!b->started)
            continue;
        b->started = 0;
        const int wc = d->c.wait(d->c.user, b->req);
        if (wc && !st)
            st = engine_error(s->func, d, "summing the gradients", "wait", wc);
        if (st)
            continue;
        const float *o = b->buf;
        for (int j = b->first; j < b->first + b->count; j++) {
            rnn_tensor *g = s->m->params[j].grad;
            memcpy(g->data, o, g->nbytes);
            o += g->numel;
        }
    }
    if (flag_started && (code = d->c.wait(d->c.user, freq)) && !st)
        st = engine_error(s->func, d, "summing the gradients", "wait", code);
    if (!st && !local && d->failed > 0.0f)
        st = rnn__err(RNN_ERR_COLLECTIVE, s->func,
                      "the backward failed on %g other rank(s) (see their errors): the weights "
                      "are unchanged (those before this batch)",
                      (double)d->failed);
    return local ? local : st;
}

/* ------------------------------------------------------------ step */

/* Forward and loss on this rank's batch: figures into v[], the loss gradient
 * into m->loss_grad (when train). */
static rnn_status local_forward(const char *func, rnn_model *m, int num_inputs,
                                const rnn_tensor *const *inputs,
                                const rnn_tensor *const *lengths, const rnn_tensor *targets,
                                int train, float *v)
{
    double l, a;
    rnn__loss_stats s;
    rnn_status st = rnn__forward_loss(func, m, num_inputs, inputs, lengths, targets, train, &l,
                                      &a, &s);
    if (st)
        return st;
    v[S_HAS] = 1.0f;
    v[S_DENOM] = (float)s.denom;
    v[S_LOSS] = (float)(l * s.denom);
    v[S_ACTIVE] = (float)s.active;
    v[S_HITS] = s.counted > 0 && !isnan(a) ? (float)(a * s.counted) : 0.0f;
    v[S_COUNTED] = (float)s.counted;
    v[S_SAMPLES] = inputs[0]->rank > 0 ? (float)inputs[0]->dims[0] : 0.0f;
    return RNN_OK;
}

/* Backward of this rank's share (its loss gradient scaled by its part of the
 * global denominator), the gradient sums, the update. */
static rnn_status dist_update(const char *func, rnn_model *m, int local, double scale)
{
    rnn__dist *d = dist_of(m);
    rnn_status st;
    if ((st = buckets_make(func, m, d)) || (st = rnn_model_zero_grad(m)))
        return st;
    sums s = {func, m, d, RNN_OK};
    if (local) {
        float *g = rnn__f32(m->loss_grad);
        for (int64_t i = 0; i < m->loss_grad->numel; i++)
            g[i] = (float)(g[i] * scale);
        const rnn_tensor *gs[RNN__MAX_OUTPUTS] = {m->loss_grad};
        st = rnn__model_backward_hooked(m, rnn__model_num_outputs(m), gs, layer_done, &s);
        if (st)
            st = rnn__err_wrap(st, func, NULL);
    }
    /* Every sum is started and waited for, also after a failure here: the
     * other ranks' sums need this rank's part, and learn of the failure. */
    if ((st = buckets_finish(&s, st)))
        return st;
    const rnn__param *bad = rnn__nonfinite_grad(m);
    if (bad)
        return rnn__err(RNN_ERR_NUMERIC, func,
                        "the gradient of %s/%s summed over the ranks is not finite (an Inf or "
                        "NaN in the batch?): the weights are unchanged (those before this batch)",
                        bad->layer->name, bad->layer->param_name[bad->index]);
    if ((st = rnn_optimizer_step(m->optimizer)))
        return rnn__err_wrap(st, func, NULL);
    return RNN_OK;
}

int rnn__dist_can_void_step(const rnn_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i]->stateful)
            return 0;
    return 1;
}

rnn_status rnn__dist_step(const char *func, rnn_model *m, rnn_status local_st, int num_inputs,
                          const rnn_tensor *const *inputs, const rnn_tensor *const *lengths,
                          const rnn_tensor *targets, int train, float *loss, float *accuracy,
                          rnn__loss_stats *stats, int *stop)
{
    float v[S_N] = {0};
    const rnn__rng rng = m->rng; /* restored when the step turns out void */
    rnn_status st = local_st;
    if (!st && inputs)
        st = local_forward(func, m, num_inputs, inputs, lengths, targets, train, v);
    v[S_FAIL] = st ? 1.0f : 0.0f;
    v[S_STOP] = stop && *stop ? 1.0f : 0.0f;
    const float local_denom = v[S_DENOM];
    rnn_status e = rnn__dist_sum(func, m, "exchanging the batch's figures", v, S_N);
    if (e)
        return st ? st : e;
    if (stop && (*stop = v[S_STOP] > 0.0f)) {
        m->rng = rng;
        return RNN_OK;
    }
    if (st)
        return st;
    if (v[S_FAIL] > 0.0f)
        return rnn__err(RNN_ERR_COLLECTIVE, func,
                        "the step failed on %g other rank(s) (see their errors)%s",
                        (double)v[S_FAIL],
                        train ? ": the weights are unchanged (those before this batch)" : "");
    if (stats) {
        *stats = (rnn__loss_stats){v[S_DENOM], v[S_ACTIVE], v[S_COUNTED], v[S_SAMPLES],
                                   v[S_HAS] == 0.0f};
    }
    if (v[S_HAS] == 0.0f)
        return RNN_OK;
    const double l = v[S_DENOM] > 0.0f ? (double)v[S_LOSS] / v[S_DENOM] : NAN;
    const double a = v[S_COUNTED] > 0.0f ? (double)v[S_HITS] / v[S_COUNTED] : NAN;
    if (train) {
        const int local = inputs != NULL;
        const double scale = v[S_DENOM] > 0.0f ? (double)local_denom / v[S_DENOM] : 0.0;
        if ((st = dist_update(func, m, local, scale)))
            return st;
    }
    if (loss)
        *loss = (float)l;
    if (accuracy)
        *accuracy = (float)a;
    return RNN_OK;
}
