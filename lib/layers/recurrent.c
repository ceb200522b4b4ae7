/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recurrent layers: SimpleRNN, LSTM, GRU (both variants), optionally
 * Bidirectional, on the backend's whole-sequence kernels (one kernel per
 * direction, see backend/backend.h). The layer's states API (initial
 * states, reset) is in recurrent_state.c, its weight import/export in
 * recurrent_weights.c with the kernels' bias layout.
 *
 * Data path of a forward: each direction's kernel reads the batch-major input
 * (N, T, I) in place (rnn__rows), or its product with the direction's
 * per-sequence dropout mask, with the batch's lengths. When the output is the
 * directions' sequences side by side (one direction, or concat), the kernels
 * write it in place too, and in backward read its gradient in place and add
 * the input gradient into the producer's (without dropout); otherwise the
 * directions' time-major results are merged into it.
 *
 * recurrent_dropout (one mask per sequence on h_prev where it enters the
 * recurrent products) cannot be expressed by oneDNN's RNN primitives: the
 * TRAINING forwards and backwards of a layer with recurrent_dropout > 0 run on
 * the reference kernels (much slower); its inference runs on oneDNN.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "layers/recurrent.h"
#include "model/add.h"

static const char *const CELLS[] = {NULL, "simple_rnn", "lstm", "gru"};
static const char *const MERGES[] = {"concat", "sum", "mul", "ave"};

#define O rnn_recurrent_options
static const rnn__field FIELDS[] = {
    RNN__ENUM(O, cell, CELLS),
    RNN__INT(O, units, 1, 1 << 24),
    RNN__ENUM(O, activation, rnn__act_names),
    RNN__BOOL(O, use_bias),
    RNN__BOOL(O, return_sequences),
    RNN__BOOL(O, return_state),
    RNN__BOOL(O, go_backwards),
    RNN__BOOL(O, stateful),
    RNN__BOOL(O, reset_after),
    RNN__BOOL(O, unit_forget_bias),
    RNN__FLOAT(O, dropout, 0, 1),
    RNN__FLOAT(O, recurrent_dropout, 0, 1),
    RNN__ENUM(O, kernel_initializer, rnn__init_names),
    RNN__ENUM(O, recurrent_initializer, rnn__init_names),
    RNN__ENUM(O, bias_initializer, rnn__init_names),
    RNN__BOOL(O, bidirectional),
    RNN__ENUM(O, merge_mode, MERGES),
    RNN__FIELDS_END,
};
#undef O

void rnn_recurrent_options_init(rnn_recurrent_options *o, rnn_cell_type cell)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->cell = cell;
    o->units = 0;
    o->activation = RNN_ACT_TANH;
    o->use_bias = 1;
    o->reset_after = 1;
    o->unit_forget_bias = 1;
    o->kernel_initializer = RNN_INIT_GLOROT_UNIFORM;
    o->recurrent_initializer = RNN_INIT_ORTHOGONAL;
    o->bias_initializer = RNN_INIT_ZEROS;
    o->merge_mode = RNN_MERGE_CONCAT;
}

static const char *recurrent_type(const void *opts)
{
    const rnn_recurrent_options *o = opts;
    if (o->bidirectional)
        return "Bidirectional";
    return o->cell == RNN_LSTM ? "LSTM" : o->cell == RNN_GRU ? "GRU" : "SimpleRNN";
}

static rnn__cell cell_of(const rnn_recurrent_options *o)
{
    return o->cell == RNN_LSTM  ? RNN__CELL_LSTM
           : o->cell == RNN_GRU ? (o->reset_after ? RNN__CELL_LBR_GRU : RNN__CELL_GRU)
           : o->activation == RNN_ACT_RELU ? RNN__CELL_RNN_RELU
                                           : RNN__CELL_RNN_TANH;
}

/* ------------------------------------------------------------ construction */

/* Producers 1.. (when connected) are the initial states: h (and c) per direction. */
static rnn_status check_state_sources(const char *func, const rnn_recurrent_options *o, int n_in,
                                      const rnn__src *in)
{
    const rnn__cell cell = cell_of(o);
    const int want = (o->bidirectional ? 2 : 1) * (rnn__cell_has_c(cell) ? 2 : 1);
    if (n_in - 1 != want)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "count must be %d for this layer (its states: h%s per direction) (got %d)",
                        want, rnn__cell_has_c(cell) ? " and c" : "", n_in - 1);
    for (int k = 1; k < n_in; k++)
        if (in[k].d.dtype != RNN_F32 || in[k].d.seq || in[k].d.features != o->units)
            return rnn__err(RNN_ERR_SHAPE, func,
                            "sources[%d]: %s must output f32 vectors (N, %lld) to be a state",
                            k - 1, in[k].name, (long long)o->units);
    if (o->stateful)
        return rnn__err(RNN_ERR_STATE, func, "the layer is stateful: it carries its own states");
    return RNN_OK;
}

