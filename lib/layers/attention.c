/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attention over a value sequence (the encoder's outputs) for every step of a
 * query sequence (the decoder's outputs): Luong's dot and general scores and
 * Bahdanau's additive score, softmax over the value steps that are not
 * padding, context = the weighted sum of the values.
 *
 *   dot:      s_ij = q_i . v_j
 *   general:  s_ij = q_i . (v_j W)              W (Dv, Dq)
 *   additive: s_ij = a . tanh(q_i Wq + v_j Wv + b)   Wq (Dq, U), Wv (Dv, U), b, a (U)
 *   w_ij = softmax_j(s_ij * scale) over j < value length,  c_i = sum_j w_ij v_j
 *
 * Outputs: 0 the contexts (N, Tq, Dv), 1 the weights (N, Tq, Tv); query steps
 * past a sample's length are zero in both. The projections run as backend
 * matmuls over all rows of the batch; the per-sample score/softmax/context
 * loops are plain C (Tq x Tv per sample is small next to the projections).
 */
#include <math.h>
#include <string.h>

#include "model/graph.h"

typedef struct attention {
    rnn_attention_options o;
    int64_t Dq, Dv, U; /* U: additive hidden units */
    float scale;
    rnn__fbuf kp;  /* general: values projected (N*Tv, Dq); additive: (N*Tv, U) incl. bias */
    rnn__fbuf qp;  /* additive: queries projected (N*Tq, U) */
    rnn__fbuf th;  /* additive, training: tanh terms (N, Tq, Tv, U) */
    rnn__fbuf dkp, dqp, ds; /* backward work */
    int64_t N, Tq, Tv;
    int have_th;
} attention;

void rnn_attention_options_init(rnn_attention_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->score = RNN_ATTENTION_DOT;
    o->units = 0;
    o->scale = 0;
    o->kernel_initializer = RNN_INIT_GLOROT_UNIFORM;
}

static inline int64_t len_or(const int32_t *len, int64_t n, int64_t T)
{
    return len ? len[n] : T;
}

static rnn_status attention_forward(rnn_layer *l, int training)
{
    attention *a = l->impl;
    rnn_model *m = l->model;
    const rnn_tensor *qt = rnn__layer_in(l), *vt = rnn__layer_extra_in(l, 0);
    const int32_t *ql = rnn__layer_in_len(l), *vl = rnn__layer_extra_len(l, 0);
    const int64_t N = qt->dims[0], Tq = qt->dims[1], Tv = vt->dims[1];
    const int64_t Dq = a->Dq, Dv = a->Dv, U = a->U;
    if (vt->dims[0] != N)
        return rnn__err(RNN_ERR_SHAPE, "rnn_model_forward",
                        "layer %s: the query has batch size %lld, the value %lld", l->name,
                        (long long)N, (long long)vt->dims[0]);
    const float *q = rnn__f32(qt), *v = rnn__f32(vt);
    rnn_status st;
    int64_t cd[3] = {N, Tq, Dv}, wd[3] = {N, Tq, Tv};
    if ((st = rnn__tensor_ensure(&l->out[0], 3, cd, 1)) ||
        (st = rnn__tensor_ensure(&l->out[1], 3, wd, 1)))
        return st;
    float *c = rnn__f32(l->out[0]), *w = rnn__f32(l->out[1]);
    const rnn_attention_score sc = a->o.score;
    const float *keys = v; /* rows of width Dk compared with the queries */
    int64_t Dk = Dv;
    if (sc == RNN_ATTENTION_GENERAL) {
        if ((st = rnn__fbuf_ensure(&a->kp, (size_t)(N * Tv * Dq), 0)) ||
            (st = rnn__matmul(m->ctx, 0, 0, N * Tv, Dv, Dq, v, rnn__f32(l->param[0]), NULL, 0.0f,
                              a->kp.p)))
            return st;
        keys = a->kp.p;
        Dk = Dq;
    } else if (sc == RNN_ATTENTION_ADDITIVE) {
        if ((st = rnn__fbuf_ensure(&a->kp, (size_t)(N * Tv * U), 0)) ||
            (st = rnn__fbuf_ensure(&a->qp, (size_t)(N * Tq * U), 0)) ||
            (st = rnn__matmul(m->ctx, 0, 0, N * Tv, Dv, U, v, rnn__f32(l->param[1]),
                              rnn__f32(l->param[2]), 0.0f, a->kp.p)) ||
            (st = rnn__matmul(m->ctx, 0, 0, N * Tq, Dq, U, q, rnn__f32(l->param[0]), NULL, 0.0f,
                              a->qp.p)))
            return st;
        a->have_th = training;
        if (training && (st = rnn__fbuf_ensure(&a->th, (size_t)(N * Tq * Tv * U), 0)))
            return st;
    }
    const float *av = sc == RNN_ATTENTION_ADDITIVE ? rnn__f32(l->param[3]) : NULL;
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lq = len_or(ql, n, Tq), Lv = len_or(vl, n, Tv);
        for (int64_t i = 0; i < Lq; i++) {
            float *wi = w + (n * Tq + i) * Tv;
            const float *qi = q + (n * Tq + i) * Dq;
            float mx = -INFINITY;
            for (int64_t j = 0; j < Lv; j++) {
                float s = 0.0f;
                if (sc == RNN_ATTENTION_ADDITIVE) {
                    const float *qp = a->qp.p + (n * Tq + i) * U, *kp = a->kp.p + (n * Tv + j) * U;
                    float *th = training ? a->th.p + ((n * Tq + i) * Tv + j) * U : NULL;
                    for (int64_t u = 0; u < U; u++) {
                        float t = tanhf(qp[u] + kp[u]);
                        if (th)
                            th[u] = t;
                        s += av[u] * t;
                    }
                } else {
                    const float *kj = keys + (n * Tv + j) * Dk;
                    for (int64_t d = 0; d < Dk; d++)
                        s += qi[d] * kj[d];
                    s *= a->scale;
                }
                wi[j] = s;
                mx = s > mx ? s : mx;
            }
            float sum = 0.0f;
            for (int64_t j = 0; j < Lv; j++) {
                wi[j] = expf(wi[j] - mx);
                sum += wi[j];
            }
            float *ci = c + (n * Tq + i) * Dv;
            for (int64_t j = 0; j < Lv; j++) {
                wi[j] /= sum;
                const float *vj = v + (n * Tv + j) * Dv;
                for (int64_t d = 0; d < Dv; d++)
                    ci[d] += wi[j] * vj[d];
            }
        }
    }
    a->N = N;
    a->Tq = Tq;
    a->Tv = Tv;
    l->out_len[0] = ql;
    l->out_len[1] = ql;
    return RNN_OK;
}

static rnn_status attention_backward(rnn_layer *l)
{
    attention *a = l->impl;
    rnn_model *m = l->model;
    const rnn_tensor *qt = rnn__layer_in(l), *vt = rnn__layer_extra_in(l, 0);
    const int32_t *ql = rnn__layer_in_len(l), *vl = rnn__layer_extra_len(l, 0);
    const int64_t N = a->N, Tq = a->Tq, Tv = a->Tv, Dq = a->Dq, Dv = a->Dv, U = a->U;
    const float *q = rnn__f32(qt), *v = rnn__f32(vt);
    const float *w = rnn__f32(l->out[1]), *gc = rnn__f32(l->dout[0]), *gw = rnn__f32(l->dout[1]);
    rnn_tensor *dqt = rnn__layer_din(l), *dvt = rnn__layer_extra_din(l, 0);
    float *dq = dqt ? rnn__f32(dqt) : NULL, *dv = dvt ? rnn__f32(dvt) : NULL;
    const rnn_attention_score sc = a->o.score;
    rnn_status st;
    if (sc == RNN_ATTENTION_ADDITIVE && !a->have_th)
        return rnn__err(RNN_ERR_STATE, "rnn_model_backward", "layer %s: no training forward",
                        l->name);
    /* dS (N, Tq, Tv): the gradient of the scores (after scaling). */
    if ((st = rnn__fbuf_ensure(&a->ds, (size_t)(N * Tq * Tv), 1)))
        return st;
    float *ds = a->ds.p;
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lq = len_or(ql, n, Tq), Lv = len_or(vl, n, Tv);
        for (int64_t i = 0; i < Lq; i++) {
            const float *wi = w + (n * Tq + i) * Tv, *gi = gc + (n * Tq + i) * Dv;
            const float *gwi = gw + (n * Tq + i) * Tv;
            float *dsi = ds + (n * Tq + i) * Tv;
            float dot = 0.0f;
            for (int64_t j = 0; j < Lv; j++) {
                const float *vj = v + (n * Tv + j) * Dv;
                float da = gwi[j];
                for (int64_t d = 0; d < Dv; d++)
                    da += gi[d] * vj[d];
                dsi[j] = da; /* dA for now */
                dot += wi[j] * da;
                if (dv) { /* context = sum_j w_ij v_j */
                    float *dvj = dv + (n * Tv + j) * Dv;
                    for (int64_t d = 0; d < Dv; d++)
                        dvj[d] += wi[j] * gi[d];
                }
            }
            for (int64_t j = 0; j < Lv; j++)
                dsi[j] = wi[j] * (dsi[j] - dot);
        }
    }
    if (sc == RNN_ATTENTION_DOT) {
        for (int64_t n = 0; n < N; n++) {
            const int64_t Lq = len_or(ql, n, Tq), Lv = len_or(vl, n, Tv);
            for (int64_t i = 0; i < Lq; i++) {
                const float *dsi = ds + (n * Tq + i) * Tv, *qi = q + (n * Tq + i) * Dq;
                float *dqi = dq ? dq + (n * Tq + i) * Dq : NULL;
                for (int64_t j = 0; j < Lv; j++) {
                    const float g = dsi[j] * a->scale;
                    const float *vj = v + (n * Tv + j) * Dv;
                    if (dqi)
                        for (int64_t d = 0; d < Dq; d++)
                            dqi[d] += g * vj[d];
                    if (dv) {
                        float *dvj = dv + (n * Tv + j) * Dv;
                        for (int64_t d = 0; d < Dv; d++)
                            dvj[d] += g * qi[d];
                    }
                }
            }
        }
        return RNN_OK;
    }
    if (sc == RNN_ATTENTION_GENERAL) {
        /* keys kp = v W (N*Tv, Dq): dq += dS kp, dkp = dS^T q, dW += v^T dkp, dv += dkp W^T */
        if ((st = rnn__fbuf_ensure(&a->dkp, (size_t)(N * Tv * Dq), 1)))
            return st;
        for (int64_t n = 0; n < N; n++) {
            const int64_t Lq = len_or(ql, n, Tq), Lv = len_or(vl, n, Tv);
            for (int64_t i = 0; i < Lq; i++) {
                const float *dsi = ds + (n * Tq + i) * Tv, *qi = q + (n * Tq + i) * Dq;
                float *dqi = dq ? dq + (n * Tq + i) * Dq : NULL;
                for (int64_t j = 0; j < Lv; j++) {
                    const float g = dsi[j] * a->scale;
                    const float *kj = a->kp.p + (n * Tv + j) * Dq;
                    float *dkj = a->dkp.p + (n * Tv + j) * Dq;
                    for (int64_t d = 0; d < Dq; d++) {
                        if (dqi)
                            dqi[d] += g * kj[d];
                        dkj[d] += g * qi[d];
                    }
                }
            }
        }
        if (l->trainable && (st = rnn__matmul(m->ctx, 1, 0, Dv, N * Tv, Dq, v, a->dkp.p, NULL,
                                              1.0f, rnn__f32(l->grad[0]))))
            return st;
        if (dv && (st = rnn__matmul(m->ctx, 0, 1, N * Tv, Dq, Dv, a->dkp.p, rnn__f32(l->param[0]),
                                    NULL, 1.0f, dv)))
            return st;
        return RNN_OK;
    }
    /* Additive: e_ij = a . tanh(qp_i + kp_j). */
    if ((st = rnn__fbuf_ensure(&a->dkp, (size_t)(N * Tv * U), 1)) ||
        (st = rnn__fbuf_ensure(&a->dqp, (size_t)(N * Tq * U), 1)))
        return st;
    const float *av = rnn__f32(l->param[3]);
    float *dav = l->trainable ? rnn__f32(l->grad[3]) : NULL;
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lq = len_or(ql, n, Tq), Lv = len_or(vl, n, Tv);
        for (int64_t i = 0; i < Lq; i++) {
            const float *dsi = ds + (n * Tq + i) * Tv;
            float *dqp = a->dqp.p + (n * Tq + i) * U;
            for (int64_t j = 0; j < Lv; j++) {
                const float g = dsi[j];
                const float *th = a->th.p + ((n * Tq + i) * Tv + j) * U;
                float *dkp = a->dkp.p + (n * Tv + j) * U;
                for (int64_t u = 0; u < U; u++) {
                    const float gu = g * av[u] * (1.0f - th[u] * th[u]);
                    if (dav)
                        dav[u] += g * th[u];
                    dqp[u] += gu;
                    dkp[u] += gu;
                }
            }
        }
    }
    if (l->trainable) {
        float *db = rnn__f32(l->grad[2]);
        for (int64_t r = 0; r < N * Tv; r++)
            for (int64_t u = 0; u < U; u++)
                db[u] += a->dkp.p[r * U + u];
        if ((st = rnn__matmul(m->ctx, 1, 0, Dq, N * Tq, U, q, a->dqp.p, NULL, 1.0f,
                              rnn__f32(l->grad[0]))) ||
            (st = rnn__matmul(m->ctx, 1, 0, Dv, N * Tv, U, v, a->dkp.p, NULL, 1.0f,
                              rnn__f32(l->grad[1]))))
            return st;
    }
    if (dq && (st = rnn__matmul(m->ctx, 0, 1, N * Tq, U, Dq, a->dqp.p, rnn__f32(l->param[0]), NULL,
                                1.0f, dq)))
        return st;
    if (dv && (st = rnn__matmul(m->ctx, 0, 1, N * Tv, U, Dv, a->dkp.p, rnn__f32(l->param[1]), NULL,
                                1.0f, dv)))
        return st;
    return RNN_OK;
}

