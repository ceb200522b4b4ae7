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
 * fails at once, and destroy frees nothing of MPI's. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
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
};

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
    long sleep_ns = SLEEP_MIN_NS;
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
        struct timespec ts = {0, sleep_ns};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        /* Open MPI moves a sum on only inside MPI calls: polls stay frequent
         * while a sum may still be flowing, and space out in long waits (a
         * rank that computes longer, a validation pass) */
        const long cap = waited < SLOW_AFTER_SECONDS ? SLEEP_FAST_NS : SLEEP_MAX_NS;
        sleep_ns = sleep_ns * 3 / 2 > cap ? cap : sleep_ns * 3 / 2;
    }
}

/* ------------------------------------------------------------ callbacks */

static int cb_allreduce(void *user, float *data, int64_t count, void **request)
{
    rnn_mpi *m = user;
    if (request)
        *request = NULL;
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
    return 0;
}

static int cb_wait(void *user, void *request)
{
    rnn_mpi *m = user;
    req *q = request;
    if (!q)
        return 0;
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

static int cb_broadcast(void *user, void *data, int64_t bytes, int root)
{
    rnn_mpi *m = user;
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

static const char *cb_message(void *user, int code)
{
    rnn_mpi *m = user;
    if (m && m->msg[0])
        return m->msg;
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
}

/* The timeout from the options and RNN_MPI_TIMEOUT. */
static rnn_status resolve_options(const char *fn, const rnn_mpi_options *o, double *timeout,
                                  unsigned *flags)
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
    const char *env = getenv("RNN_MPI_TIMEOUT");
    if (env && *env) {
        char *end = NULL;
        errno = 0;
        double t = strtod(env, &end);
        if (errno || end == env || *end || !(t > 0 && t <= TIMEOUT_MAX))
            return fail(RNN_ERR_INVALID_ARG, fn, "the environment variable RNN_MPI_TIMEOUT "
                        "must be a number of seconds in (0, %g] (got \"%.40s\")", TIMEOUT_MAX,
                        env);
        d.timeout_seconds = t;
    }
    *timeout = d.timeout_seconds;
    *flags = d.flags;
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

static rnn_status create_on(const char *fn, MPI_Comm comm, const rnn_mpi_options *options,
                            rnn_mpi **out)
{
    double timeout;
    unsigned flags;
    rnn_status st = resolve_options(fn, options, &timeout, &flags);
    if (st)
        return st;
    if (comm == MPI_COMM_NULL)
        return fail(RNN_ERR_INVALID_ARG, fn, "comm must not point to MPI_COMM_NULL");
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
    m->timeout = timeout;
    m->st.struct_size = sizeof m->st;
    m->coll = (rnn_collective){
        .struct_size = sizeof(rnn_collective),
        .user = m,
        .rank = m->rank,
        .size = m->size,
        .flags = flags,
        .allreduce_sum = cb_allreduce,
        .wait = cb_wait,
        .broadcast = cb_broadcast,
        .error_message = cb_message,
    };
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
    rnn_status st = mpi_state(FN);
    if (st)
        return st;
    MPI_Comm c;
    memcpy(&c, comm, sizeof c);
    return create_on(FN, c, options, out);
}

rnn_status rnn_mpi_create_world(const rnn_mpi_options *options, rnn_mpi **out)
{
    static const char FN[] = "rnn_mpi_create_world";
    if (out)
        *out = NULL;
    if (!out)
        return fail(RNN_ERR_INVALID_ARG, FN, "out must not be NULL");
    double timeout;
    unsigned flags;
    rnn_status st = resolve_options(FN, options, &timeout, &flags);
    if (st)
        return st;
    int init = 0, fin = 0, inited_here = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (fin)
        return fail(RNN_ERR_STATE, FN, "MPI is already finalized");
    if (!init) {
        int provided = 0;
        int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
        if (rc != MPI_SUCCESS) {
            char t[MPI_MAX_ERROR_STRING + 64];
            mpi_text(rc, t, sizeof t);
            return fail(RNN_ERR_COLLECTIVE, FN, "MPI_Init_thread failed: %s", t);
        }
        inited_here = 1;
    }
    st = create_on(FN, MPI_COMM_WORLD, options, out);
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
    rnn_mpi_stats s = mpi->st;
    s.struct_size = out->struct_size;
    memcpy(out, &s, out->struct_size);
    return RNN_OK;
}

rnn_status rnn_mpi_reset_stats(rnn_mpi *mpi)
{
    if (!mpi)
        return fail(RNN_ERR_INVALID_ARG, "rnn_mpi_reset_stats", "mpi must not be NULL");
    memset(&mpi->st, 0, sizeof mpi->st);
    mpi->st.struct_size = sizeof mpi->st;
    return RNN_OK;
}