static rnn_status recurrent_infer(const char *func, const void *opts, int n_in,
                                  const rnn__src *in, rnn__spec *s)
{
    const rnn_recurrent_options *o = opts;
    if (o->cell == RNN_SIMPLE_RNN ? (o->activation != RNN_ACT_TANH && o->activation != RNN_ACT_RELU)
                                  : o->activation != RNN_ACT_TANH)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->activation must be RNN_ACT_TANH%s for this cell (got %d)",
                        o->cell == RNN_SIMPLE_RNN ? " or RNN_ACT_RELU" : "", (int)o->activation);
    if (o->bidirectional && o->go_backwards)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->go_backwards cannot be combined with options->bidirectional");
    if (!in[0].d.seq)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs no sequence (set return_sequences=1 on it)",
                        in[0].name);
    if (in[0].d.dtype != RNN_F32 || in[0].d.features < 1)
        return rnn__err(RNN_ERR_STATE, func,
                        "the previous layer %s outputs token ids; add an Embedding layer first",
                        in[0].name);
    rnn_status st;
    if (n_in > 1 && (st = check_state_sources(func, o, n_in, in)))
        return st;
    const rnn__cell cell = cell_of(o);
    const int ndir = o->bidirectional ? 2 : 1, ns = rnn__cell_has_c(cell) ? 2 : 1;
    const int64_t H = o->units, I = in[0].d.features, GH = rnn__cell_gates(cell) * H;
    const int64_t Ho = o->bidirectional && o->merge_mode == RNN_MERGE_CONCAT ? 2 * H : H;
    s->n_outputs = 1 + (o->return_state ? ndir * ns : 0);
    s->out[0] = (rnn__desc){RNN_F32, o->return_sequences, 0, Ho, 0};
    for (int k = 1; k < s->n_outputs; k++)
        s->out[k] = (rnn__desc){RNN_F32, 0, 0, H, 0};
    /* Parameters in Keras order, forward direction first. */
    static const char *const NAMES[3][3] = {
        {"kernel", "recurrent_kernel", "bias"},
        {"forward/kernel", "forward/recurrent_kernel", "forward/bias"},
        {"backward/kernel", "backward/recurrent_kernel", "backward/bias"}};
    for (int d = 0; d < ndir; d++) {
        const char *const *nm = NAMES[o->bidirectional ? 1 + d : 0];
        int p = s->n_params;
        s->param_name[p] = nm[0];
        s->param_rank[p] = 2;
        s->param_dims[p][0] = I;
        s->param_dims[p][1] = GH;
        s->param_name[p + 1] = nm[1];
        s->param_rank[p + 1] = 2;
        s->param_dims[p + 1][0] = H;
        s->param_dims[p + 1][1] = GH;
        s->n_params += 2;
        if (o->use_bias) {
            p = s->n_params++;
            s->param_name[p] = nm[2];
            s->param_rank[p] = cell == RNN__CELL_LBR_GRU ? 2 : 1;
            s->param_dims[p][0] = cell == RNN__CELL_LBR_GRU ? 2 : GH;
            s->param_dims[p][1] = GH;
        }
    }
    s->stateful = o->stateful;
    s->base = o->bidirectional            ? "bidirectional"
              : o->cell == RNN_LSTM ? "lstm"
              : o->cell == RNN_GRU  ? "gru"
                                    : "simple_rnn";
    return RNN_OK;
}

static rnn_status recurrent_build(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    const rnn_recurrent_options *o = l->opts;
    r->o = o;
    r->cell = cell_of(o);
    r->G = rnn__cell_gates(r->cell);
    r->Gb = rnn__cell_bias_gates(r->cell);
    r->ns = rnn__cell_has_c(r->cell) ? 2 : 1;
    r->ndir = o->bidirectional ? 2 : 1;
    r->I = l->param[0]->dims[0];
    r->H = o->units;
    for (int d = 0, p = 0; d < r->ndir; d++) {
        rnn__rdir *D = &r->d[d];
        D->reverse = o->bidirectional ? d == 1 : o->go_backwards;
        D->pk = p++;
        D->pr = p++;
        D->pb = o->use_bias ? p++ : -1;
    }
    return RNN_OK;
}

