/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import: one function per operator. Shape arithmetic is folded on
 * constants and symbolic dimensions; layout operators (Transpose, Squeeze,
 * Unsqueeze, Reshape, Gather on a stacked axis, Concat) change a TENSOR's
 * view without adding layers; the rest become librnn layers. What has no
 * exact librnn equivalent is refused (RNN_ERR_UNSUPPORTED), never
 * approximated.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define UNSUP(...) ox_node_fail(c, RNN_ERR_UNSUPPORTED, __VA_ARGS__)
#define BAD(...) ox_node_fail(c, RNN_ERR_FORMAT, __VA_ARGS__)

/* ---------------------------------------------------------------- constants and shapes */

static rnn_status op_constant(ox_ctx *c)
{
    ox_val *o;
    rnn_status st = ox_out0(c, &o);
    if (st)
        return st;
    const Onnx__AttributeProto *a = ox_attr(c, "value");
    if (a && a->t)
        return ox_tensor_read(a->t, o) ? ox_node_fail(c, RNN_ERR_FORMAT, "%s", rnn_last_error())
                                       : RNN_OK;
    if ((a = ox_attr(c, "value_int")) && a->has_i)
        return ox_make_ints(c, o, 0, &a->i, 1);
    if ((a = ox_attr(c, "value_ints")) && a->n_ints <= OX_MAX_RANK)
        return ox_make_ints(c, o, 1, a->ints, (int)a->n_ints);
    return UNSUP("only 'value' (float or integer tensors), 'value_int' and 'value_ints' are read");
}

static rnn_status op_shape(ox_ctx *c)
{
    ox_val *x, *o;
    rnn_status st = ox_in_out(c, &x, &o);
    if (st)
        return st;
    if (ox_attr(c, "start") || ox_attr(c, "end"))
        return UNSUP("attributes 'start'/'end' are not read");
    int64_t sym[OX_MAX_RANK];
    int n;
    if (x->kind == OX_TENSOR) {
        n = x->vrank;
        for (int k = 0; k < n; k++)
            sym[k] = ox_axis_size(x, k);
    } else if (x->kind == OX_ZEROS) {
        n = x->nsym;
        memcpy(sym, x->sym, sizeof sym);
    } else if (x->kind == OX_CONST) {
        n = x->rank;
        memcpy(sym, x->dims, sizeof sym);
    } else {
        return UNSUP("the shape of a shape is not read");
    }
    return ox_store_sym(c, o, sym, n, 0);
}

static rnn_status op_constant_of_shape(ox_ctx *c)
{
    ox_val *s, *o;
    rnn_status st = ox_in_out(c, &s, &o);
    if (st)
        return st;
    const Onnx__AttributeProto *a = ox_attr(c, "value");
    if (a && a->t) {
        ox_val t;
        st = ox_tensor_read(a->t, &t);
        int zero = !st && t.n == 1 && ((t.f && t.f[0] == 0.0f) || (t.i && t.i[0] == 0));
        ox_val_clear(&t);
        if (!zero)
            return UNSUP("only a zero 'value' is read (a default initial state)");
    }
    int64_t sym[OX_MAX_RANK];
    int n;
    if (!ox_as_sym(s, sym, &n))
        return UNSUP("the shape must be a constant or computed from Shape");
    ox_set_sym(o, OX_ZEROS, sym, n, 0);
    return RNN_OK;
}

/* Expand: zeros broadcast to a shape (an initial state, as ConstantOfShape),
 * or one dimension repeated over the batch (tf2onnx's sequence_lens of a
 * ReverseSequence: the steps of every sample). */
