/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading ONNX protobuf with a memory bound: protobuf-c allocates through
 * an allocator that refuses to go beyond 16 bytes per input byte plus
 * 64 MiB, so a hostile file cannot make the reader allocate without bound;
 * tensors are checked against their declared shapes before use.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

typedef struct ox_budget {
    size_t used, limit;
} ox_budget;

/* Each block carries its size in front of it. */
static void *budget_alloc(void *data, size_t size)
{
    ox_budget *b = data;
    if (size > b->limit || b->used > b->limit - size)
        return NULL;
    size_t *p = malloc(size + sizeof(size_t) * 2);
    if (!p)
        return NULL;
    p[0] = size;
    b->used += size;
    return p + 2;
}

static void budget_free(void *data, void *ptr)
{
    ox_budget *b = data;
    if (!ptr)
        return;
    size_t *p = (size_t *)ptr - 2;
    b->used -= p[0];
    free(p);
}

struct ox_pb {
    Onnx__ModelProto *mp;
    ox_budget budget;
    ProtobufCAllocator alloc; /* protobuf-c frees with the allocator it unpacked with */
};

ox_pb *ox_unpack(const void *data, size_t size, rnn_status *st)
{
    ox_pb *u = calloc(1, sizeof *u);
    if (!u) {
        *st = RNN_ERR_NOMEM;
        return NULL;
    }
    u->budget.limit = size * 16 + ((size_t)64 << 20);
    u->alloc.alloc = budget_alloc;
    u->alloc.free = budget_free;
    u->alloc.allocator_data = &u->budget;
    u->mp = onnx__model_proto__unpack(&u->alloc, size, data);
    if (!u->mp) {
        *st = RNN_ERR_FORMAT;
        free(u);
        return NULL;
    }
    *st = RNN_OK;
    return u;
}

Onnx__ModelProto *ox_pb_model(ox_pb *u)
{
    return u->mp;
}

void ox_pb_free(ox_pb *u)
{
    if (!u)
        return;
    onnx__model_proto__free_unpacked(u->mp, &u->alloc);
    free(u);
}

rnn_status ox_fail(rnn_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rnn_set_last_error(st, NULL, msg);
}

rnn_status ox_node_fail(ox_ctx *c, rnn_status st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const Onnx__NodeProto *n = c->node;
    return ox_fail(st, "node '%s' (%s): %s", n && n->name ? n->name : "",
                   n && n->op_type ? n->op_type : "?", msg);
}

rnn_status ox_wrap_librnn(ox_ctx *c, rnn_status st, const char *what)
{
    char cause[512];
    snprintf(cause, sizeof cause, "%s", rnn_last_error());
    return ox_node_fail(c, st, "%s: %s", what, cause);
}

void *ox_alloc(size_t n)
{
    return malloc(n ? n : 1);
}

void ox_free(void *p)
{
    free(p);
}

void ox_val_clear(ox_val *v)
{
    free(v->f);
    free(v->i);
    memset(v, 0, sizeof *v);
}

static int checked_count(const Onnx__TensorProto *t, int64_t *n)
{
    int64_t k = 1;
    if (t->n_dims > OX_MAX_RANK)
        return 0;
    for (size_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] < 0 || (t->dims[d] && k > INT64_MAX / 4 / t->dims[d]))
            return 0;
        k *= t->dims[d];
    }
    *n = k;
    return 1;
}

/* A TensorProto as a CONST value (float32, or int32/int64 as int64). */
rnn_status ox_tensor_read(const Onnx__TensorProto *t, ox_val *v)
{
    memset(v, 0, sizeof *v);
    int64_t n;
    const char *name = t->name ? t->name : "";
    if (!checked_count(t, &n))
        return ox_fail(RNN_ERR_FORMAT, "tensor '%s': bad shape (rank %zu)", name, t->n_dims);
    if (t->n_external_data || (t->has_data_location && t->data_location != 0))
        return ox_fail(RNN_ERR_UNSUPPORTED, "tensor '%s': external data is not supported", name);
    int dt = t->has_data_type ? t->data_type : 0;
    v->kind = OX_CONST;
    v->rank = (int)t->n_dims;
    for (size_t d = 0; d < t->n_dims; d++)
        v->dims[d] = t->dims[d];
    v->n = n;
    if (dt == OX_FLOAT) {
        v->dtype = OX_FLOAT;
        if (t->has_raw_data ? t->raw_data.len != (size_t)n * 4 : t->n_float_data != (size_t)n)
            return ox_fail(RNN_ERR_FORMAT, "tensor '%s': %lld float elements expected", name,
                           (long long)n);
        v->f = malloc((size_t)n * 4 + 4);
        if (!v->f)
            return ox_fail(RNN_ERR_NOMEM, "out of memory");
        if (t->has_raw_data) {
            const uint8_t *p = t->raw_data.data;
            for (int64_t k = 0; k < n; k++) {
                uint32_t u = (uint32_t)p[4 * k] | (uint32_t)p[4 * k + 1] << 8 |
                             (uint32_t)p[4 * k + 2] << 16 | (uint32_t)p[4 * k + 3] << 24;
                memcpy(&v->f[k], &u, 4);
            }
        } else if (n) {
            memcpy(v->f, t->float_data, (size_t)n * 4);
        }
        return RNN_OK;
    }
    if (dt == OX_INT64 || dt == OX_INT32) {
        size_t es = dt == OX_INT64 ? 8 : 4;
        v->dtype = OX_INT64;
        size_t have = t->has_raw_data ? t->raw_data.len
                      : (dt == OX_INT64 ? t->n_int64_data : t->n_int32_data) * es;
        if (have != (size_t)n * es)
            return ox_fail(RNN_ERR_FORMAT, "tensor '%s': %lld integer elements expected", name,
                           (long long)n);
        v->i = malloc((size_t)n * 8 + 8);
        if (!v->i)
            return ox_fail(RNN_ERR_NOMEM, "out of memory");
        for (int64_t k = 0; k < n; k++) {
            if (!t->has_raw_data) {
                v->i[k] = dt == OX_INT64 ? t->int64_data[k] : t->int32_data[k];
                continue;
            }
            const uint8_t *p = t->raw_data.data + k * (int64_t)es;
            uint64_t u = 0;
            for (size_t b = 0; b < es; b++)
                u |= (uint64_t)p[b] << (8 * b);
            if (es == 4)
                v->i[k] = (int32_t)(uint32_t)u;
            else
                memcpy(&v->i[k], &u, 8);
        }
        return RNN_OK;
    }
    return ox_fail(RNN_ERR_UNSUPPORTED,
                   "tensor '%s': data type %d (only float32, int32 and int64 are read)", name, dt);
}
