/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding over the step API (decode/step.c): greedy decoding, sampling
 * (temperature, top-k, top-p) and beam search, and the two-pass form of
 * scheduled sampling.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decoding.h"
#include "rnn/decode.h"

void rnn_decode_options_init(rnn_decode_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->strategy = RNN_DECODE_GREEDY;
    o->token_input = -1;
    o->output = 0;
    o->from_logits = -1;
    o->start_token = 1;
    o->end_token = 2;
    o->max_length = 50;
    o->temperature = 1.0f;
    o->top_k = 0;
    o->top_p = 1.0f;
    o->beam_width = 4;
    o->length_penalty = 0.0f;
    o->seed = 0;
}

/* Whether token id 0 is padding for token input ti (a layer reading it has
 * mask_zero set, as an Embedding can): decoding then never emits it. */
static int pad_excluded(const rnn_model *m, int ti)
{
    for (int i = 0; i < m->n_layers; i++) {
        const rnn_layer *l = m->layers[i];
        int found = 0;
        if (l->n_in > 0 && l->in[0].layer == m->inputs[ti] &&
            rnn__layer_field(l, "mask_zero", &found) != 0 && found)
            return 1;
    }
    return 0;
}

/* Log-probabilities of the next token for row b: from output (B, T, V)
 * (its last step) or (B, V). A NaN or infinite value in the row (NaN
 * weights, an overflow) gives RNN_ERR_NUMERIC: tokens chosen from it would
 * be arbitrary. */
static rnn_status row_logp(const rnn_tensor *o, int64_t b, int from_logits, int excl_pad,
                           float *lp)
{
    const int64_t V = o->dims[o->rank - 1];
    const int64_t T = o->rank == 3 ? o->dims[1] : 1;
    const float *p = (const float *)o->data + (b * T + T - 1) * V;
    for (int64_t v = 0; v < V; v++)
        if (!isfinite(p[v]))
            return rnn__err(RNN_ERR_NUMERIC, NULL,
                            "the output distribution of row %lld holds %g at token %lld",
                            (long long)b, (double)p[v], (long long)v);
    if (from_logits) {
        float mx = -INFINITY;
        for (int64_t v = excl_pad; v < V; v++)
            mx = p[v] > mx ? p[v] : mx;
        double s = 0.0;
        for (int64_t v = excl_pad; v < V; v++)
            s += exp((double)(p[v] - mx));
        const float lse = mx + (float)log(s);
        for (int64_t v = 0; v < V; v++)
            lp[v] = p[v] - lse;
    } else {
        double s = 1.0;
        if (excl_pad) /* renormalise without the padding id */
            s = 1.0 - (double)p[0];
        for (int64_t v = 0; v < V; v++)
            lp[v] = (float)log(fmax((double)p[v], 1e-30) / (s > 1e-30 ? s : 1e-30));
    }
    if (excl_pad)
        lp[0] = -INFINITY;
    return RNN_OK;
}

typedef struct cand {
    float score;
    int32_t beam, tok;
} cand;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->beam != y->beam)
        return x->beam < y->beam ? -1 : 1;
    return x->tok < y->tok ? -1 : x->tok > y->tok;
}

typedef struct idx_p {
    float p;
    int32_t v;
} idx_p;

static int idx_p_cmp(const void *a, const void *b)
{
    const idx_p *x = a, *y = b;
    if (x->p != y->p)
        return x->p > y->p ? -1 : 1;
    return x->v < y->v ? -1 : x->v > y->v;
}

