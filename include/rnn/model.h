/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/model.h
 * @brief Models: a small static graph of layers, run forward and backward.
 *
 * A model owns its layers, their parameters and gradients, a backend context
 * (oneDNN engine and stream, created once) and a seeded random generator.
 *
 * It is a static graph of layer applications, built in topological order.
 * Sequential building (Keras' Sequential): each layer added consumes the
 * previous layer's first output, and the model's outputs are the outputs of
 * the last layer added (for a recurrent layer with `return_state`, its
 * sequence or last output followed by its final states). Functional building
 * (Keras' functional API): several inputs (call rnn_model_add_input() once per
 * input), rnn_model_connect_next() to choose what the next layer reads,
 * rnn_model_add_concatenate() to join branches, rnn_model_add_shared() to
 * apply one layer's parameters again, rnn_layer_connect_initial_state() to
 * start a recurrent layer from another layer's final states (encoder ->
 * decoder), and rnn_model_set_outputs() to choose the outputs.
 *
 * Tensors are batch-major, as in Keras: a sequence input is (N, T, features).
 * Batches of variable-length sequences are right-padded to T and come with
 * per-sample lengths; every sample then gets exactly the outputs, states and
 * gradients it would get if run alone at its own length.
 *
 * A model is used by one thread at a time. Same seed, same thread count and
 * same calls give the same results.
 */
#ifndef RNN_MODEL_H
#define RNN_MODEL_H

#include "rnn/common.h"
#include "rnn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque model handle. */
typedef struct rnn_model rnn_model;

/** @brief Opaque layer handle, borrowed from (owned by) its model. */
typedef struct rnn_layer rnn_layer;

/**
 * @brief Which implementation runs the kernels.
 *
 * Both are stable API. The reference backend is kept public on purpose: it
 * is plain C written from the formulas (no oneDNN), the oracle librnn's own
 * tests compare oneDNN against, and users can do the same: build the same
 * model with the same seed on both backends to check a result, a new oneDNN
 * version or a new CPU, or to run where oneDNN misbehaves. It computes the
 * same numbers (to float rounding), far more slowly.
 */
typedef enum rnn_backend {
    RNN_BACKEND_ONEDNN = 0,    /**< oneDNN primitives (default, fast). */
    RNN_BACKEND_REFERENCE = 1  /**< Plain C reference kernels (slow; the oracle for checks). */
} rnn_backend;

/**
 * @brief Model options. Fill with rnn_model_options_init(), then change fields.
 * The struct only ever grows at the end; struct_size tells which fields exist.
 */
typedef struct rnn_model_options {
    uint32_t struct_size; /**< sizeof(rnn_model_options), set by _init. */
    uint64_t seed;        /**< Seed of the model's random generator (default 0). */
    rnn_backend backend;  /**< Kernel implementation (default RNN_BACKEND_ONEDNN). */
} rnn_model_options;

/** @brief Fills @p options with the defaults. */
RNN_API void rnn_model_options_init(rnn_model_options *options);

/**
 * @brief The precision a model computes in (Keras' mixed precision policies).
 *
 * Both are stable API; see rnn_model_set_precision().
 */
typedef enum rnn_precision {
    RNN_PRECISION_F32 = 0,        /**< Everything in f32 (default; Keras' "float32"). */
    /** Keras' "mixed_bfloat16": the recurrent kernels and Dense products take
     *  bf16 operands and accumulate in f32; parameters, gradients, the loss and
     *  the optimizer stay f32. Needs AVX512-BF16 or AMX (oneDNN backend). */
    RNN_PRECISION_MIXED_BF16 = 1
} rnn_precision;

/**
 * @brief Creates an empty model.
 * @param options NULL for the defaults.
 * @param[out] out the model; release with rnn_model_destroy().
 * @retval RNN_ERR_INVALID_ARG bad struct_size or backend.
 * @retval RNN_ERR_NOMEM, RNN_ERR_BACKEND
 */
RNN_API rnn_status rnn_model_create(const rnn_model_options *options, rnn_model **out);

/** @brief Releases a model, its layers and everything they own. NULL is allowed. */
RNN_API void rnn_model_destroy(rnn_model *model);

