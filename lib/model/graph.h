/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal model and layer structures.
 *
 * A model is a list of layer applications in topological order; each layer
 * reads one output of an earlier layer (Sequential today; the functional
 * form generalises `input`/`input_output` to lists). Layers plug in through
 * a named-member vtable. Backward ACCUMULATES: a layer adds its input
 * gradient into its producer's output-gradient buffer and adds parameter
 * gradients into its gradient tensors.
 */
#ifndef RNN_MODEL_INTERNAL_H
#define RNN_MODEL_INTERNAL_H

#include "backend/backend.h"
#include "internal.h"
#include "train/loss.h"
#include "rng.h"
#include "rnn/optim.h"
#include "rnn/layers.h"

#define RNN__MAX_OUTPUTS 8
#define RNN__MAX_PARAMS 8
#define RNN__NAME_MAX 64
#define RNN__MAX_EXTRA 8 /* further producers of one layer */
#define RNN__MAX_IO 16   /* model inputs and outputs */

typedef struct rnn__layer_vt {
    const char *kind; /* "input", "recurrent", ... */
    /* Computes the layer's outputs from rnn__layer_in(). */
    rnn_status (*forward)(rnn_layer *l, int training);
    /* Reads l->dout[], adds into the producer's dout and into l->grad[]. */
    rnn_status (*backward)(rnn_layer *l);
    /* Zeroes carried states (stateful layers); may be NULL. */
    void (*reset_state)(rnn_layer *l);
    /* Called after parameter values were replaced; may be NULL. */
    void (*params_changed)(rnn_layer *l);
    /* Releases l->impl and whatever else the layer owns beyond the common
     * fields (which the model releases). */
    void (*destroy)(rnn_layer *l);
    /* The layer's options struct (its type depends on kind), for saving. */
    const void *(*options)(const rnn_layer *l);
} rnn__layer_vt;

/* Options of the parameter-free layers (kinds "dropout", "activation",
 * "global_pooling"). */
typedef struct rnn__simple_desc {
    float rate;         /* dropout */
    rnn_activation act; /* activation */
    rnn_pooling pool;   /* global_pooling */
} rnn__simple_desc;

/* Options of kind "max_pooling1d". */
typedef struct rnn__pool_desc {
    int64_t pool_size, strides;
    rnn_padding padding;
} rnn__pool_desc;

/* Options of kinds "flatten" (none) and "repeat_vector" (n). */
typedef struct rnn__shape_desc {
    int64_t n;
} rnn__shape_desc;

/* What an input layer accepts (the options of kind "input"). */
typedef struct rnn__input_desc {
    rnn_dtype dtype;
    int seq;          /* has a time axis */
    int64_t steps;    /* fixed number of time steps, 0 = any */
    int64_t features; /* 0: token ids (no feature axis) */
} rnn__input_desc;

struct rnn_layer {
    const rnn__layer_vt *vt;
    rnn_model *model;
    char name[RNN__NAME_MAX];
    int index;

    /* The producer: which layer and which of its outputs feeds this one. */
    rnn_layer *input;
    int input_output;
    /* Further producers, in order: Concatenate's other operands, or the
     * initial states of a recurrent layer connected to another layer. */
    int n_extra;
    rnn_layer *extra[RNN__MAX_EXTRA];
    int extra_output[RNN__MAX_EXTRA];
    /* A shared application: the layer whose parameters this one uses. Its
     * param[]/grad[] alias that layer's and its n_params is 0, so counting,
     * optimizers and saving see the parameters once. */
    rnn_layer *shared_from;
    int n_shared_params; /* how many param[] entries alias */

    /* Static output description, per output: element type, whether it has a
     * time axis after the batch axis, and its feature size (0: no feature
     * axis, e.g. token ids). Runtime shape: (N, [T], [F]). */
    int n_outputs;
    rnn_dtype out_dtype[RNN__MAX_OUTPUTS];
    int out_seq[RNN__MAX_OUTPUTS];
    int64_t out_steps[RNN__MAX_OUTPUTS]; /* static time steps of a sequence output, 0: any */
    int64_t out_features[RNN__MAX_OUTPUTS];

