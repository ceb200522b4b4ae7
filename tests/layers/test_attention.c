/* SPDX-License-Identifier: Apache-2.0 */
/* Attention layers and step-wise decoding (their gradient checks are gradcheck/test_attention.c).
 *
 * layers: attention against a direct double-precision formula, masking,
 *   save/load, errors; decoding against a naive decoder that re-runs the
 *   whole model on the growing prefix (greedy, prompts), beam search with
 *   width 1 == greedy, beam search == exhaustive search on a small model,
 *   sampling (top-k 1 and tiny top-p == greedy, seeds), step API errors,
 *   scheduled sampling. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/attention_models.h"


/* Direct formula in double precision. */
static void reference(rnn_attention_score s, int scale, rnn_layer *att, const float *q,
                      const float *v, int64_t dq, int64_t dv, const int32_t *ql,
                      const int32_t *vl, double *ctx, double *w)
{
    int np;
    rnn_layer_num_params(att, &np);
    rnn_tensor *p[4] = {0};
    for (int k = 0; k < np; k++)
        rnn_layer_param(att, k, NULL, &p[k], NULL);
    const int64_t U = 5;
    memset(ctx, 0, sizeof(double) * N * TQ * dv);
    memset(w, 0, sizeof(double) * N * TQ * TV);
    for (int n = 0; n < N; n++)
        for (int i = 0; i < (ql ? ql[n] : TQ); i++) {
            const int Lv = vl ? vl[n] : TV;
            double e[TV], mx = -1e300, sum = 0;
            const float *qi = q + (n * TQ + i) * dq;
            for (int j = 0; j < Lv; j++) {
                const float *vj = v + (n * TV + j) * dv;
                double sc = 0;
                if (s == RNN_ATTENTION_DOT) {
                    for (int d = 0; d < dq; d++)
                        sc += (double)qi[d] * vj[d];
                } else if (s == RNN_ATTENTION_GENERAL) {
                    const float *W = tm_f(p[0]); /* (dv, dq) */
                    for (int a = 0; a < dq; a++) {
                        double kv = 0;
                        for (int b = 0; b < dv; b++)
                            kv += (double)vj[b] * W[b * dq + a];
                        sc += qi[a] * kv;
                    }
                } else {
                    const float *Wq = tm_f(p[0]), *Wv = tm_f(p[1]), *b = tm_f(p[2]), *a = tm_f(p[3]);
                    for (int u = 0; u < U; u++) {
                        double z = b[u];
                        for (int d = 0; d < dq; d++)
                            z += (double)qi[d] * Wq[d * U + u];
                        for (int d = 0; d < dv; d++)
                            z += (double)vj[d] * Wv[d * U + u];
                        sc += a[u] * tanh(z);
                    }
                }
                if (scale)
                    sc /= sqrt((double)dq);
                e[j] = sc;
                mx = sc > mx ? sc : mx;
            }
            for (int j = 0; j < Lv; j++)
                sum += exp(e[j] - mx);
            for (int j = 0; j < Lv; j++) {
                double a = exp(e[j] - mx) / sum;
                w[(n * TQ + i) * TV + j] = a;
                for (int d = 0; d < dv; d++)
                    ctx[(n * TQ + i) * dv + d] += a * v[(n * TV + j) * dv + d];
            }
        }
}

