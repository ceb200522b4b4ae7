/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile and careless input (issue 15), growing with each stop: what a
 * careless user or an attacker hands the library must give a clear error,
 * never poisoned weights, a hang or a wrong message.
 */
#define _DEFAULT_SOURCE 1
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_util.h"

/* An Inf in the input used to leave the loss finite and make 32 LSTM
 * kernel values NaN; the step must be refused with the weights untouched. */
START_TEST(inf_input_never_poisons_the_weights)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    int64_t xd[3] = {4, 5, 3}, yd[1] = {4};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
    float *xp;
    ck_ok(rnn_tensor_data(x, (void **)&xp));
    for (int i = 0; i < 60; i++)
        xp[i] = 0.1f * (float)(i % 7) - 0.3f;
    const rnn_tensor *in[1] = {x};
    float loss, acc;
    ck_ok(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc)); /* a good step first */
    size_t n, n2;
    float *before = h_snapshot(m, &n);
    xp[17] = INFINITY;
    ck_rnn(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc), RNN_ERR_NUMERIC);
    ck_errmsg("rnn_model_train_step: ");
    ck_errmsg("is not finite");
    ck_errmsg("the weights are unchanged");
    float *after = h_snapshot(m, &n2);
    ck_assert_uint_eq(n, n2);
    ck_assert_msg(memcmp(before, after, sizeof(float) * n) == 0, "the weights changed");
    for (size_t i = 0; i < n; i++)
        ck_assert(isfinite(after[i]));
    /* The next good batch trains from the same weights. */
    xp[17] = 0.0f;
    ck_ok(rnn_model_train_step(m, 1, in, NULL, y, &loss, &acc));
    ck_assert(isfinite(loss));
    free(before);
    free(after);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

/* Fit over in-memory data: a bad label in the last batch was found after the
 * earlier batches had changed the weights, with a batch-relative index. Every
 * value is now checked before the first step and named by its sample. */
START_TEST(fit_checks_every_value_before_training)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    int64_t xd[3] = {10, 5, 3}, yd[1] = {10};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
    float *xp;
    int32_t *yp;
    ck_ok(rnn_tensor_data(x, (void **)&xp));
    ck_ok(rnn_tensor_data(y, (void **)&yp));
    for (int i = 0; i < 150; i++)
        xp[i] = 0.1f * (float)(i % 7) - 0.3f;
    for (int i = 0; i < 10; i++)
        yp[i] = i % 3;
    rnn_data d;
    rnn_data_init(&d);
    d.x = x;
    d.targets = y;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.batch_size = 4;
    o.epochs = 2;
    size_t n, n2;
    float *before = h_snapshot(m, &n), *after;
    yp[9] = 3; /* the last batch */
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_RANGE);
    ck_errmsg("rnn_model_fit: nothing was trained: train->targets[9] must be a class in [0, 3) "
              "(got 3)");
    after = h_snapshot(m, &n2);
    ck_assert_msg(memcmp(before, after, sizeof(float) * n) == 0, "the weights changed");
    free(after);
    yp[9] = 0;
    xp[9 * 15 + 2 * 3 + 1] = NAN;
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_NUMERIC);
    ck_errmsg("rnn_model_fit: nothing was trained: train->x[9][2][1] is nan");
    after = h_snapshot(m, &n2);
    ck_assert_msg(memcmp(before, after, sizeof(float) * n) == 0, "the weights changed");
    free(after);
    xp[9 * 15 + 2 * 3 + 1] = 0.0f;
    /* validation data and evaluate are checked the same way */
    o.validation_data = &d;
    yp[4] = -1;
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_RANGE);
    ck_errmsg("train->targets[4] must be a class");
    rnn_eval_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    ck_rnn(rnn_model_evaluate(m, &d, 4, &r), RNN_ERR_RANGE);
    ck_errmsg("rnn_model_evaluate: data->targets[4] must be a class in [0, 3) (got -1)");
    yp[4] = 1;
    ck_ok(rnn_model_fit(m, &d, &o, NULL));
    free(before);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

