/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "tgz.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* 1 when path's name says gzip (.gz, .tgz): then it must be gzip data. */
static int named_gzip(const char *path)
{
    size_t n = strlen(path);
    return (n >= 3 && !strcmp(path + n - 3, ".gz")) || (n >= 4 && !strcmp(path + n - 4, ".tgz"));
}

/* After gzread failed or returned 0: says what zlib found wrong, if anything
 * (n: the bytes of data read so far). */
static int gz_failed(gzFile f, const char *path, size_t n, char *err, size_t errlen)
{
    int z;
    const char *msg = gzerror(f, &z);
    if (z == Z_OK)
        return 0;
    size_t pl = strlen(path); /* zlib's message starts with "path: " */
    if (!strncmp(msg, path, pl) && !strncmp(msg + pl, ": ", 2))
        msg += pl + 2;
    if (z == Z_BUF_ERROR) /* the compressed data stops in the middle of a stream */
        snprintf(err, errlen, "%s: truncated gzip file (%s after %zu bytes of data)", path, msg,
                 n);
    else if (z == Z_ERRNO)
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
    else
        snprintf(err, errlen, "%s: corrupt gzip data (%s, near byte offset %lld of the file)",
                 path, msg, (long long)gzoffset(f));
    return -1;
}

char *read_file_gz(const char *path, size_t *size, char *err, size_t errlen)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno ? errno : ENOENT));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            snprintf(err, errlen, "out of memory reading %s", path);
            gzclose(f);
            return NULL;
        }
        size_t want = cap - n < INT_MAX ? cap - n : INT_MAX;
        int r = gzread(f, buf + n, (unsigned)want);
        if (r < 0 || (r == 0 && gz_failed(f, path, n, err, errlen))) {
            if (r < 0)
                gz_failed(f, path, n, err, errlen);
            free(buf);
            gzclose(f);
            return NULL;
        }
        n += (size_t)r;
        if (r == 0)
            break;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    if (named_gzip(path) && gzdirect(f)) {
        snprintf(err, errlen, "%s: not gzip data (%s)", path,
                 n ? "it does not start with the gzip magic bytes 1f 8b" : "the file is empty");
        free(buf);
        gzclose(f);
        return NULL;
    }
    int z = gzclose(f);
    if (z != Z_OK) {
        if (z == Z_BUF_ERROR)
            snprintf(err, errlen, "%s: truncated gzip file (unexpected end of file after %zu bytes "
                     "of data)", path, n);
        else
            snprintf(err, errlen, "cannot read %s: %s", path,
                     z == Z_ERRNO ? strerror(errno ? errno : EIO) : zError(z));
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *size = n;
    return buf;
}

/* A tar number field: octal digits, optionally after spaces and before NUL or
 * spaces. -1 when it is anything else. */
static long long octal(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == ' ')
        i++;
    if (i == n || p[i] < '0' || p[i] > '7')
        return -1;
    long long v = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v > (LLONG_MAX >> 3))
            return -1;
        v = v * 8 + (p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != 0 && p[i] != ' ')
            return -1;
    return v;
}

/* The header checksum: the sum of its bytes with the checksum field as spaces
 * (unsigned, as POSIX; old tars summed signed chars: both are accepted). */
static int header_ok(const char *h)
{
    long long want = octal(h + 148, 8);
    long long u = 0, s = 0;
    for (int i = 0; i < 512; i++) {
        int in_sum = i >= 148 && i < 156;
        u += in_sum ? ' ' : (unsigned char)h[i];
        s += in_sum ? ' ' : (signed char)h[i];
    }
    return want >= 0 && (want == u || want == s);
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int tgz_foreach(const char *path, tgz_file_fn fn, void *user, char *err, size_t errlen)
{
    size_t n;
    char *buf = read_file_gz(path, &n, err, errlen);
    if (!buf)
        return -1;
    size_t off = 0;
    int rc = 0, ended = 0;
    char name[257] = "";
    while (off < n) {
        const char *h = buf + off;
        if (n - off < 512) {
            snprintf(err, errlen, "%s: truncated tar archive (a partial %zu-byte header at byte "
                     "offset %zu, after member %s)", path, n - off, off, *name ? name : "(none)");
            rc = -1;
            break;
        }
        if (all_zero(h, 512)) { /* end-of-archive block */
            ended = 1;
            break;
        }
        char prev[257];
        memcpy(prev, name, sizeof prev);
        size_t plen = strnlen(h + 345, 155);
        if (plen && memcmp(h + 257, "ustar", 5) == 0) { /* ustar prefix */
            memcpy(name, h + 345, plen);
            name[plen] = '/';
            size_t nl = strnlen(h, 100);
            memcpy(name + plen + 1, h, nl);
            name[plen + 1 + nl] = 0;
        } else {
            size_t nl = strnlen(h, 100);
            memcpy(name, h, nl);
            name[nl] = 0;
        }
        long long sz = octal(h + 124, 12);
        if (!header_ok(h) || sz < 0) {
            snprintf(err, errlen, "%s: corrupt tar header at byte offset %zu (after member %s): "
                     "%s", path, off, *prev ? prev : "(none)",
                     sz < 0 ? "the size field is not an octal number" : "checksum mismatch");
            rc = -1;
            break;
        }
        size_t size = (size_t)sz;
        char type = h[156];
        off += 512;
        if (size > n - off) {
            snprintf(err, errlen, "%s: truncated tar archive (member %s at byte offset %zu: the "
                     "header says %zu bytes, %zu are present)", path, name, off - 512, size,
                     n - off);
            rc = -1;
            break;
        }
        if (type == '0' || type == 0) {
            rc = fn(user, name, buf + off, size);
            if (rc)
                break;
        }
        size_t padded = (size + 511) / 512 * 512;
        off += padded <= n - off ? padded : n - off;
    }
    if (!rc && !ended) {
        snprintf(err, errlen, "%s: truncated tar archive (no end-of-archive block after member "
                 "%s, at byte offset %zu)", path, *name ? name : "(none)", off);
        rc = -1;
    }
    free(buf);
    return rc;
}