static rnn_status op_expand(ox_ctx *c)
{
    ox_val *x, *s, *o;
    rnn_status st = ox_in2_out(c, &x, &s, &o);
    if (st)
        return st;
    int64_t shp[OX_MAX_RANK], xd[OX_MAX_RANK], res[OX_MAX_RANK];
    int ns, nx = -1;
    if (!ox_as_sym(s, shp, &ns))
        return UNSUP("the target shape must be constant or computed from Shape");
    if (x->kind == OX_ZEROS) {
        nx = x->nsym;
        memcpy(xd, x->sym, sizeof xd);
    } else if (x->kind == OX_CONST && x->n >= 1 && x->rank <= OX_MAX_RANK) {
        int zero = 1;
        for (int64_t k = 0; k < x->n; k++)
            zero = zero && (x->f ? x->f[k] == 0.0f : x->i[k] == 0);
        if (zero) {
            nx = x->rank;
            memcpy(xd, x->dims, sizeof xd);
        }
    }
    if (nx >= 0) {
        int r = nx > ns ? nx : ns;
        for (int k = 0; k < r; k++) {
            int64_t a = k - (r - nx) >= 0 ? xd[k - (r - nx)] : 1;
            int64_t b = k - (r - ns) >= 0 ? shp[k - (r - ns)] : 1;
            if (a != 1 && b != 1 && a != b)
                return UNSUP("cannot follow the broadcast of zeros (axis %d)", k);
            res[k] = a == 1 ? b : a;
        }
        ox_set_sym(o, OX_ZEROS, res, r, 0);
        return RNN_OK;
    }
    int64_t v[OX_MAX_RANK];
    int nv;
    if ((x->kind == OX_SHAPE || x->kind == OX_CONST) && ox_as_sym(x, v, &nv) && nv == 1 &&
        ns == 1 && shp[0] == OX_DIM_N) {
        ox_set_sym(o, OX_FILLED, v, 1, 0);
        return RNN_OK;
    }
    return UNSUP("only zeros, or one dimension repeated over the batch, are read");
}

/* Gather on constants and shapes. */
static rnn_status gather_ints(ox_ctx *c, ox_val *d, ox_val *idx, ox_val *o)
{
    int64_t sym[OX_MAX_RANK], ix[OX_MAX_RANK], out[OX_MAX_RANK];
    int n, ni;
    if (!ox_as_sym(d, sym, &n) || (d->kind == OX_CONST && d->rank != 1))
        return UNSUP("Gather on a constant other than a 1-D integer vector");
    rnn_status st = ox_const_ints(c, idx, "indices", ix, &ni);
    if (st)
        return st;
    for (int k = 0; k < ni; k++) {
        int a;
        if ((st = ox_norm_axis(c, ix[k], n, &a)))
            return st;
        out[k] = sym[a];
    }
    return ox_store_sym(c, o, out, ni, idx->rank == 0);
}

static rnn_status op_concat_ints(ox_ctx *c, ox_val *o)
{
    int64_t sym[OX_MAX_RANK], part[OX_MAX_RANK];
    int n = 0, np;
    for (size_t k = 0; k < c->node->n_input; k++) {
        ox_val *v = ox_in(c, (int)k);
        if (!v || !ox_as_sym(v, part, &np) || n + np > OX_MAX_RANK)
            return UNSUP("Concat of constants: only short integer vectors are read");
        memcpy(sym + n, part, (size_t)np * sizeof *part);
        n += np;
    }
    return ox_store_sym(c, o, sym, n, 0);
}

