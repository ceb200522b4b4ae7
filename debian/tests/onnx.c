/* SPDX-License-Identifier: Apache-2.0 */
/* debian/tests/build-onnx: built against the INSTALLED librnn-onnx-dev with
 * `pkg-config --cflags --libs librnn-onnx` alone.
 *   onnx FIXTURES_DIR SCRATCH_DIR
 * 1. imports torch_char_gru.onnx (a 2-layer GRU exported by torch.onnx.export)
 *    and matches PyTorch's outputs on the inputs of torch_char_gru.io to 1e-5;
 * 2. exports it with rnn_model_save_onnx, imports that from memory and gets
 *    the same outputs again;
 * 3. is refused a graph with an unknown operator (RNN_ERR_UNSUPPORTED). */
#include <rnn.h>
#include <rnn/onnx.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IO_MAX 8

/* tests/onnx/make_fixtures.py's .io files: "RNNT", u32 version 1, u32 count,
 * u32 inputs, then per tensor u32 dtype (1 f32, 2 i32), u32 rank, i64 dims,
 * the elements; all little-endian, read as the test suite reads them (as
 * native numbers). */
static int io_read(const char *path, rnn_tensor **t, int *count, int *n_inputs)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4];
    uint32_t hdr[3];
    int ok = fread(magic, 4, 1, f) == 1 && !memcmp(magic, "RNNT", 4) &&
             fread(hdr, sizeof hdr, 1, f) == 1 && hdr[0] == 1 && hdr[1] <= IO_MAX &&
             hdr[2] <= hdr[1];
    *count = ok ? (int)hdr[1] : 0;
    *n_inputs = ok ? (int)hdr[2] : 0;
    for (int k = 0; ok && k < *count; k++) {
        uint32_t dt_rank[2];
        int64_t dims[8];
        void *p;
        size_t nb;
        ok = fread(dt_rank, sizeof dt_rank, 1, f) == 1 && dt_rank[1] <= 8 &&
             (dt_rank[0] == 1 || dt_rank[0] == 2) &&
             fread(dims, 8, dt_rank[1], f) == dt_rank[1] &&
             rnn_tensor_create(dt_rank[0] == 1 ? RNN_F32 : RNN_I32, (int)dt_rank[1], dims,
                               &t[k]) == RNN_OK &&
             rnn_tensor_nbytes(t[k], &nb) == RNN_OK && rnn_tensor_data(t[k], &p) == RNN_OK &&
             fread(p, 1, nb, f) == nb;
    }
    fclose(f);
    return ok;
}

static double max_abs_diff(const rnn_tensor *a, const rnn_tensor *b)
{
    int64_t na, nb;
    const void *pa, *pb;
    if (rnn_tensor_numel(a, &na) || rnn_tensor_numel(b, &nb) || na != nb ||
        rnn_tensor_data_const(a, &pa) || rnn_tensor_data_const(b, &pb))
        return INFINITY;
    double m = 0;
    for (int64_t k = 0; k < na; k++) {
        double d = fabs((double)((const float *)pa)[k] - (double)((const float *)pb)[k]);
        if (!(d <= m))
            m = d; /* NaN too */
    }
    return m;
}

/* Runs model on the inputs; worst difference of its outputs from want. */
static double run(rnn_model *m, int n_in, rnn_tensor *const *in, int n_out,
                  rnn_tensor *const *want)
{
    int no = 0;
    if (rnn_model_forward(m, n_in, (const rnn_tensor *const *)in, NULL, 0) != RNN_OK ||
        rnn_model_num_outputs(m, &no) != RNN_OK) {
        fprintf(stderr, "forward: %s\n", rnn_last_error());
        return INFINITY;
    }
    if (no != n_out) {
        fprintf(stderr, "%d outputs, expected %d\n", no, n_out);
        return INFINITY;
    }
    double worst = 0;
    for (int k = 0; k < no; k++) {
        const rnn_tensor *y;
        if (rnn_model_output(m, k, &y) != RNN_OK)
            return INFINITY;
        double d = max_abs_diff(y, want[k]);
        worst = d > worst || d != d ? d : worst;
    }
    return worst;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURES_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    char path[4096], onnx_out[4096];
    rnn_tensor *t[IO_MAX] = {0};
    int count, n_in, failed = 0;

    snprintf(path, sizeof path, "%s/torch_char_gru.io", argv[1]);
    if (!io_read(path, t, &count, &n_in) || n_in < 1 || count <= n_in) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    snprintf(path, sizeof path, "%s/torch_char_gru.onnx", argv[1]);
    rnn_model *m = NULL;
    if (rnn_model_load_onnx(path, NULL, &m) != RNN_OK) {
        fprintf(stderr, "rnn_model_load_onnx(%s): %s\n", path, rnn_last_error());
        return 1;
    }
    int layers = 0;
    int64_t params = 0;
    rnn_model_num_layers(m, &layers);
    rnn_model_count_params(m, &params);
    double d = run(m, n_in, t, count - n_in, t + n_in);
    printf("torch_char_gru.onnx: %d layers, %lld parameters, max |librnn - PyTorch| = %.2e\n",
           layers, (long long)params, d);
    failed |= !(d <= 1e-5);

    /* export, import the export from memory, same outputs */
    snprintf(onnx_out, sizeof onnx_out, "%s/exported.onnx", argv[2]);
    if (rnn_model_save_onnx(m, onnx_out) != RNN_OK) {
        fprintf(stderr, "rnn_model_save_onnx: %s\n", rnn_last_error());
        return 1;
    }
    FILE *f = fopen(onnx_out, "rb");
    if (!f || fseek(f, 0, SEEK_END) || ftell(f) <= 0) {
        fprintf(stderr, "cannot read back %s\n", onnx_out);
        return 1;
    }
    long size = ftell(f);
    unsigned char *bytes = malloc((size_t)size);
    rewind(f);
    if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read back %s\n", onnx_out);
        return 1;
    }
    fclose(f);
    rnn_model *m2 = NULL;
    if (rnn_model_load_onnx_memory(bytes, (size_t)size, NULL, &m2) != RNN_OK) {
        fprintf(stderr, "rnn_model_load_onnx_memory: %s\n", rnn_last_error());
        return 1;
    }
    free(bytes);
    d = run(m2, n_in, t, count - n_in, t + n_in);
    printf("exported (%ld bytes) and imported again: max |librnn - PyTorch| = %.2e\n", size, d);
    failed |= !(d <= 1e-5);
    rnn_model_destroy(m2);
    rnn_model_destroy(m);

    /* refused, with a message naming the node */
    snprintf(path, sizeof path, "%s/refuse_unknown_op.onnx", argv[1]);
    rnn_status st = rnn_model_load_onnx(path, NULL, &m);
    printf("refuse_unknown_op.onnx: %s: %s\n", rnn_status_string(st), rnn_last_error());
    failed |= st != RNN_ERR_UNSUPPORTED || m != NULL;

    for (int k = 0; k < IO_MAX; k++)
        rnn_tensor_destroy(t[k]);
    printf(failed ? "librnn-onnx: FAILED\n" : "librnn-onnx OK\n");
    return failed;
}
