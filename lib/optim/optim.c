/* SPDX-License-Identifier: Apache-2.0 */
/* Optimizers with Keras' formulas. Updates are element-wise over the
 * canonical parameters, and bump each layer's params_version so backends
 * re-import weights. State slots follow the model's parameter order. */
#include <math.h>
#include <string.h>

#include "model/graph.h"
#include "optim/optimizer.h"


void rnn_optimizer_options_init(rnn_optimizer_options *o, rnn_optimizer_type type)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->type = type;
    o->learning_rate = type == RNN_OPTIM_SGD ? 0.01f : 0.001f;
    o->rho = 0.9f;
    o->beta_1 = 0.9f;
    o->beta_2 = 0.999f;
    o->epsilon = 1e-7f;
    o->weight_decay = type == RNN_OPTIM_ADAMW ? 0.004f : 0.0f;
}

static int count_slots(const rnn_model *m)
{
    return m->n_params;
}

static void free_slots(float **s, int n)
{
    if (!s)
        return;
    for (int i = 0; i < n; i++)
        rnn__free(s[i]);
    rnn__free(s);
}

void rnn_optimizer_destroy(rnn_optimizer *o)
{
    if (!o)
        return;
    free_slots(o->m, o->n_slots);
    free_slots(o->v, o->n_slots);
    rnn__free(o);
}

static rnn_status alloc_slots(rnn_model *m, int n, float ***out)
{
    float **s = rnn__calloc((size_t)(n ? n : 1), sizeof *s);
    if (!s)
        return RNN_ERR_NOMEM;
    for (int k = 0; k < n; k++)
        if (!(s[k] = rnn__calloc(1, m->params[k].value->nbytes))) {
            free_slots(s, n);
            return RNN_ERR_NOMEM;
        }
    *out = s;
    return RNN_OK;
}

static int finite_nonneg(float v)
{
    return isfinite(v) && v >= 0.0f;
}

rnn_status rnn_optimizer_create(rnn_model *m, const rnn_optimizer_options *options,
                                rnn_optimizer **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(options);
    if (options->type < RNN_OPTIM_SGD || options->type > RNN_OPTIM_ADAMW)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->type must be a rnn_optimizer_type (got %d)",
                        (int)options->type);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, options->type);
    rnn_status st = RNN__OPTS_COPY("options", rnn_optimizer_options, &o, options, global_clipnorm);
    if (st)
        return st;
    if (!(o.learning_rate > 0.0f) || !isfinite(o.learning_rate))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->learning_rate must be > 0 (got %g)",
                        (double)o.learning_rate);
    if (!(o.momentum >= 0.0f && o.momentum < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->momentum must be in [0, 1) (got %g)",
                        (double)o.momentum);
    if (!(o.rho >= 0.0f && o.rho < 1.0f) || !(o.beta_1 >= 0.0f && o.beta_1 < 1.0f) ||
        !(o.beta_2 >= 0.0f && o.beta_2 < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->rho, beta_1 and beta_2 must be in [0, 1) (got %g, %g, %g)",
                        (double)o.rho, (double)o.beta_1, (double)o.beta_2);
    if (!(o.epsilon > 0.0f) || !isfinite(o.epsilon) || !finite_nonneg(o.weight_decay) || !finite_nonneg(o.clipnorm) ||
        !finite_nonneg(o.clipvalue) || !finite_nonneg(o.global_clipnorm))
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->epsilon must be > 0 and weight_decay, clipnorm, clipvalue, "
                        "global_clipnorm >= 0 (got %g, %g, %g, %g, %g)",
                        (double)o.epsilon, (double)o.weight_decay, (double)o.clipnorm,
                        (double)o.clipvalue, (double)o.global_clipnorm);
    rnn_optimizer *opt = rnn__calloc(1, sizeof *opt);
    if (!opt)
        return RNN__NOMEM(sizeof *opt);
    opt->o = o;
    opt->model = m;
    opt->n_slots = count_slots(m);
    opt->u_product = 1.0;
    int need_m = o.type != RNN_OPTIM_SGD || o.momentum > 0.0f;
    int need_v = o.type != RNN_OPTIM_SGD;
    if ((need_m && alloc_slots(m, opt->n_slots, &opt->m)) ||
        (need_v && alloc_slots(m, opt->n_slots, &opt->v))) {
        rnn_optimizer_destroy(opt);
        return RNN__ERR(RNN_ERR_NOMEM, "out of memory allocating the optimizer state");
    }
    *out = opt;
    return RNN_OK;
}

