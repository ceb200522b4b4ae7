/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sequence to sequence with attention: an LSTM encoder, an LSTM decoder
 * started from the encoder's final states and trained with teacher forcing,
 * Luong attention over the encoder's outputs, Concatenate(context, decoder)
 * -> Dense tanh -> Dense softmax. Decoded greedily and with beam search.
 *
 *   dates     "April 22, 2019" -> "2019-04-22" (Geron, handson-ml2 ch. 16, exercise 9)
 *   addition  "535+61" -> "596"                (Keras' addition_rnn example)
 *   fra-eng   English -> French, pairs of at most 10 words (Tatoeba / ManyThings)
 *
 *   seq2seq [--task dates|addition|fra-eng] [--data DIR] [--epochs N] [--seed S]
 *           [--threads N] [--precision f32|bf16] [--save FILE] [--load FILE] [--json]
 *           [--translate] [--no-attention] [--beam K] [--scheduled-sampling P]
 *           [--max-minutes M] [--limit N] [--help]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <rnn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/args.h"
#include "../common/meta.h"
#include "../common/progress.h"
#include "../common/vocab.h"
#include "tasks.h"

enum { TASK_DATES, TASK_ADDITION, TASK_FRA };

/* Per-task settings. */
typedef struct setting {
    const char *name;
    int64_t emb, units, batch;
    float lr;
    int epochs;
    size_t train, val, test; /* pairs (dates, addition: generated; fra-eng: val/test held out) */
    int64_t max_tokens;      /* longer sequences are cut (fra-eng only) */
    rnn_attention_score score;
} setting;

static const setting SETTINGS[3] = {
    {"dates", 32, 128, 64, 0.002f, 30, 10000, 1000, 2000, 32, RNN_ATTENTION_GENERAL},
    {"addition", 32, 128, 64, 0.002f, 40, 45000, 1000, 5000, 16, RNN_ATTENTION_GENERAL},
    {"fra-eng", 128, 256, 64, 0.001f, 6, 0, 1000, 5000, 20, RNN_ATTENTION_GENERAL},
};

typedef struct args {
    const char *task_name, *data, *save, *load;
    int task, epochs, threads, fixed_threads, json, translate, no_attention, beam, precision;
    double max_minutes;
    float ss;
    uint64_t seed;
    long limit;
} args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: seq2seq [--task dates|addition|fra-eng] [--data DIR] [--epochs N] [--seed S]\n"
            "               [--threads N] [--fixed-threads] [--precision f32|bf16]\n"
            "               [--save FILE] [--load FILE] [--json] [--translate]\n"
            "               [--no-attention] [--beam K]\n"
            "               [--scheduled-sampling P] [--max-minutes M] [--limit N] [--help]\n"
            "  --task T        dates (default), addition or fra-eng\n"
            "  --data DIR      folder laid out as ../shared/data (fra-eng/fra.txt.gz);\n"
            "                  default: $" EX_DATA_ENV ", else %s\n"
            "  --epochs N      at most N epochs (default: dates 30, addition 40, fra-eng 6);\n"
            "                  dates and addition stop once every validation pair is exact\n"
            "  --seed S        seed of the data, split, shuffling and weights (default 1)\n"
            "  --threads N     threads (default: all cores)\n"
            "  --fixed-threads always all N threads (default: fewer while that measures\n"
            "                  faster, as when other processes use the cores; see\n"
            "                  docs/guide/threads.md)\n"
            EX_PRECISION_USAGE
            "                  (training and decoding; Attention stays f32)\n"
            "  --save FILE     save the trained model\n"
            "  --load FILE     load a model saved with the same --task, --seed and --data\n"
            "                  instead of training (the vocabularies are rebuilt from them\n"
            "                  and must equal those saved in the model's metadata)\n"
            "  --translate     then translate the lines of stdin (beam search); with --load,\n"
            "                  only that (no test figures)\n"
            "  --no-attention  the plain encoder-decoder (the final states carry everything)\n"
            "  --beam K        beam width for beam search (default 4)\n"
            "  --scheduled-sampling P  feed the decoder its own predictions with a\n"
            "                  probability rising linearly to P over the epochs (default 0)\n"
            "  --max-minutes M stop training after M minutes (default: none)\n"
            "  --limit N       use N training pairs (quick runs)\n"
            "  --json          print a one-line JSON summary on stdout\n",
            EX_DEFAULT_DATA);
}

