/* SPDX-License-Identifier: Apache-2.0 */
/* rnn_model: creation, the graph of layer applications, the parameter
 * table, forward and backward over the graph. */
#include <stdio.h>
#include <string.h>

#include "model/graph.h"

void rnn_model_options_init(rnn_model_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->seed = 0;
    o->backend = RNN_BACKEND_ONEDNN;
}

void rnn__model_freeze_masks(rnn_model *m, int freeze)
{
    m->freeze_masks = freeze;
}

rnn_status rnn_model_create(const rnn_model_options *o, rnn_model **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    rnn_model_options opts;
    rnn_model_options_init(&opts);
    if (o) {
        rnn_status st = RNN__OPTS_COPY("options", rnn_model_options, &opts, o, backend);
        if (st)
            return st;
    }
    if (opts.backend != RNN_BACKEND_ONEDNN && opts.backend != RNN_BACKEND_REFERENCE)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->backend must be RNN_BACKEND_ONEDNN or RNN_BACKEND_REFERENCE "
                        "(got %d)",
                        (int)opts.backend);
    rnn_model *m = rnn__calloc(1, sizeof *m);
    if (!m)
        return RNN__NOMEM(sizeof *m);
    m->opts = opts;
    rnn__rng_seed(&m->rng, opts.seed);
    rnn_status st = rnn__ctx_create(
        opts.backend == RNN_BACKEND_ONEDNN ? RNN__BACKEND_ONEDNN : RNN__BACKEND_REF, &m->ctx);
    if (st) {
        rnn__free(m);
        return RNN__WRAP(st, "cannot create the backend context");
    }
    *out = m;
    return RNN_OK;
}

void rnn_model_destroy(rnn_model *m)
{
    if (!m)
        return;
    if (m->release_decoding)
        m->release_decoding(m);
    if (m->release_train)
        m->release_train(m);
    if (m->release_dist)
        m->release_dist(m);
    for (int i = 0; i < m->n_layers; i++)
        rnn__layer_free(m->layers[i]);
    rnn__free(m->layers);
    rnn__free(m->params);
    rnn__meta_free(m->meta, m->n_meta);
    rnn__ctx_destroy(m->ctx);
    rnn__free(m);
}

rnn_status rnn_model_set_precision(rnn_model *model, rnn_precision precision)
{
    RNN__CHECK_ARG(model);
    if (precision != RNN_PRECISION_F32 && precision != RNN_PRECISION_MIXED_BF16)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "precision must be RNN_PRECISION_F32 or RNN_PRECISION_MIXED_BF16 (got %d)",
                        (int)precision);
    const char *isa = NULL;
    if (precision == RNN_PRECISION_MIXED_BF16 && !rnn__ctx_bf16_ok(model->ctx, &isa))
        return RNN__ERR(RNN_ERR_UNSUPPORTED,
                        "precision RNN_PRECISION_MIXED_BF16 needs a CPU with AVX512-BF16 or AMX "
                        "(oneDNN runs this one as %s); use RNN_PRECISION_F32",
                        isa ? isa : "?");
    if (precision != model->precision) {
        model->precision = precision;
        rnn__model_changed(model); /* a backward needs a forward in the new precision */
        rnn__log(RNN_LOG_INFO, "model precision: %s",
                 precision == RNN_PRECISION_F32 ? "f32" : "mixed bf16");
    }
    return RNN_OK;
}

rnn_status rnn_model_get_precision(const rnn_model *model, rnn_precision *out)
{
    RNN__CHECK_ARG(out);
    *out = RNN_PRECISION_F32;
    RNN__CHECK_ARG(model);
    *out = model->precision;
    return RNN_OK;
}

void rnn__model_changed(rnn_model *m)
{
    m->trained_forward = 0;
}

/* The parameter table: every owned parameter once, in layer order. */
rnn_status rnn__model_rebuild_params(const char *func, rnn_model *m)
{
    int n = 0;
    for (int i = 0; i < m->n_layers; i++)
        n += m->layers[i]->n_params;
    rnn__param *t = rnn__calloc((size_t)(n ? n : 1), sizeof *t);
    if (!t)
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes",
                        sizeof *t * (size_t)n);
    for (int i = 0, k = 0; i < m->n_layers; i++)
        for (int p = 0; p < m->layers[i]->n_params; p++, k++)
            t[k] = (rnn__param){m->layers[i], p, m->layers[i]->param[p], m->layers[i]->grad[p]};
    rnn__free(m->params);
    m->params = t;
    m->n_params = n;
    return RNN_OK;
}

