/* SPDX-License-Identifier: Apache-2.0 */
/* librnn-keras's public functions (include/rnn/keras.h): files read whole
 * and bounded, the zip's config.json and model.weights.h5, errors reported
 * through librnn's rnn_set_last_error(). */
#include <rnn/keras.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kimport.h"
#include "kzip.h"

static rnn_status fail(const char *func, rnn_status st, const char *msg)
{
    return rnn_set_last_error(st, func, msg);
}

static rnn_status read_file(const char *func, const char *path, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    char m[600];
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(m, sizeof m, "cannot open '%.400s'", path);
        return fail(func, RNN_ERR_IO, m);
    }
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        snprintf(m, sizeof m, "cannot read '%.400s' (not a regular file?)", path);
        return fail(func, RNN_ERR_IO, m);
    }
    if ((unsigned long)n > RNN_KX_MAX_FILE) {
        fclose(f);
        snprintf(m, sizeof m, "'%.400s' has %ld bytes (at most %zu)", path, n, RNN_KX_MAX_FILE);
        return fail(func, RNN_ERR_FORMAT, m);
    }
    unsigned char *buf = malloc(n ? (size_t)n : 1);
    if (!buf) {
        fclose(f);
        return fail(func, RNN_ERR_NOMEM, "out of memory reading the file");
    }
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        free(buf);
        snprintf(m, sizeof m, "cannot read '%.400s'", path);
        return fail(func, RNN_ERR_IO, m);
    }
    *out = buf;
    *len = (size_t)n;
    return RNN_OK;
}

static rnn_status load_keras(const char *func, const unsigned char *data, size_t size,
                             const rnn_model_options *options, rnn_model **out)
{
    char err[400];
    unsigned char *cfg = NULL, *h5 = NULL;
    size_t cfg_len, h5_len;
    int r = rnn_kzip_read(data, size, "config.json", RNN_KX_MAX_CONFIG, &cfg, &cfg_len, err,
                          sizeof err);
    if (r) {
        char m[500];
        snprintf(m, sizeof m, "not a Keras 3 .keras file: %s", err);
        return fail(func, RNN_ERR_FORMAT, m);
    }
    rnn_kx_wentry *w = calloc(RNN_KX_MAX_LAYERS, sizeof *w);
    if (!w) {
        free(cfg);
        return fail(func, RNN_ERR_NOMEM, "out of memory");
    }
    rnn_kx_err e = {0};
    int nw = 0;
    rnn_model *m = NULL;
    rnn_kh5 *h = NULL;
    rnn_status st = RNN_OK;
    if (rnn_kx_build((const char *)cfg, cfg_len, options, &m, w, &nw, &e))
        st = fail(func, e.status, e.msg);
    else if ((r = rnn_kzip_read(data, size, "model.weights.h5", RNN_KX_MAX_FILE, &h5, &h5_len,
                                err, sizeof err)) && nw) {
        st = fail(func, RNN_ERR_FORMAT, err);
    } else if (h5 && rnn_kh5_open(h5, h5_len, &h, err, sizeof err)) {
        char mm[500];
        snprintf(mm, sizeof mm, "model.weights.h5: %s", err);
        st = fail(func, RNN_ERR_FORMAT, mm);
    } else if (nw && rnn_kx_load_weights(h, w, nw, &e)) {
        st = fail(func, e.status, e.msg);
    }
    rnn_kh5_close(h);
    free(h5);
    free(cfg);
    free(w);
    if (st) {
        rnn_model_destroy(m);
        return st;
    }
    *out = m;
    return RNN_OK;
}

rnn_status rnn_model_load_keras_memory(const void *data, size_t size,
                                       const rnn_model_options *options, rnn_model **out)
{
    static const char F[] = "rnn_model_load_keras_memory";
    if (out)
        *out = NULL;
    if (!out)
        return fail(F, RNN_ERR_INVALID_ARG, "out must not be NULL");
    if (!data)
        return fail(F, RNN_ERR_INVALID_ARG, "data must not be NULL");
    return load_keras(F, data, size, options, out);
}

rnn_status rnn_model_load_keras(const char *path, const rnn_model_options *options,
                                rnn_model **out)
{
    static const char F[] = "rnn_model_load_keras";
    if (out)
        *out = NULL;
    if (!out)
        return fail(F, RNN_ERR_INVALID_ARG, "out must not be NULL");
    if (!path)
        return fail(F, RNN_ERR_INVALID_ARG, "path must not be NULL");
    unsigned char *buf;
    size_t len;
    rnn_status st = read_file(F, path, &buf, &len);
    if (st)
        return st;
    st = load_keras(F, buf, len, options, out);
    free(buf);
    return st;
}

/* The entries of a librnn model: each layer with weights, its Keras key
 * from its class and position. A Dense layer is looked for as "dense_<n>"
 * first, then as a TimeDistributed wrapper's "time_distributed_<n>". */
