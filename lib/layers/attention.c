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

#include "layer/layer.h"
#include "model/add.h"

typedef struct attention {
    int64_t Dq, Dv, U; /* U: additive hidden units */
    float scale;
    rnn__fbuf kp;  /* general: values projected (N*Tv, Dq); additive: (N*Tv, U) incl. bias */
    rnn__fbuf qp;  /* additive: queries projected (N*Tq, U) */
    rnn__fbuf th;  /* additive, training: tanh terms (N, Tq, Tv, U) */
    rnn__fbuf dkp, dqp, ds; /* backward work */
    int64_t N, Tq, Tv;
    int have_th;
} attention;

/* Indexed by rnn_attention_score. */
static const char *const SCORES[] = {"dot", "general", "additive"};

static const rnn__field FIELDS[] = {
    RNN__ENUM(rnn_attention_options, score, SCORES),
    RNN__INT(rnn_attention_options, units, 0, 1 << 20),
    RNN__BOOL(rnn_attention_options, scale),
    RNN__ENUM(rnn_attention_options, kernel_initializer, rnn__init_names),
    RNN__FIELDS_END,
};

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

/* Additive hidden units (0 for the other scores): units, or the value's size. */
static int64_t units_of(const rnn_attention_options *o, int64_t Dv)
{
    if (o->score != RNN_ATTENTION_ADDITIVE)
        return 0;
    return o->units ? o->units : Dv;
}

static const char *attention_type(const void *opts)
{
    const rnn_attention_options *o = opts;
    return o->score == RNN_ATTENTION_ADDITIVE  ? "AdditiveAttention"
           : o->score == RNN_ATTENTION_GENERAL ? "LuongGeneralAttention"
                                               : "Attention";
}

static rnn_status attention_infer(const char *func, const void *opts, int n_in,
                                  const rnn__src *in, rnn__spec *s)
{
    (void)n_in;
    const rnn_attention_options *o = opts;
    static const char *const what[2] = {"query", "value"};
    for (int k = 0; k < 2; k++)
        if (in[k].d.dtype != RNN_F32 || in[k].d.features < 1 || !in[k].d.seq || in[k].d.aux)
            return rnn__err(RNN_ERR_SHAPE, func,
                            "%s (%s) must be a sequence of feature vectors (N, T, D)", what[k],
                            in[k].name);
    const int64_t Dq = in[0].d.features, Dv = in[1].d.features, U = units_of(o, Dv);
    if (o->score == RNN_ATTENTION_DOT && Dq != Dv)
        return rnn__err(RNN_ERR_SHAPE, func,
                        "dot attention needs query and value of the same size (query %s has %lld "
                        "features, value %s %lld); use RNN_ATTENTION_GENERAL",
                        in[0].name, (long long)Dq, in[1].name, (long long)Dv);
    s->n_outputs = 2;
    s->out[0] = (rnn__desc){RNN_F32, 1, in[0].d.steps, Dv, 0};
    /* The weights: one per value step (0 when the value length varies). */
    s->out[1] = (rnn__desc){RNN_F32, 1, in[0].d.steps, in[1].d.steps, 1};
    if (o->score == RNN_ATTENTION_GENERAL) {
        s->n_params = 1;
        s->param_name[0] = "kernel";
        s->param_rank[0] = 2;
        s->param_dims[0][0] = Dv;
        s->param_dims[0][1] = Dq;
    } else if (o->score == RNN_ATTENTION_ADDITIVE) {
        static const char *const names[4] = {"query_kernel", "value_kernel", "bias",
                                             "score_kernel"};
        const int64_t rows[4] = {Dq, Dv, U, U};
        s->n_params = 4;
        for (int p = 0; p < 4; p++) {
            s->param_name[p] = names[p];
            s->param_rank[p] = p < 2 ? 2 : 1;
            s->param_dims[p][0] = rows[p];
            s->param_dims[p][1] = U;
        }
    }
    s->base = "attention";
    return RNN_OK;
}

static rnn_status attention_build(rnn_layer *l)
{
    const rnn_attention_options *o = l->opts;
    attention *a = l->impl;
    a->Dq = rnn__port_src(l->in[0]).d.features;
    a->Dv = rnn__port_src(l->in[1]).d.features;
    a->U = units_of(o, a->Dv);
    a->scale = o->scale ? 1.0f / sqrtf((float)a->Dq) : 1.0f;
    return RNN_OK;
}