/* Slice, Unsqueeze, Squeeze, Reshape, Cast, Identity on shapes and constants. */
static rnn_status ox_shape_op(ox_ctx *c, ox_val *x, ox_val *o)
{
    int64_t sym[OX_MAX_RANK];
    int n;
    if (ox_op_is(c, "Identity") || ox_op_is(c, "Cast"))
        return ox_copy_val(c, o, x);
    if (!ox_as_sym(x, sym, &n))
        return UNSUP("this operator on a constant other than a short integer vector");
    int scalar = x->rank == 0;
    if (ox_op_is(c, "Unsqueeze")) {
        int64_t axes[OX_MAX_RANK];
        int na, given;
        rnn_status st = ox_axes_of(c, axes, &na, &given);
        if (st)
            return st;
        if (!scalar || na != 1 || (axes[0] != 0 && axes[0] != -1))
            return UNSUP("Unsqueeze of a constant: only a scalar to a 1-vector is read");
        return ox_store_sym(c, o, sym, n, 0);
    }
    if (ox_op_is(c, "Squeeze")) {
        if (scalar || n != 1)
            return UNSUP("Squeeze of a constant: only a 1-vector to a scalar is read");
        return ox_store_sym(c, o, sym, 1, 1);
    }
    if (ox_op_is(c, "Slice")) {
        int64_t start[OX_MAX_RANK], end[OX_MAX_RANK], step[OX_MAX_RANK];
        int touched[OX_MAX_RANK];
        if (scalar)
            return BAD("Slice of a scalar");
        rnn_status st = ox_slice_params(c, 1, start, end, step, touched);
        if (st)
            return st;
        int64_t s = start[0], e = end[0], out[OX_MAX_RANK];
        int m = 0;
        if (step[0] != 1)
            return UNSUP("Slice of a shape with a step other than 1");
        s = s < 0 ? s + n : s;
        e = e < 0 ? e + n : e;
        s = s < 0 ? 0 : s > n ? n : s;
        e = e < 0 ? 0 : e > n ? n : e;
        for (int64_t k = s; k < e; k++)
            out[m++] = sym[k];
        return ox_store_sym(c, o, out, m, 0);
    }
    return UNSUP("this operator on constants is not read");
}

/* ---------------------------------------------------------------- layers */

static rnn_status op_embedding(ox_ctx *c, ox_val *w, ox_val *ids, ox_val *o)
{
    if (ox_attr_i(c, "axis", 0) != 0)
        return UNSUP("an embedding lookup must gather along axis 0");
    if (w->dtype != OX_FLOAT || w->rank != 2 || w->dims[0] < 1 || w->dims[1] < 1)
        return UNSUP("Gather from a constant: only a float (vocabulary, features) table is "
                     "read as an Embedding");
    if (!ids->is_ids || ids->vrank != 2 || ids->axn[0] != 1 || ids->axn[1] != 1)
        return UNSUP("an Embedding must read a (batch, steps) token id input");
    int tm = ids->ax[0][0] == OX_ATOM_T; /* ids transposed to (steps, batch) */
    rnn_status st = ox_connect(c, ids);
    if (st)
        return st;
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = w->dims[0];
    e.output_dim = w->dims[1];
    rnn_layer *l;
    if ((st = rnn_model_add_embedding(c->m, &e, &l)))
        return ox_wrap_librnn(c, st, "Embedding");
    if ((st = ox_set_param(c, l, 0, w->f, 2, w->dims)))
        return st;
    ox_same_view_port(o, ids, l);
    o->has_time = 1;
    o->nfa = w->dims[1] > 1;
    o->fa[0] = w->dims[1];
    ox_view_canonical(o, tm);
    return RNN_OK;
}

static rnn_status op_gather(ox_ctx *c)
{
    ox_val *d, *idx, *o;
    rnn_status st = ox_in2_out(c, &d, &idx, &o);
    if (st)
        return st;
    if (d->kind == OX_CONST && idx->kind == OX_TENSOR)
        return op_embedding(c, d, idx, o);
    if (d->kind == OX_TENSOR)
        return ox_gather_tensor(c, d, idx, o);
    if (idx->kind == OX_CONST && (d->kind == OX_CONST || d->kind == OX_SHAPE)) {
        if (ox_attr_i(c, "axis", 0) != 0)
            return UNSUP("Gather on a constant along an axis other than 0");
        return gather_ints(c, d, idx, o);
    }
    return UNSUP("this Gather has no librnn equivalent");
}

