/* SPDX-License-Identifier: Apache-2.0 */
/* Small hostile input files made at test time for the data-loader tests (issue 15): gzip data
 * cut short or with a flipped byte, tar archives with a member cut short, empty files. They need
 * no real data, so these checks run everywhere. */
#ifndef RNN_HOSTILE_FILES_H
#define RNN_HOSTILE_FILES_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char hostile_dir_path[64];

/* Removes the folder and the files in it, at exit. */
static inline void hostile_dir_remove(void)
{
    DIR *d = opendir(hostile_dir_path);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", hostile_dir_path, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(hostile_dir_path);
}

/* A fresh folder for this process's files, removed at exit (Check forks each test: one
 * folder per test). The test file defines _POSIX_C_SOURCE 200809L (mkdtemp). */
static inline const char *hostile_dir(void)
{
    strcpy(hostile_dir_path, "/tmp/rnn-hostile-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(hostile_dir_path));
    atexit(hostile_dir_remove);
    return hostile_dir_path;
}

static inline void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* The gzip file of [p, p + n), in a malloc'd buffer of *out_n bytes. */
static inline unsigned char *gzip_bytes(const void *p, size_t n, size_t *out_n)
{
    z_stream z = {0};
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_n = z.total_out;
    deflateEnd(&z);
    return out;
}

/* Writes the gzip file of [p, p + n) to path, keeping its first `keep` bytes
 * (SIZE_MAX: all) and xor-ing byte `flip` (counted from the end when negative;
 * 0: none) with 0x55. Returns the size of the whole gzip file. */
static inline size_t write_gz(const char *path, const void *p, size_t n, size_t keep, long flip)
{
    size_t gn;
    unsigned char *g = gzip_bytes(p, n, &gn);
    if (flip > 0)
        g[flip] ^= 0x55;
    else if (flip < 0)
        g[(long)gn + flip] ^= 0x55;
    write_bytes(path, g, keep < gn ? keep : gn);
    free(g);
    return gn;
}

/* Appends a ustar member (header, data, padding) to buf at *off; the header's
 * size field says `claimed` bytes (the data given: n). */
static inline void tar_member(unsigned char *buf, size_t *off, const char *name, const char *data,
                              size_t n, size_t claimed)
{
    unsigned char *h = buf + *off;
    memset(h, 0, 512);
    snprintf((char *)h, 100, "%s", name);
    snprintf((char *)h + 100, 8, "%07o", 0644);
    snprintf((char *)h + 108, 8, "%07o", 0);
    snprintf((char *)h + 116, 8, "%07o", 0);
    snprintf((char *)h + 124, 12, "%011zo", claimed);
    snprintf((char *)h + 136, 12, "%011o", 0);
    h[156] = '0';
    memcpy(h + 257, "ustar\0" "00", 8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    *off += 512;
    memcpy(buf + *off, data, n);
    *off += (n + 511) / 512 * 512;
}

#endif