static int parse_args(int argc, char **argv, args *a)
{
    static const char *const TASKS[] = {"dates", "addition", "fra-eng", NULL};
    *a = (args){.task = TASK_DATES, .seed = 1, .beam = 4};
    const ex_opt opts[] = {
        {"--json", EX_FLAG, &a->json, 0, 0, NULL},
        {"--fixed-threads", EX_FLAG, &a->fixed_threads, 0, 0, NULL},
        {"--translate", EX_FLAG, &a->translate, 0, 0, NULL},
        {"--no-attention", EX_FLAG, &a->no_attention, 0, 0, NULL},
        {"--data", EX_STRING, &a->data, 0, 0, NULL},
        {"--save", EX_STRING, &a->save, 0, 0, NULL},
        {"--load", EX_STRING, &a->load, 0, 0, NULL},
        {"--task", EX_CHOICE, &a->task, 0, 0, TASKS},
        {"--precision", EX_CHOICE, &a->precision, 0, 0, ex_precision_names},
        {"--scheduled-sampling", EX_FLOAT, &a->ss, 0, 1, NULL},
        {"--max-minutes", EX_DOUBLE, &a->max_minutes, 0, 1e6, NULL},
        {"--epochs", EX_INT, &a->epochs, 1, 100000, NULL},
        {"--threads", EX_INT, &a->threads, 0, 4096, NULL},
        {"--limit", EX_LONG, &a->limit, 100, 1e12, NULL},
        {"--beam", EX_INT, &a->beam, 1, 1000, NULL},
        {"--seed", EX_U64, &a->seed, 0, EX_MAX_SEED, NULL},
    };
    if (ex_parse_args("seq2seq", argc, argv, opts, sizeof opts / sizeof *opts, usage))
        return -1;
    a->task_name = TASKS[a->task];
    if (a->translate && !a->load && a->json) {
        fprintf(stderr, "seq2seq: --translate reads stdin; it does not combine with --json\n");
        return -1;
    }
    return 0;
}

#define CHECK(call) EX_CHECK("seq2seq", call)

static void die(const char *msg)
{
    fprintf(stderr, "seq2seq: %s\n", msg);
    exit(1);
}

/* ------------------------------------------------------------ vocabularies */

typedef struct vocabs {
    int task;
    char_vocab chars;         /* dates, addition: one for both sides */
    word_vocab en, fr;        /* fra-eng */
    token_list toks;
    int64_t max_tokens;
} vocabs;

static size_t src_size(const vocabs *v)
{
    return v->task == TASK_FRA ? v->en.n : v->chars.n;
}

static size_t tgt_size(const vocabs *v)
{
    return v->task == TASK_FRA ? v->fr.n : v->chars.n;
}

/* Ids of one side's text (at most cap; the full length is returned). */
static size_t encode(vocabs *v, const char *text, int target, int32_t *ids, size_t cap)
{
    if (v->task != TASK_FRA)
        return char_vocab_encode(&v->chars, text, 0, ids, cap);
    char err[256];
    if (word_tokenize(text, target ? LANG_FR : LANG_EN, &v->toks, err, sizeof err))
        die(err);
    return word_vocab_encode(target ? &v->fr : &v->en, &v->toks, 0, ids, cap);
}

static void decode_text(const vocabs *v, const int32_t *ids, size_t n, char *out, size_t len)
{
    if (v->task != TASK_FRA)
        char_vocab_decode(&v->chars, ids, n, out, len);
    else
        word_vocab_decode(&v->fr, ids, n, out, len);
}

/* A vocabulary as text for the model's metadata (malloc'd, NULL when out
 * of memory): dates and addition, "chars": the bytes of ids TOK_FIRST, ...
 * escaped as vocab_escape() does; fra-eng, "source_vocab" and
 * "target_vocab": the words of ids TOK_FIRST, ... one a line, escaped. */
static char *vocab_text(const vocabs *v, int target)
{
    if (v->task != TASK_FRA) {
        const size_t n = v->chars.n - TOK_FIRST;
        char *t = malloc(4 * n + 1);
        if (t)
            vocab_escape(v->chars.byte + TOK_FIRST, n, t);
        return t;
    }
    const word_vocab *w = target ? &v->fr : &v->en;
    size_t len = 1;
    for (size_t i = TOK_FIRST; i < w->n; i++)
        len += vocab_escape((const unsigned char *)w->word[i], strlen(w->word[i]), NULL) + 1;
    char *t = malloc(len), *p = t;
    for (size_t i = TOK_FIRST; t && i < w->n; i++) {
        p += vocab_escape((const unsigned char *)w->word[i], strlen(w->word[i]), p);
        *p++ = '\n';
    }
    if (t)
        *p = '\0';
    return t;
}