/**
 * @brief Chooses the precision the model computes in from now on (Keras'
 * `mixed_precision.set_global_policy("mixed_bfloat16")`, per model).
 *
 * With ::RNN_PRECISION_MIXED_BF16, the recurrent kernels (training forward,
 * backward, inference and step-wise decoding) and the products of Dense
 * layers (TimeDistributed included: forward, and the weight and input
 * gradients) round their operands (inputs, states, weights) to bfloat16 and
 * accumulate in f32. Everything the model keeps stays f32: parameters (the
 * "master weights"; the bf16 copies are made again only when they change),
 * gradients (they reach the optimizer in f32), layer outputs, states, biases,
 * LSTM's cell state, the loss and the optimizer. Embedding, Conv1D,
 * Attention, LayerNormalization, pooling and activations compute in f32.
 * Expect outputs within about 1% of f32's (bf16 keeps 8 significant bits)
 * and, on the examples, accuracy within a few tenths of a point.
 *
 * A runtime setting like the thread count: it is not saved in model files
 * (a loaded model computes in f32 until this is called), and it may change
 * between any two calls (f32 results after a switch back equal those before).
 * A training forward before the switch needs a new one before backward.
 *
 * On the oneDNN backend it needs a CPU whose oneDNN instruction set has
 * native bf16 (AVX512-BF16 or AMX; ONEDNN_MAX_CPU_ISA can lower it). The
 * reference backend emulates the rounding in plain C, as an oracle.
 * @retval RNN_ERR_INVALID_ARG @p precision is not an ::rnn_precision value.
 * @retval RNN_ERR_UNSUPPORTED ::RNN_PRECISION_MIXED_BF16 on a CPU without
 *         native bf16 (the message names the instruction set found); the
 *         precision is unchanged.
 */
RNN_API rnn_status rnn_model_set_precision(rnn_model *model, rnn_precision precision);

/** @brief The precision set by rnn_model_set_precision() (::RNN_PRECISION_F32
 *  for a new or loaded model). */
RNN_API rnn_status rnn_model_get_precision(const rnn_model *model, rnn_precision *out);

/**
 * @brief Declares a model input (Keras `Input(shape=...)`), without the
 * batch axis.
 *
 * For recurrent layers the input is a sequence: @p rank 2, @p shape
 * {timesteps, features} with timesteps 0 for "any length" (Keras None).
 * The first layer added must be an input; each further call adds another
 * input (inputs are numbered in the order they are added), which the next
 * layer added reads.
 * @retval RNN_ERR_STATE the model already has 16 inputs.
 * @retval RNN_ERR_DTYPE @p dtype is neither RNN_F32 nor RNN_I32.
 * @retval RNN_ERR_SHAPE, RNN_ERR_INVALID_ARG, RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_model_add_input(rnn_model *model, rnn_dtype dtype, int rank,
                                       const int64_t *shape, rnn_layer **out);

/** @brief Number of model inputs (input layers). */
RNN_API rnn_status rnn_model_num_inputs(const rnn_model *model, int *out);

/**
 * @brief Makes the next layer added read output @p output of @p layer instead
 * of the last layer's first output (Keras' functional call `Layer(...)(x)`).
 * Applies to one layer; later ones again follow the last layer.
 * @retval RNN_ERR_INVALID_ARG @p layer is NULL or of another model.
 * @retval RNN_ERR_RANGE @p output is not an output of @p layer.
 */
RNN_API rnn_status rnn_model_connect_next(rnn_model *model, rnn_layer *layer, int output);

/**
 * @brief Appends another application of @p source's layer (same kind, options
 * and the very same parameters) on the current producer (the last layer, or
 * the one chosen with rnn_model_connect_next()): Keras' shared layers.
 * Gradients of every application add up in the source's gradients; the
 * parameters are counted, optimized and saved once, with the source.
 * @retval RNN_ERR_INVALID_ARG @p source is an input or of another model.
 * @retval RNN_ERR_STATE, RNN_ERR_SHAPE the producer does not fit the layer.
 */
RNN_API rnn_status rnn_model_add_shared(rnn_model *model, rnn_layer *source, rnn_layer **out);

/**
 * @brief Chooses the model's outputs: output k is output @p outputs[k] (NULL:
 * all 0) of @p layers[k]. count 0 returns to the default (the last layer's
 * outputs). The loss of rnn_model_compile() applies to output 0; the others
 * are read with rnn_model_output() and may be given gradients in
 * rnn_model_backward().
 * @retval RNN_ERR_INVALID_ARG, RNN_ERR_RANGE a bad layer or output index.
 */
RNN_API rnn_status rnn_model_set_outputs(rnn_model *model, int count, rnn_layer *const *layers,
                                         const int *outputs);

