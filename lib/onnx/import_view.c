/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import: the layout operators on layer outputs. Transpose, Squeeze,
 * Unsqueeze, Reshape, Gather on a stacked axis, Slice and Concat change a
 * TENSOR's view (which atoms of the librnn output each ONNX axis holds)
 * without adding layers; Concat along features and stacked final states
 * merged with their features become Concatenate layers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define UNSUP(...) ox_node_fail(c, RNN_ERR_UNSUPPORTED, __VA_ARGS__)
#define BAD(...) ox_node_fail(c, RNN_ERR_FORMAT, __VA_ARGS__)

/* ---------------------------------------------------------------- views */

static rnn_status last_step(ox_ctx *c, ox_val *o, int a, int keep, int first);
static int is_last_step(const ox_val *x, int64_t i);

rnn_status ox_op_transpose(ox_ctx *c, ox_val *x, ox_val *o)
{
    const Onnx__AttributeProto *a = ox_attr(c, "perm");
    int r = x->kind == OX_TENSOR ? x->vrank : x->nsym;
    int perm[OX_MAX_RANK], seen[OX_MAX_RANK] = {0};
    if (a && (int)a->n_ints != r)
        return BAD("'perm' has %zu entries for a rank-%d input", a->n_ints, r);
    for (int k = 0; k < r; k++) {
        int64_t p = a ? a->ints[k] : r - 1 - k;
        if (p < 0 || p >= r || seen[p]++)
            return BAD("'perm' is not a permutation");
        perm[k] = (int)p;
    }
    ox_val in = *x;
    *o = in;
    o->f = NULL, o->i = NULL;
    for (int k = 0; k < r; k++) {
        if (x->kind == OX_TENSOR) {
            o->axn[k] = in.axn[perm[k]];
            memcpy(o->ax[k], in.ax[perm[k]], sizeof in.ax[0]);
        } else {
            o->sym[k] = in.sym[perm[k]];
        }
    }
    o->pending_bias = 0;
    return RNN_OK;
}

/* Squeeze and Unsqueeze of a TENSOR or ZEROS. */
rnn_status ox_op_squeeze(ox_ctx *c, ox_val *x, ox_val *o, int un)
{
    int64_t axes[OX_MAX_RANK];
    int na, given;
    rnn_status st = ox_axes_of(c, axes, &na, &given);
    if (st)
        return st;
    int tensor = x->kind == OX_TENSOR;
    int r = tensor ? x->vrank : x->nsym;
    int rank_out = un ? r + na : r;
    if (rank_out > OX_MAX_RANK)
        return UNSUP("rank above %d", OX_MAX_RANK);
    int mark[OX_MAX_RANK] = {0};
    if (!given && !un) {
        for (int k = 0; k < r; k++)
            mark[k] = tensor ? x->axn[k] == 0 : x->sym[k] == 1;
    }
    for (int k = 0; k < na; k++) {
        int a;
        if ((st = ox_norm_axis(c, axes[k], rank_out, &a)))
            return st;
        if (mark[a]++)
            return BAD("axis %d is listed twice", a);
    }
    ox_val in = *x;
    *o = in;
    o->f = NULL, o->i = NULL;
    o->pending_bias = 0;
    int j = 0, m = 0;
    if (un) {
        for (int k = 0; k < rank_out; k++) {
            if (mark[k]) {
                if (tensor)
                    o->axn[k] = 0;
                else
                    o->sym[k] = 1;
            } else {
                if (tensor) {
                    o->axn[k] = in.axn[j];
                    memcpy(o->ax[k], in.ax[j], sizeof in.ax[0]);
                } else {
                    o->sym[k] = in.sym[j];
                }
                j++;
            }
        }
        m = rank_out;
    } else {
        for (int k = 0; k < r; k++) {
            int one = tensor ? in.axn[k] == 0
                             : in.sym[k] == 1;
            if (mark[k] && !one)
                return UNSUP("axis %d is not known to be of size 1", k);
            if (mark[k])
                continue;
            if (tensor) {
                o->axn[m] = in.axn[k];
                memcpy(o->ax[m], in.ax[k], sizeof in.ax[0]);
            } else {
                o->sym[m] = in.sym[k];
            }
            m++;
        }
    }
    if (tensor)
        o->vrank = m;
    else
        o->nsym = m;
    return RNN_OK;
}

