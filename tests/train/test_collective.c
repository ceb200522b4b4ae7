/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Data-parallel training through rnn/collective.h, without MPI: the ranks
 * are threads of this process, each with its own model, joined by a
 * shared-memory collective (a blocking allreduce that sums in rank order,
 * so every rank gets the same bits). Checked against one model trained
 * alone on whole batches:
 *  - rnn_model_train_step on half a batch per rank (Embedding + masking,
 *    bidirectional LSTM, per-step softmax, masked mean loss, SGD with
 *    momentum and Adam): the weights after K steps equal one process's;
 *  - rnn_model_fit on the same in-memory data on 2 and 3 ranks (shuffle,
 *    length bucketing, uneven last batch, validation split, plain mean loss
 *    over padded steps): the same weights and figures on every rank as alone;
 *  - iterators of different lengths per rank end the epoch together;
 *  - a callback's stop on one rank (mid-epoch, or after an epoch's last
 *    batch) stops every rank after the same batch, with one process's
 *    weights, figures and learning rate, without a sum per batch of its
 *    own; the voided step leaves the dropout generator where it was;
 *  - a failure on one rank (different data, a NaN input) fails every rank at
 *    the same point, weights unchanged; bad collectives are refused.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>

#include "../unit/test_util.h"

/* ------------------------------------------------------------ the engine */

enum { MAXR = 4 };

typedef struct shm {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size, arrived;
    unsigned gen;
    void *slot[MAXR];
    int calls[MAXR]; /* allreduce calls per rank */
    int fail_rank;   /* a rank whose next allreduce fails (-1: none) */
} shm;

typedef struct rank_ctx {
    shm *s;
    int rank;
} rank_ctx;

static void barrier(shm *s)
{
    pthread_mutex_lock(&s->mu);
    const unsigned g = s->gen;
    if (++s->arrived == s->size) {
        s->arrived = 0;
        s->gen++;
        pthread_cond_broadcast(&s->cv);
    } else {
        while (g == s->gen)
            pthread_cond_wait(&s->cv, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

static int sh_allreduce(void *user, float *data, int64_t count, void **request)
{
    rank_ctx *c = user;
    shm *s = c->s;
    *request = NULL;
    s->calls[c->rank]++;
    float *sum = malloc(sizeof(float) * (size_t)count);
    if (!sum)
        return 1;
    s->slot[c->rank] = data;
    barrier(s);
    for (int64_t i = 0; i < count; i++) {
        float v = 0.0f;
        for (int r = 0; r < s->size; r++)
            v += ((const float *)s->slot[r])[i];
        sum[i] = v;
    }
    barrier(s);
    memcpy(data, sum, sizeof(float) * (size_t)count);
    free(sum);
    return 0;
}

static int sh_wait(void *user, void *request)
{
    (void)user;
    (void)request;
    return 0;
}

static int sh_broadcast(void *user, void *data, int64_t bytes, int root)
{
    rank_ctx *c = user;
    shm *s = c->s;
    s->slot[c->rank] = data;
    barrier(s);
    if (c->rank != root)
        memcpy(data, s->slot[root], (size_t)bytes);
    barrier(s);
    return 0;
}

static rnn_collective collective_of(rank_ctx *c)
{
    rnn_collective k = {sizeof k, c, c->rank, c->s->size, 0, sh_allreduce, sh_wait,
                        sh_broadcast, NULL};
    return k;
}

/* ------------------------------------------------------------ data, model */

enum { V = 14, C = 5, S = 30, TMAX = 9 };

static uint64_t rs;
static int rnd(int n)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (int)((rs >> 33) % (uint64_t)n);
}

static void *D(const rnn_tensor *t)
{
    const void *p;
    rnn_tensor_data_const(t, &p);
    return (void *)p;
}

/* S samples: ids (S, TMAX) right-padded with 0, lengths 2..TMAX, per-step
 * classes (the token mod C, with the previous token's help). */
typedef struct dataset {
    rnn_tensor *x, *len, *y;
} dataset;

static dataset make_data(uint64_t seed)
{
    rs = seed;
    dataset d;
    int64_t xd[2] = {S, TMAX}, ld[1] = {S};
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &d.x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &d.len));
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &d.y));
    int32_t *x = D(d.x), *l = D(d.len), *y = D(d.y);
    memset(x, 0, sizeof(int32_t) * S * TMAX);
    memset(y, 0, sizeof(int32_t) * S * TMAX);
    for (int n = 0; n < S; n++) {
        l[n] = 2 + rnd(TMAX - 1);
        for (int t = 0; t < l[n]; t++) {
            x[n * TMAX + t] = 1 + rnd(V - 1);
            y[n * TMAX + t] = (x[n * TMAX + t] + (t ? x[n * TMAX + t - 1] : 0)) % C;
        }
    }
    return d;
}

