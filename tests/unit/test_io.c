/* SPDX-License-Identifier: Apache-2.0 */
/* Save/load: round trips give identical predictions (also at another batch
 * size), atomic replacement, the saved file's mode (the umask, or the replaced
 * file's), and every kind of damaged or hostile file gives
 * RNN_ERR_FORMAT without crashing or over-allocating. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

static char dir[] = "/tmp/rnn_io_testXXXXXX";
static char path[256];

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.rnn", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static void *D(const rnn_tensor *t)
{
    void *p;
    rnn_tensor_data((rnn_tensor *)t, &p);
    return p;
}

/* Token model: Embedding(mask_zero) + BiGRU(seq) + LSTM + Dense(softmax). */
static rnn_model *token_model(void)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 77;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 9, e.output_dim = 4, e.mask_zero = 1;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_GRU);
    o.units = 3, o.bidirectional = 1, o.return_sequences = 1, o.merge_mode = RNN_MERGE_AVE;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 5, o.use_bias = 0;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 3, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

static rnn_tensor *tokens(int64_t N, int64_t T, int salt)
{
    int64_t d[2] = {N, T};
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_I32, 2, d, &t));
    int32_t *p = D(t);
    for (int64_t n = 0; n < N; n++) {
        int64_t L = 1 + (n * 3 + salt) % T;
        for (int64_t s = 0; s < T; s++)
            p[n * T + s] = s < L ? 1 + (int32_t)((n * 7 + s * 3 + salt) % 8) : 0;
    }
    return t;
}

static void predict(rnn_model *m, const rnn_tensor *x, float *out, int64_t n)
{
    const rnn_tensor *in[1] = {x}, *y;
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &y));
    memcpy(out, D(y), sizeof(float) * (size_t)n);
}

START_TEST(roundtrip_identical_predictions_any_batch)
{
    rnn_model *m = token_model();
    ck_ok(rnn_model_save(m, path));
    rnn_model *l = NULL;
    ck_ok(rnn_model_load(path, NULL, &l));
    int64_t c1, c2;
    rnn_model_count_params(m, &c1);
    rnn_model_count_params(l, &c2);
    ck_assert_int_eq(c1, c2);
    for (int64_t N = 1; N <= 7; N += 3) { /* batch sizes 1, 4, 7 */
        rnn_tensor *x = tokens(N, 6, (int)N);
        float a[7 * 3], b[7 * 3];
        predict(m, x, a, N * 3);
        predict(l, x, b, N * 3);
        ck_assert_msg(memcmp(a, b, sizeof(float) * (size_t)(N * 3)) == 0,
                      "predictions differ after load (batch %lld)", (long long)N);
        rnn_tensor_destroy(x);
    }
    /* The reference backend loads the same file to the same numbers. */
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = RNN_BACKEND_REFERENCE;
    rnn_model *r;
    ck_ok(rnn_model_load(path, &mo, &r));
    rnn_tensor *x = tokens(4, 6, 1);
    float a[12], b[12];
    predict(m, x, a, 12);
    predict(r, x, b, 12);
    for (int i = 0; i < 12; i++)
        ck_assert(fabsf(a[i] - b[i]) < 1e-5f);
    rnn_tensor_destroy(x);
    rnn_model_destroy(r);
    rnn_model_destroy(m);
    rnn_model_destroy(l);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(sequence_model_roundtrip_and_stacked_options)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, sh, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_SIMPLE_RNN);
    o.units = 4, o.activation = RNN_ACT_RELU, o.return_sequences = 1, o.go_backwards = 1;
    o.dropout = 0.25f;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_recurrent_options_init(&o, RNN_GRU);
    o.units = 2, o.reset_after = 0, o.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    ck_ok(rnn_model_add_dropout(m, 0.5f, NULL));
    ck_ok(rnn_model_add_global_pooling(m, RNN_POOL_MAX, NULL));
    ck_ok(rnn_model_add_activation(m, RNN_ACT_SIGMOID, NULL));
    ck_ok(rnn_model_save(m, path));
    rnn_model *l;
    ck_ok(rnn_model_load(path, NULL, &l));
    int nl;
    ck_ok(rnn_model_num_layers(l, &nl));
    ck_assert_int_eq(nl, 6);
    char s1[2048], s2[2048];
    ck_ok(rnn_model_summary(m, s1, sizeof s1, NULL));
    ck_ok(rnn_model_summary(l, s2, sizeof s2, NULL));
    ck_assert_str_eq(s1, s2); /* same layers, options and counts */
    int64_t xd[3] = {2, 5, 3};
    rnn_tensor *x;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    for (int i = 0; i < 30; i++)
        ((float *)D(x))[i] = (float)sin(i);
    float a[4], b[4];
    predict(m, x, a, 4);
    predict(l, x, b, 4);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
    rnn_model_destroy(l);
}
END_TEST

