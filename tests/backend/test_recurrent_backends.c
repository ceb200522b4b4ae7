/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oneDNN equals the reference backend on outputs and on every gradient, through the public
 * API: for every recurrent case of common/recurrent_cases.h (every cell and option, variable
 * lengths with garbage in the padding), 40 random stacked models, and batches large enough for
 * the parallel copies. (Their finite-difference checks are gradcheck/test_recurrent.c.)
 */
#include "../common/recurrent_cases.h"

/* L = sum(out_k * R_k) over every output (R_k uniform in [-1, 1)): forward, then backward. */
typedef struct run {
    rc_run r;
    rnn_tensor *R[5];
} run;

static void run_setup(run *u, const tcase_desc *c, rnn_backend be)
{
    rc_setup(&u->r, c, be);
    const rnn_tensor *in[1] = {u->r.x}, *lens[1] = {u->r.len};
    ck_ok(rnn_model_forward(u->r.m, 1, in, lens, 1));
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
}

static void run_free(run *u)
{
    for (int k = 0; k < 5; k++)
        rnn_tensor_destroy(u->R[k]);
    rc_free(&u->r);
}

static void backward(run *u)
{
    const rnn_tensor *in[1] = {u->r.x}, *lens[1] = {u->r.len};
    ck_ok(rnn_model_forward(u->r.m, 1, in, lens, 1));
    ck_ok(rnn_model_zero_grad(u->r.m));
    ck_ok(rnn_model_backward(u->r.m, u->r.n_out, (const rnn_tensor *const *)u->R));
}

static void compare_backends(const tcase_desc *c)
{
    run a, b;
    run_setup(&a, c, RNN_BACKEND_ONEDNN);
    run_setup(&b, c, RNN_BACKEND_REFERENCE);
    backward(&a);
    backward(&b);
    for (int k = 0; k < a.r.n_out; k++) {
        const rnn_tensor *ya, *yb;
        rnn_model_output(a.r.m, k, &ya);
        rnn_model_output(b.r.m, k, &yb);
        ck_assert_msg(tm_max_rel(tm_f(ya), tm_f(yb), tm_numel(ya)) < 1e-4, "output %d differs", k);
    }
    int np;
    rnn_layer_num_params(a.r.l, &np);
    for (int p = 0; p < np; p++) {
        rnn_tensor *ga, *gb;
        const char *name;
        rnn_layer_param(a.r.l, p, &name, NULL, &ga);
        rnn_layer_param(b.r.l, p, NULL, NULL, &gb);
        double e = tm_max_rel(tm_f(ga), tm_f(gb), tm_numel(ga));
        ck_assert_msg(e < 1e-4, "grad %s differs: rel %g (cell %d bi %d varlen %d)", name, e,
                      c->cell, c->bi, c->varlen);
    }
    const rnn_tensor *da, *db;
    rnn_model_input_grad(a.r.m, 0, &da);
    rnn_model_input_grad(b.r.m, 0, &db);
    ck_assert(tm_max_rel(tm_f(da), tm_f(db), tm_numel(da)) < 1e-4);
    run_free(&a);
    run_free(&b);
}

/* oneDNN (on threads[0] threads; 0: unchanged) against the reference backend (threads[1]) on
 * one stack of recurrent layers: outputs, the input gradient and every weight gradient agree
 * to tol under the metric rel (tm_max_rel or rnn_test_norm_rel). lv: per-sample lengths or
 * NULL. */
