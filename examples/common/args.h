/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line options of the example programs: one table per program, one parser, the same
 * messages everywhere ("PROG: --epochs must be a whole number in [1, 100000] (got "x")"); and
 * one way of finding the data folder (ex_data_dir: --data, $LIBRNN_DATA, the installed default). */
#ifndef EX_ARGS_H
#define EX_ARGS_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum ex_opt_type {
    EX_FLAG,   /* int *: set to 1, takes no value */
    EX_STRING, /* const char **: the value as given */
    EX_INT,    /* int *: a whole number in [lo, hi] */
    EX_LONG,   /* long * */
    EX_INT64,  /* int64_t * */
    EX_U64,    /* uint64_t * */
    EX_DOUBLE, /* double *: a finite number in [lo, hi] */
    EX_FLOAT,  /* float * */
    EX_CHOICE  /* int *: the index of the value in choices (NULL-terminated) */
} ex_opt_type;

/* Seeds go through a double: every whole number up to 2^53 is exact. */
#define EX_MAX_SEED 9007199254740992.0

typedef struct ex_opt {
    const char *name; /* "--epochs" */
    ex_opt_type type;
    void *dst;
    double lo, hi;              /* numbers: the accepted range, bounds included */
    const char *const *choices; /* EX_CHOICE */
} ex_opt;

/* Parses argv[1..] against the n options. --help and -h print usage(stdout) and exit(0).
 * Returns 0, or -1 after printing "PROG: what is wrong (see --help)" on stderr; options
 * not given keep the values their destinations had. */
int ex_parse_args(const char *prog, int argc, char **argv, const ex_opt *opts, size_t n,
                  void (*usage)(FILE *));

/* The installed data folder, <prefix>/<datadir>/librnn/data: examples/meson.build passes it from
 * the install prefix (never a source or build-tree path). */
#ifndef EX_DEFAULT_DATA
#define EX_DEFAULT_DATA "/usr/local/share/librnn/data"
#endif
/* The environment variable naming the data folder when --data is not given. */
#define EX_DATA_ENV "LIBRNN_DATA"

/* The data folder (a folder laid out as ../shared/data): `given` (the --data value; NULL when the
 * option was not given), else $LIBRNN_DATA when set and not empty, else EX_DEFAULT_DATA. `needed`
 * is a file the program reads, relative to the folder ("brown/en-brown.map"). Returns the folder,
 * or NULL after printing on stderr the file it looked for, where that folder came from and the
 * three ways to give it. */
const char *ex_data_dir(const char *prog, const char *given, const char *needed);

/* Exits with status 1 and rnn_last_error() when an rnn_status call fails. */
#define EX_CHECK(prog, call)                                                                \
    do {                                                                                    \
        if ((call) != RNN_OK) {                                                             \
            fprintf(stderr, "%s: %s\n", (prog), rnn_last_error());                          \
            exit(1);                                                                        \
        }                                                                                   \
    } while (0)

#endif
