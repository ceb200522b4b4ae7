/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ONNX import of the LSTM, GRU and RNN operators: attributes checked
 * (anything librnn's cells cannot do exactly is refused), weights moved
 * from ONNX's gate order and bias layout to Keras' (librnn's canonical
 * layout), and the outputs Y, Y_h, Y_c described as views of the layer's
 * outputs. sequence_lens: import_lens.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define UNSUP(...) ox_node_fail(c, RNN_ERR_UNSUPPORTED, __VA_ARGS__)
#define BAD(...) ox_node_fail(c, RNN_ERR_FORMAT, __VA_ARGS__)

/* ---------------------------------------------------------------- recurrent */

static int attr_str_is(const Onnx__AttributeProto *a, size_t k, const char *s)
{
    return k < a->n_strings && a->strings[k].len == strlen(s) &&
           memcmp(a->strings[k].data, s, a->strings[k].len) == 0;
}

/* Refuses what librnn's cells cannot do: clip, input_forget, activations
 * other than the defaults (SimpleRNN: Tanh or Relu), peepholes. */
static rnn_status recurrent_attrs(ox_ctx *c, rnn_cell_type cell, int D, rnn_activation *act)
{
    *act = RNN_ACT_TANH;
    if (ox_attr(c, "clip"))
        return UNSUP("attribute 'clip' (cell clipping) has no librnn equivalent");
    if (ox_attr_i(c, "input_forget", 0))
        return UNSUP("attribute 'input_forget' = 1 (coupled gates) has no librnn equivalent");
    const Onnx__AttributeProto *a = ox_attr(c, "activations");
    int per = cell == RNN_LSTM ? 3 : cell == RNN_GRU ? 2 : 1;
    static const char *const def[3] = {"Sigmoid", "Tanh", "Tanh"};
    if (a) {
        if ((int)a->n_strings != per * D)
            return BAD("attribute 'activations' has %zu entries, %d expected", a->n_strings,
                       per * D);
        for (int k = 0; k < per * D; k++) {
            int j = k % per;
            if (cell == RNN_SIMPLE_RNN) {
                int relu = attr_str_is(a, (size_t)k, "Relu");
                if (!relu && !attr_str_is(a, (size_t)k, "Tanh"))
                    return UNSUP("attribute 'activations' = '%.*s' (Tanh or Relu)",
                                 (int)(a->strings[k].len > 40 ? 40 : a->strings[k].len),
                                 (const char *)a->strings[k].data);
                if (k > 0 && (relu != (*act == RNN_ACT_RELU)))
                    return UNSUP("attribute 'activations': both directions must be the same");
                *act = relu ? RNN_ACT_RELU : RNN_ACT_TANH;
            } else if (!attr_str_is(a, (size_t)k, def[j])) {
                return UNSUP("attribute 'activations'[%d] = '%.*s' (only the defaults %s are "
                             "read)", k, (int)(a->strings[k].len > 40 ? 40 : a->strings[k].len),
                             (const char *)a->strings[k].data,
                             cell == RNN_LSTM ? "Sigmoid, Tanh, Tanh" : "Sigmoid, Tanh");
            }
        }
    }
    if (ox_attr(c, "activation_alpha") || ox_attr(c, "activation_beta"))
        return UNSUP("attributes 'activation_alpha'/'activation_beta' are not read");
    if (cell == RNN_LSTM && ox_in_present(c, 7)) {
        ox_val *p = ox_in(c, 7);
        if (!p || p->kind != OX_CONST || p->dtype != OX_FLOAT)
            return UNSUP("input P (peepholes) is not read");
        for (int64_t k = 0; k < p->n; k++)
            if (p->f[k] != 0.0f)
                return UNSUP("input P (peepholes) has non-zero weights: librnn's LSTM has no "
                             "peephole connections");
    }
    return RNN_OK;
}

/* ONNX block b of a gate-stacked weight -> Keras' block. LSTM: ONNX i,o,f,c,
 * Keras i,f,c,o. GRU: z,r,h both. */
static int keras_block(rnn_cell_type cell, int onnx_block)
{
    static const int lstm[4] = {0, 3, 1, 2};
    return cell == RNN_LSTM ? lstm[onnx_block] : onnx_block;
}

static rnn_status recurrent_weights(ox_ctx *c, rnn_layer *l, rnn_cell_type cell, int D,
                                    int64_t H, int64_t I, int lbr, const ox_val *W,
                                    const ox_val *R, const ox_val *B)
{
    int G = cell == RNN_LSTM ? 4 : cell == RNN_GRU ? 3 : 1;
    int per = B ? 3 : 2;
    rnn_tensor *arr[6] = {0};
    rnn_status st = RNN_OK;
    for (int d = 0; d < D && !st; d++) {
        int64_t kd[2] = {I, G * H}, rd[2] = {H, G * H};
        int64_t bd_gru[2] = {2, G * H}, bd[1] = {G * H};
        rnn_tensor **t = arr + d * per;
        if ((st = ox_tensor_of(c, NULL, 2, kd, &t[0])) || (st = ox_tensor_of(c, NULL, 2, rd, &t[1])))
            break;
        if (B && (st = lbr ? ox_tensor_of(c, NULL, 2, bd_gru, &t[2])
                           : ox_tensor_of(c, NULL, 1, bd, &t[2])))
            break;
        float *k, *r, *b = NULL;
        rnn_tensor_data(t[0], (void **)&k);
        rnn_tensor_data(t[1], (void **)&r);
        if (B)
            rnn_tensor_data(t[2], (void **)&b);
        for (int ob = 0; ob < G; ob++) {
            int kb = keras_block(cell, ob);
            for (int64_t h = 0; h < H; h++) {
                int64_t row = d * G * H + ob * H + h, col = kb * H + h;
                for (int64_t i = 0; i < I; i++)
                    k[i * G * H + col] = W->f[row * I + i];
                for (int64_t j = 0; j < H; j++)
                    r[j * G * H + col] = R->f[row * H + j];
                if (B) {
                    float wb = B->f[d * 2 * G * H + ob * H + h];
                    float rb = B->f[d * 2 * G * H + G * H + ob * H + h];
                    if (lbr) {
                        b[col] = wb;
                        b[G * H + col] = rb;
                    } else {
                        b[col] = wb + rb;
                    }
                }
            }
        }
    }
    if (!st) {
        st = rnn_layer_set_weights(l, RNN_WEIGHTS_KERAS, D * per,
                                   (const rnn_tensor *const *)arr);
        if (st)
            st = ox_wrap_librnn(c, st, "setting the weights");
    }
    for (int k = 0; k < 6; k++)
        rnn_tensor_destroy(arr[k]);
    return st;
}

static rnn_status check_weight(ox_ctx *c, const ox_val *v, const char *name, int64_t d0,
                               int64_t d1, int64_t d2, int rank)
{
    if (!v || v->kind != OX_CONST || v->dtype != OX_FLOAT)
        return UNSUP("input %s must be a constant float tensor", name);
    int ok = v->rank == rank && v->dims[0] == d0 && v->dims[1] == d1 &&
             (rank < 3 || v->dims[2] == d2);
    if (!ok)
        return BAD("input %s has the wrong shape (expected [%lld, %lld%s%lld%s])", name,
                   (long long)d0, (long long)d1, rank == 3 ? ", " : "",
                   rank == 3 ? (long long)d2 : 0LL, rank == 3 ? "" : " (ignore last)");
    return RNN_OK;
}

/* Does a Slice or Gather read @p name, directly or through layout operators
 * (Keras' last output, Y's last step, as tf2onnx writes it)? @p budget
 * bounds the nodes looked at. */
static int reads_a_step(const ox_ctx *c, const char *name, int depth, int *budget)
{
    if (depth > 8 || !name[0])
        return 0;
    for (size_t k = 0; k < c->g->n_node && *budget > 0; k++) {
        const Onnx__NodeProto *n = c->g->node[k];
        if (!n->op_type || n->n_input < 1 || strcmp(n->input[0], name) != 0)
            continue;
        (*budget)--;
        if (!strcmp(n->op_type, "Slice") || !strcmp(n->op_type, "Gather"))
            return 1;
        if ((!strcmp(n->op_type, "Squeeze") || !strcmp(n->op_type, "Unsqueeze") ||
             !strcmp(n->op_type, "Transpose") || !strcmp(n->op_type, "Identity") ||
             !strcmp(n->op_type, "Reshape")) &&
            n->n_output > 0 && reads_a_step(c, n->output[0], depth + 1, budget))
            return 1;
    }
    return 0;
}

/* The values of Y, Y_h, Y_c: views of the layer's outputs. Y is in reverse
 * time order when the operator's direction is 'reverse' (ONNX gives it in
 * input order, librnn's go_backwards in processing order); its last step
 * is the final state h when the layer returns it (@p states). */
static void rec_outputs(ox_ctx *c, rnn_cell_type cell, rnn_layer *l, int D, int64_t H,
                        int layout, const ox_val *x, int reverse, int states)
{
    int nstate = cell == RNN_LSTM ? 2 : 1;
    for (int k = 0; k < 3; k++) {
        ox_val *v = ox_out(c, k);
        if (!v || !ox_out_used(c, k))
            continue;
        memset(v, 0, sizeof *v);
        v->kind = OX_TENSOR;
        if (k == 0) {
            /* Y: (T, D, N, H) or (N, T, D, H); the port is (N, T, D*H) */
            v->nport = 1;
            v->layer[0] = l;
            v->has_time = 1;
            v->inputs = x->inputs; /* librnn carries X's lengths to Y */
            v->steps = x->steps;
            v->reversed = reverse;
            v->last_port = !reverse && states ? 2 : 0;
            v->first_port = D == 2 && states ? 2 + nstate : 0;
            v->nfa = 0;
            if (D == 2)
                v->fa[v->nfa++] = 2;
            if (H > 1)
                v->fa[v->nfa++] = H;
            uint8_t dat = OX_ATOM_F, hat = (uint8_t)(OX_ATOM_F + (D == 2));
            int r = 0;
            v->ax[r][0] = layout ? OX_ATOM_N : OX_ATOM_T, v->axn[r++] = 1;
            if (layout)
                v->ax[r][0] = OX_ATOM_T, v->axn[r++] = 1;
            v->ax[r][0] = dat, v->axn[r++] = D == 2;
            if (!layout)
                v->ax[r][0] = OX_ATOM_N, v->axn[r++] = 1;
            v->ax[r][0] = hat, v->axn[r++] = H > 1;
            v->vrank = r;
        } else {
            /* Y_h, Y_c: (D, N, H) or (N, D, H); one port per direction */
            v->nport = D;
            for (int d = 0; d < D; d++) {
                v->layer[d] = l;
                v->out[d] = 1 + d * nstate + (k - 1);
            }
            v->has_time = 0;
            v->nfa = H > 1;
            v->fa[0] = H;
            int r = 0;
            if (layout)
                v->ax[r][0] = OX_ATOM_N, v->axn[r++] = 1;
            v->ax[r][0] = OX_ATOM_STACK, v->axn[r++] = D == 2;
            if (!layout)
                v->ax[r][0] = OX_ATOM_N, v->axn[r++] = 1;
            v->ax[r][0] = OX_ATOM_F, v->axn[r++] = H > 1;
            v->vrank = r;
        }
    }
}

rnn_status ox_op_recurrent(ox_ctx *c, rnn_cell_type cell)
{
    ox_val *x, *W, *R, *B = ox_in(c, 3);
    rnn_status st = ox_need(c, 0, &x);
    if (!st)
        st = ox_need(c, 1, &W);
    if (!st)
        st = ox_need(c, 2, &R);
    if (st)
        return st;
    const Onnx__AttributeProto *da = ox_attr(c, "direction");
    int D = 1, reverse = 0;
    if (da && da->has_s) {
        if (da->s.len == 13 && !memcmp(da->s.data, "bidirectional", 13))
            D = 2;
        else if (da->s.len == 7 && !memcmp(da->s.data, "reverse", 7))
            reverse = 1;
        else if (!(da->s.len == 7 && !memcmp(da->s.data, "forward", 7)))
            return BAD("attribute 'direction' is not forward, reverse or bidirectional");
    }
    int64_t H = ox_attr_i(c, "hidden_size", 0);
    int layout = (int)ox_attr_i(c, "layout", 0);
    int lbr = cell == RNN_GRU ? (int)ox_attr_i(c, "linear_before_reset", 0) : 0;
    if (H < 1 || H > (1 << 20))
        return BAD("attribute 'hidden_size' = %lld", (long long)H);
    if (layout != 0 && layout != 1)
        return BAD("attribute 'layout' = %d", layout);
    rnn_activation act;
    if ((st = recurrent_attrs(c, cell, D, &act)))
        return st;
    if ((st = ox_plain(c, x, 1)))
        return st;
    if (x->kind != OX_TENSOR || !x->has_time || x->nport != 1 ||
        !(layout ? ox_view_batch_major(x) : ox_view_time_major(x)))
        return UNSUP("input X must be a layer output seen as %s", layout
                     ? "(batch, steps, features) (layout 1)"
                     : "(steps, batch, features) (layout 0)");
    /* X in reverse time order (a ReverseSequence: Keras' go_backwards as
     * tf2onnx writes it) is read by a layer going the other way */
    if (x->reversed && D == 2)
        return UNSUP("input X is in reverse time order (a ReverseSequence): a bidirectional "
                     "operator on it has no librnn equivalent");
    int G = cell == RNN_LSTM ? 4 : cell == RNN_GRU ? 3 : 1;
    int64_t I = ox_features(x);
    if ((st = check_weight(c, W, "W", D, G * H, I, 3)) ||
        (st = check_weight(c, R, "R", D, G * H, H, 3)))
        return st;
    if (B && (st = check_weight(c, B, "B", D, 2 * G * H, 0, 2)))
        return st;
    if ((st = ox_lens_recurrent(c, x)))
        return st;
    /* initial states: zeros (the default), or other layers' final states (an
     * encoder's Y_h/Y_c feeding a decoder), connected to the new layer */
    int nstate = cell == RNN_LSTM ? 2 : 1, given = 0, zeros = 0;
    ox_val *init[2] = {NULL, NULL};
    for (int k = 0; k < nstate; k++) {
        ox_val *v = ox_in(c, 5 + k);
        const char *what = k ? "initial_c" : "initial_h";
        if (!ox_in_present(c, 5 + k) || (v && v->kind == OX_ZEROS)) {
            zeros++;
            continue;
        }
        int sat = layout ? 1 : 0, nat = layout ? 0 : 1;
        if (!v || v->kind != OX_TENSOR || v->has_time || v->nport != D || v->vrank != 3 ||
            v->axn[nat] != 1 || v->ax[nat][0] != OX_ATOM_N ||
            v->axn[sat] != (D > 1) || (D > 1 && v->ax[sat][0] != OX_ATOM_STACK) ||
            !ox_axis_is_features(v, 2) || ox_features(v) != H)
            return UNSUP("input %s: only zeros or the final states of other layers "
                         "(%s, %lld units) are read", what,
                         layout ? "(batch, directions, units)" : "(directions, batch, units)",
                         (long long)H);
        init[k] = v;
        given++;
    }
    if (given && zeros)
        return UNSUP("initial_h and initial_c must both be zeros or both come from layers");
    int y = ox_out_used(c, 0), yh = ox_out_used(c, 1), yc = cell == RNN_LSTM && ox_out_used(c, 2);
    int budget = 64;
    int last = y && !reverse && reads_a_step(c, c->node->output[0], 0, &budget);
    ox_val xs = *x;
    xs.reversed = 0;
    if ((st = ox_connect(c, &xs)))
        return st;
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, cell);
    o.units = H;
    o.activation = act;
    o.use_bias = B != NULL;
    o.return_sequences = y;
    o.return_state = yh || yc || last;
    o.go_backwards = reverse != x->reversed;
    o.bidirectional = D == 2;
    o.reset_after = lbr;
    rnn_layer *l;
    if ((st = rnn_model_add_recurrent(c->m, &o, &l)))
        return ox_wrap_librnn(c, st, "the recurrent layer");
    if ((st = recurrent_weights(c, l, cell, D, H, I, lbr, W, R, B)))
        return st;
    if (given) {
        rnn_layer *src[4];
        int outs[4], n = 0;
        for (int d = 0; d < D; d++)
            for (int k = 0; k < nstate; k++) {
                src[n] = init[k]->layer[d];
                outs[n++] = init[k]->out[d];
            }
        if ((st = rnn_layer_connect_initial_state(l, n, src, outs)))
            return ox_wrap_librnn(c, st, "connecting the initial states");
    }
    rec_outputs(c, cell, l, D, H, layout, x, reverse, o.return_state);
    return RNN_OK;
}

