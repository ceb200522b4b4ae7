/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Step-wise decoding speed: an attentional LSTM encoder-decoder of the
 * fra-eng example's size (embed 128, LSTM 256, general attention, Dense 256
 * tanh, Dense V softmax) generating L tokens with rnn_model_decode() (the
 * encoder once, then one decoder step per token on carried states), against
 * the naive decoder that re-runs the whole model on the growing prefix, in
 * the same run.
 *
 *   decode_bench [--runs N] [--batch N] [--length L] [--vocab V] [--beam K] [--threads N]
 *                [--precision f32|bf16]
 *
 * Prints medians (and minimums) of N runs in milliseconds per sequence batch,
 * microseconds per generated token, and the ratio.
 */
#define _POSIX_C_SOURCE 200809L
#include <rnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

#define CHECK(call) BENCH_CHECK("decode_bench", call)

static rnn_model *build(int64_t V)
{
    rnn_model *m;
    CHECK(rnn_model_create(NULL, &m));
    int64_t any[1] = {0};
    rnn_layer *enc, *dec, *att;
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = V, e.output_dim = 128, e.mask_zero = 1;
    CHECK(rnn_model_add_input(m, RNN_I32, 1, any, NULL));
    CHECK(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 256, r.return_sequences = 1, r.return_state = 1;
    CHECK(rnn_model_add_recurrent(m, &r, &enc));
    CHECK(rnn_model_add_input(m, RNN_I32, 1, any, NULL));
    CHECK(rnn_model_add_embedding(m, &e, NULL));
    r.return_state = 0;
    CHECK(rnn_model_add_recurrent(m, &r, &dec));
    rnn_layer *st[2] = {enc, enc};
    int so[2] = {1, 2};
    CHECK(rnn_layer_connect_initial_state(dec, 2, st, so));
    rnn_attention_options ao;
    rnn_attention_options_init(&ao);
    ao.score = RNN_ATTENTION_GENERAL;
    CHECK(rnn_model_add_attention(m, &ao, dec, 0, enc, 0, &att));
    rnn_layer *parts[2] = {att, dec};
    CHECK(rnn_model_add_concatenate(m, 2, parts, NULL, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 256, d.activation = RNN_ACT_TANH;
    CHECK(rnn_model_add_dense(m, &d, NULL));
    d.units = V, d.activation = RNN_ACT_SOFTMAX;
    CHECK(rnn_model_add_dense(m, &d, NULL));
    return m;
}

int main(int argc, char **argv)
{
    int runs = 7, L = 20, K = 1, threads = 0, bf16 = 0;
    int64_t N = 1, V = 10000, S = 12;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--runs"))
            runs = (int)v;
        else if (!strcmp(argv[i], "--batch"))
            N = v;
        else if (!strcmp(argv[i], "--length"))
            L = (int)v;
        else if (!strcmp(argv[i], "--vocab"))
            V = v;
        else if (!strcmp(argv[i], "--beam"))
            K = (int)v;
        else if (!strcmp(argv[i], "--threads"))
            threads = (int)v;
        else if (!strcmp(argv[i], "--precision") &&
                 (!strcmp(argv[i + 1], "f32") || !strcmp(argv[i + 1], "bf16")))
            bf16 = !strcmp(argv[i + 1], "bf16");
        else {
            fprintf(stderr, "usage: decode_bench [--runs N] [--batch N] [--length L] "
                            "[--vocab V] [--beam K] [--threads N] [--precision f32|bf16]\n");
            return 2;
        }
    }
    if (runs < 1 || N < 1 || L < 1 || V < 8 || K < 1) {
        fprintf(stderr, "decode_bench: bad arguments\n");
        return 2;
    }
    if (threads > 0)
        CHECK(rnn_set_num_threads(threads));
    rnn_model *m = build(V);
    if (bf16)
        CHECK(rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16));
    int64_t ds[2] = {N, S}, dt[2] = {N, L}, dl[1] = {N};
    rnn_tensor *src, *tok, *len;
    CHECK(rnn_tensor_create(RNN_I32, 2, ds, &src));
    CHECK(rnn_tensor_create(RNN_I32, 2, dt, &tok));
    CHECK(rnn_tensor_create(RNN_I32, 1, dl, &len));
    int32_t *s;
    rnn_tensor_data(src, (void **)&s);
    for (int64_t i = 0; i < N * S; i++)
        s[i] = (int32_t)(4 + (i * 7919) % (V - 4));
    rnn_decode_options o;
    rnn_decode_options_init(&o);
    o.end_token = -1; /* always L tokens */
    o.max_length = L;
    o.strategy = K > 1 ? RNN_DECODE_BEAM : RNN_DECODE_GREEDY;
    o.beam_width = K;
    const rnn_tensor *in[2] = {src, NULL};
    double *t_step = malloc(sizeof(double) * (size_t)runs), *t_naive = malloc(sizeof(double) * (size_t)runs);
    /* Naive: the whole model on the growing prefix (greedy), for comparison. */
    int32_t *prefix = malloc(sizeof(int32_t) * (size_t)(N * (L + 1)));
    if (!t_step || !t_naive || !prefix)
        return 1;
    CHECK(rnn_model_decode(m, &o, 2, in, NULL, tok, len, NULL)); /* warm-up */
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        CHECK(rnn_model_decode(m, &o, 2, in, NULL, tok, len, NULL));
        t_step[r] = now_ms() - t0;
        t0 = now_ms();
        for (int64_t n = 0; n < N; n++)
            prefix[n * (L + 1)] = o.start_token;
        for (int t = 1; t <= L; t++) {
            int64_t dp[2] = {N, t};
            rnn_tensor *pt;
            CHECK(rnn_tensor_create(RNN_I32, 2, dp, &pt));
            int32_t *p;
            rnn_tensor_data(pt, (void **)&p);
            for (int64_t n = 0; n < N; n++)
                memcpy(p + n * t, prefix + n * (L + 1), sizeof(int32_t) * (size_t)t);
            const rnn_tensor *fin[2] = {src, pt};
            CHECK(rnn_model_forward(m, 2, fin, NULL, 0));
            const rnn_tensor *y;
            CHECK(rnn_model_output(m, 0, &y));
            const float *py;
            rnn_tensor_data((rnn_tensor *)y, (void **)&py);
            for (int64_t n = 0; n < N; n++) {
                const float *row = py + ((n * t) + t - 1) * V;
                int64_t best = 1;
                for (int64_t v = 2; v < V; v++)
                    if (row[v] > row[best])
                        best = v;
                prefix[n * (L + 1) + t] = (int32_t)best;
            }
            rnn_tensor_destroy(pt);
        }
        t_naive[r] = now_ms() - t0;
    }
    const double ms = bench_median(t_step, runs), nv = bench_median(t_naive, runs);
    printf("decode (%s, batch %lld, %d tokens, vocabulary %lld, %d runs):\n",
           K > 1 ? "beam search" : "greedy", (long long)N, L, (long long)V, runs);
    printf("  step-wise rnn_model_decode: median %.2f ms (min %.2f), %.1f us per token step\n", ms,
           t_step[0], 1e3 * ms / L);
    printf("  naive re-run of the prefix:  median %.2f ms (min %.2f)%s\n", nv, t_naive[0],
           K > 1 ? " (greedy)" : "");
    printf("  ratio naive / step-wise: %.1fx\n", nv / ms);
    free(t_step);
    free(t_naive);
    free(prefix);
    rnn_tensor_destroy(src);
    rnn_tensor_destroy(tok);
    rnn_tensor_destroy(len);
    rnn_model_destroy(m);
    return 0;
}
