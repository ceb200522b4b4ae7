/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX export: building the ModelProto (nodes, attributes, initializers,
 * value infos) with every block kept in the context and freed at the end,
 * and writing the file atomically (temp file, fsync, rename).
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

static void *ex_keep(ex_ctx *e, void *p)
{
    if (!p) {
        e->nomem = 1;
        return NULL;
    }
    if (e->nblocks == e->capblocks) {
        size_t cap = e->capblocks ? e->capblocks * 2 : 256;
        void **b = realloc(e->blocks, cap * sizeof *b);
        if (!b) {
            free(p);
            e->nomem = 1;
            return NULL;
        }
        e->blocks = b;
        e->capblocks = cap;
    }
    e->blocks[e->nblocks++] = p;
    return p;
}

void *ex_zalloc(ex_ctx *e, size_t n)
{
    return ex_keep(e, calloc(1, n ? n : 1));
}

char *ex_strdup(ex_ctx *e, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ex_zalloc(e, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *ex_fmt(ex_ctx *e, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return ex_strdup(e, buf);
}

char *ex_tmp(ex_ctx *e, const char *base)
{
    return ex_fmt(e, "%s/_%d", base, e->tmp++);
}

int ex_grow(ex_ctx *e, void ***arr, size_t n, size_t *cap)
{
    if (n < *cap)
        return 1;
    size_t c = *cap ? *cap * 2 : 64;
    void **p = realloc(*arr, c * sizeof *p);
    if (!p) {
        e->nomem = 1;
        return 0;
    }
    *arr = p;
    *cap = c;
    return 1;
}

/* ---------------------------------------------------------------- nodes */

Onnx__NodeProto *ex_node(ex_ctx *e, const char *op, const char *name, int nin,
                             const char *const *in, int nout, char *const *out)
{
    Onnx__NodeProto *n = ex_zalloc(e, sizeof *n);
    char **ins = ex_zalloc(e, sizeof(char *) * (size_t)(nin ? nin : 1));
    char **outs = ex_zalloc(e, sizeof(char *) * (size_t)(nout ? nout : 1));
    Onnx__GraphProto *g = e->g;
    if (!n || !ins || !outs || !ex_grow(e, (void ***)&g->node, g->n_node, &e->cap_node))
        return NULL;
    onnx__node_proto__init(n);
    n->op_type = ex_strdup(e, op);
    n->name = ex_fmt(e, "%s/%s_%d", name, op, e->tmp++);
    n->domain = ex_strdup(e, "");
    for (int k = 0; k < nin; k++)
        ins[k] = ex_strdup(e, in[k] ? in[k] : "");
    for (int k = 0; k < nout; k++)
        outs[k] = out[k];
    n->n_input = (size_t)nin;
    n->input = ins;
    n->n_output = (size_t)nout;
    n->output = outs;
    g->node[g->n_node++] = n;
    return n;
}

Onnx__AttributeProto *ex_attr(ex_ctx *e, Onnx__NodeProto *n, const char *name,
                                  Onnx__AttributeProto__AttributeType type)
{
    if (!n)
        return NULL;
    Onnx__AttributeProto *a = ex_zalloc(e, sizeof *a);
    Onnx__AttributeProto **arr = ex_zalloc(e, sizeof *arr * (n->n_attribute + 1));
    if (!a || !arr)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = ex_strdup(e, name);
    a->has_type = 1;
    a->type = type;
    if (n->n_attribute)
        memcpy(arr, n->attribute, sizeof *arr * n->n_attribute);
    arr[n->n_attribute++] = a;
    n->attribute = arr;
    return a;
}

void ex_attr_i(ex_ctx *e, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = ex_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a)
        a->has_i = 1, a->i = v;
}

void ex_attr_ints(ex_ctx *e, Onnx__NodeProto *n, const char *name, int k, const int64_t *v)
{
    Onnx__AttributeProto *a = ex_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *p = ex_zalloc(e, sizeof *p * (size_t)k);
    if (!a || !p)
        return;
    memcpy(p, v, sizeof *p * (size_t)k);
    a->n_ints = (size_t)k;
    a->ints = p;
}

void ex_attr_s(ex_ctx *e, Onnx__NodeProto *n, const char *name, const char *s)
{
    Onnx__AttributeProto *a = ex_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    char *p = ex_strdup(e, s);
    if (a && p)
        a->has_s = 1, a->s.data = (uint8_t *)p, a->s.len = strlen(s);
}

void ex_attr_strings(ex_ctx *e, Onnx__NodeProto *n, const char *name, int k,
                         const char *s)
{
    Onnx__AttributeProto *a = ex_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    ProtobufCBinaryData *b = ex_zalloc(e, sizeof *b * (size_t)k);
    if (!a || !b)
        return;
    for (int j = 0; j < k; j++)
        b[j].data = (uint8_t *)ex_strdup(e, s), b[j].len = strlen(s);
    a->n_strings = (size_t)k;
    a->strings = b;
}

/* An initializer; returns its name. Data are copied. */
char *ex_init_tensor(ex_ctx *e, const char *name, int dtype, int rank, const int64_t *dims,
                         const void *data)
{
    Onnx__GraphProto *g = e->g;
    Onnx__TensorProto *t = ex_zalloc(e, sizeof *t);
    int64_t *d = ex_zalloc(e, sizeof *d * (size_t)(rank ? rank : 1));
    if (!t || !d || !ex_grow(e, (void ***)&g->initializer, g->n_initializer, &e->cap_init))
        return NULL;
    onnx__tensor_proto__init(t);
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k], d[k] = dims[k];
    t->n_dims = (size_t)rank;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->name = ex_strdup(e, name);
    if (dtype == OX_FLOAT) {
        float *f = ex_zalloc(e, (size_t)n * 4);
        if (!f)
            return NULL;
        if (data)
            memcpy(f, data, (size_t)n * 4);
        t->n_float_data = (size_t)n;
        t->float_data = f;
    } else {
        int64_t *i = ex_zalloc(e, (size_t)n * 8);
        if (!i)
            return NULL;
        memcpy(i, data, (size_t)n * 8);
        t->n_int64_data = (size_t)n;
        t->int64_data = i;
    }
    g->initializer[g->n_initializer++] = t;
    return t->name;
}