/** @brief Number of layers (each input counts as one). */
RNN_API rnn_status rnn_model_num_layers(const rnn_model *model, int *out);

/** @brief The layer at @p index (0 is the input), borrowed from the model. The
 * handle is mutable on purpose (setting weights, trainable, states), so the
 * model is too; read-only queries on a layer take a `const rnn_layer *`. */
RNN_API rnn_status rnn_model_layer(rnn_model *model, int index, rnn_layer **out);

/** @brief Total number of parameters, counted as Keras counts them. */
RNN_API rnn_status rnn_model_count_params(const rnn_model *model, int64_t *out);

/**
 * @brief Runs the model on a batch.
 *
 * @param inputs @p num_inputs tensors, one per model input in the order the
 *        inputs were added, all with the same batch size N: (N, T, features)
 *        f32 for a sequence input, (N, T) i32 for token ids, (N, features) f32
 *        for vectors.
 * @param lengths NULL, or @p num_inputs entries each NULL (every sample has
 *        length T) or an i32 tensor (N) with values in [1, T]. Time steps at
 *        or after a sample's length are padding and never affect anything.
 * @param training 1 in training (dropout active, keeps what backward needs),
 *        0 for inference.
 *
 * The model keeps pointers to @p inputs and @p lengths (it does not copy
 * them): they must stay valid and unchanged until the next forward, and
 * until rnn_model_backward() after a training forward.
 * Outputs are then readable with rnn_model_output() until the next forward.
 * @retval RNN_ERR_STATE the model has no layers after its input.
 * @retval RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE bad inputs or lengths
 *         (the message names which).
 * @retval RNN_ERR_NOMEM, RNN_ERR_BACKEND
 */
RNN_API rnn_status rnn_model_forward(rnn_model *model, int num_inputs,
                                     const rnn_tensor *const *inputs,
                                     const rnn_tensor *const *lengths, int training);

/** @brief Number of model outputs (available once layers are added). */
RNN_API rnn_status rnn_model_num_outputs(const rnn_model *model, int *out);

/**
 * @brief Output @p index of the last forward, borrowed (valid until the next
 * forward or the model's destruction), read-only: read its values with
 * rnn_tensor_data_const() or rnn_tensor_get_f32().
 * @retval RNN_ERR_RANGE @p index is not an output index.
 * @retval RNN_ERR_STATE no forward has run yet.
 */
RNN_API rnn_status rnn_model_output(const rnn_model *model, int index, const rnn_tensor **out);

/**
 * @brief Which layer output is model output @p index (those chosen by
 * rnn_model_set_outputs(), else the last layer's output 0). Needs no forward.
 * @param[out] layer borrowed from the model; NULL on failure.
 * @param[out] output that layer's output index; 0 on failure.
 * @retval RNN_ERR_STATE the model has no layers after its input.
 * @retval RNN_ERR_RANGE @p index is not in [0, rnn_model_num_outputs()).
 */
RNN_API rnn_status rnn_model_output_source(const rnn_model *model, int index,
                                           const rnn_layer **layer, int *output);

/**
 * @brief Back-propagates from the outputs of the last training forward.
 *
 * @param grads @p num_outputs tensors, each NULL (zero gradient) or shaped as
 *        the corresponding output: the gradient of the loss with respect to it.
 *        NULL means a zero gradient for every output.
 *
 * Parameter gradients ACCUMULATE: call rnn_model_zero_grad() between steps.
 * The gradient with respect to the input is then readable with
 * rnn_model_input_grad().
 * @retval RNN_ERR_STATE no training forward since the last change.
 */
RNN_API rnn_status rnn_model_backward(rnn_model *model, int num_outputs,
                                      const rnn_tensor *const *grads);

/**
 * @brief Gradient with respect to model input @p index after a backward
 * (borrowed, read-only; valid until the next forward).
 * @retval RNN_ERR_DTYPE the input holds token ids (no gradient).
 * @retval RNN_ERR_STATE no backward has run yet.
 */
RNN_API rnn_status rnn_model_input_grad(const rnn_model *model, int index,
                                        const rnn_tensor **out);

/** @brief Sets every parameter gradient of the model to zero. */
RNN_API rnn_status rnn_model_zero_grad(rnn_model *model);

/** @brief Resets the carried states of every stateful layer to zero. */
RNN_API rnn_status rnn_model_reset_states(rnn_model *model);

