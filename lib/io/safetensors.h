/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The safetensors framing of model files (io/safetensors.c): an 8-byte
 * little-endian header size, a JSON header naming each tensor's dtype, shape
 * and byte range, then the data. Writing is atomic (a temporary file beside
 * the target, fsync, rename); reading checks every size, offset and read.
 * Knows nothing of models: save.c and load.c build on it.
 */
#ifndef RNN_IO_SAFETENSORS_H
#define RNN_IO_SAFETENSORS_H

#include <jansson.h>

#include "internal.h"

/* header[key] = {dtype F32, shape, data_offsets [*offset, *offset + bytes]};
 * advances *offset. Returns 0, or -1 when out of memory. */
RNN__HIDDEN int rnn__st_entry(json_t *header, const char *key, int rank, const int64_t *dims,
                              uint64_t *offset);

/* One f32 array to write after the header, in the order of the entries. */
typedef struct rnn__st_data {
    const float *p;
    int64_t n;
} rnn__st_data;

/* Writes header (with its __metadata__ already set) and the arrays to path,
 * atomically; errors under func. */
RNN__HIDDEN rnn_status rnn__st_write(const char *func, const char *path, json_t *header,
                                     const rnn__st_data *data, size_t n_data);

/* An open file: its header parsed (duplicate keys rejected). */
typedef struct rnn__st_file {
    const char *path;
    const char *func; /* errors are reported under it */
    int fd;
    uint64_t data_off, data_size;
    json_t *header;
    uint64_t (*ranges)[2]; /* byte ranges read so far, for rnn__st_check_disjoint */
    size_t n_ranges, cap_ranges;
} rnn__st_file;

RNN__HIDDEN rnn_status rnn__st_open(const char *func, const char *path, rnn__st_file *f);
RNN__HIDDEN void rnn__st_close(rnn__st_file *f);
/* Reads tensor `key`, which must be F32 of the given shape, into dst. */
RNN__HIDDEN rnn_status rnn__st_read(rnn__st_file *f, const char *key, int rank,
                                    const int64_t *dims, float *dst);
/* Checks that the file lists exactly the tensors read, and that no two share
 * a byte (a file whose names alias the same data would otherwise load). With
 * the total size checked by the caller, disjoint ranges also cover the data
 * section. */
RNN__HIDDEN rnn_status rnn__st_check_disjoint(const rnn__st_file *f);
/* The model file's checksum: 64-bit FNV-1a over the architecture string,
 * the tensor entries (rnn__st_hash_entries), the user metadata, then the data
 * section's bytes (little-endian floats, in file order). It is stored as
 * "fnv1a64:<16 hex digits>" in __metadata__.checksum, where other safetensors
 * readers ignore it. */
#define RNN__ST_FNV_INIT 0xcbf29ce484222325ull
RNN__HIDDEN uint64_t rnn__st_fnv(uint64_t h, const void *p, size_t n);
/* Hashes the header's tensor entries (every key but __metadata__, in strcmp
 * order: the name and its 0 byte, the dtype and its 0 byte, the shape's
 * length and values and the two offsets as 8-byte little-endian integers)
 * into *h, so an edited name, shape or offset fails the checksum as an
 * edited weight does. -1: out of memory. */
RNN__HIDDEN int rnn__st_hash_entries(const json_t *header, uint64_t *h);
/* Hashes the data section of f into *h (sequential reads). */
RNN__HIDDEN rnn_status rnn__st_hash_data(const rnn__st_file *f, uint64_t *h);
/* A RNN_ERR_FORMAT error "func: path: message". */
RNN__HIDDEN rnn_status rnn__st_format_error(const rnn__st_file *f, const char *fmt, ...)
    RNN__PRINTF(2, 3);

#endif
