/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX export: builds the example architectures in librnn (sentiment
 * Embedding + BiLSTM + Dense and the sentiment example's BiGRU with global
 * max and average pooling, POS tagger Embedding + BiGRU + per-step
 * Dense, a tagger ending in log_softmax, 2-layer char GRU, a seq2seq
 * encoder with its states, and the merge modes and cells ONNX can
 * express), runs them, exports each with
 * rnn_model_save_onnx(), and checks that librnn's own reader gives the same
 * outputs back. With a directory argument it also leaves there each
 * <name>.onnx and <name>.io (inputs, librnn's outputs) for check_export.py,
 * which runs them with ONNX Runtime.
 *   export_cases [DIR]
 */
#define _POSIX_C_SOURCE 200809L
#include <rnn.h>
#include <rnn/onnx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensors.h"

#define N 3
#define T 7

static int failed;

#define CHECK(x)                                                                              \
    do {                                                                                      \
        rnn_status st_ = (x);                                                                 \
        if (st_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, rnn_last_error());   \
            return 1;                                                                         \
        }                                                                                     \
    } while (0)

static int write_io(const char *path, int n, int n_inputs, const rnn_tensor *const *t)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    uint32_t hdr[3] = {1, (uint32_t)n, (uint32_t)n_inputs};
    fwrite("RNNT", 1, 4, f);
    fwrite(hdr, 4, 3, f);
    for (int k = 0; k < n; k++) {
        rnn_dtype dt;
        int r;
        int64_t d[8];
        size_t nb;
        const void *p;
        rnn_tensor_dtype(t[k], &dt);
        rnn_tensor_shape(t[k], d, 8, &r);
        rnn_tensor_nbytes(t[k], &nb);
        rnn_tensor_data_const(t[k], &p);
        uint32_t h[2] = {dt == RNN_F32 ? 1u : 2u, (uint32_t)r};
        fwrite(h, 4, 2, f);
        fwrite(d, 8, (size_t)r, f);
        fwrite(p, 1, nb, f);
    }
    return fclose(f) == 0;
}

static rnn_model *new_model(int ids, int64_t vocab, int64_t emb, int64_t features)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 42;
    rnn_model *m;
    if (rnn_model_create(&mo, &m))
        return NULL;
    int64_t any[2] = {0, features};
    if (ids) {
        rnn_model_add_input(m, RNN_I32, 1, any, NULL);
        rnn_embedding_options e;
        rnn_embedding_options_init(&e);
        e.input_dim = vocab, e.output_dim = emb;
        rnn_model_add_embedding(m, &e, NULL);
    } else {
        rnn_model_add_input(m, RNN_F32, 2, any, NULL);
    }
    return m;
}

static int add_rec(rnn_model *m, rnn_cell_type cell, int64_t units, int bidi, rnn_merge_mode mm,
                   int seqs, int state, int reset_after, rnn_activation act, rnn_layer **out)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, cell);
    o.units = units, o.bidirectional = bidi, o.merge_mode = mm;
    o.return_sequences = seqs, o.return_state = state, o.activation = act;
    if (cell == RNN_GRU)
        o.reset_after = reset_after;
    CHECK(rnn_model_add_recurrent(m, &o, out));
    /* non-zero biases, so that the bias layout is checked too */
    int np;
    rnn_layer_num_params(*out, &np);
    for (int k = 0; k < np; k++) {
        const char *pn;
        rnn_tensor *v;
        rnn_layer_param(*out, k, &pn, &v, NULL);
        if (strstr(pn, "bias")) {
            int64_t n;
            float *p;
            rnn_tensor_numel(v, &n);
            rnn_tensor_data(v, (void **)&p);
            for (int64_t j = 0; j < n; j++)
                p[j] = 0.05f * (float)((j * 7) % 11) - 0.25f;
        }
    }
    rnn_layer_params_changed(*out);
    return 0;
}

static int add_dense(rnn_model *m, int64_t units, rnn_activation act)
{
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = units, d.activation = act;
    CHECK(rnn_model_add_dense(m, &d, NULL));
    return 0;
}

