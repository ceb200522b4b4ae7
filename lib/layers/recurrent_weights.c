/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Weight import/export of recurrent layers in Keras and PyTorch order.
 *
 * Canonical (= Keras) per direction: kernel (I, G*H), recurrent_kernel
 * (H, G*H), bias (G*H) or, for GRU reset_after, (2, 3H).
 * PyTorch per direction: weight_ih (G*H, I), weight_hh (G*H, H), bias_ih
 * (G*H), bias_hh (G*H), gate blocks LSTM i,f,g,o (= Keras), GRU r,z,n
 * (Keras z,r,h: the first two blocks swap).
 */
#include <stdio.h>
#include <string.h>

#include "layers/recurrent.h"

/* The kernels' bias layout (recurrent.h). */
void rnn__recurrent_bias_to_kernel(const rnn__recurrent *r, const float *kb, float *b)
{
    int64_t H = r->H;
    if (r->cell != RNN__CELL_LBR_GRU) {
        memcpy(b, kb, sizeof(float) * (size_t)(r->Gb * H));
        return;
    }
    /* Keras (2, 3H) = [input bias z r h; recurrent bias z r h] ->
     * kernel [u, r, o, u'] = [bx_z + bh_z, bx_r + bh_r, bx_h, bh_h]. */
    const float *bx = kb, *bh = kb + 3 * H;
    for (int64_t j = 0; j < H; j++) {
        b[j] = bx[j] + bh[j];
        b[H + j] = bx[H + j] + bh[H + j];
        b[2 * H + j] = bx[2 * H + j];
        b[3 * H + j] = bh[2 * H + j];
    }
}

void rnn__recurrent_dbias_to_keras(const rnn__recurrent *r, const float *db, float *kb)
{
    int64_t H = r->H;
    if (r->cell != RNN__CELL_LBR_GRU) {
        for (int64_t j = 0; j < r->Gb * H; j++)
            kb[j] += db[j];
        return;
    }
    float *bx = kb, *bh = kb + 3 * H;
    for (int64_t j = 0; j < H; j++) {
        bx[j] += db[j];
        bh[j] += db[j];
        bx[H + j] += db[H + j];
        bh[H + j] += db[H + j];
        bx[2 * H + j] += db[2 * H + j];
        bh[2 * H + j] += db[3 * H + j];
    }
}

/* Arrays per direction in a format. */
static int per_dir(const rnn__recurrent *r, rnn_weights_format f)
{
    if (f == RNN_WEIGHTS_KERAS)
        return r->o->use_bias ? 3 : 2;
    return r->o->use_bias ? 4 : 2;
}

/* Keras gate block g of PyTorch block pg (GRU swaps r and z). */
static int torch_block_to_keras(const rnn__recurrent *r, int pg)
{
    if (r->cell == RNN__CELL_LBR_GRU && pg < 2)
        return 1 - pg;
    return pg;
}

static rnn_status check_format(const char *func, const rnn__recurrent *r, rnn_weights_format f)
{
    if (f != RNN_WEIGHTS_KERAS && f != RNN_WEIGHTS_PYTORCH)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "format must be RNN_WEIGHTS_KERAS or RNN_WEIGHTS_PYTORCH (got %d)", (int)f);
    if (f == RNN_WEIGHTS_PYTORCH && r->cell == RNN__CELL_GRU)
        return rnn__err(RNN_ERR_UNSUPPORTED, func,
                        "PyTorch has no GRU with reset_after=0; use RNN_WEIGHTS_KERAS");
    return RNN_OK;
}

