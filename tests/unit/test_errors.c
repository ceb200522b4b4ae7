/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What rnn_last_error() says: the public function the user called, then the
 * context each level adds, then the innermost cause, once; never an internal
 * name. Checked on the paths users hit (a bad token id inside fit, a layer
 * error inside forward) and on every out-of-memory point of fit, predict,
 * evaluate, save, load and decode: each allocation in turn fails, and each
 * failure must give RNN_ERR_NOMEM (or a clean status) with a message that
 * names the public function that returned it and no rnn__ symbol.
 */
#include <stdio.h>
#include <unistd.h>

#include "test_util.h"

enum { V = 6, T = 5, N = 4, H = 8 };

/* Embedding(V, 4) -> LSTM(H, sequences) -> Dense(V, softmax), per step. */
static rnn_status build(rnn_model **out, const char **failed)
{
    rnn_model *m = NULL;
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 3;
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = V;
    e.output_dim = 4;
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = H;
    r.return_sequences = 1;
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = V;
    d.activation = RNN_ACT_SOFTMAX;
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options oo;
    rnn_optimizer_options_init(&oo, RNN_OPTIM_ADAM);
    int64_t steps = 0;
    rnn_status st;
#define STEP(fn, ...)                                                                      \
    if ((st = fn(__VA_ARGS__))) {                                                          \
        *failed = #fn;                                                                     \
        rnn_model_destroy(m);                                                              \
        return st;                                                                         \
    }
    STEP(rnn_model_create, &mo, &m);
    STEP(rnn_model_add_input, m, RNN_I32, 1, &steps, NULL);
    STEP(rnn_model_add_embedding, m, &e, NULL);
    STEP(rnn_model_add_recurrent, m, &r, NULL);
    STEP(rnn_model_add_dense, m, &d, NULL);
    STEP(rnn_model_compile, m, &c, &oo);
#undef STEP
    *out = m;
    return RNN_OK;
}

static void fill_ids(rnn_tensor *t, int bad_at)
{
    void *data = NULL;
    int64_t n = 0;
    rnn_tensor_data(t, &data);
    rnn_tensor_numel(t, &n);
    int32_t *p = data;
    for (int64_t i = 0; i < n; i++)
        p[i] = (int32_t)(1 + (i * 7) % (V - 1));
    if (bad_at >= 0)
        p[bad_at] = 7;
}

START_TEST(messages_name_the_public_function_and_the_cause_once)
{
    rnn_model *m = NULL;
    const char *failed = NULL;
    ck_ok(build(&m, &failed));
    int64_t xd[2] = {2 * N, T};
    rnn_tensor *x = NULL, *y = NULL;
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &y));
    fill_ids(x, N * T + 1 * T + 2); /* the second batch's sample 1, step 2 */
    fill_ids(y, -1);
    rnn_data data;
    rnn_data_init(&data);
    data.x = x;
    data.targets = y;
    rnn_fit_options fo;
    rnn_fit_options_init(&fo);
    fo.batch_size = N;
    fo.epochs = 1;
    fo.shuffle = 0;
    ck_rnn(rnn_model_fit(m, &data, &fo, NULL), RNN_ERR_RANGE);
    ck_assert_str_eq(rnn_last_error(), "rnn_model_fit: nothing was trained: train->x[5][2] "
                                       "must be a token id in [0, 6) (got 7)");
    /* The same cause from forward: named once, with forward's own name. */
    int64_t one[2] = {1, T};
    rnn_tensor *x1 = NULL;
    ck_ok(rnn_tensor_create(RNN_I32, 2, one, &x1));
    fill_ids(x1, 3);
    const rnn_tensor *in[1] = {x1};
    ck_rnn(rnn_model_forward(m, 1, in, NULL, 0), RNN_ERR_RANGE);
    ck_assert_str_eq(rnn_last_error(),
                     "rnn_model_forward: layer 'embedding' (Embedding): token id at [0][3] must "
                     "be in [0, 6) (got 7)");
    rnn_tensor_destroy(x1);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

/* ------------------------------------------------------------ out of memory */

typedef struct failing {
    long calls, fail_at;
} failing;

static void *fail_alloc(void *user, size_t size)
{
    failing *f = user;
    if (f->fail_at >= 0 && f->calls >= f->fail_at)
        return NULL;
    f->calls++;
    return malloc(size);
}

