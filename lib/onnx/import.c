/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import: the values of the graph by name, the graph's inputs and
 * outputs, and the entry points. The operators are in import_ops.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define OX_FILE_MAX ((size_t)1 << 30)

static const char *FN_FILE = "rnn_model_load_onnx";
static const char *FN_MEM = "rnn_model_load_onnx_memory";

/* ---------------------------------------------------------------- values by name */

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static size_t find_slot(const ox_ctx *c, const char *name)
{
    size_t k = hash(name) & (c->nslot - 1);
    while (c->slot[k] != SIZE_MAX && strcmp(c->names[c->slot[k]], name) != 0)
        k = (k + 1) & (c->nslot - 1);
    return k;
}

/* The value named @p name, created empty on first sight. */
static ox_val *intern(ox_ctx *c, const char *name)
{
    size_t k = find_slot(c, name);
    if (c->slot[k] == SIZE_MAX) {
        if (c->nvals == c->cap)
            return NULL;
        c->slot[k] = c->nvals;
        c->names[c->nvals] = name;
        c->nvals++;
    }
    return &c->vals[c->slot[k]];
}

ox_val *ox_get(ox_ctx *c, const char *name)
{
    if (!name || !name[0])
        return NULL;
    size_t k = find_slot(c, name);
    return c->slot[k] == SIZE_MAX ? NULL : &c->vals[c->slot[k]];
}

int ox_uses(ox_ctx *c, const char *name)
{
    if (!name || !name[0])
        return 0;
    size_t k = find_slot(c, name);
    return c->slot[k] == SIZE_MAX ? 0 : c->uses[c->slot[k]];
}

int ox_in_present(const ox_ctx *c, int k)
{
    return k < (int)c->node->n_input && c->node->input[k][0];
}

ox_val *ox_in(ox_ctx *c, int k)
{
    if (!ox_in_present(c, k))
        return NULL;
    return ox_get(c, c->node->input[k]);
}

ox_val *ox_out(ox_ctx *c, int k)
{
    if (k >= (int)c->node->n_output || !c->node->output[k][0])
        return NULL;
    return ox_get(c, c->node->output[k]);
}

int ox_out_used(ox_ctx *c, int k)
{
    if (k >= (int)c->node->n_output)
        return 0;
    return ox_uses(c, c->node->output[k]) > 0;
}

const Onnx__AttributeProto *ox_attr(const ox_ctx *c, const char *name)
{
    for (size_t k = 0; k < c->node->n_attribute; k++)
        if (c->node->attribute[k]->name && strcmp(c->node->attribute[k]->name, name) == 0)
            return c->node->attribute[k];
    return NULL;
}

int64_t ox_attr_i(const ox_ctx *c, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = ox_attr(c, name);
    return a && a->has_i ? a->i : def;
}

/* ---------------------------------------------------------------- views */

int64_t ox_axis_size(const ox_val *v, int axis)
{
    int64_t s = 1;
    if (v->axn[axis] == 1 && v->ax[axis][0] == OX_ATOM_N)
        return OX_DIM_N;
    if (v->axn[axis] == 1 && v->ax[axis][0] == OX_ATOM_T)
        return OX_DIM_T;
    for (int k = 0; k < v->axn[axis]; k++) {
        int a = v->ax[axis][k];
        if (a == OX_ATOM_N || a == OX_ATOM_T)
            return OX_DIM_UNKNOWN;
        s *= a == OX_ATOM_STACK ? v->nport : v->fa[a - OX_ATOM_F];
    }
    return s;
}

/* The axis holds exactly the feature atoms, in order. */
int ox_axis_is_features(const ox_val *v, int axis)
{
    if (v->axn[axis] != v->nfa)
        return 0;
    for (int k = 0; k < v->nfa; k++)
        if (v->ax[axis][k] != OX_ATOM_F + k)
            return 0;
    return 1;
}

