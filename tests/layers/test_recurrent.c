/* SPDX-License-Identifier: Apache-2.0 */
/* Layer tests for recurrent layers through the public API: parameter counts
 * equal Keras', output shapes, option validation, weights import/export,
 * states, and errors. Suite "layers". */
#include "rnn_test_model.h"

static int64_t count_of(rnn_cell_type cell, int64_t I, int64_t units, int bi, int reset_after)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, cell);
    o.units = units;
    o.bidirectional = bi;
    o.reset_after = reset_after;
    rnn_layer *l;
    rnn_model *m = tm_model(RNN_BACKEND_ONEDNN, 1, I, &o, &l);
    int64_t n, total;
    ck_ok(rnn_layer_count_params(l, &n));
    ck_ok(rnn_model_count_params(m, &total));
    ck_assert_int_eq(n, total);
    rnn_model_destroy(m);
    return n;
}

START_TEST(param_counts_equal_keras)
{
    /* Values from Keras model.summary() of the seed models. */
    ck_assert_int_eq(count_of(RNN_GRU, 256, 100, 0, 1), 107400);
    ck_assert_int_eq(count_of(RNN_GRU, 128, 256, 1, 1), 592896);
    ck_assert_int_eq(count_of(RNN_LSTM, 64, 64, 1, 1), 66048);
    ck_assert_int_eq(count_of(RNN_GRU, 256, 100, 0, 0), 3 * 100 * (256 + 100) + 300);
    ck_assert_int_eq(count_of(RNN_SIMPLE_RNN, 32, 16, 0, 1), 16 * (32 + 16) + 16);
    ck_assert_int_eq(count_of(RNN_LSTM, 10, 128, 0, 1), 4 * 128 * (10 + 128 + 1));
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(names_params_and_initializers)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    ck_assert_uint_eq(o.struct_size, sizeof o);
    ck_assert_int_eq(o.use_bias, 1);
    ck_assert_int_eq(o.unit_forget_bias, 1);
    ck_assert_int_eq(o.kernel_initializer, RNN_INIT_GLOROT_UNIFORM);
    ck_assert_int_eq(o.recurrent_initializer, RNN_INIT_ORTHOGONAL);
    o.units = 5;
    rnn_layer *l1, *l2;
    rnn_model *m = tm_model(RNN_BACKEND_ONEDNN, 7, 3, &o, &l1);
    o.bidirectional = 1;
    ck_rnn(rnn_model_add_recurrent(m, &o, &l2), RNN_ERR_STATE);
    ck_errmsg("the previous layer lstm outputs no sequence (set return_sequences=1 on it)");
    const char *name;
    ck_ok(rnn_layer_name(l1, &name));
    ck_assert_str_eq(name, "lstm");
    ck_ok(rnn_layer_type(l1, &name));
    ck_assert_str_eq(name, "LSTM");
    rnn_layer *in0;
    ck_ok(rnn_model_layer(m, 0, &in0));
    ck_ok(rnn_layer_type(in0, &name));
    ck_assert_str_eq(name, "InputLayer");
    ck_rnn(rnn_layer_type(NULL, &name), RNN_ERR_INVALID_ARG);
    ck_assert_ptr_null(name);
    ck_errmsg("rnn_layer_type: layer must not be NULL");
    rnn_model_destroy(m);
    m = tm_model(RNN_BACKEND_ONEDNN, 7, 3, &o, &l2);
    ck_ok(rnn_layer_name(l2, &name));
    ck_assert_str_eq(name, "bidirectional");
    ck_ok(rnn_layer_type(l2, &name));
    ck_assert_str_eq(name, "Bidirectional");
    rnn_model_destroy(m);

    o.bidirectional = 0;
    o.return_sequences = 1;
    m = tm_model(RNN_BACKEND_ONEDNN, 7, 3, &o, &l1);
    ck_ok(rnn_model_add_recurrent(m, &o, &l2));
    ck_ok(rnn_layer_name(l2, &name));
    ck_assert_str_eq(name, "lstm_1");
    int np;
    ck_ok(rnn_layer_num_params(l1, &np));
    ck_assert_int_eq(np, 3);
    rnn_tensor *k, *rk, *b;
    const char *pn;
    ck_ok(rnn_layer_param(l1, 0, &pn, &k, NULL));
    ck_assert_str_eq(pn, "kernel");
    ck_ok(rnn_layer_param(l1, 1, &pn, &rk, NULL));
    ck_assert_str_eq(pn, "recurrent_kernel");
    ck_ok(rnn_layer_param(l1, 2, &pn, &b, NULL));
    ck_assert_str_eq(pn, "bias");
    /* glorot_uniform bound sqrt(6 / (3 + 20)); unit forget bias; orthogonal rows. */
    const float *kp = tm_f(k), *rp = tm_f(rk), *bp = tm_f(b);
    double lim = sqrt(6.0 / 23.0);
    for (int i = 0; i < 60; i++)
        ck_assert(fabs(kp[i]) <= lim);
    for (int j = 0; j < 20; j++)
        ck_assert(bp[j] == (j >= 5 && j < 10 ? 1.0f : 0.0f));
    for (int r1 = 0; r1 < 5; r1++)
        for (int r2 = 0; r2 < 5; r2++) {
            double dot = 0;
            for (int c = 0; c < 20; c++)
                dot += (double)rp[r1 * 20 + c] * rp[r2 * 20 + c];
            ck_assert_msg(fabs(dot - (r1 == r2)) < 1e-5, "recurrent rows not orthonormal");
        }
    int idx;
    ck_ok(rnn_layer_find_param(l1, "bias", &idx));
    ck_assert_int_eq(idx, 2);
    ck_rnn(rnn_layer_find_param(l1, "gamma", &idx), RNN_ERR_RANGE);
    ck_errmsg("layer lstm has no parameter \"gamma\"");
    rnn_model_destroy(m);
}
END_TEST

