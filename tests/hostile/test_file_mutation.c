/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Model files cut short, mutated and replaced by things that are not files
 * (issue 15). Every load of a damaged file must return RNN_ERR_FORMAT or
 * RNN_ERR_IO with nothing allocated (rnn_memory_used() back to 0), never a
 * crash, a hang or RNN_OK with other weights or another architecture.
 *
 * Under the valgrind setup (RNN_UNDER_VALGRIND=1) every 17th truncation
 * length and 150 mutations per file are tried instead of all lengths and
 * 1,500 mutations per file; RNN_HOSTILE_MUTATIONS=n sets the mutation count.
 */
#include "hostile_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef struct saved {
    unsigned char *bytes;
    size_t size;
    float *weights;
    size_t n_weights;
    char summary[4096];
    int compiled;
} saved;

static char dir[64];

static void path_in_dir(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* A new file each time: truncating one that has data makes ext4 flush it at
 * close (auto_da_alloc), 10x slower with other I/O going on. */
static void write_all(const char *path, const unsigned char *b, size_t n)
{
    unlink(path);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n)
        ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* A trained small model saved with @p flags; what it holds is kept to
 * compare loaded models with. */
static void save_model(saved *s, unsigned flags)
{
    rnn_model *m = h_seq_model(1, NULL, NULL);
    rnn_tensor *x = h_tensor(RNN_F32, 3, 2, 4, 3), *y = h_tensor(RNN_I32, 1, 2);
    const rnn_tensor *in[1] = {x};
    ck_ok(rnn_model_train_step(m, 1, in, NULL, y, NULL, NULL)); /* optimizer moments != 0 */
    char p[128];
    path_in_dir(p, sizeof p, "saved.rnn");
    ck_ok(rnn_model_save_ex(m, p, flags));
    s->bytes = read_all(p, &s->size);
    s->weights = h_snapshot(m, &s->n_weights);
    ck_ok(rnn_model_summary(m, s->summary, sizeof s->summary, NULL));
    s->compiled = (flags & RNN_SAVE_OPTIMIZER) != 0;
    unlink(p);
    rnn_tensor_destroy(x);
    rnn_tensor_destroy(y);
    rnn_model_destroy(m);
}

static void free_saved(saved *s)
{
    free(s->bytes);
    free(s->weights);
}

/* Loads @p path: refused with FORMAT/IO and nothing live, or exactly the
 * saved model. Returns 1 when refused. */
static int load_check(const char *path, const saved *s, const char *what, long k)
{
    rnn_model *m = (rnn_model *)(uintptr_t)0x5a5a;
    rnn_status st = rnn_model_load(path, NULL, &m);
    if (st) {
        ck_assert_msg(st == RNN_ERR_FORMAT || st == RNN_ERR_IO, "%s %ld: status %d: %s", what, k,
                      (int)st, rnn_last_error());
        ck_assert_msg(m == NULL, "%s %ld: out not reset", what, k);
        ck_assert_msg(strncmp(rnn_last_error(), "rnn_model_load: ", 16) == 0, "%s %ld: %s", what,
                      k, rnn_last_error());
        ck_assert_msg(rnn_memory_used() == 0, "%s %ld: %zu bytes left after a refused load",
                      what, k, rnn_memory_used());
        return 1;
    }
    size_t n;
    float *w = h_snapshot(m, &n);
    ck_assert_msg(n == s->n_weights && memcmp(w, s->weights, n * sizeof(float)) == 0,
                  "%s %ld: loaded other weights", what, k);
    char summary[4096];
    ck_ok(rnn_model_summary(m, summary, sizeof summary, NULL));
    ck_assert_msg(strcmp(summary, s->summary) == 0, "%s %ld: loaded another architecture", what,
                  k);
    rnn_optimizer *opt;
    ck_assert_msg((rnn_model_optimizer(m, &opt) == RNN_OK) == s->compiled,
                  "%s %ld: compiled state differs", what, k);
    free(w);
    rnn_model_destroy(m);
    return 0;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/librnn-mut-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char p[128];
    const char *names[] = {"saved.rnn", "bad.rnn", "fifo", "gone.rnn", "link.rnn", "sub"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        path_in_dir(p, sizeof p, names[i]);
        if (unlink(p) != 0)
            rmdir(p);
    }
    ck_assert_msg(rmdir(dir) == 0, "%s is not empty: %s", dir, strerror(errno));
}

/* Every truncation 0..size-1, with and without the optimizer. */
START_TEST(every_truncation_is_refused)
{
    char bad[128];
    path_in_dir(bad, sizeof bad, "bad.rnn");
    const int stride = hostile_slow_runner() ? 17 : 1;
    for (unsigned flags = 0; flags <= RNN_SAVE_OPTIMIZER; flags++) {
        saved s;
        save_model(&s, flags);
        ck_assert_int_eq(load_check(bad, &s, "(missing)", -1), 1);
        write_all(bad, s.bytes, s.size);
        ck_assert_int_eq(load_check(bad, &s, "the whole file", 0), 0);
        long tried = 0;
        for (size_t len = 0; len < s.size; len += (len < 16 ? 1 : (size_t)stride)) {
            write_all(bad, s.bytes, len);
            ck_assert_msg(load_check(bad, &s, "truncation to", (long)len) == 1,
                          "a truncation to %zu of %zu bytes loaded", len, s.size);
            tried++;
        }
        printf("flags %u: %zu bytes, %ld truncations refused\n", flags, s.size, tried);
        free_saved(&s);
    }
}
END_TEST

/* Seeded random byte flips, byte overwrites, insertions and deletions. */
START_TEST(random_mutations_are_refused_or_harmless)
{
    char bad[128];
    path_in_dir(bad, sizeof bad, "bad.rnn");
    int count = hostile_slow_runner() ? 150 : 1500;
    const char *env = getenv("RNN_HOSTILE_MUTATIONS");
    if (env && atoi(env) > 0)
        count = atoi(env);
    uint64_t r = 0x2545F4914F6CDD1Dull;
    for (unsigned flags = 0; flags <= RNN_SAVE_OPTIMIZER; flags++) {
        saved s;
        save_model(&s, flags);
        unsigned char *b = malloc(s.size + 64);
        int refused = 0, same = 0;
        for (int i = 0; i < count; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            size_t at = (size_t)(r >> 16) % s.size, n = s.size;
            int kind = (int)(r & 3), len = 1 + (int)((r >> 8) % 8);
            memcpy(b, s.bytes, s.size);
            switch (kind) {
            case 0: /* one bit */
                b[at] ^= (unsigned char)(1u << ((r >> 4) % 8));
                break;
            case 1: /* a byte set to a value parsers care about */
                b[at] = (unsigned char)"\0\xff\"{}[],:0123456789-e."[(r >> 4) % 23];
                break;
            case 2: /* len bytes inserted */
                memmove(b + at + len, b + at, s.size - at);
                for (int j = 0; j < len; j++)
                    b[at + (size_t)j] = (unsigned char)(r >> (8 * (j % 8)));
                n += (size_t)len;
                break;
            default: /* len bytes deleted */
                if (at + (size_t)len > s.size)
                    len = (int)(s.size - at);
                memmove(b + at, b + at + len, s.size - at - (size_t)len);
                n -= (size_t)len;
                break;
            }
            write_all(bad, b, n);
            if (load_check(bad, &s, "mutation", i))
                refused++;
            else
                same++;
        }
        printf("flags %u: %d mutations: %d refused, %d loaded the saved model exactly\n", flags,
               count, refused, same);
        free(b);
        free_saved(&s);
    }
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
    _exit(3); /* a load blocked */
}

static void expect_io(const char *path, const char *what, const char *msg)
{
    const size_t live = rnn_memory_used();
    rnn_model *m = (rnn_model *)(uintptr_t)0x5a5a;
    rnn_status st = rnn_model_load(path, NULL, &m);
    ck_assert_msg(st == RNN_ERR_IO, "%s: status %d: %s", what, (int)st, rnn_last_error());
    ck_assert_ptr_null(m);
    ck_assert_msg(strncmp(rnn_last_error(), "rnn_model_load: ", 16) == 0, "%s", rnn_last_error());
    if (msg)
        ck_assert_msg(strstr(rnn_last_error(), msg) != NULL, "%s: \"%s\" lacks \"%s\"", what,
                      rnn_last_error(), msg);
    ck_assert_uint_eq(rnn_memory_used(), live);
}

/* A directory, /dev/null, /dev/zero, a FIFO (no writer: must not block), a
 * file that disappeared, a dangling symbolic link, a path too long, an
 * unreadable file. */
START_TEST(things_that_are_not_model_files)
{
    signal(SIGALRM, on_alarm);
    alarm(20);
    char p[128];
    path_in_dir(p, sizeof p, "sub");
    ck_assert_int_eq(mkdir(p, 0700), 0);
    expect_io(p, "a directory", "not a regular file");
    expect_io("/dev/null", "/dev/null", "not a regular file");
    expect_io("/dev/zero", "/dev/zero", "not a regular file");
    path_in_dir(p, sizeof p, "fifo");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    expect_io(p, "a FIFO", "not a regular file");
    /* A file that disappears: saved, then removed before the load. */
    rnn_model *m = h_seq_model(0, NULL, NULL);
    path_in_dir(p, sizeof p, "gone.rnn");
    ck_ok(rnn_model_save(m, p));
    ck_assert_int_eq(unlink(p), 0);
    expect_io(p, "a file removed", NULL);
    char link[128];
    path_in_dir(link, sizeof link, "link.rnn");
    ck_assert_int_eq(symlink(p, link), 0);
    expect_io(link, "a dangling symbolic link", NULL);
    /* Longer than PATH_MAX, and a component longer than NAME_MAX. */
    size_t n = PATH_MAX + 100;
    char *longp = malloc(n + 1);
    memset(longp, 'a', n);
    longp[0] = '/';
    longp[n] = 0;
    expect_io(longp, "a path longer than PATH_MAX", NULL);
    ck_rnn(rnn_model_save(m, longp), RNN_ERR_IO);
    ck_errmsg("rnn_model_save: ");
    snprintf(longp, 300, "%s/", dir);
    memset(longp + strlen(longp), 'b', 280);
    longp[strlen(dir) + 1 + 280] = 0;
    expect_io(longp, "a name longer than NAME_MAX", NULL);
    ck_rnn(rnn_model_save(m, longp), RNN_ERR_IO);
    free(longp);
    /* Unreadable: root reads anything, so the probe means nothing there. */
    path_in_dir(p, sizeof p, "gone.rnn");
    ck_ok(rnn_model_save(m, p));
    ck_assert_int_eq(chmod(p, 0), 0);
    if (geteuid() == 0) {
        printf("running as root: the unreadable-file probe is skipped\n");
    } else {
        expect_io(p, "an unreadable file", NULL);
    }
    rnn_model_destroy(m);
    alarm(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("file-mutation");
    TCase *tc = tcase_create("file-mutation");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_truncation_is_refused);
    tcase_add_test(tc, random_mutations_are_refused_or_harmless);
    tcase_add_test(tc, things_that_are_not_model_files);
    suite_add_tcase(s, tc);
    return rnn_test_run(s);
}
