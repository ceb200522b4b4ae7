/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rnn_bench: speed of recurrent training steps and one-step inference
 * through librnn's PUBLIC API, as a user's program would run them.
 *
 *   rnn_bench [--json] [--threads N] [--runs N] [--warmup N] [--case SUBSTR]
 *             [--backend onednn|reference] [--precision f32|bf16]
 *
 * A training step is forward (training) + backward from a fixed output
 * gradient + an SGD update of every weight (+ zeroing the gradients).
 * Inference steps run a stateful layer on T=1, N=1, carrying its state;
 * batch inference (infer_batch_*) runs the whole sequences in inference
 * mode, returning every step's output, with no state carried.
 * --case runs the cases whose names contain SUBSTR, or only the case named
 * SUBSTR exactly (bench/run_all.py runs each case in its own process).
 * Prints a table, or with --json one object per case per line:
 *   {"case":..., "threads":..., "runs":..., "median_ms":..., "min_ms":...,
 *    "max_ms":..., "gflops":..., "backend":..., "precision":"f32"|"bf16", "librnn":...}
 *   (gflops for training cases). --precision bf16 runs the model in mixed precision
 *   (rnn_model_set_precision(RNN_PRECISION_MIXED_BF16); refused without AVX512-BF16 or AMX).
 */
#define _POSIX_C_SOURCE 200809L
#include <rnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

#define CHECK(call) BENCH_CHECK("rnn_bench", call)

static rnn_tensor *random_tensor(int rank, const int64_t *dims)
{
    rnn_tensor *t;
    CHECK(rnn_tensor_create(RNN_F32, rank, dims, &t));
    float *p;
    int64_t n;
    CHECK(rnn_tensor_data(t, (void **)&p));
    CHECK(rnn_tensor_numel(t, &n));
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(urand() * 2 - 1);
    return t;
}

static void run_case(const bcase *c, int runs, int warmup, int json, rnn_backend be, int bf16)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 1;
    mo.backend = be;
    rnn_model *m;
    CHECK(rnn_model_create(&mo, &m));
    if (bf16)
        CHECK(rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16));
    int64_t shape[2] = {0, c->I};
    CHECK(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    double flops = 0;
    int64_t in_feat = c->I;
    double sample_steps = (double)c->T * c->N;
    int64_t xd[3] = {c->N, c->T, c->I}, ld[1] = {c->N};
    rnn_tensor *x = random_tensor(3, xd), *len = NULL;
    if (c->varlen) {
        CHECK(rnn_tensor_create(RNN_I32, 1, ld, &len));
        int32_t *lp;
        CHECK(rnn_tensor_data(len, (void **)&lp));
        sample_steps = bench_lengths(c, lp);
    }
    for (int k = 0; k < c->layers; k++) {
        rnn_recurrent_options o;
        rnn_recurrent_options_init(&o, c->cell);
        o.units = c->H;
        o.return_sequences = !bench_is_step(c);
        o.bidirectional = c->bi;
        o.stateful = bench_is_step(c);
        CHECK(rnn_model_add_recurrent(m, &o, NULL));
        flops += layer_flops(c, in_feat, sample_steps) * (c->bi ? 2 : 1);
        in_feat = c->bi ? 2 * c->H : c->H;
    }
    rnn_optimizer *opt = NULL;
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_SGD);
    CHECK(rnn_optimizer_create(m, &oo, &opt));
    const rnn_tensor *in[1] = {x}, *lens[1] = {len}, *y;
    rnn_tensor *gy = NULL;
    double *ms = malloc(sizeof(double) * (size_t)runs);
    for (int r = -warmup; r < runs; r++) {
        double t0 = now_ms();
        CHECK(rnn_model_forward(m, 1, in, lens, c->train));
        if (c->train) {
            if (!gy) {
                CHECK(rnn_model_output(m, 0, &y));
                int64_t yd[3];
                int rank;
                CHECK(rnn_tensor_shape(y, yd, 3, &rank));
                /* dL/dy of a loss averaged over batch and time, as Keras
                 * and PyTorch losses are: keeps weights in a realistic
                 * range over repeated SGD steps (a unit-scale gradient
                 * saturates the gates within a few steps and floods the
                 * kernels with denormals). */
                gy = random_tensor(rank, yd);
                float *pg;
                int64_t ng;
                CHECK(rnn_tensor_data(gy, (void **)&pg));
                CHECK(rnn_tensor_numel(gy, &ng));
                for (int64_t i = 0; i < ng; i++)
                    pg[i] /= (float)(c->N * c->T);
                t0 = now_ms(); /* creating the gradient is not part of the step */
                CHECK(rnn_model_forward(m, 1, in, lens, 1));
            }
            const rnn_tensor *g[1] = {gy};
            CHECK(rnn_model_zero_grad(m));
            CHECK(rnn_model_backward(m, 1, g));
            CHECK(rnn_optimizer_step(opt));
        }
        double dt = now_ms() - t0;
        if (r >= 0)
            ms[r] = dt;
    }
    double med = bench_median(ms, runs);
    if (json) {
        printf("{\"case\":\"%s\",\"threads\":%d,\"runs\":%d,\"median_ms\":%.4f,\"min_ms\":%.4f,"
               "\"max_ms\":%.4f",
               c->name, rnn_get_num_threads(), runs, med, ms[0], ms[runs - 1]);
        if (c->train)
            printf(",\"gflops\":%.2f", flops / (med * 1e6));
        printf(",\"backend\":\"%s\",\"precision\":\"%s\",\"librnn\":\"%s\"}\n",
               be == RNN_BACKEND_ONEDNN ? "onednn" : "reference", bf16 ? "bf16" : "f32",
               rnn_version_string());
    } else {
        printf("%-46s %3d thr  median %9.3f ms  min %9.3f  max %9.3f", c->name,
               rnn_get_num_threads(), med, ms[0], ms[runs - 1]);
        if (c->train)
            printf("  %7.1f GFLOP/s", flops / (med * 1e6));
        printf("%s\n", bf16 ? "  (bf16)" : "");
    }
    fflush(stdout);
    free(ms);
    rnn_tensor_destroy(gy);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(len);
    rnn_optimizer_destroy(opt);
    rnn_model_destroy(m);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: rnn_bench [--json] [--threads N] [--runs N] [--warmup N] [--case SUBSTR]\n"
               "                 [--backend onednn|reference] [--precision f32|bf16] [--list]\n");
}

/* --backend onednn|reference */
static int backend_option(void *user, int argc, char **argv, int *i)
{
    if (strcmp(argv[*i], "--backend") || *i + 1 >= argc)
        return 0;
    const char *b = argv[++*i];
    rnn_backend *be = user;
    if (!strcmp(b, "onednn"))
        *be = RNN_BACKEND_ONEDNN;
    else if (!strcmp(b, "reference"))
        *be = RNN_BACKEND_REFERENCE;
    else
        return -1;
    return 1;
}

static void run_one(const bcase *c, int runs, int warmup, const bench_opts *o, void *user)
{
    run_case(c, runs, warmup, o->json, *(const rnn_backend *)user, o->bf16);
}

int main(int argc, char **argv)
{
    bench_opts o = {.prog = "rnn_bench"};
    rnn_backend be = RNN_BACKEND_ONEDNN;
    int rc = bench_parse(&o, argc, argv, backend_option, &be, usage);
    return rc >= 0 ? rc : bench_run(&o, run_one, &be);
}
