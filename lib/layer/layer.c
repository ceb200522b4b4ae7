/* SPDX-License-Identifier: Apache-2.0 */
/* The layer framework: creating a layer from its kind and options, its
 * ports, parameters, dropout masks, and freeing it. */
#include <stdio.h>
#include <string.h>

#include "layer/layer.h"

rnn__src rnn__port_src(rnn__port p)
{
    const rnn_layer *l = p.layer;
    const int k = p.output;
    rnn__src s = {l->name,
                  {l->out_dtype[k], l->out_seq[k], l->out_steps[k], l->out_features[k],
                   l->out_aux[k]}};
    return s;
}

uint64_t rnn__spec_params(const rnn__spec *s, int *ok)
{
    uint64_t total = 0;
    *ok = 1;
    for (int p = 0; p < s->n_params; p++) {
        uint64_t n = 1;
        for (int d = 0; d < s->param_rank[p]; d++)
            if (s->param_dims[p][d] < 1 ||
                __builtin_mul_overflow(n, (uint64_t)s->param_dims[p][d], &n))
                *ok = 0;
        if (__builtin_add_overflow(total, n, &total))
            *ok = 0;
    }
    return *ok ? total : 0;
}

static rnn_status add_param(const char *func, rnn_layer *l, const char *name, int rank,
                            const int64_t *dims)
{
    int i = l->n_params;
    rnn_status st = rnn_tensor_create(RNN_F32, rank, dims, &l->param[i]);
    if (!st)
        st = rnn_tensor_create(RNN_F32, rank, dims, &l->grad[i]);
    if (st) {
        rnn_tensor_destroy(l->param[i]);
        l->param[i] = NULL;
        return rnn__err_wrap(st, func, "parameter %s", name);
    }
    snprintf(l->param_name[i], sizeof l->param_name[i], "%s", name);
    l->n_params++;
    return RNN_OK;
}

rnn_status rnn__layer_infer(const char *func, const rnn__layer_ops *ops, const void *opts,
                            int n_in, const rnn__src *in, rnn__spec *spec)
{
    memset(spec, 0, sizeof *spec);
    if (n_in < ops->min_in || n_in > ops->max_in || n_in > RNN__MAX_IN)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "a %s layer takes %d to %d inputs (got %d)",
                        ops->kind, ops->min_in, ops->max_in, n_in);
    rnn_status st = rnn__fields_check(func, ops->fields, opts);
    if (!st)
        st = ops->infer(func, opts, n_in, in, spec);
    /* Sequence outputs keep their producer's static steps unless set. */
    for (int k = 0; !st && n_in && k < spec->n_outputs; k++)
        if (spec->out[k].seq && spec->out[k].steps == 0)
            spec->out[k].steps = in[0].d.steps;
    return st;
}

