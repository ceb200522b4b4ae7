/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/layers.h
 * @brief Layers: recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional),
 * Dense (also per time step) and Embedding; options, parameters, weights
 * import/export and states.
 *
 * Option names and defaults are Keras'. A Keras line such as
 *
 *     Bidirectional(LSTM(64, return_sequences=True), merge_mode="sum")
 *
 * becomes
 *
 *     rnn_recurrent_options o;
 *     rnn_recurrent_options_init(&o, RNN_LSTM);
 *     o.units = 64; o.return_sequences = 1;
 *     o.bidirectional = 1; o.merge_mode = RNN_MERGE_SUM;
 *     rnn_model_add_recurrent(model, &o, &layer);
 *
 * Parameters are kept in Keras' layout (the "canonical" layout):
 *  - "kernel" (input_dim, G*units), "recurrent_kernel" (units, G*units),
 *    "bias": LSTM (4*units), SimpleRNN (units), GRU with reset_after (2, 3*units)
 *    = [input bias; recurrent bias], GRU without reset_after (3*units);
 *  - gate blocks along the last axis in Keras order: LSTM i, f, c, o;
 *    GRU z, r, h; G = 1 (SimpleRNN), 4 (LSTM), 3 (GRU);
 *  - a bidirectional layer has "forward/kernel", ..., "backward/kernel", ...
 */
#ifndef RNN_LAYERS_H
#define RNN_LAYERS_H

#include "rnn/common.h"
#include "rnn/model.h"
#include "rnn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Recurrent cell types. */
typedef enum rnn_cell_type {
    RNN_SIMPLE_RNN = 1, /**< Keras SimpleRNN (Elman). */
    RNN_LSTM = 2,       /**< Keras LSTM. */
    RNN_GRU = 3         /**< Keras GRU (reset_after selects the variant). */
} rnn_cell_type;

/**
 * @brief Activation functions (Keras names in model files and configurations:
 * "linear", "tanh", "relu", "sigmoid", "softmax", "log_softmax"). Softmax and
 * log-softmax act over the last axis (each step's features for a sequence).
 */
typedef enum rnn_activation {
    RNN_ACT_LINEAR = 0,     /**< The identity. */
    RNN_ACT_TANH = 1,       /**< tanh(x). */
    RNN_ACT_RELU = 2,       /**< max(x, 0). */
    RNN_ACT_SIGMOID = 3,    /**< 1 / (1 + exp(-x)). */
    RNN_ACT_SOFTMAX = 4,    /**< exp(x_i) / sum_j exp(x_j). */
    RNN_ACT_LOG_SOFTMAX = 5 /**< x_i - log(sum_j exp(x_j)), computed stably (x - max
                                 first): log-probabilities (Keras' `log_softmax`,
                                 PyTorch's `LogSoftmax`). A cross-entropy loss on
                                 them takes `from_logits = 1` (the log-softmax of
                                 log-probabilities is themselves). */
} rnn_activation;

/** @brief How a bidirectional layer joins its two directions (Keras merge_mode). */
typedef enum rnn_merge_mode {
    RNN_MERGE_CONCAT = 0, /**< [forward, backward] along the feature axis (default). */
    RNN_MERGE_SUM = 1,    /**< forward + backward. */
    RNN_MERGE_MUL = 2,    /**< forward * backward. */
    RNN_MERGE_AVE = 3     /**< (forward + backward) / 2. */
} rnn_merge_mode;

/** @brief Weight initializers (Keras names). */
typedef enum rnn_initializer {
    RNN_INIT_GLOROT_UNIFORM = 1, /**< U(-l, l), l = sqrt(6 / (fan_in + fan_out)). */
    RNN_INIT_ORTHOGONAL = 2,     /**< Orthogonal matrix (gain 1), Keras' algorithm. */
    RNN_INIT_ZEROS = 3,          /**< All zeros. */
    RNN_INIT_ONES = 4            /**< All ones. */
} rnn_initializer;

/**
 * @brief Options of a recurrent layer. Fill with rnn_recurrent_options_init(),
 * which sets the Keras defaults for the cell; the struct only grows at the end.
 */
