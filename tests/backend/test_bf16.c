/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mixed precision (RNN_PRECISION_MIXED_BF16): bf16 operands, f32 accumulation, f32 everything
 * kept. White-box (links the internal copy: the rounding helpers, the bf16 matmul, the
 * dropout-mask hook of common/recurrent_cases.h).
 *
 * Tolerances. bf16 keeps 8 significant bits: rounding to nearest moves a value by at most
 * 2^-8 (0.4%) of itself. A product of two rounded operands is off by at most about 2^-7, so a
 * pre-activation sum is off by at most 2^-7 * sum |a_i b_i| (a sum that cancels is off by more
 * than that of its own value, but not of its largest term), and h is rounded again at every
 * step. Outputs are compared as max |a - b| / max |b| over the tensor (rnn_test_norm_rel: what
 * cancellation leaves meaningful); gradients also as ||a - b|| / ||b|| ("L2").
 *   - oneDNN bf16 against the reference backend's emulation of the same rounding: they differ
 *     only in summation order (f32 blocks vs double), except where that order flips one
 *     rounding of h (one bf16 step, 2^-8 relative), which then propagates. BOUND_EMU = 1e-2;
 *     measured at most 4.9e-3 on the tiny cases, 2e-6 on the model-sized ones.
 *   - bf16 against f32: one rounding per operand per step, through cells that do not shrink
 *     errors much (Keras' orthogonal recurrent kernel keeps their size: SimpleRNN over 24 steps
 *     is the worst). BOUND_F32 = 2e-2; measured at most 9.0e-3 over whole outputs (SimpleRNN,
 *     24 steps), 1.3e-2 over one sample's half-sequence (stateful_carry: a smaller largest value).
 *   - gradients: sums over steps and samples whose terms cancel, each carrying the forward's
 *     error through the gates' derivatives, plus the gate gradients oneDNN rounds before its
 *     products and its bias gradient. BOUND_GRAD_L2 = 5e-2, BOUND_GRAD = 1e-1 (largest element);
 *     measured at most 3.3e-2 and 5.8e-2, on the tiny cases (2 units: few terms to average
 *     errors over). A wrong row, gate, step or direction is off by O(1) on every measure.
 * CK_FORK=no prints the worst figures measured (how the numbers above were obtained).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../common/recurrent_cases.h"
#include "backend/backend.h"

#define BOUND_EMU 1e-2
#define BOUND_F32 2e-2
#define BOUND_GRAD 1e-1
#define BOUND_GRAD_L2 5e-2

/* ||a - b|| / ||b|| (Euclidean), the usual measure for a gradient as a whole. */
static double l2_rel(const float *a, const float *b, int64_t n)
{
    double d = 0, m = 1e-12;
    for (int64_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        m += (double)b[i] * b[i];
    }
    return sqrt(d / m);
}

static int all_finite(const float *a, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

/* Worst errors seen, printed at the end (the figures the bounds above are set from). */
static double worst[8];
static const char *worst_name[8] = {"outputs vs emulation", "outputs vs f32",
                                    "gradients vs emulation", "gradients vs f32",
                                    "step-wise or carried vs whole sequence", "dense vs emulation",
                                    "gradients vs emulation (L2)", "gradients vs f32 (L2)"};
static void seen(int k, double e)
{
    if (e > worst[k])
        worst[k] = e;
}

/* Valgrind hides AVX-512 from the program it runs (oneDNN then sees avx2 at most). */
static int under_valgrind(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

/* 1 when /proc/cpuinfo lists the CPU flag (" avx512_bf16"). */
static int cpu_flag(const char *flag)
{
    int has = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[8192];
        while (!has && fgets(line, sizeof line, f))
            has = strncmp(line, "flags", 5) == 0 && strstr(line, flag);
        fclose(f);
    }
    return has;
}

/* 1 when this process computes bf16 on oneDNN. When it does not, the oneDNN comparisons are
 * skipped, unless the CPU advertises avx512_bf16 and nothing lowers what oneDNN sees (valgrind
 * hides AVX-512; ONEDNN_MAX_CPU_ISA caps it), which is a failure. */
static int onednn_bf16(void)
{
    static int known = -1;
    if (known >= 0)
        return known;
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    rnn_status st = rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16);
    rnn_model_destroy(m);
    known = st == RNN_OK;
    if (!known) {
        ck_assert_int_eq(st, RNN_ERR_UNSUPPORTED);
        int lowered = getenv("ONEDNN_MAX_CPU_ISA") || getenv("DNNL_MAX_CPU_ISA") ||
                      under_valgrind();
        ck_assert_msg(!cpu_flag(" avx512_bf16") || lowered,
                      "the CPU has avx512_bf16 but librnn refused bf16: %s",
                      rnn_last_error());
        printf("bf16: oneDNN has no native bf16 here (%s): oneDNN comparisons skipped\n",
               rnn_last_error());
    }
    return known;
}

