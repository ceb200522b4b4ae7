/* SPDX-License-Identifier: Apache-2.0 */
/* oneDNN backend context (engine + stream, created once per context) and the
 * matmul primitive, cached per shape. */
#include "backend/onednn_internal.h"

rnn_status rnn__dnnl_fail(const char *func, const char *what, dnnl_status_t s)
{
    const char *name = rnn__dnnl_status_name(s);
    rnn_status st = s == dnnl_out_of_memory ? RNN_ERR_NOMEM : RNN_ERR_BACKEND;
    return rnn__err(st, func, "oneDNN call %s failed: dnnl_%s (%d)", what, name, (int)s);
}

size_t rnn__dnnl_cache_cap = 512;

static rnn__dnnl_cached *cache_evict(rnn__dnnl_cached **head, uint64_t keep_from)
{
    size_t n = 0;
    rnn__dnnl_cached **victim = NULL;
    for (rnn__dnnl_cached **p = head; *p; p = &(*p)->next) {
        n++;
        if ((*p)->used < keep_from && (!victim || (*p)->used <= (*victim)->used))
            victim = p;
    }
    if (n <= rnn__dnnl_cache_cap || !victim)
        return NULL;
    rnn__dnnl_cached *e = *victim;
    *victim = e->next;
    return e;
}

void rnn__dnnl_cache_push(rnn__dnnl_cached **head, rnn__dnnl_cached *e, uint64_t now,
                          void (*free_entry)(void *))
{
    *e = (rnn__dnnl_cached){*head, now};
    *head = e;
    for (rnn__dnnl_cached *old; (old = cache_evict(head, now));)
        free_entry(old);
}

/* One cached matmul primitive. */
typedef struct rnn__dnnl_mm {
    rnn__dnnl_cached link; /* first */
    int64_t M, K, N;
    int has_bias, ta, tb, accumulate;
    int nthr; /* the thread count it was created for and runs on */
    dnnl_primitive_t prim;
    rnn__md a_md, b_md, bias_md, c_md, scratch_md; /* scratchpad: the context's */
} rnn__dnnl_mm;

static void mm_free(void *entry)
{
    rnn__dnnl_mm *m = entry;
    if (!m)
        return;
    if (m->prim)
        dnnl_primitive_destroy(m->prim);
    rnn__md *mds[] = {&m->a_md, &m->b_md, &m->bias_md, &m->c_md, &m->scratch_md};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++)
        rnn__md_free(mds[i]);
    rnn__free(m);
}

rnn_status rnn__dnnl_scratch_reserve(rnn__dnnl_ctx *c, size_t bytes)
{
    return rnn__bytes_ensure(&c->scratch, &c->scratch_bytes, bytes);
}

rnn_status rnn__dnnl_ctx_create(rnn__dnnl_ctx **out)
{
    rnn_status st = RNN_OK;
    *out = NULL;
    rnn__dnnl_ctx *c = rnn__calloc(1, sizeof *c);
    if (!c)
        return RNN__NOMEM(sizeof *c);
    RNN__DNNL(dnnl_engine_create(&c->engine, dnnl_cpu, 0));
    RNN__DNNL(dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags));
    *out = c;
    return RNN_OK;
fail:
    rnn__dnnl_ctx_destroy(c);
    return st;
}

void rnn__dnnl_ctx_destroy(rnn__dnnl_ctx *c)
{
    if (!c)
        return;
    while (c->matmuls) {
        rnn__dnnl_mm *m = (rnn__dnnl_mm *)c->matmuls;
        c->matmuls = m->link.next;
        mm_free(m);
    }
    rnn__dnnl_bf16_release(c);
    rnn__fbuf_free(&c->bt);
    rnn__fbuf_free(&c->bdy);
    rnn__fbuf_free(&c->bdx);
    rnn__free(c->scratch);
    for (int i = 0; i < RNN__DNNL_MEM_SLOTS; i++)
        if (c->mem[i].mem)
            dnnl_memory_destroy(c->mem[i].mem);
    if (c->stream)
        dnnl_stream_destroy(c->stream);
    if (c->engine)
        dnnl_engine_destroy(c->engine);
    rnn__free(c);
}