/* Initial values in Keras order, forward direction first. */
static rnn_status recurrent_init(rnn_layer *l, rnn__rng *rng)
{
    rnn__recurrent *r = l->impl;
    const rnn_recurrent_options *o = r->o;
    const int64_t H = r->H, I = r->I, GH = r->G * H;
    rnn_status st;
    for (int d = 0; d < r->ndir; d++) {
        const rnn__rdir *D = &r->d[d];
        if ((st = rnn__init_fill(rng, (int)o->kernel_initializer, rnn__f32(l->param[D->pk]), I,
                                 GH)) ||
            (st = rnn__init_fill(rng, (int)o->recurrent_initializer, rnn__f32(l->param[D->pr]),
                                 H, GH)))
            return st;
        if (D->pb >= 0) {
            rnn_tensor *b = l->param[D->pb];
            if ((st = rnn__init_fill(rng, (int)o->bias_initializer, rnn__f32(b), 1, b->numel)))
                return st;
            if (r->cell == RNN__CELL_LSTM && o->unit_forget_bias)
                for (int64_t j = 0; j < H; j++)
                    rnn__f32(b)[H + j] = 1.0f;
        }
    }
    return RNN_OK;
}

/* ------------------------------------------------------------ lifecycle */

static void recurrent_destroy(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    for (int d = 0; d < 2; d++) {
        rnn__rdir *D = &r->d[d];
        rnn__rnn_destroy(D->k);
        rnn__rnn_destroy(D->kref);
        rnn__fbuf *bufs[] = {&D->bias, &D->dbias, &D->y,   &D->hT,  &D->cT,   &D->dy,  &D->dhT,
                             &D->dcT,  &D->dx,    &D->dh0, &D->dc0, &D->xin, &D->mask, &D->rmask};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            rnn__fbuf_free(bufs[i]);
    }
    for (int i = 0; i < 4; i++) {
        rnn_tensor_destroy(r->init[i]);
        rnn_tensor_destroy(r->init_grad[i]);
        rnn__fbuf_free(&r->carry[i]);
    }
}

static void recurrent_reset_state(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    r->carry_valid = 0;
}

static rnn_status recurrent_select_carry(rnn_layer *l, const int32_t *rows, int64_t N,
                                         rnn__fbuf *tmp)
{
    rnn__recurrent *r = l->impl;
    if (!r->carry_valid)
        return RNN_OK;
    const int64_t H = r->H;
    rnn_status st = rnn__fbuf_ensure(tmp, (size_t)(N * H), 0);
    if (st)
        return st;
    for (int k = 0; k < r->ndir * r->ns; k++) {
        float *c = r->carry[k].p;
        for (int64_t n = 0; n < N; n++)
            memcpy(tmp->p + n * H, c + (int64_t)rows[n] * H, sizeof(float) * (size_t)H);
        memcpy(c, tmp->p, sizeof(float) * (size_t)(N * H));
    }
    return RNN_OK;
}

static const char *recurrent_step_check(const rnn_layer *l, const int *in_step)
{
    (void)in_step;
    const rnn_recurrent_options *o = l->opts;
    if (o->bidirectional)
        return "it is bidirectional";
    if (o->go_backwards)
        return "it is go_backwards";
    return NULL;
}

static void recurrent_params_changed(rnn_layer *l)
{
    rnn__recurrent *r = l->impl;
    r->d[0].bias_valid = r->d[1].bias_valid = 0;
}

/* Makes sure direction D has a kernel for T x N (the reference one when
 * use_ref) and up-to-date weights; D->used is set to it. */
static rnn_status prepare_dir(rnn_layer *l, rnn__ctx *ctx, rnn__recurrent *r, rnn__rdir *D,
                              int64_t T, int64_t N, int use_ref, rnn__rnn_weights *w)
{
    rnn_status st;
    rnn__rnn_kernel **kp = use_ref ? &D->kref : &D->k;
    int64_t *cT = use_ref ? &D->krT : &D->kT, *cN = use_ref ? &D->krN : &D->kN;
    if (!*kp || T > *cT || N > *cN) {
        rnn__rnn_shape sh = {r->cell, T > *cT ? T : *cT, N > *cN ? N : *cN, r->I, r->H, D->reverse};
        rnn__rnn_destroy(*kp);
        *kp = NULL;
        st = use_ref ? rnn__rnn_create_ref(&sh, kp) : rnn__rnn_create(ctx, &sh, kp);
        if (st)
            return st;
        *cT = sh.T;
        *cN = sh.N;
    }
    D->used = *kp;
    if (!D->bias_valid || D->bias_version != l->params_version) {
        st = rnn__fbuf_ensure(&D->bias, (size_t)(r->Gb * r->H), 1);
        if (st)
            return st;
        if (D->pb >= 0)
            rnn__recurrent_bias_to_kernel(r, rnn__f32(l->param[D->pb]), D->bias.p);
        D->bias_version = l->params_version;
        D->bias_valid = 1;
    }
    w->wx = rnn__f32(l->param[D->pk]);
    w->wh = rnn__f32(l->param[D->pr]);
    w->b = D->bias.p;
    w->version = l->params_version;
    return RNN_OK;
}

