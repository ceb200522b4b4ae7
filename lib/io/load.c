/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rnn_model_load: builds a model from a file written by rnn_model_save.
 *
 * Loading never trusts the file: the header size is bounded by the file
 * size, the JSON is parsed with duplicate keys rejected, every layer's
 * configuration is read through its kind's field table (type- and
 * range-checked), each layer's outputs and parameter shapes are inferred
 * from it (the kind's infer, which allocates nothing) and the parameter
 * bytes they imply must equal the data the file holds BEFORE any layer is
 * built; each tensor's dtype, shape and byte range must then match exactly.
 * Any mismatch is RNN_ERR_FORMAT.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "io/safetensors.h"
#include "optim/optimizer.h"
#include "rnn/io.h"

#define FUNC "rnn_model_load"

/* "training": the compile configuration and optimizer state (optional). */
typedef struct training_cfg {
    int present;
    rnn_compile_options c;
    rnn_optimizer_options o;
    int64_t iterations;
    double u_product;
    int has_m, has_v;
} training_cfg;

static int tr_enum(json_t *t, const char *k, const char *const *names, int n, int *out)
{
    const char *s = json_string_value(json_object_get(t, k));
    for (int i = 0; s && i < n; i++)
        if (names[i] && !strcmp(names[i], s)) {
            *out = i;
            return 1;
        }
    return 0;
}

static int tr_real(json_t *t, const char *k, float *out)
{
    json_t *v = json_object_get(t, k);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return 0;
    *out = (float)json_number_value(v);
    return 1;
}

static rnn_status parse_training(const rnn__st_file *L, json_t *t, training_cfg *tc)
{
    memset(tc, 0, sizeof *tc);
    if (!t)
        return RNN_OK;
    json_t *o = json_object_get(t, "optimizer");
    int loss, red, type;
    if (!json_is_object(t) || !json_is_object(o) || !tr_enum(t, "loss", rnn__loss_names, 5, &loss) ||
        !tr_enum(t, "reduction", rnn__reduction_names, 2, &red) ||
        !json_is_boolean(json_object_get(t, "from_logits")) ||
        !tr_enum(o, "type", rnn__optim_names, 6, &type))
        return rnn__st_format_error(L, "\"training\" needs loss, from_logits, reduction and optimizer.type");
    rnn_compile_options_init(&tc->c, (rnn_loss_type)loss);
    tc->c.from_logits = json_is_true(json_object_get(t, "from_logits"));
    tc->c.reduction = (rnn_reduction)red;
    rnn_optimizer_options_init(&tc->o, (rnn_optimizer_type)type);
    json_t *it = json_object_get(t, "iterations"), *up = json_object_get(t, "u_product");
    if (!tr_real(o, "learning_rate", &tc->o.learning_rate) ||
        !tr_real(o, "momentum", &tc->o.momentum) || !tr_real(o, "rho", &tc->o.rho) ||
        !tr_real(o, "beta_1", &tc->o.beta_1) || !tr_real(o, "beta_2", &tc->o.beta_2) ||
        !tr_real(o, "epsilon", &tc->o.epsilon) ||
        !tr_real(o, "weight_decay", &tc->o.weight_decay) ||
        !tr_real(o, "clipnorm", &tc->o.clipnorm) || !tr_real(o, "clipvalue", &tc->o.clipvalue) ||
        !tr_real(o, "global_clipnorm", &tc->o.global_clipnorm) ||
        !json_is_boolean(json_object_get(o, "nesterov")) || !json_is_integer(it) ||
        json_integer_value(it) < 0 || !json_is_number(up) || !isfinite(json_number_value(up)) ||
        !json_is_boolean(json_object_get(t, "m")) || !json_is_boolean(json_object_get(t, "v")))
        return rnn__st_format_error(L, "\"training\" has a missing or invalid optimizer field");
    tc->o.nesterov = json_is_true(json_object_get(o, "nesterov"));
    tc->iterations = json_integer_value(it);
    tc->u_product = json_number_value(up);
    tc->has_m = json_is_true(json_object_get(t, "m"));
    tc->has_v = json_is_true(json_object_get(t, "v"));
    tc->present = 1;
    return RNN_OK;
}

/* One layer of the file: its kind, options, producers and what they imply. */
typedef struct planned {
    const rnn__layer_ops *ops;
    void *opts;
    const char *name;
    int trainable;
    int n_in;
    int src[RNN__MAX_IN], src_out[RNN__MAX_IN];
    int shared_from; /* -1: own parameters */
    rnn__spec spec;
} planned;

/* Reads layers[i]'s kind, name, trainable flag and options. */
static rnn_status read_layer(rnn__st_file *F, size_t i, json_t *entry, planned *p)
{
    const char *kind = json_string_value(json_object_get(entry, "kind"));
    json_t *c = json_object_get(entry, "config");
    p->name = json_string_value(json_object_get(entry, "name"));
    if (!kind || !json_is_object(c) || !p->name)
        return rnn__st_format_error(F, "layers[%zu] needs \"kind\", \"name\" and \"config\"", i);
    if (!(p->ops = rnn__kind_find(kind)))
        return rnn__st_format_error(F, "layers[%zu].kind \"%.40s\" is not a layer this version "
                                       "knows",
                                    i, kind);
    if (i == 0 && p->ops->min_in != 0)
        return rnn__st_format_error(F, "layers[0] must be an input");
    json_t *tr = json_object_get(entry, "trainable");
    if (tr && !json_is_boolean(tr))
        return rnn__st_format_error(F, "layers[%zu].trainable must be a boolean", i);
    p->trainable = !tr || json_is_true(tr); /* files before the field: every layer trainable */
    if (!(p->opts = rnn__calloc(1, p->ops->options_size ? p->ops->options_size : 1)))
        return rnn__err(RNN_ERR_NOMEM, FUNC, "out of memory allocating %zu bytes",
                        p->ops->options_size);
    char where[40];
    snprintf(where, sizeof where, "layers[%zu].config", i);
    /* Every field must be there: a file says everything it means. */
    if (rnn__fields_from_json(FUNC, where, p->ops->fields, c, p->opts, 1))
        return rnn__err_wrap(RNN_ERR_FORMAT, FUNC, "%s", F->path);
    return RNN_OK;
}

/* Reads layers[i]'s producers ("inputs", default the previous layer) and
 * shared_from, checked against the layers before it. */
static rnn_status read_links(rnn__st_file *F, size_t i, json_t *entry, const planned *ps,
                             planned *p)
{
    p->n_in = p->ops->min_in == 0 ? 0 : 1;
    p->src[0] = (int)i - 1;
    json_t *ins = json_object_get(entry, "inputs");
    if (ins && p->ops->min_in == 0)
        return rnn__st_format_error(F, "layers[%zu] is an input and has no producers", i);
    if (ins) {
        if (!json_is_array(ins) || json_array_size(ins) < 1 || json_array_size(ins) > RNN__MAX_IN)
            return rnn__st_format_error(F,
                                        "layers[%zu].inputs must be a list of 1 to %d [layer, "
                                        "output] pairs",
                                        i, RNN__MAX_IN);
        p->n_in = (int)json_array_size(ins);
        for (int k = 0; k < p->n_in; k++) {
            json_t *pr = json_array_get(ins, (size_t)k);
            json_t *a = json_array_get(pr, 0), *b = json_array_get(pr, 1);
            if (!json_is_array(pr) || json_array_size(pr) != 2 || !json_is_integer(a) ||
                !json_is_integer(b) || json_integer_value(a) < 0 ||
                (size_t)json_integer_value(a) >= i || json_integer_value(b) < 0 ||
                json_integer_value(b) >= ps[json_integer_value(a)].spec.n_outputs)
                return rnn__st_format_error(F,
                                            "layers[%zu].inputs[%d] must be [an earlier layer, "
                                            "one of its outputs]",
                                            i, k);
            p->src[k] = (int)json_integer_value(a);
            p->src_out[k] = (int)json_integer_value(b);
        }
    }
    p->shared_from = -1;
    json_t *sh = json_object_get(entry, "shared_from");
    if (sh) {
        json_int_t v = json_integer_value(sh);
        if (!json_is_integer(sh) || v < 1 || (size_t)v >= i || ps[v].shared_from >= 0 ||
            ps[v].ops != p->ops || p->n_in != 1)
            return rnn__st_format_error(F,
                                        "layers[%zu].shared_from must name an earlier layer of "
                                        "the same kind",
                                        i);
        p->shared_from = (int)v;
    }
    return RNN_OK;
}

/* Pass 1: every layer's options and producers, its outputs and the
 * parameter floats they imply (in *total), without building anything. */
static rnn_status plan(rnn__st_file *F, json_t *layers, planned *ps, size_t n,
                       uint64_t *total)
{
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *entry = json_array_get(layers, i);
        planned *p = &ps[i];
        rnn_status st;
        if (!json_is_object(entry))
            return rnn__st_format_error(F, "layers[%zu] must be an object", i);
        if ((st = read_layer(F, i, entry, p)) || (st = read_links(F, i, entry, ps, p)))
            return st;
        rnn__src src[RNN__MAX_IN];
        for (int k = 0; k < p->n_in; k++)
            src[k] = (rnn__src){ps[p->src[k]].name, ps[p->src[k]].spec.out[p->src_out[k]]};
        if ((st = rnn__layer_infer(FUNC, p->ops, p->opts, p->n_in, src, &p->spec)))
            return rnn__err_wrap(RNN_ERR_FORMAT, FUNC, "%s: layers[%zu] is inconsistent",
                                 F->path, i);
        int ok;
        uint64_t params = p->shared_from >= 0 ? 0 : rnn__spec_params(&p->spec, &ok);
        if ((p->shared_from < 0 && !ok) || __builtin_add_overflow(*total, params, total) ||
            *total > F->data_size / 4)
            return rnn__st_format_error(F,
                                        "the architecture needs more parameter data than the "
                                        "file holds (%llu bytes)",
                                        (unsigned long long)F->data_size);
    }
    return RNN_OK;
}

