/* SPDX-License-Identifier: Apache-2.0 */
/* lib/model/ (model.c, shared.c): functional graphs. Encoder-decoders whose encoder states
 * start the decoder (rnn_layer_connect_initial_state), every cell, with and without lengths;
 * a shared Embedding under two poolings, Concatenate, two outputs; a shared LSTM applied to
 * two inputs; one output read by two recurrent layers, the later of which writes its gradient
 * first (layer.h's in_fresh), and the same output also an output of the model (seeded, so
 * neither may write it). Both backends. */
#include "../common/functional_models.h"
#include "gc_tests.h"
#include "gradcheck.h"

static rnn_backend backend(int be)
{
    return be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
}

START_TEST(encoder_decoder_connected_states)
{
    int64_t d1[3] = {N, T1, 3}, d2[3] = {N, T2, 2}, ld[1] = {N};
    const int32_t l1[N] = {5, 2, 4}, l2[N] = {4, 4, 1};
    static const rnn_cell_type cells[3] = {RNN_LSTM, RNN_GRU, RNN_SIMPLE_RNN};
    static const char *names[3] = {"LSTM", "GRU", "SimpleRNN"};
    for (int be = 0; be < 2; be++)
        for (int c = 0; c < 3; c++)
            for (int with_len = 0; with_len < 2; with_len++) {
                rnn_layer *enc, *dec;
                rnn_model *m = encdec(backend(be), cells[c], &enc, &dec);
                tm_rng = 0xED0ull + (uint64_t)c;
                rnn_tensor *x[2] = {tm_tensor(3, d1, 1.0), tm_tensor(3, d2, 1.0)};
                rnn_tensor *len[2] = {NULL, NULL};
                gc_options o;
                gc_options_init(&o);
                if (with_len) {
                    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len[0]));
                    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len[1]));
                    memcpy(tm_f(len[0]), l1, sizeof l1);
                    memcpy(tm_f(len[1]), l2, sizeof l2);
                    o.out_len[0] = l2; /* the decoder's per-step Dense */
                }
                char what[96];
                snprintf(what, sizeof what, "%s encoder-decoder%s %s", names[c],
                         with_len ? " lengths" : "", be ? "reference" : "onednn");
                gc_model(m, 2, x, with_len ? len : NULL, &o, what);
                for (int k = 0; k < 2; k++) {
                    rnn_tensor_destroy(x[k]);
                    rnn_tensor_destroy(len[k]);
                }
                rnn_model_destroy(m);
            }
}
END_TEST

START_TEST(shared_embedding_concatenate_two_outputs)
{
    for (int be = 0; be < 2; be++) {
        rnn_layer *emb;
        rnn_model *m = shared_model(backend(be), &emb);
        rnn_tensor *x[2] = {ids(1), ids(2)};
        /* spread the table so that max pooling has no near-ties within eps */
        rnn_tensor *E0;
        ck_ok(rnn_layer_param(emb, 0, NULL, &E0, NULL));
        for (int i = 0; i < 21; i++)
            tm_f(E0)[i] = (float)(i * 37 % 21) / 7.0f - 1.5f;
        ck_ok(rnn_layer_params_changed(emb));
        gc_model(m, 2, x, NULL, NULL,
                 be ? "shared embedding + concatenate, 2 outputs reference"
                    : "shared embedding + concatenate, 2 outputs onednn");
        rnn_tensor_destroy(x[0]);
        rnn_tensor_destroy(x[1]);
        rnn_model_destroy(m);
    }
}
END_TEST