    /* Per-batch buffers, owned, resized by rnn__tensor_ensure(). */
    rnn_tensor *out[RNN__MAX_OUTPUTS];
    rnn_tensor *dout[RNN__MAX_OUTPUTS]; /* accumulated by consumers */
    /* Per-sample lengths of each sequence output (NULL: every sample has the
     * full length), valid after forward; borrowed from whoever computed them. */
    const int32_t *out_len[RNN__MAX_OUTPUTS];

    /* Parameters in canonical (Keras) layout, their gradients. */
    int n_params;
    char param_name[RNN__MAX_PARAMS][RNN__NAME_MAX];
    rnn_tensor *param[RNN__MAX_PARAMS];
    rnn_tensor *grad[RNN__MAX_PARAMS];
    int trainable; /* 0: optimizers skip the layer and backward leaves its grads */
    uint64_t params_version; /* bumped whenever a value changes */
    int step; /* step-wise decoding: depends on the token input (rnn/decode.h) */

    void *impl;
};

struct rnn_model {
    rnn_model_options opts;
    rnn__ctx *ctx;
    rnn__rng rng;
    rnn_layer **layers;
    int n_layers, cap_layers;

    /* Functional graph: input layers in order, explicit outputs (none: the
     * last layer's outputs), and the producer of the next layer added (NULL:
     * the last layer, output 0). */
    int n_inputs;
    rnn_layer *inputs[RNN__MAX_IO];
    int n_outputs;
    rnn_layer *outputs[RNN__MAX_IO];
    int output_index[RNN__MAX_IO];
    rnn_layer *cursor;
    int cursor_output;

    /* Current batch (set by forward). */
    const rnn_tensor *x;        /* borrowed user input 0 */
    const int32_t *lengths;     /* borrowed, NULL = all T */
    int64_t N, T;
    int trained_forward;        /* a training forward happened since the last change */
    int freeze_masks;           /* tests: reuse the previous dropout masks */
    /* Set by rnn_model_compile(). */
    int compiled;
    rnn__loss_cfg loss;
    rnn_optimizer *optimizer;
    rnn_tensor *loss_grad; /* d(loss)/d(output 0) */
    /* Step-wise decoding (lib/model/decode.c): 0 off, 1 between
     * rnn_model_step_begin() and rnn_model_step_end(). While on, recurrent
     * layers start from their carried states once they have some, and
     * rnn__model_run(m, 0, 1) runs the step layers only. */
    int stepping;
    int step_input;   /* index of the token input */
    int64_t step_N;   /* batch size of the begin call */
    rnn__fbuf step_tmp;
};

/* The tensor a layer reads: its producer's output (the user's input for the
 * input layer's consumers). */
RNN__HIDDEN const rnn_tensor *rnn__layer_in(const rnn_layer *l);
/* Output k of a layer (an input layer's: the user's tensor), NULL before a forward. */
RNN__HIDDEN const rnn_tensor *rnn__node_out(const rnn_layer *p, int k);
/* Further producer k of a layer (rnn_layer.extra), its lengths and where its
 * gradient goes (NULL when not differentiable). */
RNN__HIDDEN const rnn_tensor *rnn__layer_extra_in(const rnn_layer *l, int k);
RNN__HIDDEN const int32_t *rnn__layer_extra_len(const rnn_layer *l, int k);
RNN__HIDDEN rnn_tensor *rnn__layer_extra_din(rnn_layer *l, int k);
/* Model output k: which layer and which of its outputs. */
RNN__HIDDEN void rnn__model_output_ref(const rnn_model *m, int k, rnn_layer **layer, int *index);
RNN__HIDDEN int rnn__model_num_outputs(const rnn_model *m);
/* Lengths of the sequence a layer reads (NULL: full length). */
RNN__HIDDEN const int32_t *rnn__layer_in_len(const rnn_layer *l);
/* Where a layer adds the gradient with respect to its input (NULL when the
 * input is not differentiable, e.g. token ids). */
RNN__HIDDEN rnn_tensor *rnn__layer_din(rnn_layer *l);
/* The producer of the next layer appended (the layer chosen with
 * rnn_model_connect_next(), else the last layer), or an error naming func
 * when the model has no input yet. Its output rnn__tail_output(m) is read. */
