/* SPDX-License-Identifier: Apache-2.0 */
/* A recurrent layer's states: initial states given by the caller or
 * connected to other layers, their gradients, and the stateful carry. */
#include <stdio.h>
#include <string.h>

#include "layers/recurrent.h"
#include "model/add.h"

static rnn_status as_recurrent(const char *func, const rnn_layer *l, rnn__recurrent **out)
{
    if (!l)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "layer must not be NULL");
    if (l->ops != &rnn__recurrent_ops)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "layer %s is not a recurrent layer", l->name);
    *out = l->impl;
    return RNN_OK;
}

rnn_status rnn__recurrent_impl(const char *func, const rnn_layer *l, rnn__recurrent **out)
{
    return as_recurrent(func, l, out);
}

rnn_status rnn_layer_num_states(const rnn_layer *l, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    *out = r->ndir * r->ns;
    return RNN_OK;
}

rnn_status rnn_layer_set_initial_state(rnn_layer *l, int count, const rnn_tensor *const *states)
{
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    int want = r->ndir * r->ns;
    if (l->n_in > 1)
        return RNN__ERR(RNN_ERR_STATE,
                        "layer %s takes its initial states from other layers "
                        "(rnn_layer_connect_initial_state)",
                        l->name);
    if (count != 0 && count != want)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "count must be 0 or %d for layer %s (got %d)", want,
                        l->name, count);
    if (count)
        RNN__CHECK_ARG(states);
    for (int k = 0; k < count; k++) {
        const rnn_tensor *s = states[k];
        if (!s)
            return RNN__ERR(RNN_ERR_INVALID_ARG, "states[%d] must not be NULL", k);
        if (s->dtype != RNN_F32)
            return RNN__ERR(RNN_ERR_DTYPE, "states[%d] must be RNN_F32", k);
        if (s->rank != 2 || s->dims[1] != r->H || s->dims[0] != states[0]->dims[0])
            return RNN__ERR(RNN_ERR_SHAPE,
                            "states[%d] must have shape (batch, %lld), the same batch for all",
                            k, (long long)r->H);
    }
    rnn_tensor *copies[4] = {0};
    for (int k = 0; k < count; k++)
        if ((st = rnn_tensor_clone(states[k], &copies[k]))) {
            for (int j = 0; j < k; j++)
                rnn_tensor_destroy(copies[j]);
            return RNN__NOMEM(states[k]->nbytes);
        }
    for (int k = 0; k < 4; k++) {
        rnn_tensor_destroy(r->init[k]);
        r->init[k] = copies[k];
    }
    r->n_init = count;
    rnn__model_changed(l->model);
    return RNN_OK;
}

rnn_status rnn_layer_connect_initial_state(rnn_layer *l, int count, rnn_layer *const *sources,
                                           const int *outputs)
{
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    const int want = r->ndir * r->ns;
    if (count != want)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "count must be %d for layer %s (its states: h%s per direction) (got %d)",
                        want, l->name, r->ns == 2 ? " and c" : "", count);
    RNN__CHECK_ARG(sources);
    rnn__src src[RNN__MAX_IN] = {rnn__port_src(l->in[0])};
    for (int k = 0; k < count; k++) {
        char what[24];
        snprintf(what, sizeof what, "sources[%d]", k);
        const rnn__port p = {sources[k], outputs ? outputs[k] : 0};
        if ((st = rnn__model_check_port(__func__, what, l->model, p)))
            return st;
        if (p.layer->index >= l->index)
            return RNN__ERR(RNN_ERR_INVALID_ARG,
                            "sources[%d] (%s) must be added before layer %s", k, p.layer->name,
                            l->name);
        src[1 + k] = rnn__port_src(p);
        if (src[1 + k].d.dtype != RNN_F32 || src[1 + k].d.seq ||
            src[1 + k].d.features != r->H)
            return RNN__ERR(RNN_ERR_SHAPE,
                            "sources[%d]: output %d of %s must be f32 vectors (N, %lld) to be a "
                            "state of %s",
                            k, p.output, p.layer->name, (long long)r->H, l->name);
    }
    if (r->o->stateful)
        return RNN__ERR(RNN_ERR_STATE, "layer %s is stateful: it carries its own states",
                        l->name);
    for (int k = 0; k < count; k++)
        l->in[1 + k] = (rnn__port){sources[k], outputs ? outputs[k] : 0};
    l->n_in = 1 + count;
    rnn__model_changed(l->model);
    return RNN_OK;
}

rnn_status rnn_layer_initial_state_grad(const rnn_layer *l, int index, const rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    if (index < 0 || index >= r->n_init)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (the initial states set) (got %d)",
                        r->n_init, index);
    if (!r->init_grad[index])
        return RNN__ERR(RNN_ERR_STATE, "no backward has run since the initial states were set");
    *out = r->init_grad[index];
    return RNN_OK;
}

rnn_status rnn_layer_reset_states(rnn_layer *l)
{
    rnn__recurrent *r = NULL;
    rnn_status st = as_recurrent(__func__, l, &r);
    if (st)
        return st;
    r->carry_valid = 0;
    return RNN_OK;
}
