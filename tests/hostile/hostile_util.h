/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by the hostile-input programs (issue 15): small models, tensors,
 * parameter snapshots, and how much work a run may do (valgrind, quick).
 */
#ifndef RNN_HOSTILE_UTIL_H
#define RNN_HOSTILE_UTIL_H

#define _DEFAULT_SOURCE 1
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/test_util.h"

/* 1 under the valgrind setup (meson.build passes RNN_UNDER_VALGRIND=1): the
 * loops then do a fraction of their work. */
static inline int hostile_slow_runner(void)
{
    const char *v = getenv("RNN_UNDER_VALGRIND");
    return v && *v && strcmp(v, "0") != 0;
}

/* A tensor of @p dtype with @p rank dims given as int arguments, filled with
 * small values (f32: a ramp in [-0.3, 0.3]; i32: i % 3, valid class ids and
 * token ids of the models below). */
static inline rnn_tensor *h_tensor(rnn_dtype dtype, int rank, ...)
{
    int64_t dims[RNN_MAX_RANK];
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++)
        dims[i] = va_arg(ap, int);
    va_end(ap);
    rnn_tensor *t = NULL;
    ck_ok(rnn_tensor_create(dtype, rank, dims, &t));
    int64_t n = 0;
    ck_ok(rnn_tensor_numel(t, &n));
    void *p;
    ck_ok(rnn_tensor_data(t, &p));
    for (int64_t i = 0; i < n; i++) {
        if (dtype == RNN_F32)
            ((float *)p)[i] = 0.1f * (float)(i % 7) - 0.3f;
        else
            ((int32_t *)p)[i] = (int32_t)(i % 3);
    }
    return t;
}

/* Input(0, 3) -> LSTM(8) -> Dense(3, softmax); compiled with Adam when
 * @p compile. Sets *lstm / *dense when not NULL. */
static inline rnn_model *h_seq_model(int compile, rnn_layer **lstm, rnn_layer **dense)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 5;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[2] = {0, 3};
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 8;
    ck_ok(rnn_model_add_recurrent(m, &r, lstm));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 3;
    d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, dense));
    if (compile) {
        rnn_compile_options c;
        rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
        rnn_optimizer_options o;
        rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
        ck_ok(rnn_model_compile(m, &c, &o));
    }
    return m;
}

/* A language model for decoding: Input(i32, any length) -> Embedding(6, 4)
 * -> LSTM(8, return_sequences) -> Dense(6, softmax), compiled. */
static inline rnn_model *h_token_model(void)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 9;
    rnn_model *m;
    ck_ok(rnn_model_create(&mo, &m));
    int64_t shape[1] = {0};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, shape, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 6;
    e.output_dim = 4;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = 8;
    r.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 6;
    d.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_ADAM);
    ck_ok(rnn_model_compile(m, &c, &o));
    return m;
}

/* A malloc'd copy of every parameter's values, in layer order. */
static inline float *h_snapshot(rnn_model *m, size_t *n)
{
    int64_t count = 0;
    ck_ok(rnn_model_count_params(m, &count));
    float *s = malloc(sizeof(float) * (size_t)(count ? count : 1)), *p = s;
    int nl = 0;
    ck_ok(rnn_model_num_layers(m, &nl));
    for (int i = 0; i < nl; i++) {
        rnn_layer *l;
        int np = 0;
        ck_ok(rnn_model_layer(m, i, &l));
        ck_ok(rnn_layer_num_params(l, &np));
        for (int k = 0; k < np; k++) {
            rnn_tensor *t;
            const void *data;
            int64_t e;
            ck_ok(rnn_layer_param(l, k, NULL, &t, NULL));
            ck_ok(rnn_tensor_data_const(t, &data));
            ck_ok(rnn_tensor_numel(t, &e));
            memcpy(p, data, sizeof(float) * (size_t)e);
            p += e;
        }
    }
    *n = (size_t)(p - s);
    return s;
}

/* Asserts the model's parameters are bit for bit @p want (n floats). */
static inline void h_assert_weights(rnn_model *m, const float *want, size_t n, const char *what)
{
    size_t n2;
    float *got = h_snapshot(m, &n2);
    ck_assert_msg(n2 == n && memcmp(got, want, sizeof(float) * n) == 0,
                  "%s: the weights changed", what);
    free(got);
}

#endif