typedef struct rnn_recurrent_options {
    uint32_t struct_size;         /**< sizeof(rnn_recurrent_options), set by _init. */
    rnn_cell_type cell;           /**< Set by _init. */
    int64_t units;                /**< Required: number of units (> 0). */
    rnn_activation activation;    /**< SimpleRNN: RNN_ACT_TANH (default) or RNN_ACT_RELU.
                                       LSTM/GRU: only RNN_ACT_TANH. */
    int use_bias;                 /**< 1 */
    int return_sequences;         /**< 0: output (N, units) at each sample's last step;
                                       1: output (N, T, units). */
    int return_state;             /**< 0; 1 adds the final states as extra outputs:
                                       h (and c for LSTM), per direction, forward first. */
    int go_backwards;             /**< 0; 1 processes each sequence in reverse (and, with
                                       return_sequences, returns outputs in processing
                                       order, as Keras). */
    int stateful;                 /**< 0; 1 carries final states to the next batch as its
                                       initial states (same batch size required). */
    int reset_after;              /**< GRU only: 1 (default, Keras 2 / PyTorch / cuDNN
                                       cell); 0 the original Cho et al. cell. */
    int unit_forget_bias;         /**< LSTM only: 1 (forget-gate bias starts at 1). */
    float dropout;                /**< 0; fraction of input features dropped in training,
                                       one mask per sequence (Keras). */
    float recurrent_dropout;      /**< 0; fraction of recurrent state dropped in training,
                                       one mask per sequence (Keras). Runs on the
                                       reference kernels when > 0 (see docs). */
    rnn_initializer kernel_initializer;    /**< RNN_INIT_GLOROT_UNIFORM */
    rnn_initializer recurrent_initializer; /**< RNN_INIT_ORTHOGONAL */
    rnn_initializer bias_initializer;      /**< RNN_INIT_ZEROS */
    int bidirectional;            /**< 0; 1 wraps the layer in Keras' Bidirectional. */
    rnn_merge_mode merge_mode;    /**< RNN_MERGE_CONCAT */
} rnn_recurrent_options;

/**
 * @brief Fills @p options with Keras' defaults for @p cell (units is left 0
 * and must be set). Unknown cells leave cell invalid, which add rejects.
 */
RNN_API void rnn_recurrent_options_init(rnn_recurrent_options *options, rnn_cell_type cell);

/**
 * @brief Appends a recurrent layer to the model. Its input is the previous
 * layer's first output, which must be a sequence (N, T, features).
 * Parameters are created and initialised here from the model's generator.
 * @param[out] out the layer, borrowed from the model (may be NULL).
 * @retval RNN_ERR_INVALID_ARG a bad option (message names it and its value).
 * @retval RNN_ERR_STATE no input declared yet, or the previous layer's output
 *         is not a sequence.
 * @retval RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_model_add_recurrent(rnn_model *model,
                                           const rnn_recurrent_options *options,
                                           rnn_layer **out);

/** @brief The layer's name ("lstm", "gru_1", "bidirectional", ...), unique in its model. */
RNN_API rnn_status rnn_layer_name(const rnn_layer *layer, const char **out);

/**
 * @brief The layer's type as Keras names it and rnn_model_summary() prints it: "InputLayer",
 * "LSTM", "GRU", "SimpleRNN", "Bidirectional", "Dense", "Embedding", "Dropout", "Attention",
 * "Conv1D", ...
 * @param[out] out a static string (never freed); NULL on error.
 */
RNN_API rnn_status rnn_layer_type(const rnn_layer *layer, const char **out);

/**
 * @brief Appends a layer of any kind by its name and configuration: the
 * generic form of the rnn_model_add_* constructors, for bindings and model
 * importers. @p kind is a model-file kind ("dense", "recurrent",
 * "embedding", "layer_normalization", ... as rnn_layer_config() reports);
 * @p config is a JSON object of option names and values (NULL or "" for the
 * defaults), e.g. `{"units": 8, "activation": "softmax"}`: names and value
 * names as in rnn_layer_config(), unknown names refused. The layer reads
 * outputs @p outputs (NULL: 0 each) of @p layers[0..count), or with
 * @p count 0 the next producer (see rnn_model_connect_next()).
 * @retval RNN_ERR_INVALID_ARG unknown kind, bad JSON, a bad option value;
 * the other statuses as the kind's constructor.
 */
