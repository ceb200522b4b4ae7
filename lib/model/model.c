/* SPDX-License-Identifier: Apache-2.0 */
/* rnn_model: creation, layer list, forward/backward over the graph. */
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

float *rnn__f32(const rnn_tensor *t)
{
    return (float *)t->data;
}

rnn_status rnn__tensor_ensure_as(rnn_tensor **tp, rnn_dtype dtype, int rank, const int64_t *dims,
                                 int zero)
{
    int64_t numel;
    size_t nbytes;
    rnn_status st = rnn__shape_check(__func__, dtype, rank, dims, &numel, &nbytes);
    if (st)
        return st;
    rnn_tensor *t = *tp;
    if (t && t->owned && t->dtype == dtype && t->capacity >= nbytes) {
        t->rank = rank;
        for (int i = 0; i < rank; i++)
            t->dims[i] = dims[i];
        t->numel = numel;
        t->nbytes = nbytes;
    } else {
        rnn_tensor *n = NULL;
        st = rnn_tensor_create(dtype, rank, dims, &n);
        if (st)
            return st;
        rnn_tensor_destroy(t);
        *tp = t = n;
        return RNN_OK; /* already zero */
    }
    if (zero)
        memset(t->data, 0, nbytes);
    return RNN_OK;
}

rnn_status rnn__tensor_ensure(rnn_tensor **tp, int rank, const int64_t *dims, int zero)
{
    return rnn__tensor_ensure_as(tp, RNN_F32, rank, dims, zero);
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

void rnn__layer_free(rnn_layer *l)
{
    if (!l)
        return;
    if (l->vt && l->vt->destroy)
        l->vt->destroy(l);
    for (int i = 0; i < RNN__MAX_OUTPUTS; i++) {
        rnn_tensor_destroy(l->out[i]);
        rnn_tensor_destroy(l->dout[i]);
    }
    for (int i = 0; i < l->n_params; i++) { /* 0 for a shared application */
        rnn_tensor_destroy(l->param[i]);
        rnn_tensor_destroy(l->grad[i]);
    }
    rnn__free(l);
}

void rnn_model_destroy(rnn_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_layers; i++)
        rnn__layer_free(m->layers[i]);
    rnn__free(m->layers);
    rnn_tensor_destroy(m->loss_grad);
    rnn__fbuf_free(&m->step_tmp);
    rnn_optimizer_destroy(m->optimizer);
    rnn__ctx_destroy(m->ctx);
    rnn__free(m);
}

