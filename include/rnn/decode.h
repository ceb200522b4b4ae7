/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn/decode.h
 * @brief Generating sequences one token at a time: a step-wise decoder over a
 * trained model (carried states, no re-running of the prefix), greedy
 * decoding, temperature / top-k / top-p sampling, beam search, and scheduled
 * sampling for training.
 *
 * The model decoded is the one trained with teacher forcing: one of its
 * inputs (the *token input*, i32 (N, T)) takes the previous target tokens,
 * and one of its outputs holds next-token probabilities (or logits) per step,
 * (N, T, V). Every other input (an encoder's source sentence, say) is given
 * once. Layers that do not depend on the token input (the encoder) run once,
 * at rnn_model_step_begin(); the layers that do (the *step layers*: embedding,
 * unidirectional recurrent layers, attention, dense, dropout, activation,
 * concatenate) then run on one time step per rnn_model_step(), each
 * recurrent layer starting from the states it ended the previous step with.
 * Primitives are created for the first step and reused by the following ones.
 *
 * A character language model is decoded the same way: its only input is the
 * token input, and the prompt is given to rnn_model_step_begin().
 *
 * BLEU, to score what is decoded, is in rnn/metrics.h.
 */
#ifndef RNN_DECODE_H
#define RNN_DECODE_H

#include "rnn/common.h"
#include "rnn/model.h"
#include "rnn/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ step-wise */

/**
 * @brief Starts step-wise inference: resets the carried states of the step
 * layers, runs the whole model once in inference mode on @p inputs (where
 * inputs[@p token_input] is the prefix: (N, P) i32 with P >= 1, e.g. the
 * start token or a prompt) and keeps every recurrent step layer's final
 * states. Outputs are then readable with rnn_model_output() as after
 * rnn_model_forward().
 *
 * The tensors in @p inputs and @p lengths other than the token input must
 * stay valid and unchanged until rnn_model_step_end(). @p lengths[token_input]
 * must be NULL (every row of the prefix has length P).
 * @retval RNN_ERR_RANGE @p token_input is not an input index.
 * @retval RNN_ERR_DTYPE the token input is not an i32 sequence input.
 * @retval RNN_ERR_UNSUPPORTED a step layer cannot run one step at a time
 *         (a bidirectional or go_backwards recurrent layer, pooling, Conv1D,
 *         Flatten, ...); the message names it.
 * @retval others as rnn_model_forward().
 */
RNN_API rnn_status rnn_model_step_begin(rnn_model *model, int token_input, int num_inputs,
                                        const rnn_tensor *const *inputs,
                                        const rnn_tensor *const *lengths);

/**
 * @brief Runs the step layers on the next tokens, @p tokens i32 (N, 1) (or
 * (N, S) for S steps at once), from the states the previous call left.
 * @retval RNN_ERR_STATE no rnn_model_step_begin() before.
 * @retval RNN_ERR_SHAPE @p tokens does not have the batch size of the begin call.
 */
RNN_API rnn_status rnn_model_step(rnn_model *model, const rnn_tensor *tokens);

/**
 * @brief Reorders (or replicates) the batch rows of the carried states:
 * row n continues from row @p rows[n] of the previous step. This is how beam
 * search keeps the surviving hypotheses. @p rows has the begin call's batch
 * size N entries in [0, N).
 * @retval RNN_ERR_RANGE a row outside [0, N).
 */
RNN_API rnn_status rnn_model_step_select(rnn_model *model, const int32_t *rows, int64_t count);

/** @brief Ends step-wise inference and resets the carried states of the step
 * layers (stateful layers start from zero again). Harmless without a begin. */
RNN_API rnn_status rnn_model_step_end(rnn_model *model);

/* ------------------------------------------------------------ decoding */

/** @brief How rnn_model_decode() picks each token. */
typedef enum rnn_decode_strategy {
    RNN_DECODE_GREEDY = 0, /**< The most probable token at each step. */
    RNN_DECODE_SAMPLE = 1, /**< Sampling with temperature, top-k and top-p (nucleus). */
    RNN_DECODE_BEAM = 2    /**< Beam search over whole sequences (log-probabilities). */
} rnn_decode_strategy;

/** @brief Options of rnn_model_decode(). Fill with rnn_decode_options_init(). */
typedef struct rnn_decode_options {
    uint32_t struct_size;         /**< sizeof(rnn_decode_options), set by _init. */
    rnn_decode_strategy strategy; /**< RNN_DECODE_GREEDY. */
    int token_input;              /**< Index of the token input (-1, the default: the
                                       model's last input). */
    int output;                   /**< Model output with the next-token distribution,
                                       (N, T, V) or (N, V) (0). */
    int from_logits;              /**< 1: that output holds logits, 0: probabilities
                                       (-1, the default: as compiled, else 0). */
    int32_t start_token;          /**< Fed first when no prefix is given (1). */
    int32_t end_token;            /**< Ends a sequence (it is not part of the result);
                                       -1: none, every sequence runs max_length (2). */
    int max_length;               /**< Tokens generated at most per sequence (50). */
    float temperature;            /**< SAMPLE: divides the log-probabilities (1.0); > 0. */
    int top_k;                    /**< SAMPLE: keep the k most probable tokens (0 = all). */
    float top_p;                  /**< SAMPLE: keep the smallest set of most probable tokens
                                       whose probability reaches top_p (1.0 = all). */
    int beam_width;               /**< BEAM: hypotheses kept per sequence (4); 1 = greedy. */
    float length_penalty;         /**< BEAM: finished hypotheses are ranked by
                                       logp / ((5 + len) / 6)^length_penalty (GNMT;
                                       0, the default, ranks by logp). */
    uint64_t seed;                /**< SAMPLE: seed of the sampler (0). */
} rnn_decode_options;

/** @brief Fills @p options with the defaults listed at each field. */
RNN_API void rnn_decode_options_init(rnn_decode_options *options);

/**
 * @brief Generates a sequence for every sample of a batch.
 *
 * @param inputs as rnn_model_forward(); inputs[token_input] is NULL (each
 *        sequence starts from start_token) or an i32 (N, P) prefix (a prompt)
 *        whose last token is followed by the generated ones.
 * @param tokens i32 (N, max_length), written: row n holds the generated
 *        tokens, then end_token (or 0 without one) as padding.
 * @param out_lengths NULL, or i32 (N): how many tokens were generated before
 *        the end token (max_length when it never came).
 * @param scores NULL, or f32 (N): the log-probability of each result
 *        (its generated tokens and the end token when it came), under the
 *        model's distribution (before temperature and truncation).
 * @retval RNN_ERR_INVALID_ARG bad options (the message names the field).
 * @retval RNN_ERR_SHAPE, RNN_ERR_DTYPE result tensors of the wrong shape or type.
 * @retval RNN_ERR_NUMERIC the output distribution holds a NaN or infinite
 *         value (NaN weights, an overflow): tokens chosen from it would be
 *         arbitrary; the message names the step, row and token.
 * @retval others as rnn_model_step_begin().
 */
RNN_API rnn_status rnn_model_decode(rnn_model *model, const rnn_decode_options *options,
                                    int num_inputs, const rnn_tensor *const *inputs,
                                    const rnn_tensor *const *lengths, rnn_tensor *tokens,
                                    rnn_tensor *out_lengths, rnn_tensor *scores);

/* ------------------------------------------------------------ training */

/**
 * @brief Scheduled sampling (Bengio et al. 2015), in its two-pass form: runs
 * the model in inference mode on teacher-forced @p inputs, then writes into
 * @p mixed (i32, shaped as inputs[token_input]) the token input where each
 * token after the first is replaced, with probability @p probability, by the
 * model's most probable token for that position (its prediction from the
 * previous step). Train on @p mixed instead of the token input; probability
 * 0 is plain teacher forcing.
 * @param output the model output holding next-token distributions (N, T, V).
 * @param seed seeds the coin flips (same seed, same mixture).
 */
RNN_API rnn_status rnn_model_scheduled_sampling(rnn_model *model, int token_input, int output,
                                                float probability, uint64_t seed,
                                                int num_inputs, const rnn_tensor *const *inputs,
                                                const rnn_tensor *const *lengths,
                                                rnn_tensor *mixed);

#ifdef __cplusplus
}
#endif

#endif /* RNN_DECODE_H */
