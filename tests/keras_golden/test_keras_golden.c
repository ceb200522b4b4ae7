/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden parity with real Keras 3 (fixtures from gen_keras_fixtures.py, read
 * with tests/golden/fixture.[ch]; no TensorFlow needed here). For every case
 * a librnn model is built through the public API with the Keras options of
 * the case, given Keras' weights through the Keras-layout import
 * (rnn_layer_set_weights(RNN_WEIGHTS_KERAS) for recurrent layers, and
 * rnn_layer_set_param() for the others, whose parameters are Keras' arrays in
 * get_weights() order), then:
 *  - forward/backward cases: outputs, gradients with respect to the float
 *    inputs and to every weight for the loss sum_o sum(y_o * R_o), per call
 *    (two calls for stateful cases);
 *  - training cases: rnn_model_compile() with the case's loss and optimizer,
 *    two rnn_model_train_step() on the same batch: the loss of each step, the
 *    gradients of the first (unless clipping rewrote them) and the weights
 *    after each step.
 * Both backends run every case.
 *
 * Tolerance: an element passes when |librnn - keras| <= 1e-5 * (|keras| + 0.1),
 * i.e. 1e-5 relative with an absolute floor of 1e-6 for values near zero.
 * The error reported per case is max |librnn - keras| / (|keras| + 0.1).
 *
 * Cases whose mismatch is a known librnn discrepancy go in KNOWN_MISMATCH:
 * they are run and reported but do not fail the suite (and a case there that
 * starts matching is reported, so the list can shrink).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../unit/test_util.h"
#include "../golden/fixture.h"

#ifndef KERAS_GOLDEN_DIR
#error "KERAS_GOLDEN_DIR must name the fixtures folder"
#endif

#define TOL 1e-5
#define FLOOR 0.1
#define MAX_CASES 160

/* Cases where librnn differs from Keras 3, run and reported but not failed.
 * Nadam: librnn's momentum schedule is tf.keras 2's
 * u_t = beta_1 (1 - 0.5 * 0.96^(0.004 t)); Keras 3 (keras/src/optimizers/
 * nadam.py) uses u_t = beta_1 (1 - 0.5 * 0.96^t). librnn's first-step weights
 * equal the 0.004 formula to float rounding (error ~1e-3 against Keras 3). */
static const char *const KNOWN_MISMATCH[] = {NULL};

static char names[MAX_CASES][64];
static int n_names;
static double case_err[MAX_CASES][2];
static double worst_err;

static int load_index(void)
{
    FILE *f = fopen(KERAS_GOLDEN_DIR "/index.txt", "r");
    if (!f) {
        fprintf(stderr, "cannot open %s/index.txt\n", KERAS_GOLDEN_DIR);
        return -1;
    }
    char line[256];
    while (fgets(line, sizeof line, f) && n_names < MAX_CASES) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = 0;
        snprintf(names[n_names++], sizeof names[0], "%.63s", line);
    }
    fclose(f);
    return n_names > 0 ? 0 : -1;
}

static int known_mismatch(const char *name)
{
    for (int i = 0; KNOWN_MISMATCH[i]; i++)
        if (!strcmp(KNOWN_MISMATCH[i], name))
            return 1;
    return 0;
}

/* ------------------------------------------------------------ one case's state */

typedef struct kcase {
    const char *name;
    char ctx[128];
    fx_file f;
    rnn_model *m;
    rnn_layer *wl[8]; /* the weighted layers, in the generator's order */
    int nwl;
    int attn_map;     /* 1 AdditiveAttention, 2 Attention(score_mode="concat") */
    double err;
    char first_fail[320];
} kcase;

static const fx_array *need(const kcase *c, const char *name)
{
    const fx_array *a = fx_get(&c->f, name);
    ck_assert_msg(a != NULL, "%s: fixture has no array %s", c->ctx, name);
    return a;
}

/* Weight k of layer li: "w{li}.{k}:{keras path}". */
static const fx_array *weight(const kcase *c, int li, int k)
{
    char pre[32];
    int n = snprintf(pre, sizeof pre, "w%d.%d:", li, k);
    for (int i = 0; i < c->f.count; i++)
        if (!strncmp(c->f.a[i].name, pre, (size_t)n))
            return &c->f.a[i];
    return NULL;
}