/* Pass 2, layer i: created through the model's one entry point, named as
 * the file says, its parameters read. */
static rnn_status build_layer(rnn__st_file *F, rnn_model *m, const planned *p, size_t i)
{
    rnn__port in[RNN__MAX_IN];
    for (int k = 0; k < p->n_in; k++)
        in[k] = (rnn__port){m->layers[p->src[k]], p->src_out[k]};
    rnn_layer *l = NULL;
    rnn_status st;
    if (p->shared_from >= 0) {
        st = rnn_model_connect_next(m, in[0].layer, in[0].output);
        if (!st)
            st = rnn_model_add_shared(m, m->layers[p->shared_from], &l);
    } else
        st = rnn__model_add(FUNC, m, p->ops, p->opts, p->n_in, in, &l);
    if (st == RNN_ERR_NOMEM) /* sizes were validated: an OOM here is real */
        return st;
    if (st)
        return rnn__err_wrap(RNN_ERR_FORMAT, FUNC, "%s: layers[%zu] is inconsistent", F->path, i);
    if (p->n_in)
        rnn_layer_set_trainable(l, p->trainable);
    if (strcmp(p->name, l->name))
        return rnn__st_format_error(F, "layers[%zu] is named \"%.64s\", expected \"%s\"", i,
                                    p->name, l->name);
    for (int k = 0; k < l->n_params; k++) {
        char key[2 * RNN__NAME_MAX + 2];
        snprintf(key, sizeof key, "%s/%s", l->name, l->param_name[k]);
        if ((st = rnn__st_read(F, key, l->param[k]->rank, l->param[k]->dims,
                               rnn__f32(l->param[k]))))
            return st;
    }
    if (l->n_params)
        rnn_layer_params_changed(l);
    return RNN_OK;
}

