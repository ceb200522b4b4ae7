/* SPDX-License-Identifier: Apache-2.0 */
/* config.json of a Keras 3 model -> a librnn model, through the public API
 * (rnn_model_add_input, rnn_model_add_layer with librnn's option names,
 * rnn_model_add_shared, rnn_layer_connect_initial_state,
 * rnn_model_set_outputs).
 *
 * Every key of a layer's configuration is either mapped, checked to have
 * the one value librnn computes exactly (regularizers and constraints null,
 * recurrent_activation "sigmoid", ...), or known not to change the numbers
 * (initializers: the weights come from the file; unroll, seed). Any other
 * key or value is refused: nothing is approximated.
 *
 * Masks are followed tensor by tensor, as Keras propagates them: a tensor's
 * mask is the id of the token tensor an Embedding(mask_zero=True) read, or
 * 0. librnn carries each sample's length through the same layers, except
 * where Keras drops a mask and librnn does not (Conv1D, MaxPooling1D) or
 * the reverse (GlobalMaxPooling1D): those are refused on masked input. */
#include "kconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rnn_kx_fail(kx *x, rnn_status st, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    x->e->status = st;
    if (x->lname)
        snprintf(x->e->msg, sizeof x->e->msg, "layer '%.100s' (%.40s): %.300s", x->lname,
                 x->lcls, msg);
    else
        snprintf(x->e->msg, sizeof x->e->msg, "%s", msg);
    return -1;
}

int rnn_kx_core_fail(rnn_kx_err *e, rnn_status st, const char *prefix)
{
    const char *c = rnn_last_error();
    const char *colon = strstr(c, ": ");
    if (strncmp(c, "rnn_", 4) == 0 && colon)
        c = colon + 2;
    e->status = st;
    snprintf(e->msg, sizeof e->msg, "%s%s%.300s", prefix ? prefix : "", prefix ? ": " : "", c);
    return -1;
}

int rnn_kx_core_layer_fail(kx *x, rnn_status st)
{
    char p[200];
    snprintf(p, sizeof p, "layer '%.100s' (%.40s)", x->lname ? x->lname : "?",
             x->lcls ? x->lcls : "?");
    return rnn_kx_core_fail(x->e, st, p);
}

void rnn_kx_snake(const char *cls, char *out, size_t size)
{
    /* Keras' to_snake_case: "_" before an upper-case letter that starts a
     * capitalised word ("GlobalAveragePooling1D"), or that follows a
     * lower-case letter ("SimpleRNN" -> "simple_rnn"); then lower case. */
    size_t o = 0, n = strlen(cls);
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        char c = cls[i];
        int up = c >= 'A' && c <= 'Z';
        int low_next = i + 1 < n && cls[i + 1] >= 'a' && cls[i + 1] <= 'z';
        int low_prev = i > 0 && cls[i - 1] >= 'a' && cls[i - 1] <= 'z';
        if (i > 0 && up && (low_prev || low_next) && o > 0 && out[o - 1] != '_')
            out[o++] = '_';
        out[o++] = up ? (char)(c - 'A' + 'a') : c;
    }
    out[o] = 0;
}

/* ------------------------------------------------------------ values */

static const char *jtype(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static int get_bool(kx *x, json_t *c, const char *k, int def, int *out)
{
    json_t *v = json_object_get(c, k);
    *out = def;
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "%s must be a boolean (got %s)", k, jtype(v));
    *out = json_is_true(v);
    return 0;
}

static int get_int(kx *x, json_t *c, const char *k, long long lo, long long hi, long long *out)
{
    json_t *v = json_object_get(c, k);
    /* Keras writes sizes of 1-D layers as one-element lists: [3] */
    if (json_is_array(v) && json_array_size(v) == 1)
        v = json_array_get(v, 0);
    if (!json_is_integer(v))
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "%s must be an integer (got %s)", k, v ? jtype(v) : "nothing");
    long long i = json_integer_value(v);
    if (i < lo || i > hi)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s=%lld is not supported (librnn: %lld to %lld)", k,
                    i, lo, hi);
    *out = i;
    return 0;
}

static int get_float(kx *x, json_t *c, const char *k, double def, double *out)
{
    json_t *v = json_object_get(c, k);
    *out = def;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "%s must be a number (got %s)", k, jtype(v));
    *out = json_number_value(v);
    return 0;
}