RNN_API rnn_status rnn_model_add_layer(rnn_model *model, const char *kind, const char *config,
                                       int count, rnn_layer *const *layers, const int *outputs,
                                       rnn_layer **out);

/**
 * @brief The layer's configuration as one line of JSON, what model files
 * store and what Keras' `get_config()` returns:
 * `{"kind": "dense", "class_name": "Dense", "name": "dense", "trainable": true,
 * "config": {"units": 8, "activation": "softmax", ...}}` (the option names and
 * value names of the layer's options struct, e.g. ::rnn_dense_options).
 * Like snprintf: writes at most @p size bytes (NUL-terminated when
 * @p size > 0) and sets @p needed (may be NULL) to the bytes the whole text
 * needs, NUL included; call with @p size 0 to learn it.
 */
RNN_API rnn_status rnn_layer_config(const rnn_layer *layer, char *buf, size_t size,
                                    size_t *needed);

/** @brief Number of parameters of the layer, counted as Keras counts them. */
RNN_API rnn_status rnn_layer_count_params(const rnn_layer *layer, int64_t *out);

/** @brief Number of parameter arrays (tensors) of the layer. */
RNN_API rnn_status rnn_layer_num_params(const rnn_layer *layer, int *out);

/**
 * @brief Parameter array @p index: its name, value and gradient, borrowed.
 *
 * The tensors are mutable on purpose: this is the zero-copy access to the
 * weights. Reading needs no cast (rnn_tensor_data(), rnn_tensor_get_f32());
 * writing into @p value is allowed but must be followed by
 * rnn_layer_params_changed(); rnn_layer_set_param() copies and does both.
 * Any out pointer may be NULL.
 */
RNN_API rnn_status rnn_layer_param(rnn_layer *layer, int index, const char **name,
                                   rnn_tensor **value, rnn_tensor **grad);

/** @brief Index of the parameter called @p name, or RNN_ERR_RANGE; @p *out is
 * -1 when the call fails (0 is a valid index). */
RNN_API rnn_status rnn_layer_find_param(const rnn_layer *layer, const char *name, int *out);

/**
 * @brief Copies @p value (same shape, f32) into parameter @p index.
 * @retval RNN_ERR_SHAPE, RNN_ERR_DTYPE, RNN_ERR_RANGE
 */
RNN_API rnn_status rnn_layer_set_param(rnn_layer *layer, int index, const rnn_tensor *value);

/**
 * @brief Tells the layer its parameter values were written directly (through
 * rnn_layer_param()'s tensors), so that the next forward uses them.
 *
 * Stable on purpose: backends keep weights in their own layouts (oneDNN's
 * reordered recurrent weights, shared layers' copies) and refresh them only
 * when a parameter's version changes; this call bumps it. Without it a
 * direct write may be ignored by the next forward. rnn_layer_set_param(),
 * rnn_layer_set_weights() and the optimizers call it themselves.
 */
RNN_API rnn_status rnn_layer_params_changed(rnn_layer *layer);

/** @brief Layout of an exported or imported list of weights. */
typedef enum rnn_weights_format {
    /** Keras `layer.get_weights()` order: kernel, recurrent_kernel, bias (if
     *  use_bias); for Bidirectional the forward layer's list then the
     *  backward layer's. Shapes as in Keras (GRU reset_after bias (2, 3u)). */
    RNN_WEIGHTS_KERAS = 1,
    /** PyTorch `nn.LSTM/GRU/RNN` state_dict order for ONE layer index:
     *  weight_ih (G*u, in), weight_hh (G*u, u), bias_ih (G*u), bias_hh (G*u),
     *  then the same for the reverse direction; PyTorch gate orders (LSTM
     *  i,f,g,o; GRU r,z,n). Only GRU with reset_after=1 has a PyTorch
     *  equivalent. On export without bias the biases are omitted; on export
     *  the whole bias goes to bias_ih for LSTM/SimpleRNN and bias_hh is 0. */
    RNN_WEIGHTS_PYTORCH = 2
} rnn_weights_format;

