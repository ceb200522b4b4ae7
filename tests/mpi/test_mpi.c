/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librnn-mpi under mpirun (run_mpi.py starts it: mpirun -np 2 test_mpi):
 *  - the engine alone: sums and broadcasts through the rnn_collective
 *    callbacks (several in flight, waited out of order, a count past one
 *    MPI call's chunk), the statistics, and the errors of every function;
 *  - equivalence: K = 5 rnn_model_train_step() calls where each rank passes
 *    its share of the global batch give, to 1e-6 relative on every weight,
 *    what one process gives with the whole batch (computed on every rank
 *    without a collective, same seed), for SGD with momentum and Adam, and
 *    for a batch the ranks do not divide; the ranks' weights are equal;
 *  - the same through rnn_model_fit() (shuffling, validation data, 2 epochs,
 *    a last batch smaller than the number of ranks): equal weights, equal
 *    loss and val_loss on every rank and equal to the one-process fit's;
 *  - a callback's stop on one rank mid-epoch stops every rank after that
 *    batch, with one process's weights;
 *  - a rank's error (a bad label in its data, a NaN weight) fails every
 *    rank's step at the same step, without an update, within seconds.
 * Check runs without fork (MPI forbids it); every verdict is agreed over the
 * ranks before it is asserted, so that the ranks never part ways.
 *
 * With RNN_MPI_PROGRESS set (mpi-equivalence-progress) every handle has a
 * progress thread: MPI is initialized with MPI_THREAD_MULTIPLE (the tests
 * call MPI themselves while sums are in flight), the same checks run, and
 * the progress thread must have tested sums during the training.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_util.h"
#include "test_util.h"

static rnn_mpi *g_mpi;
static const rnn_collective *g_coll;
static int g_rank, g_size;
static MPI_Comm g_comm; /* for the tests' own agreement messages */
static int g_progress;  /* RNN_MPI_PROGRESS set (nonzero): g_mpi has a progress thread */
static int g_thread_level; /* what MPI_Init_thread provided */

#define AGREE(cond, ...) ck_assert_msg(!mt_any(g_comm, !(cond)), __VA_ARGS__)

/* ------------------------------------------------------------ the engine */

START_TEST(engine_sums_and_broadcasts)
{
    const rnn_collective *c = g_coll;
    ck_assert_int_eq(c->rank, g_rank);
    ck_assert_int_eq(c->size, g_size);
    ck_assert_uint_eq(c->struct_size, sizeof(rnn_collective));
    ck_assert(c->allreduce_sum != NULL && c->wait != NULL && c->broadcast != NULL);
    ck_assert(c->error_message != NULL);
    rnn_mpi_stats s0 = {.struct_size = sizeof s0};
    ck_ok(rnn_mpi_reset_stats(g_mpi));
    /* three sums in flight, waited for in reverse order; the last crosses
     * MPI calls' chunk of 2^28 floats only in size, not in count: 3e6 */
    enum { A = 1, B = 1000, C = 3000000 };
    float *a = malloc(sizeof(float) * A), *b = malloc(sizeof(float) * B),
          *cc = malloc(sizeof(float) * C);
    ck_assert(a && b && cc);
    a[0] = (float)(g_rank + 1);
    for (int i = 0; i < B; i++)
        b[i] = (float)(i * (g_rank + 1));
    for (int i = 0; i < C; i++)
        cc[i] = (float)((i % 7) + g_rank);
    void *ra, *rb, *rc;
    ck_assert_int_eq(c->allreduce_sum(c->user, a, A, &ra), 0);
    ck_assert_int_eq(c->allreduce_sum(c->user, b, B, &rb), 0);
    ck_assert_int_eq(c->allreduce_sum(c->user, cc, C, &rc), 0);
    ck_assert_int_eq(c->wait(c->user, rc), 0);
    ck_assert_int_eq(c->wait(c->user, rb), 0);
    ck_assert_int_eq(c->wait(c->user, ra), 0);
    const double ranksum = g_size * (g_size + 1) / 2.0, rsum = g_size * (g_size - 1) / 2.0;
    int bad = a[0] != (float)ranksum;
    for (int i = 0; i < B; i++)
        bad |= b[i] != (float)(i * ranksum);
    for (int i = 0; i < C; i++)
        bad |= cc[i] != (float)((i % 7) * g_size + rsum);
    AGREE(!bad, "the sums are wrong on some rank");
    ck_assert_int_eq(c->wait(c->user, NULL), 0);
    /* a broadcast from the last rank */
    char msg[64];
    snprintf(msg, sizeof msg, "from rank %d", g_rank);
    ck_assert_int_eq(c->broadcast(c->user, msg, sizeof msg, g_size - 1), 0);
    char want[64];
    snprintf(want, sizeof want, "from rank %d", g_size - 1);
    AGREE(strcmp(msg, want) == 0, "broadcast gave \"%s\"", msg);
    ck_ok(rnn_mpi_get_stats(g_mpi, &s0));
    ck_assert_int_eq(s0.allreduces, 3);
    ck_assert_int_eq(s0.allreduce_bytes, 4 * (A + B + C));
    ck_assert_int_eq(s0.broadcasts, 1);
    ck_assert_int_eq(s0.broadcast_bytes, 64);
    ck_assert(s0.wait_seconds >= 0 && s0.inflight_seconds >= 0);
    ck_assert(s0.completed_before_wait >= 0 && s0.completed_before_wait <= 3);
    /* a request waited for twice is refused, and does not break the handle */
    ck_assert_int_eq(c->allreduce_sum(c->user, a, A, &ra), 0);
    ck_assert_int_eq(c->wait(c->user, ra), 0);
    ck_assert_int_ne(c->wait(c->user, ra), 0);
    ck_assert_ptr_nonnull(strstr(c->error_message(c->user, 5), "waited for twice"));
    ck_assert_int_eq(c->allreduce_sum(c->user, a, A, &ra), 0);
    ck_assert_int_eq(c->wait(c->user, ra), 0);
    free(a);
    free(b);
    free(cc);
}
END_TEST

START_TEST(api_errors_name_function_argument_value)
{
    rnn_mpi *m = (rnn_mpi *)&m;
    ck_rnn(rnn_mpi_create(NULL, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(m);
    ck_errmsg("rnn_mpi_create: comm must not be NULL");
    MPI_Comm w = MPI_COMM_WORLD, null = MPI_COMM_NULL;
    ck_rnn(rnn_mpi_create(&w, NULL, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("out must not be NULL");
    ck_rnn(rnn_mpi_create(&null, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("MPI_COMM_NULL");
    rnn_mpi_options o;
    rnn_mpi_options_init(&o);
    ck_assert_uint_eq(o.struct_size, sizeof o);
    ck_assert(o.timeout_seconds == 120.0);
    ck_assert_uint_eq(o.flags, 0);
    o.timeout_seconds = -1;
    ck_rnn(rnn_mpi_create(&w, &o, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_mpi_create: options->timeout_seconds must be in (0, 1e+06] (got -1)");
    o.timeout_seconds = NAN;
    ck_rnn(rnn_mpi_create_world(&o, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_mpi_create_world: options->timeout_seconds");
    rnn_mpi_options_init(&o);
    o.flags = 8;
    ck_rnn(rnn_mpi_create(&w, &o, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->flags must be 0 or RNN_COLLECTIVE_NO_OVERLAP (got 0x8)");
    rnn_mpi_options_init(&o);
    o.struct_size = 3;
    ck_rnn(rnn_mpi_create(&w, &o, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->struct_size");
    const char *old = getenv("RNN_MPI_TIMEOUT");
    char *saved = old ? strdup(old) : NULL;
    setenv("RNN_MPI_TIMEOUT", "soon", 1);
    ck_rnn(rnn_mpi_create(&w, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("RNN_MPI_TIMEOUT must be a number of seconds in (0, 1e+06] (got \"soon\")");
    if (saved)
        setenv("RNN_MPI_TIMEOUT", saved, 1);
    else
        unsetenv("RNN_MPI_TIMEOUT");
    free(saved);
    rnn_mpi_options_init(&o);
    ck_assert_int_eq(o.progress_us, RNN_MPI_PROGRESS_AUTO);
    o.progress_us = 1000001;
    ck_rnn(rnn_mpi_create(&w, &o, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_mpi_create: options->progress_us must be RNN_MPI_PROGRESS_AUTO (-1) or in "
              "[0, 1000000] (got 1000001)");
    o.progress_us = -2;
    ck_rnn(rnn_mpi_create(&w, &o, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("(got -2)");
    old = getenv("RNN_MPI_PROGRESS");
    saved = old ? strdup(old) : NULL;
    setenv("RNN_MPI_PROGRESS", "-5", 1);
    ck_rnn(rnn_mpi_create(&w, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("RNN_MPI_PROGRESS must be a number of microseconds (-1: auto) in [-1, 1e+06] "
              "(got \"-5\")");
    setenv("RNN_MPI_PROGRESS", "2.5", 1);
    ck_rnn(rnn_mpi_create(&w, NULL, &m), RNN_ERR_INVALID_ARG);
    ck_errmsg("RNN_MPI_PROGRESS must be a whole number of microseconds (got 2.5)");
    /* the thread level: an interval is refused below MPI_THREAD_SERIALIZED,
     * saying why; the default then goes without the thread */
    setenv("RNN_MPI_PROGRESS", "100", 1);
    const int threads_ok = g_thread_level >= MPI_THREAD_SERIALIZED;
    if (!threads_ok) {
        ck_rnn(rnn_mpi_create(&w, NULL, &m), RNN_ERR_STATE);
        ck_errmsg("rnn_mpi_create: the environment variable RNN_MPI_PROGRESS asks for a "
                  "progress thread (100 us), which needs MPI_THREAD_SERIALIZED or "
                  "MPI_THREAD_MULTIPLE, but MPI was initialized with MPI_THREAD_FUNNELED");
        o.progress_us = 7;
        unsetenv("RNN_MPI_PROGRESS");
        ck_rnn(rnn_mpi_create(&w, &o, &m), RNN_ERR_STATE);
        ck_errmsg("options->progress_us asks for a progress thread (7 us)");
        /* RNN_MPI_PROGRESS=0 wins over the field */
        setenv("RNN_MPI_PROGRESS", "0", 1);
        ck_ok(rnn_mpi_create(&w, &o, &m));
        rnn_mpi_destroy(m);
    }
    /* RNN_MPI_PROGRESS_AUTO: a thread exactly when the level allows; it
     * tests a sum of 8 MB in flight (a wait of some milliseconds) */
    unsetenv("RNN_MPI_PROGRESS");
    ck_ok(rnn_mpi_create(&w, NULL, &m));
    const rnn_collective *pc;
    ck_ok(rnn_mpi_collective(m, &pc));
    enum { BIG = 2000000 };
    float *big = calloc(BIG, sizeof *big);
    ck_assert_ptr_nonnull(big);
    void *req;
    ck_assert_int_eq(pc->allreduce_sum(pc->user, big, BIG, &req), 0);
    /* 5 ms, and with a thread up to 2 s more until it has tested once: on a loaded machine
     * (CI beside other jobs) it may not get a core within 5 ms */
    struct timespec pause = {0, 5000000};
    rnn_mpi_stats ps = {.struct_size = sizeof ps};
    for (int i = 0; i < (threads_ok ? 400 : 1); i++) {
        nanosleep(&pause, NULL);
        ck_ok(rnn_mpi_get_stats(m, &ps));
        if (ps.progress_tests > 0)
            break;
    }
    ck_assert_int_eq(pc->wait(pc->user, req), 0);
    free(big);
    ck_ok(rnn_mpi_get_stats(m, &ps));
    rnn_mpi_destroy(m);
    AGREE(threads_ok ? ps.progress_tests > 0 : ps.progress_tests == 0,
          "thread level %d: %lld tests of the progress thread", g_thread_level,
          (long long)ps.progress_tests);
    if (saved)
        setenv("RNN_MPI_PROGRESS", saved, 1);
    else
        unsetenv("RNN_MPI_PROGRESS");
    free(saved);
    const rnn_collective *c = (const rnn_collective *)&c;
    ck_rnn(rnn_mpi_collective(NULL, &c), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(c);
    ck_errmsg("rnn_mpi_collective: mpi must not be NULL");
    ck_rnn(rnn_mpi_collective(g_mpi, NULL), RNN_ERR_INVALID_ARG);
    rnn_mpi_stats s = {.struct_size = sizeof s + 8};
    ck_rnn(rnn_mpi_get_stats(g_mpi, &s), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_mpi_get_stats: out->struct_size must be in");
    ck_rnn(rnn_mpi_get_stats(NULL, &s), RNN_ERR_INVALID_ARG);
    ck_rnn(rnn_mpi_reset_stats(NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_mpi_reset_stats: mpi must not be NULL");
    /* a short stats struct gets its prefix only */
    rnn_mpi_stats part;
    memset(&part, 0x55, sizeof part);
    part.struct_size = (uint32_t)offsetof(rnn_mpi_stats, allreduce_bytes);
    ck_ok(rnn_mpi_get_stats(g_mpi, &part));
    int64_t fill;
    memset(&fill, 0x55, sizeof fill);
    ck_assert(part.allreduce_bytes == fill);
    rnn_mpi_destroy(NULL);
    /* a second handle on the same communicator, created and destroyed by
     * every rank (collective calls) */
    ck_ok(rnn_mpi_create(&w, NULL, &m));
    ck_ok(rnn_mpi_collective(m, &c));
    ck_assert_int_eq(c->size, g_size);
    rnn_mpi_destroy(m);
    /* the inline wrapper that <rnn/mpi.h> declares after <mpi.h> */
    ck_ok(rnn_mpi_create_comm(MPI_COMM_WORLD, NULL, &m));
    ck_ok(rnn_mpi_collective(m, &c));
    ck_assert_int_eq(c->rank, g_rank);
    rnn_mpi_destroy(m);
}
END_TEST

/* ------------------------------------------------------------ train_step */

/* variants: 0 SGD, global batch 8; 1 Adam, 8; 2 SGD, 7 (not divisible) */
START_TEST(train_step_shares_equal_one_process)
{
    const rnn_optimizer_type opt = _i == 1 ? RNN_OPTIM_ADAM : RNN_OPTIM_SGD;
    const int64_t B = _i == 2 ? 7 : 8;
    enum { K = 5 };
    mt_data d;
    ck_assert_int_eq(mt_data_make(&d, B * K, 7 + (uint64_t)_i, 1), 0);
    rnn_model *ref = mt_model(0, opt), *m = mt_model(0, opt);
    ck_assert(ref && m);
    ck_ok(rnn_model_set_collective(m, g_coll));
    int rank = -1, size = -1;
    ck_ok(rnn_model_collective_rank(m, &rank, &size));
    ck_assert_int_eq(rank, g_rank);
    ck_assert_int_eq(size, g_size);
    ck_ok(rnn_mpi_reset_stats(g_mpi));
    double worst_loss = 0;
    for (int k = 0; k < K; k++) {
        int64_t s, e;
        mt_share(B, g_rank, g_size, &s, &e);
        rnn_tensor *xa = mt_rows(d.x, B * k, B * (k + 1)), *la = mt_rows(d.len, B * k, B * (k + 1)),
                   *ya = mt_rows(d.y, B * k, B * (k + 1));
        rnn_tensor *xs = mt_rows(d.x, B * k + s, B * k + e), *ls = mt_rows(d.len, B * k + s, B * k + e),
                   *ys = mt_rows(d.y, B * k + s, B * k + e);
        ck_assert(xa && la && ya && xs && ls && ys);
        const rnn_tensor *in[1] = {xa}, *len[1] = {la}, *ins[1] = {xs}, *lens[1] = {ls};
        float lr = 0, ld = 0, ar = 0, ad = 0;
        ck_ok(rnn_model_train_step(ref, 1, in, len, ya, &lr, &ar));
        ck_ok(rnn_model_train_step(m, 1, ins, lens, ys, &ld, &ad));
        double rel = fabs((double)ld - (double)lr) / fmax(fabs((double)lr), 1e-30);
        worst_loss = rel > worst_loss ? rel : worst_loss;
        /* the accuracy is over the global batch too */
        AGREE(fabs((double)ad - (double)ar) < 1e-6, "step %d: accuracy %g, one process %g", k,
              (double)ad, (double)ar);
        rnn_tensor_destroy(xa), rnn_tensor_destroy(la), rnn_tensor_destroy(ya);
        rnn_tensor_destroy(xs), rnn_tensor_destroy(ls), rnn_tensor_destroy(ys);
    }
    const double rel = mt_max(g_comm, mt_rel_diff(m, ref));
    const int64_t n = mt_weights(m, NULL);
    float *w = malloc(sizeof *w * (size_t)n);
    mt_weights(m, w);
    const double spread = mt_spread(g_comm, w, n);
    rnn_mpi_stats st = {.struct_size = sizeof st};
    ck_ok(rnn_mpi_get_stats(g_mpi, &st));
    if (g_rank == 0)
        printf("train_step %s, global batch %lld, %d ranks: weights %.3g relative to one "
               "process, spread over the ranks %.3g, loss %.3g; %lld sums, %lld bytes "
               "(%lld per step, %lld parameters), %lld done before their wait; in flight "
               "%.4f s, waiting %.4f s\n",
               opt == RNN_OPTIM_SGD ? "SGD+momentum" : "Adam", (long long)B, g_size, rel,
               spread, worst_loss, (long long)st.allreduces, (long long)st.allreduce_bytes,
               (long long)(st.allreduce_bytes / K), (long long)n,
               (long long)st.completed_before_wait, st.inflight_seconds, st.wait_seconds);
    AGREE(rel <= 1e-6, "weights differ from one process by %g (relative)", rel);
    AGREE(spread == 0, "the ranks' weights differ by %g", spread);
    AGREE(worst_loss <= 1e-5, "the step loss differs from one process' by %g", worst_loss);
    /* every parameter's gradient was summed: at least 4 bytes per parameter and step */
    AGREE(st.allreduce_bytes >= 4 * n * K, "%lld bytes summed for %lld parameters",
          (long long)st.allreduce_bytes, (long long)n);
    free(w);
    rnn_model_destroy(ref);
    rnn_model_destroy(m);
    mt_data_free(&d);
}
END_TEST

/* ------------------------------------------------------------ fit */

typedef struct epochs_seen {
    int n;
    float loss[4], val_loss[4];
} epochs_seen;

static int on_epoch(void *user, const rnn_epoch_log *log)
{
    epochs_seen *e = user;
    if (e->n < 4) {
        e->loss[e->n] = log->loss;
        e->val_loss[e->n] = log->val_loss;
    }
    e->n++;
    return 0;
}

static rnn_status fit(rnn_model *m, const mt_data *tr, const mt_data *va, int64_t batch,
                      epochs_seen *seen, rnn_fit_result *res)
{
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = batch;
    fo.epochs = 2;
    fo.shuffle = 1;
    fo.seed = 11;
    fo.validation_data = &va->d;
    fo.on_epoch = on_epoch;
    fo.user = seen;
    *res = (rnn_fit_result){.struct_size = sizeof *res};
    return rnn_model_fit(m, &tr->d, &fo, res);
}

/* variants: 0 40 samples in batches of 8, SGD; 1 41 samples in batches of 8,
 * Adam: the last batch has 1 sample, so that rank 1 gets an empty share */
START_TEST(fit_equals_one_process)
{
    const int64_t n = _i ? 41 : 40, batch = 8;
    const rnn_optimizer_type opt = _i ? RNN_OPTIM_ADAM : RNN_OPTIM_SGD;
    mt_data tr, va;
    ck_assert_int_eq(mt_data_make(&tr, n, 21, 0), 0);
    ck_assert_int_eq(mt_data_make(&va, 13, 22, 0), 0);
    rnn_model *ref = mt_model(1, opt), *m = mt_model(1, opt);
    ck_assert(ref && m);
    epochs_seen er = {0}, ed = {0};
    rnn_fit_result rr, rd;
    ck_ok(fit(ref, &tr, &va, batch, &er, &rr));
    ck_ok(rnn_model_set_collective(m, g_coll));
    ck_ok(rnn_mpi_reset_stats(g_mpi));
    ck_ok(fit(m, &tr, &va, batch, &ed, &rd));
    rnn_mpi_stats ps = {.struct_size = sizeof ps};
    ck_ok(rnn_mpi_get_stats(g_mpi, &ps));
    if (g_rank == 0)
        printf("fit: %lld sums, %lld done before their wait; progress thread: %lld tests, "
               "%lld sums found complete\n", (long long)ps.allreduces,
               (long long)ps.completed_before_wait, (long long)ps.progress_tests,
               (long long)ps.completed_by_progress);
    AGREE(g_progress ? ps.progress_tests > 0 : ps.progress_tests == 0 &&
                                                  ps.completed_by_progress == 0,
          "progress thread %s, but %lld tests of it", g_progress ? "on" : "off",
          (long long)ps.progress_tests);
    ck_assert_int_eq(rd.epochs_run, 2);
    ck_assert_int_eq(ed.n, 2);
    const double rel = mt_max(g_comm, mt_rel_diff(m, ref));
    const int64_t nw = mt_weights(m, NULL);
    float *w = malloc(sizeof *w * (size_t)(nw + 4));
    mt_weights(m, w);
    w[nw] = ed.loss[0], w[nw + 1] = ed.val_loss[0];
    w[nw + 2] = rd.last.loss, w[nw + 3] = rd.last.val_loss;
    const double spread = mt_spread(g_comm, w, nw + 4);
    double fig = 0;
    for (int e = 0; e < 2; e++) {
        fig = fmax(fig, fabs((double)ed.loss[e] - er.loss[e]) / fabs((double)er.loss[e]));
        fig = fmax(fig, fabs((double)ed.val_loss[e] - er.val_loss[e]) / fabs((double)er.val_loss[e]));
    }
    fig = mt_max(g_comm, isnan(fig) ? INFINITY : fig);
    if (g_rank == 0)
        printf("fit, %lld samples in batches of %lld, %d ranks: weights %.3g relative to one "
               "process, spread %.3g; loss %.6f/%.6f val_loss %.6f/%.6f (one process "
               "%.6f/%.6f, %.6f/%.6f)\n",
               (long long)n, (long long)batch, g_size, rel, spread, (double)ed.loss[0],
               (double)ed.loss[1], (double)ed.val_loss[0], (double)ed.val_loss[1],
               (double)er.loss[0], (double)er.loss[1], (double)er.val_loss[0],
               (double)er.val_loss[1]);
    AGREE(rel <= 1e-6, "weights differ from one process by %g (relative)", rel);
    AGREE(spread == 0, "the ranks' weights or figures differ by %g", spread);
    AGREE(fig <= 1e-5, "loss or val_loss differ from one process by %g (relative)", fig);
    free(w);
    rnn_model_destroy(ref);
    rnn_model_destroy(m);
    mt_data_free(&tr);
    mt_data_free(&va);
}
END_TEST

/* ------------------------------------------------------------ stopping */

typedef struct stop_seen {
    int stop_rank; /* whose on_batch asks to stop after batch (0, 2); -1: one process */
    int rank, n, last_epoch, last_batch;
} stop_seen;

static int on_batch_stop(void *user, const rnn_batch_log *log)
{
    stop_seen *s = user;
    s->n++;
    s->last_epoch = log->epoch;
    s->last_batch = (int)log->batch;
    return (s->stop_rank < 0 || s->rank == s->stop_rank) && log->epoch == 0 && log->batch == 2;
}

/* The last rank's on_batch asks to stop after the third of five batches
 * (mid-epoch): every rank has seen those three batches and no other, stops
 * with RNN_FIT_CALLBACK, and holds the weights of one process stopped
 * there. */
START_TEST(a_stop_on_one_rank_stops_every_rank_after_that_batch)
{
    mt_data tr;
    ck_assert_int_eq(mt_data_make(&tr, 40, 23, 0), 0);
    rnn_model *ref = mt_model(1, RNN_OPTIM_SGD), *m = mt_model(1, RNN_OPTIM_SGD);
    ck_assert(ref && m);
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = 8;
    fo.epochs = 2;
    fo.shuffle = 1;
    fo.seed = 5;
    fo.on_batch = on_batch_stop;
    stop_seen sr = {-1, g_rank, 0, -1, -1}, sd = {g_size - 1, g_rank, 0, -1, -1};
    rnn_fit_result rr = {.struct_size = sizeof rr}, rd = {.struct_size = sizeof rd};
    fo.user = &sr;
    ck_ok(rnn_model_fit(ref, &tr.d, &fo, &rr));
    ck_assert(rr.stop == RNN_FIT_CALLBACK && sr.n == 3);
    ck_ok(rnn_model_set_collective(m, g_coll));
    fo.user = &sd;
    const rnn_status st = rnn_model_fit(m, &tr.d, &fo, &rd);
    AGREE(st == RNN_OK, "rank %d: %s", g_rank, rnn_last_error());
    AGREE(sd.n == 3 && sd.last_epoch == 0 && sd.last_batch == 2,
          "rank %d saw %d batches, the last (%d, %d); one process 3, the last (0, 2)", g_rank,
          sd.n, sd.last_epoch, sd.last_batch);
    AGREE(rd.stop == RNN_FIT_CALLBACK && rd.epochs_run == 1, "rank %d: stop %d after %d epochs",
          g_rank, (int)rd.stop, rd.epochs_run);
    const double rel = mt_max(g_comm, mt_rel_diff(m, ref));
    const int64_t nw = mt_weights(m, NULL);
    float *w = malloc(sizeof *w * (size_t)nw);
    mt_weights(m, w);
    const double spread = mt_spread(g_comm, w, nw);
    if (g_rank == 0)
        printf("stop on rank %d after batch 3 of 5: weights %.3g relative to one process, "
               "spread %.3g\n", g_size - 1, rel, spread);
    AGREE(rel <= 1e-6, "weights differ from one process by %g (relative)", rel);
    AGREE(spread == 0, "the ranks' weights differ by %g", spread);
    free(w);
    rnn_model_destroy(ref);
    rnn_model_destroy(m);
    mt_data_free(&tr);
}
END_TEST

/* ------------------------------------------------------------ errors */

/* A bad label in the last rank's copy of the data: every rank's fit fails,
 * nothing is trained, and no rank waits for the timeout. */
START_TEST(bad_label_on_one_rank_fails_every_rank)
{
    mt_data tr;
    ck_assert_int_eq(mt_data_make(&tr, 24, 31, 0), 0);
    if (g_rank == g_size - 1) {
        int64_t idx[2] = {20, 0};
        ck_ok(rnn_tensor_set_i32(tr.y, 2, idx, MT_CLASSES));
    }
    rnn_model *m = mt_model(1, RNN_OPTIM_SGD), *fresh = mt_model(1, RNN_OPTIM_SGD);
    ck_assert(m && fresh);
    ck_ok(rnn_model_set_collective(m, g_coll));
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = 8;
    fo.epochs = 1;
    const double t0 = mt_now();
    rnn_status st = rnn_model_fit(m, &tr.d, &fo, NULL);
    const double took = mt_max(g_comm, mt_now() - t0);
    printf("rank %d: fit with a bad label on rank %d: %s: %s (%.2f s)\n", g_rank, g_size - 1,
           rnn_status_string(st), rnn_last_error(), took);
    fflush(stdout);
    AGREE(st != RNN_OK, "fit succeeded on rank %d", g_rank);
    AGREE(strlen(rnn_last_error()) > 0, "no message");
    AGREE(st == (g_rank == g_size - 1 ? RNN_ERR_RANGE : RNN_ERR_COLLECTIVE),
          "rank %d says %s", g_rank, rnn_status_string(st));
    AGREE(took < 10, "the ranks took %.1f s to fail", took);
    const double rel = mt_max(g_comm, mt_rel_diff(m, fresh));
    AGREE(rel == 0, "the weights moved by %g", rel);
    rnn_model_destroy(m);
    rnn_model_destroy(fresh);
    mt_data_free(&tr);
}
END_TEST

/* train_step: rank 1's third step is bad (variant 0: a label out of range;
 * 1: its copy of an embedding row is NaN, so its loss and gradient are not
 * finite): every rank's third step fails, the weights are those after the
 * second step (the one-process model's), equal on every rank. */
START_TEST(bad_step_on_one_rank_fails_that_step_everywhere)
{
    const int64_t B = 8;
    mt_data d;
    ck_assert_int_eq(mt_data_make(&d, B * 3, 41, 1), 0);
    rnn_model *ref = mt_model(0, RNN_OPTIM_SGD), *m = mt_model(0, RNN_OPTIM_SGD);
    ck_assert(ref && m);
    ck_ok(rnn_model_set_collective(m, g_coll));
    const int bad_rank = g_size - 1;
    rnn_status got[3] = {RNN_OK, RNN_OK, RNN_OK};
    double took = 0;
    for (int k = 0; k < 3; k++) {
        int64_t s, e;
        mt_share(B, g_rank, g_size, &s, &e);
        rnn_tensor *xa = mt_rows(d.x, B * k, B * (k + 1)), *la = mt_rows(d.len, B * k, B * (k + 1)),
                   *ya = mt_rows(d.y, B * k, B * (k + 1));
        rnn_tensor *xs = mt_rows(d.x, B * k + s, B * k + e), *ls = mt_rows(d.len, B * k + s, B * k + e),
                   *ys = mt_rows(d.y, B * k + s, B * k + e);
        if (k == 2 && g_rank == bad_rank) {
            if (_i == 0) {
                int64_t idx[2] = {0, 0};
                ck_ok(rnn_tensor_set_i32(ys, 2, idx, MT_CLASSES + 3));
            } else {
                /* the first token of this rank's share: its embedding row */
                int64_t idx[2] = {0, 0};
                int32_t tok;
                ck_ok(rnn_tensor_get_i32(xs, 2, idx, &tok));
                rnn_layer *emb;
                rnn_tensor *table;
                ck_ok(rnn_model_layer(m, 1, &emb));
                ck_ok(rnn_layer_param(emb, 0, NULL, &table, NULL));
                int64_t at[2] = {tok, 0};
                ck_ok(rnn_tensor_set_f32(table, 2, at, NAN));
                ck_ok(rnn_layer_params_changed(emb));
            }
        }
        const rnn_tensor *in[1] = {xa}, *len[1] = {la}, *ins[1] = {xs}, *lens[1] = {ls};
        if (k < 2)
            ck_ok(rnn_model_train_step(ref, 1, in, len, ya, NULL, NULL));
        const double t0 = mt_now();
        got[k] = rnn_model_train_step(m, 1, ins, lens, ys, NULL, NULL);
        if (k == 2) {
            took = mt_now() - t0;
            printf("rank %d: step 3 with %s on rank %d: %s: %s (%.2f s)\n", g_rank,
                   _i ? "a NaN weight" : "a bad label", bad_rank, rnn_status_string(got[k]),
                   rnn_last_error(), took);
            fflush(stdout);
        }
        rnn_tensor_destroy(xa), rnn_tensor_destroy(la), rnn_tensor_destroy(ya);
        rnn_tensor_destroy(xs), rnn_tensor_destroy(ls), rnn_tensor_destroy(ys);
    }
    AGREE(got[0] == RNN_OK && got[1] == RNN_OK, "steps 1-2: %d %d", got[0], got[1]);
    AGREE(got[2] != RNN_OK, "step 3 succeeded on rank %d", g_rank);
    /* the bad rank says what is wrong, the others that another rank failed */
    const rnn_status want = g_rank != bad_rank ? RNN_ERR_COLLECTIVE
                            : _i ? RNN_ERR_NUMERIC : RNN_ERR_RANGE;
    AGREE(got[2] == want, "step 3 gave %s on rank %d, expected %s", rnn_status_string(got[2]),
          g_rank, rnn_status_string(want));
    took = mt_max(g_comm, took);
    AGREE(took < 10, "the failing step took %.1f s", took);
    if (_i == 1 && g_rank == bad_rank) { /* put the reference's row back to compare */
        rnn_layer *emb, *eref;
        rnn_tensor *table, *tref;
        ck_ok(rnn_model_layer(m, 1, &emb));
        ck_ok(rnn_model_layer(ref, 1, &eref));
        ck_ok(rnn_layer_param(emb, 0, NULL, &table, NULL));
        ck_ok(rnn_layer_param(eref, 0, NULL, &tref, NULL));
        ck_ok(rnn_tensor_copy(table, tref));
    }
    const double rel = mt_max(g_comm, mt_rel_diff(m, ref));
    AGREE(rel <= 1e-6, "after the failed step the weights differ from 2 good steps by %g", rel);
    rnn_model_destroy(ref);
    rnn_model_destroy(m);
    mt_data_free(&d);
}
END_TEST

int main(int argc, char **argv)
{
    const char *progress = getenv("RNN_MPI_PROGRESS");
    g_progress = progress && atof(progress) > 0;
    MPI_Init_thread(&argc, &argv, g_progress ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED,
                    &g_thread_level);
    MPI_Comm_dup(MPI_COMM_WORLD, &g_comm);
    MPI_Comm_rank(g_comm, &g_rank);
    MPI_Comm_size(g_comm, &g_size);
    if (g_rank == 0)
        printf("progress thread: %s; MPI thread level %d\n", g_progress ? progress : "off",
               g_thread_level);
    rnn_set_num_threads(1);
    rnn_set_thread_policy(RNN_THREADS_FIXED);
    MPI_Comm world = MPI_COMM_WORLD;
    if (rnn_mpi_create(&world, NULL, &g_mpi) || rnn_mpi_collective(g_mpi, &g_coll)) {
        fprintf(stderr, "rank %d: %s\n", g_rank, rnn_last_error());
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    Suite *s = suite_create("mpi");
    TCase *tc = tcase_create("mpi");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, engine_sums_and_broadcasts);
    tcase_add_test(tc, api_errors_name_function_argument_value);
    tcase_add_loop_test(tc, train_step_shares_equal_one_process, 0, 3);
    tcase_add_loop_test(tc, fit_equals_one_process, 0, 2);
    tcase_add_test(tc, a_stop_on_one_rank_stops_every_rank_after_that_batch);
    tcase_add_test(tc, bad_label_on_one_rank_fails_every_rank);
    tcase_add_loop_test(tc, bad_step_on_one_rank_fails_that_step_everywhere, 0, 2);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    /* only rank 0 prints Check's lines; every rank runs the same tests */
    srunner_run_all(sr, g_rank == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    failed = mt_any(g_comm, failed);
    rnn_mpi_destroy(g_mpi);
    MPI_Comm_free(&g_comm);
    MPI_Finalize();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
