/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the librnn-mpi tests (mpi_util.h). */
#define _POSIX_C_SOURCE 200809L
#include "mpi_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

int mt_data_make(mt_data *out, int64_t n, uint64_t seed, int with_lengths)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    int64_t xd[2] = {n, MT_T}, ld[1] = {n};
    if (rnn_tensor_create(RNN_I32, 2, xd, &out->x) || rnn_tensor_create(RNN_I32, 2, xd, &out->y) ||
        rnn_tensor_create(RNN_I32, 1, ld, &out->len)) {
        fprintf(stderr, "mt_data_make: %s\n", rnn_last_error());
        mt_data_free(out);
        return -1;
    }
    int32_t *x, *y, *l;
    rnn_tensor_data(out->x, (void **)&x);
    rnn_tensor_data(out->y, (void **)&y);
    rnn_tensor_data(out->len, (void **)&l);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 12345;
    for (int64_t i = 0; i < n; i++) {
        l[i] = (int32_t)(1 + next(&s) % MT_T);
        for (int t = 0; t < MT_T; t++) {
            int real = t < l[i];
            int32_t id = (int32_t)(1 + next(&s) % (MT_VOCAB - 1));
            x[i * MT_T + t] = real ? id : 0;
            /* a learnable rule: the class follows the id and the previous id */
            int32_t prev = t ? x[i * MT_T + t - 1] : 0;
            y[i * MT_T + t] = real ? (int32_t)((id + prev) % MT_CLASSES) : 0;
        }
    }
    rnn_data_init(&out->d);
    out->d.x = out->x;
    out->d.targets = out->y;
    out->d.lengths = with_lengths ? out->len : NULL;
    return 0;
}

void mt_data_free(mt_data *d)
{
    rnn_tensor_destroy(d->x);
    rnn_tensor_destroy(d->y);
    rnn_tensor_destroy(d->len);
    memset(d, 0, sizeof *d);
}