/** @brief Number of arrays the layer exports in @p format. */
RNN_API rnn_status rnn_layer_weights_count(const rnn_layer *layer, rnn_weights_format format,
                                           int *out);

/**
 * @brief Shape of exported array @p index in @p format (dims needs room for
 * RNN_MAX_RANK entries) and, if @p name is not NULL, its conventional name
 * ("kernel", "weight_ih_l0_reverse", ...; PyTorch names use layer index 0).
 */
RNN_API rnn_status rnn_layer_weights_shape(const rnn_layer *layer, rnn_weights_format format,
                                           int index, int64_t *dims, int *rank,
                                           const char **name);

/**
 * @brief Copies the layer's weights out, converted to @p format, into
 * @p count caller tensors (f32, each of the shape rnn_layer_weights_shape()
 * gives).
 * @retval RNN_ERR_INVALID_ARG wrong count or format.
 * @retval RNN_ERR_SHAPE, RNN_ERR_DTYPE a tensor does not fit (message says
 *         which index and what shape is expected).
 * @retval RNN_ERR_UNSUPPORTED the format cannot express this layer
 *         (PyTorch and GRU reset_after=0).
 */
RNN_API rnn_status rnn_layer_get_weights(const rnn_layer *layer, rnn_weights_format format,
                                         int count, rnn_tensor *const *arrays);

/**
 * @brief Replaces the layer's weights with @p count arrays in @p format.
 * Nothing changes unless every array is valid. Errors as rnn_layer_get_weights().
 */
RNN_API rnn_status rnn_layer_set_weights(rnn_layer *layer, rnn_weights_format format,
                                         int count, const rnn_tensor *const *arrays);

/** @brief Number of outputs of the layer (1, or more with return_state). */
RNN_API rnn_status rnn_layer_num_outputs(const rnn_layer *layer, int *out);

/**
 * @brief Number of producers the layer reads: 0 for a model input, 1 for most
 * layers, more for Concatenate (its operands in order), Attention (query,
 * value) and a recurrent layer whose initial states are connected to other
 * layers (rnn_layer_connect_initial_state(): the states follow the main
 * input). With rnn_layer_input() and rnn_model_output_source() this walks
 * the model's graph, for exporters and visualisers.
 */
RNN_API rnn_status rnn_layer_num_inputs(const rnn_layer *layer, int *out);

/**
 * @brief Producer @p index of @p layer: the layer and which of its outputs.
 * @param[out] producer borrowed from the model; NULL on failure.
 * @param[out] output the producer's output index; 0 on failure.
 * @retval RNN_ERR_RANGE @p index is not in [0, rnn_layer_num_inputs()).
 */
RNN_API rnn_status rnn_layer_input(const rnn_layer *layer, int index,
                                   const rnn_layer **producer, int *output);

/**
 * @brief Output @p index of the layer from the last forward, borrowed and
 * read-only (rnn_tensor_data_const()), valid until the next forward.
 * For a recurrent layer: 0 is the sequence (or last output); with
 * return_state, then h (and c) of the forward direction, then of the
 * backward direction. States are taken at each sample's last real step.
 * @retval RNN_ERR_RANGE @p index is not an output of the layer.
 * @retval RNN_ERR_STATE no forward has run yet.
 */
RNN_API rnn_status rnn_layer_output(const rnn_layer *layer, int index, const rnn_tensor **out);

/** @brief Number of state tensors of a recurrent layer: (1 or 2) x directions. */
RNN_API rnn_status rnn_layer_num_states(const rnn_layer *layer, int *out);

/**
 * @brief Sets the initial states used by the following forwards (Keras
 * `initial_state=`): @p count tensors (N, units) f32, in the order of
 * rnn_layer_output() states (h, c per direction). They are copied.
 * @p count 0 clears them (zeros are used). The batch size must match at
 * forward time.
 */
RNN_API rnn_status rnn_layer_set_initial_state(rnn_layer *layer, int count,
                                               const rnn_tensor *const *states);

