/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sentiment classification: IMDB movie reviews (the official 25k/25k split)
 * and the UCI labelled sentences (Amazon, IMDb, Yelp; a seeded 80/20 split),
 * with the seed notebooks' Embedding + bidirectional recurrent + sigmoid
 * classifier.
 *
 *   sentiment [--dataset imdb|uci|both] [--data DIR] [--epochs N] [--seed S]
 *             [--threads N] [--precision f32|bf16] [--save FILE] [--load FILE [--evaluate]]
 *             [--json] [--predict "text"] [--dump-encoded FILE] [--help]
 *
 * With --load FILE --evaluate it reports the test accuracy of the loaded model
 * (one saved by --save, or an ONNX export such as bench/torch_imdb.py's) on
 * the test split of its dataset, --seed and --limit.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <rnn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/dump.h"
#include "../common/meta.h"
#include "../common/args.h"
#include "../common/progress.h"
#include "../common/vocab.h"
#include "reviews.h"

enum { PAD = 0, UNK = 1, FIRST_WORD = 2 };

/* Per-dataset settings. */
typedef struct setting {
    const char *name;
    size_t vocab;   /* most frequent training words kept */
    int64_t maxlen; /* longer texts keep their last maxlen tokens (Keras' truncating="pre") */
    int64_t emb, units, batch;
    float lr, spatial_dropout, dropout;
    int epochs;
} setting;

static const setting IMDB = {"imdb", 20000, 500, 128, 64, 64, 0.001f, 0.4f, 0.4f, 6};
static const setting UCI = {"uci", 10000, 100, 32, 32, 32, 0.003f, 0.3f, 0.0f, 20};

typedef struct args {
    const char *data, *save, *load, *predict, *dataset;
    const char *dump; /* --dump-encoded: write the training tensors and stop (bench/) */
    int epochs, threads, fixed_threads, json, precision, evaluate;
    long ws_limit_mib; /* --workspace-limit (0: none) */
    uint64_t seed;
    long limit;
} args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sentiment [--dataset imdb|uci|both] [--data DIR] [--epochs N] [--seed S]\n"
            "                 [--threads N] [--fixed-threads] [--precision f32|bf16]\n"
            "                 [--workspace-limit MIB]\n"
            "                 [--save FILE]\n"
            "                 [--load FILE [--evaluate]] [--json] [--predict TEXT] [--limit N]\n"
            "                 [--help]\n"
            "  --dataset D   imdb, uci or both (default both)\n"
            "  --data DIR    folder laid out as ../shared/data (imdb/imdb_{train,test}.tsv.gz,\n"
            "                uci-sentiment/*_labelled.txt);\n"
            "                default: $" EX_DATA_ENV ", else %s\n"
            "  --epochs N    at most N epochs, early stopping on a validation tenth of the\n"
            "                training data (default: imdb 6, uci 20)\n"
            "  --seed S      seed of the split, shuffling and weights (default 1)\n"
            "  --threads N   threads (default: all cores)\n"
            "  --fixed-threads  always all N threads (default: fewer while that measures\n"
            "                faster, as when other processes use the cores; see\n"
            "                docs/guide/threads.md)\n"
            EX_PRECISION_USAGE
            EX_WORKSPACE_LIMIT_USAGE
            "  --save FILE   save each trained model: FILE (one dataset) or FILE.imdb and\n"
            "                FILE.uci (both), each with its vocabulary in its metadata\n"
            "  --load FILE   load a model saved by --save (or FILE.onnx, a model trained\n"
            "                elsewhere: docs/guide/interchange.md) instead of training\n"
            "  --evaluate    with --load: report the model's test accuracy on the test\n"
            "                split of its dataset (its metadata, else --dataset), --seed\n"
            "                and --limit (needs the data)\n"
            "  --predict T   classify T with the loaded model (without: the lines of stdin)\n"
            "  --json        print a one-line JSON summary on stdout\n"
            "  --limit N     use N training and N test records per dataset (quick runs)\n"
            "  --dump-encoded FILE  write the encoded training data, the test split and the\n"
            "                fit settings to FILE (both datasets: FILE.imdb and FILE.uci;\n"
            "                examples/common/dump.h) and the vocabulary to FILE.vocab,\n"
            "                and stop without training\n",
            EX_DEFAULT_DATA);
}