/* Runs, exports, re-imports and compares; leaves files in dir. */
static int finish(const char *name, rnn_model *m, int ids, int64_t vocab, int64_t features,
                  const char *dir, int reimport)
{
    int64_t d2[2] = {N, T}, d3[3] = {N, T, features};
    rnn_tensor *x;
    if (ids) {
        CHECK(rnn_tensor_create(RNN_I32, 2, d2, &x));
        int32_t *p;
        rnn_tensor_data(x, (void **)&p);
        for (int k = 0; k < N * T; k++)
            p[k] = (int32_t)((k * 13 + 5) % vocab);
    } else {
        CHECK(rnn_tensor_create(RNN_F32, 3, d3, &x));
        float *p;
        rnn_tensor_data(x, (void **)&p);
        for (int64_t k = 0; k < N * T * features; k++)
            p[k] = (float)((k * 37) % 19) / 9.0f - 1.0f;
    }
    const rnn_tensor *xs = x;
    CHECK(rnn_model_forward(m, 1, &xs, NULL, 0));
    char path[1024], iop[1024];
    snprintf(path, sizeof path, "%s/%s.onnx", dir, name);
    snprintf(iop, sizeof iop, "%s/%s.io", dir, name);
    CHECK(rnn_model_save_onnx(m, path));
    rnn_model *back = NULL;
    if (reimport) {
        CHECK(rnn_model_load_onnx(path, NULL, &back));
        CHECK(rnn_model_forward(back, 1, &xs, NULL, 0));
    }
    int no;
    rnn_model_num_outputs(m, &no);
    const rnn_tensor *all[IO_MAX] = {x};
    for (int k = 0; k < no; k++) {
        const rnn_tensor *a, *b;
        CHECK(rnn_model_output(m, k, &a));
        all[1 + k] = a;
        if (!back)
            continue;
        CHECK(rnn_model_output(back, k, &b));
        double diff = max_abs_diff(a, b);
        if (diff > 1e-5) {
            fprintf(stderr, "%s: output %d differs after export and import: %g\n", name, k,
                    diff);
            failed = 1;
        }
    }
    if (!write_io(iop, 1 + no, 1, all)) {
        fprintf(stderr, "%s: cannot write %s\n", name, iop);
        failed = 1;
    }
    printf("ok: %s exported (%d outputs)%s\n", name, no, back ? " and read back" : "");
    rnn_model_destroy(back);
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
    return 0;
}

/* An encoder-decoder (the decoder starts from the encoder's states), read
 * from the PyTorch fixture, exported, read back and left for ONNX Runtime. */
static int seq2seq_case(const char *dir)
{
    rnn_model *m, *back;
    io_set io;
    CHECK(rnn_model_load_onnx(ONNX_FIXTURES "/torch_seq2seq.onnx", NULL, &m));
    if (!io_read(ONNX_FIXTURES "/torch_seq2seq.io", &io)) {
        fprintf(stderr, "cannot read torch_seq2seq.io\n");
        return 1;
    }
    const rnn_tensor *in[2] = {io.t[0], io.t[1]};
    CHECK(rnn_model_forward(m, 2, in, NULL, 0));
    char path[1024], iop[1024];
    snprintf(path, sizeof path, "%s/seq2seq.onnx", dir);
    snprintf(iop, sizeof iop, "%s/seq2seq.io", dir);
    CHECK(rnn_model_save_onnx(m, path));
    CHECK(rnn_model_load_onnx(path, NULL, &back));
    CHECK(rnn_model_forward(back, 2, in, NULL, 0));
    const rnn_tensor *a, *b;
    CHECK(rnn_model_output(m, 0, &a));
    CHECK(rnn_model_output(back, 0, &b));
    double d = max_abs_diff(a, b);
    if (d > 1e-5) {
        fprintf(stderr, "seq2seq: output differs after export and import: %g\n", d);
        failed = 1;
    }
    const rnn_tensor *all[3] = {io.t[0], io.t[1], a};
    if (!write_io(iop, 3, 2, all))
        failed = 1;
    printf("ok: seq2seq (decoder from the encoder's states) exported and read back\n");
    rnn_model_destroy(back);
    rnn_model_destroy(m);
    io_free(&io);
    return 0;
}