static int view_is(const ox_val *v, int time_major)
{
    if (v->kind != OX_TENSOR || v->nport != 1)
        return 0;
    int r = v->has_time ? 3 : 2;
    if (v->vrank != r)
        return 0;
    int first = time_major && v->has_time ? OX_ATOM_T : OX_ATOM_N;
    int second = time_major && v->has_time ? OX_ATOM_N : OX_ATOM_T;
    if (v->axn[0] != 1 || v->ax[0][0] != first)
        return 0;
    if (v->has_time && (v->axn[1] != 1 || v->ax[1][0] != second))
        return 0;
    return ox_axis_is_features(v, r - 1);
}

int ox_view_batch_major(const ox_val *v)
{
    return view_is(v, 0);
}

int ox_view_time_major(const ox_val *v)
{
    return v->has_time && view_is(v, 1);
}

/* Sets the view to (N, T, F) or (T, N, F) (or (N, F)). */
void ox_view_canonical(ox_val *v, int time_major)
{
    int r = 0;
    if (v->has_time) {
        v->ax[r][0] = time_major ? OX_ATOM_T : OX_ATOM_N, v->axn[r++] = 1;
        v->ax[r][0] = time_major ? OX_ATOM_N : OX_ATOM_T, v->axn[r++] = 1;
    } else {
        v->ax[r][0] = OX_ATOM_N, v->axn[r++] = 1;
    }
    for (int k = 0; k < v->nfa; k++)
        v->ax[r][k] = (uint8_t)(OX_ATOM_F + k);
    v->axn[r++] = v->nfa;
    v->vrank = r;
}

/* ---------------------------------------------------------------- graph inputs */

static int64_t dim_of(const Onnx__ValueInfoProto *vi, int d, int *rank)
{
    *rank = -1;
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !vi->type->tensor_type || !vi->type->tensor_type->shape)
        return -1;
    const Onnx__TensorShapeProto *s = vi->type->tensor_type->shape;
    *rank = (int)s->n_dim;
    if (d >= (int)s->n_dim)
        return -1;
    const Onnx__TensorShapeProto__Dimension *dm = s->dim[d];
    return dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? dm->dim_value
                                                                                : -1;
}

/* Is the first real consumer of @p name a recurrent operator reading it as
 * time-major X (layout 0)? */
static int read_time_major(ox_ctx *c, const char *name)
{
    const Onnx__GraphProto *g = c->g;
    for (size_t k = 0; k < g->n_node; k++) {
        const Onnx__NodeProto *n = g->node[k];
        if (n->op_type && strcmp(n->op_type, "Shape") == 0)
            continue;
        for (size_t i = 0; i < n->n_input; i++) {
            if (strcmp(n->input[i], name) != 0)
                continue;
            int rec = n->op_type && (!strcmp(n->op_type, "LSTM") || !strcmp(n->op_type, "GRU") ||
                                     !strcmp(n->op_type, "RNN"));
            if (!rec || i != 0)
                return 0;
            for (size_t a = 0; a < n->n_attribute; a++)
                if (n->attribute[a]->name && !strcmp(n->attribute[a]->name, "layout") &&
                    n->attribute[a]->i == 1)
                    return 0;
            return 1;
        }
    }
    return 0;
}