/* Appends a layer with a unique Keras-style name built from base. The model
 * takes ownership (also on failure). */
static rnn_status append(const char *func, rnn_model *m, rnn_layer *l, const char *base)
{
    if (m->n_layers == m->cap_layers) {
        int cap = m->cap_layers ? m->cap_layers * 2 : 8;
        rnn_layer **nl = rnn__calloc((size_t)cap, sizeof *nl);
        if (!nl) {
            rnn__layer_free(l);
            return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes",
                            sizeof *nl * (size_t)cap);
        }
        if (m->n_layers)
            memcpy(nl, m->layers, sizeof *nl * (size_t)m->n_layers);
        rnn__free(m->layers);
        m->layers = nl;
        m->cap_layers = cap;
    }
    if (m->n_layers >= RNN__MAX_LAYERS) {
        rnn__layer_free(l);
        return rnn__err(RNN_ERR_STATE, func, "the model already has %d layers, the most allowed",
                        m->n_layers);
    }
    if (l->n_in == 0 && m->n_inputs >= RNN__MAX_IO) {
        rnn__layer_free(l);
        return rnn__err(RNN_ERR_STATE, func, "the model already has %d inputs, the most allowed",
                        m->n_inputs);
    }
    /* Keras naming: "lstm", "lstm_1", "lstm_2", ... */
    int count = 0;
    size_t blen = strlen(base);
    for (int i = 0; i < m->n_layers; i++) {
        const char *n = m->layers[i]->name;
        if (strncmp(n, base, blen) == 0 && (n[blen] == '\0' || n[blen] == '_'))
            count++;
    }
    if (count == 0)
        snprintf(l->name, sizeof l->name, "%s", base);
    else
        snprintf(l->name, sizeof l->name, "%s_%d", base, count);
    l->model = m;
    l->index = m->n_layers;
    m->layers[m->n_layers++] = l;
    if (l->n_params) {
        rnn_status st = rnn__model_rebuild_params(func, m);
        if (st) { /* the model stays as it was */
            m->layers[--m->n_layers] = NULL;
            rnn__layer_free(l);
            return st;
        }
    }
    if (l->n_in == 0)
        m->inputs[m->n_inputs++] = l;
    m->trained_forward = 0;
    return RNN_OK;
}

rnn_status rnn__model_check_port(const char *func, const char *what, const rnn_model *m,
                                 rnn__port p)
{
    if (!p.layer)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s must not be NULL", what);
    if (p.layer->model != m)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s (%s) belongs to another model", what,
                        p.layer->name);
    if (p.output < 0 || p.output >= p.layer->n_outputs)
        return rnn__err(RNN_ERR_RANGE, func, "%s: layer %s has outputs [0, %d) (got %d)", what,
                        p.layer->name, p.layer->n_outputs, p.output);
    return RNN_OK;
}

rnn_status rnn__model_add(const char *func, rnn_model *m, const rnn__layer_ops *ops,
                          const void *opts, int n_in, const rnn__port *in, rnn_layer **out)
{
    if (out)
        *out = NULL;
    rnn__port tail;
    if (n_in == 0 && ops->min_in > 0) {
        if (m->n_layers == 0)
            return rnn__err(RNN_ERR_STATE, func,
                            "declare the model input first (rnn_model_add_input)");
        tail = m->cursor.layer ? m->cursor : (rnn__port){m->layers[m->n_layers - 1], 0};
        in = &tail;
        n_in = 1;
    }
    for (int k = 0; k < n_in; k++) {
        char what[24];
        snprintf(what, sizeof what, "layers[%d]", k);
        rnn_status st = rnn__model_check_port(func, what, m, in[k]);
        if (st)
            return st;
    }
    rnn_layer *l;
    rnn_status st = rnn__layer_create(func, ops, opts, n_in, in, &m->rng, &l);
    if (st)
        return st;
    /* The producer chosen with rnn_model_connect_next() is used once. */
    m->cursor = (rnn__port){NULL, 0};
    if ((st = append(func, m, l, l->base)))
        return st;
    if (out)
        *out = l;
    return RNN_OK;
}

