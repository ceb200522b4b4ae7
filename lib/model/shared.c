/* SPDX-License-Identifier: Apache-2.0 */
/* Shared layers: one set of parameters applied at several places of the
 * graph (Keras: calling the same layer object on two tensors). */
#include <string.h>

#include "model/graph.h"

rnn_status rnn_model_add_shared(rnn_model *m, rnn_layer *source, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(source);
    if (source->model != m)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "source (%s) belongs to another model", source->name);
    rnn_layer *root = source->shared_from ? source->shared_from : source;
    if (root->n_in == 0)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "source (%s) is an input layer", root->name);
    if (root->ops->min_in != 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "layer %s (%s) cannot be applied again",
                        root->name, rnn__layer_type_name(root));
    /* A fresh layer of the same kind and options, reading the next producer. */
    rnn_layer *l;
    rnn_status st = rnn__model_add(__func__, m, root->ops, root->opts, 0, NULL, &l);
    if (st)
        return RNN__WRAP(st, "applying %s again", root->name);
    if (l->n_params != root->n_params) /* same options, same parameter list */
        return RNN__ERR(RNN_ERR_INTERNAL, "layer %s: parameter lists differ", l->name);
    /* The parameter table without this layer's own parameters first: on
     * failure the layer stays a plain (unshared) one and the model is sound. */
    const int n = l->n_params;
    l->n_params = 0;
    if ((st = rnn__model_rebuild_params(__func__, m))) {
        l->n_params = n;
        return st;
    }
    for (int p = 0; p < n; p++) {
        rnn_tensor_destroy(l->param[p]);
        rnn_tensor_destroy(l->grad[p]);
        l->param[p] = root->param[p];
        l->grad[p] = root->grad[p];
    }
    l->n_shared_params = n;
    l->shared_from = root;
    l->trainable = root->trainable;
    l->params_version = root->params_version + 1;
    if (l->ops->params_changed)
        l->ops->params_changed(l);
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
        if (s->ops->params_changed)
            s->ops->params_changed(s);
    }
}
