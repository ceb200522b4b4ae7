/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rnn_model_fit / evaluate / predict through the public API:
 *  - the long-range task (class = first token of a 6..21 step sequence) over
 *    an in-memory dataset with a validation split must reach >= 95% on
 *    held-out data, with a best checkpoint that loads and predicts the same;
 *  - length bucketing cuts batches to their longest sample (the input seen
 *    by the model is much shorter in total) and still trains;
 *  - learning-rate schedules follow their formulas step by step / epoch by
 *    epoch; early stopping stops and restores the best weights; callbacks
 *    stop training; an iterator dataset trains and evaluates as well;
 *  - predict equals per-sample forwards; same seed, same history;
 *  - bad data and options give clear errors; a NaN stops with
 *    RNN_ERR_NUMERIC naming the epoch and batch;
 *  - fit never prints (verbose included: its lines go to the log callback),
 *    and on_progress reports consistent figures: batch counts 1, 2, ... up
 *    to the epoch's batches, one end-of-epoch report last, equal to on_epoch's;
 *  - mean squared error has no accuracy: NaN in the figures, and none in
 *    verbose's line (no "accuracy nan").
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/test_util.h"

static uint64_t rs;
static int rnd(int n)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (int)((rs >> 33) % (uint64_t)n);
}

static void *D(const rnn_tensor *t)
{
    void *p;
    rnn_tensor_data((rnn_tensor *)t, &p);
    return p;
}

enum { V = 12, TMAX = 21 };

/* S samples of the long-range task with explicit lengths (no mask_zero). */
typedef struct dataset {
    rnn_tensor *x, *len, *y;
    rnn_data d;
} dataset;

static void make_data(dataset *ds, int64_t S, uint64_t seed)
{
    rs = seed;
    int64_t xd[2] = {S, TMAX}, yd[1] = {S};
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &ds->x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &ds->len));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &ds->y));
    int32_t *x = D(ds->x), *l = D(ds->len), *y = D(ds->y);
    for (int64_t n = 0; n < S; n++) {
        int c = rnd(2), L = 6 + rnd(16);
        y[n] = c;
        l[n] = L;
        x[n * TMAX] = 1 + c;
        for (int t = 1; t < TMAX; t++)
            x[n * TMAX + t] = t < L ? 3 + rnd(V - 3) : 0;
    }
    rnn_data_init(&ds->d);
    ds->d.x = ds->x, ds->d.lengths = ds->len, ds->d.targets = ds->y;
}

static void free_data(dataset *ds)
{
    rnn_tensor_destroy(ds->x);
    rnn_tensor_destroy(ds->len);
    rnn_tensor_destroy(ds->y);
}

static rnn_model *make_model(uint64_t seed, float lr)
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
    e.input_dim = V, e.output_dim = 8;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 16;
    ck_ok(rnn_model_add_recurrent(m, &o, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2, d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    oo.learning_rate = lr;
    ck_ok(rnn_model_compile(m, &c, &oo));
    return m;
}

/* Records per-batch input lengths and learning rates. */
typedef struct rec {
    rnn_model *m;
    int64_t batches, steps_seen;
    int64_t max_batch_mismatch; /* batches whose T exceeds their longest sample */
    float lr[256];
    int64_t n_lr;
    float epoch_lr[32];
    float epoch_loss[32];
    int stop_after_batches;
} rec;

static int on_batch(void *user, const rnn_batch_log *log)
{
    rec *r = user;
    rnn_layer *in;
    const rnn_tensor *x;
    rnn_model_layer(r->m, 0, &in);
    int64_t steps = 0;
    if (rnn_layer_output(in, 0, &x) == RNN_OK && rnn_tensor_dim(x, 1, &steps) == RNN_OK)
        r->steps_seen += steps;
    if (r->n_lr < 256)
        r->lr[r->n_lr++] = log->learning_rate;
    r->batches++;
    return r->stop_after_batches && r->batches >= r->stop_after_batches;
}

static int on_epoch(void *user, const rnn_epoch_log *log)
{
    rec *r = user;
    if (log->epoch < 32) {
        r->epoch_lr[log->epoch] = log->learning_rate;
        r->epoch_loss[log->epoch] = log->loss;
    }
    return 0;
}

START_TEST(fit_validation_split_checkpoint_predict)
{
    dataset ds;
    make_data(&ds, 1500, 1);
    rnn_model *m = make_model(7, 0.01f);
    char path[] = "/tmp/librnn-fit-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 8;
    o.validation_split = 0.2f;
    o.monitor = RNN_MONITOR_VAL_LOSS;
    o.checkpoint_path = path;
    o.seed = 3;
    rnn_fit_result r = {.struct_size = sizeof r};
    ck_ok(rnn_model_fit(m, &ds.d, &o, &r));
    printf("fit: %d epochs, val_accuracy %.3f (best val_loss %.4f at %d), loss %.4f, ppl %.4f\n",
           r.epochs_run, r.last.val_accuracy, r.best_value, r.best_epoch, r.last.loss,
           r.last.perplexity);
    ck_assert_int_eq(r.epochs_run, 8);
    ck_assert_int_eq(r.stop, RNN_FIT_COMPLETED);
    ck_assert_msg(r.last.val_accuracy >= 0.95f, "validation accuracy %.3f < 0.95",
                  r.last.val_accuracy);
    ck_assert(r.best_epoch >= 0 && r.best_value == r.best_value);
    ck_assert(fabsf(r.last.perplexity - expf(r.last.loss)) < 1e-3f * r.last.perplexity);

    /* Held-out data through evaluate; the checkpoint loads and predicts the same
     * as the model at its best epoch (the last one when it was the best). */
    dataset te;
    make_data(&te, 300, 99);
    rnn_eval_result ev = {.struct_size = sizeof ev};
    ck_ok(rnn_model_evaluate(m, &te.d, 64, &ev));
    ck_assert_int_eq(ev.samples, 300);
    ck_assert_msg(ev.accuracy >= 0.95f, "held-out accuracy %.3f", ev.accuracy);
    rnn_tensor *p1 = NULL, *p2 = NULL;
    ck_ok(rnn_model_predict(m, &te.d, 64, &p1));
    int64_t dims[RNN_MAX_RANK];
    int rank;
    ck_ok(rnn_tensor_shape(p1, dims, RNN_MAX_RANK, &rank));
    ck_assert_int_eq(rank, 2);
    ck_assert_int_eq(dims[0], 300);
    ck_assert_int_eq(dims[1], 2);
    /* predict == one forward per sample at its own length */
    const float *pp = D(p1);
    for (int n = 0; n < 300; n += 37) {
        int64_t xd[2] = {1, TMAX}, ld[1] = {1};
        rnn_tensor *x1, *l1;
        ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &x1));
        ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &l1));
        memcpy(D(x1), (int32_t *)D(te.x) + n * TMAX, sizeof(int32_t) * TMAX);
        ((int32_t *)D(l1))[0] = ((int32_t *)D(te.len))[n];
        const rnn_tensor *in[1] = {x1}, *li[1] = {l1}, *out;
        ck_ok(rnn_model_forward(m, 1, in, li, 0));
        ck_ok(rnn_model_output(m, 0, &out));
        for (int c = 0; c < 2; c++)
            ck_assert_msg(fabsf(((float *)D(out))[c] - pp[n * 2 + c]) < 1e-5f,
                          "sample %d class %d: %g vs %g", n, c, ((float *)D(out))[c],
                          pp[n * 2 + c]);
        rnn_tensor_destroy(x1);
        rnn_tensor_destroy(l1);
    }
    rnn_model *ld;
    ck_ok(rnn_model_load(path, NULL, &ld));
    /* The same batch size runs the same primitives on the same weights: the
     * same bits. Another batch size may block the products differently
     * (oneDNN 3.x does): equal to rounding. */
    rnn_tensor *p3 = NULL;
    ck_ok(rnn_model_predict(ld, &te.d, 64, &p2));
    ck_ok(rnn_model_predict(ld, &te.d, 100, &p3));
    if (r.best_epoch == r.epochs_run - 1)
        for (int i = 0; i < 600; i++) {
            ck_assert(((float *)D(p2))[i] == pp[i]);
            ck_assert_msg(fabsf(((float *)D(p3))[i] - pp[i]) <= 1e-5f * (1 + fabsf(pp[i])),
                          "batch 100 vs 64, value %d: %g vs %g", i, ((float *)D(p3))[i], pp[i]);
        }
    rnn_tensor_destroy(p1);
    rnn_tensor_destroy(p2);
    rnn_tensor_destroy(p3);
    rnn_model_destroy(ld);
    unlink(path);
    free_data(&te);
    free_data(&ds);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(bucketing_cuts_padding_and_trains)
{
    dataset ds;
    make_data(&ds, 1024, 2);
    int64_t seen[2];
    float acc[2];
    for (int bucket = 0; bucket < 2; bucket++) {
        rnn_model *m = make_model(7, 0.01f);
        rec r = {.m = m};
        rnn_fit_options o;
        rnn_fit_options_init(&o);
        o.epochs = 6;
        o.bucket_batches = bucket ? 8 : 0;
        o.on_batch = on_batch;
        o.user = &r;
        rnn_fit_result res = {.struct_size = sizeof res};
        ck_ok(rnn_model_fit(m, &ds.d, &o, &res));
        seen[bucket] = r.steps_seen;
        dataset te;
        make_data(&te, 256, 77);
        rnn_eval_result ev = {.struct_size = sizeof ev};
        ck_ok(rnn_model_evaluate(m, &te.d, 32, &ev));
        acc[bucket] = ev.accuracy;
        free_data(&te);
        rnn_model_destroy(m);
    }
    printf("bucketing: time steps fed %lld -> %lld, accuracy %.3f -> %.3f\n",
           (long long)seen[0], (long long)seen[1], acc[0], acc[1]);
    /* Without bucketing every batch holds a 21-step sample (almost surely);
     * with it most batches are far shorter. */
    ck_assert_msg(seen[1] < seen[0] * 0.8, "bucketing fed %lld steps vs %lld",
                  (long long)seen[1], (long long)seen[0]);
    ck_assert_msg(acc[1] >= 0.95f, "bucketed training reached %.3f", acc[1]);
    free_data(&ds);
}
END_TEST

