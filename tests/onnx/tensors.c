/* SPDX-License-Identifier: Apache-2.0 */
/* Reads the .io files of tests/onnx/fixtures (format: make_fixtures.py). */
#include "tensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rd(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n;
}

int io_read(const char *path, io_set *s)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4];
    uint32_t hdr[3];
    int ok = rd(f, magic, 4) && !memcmp(magic, "RNNT", 4) && rd(f, hdr, sizeof hdr) &&
             hdr[0] == 1 && hdr[1] <= IO_MAX && hdr[2] <= hdr[1];
    s->count = ok ? (int)hdr[1] : 0;
    s->n_inputs = ok ? (int)hdr[2] : 0;
    for (int k = 0; ok && k < s->count; k++) {
        uint32_t dt, rank;
        int64_t dims[8];
        ok = rd(f, &dt, 4) && rd(f, &rank, 4) && rank <= 8 && rd(f, dims, 8 * rank) &&
             (dt == 1 || dt == 2);
        if (!ok)
            break;
        ok = rnn_tensor_create(dt == 1 ? RNN_F32 : RNN_I32, (int)rank, dims, &s->t[k]) == 0;
        size_t nb;
        void *p;
        ok = ok && !rnn_tensor_nbytes(s->t[k], &nb) && !rnn_tensor_data(s->t[k], &p) &&
             rd(f, p, nb);
    }
    fclose(f);
    if (!ok)
        io_free(s);
    return ok;
}

void io_free(io_set *s)
{
    for (int k = 0; k < IO_MAX; k++)
        rnn_tensor_destroy(s->t[k]);
    memset(s, 0, sizeof *s);
}

double max_abs_diff(const rnn_tensor *a, const rnn_tensor *b)
{
    int64_t na, nb;
    const float *pa, *pb;
    if (rnn_tensor_numel(a, &na) || rnn_tensor_numel(b, &nb) || na != nb)
        return 1e30;
    rnn_tensor_data_const(a, (const void **)&pa);
    rnn_tensor_data_const(b, (const void **)&pb);
    double m = 0;
    for (int64_t k = 0; k < na; k++) {
        double d = pa[k] - pb[k];
        d = d < 0 ? -d : d;
        if (d > m || d != d)
            m = d != d ? 1e30 : d;
    }
    return m;
}