/* Model outputs: "outputs" [[layer, output], ...], default the last layer's. */
static rnn_status read_outputs(rnn__st_file *F, rnn_model *m, json_t *outs)
{
    size_t no = json_array_size(outs);
    rnn_layer *ol[RNN__MAX_IO];
    int oo[RNN__MAX_IO];
    if (!json_is_array(outs) || no < 1 || no > RNN__MAX_IO)
        return rnn__st_format_error(F, "\"outputs\" must be a list of 1 to %d [layer, output] "
                                       "pairs",
                                    RNN__MAX_IO);
    for (size_t k = 0; k < no; k++) {
        json_t *pr = json_array_get(outs, k);
        json_int_t a = json_integer_value(json_array_get(pr, 0));
        json_int_t b = json_integer_value(json_array_get(pr, 1));
        if (!json_is_array(pr) || json_array_size(pr) != 2 || a < 0 || a >= m->n_layers ||
            b < 0 || b >= m->layers[a]->n_outputs)
            return rnn__st_format_error(F, "outputs[%zu] must be [a layer, one of its outputs]",
                                        k);
        ol[k] = m->layers[a];
        oo[k] = (int)b;
    }
    if (rnn_model_set_outputs(m, (int)no, ol, oo))
        return rnn__err_wrap(RNN_ERR_FORMAT, FUNC, "%s: bad \"outputs\"", F->path);
    return RNN_OK;
}

