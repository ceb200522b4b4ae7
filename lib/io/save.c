/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rnn_model_save: the model's architecture as JSON metadata, written from
 * each kind's configuration field table, and its parameters (and optimizer
 * state) as safetensors (io/safetensors.c). See include/rnn/io.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "io/safetensors.h"
#include "optim/optimizer.h"
#include "rnn/io.h"

const char *const rnn__loss_names[5] = {NULL, "sparse_categorical_crossentropy",
                                     "categorical_crossentropy", "binary_crossentropy",
                                     "mean_squared_error"};
const char *const rnn__optim_names[6] = {NULL, "sgd", "rmsprop", "adam", "nadam", "adamw"};
const char *const rnn__reduction_names[2] = {"mean", "masked_mean"};

/* The compile configuration and optimizer scalars ("training" in the
 * architecture); the slot tensors are written as "__optimizer__/m|v/<param>". */
static json_t *training_json(const rnn_model *m)
{
    const rnn_optimizer *o = m->optimizer;
    const rnn_optimizer_options *p = &o->o;
    return json_pack("{s:s, s:b, s:s, s:{s:s, s:f, s:f, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
                     "s:f}, s:I, s:f, s:b, s:b}",
                     "loss", rnn__loss_names[m->loss.type], "from_logits", m->loss.from_logits,
                     "reduction", rnn__reduction_names[m->loss.reduction], "optimizer", "type",
                     rnn__optim_names[p->type], "learning_rate", (double)p->learning_rate, "momentum",
                     (double)p->momentum, "nesterov", p->nesterov, "rho", (double)p->rho,
                     "beta_1", (double)p->beta_1, "beta_2", (double)p->beta_2, "epsilon",
                     (double)p->epsilon, "weight_decay", (double)p->weight_decay, "clipnorm",
                     (double)p->clipnorm, "clipvalue", (double)p->clipvalue, "global_clipnorm",
                     (double)p->global_clipnorm, "iterations", (json_int_t)o->iterations,
                     "u_product", o->u_product, "m", o->m != NULL, "v", o->v != NULL);
}

/* {"kind", "name", "trainable", "config", "inputs", "shared_from"} of a layer. */
static json_t *layer_entry(const rnn_layer *l)
{
    json_t *e = json_object(), *ins = l->n_in ? json_array() : NULL;
    int ok = e && (!l->n_in || ins);
    for (int k = 0; ok && k < l->n_in; k++)
        ok = !json_array_append_new(ins, json_pack("[ii]", l->in[k].layer->index, l->in[k].output));
    ok = ok && (!ins || !json_object_set_new(e, "inputs", ins));
    ins = NULL; /* e owns it now, or it is released below */
    ok = ok && (!l->shared_from ||
                !json_object_set_new(e, "shared_from", json_integer(l->shared_from->index)));
    ok = ok && !json_object_set_new(e, "kind", json_string(l->ops->kind)) &&
         !json_object_set_new(e, "name", json_string(l->name)) &&
         !json_object_set_new(e, "trainable", json_boolean(l->trainable)) &&
         !json_object_set_new(e, "config", rnn__layer_config_json(l));
    if (!ok) {
        json_decref(ins);
        json_decref(e);
        return NULL;
    }
    return e;
}

/* The architecture: {"format", "format_version", "layers", "outputs", "training"}. */
static json_t *architecture(const rnn_model *m, int with_training)
{
    json_t *arch = json_object(), *layers = json_array();
    int ok = arch && layers && !json_object_set_new(arch, "format", json_string(RNN__FORMAT_NAME)) &&
             !json_object_set_new(arch, "format_version", json_integer(1)) &&
             !json_object_set(arch, "layers", layers);
    for (int i = 0; ok && i < m->n_layers; i++)
        ok = !json_array_append_new(layers, layer_entry(m->layers[i]));
    json_decref(layers);
    if (ok && m->n_outputs) {
        json_t *outs = json_array();
        ok = outs && !json_object_set_new(arch, "outputs", outs);
        for (int k = 0; ok && k < m->n_outputs; k++)
            ok = !json_array_append_new(
                outs, json_pack("[ii]", m->outputs[k].layer->index, m->outputs[k].output));
    }
    if (ok && with_training)
        ok = !json_object_set_new(arch, "training", training_json(m));
    if (!ok) {
        json_decref(arch);
        return NULL;
    }
    return arch;
}

/* FNV-1a of n floats as little-endian bytes (what the file holds). */
static uint64_t hash_floats(uint64_t h, const float *v, int64_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        u = __builtin_bswap32(u);
        h = rnn__st_fnv(h, &u, 4);
    }
    return h;
#else
    return rnn__st_fnv(h, v, (size_t)n * sizeof(float));
#endif
}

uint64_t rnn__meta_hash(uint64_t h, const char *key, const char *value)
{
    h = rnn__st_fnv(h, key, strlen(key) + 1); /* with its 0 byte */
    return rnn__st_fnv(h, value, strlen(value) + 1);
}

/* The header: an entry per parameter ("layer/param") and optimizer slot
 * ("__optimizer__/m|v/layer/param"), then __metadata__; data lists the
 * arrays in the same order. */
