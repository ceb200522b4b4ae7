/* SPDX-License-Identifier: Apache-2.0 */
/* The sentiment example's loaders and tokenizer: tiny fixtures in the exact
 * formats (gzip TSV with <br /> markup, tabs inside text, non-ASCII bytes,
 * empty text, blank lines; UCI lines split at the LAST tab, CRLF, a line
 * without a label), and the real files' record counts when ../shared/data is
 * there. Usage: test_reviews FIXTURES_DIR [DATA_DIR] */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/sentiment/reviews.h"
#include "data_test.h"


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
    ck_assert_str_eq(r.text[0], "Great film.<br /><br />Loved it! Didn't expect\tthat.");
    ck_assert_str_eq(r.text[2], "");
    toks t;
    ck_assert_str_eq(tokens_of(r.text[0], &t), "great|film|loved|it|!|didn't|expect|that");
    ck_assert_str_eq(tokens_of(r.text[1], &t),
                     "terrible|caf\xc3\xa9|acting|?|?|never|again");
    ck_assert_str_eq(tokens_of(r.text[2], &t), "");
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
    if (have_data_file("imdb/imdb_train.tsv.gz", "real-file check"))
        tcase_add_test(tc, real_files);
    return data_test_run("reviews", tc);
}