static void free_data(dataset *d)
{
    rnn_tensor_destroy(d->x);
    rnn_tensor_destroy(d->len);
    rnn_tensor_destroy(d->y);
}

/* The recurrent layer's input dropout in the models make_model builds
 * (0 but in the test of voided steps). */
static float model_dropout;

static rnn_model *make_model(uint64_t seed, rnn_optimizer_type opt, rnn_reduction red)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = seed;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = V, e.output_dim = 6, e.mask_zero = 1;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 8;
    o.return_sequences = 1;
    o.bidirectional = 1;
    o.dropout = model_dropout;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = C, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    c.reduction = red;
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, opt);
    oo.learning_rate = opt == RNN_OPTIM_SGD ? 0.2f : 0.01f;
    oo.momentum = 0.9f;
    ck_ok(rnn_model_compile(m, &c, &oo));
    return m;
}

/* Largest relative difference between two models of the same architecture,
 * tensor by tensor: max |a - b| over the tensor's largest |a| (float
 * rounding in the gradient sums moves a weight by a few ulps of the
 * tensor's scale, however small the weight itself is). */
static double weights_diff(rnn_model *a, rnn_model *b)
{
    double worst = 0.0;
    int n;
    ck_ok(rnn_model_num_layers(a, &n));
    for (int i = 0; i < n; i++) {
        rnn_layer *la, *lb;
        ck_ok(rnn_model_layer(a, i, &la));
        ck_ok(rnn_model_layer(b, i, &lb));
        int np;
        ck_ok(rnn_layer_num_params(la, &np));
        for (int p = 0; p < np; p++) {
            rnn_tensor *ta, *tb;
            ck_ok(rnn_layer_param(la, p, NULL, &ta, NULL));
            ck_ok(rnn_layer_param(lb, p, NULL, &tb, NULL));
            int64_t k;
            rnn_tensor_numel(ta, &k);
            const float *va = D(ta), *vb = D(tb);
            double scale = 0.0, diff = 0.0;
            for (int64_t j = 0; j < k; j++) {
                scale = fmax(scale, fabs(va[j]));
                diff = fmax(diff, fabs((double)va[j] - vb[j]));
            }
            if (diff > 0.0)
                worst = fmax(worst, diff / fmax(scale, 1e-30));
        }
    }
    return worst;
}

/* Rows [lo, hi) of a dataset, as new tensors (hi > lo). */
static dataset rows(const dataset *d, int64_t lo, int64_t hi)
{
    dataset r;
    int64_t xd[2] = {hi - lo, TMAX}, ld[1] = {hi - lo};
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &r.x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &r.len));
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &r.y));
    memcpy(D(r.x), (int32_t *)D(d->x) + lo * TMAX, sizeof(int32_t) * (size_t)((hi - lo) * TMAX));
    memcpy(D(r.y), (int32_t *)D(d->y) + lo * TMAX, sizeof(int32_t) * (size_t)((hi - lo) * TMAX));
    memcpy(D(r.len), (int32_t *)D(d->len) + lo, sizeof(int32_t) * (size_t)(hi - lo));
    return r;
}

/* ------------------------------------------------------------ ranks */

typedef struct job job;
typedef void (*rank_fn)(job *j, int rank, rnn_model *m);

struct job {
    shm s;
    rank_ctx ctx[MAXR];
    rnn_model *model[MAXR];
    rank_fn fn;
    rnn_optimizer_type opt;
    rnn_reduction red;
    dataset data;
    /* results per rank */
    rnn_status st[MAXR];
    char err[MAXR][600];
    float loss[MAXR], val_loss[MAXR];
    int epochs_run[MAXR];
    int iter_batches[MAXR]; /* iterators: batches this rank's iterator was asked for */
    /* stopping: the rank whose on_batch asks to stop after batch
     * (stop_epoch, stop_batch); what each rank's on_batch saw */
    int stop_rank, stop_epoch, stop_batch;
    int batches_seen[MAXR], last_epoch[MAXR], last_batch[MAXR];
    int stopped_by[MAXR]; /* rnn_fit_result.stop */
    float lr[MAXR];
    int sums_per_epoch[MAXR];
};