static const char *const VOCAB_KEYS[3] = {"chars", "source_vocab", "target_vocab"};

/* The model's metadata: "example", "task", the vocabularies (vocab_text). */
static void save_metadata(rnn_model *m, const args *a, const vocabs *v)
{
    int rc = ex_meta_set(m, "seq2seq", "example", "seq2seq") ||
             ex_meta_set(m, "seq2seq", "task", a->task_name);
    for (int k = v->task == TASK_FRA ? 1 : 0; !rc && k < (v->task == TASK_FRA ? 3 : 1); k++) {
        char *t = vocab_text(v, k == 2);
        if (!t)
            die("out of memory");
        rc = ex_meta_set(m, "seq2seq", VOCAB_KEYS[k], t);
        free(t);
    }
    if (rc)
        exit(1);
}

/* A loaded model (its example and task checked by ex_meta_load) against the
 * vocabularies rebuilt from --task, --seed, --limit and --data: its
 * metadata must hold the same ones, and its embeddings and output their
 * sizes. */
static void check_loaded(rnn_model *m, const args *a, const vocabs *v)
{
    for (int k = v->task == TASK_FRA ? 1 : 0; k < (v->task == TASK_FRA ? 3 : 1); k++) {
        const char *saved = ex_meta_get(m, "seq2seq", a->load, VOCAB_KEYS[k]);
        char *t = vocab_text(v, k == 2);
        if (!t)
            die("out of memory");
        int same = saved && !strcmp(saved, t);
        free(t);
        if (!saved)
            exit(1);
        if (!same) {
            fprintf(stderr,
                    "seq2seq: %s was trained with another %s vocabulary than these data give "
                    "(load it with the --seed, --limit and --data it was trained with)\n",
                    a->load, k == 1 ? "source" : k == 2 ? "target" : "character");
            exit(1);
        }
    }
    const int64_t dims[2] = {(int64_t)src_size(v), (int64_t)tgt_size(v)};
    if (ex_meta_check_shapes(m, "seq2seq", a->load, 2, dims, dims[1]))
        exit(1);
}

/* ------------------------------------------------------------ encoded pairs */

/* Pairs as ids: src[i * S ...] (slen[i] ids), tgt[i * T ...] (tlen[i] ids). */
typedef struct seqs {
    size_t n;
    int64_t S, T;
    int32_t *src, *tgt, *slen, *tlen;
    const pairs *text;
} seqs;

static void encode_pairs(vocabs *v, const pairs *p, seqs *s)
{
    *s = (seqs){.n = p->n, .text = p};
    int64_t cap = v->max_tokens;
    int32_t *tmp = malloc(sizeof(int32_t) * 4096);
    if (!tmp)
        die("out of memory");
    for (size_t i = 0; i < p->n; i++) {
        int64_t a = (int64_t)encode(v, p->src[i], 0, tmp, 4096);
        int64_t b = (int64_t)encode(v, p->tgt[i], 1, tmp, 4096);
        a = a < cap ? a : cap;
        b = b < cap ? b : cap;
        s->S = a > s->S ? a : s->S;
        s->T = b > s->T ? b : s->T;
    }
    s->S = s->S ? s->S : 1;
    s->T = s->T ? s->T : 1;
    s->src = calloc(p->n * (size_t)s->S + 1, sizeof(int32_t));
    s->tgt = calloc(p->n * (size_t)s->T + 1, sizeof(int32_t));
    s->slen = calloc(p->n + 1, sizeof(int32_t));
    s->tlen = calloc(p->n + 1, sizeof(int32_t));
    if (!s->src || !s->tgt || !s->slen || !s->tlen)
        die("out of memory");
    for (size_t i = 0; i < p->n; i++) {
        size_t a = encode(v, p->src[i], 0, tmp, 4096), b = encode(v, p->tgt[i], 1, tmp + 2048, 2048);
        a = a < (size_t)s->S ? a : (size_t)s->S;
        b = b < (size_t)s->T ? b : (size_t)s->T;
        memcpy(s->src + i * (size_t)s->S, tmp, a * sizeof(int32_t));
        memcpy(s->tgt + i * (size_t)s->T, tmp + 2048, b * sizeof(int32_t));
        s->slen[i] = (int32_t)a;
        s->tlen[i] = (int32_t)b;
    }
    free(tmp);
}

static void seqs_free(seqs *s)
{
    free(s->src);
    free(s->tgt);
    free(s->slen);
    free(s->tlen);
}

/* Batch tensors for rows idx[0..B): the source (B, S) cut to its longest
 * row, decoder input [start, y] and targets [y, end] (B, T + 1). An empty
 * source keeps one unknown id (mask_zero needs a real step). */
