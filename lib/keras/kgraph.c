/* SPDX-License-Identifier: Apache-2.0 */
/* The graph of a Keras 3 config.json: Sequential (each layer on the one
 * before) and Functional (inbound_nodes: tensors as [layer, node, index],
 * call kwargs mask and initial_state, further applications as librnn's
 * shared layers), inputs first in the model's order, the outputs, and the
 * key of each weighted layer in the weights file. */
#include "kconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ graph */

static kx_layer *find_layer(kx *x, const char *name)
{
    for (int i = 0; i < x->n; i++)
        if (x->l[i].name && !strcmp(x->l[i].name, name))
            return &x->l[i];
    return NULL;
}

typedef struct kx_ref {
    kx_layer *l;
    int node, index;
} kx_ref;

/* [name, node, index], as in input_layers and keras_history */
static int parse_ref(kx *x, json_t *a, kx_ref *r)
{
    if (!json_is_array(a) || json_array_size(a) != 3 || !json_is_string(json_array_get(a, 0)) ||
        !json_is_integer(json_array_get(a, 1)) || !json_is_integer(json_array_get(a, 2)))
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "a tensor reference is not [layer, node, index]");
    r->l = find_layer(x, json_string_value(json_array_get(a, 0)));
    json_int_t node = json_integer_value(json_array_get(a, 1));
    json_int_t idx = json_integer_value(json_array_get(a, 2));
    if (!r->l)
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "a tensor of unknown or later layer '%.80s'",
                    json_string_value(json_array_get(a, 0)));
    if (node < 0 || node >= r->l->n_nodes || idx < 0 || idx >= RNN_KX_MAX_OUT)
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "a tensor reference to a node or output layer '%.80s' "
                    "does not have", r->l->name);
    r->node = (int)node;
    r->index = (int)idx;
    if (r->l->is_mask_op)
        return 0;
    int n_out = 0;
    if (rnn_layer_num_outputs(r->l->node[node], &n_out) || idx >= n_out)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "output %d of layer '%.80s' is not one librnn has",
                    (int)idx, r->l->name);
    return 0;
}

static long long ref_id(const kx *x, const kx_ref *r)
{
    return ((long long)(r->l - x->l) * RNN_KX_MAX_NODES + r->node) * RNN_KX_MAX_OUT + r->index + 1;
}

static long long ref_mask(const kx_ref *r)
{
    return r->l->mask[r->node][r->index];
}

static int tensor_ref(kx *x, json_t *t, kx_ref *r)
{
    if (!json_is_object(t) || !json_is_string(json_object_get(t, "class_name")) ||
        strcmp(json_string_value(json_object_get(t, "class_name")), "__keras_tensor__"))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a call argument that is not a tensor is not "
                    "supported");
    return parse_ref(x, json_object_get(json_object_get(t, "config"), "keras_history"), r);
}

/* The tensors of a node's args: one tensor, or a list of them. */
static int node_inputs(kx *x, json_t *node, kx_ref *in, int *n_in)
{
    json_t *args = json_object_get(node, "args");
    if (!json_is_array(args) || json_array_size(args) < 1)
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "a call without arguments");
    json_t *a0 = json_array_get(args, 0);
    if (json_array_size(args) != 1)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a call with %zu positional arguments is not "
                    "supported", json_array_size(args));
    if (json_is_array(a0)) {
        size_t n = json_array_size(a0);
        if (n < 1 || n > 9)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a call on %zu tensors is not supported", n);
        for (size_t i = 0; i < n; i++)
            if (tensor_ref(x, json_array_get(a0, i), &in[i]))
                return -1;
        *n_in = (int)n;
        return 0;
    }
    *n_in = 1;
    return tensor_ref(x, a0, &in[0]);
}

/* kwargs: training (ignored), mask (null or the mask Keras propagates
 * anyway), initial_state (recurrent layers), the attention flags false. */
static int node_kwargs(kx *x, json_t *node, long long in_mask, kx_ref *states, int *n_states)
{
    json_t *kw = json_object_get(node, "kwargs");
    const char *k;
    json_t *v;
    *n_states = 0;
    if (kw && !json_is_object(kw))
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "call kwargs are not an object");
    json_object_foreach(kw, k, v) {
        if (!strcmp(k, "training"))
            continue;
        if (!strcmp(k, "return_attention_scores") || !strcmp(k, "use_causal_mask")) {
            if (json_is_true(v))
                return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "call argument %s=True is not supported", k);
            continue;
        }
        if (!strcmp(k, "mask")) {
            if (json_is_null(v))
                continue;
            kx_ref m;
            json_t *mv = json_is_array(v) ? json_array_get(v, 0) : v;
            if (tensor_ref(x, mv, &m))
                return -1;
            if (!m.l->is_mask_op || m.l->mask[m.node][0] != in_mask || !in_mask)
                return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a mask other than the one an "
                            "Embedding(mask_zero=True) gives is not supported");
            continue;
        }
        if (!strcmp(k, "initial_state")) {
            if (json_is_null(v))
                continue;
            size_t n = json_array_size(v);
            if (!json_is_array(v) || n < 1 || n > 4)
                return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "initial_state must be a list of 1 to 4 "
                            "tensors");
            for (size_t i = 0; i < n; i++)
                if (tensor_ref(x, json_array_get(v, i), &states[i]))
                    return -1;
            *n_states = (int)n;
            continue;
        }
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "call argument '%.60s' is not supported", k);
    }
    return 0;
}