/* Draws a token from lp (log-probabilities) with temperature, top-k, top-p. */
static int32_t sample_token(const rnn_decode_options *o, const float *lp, int64_t V, idx_p *work,
                            rnn__rng *rng)
{
    float mx = -INFINITY;
    for (int64_t v = 0; v < V; v++)
        mx = lp[v] > mx ? lp[v] : mx;
    int64_t n = 0;
    for (int64_t v = 0; v < V; v++) {
        if (lp[v] == -INFINITY)
            continue;
        work[n].p = (float)exp((double)(lp[v] - mx) / o->temperature);
        work[n].v = (int32_t)v;
        n++;
    }
    int64_t keep = n;
    if ((o->top_k > 0 && o->top_k < n) || o->top_p < 1.0f) {
        qsort(work, (size_t)n, sizeof *work, idx_p_cmp);
        if (o->top_k > 0 && o->top_k < keep)
            keep = o->top_k;
        if (o->top_p < 1.0f) {
            double tot = 0.0, acc = 0.0;
            for (int64_t i = 0; i < keep; i++)
                tot += work[i].p;
            int64_t i = 0;
            while (i < keep) {
                acc += work[i].p;
                i++;
                if (acc >= o->top_p * tot)
                    break;
            }
            keep = i;
        }
    }
    double tot = 0.0;
    for (int64_t i = 0; i < keep; i++)
        tot += work[i].p;
    double u = rnn__rng_uniform(rng) * tot, acc = 0.0;
    for (int64_t i = 0; i < keep; i++) {
        acc += work[i].p;
        if (u < acc)
            return work[i].v;
    }
    return work[keep - 1].v;
}

static rnn_status check_decode_options(const rnn_decode_options *o, const rnn_model *m, int *ti)
{
    const char *f = "rnn_model_decode";
    if (o->strategy < RNN_DECODE_GREEDY || o->strategy > RNN_DECODE_BEAM)
        return rnn__err(RNN_ERR_INVALID_ARG, f,
                        "options->strategy must be a rnn_decode_strategy (got %d)",
                        (int)o->strategy);
    *ti = o->token_input < 0 ? m->n_inputs - 1 : o->token_input;
    if (o->token_input < -1 || o->token_input >= m->n_inputs)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->token_input must be in [-1, %d) (got %d)",
                        m->n_inputs, o->token_input);
    const int n_out = rnn__model_num_outputs(m);
    if (o->output < 0 || o->output >= n_out)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->output must be in [0, %d) (got %d)",
                        n_out, o->output);
    if (o->from_logits < -1 || o->from_logits > 1)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->from_logits must be -1, 0 or 1 (got %d)",
                        o->from_logits);
    if (o->start_token < 0)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->start_token must be >= 0 (got %d)",
                        o->start_token);
    if (o->end_token < -1)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->end_token must be >= -1 (got %d)",
                        o->end_token);
    if (o->max_length < 1 || o->max_length > 1000000)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->max_length must be in 1..1000000 (got %d)",
                        o->max_length);
    if (!(o->temperature > 0.0f) || !isfinite(o->temperature))
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->temperature must be > 0 (got %g)",
                        (double)o->temperature);
    if (o->top_k < 0)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->top_k must be >= 0 (got %d)", o->top_k);
    if (!(o->top_p > 0.0f && o->top_p <= 1.0f))
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->top_p must be in (0, 1] (got %g)",
                        (double)o->top_p);
    if (o->beam_width < 1 || o->beam_width > 1024)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->beam_width must be in 1..1024 (got %d)",
                        o->beam_width);
    if (!isfinite(o->length_penalty) || o->length_penalty < 0.0f)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "options->length_penalty must be >= 0 (got %g)",
                        (double)o->length_penalty);
    return RNN_OK;
}

static rnn_status check_result(const char *name, const rnn_tensor *t, rnn_dtype dt, int rank,
                               int64_t d0, int64_t d1)
{
    const char *f = "rnn_model_decode";
    if (!t)
        return RNN_OK;
    if (t->dtype != dt)
        return rnn__err(RNN_ERR_DTYPE, f, "%s must be %s (got dtype %d)", name,
                        dt == RNN_I32 ? "RNN_I32" : "RNN_F32", (int)t->dtype);
    if (t->rank != rank || t->dims[0] != d0 || (rank == 2 && t->dims[1] != d1))
        return rank == 2 ? rnn__err(RNN_ERR_SHAPE, f, "%s must have shape (%lld, %lld)", name,
                                    (long long)d0, (long long)d1)
                         : rnn__err(RNN_ERR_SHAPE, f, "%s must have shape (%lld)", name,
                                    (long long)d0);
    return RNN_OK;
}