static int parse_args(int argc, char **argv, args *a)
{
    static const char *const DATASETS[] = {"imdb", "uci", "both", NULL};
    int dataset = 2;
    *a = (args){.seed = 1};
    const ex_opt opts[] = {
        {"--json", EX_FLAG, &a->json, 0, 0, NULL},
        {"--fixed-threads", EX_FLAG, &a->fixed_threads, 0, 0, NULL},
        {"--evaluate", EX_FLAG, &a->evaluate, 0, 0, NULL},
        {"--data", EX_STRING, &a->data, 0, 0, NULL},
        {"--save", EX_STRING, &a->save, 0, 0, NULL},
        {"--load", EX_STRING, &a->load, 0, 0, NULL},
        {"--predict", EX_STRING, &a->predict, 0, 0, NULL},
        {"--dump-encoded", EX_STRING, &a->dump, 0, 0, NULL},
        {"--dataset", EX_CHOICE, &dataset, 0, 0, DATASETS},
        {"--epochs", EX_INT, &a->epochs, 1, 10000, NULL},
        {"--threads", EX_INT, &a->threads, 0, 4096, NULL},
        {"--limit", EX_LONG, &a->limit, 100, 1e12, NULL},
        {"--workspace-limit", EX_LONG, &a->ws_limit_mib, 0, 1 << 20, NULL},
        {"--seed", EX_U64, &a->seed, 0, EX_MAX_SEED, NULL},
        {"--precision", EX_CHOICE, &a->precision, 0, 0, ex_precision_names},
    };
    int rc = ex_parse_args("sentiment", argc, argv, opts, sizeof opts / sizeof *opts, usage);
    a->dataset = DATASETS[dataset];
    if (!rc && a->evaluate && !a->load) {
        fprintf(stderr, "sentiment: --evaluate needs --load FILE (training reports the test "
                        "accuracy by itself)\n");
        rc = -1;
    }
    return rc;
}

#define CHECK(call) EX_CHECK("sentiment", call)

/* ------------------------------------------------------------ encoding */

typedef struct ids {
    int32_t *v;
    size_t n, cap;
    const vocab *voc; /* NULL: counting into count */
    vocab *count;
    int fail;
} ids;

static void on_token(void *user, const char *tok)
{
    ids *s = user;
    if (!s->voc) {
        s->fail |= vocab_add(s->count, tok, 1, 0);
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        int32_t *nv = realloc(s->v, s->cap * sizeof *nv);
        if (!nv) {
            s->fail = 1;
            return;
        }
        s->v = nv;
    }
    int32_t id = vocab_find(s->voc, tok);
    s->v[s->n++] = id >= 0 ? id : UNK;
}

/* Ids of a text, its last maxlen tokens (at least one: an empty text is UNK). */
static size_t encode(const vocab *v, const char *text, int64_t maxlen, int32_t *out)
{
    ids s = {.voc = v};
    tokenize(text, on_token, &s);
    size_t n = s.n, from = 0;
    if (n > (size_t)maxlen)
        from = n - (size_t)maxlen, n = (size_t)maxlen;
    if (n == 0)
        out[0] = UNK, n = 1;
    else
        memcpy(out, s.v + from, n * sizeof *out);
    free(s.v);
    return n;
}

typedef struct encoded {
    rnn_tensor *x, *len, *y;
    rnn_data d;
    size_t n;
} encoded;

