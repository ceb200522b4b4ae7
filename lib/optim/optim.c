/* SPDX-License-Identifier: Apache-2.0 */
/* Optimizers. Updates are element-wise over the canonical parameters, and
 * bump each layer's params_version so backends re-import weights. */
#include <math.h>
#include <string.h>

#include "model/graph.h"

typedef enum opt_kind { OPT_SGD = 1 } opt_kind;

struct rnn_optimizer {
    opt_kind kind;
    rnn_model *model;
    rnn_sgd_options sgd;
    int n_slots;       /* number of parameter tensors when created */
    float **velocity;  /* per parameter tensor, NULL when momentum is 0 */
};

void rnn_sgd_options_init(rnn_sgd_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->learning_rate = 0.01f;
    o->momentum = 0.0f;
    o->nesterov = 0;
}

static int count_slots(const rnn_model *m)
{
    int n = 0;
    for (int i = 0; i < m->n_layers; i++)
        n += m->layers[i]->n_params;
    return n;
}

void rnn_optimizer_destroy(rnn_optimizer *o)
{
    if (!o)
        return;
    if (o->velocity)
        for (int i = 0; i < o->n_slots; i++)
            rnn__free(o->velocity[i]);
    rnn__free(o->velocity);
    rnn__free(o);
}

rnn_status rnn_optimizer_create_sgd(rnn_model *m, const rnn_sgd_options *options,
                                    rnn_optimizer **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(m);
    rnn_sgd_options so;
    rnn_sgd_options_init(&so);
    if (options) {
        if (options->struct_size < offsetof(rnn_sgd_options, nesterov) + sizeof(int) ||
            options->struct_size > sizeof so)
            return RNN__ERR(RNN_ERR_INVALID_ARG,
                            "options->struct_size must be sizeof(rnn_sgd_options) = %zu (got %u)",
                            sizeof so, (unsigned)options->struct_size);
        memcpy(&so, options, options->struct_size);
        so.struct_size = sizeof so;
    }
    if (!(so.learning_rate > 0.0f) || !isfinite(so.learning_rate))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->learning_rate must be > 0 (got %g)",
                        (double)so.learning_rate);
    if (!(so.momentum >= 0.0f && so.momentum < 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->momentum must be in [0, 1) (got %g)",
                        (double)so.momentum);
    rnn_optimizer *o = rnn__calloc(1, sizeof *o);
    if (!o)
        return RNN__NOMEM(sizeof *o);
    o->kind = OPT_SGD;
    o->model = m;
    o->sgd = so;
    o->n_slots = count_slots(m);
    if (so.momentum > 0.0f && o->n_slots > 0) {
        o->velocity = rnn__calloc((size_t)o->n_slots, sizeof *o->velocity);
        if (!o->velocity)
            goto nomem;
        int s = 0;
        for (int i = 0; i < m->n_layers; i++)
            for (int p = 0; p < m->layers[i]->n_params; p++, s++) {
                o->velocity[s] = rnn__calloc(1, m->layers[i]->param[p]->nbytes);
                if (!o->velocity[s])
                    goto nomem;
            }
    }
    *out = o;
    return RNN_OK;
nomem:
    rnn_optimizer_destroy(o);
    return RNN__ERR(RNN_ERR_NOMEM, "out of memory allocating the optimizer state");
}

rnn_status rnn_optimizer_step(rnn_optimizer *o)
{
    RNN__CHECK_ARG(o);
    rnn_model *m = o->model;
    if (count_slots(m) != o->n_slots)
        return RNN__ERR(RNN_ERR_STATE,
                        "the model gained layers after the optimizer was created; create the "
                        "optimizer once the model is complete");
    const float lr = o->sgd.learning_rate, mu = o->sgd.momentum;
    int s = 0;
    for (int i = 0; i < m->n_layers; i++) {
        rnn_layer *l = m->layers[i];
        if (!l->trainable) {
            s += l->n_params;
            continue;
        }
        for (int p = 0; p < l->n_params; p++, s++) {
            float *w = rnn__f32(l->param[p]);
            const float *g = rnn__f32(l->grad[p]);
            int64_t n = l->param[p]->numel;
            if (!o->velocity) {
                for (int64_t k = 0; k < n; k++)
                    w[k] -= lr * g[k];
                continue;
            }
            float *v = o->velocity[s];
            for (int64_t k = 0; k < n; k++) {
                v[k] = mu * v[k] - lr * g[k];
                w[k] += o->sgd.nesterov ? mu * v[k] - lr * g[k] : v[k];
            }
        }
        if (l->n_params)
            rnn_layer_params_changed(l);
    }
    return RNN_OK;
}