#define TRY(call)                                                                          \
    do {                                                                                   \
        if ((call) != RNN_OK) {                                                            \
            fprintf(stderr, "%s: %s\n", #call, rnn_last_error());                          \
            rnn_model_destroy(m);                                                          \
            return NULL;                                                                   \
        }                                                                                  \
    } while (0)

rnn_model *mt_model(int mask_zero, rnn_optimizer_type optimizer)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 42;
    rnn_model *m = NULL;
    TRY(rnn_model_create(&mo, &m));
    int64_t shape[1] = {MT_T};
    TRY(rnn_model_add_input(m, RNN_I32, 1, shape, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = MT_VOCAB, e.output_dim = MT_EMB, e.mask_zero = mask_zero;
    TRY(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_LSTM);
    r.units = MT_UNITS, r.bidirectional = 1, r.return_sequences = 1;
    TRY(rnn_model_add_recurrent(m, &r, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = MT_CLASSES, d.activation = RNN_ACT_SOFTMAX;
    TRY(rnn_model_add_dense(m, &d, NULL));
    if (mt_compile(m, optimizer)) {
        rnn_model_destroy(m);
        return NULL;
    }
    return m;
}

int mt_compile(rnn_model *m, rnn_optimizer_type optimizer)
{
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    c.reduction = RNN_REDUCTION_MASKED_MEAN;
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, optimizer);
    if (optimizer == RNN_OPTIM_SGD)
        o.learning_rate = 0.1f, o.momentum = 0.9f;
    else
        o.learning_rate = 0.01f;
    if (rnn_model_compile(m, &c, &o)) {
        fprintf(stderr, "rnn_model_compile: %s\n", rnn_last_error());
        return -1;
    }
    return 0;
}

rnn_tensor *mt_rows(const rnn_tensor *t, int64_t a, int64_t b)
{
    int64_t dims[8];
    int rank = 0;
    rnn_dtype dt;
    const void *src;
    rnn_tensor *out = NULL;
    if (rnn_tensor_shape(t, dims, 8, &rank) || rnn_tensor_dtype(t, &dt) ||
        rnn_tensor_data_const(t, &src))
        return NULL;
    size_t row = rnn_dtype_size(dt);
    for (int k = 1; k < rank; k++)
        row *= (size_t)dims[k];
    dims[0] = b - a;
    if (rnn_tensor_create(dt, rank, dims, &out))
        return NULL;
    void *dst;
    rnn_tensor_data(out, &dst);
    memcpy(dst, (const char *)src + row * (size_t)a, row * (size_t)(b - a));
    return out;
}

void mt_share(int64_t b, int rank, int size, int64_t *start, int64_t *end)
{
    int64_t base = b / size, extra = b % size;
    *start = rank * base + (rank < extra ? rank : extra);
    *end = *start + base + (rank < extra ? 1 : 0);
}

int64_t mt_weights(rnn_model *m, float *out)
{
    int nl = 0;
    int64_t n = 0;
    rnn_model_num_layers(m, &nl);
    for (int i = 0; i < nl; i++) {
        rnn_layer *l;
        int np = 0;
        rnn_model_layer(m, i, &l);
        rnn_layer_num_params(l, &np);
        for (int p = 0; p < np; p++) {
            rnn_tensor *v;
            int64_t k = 0;
            const void *data;
            rnn_layer_param(l, p, NULL, &v, NULL);
            rnn_tensor_numel(v, &k);
            rnn_tensor_data_const(v, &data);
            if (out)
                memcpy(out + n, data, sizeof(float) * (size_t)k);
            n += k;
        }
    }
    return n;
}

double mt_rel_diff(rnn_model *a, rnn_model *b)
{
    int na = 0, nb = 0;
    double worst = 0;
    rnn_model_num_layers(a, &na);
    rnn_model_num_layers(b, &nb);
    if (na != nb)
        return INFINITY;
    for (int i = 0; i < na; i++) {
        rnn_layer *la, *lb;
        int pa = 0, pb = 0;
        rnn_model_layer(a, i, &la);
        rnn_model_layer(b, i, &lb);
        rnn_layer_num_params(la, &pa);
        rnn_layer_num_params(lb, &pb);
        if (pa != pb)
            return INFINITY;
        for (int p = 0; p < pa; p++) {
            rnn_tensor *va, *vb;
            int64_t ka = 0, kb = 0;
            const void *da, *db;
            rnn_layer_param(la, p, NULL, &va, NULL);
            rnn_layer_param(lb, p, NULL, &vb, NULL);
            rnn_tensor_numel(va, &ka);
            rnn_tensor_numel(vb, &kb);
            if (ka != kb)
                return INFINITY;
            rnn_tensor_data_const(va, &da);
            rnn_tensor_data_const(vb, &db);
            const float *fa = da, *fb = db;
            double diff = 0, scale = 1e-30;
            for (int64_t k = 0; k < ka; k++) {
                double d = fabs((double)fa[k] - (double)fb[k]);
                diff = d > diff || isnan(d) ? d : diff;
                scale = fabs((double)fb[k]) > scale ? fabs((double)fb[k]) : scale;
            }
            double rel = isnan(diff) ? INFINITY : diff / scale;
            worst = rel > worst ? rel : worst;
        }
    }
    return worst;
}

double mt_max(MPI_Comm comm, double v)
{
    double out = v;
    MPI_Allreduce(&v, &out, 1, MPI_DOUBLE, MPI_MAX, comm);
    return out;
}

int mt_any(MPI_Comm comm, int v)
{
    int in = v != 0, out = in;
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, comm);
    return out;
}

double mt_spread(MPI_Comm comm, const float *w, int64_t n)
{
    float *root = malloc(sizeof *root * (size_t)(n ? n : 1));
    double worst = 0;
    if (!root)
        return INFINITY;
    memcpy(root, w, sizeof *root * (size_t)n);
    MPI_Bcast(root, (int)n, MPI_FLOAT, 0, comm);
    for (int64_t k = 0; k < n; k++) {
        int na = isnan(root[k]) != 0, nb = isnan(w[k]) != 0;
        double d = na && nb ? 0 : na || nb ? INFINITY : fabs((double)root[k] - (double)w[k]);
        worst = d > worst ? d : worst;
    }
    free(root);
    return mt_max(comm, worst);
}

double mt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