typedef struct batch {
    rnn_tensor *src, *din, *tgt;
} batch;

static void make_batch(const seqs *s, const size_t *idx, int64_t B, batch *b)
{
    int64_t S = 1, T = 1;
    for (int64_t k = 0; k < B; k++) {
        S = s->slen[idx[k]] > S ? s->slen[idx[k]] : S;
        T = s->tlen[idx[k]] + 1 > T ? s->tlen[idx[k]] + 1 : T;
    }
    int64_t ds[2] = {B, S}, dt[2] = {B, T};
    CHECK(rnn_tensor_create(RNN_I32, 2, ds, &b->src));
    CHECK(rnn_tensor_create(RNN_I32, 2, dt, &b->din));
    CHECK(rnn_tensor_create(RNN_I32, 2, dt, &b->tgt));
    int32_t *xs, *xd, *xt;
    rnn_tensor_data(b->src, (void **)&xs);
    rnn_tensor_data(b->din, (void **)&xd);
    rnn_tensor_data(b->tgt, (void **)&xt);
    memset(xs, 0, sizeof(int32_t) * (size_t)(B * S));
    memset(xd, 0, sizeof(int32_t) * (size_t)(B * T));
    memset(xt, 0, sizeof(int32_t) * (size_t)(B * T));
    for (int64_t k = 0; k < B; k++) {
        const size_t i = idx[k];
        const int32_t *src = s->src + i * (size_t)s->S, *tgt = s->tgt + i * (size_t)s->T;
        memcpy(xs + k * S, src, sizeof(int32_t) * (size_t)s->slen[i]);
        if (s->slen[i] == 0)
            xs[k * S] = TOK_UNK;
        xd[k * T] = TOK_START;
        memcpy(xd + k * T + 1, tgt, sizeof(int32_t) * (size_t)s->tlen[i]);
        memcpy(xt + k * T, tgt, sizeof(int32_t) * (size_t)s->tlen[i]);
        xt[k * T + s->tlen[i]] = TOK_END;
    }
}

static void batch_free(batch *b)
{
    rnn_tensor_destroy(b->src);
    rnn_tensor_destroy(b->din);
    rnn_tensor_destroy(b->tgt);
}

/* ------------------------------------------------------------ model */

static rnn_model *build_model(const setting *cfg, const vocabs *v, int attention, uint64_t seed)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = seed;
    rnn_model *m;
    CHECK(rnn_model_create(&mo, &m));
    int64_t any[1] = {0};
    rnn_layer *src, *tgt, *enc, *dec, *semb, *temb;
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.mask_zero = 1;
    e.output_dim = cfg->emb;
    CHECK(rnn_model_add_input(m, RNN_I32, 1, any, &src));
    e.input_dim = (int64_t)src_size(v);
    CHECK(rnn_model_add_embedding(m, &e, &semb));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = cfg->units;
    r.return_sequences = 1;
    r.return_state = 1;
    CHECK(rnn_model_add_recurrent(m, &r, &enc));
    CHECK(rnn_model_add_input(m, RNN_I32, 1, any, &tgt));
    e.input_dim = (int64_t)tgt_size(v);
    CHECK(rnn_model_add_embedding(m, &e, &temb));
    r.return_state = 0;
    CHECK(rnn_model_add_recurrent(m, &r, &dec));
    rnn_layer *states[2] = {enc, enc};
    int outs[2] = {1, 2};
    CHECK(rnn_layer_connect_initial_state(dec, 2, states, outs));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    if (attention) {
        rnn_attention_options ao;
        rnn_attention_options_init(&ao);
        ao.score = cfg->score;
        rnn_layer *att;
        CHECK(rnn_model_add_attention(m, &ao, dec, 0, enc, 0, &att));
        rnn_layer *parts[2] = {att, dec};
        CHECK(rnn_model_add_concatenate(m, 2, parts, NULL, NULL));
        d.units = cfg->units;
        d.activation = RNN_ACT_TANH;
        CHECK(rnn_model_add_dense(m, &d, NULL));
    }
    d.units = (int64_t)tgt_size(v);
    d.activation = RNN_ACT_SOFTMAX;
    CHECK(rnn_model_add_dense(m, &d, NULL));
    return m;
}