static const char *get_str(kx *x, json_t *c, const char *k, const char *def)
{
    json_t *v = json_object_get(c, k);
    if (!v || json_is_null(v))
        return def;
    if (!json_is_string(v)) {
        rnn_kx_fail(x, RNN_ERR_FORMAT, "%s must be a string (got %s)", k, jtype(v));
        return NULL;
    }
    return json_string_value(v);
}

/* Value of k, which must be one of the names (NULL-terminated); its index. */
static int get_choice(kx *x, json_t *c, const char *k, const char *def, const char *const *names,
                      const char *what)
{
    const char *s = get_str(x, c, k, def);
    if (!s)
        return -1;
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s='%.60s' is not supported (librnn: %s)", k, s, what);
    return -1;
}

static int activation(kx *x, json_t *c, const char *k, const char *def, const char **out)
{
    static const char *const names[] = {"linear", "tanh",    "relu",       "sigmoid",
                                        "softmax", "log_softmax", NULL};
    if (json_is_object(json_object_get(c, k)))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s: a custom activation object is not supported", k);
    int i = get_choice(x, c, k, def, names, "linear, tanh, relu, sigmoid, softmax, log_softmax");
    if (i < 0)
        return -1;
    *out = names[i];
    return 0;
}

/* The keys every layer may have, and the rules for the families of keys
 * that never change librnn's numbers or must be empty. */
static int check_keys(kx *x, json_t *c, const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach(c, k, v) {
        int ok = 0;
        for (int i = 0; known && known[i] && !ok; i++)
            ok = strcmp(k, known[i]) == 0;
        if (ok || !strcmp(k, "name") || !strcmp(k, "trainable") || !strcmp(k, "seed"))
            continue;
        size_t n = strlen(k);
        if (n > 12 && !strcmp(k + n - 12, "_initializer"))
            continue; /* the weights come from the file */
        if ((n > 12 && !strcmp(k + n - 12, "_regularizer")) ||
            (n > 11 && !strcmp(k + n - 11, "_constraint")) || !strcmp(k, "quantization_config") ||
            !strcmp(k, "lora_rank") || !strcmp(k, "lora_alpha")) {
            if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 0 &&
                                    !strcmp(k, "lora_rank")))
                continue;
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s is set (librnn has no %s)", k,
                        strstr(k, "regularizer") ? "regularizers"
                        : strstr(k, "constraint") ? "constraints"
                                                  : "quantized or LoRA layers");
        }
        if (!strcmp(k, "dtype")) {
            const char *d = json_is_string(v) ? json_string_value(v) : NULL;
            json_t *pc = json_object_get(v, "config");
            if (!d && json_is_object(pc))
                d = json_string_value(json_object_get(pc, "name"));
            if (json_is_null(v) || (d && !strcmp(d, "float32")))
                continue;
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "dtype '%.40s' is not supported (librnn: float32)",
                        d ? d : "?");
        }
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "argument '%.60s' is not supported", k);
    }
    json_t *t = json_object_get(c, "trainable");
    if (t && !json_is_boolean(t))
        return rnn_kx_fail(x, RNN_ERR_FORMAT, "trainable must be a boolean");
    return 0;
}

int rnn_kx_want_false(kx *x, json_t *c, const char *k)
{
    int b;
    if (get_bool(x, c, k, 0, &b))
        return -1;
    return b ? rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s=True is not supported", k) : 0;
}

static int want_str(kx *x, json_t *c, const char *k, const char *val, int null_ok)
{
    json_t *v = json_object_get(c, k);
    if (!v || (null_ok && json_is_null(v)))
        return 0;
    if (json_is_string(v) && !strcmp(json_string_value(v), val))
        return 0;
    if (json_is_string(v))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s='%.60s' is not supported (librnn: '%s')", k,
                    json_string_value(v), val);
    return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%s=%s is not supported (librnn: '%s')", k, jtype(v), val);
}

/* ------------------------------------------------------------ layers */

/* What a Keras layer becomes: a librnn kind, its options, where its
 * weights are, and the mask of its outputs given its inputs'. */

static int set(kx *x, kx_map *r, const char *k, json_t *v)
{
    if (!v || json_object_set_new(r->opts, k, v))
        return rnn_kx_fail(x, RNN_ERR_NOMEM, "out of memory");
    return 0;
}

