/* SPDX-License-Identifier: Apache-2.0 */
/* The Brown corpus with its tags mapped to the 12-tag universal tagset,
 * exactly as NLTK's brown.tagged_sents(tagset='universal'). */
#ifndef EX_BROWN_H
#define EX_BROWN_H

#include <stddef.h>

enum { BROWN_NUM_TAGS = 12 };
/* Universal tags, by id. */
extern const char *const BROWN_TAGS[BROWN_NUM_TAGS];

typedef struct brown_map brown_map;

/* Reads a "BROWN_TAG<TAB>UNIVERSAL_TAG" map (en-brown.map): one pair a line,
 * blank lines skipped. NULL + err (file:line: what) on failure: an empty map,
 * a line without exactly those two fields, a Brown tag with white space or
 * lower-case letters (never matched: the corpus' tags are upper-cased) or
 * given twice, an unknown universal tag. */
brown_map *brown_map_load(const char *path, char *err, size_t errlen);
/* The number of Brown tags in the map (en-brown.map: 472). */
size_t brown_map_size(const brown_map *m);
void brown_map_free(brown_map *m);
/* Universal id of an (upper-case) Brown tag; unknown tags are X, as NLTK. */
int brown_map_tag(const brown_map *m, const char *tag);

typedef struct brown {
    size_t n_sents, n_tokens;
    size_t *sent;        /* n_sents + 1 token offsets: sentence s is [sent[s], sent[s+1]) */
    char **word;         /* the words as written in the corpus */
    unsigned char *tag;  /* universal tag ids */
    size_t cap_sents, cap_tokens;
} brown;

/* Appends the sentences of one corpus file's text: each non-blank line is a
 * sentence, tokens are separated by whitespace, each token splits at its
 * LAST '/' into word and tag (upper-cased, then mapped; a token without '/'
 * is a word tagged X). Returns 0, or -1 on out of memory. */
int brown_parse_text(brown *b, const char *text, size_t n, const brown_map *m);

/* Loads every corpus file (ca01 .. cr09, in name order) from the npm
 * package's .tgz or from a directory holding the unpacked files. Returns 0,
 * or -1 with a message in err: the archive cannot be read (see tgz_foreach),
 * it holds no corpus file, or a corpus file holds no sentence. */
int brown_load(const char *path, const brown_map *m, brown *out, char *err, size_t errlen);

void brown_free(brown *b);

#endif
