/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the files of a .tar.gz (ustar/GNU tar) archive, in memory. */
#ifndef EX_TGZ_H
#define EX_TGZ_H

#include <stddef.h>

/* Called for each regular file; return nonzero to stop (tgz_foreach then
 * returns that value). */
typedef int (*tgz_file_fn)(void *user, const char *name, const char *data, size_t size);

/* Decompresses path and calls fn for every regular file in archive order.
 * Returns 0, fn's nonzero value, or -1 with a message in err naming path:
 * read_file_gz's errors, a header with a bad checksum or size field, a member
 * whose size runs past the end, an archive without its end-of-archive block
 * (all with the member and byte offset). fn may have been called for the
 * members before the error: a caller discards what it collected. */
int tgz_foreach(const char *path, tgz_file_fn fn, void *user, char *err, size_t errlen);

/* Reads a whole file (gzip-compressed or not: zlib reads both) into a
 * NUL-terminated malloc'd buffer. NULL with a message in err naming path on
 * failure: cannot open or read, corrupt gzip data (a bad deflate stream, CRC or
 * length), gzip data cut short ("truncated gzip file"), or a name ending in
 * .gz or .tgz on a file that is not gzip. Never a part of the file. */
char *read_file_gz(const char *path, size_t *size, char *err, size_t errlen);

#endif
