/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for rnn_model_load: any bytes must give RNN_OK or a clean
 * error, never a crash, a sanitizer report or a leak. A model that loads
 * must save again.
 * Built and run by tools/fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 * With RNN_FUZZ_SEED_DIR set, start-up writes a few real model files there
 * as the seed corpus.
 */
#define _POSIX_C_SOURCE 200809L
#include <rnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void seed(const char *dir, int variant)
{
    rnn_model *m;
    if (rnn_model_create(NULL, &m))
        return;
    int64_t tok[1] = {0}, seq[2] = {0, 3};
    if (variant == 0) {
        rnn_model_add_input(m, RNN_I32, 1, tok, NULL);
        rnn_embedding_options e;
        rnn_embedding_options_init(&e);
        e.input_dim = 6, e.output_dim = 2, e.mask_zero = 1;
        rnn_model_add_embedding(m, &e, NULL);
    } else {
        rnn_model_add_input(m, RNN_F32, 2, seq, NULL);
    }
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, variant == 2 ? RNN_GRU : RNN_LSTM);
    o.units = 2, o.bidirectional = variant != 1, o.return_sequences = variant == 1;
    rnn_model_add_recurrent(m, &o, NULL);
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2, d.activation = RNN_ACT_SOFTMAX;
    rnn_model_add_dense(m, &d, NULL);
    char p[512];
    snprintf(p, sizeof p, "%s/seed%d.rnn", dir, variant);
    rnn_model_save(m, p);
    rnn_model_destroy(m);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "/tmp/rnn_fuzz_%ld.rnn", (long)getpid());
    const char *dir = getenv("RNN_FUZZ_SEED_DIR");
    if (dir)
        for (int v = 0; v < 3; v++)
            seed(dir, v);
    rnn_set_num_threads(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    rnn_model *m = NULL;
    rnn_status st = rnn_model_load(path, NULL, &m);
    if (st == RNN_OK) {
        /* What loads must save again. */
        if (rnn_model_save(m, path) != RNN_OK)
            abort();
        rnn_model_destroy(m);
    } else if (m != NULL || rnn_memory_used() != 0) {
        abort(); /* a failed load must hand back nothing and keep nothing */
    }
    return 0;
}
