/* SPDX-License-Identifier: Apache-2.0 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "tgz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

char *read_file_gz(const char *path, size_t *size, char *err, size_t errlen)
{
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
        int r = gzread(f, buf + n, (unsigned)(cap - n));
        if (r < 0) {
            int z;
            snprintf(err, errlen, "cannot read %s: %s", path, gzerror(f, &z));
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
    gzclose(f);
    buf[n] = 0;
    *size = n;
    return buf;
}

static size_t octal(const char *p, size_t n)
{
    size_t v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (size_t)(p[i] - '0');
    return v;
}

int tgz_foreach(const char *path, tgz_file_fn fn, void *user, char *err, size_t errlen)
{
    size_t n;
    char *buf = read_file_gz(path, &n, err, errlen);
    if (!buf)
        return -1;
    size_t off = 0;
    int rc = 0;
    while (off + 512 <= n) {
        const char *h = buf + off;
        if (h[0] == 0) /* end-of-archive block */
            break;
        char name[257];
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
        size_t size = octal(h + 124, 12);
        char type = h[156];
        off += 512;
        if (size > n - off) {
            snprintf(err, errlen, "%s: truncated archive (member %s)", path, name);
            rc = -1;
            break;
        }
        if (type == '0' || type == 0) {
            rc = fn(user, name, buf + off, size);
            if (rc)
                break;
        }
        off += (size + 511) / 512 * 512;
    }
    free(buf);
    return rc;
}