/* Tagging-shaped data: labels beyond a sample's length, or under a padding id
 * that mask_zero masks, are not classes and may be anything; token ids must
 * fit the embedding. */
START_TEST(fit_checks_sequence_labels_and_ids)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t shape[1] = {4};
    ck_ok(rnn_model_add_input(m, RNN_I32, 1, shape, NULL));
    rnn_embedding_options e;
    rnn_embedding_options_init(&e);
    e.input_dim = 6;
    e.output_dim = 3;
    e.mask_zero = 1;
    ck_ok(rnn_model_add_embedding(m, &e, NULL));
    rnn_recurrent_options r;
    rnn_recurrent_options_init(&r, RNN_GRU);
    r.units = 4;
    r.return_sequences = 1;
    ck_ok(rnn_model_add_recurrent(m, &r, NULL));
    rnn_dense_options dn;
    rnn_dense_options_init(&dn);
    dn.units = 5;
    dn.activation = RNN_ACT_SOFTMAX;
    ck_ok(rnn_model_add_dense(m, &dn, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY);
    c.reduction = RNN_REDUCTION_MASKED_MEAN;
    rnn_optimizer_options op;
    rnn_optimizer_options_init(&op, RNN_OPTIM_ADAM);
    ck_ok(rnn_model_compile(m, &c, &op));
    int64_t xd[2] = {3, 4}, ld[1] = {3};
    rnn_tensor *x, *y, *len;
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 2, xd, &y));
    ck_ok(rnn_tensor_create(RNN_I32, 1, ld, &len));
    int32_t *xp, *yp, *lp;
    ck_ok(rnn_tensor_data(x, (void **)&xp));
    ck_ok(rnn_tensor_data(y, (void **)&yp));
    ck_ok(rnn_tensor_data(len, (void **)&lp));
    const int32_t xs[12] = {1, 2, 3, 0, 4, 5, 0, 0, 1, 1, 1, 1};
    const int32_t ys[12] = {0, 1, 2, -1, 3, 4, 99, -1, 0, 0, 0, 0};
    memcpy(xp, xs, sizeof xs);
    memcpy(yp, ys, sizeof ys);
    lp[0] = 3, lp[1] = 2, lp[2] = 4;
    rnn_data d;
    rnn_data_init(&d);
    d.x = x;
    d.targets = y;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.batch_size = 2;
    ck_ok(rnn_model_fit(m, &d, &o, NULL)); /* padding labels -1, 99: masked (id 0) */
    d.lengths = len;
    ck_ok(rnn_model_fit(m, &d, &o, NULL)); /* and beyond the lengths */
    yp[2 * 4 + 3] = 5;
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_RANGE);
    ck_errmsg("nothing was trained: train->targets[2][3] must be a class in [0, 5) (got 5)");
    yp[2 * 4 + 3] = 0;
    xp[2 * 4 + 1] = 6;
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_RANGE);
    ck_errmsg("nothing was trained: train->x[2][1] must be a token id in [0, 6) (got 6)");
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_tensor_destroy(len);
    rnn_model_destroy(m);
}
END_TEST

/* A batch that overflows in training names its samples of train->x (finite
 * but huge inputs: no value check can refuse them beforehand). */