char *ex_ints_const(ex_ctx *e, const char *base, int k, const int64_t *v)
{
    int64_t d[1] = {k};
    return ex_init_tensor(e, ex_tmp(e, base), OX_INT64, 1, d, v);
}

/* One-input, one-output node; returns the output name. */
char *ex_unary(ex_ctx *e, const char *op, const char *name, const char *in,
                   Onnx__NodeProto **np)
{
    char *out = ex_tmp(e, name);
    Onnx__NodeProto *n = ex_node(e, op, name, 1, &in, 1, &out);
    if (np)
        *np = n;
    return n ? out : NULL;
}

char *ex_transpose(ex_ctx *e, const char *name, const char *in, int k, const int64_t *perm)
{
    Onnx__NodeProto *n;
    char *o = ex_unary(e, "Transpose", name, in, &n);
    ex_attr_ints(e, n, "perm", k, perm);
    return o;
}

char *ex_binary(ex_ctx *e, const char *op, const char *name, const char *a, const char *b)
{
    const char *in[2] = {a, b};
    char *out = ex_tmp(e, name);
    return ex_node(e, op, name, 2, in, 1, &out) ? out : NULL;
}

/* ---------------------------------------------------------------- outputs, file */

Onnx__ValueInfoProto *ex_value_info(ex_ctx *e, const char *name, int rank, int64_t F)
{
    Onnx__ValueInfoProto *vi = ex_zalloc(e, sizeof *vi);
    Onnx__TypeProto *tp = ex_zalloc(e, sizeof *tp);
    Onnx__TypeProto__Tensor *tt = ex_zalloc(e, sizeof *tt);
    Onnx__TensorShapeProto *sh = ex_zalloc(e, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **dims = ex_zalloc(e, sizeof *dims * 3);
    if (!vi || !tp || !tt || !sh || !dims)
        return NULL;
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    const char *sym[2] = {"N", "T"};
    for (int k = 0; k < rank; k++) {
        Onnx__TensorShapeProto__Dimension *d = ex_zalloc(e, sizeof *d);
        if (!d)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(d);
        if (k < rank - 1) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = ex_strdup(e, sym[k]);
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = F;
        }
        dims[k] = d;
    }
    sh->n_dim = (size_t)rank;
    sh->dim = dims;
    tt->has_elem_type = 1;
    tt->elem_type = OX_FLOAT;
    tt->shape = sh;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = ex_strdup(e, name);
    vi->type = tp;
    return vi;
}

rnn_status ex_write_atomic(const char *path, const uint8_t *buf, size_t n)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp)
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    snprintf(tmp, pl + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    char msg[600];
    if (fd < 0) {
        free(tmp);
        snprintf(msg, sizeof msg, "cannot create a file next to '%s'", path);
        return rnn_set_last_error(RNN_ERR_IO, FN, msg);
    }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, buf + done, n - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int ok = done == n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
        free(tmp);
        snprintf(msg, sizeof msg, "cannot write '%s'", path);
        return rnn_set_last_error(RNN_ERR_IO, FN, msg);
    }
    free(tmp);
    return RNN_OK;
}