static int cases(const char *dir)
{
    if (seq2seq_case(dir))
        return 1;
    rnn_model *m;
    rnn_layer *r;
    /* sentiment: Embedding + BiLSTM (final states) + Dense sigmoid */
    m = new_model(1, 40, 8, 0);
    if (add_rec(m, RNN_LSTM, 6, 1, RNN_MERGE_CONCAT, 0, 0, 1, RNN_ACT_TANH, &r) ||
        add_dense(m, 1, RNN_ACT_SIGMOID) || finish("sentiment", m, 1, 40, 0, dir, 1))
        return 1;
    /* sentiment as examples/sentiment builds it: Embedding + SpatialDropout1D + BiGRU
     * (sequences) + global max and average pooling side by side + Dropout + Dense sigmoid */
    m = new_model(1, 40, 8, 0);
    CHECK(rnn_model_add_spatial_dropout1d(m, 0.4f, NULL));
    if (add_rec(m, RNN_GRU, 6, 1, RNN_MERGE_CONCAT, 1, 0, 1, RNN_ACT_TANH, &r))
        return 1;
    {
        rnn_layer *pool[2];
        CHECK(rnn_model_add_global_pooling(m, RNN_POOL_MAX, &pool[0]));
        CHECK(rnn_model_connect_next(m, r, 0));
        CHECK(rnn_model_add_global_pooling(m, RNN_POOL_AVERAGE, &pool[1]));
        CHECK(rnn_model_add_concatenate(m, 2, pool, NULL, NULL));
    }
    CHECK(rnn_model_add_dropout(m, 0.4f, NULL));
    if (add_dense(m, 1, RNN_ACT_SIGMOID) || finish("sentiment_pooling", m, 1, 40, 0, dir, 1))
        return 1;
    /* POS tagger: Embedding + BiGRU + Dropout + per-step Dense softmax */
    m = new_model(1, 50, 8, 0);
    if (add_rec(m, RNN_GRU, 7, 1, RNN_MERGE_CONCAT, 1, 0, 1, RNN_ACT_TANH, &r))
        return 1;
    CHECK(rnn_model_add_dropout(m, 0.3f, NULL));
    if (add_dense(m, 5, RNN_ACT_SOFTMAX) || finish("tagger", m, 1, 50, 0, dir, 1))
        return 1;
    /* a tagger ending in log-probabilities: Dense(log_softmax) then Dense + Activation
     * (log_softmax), each a LogSoftmax over the last axis */
    m = new_model(1, 50, 8, 0);
    if (add_rec(m, RNN_LSTM, 6, 1, RNN_MERGE_CONCAT, 1, 0, 1, RNN_ACT_TANH, &r) ||
        add_dense(m, 7, RNN_ACT_LOG_SOFTMAX) || add_dense(m, 5, RNN_ACT_LINEAR))
        return 1;
    CHECK(rnn_model_add_activation(m, RNN_ACT_LOG_SOFTMAX, NULL));
    if (finish("tagger_log_softmax", m, 1, 50, 0, dir, 1))
        return 1;
    /* 2-layer char GRU (reset_after=0 for the second) */
    m = new_model(1, 30, 10, 0);
    if (add_rec(m, RNN_GRU, 9, 0, RNN_MERGE_CONCAT, 1, 0, 1, RNN_ACT_TANH, &r) ||
        add_rec(m, RNN_GRU, 9, 0, RNN_MERGE_CONCAT, 1, 0, 0, RNN_ACT_TANH, &r) ||
        add_dense(m, 30, RNN_ACT_SOFTMAX) || finish("char_gru", m, 1, 30, 0, dir, 1))
        return 1;
    /* seq2seq encoder: outputs and final h, c */
    m = new_model(1, 25, 6, 0);
    if (add_rec(m, RNN_LSTM, 8, 0, RNN_MERGE_CONCAT, 1, 1, 1, RNN_ACT_TANH, &r))
        return 1;
    {
        rnn_layer *ls[3] = {r, r, r};
        int os[3] = {0, 1, 2};
        CHECK(rnn_model_set_outputs(m, 3, ls, os));
    }
    if (finish("encoder", m, 1, 25, 0, dir, 1))
        return 1;
    /* merge modes and SimpleRNN relu on float input (the reader does not take
     * sum/mul/ave merges back: ONNX Runtime checks these) */
    const rnn_merge_mode modes[3] = {RNN_MERGE_SUM, RNN_MERGE_MUL, RNN_MERGE_AVE};
    const char *names[3] = {"bidi_sum_rnn_relu", "bidi_mul_lstm", "bidi_ave_gru_last"};
    for (int k = 0; k < 3; k++) {
        m = new_model(0, 0, 0, 4);
        rnn_cell_type cell = k == 0 ? RNN_SIMPLE_RNN : k == 1 ? RNN_LSTM : RNN_GRU;
        if (add_rec(m, cell, 5, 1, modes[k], k < 2, 0, 1,
                    k == 0 ? RNN_ACT_RELU : RNN_ACT_TANH, &r))
            return 1;
        CHECK(rnn_model_add_activation(m, RNN_ACT_TANH, NULL));
        if (add_dense(m, 3, RNN_ACT_RELU) || finish(names[k], m, 0, 0, 4, dir, 0))
            return 1;
    }
    /* refused: mask_zero */
    {
        rnn_model_options mo;
        rnn_model_options_init(&mo);
        CHECK(rnn_model_create(&mo, &m));
        int64_t any[1] = {0};
        rnn_model_add_input(m, RNN_I32, 1, any, NULL);
        rnn_embedding_options e;
        rnn_embedding_options_init(&e);
        e.input_dim = 5, e.output_dim = 2, e.mask_zero = 1;
        CHECK(rnn_model_add_embedding(m, &e, NULL));
        char path[1024];
        snprintf(path, sizeof path, "%s/refused.onnx", dir);
        if (rnn_model_save_onnx(m, path) != RNN_ERR_UNSUPPORTED ||
            !strstr(rnn_last_error(), "rnn_model_save_onnx: layer 'embedding' (Embedding): "
                                      "mask_zero")) {
            fprintf(stderr, "mask_zero not refused: %s\n", rnn_last_error());
            failed = 1;
        } else {
            printf("ok: %s\n", rnn_last_error());
        }
        rnn_model_destroy(m);
    }
    return 0;
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/onnx_export_XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
    if (!dir)
        return 1;
    int rc = cases(dir);
    if (argc <= 1) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
    return rc || failed;
}
