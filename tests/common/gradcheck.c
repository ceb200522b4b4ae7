/* SPDX-License-Identifier: Apache-2.0 */
/* The finite-difference gradient check of every test (see gradcheck.h). */
#include "gradcheck.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* As test_util.h's ck_ok, without including it (its helpers are static). */
#define gc_ok(call)                                                                            \
    do {                                                                                       \
        rnn_status st_ = (call);                                                               \
        ck_assert_msg(st_ == RNN_OK, "gradcheck: %s returned %d (%s): %s", #call, (int)st_,    \
                      rnn_status_string(st_), rnn_last_error());                               \
    } while (0)

void gc_options_init(gc_options *o)
{
    memset(o, 0, sizeof *o);
    o->eps = 1e-2;
    o->rtol = 1e-2;
    o->atol = 2e-4;
    o->seed = 0x5EED5EEDull;
}

/* ------------------------------------------------------------ helpers */

static uint64_t mix(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float *fdata(const rnn_tensor *t)
{
    void *p;
    gc_ok(rnn_tensor_data((rnn_tensor *)t, &p));
    return p;
}

static int64_t numel(const rnn_tensor *t)
{
    int64_t n;
    gc_ok(rnn_tensor_numel(t, &n));
    return n;
}

/* "[i,j,k]" of flat index i in dims (rank 0: "[i]"). */
static void index_str(char *buf, size_t size, int64_t i, int rank, const int64_t *dims)
{
    if (rank <= 0) {
        snprintf(buf, size, "[%lld]", (long long)i);
        return;
    }
    int64_t c[RNN_MAX_RANK];
    for (int a = rank - 1; a >= 0; a--) {
        c[a] = dims[a] ? i % dims[a] : 0;
        i = dims[a] ? i / dims[a] : 0;
    }
    size_t at = 0;
    for (int a = 0; a < rank && at < size; a++)
        at += (size_t)snprintf(buf + at, size - at, "%s%lld", a ? "," : "[", (long long)c[a]);
    if (at < size)
        snprintf(buf + at, size - at, "]");
}

/* Which elements of a tensor of n to compare: all, or max of them sampled without
 * replacement (partial Fisher-Yates, seeded), in increasing order. */
static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t *pick(int64_t n, int64_t max, uint64_t seed, int64_t *count)
{
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    ck_assert_ptr_nonnull(idx);
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    *count = n;
    if (max > 0 && n > max) {
        for (int64_t i = 0; i < max; i++) {
            int64_t j = i + (int64_t)(mix(&seed) % (uint64_t)(n - i));
            int64_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        *count = max;
        qsort(idx, (size_t)max, sizeof(int64_t), cmp_i64);
    }
    return idx;
}

/* ------------------------------------------------------------ the comparison */

/* One perturbable tensor: how the loss is evaluated and what to call after writing it. */
typedef struct target {
    double (*loss)(void *ctx);
    void *ctx;
    void (*changed)(void *arg); /* NULL: nothing to call */
    void *arg;
    /* Sequence input padding: elements of (n, t, .) with t >= pad_len[n] must have an exactly
     * zero analytic gradient and leave the loss exactly unchanged. */
    const int32_t *pad_len;
    int64_t pad_T, pad_F;
} target;

static void note(gc_result *r, double ratio, const char *label, const char *idx, double an,
                 double num, const char *extra)
{
    r->checked++;
    if (isnan(ratio))
        ratio = INFINITY;
    if (ratio > r->worst || r->checked == 1) {
        r->worst = ratio;
        snprintf(r->where, sizeof r->where, "%s%s: analytic %.6g, numeric %.6g%s", label, idx, an,
                 num, extra);
    }
}

static void check_tensor(gc_result *r, const target *tg, float *v, const float *an, int rank,
                         const int64_t *dims, int64_t n, const gc_options *o, uint64_t salt,
                         const char *label)
{
    int64_t count;
    int64_t *idx = pick(n, o->max_elems, o->seed ^ (salt * 0xD1B54A32D192ED03ull), &count);
    const double eps = o->eps;
    for (int64_t s = 0; s < count; s++) {
        const int64_t i = idx[s];
        const float keep = v[i];
        v[i] = (float)(keep + eps);
        const double hp = (double)v[i] - keep;
        if (tg->changed)
            tg->changed(tg->arg);
        const double lp = tg->loss(tg->ctx);
        v[i] = (float)(keep - eps);
        const double hm = (double)keep - v[i];
        if (tg->changed)
            tg->changed(tg->arg);
        const double lm = tg->loss(tg->ctx);
        v[i] = keep;
        const double num = (lp - lm) / (hp + hm), a = an[i];
        char is[96];
        index_str(is, sizeof is, i, rank, dims);
        int pad = 0;
        if (tg->pad_len) {
            int64_t nn = i / (tg->pad_T * tg->pad_F), t = (i / tg->pad_F) % tg->pad_T;
            pad = t >= tg->pad_len[nn];
        }
        if (pad) { /* exactly nothing, either way */
            double ratio = a == 0.0 && lp == lm ? 0.0 : INFINITY;
            note(r, ratio, label, is, a, num, " (padding: both must be exactly 0)");
            continue;
        }
        double ratio = fabs(a - num) / (o->atol + o->rtol * fmax(fabs(a), fabs(num)));
        note(r, ratio, label, is, a, num, "");
    }
    if (tg->changed && count)
        tg->changed(tg->arg);
    free(idx);
}

static void report(const gc_result *r, const gc_options *o, const char *what)
{
    if (!o->quiet)
        printf("gradcheck %-52s %6lld elements, worst %.3f of tolerance\n", what,
               (long long)r->checked, r->worst);
}

/* ------------------------------------------------------------ scalar functions */

gc_result gc_scalar_run(gc_fn f, void *ctx, float *x, const float *grad, int rank,
                        const int64_t *dims, int64_t n, const gc_options *o, const char *what)
{
    gc_options defaults;
    if (!o) {
        gc_options_init(&defaults);
        o = &defaults;
    }
    gc_result r = {0};
    float *an = malloc(sizeof(float) * (size_t)(n ? n : 1));
    ck_assert_ptr_nonnull(an);
    memcpy(an, grad, sizeof(float) * (size_t)n);
    target tg = {f, ctx, NULL, NULL, NULL, 0, 0};
    check_tensor(&r, &tg, x, an, rank, dims, n, o, 1, "x");
    free(an);
    report(&r, o, what);
    return r;
}

double gc_scalar(gc_fn f, void *ctx, float *x, const float *grad, int rank, const int64_t *dims,
                 int64_t n, const gc_options *o, const char *what)
{
    gc_result r = gc_scalar_run(f, ctx, x, grad, rank, dims, n, o, what);
    ck_assert_msg(r.worst <= 1.0, "gradcheck %s: %lld elements, worst %.3g x tolerance at %s",
                  what, (long long)r.checked, r.worst, r.where);
    return r.worst;
}

/* ------------------------------------------------------------ models */

typedef struct model_ctx {
    rnn_model *m;
    int ni, no;
    const rnn_tensor *const *x, *const *len;
    rnn_tensor *W[GC_MAX_IO];
} model_ctx;

static double model_loss(void *p)
{
    model_ctx *c = p;
    gc_ok(rnn_model_reset_states(c->m));
    gc_ok(rnn_model_forward(c->m, c->ni, c->x, c->len, 1));
    double L = 0;
    for (int k = 0; k < c->no; k++) {
        const rnn_tensor *y;
        gc_ok(rnn_model_output(c->m, k, &y));
        const float *yv = fdata(y), *w = fdata(c->W[k]);
        for (int64_t i = 0, n = numel(y); i < n; i++)
            L += (double)w[i] * yv[i];
    }
    return L;
}

static void layer_changed(void *l)
{
    gc_ok(rnn_layer_params_changed(l));
}

static void states_changed(void *p)
{
    const gc_state *s = p;
    gc_ok(rnn_layer_set_initial_state(s->layer, s->count, (const rnn_tensor *const *)s->states));
}

static float *copy_of(const rnn_tensor *t)
{
    int64_t n = numel(t);
    float *c = malloc(sizeof(float) * (size_t)(n ? n : 1));
    ck_assert_ptr_nonnull(c);
    memcpy(c, fdata(t), sizeof(float) * (size_t)n);
    return c;
}

gc_result gc_model_run(rnn_model *m, int ni, rnn_tensor *const *x, rnn_tensor *const *len,
                       const gc_options *o, const char *what)
{
    gc_options defaults;
    if (!o) {
        gc_options_init(&defaults);
        o = &defaults;
    }
    gc_result r = {0};
    model_ctx c = {m, ni, 0, (const rnn_tensor *const *)x, (const rnn_tensor *const *)len, {0}};
    gc_ok(rnn_model_num_outputs(m, &c.no));
    ck_assert_int_le(c.no, GC_MAX_IO);
    rnn__model_freeze_masks(m, 1);

    /* W from the seed, zero past out_len. */
    gc_ok(rnn_model_reset_states(m));
    gc_ok(rnn_model_forward(m, ni, c.x, c.len, 1));
    uint64_t s = o->seed;
    for (int k = 0; k < c.no; k++) {
        const rnn_tensor *y;
        gc_ok(rnn_model_output(m, k, &y));
        int64_t dims[RNN_MAX_RANK];
        int rank;
        gc_ok(rnn_tensor_shape(y, dims, RNN_MAX_RANK, &rank));
        gc_ok(rnn_tensor_create(RNN_F32, rank, dims, &c.W[k]));
        float *w = fdata(c.W[k]);
        for (int64_t i = 0, n = numel(y); i < n; i++)
            w[i] = (float)((double)(mix(&s) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
        if (o->out_len[k]) {
            ck_assert_msg(rank == 3, "gradcheck %s: out_len[%d] given for an output of rank %d",
                          what, k, rank);
            for (int64_t nn = 0; nn < dims[0]; nn++)
                for (int64_t t = o->out_len[k][nn]; t < dims[1]; t++)
                    memset(w + (nn * dims[1] + t) * dims[2], 0, sizeof(float) * (size_t)dims[2]);
        }
    }

    /* Analytic gradients, copied before the finite differences overwrite anything. */
    (void)model_loss(&c); /* the same forward the differences make */
    gc_ok(rnn_model_zero_grad(m));
    gc_ok(rnn_model_backward(m, c.no, (const rnn_tensor *const *)c.W));
    float *dx[GC_MAX_IO] = {0};
    ck_assert_int_le(ni, GC_MAX_IO);
    for (int k = 0; k < ni; k++) {
        rnn_dtype dt;
        gc_ok(rnn_tensor_dtype(x[k], &dt));
        if (dt != RNN_F32)
            continue;
        const rnn_tensor *g;
        gc_ok(rnn_model_input_grad(m, k, &g));
        ck_assert_int_eq(numel(g), numel(x[k]));
        dx[k] = copy_of(g);
    }
    float *ds[GC_MAX_IO][4] = {{0}};
    ck_assert_int_le(o->num_states, GC_MAX_IO);
    for (int j = 0; j < o->num_states; j++) {
        ck_assert_int_le(o->states[j].count, 4);
        for (int k = 0; k < o->states[j].count; k++) {
            const rnn_tensor *g;
            gc_ok(rnn_layer_initial_state_grad(o->states[j].layer, k, &g));
            ds[j][k] = copy_of(g);
        }
    }

    target tg = {model_loss, &c, NULL, NULL, NULL, 0, 0};
    uint64_t salt = 1;
    int nl;
    gc_ok(rnn_model_num_layers(m, &nl));
    for (int li = 0; li < nl; li++) {
        rnn_layer *l;
        gc_ok(rnn_model_layer(m, li, &l));
        int np, trainable;
        const char *lname, *ltype;
        gc_ok(rnn_layer_num_params(l, &np));
        gc_ok(rnn_layer_trainable(l, &trainable));
        gc_ok(rnn_layer_name(l, &lname));
        gc_ok(rnn_layer_type(l, &ltype));
        for (int p = 0; p < np; p++, salt++) {
            rnn_tensor *v, *g;
            const char *pname;
            gc_ok(rnn_layer_param(l, p, &pname, &v, &g));
            char label[160];
            snprintf(label, sizeof label, "layer %d %s (%s) %s", li, lname, ltype, pname);
            int64_t dims[RNN_MAX_RANK];
            int rank;
            gc_ok(rnn_tensor_shape(v, dims, RNN_MAX_RANK, &rank));
            float *an = copy_of(g);
            if (!trainable) { /* no gradient at all */
                char is[96];
                for (int64_t i = 0, n = numel(v); i < n; i++) {
                    index_str(is, sizeof is, i, rank, dims);
                    note(&r, an[i] == 0.0f ? 0.0 : INFINITY, label, is, an[i], 0.0,
                         " (non-trainable: must be exactly 0)");
                }
            } else {
                tg.changed = layer_changed, tg.arg = l;
                check_tensor(&r, &tg, fdata(v), an, rank, dims, numel(v), o, salt, label);
            }
            free(an);
        }
    }
    tg.changed = NULL, tg.arg = NULL;
    for (int k = 0; k < ni; k++, salt++) {
        if (!dx[k])
            continue;
        int64_t dims[RNN_MAX_RANK];
        int rank;
        gc_ok(rnn_tensor_shape(x[k], dims, RNN_MAX_RANK, &rank));
        tg.pad_len = NULL;
        if (len && len[k] && rank == 3)
            tg.pad_len = (const int32_t *)fdata(len[k]), tg.pad_T = dims[1], tg.pad_F = dims[2];
        char label[32];
        snprintf(label, sizeof label, "input %d", k);
        check_tensor(&r, &tg, fdata(x[k]), dx[k], rank, dims, numel(x[k]), o, salt, label);
        free(dx[k]);
    }
    tg.pad_len = NULL;
    for (int j = 0; j < o->num_states; j++) {
        const char *lname;
        gc_ok(rnn_layer_name(o->states[j].layer, &lname));
        tg.changed = states_changed, tg.arg = (void *)&o->states[j];
        for (int k = 0; k < o->states[j].count; k++, salt++) {
            rnn_tensor *st = o->states[j].states[k];
            int64_t dims[RNN_MAX_RANK];
            int rank;
            gc_ok(rnn_tensor_shape(st, dims, RNN_MAX_RANK, &rank));
            char label[160];
            snprintf(label, sizeof label, "layer %s initial state %d", lname, k);
            check_tensor(&r, &tg, fdata(st), ds[j][k], rank, dims, numel(st), o, salt, label);
            free(ds[j][k]);
        }
    }
    for (int k = 0; k < c.no; k++)
        rnn_tensor_destroy(c.W[k]);
    report(&r, o, what);
    return r;
}

double gc_model(rnn_model *m, int ni, rnn_tensor *const *x, rnn_tensor *const *len,
                const gc_options *o, const char *what)
{
    gc_result r = gc_model_run(m, ni, x, len, o, what);
    ck_assert_msg(r.worst <= 1.0, "gradcheck %s: %lld elements, worst %.3g x tolerance at %s",
                  what, (long long)r.checked, r.worst, r.where);
    return r.worst;
}
