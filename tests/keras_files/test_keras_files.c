/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librnn-keras against real Keras 3 files (tests/keras_files/fixtures, from
 * gen_keras_files.py; no TensorFlow needed here):
 *  - each `.keras` fixture loads with rnn_model_load_keras() (and from
 *    memory) and its outputs match Keras' to 1e-5 (absolute), on the steps
 *    Keras and librnn both define (masked models: the real steps);
 *  - the imported model trains further (compile, train steps, loss falls),
 *    saves in librnn's format and loads back with the same outputs;
 *  - a `.weights.h5` file goes into a librnn model built in C;
 *  - unsupported files are refused with messages naming the layer and
 *    the argument; damaged and truncated files fail cleanly (no crash,
 *    no leak under ASan/valgrind).
 */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rnn/keras.h>

#include "../golden/fixture.h"
#include "../unit/test_util.h"

#ifndef KERAS_FILES_DIR
#error "KERAS_FILES_DIR must name the fixtures folder"
#endif

#define TOL 1e-5

static char *fixture(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", KERAS_FILES_DIR, name);
    return path[k];
}

static rnn_tensor *to_tensor(const fx_array *a)
{
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(a->dtype == 1 ? RNN_F32 : RNN_I32, a->rank, a->dims, &t));
    void *d;
    ck_ok(rnn_tensor_data(t, &d));
    memcpy(d, a->data, (size_t)a->numel * 4);
    return t;
}

/* max |librnn - keras| over the compared entries of every output */
static double compare(rnn_model *m, const fx_file *f, const char *what)
{
    int n_in = 0, n_out = 0;
    rnn_tensor *in[4];
    char name[32];
    for (; n_in < 4; n_in++) {
        snprintf(name, sizeof name, "x.%d", n_in);
        const fx_array *a = fx_get(f, name);
        if (!a)
            break;
        in[n_in] = to_tensor(a);
    }
    ck_ok(rnn_model_forward(m, n_in, (const rnn_tensor *const *)in, NULL, 0));
    ck_ok(rnn_model_num_outputs(m, &n_out));
    double worst = 0;
    int compared = 0;
    for (int o = 0;; o++) {
        snprintf(name, sizeof name, "y.%d", o);
        const fx_array *y = fx_get(f, name);
        snprintf(name, sizeof name, "m.%d", o);
        const fx_array *mk = fx_get(f, name);
        if (!y)
            break;
        ck_assert_msg(o < n_out, "%s: librnn has %d outputs, Keras more", what, n_out);
        const rnn_tensor *t;
        ck_ok(rnn_model_output(m, o, &t));
        int64_t numel;
        ck_ok(rnn_tensor_numel(t, &numel));
        ck_assert_msg(numel == y->numel, "%s: output %d has %lld values, Keras %lld", what, o,
                      (long long)numel, (long long)y->numel);
        const void *d;
        ck_ok(rnn_tensor_data_const(t, &d));
        const float *a = d, *b = y->data, *mm = mk ? mk->data : NULL;
        for (int64_t i = 0; i < numel; i++) {
            if (mm && mm[i] == 0)
                continue;
            double e = fabs((double)a[i] - (double)b[i]);
            worst = e > worst ? e : worst;
            compared++;
        }
    }
    ck_assert_msg(compared > 0, "%s: nothing compared", what);
    for (int i = 0; i < n_in; i++)
        rnn_tensor_destroy(in[i]);
    return worst;
}

static void check_fixture(const char *base, int backend)
{
    char p[64], what[96];
    fx_file f;
    char err[256];
    snprintf(p, sizeof p, "%s.bin", base);
    ck_assert_msg(fx_load(fixture(p), &f, err, sizeof err) == 0, "%s", err);
    rnn_model_options o;
    rnn_model_options_init(&o);
    o.backend = (rnn_backend)backend;
    rnn_model *m;
    snprintf(p, sizeof p, "%s.keras", base);
    ck_ok(rnn_model_load_keras(fixture(p), &o, &m));
    snprintf(what, sizeof what, "%s (backend %d)", base, backend);
    double e = compare(m, &f, what);
    printf("%-28s max |librnn - keras| = %.2e\n", what, e);
    ck_assert_msg(e <= TOL, "%s: outputs differ from Keras' by %g", what, e);
    rnn_model_destroy(m);
    fx_free(&f);
}