rnn__port rnn__model_output_port(const rnn_model *m, int k)
{
    if (m->n_outputs)
        return m->outputs[k];
    return (rnn__port){m->n_layers > 1 ? m->layers[m->n_layers - 1] : NULL, k};
}

int rnn__model_num_outputs(const rnn_model *m)
{
    if (m->n_outputs)
        return m->n_outputs;
    return m->n_layers > 1 ? m->layers[m->n_layers - 1]->n_outputs : 0;
}

rnn_status rnn_model_connect_next(rnn_model *model, rnn_layer *layer, int output)
{
    RNN__CHECK_ARG(model);
    rnn__port p = {layer, output};
    rnn_status st = rnn__model_check_port(__func__, "layer", model, p);
    if (st)
        return st;
    if (layer->out_aux[output])
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "output %d of %s holds attention weights, which cannot feed layers",
                        output, layer->name);
    model->cursor = p;
    return RNN_OK;
}

rnn_status rnn_model_set_outputs(rnn_model *model, int count, rnn_layer *const *layers,
                                 const int *outputs)
{
    RNN__CHECK_ARG(model);
    if (count < 0 || count > RNN__MAX_IO)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be in 0..%d (got %d)", RNN__MAX_IO,
                        count);
    if (count)
        RNN__CHECK_ARG(layers);
    for (int k = 0; k < count; k++) {
        char what[32];
        snprintf(what, sizeof what, "layers[%d]", k);
        rnn__port p = {layers[k], 0};
        rnn_status st = rnn__model_check_port(__func__, what, model, p);
        if (st)
            return st;
        if (outputs && (outputs[k] < 0 || outputs[k] >= layers[k]->n_outputs))
            return RNN__ERR(RNN_ERR_RANGE, "outputs[%d] must be in [0, %d), the outputs of "
                                           "layer %s (got %d)",
                            k, layers[k]->n_outputs, layers[k]->name, outputs[k]);
        if (layers[k]->n_in == 0)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "layers[%d] is an input layer (%s)", k,
                            layers[k]->name);
    }
    for (int k = 0; k < count; k++)
        model->outputs[k] = (rnn__port){layers[k], outputs ? outputs[k] : 0};
    model->n_outputs = count;
    model->trained_forward = 0;
    return RNN_OK;
}

rnn_status rnn_model_num_inputs(const rnn_model *model, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(model);
    *out = model->n_inputs;
    return RNN_OK;
}

rnn_status rnn_model_num_layers(const rnn_model *model, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(model);
    *out = model->n_layers;
    return RNN_OK;
}

rnn_status rnn_model_layer(rnn_model *model, int index, rnn_layer **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(model);
    if (index < 0 || index >= model->n_layers)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", model->n_layers, index);
    *out = model->layers[index];
    return RNN_OK;
}

rnn_status rnn_model_count_params(const rnn_model *model, int64_t *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(model);
    int64_t total = 0;
    for (int k = 0; k < model->n_params; k++)
        total += model->params[k].value->numel;
    *out = total;
    return RNN_OK;
}