static void encode_all(const vocab *v, const reviews *r, const size_t *idx, size_t n,
                       int64_t maxlen, encoded *e)
{
    int64_t xd[2] = {(int64_t)n, maxlen}, ld[1] = {(int64_t)n}, yd[2] = {(int64_t)n, 1};
    CHECK(rnn_tensor_create(RNN_I32, 2, xd, &e->x));
    CHECK(rnn_tensor_create(RNN_I32, 1, ld, &e->len));
    CHECK(rnn_tensor_create(RNN_F32, 2, yd, &e->y));
    int32_t *x, *l;
    float *y;
    rnn_tensor_data(e->x, (void **)&x);
    rnn_tensor_data(e->len, (void **)&l);
    rnn_tensor_data(e->y, (void **)&y);
    int64_t longest = 1;
    for (size_t i = 0; i < n; i++) {
        l[i] = (int32_t)encode(v, r->text[idx[i]], maxlen, x + i * (size_t)maxlen);
        y[i] = (float)r->label[idx[i]];
        longest = l[i] > longest ? l[i] : longest;
    }
    e->n = n;
    rnn_data_init(&e->d);
    e->d.x = e->x, e->d.lengths = e->len, e->d.targets = e->y;
}

static void free_encoded(encoded *e)
{
    rnn_tensor_destroy(e->x);
    rnn_tensor_destroy(e->len);
    rnn_tensor_destroy(e->y);
}

/* ------------------------------------------------------------ model */