rnn_status rnn__model_append(rnn_model *m, rnn_layer *l, const char *base)
{
    if (m->n_layers == m->cap_layers) {
        int cap = m->cap_layers ? m->cap_layers * 2 : 8;
        rnn_layer **nl = rnn__calloc((size_t)cap, sizeof *nl);
        if (!nl) {
            rnn__layer_free(l);
            return RNN__NOMEM(sizeof *nl * (size_t)cap);
        }
        if (m->n_layers)
            memcpy(nl, m->layers, sizeof *nl * (size_t)m->n_layers);
        rnn__free(m->layers);
        m->layers = nl;
        m->cap_layers = cap;
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
    /* The producer chosen with rnn_model_connect_next() (cleared: one use). */
    if (l->input && l->input == m->cursor)
        l->input_output = m->cursor_output;
    m->cursor = NULL;
    m->cursor_output = 0;
    /* Sequence outputs keep their producer's static steps unless set. */
    for (int k = 0; l->input && k < l->n_outputs; k++)
        if (l->out_seq[k] && l->out_steps[k] == 0)
            l->out_steps[k] = l->input->out_steps[l->input_output];
    l->model = m;
    l->index = m->n_layers;
    m->layers[m->n_layers++] = l;
    m->trained_forward = 0;
    return RNN_OK;
}

rnn_status rnn__layer_add_param(rnn_layer *l, const char *name, int rank, const int64_t *dims)
{
    if (l->n_params >= RNN__MAX_PARAMS)
        return RNN__ERR(RNN_ERR_INTERNAL, "too many parameters in layer %s", l->name);
    int i = l->n_params;
    rnn_status st = rnn_tensor_create(RNN_F32, rank, dims, &l->param[i]);
    if (!st)
        st = rnn_tensor_create(RNN_F32, rank, dims, &l->grad[i]);
    if (st) {
        rnn_tensor_destroy(l->param[i]);
        l->param[i] = NULL;
        return st;
    }
    snprintf(l->param_name[i], sizeof l->param_name[i], "%s", name);
    l->n_params++;
    return RNN_OK;
}

static const rnn__layer_vt input_vt;

typedef struct input_impl {
    rnn__input_desc d; /* first: what options() returns */
    const rnn_tensor *x; /* the batch given to forward, borrowed */
} input_impl;

static int is_input(const rnn_layer *p)
{
    return p->vt == &input_vt;
}

const rnn_tensor *rnn__node_out(const rnn_layer *p, int k)
{
    if (is_input(p))
        return ((const input_impl *)p->impl)->x;
    return p->out[k];
}

const rnn_tensor *rnn__layer_in(const rnn_layer *l)
{
    return rnn__node_out(l->input, l->input_output);
}

const int32_t *rnn__layer_in_len(const rnn_layer *l)
{
    return l->input->out_len[l->input_output];
}

static rnn_tensor *node_din(rnn_layer *p, int k)
{
    return p->out_dtype[k] == RNN_F32 ? p->dout[k] : NULL;
}

rnn_tensor *rnn__layer_din(rnn_layer *l)
{
    return node_din(l->input, l->input_output);
}

const rnn_tensor *rnn__layer_extra_in(const rnn_layer *l, int k)
{
    return rnn__node_out(l->extra[k], l->extra_output[k]);
}

const int32_t *rnn__layer_extra_len(const rnn_layer *l, int k)
{
    return l->extra[k]->out_len[l->extra_output[k]];
}

rnn_tensor *rnn__layer_extra_din(rnn_layer *l, int k)
{
    return node_din(l->extra[k], l->extra_output[k]);
}

static rnn_layer *last_layer(const rnn_model *m)
{
    return m->n_layers > 1 ? m->layers[m->n_layers - 1] : NULL;
}

int rnn__model_num_outputs(const rnn_model *m)
{
    if (m->n_outputs)
        return m->n_outputs;
    const rnn_layer *l = last_layer(m);
    return l ? l->n_outputs : 0;
}

void rnn__model_output_ref(const rnn_model *m, int k, rnn_layer **layer, int *index)
{
    if (m->n_outputs) {
        *layer = m->outputs[k];
        *index = m->output_index[k];
    } else {
        *layer = last_layer(m);
        *index = k;
    }
}

rnn_status rnn__model_tail(const char *func, rnn_model *m, rnn_layer **out)
{
    *out = NULL;
    if (m->n_layers == 0)
        return rnn__err(RNN_ERR_STATE, func, "declare the model input first (rnn_model_add_input)");
    *out = m->cursor ? m->cursor : m->layers[m->n_layers - 1];
    return RNN_OK;
}

/* Checks that (layer, output) is an output of a layer of model m. */
static rnn_status check_ref(const char *func, const char *what, const rnn_model *m,
                            const rnn_layer *layer, int output)
{
    if (!layer)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s must not be NULL", what);
    if (layer->model != m)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s (%s) belongs to another model", what,
                        layer->name);
    if (output < 0 || output >= layer->n_outputs)
        return rnn__err(RNN_ERR_RANGE, func, "%s: layer %s has outputs [0, %d) (got %d)", what,
                        layer->name, layer->n_outputs, output);
    return RNN_OK;
}

rnn_status rnn_model_connect_next(rnn_model *model, rnn_layer *layer, int output)
{
    RNN__CHECK_ARG(model);
    rnn_status st = check_ref(__func__, "layer", model, layer, output);
    if (st)
        return st;
    if (rnn__is_attention(layer) && output == 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "output 1 of %s holds attention weights, which cannot feed layers",
                        layer->name);
    model->cursor = layer;
    model->cursor_output = output;
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
        rnn_status st = check_ref(__func__, what, model, layers[k], outputs ? outputs[k] : 0);
        if (st)
            return st;
        if (is_input(layers[k]))
            return RNN__ERR(RNN_ERR_INVALID_ARG, "layers[%d] is an input layer (%s)", k,
                            layers[k]->name);
    }
    for (int k = 0; k < count; k++) {
        model->outputs[k] = layers[k];
        model->output_index[k] = outputs ? outputs[k] : 0;
    }
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

rnn_status rnn__layer_new(const char *func, const rnn__layer_vt *vt, size_t impl_size,
                          rnn_layer **out)
{
    *out = NULL;
    rnn_layer *l = rnn__calloc(1, sizeof *l);
    void *impl = impl_size ? rnn__calloc(1, impl_size) : NULL;
    if (!l || (impl_size && !impl)) {
        rnn__free(l);
        rnn__free(impl);
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes",
                        sizeof *l + impl_size);
    }
    l->vt = vt;
    l->impl = impl;
    l->trainable = 1;
    *out = l;
    return RNN_OK;
}

