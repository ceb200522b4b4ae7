/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The model: a small static graph (DAG) of layer applications in
 * topological order, its inputs and outputs, its parameter table and the
 * current batch. Above the layer framework, below training (train/),
 * decoding (decode/), files (io/) and optimizers (optim/), which all read
 * this header; layers never do.
 */
#ifndef RNN_MODEL_GRAPH_H
#define RNN_MODEL_GRAPH_H

#include "governor.h"
#include "layer/layer.h"
#include "model/add.h"
#include "model/metadata.h"
#include "rnn/model.h"
#include "rnn/optim.h"

#define RNN__MAX_IO 16 /* model inputs and outputs */
/* Layers of a model, inputs included: what the API builds, save writes and
 * load reads are the same models. */
#define RNN__MAX_LAYERS 4096

/* The compile configuration's loss (train/loss.c computes it). */
typedef struct rnn__loss_cfg {
    rnn_loss_type type;
    int from_logits;
    rnn_reduction reduction;
} rnn__loss_cfg;

/* One entry of the parameter table: every parameter the model owns, once
 * (shared applications are not listed again), in layer order. */
typedef struct rnn__param {
    rnn_layer *layer;
    int index; /* in layer->param[] */
    rnn_tensor *value, *grad;
} rnn__param;

struct rnn_model {
    rnn_model_options opts;
    rnn__ctx *ctx;
    rnn_precision precision; /* a runtime setting, not saved (rnn_model_set_precision) */
    rnn__rng rng;
    rnn_layer **layers;
    int n_layers, cap_layers;

    /* Input layers in order; explicit outputs (none: the last layer's
     * outputs); the producer of the next layer appended (layer NULL: the
     * last layer's output 0). */
    int n_inputs;
    rnn_layer *inputs[RNN__MAX_IO];
    int n_outputs;
    rnn__port outputs[RNN__MAX_IO];
    rnn__port cursor;

    /* The parameter table, rebuilt when a layer is appended. */
    rnn__param *params;
    int n_params;

    /* Current batch (set by forward). */
    int fed;             /* a forward has set the inputs */
    int64_t N, T;        /* batch size and steps of input 0 */
    int trained_forward; /* a training forward happened since the last change */
    int freeze_masks;    /* white-box tests: reuse the previous dropout masks */

    /* Set by rnn_model_compile() (train/compile.c), released through
     * release_train so that this file does not call up into train/. */
    int compiled;
    rnn__loss_cfg loss;
    rnn_optimizer *optimizer;
    rnn_tensor *loss_grad; /* d(loss)/d(output 0) */
    void (*release_train)(rnn_model *m);

    /* Metadata (model/metadata.c): sorted by key; meta_bytes counts the
     * bytes of all keys and values. */
    rnn__meta *meta;
    int n_meta;
    size_t meta_bytes;

    /* The thread counts of the batch loops (fit, evaluate, predict, decode),
     * kept from call to call; owned by train/ and decode/. */
    rnn__gov gov[RNN__LOOPS];

    /* Step-wise decoding state, owned by decode/ (NULL when not decoding). */
    void *decoding;
    void (*release_decoding)(rnn_model *m);

    /* The collective of data-parallel training, owned by train/dist.c (NULL:
     * this process trains alone). */
    void *dist;
    void (*release_dist)(rnn_model *m);
};

/* Called by rnn__model_backward_hooked() after the backward of the layer at
 * graph index i (in decreasing order); an error stops the backward. */
typedef rnn_status (*rnn__layer_done_fn)(void *ctx, int i);

/* rnn_model_backward() (its checks and errors), calling done(ctx, i) after
 * each layer's backward when done is not NULL: data-parallel training starts
 * summing a layer's gradients there. */
RNN__HIDDEN rnn_status rnn__model_backward_hooked(rnn_model *model, int num_outputs,
                                                  const rnn_tensor *const *grads,
                                                  rnn__layer_done_fn done, void *ctx);

/* Rebuilds the parameter table (after a layer's parameters were replaced). */
RNN__HIDDEN rnn_status rnn__model_rebuild_params(const char *func, rnn_model *m);

/* A layer's configuration as a JSON object {field: value} from its kind's
 * field table (model files and rnn_layer_config()); NULL when out of memory. */
struct json_t;
RNN__HIDDEN struct json_t *rnn__layer_config_json(const rnn_layer *l);

/* Model output k. */
RNN__HIDDEN rnn__port rnn__model_output_port(const rnn_model *m, int k);
RNN__HIDDEN int rnn__model_num_outputs(const rnn_model *m);

/* Runs the layers' forwards (only those with only[i] != 0 when only is not
 * NULL) with run context r; errors name the layer once. */
RNN__HIDDEN rnn_status rnn__model_run(rnn_model *m, const rnn__run *r, const unsigned char *only);
/* The run context of a forward of m. */
RNN__HIDDEN rnn__run rnn__model_run_ctx(rnn_model *m, int training);
/* Replaces model input i's tensor (and lengths) without checks: decoding. */
RNN__HIDDEN void rnn__model_set_input(rnn_model *m, int i, const rnn_tensor *x,
                                      const int32_t *len);

/* After the parameters or the trainable flag of a layer changed: updates
 * the layers that share its parameters (rnn_model_add_shared). */
RNN__HIDDEN void rnn__layer_sync_shared(rnn_layer *root);

/* White-box tests only: with freeze != 0, training forwards reuse the
 * dropout masks of the previous forward of the same batch size, so that
 * finite differences see one fixed function. */
RNN__HIDDEN void rnn__model_freeze_masks(rnn_model *m, int freeze);

#endif
