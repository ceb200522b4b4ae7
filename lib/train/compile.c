/* SPDX-License-Identifier: Apache-2.0 */
/* compile, train_step, test_step: the loss on output 0 and the model's own
 * optimizer. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/dist.h"
#include "train/train.h"

void rnn_compile_options_init(rnn_compile_options *o, rnn_loss_type loss)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->loss = loss;
    o->from_logits = 0;
    o->reduction = RNN_REDUCTION_MEAN;
}

/* What compile attached to the model, released with it. */
static void release_train(rnn_model *m)
{
    rnn_optimizer_destroy(m->optimizer);
    rnn_tensor_destroy(m->loss_grad);
    m->optimizer = NULL;
    m->loss_grad = NULL;
}

rnn_status rnn_model_compile(rnn_model *m, const rnn_compile_options *options,
                             const struct rnn_optimizer_options *optimizer)
{
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(options);
    RNN__CHECK_ARG(optimizer);
    rnn_compile_options o;
    rnn_compile_options_init(&o, options->loss);
    rnn_status st = RNN__OPTS_COPY("options", rnn_compile_options, &o, options, reduction);
    if (st)
        return st;
    if (o.loss < RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY || o.loss > RNN_LOSS_MEAN_SQUARED_ERROR)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->loss must be a rnn_loss_type (got %d)",
                        (int)o.loss);
    if (o.from_logits != 0 && o.from_logits != 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->from_logits must be 0 or 1 (got %d)",
                        o.from_logits);
    if (o.reduction != RNN_REDUCTION_MEAN && o.reduction != RNN_REDUCTION_MASKED_MEAN)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "options->reduction must be a rnn_reduction (got %d)",
                        (int)o.reduction);
    if (m->n_layers < 2)
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    rnn_optimizer *opt = NULL;
    st = rnn_optimizer_create(m, optimizer, &opt);
    if (st)
        return RNN__WRAP(st, "optimizer");
    rnn_optimizer_destroy(m->optimizer);
    m->optimizer = opt;
    m->loss = (rnn__loss_cfg){o.loss, o.from_logits != 0, o.reduction};
    m->compiled = 1;
    m->release_train = release_train;
    return RNN_OK;
}

/* The first trainable parameter whose gradient holds an Inf or a NaN, or
 * NULL: an update from it would poison the weights. (x * 0 is NaN exactly
 * when x is not finite, else 0, so the sum is NaN or 0 in any order: the
 * simd reduction may split it, which plain C forbids the compiler to do.) */
const rnn__param *rnn__nonfinite_grad(const rnn_model *m)
{
    for (int k = 0; k < m->n_params; k++) {
        const rnn__param *p = &m->params[k];
        if (!p->layer->trainable)
            continue;
        const float *g = rnn__f32(p->grad);
        const int64_t n = p->grad->numel;
        float z = 0.0f;
#pragma omp simd reduction(+ : z)
        for (int64_t i = 0; i < n; i++)
            z += g[i] * 0.0f;
        if (z != 0.0f)
            return p;
    }
    return NULL;
}

rnn_status rnn__forward_loss(const char *func, rnn_model *m, int num_inputs,
                             const rnn_tensor *const *inputs, const rnn_tensor *const *lengths,
                             const rnn_tensor *targets, int train, double *loss, double *accuracy,
                             rnn__loss_stats *stats)
{
    rnn_status st = rnn_model_forward(m, num_inputs, inputs, lengths, train);
    if (st)
        return rnn__err_wrap(st, func, NULL);
    const rnn__port out0 = rnn__model_output_port(m, 0);
    const rnn_tensor *pred = out0.layer->out[out0.output];
    if (train && (st = rnn__tensor_ensure(&m->loss_grad, pred->rank, pred->dims, 0)))
        return rnn__err_wrap(st, func, NULL);
    if ((st = rnn__loss_compute_stats(func, &m->loss, pred, out0.layer->out_len[out0.output],
                                      targets, loss, accuracy,
                                      train ? rnn__f32(m->loss_grad) : NULL, stats)))
        return st;
    if (!isfinite(*loss)) {
        char share[48] = "";
        if (m->dist)
            snprintf(share, sizeof share, " on rank %d's share", rnn__dist_rank(m));
        return rnn__err(RNN_ERR_NUMERIC, func, "the loss is %s%s%s",
                        isnan(*loss) ? "NaN" : *loss > 0 ? "+inf" : "-inf", share,
                        train ? ": the weights are unchanged (those before this batch)" : "");
    }
    return RNN_OK;
}