/* Compiles as saved, then fills the optimizer's slots. */
static rnn_status read_training(rnn__st_file *F, rnn_model *m, const training_cfg *tc)
{
    rnn_status st = rnn_model_compile(m, &tc->c, &tc->o);
    if (st)
        return rnn__err_wrap(st == RNN_ERR_NOMEM ? st : RNN_ERR_FORMAT, FUNC,
                             "%s: \"training\" is inconsistent", F->path);
    rnn_optimizer *o = m->optimizer;
    if ((o->m != NULL) != tc->has_m || (o->v != NULL) != tc->has_v)
        return rnn__st_format_error(F, "\"training\" lists optimizer slots that its optimizer "
                                       "does not have");
    o->iterations = tc->iterations;
    o->u_product = tc->u_product;
    for (int kind = 0; kind < 2; kind++) {
        float **slots = kind ? o->v : o->m;
        for (int k = 0; slots && k < m->n_params; k++) {
            const rnn__param *p = &m->params[k];
            char key[2 * RNN__NAME_MAX + 24];
            snprintf(key, sizeof key, "__optimizer__/%s/%s/%s", kind ? "v" : "m", p->layer->name,
                     p->layer->param_name[p->index]);
            if ((st = rnn__st_read(F, key, p->value->rank, p->value->dims, slots[k])))
                return st;
        }
    }
    return RNN_OK;
}

/* Builds the model from the architecture and fills its parameters. */
static rnn_status build(rnn__st_file *F, json_t *arch, json_t *layers,
                        const rnn_model_options *opts, rnn_model **out)
{
    const size_t n = json_array_size(layers);
    if (n < 2 || n > RNN__MAX_LAYERS)
        return rnn__st_format_error(F, "the architecture must have an input and 1 to %d layers "
                                       "(has %zu entries)",
                                    RNN__MAX_LAYERS - 1, n);
    planned *ps = rnn__calloc(n, sizeof *ps);
    if (!ps)
        return rnn__err(RNN_ERR_NOMEM, FUNC, "out of memory allocating %zu bytes", n * sizeof *ps);
    rnn_model *m = NULL;
    uint64_t total;
    training_cfg tc;
    rnn_status st = plan(F, layers, ps, n, &total);
    if (!st)
        st = parse_training(F, json_object_get(arch, "training"), &tc);
    const uint64_t copies = st ? 1 : 1 + (uint64_t)tc.has_m + (uint64_t)tc.has_v;
    if (!st && total * 4 * copies != F->data_size)
        st = rnn__st_format_error(F, "the architecture needs %llu bytes of parameters%s, the file "
                                     "holds %llu",
                                  (unsigned long long)(total * 4 * copies),
                                  copies > 1 ? " and optimizer state" : "",
                                  (unsigned long long)F->data_size);
    if (!st)
        st = rnn_model_create(opts, &m);
    for (size_t i = 0; !st && i < n; i++)
        st = build_layer(F, m, &ps[i], i);
    json_t *outs = json_object_get(arch, "outputs");
    if (!st && outs)
        st = read_outputs(F, m, outs);
    if (!st && tc.present)
        st = read_training(F, m, &tc);
    if (!st)
        st = rnn__st_check_disjoint(F);
    for (size_t i = 0; i < n; i++)
        rnn__free(ps[i].opts);
    rnn__free(ps);
    if (st) {
        rnn_model_destroy(m);
        return st;
    }
    *out = m;
    return RNN_OK;
}

/* The user keys of __metadata__ (all but the format's reserved ones),
 * sorted by strcmp, into *keys (to free with rnn__free). Each value must be
 * a string without NUL; the other limits are applied when the keys are set
 * on the model (read_metadata). */
static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static rnn_status user_keys(rnn__st_file *F, json_t *meta, const char ***keys, int *n)
{
    const char *k;
    json_t *v;
    size_t count = 0;
    *keys = NULL;
    *n = 0;
    json_object_foreach(meta, k, v) {
        if (rnn__meta_reserved(k))
            continue;
        if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
            return rnn__st_format_error(F, "__metadata__ key \"%.40s\" must have a string value "
                                           "without NUL, as every metadata value",
                                        k);
        if (++count > RNN__META_COUNT_MAX)
            return rnn__st_format_error(F, "__metadata__ has more than %d keys of metadata",
                                        RNN__META_COUNT_MAX);
    }
    if (!count)
        return RNN_OK;
    const char **ks = rnn__calloc(count, sizeof *ks);
    if (!ks)
        return rnn__err(RNN_ERR_NOMEM, FUNC, "out of memory allocating %zu bytes",
                        count * sizeof *ks);
    size_t i = 0;
    json_object_foreach(meta, k, v) {
        if (!rnn__meta_reserved(k))
            ks[i++] = k;
    }
    qsort(ks, count, sizeof *ks, cmp_key);
    *keys = ks;
    *n = (int)count;
    return RNN_OK;
}

