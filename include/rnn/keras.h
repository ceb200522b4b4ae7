/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/keras.h
 * @brief Keras model files: a Keras 3 `.keras` file (model.save()) into a
 * librnn model, and Keras weights files (model.save_weights("x.weights.h5"))
 * into a librnn model of the same architecture.
 *
 * Part of the separate library librnn-keras (`pkg-config --libs librnn-keras`,
 * soname librnn-keras.so.0, built with meson's `-Dkeras`), which uses only
 * librnn's public API; librnn itself does not depend on HDF5 or zlib. This
 * header is not included by `<rnn.h>`.
 *
 * What is imported (docs/guide/interchange-keras.md has the full table):
 * Sequential and Functional models made of InputLayer, Embedding (mask_zero),
 * SimpleRNN, LSTM, GRU (reset_after true and false), Bidirectional (merge
 * modes concat, sum, mul, ave), TimeDistributed(Dense), Dense, Dropout,
 * SpatialDropout1D, Conv1D, MaxPooling1D, GlobalAveragePooling1D,
 * GlobalMaxPooling1D, Flatten, Activation, RepeatVector, Concatenate,
 * Attention (dot score) and LayerNormalization, with a recurrent layer's
 * `initial_state` taken from other layers. Anything else, any argument
 * with a value librnn would not compute exactly as Keras does (an
 * activation, a regularizer, a constraint, `use_scale`, a `causal`
 * padding, ...) and any argument this reader does not know is refused with
 * RNN_ERR_UNSUPPORTED and an rnn_last_error() naming the function, the
 * layer (name and class) and the argument with its value: nothing is
 * approximated. The imported model trains further (rnn_model_compile(),
 * rnn_model_fit()) and saves in librnn's format (rnn_model_save()).
 *
 * Hostile files: the zip directory and entries, the JSON configuration and
 * every dataset's type and shape are checked before anything is allocated
 * from them (limits in the guide); the HDF5 bytes themselves are parsed by
 * the HDF5 library.
 */
#ifndef RNN_KERAS_H
#define RNN_KERAS_H

#include "rnn/common.h"
#include "rnn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Builds a model from a Keras 3 `.keras` file: its architecture
 * (config.json) and its weights (model.weights.h5). The layers get librnn's
 * names; inputs and outputs keep Keras' order.
 * @param options model options (seed, backend), or NULL for the defaults.
 * @param[out] out the new model (release with rnn_model_destroy()); NULL on
 *        failure.
 * @retval RNN_ERR_IO the file cannot be read.
 * @retval RNN_ERR_FORMAT not a Keras 3 file, or a damaged one (zip, JSON or
 *         HDF5), or weights that do not fit the architecture.
 * @retval RNN_ERR_UNSUPPORTED a layer, argument or value librnn does not have.
 * @retval RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_model_load_keras(const char *path, const rnn_model_options *options,
                                        rnn_model **out);

/** @brief rnn_model_load_keras() from the bytes of a `.keras` file in memory
 * (not kept after the call). */
RNN_API rnn_status rnn_model_load_keras_memory(const void *data, size_t size,
                                               const rnn_model_options *options,
                                               rnn_model **out);

/**
 * @brief Replaces the weights of @p model with those of a Keras weights file
 * (`model.save_weights("x.weights.h5")`, or the model.weights.h5 inside a
 * `.keras` file) of a Keras model of the same architecture: the same layer
 * classes in the same order. Layers are matched as Keras matches them (by
 * class and position); every array's shape must be the librnn layer's.
 * Nothing changes unless every layer's weights are found and valid.
 * @retval RNN_ERR_IO, RNN_ERR_FORMAT (not HDF5, a missing or misshapen
 *         array: the message names the layer and the HDF5 path),
 *         RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_model_load_keras_weights(rnn_model *model, const char *path);

/** @brief rnn_model_load_keras_weights() from the bytes of the HDF5 file in memory. */
RNN_API rnn_status rnn_model_load_keras_weights_memory(rnn_model *model, const void *data,
                                                       size_t size);

#ifdef __cplusplus
}
#endif

#endif /* RNN_KERAS_H */
