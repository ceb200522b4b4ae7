/* SPDX-License-Identifier: Apache-2.0 */
/* Writes small untrained models into DIR carrying the metadata of each
 * example program (as their --save writes it), for
 * tests/examples/cross_load.py: the examples must load their own and refuse
 * the others' with a clear message, without any data.
 *
 *   make_meta_models DIR
 *
 * The sizes mirror the examples' (pos_tagger: embedding of VOCAB + FIRST_WORD
 * = 10000 + 176 ids, 12 tags; sentiment: words + 2 ids, 1 output; char_lm:
 * one id per character): a change there fails the positive checks. */
#include <stdio.h>
#include <stdlib.h>

#include "rnn.h"

#define CHECK(call)                                                                        \
    do {                                                                                   \
        if ((call) != RNN_OK) {                                                            \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, rnn_last_error());          \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/* Input(int) -> Embedding(input_dim, 4) [-> GRU(4) sequences] [-> average pooling]
 * -> Dense(units, softmax or sigmoid). */
static rnn_model *model(int64_t input_dim, int64_t units, int recurrent, int pool)
{
    rnn_model *m;
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 5;
    CHECK(rnn_model_create(&mo, &m));
    int64_t any[1] = {0};
    CHECK(rnn_model_add_input(m, RNN_I32, 1, any, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = input_dim, e.output_dim = 4;
    CHECK(rnn_model_add_embedding(m, &e, NULL));
    if (recurrent) {
        rnn_recurrent_options r;
        rnn_recurrent_options_init(&r, RNN_GRU);
        r.units = 4, r.return_sequences = 1;
        CHECK(rnn_model_add_recurrent(m, &r, NULL));
    }
    if (pool)
        CHECK(rnn_model_add_global_pooling(m, RNN_POOL_AVERAGE, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = units, d.activation = units == 1 ? RNN_ACT_SIGMOID : RNN_ACT_SOFTMAX;
    CHECK(rnn_model_add_dense(m, &d, NULL));
    return m;
}

static void save(rnn_model *m, const char *dir, const char *name, const char *const *kv)
{
    for (; kv && kv[0]; kv += 2)
        CHECK(rnn_model_set_metadata(m, kv[0], kv[1]));
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(rnn_model_save(m, path));
    rnn_model_destroy(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_meta_models DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    const char *pos[] = {"example", "pos_tagger", "vocab", "the\ncat\nsat\n", NULL};
    save(model(10176, 12, 0, 0), dir, "pos.rnn", pos);
    save(model(10176, 2, 0, 0), dir, "pos_bad_units.rnn", pos); /* hand-made: 2 tags */
    const char *sent[] = {"example", "sentiment", "dataset", "uci", "maxlen", "100",
                          "vocab", "good\nbad\nmovie\n", NULL};
    save(model(5, 1, 0, 1), dir, "sentiment.rnn", sent);
    save(model(3, 1, 0, 1), dir, "sentiment_bad_vocab.rnn", sent); /* 3 ids, 5 needed */
    const char *chr[] = {"example", "char_lm", "chars", "\\x0a abc", "mode", "stateless",
                         "seq_len", "10", NULL};
    save(model(5, 5, 1, 0), dir, "char_lm.rnn", chr);
    const char *dates[] = {"example", "seq2seq", "task", "dates", "chars", "0123", NULL};
    save(model(8, 8, 0, 0), dir, "seq2seq_dates.rnn", dates);
    save(model(8, 8, 0, 0), dir, "plain.rnn", NULL);
    return 0;
}
