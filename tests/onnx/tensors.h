/* SPDX-License-Identifier: Apache-2.0 */
#ifndef ONNX_TEST_TENSORS_H
#define ONNX_TEST_TENSORS_H
#include <rnn.h>

#define IO_MAX 16

/* A fixture's inputs then outputs. */
typedef struct io_set {
    int count, n_inputs;
    rnn_tensor *t[IO_MAX];
} io_set;

int io_read(const char *path, io_set *s);
void io_free(io_set *s);
/* Largest |a - b| over the elements (1e30 when the counts differ). */
double max_abs_diff(const rnn_tensor *a, const rnn_tensor *b);
#endif
