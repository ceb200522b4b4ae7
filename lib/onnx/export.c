/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX export: walks the model's graph through the public queries
 * (rnn_model_layer, rnn_layer_config, rnn_layer_input,
 * rnn_model_output_source, rnn_layer_get_weights) and writes opset 14
 * nodes for each layer: Embedding -> Gather; recurrent -> Transpose, LSTM /
 * GRU / RNN (layout 0, which every runtime has), and the Transpose /
 * Reshape / Squeeze / Gather / Reduce* that give Keras' outputs; Dense ->
 * MatMul + Add (+ activation: Tanh, Relu, Sigmoid, Softmax, LogSoftmax);
 * Activation; Dropout -> Identity; Concatenate -> Concat; global pooling ->
 * ReduceMax / ReduceMean over time. What ONNX cannot express exactly is
 * refused.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx_export.h"

static const char *FN = EX_FN;

/* ---------------------------------------------------------------- errors */

rnn_status ex_layer_fail(const rnn_layer *l, rnn_status st, const char *fmt, ...)
{
    char msg[400], full[520];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = "", *type = "";
    rnn_layer_name(l, &name);
    rnn_layer_type(l, &type);
    snprintf(full, sizeof full, "layer '%s' (%s): %s", name, type, msg);
    return rnn_set_last_error(st, FN, full);
}

/* ---------------------------------------------------------------- config */

int ex_cfg_int(json_t *cfg, const char *key, int def)
{
    json_t *v = json_object_get(cfg, key);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return (int)json_integer_value(v);
    return def;
}

const char *ex_cfg_str(json_t *cfg, const char *key)
{
    const char *s = json_string_value(json_object_get(cfg, key));
    return s ? s : "";
}

static json_t *layer_json(const rnn_layer *l)
{
    size_t need = 0;
    if (rnn_layer_config(l, NULL, 0, &need) || need == 0)
        return NULL;
    char *buf = malloc(need);
    if (!buf)
        return NULL;
    json_t *j = NULL;
    if (!rnn_layer_config(l, buf, need, NULL))
        j = json_loads(buf, 0, NULL);
    free(buf);
    return j;
}

static int index_of(const ex_ctx *e, const rnn_layer *l)
{
    for (int k = 0; k < e->nl; k++)
        if (e->layers[k] == l)
            return k;
    return -1;
}

/* Producer k of layer i: its value name, rank and features. */
int ex_producer(ex_ctx *e, const rnn_layer *l, int k, char **name, int *rank, int64_t *F)
{
    const rnn_layer *p;
    int o;
    if (rnn_layer_input(l, k, &p, &o))
        return 0;
    int j = index_of(e, p);
    if (j < 0 || o < 0 || o >= 8 || !e->vname[j][o])
        return 0;
    *name = e->vname[j][o];
    *rank = e->vrank[j][o];
    *F = e->vfeat[j][o];
    return 1;
}

/* ---------------------------------------------------------------- layers */

static const char *act_op(const char *act)
{
    if (!strcmp(act, "tanh"))
        return "Tanh";
    if (!strcmp(act, "relu"))
        return "Relu";
    if (!strcmp(act, "sigmoid"))
        return "Sigmoid";
    if (!strcmp(act, "softmax"))
        return "Softmax";
    if (!strcmp(act, "log_softmax"))
        return "LogSoftmax";
    return NULL;
}

static char *ex_activation(ex_ctx *e, const char *name, const char *in, const char *act)
{
    if (!strcmp(act, "linear"))
        return (char *)in;
    Onnx__NodeProto *n;
    char *o = ex_unary(e, act_op(act), name, in, &n);
    if (!strcmp(act, "softmax") || !strcmp(act, "log_softmax"))
        ex_attr_i(e, n, "axis", -1); /* opset 13+: along the last axis alone */
    return o;
}

