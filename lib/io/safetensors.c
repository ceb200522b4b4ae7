/* SPDX-License-Identifier: Apache-2.0 */
/* The safetensors framing: atomic writing and checked reading (see
 * safetensors.h). */
#define _GNU_SOURCE 1 /* O_TMPFILE, flock, realpath */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/safetensors.h"

/* 128 MiB of JSON: the architecture is a few MiB at most (4096 layers), the
 * metadata 16 MiB, up to 96 MiB once JSON-escaped (model/metadata.h). */
#define MAX_HEADER (128u << 20)

/* ------------------------------------------------------------ writing */

static int put_u64le(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return 8;
}

/* Writes all of buf or fails with errno set. */
static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* f32 data as little-endian bytes (a no-op copy on little-endian hosts). */
static int write_f32le(int fd, const float *v, int64_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        u = __builtin_bswap32(u);
        if (write_all(fd, &u, 4))
            return -1;
    }
    return 0;
#else
    return write_all(fd, v, (size_t)n * sizeof(float));
#endif
}

int rnn__st_entry(json_t *header, const char *key, int rank, const int64_t *dims,
                  uint64_t *offset)
{
    uint64_t bytes = 4;
    for (int k = 0; k < rank; k++)
        bytes *= (uint64_t)dims[k];
    json_t *te = json_object(), *shape = json_array(), *offs = json_array();
    /* json_object_set_new takes the value's reference even when it fails, so
     * once attached, releasing te releases everything. */
    int bad = !te || json_object_set_new(te, "shape", shape) ||
              json_object_set_new(te, "data_offsets", offs) || !shape || !offs ||
              json_object_set_new(te, "dtype", json_string("F32")) ||
              json_array_append_new(offs, json_integer((json_int_t)*offset)) ||
              json_array_append_new(offs, json_integer((json_int_t)(*offset + bytes)));
    for (int k = 0; !bad && k < rank; k++)
        bad = json_array_append_new(shape, json_integer(dims[k])) != 0;
    if (bad) {
        if (!te) {
            json_decref(shape);
            json_decref(offs);
        }
        json_decref(te);
        return -1;
    }
    if (json_object_set_new(header, key, te))
        return -1;
    *offset += bytes;
    return 0;
}

/*
 * The saved file's mode. A new file gets what open(path, O_CREAT, 0666) gives,
 * as fopen(path, "w") and torch.save() would: 0666 & ~umask, or what the
 * directory's default ACL says where it has one. The temporary file is
 * created with mode 0666 (O_TMPFILE or open(O_CREAT | O_EXCL)) instead of
 * mkstemp() (always 0600, which would need a chmod to the umask afterwards):
 * the kernel applies the umask, so the library never reads it. Reading it is
 * unsafe in a library: umask() reads only by setting it, and a file another
 * thread creates between the set and the restore gets the wrong mode (a lock
 * orders only the library's own calls); /proc/self/status "Umask:" is
 * Linux-only (4.7+) and the fallback would be that race again; and a chmod to
 * 0666 & ~umask would also override a default ACL.
 *
 * A save that replaces an existing file keeps that file's permission bits
 * (the 0777 part; not its owner, group or ACL), as editors do and as programs
 * that rewrite a file in place do (torch.save(), h5py): a checkpoint the user
 * has made private stays private when the next epoch saves over it. The
 * temporary file is then created with those bits (the umask can only remove
 * some, so it is never more open than the file it replaces) and fchmod()ed
 * to exactly them before any byte of the model is written.
 *
 * No temporary file outlives a killed save:
 *  - where the file system has O_TMPFILE (Linux 3.11+: ext4, xfs, btrfs,
 *    tmpfs), the data is written to an unnamed file in path's directory,
 *    which the kernel frees if the process dies; it gets a name
 *    (path + ".tmp-" + 6 characters, by linkat() through /proc/self/fd) only
 *    once complete, and that name is renamed over path at once;
 *  - elsewhere the temporary file is named from the start;
 *  - either way the writer holds an flock() on it until the rename, and every
 *    save first removes the temporaries of the same target that nobody holds
 *    locked (their writer died: the kernel drops a dead process' locks).
 * The 6 characters come from a hash of the time, the process id and a
 * counter; O_EXCL (or linkat's EEXIST) makes a clash, or a planted symbolic
 * link, fail and the next name is tried.
 */
