/* SPDX-License-Identifier: Apache-2.0 */
/* rnn_model_summary: the table Keras' model.summary() prints. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "model/graph.h"

typedef struct sbuf {
    char *buf;
    size_t size, len;
} sbuf;

RNN__PRINTF(2, 3) static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof tmp)
        n = (int)sizeof tmp - 1;
    if (b->len < b->size) {
        size_t room = b->size - b->len - 1;
        memcpy(b->buf + b->len, tmp, (size_t)n < room ? (size_t)n : room);
        b->buf[b->len + ((size_t)n < room ? (size_t)n : room)] = 0;
    }
    b->len += (size_t)n;
}

static void group(char *out, size_t n, int64_t v)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%lld", (long long)v), k = 0;
    for (int i = 0; i < len && (size_t)k + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = 0;
}

rnn_status rnn_model_summary(const rnn_model *m, char *buf, size_t size, size_t *needed)
{
    if (needed)
        *needed = 0;
    RNN__CHECK_ARG_AS(m, "model");
    if (size > 0)
        RNN__CHECK_ARG(buf);
    sbuf b = {buf, size, 0};
    if (size > 0)
        buf[0] = 0;
    /* Functional when anything departs from a chain of first outputs. */
    int functional = m->n_inputs > 1 || m->n_outputs > 0;
    for (int i = 1; i < m->n_layers && !functional; i++) {
        const rnn_layer *l = m->layers[i];
        functional = l->n_in != 1 || l->in[0].layer != m->layers[i - 1] ||
                     l->in[0].output != 0 || l->shared_from != NULL;
    }
    const char *rule = "_________________________________________________________________";
    const char *dbl = "=================================================================";
    const char *ext = functional ? "_______________________________" : "";
    const char *ext2 = functional ? "===============================" : "";
    put(&b, "Model: \"%s\"\n%s%s\n", functional ? "model" : "sequential", rule, ext);
    if (functional)
        put(&b, " %-28s %-25s %-10s %s\n%s%s\n", "Layer (type)", "Output Shape", "Param #",
            "Connected to", dbl, ext2);
    else
        put(&b, " %-28s %-25s %s\n%s\n", "Layer (type)", "Output Shape", "Param #", dbl);
    int64_t total = 0, trainable = 0;
    for (int i = functional ? 0 : 1; i < m->n_layers; i++) {
        const rnn_layer *l = m->layers[i];
        char name[96], shape[64];
        snprintf(name, sizeof name, "%s (%s)", l->name, rnn__layer_type_name(l));
        char steps[24] = "None";
        if (l->out_steps[0] > 0)
            snprintf(steps, sizeof steps, "%lld", (long long)l->out_steps[0]);
        if (l->out_seq[0] && l->out_features[0] == 0)
            snprintf(shape, sizeof shape, "(None, %s)", steps);
        else if (l->out_seq[0])
            snprintf(shape, sizeof shape, "(None, %s, %lld)", steps, (long long)l->out_features[0]);
        else
            snprintf(shape, sizeof shape, "(None, %lld)", (long long)l->out_features[0]);
        int64_t n = 0;
        for (int p = 0; p < l->n_params; p++)
            n += l->param[p]->numel;
        total += n;
        trainable += l->trainable ? n : 0;
        if (!functional) {
            put(&b, " %-28s %-25s %lld\n", name, shape, (long long)n);
        } else {
            put(&b, " %-28s %-25s %-10lld", name, shape, (long long)n);
            for (int k = 0; k < l->n_in; k++)
                put(&b, "%s%s[0][%d]", k ? ", " : " ", l->in[k].layer->name, l->in[k].output);
            if (l->shared_from)
                put(&b, " (shares %s)", l->shared_from->name);
            put(&b, "\n");
        }
        if (i + 1 < m->n_layers)
            put(&b, "\n");
    }
    char t[32], tr[32], nt[32];
    group(t, sizeof t, total);
    group(tr, sizeof tr, trainable);
    group(nt, sizeof nt, total - trainable);
    put(&b, "%s%s\nTotal params: %s\nTrainable params: %s\nNon-trainable params: %s\n%s%s\n", dbl,
        ext2, t, tr, nt, rule, ext);
    if (needed)
        *needed = b.len + 1;
    return RNN_OK;
}