/* Dense from MatMul (bias set by a following Add) or Gemm. */
static rnn_status add_dense(ox_ctx *c, ox_val *x, const float *kernel, int64_t I, int64_t U,
                            const float *bias, ox_val *o)
{
    if (!ox_features_last(x))
        return UNSUP("a dense layer must read a layer output whose last axis is its features");
    if (ox_features(x) != I)
        return BAD("the weight has %lld rows for %lld input features", (long long)I,
                   (long long)ox_features(x));
    rnn_status st = ox_connect(c, x);
    if (st)
        return st;
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = U;
    rnn_layer *l;
    if ((st = rnn_model_add_dense(c->m, &d, &l)))
        return ox_wrap_librnn(c, st, "Dense");
    int64_t kd[2] = {I, U}, bd[1] = {U};
    if ((st = ox_set_param(c, l, 0, kernel, 2, kd)) || (st = ox_set_param(c, l, 1, bias, 1, bd)))
        return st;
    ox_new_features_port(o, x, l, U);
    return RNN_OK;
}

static rnn_status op_matmul(ox_ctx *c)
{
    ox_val *x, *w, *o;
    rnn_status st = ox_in2_out(c, &x, &w, &o);
    if (st)
        return st;
    if (x->kind != OX_TENSOR || w->kind != OX_CONST || w->dtype != OX_FLOAT || w->rank != 2)
        return UNSUP("only a layer output times a constant float matrix is read (a Dense)");
    if ((st = add_dense(c, x, w->f, w->dims[0], w->dims[1], NULL, o)))
        return st;
    o->pending_bias = ox_uses(c, c->node->output[0]) == 1;
    return RNN_OK;
}

static rnn_status op_add(ox_ctx *c)
{
    ox_val *a, *b, *o;
    rnn_status st = ox_in2_out(c, &a, &b, &o);
    if (st)
        return st;
    ox_val *t = a->kind == OX_TENSOR ? a : b, *k = a->kind == OX_TENSOR ? b : a;
    if (t->kind != OX_TENSOR || !t->pending_bias || !ox_features_last(t) ||
        k->kind != OX_CONST || k->dtype != OX_FLOAT)
        return UNSUP("only the bias of a MatMul (MatMul + Add, a Dense) is read");
    int64_t U = ox_features(t);
    int ok = k->n == U;
    for (int d = 0; d + 1 < k->rank; d++)
        ok = ok && k->dims[d] == 1;
    if (!ok || (k->rank > 0 && k->dims[k->rank - 1] != U))
        return UNSUP("the bias of a MatMul must have the layer's %lld units", (long long)U);
    int64_t bd[1] = {U};
    if ((st = ox_set_param(c, t->layer[0], 1, k->f, 1, bd)))
        return st;
    *o = *t;
    o->pending_bias = 0;
    return RNN_OK;
}

static rnn_status op_gemm(ox_ctx *c)
{
    ox_val *x, *w, *o, *b = ox_in(c, 2);
    rnn_status st = ox_in2_out(c, &x, &w, &o);
    if (st)
        return st;
    const Onnx__AttributeProto *al = ox_attr(c, "alpha"), *be = ox_attr(c, "beta");
    if ((al && al->f != 1.0f) || (be && be->f != 1.0f))
        return UNSUP("attribute %s = %g (only 1 is read)", al && al->f != 1.0f ? "alpha" : "beta",
                     (double)(al && al->f != 1.0f ? al->f : be->f));
    if (ox_attr_i(c, "transA", 0))
        return UNSUP("attribute transA = 1 is not read");
    if (x->kind != OX_TENSOR || x->vrank != 2 || w->kind != OX_CONST || w->dtype != OX_FLOAT ||
        w->rank != 2)
        return UNSUP("only a (batch, features) layer output times a constant matrix is read");
    int tb = (int)ox_attr_i(c, "transB", 0);
    int64_t I = tb ? w->dims[1] : w->dims[0], U = tb ? w->dims[0] : w->dims[1];
    float *kernel = malloc((size_t)(I * U) * 4 + 4);
    if (!kernel)
        return ox_node_fail(c, RNN_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < I; i++)
        for (int64_t u = 0; u < U; u++)
            kernel[i * U + u] = tb ? w->f[u * I + i] : w->f[i * U + u];
    const float *bias = NULL;
    if (b) {
        if (b->kind != OX_CONST || b->dtype != OX_FLOAT || b->n != U || b->rank > 2 ||
            (b->rank >= 1 && b->dims[b->rank - 1] != U)) {
            free(kernel);
            return UNSUP("input C must be a constant bias of the %lld units", (long long)U);
        }
        bias = b->f;
    }
    st = add_dense(c, x, kernel, I, U, bias, o);
    free(kernel);
    return st;
}