START_TEST(numeric_failure_names_the_samples)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t shape[1] = {2};
    ck_ok(rnn_model_add_input(m, RNN_F32, 1, shape, NULL));
    rnn_dense_options dn;
    rnn_dense_options_init(&dn);
    dn.units = 1;
    ck_ok(rnn_model_add_dense(m, &dn, NULL));
    rnn_compile_options c;
    rnn_compile_options_init(&c, RNN_LOSS_MEAN_SQUARED_ERROR);
    rnn_optimizer_options op;
    rnn_optimizer_options_init(&op, RNN_OPTIM_SGD);
    ck_ok(rnn_model_compile(m, &c, &op));
    int64_t xd[2] = {10, 2}, yd[2] = {10, 1};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_F32, 2, xd, &x));
    ck_ok(rnn_tensor_create(RNN_F32, 2, yd, &y));
    ck_ok(rnn_tensor_fill_f32(x, 0.5f));
    ck_ok(rnn_tensor_fill_f32(y, 1.0f));
    float *xp;
    ck_ok(rnn_tensor_data(x, (void **)&xp));
    xp[7 * 2] = 3e38f;
    xp[7 * 2 + 1] = 3e38f;
    rnn_data d;
    rnn_data_init(&d);
    d.x = x;
    d.targets = y;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.batch_size = 4;
    o.shuffle = 0;
    size_t n, n2;
    float *before = h_snapshot(m, &n);
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_NUMERIC);
    ck_errmsg("rnn_model_fit: epoch 1, batch 2 (samples 4, 5, 6, 7 of train->x): ");
    printf("%s\n", rnn_last_error());
    float *after = h_snapshot(m, &n2);
    for (size_t i = 0; i < n2; i++)
        ck_assert(isfinite(after[i]));
    free(before);
    free(after);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

/* A NaN during evaluation or a test step is not "training stopped". */
START_TEST(nan_in_evaluation_says_what_happened)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    int64_t xd[3] = {2, 4, 3}, yd[1] = {2};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
    float *xp;
    ck_ok(rnn_tensor_data(x, (void **)&xp));
    xp[3] = NAN;
    const rnn_tensor *in[1] = {x};
    float loss, acc;
    ck_rnn(rnn_model_test_step(m, 1, in, NULL, y, &loss, &acc), RNN_ERR_NUMERIC);
    ck_assert_str_eq(rnn_last_error(), "rnn_model_test_step: the loss is NaN");
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
    _exit(3); /* the load blocked */
}

/* Loading a FIFO used to block forever in open(). */
START_TEST(loading_a_fifo_does_not_block)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/librnn-fifo-%ld", (long)getpid());
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    signal(SIGALRM, on_alarm);
    alarm(10);
    rnn_model *m = NULL;
    rnn_status st = rnn_model_load(path, NULL, &m);
    alarm(0);
    unlink(path);
    ck_assert_int_eq(st, RNN_ERR_IO);
    ck_assert_ptr_null(m);
    ck_errmsg("rnn_model_load: ");
    ck_errmsg("is not a regular file");
}
END_TEST

static int no_x(void *user, int epoch, int64_t batch, const rnn_tensor **x,
                const rnn_tensor **lengths, const rnn_tensor **targets)
{
    (void)user, (void)epoch, (void)batch, (void)x, (void)lengths, (void)targets;
    return 1; /* "a batch", but no tensor */
}

/* An iterator that returns 1 without a tensor was reported as "failed at
 * batch 0 (returned 1)"; an unknown dtype gets the status the header says. */
START_TEST(iterator_without_tensor_and_unknown_dtype)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    rnn_data d;
    rnn_data_init(&d);
    d.next = no_x;
    rnn_tensor *out = NULL;
    ck_rnn(rnn_model_predict(m, &d, 4, &out), RNN_ERR_STATE);
    ck_assert_str_eq(rnn_last_error(),
                     "rnn_model_predict: batch 1: the batch iterator returned 1 but set no x");
    ck_assert_ptr_null(out);
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    ck_rnn(rnn_model_fit(m, &d, &o, NULL), RNN_ERR_STATE);
    ck_assert_str_eq(rnn_last_error(),
                     "rnn_model_fit: epoch 1, batch 1: the batch iterator returned 1 but set no x");
    rnn_eval_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    ck_rnn(rnn_model_evaluate(m, &d, 4, &r), RNN_ERR_STATE);
    ck_assert_str_eq(rnn_last_error(),
                     "rnn_model_evaluate: batch 1: the batch iterator returned 1 but set no x");
    int64_t shape[1] = {4};
    ck_rnn(rnn_model_add_input(m, (rnn_dtype)7, 1, shape, NULL), RNN_ERR_DTYPE);
    ck_errmsg("rnn_model_add_input: dtype must be RNN_F32 or RNN_I32 (got 7)");
    rnn_model_destroy(m);
}
END_TEST