/* Checks inputs[i] (and its lengths) against input layer il. */
static rnn_status check_input(rnn_model *m, int i, const rnn_tensor *x, const rnn_tensor *lt,
                              int64_t *N_all, const int32_t **len_out)
{
    const char *func = "rnn_model_forward";
    const rnn_layer *il = m->inputs[i];
    const struct {
        rnn_dtype dtype;
        int seq;
        int64_t steps, features;
    } in = {il->out_dtype[0], il->out_seq[0], il->out_steps[0], il->out_features[0]},
      *im = &in;
    *len_out = NULL;
    if (!x)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "inputs[%d] must not be NULL", i);
    const char *dn = im->dtype == RNN_F32 ? "RNN_F32" : "RNN_I32";
    if (x->dtype != im->dtype)
        return rnn__err(RNN_ERR_DTYPE, func, "inputs[%d] must be %s (got dtype %d)", i, dn,
                        (int)x->dtype);
    const int want_rank = 1 + im->seq + (im->features > 0);
    if (x->rank != want_rank)
        return rnn__err(RNN_ERR_SHAPE, func, "inputs[%d] must have rank %d (%s) (got rank %d)", i,
                        want_rank,
                        want_rank == 3 ? "batch, timesteps, features"
                        : im->seq      ? "batch, timesteps"
                                       : "batch, features",
                        x->rank);
    if (im->features > 0 && x->dims[x->rank - 1] != im->features)
        return rnn__err(RNN_ERR_SHAPE, func, "inputs[%d] must have %lld features (got %lld)", i,
                        (long long)im->features, (long long)x->dims[x->rank - 1]);
    if (im->seq && im->steps > 0 && x->dims[1] != im->steps)
        return rnn__err(RNN_ERR_SHAPE, func, "inputs[%d] must have %lld timesteps (got %lld)", i,
                        (long long)im->steps, (long long)x->dims[1]);
    if (x->dims[0] > INT32_MAX || (im->seq && x->dims[1] > INT32_MAX))
        return rnn__err(RNN_ERR_SHAPE, func, "inputs[%d] batch and timesteps must fit in int32",
                        i);
    if (i > 0 && x->dims[0] != *N_all)
        return rnn__err(RNN_ERR_SHAPE, func,
                        "inputs[%d] has batch size %lld, inputs[0] has %lld: they must agree", i,
                        (long long)x->dims[0], (long long)*N_all);
    *N_all = x->dims[0];
    const int64_t N = x->dims[0], T = im->seq ? x->dims[1] : 1;
    if (!lt)
        return RNN_OK;
    if (!im->seq)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "lengths[%d] must be NULL: input %d is not a sequence", i, i);
    if (lt->dtype != RNN_I32)
        return rnn__err(RNN_ERR_DTYPE, func, "lengths[%d] must be RNN_I32 (got dtype %d)", i,
                        (int)lt->dtype);
    if (lt->rank != 1 || lt->dims[0] != N)
        return rnn__err(RNN_ERR_SHAPE, func,
                        "lengths[%d] must have shape (%lld) (got rank %d, %lld elements)", i,
                        (long long)N, lt->rank, (long long)lt->numel);
    const int32_t *len = lt->data;
    int all_full = 1;
    for (int64_t n = 0; n < N; n++) {
        if (len[n] < 1 || len[n] > T)
            return rnn__err(RNN_ERR_RANGE, func, "lengths[%d][%lld] must be in [1, %lld] (got %d)",
                            i, (long long)n, (long long)T, len[n]);
        all_full &= len[n] == T;
    }
    *len_out = all_full ? NULL : len;
    return RNN_OK;
}

rnn_status rnn_model_forward(rnn_model *m, int num_inputs, const rnn_tensor *const *inputs,
                             const rnn_tensor *const *lengths, int training)
{
    RNN__CHECK_ARG_AS(m, "model");
    m->trained_forward = 0;
    if (m->n_layers < 2)
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    if (num_inputs != m->n_inputs)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "num_inputs must be %d for this model (got %d)",
                        m->n_inputs, num_inputs);
    if (training != 0 && training != 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "training must be 0 or 1 (got %d)", training);
    RNN__CHECK_ARG(inputs);
    int64_t N = 0;
    const int32_t *len[RNN__MAX_IO];
    for (int i = 0; i < num_inputs; i++) {
        rnn_status st = check_input(m, i, inputs[i], lengths ? lengths[i] : NULL, &N, &len[i]);
        if (st)
            return st;
    }
    for (int i = 0; i < num_inputs; i++)
        rnn__model_set_input(m, i, inputs[i], len[i]);
    m->fed = 1;
    m->N = N;
    m->T = m->inputs[0]->out_seq[0] ? inputs[0]->dims[1] : 1;
    const rnn__run r = rnn__model_run_ctx(m, training);
    rnn_status st = rnn__model_run(m, &r, NULL);
    if (st)
        return RNN__PASS(st);
    m->trained_forward = training != 0;
    return RNN_OK;
}