/* Length of sample n (T when the batch has no lengths). */
static inline int64_t len_of(const int32_t *len, int64_t n, int64_t T)
{
    return len ? len[n] : T;
}

static float merge(rnn_merge_mode m, float a, float b)
{
    switch (m) {
    case RNN_MERGE_SUM: return a + b;
    case RNN_MERGE_MUL: return a * b;
    case RNN_MERGE_AVE: return 0.5f * (a + b);
    case RNN_MERGE_CONCAT: break;
    }
    return a;
}

/* ------------------------------------------------------------ forward */

/* The initial states of this forward: connected producers' outputs, the
 * caller's (rnn_layer_set_initial_state), or none. */
static rnn_status initial_states(rnn_layer *l, const rnn__recurrent *r, int64_t N,
                                 const rnn_tensor **init, int *n_init)
{
    *n_init = l->n_in > 1 ? l->n_in - 1 : r->n_init;
    for (int k = 0; k < *n_init; k++) {
        init[k] = l->n_in > 1 ? rnn__layer_input(l, 1 + k) : r->init[k];
        if (init[k]->dims[0] != N)
            return rnn__err(RNN_ERR_SHAPE, NULL,
                            "its initial state %d has batch size %lld but the batch has %lld", k,
                            (long long)init[k]->dims[0], (long long)N);
    }
    return RNN_OK;
}

/* Per-sequence dropout masks of direction D: recurrent (on h) and input. */
static rnn_status draw_masks(const rnn__recurrent *r, rnn__rdir *D, const rnn__run *run,
                             int rec_drop, int64_t N)
{
    rnn_status st;
    const int64_t I = r->I, H = r->H;
    if (rec_drop && !(run->freeze_masks && D->rmask_N == N)) {
        if ((st = rnn__fbuf_ensure(&D->rmask, (size_t)(N * H), 0)))
            return st;
        D->rmask_N = N;
        float keep = 1.0f - r->o->recurrent_dropout;
        for (int64_t k = 0; k < N * H; k++)
            D->rmask.p[k] = rnn__rng_uniform(run->rng) < (double)keep ? 1.0f / keep : 0.0f;
    }
    if (D->masked && !(run->freeze_masks && D->mask_N == N)) {
        if ((st = rnn__fbuf_ensure(&D->mask, (size_t)(N * I), 0)))
            return st;
        D->mask_N = N;
        float keep = 1.0f - r->o->dropout;
        for (int64_t k = 0; k < N * I; k++)
            D->mask.p[k] = rnn__rng_uniform(run->rng) < (double)keep ? 1.0f / keep : 0.0f;
    }
    return RNN_OK;
}

/* 1 when the kernels write the output sequence in place (and read its gradient so): it is
 * their outputs side by side, in the order of the steps. */
static int direct_out(const rnn__recurrent *r)
{
    return r->o->return_sequences &&
           (r->ndir == 2 ? r->o->merge_mode == RNN_MERGE_CONCAT : !r->o->go_backwards);
}

/* Direction d's view of the output sequence (or of its gradient) g, (N, T, ndir * H). */
static float *direct_view(const rnn__recurrent *r, float *g, int d, rnn__rows *rows)
{
    *rows = (rnn__rows){.t = r->ndir * r->H, .n = r->T * r->ndir * r->H};
    return g + d * r->H;
}