/**
 * @brief Starts a recurrent layer from other layers' outputs at every forward
 * (Keras `decoder(x, initial_state=encoder_states)`): state k is output
 * @p outputs[k] (NULL: all 0) of @p sources[k], in the order of
 * rnn_layer_set_initial_state(); each must be f32 vectors (N, units) added
 * before @p layer. Gradients flow back into the sources. Typical: the
 * encoder's return_state outputs 1.. feed the decoder.
 * @retval RNN_ERR_INVALID_ARG wrong count or sources; RNN_ERR_SHAPE a source
 *         of the wrong shape; RNN_ERR_STATE a stateful layer.
 */
RNN_API rnn_status rnn_layer_connect_initial_state(rnn_layer *layer, int count,
                                                   rnn_layer *const *sources,
                                                   const int *outputs);

/** @brief Gradient of the loss with respect to the caller-given initial state
 * @p index (rnn_layer_set_initial_state()) after a backward, borrowed and
 * read-only.
 * @retval RNN_ERR_RANGE @p index is not one of the initial states set.
 * @retval RNN_ERR_STATE no backward since the initial states were set. */
RNN_API rnn_status rnn_layer_initial_state_grad(const rnn_layer *layer, int index,
                                                const rnn_tensor **out);

/** @brief Zeroes the carried states of a stateful layer (Keras reset_states()). */
RNN_API rnn_status rnn_layer_reset_states(rnn_layer *layer);

/* ------------------------------------------------------------ Dense, Embedding */

/**
 * @brief Options of a Dense layer (Keras `Dense`). Fill with
 * rnn_dense_options_init(). Applied to a sequence (N, T, F) it acts on every
 * step with the same weights, which is Keras' `TimeDistributed(Dense(...))`
 * (and Keras' Dense on 3-D input): same parameters, same results.
 */
typedef struct rnn_dense_options {
    uint32_t struct_size;               /**< sizeof(rnn_dense_options), set by _init. */
    int64_t units;                      /**< Required: output features (> 0). */
    rnn_activation activation;          /**< RNN_ACT_LINEAR (default), TANH, RELU, SIGMOID,
                                             SOFTMAX, LOG_SOFTMAX (over the last axis). */
    int use_bias;                       /**< 1 */
    rnn_initializer kernel_initializer; /**< RNN_INIT_GLOROT_UNIFORM */
    rnn_initializer bias_initializer;   /**< RNN_INIT_ZEROS */
} rnn_dense_options;

/** @brief Fills @p options with Keras' Dense defaults (units left 0). */
RNN_API void rnn_dense_options_init(rnn_dense_options *options);

/**
 * @brief Appends a Dense layer on the previous layer's first output, which
 * must be f32 (N, F) or (N, T, F). Parameters "kernel" (F, units) and "bias"
 * (units). Runs as a oneDNN matmul primitive. Sequence lengths pass through.
 * @retval RNN_ERR_INVALID_ARG a bad option; RNN_ERR_STATE no suitable input.
 */
RNN_API rnn_status rnn_model_add_dense(rnn_model *model, const rnn_dense_options *options,
                                       rnn_layer **out);

/** @brief Options of an Embedding layer (Keras `Embedding`). */
typedef struct rnn_embedding_options {
    uint32_t struct_size; /**< sizeof(rnn_embedding_options), set by _init. */
    int64_t input_dim;    /**< Required: vocabulary size; ids are in [0, input_dim). */
    int64_t output_dim;   /**< Required: vector size. */
    int mask_zero;        /**< 0; 1: id 0 is padding. Each sample's length becomes the
                               position after its last non-zero id, and the following
                               recurrent layers and the loss see those lengths (Keras'
                               mask, for right-padded sequences). */
    int trainable;        /**< 1; 0 freezes the embeddings (e.g. pretrained vectors). */
} rnn_embedding_options;

/** @brief Fills @p options with Keras' defaults (dimensions left 0). */
RNN_API void rnn_embedding_options_init(rnn_embedding_options *options);

/**
 * @brief Appends an Embedding layer on token ids (an RNN_I32 {timesteps}
 * input). Parameter "embeddings" (input_dim, output_dim), initialised
 * uniformly in [-0.05, 0.05] as Keras does; load pretrained vectors with
 * rnn_layer_set_param(). At forward time an id outside [0, input_dim) gives
 * RNN_ERR_RANGE naming the sample, step and id; with mask_zero, a sample made
 * only of padding gives RNN_ERR_RANGE too.
 */
