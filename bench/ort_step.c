/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ort_step: one-step recurrent inference through ONNX Runtime's C API, the
 * peer that serving code in C would use, for bench/run_all.py's
 * infer_step cases. The model is the case's torch.nn.LSTM/GRU exported by
 * bench/ort_cases.py --export (inputs x (1, 1, I) and the states s0[, s1]
 * (1, 1, H); outputs y and the new states), run with the state carried from
 * step to step as rnn_bench carries it.
 *
 *   ort_step MODEL.onnx [--threads N] [--runs N] [--warmup N]
 *
 * Prints one JSON object: {"median_ms", "min_ms", "runs", "threads", "ort"}.
 * Built outside meson (ONNX Runtime is not a librnn dependency): Debian
 * trixie's libonnxruntime-dev,
 *   cc -O2 bench/ort_step.c -I/usr/include/onnxruntime -lonnxruntime -o ort_step
 */
#define _POSIX_C_SOURCE 200809L
#include <onnxruntime_c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const OrtApi *api;

static void check(OrtStatus *s, const char *what)
{
    if (s) {
        fprintf(stderr, "ort_step: %s: %s\n", what, api->GetErrorMessage(s));
        api->ReleaseStatus(s);
        exit(1);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    const char *model = NULL;
    int threads = 2, runs = 201, warmup = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            warmup = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !model)
            model = argv[i];
        else {
            fprintf(stderr, "usage: ort_step MODEL.onnx [--threads N] [--runs N] [--warmup N]\n");
            return 2;
        }
    }
    if (!model || threads < 1 || runs < 1 || warmup < 0) {
        fprintf(stderr, "usage: ort_step MODEL.onnx [--threads N] [--runs N] [--warmup N]\n");
        return 2;
    }
    api = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    OrtEnv *env;
    check(api->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "ort_step", &env), "CreateEnv");
    OrtSessionOptions *so;
    check(api->CreateSessionOptions(&so), "CreateSessionOptions");
    check(api->SetIntraOpNumThreads(so, threads), "SetIntraOpNumThreads");
    check(api->SetInterOpNumThreads(so, 1), "SetInterOpNumThreads");
    check(api->SetSessionExecutionMode(so, ORT_SEQUENTIAL), "SetSessionExecutionMode");
    check(api->SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL), "optimization level");
    OrtSession *sess;
    check(api->CreateSession(env, model, so, &sess), "CreateSession");
    OrtAllocator *alloc;
    check(api->GetAllocatorWithDefaultOptions(&alloc), "allocator");
    size_t n_in, n_out;
    check(api->SessionGetInputCount(sess, &n_in), "input count");
    check(api->SessionGetOutputCount(sess, &n_out), "output count");
    if (n_in < 2 || n_in > 3 || n_out != n_in) {
        fprintf(stderr, "ort_step: %s: expected x and 1 or 2 states in and out\n", model);
        return 1;
    }
    char *in_names[3], *out_names[3];
    float *in_buf[3];
    int64_t dims[3][3];
    OrtValue *in[3], *out[3] = {NULL, NULL, NULL};
    OrtMemoryInfo *mem;
    check(api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mem), "memory info");
    for (size_t k = 0; k < n_in; k++) {
        check(api->SessionGetInputName(sess, k, alloc, &in_names[k]), "input name");
        check(api->SessionGetOutputName(sess, k, alloc, &out_names[k]), "output name");
        OrtTypeInfo *ti;
        const OrtTensorTypeAndShapeInfo *tsi;
        size_t rank;
        check(api->SessionGetInputTypeInfo(sess, k, &ti), "input type");
        check(api->CastTypeInfoToTensorInfo(ti, &tsi), "tensor info");
        check(api->GetDimensionsCount(tsi, &rank), "rank");
        if (rank != 3) {
            fprintf(stderr, "ort_step: input %zu has rank %zu, expected 3\n", k, rank);
            return 1;
        }
        check(api->GetDimensions(tsi, dims[k], 3), "dims");
        api->ReleaseTypeInfo(ti);
        const size_t n = (size_t)(dims[k][0] * dims[k][1] * dims[k][2]);
        in_buf[k] = calloc(n, sizeof(float));
        if (!in_buf[k])
            return 1;
        for (size_t i = 0; k == 0 && i < n; i++) /* x: a fixed pattern in [-1, 1) */
            in_buf[k][i] = (float)((int)(i * 2654435761u % 2000) - 1000) / 1000.0f;
        check(api->CreateTensorWithDataAsOrtValue(mem, in_buf[k], n * sizeof(float), dims[k], 3,
                                                  ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &in[k]),
              "input tensor");
    }
    double *t = malloc(sizeof(double) * (size_t)runs);
    if (!t)
        return 1;
    for (int r = 0; r < warmup + runs; r++) {
        const double t0 = now_ms();
        check(api->Run(sess, NULL, (const char *const *)in_names, (const OrtValue *const *)in,
                       n_in, (const char *const *)out_names, n_out, out),
              "Run");
        /* carry the states: the new ones are the next step's inputs */
        for (size_t k = 1; k < n_in; k++) {
            float *p;
            check(api->GetTensorMutableData(out[k], (void **)&p), "output data");
            memcpy(in_buf[k], p, sizeof(float) * (size_t)(dims[k][0] * dims[k][1] * dims[k][2]));
        }
        for (size_t k = 0; k < n_out; k++) {
            api->ReleaseValue(out[k]);
            out[k] = NULL;
        }
        const double dt = now_ms() - t0;
        if (r >= warmup)
            t[r - warmup] = dt;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    printf("{\"median_ms\":%.5f,\"min_ms\":%.5f,\"runs\":%d,\"threads\":%d,\"ort\":\"%s\"}\n",
           t[runs / 2], t[0], runs, threads, OrtGetApiBase()->GetVersionString());
    for (size_t k = 0; k < n_in; k++) {
        api->ReleaseValue(in[k]);
        free(in_buf[k]);
        alloc->Free(alloc, in_names[k]);
        alloc->Free(alloc, out_names[k]);
    }
    free(t);
    api->ReleaseMemoryInfo(mem);
    api->ReleaseSession(sess);
    api->ReleaseSessionOptions(so);
    api->ReleaseEnv(env);
    return 0;
}