START_TEST(same_seed_same_weights)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_GRU);
    o.units = 4;
    rnn_layer *a, *b, *c;
    rnn_model *ma = tm_model(RNN_BACKEND_ONEDNN, 42, 3, &o, &a);
    rnn_model *mb = tm_model(RNN_BACKEND_REFERENCE, 42, 3, &o, &b);
    rnn_model *mc = tm_model(RNN_BACKEND_ONEDNN, 43, 3, &o, &c);
    for (int p = 0; p < 2; p++) {
        rnn_tensor *ta, *tb, *tc;
        rnn_layer_param(a, p, NULL, &ta, NULL);
        rnn_layer_param(b, p, NULL, &tb, NULL);
        rnn_layer_param(c, p, NULL, &tc, NULL);
        ck_assert(memcmp(tm_f(ta), tm_f(tb), (size_t)tm_numel(ta) * 4) == 0);
        ck_assert(memcmp(tm_f(ta), tm_f(tc), (size_t)tm_numel(ta) * 4) != 0);
    }
    rnn_model_destroy(ma);
    rnn_model_destroy(mb);
    rnn_model_destroy(mc);
}
END_TEST

START_TEST(bad_options_are_named)
{
    rnn_model *m = NULL;
    ck_ok(rnn_model_create(NULL, &m));
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 4;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_STATE);
    ck_errmsg("declare the model input first");
    int64_t shape[2] = {0, 3};
    ck_rnn(rnn_model_add_input(m, (rnn_dtype)7, 2, shape, NULL), RNN_ERR_DTYPE);
    ck_rnn(rnn_model_add_input(m, RNN_I32, 2, shape, NULL), RNN_ERR_SHAPE);
    ck_errmsg("rank must be 1 or 2 without the batch axis");
    shape[1] = 0;
    ck_rnn(rnn_model_add_input(m, RNN_F32, 2, shape, NULL), RNN_ERR_SHAPE);
    ck_errmsg("shape[1] (features) must be > 0 (got 0)");
    shape[1] = 3;
    ck_ok(rnn_model_add_input(m, RNN_F32, 2, shape, NULL));

    o.units = 0;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("rnn_model_add_recurrent: options->units must be in 1..16777216 (got 0)");
    o.units = 4;
    o.dropout = 1.0f;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->dropout must be in [0, 1) (got 1)");
    o.dropout = 0;
    o.activation = RNN_ACT_RELU;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->activation must be RNN_ACT_TANH for this cell (got 2)");
    o.activation = RNN_ACT_TANH;
    o.bidirectional = 1;
    o.merge_mode = (rnn_merge_mode)9;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("merge_mode");
    o.merge_mode = RNN_MERGE_SUM;
    o.go_backwards = 1;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_INVALID_ARG);
    o.go_backwards = 0;
    o.struct_size = 3;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("struct_size");
    rnn_recurrent_options_init(&o, (rnn_cell_type)9);
    o.units = 4;
    ck_rnn(rnn_model_add_recurrent(m, &o, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->cell must be");
    int n;
    ck_ok(rnn_model_num_layers(m, &n));
    ck_assert_int_eq(n, 1); /* no failed call added anything */
    rnn_model_destroy(m);
    ck_assert_uint_eq(rnn_memory_used(), 0);
}
END_TEST

START_TEST(forward_input_errors)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_GRU);
    o.units = 4;
    o.return_sequences = 1;
    rnn_layer *l;
    rnn_model *m = tm_model(RNN_BACKEND_ONEDNN, 1, 3, &o, &l);
    int64_t xd[3] = {2, 5, 3}, bad[3] = {2, 5, 4}, ld[1] = {2};
    rnn_tensor *x = tm_tensor(3, xd, 1.0), *xb = tm_tensor(3, bad, 1.0), *len = NULL;
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
    const rnn_tensor *in[1] = {xb};
    ck_rnn(rnn_model_forward(m, 1, in, NULL, 0), RNN_ERR_SHAPE);
    ck_errmsg("rnn_model_forward: inputs[0] must have 3 features (got 4)");
    in[0] = x;
    ck_rnn(rnn_model_forward(m, 2, in, NULL, 0), RNN_ERR_INVALID_ARG);
    const rnn_tensor *lens[1] = {len};
    int32_t *lp = (int32_t *)tm_f(len);
    lp[0] = 5;
    lp[1] = 6;
    ck_rnn(rnn_model_forward(m, 1, in, lens, 0), RNN_ERR_RANGE);
    ck_errmsg("rnn_model_forward: lengths[0][1] must be in [1, 5] (got 6)");
    lp[1] = 0;
    ck_rnn(rnn_model_forward(m, 1, in, lens, 0), RNN_ERR_RANGE);
    lp[1] = 2;
    ck_rnn(rnn_model_backward(m, 1, NULL), RNN_ERR_STATE);
    ck_ok(rnn_model_forward(m, 1, in, lens, 0));
    ck_rnn(rnn_model_backward(m, 1, NULL), RNN_ERR_STATE); /* inference forward */
    ck_errmsg("backward needs a forward with training=1");
    const rnn_tensor *y;
    ck_ok(rnn_model_output(m, 0, &y));
    int64_t d;
    rnn_tensor_dim(y, 2, &d);
    ck_assert_int_eq(d, 4);
    /* Padding is zero in the output. */
    for (int t = 2; t < 5; t++)
        for (int j = 0; j < 4; j++)
            ck_assert(tm_f(y)[(1 * 5 + t) * 4 + j] == 0.0f);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(xb);
    rnn_tensor_destroy(len);
    rnn_model_destroy(m);
}
END_TEST

