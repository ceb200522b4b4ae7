/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding internals shared by step.c and search.c. */
#ifndef RNN_DECODE_DECODE_H
#define RNN_DECODE_DECODE_H

#include "model/graph.h"
#include "rnn/decode.h"

/* Checks that input ti of m is a sequence of token ids. */
RNN__HIDDEN rnn_status rnn__check_token_input(const char *func, const rnn_model *m, int ti);

#endif
