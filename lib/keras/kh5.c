/* SPDX-License-Identifier: Apache-2.0 */
/* The HDF5 side of librnn-keras: a bounded reader for the part of the HDF5
 * file format that h5py writes by default (libver "earliest", what Keras 3's
 * save_weights and .keras files hold), on bytes in memory.
 *
 * libhdf5 is not hardened against malformed files: fuzzing librnn-keras
 * found it allocating from one changed byte, reading past its own buffers
 * and copying from a NULL buffer after a failed terabyte allocation, each
 * in a different structure. So this reader parses the files itself, and
 * every address, length and count it takes from the file is checked
 * against the image before use: nothing is allocated from the file's
 * numbers, B-tree walks have a node budget and strictly decreasing levels,
 * object header continuations are bounded, names must end inside their
 * heap.
 *
 * Covered (anything else is refused with a message naming it): superblock
 * versions 0 and 1; version 1 object headers and their continuations;
 * groups as symbol tables (version 1 B-tree, symbol nodes, local heap) or
 * as compact link messages; datasets with a version 1 or 2 dataspace, an
 * IEEE float datatype (32 or 64 bits, either byte order) and a compact or
 * contiguous layout (messages 1 to 4), no filters and no external
 * storage. The specification is "HDF5 File Format Specification Version
 * 3.0" of the HDF Group. */
#include "kh5.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rnn_kh5 {
    const unsigned char *p;
    size_t size;
    int so, sl;    /* sizes of offsets and of lengths, in bytes */
    uint64_t root; /* the root group's object header */
};

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__) < 0 ? -1 : -1)
#define UNDEF UINT64_MAX /* an undefined address, all bits set, widened */

enum {
    MSG_DATASPACE = 0x01,
    MSG_LINK_INFO = 0x02,
    MSG_DATATYPE = 0x03,
    MSG_LINK = 0x06,
    MSG_EXTERNAL = 0x07,
    MSG_LAYOUT = 0x08,
    MSG_FILTERS = 0x0b,
    MSG_CONTINUATION = 0x10,
    MSG_SYMBOL_TABLE = 0x11,
    MAX_CONTINUATIONS = 64,
    MAX_RANK = 32,
    BTREE_BUDGET = 1 << 20, /* nodes and entries visited in one group walk */
    BTREE_MAX_LEVEL = 64
};

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* An address (offset-sized), widened; all bits set is UNDEF. */
static uint64_t addr(const rnn_kh5 *h, const unsigned char *p)
{
    uint64_t v = le(p, h->so);
    return h->so < 8 && v == (UINT64_C(1) << (8 * h->so)) - 1 ? UNDEF : v;
}

/* The n bytes at file offset at, or NULL when they are not all inside. */
static const unsigned char *at(const rnn_kh5 *h, uint64_t off, uint64_t n)
{
    if (off == UNDEF || off > h->size || n > h->size - off)
        return NULL;
    return h->p + off;
}

/* ---- object headers ---------------------------------------------------- */

typedef int (*msg_fn)(void *ctx, int type, int flags, const unsigned char *m, size_t len);

/* Calls fn on every message of the version 1 object header at off (fn
 * returning non-zero stops the walk and is returned); -1 for a damaged or
 * unsupported header, with err set (err may be NULL when errlen is 0). */
static int header_walk(const rnn_kh5 *h, uint64_t off, msg_fn fn, void *ctx, char *err,
                       size_t errlen)
{
    const unsigned char *o = at(h, off, 16);
    if (!o)
        return FAIL("HDF5 object header at %llu lies outside the file (damaged)",
                    (unsigned long long)off);
    if (!memcmp(o, "OHDR", 4))
        return FAIL("HDF5 object header version 2 (h5py libver='latest') is not supported; "
                    "save with h5py's default");
    if (o[0] != 1)
        return FAIL("HDF5 object header version %d is not supported (damaged?)", o[0]);
    uint64_t left = le(o + 2, 2); /* messages still to read */
    uint64_t blk[MAX_CONTINUATIONS][2] = {{off + 16, le(o + 8, 4)}};
    int nblk = 1;
    for (int b = 0; b < nblk && left > 0; b++) {
        const unsigned char *m = at(h, blk[b][0], blk[b][1]);
        if (!m)
            return FAIL("HDF5 object header at %llu runs past the file (damaged)",
                        (unsigned long long)off);
        for (uint64_t pos = 0; left > 0 && blk[b][1] - pos >= 8; left--) {
            const int type = (int)le(m + pos, 2), flags = m[pos + 4];
            const uint64_t len = le(m + pos + 2, 2);
            pos += 8;
            if (len > blk[b][1] - pos)
                return FAIL("HDF5 object header at %llu has a message past its end (damaged)",
                            (unsigned long long)off);
            if (type == MSG_CONTINUATION) {
                if (len < (uint64_t)(h->so + h->sl) || nblk == MAX_CONTINUATIONS)
                    return FAIL("HDF5 object header at %llu has a bad continuation (damaged)",
                                (unsigned long long)off);
                blk[nblk][0] = addr(h, m + pos);
                blk[nblk][1] = le(m + pos + h->so, h->sl);
                nblk++;
            } else {
                int rc = fn(ctx, type, flags, m + pos, (size_t)len);
                if (rc)
                    return rc;
            }
            pos += len;
        }
    }
    return 0;
}