#define TMP_SUFFIX ".tmp-XXXXXX"
static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* Fills the last 6 characters of tmp (path + TMP_SUFFIX) with a fresh name. */
static void temp_name(char *tmp)
{
    static uint64_t counter;
    char *x = tmp + strlen(tmp) - 6;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t h = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)getpid() << 40) ^
                 (__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) * 0x9E3779B97F4A7C15ull);
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull; /* splitmix64's finalizer */
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
    h ^= h >> 31;
    for (int i = 0; i < 6; i++, h /= 62)
        x[i] = ALNUM[h % 62];
}

/* The directory part of path ("." when it has none), malloc()ed. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const size_t n = slash ? (size_t)(slash - path) + (slash == path) : 1;
    char *dir = rnn__malloc(n + 1);
    if (dir) {
        memcpy(dir, slash ? path : ".", n);
        dir[n] = 0;
    }
    return dir;
}

/* Makes the rename of a file in path's directory durable. */
static void sync_dir(const char *path)
{
    char *dir = dir_of(path);
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rnn__free(dir);
}

/* Whether name is base + ".tmp-" + 6 characters of ALNUM. */
static int is_temp_of(const char *name, const char *base)
{
    const size_t b = strlen(base), n = strlen(name);
    if (n != b + sizeof TMP_SUFFIX - 1 || memcmp(name, base, b) ||
        memcmp(name + b, TMP_SUFFIX, sizeof TMP_SUFFIX - 7))
        return 0;
    for (size_t i = n - 6; i < n; i++)
        if (!name[i] || !strchr(ALNUM, name[i]))
            return 0;
    return 1;
}

/* Removes the temporaries of path left by saves that died: regular files
 * named path + ".tmp-??????" that no live writer holds locked. Best effort:
 * a directory that cannot be listed is left alone. */
static void remove_stale(const char *path)
{
    char *dir = dir_of(path);
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d && dfd >= 0)
        close(dfd);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!is_temp_of(e->d_name, base))
            continue;
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat held, now;
        if (fd < 0)
            continue;
        /* Locked: its writer is alive. Unlocked: dead, or it was renamed
         * over path between readdir and open (then the name is gone, or is
         * another file: compare the inodes). */
        if (fstat(fd, &held) == 0 && S_ISREG(held.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
            fstatat(dirfd(d), e->d_name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            now.st_dev == held.st_dev && now.st_ino == held.st_ino) {
            if (unlinkat(dirfd(d), e->d_name, 0) == 0)
                rnn__log(RNN_LOG_INFO, "removed %s/%s, left by a save that did not finish",
                         dir, e->d_name);
        }
        close(fd);
    }
    if (d)
        closedir(d);
    rnn__free(dir);
}

/* Opens the temporary file to write path's new contents into, locked, with
 * the mode described above. *named: whether it has a name yet (tmp, which is
 * path + TMP_SUFFIX); an unnamed one (O_TMPFILE) is named by name_temp().
 * Returns the descriptor, or -1 with errno set (and nothing created). */
static int open_temp(const char *path, char *tmp, int *named)
{
    struct stat old;
    const int replacing = stat(path, &old) == 0 && S_ISREG(old.st_mode);
    const mode_t mode = replacing ? (old.st_mode & 0777) : 0666;
    int fd = -1;
#ifdef O_TMPFILE
    char *dir = dir_of(path);
    if (!dir)
        return errno = ENOMEM, -1;
    /* naming it later goes through /proc/self/fd (linkat's AT_EMPTY_PATH
     * needs a capability): without /proc, a named file from the start */
    fd = access("/proc/self/fd", X_OK) == 0 ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode)
                                            : (errno = EOPNOTSUPP, -1);
    rnn__free(dir);
    if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -1; /* e.g. EACCES: a named file would fail the same way */
#endif
    *named = fd < 0;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        temp_name(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST)
            return -1;
        struct stat s;
        /* remove_stale() in another process may have taken it between the
         * open and the lock (then it is unlinked): take another name. */
        if (fd >= 0 && (flock(fd, LOCK_EX) != 0 || fstat(fd, &s) != 0 || s.st_nlink == 0)) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0)
        return errno = EEXIST, -1;
    if ((!*named && flock(fd, LOCK_EX) != 0) || (replacing && fchmod(fd, mode) != 0)) {
        int e = errno;
        close(fd);
        if (*named)
            unlink(tmp);
        errno = e;
        return -1;
    }
    return fd;
}

