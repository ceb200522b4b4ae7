/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kernel_bench: the cases of rnn_bench on the raw backend kernels
 * (lib/backend/backend.h: rnn__rnn_forward + rnn__rnn_backward, one kernel per
 * layer and direction), without the public API around them. The difference
 * from rnn_bench's time is librnn's own overhead: layout changes between the
 * batch-major tensors and the kernels' time-major buffers, gradient zeroing,
 * the SGD update, bidirectional concatenation, graph bookkeeping, and for
 * inference the state carried between calls and the argument checks.
 *
 *   kernel_bench [--json] [--threads N] [--runs N] [--warmup N] [--case SUBSTR]
 *                [--precision f32|bf16] [--list]
 *
 * A step: forward in training mode through every layer (a bidirectional
 * layer: both direction kernels on the same input), then backward from the
 * last layer to the first from a fixed output gradient (a lower layer gets the
 * sum of the upper directions' input gradients), with weight gradients
 * accumulated as the kernels define. Each step bumps the weights' version, so
 * the kernels re-import them as after an optimizer update (oneDNN reorders).
 * An inference step (infer_step_*): one forward in inference mode on T = 1,
 * N = 1, its final state fed back as the next call's initial state, as a
 * stateful layer carries it. On CPUs with AVX-512F the
 * backend's dispatch runs it on librnn's own step path (backend/step.c);
 * RNN_STEP_KERNEL=0 sends it to the oneDNN primitive. Batch inference (infer_batch_*): one forward in
 * inference mode over the whole batch, no state carried.
 * Same output format as rnn_bench (--json: one object per case, "kernel":true).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "bench_common.h"

#define CHECK(call) BENCH_CHECK("kernel_bench", call)

static float *randoms(size_t n, float scale)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (!p) {
        fprintf(stderr, "kernel_bench: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(urand() * 2 - 1) * scale;
    return p;
}

static float *zeros(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "kernel_bench: out of memory\n");
        exit(1);
    }
    return p;
}

/* One direction of one layer: its kernel, weights, gradients and buffers. */
typedef struct dir {
    rnn__rnn_kernel *k;
    rnn__rnn_weights w;
    float *wx, *wh, *b, *dwx, *dwh, *db, *y, *dx;
    float *h[2], *cs[2]; /* inference steps: the state, double-buffered */
    rnn__rnn_fwd f;
    rnn__rnn_bwd g;
} dir;