/* Shape and name of array idx. */
static void array_shape(const rnn__recurrent *r, rnn_weights_format f, int idx, int64_t *dims,
                        int *rank, char *name, size_t name_len)
{
    int pd = per_dir(r, f), d = idx / pd, a = idx % pd;
    int64_t H = r->H, GH = r->G * H;
    if (f == RNN_WEIGHTS_KERAS) {
        static const char *names[] = {"kernel", "recurrent_kernel", "bias"};
        snprintf(name, name_len, "%s%s", r->ndir == 1 ? "" : d == 0 ? "forward/" : "backward/",
                 names[a]);
        if (a == 0)
            dims[0] = r->I, dims[1] = GH, *rank = 2;
        else if (a == 1)
            dims[0] = H, dims[1] = GH, *rank = 2;
        else if (r->cell == RNN__CELL_LBR_GRU)
            dims[0] = 2, dims[1] = GH, *rank = 2;
        else
            dims[0] = GH, *rank = 1;
        return;
    }
    static const char *names[] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"};
    snprintf(name, name_len, "%s%s", names[a], d == 1 ? "_reverse" : "");
    if (a == 0)
        dims[0] = GH, dims[1] = r->I, *rank = 2;
    else if (a == 1)
        dims[0] = GH, dims[1] = H, *rank = 2;
    else
        dims[0] = GH, *rank = 1;
}

rnn_status rnn_layer_weights_count(const rnn_layer *l, rnn_weights_format f, int *out)
{
    RNN__CHECK_ARG(out);
    *out = 0;
    rnn__recurrent *r = NULL;
    rnn_status st = rnn__recurrent_impl(__func__, l, &r);
    if (st || (st = check_format(__func__, r, f)))
        return st;
    *out = r->ndir * per_dir(r, f);
    return RNN_OK;
}

rnn_status rnn_layer_weights_shape(const rnn_layer *l, rnn_weights_format f, int index,
                                   int64_t *dims, int *rank, const char **name)
{
    if (name)
        *name = NULL;
    RNN__CHECK_ARG(rank);
    *rank = 0;
    RNN__CHECK_ARG(dims);
    rnn__recurrent *r = NULL;
    rnn_status st = rnn__recurrent_impl(__func__, l, &r);
    if (st || (st = check_format(__func__, r, f)))
        return st;
    int n = r->ndir * per_dir(r, f);
    if (index < 0 || index >= n)
        return RNN__ERR(RNN_ERR_RANGE, "index must be in [0, %d) (got %d)", n, index);
    static _Thread_local char buf[RNN__NAME_MAX];
    array_shape(r, f, index, dims, rank, buf, sizeof buf);
    if (name)
        *name = buf;
    return RNN_OK;
}

static rnn_status check_arrays(const char *func, const rnn__recurrent *r, rnn_weights_format f,
                               int count, const rnn_tensor *const *arrays)
{
    int n = r->ndir * per_dir(r, f);
    if (count != n)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "count must be %d for this layer (got %d)", n,
                        count);
    if (!arrays)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "arrays must not be NULL");
    for (int i = 0; i < n; i++) {
        int64_t dims[RNN_MAX_RANK];
        int rank;
        char name[RNN__NAME_MAX];
        array_shape(r, f, i, dims, &rank, name, sizeof name);
        const rnn_tensor *t = arrays[i];
        if (!t)
            return rnn__err(RNN_ERR_INVALID_ARG, func, "arrays[%d] (%s) must not be NULL", i, name);
        if (t->dtype != RNN_F32)
            return rnn__err(RNN_ERR_DTYPE, func, "arrays[%d] (%s) must be RNN_F32", i, name);
        int same = t->rank == rank;
        for (int k = 0; same && k < rank; k++)
            same = t->dims[k] == dims[k];
        if (!same) {
            if (rank == 2)
                return rnn__err(RNN_ERR_SHAPE, func, "arrays[%d] (%s) must have shape (%lld, %lld)",
                                i, name, (long long)dims[0], (long long)dims[1]);
            return rnn__err(RNN_ERR_SHAPE, func, "arrays[%d] (%s) must have shape (%lld)", i, name,
                            (long long)dims[0]);
        }
    }
    return RNN_OK;
}

/* Copies direction d between canonical parameters and PyTorch arrays.
 * to_torch: canonical -> arrays; else arrays -> canonical. */