/* Input 0, which must be one layer output (refused with `what` otherwise),
 * and output 0. */
static rnn_status one_layer_output(ox_ctx *c, ox_val **x, ox_val **o, const char *what)
{
    rnn_status st = ox_in_out(c, x, o);
    if (st)
        return st;
    if ((*x)->kind != OX_TENSOR || (*x)->nport != 1 || (*x)->is_ids)
        return UNSUP("%s", what);
    return RNN_OK;
}

static rnn_status op_activation(ox_ctx *c, rnn_activation act)
{
    ox_val *x, *o;
    rnn_status st = one_layer_output(c, &x, &o,
                                     "an activation of something other than one layer output");
    if (st)
        return st;
    if (act == RNN_ACT_SOFTMAX || act == RNN_ACT_LOG_SOFTMAX) {
        /* opset 13 normalises along 'axis' (default -1); before, over the
         * axes from 'axis' (default 1) on, flattened: the same when that is
         * the last axis alone */
        int a;
        int64_t def = c->opset >= 13 ? -1 : 1;
        if ((st = ox_norm_axis(c, ox_attr_i(c, "axis", def), x->vrank, &a)))
            return st;
        if (a != x->vrank - 1 || !ox_axis_is_features(x, a))
            return UNSUP("attribute 'axis' = %d: only the feature axis (the last) is read", a);
    }
    if ((st = ox_connect(c, x)))
        return st;
    rnn_layer *l;
    if ((st = rnn_model_add_activation(c->m, act, &l)))
        return ox_wrap_librnn(c, st, "Activation");
    ox_same_view_port(o, x, l);
    return RNN_OK;
}

/* ReduceMax / ReduceMean over the time axis: GlobalMaxPooling1D /
 * GlobalAveragePooling1D. Size-1 axes may be reduced too (the identity);
 * any other axis, or all axes, has no librnn layer. With lengths given to
 * rnn_model_forward(), the pooling covers each sample's real steps, as the
 * recurrent layers before it do; in a graph whose sequence_lens gives
 * those lengths, ONNX would reduce over every step: refused
 * (import_lens.c). */
static rnn_status op_reduce_time(ox_ctx *c, rnn_pooling pooling)
{
    ox_val *x, *o;
    rnn_status st = one_layer_output(c, &x, &o,
                                     "only the pooling of a layer's sequence output over its "
                                     "time axis is read");
    if (st)
        return st;
    int64_t axes[OX_MAX_RANK];
    int na, given;
    if ((st = ox_axes_of(c, axes, &na, &given)))
        return st;
    if (!na && ox_attr_i(c, "noop_with_empty_axes", 0))
        return ox_copy_val(c, o, x);
    if (!na)
        return UNSUP("attribute 'axes' is absent or empty (a reduction over every axis): only "
                     "the time axis is read");
    int mark[OX_MAX_RANK] = {0}, time_axis = -1;
    for (int k = 0; k < na; k++) {
        int a;
        if ((st = ox_norm_axis(c, axes[k], x->vrank, &a)))
            return st;
        if (mark[a]++)
            return BAD("axis %d is listed twice in 'axes'", a);
        if (x->axn[a] == 1 && x->ax[a][0] == OX_ATOM_T)
            time_axis = a;
        else if (x->axn[a] != 0)
            return UNSUP("attribute 'axes': axis %lld is not the time axis (librnn pools over "
                         "time only: GlobalMaxPooling1D, GlobalAveragePooling1D)",
                         (long long)axes[k]);
    }
    int64_t keep = ox_attr_i(c, "keepdims", 1);
    if (keep != 0 && keep != 1)
        return BAD("attribute 'keepdims' = %lld (0 or 1)", (long long)keep);
    ox_val in = *x;
    in.reversed = 0; /* the maximum and the mean over time ignore the order */
    if (time_axis >= 0) {
        if ((st = ox_plain(c, x, 1)) || (st = ox_lens_all_steps(c, x)) ||
            (st = ox_connect(c, &in)))
            return st;
        rnn_layer *l;
        if ((st = rnn_model_add_global_pooling(c->m, pooling, &l)))
            return ox_wrap_librnn(c, st, pooling == RNN_POOL_MAX ? "GlobalMaxPooling1D"
                                                                 : "GlobalAveragePooling1D");
        ox_same_view_port(o, &in, l);
        o->has_time = 0;
        o->inputs = 0;
        o->steps = 0;
    } else if ((st = ox_copy_val(c, o, x))) { /* only size-1 axes: the identity */
        return st;
    }
    o->pending_bias = 0;
    /* the reduced axes: size 1 (keepdims) or gone */
    int m = 0;
    for (int k = 0; k < in.vrank; k++) {
        if (mark[k] && !keep)
            continue;
        o->axn[m] = mark[k] ? 0 : in.axn[k];
        memcpy(o->ax[m], in.ax[k], sizeof in.ax[0]);
        m++;
    }
    o->vrank = m;
    return RNN_OK;
}