static void fail_free(void *user, void *p)
{
    (void)user;
    free(p);
}

static char tmp_path[64];

/* One scenario: builds what it needs and calls one public function; on
 * failure *func names the function whose status came back. */
typedef rnn_status (*scenario_fn)(const char **func);

#define CALL(fn, ...)                                                                      \
    do {                                                                                   \
        *func = #fn;                                                                       \
        if ((st = fn(__VA_ARGS__)))                                                        \
            goto done;                                                                     \
    } while (0)

/* A model and a batch of data, or the failing constructor's name. */
typedef struct setup {
    rnn_model *m;
    rnn_tensor *x, *y;
    rnn_data data;
} setup;

static rnn_status make_setup(setup *s, const char **func)
{
    memset(s, 0, sizeof *s);
    rnn_data_init(&s->data);
    rnn_status st = build(&s->m, func);
    if (st)
        return st;
    int64_t xd[2] = {2 * N, T};
    CALL(rnn_tensor_create, RNN_I32, 2, xd, &s->x);
    CALL(rnn_tensor_create, RNN_I32, 2, xd, &s->y);
    fill_ids(s->x, -1);
    fill_ids(s->y, -1);
    s->data.x = s->x;
    s->data.targets = s->y;
done:
    return st;
}

static void free_setup(setup *s)
{
    rnn_tensor_destroy(s->x);
    rnn_tensor_destroy(s->y);
    rnn_model_destroy(s->m);
}

static rnn_status scenario_fit(const char **func)
{
    setup s;
    rnn_status st = make_setup(&s, func);
    if (!st) {
        rnn_fit_options fo;
        rnn_fit_options_init(&fo);
        fo.batch_size = N;
        fo.epochs = 2;
        fo.validation_split = 0.25f;
        fo.checkpoint_path = tmp_path;
        fo.monitor = RNN_MONITOR_VAL_LOSS;
        fo.restore_best_weights = 1;
        CALL(rnn_model_fit, s.m, &s.data, &fo, NULL);
    }
done:
    free_setup(&s);
    return st;
}

static rnn_status scenario_predict_evaluate(const char **func)
{
    setup s;
    rnn_tensor *out = NULL;
    rnn_status st = make_setup(&s, func);
    if (!st) {
        CALL(rnn_model_predict, s.m, &s.data, N, &out);
        rnn_eval_result r;
        memset(&r, 0, sizeof r);
        r.struct_size = sizeof r;
        CALL(rnn_model_evaluate, s.m, &s.data, N, &r);
    }
done:
    rnn_tensor_destroy(out);
    free_setup(&s);
    return st;
}

static rnn_status scenario_save_load(const char **func)
{
    setup s;
    rnn_model *back = NULL;
    rnn_status st = make_setup(&s, func);
    if (!st) {
        CALL(rnn_model_save_ex, s.m, tmp_path, RNN_SAVE_OPTIMIZER);
        CALL(rnn_model_load, tmp_path, NULL, &back);
    }
done:
    rnn_model_destroy(back);
    free_setup(&s);
    return st;
}

static rnn_status scenario_decode(const char **func)
{
    setup s;
    rnn_tensor *tok = NULL, *len = NULL, *sc = NULL;
    rnn_status st = make_setup(&s, func);
    if (!st) {
        int64_t td[2] = {2, 4}, ld[1] = {2};
        CALL(rnn_tensor_create, RNN_I32, 2, td, &tok);
        CALL(rnn_tensor_create, RNN_I32, 1, ld, &len);
        CALL(rnn_tensor_create, RNN_F32, 1, ld, &sc);
        rnn_decode_options o;
        rnn_decode_options_init(&o);
        o.max_length = 4;
        o.start_token = 1;
        o.end_token = 2;
        o.strategy = RNN_DECODE_BEAM;
        o.beam_width = 2;
        CALL(rnn_model_decode, s.m, &o, 1, NULL, NULL, tok, len, sc);
    }
done:
    rnn_tensor_destroy(tok);
    rnn_tensor_destroy(len);
    rnn_tensor_destroy(sc);
    free_setup(&s);
    return st;
}

/* Training and beam decoding in mixed precision: the bf16 buffers, weight copies and
 * primitives fail as cleanly as the f32 ones. */