/* Copies t with every row (first-axis slice) repeated k times. */
static rnn_status repeat_rows(const rnn_tensor *t, int64_t k, rnn_tensor **out)
{
    int64_t dims[RNN_MAX_RANK];
    memcpy(dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
    dims[0] *= k;
    rnn_status st = rnn_tensor_create(t->dtype, t->rank, dims, out);
    if (st)
        return st;
    const size_t row = (size_t)(t->numel / t->dims[0]) * 4;
    for (int64_t n = 0; n < t->dims[0]; n++)
        for (int64_t j = 0; j < k; j++)
            memcpy((char *)(*out)->data + (size_t)(n * k + j) * row,
                   (const char *)t->data + (size_t)n * row, row);
    return RNN_OK;
}

typedef struct hyp {
    float score; /* ranking score (length-penalised) */
    float logp;
    int64_t len; /* tokens before the end token */
    int32_t *tok;
} hyp;

typedef struct decoder {
    rnn_model *m;
    const rnn_decode_options *o;
    int64_t N, K, B, V, L;
    int from_logits, excl_pad;
    rnn_tensor *next; /* (B, 1) tokens fed next */
    float *lp;        /* (B, V) */
    int32_t *seq, *seq2; /* (B, L) tokens of each row so far */
    float *logp;      /* (B) */
    int *alive;       /* (B) */
    int32_t *rows;    /* (B) */
    cand *cands;
    hyp *fin;         /* (N, K) finished hypotheses */
    int *nfin;
    int32_t *fin_tok;
    idx_p *work;
    rnn__gov *gov; /* the model's decoding governor: times each step */
} decoder;

static float penalised(const rnn_decode_options *o, float logp, int64_t len)
{
    if (o->length_penalty == 0.0f)
        return logp;
    return logp / powf((5.0f + (float)len) / 6.0f, o->length_penalty);
}

static const rnn_tensor *next_output(rnn_model *m, int k)
{
    const rnn__port p = rnn__model_output_port(m, k);
    return p.layer->out[p.output];
}

/* One decoding step of every row, on the thread count the governor picks. */
static rnn_status timed_step(decoder *d)
{
    rnn__gov_begin(d->gov);
    const rnn_status st = rnn_model_step(d->m, d->next);
    if (!st)
        rnn__gov_end(d->gov, (double)d->B);
    return st;
}

/* Greedy and sampling: every row is one sequence. */
static rnn_status run_simple(decoder *d, int32_t *tok, int32_t *lens, float *scores)
{
    const rnn_decode_options *o = d->o;
    rnn__rng rng;
    rnn__rng_seed(&rng, o->seed);
    rnn_status st = RNN_OK;
    int64_t remaining = d->N;
    for (int64_t n = 0; n < d->N; n++) {
        lens[n] = o->max_length;
        scores[n] = 0.0f;
        d->alive[n] = 1;
    }
    int32_t *next = d->next->data;
    for (int64_t t = 0; t < d->L && remaining > 0; t++) {
        const rnn_tensor *out = next_output(d->m, o->output);
        for (int64_t n = 0; n < d->N; n++) {
            if (!d->alive[n]) {
                next[n] = o->start_token;
                continue;
            }
            float *lp = d->lp + n * d->V;
            if ((st = row_logp(out, n, d->from_logits, d->excl_pad, lp)))
                return rnn__err_wrap(st, NULL, "step %lld", (long long)t + 1);
            int32_t v = 0;
            if (o->strategy == RNN_DECODE_GREEDY) {
                for (int64_t j = 1; j < d->V; j++)
                    if (lp[j] > lp[v])
                        v = (int32_t)j;
            } else {
                v = sample_token(o, lp, d->V, d->work, &rng);
            }
            scores[n] += lp[v];
            if (v == o->end_token) {
                lens[n] = (int32_t)t;
                d->alive[n] = 0;
                remaining--;
                next[n] = o->start_token;
                continue;
            }
            tok[n * d->L + t] = v;
            next[n] = v;
        }
        if (remaining > 0 && t + 1 < d->L && (st = timed_step(d)))
            return st;
    }
    return RNN_OK;
}

/* Inserts c into the nc (<= want) best candidates so far, kept sorted best first. */
static void cand_insert(cand *cands, int64_t *nc, int64_t want, cand c)
{
    if (*nc < want) {
        cands[(*nc)++] = c;
        /* keep the array sorted by insertion */
        for (int64_t i = *nc - 1; i > 0 && cand_cmp(&cands[i], &cands[i - 1]) < 0; i--) {
            cand x = cands[i];
            cands[i] = cands[i - 1];
            cands[i - 1] = x;
        }
    } else if (cand_cmp(&c, &cands[*nc - 1]) < 0) {
        int64_t i = *nc - 1;
        cands[i] = c;
        for (; i > 0 && cand_cmp(&cands[i], &cands[i - 1]) < 0; i--) {
            cand x = cands[i];
            cands[i] = cands[i - 1];
            cands[i - 1] = x;
        }
    }
}

/* Sequence n's 2K best (beam, token) extensions into d->cands, best first;
 * returns how many (-1: a non-finite distribution, the error is set). */
static int64_t beam_candidates(decoder *d, const rnn_tensor *out, int64_t n)
{
    const int64_t K = d->K, V = d->V;
    int64_t nc = 0;
    const int64_t want = 2 * K < K * V ? 2 * K : K * V;
    for (int64_t k = 0; k < K; k++) {
        const int64_t b = n * K + k;
        if (d->logp[b] == -INFINITY)
            continue;
        float *lp = d->lp + b * V;
        if (row_logp(out, b, d->from_logits, d->excl_pad, lp))
            return -1;
        for (int64_t v = 0; v < V; v++) {
            cand c = {d->logp[b] + lp[v], (int32_t)k, (int32_t)v};
            if (c.score == -INFINITY)
                continue;
            cand_insert(d->cands, &nc, want, c);
        }
    }
    return nc;
}

/* Sequence n's finished hypotheses and up to K new live ones at step t; returns the live. */
static int64_t beam_extend(decoder *d, int64_t n, int64_t t, int64_t nc)
{
    const rnn_decode_options *o = d->o;
    const int64_t K = d->K, L = d->L;
    int32_t *next = d->next->data;
    hyp *fin = d->fin + n * K;
    int64_t kept = 0;
    for (int64_t i = 0; i < nc && kept < K; i++) {
        const cand *c = &d->cands[i];
        const int64_t parent = n * K + c->beam;
        if (c->tok == o->end_token) {
            if (d->nfin[n] < K) {
                hyp *h = &fin[d->nfin[n]++];
                h->logp = c->score;
                h->len = t;
                h->score = penalised(o, c->score, t);
                memcpy(h->tok, d->seq + parent * L, sizeof(int32_t) * (size_t)t);
            }
            continue;
        }
        const int64_t b = n * K + kept;
        d->rows[b] = (int32_t)parent;
        memcpy(d->seq2 + b * L, d->seq + parent * L, sizeof(int32_t) * (size_t)t);
        d->seq2[b * L + t] = c->tok;
        d->logp[b] = c->score; /* written to a copy below */
        next[b] = c->tok;
        kept++;
    }
    for (int64_t b = n * K + kept; b < n * K + K; b++) { /* fewer than K live ones */
        d->rows[b] = (int32_t)(n * K);
        d->logp[b] = -INFINITY;
        next[b] = o->start_token;
    }
    return kept;
}

/* Each sequence's result: its best hypothesis, unfinished ones counting at max_length. */
static void beam_results(decoder *d, const int *done, int32_t *tok, int32_t *lens, float *scores)
{
    const rnn_decode_options *o = d->o;
    const int64_t K = d->K, L = d->L;
    for (int64_t n = 0; n < d->N; n++) {
        hyp *fin = d->fin + n * K;
        if (d->nfin[n] < K)
            for (int64_t k = 0; k < K && d->nfin[n] < K; k++) {
                const int64_t b = n * K + k;
                if (d->logp[b] == -INFINITY || done[n])
                    continue;
                hyp *h = &fin[d->nfin[n]++];
                h->logp = d->logp[b];
                h->len = L;
                h->score = penalised(o, h->logp, L);
                memcpy(h->tok, d->seq + b * L, sizeof(int32_t) * (size_t)L);
            }
        int64_t best = -1;
        for (int64_t k = 0; k < d->nfin[n]; k++)
            if (best < 0 || fin[k].score > fin[best].score)
                best = k;
        if (best < 0) { /* cannot happen: some hypothesis always survives */
            lens[n] = 0;
            scores[n] = -INFINITY;
            continue;
        }
        lens[n] = (int32_t)fin[best].len;
        scores[n] = fin[best].logp;
        memcpy(tok + n * L, fin[best].tok, sizeof(int32_t) * (size_t)fin[best].len);
    }
}

/* Beam search: rows n*K .. n*K+K-1 are the hypotheses of sequence n. */
static rnn_status run_beam(decoder *d, int32_t *tok, int32_t *lens, float *scores)
{
    const rnn_decode_options *o = d->o;
    const int64_t K = d->K, L = d->L;
    rnn_status st;
    for (int64_t b = 0; b < d->B; b++) {
        d->logp[b] = b % K == 0 ? 0.0f : -INFINITY; /* one live hypothesis at first */
        d->alive[b] = 1;
    }
    int64_t active = d->N;
    int *done = d->alive + d->B; /* (N) */
    for (int64_t n = 0; n < d->N; n++)
        done[n] = 0, d->nfin[n] = 0;
    int32_t *next = d->next->data;
    for (int64_t t = 0; t < L && active > 0; t++) {
        const rnn_tensor *out = next_output(d->m, o->output);
        for (int64_t n = 0; n < d->N; n++) {
            if (done[n]) {
                for (int64_t k = 0; k < K; k++) {
                    d->rows[n * K + k] = (int32_t)(n * K + k);
                    next[n * K + k] = o->start_token;
                }
                continue;
            }
            const int64_t nc = beam_candidates(d, out, n);
            if (nc < 0)
                return rnn__err_wrap(RNN_ERR_NUMERIC, NULL, "step %lld", (long long)t + 1);
            const int64_t kept = beam_extend(d, n, t, nc);
            /* Done once K hypotheses finished (Hugging Face's
             * early_stopping=True), or when none is left alive. */
            if (d->nfin[n] >= K || kept == 0)
                done[n] = 1;
            if (done[n])
                active--;
        }
        /* logp was updated in place, one sequence at a time, after that
         * sequence's candidates were taken: consistent. */
        int32_t *tmp = d->seq;
        d->seq = d->seq2;
        d->seq2 = tmp;
        if (active > 0 && t + 1 < L) {
            if ((st = rnn_model_step_select(d->m, d->rows, d->B)) || (st = timed_step(d)))
                return st;
        }
    }
    beam_results(d, done, tok, lens, scores);
    return RNN_OK;
}

static void decoder_free(decoder *d)
{
    rnn_tensor_destroy(d->next);
    rnn__free(d->lp);
    rnn__free(d->seq);
    rnn__free(d->seq2);
    rnn__free(d->logp);
    rnn__free(d->alive);
    rnn__free(d->rows);
    rnn__free(d->cands);
    rnn__free(d->fin);
    rnn__free(d->nfin);
    rnn__free(d->fin_tok);
    rnn__free(d->work);
}

/* rnn_model_decode's argument checks; sets *prefix (or NULL) and *N (the batch size). */
static rnn_status check_decode_args(const rnn_model *m, const rnn_decode_options *o, int ti,
                                    int num_inputs, const rnn_tensor *const *inputs,
                                    const rnn_tensor *tokens, const rnn_tensor *out_lengths,
                                    const rnn_tensor *scores, const rnn_tensor **prefix,
                                    int64_t *N)
{
    const char *f = "rnn_model_decode";
    rnn_status st;
    if (num_inputs != m->n_inputs)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "num_inputs must be %d for this model (got %d)",
                        m->n_inputs, num_inputs);
    if (num_inputs > 1 && !inputs)
        return rnn__err(RNN_ERR_INVALID_ARG, f, "%s must not be NULL", "inputs");
    if ((st = rnn__check_token_input(f, m, ti)))
        return st;
    *prefix = inputs ? inputs[ti] : NULL;
    if (*prefix && ((*prefix)->dtype != RNN_I32 || (*prefix)->rank != 2))
        return rnn__err(RNN_ERR_SHAPE, f, "inputs[%d] (the prefix) must be RNN_I32 (N, P)", ti);
    /* Batch size: from any given input, else from the result tensor. */
    *N = tokens->rank >= 1 ? tokens->dims[0] : 0;
    for (int i = 0; inputs && i < num_inputs; i++)
        if (inputs[i]) {
            *N = inputs[i]->dims[0];
            break;
        }
    for (int i = 0; i < num_inputs; i++)
        if (i != ti && (!inputs || !inputs[i]))
            return rnn__err(RNN_ERR_INVALID_ARG, f, "inputs[%d] must not be NULL", i);
    if ((st = check_result("tokens", tokens, RNN_I32, 2, *N, o->max_length)) ||
        (st = check_result("out_lengths", out_lengths, RNN_I32, 1, *N, 0)) ||
        (st = check_result("scores", scores, RNN_F32, 1, *N, 0)))
        return st;
    if (*N < 1)
        return rnn__err(RNN_ERR_SHAPE, f, "the batch is empty");
    return RNN_OK;
}