static int map_recurrent(kx *x, const char *cls, json_t *c, long long in_mask, kx_map *r)
{
    static const char *const keys[] = {
        "units", "activation", "recurrent_activation", "use_bias", "return_sequences",
        "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask",
        "dropout", "recurrent_dropout", "unit_forget_bias", "reset_after", "use_cudnn", NULL};
    int lstm = !strcmp(cls, "LSTM"), gru = !strcmp(cls, "GRU");
    if (check_keys(x, c, keys))
        return -1;
    if (!lstm && json_object_get(c, "unit_forget_bias"))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "argument 'unit_forget_bias' is not supported");
    if (!gru && json_object_get(c, "reset_after"))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "argument 'reset_after' is not supported");
    long long units;
    const char *act;
    int use_bias, seqs, state, back, stateful, ufb, ra;
    double drop, rdrop;
    if (get_int(x, c, "units", 1, 1 << 24, &units) || activation(x, c, "activation", "tanh", &act) ||
        get_bool(x, c, "use_bias", 1, &use_bias) || get_bool(x, c, "return_sequences", 0, &seqs) ||
        get_bool(x, c, "return_state", 0, &state) || get_bool(x, c, "go_backwards", 0, &back) ||
        get_bool(x, c, "stateful", 0, &stateful) || get_bool(x, c, "unit_forget_bias", 1, &ufb) ||
        get_bool(x, c, "reset_after", 1, &ra) || get_float(x, c, "dropout", 0, &drop) ||
        get_float(x, c, "recurrent_dropout", 0, &rdrop))
        return -1;
    if (strcmp(act, "tanh") && (lstm || gru || strcmp(act, "relu")))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "activation='%s' is not supported (librnn: tanh%s)",
                    act, lstm || gru ? "" : " or relu");
    if ((lstm || gru) && want_str(x, c, "recurrent_activation", "sigmoid", 0))
        return -1;
    if (back && seqs && in_mask)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED,
                    "go_backwards=True with return_sequences=True on masked input is not "
                    "supported (Keras returns the padded steps first)");
    static const char *const cells[] = {"simple_rnn", "lstm", "gru"};
    if (set(x, r, "cell", json_string(cells[lstm ? 1 : gru ? 2 : 0])) ||
        set(x, r, "units", json_integer(units)) || set(x, r, "activation", json_string(act)) ||
        set(x, r, "use_bias", json_boolean(use_bias)) ||
        set(x, r, "return_sequences", json_boolean(seqs)) ||
        set(x, r, "return_state", json_boolean(state)) ||
        set(x, r, "go_backwards", json_boolean(back)) ||
        set(x, r, "stateful", json_boolean(stateful)) || set(x, r, "dropout", json_real(drop)) ||
        set(x, r, "recurrent_dropout", json_real(rdrop)))
        return -1;
    if (lstm && set(x, r, "unit_forget_bias", json_boolean(ufb)))
        return -1;
    if (gru && set(x, r, "reset_after", json_boolean(ra)))
        return -1;
    r->kind = "recurrent";
    r->layout = RNN_KX_W_RNN;
    r->out_mask[0] = seqs ? in_mask : 0;
    return 0;
}

int rnn_kx_is_rnn_class(const char *cls)
{
    return cls && (!strcmp(cls, "LSTM") || !strcmp(cls, "GRU") || !strcmp(cls, "SimpleRNN"));
}

const char *rnn_kx_class_of(json_t *layer)
{
    return json_string_value(json_object_get(layer, "class_name"));
}