/* Sets the file's user metadata on the new model, under the API's limits. */
static rnn_status read_metadata(rnn__st_file *F, json_t *meta, const char **keys, int n,
                                rnn_model *m)
{
    char where[300];
    snprintf(where, sizeof where, "%s: __metadata__: ", F->path);
    for (int i = 0; i < n; i++) {
        const char *v = json_string_value(json_object_get(meta, keys[i]));
        rnn_status st = rnn__meta_put(RNN_ERR_FORMAT, FUNC, where, &m->meta, &m->n_meta,
                                      &m->meta_bytes, keys[i], v);
        if (st)
            return st;
    }
    return RNN_OK;
}

/* A file with a checksum (every file this library writes) must match it:
 * a flipped byte in the architecture, a tensor entry, the metadata or the data is refused
 * before anything is built. Files written before checksums existed have
 * none. */
static rnn_status verify_checksum(rnn__st_file *F, json_t *meta, const char *arch_s,
                                  const char **keys, int n_keys)
{
    json_t *c = json_object_get(meta, "checksum");
#ifdef RNN__FUZZ_NO_CHECKSUM /* tools/fuzz.sh: mutated files must reach the parser */
    c = NULL;
#endif
    if (!c)
        return RNN_OK;
    const char *want = json_string_value(c);
    if (!want || strncmp(want, "fnv1a64:", 8) || strlen(want) != 24)
        return rnn__st_format_error(F, "__metadata__.checksum is not \"fnv1a64:\" and 16 hex "
                                       "digits");
    uint64_t h = rnn__st_fnv(RNN__ST_FNV_INIT, arch_s, strlen(arch_s));
    if (rnn__st_hash_entries(F->header, &h))
        return rnn__err(RNN_ERR_NOMEM, F->func, "out of memory");
    for (int i = 0; i < n_keys; i++)
        h = rnn__meta_hash(h, keys[i], json_string_value(json_object_get(meta, keys[i])));
    rnn_status st = rnn__st_hash_data(F, &h);
    if (st)
        return st;
    char got[32];
    snprintf(got, sizeof got, "fnv1a64:%016llx", (unsigned long long)h);
    if (strcmp(got, want))
        return rnn__st_format_error(F, "the checksum does not match (the file says %.24s, its "
                                       "contents give %s): the file is corrupted",
                                    want, got);
    return RNN_OK;
}

rnn_status rnn_model_load(const char *path, const rnn_model_options *options, rnn_model **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(path);
    rnn__st_file F;
    rnn_status st = rnn__st_open(__func__, path, &F);
    if (st)
        return st;
    json_t *arch = NULL;
    const char **keys = NULL;
    int n_keys = 0;
    json_t *meta = json_object_get(F.header, "__metadata__");
    const char *fmt = json_string_value(json_object_get(meta, "format"));
    const char *ver = json_string_value(json_object_get(meta, "format_version"));
    const char *arch_s = json_string_value(json_object_get(meta, "architecture"));
    if (!fmt || strcmp(fmt, RNN__FORMAT_NAME) || !arch_s) {
        st = rnn__st_format_error(&F, "not a librnn model (no __metadata__ with format "
                                      "\"librnn\" and an architecture)");
        goto done;
    }
    if (!ver || strcmp(ver, RNN__FORMAT_VERSION)) {
        st = rnn__st_format_error(&F, "format version \"%.20s\" is not supported (this library "
                                      "reads \"%s\")",
                                  ver ? ver : "?", RNN__FORMAT_VERSION);
        goto done;
    }
    if ((st = user_keys(&F, meta, &keys, &n_keys)) ||
        (st = verify_checksum(&F, meta, arch_s, keys, n_keys)))
        goto done;
    json_error_t je;
    arch = json_loads(arch_s, JSON_REJECT_DUPLICATES, &je);
    json_t *layers = json_object_get(arch, "layers");
    if (!json_is_array(layers)) {
        st = rnn__st_format_error(&F, "the architecture has no \"layers\" array");
        goto done;
    }
    st = build(&F, arch, layers, options, out);
    if (!st && (st = read_metadata(&F, meta, keys, n_keys, *out))) {
        rnn_model_destroy(*out);
        *out = NULL;
    }
done:
    rnn__free(keys);
    json_decref(arch);
    rnn__st_close(&F);
    return st ? RNN__PASS(st) : RNN_OK;
}