static int count_weights(const kcase *c, int li)
{
    int k = 0;
    while (weight(c, li, k))
        k++;
    return k;
}

static void compare(kcase *c, const char *what, const float *a, const float *b,
                    const float *mask, int64_t mask_every, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (mask && mask[i / mask_every] == 0.0f)
            continue;
        double e = fabs((double)a[i] - b[i]) / (fabs((double)b[i]) + FLOOR);
        if (!(e <= TOL) && !c->first_fail[0])
            snprintf(c->first_fail, sizeof c->first_fail,
                     "%s: %s[%lld] = %.8g, Keras %.8g (err %.2g)", c->ctx, what, (long long)i,
                     (double)a[i], (double)b[i], e);
        if (!(e <= c->err))
            c->err = isnan(e) ? INFINITY : e;
    }
}

static float *tdata(const rnn_tensor *t)
{
    void *p;
    rnn_tensor_data((rnn_tensor *)t, &p);
    return p;
}

static int64_t tnumel(const rnn_tensor *t)
{
    int64_t n;
    rnn_tensor_numel(t, &n);
    return n;
}

static rnn_tensor *wrap_copy(const fx_array *a)
{
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_create(a->dtype == 2 ? RNN_I32 : RNN_F32, a->rank, a->dims, &t));
    memcpy(tdata(t), a->data, (size_t)a->numel * 4);
    return t;
}

/* ------------------------------------------------------------ building */

static rnn_layer *input_seq(kcase *c, int64_t T, int64_t F)
{
    int64_t shape[2] = {T, F};
    rnn_layer *l;
    ck_ok(rnn_model_add_input(c->m, RNN_F32, 2, shape, &l));
    return l;
}

static void wl_add(kcase *c, rnn_layer *l)
{
    c->wl[c->nwl++] = l;
}

/* Cell of a case from its tag: simple, lstm, gru_ra1, gru_ra0. */
static rnn_cell_type cell_of(const char *s, int *reset_after)
{
    *reset_after = 1;
    if (!strncmp(s, "simple", 6))
        return RNN_SIMPLE_RNN;
    if (!strncmp(s, "lstm", 4))
        return RNN_LSTM;
    ck_assert_msg(!strncmp(s, "gru_ra", 6), "unknown cell in %s", s);
    *reset_after = s[6] == '1';
    return RNN_GRU;
}

static rnn_layer *add_rec(kcase *c, rnn_cell_type cell, int reset_after, int rs, int rst, int bi,
                          rnn_merge_mode merge, int backwards, int stateful)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, cell);
    o.units = 3;
    o.return_sequences = rs;
    o.return_state = rst;
    o.bidirectional = bi;
    o.merge_mode = merge;
    o.go_backwards = backwards;
    o.stateful = stateful;
    if (cell == RNN_GRU)
        o.reset_after = reset_after;
    rnn_layer *l;
    ck_ok(rnn_model_add_recurrent(c->m, &o, &l));
    wl_add(c, l);
    return l;
}

static rnn_merge_mode merge_of(const char *s)
{
    if (strstr(s, "_sum"))
        return RNN_MERGE_SUM;
    if (strstr(s, "_mul"))
        return RNN_MERGE_MUL;
    if (strstr(s, "_ave"))
        return RNN_MERGE_AVE;
    ck_assert_msg(strstr(s, "_concat") != NULL, "unknown merge in %s", s);
    return RNN_MERGE_CONCAT;
}

static rnn_activation act_of(const char *s)
{
    if (strstr(s, "relu"))
        return RNN_ACT_RELU;
    if (strstr(s, "sigmoid"))
        return RNN_ACT_SIGMOID;
    if (strstr(s, "softmax"))
        return RNN_ACT_SOFTMAX;
    if (strstr(s, "tanh"))
        return RNN_ACT_TANH;
    return RNN_ACT_LINEAR;
}

