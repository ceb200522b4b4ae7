/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX export of the recurrent layers: Keras-layout weights to ONNX's gate
 * order and bias layout, the input transposed to time-major (layout 0, which
 * every runtime runs), and Keras' outputs (sequences or last step, merge
 * modes, states) made from Y and Y_h/Y_c.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx_export.h"

static const char *FN = EX_FN;

static int onnx_block(int lstm, int kb)
{
    static const int map[4] = {0, 2, 3, 1};
    return lstm ? map[kb] : kb;
}

/* The layer's Keras-layout weights as ONNX W, R, B (kept in the context). */
static rnn_status rec_weights(ex_ctx *e, const rnn_layer *l, int lstm, int G, int D, int64_t H,
                              int64_t I, int use_bias, int lbr, float **Wp, float **Rp,
                              float **Bp)
{
    int per;
    rnn_layer_weights_count(l, RNN_WEIGHTS_KERAS, &per);
    per /= D;
    rnn_tensor *arr[6] = {0};
    rnn_status st = RNN_OK;
    for (int k = 0; k < per * D && !st; k++) {
        int64_t dims[4];
        int r;
        const char *wn;
        st = rnn_layer_weights_shape(l, RNN_WEIGHTS_KERAS, k, dims, &r, &wn);
        if (!st)
            st = rnn_tensor_create(RNN_F32, r, dims, &arr[k]);
    }
    if (!st)
        st = rnn_layer_get_weights(l, RNN_WEIGHTS_KERAS, per * D, arr);
    if (st) {
        for (int k = 0; k < 6; k++)
            rnn_tensor_destroy(arr[k]);
        return ex_layer_fail(l, st, "reading the weights: %s", rnn_last_error());
    }
    float *W = ex_zalloc(e, sizeof(float) * (size_t)(D * G * H * I));
    float *R = ex_zalloc(e, sizeof(float) * (size_t)(D * G * H * H));
    float *B = ex_zalloc(e, sizeof(float) * (size_t)(D * 2 * G * H));
    if (!W || !R || !B) {
        for (int k = 0; k < 6; k++)
            rnn_tensor_destroy(arr[k]);
        return rnn_set_last_error(RNN_ERR_NOMEM, FN, "out of memory");
    }
    for (int d = 0; d < D; d++) {
        const float *k, *r, *b = NULL;
        rnn_tensor_data_const(arr[d * per], (const void **)&k);
        rnn_tensor_data_const(arr[d * per + 1], (const void **)&r);
        if (use_bias)
            rnn_tensor_data_const(arr[d * per + 2], (const void **)&b);
        for (int kb = 0; kb < G; kb++) {
            int ob = onnx_block(lstm, kb);
            for (int64_t h = 0; h < H; h++) {
                int64_t row = d * G * H + ob * H + h, col = kb * H + h;
                for (int64_t c = 0; c < I; c++)
                    W[row * I + c] = k[c * G * H + col];
                for (int64_t c = 0; c < H; c++)
                    R[row * H + c] = r[c * G * H + col];
                if (b) {
                    B[d * 2 * G * H + ob * H + h] = b[col];
                    if (lbr)
                        B[d * 2 * G * H + G * H + ob * H + h] = b[G * H + col];
                }
            }
        }
    }
    for (int k = 0; k < 6; k++)
        rnn_tensor_destroy(arr[k]);
    *Wp = W, *Rp = R, *Bp = B;
    return RNN_OK;
}

/* initial_h, initial_c (D, N, H) from the connected states (h, c per
 * direction) into in[4..6] (in[4], sequence_lens, empty). */
