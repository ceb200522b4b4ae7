/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The librnn-mpi scenarios that end processes or span several mpirun
 * launches, driven and judged by run_mpi.py (each prints lines it checks):
 *
 *   mpi_modes fault             rank 1 kills itself (SIGKILL) in its 4th
 *                               batch; rank 0 prints what its fit returned,
 *                               if it returns before mpirun ends it
 *   mpi_modes stall SECONDS     rank 1 stops calling (sleeps 3 x SECONDS in
 *                               its 3rd batch) with a timeout of SECONDS:
 *                               both ranks' fits must fail with the timeout
 *   mpi_modes resume-train DIR  fit with checkpoints DIR/ckpt-rank<R>.rnn:
 *                               only rank 0's may exist afterwards
 *   mpi_modes resume-continue DIR OUT
 *                               every rank loads DIR/ckpt-rank0.rnn and trains
 *                               on; rank 0 saves OUT
 *   mpi_modes compare A B       (no MPI) the weights of A and B agree to 1e-6
 *   mpi_modes measure STEPS [ROUNDS [PROGRESS_US [MODELS]]]
 *                               the POS tagger's model (MODELS "tagger", the
 *                               default) and/or a deeper one ("deep"): steps
 *                               with and without overlapping the gradient
 *                               sums, and with a progress thread (figures
 *                               only; medians when ROUNDS > 1)
 *
 * These use rnn_mpi_create_world(), which initializes MPI itself, but for
 * measure, which initializes it with MPI_THREAD_SERIALIZED (the progress
 * thread's level) for all its handles.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mpi_util.h"

static int g_rank, g_size;
static double g_stall;

static void die(const char *what)
{
    fprintf(stderr, "rank %d: %s: %s\n", g_rank, what, rnn_last_error());
    fflush(stderr);
    exit(1);
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int on_batch_fault(void *user, const rnn_batch_log *log)
{
    if (g_rank == 1 && log->epoch == 0 && log->batch == 3) {
        printf("FAULT rank 1: killing itself (SIGKILL) after batch %lld\n",
               (long long)log->batch + 1);
        fflush(stdout);
        raise(SIGKILL);
    }
    return 0;
}

static int on_batch_stall(void *user, const rnn_batch_log *log)
{
    if (g_rank == 1 && log->epoch == 0 && log->batch == 2) {
        printf("STALL rank 1: sleeping %.0f s in batch 3\n", 3 * g_stall);
        fflush(stdout);
        sleep_s(3 * g_stall);
    }
    return 0;
}

static rnn_mpi *start(double timeout)
{
    rnn_mpi_options o;
    rnn_mpi_options_init(&o);
    if (timeout > 0)
        o.timeout_seconds = timeout;
    rnn_mpi *mpi;
    const rnn_collective *c;
    if (rnn_mpi_create_world(&o, &mpi) || rnn_mpi_collective(mpi, &c))
        die("rnn_mpi_create_world");
    g_rank = c->rank;
    g_size = c->size;
    rnn_set_num_threads(1);
    rnn_set_thread_policy(RNN_THREADS_FIXED);
    return mpi;
}

static rnn_model *attached(rnn_mpi *mpi)
{
    const rnn_collective *c;
    rnn_model *m = mt_model(1, RNN_OPTIM_SGD);
    if (!m || rnn_mpi_collective(mpi, &c) || rnn_model_set_collective(m, c))
        die("the model");
    return m;
}

/* fault and stall: a fit whose on_batch misbehaves on rank 1 */
static int misbehave(int stall)
{
    rnn_mpi *mpi = start(stall ? g_stall : 0);
    rnn_model *m = attached(mpi);
    mt_data tr;
    if (mt_data_make(&tr, 400, 5, 0))
        return 1;
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = 8;
    fo.epochs = 3;
    fo.on_batch = stall ? on_batch_stall : on_batch_fault;
    const double t0 = mt_now();
    rnn_status st = rnn_model_fit(m, &tr.d, &fo, NULL);
    const double took = mt_now() - t0;
    const char *tag = stall ? "STALL" : "FAULT";
    printf("%s rank %d: fit returned status %d after %.1f s: %s\n", tag, g_rank, (int)st, took,
           st ? rnn_last_error() : "");
    fflush(stdout);
    int ok = st == RNN_ERR_COLLECTIVE && strstr(rnn_last_error(), "no answer from the other ranks");
    if (stall) {
        printf("STALL rank %d: %s\n", g_rank, ok ? "ok" : "NOT the timeout error");
        fflush(stdout);
        /* both ranks report before either ends (an exit without
         * MPI_Finalize makes mpirun end the job) */
        MPI_Barrier(MPI_COMM_WORLD);
    }
    rnn_model_destroy(m);
    rnn_mpi_destroy(mpi); /* after a timeout: frees no MPI object, does not finalize */
    mt_data_free(&tr);
    _exit(ok ? 0 : 3);
}

static int resume_train(const char *dir)
{
    rnn_mpi *mpi = start(0);
    rnn_model *m = attached(mpi);
    mt_data tr, va;
    if (mt_data_make(&tr, 48, 61, 0) || mt_data_make(&va, 16, 62, 0))
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/ckpt-rank%d.rnn", dir, g_rank);
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = 6;
    fo.epochs = 3;
    fo.validation_data = &va.d;
    fo.checkpoint_path = path;
    rnn_fit_result res = {.struct_size = sizeof res};
    if (rnn_model_fit(m, &tr.d, &fo, &res))
        die("rnn_model_fit with checkpoints");
    MPI_Barrier(MPI_COMM_WORLD);
    int bad = 0;
    for (int r = 0; r < g_size; r++) {
        char p[4096];
        struct stat sb;
        snprintf(p, sizeof p, "%s/ckpt-rank%d.rnn", dir, r);
        int exists = stat(p, &sb) == 0;
        if (exists != (r == 0)) {
            printf("RESUME-TRAIN rank %d: %s %s\n", g_rank, p,
                   exists ? "exists: a rank other than 0 wrote a checkpoint"
                          : "is missing: rank 0 wrote no checkpoint");
            bad = 1;
        }
    }
    if (!bad)
        printf("RESUME-TRAIN rank %d: ok, best epoch %d, only rank 0 wrote its checkpoint\n",
               g_rank, res.best_epoch + 1);
    fflush(stdout);
    bad = mt_any(MPI_COMM_WORLD, bad);
    rnn_model_destroy(m);
    rnn_mpi_destroy(mpi);
    mt_data_free(&tr);
    mt_data_free(&va);
    return bad;
}

static int resume_continue(const char *dir, const char *out)
{
    rnn_mpi *mpi = start(0);
    char path[4096];
    snprintf(path, sizeof path, "%s/ckpt-rank0.rnn", dir);
    rnn_model *m;
    const rnn_collective *c;
    if (rnn_model_load(path, NULL, &m))
        die("rnn_model_load");
    if (mt_compile(m, RNN_OPTIM_SGD))
        return 1;
    if (rnn_mpi_collective(mpi, &c) || rnn_model_set_collective(m, c))
        die("rnn_model_set_collective");
    mt_data tr;
    if (mt_data_make(&tr, 48, 63, 0))
        return 1;
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = 6; /* divisible by 1, 2 and 3 ranks */
    fo.epochs = 2;
    fo.seed = 3;
    rnn_fit_result res = {.struct_size = sizeof res};
    if (rnn_model_fit(m, &tr.d, &fo, &res))
        die("rnn_model_fit after resuming");
    if (g_rank == 0 && rnn_model_save(m, out))
        die("rnn_model_save");
    printf("RESUME-CONTINUE rank %d of %d: ok, loss %.6f\n", g_rank, g_size,
           (double)res.last.loss);
    fflush(stdout);
    rnn_model_destroy(m);
    rnn_mpi_destroy(mpi);
    mt_data_free(&tr);
    return 0;
}

/* The POS tagger's model (examples/pos_tagging: Embedding 10176 x 100,
 * Bidirectional GRU 128, Dense 12 per step) on random sentences of 25
 * tokens, global batches of 64: steps with and without the overlap of the
 * gradient sums with the backward, and what the sums cost (rank 0 prints). */
/* The models measured: "tagger", the POS tagger's (Embedding 10176 x 100,
 * bidirectional GRU 128, Dense 12: 3 buckets), and "deep", two stacked
 * LSTM 256 layers between the same Embedding and Dense (4 buckets: the
 * upper LSTM's can travel during the lower one's backward). */
static rnn_model *measured_model(int deep)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 1;
    rnn_model *m;
    int64_t any[1] = {0};
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 10176, e.output_dim = 100;
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, deep ? RNN_LSTM : RNN_GRU);
    r.units = deep ? 256 : 128, r.bidirectional = !deep, r.return_sequences = 1;
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 12, d.activation = RNN_ACT_SOFTMAX;
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    c.reduction = RNN_REDUCTION_MASKED_MEAN;
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    if (rnn_model_create(&mo, &m) || rnn_model_add_input(m, RNN_I32, 1, any, NULL) ||
        rnn_model_add_embedding(m, &e, NULL) || rnn_model_add_recurrent(m, &r, NULL) ||
        (deep && rnn_model_add_recurrent(m, &r, NULL)) || rnn_model_add_dense(m, &d, NULL) ||
        rnn_model_compile(m, &c, &o))
        die("the measured model");
    return m;
}