static const char *const FIXTURES[] = {"sentiment", "pos_tagger", "char_gru", "encoder",
                                       "seq2seq",   "misc",       "log_softmax"};
#define N_FIX ((int)(sizeof FIXTURES / sizeof *FIXTURES))

START_TEST(fixture_outputs_match_keras)
{
    check_fixture(FIXTURES[_i % N_FIX], _i < N_FIX ? RNN_BACKEND_ONEDNN : RNN_BACKEND_REFERENCE);
}
END_TEST

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

START_TEST(loads_from_memory)
{
    size_t len;
    unsigned char *b = slurp(fixture("seq2seq.keras"), &len);
    rnn_model *m;
    ck_ok(rnn_model_load_keras_memory(b, len, NULL, &m));
    fx_file f;
    char err[256];
    ck_assert(fx_load(fixture("seq2seq.bin"), &f, err, sizeof err) == 0);
    ck_assert(compare(m, &f, "seq2seq from memory") <= TOL);
    fx_free(&f);
    rnn_model_destroy(m);
    free(b);
}
END_TEST

/* The imported model is an ordinary model: it trains, saves and loads. */
START_TEST(imported_model_trains_and_saves)
{
    rnn_model *m;
    ck_ok(rnn_model_load_keras(fixture("sentiment.keras"), NULL, &m));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_BINARY_CROSSENTROPY);
    rnn_optimizer_options opt;
    rnn_optimizer_options_init(&opt, RNN_OPTIM_ADAM);
    opt.learning_rate = 0.01f;
    ck_ok(rnn_model_compile(m, &c, &opt));
    fx_file f;
    char err[256];
    ck_assert(fx_load(fixture("sentiment.bin"), &f, err, sizeof err) == 0);
    rnn_tensor *x = to_tensor(fx_get(&f, "x.0")), *y;
    int64_t yd[2] = {3, 1};
    ck_ok(rnn_tensor_create(RNN_F32, 2, yd, &y));
    float *yv;
    ck_ok(rnn_tensor_data(y, (void **)&yv));
    yv[0] = 1, yv[1] = 0, yv[2] = 1;
    float first = 0, loss = 0, acc;
    for (int s = 0; s < 30; s++) {
        ck_ok(rnn_model_train_step(m, 1, (const rnn_tensor *const *)&x, NULL, y, &loss, &acc));
        if (s == 0)
            first = loss;
    }
    ck_assert_msg(loss < first, "loss %g did not fall from %g", loss, first);
    char path[] = "/tmp/librnn-keras-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_ok(rnn_model_save(m, path));
    rnn_model *back;
    ck_ok(rnn_model_load(path, NULL, &back));
    unlink(path);
    const rnn_tensor *a, *b;
    ck_ok(rnn_model_forward(m, 1, (const rnn_tensor *const *)&x, NULL, 0));
    ck_ok(rnn_model_forward(back, 1, (const rnn_tensor *const *)&x, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &a));
    ck_ok(rnn_model_output(back, 0, &b));
    const void *pa, *pb;
    ck_ok(rnn_tensor_data_const(a, &pa));
    ck_ok(rnn_tensor_data_const(b, &pb));
    ck_assert(memcmp(pa, pb, 3 * sizeof(float)) == 0);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    fx_free(&f);
    rnn_model_destroy(back);
    rnn_model_destroy(m);
}
END_TEST

/* model.save_weights("sentiment.weights.h5") into the same architecture
 * built in C. */
START_TEST(weights_file_into_a_c_model)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t t[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, t, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 30, e.output_dim = 8, e.mask_zero = 1;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 6, r.bidirectional = 1;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 1, d.activation = RNN_ACT_SIGMOID;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    ck_ok(rnn_model_load_keras_weights(m, fixture("sentiment.weights.h5")));
    fx_file f;
    char err[256];
    ck_assert(fx_load(fixture("sentiment_w.bin"), &f, err, sizeof err) == 0);
    double worst = compare(m, &f, "sentiment.weights.h5");
    printf("%-28s max |librnn - keras| = %.2e\n", "sentiment.weights.h5", worst);
    ck_assert(worst <= TOL);
    fx_free(&f);
    /* the weights inside a .keras file are the same format */
    rnn_model_destroy(m);
}
END_TEST