static rnn_status add_input(ox_ctx *c, const Onnx__ValueInfoProto *vi, int index)
{
    const char *name = vi->name ? vi->name : "";
    ox_val *v = ox_get(c, name);
    if (!v || v->kind != OX_NONE)
        return RNN_OK; /* an initializer listed as an input (IR < 4) */
    int rank;
    (void)dim_of(vi, 0, &rank);
    int et = vi->type && vi->type->tensor_type && vi->type->tensor_type->has_elem_type
                 ? vi->type->tensor_type->elem_type : 0;
    int ids = et == OX_INT64 || et == OX_INT32;
    if (!ids && et != OX_FLOAT)
        return ox_fail(RNN_ERR_UNSUPPORTED,
                       "graph input '%s': element type %d (float, int32 or int64 token ids)",
                       name, et);
    rnn_layer *l = NULL;
    rnn_status st;
    memset(v, 0, sizeof *v);
    v->kind = OX_TENSOR;
    v->nport = 1;
    v->out[0] = 0;
    if (ids) {
        if (rank != 2)
            return ox_fail(RNN_ERR_UNSUPPORTED,
                           "graph input '%s': token ids must be (batch, steps) (rank %d)", name,
                           rank);
        int64_t shape[1] = {0};
        st = rnn_model_add_input(c->m, RNN_I32, 1, shape, &l);
        v->is_ids = 1;
        v->has_time = 1;
        int r1;
        v->steps = dim_of(vi, 1, &r1);
        v->nfa = 0;
        v->vrank = 2;
        v->ax[0][0] = OX_ATOM_N, v->axn[0] = 1;
        v->ax[1][0] = OX_ATOM_T, v->axn[1] = 1;
    } else {
        if (rank != 3 && rank != 2)
            return ox_fail(RNN_ERR_UNSUPPORTED,
                           "graph input '%s': float inputs must be (batch, steps, features) or "
                           "(batch, features) (rank %d)", name, rank);
        int r2;
        int64_t F = dim_of(vi, rank - 1, &r2);
        if (F <= 0)
            return ox_fail(RNN_ERR_UNSUPPORTED,
                           "graph input '%s': the feature dimension must be fixed", name);
        int64_t shape[2] = {0, F};
        st = rank == 3 ? rnn_model_add_input(c->m, RNN_F32, 2, shape, &l)
                       : rnn_model_add_input(c->m, RNN_F32, 1, shape + 1, &l);
        v->has_time = rank == 3;
        v->nfa = F > 1;
        v->fa[0] = F;
        int tm = rank == 3 && read_time_major(c, name);
        ox_view_canonical(v, tm);
        if (rank == 3)
            v->steps = dim_of(vi, tm ? 0 : 1, &r2);
        if (tm) {
            char key[64];
            snprintf(key, sizeof key, "onnx.input.%d.layout", index);
            if (rnn_model_set_metadata(c->m, key, "time-major"))
                return rnn_last_error()[0] ? RNN_ERR_NOMEM : RNN_ERR_NOMEM;
        }
    }
    if (st)
        return ox_fail(st, "graph input '%s': %s", name, rnn_last_error());
    v->layer[0] = l;
    v->inputs = 1u << index;
    if (v->steps < 0)
        v->steps = 0;
    char key[64];
    snprintf(key, sizeof key, "onnx.input.%d", index);
    if (strlen(name) < 256 && rnn_model_set_metadata(c->m, key, name))
        return ox_fail(RNN_ERR_NOMEM, "out of memory");
    return RNN_OK;
}

/* ---------------------------------------------------------------- graph outputs */

static rnn_status set_outputs(ox_ctx *c)
{
    const Onnx__GraphProto *g = c->g;
    if (g->n_output < 1 || g->n_output > 16)
        return ox_fail(RNN_ERR_UNSUPPORTED, "the graph has %zu outputs (1 to 16 are read)",
                       g->n_output);
    rnn_layer *ls[16];
    int os[16];
    for (size_t k = 0; k < g->n_output; k++) {
        const char *name = g->output[k]->name ? g->output[k]->name : "";
        ox_val *v = ox_get(c, name);
        if (!v || v->kind == OX_NONE)
            return ox_fail(RNN_ERR_FORMAT, "graph output '%s' is computed by no node", name);
        if (v->kind != OX_TENSOR || v->is_ids || v->nport != 1)
            return ox_fail(RNN_ERR_UNSUPPORTED,
                           "graph output '%s' is not a layer output librnn can return", name);
        if (v->sel || v->reversed)
            return ox_fail(RNN_ERR_UNSUPPORTED,
                           "graph output '%s' is %s", name, v->sel
                           ? "one direction of a bidirectional output (a Slice of Y), which "
                             "no librnn layer returns"
                           : "a sequence in reverse time order (Y of a 'reverse' recurrent "
                             "operator, or a ReverseSequence), where librnn's go_backwards "
                             "returns processing order");
        int tm = ox_view_time_major(v);
        if (!ox_view_batch_major(v) && !tm)
            return ox_fail(RNN_ERR_UNSUPPORTED,
                           "graph output '%s': its axes are not (batch, [steps,] features) nor "
                           "(steps, batch, features)", name);
        ls[k] = v->layer[0];
        os[k] = v->out[0];
        char key[64];
        snprintf(key, sizeof key, "onnx.output.%zu", k);
        if (strlen(name) < 256 && rnn_model_set_metadata(c->m, key, name))
            return ox_fail(RNN_ERR_NOMEM, "out of memory");
        if (tm) {
            snprintf(key, sizeof key, "onnx.output.%zu.layout", k);
            if (rnn_model_set_metadata(c->m, key, "time-major"))
                return ox_fail(RNN_ERR_NOMEM, "out of memory");
        }
    }
    rnn_status st = rnn_model_set_outputs(c->m, (int)g->n_output, ls, os);
    if (st)
        return ox_fail(st, "setting the outputs: %s", rnn_last_error());
    return RNN_OK;
}