static int map_bidirectional(kx *x, json_t *c, long long in_mask, kx_map *r)
{
    static const char *const keys[] = {"layer", "merge_mode", "backward_layer", NULL};
    static const char *const modes[] = {"concat", "sum", "mul", "ave", NULL};
    if (check_keys(x, c, keys))
        return -1;
    json_t *v = json_object_get(c, "merge_mode");
    if (!v || json_is_null(v))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED,
                    "merge_mode=None is not supported (librnn: concat, sum, mul, ave)");
    int mode = get_choice(x, c, "merge_mode", "concat", modes, "concat, sum, mul, ave");
    if (mode < 0)
        return -1;
    json_t *inner = json_object_get(c, "layer"), *back = json_object_get(c, "backward_layer");
    const char *cls = rnn_kx_class_of(inner);
    json_t *ic = json_object_get(inner, "config");
    if (!rnn_kx_is_rnn_class(cls) || !json_is_object(ic))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a wrapped layer of class '%.40s' is not supported "
                    "(librnn: LSTM, GRU, SimpleRNN)", cls ? cls : "?");
    if (map_recurrent(x, cls, ic, in_mask, r))
        return -1;
    if (json_is_true(json_object_get(r->opts, "go_backwards")))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "go_backwards=True inside Bidirectional is not "
                    "supported");
    if (back && !json_is_null(back)) {
        /* Keras writes the backward copy too: it must be the same layer
         * with go_backwards=True, which is what librnn's backward is */
        json_t *bc = json_object_get(back, "config");
        if (!json_is_object(bc) || !rnn_kx_class_of(back) || strcmp(rnn_kx_class_of(back), cls))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a backward_layer of another class is not supported");
        kx_map b = {0};
        b.opts = json_object();
        if (!b.opts)
            return rnn_kx_fail(x, RNN_ERR_NOMEM, "out of memory");
        int rc = map_recurrent(x, cls, bc, 0, &b); /* masks: checked on the forward copy */
        if (!rc && !json_is_true(json_object_get(b.opts, "go_backwards")))
            rc = rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a backward_layer with go_backwards=False is not "
                      "supported");
        if (!rc) {
            json_object_set_new(b.opts, "go_backwards", json_false());
            if (!json_equal(b.opts, r->opts))
                rc = rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a backward_layer configured unlike the "
                          "forward layer is not supported");
        }
        json_decref(b.opts);
        if (rc)
            return -1;
    }
    if (set(x, r, "bidirectional", json_true()) || set(x, r, "merge_mode", json_string(modes[mode])))
        return -1;
    r->layout = RNN_KX_W_BIDI;
    return 0;
}

static int map_dense(kx *x, json_t *c, long long in_mask, kx_map *r)
{
    static const char *const keys[] = {"units", "activation", "use_bias", NULL};
    long long units;
    const char *act;
    int use_bias;
    if (check_keys(x, c, keys) || get_int(x, c, "units", 1, 1 << 24, &units) ||
        activation(x, c, "activation", "linear", &act) || get_bool(x, c, "use_bias", 1, &use_bias))
        return -1;
    if (set(x, r, "units", json_integer(units)) || set(x, r, "activation", json_string(act)) ||
        set(x, r, "use_bias", json_boolean(use_bias)))
        return -1;
    r->kind = "dense";
    r->layout = RNN_KX_W_PLAIN;
    r->out_mask[0] = in_mask;
    return 0;
}

static int map_window(kx *x, const char *cls, json_t *c, long long in_mask, kx_map *r)
{
    static const char *const pads[] = {"valid", "same", NULL};
    if (in_mask)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "masked input is not supported (Keras drops the "
                    "mask here, librnn keeps each sample's length)");
    if (want_str(x, c, "data_format", "channels_last", 1))
        return -1;
    int pad = get_choice(x, c, "padding", "valid", pads, "valid, same");
    if (pad < 0 || set(x, r, "padding", json_string(pads[pad])))
        return -1;
    long long k, s, d;
    if (!strcmp(cls, "Conv1D")) {
        static const char *const keys[] = {"filters", "kernel_size", "strides", "padding",
                                           "data_format", "dilation_rate", "groups",
                                           "activation", "use_bias", NULL};
        long long f, g = 1;
        const char *act;
        int use_bias;
        if (check_keys(x, c, keys) || get_int(x, c, "filters", 1, 1 << 24, &f) ||
            get_int(x, c, "kernel_size", 1, 4096, &k) || get_int(x, c, "strides", 1, 4096, &s) ||
            get_int(x, c, "dilation_rate", 1, 4096, &d) ||
            (json_object_get(c, "groups") && get_int(x, c, "groups", 1, 1, &g)) ||
            activation(x, c, "activation", "linear", &act) ||
            get_bool(x, c, "use_bias", 1, &use_bias))
            return -1;
        if (set(x, r, "filters", json_integer(f)) || set(x, r, "kernel_size", json_integer(k)) ||
            set(x, r, "strides", json_integer(s)) || set(x, r, "dilation_rate", json_integer(d)) ||
            set(x, r, "activation", json_string(act)) ||
            set(x, r, "use_bias", json_boolean(use_bias)))
            return -1;
        r->kind = "conv1d";
        r->layout = RNN_KX_W_PLAIN;
        return 0;
    }
    static const char *const keys[] = {"pool_size", "strides", "padding", "data_format", NULL};
    if (check_keys(x, c, keys) || get_int(x, c, "pool_size", 1, 4096, &k))
        return -1;
    json_t *sv = json_object_get(c, "strides");
    if (!sv || json_is_null(sv))
        s = k;
    else if (get_int(x, c, "strides", 1, 4096, &s))
        return -1;
    if (set(x, r, "pool_size", json_integer(k)) || set(x, r, "strides", json_integer(s)))
        return -1;
    r->kind = "max_pooling1d";
    return 0;
}

