/* SPDX-License-Identifier: Apache-2.0 */
/* The HDF5 side of librnn-keras: a Keras weights file read from bytes in
 * memory by a bounded reader of its own (kh5.c), its groups counted and its
 * float datasets read after their type and shape were checked. */
#ifndef RNN_KERAS_KH5_H
#define RNN_KERAS_KH5_H

#include <stddef.h>
#include <stdint.h>

typedef struct rnn_kh5 rnn_kh5;

/* Returns 0, or -1 with a message in err. */
int rnn_kh5_open(const void *data, size_t size, rnn_kh5 **out, char *err, size_t errlen);
void rnn_kh5_close(rnn_kh5 *h);
/* 1 when every component of path exists (a group or a dataset), else 0. */
int rnn_kh5_exists(rnn_kh5 *h, const char *path);
/* Number of links in group path, or -1 when it is not a group. */
long rnn_kh5_count(rnn_kh5 *h, const char *path);
/* Reads dataset path, which must be a floating-point array of exactly
 * `rank` dims `dims`, into out (converted to float). 0, or -1 with err. */
int rnn_kh5_read_f32(rnn_kh5 *h, const char *path, int rank, const int64_t *dims, float *out,
                     char *err, size_t errlen);

#endif