/* fit with a batch size beyond the data overflowed (UBSan) and reported "the
 * iterator gave no batch" with no iterator: it is one batch, as in Keras. */
START_TEST(huge_batch_size_is_one_batch)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    int64_t xd[3] = {8, 4, 3}, yd[1] = {8};
    rnn_tensor *x, *y;
    ck_ok(rnn_tensor_create(RNN_F32, 3, xd, &x));
    ck_ok(rnn_tensor_create(RNN_I32, 1, yd, &y));
    rnn_data d;
    rnn_data_init(&d);
    d.x = x;
    d.targets = y;
    rnn_fit_options o;
    rnn_fit_options_init(&o);
    o.epochs = 2;
    o.batch_size = INT64_MAX;
    rnn_fit_result res;
    memset(&res, 0, sizeof res);
    res.struct_size = sizeof res;
    ck_ok(rnn_model_fit(m, &d, &o, &res));
    ck_assert_int_eq(res.epochs_run, 2);
    o.shuffle = 0;
    o.batch_size = INT64_MAX - 1;
    ck_ok(rnn_model_fit(m, &d, &o, NULL));
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}
END_TEST

/* Saving over a symbolic link replaced the link by a file; it must write the
 * file the link points to (also when that file does not exist yet), and the
 * model must load back through the link. */
START_TEST(save_through_a_symlink_writes_its_target)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    char dir[] = "/tmp/librnn-link-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char target[96], link[96], dangling[96], created[96];
    snprintf(target, sizeof target, "%s/real.rnn", dir);
    snprintf(link, sizeof link, "%s/link.rnn", dir);
    snprintf(dangling, sizeof dangling, "%s/dangling.rnn", dir);
    snprintf(created, sizeof created, "%s/later.rnn", dir);
    ck_ok(rnn_model_save(m, target));
    ck_assert_int_eq(symlink("real.rnn", link), 0);
    ck_ok(rnn_model_save(m, link));
    struct stat sb;
    ck_assert_int_eq(lstat(link, &sb), 0);
    ck_assert_msg(S_ISLNK(sb.st_mode), "the link was replaced by a file");
    ck_assert_int_eq(symlink("later.rnn", dangling), 0);
    ck_ok(rnn_model_save(m, dangling));
    ck_assert_int_eq(lstat(dangling, &sb), 0);
    ck_assert(S_ISLNK(sb.st_mode));
    ck_assert_int_eq(lstat(created, &sb), 0);
    ck_assert(S_ISREG(sb.st_mode));
    rnn_model *back = NULL;
    ck_ok(rnn_model_load(link, NULL, &back));
    rnn_model_destroy(back);
    unlink(link);
    unlink(dangling);
    unlink(target);
    unlink(created);
    ck_assert_int_eq(rmdir(dir), 0); /* nothing else (no temporary) left */
    rnn_model_destroy(m);
}
END_TEST

/* Entries of dir other than those named in keep (NULL-terminated). */
static int count_others(const char *dir, const char *const *keep)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        int known = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
        for (int k = 0; keep[k] && !known; k++)
            known = !strcmp(e->d_name, keep[k]);
        n += !known;
    }
    closedir(d);
    return n;
}

static void touch(const char *dir, const char *name)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "partial", 7), 7);
    close(fd);
}

/* A save killed before its rename left model.rnn.tmp-* behind (33 of 50
 * kills). A save now removes the temporaries of its target that no live save
 * holds locked, and nothing else. */