static void torch_dir(rnn_layer *l, const rnn__recurrent *r, const rnn__rdir *D, float *const *a,
                      int to_torch)
{
    const int64_t I = r->I, H = r->H, G = r->G, GH = G * H;
    float *kx = rnn__f32(l->param[D->pk]), *kh = rnn__f32(l->param[D->pr]);
    for (int pg = 0; pg < G; pg++) {
        int kg = torch_block_to_keras(r, pg);
        for (int64_t j = 0; j < H; j++) {
            int64_t row = pg * H + j, col = kg * H + j;
            for (int64_t i = 0; i < I; i++) {
                if (to_torch)
                    a[0][row * I + i] = kx[i * GH + col];
                else
                    kx[i * GH + col] = a[0][row * I + i];
            }
            for (int64_t i = 0; i < H; i++) {
                if (to_torch)
                    a[1][row * H + i] = kh[i * GH + col];
                else
                    kh[i * GH + col] = a[1][row * H + i];
            }
        }
    }
    if (D->pb < 0)
        return;
    float *kb = rnn__f32(l->param[D->pb]);
    for (int pg = 0; pg < G; pg++) {
        int kg = torch_block_to_keras(r, pg);
        for (int64_t j = 0; j < H; j++) {
            int64_t row = pg * H + j, col = kg * H + j;
            if (r->cell == RNN__CELL_LBR_GRU) { /* (2, 3H): input row, recurrent row */
                if (to_torch) {
                    a[2][row] = kb[col];
                    a[3][row] = kb[GH + col];
                } else {
                    kb[col] = a[2][row];
                    kb[GH + col] = a[3][row];
                }
            } else if (to_torch) {
                a[2][row] = kb[col];
                a[3][row] = 0.0f;
            } else {
                kb[col] = a[2][row] + a[3][row];
            }
        }
    }
}

static void keras_dir(rnn_layer *l, const rnn__rdir *D, float *const *a, int to_keras)
{
    int idx[3] = {D->pk, D->pr, D->pb};
    for (int k = 0; k < (D->pb >= 0 ? 3 : 2); k++) {
        rnn_tensor *p = l->param[idx[k]];
        if (to_keras)
            memcpy(a[k], p->data, p->nbytes);
        else
            memcpy(p->data, a[k], p->nbytes);
    }
}

/* Copies every direction between the layer and arrays in format f.
 * to_arrays: export (layer -> arrays), else import. */
static void transfer(rnn_layer *l, const rnn__recurrent *r, rnn_weights_format f,
                     float *const *all, int to_arrays)
{
    int pd = per_dir(r, f);
    for (int d = 0; d < r->ndir; d++) {
        float *const *a = all + d * pd;
        if (f == RNN_WEIGHTS_KERAS)
            keras_dir(l, &r->d[d], a, to_arrays);
        else
            torch_dir(l, r, &r->d[d], a, to_arrays);
    }
}

static rnn_status weights_call(const char *func, const rnn_layer *l, rnn_weights_format f,
                               int count, const rnn_tensor *const *arrays, rnn__recurrent **r,
                               float **ptrs)
{
    rnn_status st = rnn__recurrent_impl(func, l, r);
    if (st || (st = check_format(func, *r, f)) || (st = check_arrays(func, *r, f, count, arrays)))
        return st;
    for (int i = 0; i < count; i++)
        ptrs[i] = rnn__f32(arrays[i]);
    return RNN_OK;
}

rnn_status rnn_layer_get_weights(const rnn_layer *l, rnn_weights_format f, int count,
                                 rnn_tensor *const *arrays)
{
    rnn__recurrent *r = NULL;
    float *ptrs[8];
    rnn_status st = weights_call(__func__, l, f, count, (const rnn_tensor *const *)arrays, &r, ptrs);
    if (st)
        return st;
    transfer((rnn_layer *)l, r, f, ptrs, 1);
    return RNN_OK;
}

rnn_status rnn_layer_set_weights(rnn_layer *l, rnn_weights_format f, int count,
                                 const rnn_tensor *const *arrays)
{
    rnn__recurrent *r = NULL;
    float *ptrs[8];
    rnn_status st = weights_call(__func__, l, f, count, arrays, &r, ptrs);
    if (st)
        return st;
    transfer(l, r, f, ptrs, 0);
    return rnn_layer_params_changed(l);
}
