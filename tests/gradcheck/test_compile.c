/* SPDX-License-Identifier: Apache-2.0 */
/* lib/train/compile.c and lib/optim/optim.c through the public API: one rnn_model_train_step
 * on a GRU -> Dense model, for every loss (probabilities and logits, both reductions, vector and
 * per-step outputs with lengths) and every optimizer. The gradient the step leaves in the
 * parameters must be the central difference of the loss rnn_model_test_step reports at the
 * parameters before the step, and the step must be the optimizer's first update (Keras'
 * formulas, in double) applied to that gradient. */
#include <math.h>

#include "../layers/rnn_test_model.h"
#include "gc_tests.h"
#include "gradcheck.h"

enum { N = 4, T = 5, I = 3, C = 3, MAXP = 8 };
static const int32_t LV[N] = {5, 2, 4, 3};

typedef struct step_case {
    rnn_model *m;
    rnn_tensor *x, *len, *y;
} step_case;

static rnn_activation output_activation(rnn_loss_type type, int logits)
{
    if (logits)
        return RNN_ACT_LINEAR;
    switch (type) {
    case RNN_LOSS_BINARY_CROSSENTROPY: return RNN_ACT_SIGMOID;
    case RNN_LOSS_MEAN_SQUARED_ERROR: return RNN_ACT_TANH;
    default: return RNN_ACT_SOFTMAX;
    }
}

static void build(step_case *s, rnn_loss_type type, int logits, rnn_reduction red, int seq,
                  const rnn_optimizer_options *oo)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 17;
    ck_ok(rnn_model_create(&mo, &s->m));
    int64_t sh[2] = {0, I};
    ck_ok(rnn_model_add_input(s->m, RNN_F32, 2, sh, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = 4, r.return_sequences = seq;
    ck_ok(rnn_model_add_recurrent(s->m, &r, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = C, d.activation = output_activation(type, logits);
    ck_ok(rnn_model_add_dense(s->m, &d, NULL));
    rnn_compile_options co;
    rnn_compile_options_init(&co, type);
    co.from_logits = logits, co.reduction = red;
    ck_ok(rnn_model_compile(s->m, &co, oo));
    int64_t xd[3] = {N, T, I}, ld[1] = {N}, yd[3] = {N, T, C};
    tm_rng = 0xC0Dull + (uint64_t)type * 7 + (uint64_t)logits;
    s->x = tm_tensor(3, xd, 1.0);
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &s->len));
    memcpy(tm_f(s->len), LV, sizeof LV);
    /* targets: class ids (N) / (N, T), or values shaped as the output */
    const int yrank = seq ? 3 : 2;
    int64_t ydims[3] = {N, seq ? T : C, C};
    if (type == RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
        ck_ok(rnn_tensor_create(RNN_I32, yrank - 1, ydims, &s->y));
        int32_t *y = (int32_t *)tm_f(s->y);
        for (int64_t i = 0; i < tm_numel(s->y); i++)
            y[i] = (int32_t)((i * 7 + 1) % C);
    } else {
        ck_ok(rnn_tensor_create(RNN_F32, yrank, seq ? yd : ydims, &s->y));
        float *y = tm_f(s->y);
        for (int64_t i = 0; i < tm_numel(s->y); i++)
            y[i] = (float)(0.5 + 0.5 * tm_uniform());
        if (type == RNN_LOSS_CATEGORICAL_CROSSENTROPY) /* distributions */
            for (int64_t row = 0; row < tm_numel(s->y) / C; row++) {
                double sum = 0;
                for (int k = 0; k < C; k++)
                    sum += y[row * C + k];
                for (int k = 0; k < C; k++)
                    y[row * C + k] = (float)(y[row * C + k] / sum);
            }
    }
}

static void destroy(step_case *s)
{
    rnn_tensor_destroy(s->x);
    rnn_tensor_destroy(s->len);
    rnn_tensor_destroy(s->y);
    rnn_model_destroy(s->m);
}

typedef struct loss_at {
    step_case *s;
    rnn_layer *l;
} loss_at;

static double test_loss(void *p)
{
    loss_at *a = p;
    ck_ok(rnn_layer_params_changed(a->l));
    const rnn_tensor *in[1] = {a->s->x}, *len[1] = {a->s->len};
    float loss;
    ck_ok(rnn_model_test_step(a->s->m, 1, in, len, a->s->y, &loss, NULL));
    return loss;
}

/* The first update of optimizer o on parameter p with gradient g (Keras' formulas). */
static double first_step(const rnn_optimizer_options *o, double p, double g)
{
    const double lr = o->learning_rate, b1 = o->beta_1, b2 = o->beta_2, eps = o->epsilon;
    switch (o->type) {
    case RNN_OPTIM_SGD: return p + (o->nesterov ? -(1 + (double)o->momentum) * lr * g : -lr * g);
    case RNN_OPTIM_RMSPROP: return p - lr * g / sqrt((1 - (double)o->rho) * g * g + eps);
    case RNN_OPTIM_ADAMW: p -= lr * o->weight_decay * p; /* fall through */
    case RNN_OPTIM_ADAM: {
        double m = (1 - b1) * g, v = (1 - b2) * g * g;
        return p - lr * sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps);
    }
    case RNN_OPTIM_NADAM: {
        double u1 = b1 * (1 - 0.5 * pow(0.96, 1.0)), u2 = b1 * (1 - 0.5 * pow(0.96, 2.0));
        double m = (1 - b1) * g, v = (1 - b2) * g * g;
        double mh = u2 * m / (1 - u1 * u2) + (1 - u1) * g / (1 - u1), vh = v / (1 - b2);
        return p - lr * mh / (sqrt(vh) + eps);
    }
    }
    ck_abort_msg("optimizer type %d", (int)o->type);
    return p;
}