/* Export in format f, import into a fresh model: same outputs. */
static void roundtrip(rnn_cell_type cell, int bi, int use_bias, rnn_weights_format f)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, cell);
    o.units = 3;
    o.bidirectional = bi;
    o.use_bias = use_bias;
    o.return_sequences = 1;
    rnn_layer *a, *b;
    rnn_model *ma = tm_model(RNN_BACKEND_ONEDNN, 11, 4, &o, &a);
    rnn_model *mb = tm_model(RNN_BACKEND_ONEDNN, 12, 4, &o, &b);
    /* Non-zero biases so that bias conversions are exercised. */
    for (int p = 0; p < 6; p++) {
        rnn_tensor *t;
        const char *name;
        if (rnn_layer_param(a, p, &name, &t, NULL) != RNN_OK)
            break;
        if (strstr(name, "bias"))
            for (int64_t i = 0; i < tm_numel(t); i++)
                tm_f(t)[i] = (float)tm_uniform();
    }
    rnn_layer_params_changed(a);
    int n;
    ck_ok(rnn_layer_weights_count(a, f, &n));
    rnn_tensor *arr[8];
    for (int i = 0; i < n; i++) {
        int64_t dims[RNN_MAX_RANK];
        int rank;
        ck_ok(rnn_layer_weights_shape(a, f, i, dims, &rank, NULL));
        ck_ok(rnn_tensor_create(RNN_F32, rank, dims, &arr[i]));
    }
    ck_ok(rnn_layer_get_weights(a, f, n, arr));
    ck_ok(rnn_layer_set_weights(b, f, n, (const rnn_tensor *const *)arr));
    int64_t xd[3] = {2, 4, 4};
    rnn_tensor *x = tm_tensor(3, xd, 1.0);
    const rnn_tensor *in[1] = {x}, *ya, *yb;
    ck_ok(rnn_model_forward(ma, 1, in, NULL, 0));
    ck_ok(rnn_model_forward(mb, 1, in, NULL, 0));
    ck_ok(rnn_model_output(ma, 0, &ya));
    ck_ok(rnn_model_output(mb, 0, &yb));
    ck_assert_msg(tm_max_rel(tm_f(yb), tm_f(ya), tm_numel(ya)) < 1e-5,
                  "cell %d bi %d bias %d format %d: outputs differ after import", cell, bi,
                  use_bias, f);
    for (int i = 0; i < n; i++)
        rnn_tensor_destroy(arr[i]);
    rnn_tensor_destroy(x);
    rnn_model_destroy(ma);
    rnn_model_destroy(mb);
}

