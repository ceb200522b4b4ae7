/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Through the public API, for every cell and option combination:
 *  - gradcheck: finite differences (central, on the reference backend) of
 *    L = sum(out_k * R_k) over all outputs against the analytic gradients of
 *    every parameter, the input and the initial states;
 *  - backend: oneDNN equals the reference backend on outputs and gradients.
 * Variable lengths with garbage in the padding are part of every case.
 */
#include "rnn_test_model.h"

/* White-box hook (linked against the internal static library). */
void rnn__model_freeze_masks(rnn_model *m, int freeze);

typedef struct tcase_desc {
    rnn_cell_type cell;
    int relu, reset_after, bi, merge, ret_seq, ret_state, go_back, use_bias, init_state;
    int varlen;
    float dropout, rec_dropout;
} tcase_desc;

enum { N_ = 3, T_ = 4, I_ = 3, H_ = 2 };
static const int32_t LENS[N_] = {4, 1, 3};

typedef struct run {
    rnn_model *m;
    rnn_layer *l;
    rnn_tensor *x, *len, *R[5], *S[4];
    int n_out, n_states;
} run;

static rnn_recurrent_options opts_of(const tcase_desc *c)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, c->cell);
    o.units = H_;
    o.activation = c->relu ? RNN_ACT_RELU : RNN_ACT_TANH;
    o.reset_after = c->reset_after;
    o.bidirectional = c->bi;
    o.merge_mode = (rnn_merge_mode)c->merge;
    o.return_sequences = c->ret_seq;
    o.return_state = c->ret_state;
    o.go_backwards = c->go_back;
    o.use_bias = c->use_bias;
    o.dropout = c->dropout;
    o.recurrent_dropout = c->rec_dropout;
    return o;
}

static void run_setup(run *r, const tcase_desc *c, rnn_backend be)
{
    memset(r, 0, sizeof *r);
    tm_rng = 0x1234567ull; /* same data for both backends */
    rnn_recurrent_options o = opts_of(c);
    r->m = tm_model(be, 5, I_, &o, &r->l);
    rnn__model_freeze_masks(r->m, 1);
    /* Random non-zero biases (default init is zeros). */
    int np;
    rnn_layer_num_params(r->l, &np);
    for (int p = 0; p < np; p++) {
        rnn_tensor *t;
        rnn_layer_param(r->l, p, NULL, &t, NULL);
        for (int64_t i = 0; i < tm_numel(t); i++)
            tm_f(t)[i] = (float)(0.6 * tm_uniform());
    }
    rnn_layer_params_changed(r->l);
    int64_t xd[3] = {N_, T_, I_}, ld[1] = {N_};
    r->x = tm_tensor(3, xd, 1.0);
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &r->len));
    for (int n = 0; n < N_; n++) {
        ((int32_t *)tm_f(r->len))[n] = c->varlen ? LENS[n] : T_;
        for (int t = c->varlen ? LENS[n] : T_; t < T_; t++)
            for (int i = 0; i < I_; i++)
                tm_f(r->x)[(n * T_ + t) * I_ + i] = 1000.0f; /* padding garbage */
    }
    rnn_model_num_outputs(r->m, &r->n_out);
    rnn_layer_num_states(r->l, &r->n_states);
    if (c->init_state) {
        int64_t sd[2] = {N_, H_};
        for (int k = 0; k < r->n_states; k++)
            r->S[k] = tm_tensor(2, sd, 0.5);
        ck_ok(rnn_layer_set_initial_state(r->l, r->n_states, (const rnn_tensor *const *)r->S));
    }
    const rnn_tensor *in[1] = {r->x}, *lens[1] = {r->len};
    ck_ok(rnn_model_forward(r->m, 1, in, lens, 1));
    for (int k = 0; k < r->n_out; k++) {
        const rnn_tensor *y;
        ck_ok(rnn_model_output(r->m, k, &y));
        int64_t dims[3];
        int rank;
        rnn_tensor_shape(y, dims, 3, &rank);
        r->R[k] = tm_tensor(rank, dims, 1.0);
    }
}

static void run_free(run *r)
{
    for (int k = 0; k < 5; k++)
        rnn_tensor_destroy(r->R[k]);
    for (int k = 0; k < 4; k++)
        rnn_tensor_destroy(r->S[k]);
    rnn_tensor_destroy(r->x);
    rnn_tensor_destroy(r->len);
    rnn_model_destroy(r->m);
}

static double loss(run *r)
{
    const rnn_tensor *in[1] = {r->x}, *lens[1] = {r->len};
    ck_ok(rnn_model_forward(r->m, 1, in, lens, 1));
    double L = 0;
    for (int k = 0; k < r->n_out; k++) {
        const rnn_tensor *y;
        rnn_model_output(r->m, k, &y);
        for (int64_t i = 0; i < tm_numel(y); i++)
            L += (double)tm_f(y)[i] * tm_f(r->R[k])[i];
    }
    return L;
}

