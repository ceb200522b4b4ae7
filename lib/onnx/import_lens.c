/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import of sequence_lens, input 4 of LSTM, GRU and RNN.
 *
 * ONNX gives lengths to each recurrent node; librnn takes them once per
 * model input (rnn_model_forward()'s lengths) and every layer on that
 * input's sequences sees them. Both compute the same when:
 *   - sequence_lens is a graph input (int32 (batch)), and every recurrent
 *     node on the sequences of the model inputs it is bound to reads it:
 *     its values are then those inputs' lengths (metadata
 *     onnx.input.K.sequence_lens names it);
 *   - no node on those sequences computes over every step in ONNX where
 *     librnn, given lengths, stops at each sample's: a recurrent node
 *     without sequence_lens, or a ReduceMax / ReduceMean over time (ONNX
 *     would count the zeros Y has at padded steps). Those are refused.
 * The recurrent layers themselves agree: steps at or after a sample's
 * length are skipped, Y is zero there, Y_h / Y_c are the states after the
 * last real step, and the reverse direction reads each sample's real
 * steps backwards (lib/backend/backend.h, "Variable lengths"). Layers that
 * compute every step in both (Dense per step, activations, Concat) agree on
 * the padded steps too: a Dense gives its bias there.
 * A constant sequence_lens whose values all equal the steps the graph's
 * input fixes is no lengths at all; any other constant is refused.
 */
#include <stdio.h>
#include <string.h>

#include "onnx_internal.h"

#define UNSUP(...) ox_node_fail(c, RNN_ERR_UNSUPPORTED, __VA_ARGS__)

static int is_recurrent(const Onnx__NodeProto *n)
{
    return n->op_type && (!strcmp(n->op_type, "LSTM") || !strcmp(n->op_type, "GRU") ||
                          !strcmp(n->op_type, "RNN"));
}

static const char *node_name(const Onnx__NodeProto *n)
{
    return n && n->name ? n->name : "";
}

/* Is graph input @p name read as some recurrent node's sequence_lens? */
int ox_lens_graph_input(const ox_ctx *c, const char *name)
{
    for (size_t k = 0; k < c->g->n_node; k++) {
        const Onnx__NodeProto *n = c->g->node[k];
        if (is_recurrent(n) && n->n_input > 4 && name[0] && strcmp(n->input[4], name) == 0)
            return 1;
    }
    return 0;
}

/* A graph input read as sequence_lens: no model input, an int32 (batch). */
rnn_status ox_lens_input(ox_ctx *c, const Onnx__ValueInfoProto *vi, ox_val *v)
{
    (void)c;
    const char *name = vi->name ? vi->name : "";
    const Onnx__TypeProto__Tensor *tt =
        vi->type && vi->type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            ? vi->type->tensor_type : NULL;
    int et = tt && tt->has_elem_type ? tt->elem_type : 0;
    int rank = tt && tt->shape ? (int)tt->shape->n_dim : -1;
    if ((et != OX_INT32 && et != OX_INT64) || rank != 1)
        return ox_fail(RNN_ERR_UNSUPPORTED,
                       "graph input '%s' is a recurrent operator's sequence_lens: it must be an "
                       "int32 (batch) tensor (element type %d, rank %d)", name, et, rank);
    memset(v, 0, sizeof *v);
    v->kind = OX_LENGTHS;
    return RNN_OK;
}

/* The sequence_lens graph inputs are read by the recurrent operators' input
 * 4 and nothing else. */
rnn_status ox_lens_check_inputs(ox_ctx *c)
{
    int rec = is_recurrent(c->node);
    for (size_t k = 0; k < c->node->n_input; k++) {
        ox_val *v = ox_in(c, (int)k);
        if (v && v->kind == OX_LENGTHS && !(rec && k == 4))
            return UNSUP("input %zu is graph input '%s', a sequence_lens: it is only read as "
                         "the recurrent operators' sequence_lens", k, c->node->input[k]);
    }
    return RNN_OK;
}

/* Refuses @p n, which computes over every step of model input k's
 * sequences, whose lengths the sequence_lens of lens_by[k] gives. */
