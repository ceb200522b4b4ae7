/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import: each fixture of tests/onnx/fixtures (made by
 * make_fixtures.py: torch.onnx.export of the example architectures, and
 * hand-written graphs run by ONNX Runtime) is imported, run on the stored
 * inputs and compared with the framework's outputs (1e-5); the imported
 * model then trains a step and saves and loads; refused graphs give
 * RNN_ERR_UNSUPPORTED with a message naming the node. The PyTorch tagger
 * and sentiment classifier also run on a padded batch with lengths, against
 * PyTorch on packed sequences; graphs with sequence_lens run with the
 * lengths given to rnn_model_forward(), against ONNX Runtime.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <rnn.h>
#include <rnn/onnx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensors.h"

static char path_buf[1024];

static const char *fixture(const char *name, const char *ext)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s%s", ONNX_FIXTURES, name, ext);
    return path_buf;
}

/* Time-major graph inputs and outputs (T, N, F) <-> librnn's (N, T, F). */
static rnn_tensor *swap01(const rnn_tensor *t)
{
    int64_t d[3];
    int r;
    rnn_tensor_rank(t, &r);
    rnn_tensor_shape(t, d, 3, &r);
    int64_t e[3] = {d[1], d[0], d[2]};
    rnn_tensor *o;
    ck_assert_int_eq(rnn_tensor_create(RNN_F32, 3, e, &o), RNN_OK);
    const float *s;
    float *p;
    rnn_tensor_data_const(t, (const void **)&s);
    rnn_tensor_data(o, (void **)&p);
    for (int64_t a = 0; a < d[0]; a++)
        for (int64_t b = 0; b < d[1]; b++)
            memcpy(p + (b * d[0] + a) * d[2], s + (a * d[1] + b) * d[2], (size_t)d[2] * 4);
    return o;
}

static int meta_is(rnn_model *m, const char *key, const char *want)
{
    const char *v = NULL;
    return rnn_model_get_metadata(m, key, &v) == RNN_OK && v && strcmp(v, want) == 0;
}

/* The largest difference between the model's outputs and the fixture's. */
static double outputs_diff(rnn_model *m, const io_set *io, const char *name, int print)
{
    int no;
    rnn_model_num_outputs(m, &no);
    ck_assert_int_eq(no, io->count - io->n_inputs);
    double worst = 0;
    for (int k = 0; k < no; k++) {
        const rnn_tensor *y;
        ck_assert_int_eq(rnn_model_output(m, k, &y), RNN_OK);
        char key[64];
        snprintf(key, sizeof key, "onnx.output.%d.layout", k);
        rnn_tensor *t = meta_is(m, key, "time-major") ? swap01(y) : NULL;
        double d = max_abs_diff(t ? t : y, io->t[io->n_inputs + k]);
        rnn_tensor_destroy(t);
        if (print)
            printf("%s output %d: max |librnn - reference| = %.3g\n", name, k, d);
        worst = d > worst ? d : worst;
    }
    return worst;
}

/* Imports <name>.onnx, runs it on <name>.io's inputs and compares every
 * output at every position (1e-5). A graph whose recurrent operators read a
 * sequence_lens graph input has one model input fewer than the .io: the
 * last .io input holds the lengths, given to rnn_model_forward() for each
 * model input whose metadata onnx.input.K.sequence_lens names it ("len");
 * without them the outputs must differ (the fixture's padding matters). */