static void compare_stacked(int T, int N, int I, int L, const rnn_recurrent_options *os,
                            const int32_t *lv, const int threads[2],
                            double (*rel)(const float *, const float *, int64_t), double tol,
                            const char *what)
{
    rnn_model *ms[2];
    rnn_layer *last[2];
    int64_t xd[3] = {N, T, I}, ld[1] = {N};
    rnn_tensor *x = tm_tensor(3, xd, 1.0), *len = NULL;
    if (lv) {
        ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
        memcpy(tm_f(len), lv, sizeof(int32_t) * (size_t)N);
    }
    rnn_tensor *g = NULL;
    for (int b = 0; b < 2; b++) {
        if (threads[b])
            ck_ok(rnn_set_num_threads(threads[b]));
        rnn_model_options mo;
        rnn_model_options_init(&mo);
        mo.backend = b ? RNN_BACKEND_REFERENCE : RNN_BACKEND_ONEDNN;
        mo.seed = 99;
        ck_ok(rnn_model_create(&mo, &ms[b]));
        int64_t shape[2] = {0, I};
        ck_ok(rnn_model_add_input(ms[b], RNN_F32, 2, shape, NULL));
        for (int k = 0; k < L; k++)
            ck_ok(rnn_model_add_recurrent(ms[b], &os[k], &last[b]));
        const rnn_tensor *in[1] = {x}, *lens[1] = {len}, *y;
        ck_ok(rnn_model_forward(ms[b], 1, in, lens, 1));
        ck_ok(rnn_model_output(ms[b], 0, &y));
        if (!g) {
            int64_t yd[3];
            int rank;
            rnn_tensor_shape(y, yd, 3, &rank);
            g = tm_tensor(rank, yd, 1.0);
        }
        const rnn_tensor *gs[1] = {g};
        ck_ok(rnn_model_backward(ms[b], 1, gs));
    }
    const rnn_tensor *ya, *yb, *da, *db;
    rnn_model_output(ms[0], 0, &ya);
    rnn_model_output(ms[1], 0, &yb);
    ck_assert_msg(rel(tm_f(ya), tm_f(yb), tm_numel(ya)) < tol, "%s: outputs differ", what);
    rnn_model_input_grad(ms[0], 0, &da);
    rnn_model_input_grad(ms[1], 0, &db);
    ck_assert_msg(rel(tm_f(da), tm_f(db), tm_numel(da)) < tol, "%s: dx differs", what);
    for (int li = 1; li <= L; li++) {
        rnn_layer *la, *lb;
        rnn_model_layer(ms[0], li, &la);
        rnn_model_layer(ms[1], li, &lb);
        int np;
        rnn_layer_num_params(la, &np);
        for (int p = 0; p < np; p++) {
            rnn_tensor *ga, *gb;
            const char *name;
            rnn_layer_param(la, p, &name, NULL, &ga);
            rnn_layer_param(lb, p, NULL, NULL, &gb);
            double e = rel(tm_f(ga), tm_f(gb), tm_numel(ga));
            ck_assert_msg(e < tol, "%s: layer %d %s: rel %g", what, li, name, e);
        }
    }
    rnn_tensor_destroy(g);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(len);
    rnn_model_destroy(ms[0]);
    rnn_model_destroy(ms[1]);
}

/* Random stacked models (1-3 layers, random cells, directions, merge modes,
 * shapes and lengths): oneDNN equals the reference on outputs and every
 * gradient. */
START_TEST(random_stacked_models)
{
    tm_rng = 0xC0FFEEull + (uint64_t)_i * 7919u;
    const int T = 1 + (int)((tm_uniform() + 1) * 3.5), N = 1 + (int)((tm_uniform() + 1) * 2.5);
    const int I = 1 + (int)((tm_uniform() + 1) * 4.5), L = 1 + (int)((tm_uniform() + 1) * 1.5);
    rnn_recurrent_options os[3];
    for (int k = 0; k < L; k++) {
        static const rnn_cell_type cells[3] = {RNN_SIMPLE_RNN, RNN_LSTM, RNN_GRU};
        rnn_recurrent_options_init(&os[k], cells[(int)((tm_uniform() + 1) * 1.5) % 3]);
        os[k].units = 1 + (int)((tm_uniform() + 1) * 4.5);
        os[k].reset_after = tm_uniform() > -0.4;
        os[k].activation = os[k].cell == RNN_SIMPLE_RNN && tm_uniform() > 0 ? RNN_ACT_RELU
                                                                            : RNN_ACT_TANH;
        os[k].bidirectional = tm_uniform() > 0;
        os[k].merge_mode = (rnn_merge_mode)((int)((tm_uniform() + 1) * 2) % 4);
        os[k].go_backwards = !os[k].bidirectional && tm_uniform() > 0.3;
        os[k].return_sequences = 1;
    }
    int32_t lv[8];
    for (int n = 0; n < N; n++)
        lv[n] = 1 + (int)((tm_uniform() + 1) * 0.5 * T) % T;
    const int threads[2] = {0, 0};
    char what[32];
    snprintf(what, sizeof what, "model %d", _i);
    compare_stacked(T, N, I, L, os, lv, threads, tm_max_rel, 1e-4, what);
}
END_TEST

