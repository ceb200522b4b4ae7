/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rnn_model_save / rnn_model_load: the safetensors layout with the
 * architecture as JSON metadata (jansson). See include/rnn/io.h.
 *
 * Loading never trusts the file: the header size is bounded by the file
 * size, the JSON is parsed with duplicate keys rejected, every option is
 * type- and range-checked, the parameter bytes the architecture implies are
 * computed (overflow-checked) and must equal the data the file holds BEFORE
 * any layer is built, and each tensor's dtype, shape and byte range must match
 * exactly. Any mismatch is RNN_ERR_FORMAT.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "layers/recurrent.h"
#include "model/graph.h"
#include "optim/optim.h"
#include "rnn/io.h"

#define FORMAT_NAME "librnn"
#define FORMAT_VERSION "1"
#define MAX_HEADER (64u << 20) /* 64 MiB of JSON is far beyond any real model */

static const char *const CELLS[] = {NULL, "simple_rnn", "lstm", "gru"};
static const char *const ACTS[] = {"linear", "tanh", "relu", "sigmoid", "softmax"};
static const char *const MERGES[] = {"concat", "sum", "mul", "ave"};
static const char *const INITS[] = {NULL, "glorot_uniform", "orthogonal", "zeros", "ones"};
static const char *const POOLS[] = {NULL, "average", "max"};
static const char *const PADS[] = {"valid", "same"};
static const char *const SCORES[] = {"dot", "general", "additive"};

/* ------------------------------------------------------------ saving */

static json_t *layer_config(const rnn_layer *l)
{
    const char *kind = l->vt->kind;
    json_t *c = json_object();
    if (!c)
        return NULL;
    int ok = 1;
#define SET(k, v) ok &= json_object_set_new(c, (k), (v)) == 0
    if (!strcmp(kind, "input")) {
        const rnn__input_desc *d = l->vt->options(l);
        SET("dtype", json_string(d->dtype == RNN_I32 ? "int32" : "float32"));
        SET("sequence", json_boolean(d->seq));
        SET("steps", json_integer(d->steps));
        SET("features", json_integer(d->features));
    } else if (!strcmp(kind, "recurrent")) {
        const rnn_recurrent_options *o = l->vt->options(l);
        SET("cell", json_string(CELLS[o->cell]));
        SET("units", json_integer(o->units));
        SET("activation", json_string(ACTS[o->activation]));
        SET("use_bias", json_boolean(o->use_bias));
        SET("return_sequences", json_boolean(o->return_sequences));
        SET("return_state", json_boolean(o->return_state));
        SET("go_backwards", json_boolean(o->go_backwards));
        SET("stateful", json_boolean(o->stateful));
        SET("reset_after", json_boolean(o->reset_after));
        SET("unit_forget_bias", json_boolean(o->unit_forget_bias));
        SET("dropout", json_real(o->dropout));
        SET("recurrent_dropout", json_real(o->recurrent_dropout));
        SET("kernel_initializer", json_string(INITS[o->kernel_initializer]));
        SET("recurrent_initializer", json_string(INITS[o->recurrent_initializer]));
        SET("bias_initializer", json_string(INITS[o->bias_initializer]));
        SET("bidirectional", json_boolean(o->bidirectional));
        SET("merge_mode", json_string(MERGES[o->merge_mode]));
    } else if (!strcmp(kind, "dense")) {
        const rnn_dense_options *o = l->vt->options(l);
        SET("units", json_integer(o->units));
        SET("activation", json_string(ACTS[o->activation]));
        SET("use_bias", json_boolean(o->use_bias));
        SET("kernel_initializer", json_string(INITS[o->kernel_initializer]));
        SET("bias_initializer", json_string(INITS[o->bias_initializer]));
    } else if (!strcmp(kind, "embedding")) {
        const rnn_embedding_options *o = l->vt->options(l);
        SET("input_dim", json_integer(o->input_dim));
        SET("output_dim", json_integer(o->output_dim));
        SET("mask_zero", json_boolean(o->mask_zero));
        SET("trainable", json_boolean(l->trainable));
    } else if (!strcmp(kind, "dropout")) {
        SET("rate", json_real(((const rnn__simple_desc *)l->vt->options(l))->rate));
    } else if (!strcmp(kind, "activation")) {
        SET("activation", json_string(ACTS[((const rnn__simple_desc *)l->vt->options(l))->act]));
    } else if (!strcmp(kind, "global_pooling")) {
        SET("pooling", json_string(POOLS[((const rnn__simple_desc *)l->vt->options(l))->pool]));
    } else if (!strcmp(kind, "spatial_dropout1d")) {
        SET("rate", json_real(((const rnn__simple_desc *)l->vt->options(l))->rate));
    } else if (!strcmp(kind, "conv1d")) {
        const rnn_conv1d_options *o = l->vt->options(l);
        SET("filters", json_integer(o->filters));
        SET("kernel_size", json_integer(o->kernel_size));
        SET("strides", json_integer(o->strides));
        SET("padding", json_string(PADS[o->padding]));
        SET("dilation_rate", json_integer(o->dilation_rate));
        SET("activation", json_string(ACTS[o->activation]));
        SET("use_bias", json_boolean(o->use_bias));
        SET("kernel_initializer", json_string(INITS[o->kernel_initializer]));
        SET("bias_initializer", json_string(INITS[o->bias_initializer]));
    } else if (!strcmp(kind, "max_pooling1d")) {
        const rnn__pool_desc *d = l->vt->options(l);
        SET("pool_size", json_integer(d->pool_size));
        SET("strides", json_integer(d->strides));
        SET("padding", json_string(PADS[d->padding]));
    } else if (!strcmp(kind, "flatten")) {
        SET("features", json_integer(l->out_features[0]));
    } else if (!strcmp(kind, "repeat_vector")) {
        SET("n", json_integer(((const rnn__shape_desc *)l->vt->options(l))->n));
    } else if (!strcmp(kind, "concatenate")) {
        SET("features", json_integer(l->out_features[0]));
    } else if (!strcmp(kind, "attention")) {
        const rnn_attention_options *o = l->vt->options(l);
        SET("score", json_string(SCORES[o->score]));
        SET("units", json_integer(o->units));
        SET("scale", json_boolean(o->scale));
        SET("kernel_initializer", json_string(INITS[o->kernel_initializer]));
    } else {
        ok = 0;
    }
#undef SET
    if (!ok) {
        json_decref(c);
        return NULL;
    }
    return c;
}

static int put_u64le(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return 8;
}

