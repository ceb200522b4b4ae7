/* SPDX-License-Identifier: Apache-2.0 */
/* Dropout masks, shared by Dropout, SpatialDropout1D (and the recurrent
 * layers' input masks in spirit): drawing them from the run's generator and
 * applying them forward and backward. */
#include <string.h>

#include "layer/layer.h"

rnn_status rnn__mask_draw(rnn__mask *k, const rnn__run *r, float rate, int64_t count)
{
    if (r->freeze_masks && k->drawn == count)
        return RNN_OK;
    rnn_status st = rnn__fbuf_ensure(&k->m, (size_t)count, 0);
    if (st)
        return st;
    const float keep = 1.0f - rate;
    for (int64_t i = 0; i < count; i++)
        k->m.p[i] = rnn__rng_uniform(r->rng) < (double)keep ? 1.0f / keep : 0.0f;
    k->drawn = count;
    return RNN_OK;
}

/* Index of element i's mask value: i itself, or with per_feature its
 * (sample, feature) in a (N, T, F) sequence. */
static inline int64_t mask_at(int64_t i, int per_feature, int64_t T, int64_t F)
{
    return per_feature ? i / (T * F) * F + i % F : i;
}

const rnn__field rnn__dropout_fields[] = {
    RNN__FLOAT(rnn__dropout_opts, rate, 0, 1),
    RNN__FIELDS_END,
};

rnn_status rnn__dropout_forward(rnn_layer *l, const rnn__run *r)
{
    rnn__dropout *d = l->impl;
    rnn__mask *k = &d->mask;
    const float rate = ((const rnn__dropout_opts *)l->opts)->rate;
    const int per_feature = d->per_feature;
    int *masked = &d->masked;
    const rnn_tensor *x = rnn__layer_in(l);
    rnn_status st = rnn__tensor_ensure(&l->out[0], x->rank, x->dims, 0);
    if (st)
        return st;
    float *y = rnn__f32(l->out[0]);
    memcpy(y, x->data, x->nbytes);
    l->out_len[0] = rnn__layer_in_len(l);
    *masked = r->training && rate > 0.0f;
    if (!*masked)
        return RNN_OK;
    const int64_t T = per_feature ? x->dims[1] : 1, F = x->dims[x->rank - 1];
    if ((st = rnn__mask_draw(k, r, rate, per_feature ? x->dims[0] * F : x->numel)))
        return st;
    for (int64_t i = 0; i < x->numel; i++)
        y[i] *= k->m.p[mask_at(i, per_feature, T, F)];
    return RNN_OK;
}

rnn_status rnn__dropout_backward(rnn_layer *l, const rnn__run *r)
{
    (void)r;
    const rnn__dropout *d = l->impl;
    const rnn__mask *k = &d->mask;
    const int masked = d->masked, per_feature = d->per_feature;
    rnn_tensor *din = rnn__layer_din(l);
    if (!din)
        return RNN_OK;
    float *dx = rnn__f32(din);
    const float *dy = rnn__f32(l->dout[0]);
    const int64_t T = per_feature ? din->dims[1] : 1, F = din->dims[din->rank - 1];
    for (int64_t i = 0; i < din->numel; i++)
        dx[i] += masked ? dy[i] * k->m.p[mask_at(i, per_feature, T, F)] : dy[i];
    return RNN_OK;
}

void rnn__dropout_destroy(rnn_layer *l)
{
    rnn__dropout *d = l->impl;
    rnn__fbuf_free(&d->mask.m);
}