START_TEST(attention_matches_formula_masks_and_saves)
{
    struct {
        rnn_attention_score s;
        int scale;
        int64_t dq, dv;
    } cases[] = {{RNN_ATTENTION_DOT, 0, 4, 4},
                 {RNN_ATTENTION_DOT, 1, 4, 4},
                 {RNN_ATTENTION_GENERAL, 0, 4, 3},
                 {RNN_ATTENTION_ADDITIVE, 0, 2, 3}};
    char path[] = "/tmp/rnn_attXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int padded = 0; padded < 2; padded++) {
            rnn_layer *att;
            rnn_model *m = att_model(cases[c].s, cases[c].scale, cases[c].dq, cases[c].dv, &att);
            int64_t dq[3] = {N, TQ, cases[c].dq}, dv[3] = {N, TV, cases[c].dv}, nd[1] = {N};
            rnn_tensor *x[2] = {tm_tensor(3, dq, 1.5), tm_tensor(3, dv, 1.5)};
            rnn_tensor *len[2] = {i32(1, nd, QL), i32(1, nd, VL)};
            const rnn_tensor *const *lp = padded ? (const rnn_tensor *const *)len : NULL;
            ck_ok(rnn_model_forward(m, 2, (const rnn_tensor *const *)x, lp, 0));
            const rnn_tensor *ctx, *w;
            ck_ok(rnn_model_output(m, 0, &ctx));
            ck_ok(rnn_model_output(m, 1, &w));
            double rc[N * TQ * 4], rw[N * TQ * TV];
            reference(cases[c].s, cases[c].scale, att, tm_f(x[0]), tm_f(x[1]), cases[c].dq,
                      cases[c].dv, padded ? QL : NULL, padded ? VL : NULL, rc, rw);
            for (int64_t i = 0; i < tm_numel(ctx); i++)
                ck_assert_msg(fabs(tm_f(ctx)[i] - rc[i]) < 1e-5, "case %zu ctx[%lld] %g vs %g",
                              c, (long long)i, tm_f(ctx)[i], rc[i]);
            for (int64_t i = 0; i < tm_numel(w); i++)
                ck_assert_msg(fabs(tm_f(w)[i] - rw[i]) < 1e-6, "case %zu w[%lld] %g vs %g", c,
                              (long long)i, tm_f(w)[i], rw[i]);
            /* Weights sum to 1 on real query steps and are exactly 0 on padding. */
            for (int n = 0; n < N; n++)
                for (int i = 0; i < TQ; i++) {
                    double s = 0;
                    for (int j = 0; j < TV; j++) {
                        float a = tm_f(w)[(n * TQ + i) * TV + j];
                        if (padded && (j >= VL[n] || i >= QL[n]))
                            ck_assert(a == 0.0f);
                        s += a;
                    }
                    ck_assert(fabs(s - (padded && i >= QL[n] ? 0.0 : 1.0)) < 1e-5);
                }
            if (padded) {
                /* Save and load: the same outputs. */
                ck_ok(rnn_model_save(m, path));
                rnn_model *m2;
                ck_ok(rnn_model_load(path, NULL, &m2));
                ck_ok(rnn_model_forward(m2, 2, (const rnn_tensor *const *)x, lp, 0));
                const rnn_tensor *c2;
                ck_ok(rnn_model_output(m2, 0, &c2));
                ck_assert(memcmp(tm_f(c2), tm_f(ctx), sizeof(float) * (size_t)tm_numel(ctx)) == 0);
                char buf[4096];
                ck_ok(rnn_model_summary(m2, buf, sizeof buf, NULL));
                ck_assert_ptr_nonnull(strstr(buf, "attention"));
                rnn_model_destroy(m2);
            }
            for (int k = 0; k < 2; k++) {
                rnn_tensor_destroy(x[k]);
                rnn_tensor_destroy(len[k]);
            }
            rnn_model_destroy(m);
        }
    }
    unlink(path);
}
END_TEST

