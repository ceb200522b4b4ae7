/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/optim.h
 * @brief Optimizers that update a model's parameters from its gradients.
 *
 * An optimizer is bound to one model at creation and keeps its own state
 * (moments, step count). Updates are element-wise on the canonical
 * parameters, with Keras' formulas and defaults; frozen layers
 * (rnn_layer_set_trainable) are skipped.
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

/** @brief Optimizer algorithms (Keras names). */
typedef enum rnn_optimizer_type {
    RNN_OPTIM_SGD = 1,     /**< v = momentum*v - lr*g; p += v (Nesterov: p += momentum*v - lr*g). */
    RNN_OPTIM_RMSPROP = 2, /**< v = rho*v + (1-rho)*g^2; p -= lr*g / sqrt(v + epsilon). */
    RNN_OPTIM_ADAM = 3,    /**< Keras Adam (bias-corrected step size, epsilon outside the root). */
    RNN_OPTIM_NADAM = 4,   /**< Keras 3 Nadam (momentum schedule 0.96^t; tf.keras 2 and
                                PyTorch's NAdam use 0.96^(0.004 t)). */
    RNN_OPTIM_ADAMW = 5    /**< Adam with decoupled weight decay: p -= lr*weight_decay*p first. */
} rnn_optimizer_type;

/**
 * @brief Optimizer options; rnn_optimizer_options_init() sets Keras'
 * defaults for the type. Fields a type does not use are ignored.
 */
typedef struct rnn_optimizer_options {
    uint32_t struct_size;    /**< sizeof(rnn_optimizer_options), set by _init. */
    rnn_optimizer_type type; /**< Set by _init. */
    float learning_rate;     /**< SGD 0.01; others 0.001. */
    float momentum;          /**< SGD: 0, in [0, 1). */
    int nesterov;            /**< SGD: 0. */
    float rho;               /**< RMSprop: 0.9. */
    float beta_1;            /**< Adam/Nadam/AdamW: 0.9. */
    float beta_2;            /**< Adam/Nadam/AdamW: 0.999. */
    float epsilon;           /**< RMSprop/Adam/Nadam/AdamW: 1e-7. */
    float weight_decay;      /**< AdamW: 0.004 (Keras 3); 0 elsewhere. */
    float clipnorm;          /**< 0 = off; else each parameter's gradient is rescaled to
                                  at most this L2 norm. */
    float clipvalue;         /**< 0 = off; else each gradient element is clipped to
                                  [-clipvalue, clipvalue]. */
    float global_clipnorm;   /**< 0 = off; else all gradients together are rescaled to at
                                  most this global L2 norm. Applied first, then clipnorm,
                                  then clipvalue. */
} rnn_optimizer_options;

/** @brief Fills @p options with Keras' defaults for @p type. */
RNN_API void rnn_optimizer_options_init(rnn_optimizer_options *options,
                                        rnn_optimizer_type type);

/**
 * @brief Creates an optimizer for every parameter of @p model (create it once
 * the model is complete).
 * @retval RNN_ERR_INVALID_ARG a bad option, named in the message.
 * @retval RNN_ERR_NOMEM
 */
RNN_API rnn_status rnn_optimizer_create(rnn_model *model, const rnn_optimizer_options *options,
                                        rnn_optimizer **out);

/** @brief Releases an optimizer. NULL is allowed. */
RNN_API void rnn_optimizer_destroy(rnn_optimizer *optimizer);

/**
 * @brief Applies one update to every trainable parameter from its
 * accumulated gradient (the gradients are clipped in place when clipping is
 * on, and are not zeroed).
 * @retval RNN_ERR_STATE the model gained layers after the optimizer was made.
 */
RNN_API rnn_status rnn_optimizer_step(rnn_optimizer *optimizer);

/** @brief Number of steps applied so far. */
RNN_API rnn_status rnn_optimizer_iterations(const rnn_optimizer *optimizer, int64_t *out);

/** @brief Changes the learning rate (schedules, reduce-on-plateau). */
RNN_API rnn_status rnn_optimizer_set_learning_rate(rnn_optimizer *optimizer, float learning_rate);

/** @brief The current learning rate. */
RNN_API rnn_status rnn_optimizer_learning_rate(const rnn_optimizer *optimizer, float *out);

/**
 * @brief The optimizer rnn_model_compile() created (borrowed: owned by the
 * model, valid until the next compile), e.g. to change its learning rate in
 * a custom loop.
 * @retval RNN_ERR_STATE the model is not compiled.
 */
RNN_API rnn_status rnn_model_optimizer(rnn_model *model, rnn_optimizer **out);

#ifdef __cplusplus
}
#endif

#endif /* RNN_OPTIM_H */