/* ------------------------------------------------------------ input layer */

static void input_destroy(rnn_layer *l)
{
    rnn__free(l->impl);
}

static const void *input_options(const rnn_layer *l)
{
    return l->impl;
}

static const rnn__layer_vt input_vt = {
    .kind = "input",
    .destroy = input_destroy,
    .options = input_options,
};

rnn_status rnn_model_add_input(rnn_model *m, rnn_dtype dtype, int rank, const int64_t *shape,
                               rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (m->n_inputs >= RNN__MAX_IO)
        return RNN__ERR(RNN_ERR_STATE, "the model already has %d inputs, the most allowed",
                        m->n_inputs);
    if (dtype != RNN_F32 && dtype != RNN_I32)
        return RNN__ERR(RNN_ERR_DTYPE, "dtype must be RNN_F32 or RNN_I32 (got %d)", (int)dtype);
    if (rank > 0)
        RNN__CHECK_ARG(shape);
    rnn__input_desc im = {dtype, 0, 0, 0};
    if (dtype == RNN_I32 && rank == 1) { /* token ids {timesteps} */
        im.seq = 1;
        im.steps = shape[0];
    } else if (dtype == RNN_F32 && rank == 2) { /* sequence {timesteps, features} */
        im.seq = 1;
        im.steps = shape[0];
        im.features = shape[1];
        if (shape[1] < 1)
            return RNN__ERR(RNN_ERR_SHAPE, "shape[1] (features) must be > 0 (got %lld)",
                            (long long)shape[1]);
    } else if (dtype == RNN_F32 && rank == 1) { /* vector {features} */
        im.features = shape[0];
        if (shape[0] < 1)
            return RNN__ERR(RNN_ERR_SHAPE, "shape[0] (features) must be > 0 (got %lld)",
                            (long long)shape[0]);
    } else {
        return RNN__ERR(RNN_ERR_SHAPE,
                        "rank must be 1 or 2 without the batch axis: RNN_I32 {timesteps} token "
                        "ids, RNN_F32 {timesteps, features} sequences or RNN_F32 {features} "
                        "vectors (got %s rank %d)",
                        dtype == RNN_I32 ? "RNN_I32" : "RNN_F32", rank);
    }
    if (im.seq && im.steps < 0)
        return RNN__ERR(RNN_ERR_SHAPE, "shape[0] (timesteps) must be >= 0, 0 for any (got %lld)",
                        (long long)im.steps);
    rnn_layer *l;
    rnn_status st = rnn__layer_new(__func__, &input_vt, sizeof(input_impl), &l);
    if (st)
        return st;
    ((input_impl *)l->impl)->d = im;
    l->trainable = 0;
    l->n_outputs = 1;
    l->out_dtype[0] = dtype;
    l->out_seq[0] = im.seq;
    l->out_steps[0] = im.seq ? im.steps : 0;
    l->out_features[0] = im.features;
    if ((st = rnn__model_append(m, l, "input")))
        return st;
    m->inputs[m->n_inputs++] = l;
    if (out)
        *out = l;
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
    for (int i = 0; i < model->n_layers; i++) {
        int64_t n = 0;
        rnn_layer_count_params(model->layers[i], &n);
        total += n;
    }
    *out = total;
    return RNN_OK;
}

/* Checks inputs[i] (and its lengths) against input layer il. */
static rnn_status check_input(rnn_model *m, int i, const rnn_tensor *x, const rnn_tensor *lt,
                              int64_t *N_all, const int32_t **len_out)
{
    const char *func = "rnn_model_forward";
    const rnn__input_desc *im = &((input_impl *)m->inputs[i]->impl)->d;
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
    if (!last_layer(m))
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    if (num_inputs != m->n_inputs)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "num_inputs must be %d for this model (got %d)",
                        m->n_inputs, num_inputs);
    RNN__CHECK_ARG(inputs);
    int64_t N = 0;
    const int32_t *len[RNN__MAX_IO];
    for (int i = 0; i < num_inputs; i++) {
        rnn_status st = check_input(m, i, inputs[i], lengths ? lengths[i] : NULL, &N, &len[i]);
        if (st)
            return st;
    }
    for (int i = 0; i < num_inputs; i++) {
        ((input_impl *)m->inputs[i]->impl)->x = inputs[i];
        m->inputs[i]->out_len[0] = len[i];
    }
    const rnn__input_desc *im0 = &((input_impl *)m->inputs[0]->impl)->d;
    m->x = inputs[0];
    m->lengths = len[0];
    m->N = N;
    m->T = im0->seq ? inputs[0]->dims[1] : 1;
    rnn_status st = rnn__model_run(m, training, 0);
    if (st)
        return st;
    m->trained_forward = training != 0;
    return RNN_OK;
}

