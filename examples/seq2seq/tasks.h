/* SPDX-License-Identifier: Apache-2.0 */
/* The seq2seq example's data: three tasks as lists of (source, target)
 * string pairs, their vocabularies, and a split with no source shared
 * between training and held-out pairs.
 *
 *   dates     "April 22, 2019" -> "2019-04-22" (Geron, handson-ml2 ch. 16)
 *   addition  "535+61" -> "596"                (Keras' addition_rnn example)
 *   fra-eng   English -> French sentences      (ManyThings / Tatoeba fra.txt)
 *
 * dates and addition are read character by character (char_vocab); fra-eng
 * word by word (word_tokenize, word_vocab). Functions that can fail return 0,
 * or -1 with a message in err (errlen bytes, always NUL-terminated); nothing
 * prints or exits. Generators are seeded with a 64-bit seed and use their own
 * PRNG (xoshiro256** seeded by splitmix64), so a seed gives the same pairs on
 * every machine. */
#ifndef EX_SEQ2SEQ_TASKS_H
#define EX_SEQ2SEQ_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/vocab.h"

/* ------------------------------------------------------------------ pairs */

/* Source and target strings (NUL-terminated UTF-8, owned by the list). */
typedef struct pairs {
    size_t n, cap;
    char **src, **tgt;
} pairs;

/* Appends copies of src and tgt. 0, or -1 (out of memory). */
int pairs_add(pairs *p, const char *src, const char *tgt);
/* Frees the strings and the arrays and zeroes *p. Safe on a zeroed list. */
void pairs_free(pairs *p);

/* Which side(s) of the pairs a vocabulary is built from. */
enum { PAIRS_SOURCE = 1, PAIRS_TARGET = 2, PAIRS_BOTH = 3 };

/* Partitions all into *train and *heldout (both must be zeroed or freed
 * lists; they receive copies). The pairs are shuffled with seed; pairs with
 * the same source string are kept together, and whole groups go to held-out
 * (in shuffled order, skipping a group that would overflow) until it holds
 * n_heldout pairs, so no held-out source appears in train and nothing is
 * dropped. Held-out ends with exactly n_heldout pairs unless groups make
 * that impossible (then fewer). Both parts are in shuffled order.
 * -1 when n_heldout > all->n or out of memory. */
int pairs_split_disjoint(const pairs *all, uint64_t seed, size_t n_heldout, pairs *train,
                         pairs *heldout, char *err, size_t errlen);

/* ------------------------------------------------------------------ dates */

/* Proleptic Gregorian day numbers, as Python's date.toordinal():
 * 0001-01-01 is 1. Valid for ordinals >= 1 (years >= 1). */
int64_t date_to_ordinal(int year, int month, int day);
void date_from_ordinal(int64_t ordinal, int *year, int *month, int *day);

/* Appends count pairs for dates drawn uniformly from 1000-01-01 ..
 * 9999-12-31 (both included; Geron's randint leaves out the last day).
 * source: full English month name, two-digit day, four-digit year, as
 * MONTHS[m-1] + " " + strftime("%d, %Y"): "September 02, 7076";
 * target: ISO 8601, "7076-09-02". Dates may repeat. */
int dates_generate(uint64_t seed, size_t count, pairs *out, char *err, size_t errlen);

/* --------------------------------------------------------------- addition */

/* Appends count pairs as Keras' addition_rnn: each of a and b gets a random
 * number of digits, 1..digits, each digit random (leading zeros allowed, so
 * "007" is 7); a pair whose unordered {a, b} was generated before (in this
 * call) is drawn again. source "a+b" without padding ("535+61"), target the
 * decimal sum ("596"). digits in 1..18; -1 when count exceeds the
 * (10^digits)(10^digits + 1)/2 distinct pairs or they cannot be found in a
 * reasonable number of draws. */