/* ---- groups ------------------------------------------------------------ */

typedef struct {
    const rnn_kh5 *h;
    const char *name; /* looked up, or NULL to count */
    size_t nlen;
    uint64_t found; /* object header of name, or UNDEF */
    long count;
    int budget;
    const unsigned char *heap; /* the local heap's data segment */
    uint64_t heap_len;
    int group;  /* the header held a symbol table or links */
    int symtab; /* a symbol table message: btree and lheap */
    uint64_t btree, lheap;
} group_walk;

/* One link: name (len bytes, not NUL-terminated) to object header obj. */
static void link_seen(group_walk *g, const unsigned char *name, size_t len, uint64_t obj)
{
    g->count++;
    if (g->name && g->found == UNDEF && len == g->nlen && !memcmp(name, g->name, len))
        g->found = obj;
}

/* The symbol node (SNOD) at off: its entries' names are in the heap. */
static int snod(group_walk *g, uint64_t off)
{
    const rnn_kh5 *h = g->h;
    const unsigned char *s = at(h, off, 8);
    if (!s || memcmp(s, "SNOD", 4) || s[4] != 1)
        return -1;
    const uint64_t n = le(s + 6, 2), esz = 2 * (uint64_t)h->so + 24;
    g->budget -= (int)n;
    if (g->budget < 0 || !(s = at(h, off + 8, n * esz)))
        return -1;
    for (uint64_t i = 0; i < n; i++, s += esz) {
        const uint64_t noff = le(s, h->so);
        if (noff >= g->heap_len)
            return -1;
        const unsigned char *nm = g->heap + noff;
        const unsigned char *end = memchr(nm, 0, g->heap_len - noff);
        if (!end)
            return -1;
        link_seen(g, nm, (size_t)(end - nm), addr(h, s + h->so));
    }
    return 0;
}

/* The group B-tree node (TREE, type 0) at off, whose level must be level
 * (-1: the root, any level up to BTREE_MAX_LEVEL). */
static int btree(group_walk *g, uint64_t off, int level)
{
    const rnn_kh5 *h = g->h;
    const unsigned char *t = at(h, off, 8 + 2 * (uint64_t)h->so);
    if (!t || memcmp(t, "TREE", 4) || t[4] != 0)
        return -1;
    if ((level >= 0 && t[5] != level) || t[5] > BTREE_MAX_LEVEL)
        return -1;
    level = t[5];
    const uint64_t n = le(t + 6, 2), step = (uint64_t)h->sl + h->so;
    const uint64_t kids = off + 8 + 2 * (uint64_t)h->so;
    g->budget -= 1 + (int)n;
    if (g->budget < 0 || !(t = at(h, kids, n * step + h->sl)))
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t child = addr(h, t + i * step + h->sl);
        if (level ? btree(g, child, level - 1) : snod(g, child))
            return -1;
    }
    return 0;
}

/* Link message: hard links are the group's children; soft and external
 * links are counted but lead nowhere. */