static int64_t atom_size(const ox_val *v, int a)
{
    if (a == OX_ATOM_N)
        return OX_DIM_N;
    if (a == OX_ATOM_T)
        return OX_DIM_T;
    return a == OX_ATOM_STACK ? v->nport : v->fa[a - OX_ATOM_F];
}

/* Stacked ports merged with their features into one axis ([stack, features],
 * the directions of Y_h reshaped to (N, D*H)) are a Concatenate of the ports. */
static rnn_status join_stack(ox_ctx *c, ox_val *o)
{
    if (o->nport < 2)
        return RNN_OK;
    int a = -1;
    for (int k = 0; k < o->vrank; k++)
        for (int j = 0; j < o->axn[k]; j++)
            if (o->ax[k][j] == OX_ATOM_STACK)
                a = k;
    if (a < 0 || o->axn[a] != 1 + o->nfa || o->ax[a][0] != OX_ATOM_STACK)
        return a >= 0 && o->axn[a] > 1
                   ? UNSUP("cannot follow the stacked final states through this Reshape")
                   : RNN_OK;
    for (int k = 0; k < o->nfa; k++)
        if (o->ax[a][1 + k] != OX_ATOM_F + k)
            return UNSUP("cannot follow the stacked final states through this Reshape");
    int64_t F = 1;
    for (int k = 0; k < o->nfa; k++)
        F *= o->fa[k];
    rnn_layer *l;
    rnn_status st = rnn_model_add_concatenate(c->m, o->nport, o->layer, o->out, &l);
    if (st)
        return ox_wrap_librnn(c, st, "Concatenate");
    /* the new port's features are (stack, old features) */
    for (int k = o->nfa; k > 0; k--)
        o->fa[k] = o->fa[k - 1];
    o->fa[0] = o->nport;
    o->nfa++;
    for (int k = 0; k < o->nfa; k++)
        o->ax[a][k] = (uint8_t)(OX_ATOM_F + k);
    o->axn[a] = o->nfa;
    (void)F;
    o->nport = 1;
    o->layer[0] = l;
    o->out[0] = 0;
    return RNN_OK;
}

/* Reshape regroups the atoms in their current order: each target dimension
 * takes the next atoms whose sizes multiply to it (N and T only as
 * themselves, 0 copies the input's dimension, one -1 takes the rest). */