START_TEST(stale_temporaries_are_removed)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    char dir[] = "/tmp/librnn-stale-XXXXXX", path[160], p[160];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.rnn", dir);
    touch(dir, "model.rnn.tmp-AbCd12"); /* a dead save's */
    touch(dir, "model.rnn.tmp-Locked"); /* a live save's: locked */
    touch(dir, "model.rnn.tmp-abc");    /* not a temporary name */
    touch(dir, "other.rnn.tmp-AbCd12"); /* another target's */
    snprintf(p, sizeof p, "%s/model.rnn.tmp-Locked", dir);
    int held = open(p, O_RDONLY);
    ck_assert_int_ge(held, 0);
    ck_assert_int_eq(flock(held, LOCK_EX), 0);
    snprintf(p, sizeof p, "%s/other.rnn.tmp-AbCd12", dir);
    char ln[160];
    snprintf(ln, sizeof ln, "%s/model.rnn.tmp-Symlnk", dir); /* a link is never followed */
    ck_assert_int_eq(symlink(p, ln), 0);
    ck_ok(rnn_model_save(m, path));
    static const char *const left[] = {"model.rnn", "model.rnn.tmp-Locked", "model.rnn.tmp-abc",
                                       "other.rnn.tmp-AbCd12", "model.rnn.tmp-Symlnk", NULL};
    ck_assert_int_eq(count_others(dir, left), 0);
    snprintf(p, sizeof p, "%s/model.rnn.tmp-AbCd12", dir);
    ck_assert_int_ne(access(p, F_OK), 0);
    for (int k = 1; left[k]; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, left[k]);
        ck_assert_msg(access(p, F_OK) == 0 || k == 4, "%s was removed", left[k]);
    }
    close(held);
    ck_ok(rnn_model_save(m, path)); /* no longer held: removed */
    static const char *const after[] = {"model.rnn", "model.rnn.tmp-abc", "other.rnn.tmp-AbCd12",
                                        "model.rnn.tmp-Symlnk", NULL};
    ck_assert_int_eq(count_others(dir, after), 0);
    for (int k = 0; after[k]; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, after[k]);
        ck_assert_int_eq(unlink(p), 0);
    }
    ck_assert_int_eq(rmdir(dir), 0);
    rnn_model_destroy(m);
}
END_TEST

/* Saves killed at random moments leave the previous file or the new one,
 * and no temporary once the next save has run (none at all where the file
 * system has O_TMPFILE). */
START_TEST(killed_saves_leave_no_temporaries)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    char dir[] = "/tmp/librnn-kill-XXXXXX", path[160];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.rnn", dir);
    ck_ok(rnn_model_save(m, path));
    for (int round = 0; round < 20; round++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            for (;;)
                if (rnn_model_save(m, path))
                    _exit(1);
        }
        usleep(2000 + (useconds_t)(round * 1777 % 9000));
        kill(pid, SIGKILL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFSIGNALED(status));
        rnn_model *back = NULL;
        ck_ok(rnn_model_load(path, NULL, &back));
        rnn_model_destroy(back);
    }
    ck_ok(rnn_model_save(m, path));
    static const char *const left[] = {"model.rnn", NULL};
    ck_assert_int_eq(count_others(dir, left), 0);
    unlink(path);
    ck_assert_int_eq(rmdir(dir), 0);
    rnn_model_destroy(m);
}
END_TEST

/* Replaces the first `from` in the header of the model file at path by `to`
 * (any lengths: the header is re-padded and its size rewritten). */
static void edit_header(const char *path, const char *from, const char *to)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16], out[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | (unsigned char)buf[i];
    ck_assert_uint_le(8 + hlen, n);
    char keep = buf[8 + hlen];
    buf[8 + hlen] = 0;
    char *at = strstr(buf + 8, from);
    buf[8 + hlen] = keep;
    ck_assert_msg(at != NULL, "%s is not in the header", from);
    const size_t fl = strlen(from), tl = strlen(to);
    size_t used = hlen;
    while (used > 0 && buf[8 + used - 1] == ' ')
        used--; /* the old padding */
    const size_t len = used - fl + tl, nh = (len + 7) & ~(size_t)7;
    const size_t pre = (size_t)(at - (buf + 8));
    memcpy(out + 8, buf + 8, pre);
    memcpy(out + 8 + pre, to, tl);
    memcpy(out + 8 + pre + tl, at + fl, used - pre - fl);
    memset(out + 8 + len, ' ', nh - len);
    for (int i = 0; i < 8; i++)
        out[i] = (char)(nh >> (8 * i));
    memcpy(out + 8 + nh, buf + 8 + hlen, n - 8 - hlen);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(out, 1, 8 + nh + n - 8 - hlen, f), 8 + nh + n - 8 - hlen);
    fclose(f);
}