/* An SGD job of the given loss reduction on make_data(data_seed). */
static void job_init(job *j, rnn_reduction red, uint64_t data_seed)
{
    memset(j, 0, sizeof *j);
    j->opt = RNN_OPTIM_SGD;
    j->red = red;
    j->data = make_data(data_seed);
}

typedef struct targ {
    job *j;
    int rank;
} targ;

static void *rank_main(void *p)
{
    targ *a = p;
    job *j = a->j;
    rnn_model *m = make_model(100 + (uint64_t)a->rank, j->opt, j->red); /* rank 0's weights win */
    j->model[a->rank] = m;
    rnn_collective c = collective_of(&j->ctx[a->rank]);
    ck_ok(rnn_model_set_collective(m, &c));
    j->fn(j, a->rank, m);
    snprintf(j->err[a->rank], sizeof j->err[a->rank], "%s", rnn_last_error());
    return NULL;
}

/* Runs fn on `size` ranks (threads); their models stay in j->model[]. */
static void run_ranks(job *j, int size, rank_fn fn)
{
    pthread_mutex_init(&j->s.mu, NULL);
    pthread_cond_init(&j->s.cv, NULL);
    j->s.size = size;
    j->s.fail_rank = -1;
    j->fn = fn;
    pthread_t t[MAXR];
    targ a[MAXR];
    for (int r = 0; r < size; r++) {
        j->ctx[r] = (rank_ctx){&j->s, r};
        a[r] = (targ){j, r};
        ck_assert_int_eq(pthread_create(&t[r], NULL, rank_main, &a[r]), 0);
    }
    for (int r = 0; r < size; r++)
        pthread_join(t[r], NULL);
}

static void free_ranks(job *j, int size)
{
    for (int r = 0; r < size; r++)
        rnn_model_destroy(j->model[r]);
    pthread_mutex_destroy(&j->s.mu);
    pthread_cond_destroy(&j->s.cv);
}

/* Rank r's weights (of size) are within 1e-6 of alone's (printed under what). */
static void check_weights(job *j, int r, int size, rnn_model *alone, const char *what)
{
    const double dw = weights_diff(j->model[r], alone);
    printf("%s, rank %d of %d: weights within %.3g of one process's\n", what, r, size, dw);
    ck_assert_msg(dw <= 1e-6, "%s, rank %d of %d: weights differ from one process's by %.3g",
                  what, r, size, dw);
}

/* Frees the ranks' models, alone (may be NULL) and the job's data. */
static void job_free(job *j, int size, rnn_model *alone)
{
    free_ranks(j, size);
    rnn_model_destroy(alone);
    free_data(&j->data);
}

/* ------------------------------------------------------------ train_step */

enum { K = 5, BATCH = 10 };

static void steps_rank(job *j, int rank, rnn_model *m)
{
    const int size = j->s.size;
    for (int k = 0; k < K; k++) {
        const int64_t b0 = (int64_t)k * BATCH % (S - BATCH + 1);
        const int64_t lo = b0 + BATCH * rank / size, hi = b0 + BATCH * (rank + 1) / size;
        dataset r = rows(&j->data, lo, hi);
        const rnn_tensor *x = r.x, *len = r.len;
        j->st[rank] = rnn_model_train_step(m, 1, &x, &len, r.y, &j->loss[rank], NULL);
        free_data(&r);
        if (j->st[rank])
            return;
    }
}

static rnn_model *steps_alone(const dataset *d, rnn_optimizer_type opt, float *loss)
{
    rnn_model *m = make_model(100, opt, RNN_REDUCTION_MASKED_MEAN);
    for (int k = 0; k < K; k++) {
        const int64_t b0 = (int64_t)k * BATCH % (S - BATCH + 1);
        dataset r = rows(d, b0, b0 + BATCH);
        const rnn_tensor *x = r.x, *len = r.len;
        ck_ok(rnn_model_train_step(m, 1, &x, &len, r.y, loss, NULL));
        free_data(&r);
    }
    return m;
}

