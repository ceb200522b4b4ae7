/* SPDX-License-Identifier: Apache-2.0 */
/* Finite-difference gradient checks (suite "gradcheck"), all through common/gradcheck.c.
 * Usage: test_gradcheck PART (one of the names below); meson runs each part as its own test. */
#include <stdio.h>
#include <string.h>

#include "../unit/test_util.h"
#include "gc_tests.h"

static const struct {
    const char *name;
    void (*add)(TCase *);
} PARTS[] = {
    {"harness", gc_add_harness},     {"recurrent", gc_add_recurrent}, {"dense", gc_add_dense},
    {"embedding", gc_add_embedding}, {"simple", gc_add_simple},       {"conv", gc_add_conv},
    {"shape", gc_add_shape},         {"attention", gc_add_attention}, {"model", gc_add_model},
    {"loss", gc_add_loss},           {"compile", gc_add_compile},
    {"layer_normalization", gc_add_layer_normalization},
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc == 2 && i < sizeof PARTS / sizeof PARTS[0]; i++)
        if (strcmp(argv[1], PARTS[i].name) == 0) {
            Suite *s = suite_create("gradcheck");
            TCase *tc = tcase_create(PARTS[i].name);
            tcase_set_timeout(tc, 600);
            PARTS[i].add(tc);
            suite_add_tcase(s, tc);
            return rnn_test_run(s);
        }
    fprintf(stderr, "usage: %s PART, PART one of:", argv[0]);
    for (size_t i = 0; i < sizeof PARTS / sizeof PARTS[0]; i++)
        fprintf(stderr, " %s", PARTS[i].name);
    fprintf(stderr, "\n");
    return 2;
}