rnn_status rnn__model_run(rnn_model *m, int training, int step_only)
{
    rnn__threads_apply();
    for (int i = 1; i < m->n_layers; i++) {
        rnn_layer *l = m->layers[i];
        if (is_input(l) || (step_only && !l->step))
            continue;
        rnn_status st = l->vt->forward(l, training);
        if (st)
            return st;
    }
    return RNN_OK;
}

void rnn__model_set_input(rnn_model *m, int i, const rnn_tensor *x, const int32_t *len)
{
    ((input_impl *)m->inputs[i]->impl)->x = x;
    m->inputs[i]->out_len[0] = len;
    if (i == 0)
        m->x = x;
}

int rnn__layer_is_input(const rnn_layer *l)
{
    return is_input(l);
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
    if (!last_layer(m))
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    const int n = rnn__model_num_outputs(m);
    if (index < 0 || index >= n)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", n, index);
    rnn_layer *l;
    int k;
    rnn__model_output_ref(m, index, &l, &k);
    if (!l->out[k] || !m->x)
        return RNN__ERR(RNN_ERR_STATE, "no forward has run yet");
    *out = l->out[k];
    return RNN_OK;
}

rnn_status rnn_model_backward(rnn_model *model, int num_outputs, const rnn_tensor *const *grads)
{
    RNN__CHECK_ARG(model);
    if (!model->trained_forward)
        return RNN__ERR(RNN_ERR_STATE,
                        "backward needs a forward with training=1 first (and no change since)");
    const int n_out = rnn__model_num_outputs(model);
    if (num_outputs != n_out)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "num_outputs must be %d (got %d)", n_out,
                        num_outputs);
    for (int k = 0; grads && k < num_outputs; k++) {
        const rnn_tensor *g = grads[k];
        rnn_layer *ol;
        int oi;
        rnn__model_output_ref(model, k, &ol, &oi);
        const rnn_tensor *o = ol->out[oi];
        if (!g)
            continue;
        if (g->dtype != RNN_F32)
            return RNN__ERR(RNN_ERR_DTYPE, "grads[%d] must be RNN_F32", k);
        int same = g->rank == o->rank;
        for (int i = 0; same && i < g->rank; i++)
            same = g->dims[i] == o->dims[i];
        if (!same)
            return RNN__ERR(RNN_ERR_SHAPE, "grads[%d] must have the shape of output %d (rank %d, "
                                           "%lld elements)",
                            k, k, o->rank, (long long)o->numel);
    }
    /* Zero every activation gradient (the inputs' too), then seed the outputs'. */
    rnn_status st;
    for (int i = 0; i < model->n_layers; i++) {
        rnn_layer *l = model->layers[i];
        for (int k = 0; k < l->n_outputs; k++) {
            const rnn_tensor *o = rnn__node_out(l, k);
            if (l->out_dtype[k] != RNN_F32 || !o)
                continue;
            if ((st = rnn__tensor_ensure(&l->dout[k], o->rank, o->dims, 1)))
                return st;
        }
    }
    for (int k = 0; grads && k < num_outputs; k++) {
        if (!grads[k])
            continue;
        rnn_layer *ol;
        int oi;
        rnn__model_output_ref(model, k, &ol, &oi);
        float *d = rnn__f32(ol->dout[oi]);
        const float *g = rnn__f32(grads[k]);
        for (int64_t i = 0; i < grads[k]->numel; i++)
            d[i] += g[i];
    }
    rnn__threads_apply();
    for (int i = model->n_layers - 1; i >= 1; i--) {
        rnn_layer *l = model->layers[i];
        if (is_input(l))
            continue;
        st = l->vt->backward(l);
        if (st)
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
    for (int i = 0; i < model->n_layers; i++) {
        rnn_layer *l = model->layers[i];
        for (int p = 0; p < l->n_params; p++)
            memset(l->grad[p]->data, 0, l->grad[p]->nbytes);
    }
    return RNN_OK;
}

rnn_status rnn_model_reset_states(rnn_model *model)
{
    RNN__CHECK_ARG(model);
    for (int i = 0; i < model->n_layers; i++)
        if (model->layers[i]->vt->reset_state)
            model->layers[i]->vt->reset_state(model->layers[i]);
    return RNN_OK;
}

