/* SPDX-License-Identifier: Apache-2.0 */
/* predict over a dataset: batches of in-memory samples or an iterator's,
 * the outputs gathered into one tensor. Always local: with a collective
 * attached (rnn/collective.h) each rank predicts what it is given. */
#include <string.h>

#include "governor.h"
#include "rnn/fit.h"
#include "train/batch.h"

/* Appends output o (n samples) to *res, growing it; checks shape agreement. */
static rnn_status append_rows(const char *func, rnn_tensor **res, int64_t *rows, int64_t cap_hint,
                              const rnn_tensor *o)
{
    rnn_tensor *r = *res;
    if (r) {
        int same = r->rank == o->rank;
        for (int i = 1; same && i < o->rank; i++)
            same = r->dims[i] == o->dims[i];
        if (!same)
            return rnn__err(RNN_ERR_SHAPE, func,
                            "batch outputs differ beyond the batch axis (rank %d vs %d, or "
                            "sizes); give batches of one padded length",
                            r->rank, o->rank);
    }
    const size_t row = o->nbytes / (size_t)o->dims[0];
    const int64_t need = *rows + o->dims[0];
    if (!r || (size_t)need * row > r->capacity) {
        int64_t cap = r ? r->dims[0] * 2 : cap_hint;
        if (cap < need)
            cap = need;
        int64_t dims[RNN_MAX_RANK];
        memcpy(dims, o->dims, sizeof(int64_t) * (size_t)o->rank);
        dims[0] = cap;
        rnn_tensor *n = NULL;
        rnn_status st = rnn_tensor_create(o->dtype, o->rank, dims, &n);
        if (st)
            return st;
        if (r)
            memcpy(n->data, r->data, (size_t)*rows * row);
        rnn_tensor_destroy(r);
        *res = r = n;
    }
    memcpy((char *)r->data + (size_t)*rows * row, o->data, o->nbytes);
    *rows = need;
    return RNN_OK;
}

rnn_status rnn_model_predict(rnn_model *m, const rnn_data *data, int64_t batch_size,
                             rnn_tensor **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG_AS(m, "model");
    if (m->n_layers < 2)
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    int64_t S;
    rnn_data d;
    rnn_status st = rnn__single_input(__func__, m);
    if (st || (st = rnn__check_data(__func__, "data", data, &d, 0, &S)))
        return st;
    if (d.x && batch_size < 1)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "batch_size must be >= 1 (got %lld)",
                        (long long)batch_size);
    rnn_tensor *res = NULL;
    int64_t rows = 0;
    const rnn__port out0 = rnn__model_output_port(m, 0);
    rnn__gov *g = &m->gov[RNN__LOOP_PREDICT];
    rnn__gov_start(g);
    if (!d.x) {
        for (int64_t k = 0;; k++) {
            const rnn_tensor *x = NULL, *len = NULL, *y = NULL;
            int r = d.next(d.user, 0, k, &x, &len, &y);
            if (r == 0)
                break;
            if (r < 0 || !x) {
                st = rnn__iter_error(__func__, -1, k, r, x, 0);
                break;
            }
            rnn__gov_begin(g);
            if ((st = rnn_model_forward(m, 1, &x, &len, 0))) {
                st = RNN__WRAP(st, "batch %lld", (long long)k + 1);
                break;
            }
            rnn__gov_end(g, rnn__gov_work(x));
            if ((st = append_rows(__func__, &res, &rows, 256, out0.layer->out[out0.output])))
                break;
        }
    } else {
        d.targets = NULL;
        rnn__batcher b;
        rnn__batcher_init(&b, m, &d, 0);
        int64_t *idx = rnn__malloc(sizeof(int64_t) * (size_t)(batch_size < S ? batch_size : S));
        if (!idx)
            st = RNN__NOMEM(sizeof(int64_t) * (size_t)batch_size);
        for (int64_t i = 0; i < S && !st; i += batch_size) {
            const int64_t nb = S - i < batch_size ? S - i : batch_size;
            for (int64_t j = 0; j < nb; j++)
                idx[j] = i + j;
            const rnn_tensor *x, *len, *y;
            if ((st = rnn__batcher_make(&b, idx, nb, &x, &len, &y)))
                break;
            rnn__gov_begin(g);
            if ((st = rnn_model_forward(m, 1, &x, &len, 0))) {
                st = RNN__WRAP(st, "samples %lld..%lld", (long long)i, (long long)(i + nb - 1));
                break;
            }
            rnn__gov_end(g, rnn__gov_work(x));
            st = append_rows(__func__, &res, &rows, S, out0.layer->out[out0.output]);
        }
        rnn__free(idx);
        rnn__batcher_free(&b);
    }
    rnn__gov_stop(g);
    if (!st && rows == 0)
        st = RNN__ERR(RNN_ERR_INVALID_ARG, "data: the iterator gave no batch");
    if (st) {
        rnn_tensor_destroy(res);
        return RNN__PASS(st);
    }
    /* Shrink the batch axis to what was written (capacity stays). */
    res->dims[0] = rows;
    if ((st = rnn__shape_check(__func__, res->dtype, res->rank, res->dims, &res->numel,
                               &res->nbytes))) {
        rnn_tensor_destroy(res);
        return st;
    }
    *out = res;
    return RNN_OK;
}

