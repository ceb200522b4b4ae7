/* SPDX-License-Identifier: Apache-2.0 */
/* The public rnn_layer_* queries: name, type, parameters, outputs, trainable. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "model/graph.h"

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
    if (trainable != 0 && trainable != 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "trainable must be 0 or 1 (got %d)", trainable);
    layer->trainable = trainable;
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
    if (!rnn__node_out(l, index))
        return RNN__ERR(RNN_ERR_STATE, "no forward has run yet");
    *out = rnn__node_out(l, index);
    return RNN_OK;
}

/* A layer's configuration: its kind's fields, by name. */
json_t *rnn__layer_config_json(const rnn_layer *l)
{
    json_t *c = json_object();
    for (const rnn__field *f = l->ops->fields; c && f->name; f++) {
        const double v = rnn__field_get(f, l->opts);
        json_t *j = NULL;
        switch (f->type) {
        case RNN__FIELD_BOOL: j = json_boolean(v != 0); break;
        case RNN__FIELD_INT: j = json_integer((json_int_t)v); break;
        case RNN__FIELD_FLOAT: j = json_real(v); break;
        case RNN__FIELD_ENUM:
            j = v >= 0 && v < f->n_names && f->names[(int)v] ? json_string(f->names[(int)v])
                                                            : NULL;
            break;
        }
        if (json_object_set_new(c, f->name, j)) {
            json_decref(c);
            return NULL;
        }
    }
    return c;
}

rnn_status rnn_layer_config(const rnn_layer *layer, char *buf, size_t size, size_t *needed)
{
    if (needed)
        *needed = 0;
    RNN__CHECK_ARG(layer);
    if (size > 0) {
        RNN__CHECK_ARG(buf);
        buf[0] = 0;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:o}", "kind", layer->ops->kind, "class_name",
                          rnn__layer_type_name(layer), "name", layer->name, "trainable",
                          layer->trainable, "config", rnn__layer_config_json(layer));
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return RNN__ERR(RNN_ERR_NOMEM, "out of memory while writing the configuration");
    const size_t n = strlen(s) + 1;
    if (size > 0) {
        memcpy(buf, s, n <= size ? n : size - 1);
        buf[n <= size ? n - 1 : size - 1] = 0;
    }
    free(s);
    if (needed)
        *needed = n;
    return RNN_OK;
}

rnn_status rnn_layer_num_inputs(const rnn_layer *layer, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(layer);
    *out = layer->n_in;
    return RNN_OK;
}

rnn_status rnn_layer_input(const rnn_layer *layer, int index, const rnn_layer **producer,
                           int *output)
{
    RNN__CHECK_ARG(producer);
    *producer = NULL;
    RNN__CHECK_ARG(output);
    *output = 0;
    RNN__CHECK_ARG(layer);
    if (index < 0 || index >= layer->n_in)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", layer->n_in, index);
    *producer = layer->in[index].layer;
    *output = layer->in[index].output;
    return RNN_OK;
}