static void check_fixture(const char *name)
{
    rnn_model *m = NULL;
    rnn_status st = rnn_model_load_onnx(fixture(name, ".onnx"), NULL, &m);
    ck_assert_msg(st == RNN_OK, "%s: %s", name, rnn_last_error());
    io_set io;
    ck_assert_msg(io_read(fixture(name, ".io"), &io), "%s.io", name);
    rnn_tensor *in[IO_MAX] = {0}, *own[IO_MAX] = {0};
    const rnn_tensor *lens[IO_MAX] = {0};
    int ni, with_lens = 0;
    ck_assert_int_eq(rnn_model_num_inputs(m, &ni), RNN_OK);
    ck_assert_msg(ni == io.n_inputs || ni == io.n_inputs - 1, "%s: %d model inputs", name, ni);
    for (int k = 0; k < ni; k++) {
        char key[64];
        snprintf(key, sizeof key, "onnx.input.%d.layout", k);
        in[k] = io.t[k];
        if (meta_is(m, key, "time-major"))
            in[k] = own[k] = swap01(io.t[k]);
        snprintf(key, sizeof key, "onnx.input.%d.sequence_lens", k);
        if (meta_is(m, key, "len"))
            lens[k] = io.t[ni], with_lens = 1;
    }
    ck_assert_msg(with_lens == (ni < io.n_inputs), "%s: lengths in the .io and metadata", name);
    if (with_lens) {
        st = rnn_model_forward(m, ni, (const rnn_tensor *const *)in, NULL, 0);
        ck_assert_msg(st == RNN_OK, "%s: %s", name, rnn_last_error());
        double d = outputs_diff(m, &io, name, 0);
        ck_assert_msg(d > 1e-3, "%s: the same outputs without lengths (%g)", name, d);
    }
    st = rnn_model_forward(m, ni, (const rnn_tensor *const *)in, with_lens ? lens : NULL, 0);
    ck_assert_msg(st == RNN_OK, "%s: %s", name, rnn_last_error());
    double d = outputs_diff(m, &io, name, 1);
    ck_assert_msg(d <= 1e-5, "%s: max |diff| %g", name, d);
    /* it saves and loads like any other model */
    char tmp[] = "/tmp/onnx_import_XXXXXX";
    int fd = mkstemp(tmp);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(rnn_model_save(m, tmp) == RNN_OK, "%s: %s", name, rnn_last_error());
    rnn_model *m2 = NULL;
    ck_assert_msg(rnn_model_load(tmp, NULL, &m2) == RNN_OK, "%s: %s", name, rnn_last_error());
    unlink(tmp);
    ck_assert_int_eq(rnn_model_forward(m2, ni, (const rnn_tensor *const *)in,
                                       with_lens ? lens : NULL, 0),
                     RNN_OK);
    const rnn_tensor *y1, *y2;
    rnn_model_output(m, 0, &y1);
    rnn_model_output(m2, 0, &y2);
    ck_assert(max_abs_diff(y1, y2) == 0);
    rnn_model_destroy(m2);
    for (int k = 0; k < IO_MAX; k++)
        rnn_tensor_destroy(own[k]);
    io_free(&io);
    rnn_model_destroy(m);
}

/* <name>_lengths.io: a right-padded batch of different lengths and PyTorch's
 * outputs on packed sequences (bench/torch_*.py's evaluation); librnn, given
 * the lengths, matches them on every real step (1e-5). */
static void check_lengths(const char *name)
{
    rnn_model *m = NULL;
    ck_assert_msg(rnn_model_load_onnx(fixture(name, ".onnx"), NULL, &m) == RNN_OK, "%s: %s",
                  name, rnn_last_error());
    char io_name[128];
    snprintf(io_name, sizeof io_name, "%s_lengths", name);
    io_set io;
    ck_assert_msg(io_read(fixture(io_name, ".io"), &io) && io.n_inputs == 2 && io.count == 3,
                  "%s.io", io_name);
    const rnn_tensor *x = io.t[0], *len = io.t[1], *want = io.t[2], *y;
    ck_assert_msg(rnn_model_forward(m, 1, &x, &len, 0) == RNN_OK, "%s", rnn_last_error());
    ck_assert_int_eq(rnn_model_output(m, 0, &y), RNN_OK);
    int64_t d[3] = {1, 1, 1}, e[3] = {0};
    int r, re;
    rnn_tensor_shape(y, d, 3, &r);
    rnn_tensor_shape(want, e, 3, &re);
    ck_assert(r == re && d[0] == e[0] && d[1] == e[1] && (r < 3 || d[2] == e[2]));
    const float *p, *q;
    const int32_t *l;
    rnn_tensor_data_const(y, (const void **)&p);
    rnn_tensor_data_const(want, (const void **)&q);
    rnn_tensor_data_const(len, (const void **)&l);
    const int64_t steps = r == 3 ? d[1] : 1, F = r == 3 ? d[2] : d[1];
    double worst = 0;
    int64_t compared = 0;
    for (int64_t n = 0; n < d[0]; n++)
        for (int64_t t = 0; t < (r == 3 ? l[n] : 1); t++)
            for (int64_t f = 0; f < F; f++, compared++) {
                double diff = fabs((double)p[(n * steps + t) * F + f] -
                                   (double)q[(n * steps + t) * F + f]);
                worst = diff > worst ? diff : worst;
            }
    ck_assert(compared > 0);
    ck_assert_msg(worst <= 1e-5, "%s with lengths: max |diff| %g", name, worst);
    io_free(&io);
    rnn_model_destroy(m);
}

