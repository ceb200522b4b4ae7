/* SPDX-License-Identifier: Apache-2.0 */
/* The shared part of the loader tests' mains: arguments, the real-data check, the runner.
 * The loader tests do not link librnn, so this stays apart from tests/unit/test_util.h. */
#ifndef RNN_DATA_TEST_H
#define RNN_DATA_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* argv[1]: the fixtures directory; argv[2] (optional): ../shared/data. */
static const char *fixtures, *data_dir;

/* 1 when data_dir/relpath can be opened; otherwise says which check is skipped. */
static inline int have_data_file(const char *relpath, const char *check)
{
    char p[1024];
    FILE *f = NULL;
    if (data_dir) {
        snprintf(p, sizeof p, "%s/%s", data_dir, relpath);
        f = fopen(p, "rb");
    }
    if (!f) {
        printf("%s is absent: the %s is skipped\n", data_dir ? p : "../shared/data", check);
        return 0;
    }
    fclose(f);
    return 1;
}

/* Parses the arguments into fixtures/data_dir; 0 on a usage error. */
static inline int data_test_args(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR [SHARED_DATA_DIR]\n", argv[0]);
        return 0;
    }
    fixtures = argv[1];
    data_dir = argc > 2 ? argv[2] : NULL;
    return 1;
}

/* Runs a one-case suite (120 s timeout); returns the exit status. */
static inline int data_test_run(const char *name, TCase *tc)
{
    Suite *s = suite_create(name);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