/* Writes all of buf or fails with errno set. */
static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* f32 data as little-endian bytes (a no-op copy on little-endian hosts). */
static int write_f32le(int fd, const float *v, int64_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        u = __builtin_bswap32(u);
        if (write_all(fd, &u, 4))
            return -1;
    }
    return 0;
#else
    return write_all(fd, v, (size_t)n * sizeof(float));
#endif
}

/* header[key] = {dtype F32, t's shape, data_offsets [offset, offset + bytes]}. */
static int tensor_entry(json_t *header, const char *key, const rnn_tensor *t, uint64_t offset)
{
    json_t *te = json_object(), *shape = json_array(), *offs = json_array();
    /* json_object_set_new takes the value's reference even when it fails, so
     * once attached, releasing te releases everything. */
    int bad = !te || json_object_set_new(te, "shape", shape) ||
              json_object_set_new(te, "data_offsets", offs) || !shape || !offs ||
              json_object_set_new(te, "dtype", json_string("F32")) ||
              json_array_append_new(offs, json_integer((json_int_t)offset)) ||
              json_array_append_new(offs, json_integer((json_int_t)(offset + t->nbytes)));
    for (int k = 0; !bad && k < t->rank; k++)
        bad = json_array_append_new(shape, json_integer(t->dims[k])) != 0;
    if (bad) {
        if (!te) {
            json_decref(shape);
            json_decref(offs);
        }
        json_decref(te);
        return -1;
    }
    return json_object_set_new(header, key, te) ? -1 : 0;
}

static const char *const LOSSES[] = {NULL, "sparse_categorical_crossentropy",
                                     "categorical_crossentropy", "binary_crossentropy",
                                     "mean_squared_error"};
static const char *const OPTIMS[] = {NULL, "sgd", "rmsprop", "adam", "nadam", "adamw"};
static const char *const REDUCTIONS[] = {"mean", "masked_mean"};

/* The compile configuration and optimizer scalars ("training" in the
 * architecture); the slot tensors are written as "__optimizer__/m|v/<param>". */
static json_t *training_json(const rnn_model *m)
{
    const rnn_optimizer *o = m->optimizer;
    const rnn_optimizer_options *p = &o->o;
    return json_pack("{s:s, s:b, s:s, s:{s:s, s:f, s:f, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
                     "s:f}, s:I, s:f, s:b, s:b}",
                     "loss", LOSSES[m->loss.type], "from_logits", m->loss.from_logits,
                     "reduction", REDUCTIONS[m->loss.reduction], "optimizer", "type",
                     OPTIMS[p->type], "learning_rate", (double)p->learning_rate, "momentum",
                     (double)p->momentum, "nesterov", p->nesterov, "rho", (double)p->rho,
                     "beta_1", (double)p->beta_1, "beta_2", (double)p->beta_2, "epsilon",
                     (double)p->epsilon, "weight_decay", (double)p->weight_decay, "clipnorm",
                     (double)p->clipnorm, "clipvalue", (double)p->clipvalue, "global_clipnorm",
                     (double)p->global_clipnorm, "iterations", (json_int_t)o->iterations,
                     "u_product", o->u_product, "m", o->m != NULL, "v", o->v != NULL);
}

/*
 * The saved file's mode. A new file gets what open(path, O_CREAT, 0666) gives,
 * as fopen(path, "w") and torch.save() would: 0666 & ~umask, or what the
 * directory's default ACL says where it has one. For that the temporary file
 * is created here with open(O_CREAT | O_EXCL, 0666) and a name of our own,
 * instead of mkstemp() (always 0600, which would need a chmod to the umask
 * afterwards): the kernel applies the umask, so the library never reads it.
 * Reading it is unsafe in a library: umask() reads only by setting it, and a
 * file another thread creates between the set and the restore gets the wrong
 * mode (a lock orders only the library's own calls); /proc/self/status
 * "Umask:" is Linux-only (4.7+) and the fallback would be that race again; and
 * a chmod to 0666 & ~umask would also override a default ACL.
 *
 * A save that replaces an existing file keeps that file's permission bits
 * (the 0777 part; not its owner, group or ACL), as editors do and as programs
 * that rewrite a file in place do (torch.save(), h5py): a checkpoint the user
 * has made private stays private when the next epoch saves over it. The
 * temporary file is then created with those bits (the umask can only remove
 * some, so it is never more open than the file it replaces) and fchmod()ed
 * to exactly them before any byte of the model is written.
 *
 * The name is path + ".tmp-" + 6 characters from a hash of the time, the
 * process id and a counter; O_EXCL makes a clash (or a planted symlink) fail
 * with EEXIST, and the next name is tried.
 */
#define TMP_SUFFIX ".tmp-XXXXXX"

/* Fills the last 6 characters of tmp (path + TMP_SUFFIX) and creates it.
 * Returns the descriptor; -1 when no file was created, -2 when it was created
 * but fchmod failed (tmp then names it; errno is set either way). *keep_mode:
 * the bits a replaced file had (0 for a new file). */
static int create_temp(const char *path, char *tmp, unsigned *keep_mode)
{
    static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static uint64_t counter;
    struct stat old;
    const int replacing = stat(path, &old) == 0 && S_ISREG(old.st_mode);
    const mode_t mode = replacing ? (old.st_mode & 0777) : 0666;
    *keep_mode = replacing ? (unsigned)mode : 0;
    char *x = tmp + strlen(tmp) - 6;
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t h = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)getpid() << 40) ^
                     (__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED) * 0x9E3779B97F4A7C15ull);
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull; /* splitmix64's finalizer */
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
        h ^= h >> 31;
        for (int i = 0; i < 6; i++, h /= 62)
            x[i] = ALNUM[h % 62];
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return -1;
        }
        if (replacing && fchmod(fd, mode) != 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -2;
        }
        return fd;
    }
    return -1; /* errno is EEXIST */
}