static void attention_destroy(rnn_layer *l)
{
    attention *a = l->impl;
    if (a) {
        rnn__fbuf *b[] = {&a->kp, &a->qp, &a->th, &a->dkp, &a->dqp, &a->ds};
        for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
            rnn__fbuf_free(b[i]);
    }
    rnn__free(a);
}

static const void *attention_options(const rnn_layer *l)
{
    return &((const attention *)l->impl)->o;
}

static const rnn__layer_vt attention_vt = {.kind = "attention",
                                           .forward = attention_forward,
                                           .backward = attention_backward,
                                           .destroy = attention_destroy,
                                           .options = attention_options};

int rnn__is_attention(const rnn_layer *l)
{
    return l->vt == &attention_vt;
}

static rnn_status check_operand(rnn_model *m, const char *what, const rnn_layer *p, int o)
{
    const char *f = "rnn_model_add_attention";
    if (!p || p->model != m)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "%s must be a layer of this model", what);
    if (o < 0 || o >= p->n_outputs)
        return rnn__err(RNN_ERR_RANGE, f, "%s_output: layer %s has outputs [0, %d) (got %d)", what,
                        p->name, p->n_outputs, o);
    if (p->out_dtype[o] != RNN_F32 || p->out_features[o] < 1 || !p->out_seq[o] ||
        (rnn__is_attention(p) && o == 1))
        return rnn__err(RNN_ERR_SHAPE, f,
                        "%s (%s, output %d) must be a sequence of feature vectors (N, T, D)", what,
                        p->name, o);
    return RNN_OK;
}