/* Gradient clipping, in place: global norm, then per tensor, then value. */
static void clip(rnn_optimizer *opt)
{
    rnn_model *m = opt->model;
    const rnn_optimizer_options *o = &opt->o;
    if (o->global_clipnorm > 0.0f) {
        double sq = 0;
        for (int j = 0; j < m->n_params; j++) {
            const rnn_tensor *g = m->params[j].grad;
            for (int64_t k = 0; m->params[j].layer->trainable && k < g->numel; k++)
                sq += (double)rnn__f32(g)[k] * rnn__f32(g)[k];
        }
        double norm = sqrt(sq);
        if (norm > o->global_clipnorm) {
            float s = (float)(o->global_clipnorm / norm);
            for (int j = 0; j < m->n_params; j++) {
                rnn_tensor *g = m->params[j].grad;
                for (int64_t k = 0; m->params[j].layer->trainable && k < g->numel; k++)
                    rnn__f32(g)[k] *= s;
            }
        }
    }
    for (int j = 0; j < m->n_params; j++) {
        if (!m->params[j].layer->trainable)
            continue;
        rnn_tensor *gt = m->params[j].grad;
        float *g = rnn__f32(gt);
        if (o->clipnorm > 0.0f) {
            double sq = 0;
            for (int64_t k = 0; k < gt->numel; k++)
                sq += (double)g[k] * g[k];
            double norm = sqrt(sq);
            if (norm > o->clipnorm) {
                float s = (float)(o->clipnorm / norm);
                for (int64_t k = 0; k < gt->numel; k++)
                    g[k] *= s;
            }
        }
        if (o->clipvalue > 0.0f)
            for (int64_t k = 0; k < gt->numel; k++)
                g[k] = g[k] > o->clipvalue ? o->clipvalue
                       : g[k] < -o->clipvalue ? -o->clipvalue
                                              : g[k];
    }
}

/* Parameters from this many elements up are updated on the library's
 * threads: an update costs a few nanoseconds per element (Adam's square root
 * and division in double more, vectorised), a parallel region a few
 * microseconds. */
#define OPT_PAR_MIN ((int64_t)8192)

/* One step's constants, the same for every parameter. */
typedef struct upd {
    rnn_optimizer_type type;
    double lr, b1, b2, eps, wd;
    float rho, momentum; /* float, as the options: rho * v and momentum * m round in float */
    int nesterov;
    double u_t, u_t1, u_prod, u_prod1, b2_pow, alpha;
} upd;

/* The update of n elements. Vectorised (`omp simd`), each element still goes
 * through the same double operations in the same order as one at a time, and
 * square root and division are correctly rounded in every width, so every
 * instruction set gives the same bits (tests/unit/test_optim.c checks them
 * against a scalar copy); contraction into FMA would not, hence the pragma
 * (gcc in ISO C mode does not contract anyway). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
__attribute__((always_inline)) static inline void update_body(const upd *u, float *restrict w,
                                                              const float *restrict g,
                                                              float *restrict mm,
                                                              float *restrict vv, int64_t n)
{
    const double lr = u->lr, b1 = u->b1, b2 = u->b2, eps = u->eps;
    switch (u->type) {
    case RNN_OPTIM_SGD:
        if (!mm) {
#pragma omp simd
            for (int64_t k = 0; k < n; k++)
                w[k] -= (float)(lr * g[k]);
            break;
        }
#pragma omp simd
        for (int64_t k = 0; k < n; k++) {
            mm[k] = (float)(u->momentum * mm[k] - lr * g[k]);
            w[k] += u->nesterov ? (float)(u->momentum * mm[k] - lr * g[k]) : mm[k];
        }
        break;
    case RNN_OPTIM_RMSPROP:
#pragma omp simd
        for (int64_t k = 0; k < n; k++) {
            vv[k] = (float)(u->rho * vv[k] + (1.0 - u->rho) * g[k] * g[k]);
            w[k] -= (float)(lr * g[k] / sqrt((double)vv[k] + eps));
        }
        break;
    case RNN_OPTIM_ADAMW:
    case RNN_OPTIM_ADAM: {
        /* AdamW: the decoupled decay first, then Adam's step */
        const double wd = u->wd, alpha = u->alpha;
        if (wd != 0.0) {
#pragma omp simd
            for (int64_t k = 0; k < n; k++)
                w[k] -= (float)(wd * w[k]);
        }
#pragma omp simd
        for (int64_t k = 0; k < n; k++) {
            mm[k] = (float)(b1 * mm[k] + (1.0 - b1) * g[k]);
            vv[k] = (float)(b2 * vv[k] + (1.0 - b2) * g[k] * g[k]);
            w[k] -= (float)(alpha * mm[k] / (sqrt((double)vv[k]) + eps));
        }
        break;
    }
    case RNN_OPTIM_NADAM: {
        const double u_t = u->u_t, u_t1 = u->u_t1, u_prod = u->u_prod, u_prod1 = u->u_prod1;
        const double b2_pow = u->b2_pow;
#pragma omp simd
        for (int64_t k = 0; k < n; k++) {
            mm[k] = (float)(b1 * mm[k] + (1.0 - b1) * g[k]);
            vv[k] = (float)(b2 * vv[k] + (1.0 - b2) * g[k] * g[k]);
            double m_hat = u_t1 * mm[k] / (1.0 - u_prod1) + (1.0 - u_t) * g[k] / (1.0 - u_prod);
            double v_hat = vv[k] / (1.0 - b2_pow);
            w[k] -= (float)(lr * m_hat / (sqrt(v_hat) + eps));
        }
        break;
    }
    }
}