/* ------------------------------------------------------------ rounding, matmul */

START_TEST(rounding)
{
    ck_assert_uint_eq(rnn__bf16_from_f32(1.0f), 0x3f80);
    ck_assert_uint_eq(rnn__bf16_from_f32(-2.0f), 0xc000);
    /* 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1). */
    ck_assert_uint_eq(rnn__bf16_from_f32(1.0f + 0x1p-8f), 0x3f80);
    /* 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even (1 + 2^-6). */
    ck_assert_uint_eq(rnn__bf16_from_f32(1.0f + 3 * 0x1p-8f), 0x3f82);
    ck_assert_uint_eq(rnn__bf16_from_f32(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81); /* above: up */
    ck_assert(rnn__bf16_to_f32(rnn__bf16_from_f32(INFINITY)) == INFINITY);
    ck_assert(isnan(rnn__bf16_round(NAN)));
    ck_assert(rnn__bf16_round(3.0e38f) == INFINITY || rnn__bf16_round(3.0e38f) > 3.0e38f * 0.99f);
    for (int i = 0; i < 1000; i++) {
        float v = (float)(tm_uniform() * 100.0);
        ck_assert(fabs(rnn__bf16_round(v) - v) <= fabs(v) * 0x1p-8);
    }
}
END_TEST

/* rnn__matmul_prec in bf16 on both backends against the product of the rounded operands in
 * double: the same rounding, only the accumulation differs (f32 on oneDNN). */
START_TEST(matmul_bf16)
{
    enum { M = 37, K = 70, N = 29 };
    float A[M * K], B[K * N], bias[N], C[M * N], want[M * N];
    for (int i = 0; i < M * K; i++)
        A[i] = (float)tm_uniform();
    for (int i = 0; i < K * N; i++)
        B[i] = (float)tm_uniform();
    for (int i = 0; i < N; i++)
        bias[i] = (float)tm_uniform();
    for (int be = 0; be < 2; be++) {
        if (be == 0 && !onednn_bf16())
            continue;
        rnn__ctx *ctx;
        ck_ok(rnn__ctx_create(be == 0 ? RNN__BACKEND_ONEDNN : RNN__BACKEND_REF, &ctx));
        rnn__mm_cache *cache = NULL;
        for (int v = 0; v < 8; v++) {
            int ta = v & 1, tb = (v >> 1) & 1, acc = (v >> 2) & 1;
            if (v == 5) /* a changed B under a new version is picked up */
                for (int i = 0; i < K * N; i++)
                    B[i] = -B[i];
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double s = bias[n] + (acc ? 0.5 : 0.0);
                    for (int k = 0; k < K; k++)
                        s += (double)rnn__bf16_round(ta ? A[k * M + m] : A[m * K + k]) *
                             rnn__bf16_round(tb ? B[n * K + k] : B[k * N + n]);
                    want[m * N + n] = (float)s;
                    C[m * N + n] = 0.5f;
                }
            ck_ok(rnn__matmul_prec(ctx, 1, ta, tb, M, K, N, A, B, v % 2 ? &cache : NULL,
                                   (uint64_t)v, bias, acc ? 1.0f : 0.0f, C));
            double e = rnn_test_norm_rel(C, want, M * N);
            seen(5, e);
            ck_assert_msg(e < 1e-5, "backend %d variant %d: %g", be, v, e);
        }
        rnn__mm_cache_free(cache);
        rnn__ctx_destroy(ctx);
    }
}
END_TEST

/* ------------------------------------------------------------ recurrent cases */

typedef struct bf_run {
    rc_run r;
    rnn_tensor *R[5];
} bf_run;

/* Case c on backend be in precision p: forward (training), then backward of
 * L = sum(out_k * R_k). */
static void bf_setup(bf_run *u, const tcase_desc *c, rnn_backend be, rnn_precision p)
{
    rc_setup(&u->r, c, be);
    ck_ok(rnn_model_set_precision(u->r.m, p));
    const rnn_tensor *in[1] = {u->r.x}, *lens[1] = {u->r.len};
    ck_ok(rnn_model_forward(u->r.m, 1, in, lens, 1));
    tm_rng = 0xabcdefull;
    for (int k = 0; k < 5; k++)
        u->R[k] = NULL;
    for (int k = 0; k < u->r.n_out; k++) {
        const rnn_tensor *y;
        ck_ok(rnn_model_output(u->r.m, k, &y));
        int64_t dims[3];
        int rank;
        rnn_tensor_shape(y, dims, 3, &rank);
        u->R[k] = tm_tensor(rank, dims, 1.0);
    }
    ck_ok(rnn_model_zero_grad(u->r.m));
    ck_ok(rnn_model_backward(u->r.m, u->r.n_out, (const rnn_tensor *const *)u->R));
}