/* a (T, 3) -> LSTM L -> last; b (T, 3) -> L again; concatenate -> Dense. */
START_TEST(shared_recurrent_layer)
{
    for (int be = 0; be < 2; be++) {
        rnn_model *m = fm_new_model(backend(be));
        int64_t s[2] = {0, 3};
        rnn_layer *l, *l2, *cat;
        ck_ok(rnn_model_add_input(m, RNN_F32, 2, s, NULL));
        rnn_recurrent_options r;
        rnn_recurrent_options_init(&r, RNN_LSTM);
        r.units = 3;
        ck_ok(rnn_model_add_recurrent(m, &r, &l));
        ck_ok(rnn_model_add_input(m, RNN_F32, 2, s, NULL));
        ck_ok(rnn_model_add_shared(m, l, &l2));
        rnn_layer *ops[2] = {l, l2};
        ck_ok(rnn_model_add_concatenate(m, 2, ops, NULL, &cat));
        rnn_dense_options d;
        rnn_dense_options_init(&d);
        d.units = 2, d.activation = RNN_ACT_TANH;
        ck_ok(rnn_model_add_dense(m, &d, NULL));
        int64_t xa[3] = {N, T1, 3}, xb[3] = {N, T2, 3}, ld[1] = {N};
        const int32_t la[N] = {5, 1, 3}, lb[N] = {2, 4, 4};
        tm_rng = 0x5A4ull;
        rnn_tensor *x[2] = {tm_tensor(3, xa, 1.0), tm_tensor(3, xb, 1.0)}, *len[2];
        ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len[0]));
        ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len[1]));
        memcpy(tm_f(len[0]), la, sizeof la);
        memcpy(tm_f(len[1]), lb, sizeof lb);
        gc_model(m, 2, x, len, NULL,
                 be ? "shared LSTM on two inputs reference" : "shared LSTM on two inputs onednn");
        for (int k = 0; k < 2; k++) {
            rnn_tensor_destroy(x[k]);
            rnn_tensor_destroy(len[k]);
        }
        rnn_model_destroy(m);
    }
}
END_TEST

/* x (T, 3) -> Dense d (4, tanh) -> LSTM a (3, sequences); d -> bidirectional GRU b (2,
 * sequences); concatenate(a, b) -> Dense(2); outputs: that [and d]. No lengths: the oneDNN
 * kernels read dy and write dx batch-major in place. */
START_TEST(two_recurrent_consumers)
{
    for (int be = 0; be < 2; be++)
        for (int d_out = 0; d_out < 2; d_out++) {
            rnn_model *m = fm_new_model(backend(be));
            int64_t s[2] = {0, 3};
            rnn_layer *d, *a, *b, *cat, *top;
            ck_ok(rnn_model_add_input(m, RNN_F32, 2, s, NULL));
            rnn_dense_options dn;
            rnn_dense_options_init(&dn);
            dn.units = 4, dn.activation = RNN_ACT_TANH;
            ck_ok(rnn_model_add_dense(m, &dn, &d));
            rnn_recurrent_options r;
            rnn_recurrent_options_init(&r, RNN_LSTM);
            r.units = 3, r.return_sequences = 1;
            ck_ok(rnn_model_add_recurrent(m, &r, &a));
            ck_ok(rnn_model_connect_next(m, d, 0));
            rnn_recurrent_options_init(&r, RNN_GRU);
            r.units = 2, r.return_sequences = 1, r.bidirectional = 1;
            ck_ok(rnn_model_add_recurrent(m, &r, &b));
            rnn_layer *ops[2] = {a, b};
            ck_ok(rnn_model_add_concatenate(m, 2, ops, NULL, &cat));
            dn.units = 2;
            ck_ok(rnn_model_add_dense(m, &dn, &top));
            rnn_layer *outs[2] = {top, d};
            ck_ok(rnn_model_set_outputs(m, 1 + d_out, outs, NULL));
            int64_t xd[3] = {N, T1, 3};
            tm_rng = 0x2C0ull + (uint64_t)d_out;
            rnn_tensor *x[1] = {tm_tensor(3, xd, 1.0)};
            char what[96];
            snprintf(what, sizeof what, "one output, two recurrent consumers%s %s",
                     d_out ? ", also a model output" : "", be ? "reference" : "onednn");
            gc_model(m, 1, x, NULL, NULL, what);
            rnn_tensor_destroy(x[0]);
            rnn_model_destroy(m);
        }
}
END_TEST

void gc_add_model(TCase *tc)
{
    tcase_add_test(tc, encoder_decoder_connected_states);
    tcase_add_test(tc, shared_embedding_concatenate_two_outputs);
    tcase_add_test(tc, shared_recurrent_layer);
    tcase_add_test(tc, two_recurrent_consumers);
}
