/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layers/recurrent.c: SimpleRNN (tanh, ReLU), LSTM, GRU (reset_after and not), one and two
 * directions with every merge mode, go_backwards, return_state, no bias, caller-given initial
 * states, dropout and recurrent dropout (frozen masks), each with and without variable lengths
 * (garbage in the padding); stacked layers of different cells. Every element of every
 * parameter, of the input and of the initial states on the reference backend, 6 sampled
 * elements of each on oneDNN. */
#include "../common/recurrent_cases.h"
#include "gc_tests.h"
#include "gradcheck.h"

static void check_case(const tcase_desc *c, rnn_backend be)
{
    rc_run r;
    rc_setup(&r, c, be);
    gc_options o;
    gc_options_init(&o);
    if (c->relu)
        o.eps = 1e-3; /* a 1e-2 step can cross ReLU's kink (with dropout's 1/keep it did) */
    if (be == RNN_BACKEND_ONEDNN) /* every element on the reference; oneDNN == reference is */
        o.max_elems = 6;          /* the backend suite's: here a sample of each tensor */
    gc_state st = {r.l, r.n_states, r.S};
    if (c->init_state)
        o.states = &st, o.num_states = 1;
    char what[160], d[128];
    snprintf(what, sizeof what, "%s %s", rc_describe(c, d, sizeof d),
             be == RNN_BACKEND_ONEDNN ? "onednn" : "reference");
    rnn_tensor *x[1] = {r.x}, *len[1] = {r.len};
    gc_model(r.m, 1, x, len, &o, what);
    rc_free(&r);
}

/* Ten runs of a tenth of the cases each (one cell, with or without lengths): a forked Check
 * run starts oneDNN's JIT cache cold, so one run per case would mostly compile kernels. */
enum { GROUPS = 10 };

START_TEST(every_case)
{
    for (int i = _i * rc_n_cases / GROUPS; i < (_i + 1) * rc_n_cases / GROUPS; i++) {
        check_case(&rc_cases[i], RNN_BACKEND_REFERENCE);
        check_case(&rc_cases[i], RNN_BACKEND_ONEDNN);
    }
}
END_TEST

/* Two or three recurrent layers: dx flows from one kernel into the next (and across a
 * bidirectional merge), with lengths. */
START_TEST(stacked_layers)
{
    static const struct {
        rnn_cell_type a, b;
        int bi_a, merge, back_b, seq_b;
    } S[] = {{RNN_LSTM, RNN_GRU, 0, 0, 0, 0},
             {RNN_GRU, RNN_SIMPLE_RNN, 1, RNN_MERGE_CONCAT, 1, 1},
             {RNN_SIMPLE_RNN, RNN_LSTM, 1, RNN_MERGE_AVE, 0, 1},
             {RNN_GRU, RNN_GRU, 1, RNN_MERGE_MUL, 0, 0}};
    const int32_t lv[3] = {5, 2, 4};
    for (int be = 0; be < 2; be++)
        for (size_t k = 0; k < sizeof S / sizeof S[0]; k++) {
            rnn_recurrent_options a, b;
            rnn_recurrent_options_init(&a, S[k].a);
            a.units = 3, a.return_sequences = 1, a.bidirectional = S[k].bi_a;
            a.merge_mode = (rnn_merge_mode)S[k].merge;
            rnn_recurrent_options_init(&b, S[k].b);
            b.units = 2, b.go_backwards = S[k].back_b, b.return_sequences = S[k].seq_b;
            rnn_layer *la;
            rnn_model *m =
                tm_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN, 9, 2, &a, &la);
            ck_ok(rnn_model_add_recurrent(m, &b, NULL));
            int64_t xd[3] = {3, 5, 2}, ld[1] = {3};
            tm_rng = 77 + k;
            rnn_tensor *x = tm_tensor(3, xd, 1.0), *len;
            ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
            memcpy(tm_f(len), lv, sizeof lv);
            char what[96];
            snprintf(what, sizeof what, "stacked %d (cells %d, %d) %s", (int)k, S[k].a, S[k].b,
                     be ? "reference" : "onednn");
            gc_model(m, 1, &x, &len, NULL, what);
            rnn_tensor_destroy(x);
            rnn_tensor_destroy(len);
            rnn_model_destroy(m);
        }
}
END_TEST

void gc_add_recurrent(TCase *tc)
{
    rc_build_cases();
    tcase_add_loop_test(tc, every_case, 0, GROUPS);
    tcase_add_test(tc, stacked_layers);
}