static void bf_free(bf_run *u)
{
    for (int k = 0; k < 5; k++)
        rnn_tensor_destroy(u->R[k]);
    rc_free(&u->r);
}

/* Outputs, every parameter gradient and the input gradient of a against b. */
static void bf_compare(const bf_run *a, const bf_run *b, double out_bound, int out_slot,
                       int grad_slot, const char *what, const tcase_desc *c)
{
    char desc[160];
    rc_describe(c, desc, sizeof desc);
    for (int k = 0; k < a->r.n_out; k++) {
        const rnn_tensor *ya, *yb;
        ck_ok(rnn_model_output(a->r.m, k, &ya));
        ck_ok(rnn_model_output(b->r.m, k, &yb));
        double e = rnn_test_norm_rel(tm_f(ya), tm_f(yb), tm_numel(ya));
        seen(out_slot, e);
        ck_assert_msg(e < out_bound, "%s: %s: output %d: %g", desc, what, k, e);
    }
    int np;
    ck_ok(rnn_layer_num_params(a->r.l, &np));
    for (int p = 0; p < np; p++) {
        rnn_tensor *ga, *gb;
        const char *name;
        ck_ok(rnn_layer_param(a->r.l, p, &name, NULL, &ga));
        ck_ok(rnn_layer_param(b->r.l, p, NULL, NULL, &gb));
        rnn_dtype dt;
        ck_ok(rnn_tensor_dtype(ga, &dt));
        ck_assert_int_eq(dt, RNN_F32); /* gradients reach the optimizer in f32 */
        ck_assert_msg(all_finite(tm_f(ga), tm_numel(ga)), "%s: gradient %s", desc, name);
        double e = rnn_test_norm_rel(tm_f(ga), tm_f(gb), tm_numel(ga));
        seen(grad_slot, e);
        double e2 = l2_rel(tm_f(ga), tm_f(gb), tm_numel(ga));
        seen(grad_slot + 4, e2);
        ck_assert_msg(e < BOUND_GRAD && e2 < BOUND_GRAD_L2, "%s: %s: gradient %s: %g, %g (L2)",
                      desc, what, name, e, e2);
    }
    const rnn_tensor *da, *db;
    ck_ok(rnn_model_input_grad(a->r.m, 0, &da));
    ck_ok(rnn_model_input_grad(b->r.m, 0, &db));
    double e = rnn_test_norm_rel(tm_f(da), tm_f(db), tm_numel(da));
    double e2 = l2_rel(tm_f(da), tm_f(db), tm_numel(da));
    seen(grad_slot, e);
    seen(grad_slot + 4, e2);
    ck_assert_msg(e < BOUND_GRAD && e2 < BOUND_GRAD_L2, "%s: %s: input gradient: %g, %g (L2)",
                  desc, what, e, e2);
}

/* Every recurrent case (each cell, GRU with both reset_after, bidirectional in every merge
 * mode, go_backwards, initial states, variable lengths with garbage in the padding, dropout,
 * recurrent dropout on the reference path): oneDNN in bf16 against the reference's emulation
 * and against oneDNN in f32; the reference's emulation against its f32. */
START_TEST(recurrent_case)
{
    const tcase_desc *c = &rc_cases[_i];
    bf_run emu, ref32;
    bf_setup(&emu, c, RNN_BACKEND_REFERENCE, RNN_PRECISION_MIXED_BF16);
    bf_setup(&ref32, c, RNN_BACKEND_REFERENCE, RNN_PRECISION_F32);
    bf_compare(&emu, &ref32, BOUND_F32, 1, 3, "reference bf16 vs f32", c);
    if (onednn_bf16()) {
        bf_run d16, d32;
        bf_setup(&d16, c, RNN_BACKEND_ONEDNN, RNN_PRECISION_MIXED_BF16);
        bf_setup(&d32, c, RNN_BACKEND_ONEDNN, RNN_PRECISION_F32);
        bf_compare(&d16, &emu, BOUND_EMU, 0, 2, "oneDNN bf16 vs emulation", c);
        bf_compare(&d16, &d32, BOUND_F32, 1, 3, "oneDNN bf16 vs f32", c);
        bf_free(&d16);
        bf_free(&d32);
    }
    bf_free(&emu);
    bf_free(&ref32);
}
END_TEST

/* bf16 under a workspace limit of 1 byte (every step a chunk recomputed before its backward;
 * rnn_set_workspace_limit) against bf16 without one: the same outputs and gradients. */