RNN_API rnn_status rnn_model_add_embedding(rnn_model *model,
                                           const rnn_embedding_options *options,
                                           rnn_layer **out);

/* ------------------------------------------------------------ small layers */

/**
 * @brief Appends Keras' `Dropout(rate)`: in training, each element is zeroed
 * with probability @p rate and the others scaled by 1/(1-rate) (masks from the
 * model's seeded generator); identity in inference. Keeps shape and lengths.
 * @retval RNN_ERR_INVALID_ARG @p rate outside [0, 1).
 */
RNN_API rnn_status rnn_model_add_dropout(rnn_model *model, float rate, rnn_layer **out);

/** @brief Appends Keras' `Activation(...)` (softmax and log-softmax over the last axis).
 * @retval RNN_ERR_INVALID_ARG @p activation is not a rnn_activation. */
RNN_API rnn_status rnn_model_add_activation(rnn_model *model, rnn_activation activation,
                                            rnn_layer **out);

/** @brief Pooling over the time axis. */
typedef enum rnn_pooling {
    RNN_POOL_AVERAGE = 1, /**< Keras GlobalAveragePooling1D. */
    RNN_POOL_MAX = 2      /**< Keras GlobalMaxPooling1D. */
} rnn_pooling;

/**
 * @brief Appends a global pooling over time: (N, T, F) -> (N, F). Only each
 * sample's real steps count (its length from the input or an Embedding's
 * mask_zero), so padding never reaches the result.
 * @retval RNN_ERR_STATE the previous output is not an f32 sequence.
 */
RNN_API rnn_status rnn_model_add_global_pooling(rnn_model *model, rnn_pooling pooling,
                                                rnn_layer **out);

/**
 * @brief Appends Keras' `SpatialDropout1D(rate)`: in training, whole feature
 * channels are dropped: one keep/drop draw per (sample, feature), applied at
 * every step (scaled by 1/(1-rate)); identity in inference. Needs a sequence.
 * @retval RNN_ERR_INVALID_ARG @p rate outside [0, 1).
 * @retval RNN_ERR_STATE the previous output is not an f32 sequence.
 */
RNN_API rnn_status rnn_model_add_spatial_dropout1d(rnn_model *model, float rate,
                                                   rnn_layer **out);

/**
 * @brief Appends Keras' `Flatten()`: (N, T, F) -> (N, T*F). The sequence must
 * have a fixed number of steps (declared by the input, or made by a layer
 * such as Conv1D on a fixed-length input). Like Keras, lengths (masks) do
 * not pass: padded steps are part of the vector.
 * @retval RNN_ERR_STATE the previous output has no fixed number of steps.
 */
RNN_API rnn_status rnn_model_add_flatten(rnn_model *model, rnn_layer **out);

/**
 * @brief Appends Keras' `RepeatVector(n)`: (N, F) -> (N, n, F), the vector
 * repeated at each of @p n steps (the classic encoder-decoder bridge).
 * @retval RNN_ERR_INVALID_ARG @p n < 1; RNN_ERR_STATE the input is a sequence.
 */
RNN_API rnn_status rnn_model_add_repeat_vector(rnn_model *model, int64_t n, rnn_layer **out);

/** @brief Options of rnn_model_add_layer_normalization() (Keras' LayerNormalization). */
typedef struct rnn_layer_normalization_options {
    uint32_t struct_size; /**< sizeof(rnn_layer_normalization_options), set by _init. */
    float epsilon;        /**< 1e-3, added to the variance (> 0). */
    int center;           /**< 1: learn an offset "beta" (starts at zero). */
    int scale;            /**< 1: learn a factor "gamma" (starts at one). */
} rnn_layer_normalization_options;

/** @brief Fills @p options with Keras' defaults. */
RNN_API void rnn_layer_normalization_options_init(rnn_layer_normalization_options *options);

/**
 * @brief Appends Keras' `LayerNormalization()` over the last axis: each row
 * of the previous layer's output (f32 (N, F) or (N, T, F)) is normalised to
 * zero mean and unit variance (biased, over the F features, plus epsilon),
 * then scaled by "gamma" and shifted by "beta" (F each). Lengths pass through.
 * @retval RNN_ERR_INVALID_ARG bad options; RNN_ERR_STATE the input is token ids.
 */