static void update_generic(const upd *u, float *w, const float *g, float *mm, float *vv,
                           int64_t n)
{
    update_body(u, w, g, mm, vv, n);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OPT_X86 1
__attribute__((target("avx512f"))) static void update_avx512(const upd *u, float *w,
                                                            const float *g, float *mm,
                                                            float *vv, int64_t n)
{
    update_body(u, w, g, mm, vv, n);
}
#else
#define OPT_X86 0
#endif

extern int omp_get_num_threads(void);
extern int omp_get_thread_num(void);

/* The update of a whole parameter, split over the threads in equal ranges
 * from OPT_PAR_MIN elements up; AVX-512 where the CPU has it. */
static void update_param(const upd *u, float *w, const float *g, float *mm, float *vv,
                         int64_t n)
{
    void (*fn)(const upd *, float *, const float *, float *, float *, int64_t) =
        update_generic;
#if OPT_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        fn = update_avx512;
#endif
#pragma omp parallel if (n >= OPT_PAR_MIN)
    {
        const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t lo = t * n / nt, hi = (t + 1) * n / nt;
        fn(u, w + lo, g + lo, mm ? mm + lo : NULL, vv ? vv + lo : NULL, hi - lo);
    }
}

rnn_status rnn_optimizer_step(rnn_optimizer *opt)
{
    RNN__CHECK_ARG_AS(opt, "optimizer");
    rnn_model *m = opt->model;
    if (count_slots(m) != opt->n_slots)
        return RNN__ERR(RNN_ERR_STATE,
                        "the model gained layers after the optimizer was created; create the "
                        "optimizer once the model is complete");
    const rnn_optimizer_options *o = &opt->o;
    clip(opt);
    const int64_t t = ++opt->iterations;
    upd u = {.type = o->type,
             .lr = o->learning_rate,
             .b1 = o->beta_1,
             .b2 = o->beta_2,
             .eps = o->epsilon,
             .rho = o->rho,
             .momentum = o->momentum,
             .nesterov = o->nesterov};
    /* Adam: step size with both bias corrections folded in (Keras). */
    u.alpha = u.lr * sqrt(1.0 - pow(u.b2, (double)t)) / (1.0 - pow(u.b1, (double)t));
    u.wd = o->type == RNN_OPTIM_ADAMW ? u.lr * o->weight_decay : 0.0;
    /* Nadam's momentum schedule, Keras 3's: 0.96^t (tf.keras 2 and PyTorch
     * use 0.96^(0.004 t)). */
    u.u_t = u.b1 * (1.0 - 0.5 * pow(0.96, (double)t));
    u.u_t1 = u.b1 * (1.0 - 0.5 * pow(0.96, (double)(t + 1)));
    u.u_prod = opt->u_product * u.u_t, u.u_prod1 = u.u_prod * u.u_t1;
    u.b2_pow = pow(u.b2, (double)t);
    opt->u_product = u.u_prod;
    for (int s = 0; s < m->n_params; s++) {
        if (!m->params[s].layer->trainable)
            continue;
        update_param(&u, rnn__f32(m->params[s].value), rnn__f32(m->params[s].grad),
                     opt->m ? opt->m[s] : NULL, opt->v ? opt->v[s] : NULL,
                     m->params[s].value->numel);
        rnn_layer *l = m->params[s].layer; /* after its last parameter */
        if (s + 1 == m->n_params || m->params[s + 1].layer != l)
            rnn_layer_params_changed(l);
    }
    return RNN_OK;
}

rnn_status rnn_optimizer_iterations(const rnn_optimizer *opt, int64_t *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG_AS(opt, "optimizer");
    *out = opt->iterations;
    return RNN_OK;
}

rnn_status rnn_optimizer_set_learning_rate(rnn_optimizer *opt, float lr)
{
    RNN__CHECK_ARG_AS(opt, "optimizer");
    if (!(lr > 0.0f) || !isfinite(lr))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "learning_rate must be > 0 (got %g)", (double)lr);
    opt->o.learning_rate = lr;
    return RNN_OK;
}

rnn_status rnn_optimizer_learning_rate(const rnn_optimizer *opt, float *out)
{
    RNN__CHECK_ARG(out);
    *out = 0.0f;
    RNN__CHECK_ARG_AS(opt, "optimizer");
    *out = opt->o.learning_rate;
    return RNN_OK;
}
