/* SPDX-License-Identifier: Apache-2.0 */
/* HDF5 access for librnn-keras. HDF5's automatic error printing is turned
 * off while a file is open (the library never prints) and restored at
 * close. A dataset is read only after its class (float), rank and every
 * dimension were compared with what the librnn layer expects, so the size
 * read is the layer's, never the file's. */
#include "kh5.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rnn_kh5 {
    hid_t file;
    size_t size; /* of the file image */
    H5E_auto2_t old_fn;
    void *old_data;
};

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__) < 0 ? -1 : -1)

static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The superblock at offset 0 (h5py writes it there): its base address must
 * be 0 and its end-of-file address within the image, else HDF5's core
 * driver would size its buffer from the file's word (fuzzing found a 4 GiB
 * allocation from one changed byte). Versions 0 and 1 (h5py's default),
 * 2 and 3. */
static int check_superblock(const unsigned char *p, size_t size, char *err, size_t errlen)
{
    if (size < 16)
        return FAIL("HDF5 superblock is truncated");
    int ver = p[8], so, at;
    if (ver == 0 || ver == 1) {
        so = p[13];
        at = ver == 0 ? 24 : 28;
    } else if (ver == 2 || ver == 3) {
        so = p[9];
        at = 12;
    } else {
        return FAIL("HDF5 superblock version %d is not supported", ver);
    }
    if (so != 2 && so != 4 && so != 8)
        return FAIL("HDF5 superblock has offsets of %d bytes", so);
    int eof_at = at + 2 * so; /* after the base and the free-space (or extension) address */
    if ((size_t)(eof_at + so) > size)
        return FAIL("HDF5 superblock is truncated");
    uint64_t base = le(p + at, so), eof = le(p + eof_at, so);
    if (base != 0 || eof > size)
        return FAIL("HDF5 superblock says the file has %llu bytes, it has %zu",
                    (unsigned long long)eof, size);
    return 0;
}

int rnn_kh5_open(const void *data, size_t size, rnn_kh5 **out, char *err, size_t errlen)
{
    *out = NULL;
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (size < sizeof sig || memcmp(data, sig, sizeof sig) != 0)
        return FAIL("not an HDF5 file (no HDF5 signature at its start)");
    if (check_superblock(data, size, err, errlen))
        return -1;
    rnn_kh5 *h = calloc(1, sizeof *h);
    if (!h)
        return FAIL("out of memory");
    H5Eget_auto2(H5E_DEFAULT, &h->old_fn, &h->old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl, (void *)(uintptr_t)data, size) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        H5Eset_auto2(H5E_DEFAULT, h->old_fn, h->old_data);
        free(h);
        return FAIL("HDF5 cannot take the file image");
    }
    h->file = H5Fopen("model.weights.h5", H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (h->file < 0) {
        H5Eset_auto2(H5E_DEFAULT, h->old_fn, h->old_data);
        free(h);
        return FAIL("HDF5 cannot open the weights (damaged or not HDF5)");
    }
    h->size = size;
    *out = h;
    return 0;
}

void rnn_kh5_close(rnn_kh5 *h)
{
    if (!h)
        return;
    H5Fclose(h->file);
    H5Eset_auto2(H5E_DEFAULT, h->old_fn, h->old_data);
    free(h);
}

int rnn_kh5_exists(rnn_kh5 *h, const char *path)
{
    char buf[512];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        char c = buf[i];
        buf[i] = 0;
        htri_t e = H5Lexists(h->file, buf, H5P_DEFAULT);
        buf[i] = c;
        if (e <= 0)
            return 0;
    }
    return H5Oexists_by_name(h->file, path, H5P_DEFAULT) > 0;
}

long rnn_kh5_count(rnn_kh5 *h, const char *path)
{
    if (!rnn_kh5_exists(h, path))
        return -1;
    /* H5Oopen and H5Iget_type rather than H5Oget_info, whose signature
     * differs between HDF5 1.10 (bookworm) and 1.14 (trixie) */
    hid_t o = H5Oopen(h->file, path, H5P_DEFAULT);
    if (o < 0)
        return -1;
    long n = -1;
    H5G_info_t gi;
    if (H5Iget_type(o) == H5I_GROUP && H5Gget_info(o, &gi) >= 0 && gi.nlinks <= 1000000)
        n = (long)gi.nlinks;
    H5Oclose(o);
    return n;
}

int rnn_kh5_read_f32(rnn_kh5 *h, const char *path, int rank, const int64_t *dims, float *out,
                     char *err, size_t errlen)
{
    if (!rnn_kh5_exists(h, path))
        return FAIL("no array '%s' in the weights file", path);
    hid_t d = H5Dopen2(h->file, path, H5P_DEFAULT);
    if (d < 0)
        return FAIL("'%s' is not an array", path);
    int rc = -1;
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    if (t < 0 || s < 0 || H5Tget_class(t) != H5T_FLOAT) {
        (void)FAIL("'%s' is not a floating-point array", path);
        goto done;
    }
    int r = H5Sget_simple_extent_ndims(s);
    hsize_t fd[H5S_MAX_RANK];
    if (r < 0 || r > H5S_MAX_RANK || H5Sget_simple_extent_dims(s, fd, NULL) != r) {
        (void)FAIL("'%s' has an unreadable shape", path);
        goto done;
    }
    int same = r == rank;
    for (int i = 0; same && i < r; i++)
        same = (int64_t)fd[i] == dims[i] && fd[i] <= (hsize_t)INT64_MAX;
    if (!same) {
        char want[128] = "", got[128] = "";
        for (int i = 0; i < rank; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? ", " : "",
                     (long long)dims[i]);
        for (int i = 0; i < r && i < 8; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? ", " : "",
                     (unsigned long long)fd[i]);
        (void)FAIL("'%s' has shape (%s), the librnn layer needs (%s)", path, got, want);
        goto done;
    }
    /* What HDF5 would read must be a standard IEEE float and lie inside the
     * image: libhdf5 1.10 reads a contiguous array past a short buffer of
     * its own when the layout message promises more than the file holds
     * (fuzzing found it, ASan in H5VM_memcpyvv). */
    hsize_t n = 1;
    for (int i = 0; i < r; i++)
        n *= fd[i];
    const size_t tsize = H5Tget_size(t);
    const hid_t plist = H5Dget_create_plist(d);
    const H5D_layout_t layout = plist >= 0 ? H5Pget_layout(plist) : H5D_LAYOUT_ERROR;
    if (plist >= 0)
        H5Pclose(plist);
    const haddr_t at = H5Dget_offset(d);
    const hsize_t stored = H5Dget_storage_size(d);
    const int ieee = H5Tequal(t, H5T_IEEE_F32LE) > 0 || H5Tequal(t, H5T_IEEE_F32BE) > 0 ||
                     H5Tequal(t, H5T_IEEE_F64LE) > 0 || H5Tequal(t, H5T_IEEE_F64BE) > 0;
    if (!ieee || layout != H5D_CONTIGUOUS || at == HADDR_UNDEF || stored != n * tsize ||
        at > (haddr_t)h->size || stored > (hsize_t)h->size - at) {
        (void)FAIL("'%s' is not a contiguous IEEE float array stored inside the file (damaged "
                   "data)",
                   path);
        goto done;
    }
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        (void)FAIL("'%s' cannot be read (damaged data)", path);
        goto done;
    }
    rc = 0;
done:
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    H5Dclose(d);
    return rc;
}