/* ---------------------------------------------------------------- the whole graph */

static rnn_status opset_of(ox_ctx *c)
{
    const Onnx__ModelProto *mp = c->mp;
    c->opset = -1;
    for (size_t k = 0; k < mp->n_opset_import; k++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[k];
        if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
            c->opset = o->has_version ? o->version : 1;
    }
    if (c->opset < 7)
        return ox_fail(RNN_ERR_UNSUPPORTED, "default-domain opset %lld (7 or later is read)",
                       (long long)c->opset);
    return RNN_OK;
}

static rnn_status make_table(ox_ctx *c)
{
    const Onnx__GraphProto *g = c->g;
    size_t n = g->n_initializer + g->n_input + g->n_output;
    for (size_t k = 0; k < g->n_node; k++)
        n += g->node[k]->n_output + g->node[k]->n_input;
    c->cap = n + 1;
    c->nslot = 16;
    while (c->nslot < 2 * c->cap)
        c->nslot *= 2;
    c->vals = calloc(c->cap, sizeof *c->vals);
    c->names = calloc(c->cap, sizeof *c->names);
    c->uses = calloc(c->cap, sizeof *c->uses);
    c->slot = malloc(c->nslot * sizeof *c->slot);
    if (!c->vals || !c->names || !c->uses || !c->slot)
        return ox_fail(RNN_ERR_NOMEM, "out of memory");
    memset(c->slot, 0xff, c->nslot * sizeof *c->slot);
    for (size_t k = 0; k < g->n_initializer; k++) {
        const Onnx__TensorProto *t = g->initializer[k];
        ox_val *v = intern(c, t->name ? t->name : "");
        if (!v)
            return ox_fail(RNN_ERR_FORMAT, "too many values");
        if (v->kind != OX_NONE)
            return ox_fail(RNN_ERR_FORMAT, "initializer '%s' is defined twice", t->name);
        rnn_status st = ox_tensor_read(t, v);
        if (st)
            return st;
    }
    for (size_t k = 0; k < g->n_input; k++)
        if (!intern(c, g->input[k]->name ? g->input[k]->name : ""))
            return ox_fail(RNN_ERR_FORMAT, "too many values");
    for (size_t k = 0; k < g->n_node; k++) {
        const Onnx__NodeProto *nd = g->node[k];
        for (size_t i = 0; i < nd->n_input; i++) {
            if (!nd->input[i][0])
                continue;
            size_t s = find_slot(c, nd->input[i]);
            if (c->slot[s] == SIZE_MAX)
                return ox_fail(RNN_ERR_FORMAT,
                               "node '%s' (%s): input '%s' is defined by nothing before it",
                               nd->name ? nd->name : "", nd->op_type ? nd->op_type : "?",
                               nd->input[i]);
            c->uses[c->slot[s]]++;
        }
        for (size_t i = 0; i < nd->n_output; i++) {
            if (!nd->output[i][0])
                continue;
            size_t s = find_slot(c, nd->output[i]);
            if (c->slot[s] != SIZE_MAX)
                return ox_fail(RNN_ERR_FORMAT, "node '%s' (%s): output '%s' is defined twice",
                               nd->name ? nd->name : "", nd->op_type ? nd->op_type : "?",
                               nd->output[i]);
            intern(c, nd->output[i]);
        }
    }
    for (size_t k = 0; k < g->n_output; k++) {
        const char *name = g->output[k]->name ? g->output[k]->name : "";
        size_t s = find_slot(c, name);
        if (c->slot[s] == SIZE_MAX)
            return ox_fail(RNN_ERR_FORMAT, "graph output '%s' is defined by nothing", name);
        c->uses[c->slot[s]]++;
    }
    return RNN_OK;
}