/* Decoding's inputs in/ln: the prefix *pre, the others repeated per hypothesis (caller frees). */
static rnn_status decode_inputs(const decoder *d, int ti, int num_inputs,
                                const rnn_tensor *const *inputs, const rnn_tensor *const *lengths,
                                const rnn_tensor *prefix, rnn_tensor **pre, rnn_tensor **rep,
                                rnn_tensor **rep_len, const rnn_tensor **in,
                                const rnn_tensor **ln)
{
    const int64_t N = d->N, K = d->K, B = d->B;
    int64_t dims[2] = {B, 1};
    rnn_status st;
    /* The prefix: the caller's, or the start token; repeated per hypothesis. */
    if (prefix) {
        if (prefix->dims[0] != N)
            return rnn__err(RNN_ERR_SHAPE, "rnn_model_decode",
                            "inputs[%d] has batch size %lld, expected %lld", ti,
                            (long long)prefix->dims[0], (long long)N);
        if ((st = repeat_rows(prefix, K, pre)))
            return st;
    } else {
        if ((st = rnn_tensor_create(RNN_I32, 2, dims, pre)))
            return st;
        for (int64_t b = 0; b < B; b++)
            ((int32_t *)(*pre)->data)[b] = d->o->start_token;
    }
    for (int i = 0; i < num_inputs; i++) {
        ln[i] = lengths ? lengths[i] : NULL;
        in[i] = i == ti ? *pre : inputs[i];
        if (i == ti || K == 1)
            continue;
        if ((st = repeat_rows(inputs[i], K, &rep[i])) ||
            (ln[i] && (st = repeat_rows(ln[i], K, &rep_len[i]))))
            return st;
        in[i] = rep[i];
        if (ln[i])
            ln[i] = rep_len[i];
    }
    return RNN_OK;
}