RNN__HIDDEN rnn_status rnn__model_tail(const char *func, rnn_model *m, rnn_layer **out);
#define rnn__tail_output(m) ((m)->cursor ? (m)->cursor_output : 0)
/* Allocates a layer with its implementation struct (impl_size bytes). */
RNN__HIDDEN rnn_status rnn__layer_new(const char *func, const rnn__layer_vt *vt,
                                      size_t impl_size, rnn_layer **out);


/* Makes *t an owned tensor of dtype and shape, reusing its buffer when large
 * enough (and of that dtype). Contents are unspecified unless zero is set. */
RNN__HIDDEN rnn_status rnn__tensor_ensure_as(rnn_tensor **t, rnn_dtype dtype, int rank,
                                             const int64_t *dims, int zero);
/* Makes *t an owned f32 tensor of the given shape, reusing its buffer when
 * large enough. Contents are unspecified unless zero is set. */
RNN__HIDDEN rnn_status rnn__tensor_ensure(rnn_tensor **t, int rank, const int64_t *dims,
                                          int zero);

/* Releases a layer: its implementation (vt->destroy), outputs, parameters
 * and the struct. For layers not yet appended to a model. */
RNN__HIDDEN void rnn__layer_free(rnn_layer *l);

/* Appends a layer with a unique Keras-style name built from base. The model
 * takes ownership (also on failure, via vt->destroy). */
RNN__HIDDEN rnn_status rnn__model_append(rnn_model *m, rnn_layer *l, const char *base);

/* Adds a parameter of the given shape with a zero gradient. */
RNN__HIDDEN rnn_status rnn__layer_add_param(rnn_layer *l, const char *name, int rank,
                                            const int64_t *dims);

RNN__HIDDEN float *rnn__f32(const rnn_tensor *t);

/* Applies an activation in place on [rows][n] (softmax over each row). */
RNN__HIDDEN void rnn__activate(rnn_activation a, float *y, int64_t rows, int64_t n);
/* From the activation's output y and the gradient dy, writes (or adds, when
 * accumulate) the gradient before the activation into dz. */
RNN__HIDDEN void rnn__activation_grad(rnn_activation a, const float *y, const float *dy,
                                      float *dz, int64_t rows, int64_t n, int accumulate);

/* White-box tests only: with freeze != 0, training forwards reuse the
 * dropout masks of the previous forward of the same batch size, so that
 * finite differences see one fixed function. */
/* Forward, loss (filling *stats when not NULL) and, when train, backward and
 * the optimizer update: rnn_model_train_step/test_step, errors under func. */
RNN__HIDDEN rnn_status rnn__model_step(const char *func, rnn_model *m, int num_inputs,
                                       const rnn_tensor *const *inputs,
                                       const rnn_tensor *const *lengths,
                                       const rnn_tensor *targets, int train, float *loss,
                                       float *accuracy, rnn__loss_stats *stats);

/* After the parameters or the trainable flag of a layer changed: updates
 * the layers that share its parameters (rnn_model_add_shared). */
RNN__HIDDEN void rnn__layer_sync_shared(rnn_layer *root);

RNN__HIDDEN void rnn__model_freeze_masks(rnn_model *m, int freeze);

/* Runs the layers' forwards on the inputs already set (all layers, or only
 * those with l->step when step_only). */
RNN__HIDDEN rnn_status rnn__model_run(rnn_model *m, int training, int step_only);
/* Replaces model input i's tensor (and lengths) without checks: decoding. */
RNN__HIDDEN void rnn__model_set_input(rnn_model *m, int i, const rnn_tensor *x,
                                      const int32_t *len);
RNN__HIDDEN int rnn__layer_is_input(const rnn_layer *l);
/* Keras' class name of a layer ("LSTM", "Dense", ...): summary.c. */
RNN__HIDDEN const char *rnn__layer_type_name(const rnn_layer *l);
/* Attention layers (layers/attention.c). */
RNN__HIDDEN int rnn__is_attention(const rnn_layer *l);
/* Recurrent layers: reorders the carried states' rows (decoding). */
RNN__HIDDEN rnn_status rnn__recurrent_select_carry(rnn_layer *l, const int32_t *rows,
                                                   int64_t N, rnn__fbuf *tmp);


#endif
