/* SPDX-License-Identifier: Apache-2.0 */
/* debian/tests/build-keras: built against the INSTALLED librnn-keras-dev with
 * `pkg-config --cflags --libs librnn-keras` alone.
 *   keras FIXTURES_DIR
 * 1. imports sentiment.keras (Keras 3 model.save(): Embedding(mask_zero) +
 *    Bidirectional(LSTM) + Dense) and matches Keras' outputs of sentiment.bin
 *    to 1e-5;
 * 2. loads sentiment.weights.h5 (save_weights of the same architecture with
 *    other weights) into it and matches Keras' outputs of sentiment_w.bin;
 * 3. is refused a model with a layer librnn does not have (Masking). */
#include <rnn.h>
#include <rnn/keras.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARRAYS 16

/* tests/golden/fixture.h's files: "RNNFIX01", u32 count, then per array u32
 * name length, the name, u32 dtype (1 f32, 2 i32), u32 rank, i64 dims, the
 * elements; all little-endian, read as native numbers as the test suite does.
 * Arrays x.K (inputs), y.K (Keras' outputs), m.K (1 where compared). */
typedef struct array {
    char name[64];
    rnn_tensor *t;
} array;

static int fx_read(const char *path, array *a, int *count)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[8];
    uint32_t n;
    int ok = fread(magic, 8, 1, f) == 1 && !memcmp(magic, "RNNFIX01", 8) &&
             fread(&n, 4, 1, f) == 1 && n <= MAX_ARRAYS;
    *count = ok ? (int)n : 0;
    for (int k = 0; ok && k < *count; k++) {
        uint32_t len, dt_rank[2];
        int64_t dims[8];
        void *p;
        size_t nb;
        ok = fread(&len, 4, 1, f) == 1 && len > 0 && len < sizeof a[k].name &&
             fread(a[k].name, 1, len, f) == len && fread(dt_rank, sizeof dt_rank, 1, f) == 1 &&
             (dt_rank[0] == 1 || dt_rank[0] == 2) && dt_rank[1] <= 8 &&
             fread(dims, 8, dt_rank[1], f) == dt_rank[1] &&
             rnn_tensor_create(dt_rank[0] == 1 ? RNN_F32 : RNN_I32, (int)dt_rank[1], dims,
                               &a[k].t) == RNN_OK &&
             rnn_tensor_nbytes(a[k].t, &nb) == RNN_OK && rnn_tensor_data(a[k].t, &p) == RNN_OK &&
             fread(p, 1, nb, f) == nb;
    }
    fclose(f);
    return ok;
}

static rnn_tensor *get(array *a, int count, const char *prefix, int k)
{
    char name[64];
    snprintf(name, sizeof name, "%s.%d", prefix, k);
    for (int i = 0; i < count; i++)
        if (!strcmp(a[i].name, name))
            return a[i].t;
    return NULL;
}

/* Runs the model on the fixture's inputs: max |librnn - Keras| over the
 * compared entries of every output (INFINITY on any failure). */
static double compare(rnn_model *m, const char *fixture)
{
    array a[MAX_ARRAYS] = {{{0}, NULL}};
    int count = 0, n_in = 0, n_out = 0, compared = 0;
    double worst = INFINITY;
    rnn_tensor *in[MAX_ARRAYS];
    if (!fx_read(fixture, a, &count)) {
        fprintf(stderr, "cannot read %s\n", fixture);
        goto out;
    }
    while (n_in < MAX_ARRAYS && (in[n_in] = get(a, count, "x", n_in)))
        n_in++;
    if (rnn_model_forward(m, n_in, (const rnn_tensor *const *)in, NULL, 0) != RNN_OK ||
        rnn_model_num_outputs(m, &n_out) != RNN_OK) {
        fprintf(stderr, "forward: %s\n", rnn_last_error());
        goto out;
    }
    worst = 0;
    for (int o = 0; get(a, count, "y", o); o++) {
        const rnn_tensor *y;
        const void *p, *q, *mk = NULL;
        int64_t n, n_want;
        rnn_tensor *want = get(a, count, "y", o), *mask = get(a, count, "m", o);
        if (o >= n_out || rnn_model_output(m, o, &y) != RNN_OK || rnn_tensor_numel(y, &n) ||
            rnn_tensor_numel(want, &n_want) || n != n_want || rnn_tensor_data_const(y, &p) ||
            rnn_tensor_data_const(want, &q) || (mask && rnn_tensor_data_const(mask, &mk))) {
            fprintf(stderr, "%s: output %d does not match Keras' in number or shape\n",
                    fixture, o);
            worst = INFINITY;
            goto out;
        }
        for (int64_t i = 0; i < n; i++) {
            if (mk && ((const float *)mk)[i] == 0)
                continue;
            double d = fabs((double)((const float *)p)[i] - (double)((const float *)q)[i]);
            worst = d > worst || d != d ? d : worst;
            compared++;
        }
    }
    if (!compared)
        worst = INFINITY;
out:
    for (int i = 0; i < count; i++)
        rnn_tensor_destroy(a[i].t);
    return worst;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    int failed = 0;

    snprintf(path, sizeof path, "%s/sentiment.keras", argv[1]);
    rnn_model *m = NULL;
    if (rnn_model_load_keras(path, NULL, &m) != RNN_OK) {
        fprintf(stderr, "rnn_model_load_keras(%s): %s\n", path, rnn_last_error());
        return 1;
    }
    int layers = 0;
    int64_t params = 0;
    rnn_model_num_layers(m, &layers);
    rnn_model_count_params(m, &params);
    snprintf(path, sizeof path, "%s/sentiment.bin", argv[1]);
    double d = compare(m, path);
    printf("sentiment.keras: %d layers, %lld parameters, max |librnn - Keras| = %.2e\n", layers,
           (long long)params, d);
    failed |= !(d <= 1e-5);

    snprintf(path, sizeof path, "%s/sentiment.weights.h5", argv[1]);
    if (rnn_model_load_keras_weights(m, path) != RNN_OK) {
        fprintf(stderr, "rnn_model_load_keras_weights(%s): %s\n", path, rnn_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/sentiment_w.bin", argv[1]);
    d = compare(m, path);
    printf("sentiment.weights.h5 loaded into it: max |librnn - Keras| = %.2e\n", d);
    failed |= !(d <= 1e-5);
    rnn_model_destroy(m);

    snprintf(path, sizeof path, "%s/unsupported_class.keras", argv[1]);
    m = NULL;
    rnn_status st = rnn_model_load_keras(path, NULL, &m);
    printf("unsupported_class.keras: %s: %s\n", rnn_status_string(st), rnn_last_error());
    failed |= st != RNN_ERR_UNSUPPORTED || m != NULL;

    printf(failed ? "librnn-keras: FAILED\n" : "librnn-keras OK\n");
    return failed;
}