START_TEST(save_is_atomic_and_errors_are_named)
{
    rnn_model *m = token_model();
    ck_ok(rnn_model_save(m, path));
    struct stat before;
    ck_assert_int_eq(stat(path, &before), 0);
    /* A failing save (directory that does not exist) leaves nothing behind. */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/model.rnn", dir);
    ck_rnn(rnn_model_save(m, bad), RNN_ERR_IO);
    ck_errmsg("cannot create a temporary file beside");
    /* Saving again replaces the file whole; no temporary files remain. */
    ck_ok(rnn_model_save(m, path));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    rnn_model *l = (rnn_model *)0x1;
    ck_rnn(rnn_model_load(bad, NULL, &l), RNN_ERR_IO);
    ck_assert_ptr_null(l);
    ck_errmsg("cannot open");
    ck_rnn(rnn_model_load(dir, NULL, &l), RNN_ERR_IO);
    rnn_model *empty;
    ck_ok(rnn_model_create(NULL, &empty));
    ck_rnn(rnn_model_save(empty, path), RNN_ERR_STATE);
    rnn_model_destroy(empty);
    rnn_model_destroy(m);
}
END_TEST

static unsigned char *slurp(const char *p, long *n)
{
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)*n);
    ck_assert_int_eq((long)fread(b, 1, (size_t)*n, f), *n);
    fclose(f);
    return b;
}

static void spit(const char *p, const void *b, long n)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq((long)fwrite(b, 1, (size_t)n, f), n);
    fclose(f);
}