static int map_other(kx *x, const char *cls, json_t *c, int n_in, const long long *in_mask,
                     kx_map *r);

static int map_simple(kx *x, const char *cls, json_t *c, int n_in, const long long *in_mask,
                      kx_map *r)
{
    long long m0 = in_mask[0];
    r->out_mask[0] = m0;
    if (!strcmp(cls, "Embedding")) {
        static const char *const keys[] = {"input_dim", "output_dim", "mask_zero",
                                           "input_length", "sparse", NULL};
        long long in_dim, out_dim;
        int mz;
        if (check_keys(x, c, keys) || get_int(x, c, "input_dim", 1, 0x7fffffff, &in_dim) ||
            get_int(x, c, "output_dim", 1, 1 << 24, &out_dim) ||
            get_bool(x, c, "mask_zero", 0, &mz) || rnn_kx_want_false(x, c, "sparse"))
            return -1;
        json_t *il = json_object_get(c, "input_length");
        if (il && !json_is_null(il))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "argument 'input_length' is not supported");
        if (set(x, r, "input_dim", json_integer(in_dim)) ||
            set(x, r, "output_dim", json_integer(out_dim)) || set(x, r, "mask_zero", json_boolean(mz)))
            return -1;
        r->kind = "embedding";
        r->layout = RNN_KX_W_PLAIN;
        r->out_mask[0] = mz ? -1 : 0; /* the caller puts the token tensor's id */
        return 0;
    }
    if (!strcmp(cls, "Dense"))
        return map_dense(x, c, m0, r);
    if (!strcmp(cls, "TimeDistributed")) {
        static const char *const keys[] = {"layer", NULL};
        json_t *in = json_object_get(c, "layer");
        const char *ic = rnn_kx_class_of(in);
        if (check_keys(x, c, keys))
            return -1;
        if (!ic || strcmp(ic, "Dense") || !json_is_object(json_object_get(in, "config")))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "a wrapped layer of class '%.40s' is not "
                        "supported (librnn: Dense)", ic ? ic : "?");
        if (map_dense(x, json_object_get(in, "config"), m0, r))
            return -1;
        r->layout = RNN_KX_W_TD;
        return 0;
    }
    if (!strcmp(cls, "Dropout") || !strcmp(cls, "SpatialDropout1D")) {
        static const char *const keys[] = {"rate", "noise_shape", NULL};
        double rate;
        if (check_keys(x, c, keys) || get_float(x, c, "rate", 0, &rate))
            return -1;
        json_t *ns = json_object_get(c, "noise_shape");
        if (ns && !json_is_null(ns))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "argument 'noise_shape' is not supported");
        if (!(rate >= 0 && rate < 1))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "rate=%g is not supported (librnn: [0, 1))", rate);
        r->kind = cls[0] == 'D' ? "dropout" : "spatial_dropout1d";
        return set(x, r, "rate", json_real(rate));
    }
    if (!strcmp(cls, "Conv1D") || !strcmp(cls, "MaxPooling1D"))
        return map_window(x, cls, c, m0, r);
    return map_other(x, cls, c, n_in, in_mask, r);
}