START_TEST(attention_errors)
{
    rnn_layer *att;
    rnn_model *m = att_model(RNN_ATTENTION_DOT, 0, 4, 4, &att);
    rnn_layer *q, *v;
    rnn_model_layer(m, 0, &q);
    rnn_model_layer(m, 1, &v);
    rnn_attention_options o;
    rnn_attention_options_init(&o);
    ck_rnn(rnn_model_add_attention(m, NULL, q, 0, v, 0, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options");
    o.struct_size = 4;
    ck_rnn(rnn_model_add_attention(m, &o, q, 0, v, 0, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("struct_size");
    rnn_attention_options_init(&o);
    o.score = 7;
    ck_rnn(rnn_model_add_attention(m, &o, q, 0, v, 0, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->score");
    rnn_attention_options_init(&o);
    ck_rnn(rnn_model_add_attention(m, &o, q, 3, v, 0, NULL), RNN_ERR_RANGE);
    ck_errmsg("query_output");
    ck_rnn(rnn_model_add_attention(m, &o, q, 0, NULL, 0, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("value");
    /* The weights output cannot feed a layer. */
    ck_rnn(rnn_model_add_attention(m, &o, att, 1, v, 0, NULL), RNN_ERR_SHAPE);
    ck_errmsg("query");
    ck_rnn(rnn_model_connect_next(m, att, 1), RNN_ERR_INVALID_ARG);
    ck_errmsg("attention weights");
    rnn_model_destroy(m);
    /* Dot needs equal sizes; vectors are not sequences. */
    m = am_new_model(1);
    int64_t a[2] = {0, 4}, b[2] = {0, 3}, vec[1] = {4};
    rnn_layer *qa, *vb, *vv;
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, a, &qa));
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, b, &vb));
    ck_ok(rnn_model_add_input(m, RNN_F32, 1, vec, &vv));
    ck_rnn(rnn_model_add_attention(m, &o, qa, 0, vb, 0, NULL), RNN_ERR_SHAPE);
    ck_errmsg("RNN_ATTENTION_GENERAL");
    ck_rnn(rnn_model_add_attention(m, &o, qa, 0, vv, 0, NULL), RNN_ERR_SHAPE);
    ck_errmsg("sequence");
    o.score = RNN_ATTENTION_GENERAL;
    ck_ok(rnn_model_add_attention(m, &o, qa, 0, vb, 0, NULL));
    rnn_model_destroy(m);
}
END_TEST

/* ------------------------------------------------------------ decoding */

enum { V = 6, START = 1, END = 2, ML = 7 };

/* Log-probability of next tokens after prefix (len P) for source row: the
 * naive way, a whole forward of the teacher-forced model. */
static void naive_next(rnn_model *m, const int32_t *src, int64_t S, const int32_t *prefix,
                       int64_t P, double *lp)
{
    int64_t ds[2] = {1, S}, dp[2] = {1, P};
    rnn_tensor *a = i32(2, ds, src), *b = i32(2, dp, prefix);
    const rnn_tensor *in[2] = {a, b};
    ck_ok(rnn_model_forward(m, 2, in, NULL, 0));
    const rnn_tensor *y;
    ck_ok(rnn_model_output(m, 0, &y));
    for (int v = 0; v < V; v++)
        lp[v] = log((double)tm_f(y)[(P - 1) * V + v]);
    rnn_tensor_destroy(a);
    rnn_tensor_destroy(b);
}

static const int32_t SRC[N][4] = {{3, 4, 5, 3}, {5, 5, 4, 0}, {4, 3, 3, 5}};

static rnn_tensor *src_batch(void)
{
    int64_t d[2] = {N, 4};
    return i32(2, d, &SRC[0][0]);
}

static void decode(rnn_model *m, const rnn_decode_options *o, rnn_tensor *src,
                   rnn_tensor *prefix, int32_t *tok, int32_t *len, float *score)
{
    int64_t dt[2] = {N, o->max_length}, dn[1] = {N};
    rnn_tensor *t, *l, *s;
    ck_ok(rnn_tensor_create(RNN_I32, 2, dt, &t));
    ck_ok(rnn_tensor_create(RNN_I32, 1, dn, &l));
    ck_ok(rnn_tensor_create(RNN_F32, 1, dn, &s));
    const rnn_tensor *in[2] = {src, prefix};
    ck_ok(rnn_model_decode(m, o, 2, in, NULL, t, l, s));
    void *p;
    rnn_tensor_data(t, &p);
    memcpy(tok, p, sizeof(int32_t) * (size_t)(N * o->max_length));
    rnn_tensor_data(l, &p);
    memcpy(len, p, sizeof(int32_t) * N);
    rnn_tensor_data(s, &p);
    memcpy(score, p, sizeof(float) * N);
    rnn_tensor_destroy(t);
    rnn_tensor_destroy(l);
    rnn_tensor_destroy(s);
}

START_TEST(greedy_and_beam_match_naive_decoding)
{
    for (int sc = 0; sc < 3; sc++) {
        rnn_model *m = seq2seq(V, (rnn_attention_score)sc, 0, 40 + (uint64_t)sc);
        /* Sharpen the output layer so sequences end at various lengths. */
        rnn_layer *out;
        int nl;
        rnn_model_num_layers(m, &nl);
        rnn_model_layer(m, nl - 1, &out);
        rnn_tensor *k;
        rnn_layer_param(out, 0, NULL, &k, NULL);
        for (int64_t i = 0; i < tm_numel(k); i++)
            tm_f(k)[i] *= 3.0f;
        rnn_layer_params_changed(out);
        rnn_tensor *src = src_batch();
        rnn_decode_options o;
        rnn_decode_options_init(&o);
        o.start_token = START, o.end_token = END, o.max_length = ML;
        int32_t tok[N * ML], len[N];
        float score[N];
        decode(m, &o, src, NULL, tok, len, score);
        /* Naive greedy: the whole model on the growing prefix. */
        for (int n = 0; n < N; n++) {
            int32_t prefix[ML + 1] = {START};
            int64_t P = 1;
            double s = 0;
            int L = ML;
            for (int t = 0; t < ML; t++) {
                double lp[V];
                naive_next(m, SRC[n], 4, prefix, P, lp);
                int best = 0;
                for (int v = 1; v < V; v++)
                    if (lp[v] > lp[best])
                        best = v;
                s += lp[best];
                if (best == END) {
                    L = t;
                    break;
                }
                ck_assert_msg(tok[n * ML + t] == best, "score %d row %d step %d: %d vs naive %d",
                              sc, n, t, tok[n * ML + t], best);
                prefix[P++] = best;
            }
            ck_assert_int_eq(len[n], L);
            for (int t = L; t < ML; t++)
                ck_assert_int_eq(tok[n * ML + t], END);
            ck_assert_msg(fabs(score[n] - s) < 1e-4, "score %g vs naive %g", score[n], s);
        }
        /* Beam width 1 is greedy. */
        rnn_decode_options b = o;
        b.strategy = RNN_DECODE_BEAM, b.beam_width = 1;
        int32_t tok1[N * ML], len1[N];
        float score1[N];
        decode(m, &b, src, NULL, tok1, len1, score1);
        ck_assert(memcmp(tok1, tok, sizeof tok) == 0);
        ck_assert(memcmp(len1, len, sizeof len) == 0);
        for (int n = 0; n < N; n++)
            ck_assert(fabsf(score1[n] - score[n]) < 1e-5f);
        /* Sampling with top_k 1, or a tiny top_p, is greedy too. */
        rnn_decode_options smp = o;
        smp.strategy = RNN_DECODE_SAMPLE, smp.top_k = 1, smp.seed = 9;
        decode(m, &smp, src, NULL, tok1, len1, score1);
        ck_assert(memcmp(tok1, tok, sizeof tok) == 0);
        smp.top_k = 0, smp.top_p = 1e-4f;
        decode(m, &smp, src, NULL, tok1, len1, score1);
        ck_assert(memcmp(tok1, tok, sizeof tok) == 0);
        /* Wider beams never score below greedy. */
        b.beam_width = 3;
        decode(m, &b, src, NULL, tok1, len1, score1);
        for (int n = 0; n < N; n++)
            ck_assert_msg(score1[n] >= score[n] - 1e-5f, "beam %g < greedy %g", score1[n],
                          score[n]);
        rnn_tensor_destroy(src);
        rnn_model_destroy(m);
    }
}
END_TEST

/* Exhaustive search over every sequence of at most `ml` tokens. */
static void best_sequence(rnn_model *m, const int32_t *src, int ml, int32_t *prefix, int P,
                          double s, double *best, int32_t *best_tok, int *best_len)
{
    double lp[V];
    naive_next(m, src, 4, prefix, P, lp);
    if (s + lp[END] > *best) { /* end here */
        *best = s + lp[END];
        *best_len = P - 1;
        memcpy(best_tok, prefix + 1, sizeof(int32_t) * (size_t)(P - 1));
    }
    if (P - 1 == ml - 1) { /* one more token reaches max_length without an end */
        for (int v = 0; v < V; v++)
            if (v != END && s + lp[v] > *best) {
                *best = s + lp[v];
                *best_len = ml;
                memcpy(best_tok, prefix + 1, sizeof(int32_t) * (size_t)(P - 1));
                best_tok[ml - 1] = v;
            }
        return;
    }
    for (int v = 0; v < V; v++) {
        if (v == END)
            continue;
        prefix[P] = v;
        best_sequence(m, src, ml, prefix, P + 1, s + lp[v], best, best_tok, best_len);
    }
}

START_TEST(beam_search_finds_the_best_sequence)
{
  /* Two output biases: one where ending at once is best, one where the best
   * sequences run to max_length. */
  const float ends[2] = {2.0f, 0.0f}, threes[2] = {3.0f, 4.0f};
  for (int cfg = 0; cfg < 2; cfg++) {
    rnn_model *m = seq2seq(V, RNN_ATTENTION_GENERAL, 0, 77);
    /* Sharper distributions and a costly end token: the best sequences are
     * not simply the empty one, and greedy choices are not optimal. */
    rnn_layer *out;
    int nl;
    rnn_model_num_layers(m, &nl);
    rnn_model_layer(m, nl - 1, &out);
    rnn_tensor *k, *bias;
    rnn_layer_param(out, 0, NULL, &k, NULL);
    rnn_layer_param(out, 1, NULL, &bias, NULL);
    for (int64_t i = 0; i < tm_numel(k); i++)
        tm_f(k)[i] *= 10.0f;
    tm_f(bias)[END] = ends[cfg];
    tm_f(bias)[3] = threes[cfg];
    tm_f(bias)[4] = 2.6f;
    rnn_layer_params_changed(out);
    rnn_tensor *src = src_batch();
    rnn_decode_options o;
    rnn_decode_options_init(&o);
    o.strategy = RNN_DECODE_BEAM, o.start_token = START, o.end_token = END, o.max_length = 3;
    o.beam_width = 125; /* (V-1)^3: nothing is ever pruned */
    int32_t tok[N * 3], len[N];
    float score[N];
    decode(m, &o, src, NULL, tok, len, score);
    for (int n = 0; n < N; n++) {
        int32_t prefix[8] = {START}, bt[8] = {0};
        double best = -1e300;
        int bl = 0;
        best_sequence(m, SRC[n], 3, prefix, 1, 0.0, &best, bt, &bl);
        ck_assert_msg(fabs(score[n] - best) < 1e-4, "row %d: beam %g, exhaustive %g", n, score[n],
                      best);
        ck_assert_int_eq(len[n], bl);
        for (int t = 0; t < bl; t++)
            ck_assert_int_eq(tok[n * 3 + t], bt[t]);
        printf("row %d: best sequence of %d tokens, log-probability %.4f (beam and exhaustive)\n",
               n, bl, best);
    }
    /* Greedy is no better than the best sequence (and here, worse for some row). */
    rnn_decode_options g = o;
    g.strategy = RNN_DECODE_GREEDY;
    int32_t gt[N * 3], gl[N];
    float gs[N];
    decode(m, &g, src, NULL, gt, gl, gs);
    int worse = 0;
    for (int n = 0; n < N; n++) {
        ck_assert(gs[n] <= score[n] + 1e-5f);
        worse += gs[n] < score[n] - 1e-4f;
    }
    printf("greedy found a worse sequence than beam search for %d of %d rows\n", worse, N);
    /* A length penalty ranks by logp / ((5 + len) / 6)^alpha: longer results
     * cannot rank lower than without it, when every score is negative. */
    o.length_penalty = 1.0f;
    int32_t pl[N];
    float ps[N];
    decode(m, &o, src, NULL, tok, pl, ps);
    for (int n = 0; n < N; n++)
        ck_assert_int_ge(pl[n], len[n]);
    rnn_tensor_destroy(src);
    rnn_model_destroy(m);
  }
}
END_TEST

START_TEST(prompted_single_input_model_and_sampling)
{
    /* Character-LM shape: ids -> Embedding -> GRU -> Dense softmax. */
    rnn_model *m = am_new_model(8);
    int64_t s1[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, s1, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = V, e.output_dim = 4;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = 6, r.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    r.cell = RNN_LSTM;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = V, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    const int32_t prompt[2][3] = {{3, 4, 1}, {5, 0, 3}};
    int64_t dp[2] = {2, 3};
    rnn_tensor *pt = i32(2, dp, &prompt[0][0]);
    rnn_decode_options o;
    rnn_decode_options_init(&o);
    o.end_token = -1, o.max_length = 6;
    int64_t dt[2] = {2, 6};
    rnn_tensor *tok;
    ck_ok(rnn_tensor_create(RNN_I32, 2, dt, &tok));
    const rnn_tensor *in[1] = {pt};
    ck_ok(rnn_model_decode(m, &o, 1, in, NULL, tok, NULL, NULL));
    int32_t *g;
    rnn_tensor_data(tok, (void **)&g);
    for (int n = 0; n < 2; n++) {
        int32_t seq[16];
        memcpy(seq, prompt[n], sizeof prompt[n]);
        for (int t = 0; t < 6; t++) {
            int64_t ds[2] = {1, 3 + t};
            rnn_tensor *x = i32(2, ds, seq);
            const rnn_tensor *xi[1] = {x};
            ck_ok(rnn_model_forward(m, 1, xi, NULL, 0));
            const rnn_tensor *y;
            ck_ok(rnn_model_output(m, 0, &y));
            const float *p = tm_f(y) + (2 + t) * V;
            int best = 0;
            for (int v = 1; v < V; v++)
                if (p[v] > p[best])
                    best = v;
            ck_assert_int_eq(g[n * 6 + t], best);
            seq[3 + t] = best;
            rnn_tensor_destroy(x);
        }
    }
    /* Sampling: same seed, same text; another seed, (here) another text. */
    int32_t a[12], b[12], c[12];
    o.strategy = RNN_DECODE_SAMPLE, o.temperature = 2.0f, o.seed = 1;
    ck_ok(rnn_model_decode(m, &o, 1, in, NULL, tok, NULL, NULL));
    memcpy(a, g, sizeof a);
    ck_ok(rnn_model_decode(m, &o, 1, in, NULL, tok, NULL, NULL));
    memcpy(b, g, sizeof b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    o.seed = 2;
    ck_ok(rnn_model_decode(m, &o, 1, in, NULL, tok, NULL, NULL));
    memcpy(c, g, sizeof c);
    ck_assert(memcmp(a, c, sizeof a) != 0);
    /* top_k 2: only the two most probable tokens of each step can come out. */
    o.top_k = 2, o.max_length = 1;
    int64_t d1[2] = {2, 1};
    rnn_tensor *tok1;
    ck_ok(rnn_tensor_create(RNN_I32, 2, d1, &tok1));
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    const rnn_tensor *y;
    ck_ok(rnn_model_output(m, 0, &y));
    float p0[V];
    memcpy(p0, tm_f(y) + 2 * V, sizeof p0);
    int32_t *g1;
    rnn_tensor_data(tok1, (void **)&g1);
    int counts[V] = {0};
    for (uint64_t s = 0; s < 400; s++) {
        o.seed = s;
        ck_ok(rnn_model_decode(m, &o, 1, in, NULL, tok1, NULL, NULL));
        counts[g1[0]]++;
    }
    int first = 0, second = -1;
    for (int v = 1; v < V; v++)
        if (p0[v] > p0[first])
            first = v;
    for (int v = 0; v < V; v++)
        if (v != first && (second < 0 || p0[v] > p0[second]))
            second = v;
    ck_assert_int_eq(counts[first] + counts[second], 400);
    /* Temperature 2 on two tokens: frequencies follow sqrt-probabilities. */
    double q1 = sqrt(p0[first]), q2 = sqrt(p0[second]), want = 400 * q1 / (q1 + q2);
    ck_assert_msg(fabs(counts[first] - want) < 5 * sqrt(want), "%d vs %g", counts[first], want);
    rnn_tensor_destroy(tok1);
    rnn_tensor_destroy(tok);
    rnn_tensor_destroy(pt);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(step_api_and_errors)
{
    rnn_model *m = seq2seq(V, RNN_ATTENTION_DOT, 0, 3);
    rnn_tensor *src = src_batch();
    int64_t d1[2] = {N, 1};
    const int32_t starts[N] = {START, START, START}, nx[N] = {3, 4, 5};
    rnn_tensor *st = i32(2, d1, starts), *next = i32(2, d1, nx);
    ck_rnn(rnn_model_step(m, next), RNN_ERR_STATE);
    ck_errmsg("rnn_model_step_begin");
    const rnn_tensor *in[2] = {src, st};
    /* The source as token input: the attention's values would change every step. */
    ck_rnn(rnn_model_step_begin(m, 0, 2, in, NULL), RNN_ERR_UNSUPPORTED);
    ck_errmsg("attention");
    ck_rnn(rnn_model_step_begin(m, 5, 2, in, NULL), RNN_ERR_RANGE);
    ck_errmsg("token_input");
    ck_ok(rnn_model_step_begin(m, 1, 2, in, NULL));
    /* Stepping with tokens [3,4,5] after [start] == a forward on [start, x]. */
    ck_ok(rnn_model_step(m, next));
    const rnn_tensor *y;
    ck_ok(rnn_model_output(m, 0, &y));
    float stepped[N * V];
    memcpy(stepped, tm_f(y), sizeof stepped);
    int32_t rows[N] = {0, 0, 7};
    ck_rnn(rnn_model_step_select(m, rows, N), RNN_ERR_RANGE);
    ck_errmsg("rows[2]");
    ck_rnn(rnn_model_step_select(m, rows, 2), RNN_ERR_INVALID_ARG);
    int64_t bad[2] = {2, 1};
    rnn_tensor *b = i32(2, bad, nx);
    ck_rnn(rnn_model_step(m, b), RNN_ERR_SHAPE);
    ck_ok(rnn_model_step_end(m));
    int64_t d2[2] = {N, 2};
    const int32_t two[N * 2] = {START, 3, START, 4, START, 5};
    rnn_tensor *full = i32(2, d2, two);
    const rnn_tensor *in2[2] = {src, full};
    ck_ok(rnn_model_forward(m, 2, in2, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &y));
    for (int n = 0; n < N; n++)
        for (int v = 0; v < V; v++)
            ck_assert(fabsf(tm_f(y)[(n * 2 + 1) * V + v] - stepped[n * V + v]) < 1e-5f);
    /* Decode option errors. */
    rnn_decode_options o;
    rnn_decode_options_init(&o);
    int64_t dt[2] = {N, 5};
    rnn_tensor *tok;
    ck_ok(rnn_tensor_create(RNN_I32, 2, dt, &tok));
    const rnn_tensor *din[2] = {src, NULL};
    ck_rnn(rnn_model_decode(m, &o, 2, din, NULL, tok, NULL, NULL), RNN_ERR_SHAPE);
    ck_errmsg("tokens");
    o.max_length = 5;
    o.temperature = 0;
    ck_rnn(rnn_model_decode(m, &o, 2, din, NULL, tok, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("temperature");
    rnn_decode_options_init(&o);
    o.max_length = 5, o.top_p = 1.5f;
    ck_rnn(rnn_model_decode(m, &o, 2, din, NULL, tok, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("top_p");
    rnn_decode_options_init(&o);
    o.max_length = 5, o.end_token = V;
    ck_rnn(rnn_model_decode(m, &o, 2, din, NULL, tok, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("end_token");
    rnn_decode_options_init(&o);
    o.max_length = 5, o.beam_width = 0, o.strategy = RNN_DECODE_BEAM;
    ck_rnn(rnn_model_decode(m, &o, 2, din, NULL, tok, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("beam_width");
    const rnn_tensor *nosrc[2] = {NULL, NULL};
    rnn_decode_options_init(&o);
    o.max_length = 5;
    ck_rnn(rnn_model_decode(m, &o, 2, nosrc, NULL, tok, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("inputs[0]");
    /* The model still trains normally after decoding (states reset). */
    ck_ok(rnn_model_forward(m, 2, in2, NULL, 0));
    /* Scheduled sampling: p 0 is teacher forcing, p 1 the previous step's argmax. */
    rnn_tensor *mixed;
    ck_ok(rnn_tensor_create(RNN_I32, 2, d2, &mixed));
    ck_ok(rnn_model_scheduled_sampling(m, 1, 0, 0.0f, 1, 2, in2, NULL, mixed));
    int32_t *mx;
    rnn_tensor_data(mixed, (void **)&mx);
    ck_assert(memcmp(mx, two, sizeof two) == 0);
    ck_ok(rnn_model_scheduled_sampling(m, 1, 0, 1.0f, 1, 2, in2, NULL, mixed));
    ck_ok(rnn_model_forward(m, 2, in2, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &y));
    for (int n = 0; n < N; n++) {
        int best = 0;
        for (int v = 1; v < V; v++)
            if (tm_f(y)[(n * 2) * V + v] > tm_f(y)[(n * 2) * V + best])
                best = v;
        ck_assert_int_eq(mx[n * 2], START);
        ck_assert_int_eq(mx[n * 2 + 1], best);
    }
    ck_rnn(rnn_model_scheduled_sampling(m, 1, 0, 1.5f, 1, 2, in2, NULL, mixed),
           RNN_ERR_INVALID_ARG);
    ck_errmsg("probability");
    rnn_tensor_destroy(mixed);
    rnn_tensor_destroy(tok);
    rnn_tensor_destroy(full);
    rnn_tensor_destroy(b);
    rnn_tensor_destroy(st);
    rnn_tensor_destroy(next);
    rnn_tensor_destroy(src);
    rnn_model_destroy(m);
    /* A bidirectional layer after the token input cannot step. */
    m = am_new_model(1);
    int64_t s1[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, s1, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = V, e.output_dim = 3;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = 3, r.return_sequences = 1, r.bidirectional = 1;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    rnn_tensor *one = i32(2, d1, starts);
    const rnn_tensor *oin[1] = {one};
    ck_rnn(rnn_model_step_begin(m, 0, 1, oin, NULL), RNN_ERR_UNSUPPORTED);
    ck_errmsg("bidirectional");
    rnn_tensor_destroy(one);
    rnn_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("attention");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, attention_matches_formula_masks_and_saves);
    tcase_add_test(tc, attention_errors);
    tcase_add_test(tc, greedy_and_beam_match_naive_decoding);
    tcase_add_test(tc, beam_search_finds_the_best_sequence);
    tcase_add_test(tc, prompted_single_input_model_and_sampling);
    tcase_add_test(tc, step_api_and_errors);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
