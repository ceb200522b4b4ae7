/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for librnn-keras's readers: any bytes must give RNN_OK or
 * a clean error, never a crash, a sanitizer report or a leak. The input
 * picks the reader by its first bytes:
 *   "PK"          a whole .keras file (zip -> config.json -> model.weights.h5)
 *   "\x89HDF"     a weights file, into a small model of the sentiment fixture's
 *                 architecture (rnn_model_load_keras_weights_memory)
 *   anything else config.json alone (the configuration reader)
 * Built and run by tools/fuzz-keras.sh with -DRNN_KX_FUZZ_NO_CRC (the zip
 * reader then skips the CRC-32 check, which would refuse almost every
 * mutation of a deflated config before the JSON reader sees it). Seeds: the
 * fixtures of tests/keras_files, their config.json and weights.
 */
#include <rnn.h>
#include <rnn/keras.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/keras/kimport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static rnn_model *sentiment_like(void)
{
    rnn_model *m;
    if (rnn_model_create(NULL, &m))
        return NULL;
    int64_t t[1] = {0};
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 30, e.output_dim = 8, e.mask_zero = 1;
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 6, r.bidirectional = 1;
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 1;
    if (rnn_model_add_input(m, RNN_I32, 1, t, NULL) || rnn_model_add_embedding(m, &e, NULL) ||
        rnn_model_add_recurrent(m, &r, NULL) || rnn_model_add_dense(m, &d, NULL)) {
        rnn_model_destroy(m);
        return NULL;
    }
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rnn_model *m = NULL;
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        if (rnn_model_load_keras_memory(data, size, NULL, &m) == RNN_OK)
            rnn_model_destroy(m);
    } else if (size >= 4 && !memcmp(data, "\x89HDF", 4)) {
        m = sentiment_like();
        if (m)
            rnn_model_load_keras_weights_memory(m, data, size);
        rnn_model_destroy(m);
    } else {
        rnn_kx_wentry *w = calloc(RNN_KX_MAX_LAYERS, sizeof *w);
        rnn_kx_err e;
        int n;
        if (w && rnn_kx_build((const char *)data, size, NULL, &m, w, &n, &e) == 0)
            rnn_model_destroy(m);
        free(w);
    }
    return 0;
}