static void add_dense(kcase *c, int64_t units, rnn_activation act)
{
    rnn_dense_options o;
    rnn_dense_options_init(&o);
    o.units = units;
    o.activation = act;
    rnn_layer *l;
    ck_ok(rnn_model_add_dense(c->m, &o, &l));
    wl_add(c, l);
}

/* Builds the librnn model of a forward/backward case from its name (the
 * generator's case list, same options). */
static void build_forward(kcase *c)
{
    const char *n = c->name;
    int ra = 1;
    if (!strncmp(n, "bi_", 3)) {
        input_seq(c, 5, 4);
        int masked = strstr(n, "_masked") != NULL;
        rnn_cell_type cell = cell_of(n + 3, &ra);
        add_rec(c, cell, ra, 1, !masked, 1, merge_of(n), 0, 0);
    } else if (!strcmp(n, "stacked_lstm_bigru_simple")) {
        input_seq(c, 5, 4);
        add_rec(c, RNN_LSTM, 1, 1, 0, 0, RNN_MERGE_CONCAT, 0, 0);
        add_rec(c, RNN_GRU, 1, 1, 0, 1, RNN_MERGE_CONCAT, 0, 0);
        add_rec(c, RNN_SIMPLE_RNN, 1, 0, 0, 0, RNN_MERGE_CONCAT, 0, 0);
    } else if (!strcmp(n, "stacked_gru_lstm_masked")) {
        input_seq(c, 5, 4);
        add_rec(c, RNN_GRU, 0, 1, 0, 0, RNN_MERGE_CONCAT, 0, 0);
        add_rec(c, RNN_LSTM, 1, 1, 0, 0, RNN_MERGE_CONCAT, 0, 0);
    } else if (!strncmp(n, "embedding_mask_zero_lstm_seq", 28)) {
        int64_t shape[1] = {5};
        ck_ok(rnn_model_add_input(c->m, RNN_I32, 1, shape, NULL));
        rnn_embedding_options eo;
        rnn_embedding_options_init(&eo);
        eo.input_dim = 7;
        eo.output_dim = 4;
        eo.mask_zero = 1;
        rnn_layer *e;
        ck_ok(rnn_model_add_embedding(c->m, &eo, &e));
        wl_add(c, e);
        add_rec(c, RNN_LSTM, 1, n[28] == '1', 0, 0, RNN_MERGE_CONCAT, 0, 0);
    } else if (!strncmp(n, "stateful_", 9)) {
        input_seq(c, 5, 4);
        rnn_cell_type cell = cell_of(n + 9, &ra);
        add_rec(c, cell, ra, 1, 0, 0, RNN_MERGE_CONCAT, 0, 1);
    } else if (!strcmp(n, "dense_tanh_vector")) {
        int64_t shape[1] = {4};
        ck_ok(rnn_model_add_input(c->m, RNN_F32, 1, shape, NULL));
        add_dense(c, 3, RNN_ACT_TANH);
    } else if (!strncmp(n, "timedistributed_dense_", 22)) {
        input_seq(c, 5, 4);
        add_dense(c, 3, act_of(n + 22));
    } else if (!strncmp(n, "conv1d_", 7)) {
        input_seq(c, 6, 4);
        rnn_conv1d_options o;
        rnn_conv1d_options_init(&o);
        o.filters = 3;
        o.kernel_size = strstr(n, "_k3") ? 3 : 2;
        o.padding = strstr(n, "_same") ? RNN_PADDING_SAME : RNN_PADDING_VALID;
        o.strides = strstr(n, "_s2") ? 2 : 1;
        o.dilation_rate = strstr(n, "_d2") ? 2 : 1;
        o.activation = act_of(n);
        rnn_layer *l;
        ck_ok(rnn_model_add_conv1d(c->m, &o, &l));
        wl_add(c, l);
    } else if (!strncmp(n, "maxpool1d_", 10)) {
        input_seq(c, 6, 4);
        int64_t pool = strstr(n, "_p3") ? 3 : 2, strides = strstr(n, "_s1") ? 1 : 0;
        ck_ok(rnn_model_add_max_pooling1d(c->m, pool, strides,
                                          strstr(n, "_same") ? RNN_PADDING_SAME
                                                             : RNN_PADDING_VALID,
                                          NULL));
    } else if (!strncmp(n, "global_", 7)) {
        input_seq(c, 5, 4);
        if (strstr(n, "_lstm"))
            add_rec(c, RNN_LSTM, 1, 1, 0, 0, RNN_MERGE_CONCAT, 0, 0);
        ck_ok(rnn_model_add_global_pooling(c->m, strstr(n, "_max_") ? RNN_POOL_MAX
                                                                      : RNN_POOL_AVERAGE,
                                           NULL));
    } else if (!strncmp(n, "attention_", 10) || !strcmp(n, "additive_attention")) {
        rnn_layer *q = input_seq(c, 4, 4), *v = input_seq(c, 5, 4), *a;
        rnn_attention_options o;
        rnn_attention_options_init(&o);
        if (strcmp(n, "attention_dot")) {
            /* Keras' AdditiveAttention and Attention(score_mode="concat") are
             * librnn's additive score with identity projections and a zero bias. */
            o.score = RNN_ATTENTION_ADDITIVE;
            o.units = 4;
            c->attn_map = strcmp(n, "additive_attention") ? 2 : 1;
        }
        ck_ok(rnn_model_add_attention(c->m, &o, q, 0, v, 0, &a));
        if (c->attn_map)
            wl_add(c, a);
    } else {
        /* {cell}_seq{rs}_state{rst}, {cell}_backwards_seq{rs}, {cell}_masked_seq{rs} */
        input_seq(c, 5, 4);
        rnn_cell_type cell = cell_of(n, &ra);
        const char *s = strstr(n, "_seq");
        ck_assert_msg(s != NULL, "unknown case %s", n);
        int rs = s[4] == '1';
        if (strstr(n, "_backwards_"))
            add_rec(c, cell, ra, rs, 0, 0, RNN_MERGE_CONCAT, 1, 0);
        else if (strstr(n, "_masked_"))
            add_rec(c, cell, ra, rs, 1, 0, RNN_MERGE_CONCAT, 0, 0);
        else
            add_rec(c, cell, ra, rs, strstr(n, "_state1") != NULL, 0, RNN_MERGE_CONCAT, 0, 0);
    }
}