START_TEST(weights_of_another_architecture_are_refused)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t t[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, t, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 30, e.output_dim = 8;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 7, r.bidirectional = 1; /* Keras: 6 */
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    rnn_layer *emb;
    ck_ok(rnn_model_layer(m, 1, &emb));
    rnn_tensor *before;
    rnn_tensor *p;
    ck_ok(rnn_layer_param(emb, 0, NULL, &p, NULL));
    ck_ok(rnn_tensor_clone(p, &before));
    ck_rnn(rnn_model_load_keras_weights(m, fixture("sentiment.weights.h5")), RNN_ERR_FORMAT);
    ck_errmsg("rnn_model_load_keras_weights: layer 'bidirectional': "
              "'layers/bidirectional/forward_layer/cell/vars/0' has shape (8, 24), the librnn "
              "layer needs (8, 28)");
    /* nothing changed, not even the layer before */
    const void *a, *b;
    ck_ok(rnn_tensor_data_const(p, &a));
    ck_ok(rnn_tensor_data_const(before, &b));
    ck_assert(memcmp(a, b, 30 * 8 * sizeof(float)) == 0);
    rnn_tensor_destroy(before);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(unsupported_files_are_refused)
{
    rnn_model *m = (rnn_model *)1;
    ck_rnn(rnn_model_load_keras(fixture("unsupported_class.keras"), NULL, &m),
           RNN_ERR_UNSUPPORTED);
    ck_assert_ptr_null(m);
    ck_errmsg("rnn_model_load_keras: layer 'masking' (Masking): class 'Masking' is not "
              "supported");
    ck_rnn(rnn_model_load_keras(fixture("unsupported_arg.keras"), NULL, &m), RNN_ERR_UNSUPPORTED);
    ck_errmsg("(LSTM): recurrent_activation='hard_sigmoid' is not supported (librnn: "
              "'sigmoid')");
    ck_rnn(rnn_model_load_keras(fixture("sentiment.bin"), NULL, &m), RNN_ERR_FORMAT);
    ck_errmsg("rnn_model_load_keras: not a Keras 3 .keras file: not a zip archive");
    ck_rnn(rnn_model_load_keras(fixture("no-such-file.keras"), NULL, &m), RNN_ERR_IO);
    ck_rnn(rnn_model_load_keras(NULL, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_load_keras: path must not be NULL");
    ck_rnn(rnn_model_load_keras_memory(NULL, 0, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_model_load_keras_weights(NULL, "x"), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_model_load_keras_weights_memory(NULL, "x", 1), RNN_ERR_INVALID_ARG);
}
END_TEST

/* Every truncation and a sweep of byte changes of a real file: an error or
 * a model, never a crash (ASan and valgrind check the leaks). */
START_TEST(damaged_files_fail_cleanly)
{
    size_t len;
    unsigned char *b = slurp(fixture("sentiment.keras"), &len);
    unsigned char *c = malloc(len);
    ck_assert_ptr_nonnull(c);
    int ok = 0, failed = 0;
    for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
        rnn_model *m;
        rnn_status st = rnn_model_load_keras_memory(b, cut, NULL, &m);
        st ? failed++ : ok++;
        if (!st)
            rnn_model_destroy(m);
    }
    for (size_t at = 0; at < len; at += len / 211 + 1) {
        memcpy(c, b, len);
        c[at] ^= 0x5a;
        rnn_model *m;
        rnn_status st = rnn_model_load_keras_memory(c, len, NULL, &m);
        st ? failed++ : ok++;
        if (!st)
            rnn_model_destroy(m);
    }
    printf("damaged files: %d refused, %d loaded\n", failed, ok);
    ck_assert_int_gt(failed, 0);
    free(c);
    free(b);
}
END_TEST

/* A superblock whose end-of-file address exceeds the file is refused before
 * HDF5 sizes a buffer from it (fuzzing found 4 GiB from one changed byte). */
START_TEST(hdf5_superblock_is_checked)
{
    size_t len;
    unsigned char *b = slurp(fixture("sentiment.weights.h5"), &len);
    ck_assert_int_eq(b[8], 0); /* h5py writes superblock version 0: eof at 24 + 2 * 8 */
    rnn_model *m;
    ck_ok(rnn_model_load_keras(fixture("sentiment.keras"), NULL, &m));
    ck_ok(rnn_model_load_keras_weights_memory(m, b, len));
    b[40 + 4] = 0xff;
    ck_rnn(rnn_model_load_keras_weights_memory(m, b, len), RNN_ERR_FORMAT);
    ck_errmsg("rnn_model_load_keras_weights_memory: HDF5 superblock says the file has");
    ck_rnn(rnn_model_load_keras_weights_memory(m, b, 7), RNN_ERR_FORMAT);
    ck_errmsg("not an HDF5 file");
    rnn_model_destroy(m);
    free(b);
}
END_TEST

/* The HDF5 reader is librnn-keras' own (libhdf5 crashed on files fuzzing
 * made): a structure the file describes out of bounds, a B-tree pointing at
 * itself, a datatype that is not an IEEE float are refused with a message.
 * Offsets are those of h5py's superblock version 0 with 8-byte addresses. */
static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

START_TEST(hdf5_structures_are_bounded)
{
    size_t len;
    unsigned char *b = slurp(fixture("sentiment.weights.h5"), &len);
    unsigned char *c = malloc(len);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(b[13], 8);
    rnn_model *m;
    ck_ok(rnn_model_load_keras(fixture("sentiment.keras"), NULL, &m));
    /* the root entry's cached B-tree and local heap addresses */
    const uint64_t tree = le64(b + 80), heap = le64(b + 88);
    ck_assert(tree + 48 < len && heap + 32 < len);
    ck_assert(!memcmp(b + tree, "TREE", 4) && !memcmp(b + heap, "HEAP", 4));
    /* a local heap of a terabyte (libhdf5 1.10 copied from NULL) */
    memcpy(c, b, len);
    c[heap + 8 + 5] = 0x01;
    ck_rnn(rnn_model_load_keras_weights_memory(m, c, len), RNN_ERR_FORMAT);
    ck_errmsg("rnn_model_load_keras_weights_memory: HDF5 root group cannot be read");
    /* a B-tree node of level 1 whose child is itself */
    memcpy(c, b, len);
    c[tree + 5] = 1;
    memcpy(c + tree + 8 + 16 + 8, b + 80, 8);
    ck_rnn(rnn_model_load_keras_weights_memory(m, c, len), RNN_ERR_FORMAT);
    ck_errmsg("HDF5 root group cannot be read");
    /* the first float32 datatype message: class 1 version 1, little-endian,
     * sign at bit 31, 4 bytes; made an integer, then a 16-bit exponent */
    static const unsigned char f32[] = {0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8};
    const unsigned char *f = memmem(b, len, f32, sizeof f32);
    ck_assert_ptr_nonnull(f);
    const size_t t = (size_t)(f - b);
    memcpy(c, b, len);
    c[t] = 0x10;
    ck_rnn(rnn_model_load_keras_weights_memory(m, c, len), RNN_ERR_FORMAT);
    ck_errmsg("is not a floating-point array");
    memcpy(c, b, len);
    c[t + 13] = 16;
    ck_rnn(rnn_model_load_keras_weights_memory(m, c, len), RNN_ERR_FORMAT);
    ck_errmsg("is not a contiguous IEEE float array stored inside the file");
    /* the model still loads the intact file */
    ck_ok(rnn_model_load_keras_weights_memory(m, b, len));
    rnn_model_destroy(m);
    free(c);
    free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("keras_files");
    TCase *t = tcase_create("keras_files");
    tcase_set_timeout(t, 300);
    tcase_add_loop_test(t, fixture_outputs_match_keras, 0, 2 * N_FIX);
    tcase_add_test(t, loads_from_memory);
    tcase_add_test(t, imported_model_trains_and_saves);
    tcase_add_test(t, weights_file_into_a_c_model);
    tcase_add_test(t, weights_of_another_architecture_are_refused);
    tcase_add_test(t, unsupported_files_are_refused);
    tcase_add_test(t, damaged_files_fail_cleanly);
    tcase_add_test(t, hdf5_superblock_is_checked);
    tcase_add_test(t, hdf5_structures_are_bounded);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return rnn_test_run(suite());
}