/* Gives the complete unnamed temporary file fd the name tmp. */
static int name_temp(int fd, char *tmp)
{
    char proc[40];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    for (int attempt = 0; attempt < 100; attempt++) {
        temp_name(tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) == 0 ||
            (errno != EEXIST && linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH) == 0))
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

/* Writes everything into the open temporary file fd. */
static int write_body(int fd, const char *header_s, const rnn__st_data *data, size_t n_data)
{
    size_t hlen = strlen(header_s), padded = (hlen + 7) & ~(size_t)7;
    unsigned char len8[8];
    put_u64le(len8, padded);
    int werr = write_all(fd, len8, 8) || write_all(fd, header_s, hlen) ||
               write_all(fd, "        ", padded - hlen);
    for (size_t i = 0; !werr && i < n_data; i++)
        werr = write_f32le(fd, data[i].p, data[i].n);
    return werr;
}

static rnn_status write_file(const char *func, const char *path, json_t *header,
                             const rnn__st_data *data, size_t n_data);

/* Where a save to path writes: path itself, or when path is a symbolic link
 * the file it points to (as `>` in a shell and fopen(path, "w") do; replacing
 * the link by a file would silently cut it). *out is malloc()ed when not
 * path. A dangling link names the file to create, relative to the link's
 * directory. */
static rnn_status resolve_link(const char *func, const char *path, char **out)
{
    *out = NULL;
    struct stat ls;
    if (lstat(path, &ls) != 0 || !S_ISLNK(ls.st_mode))
        return RNN_OK;
    if ((*out = realpath(path, NULL)))
        return RNN_OK;
    char target[4096];
    ssize_t n = errno == ENOENT ? readlink(path, target, sizeof target - 1) : -1;
    if (n <= 0)
        return rnn__err(RNN_ERR_IO, func, "cannot follow the symbolic link %s: %s", path,
                        strerror(errno));
    target[n] = 0;
    const char *slash = strrchr(path, '/');
    const size_t dir = target[0] == '/' || !slash ? 0 : (size_t)(slash - path) + 1;
    if (!(*out = malloc(dir + (size_t)n + 1)))
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory");
    memcpy(*out, path, dir);
    memcpy(*out + dir, target, (size_t)n + 1);
    return RNN_OK;
}

rnn_status rnn__st_write(const char *func, const char *path, json_t *header,
                         const rnn__st_data *data, size_t n_data)
{
    char *real;
    rnn_status st = resolve_link(func, path, &real);
    if (st)
        return st;
    if (real)
        path = real;
    remove_stale(path);
    st = write_file(func, path, header, data, n_data);
    free(real);
    return st;
}

