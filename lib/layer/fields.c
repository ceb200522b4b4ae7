/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration field tables: reading, writing and checking a kind's
 * options through its table (layer.h). */
#include <math.h>
#include <string.h>

#include "layer/layer.h"

const char *const rnn__act_names[5] = {"linear", "tanh", "relu", "sigmoid", "softmax"};
const char *const rnn__init_names[5] = {NULL, "glorot_uniform", "orthogonal", "zeros", "ones"};
const char *const rnn__pad_names[2] = {"valid", "same"};

double rnn__field_get(const rnn__field *f, const void *opts)
{
    const char *p = (const char *)opts + f->offset;
    switch (f->type) {
    case RNN__FIELD_INT: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case RNN__FIELD_FLOAT: {
        float v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: {
        int v; /* BOOL and ENUM are int-sized */
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
}

void rnn__field_set(const rnn__field *f, void *opts, double v)
{
    char *p = (char *)opts + f->offset;
    switch (f->type) {
    case RNN__FIELD_INT: {
        int64_t i = (int64_t)v;
        memcpy(p, &i, sizeof i);
        return;
    }
    case RNN__FIELD_FLOAT: {
        float x = (float)v;
        memcpy(p, &x, sizeof x);
        return;
    }
    default: {
        int i = (int)v;
        memcpy(p, &i, sizeof i);
        return;
    }
    }
}

rnn_status rnn__fields_check(const char *func, const rnn__field *f, const void *opts)
{
    for (; f && f->name; f++) {
        const double v = rnn__field_get(f, opts);
        switch (f->type) {
        case RNN__FIELD_BOOL:
            if (v != 0 && v != 1)
                return rnn__err(RNN_ERR_INVALID_ARG, func, "options->%s must be 0 or 1 (got %g)",
                                f->name, v);
            break;
        case RNN__FIELD_INT:
            if (v < f->lo || v > f->hi)
                return rnn__err(RNN_ERR_INVALID_ARG, func,
                                "options->%s must be in %.0f..%.0f (got %.0f)", f->name, f->lo,
                                f->hi, v);
            break;
        case RNN__FIELD_FLOAT:
            if (!(v >= f->lo && v < f->hi))
                return rnn__err(RNN_ERR_INVALID_ARG, func,
                                "options->%s must be in [%g, %g) (got %g)", f->name, f->lo,
                                f->hi, v);
            break;
        case RNN__FIELD_ENUM:
            if (v < 0 || v >= f->n_names || !f->names[(int)v])
                return rnn__err(RNN_ERR_INVALID_ARG, func,
                                "options->%s is not a valid value (got %.0f)", f->name, v);
            break;
        }
    }
    return RNN_OK;
}

rnn_status rnn__options_copy(const char *func, const char *type, void *dst, size_t dst_size,
                             const void *src, size_t min_size)
{
    if (!src)
        return rnn__err(RNN_ERR_INVALID_ARG, func, "options must not be NULL");
    uint32_t size;
    memcpy(&size, src, sizeof size);
    if (size < min_size || size > dst_size)
        return rnn__err(RNN_ERR_INVALID_ARG, func,
                        "options->struct_size must be sizeof(%s) = %zu (got %u)", type, dst_size,
                        (unsigned)size);
    memcpy(dst, src, size);
    memcpy(dst, &(uint32_t){(uint32_t)dst_size}, sizeof(uint32_t));
    return RNN_OK;
}