static int link_msg(group_walk *g, const unsigned char *m, size_t len)
{
    const rnn_kh5 *h = g->h;
    if (len < 2 || m[0] != 1)
        return -1;
    const int fl = m[1];
    size_t pos = 2;
    int type = 0;
    if (fl & 0x08) {
        if (pos + 1 > len)
            return -1;
        type = m[pos++];
    }
    pos += (fl & 0x04 ? 8 : 0) + (fl & 0x10 ? 1 : 0);
    const size_t lsz = (size_t)1 << (fl & 3);
    if (pos + lsz > len)
        return -1;
    const uint64_t nlen = le(m + pos, (int)lsz);
    pos += lsz;
    if (nlen > len - pos)
        return -1;
    const unsigned char *name = m + pos;
    pos += (size_t)nlen;
    uint64_t obj = UNDEF;
    if (type == 0) {
        if (pos + (size_t)h->so > len)
            return -1;
        obj = addr(h, m + pos);
    }
    link_seen(g, name, (size_t)nlen, obj);
    return 0;
}

static int group_msg(void *ctx, int type, int flags, const unsigned char *m, size_t len)
{
    group_walk *g = ctx;
    (void)flags;
    if (type == MSG_SYMBOL_TABLE && len >= 2 * (size_t)g->h->so) {
        g->group = g->symtab = 1;
        g->btree = addr(g->h, m);
        g->lheap = addr(g->h, m + g->h->so);
    } else if (type == MSG_LINK) {
        g->group = 1;
        return link_msg(g, m, len) ? 2 : 0;
    } else if (type == MSG_LINK_INFO) {
        /* dense link storage (a fractal heap) is not read */
        const size_t at_heap = 2 + (len >= 2 && (m[1] & 1) ? 8 : 0);
        if (len < at_heap + g->h->so || addr(g->h, m + at_heap) != UNDEF)
            return 3;
        g->group = 1;
    }
    return 0;
}

/* Walks the group whose object header is at off: counts its links and
 * finds name (when not NULL) among them. 0 with g filled, 1 when off is
 * not a group, -1 when it is damaged or stored in a way not read here. */
static int group(const rnn_kh5 *h, uint64_t off, const char *name, size_t nlen,
                 group_walk *g)
{
    *g = (group_walk){.h = h, .name = name, .nlen = nlen, .found = UNDEF,
                      .budget = BTREE_BUDGET};
    if (header_walk(h, off, group_msg, g, NULL, 0)) /* its message is not wanted */
        return -1;
    if (!g->group)
        return 1;
    if (!g->symtab)
        return 0; /* compact links only, or an empty new-style group */
    const unsigned char *hp = at(h, g->lheap, 8 + 2 * (uint64_t)h->sl + h->so);
    if (!hp || memcmp(hp, "HEAP", 4) || hp[4] != 0)
        return -1;
    g->heap_len = le(hp + 8, h->sl);
    if (!(g->heap = at(h, addr(h, hp + 8 + 2 * h->sl), g->heap_len)))
        return -1;
    g->count = 0;
    return btree(g, g->btree, -1) ? -1 : 0;
}

/* The object header path names, or UNDEF. */
static uint64_t resolve(const rnn_kh5 *h, const char *path)
{
    uint64_t obj = h->root;
    const char *s = path;
    while (*s == '/')
        s++;
    while (*s) {
        const char *e = strchr(s, '/');
        const size_t n = e ? (size_t)(e - s) : strlen(s);
        group_walk g;
        if (group(h, obj, s, n, &g) || g.found == UNDEF)
            return UNDEF;
        obj = g.found;
        s += n;
        while (*s == '/')
            s++;
    }
    return obj;
}

/* ---- the public side --------------------------------------------------- */

int rnn_kh5_open(const void *data, size_t size, rnn_kh5 **out, char *err, size_t errlen)
{
    *out = NULL;
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    const unsigned char *p = data;
    if (size < sizeof sig || memcmp(p, sig, sizeof sig) != 0)
        return FAIL("not an HDF5 file (no HDF5 signature at its start)");
    if (size < 24)
        return FAIL("HDF5 superblock is truncated");
    const int ver = p[8];
    if (ver > 1)
        return FAIL("HDF5 superblock version %d is not supported (h5py's default writes 0)",
                    ver);
    const int so = p[13], sl = p[14];
    if ((so != 2 && so != 4 && so != 8) || (sl != 2 && sl != 4 && sl != 8))
        return FAIL("HDF5 superblock has offsets of %d bytes and lengths of %d", so, sl);
    /* the base, free-space, end-of-file and driver addresses, then the
     * root group's symbol table entry (its name offset, then its header) */
    const size_t a = ver == 0 ? 24 : 28, root_at = a + 4 * (size_t)so;
    if (root_at + 2 * (size_t)so + 24 > size)
        return FAIL("HDF5 superblock is truncated");
    const uint64_t base = le(p + a, so), eof = le(p + a + 2 * so, so);
    if (base != 0 || eof > size)
        return FAIL("HDF5 superblock says the file has %llu bytes, it has %zu",
                    (unsigned long long)eof, size);
    rnn_kh5 *h = calloc(1, sizeof *h);
    if (!h)
        return FAIL("out of memory");
    *h = (rnn_kh5){.p = p, .size = size, .so = so, .sl = sl};
    h->root = addr(h, p + root_at + so);
    group_walk g;
    if (group(h, h->root, NULL, 0, &g)) {
        free(h);
        return FAIL("HDF5 root group cannot be read (damaged, or stored in a way h5py's "
                    "default does not write)");
    }
    *out = h;
    return 0;
}