rnn_status ox_op_reshape(ox_ctx *c, ox_val *x, ox_val *shape, ox_val *o)
{
    int64_t want[OX_MAX_RANK];
    int nw;
    if (!ox_as_sym(shape, want, &nw))
        return UNSUP("the target shape must be constant or computed from Shape");
    if (ox_attr_i(c, "allowzero", 0))
        return UNSUP("allowzero=1 is not read");
    if (x->kind == OX_ZEROS) {
        ox_set_sym(o, OX_ZEROS, want, nw, 0);
        for (int k = 0; k < nw; k++)
            if (want[k] == 0 && k < x->nsym)
                o->sym[k] = x->sym[k];
        return RNN_OK;
    }
    uint8_t flat[OX_MAX_RANK * OX_MAX_RANK];
    int nf = 0;
    for (int k = 0; k < x->vrank; k++)
        for (int j = 0; j < x->axn[k]; j++)
            flat[nf++] = x->ax[k][j];
    /* 0 means "this input axis": replace by the input's dimension. */
    int minus = -1;
    for (int k = 0; k < nw; k++) {
        if (want[k] == 0) {
            if (k >= x->vrank)
                return BAD("0 in the target shape beyond the input's rank");
            want[k] = ox_axis_size(x, k);
            if (want[k] == OX_DIM_UNKNOWN)
                return UNSUP("0 in the target shape copies a merged dimension");
        } else if (want[k] == -1) {
            if (minus >= 0)
                return BAD("two -1 in the target shape");
            minus = k;
        } else if (want[k] < -1) {
            if (want[k] != OX_DIM_N && want[k] != OX_DIM_T)
                return UNSUP("a target dimension that is not batch, steps or a constant");
        }
    }
    ox_val in = *x;
    *o = in;
    o->f = NULL, o->i = NULL;
    o->pending_bias = 0;
    int pos = 0, end = nf;
    int first_after = minus >= 0 ? minus + 1 : nw;
    /* from the front up to -1, then from the back down to it */
    for (int pass = 0; pass < 2; pass++) {
        int from = pass ? nw - 1 : 0, to = pass ? first_after - 1 : (minus >= 0 ? minus : nw);
        int dir = pass ? -1 : 1;
        for (int k = from; k != to; k += dir) {
            int64_t w = want[k], got = 1;
            int cnt = 0;
            uint8_t at[OX_MAX_RANK];
            if (w == OX_DIM_N || w == OX_DIM_T) {
                int p = pass ? end - 1 : pos;
                if (p < 0 || p >= end || p < pos || flat[p] != (w == OX_DIM_N ? OX_ATOM_N
                                                                               : OX_ATOM_T))
                    return UNSUP("cannot follow the batch or steps axis through this Reshape");
                at[cnt++] = flat[p];
            } else {
                while (got < w) {
                    int p = pass ? end - 1 - cnt : pos + cnt;
                    if (p < pos || p >= end || cnt >= OX_MAX_RANK)
                        return UNSUP("cannot follow the axes through this Reshape");
                    int64_t s = atom_size(x, flat[p]);
                    if (s < 0 || w % (got * s) != 0)
                        return UNSUP("cannot follow the axes through this Reshape (dimension "
                                     "%lld)", (long long)w);
                    got *= s;
                    at[cnt++] = flat[p];
                }
                if (got != w)
                    return UNSUP("cannot follow the axes through this Reshape");
            }
            o->axn[k] = cnt;
            for (int j = 0; j < cnt; j++)
                o->ax[k][j] = pass ? at[cnt - 1 - j] : at[j];
            if (pass)
                end -= cnt;
            else
                pos += cnt;
        }
    }
    if (minus >= 0) {
        if (end - pos > OX_MAX_RANK)
            return UNSUP("cannot follow the axes through this Reshape");
        o->axn[minus] = end - pos;
        memcpy(o->ax[minus], flat + pos, (size_t)(end - pos));
    } else if (pos != end) {
        return BAD("the target shape has fewer elements than the input");
    }
    o->vrank = nw;
    return join_stack(c, o);
}

/* Gather on a TENSOR: picks one of stacked ports, or drops a size-1 axis. */
rnn_status ox_gather_tensor(ox_ctx *c, ox_val *x, ox_val *idx, ox_val *o)
{
    int a;
    rnn_status st = ox_norm_axis(c, ox_attr_i(c, "axis", 0), x->vrank, &a);
    if (st)
        return st;
    if (!idx || idx->kind != OX_CONST || idx->dtype != OX_INT64 || idx->rank != 0)
        return UNSUP("Gather on a layer output: only a constant scalar index along a stacked "
                     "axis (the directions or layers of Y_h/Y_c) or Y's last step is read");
    int64_t i = idx->i[0];
    if (x->axn[a] == 1 && x->ax[a][0] == OX_ATOM_T && (is_last_step(x, i) || i == 0)) {
        if ((st = ox_copy_val(c, o, x)))
            return st;
        return last_step(c, o, a, 0, i == 0 && !(x->steps == 1));
    }
    int stacked = x->axn[a] == 1 && x->ax[a][0] == OX_ATOM_STACK;
    int64_t size = stacked ? x->nport : x->axn[a] == 0 ? 1 : -1;
    if (size < 0)
        return UNSUP("Gather on a layer output: only a constant scalar index along a stacked "
                     "axis (the directions or layers of Y_h/Y_c) or Y's last step is read");
    if (i < -size || i >= size)
        return ox_node_fail(c, RNN_ERR_RANGE, "index %lld is outside [0, %lld)", (long long)i,
                            (long long)size);
    i = i < 0 ? i + size : i;
    ox_val in = *x;
    *o = in;
    o->f = NULL, o->i = NULL;
    o->pending_bias = 0;
    o->nport = 1;
    o->layer[0] = in.layer[i];
    o->out[0] = in.out[i];
    for (int k = a; k + 1 < in.vrank; k++) {
        o->axn[k] = in.axn[k + 1];
        memcpy(o->ax[k], in.ax[k + 1], sizeof in.ax[0]);
    }
    o->vrank = in.vrank - 1;
    return RNN_OK;
}