static void check_steps(rnn_optimizer_type opt)
{
    job j;
    memset(&j, 0, sizeof j);
    j.opt = opt;
    j.red = RNN_REDUCTION_MASKED_MEAN;
    j.data = make_data(7);
    float loss_alone;
    rnn_model *alone = steps_alone(&j.data, opt, &loss_alone);
    run_ranks(&j, 2, steps_rank);
    for (int r = 0; r < 2; r++) {
        ck_assert_msg(j.st[r] == RNN_OK, "rank %d: %s", r, j.err[r]);
        ck_assert_msg(fabsf(j.loss[r] - loss_alone) <= 1e-5f * fabsf(loss_alone),
                      "rank %d loss %.9g, alone %.9g", r, (double)j.loss[r], (double)loss_alone);
        const double dw = weights_diff(j.model[r], alone);
        printf("train_step, optimizer %d, rank %d of 2: weights within %.3g of one process's\n",
               (int)opt, r, dw);
        ck_assert_msg(dw <= 1e-6, "rank %d: weights differ from one process's by %.3g", r, dw);
    }
    ck_assert_msg(weights_diff(j.model[0], j.model[1]) == 0.0, "the ranks' weights differ");
    job_free(&j, 2, alone);
}

START_TEST(train_step_sgd_momentum)
{
    check_steps(RNN_OPTIM_SGD);
}
END_TEST

START_TEST(train_step_adam)
{
    check_steps(RNN_OPTIM_ADAM);
}
END_TEST

/* ------------------------------------------------------------ fit */

static rnn_fit_options fit_opts(void)
{
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.batch_size = 7; /* 24 training samples: batches of 7, 7, 7, 3 */
    o.epochs = 2;
    o.seed = 3;
    o.shuffle = 1;
    o.bucket_batches = 2;
    o.validation_split = 0.2f;
    return o;
}

static rnn_data data_of(const dataset *d)
{
    rnn_data t;
    rnn_data_init(&t);
    t.x = d->x;
    t.lengths = d->len;
    t.targets = d->y;
    return t;
}

static void fit_rank(job *j, int rank, rnn_model *m)
{
    rnn_fit_options o = fit_opts();
    rnn_data t = data_of(&j->data);
    rnn_fit_result res;
    res.struct_size = sizeof res;
    j->st[rank] = rnn_model_fit(m, &t, &o, &res);
    j->loss[rank] = res.last.loss;
    j->val_loss[rank] = res.last.val_loss;
    j->epochs_run[rank] = res.epochs_run;
}

static void check_fit(int size, rnn_reduction red)
{
    job j;
    job_init(&j, red, 11);
    rnn_model *alone = make_model(100, j.opt, red);
    rnn_fit_options o = fit_opts();
    rnn_data t = data_of(&j.data);
    rnn_fit_result res;
    res.struct_size = sizeof res;
    ck_ok(rnn_model_fit(alone, &t, &o, &res));
    run_ranks(&j, size, fit_rank);
    for (int r = 0; r < size; r++) {
        ck_assert_msg(j.st[r] == RNN_OK, "rank %d: %s", r, j.err[r]);
        ck_assert_int_eq(j.epochs_run[r], res.epochs_run);
        ck_assert_msg(fabsf(j.loss[r] - res.last.loss) <= 1e-5f * fabsf(res.last.loss) &&
                          fabsf(j.val_loss[r] - res.last.val_loss) <=
                              1e-5f * fabsf(res.last.val_loss),
                      "rank %d of %d: loss %.9g val_loss %.9g, alone %.9g %.9g", r, size,
                      (double)j.loss[r], (double)j.val_loss[r], (double)res.last.loss,
                      (double)res.last.val_loss);
        ck_assert_msg(j.loss[r] == j.loss[0] && j.val_loss[r] == j.val_loss[0],
                      "rank %d reports other figures than rank 0", r);
        check_weights(&j, r, size, alone, "fit");
    }
    job_free(&j, size, alone);
}

START_TEST(fit_two_ranks_masked_mean)
{
    check_fit(2, RNN_REDUCTION_MASKED_MEAN);
}
END_TEST

START_TEST(fit_three_ranks_mean_over_padded_steps)
{
    check_fit(3, RNN_REDUCTION_MEAN);
}
END_TEST

/* ------------------------------------------------------------ iterators */

typedef struct iter {
    dataset parts[4];
    int n;
    int asked; /* batches asked for: the highest index + 1 */
} iter;

static int iter_next(void *user, int epoch, int64_t batch, const rnn_tensor **x,
                     const rnn_tensor **len, const rnn_tensor **y)
{
    (void)epoch;
    iter *it = user;
    it->asked = batch + 1 > it->asked ? (int)batch + 1 : it->asked;
    if (batch >= it->n)
        return 0;
    *x = it->parts[batch].x;
    *len = it->parts[batch].len;
    *y = it->parts[batch].y;
    return 1;
}