/* Runs direction d's kernel over the batch-major input x. */
static rnn_status run_direction(rnn_layer *l, rnn__recurrent *r, int d, const rnn__run *run,
                                const float *x, const rnn_tensor *const *init, int n_init)
{
    rnn__rdir *D = &r->d[d];
    const int64_t I = r->I, N = r->N, T = r->T;
    const int32_t *len = r->len;
    const size_t nx = (size_t)(T * N * I), nh = (size_t)(N * r->H), ny = (size_t)(T * N * r->H);
    rnn__rnn_weights w;
    const int rec_drop = run->training && r->o->recurrent_dropout > 0.0f;
    rnn_status st = prepare_dir(l, run->ctx, r, D, T, N, rec_drop, &w);
    if (st)
        return st;
    D->masked = run->training && r->o->dropout > 0.0f;
    if ((st = draw_masks(r, D, run, rec_drop, N)))
        return st;
    const float *xin = x;
    if (D->masked) {
        if ((st = rnn__fbuf_ensure(&D->xin, nx, 0)))
            return st;
        for (int64_t n = 0; n < N; n++)
            for (int64_t t = 0; t < T; t++)
                for (int64_t i = 0; i < I; i++)
                    D->xin.p[(n * T + t) * I + i] = x[(n * T + t) * I + i] * D->mask.p[n * I + i];
        xin = D->xin.p;
    }
    const int direct = direct_out(r);
    if ((!direct && (st = rnn__fbuf_ensure(&D->y, ny, 0))) ||
        (st = rnn__fbuf_ensure(&D->hT, nh, 0)) || (st = rnn__fbuf_ensure(&D->cT, nh, 0)))
        return st;
    rnn__rows y_rows = {0, 0};
    float *y = direct ? direct_view(r, rnn__f32(l->out[0]), d, &y_rows) : D->y.p;
    const float *h0 = NULL, *c0 = NULL;
    if (run->stepping && r->carry_valid) { /* decoding: continue from the last step */
        h0 = r->carry[d * r->ns].p;
        c0 = r->ns == 2 ? r->carry[d * r->ns + 1].p : NULL;
    } else if (n_init) {
        h0 = rnn__f32(init[d * r->ns]);
        c0 = r->ns == 2 ? rnn__f32(init[d * r->ns + 1]) : NULL;
    } else if (r->o->stateful && r->carry_valid) {
        h0 = r->carry[d * r->ns].p;
        c0 = r->ns == 2 ? r->carry[d * r->ns + 1].p : NULL;
    }
    const int want_c = r->ns == 2 && (r->o->return_state || r->o->stateful || run->stepping);
    D->fwd = (rnn__rnn_fwd){.T = T, .N = N, .x = xin, .lengths = len, .h0 = h0, .c0 = c0,
                            .y = y, .hT = D->hT.p, .cT = want_c ? D->cT.p : NULL,
                            .training = run->training,
                            .rec_mask = rec_drop ? D->rmask.p : NULL, .bf16 = run->bf16,
                            .x_rows = {.t = I, .n = T * I}, .y_rows = y_rows};
    return rnn__rnn_forward(D->used, &w, &D->fwd);
}

/* Output 0 (unless the kernels wrote it) and the final states (extra outputs, the carry)
 * from the directions' results. */
static rnn_status write_outputs(rnn_layer *l, rnn__recurrent *r, const rnn__run *run)
{
    rnn_status st;
    const int64_t H = r->H, N = r->N, T = r->T;
    const int32_t *len = r->len;
    const size_t nh = (size_t)(N * H), ny = (size_t)(T * N * H);

    const int bi = r->ndir == 2, concat = bi && r->o->merge_mode == RNN_MERGE_CONCAT;
    const int64_t Ho = concat ? 2 * H : H;
    if (r->o->return_sequences && !direct_out(r)) {
        int64_t dims[3] = {N, T, Ho};
        /* every step is written below unless lengths leave padding */
        if ((st = rnn__tensor_ensure(&l->out[0], 3, dims, len != NULL)))
            return st;
        float *o = rnn__f32(l->out[0]);
#pragma omp parallel for schedule(static) if (ny >= RNN__PAR_MIN)
        for (int64_t n = 0; n < N; n++) {
            int64_t L = len_of(len, n, T);
            for (int64_t t = 0; t < L; t++) {
                float *dst = o + (n * T + t) * Ho;
                if (!bi) {
                    /* go_backwards returns outputs in processing order. */
                    int64_t src = r->o->go_backwards ? L - 1 - t : t;
                    memcpy(dst, r->d[0].y.p + (src * N + n) * H, sizeof(float) * (size_t)H);
                    continue;
                }
                const float *f = r->d[0].y.p + (t * N + n) * H, *b = r->d[1].y.p + (t * N + n) * H;
                if (concat) {
                    memcpy(dst, f, sizeof(float) * (size_t)H);
                    memcpy(dst + H, b, sizeof(float) * (size_t)H);
                } else {
                    for (int64_t j = 0; j < H; j++)
                        dst[j] = merge(r->o->merge_mode, f[j], b[j]);
                }
            }
        }
    } else if (!r->o->return_sequences) {
        int64_t dims[2] = {N, Ho};
        if ((st = rnn__tensor_ensure(&l->out[0], 2, dims, 0)))
            return st;
        float *o = rnn__f32(l->out[0]);
        for (int64_t n = 0; n < N; n++) {
            const float *f = r->d[0].hT.p + n * H;
            if (!bi) {
                memcpy(o + n * H, f, sizeof(float) * (size_t)H);
                continue;
            }
            const float *b = r->d[1].hT.p + n * H;
            if (concat) {
                memcpy(o + n * Ho, f, sizeof(float) * (size_t)H);
                memcpy(o + n * Ho + H, b, sizeof(float) * (size_t)H);
            } else {
                for (int64_t j = 0; j < H; j++)
                    o[n * H + j] = merge(r->o->merge_mode, f[j], b[j]);
            }
        }
    }
    /* Final states: extra outputs (return_state) and the stateful carry. */
    for (int d = 0; d < r->ndir; d++)
        for (int s = 0; s < r->ns; s++) {
            const float *src = s == 0 ? r->d[d].hT.p : r->d[d].cT.p;
            int k = d * r->ns + s;
            if (r->o->return_state) {
                int64_t dims[2] = {N, H};
                if ((st = rnn__tensor_ensure(&l->out[1 + k], 2, dims, 0)))
                    return st;
                memcpy(l->out[1 + k]->data, src, sizeof(float) * nh);
            }
            if (r->o->stateful || run->stepping) {
                if ((st = rnn__fbuf_ensure(&r->carry[k], nh, 0)))
                    return st;
                memcpy(r->carry[k].p, src, sizeof(float) * nh);
            }
        }
    if (r->o->stateful || run->stepping) {
        r->carry_valid = 1;
        r->carry_N = N;
    }
    l->out_len[0] = r->o->return_sequences ? len : NULL;
    return RNN_OK;
}