rnn__run rnn__model_run_ctx(rnn_model *m, int training)
{
    /* With a step-wise decoding attached (decode/step.c), recurrent layers
     * keep their final states to continue from. */
    rnn__run r = {m->ctx, &m->rng, training != 0, m->freeze_masks, m->decoding != NULL,
                  m->precision == RNN_PRECISION_MIXED_BF16};
    return r;
}

rnn_status rnn__model_run(rnn_model *m, const rnn__run *r, const unsigned char *only)
{
    rnn__threads_apply();
    for (int i = 1; i < m->n_layers; i++) {
        rnn_layer *l = m->layers[i];
        if (l->n_in == 0 || (only && !only[i]))
            continue;
        rnn_status st = l->ops->forward(l, r);
        if (st)
            return rnn__err_wrap(st, NULL, "layer '%s' (%s)", l->name, rnn__layer_type_name(l));
    }
    return RNN_OK;
}

void rnn__model_set_input(rnn_model *m, int i, const rnn_tensor *x, const int32_t *len)
{
    m->inputs[i]->fed = x;
    m->inputs[i]->out_len[0] = len;
}

rnn_status rnn_model_num_outputs(const rnn_model *model, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(model);
    *out = rnn__model_num_outputs(model);
    return RNN_OK;
}

rnn_status rnn_model_output(const rnn_model *m, int index, const rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (m->n_layers < 2)
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    const int n = rnn__model_num_outputs(m);
    if (index < 0 || index >= n)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", n, index);
    const rnn__port p = rnn__model_output_port(m, index);
    if (!p.layer->out[p.output] || !m->fed)
        return RNN__ERR(RNN_ERR_STATE, "no forward has run yet");
    *out = p.layer->out[p.output];
    return RNN_OK;
}

rnn_status rnn_model_output_source(const rnn_model *model, int index, const rnn_layer **layer,
                                   int *output)
{
    RNN__CHECK_ARG(layer);
    *layer = NULL;
    RNN__CHECK_ARG(output);
    *output = 0;
    RNN__CHECK_ARG(model);
    if (model->n_layers < 2)
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    const int n = rnn__model_num_outputs(model);
    if (index < 0 || index >= n)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", n, index);
    const rnn__port p = rnn__model_output_port(model, index);
    *layer = p.layer;
    *output = p.output;
    return RNN_OK;
}

rnn_status rnn_model_backward(rnn_model *model, int num_outputs, const rnn_tensor *const *grads)
{
    return rnn__model_backward_hooked(model, num_outputs, grads, NULL, NULL);
}

/* 1 when grads (num_outputs entries, each NULL or a gradient) seeds output p. */
static int seeded(const rnn_model *model, int num_outputs, const rnn_tensor *const *grads,
                  rnn__port p)
{
    for (int j = 0; grads && j < num_outputs; j++) {
        const rnn__port op = rnn__model_output_port(model, j);
        if (grads[j] && op.layer == p.layer && op.output == p.output)
            return 1;
    }
    return 0;
}

/* The layers' in_fresh flags for a backward seeded with grads (layer.h). Layers run backward
 * from the last to the first, so the first to reach a producer's gradient is its last
 * consumer. */
static void mark_fresh_grads(rnn_model *model, int num_outputs, const rnn_tensor *const *grads)
{
    for (int i = 1; i < model->n_layers; i++) {
        rnn_layer *l = model->layers[i];
        for (int k = 0; k < l->n_in; k++) {
            const rnn__port p = l->in[k];
            int fresh = !seeded(model, num_outputs, grads, p);
            for (int m = i; m < model->n_layers && fresh; m++) {
                const rnn_layer *c = model->layers[m];
                for (int q = 0; q < c->n_in && fresh; q++)
                    fresh = (m == i && q == k) ||
                            !(c->in[q].layer == p.layer && c->in[q].output == p.output);
            }
            l->in_fresh[k] = (unsigned char)fresh;
        }
    }
}