int addition_generate(uint64_t seed, size_t count, int digits, pairs *out, char *err,
                      size_t errlen);

/* ----------------------------------------------------- shared special ids */

enum { TOK_PAD = 0, TOK_START = 1, TOK_END = 2, TOK_UNK = 3, TOK_FIRST = 4 };
/* Flags for the encoders: put TOK_START before, TOK_END after. */
enum { ENC_START = 1, ENC_END = 2 };

/* ------------------------------------------------ character vocabularies */

/* Bytes to ids: 0 pad, 1 start, 2 end, 3 unknown, then every byte seen in
 * the chosen side(s) of the training pairs, in increasing byte order. For
 * the ASCII tasks (dates, addition) a byte is a character. */
typedef struct char_vocab {
    size_t n;               /* ids are 0 .. n-1 */
    int32_t id[256];          /* byte -> id (TOK_UNK when unseen) */
    unsigned char byte[TOK_FIRST + 256]; /* id -> byte, for ids >= TOK_FIRST */
} char_vocab;

/* side: PAIRS_SOURCE, PAIRS_TARGET or PAIRS_BOTH. Cannot fail. */
void char_vocab_build(char_vocab *v, const pairs *train, int side);
/* Writes the ids of s (with ENC_START / ENC_END as flags asks) into ids,
 * at most cap of them, and returns the full length (as snprintf: a return
 * value > cap means the sequence was cut). Unseen bytes are TOK_UNK. */
size_t char_vocab_encode(const char_vocab *v, const char *s, int flags, int32_t *ids,
                         size_t cap);
/* Writes the text of ids into out (NUL-terminated, at most outlen bytes):
 * TOK_PAD and TOK_START are skipped, TOK_END ends the text, TOK_UNK and ids
 * out of range are '?'. Returns the full length (as snprintf). */
size_t char_vocab_decode(const char_vocab *v, const int32_t *ids, size_t n, char *out,
                         size_t outlen);

/* ---------------------------------------------------------------- fra-eng */

typedef struct fra_eng_stats {
    size_t lines;     /* lines read (a last line without '\n' counts) */
    size_t blank;     /* empty or whitespace-only lines, skipped */
    size_t no_tab;    /* lines without a TAB, skipped */
    size_t empty;     /* an empty English or French field, skipped */
    size_t bad_utf8;  /* invalid UTF-8 or a NUL byte, skipped */
    size_t too_long;  /* more than max_words words on a side, skipped */
    size_t kept;      /* pairs appended */
    size_t first_bad; /* the line number of the first no_tab, empty or bad_utf8 line (0: none) */
    const char *first_bad_what; /* what is wrong with it ("no TAB", ...; NULL: none) */
} fra_eng_stats;

/* Appends the pairs of a gzip'ed (or plain) fra.txt: lines
 * "english<TAB>french[<TAB>attribution...]"; only the first two fields are
 * used, with surrounding ASCII whitespace trimmed. Handles LF and CRLF, a
 * UTF-8 byte-order mark, and a missing final newline. A pair is kept when
 * both sides have at most max_words words (word_count; max_words <= 0: no
 * limit). source = English, target = French. stats may be NULL. -1 when the
 * file cannot be read (a gzip error or a truncated .gz: see read_file_gz) or
 * out of memory. Malformed lines are skipped and counted in stats: a caller
 * that must not lose data refuses st.first_bad != 0. */
int fra_eng_load(const char *path_gz, int max_words, pairs *out, fra_eng_stats *stats,
                 char *err, size_t errlen);

/* Words of text for the max_words filter: runs of non-space characters
 * (spaces as in word_tokenize) holding at least one character that is not
 * punctuation (the punctuation below or an apostrophe). "Va !" and
 * "Run!" are 1 word, "Il n'y a personne." 4. */
size_t word_count(const char *text);

/* ---------------------------------------------------------- tokenization */

enum { LANG_EN = 0, LANG_FR = 1 };