/* Keras' weights into layer li (the attention mappings set librnn's extra
 * projections to the identity). */
static void set_weights(kcase *c, int li)
{
    rnn_layer *l = c->wl[li];
    const int nk = count_weights(c, li);
    const char *type;
    ck_ok(rnn_layer_type(l, &type));
    if (c->attn_map) {
        ck_assert_int_eq(nk, 1);
        const fx_array *w = weight(c, li, 0);
        static const char *const pn[] = {"query_kernel", "value_kernel", "bias", "score_kernel"};
        for (int p = 0; p < 4; p++) {
            int idx;
            rnn_tensor *val;
            ck_ok(rnn_layer_find_param(l, pn[p], &idx));
            ck_ok(rnn_layer_param(l, idx, NULL, &val, NULL));
            float *d = tdata(val);
            int64_t cnt = tnumel(val);
            for (int64_t i = 0; i < cnt; i++)
                d[i] = p < 2 ? (i / 4 == i % 4 ? 1.0f : 0.0f)
                       : p == 2 ? 0.0f
                       : ((const float *)w->data)[c->attn_map == 1 ? i : 0];
        }
        ck_ok(rnn_layer_params_changed(l));
        return;
    }
    if (!strcmp(type, "LSTM") || !strcmp(type, "GRU") || !strcmp(type, "SimpleRNN") ||
        !strcmp(type, "Bidirectional")) {
        int nw;
        ck_ok(rnn_layer_weights_count(l, RNN_WEIGHTS_KERAS, &nw));
        ck_assert_msg(nw == nk, "%s: layer %d has %d Keras weights, fixture %d", c->ctx, li, nw,
                      nk);
        rnn_tensor *w[8];
        for (int k = 0; k < nw; k++)
            w[k] = wrap_copy(weight(c, li, k));
        ck_ok(rnn_layer_set_weights(l, RNN_WEIGHTS_KERAS, nw, (const rnn_tensor *const *)w));
        for (int k = 0; k < nw; k++)
            rnn_tensor_destroy(w[k]);
        return;
    }
    int np;
    ck_ok(rnn_layer_num_params(l, &np));
    ck_assert_msg(np == nk, "%s: layer %d has %d parameters, fixture %d", c->ctx, li, np, nk);
    for (int k = 0; k < np; k++) {
        rnn_tensor *w = wrap_copy(weight(c, li, k));
        ck_ok(rnn_layer_set_param(l, k, w));
        rnn_tensor_destroy(w);
    }
}

