/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/optim.h
 * @brief Optimizers that update a model's parameters from its gradients.
 *
 * An optimizer is bound to one model at creation and keeps its own state
 * (momentum buffers). Updates are element-wise on the canonical parameters.
 */
#ifndef RNN_OPTIM_H
#define RNN_OPTIM_H

#include "rnn/common.h"
#include "rnn/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Opaque optimizer handle. */
typedef struct rnn_optimizer rnn_optimizer;

/** @brief SGD options (Keras `SGD`): fill with rnn_sgd_options_init(). */
typedef struct rnn_sgd_options {
    uint32_t struct_size; /**< sizeof(rnn_sgd_options), set by _init. */
    float learning_rate;  /**< 0.01 */
    float momentum;       /**< 0 (in [0, 1)) */
    int nesterov;         /**< 0 */
} rnn_sgd_options;

/** @brief Fills @p options with Keras' SGD defaults. */
RNN_API void rnn_sgd_options_init(rnn_sgd_options *options);

/**
 * @brief Creates an SGD optimizer for @p model. With momentum m and
 * learning rate lr (Keras' formulation): v = m*v - lr*g; p += v (Nesterov:
 * p += m*v - lr*g).
 * @retval RNN_ERR_INVALID_ARG bad options (named in the message), RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_optimizer_create_sgd(rnn_model *model, const rnn_sgd_options *options,
                                            rnn_optimizer **out);

/** @brief Releases an optimizer. NULL is allowed. */
RNN_API void rnn_optimizer_destroy(rnn_optimizer *optimizer);

/**
 * @brief Applies one update to every trainable parameter of the model from
 * its accumulated gradients (it does not zero them).
 */
RNN_API rnn_status rnn_optimizer_step(rnn_optimizer *optimizer);

#ifdef __cplusplus
}
#endif

#endif /* RNN_OPTIM_H */
