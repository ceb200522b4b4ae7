/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration field tables: reading, writing and checking a kind's
 * options through its table (layer.h). */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "layer/layer.h"

const char *const rnn__act_names[6] = {"linear", "tanh", "relu", "sigmoid", "softmax",
                                       "log_softmax"};
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
            if (v < 0 || v >= f->n_names || !f->names[(int)v]) {
                char vals[160];
                size_t n = 0;
                vals[0] = 0;
                for (int k = 0; k < f->n_names && n < sizeof vals; k++)
                    if (f->names[k])
                        n += (size_t)snprintf(vals + n, sizeof vals - n, "%s%d (%s)",
                                              n ? ", " : "", k, f->names[k]);
                return rnn__err(RNN_ERR_INVALID_ARG, func,
                                "options->%s must be one of %s (got %.0f)", f->name, vals, v);
            }
            break;
        }
    }
    return RNN_OK;
}


/* Reads field f from JSON value v (NULL: absent). */
static rnn_status field_from_json(const char *func, const char *where, const rnn__field *f,
                                  json_t *v, void *opts)
{
    switch (f->type) {
    case RNN__FIELD_BOOL:
        if (!json_is_boolean(v) && !(json_is_integer(v) && (json_integer_value(v) == 0 ||
                                                            json_integer_value(v) == 1)))
            return rnn__err(RNN_ERR_INVALID_ARG, func, "%s.%s must be true or false", where,
                            f->name);
        rnn__field_set(f, opts, json_is_true(v) || json_integer_value(v) == 1);
        return RNN_OK;
    case RNN__FIELD_INT:
        if (!json_is_integer(v) || (double)json_integer_value(v) < f->lo ||
            (double)json_integer_value(v) > f->hi)
            return rnn__err(RNN_ERR_INVALID_ARG, func, "%s.%s must be an integer in [%.0f, %.0f]",
                            where, f->name, f->lo, f->hi);
        rnn__field_set(f, opts, (double)json_integer_value(v));
        return RNN_OK;
    case RNN__FIELD_FLOAT: {
        const double d = json_is_number(v) ? json_number_value(v) : NAN;
        if (!(d >= f->lo && d < f->hi))
            return rnn__err(RNN_ERR_INVALID_ARG, func, "%s.%s must be a number in [%g, %g)",
                            where, f->name, f->lo, f->hi);
        rnn__field_set(f, opts, d);
        return RNN_OK;
    }
    case RNN__FIELD_ENUM: {
        const char *s = json_string_value(v);
        for (int k = 0; s && k < f->n_names; k++)
            if (f->names[k] && !strcmp(f->names[k], s)) {
                rnn__field_set(f, opts, k);
                return RNN_OK;
            }
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s.%s has no valid value", where, f->name);
    }
    }
    return RNN_OK;
}

rnn_status rnn__fields_from_json(const char *func, const char *where, const rnn__field *f,
                                 const json_t *config, void *opts, int all)
{
    json_t *c = (json_t *)config;
    if (!json_is_object(c))
        return rnn__err(RNN_ERR_INVALID_ARG, func, "%s must be a JSON object", where);
    const char *key;
    json_t *v;
    if (!all)
        json_object_foreach(c, key, v) {
            const rnn__field *g = f;
            while (g && g->name && strcmp(g->name, key))
                g++;
            if (!g || !g->name)
                return rnn__err(RNN_ERR_INVALID_ARG, func, "%s has no field \"%.64s\"", where,
                                key);
        }
    for (; f && f->name; f++) {
        v = json_object_get(c, f->name);
        if (!v && !all)
            continue;
        rnn_status st = field_from_json(func, where, f, v, opts);
        if (st)
            return st;
    }
    return RNN_OK;
}