static void backward(run *r)
{
    loss(r);
    ck_ok(rnn_model_zero_grad(r->m));
    ck_ok(rnn_model_backward(r->m, r->n_out, (const rnn_tensor *const *)r->R));
}

/* Central difference of the loss w.r.t. p[i]; then_changed marks params. */
/* Finite-difference step: ReLU cells use a smaller one, because a 1e-2 step
 * can cross the kink at 0 (with dropout's 1/keep scaling it did). */
static float fd_eps = 1e-2f;

static double fd(run *r, float *p, int64_t i, int is_param, int is_state)
{
    const float eps = fd_eps;
    float keep = p[i];
    p[i] = keep + eps;
    if (is_param)
        rnn_layer_params_changed(r->l);
    if (is_state)
        rnn_layer_set_initial_state(r->l, r->n_states, (const rnn_tensor *const *)r->S);
    double lp = loss(r);
    p[i] = keep - eps;
    if (is_param)
        rnn_layer_params_changed(r->l);
    if (is_state)
        rnn_layer_set_initial_state(r->l, r->n_states, (const rnn_tensor *const *)r->S);
    double lm = loss(r);
    p[i] = keep;
    if (is_param)
        rnn_layer_params_changed(r->l);
    if (is_state)
        rnn_layer_set_initial_state(r->l, r->n_states, (const rnn_tensor *const *)r->S);
    return (lp - lm) / (2.0 * eps);
}

static void check_close(double an, double num, const char *what, int64_t i, const tcase_desc *c)
{
    double tol = 2e-2 * fmax(1.0, fabs(num)) + 2e-3;
    ck_assert_msg(fabs(an - num) <= tol,
                  "%s[%lld]: analytic %.6f vs numeric %.6f (cell %d relu %d ra %d bi %d merge %d "
                  "seq %d state %d back %d bias %d init %d varlen %d)",
                  what, (long long)i, an, num, c->cell, c->relu, c->reset_after, c->bi, c->merge,
                  c->ret_seq, c->ret_state, c->go_back, c->use_bias, c->init_state, c->varlen);
}

