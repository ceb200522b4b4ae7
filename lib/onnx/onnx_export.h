/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librnn-onnx's exporter: the message being built (export_pb.c: nodes,
 * attributes, initializers, the file), the layers (export.c) and the
 * recurrent layers (export_rnn.c).
 */
#ifndef RNN_ONNX_EXPORT_H
#define RNN_ONNX_EXPORT_H

#include <jansson.h>

#include "onnx_internal.h"

#define EX_FN "rnn_model_save_onnx"
#define EX_MAX_LAYERS 4096

#define EX_MAX_LAYERS 4096

/* Everything allocated for the message is kept here and freed at the end. */
typedef struct ex_ctx {
    void **blocks;
    size_t nblocks, capblocks;
    Onnx__GraphProto *g;
    size_t cap_node, cap_init;
    int tmp; /* counter for temporary value names */
    int nomem;
    /* per layer: value names of its outputs, their rank (2 or 3) and features */
    int nl;
    char *(*vname)[8];
    int (*vrank)[8];
    int64_t (*vfeat)[8];
    const rnn_layer **layers;
} ex_ctx;
void *ex_zalloc(ex_ctx *e, size_t n);
char *ex_strdup(ex_ctx *e, const char *s);
char *ex_fmt(ex_ctx *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *ex_tmp(ex_ctx *e, const char *base);
int ex_grow(ex_ctx *e, void ***arr, size_t n, size_t *cap);
Onnx__NodeProto *ex_node(ex_ctx *e, const char *op, const char *name, int nin,
                         const char *const *in, int nout, char *const *out);
Onnx__AttributeProto *ex_attr(ex_ctx *e, Onnx__NodeProto *n, const char *name,
                              Onnx__AttributeProto__AttributeType type);
void ex_attr_i(ex_ctx *e, Onnx__NodeProto *n, const char *name, int64_t v);
void ex_attr_ints(ex_ctx *e, Onnx__NodeProto *n, const char *name, int k, const int64_t *v);
void ex_attr_s(ex_ctx *e, Onnx__NodeProto *n, const char *name, const char *s);
void ex_attr_strings(ex_ctx *e, Onnx__NodeProto *n, const char *name, int k, const char *s);
char *ex_init_tensor(ex_ctx *e, const char *name, int dtype, int rank, const int64_t *dims,
                     const void *data);
char *ex_ints_const(ex_ctx *e, const char *base, int k, const int64_t *v);
char *ex_unary(ex_ctx *e, const char *op, const char *name, const char *in,
               Onnx__NodeProto **np);
char *ex_transpose(ex_ctx *e, const char *name, const char *in, int k, const int64_t *perm);
char *ex_binary(ex_ctx *e, const char *op, const char *name, const char *a, const char *b);
Onnx__ValueInfoProto *ex_value_info(ex_ctx *e, const char *name, int rank, int64_t F);
rnn_status ex_write_atomic(const char *path, const uint8_t *buf, size_t n);

/* export.c */
rnn_status ex_layer_fail(const rnn_layer *l, rnn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ex_cfg_int(json_t *cfg, const char *key, int def);
const char *ex_cfg_str(json_t *cfg, const char *key);
int ex_producer(ex_ctx *e, const rnn_layer *l, int k, char **name, int *rank, int64_t *F);

/* export_rnn.c */
rnn_status ex_recurrent(ex_ctx *e, int i, const rnn_layer *l, json_t *cfg, const char *name);

#endif