/* librnn's gradient of weight k of layer li, in Keras' layout, into buf. */
static int64_t weight_grad(kcase *c, int li, int k, float *buf)
{
    rnn_layer *l = c->wl[li];
    rnn_tensor *g;
    int idx;
    if (c->attn_map) {
        ck_ok(rnn_layer_find_param(l, "score_kernel", &idx));
        ck_ok(rnn_layer_param(l, idx, NULL, NULL, &g));
        if (c->attn_map == 1) {
            memcpy(buf, tdata(g), sizeof(float) * (size_t)tnumel(g));
            return tnumel(g);
        }
        double s = 0; /* concat_score_weight multiplies every a_u */
        for (int64_t i = 0; i < tnumel(g); i++)
            s += tdata(g)[i];
        buf[0] = (float)s;
        return 1;
    }
    const char *pname;
    ck_ok(rnn_layer_param(l, k, &pname, NULL, &g));
    /* Same array as Keras' weight k: the last path components agree. */
    const char *kp = strchr(weight(c, li, k)->name, ':') + 1;
    const char *a = strrchr(pname, '/'), *b = strrchr(kp, '/');
    a = a ? a + 1 : pname;
    b = b ? b + 1 : kp;
    ck_assert_msg(!strcmp(a, b), "%s: parameter %d of layer %d is %s, Keras %s", c->ctx, k, li,
                  pname, kp);
    memcpy(buf, tdata(g), sizeof(float) * (size_t)tnumel(g));
    return tnumel(g);
}

static void compare_weight_grads(kcase *c, const char *prefix)
{
    float buf[4096];
    for (int li = 0; li < c->nwl; li++)
        for (int k = 0, nk = count_weights(c, li); k < nk; k++) {
            char an[32];
            snprintf(an, sizeof an, "%s.%d.%d", prefix, li, k);
            const fx_array *ref = need(c, an);
            int64_t n = weight_grad(c, li, k, buf);
            ck_assert_msg(n == ref->numel, "%s: %s has %lld values, librnn %lld", c->ctx, an,
                          (long long)ref->numel, (long long)n);
            compare(c, an, buf, ref->data, NULL, 1, n);
        }
}

/* ------------------------------------------------------------ running */

static void run_forward(kcase *c, const int32_t *meta)
{
    const int calls = meta[1], nin = meta[2], nout = meta[3];
    for (int call = 0; call < calls; call++) {
        rnn_tensor *x[4] = {0}, *len[4] = {0}, *R[8] = {0};
        char an[32];
        for (int i = 0; i < nin; i++) {
            snprintf(an, sizeof an, "x%d.%d", call, i);
            x[i] = wrap_copy(need(c, an));
            snprintf(an, sizeof an, "len%d.%d", call, i);
            const fx_array *la = fx_get(&c->f, an);
            if (la)
                len[i] = wrap_copy(la);
        }
        ck_ok(rnn_model_forward(c->m, nin, (const rnn_tensor *const *)x,
                                (const rnn_tensor *const *)len, 1));
        int mo;
        ck_ok(rnn_model_num_outputs(c->m, &mo));
        ck_assert_msg(mo == nout, "%s: %d outputs, Keras %d", c->ctx, mo, nout);
        for (int o = 0; o < nout; o++) {
            const rnn_tensor *y;
            ck_ok(rnn_model_output(c->m, o, &y));
            snprintf(an, sizeof an, "y%d.%d", call, o);
            const fx_array *ref = need(c, an);
            ck_assert_msg(tnumel(y) == ref->numel, "%s: %s has %lld values, librnn %lld", c->ctx,
                          an, (long long)ref->numel, (long long)tnumel(y));
            snprintf(an, sizeof an, "m%d.%d", call, o);
            const fx_array *mask = fx_get(&c->f, an);
            snprintf(an, sizeof an, "y%d.%d", call, o);
            compare(c, an, tdata(y), ref->data, mask ? mask->data : NULL,
                    mask ? ref->numel / mask->numel : 1, ref->numel);
            snprintf(an, sizeof an, "R%d.%d", call, o);
            R[o] = wrap_copy(need(c, an));
        }
        ck_ok(rnn_model_zero_grad(c->m));
        ck_ok(rnn_model_backward(c->m, nout, (const rnn_tensor *const *)R));
        for (int i = 0; i < nin; i++) {
            snprintf(an, sizeof an, "gx%d.%d", call, i);
            const fx_array *ref = fx_get(&c->f, an);
            if (!ref)
                continue;
            const rnn_tensor *dx;
            ck_ok(rnn_model_input_grad(c->m, i, &dx));
            compare(c, an, tdata(dx), ref->data, NULL, 1, ref->numel);
        }
        snprintf(an, sizeof an, "gw%d", call);
        compare_weight_grads(c, an);
        for (int i = 0; i < 8; i++) {
            rnn_tensor_destroy(i < 4 ? x[i] : NULL);
            rnn_tensor_destroy(i < 4 ? len[i] : NULL);
            rnn_tensor_destroy(R[i]);
        }
    }
}