/* 2 epochs over an iterator: rank 0's gives 3 batches of 4, rank 1's 1;
 * on_batch (may be NULL) with user. */
static void iter_fit(job *j, int rank, rnn_model *m, rnn_batch_callback on_batch, void *user)
{
    iter it = {.n = rank == 0 ? 3 : 1};
    for (int b = 0; b < it.n; b++)
        it.parts[b] = rows(&j->data, 4 * (2 * b + rank), 4 * (2 * b + rank) + 4);
    rnn_data t;
    rnn_data_init(&t);
    t.next = iter_next;
    t.user = &it;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 2;
    o.on_batch = on_batch;
    o.user = user;
    rnn_fit_result res;
    res.struct_size = sizeof res;
    j->st[rank] = rnn_model_fit(m, &t, &o, &res);
    j->loss[rank] = res.last.loss;
    j->epochs_run[rank] = res.epochs_run;
    j->stopped_by[rank] = (int)res.stop;
    j->iter_batches[rank] = it.asked;
    for (int b = 0; b < it.n; b++)
        free_data(&it.parts[b]);
}

static void iter_rank(job *j, int rank, rnn_model *m)
{
    iter_fit(j, rank, m, NULL, NULL);
}

START_TEST(iterators_of_different_lengths)
{
    job j;
    job_init(&j, RNN_REDUCTION_MASKED_MEAN, 5);
    run_ranks(&j, 2, iter_rank);
    for (int r = 0; r < 2; r++) {
        ck_assert_msg(j.st[r] == RNN_OK, "rank %d: %s", r, j.err[r]);
        ck_assert_int_eq(j.epochs_run[r], 2);
        ck_assert(isfinite(j.loss[r]) && j.loss[r] == j.loss[0]);
    }
    ck_assert_msg(weights_diff(j.model[0], j.model[1]) == 0.0, "the ranks' weights differ");
    job_free(&j, 2, NULL);
}
END_TEST

/* ------------------------------------------------------------ failures */

/* Rank 1 passes fewer samples: every rank refuses to start. */
static void fit_mismatch_rank(job *j, int rank, rnn_model *m)
{
    dataset part = rows(&j->data, 0, rank == 1 ? S - 1 : S);
    rnn_fit_options o = fit_opts();
    rnn_data t = data_of(&part);
    j->st[rank] = rnn_model_fit(m, &t, &o, NULL);
    free_data(&part);
}

START_TEST(fit_refuses_different_data)
{
    job j;
    job_init(&j, RNN_REDUCTION_MASKED_MEAN, 5);
    run_ranks(&j, 2, fit_mismatch_rank);
    ck_assert_int_eq(j.st[0], RNN_ERR_COLLECTIVE);
    ck_assert_msg(strstr(j.err[0], "rnn_model_fit: ") && strstr(j.err[0], "other") == NULL &&
                      strstr(j.err[0], "failed on 1 of the 2 ranks"),
                  "rank 0: %s", j.err[0]);
    ck_assert_int_eq(j.st[1], RNN_ERR_INVALID_ARG);
    ck_assert_msg(strstr(j.err[1], "the in-memory training samples differ: 29 on rank 1, 30 on "
                                   "rank 0"),
                  "rank 1: %s", j.err[1]);
    job_free(&j, 2, NULL);
}
END_TEST

/* Rank 1's second step holds a NaN-making input: a token id out of range. */
static void bad_step_rank(job *j, int rank, rnn_model *m)
{
    for (int k = 0; k < 2; k++) {
        dataset r = rows(&j->data, 4 * rank, 4 * rank + 4);
        if (k == 1 && rank == 1)
            ((int32_t *)D(r.x))[0] = V + 3;
        const rnn_tensor *x = r.x, *len = r.len;
        j->st[rank] = rnn_model_train_step(m, 1, &x, &len, r.y, &j->loss[rank], NULL);
        free_data(&r);
        if (j->st[rank])
            return;
    }
}

START_TEST(a_failing_rank_fails_every_rank)
{
    job j;
    job_init(&j, RNN_REDUCTION_MASKED_MEAN, 5);
    run_ranks(&j, 2, bad_step_rank);
    ck_assert_msg(j.st[0] == RNN_ERR_COLLECTIVE && strstr(j.err[0], "1 other rank"),
                  "rank 0: %d %s", (int)j.st[0], j.err[0]);
    ck_assert_msg(j.st[1] == RNN_ERR_RANGE || j.st[1] == RNN_ERR_INVALID_ARG,
                  "rank 1: %d %s", (int)j.st[1], j.err[1]);
    ck_assert_msg(strstr(j.err[1], "rnn_model_train_step"), "rank 1: %s", j.err[1]);
    /* no update from the failed step: both still hold the first step's weights */
    ck_assert_msg(weights_diff(j.model[0], j.model[1]) == 0.0, "the ranks' weights differ");
    job_free(&j, 2, NULL);
}
END_TEST

