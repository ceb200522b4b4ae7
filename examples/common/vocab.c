/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L
#include "vocab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t slot(const vocab *v, const char *w)
{
    size_t i = hash(w) & (v->cap - 1);
    while (v->key[i] && strcmp(v->key[i], w))
        i = (i + 1) & (v->cap - 1);
    return i;
}

int vocab_init(vocab *v, size_t cap)
{
    memset(v, 0, sizeof *v);
    v->cap = cap;
    v->key = calloc(cap, sizeof *v->key);
    v->id = calloc(cap, sizeof *v->id);
    v->count = calloc(cap, sizeof *v->count);
    if (v->key && v->id && v->count)
        return 0;
    vocab_free(v);
    return -1;
}

void vocab_free(vocab *v)
{
    for (size_t i = 0; v->key && i < v->cap; i++)
        free(v->key[i]);
    free(v->key);
    free(v->id);
    free(v->count);
    memset(v, 0, sizeof *v);
}

int vocab_add(vocab *v, const char *w, int64_t count, int32_t id)
{
    size_t i = slot(v, w);
    if (!v->key[i]) {
        if ((v->n + 1) * 2 > v->cap || !(v->key[i] = strdup(w)))
            return -1;
        v->n++;
        v->id[i] = id;
    }
    v->count[i] += count;
    return 0;
}

int32_t vocab_find(const vocab *v, const char *w)
{
    size_t i = slot(v, w);
    return v->key[i] ? v->id[i] : -1;
}

static const vocab *g_sort;
static int by_count(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (g_sort->count[i] != g_sort->count[j])
        return g_sort->count[i] > g_sort->count[j] ? -1 : 1;
    return strcmp(g_sort->key[i], g_sort->key[j]);
}

int vocab_top(const vocab *counts, size_t max, int32_t first_id, vocab *out)
{
    size_t *order = malloc(sizeof *order * (counts->n ? counts->n : 1)), m = 0;
    if (!order)
        return -1;
    for (size_t i = 0; i < counts->cap; i++)
        if (counts->key[i])
            order[m++] = i;
    g_sort = counts;
    qsort(order, m, sizeof *order, by_count);
    size_t keep = m < max ? m : max, cap = 16;
    while (cap < keep * 2 + 2)
        cap *= 2;
    int rc = vocab_init(out, cap);
    for (size_t k = 0; !rc && k < keep; k++)
        rc = vocab_add(out, counts->key[order[k]], counts->count[order[k]],
                       first_id + (int32_t)k);
    free(order);
    return rc;
}

int vocab_save(const vocab *v, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int32_t lo = INT32_MAX;
    for (size_t i = 0; i < v->cap; i++)
        if (v->key[i] && v->id[i] < lo)
            lo = v->id[i];
    const char **by_id = calloc(v->n + 1, sizeof *by_id);
    for (size_t i = 0; by_id && i < v->cap; i++)
        if (v->key[i] && (size_t)(v->id[i] - lo) < v->n)
            by_id[v->id[i] - lo] = v->key[i];
    for (size_t k = 0; by_id && k < v->n; k++)
        fprintf(f, "%s\n", by_id[k] ? by_id[k] : "");
    int bad = !by_id;
    free(by_id);
    return fclose(f) == 0 && !bad ? 0 : -1;
}

int vocab_load(vocab *v, const char *path, int32_t first_id)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t lines = 0;
    char line[1024];
    while (fgets(line, sizeof line, f))
        lines++;
    rewind(f);
    size_t cap = 16;
    while (cap < lines * 2 + 2)
        cap *= 2;
    int rc = vocab_init(v, cap);
    int32_t id = first_id;
    while (!rc && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        rc = vocab_add(v, line, 1, id++);
    }
    fclose(f);
    return rc;
}
