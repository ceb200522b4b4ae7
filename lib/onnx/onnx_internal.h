/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librnn-onnx internals: the protobuf reader with its memory bound (pb.c),
 * the importer's values and views (import.c) and its operators
 * (import_ops.c). Built on librnn's public API only.
 */
#ifndef RNN_ONNX_INTERNAL_H
#define RNN_ONNX_INTERNAL_H

#include <rnn.h>
#include <rnn/onnx.h>

#include <stdint.h>

#include RNN__ONNX_PB_H

#define OX_MAX_RANK 8
#define OX_MAX_PORTS 16
#define OX_MAX_INPUTS 16 /* model inputs */
#define OX_ATOM_N 0
#define OX_ATOM_T 1
#define OX_ATOM_F 2 /* feature atoms are OX_ATOM_F + k */
#define OX_ATOM_STACK 15
#define OX_DIM_N (-1)
#define OX_DIM_T (-2)
#define OX_DIM_UNKNOWN (-3)

/* ONNX TensorProto data types used here. */
#define OX_FLOAT 1
#define OX_INT32 6
#define OX_INT64 7

/* What a value of the graph is, as far as the importer is concerned. */
typedef enum ox_kind {
    OX_NONE = 0, /* not computed (yet) */
    OX_CONST,    /* a constant tensor (initializer, Constant, folded shape arithmetic) */
    OX_SHAPE,    /* a 1-D int64 vector of symbolic dimensions (Shape and arithmetic on it) */
    OX_ZEROS,    /* ConstantOfShape(0) of a symbolic shape: a default initial state */
    OX_TENSOR,   /* a view of librnn layer outputs */
    OX_LENGTHS,  /* a graph input read as sequence_lens (import_lens.c) */
    OX_FILLED    /* a (batch) vector whose entries all equal sym[0] (Expand of a
                    dimension: tf2onnx's sequence_lens of a ReverseSequence) */
} ox_kind;

/* A value. A TENSOR is one or more librnn outputs ("ports", stacked along
 * an ONNX axis when more than one: the directions of Y_h) of the same form,
 * seen through a view: each ONNX axis is a list of atoms of the port's
 * canonical (N, T, feature atoms) layout; the feature axis is split into
 * atoms (a bidirectional output's (2, units)) so that Reshape and Transpose
 * are followed exactly. */
typedef struct ox_val {
    ox_kind kind;
    /* CONST */
    int dtype; /* OX_FLOAT or OX_INT64 */
    int rank;
    int64_t dims[OX_MAX_RANK];
    int64_t n;
    float *f;
    int64_t *i;
    /* SHAPE, ZEROS: symbolic dimensions (>= 0 constant, OX_DIM_*) */
    int nsym;
    int64_t sym[OX_MAX_RANK];
    /* TENSOR */
    int nport;
    rnn_layer *layer[OX_MAX_PORTS];
    int out[OX_MAX_PORTS];
    int has_time;          /* the ports are sequences (N, T, F) */
    int nfa;               /* feature atoms */
    int64_t fa[OX_MAX_RANK];
    int vrank;             /* the view */
    int axn[OX_MAX_RANK];
    uint8_t ax[OX_MAX_RANK][OX_MAX_RANK];
    int pending_bias;      /* a MatMul's Dense whose bias an Add may still set */
    int is_ids;            /* a graph input of token ids */
    uint32_t inputs;       /* with time: the model inputs (bit k: input k) whose lengths
                              librnn's layers carry to the ports */
    int64_t steps;         /* with time: the steps when the graph's input fixes them, or 0 */
    int sel;               /* one index of a feature atom selected (Slice of one direction
                              of a bidirectional Y): that atom is in no axis; only layout
                              operators and the Concat that joins the pieces read it */
    uint8_t sel_atom;
    int64_t sel_idx;
    int reversed;          /* with time: the ONNX value is the port reversed in time (Y of a
                              'reverse' operator, a ReverseSequence): only ReverseSequence,
                              layout operators, a recurrent operator's X and pooling read it */
    int last_port;         /* with time, Y of a recurrent layer in processing order: 1 + the
                              port of its (forward direction's) final h (Y's last step), or 0 */
    int first_port;        /* bidirectional Y: 1 + the port of the backward direction's final
                              h (its first step in input order), or 0 */
} ox_val;

typedef struct ox_ctx {
    const Onnx__ModelProto *mp;
    const Onnx__GraphProto *g;
    int64_t opset;
    rnn_model *m;
    /* values by name: an open-addressing table of indices into vals */
    ox_val *vals;
    const char **names;
    int *uses;
    size_t nvals, cap;
    size_t *slot;
    size_t nslot;
    /* the node being read, for messages */
    const Onnx__NodeProto *node;
    int n_time_major_in;
    /* per model input (import_lens.c): the recurrent node whose sequence_lens
     * (a graph input) gives its lengths, and the first node that computes over
     * every step of its sequences */
    const Onnx__NodeProto *lens_by[OX_MAX_INPUTS];
    const Onnx__NodeProto *all_steps[OX_MAX_INPUTS];
} ox_ctx;