rnn_status ox_slice_params(ox_ctx *c, int rank, int64_t *start, int64_t *end,
                               int64_t *step, int *touched)
{
    int64_t s[OX_MAX_RANK], e[OX_MAX_RANK], ax[OX_MAX_RANK], st_[OX_MAX_RANK];
    int ns, ne, na = 0, nst = 0;
    rnn_status st;
    if (c->opset < 10) {
        return UNSUP("Slice before opset 10 is not read");
    }
    if ((st = ox_const_ints(c, ox_in(c, 1), "starts", s, &ns)) ||
        (st = ox_const_ints(c, ox_in(c, 2), "ends", e, &ne)))
        return st;
    if (ns != ne)
        return BAD("starts and ends differ in length");
    if (ox_in_present(c, 3) && (st = ox_const_ints(c, ox_in(c, 3), "axes", ax, &na)))
        return st;
    if (ox_in_present(c, 4) && (st = ox_const_ints(c, ox_in(c, 4), "steps", st_, &nst)))
        return st;
    if ((na && na != ns) || (nst && nst != ns))
        return BAD("axes or steps differ in length from starts");
    for (int k = 0; k < rank; k++)
        start[k] = 0, end[k] = INT64_MAX, step[k] = 1, touched[k] = 0;
    for (int k = 0; k < ns; k++) {
        int a;
        if ((st = ox_norm_axis(c, na ? ax[k] : k, rank, &a)))
            return st;
        start[a] = s[k], end[a] = e[k], step[a] = nst ? st_[k] : 1;
        touched[a] = 1;
    }
    return RNN_OK;
}

/* Y's last step (a Slice or Gather of the steps axis, as tf2onnx writes Keras'
 * last output): the final state h of a one-direction recurrent layer, the
 * port last_port - 1. The axis stays (size 1) when @p keep. */
static rnn_status last_step(ox_ctx *c, ox_val *o, int a, int keep, int first)
{
    /* one direction of a bidirectional Y: the forward's last step, the
     * backward's first (input order), each that direction's final h */
    int dir = o->sel && o->sel_atom == OX_ATOM_F && o->fa[0] == 2 && o->first_port;
    int port = dir ? (o->sel_idx ? (first ? o->first_port : 0) : (first ? 0 : o->last_port))
                   : (!first && !o->first_port && !o->sel ? o->last_port : 0);
    if (!port || o->reversed || o->nport != 1)
        return UNSUP("selects one step of a sequence: only the last step of Y of a recurrent "
                     "operator in processing order (the final state; for a bidirectional one, "
                     "the forward direction's last step and the backward's first) is read");
    rnn_status st = ox_lens_all_steps(c, o);
    if (st)
        return st;
    if (dir) { /* the direction atom goes: the state's features are the units */
        for (int k = 0; k + 1 < o->nfa; k++)
            o->fa[k] = o->fa[k + 1];
        o->nfa--;
        for (int k = 0; k < o->vrank; k++)
            for (int j = 0; j < o->axn[k]; j++)
                if (o->ax[k][j] > OX_ATOM_F && o->ax[k][j] != OX_ATOM_STACK)
                    o->ax[k][j]--;
        o->sel = 0;
    }
    o->out[0] = port - 1;
    o->last_port = 0;
    o->first_port = 0;
    o->has_time = 0;
    o->inputs = 0;
    o->steps = 0;
    o->pending_bias = 0;
    if (keep) {
        o->axn[a] = 0;
        return RNN_OK;
    }
    for (int k = a; k + 1 < o->vrank; k++) {
        o->axn[k] = o->axn[k + 1];
        memcpy(o->ax[k], o->ax[k + 1], sizeof o->ax[0]);
    }
    o->vrank--;
    return RNN_OK;
}

/* Is index @p i (a Slice start or a Gather index) the last step of @p x? */
static int is_last_step(const ox_val *x, int64_t i)
{
    return i == -1 || (x->steps > 0 && i == x->steps - 1);
}

/* Slice of a TENSOR or ZEROS: a whole-range slice is the identity; a slice of
 * a ZEROS stays ZEROS (one layer's initial state cut from all of them). On a
 * layer output: a range of stacked final states (one direction of Y_h), one
 * index of a feature atom (one direction of a bidirectional Y, kept aside
 * for the Concat that joins the directions again: tf2onnx's bidirectional
 * layers) and the last step of Y. */
