/* SPDX-License-Identifier: Apache-2.0 */
/* librnn-mpi: an rnn_collective (rnn/collective.h) on an MPI communicator.
 *
 * Sums are MPI_Iallreduce in place, cut into chunks of at most CHUNK floats
 * (MPI counts are ints); a logical request holds its chunks' MPI requests.
 * Open MPI progresses non-blocking collectives only inside MPI calls, so
 * starting a sum first tests every sum still in flight: the gradient buckets
 * of the upper layers move on while the backward of the lower ones runs.
 * Waits poll with MPI_Testall, for 20 us without pause (small sums on shared
 * memory end within it), then sleeping in between (10 us growing to 50 us in
 * the first 50 ms, to 1 ms afterwards: a sum moves on only while polled),
 * and give up after the timeout: MPI cannot cancel a collective, so the
 * handle is then "broken": its requests are abandoned, every later operation
 * fails at once, and destroy frees nothing of MPI's.
 *
 * A progress thread (rnn_mpi_options.progress_us, RNN_MPI_PROGRESS; by
 * default when MPI's thread level allows it) tests the sums in flight every
 * progress_us microseconds while any is, and sleeps on a condition variable
 * otherwise, so that a sum moves on while a layer's backward runs (librnn
 * makes no MPI call then). Every MPI call of the handle is then made under
 * its mutex (MPI_THREAD_SERIALIZED suffices); the calling thread holds it
 * throughout a callback but for the sleeps of its waits. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <pthread.h>
#include <rnn/mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Elements per MPI call: well inside an int, and 1 GiB of floats. */
#define CHUNK ((int64_t)1 << 28)
/* Bytes per MPI_Ibcast call. */
#define BCAST_CHUNK ((int64_t)1 << 30)
#define TIMEOUT_DEFAULT 120.0
#define TIMEOUT_MAX 1e6
#define SLEEP_MIN_NS 10000L   /* 10 us */
#define SLEEP_FAST_NS 50000L  /* 50 us: the longest sleep in the first 50 ms */
#define SLEEP_MAX_NS 1000000L /* 1 ms: afterwards */
#define SLOW_AFTER_SECONDS 0.05
#define SPIN_SECONDS 20e-6    /* polls without sleeping, at the start of a wait */
#define PROGRESS_US_MAX 1000000
#define PROGRESS_US_AUTO 50 /* RNN_MPI_PROGRESS_AUTO's interval */

/* The codes the callbacks return (rnn_collective: nonzero = failure). */
enum { E_MPI = 1, E_TIMEOUT = 2, E_BROKEN = 3, E_NOMEM = 4, E_ARG = 5 };

typedef struct req {
    struct req *next;   /* in mpi->pending, or in mpi->free_reqs */
    int n;              /* MPI requests in use */
    int cap;
    MPI_Request *r;
    int done;           /* every MPI request completed (seen by a test) */
    double started;
    int64_t bytes;
} req;