/* Allocates the decoder's work arrays (d->V known); decoder_free frees them. */
static rnn_status decoder_alloc(decoder *d)
{
    const int64_t N = d->N, K = d->K, B = d->B, L = d->L;
    d->lp = rnn__malloc(sizeof(float) * (size_t)(B * d->V));
    d->seq = rnn__calloc((size_t)(B * L), sizeof(int32_t));
    d->seq2 = rnn__calloc((size_t)(B * L), sizeof(int32_t));
    d->logp = rnn__malloc(sizeof(float) * (size_t)B);
    d->alive = rnn__malloc(sizeof(int) * (size_t)(B + N));
    d->rows = rnn__malloc(sizeof(int32_t) * (size_t)B);
    d->cands = rnn__malloc(sizeof(cand) * (size_t)(2 * K));
    d->fin = rnn__calloc((size_t)B, sizeof(hyp));
    d->nfin = rnn__calloc((size_t)N, sizeof(int));
    d->fin_tok = rnn__malloc(sizeof(int32_t) * (size_t)(B * L));
    d->work = rnn__malloc(sizeof(idx_p) * (size_t)d->V);
    if (!d->lp || !d->seq || !d->seq2 || !d->logp || !d->alive || !d->rows || !d->cands ||
        !d->fin || !d->nfin || !d->fin_tok || !d->work)
        return rnn__err(RNN_ERR_NOMEM, "rnn_model_decode", "out of memory allocating %zu bytes",
                        (size_t)(sizeof(float) * (size_t)(B * (d->V + 2 * L))));
    for (int64_t b = 0; b < B; b++)
        d->fin[b].tok = d->fin_tok + b * L;
    return RNN_OK;
}