static void run_case(const bcase *c, int runs, int warmup, int json, int bf16)
{
    if (c->bi && c->layers > 1) { /* would need the directions' outputs concatenated */
        fprintf(stderr, "kernel_bench: %s: stacked bidirectional layers are not supported\n",
                c->name);
        exit(1);
    }
    rnn__ctx *ctx;
    CHECK(rnn__ctx_create(RNN__BACKEND_ONEDNN, &ctx));
    const char *isa;
    if (bf16 && !rnn__ctx_bf16_ok(ctx, &isa)) {
        fprintf(stderr, "kernel_bench: --precision bf16 needs AVX512-BF16 or AMX (oneDNN runs "
                        "this CPU as %s)\n", isa);
        exit(1);
    }
    const rnn__cell cell = c->cell == RNN_LSTM ? RNN__CELL_LSTM : RNN__CELL_LBR_GRU;
    const int G = rnn__cell_gates(cell), Gb = rnn__cell_bias_gates(cell);
    const int nd = c->bi ? 2 : 1;
    const int64_t T = c->T, N = c->N, H = c->H;
    int32_t *len = NULL;
    double sample_steps = (double)T * N, flops = 0;
    if (c->varlen) {
        len = malloc(sizeof(int32_t) * (size_t)N);
        sample_steps = bench_lengths(c, len);
    }
    float *x = randoms((size_t)(T * N * c->I), 1.0f);
    dir *d = calloc((size_t)(c->layers * nd), sizeof *d);
    float **sum_dx = calloc((size_t)c->layers, sizeof *sum_dx);
    int64_t in_feat = c->I;
    for (int l = 0; l < c->layers; l++) {
        for (int r = 0; r < nd; r++) {
            dir *e = &d[l * nd + r];
            rnn__rnn_shape s = {cell, T, N, in_feat, H, r};
            CHECK(rnn__rnn_create(ctx, &s, &e->k));
            e->wx = randoms((size_t)(in_feat * G * H), 0.05f);
            e->wh = randoms((size_t)(H * G * H), 0.05f);
            e->b = zeros((size_t)(Gb * H));
            e->dwx = zeros((size_t)(in_feat * G * H));
            e->dwh = zeros((size_t)(H * G * H));
            e->db = zeros((size_t)(Gb * H));
            e->y = zeros((size_t)(T * N * H));
            e->dx = l > 0 ? zeros((size_t)(T * N * in_feat)) : NULL; /* no dx for the input */
            e->w = (rnn__rnn_weights){e->wx, e->wh, e->b, 1};
            const float *in = l == 0 ? x : d[(l - 1) * nd].y;
            e->f = (rnn__rnn_fwd){.T = T, .N = N, .x = in, .lengths = len, .y = e->y,
                                  .training = c->train, .bf16 = bf16};
            if (bench_is_step(c)) { /* the state carried from call to call */
                e->h[0] = zeros((size_t)(N * H)), e->h[1] = zeros((size_t)(N * H));
                e->cs[0] = zeros((size_t)(N * H)), e->cs[1] = zeros((size_t)(N * H));
            }
            e->g = (rnn__rnn_bwd){.dx = e->dx, .dwx = e->dwx, .dwh = e->dwh, .db = e->db};
        }
        if (l > 0)
            sum_dx[l] = zeros((size_t)(T * N * in_feat));
        flops += layer_flops(c, in_feat, sample_steps) * nd;
        in_feat = H * nd;
    }
    /* dL/dy of a loss averaged over batch and time, as rnn_bench uses. */
    float *gy = randoms((size_t)(T * N * H), 1.0f / (float)(N * T));
    for (int l = 0; l < c->layers; l++)
        for (int r = 0; r < nd; r++)
            d[l * nd + r].g.dy = l == c->layers - 1 ? gy : sum_dx[l + 1];
    double *ms = malloc(sizeof(double) * (size_t)runs);
    for (int it = -warmup; it < runs; it++) {
        if (!c->train) {
            double t0 = now_ms();
            for (int i = 0; i < c->layers * nd; i++) {
                dir *e = &d[i];
                if (bench_is_step(c)) { /* h0 = the previous call's hT */
                    int cur = (it + warmup) & 1;
                    e->f.h0 = e->h[cur], e->f.hT = e->h[!cur];
                    if (cell == RNN__CELL_LSTM)
                        e->f.c0 = e->cs[cur], e->f.cT = e->cs[!cur];
                }
                CHECK(rnn__rnn_forward(e->k, &e->w, &e->f));
            }
            double dt = now_ms() - t0;
            if (it >= 0)
                ms[it] = dt;
            continue;
        }
        for (int i = 0; i < c->layers * nd; i++)
            d[i].w.version++; /* as after an optimizer step */
        double t0 = now_ms();
        for (int i = 0; i < c->layers * nd; i++)
            CHECK(rnn__rnn_forward(d[i].k, &d[i].w, &d[i].f));
        for (int l = c->layers - 1; l >= 0; l--) {
            for (int r = 0; r < nd; r++)
                CHECK(rnn__rnn_backward(d[l * nd + r].k, &d[l * nd + r].w, &d[l * nd + r].f,
                                        &d[l * nd + r].g));
            if (l > 0) { /* the lower layer's dy: the directions' dx summed */
                float *s = sum_dx[l];
                const size_t m = (size_t)(T * N) * (size_t)(H * nd);
                memcpy(s, d[l * nd].dx, sizeof(float) * m);
                for (int r = 1; r < nd; r++)
                    for (size_t i = 0; i < m; i++)
                        s[i] += d[l * nd + r].dx[i];
            }
        }
        double dt = now_ms() - t0;
        if (it >= 0)
            ms[it] = dt;
    }
    double med = bench_median(ms, runs);
    if (json) {
        printf("{\"case\":\"%s\",\"threads\":%d,\"runs\":%d,\"median_ms\":%.4f,\"min_ms\":%.4f,"
               "\"max_ms\":%.4f",
               c->name, rnn_get_num_threads(), runs, med, ms[0], ms[runs - 1]);
        if (c->train)
            printf(",\"gflops\":%.2f", flops / (med * 1e6));
        printf(",\"kernel\":true,\"precision\":\"%s\",\"librnn\":\"%s\"}\n",
               bf16 ? "bf16" : "f32", rnn_version_string());
    } else {
        printf("%-46s %3d thr  median %9.3f ms  min %9.3f  max %9.3f", c->name,
               rnn_get_num_threads(), med, ms[0], ms[runs - 1]);
        if (c->train)
            printf("  %7.1f GFLOP/s", flops / (med * 1e6));
        printf(" (kernels%s)\n", bf16 ? ", bf16" : "");
    }
    fflush(stdout);
    for (int i = 0; i < c->layers * nd; i++) {
        rnn__rnn_destroy(d[i].k);
        free(d[i].wx), free(d[i].wh), free(d[i].b), free(d[i].dwx), free(d[i].dwh);
        free(d[i].db), free(d[i].y), free(d[i].dx);
        free(d[i].h[0]), free(d[i].h[1]), free(d[i].cs[0]), free(d[i].cs[1]);
    }
    for (int l = 0; l < c->layers; l++)
        free(sum_dx[l]);
    free(sum_dx), free(d), free(gy), free(x), free(len), free(ms);
    rnn__ctx_destroy(ctx);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: kernel_bench [--json] [--threads N] [--runs N] [--warmup N] [--case SUBSTR]"
               " [--precision f32|bf16] [--list]\n");
}

static void run_one(const bcase *c, int runs, int warmup, const bench_opts *o, void *user)
{
    (void)user;
    run_case(c, runs, warmup, o->json, o->bf16);
}

int main(int argc, char **argv)
{
    bench_opts o = {.prog = "kernel_bench"};
    int rc = bench_parse(&o, argc, argv, NULL, NULL, usage);
    return rc >= 0 ? rc : bench_run(&o, run_one, NULL);
}