/* ---------------------------------------------------------------- dispatch */

static rnn_status op_layout(ox_ctx *c)
{
    ox_val *x, *o;
    rnn_status st = ox_in_out(c, &x, &o);
    if (st)
        return st;
    if (x->kind == OX_CONST || x->kind == OX_SHAPE) {
        if (ox_op_is(c, "Transpose") || ox_op_is(c, "Reshape")) {
            if (x->kind == OX_CONST && x->rank <= 1 && ox_op_is(c, "Transpose"))
                return ox_copy_val(c, o, x);
            return UNSUP("this operator on a constant is not read");
        }
        return ox_shape_op(c, x, o);
    }
    if (x->kind == OX_FILLED && !ox_op_is(c, "Identity") && !ox_op_is(c, "Cast"))
        return UNSUP("this operator on a sequence_lens computed by Expand is not read");
    if (x->is_ids && !ox_op_is(c, "Identity") && !ox_op_is(c, "Cast") &&
        !ox_op_is(c, "Transpose"))
        return UNSUP("token ids may only feed a Gather (an Embedding)");
    if (ox_op_is(c, "Identity") || (ox_op_is(c, "Cast") && (x->kind == OX_ZEROS ||
                                                            x->kind == OX_FILLED))) {
        st = ox_copy_val(c, o, x);
        o->pending_bias = o->pending_bias && ox_uses(c, c->node->output[0]) == 1;
        return st;
    }
    if (ox_op_is(c, "Cast")) {
        int64_t to = ox_attr_i(c, "to", 0);
        if (x->kind == OX_TENSOR && (x->is_ids ? (to == OX_INT64 || to == OX_INT32)
                                               : to == OX_FLOAT))
            return ox_copy_val(c, o, x);
        return UNSUP("Cast to type %lld changes the values", (long long)to);
    }
    ox_val *s;
    if (ox_op_is(c, "Transpose"))
        st = ox_op_transpose(c, x, o);
    else if (ox_op_is(c, "Squeeze"))
        st = ox_op_squeeze(c, x, o, 0);
    else if (ox_op_is(c, "Unsqueeze"))
        st = ox_op_squeeze(c, x, o, 1);
    else if (ox_op_is(c, "Slice"))
        st = ox_op_slice(c, x, o);
    else if (!(st = ox_need(c, 1, &s)))
        st = ox_op_reshape(c, x, s, o);
    /* a MatMul's output seen through views (tf2onnx's Reshapes around a
     * Dense on sequences) still takes the bias of the Add reading it */
    if (!st && o->kind == OX_TENSOR && x->pending_bias && o->nport == 1 &&
        o->layer[0] == x->layer[0] && ox_uses(c, c->node->output[0]) == 1)
        o->pending_bias = 1;
    return st;
}