/* Tokens of one text. Start from {0}; word_tokenize overwrites it (reusing
 * its memory), token_list_free releases it. */
typedef struct token_list {
    size_t n;
    char **tok;                 /* tok[0 .. n-1], NUL-terminated, inside buf */
    char *buf;                  /* the rest is storage, kept between calls */
    size_t len, cap_buf, cap_tok, *off;
} token_list;

/* Word tokenizer for fra-eng (UTF-8 in, UTF-8 out):
 *  - lower case: ASCII A-Z, U+00C0..U+00DE (except U+00D7) -> +0x20
 *    (À -> à ... Þ -> þ), Œ -> œ, Ÿ -> ÿ;
 *  - spaces: ASCII whitespace, U+00A0, U+2009, U+200B, U+202F; U+00AD (soft
 *    hyphen) and invalid UTF-8 bytes are dropped;
 *  - punctuation . , ! ? ; : " « » ( ) is a token of its own, except '.',
 *    ',' and ':' between two ASCII digits ("3:30", "1,000", "2.5");
 *  - apostrophes ' ’ ‘ all become ' and belong to the word when a word
 *    character is on at least one side ("don't", "i'm", "boys'", "'em"); a
 *    lone one is a token "'";
 *  - LANG_FR: after an elided clitic (c d j l m n s t qu jusqu lorsqu puisqu
 *    quoiqu) the word ends after the apostrophe: "l'homme" -> "l'" "homme",
 *    "qu'il" -> "qu'" "il", while "aujourd'hui" and "quelqu'un" stay whole;
 *  - every other character (letters, digits, '-', '$', ...) is part of a
 *    word: "peut-être", "est-ce".
 * -1 only when out of memory. */
int word_tokenize(const char *text, int lang, token_list *t, char *err, size_t errlen);
void token_list_free(token_list *t);

/* ------------------------------------------------------ word vocabularies */

typedef struct word_vocab {
    int lang;    /* LANG_EN or LANG_FR: the language of the text decoded */
    size_t n;    /* ids are 0 .. n-1 */
    const char **word; /* id -> word; word[0..3] = "<pad>", "<s>", "</s>", "<unk>" */
    vocab index; /* word -> id, ids >= TOK_FIRST (see ../common/vocab.h) */
} word_vocab;

/* Counts the tokens (word_tokenize with lang) of the chosen side(s) of the
 * training pairs and keeps the words seen at least min_count times, most
 * frequent first (ties in byte order), at most max_size ids in all (the 4
 * special ids included; max_size <= TOK_FIRST keeps no word). */
int word_vocab_build(word_vocab *v, const pairs *train, int side, int lang, int min_count,
                     size_t max_size, char *err, size_t errlen);
void word_vocab_free(word_vocab *v);
/* The id of one token, TOK_UNK when absent. */
int32_t word_vocab_id(const word_vocab *v, const char *tok);
/* Writes the ids of the tokens (with ENC_START / ENC_END as flags asks),
 * at most cap, and returns the full length (as snprintf). */
size_t word_vocab_encode(const word_vocab *v, const token_list *t, int flags, int32_t *ids,
                         size_t cap);
/* Detokenizes ids into out (NUL-terminated, at most outlen bytes) and
 * returns the full length (as snprintf). TOK_PAD and TOK_START are skipped,
 * TOK_END ends the text, TOK_UNK and ids out of range are "<unk>". Tokens
 * are joined by one space, except: no space before . , ) nor after (; the
 * "..." quotes alternate opening (space before only) and closing (space
 * after only); LANG_EN: no space before ! ? ; : either; LANG_FR: a space
 * before ! ? ; : as French typography (a plain space) and none after an
 * elided clitic ("l'" "homme" -> "l'homme"). */
size_t word_vocab_decode(const word_vocab *v, const int32_t *ids, size_t n, char *out,
                         size_t outlen);

#endif
