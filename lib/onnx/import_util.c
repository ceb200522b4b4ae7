/* SPDX-License-Identifier: Apache-2.0 */
/* ONNX import: helpers shared by the operators (inputs, attributes, axes,
 * constant vectors, new layers and their views). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define UNSUP(...) ox_node_fail(c, RNN_ERR_UNSUPPORTED, __VA_ARGS__)
#define BAD(...) ox_node_fail(c, RNN_ERR_FORMAT, __VA_ARGS__)

int ox_op_is(const ox_ctx *c, const char *name)
{
    return strcmp(c->node->op_type, name) == 0;
}

/* The node's input k, which must be present and computed. */
rnn_status ox_need(ox_ctx *c, int k, ox_val **v)
{
    *v = ox_in(c, k);
    if (!*v || (*v)->kind == OX_NONE)
        return BAD("input %d is missing or computed by no node", k);
    return RNN_OK;
}

rnn_status ox_out0(ox_ctx *c, ox_val **v)
{
    *v = ox_out(c, 0);
    if (!*v)
        return BAD("output 0 is missing");
    return RNN_OK;
}

rnn_status ox_in_out(ox_ctx *c, ox_val **x, ox_val **o)
{
    rnn_status st = ox_need(c, 0, x);
    return st ? st : ox_out0(c, o);
}

rnn_status ox_in2_out(ox_ctx *c, ox_val **a, ox_val **b, ox_val **o)
{
    rnn_status st = ox_need(c, 0, a);
    if (!st)
        st = ox_need(c, 1, b);
    return st ? st : ox_out0(c, o);
}

