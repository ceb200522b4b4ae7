/* SPDX-License-Identifier: Apache-2.0 */
/* What save.c and load.c share: the format's name, the checksum of the
 * metadata and the value names of the "training" section. */
#ifndef RNN_IO_MODEL_FILE_H
#define RNN_IO_MODEL_FILE_H

#include "model/graph.h"

#define RNN__FORMAT_NAME "librnn"
#define RNN__FORMAT_VERSION "1"

/* The checksum's share of one metadata pair, hashed in key order after the
 * architecture: the key's bytes, a 0 byte, the value's bytes, a 0 byte. A
 * model without metadata hashes nothing more (its checksum is as before). */
RNN__HIDDEN uint64_t rnn__meta_hash(uint64_t h, const char *key, const char *value);

RNN__HIDDEN extern const char *const rnn__loss_names[5];
RNN__HIDDEN extern const char *const rnn__optim_names[6];
RNN__HIDDEN extern const char *const rnn__reduction_names[2];

#endif