static rnn_status refuse_all_steps(ox_ctx *c, const Onnx__NodeProto *n, int k)
{
    const Onnx__NodeProto *keep = c->node, *by = c->lens_by[k];
    c->node = n;
    rnn_status st;
    if (is_recurrent(n))
        st = UNSUP("has no sequence_lens but reads sequences whose lengths are sequence_lens "
                   "'%.80s' (node '%.80s'): ONNX runs it over every step, librnn would stop at "
                   "each sample's length", by->input[4], node_name(by));
    else
        st = UNSUP("reduces over every step, the padded ones included, of sequences whose "
                   "lengths are sequence_lens '%.80s' (node '%.80s'): librnn would pool each "
                   "sample's real steps", by->input[4], node_name(by));
    c->node = keep;
    return st;
}

/* The current node computes over every step of @p x (the sequences of
 * model inputs x->inputs): refused if they have lengths, else remembered in
 * case a later node gives them some. */
rnn_status ox_lens_all_steps(ox_ctx *c, const ox_val *x)
{
    for (int k = 0; k < OX_MAX_INPUTS; k++) {
        if (!(x->inputs >> k & 1))
            continue;
        if (c->lens_by[k])
            return refuse_all_steps(c, c->node, k);
        if (!c->all_steps[k])
            c->all_steps[k] = c->node;
    }
    return RNN_OK;
}

/* A constant sequence_lens equal to the fixed steps of the sequences. */
static int every_step(const ox_val *s, const ox_val *x)
{
    if (s->kind != OX_CONST || s->dtype != OX_INT64 || s->rank != 1 || s->n < 1 || x->steps < 1)
        return 0;
    for (int64_t k = 0; k < s->n; k++)
        if (s->i[k] != x->steps)
            return 0;
    return 1;
}

/* The current node is a recurrent operator reading @p x: binds its
 * sequence_lens to the model inputs of x, or, without one, computes over
 * every step. */
rnn_status ox_lens_recurrent(ox_ctx *c, const ox_val *x)
{
    if (!ox_in_present(c, 4))
        return ox_lens_all_steps(c, x);
    const ox_val *s = ox_in(c, 4);
    if (s && every_step(s, x))
        return ox_lens_all_steps(c, x);
    if (!s || s->kind != OX_LENGTHS)
        return UNSUP("input sequence_lens: only a graph input (int32 (batch), whose values go "
                     "to rnn_model_forward()'s lengths) or a constant equal to the graph's "
                     "fixed steps%s is read",
                     s && s->kind == OX_CONST ? " (this one is another constant)" : "");
    if (!x->inputs)
        return UNSUP("input sequence_lens: the sequences come from no model input");
    const char *name = c->node->input[4];
    for (int k = 0; k < OX_MAX_INPUTS; k++) {
        if (!(x->inputs >> k & 1))
            continue;
        const Onnx__NodeProto *by = c->lens_by[k];
        if (by && strcmp(by->input[4], name) != 0)
            return UNSUP("input sequence_lens '%.80s': these sequences already have lengths, "
                         "sequence_lens '%.80s' of node '%.80s' (librnn has one per model input)",
                         name, by->input[4], node_name(by));
        if (by)
            continue;
        c->lens_by[k] = c->node;
        if (c->all_steps[k])
            return refuse_all_steps(c, c->all_steps[k], k);
    }
    return RNN_OK;
}

/* Metadata onnx.input.K.sequence_lens: the graph input whose values are
 * model input K's lengths. */
rnn_status ox_lens_finish(ox_ctx *c)
{
    for (int k = 0; k < OX_MAX_INPUTS; k++) {
        if (!c->lens_by[k])
            continue;
        char key[64];
        snprintf(key, sizeof key, "onnx.input.%d.sequence_lens", k);
        const char *name = c->lens_by[k]->input[4];
        if (strlen(name) < 256 && rnn_model_set_metadata(c->m, key, name))
            return ox_fail(RNN_ERR_NOMEM, "out of memory");
    }
    return RNN_OK;
}
