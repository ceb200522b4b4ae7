/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place that knows which oneDNN C API is underneath.
 *
 * 2.x: memory descriptors are structs filled by dnnl_memory_desc_init_*;
 *      a primitive descriptor is made from an operation descriptor
 *      (dnnl_*_desc_init, then dnnl_primitive_desc_create).
 * 3.x: memory descriptors are handles (dnnl_memory_desc_create_*, _clone,
 *      _destroy); primitive descriptors are created directly
 *      (dnnl_*_primitive_desc_create), the backward one taking the forward
 *      one as its hint; dnnl_post_ops_append_sum takes a zero point and a
 *      data type. Nothing used here changed between 3.0 and 3.7 (the RNN flag
 *      dnnl_rnn_flags_diff_weights_overwrite of 3.1 is not used: librnn's
 *      kernels accumulate, oneDNN's default in both lines).
 */
#include <string.h>

#include "backend/onednn_internal.h"

const char *rnn__dnnl_status_name(dnnl_status_t s)
{
    switch ((int)s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out_of_memory";
    case dnnl_invalid_arguments: return "invalid_arguments";
    case dnnl_unimplemented: return "unimplemented";
#if DNNL_VERSION_MAJOR >= 3
    case dnnl_last_impl_reached: return "last_impl_reached";
#else
    case dnnl_iterator_ends: return "iterator_ends";
#endif
    case dnnl_runtime_error: return "runtime_error";
    case dnnl_not_required: return "not_required";
    default: return "unknown";
    }
}

/* The same calls in both lines (a pointer to a struct in 2.x, a handle in 3.x). */
size_t rnn__md_size(rnn__cmd md)
{
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

int rnn__md_equal(rnn__cmd a, rnn__cmd b)
{
    return a && b && dnnl_memory_desc_equal(a, b);
}

dnnl_status_t rnn__md_tag(rnn__md *md, int nd, const dnnl_dims_t dims, dnnl_format_tag_t tag)
{
    return rnn__md_tag_dt(md, nd, dims, dnnl_f32, tag);
}

dnnl_status_t rnn__md_strides(rnn__md *md, int nd, const dnnl_dims_t dims,
                              const dnnl_dims_t strides)
{
    return rnn__md_strides_dt(md, nd, dims, dnnl_f32, strides);
}

/* ISA values are bit sets in both lines (each ISA's bits include those of the
 * ISAs it extends), so native bf16 is "has every bit of avx512_core_bf16":
 * avx512_core_amx (2.x 0x3e7) and 3.x's avx10_1_512 (0x1ef, = avx512_core_fp16)
 * and avx10_1_512_amx (0xfef) have them; avx2_vnni_2 (3.x, 0x1f: bf16
 * conversions, no bf16 dot products) and avx512_core (0x27) do not. */
int rnn__dnnl_bf16_native(const char **isa)
{
    const unsigned v = (unsigned)dnnl_get_effective_cpu_isa();
    const unsigned bf16 = (unsigned)dnnl_cpu_isa_avx512_core_bf16;
    static const struct { unsigned v; const char *name; } names[] = {
        {dnnl_cpu_isa_sse41, "sse41"},
        {dnnl_cpu_isa_avx, "avx"},
        {dnnl_cpu_isa_avx2, "avx2"},
        {dnnl_cpu_isa_avx2_vnni, "avx2_vnni"},
        {dnnl_cpu_isa_avx512_core, "avx512_core"},
        {dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"},
        {dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"},
        {dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"},
#if DNNL_VERSION_MAJOR >= 3
        {dnnl_cpu_isa_avx2_vnni_2, "avx2_vnni_2"},
        {dnnl_cpu_isa_avx10_1_512, "avx10_1_512"},
        {dnnl_cpu_isa_avx10_1_512_amx_fp16, "avx10_1_512_amx_fp16"},
#else
        {dnnl_cpu_isa_avx512_mic, "avx512_mic"},
        {dnnl_cpu_isa_avx512_mic_4ops, "avx512_mic_4ops"},
#endif
    };
    *isa = "an instruction set older than sse41";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].v == v)
            *isa = names[i].name;
    return (v & bf16) == bf16;
}

#if DNNL_VERSION_MAJOR >= 3

dnnl_status_t rnn__md_tag_dt(rnn__md *md, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt,
                             dnnl_format_tag_t tag)
{
    rnn__md_free(md);
    return dnnl_memory_desc_create_with_tag(md, nd, dims, dt, tag);
}

dnnl_status_t rnn__md_strides_dt(rnn__md *md, int nd, const dnnl_dims_t dims,
                                 dnnl_data_type_t dt, const dnnl_dims_t strides)
{
    rnn__md_free(md);
    return dnnl_memory_desc_create_with_strides(md, nd, dims, dt, strides);
}

dnnl_status_t rnn__md_query(rnn__md *md, const_dnnl_primitive_desc_t pd, dnnl_query_t what,
                            int index)
{
    rnn__md_free(md);
    const_dnnl_memory_desc_t q = dnnl_primitive_desc_query_md(pd, what, index);
    if (!q) /* absent: an empty descriptor, size 0 */
        return dnnl_memory_desc_create_with_tag(md, 0, NULL, dnnl_data_type_undef,
                                                dnnl_format_tag_undef);
    return dnnl_memory_desc_clone(md, q);
}

dnnl_status_t rnn__md_copy(rnn__md *md, rnn__cmd src)
{
    rnn__md_free(md);
    return dnnl_memory_desc_clone(md, src);
}

void rnn__md_free(rnn__md *md)
{
    if (*md)
        dnnl_memory_desc_destroy(*md);
    *md = NULL;
}

dnnl_status_t rnn__dnnl_rnn_pd_create(dnnl_primitive_desc_t *pd, dnnl_engine_t eng, int cell,
                                      dnnl_alg_kind_t act, dnnl_prop_kind_t prop,
                                      const rnn__rnn_mds *d, const rnn__rnn_mds *g,
                                      const_dnnl_primitive_desc_t hint,
                                      const_dnnl_primitive_attr_t attr)
{
    const dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;
    const unsigned flags = dnnl_rnn_flags_undef;
    if (!g) {
        switch (cell) {
        case RNN__CELL_LSTM:
            return dnnl_lstm_forward_primitive_desc_create(
                pd, eng, prop, dir, d->src_layer, d->src_iter, d->src_iter_c, d->weights_layer,
                d->weights_iter, NULL, NULL, d->bias, d->dst_layer, d->dst_iter, d->dst_iter_c,
                flags, attr);
        case RNN__CELL_GRU:
            return dnnl_gru_forward_primitive_desc_create(
                pd, eng, prop, dir, d->src_layer, d->src_iter, d->weights_layer, d->weights_iter,
                d->bias, d->dst_layer, d->dst_iter, flags, attr);
        case RNN__CELL_LBR_GRU:
            return dnnl_lbr_gru_forward_primitive_desc_create(
                pd, eng, prop, dir, d->src_layer, d->src_iter, d->weights_layer, d->weights_iter,
                d->bias, d->dst_layer, d->dst_iter, flags, attr);
        default:
            return dnnl_vanilla_rnn_forward_primitive_desc_create(
                pd, eng, prop, act, dir, d->src_layer, d->src_iter, d->weights_layer,
                d->weights_iter, d->bias, d->dst_layer, d->dst_iter, flags, 0.0f, 0.0f, attr);
        }
    }
    switch (cell) {
    case RNN__CELL_LSTM:
        return dnnl_lstm_backward_primitive_desc_create(
            pd, eng, prop, dir, d->src_layer, d->src_iter, d->src_iter_c, d->weights_layer,
            d->weights_iter, NULL, NULL, d->bias, d->dst_layer, d->dst_iter, d->dst_iter_c,
            g->src_layer, g->src_iter, g->src_iter_c, g->weights_layer, g->weights_iter, NULL,
            NULL, g->bias, g->dst_layer, g->dst_iter, g->dst_iter_c, flags, hint, attr);
    case RNN__CELL_GRU:
        return dnnl_gru_backward_primitive_desc_create(
            pd, eng, prop, dir, d->src_layer, d->src_iter, d->weights_layer, d->weights_iter,
            d->bias, d->dst_layer, d->dst_iter, g->src_layer, g->src_iter, g->weights_layer,
            g->weights_iter, g->bias, g->dst_layer, g->dst_iter, flags, hint, attr);
    case RNN__CELL_LBR_GRU:
        return dnnl_lbr_gru_backward_primitive_desc_create(
            pd, eng, prop, dir, d->src_layer, d->src_iter, d->weights_layer, d->weights_iter,
            d->bias, d->dst_layer, d->dst_iter, g->src_layer, g->src_iter, g->weights_layer,
            g->weights_iter, g->bias, g->dst_layer, g->dst_iter, flags, hint, attr);
    default:
        return dnnl_vanilla_rnn_backward_primitive_desc_create(
            pd, eng, prop, act, dir, d->src_layer, d->src_iter, d->weights_layer,
            d->weights_iter, d->bias, d->dst_layer, d->dst_iter, g->src_layer, g->src_iter,
            g->weights_layer, g->weights_iter, g->bias, g->dst_layer, g->dst_iter, flags, 0.0f,
            0.0f, hint, attr);
    }
}

dnnl_status_t rnn__dnnl_matmul_pd_create(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                         rnn__cmd a, rnn__cmd b, rnn__cmd bias, rnn__cmd c,
                                         const_dnnl_primitive_attr_t attr)
{
    return dnnl_matmul_primitive_desc_create(pd, engine, a, b, bias, c, attr);
}

dnnl_status_t rnn__dnnl_post_ops_append_sum(dnnl_post_ops_t po)
{
    return dnnl_post_ops_append_sum(po, 1.0f, 0, dnnl_data_type_undef);
}

#else /* oneDNN 2.x */

dnnl_status_t rnn__md_tag_dt(rnn__md *md, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt,
                             dnnl_format_tag_t tag)
{
    return dnnl_memory_desc_init_by_tag(md, nd, dims, dt, tag);
}

dnnl_status_t rnn__md_strides_dt(rnn__md *md, int nd, const dnnl_dims_t dims,
                                 dnnl_data_type_t dt, const dnnl_dims_t strides)
{
    return dnnl_memory_desc_init_by_strides(md, nd, dims, dt, strides);
}

dnnl_status_t rnn__md_query(rnn__md *md, const_dnnl_primitive_desc_t pd, dnnl_query_t what,
                            int index)
{
    const dnnl_memory_desc_t *q = dnnl_primitive_desc_query_md(pd, what, index);
    if (q)
        *md = *q;
    else
        memset(md, 0, sizeof *md);
    return dnnl_success;
}

dnnl_status_t rnn__md_copy(rnn__md *md, rnn__cmd src)
{
    *md = *src;
    return dnnl_success;
}

void rnn__md_free(rnn__md *md)
{
    (void)md;
}

dnnl_status_t rnn__dnnl_rnn_pd_create(dnnl_primitive_desc_t *pd, dnnl_engine_t eng, int cell,
                                      dnnl_alg_kind_t act, dnnl_prop_kind_t prop,
                                      const rnn__rnn_mds *d, const rnn__rnn_mds *g,
                                      const_dnnl_primitive_desc_t hint,
                                      const_dnnl_primitive_attr_t attr)
{
    const dnnl_rnn_direction_t dir = dnnl_unidirectional_left2right;
    const unsigned flags = dnnl_rnn_flags_undef;
    dnnl_rnn_desc_t rd;
    dnnl_status_t s;
    if (!g) {
        switch (cell) {
        case RNN__CELL_LSTM:
            s = dnnl_lstm_forward_desc_init(&rd, prop, dir, d->src_layer, d->src_iter,
                                            d->src_iter_c, d->weights_layer, d->weights_iter,
                                            d->bias, d->dst_layer, d->dst_iter, d->dst_iter_c,
                                            flags);
            break;
        case RNN__CELL_GRU:
            s = dnnl_gru_forward_desc_init(&rd, prop, dir, d->src_layer, d->src_iter,
                                           d->weights_layer, d->weights_iter, d->bias,
                                           d->dst_layer, d->dst_iter, flags);
            break;
        case RNN__CELL_LBR_GRU:
            s = dnnl_lbr_gru_forward_desc_init(&rd, prop, dir, d->src_layer, d->src_iter,
                                               d->weights_layer, d->weights_iter, d->bias,
                                               d->dst_layer, d->dst_iter, flags);
            break;
        default:
            s = dnnl_vanilla_rnn_forward_desc_init(&rd, prop, act, dir, d->src_layer,
                                                   d->src_iter, d->weights_layer,
                                                   d->weights_iter, d->bias, d->dst_layer,
                                                   d->dst_iter, flags, 0.0f, 0.0f);
            break;
        }
    } else {
        switch (cell) {
        case RNN__CELL_LSTM:
            s = dnnl_lstm_backward_desc_init(
                &rd, prop, dir, d->src_layer, d->src_iter, d->src_iter_c, d->weights_layer,
                d->weights_iter, d->bias, d->dst_layer, d->dst_iter, d->dst_iter_c, g->src_layer,
                g->src_iter, g->src_iter_c, g->weights_layer, g->weights_iter, g->bias,
                g->dst_layer, g->dst_iter, g->dst_iter_c, flags);
            break;
        case RNN__CELL_GRU:
            s = dnnl_gru_backward_desc_init(&rd, prop, dir, d->src_layer, d->src_iter,
                                            d->weights_layer, d->weights_iter, d->bias,
                                            d->dst_layer, d->dst_iter, g->src_layer, g->src_iter,
                                            g->weights_layer, g->weights_iter, g->bias,
                                            g->dst_layer, g->dst_iter, flags);
            break;
        case RNN__CELL_LBR_GRU:
            s = dnnl_lbr_gru_backward_desc_init(&rd, prop, dir, d->src_layer, d->src_iter,
                                                d->weights_layer, d->weights_iter, d->bias,
                                                d->dst_layer, d->dst_iter, g->src_layer,
                                                g->src_iter, g->weights_layer, g->weights_iter,
                                                g->bias, g->dst_layer, g->dst_iter, flags);
            break;
        default:
            s = dnnl_vanilla_rnn_backward_desc_init(
                &rd, prop, act, dir, d->src_layer, d->src_iter, d->weights_layer,
                d->weights_iter, d->bias, d->dst_layer, d->dst_iter, g->src_layer, g->src_iter,
                g->weights_layer, g->weights_iter, g->bias, g->dst_layer, g->dst_iter, flags,
                0.0f, 0.0f);
            break;
        }
    }
    if (s != dnnl_success)
        return s;
    return dnnl_primitive_desc_create(pd, &rd, attr, eng, hint);
}

dnnl_status_t rnn__dnnl_matmul_pd_create(dnnl_primitive_desc_t *pd, dnnl_engine_t engine,
                                         rnn__cmd a, rnn__cmd b, rnn__cmd bias, rnn__cmd c,
                                         const_dnnl_primitive_attr_t attr)
{
    dnnl_matmul_desc_t md;
    dnnl_status_t s = dnnl_matmul_desc_init(&md, a, b, bias, c);
    if (s != dnnl_success)
        return s;
    return dnnl_primitive_desc_create(pd, &md, attr, engine, NULL);
}

dnnl_status_t rnn__dnnl_post_ops_append_sum(dnnl_post_ops_t po)
{
    return dnnl_post_ops_append_sum(po, 1.0f);
}

#endif