void rnn_kh5_close(rnn_kh5 *h)
{
    free(h);
}

int rnn_kh5_exists(rnn_kh5 *h, const char *path)
{
    return path[0] != 0 && resolve(h, path) != UNDEF;
}

long rnn_kh5_count(rnn_kh5 *h, const char *path)
{
    const uint64_t obj = resolve(h, path);
    group_walk g;
    if (obj == UNDEF || group(h, obj, NULL, 0, &g))
        return -1;
    return g.count;
}

typedef struct {
    const rnn_kh5 *h;
    int rank, have_space, have_type, have_layout, refused;
    uint64_t dims[MAX_RANK];
    const unsigned char *type; /* the datatype message */
    size_t type_len;
    int compact, chunked;
    uint64_t data_at, data_len; /* contiguous: file offset; compact: below */
    const unsigned char *inline_data;
} dataset;

static int dataset_msg(void *ctx, int type, int flags, const unsigned char *m, size_t len)
{
    dataset *d = ctx;
    const rnn_kh5 *h = d->h;
    if (flags & 0x02 && (type == MSG_DATASPACE || type == MSG_DATATYPE || type == MSG_LAYOUT))
        d->refused = 1; /* shared (committed) messages are not followed */
    if (type == MSG_FILTERS || type == MSG_EXTERNAL)
        d->refused = 1;
    if (type == MSG_DATASPACE && len >= 4 && (m[0] == 1 || m[0] == 2)) {
        const size_t first = m[0] == 1 ? 8 : 4;
        const int rank = m[1];
        if (rank > MAX_RANK || (m[0] == 2 && m[3] != 1 && rank != 0) ||
            first + (size_t)rank * h->sl > len)
            return 0;
        d->rank = rank;
        for (int i = 0; i < rank; i++)
            d->dims[i] = le(m + first + (size_t)i * h->sl, h->sl);
        d->have_space = 1;
    } else if (type == MSG_DATATYPE && len >= 8) {
        d->type = m;
        d->type_len = len;
        d->have_type = 1;
    } else if (type == MSG_LAYOUT && len >= 2) {
        if (m[0] == 3 || m[0] == 4) {
            if (m[1] == 0 && len >= 4 && le(m + 2, 2) <= len - 4) {
                d->compact = 1;
                d->data_len = le(m + 2, 2);
                d->inline_data = m + 4;
                d->have_layout = 1;
            } else if (m[1] == 2) {
                d->chunked = 1;
            } else if (m[1] == 1 && len >= 2 + (size_t)h->so + h->sl) {
                d->data_at = addr(h, m + 2);
                d->data_len = le(m + 2 + h->so, h->sl);
                d->have_layout = 1;
            }
        } else if ((m[0] == 1 || m[0] == 2) && len >= 8 && m[1] >= 1) {
            /* dimensionality m[1] counts the element size as a last dim */
            const size_t dims_at = 8 + (m[2] != 0 ? (size_t)h->so : 0);
            if (dims_at + 4 * (size_t)m[1] > len)
                return 0;
            uint64_t n = 1;
            for (int i = 0; i < m[1]; i++) {
                const uint64_t k = le(m + dims_at + 4 * (size_t)i, 4);
                n = k && n > UINT64_MAX / k ? UINT64_MAX : n * k;
            }
            if (m[2] == 2) {
                d->chunked = 1;
            } else if (m[2] == 1) {
                d->data_at = addr(h, m + 8);
                d->data_len = n;
                d->have_layout = 1;
            } else if (m[2] == 0 && dims_at + 4 * (size_t)m[1] + 4 <= len) {
                const size_t c = dims_at + 4 * (size_t)m[1] + 4;
                d->compact = 1;
                d->data_len = le(m + c - 4, 4);
                d->inline_data = m + c;
                d->have_layout = d->data_len <= len - c;
            }
        }
    }
    return 0;
}

