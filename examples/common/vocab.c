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

int vocab_same(const vocab *a, const vocab *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->cap; i++)
        if (a->key[i] && vocab_find(b, a->key[i]) != a->id[i])
            return 0;
    return 1;
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

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return len;
}

size_t vocab_escape(const unsigned char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
        if (len) {
            if (out)
                memcpy(out + o, s + i, len);
            o += len, i += len;
        } else if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\' || s[i] >= 0x80) {
            if (out)
                snprintf(out + o, 5, "\\x%02x", s[i]);
            o += 4, i++;
        } else {
            if (out)
                out[o] = (char)s[i];
            o++, i++;
        }
    }
    if (out)
        out[o] = '\0';
    return o;
}

static int hex(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long vocab_unescape(const char *s, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[o++] = (unsigned char)s[i];
            continue;
        }
        if (n - i < 4 || s[i + 1] != 'x' || hex(s[i + 2]) < 0 || hex(s[i + 3]) < 0)
            return -1;
        out[o++] = (unsigned char)(hex(s[i + 2]) * 16 + hex(s[i + 3]));
        i += 3;
    }
    return (long)o;
}

char *vocab_to_text(const vocab *v)
{
    int32_t lo = INT32_MAX;
    for (size_t i = 0; i < v->cap; i++)
        if (v->key[i] && v->id[i] < lo)
            lo = v->id[i];
    const char **by_id = calloc(v->n + 1, sizeof *by_id);
    if (!by_id)
        return NULL;
    size_t len = 1;
    for (size_t i = 0; i < v->cap; i++)
        if (v->key[i] && (size_t)(v->id[i] - lo) < v->n) {
            by_id[v->id[i] - lo] = v->key[i];
            len += vocab_escape((const unsigned char *)v->key[i], strlen(v->key[i]), NULL) + 1;
        }
    char *text = malloc(len), *p = text;
    for (size_t k = 0; text && k < v->n; k++) {
        const char *w = by_id[k] ? by_id[k] : "";
        p += vocab_escape((const unsigned char *)w, strlen(w), p);
        *p++ = '\n';
    }
    if (text)
        *p = '\0';
    free(by_id);
    return text;
}

int vocab_from_text(vocab *v, const char *text, int32_t first_id)
{
    size_t lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    size_t cap = 16;
    while (cap < lines * 2 + 2)
        cap *= 2;
    if (vocab_init(v, cap))
        return -1;
    char *word = malloc(strlen(text) + 1);
    int rc = word ? 0 : -1;
    int32_t id = first_id;
    for (const char *p = text; !rc && *p;) {
        const char *e = strchr(p, '\n');
        if (!e)
            e = p + strlen(p);
        long n = vocab_unescape(p, (size_t)(e - p), (unsigned char *)word);
        if (n <= 0 || memchr(word, '\0', (size_t)n)) {
            rc = -1;
            break;
        }
        word[n] = '\0';
        if (vocab_find(v, word) >= 0 || vocab_add(v, word, 1, id++)) /* each word once */
            rc = -1;
        p = *e ? e + 1 : e;
    }
    free(word);
    if (rc)
        vocab_free(v);
    return rc;
}