rnn_status ox_op_slice(ox_ctx *c, ox_val *x, ox_val *o)
{
    int r = x->kind == OX_TENSOR ? x->vrank : x->nsym;
    int64_t start[OX_MAX_RANK], end[OX_MAX_RANK], step[OX_MAX_RANK];
    int touched[OX_MAX_RANK];
    rnn_status st = ox_slice_params(c, r, start, end, step, touched);
    if (st)
        return st;
    if (x->kind == OX_ZEROS) {
        ox_set_sym(o, OX_ZEROS, x->sym, x->nsym, 0);
        for (int k = 0; k < r; k++) {
            if (!touched[k])
                continue;
            if (x->sym[k] < 0 || step[k] != 1)
                return UNSUP("Slice of an initial state along a symbolic axis");
            int64_t n = x->sym[k], s = start[k], e = end[k];
            s = s < 0 ? s + n : s;
            e = e < 0 ? e + n : e;
            s = s < 0 ? 0 : s > n ? n : s;
            e = e < 0 ? 0 : e > n ? n : e;
            o->sym[k] = e > s ? e - s : 0;
        }
        return RNN_OK;
    }
    if ((st = ox_copy_val(c, o, x)))
        return st;
    o->pending_bias = 0;
    int last_axis = -1, first = 0;
    for (int k = 0; k < r; k++) {
        if (!touched[k])
            continue;
        int64_t n = ox_axis_size(x, k), s = start[k], e = end[k];
        int big = e >= ((int64_t)1 << 31) - 1;
        if (step[k] != 1)
            goto refuse;
        if (x->axn[k] == 1 && x->ax[k][0] == OX_ATOM_T && (s == 0 || (x->steps > 0 &&
                                                                      s == -x->steps)) &&
            (big || (x->steps > 0 && e >= x->steps)))
            continue; /* every step */
        if (x->axn[k] == 1 && x->ax[k][0] == OX_ATOM_T && is_last_step(x, s) &&
            (big || (x->steps > 0 && e >= x->steps))) {
            last_axis = k;
            continue;
        }
        if (x->axn[k] == 1 && x->ax[k][0] == OX_ATOM_T && s == 0 && e == 1) {
            last_axis = k, first = 1;
            continue;
        }
        if (n < 0) {
            if (s == 0 && big)
                continue;
            goto refuse;
        }
        s = s < 0 ? s + n : s;
        e = e < 0 ? e + n : e;
        s = s < 0 ? 0 : s > n ? n : s;
        e = e < 0 ? 0 : e > n ? n : e;
        if (s == 0 && e == n)
            continue;
        if (e <= s)
            return UNSUP("Slice of a layer output to nothing (axis %d)", k);
        if (x->axn[k] == 1 && x->ax[k][0] == OX_ATOM_STACK) {
            /* some of the stacked ports */
            for (int64_t p = s; p < e; p++) {
                o->layer[p - s] = x->layer[p];
                o->out[p - s] = x->out[p];
            }
            o->nport = (int)(e - s);
            o->axn[k] = o->nport > 1;
            continue;
        }
        if (x->axn[k] == 1 && x->ax[k][0] >= OX_ATOM_F && x->ax[k][0] != OX_ATOM_STACK &&
            e - s == 1 && !o->sel && x->nport == 1) {
            /* one index of a feature atom (a direction of Y) */
            o->sel = 1;
            o->sel_atom = x->ax[k][0];
            o->sel_idx = s;
            o->axn[k] = 0;
            continue;
        }
    refuse:
        return UNSUP("Slice of a layer output (axis %d, start %lld, end %lld, step %lld) "
                     "has no librnn equivalent", k, (long long)start[k], (long long)end[k],
                     (long long)step[k]);
    }
    return last_axis >= 0 ? last_step(c, o, last_axis, 1, first) : RNN_OK;
}

/* Concat of the pieces of a feature atom selected by Slice (the directions
 * of a bidirectional Y), in order, along the axis they were cut from or
 * along another: the atom is back, as the concatenated axis' major part. */
