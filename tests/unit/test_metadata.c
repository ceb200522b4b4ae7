/* SPDX-License-Identifier: Apache-2.0 */
/* Model metadata (rnn_model_set_metadata and friends, include/rnn/io.h):
 * set, replace, remove, enumeration in key order, every limit and reserved
 * key, invalid UTF-8, the round trip through save/load, files breaking the
 * limits, a hand-edited file failing the checksum, and out of memory leaving
 * the metadata unchanged. */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

#include "test_util.h"

static char dir[] = "/tmp/rnn_meta_testXXXXXX";
static char path[256], bad[256];

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.rnn", dir);
    snprintf(bad, sizeof bad, "%s/bad.rnn", dir);
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}

/* Input(int, T) -> Embedding(7, 3) -> Dense(2). */
static rnn_model *small_model(void)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 7, e.output_dim = 3;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

static const char *get(const rnn_model *m, const char *key)
{
    const char *v = (const char *)1;
    ck_ok(rnn_model_get_metadata(m, key, &v));
    return v;
}

/* The model's metadata as "k=v;k=v;" in enumeration order. */
static char *dump(const rnn_model *m)
{
    static char buf[4096];
    int n;
    buf[0] = '\0';
    ck_ok(rnn_model_metadata_count(m, &n));
    for (int i = 0; i < n; i++) {
        const char *k;
        ck_ok(rnn_model_metadata_key(m, i, &k));
        const char *v = get(m, k);
        ck_assert_ptr_nonnull(v);
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof buf - len, "%s=%.40s;", k, v);
    }
    return buf;
}