/* ------------------------------------------------------------ layer queries */

rnn_status rnn_layer_name(const rnn_layer *layer, const char **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(layer);
    *out = layer->name;
    return RNN_OK;
}

rnn_status rnn_layer_type(const rnn_layer *layer, const char **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(layer);
    *out = rnn__layer_type_name(layer);
    return RNN_OK;
}

rnn_status rnn_layer_count_params(const rnn_layer *layer, int64_t *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(layer);
    int64_t n = 0;
    for (int i = 0; i < layer->n_params; i++)
        n += layer->param[i]->numel;
    *out = n;
    return RNN_OK;
}

rnn_status rnn_layer_num_params(const rnn_layer *layer, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(layer);
    *out = layer->n_params;
    return RNN_OK;
}

rnn_status rnn_layer_param(rnn_layer *l, int index, const char **name, rnn_tensor **value,
                           rnn_tensor **grad)
{
    if (name)
        *name = NULL;
    if (value)
        *value = NULL;
    if (grad)
        *grad = NULL;
    RNN__CHECK_ARG_AS(l, "layer");
    if (index < 0 || index >= l->n_params)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) for layer %s (got %d)",
                        l->n_params, l->name, index);
    if (name)
        *name = l->param_name[index];
    if (value)
        *value = l->param[index];
    if (grad)
        *grad = l->grad[index];
    return RNN_OK;
}

rnn_status rnn_layer_find_param(const rnn_layer *l, const char *name, int *out)
{
    RNN__CHECK_ARG(out);
    *out = -1;
    RNN__CHECK_ARG_AS(l, "layer");
    RNN__CHECK_ARG(name);
    for (int i = 0; i < l->n_params; i++)
        if (strcmp(l->param_name[i], name) == 0) {
            *out = i;
            return RNN_OK;
        }
    return RNN__ERR(RNN_ERR_RANGE, "layer %s has no parameter \"%s\"", l->name, name);
}

rnn_status rnn_layer_params_changed(rnn_layer *layer)
{
    RNN__CHECK_ARG(layer);
    layer->params_version++;
    if (layer->vt->params_changed)
        layer->vt->params_changed(layer);
    rnn__layer_sync_shared(layer);
    layer->model->trained_forward = 0;
    return RNN_OK;
}

rnn_status rnn_layer_set_param(rnn_layer *l, int index, const rnn_tensor *value)
{
    RNN__CHECK_ARG_AS(l, "layer");
    RNN__CHECK_ARG(value);
    if (index < 0 || index >= l->n_params)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) for layer %s (got %d)",
                        l->n_params, l->name, index);
    rnn_tensor *p = l->param[index];
    if (value->dtype != RNN_F32)
        return RNN__ERR(RNN_ERR_DTYPE, "value must be RNN_F32 (got dtype %d)", (int)value->dtype);
    int same = value->rank == p->rank;
    for (int i = 0; same && i < p->rank; i++)
        same = value->dims[i] == p->dims[i];
    if (!same)
        return RNN__ERR(RNN_ERR_SHAPE, "value must have the shape of %s/%s (%lld elements, rank "
                                       "%d) (got %lld elements, rank %d)",
                        l->name, l->param_name[index], (long long)p->numel, p->rank,
                        (long long)value->numel, value->rank);
    memcpy(p->data, value->data, p->nbytes);
    return rnn_layer_params_changed(l);
}

rnn_status rnn_layer_set_trainable(rnn_layer *layer, int trainable)
{
    RNN__CHECK_ARG(layer);
    layer->trainable = trainable != 0;
    rnn__layer_sync_shared(layer);
    return RNN_OK;
}

rnn_status rnn_layer_trainable(const rnn_layer *layer, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(layer);
    *out = layer->trainable != 0;
    return RNN_OK;
}

rnn_status rnn_layer_num_outputs(const rnn_layer *layer, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(layer);
    *out = layer->n_outputs;
    return RNN_OK;
}

rnn_status rnn_layer_output(const rnn_layer *l, int index, const rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG_AS(l, "layer");
    if (index < 0 || index >= l->n_outputs)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) for layer %s (got %d)",
                        l->n_outputs, l->name, index);
    if (is_input(l)) {
        if (!rnn__node_out(l, 0))
            return RNN__ERR(RNN_ERR_STATE, "no forward has run yet");
        *out = rnn__node_out(l, 0);
        return RNN_OK;
    }
    if (!l->out[index])
        return RNN__ERR(RNN_ERR_STATE, "no forward has run yet");
    *out = l->out[index];
    return RNN_OK;
}