static rnn_status concat_sel(ox_ctx *c, int n, ox_val *const *v, int a, ox_val *o)
{
    const ox_val *f = v[0];
    int64_t S = f->fa[f->sel_atom - OX_ATOM_F];
    int ok = n == S && f->axn[a] < OX_MAX_RANK;
    for (int k = 0; ok && k < n; k++) {
        ok = v[k]->sel && v[k]->sel_atom == f->sel_atom && v[k]->sel_idx == k &&
             v[k]->nport == 1 && v[k]->layer[0] == f->layer[0] && v[k]->out[0] == f->out[0] &&
             v[k]->vrank == f->vrank && v[k]->reversed == f->reversed;
        for (int j = 0; ok && j < f->vrank; j++)
            ok = v[k]->axn[j] == f->axn[j] && !memcmp(v[k]->ax[j], f->ax[j], (size_t)f->axn[j]);
    }
    if (!ok)
        return UNSUP("Concat of one direction of a bidirectional output: only all directions "
                     "of the same output, in order, are read");
    *o = *f;
    o->f = NULL, o->i = NULL;
    o->sel = 0;
    o->pending_bias = 0;
    memmove(o->ax[a] + 1, f->ax[a], (size_t)f->axn[a]);
    o->ax[a][0] = f->sel_atom;
    o->axn[a] = f->axn[a] + 1;
    return RNN_OK;
}

/* Concat of ZEROS (tf2onnx stacks the two directions' initial states). */
rnn_status ox_concat_zeros(ox_ctx *c, ox_val *o)
{
    ox_val *v0 = ox_in(c, 0);
    int r = v0->nsym, a;
    rnn_status st = ox_norm_axis(c, ox_attr_i(c, "axis", 0), r, &a);
    if (st)
        return st;
    int64_t sym[OX_MAX_RANK];
    memcpy(sym, v0->sym, sizeof sym);
    for (size_t k = 1; k < c->node->n_input; k++) {
        ox_val *v = ox_in(c, (int)k);
        int ok = v && v->kind == OX_ZEROS && v->nsym == r && sym[a] >= 0 && v->sym[a] >= 0;
        for (int j = 0; ok && j < r; j++)
            ok = j == a || v->sym[j] == v0->sym[j];
        if (!ok)
            return UNSUP("Concat of zeros with something else, or along a symbolic axis");
        sym[a] += v->sym[a];
    }
    ox_set_sym(o, OX_ZEROS, sym, r, 0);
    return RNN_OK;
}

/* ReverseSequence of every step of a layer's sequences: the same values in
 * reverse time order (read by a recurrent operator as go_backwards). */
rnn_status ox_op_reverse_sequence(ox_ctx *c)
{
    ox_val *x, *s, *o;
    rnn_status st = ox_in2_out(c, &x, &s, &o);
    if (st)
        return st;
    if (x->kind != OX_TENSOR || !x->has_time || x->nport != 1 || x->is_ids || x->sel)
        return UNSUP("only a layer's sequence output is read (reversed in time for a recurrent "
                     "layer's go_backwards)");
    int ta, ba;
    if ((st = ox_norm_axis(c, ox_attr_i(c, "time_axis", 0), x->vrank, &ta)) ||
        (st = ox_norm_axis(c, ox_attr_i(c, "batch_axis", 1), x->vrank, &ba)))
        return st;
    if (x->axn[ta] != 1 || x->ax[ta][0] != OX_ATOM_T || x->axn[ba] != 1 ||
        x->ax[ba][0] != OX_ATOM_N)
        return UNSUP("attributes 'time_axis' = %d / 'batch_axis' = %d are not the steps and "
                     "batch axes", ta, ba);
    int every = s->kind == OX_FILLED &&
                (s->sym[0] == OX_DIM_T || (x->steps > 0 && s->sym[0] == x->steps));
    if (s->kind == OX_CONST && s->dtype == OX_INT64 && s->rank == 1 && s->n > 0 && x->steps > 0) {
        every = 1;
        for (int64_t k = 0; k < s->n; k++)
            every = every && s->i[k] == x->steps;
    }
    if (!every)
        return UNSUP("input sequence_lens: only every step of every sample (the whole "
                     "sequence reversed) is read");
    if ((st = ox_lens_all_steps(c, x)) || (st = ox_copy_val(c, o, x)))
        return st;
    o->reversed = !x->reversed;
    o->last_port = 0;
    o->first_port = 0;
    o->pending_bias = 0;
    return RNN_OK;
}