static rnn_status recurrent_forward(rnn_layer *l, const rnn__run *run)
{
    rnn__recurrent *r = l->impl;
    const rnn_tensor *xt = rnn__layer_in(l);
    const int64_t N = xt->dims[0], T = xt->dims[1];
    const int32_t *len = rnn__layer_in_len(l);
    const float *x = rnn__f32(xt);
    const rnn_tensor *init[4] = {0};
    int n_init;
    rnn_status st = initial_states(l, r, N, init, &n_init);
    if (st)
        return st;
    if ((r->o->stateful || run->stepping) && r->carry_valid && r->carry_N != N)
        return rnn__err(RNN_ERR_SHAPE, NULL,
                        "the layer is stateful with batch size %lld (got %lld); call "
                        "rnn_layer_reset_states() to change it",
                        (long long)r->carry_N, (long long)N);
    r->N = N;
    r->T = T;
    r->len = len;
    if (direct_out(r)) { /* the kernels write every step, the zeros past the lengths too */
        int64_t dims[3] = {N, T, r->ndir * r->H};
        if ((st = rnn__tensor_ensure(&l->out[0], 3, dims, 0)))
            return st;
    }
    for (int d = 0; d < r->ndir; d++)
        if ((st = run_direction(l, r, d, run, x, init, n_init)))
            return st;
    return write_outputs(l, r, run);
}

/* ------------------------------------------------------------ backward */

/* Splits the output (and final states') gradient into per-direction dy, dhT and dcT. */
/* The gradient g of a merged bidirectional output (H units per direction)
 * split into the directions' a and b; fy, by: their outputs (for MUL). */
static void split_merged(rnn_merge_mode mode, const float *g, const float *fy, const float *by,
                         int64_t H, float *a, float *b)
{
    if (mode == RNN_MERGE_CONCAT || mode == RNN_MERGE_SUM) {
        memcpy(a, g, sizeof(float) * (size_t)H);
        memcpy(b, mode == RNN_MERGE_CONCAT ? g + H : g, sizeof(float) * (size_t)H);
        return;
    }
    for (int64_t j = 0; j < H; j++) {
        a[j] = mode == RNN_MERGE_MUL ? g[j] * by[j] : 0.5f * g[j];
        b[j] = mode == RNN_MERGE_MUL ? g[j] * fy[j] : 0.5f * g[j];
    }
}