/* Forward, loss, and (when train) backward + update. */
rnn_status rnn__model_step(const char *func, rnn_model *m, int num_inputs,
                           const rnn_tensor *const *inputs, const rnn_tensor *const *lengths,
                           const rnn_tensor *targets, int train, float *loss, float *accuracy,
                           rnn__loss_stats *stats)
{
    if (loss)
        *loss = NAN;
    if (accuracy)
        *accuracy = NAN;
    if (!m)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "model must not be NULL");
    if (!m->compiled)
        return rnn__err(RNN_ERR_STATE, func, "call rnn_model_compile() first");
    if (m->dist)
        return rnn__dist_step(func, m, RNN_OK, num_inputs, inputs, lengths, targets, train, loss,
                              accuracy, stats, NULL);
    double l, a;
    rnn_status st = rnn__forward_loss(func, m, num_inputs, inputs, lengths, targets, train, &l,
                                      &a, stats);
    if (st)
        return st;
    if (train) {
        const rnn_tensor *g[RNN__MAX_OUTPUTS] = {m->loss_grad};
        if ((st = rnn_model_zero_grad(m)) ||
            (st = rnn_model_backward(m, rnn__model_num_outputs(m), g)))
            return rnn__err_wrap(st, func, NULL);
        const rnn__param *bad = rnn__nonfinite_grad(m);
        if (bad)
            return rnn__err(RNN_ERR_NUMERIC, func,
                            "the gradient of %s/%s is not finite (an Inf or NaN in the batch?): "
                            "the weights are unchanged (those before this batch)",
                            bad->layer->name, bad->layer->param_name[bad->index]);
        if ((st = rnn_optimizer_step(m->optimizer)))
            return rnn__err_wrap(st, func, NULL);
    }
    if (loss)
        *loss = (float)l;
    if (accuracy)
        *accuracy = (float)a;
    return RNN_OK;
}

/* A caller's own loop of steps is governed as fit's batches are: the model
 * keeps the measurements of each kind of step from call to call. */
static rnn_status governed_step(const char *func, rnn_model *m, int loop, int num_inputs,
                                const rnn_tensor *const *inputs, const rnn_tensor *const *lengths,
                                const rnn_tensor *targets, int training, float *loss,
                                float *accuracy)
{
    rnn__gov *g = m ? &m->gov[loop] : NULL;
    if (g) {
        rnn__gov_start(g);
        rnn__gov_begin(g);
    }
    const rnn_status st = rnn__model_step(func, m, num_inputs, inputs, lengths, targets, training,
                                          loss, accuracy, NULL);
    if (g) {
        if (!st)
            rnn__gov_end(g, rnn__gov_work(inputs[0]));
        rnn__gov_stop(g);
    }
    return st;
}

rnn_status rnn_model_train_step(rnn_model *m, int num_inputs, const rnn_tensor *const *inputs,
                                const rnn_tensor *const *lengths, const rnn_tensor *targets,
                                float *loss, float *accuracy)
{
    return governed_step(__func__, m, RNN__LOOP_TRAIN_STEP, num_inputs, inputs, lengths, targets,
                         1, loss, accuracy);
}

rnn_status rnn_model_test_step(rnn_model *m, int num_inputs, const rnn_tensor *const *inputs,
                               const rnn_tensor *const *lengths, const rnn_tensor *targets,
                               float *loss, float *accuracy)
{
    return governed_step(__func__, m, RNN__LOOP_TEST_STEP, num_inputs, inputs, lengths, targets,
                         0, loss, accuracy);
}

rnn_status rnn_model_optimizer(rnn_model *m, rnn_optimizer **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (!m->compiled)
        return RNN__ERR(RNN_ERR_STATE, "the model is not compiled (rnn_model_compile)");
    *out = m->optimizer;
    return RNN_OK;
}