/* Files need not carry a checksum (another writer's, or a hostile one that
 * dropped it): the structural checks must hold without it. */
static void drop_checksum(const char *path)
{
    edit_header(path, "\"checksum\":", "\"not_a_checksum\":");
}

/* Two dense layers without bias: two kernels of 16 bytes, saved at path. */
static void save_two_kernels(const char *path)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t shape[1] = {2};
    ck_ok(rnn_model_add_input(m, RNN_F32, 1, shape, NULL));
    rnn_dense_options d;
    rnn_dense_options_init(&d);
    d.units = 2;
    d.use_bias = 0;
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    ck_ok(rnn_model_add_dense(m, &d, NULL));
    ck_ok(rnn_model_save(m, path));
    rnn_model_destroy(m);
}

/* A file whose two tensors name the same bytes loaded as RNN_OK. */
START_TEST(overlapping_tensors_are_refused)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/librnn-overlap-%ld.rnn", (long)getpid());
    save_two_kernels(path);
    edit_header(path, "[16,32]", "[0,16]"); /* dense_1/kernel: dense/kernel's bytes */
    drop_checksum(path);
    rnn_model *back = NULL;
    ck_rnn(rnn_model_load(path, NULL, &back), RNN_ERR_FORMAT);
    ck_errmsg("two tensors share bytes 0..16 of the data");
    ck_assert_ptr_null(back);
    unlink(path);
}
END_TEST

/* Two same-shaped tensors with their offsets swapped in the header loaded
 * each other's weights as RNN_OK: the checksum covered the data in file order
 * but not which tensor names which bytes. */
START_TEST(swapped_tensor_offsets_are_refused)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/librnn-swap-%ld.rnn", (long)getpid());
    save_two_kernels(path);
    edit_header(path, "[0,16]", "[X]");
    edit_header(path, "[16,32]", "[0,16]");
    edit_header(path, "[X]", "[16,32]");
    rnn_model *back = NULL;
    ck_rnn(rnn_model_load(path, NULL, &back), RNN_ERR_FORMAT);
    ck_errmsg("the checksum does not match");
    ck_assert_ptr_null(back);
    unlink(path);
}
END_TEST

/* A tensor entry the model does not read (here aliasing another's bytes, as
 * other safetensors readers would load it) loaded as RNN_OK. */
START_TEST(unread_tensor_entries_are_refused)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    char path[64];
    snprintf(path, sizeof path, "/tmp/librnn-extra-%ld.rnn", (long)getpid());
    ck_ok(rnn_model_save(m, path));
    rnn_model_destroy(m);
    edit_header(path, "{", "{\"zz/alias\":{\"dtype\":\"F32\",\"shape\":[4],"
                           "\"data_offsets\":[0,16]},");
    rnn_model *back = NULL;
    ck_rnn(rnn_model_load(path, NULL, &back), RNN_ERR_FORMAT);
    ck_errmsg("the checksum does not match"); /* an edited header */
    drop_checksum(path);
    ck_rnn(rnn_model_load(path, NULL, &back), RNN_ERR_FORMAT);
    ck_errmsg("the header lists 6 tensors, the model reads 5");
    ck_assert_ptr_null(back);
    unlink(path);
}
END_TEST



/* What the API builds must save and load: an input of 3e9 steps or 2e7
 * features, or more than 4096 layers, used to be accepted and then refused
 * by load. */
