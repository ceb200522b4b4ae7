/* SPDX-License-Identifier: Apache-2.0 */
/* debian/tests/build-mpi: built against the INSTALLED librnn-mpi-dev with
 * `pkg-config --cflags --libs librnn-mpi` alone (rnn/mpi.h needs no MPI
 * flags), and run under `mpirun -np RANKS`:
 *   mpi RANKS
 * rnn_mpi_create_world() initializes MPI; every rank trains a small Dense
 * model for 3 rnn_model_train_step() calls on its share of each global batch
 * of 6 samples through librnn-mpi's collective, and a copy without a
 * collective on the whole batches. The weights and losses must be one
 * process's (to float rounding): the gradients were summed over the ranks.
 * Prints "rank R of N: OK" on success. */
#include <rnn.h>
#include <rnn/mpi.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { BATCH = 6, FEATURES = 4, UNITS = 3, STEPS = 3 };

static rnn_model *make_model(void)
{
    rnn_model_options mo;
    rnn_model_options_init(&mo);
    mo.seed = 42;
    rnn_model *m = NULL;
    int64_t shape[1] = {FEATURES};
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = UNITS;
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_MEAN_SQUARED_ERROR);
    rnn_optimizer_options o;
    rnn_optimizer_options_init(&o, RNN_OPTIM_SGD);
    o.learning_rate = 0.1f;
    if (rnn_model_create(&mo, &m) || rnn_model_add_input(m, RNN_F32, 1, shape, NULL) ||
        rnn_model_add_dense(m, &d, NULL) || rnn_model_compile(m, &c, &o)) {
        fprintf(stderr, "model: %s\n", rnn_last_error());
        rnn_model_destroy(m);
        return NULL;
    }
    return m;
}

/* Rows [from, to) of step's global batch: x (n, FEATURES), y (n, UNITS). */
static int batch(int step, int64_t from, int64_t to, rnn_tensor **x, rnn_tensor **y)
{
    int64_t xd[2] = {to - from, FEATURES}, yd[2] = {to - from, UNITS};
    float *px, *py;
    if (rnn_tensor_create(RNN_F32, 2, xd, x) || rnn_tensor_create(RNN_F32, 2, yd, y) ||
        rnn_tensor_data(*x, (void **)&px) || rnn_tensor_data(*y, (void **)&py))
        return -1;
    for (int64_t i = from; i < to; i++) {
        for (int j = 0; j < FEATURES; j++)
            px[(i - from) * FEATURES + j] = (float)sin(1.0 + step * 7 + i * 3.1 + j * 0.7);
        for (int j = 0; j < UNITS; j++)
            py[(i - from) * UNITS + j] = (float)cos(step + i * 0.9 + j * 1.3);
    }
    return 0;
}

/* max |a - b| over every parameter of the two models (same architecture). */
static double weight_diff(rnn_model *a, rnn_model *b)
{
    int layers = 0;
    double worst = 0;
    rnn_model_num_layers(a, &layers);
    for (int l = 0; l < layers; l++) {
        rnn_layer *la, *lb;
        int np = 0;
        rnn_model_layer(a, l, &la);
        rnn_model_layer(b, l, &lb);
        rnn_layer_num_params(la, &np);
        for (int p = 0; p < np; p++) {
            rnn_tensor *ta, *tb;
            const void *da, *db;
            int64_t n;
            if (rnn_layer_param(la, p, NULL, &ta, NULL) || rnn_layer_param(lb, p, NULL, &tb, NULL) ||
                rnn_tensor_numel(ta, &n) || rnn_tensor_data_const(ta, &da) ||
                rnn_tensor_data_const(tb, &db))
                return INFINITY;
            for (int64_t k = 0; k < n; k++) {
                double d = fabs((double)((const float *)da)[k] - (double)((const float *)db)[k]);
                worst = d > worst || d != d ? d : worst;
            }
        }
    }
    return worst;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mpirun -np RANKS %s RANKS\n", argv[0]);
        return 2;
    }
    const int expected = atoi(argv[1]);
    rnn_mpi *mpi = NULL;
    const rnn_collective *coll = NULL;
    if (rnn_mpi_create_world(NULL, &mpi) || rnn_mpi_collective(mpi, &coll)) {
        fprintf(stderr, "rnn_mpi_create_world: %s\n", rnn_last_error());
        rnn_mpi_destroy(mpi);
        return 1;
    }
    const int rank = coll->rank, size = coll->size;
    int failed = size != expected;
    if (failed)
        fprintf(stderr, "rank %d: %d ranks in MPI_COMM_WORLD, expected %d\n", rank, size,
                expected);

    rnn_model *dist = make_model(), *alone = make_model();
    if (!dist || !alone || rnn_model_set_collective(dist, coll)) {
        fprintf(stderr, "rank %d: %s\n", rank, rnn_last_error());
        return 1; /* MPI is not finalized: mpirun ends the other ranks */
    }
    /* rank r's contiguous share of each global batch, as fit cuts them */
    const int64_t from = (int64_t)BATCH * rank / size, to = (int64_t)BATCH * (rank + 1) / size;
    double worst_loss = 0;
    for (int step = 0; step < STEPS; step++) {
        rnn_tensor *x = NULL, *y = NULL, *xs = NULL, *ys = NULL;
        float loss = 0, loss_alone = 0;
        if (batch(step, 0, BATCH, &x, &y) || batch(step, from, to, &xs, &ys)) {
            fprintf(stderr, "rank %d: %s\n", rank, rnn_last_error());
            return 1;
        }
        const rnn_tensor *in[1] = {x}, *ins[1] = {xs};
        if (rnn_model_train_step(alone, 1, in, NULL, y, &loss_alone, NULL) ||
            rnn_model_train_step(dist, 1, ins, NULL, ys, &loss, NULL)) {
            fprintf(stderr, "rank %d, step %d: %s\n", rank, step, rnn_last_error());
            return 1;
        }
        double d = fabs((double)loss - (double)loss_alone);
        worst_loss = d > worst_loss ? d : worst_loss;
        rnn_tensor_destroy(x), rnn_tensor_destroy(y);
        rnn_tensor_destroy(xs), rnn_tensor_destroy(ys);
    }
    const double dw = weight_diff(dist, alone);
    rnn_mpi_stats st = {.struct_size = sizeof st};
    rnn_mpi_get_stats(mpi, &st);
    printf("rank %d of %d: samples [%lld, %lld) of each batch; after %d steps the weights "
           "differ from one process's by %.2e, the losses by %.2e; %lld sums (%lld bytes), "
           "%lld broadcasts\n",
           rank, size, (long long)from, (long long)to, STEPS, dw, worst_loss,
           (long long)st.allreduces, (long long)st.allreduce_bytes, (long long)st.broadcasts);
    failed |= !(dw <= 1e-5) || !(worst_loss <= 1e-5) || (size > 1 && st.allreduces == 0);
    rnn_model_destroy(dist);
    rnn_model_destroy(alone);
    rnn_mpi_destroy(mpi); /* finalizes MPI */
    printf("rank %d of %d: %s\n", rank, size, failed ? "FAILED" : "OK");
    return failed;
}