START_TEST(weights_roundtrip_keras_and_pytorch)
{
    rnn_cell_type cells[3] = {RNN_SIMPLE_RNN, RNN_LSTM, RNN_GRU};
    for (int c = 0; c < 3; c++)
        for (int bi = 0; bi < 2; bi++)
            for (int ub = 0; ub < 2; ub++) {
                roundtrip(cells[c], bi, ub, RNN_WEIGHTS_KERAS);
                roundtrip(cells[c], bi, ub, RNN_WEIGHTS_PYTORCH);
            }
}
END_TEST

START_TEST(weights_shapes_names_and_errors)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_GRU);
    o.units = 5;
    o.bidirectional = 1;
    rnn_layer *l;
    rnn_model *m = tm_model(RNN_BACKEND_ONEDNN, 1, 7, &o, &l);
    int n;
    ck_ok(rnn_layer_weights_count(l, RNN_WEIGHTS_KERAS, &n));
    ck_assert_int_eq(n, 6);
    ck_ok(rnn_layer_weights_count(l, RNN_WEIGHTS_PYTORCH, &n));
    ck_assert_int_eq(n, 8);
    int64_t dims[RNN_MAX_RANK];
    int rank;
    const char *name;
    ck_ok(rnn_layer_weights_shape(l, RNN_WEIGHTS_KERAS, 2, dims, &rank, &name));
    ck_assert_str_eq(name, "forward/bias");
    ck_assert(rank == 2 && dims[0] == 2 && dims[1] == 15);
    ck_ok(rnn_layer_weights_shape(l, RNN_WEIGHTS_PYTORCH, 4, dims, &rank, &name));
    ck_assert_str_eq(name, "weight_ih_l0_reverse");
    ck_assert(rank == 2 && dims[0] == 15 && dims[1] == 7);
    rnn_tensor *arr[8] = {0};
    for (int i = 0; i < 8; i++) {
        ck_ok(rnn_layer_weights_shape(l, RNN_WEIGHTS_PYTORCH, i, dims, &rank, NULL));
        ck_ok(rnn_tensor_create(RNN_F32, rank, dims, &arr[i]));
    }
    ck_rnn(rnn_layer_set_weights(l, RNN_WEIGHTS_PYTORCH, 7, (const rnn_tensor *const *)arr),
           RNN_ERR_INVALID_ARG);
    ck_errmsg("count must be 8 for this layer (got 7)");
    rnn_tensor *wrong;
    int64_t wd[2] = {7, 15};
    ck_ok(rnn_tensor_create(RNN_F32, 2, wd, &wrong));
    rnn_tensor *keep = arr[0];
    arr[0] = wrong;
    ck_rnn(rnn_layer_set_weights(l, RNN_WEIGHTS_PYTORCH, 8, (const rnn_tensor *const *)arr),
           RNN_ERR_SHAPE);
    ck_errmsg("arrays[0] (weight_ih_l0) must have shape (15, 7)");
    arr[0] = keep;
    ck_rnn(rnn_layer_get_weights(l, (rnn_weights_format)5, 8, arr), RNN_ERR_INVALID_ARG);
    for (int i = 0; i < 8; i++)
        rnn_tensor_destroy(arr[i]);
    rnn_tensor_destroy(wrong);
    rnn_model_destroy(m);

    o.bidirectional = 0;
    o.reset_after = 0;
    m = tm_model(RNN_BACKEND_ONEDNN, 1, 7, &o, &l);
    ck_rnn(rnn_layer_weights_count(l, RNN_WEIGHTS_PYTORCH, &n), RNN_ERR_UNSUPPORTED);
    ck_errmsg("PyTorch has no GRU with reset_after=0");
    rnn_model_destroy(m);
}
END_TEST