static int model_entries(rnn_kh5 *h, rnn_model *model, rnn_kx_wentry *w, int *nw, rnn_kx_err *e)
{
    int n = 0;
    rnn_status st = rnn_model_num_layers(model, &n);
    if (st)
        return rnn_kx_core_fail(e, st, NULL);
    struct { char base[64]; int count; } seen[64];
    int n_seen = 0;
    *nw = 0;
    for (int i = 0; i < n; i++) {
        rnn_layer *l;
        const char *type;
        int np = 0;
        if (rnn_model_layer(model, i, &l) || rnn_layer_type(l, &type) ||
            rnn_layer_num_params(l, &np))
            return rnn_kx_core_fail(e, RNN_ERR_INTERNAL, NULL);
        if (np == 0 || !strcmp(type, "InputLayer"))
            continue;
        if (*nw >= RNN_KX_MAX_LAYERS) {
            e->status = RNN_ERR_UNSUPPORTED;
            snprintf(e->msg, sizeof e->msg, "more than %d layers with weights", RNN_KX_MAX_LAYERS);
            return -1;
        }
        rnn_kx_wentry *we = &w[(*nw)++];
        we->layer = l;
        int rec = !strcmp(type, "LSTM") || !strcmp(type, "GRU") || !strcmp(type, "SimpleRNN");
        we->layout = rec ? RNN_KX_W_RNN : !strcmp(type, "Bidirectional") ? RNN_KX_W_BIDI
                                                                          : RNN_KX_W_PLAIN;
        const char *cands[2] = {type, !strcmp(type, "Dense") ? "TimeDistributed" : NULL};
        int pick = 0, slot[2] = {-1, -1};
        char keys[2][192];
        for (int c = 0; c < 2 && cands[c]; c++) {
            char base[64];
            rnn_kx_snake(cands[c], base, sizeof base);
            int s = 0;
            while (s < n_seen && strcmp(seen[s].base, base))
                s++;
            if (s == n_seen) {
                if (n_seen == 64) {
                    e->status = RNN_ERR_UNSUPPORTED;
                    snprintf(e->msg, sizeof e->msg, "more than 64 layer classes");
                    return -1;
                }
                snprintf(seen[s].base, sizeof seen[s].base, "%s", base);
                seen[s].count = 0;
                n_seen++;
            }
            slot[c] = s;
            if (seen[s].count)
                snprintf(keys[c], sizeof keys[c], "layers/%s_%d", base, seen[s].count);
            else
                snprintf(keys[c], sizeof keys[c], "layers/%s", base);
        }
        if (cands[1] && !rnn_kh5_exists(h, keys[0]) && rnn_kh5_exists(h, keys[1])) {
            pick = 1;
            we->layout = RNN_KX_W_TD;
        }
        seen[slot[pick]].count++;
        memcpy(we->key, keys[pick], sizeof we->key);
    }
    return 0;
}

rnn_status rnn_model_load_keras_weights_memory(rnn_model *model, const void *data, size_t size)
{
    static const char F[] = "rnn_model_load_keras_weights_memory";
    if (!model)
        return fail(F, RNN_ERR_INVALID_ARG, "model must not be NULL");
    if (!data)
        return fail(F, RNN_ERR_INVALID_ARG, "data must not be NULL");
    char err[400];
    rnn_kh5 *h;
    if (rnn_kh5_open(data, size, &h, err, sizeof err))
        return fail(F, RNN_ERR_FORMAT, err);
    rnn_kx_wentry *w = calloc(RNN_KX_MAX_LAYERS, sizeof *w);
    rnn_kx_err e = {0};
    int nw = 0;
    rnn_status st = RNN_OK;
    if (!w)
        st = fail(F, RNN_ERR_NOMEM, "out of memory");
    else if (model_entries(h, model, w, &nw, &e) || rnn_kx_load_weights(h, w, nw, &e))
        st = fail(F, e.status, e.msg);
    free(w);
    rnn_kh5_close(h);
    return st;
}

rnn_status rnn_model_load_keras_weights(rnn_model *model, const char *path)
{
    static const char F[] = "rnn_model_load_keras_weights";
    if (!model)
        return fail(F, RNN_ERR_INVALID_ARG, "model must not be NULL");
    if (!path)
        return fail(F, RNN_ERR_INVALID_ARG, "path must not be NULL");
    unsigned char *buf;
    size_t len;
    rnn_status st = read_file(F, path, &buf, &len);
    if (st)
        return st;
    st = rnn_model_load_keras_weights_memory(model, buf, len);
    free(buf);
    if (st) {
        /* name this function, keep the cause */
        const char *c = rnn_last_error();
        const char *colon = strstr(c, ": ");
        char m[600];
        snprintf(m, sizeof m, "%s", colon ? colon + 2 : c);
        fail(F, st, m);
    }
    return st;
}