/* Batches large enough for the layer's copies between batch-major tensors and the kernels'
 * time-major buffers to run on the OpenMP threads (RNN__PAR_MIN floats): oneDNN on 2 threads
 * against the reference on 1 (serial copies), for one and two directions, go_backwards,
 * every merge mode, with and without lengths, with and without return_sequences; with
 * lengths, every cell. */
static void large_batches(size_t ws_limit)
{
    enum { T = 40, N = 32, I = 64 }; /* T*N*I = 81,920 floats */
    int32_t lv[N];
    for (int n = 0; n < N; n++)
        lv[n] = 1 + (17 * n) % T;
    const int threads[2] = {2, 1};
    /* 8-11: LSTM and SimpleRNN with lengths (segments that carry ended samples; an LSTM's
     * are cut at every end) */
    static const rnn_cell_type late[4] = {RNN_LSTM, RNN_SIMPLE_RNN, RNN_LSTM, RNN_SIMPLE_RNN};
    for (int v = 0; v < 12; v++) {
        rnn_recurrent_options os[2];
        rnn_recurrent_options_init(&os[0], v >= 8 ? late[v - 8] : v % 2 ? RNN_GRU : RNN_LSTM);
        os[0].units = 48; /* T*N*H = 61,440, T*N*2H = 122,880 */
        os[0].return_sequences = 1;
        os[0].bidirectional = v >= 2 && v < 6;
        os[0].merge_mode = (rnn_merge_mode)(v % 4);
        os[0].go_backwards = v >= 6;
        os[1] = os[0];
        os[1].bidirectional = 0;
        os[1].go_backwards = 0;
        os[1].return_sequences = v % 3 != 0;
        char what[64];
        const int with_lengths = v % 2 || v >= 8;
        snprintf(what, sizeof what, "variant %d, %s", v, with_lengths ? "lengths" : "no lengths");
        ck_ok(rnn_set_workspace_limit(ws_limit));
        compare_stacked(T, N, I, 2, os, with_lengths ? lv : NULL, threads, rnn_test_norm_rel,
                        1e-4, what);
        ck_ok(rnn_set_workspace_limit(0));
    }
}

START_TEST(large_batches_parallel_copies)
{
    large_batches(0);
}
END_TEST

START_TEST(backend_case)
{
    compare_backends(&rc_cases[_i]);
}
END_TEST

/* Under a workspace limit (rnn_set_workspace_limit) the oneDNN layers cut time into chunks
 * and recompute each one's forward before its backward: the same outputs and gradients.
 * 1 byte: every chunk a single step; 256 KiB: chunks of a few steps of the large batches. */
START_TEST(backend_case_workspace_limit)
{
    ck_ok(rnn_set_workspace_limit(1));
    ck_assert_uint_eq(rnn_get_workspace_limit(), 1);
    compare_backends(&rc_cases[_i]);
    ck_ok(rnn_set_workspace_limit(0));
}
END_TEST

START_TEST(large_batches_workspace_limit)
{
    large_batches((size_t)256 << 10);
}
END_TEST

/* What one training forward and backward of a one-layer model (o on I-wide inputs, x of shape
 * xd, lengths lens or NULL; the output is its own gradient) adds to the library's memory. */