START_TEST(recurrent_case_workspace_limit)
{
    if (!onednn_bf16())
        return;
    const tcase_desc *c = &rc_cases[_i];
    bf_run capped, whole;
    ck_ok(rnn_set_workspace_limit(1));
    bf_setup(&capped, c, RNN_BACKEND_ONEDNN, RNN_PRECISION_MIXED_BF16);
    ck_ok(rnn_set_workspace_limit(0));
    bf_setup(&whole, c, RNN_BACKEND_ONEDNN, RNN_PRECISION_MIXED_BF16);
    bf_compare(&capped, &whole, BOUND_EMU, 0, 2, "oneDNN bf16 capped vs whole", c);
    bf_free(&capped);
    bf_free(&whole);
}
END_TEST

/* ------------------------------------------------------------ models */

/* Model-sized shapes (the tiny cases above have 2 units): input(I) + bidirectional recurrent
 * layer (H units each way, sequences, variable lengths) + TimeDistributed Dense(5); oneDNN in
 * bf16 against oneDNN in f32 and against the reference's emulation: outputs, the gradients of
 * every parameter (recurrent and Dense) and of the input. */
static void sized_run(rnn_backend be, rnn_precision p, rnn_cell_type cell, rnn_model **out,
                      rnn_tensor **x, rnn_tensor **len, rnn_tensor **R)
{
    enum { T = 24, N = 12, I = 20, H = 48 };
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 11;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, I};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    rnn_recurrent_options ro;
    rnn_recurrent_options_init(&ro, cell);
    ro.units = H;
    ro.return_sequences = 1;
    ro.bidirectional = 1;
    ck_ok(rnn_model_add_recurrent(m, &ro, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 5;
    d.activation = RNN_ACT_TANH;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    ck_ok(rnn_model_set_precision(m, p));
    int64_t xd[3] = {N, T, I}, ld[1] = {N}, yd[3] = {N, T, 5};
    tm_rng = 77;
    *x = tm_tensor(3, xd, 1.0);
    *R = tm_tensor(3, yd, 1.0);
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, len));
    for (int n = 0; n < N; n++)
        ((int32_t *)tm_f(*len))[n] = 1 + (7 * n + 5) % T;
    const rnn_tensor *in[1] = {*x}, *lens[1] = {*len}, *g[1] = {*R};
    ck_ok(rnn_model_forward(m, 1, in, lens, 1));
    ck_ok(rnn_model_zero_grad(m));
    ck_ok(rnn_model_backward(m, 1, g));
    *out = m;
}

START_TEST(model_sized_shapes)
{
    if (!onednn_bf16())
        return;
    static const rnn_cell_type cells[] = {RNN_LSTM, RNN_GRU, RNN_SIMPLE_RNN};
    for (int ci = 0; ci < 3; ci++) {
        rnn_model *m[3];
        rnn_tensor *x[3], *len[3], *R[3];
        sized_run(RNN_BACKEND_ONEDNN, RNN_PRECISION_MIXED_BF16, cells[ci], &m[0], &x[0], &len[0],
                  &R[0]);
        sized_run(RNN_BACKEND_ONEDNN, RNN_PRECISION_F32, cells[ci], &m[1], &x[1], &len[1], &R[1]);
        sized_run(RNN_BACKEND_REFERENCE, RNN_PRECISION_MIXED_BF16, cells[ci], &m[2], &x[2],
                  &len[2], &R[2]);
        for (int o = 1; o < 3; o++) {
            const rnn_tensor *ya, *yb;
            ck_ok(rnn_model_output(m[0], 0, &ya));
            ck_ok(rnn_model_output(m[o], 0, &yb));
            double e = rnn_test_norm_rel(tm_f(ya), tm_f(yb), tm_numel(ya));
            seen(o == 1 ? 1 : 0, e);
            ck_assert_msg(e < BOUND_F32, "cell %d vs %d: output %g", (int)cells[ci], o, e);
            for (int li = 1; li < 3; li++) {
                rnn_layer *la, *lb;
                int np;
                ck_ok(rnn_model_layer(m[0], li, &la));
                ck_ok(rnn_model_layer(m[o], li, &lb));
                ck_ok(rnn_layer_num_params(la, &np));
                for (int p = 0; p < np; p++) {
                    rnn_tensor *ga, *gb;
                    const char *name;
                    ck_ok(rnn_layer_param(la, p, &name, NULL, &ga));
                    ck_ok(rnn_layer_param(lb, p, NULL, NULL, &gb));
                    double e2 = l2_rel(tm_f(ga), tm_f(gb), tm_numel(ga));
                    double em = rnn_test_norm_rel(tm_f(ga), tm_f(gb), tm_numel(ga));
                    seen(o == 1 ? 7 : 6, e2);
                    seen(o == 1 ? 3 : 2, em);
                    ck_assert_msg(e2 < BOUND_GRAD_L2 && em < BOUND_GRAD,
                                  "cell %d vs %d: gradient %s: %g (L2), %g", (int)cells[ci], o,
                                  name, e2, em);
                }
            }
        }
        for (int k = 0; k < 3; k++) {
            rnn_model_destroy(m[k]);
            rnn_tensor_destroy(x[k]), rnn_tensor_destroy(len[k]), rnn_tensor_destroy(R[k]);
        }
    }
}
END_TEST