static void check_step(rnn_loss_type type, int logits, rnn_reduction red, int seq,
                       const rnn_optimizer_options *oo, const char *oname)
{
    step_case s;
    build(&s, type, logits, red, seq, oo);
    /* Parameters before the step, the step, the gradient it used and where it went. */
    int nl;
    ck_ok(rnn_model_num_layers(s.m, &nl));
    rnn_tensor *before[MAXP], *after[MAXP], *grad[MAXP];
    rnn_layer *owner[MAXP];
    int pidx[MAXP], np = 0;
    for (int li = 0; li < nl; li++) {
        rnn_layer *l;
        ck_ok(rnn_model_layer(s.m, li, &l));
        int n;
        ck_ok(rnn_layer_num_params(l, &n));
        for (int p = 0; p < n; p++, np++) {
            ck_assert_int_lt(np, MAXP);
            rnn_tensor *v;
            ck_ok(rnn_layer_param(l, p, NULL, &v, NULL));
            ck_ok(rnn_tensor_clone(v, &before[np]));
            owner[np] = l, pidx[np] = p;
        }
    }
    const rnn_tensor *in[1] = {s.x}, *len[1] = {s.len};
    float loss;
    ck_ok(rnn_model_train_step(s.m, 1, in, len, s.y, &loss, NULL));
    for (int k = 0; k < np; k++) {
        rnn_tensor *v, *g;
        ck_ok(rnn_layer_param(owner[k], pidx[k], NULL, &v, &g));
        ck_ok(rnn_tensor_clone(v, &after[k]));
        ck_ok(rnn_tensor_clone(g, &grad[k]));
        ck_ok(rnn_tensor_copy(v, before[k])); /* back to where the gradient was taken */
        ck_ok(rnn_layer_params_changed(owner[k]));
    }
    char what[128];
    snprintf(what, sizeof what, "train_step loss %d%s reduction %d %s, %s", type,
             logits ? " logits" : "", red, seq ? "per step" : "vector", oname);
    gc_options o;
    gc_options_init(&o);
    o.rtol = 1e-2, o.atol = 2e-4; /* the loss is a float */
    for (int k = 0; k < np; k++) {
        rnn_tensor *v;
        const char *pname;
        ck_ok(rnn_layer_param(owner[k], pidx[k], &pname, &v, NULL));
        int64_t dims[RNN_MAX_RANK];
        int rank;
        ck_ok(rnn_tensor_shape(v, dims, RNN_MAX_RANK, &rank));
        loss_at a = {&s, owner[k]};
        char w[160];
        snprintf(w, sizeof w, "%s: %s", what, pname);
        o.quiet = 1;
        gc_scalar(test_loss, &a, tm_f(v), tm_f(grad[k]), rank, dims, tm_numel(v), &o, w);
        ck_ok(rnn_layer_params_changed(owner[k]));
        /* the update */
        for (int64_t i = 0; i < tm_numel(v); i++) {
            double want = first_step(oo, tm_f(before[k])[i], tm_f(grad[k])[i]);
            double got = tm_f(after[k])[i];
            ck_assert_msg(fabs(got - want) <= 1e-6 + 1e-5 * fabs(want),
                          "%s: %s[%lld] moved from %.8g to %.8g, the optimizer's step gives %.8g",
                          what, pname, (long long)i, (double)tm_f(before[k])[i], got, want);
        }
        rnn_tensor_destroy(before[k]);
        rnn_tensor_destroy(after[k]);
        rnn_tensor_destroy(grad[k]);
    }
    printf("gradcheck %s: every parameter and its update\n", what);
    destroy(&s);
}

START_TEST(every_loss)
{
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_SGD);
    oo.learning_rate = 0.1f;
    for (int type = RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY; type <= RNN_LOSS_MEAN_SQUARED_ERROR;
         type++)
        for (int logits = 0; logits < 2; logits++)
            for (int red = 0; red < 2; red++)
                for (int seq = 0; seq < 2; seq++) {
                    if (logits && type == RNN_LOSS_MEAN_SQUARED_ERROR)
                        continue;
                    check_step((rnn_loss_type)type, logits, (rnn_reduction)red, seq, &oo, "SGD");
                }
}
END_TEST

START_TEST(every_optimizer)
{
    static const struct {
        rnn_optimizer_type type;
        float momentum;
        int nesterov;
        const char *name;
    } O[] = {{RNN_OPTIM_SGD, 0, 0, "SGD"},         {RNN_OPTIM_SGD, 0.9f, 0, "SGD momentum"},
             {RNN_OPTIM_SGD, 0.9f, 1, "SGD Nesterov"}, {RNN_OPTIM_RMSPROP, 0, 0, "RMSprop"},
             {RNN_OPTIM_ADAM, 0, 0, "Adam"},       {RNN_OPTIM_NADAM, 0, 0, "Nadam"},
             {RNN_OPTIM_ADAMW, 0, 0, "AdamW"}};
    for (size_t k = 0; k < sizeof O / sizeof O[0]; k++) {
        rnn_optimizer_options oo;
        rnn_optimizer_options_init(&oo, O[k].type);
        oo.momentum = O[k].momentum, oo.nesterov = O[k].nesterov;
        check_step(RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, 0, RNN_REDUCTION_MASKED_MEAN, 1, &oo,
                   O[k].name);
    }
}
END_TEST

void gc_add_compile(TCase *tc)
{
    tcase_add_test(tc, every_loss);
    tcase_add_test(tc, every_optimizer);
}
