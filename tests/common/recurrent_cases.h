/* SPDX-License-Identifier: Apache-2.0 */
/* The recurrent layer cases shared by the gradient check (gradcheck/test_recurrent.c) and the
 * oneDNN-against-reference comparison (backend/test_recurrent_backends.c): every cell x the
 * options that change the data path, each with and without variable lengths (garbage in the
 * padding), and one model per case built the same way for both. */
#ifndef RNN_TEST_RECURRENT_CASES_H
#define RNN_TEST_RECURRENT_CASES_H

#include "../layers/rnn_test_model.h"

/* White-box hook (these programs link the internal static library). */
void rnn__model_freeze_masks(rnn_model *m, int freeze);

typedef struct tcase_desc {
    rnn_cell_type cell;
    int relu, reset_after, bi, merge, ret_seq, ret_state, go_back, use_bias, init_state;
    int varlen;
    float dropout, rec_dropout;
} tcase_desc;

enum { RC_N = 3, RC_T = 4, RC_I = 3, RC_H = 2 };
static const int32_t RC_LENS[RC_N] = {4, 1, 3};

static inline rnn_recurrent_options rc_options(const tcase_desc *c)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, c->cell);
    o.units = RC_H;
    o.activation = c->relu ? RNN_ACT_RELU : RNN_ACT_TANH;
    o.reset_after = c->reset_after;
    o.bidirectional = c->bi;
    o.merge_mode = (rnn_merge_mode)c->merge;
    o.return_sequences = c->ret_seq;
    o.return_state = c->ret_state;
    o.go_backwards = c->go_back;
    o.use_bias = c->use_bias;
    o.dropout = c->dropout;
    o.recurrent_dropout = c->rec_dropout;
    return o;
}

static inline const char *rc_describe(const tcase_desc *c, char *buf, size_t size)
{
    static const char *cells[] = {"?", "SimpleRNN", "LSTM", "GRU"};
    char bi[16] = "";
    if (c->bi)
        snprintf(bi, sizeof bi, " bi merge %d", c->merge);
    snprintf(buf, size, "%s%s%s%s%s%s%s%s%s%s dropout %.1f/%.1f",
             cells[c->cell >= 1 && c->cell <= 3 ? c->cell : 0], c->relu ? " relu" : "",
             c->cell == RNN_GRU ? (c->reset_after ? " reset_after" : " reset_before") : "", bi,
             c->ret_seq ? " seq" : " last", c->ret_state ? " states" : "",
             c->go_back ? " backwards" : "", c->init_state ? " h0" : "",
             c->use_bias ? "" : " no-bias", c->varlen ? " varlen" : "", (double)c->dropout,
             (double)c->rec_dropout);
    return buf;
}

/* Case table: every cell x the options that change the data path. */
static tcase_desc rc_cases[256];
static int rc_n_cases;

static inline void rc_build_cases(void)
{
    const struct { rnn_cell_type cell; int relu, ra; } cells[] = {
        {RNN_SIMPLE_RNN, 0, 1}, {RNN_SIMPLE_RNN, 1, 1}, {RNN_LSTM, 0, 1},
        {RNN_GRU, 0, 1},        {RNN_GRU, 0, 0}};
    rc_n_cases = 0;
    for (size_t ci = 0; ci < sizeof cells / sizeof cells[0]; ci++)
        for (int varlen = 0; varlen < 2; varlen++) {
            tcase_desc base = {cells[ci].cell, cells[ci].relu, cells[ci].ra, 0, 0, 1, 0, 0, 1, 0,
                               varlen, 0.0f, 0.0f};
            rc_cases[rc_n_cases++] = base; /* uni, sequences */
            tcase_desc t = base;
            t.go_back = 1;
            rc_cases[rc_n_cases++] = t;
            t = base;
            t.ret_seq = 0, t.ret_state = 1, t.init_state = 1, t.use_bias = 0;
            rc_cases[rc_n_cases++] = t;
            for (int mm = 0; mm < 4; mm++) {
                t = base;
                t.bi = 1, t.merge = mm, t.ret_seq = mm != 1, t.ret_state = mm == 0;
                t.init_state = mm == 2;
                rc_cases[rc_n_cases++] = t;
            }
            /* Dropout (oneDNN path) and recurrent dropout (reference path). */
            t = base;
            t.dropout = 0.4f;
            rc_cases[rc_n_cases++] = t;
            t = base;
            t.bi = 1, t.rec_dropout = 0.3f, t.dropout = 0.2f;
            rc_cases[rc_n_cases++] = t;
        }
}

/* One case's model (input (RC_I) + the layer, seed 5, masks frozen, random non-zero
 * parameters), its input x (N, T, I) with 1000 in the padding when varlen, lengths and, with
 * init_state, initial states set on the layer. The same data for every backend. */
typedef struct rc_run {
    rnn_model *m;
    rnn_layer *l;
    rnn_tensor *x, *len, *S[4];
    int n_out, n_states;
} rc_run;

static inline void rc_setup(rc_run *r, const tcase_desc *c, rnn_backend be)
{
    memset(r, 0, sizeof *r);
    tm_rng = 0x1234567ull;
    rnn_recurrent_options o = rc_options(c);
    r->m = tm_model(be, 5, RC_I, &o, &r->l);
    rnn__model_freeze_masks(r->m, 1);
    /* Random non-zero biases (default init is zeros). */
    int np;
    rnn_layer_num_params(r->l, &np);
    for (int p = 0; p < np; p++) {
        rnn_tensor *t;
        rnn_layer_param(r->l, p, NULL, &t, NULL);
        for (int64_t i = 0; i < tm_numel(t); i++)
            tm_f(t)[i] = (float)(0.6 * tm_uniform());
    }
    rnn_layer_params_changed(r->l);
    int64_t xd[3] = {RC_N, RC_T, RC_I}, ld[1] = {RC_N};
    r->x = tm_tensor(3, xd, 1.0);
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &r->len));
    for (int n = 0; n < RC_N; n++) {
        ((int32_t *)tm_f(r->len))[n] = c->varlen ? RC_LENS[n] : RC_T;
        for (int t = c->varlen ? RC_LENS[n] : RC_T; t < RC_T; t++)
            for (int i = 0; i < RC_I; i++)
                tm_f(r->x)[(n * RC_T + t) * RC_I + i] = 1000.0f; /* padding garbage */
    }
    rnn_model_num_outputs(r->m, &r->n_out);
    rnn_layer_num_states(r->l, &r->n_states);
    if (c->init_state) {
        int64_t sd[2] = {RC_N, RC_H};
        for (int k = 0; k < r->n_states; k++)
            r->S[k] = tm_tensor(2, sd, 0.5);
        ck_ok(rnn_layer_set_initial_state(r->l, r->n_states, (const rnn_tensor *const *)r->S));
    }
}

static inline void rc_free(rc_run *r)
{
    for (int k = 0; k < 4; k++)
        rnn_tensor_destroy(r->S[k]);
    rnn_tensor_destroy(r->x);
    rnn_tensor_destroy(r->len);
    rnn_model_destroy(r->m);
}

#endif