/* A Loop, Scan or If whose outputs are read: refused before anything else,
 * with what it usually is (a recurrent layer tf2onnx could not rewrite into
 * an LSTM, GRU or RNN operator). */
static rnn_status refuse_control_flow(ox_ctx *c)
{
    for (size_t k = 0; k < c->g->n_node; k++) {
        const Onnx__NodeProto *n = c->g->node[k];
        if (!n->op_type || (strcmp(n->op_type, "Loop") && strcmp(n->op_type, "Scan") &&
                            strcmp(n->op_type, "If")))
            continue;
        int used = 0;
        for (size_t i = 0; i < n->n_output; i++)
            used |= ox_uses(c, n->output[i]) > 0;
        if (!used)
            continue;
        return ox_fail(RNN_ERR_UNSUPPORTED,
                       "node '%s' (%s): control flow has no librnn equivalent (a converter "
                       "writes a Loop for a recurrent layer it could not express as an LSTM, "
                       "GRU or RNN operator: tf2onnx does so for Keras masking (Embedding "
                       "mask_zero), SimpleRNN and GRU reset_after=False)",
                       n->name ? n->name : "", n->op_type);
    }
    return RNN_OK;
}

static void free_ctx(ox_ctx *c)
{
    for (size_t k = 0; k < c->nvals; k++)
        ox_val_clear(&c->vals[k]);
    free(c->vals);
    free(c->names);
    free(c->uses);
    free(c->slot);
}

static rnn_status import(const Onnx__ModelProto *mp, const rnn_model_options *options,
                         rnn_model **out)
{
    ox_ctx c;
    memset(&c, 0, sizeof c);
    c.mp = mp;
    c.g = mp->graph;
    if (!c.g)
        return ox_fail(RNN_ERR_FORMAT, "the model has no graph");
    rnn_status st = opset_of(&c);
    if (st)
        return st;
    for (size_t k = 0; k < c.g->n_node; k++) {
        const Onnx__NodeProto *n = c.g->node[k];
        if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
            return ox_fail(RNN_ERR_UNSUPPORTED, "node '%s' (%s): domain '%s' is not read",
                           n->name ? n->name : "", n->op_type ? n->op_type : "?", n->domain);
    }
    st = rnn_model_create(options, &c.m);
    if (st)
        return ox_fail(st, "%s", rnn_last_error());
    st = make_table(&c);
    if (!st)
        st = refuse_control_flow(&c);
    int nin = 0;
    for (size_t k = 0; !st && k < c.g->n_input; k++) {
        const char *name = c.g->input[k]->name ? c.g->input[k]->name : "";
        ox_val *v = ox_get(&c, name);
        if (v && v->kind == OX_NONE) {
            if (ox_lens_graph_input(&c, name))
                st = ox_lens_input(&c, c.g->input[k], v);
            else if (nin == OX_MAX_INPUTS)
                st = ox_fail(RNN_ERR_UNSUPPORTED, "more than %d graph inputs", OX_MAX_INPUTS);
            else
                st = add_input(&c, c.g->input[k], nin++);
        }
    }
    if (!st && nin == 0)
        st = ox_fail(RNN_ERR_UNSUPPORTED, "the graph has no input");
    for (size_t k = 0; !st && k < c.g->n_node; k++) {
        c.node = c.g->node[k];
        st = ox_run_node(&c);
    }
    c.node = NULL;
    if (!st)
        st = set_outputs(&c);
    if (!st)
        st = ox_lens_finish(&c);
    for (size_t k = 0; !st && k < mp->n_metadata_props; k++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[k];
        char key[256];
        if (!e->key || !e->value || strlen(e->key) > 200)
            continue;
        snprintf(key, sizeof key, "onnx.meta.%s", e->key);
        if (rnn_model_set_metadata(c.m, key, e->value))
            st = ox_fail(RNN_ERR_FORMAT, "metadata_props '%s': %s", e->key, rnn_last_error());
    }
    free_ctx(&c);
    if (st) {
        rnn_model_destroy(c.m);
        return st;
    }
    *out = c.m;
    return RNN_OK;
}