static rnn_status attention_init(rnn_layer *l, rnn__rng *rng)
{
    const rnn_attention_options *o = l->opts;
    const attention *a = l->impl;
    const int init = (int)o->kernel_initializer;
    rnn_status st = RNN_OK;
    if (o->score == RNN_ATTENTION_GENERAL) {
        st = rnn__init_fill(rng, init, rnn__f32(l->param[0]), a->Dv, a->Dq);
    } else if (o->score == RNN_ATTENTION_ADDITIVE) { /* the bias stays zero */
        if (!(st = rnn__init_fill(rng, init, rnn__f32(l->param[0]), a->Dq, a->U)) &&
            !(st = rnn__init_fill(rng, init, rnn__f32(l->param[1]), a->Dv, a->U)))
            st = rnn__init_fill(rng, init, rnn__f32(l->param[3]), a->U, 1);
    }
    return st;
}

static inline int64_t len_or(const int32_t *len, int64_t n, int64_t T)
{
    return len ? len[n] : T;
}

static rnn_status attention_forward(rnn_layer *l, const rnn__run *r)
{
    const rnn_attention_options *o = l->opts;
    attention *a = l->impl;
    const int training = r->training;
    const rnn_tensor *qt = rnn__layer_input(l, 0), *vt = rnn__layer_input(l, 1);
    const int32_t *ql = rnn__layer_input_len(l, 0), *vl = rnn__layer_input_len(l, 1);
    const int64_t N = qt->dims[0], Tq = qt->dims[1], Tv = vt->dims[1];
    const int64_t Dq = a->Dq, Dv = a->Dv, U = a->U;
    if (vt->dims[0] != N)
        return rnn__err(RNN_ERR_SHAPE, NULL, "the query has batch size %lld, the value %lld",
                        (long long)N, (long long)vt->dims[0]);
    const float *q = rnn__f32(qt), *v = rnn__f32(vt);
    rnn_status st;
    int64_t cd[3] = {N, Tq, Dv}, wd[3] = {N, Tq, Tv};
    if ((st = rnn__tensor_ensure(&l->out[0], 3, cd, 1)) ||
        (st = rnn__tensor_ensure(&l->out[1], 3, wd, 1)))
        return st;
    float *c = rnn__f32(l->out[0]), *w = rnn__f32(l->out[1]);
    const rnn_attention_score sc = o->score;
    const float *keys = v; /* rows of width Dk compared with the queries */
    int64_t Dk = Dv;
    if (sc == RNN_ATTENTION_GENERAL) {
        if ((st = rnn__fbuf_ensure(&a->kp, (size_t)(N * Tv * Dq), 0)) ||
            (st = rnn__matmul(r->ctx, 0, 0, N * Tv, Dv, Dq, v, rnn__f32(l->param[0]), NULL, 0.0f,
                              a->kp.p)))
            return st;
        keys = a->kp.p;
        Dk = Dq;
    } else if (sc == RNN_ATTENTION_ADDITIVE) {
        if ((st = rnn__fbuf_ensure(&a->kp, (size_t)(N * Tv * U), 0)) ||
            (st = rnn__fbuf_ensure(&a->qp, (size_t)(N * Tq * U), 0)) ||
            (st = rnn__matmul(r->ctx, 0, 0, N * Tv, Dv, U, v, rnn__f32(l->param[1]),
                              rnn__f32(l->param[2]), 0.0f, a->kp.p)) ||
            (st = rnn__matmul(r->ctx, 0, 0, N * Tq, Dq, U, q, rnn__f32(l->param[0]), NULL, 0.0f,
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

/* The inputs, lengths, input gradients (NULL if not wanted) and dS of a backward. */
typedef struct attn_grads {
    const float *q, *v;
    const int32_t *ql, *vl;
    float *dq, *dv;
    float *ds; /* (N, Tq, Tv): the gradient of the scores (after scaling) */
} attn_grads;

/* dS from the contexts' (gc) and weights' (gw) gradients, and dv through the contexts. */
static void score_grads(const attention *a, const attn_grads *g, const float *w, const float *gc,
                        const float *gw)
{
    const int64_t N = a->N, Tq = a->Tq, Tv = a->Tv, Dv = a->Dv;
    const float *v = g->v;
    float *ds = g->ds, *dv = g->dv;
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lq = len_or(g->ql, n, Tq), Lv = len_or(g->vl, n, Tv);
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
}

/* Dot score s_ij = q_i . v_j: the query and value gradients from dS. */
static void dot_backward(const attention *a, const attn_grads *g)
{
    const int64_t N = a->N, Tq = a->Tq, Tv = a->Tv, Dq = a->Dq, Dv = a->Dv;
    const float *q = g->q, *v = g->v, *ds = g->ds;
    float *dq = g->dq, *dv = g->dv;
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lq = len_or(g->ql, n, Tq), Lv = len_or(g->vl, n, Tv);
        for (int64_t i = 0; i < Lq; i++) {
            const float *dsi = ds + (n * Tq + i) * Tv, *qi = q + (n * Tq + i) * Dq;
            float *dqi = dq ? dq + (n * Tq + i) * Dq : NULL;
            for (int64_t j = 0; j < Lv; j++) {
                const float gs = dsi[j] * a->scale;
                const float *vj = v + (n * Tv + j) * Dv;
                if (dqi)
                    for (int64_t d = 0; d < Dq; d++)
                        dqi[d] += gs * vj[d];
                if (dv) {
                    float *dvj = dv + (n * Tv + j) * Dv;
                    for (int64_t d = 0; d < Dv; d++)
                        dvj[d] += gs * qi[d];
                }
            }
        }
    }
}

/* General score s_ij = q_i . (v_j W): the query, value and W gradients from dS. */
static rnn_status general_backward(rnn_layer *l, const rnn__run *r, const attn_grads *g)
{
    attention *a = l->impl;
    const int64_t N = a->N, Tq = a->Tq, Tv = a->Tv, Dq = a->Dq, Dv = a->Dv;
    const float *q = g->q, *v = g->v, *ds = g->ds;
    float *dq = g->dq, *dv = g->dv;
    rnn_status st;
    /* keys kp = v W (N*Tv, Dq): dq += dS kp, dkp = dS^T q, dW += v^T dkp, dv += dkp W^T */
    if ((st = rnn__fbuf_ensure(&a->dkp, (size_t)(N * Tv * Dq), 1)))
        return st;
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lq = len_or(g->ql, n, Tq), Lv = len_or(g->vl, n, Tv);
        for (int64_t i = 0; i < Lq; i++) {
            const float *dsi = ds + (n * Tq + i) * Tv, *qi = q + (n * Tq + i) * Dq;
            float *dqi = dq ? dq + (n * Tq + i) * Dq : NULL;
            for (int64_t j = 0; j < Lv; j++) {
                const float gs = dsi[j] * a->scale;
                const float *kj = a->kp.p + (n * Tv + j) * Dq;
                float *dkj = a->dkp.p + (n * Tv + j) * Dq;
                for (int64_t d = 0; d < Dq; d++) {
                    if (dqi)
                        dqi[d] += gs * kj[d];
                    dkj[d] += gs * qi[d];
                }
            }
        }
    }
    if (l->trainable && (st = rnn__matmul(r->ctx, 1, 0, Dv, N * Tv, Dq, v, a->dkp.p, NULL, 1.0f,
                                          rnn__f32(l->grad[0]))))
        return st;
    if (dv && (st = rnn__matmul(r->ctx, 0, 1, N * Tv, Dq, Dv, a->dkp.p, rnn__f32(l->param[0]),
                                NULL, 1.0f, dv)))
        return st;
    return RNN_OK;
}

/* Additive score a . tanh(qp_i + kp_j): the query, value and parameter gradients from dS. */
static rnn_status additive_backward(rnn_layer *l, const rnn__run *r, const attn_grads *g)
{
    attention *a = l->impl;
    const int64_t N = a->N, Tq = a->Tq, Tv = a->Tv, Dq = a->Dq, Dv = a->Dv, U = a->U;
    const float *q = g->q, *v = g->v, *ds = g->ds;
    float *dq = g->dq, *dv = g->dv;
    rnn_status st;
    if ((st = rnn__fbuf_ensure(&a->dkp, (size_t)(N * Tv * U), 1)) ||
        (st = rnn__fbuf_ensure(&a->dqp, (size_t)(N * Tq * U), 1)))
        return st;
    const float *av = rnn__f32(l->param[3]);
    float *dav = l->trainable ? rnn__f32(l->grad[3]) : NULL;
    for (int64_t n = 0; n < N; n++) {
        const int64_t Lq = len_or(g->ql, n, Tq), Lv = len_or(g->vl, n, Tv);
        for (int64_t i = 0; i < Lq; i++) {
            const float *dsi = ds + (n * Tq + i) * Tv;
            float *dqp = a->dqp.p + (n * Tq + i) * U;
            for (int64_t j = 0; j < Lv; j++) {
                const float gs = dsi[j];
                const float *th = a->th.p + ((n * Tq + i) * Tv + j) * U;
                float *dkp = a->dkp.p + (n * Tv + j) * U;
                for (int64_t u = 0; u < U; u++) {
                    const float gu = gs * av[u] * (1.0f - th[u] * th[u]);
                    if (dav)
                        dav[u] += gs * th[u];
                    dqp[u] += gu;
                    dkp[u] += gu;
                }
            }
        }
    }
    if (l->trainable) {
        float *db = rnn__f32(l->grad[2]);
        for (int64_t i = 0; i < N * Tv; i++)
            for (int64_t u = 0; u < U; u++)
                db[u] += a->dkp.p[i * U + u];
        if ((st = rnn__matmul(r->ctx, 1, 0, Dq, N * Tq, U, q, a->dqp.p, NULL, 1.0f,
                              rnn__f32(l->grad[0]))) ||
            (st = rnn__matmul(r->ctx, 1, 0, Dv, N * Tv, U, v, a->dkp.p, NULL, 1.0f,
                              rnn__f32(l->grad[1]))))
            return st;
    }
    if (dq && (st = rnn__matmul(r->ctx, 0, 1, N * Tq, U, Dq, a->dqp.p, rnn__f32(l->param[0]), NULL,
                                1.0f, dq)))
        return st;
    if (dv && (st = rnn__matmul(r->ctx, 0, 1, N * Tv, U, Dv, a->dkp.p, rnn__f32(l->param[1]), NULL,
                                1.0f, dv)))
        return st;
    return RNN_OK;
}

static rnn_status attention_backward(rnn_layer *l, const rnn__run *r)
{
    const rnn_attention_options *o = l->opts;
    attention *a = l->impl;
    const rnn_tensor *qt = rnn__layer_input(l, 0), *vt = rnn__layer_input(l, 1);
    const int64_t N = a->N, Tq = a->Tq, Tv = a->Tv;
    const float *w = rnn__f32(l->out[1]), *gc = rnn__f32(l->dout[0]), *gw = rnn__f32(l->dout[1]);
    rnn_tensor *dqt = rnn__layer_din(l), *dvt = rnn__layer_input_grad(l, 1);
    const rnn_attention_score sc = o->score;
    rnn_status st;
    if (sc == RNN_ATTENTION_ADDITIVE && !a->have_th)
        return rnn__err(RNN_ERR_STATE, NULL, "no training forward");
    /* dS (N, Tq, Tv): the gradient of the scores (after scaling). */
    if ((st = rnn__fbuf_ensure(&a->ds, (size_t)(N * Tq * Tv), 1)))
        return st;
    const attn_grads g = {.q = rnn__f32(qt), .v = rnn__f32(vt),
                          .ql = rnn__layer_input_len(l, 0), .vl = rnn__layer_input_len(l, 1),
                          .dq = dqt ? rnn__f32(dqt) : NULL, .dv = dvt ? rnn__f32(dvt) : NULL,
                          .ds = a->ds.p};
    score_grads(a, &g, w, gc, gw);
    if (sc == RNN_ATTENTION_DOT) {
        dot_backward(a, &g);
        return RNN_OK;
    }
    if (sc == RNN_ATTENTION_GENERAL)
        return general_backward(l, r, &g);
    return additive_backward(l, r, &g);
}

static const char *attention_step_check(const rnn_layer *l, const int *in_step)
{
    (void)l;
    if (in_step[1])
        return "it attends over values that depend on the token input; step-wise decoding "
               "needs them fixed (an encoder's outputs)";
    return NULL;
}

static void attention_destroy(rnn_layer *l)
{
    attention *a = l->impl;
    rnn__fbuf *b[] = {&a->kp, &a->qp, &a->th, &a->dkp, &a->dqp, &a->ds};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        rnn__fbuf_free(b[i]);
}

static void options_init(void *o)
{
    rnn_attention_options_init(o);
}

const rnn__layer_ops rnn__attention_ops = {
    .kind = "attention",
    .type_name = attention_type,
    .options_size = sizeof(rnn_attention_options),
    .options_init = options_init,
    .fields = FIELDS,
    .min_in = 2,
    .max_in = 2,
    .impl_size = sizeof(attention),
    .infer = attention_infer,
    .build = attention_build,
    .init_params = attention_init,
    .forward = attention_forward,
    .backward = attention_backward,
    .step_check = attention_step_check,
    .destroy = attention_destroy,
};

static rnn_status check_operand(rnn_model *m, const char *what, const rnn_layer *p, int o)
{
    const char *f = "rnn_model_add_attention";
    if (!p || p->model != m)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "%s must be a layer of this model", what);
    if (o < 0 || o >= p->n_outputs)
        return rnn__err(RNN_ERR_RANGE, f, "%s_output: layer %s has outputs [0, %d) (got %d)", what,
                        p->name, p->n_outputs, o);
    if (p->out_dtype[o] != RNN_F32 || p->out_features[o] < 1 || !p->out_seq[o] || p->out_aux[o])
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
    rnn_status st0 = RNN__OPTS_COPY("options", rnn_attention_options, &o, options,
                                    kernel_initializer);
    if (st0)
        return st0;
    /* The options before the operands (as the other constructors check them first). */
    rnn_status st = rnn__fields_check(__func__, rnn__attention_ops.fields, &o);
    if (st)
        return st;
    if ((st = check_operand(model, "query", query, query_output)) ||
        (st = check_operand(model, "value", value, value_output)))
        return st;
    /* The options keep the units in use (the value's size by default). */
    o.units = units_of(&o, value->out_features[value_output]);
    const rnn__port in[2] = {{query, query_output}, {value, value_output}};
    return rnn__model_add(__func__, model, &rnn__attention_ops, &o, 2, in, out);
}