/* Element size (4 or 8) and byte order (1: big-endian) of an IEEE float
 * datatype message, or 0. */
static int ieee(const unsigned char *t, size_t len, int *big)
{
    if ((t[0] & 0x0f) != 1 || len < 20)
        return 0;
    const uint64_t size = le(t + 4, 4);
    const int order = t[1] & 1, vax = t[1] >> 6 & 1, norm = t[1] >> 4 & 3, sign = t[2];
    const uint64_t off = le(t + 8, 2), prec = le(t + 10, 2), bias = le(t + 16, 4);
    const int eloc = t[12], esz = t[13], mloc = t[14], msz = t[15];
    *big = order;
    if (vax || norm != 2 || off != 0 || mloc != 0)
        return 0;
    if (size == 4 && prec == 32 && eloc == 23 && esz == 8 && msz == 23 && bias == 127 &&
        sign == 31)
        return 4;
    if (size == 8 && prec == 64 && eloc == 52 && esz == 11 && msz == 52 && bias == 1023 &&
        sign == 63)
        return 8;
    return 0;
}

int rnn_kh5_read_f32(rnn_kh5 *h, const char *path, int rank, const int64_t *dims, float *out,
                     char *err, size_t errlen)
{
    const uint64_t obj = resolve(h, path);
    if (obj == UNDEF)
        return FAIL("no array '%s' in the weights file", path);
    dataset d = {.h = h, .data_at = UNDEF};
    char herr[160];
    if (header_walk(h, obj, dataset_msg, &d, herr, sizeof herr))
        return FAIL("'%s': %s", path, herr);
    if (d.have_space && d.have_type && d.chunked)
        return FAIL("'%s' is stored in chunks (compressed or resizable), which librnn-keras "
                    "does not read; save it without compression or chunking",
                    path);
    if (!d.have_space || !d.have_type || !d.have_layout)
        return FAIL("'%s' is not an array", path);
    if ((d.type[0] & 0x0f) != 1)
        return FAIL("'%s' is not a floating-point array", path);
    int same = d.rank == rank;
    for (int i = 0; same && i < rank; i++)
        same = d.dims[i] == (uint64_t)dims[i];
    if (!same) {
        char want[128] = "", got[128] = "";
        for (int i = 0; i < rank; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? ", " : "",
                     (long long)dims[i]);
        for (int i = 0; i < d.rank && i < 8; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? ", " : "",
                     (unsigned long long)d.dims[i]);
        return FAIL("'%s' has shape (%s), the librnn layer needs (%s)", path, got, want);
    }
    /* the layer's shape, so the count fits the caller's buffer */
    uint64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (uint64_t)dims[i];
    int big = 0;
    const int tsize = ieee(d.type, d.type_len, &big);
    const unsigned char *src =
        d.compact ? d.inline_data : n ? at(h, d.data_at, d.data_len) : h->p;
    if (!d.compact && n && d.data_at == UNDEF)
        return FAIL("'%s' has no data stored (written without values)", path);
    if (d.refused || !tsize || !src || d.data_len != n * (uint64_t)tsize)
        return FAIL("'%s' is not a contiguous IEEE float array stored inside the file (damaged "
                    "data, or filters, external or shared storage)",
                    path);
    for (uint64_t i = 0; i < n; i++, src += tsize) {
        unsigned char b[8];
        for (int k = 0; k < tsize; k++)
            b[k] = big ? src[tsize - 1 - k] : src[k];
        if (tsize == 4) {
            uint32_t u = (uint32_t)le(b, 4);
            memcpy(&out[i], &u, 4);
        } else {
            uint64_t u = le(b, 8);
            double v;
            memcpy(&v, &u, 8);
            if (v > FLT_MAX || v < -FLT_MAX)
                return FAIL("'%s' holds %g at element %llu, outside float's range", path, v,
                            (unsigned long long)i);
            out[i] = (float)v;
        }
    }
    return 0;
}