static rnn_status op_dropout(ox_ctx *c)
{
    if (ox_out_used(c, 1))
        return UNSUP("the Dropout mask output is not read");
    ox_val *t = ox_in(c, 2);
    if (ox_in_present(c, 2) && (!t || t->kind != OX_CONST || t->n != 1 ||
                                (t->i ? t->i[0] != 0 : t->f ? t->f[0] != 0.0f : 1)))
        return UNSUP("Dropout in training mode is not read");
    ox_val *x, *o;
    rnn_status st = ox_in_out(c, &x, &o);
    return st ? st : ox_copy_val(c, o, x);
}

rnn_status ox_run_node(ox_ctx *c)
{
    if (!c->node->op_type)
        return BAD("no op_type");
    for (size_t k = 0; k < c->node->n_output; k++) {
        ox_val *v = ox_out(c, (int)k);
        if (v && v->kind != OX_NONE)
            return BAD("output %zu is defined twice", k);
    }
    /* A node whose outputs nobody reads adds nothing. */
    int used = 0;
    for (size_t k = 0; k < c->node->n_output; k++)
        used |= ox_out_used(c, (int)k);
    if (!used)
        return RNN_OK;
    rnn_status st = ox_lens_check_inputs(c);
    if (st)
        return st;
    if (ox_op_is(c, "Constant"))
        return op_constant(c);
    if (ox_op_is(c, "Shape"))
        return op_shape(c);
    if (ox_op_is(c, "ConstantOfShape"))
        return op_constant_of_shape(c);
    if (ox_op_is(c, "Gather"))
        return op_gather(c);
    if (ox_op_is(c, "Expand"))
        return op_expand(c);
    if (ox_op_is(c, "ReverseSequence"))
        return ox_op_reverse_sequence(c);
    if (ox_op_is(c, "Concat")) {
        ox_val *o;
        if ((st = ox_out0(c, &o)))
            return st;
        ox_val *first = ox_in(c, 0);
        if (first && (first->kind == OX_CONST || first->kind == OX_SHAPE))
            return op_concat_ints(c, o);
        if (first && first->kind == OX_ZEROS)
            return ox_concat_zeros(c, o);
        return ox_op_concat(c, o);
    }
    if (ox_op_is(c, "Transpose") || ox_op_is(c, "Squeeze") || ox_op_is(c, "Unsqueeze") ||
        ox_op_is(c, "Reshape") || ox_op_is(c, "Slice") || ox_op_is(c, "Identity") || ox_op_is(c, "Cast"))
        return op_layout(c);
    if (ox_op_is(c, "Dropout"))
        return op_dropout(c);
    if (ox_op_is(c, "LSTM"))
        return ox_op_recurrent(c, RNN_LSTM);
    if (ox_op_is(c, "GRU"))
        return ox_op_recurrent(c, RNN_GRU);
    if (ox_op_is(c, "RNN"))
        return ox_op_recurrent(c, RNN_SIMPLE_RNN);
    if (ox_op_is(c, "MatMul"))
        return op_matmul(c);
    if (ox_op_is(c, "Add"))
        return op_add(c);
    if (ox_op_is(c, "Gemm"))
        return op_gemm(c);
    if (ox_op_is(c, "Relu"))
        return op_activation(c, RNN_ACT_RELU);
    if (ox_op_is(c, "Tanh"))
        return op_activation(c, RNN_ACT_TANH);
    if (ox_op_is(c, "Sigmoid"))
        return op_activation(c, RNN_ACT_SIGMOID);
    if (ox_op_is(c, "Softmax"))
        return op_activation(c, RNN_ACT_SOFTMAX);
    if (ox_op_is(c, "LogSoftmax"))
        return op_activation(c, RNN_ACT_LOG_SOFTMAX);
    if (ox_op_is(c, "ReduceMax"))
        return op_reduce_time(c, RNN_POOL_MAX);
    if (ox_op_is(c, "ReduceMean"))
        return op_reduce_time(c, RNN_POOL_AVERAGE);
    return UNSUP("operator not supported by librnn's ONNX reader");
}