/* Embedding(V, E) + recurrent(H, cell, return_sequences) + TimeDistributed Dense(V, softmax),
 * a token-input model like the examples' (stateful for step-wise decoding). */
enum { SV = 11, SE = 8, SH = 16 };
static rnn_model *seq_model(rnn_backend be, rnn_cell_type cell, int reset_after)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    mo.seed = 7;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, shape, NULL));
    rnn_embedding_options eo;
    rnn_embedding_options_init(&eo);
    eo.input_dim = SV;
    eo.output_dim = SE;
    ck_ok(rnn_model_add_embedding(m, &eo, NULL));
    rnn_recurrent_options ro;
    rnn_recurrent_options_init(&ro, cell);
    ro.units = SH;
    ro.return_sequences = 1;
    ro.reset_after = reset_after;
    ck_ok(rnn_model_add_recurrent(m, &ro, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = SV;
    d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    return m;
}

static rnn_tensor *tokens(int64_t N, int64_t T, uint64_t seed)
{
    int64_t d[2] = {N, T};
    rnn_tensor *t;
    ck_ok(rnn_tensor_create(RNN_I32, 2, d, &t));
    tm_rng = seed;
    int32_t *p = (int32_t *)tm_f(t);
    for (int64_t i = 0; i < N * T; i++)
        p[i] = 1 + (int32_t)((tm_uniform() + 1) * 0.5 * (SV - 1)) % (SV - 1);
    return t;
}

static rnn_tensor *copy_output(rnn_model *m)
{
    const rnn_tensor *y;
    ck_ok(rnn_model_output(m, 0, &y));
    int64_t dims[3];
    int rank;
    rnn_tensor_shape(y, dims, 3, &rank);
    rnn_tensor *c;
    ck_ok(rnn_tensor_create(RNN_F32, rank, dims, &c));
    ck_ok(rnn_tensor_copy(c, y));
    return c;
}

/* Step-wise decoding in bf16 (LSTM, GRU both ways, SimpleRNN): the prefix, then one token per
 * step, equals the full-sequence bf16 forward (both round h to bf16 at every step and keep
 * LSTM's c in f32: they differ only in how oneDNN blocks its sums), and is close to f32. */
START_TEST(step_decoding)
{
    static const struct { rnn_cell_type cell; int ra; } cells[] = {
        {RNN_LSTM, 1}, {RNN_GRU, 1}, {RNN_GRU, 0}, {RNN_SIMPLE_RNN, 1}};
    enum { N = 3, T = 9, P = 2 };
    for (int be = 0; be < 2; be++) {
        if (be == 0 && !onednn_bf16())
            continue;
        for (size_t ci = 0; ci < sizeof cells / sizeof cells[0]; ci++) {
            rnn_model *m = seq_model(be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN,
                                     cells[ci].cell, cells[ci].ra);
            rnn_tensor *x = tokens(N, T, 5 + ci);
            const rnn_tensor *in[1] = {x};
            ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
            rnn_tensor *y32 = copy_output(m);
            ck_ok(rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16));
            ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
            rnn_tensor *y16 = copy_output(m);
            /* The same through the step API: the first P tokens, then one at a time. */
            int64_t pd[2] = {N, P}, sd[2] = {N, 1};
            rnn_tensor *pre, *one;
            ck_ok(rnn_tensor_create(RNN_I32, 2, pd, &pre));
            ck_ok(rnn_tensor_create(RNN_I32, 2, sd, &one));
            const int32_t *xv = (const int32_t *)tm_f(x);
            for (int n = 0; n < N; n++)
                for (int t = 0; t < P; t++)
                    ((int32_t *)tm_f(pre))[n * P + t] = xv[n * T + t];
            const rnn_tensor *pin[1] = {pre};
            ck_ok(rnn_model_step_begin(m, 0, 1, pin, NULL));
            for (int t = P; t < T; t++) {
                for (int n = 0; n < N; n++)
                    ((int32_t *)tm_f(one))[n] = xv[n * T + t];
                ck_ok(rnn_model_step(m, one));
                const rnn_tensor *ys;
                ck_ok(rnn_model_output(m, 0, &ys));
                for (int n = 0; n < N; n++) {
                    const float *a = tm_f(ys) + n * SV, *b = tm_f(y16) + (n * T + t) * SV;
                    const float *c = tm_f(y32) + (n * T + t) * SV;
                    double e = rnn_test_norm_rel(a, b, SV), e32 = rnn_test_norm_rel(a, c, SV);
                    seen(4, e);
                    seen(1, e32);
                    ck_assert_msg(e < 1e-3, "backend %d cell %zu step %d row %d: %g", be, ci,
                                  t, n, e);
                    ck_assert_msg(e32 < BOUND_F32, "backend %d cell %zu step %d: vs f32 %g",
                                  be, ci, t, e32);
                }
            }
            ck_ok(rnn_model_step_end(m));
            rnn_tensor_destroy(pre), rnn_tensor_destroy(one), rnn_tensor_destroy(x);
            rnn_tensor_destroy(y16), rnn_tensor_destroy(y32);
            rnn_model_destroy(m);
        }
    }
}
END_TEST