/* ------------------------------------------------------------ training */

/** @brief Loss functions (Keras names). The loss applies to model output 0. */
typedef enum rnn_loss_type {
    /** Targets are RNN_I32 class ids shaped as the output without its last
     *  axis: (N) or (N, T) for per-step outputs. */
    RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY = 1,
    /** Targets are RNN_F32 distributions shaped as the output. */
    RNN_LOSS_CATEGORICAL_CROSSENTROPY = 2,
    /** Targets are RNN_F32 in [0, 1] shaped as the output (mean over the last axis). */
    RNN_LOSS_BINARY_CROSSENTROPY = 3,
    /** Targets are RNN_F32 shaped as the output (mean over the last axis). */
    RNN_LOSS_MEAN_SQUARED_ERROR = 4
} rnn_loss_type;

/** @brief How per-sample (or per-step) losses are averaged. */
typedef enum rnn_reduction {
    /** Keras' "sum_over_batch_size": masked steps contribute 0 but are counted
     *  in the denominator (N, or N*T for per-step outputs). */
    RNN_REDUCTION_MEAN = 0,
    /** Sum over unmasked samples or steps divided by their number. */
    RNN_REDUCTION_MASKED_MEAN = 1
} rnn_reduction;

/** @brief What rnn_model_compile() sets up. Fill with rnn_compile_options_init(). */
typedef struct rnn_compile_options {
    uint32_t struct_size;    /**< sizeof(rnn_compile_options), set by _init. */
    rnn_loss_type loss;      /**< Set by _init. */
    int from_logits;         /**< 0: output 0 holds probabilities (softmax/sigmoid);
                                  1: raw scores (the loss applies softmax/sigmoid). */
    rnn_reduction reduction; /**< RNN_REDUCTION_MEAN (Keras). */
} rnn_compile_options;

/** @brief Fills @p options with Keras' defaults for @p loss. */
RNN_API void rnn_compile_options_init(rnn_compile_options *options, rnn_loss_type loss);

/* The optimizer type is declared in rnn/optim.h. */
struct rnn_optimizer_options;

/**
 * @brief Chooses the loss and creates the model's own optimizer (Keras
 * `model.compile(loss=..., optimizer=...)`). Call once the model is complete;
 * compiling again replaces both (and resets the optimizer's state).
 * @param optimizer options from rnn_optimizer_options_init() (rnn/optim.h).
 * @retval RNN_ERR_INVALID_ARG bad loss or optimizer options.
 * @retval RNN_ERR_STATE the model has no layers after its input.
 */
RNN_API rnn_status rnn_model_compile(rnn_model *model, const rnn_compile_options *options,
                                     const struct rnn_optimizer_options *optimizer);

/**
 * @brief One training step on a batch: forward (training), loss, backward,
 * optimizer update (Keras `train_on_batch`).
 *
 * Per-step outputs are masked with the lengths that reach the output (given
 * lengths or an Embedding's mask_zero): padding never counts.
 * @param targets see ::rnn_loss_type.
 * @param[out] loss the batch loss (may be NULL).
 * @param[out] accuracy the batch accuracy as Keras' "accuracy" metric for this
 *        loss (masked per token for sequences); NaN for mean squared error.
 *        May be NULL.
 * @retval RNN_ERR_STATE not compiled.
 * @retval RNN_ERR_SHAPE, RNN_ERR_DTYPE targets do not fit output 0.
 * @retval RNN_ERR_RANGE a class id outside [0, classes).
 * @retval RNN_ERR_NUMERIC the loss, or a trainable parameter's gradient, is NaN or
 *         infinite: nothing was updated, the weights are those before this batch.
 */
RNN_API rnn_status rnn_model_train_step(rnn_model *model, int num_inputs,
                                        const rnn_tensor *const *inputs,
                                        const rnn_tensor *const *lengths,
                                        const rnn_tensor *targets, float *loss, float *accuracy);

/** @brief Loss and accuracy on a batch in inference mode, without updating
 * anything (Keras `test_on_batch`). Errors as rnn_model_train_step(). */
RNN_API rnn_status rnn_model_test_step(rnn_model *model, int num_inputs,
                                       const rnn_tensor *const *inputs,
                                       const rnn_tensor *const *lengths,
                                       const rnn_tensor *targets, float *loss, float *accuracy);

#ifdef __cplusplus
}
#endif

#endif /* RNN_MODEL_H */