static int build_header(const rnn_model *m, const rnn_optimizer *opt, json_t *header,
                        rnn__st_data *data, size_t *n_data)
{
    uint64_t offset = 0;
    size_t n = 0;
    char key[2 * RNN__NAME_MAX + 24];
    for (int k = 0; k < m->n_params; k++) {
        const rnn__param *p = &m->params[k];
        snprintf(key, sizeof key, "%s/%s", p->layer->name, p->layer->param_name[p->index]);
        if (rnn__st_entry(header, key, p->value->rank, p->value->dims, &offset))
            return -1;
        data[n++] = (rnn__st_data){rnn__f32(p->value), p->value->numel};
    }
    for (int kind = 0; opt && kind < 2; kind++) {
        float **slots = kind ? opt->v : opt->m;
        for (int k = 0; slots && k < m->n_params; k++) {
            const rnn__param *p = &m->params[k];
            snprintf(key, sizeof key, "__optimizer__/%s/%s/%s", kind ? "v" : "m", p->layer->name,
                     p->layer->param_name[p->index]);
            if (rnn__st_entry(header, key, p->value->rank, p->value->dims, &offset))
                return -1;
            data[n++] = (rnn__st_data){slots[k], p->value->numel};
        }
    }
    *n_data = n;
    json_t *arch = architecture(m, opt != NULL);
    char *arch_s = arch ? json_dumps(arch, JSON_COMPACT) : NULL;
    json_decref(arch);
    /* The checksum: the architecture, the tensor entries, the metadata
     * (model_file.h), then the data as written (little-endian). */
    uint64_t h = arch_s ? rnn__st_fnv(RNN__ST_FNV_INIT, arch_s, strlen(arch_s)) : 0;
    if (arch_s && rnn__st_hash_entries(header, &h)) {
        free(arch_s);
        return -1;
    }
    for (int i = 0; i < m->n_meta; i++)
        h = rnn__meta_hash(h, m->meta[i].key, m->meta[i].value);
    for (size_t i = 0; arch_s && i < n; i++)
        h = hash_floats(h, data[i].p, data[i].n);
    char sum[32];
    snprintf(sum, sizeof sum, "fnv1a64:%016llx", (unsigned long long)h);
    json_t *meta = json_object();
    int bad = !arch_s || !meta ||
              json_object_set_new(meta, "checksum", json_string(sum)) ||
              json_object_set_new(meta, "format", json_string(RNN__FORMAT_NAME)) ||
              json_object_set_new(meta, "format_version", json_string(RNN__FORMAT_VERSION)) ||
              json_object_set_new(meta, "librnn_version", json_string(RNN_VERSION_STRING)) ||
              json_object_set_new(meta, "architecture", json_string(arch_s));
    for (int i = 0; !bad && i < m->n_meta; i++) /* user keys, verbatim */
        bad = json_object_set_new(meta, m->meta[i].key, json_string(m->meta[i].value));
    free(arch_s);
    if (bad || json_object_set_new(header, "__metadata__", meta)) {
        if (bad)
            json_decref(meta);
        return -1;
    }
    return 0;
}

rnn_status rnn_model_save(const rnn_model *m, const char *path)
{
    rnn_status st = rnn_model_save_ex(m, path, 0);
    return st ? RNN__PASS(st) : RNN_OK; /* the message names rnn_model_save */
}

rnn_status rnn_model_save_ex(const rnn_model *m, const char *path, unsigned flags)
{
    RNN__CHECK_ARG_AS(m, "model");
    RNN__CHECK_ARG(path);
    if (m->n_layers < 2)
        return RNN__ERR(RNN_ERR_STATE, "the model has no layers after its input");
    if (flags & ~(unsigned)RNN_SAVE_OPTIMIZER)
        return RNN__ERR(RNN_ERR_INVALID_ARG, "flags has unknown bits (0x%x)", flags);
    const rnn_optimizer *opt = (flags & RNN_SAVE_OPTIMIZER) ? m->optimizer : NULL;
    if ((flags & RNN_SAVE_OPTIMIZER) && (!m->compiled || !opt))
        return RNN__ERR(RNN_ERR_STATE,
                        "RNN_SAVE_OPTIMIZER: the model is not compiled, it has no optimizer");
    if (opt && opt->n_slots != 0 && opt->n_slots != m->n_params)
        return RNN__ERR(RNN_ERR_STATE,
                        "the model gained layers after rnn_model_compile(); compile again");
    json_t *header = json_object();
    rnn__st_data *data = rnn__calloc((size_t)(3 * m->n_params + 1), sizeof *data);
    size_t n_data = 0;
    rnn_status st;
    if (!header || !data || build_header(m, opt, header, data, &n_data))
        st = RNN__ERR(RNN_ERR_NOMEM, "out of memory while building the file header");
    else
        st = rnn__st_write(__func__, path, header, data, n_data);
    if (!st)
        rnn__log(RNN_LOG_INFO, "saved model to %s", path);
    rnn__free(data);
    json_decref(header);
    return st ? RNN__PASS(st) : RNN_OK;
}