static void compile(rnn_model *m, float lr)
{
    rnn_compile_options co;
    rnn_compile_options_init(&co, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    co.reduction = RNN_REDUCTION_MASKED_MEAN;
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    oo.learning_rate = lr;
    oo.global_clipnorm = 5.0f;
    CHECK(rnn_model_compile(m, &co, &oo));
}

/* ------------------------------------------------------------ decoding */

/* Decodes every pair of s (batches of 200) into hyp[i * L ...] / hlen[i]. */
static void decode_all(rnn_model *m, const seqs *s, rnn_decode_strategy how, int beam,
                       int64_t L, int32_t *hyp, int32_t *hlen)
{
    rnn_decode_options o;
    rnn_decode_options_init(&o);
    o.strategy = how;
    o.beam_width = beam;
    o.start_token = TOK_START;
    o.end_token = TOK_END;
    o.max_length = (int)L;
    const int64_t chunk = how == RNN_DECODE_BEAM ? 100 : 250;
    size_t *idx = malloc(sizeof(size_t) * (size_t)chunk);
    if (!idx)
        die("out of memory");
    for (size_t at = 0; at < s->n; at += (size_t)chunk) {
        int64_t B = (int64_t)(s->n - at) < chunk ? (int64_t)(s->n - at) : chunk;
        for (int64_t k = 0; k < B; k++)
            idx[k] = at + (size_t)k;
        batch b;
        make_batch(s, idx, B, &b);
        int64_t dt[2] = {B, L}, dl[1] = {B};
        rnn_tensor *tok, *len;
        CHECK(rnn_tensor_create(RNN_I32, 2, dt, &tok));
        CHECK(rnn_tensor_create(RNN_I32, 1, dl, &len));
        const rnn_tensor *in[2] = {b.src, NULL};
        CHECK(rnn_model_decode(m, &o, 2, in, NULL, tok, len, NULL));
        void *p;
        rnn_tensor_data(tok, &p);
        memcpy(hyp + at * (size_t)L, p, sizeof(int32_t) * (size_t)(B * L));
        rnn_tensor_data(len, &p);
        memcpy(hlen + at, p, sizeof(int32_t) * (size_t)B);
        rnn_tensor_destroy(tok);
        rnn_tensor_destroy(len);
        batch_free(&b);
    }
    free(idx);
}

/* Fraction of pairs decoded exactly (as text, greedy). */
static double exact_match(rnn_model *m, const vocabs *v, const seqs *s, int64_t L)
{
    int32_t *hyp = malloc(sizeof(int32_t) * s->n * (size_t)L), *hl = malloc(sizeof(int32_t) * s->n);
    if (!hyp || !hl)
        die("out of memory");
    decode_all(m, s, RNN_DECODE_GREEDY, 1, L, hyp, hl);
    size_t ok = 0;
    char buf[512];
    for (size_t i = 0; i < s->n; i++) {
        decode_text(v, hyp + i * (size_t)L, (size_t)hl[i], buf, sizeof buf);
        ok += !strcmp(buf, s->text->tgt[i]);
    }
    free(hyp);
    free(hl);
    return s->n ? (double)ok / (double)s->n : 0.0;
}

/* Corpus BLEU of greedy or beam decoding against the references (as ids;
 * words outside the vocabulary get ids no hypothesis can produce). */
static double bleu(rnn_model *m, vocabs *v, const seqs *s, rnn_decode_strategy how, int beam,
                   int64_t L)
{
    int32_t *hyp = malloc(sizeof(int32_t) * s->n * (size_t)L), *hl = malloc(sizeof(int32_t) * s->n);
    const int32_t **hp = malloc(sizeof(*hp) * s->n), **rp = malloc(sizeof(*rp) * s->n);
    int64_t *hn = malloc(sizeof(int64_t) * s->n), *rn = malloc(sizeof(int64_t) * s->n);
    int32_t *ref = malloc(sizeof(int32_t) * s->n * 64);
    if (!hyp || !hl || !hp || !rp || !hn || !rn || !ref)
        die("out of memory");
    decode_all(m, s, how, beam, L, hyp, hl);
    char err[256];
    int32_t unk = -1;
    for (size_t i = 0; i < s->n; i++) {
        if (word_tokenize(s->text->tgt[i], LANG_FR, &v->toks, err, sizeof err))
            die(err);
        size_t n = v->toks.n < 64 ? v->toks.n : 64;
        for (size_t k = 0; k < n; k++) {
            int32_t id = word_vocab_id(&v->fr, v->toks.tok[k]);
            ref[i * 64 + k] = id == TOK_UNK ? unk-- : id;
        }
        rp[i] = ref + i * 64;
        rn[i] = (int64_t)n;
        hp[i] = hyp + i * (size_t)L;
        hn[i] = hl[i];
    }
    double score = 0;
    CHECK(rnn_corpus_bleu(NULL, (int64_t)s->n, hp, hn, 1, rp, rn, &score));
    free(hyp);
    free(hl);
    free(hp);
    free(rp);
    free(hn);
    free(rn);
    free(ref);
    return score;
}

/* Translates one text with beam search into out. */
static void translate(rnn_model *m, vocabs *v, const char *text, int beam, int64_t L, char *out,
                      size_t len)
{
    int32_t ids[256];
    size_t n = encode(v, text, 0, ids, 256);
    n = n < 256 ? n : 256;
    if (n == 0)
        ids[n++] = TOK_UNK;
    int64_t ds[2] = {1, (int64_t)n}, dt[2] = {1, L}, dl[1] = {1};
    rnn_tensor *src, *tok, *hl;
    CHECK(rnn_tensor_create(RNN_I32, 2, ds, &src));
    CHECK(rnn_tensor_create(RNN_I32, 2, dt, &tok));
    CHECK(rnn_tensor_create(RNN_I32, 1, dl, &hl));
    void *p;
    rnn_tensor_data(src, &p);
    memcpy(p, ids, sizeof(int32_t) * n);
    rnn_decode_options o;
    rnn_decode_options_init(&o);
    o.strategy = RNN_DECODE_BEAM;
    o.beam_width = beam;
    o.start_token = TOK_START;
    o.end_token = TOK_END;
    o.max_length = (int)L;
    const rnn_tensor *in[2] = {src, NULL};
    CHECK(rnn_model_decode(m, &o, 2, in, NULL, tok, hl, NULL));
    int32_t *t, *l;
    rnn_tensor_data(tok, (void **)&t);
    rnn_tensor_data(hl, (void **)&l);
    decode_text(v, t, (size_t)l[0], out, len);
    rnn_tensor_destroy(src);
    rnn_tensor_destroy(tok);
    rnn_tensor_destroy(hl);
}

/* ------------------------------------------------------------ data */

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void shuffle(size_t *idx, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(mix(rng) % i), t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* The task's pairs, split into train / validation / test with no source
 * shared between them. */
static void load_task(const args *a, const setting *cfg, pairs *train, pairs *val, pairs *test)
{
    char err[512];
    pairs all = {0}, rest = {0};
    int rc = 0;
    size_t n_train = cfg->train;
    if (a->limit > 0 && (size_t)a->limit < n_train)
        n_train = (size_t)a->limit;
    if (a->task == TASK_DATES)
        rc = dates_generate(a->seed, n_train + cfg->val + cfg->test, &all, err, sizeof err);
    else if (a->task == TASK_ADDITION)
        rc = addition_generate(a->seed, n_train + cfg->val + cfg->test, 3, &all, err, sizeof err);
    else {
        char path[4096];
        const char *data = ex_data_dir("seq2seq", a->data, "fra-eng/fra.txt.gz");
        if (!data)
            exit(1);
        snprintf(path, sizeof path, "%s/fra-eng/fra.txt.gz", data);
        fra_eng_stats st;
        rc = fra_eng_load(path, 10, &all, &st, err, sizeof err);
        if (!rc && st.first_bad) { /* a pair lost: never train on part of the file silently */
            fprintf(stderr, "seq2seq: %s:%zu: %s (expected english<TAB>french); %zu such line(s) "
                    "in the file\n", path, st.first_bad, st.first_bad_what,
                    st.no_tab + st.empty + st.bad_utf8);
            exit(1);
        }
        if (!rc && st.kept + st.too_long == 0) {
            fprintf(stderr, "seq2seq: %s: no english<TAB>french pairs (%s)\n", path,
                    st.lines ? "only blank lines" : "the file is empty");
            exit(1);
        }
    }
    if (rc)
        die(err);
    if (pairs_split_disjoint(&all, a->seed, cfg->test, &rest, test, err, sizeof err))
        die(err);
    pairs_free(&all);
    pairs tr = {0};
    if (pairs_split_disjoint(&rest, a->seed + 1, cfg->val, &tr, val, err, sizeof err))
        die(err);
    pairs_free(&rest);
    if (a->task == TASK_FRA && a->limit > 0 && (size_t)a->limit < tr.n) {
        for (size_t i = 0; i < (size_t)a->limit; i++)
            if (pairs_add(train, tr.src[i], tr.tgt[i]))
                die("out of memory");
        pairs_free(&tr);
    } else {
        *train = tr;
    }
}

static void build_vocabs(const args *a, const setting *cfg, const pairs *train, vocabs *v)
{
    char err[512];
    memset(v, 0, sizeof *v);
    v->task = a->task;
    v->max_tokens = cfg->max_tokens;
    if (a->task != TASK_FRA) {
        char_vocab_build(&v->chars, train, PAIRS_BOTH);
        return;
    }
    if (word_vocab_build(&v->en, train, PAIRS_SOURCE, LANG_EN, 2, 8000, err, sizeof err) ||
        word_vocab_build(&v->fr, train, PAIRS_TARGET, LANG_FR, 2, 10000, err, sizeof err))
        die(err);
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    args a;
    if (parse_args(argc, argv, &a))
        return 2;
    const setting *cfg = &SETTINGS[a.task];
    if (a.threads > 0)
        CHECK(rnn_set_num_threads(a.threads));
    if (a.fixed_threads)
        CHECK(rnn_set_thread_policy(RNN_THREADS_FIXED));
    rnn_model *m = NULL;
    /* A model made by another example or for another task is refused
     * before any data is read. */
    if (a.load && (!(m = ex_meta_load("seq2seq", a.load, a.task_name)) ||
                   ex_set_precision(m, "seq2seq", a.precision)))
        return 1;
    pairs train = {0}, val = {0}, test = {0};
    load_task(&a, cfg, &train, &val, &test);
    vocabs v;
    build_vocabs(&a, cfg, &train, &v);
    seqs str, sva, ste;
    encode_pairs(&v, &train, &str);
    encode_pairs(&v, &val, &sva);
    encode_pairs(&v, &test, &ste);
    const int64_t L = (str.T > ste.T ? str.T : ste.T) + 4; /* decoding room */
    fprintf(stderr,
            "%s: %zu training, %zu validation, %zu test pairs; vocabularies %zu -> %zu ids; "
            "source up to %lld, target up to %lld tokens\n",
            cfg->name, train.n, val.n, test.n, src_size(&v), tgt_size(&v), (long long)str.S,
            (long long)str.T);

    int epochs_run = 0;
    double train_seconds = 0;
    if (a.load) {
        check_loaded(m, &a, &v);
    } else {
        m = build_model(cfg, &v, !a.no_attention, a.seed);
        if (ex_set_precision(m, "seq2seq", a.precision))
            return 1;
        compile(m, cfg->lr);
        if (!a.json)
            print_summary(m);
        const int epochs = a.epochs ? a.epochs : cfg->epochs;
        progress pr;
        progress_init(&pr, cfg->name);
        size_t *idx = malloc(sizeof(size_t) * str.n);
        if (!idx)
            die("out of memory");
        for (size_t i = 0; i < str.n; i++)
            idx[i] = i;
        uint64_t rng = a.seed * 0x2545F4914F6CDD1Dull + 7;
        const double t0 = now_seconds();
        const int64_t B = cfg->batch, nb = (int64_t)((str.n + (size_t)B - 1) / (size_t)B);
        int stop = 0;
        for (int ep = 0; ep < epochs && !stop; ep++) {
            const double te = now_seconds();
            shuffle(idx, str.n, &rng);
            const float p_ss = epochs > 1 ? a.ss * (float)ep / (float)(epochs - 1) : a.ss;
            double tot_loss = 0, tot_acc = 0;
            for (int64_t bi = 0; bi < nb; bi++) {
                const size_t at = (size_t)(bi * B);
                const int64_t nbk = (int64_t)(str.n - at) < B ? (int64_t)(str.n - at) : B;
                batch b;
                make_batch(&str, idx + at, nbk, &b);
                const rnn_tensor *in[2] = {b.src, b.din};
                rnn_tensor *mixed = NULL;
                if (p_ss > 0) {
                    int64_t dims[2];
                    int rank;
                    rnn_tensor_shape(b.din, dims, 2, &rank);
                    CHECK(rnn_tensor_create(RNN_I32, 2, dims, &mixed));
                    CHECK(rnn_model_scheduled_sampling(m, 1, 0, p_ss, mix(&rng), 2, in, NULL,
                                                       mixed));
                    in[1] = mixed;
                }
                float loss, acc;
                CHECK(rnn_model_train_step(m, 2, in, NULL, b.tgt, &loss, &acc));
                tot_loss += loss;
                tot_acc += acc;
                rnn_tensor_destroy(mixed);
                batch_free(&b);
                const double spent = now_seconds() - te;
                progress_bar(&pr, ep + 1, epochs, bi + 1, nb, (float)(tot_loss / (double)(bi + 1)),
                             (float)(tot_acc / (double)(bi + 1)),
                             spent / (double)(bi + 1) * (double)(nb - bi - 1));
                if (a.max_minutes > 0 && now_seconds() - t0 > a.max_minutes * 60) {
                    stop = 1;
                    tot_loss *= (double)nb / (double)(bi + 1);
                    tot_acc *= (double)nb / (double)(bi + 1);
                    break;
                }
            }
            epochs_run = ep + 1;
            const int threads_used = rnn_get_active_threads(); /* by the train steps */
            double vscore;
            const char *vname;
            if (a.task == TASK_FRA) {
                vscore = bleu(m, &v, &sva, RNN_DECODE_GREEDY, 1, L);
                vname = "val_bleu";
            } else {
                vscore = exact_match(m, &v, &sva, L);
                vname = "val_exact";
            }
            progress_clear(&pr);
            char ss_note[48] = "";
            if (p_ss > 0)
                snprintf(ss_note, sizeof ss_note, "  (sampling probability %.2f)", (double)p_ss);
            fprintf(stderr, "%s epoch %d/%d  %.0fs  loss %.4f  token_accuracy %.4f  %s %.4f%s\n",
                    cfg->name, ep + 1, epochs, now_seconds() - te, tot_loss / (double)nb,
                    tot_acc / (double)nb, vname, vscore, ss_note);
            progress_threads(&pr, threads_used);
            if (a.task != TASK_FRA && vscore >= 1.0)
                stop = 1; /* every validation pair is exact */
        }
        train_seconds = now_seconds() - t0;
        free(idx);
        if (a.save) {
            save_metadata(m, &a, &v);
            CHECK(rnn_model_save(m, a.save));
            fprintf(stderr, "saved %s\n", a.save);
        }
    }
    int64_t params = 0;
    CHECK(rnn_model_count_params(m, &params));

    /* Test figures and a few translations (not when only translating with a
     * loaded model). */
    double em = 0, bg = 0, bb = 0;
    const int evaluate = !(a.load && a.translate);
    if (!evaluate) {
    } else if (a.task == TASK_FRA) {
        bg = bleu(m, &v, &ste, RNN_DECODE_GREEDY, 1, L);
        bb = bleu(m, &v, &ste, RNN_DECODE_BEAM, a.beam, L);
        fprintf(stderr, "test BLEU on %zu pairs: greedy %.4f, beam search (width %d) %.4f\n",
                ste.n, bg, a.beam, bb);
    } else {
        em = exact_match(m, &v, &ste, L);
        fprintf(stderr, "test exact match on %zu held-out pairs: %.4f (%zu wrong)\n", ste.n, em,
                ste.n - (size_t)llround(em * (double)ste.n));
    }
    char out[1024];
    for (size_t i = 0; evaluate && i < test.n && i < 5; i++) {
        translate(m, &v, test.src[i], a.beam, L, out, sizeof out);
        fprintf(stderr, "  %-40s -> %s%s\n", test.src[i], out,
                strcmp(out, test.tgt[i]) ? "" : "  (exact)");
        if (strcmp(out, test.tgt[i]))
            fprintf(stderr, "  %-40s    reference: %s\n", "", test.tgt[i]);
    }
    if (a.json && evaluate) {
        if (a.task == TASK_FRA)
            printf("{\"task\": \"%s\", \"bleu_greedy\": %.4f, \"bleu_beam\": %.4f, "
                   "\"beam_width\": %d, ",
                   cfg->name, bg, bb, a.beam);
        else
            printf("{\"task\": \"%s\", \"exact_match\": %.4f, ", cfg->name, em);
        printf("\"test_pairs\": %zu, \"train_seconds\": %.1f, \"epochs\": %d, \"params\": %lld, "
               "\"attention\": %s, \"precision\": \"%s\"}\n",
               ste.n, train_seconds, epochs_run, (long long)params,
               a.no_attention ? "false" : "true", ex_precision_names[a.precision]);
    }
    if (a.translate) {
        char line[4096];
        fprintf(stderr, "type %s per line (Ctrl-D ends):\n",
                a.task == TASK_FRA     ? "an English sentence"
                : a.task == TASK_DATES ? "a date such as \"April 22, 2019\""
                                       : "a sum such as \"535+61\"");
        while (fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!*line)
                continue;
            translate(m, &v, line, a.beam, L, out, sizeof out);
            printf("%s\n", out);
            fflush(stdout);
        }
    }
    rnn_model_destroy(m);
    seqs_free(&str);
    seqs_free(&sva);
    seqs_free(&ste);
    if (a.task == TASK_FRA) {
        word_vocab_free(&v.en);
        word_vocab_free(&v.fr);
    }
    token_list_free(&v.toks);
    pairs_free(&train);
    pairs_free(&val);
    pairs_free(&test);
    return 0;
}
