/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the benchmark programs: the recurrent cases of rnn_bench (public API) and
 * kernel_bench (the raw backend kernels), mirrored by bench/compare_torch.py (PyTorch), whose
 * names, shapes and _varlen lengths must stay the same in all three; timing helpers.
 * Define _POSIX_C_SOURCE (clock_gettime) before including it.
 */
#ifndef RNN_BENCH_COMMON_H
#define RNN_BENCH_COMMON_H

#include <rnn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exits with status 1 naming the call and rnn_last_error() when it fails. */
#define BENCH_CHECK(prog, call)                                                            \
    do {                                                                                   \
        if ((call) != RNN_OK) {                                                            \
            fprintf(stderr, "%s: %s failed: %s\n", (prog), #call, rnn_last_error());       \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v (n >= 1) and returns its median. */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct bcase {
    const char *name;
    int train;
    rnn_cell_type cell;
    int64_t T, N, I, H;
    int layers, bi, varlen;
} bcase;

static const bcase CASES[] = {
    {"train_lstm_T100_N64_I512_H512_L1_uni", 1, RNN_LSTM, 100, 64, 512, 512, 1, 0, 0},
    {"train_gru_T100_N64_I512_H512_L1_uni", 1, RNN_GRU, 100, 64, 512, 512, 1, 0, 0},
    {"train_lstm_T100_N64_I256_H256_L2_uni", 1, RNN_LSTM, 100, 64, 256, 256, 2, 0, 0},
    {"train_lstm_T50_N32_I50_H64_L1_bi", 1, RNN_LSTM, 50, 32, 50, 64, 1, 1, 0},
    {"train_lstm_T100_N64_I512_H512_L1_uni_varlen", 1, RNN_LSTM, 100, 64, 512, 512, 1, 0, 1},
    {"infer_step_lstm_N1_I256_H512", 0, RNN_LSTM, 1, 1, 256, 512, 1, 0, 0},
    {"infer_step_gru_N1_I256_H512", 0, RNN_GRU, 1, 1, 256, 512, 1, 0, 0},
    {"infer_batch_lstm_T100_N64_I512_H512", 0, RNN_LSTM, 100, 64, 512, 512, 1, 0, 0},
    {"infer_batch_gru_T100_N64_I512_H512", 0, RNN_GRU, 100, 64, 512, 512, 1, 0, 0},
};
#define N_CASES (sizeof CASES / sizeof CASES[0])

/* One-step stateful inference (T = 1, state carried between calls); the other inference
 * cases (infer_batch_*) are batch throughput: the whole sequence, no state carried. */
static inline int bench_is_step(const bcase *c)
{
    return !c->train && c->T == 1;
}

/* The lengths of a _varlen case: 10 + (37 n mod 91), distinct values spread over 10..T
 * (T = 100), the same in compare_torch.py. Returns their sum (sample-steps). */
static inline double bench_lengths(const bcase *c, int32_t *len)
{
    double sum = 0;
    for (int64_t n = 0; n < c->N; n++) {
        int64_t L = 10 + (37 * n) % 91;
        len[n] = (int32_t)(L < c->T ? L : c->T);
        sum += len[n];
    }
    return sum;
}

/* Floating-point operations of one direction of one layer over sample_steps: forward GEMMs
 * 2*(I+H)*G*H per sample-step; backward twice that (data and weight gradients). */
static inline double layer_flops(const bcase *c, int64_t I, double sample_steps)
{
    int G = c->cell == RNN_LSTM ? 4 : c->cell == RNN_GRU ? 3 : 1;
    return 3.0 * 2.0 * sample_steps * (double)(I + c->H) * G * c->H;
}

/* Uniform numbers in [0, 1) from a fixed LCG (weights, inputs, gradients). */
static uint64_t bench_lcg = 12345;
static inline double urand(void)
{
    bench_lcg = bench_lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(bench_lcg >> 11) / 9007199254740992.0;
}

/* The command line shared by rnn_bench and kernel_bench:
 *   [--json] [--threads N] [--runs N] [--warmup N] [--case NAME] [--precision f32|bf16]
 *   [--list] [--help]
 * --precision bf16: the kernels in mixed precision (RNN_PRECISION_MIXED_BF16).
 * --case: the case of that exact name, else every case whose name contains NAME. */
typedef struct bench_opts {
    const char *prog;
    int json, threads;    /* threads: 2 */
    int runs, warmup;     /* 0 / -1: per case, 201 + 20 inference steps, else 7 + 2 */
    const char *filter;
    int bf16;             /* --precision bf16 */
} bench_opts;

/* Parses argv into o (prog set by the caller). extra (may be NULL) takes the
 * program's own options: it returns 1 after using argv[*i] (advancing *i past a value), 0 for
 * an unknown option, -1 for a bad value. Returns -1 to go on, or the exit status (0 after
 * --help or --list, 2 on a bad command line, after usage on stderr). */
static inline int bench_parse(bench_opts *o, int argc, char **argv,
                              int (*extra)(void *user, int argc, char **argv, int *i), void *user,
                              void (*usage)(FILE *))
{
    o->json = 0, o->threads = 2, o->runs = 0, o->warmup = -1, o->filter = NULL, o->bf16 = 0;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = 1;
        if (!strcmp(a, "--json"))
            o->json = 1;
        else if (!strcmp(a, "--threads") && v)
            o->threads = atoi(argv[++i]);
        else if (!strcmp(a, "--runs") && v)
            bad |= (o->runs = atoi(argv[++i])) < 1;
        else if (!strcmp(a, "--warmup") && v)
            bad |= (o->warmup = atoi(argv[++i])) < 0;
        else if (!strcmp(a, "--case") && v)
            o->filter = argv[++i];
        else if (!strcmp(a, "--precision") && v && (!strcmp(v, "f32") || !strcmp(v, "bf16")))
            o->bf16 = !strcmp(argv[++i], "bf16");
        else if (!strcmp(a, "--list")) {
            for (size_t k = 0; k < N_CASES; k++)
                printf("%s\n", CASES[k].name);
            return 0;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else
            r = extra ? extra(user, argc, argv, &i) : 0;
        if (r != 1) {
            usage(stderr);
            return 2;
        }
    }
    if (bad || o->threads < 1 || rnn_set_num_threads(o->threads) != RNN_OK) {
        fprintf(stderr, "%s: --threads and --runs must be >= 1, --warmup >= 0\n", o->prog);
        return 2;
    }
    return -1;
}

/* Runs run(c, runs, warmup, o, user) for every selected case; returns the exit status (2 when
 * --case selects none). */
static inline int bench_run(const bench_opts *o,
                            void (*run)(const bcase *c, int runs, int warmup,
                                        const bench_opts *o, void *user),
                            void *user)
{
    int exact = 0, found = 0; /* a full case name selects that case only */
    for (size_t k = 0; o->filter && k < N_CASES; k++)
        exact |= !strcmp(CASES[k].name, o->filter);
    for (size_t k = 0; k < N_CASES; k++) {
        const bcase *c = &CASES[k];
        if (o->filter && (exact ? strcmp(c->name, o->filter) != 0 : !strstr(c->name, o->filter)))
            continue;
        found = 1;
        run(c, o->runs > 0 ? o->runs : bench_is_step(c) ? 201 : 7,
            o->warmup >= 0 ? o->warmup : bench_is_step(c) ? 20 : 2, o, user);
    }
    if (!found) {
        fprintf(stderr, "%s: no case matches %s (see --list)\n", o->prog, o->filter);
        return 2;
    }
    return 0;
}

#endif