START_TEST(learning_rate_schedules)
{
    dataset ds;
    make_data(&ds, 64, 3);
    /* Exponential per step: 8 steps (2 epochs of 4 batches). */
    {
        rnn_model *m = make_model(1, 0.01f);
        rec r = {.m = m};
        rnn_fit_options o;
        rnn_fit_options_init(&o);
        o.batch_size = 16, o.epochs = 2, o.on_batch = on_batch, o.user = &r;
        o.lr_schedule = RNN_LR_EXPONENTIAL, o.decay_rate = 0.5f, o.decay_steps = 4;
        ck_ok(rnn_model_fit(m, &ds.d, &o, NULL));
        ck_assert_int_eq(r.n_lr, 8);
        for (int s = 0; s < 8; s++)
            ck_assert_msg(fabsf(r.lr[s] - 0.01f * powf(0.5f, s / 4.0f)) < 1e-7f,
                          "step %d: lr %g", s, r.lr[s]);
        o.staircase = 1;
        r.n_lr = 0;
        rnn_optimizer *opt;
        ck_ok(rnn_model_optimizer(m, &opt));
        ck_ok(rnn_optimizer_set_learning_rate(opt, 0.01f));
        ck_ok(rnn_model_fit(m, &ds.d, &o, NULL));
        for (int s = 0; s < 8; s++)
            ck_assert(fabsf(r.lr[s] - 0.01f * powf(0.5f, (float)(s / 4))) < 1e-7f);
        rnn_model_destroy(m);
    }
    /* Step decay per epoch: lr0 * 0.1^floor(e / 2). */
    {
        rnn_model *m = make_model(1, 0.01f);
        rec r = {.m = m};
        rnn_fit_options o;
        rnn_fit_options_init(&o);
        o.batch_size = 64, o.epochs = 5, o.on_epoch = on_epoch, o.user = &r;
        o.lr_schedule = RNN_LR_STEP, o.decay_rate = 0.1f, o.decay_steps = 2;
        ck_ok(rnn_model_fit(m, &ds.d, &o, NULL));
        const float want[5] = {0.01f, 0.01f, 0.001f, 0.001f, 0.0001f};
        for (int e = 0; e < 5; e++)
            ck_assert_msg(fabsf(r.epoch_lr[e] - want[e]) < 1e-8f, "epoch %d: %g", e,
                          r.epoch_lr[e]);
        rnn_model_destroy(m);
    }
    /* Reduce on plateau (Keras' rules): no epoch improves by 1e9, patience 1,
     * cooldown 2, floor 2e-4. */
    {
        rnn_model *m = make_model(1, 0.01f);
        rec r = {.m = m};
        rnn_fit_options o;
        rnn_fit_options_init(&o);
        o.batch_size = 64, o.epochs = 6, o.on_epoch = on_epoch, o.user = &r;
        o.monitor = RNN_MONITOR_LOSS;
        o.lr_schedule = RNN_LR_PLATEAU, o.plateau_factor = 0.1f, o.plateau_patience = 1;
        o.plateau_min_delta = 1e9f, o.plateau_cooldown = 2, o.min_lr = 2e-4f;
        ck_ok(rnn_model_fit(m, &ds.d, &o, NULL));
        /* e0: first, best. e1: wait 1 >= 1 -> 1e-3, cooldown 2. e2: cooling.
         * e3: cooldown over, wait 1 -> 1e-4 floored to 2e-4. e4: cooling. e5: at
         * the floor, no change. */
        const float want[6] = {1e-2f, 1e-3f, 1e-3f, 2e-4f, 2e-4f, 2e-4f};
        for (int e = 0; e < 6; e++)
            ck_assert_msg(fabsf(r.epoch_lr[e] - want[e]) < 1e-9f, "epoch %d: %g", e,
                          r.epoch_lr[e]);
        rnn_model_destroy(m);
    }
    free_data(&ds);
}
END_TEST

