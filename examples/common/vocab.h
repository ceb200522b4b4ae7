/* SPDX-License-Identifier: Apache-2.0 */
/* Word vocabularies for the example programs: counting, keeping the most
 * frequent words, ids, and the words as text for a model's metadata. */
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
/* 1 when a and b hold the same words with the same ids, else 0. */
int vocab_same(const vocab *a, const vocab *b);
/* out = the max most frequent words of counts (ties in byte order), with ids
 * first_id, first_id + 1, ... in that order. */
int vocab_top(const vocab *counts, size_t max, int32_t first_id, vocab *out);
/* The words as text that is valid UTF-8 (for model metadata): one word per
 * line in id order, each escaped with vocab_escape(). malloc'd; NULL when
 * out of memory. */
char *vocab_to_text(const vocab *v);
/* The inverse: the words of text get ids first_id, first_id + 1, ... -1
 * (v freed) when out of memory or text is malformed: a bad escape, an empty
 * or repeated word. */
int vocab_from_text(vocab *v, const char *text, int32_t first_id);
/* Writes s[0..n) as valid UTF-8 text to out (NUL-terminated; NULL: only
 * count): valid UTF-8 sequences and printable ASCII as they are, a
 * backslash, control bytes and other bytes as \xHH. Returns the length. */
size_t vocab_escape(const unsigned char *s, size_t n, char *out);
/* The inverse, into out (at most n bytes); -1 on a malformed escape. */
long vocab_unescape(const char *s, size_t n, unsigned char *out);

#endif