rnn_status rnn__layer_create(const char *func, const rnn__layer_ops *ops, const void *opts,
                             int n_in, const rnn__port *in, rnn__rng *rng, rnn_layer **out)
{
    *out = NULL;
    rnn__src src[RNN__MAX_IN];
    for (int k = 0; k < n_in && k < RNN__MAX_IN; k++)
        src[k] = rnn__port_src(in[k]);
    rnn__spec spec;
    rnn_status st = rnn__layer_infer(func, ops, opts, n_in, src, &spec);
    if (st)
        return st;
    rnn_layer *l = rnn__calloc(1, sizeof *l);
    void *o = rnn__calloc(1, ops->options_size ? ops->options_size : 1);
    void *impl = ops->impl_size ? rnn__calloc(1, ops->impl_size) : NULL;
    if (!l || !o || (ops->impl_size && !impl)) {
        rnn__free(l);
        rnn__free(o);
        rnn__free(impl);
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %zu bytes",
                        sizeof *l + ops->options_size + ops->impl_size);
    }
    memcpy(o, opts, ops->options_size);
    l->ops = ops;
    l->opts = o;
    l->impl = impl;
    l->trainable = ops->min_in > 0; /* an input has nothing to train */
    l->base = spec.base ? spec.base : ops->kind;
    l->stateful = spec.stateful;
    l->n_in = n_in;
    for (int k = 0; k < n_in; k++)
        l->in[k] = in[k];
    l->n_outputs = spec.n_outputs;
    for (int k = 0; k < spec.n_outputs; k++) {
        l->out_dtype[k] = spec.out[k].dtype;
        l->out_seq[k] = spec.out[k].seq;
        l->out_steps[k] = spec.out[k].steps;
        l->out_features[k] = spec.out[k].features;
        l->out_aux[k] = spec.out[k].aux;
    }
    for (int p = 0; p < spec.n_params && !st; p++)
        st = add_param(func, l, spec.param_name[p], spec.param_rank[p], spec.param_dims[p]);
    if (!st && ops->build)
        st = ops->build(l);
    if (!st && rng && ops->init_params) {
        st = ops->init_params(l, rng);
        if (st)
            st = rnn__err_wrap(st, func, "cannot initialise the parameters");
    }
    if (st) {
        rnn__layer_free(l);
        return st;
    }
    *out = l;
    return RNN_OK;
}

void rnn__layer_free(rnn_layer *l)
{
    if (!l)
        return;
    if (l->ops && l->ops->destroy && l->impl)
        l->ops->destroy(l);
    for (int i = 0; i < RNN__MAX_OUTPUTS; i++) {
        rnn_tensor_destroy(l->out[i]);
        rnn_tensor_destroy(l->dout[i]);
    }
    for (int i = 0; i < l->n_params; i++) { /* 0 for a shared application */
        rnn_tensor_destroy(l->param[i]);
        rnn_tensor_destroy(l->grad[i]);
    }
    rnn__free(l->impl);
    rnn__free(l->opts);
    rnn__free(l);
}

const char *rnn__layer_type_name(const rnn_layer *l)
{
    return l->ops->type_name(l->opts);
}

const rnn_tensor *rnn__node_out(const rnn_layer *p, int k)
{
    return p->fed ? p->fed : p->out[k];
}

const rnn_tensor *rnn__layer_input(const rnn_layer *l, int k)
{
    return rnn__node_out(l->in[k].layer, l->in[k].output);
}

const int32_t *rnn__layer_input_len(const rnn_layer *l, int k)
{
    return l->in[k].layer->out_len[l->in[k].output];
}

rnn_tensor *rnn__layer_input_grad(rnn_layer *l, int k)
{
    rnn_layer *p = l->in[k].layer;
    const int o = l->in[k].output;
    return p->out_dtype[o] == RNN_F32 ? p->dout[o] : NULL;
}

rnn_status rnn__tensor_ensure_as(rnn_tensor **tp, rnn_dtype dtype, int rank, const int64_t *dims,
                                 int zero)
{
    int64_t numel;
    size_t nbytes;
    rnn_status st = rnn__shape_check(NULL, dtype, rank, dims, &numel, &nbytes);
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
        *tp = n;
        return RNN_OK; /* already zero */
    }
    if (zero)
        rnn__zero(t->data, nbytes);
    return RNN_OK;
}

rnn_status rnn__tensor_ensure(rnn_tensor **tp, int rank, const int64_t *dims, int zero)
{
    return rnn__tensor_ensure_as(tp, RNN_F32, rank, dims, zero);
}


const char *rnn__step_any(const rnn_layer *l, const int *in_step)
{
    (void)l;
    (void)in_step;
    return NULL;
}

double rnn__layer_field(const rnn_layer *l, const char *name, int *found)
{
    for (const rnn__field *f = l->ops->fields; f && f->name; f++)
        if (!strcmp(f->name, name)) {
            *found = 1;
            return rnn__field_get(f, l->opts);
        }
    *found = 0;
    return 0;
}