/* The layers without weights, and the refusals. */
static int map_other(kx *x, const char *cls, json_t *c, int n_in, const long long *in_mask,
                     kx_map *r)
{
    long long m0 = in_mask[0];
    if (!strcmp(cls, "GlobalAveragePooling1D") || !strcmp(cls, "GlobalMaxPooling1D")) {
        static const char *const keys[] = {"data_format", "keepdims", NULL};
        int mx = cls[6] == 'M';
        if (check_keys(x, c, keys) || want_str(x, c, "data_format", "channels_last", 1) ||
            rnn_kx_want_false(x, c, "keepdims"))
            return -1;
        if (mx && m0)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "masked input is not supported (Keras 3 drops "
                        "the mask here, librnn pools each sample's own steps)");
        r->kind = "global_pooling";
        r->out_mask[0] = 0;
        return set(x, r, "pooling", json_string(mx ? "max" : "average"));
    }
    if (!strcmp(cls, "Flatten")) {
        static const char *const keys[] = {"data_format", NULL};
        if (check_keys(x, c, keys) || want_str(x, c, "data_format", "channels_last", 1))
            return -1;
        r->kind = "flatten";
        r->out_mask[0] = 0;
        return 0;
    }
    if (!strcmp(cls, "Activation")) {
        static const char *const keys[] = {"activation", NULL};
        const char *act;
        if (check_keys(x, c, keys) || activation(x, c, "activation", "linear", &act))
            return -1;
        r->kind = "activation";
        return set(x, r, "activation", json_string(act));
    }
    if (!strcmp(cls, "RepeatVector")) {
        static const char *const keys[] = {"n", NULL};
        long long n;
        if (check_keys(x, c, keys) || get_int(x, c, "n", 1, 1 << 24, &n))
            return -1;
        r->kind = "repeat_vector";
        r->out_mask[0] = 0;
        return set(x, r, "n", json_integer(n));
    }
    if (!strcmp(cls, "LayerNormalization")) {
        static const char *const keys[] = {"axis", "epsilon", "center", "scale", "rms_scaling",
                                           NULL};
        json_t *ax = json_object_get(c, "axis");
        if (json_is_array(ax) && json_array_size(ax) == 1)
            ax = json_array_get(ax, 0);
        double eps;
        int center, scale;
        if (check_keys(x, c, keys) || rnn_kx_want_false(x, c, "rms_scaling") ||
            get_float(x, c, "epsilon", 1e-3, &eps) || get_bool(x, c, "center", 1, &center) ||
            get_bool(x, c, "scale", 1, &scale))
            return -1;
        if (ax && !(json_is_integer(ax) && json_integer_value(ax) == -1))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "axis other than -1 is not supported");
        r->kind = "layer_normalization";
        r->layout = RNN_KX_W_PLAIN;
        return set(x, r, "epsilon", json_real(eps)) || set(x, r, "center", json_boolean(center)) ||
               set(x, r, "scale", json_boolean(scale));
    }
    if (!strcmp(cls, "Concatenate")) {
        static const char *const keys[] = {"axis", NULL};
        json_t *ax = json_object_get(c, "axis");
        if (check_keys(x, c, keys))
            return -1;
        if (ax && !(json_is_integer(ax) && json_integer_value(ax) == -1))
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "axis other than -1 is not supported");
        if (n_in < 2 || n_in > 9)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%d inputs are not supported (librnn: 2 to 9)",
                        n_in);
        for (int i = 0; i < n_in && !r->out_mask[0]; i++)
            r->out_mask[0] = in_mask[i];
        r->kind = "concatenate";
        r->multi = 1;
        return 0;
    }
    if (!strcmp(cls, "Attention")) {
        static const char *const keys[] = {"use_scale", "score_mode", "dropout", "causal", NULL};
        double drop;
        if (check_keys(x, c, keys) || rnn_kx_want_false(x, c, "use_scale") ||
            rnn_kx_want_false(x, c, "causal") || want_str(x, c, "score_mode", "dot", 0) ||
            get_float(x, c, "dropout", 0, &drop))
            return -1;
        if (drop != 0)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "dropout=%g is not supported (librnn: 0)", drop);
        if (n_in != 2)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%d inputs are not supported (librnn: [query, "
                        "value])", n_in);
        r->kind = "attention";
        r->multi = 1;
        return set(x, r, "score", json_string("dot")) || set(x, r, "scale", json_false());
    }
    if (!strcmp(cls, "AdditiveAttention"))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "class AdditiveAttention is not supported (librnn's "
                    "additive attention learns query and value projections that Keras' "
                    "AdditiveAttention does not have)");
    return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "class '%.60s' is not supported", cls);
}

