/* SPDX-License-Identifier: Apache-2.0 */
/* Keras 3 weights (model.weights.h5, x.weights.h5) into librnn layers.
 *
 * Layout (Keras 3 saving format): each layer's group is
 * "layers/<snake_case class>[_<n>]"; its arrays are "vars/0", "vars/1", ...
 * in the order of layer.weights, under "cell/" for a recurrent layer, under
 * "forward_layer/cell/" and "backward_layer/cell/" for Bidirectional and
 * under "layer/" for TimeDistributed. Recurrent arrays are exactly
 * RNN_WEIGHTS_KERAS (rnn_layer_set_weights()); the others are librnn's
 * parameters by name in Keras' order.
 *
 * Every array of every layer is read and its shape checked before any
 * layer changes, so a bad file leaves the model as it was. */
#include "kimport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARR 12

/* Keras' variable order of the non-recurrent kinds with weights. */
static const char *const *plain_names(const char *type)
{
    static const char *const dense[] = {"kernel", "bias", NULL};
    static const char *const emb[] = {"embeddings", NULL};
    static const char *const norm[] = {"gamma", "beta", NULL};
    static const char *const none[] = {NULL};
    if (!strcmp(type, "Dense") || !strcmp(type, "Conv1D"))
        return dense;
    if (!strcmp(type, "Embedding"))
        return emb;
    if (!strcmp(type, "LayerNormalization"))
        return norm;
    return none;
}

typedef struct lw {
    int n;
    int recurrent;
    int index[MAX_ARR]; /* plain: the parameter index */
    rnn_tensor *t[MAX_ARR];
} lw;

static int efail(rnn_kx_err *e, rnn_status st, const char *lname, const char *m)
{
    e->status = st;
    snprintf(e->msg, sizeof e->msg, "layer '%.100s': %.360s", lname, m);
    return -1;
}

static int read_arr(rnn_kh5 *h, const char *path, int rank, const int64_t *dims, rnn_tensor **t,
                    const char *lname, rnn_kx_err *e)
{
    rnn_status st = rnn_tensor_create(RNN_F32, rank, dims, t);
    if (st)
        return rnn_kx_core_fail(e, st, lname);
    void *d;
    char err[300];
    if (rnn_tensor_data(*t, &d) || rnn_kh5_read_f32(h, path, rank, dims, d, err, sizeof err))
        return efail(e, RNN_ERR_FORMAT, lname, err);
    return 0;
}

static int count_is(rnn_kh5 *h, const char *group, int want, const char *lname, rnn_kx_err *e)
{
    long n = rnn_kh5_count(h, group);
    if (n < 0 && want == 0)
        return 0;
    if (n == want)
        return 0;
    char m[300];
    if (n < 0)
        snprintf(m, sizeof m, "no group '%.200s' in the weights file", group);
    else
        snprintf(m, sizeof m, "'%.200s' holds %ld arrays, the librnn layer has %d", group, n,
                 want);
    return efail(e, RNN_ERR_FORMAT, lname, m);
}

static int read_layer(rnn_kh5 *h, const rnn_kx_wentry *w, lw *out, rnn_kx_err *e)
{
    const char *lname = "?", *type = "?";
    rnn_layer_name(w->layer, &lname);
    rnn_layer_type(w->layer, &type);
    char path[320], group[300];
    int64_t dims[RNN_MAX_RANK];
    int rank;
    if (w->layout == RNN_KX_W_RNN || w->layout == RNN_KX_W_BIDI) {
        int n;
        rnn_status st = rnn_layer_weights_count(w->layer, RNN_WEIGHTS_KERAS, &n);
        if (st)
            return rnn_kx_core_fail(e, st, lname);
        if (n > MAX_ARR || (w->layout == RNN_KX_W_BIDI && n % 2))
            return efail(e, RNN_ERR_INTERNAL, lname, "unexpected weights count");
        int per = w->layout == RNN_KX_W_BIDI ? n / 2 : n;
        out->recurrent = 1;
        for (int i = 0; i < n; i++) {
            const char *dir = w->layout == RNN_KX_W_RNN ? "" : i < per ? "forward_layer/"
                                                                       : "backward_layer/";
            snprintf(group, sizeof group, "%s/%scell/vars", w->key, dir);
            if (i % per == 0 && count_is(h, group, per, lname, e))
                return -1;
            snprintf(path, sizeof path, "%s/%d", group, i % per);
            if ((st = rnn_layer_weights_shape(w->layer, RNN_WEIGHTS_KERAS, i, dims, &rank, NULL)))
                return rnn_kx_core_fail(e, st, lname);
            int r = read_arr(h, path, rank, dims, &out->t[i], lname, e);
            out->n = out->t[i] ? i + 1 : i;
            if (r)
                return -1;
        }
        return 0;
    }
    snprintf(group, sizeof group, "%s/%svars", w->key, w->layout == RNN_KX_W_TD ? "layer/" : "");
    const char *const *names = plain_names(type);
    int n_params = 0;
    rnn_layer_num_params(w->layer, &n_params);
    int k = 0;
    for (int i = 0; names[i]; i++) {
        int idx;
        if (rnn_layer_find_param(w->layer, names[i], &idx))
            continue; /* use_bias=False, center=False, ... */
        out->index[k++] = idx;
    }
    if (k != n_params)
        return efail(e, RNN_ERR_UNSUPPORTED, lname,
                     "the layer's parameters have no Keras equivalent");
    if (count_is(h, group, k, lname, e))
        return -1;
    for (int i = 0; i < k; i++) {
        rnn_tensor *p;
        rnn_layer_param(w->layer, out->index[i], NULL, &p, NULL);
        if (rnn_tensor_shape(p, dims, RNN_MAX_RANK, &rank))
            return efail(e, RNN_ERR_INTERNAL, lname, "parameter shape");
        snprintf(path, sizeof path, "%s/%d", group, i);
        int r = read_arr(h, path, rank, dims, &out->t[i], lname, e);
        out->n = out->t[i] ? i + 1 : i;
        if (r)
            return -1;
    }
    return 0;
}

int rnn_kx_load_weights(rnn_kh5 *h, const rnn_kx_wentry *w, int n, rnn_kx_err *e)
{
    int rc = 0, done = 0;
    lw *all = calloc((size_t)(n ? n : 1), sizeof *all);
    if (!all) {
        e->status = RNN_ERR_NOMEM;
        snprintf(e->msg, sizeof e->msg, "out of memory");
        return -1;
    }
    for (; done < n && !rc; done++)
        rc = read_layer(h, &w[done], &all[done], e);
    for (int i = 0; i < n && !rc; i++) {
        const char *lname = "?";
        rnn_layer_name(w[i].layer, &lname);
        rnn_status st = RNN_OK;
        if (all[i].recurrent)
            st = rnn_layer_set_weights(w[i].layer, RNN_WEIGHTS_KERAS, all[i].n,
                                       (const rnn_tensor *const *)all[i].t);
        for (int k = 0; !all[i].recurrent && k < all[i].n && !st; k++)
            st = rnn_layer_set_param(w[i].layer, all[i].index[k], all[i].t[k]);
        if (st)
            rc = rnn_kx_core_fail(e, st, lname);
    }
    for (int i = 0; i < done; i++)
        for (int k = 0; k < all[i].n; k++)
            rnn_tensor_destroy(all[i].t[k]);
    free(all);
    return rc;
}