static size_t added_by_training(const rnn_recurrent_options *o, int64_t I, const int64_t xd[3],
                                const rnn_tensor *lens)
{
    rnn_model *m = tm_model(RNN_BACKEND_ONEDNN, 1, I, o, NULL);
    rnn_tensor *x = tm_tensor(3, xd, 1.0);
    const rnn_tensor *in[1] = {x}, *ln[1] = {lens}, *y;
    const size_t before = rnn_memory_used();
    ck_ok(rnn_model_forward(m, 1, in, lens ? ln : NULL, 1));
    ck_ok(rnn_model_output(m, 0, &y));
    const rnn_tensor *gs[1] = {y};
    ck_ok(rnn_model_backward(m, 1, gs));
    const size_t added = rnn_memory_used() - before;
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
    return added;
}

/* What the limit saves: a training forward and backward of a GRU (T 100, N 32, 64 on 64)
 * adds less by most of its uncapped workspace (about 100 x 32 rows x 2 KiB). */
START_TEST(workspace_limit_saves_memory)
{
    size_t used[2];
    for (int capped = 0; capped < 2; capped++) {
        ck_ok(rnn_set_workspace_limit(capped ? (size_t)256 << 10 : 0));
        rnn_recurrent_options o;
        rnn_recurrent_options_init(&o, RNN_GRU);
        o.units = 64;
        o.return_sequences = 1;
        const int64_t xd[3] = {32, 100, 64};
        used[capped] = added_by_training(&o, 64, xd, NULL);
    }
    ck_ok(rnn_set_workspace_limit(0));
    ck_assert_msg(used[1] + ((size_t)4 << 20) < used[0], "capped %zu B, uncapped %zu B", used[1],
                  used[0]);
}
END_TEST

/* The kernels' sorted copies (inputs, outputs and their gradients) hold the rows the segments
 * run, not the padded grid: a batch of one long sequence among short ones (T 100, N 64, one
 * sample of 100 steps, the others of 4: 256 + 96 x 8 rows of 6,400) adds far less than a
 * batch whose every sample runs 100 steps. A bidirectional SimpleRNN, whose workspace is small
 * beside the copies of its 256-wide inputs. */
static size_t added_with_long_ones(int long_ones)
{
    enum { T = 100, N = 64, I = 256 };
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_SIMPLE_RNN);
    o.units = 32;
    o.bidirectional = 1;
    o.return_sequences = 1;
    const int64_t xd[3] = {N, T, I}, ld[1] = {N};
    rnn_tensor *len;
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
    int32_t *lv;
    ck_ok(rnn_tensor_data(len, (void **)&lv));
    for (int n = 0; n < N; n++)
        lv[n] = n < long_ones ? T : 4;
    const size_t added = added_by_training(&o, I, xd, len);
    rnn_tensor_destroy(len);
    return added;
}

START_TEST(sorted_copies_hold_the_rows_run)
{
    /* oneDNN 2.6: 38.7 MB against 180.4 (4.7x); with copies of the padded grid 57.0 (3.2x) */
    const size_t one = added_with_long_ones(1), all = added_with_long_ones(64);
    ck_assert_msg(one * 4 < all, "one long sample adds %zu B, all long %zu B", one, all);
}
END_TEST

int main(void)
{
    rc_build_cases();
    Suite *s = suite_create("backend");
    TCase *tc = tcase_create("backend");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, backend_case, 0, rc_n_cases);
    tcase_add_loop_test(tc, random_stacked_models, 0, 40);
    tcase_add_test(tc, large_batches_parallel_copies);
    tcase_add_loop_test(tc, backend_case_workspace_limit, 0, rc_n_cases);
    tcase_add_test(tc, large_batches_workspace_limit);
    tcase_add_test(tc, workspace_limit_saves_memory);
    tcase_add_test(tc, sorted_copies_hold_the_rows_run);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
