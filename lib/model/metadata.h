/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A model's metadata: string key/value pairs kept sorted by key (strcmp),
 * set through rnn_model_set_metadata() and carried by model files in the
 * safetensors "__metadata__" object (io/save.c, io/load.c). The limits below
 * are the one set that the API, saving and loading all apply, so whatever
 * the API accepts saves and loads (documented in include/rnn/io.h).
 */
#ifndef RNN_MODEL_METADATA_H
#define RNN_MODEL_METADATA_H

#include <stddef.h>

#include "internal.h"

#define RNN__META_KEY_MAX 255                  /* bytes; keys have at least one */
#define RNN__META_VALUE_MAX ((size_t)16 << 20) /* bytes of one value */
/* Bytes of all keys and values together: the file header holds them
 * JSON-escaped (up to 6 bytes per byte), which must stay within the
 * header limit of io/safetensors.c. */
#define RNN__META_TOTAL_MAX ((size_t)16 << 20)
#define RNN__META_COUNT_MAX 1024

typedef struct rnn__meta {
    char *key, *value;
} rnn__meta;

/* The keys the file format itself uses in "__metadata__" (and the prefix
 * "librnn." kept for it): nonzero when key is one of them. */
RNN__HIDDEN int rnn__meta_reserved(const char *key);

/* Offset of the first byte of s[0..n) that does not start a valid UTF-8
 * sequence (overlong forms, surrogates, code points above U+10FFFF and NUL
 * included), or -1 when s is valid UTF-8 without NUL. */
RNN__HIDDEN long rnn__utf8_invalid(const char *s, size_t n);

/* Checks one pair against the limits (not the count, the total or the
 * reserved names): RNN_ERR_INVALID_ARG, or status when where is not NULL
 * (a file: messages start with where). klen/vlen are the byte lengths. */
RNN__HIDDEN rnn_status rnn__meta_check(rnn_status status, const char *func, const char *where,
                                       const char *key, size_t klen, const char *value,
                                       size_t vlen);

/* Sets (value not NULL) or removes key of the sorted table *tab of *n
 * entries, holding *total bytes of keys and values. Applies every limit
 * (reserved names too); a failure (limits, out of memory) changes nothing.
 * Errors under func, messages prefixed with where when not NULL (status
 * then replaces RNN_ERR_INVALID_ARG). */
RNN__HIDDEN rnn_status rnn__meta_put(rnn_status status, const char *func, const char *where,
                                     rnn__meta **tab, int *n, size_t *total, const char *key,
                                     const char *value);

/* Frees a table. */
RNN__HIDDEN void rnn__meta_free(rnn__meta *tab, int n);

#endif
