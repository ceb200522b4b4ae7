/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the Check test programs. */
#ifndef RNN_TEST_UTIL_H
#define RNN_TEST_UTIL_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rnn.h"

/* Asserts a call's status, printing rnn_last_error() when it differs. */
#define ck_rnn(call, expected)                                                             \
    do {                                                                                   \
        rnn_status st_ = (call);                                                           \
        ck_assert_msg(st_ == (expected), "%s returned %d (%s), expected %d; last error: %s", \
                      #call, (int)st_, rnn_status_string(st_), (int)(expected),              \
                      rnn_last_error());                                                   \
    } while (0)

#define ck_ok(call) ck_rnn(call, RNN_OK)

/* Asserts the last error message contains a substring. */
#define ck_errmsg(substr)                                                                  \
    ck_assert_msg(strstr(rnn_last_error(), (substr)) != NULL,                              \
                  "last error \"%s\" does not contain \"%s\"", rnn_last_error(), (substr))

/* Runs one suite, printing Check's summary line; returns the exit status. */
static inline int rnn_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* A uniform float in [-1, 1) from a xorshift64 state (reproducible test data). */
static inline float rnn_test_uniform(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (float)((*state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* max over i of |a[i] - b[i]| / (1 + |b[i]|): b is the reference. */
static inline double rnn_test_max_rel_err(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (d > m)
            m = d;
    }
    return m;
}

/* max |a[i] - b[i]| over max |b[i]| (b is the reference): for long float sums, whose
 * elementwise relative error grows where terms cancel, while a misplaced row or step is off
 * by O(1). */
static inline double rnn_test_norm_rel(const float *a, const float *b, int64_t n)
{
    double d = 0, m = 1e-6;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / m;
}

#endif