/* Stateful layers (Keras stateful=True) in bf16: a sequence cut in two, the state carried from
 * the first call to the second, equals the whole sequence in one call (the carried state is a
 * bf16 value kept in f32, LSTM's c is f32: nothing is lost between calls), and is close to f32. */
START_TEST(stateful_carry)
{
    enum { N = 3, T = 10, I = 6, H = 24, U = 4 };
    static const rnn_cell_type cells[] = {RNN_LSTM, RNN_GRU, RNN_SIMPLE_RNN};
    for (int be = 0; be < 2; be++) {
        if (be == 0 && !onednn_bf16())
            continue;
        for (int ci = 0; ci < 3; ci++) {
            rnn_model_options mo;
            rnn_model_options_init(&mo);
            mo.backend = be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
            mo.seed = 5;
            rnn_model *m;
            ck_ok(rnn_model_create(&mo, &m));
            int64_t shape[2] = {0, I};
            ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
            rnn_recurrent_options ro;
            rnn_recurrent_options_init(&ro, cells[ci]);
            ro.units = H, ro.return_sequences = 1, ro.stateful = 1;
            ck_ok(rnn_model_add_recurrent(m, &ro, NULL));
            rnn_dense_options d;
            rnn_dense_options_init(&d);
            d.units = U;
            ck_ok(rnn_model_add_dense(m, &d, NULL));
            int64_t xd[3] = {N, T, I}, hd[3] = {N, T / 2, I};
            tm_rng = 99 + (uint64_t)ci;
            rnn_tensor *x = tm_tensor(3, xd, 1.0);
            rnn_tensor *xh[2] = {tm_tensor(3, hd, 0), tm_tensor(3, hd, 0)};
            for (int n = 0; n < N; n++)
                for (int t = 0; t < T; t++)
                    memcpy(tm_f(xh[t / (T / 2)]) + (n * (T / 2) + t % (T / 2)) * I,
                           tm_f(x) + (n * T + t) * I, sizeof(float) * I);
            const rnn_tensor *in[1] = {x};
            ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
            rnn_tensor *y32 = copy_output(m);
            ck_ok(rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16));
            ck_ok(rnn_model_reset_states(m));
            ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
            rnn_tensor *y16 = copy_output(m);
            ck_ok(rnn_model_reset_states(m));
            for (int h = 0; h < 2; h++) {
                const rnn_tensor *hin[1] = {xh[h]};
                ck_ok(rnn_model_forward(m, 1, hin, NULL, 0));
                const rnn_tensor *yh;
                ck_ok(rnn_model_output(m, 0, &yh));
                for (int n = 0; n < N; n++) {
                    const int64_t off = (n * T + h * (T / 2)) * U, cnt = (T / 2) * U;
                    const float *a = tm_f(yh) + n * cnt;
                    double e = rnn_test_norm_rel(a, tm_f(y16) + off, cnt);
                    double e32 = rnn_test_norm_rel(a, tm_f(y32) + off, cnt);
                    seen(4, e);
                    seen(1, e32);
                    ck_assert_msg(e < 1e-3, "backend %d cell %d half %d: %g", be, ci, h, e);
                    ck_assert_msg(e32 < BOUND_F32, "backend %d cell %d: vs f32 %g", be, ci, e32);
                }
            }
            rnn_tensor_destroy(x), rnn_tensor_destroy(xh[0]), rnn_tensor_destroy(xh[1]);
            rnn_tensor_destroy(y16), rnn_tensor_destroy(y32);
            rnn_model_destroy(m);
        }
    }
}
END_TEST