START_TEST(return_state_outputs_and_initial_state)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_LSTM);
    o.units = 3;
    o.bidirectional = 1;
    o.return_state = 1;
    rnn_layer *l;
    rnn_model *m = tm_model(RNN_BACKEND_ONEDNN, 3, 2, &o, &l);
    int n;
    ck_ok(rnn_model_num_outputs(m, &n));
    ck_assert_int_eq(n, 5); /* output, h_f, c_f, h_b, c_b (Keras order) */
    ck_ok(rnn_layer_num_states(l, &n));
    ck_assert_int_eq(n, 4);
    int64_t xd[3] = {2, 4, 2}, sd[2] = {2, 3}, bad[2] = {2, 4};
    rnn_tensor *x = tm_tensor(3, xd, 1.0);
    rnn_tensor *s[4] = {tm_tensor(2, sd, 0.5), tm_tensor(2, sd, 0.5), tm_tensor(2, sd, 0.5),
                        tm_tensor(2, sd, 0.5)};
    rnn_tensor *sb = tm_tensor(2, bad, 1.0);
    const rnn_tensor *in[1] = {x}, *out0, *h_f;
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &out0));
    ck_ok(rnn_model_output(m, 1, &h_f));
    /* Without return_sequences, output 0 is [h_f, h_b]. */
    for (int b = 0; b < 2; b++)
        for (int j = 0; j < 3; j++)
            ck_assert(tm_f(out0)[b * 6 + j] == tm_f(h_f)[b * 3 + j]);
    float before = tm_f(out0)[0];
    ck_rnn(rnn_layer_set_initial_state(l, 3, (const rnn_tensor *const *)s), RNN_ERR_INVALID_ARG);
    const rnn_tensor *mixed[4] = {s[0], sb, s[2], s[3]};
    ck_rnn(rnn_layer_set_initial_state(l, 4, mixed), RNN_ERR_SHAPE);
    ck_ok(rnn_layer_set_initial_state(l, 4, (const rnn_tensor *const *)s));
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &out0));
    ck_assert(tm_f(out0)[0] != before);
    ck_ok(rnn_layer_set_initial_state(l, 0, NULL));
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &out0));
    ck_assert(tm_f(out0)[0] == before);
    for (int i = 0; i < 4; i++)
        rnn_tensor_destroy(s[i]);
    rnn_tensor_destroy(sb);
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
}
END_TEST