rnn_status rnn_model_save(const rnn_model *m, const char *path)
{
    return rnn_model_save_ex(m, path, 0);
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
    if (opt && opt->n_slots != 0) {
        int n = 0;
        for (int i = 0; i < m->n_layers; i++)
            n += m->layers[i]->n_params;
        if (n != opt->n_slots)
            return RNN__ERR(RNN_ERR_STATE,
                            "the model gained layers after rnn_model_compile(); compile again");
    }
    rnn_status st = RNN_OK;
    json_t *arch = json_object(), *layers = json_array(), *header = json_object();
    char *arch_s = NULL, *header_s = NULL, *tmp = NULL;
    int fd = -1;
    if (!arch || !layers || !header)
        goto nomem;
    if (json_object_set_new(arch, "format", json_string(FORMAT_NAME)) ||
        json_object_set_new(arch, "format_version", json_integer(1)) ||
        json_object_set(arch, "layers", layers))
        goto nomem;
    if (m->n_outputs) {
        json_t *outs = json_array();
        if (!outs || json_object_set_new(arch, "outputs", outs))
            goto nomem;
        for (int k = 0; k < m->n_outputs; k++)
            if (json_array_append_new(outs, json_pack("[ii]", m->outputs[k]->index,
                                                      m->output_index[k])))
                goto nomem;
    }
    if (opt) {
        json_t *tj = training_json(m);
        if (!tj || json_object_set_new(arch, "training", tj))
            goto nomem;
    }
    uint64_t offset = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const rnn_layer *l = m->layers[i];
        json_t *e = json_object(), *cfg = layer_config(l);
        if (e && !cfg && !l->vt->options) {
            json_decref(e);
            st = RNN__ERR(RNN_ERR_UNSUPPORTED, "layer %s (%s) cannot be saved", l->name,
                          l->vt->kind);
            goto done;
        }
        json_t *ins = l->input ? json_array() : NULL;
        int ok_in = 1;
        for (int k = 0; ins && k <= l->n_extra; k++) {
            const rnn_layer *src = k ? l->extra[k - 1] : l->input;
            int so = k ? l->extra_output[k - 1] : l->input_output;
            json_t *pair = json_pack("[ii]", src->index, so);
            ok_in &= pair && json_array_append_new(ins, pair) == 0;
        }
        if (e && ins && (!ok_in || json_object_set_new(e, "inputs", ins))) {
            json_decref(e);
            json_decref(cfg);
            goto nomem;
        }
        if (e && l->shared_from &&
            json_object_set_new(e, "shared_from", json_integer(l->shared_from->index))) {
            json_decref(e);
            json_decref(cfg);
            goto nomem;
        }
        if (!e || !cfg || json_object_set_new(e, "kind", json_string(l->vt->kind)) ||
            json_object_set_new(e, "name", json_string(l->name)) ||
            json_object_set_new(e, "trainable", json_boolean(l->trainable)) ||
            json_object_set_new(e, "config", cfg) || json_array_append_new(layers, e)) {
            json_decref(e);
            goto nomem;
        }
        for (int p = 0; p < l->n_params; p++) {
            const rnn_tensor *t = l->param[p];
            char key[2 * RNN__NAME_MAX + 2];
            snprintf(key, sizeof key, "%s/%s", l->name, l->param_name[p]);
            if (tensor_entry(header, key, t, offset))
                goto nomem;
            offset += t->nbytes;
        }
    }
    for (int kind = 0; opt && kind < 2; kind++) {
        float **slots = kind ? opt->v : opt->m;
        for (int i = 0; slots && i < m->n_layers; i++) {
            const rnn_layer *l = m->layers[i];
            for (int p = 0; p < l->n_params; p++) {
                const rnn_tensor *t = l->param[p];
                char key[2 * RNN__NAME_MAX + 24];
                snprintf(key, sizeof key, "__optimizer__/%s/%s/%s", kind ? "v" : "m", l->name,
                         l->param_name[p]);
                if (tensor_entry(header, key, t, offset))
                    goto nomem;
                offset += t->nbytes;
            }
        }
    }
    arch_s = json_dumps(arch, JSON_COMPACT);
    if (!arch_s)
        goto nomem;
    json_t *meta = json_object();
    if (!meta || json_object_set_new(meta, "format", json_string(FORMAT_NAME)) ||
        json_object_set_new(meta, "format_version", json_string(FORMAT_VERSION)) ||
        json_object_set_new(meta, "librnn_version", json_string(RNN_VERSION_STRING)) ||
        json_object_set_new(meta, "architecture", json_string(arch_s)) ||
        json_object_set_new(header, "__metadata__", meta)) {
        json_decref(meta);
        goto nomem;
    }
    header_s = json_dumps(header, JSON_COMPACT | JSON_SORT_KEYS);
    if (!header_s)
        goto nomem;
    size_t hlen = strlen(header_s), padded = (hlen + 7) & ~(size_t)7;

    /* Atomic write: temporary file beside the target, fsync, rename. */
    size_t plen = strlen(path);
    tmp = rnn__malloc(plen + sizeof TMP_SUFFIX);
    if (!tmp)
        goto nomem;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, TMP_SUFFIX, sizeof TMP_SUFFIX);
    unsigned keep_mode = 0;
    fd = create_temp(path, tmp, &keep_mode);
    if (fd == -1) {
        st = RNN__ERR(RNN_ERR_IO, "cannot create a temporary file beside %s: %s", path,
                      strerror(errno));
        rnn__free(tmp); /* not ours to unlink: it may be another file's name */
        tmp = NULL;
        goto done;
    }
    if (fd == -2) { /* created (so removed at done), but fchmod failed */
        st = RNN__ERR(RNN_ERR_IO, "cannot set the mode of %s to %04o (the mode of %s): %s", tmp,
                      keep_mode, path, strerror(errno));
        fd = -1;
        goto done;
    }
    unsigned char len8[8];
    put_u64le(len8, padded);
    int werr = write_all(fd, len8, 8) || write_all(fd, header_s, hlen) ||
               write_all(fd, "        ", padded - hlen);
    for (int i = 0; !werr && i < m->n_layers; i++)
        for (int p = 0; !werr && p < m->layers[i]->n_params; p++)
            werr = write_f32le(fd, rnn__f32(m->layers[i]->param[p]), m->layers[i]->param[p]->numel);
    for (int kind = 0; opt && kind < 2; kind++) {
        float **slots = kind ? opt->v : opt->m;
        for (int i = 0, k = 0; slots && !werr && i < m->n_layers; i++)
            for (int p = 0; !werr && p < m->layers[i]->n_params; p++, k++)
                werr = write_f32le(fd, slots[k], m->layers[i]->param[p]->numel);
    }
    if (werr || fsync(fd) != 0) {
        st = RNN__ERR(RNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = RNN__ERR(RNN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = RNN__ERR(RNN_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto done;
    }
    /* Make the rename itself durable. */
    const char *slash = strrchr(path, '/');
    char *dir = rnn__malloc(slash ? (size_t)(slash - path) + 2 : 2);
    if (dir) {
        if (slash) {
            memcpy(dir, path, (size_t)(slash - path) + (slash == path));
            dir[(size_t)(slash - path) + (slash == path)] = 0;
        } else {
            strcpy(dir, ".");
        }
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        rnn__free(dir);
    }
    rnn__free(tmp);
    tmp = NULL;
    rnn__log(RNN_LOG_INFO, "saved model to %s", path);
    goto done;
nomem:
    st = RNN__ERR(RNN_ERR_NOMEM, "out of memory while building the file header");
done:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        rnn__free(tmp);
    }
    free(arch_s);
    free(header_s);
    json_decref(layers);
    json_decref(arch);
    json_decref(header);
    return st;
}

/* ------------------------------------------------------------ loading */

typedef struct loader {
    const char *path;
    int idx; /* layer index being read, for messages */
} loader;

#define FMT(L, ...) fmt_err((L), __VA_ARGS__)
RNN__PRINTF(2, 3) static rnn_status fmt_err(const loader *L, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return rnn__err(RNN_ERR_FORMAT, "rnn_model_load", "%s: %s", L->path, msg);
}

static rnn_status get_int(const loader *L, json_t *o, const char *k, int64_t lo, int64_t hi,
                          int64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return FMT(L, "layers[%d].config.%s must be an integer in [%lld, %lld]", L->idx, k,
                   (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return RNN_OK;
}

static rnn_status get_bool(const loader *L, json_t *o, const char *k, int *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_boolean(v))
        return FMT(L, "layers[%d].config.%s must be true or false", L->idx, k);
    *out = json_is_true(v);
    return RNN_OK;
}

static rnn_status get_real(const loader *L, json_t *o, const char *k, float *out)
{
    json_t *v = json_object_get(o, k);
    double d = json_is_real(v) ? json_real_value(v) : json_is_integer(v) ? (double)json_integer_value(v) : -1;
    if (!(d >= 0.0 && d < 1.0))
        return FMT(L, "layers[%d].config.%s must be a number in [0, 1)", L->idx, k);
    *out = (float)d;
    return RNN_OK;
}

static rnn_status get_enum(const loader *L, json_t *o, const char *k, const char *const *names,
                           int n, int *out)
{
    const char *s = json_string_value(json_object_get(o, k));
    for (int i = 0; s && i < n; i++)
        if (names[i] && !strcmp(names[i], s)) {
            *out = i;
            return RNN_OK;
        }
    return FMT(L, "layers[%d].config.%s has no valid value", L->idx, k);
}

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

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

static rnn_status parse_training(const loader *L, json_t *t, training_cfg *tc)
{
    memset(tc, 0, sizeof *tc);
    if (!t)
        return RNN_OK;
    json_t *o = json_object_get(t, "optimizer");
    int loss, red, type;
    if (!json_is_object(t) || !json_is_object(o) || !tr_enum(t, "loss", LOSSES, N_OF(LOSSES), &loss) ||
        !tr_enum(t, "reduction", REDUCTIONS, N_OF(REDUCTIONS), &red) ||
        !json_is_boolean(json_object_get(t, "from_logits")) ||
        !tr_enum(o, "type", OPTIMS, N_OF(OPTIMS), &type))
        return FMT(L, "\"training\" needs loss, from_logits, reduction and optimizer.type");
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
        return FMT(L, "\"training\" has a missing or invalid optimizer field");
    tc->o.nesterov = json_is_true(json_object_get(o, "nesterov"));
    tc->iterations = json_integer_value(it);
    tc->u_product = json_number_value(up);
    tc->has_m = json_is_true(json_object_get(t, "m"));
    tc->has_v = json_is_true(json_object_get(t, "v"));
    tc->present = 1;
    return RNN_OK;
}

static rnn_status read_at(const loader *L, int fd, void *buf, size_t n, uint64_t off);

/* Reads tensor `key` of the header, which must be F32 with t's shape. */
static rnn_status read_named(const loader *L, int fd, json_t *header, const char *key,
                             const rnn_tensor *t, float *dst, uint64_t data_off, uint64_t data_size)
{
    json_t *te = json_object_get(header, key), *shape_j = json_object_get(te, "shape");
    json_t *offs = json_object_get(te, "data_offsets");
    const char *dt = json_string_value(json_object_get(te, "dtype"));
    int ok = te && dt && !strcmp(dt, "F32") && json_is_array(shape_j) &&
             json_array_size(shape_j) == (size_t)t->rank && json_is_array(offs) &&
             json_array_size(offs) == 2;
    for (int d = 0; ok && d < t->rank; d++)
        ok = json_integer_value(json_array_get(shape_j, (size_t)d)) == t->dims[d];
    json_int_t b0 = json_integer_value(json_array_get(offs, 0));
    json_int_t b1 = json_integer_value(json_array_get(offs, 1));
    ok = ok && b0 >= 0 && b1 >= b0 && (uint64_t)b1 <= data_size && (uint64_t)(b1 - b0) == t->nbytes;
    if (!ok)
        return FMT(L, "tensor \"%s\" is missing or has the wrong dtype, shape or offsets", key);
    rnn_status st = read_at(L, fd, dst, t->nbytes, data_off + (uint64_t)b0);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int64_t q = 0; !st && q < t->numel; q++) {
        uint32_t u;
        memcpy(&u, dst + q, 4);
        u = __builtin_bswap32(u);
        memcpy(dst + q, &u, 4);
    }
#endif
    return st;
}

/* Parses one layer's options. Also computes the parameter count and the
 * feature size it outputs, from its input's (in_features; 0 = token ids). */
typedef struct parsed {
    int kind; /* 0 input, 1 recurrent, 2 dense, 3 embedding, 4 dropout, 5 activation, 6 pooling,
                 7 spatial dropout, 8 conv1d, 9 max pooling, 10 flatten, 11 repeat vector */
    rnn_conv1d_options c;
    rnn__pool_desc pool;
    int64_t n; /* repeat_vector */
    int trainable;
    int n_out;              /* outputs */
    int64_t state_features; /* features of outputs 1.. (recurrent states) */
    int n_src;              /* producers: [0] main, then extras */
    int src[RNN__MAX_EXTRA + 1], src_out[RNN__MAX_EXTRA + 1];
    int shared_from;        /* -1: own parameters */
    rnn__simple_desc s;
    rnn__input_desc in;
    rnn_recurrent_options r;
    rnn_dense_options d;
    rnn_embedding_options e;
    rnn_attention_options a;
    uint64_t params;
    int64_t out_features;
    int out_i32;
} parsed;

static rnn_status parse_layer(const loader *L, json_t *entry, int64_t in_features, int in_i32,
                              parsed *p)
{
    memset(p, 0, sizeof *p);
    const char *kind = json_string_value(json_object_get(entry, "kind"));
    json_t *c = json_object_get(entry, "config");
    if (!kind || !json_is_object(c) || !json_is_string(json_object_get(entry, "name")))
        return FMT(L, "layers[%d] needs \"kind\", \"name\" and \"config\"", L->idx);
    p->trainable = 1; /* files before the field: every layer trainable */
    json_t *tr = json_object_get(entry, "trainable");
    if (tr && !json_is_boolean(tr))
        return FMT(L, "layers[%d].trainable must be a boolean", L->idx);
    if (tr)
        p->trainable = json_is_true(tr);
    rnn_status st;
    int b = 0, e = 0;
    const int64_t BIG = 1 << 24;
    p->n_out = 1;
    if (!strcmp(kind, "input")) {
        p->kind = 0;
        const char *dt = json_string_value(json_object_get(c, "dtype"));
        if (!dt || (strcmp(dt, "int32") && strcmp(dt, "float32")))
            return FMT(L, "layers[%d].config.dtype must be \"int32\" or \"float32\"", L->idx);
        p->in.dtype = !strcmp(dt, "int32") ? RNN_I32 : RNN_F32;
        if ((st = get_bool(L, c, "sequence", &p->in.seq)) ||
            (st = get_int(L, c, "steps", 0, INT32_MAX, &p->in.steps)) ||
            (st = get_int(L, c, "features", 0, BIG, &p->in.features)))
            return st;
        p->out_features = p->in.features;
        p->out_i32 = p->in.dtype == RNN_I32;
        return RNN_OK;
    }
    if (L->idx == 0)
        return FMT(L, "layers[0] must be the input");
    if (!strcmp(kind, "recurrent")) {
        p->kind = 1;
        rnn_recurrent_options *o = &p->r;
        int cell;
        if ((st = get_enum(L, c, "cell", CELLS, N_OF(CELLS), &cell)))
            return st;
        rnn_recurrent_options_init(o, (rnn_cell_type)cell);
        int act, kin, rin, bin, mm;
        if ((st = get_int(L, c, "units", 1, BIG, &o->units)) ||
            (st = get_enum(L, c, "activation", ACTS, N_OF(ACTS), &act)) ||
            (st = get_bool(L, c, "use_bias", &o->use_bias)) ||
            (st = get_bool(L, c, "return_sequences", &o->return_sequences)) ||
            (st = get_bool(L, c, "return_state", &o->return_state)) ||
            (st = get_bool(L, c, "go_backwards", &o->go_backwards)) ||
            (st = get_bool(L, c, "stateful", &o->stateful)) ||
            (st = get_bool(L, c, "reset_after", &o->reset_after)) ||
            (st = get_bool(L, c, "unit_forget_bias", &o->unit_forget_bias)) ||
            (st = get_real(L, c, "dropout", &o->dropout)) ||
            (st = get_real(L, c, "recurrent_dropout", &o->recurrent_dropout)) ||
            (st = get_enum(L, c, "kernel_initializer", INITS, N_OF(INITS), &kin)) ||
            (st = get_enum(L, c, "recurrent_initializer", INITS, N_OF(INITS), &rin)) ||
            (st = get_enum(L, c, "bias_initializer", INITS, N_OF(INITS), &bin)) ||
            (st = get_bool(L, c, "bidirectional", &o->bidirectional)) ||
            (st = get_enum(L, c, "merge_mode", MERGES, N_OF(MERGES), &mm)))
            return st;
        o->activation = (rnn_activation)act;
        o->kernel_initializer = (rnn_initializer)kin;
        o->recurrent_initializer = (rnn_initializer)rin;
        o->bias_initializer = (rnn_initializer)bin;
        o->merge_mode = (rnn_merge_mode)mm;
        uint64_t G = cell == RNN_LSTM ? 4 : cell == RNN_GRU ? 3 : 1, H = (uint64_t)o->units;
        uint64_t I = (uint64_t)in_features;
        uint64_t bias = !o->use_bias ? 0 : cell == RNN_GRU && o->reset_after ? 2 * G * H : G * H;
        p->params = (uint64_t)(o->bidirectional ? 2 : 1) * (G * H * (I + H) + bias);
        p->out_features = o->bidirectional && mm == RNN_MERGE_CONCAT ? 2 * o->units : o->units;
        p->state_features = o->units;
        if (o->return_state)
            p->n_out = 1 + (o->bidirectional ? 2 : 1) * (o->cell == RNN_LSTM ? 2 : 1);
    } else if (!strcmp(kind, "dense")) {
        p->kind = 2;
        rnn_dense_options *o = &p->d;
        rnn_dense_options_init(o);
        int act, kin, bin;
        if ((st = get_int(L, c, "units", 1, BIG, &o->units)) ||
            (st = get_enum(L, c, "activation", ACTS, N_OF(ACTS), &act)) ||
            (st = get_bool(L, c, "use_bias", &o->use_bias)) ||
            (st = get_enum(L, c, "kernel_initializer", INITS, N_OF(INITS), &kin)) ||
            (st = get_enum(L, c, "bias_initializer", INITS, N_OF(INITS), &bin)))
            return st;
        o->activation = (rnn_activation)act;
        o->kernel_initializer = (rnn_initializer)kin;
        o->bias_initializer = (rnn_initializer)bin;
        p->params = (uint64_t)in_features * (uint64_t)o->units + (o->use_bias ? (uint64_t)o->units : 0);
        p->out_features = o->units;
    } else if (!strcmp(kind, "embedding")) {
        p->kind = 3;
        rnn_embedding_options *o = &p->e;
        rnn_embedding_options_init(o);
        if ((st = get_int(L, c, "input_dim", 1, INT32_MAX, &o->input_dim)) ||
            (st = get_int(L, c, "output_dim", 1, BIG, &o->output_dim)) ||
            (st = get_bool(L, c, "mask_zero", &b)) || (st = get_bool(L, c, "trainable", &e)))
            return st;
        o->mask_zero = b;
        o->trainable = e;
        if (!in_i32)
            return FMT(L, "layers[%d]: an embedding must read token ids", L->idx);
        p->params = (uint64_t)o->input_dim * (uint64_t)o->output_dim;
        p->out_features = o->output_dim;
    } else if (!strcmp(kind, "dropout")) {
        p->kind = 4;
        if ((st = get_real(L, c, "rate", &p->s.rate)))
            return st;
        p->out_features = in_features;
    } else if (!strcmp(kind, "activation")) {
        p->kind = 5;
        int act;
        if ((st = get_enum(L, c, "activation", ACTS, N_OF(ACTS), &act)))
            return st;
        p->s.act = (rnn_activation)act;
        p->out_features = in_features;
    } else if (!strcmp(kind, "global_pooling")) {
        p->kind = 6;
        int pool;
        if ((st = get_enum(L, c, "pooling", POOLS, N_OF(POOLS), &pool)))
            return st;
        p->s.pool = (rnn_pooling)pool;
        p->out_features = in_features;
    } else if (!strcmp(kind, "spatial_dropout1d")) {
        p->kind = 7;
        if ((st = get_real(L, c, "rate", &p->s.rate)))
            return st;
        p->out_features = in_features;
    } else if (!strcmp(kind, "conv1d")) {
        p->kind = 8;
        rnn_conv1d_options *o = &p->c;
        rnn_conv1d_options_init(o);
        int act, kin, bin, pad;
        if ((st = get_int(L, c, "filters", 1, BIG, &o->filters)) ||
            (st = get_int(L, c, "kernel_size", 1, 4096, &o->kernel_size)) ||
            (st = get_int(L, c, "strides", 1, 4096, &o->strides)) ||
            (st = get_enum(L, c, "padding", PADS, N_OF(PADS), &pad)) ||
            (st = get_int(L, c, "dilation_rate", 1, 4096, &o->dilation_rate)) ||
            (st = get_enum(L, c, "activation", ACTS, N_OF(ACTS), &act)) ||
            (st = get_bool(L, c, "use_bias", &o->use_bias)) ||
            (st = get_enum(L, c, "kernel_initializer", INITS, N_OF(INITS), &kin)) ||
            (st = get_enum(L, c, "bias_initializer", INITS, N_OF(INITS), &bin)))
            return st;
        o->padding = (rnn_padding)pad;
        o->activation = (rnn_activation)act;
        o->kernel_initializer = (rnn_initializer)kin;
        o->bias_initializer = (rnn_initializer)bin;
        p->params = (uint64_t)o->kernel_size * (uint64_t)in_features * (uint64_t)o->filters +
                    (o->use_bias ? (uint64_t)o->filters : 0);
        p->out_features = o->filters;
    } else if (!strcmp(kind, "max_pooling1d")) {
        p->kind = 9;
        int pad;
        if ((st = get_int(L, c, "pool_size", 1, 4096, &p->pool.pool_size)) ||
            (st = get_int(L, c, "strides", 1, 4096, &p->pool.strides)) ||
            (st = get_enum(L, c, "padding", PADS, N_OF(PADS), &pad)))
            return st;
        p->pool.padding = (rnn_padding)pad;
        p->out_features = in_features;
    } else if (!strcmp(kind, "flatten")) {
        p->kind = 10;
        if ((st = get_int(L, c, "features", 1, INT32_MAX, &p->out_features)))
            return st;
    } else if (!strcmp(kind, "concatenate")) {
        p->kind = 12;
        if ((st = get_int(L, c, "features", 1, INT32_MAX, &p->out_features)))
            return st;
    } else if (!strcmp(kind, "attention")) {
        p->kind = 13;
        rnn_attention_options *o = &p->a;
        rnn_attention_options_init(o);
        int sc, kin;
        if ((st = get_enum(L, c, "score", SCORES, N_OF(SCORES), &sc)) ||
            (st = get_int(L, c, "units", 0, 1 << 20, &o->units)) ||
            (st = get_bool(L, c, "scale", &o->scale)) ||
            (st = get_enum(L, c, "kernel_initializer", INITS, N_OF(INITS), &kin)))
            return st;
        o->score = (rnn_attention_score)sc;
        o->kernel_initializer = (rnn_initializer)kin;
        p->n_out = 2;
        /* Parameters and outputs depend on the value's size too: see build(). */
    } else if (!strcmp(kind, "repeat_vector")) {
        p->kind = 11;
        if ((st = get_int(L, c, "n", 1, 1 << 24, &p->n)))
            return st;
        p->out_features = in_features;
    } else {
        return FMT(L, "layers[%d].kind \"%.40s\" is not a layer this version knows", L->idx, kind);
    }
    if (p->kind != 3 && in_i32)
        return FMT(L, "layers[%d] reads token ids; only an embedding can", L->idx);
    return RNN_OK;
}

static rnn_status read_at(const loader *L, int fd, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? rnn__err(RNN_ERR_IO, "rnn_model_load", "%s: read failed: %s", L->path,
                                    strerror(errno))
                         : FMT(L, "file is truncated");
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return RNN_OK;
}

/* Builds the model from the architecture and fills its parameters. */
static rnn_status build(const loader *L, int fd, json_t *header, json_t *arch, json_t *layers,
                        uint64_t data_off, uint64_t data_size, const rnn_model_options *opts,
                        rnn_model **out)
{
    rnn_status st;
    rnn_layer **built = NULL;
    const size_t n = json_array_size(layers);
    if (n < 2 || n > 4096)
        return FMT(L, "the architecture must have an input and at least one layer (has %zu)", n);
    parsed *ps = rnn__calloc(n, sizeof *ps);
    if (!ps)
        return RNN__NOMEM(n * sizeof *ps);
    /* Pass 1: every option, the producers, and the parameter bytes they imply. */
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        loader Li = {L->path, (int)i};
        json_t *entry = json_array_get(layers, i);
        parsed *p = &ps[i];
        /* Producers: "inputs" [[layer, output], ...], default the previous layer. */
        int n_src = i > 0 ? 1 : 0, src[RNN__MAX_EXTRA + 1] = {(int)i - 1}, so[RNN__MAX_EXTRA + 1] = {0};
        json_t *ins = json_object_get(json_is_object(entry) ? entry : NULL, "inputs");
        if (ins) {
            if (!json_is_array(ins) || json_array_size(ins) < 1 ||
                json_array_size(ins) > RNN__MAX_EXTRA + 1) {
                st = FMT(&Li, "layers[%zu].inputs must be a list of 1 to %d [layer, output] pairs",
                         i, RNN__MAX_EXTRA + 1);
                goto fail;
            }
            n_src = (int)json_array_size(ins);
            for (int k = 0; k < n_src; k++) {
                json_t *pr = json_array_get(ins, (size_t)k);
                json_t *a = json_array_get(pr, 0), *b = json_array_get(pr, 1);
                if (!json_is_array(pr) || json_array_size(pr) != 2 || !json_is_integer(a) ||
                    !json_is_integer(b) || json_integer_value(a) < 0 ||
                    (size_t)json_integer_value(a) >= i || json_integer_value(b) < 0 ||
                    json_integer_value(b) >= ps[json_integer_value(a)].n_out) {
                    st = FMT(&Li, "layers[%zu].inputs[%d] must be [an earlier layer, one of its "
                                  "outputs]",
                             i, k);
                    goto fail;
                }
                src[k] = (int)json_integer_value(a);
                so[k] = (int)json_integer_value(b);
            }
        }
        const parsed *q = n_src ? &ps[src[0]] : NULL;
        int64_t feat = q ? (so[0] == 0 ? q->out_features : q->state_features) : 0;
        int i32 = q && so[0] == 0 && q->out_i32;
        if ((st = parse_layer(&Li, entry, feat, i32, p)))
            goto fail;
        p->n_src = n_src;
        memcpy(p->src, src, sizeof src);
        memcpy(p->src_out, so, sizeof so);
        if (p->kind == 0 && n_src > 0 && ins) {
            st = FMT(&Li, "layers[%zu] is an input and has no producers", i);
            goto fail;
        }
        if (p->kind == 0)
            p->n_src = 0;
        if (p->kind == 13) {
            if (p->n_src != 2) {
                st = FMT(&Li, "layers[%zu] (attention) needs inputs [query, value]", i);
                goto fail;
            }
            const parsed *vq = &ps[src[1]];
            const uint64_t Dq = (uint64_t)feat, U = (uint64_t)p->a.units;
            const uint64_t Dv = (uint64_t)(so[1] == 0 ? vq->out_features : vq->state_features);
            p->out_features = (int64_t)Dv;
            p->params = p->a.score == RNN_ATTENTION_GENERAL    ? Dv * Dq
                        : p->a.score == RNN_ATTENTION_ADDITIVE ? (Dq + Dv + 2) * U
                                                               : 0;
        }
        if (p->kind != 12 && p->kind != 13 && p->kind != 1 && p->n_src > 1) {
            st = FMT(&Li, "layers[%zu] (%s) takes one input", i,
                     json_string_value(json_object_get(entry, "kind")));
            goto fail;
        }
        p->shared_from = -1;
        json_t *sh = json_object_get(entry, "shared_from");
        if (sh) {
            json_int_t v = json_integer_value(sh);
            if (!json_is_integer(sh) || v < 1 || (size_t)v >= i || ps[v].shared_from >= 0 ||
                ps[v].kind != p->kind || ps[v].kind == 0) {
                st = FMT(&Li, "layers[%zu].shared_from must name an earlier layer of the same "
                              "kind",
                         i);
                goto fail;
            }
            p->shared_from = (int)v;
            p->params = 0;
        }
        if (__builtin_add_overflow(total, p->params, &total) || total > data_size / 4) {
            st = FMT(L, "the architecture needs more parameter data than the file holds "
                        "(%llu bytes)",
                     (unsigned long long)data_size);
            goto fail;
        }
    }
    training_cfg tc;
    if ((st = parse_training(L, json_object_get(arch, "training"), &tc)))
        goto fail;
    const uint64_t copies = 1 + (uint64_t)tc.has_m + (uint64_t)tc.has_v;
    if (total * 4 * copies != data_size) {
        st = FMT(L, "the architecture needs %llu bytes of parameters%s, the file holds %llu",
                 (unsigned long long)(total * 4 * copies),
                 copies > 1 ? " and optimizer state" : "", (unsigned long long)data_size);
        goto fail;
    }
    /* Pass 2: build through the public constructors. */
    rnn_model *m = NULL;
    if ((st = rnn_model_create(opts, &m)))
        goto fail;
    built = rnn__calloc(n, sizeof *built);
    if (!built) {
        st = RNN__NOMEM(n * sizeof *built);
        goto fail_model;
    }
    for (size_t i = 0; i < n; i++) {
        parsed *p = &ps[i];
        rnn_layer *l = NULL;
        int64_t shape[2];
        if (p->kind != 0 && p->kind != 12 && p->kind != 13 &&
            (st = rnn_model_connect_next(m, built[p->src[0]], p->src_out[0]))) {
            st = rnn__err_wrap(RNN_ERR_FORMAT, "rnn_model_load", "%s: layers[%zu] has a bad input", L->path, i);
            goto fail_model;
        }
        rnn_layer *srcs[RNN__MAX_EXTRA + 1];
        for (int k = 0; k < p->n_src; k++)
            srcs[k] = built[p->src[k]];
        if (p->shared_from >= 0)
            st = rnn_model_add_shared(m, built[p->shared_from], &l);
        else
        switch (p->kind) {
        case 0: {
            int rank = 0;
            if (p->in.seq)
                shape[rank++] = p->in.steps;
            if (p->in.features > 0)
                shape[rank++] = p->in.features;
            st = rnn_model_add_input(m, p->in.dtype, rank, shape, &l);
            break;
        }
        case 1: st = rnn_model_add_recurrent(m, &p->r, &l); break;
        case 2: st = rnn_model_add_dense(m, &p->d, &l); break;
        case 3: st = rnn_model_add_embedding(m, &p->e, &l); break;
        case 4: st = rnn_model_add_dropout(m, p->s.rate, &l); break;
        case 5: st = rnn_model_add_activation(m, p->s.act, &l); break;
        case 6: st = rnn_model_add_global_pooling(m, p->s.pool, &l); break;
        case 7: st = rnn_model_add_spatial_dropout1d(m, p->s.rate, &l); break;
        case 8: st = rnn_model_add_conv1d(m, &p->c, &l); break;
        case 9:
            st = rnn_model_add_max_pooling1d(m, p->pool.pool_size, p->pool.strides,
                                             p->pool.padding, &l);
            break;
        case 10: st = rnn_model_add_flatten(m, &l); break;
        case 11: st = rnn_model_add_repeat_vector(m, p->n, &l); break;
        case 13:
            st = rnn_model_add_attention(m, &p->a, srcs[0], p->src_out[0], srcs[1],
                                         p->src_out[1], &l);
            break;
        default: st = rnn_model_add_concatenate(m, p->n_src, srcs, p->src_out, &l); break;
        }
        if (!st && p->kind == 1 && p->n_src > 1)
            st = rnn_layer_connect_initial_state(l, p->n_src - 1, srcs + 1, p->src_out + 1);
        if (!st)
            built[i] = l;
        if (!st && p->kind != 0 && l->out_features[0] != p->out_features) {
            st = FMT(L, "layers[%zu] outputs %lld features, its config says %lld", i,
                     (long long)l->out_features[0], (long long)p->out_features);
            goto fail_model;
        }
        if (!st)
            rnn_layer_set_trainable(l, p->kind != 0 && p->trainable);
        if (st) {
            if (st != RNN_ERR_NOMEM) /* sizes were validated: an OOM here is real */
                st = rnn__err_wrap(RNN_ERR_FORMAT, "rnn_model_load", "%s: layers[%zu] is inconsistent", L->path, i);
            goto fail_model;
        }
        const char *name = json_string_value(json_object_get(json_array_get(layers, i), "name"));
        if (strcmp(name, l->name)) {
            st = FMT(L, "layers[%zu] is named \"%.64s\", expected \"%s\"", i, name, l->name);
            goto fail_model;
        }
        for (int k = 0; k < l->n_params; k++) {
            rnn_tensor *t = l->param[k];
            char key[2 * RNN__NAME_MAX + 2];
            snprintf(key, sizeof key, "%s/%s", l->name, l->param_name[k]);
            if ((st = read_named(L, fd, header, key, t, rnn__f32(t), data_off, data_size)))
                goto fail_model;
        }
        if (l->n_params)
            rnn_layer_params_changed(l);
    }
    /* Model outputs: "outputs" [[layer, output], ...], default the last layer's. */
    json_t *outs = json_object_get(arch, "outputs");
    if (outs) {
        size_t no = json_array_size(outs);
        rnn_layer *ol[RNN__MAX_IO];
        int oo[RNN__MAX_IO];
        if (!json_is_array(outs) || no < 1 || no > RNN__MAX_IO) {
            st = FMT(L, "\"outputs\" must be a list of 1 to %d [layer, output] pairs",
                     RNN__MAX_IO);
            goto fail_model;
        }
        for (size_t k = 0; k < no; k++) {
            json_t *pr = json_array_get(outs, k);
            json_int_t a = json_integer_value(json_array_get(pr, 0));
            json_int_t b = json_integer_value(json_array_get(pr, 1));
            if (!json_is_array(pr) || json_array_size(pr) != 2 || a < 0 || (size_t)a >= n ||
                b < 0 || b >= ps[a].n_out) {
                st = FMT(L, "outputs[%zu] must be [a layer, one of its outputs]", k);
                goto fail_model;
            }
            ol[k] = built[a];
            oo[k] = (int)b;
        }
        if ((st = rnn_model_set_outputs(m, (int)no, ol, oo))) {
            st = rnn__err_wrap(RNN_ERR_FORMAT, "rnn_model_load", "%s: bad \"outputs\"", L->path);
            goto fail_model;
        }
    }
    if (tc.present) {
        /* Compile as saved, then fill the optimizer's slots. */
        if ((st = rnn_model_compile(m, &tc.c, &tc.o))) {
            st = rnn__err_wrap(RNN_ERR_FORMAT, "rnn_model_load", "%s: \"training\" is inconsistent", L->path);
            goto fail_model;
        }
        rnn_optimizer *o = m->optimizer;
        if ((o->m != NULL) != tc.has_m || (o->v != NULL) != tc.has_v) {
            st = FMT(L, "\"training\" lists optimizer slots that its optimizer does not have");
            goto fail_model;
        }
        o->iterations = tc.iterations;
        o->u_product = tc.u_product;
        for (int kind = 0; kind < 2; kind++) {
            float **slots = kind ? o->v : o->m;
            for (int i = 0, k = 0; slots && i < m->n_layers; i++)
                for (int p = 0; p < m->layers[i]->n_params; p++, k++) {
                    const rnn_layer *l = m->layers[i];
                    char key[2 * RNN__NAME_MAX + 24];
                    snprintf(key, sizeof key, "__optimizer__/%s/%s/%s", kind ? "v" : "m",
                             l->name, l->param_name[p]);
                    if ((st = read_named(L, fd, header, key, l->param[p], slots[k], data_off,
                                         data_size)))
                        goto fail_model;
                }
        }
    }
    rnn__free(built);
    rnn__free(ps);
    *out = m;
    return RNN_OK;
fail_model:
    rnn__free(built);
    rnn_model_destroy(m);
fail:
    rnn__free(ps);
    return st;
}

