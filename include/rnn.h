/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file rnn.h
 * @brief librnn umbrella header: include this one.
 *
 * librnn builds, trains and runs recurrent neural networks from C, with
 * oneDNN primitives for the heavy kernels. See README.md and docs/.
 */
#ifndef RNN_H
#define RNN_H

#include "rnn/version.h"
#include "rnn/common.h"
#include "rnn/tensor.h"
#include "rnn/model.h"
#include "rnn/layers.h"
#include "rnn/optim.h"
#include "rnn/io.h"
#include "rnn/fit.h"
#include "rnn/decode.h"
#include "rnn/metrics.h"
#include "rnn/collective.h"

#endif /* RNN_H */