/* f32 -> bf16 -> f32 on one model: the f32 outputs and gradients after the round trip equal
 * those before it bit for bit (the bf16 weight copies are kept beside the f32 ones). */
START_TEST(switch_back_to_f32)
{
    if (!onednn_bf16())
        return;
    rnn_model *m = seq_model(RNN_BACKEND_ONEDNN, RNN_LSTM, 1);
    rnn_tensor *x = tokens(4, 6, 3);
    const rnn_tensor *in[1] = {x};
    rnn_tensor *y[3], *g[3];
    rnn_layer *dense;
    ck_ok(rnn_model_layer(m, 3, &dense));
    rnn_precision seq[3] = {RNN_PRECISION_F32, RNN_PRECISION_MIXED_BF16, RNN_PRECISION_F32};
    for (int k = 0; k < 3; k++) {
        ck_ok(rnn_model_set_precision(m, seq[k]));
        rnn_precision got;
        ck_ok(rnn_model_get_precision(m, &got));
        ck_assert_int_eq(got, seq[k]);
        ck_ok(rnn_model_forward(m, 1, in, NULL, 1));
        y[k] = copy_output(m);
        ck_ok(rnn_model_zero_grad(m));
        ck_ok(rnn_model_backward(m, 1, NULL));
        rnn_tensor *gk;
        ck_ok(rnn_layer_param(dense, 0, NULL, NULL, &gk));
        int64_t d[2];
        int r;
        rnn_tensor_shape(gk, d, 2, &r);
        ck_ok(rnn_tensor_create(RNN_F32, 2, d, &g[k]));
        ck_ok(rnn_tensor_copy(g[k], gk));
    }
    ck_assert(memcmp(tm_f(y[0]), tm_f(y[2]), sizeof(float) * (size_t)tm_numel(y[0])) == 0);
    ck_assert(memcmp(tm_f(g[0]), tm_f(g[2]), sizeof(float) * (size_t)tm_numel(g[0])) == 0);
    ck_assert(memcmp(tm_f(y[0]), tm_f(y[1]), sizeof(float) * (size_t)tm_numel(y[0])) != 0);
    ck_assert_msg(rnn_test_norm_rel(tm_f(y[1]), tm_f(y[0]), tm_numel(y[0])) < BOUND_F32,
                  "bf16 far off");
    for (int k = 0; k < 3; k++)
        rnn_tensor_destroy(y[k]), rnn_tensor_destroy(g[k]);
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
}
END_TEST

/* Predict the next token of a repeating pattern: the same tiny model trained in f32 and in
 * bf16 (same seed, same batches) ends at nearly the same loss, far below chance; its weights
 * stay f32 and finite. */
static double train_final_loss(rnn_backend be, rnn_precision p, rnn_cell_type cell)
{
    rnn_model *m = seq_model(be, cell, 1);
    ck_ok(rnn_model_set_precision(m, p));
    rnn_compile_options co;
    rnn_compile_options_init(&co, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    oo.learning_rate = 0.02f;
    ck_ok(rnn_model_compile(m, &co, &oo));
    enum { N = 16, T = 12 };
    int64_t d[2] = {N, T};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_I32, 2, d, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 2, d, &y));
    int32_t *xv = (int32_t *)tm_f(x), *yv = (int32_t *)tm_f(y);
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) {
            xv[n * T + t] = 1 + (n + 3 * t) % 7; /* period 7 in steps of 3 */
            yv[n * T + t] = 1 + (n + 3 * t + 3) % 7;
        }
    const rnn_tensor *in[1] = {x};
    float loss = 0, acc = 0;
    for (int it = 0; it < 60; it++)
        ck_ok(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc));
    ck_ok(rnn_model_test_step(m, 1, in, NULL, y, &loss, &acc));
    int nl;
    ck_ok(rnn_model_num_layers(m, &nl));
    for (int li = 1; li < nl; li++) {
        rnn_layer *l;
        int np;
        ck_ok(rnn_model_layer(m, li, &l));
        ck_ok(rnn_layer_num_params(l, &np));
        for (int k = 0; k < np; k++) {
            rnn_tensor *v, *g;
            ck_ok(rnn_layer_param(l, k, NULL, &v, &g));
            ck_assert(all_finite(tm_f(v), tm_numel(v)) && all_finite(tm_f(g), tm_numel(g)));
        }
    }
    rnn_tensor_destroy(x), rnn_tensor_destroy(y);
    rnn_model_destroy(m);
    return loss;
}