rnn_status rnn_model_decode(rnn_model *m, const rnn_decode_options *options, int num_inputs,
                            const rnn_tensor *const *inputs, const rnn_tensor *const *lengths,
                            rnn_tensor *tokens, rnn_tensor *out_lengths, rnn_tensor *scores)
{
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(options);
    RNN__CHECK_ARG(tokens);
    rnn_decode_options opts;
    rnn_decode_options_init(&opts);
    rnn_status st = RNN__OPTS_COPY("options", rnn_decode_options, &opts, options, seed);
    int ti = -1;
    if (st || (st = check_decode_options(&opts, m, &ti)))
        return st;
    const rnn_decode_options *o = &opts;
    const rnn_tensor *prefix = NULL;
    int64_t N = 0;
    if ((st = check_decode_args(m, o, ti, num_inputs, inputs, tokens, out_lengths, scores, &prefix,
                                &N)))
        return st;
    const int64_t K = o->strategy == RNN_DECODE_BEAM ? o->beam_width : 1;
    const int64_t B = N * K, L = o->max_length;
    int from_logits = o->from_logits;
    if (from_logits < 0)
        from_logits = m->compiled ? m->loss.from_logits : 0;

    decoder d = {.m = m, .o = o, .N = N, .K = K, .B = B, .L = L, .from_logits = from_logits,
                 .gov = &m->gov[RNN__LOOP_DECODE]};
    rnn__gov_start(d.gov);
    rnn__gov_hold(d.gov); /* the encoder, once, on the current count */
    rnn_tensor *rep[RNN__MAX_IO] = {0}, *rep_len[RNN__MAX_IO] = {0}, *pre = NULL;
    const rnn_tensor *in[RNN__MAX_IO], *ln[RNN__MAX_IO];
    int64_t dims[2] = {B, 1};
    if ((st = rnn_tensor_create(RNN_I32, 2, dims, &d.next)) ||
        (st = decode_inputs(&d, ti, num_inputs, inputs, lengths, prefix, &pre, rep, rep_len, in,
                            ln)))
        goto out;
    if ((st = rnn_model_step_begin(m, ti, num_inputs, in, lengths ? ln : NULL)))
        goto out;
    const rnn_tensor *first = next_output(m, o->output);
    if (first->dtype != RNN_F32 || (first->rank != 2 && first->rank != 3)) {
        st = RNN__ERR(RNN_ERR_SHAPE, "output %d must be next-token scores (N, T, V) or (N, V)",
                      o->output);
        goto end;
    }
    d.V = first->dims[first->rank - 1];
    d.excl_pad = pad_excluded(m, ti);
    if (o->end_token >= d.V || o->start_token >= d.V) {
        st = RNN__ERR(RNN_ERR_INVALID_ARG,
                      "options->start_token (%d) and end_token (%d) must be below the %lld "
                      "classes of output %d",
                      o->start_token, o->end_token, (long long)d.V, o->output);
        goto end;
    }
    if ((st = decoder_alloc(&d)))
        goto end;
    int32_t *tok = tokens->data;
    /* Results the caller did not ask for still need somewhere to go. */
    float *sc_buf = scores ? NULL : rnn__malloc(sizeof(float) * (size_t)N);
    int32_t *len_buf = out_lengths ? NULL : rnn__malloc(sizeof(int32_t) * (size_t)N);
    if ((!scores && !sc_buf) || (!out_lengths && !len_buf)) {
        rnn__free(sc_buf);
        rnn__free(len_buf);
        st = RNN__NOMEM(8 * (size_t)N);
        goto end;
    }
    float *sc = scores ? scores->data : sc_buf;
    int32_t *lens = out_lengths ? out_lengths->data : len_buf;
    const int32_t pad = o->end_token >= 0 ? o->end_token : 0;
    for (int64_t i = 0; i < N * L; i++)
        tok[i] = pad;
    st = K > 1 || o->strategy == RNN_DECODE_BEAM ? run_beam(&d, tok, lens, sc)
                                                 : run_simple(&d, tok, lens, sc);
    if (!st)
        for (int64_t n = 0; n < N; n++) /* padding after the result */
            for (int64_t t = lens[n]; t < L; t++)
                tok[n * L + t] = pad;
    rnn__free(sc_buf);
    rnn__free(len_buf);
end:
    rnn_model_step_end(m);
out:
    for (int i = 0; i < RNN__MAX_IO; i++) {
        rnn_tensor_destroy(rep[i]);
        rnn_tensor_destroy(rep_len[i]);
    }
    rnn_tensor_destroy(pre);
    decoder_free(&d);
    rnn__gov_stop(d.gov);
    return st ? RNN__PASS(st) : RNN_OK;
}