static rnn_model *build(const setting *s, size_t vocab_n, uint64_t seed)
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
    e.input_dim = (int64_t)vocab_n + FIRST_WORD, e.output_dim = s->emb;
    CHECK(rnn_model_add_embedding(m, &e, NULL));
    CHECK(rnn_model_add_spatial_dropout1d(m, s->spatial_dropout, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = s->units, r.bidirectional = 1, r.return_sequences = 1;
    rnn_layer *rec, *pool[2];
    CHECK(rnn_model_add_recurrent(m, &r, &rec));
    /* max and average over each text's real steps, side by side */
    CHECK(rnn_model_add_global_pooling(m, RNN_POOL_MAX, &pool[0]));
    CHECK(rnn_model_connect_next(m, rec, 0));
    CHECK(rnn_model_add_global_pooling(m, RNN_POOL_AVERAGE, &pool[1]));
    CHECK(rnn_model_add_concatenate(m, 2, pool, NULL, NULL));
    if (s->dropout > 0.0f)
        CHECK(rnn_model_add_dropout(m, s->dropout, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 1, d.activation = RNN_ACT_SIGMOID;
    CHECK(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_BINARY_CROSSENTROPY);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    o.learning_rate = s->lr;
    CHECK(rnn_model_compile(m, &c, &o));
    return m;
}

static float predict_one(rnn_model *m, const vocab *v, const char *text, int64_t maxlen)
{
    int32_t *buf = malloc(sizeof *buf * (size_t)maxlen);
    if (!buf)
        return 0.5f;
    int64_t n = (int64_t)encode(v, text, maxlen, buf);
    int64_t xd[2] = {1, n};
    rnn_tensor *x;
    CHECK(rnn_tensor_create(RNN_I32, 2, xd, &x));
    int32_t *xp;
    rnn_tensor_data(x, (void **)&xp);
    memcpy(xp, buf, sizeof *buf * (size_t)n);
    free(buf);
    const rnn_tensor *in[1] = {x}, *out;
    CHECK(rnn_model_forward(m, 1, in, NULL, 0));
    CHECK(rnn_model_output(m, 0, &out));
    float p;
    int64_t at[2] = {0, 0};
    CHECK(rnn_tensor_get_f32(out, 2, at, &p));
    rnn_tensor_destroy(x);
    return p;
}

/* The model's metadata: "example", "dataset", "maxlen" (texts keep their
 * last maxlen tokens) and the vocabulary ("vocab": the words of ids
 * FIRST_WORD, FIRST_WORD + 1, ... one a line, see vocab_to_text()). */
static int save_metadata(rnn_model *m, const setting *s, const vocab *v)
{
    char *text = vocab_to_text(v);
    int rc = !text ? -1
                   : ex_meta_set(m, "sentiment", "example", "sentiment") ||
                         ex_meta_set(m, "sentiment", "dataset", s->name) ||
                         ex_meta_set_int(m, "sentiment", "maxlen", s->maxlen) ||
                         ex_meta_set(m, "sentiment", "vocab", text);
    if (!text)
        fprintf(stderr, "sentiment: out of memory\n");
    free(text);
    return rc ? -1 : 0;
}

/* The vocabulary and maxlen of a loaded model, checked against its
 * embedding (one id per word after FIRST_WORD) and its one output. */
static int load_metadata(rnn_model *m, const char *path, vocab *v, int64_t *maxlen)
{
    long long ml;
    const char *text = ex_meta_get(m, "sentiment", path, "vocab");
    if (!text || ex_meta_get_int(m, "sentiment", path, "maxlen", 1, 1 << 20, &ml))
        return -1;
    if (vocab_from_text(v, text, FIRST_WORD)) {
        fprintf(stderr, "sentiment: %s: metadata \"vocab\" is not a word list\n", path);
        return -1;
    }
    const int64_t dim = (int64_t)v->n + FIRST_WORD;
    if (ex_meta_check_shapes(m, "sentiment", path, 1, &dim, 1)) {
        vocab_free(v);
        return -1;
    }
    *maxlen = ml;
    return 0;
}

typedef struct result {
    const char *name;
    double accuracy, seconds;
    double rss_before, rss_peak; /* MiB: resident before rnn_model_fit(), peak during it */
    int epochs, threads;
    int64_t params;
} result;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void shuffle(size_t *v, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    for (size_t i = n - 1; n > 1 && i > 0; i--) {
        size_t j = (size_t)(rng_next(&s) % (i + 1)), t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* The seeded order of the records (the validation tenth is the end of the
 * training records), --limit, and the vocabulary of the training records. */
typedef struct prepared {
    size_t n_tr, n_te, *tr_idx, *te_idx;
    vocab voc;
} prepared;

static void free_prepared(prepared *p)
{
    free(p->tr_idx);
    free(p->te_idx);
    vocab_free(&p->voc);
}

static int prepare(const setting *s, const args *a, const reviews *train, const reviews *test,
                   prepared *p)
{
    memset(p, 0, sizeof *p);
    p->n_tr = train->n, p->n_te = test->n;
    if (a->limit > 0) {
        p->n_tr = p->n_tr < (size_t)a->limit ? p->n_tr : (size_t)a->limit;
        p->n_te = p->n_te < (size_t)a->limit ? p->n_te : (size_t)a->limit;
    }
    p->tr_idx = malloc(sizeof *p->tr_idx * (train->n ? train->n : 1));
    p->te_idx = malloc(sizeof *p->te_idx * (test->n ? test->n : 1));
    vocab counts;
    if (!p->tr_idx || !p->te_idx || vocab_init(&counts, 1 << 20)) {
        fprintf(stderr, "sentiment: out of memory\n");
        free_prepared(p);
        return -1;
    }
    for (size_t i = 0; i < train->n; i++)
        p->tr_idx[i] = i;
    for (size_t i = 0; i < test->n; i++)
        p->te_idx[i] = i;
    shuffle(p->tr_idx, train->n, a->seed);
    shuffle(p->te_idx, test->n, a->seed + 1);
    ids cnt = {.count = &counts};
    for (size_t i = 0; i < p->n_tr; i++)
        tokenize(train->text[p->tr_idx[i]], on_token, &cnt);
    int bad = cnt.fail || vocab_top(&counts, s->vocab, FIRST_WORD, &p->voc);
    vocab_free(&counts);
    if (bad) {
        fprintf(stderr, "sentiment: out of memory building the vocabulary\n");
        free_prepared(p);
        return -1;
    }
    return 0;
}

/* Test accuracy of m on te (predictions given the lengths), its confusion
 * matrix and a few examples on stderr; `what` ends the accuracy line. */
static double test_report(rnn_model *m, const char *name, const encoded *te,
                          const reviews *test, const size_t *te_idx, const char *what,
                          size_t *right)
{
    rnn_tensor *p;
    /* Batches of 64, as in training: with 256 the process's peak on IMDB
     * was 1.21 GB, with 64 1.10 GB (the 500-step batches' buffers and oneDNN
     * scratch grow with the batch; training's own peak is 1.07 GB), and 256
     * was no faster (--load --evaluate of 25,000 reviews: 14.7-15.0 s
     * against 15.9-17.6 s, within this machine's noise). */
    CHECK(rnn_model_predict(m, &te->d, 64, &p));
    const float *pp, *yy;
    rnn_tensor_data(p, (void **)&pp);
    rnn_tensor_data(te->y, (void **)&yy);
    size_t c[2][2] = {{0}};
    for (size_t i = 0; i < te->n; i++)
        c[yy[i] > 0.5f][pp[i] > 0.5f]++;
    *right = c[0][0] + c[1][1];
    double acc = te->n ? (double)*right / (double)te->n : 0.0;
    fprintf(stderr, "%s: test accuracy %.4f (%zu of %zu) %s\n"
                    "confusion (rows: true, columns: predicted)\n"
                    "              negative  positive\n"
                    "  negative    %8zu  %8zu\n"
                    "  positive    %8zu  %8zu\n",
            name, acc, *right, te->n, what, c[0][0], c[0][1], c[1][0], c[1][1]);
    fprintf(stderr, "examples:\n");
    for (size_t i = 0; i < 4 && i < te->n; i++) {
        const char *t = test->text[te_idx[i]];
        fprintf(stderr, "  %.2f (%s) \"%.70s%s\"\n", (double)pp[i],
                yy[i] > 0.5f ? "positive" : "negative", t, strlen(t) > 70 ? "..." : "");
    }
    rnn_tensor_destroy(p);
    return acc;
}

static int run(const setting *s, const args *a, const reviews *train, const reviews *test,
               const char *save_path, result *res)
{
    prepared pr;
    if (prepare(s, a, train, test, &pr))
        return -1;
    const size_t n_tr = pr.n_tr, n_te = pr.n_te;
    const vocab *voc = &pr.voc;
    encoded tr, te;
    encode_all(voc, train, pr.tr_idx, n_tr, s->maxlen, &tr);
    encode_all(voc, test, pr.te_idx, n_te, s->maxlen, &te);
    fprintf(stderr, "%s: %zu training and %zu test texts, vocabulary %zu + padding + unknown, "
                    "at most %lld tokens (the last ones)\n",
            s->name, n_tr, n_te, voc->n, (long long)s->maxlen);

    rnn_model *m = build(s, voc->n, a->seed);
    if (ex_set_precision(m, "sentiment", a->precision)) {
        rnn_model_destroy(m);
        return -1;
    }
    CHECK(rnn_model_count_params(m, &res->params));
    print_summary(m);
    progress pg;
    const int epochs = a->epochs ? a->epochs : s->epochs;
    progress_init(&pg, s->name);
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = s->batch;
    fo.epochs = epochs;
    fo.seed = a->seed;
    fo.bucket_batches = 16;
    fo.validation_split = 0.1f;
    fo.monitor = RNN_MONITOR_VAL_LOSS; /* accuracy on a 10% split is too coarse to pick epochs */
    fo.early_stopping = 1;
    fo.patience = 2;
    fo.restore_best_weights = 1;
    fo.on_progress = progress_fit;
    fo.user = &pg;
    int rc = 0;
    if (a->dump) {
        /* For bench/torch_imdb.py: the tensors rnn_model_fit() gets, the test split
         * test_report() evaluates, the fit settings above and the model's (setting s, as
         * build()), then stop without training. */
        char meta[1024], path[4096];
        snprintf(path, sizeof path, strcmp(a->dataset, "both") ? "%s" : "%s.%s", a->dump,
                 s->name);
        snprintf(meta, sizeof meta,
                 "{\"program\": \"sentiment\", \"dataset\": \"%s\", \"seed\": %llu, "
                 "\"limit\": %ld, "
                 "\"batch_size\": %lld, \"bucket_batches\": %d, \"validation_split\": %.17g, "
                 "\"shuffle\": %d, \"vocab_size\": %lld, \"maxlen\": %lld, \"embedding\": %lld, "
                 "\"units\": %lld, \"spatial_dropout\": %.17g, \"dropout\": %.17g, "
                 "\"learning_rate\": %.17g, \"params\": %lld}",
                 s->name, (unsigned long long)fo.seed, a->limit, (long long)fo.batch_size,
                 fo.bucket_batches, (double)fo.validation_split, fo.shuffle,
                 (long long)(voc->n + FIRST_WORD), (long long)s->maxlen, (long long)s->emb,
                 (long long)s->units, (double)s->spatial_dropout, (double)s->dropout,
                 (double)s->lr, (long long)res->params);
        const char *names[6] = {"x", "lengths", "y", "test_x", "test_lengths", "test_y"};
        rnn_tensor *t[6] = {tr.x, tr.len, tr.y, te.x, te.len, te.y};
        rc = dump_tensors(path, meta, 6, names, t) || dump_vocab(path, voc) ? -1 : 0;
        if (!rc)
            fprintf(stderr, "wrote %s and %s.vocab\n", path, path);
        res->name = s->name;
        goto done;
    }
    rnn_fit_result fr = {.struct_size = sizeof fr};
    res->rss_before = rss_mark();
    const double t0 = now_seconds();
    CHECK(rnn_model_fit(m, &tr.d, &fo, &fr));
    res->seconds = now_seconds() - t0;
    res->rss_peak = rss_peak();
    res->epochs = fr.epochs_run;
    res->threads = fr.last.threads;
    res->name = s->name;

    size_t right;
    char what[96];
    snprintf(what, sizeof what, "after %d epochs, %.0f s of training", fr.epochs_run,
             res->seconds);
    res->accuracy = test_report(m, s->name, &te, test, pr.te_idx, what, &right);
    if (save_path) {
        if (save_metadata(m, s, voc)) {
            rc = -1;
            goto done;
        }
        CHECK(rnn_model_save(m, save_path));
        fprintf(stderr, "saved %s\n", save_path);
    }
done:
    rnn_model_destroy(m);
    free_encoded(&tr);
    free_encoded(&te);
    free_prepared(&pr);
    return rc;
}

/* The records of the real files (../shared/data/README.md), always read whole:
 * a count that differs is a file cut short at a line, or another file. */
enum { IMDB_SPLIT_RECORDS = 25000, UCI_FILE_RECORDS = 1000 };

static int load_uci(const char *data, reviews *all, char *err, size_t errlen)
{
    static const char *const files[] = {"amazon_cells", "imdb", "yelp"};
    for (int k = 0; k < 3; k++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/uci-sentiment/%s_labelled.txt", data, files[k]);
        size_t before = all->n;
        if (reviews_load_uci(all, p, err, errlen))
            return -1;
        if (all->n - before != UCI_FILE_RECORDS) { /* a whole file, whatever --limit says */
            snprintf(err, errlen, "%s: %zu sentences, the UCI file has %d (cut short?)", p,
                     all->n - before, UCI_FILE_RECORDS);
            return -1;
        }
    }
    return 0;
}

/* A dataset's training and test records: IMDB's official split, or a seeded
 * 80/20 split of the UCI sentences (tr and te then point into all). */
typedef struct dataset {
    reviews tr, te, all;
    int uci;
} dataset;

static void free_dataset(dataset *d)
{
    if (d->uci) {
        free(d->tr.text), free(d->tr.label), free(d->te.text), free(d->te.label);
        reviews_free(&d->all);
    } else {
        reviews_free(&d->tr);
        reviews_free(&d->te);
    }
}

/* Reads dataset `name` ("imdb" or "uci") from the data folder; 0, or -1 with a message. */
static int load_dataset(const char *name, const args *a, dataset *d)
{
    char err[4608]; /* a message naming a path of up to 4096 bytes */
    memset(d, 0, sizeof *d);
    if (!strcmp(name, "imdb")) {
        char p1[4096], p2[4096];
        const char *data = ex_data_dir("sentiment", a->data, "imdb/imdb_train.tsv.gz");
        if (!data)
            return -1;
        snprintf(p1, sizeof p1, "%s/imdb/imdb_train.tsv.gz", data);
        snprintf(p2, sizeof p2, "%s/imdb/imdb_test.tsv.gz", data);
        if (reviews_load_imdb(&d->tr, p1, err, sizeof err) ||
            reviews_load_imdb(&d->te, p2, err, sizeof err)) {
            fprintf(stderr, "sentiment: %s\n", err);
            free_dataset(d);
            return -1;
        }
        if (d->tr.n != IMDB_SPLIT_RECORDS || d->te.n != IMDB_SPLIT_RECORDS) {
            fprintf(stderr, "sentiment: %s: %zu reviews, the official split has %d (cut short?)\n",
                    d->tr.n != IMDB_SPLIT_RECORDS ? p1 : p2,
                    d->tr.n != IMDB_SPLIT_RECORDS ? d->tr.n : d->te.n, IMDB_SPLIT_RECORDS);
            free_dataset(d);
            return -1;
        }
        return 0;
    }
    d->uci = 1;
    const char *data = ex_data_dir("sentiment", a->data, "uci-sentiment/amazon_cells_labelled.txt");
    if (!data)
        return -1;
    if (load_uci(data, &d->all, err, sizeof err)) {
        fprintf(stderr, "sentiment: %s\n", err);
        reviews_free(&d->all);
        return -1;
    }
    /* seeded 80/20 split */
    const size_t n = d->all.n, n_tr = n * 4 / 5;
    size_t *idx = malloc(sizeof *idx * n);
    d->tr = (reviews){.n = n_tr, .text = malloc(sizeof(char *) * n_tr),
                      .label = malloc(sizeof(int) * n_tr)};
    d->te = (reviews){.n = n - n_tr, .text = malloc(sizeof(char *) * (n - n_tr)),
                      .label = malloc(sizeof(int) * (n - n_tr))};
    if (!idx || !d->tr.text || !d->tr.label || !d->te.text || !d->te.label) {
        fprintf(stderr, "sentiment: out of memory\n");
        free(idx);
        free_dataset(d);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    shuffle(idx, n, a->seed + 100);
    for (size_t i = 0; i < n; i++) {
        reviews *r = i < n_tr ? &d->tr : &d->te;
        size_t k = i < n_tr ? i : i - n_tr;
        r->text[k] = d->all.text[idx[i]];
        r->label[k] = d->all.label[idx[i]];
    }
    free(idx);
    return 0;
}

/* --load FILE --evaluate: the loaded model's test accuracy on the test split
 * of its dataset, --seed and --limit, each text given with its length (as
 * PyTorch's packed sequences in bench/torch_imdb.py). The texts are encoded
 * with the model's own vocabulary and maxlen; a vocabulary other than the
 * one of this split's training texts means a model trained on another split. */
static int evaluate_loaded(rnn_model *m, const char *path, const vocab *v, int64_t maxlen,
                           const args *a)
{
    const char *ds = NULL;
    rnn_model_get_metadata(m, "dataset", &ds);
    if (!ds && !strcmp(a->dataset, "both")) {
        fprintf(stderr, "sentiment: %s does not say which dataset it was trained on: give "
                        "--dataset imdb or --dataset uci\n", path);
        return 1;
    }
    if (ds && strcmp(ds, "imdb") && strcmp(ds, "uci")) {
        fprintf(stderr, "sentiment: %s: metadata \"dataset\" is \"%.40s\", not imdb or uci\n",
                path, ds);
        return 1;
    }
    if (ds && strcmp(a->dataset, "both") && strcmp(a->dataset, ds)) {
        fprintf(stderr, "sentiment: %s was trained on %s, not --dataset %s\n", path, ds,
                a->dataset);
        return 1;
    }
    const setting *s = !strcmp(ds ? ds : a->dataset, "imdb") ? &IMDB : &UCI;
    dataset d;
    prepared pr;
    if (load_dataset(s->name, a, &d))
        return 1;
    if (prepare(s, a, &d.tr, &d.te, &pr)) {
        free_dataset(&d);
        return 1;
    }
    if (!vocab_same(v, &pr.voc))
        fprintf(stderr, "sentiment: warning: %s's vocabulary is not the one of the training "
                        "texts of --seed %llu%s: it was trained on another split, whose "
                        "training texts may be in this test split\n",
                path, (unsigned long long)a->seed, a->limit ? " and --limit" : "");
    encoded te;
    encode_all(v, &d.te, pr.te_idx, pr.n_te, maxlen, &te);
    fprintf(stderr, "%s: %zu test texts (seed %llu), at most %lld tokens (the last ones)\n",
            s->name, pr.n_te, (unsigned long long)a->seed, (long long)maxlen);
    size_t right;
    char what[4200];
    snprintf(what, sizeof what, "of %s", path);
    double acc = test_report(m, s->name, &te, &d.te, pr.te_idx, what, &right);
    if (a->json)
        printf("{\"datasets\": [{\"dataset\": \"%s\", \"test_accuracy\": %.6f, \"test_correct\": "
               "%zu, \"test_samples\": %zu}], \"precision\": \"%s\"}\n",
               s->name, acc, right, te.n, ex_precision_names[a->precision]);
    free_encoded(&te);
    free_prepared(&pr);
    free_dataset(&d);
    return 0;
}

int main(int argc, char **argv)
{
    args a;
    if (parse_args(argc, argv, &a))
        return 2;
    if (a.threads)
        rnn_set_num_threads(a.threads);
    if (a.fixed_threads)
        rnn_set_thread_policy(RNN_THREADS_FIXED);
    rnn_set_workspace_limit((size_t)a.ws_limit_mib << 20);
    if (a.load) {
        vocab v;
        int64_t maxlen;
        rnn_model *m = ex_meta_load("sentiment", a.load, NULL);
        if (!m || ex_set_precision(m, "sentiment", a.precision) ||
            load_metadata(m, a.load, &v, &maxlen)) {
            rnn_model_destroy(m);
            return 1;
        }
        int rc = 0;
        if (a.evaluate) {
            rc = evaluate_loaded(m, a.load, &v, maxlen, &a);
            if (!rc && a.predict) {
                float p = predict_one(m, &v, a.predict, maxlen);
                printf("%.4f %s\n", (double)p, p > 0.5f ? "positive" : "negative");
            }
        } else if (a.predict) {
            float p = predict_one(m, &v, a.predict, maxlen);
            printf("%.4f %s\n", (double)p, p > 0.5f ? "positive" : "negative");
        } else {
            char line[1 << 16];
            while (fgets(line, sizeof line, stdin)) {
                float p = predict_one(m, &v, line, maxlen);
                printf("%.4f %s\n", (double)p, p > 0.5f ? "positive" : "negative");
            }
        }
        vocab_free(&v);
        rnn_model_destroy(m);
        return rc;
    }
    const int both = !strcmp(a.dataset, "both");
    result res[2];
    int nres = 0;
    static const char *const names[2] = {"imdb", "uci"};
    for (int k = 0; k < 2; k++) {
        if (!both && strcmp(a.dataset, names[k]))
            continue;
        dataset d;
        char sp[4096];
        if (load_dataset(names[k], &a, &d))
            return 1;
        if (a.save)
            snprintf(sp, sizeof sp, both ? "%s.%s" : "%s", a.save, names[k]);
        if (run(k ? &UCI : &IMDB, &a, &d.tr, &d.te, a.save ? sp : NULL, &res[nres++]))
            return 1;
        free_dataset(&d);
    }
    if (a.json && !a.dump) {
        printf("{\"datasets\": [");
        for (int k = 0; k < nres; k++)
            printf("%s{\"dataset\": \"%s\", \"test_accuracy\": %.6f, \"train_seconds\": %.1f, "
                   "\"epochs\": %d, \"params\": %lld, \"threads\": %d, "
                   "\"rss_before_fit_mib\": %.1f, \"peak_rss_fit_mib\": %.1f}",
                   k ? ", " : "", res[k].name, res[k].accuracy, res[k].seconds, res[k].epochs,
                   (long long)res[k].params, res[k].threads, res[k].rss_before, res[k].rss_peak);
        printf("], \"precision\": \"%s\"}\n", ex_precision_names[a.precision]);
    }
    return 0;
}