/* ------------------------------------------------------------ stopping */

/* Rank stop_rank's on_batch_stop asks to stop after batch (epoch, batch). */
static void stop_at(job *j, int stop_rank, int epoch, int batch)
{
    j->stop_rank = stop_rank;
    j->stop_epoch = epoch;
    j->stop_batch = batch;
}

typedef struct stop_ctx {
    job *j;
    int rank;
} stop_ctx;

static int on_batch_stop(void *user, const rnn_batch_log *log)
{
    stop_ctx *c = user;
    job *j = c->j;
    j->batches_seen[c->rank]++;
    j->last_epoch[c->rank] = log->epoch;
    j->last_batch[c->rank] = (int)log->batch;
    return c->rank == j->stop_rank && log->epoch == j->stop_epoch &&
           log->batch == j->stop_batch;
}

/* fit_opts with an exponential schedule (a voided step must leave the rate
 * of the last trained batch) and on_batch_stop. */
static rnn_fit_options stop_opts(stop_ctx *c)
{
    rnn_fit_options o = fit_opts();
    o.epochs = 3;
    o.lr_schedule = RNN_LR_EXPONENTIAL;
    o.decay_steps = 1;
    o.decay_rate = 0.9f;
    o.on_batch = on_batch_stop;
    o.user = c;
    return o;
}

static void stop_rank(job *j, int rank, rnn_model *m)
{
    stop_ctx c = {j, rank};
    rnn_fit_options o = stop_opts(&c);
    rnn_data t = data_of(&j->data);
    rnn_fit_result res;
    res.struct_size = sizeof res;
    j->st[rank] = rnn_model_fit(m, &t, &o, &res);
    j->epochs_run[rank] = res.epochs_run;
    j->stopped_by[rank] = (int)res.stop;
    j->lr[rank] = res.last.learning_rate;
    j->loss[rank] = res.last.loss;
}

/* Rank stop_rank (of size) asks to stop after batch (epoch, batch): every
 * rank's on_batch has seen the same batches, the last being that one, and
 * every rank ends with one process's weights, figures and learning rate
 * when it stops there too. */
static void check_stop(int size, int stop_rank_, int epoch, int batch, int want_epochs)
{
    job j;
    job_init(&j, RNN_REDUCTION_MASKED_MEAN, 13);
    /* one process, stopped by its only callback at the same batch */
    stop_at(&j, 0, epoch, batch);
    rnn_model *alone = make_model(100, j.opt, j.red);
    stop_ctx c = {&j, 0};
    rnn_fit_options o = stop_opts(&c);
    rnn_data t = data_of(&j.data);
    rnn_fit_result res;
    res.struct_size = sizeof res;
    ck_ok(rnn_model_fit(alone, &t, &o, &res));
    ck_assert_int_eq(res.stop, RNN_FIT_CALLBACK);
    ck_assert_int_eq(res.epochs_run, want_epochs);
    const int seen = j.batches_seen[0];
    ck_assert(j.last_epoch[0] == epoch && j.last_batch[0] == batch);
    j.batches_seen[0] = 0;
    j.stop_rank = stop_rank_;
    run_ranks(&j, size, stop_rank);
    for (int r = 0; r < size; r++) {
        ck_assert_msg(j.st[r] == RNN_OK, "rank %d: %s", r, j.err[r]);
        ck_assert_msg(j.batches_seen[r] == seen && j.last_epoch[r] == epoch &&
                          j.last_batch[r] == batch,
                      "rank %d of %d saw %d batches, the last (%d, %d); one process %d, the "
                      "last (%d, %d)",
                      r, size, j.batches_seen[r], j.last_epoch[r], j.last_batch[r], seen, epoch,
                      batch);
        ck_assert_int_eq(j.stopped_by[r], RNN_FIT_CALLBACK);
        ck_assert_int_eq(j.epochs_run[r], want_epochs);
        ck_assert_msg(j.lr[r] == res.last.learning_rate, "rank %d: learning rate %.9g, alone %.9g",
                      r, (double)j.lr[r], (double)res.last.learning_rate);
        ck_assert_msg(fabsf(j.loss[r] - res.last.loss) <= 1e-5f * fabsf(res.last.loss),
                      "rank %d: loss %.9g, alone %.9g", r, (double)j.loss[r],
                      (double)res.last.loss);
        char what[64];
        snprintf(what, sizeof what, "stop on rank %d after epoch %d batch %d", stop_rank_, epoch,
                 batch);
        check_weights(&j, r, size, alone, what);
    }
    job_free(&j, size, alone);
}

