/* SPDX-License-Identifier: Apache-2.0 */
/* --dump-encoded FILE of the example programs: writes the encoded training
 * tensors exactly as they go to rnn_model_fit(), with the fit settings, so
 * that an outside program (bench/torch_*.py) trains on identical token ids,
 * lengths and batches. File layout:
 *   line 1  "RNNDUMP1"
 *   line 2  one JSON object: {"meta": {...}, "tensors": [{"name": "x",
 *           "dtype": "int32" | "float32", "shape": [S, T]}, ...]}
 *   then    each tensor's elements, row-major, in the machine's byte order
 *           (little-endian on x86-64), in the order listed, back to back.
 * bench/e2e_common.py reads it. */
#ifndef EX_DUMP_H
#define EX_DUMP_H

#include <rnn.h>

/* meta_json: the body of the "meta" object (a JSON object text). Returns 0,
 * or -1 with a message on stderr. */
int dump_tensors(const char *path, const char *meta_json, int n, const char *const *names,
                 rnn_tensor *const *tensors);

#endif
