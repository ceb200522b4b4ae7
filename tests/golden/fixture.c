/* SPDX-License-Identifier: Apache-2.0 */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rd(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n;
}

int fx_load(const char *path, fx_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return -1;
    }
    char magic[8];
    uint32_t count;
    if (!rd(f, magic, 8) || memcmp(magic, "RNNFIX01", 8) != 0 || !rd(f, &count, 4) ||
        count == 0 || count > 1000) {
        snprintf(err, errlen, "%s: bad header", path);
        fclose(f);
        return -1;
    }
    out->a = calloc(count, sizeof *out->a);
    if (!out->a) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < count; i++) {
        fx_array *a = &out->a[i];
        uint32_t nl, dt, rank;
        if (!rd(f, &nl, 4) || nl == 0 || nl >= sizeof a->name || !rd(f, a->name, nl) ||
            !rd(f, &dt, 4) || (dt != 1 && dt != 2) || !rd(f, &rank, 4) || rank > 8) {
            snprintf(err, errlen, "%s: bad record %u", path, i);
            goto fail;
        }
        a->dtype = (int)dt;
        a->rank = (int)rank;
        a->numel = 1;
        for (uint32_t k = 0; k < rank; k++) {
            if (!rd(f, &a->dims[k], 8) || a->dims[k] < 0 || a->dims[k] > (1 << 24)) {
                snprintf(err, errlen, "%s: bad dims in %s", path, a->name);
                goto fail;
            }
            a->numel *= a->dims[k];
        }
        if (a->numel > (1 << 24)) {
            snprintf(err, errlen, "%s: %s too large", path, a->name);
            goto fail;
        }
        a->data = malloc((size_t)a->numel * 4 + 1);
        if (!a->data || !rd(f, a->data, (size_t)a->numel * 4)) {
            snprintf(err, errlen, "%s: truncated in %s", path, a->name);
            goto fail;
        }
        out->count = (int)i + 1;
    }
    fclose(f);
    return 0;
fail:
    out->count = (int)count;
    fx_free(out);
    fclose(f);
    return -1;
}

const fx_array *fx_get(const fx_file *f, const char *name)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->a[i].name, name) == 0)
            return &f->a[i];
    return NULL;
}

void fx_free(fx_file *f)
{
    if (f->a)
        for (int i = 0; i < f->count; i++)
            free(f->a[i].data);
    free(f->a);
    f->a = NULL;
    f->count = 0;
}
