/* SPDX-License-Identifier: Apache-2.0 */
/* oneDNN matmul with bf16 operands and f32 accumulation, bias and result
 * (mixed precision, backend.h "bf16"), cached per shape like the f32 ones in
 * backend/onednn.c. The operands arrive already in bf16 (rnn__matmul_prec
 * converts them): A row-major or transposed ("ba"), B row-major. */
#include "backend/onednn_internal.h"

typedef struct rnn__dnnl_mm16 {
    rnn__dnnl_cached link; /* first */
    int64_t M, K, N;
    int ta, has_bias, accumulate;
    int nthr; /* the thread count it was created for and runs on */
    dnnl_primitive_t prim;
    rnn__md a_md, b_md, bias_md, c_md, scratch_md; /* scratchpad: the context's */
} rnn__dnnl_mm16;

static void mm16_free(void *entry)
{
    rnn__dnnl_mm16 *m = entry;
    if (!m)
        return;
    if (m->prim)
        dnnl_primitive_destroy(m->prim);
    rnn__md *mds[] = {&m->a_md, &m->b_md, &m->bias_md, &m->c_md, &m->scratch_md};
    for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++)
        rnn__md_free(mds[i]);
    rnn__free(m);
}

void rnn__dnnl_bf16_release(rnn__dnnl_ctx *c)
{
    while (c->mm16) {
        rnn__dnnl_mm16 *m = (rnn__dnnl_mm16 *)c->mm16;
        c->mm16 = m->link.next;
        mm16_free(m);
    }
}

static rnn_status mm16_create(rnn__dnnl_ctx *c, int ta, int64_t M, int64_t K, int64_t N,
                              int has_bias, int accumulate, rnn__dnnl_mm16 **out)
{
    rnn_status st = RNN_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    rnn__dnnl_mm16 *m = rnn__calloc(1, sizeof *m);
    if (!m)
        return RNN__NOMEM(sizeof *m);
    m->M = M, m->K = K, m->N = N, m->ta = ta, m->has_bias = has_bias, m->accumulate = accumulate;
    m->nthr = rnn__threads_current();
    rnn__threads_create_begin(); /* created for the count it runs on */
    dnnl_dims_t ad = {M, K}, bd = {K, N}, cd = {M, N}, biasd = {1, N};
    RNN__DNNL(rnn__md_tag_dt(&m->a_md, 2, ad, dnnl_bf16, ta ? dnnl_ba : dnnl_ab));
    RNN__DNNL(rnn__md_tag_dt(&m->b_md, 2, bd, dnnl_bf16, dnnl_ab));
    RNN__DNNL(rnn__md_tag(&m->c_md, 2, cd, dnnl_ab));
    RNN__DNNL(rnn__md_tag(&m->bias_md, 2, biasd, dnnl_ab));
    RNN__DNNL(dnnl_primitive_attr_create(&attr));
    RNN__DNNL(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (accumulate) { /* C += A*B: a sum post-op on the f32 result */
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
    if (rnn__log_enabled(RNN_LOG_DEBUG)) {
        const char *impl = NULL;
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        rnn__log(RNN_LOG_DEBUG, "oneDNN bf16 matmul %lldx%lldx%lld: %s", (long long)M,
                 (long long)K, (long long)N, impl ? impl : "?");
    }
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    *out = m;
    return RNN_OK;
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    mm16_free(m);
    return st;
}

rnn_status rnn__dnnl_matmul_bf16(rnn__dnnl_ctx *c, int ta, int64_t M, int64_t K, int64_t N,
                                 const uint16_t *A, const uint16_t *B, const float *bias,
                                 float beta, float *C)
{
    const int has_bias = bias != NULL, acc = beta != 0.0f;
    ta = !!ta;
    const uint64_t now = ++c->mm_clock;
    rnn__dnnl_mm16 *m = (rnn__dnnl_mm16 *)c->mm16;
    while (m && !(m->M == M && m->K == K && m->N == N && m->ta == ta &&
                  m->has_bias == has_bias && m->accumulate == acc &&
                  m->nthr == rnn__threads_current()))
        m = (rnn__dnnl_mm16 *)m->link.next;
    if (!m) {
        rnn_status st = mm16_create(c, ta, M, K, N, has_bias, acc, &m);
        if (st)
            return st;
        rnn__dnnl_cache_push(&c->mm16, &m->link, now, mm16_free);
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