START_TEST(torch_sentiment) { check_fixture("torch_sentiment"); }
END_TEST
START_TEST(torch_sentiment_pooling)
{
    check_fixture("torch_sentiment_pooling");
    check_lengths("torch_sentiment_pooling");
}
END_TEST
START_TEST(torch_pooling_keepdims) { check_fixture("torch_pooling_keepdims"); }
END_TEST
START_TEST(torch_tagger)
{
    check_fixture("torch_tagger");
    check_lengths("torch_tagger");
}
END_TEST
START_TEST(torch_tagger_log_softmax) { check_fixture("torch_tagger_log_softmax"); }
END_TEST
START_TEST(torch_char_gru) { check_fixture("torch_char_gru"); }
END_TEST
START_TEST(torch_encoder) { check_fixture("torch_encoder"); }
END_TEST
START_TEST(torch_rnn_time_major) { check_fixture("torch_rnn_time_major"); }
END_TEST
START_TEST(torch_seq2seq) { check_fixture("torch_seq2seq"); }
END_TEST

/* Hand-written operator cases (make_fixtures.py, ONNX Runtime's outputs). */
static const char *const op_cases[] = {
    "op_lstm_layout1_reverse_h", "op_gru_lbr0_bidir", "op_gru_lbr1_reverse_h",
    "op_rnn_relu_bidir", "op_lstm_bidir_layout1", "op_gemm_relu_tanh",
    "op_reduce_time_major", "op_reduce_opset18", "op_gemm_log_softmax",
    "op_seqlens_lstm_forward", "op_seqlens_gru_reverse", "op_seqlens_lstm_bidir",
    "op_seqlens_gru_bidir_layout1", "op_seqlens_stacked_gru", "op_seqlens_const_full",
};

START_TEST(operator_cases)
{
    check_fixture(op_cases[_i]);
}
END_TEST

/* tf2onnx's conversions of Keras models (make_tf2onnx_fixtures.py: Keras'
 * outputs, which ONNX Runtime reproduced on the same file). */
static const char *const tf2onnx_cases[] = {
    "tf2onnx_sentiment", "tf2onnx_sentiment_pooling", "tf2onnx_tagger",
    "tf2onnx_char_gru", "tf2onnx_lstm_seq", "tf2onnx_gru_backwards",
    "tf2onnx_lstm_backwards_seq", "tf2onnx_lstm_states",
};

START_TEST(tf2onnx_fixtures)
{
    check_fixture(tf2onnx_cases[_i]);
}
END_TEST

/* Graphs the reader must refuse, and a word its message must contain. */
static const char *const refused[][2] = {
    {"refuse_clip", "'clip'"},
    {"refuse_input_forget", "input_forget"},
    {"refuse_activations", "activations"},
    {"refuse_peephole", "peephole"},
    {"refuse_unknown_op", "(Erf)"},
    {"refuse_log_softmax_axis", "node 'ls' (LogSoftmax): attribute 'axis' = 0"},
    {"refuse_seqlens_pool", "node 'pool' (ReduceMean): reduces over every step"},
    {"refuse_seqlens_mixed", "node 'gru1' (GRU): has no sequence_lens but reads sequences whose "
                             "lengths are sequence_lens 'len' (node 'gru2')"},
    {"refuse_seqlens_two", "node 'gru2' (GRU): input sequence_lens 'len2': these sequences "
                           "already have lengths, sequence_lens 'len' of node 'gru1'"},
    {"refuse_seqlens_const", "node 'lstm' (LSTM): input sequence_lens: only a graph input"},
    {"refuse_reduce_features", "node 'pool' (ReduceMean): attribute 'axes': axis 3 is not the "
                               "time axis"},
    {"refuse_reduce_all", "node 'pool' (ReduceMax): attribute 'axes' is absent"},
    {"tf2onnx_mask_zero", "(Loop): control flow has no librnn equivalent"},
    {"tf2onnx_simple_rnn", "(Loop): control flow has no librnn equivalent"},
    {"tf2onnx_gru_reset_before", "(Loop): control flow has no librnn equivalent"},
};