enum { CONFIGS = 3, MAX_ROUNDS = 64 };
static const char *const config_name[CONFIGS] = {"overlap", "no overlap", "progress"};

typedef struct measured {
    double step, inflight, wait, before, progress_tests; /* per step; before: a fraction */
} measured;

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(const measured *v, int n, size_t field)
{
    double x[MAX_ROUNDS];
    for (int i = 0; i < n; i++)
        x[i] = *(const double *)((const char *)&v[i] + field);
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* One measurement: STEPS train_step calls of global batch 64 x 25 tokens
 * after 3 of warm-up, on handle mpi. */
static measured measure_one(rnn_mpi *mpi, int deep, int steps, const char *label)
{
    enum { B = 64, TT = 25 };
    int64_t lo = (int64_t)B * g_rank / g_size, hi = (int64_t)B * (g_rank + 1) / g_size;
    int64_t xd[2] = {hi - lo, TT};
    rnn_tensor *x, *y;
    if (rnn_tensor_create(RNN_I32, 2, xd, &x) || rnn_tensor_create(RNN_I32, 2, xd, &y))
        die("tensors");
    int32_t *xp, *yp;
    rnn_tensor_data(x, (void **)&xp);
    rnn_tensor_data(y, (void **)&yp);
    uint64_t s = 99 + (uint64_t)g_rank;
    for (int64_t i = 0; i < (hi - lo) * TT; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        xp[i] = (int32_t)(1 + (s >> 33) % 10175);
        yp[i] = (int32_t)((s >> 20) % 12);
    }
    const rnn_tensor *in[1] = {x};
    rnn_model *m = measured_model(deep);
    const rnn_collective *c;
    if (rnn_mpi_collective(mpi, &c) || rnn_model_set_collective(m, c))
        die("rnn_model_set_collective");
    for (int w = 0; w < 3; w++) /* warm-up: oneDNN primitives, buffers */
        if (rnn_model_train_step(m, 1, in, NULL, y, NULL, NULL))
            die("rnn_model_train_step");
    rnn_mpi_reset_stats(mpi);
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = mt_now();
    for (int i = 0; i < steps; i++)
        if (rnn_model_train_step(m, 1, in, NULL, y, NULL, NULL))
            die("rnn_model_train_step");
    const double step = (mt_now() - t0) / steps;
    rnn_mpi_stats st = {.struct_size = sizeof st};
    rnn_mpi_get_stats(mpi, &st);
    int64_t params = 0;
    rnn_model_count_params(m, &params);
    if (g_rank == 0)
        printf("MEASURE %s %s: %d ranks, %lld parameters, batch %d x %d tokens: step %.2f ms; "
               "per step %.0f bytes in %.1f sums, in flight %.2f ms, waiting %.2f ms; "
               "%lld of %lld sums done before their wait; progress thread: %.1f tests, "
               "%lld sums found complete\n",
               deep ? "deep" : "tagger", label, g_size, (long long)params, B, TT, 1e3 * step,
               (double)st.allreduce_bytes / steps, (double)st.allreduces / steps,
               1e3 * st.inflight_seconds / steps, 1e3 * st.wait_seconds / steps,
               (long long)st.completed_before_wait, (long long)st.allreduces,
               (double)st.progress_tests / steps, (long long)st.completed_by_progress);
    fflush(stdout);
    rnn_model_destroy(m);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    return (measured){1e3 * step, 1e3 * st.inflight_seconds / steps,
                      1e3 * st.wait_seconds / steps,
                      st.allreduces ? (double)st.completed_before_wait / (double)st.allreduces
                                    : 0.0,
                      (double)st.progress_tests / steps};
}

/* measure STEPS ROUNDS PROGRESS_US MODELS: each round measures every model
 * in the three configurations (overlap; no overlap; overlap with a progress
 * thread testing every PROGRESS_US us), starting each round with another
 * configuration, then prints the medians over the rounds. MPI is
 * initialized with MPI_THREAD_SERIALIZED for all three handles. */
static int measure(int steps, int rounds, unsigned progress_us, const char *models)
{
    int provided = 0;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
    if (provided < MPI_THREAD_SERIALIZED) {
        fprintf(stderr, "measure: MPI provides only thread level %d\n", provided);
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    rnn_set_num_threads(1);
    rnn_set_thread_policy(RNN_THREADS_FIXED);
    rnn_mpi *mpi[CONFIGS];
    MPI_Comm world = MPI_COMM_WORLD;
    for (int k = 0; k < CONFIGS; k++) {
        rnn_mpi_options o;
        rnn_mpi_options_init(&o);
        o.flags = k == 1 ? RNN_COLLECTIVE_NO_OVERLAP : 0;
        o.progress_us = k == 2 ? progress_us : 0;
        if (rnn_mpi_create(&world, &o, &mpi[k]))
            die("rnn_mpi_create");
    }
    const int use[2] = {strstr(models, "tagger") != NULL, strstr(models, "deep") != NULL};
    static measured res[2][CONFIGS][MAX_ROUNDS];
    for (int r = 0; r < rounds; r++)
        for (int deep = 0; deep < 2; deep++)
            for (int j = 0; use[deep] && j < CONFIGS; j++) {
                const int k = (r + j) % CONFIGS;
                char label[48];
                snprintf(label, sizeof label, k == 2 ? "%s %u us" : "%s", config_name[k],
                         progress_us);
                res[deep][k][r] = measure_one(mpi[k], deep, steps, label);
            }
    for (int deep = 0; deep < 2; deep++)
        for (int k = 0; use[deep] && rounds > 1 && k < CONFIGS; k++)
            if (g_rank == 0)
                printf("MEDIAN %s %s over %d rounds of %d steps: step %.2f ms; in flight "
                       "%.2f ms, waiting %.2f ms; %.0f%% of the sums done before their wait; "
                       "%.1f progress tests per step\n",
                       deep ? "deep" : "tagger", config_name[k], rounds,
                       steps, median(res[deep][k], rounds, offsetof(measured, step)),
                       median(res[deep][k], rounds, offsetof(measured, inflight)),
                       median(res[deep][k], rounds, offsetof(measured, wait)),
                       100 * median(res[deep][k], rounds, offsetof(measured, before)),
                       median(res[deep][k], rounds, offsetof(measured, progress_tests)));
    for (int k = CONFIGS - 1; k >= 0; k--)
        rnn_mpi_destroy(mpi[k]);
    MPI_Finalize();
    return 0;
}

static int compare(const char *a, const char *b)
{
    rnn_model *ma, *mb;
    if (rnn_model_load(a, NULL, &ma) || rnn_model_load(b, NULL, &mb))
        die("rnn_model_load");
    double rel = mt_rel_diff(ma, mb);
    printf("COMPARE: %s vs %s: %.3g relative\n", a, b, rel);
    rnn_model_destroy(ma);
    rnn_model_destroy(mb);
    return rel <= 1e-6 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "fault"))
        return misbehave(0);
    if (!strcmp(mode, "stall") && argc == 3) {
        g_stall = atof(argv[2]);
        return g_stall > 0 ? misbehave(1) : 2;
    }
    if (!strcmp(mode, "resume-train") && argc == 3)
        return resume_train(argv[2]);
    if (!strcmp(mode, "resume-continue") && argc == 4)
        return resume_continue(argv[2], argv[3]);
    if (!strcmp(mode, "measure") && argc >= 3 && argc <= 6) {
        const int steps = atoi(argv[2]) > 0 ? atoi(argv[2]) : 20;
        const int rounds = argc > 3 ? atoi(argv[3]) : 1;
        const long us = argc > 4 ? atol(argv[4]) : 50;
        if (rounds < 1 || rounds > MAX_ROUNDS || us < 1 || us > 1000000)
            return 2;
        return measure(steps, rounds, (unsigned)us, argc > 5 ? argv[5] : "tagger");
    }
    if (!strcmp(mode, "compare") && argc == 4)
        return compare(argv[2], argv[3]);
    fprintf(stderr, "usage: mpi_modes fault | stall SECONDS | resume-train DIR | "
                    "resume-continue DIR OUT | compare A B | measure STEPS [ROUNDS "
                    "[PROGRESS_US [tagger,deep]]]\n");
    return 2;
}