START_TEST(tiny_model_trains)
{
    static const rnn_cell_type cells[] = {RNN_LSTM, RNN_GRU};
    for (int be = 0; be < 2; be++) {
        if (be == 0 && !onednn_bf16())
            continue;
        rnn_backend b = be ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
        for (int ci = 0; ci < 2; ci++) {
            double l32 = train_final_loss(b, RNN_PRECISION_F32, cells[ci]);
            double l16 = train_final_loss(b, RNN_PRECISION_MIXED_BF16, cells[ci]);
            printf("bf16: tiny model, backend %d cell %d: final loss f32 %.6f, bf16 %.6f "
                   "(chance %.2f)\n", be, (int)cells[ci], l32, l16, log(7.0));
            ck_assert_msg(l32 < 0.2 && l16 < 0.2, "did not learn: f32 %g, bf16 %g", l32, l16);
            ck_assert_msg(fabs(l16 - l32) < 0.05, "f32 %g, bf16 %g", l32, l16);
        }
    }
}
END_TEST

/* ------------------------------------------------------------ refusal */

/* Run with ONEDNN_MAX_CPU_ISA=AVX512_CORE (meson test 'bf16-refused'): oneDNN then runs as
 * avx512_core, without native bf16, and the setting is refused with a message that names the
 * function, the value and the reason; the model keeps f32 and still runs; the reference
 * backend (emulation) accepts it. */
START_TEST(refused_without_native_bf16)
{
    rnn_model *m = seq_model(RNN_BACKEND_ONEDNN, RNN_LSTM, 1);
    ck_rnn(rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16), RNN_ERR_UNSUPPORTED);
    ck_errmsg("rnn_model_set_precision: precision RNN_PRECISION_MIXED_BF16 needs a CPU with "
              "AVX512-BF16 or AMX");
    const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
    ck_errmsg("(oneDNN runs this one as ");
    if (cap && strcmp(cap, "AVX512_CORE") == 0 && cpu_flag(" avx512f ") && !under_valgrind())
        ck_errmsg("(oneDNN runs this one as avx512_core)");
    rnn_precision p;
    ck_ok(rnn_model_get_precision(m, &p));
    ck_assert_int_eq(p, RNN_PRECISION_F32);
    rnn_tensor *x = tokens(2, 3, 1);
    const rnn_tensor *in[1] = {x};
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_set_precision(m, RNN_PRECISION_F32));
    rnn_model_destroy(m);
    m = seq_model(RNN_BACKEND_REFERENCE, RNN_LSTM, 1);
    ck_ok(rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16));
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    rnn_model_destroy(m);
    rnn_tensor_destroy(x);
}
END_TEST

START_TEST(bad_values)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    ck_rnn(rnn_model_set_precision(m, (rnn_precision)2), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_set_precision: precision must be RNN_PRECISION_F32 or "
              "RNN_PRECISION_MIXED_BF16 (got 2)");
    ck_rnn(rnn_model_set_precision(NULL, RNN_PRECISION_F32), RNN_ERR_INVALID_ARG);
    rnn_precision p = RNN_PRECISION_MIXED_BF16;
    ck_rnn(rnn_model_get_precision(NULL, &p), RNN_ERR_INVALID_ARG);
    ck_assert_int_eq(p, RNN_PRECISION_F32);
    ck_rnn(rnn_model_get_precision(m, NULL), RNN_ERR_INVALID_ARG);
    rnn_model_destroy(m);
}
END_TEST

static void print_worst(void)
{
    for (int k = 0; k < 8; k++)
        printf("bf16: worst %s: %.3g\n", worst_name[k], worst[k]);
}

int main(int argc, char **argv)
{
    Suite *s = suite_create("bf16");
    TCase *tc = tcase_create("bf16");
    tcase_set_timeout(tc, 300);
    if (argc > 1 && strcmp(argv[1], "refused") == 0) {
        tcase_add_test(tc, refused_without_native_bf16);
        suite_add_tcase(s, tc);
        return rnn_test_run(s);
    }
    rc_build_cases();
    tcase_add_test(tc, rounding);
    tcase_add_test(tc, bad_values);
    tcase_add_test(tc, matmul_bf16);
    tcase_add_loop_test(tc, recurrent_case, 0, rc_n_cases);
    tcase_add_loop_test(tc, recurrent_case_workspace_limit, 0, rc_n_cases);
    tcase_add_test(tc, model_sized_shapes);
    tcase_add_test(tc, step_decoding);
    tcase_add_test(tc, stateful_carry);
    tcase_add_test(tc, switch_back_to_f32);
    tcase_add_test(tc, tiny_model_trains);
    suite_add_tcase(s, tc);
    /* Check forks each test by default: the worst errors are only known in this process
     * without the fork (CK_FORK=no). */
    int rc = rnn_test_run(s);
    if (getenv("CK_FORK") && strcmp(getenv("CK_FORK"), "no") == 0)
        print_worst();
    return rc;
}