rnn_status rnn_model_load(const char *path, const rnn_model_options *options, rnn_model **out)
{
    RNN__CHECK_ARG(out);
    *out = NULL;
    RNN__CHECK_ARG(path);
    loader L = {path, 0};
    rnn_status st;
    char *hbuf = NULL;
    json_t *header = NULL, *arch = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RNN__ERR(RNN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = RNN__ERR(RNN_ERR_IO, "%s is not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)sb.st_size;
    unsigned char len8[8];
    if (size < 8) {
        st = FMT(&L, "file is truncated (%llu bytes)", (unsigned long long)size);
        goto done;
    }
    if ((st = read_at(&L, fd, len8, 8, 0)))
        goto done;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | len8[i];
    if (hlen < 2 || hlen > MAX_HEADER || hlen > size - 8) {
        st = FMT(&L, "header size %llu does not fit the file (%llu bytes): not a model file or "
                     "truncated",
                 (unsigned long long)hlen, (unsigned long long)size);
        goto done;
    }
    hbuf = rnn__malloc((size_t)hlen);
    if (!hbuf) {
        st = RNN__NOMEM(hlen);
        goto done;
    }
    if ((st = read_at(&L, fd, hbuf, (size_t)hlen, 8)))
        goto done;
    json_error_t je;
    header = json_loadb(hbuf, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(header)) {
        st = FMT(&L, "header is not a JSON object (%.120s at offset %d)", je.text, je.position);
        goto done;
    }
    json_t *meta = json_object_get(header, "__metadata__");
    const char *fmt = json_string_value(json_object_get(meta, "format"));
    const char *ver = json_string_value(json_object_get(meta, "format_version"));
    const char *arch_s = json_string_value(json_object_get(meta, "architecture"));
    if (!fmt || strcmp(fmt, FORMAT_NAME) || !arch_s) {
        st = FMT(&L, "not a librnn model (no __metadata__ with format \"librnn\" and an "
                     "architecture)");
        goto done;
    }
    if (!ver || strcmp(ver, FORMAT_VERSION)) {
        st = FMT(&L, "format version \"%.20s\" is not supported (this library reads \"%s\")",
                 ver ? ver : "?", FORMAT_VERSION);
        goto done;
    }
    arch = json_loads(arch_s, JSON_REJECT_DUPLICATES, &je);
    json_t *layers = json_object_get(arch, "layers");
    if (!json_is_array(layers)) {
        st = FMT(&L, "the architecture has no \"layers\" array");
        goto done;
    }
    st = build(&L, fd, header, arch, layers, 8 + hlen, size - 8 - hlen, options, out);
done:
    json_decref(arch);
    json_decref(header);
    rnn__free(hbuf);
    close(fd);
    return st;
}
