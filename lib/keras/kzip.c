/* SPDX-License-Identifier: Apache-2.0 */
/* The zip reader: end-of-central-directory record, central directory,
 * local header, then the entry stored or raw-deflated (zlib) with its CRC-32
 * checked. Every offset and size is checked against the buffer before use;
 * the only allocation is the entry's declared size, bounded by the caller. */
#include "kzip.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EOCD_SIG 0x06054b50u
#define CDIR_SIG 0x02014b50u
#define LOCAL_SIG 0x04034b50u
#define EOCD_LEN 22
#define CDIR_LEN 46
#define LOCAL_LEN 30
#define MAX_ENTRIES 4096

static uint32_t u16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__) < 0 ? -1 : -1)

static int find_eocd(const unsigned char *zip, size_t size, size_t *at)
{
    if (size < EOCD_LEN)
        return -1;
    size_t lo = size > EOCD_LEN + 65535 ? size - EOCD_LEN - 65535 : 0;
    for (size_t i = size - EOCD_LEN + 1; i-- > lo;) {
        if (u32(zip + i) == EOCD_SIG && i + EOCD_LEN + u16(zip + i + 20) == size) {
            *at = i;
            return 0;
        }
    }
    return -1;
}

static int inflate_entry(const unsigned char *src, size_t csize, unsigned char *dst, size_t usize,
                         char *err, size_t errlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return FAIL("zlib cannot start inflating");
    size_t in_done = 0, out_done = 0;
    int rc = Z_OK;
    while (rc == Z_OK) {
        /* zlib counts in uInt: feed and drain at most 1 GiB at a time */
        size_t in_n = csize - in_done, out_n = usize - out_done;
        z.next_in = (unsigned char *)(uintptr_t)(src + in_done);
        z.avail_in = (uInt)(in_n > (1u << 30) ? (1u << 30) : in_n);
        z.next_out = dst + out_done;
        z.avail_out = (uInt)(out_n > (1u << 30) ? (1u << 30) : out_n);
        uInt ai = z.avail_in, ao = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        in_done += ai - z.avail_in;
        out_done += ao - z.avail_out;
        if (rc == Z_OK && ai == z.avail_in && ao == z.avail_out)
            rc = Z_BUF_ERROR; /* no progress: input or output exhausted */
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out_done != usize)
        return FAIL("deflated data is damaged or not the declared %zu bytes", usize);
    return 0;
}

int rnn_kzip_read(const unsigned char *zip, size_t size, const char *name, size_t limit,
                  unsigned char **out, size_t *len, char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    size_t eocd;
    if (find_eocd(zip, size, &eocd))
        return FAIL("not a zip archive (no end-of-central-directory record)");
    const unsigned char *e = zip + eocd;
    uint32_t n = u16(e + 10), cd_size = u32(e + 12), cd_off = u32(e + 16);
    if (u16(e + 4) != 0 || u16(e + 6) != 0 || u16(e + 8) != n)
        return FAIL("multi-part zip archives are not supported");
    if (n == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu)
        return FAIL("zip64 archives are not supported");
    if (n > MAX_ENTRIES)
        return FAIL("zip archive has %u entries (at most %d)", (unsigned)n, MAX_ENTRIES);
    if ((size_t)cd_off > eocd || (size_t)cd_size > eocd - cd_off)
        return FAIL("zip central directory lies outside the file");
    size_t nlen = strlen(name), p = cd_off, end = (size_t)cd_off + cd_size;
    for (uint32_t i = 0; i < n; i++) {
        if (end - p < CDIR_LEN || u32(zip + p) != CDIR_SIG)
            return FAIL("zip central directory entry %u is damaged", (unsigned)i);
        const unsigned char *c = zip + p;
        uint32_t flags = u16(c + 8), method = u16(c + 10), crc = u32(c + 16);
        uint32_t csize = u32(c + 20), usize = u32(c + 24);
        size_t fn = u16(c + 28), extra = u16(c + 30), comment = u16(c + 32);
        uint32_t loff = u32(c + 42);
        if (end - p - CDIR_LEN < fn + extra + comment)
            return FAIL("zip central directory entry %u is damaged", (unsigned)i);
        const unsigned char *fname = c + CDIR_LEN;
        p += CDIR_LEN + fn + extra + comment;
        if (fn != nlen || memcmp(fname, name, nlen) != 0)
            continue;
        if (flags & 1)
            return FAIL("zip entry '%s' is encrypted", name);
        if (method != 0 && method != 8)
            return FAIL("zip entry '%s' uses compression method %u (only stored and deflated "
                        "are supported)", name, (unsigned)method);
        if (csize == 0xffffffffu || usize == 0xffffffffu || loff == 0xffffffffu)
            return FAIL("zip64 entries are not supported ('%s')", name);
        if ((size_t)usize > limit)
            return FAIL("zip entry '%s' has %u bytes (at most %zu)", name, (unsigned)usize, limit);
        if (method == 0 && csize != usize)
            return FAIL("zip entry '%s' is stored with two different sizes", name);
        if ((size_t)loff > cd_off || cd_off - loff < LOCAL_LEN || u32(zip + loff) != LOCAL_SIG)
            return FAIL("zip local header of '%s' is damaged", name);
        size_t data = (size_t)loff + LOCAL_LEN + u16(zip + loff + 26) + u16(zip + loff + 28);
        if (data > cd_off || cd_off - data < csize)
            return FAIL("zip entry '%s' lies outside the file", name);
        unsigned char *buf = malloc((size_t)usize + 1);
        if (!buf)
            return FAIL("out of memory for zip entry '%s' (%u bytes)", name, (unsigned)usize);
        if (method == 0)
            memcpy(buf, zip + data, usize);
        else if (inflate_entry(zip + data, csize, buf, usize, err, errlen)) {
            free(buf);
            return -1;
        }
        uLong sum = crc32(0L, Z_NULL, 0);
        for (size_t at = 0; at < usize; at += 1u << 30) {
            size_t k = usize - at > (1u << 30) ? (1u << 30) : usize - at;
            sum = crc32(sum, buf + at, (uInt)k);
        }
#ifndef RNN_KX_FUZZ_NO_CRC
        if ((uint32_t)sum != crc) {
            free(buf);
            return FAIL("zip entry '%s' fails its CRC-32 check", name);
        }
#else
        (void)sum, (void)crc;
#endif
        buf[usize] = 0;
        *out = buf;
        *len = usize;
        return 0;
    }
    snprintf(err, errlen, "no '%s' in the zip archive", name);
    return 1;
}