/* NotEqual(tokens, 0): the mask Embedding(mask_zero=True) computes, which
 * Keras 3 writes into functional configs as an operation of its own. */
static int mask_op(kx *x, kx_layer *L, json_t *node, int k)
{
    json_t *args = json_object_get(node, "args");
    kx_ref t;
    if (!json_is_array(args) || json_array_size(args) != 2 ||
        !json_is_integer(json_array_get(args, 1)) || json_integer_value(json_array_get(args, 1)))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "operation NotEqual other than tokens != 0 is not "
                    "supported");
    if (tensor_ref(x, json_array_get(args, 0), &t))
        return -1;
    L->mask[k][0] = ref_id(x, &t);
    return 0;
}

static int apply_node(kx *x, kx_layer *L, json_t *node, int k, rnn_kx_wentry *w, int *nw)
{
    if (L->is_mask_op)
        return mask_op(x, L, node, k);
    kx_ref in[9], st[4];
    int n_in, n_st;
    if (node_inputs(x, node, in, &n_in))
        return -1;
    long long masks[9];
    rnn_layer *src[9];
    int outs[9];
    for (int i = 0; i < n_in; i++) {
        if (in[i].l->is_mask_op)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a mask as a layer's input is not supported");
        masks[i] = ref_mask(&in[i]);
        src[i] = in[i].l->node[in[i].node];
        outs[i] = in[i].index;
    }
    if (node_kwargs(x, node, masks[0], st, &n_st))
        return -1;
    json_t *c = json_object_get(L->cfg, "config");
    kx_map r;
    if (rnn_kx_map_layer(x, L->cls, c, n_in, masks, &r))
        return -1;
    int rc;
    if (k == 0) {
        rc = rnn_kx_add_mapped(x, &r, c, n_in, src, outs, &L->node[0]);
        if (!rc && r.layout != RNN_KX_W_NONE) {
            rnn_kx_wentry *e = &w[(*nw)++];
            e->layer = L->node[0];
            e->layout = r.layout;
        }
    } else {
        /* a further application of the same layer: librnn's shared layer */
        rnn_status s = n_in == 1 ? rnn_model_connect_next(x->m, src[0], outs[0]) : RNN_OK;
        if (n_in != 1)
            rc = rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a shared layer with %d inputs is not supported",
                      n_in);
        else if (!s)
            s = rnn_model_add_shared(x->m, L->node[0], &L->node[k]);
        rc = n_in != 1 ? -1 : s ? rnn_kx_core_layer_fail(x, s) : 0;
    }
    json_decref(r.opts);
    if (rc)
        return -1;
    for (int o = 0; o < RNN_KX_MAX_OUT; o++)
        L->mask[k][o] = r.out_mask[o] == -1 ? ref_id(x, &in[0]) : r.out_mask[o];
    if (n_st) {
        rnn_layer *ss[4];
        int so[4];
        for (int i = 0; i < n_st; i++) {
            if (st[i].l->is_mask_op)
                return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a mask as an initial state");
            ss[i] = st[i].l->node[st[i].node];
            so[i] = st[i].index;
        }
        rnn_status s = rnn_kx_is_rnn_class(L->cls) || !strcmp(L->cls, "Bidirectional")
                           ? rnn_layer_connect_initial_state(L->node[k], n_st, ss, so)
                           : RNN_ERR_UNSUPPORTED;
        if (s == RNN_ERR_UNSUPPORTED)
            return rnn_kx_fail(x, s, "initial_state on a layer that is not recurrent");
        if (s)
            return rnn_kx_core_layer_fail(x, s);
    }
    return 0;
}

/* The h5 keys: Keras names each layer's group after its class in
 * snake_case, numbered in the model's layer order ("dense", "dense_1"). */
