/* SPDX-License-Identifier: Apache-2.0 */
/* Word vocabularies for the example programs: counting, keeping the most
 * frequent words, ids, saving and loading (one word per line, in id order). */
#ifndef EX_VOCAB_H
#define EX_VOCAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct vocab {
    size_t cap, n;
    char **key;
    int32_t *id;
    int64_t *count;
} vocab;

/* cap: a power of two, at least twice the words it will hold. 0 or -1 (no memory). */
int vocab_init(vocab *v, size_t cap);
void vocab_free(vocab *v);
/* Adds count to w (inserting it with id when new). -1 when full or out of memory. */
int vocab_add(vocab *v, const char *w, int64_t count, int32_t id);
/* The id of w, or -1. */
int32_t vocab_find(const vocab *v, const char *w);
/* out = the max most frequent words of counts (ties in byte order), with ids
 * first_id, first_id + 1, ... in that order. */
int vocab_top(const vocab *counts, size_t max, int32_t first_id, vocab *out);
/* FILE holds one word per line in id order, starting at first_id. */
int vocab_save(const vocab *v, const char *path);
int vocab_load(vocab *v, const char *path, int32_t first_id);

#endif