rnn_status ox_norm_axis(ox_ctx *c, int64_t axis, int rank, int *out)
{
    *out = 0;
    if (axis < -rank || axis >= rank)
        return BAD("axis %lld is outside a rank-%d tensor", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return RNN_OK;
}

/* A constant integer vector (or scalar) as a list. */
rnn_status ox_const_ints(ox_ctx *c, ox_val *v, const char *what, int64_t *vals, int *n)
{
    if (!v || v->kind != OX_CONST || v->dtype != OX_INT64 || v->rank > 1 || v->n > OX_MAX_RANK)
        return UNSUP("%s must be a constant integer vector of at most %d entries", what,
                     OX_MAX_RANK);
    for (int64_t k = 0; k < v->n; k++)
        vals[k] = v->i[k];
    *n = (int)v->n;
    return RNN_OK;
}

/* Axes from the attribute (opset < 13) or from input 1. */
rnn_status ox_axes_of(ox_ctx *c, int64_t *axes, int *n, int *given)
{
    const Onnx__AttributeProto *a = ox_attr(c, "axes");
    *given = 0;
    *n = 0;
    if (a) {
        if (a->n_ints > OX_MAX_RANK)
            return UNSUP("too many axes");
        for (size_t k = 0; k < a->n_ints; k++)
            axes[k] = a->ints[k];
        *n = (int)a->n_ints;
        *given = 1;
        return RNN_OK;
    }
    if (ox_in_present(c, 1)) {
        *given = 1;
        return ox_const_ints(c, ox_in(c, 1), "axes", axes, n);
    }
    return RNN_OK;
}

rnn_status ox_copy_val(ox_ctx *c, ox_val *dst, const ox_val *src)
{
    *dst = *src;
    dst->f = NULL;
    dst->i = NULL;
    if (src->kind != OX_CONST)
        return RNN_OK;
    if (src->f) {
        dst->f = malloc((size_t)src->n * 4 + 4);
        if (!dst->f)
            return ox_node_fail(c, RNN_ERR_NOMEM, "out of memory");
        memcpy(dst->f, src->f, (size_t)src->n * 4);
    }
    if (src->i) {
        dst->i = malloc((size_t)src->n * 8 + 8);
        if (!dst->i)
            return ox_node_fail(c, RNN_ERR_NOMEM, "out of memory");
        memcpy(dst->i, src->i, (size_t)src->n * 8);
    }
    return RNN_OK;
}

rnn_status ox_make_ints(ox_ctx *c, ox_val *v, int rank, const int64_t *vals, int n)
{
    memset(v, 0, sizeof *v);
    v->kind = OX_CONST;
    v->dtype = OX_INT64;
    v->rank = rank;
    v->dims[0] = n;
    v->n = n;
    v->i = malloc((size_t)n * 8 + 8);
    if (!v->i)
        return ox_node_fail(c, RNN_ERR_NOMEM, "out of memory");
    memcpy(v->i, vals, (size_t)n * 8);
    return RNN_OK;
}

/* A 1-D symbolic vector from a CONST int vector or a SHAPE. */
int ox_as_sym(const ox_val *v, int64_t *sym, int *n)
{
    if (v->kind == OX_SHAPE) {
        memcpy(sym, v->sym, sizeof v->sym);
        *n = v->nsym;
        return 1;
    }
    if (v->kind == OX_CONST && v->dtype == OX_INT64 && v->rank <= 1 && v->n <= OX_MAX_RANK) {
        for (int64_t k = 0; k < v->n; k++)
            sym[k] = v->i[k];
        *n = (int)v->n;
        return 1;
    }
    return 0;
}

void ox_set_sym(ox_val *v, ox_kind kind, const int64_t *sym, int n, int scalar)
{
    memset(v, 0, sizeof *v);
    v->kind = kind;
    memcpy(v->sym, sym, (size_t)n * sizeof *sym);
    v->nsym = n;
    v->rank = scalar ? 0 : 1;
}

/* Symbolic vectors with only constants become CONST. */
rnn_status ox_store_sym(ox_ctx *c, ox_val *o, const int64_t *sym, int n, int scalar)
{
    for (int k = 0; k < n; k++)
        if (sym[k] < 0)
            return ox_set_sym(o, OX_SHAPE, sym, n, scalar), RNN_OK;
    return ox_make_ints(c, o, scalar ? 0 : 1, sym, n);
}

/* ---------------------------------------------------------------- layer helpers */

/* A value a new layer may read: not one direction of a bidirectional output
 * (a Slice of Y), and, unless @p reversed_ok, not in reverse time order. */
rnn_status ox_plain(ox_ctx *c, const ox_val *v, int reversed_ok)
{
    if (v->kind != OX_TENSOR)
        return RNN_OK;
    if (v->sel)
        return UNSUP("reads one direction of a bidirectional recurrent output (a Slice of Y): "
                     "librnn has no layer that selects it; only the Concat that joins the "
                     "directions again is read");
    if (v->reversed && !reversed_ok)
        return UNSUP("reads a sequence in reverse time order (a ReverseSequence, or Y of a "
                     "'reverse' recurrent operator, which ONNX gives in input order where "
                     "librnn's go_backwards gives processing order): only a recurrent operator, "
                     "a pooling over time or a ReverseSequence back to librnn's order reads it");
    return RNN_OK;
}

rnn_status ox_connect(ox_ctx *c, const ox_val *v)
{
    rnn_status st = ox_plain(c, v, 0);
    if (st)
        return st;
    st = rnn_model_connect_next(c->m, v->layer[0], v->out[0]);
    return st ? ox_wrap_librnn(c, st, "connecting") : RNN_OK;
}

rnn_status ox_tensor_of(ox_ctx *c, const float *data, int rank, const int64_t *dims,
                            rnn_tensor **t)
{
    rnn_status st = rnn_tensor_create(RNN_F32, rank, dims, t);
    if (st)
        return ox_wrap_librnn(c, st, "a weight tensor");
    void *p;
    rnn_tensor_data(*t, &p);
    size_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= (size_t)dims[k];
    if (data)
        memcpy(p, data, n * 4);
    else
        memset(p, 0, n * 4);
    return RNN_OK;
}

rnn_status ox_set_param(ox_ctx *c, rnn_layer *l, int index, const float *data, int rank,
                            const int64_t *dims)
{
    rnn_tensor *t;
    rnn_status st = ox_tensor_of(c, data, rank, dims, &t);
    if (st)
        return st;
    st = rnn_layer_set_param(l, index, t);
    rnn_tensor_destroy(t);
    return st ? ox_wrap_librnn(c, st, "setting a parameter") : RNN_OK;
}

/* The output of a new layer that keeps its input's view (element-wise layers). */
void ox_same_view_port(ox_val *o, const ox_val *in, rnn_layer *l)
{
    *o = *in;
    o->f = NULL, o->i = NULL;
    o->layer[0] = l;
    o->out[0] = 0;
    o->pending_bias = 0;
    o->is_ids = 0;
    o->last_port = 0;
    o->first_port = 0;
}

int ox_features_last(const ox_val *v)
{
    return v->kind == OX_TENSOR && v->nport == 1 && !v->is_ids && v->vrank >= 1 &&
           ox_axis_is_features(v, v->vrank - 1);
}

/* The feature count of a TENSOR's ports. */
int64_t ox_features(const ox_val *v)
{
    int64_t F = 1;
    for (int k = 0; k < v->nfa; k++)
        F *= v->fa[k];
    return F;
}

/* The output of a layer that replaced the last (feature) axis by @p units. */
void ox_new_features_port(ox_val *o, const ox_val *in, rnn_layer *l, int64_t units)
{
    ox_same_view_port(o, in, l);
    o->nfa = units > 1;
    o->fa[0] = units;
    int last = o->vrank - 1;
    o->axn[last] = o->nfa;
    if (o->nfa)
        o->ax[last][0] = OX_ATOM_F;
}