RNN_API rnn_status rnn_model_add_layer_normalization(
    rnn_model *model, const rnn_layer_normalization_options *options, rnn_layer **out);

/** @brief Padding of Conv1D and MaxPooling1D (Keras' "valid" and "same"). */
typedef enum rnn_padding {
    RNN_PADDING_VALID = 0, /**< No padding: To = floor((T - span) / strides) + 1. */
    RNN_PADDING_SAME = 1   /**< Zero padding (left = total / 2, as TensorFlow): To = ceil(T / strides). */
} rnn_padding;

/** @brief Options of a Conv1D layer (Keras `Conv1D`). Fill with rnn_conv1d_options_init(). */
typedef struct rnn_conv1d_options {
    uint32_t struct_size;               /**< sizeof(rnn_conv1d_options), set by _init. */
    int64_t filters;                    /**< Required: output features (> 0). */
    int64_t kernel_size;                /**< Required: window length in steps (> 0). */
    int64_t strides;                    /**< 1. */
    rnn_padding padding;                /**< RNN_PADDING_VALID (Keras' default). */
    int64_t dilation_rate;              /**< 1. */
    rnn_activation activation;          /**< RNN_ACT_LINEAR. */
    int use_bias;                       /**< 1. */
    rnn_initializer kernel_initializer; /**< RNN_INIT_GLOROT_UNIFORM (fans as Keras:
                                             kernel_size * in, kernel_size * filters). */
    rnn_initializer bias_initializer;   /**< RNN_INIT_ZEROS. */
} rnn_conv1d_options;

/** @brief Fills @p options with Keras' Conv1D defaults (filters, kernel_size left 0). */
RNN_API void rnn_conv1d_options_init(rnn_conv1d_options *options);

/**
 * @brief Appends a 1-D convolution over time: (N, T, F) -> (N, To, filters).
 * Parameters "kernel" (kernel_size, F, filters), Keras' layout, and "bias"
 * (filters). Runs as one oneDNN matmul primitive over the unfolded windows.
 *
 * Sequence lengths pass through (Keras drops the mask; here each sample gets
 * exactly what it would get alone at its own length: steps past its end read
 * as zeros, like the padding), and become ceil(L / strides) ("same") or
 * max(1, floor((L - span) / strides) + 1) ("valid"), span = dilation *
 * (kernel_size - 1) + 1. A batch shorter than the span with "valid" padding
 * gives RNN_ERR_SHAPE at forward time.
 * @retval RNN_ERR_INVALID_ARG a bad option; RNN_ERR_STATE no f32 sequence input,
 *         or a fixed input length shorter than the span.
 */
RNN_API rnn_status rnn_model_add_conv1d(rnn_model *model, const rnn_conv1d_options *options,
                                        rnn_layer **out);

/**
 * @brief Appends Keras' `MaxPooling1D(pool_size, strides, padding)`:
 * (N, T, F) -> (N, To, F), the maximum over each window. @p strides 0 means
 * @p pool_size (Keras' None). Lengths pass through as for Conv1D; steps past
 * a sample's end never win a window.
 * @retval RNN_ERR_INVALID_ARG bad sizes or padding; RNN_ERR_STATE no f32 sequence.
 */
RNN_API rnn_status rnn_model_add_max_pooling1d(rnn_model *model, int64_t pool_size,
                                               int64_t strides, rnn_padding padding,
                                               rnn_layer **out);

/**
 * @brief Appends Keras' `Concatenate()` (last axis) of output @p outputs[k]
 * (NULL: all 0) of each @p layers[k], 2 to 9 operands: all sequences with the
 * same steps, or all vectors. A step of the result counts while it counts in
 * every operand (Keras ANDs the masks): its lengths are the operands' minimum.
 * @retval RNN_ERR_INVALID_ARG, RNN_ERR_RANGE bad operands.
 * @retval RNN_ERR_SHAPE sequences mixed with vectors, or different steps.
 */
RNN_API rnn_status rnn_model_add_concatenate(rnn_model *model, int count,
                                             rnn_layer *const *layers, const int *outputs,
                                             rnn_layer **out);

