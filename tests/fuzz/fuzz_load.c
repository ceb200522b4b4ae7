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

/* A functional encoder-decoder with shared embedding, conv, pooling and
 * concatenation, saved with its Adam state. */
static void seed_functional(const char *dir)
{
    rnn_model *m;
    if (rnn_model_create(NULL, &m))
        return;
    int64_t tok[1] = {0};
    rnn_layer *emb, *enc, *dec, *conv, *pool, *cat;
    rnn_model_add_input(m, RNN_I32, 1, tok, NULL);
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 5, e.output_dim = 2;
    rnn_model_add_embedding(m, &e, &emb);
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 2, o.return_state = 1;
    rnn_model_add_recurrent(m, &o, &enc);
    rnn_model_add_input(m, RNN_I32, 1, tok, NULL);
    rnn_model_add_shared(m, emb, NULL);
    o.return_state = 0, o.return_sequences = 1;
    rnn_model_add_recurrent(m, &o, &dec);
    rnn_layer *src[2] = {enc, enc};
    int outs[2] = {1, 2};
    rnn_layer_connect_initial_state(dec, 2, src, outs);
    rnn_conv1d_options c;
    rnn_conv1d_options_init(&c);
    c.filters = 2, c.kernel_size = 2, c.padding = RNN_PADDING_SAME;
    rnn_model_add_conv1d(m, &c, &conv);
    rnn_model_add_max_pooling1d(m, 2, 1, RNN_PADDING_SAME, &pool);
    rnn_layer *ops[2] = {dec, pool};
    rnn_model_add_concatenate(m, 2, ops, NULL, &cat);
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 3;
    rnn_layer *head;
    rnn_model_add_dense(m, &d, &head);
    rnn_layer *mo[2] = {head, enc};
    int mi[2] = {0, 1};
    rnn_model_set_outputs(m, 2, mo, mi);
    rnn_compile_options co;
    rnn_compile_options_init(&co, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    rnn_model_compile(m, &co, &oo);
    char p[512];
    snprintf(p, sizeof p, "%s/seed_functional.rnn", dir);
    rnn_model_save_ex(m, p, RNN_SAVE_OPTIMIZER);
    rnn_model_destroy(m);
}

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
    {
        for (int v = 0; v < 3; v++)
            seed(dir, v);
        seed_functional(dir);
    }
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