static rnn_tensor *snapshot_kernel(rnn_model *m)
{
    rnn_layer *l;
    rnn_tensor *k, *c;
    ck_ok(rnn_model_layer(m, 2, &l));
    ck_ok(rnn_layer_param(l, 0, NULL, &k, NULL));
    ck_ok(rnn_tensor_clone(k, &c));
    return c;
}

typedef struct snap {
    rnn_model *m;
    rnn_tensor *at[8];
} snap;

static int snap_epoch(void *user, const rnn_epoch_log *log)
{
    snap *s = user;
    if (log->epoch < 8)
        s->at[log->epoch] = snapshot_kernel(s->m);
    return 0;
}

START_TEST(early_stopping_restores_best_weights)
{
    dataset ds;
    make_data(&ds, 128, 4);
    rnn_model *m = make_model(2, 0.01f);
    snap s = {.m = m};
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 8;
    o.monitor = RNN_MONITOR_LOSS;
    o.early_stopping = 1;
    o.patience = 2;
    o.min_delta = 1e9f; /* nothing after the first epoch counts as improving */
    o.restore_best_weights = 1;
    o.on_epoch = snap_epoch;
    o.user = &s;
    rnn_fit_result r = {.struct_size = sizeof r};
    ck_ok(rnn_model_fit(m, &ds.d, &o, &r));
    ck_assert_int_eq(r.stop, RNN_FIT_EARLY_STOPPED);
    ck_assert_int_eq(r.epochs_run, 3);
    ck_assert_int_eq(r.best_epoch, 0);
    rnn_tensor *now = snapshot_kernel(m);
    ck_assert(memcmp(D(now), D(s.at[0]), sizeof(float) * 8) == 0);
    ck_assert(memcmp(D(now), D(s.at[2]), sizeof(float) * 8) != 0);
    rnn_tensor_destroy(now);
    for (int i = 0; i < 8; i++)
        rnn_tensor_destroy(s.at[i]);
    rnn_model_destroy(m);
    free_data(&ds);
}
END_TEST

/* Iterator over a dataset in batches of 32, in order. */
typedef struct iter {
    dataset *ds;
    rnn_tensor *x, *len, *y;
    int fail_at;
} iter;

static int next_batch(void *user, int epoch, int64_t batch, const rnn_tensor **x,
                      const rnn_tensor **len, const rnn_tensor **y)
{
    (void)epoch;
    iter *it = user;
    int64_t S;
    int rank;
    int64_t dims[RNN_MAX_RANK];
    rnn_tensor_shape(it->ds->x, dims, RNN_MAX_RANK, &rank);
    S = dims[0];
    if (it->fail_at && batch == it->fail_at)
        return -5;
    if (batch * 32 >= S)
        return 0;
    int64_t n = S - batch * 32 < 32 ? S - batch * 32 : 32;
    int64_t xd[2] = {n, TMAX}, ld[1] = {n};
    rnn_tensor_destroy(it->x);
    rnn_tensor_destroy(it->len);
    rnn_tensor_destroy(it->y);
    rnn_tensor_create(RNN_I32, 2, xd, &it->x);
    rnn_tensor_create(RNN_I32, 1, ld, &it->len);
    rnn_tensor_create(RNN_I32, 1, ld, &it->y);
    memcpy(D(it->x), (int32_t *)D(it->ds->x) + batch * 32 * TMAX, sizeof(int32_t) * n * TMAX);
    memcpy(D(it->len), (int32_t *)D(it->ds->len) + batch * 32, sizeof(int32_t) * n);
    memcpy(D(it->y), (int32_t *)D(it->ds->y) + batch * 32, sizeof(int32_t) * n);
    *x = it->x, *len = it->len, *y = it->y;
    return 1;
}

/* Records the batch count each epoch's callbacks were told (iterators: the previous epoch's). */
static int iter_batches_seen(void *user, const rnn_batch_log *log)
{
    int64_t *seen = user;
    if (log->epoch < 8)
        seen[log->epoch] = log->batches;
    return 0;
}

