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
 * bench/e2e_common.py reads it. The examples write the training split
 * ("x", "lengths", "y") and the test split they evaluate on ("test_x",
 * "test_lengths", "test_y"). */
#ifndef EX_DUMP_H
#define EX_DUMP_H

#include <rnn.h>

#include "vocab.h"

/* meta_json: the body of the "meta" object (a JSON object text). Returns 0,
 * or -1 with a message on stderr. */
int dump_tensors(const char *path, const char *meta_json, int n, const char *const *names,
                 rnn_tensor *const *tensors);

/* Writes PATH.vocab: the vocabulary as the "vocab" metadata of the example's
 * models holds it (vocab_to_text()), which bench/e2e_common.py's
 * --export-onnx puts in the ONNX model's metadata_props, so that the
 * example's --load model.onnx reads text. Returns 0, or -1 with a message. */
int dump_vocab(const char *path, const vocab *v);

#endif