/* Concat of TENSORs: along a stacked (or size-1) axis, the ports are stacked;
 * along the feature axis, a Concatenate layer. */
rnn_status ox_op_concat(ox_ctx *c, ox_val *o)
{
    int n = (int)c->node->n_input;
    ox_val *v[OX_MAX_PORTS] = {0};
    if (n < 1 || n > OX_MAX_PORTS)
        return UNSUP("Concat of %d inputs (1 to %d are read)", n, OX_MAX_PORTS);
    for (int k = 0; k < n; k++) {
        v[k] = ox_in(c, k);
        if (!v[k] || v[k]->kind != OX_TENSOR || v[k]->is_ids)
            return UNSUP("Concat of layer outputs with constants or token ids");
    }
    int a;
    rnn_status st = ox_norm_axis(c, ox_attr_i(c, "axis", 0), v[0]->vrank, &a);
    if (st)
        return st;
    if (v[0]->sel)
        return concat_sel(c, n, v, a, o);
    for (int k = 0; k < n; k++)
        if ((st = ox_plain(c, v[k], 0)))
            return st;
    int stack = 1, feat = 1, total = 0;
    uint32_t inputs = 0; /* librnn's Concatenate carries every operand's lengths (the least) */
    for (int k = 0; k < n; k++) {
        inputs |= v[k]->inputs;
        if (v[k]->vrank != v[0]->vrank || v[k]->has_time != v[0]->has_time)
            return UNSUP("Concat of inputs of different ranks");
        int ok_stack = v[k]->axn[a] == 0 || (v[k]->axn[a] == 1 && v[k]->ax[a][0] == OX_ATOM_STACK);
        stack = stack && ok_stack && v[k]->nfa == v[0]->nfa &&
                !memcmp(v[k]->fa, v[0]->fa, sizeof v[0]->fa);
        feat = feat && v[k]->nport == 1 && ox_axis_is_features(v[k], a);
        total += v[k]->nport;
        for (int j = 0; j < v[0]->vrank; j++)
            if (j != a && (v[k]->axn[j] != v[0]->axn[j] ||
                           memcmp(v[k]->ax[j], v[0]->ax[j], (size_t)v[0]->axn[j])))
                stack = 0, feat = 0;
    }
    if (stack && total <= OX_MAX_PORTS) {
        *o = *v[0];
        o->f = NULL, o->i = NULL;
        o->pending_bias = 0;
        o->nport = 0;
        for (int k = 0; k < n; k++)
            for (int p = 0; p < v[k]->nport; p++) {
                o->layer[o->nport] = v[k]->layer[p];
                o->out[o->nport++] = v[k]->out[p];
            }
        o->axn[a] = o->nport > 1;
        o->ax[a][0] = OX_ATOM_STACK;
        o->inputs = inputs;
        o->last_port = 0;
        o->first_port = 0;
        return RNN_OK;
    }
    /* the other axes must agree on N and T only */
    for (int k = 1; feat && k < n; k++)
        for (int j = 0; j < v[0]->vrank; j++)
            if (j != a && ox_axis_size(v[k], j) != ox_axis_size(v[0], j))
                feat = 0;
    for (int j = 0; feat && j < v[0]->vrank; j++) {
        int64_t s = ox_axis_size(v[0], j);
        if (j != a && s != OX_DIM_N && s != OX_DIM_T && s != 1)
            feat = 0;
    }
    if (!feat)
        return UNSUP("Concat along axis %d: only the stacked axis of final states or the "
                     "feature axis of layer outputs is read", a);
    if (n == 1)
        return ox_copy_val(c, o, v[0]);
    rnn_layer *ls[OX_MAX_PORTS], *l;
    int os[OX_MAX_PORTS];
    int64_t F = 0;
    for (int k = 0; k < n; k++) {
        ls[k] = v[k]->layer[0];
        os[k] = v[k]->out[0];
        F += ox_features(v[k]);
    }
    st = rnn_model_add_concatenate(c->m, n, ls, os, &l);
    if (st)
        return ox_wrap_librnn(c, st, "Concatenate");
    ox_new_features_port(o, v[0], l, F);
    o->inputs = inputs;
    return RNN_OK;
}