/* Training cases: loss_{loss}[_logits]_sgd, optim_{name}[_clipnorm|_clipvalue]
 * on Input(5, 4) -> LSTM(3) -> Dense(3, act), the generator's lists. */
static void build_train(kcase *c)
{
    const char *n = c->name;
    const int logits = strstr(n, "_logits") != NULL;
    rnn_loss_type loss = RNN_LOSS_MEAN_SQUARED_ERROR;
    rnn_activation act = RNN_ACT_LINEAR;
    if (!strncmp(n, "loss_sparse_cce", 15))
        loss = RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, act = RNN_ACT_SOFTMAX;
    else if (!strncmp(n, "loss_cce", 8))
        loss = RNN_LOSS_CATEGORICAL_CROSSENTROPY, act = RNN_ACT_SOFTMAX;
    else if (!strncmp(n, "loss_bce", 8))
        loss = RNN_LOSS_BINARY_CROSSENTROPY, act = RNN_ACT_SIGMOID;
    input_seq(c, 5, 4);
    add_rec(c, RNN_LSTM, 1, 0, 0, 0, RNN_MERGE_CONCAT, 0, 0);
    add_dense(c, 3, logits ? RNN_ACT_LINEAR : act);

    rnn_compile_options co;
    rnn_compile_options_init(&co, loss);
    co.from_logits = logits;
    rnn_optimizer_options oo;
    if (!strncmp(n, "loss_", 5)) {
        rnn_optimizer_options_init(&oo, RNN_OPTIM_SGD);
        oo.learning_rate = 0.1f;
    } else {
        const char *on = n + 6;
        if (!strncmp(on, "sgd", 3)) {
            rnn_optimizer_options_init(&oo, RNN_OPTIM_SGD);
            oo.learning_rate = 0.1f;
            if (!strncmp(on, "sgd_momentum", 12) || !strncmp(on, "sgd_nesterov", 12))
                oo.momentum = 0.9f;
            oo.nesterov = !strncmp(on, "sgd_nesterov", 12);
        } else {
            rnn_optimizer_type t = !strncmp(on, "rmsprop", 7) ? RNN_OPTIM_RMSPROP
                                   : !strncmp(on, "adamw", 5) ? RNN_OPTIM_ADAMW
                                   : !strncmp(on, "adam", 4)  ? RNN_OPTIM_ADAM
                                                              : RNN_OPTIM_NADAM;
            ck_assert_msg(t != RNN_OPTIM_NADAM || !strncmp(on, "nadam", 5), "unknown %s", n);
            rnn_optimizer_options_init(&oo, t);
            oo.learning_rate = 0.01f;
            if (t == RNN_OPTIM_ADAMW)
                oo.weight_decay = 0.1f;
        }
        if (strstr(n, "_clipnorm"))
            oo.clipnorm = 0.05f;
        if (strstr(n, "_clipvalue"))
            oo.clipvalue = 0.02f;
    }
    ck_ok(rnn_model_compile(c->m, &co, &oo));
}

