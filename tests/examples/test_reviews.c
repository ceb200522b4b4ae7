/* SPDX-License-Identifier: Apache-2.0 */
/* The sentiment example's loaders and tokenizer: tiny fixtures in the exact
 * formats (gzip TSV with <br /> markup, runs of spaces, non-ASCII bytes,
 * blank lines; UCI lines split at the LAST tab, CRLF, a line
 * without a label), and the real files' record counts when ../shared/data is
 * there. Usage: test_reviews FIXTURES_DIR [DATA_DIR] */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/sentiment/reviews.h"
#include "data_test.h"
#include "hostile_files.h"


typedef struct toks {
    char s[512];
} toks;

static void join(void *user, const char *tok)
{
    toks *t = user;
    if (*t->s)
        strcat(t->s, "|");
    strcat(t->s, tok);
}

static const char *tokens_of(const char *text, toks *t)
{
    t->s[0] = 0;
    tokenize(text, join, t);
    return t->s;
}

START_TEST(imdb_fixture)
{
    char p[1024], err[256];
    reviews r = {0};
    snprintf(p, sizeof p, "%s/imdb/imdb_train.tsv.gz", fixtures);
    ck_assert_msg(reviews_load_imdb(&r, p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_int_eq(r.label[0], 1);
    ck_assert_int_eq(r.label[1], 0);
    ck_assert_int_eq(r.label[2], 1);
    ck_assert_str_eq(r.text[0], "Great film.<br /><br />Loved it! Didn't expect  that.");
    ck_assert_str_eq(r.text[2], "Fine.");
    toks t;
    ck_assert_str_eq(tokens_of(r.text[0], &t), "great|film|loved|it|!|didn't|expect|that");
    ck_assert_str_eq(tokens_of(r.text[1], &t),
                     "terrible|caf\xc3\xa9|acting|?|?|never|again");
    ck_assert_str_eq(tokens_of(r.text[2], &t), "fine");
    ck_assert_str_eq(tokens_of("", &t), "");
    ck_assert_str_eq(tokens_of("'quoted' words, a<b and 3<4 'n' rock", &t),
                     "quoted|words|a|b|and|3|4|n|rock");
    reviews_free(&r);
    ck_assert_int_eq(reviews_load_imdb(&r, "/nonexistent.tsv.gz", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open /nonexistent.tsv.gz"));
    snprintf(p, sizeof p, "%s/uci/good_labelled.txt", fixtures); /* not IMDB's format */
    ck_assert_int_eq(reviews_load_imdb(&r, p, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "good_labelled.txt:1: expected label<TAB>id<TAB>rating"));
    reviews_free(&r);
}
END_TEST

START_TEST(uci_fixture)
{
    char p[1024], err[256];
    reviews r = {0};
    snprintf(p, sizeof p, "%s/uci/good_labelled.txt", fixtures);
    ck_assert_msg(reviews_load_uci(&r, p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.text[0], "Good case,\tExcellent value.");
    ck_assert_int_eq(r.label[0], 1);
    ck_assert_str_eq(r.text[1], "Bad.  ");
    ck_assert_int_eq(r.label[1], 0);
    reviews_free(&r);
    snprintf(p, sizeof p, "%s/uci/bad_labelled.txt", fixtures);
    ck_assert_int_eq(reviews_load_uci(&r, p, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad_labelled.txt:5: expected sentence<TAB>0 or 1"));
    reviews_free(&r);
}
END_TEST

/* Loading text (gzip'ed, its first keep bytes, when gz) must fail with the file and want. */
static void refused_n(const char *dir, int imdb, const char *text, size_t n, size_t keep,
                      const char *want)
{
    char p[256], err[512] = "";
    snprintf(p, sizeof p, imdb ? "%s/imdb_train.tsv.gz" : "%s/yelp_labelled.txt", dir);
    if (imdb)
        write_gz(p, text, n, keep, 0);
    else
        write_bytes(p, text, n);
    reviews r = {0};
    int rc = imdb ? reviews_load_imdb(&r, p, err, sizeof err) : reviews_load_uci(&r, p, err,
                                                                                   sizeof err);
    ck_assert_msg(rc == -1, "\"%s\": %zu records, expected an error with \"%s\"", text, r.n,
                  want);
    ck_assert_msg(strstr(err, p) && strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
    printf("%s\n", err);
    reviews_free(&r);
}

static void refused(const char *dir, int imdb, const char *text, size_t keep, const char *want)
{
    refused_n(dir, imdb, text, strlen(text), keep, want);
}

START_TEST(hostile_imdb)
{
    const char *dir = hostile_dir();
    const size_t all = (size_t)-1;
    refused(dir, 1, "", all, "imdb_train.tsv.gz: no records (the file is empty)");
    refused(dir, 1, "\n \n", all, "imdb_train.tsv.gz: no records (only blank lines)");
    refused(dir, 1, "1\t1\t9\tGood.\n0\t2\t1\tBad\tfilm.\n", all,
            "imdb_train.tsv.gz:2: expected label<TAB>id<TAB>rating<TAB>text, found 5 fields");
    refused(dir, 1, "1\t1\t9\tGood.\n0\t2\tBad.\n", all, ":2: expected label<TAB>id<TAB>"
            "rating<TAB>text, found 3 fields");
    refused(dir, 1, "2\t1\t9\tGood.\n", all, ":1: the label must be 0 or 1");
    refused(dir, 1, "10\t1\t9\tGood.\n", all, ":1: the label must be 0 or 1");
    refused(dir, 1, "1\tx1\t9\tGood.\n", all, ":1: the id must be a whole number");
    refused(dir, 1, "1\t1\t11\tGood.\n", all, ":1: the rating must be a whole number in 1..10");
    refused(dir, 1, "1\t1\t\tGood.\n", all, ":1: the rating must be a whole number in 1..10");
    refused(dir, 1, "1\t1\t9\tGood.\n1\t2\t8\t \r\n", all, ":2: the review text is empty");
    refused_n(dir, 1, "1\t1\t9\tGo\0od.\n", 14, all, ":1: a NUL byte in the line");
    /* a gzip file cut short: whole lines would load, so only the gzip check can tell */
    char text[4000] = "";
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text),
                 "%d\t%d\t%d\tReview number %d, with some words<br />in it.\n", i % 2, i,
                 i % 2 ? 8 : 3, i * 7919 % 1000);
    size_t gn;
    free(gzip_bytes(text, strlen(text), &gn));
    refused(dir, 1, text, gn / 2, "imdb_train.tsv.gz: truncated gzip file");
    refused(dir, 1, text, gn - 3, "imdb_train.tsv.gz: truncated gzip file");
}
END_TEST

START_TEST(hostile_uci)
{
    const char *dir = hostile_dir();
    refused(dir, 0, "", 0, "yelp_labelled.txt: no records (the file is empty)");
    refused(dir, 0, "Good.\t1\n\t0\n", 0, "yelp_labelled.txt:2: the sentence is empty");
    refused(dir, 0, "Good.\t1\n  \t0\n", 0, "yelp_labelled.txt:2: the sentence is empty");
    refused(dir, 0, "Good.\t1\nBad.\t01\n", 0, ":2: expected sentence<TAB>0 or 1");
    refused(dir, 0, "Good.\t1\nBad.\t0 x\n", 0, ":2: expected sentence<TAB>0 or 1");
}
END_TEST

START_TEST(real_files)
{
    char p[1024], err[256];
    reviews tr = {0}, te = {0}, u = {0};
    snprintf(p, sizeof p, "%s/imdb/imdb_train.tsv.gz", data_dir);
    ck_assert_msg(reviews_load_imdb(&tr, p, err, sizeof err) == 0, "%s", err);
    snprintf(p, sizeof p, "%s/imdb/imdb_test.tsv.gz", data_dir);
    ck_assert_msg(reviews_load_imdb(&te, p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(tr.n, 25000);
    ck_assert_uint_eq(te.n, 25000);
    size_t pos = 0;
    for (size_t i = 0; i < tr.n; i++)
        pos += tr.label[i] == 1;
    ck_assert_uint_eq(pos, 12500);
    static const char *const f[] = {"amazon_cells", "imdb", "yelp"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof p, "%s/uci-sentiment/%s_labelled.txt", data_dir, f[k]);
        ck_assert_msg(reviews_load_uci(&u, p, err, sizeof err) == 0, "%s", err);
    }
    ck_assert_uint_eq(u.n, 3000);
    printf("imdb: 25,000 + 25,000 reviews (12,500 positive in train); uci: 3,000 sentences\n");
    reviews_free(&tr);
    reviews_free(&te);
    reviews_free(&u);
}
END_TEST

int main(int argc, char **argv)
{
    if (!data_test_args(argc, argv))
        return 2;
    TCase *tc = tcase_create("reviews");
    tcase_add_test(tc, imdb_fixture);
    tcase_add_test(tc, uci_fixture);
    tcase_add_test(tc, hostile_imdb);
    tcase_add_test(tc, hostile_uci);
    if (have_data_file("imdb/imdb_train.tsv.gz", "real-file check"))
        tcase_add_test(tc, real_files);
    return data_test_run("reviews", tc);
}