rnn_status rnn__model_backward_hooked(rnn_model *model, int num_outputs,
                                      const rnn_tensor *const *grads, rnn__layer_done_fn done,
                                      void *ctx)
{
    static const char func[] = "rnn_model_backward";
    if (!model)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "model must not be NULL");
    if (!model->trained_forward)
        return rnn__err(RNN_ERR_STATE, func,
                        "backward needs a forward with training=1 first (and no change since)");
    const int n_out = rnn__model_num_outputs(model);
    if (num_outputs != n_out)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "num_outputs must be %d (got %d)", n_out,
                        num_outputs);
    for (int k = 0; grads && k < num_outputs; k++) {
        const rnn_tensor *g = grads[k];
        const rnn__port op = rnn__model_output_port(model, k);
        const rnn_tensor *o = op.layer->out[op.output];
        if (!g)
            continue;
        if (g->dtype != RNN_F32)
            return rnn__err(RNN_ERR_DTYPE, func, "grads[%d] must be RNN_F32", k);
        int same = g->rank == o->rank;
        for (int i = 0; same && i < g->rank; i++)
            same = g->dims[i] == o->dims[i];
        if (!same)
            return rnn__err(RNN_ERR_SHAPE, func,
                            "grads[%d] must have the shape of output %d (rank %d, %lld elements)",
                            k, k, o->rank, (long long)o->numel);
    }
    /* Zero every activation gradient (the inputs' too), then seed the
     * outputs': an output's first seed is copied in place of its zeros (one
     * pass instead of two, on what are often the largest buffers). */
    rnn_status st;
    for (int i = 0; i < model->n_layers; i++) {
        rnn_layer *l = model->layers[i];
        for (int k = 0; k < l->n_outputs; k++) {
            const rnn_tensor *o = rnn__node_out(l, k);
            if (l->out_dtype[k] != RNN_F32 || !o)
                continue;
            const int seed = seeded(model, num_outputs, grads, (rnn__port){l, k});
            if ((st = rnn__tensor_ensure(&l->dout[k], o->rank, o->dims, !seed)))
                return rnn__err_wrap(st, func, NULL);
        }
    }
    for (int k = 0; grads && k < num_outputs; k++) {
        if (!grads[k])
            continue;
        const rnn__port op = rnn__model_output_port(model, k);
        float *d = rnn__f32(op.layer->dout[op.output]);
        const float *g = rnn__f32(grads[k]);
        int first = 1; /* no earlier output is the same port */
        for (int j = 0; j < k && first; j++) {
            const rnn__port pj = rnn__model_output_port(model, j);
            first = !(grads[j] && pj.layer == op.layer && pj.output == op.output);
        }
        if (first)
            memcpy(d, g, grads[k]->nbytes);
        else
            for (int64_t i = 0; i < grads[k]->numel; i++)
                d[i] += g[i];
    }
    mark_fresh_grads(model, num_outputs, grads);
    rnn__threads_apply();
    const rnn__run r = rnn__model_run_ctx(model, 1);
    for (int i = model->n_layers - 1; i >= 1; i--) {
        rnn_layer *l = model->layers[i];
        if (l->n_in == 0)
            continue;
        if ((st = l->ops->backward(l, &r)))
            return rnn__err_wrap(st, func, "layer '%s' (%s)", l->name,
                                 rnn__layer_type_name(l));
        if (done && (st = done(ctx, i)))
            return st;
    }
    return RNN_OK;
}

rnn_status rnn_model_input_grad(const rnn_model *model, int index, const rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(model);
    if (index < 0 || index >= model->n_inputs)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", model->n_inputs, index);
    rnn_layer *in = model->inputs[index];
    if (in->out_dtype[0] != RNN_F32)
        return RNN__ERR(RNN_ERR_DTYPE, "input %d holds token ids, which have no gradient", index);
    if (!in->dout[0])
        return RNN__ERR(RNN_ERR_STATE, "no backward has run yet");
    *out = in->dout[0];
    return RNN_OK;
}

rnn_status rnn_model_zero_grad(rnn_model *model)
{
    RNN__CHECK_ARG(model);
    for (int k = 0; k < model->n_params; k++)
        rnn__zero(model->params[k].grad->data, model->params[k].grad->nbytes);
    return RNN_OK;
}

rnn_status rnn_model_reset_states(rnn_model *model)
{
    RNN__CHECK_ARG(model);
    for (int i = 0; i < model->n_layers; i++)
        if (model->layers[i]->ops->reset_state)
            model->layers[i]->ops->reset_state(model->layers[i]);
    return RNN_OK;
}