int rnn_kx_map_layer(kx *x, const char *cls, json_t *c, int n_in, const long long *in_mask,
                     kx_map *r)
{
    memset(r, 0, sizeof *r);
    r->opts = json_object();
    if (!r->opts)
        return rnn_kx_fail(x, RNN_ERR_NOMEM, "out of memory");
    int rc;
    if (rnn_kx_is_rnn_class(cls))
        rc = map_recurrent(x, cls, c, in_mask[0], r);
    else if (!strcmp(cls, "Bidirectional"))
        rc = map_bidirectional(x, c, in_mask[0], r);
    else
        rc = map_simple(x, cls, c, n_in, in_mask, r);
    if (!rc && !r->multi && n_in != 1)
        rc = rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "%d inputs are not supported (librnn: 1)", n_in);
    if (rc) {
        json_decref(r->opts);
        r->opts = NULL;
    }
    return rc;
}

/* Adds the librnn layer for r on sources (layers, outputs). */
int rnn_kx_add_mapped(kx *x, kx_map *r, json_t *c, int n_in, rnn_layer *const *src,
                      const int *outs, rnn_layer **out)
{
    char *text = json_dumps(r->opts, JSON_COMPACT);
    if (!text)
        return rnn_kx_fail(x, RNN_ERR_NOMEM, "out of memory");
    rnn_status st = rnn_model_add_layer(x->m, r->kind, text, n_in, src, outs, out);
    free(text);
    if (st)
        return rnn_kx_core_layer_fail(x, st);
    if (json_is_false(json_object_get(c, "trainable")) && rnn_layer_set_trainable(*out, 0))
        return rnn_kx_core_layer_fail(x, RNN_ERR_INTERNAL);
    return 0;
}

/* ------------------------------------------------------------ inputs */

int rnn_kx_add_input(kx *x, json_t *c, rnn_layer **out)
{
    static const char *const keys[] = {"batch_shape", "batch_input_shape", "dtype", "sparse",
                                       "ragged", "optional", NULL};
    /* dtype here is the input's, not a policy: checked below */
    const char *k;
    json_t *v;
    json_object_foreach(c, k, v) {
        int ok = !strcmp(k, "name") || !strcmp(k, "trainable");
        for (int i = 0; keys[i] && !ok; i++)
            ok = !strcmp(k, keys[i]);
        if (!ok)
            return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "argument '%.60s' is not supported", k);
    }
    if (rnn_kx_want_false(x, c, "sparse") || rnn_kx_want_false(x, c, "ragged") || rnn_kx_want_false(x, c, "optional"))
        return -1;
    json_t *shape = json_object_get(c, "batch_shape");
    if (!shape)
        shape = json_object_get(c, "batch_input_shape");
    const char *dt = get_str(x, c, "dtype", "float32");
    if (!dt)
        return -1;
    size_t rank = json_array_size(shape);
    if (!json_is_array(shape) || rank < 2 || rank > 3)
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "an input of %zu axes (batch included) is not "
                    "supported (librnn: token ids (batch, time), vectors (batch, features) "
                    "or sequences (batch, time, features))", rank);
    int64_t dims[2] = {0, 0};
    for (size_t i = 1; i < rank; i++) {
        json_t *d = json_array_get(shape, i);
        if (json_is_null(d))
            continue;
        if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > (1 << 30))
            return rnn_kx_fail(x, RNN_ERR_FORMAT, "batch_shape has a bad dimension");
        dims[i - 1] = json_integer_value(d);
    }
    rnn_dtype dtype;
    if (!strcmp(dt, "int32") && rank == 2)
        dtype = RNN_I32;
    else if (!strcmp(dt, "float32"))
        dtype = RNN_F32;
    else
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "an input of dtype '%.30s' and %zu axes is not "
                    "supported (librnn: int32 token ids (batch, time) or float32)", dt, rank);
    if (dtype == RNN_F32 && (rank == 2 ? !dims[0] : !dims[1]))
        return rnn_kx_fail(x, RNN_ERR_UNSUPPORTED, "an input without a feature size is not supported");
    rnn_status st = rnn_model_add_input(x->m, dtype, (int)rank - 1, dims, out);
    return st ? rnn_kx_core_layer_fail(x, st) : 0;
}