START_TEST(a_stop_on_one_rank_mid_epoch_stops_every_rank_after_that_batch)
{
    check_stop(3, 2, 1, 1, 2); /* 24 training samples: batches 0..3 of 7, 7, 7, 3 */
    check_stop(2, 1, 0, 0, 1);
}
END_TEST

START_TEST(a_stop_after_the_last_batch_of_an_epoch_ends_that_epoch)
{
    check_stop(2, 1, 1, 3, 2);
}
END_TEST

/* Iterators agree on a stop after every batch with a sum of their own (one
 * process would not ask its iterator for the next batch): rank 0, whose
 * iterator has 3 batches, stops after its second, while rank 1's iterator
 * ended after one; both saw two batches and stop there, and no iterator is
 * asked for a batch one process would not have asked for. */
static void iter_stop_rank(job *j, int rank, rnn_model *m)
{
    stop_ctx c = {j, rank};
    iter_fit(j, rank, m, on_batch_stop, &c);
}

START_TEST(a_stop_with_iterators_stops_every_rank_after_that_batch)
{
    job j;
    job_init(&j, RNN_REDUCTION_MASKED_MEAN, 5);
    stop_at(&j, 0, 0, 1);
    run_ranks(&j, 2, iter_stop_rank);
    for (int r = 0; r < 2; r++) {
        ck_assert_msg(j.st[r] == RNN_OK, "rank %d: %s", r, j.err[r]);
        ck_assert_msg(j.batches_seen[r] == 2 && j.last_epoch[r] == 0 && j.last_batch[r] == 1,
                      "rank %d saw %d batches, the last (%d, %d)", r, j.batches_seen[r],
                      j.last_epoch[r], j.last_batch[r]);
        ck_assert_int_eq(j.stopped_by[r], RNN_FIT_CALLBACK);
        ck_assert_int_eq(j.epochs_run[r], 1);
    }
    /* rank 0's iterator was not asked for a third batch; rank 1's was asked
     * for its second, the one that told it had ended */
    ck_assert_int_eq(j.iter_batches[0], 2);
    ck_assert_int_eq(j.iter_batches[1], 2);
    ck_assert_msg(weights_diff(j.model[0], j.model[1]) == 0.0, "the ranks' weights differ");
    job_free(&j, 2, NULL);
}
END_TEST

/* A stop wish rides on the next batch's exchange of figures: a training
 * epoch costs 2 + buckets sums per batch (figures; the buckets: Embedding,
 * LSTM, Dense; the failure flag), one per validation batch and one for the
 * epoch's callbacks, and no sum of its own per batch. */
static void sums_rank(job *j, int rank, rnn_model *m)
{
    rnn_fit_options o = fit_opts(); /* 4 training batches, 1 validation batch */
    rnn_data t = data_of(&j->data);
    const int before = j->s.calls[rank];
    o.epochs = 1;
    j->st[rank] = rnn_model_fit(m, &t, &o, NULL);
    const int one = j->s.calls[rank] - before;
    o.epochs = 2;
    if (!j->st[rank])
        j->st[rank] = rnn_model_fit(m, &t, &o, NULL);
    j->sums_per_epoch[rank] = j->s.calls[rank] - before - one - one;
}

START_TEST(the_stop_wish_needs_no_sum_of_its_own)
{
    job j;
    job_init(&j, RNN_REDUCTION_MASKED_MEAN, 11);
    run_ranks(&j, 2, sums_rank);
    for (int r = 0; r < 2; r++) {
        ck_assert_msg(j.st[r] == RNN_OK, "rank %d: %s", r, j.err[r]);
        ck_assert_int_eq(j.sums_per_epoch[r], 4 * (2 + 3) + 1 + 1);
    }
    job_free(&j, 2, NULL);
}
END_TEST

/* The voided step's forward drew dropout masks: the model's generator goes
 * back, so that the training after the stop draws what one process draws
 * (a collective of size 1 computes what one process does). */