static void split_output_grad(rnn_layer *l, rnn__recurrent *r)
{
    const int64_t N = r->N, T = r->T, H = r->H;
    const int32_t *len = r->len;
    const int bi = r->ndir == 2, concat = bi && r->o->merge_mode == RNN_MERGE_CONCAT;
    const int64_t Ho = concat ? 2 * H : H;
    const size_t nh = (size_t)(N * H), ny = (size_t)(T * N * H);
    const float *g = rnn__f32(l->dout[0]);
    float *dy0 = r->d[0].dy.p, *dy1 = bi ? r->d[1].dy.p : NULL;
    if (r->o->return_sequences && !direct_out(r)) { /* else the kernels read g in place */
#pragma omp parallel for schedule(static) if (ny >= RNN__PAR_MIN)
        for (int64_t n = 0; n < N; n++) {
            int64_t L = len_of(len, n, T);
            for (int64_t t = 0; t < L; t++) {
                const float *gg = g + (n * T + t) * Ho;
                if (!bi) {
                    int64_t dst = r->o->go_backwards ? L - 1 - t : t;
                    memcpy(dy0 + (dst * N + n) * H, gg, sizeof(float) * (size_t)H);
                    continue;
                }
                float *a = dy0 + (t * N + n) * H, *b = dy1 + (t * N + n) * H;
                split_merged(r->o->merge_mode, gg, r->d[0].y.p + (t * N + n) * H,
                             r->d[1].y.p + (t * N + n) * H, H, a, b);
            }
        }
    } else if (!r->o->return_sequences) {
        float *a = r->d[0].dhT.p, *b = bi ? r->d[1].dhT.p : NULL;
        for (int64_t n = 0; n < N; n++) {
            const float *gg = g + n * Ho;
            if (!bi)
                memcpy(a + n * H, gg, sizeof(float) * (size_t)H);
            else
                split_merged(r->o->merge_mode, gg, r->d[0].hT.p + n * H, r->d[1].hT.p + n * H, H,
                             a + n * H, b + n * H);
        }
    }
    if (r->o->return_state)
        for (int d = 0; d < r->ndir; d++)
            for (int s = 0; s < r->ns; s++) {
                float *dst = s == 0 ? r->d[d].dhT.p : r->d[d].dcT.p;
                const float *src = rnn__f32(l->dout[1 + d * r->ns + s]);
                for (size_t k = 0; k < nh; k++)
                    dst[k] += src[k];
            }
}

/* Runs the directions' kernels backward. Each reads its output gradient in place (direct
 * output), from D->dy or not at all (no sequence out), and adds its input gradient into the
 * producer's (the first to reach a fresh one writes it), or leaves it in D->dx when a dropout
 * mask must multiply it first. */
static rnn_status run_kernels_backward(rnn_layer *l, rnn__recurrent *r, const rnn__run *run)
{
    const int64_t N = r->N, T = r->T, I = r->I;
    rnn_tensor *din = rnn__layer_din(l);
    rnn_status st;
    int fresh = rnn__layer_input_fresh(l, 0);
    for (int d = 0; d < r->ndir; d++) {
        rnn__rdir *D = &r->d[d];
        rnn__rnn_weights w;
        if ((st = prepare_dir(l, run->ctx, r, D, T, N, D->used == D->kref && D->kref, &w)))
            return st;
        rnn__rows dy_rows = {0, 0};
        float *dy = !r->o->return_sequences ? NULL
                    : direct_out(r)         ? direct_view(r, rnn__f32(l->dout[0]), d, &dy_rows)
                                            : D->dy.p;
        rnn__rnn_bwd b = {.dy = dy, .dhT = D->dhT.p, .dcT = D->fwd.cT ? D->dcT.p : NULL,
                          .dx = D->masked ? D->dx.p : din ? rnn__f32(din) : NULL,
                          .dh0 = D->dh0.p, .dc0 = r->ns == 2 ? D->dc0.p : NULL,
                          .dwx = l->trainable ? rnn__f32(l->grad[D->pk]) : NULL,
                          .dwh = l->trainable ? rnn__f32(l->grad[D->pr]) : NULL,
                          .db = l->trainable && D->pb >= 0 ? D->dbias.p : NULL,
                          .dy_rows = dy_rows, .dx_rows = {.t = I, .n = T * I},
                          .dx_add = !D->masked && !fresh};
        if ((st = rnn__rnn_backward(D->used, &w, &D->fwd, &b)))
            return st;
        fresh = fresh && D->masked;
        if (l->trainable && D->pb >= 0)
            rnn__recurrent_dbias_to_keras(r, D->dbias.p, rnn__f32(l->grad[D->pb]));
    }
    return RNN_OK;
}

/* Adds the input gradients of the directions with a dropout mask (batch-major, in D->dx)
 * times their masks into the producer's gradient, and scatters the initial states'
 * gradients to their producers. */
