/* SPDX-License-Identifier: Apache-2.0 */
/* Functional graphs: several inputs and outputs, shared layers, Concatenate,
 * encoder states as decoder initial states. Equivalence with the same
 * computation done by hand, save/load round trips, errors (their gradient
 * checks are gradcheck/test_model.c); and (suite "train") a sequence-reversal
 * task learned by an encoder-decoder with teacher forcing. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>

#include "../common/functional_models.h"

START_TEST(encoder_decoder_equals_two_models)
{
    int64_t d1[3] = {N, T1, 3}, d2[3] = {N, T2, 2};
    for (int c = 0; c < 2; c++) {
        rnn_cell_type cell = c ? RNN_GRU : RNN_LSTM;
        rnn_tensor *x[2] = {tm_tensor(3, d1, 1.0), tm_tensor(3, d2, 1.0)};

        /* The same by hand on oneDNN: run the encoder, hand its states to a
         * decoder with the same weights. */
        rnn_layer *e2, *d2l;
        rnn_model *mo = encdec(RNN_BACKEND_ONEDNN, cell, &e2, &d2l);
        const rnn_tensor *y;
        ck_ok(rnn_model_forward(mo, 2, (const rnn_tensor *const *)x, NULL, 0));
        ck_ok(rnn_model_output(mo, 0, &y));
        rnn_model *a = fm_new_model(RNN_BACKEND_ONEDNN), *b = fm_new_model(RNN_BACKEND_ONEDNN);
        int64_t s1[2] = {0, 3}, s2[2] = {0, 2};
        ck_ok(rnn_model_add_input(a, RNN_F32, 2, s1, NULL));
        ck_ok(rnn_model_add_input(b, RNN_F32, 2, s2, NULL));
        rnn_recurrent_options o;
        rnn_recurrent_options_init(&o, cell);
        o.units = 4, o.return_state = 1;
        rnn_layer *ea, *db, *dd;
        ck_ok(rnn_model_add_recurrent(a, &o, &ea));
        o.return_state = 0, o.return_sequences = 1;
        ck_ok(rnn_model_add_recurrent(b, &o, &db));
        rnn_dense_options dop;
        rnn_dense_options_init(&dop);
        dop.units = 3;
        ck_ok(rnn_model_add_dense(b, &dop, &dd));
        rnn_layer *from[3], *to[3] = {ea, db, dd};
        ck_ok(rnn_model_layer(mo, 1, &from[0]));
        ck_ok(rnn_model_layer(mo, 3, &from[1]));
        ck_ok(rnn_model_layer(mo, 4, &from[2]));
        for (int k = 0; k < 3; k++) {
            int np;
            rnn_layer_num_params(from[k], &np);
            for (int p = 0; p < np; p++) {
                rnn_tensor *v;
                rnn_layer_param(from[k], p, NULL, &v, NULL);
                ck_ok(rnn_layer_set_param(to[k], p, v));
            }
        }
        const rnn_tensor *ina[1] = {x[0]}, *inb[1] = {x[1]}, *st[2], *yb;
        ck_ok(rnn_model_forward(a, 1, ina, NULL, 0));
        int ns;
        rnn_layer_num_states(db, &ns);
        for (int k = 0; k < ns; k++)
            ck_ok(rnn_model_output(a, 1 + k, &st[k]));
        ck_ok(rnn_layer_set_initial_state(db, ns, st));
        ck_ok(rnn_model_forward(b, 1, inb, NULL, 0));
        ck_ok(rnn_model_output(b, 0, &yb));
        ck_assert(tm_max_rel(tm_f(y), tm_f(yb), tm_numel(yb)) == 0.0);
        /* a connected layer refuses caller-given states */
        ck_rnn(rnn_layer_set_initial_state(d2l, ns, st), RNN_ERR_STATE);
        ck_errmsg("takes its initial states from other layers");
        rnn_model_destroy(a);
        rnn_model_destroy(b);
        rnn_model_destroy(mo);
        rnn_tensor_destroy(x[0]);
        rnn_tensor_destroy(x[1]);
    }
}
END_TEST