/* rnn__st_write to a path that is not a symbolic link. */
static rnn_status write_file(const char *func, const char *path, json_t *header,
                             const rnn__st_data *data, size_t n_data)
{
    rnn_status st = RNN_OK;
    char *header_s = json_dumps(header, JSON_COMPACT | JSON_SORT_KEYS);
    size_t plen = strlen(path);
    char *tmp = rnn__malloc(plen + sizeof TMP_SUFFIX);
    if (!header_s || !tmp) {
        free(header_s);
        rnn__free(tmp);
        return rnn__err(RNN_ERR_NOMEM, func, "out of memory while building the file header");
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, TMP_SUFFIX, sizeof TMP_SUFFIX);
    int named = 0, fd = open_temp(path, tmp, &named);
    if (fd < 0) {
        st = errno == ENOMEM ? rnn__err(RNN_ERR_NOMEM, func, "out of memory")
                             : rnn__err(RNN_ERR_IO, func, "cannot create a temporary file "
                                                          "beside %s: %s",
                                        path, strerror(errno));
        named = 0; /* nothing of ours to unlink */
        goto done;
    }
    if (write_body(fd, header_s, data, n_data) || fsync(fd) != 0) {
        st = rnn__err(RNN_ERR_IO, func, "cannot write %s: %s", named ? tmp : path,
                      strerror(errno));
        goto done;
    }
    if (!named && name_temp(fd, tmp) != 0) {
        st = rnn__err(RNN_ERR_IO, func, "cannot link the temporary file beside %s: %s", path,
                      strerror(errno));
        goto done;
    }
    named = 1;
    if (rename(tmp, path) != 0) {
        st = rnn__err(RNN_ERR_IO, func, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto done;
    }
    named = 0; /* renamed: nothing left to unlink */
    sync_dir(path);
done:
    if (named)
        unlink(tmp);
    if (fd >= 0 && close(fd) != 0 && !st)
        st = rnn__err(RNN_ERR_IO, func, "cannot write %s: %s", path, strerror(errno));
    rnn__free(tmp);
    free(header_s);
    return st;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint64_t fnv_i64(uint64_t h, json_int_t v)
{
    unsigned char b[8];
    put_u64le(b, (uint64_t)v);
    return rnn__st_fnv(h, b, 8);
}

int rnn__st_hash_entries(const json_t *header, uint64_t *h)
{
    const size_t n = json_object_size(header);
    const char **keys = rnn__malloc((n ? n : 1) * sizeof *keys);
    if (!keys)
        return -1;
    size_t k = 0;
    const char *key;
    json_t *te;
    json_object_foreach((json_t *)header, key, te) {
        if (strcmp(key, "__metadata__"))
            keys[k++] = key;
    }
    qsort(keys, k, sizeof *keys, by_key);
    for (size_t i = 0; i < k; i++) {
        te = json_object_get(header, keys[i]);
        const char *dt = json_string_value(json_object_get(te, "dtype"));
        const json_t *shape = json_object_get(te, "shape");
        const json_t *offs = json_object_get(te, "data_offsets");
        *h = rnn__st_fnv(*h, keys[i], strlen(keys[i]) + 1);
        *h = rnn__st_fnv(*h, dt ? dt : "", (dt ? strlen(dt) : 0) + 1);
        *h = fnv_i64(*h, (json_int_t)json_array_size(shape));
        for (size_t d = 0; d < json_array_size(shape); d++)
            *h = fnv_i64(*h, json_integer_value(json_array_get(shape, d)));
        *h = fnv_i64(*h, json_integer_value(json_array_get(offs, 0)));
        *h = fnv_i64(*h, json_integer_value(json_array_get(offs, 1)));
    }
    rnn__free(keys);
    return 0;
}

uint64_t rnn__st_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* ------------------------------------------------------------ reading */

rnn_status rnn__st_format_error(const rnn__st_file *f, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rnn__err(RNN_ERR_FORMAT, f->func, "%s: %s", f->path, msg);
}

static rnn_status read_at(const rnn__st_file *f, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n) {
        ssize_t r = pread(f->fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? rnn__err(RNN_ERR_IO, f->func, "%s: read failed: %s", f->path,
                                    strerror(errno))
                         : rnn__st_format_error(f, "file is truncated");
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return RNN_OK;
}

static int by_start(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

rnn_status rnn__st_hash_data(const rnn__st_file *f, uint64_t *h)
{
    const size_t chunk = (size_t)1 << 20;
    unsigned char *buf = rnn__malloc(chunk);
    if (!buf)
        return rnn__err(RNN_ERR_NOMEM, f->func, "out of memory allocating %zu bytes", chunk);
    rnn_status st = RNN_OK;
    for (uint64_t at = 0; at < f->data_size && !st; at += chunk) {
        const size_t n = f->data_size - at < chunk ? (size_t)(f->data_size - at) : chunk;
        if (!(st = read_at(f, buf, n, f->data_off + at)))
            *h = rnn__st_fnv(*h, buf, n);
    }
    rnn__free(buf);
    return st;
}

rnn_status rnn__st_check_disjoint(const rnn__st_file *f)
{
    /* Every entry but __metadata__ is a tensor, and each was read once. */
    const size_t entries = json_object_size(f->header) -
                           (json_object_get(f->header, "__metadata__") != NULL);
    if (entries != f->n_ranges)
        return rnn__st_format_error(f, "the header lists %zu tensors, the model reads %zu: "
                                       "a file holds exactly the model's tensors",
                                    entries, f->n_ranges);
    if (f->n_ranges < 2)
        return RNN_OK;
    qsort(f->ranges, f->n_ranges, sizeof *f->ranges, by_start);
    for (size_t i = 1; i < f->n_ranges; i++)
        if (f->ranges[i][0] < f->ranges[i - 1][1])
            return rnn__st_format_error(f,
                                        "two tensors share bytes %llu..%llu of the data: "
                                        "each tensor must have its own",
                                        (unsigned long long)f->ranges[i][0],
                                        (unsigned long long)f->ranges[i - 1][1]);
    return RNN_OK;
}

rnn_status rnn__st_read(rnn__st_file *f, const char *key, int rank, const int64_t *dims,
                        float *dst)
{
    json_t *te = json_object_get(f->header, key), *shape_j = json_object_get(te, "shape");
    json_t *offs = json_object_get(te, "data_offsets");
    const char *dt = json_string_value(json_object_get(te, "dtype"));
    int ok = te && dt && !strcmp(dt, "F32") && json_is_array(shape_j) &&
             json_array_size(shape_j) == (size_t)rank && json_is_array(offs) &&
             json_array_size(offs) == 2;
    uint64_t numel = 1;
    for (int d = 0; ok && d < rank; d++) {
        ok = json_integer_value(json_array_get(shape_j, (size_t)d)) == dims[d];
        numel *= (uint64_t)dims[d];
    }
    json_int_t b0 = json_integer_value(json_array_get(offs, 0));
    json_int_t b1 = json_integer_value(json_array_get(offs, 1));
    ok = ok && b0 >= 0 && b1 >= b0 && (uint64_t)b1 <= f->data_size &&
         (uint64_t)(b1 - b0) == numel * 4;
    if (!ok)
        return rnn__st_format_error(
            f, "tensor \"%s\" is missing or has the wrong dtype, shape or offsets", key);
    if (f->n_ranges == f->cap_ranges) {
        size_t cap = f->cap_ranges ? 2 * f->cap_ranges : 64;
        uint64_t(*r)[2] = rnn__calloc(cap, sizeof *r);
        if (!r)
            return rnn__err(RNN_ERR_NOMEM, f->func, "out of memory allocating %zu bytes",
                            cap * sizeof *r);
        if (f->n_ranges)
            memcpy(r, f->ranges, f->n_ranges * sizeof *r);
        rnn__free(f->ranges);
        f->ranges = r;
        f->cap_ranges = cap;
    }
    f->ranges[f->n_ranges][0] = (uint64_t)b0;
    f->ranges[f->n_ranges++][1] = (uint64_t)b1;
    rnn_status st = read_at(f, dst, (size_t)numel * 4, f->data_off + (uint64_t)b0);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (uint64_t q = 0; !st && q < numel; q++) {
        uint32_t u;
        memcpy(&u, dst + q, 4);
        u = __builtin_bswap32(u);
        memcpy(dst + q, &u, 4);
    }
#endif
    return st;
}

rnn_status rnn__st_open(const char *func, const char *path, rnn__st_file *f)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    f->func = func;
    /* Non-blocking, so that opening a FIFO does not wait for a writer; the
     * descriptor is made blocking again once it is known to be a file. */
    f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (f->fd < 0)
        return rnn__err(RNN_ERR_IO, func, "cannot open %s: %s", path, strerror(errno));
    rnn_status st;
    char *hbuf = NULL;
    struct stat sb;
    if (fstat(f->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = rnn__err(RNN_ERR_IO, func, "%s is not a regular file", path);
        goto fail;
    }
    fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK);
    const uint64_t size = (uint64_t)sb.st_size;
    unsigned char len8[8];
    if (size < 8) {
        st = rnn__st_format_error(f, "file is truncated (%llu bytes)", (unsigned long long)size);
        goto fail;
    }
    if ((st = read_at(f, len8, 8, 0)))
        goto fail;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | len8[i];
    if (hlen < 2 || hlen > MAX_HEADER || hlen > size - 8) {
        st = rnn__st_format_error(f,
                                  "header size %llu does not fit the file (%llu bytes): not a "
                                  "model file or truncated",
                                  (unsigned long long)hlen, (unsigned long long)size);
        goto fail;
    }
    if (!(hbuf = rnn__malloc((size_t)hlen))) {
        st = rnn__err(RNN_ERR_NOMEM, func, "out of memory allocating %llu bytes",
                      (unsigned long long)hlen);
        goto fail;
    }
    if ((st = read_at(f, hbuf, (size_t)hlen, 8)))
        goto fail;
    json_error_t je;
    f->header = json_loadb(hbuf, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(f->header)) {
        st = rnn__st_format_error(f, "header is not a JSON object (%.120s at offset %d)", je.text,
                                  je.position);
        goto fail;
    }
    rnn__free(hbuf);
    f->data_off = 8 + hlen;
    f->data_size = size - 8 - hlen;
    return RNN_OK;
fail:
    rnn__free(hbuf);
    rnn__st_close(f);
    return st;
}

void rnn__st_close(rnn__st_file *f)
{
    rnn__free(f->ranges);
    f->ranges = NULL;
    f->n_ranges = f->cap_ranges = 0;
    json_decref(f->header);
    f->header = NULL;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}