static rnn_status scatter_input_grads(rnn_layer *l, rnn__recurrent *r)
{
    const int64_t N = r->N, T = r->T, I = r->I, H = r->H;
    const size_t nx = (size_t)(T * N * I), nh = (size_t)(N * H);
    rnn_status st;
    rnn_tensor *dt = rnn__layer_din(l);
    float *din = dt ? rnn__f32(dt) : NULL;
    for (int d = 0; din && d < r->ndir; d++) {
        const rnn__rdir *D = &r->d[d];
        if (!D->masked)
            continue;
        const float *dx = D->dx.p, *m = D->mask.p;
#pragma omp parallel for schedule(static) if (nx >= RNN__PAR_MIN)
        for (int64_t n = 0; n < N; n++)
            for (int64_t t = 0; t < T; t++)
                for (int64_t i = 0; i < I; i++)
                    din[(n * T + t) * I + i] += dx[(n * T + t) * I + i] * m[n * I + i];
    }
    /* Gradients of connected initial states go to their producers. */
    for (int k = 0; k < l->n_in - 1; k++) {
        rnn_tensor *dst = rnn__layer_input_grad(l, 1 + k);
        if (!dst)
            continue;
        const rnn__rdir *D = &r->d[k / r->ns];
        const float *src = k % r->ns == 0 ? D->dh0.p : D->dc0.p;
        float *dp = rnn__f32(dst);
        for (size_t i = 0; i < nh; i++)
            dp[i] += src[i];
    }
    /* Gradients of caller-given initial states. */
    for (int k = 0; l->n_in == 1 && k < r->n_init; k++) {
        int64_t dims[2] = {N, H};
        if ((st = rnn__tensor_ensure(&r->init_grad[k], 2, dims, 0)))
            return st;
        const rnn__rdir *D = &r->d[k / r->ns];
        memcpy(r->init_grad[k]->data, k % r->ns == 0 ? D->dh0.p : D->dc0.p, sizeof(float) * nh);
    }
    return RNN_OK;
}

static rnn_status recurrent_backward(rnn_layer *l, const rnn__run *run)
{
    rnn__recurrent *r = l->impl;
    const int64_t N = r->N, T = r->T, I = r->I, H = r->H;
    const int32_t *len = r->len;
    size_t nx = (size_t)(T * N * I), nh = (size_t)(N * H), ny = (size_t)(T * N * H);
    rnn_status st;
    /* dy is written at every step of every sample below, except past a sample's length or
     * without return_sequences: zero it only then. */
    const int dy_full = r->o->return_sequences && !len;
    const int own_dy = r->o->return_sequences && !direct_out(r);
    for (int d = 0; d < r->ndir; d++) {
        rnn__rdir *D = &r->d[d];
        if ((own_dy && (st = rnn__fbuf_ensure(&D->dy, ny, !dy_full))) ||
            (D->masked && (st = rnn__fbuf_ensure(&D->dx, nx, 0))) ||
            (st = rnn__fbuf_ensure(&D->dhT, nh, 1)) || (st = rnn__fbuf_ensure(&D->dcT, nh, 1)) ||
            (st = rnn__fbuf_ensure(&D->dh0, nh, 0)) || (st = rnn__fbuf_ensure(&D->dc0, nh, 0)) ||
            (st = rnn__fbuf_ensure(&D->dbias, (size_t)(r->Gb * H), 1)))
            return st;
    }
    split_output_grad(l, r);
    if ((st = run_kernels_backward(l, r, run)))
        return st;
    return scatter_input_grads(l, r);
}

/* Defaults of a layer added by kind name (rnn_model_add_layer): an LSTM. */
static void options_init(void *o)
{
    rnn_recurrent_options_init(o, RNN_LSTM);
}

const rnn__layer_ops rnn__recurrent_ops = {
    .kind = "recurrent",
    .type_name = recurrent_type,
    .options_size = sizeof(rnn_recurrent_options),
    .options_init = options_init,
    .fields = FIELDS,
    .min_in = 1,
    .max_in = 5, /* the input, then up to 4 initial states */
    .impl_size = sizeof(rnn__recurrent),
    .infer = recurrent_infer,
    .build = recurrent_build,
    .init_params = recurrent_init,
    .forward = recurrent_forward,
    .backward = recurrent_backward,
    .reset_state = recurrent_reset_state,
    .params_changed = recurrent_params_changed,
    .select_carry = recurrent_select_carry,
    .step_check = recurrent_step_check,
    .destroy = recurrent_destroy,
};

rnn_status rnn_model_add_recurrent(rnn_model *m, const rnn_recurrent_options *options,
                                   rnn_layer **out)
{
    if (out)
        *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(options);
    rnn_recurrent_options o;
    rnn_recurrent_options_init(&o, options->cell);
    rnn_status st = RNN__OPTS_COPY("options", rnn_recurrent_options, &o, options, merge_mode);
    if (st)
        return st;
    if (o.cell != RNN_SIMPLE_RNN && o.cell != RNN_LSTM && o.cell != RNN_GRU)
        return RNN__ERR(RNN_ERR_INVALID_ARG,
                        "options->cell must be RNN_SIMPLE_RNN, RNN_LSTM or RNN_GRU (got %d)",
                        (int)o.cell);
    if (!o.bidirectional)
        o.merge_mode = RNN_MERGE_CONCAT; /* unused; keep the file's value valid */
    return rnn__model_add(__func__, m, &rnn__recurrent_ops, &o, 0, NULL, out);
}