START_TEST(iterator_fit_evaluate_predict)
{
    dataset ds, te;
    make_data(&ds, 512, 5);
    make_data(&te, 200, 55);
    iter it = {.ds = &ds}, vt = {.ds = &te};
    rnn_data train = {.struct_size = sizeof train, .next = next_batch, .user = &it};
    rnn_data val = {.struct_size = sizeof val, .next = next_batch, .user = &vt};
    rnn_model *m = make_model(3, 0.01f);
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 8;
    o.validation_data = &val;
    o.checkpoint_path = NULL;
    int64_t seen[8];
    for (int e = 0; e < 8; e++)
        seen[e] = -1;
    o.on_batch = iter_batches_seen, o.user = seen;
    rnn_fit_result r = {.struct_size = sizeof r};
    ck_ok(rnn_model_fit(m, &train, &o, &r));
    o.on_batch = NULL, o.user = NULL;
    ck_assert_int_eq(seen[0], 0); /* unknown in the first epoch */
    for (int e = 1; e < r.epochs_run; e++)
        ck_assert_int_eq(seen[e], 16); /* 512 samples / 32 */
    printf("iterator fit: val_accuracy %.3f\n", r.last.val_accuracy);
    ck_assert_msg(r.last.val_accuracy >= 0.9f, "val accuracy %.3f", r.last.val_accuracy);
    /* evaluate over the iterator == over the tensors in the same batches */
    rnn_eval_result a = {.struct_size = sizeof a}, b = {.struct_size = sizeof b};
    ck_ok(rnn_model_evaluate(m, &val, 0, &a));
    ck_ok(rnn_model_evaluate(m, &te.d, 32, &b));
    ck_assert_int_eq(a.samples, 200);
    ck_assert(fabsf(a.loss - b.loss) < 1e-5f && fabsf(a.accuracy - b.accuracy) < 1e-6f);
    rnn_tensor *p;
    ck_ok(rnn_model_predict(m, &val, 0, &p));
    int rank;
    int64_t dims[RNN_MAX_RANK];
    ck_ok(rnn_tensor_shape(p, dims, RNN_MAX_RANK, &rank));
    ck_assert(rank == 2 && dims[0] == 200 && dims[1] == 2);
    rnn_tensor_destroy(p);
    /* batch_size is not looked at when both sets are iterators */
    rnn_fit_options ob = o;
    ob.epochs = 1, ob.batch_size = 0;
    ck_ok(rnn_model_fit(m, &train, &ob, NULL));
    ob.validation_data = &te.d; /* in-memory validation batches need it */
    ck_rnn(rnn_model_fit(m, &train, &ob, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_fit: options->batch_size must be >= 1 (got 0)");
    /* a failing iterator */
    it.fail_at = 3;
    ck_rnn(rnn_model_fit(m, &train, &o, &r), RNN_ERR_STATE);
    ck_errmsg("rnn_model_fit: epoch 1, batch 4: the batch iterator failed (next returned -5)");
    ck_assert_int_eq(r.epochs_run, 0);
    o.validation_data = NULL;
    o.validation_split = 0.1f;
    it.fail_at = 0;
    ck_rnn(rnn_model_fit(m, &train, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("validation_split needs in-memory data");
    rnn_tensor_destroy(it.x), rnn_tensor_destroy(it.len), rnn_tensor_destroy(it.y);
    rnn_tensor_destroy(vt.x), rnn_tensor_destroy(vt.len), rnn_tensor_destroy(vt.y);
    free_data(&ds);
    free_data(&te);
    rnn_model_destroy(m);
}
END_TEST

static int empty_iter(void *user, int epoch, int64_t batch, const rnn_tensor **x,
                      const rnn_tensor **len, const rnn_tensor **y)
{
    (void)user, (void)epoch, (void)batch, (void)x, (void)len, (void)y;
    return 0;
}

static int stop_now(void *user, const rnn_epoch_log *log)
{
    (void)user;
    return log->epoch == 1;
}

START_TEST(callbacks_determinism_and_errors)
{
    dataset ds;
    make_data(&ds, 256, 6);
    float hist[2][4];
    /* Same seed, same thread count, same history: under the adaptive policy
     * the count depends on timing, and on some CPUs oneDNN's rounding on
     * the count (tests/unit/test_threads.c). */
    ck_ok(rnn_set_thread_policy(RNN_THREADS_FIXED));
    for (int run = 0; run < 2; run++) {
        rnn_model *m = make_model(9, 0.01f);
        rec r = {.m = m};
        rnn_fit_options o;
        rnn_fit_options_init(&o);
        o.epochs = 4, o.seed = 42, o.bucket_batches = 2, o.on_epoch = on_epoch, o.user = &r;
        ck_ok(rnn_model_fit(m, &ds.d, &o, NULL));
        memcpy(hist[run], r.epoch_loss, sizeof hist[run]);
        rnn_model_destroy(m);
    }
    for (int e = 0; e < 4; e++)
        ck_assert_msg(hist[0][e] == hist[1][e], "epoch %d: %g vs %g", e, hist[0][e], hist[1][e]);
    ck_ok(rnn_set_thread_policy(RNN_THREADS_ADAPTIVE));

    rnn_model *m = make_model(9, 0.01f);
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 5;
    /* stopping from the batch and the epoch callbacks */
    rec r = {.m = m, .stop_after_batches = 3};
    o.on_batch = on_batch, o.on_epoch = on_epoch, o.user = &r;
    r.epoch_loss[0] = NAN;
    rnn_fit_result res = {.struct_size = sizeof res};
    ck_ok(rnn_model_fit(m, &ds.d, &o, &res));
    ck_assert_int_eq(res.stop, RNN_FIT_CALLBACK);
    ck_assert_int_eq(r.batches, 3);
    ck_assert_int_eq(res.epochs_run, 1);
    /* the epoch cut short by on_batch is counted, so on_epoch saw it too */
    ck_assert_msg(r.epoch_loss[0] == res.last.loss, "on_epoch got loss %g, result.last %g",
                  (double)r.epoch_loss[0], (double)res.last.loss);
    o.on_batch = NULL, o.on_epoch = stop_now;
    ck_ok(rnn_model_fit(m, &ds.d, &o, &res));
    ck_assert_int_eq(res.stop, RNN_FIT_CALLBACK);
    ck_assert_int_eq(res.epochs_run, 2);
    o.on_epoch = NULL;

    /* bad options */
    rnn_fit_options b = o;
    b.batch_size = 0;
    ck_rnn(rnn_model_fit(m, &ds.d, &b, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_fit: options->batch_size must be >= 1 (got 0)");
    b = o, b.early_stopping = 1;
    ck_rnn(rnn_model_fit(m, &ds.d, &b, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("monitor is a validation figure but there is no validation data");
    b = o, b.validation_split = 1.0f;
    ck_rnn(rnn_model_fit(m, &ds.d, &b, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("validation_split must be in [0, 1) (got 1)");
    b = o, b.struct_size = 3;
    ck_rnn(rnn_model_fit(m, &ds.d, &b, NULL), RNN_ERR_INVALID_ARG);
    b = o, b.lr_schedule = RNN_LR_PLATEAU, b.monitor = RNN_MONITOR_LOSS, b.plateau_factor = 1.5f;
    ck_rnn(rnn_model_fit(m, &ds.d, &b, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("plateau_factor must be in (0, 1)");
    b = o, b.checkpoint_path = "/nonexistent-dir/x.rnn", b.monitor = RNN_MONITOR_LOSS;
    ck_rnn(rnn_model_fit(m, &ds.d, &b, &res), RNN_ERR_IO);
    ck_errmsg("rnn_model_fit: epoch 1, checkpoint: cannot create");
    ck_assert_int_eq(res.epochs_run, 0);

    /* bad data: empty, mismatched targets and lengths, lengths out of range */
    int64_t y3[1] = {3};
    rnn_tensor *y0;
    ck_ok(rnn_tensor_create(RNN_I32, 1, y3, &y0));
    rnn_data d = {.struct_size = sizeof d, .next = empty_iter};
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_fit: epoch 1: the iterator gave no batch");
    ck_rnn(rnn_model_evaluate(m, &d, 0, &(rnn_eval_result){.struct_size = sizeof(rnn_eval_result)}), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_evaluate: data: the iterator gave no batch");
    rnn_data_init(&d);
    ck_rnn(rnn_model_predict(m, &d, 1, &(rnn_tensor *){NULL}), RNN_ERR_INVALID_ARG);
    ck_errmsg("data: set x (in-memory tensors) or next (an iterator)");
    d = ds.d, d.targets = y0;
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_SHAPE);
    ck_errmsg("train->targets must have 256 samples on its first axis, as x (got 3)");
    d = ds.d, d.lengths = y0;
    ck_rnn(rnn_model_evaluate(m, &d, 32, &(rnn_eval_result){.struct_size = sizeof(rnn_eval_result)}), RNN_ERR_SHAPE);
    ck_errmsg("rnn_model_evaluate: data->lengths must have shape (256)");
    ((int32_t *)D(ds.len))[17] = TMAX + 1;
    ck_rnn(rnn_model_predict(m, &ds.d, 32, &(rnn_tensor *){NULL}), RNN_ERR_RANGE);
    ck_errmsg("data->lengths[17] must be in [1, 21] (got 22)");
    ((int32_t *)D(ds.len))[17] = 5;
    ((int32_t *)D(ds.y))[200] = 7;
    ck_rnn(rnn_model_fit(m, &ds.d, &o, NULL), RNN_ERR_RANGE);
    ck_errmsg("must be a class in [0, 2) (got 7)");
    ((int32_t *)D(ds.y))[200] = 1;
    ck_rnn(rnn_model_fit(NULL, &ds.d, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_model_fit(m, NULL, &o, NULL), RNN_ERR_INVALID_ARG);
    rnn_model *raw;
    ck_ok(rnn_model_create(NULL, &raw));
    ck_rnn(rnn_model_fit(raw, &ds.d, &o, NULL), RNN_ERR_STATE);
    ck_errmsg("call rnn_model_compile() first");
    rnn_model_destroy(raw);

    /* NaN: stops at once, naming where, weights untouched */
    rnn_layer *emb;
    rnn_tensor *E;
    ck_ok(rnn_model_layer(m, 1, &emb));
    ck_ok(rnn_layer_param(emb, 0, NULL, &E, NULL));
    ((float *)D(E))[1 * 8] = NAN;
    ((float *)D(E))[2 * 8] = NAN;
    ck_ok(rnn_layer_params_changed(emb));
    rnn_tensor *k0 = snapshot_kernel(m);
    ck_rnn(rnn_model_fit(m, &ds.d, &o, &res), RNN_ERR_NUMERIC);
    ck_errmsg("rnn_model_fit: epoch 1, batch 1 (samples ");
    ck_errmsg(", ... (32 in all) of train->x): the loss is NaN");
    ck_errmsg("the loss is NaN");
    rnn_tensor *k1 = snapshot_kernel(m);
    ck_assert(memcmp(D(k0), D(k1), sizeof(float) * 8) == 0);
    rnn_tensor_destroy(k0);
    rnn_tensor_destroy(k1);
    rnn_tensor_destroy(y0);
    rnn_model_destroy(m);
    free_data(&ds);
}
END_TEST

START_TEST(optimizer_state_saved_and_resumed)
{
    dataset ds;
    make_data(&ds, 96, 8);
    rnn_model *m = make_model(4, 0.01f);
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 2, o.shuffle = 0;
    ck_ok(rnn_model_fit(m, &ds.d, &o, NULL));
    char path[] = "/tmp/librnn-opt-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    ck_rnn(rnn_model_save_ex(m, path, 4), RNN_ERR_INVALID_ARG);
    ck_errmsg("flags has unknown bits (0x4)");
    ck_ok(rnn_model_save_ex(m, path, RNN_SAVE_OPTIMIZER));
    rnn_model *r;
    ck_ok(rnn_model_load(path, NULL, &r));
    rnn_optimizer *oa, *ob;
    ck_ok(rnn_model_optimizer(m, &oa));
    ck_ok(rnn_model_optimizer(r, &ob)); /* loads compiled */
    int64_t ia, ib;
    rnn_optimizer_iterations(oa, &ia);
    rnn_optimizer_iterations(ob, &ib);
    ck_assert_int_eq(ia, 6);
    ck_assert_int_eq(ib, 6);
    /* the same further steps give bit-identical losses (Adam's moments and
     * step count came back) */
    rec ra = {.m = m}, rb = {.m = r};
    o.on_epoch = on_epoch;
    o.user = &ra;
    ck_ok(rnn_model_fit(m, &ds.d, &o, NULL));
    o.user = &rb;
    ck_ok(rnn_model_fit(r, &ds.d, &o, NULL));
    for (int e = 0; e < 2; e++)
        ck_assert_msg(ra.epoch_loss[e] == rb.epoch_loss[e], "epoch %d: %g vs %g", e,
                      ra.epoch_loss[e], rb.epoch_loss[e]);
    /* without the flag the file loads uncompiled; a fresh optimizer differs */
    ck_ok(rnn_model_save(m, path));
    rnn_model *u;
    ck_ok(rnn_model_load(path, NULL, &u));
    ck_rnn(rnn_model_optimizer(u, &ob), RNN_ERR_STATE);
    rnn_model_destroy(u);
    rnn_model *raw;
    ck_ok(rnn_model_create(NULL, &raw));
    int64_t sh[1] = {0};
    ck_ok(rnn_model_add_input(raw, RNN_I32, 1, sh, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 3, e.output_dim = 2;
    ck_ok(rnn_model_add_embedding(raw, &e, NULL));
    ck_rnn(rnn_model_save_ex(raw, path, RNN_SAVE_OPTIMIZER), RNN_ERR_STATE);
    ck_errmsg("the model is not compiled");
    unlink(path);
    rnn_model_destroy(raw);
    rnn_model_destroy(r);
    rnn_model_destroy(m);
    free_data(&ds);
}
END_TEST

/* reset_states: a stateful model carries states across batches; with the
 * option they are zeroed before each epoch, so epoch 0 is the same either
 * way and epoch 1 is not. */
START_TEST(stateful_reset_states_per_epoch)
{
    dataset ds;
    make_data(&ds, 64, 12);
    float loss[2][2];
    for (int reset = 0; reset < 2; reset++) {
        rnn_model_options mo;
        rnn_model_options_init(&mo);
        mo.seed = 3;
        rnn_model *m;
        ck_ok(rnn_model_create(&mo, &m));
        int64_t sh[1] = {0};
        ck_ok(rnn_model_add_input(m, RNN_I32, 1, sh, NULL));
        rnn_embedding_options e;
        rnn_embedding_options_init(&e);
        e.input_dim = V, e.output_dim = 4;
        ck_ok(rnn_model_add_embedding(m, &e, NULL));
        rnn_recurrent_options o;
        rnn_recurrent_options_init(&o, RNN_GRU);
        o.units = 8, o.stateful = 1;
        ck_ok(rnn_model_add_recurrent(m, &o, NULL));
        rnn_dense_options d;
        rnn_dense_options_init(&d);
        d.units = 2, d.activation = RNN_ACT_SOFTMAX;
        ck_ok(rnn_model_add_dense(m, &d, NULL));
        rnn_compile_options c;
        rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
        rnn_optimizer_options oo;
        rnn_optimizer_options_init(&oo, RNN_OPTIM_SGD);
        oo.learning_rate = 1e-9f; /* states, not weights, make the difference */
        ck_ok(rnn_model_compile(m, &c, &oo));
        rec r = {.m = m};
        rnn_fit_options fo;
        rnn_fit_options_init(&fo);
        fo.epochs = 2, fo.shuffle = 0, fo.batch_size = 16, fo.reset_states = reset;
        fo.on_epoch = on_epoch, fo.user = &r;
        ck_ok(rnn_model_fit(m, &ds.d, &fo, NULL));
        loss[reset][0] = r.epoch_loss[0];
        loss[reset][1] = r.epoch_loss[1];
        rnn_model_destroy(m);
    }
    ck_assert(loss[0][0] == loss[1][0]);
    ck_assert_msg(loss[0][1] != loss[1][1], "epoch 1: %g either way", loss[0][1]);
    /* with resets and (almost) frozen weights, epoch 1 repeats epoch 0 */
    ck_assert_msg(fabsf(loss[1][1] - loss[1][0]) < 1e-5f, "%g vs %g", loss[1][1], loss[1][0]);
    free_data(&ds);
}
END_TEST

/* ------------------------------------------------------------ progress */

/* Everything on_progress and on_epoch were given, in order. */
typedef struct progress_rec {
    rnn_progress p[256];
    int n;
    rnn_epoch_log e[16];
    int ne;
    int order_ok;     /* each epoch's RNN_PROGRESS_EPOCH came before its on_epoch */
    int stop_at_call; /* on_progress returns 1 at this call (1-based; 0: never) */
} progress_rec;

static int rec_progress(void *user, const rnn_progress *p)
{
    progress_rec *r = user;
    ck_assert_uint_eq(p->struct_size, sizeof *p);
    if (r->n < 256)
        r->p[r->n] = *p;
    r->n++;
    return r->stop_at_call && r->n == r->stop_at_call;
}

static int rec_epoch(void *user, const rnn_epoch_log *e)
{
    progress_rec *r = user;
    if (r->ne < 16)
        r->e[r->ne++] = *e;
    /* the last report before on_epoch is the epoch's own */
    if (!(r->n > 0 && r->p[r->n - 1].phase == RNN_PROGRESS_EPOCH &&
          r->p[r->n - 1].epoch == e->epoch + 1))
        r->order_ok = 0;
    return 0;
}

/* Checks the reports of a whole fit: per epoch, batch reports 1..k with the same
 * batches (want_batches[e], -1: not checked), then one epoch report equal to on_epoch's. */
static void check_reports(const progress_rec *r, int epochs, int epochs_asked,
                          const int64_t *want_batches, int64_t samples_per_epoch)
{
    ck_assert_int_le(r->n, 256);
    ck_assert_int_eq(r->ne, epochs);
    ck_assert(r->order_ok);
    int i = 0;
    for (int e = 0; e < epochs; e++) {
        int64_t k = 0, samples = 0;
        double elapsed = 0;
        for (; i < r->n && r->p[i].phase == RNN_PROGRESS_BATCH; i++) {
            const rnn_progress *p = &r->p[i];
            ck_assert_int_eq(p->epoch, e + 1);
            ck_assert_int_eq(p->epochs, epochs_asked);
            ck_assert_int_eq(p->batch, ++k); /* 1, 2, 3, ... */
            if (want_batches[e] >= 0)
                ck_assert_int_eq(p->batches, want_batches[e]);
            ck_assert_int_gt(p->samples, samples);
            samples = p->samples;
            ck_assert(p->elapsed >= elapsed);
            elapsed = p->elapsed;
            if (p->batches > 0 && p->batch <= p->batches)
                ck_assert(p->eta >= 0.0 && (p->batch < p->batches || p->eta == 0.0));
            else
                ck_assert(p->eta == -1.0);
            ck_assert(isfinite(p->loss) && p->loss > 0.0f);
            ck_assert(p->accuracy >= 0.0f && p->accuracy <= 1.0f);
            ck_assert(isnan(p->val_loss) && isnan(p->val_accuracy));
            ck_assert_int_eq(p->improved, 0);
            ck_assert(p->learning_rate > 0.0f);
        }
        ck_assert_int_gt(k, 0);
        ck_assert_int_lt(i, r->n);
        const rnn_progress *p = &r->p[i++];
        const rnn_epoch_log *el = &r->e[e];
        ck_assert_int_eq(p->phase, RNN_PROGRESS_EPOCH);
        ck_assert_int_eq(p->epoch, e + 1);
        ck_assert_int_eq(p->batch, k);
        ck_assert_int_eq(p->batches, k);
        ck_assert_int_eq(p->samples, samples);
        if (samples_per_epoch > 0)
            ck_assert_int_eq(p->samples, samples_per_epoch);
        ck_assert(p->eta == 0.0);
        ck_assert(p->loss == el->loss && p->accuracy == el->accuracy);
        ck_assert(p->loss == r->p[i - 2].loss); /* the last running figure is the epoch's */
        ck_assert((isnan(p->val_loss) && isnan(el->val_loss)) || p->val_loss == el->val_loss);
        ck_assert((isnan(p->val_accuracy) && isnan(el->val_accuracy)) ||
                  p->val_accuracy == el->val_accuracy);
        ck_assert(p->learning_rate == el->learning_rate);
        ck_assert(p->elapsed == el->seconds && p->elapsed >= elapsed);
        ck_assert_int_eq(p->improved, el->improved);
    }
    ck_assert_int_eq(i, r->n); /* nothing after the last epoch's report */
}

/* The log callback: counts the epoch lines of verbose. */
typedef struct log_rec {
    int lines, other;
    char first[256];
} log_rec;

static void rec_log(void *user, rnn_log_level level, const char *msg)
{
    log_rec *l = user;
    if (level == RNN_LOG_INFO && strncmp(msg, "rnn_model_fit: epoch ", 21) == 0) {
        if (!l->lines++)
            snprintf(l->first, sizeof l->first, "%s", msg);
    } else {
        l->other++;
    }
}

/* fd 2 into a temporary file while fit runs; returns what was written there. */
static int stderr_to_file(char *path, size_t size)
{
    snprintf(path, size, "/tmp/rnn_test_fit_stderr_%ld", (long)getpid());
    fflush(stderr);
    const int saved = dup(2);
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert(saved >= 0 && fd >= 0);
    ck_assert_int_ge(dup2(fd, 2), 0);
    close(fd);
    return saved;
}

static off_t stderr_restore(int saved, const char *path)
{
    fflush(stderr);
    ck_assert_int_ge(dup2(saved, 2), 0);
    close(saved);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    unlink(path);
    return sb.st_size;
}

START_TEST(progress_reports_and_no_printing)
{
    dataset ds;
    make_data(&ds, 200, 21);
    rnn_model *m = make_model(4, 0.01f);
    static progress_rec r; /* large: not on the stack */
    memset(&r, 0, sizeof r);
    r.order_ok = 1;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 3, o.batch_size = 32, o.validation_split = 0.2f, o.verbose = 1;
    o.on_progress = rec_progress, o.on_epoch = rec_epoch, o.user = &r;
    rnn_fit_result res = {.struct_size = sizeof res};
    /* verbose and a progress callback, no log callback: nothing on fd 2 */
    char path[64];
    int saved = stderr_to_file(path, sizeof path);
    rnn_status st = rnn_model_fit(m, &ds.d, &o, &res);
    off_t written = stderr_restore(saved, path);
    ck_ok(st);
    ck_assert_msg(written == 0, "rnn_model_fit wrote %lld bytes to fd 2", (long long)written);
    ck_assert_int_eq(res.epochs_run, 3);
    const int64_t five[3] = {5, 5, 5}; /* 160 training samples / 32 */
    check_reports(&r, 3, 3, five, 160);
    ck_assert(!isnan(r.p[r.n - 1].val_loss)); /* the validation figures come at the end */

    /* verbose's lines go to the log callback at RNN_LOG_INFO, one per epoch */
    log_rec lg = {0};
    ck_ok(rnn_set_log_callback(rec_log, &lg, RNN_LOG_INFO));
    memset(&r, 0, sizeof r);
    r.order_ok = 1;
    saved = stderr_to_file(path, sizeof path);
    st = rnn_model_fit(m, &ds.d, &o, &res);
    written = stderr_restore(saved, path);
    ck_ok(st);
    ck_assert_int_eq(written, 0);
    ck_assert_int_eq(lg.lines, 3);
    ck_assert_msg(strstr(lg.first, "rnn_model_fit: epoch 1/3  ") && strstr(lg.first, "val_loss") &&
                      strstr(lg.first, "  accuracy ") && strstr(lg.first, "  val_accuracy "),
                  "%s", lg.first);
    o.verbose = 0; /* ... and none without it */
    memset(&lg, 0, sizeof lg);
    ck_ok(rnn_model_fit(m, &ds.d, &o, &res));
    ck_assert_int_eq(lg.lines, 0);
    ck_ok(rnn_set_log_callback(NULL, NULL, RNN_LOG_ERROR));

    /* on_progress stops like on_batch: at batch 2 of epoch 1, the epoch is still reported */
    memset(&r, 0, sizeof r);
    r.order_ok = 1;
    r.stop_at_call = 2;
    ck_ok(rnn_model_fit(m, &ds.d, &o, &res));
    ck_assert_int_eq(res.stop, RNN_FIT_CALLBACK);
    ck_assert_int_eq(res.epochs_run, 1);
    ck_assert_int_eq(r.n, 3);
    check_reports(&r, 1, 3, five, 64);

    /* options from headers older than on_progress: accepted, no reports */
    memset(&r, 0, sizeof r);
    r.order_ok = 1;
    rnn_fit_options old = o;
    old.epochs = 1;
    old.struct_size = (uint32_t)offsetof(rnn_fit_options, on_progress);
    ck_ok(rnn_model_fit(m, &ds.d, &old, &res));
    ck_assert_int_eq(r.n, 0);
    ck_assert_int_eq(r.ne, 1);
    old.struct_size = (uint32_t)offsetof(rnn_fit_options, verbose);
    ck_rnn(rnn_model_fit(m, &ds.d, &old, &res), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->struct_size must be sizeof(rnn_fit_options)");
    rnn_model_destroy(m);

    /* an iterator: batches unknown (0, ETA -1) in its first epoch, then its count */
    dataset it_ds;
    make_data(&it_ds, 100, 22);
    iter it = {.ds = &it_ds};
    rnn_data train = {.struct_size = sizeof train, .next = next_batch, .user = &it};
    m = make_model(5, 0.01f);
    memset(&r, 0, sizeof r);
    r.order_ok = 1;
    o.validation_split = 0, o.epochs = 2;
    ck_ok(rnn_model_fit(m, &train, &o, &res));
    const int64_t iter_batches[2] = {0, 4}; /* 100 samples in batches of 32 */
    check_reports(&r, 2, 2, iter_batches, 100);
    ck_assert(r.p[0].eta == -1.0);
    rnn_tensor_destroy(it.x), rnn_tensor_destroy(it.len), rnn_tensor_destroy(it.y);
    rnn_model_destroy(m);
    free_data(&it_ds);
    free_data(&ds);
}
END_TEST

/* The struct_size of datasets and results is checked: refused when unset or larger
 * than the library's; a result from older headers is filled as far as it goes.
 * Outputs are read from const handles. */
/* A loss without accuracy (mean squared error): the figures hold NaN there (undefined),
 * and verbose's line leaves accuracy out instead of printing "accuracy nan". */
START_TEST(mse_has_no_accuracy_line)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 7;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t sh[2] = {0, 3};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, sh, NULL));
    rnn_recurrent_options ro;
    rnn_recurrent_options_init(&ro, RNN_GRU);
    ro.units = 4;
    ck_ok(rnn_model_add_recurrent(m, &ro, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 1;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_MEAN_SQUARED_ERROR);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    ck_ok(rnn_model_compile(m, &c, &oo));

    enum { S = 40, T = 5, F = 3 };
    int64_t xd[3] = {S, T, F}, yd[2] = {S, 1};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    ck_ok(rnn_tensor_create(RNN_F32, 2, yd, &y));
    float *px = D(x), *py = D(y);
    rs = 5;
    for (int n = 0; n < S; n++) { /* target: the mean of the inputs */
        float sum = 0.0f;
        for (int k = 0; k < T * F; k++) {
            px[n * T * F + k] = (float)rnd(101) / 50.0f - 1.0f;
            sum += px[n * T * F + k];
        }
        py[n] = sum / (T * F);
    }
    rnn_data data;
    rnn_data_init(&data);
    data.x = x, data.targets = y;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 2, o.batch_size = 10, o.validation_split = 0.25f, o.verbose = 1;
    log_rec lg = {0};
    ck_ok(rnn_set_log_callback(rec_log, &lg, RNN_LOG_INFO));
    rnn_fit_result res = {.struct_size = sizeof res};
    rnn_status st = rnn_model_fit(m, &data, &o, &res);
    ck_ok(rnn_set_log_callback(NULL, NULL, RNN_LOG_ERROR));
    ck_ok(st);
    ck_assert_int_eq(lg.lines, 2);
    ck_assert_msg(strstr(lg.first, "rnn_model_fit: epoch 1/2  ") && strstr(lg.first, "  loss ") &&
                      strstr(lg.first, "  val_loss ") && !strstr(lg.first, "accuracy") &&
                      !strstr(lg.first, "nan"),
                  "%s", lg.first);
    ck_assert(!isnan(res.last.loss) && !isnan(res.last.val_loss));
    ck_assert(isnan(res.last.accuracy) && isnan(res.last.val_accuracy));
    ck_assert(isnan(res.last.perplexity) && isnan(res.last.val_perplexity));
    rnn_eval_result ev = {.struct_size = sizeof ev};
    ck_ok(rnn_model_evaluate(m, &data, 10, &ev));
    ck_assert(!isnan(ev.loss) && isnan(ev.accuracy) && isnan(ev.perplexity));
    ck_assert_int_eq(ev.samples, S);
    rnn_tensor_destroy(x), rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(struct_sizes_checked)
{
    dataset ds;
    make_data(&ds, 64, 31);
    rnn_model *m = make_model(6, 0.01f);
    rnn_data d = ds.d;
    d.struct_size = 0; /* e.g. a literal without rnn_data_init() */
    ck_rnn(rnn_model_fit(m, &d, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_fit: train->struct_size must be sizeof(rnn_data)");
    ck_errmsg("call rnn_data_init()");
    rnn_eval_result ev = {.struct_size = sizeof ev};
    ck_rnn(rnn_model_evaluate(m, &d, 32, &ev), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_evaluate: data->struct_size");
    ck_assert(isnan(ev.loss) && ev.samples == 0); /* a failure's figures */
    ck_rnn(rnn_model_predict(m, &d, 32, &(rnn_tensor *){NULL}), RNN_ERR_INVALID_ARG);
    d.struct_size = sizeof d + 8;
    ck_rnn(rnn_model_predict(m, &d, 32, &(rnn_tensor *){NULL}), RNN_ERR_INVALID_ARG);
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.validation_data = &d;
    ck_rnn(rnn_model_fit(m, &ds.d, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->validation_data->struct_size must be sizeof(rnn_data)");

    /* results: the caller's struct_size */
    ev = (rnn_eval_result){.struct_size = 0, .loss = 5.0f};
    ck_rnn(rnn_model_evaluate(m, &ds.d, 32, &ev), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_evaluate: out->struct_size must be sizeof(rnn_eval_result)");
    ck_assert(ev.loss == 5.0f); /* nothing written */
    ev.struct_size = sizeof ev;
    ck_ok(rnn_model_evaluate(m, &ds.d, 32, &ev));
    ck_assert_uint_eq(ev.struct_size, sizeof ev);
    ck_assert_int_eq(ev.samples, 64);
    rnn_fit_result r = {.struct_size = sizeof r + 4};
    ck_rnn(rnn_model_fit(m, &ds.d, NULL, &r), RNN_ERR_INVALID_ARG);
    ck_errmsg("result->struct_size must be sizeof(rnn_fit_result)");
    ck_assert_int_eq(r.epochs_run, 0);
    /* without `last` (struct_size up to stop): last is not touched */
    memset(&r, 0x7f, sizeof r);
    r.struct_size = (uint32_t)offsetof(rnn_fit_result, last);
    ck_ok(rnn_model_fit(m, &ds.d, NULL, &r));
    ck_assert_int_eq(r.epochs_run, 1);
    ck_assert_uint_eq(r.struct_size, offsetof(rnn_fit_result, last));
    ck_assert_uint_eq(r.last.struct_size, 0x7f7f7f7fu);
    /* the whole struct: last says how much of it was written */
    r.struct_size = sizeof r;
    ck_ok(rnn_model_fit(m, &ds.d, NULL, &r));
    ck_assert_uint_eq(r.last.struct_size, sizeof r.last);
    ck_assert(isfinite(r.last.loss));

    /* outputs are read through const handles, without a cast */
    const rnn_tensor *in[1] = {ds.x}, *lens[1] = {ds.len}, *out, *x;
    ck_ok(rnn_model_forward(m, 1, in, lens, 0));
    const rnn_model *cm = m;
    ck_ok(rnn_model_output(cm, 0, &out));
    const void *p;
    ck_ok(rnn_tensor_data_const(out, &p));
    const float *prob = p;
    ck_assert(fabsf(prob[0] + prob[1] - 1.0f) < 1e-5f);
    rnn_layer *input;
    ck_ok(rnn_model_layer(m, 0, &input));
    const rnn_layer *cin = input;
    ck_ok(rnn_layer_output(cin, 0, &x));
    ck_assert_ptr_eq(x, ds.x);
    rnn_model_destroy(m);
    free_data(&ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fit");
    TCase *tc = tcase_create("fit");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, fit_validation_split_checkpoint_predict);
    tcase_add_test(tc, bucketing_cuts_padding_and_trains);
    tcase_add_test(tc, learning_rate_schedules);
    tcase_add_test(tc, early_stopping_restores_best_weights);
    tcase_add_test(tc, iterator_fit_evaluate_predict);
    tcase_add_test(tc, callbacks_determinism_and_errors);
    tcase_add_test(tc, optimizer_state_saved_and_resumed);
    tcase_add_test(tc, stateful_reset_states_per_epoch);
    tcase_add_test(tc, progress_reports_and_no_printing);
    tcase_add_test(tc, mse_has_no_accuracy_line);
    tcase_add_test(tc, struct_sizes_checked);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