START_TEST(refused_graphs)
{
    rnn_model *m = (rnn_model *)1;
    rnn_status st = rnn_model_load_onnx(fixture(refused[_i][0], ".onnx"), NULL, &m);
    ck_assert_msg(st == RNN_ERR_UNSUPPORTED, "%s: %d %s", refused[_i][0], st, rnn_last_error());
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(rnn_last_error(), "rnn_model_load_onnx: node '") &&
                      strstr(rnn_last_error(), refused[_i][1]),
                  "%s: %s", refused[_i][0], rnn_last_error());
}
END_TEST

START_TEST(bad_input)
{
    rnn_model *m = (rnn_model *)1;
    ck_assert_int_eq(rnn_model_load_onnx_memory("garbage\xff\xff\xff", 10, NULL, &m),
                     RNN_ERR_FORMAT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(rnn_last_error(), "rnn_model_load_onnx_memory: "), "%s",
                  rnn_last_error());
    ck_assert_int_eq(rnn_model_load_onnx("/nonexistent/x.onnx", NULL, &m), RNN_ERR_IO);
    ck_assert_int_eq(rnn_model_load_onnx(NULL, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_assert_str_eq(rnn_last_error(), "rnn_model_load_onnx: path must not be NULL");
    ck_assert_int_eq(rnn_model_load_onnx_memory(NULL, 0, NULL, &m), RNN_ERR_FORMAT);
}
END_TEST

/* The imported model trains further: one step changes the loss. */
START_TEST(imported_model_trains)
{
    rnn_model *m = NULL;
    ck_assert_int_eq(rnn_model_load_onnx(fixture("torch_tagger", ".onnx"), NULL, &m), RNN_OK);
    io_set io;
    ck_assert(io_read(fixture("torch_tagger", ".io"), &io));
    rnn_compile_options co;
    rnn_compile_options_init(&co, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    co.from_logits = 1;
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    oo.learning_rate = 0.01f;
    ck_assert_msg(rnn_model_compile(m, &co, &oo) == RNN_OK, "%s", rnn_last_error());
    int64_t d[2];
    int r;
    rnn_tensor_shape(io.t[0], d, 2, &r);
    rnn_tensor *y;
    rnn_tensor_create(RNN_I32, 2, d, &y);
    rnn_tensor_fill_i32(y, 1);
    float l0 = 0, l1 = 0;
    const rnn_tensor *x = io.t[0];
    for (int k = 0; k < 5; k++) {
        float loss;
        ck_assert_msg(rnn_model_train_step(m, 1, &x, NULL, y, &loss, NULL) == RNN_OK,
                      "%s", rnn_last_error());
        if (k == 0)
            l0 = loss;
        l1 = loss;
    }
    ck_assert_msg(l1 < l0, "loss %g -> %g", l0, l1);
    rnn_tensor_destroy(y);
    io_free(&io);
    rnn_model_destroy(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("onnx-import");
    TCase *tc = tcase_create("import");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, torch_sentiment);
    tcase_add_test(tc, torch_sentiment_pooling);
    tcase_add_test(tc, torch_pooling_keepdims);
    tcase_add_test(tc, torch_tagger);
    tcase_add_test(tc, torch_tagger_log_softmax);
    tcase_add_test(tc, torch_char_gru);
    tcase_add_test(tc, torch_encoder);
    tcase_add_test(tc, torch_rnn_time_major);
    tcase_add_test(tc, torch_seq2seq);
    tcase_add_loop_test(tc, operator_cases, 0, (int)(sizeof op_cases / sizeof op_cases[0]));
    tcase_add_loop_test(tc, tf2onnx_fixtures, 0,
                        (int)(sizeof tf2onnx_cases / sizeof tf2onnx_cases[0]));
    tcase_add_loop_test(tc, refused_graphs, 0, (int)(sizeof refused / sizeof refused[0]));
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, imported_model_trains);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