/* ------------------------------------------------------------ scheduled sampling */

rnn_status rnn_model_scheduled_sampling(rnn_model *m, int token_input, int output,
                                        float probability, uint64_t seed, int num_inputs,
                                        const rnn_tensor *const *inputs,
                                        const rnn_tensor *const *lengths, rnn_tensor *mixed)
{
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(inputs);
    RNN__CHECK_ARG(mixed);
    rnn_status st;
    if ((st = rnn__check_token_input(__func__, m, token_input)))
        return st;
    if (!(probability >= 0.0f && probability <= 1.0f))
        return RNN__ERR(RNN_ERR_INVALID_ARG, "probability must be in [0, 1] (got %g)",
                        (double)probability);
    const int n_out = rnn__model_num_outputs(m);
    if (output < 0 || output >= n_out)
        return RNN__ERR(RNN_ERR_RANGE, "output must be in [0, %d) (got %d)", n_out, output);
    if (num_inputs != m->n_inputs)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "num_inputs must be %d for this model (got %d)",
                        m->n_inputs, num_inputs);
    const rnn_tensor *x = inputs[token_input];
    if (!x)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "inputs[%d] must not be NULL", token_input);
    if (mixed->dtype != RNN_I32 || mixed->rank != x->rank || mixed->numel != x->numel ||
        (x->rank == 2 && mixed->dims[1] != x->dims[1]))
        return RNN__ERR(RNN_ERR_SHAPE, "mixed must be RNN_I32 shaped as inputs[%d]", token_input);
    if ((st = rnn_model_forward(m, num_inputs, inputs, lengths, 0)))
        return RNN__PASS(st);
    const rnn_tensor *out = next_output(m, output);
    const int64_t N = x->dims[0], T = x->dims[1];
    if (out->rank != 3 || out->dims[1] != T)
        return RNN__ERR(RNN_ERR_SHAPE, "output %d must be per-step scores (N, %lld, V)", output,
                        (long long)T);
    const int64_t V = out->dims[2];
    const int excl = pad_excluded(m, token_input);
    const int32_t *len = lengths && lengths[token_input] ? lengths[token_input]->data : NULL;
    const int32_t *src = x->data;
    int32_t *dst = mixed->data;
    rnn__rng rng;
    rnn__rng_seed(&rng, seed);
    memmove(dst, src, sizeof(int32_t) * (size_t)(N * T));
    for (int64_t n = 0; n < N; n++) {
        const int64_t Ln = len ? len[n] : T;
        for (int64_t t = 1; t < Ln; t++) {
            if (!(rnn__rng_uniform(&rng) < (double)probability))
                continue;
            const float *p = (const float *)out->data + (n * T + t - 1) * V;
            int64_t best = excl;
            for (int64_t v = excl + 1; v < V; v++)
                if (p[v] > p[best])
                    best = v;
            dst[n * T + t] = (int32_t)best;
        }
    }
    return RNN_OK;
}