static void gradcheck(const tcase_desc *c)
{
    run r;
    fd_eps = c->relu ? 1e-3f : 1e-2f;
    run_setup(&r, c, RNN_BACKEND_REFERENCE);
    backward(&r);
    int np;
    rnn_layer_num_params(r.l, &np);
    for (int p = 0; p < np; p++) {
        rnn_tensor *v, *g;
        const char *name;
        rnn_layer_param(r.l, p, &name, &v, &g);
        int64_t n = tm_numel(v);
        float *gc = malloc(sizeof(float) * (size_t)n);
        memcpy(gc, tm_f(g), sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            check_close(gc[i], fd(&r, tm_f(v), i, 1, 0), name, i, c);
        free(gc);
    }
    backward(&r);
    const rnn_tensor *dx;
    ck_ok(rnn_model_input_grad(r.m, 0, &dx));
    float *dxc = malloc(sizeof(float) * N_ * T_ * I_);
    memcpy(dxc, tm_f(dx), sizeof(float) * N_ * T_ * I_);
    for (int64_t i = 0; i < N_ * T_ * I_; i++) {
        int64_t n = i / (T_ * I_), t = (i / I_) % T_;
        if (c->varlen && t >= LENS[n]) {
            ck_assert_msg(dxc[i] == 0.0f, "dx at padding must be 0");
            continue;
        }
        check_close(dxc[i], fd(&r, tm_f(r.x), i, 0, 0), "dx", i, c);
    }
    free(dxc);
    if (c->init_state) {
        backward(&r);
        for (int k = 0; k < r.n_states; k++) {
            const rnn_tensor *ds;
            ck_ok(rnn_layer_initial_state_grad(r.l, k, &ds));
            float dsc[N_ * H_];
            memcpy(dsc, tm_f(ds), sizeof dsc);
            for (int64_t i = 0; i < N_ * H_; i++)
                check_close(dsc[i], fd(&r, tm_f(r.S[k]), i, 0, 1), "dstate", i, c);
        }
    }
    run_free(&r);
}

static void compare_backends(const tcase_desc *c)
{
    run a, b;
    run_setup(&a, c, RNN_BACKEND_ONEDNN);
    run_setup(&b, c, RNN_BACKEND_REFERENCE);
    backward(&a);
    backward(&b);
    for (int k = 0; k < a.n_out; k++) {
        const rnn_tensor *ya, *yb;
        rnn_model_output(a.m, k, &ya);
        rnn_model_output(b.m, k, &yb);
        ck_assert_msg(tm_max_rel(tm_f(ya), tm_f(yb), tm_numel(ya)) < 1e-4, "output %d differs", k);
    }
    int np;
    rnn_layer_num_params(a.l, &np);
    for (int p = 0; p < np; p++) {
        rnn_tensor *ga, *gb;
        const char *name;
        rnn_layer_param(a.l, p, &name, NULL, &ga);
        rnn_layer_param(b.l, p, NULL, NULL, &gb);
        double e = tm_max_rel(tm_f(ga), tm_f(gb), tm_numel(ga));
        ck_assert_msg(e < 1e-4, "grad %s differs: rel %g (cell %d bi %d varlen %d)", name, e,
                      c->cell, c->bi, c->varlen);
    }
    const rnn_tensor *da, *db;
    rnn_model_input_grad(a.m, 0, &da);
    rnn_model_input_grad(b.m, 0, &db);
    ck_assert(tm_max_rel(tm_f(da), tm_f(db), tm_numel(da)) < 1e-4);
    run_free(&a);
    run_free(&b);
}

/* Case table: every cell x the options that change the data path. */
static tcase_desc cases[256];
static int n_cases;

static void build_cases(void)
{
    const struct { rnn_cell_type cell; int relu, ra; } cells[] = {
        {RNN_SIMPLE_RNN, 0, 1}, {RNN_SIMPLE_RNN, 1, 1}, {RNN_LSTM, 0, 1},
        {RNN_GRU, 0, 1},        {RNN_GRU, 0, 0}};
    for (size_t ci = 0; ci < sizeof cells / sizeof cells[0]; ci++)
        for (int varlen = 0; varlen < 2; varlen++) {
            tcase_desc base = {cells[ci].cell, cells[ci].relu, cells[ci].ra, 0, 0, 1, 0, 0, 1, 0,
                               varlen, 0.0f, 0.0f};
            cases[n_cases++] = base; /* uni, sequences */
            tcase_desc t = base;
            t.go_back = 1;
            cases[n_cases++] = t;
            t = base;
            t.ret_seq = 0, t.ret_state = 1, t.init_state = 1, t.use_bias = 0;
            cases[n_cases++] = t;
            for (int mm = 0; mm < 4; mm++) {
                t = base;
                t.bi = 1, t.merge = mm, t.ret_seq = mm != 1, t.ret_state = mm == 0;
                t.init_state = mm == 2;
                cases[n_cases++] = t;
            }
            /* Dropout (oneDNN path) and recurrent dropout (reference path). */
            t = base;
            t.dropout = 0.4f;
            cases[n_cases++] = t;
            t = base;
            t.bi = 1, t.rec_dropout = 0.3f, t.dropout = 0.2f;
            cases[n_cases++] = t;
        }
}

/* Largest difference relative to the largest magnitude: for long float sums, whose
 * elementwise relative error grows where terms cancel (and differs with the ISA oneDNN picks,
 * e.g. under valgrind), while a misplaced row or step is off by O(1). */
static double norm_rel(const float *a, const float *b, int64_t n)
{
    double d = 0, m = 1e-6;
    for (int64_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return d / m;
}

/* oneDNN (on threads[0] threads; 0: unchanged) against the reference backend (threads[1]) on
 * one stack of recurrent layers: outputs, the input gradient and every weight gradient agree
 * to tol under the metric rel (tm_max_rel or norm_rel). lv: per-sample lengths or NULL. */
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
 * every merge mode, with and without lengths, with and without return_sequences. */
START_TEST(large_batches_parallel_copies)
{
    enum { T = 40, N = 32, I = 64 }; /* T*N*I = 81,920 floats */
    int32_t lv[N];
    for (int n = 0; n < N; n++)
        lv[n] = 1 + (17 * n) % T;
    const int threads[2] = {2, 1};
    for (int v = 0; v < 8; v++) {
        rnn_recurrent_options os[2];
        rnn_recurrent_options_init(&os[0], v % 2 ? RNN_GRU : RNN_LSTM);
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
        snprintf(what, sizeof what, "variant %d, %s", v, v % 2 ? "lengths" : "no lengths");
        compare_stacked(T, N, I, 2, os, v % 2 ? lv : NULL, threads, norm_rel, 1e-4, what);
    }
}
END_TEST

START_TEST(gradcheck_case)
{
    gradcheck(&cases[_i]);
}
END_TEST

START_TEST(backend_case)
{
    compare_backends(&cases[_i]);
}
END_TEST

int main(int argc, char **argv)
{
    build_cases();
    const char *which = argc > 1 ? argv[1] : "gradcheck";
    Suite *s = suite_create(which);
    TCase *tc = tcase_create(which);
    tcase_set_timeout(tc, 300);
    if (strcmp(which, "backend") == 0) {
        tcase_add_loop_test(tc, backend_case, 0, n_cases);
        tcase_add_loop_test(tc, random_stacked_models, 0, 40);
        tcase_add_test(tc, large_batches_parallel_copies);
    }
    else
        tcase_add_loop_test(tc, gradcheck_case, 0, n_cases);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
