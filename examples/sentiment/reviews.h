/* SPDX-License-Identifier: Apache-2.0 */
/* Sentiment datasets: IMDB (label<TAB>id<TAB>rating<TAB>text, gzip) and the
 * UCI labelled sentences (sentence<TAB>label, split at the LAST tab), and
 * the tokenizer both use. */
#ifndef EX_REVIEWS_H
#define EX_REVIEWS_H

#include <stddef.h>

typedef struct reviews {
    size_t n, cap;
    char **text;
    int *label; /* 1 positive, 0 negative */
} reviews;

/* Appends the records of an IMDB .tsv(.gz): exactly four fields a line, the
 * label 0 or 1, the id a whole number, the rating 1..10, a text that is not
 * blank; blank lines are skipped. 0, or -1 with a message naming the file and
 * the line (or the gzip error); a file without a record is an error. */
int reviews_load_imdb(reviews *r, const char *path, char *err, size_t errlen);
/* Appends the records of one UCI *_labelled.txt file: a sentence that is not
 * blank, the LAST tab, 0 or 1. 0, or -1 with a message as above. */
int reviews_load_uci(reviews *r, const char *path, char *err, size_t errlen);
void reviews_free(reviews *r);

/* Splits text into lower-cased tokens: HTML tags such as <br /> are spaces;
 * a token is a run of letters, digits, non-ASCII bytes and inner
 * apostrophes ("don't"); '!' and '?' are tokens of their own; other
 * punctuation separates. Calls fn for each token (NUL-terminated, at most 63
 * bytes kept). Returns the number of tokens. */
size_t tokenize(const char *text, void (*fn)(void *user, const char *tok), void *user);

#endif
