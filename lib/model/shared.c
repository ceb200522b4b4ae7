/* SPDX-License-Identifier: Apache-2.0 */
/* Shared layers: one set of parameters applied at several places of the
 * graph (Keras: calling the same layer object on two tensors). */
#include <string.h>

#include "model/graph.h"

/* Appends a fresh layer of the same kind and options as src, reading the
 * current producer. */
static rnn_status add_like(rnn_model *m, const rnn_layer *src, rnn_layer **out)
{
    const char *k = src->vt->kind;
    const void *o = src->vt->options(src);
    if (!strcmp(k, "recurrent"))
        return rnn_model_add_recurrent(m, o, out);
    if (!strcmp(k, "dense"))
        return rnn_model_add_dense(m, o, out);
    if (!strcmp(k, "embedding"))
        return rnn_model_add_embedding(m, o, out);
    if (!strcmp(k, "conv1d"))
        return rnn_model_add_conv1d(m, o, out);
    if (!strcmp(k, "dropout"))
        return rnn_model_add_dropout(m, ((const rnn__simple_desc *)o)->rate, out);
    if (!strcmp(k, "spatial_dropout1d"))
        return rnn_model_add_spatial_dropout1d(m, ((const rnn__simple_desc *)o)->rate, out);
    if (!strcmp(k, "activation"))
        return rnn_model_add_activation(m, ((const rnn__simple_desc *)o)->act, out);
    if (!strcmp(k, "global_pooling"))
        return rnn_model_add_global_pooling(m, ((const rnn__simple_desc *)o)->pool, out);
    if (!strcmp(k, "max_pooling1d")) {
        const rnn__pool_desc *p = o;
        return rnn_model_add_max_pooling1d(m, p->pool_size, p->strides, p->padding, out);
    }
    if (!strcmp(k, "flatten"))
        return rnn_model_add_flatten(m, out);
    if (!strcmp(k, "repeat_vector"))
        return rnn_model_add_repeat_vector(m, ((const rnn__shape_desc *)o)->n, out);
    return rnn__err(RNN_ERR_INVALID_ARG, "rnn_model_add_shared",
                    "layer %s (%s) cannot be applied again", src->name, k);
}

rnn_status rnn_model_add_shared(rnn_model *m, rnn_layer *source, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(source);
    if (source->model != m)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "source (%s) belongs to another model", source->name);
    rnn_layer *root = source->shared_from ? source->shared_from : source;
    if (root->index == 0 || !root->vt->options)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "source (%s) is an input layer", root->name);
    rnn_layer *l;
    rnn_status st = add_like(m, root, &l);
    if (st)
        return RNN__WRAP(st, "applying %s again", root->name);
    if (l->n_params != root->n_params) /* same options, same parameter list */
        return RNN__ERR(RNN_ERR_INTERNAL, "layer %s: parameter lists differ", l->name);
    for (int p = 0; p < l->n_params; p++) {
        rnn_tensor_destroy(l->param[p]);
        rnn_tensor_destroy(l->grad[p]);
        l->param[p] = root->param[p];
        l->grad[p] = root->grad[p];
    }
    l->n_shared_params = l->n_params;
    l->n_params = 0;
    l->shared_from = root;
    l->trainable = root->trainable;
    l->params_version = root->params_version + 1;
    if (l->vt->params_changed)
        l->vt->params_changed(l);
    if (out)
        *out = l;
    return RNN_OK;
}

void rnn__layer_sync_shared(rnn_layer *root)
{
    rnn_model *m = root->model;
    for (int i = 0; m && i < m->n_layers; i++) {
        rnn_layer *s = m->layers[i];
        if (s->shared_from != root)
            continue;
        s->params_version++;
        s->trainable = root->trainable;
        if (s->vt->params_changed)
            s->vt->params_changed(s);
    }
}