static int assign_keys(kx *x, rnn_kx_wentry *w, int nw)
{
    int e = 0;
    for (int i = 0; i < x->n && e < nw; i++) {
        kx_layer *L = &x->l[i];
        if (L->is_mask_op || !L->n_nodes || L->node[0] != w[e].layer)
            continue;
        char base[96];
        rnn_kx_snake(L->cls, base, sizeof base);
        int count = 0;
        for (int j = 0; j < i; j++)
            if (!strcmp(x->l[j].cls, L->cls) && !x->l[j].is_mask_op)
                count++;
        if (count)
            snprintf(w[e].key, sizeof w[e].key, "layers/%s_%d", base, count);
        else
            snprintf(w[e].key, sizeof w[e].key, "layers/%s", base);
        e++;
    }
    return e == nw ? 0 : rnn_kx_fail(x, RNN_ERR_INTERNAL, "weights out of step with layers");
}

static int read_layers(kx *x, json_t *layers, int functional)
{
    size_t n = json_array_size(layers);
    if (!json_is_array(layers) || n < 1)
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "config.json has no layers");
    if (n > RNN_KX_MAX_LAYERS)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%zu layers (at most %d)", n, RNN_KX_MAX_LAYERS);
    x->l = calloc(n, sizeof *x->l);
    if (!x->l)
        return rnn_kx_fail(x, RNN_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *L = json_array_get(layers, i), *c = json_object_get(L, "config");
        const char *cls = rnn_kx_class_of(L);
        const char *name = json_string_value(json_object_get(c, "name"));
        if (!cls || !json_is_object(c) || !name)
            return rnn_kx_fail(x, RNN_ERR_FORMAT, "layer %zu has no class_name, config or name", i);
        const char *mod = json_string_value(json_object_get(L, "module"));
        if (mod && strncmp(mod, "keras.layers", 12) && strcmp(cls, "NotEqual"))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "layer '%.80s': class '%.60s' of module "
                        "'%.60s' is not supported", name, cls, mod);
        if (functional && find_layer(x, name))
            return rnn_kx_fail(x, RNN_ERR_FORMAT, "two layers are called '%.80s'", name);
        x->l[i].name = name;
        x->l[i].cls = cls;
        x->l[i].cfg = L;
        x->l[i].is_mask_op = !strcmp(cls, "NotEqual") && mod && !strncmp(mod, "keras.src.ops", 13);
        if (!strcmp(cls, "NotEqual") && !x->l[i].is_mask_op)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "layer '%.80s': class 'NotEqual' is not supported",
                        name);
        x->n = (int)i + 1;
    }
    return 0;
}

static int build_sequential(kx *x, json_t *cfg, rnn_kx_wentry *w, int *nw)
{
    if (read_layers(x, json_object_get(cfg, "layers"), 0))
        return -1;
    kx_layer *L = &x->l[0];
    x->lname = L->name, x->lcls = L->cls;
    if (strcmp(L->cls, "InputLayer"))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a Sequential model without an Input (first layer "
                    "'%.60s') is not supported", L->cls);
    if (rnn_kx_add_input(x, json_object_get(L->cfg, "config"), &L->node[0]))
        return -1;
    L->n_nodes = 1;
    for (int i = 1; i < x->n; i++) {
        kx_layer *P = &x->l[i - 1];
        L = &x->l[i];
        x->lname = L->name, x->lcls = L->cls;
        if (L->is_mask_op || !strcmp(L->cls, "InputLayer"))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "not supported inside a Sequential model");
        json_t *c = json_object_get(L->cfg, "config");
        kx_map r;
        long long m[1] = {P->mask[0][0]};
        if (rnn_kx_map_layer(x, L->cls, c, 1, m, &r))
            return -1;
        int out0 = 0;
        int rc = rnn_kx_add_mapped(x, &r, c, 1, &P->node[0], &out0, &L->node[0]);
        json_decref(r.opts);
        if (rc)
            return -1;
        L->n_nodes = 1;
        for (int o = 0; o < RNN_KX_MAX_OUT; o++)
            L->mask[0][o] = r.out_mask[o] == -1 ? (long long)i : r.out_mask[o];
        if (r.layout != RNN_KX_W_NONE) {
            w[*nw].layer = L->node[0];
            w[*nw].layout = r.layout;
            (*nw)++;
        }
    }
    x->lname = NULL;
    return assign_keys(x, w, *nw);
}

static int ref_list(kx *x, json_t *v, kx_ref *refs, int max, int *n, const char *what)
{
    /* a list of [name, node, index], or one such triple */
    if (json_is_array(v) && json_array_size(v) == 3 && json_is_string(json_array_get(v, 0))) {
        *n = 1;
        return parse_ref(x, v, &refs[0]);
    }
    size_t k = json_array_size(v);
    if (!json_is_array(v) || k < 1 || k > (size_t)max)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s must list 1 to %d tensors", what, max);
    for (size_t i = 0; i < k; i++)
        if (parse_ref(x, json_array_get(v, i), &refs[i]))
            return -1;
    *n = (int)k;
    return 0;
}