/** @brief How attention scores a query step against a value step. */
typedef enum rnn_attention_score {
    /** Luong's dot score q . v (Keras `Attention`); query and value sizes must agree. */
    RNN_ATTENTION_DOT = 0,
    /** Luong's general score q . (v W), W (Dv, Dq): parameter "kernel". */
    RNN_ATTENTION_GENERAL = 1,
    /** Bahdanau's additive score a . tanh(q Wq + v Wv + b): parameters "query_kernel"
     *  (Dq, U), "value_kernel" (Dv, U), "bias" (U) and "score_kernel" a (U). */
    RNN_ATTENTION_ADDITIVE = 2
} rnn_attention_score;

/** @brief Options of an attention layer. Fill with rnn_attention_options_init(). */
typedef struct rnn_attention_options {
    uint32_t struct_size;      /**< sizeof(rnn_attention_options), set by _init. */
    rnn_attention_score score; /**< RNN_ATTENTION_DOT. */
    int64_t units;             /**< ADDITIVE: hidden units U (0, the default: the value's
                                    feature size); ignored otherwise. */
    int scale;                 /**< DOT/GENERAL: 1 divides scores by sqrt(Dq) (0). */
    rnn_initializer kernel_initializer; /**< RNN_INIT_GLOROT_UNIFORM (the additive
                                    bias starts at zero). */
} rnn_attention_options;

/** @brief Fills @p options with the defaults listed at each field. */
RNN_API void rnn_attention_options_init(rnn_attention_options *options);

/**
 * @brief Appends an attention layer: for every step i of the query sequence
 * (output @p query_output of @p query, (N, Tq, Dq), e.g. a decoder's
 * outputs), weights over the steps j of the value sequence (output
 * @p value_output of @p value, (N, Tv, Dv), e.g. an encoder's outputs),
 * w_ij = softmax_j(score(q_i, v_j)), and the context c_i = sum_j w_ij v_j.
 *
 * Value steps past a sample's length (its padding, from the lengths given
 * to forward or an Embedding's mask_zero) get weight 0. Outputs: 0 the
 * contexts (N, Tq, Dv), 1 the weights (N, Tq, Tv) for inspection and
 * plotting (readable with rnn_layer_output() or as a model output; it
 * cannot feed other layers). Query steps past a sample's length are zero in
 * both. Luong's attentional decoder follows with Concatenate(context,
 * decoder output) and a Dense tanh layer.
 * @retval RNN_ERR_INVALID_ARG bad options, or a layer of another model.
 * @retval RNN_ERR_RANGE an output index the layer does not have.
 * @retval RNN_ERR_SHAPE an operand that is not a sequence of vectors, or
 *         (dot score) query and value sizes that differ.
 */
RNN_API rnn_status rnn_model_add_attention(rnn_model *model, const rnn_attention_options *options,
                                           rnn_layer *query, int query_output, rnn_layer *value,
                                           int value_output, rnn_layer **out);

/**
 * @brief Writes a table like Keras' `model.summary()` into @p buf: each layer
 * with its type, output shape (None for the batch and for any-length time)
 * and parameter count, then total, trainable and non-trainable parameters.
 * Like snprintf: writes at most @p size bytes (NUL-terminated when size > 0)
 * and sets @p needed (if not NULL) to the full length plus one.
 */
RNN_API rnn_status rnn_model_summary(const rnn_model *model, char *buf, size_t size,
                                     size_t *needed);

/**
 * @brief Freezes (0) or unfreezes (1) every parameter of a layer: optimizers
 * skip a frozen layer and backward stops accumulating its gradients.
 */
RNN_API rnn_status rnn_layer_set_trainable(rnn_layer *layer, int trainable);

/**
 * @brief Whether the layer is trainable: 1 by default; 0 for input layers, after
 * rnn_layer_set_trainable(layer, 0), and for an Embedding created with trainable = 0.
 * @param[out] out 0 or 1; 0 on error.
 */
RNN_API rnn_status rnn_layer_trainable(const rnn_layer *layer, int *out);

#ifdef __cplusplus
}
#endif

#endif /* RNN_LAYERS_H */
