/* SPDX-License-Identifier: Apache-2.0 */
/* Reader for the golden fixtures written by gen_fixtures.py (test code). */
#ifndef RNN_TEST_FIXTURE_H
#define RNN_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

typedef struct fx_array {
    char name[64];
    int dtype; /* 1 float32, 2 int32 */
    int rank;
    int64_t dims[8];
    int64_t numel;
    void *data;
} fx_array;

typedef struct fx_file {
    int count;
    fx_array *a;
} fx_file;

/* Loads path; returns 0, or -1 with a message in err. Every field and size
 * is checked: a truncated or corrupted file fails cleanly. */
int fx_load(const char *path, fx_file *out, char *err, size_t errlen);
/* The array called name, or NULL. */
const fx_array *fx_get(const fx_file *f, const char *name);
void fx_free(fx_file *f);

#endif
