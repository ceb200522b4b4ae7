/* SPDX-License-Identifier: Apache-2.0 */
/* The public rnn_layer_* queries: name, type, parameters, outputs, trainable. */
#include <string.h>

#include "model/model.h"

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
    if (layer->ops->params_changed)
        layer->ops->params_changed(layer);
    rnn__layer_sync_shared(layer);
    rnn__model_changed(layer->model);
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

rnn_status rnn_layer_output(rnn_layer *l, int index, const rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG_AS(l, "layer");
    if (index < 0 || index >= l->n_outputs)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) for layer %s (got %d)",
                        l->n_outputs, l->name, index);
    if (!rnn__node_out(l, index))
        return RNN__ERR(RNN_ERR_STATE, "no forward has run yet");
    *out = rnn__node_out(l, index);
    return RNN_OK;
}
