/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded reader of the zip archives Keras writes (stored or deflated
 * entries, no zip64, no encryption), over bytes in memory. */
#ifndef RNN_KERAS_KZIP_H
#define RNN_KERAS_KZIP_H

#include <stddef.h>

/* Finds entry `name` in the archive and returns its bytes in *out (malloc'd,
 * with a NUL after them; free() it) and their count in *len. Refuses an
 * entry larger than `limit` bytes before allocating. Returns 0, or -1 with a
 * message in err (1: no such entry). */
int rnn_kzip_read(const unsigned char *zip, size_t size, const char *name, size_t limit,
                  unsigned char **out, size_t *len, char *err, size_t errlen);

#endif
