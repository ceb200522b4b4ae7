/* SPDX-License-Identifier: Apache-2.0 */
/* examples/common/tgz.c on hostile input made at test time (issue 15): gzip data cut short
 * (inside the deflate stream and in its 8-byte trailer), a flipped byte in the deflate data and
 * in the CRC, a .gz that is not gzip or is empty; tar archives with a member cut short, without
 * the end-of-archive block, with a partial header or a corrupt header checksum. Each is refused
 * with the file's name and what is wrong. Needs no real data. Usage: test_tgz */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/common/tgz.h"
#include "hostile_files.h"

/* 20,000 bytes of text: several deflate blocks' worth, compressible. */
static char *some_text(size_t *n)
{
    *n = 20000;
    char *t = malloc(*n);
    for (size_t i = 0; i < *n; i++)
        t[i] = (char)("abcdefghij klmnopq\n"[(i * 7 + i / 13) % 19]);
    return t;
}

/* read_file_gz(path) must fail with a message holding path and want (or want2). */
static void refused2(const char *path, const char *want, const char *want2)
{
    char err[512] = "";
    size_t n = 0;
    char *buf = read_file_gz(path, &n, err, sizeof err);
    ck_assert_msg(buf == NULL, "%s: read %zu bytes, expected an error with \"%s\"", path, n,
                  want);
    ck_assert_msg(strstr(err, path) && (strstr(err, want) || (want2 && strstr(err, want2))),
                  "%s: message \"%s\" lacks \"%s\"", path, err, want);
    printf("%s\n", err);
}

static void refused(const char *path, const char *want)
{
    refused2(path, want, NULL);
}

START_TEST(gzip_intact)
{
    const char *dir = hostile_dir();
    char p[256], err[512];
    size_t n, got;
    char *t = some_text(&n);
    snprintf(p, sizeof p, "%s/ok.gz", dir);
    write_gz(p, t, n, (size_t)-1, 0);
    char *buf = read_file_gz(p, &got, err, sizeof err);
    ck_assert_msg(buf != NULL, "%s", err);
    ck_assert_uint_eq(got, n);
    ck_assert(!memcmp(buf, t, n));
    free(buf);
    snprintf(p, sizeof p, "%s/plain.txt", dir); /* not named .gz: read as it is */
    write_bytes(p, t, n);
    buf = read_file_gz(p, &got, err, sizeof err);
    ck_assert_msg(buf != NULL && got == n, "%s", err);
    free(buf);
    free(t);
}
END_TEST

START_TEST(gzip_truncated)
{
    const char *dir = hostile_dir();
    char p[256];
    size_t n;
    char *t = some_text(&n);
    snprintf(p, sizeof p, "%s/half.gz", dir); /* cut inside the deflate stream */
    size_t gn = write_gz(p, t, n, 0, 0);
    write_gz(p, t, n, gn / 2, 0);
    refused(p, "truncated gzip file (unexpected end of file after ");
    snprintf(p, sizeof p, "%s/trailer.gz", dir); /* every byte of data, half the trailer */
    write_gz(p, t, n, gn - 4, 0);
    refused(p, "truncated gzip file");
    snprintf(p, sizeof p, "%s/header.gz", dir); /* only part of the gzip header */
    write_gz(p, t, n, 5, 0);
    refused(p, "truncated gzip file");
    free(t);
}
END_TEST

START_TEST(gzip_corrupt)
{
    const char *dir = hostile_dir();
    char p[256];
    size_t n;
    char *t = some_text(&n);
    snprintf(p, sizeof p, "%s/crc.gz", dir); /* the CRC-32: the first trailer byte */
    write_gz(p, t, n, (size_t)-1, -8);
    refused(p, "corrupt gzip data (incorrect data check, near byte offset ");
    snprintf(p, sizeof p, "%s/length.gz", dir); /* the length in the trailer */
    write_gz(p, t, n, (size_t)-1, -2);
    refused(p, "corrupt gzip data (incorrect length check");
    /* a byte in the deflate data: zlib finds invalid codes, or reads past the end of the file
     * (the flip changed the block lengths): refused either way */
    snprintf(p, sizeof p, "%s/deflate.gz", dir);
    size_t gn = write_gz(p, t, n, 0, 0);
    for (long at = 12; at < (long)gn - 8; at += 7) {
        write_gz(p, t, n, (size_t)-1, at);
        refused2(p, "corrupt gzip data (", "truncated gzip file (");
    }
    snprintf(p, sizeof p, "%s/plain.gz", dir); /* named .gz, not gzip */
    write_bytes(p, t, n);
    refused(p, "not gzip data (it does not start with the gzip magic bytes 1f 8b)");
    snprintf(p, sizeof p, "%s/empty.gz", dir);
    write_bytes(p, "", 0);
    refused(p, "not gzip data (the file is empty)");
    free(t);
}
END_TEST

