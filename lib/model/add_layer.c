/* SPDX-License-Identifier: Apache-2.0 */
/* rnn_model_add_layer: any kind, by its name and a JSON configuration read
 * through the kind's field table (what bindings and model importers use). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "model/graph.h"

rnn_status rnn_model_add_layer(rnn_model *model, const char *kind, const char *config, int count,
                               rnn_layer *const *layers, const int *outputs, rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(kind);
    const rnn__layer_ops *ops = rnn__kind_find(kind);
    if (!ops)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "kind \"%.64s\" is not a layer kind of this library",
                        kind);
    if (count < 0 || count > RNN__MAX_IN)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be in 0..%d (got %d)", RNN__MAX_IN,
                        count);
    if (count)
        RNN__CHECK_ARG(layers);
    rnn__port in[RNN__MAX_IN];
    for (int k = 0; k < count; k++)
        in[k] = (rnn__port){layers[k], outputs ? outputs[k] : 0};
    void *opts = rnn__calloc(1, ops->options_size ? ops->options_size : 1);
    if (!opts)
        return RNN__NOMEM(ops->options_size);
    if (ops->options_init)
        ops->options_init(opts);
    rnn_status st = RNN_OK;
    if (config && *config) {
        json_error_t je;
        json_t *c = json_loads(config, JSON_REJECT_DUPLICATES, &je);
        if (!c)
            st = RNN__ERR(RNN_ERR_INVALID_ARG, "config is not JSON (%.120s at offset %d)",
                          je.text, je.position);
        else
            st = rnn__fields_from_json(__func__, "config", ops->fields, c, opts, 0);
        json_decref(c);
    }
    if (!st)
        st = rnn__model_add(__func__, model, ops, opts, count, in, out);
    rnn__free(opts);
    return st;
}