START_TEST(stateful_carries_and_resets)
{
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, RNN_GRU);
    o.units = 3;
    o.stateful = 1;
    rnn_layer *l, *l2;
    rnn_model *m = tm_model(RNN_BACKEND_ONEDNN, 3, 2, &o, &l);
    o.stateful = 0;
    rnn_model *ref = tm_model(RNN_BACKEND_ONEDNN, 3, 2, &o, &l2);
    int64_t xd[3] = {2, 6, 2}, hd[3] = {2, 3, 2};
    rnn_tensor *x = tm_tensor(3, xd, 1.0), *a = NULL, *b = NULL;
    ck_ok(rnn_tensor_create(RNN_F32, 3, hd, &a));
    ck_ok(rnn_tensor_create(RNN_F32, 3, hd, &b));
    for (int n = 0; n < 2; n++) /* split x into two halves along time */
        for (int t = 0; t < 6; t++)
            for (int i = 0; i < 2; i++)
                tm_f(t < 3 ? a : b)[(n * 3 + t % 3) * 2 + i] = tm_f(x)[(n * 6 + t) * 2 + i];
    const rnn_tensor *in[1], *y1, *y2;
    in[0] = x;
    ck_ok(rnn_model_forward(ref, 1, in, NULL, 0));
    ck_ok(rnn_model_output(ref, 0, &y2));
    in[0] = a;
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    in[0] = b;
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    ck_ok(rnn_model_output(m, 0, &y1));
    /* Two halves with carried state == the whole sequence at once. */
    ck_assert(tm_max_rel(tm_f(y1), tm_f(y2), 6) < 1e-5);
    /* Another batch size needs a reset first. */
    int64_t d1[3] = {1, 3, 2};
    rnn_tensor *c = tm_tensor(3, d1, 1.0);
    in[0] = c;
    ck_rnn(rnn_model_forward(m, 1, in, NULL, 0), RNN_ERR_SHAPE);
    ck_errmsg("is stateful with batch size 2 (got 1)");
    ck_ok(rnn_model_reset_states(m));
    ck_ok(rnn_model_forward(m, 1, in, NULL, 0));
    rnn_tensor_destroy(a);
    rnn_tensor_destroy(b);
    rnn_tensor_destroy(c);
    rnn_tensor_destroy(x);
    rnn_model_destroy(m);
    rnn_model_destroy(ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layers-recurrent");
    TCase *tc = tcase_create("recurrent");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, param_counts_equal_keras);
    tcase_add_test(tc, names_params_and_initializers);
    tcase_add_test(tc, same_seed_same_weights);
    tcase_add_test(tc, bad_options_are_named);
    tcase_add_test(tc, forward_input_errors);
    tcase_add_test(tc, weights_roundtrip_keras_and_pytorch);
    tcase_add_test(tc, weights_shapes_names_and_errors);
    tcase_add_test(tc, return_state_outputs_and_initial_state);
    tcase_add_test(tc, stateful_carries_and_resets);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