static rnn_status scenario_bf16(const char **func)
{
    setup s;
    rnn_tensor *tok = NULL, *len = NULL;
    rnn_status st = make_setup(&s, func);
    if (!st) {
        CALL(rnn_model_set_precision, s.m, RNN_PRECISION_MIXED_BF16);
        rnn_fit_options fo;
        rnn_fit_options_init(&fo);
        fo.batch_size = N;
        fo.epochs = 1;
        CALL(rnn_model_fit, s.m, &s.data, &fo, NULL);
        int64_t td[2] = {2, 4}, ld[1] = {2};
        CALL(rnn_tensor_create, RNN_I32, 2, td, &tok);
        CALL(rnn_tensor_create, RNN_I32, 1, ld, &len);
        rnn_decode_options o;
        rnn_decode_options_init(&o);
        o.max_length = 4;
        o.start_token = 1;
        o.end_token = 2;
        o.strategy = RNN_DECODE_BEAM;
        o.beam_width = 2;
        CALL(rnn_model_decode, s.m, &o, 1, NULL, NULL, tok, len, NULL);
    }
done:
    rnn_tensor_destroy(tok);
    rnn_tensor_destroy(len);
    free_setup(&s);
    return st;
}

/* 1 when this machine computes in mixed bf16 (a CPU with AVX512-BF16 or AMX). */
static int bf16_here(void)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int ok = rnn_model_set_precision(m, RNN_PRECISION_MIXED_BF16) == RNN_OK;
    rnn_model_destroy(m);
    return ok;
}

/* Fails allocation k = 0, 1, 2, ... (every one while they are few, then a
 * spread of them) until the scenario succeeds, checking every message. */
static void oom_walk(scenario_fn fn, const char *name)
{
    failing f = {0, -1};
    ck_ok(rnn_set_allocator(fail_alloc, fail_free, &f));
    const char *func = NULL;
    ck_assert_msg(fn(&func) == RNN_OK, "%s without failures: %s", name, rnn_last_error());
    long n = f.calls, stride = n > 400 ? n / 400 : 1, checked = 0;
    for (long k = 0; k <= n; k += stride) {
        f.calls = 0;
        f.fail_at = k;
        func = NULL;
        rnn_status st = fn(&func);
        if (st == RNN_OK)
            continue;
        checked++;
        const char *msg = rnn_last_error();
        char prefix[96];
        snprintf(prefix, sizeof prefix, "%s: ", func);
        ck_assert_msg(st == RNN_ERR_NOMEM, "%s, allocation %ld: %s returned %d: %s", name, k,
                      func, (int)st, msg);
        ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0,
                      "%s, allocation %ld: \"%s\" does not start with \"%s\"", name, k, msg,
                      prefix);
        ck_assert_msg(!strstr(msg, "rnn__"), "%s, allocation %ld: internal name in \"%s\"", name,
                      k, msg);
        for (const char *q = msg + strlen(prefix); (q = strstr(q, "rnn_")); q++) {
            size_t w = strspn(q, "abcdefghijklmnopqrstuvwxyz_0123456789");
            ck_assert_msg(q[w] != ':', "%s, allocation %ld: a second function name in \"%s\"",
                          name, k, msg);
        }
        const char *oom = strstr(msg, "out of memory");
        ck_assert_msg(oom && !strstr(oom + 1, "out of memory"),
                      "%s, allocation %ld: \"%s\" must say out of memory once", name, k, msg);
    }
    ck_assert_int_gt(checked, 0);
    printf("%s: %ld allocations, %ld failing ones checked\n", name, n, checked);
    ck_ok(rnn_set_allocator(NULL, NULL, NULL));
}

START_TEST(out_of_memory_messages)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/librnn-errors-%ld.rnn", (long)getpid());
    oom_walk(scenario_fit, "fit");
    oom_walk(scenario_predict_evaluate, "predict/evaluate");
    oom_walk(scenario_save_load, "save/load");
    oom_walk(scenario_decode, "decode");
    if (bf16_here())
        oom_walk(scenario_bf16, "fit and decode in bf16");
    unlink(tmp_path);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, messages_name_the_public_function_and_the_cause_once);
    tcase_add_test(tc, out_of_memory_messages);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rnn_test_run(errors_suite());
}