static rnn_status mm_create(rnn__dnnl_ctx *c, int ta, int tb, int accumulate, int64_t M,
                            int64_t K, int64_t N, int has_bias, rnn__dnnl_mm **out)
{
    rnn_status st = RNN_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    rnn__dnnl_mm *m = rnn__calloc(1, sizeof *m);
    if (!m)
        return RNN__NOMEM(sizeof *m);
    m->M = M, m->K = K, m->N = N, m->has_bias = has_bias;
    m->ta = ta, m->tb = tb, m->accumulate = accumulate;
    m->nthr = rnn__threads_current();
    rnn__threads_create_begin(); /* created for the count it runs on */
    dnnl_dims_t ad = {M, K}, bd = {K, N}, cd = {M, N}, biasd = {1, N};
    /* A transposed operand is the same dims stored column-major ("ba"). */
    RNN__DNNL(rnn__md_tag(&m->a_md, 2, ad, ta ? dnnl_ba : dnnl_ab));
    RNN__DNNL(rnn__md_tag(&m->b_md, 2, bd, tb ? dnnl_ba : dnnl_ab));
    RNN__DNNL(rnn__md_tag(&m->c_md, 2, cd, dnnl_ab));
    RNN__DNNL(rnn__md_tag(&m->bias_md, 2, biasd, dnnl_ab));
    RNN__DNNL(dnnl_primitive_attr_create(&attr));
    RNN__DNNL(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (accumulate) { /* C += A*B: a sum post-op */
        dnnl_post_ops_t po = NULL;
        RNN__DNNL(dnnl_post_ops_create(&po));
        dnnl_status_t ps = rnn__dnnl_post_ops_append_sum(po);
        if (ps == dnnl_success)
            ps = dnnl_primitive_attr_set_post_ops(attr, po);
        dnnl_post_ops_destroy(po);
        RNN__DNNL(ps);
    }
    RNN__DNNL(rnn__dnnl_matmul_pd_create(&pd, c->engine, RNN__CMD(m->a_md), RNN__CMD(m->b_md),
                                         has_bias ? RNN__CMD(m->bias_md) : NULL,
                                         RNN__CMD(m->c_md), attr));
    RNN__DNNL(rnn__md_query(&m->scratch_md, pd, dnnl_query_scratchpad_md, 0));
    if ((st = rnn__dnnl_scratch_reserve(c, rnn__md_size(RNN__CMD(m->scratch_md)))))
        goto fail;
    RNN__DNNL(dnnl_primitive_create(&m->prim, pd));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    *out = m;
    return RNN_OK;
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    mm_free(m);
    return st;
}

/* The slot of a (descriptor address, argument id) pair: Fibonacci hashing. */
static rnn__dnnl_mem_slot *mem_slot(rnn__dnnl_ctx *c, rnn__cmd md, int arg)
{
    uint64_t h = ((uint64_t)(uintptr_t)md ^ (uint64_t)(unsigned)arg) * 0x9E3779B97F4A7C15ull;
    return &c->mem[h >> (64 - 8)]; /* 2^8 = RNN__DNNL_MEM_SLOTS */
}

/* A memory object for (md, ptr) from slot s: the slot's own when it was made
 * for the same pair from an equal descriptor (an address may have been freed
 * and reused), else a new one that replaces it. */
static rnn_status mem_get(rnn__dnnl_ctx *c, rnn__dnnl_mem_slot *s, const rnn__dnnl_arg *a,
                          dnnl_memory_t *out)
{
    rnn_status st = RNN_OK;
    if (s->mem && s->key == a->md && s->arg == a->arg) {
        rnn__cmd have = NULL;
        if (dnnl_memory_get_memory_desc(s->mem, &have) == dnnl_success &&
            rnn__md_equal(have, a->md)) {
            RNN__DNNL(dnnl_memory_set_data_handle(s->mem, a->ptr));
            *out = s->mem;
            return RNN_OK;
        }
    }
    if (s->mem) {
        dnnl_memory_destroy(s->mem);
        s->mem = NULL, s->key = NULL;
    }
    RNN__DNNL(dnnl_memory_create(&s->mem, a->md, c->engine, a->ptr));
    s->key = a->md, s->arg = a->arg;
    *out = s->mem;
fail:
    return st;
}

rnn_status rnn__dnnl_exec(rnn__dnnl_ctx *c, dnnl_primitive_t prim, const rnn__dnnl_arg *a,
                          int n)
{
    rnn_status st = RNN_OK;
    dnnl_exec_arg_t args[RNN__DNNL_MAX_ARGS];
    rnn__dnnl_mem_slot *slot[RNN__DNNL_MAX_ARGS];
    dnnl_memory_t own[RNN__DNNL_MAX_ARGS]; /* made for this call only */
    int n_own = 0;
    if (n > RNN__DNNL_MAX_ARGS)
        return RNN__ERR(RNN_ERR_INTERNAL, "too many primitive arguments (%d)", n);
    for (int i = 0; i < n; i++) {
        args[i].arg = a[i].arg;
        slot[i] = mem_slot(c, a[i].md, a[i].arg);
        /* Two arguments of this call in one slot: the second may not evict
         * the first's memory object, so it gets one of its own. */
        int taken = 0;
        for (int j = 0; j < i && !taken; j++)
            taken = slot[j] == slot[i];
        if (taken) {
            RNN__DNNL(dnnl_memory_create(&own[n_own], a[i].md, c->engine, a[i].ptr));
            args[i].memory = own[n_own++];
        } else if ((st = mem_get(c, slot[i], &a[i], &args[i].memory))) {
            goto fail;
        }
    }
    rnn__threads_apply();
    RNN__DNNL(dnnl_primitive_execute(prim, c->stream, n, args));
    RNN__DNNL(dnnl_stream_wait(c->stream));
fail:
    for (int i = 0; i < n_own; i++)
        dnnl_memory_destroy(own[i]);
    return st;
}

rnn_status rnn__dnnl_matmul(rnn__dnnl_ctx *c, int ta, int tb, int64_t M, int64_t K, int64_t N,
                            const float *A, const float *B, const float *bias, float beta, float *C)
{
    int has_bias = bias != NULL, acc = beta != 0.0f;
    ta = !!ta, tb = !!tb;
    if (tb) {
        /* oneDNN 2.6's kernels for a column-major B read up to a vector past
         * their own packing buffers (valgrind flags it). Transposing B here
         * (O(K*N), small next to the O(M*K*N) product) uses the plain kernel. */
        rnn_status st = rnn__fbuf_ensure(&c->bt, (size_t)(K * N), 0);
        if (st)
            return st;
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N; j++)
                c->bt.p[k * N + j] = B[j * K + k];
        B = c->bt.p;
        tb = 0;
    }
    const uint64_t now = ++c->mm_clock;
    rnn__dnnl_mm *m = (rnn__dnnl_mm *)c->matmuls;
    while (m && !(m->M == M && m->K == K && m->N == N && m->has_bias == has_bias &&
                  m->ta == ta && m->tb == tb && m->accumulate == acc &&
                  m->nthr == rnn__threads_current()))
        m = (rnn__dnnl_mm *)m->link.next;
    if (!m) {
        rnn_status st = mm_create(c, ta, tb, acc, M, K, N, has_bias, &m);
        if (st)
            return st;
        rnn__dnnl_cache_push(&c->matmuls, &m->link, now, mm_free);
    }
    m->link.used = now;
    rnn__dnnl_arg a[5] = {
        {DNNL_ARG_SRC, RNN__CMD(m->a_md), (void *)A},
        {DNNL_ARG_WEIGHTS, RNN__CMD(m->b_md), (void *)B},
        {DNNL_ARG_DST, RNN__CMD(m->c_md), C},
        {DNNL_ARG_SCRATCHPAD, RNN__CMD(m->scratch_md), c->scratch},
        {DNNL_ARG_BIAS, RNN__CMD(m->bias_md), (void *)bias},
    };
    return rnn__dnnl_exec(c, m->prim, a, has_bias ? 5 : 4);
}