static void run_train(kcase *c)
{
    rnn_tensor *x = wrap_copy(need(c, "x0.0")), *t = wrap_copy(need(c, "t"));
    const int clipped = strstr(c->name, "_clip") != NULL;
    for (int s = 1; s <= 2; s++) {
        float loss;
        const rnn_tensor *in[1] = {x};
        ck_ok(rnn_model_train_step(c->m, 1, in, NULL, t, &loss, NULL));
        char an[32];
        snprintf(an, sizeof an, "loss%d", s);
        compare(c, an, &loss, need(c, an)->data, NULL, 1, 1);
        if (s == 1 && !clipped)
            compare_weight_grads(c, "gw1");
        for (int li = 0; li < c->nwl; li++)
            for (int k = 0, nk = count_weights(c, li); k < nk; k++) {
                rnn_tensor *v;
                ck_ok(rnn_layer_param(c->wl[li], k, NULL, &v, NULL));
                snprintf(an, sizeof an, "a%d.%d.%d", s, li, k);
                const fx_array *ref = need(c, an);
                ck_assert_int_eq(tnumel(v), ref->numel);
                compare(c, an, tdata(v), ref->data, NULL, 1, ref->numel);
            }
    }
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(t);
}

static void run_case(int idx, rnn_backend be)
{
    kcase c;
    memset(&c, 0, sizeof c);
    c.name = names[idx];
    snprintf(c.ctx, sizeof c.ctx, "%s [%s]", c.name,
             be == RNN_BACKEND_ONEDNN ? "onednn" : "reference");
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s.bin", KERAS_GOLDEN_DIR, c.name);
    ck_assert_msg(fx_load(path, &c.f, err, sizeof err) == 0, "%s", err);
    const int32_t *meta = need(&c, "meta")->data;

    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.backend = be;
    ck_ok(rnn_model_create(&mo, &c.m));
    if (meta[0] == 0)
        build_forward(&c);
    else
        build_train(&c);
    ck_assert_msg(c.nwl == meta[4], "%s: %d weighted layers, fixture %d", c.ctx, c.nwl, meta[4]);
    for (int li = 0; li < c.nwl; li++)
        set_weights(&c, li);
    if (meta[0] == 0)
        run_forward(&c, meta);
    else
        run_train(&c);

    case_err[idx][be == RNN_BACKEND_ONEDNN ? 0 : 1] = c.err;
    if (c.err > worst_err && !known_mismatch(c.name))
        worst_err = c.err;
    rnn_model_destroy(c.m);
    fx_free(&c.f);
    if (known_mismatch(c.name)) {
        if (c.first_fail[0])
            printf("known mismatch: %s\n", c.first_fail);
        else
            printf("%s: listed in KNOWN_MISMATCH but matches (err %.2g)\n", c.ctx, c.err);
        return;
    }
    ck_assert_msg(!c.first_fail[0], "%s", c.first_fail);
}

START_TEST(keras_onednn)
{
    run_case(_i, RNN_BACKEND_ONEDNN);
}
END_TEST

START_TEST(keras_reference)
{
    run_case(_i, RNN_BACKEND_REFERENCE);
}
END_TEST

int main(void)
{
    if (load_index())
        return 1;
    Suite *s = suite_create("keras-golden");
    TCase *tc = tcase_create("keras-golden");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, keras_onednn, 0, n_names);
    tcase_add_loop_test(tc, keras_reference, 0, n_names);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* so the errors accumulate */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("%-40s %12s %12s\n", "case", "onednn", "reference");
    for (int i = 0; i < n_names; i++)
        printf("%-40s %12.3g %12.3g%s\n", names[i], case_err[i][0], case_err[i][1],
               known_mismatch(names[i]) ? "  (known mismatch)" : "");
    printf("worst error against Keras: %.3g (bound %.0e, floor %.1g)\n", worst_err, TOL, FLOOR);
    return failed ? 1 : 0;
}