static rnn_status rec_initial_states(ex_ctx *e, const rnn_layer *l, const char *name, int D,
                                     int nstate, int64_t H, const char **in)
{
    in[4] = "";
    for (int s = 0; s < nstate; s++) {
        const char *dir[2];
        int64_t ax0[1] = {0};
        for (int d = 0; d < D; d++) {
            char *v;
            int r;
            int64_t f;
            if (!ex_producer(e, l, 1 + d * nstate + s, &v, &r, &f) || r != 2 || f != H)
                return ex_layer_fail(l, RNN_ERR_UNSUPPORTED,
                                     "an initial state that is not a (batch, units) output");
            dir[d] = ex_binary(e, "Unsqueeze", name, v, ex_ints_const(e, name, 1, ax0));
        }
        if (D == 2) {
            char *cat = ex_tmp(e, name);
            Onnx__NodeProto *cn = ex_node(e, "Concat", name, 2, dir, 1, &cat);
            ex_attr_i(e, cn, "axis", 0);
            dir[0] = cat;
        }
        in[5 + s] = dir[0];
    }
    return RNN_OK;
}

rnn_status ex_recurrent(ex_ctx *e, int i, const rnn_layer *l, json_t *cfg,
                               const char *name)
{
    char *x;
    int rank;
    int64_t I;
    if (!ex_producer(e, l, 0, &x, &rank, &I) || rank != 3)
        return ex_layer_fail(l, RNN_ERR_UNSUPPORTED, "its input is not a sequence");
    const char *cell = ex_cfg_str(cfg, "cell");
    int lstm = !strcmp(cell, "lstm"), gru = !strcmp(cell, "gru");
    int64_t H = ex_cfg_int(cfg, "units", 0);
    int D = ex_cfg_int(cfg, "bidirectional", 0) ? 2 : 1;
    int seqs = ex_cfg_int(cfg, "return_sequences", 0), states = ex_cfg_int(cfg, "return_state", 0);
    int back = ex_cfg_int(cfg, "go_backwards", 0), use_bias = ex_cfg_int(cfg, "use_bias", 1);
    int lbr = gru && ex_cfg_int(cfg, "reset_after", 1);
    const char *merge = ex_cfg_str(cfg, "merge_mode"), *act = ex_cfg_str(cfg, "activation");
    if (ex_cfg_int(cfg, "stateful", 0))
        return ex_layer_fail(l, RNN_ERR_UNSUPPORTED,
                          "stateful=1: ONNX models carry no state between runs");
    if (back && seqs)
        return ex_layer_fail(l, RNN_ERR_UNSUPPORTED,
                          "go_backwards=1 with return_sequences=1: Keras returns the outputs "
                          "in processing order, ONNX's reverse direction in input order");
    int nin;
    rnn_layer_num_inputs(l, &nin);
    int nstate = lstm ? 2 : 1;
    if (nin > 1 && nin != 1 + D * nstate)
        return ex_layer_fail(l, RNN_ERR_UNSUPPORTED, "%d of its %d initial states are "
                             "connected (all or none are exported)", nin - 1, D * nstate);
    int G = lstm ? 4 : gru ? 3 : 1;
    float *W = NULL, *R = NULL, *B = NULL;
    rnn_status st = rec_weights(e, l, lstm, G, D, H, I, use_bias, lbr, &W, &R, &B);
    if (st)
        return st;
    int64_t wd[3] = {D, G * H, I}, rd[3] = {D, G * H, H}, bd[2] = {D, 2 * G * H};
    const char *in[7];
    int nin_onnx = 4;
    int64_t p102[3] = {1, 0, 2};
    if (nin > 1) {
        if ((st = rec_initial_states(e, l, name, D, nstate, H, in)))
            return st;
        nin_onnx = 5 + nstate;
    }
    in[0] = ex_transpose(e, name, x, 3, p102);
    in[1] = ex_init_tensor(e, ex_fmt(e, "%s/W", name), OX_FLOAT, 3, wd, W);
    in[2] = ex_init_tensor(e, ex_fmt(e, "%s/R", name), OX_FLOAT, 3, rd, R);
    in[3] = ex_init_tensor(e, ex_fmt(e, "%s/B", name), OX_FLOAT, 2, bd, B);
    char *out[3] = {ex_fmt(e, "%s/Y", name), ex_fmt(e, "%s/Y_h", name),
                    lstm ? ex_fmt(e, "%s/Y_c", name) : NULL};
    Onnx__NodeProto *n = ex_node(e, lstm ? "LSTM" : gru ? "GRU" : "RNN", name, nin_onnx, in,
                              lstm ? 3 : 2, out);
    ex_attr_i(e, n, "hidden_size", H);
    ex_attr_s(e, n, "direction", D == 2 ? "bidirectional" : back ? "reverse" : "forward");
    if (gru)
        ex_attr_i(e, n, "linear_before_reset", lbr);
    if (!lstm && !gru)
        ex_attr_strings(e, n, "activations", D, !strcmp(act, "relu") ? "Relu" : "Tanh");
    /* output 0 */
    char *y;
    int64_t F = D == 2 && strcmp(merge, "concat") ? H : D * H;
    if (seqs) {
        if (D == 2 && !strcmp(merge, "concat")) {
            int64_t p[4] = {2, 0, 1, 3}, shp[3] = {0, 0, -1};
            y = ex_transpose(e, name, out[0], 4, p);
            y = ex_binary(e, "Reshape", name, y, ex_ints_const(e, name, 3, shp));
        } else {
            int64_t ax[1] = {1};
            const char *red = D == 1 ? "Squeeze" : !strcmp(merge, "sum") ? "ReduceSum"
                              : !strcmp(merge, "mul") ? "ReduceProd" : "ReduceMean";
            if (D == 1 || !strcmp(merge, "sum")) {
                y = ex_binary(e, red, name, out[0], ex_ints_const(e, name, 1, ax));
                if (D == 2) /* ReduceSum keeps dims unless told */
                    ex_attr_i(e, e->g->node[e->g->n_node - 1], "keepdims", 0);
            } else {
                Onnx__NodeProto *rn;
                y = ex_unary(e, red, name, out[0], &rn);
                ex_attr_ints(e, rn, "axes", 1, ax);
                ex_attr_i(e, rn, "keepdims", 0);
            }
            y = ex_transpose(e, name, y, 3, p102);
        }
        e->vrank[i][0] = 3;
    } else {
        if (D == 2 && !strcmp(merge, "concat")) {
            int64_t shp[2] = {0, -1};
            y = ex_transpose(e, name, out[1], 3, p102);
            y = ex_binary(e, "Reshape", name, y, ex_ints_const(e, name, 2, shp));
        } else {
            int64_t ax[1] = {0};
            const char *red = D == 1 ? "Squeeze" : !strcmp(merge, "sum") ? "ReduceSum"
                              : !strcmp(merge, "mul") ? "ReduceProd" : "ReduceMean";
            if (D == 1 || !strcmp(merge, "sum")) {
                y = ex_binary(e, red, name, out[1], ex_ints_const(e, name, 1, ax));
                if (D == 2)
                    ex_attr_i(e, e->g->node[e->g->n_node - 1], "keepdims", 0);
            } else {
                Onnx__NodeProto *rn;
                y = ex_unary(e, red, name, out[1], &rn);
                ex_attr_ints(e, rn, "axes", 1, ax);
                ex_attr_i(e, rn, "keepdims", 0);
            }
        }
        e->vrank[i][0] = 2;
    }
    e->vname[i][0] = y;
    e->vfeat[i][0] = F;
    if (states) {
        int ns = lstm ? 2 : 1;
        for (int d = 0; d < D; d++)
            for (int s = 0; s < ns; s++) {
                int64_t idx = d;
                char *iv = ex_init_tensor(e, ex_tmp(e, name), OX_INT64, 0, NULL, &idx);
                char *sv = ex_binary(e, "Gather", name, out[1 + s], iv);
                ex_attr_i(e, e->g->node[e->g->n_node - 1], "axis", 0);
                int o = 1 + d * ns + s;
                e->vname[i][o] = sv;
                e->vrank[i][o] = 2;
                e->vfeat[i][o] = H;
            }
    }
    return RNN_OK;
}