typedef struct seen {
    int n;
    char names[4][64];
    size_t sizes[4];
} seen;

static int note(void *user, const char *name, const char *data, size_t size)
{
    (void)data;
    seen *s = user;
    if (s->n < 4) {
        snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
        s->sizes[s->n] = size;
    }
    s->n++;
    return 0;
}

/* Writes the gzip file of tar[0, n) to dir/name and returns tgz_foreach's result. */
static int run_tar(const char *dir, const char *name, const unsigned char *tar, size_t n,
                   seen *s, char *p, char *err, size_t errlen)
{
    snprintf(p, 256, "%s/%s", dir, name);
    write_gz(p, tar, n, (size_t)-1, 0);
    memset(s, 0, sizeof *s);
    err[0] = 0;
    return tgz_foreach(p, note, s, err, errlen);
}

static void tar_refused(int rc, const char *p, const char *err, const char *want)
{
    ck_assert_msg(rc == -1, "%s: tgz_foreach returned %d, expected an error with \"%s\"", p, rc,
                  want);
    ck_assert_msg(strstr(err, p) && strstr(err, want), "%s: message \"%s\" lacks \"%s\"", p, err,
                  want);
    printf("%s\n", err);
}

START_TEST(tar_members)
{
    const char *dir = hostile_dir();
    char p[256], err[512];
    char a[700], b[100];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    unsigned char *tar = calloc(1, 8192);
    size_t off = 0;
    tar_member(tar, &off, "pkg/a.txt", a, sizeof a, sizeof a); /* 512 + 1024 */
    size_t b_at = off;
    tar_member(tar, &off, "pkg/b.txt", b, sizeof b, sizeof b); /* 512 + 512 */
    size_t end = off; /* then two zero blocks */
    seen s;
    /* intact */
    ck_assert_msg(run_tar(dir, "ok.tgz", tar, end + 1024, &s, p, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_int_eq(s.n, 2);
    ck_assert_str_eq(s.names[1], "pkg/b.txt");
    ck_assert_uint_eq(s.sizes[0], sizeof a);
    /* cut inside b's data: the header says 100 bytes, 40 are there */
    int rc = run_tar(dir, "member.tgz", tar, b_at + 512 + 40, &s, p, err, sizeof err);
    tar_refused(rc, p, err, "truncated tar archive (member pkg/b.txt at byte offset 1536: the "
                            "header says 100 bytes, 40 are present)");
    /* cut after b's data and padding: no end-of-archive block */
    rc = run_tar(dir, "noend.tgz", tar, end, &s, p, err, sizeof err);
    tar_refused(rc, p, err, "no end-of-archive block after member pkg/b.txt");
    /* cut inside b's padding */
    rc = run_tar(dir, "padding.tgz", tar, b_at + 512 + 300, &s, p, err, sizeof err);
    tar_refused(rc, p, err, "no end-of-archive block after member pkg/b.txt");
    /* cut inside b's header */
    rc = run_tar(dir, "header.tgz", tar, b_at + 100, &s, p, err, sizeof err);
    tar_refused(rc, p, err, "a partial 100-byte header at byte offset 1536, after member "
                            "pkg/a.txt");
    /* a flipped byte in b's header (its size field): the checksum no longer matches */
    tar[b_at + 124 + 9] ^= 0x01;
    rc = run_tar(dir, "checksum.tgz", tar, end + 1024, &s, p, err, sizeof err);
    tar_refused(rc, p, err, "corrupt tar header at byte offset 1536 (after member pkg/a.txt): "
                            "checksum mismatch");
    free(tar);
}
END_TEST

int main(void)
{
    TCase *tc = tcase_create("tgz");
    tcase_add_test(tc, gzip_intact);
    tcase_add_test(tc, gzip_truncated);
    tcase_add_test(tc, gzip_corrupt);
    tcase_add_test(tc, tar_members);
    Suite *s = suite_create("tgz");
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
