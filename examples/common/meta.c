/* SPDX-License-Identifier: Apache-2.0 */
#include "meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef EX_HAVE_ONNX
#include <rnn/onnx.h>
#endif

int ex_meta_set(rnn_model *m, const char *prog, const char *key, const char *value)
{
    if (rnn_model_set_metadata(m, key, value) == RNN_OK)
        return 0;
    fprintf(stderr, "%s: %s\n", prog, rnn_last_error());
    return -1;
}

int ex_meta_set_int(rnn_model *m, const char *prog, const char *key, long long value)
{
    char s[32];
    snprintf(s, sizeof s, "%lld", value);
    return ex_meta_set(m, prog, key, s);
}

/* A name ending in .onnx: an ONNX model (a network trained elsewhere, e.g.
 * bench/torch_pos_tagger.py --export-onnx), read by librnn-onnx when the
 * examples are built with it. Its metadata_props arrive as "onnx.meta.KEY"
 * and are copied to "KEY", so that an exporter gives the same keys the
 * example's own model files have ("example", "vocab", ...). */
static int is_onnx(const char *path)
{
    size_t n = strlen(path);
    return n > 5 && strcmp(path + n - 5, ".onnx") == 0;
}

static rnn_model *load_any(const char *prog, const char *path)
{
    rnn_model *m = NULL;
    if (!is_onnx(path)) {
        if (rnn_model_load(path, NULL, &m) == RNN_OK)
            return m;
        fprintf(stderr, "%s: %s\n", prog, rnn_last_error());
        return NULL;
    }
#ifdef EX_HAVE_ONNX
    if (rnn_model_load_onnx(path, NULL, &m) != RNN_OK) {
        fprintf(stderr, "%s: %s\n", prog, rnn_last_error());
        return NULL;
    }
    int n = 0;
    rnn_model_metadata_count(m, &n);
    for (int k = 0; k < n; k++) {
        const char *key, *value;
        if (rnn_model_metadata_key(m, k, &key) || strncmp(key, "onnx.meta.", 10) ||
            rnn_model_get_metadata(m, key, &value))
            continue;
        char plain[256];
        snprintf(plain, sizeof plain, "%s", key + 10);
        /* setting a key may reorder the table: restart the scan */
        const char *have = NULL;
        rnn_model_get_metadata(m, plain, &have);
        if (!have) {
            if (ex_meta_set(m, prog, plain, value)) {
                rnn_model_destroy(m);
                return NULL;
            }
            rnn_model_metadata_count(m, &n);
            k = -1;
        }
    }
    return m;
#else
    fprintf(stderr, "%s: %s: this build has no ONNX support (librnn-onnx, meson -Donnx)\n", prog,
            path);
    return NULL;
#endif
}

rnn_model *ex_meta_load(const char *prog, const char *path, const char *task)
{
    rnn_model *m = load_any(prog, path);
    if (!m)
        return NULL;
    const char *ex = NULL, *t = NULL;
    rnn_model_get_metadata(m, "example", &ex);
    rnn_model_get_metadata(m, "task", &t);
    if (!ex)
        fprintf(stderr, "%s: %s has no librnn example metadata (not saved by this example)\n",
                prog, path);
    else if (strcmp(ex, prog))
        fprintf(stderr, "%s: %s was made by the %.40s example, not %s\n", prog, path, ex, prog);
    else if (task && !t)
        fprintf(stderr, "%s: %s does not say which --task it was trained for\n", prog, path);
    else if (task && strcmp(t, task))
        fprintf(stderr, "%s: %s was trained for --task %.40s, not %s\n", prog, path, t, task);
    else
        return m;
    rnn_model_destroy(m);
    return NULL;
}

const char *ex_meta_get(const rnn_model *m, const char *prog, const char *path, const char *key)
{
    const char *v = NULL;
    rnn_model_get_metadata(m, key, &v);
    if (!v)
        fprintf(stderr, "%s: %s has no \"%s\" in its metadata (saved by an older version?)\n",
                prog, path, key);
    return v;
}

int ex_meta_get_int(const rnn_model *m, const char *prog, const char *path, const char *key,
                    long long lo, long long hi, long long *out)
{
    const char *v = ex_meta_get(m, prog, path, key);
    if (!v)
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "%s: %s: metadata \"%s\" must be an integer in [%lld, %lld] (got \"%.40s\")\n",
                prog, path, key, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

/* dims[k] of layer l's parameter called name, or -1. */
static int64_t param_dim(rnn_layer *l, const char *name, int k)
{
    int i;
    rnn_tensor *t;
    int64_t dims[RNN_MAX_RANK];
    int rank;
    if (rnn_layer_find_param(l, name, &i) || rnn_layer_param(l, i, NULL, &t, NULL) ||
        rnn_tensor_shape(t, dims, RNN_MAX_RANK, &rank) || k >= rank)
        return -1;
    return dims[k < 0 ? rank + k : k];
}

int ex_meta_check_shapes(rnn_model *m, const char *prog, const char *path, int n,
                         const int64_t *input_dim, int64_t units)
{
    int n_layers = 0, seen = 0;
    rnn_model_num_layers(m, &n_layers);
    for (int i = 0; i < n_layers; i++) {
        rnn_layer *l;
        const char *type = "";
        rnn_model_layer(m, i, &l);
        rnn_layer_type(l, &type);
        if (strcmp(type, "Embedding"))
            continue;
        int64_t d = param_dim(l, "embeddings", 0);
        if (seen < n && d != input_dim[seen]) {
            fprintf(stderr, "%s: %s: its embedding %d takes %lld ids, its metadata's vocabulary "
                            "has %lld: the model does not match its metadata\n",
                    prog, path, seen + 1, (long long)d, (long long)input_dim[seen]);
            return -1;
        }
        seen++;
    }
    if (seen != n) {
        fprintf(stderr, "%s: %s has %d embedding layers, this example's models have %d\n", prog,
                path, seen, n);
        return -1;
    }
    /* the output Dense, under any Activation layers after it (an ONNX graph's
     * Gemm + Sigmoid or MatMul + Add + Softmax is imported as Dense + Activation) */
    rnn_layer *last = NULL;
    const char *type = "";
    for (int i = n_layers - 1; i >= 0; i--) {
        rnn_model_layer(m, i, &last);
        rnn_layer_type(last, &type);
        if (strcmp(type, "Activation"))
            break;
    }
    int64_t u = strcmp(type, "Dense") ? -1 : param_dim(last, "kernel", -1);
    if (u != units) {
        fprintf(stderr, "%s: %s: its output layer has %lld units, this example needs %lld: the "
                        "model does not match its metadata\n",
                prog, path, (long long)u, (long long)units);
        return -1;
    }
    return 0;
}

const char *const ex_precision_names[] = {"f32", "bf16", NULL};

int ex_set_precision(rnn_model *m, const char *prog, int precision)
{
    if (rnn_model_set_precision(m, precision ? RNN_PRECISION_MIXED_BF16 : RNN_PRECISION_F32)) {
        fprintf(stderr, "%s: --precision %s: %s\n", prog, ex_precision_names[precision ? 1 : 0],
                rnn_last_error());
        return -1;
    }
    return 0;
}