START_TEST(limits_are_those_of_the_file)
{
    rnn_model *m;
    ck_ok(rnn_model_create(NULL, &m));
    int64_t steps[2] = {3000000000LL, 4}, feats[1] = {20000000};
    ck_rnn(rnn_model_add_input(m, RNN_F32, 2, steps, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->steps must be in 0..2147483647 (got 3000000000)");
    ck_rnn(rnn_model_add_input(m, RNN_F32, 1, feats, NULL), RNN_ERR_INVALID_ARG);
    ck_errmsg("options->features must be in 0..16777216 (got 20000000)");
    int64_t ok[1] = {2};
    ck_ok(rnn_model_add_input(m, RNN_F32, 1, ok, NULL));
    rnn_status st = RNN_OK;
    int added = 1;
    while (!st && added < 5000) {
        st = rnn_model_add_activation(m, RNN_ACT_RELU, NULL);
        added += !st;
    }
    ck_assert_int_eq(st, RNN_ERR_STATE);
    ck_assert_int_eq(added, 4096);
    ck_errmsg("the model already has 4096 layers, the most allowed");
    char path[64];
    snprintf(path, sizeof path, "/tmp/librnn-limits-%ld.rnn", (long)getpid());
    ck_ok(rnn_model_save(m, path)); /* the largest model saves and loads */
    rnn_model *back = NULL;
    ck_ok(rnn_model_load(path, NULL, &back));
    rnn_model_destroy(back);
    unlink(path);
    rnn_model_destroy(m);
}
END_TEST

/* 195 of 500 random byte flips in a saved file loaded without any error:
 * now every flip either is refused (RNN_ERR_FORMAT) or loads a model with
 * exactly the saved weights (a flip in JSON whitespace or the version text). */
START_TEST(byte_flips_never_load_other_weights)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    size_t n0, n1;
    float *want = h_snapshot(m, &n0);
    char path[64], flipped[72];
    snprintf(path, sizeof path, "/tmp/librnn-flip-%ld.rnn", (long)getpid());
    snprintf(flipped, sizeof flipped, "%s.bad", path);
    ck_ok(rnn_model_save(m, path));
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static unsigned char buf[1 << 16], bad[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof buf);
    uint64_t r = 0x9E3779B97F4A7C15ull;
    int refused = 0, same = 0;
    for (int i = 0; i < 500; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        memcpy(bad, buf, n);
        bad[(r >> 8) % n] ^= (unsigned char)(1u << (r % 8));
        f = fopen(flipped, "wb");
        ck_assert_uint_eq(fwrite(bad, 1, n, f), n);
        fclose(f);
        rnn_model *back = NULL;
        rnn_status st = rnn_model_load(flipped, NULL, &back);
        if (st) {
            ck_assert_msg(st == RNN_ERR_FORMAT, "flip %d: status %d: %s", i, (int)st,
                          rnn_last_error());
            refused++;
            continue;
        }
        float *got = h_snapshot(back, &n1);
        ck_assert_msg(n1 == n0 && memcmp(got, want, sizeof(float) * n0) == 0,
                      "flip %d at byte %llu loaded other weights", i,
                      (unsigned long long)((r >> 8) % n));
        free(got);
        same++;
        rnn_model_destroy(back);
    }
    printf("byte flips: %d refused, %d loaded the saved weights\n", refused, same);
    unlink(flipped);
    unlink(path);
    free(want);
    rnn_model_destroy(m);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("hostile");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, inf_input_never_poisons_the_weights);
    tcase_add_test(tc, nan_in_evaluation_says_what_happened);
    tcase_add_test(tc, fit_checks_every_value_before_training);
    tcase_add_test(tc, fit_checks_sequence_labels_and_ids);
    tcase_add_test(tc, numeric_failure_names_the_samples);
    tcase_add_test(tc, loading_a_fifo_does_not_block);
    tcase_add_test(tc, iterator_without_tensor_and_unknown_dtype);
    tcase_add_test(tc, huge_batch_size_is_one_batch);
    tcase_add_test(tc, save_through_a_symlink_writes_its_target);
    tcase_add_test(tc, stale_temporaries_are_removed);
    tcase_add_test(tc, killed_saves_leave_no_temporaries);
    tcase_add_test(tc, overlapping_tensors_are_refused);
    tcase_add_test(tc, unread_tensor_entries_are_refused);
    tcase_add_test(tc, swapped_tensor_offsets_are_refused);
    tcase_add_test(tc, limits_are_those_of_the_file);
    tcase_add_test(tc, byte_flips_never_load_other_weights);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return rnn_test_run(hostile_suite());
}