static rnn_status load_memory(const char *fn, const void *data, size_t size,
                              const rnn_model_options *options, rnn_model **out)
{
    rnn_status st;
    ox_pb *pb = ox_unpack(data, size, &st);
    if (!pb)
        return rnn_set_last_error(st, fn, st == RNN_ERR_NOMEM
                                              ? "out of memory reading the protobuf"
                                              : "not a valid ONNX ModelProto (protobuf)");
    st = import(ox_pb_model(pb), options, out);
    ox_pb_free(pb);
    if (st) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", rnn_last_error());
        return rnn_set_last_error(st, fn, msg);
    }
    return RNN_OK;
}

rnn_status rnn_model_load_onnx_memory(const void *data, size_t size,
                                      const rnn_model_options *options, rnn_model **out)
{
    if (out)
        *out = NULL;
    if (!out)
        return rnn_set_last_error(RNN_ERR_INVALID_ARG, FN_MEM, "out must not be NULL");
    if (!data && size)
        return rnn_set_last_error(RNN_ERR_INVALID_ARG, FN_MEM, "data must not be NULL");
    if (size > OX_FILE_MAX)
        return rnn_set_last_error(RNN_ERR_UNSUPPORTED, FN_MEM,
                                  "size must be at most 1 GiB");
    return load_memory(FN_MEM, data ? data : "", size, options, out);
}

rnn_status rnn_model_load_onnx(const char *path, const rnn_model_options *options,
                               rnn_model **out)
{
    if (out)
        *out = NULL;
    if (!out)
        return rnn_set_last_error(RNN_ERR_INVALID_ARG, FN_FILE, "out must not be NULL");
    if (!path)
        return rnn_set_last_error(RNN_ERR_INVALID_ARG, FN_FILE, "path must not be NULL");
    FILE *f = fopen(path, "rb");
    char msg[600];
    if (!f) {
        snprintf(msg, sizeof msg, "cannot open '%s'", path);
        return rnn_set_last_error(RNN_ERR_IO, FN_FILE, msg);
    }
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        snprintf(msg, sizeof msg, "cannot read '%s'", path);
        return rnn_set_last_error(RNN_ERR_IO, FN_FILE, msg);
    }
    if ((unsigned long)n > OX_FILE_MAX) {
        fclose(f);
        snprintf(msg, sizeof msg, "'%s' is larger than 1 GiB", path);
        return rnn_set_last_error(RNN_ERR_UNSUPPORTED, FN_FILE, msg);
    }
    void *buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return rnn_set_last_error(RNN_ERR_NOMEM, FN_FILE, "out of memory");
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        free(buf);
        snprintf(msg, sizeof msg, "cannot read '%s'", path);
        return rnn_set_last_error(RNN_ERR_IO, FN_FILE, msg);
    }
    rnn_status st = load_memory(FN_FILE, buf, (size_t)n, options, out);
    free(buf);
    return st;
}