rnn_status rnn_model_add_attention(rnn_model *model, const rnn_attention_options *options,
                                   rnn_layer *query, int query_output, rnn_layer *value,
                                   int value_output, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(options);
    rnn_attention_options o;
    rnn_attention_options_init(&o);
    if (options->struct_size != sizeof o)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->struct_size must be sizeof(rnn_attention_options) = %zu (got "
                        "%u); call rnn_attention_options_init()",
                        sizeof o, (unsigned)options->struct_size);
    o = *options;
    if (o.score < RNN_ATTENTION_DOT || o.score > RNN_ATTENTION_ADDITIVE)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->score must be a rnn_attention_score (got %d)",
                        (int)o.score);
    if (o.units < 0 || o.units > (1 << 20))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->units must be in 0..1048576 (got %lld)",
                        (long long)o.units);
    if (o.scale != 0 && o.scale != 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->scale must be 0 or 1 (got %d)", o.scale);
    if (o.kernel_initializer < RNN_INIT_GLOROT_UNIFORM || o.kernel_initializer > RNN_INIT_ONES)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->kernel_initializer is not a rnn_initializer (got %d)",
                        (int)o.kernel_initializer);
    rnn_status st;
    if ((st = check_operand(model, "query", query, query_output)) ||
        (st = check_operand(model, "value", value, value_output)))
        return st;
    const int64_t Dq = query->out_features[query_output], Dv = value->out_features[value_output];
    if (o.score == RNN_ATTENTION_DOT && Dq != Dv)
        return RNN__ERR(RNN_ERR_SHAPE,
                        "dot attention needs query and value of the same size (query %s has %lld "
                        "features, value %s %lld); use RNN_ATTENTION_GENERAL",
                        query->name, (long long)Dq, value->name, (long long)Dv);
    if (o.score == RNN_ATTENTION_ADDITIVE && o.units == 0)
        o.units = Dv;
    if (o.score != RNN_ATTENTION_ADDITIVE)
        o.units = 0;
    rnn_layer *l;
    if ((st = rnn__layer_new(__func__, &attention_vt, sizeof(attention), &l)))
        return st;
    attention *a = l->impl;
    a->o = o;
    a->Dq = Dq;
    a->Dv = Dv;
    a->U = o.units;
    a->scale = o.scale ? 1.0f / sqrtf((float)Dq) : 1.0f;
    l->input = query;
    l->input_output = query_output;
    l->n_extra = 1;
    l->extra[0] = value;
    l->extra_output[0] = value_output;
    l->n_outputs = 2;
    l->out_dtype[0] = l->out_dtype[1] = RNN_F32;
    l->out_seq[0] = l->out_seq[1] = 1;
    l->out_steps[0] = l->out_steps[1] = query->out_steps[query_output];
    l->out_features[0] = Dv;
    l->out_features[1] = value->out_steps[value_output]; /* 0 when the value length varies */
    const int init = (int)o.kernel_initializer;
    if (o.score == RNN_ATTENTION_GENERAL) {
        int64_t kd[2] = {Dv, Dq};
        if ((st = rnn__layer_add_param(l, "kernel", 2, kd)) ||
            (st = rnn__init_fill(&model->rng, init, rnn__f32(l->param[0]), Dv, Dq)))
            goto fail;
    } else if (o.score == RNN_ATTENTION_ADDITIVE) {
        const int64_t U = o.units;
        int64_t qd[2] = {Dq, U}, vd[2] = {Dv, U}, bd[1] = {U};
        if ((st = rnn__layer_add_param(l, "query_kernel", 2, qd)) ||
            (st = rnn__layer_add_param(l, "value_kernel", 2, vd)) ||
            (st = rnn__layer_add_param(l, "bias", 1, bd)) ||
            (st = rnn__layer_add_param(l, "score_kernel", 1, bd)) ||
            (st = rnn__init_fill(&model->rng, init, rnn__f32(l->param[0]), Dq, U)) ||
            (st = rnn__init_fill(&model->rng, init, rnn__f32(l->param[1]), Dv, U)) ||
            (st = rnn__init_fill(&model->rng, init, rnn__f32(l->param[3]), U, 1)))
            goto fail;
    }
    model->cursor = NULL; /* explicit operands: a pending connect_next does not apply */
    if ((st = rnn__model_append(model, l, "attention")))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
fail:
    rnn__layer_free(l);
    return st;
}