static rnn_status ex_dense(ex_ctx *e, int i, const rnn_layer *l, json_t *cfg, const char *name)
{
    char *x;
    int rank;
    int64_t F;
    if (!ex_producer(e, l, 0, &x, &rank, &F))
        return ex_layer_fail(l, RNN_ERR_INTERNAL, "its input was not exported");
    int64_t U = ex_cfg_int(cfg, "units", 0);
    const char *act = ex_cfg_str(cfg, "activation");
    rnn_tensor *w = NULL, *b = NULL;
    const char *pn;
    rnn_layer *ml = (rnn_layer *)l;
    if (rnn_layer_param(ml, 0, &pn, &w, NULL) ||
        (ex_cfg_int(cfg, "use_bias", 1) && rnn_layer_param(ml, 1, &pn, &b, NULL)))
        return ex_layer_fail(l, RNN_ERR_INTERNAL, "%s", rnn_last_error());
    const void *wd, *bd = NULL;
    rnn_tensor_data_const(w, &wd);
    if (b)
        rnn_tensor_data_const(b, &bd);
    int64_t kd[2] = {F, U}, bdim[1] = {U};
    char *wn = ex_init_tensor(e, ex_fmt(e, "%s/kernel", name), OX_FLOAT, 2, kd, wd);
    char *y = ex_binary(e, "MatMul", name, x, wn);
    if (bd) {
        char *bn = ex_init_tensor(e, ex_fmt(e, "%s/bias", name), OX_FLOAT, 1, bdim, bd);
        y = ex_binary(e, "Add", name, y, bn);
    }
    y = ex_activation(e, name, y, act);
    e->vname[i][0] = y;
    e->vrank[i][0] = rank;
    e->vfeat[i][0] = U;
    return RNN_OK;
}

/* Keras block kb of an ONNX gate-stacked weight: LSTM Keras i,f,c,o = ONNX
 * blocks 0,2,3,1; GRU z,r,h the same order. */