START_TEST(shared_layers_concatenate_two_outputs)
{
    rnn_layer *emb;
    rnn_model *m = shared_model(RNN_BACKEND_REFERENCE, &emb);
    int64_t n;
    ck_ok(rnn_model_count_params(m, &n));
    ck_assert_int_eq(n, 7 * 3 + 6 * 2 + 2); /* the embedding counted once */
    int ni, no;
    ck_ok(rnn_model_num_inputs(m, &ni));
    ck_ok(rnn_model_num_outputs(m, &no));
    ck_assert(ni == 2 && no == 2);
    rnn_tensor *x[2] = {ids(1), ids(2)};
    /* the shared application really uses the same table: changing it moves both */
    const rnn_tensor *c1, *c2;
    ck_ok(rnn_model_forward(m, 2, (const rnn_tensor *const *)x, NULL, 0));
    ck_ok(rnn_model_output(m, 1, &c1));
    float before = tm_f(c1)[3 + 0]; /* sample 0, max-pooled half */
    rnn_tensor *E;
    ck_ok(rnn_layer_param(emb, 0, NULL, &E, NULL));
    for (int i = 0; i < 21; i++)
        tm_f(E)[i] += 1.0f;
    ck_ok(rnn_layer_params_changed(emb));
    ck_ok(rnn_model_forward(m, 2, (const rnn_tensor *const *)x, NULL, 0));
    ck_ok(rnn_model_output(m, 1, &c2));
    ck_assert(fabsf(tm_f(c2)[3] - (before + 1.0f)) < 1e-5f);

    /* train steps: the optimizer updates the table once per step */
    rnn_compile_options co;
    rnn_compile_options_init(&co, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_SGD);
    ck_ok(rnn_model_compile(m, &co, &oo));
    int64_t yd[1] = {N};
    rnn_tensor *y;
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
    float l0, l1;
    ck_ok(rnn_model_train_step(m, 2, (const rnn_tensor *const *)x, NULL, y, &l0, NULL));
    for (int s = 0; s < 20; s++)
        ck_ok(rnn_model_train_step(m, 2, (const rnn_tensor *const *)x, NULL, y, &l1, NULL));
    ck_assert_msg(l1 < l0, "loss %g -> %g", l0, l1);

    /* save/load: same outputs, same summary, still two inputs and outputs */
    char path[] = "/tmp/librnn-func-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    ck_ok(rnn_model_save(m, path));
    rnn_model *m2;
    rnn_model_options lo;
    rnn_model_options_init(&lo);
    lo.backend = RNN_BACKEND_REFERENCE; /* as m: bit-identical results */
    ck_ok(rnn_model_load(path, &lo, &m2));
    unlink(path);
    const rnn_tensor *ya, *yb;
    ck_ok(rnn_model_forward(m, 2, (const rnn_tensor *const *)x, NULL, 0));
    ck_ok(rnn_model_forward(m2, 2, (const rnn_tensor *const *)x, NULL, 0));
    for (int k = 0; k < 2; k++) {
        ck_ok(rnn_model_output(m, k, &ya));
        ck_ok(rnn_model_output(m2, k, &yb));
        ck_assert(memcmp(tm_f(ya), tm_f(yb), sizeof(float) * (size_t)tm_numel(ya)) == 0);
    }
    char s1[4096], s2[4096];
    ck_ok(rnn_model_summary(m, s1, sizeof s1, NULL));
    ck_ok(rnn_model_summary(m2, s2, sizeof s2, NULL));
    ck_assert_str_eq(s1, s2);
    printf("%s", s1);
    rnn_model_destroy(m2);
    rnn_tensor_destroy(y);
    rnn_tensor_destroy(x[0]);
    rnn_tensor_destroy(x[1]);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(encoder_decoder_save_load_and_errors)
{
    rnn_layer *enc, *dec;
    rnn_model *m = encdec(RNN_BACKEND_ONEDNN, RNN_LSTM, &enc, &dec);
    int64_t d1[3] = {N, T1, 3}, d2[3] = {N, T2, 2};
    rnn_tensor *x[2] = {tm_tensor(3, d1, 1.0), tm_tensor(3, d2, 1.0)};
    char path[] = "/tmp/librnn-encdec-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    ck_ok(rnn_model_save(m, path));
    rnn_model *m2;
    ck_ok(rnn_model_load(path, NULL, &m2));
    unlink(path);
    const rnn_tensor *ya, *yb;
    ck_ok(rnn_model_forward(m, 2, (const rnn_tensor *const *)x, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &ya));
    ck_ok(rnn_model_forward(m2, 2, (const rnn_tensor *const *)x, NULL, 0));
    ck_ok(rnn_model_output(m2, 0, &yb));
    ck_assert(memcmp(tm_f(ya), tm_f(yb), sizeof(float) * (size_t)tm_numel(ya)) == 0);
    rnn_model_destroy(m2);

    /* errors */
    ck_rnn(rnn_model_forward(m, 1, (const rnn_tensor *const *)x, NULL, 0), RNN_ERR_INVALID_ARG);
    ck_errmsg("num_inputs must be 2 for this model (got 1)");
    int64_t d3[3] = {N + 1, T2, 2};
    rnn_tensor *bad = tm_tensor(3, d3, 1.0);
    const rnn_tensor *xb[2] = {x[0], bad};
    ck_rnn(rnn_model_forward(m, 2, xb, NULL, 0), RNN_ERR_SHAPE);
    ck_errmsg("inputs[1] has batch size 4, inputs[0] has 3: they must agree");
    rnn_tensor_destroy(bad);
    ck_rnn(rnn_model_connect_next(m, enc, 3), RNN_ERR_RANGE);
    ck_errmsg("layer: layer lstm has outputs [0, 3) (got 3)");
    rnn_layer *srcs[2] = {dec, enc};
    int outs0[2] = {0, 1};
    ck_rnn(rnn_layer_connect_initial_state(enc, 2, srcs, outs0), RNN_ERR_INVALID_ARG);
    ck_errmsg("sources[0] (lstm_1) must be added before layer lstm");
    rnn_layer *in1;
    ck_ok(rnn_model_layer(m, 0, &in1));
    srcs[0] = in1;
    ck_rnn(rnn_layer_connect_initial_state(dec, 2, srcs, outs0), RNN_ERR_SHAPE);
    ck_errmsg("sources[0]: output 0 of input must be f32 vectors (N, 4)");
    ck_rnn(rnn_layer_connect_initial_state(dec, 1, srcs, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("count must be 2 for layer lstm_1");
    rnn_layer *ops[2] = {enc, dec};
    ck_rnn(rnn_model_add_concatenate(m, 2, ops, NULL, NULL), RNN_ERR_SHAPE);
    ck_errmsg("must both be sequences with the same steps or both be vectors");
    ck_rnn(rnn_model_add_concatenate(m, 1, ops, NULL, NULL), RNN_ERR_INVALID_ARG);
    rnn_layer *in0;
    ck_ok(rnn_model_layer(m, 0, &in0));
    ck_rnn(rnn_model_add_shared(m, in0, NULL), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_model_set_outputs(m, 1, &in0, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("is an input layer");
    rnn_model *other = fm_new_model(RNN_BACKEND_ONEDNN);
    ck_rnn(rnn_model_connect_next(other, enc, 0), RNN_ERR_INVALID_ARG);
    ck_errmsg("belongs to another model");
    rnn_model_destroy(other);
    /* datasets feed single-input models only */
    rnn_data data = {.struct_size = sizeof data, .x = x[0], .targets = x[0]};
    rnn_compile_options co;
    rnn_compile_options_init(&co, RNN_LOSS_MEAN_SQUARED_ERROR);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    ck_ok(rnn_model_compile(m, &co, &oo));
    ck_rnn(rnn_model_fit(m, &data, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("datasets feed models with one input (this one has 2)");
    rnn_tensor_destroy(x[0]);
    rnn_tensor_destroy(x[1]);
    rnn_model_destroy(m);
}
END_TEST

/* Sequence reversal: source digits 1..8 (length 3..7, 0-padded), target the
 * reverse followed by the end token 9; decoder input = start token 10 then
 * the target shifted (teacher forcing). Encoder LSTM states -> decoder LSTM
 * -> per-step softmax; masked loss and accuracy. */
enum { RV = 11, RT = 8, RB = 64 };

static uint64_t rs = 5;
static int rnd(int n)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (int)((rs >> 33) % (uint64_t)n);
}

static void reverse_batch(rnn_tensor *src, rnn_tensor *dec_in, rnn_tensor *tgt, rnn_tensor *slen,
                          rnn_tensor *dlen)
{
    int32_t *s = (int32_t *)tm_f(src), *di = (int32_t *)tm_f(dec_in), *t = (int32_t *)tm_f(tgt);
    int32_t *sl = (int32_t *)tm_f(slen), *dl = (int32_t *)tm_f(dlen);
    memset(s, 0, sizeof(int32_t) * RB * RT);
    memset(di, 0, sizeof(int32_t) * RB * RT);
    memset(t, 0, sizeof(int32_t) * RB * RT);
    for (int n = 0; n < RB; n++) {
        int L = 3 + rnd(5);
        for (int i = 0; i < L; i++)
            s[n * RT + i] = 1 + rnd(8);
        for (int i = 0; i < L; i++)
            t[n * RT + i] = s[n * RT + L - 1 - i];
        t[n * RT + L] = 9;
        di[n * RT] = 10;
        for (int i = 1; i <= L; i++)
            di[n * RT + i] = t[n * RT + i - 1];
        sl[n] = L;
        dl[n] = L + 1;
    }
}

START_TEST(reverse_task_with_encoder_decoder)
{
    rnn_model *m = fm_new_model(RNN_BACKEND_ONEDNN);
    int64_t s[1] = {0};
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = RV, e.output_dim = 16;
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, s, NULL));
    rnn_layer *emb, *enc, *dec;
    ck_ok(rnn_model_add_embedding(m, &e, &emb));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 64, o.return_state = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, &enc));
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, s, NULL));
    ck_ok(rnn_model_add_shared(m, emb, NULL)); /* one table for both sides */
    o.return_state = 0, o.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, &dec));
    rnn_layer *src[2] = {enc, enc};
    int outs[2] = {1, 2};
    ck_ok(rnn_layer_connect_initial_state(dec, 2, src, outs));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = RV, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options co;
    rnn_compile_options_init(&co, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    co.reduction = RNN_REDUCTION_MASKED_MEAN;
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    oo.learning_rate = 0.01f;
    ck_ok(rnn_model_compile(m, &co, &oo));
    int64_t bd[2] = {RB, RT}, ld[1] = {RB};
    rnn_tensor *src_t, *din, *tgt, *sl, *dl;
    ck_ok(rnn_tensor_create(RNN_I32, 2, bd, &src_t));
    ck_ok(rnn_tensor_create(RNN_I32, 2, bd, &din));
    ck_ok(rnn_tensor_create(RNN_I32, 2, bd, &tgt));
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &sl));
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &dl));
    const rnn_tensor *in[2] = {src_t, din}, *len[2] = {sl, dl};
    float loss = 0, acc = 0;
    for (int step = 0; step < 400; step++) {
        reverse_batch(src_t, din, tgt, sl, dl);
        ck_ok(rnn_model_train_step(m, 2, in, len, tgt, &loss, &acc));
    }
    double tot = 0;
    for (int b = 0; b < 4; b++) {
        reverse_batch(src_t, din, tgt, sl, dl);
        ck_ok(rnn_model_test_step(m, 2, in, len, tgt, &loss, &acc));
        tot += acc;
    }
    printf("reverse task: held-out token accuracy (teacher forcing) %.3f, loss %.3f\n", tot / 4,
           loss);
    ck_assert_msg(tot / 4 >= 0.95, "held-out token accuracy %.3f < 0.95", tot / 4);
    rnn_tensor_destroy(src_t);
    rnn_tensor_destroy(din);
    rnn_tensor_destroy(tgt);
    rnn_tensor_destroy(sl);
    rnn_tensor_destroy(dl);
    rnn_model_destroy(m);
}
END_TEST

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "layers";
    Suite *s = suite_create("functional");
    TCase *tc = tcase_create(which);
    tcase_set_timeout(tc, 900);
    if (strcmp(which, "train") == 0) {
        tcase_add_test(tc, reverse_task_with_encoder_decoder);
    } else {
        tcase_add_test(tc, encoder_decoder_equals_two_models);
        tcase_add_test(tc, shared_layers_concatenate_two_outputs);
        tcase_add_test(tc, encoder_decoder_save_load_and_errors);
    }
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