static void void_rng_rank(job *j, int rank, rnn_model *m)
{
    stop_ctx c = {j, rank};
    rnn_fit_options o = stop_opts(&c);
    rnn_data t = data_of(&j->data);
    j->st[rank] = rnn_model_fit(m, &t, &o, NULL);
    o.on_batch = NULL;
    o.epochs = 1;
    if (!j->st[rank])
        j->st[rank] = rnn_model_fit(m, &t, &o, NULL);
}

START_TEST(a_voided_step_leaves_the_dropout_generator_alone)
{
    job j;
    job_init(&j, RNN_REDUCTION_MASKED_MEAN, 17);
    stop_at(&j, 0, 0, 1);
    model_dropout = 0.3f;
    rnn_model *alone = make_model(100, j.opt, j.red);
    void_rng_rank(&j, 0, alone);
    ck_assert_msg(j.st[0] == RNN_OK, "alone: %s", rnn_last_error());
    run_ranks(&j, 1, void_rng_rank);
    model_dropout = 0.0f;
    ck_assert_msg(j.st[0] == RNN_OK, "rank 0: %s", j.err[0]);
    const double dw = weights_diff(j.model[0], alone);
    printf("dropout, stopped after a voided step and trained on: weights within %.3g of one "
           "process's\n", dw);
    ck_assert_msg(dw <= 1e-6, "weights differ from one process's by %.3g", dw);
    job_free(&j, 1, alone);
}
END_TEST

START_TEST(bad_collectives_are_refused)
{
    rnn_model *m = make_model(1, RNN_OPTIM_SGD, RNN_REDUCTION_MEAN);
    shm s;
    memset(&s, 0, sizeof s);
    s.size = 1;
    rank_ctx c = {&s, 0};
    rnn_collective k = collective_of(&c);
    k.struct_size = 8;
    ck_rnn(rnn_model_set_collective(m, &k), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_set_collective: collective->struct_size must be sizeof(rnn_collective)");
    k = collective_of(&c);
    k.rank = 2;
    k.size = 2;
    ck_rnn(rnn_model_set_collective(m, &k), RNN_ERR_INVALID_ARG);
    ck_errmsg("rank must be in [0, size) and size >= 1 (got rank 2, size 2)");
    k = collective_of(&c);
    k.wait = NULL;
    ck_rnn(rnn_model_set_collective(m, &k), RNN_ERR_INVALID_ARG);
    ck_errmsg("collective->wait must not be NULL");
    k = collective_of(&c);
    k.flags = 6;
    ck_rnn(rnn_model_set_collective(m, &k), RNN_ERR_INVALID_ARG);
    ck_errmsg("unknown bits (got 0x6)");
    ck_rnn(rnn_model_sync_weights(m), RNN_ERR_STATE);
    int rank = -1, size = -1;
    ck_ok(rnn_model_collective_rank(m, &rank, &size));
    ck_assert(rank == 0 && size == 1);
    /* a size-1 collective: attached, then detached */
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    k = collective_of(&c);
    ck_ok(rnn_model_set_collective(m, &k));
    ck_ok(rnn_model_sync_weights(m));
    ck_ok(rnn_model_set_collective(m, NULL));
    ck_rnn(rnn_model_sync_weights(m), RNN_ERR_STATE);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
    rnn_model_destroy(m);
}
END_TEST

int main(void)
{
    rnn_set_thread_policy(RNN_THREADS_FIXED);
    rnn_set_num_threads(1);
    Suite *s = suite_create("collective");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, train_step_sgd_momentum);
    tcase_add_test(tc, train_step_adam);
    tcase_add_test(tc, fit_two_ranks_masked_mean);
    tcase_add_test(tc, fit_three_ranks_mean_over_padded_steps);
    tcase_add_test(tc, iterators_of_different_lengths);
    tcase_add_test(tc, fit_refuses_different_data);
    tcase_add_test(tc, a_failing_rank_fails_every_rank);
    tcase_add_test(tc, a_stop_on_one_rank_mid_epoch_stops_every_rank_after_that_batch);
    tcase_add_test(tc, a_stop_after_the_last_batch_of_an_epoch_ends_that_epoch);
    tcase_add_test(tc, a_stop_with_iterators_stops_every_rank_after_that_batch);
    tcase_add_test(tc, the_stop_wish_needs_no_sum_of_its_own);
    tcase_add_test(tc, a_voided_step_leaves_the_dropout_generator_alone);
    tcase_add_test(tc, bad_collectives_are_refused);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
