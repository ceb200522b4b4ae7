/* SPDX-License-Identifier: Apache-2.0 */
/* What the example programs keep in a saved model's metadata (see
 * rnn_model_set_metadata()): "example" (the program), "task" where a program
 * has several, the vocabulary and the settings --load needs; and the checks
 * that a model given to --load is one this program made, for this task, and
 * that its input and output sizes agree with that metadata. Every function
 * prints its own message ("prog: ...") and returns -1 (or NULL) on failure. */
#ifndef EX_META_H
#define EX_META_H

#include <stdint.h>

#include "rnn.h"

int ex_meta_set(rnn_model *m, const char *prog, const char *key, const char *value);
int ex_meta_set_int(rnn_model *m, const char *prog, const char *key, long long value);

/* rnn_model_load(), then the origin: "example" must be prog and, when task is
 * not NULL, "task" must be task. NULL (message printed) otherwise. */
rnn_model *ex_meta_load(const char *prog, const char *path, const char *task);

/* Metadata key of a model loaded from path; NULL and a message when absent. */
const char *ex_meta_get(const rnn_model *m, const char *prog, const char *path, const char *key);
/* The same, a decimal integer in [lo, hi]. */
int ex_meta_get_int(const rnn_model *m, const char *prog, const char *path, const char *key,
                    long long lo, long long hi, long long *out);

/* The model's Embedding layers, in layer order, must have exactly n of them
 * with these input_dim (vocabulary sizes); its last layer, under any
 * Activation layers, must be a Dense layer of `units` units. Guards the programs' indexing by token and class
 * id against a model whose shapes disagree with its metadata. */
int ex_meta_check_shapes(rnn_model *m, const char *prog, const char *path, int n,
                         const int64_t *input_dim, int64_t units);

/* --precision, the same in every program (a runtime setting, not metadata: a saved model
 * loads in f32): the choices for EX_CHOICE, the usage line, and setting it on a model
 * (1 = "bf16": rnn_model_set_precision(RNN_PRECISION_MIXED_BF16); the message and -1 when
 * the CPU has no native bf16). */
extern const char *const ex_precision_names[];
#define EX_PRECISION_USAGE                                                                  \
    "  --precision P   f32 (default) or bf16: Keras' mixed_bfloat16 (bf16 recurrent kernels\n" \
    "                  and Dense products, f32 weights, loss and optimizer; needs AVX512-BF16\n" \
    "                  or AMX)\n"
int ex_set_precision(rnn_model *m, const char *prog, int precision);

/* --workspace-limit MIB: rnn_set_workspace_limit(MIB << 20). */
#define EX_WORKSPACE_LIMIT_USAGE                                                            \
    "  --workspace-limit MIB  keep at most MIB MiB of each recurrent direction's\n"          \
    "                training workspace, recomputing the rest in backward (less\n"         \
    "                memory, about one more forward pass; rnn_set_workspace_limit(),\n"    \
    "                docs/guide/memory.md; default 0: no limit)\n"

#endif
