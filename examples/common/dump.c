/* SPDX-License-Identifier: Apache-2.0 */
#include "dump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dump_tensors(const char *path, const char *meta_json, int n, const char *const *names,
                 rnn_tensor *const *tensors)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "RNNDUMP1\n{\"meta\": %s, \"tensors\": [", meta_json);
    for (int k = 0; k < n; k++) {
        rnn_dtype dt = RNN_F32;
        int64_t dims[RNN_MAX_RANK];
        int rank = 0;
        rnn_tensor_dtype(tensors[k], &dt);
        rnn_tensor_shape(tensors[k], dims, RNN_MAX_RANK, &rank);
        fprintf(f, "%s{\"name\": \"%s\", \"dtype\": \"%s\", \"shape\": [", k ? ", " : "",
                names[k], dt == RNN_I32 ? "int32" : "float32");
        for (int i = 0; i < rank; i++)
            fprintf(f, "%s%lld", i ? ", " : "", (long long)dims[i]);
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    int bad = 0;
    for (int k = 0; k < n && !bad; k++) {
        void *p = NULL;
        size_t nb = 0;
        rnn_tensor_data(tensors[k], &p);
        rnn_tensor_nbytes(tensors[k], &nb);
        bad = nb && fwrite(p, 1, nb, f) != nb;
    }
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int dump_vocab(const char *path, const vocab *v)
{
    char vp[4096];
    snprintf(vp, sizeof vp, "%s.vocab", path);
    char *text = vocab_to_text(v);
    FILE *f = text ? fopen(vp, "wb") : NULL;
    int bad = !f || fputs(text, f) < 0;
    if ((f && fclose(f) != 0) || bad) {
        fprintf(stderr, "cannot write %s: %s\n", vp, text ? strerror(errno) : "out of memory");
        bad = 1;
    }
    free(text);
    return bad ? -1 : 0;
}