START_TEST(set_get_replace_remove_enumerate)
{
    rnn_model *m = small_model();
    int n = -1;
    ck_ok(rnn_model_metadata_count(m, &n));
    ck_assert_int_eq(n, 0);
    ck_assert_ptr_null(get(m, "absent"));
    ck_ok(rnn_model_set_metadata(m, "b", "2"));
    ck_ok(rnn_model_set_metadata(m, "a", "1"));
    ck_ok(rnn_model_set_metadata(m, "c", "3"));
    ck_ok(rnn_model_set_metadata(m, "B", "upper"));
    ck_ok(rnn_model_set_metadata(m, "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac 5")); /* été, € */
    ck_assert_str_eq(dump(m), "B=upper;a=1;b=2;c=3;\xc3\xa9t\xc3\xa9=\xe2\x82\xac 5;");
    char v[] = "replaced";
    ck_ok(rnn_model_set_metadata(m, "b", v));
    v[0] = 'X'; /* the model holds a copy */
    ck_assert_str_eq(get(m, "b"), "replaced");
    ck_ok(rnn_model_set_metadata(m, "a", NULL));
    ck_ok(rnn_model_set_metadata(m, "a", NULL)); /* absent: no error */
    ck_ok(rnn_model_set_metadata(m, "zz", ""));  /* an empty value is a value */
    ck_assert_str_eq(dump(m), "B=upper;b=replaced;c=3;zz=;\xc3\xa9t\xc3\xa9=\xe2\x82\xac 5;");
    ck_assert_ptr_null(get(m, "a"));
    const char *k = (const char *)1;
    ck_rnn(rnn_model_metadata_key(m, 5, &k), RNN_ERR_RANGE);
    ck_errmsg("rnn_model_metadata_key: index must be in [0, 5) (got 5)");
    ck_assert_ptr_null(k);
    ck_rnn(rnn_model_metadata_key(m, -1, &k), RNN_ERR_RANGE);
    ck_rnn(rnn_model_set_metadata(NULL, "a", "b"), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_set_metadata: model must not be NULL");
    ck_rnn(rnn_model_set_metadata(m, NULL, "b"), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_set_metadata: key must not be NULL");
    ck_rnn(rnn_model_get_metadata(m, "a", NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_get_metadata: out must not be NULL");
    ck_rnn(rnn_model_metadata_count(NULL, &n), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_metadata_count: model must not be NULL");
    rnn_model_destroy(m);
}
END_TEST

/* A set that must fail with RNN_ERR_INVALID_ARG and message msg, leaving
 * the metadata as it was. */
static void refused(rnn_model *m, const char *key, const char *value, const char *msg)
{
    char before[4096];
    snprintf(before, sizeof before, "%s", dump(m));
    ck_rnn(rnn_model_set_metadata(m, key, value), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_set_metadata: ");
    ck_errmsg(msg);
    ck_assert_str_eq(dump(m), before);
}

START_TEST(limits_reserved_keys_and_utf8)
{
    rnn_model *m = small_model();
    ck_ok(rnn_model_set_metadata(m, "keep", "me"));
    refused(m, "", "v", "key must be 1 to 255 bytes (got 0");
    char key[300];
    memset(key, 'k', sizeof key);
    key[255] = '\0';
    ck_ok(rnn_model_set_metadata(m, key, "255 bytes is the most"));
    key[255] = 'k', key[256] = '\0';
    refused(m, key, "v", "key must be 1 to 255 bytes (got 256");
    const char *reserved[] = {"format", "format_version", "librnn_version", "architecture",
                              "checksum", "librnn.", "librnn.anything"};
    for (int i = 0; i < 7; i++)
        refused(m, reserved[i], "v", "is reserved for the file format");
    ck_ok(rnn_model_set_metadata(m, "librnn", "not reserved: no dot"));
    ck_ok(rnn_model_set_metadata(m, "Format", "not reserved: case matters"));
    /* Invalid UTF-8: a stray continuation byte, a truncated sequence, an
     * overlong form, a surrogate, a code point above U+10FFFF. */
    refused(m, "ab\x80", "v", "key is not valid UTF-8 without NUL (byte 0x80 at offset 2)");
    refused(m, "x", "abc\xc3", "value of key \"x\" is not valid UTF-8 without NUL (byte 0xc3 at "
                               "offset 3)");
    refused(m, "x", "\xc0\xaf", "(byte 0xc0 at offset 0)");
    refused(m, "x", "a\xed\xa0\x80", "(byte 0xed at offset 1)");
    refused(m, "x", "\xf4\x90\x80\x80", "(byte 0xf4 at offset 0)");
    refused(m, "x", "\xe0\x80\xaf", "(byte 0xe0 at offset 0)");
    ck_ok(rnn_model_set_metadata(m, "x", "\xf4\x8f\xbf\xbf \xf0\x9f\x98\x80")); /* U+10FFFF, emoji */
    rnn_model_destroy(m);

    /* Sizes: a value of 16 MiB, the total of 16 MiB, 1024 keys. */
    m = small_model();
    const size_t MiB16 = (size_t)16 << 20;
    char *big = malloc(MiB16 + 2);
    memset(big, 'v', MiB16 + 1);
    big[MiB16 + 1] = '\0';
    refused(m, "v", big, "value of key \"v\" must be at most 16777216 bytes (got 16777217)");
    big[MiB16 - 1] = '\0'; /* with the 1-byte key: 16 MiB in all */
    ck_ok(rnn_model_set_metadata(m, "v", big));
    refused(m, "w", "1", "the metadata would hold 16777218 bytes of keys and values, more than "
                         "16777216");
    ck_ok(rnn_model_set_metadata(m, "v", "small again"));
    ck_ok(rnn_model_set_metadata(m, "w", "1"));
    rnn_model_destroy(m);
    m = small_model();
    for (int i = 0; i < 1024; i++) {
        snprintf(key, sizeof key, "key%04d", i);
        ck_ok(rnn_model_set_metadata(m, key, "v"));
    }
    refused(m, "one more", "v", "a model holds at most 1024 metadata keys");
    ck_ok(rnn_model_set_metadata(m, "key0000", "replacing is not adding"));
    ck_ok(rnn_model_set_metadata(m, "key0000", NULL));
    ck_ok(rnn_model_set_metadata(m, "one more", "v"));
    int n;
    ck_ok(rnn_model_metadata_count(m, &n));
    ck_assert_int_eq(n, 1024);
    ck_ok(rnn_model_save(m, path)); /* the most keys save and load */
    rnn_model_destroy(m);
    ck_ok(rnn_model_load(path, NULL, &m));
    ck_ok(rnn_model_metadata_count(m, &n));
    ck_assert_int_eq(n, 1024);
    rnn_model_destroy(m);
    free(big);
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
    ck_assert_int_eq(fread(b, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return b;
}

static void spit(const char *p, const void *b, size_t n)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

START_TEST(save_load_round_trip)
{
    rnn_model *m = small_model(), *l = NULL;
    ck_ok(rnn_model_save(m, path));
    ck_ok(rnn_model_load(path, NULL, &l));
    int n = -1;
    ck_ok(rnn_model_metadata_count(l, &n)); /* files without metadata: none */
    ck_assert_int_eq(n, 0);
    rnn_model_destroy(l);
    ck_ok(rnn_model_set_metadata(m, "vocab", "the\ncat\nsat\n\"quoted\" \\ tab\t"));
    ck_ok(rnn_model_set_metadata(m, "example", "pos_tagger"));
    ck_ok(rnn_model_set_metadata(m, "\xc3\xa9", "\x01\x1f control bytes"));
    ck_ok(rnn_model_save(m, path));
    ck_ok(rnn_model_load(path, NULL, &l));
    ck_assert_str_eq(dump(l), dump(m));
    ck_assert_str_eq(get(l, "vocab"), "the\ncat\nsat\n\"quoted\" \\ tab\t");
    rnn_model_destroy(l);

    /* Other safetensors readers see plain string entries of __metadata__. */
    long len;
    unsigned char *b = slurp(path, &len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    json_t *h = json_loadb((const char *)b + 8, (size_t)hlen, 0, NULL);
    ck_assert_ptr_nonnull(h);
    json_t *meta = json_object_get(h, "__metadata__");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "example")), "pos_tagger");
    ck_assert_str_eq(json_string_value(json_object_get(meta, "format")), "librnn");
    json_decref(h);

    /* Edited by hand, same length, still valid JSON: the checksum refuses it. */
    unsigned char *at = memmem(b, (size_t)len, "pos_tagger", 10);
    ck_assert_ptr_nonnull(at);
    memcpy(at, "sentiment_", 10);
    spit(bad, b, (size_t)len);
    ck_rnn(rnn_model_load(bad, NULL, &l), RNN_ERR_FORMAT);
    ck_errmsg("the checksum does not match");
    ck_assert_ptr_null(l);
    free(b);

    /* The worst case of JSON escaping: 16 MiB of control bytes (6 bytes
     * each in the header) saves and loads. */
    rnn_model_destroy(m);
    m = small_model();
    const size_t big = ((size_t)16 << 20) - 1;
    char *v = malloc(big + 1);
    memset(v, 0x01, big);
    v[big] = '\0';
    ck_ok(rnn_model_set_metadata(m, "v", v));
    ck_ok(rnn_model_save(m, path));
    ck_ok(rnn_model_load(path, NULL, &l));
    ck_assert_int_eq(memcmp(get(l, "v"), v, big + 1), 0);
    rnn_model_destroy(l);
    rnn_model_destroy(m);
    free(v);
}
END_TEST

/* The model file rewritten with its header's __metadata__ edited by edit()
 * and its checksum removed (a file of a version without checksums), so
 * that only the metadata rules can refuse it. */
static rnn_status load_edited(void (*edit)(json_t *meta), rnn_model **out)
{
    long len;
    unsigned char *b = slurp(path, &len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | b[i];
    json_t *h = json_loadb((const char *)b + 8, (size_t)hlen, 0, NULL);
    ck_assert_ptr_nonnull(h);
    json_t *meta = json_object_get(h, "__metadata__");
    json_object_del(meta, "checksum");
    edit(meta);
    char *hs = json_dumps(h, JSON_COMPACT);
    size_t n = strlen(hs);
    FILE *f = fopen(bad, "wb");
    for (int i = 0; i < 8; i++)
        fputc((int)((uint64_t)n >> (8 * i) & 0xff), f);
    fwrite(hs, 1, n, f);
    fwrite(b + 8 + hlen, 1, (size_t)len - 8 - hlen, f);
    fclose(f);
    free(hs);
    json_decref(h);
    free(b);
    *out = NULL;
    return rnn_model_load(bad, NULL, out);
}

static void edit_none(json_t *meta)
{
    (void)meta;
}
static void edit_empty_key(json_t *meta)
{
    json_object_set_new(meta, "", json_string("v"));
}
static void edit_long_key(json_t *meta)
{
    char k[257];
    memset(k, 'k', 256);
    k[256] = '\0';
    json_object_set_new(meta, k, json_string("v"));
}
static void edit_number(json_t *meta)
{
    json_object_set_new(meta, "n", json_integer(3));
}
static void edit_many(json_t *meta)
{
    for (int i = 0; i < 1025; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(meta, k, json_string("v"));
    }
}
static void edit_big(json_t *meta)
{
    size_t n = ((size_t)16 << 20) + 1;
    char *v = malloc(n + 1);
    memset(v, 'v', n);
    v[n] = '\0';
    json_object_set_new(meta, "v", json_string(v));
    free(v);
}
static void edit_reserved(json_t *meta)
{
    json_object_set_new(meta, "librnn.future", json_string("ignored"));
}

START_TEST(files_breaking_the_limits_are_format_errors)
{
    rnn_model *m = small_model(), *l;
    ck_ok(rnn_model_set_metadata(m, "example", "char_lm"));
    ck_ok(rnn_model_save(m, path));
    rnn_model_destroy(m);
    ck_ok(load_edited(edit_none, &l)); /* the rewriting itself is harmless */
    ck_assert_str_eq(get(l, "example"), "char_lm");
    rnn_model_destroy(l);
    ck_ok(load_edited(edit_reserved, &l)); /* a reserved key is the format's, not read */
    ck_assert_str_eq(dump(l), "example=char_lm;");
    rnn_model_destroy(l);
    struct {
        void (*edit)(json_t *);
        const char *msg;
    } cases[] = {
        {edit_empty_key, "__metadata__: key must be 1 to 255 bytes (got 0"},
        {edit_long_key, "__metadata__: key must be 1 to 255 bytes (got 256"},
        {edit_number, "__metadata__ key \"n\" must have a string value"},
        {edit_many, "__metadata__ has more than 1024 keys of metadata"},
        {edit_big, "value of key \"v\" must be at most 16777216 bytes (got 16777217)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_rnn(load_edited(cases[i].edit, &l), RNN_ERR_FORMAT);
        ck_errmsg("rnn_model_load: ");
        ck_errmsg(bad);
        ck_errmsg(cases[i].msg);
        ck_assert_ptr_null(l);
        ck_assert_uint_eq(rnn_memory_used(), 0);
    }
}
END_TEST

/* ------------------------------------------------------------ out of memory */

typedef struct failing {
    long calls, fail_at;
} failing;

static void *fail_alloc(void *user, size_t size)
{
    failing *f = user;
    if (f->fail_at >= 0 && f->calls >= f->fail_at)
        return NULL;
    f->calls++;
    return malloc(size);
}

static void fail_free(void *user, void *p)
{
    (void)user;
    free(p);
}

START_TEST(out_of_memory_leaves_the_metadata_unchanged)
{
    failing f = {0, -1};
    ck_ok(rnn_set_allocator(fail_alloc, fail_free, &f));
    /* Adding a key (between two others) and replacing a value. */
    const char *calls[2][2] = {{"m", "new"}, {"b", "replaced"}};
    for (int c = 0; c < 2; c++) {
        int failures = 0;
        for (long k = 0;; k++) {
            f.fail_at = -1;
            rnn_model *m = small_model();
            ck_ok(rnn_model_set_metadata(m, "b", "old"));
            ck_ok(rnn_model_set_metadata(m, "z", "last"));
            char before[4096];
            snprintf(before, sizeof before, "%s", dump(m));
            f.calls = 0;
            f.fail_at = k;
            rnn_status st = rnn_model_set_metadata(m, calls[c][0], calls[c][1]);
            f.fail_at = -1;
            if (st == RNN_OK) {
                ck_assert_str_eq(get(m, calls[c][0]), calls[c][1]);
                rnn_model_destroy(m);
                break;
            }
            ck_assert_int_eq(st, RNN_ERR_NOMEM);
            ck_errmsg("rnn_model_set_metadata: out of memory allocating");
            ck_assert_str_eq(dump(m), before);
            failures++;
            rnn_model_destroy(m);
        }
        ck_assert_int_eq(failures, c == 0 ? 3 : 1); /* key, value, table; or the value */
    }
    /* Loading a file with metadata: each failure is clean. */
    rnn_model *m = small_model();
    ck_ok(rnn_model_set_metadata(m, "a", "1"));
    ck_ok(rnn_model_set_metadata(m, "b", "2"));
    ck_ok(rnn_model_save(m, path));
    rnn_model_destroy(m);
    for (long k = 0;; k++) {
        f.calls = 0;
        f.fail_at = k;
        rnn_status st = rnn_model_load(path, NULL, &m);
        f.fail_at = -1;
        if (st == RNN_OK) {
            ck_assert_str_eq(dump(m), "a=1;b=2;");
            rnn_model_destroy(m);
            break;
        }
        ck_assert_int_eq(st, RNN_ERR_NOMEM);
        ck_assert_ptr_null(m);
        ck_assert_uint_eq(rnn_memory_used(), 0);
    }
    ck_ok(rnn_set_allocator(NULL, NULL, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metadata");
    TCase *tc = tcase_create("metadata");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, set_get_replace_remove_enumerate);
    tcase_add_test(tc, limits_reserved_keys_and_utf8);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, files_breaking_the_limits_are_format_errors);
    tcase_add_test(tc, out_of_memory_leaves_the_metadata_unchanged);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