static int build_functional(kx *x, json_t *cfg, rnn_kx_wentry *w, int *nw)
{
    if (read_layers(x, json_object_get(cfg, "layers"), 1))
        return -1;
    /* inputs first, in the model's order: librnn numbers inputs as added */
    json_t *il = json_object_get(cfg, "input_layers");
    if (json_is_array(il) && json_array_size(il) == 3 && json_is_string(json_array_get(il, 0))) {
        json_t *one = json_array();
        if (!one || json_array_append(one, il)) {
            json_decref(one);
            return rnn_kx_fail(x, RNN_ERR_NOMEM, "out of memory");
        }
        il = one;
    } else {
        json_incref(il);
    }
    int rc = 0;
    size_t n_in = json_array_size(il);
    if (!json_is_array(il) || n_in < 1 || n_in > 16)
        rc = rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "input_layers must list 1 to 16 inputs");
    for (size_t i = 0; !rc && i < n_in; i++) {
        json_t *ref = json_array_get(il, i);
        kx_layer *L = json_is_array(ref) ? find_layer(x, json_string_value(json_array_get(ref, 0)))
                                         : NULL;
        if (!L || strcmp(L->cls, "InputLayer") || L->n_nodes)
            rc = rnn_kx_fail(x, RNN_ERR_FORMAT, "input_layers entry %zu is not an InputLayer", i);
        else {
            x->lname = L->name, x->lcls = L->cls;
            rc = rnn_kx_add_input(x, json_object_get(L->cfg, "config"), &L->node[0]);
            L->n_nodes = !rc;
            x->lname = NULL;
        }
    }
    json_decref(il);
    if (rc)
        return -1;
    for (int i = 0; i < x->n; i++) {
        kx_layer *L = &x->l[i];
        x->lname = L->name, x->lcls = L->cls;
        if (!strcmp(L->cls, "InputLayer")) {
            if (!L->n_nodes)
                return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "an InputLayer that is not a model input");
            continue;
        }
        json_t *nodes = json_object_get(L->cfg, "inbound_nodes");
        size_t nn = json_array_size(nodes);
        if (!json_is_array(nodes) || nn < 1)
            return rnn_kx_fail(x, RNN_ERR_FORMAT, "a layer without inbound_nodes");
        if (nn > RNN_KX_MAX_NODES)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%zu applications (at most %d)", nn,
                        RNN_KX_MAX_NODES);
        for (size_t k = 0; k < nn; k++) {
            if (apply_node(x, L, json_array_get(nodes, k), (int)k, w, nw))
                return -1;
            L->n_nodes = (int)k + 1;
        }
    }
    x->lname = NULL;
    kx_ref outs[16];
    int n_out;
    if (ref_list(x, json_object_get(cfg, "output_layers"), outs, 16, &n_out, "output_layers"))
        return -1;
    rnn_layer *ol[16];
    int oi[16];
    for (int i = 0; i < n_out; i++) {
        if (outs[i].l->is_mask_op)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a mask as a model output is not supported");
        ol[i] = outs[i].l->node[outs[i].node];
        oi[i] = outs[i].index;
    }
    rnn_status s = rnn_model_set_outputs(x->m, n_out, ol, oi);
    if (s)
        return rnn_kx_core_fail(x->e, s, "output_layers");
    return assign_keys(x, w, *nw);
}

int rnn_kx_build(const char *text, size_t len, const rnn_model_options *options,
                 rnn_model **out, rnn_kx_wentry *entries, int *n_entries, rnn_kx_err *e)
{
    kx x = {0};
    x.e = e;
    *out = NULL;
    *n_entries = 0;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return rnn_kx_fail(&x, RNN_ERR_FORMAT, "config.json is not valid JSON (line %d: %.200s)",
                    je.line, je.text);
    int rc = -1;
    const char *cls = rnn_kx_class_of(root);
    json_t *cfg = json_object_get(root, "config");
    if (!cls || !json_is_object(cfg))
        rnn_kx_fail(&x, RNN_ERR_FORMAT, "config.json has no class_name and config");
    else if (strcmp(cls, "Sequential") && strcmp(cls, "Functional"))
        rnn_kx_fail(&x, RNN_ERR_UNSUPPORTED, "a model of class '%.60s' is not supported (librnn: "
             "Sequential and Functional models)", cls);
    else {
        rnn_status s = rnn_model_create(options, &x.m);
        if (s)
            rnn_kx_core_fail(e, s, NULL);
        else if (!strcmp(cls, "Sequential"))
            rc = build_sequential(&x, cfg, entries, n_entries);
        else
            rc = build_functional(&x, cfg, entries, n_entries);
    }
    free(x.l);
    json_decref(root);
    if (rc) {
        rnn_model_destroy(x.m);
        return -1;
    }
    *out = x.m;
    return 0;
}