/* Names in dir, other than "." and ".."; the first in *first (when non-NULL). */
static int entries(char *first, size_t size)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n++ == 0 && first)
            snprintf(first, size, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static unsigned mode_of(const char *p)
{
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

/* A new file gets 0666 & ~umask (umask 022: 0644, 077: 0600), as fopen(path, "w") would; a file
 * that replaces another keeps the other's permission bits; no temporary file is left behind,
 * also when the write fails half-way. */
START_TEST(saved_file_mode_follows_the_umask)
{
    rnn_model *m = token_model();
    const mode_t old_mask = umask(022);
    ck_ok(rnn_model_save(m, path));
    ck_assert_uint_eq(mode_of(path), 0644);
    char name[256];
    ck_assert_int_eq(entries(name, sizeof name), 1);
    ck_assert_str_eq(name, "model.rnn");
    char other[300];
    snprintf(other, sizeof other, "%s/private.rnn", dir);
    umask(077);
    ck_ok(rnn_model_save(m, other));
    ck_assert_uint_eq(mode_of(other), 0600);
    umask(002);
    ck_assert_int_eq(unlink(other), 0);
    ck_ok(rnn_model_save(m, other));
    ck_assert_uint_eq(mode_of(other), 0664);
    ck_assert_int_eq(unlink(other), 0);

    /* Replacing: the existing file's bits, whatever the umask (also looser than it allows). */
    umask(077);
    ck_assert_int_eq(chmod(path, 0640), 0);
    ck_ok(rnn_model_save(m, path));
    ck_assert_uint_eq(mode_of(path), 0640);
    umask(022);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_ok(rnn_model_save(m, path));
    ck_assert_uint_eq(mode_of(path), 0600);
    ck_assert_int_eq(chmod(path, 0666), 0);
    ck_ok(rnn_model_save(m, path));
    ck_assert_uint_eq(mode_of(path), 0666);
    rnn_model *l;
    ck_ok(rnn_model_load(path, NULL, &l));
    rnn_model_destroy(l);
    ck_assert_int_eq(entries(NULL, 0), 1);

    /* A write that fails half-way (the file size limit; the model is a few kB) leaves the old
     * file as it was and no temporary file. */
    long n_before;
    unsigned char *before = slurp(path, &n_before);
    struct rlimit lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &lim), 0);
    struct rlimit small = {.rlim_cur = 512, .rlim_max = lim.rlim_max};
    signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    rnn_status st = rnn_model_save(m, path);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    ck_rnn(st, RNN_ERR_IO);
    ck_errmsg("cannot write");
    ck_assert_int_eq(entries(name, sizeof name), 1);
    ck_assert_str_eq(name, "model.rnn");
    long n_after;
    unsigned char *after = slurp(path, &n_after);
    ck_assert(n_after == n_before && memcmp(before, after, (size_t)n_before) == 0);
    ck_assert_uint_eq(mode_of(path), 0666);
    free(before);
    free(after);
    umask(old_mask);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(every_truncation_is_a_format_error)
{
    rnn_model *m = token_model();
    ck_ok(rnn_model_save(m, path));
    rnn_model_destroy(m);
    long n;
    unsigned char *b = slurp(path, &n);
    char cut[300];
    snprintf(cut, sizeof cut, "%s/cut.rnn", dir);
    for (long k = 0; k < n; k += k < 64 ? 1 : 7) {
        spit(cut, b, k);
        rnn_model *l = (rnn_model *)0x1;
        rnn_status st = rnn_model_load(cut, NULL, &l);
        ck_assert_msg(st == RNN_ERR_FORMAT, "truncated to %ld of %ld bytes: status %d (%s)", k, n,
                      st, rnn_last_error());
        ck_assert_ptr_null(l);
        ck_assert_uint_eq(rnn_memory_used(), 0);
    }
    free(b);
}
END_TEST

START_TEST(corrupted_bytes_never_crash)
{
    rnn_model *m = token_model();
    ck_ok(rnn_model_save(m, path));
    rnn_model_destroy(m);
    long n;
    unsigned char *b = slurp(path, &n);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/bad.rnn", dir);
    uint64_t s = 99;
    for (int r = 0; r < 300; r++) {
        unsigned char *c = malloc((size_t)n);
        memcpy(c, b, (size_t)n);
        for (int k = 0; k < 3; k++) { /* flip a few bytes, mostly in the header */
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            long at = (long)((s >> 33) % (uint64_t)(r % 2 ? n : (n < 600 ? n : 600)));
            c[at] ^= (unsigned char)(1 + (s >> 20) % 255);
        }
        spit(bad, c, n);
        rnn_model *l = NULL;
        rnn_status st = rnn_model_load(bad, NULL, &l);
        /* Damage in the weights is undetectable by design (no checksum): it
         * loads. Anything else must be a clean format error. */
        ck_assert_msg(st == RNN_OK || st == RNN_ERR_FORMAT, "round %d: status %d (%s)", r, st,
                      rnn_last_error());
        rnn_model_destroy(l);
        free(c);
    }
    ck_assert_uint_eq(rnn_memory_used(), 0);
    free(b);
}
END_TEST

/* Allocator that refuses anything over 1 MB: proves a hostile header cannot
 * make the loader allocate what the file does not hold. */
static size_t largest_request;
static void *small_alloc(void *u, size_t n)
{
    (void)u;
    if (n > largest_request)
        largest_request = n;
    return n > (1u << 20) ? NULL : malloc(n);
}
static void small_free(void *u, void *p)
{
    (void)u;
    free(p);
}

START_TEST(hostile_header_is_rejected_before_allocating)
{
    static const char *archs[] = {
        /* An embedding of 2^31 x 2^24 floats in a file of a few hundred bytes. */
        "{\"format\":\"librnn\",\"format_version\":1,\"layers\":[{\"kind\":\"input\",\"name\":"
        "\"input\",\"config\":{\"dtype\":\"int32\",\"sequence\":true,\"steps\":0,\"features\":0}},"
        "{\"kind\":\"embedding\",\"name\":\"embedding\",\"config\":{\"input_dim\":2147483647,"
        "\"output_dim\":16777216,\"mask_zero\":false,\"trainable\":true}}]}",
        /* Negative and absurd values, wrong types, unknown kinds. */
        "{\"layers\":[{\"kind\":\"input\",\"name\":\"input\",\"config\":{\"dtype\":\"float32\","
        "\"sequence\":true,\"steps\":-4,\"features\":3}}]}",
        "{\"layers\":[{\"kind\":\"input\",\"name\":\"input\",\"config\":{\"dtype\":\"float32\","
        "\"sequence\":true,\"steps\":0,\"features\":3}},{\"kind\":\"teleporter\",\"name\":\"x\","
        "\"config\":{}}]}",
        "{\"layers\":[{\"kind\":\"input\",\"name\":\"input\",\"config\":{\"dtype\":\"float32\","
        "\"sequence\":true,\"steps\":0,\"features\":3}},{\"kind\":\"dense\",\"name\":\"dense\","
        "\"config\":{\"units\":\"7\",\"activation\":\"linear\",\"use_bias\":true,"
        "\"kernel_initializer\":\"zeros\",\"bias_initializer\":\"zeros\"}}]}",
        "{\"layers\":7}",
        "[1,2,3]",
    };
    char hostile[300];
    snprintf(hostile, sizeof hostile, "%s/hostile.rnn", dir);
    largest_request = 0;
    ck_ok(rnn_set_allocator(small_alloc, small_free, NULL));
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        char header[2048];
        /* Escape the architecture as a JSON string. */
        char esc[1600];
        size_t k = 0;
        for (const char *p = archs[i]; *p && k < sizeof esc - 2; p++) {
            if (*p == '"')
                esc[k++] = '\\';
            esc[k++] = *p;
        }
        esc[k] = 0;
        int hl = snprintf(header, sizeof header,
                          "{\"__metadata__\":{\"format\":\"librnn\",\"format_version\":\"1\","
                          "\"architecture\":\"%s\"},\"embedding/embeddings\":{\"dtype\":\"F32\","
                          "\"shape\":[2147483647,16777216],\"data_offsets\":[0,64]}}",
                          esc);
        unsigned char file[2048 + 8 + 64] = {0};
        for (int q = 0; q < 8; q++)
            file[q] = (unsigned char)((uint64_t)hl >> (8 * q));
        memcpy(file + 8, header, (size_t)hl);
        spit(hostile, file, 8 + hl + 64);
        rnn_model *l = (rnn_model *)0x1;
        rnn_status st = rnn_model_load(hostile, NULL, &l);
        ck_assert_msg(st == RNN_ERR_FORMAT, "architecture %zu: status %d (%s)", i, st,
                      rnn_last_error());
        ck_assert_ptr_null(l);
    }
    ck_ok(rnn_set_allocator(NULL, NULL, NULL));
    ck_assert_msg(largest_request < (1u << 16),
                  "the loader asked for %zu bytes for a file of a few hundred", largest_request);
    /* A file that is not a model at all. */
    spit(hostile, "hello, world", 12);
    rnn_model *l;
    ck_rnn(rnn_model_load(hostile, NULL, &l), RNN_ERR_FORMAT);
    ck_errmsg("header size");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("io");
    TCase *tc = tcase_create("io");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, roundtrip_identical_predictions_any_batch);
    tcase_add_test(tc, sequence_model_roundtrip_and_stacked_options);
    tcase_add_test(tc, save_is_atomic_and_errors_are_named);
    tcase_add_test(tc, saved_file_mode_follows_the_umask);
    tcase_add_test(tc, every_truncation_is_a_format_error);
    tcase_add_test(tc, corrupted_bytes_never_crash);
    tcase_add_test(tc, hostile_header_is_rejected_before_allocating);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
