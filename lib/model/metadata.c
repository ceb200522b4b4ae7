/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A model's metadata (model/metadata.h): the public rnn_model_*_metadata
 * functions of include/rnn/io.h and the sorted table that save and load
 * share, with its limits.
 */
#include <string.h>

#include "model/graph.h"
#include "model/metadata.h"
#include "rnn/io.h"

static const char *const reserved[] = {"format", "format_version", "librnn_version",
                                       "architecture", "checksum"};
#define RESERVED_LIST "format, format_version, librnn_version, architecture, checksum and librnn.*"

int rnn__meta_reserved(const char *key)
{
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(key, reserved[i]))
            return 1;
    return !strncmp(key, "librnn.", 7);
}

long rnn__utf8_invalid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (c >= 0x01 && c <= 0x7f) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else
            return (long)i; /* NUL, a continuation byte, 0xc0, 0xc1, 0xf5.. */
        if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
            return (long)i;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return (long)i;
        i += len;
    }
    return -1;
}

rnn_status rnn__meta_check(rnn_status status, const char *func, const char *where,
                           const char *key, size_t klen, const char *value, size_t vlen)
{
    rnn_status st = where ? status : RNN_ERR_INVALID_ARG;
    const char *w = where ? where : "";
    long bad;
    if (klen < 1 || klen > RNN__META_KEY_MAX)
        return rnn__err(st, func, "%skey must be 1 to %d bytes (got %zu: \"%.40s%s\")", w,
                        RNN__META_KEY_MAX, klen, key, klen > 40 ? "..." : "");
    if ((bad = rnn__utf8_invalid(key, klen)) >= 0)
        return rnn__err(st, func, "%skey is not valid UTF-8 without NUL (byte 0x%02x at offset %ld)",
                        w, (unsigned char)key[bad], bad);
    if (!value)
        return RNN_OK;
    if (vlen > RNN__META_VALUE_MAX)
        return rnn__err(st, func, "%svalue of key \"%s\" must be at most %zu bytes (got %zu)", w,
                        key, RNN__META_VALUE_MAX, vlen);
    if ((bad = rnn__utf8_invalid(value, vlen)) >= 0)
        return rnn__err(st, func,
                        "%svalue of key \"%s\" is not valid UTF-8 without NUL (byte 0x%02x at "
                        "offset %ld)",
                        w, key, (unsigned char)value[bad], bad);
    return RNN_OK;
}

/* Index of key in the sorted table, or -(insertion point) - 1. */
static int find(const rnn__meta *tab, int n, const char *key)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2, c = strcmp(tab[mid].key, key);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -lo - 1;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *p = rnn__malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

rnn_status rnn__meta_put(rnn_status status, const char *func, const char *where,
                         rnn__meta **tab, int *n, size_t *total, const char *key,
                         const char *value)
{
    const size_t klen = strlen(key), vlen = value ? strlen(value) : 0;
    const char *w = where ? where : "";
    rnn_status st = rnn__meta_check(status, func, where, key, klen, value, vlen);
    if (st)
        return st;
    st = where ? status : RNN_ERR_INVALID_ARG;
    if (rnn__meta_reserved(key))
        return rnn__err(st, func, "%skey \"%s\" is reserved for the file format (reserved: %s)",
                        w, key, RESERVED_LIST);
    int at = find(*tab, *n, key);
    if (!value) { /* remove: never fails */
        if (at >= 0) {
            *total -= strlen((*tab)[at].key) + strlen((*tab)[at].value);
            rnn__free((*tab)[at].key);
            rnn__free((*tab)[at].value);
            memmove(&(*tab)[at], &(*tab)[at + 1], sizeof **tab * (size_t)(*n - at - 1));
            if (--*n == 0) {
                rnn__free(*tab);
                *tab = NULL;
            }
        }
        return RNN_OK;
    }
    size_t old = at >= 0 ? klen + strlen((*tab)[at].value) : 0;
    size_t now = *total - old + klen + vlen;
    if (now > RNN__META_TOTAL_MAX)
        return rnn__err(st, func,
                        "%skey \"%s\": the metadata would hold %zu bytes of keys and values, more "
                        "than %zu",
                        w, key, now, RNN__META_TOTAL_MAX);
    if (at < 0 && *n >= RNN__META_COUNT_MAX)
        return rnn__err(st, func, "%skey \"%s\": a model holds at most %d metadata keys", w, key,
                        RNN__META_COUNT_MAX);
    char *v = dup_bytes(value, vlen);
    if (!v)
        return rnn__err(RNN_ERR_NOMEM, func, "%sout of memory allocating %zu bytes", w, vlen + 1);
    if (at >= 0) { /* replace */
        rnn__free((*tab)[at].value);
        (*tab)[at].value = v;
        *total = now;
        return RNN_OK;
    }
    char *k = dup_bytes(key, klen);
    rnn__meta *grown = k ? rnn__calloc((size_t)*n + 1, sizeof *grown) : NULL;
    if (!grown) {
        rnn__free(k);
        rnn__free(v);
        return rnn__err(RNN_ERR_NOMEM, func, "%sout of memory allocating %zu bytes", w,
                        k ? sizeof *grown * ((size_t)*n + 1) : klen + 1);
    }
    at = -at - 1;
    if (*n)
        memcpy(grown, *tab, sizeof *grown * (size_t)at);
    grown[at] = (rnn__meta){k, v};
    if (*n)
        memcpy(&grown[at + 1], &(*tab)[at], sizeof *grown * (size_t)(*n - at));
    rnn__free(*tab);
    *tab = grown;
    ++*n;
    *total = now;
    return RNN_OK;
}

void rnn__meta_free(rnn__meta *tab, int n)
{
    for (int i = 0; i < n; i++) {
        rnn__free(tab[i].key);
        rnn__free(tab[i].value);
    }
    rnn__free(tab);
}

rnn_status rnn_model_set_metadata(rnn_model *model, const char *key, const char *value)
{
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(key);
    return rnn__meta_put(RNN_ERR_INVALID_ARG, __func__, NULL, &model->meta, &model->n_meta,
                         &model->meta_bytes, key, value);
}

rnn_status rnn_model_get_metadata(const rnn_model *model, const char *key, const char **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(model);
    RNN__CHECK_ARG(key);
    int at = find(model->meta, model->n_meta, key);
    if (at >= 0)
        *out = model->meta[at].value;
    return RNN_OK;
}

rnn_status rnn_model_metadata_count(const rnn_model *model, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    RNN__CHECK_ARG(model);
    *out = model->n_meta;
    return RNN_OK;
}

rnn_status rnn_model_metadata_key(const rnn_model *model, int index, const char **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(model);
    if (index < 0 || index >= model->n_meta)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", model->n_meta, index);
    *out = model->meta[index].key;
    return RNN_OK;
}
