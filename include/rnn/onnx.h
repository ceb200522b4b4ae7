/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/onnx.h
 * @brief ONNX import and export (librnn optional part: librnn-onnx).
 *
 * A separate library, `librnn-onnx.so.0` (pkg-config `librnn-onnx`), built
 * when the meson feature `-Donnx` finds protobuf-c and the `onnx.proto` of
 * Debian's libonnx-dev. It is built on librnn's public API only; the core
 * library's dependencies do not change. Link with `-lrnn-onnx -lrnn`.
 *
 * Import reads the ONNX operators that torch.onnx.export and tf2onnx emit
 * for recurrent models and turns them into librnn layers: LSTM, GRU
 * (linear_before_reset 0 and 1) and RNN (Tanh or Relu), forward, reverse
 * and bidirectional, layout 0 and 1, initial states zero or from other
 * layers, sequence_lens (see below); Gather on a weight (Embedding); Gemm,
 * MatMul + Add (Dense, also per step); Relu, Tanh, Sigmoid, Softmax,
 * LogSoftmax (over the features); ReduceMax, ReduceMean over time (global
 * pooling); Concat; and the Transpose, Squeeze, Unsqueeze, Reshape, Slice,
 * Gather, Shape, ConstantOfShape, Constant and Identity nodes around them.
 * Anything else is refused, never approximated: RNN_ERR_UNSUPPORTED, with
 * rnn_last_error() naming the node (name and op_type) and the attribute or
 * pattern. docs/guide/interchange.md lists what is read and how.
 *
 * The imported model is an ordinary librnn model: it is batch-major
 * (token ids (N, T) int32, sequences (N, T, F) f32, whatever the ONNX
 * graph's layout), it trains, saves and loads like any other. The ONNX
 * graph's input and output names, and its metadata_props, are kept as
 * model metadata (keys `onnx.input.K`, `onnx.output.K`, `onnx.meta.KEY`).
 *
 * sequence_lens: when the recurrent operators read their sequence_lens from
 * a graph input (int32 (batch)), that graph input is not a model input: its
 * values are the lengths of model input K, given to rnn_model_forward()'s
 * `lengths[K]` (or rnn_data.lengths), and the metadata key
 * `onnx.input.K.sequence_lens` holds its name. Every output then equals the
 * graph's at every position (Y is zero at a sample's padded steps, Y_h and
 * Y_c are its states after its last real step); without lengths every
 * sample has all T steps. Graphs where ONNX would compute over the padded
 * steps of such sequences (a recurrent operator without that
 * sequence_lens, ReduceMax/ReduceMean over time) are refused.
 */
#ifndef RNN_ONNX_H
#define RNN_ONNX_H

#include "rnn/common.h"
#include "rnn/model.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Builds a librnn model from an ONNX file.
 *
 * @param path the .onnx file (at most 1 GiB; external data is refused).
 * @param options NULL for the defaults, or the options of the new model
 *        (seed, backend, ...) as for rnn_model_create().
 * @param[out] out the new model (release with rnn_model_destroy()); NULL
 *        on failure.
 * @retval RNN_ERR_IO the file cannot be read.
 * @retval RNN_ERR_FORMAT not a valid ONNX protobuf, or an inconsistent graph
 *         (a missing value, a tensor whose data does not match its shape).
 * @retval RNN_ERR_UNSUPPORTED an operator, attribute or pattern librnn has no
 *         exact equivalent for; rnn_last_error() names the node.
 * @retval RNN_ERR_NOMEM out of memory, or the file needs more than the
 *         reader's memory bound (16 times the file size plus 64 MiB).
 */
RNN_API rnn_status rnn_model_load_onnx(const char *path, const rnn_model_options *options,
                                       rnn_model **out);

/**
 * @brief As rnn_model_load_onnx(), from @p size bytes in memory (not kept).
 */
RNN_API rnn_status rnn_model_load_onnx_memory(const void *data, size_t size,
                                              const rnn_model_options *options,
                                              rnn_model **out);

/**
 * @brief Writes @p model as an ONNX model (opset 14), atomically.
 *
 * Exported: Embedding (Gather), recurrent layers (ONNX LSTM, GRU with
 * linear_before_reset = reset_after, RNN; unidirectional, go_backwards,
 * Bidirectional with merge_mode concat, sum, mul or ave; return_sequences,
 * return_state, initial states connected to other layers), Dense on vectors
 * and per step (MatMul + Add), activations (Tanh, Relu, Sigmoid, Softmax,
 * LogSoftmax over the last axis), Dropout and SpatialDropout1D (identity at
 * inference), Concatenate, GlobalMaxPooling1D and GlobalAveragePooling1D
 * (ReduceMax, ReduceMean over time). The graph's inputs are batch-major as
 * the model's: token ids (N, T) int32, or f32 (N, T, F) / (N, F), batch and
 * time dynamic; the outputs are the model's (output_0, output_1, ...). The
 * model's metadata are written as metadata_props. Refused: stateful layers,
 * Embedding mask_zero, go_backwards with return_sequences, and kinds without
 * an ONNX counterpart here (Attention, Conv1D, MaxPooling1D, ...).
 *
 * @retval RNN_ERR_UNSUPPORTED a layer or option ONNX cannot express exactly
 *         (rnn_last_error() names the layer and the option).
 * @retval RNN_ERR_IO the file cannot be written.
 */
RNN_API rnn_status rnn_model_save_onnx(const rnn_model *model, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* RNN_ONNX_H */