/* A model input: a graph input, batch and steps dynamic. */
static rnn_status ex_input(ex_ctx *e, int i, json_t *cfg, char *name)
{
    const char *dt = ex_cfg_str(cfg, "dtype");
    int seq = ex_cfg_int(cfg, "sequence", 0);
    int64_t feat = json_integer_value(json_object_get(cfg, "features"));
    Onnx__ValueInfoProto *vi = ex_zalloc(e, sizeof *vi);
    Onnx__TypeProto *tp = ex_zalloc(e, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ex_zalloc(e, sizeof *tt);
    Onnx__TensorShapeProto *sh = ex_zalloc(e, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = ex_zalloc(e, sizeof *dims * 3);
    Onnx__ValueInfoProto **ins = ex_zalloc(e, sizeof *ins * (e->g->n_input + 1));
    if (!vi || !tp || !tt || !sh || !dims || !ins)
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    int ids = !strcmp(dt, "int32");
    int r = 1 + seq + (feat > 0 && !ids);
    const char *sym[2] = {"N", "T"};
    for (int k = 0; k < r; k++) {
        Onnx__TensorShapeProto__Dimension *d = ex_zalloc(e, sizeof *d);
        if (!d)
            break;
        onnx__tensor_shape_proto__dimension__init(d);
        if (k < 1 + seq) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = ex_strdup(e, sym[k]);
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = feat;
        }
        dims[k] = d;
    }
    sh->n_dim = (size_t)r;
    sh->dim = dims;
    tt->has_elem_type = 1;
    tt->elem_type = ids ? OX_INT32 : OX_FLOAT;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = name;
    vi->type = tp;
    if (e->g->n_input)
        memcpy(ins, e->g->input, sizeof *ins * e->g->n_input);
    ins[e->g->n_input++] = vi;
    e->g->input = ins;
    e->vname[i][0] = name;
    e->vrank[i][0] = r;
    e->vfeat[i][0] = ids ? 0 : feat;
    return RNN_OK;
}

static rnn_status ex_embedding(ex_ctx *e, int i, const rnn_layer *l, json_t *cfg, char *name)
{
    char *x;
    int rank;
    int64_t F;
    rnn_status st = RNN_OK;
    if (ex_cfg_int(cfg, "mask_zero", 0))
        st = ex_layer_fail(l, RNN_ERR_UNSUPPORTED,
                        "mask_zero=1 is not exported yet (the lengths it computes have no "
                        "plain ONNX equivalent here)");
    else if (!ex_producer(e, l, 0, &x, &rank, &F))
        st = ex_layer_fail(l, RNN_ERR_INTERNAL, "its input was not exported");
    else {
        rnn_tensor *w;
        const char *pn;
        if (rnn_layer_param((rnn_layer *)l, 0, &pn, &w, NULL)) {
            st = ex_layer_fail(l, RNN_ERR_INTERNAL, "%s", rnn_last_error());
        } else {
            const void *wd;
            int64_t dims[2];
            int r;
            rnn_tensor_data_const(w, &wd);
            rnn_tensor_shape(w, dims, 2, &r);
            char *wn = ex_init_tensor(e, ex_fmt(e, "%s/embeddings", name), OX_FLOAT, 2, dims,
                                   wd);
            e->vname[i][0] = ex_binary(e, "Gather", name, wn, x);
            e->vrank[i][0] = rank + 1;
            e->vfeat[i][0] = dims[1];
        }
    }
    return st;
}

static rnn_status ex_layer(ex_ctx *e, int i, const rnn_layer *l)
{
    json_t *j = layer_json(l);
    if (!j)
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    const char *kind = ex_cfg_str(j, "kind");
    json_t *cfg = json_object_get(j, "config");
    char *name = ex_strdup(e, ex_cfg_str(j, "name"));
    rnn_status st = RNN_OK;
    char *x;
    int rank;
    int64_t F;
    if (!strcmp(kind, "input")) {
        st = ex_input(e, i, cfg, name);
    } else if (!strcmp(kind, "embedding")) {
        st = ex_embedding(e, i, l, cfg, name);
    } else if (!strcmp(kind, "recurrent")) {
        st = ex_recurrent(e, i, l, cfg, name);
    } else if (!strcmp(kind, "dense")) {
        st = ex_dense(e, i, l, cfg, name);
    } else if (!strcmp(kind, "activation") || !strcmp(kind, "dropout") ||
               !strcmp(kind, "spatial_dropout1d")) {
        if (!ex_producer(e, l, 0, &x, &rank, &F))
            st = ex_layer_fail(l, RNN_ERR_INTERNAL, "its input was not exported");
        else {
            const char *act = !strcmp(kind, "activation") ? ex_cfg_str(cfg, "activation") : "linear";
            char *y = ex_activation(e, name, x, act);
            e->vname[i][0] = y == x ? ex_unary(e, "Identity", name, x, NULL) : y;
            e->vrank[i][0] = rank;
            e->vfeat[i][0] = F;
        }
    } else if (!strcmp(kind, "global_pooling")) {
        /* over each sample's real steps in librnn; over every step in ONNX,
         * which has no lengths: the same on unpadded input, as the recurrent
         * layers */
        if (!ex_producer(e, l, 0, &x, &rank, &F))
            st = ex_layer_fail(l, RNN_ERR_INTERNAL, "its input was not exported");
        else {
            int64_t ax[1] = {1};
            Onnx__NodeProto *rn;
            const char *op = !strcmp(ex_cfg_str(cfg, "pooling"), "max") ? "ReduceMax"
                                                                        : "ReduceMean";
            e->vname[i][0] = ex_unary(e, op, name, x, &rn);
            ex_attr_ints(e, rn, "axes", 1, ax);
            ex_attr_i(e, rn, "keepdims", 0);
            e->vrank[i][0] = 2;
            e->vfeat[i][0] = F;
        }
    } else if (!strcmp(kind, "concatenate")) {
        int n;
        rnn_layer_num_inputs(l, &n);
        const char *in[16];
        int64_t total = 0;
        for (int k = 0; k < n && k < 16 && !st; k++) {
            char *v;
            if (!ex_producer(e, l, k, &v, &rank, &F))
                st = ex_layer_fail(l, RNN_ERR_INTERNAL, "its input %d was not exported", k);
            in[k] = v;
            total += F;
        }
        if (!st) {
            char *out = ex_tmp(e, name);
            Onnx__NodeProto *nd = ex_node(e, "Concat", name, n, in, 1, &out);
            ex_attr_i(e, nd, "axis", -1);
            e->vname[i][0] = out;
            e->vrank[i][0] = rank;
            e->vfeat[i][0] = total;
        }
    } else {
        st = ex_layer_fail(l, RNN_ERR_UNSUPPORTED, "this kind of layer is not exported to ONNX");
    }
    json_decref(j);
    if (!st && e->nomem)
        st = rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    return st;
}

static rnn_status export_model(ex_ctx *e, rnn_model *m, Onnx__ModelProto *mp, const char *path)
{
    int nl;
    rnn_status st = rnn_model_num_layers(m, &nl);
    if (st)
        return rnn_set_last_error(st, FN, rnn_last_error());
    if (nl > EX_MAX_LAYERS)
        return rnn_set_last_error(RNN_ERR_UNSUPPORTED, FN, "too many layers");
    e->nl = nl;
    e->vname = ex_zalloc(e, sizeof *e->vname * (size_t)nl);
    e->vrank = ex_zalloc(e, sizeof *e->vrank * (size_t)nl);
    e->vfeat = ex_zalloc(e, sizeof *e->vfeat * (size_t)nl);
    e->layers = ex_zalloc(e, sizeof *e->layers * (size_t)nl);
    if (e->nomem)
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    for (int i = 0; i < nl; i++) {
        rnn_layer *l;
        rnn_model_layer(m, i, &l);
        e->layers[i] = l;
        if ((st = ex_layer(e, i, l)))
            return st;
    }
    int no;
    rnn_model_num_outputs(m, &no);
    Onnx__ValueInfoProto **outs = ex_zalloc(e, sizeof *outs * (size_t)(no ? no : 1));
    if (!outs)
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    for (int k = 0; k < no; k++) {
        const rnn_layer *l;
        int o;
        if ((st = rnn_model_output_source(m, k, &l, &o)))
            return rnn_set_last_error(st, FN, rnn_last_error());
        int j = index_of(e, l);
        char *yname = ex_fmt(e, "output_%d", k);
        const char *src = e->vname[j][o];
        ex_node(e, "Identity", yname, 1, &src, 1, &yname);
        outs[k] = ex_value_info(e, yname, e->vrank[j][o], e->vfeat[j][o]);
    }
    e->g->n_output = (size_t)no;
    e->g->output = outs;
    e->g->name = ex_strdup(e, "librnn");
    /* metadata */
    int nm = 0;
    rnn_model_metadata_count(m, &nm);
    Onnx__StringStringEntryProto **props = ex_zalloc(e, sizeof *props * (size_t)(nm + 1));
    for (int k = 0; props && k < nm; k++) {
        const char *key, *val;
        if (rnn_model_metadata_key(m, k, &key) || rnn_model_get_metadata(m, key, &val))
            continue;
        Onnx__StringStringEntryProto *p = ex_zalloc(e, sizeof *p);
        if (!p)
            break;
        onnx__string_string_entry_proto__init(p);
        p->key = ex_strdup(e, key);
        p->value = ex_strdup(e, val);
        props[mp->n_metadata_props++] = p;
    }
    mp->metadata_props = props;
    if (e->nomem)
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    size_t n = onnx__model_proto__get_packed_size(mp);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    onnx__model_proto__pack(mp, buf);
    st = ex_write_atomic(path, buf, n);
    free(buf);
    return st;
}

rnn_status rnn_model_save_onnx(const rnn_model *model, const char *path)
{
    if (!model)
        return rnn_set_last_error(RNN_ERR_INVALID_ARG, FN, "model must not be NULL");
    if (!path)
        return rnn_set_last_error(RNN_ERR_INVALID_ARG, FN, "path must not be NULL");
    ex_ctx e;
    memset(&e, 0, sizeof e);
    Onnx__ModelProto mp;
    Onnx__GraphProto g;
    Onnx__OperatorSetIdProto ops;
    Onnx__OperatorSetIdProto *opsp = &ops;
    onnx__model_proto__init(&mp);
    onnx__graph_proto__init(&g);
    onnx__operator_set_id_proto__init(&ops);
    ops.domain = (char *)"";
    ops.has_version = 1;
    ops.version = 14;
    mp.has_ir_version = 1;
    mp.ir_version = 7;
    mp.producer_name = (char *)"librnn";
    mp.producer_version = (char *)rnn_version_string();
    mp.n_opset_import = 1;
    mp.opset_import = &opsp;
    mp.graph = &g;
    e.g = &g;
    rnn_status st = export_model(&e, (rnn_model *)model, &mp, path);
    free(g.node);
    free(g.initializer);
    for (size_t k = 0; k < e.nblocks; k++)
        free(e.blocks[k]);
    free(e.blocks);
    return st;
}