/* pb.c */
typedef struct ox_pb ox_pb;
ox_pb *ox_unpack(const void *data, size_t size, rnn_status *st);
Onnx__ModelProto *ox_pb_model(ox_pb *u);
void ox_pb_free(ox_pb *u);
rnn_status ox_fail(rnn_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
rnn_status ox_node_fail(ox_ctx *c, rnn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
rnn_status ox_wrap_librnn(ox_ctx *c, rnn_status st, const char *what);
rnn_status ox_tensor_read(const Onnx__TensorProto *t, ox_val *v);
void ox_val_clear(ox_val *v);
void *ox_alloc(size_t n);
void ox_free(void *p);

/* import.c */
ox_val *ox_get(ox_ctx *c, const char *name);
ox_val *ox_in(ox_ctx *c, int k); /* the node's input k, NULL when absent or empty */
int ox_in_present(const ox_ctx *c, int k);
ox_val *ox_out(ox_ctx *c, int k);
int ox_out_used(ox_ctx *c, int k);
int ox_uses(ox_ctx *c, const char *name);
const Onnx__AttributeProto *ox_attr(const ox_ctx *c, const char *name);
int64_t ox_attr_i(const ox_ctx *c, const char *name, int64_t def);
int64_t ox_axis_size(const ox_val *v, int axis);
int ox_axis_is_features(const ox_val *v, int axis);
int ox_view_batch_major(const ox_val *v);
int ox_view_time_major(const ox_val *v);
void ox_view_canonical(ox_val *v, int time_major);

/* import_ops.c */
rnn_status ox_run_node(ox_ctx *c);
rnn_status ox_need(ox_ctx *c, int k, ox_val **v);
rnn_status ox_connect(ox_ctx *c, const ox_val *v);
rnn_status ox_plain(ox_ctx *c, const ox_val *v, int reversed_ok);
rnn_status ox_tensor_of(ox_ctx *c, const float *data, int rank, const int64_t *dims,
                        rnn_tensor **t);
int64_t ox_features(const ox_val *v);

/* import_util.c */
int ox_op_is(const ox_ctx *c, const char *name);
rnn_status ox_out0(ox_ctx *c, ox_val **v);
/* The node's input 0 (and 1), both required, and its output 0: the start of most ops. */
rnn_status ox_in_out(ox_ctx *c, ox_val **x, ox_val **o);
rnn_status ox_in2_out(ox_ctx *c, ox_val **a, ox_val **b, ox_val **o);
rnn_status ox_norm_axis(ox_ctx *c, int64_t axis, int rank, int *out);
rnn_status ox_const_ints(ox_ctx *c, ox_val *v, const char *what, int64_t *vals, int *n);
rnn_status ox_axes_of(ox_ctx *c, int64_t *axes, int *n, int *given);
rnn_status ox_copy_val(ox_ctx *c, ox_val *dst, const ox_val *src);
rnn_status ox_make_ints(ox_ctx *c, ox_val *v, int rank, const int64_t *vals, int n);
int ox_as_sym(const ox_val *v, int64_t *sym, int *n);
void ox_set_sym(ox_val *v, ox_kind kind, const int64_t *sym, int n, int scalar);
rnn_status ox_store_sym(ox_ctx *c, ox_val *o, const int64_t *sym, int n, int scalar);
rnn_status ox_set_param(ox_ctx *c, rnn_layer *l, int index, const float *data, int rank,
                        const int64_t *dims);
void ox_same_view_port(ox_val *o, const ox_val *in, rnn_layer *l);
int ox_features_last(const ox_val *v);
void ox_new_features_port(ox_val *o, const ox_val *in, rnn_layer *l, int64_t units);

/* import_view.c */
rnn_status ox_op_transpose(ox_ctx *c, ox_val *x, ox_val *o);
rnn_status ox_op_squeeze(ox_ctx *c, ox_val *x, ox_val *o, int un);
rnn_status ox_op_reshape(ox_ctx *c, ox_val *x, ox_val *shape, ox_val *o);
rnn_status ox_gather_tensor(ox_ctx *c, ox_val *x, ox_val *idx, ox_val *o);
rnn_status ox_slice_params(ox_ctx *c, int rank, int64_t *start, int64_t *end, int64_t *step,
                           int *touched);
rnn_status ox_op_slice(ox_ctx *c, ox_val *x, ox_val *o);
rnn_status ox_op_concat(ox_ctx *c, ox_val *o);
rnn_status ox_op_reverse_sequence(ox_ctx *c);
rnn_status ox_concat_zeros(ox_ctx *c, ox_val *o);

/* import_rnn.c */
rnn_status ox_op_recurrent(ox_ctx *c, rnn_cell_type cell);

/* import_lens.c */
int ox_lens_graph_input(const ox_ctx *c, const char *name);
rnn_status ox_lens_input(ox_ctx *c, const Onnx__ValueInfoProto *vi, ox_val *v);
rnn_status ox_lens_check_inputs(ox_ctx *c);
rnn_status ox_lens_recurrent(ox_ctx *c, const ox_val *x);
rnn_status ox_lens_all_steps(ox_ctx *c, const ox_val *x);
rnn_status ox_lens_finish(ox_ctx *c);

#endif