struct rnn_mpi {
    MPI_Comm comm;
    int rank, size;
    int finalize;       /* rnn_mpi_create_world initialized MPI */
    int broken;         /* an operation failed or timed out */
    double timeout;
    rnn_collective coll;
    req *pending;       /* started, not yet waited for */
    req *free_reqs;
    rnn_mpi_stats st;
    char msg[640];      /* the last failure, for error_message() */
    /* the progress thread; mu guards everything above while it runs */
    int progress_us;
    int threaded;       /* the thread runs: lock() and unlock() take mu */
    int quit;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void lock(rnn_mpi *m)
{
    if (m->threaded)
        pthread_mutex_lock(&m->mu);
}

static void unlock(rnn_mpi *m)
{
    if (m->threaded)
        pthread_mutex_unlock(&m->mu);
}

static void sleep_ns(long ns)
{
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static rnn_status fail(rnn_status st, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cb_fail(rnn_mpi *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static rnn_status fail(rnn_status st, const char *fn, const char *fmt, ...)
{
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return rnn_set_last_error(st, fn, m);
}

static void mpi_text(int code, char *buf, size_t size)
{
    char s[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(code, s, &len) != MPI_SUCCESS)
        len = 0;
    s[len < 0 ? 0 : len > MPI_MAX_ERROR_STRING ? MPI_MAX_ERROR_STRING : len] = 0;
    snprintf(buf, size, "%s (MPI error %d)", len > 0 ? s : "unknown error", code);
}

/* Records a callback's failure in m->msg and returns its code. */
static int cb_fail(rnn_mpi *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->msg, sizeof m->msg, fmt, ap);
    va_end(ap);
    if (code != E_ARG)
        m->broken = 1;
    return code;
}

static int cb_mpi_fail(rnn_mpi *m, const char *call, int rc)
{
    char t[MPI_MAX_ERROR_STRING + 64];
    mpi_text(rc, t, sizeof t);
    return cb_fail(m, E_MPI, "%s failed on rank %d of %d: %s", call, m->rank, m->size, t);
}

static int cb_broken(rnn_mpi *m)
{
    /* keep the first failure's text: it says what went wrong */
    if (!strstr(m->msg, "an earlier operation failed")) {
        char first[sizeof m->msg];
        memcpy(first, m->msg, sizeof first);
        snprintf(m->msg, sizeof m->msg, "the communicator is unusable: an earlier operation "
                 "failed (%.500s)", first);
    }
    return E_BROKEN;
}

/* ------------------------------------------------------------ requests */

static req *req_get(rnn_mpi *m, int n)
{
    req *q = m->free_reqs;
    if (q)
        m->free_reqs = q->next;
    else if (!(q = calloc(1, sizeof *q)))
        return NULL;
    if (q->cap < n) {
        MPI_Request *r = realloc(q->r, sizeof *r * (size_t)n);
        if (!r) {
            q->next = m->free_reqs;
            m->free_reqs = q;
            return NULL;
        }
        q->r = r;
        q->cap = n;
    }
    q->n = n;
    q->done = 0;
    for (int k = 0; k < n; k++)
        q->r[k] = MPI_REQUEST_NULL;
    q->next = NULL;
    return q;
}

static void req_unlink(rnn_mpi *m, req *q)
{
    for (req **p = &m->pending; *p; p = &(*p)->next)
        if (*p == q) {
            *p = q->next;
            break;
        }
    q->next = m->free_reqs;
    m->free_reqs = q;
}

static int req_is_pending(const rnn_mpi *m, const req *q)
{
    for (const req *p = m->pending; p; p = p->next)
        if (p == q)
            return 1;
    return 0;
}

/* Tests q once: 1 complete, 0 not yet, < 0 an MPI error (returned code). */
static int req_test(rnn_mpi *m, req *q, const char *call)
{
    if (q->done)
        return 1;
    int flag = 0;
    int rc = MPI_Testall(q->n, q->r, &flag, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS)
        return -cb_mpi_fail(m, call, rc);
    q->done = flag != 0;
    return q->done;
}

/* Moves every sum in flight on (Open MPI progresses inside MPI calls only). */
static int progress_pending(rnn_mpi *m)
{
    for (req *q = m->pending; q; q = q->next) {
        int t = req_test(m, q, "MPI_Testall");
        if (t < 0)
            return -t;
    }
    return 0;
}

/* Waits for q within the timeout, sleeping between tests. 0, or a code. */
static int req_wait(rnn_mpi *m, req *q, const char *what, int *at_once)
{
    const double t0 = now();
    long sleep_ns_now = SLEEP_MIN_NS;
    *at_once = 0;
    for (int first = 1;; first = 0) {
        int t = req_test(m, q, "MPI_Testall");
        if (t < 0)
            return -t;
        if (t) {
            *at_once = first;
            return 0;
        }
        double waited = now() - t0;
        if (waited > m->timeout)
            return cb_fail(m, E_TIMEOUT,
                           "%s: no answer from the other ranks within %g s (rank %d of %d "
                           "waited %.1f s): a rank died, failed outside librnn, or stopped "
                           "calling the training functions (timeout: rnn_mpi_options."
                           "timeout_seconds or RNN_MPI_TIMEOUT)",
                           what, m->timeout, m->rank, m->size, waited);
        if (waited < SPIN_SECONDS)
            continue; /* small sums end within a few microseconds */
        unlock(m); /* the progress thread tests meanwhile */
        sleep_ns(sleep_ns_now);
        lock(m);
        /* Open MPI moves a sum on only inside MPI calls: polls stay frequent
         * while a sum may still be flowing, and space out in long waits (a
         * rank that computes longer, a validation pass) */
        const long cap = waited < SLOW_AFTER_SECONDS ? SLEEP_FAST_NS : SLEEP_MAX_NS;
        sleep_ns_now = sleep_ns_now * 3 / 2 > cap ? cap : sleep_ns_now * 3 / 2;
    }
}

/* A sum the progress thread should move on: started, not seen complete. */
static int in_flight(const rnn_mpi *m)
{
    for (const req *q = m->pending; q; q = q->next)
        if (!q->done)
            return 1;
    return 0;
}

/* The progress thread: while a sum is in flight, tests them all every
 * progress_us microseconds (each MPI_Testall runs Open MPI's progress
 * engine); otherwise sleeps until a sum starts or the handle goes. An MPI
 * error breaks the handle as the calling thread's would (its next wait
 * reports it). */
static void *progress_main(void *arg)
{
    rnn_mpi *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->quit) {
        if (m->broken || !in_flight(m)) {
            pthread_cond_wait(&m->cv, &m->mu);
            continue;
        }
        for (req *q = m->pending; q && !m->broken; q = q->next)
            if (!q->done) {
                m->st.progress_tests++;
                if (req_test(m, q, "MPI_Testall (progress thread)") > 0)
                    m->st.completed_by_progress++;
            }
        pthread_mutex_unlock(&m->mu);
        sleep_ns(1000L * (long)m->progress_us);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ------------------------------------------------------------ callbacks */

static int allreduce_locked(rnn_mpi *m, float *data, int64_t count, void **request)
{
    if (m->broken)
        return cb_broken(m);
    if (!data || count < 1 || !request)
        return cb_fail(m, E_ARG, "allreduce_sum: %s", !request ? "request is NULL"
                       : !data ? "data is NULL" : "count must be >= 1");
    int rc = progress_pending(m);
    if (rc)
        return rc;
    const int64_t chunks = (count + CHUNK - 1) / CHUNK;
    if (chunks > INT_MAX)
        return cb_fail(m, E_ARG, "allreduce_sum: count %lld is too large",
                       (long long)count);
    req *q = req_get(m, (int)chunks);
    if (!q)
        return cb_fail(m, E_NOMEM, "allreduce_sum: out of memory");
    for (int64_t c = 0; c < chunks; c++) {
        int64_t off = c * CHUNK, n = count - off < CHUNK ? count - off : CHUNK;
        rc = MPI_Iallreduce(MPI_IN_PLACE, data + off, (int)n, MPI_FLOAT, MPI_SUM, m->comm,
                            &q->r[c]);
        if (rc != MPI_SUCCESS) {
            /* earlier chunks are in flight and cannot be cancelled: abandon q */
            q->next = m->pending;
            m->pending = q;
            return cb_mpi_fail(m, "MPI_Iallreduce", rc);
        }
    }
    q->started = now();
    q->bytes = count * (int64_t)sizeof(float);
    q->next = m->pending;
    m->pending = q;
    m->st.allreduces++;
    m->st.allreduce_bytes += q->bytes;
    *request = q;
    if (m->threaded)
        pthread_cond_signal(&m->cv); /* a sum to move on */
    return 0;
}

static int cb_allreduce(void *user, float *data, int64_t count, void **request)
{
    rnn_mpi *m = user;
    if (request)
        *request = NULL;
    lock(m);
    const int rc = allreduce_locked(m, data, count, request);
    unlock(m);
    return rc;
}

static int wait_locked(rnn_mpi *m, req *q)
{
    if (!req_is_pending(m, q))
        return cb_fail(m, E_ARG, "wait: not a request in flight (waited for twice?)");
    if (m->broken) {
        req_unlink(m, q); /* abandoned: its MPI requests are never completed */
        return cb_broken(m);
    }
    const double t0 = now();
    m->st.inflight_seconds += t0 - q->started;
    int at_once = 0;
    int rc = req_wait(m, q, "allreduce_sum", &at_once);
    m->st.wait_seconds += now() - t0;
    req_unlink(m, q);
    if (rc)
        return rc;
    m->st.completed_before_wait += at_once;
    return 0;
}

static int cb_wait(void *user, void *request)
{
    rnn_mpi *m = user;
    if (!request)
        return 0;
    lock(m);
    const int rc = wait_locked(m, request);
    unlock(m);
    return rc;
}

static int broadcast_locked(rnn_mpi *m, void *data, int64_t bytes, int root)
{
    if (m->broken)
        return cb_broken(m);
    if (bytes < 0 || (bytes > 0 && !data) || root < 0 || root >= m->size)
        return cb_fail(m, E_ARG, "broadcast: bad arguments (bytes %lld, root %d of %d)",
                       (long long)bytes, root, m->size);
    if (bytes == 0)
        return 0;
    int rc = progress_pending(m);
    if (rc)
        return rc;
    const int64_t chunks = (bytes + BCAST_CHUNK - 1) / BCAST_CHUNK;
    req *q = req_get(m, (int)chunks);
    if (!q)
        return cb_fail(m, E_NOMEM, "broadcast: out of memory");
    q->next = m->pending;
    m->pending = q;
    const double t0 = now();
    for (int64_t c = 0; c < chunks; c++) {
        int64_t off = c * BCAST_CHUNK, n = bytes - off < BCAST_CHUNK ? bytes - off : BCAST_CHUNK;
        rc = MPI_Ibcast((char *)data + off, (int)n, MPI_BYTE, root, m->comm, &q->r[c]);
        if (rc != MPI_SUCCESS)
            return cb_mpi_fail(m, "MPI_Ibcast", rc);
    }
    int at_once;
    rc = req_wait(m, q, "broadcast", &at_once);
    req_unlink(m, q);
    m->st.broadcast_seconds += now() - t0;
    if (rc)
        return rc;
    m->st.broadcasts++;
    m->st.broadcast_bytes += bytes;
    return 0;
}

static int cb_broadcast(void *user, void *data, int64_t bytes, int root)
{
    rnn_mpi *m = user;
    lock(m);
    const int rc = broadcast_locked(m, data, bytes, root);
    unlock(m);
    return rc;
}

static const char *cb_message(void *user, int code)
{
    rnn_mpi *m = user;
    if (m && m->msg[0])
        return m->msg; /* the progress thread writes it only as it breaks the handle */
    switch (code) {
    case E_TIMEOUT: return "no answer from the other ranks within the timeout";
    case E_BROKEN: return "the communicator is unusable after an earlier failure";
    case E_NOMEM: return "out of memory";
    case E_ARG: return "bad arguments";
    default: return "MPI call failed";
    }
}

/* ------------------------------------------------------------ public API */

void rnn_mpi_options_init(rnn_mpi_options *options)
{
    if (!options)
        return;
    memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->timeout_seconds = TIMEOUT_DEFAULT;
    options->flags = 0;
    options->progress_us = RNN_MPI_PROGRESS_AUTO;
}

/* What the options and the environment (RNN_MPI_TIMEOUT, RNN_MPI_PROGRESS) ask for. */
typedef struct resolved {
    double timeout;
    unsigned flags;
    int progress_us;       /* RNN_MPI_PROGRESS_AUTO, 0, or the interval */
    int progress_from_env;
} resolved;

/* A number in [lo, hi] from the environment variable name; 0 when unset,
 * 1 when read into *out, -1 (error set under fn) when malformed. */
static int env_number(const char *fn, const char *name, double lo, double hi, int lo_open,
                      const char *unit, double *out)
{
    const char *env = getenv(name);
    if (!env || !*env)
        return 0;
    char *end = NULL;
    errno = 0;
    const double t = strtod(env, &end);
    if (errno || end == env || *end || !(lo_open ? t > lo : t >= lo) || !(t <= hi)) {
        fail(RNN_ERR_INVALID_ARG, fn, "the environment variable %s must be a number of %s in "
             "%c%g, %g] (got \"%.40s\")", name, unit, lo_open ? '(' : '[', lo, hi, env);
        return -1;
    }
    *out = t;
    return 1;
}

static rnn_status resolve_options(const char *fn, const rnn_mpi_options *o, resolved *r)
{
    rnn_mpi_options d;
    rnn_mpi_options_init(&d);
    if (o) {
        if (o->struct_size != sizeof *o)
            return fail(RNN_ERR_INVALID_ARG, fn, "options->struct_size must be %zu "
                        "(rnn_mpi_options_init) (got %u)", sizeof *o, (unsigned)o->struct_size);
        d = *o;
    }
    if (!(d.timeout_seconds > 0 && d.timeout_seconds <= TIMEOUT_MAX))
        return fail(RNN_ERR_INVALID_ARG, fn, "options->timeout_seconds must be in (0, %g] "
                    "(got %g)", TIMEOUT_MAX, d.timeout_seconds);
    if (d.flags & ~RNN_COLLECTIVE_NO_OVERLAP)
        return fail(RNN_ERR_INVALID_ARG, fn, "options->flags must be 0 or "
                    "RNN_COLLECTIVE_NO_OVERLAP (got %#x)", d.flags);
    if (d.progress_us != RNN_MPI_PROGRESS_AUTO &&
        !(d.progress_us >= 0 && d.progress_us <= PROGRESS_US_MAX))
        return fail(RNN_ERR_INVALID_ARG, fn, "options->progress_us must be "
                    "RNN_MPI_PROGRESS_AUTO (-1) or in [0, %d] (got %d)", PROGRESS_US_MAX,
                    d.progress_us);
    double t;
    int e = env_number(fn, "RNN_MPI_TIMEOUT", 0, TIMEOUT_MAX, 1, "seconds", &t);
    if (e < 0)
        return RNN_ERR_INVALID_ARG; /* env_number set the message */
    if (e)
        d.timeout_seconds = t;
    r->progress_from_env = e = env_number(fn, "RNN_MPI_PROGRESS", -1, PROGRESS_US_MAX, 0,
                                          "microseconds (-1: auto)", &t);
    if (e < 0)
        return RNN_ERR_INVALID_ARG; /* env_number set the message */
    if (e && t != floor(t))
        return fail(RNN_ERR_INVALID_ARG, fn, "the environment variable RNN_MPI_PROGRESS must "
                    "be a whole number of microseconds (got %g)", t);
    if (e)
        d.progress_us = (int)t;
    r->timeout = d.timeout_seconds;
    r->flags = d.flags;
    r->progress_us = d.progress_us;
    return RNN_OK;
}

static rnn_status mpi_state(const char *fn)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (fin)
        return fail(RNN_ERR_STATE, fn, "MPI is already finalized");
    if (!init)
        return fail(RNN_ERR_STATE, fn, "MPI is not initialized (call MPI_Init or "
                    "MPI_Init_thread first, or use rnn_mpi_create_world)");
    return RNN_OK;
}

static const char *thread_level_name(int level)
{
    return level == MPI_THREAD_SINGLE       ? "MPI_THREAD_SINGLE"
           : level == MPI_THREAD_FUNNELED   ? "MPI_THREAD_FUNNELED"
           : level == MPI_THREAD_SERIALIZED ? "MPI_THREAD_SERIALIZED"
           : level == MPI_THREAD_MULTIPLE   ? "MPI_THREAD_MULTIPLE"
                                            : "an unknown thread level";
}

/* The progress thread needs MPI_THREAD_SERIALIZED: the error when MPI
 * provides less (provided), naming who asked for the thread. */
static rnn_status progress_refused(const char *fn, const resolved *r, int provided,
                                   int inited_here)
{
    return fail(inited_here ? RNN_ERR_UNSUPPORTED : RNN_ERR_STATE, fn,
                "%s asks for a progress thread (%d us), which needs MPI_THREAD_SERIALIZED or "
                "MPI_THREAD_MULTIPLE, but MPI %s %s; %s",
                r->progress_from_env ? "the environment variable RNN_MPI_PROGRESS"
                                     : "options->progress_us",
                r->progress_us, inited_here ? "provides only" : "was initialized with",
                thread_level_name(provided),
                inited_here ? "leave the progress thread off (0)"
                            : "initialize MPI with MPI_Init_thread(..., MPI_THREAD_SERIALIZED "
                              "or MPI_THREAD_MULTIPLE, ...), or leave the progress thread off "
                              "(0)");
}

/* Starts the handle's progress thread, testing every us microseconds. */
static rnn_status progress_start(const char *fn, rnn_mpi *m, int us)
{
    m->progress_us = us;
    if (pthread_mutex_init(&m->mu, NULL))
        return fail(RNN_ERR_NOMEM, fn, "pthread_mutex_init failed");
    if (pthread_cond_init(&m->cv, NULL)) {
        pthread_mutex_destroy(&m->mu);
        return fail(RNN_ERR_NOMEM, fn, "pthread_cond_init failed");
    }
    m->threaded = 1;
    const int e = pthread_create(&m->thread, NULL, progress_main, m);
    if (e) {
        m->threaded = 0;
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        return fail(RNN_ERR_NOMEM, fn, "cannot start the progress thread: %s", strerror(e));
    }
    return RNN_OK;
}

static void progress_stop(rnn_mpi *m)
{
    if (!m->threaded)
        return;
    pthread_mutex_lock(&m->mu);
    m->quit = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    m->threaded = 0;
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
}

static rnn_status create_on(const char *fn, MPI_Comm comm, const resolved *r, rnn_mpi **out)
{
    if (comm == MPI_COMM_NULL)
        return fail(RNN_ERR_INVALID_ARG, fn, "comm must not point to MPI_COMM_NULL");
    /* the progress thread: asked for (refused below MPI_THREAD_SERIALIZED),
     * or by default when the thread level allows it */
    int progress_us = 0;
    if (r->progress_us) {
        int provided = MPI_THREAD_SINGLE;
        MPI_Query_thread(&provided);
        if (provided >= MPI_THREAD_SERIALIZED)
            progress_us = r->progress_us == RNN_MPI_PROGRESS_AUTO ? PROGRESS_US_AUTO
                                                                  : r->progress_us;
        else if (r->progress_us != RNN_MPI_PROGRESS_AUTO)
            return progress_refused(fn, r, provided, 0);
    }
    rnn_mpi *m = calloc(1, sizeof *m);
    if (!m)
        return fail(RNN_ERR_NOMEM, fn, "out of memory");
    char t[MPI_MAX_ERROR_STRING + 64];
    int rc = MPI_Comm_dup(comm, &m->comm);
    if (rc != MPI_SUCCESS) {
        free(m);
        mpi_text(rc, t, sizeof t);
        return fail(RNN_ERR_COLLECTIVE, fn, "MPI_Comm_dup failed: %s", t);
    }
    if ((rc = MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN)) != MPI_SUCCESS ||
        (rc = MPI_Comm_rank(m->comm, &m->rank)) != MPI_SUCCESS ||
        (rc = MPI_Comm_size(m->comm, &m->size)) != MPI_SUCCESS) {
        MPI_Comm_free(&m->comm);
        free(m);
        mpi_text(rc, t, sizeof t);
        return fail(RNN_ERR_COLLECTIVE, fn, "setting up the duplicated communicator "
                    "failed: %s", t);
    }
    m->timeout = r->timeout;
    m->st.struct_size = sizeof m->st;
    m->coll = (rnn_collective){
        .struct_size = sizeof(rnn_collective),
        .user = m,
        .rank = m->rank,
        .size = m->size,
        .flags = r->flags,
        .allreduce_sum = cb_allreduce,
        .wait = cb_wait,
        .broadcast = cb_broadcast,
        .error_message = cb_message,
    };
    if (progress_us) {
        rnn_status st = progress_start(fn, m, progress_us);
        if (st) {
            MPI_Comm_free(&m->comm);
            free(m);
            return st;
        }
    }
    *out = m;
    return RNN_OK;
}

rnn_status rnn_mpi_create(const void *comm, const rnn_mpi_options *options, rnn_mpi **out)
{
    static const char FN[] = "rnn_mpi_create";
    if (out)
        *out = NULL;
    if (!comm)
        return fail(RNN_ERR_INVALID_ARG, FN, "comm must not be NULL (pass the address of an "
                    "MPI_Comm: &comm, or mpi4py's MPI._addressof(comm))");
    if (!out)
        return fail(RNN_ERR_INVALID_ARG, FN, "out must not be NULL");
    resolved r;
    rnn_status st = mpi_state(FN);
    if (st || (st = resolve_options(FN, options, &r)))
        return st;
    MPI_Comm c;
    memcpy(&c, comm, sizeof c);
    return create_on(FN, c, &r, out);
}

rnn_status rnn_mpi_create_world(const rnn_mpi_options *options, rnn_mpi **out)
{
    static const char FN[] = "rnn_mpi_create_world";
    if (out)
        *out = NULL;
    if (!out)
        return fail(RNN_ERR_INVALID_ARG, FN, "out must not be NULL");
    resolved r;
    rnn_status st = resolve_options(FN, options, &r);
    if (st)
        return st;
    int init = 0, fin = 0, inited_here = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (fin)
        return fail(RNN_ERR_STATE, FN, "MPI is already finalized");
    if (!init) {
        /* the progress thread's calls are serialized by the handle's mutex */
        const int want = r.progress_us ? MPI_THREAD_SERIALIZED : MPI_THREAD_FUNNELED;
        int provided = 0;
        int rc = MPI_Init_thread(NULL, NULL, want, &provided);
        if (rc != MPI_SUCCESS) {
            char t[MPI_MAX_ERROR_STRING + 64];
            mpi_text(rc, t, sizeof t);
            return fail(RNN_ERR_COLLECTIVE, FN, "MPI_Init_thread failed: %s", t);
        }
        if (r.progress_us > 0 && provided < want) { /* auto: without the thread */
            MPI_Finalize();
            return progress_refused(FN, &r, provided, 1);
        }
        inited_here = 1;
    }
    st = create_on(FN, MPI_COMM_WORLD, &r, out);
    if (st) {
        if (inited_here)
            MPI_Finalize();
        return st;
    }
    (*out)->finalize = inited_here;
    return RNN_OK;
}

void rnn_mpi_destroy(rnn_mpi *mpi)
{
    if (!mpi)
        return;
    progress_stop(mpi);
    /* A sum never waited for is as good as abandoned: its MPI requests
     * cannot be freed, so the communicator cannot be either. */
    int usable = !mpi->broken && !mpi->pending;
    int fin = 0;
    MPI_Finalized(&fin);
    if (usable && !fin) {
        MPI_Comm_free(&mpi->comm);
        if (mpi->finalize)
            MPI_Finalize();
    }
    for (int pass = 0; pass < 2; pass++) {
        req *q = pass ? mpi->free_reqs : mpi->pending;
        while (q) {
            req *next = q->next;
            free(q->r);
            free(q);
            q = next;
        }
    }
    free(mpi);
}

rnn_status rnn_mpi_collective(rnn_mpi *mpi, const rnn_collective **out)
{
    static const char FN[] = "rnn_mpi_collective";
    if (out)
        *out = NULL;
    if (!mpi)
        return fail(RNN_ERR_INVALID_ARG, FN, "mpi must not be NULL");
    if (!out)
        return fail(RNN_ERR_INVALID_ARG, FN, "out must not be NULL");
    *out = &mpi->coll;
    return RNN_OK;
}

rnn_status rnn_mpi_get_stats(const rnn_mpi *mpi, rnn_mpi_stats *out)
{
    static const char FN[] = "rnn_mpi_get_stats";
    if (!mpi)
        return fail(RNN_ERR_INVALID_ARG, FN, "mpi must not be NULL");
    if (!out)
        return fail(RNN_ERR_INVALID_ARG, FN, "out must not be NULL");
    if (out->struct_size < sizeof(uint32_t) || out->struct_size > sizeof(rnn_mpi_stats))
        return fail(RNN_ERR_INVALID_ARG, FN, "out->struct_size must be in [%zu, %zu] "
                    "(sizeof(rnn_mpi_stats)) (got %u)", sizeof(uint32_t),
                    sizeof(rnn_mpi_stats), (unsigned)out->struct_size);
    rnn_mpi *m = (rnn_mpi *)mpi; /* its mutex, while the progress thread counts */
    lock(m);
    rnn_mpi_stats s = m->st;
    unlock(m);
    s.struct_size = out->struct_size;
    memcpy(out, &s, out->struct_size);
    return RNN_OK;
}

rnn_status rnn_mpi_reset_stats(rnn_mpi *mpi)
{
    if (!mpi)
        return fail(RNN_ERR_INVALID_ARG, "rnn_mpi_reset_stats", "mpi must not be NULL");
    lock(mpi);
    memset(&mpi->st, 0, sizeof mpi->st);
    mpi->st.struct_size = sizeof mpi->st;
    unlock(mpi);
    return RNN_OK;
}
