/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The layer framework: the layer struct, the one interface every kind
 * implements (rnn__layer_ops), ports between layers, parameters and the run
 * context. Depends on the core (internal.h, rng.h) and the backend only; it
 * knows nothing of models. Every kind lives in one file of lib/layers/ and
 * is listed once, in lib/layer/registry.c.
 *
 * Backward ACCUMULATES: a layer adds the gradient with respect to each input
 * into that producer's output-gradient tensor (rnn__layer_din) and adds its
 * parameter gradients into l->grad[].
 */
#ifndef RNN_LAYER_LAYER_H
#define RNN_LAYER_LAYER_H

#include "backend/backend.h"
#include "internal.h"
#include "rng.h"
#include "rnn/layers.h"

#define RNN__MAX_OUTPUTS 8
#define RNN__MAX_PARAMS 8
#define RNN__NAME_MAX 64
#define RNN__MAX_IN 9 /* producers of one layer */

/* What one output of a layer looks like, per sample: element type, whether
 * it has a time axis after the batch axis (with a static number of steps, 0:
 * any), and its feature size (0: no feature axis, e.g. token ids). The
 * runtime shape is (N, [T], [F]). aux: the output cannot feed other layers
 * (attention weights). */
typedef struct rnn__desc {
    rnn_dtype dtype;
    int seq;
    int64_t steps;
    int64_t features;
    int aux;
} rnn__desc;

/* A producer as a new layer sees it: its name (for messages) and output. */
typedef struct rnn__src {
    const char *name;
    rnn__desc d;
} rnn__src;

/* One output of one layer. */
typedef struct rnn__port {
    rnn_layer *layer;
    int output;
} rnn__port;

/* ------------------------------------------------------------ configuration fields */

typedef enum rnn__ftype {
    RNN__FIELD_BOOL,  /* int, 0 or 1 */
    RNN__FIELD_INT,   /* int64_t in [lo, hi] */
    RNN__FIELD_FLOAT, /* float in [lo, hi) */
    RNN__FIELD_ENUM,  /* an enum (int): value v is names[v]; NULL entries are not values */
} rnn__ftype;

/* One configuration field of a kind: its Keras name, where it sits in the
 * kind's options struct, and what values it takes. Model files, summary,
 * rnn_layer_config() (and through it the Python binding) all read these. */
typedef struct rnn__field {
    const char *name;
    rnn__ftype type;
    size_t offset;
    double lo, hi;
    const char *const *names;
    int n_names;
} rnn__field;

#define RNN__BOOL(S, f) {#f, RNN__FIELD_BOOL, offsetof(S, f), 0, 1, NULL, 0}
#define RNN__INT(S, f, lo, hi) {#f, RNN__FIELD_INT, offsetof(S, f), (lo), (hi), NULL, 0}
#define RNN__FLOAT(S, f, lo, hi) {#f, RNN__FIELD_FLOAT, offsetof(S, f), (lo), (hi), NULL, 0}
#define RNN__ENUM(S, f, names)                                                             \
    {#f, RNN__FIELD_ENUM, offsetof(S, f), 0, 0, (names), (int)(sizeof(names) / sizeof(*(names)))}
#define RNN__ENUM_AS(key, S, f, names)                                                     \
    {key, RNN__FIELD_ENUM, offsetof(S, f), 0, 0, (names), (int)(sizeof(names) / sizeof(*(names)))}
#define RNN__BOOL_AS(key, S, f) {key, RNN__FIELD_BOOL, offsetof(S, f), 0, 1, NULL, 0}
#define RNN__INT_AS(key, S, f, lo, hi) {key, RNN__FIELD_INT, offsetof(S, f), (lo), (hi), NULL, 0}
#define RNN__FIELDS_END {NULL, RNN__FIELD_BOOL, 0, 0, 0, NULL, 0}

/* Value names shared by several kinds (layer/fields.c). */
RNN__HIDDEN extern const char *const rnn__act_names[6];
RNN__HIDDEN extern const char *const rnn__init_names[5];
RNN__HIDDEN extern const char *const rnn__pad_names[2];

/* Checks every field of opts against the table; errors name
 * "options-><field>" under func. */
RNN__HIDDEN rnn_status rnn__fields_check(const char *func, const rnn__field *f, const void *opts);
/* Sets the fields of opts that the JSON object config names (all of them
 * when all is set; unknown keys are refused). Errors (RNN_ERR_INVALID_ARG)
 * read "<where>.<field> must be ...", under func. */
struct json_t;
RNN__HIDDEN rnn_status rnn__fields_from_json(const char *func, const char *where,
                                             const rnn__field *f, const struct json_t *config,
                                             void *opts, int all);
/* Field value as a double (BOOL/ENUM as their int), and setting it back. */
RNN__HIDDEN double rnn__field_get(const rnn__field *f, const void *opts);
RNN__HIDDEN void rnn__field_set(const rnn__field *f, void *opts, double v);

/* ------------------------------------------------------------ the interface */

/* What a kind computes from its options and producers before anything is
 * allocated: its outputs, its parameters and the base of its Keras name. */
typedef struct rnn__spec {
    int n_outputs;
    rnn__desc out[RNN__MAX_OUTPUTS];
    int n_params;
    const char *param_name[RNN__MAX_PARAMS];
    int param_rank[RNN__MAX_PARAMS];
    int64_t param_dims[RNN__MAX_PARAMS][3];
    const char *base; /* "lstm", "global_max_pooling1d", ... */
    int stateful;     /* carries its states from batch to batch */
} rnn__spec;

/* What forward and backward run with. */
typedef struct rnn__run {
    rnn__ctx *ctx;    /* backend context (primitive caches) */
    rnn__rng *rng;    /* dropout masks */
    int training;     /* dropout on, keep what backward needs */
    int freeze_masks; /* white-box tests: reuse the last masks of the same batch size */
    int stepping;     /* step-wise decoding: recurrent layers continue from carried states */
    int bf16;         /* mixed precision (RNN_PRECISION_MIXED_BF16): recurrent kernels and
                         Dense's products in bf16 with f32 accumulation (backend.h, "bf16") */
} rnn__run;

typedef struct rnn__layer_ops {
    const char *kind;                           /* model files: "dense" */
    const char *(*type_name)(const void *opts); /* Keras class: "Dense" */
    size_t options_size;                        /* the options struct, copied into l->opts */
    void (*options_init)(void *opts);           /* defaults (NULL: zeros) */
    const rnn__field *fields;                   /* ends with RNN__FIELDS_END */
    int min_in, max_in;                         /* producers */
    size_t impl_size;                           /* l->impl, zeroed, freed by the framework */
    /* Validates opts against the producers (errors under func) and fills spec. Pure. */
    rnn_status (*infer)(const char *func, const void *opts, int n_in, const rnn__src *in,
                        rnn__spec *spec);
    /* Sets up l->impl once parameters exist (NULL: nothing to do). */
    rnn_status (*build)(rnn_layer *l);
    /* Initial parameter values from the generator (NULL: no parameters). */
    rnn_status (*init_params)(rnn_layer *l, rnn__rng *rng);
    /* Outputs from the inputs (rnn__layer_in...). Errors are the cause only:
     * the model adds the layer's name and the public function. */
    rnn_status (*forward)(rnn_layer *l, const rnn__run *r);
    /* From l->dout[], adds into the producers' gradients and l->grad[]. */
    rnn_status (*backward)(rnn_layer *l, const rnn__run *r);
    void (*reset_state)(rnn_layer *l);    /* carried states to zero; may be NULL */
    void (*params_changed)(rnn_layer *l); /* parameter values were replaced; may be NULL */
    /* Step-wise decoding: keeps only carried-state rows rows[0..N) (beam
     * search); NULL for kinds that carry nothing. */
    rnn_status (*select_carry)(rnn_layer *l, const int32_t *rows, int64_t N, rnn__fbuf *tmp);
    /* Step-wise decoding, for a layer whose producers k with in_step[k] set
     * depend on the token input: NULL when it can run one step at a time,
     * else why not. A NULL hook: the kind cannot. rnn__step_any: it always can
     * (a per-step computation). */
    const char *(*step_check)(const rnn_layer *l, const int *in_step);
    void (*destroy)(rnn_layer *l); /* what impl points to (not impl); may be NULL */
    /* A kind that takes integer ids on input 0: the exclusive bound of the
     * ids it accepts, so whole datasets are checked before training (NULL:
     * the kind takes no ids). */
    int64_t (*id_limit)(const rnn_layer *l);
} rnn__layer_ops;

/* ------------------------------------------------------------ the layer */

struct rnn_layer {
    const rnn__layer_ops *ops;
    void *opts; /* the kind's options struct, owned */
    void *impl; /* the kind's state, owned */
    rnn_model *model; /* the owner: opaque here, layers never look inside */
    char name[RNN__NAME_MAX];
    const char *base; /* what the name is built from ("lstm"), static */
    int stateful;     /* carries states from batch to batch (spec.stateful) */
    int index;

    /* Producers: in[0] is the main input; further ones are Concatenate's
     * other operands, attention's value, or a recurrent layer's initial
     * states connected to other layers. None for an input layer. */
    int n_in;
    rnn__port in[RNN__MAX_IN];
    /* Set by the model before each backward: 1 when producer k's gradient is still all zero
     * when this layer's backward runs (nothing seeded it, no consumer ran before, no other
     * port of this layer reads the same output), so the layer may write it instead of
     * adding to it. */
    unsigned char in_fresh[RNN__MAX_IN];
    /* A shared application: the layer whose parameters this one uses. Its
     * param[]/grad[] alias that layer's and its n_params is 0, so counting,
     * optimizers and saving see the parameters once. */
    rnn_layer *shared_from;
    int n_shared_params;

    /* Static output description, per output (see rnn__desc). */
    int n_outputs;
    rnn_dtype out_dtype[RNN__MAX_OUTPUTS];
    int out_seq[RNN__MAX_OUTPUTS];
    int64_t out_steps[RNN__MAX_OUTPUTS];
    int64_t out_features[RNN__MAX_OUTPUTS];
    int out_aux[RNN__MAX_OUTPUTS];

    /* Per-batch buffers, owned, resized by rnn__tensor_ensure(). */
    rnn_tensor *out[RNN__MAX_OUTPUTS];
    rnn_tensor *dout[RNN__MAX_OUTPUTS]; /* accumulated by consumers */
    /* Per-sample lengths of each sequence output (NULL: every sample has the
     * full length), valid after forward; borrowed from whoever computed them. */
    const int32_t *out_len[RNN__MAX_OUTPUTS];
    /* An input layer: the caller's tensor, which is its output 0. */
    const rnn_tensor *fed;

    /* Parameters in canonical (Keras) layout, their gradients. */
    int n_params;
    char param_name[RNN__MAX_PARAMS][RNN__NAME_MAX];
    rnn_tensor *param[RNN__MAX_PARAMS];
    rnn_tensor *grad[RNN__MAX_PARAMS];
    int trainable;           /* 0: optimizers skip the layer and backward leaves its grads */
    uint64_t params_version; /* bumped whenever a value changes */
};

/* Creates a layer of kind ops with options opts (copied) reading producers
 * in[0..n_in): infer, then parameters (initialised from rng unless NULL),
 * then build. Errors under func. The layer is not in any model yet. */
RNN__HIDDEN rnn_status rnn__layer_create(const char *func, const rnn__layer_ops *ops,
                                         const void *opts, int n_in, const rnn__port *in,
                                         rnn__rng *rng, rnn_layer **out);
/* Checks the producer count and the options against the field table, runs
 * ops->infer, and gives sequence outputs without static steps their main
 * producer's: what a layer of this kind on these producers would be. Both
 * rnn__layer_create and the model file reader (before building) use it. */
RNN__HIDDEN rnn_status rnn__layer_infer(const char *func, const rnn__layer_ops *ops,
                                        const void *opts, int n_in, const rnn__src *in,
                                        rnn__spec *spec);
/* What a producer's output looks like, as infer sees it. */
RNN__HIDDEN rnn__src rnn__port_src(rnn__port p);
/* step_check of kinds that compute each step on its own. */
RNN__HIDDEN const char *rnn__step_any(const rnn_layer *l, const int *in_step);
/* The value of configuration field `name` of a layer's kind; 0 with *found
 * = 0 when the kind has no such field. */
RNN__HIDDEN double rnn__layer_field(const rnn_layer *l, const char *name, int *found);
/* Releases a layer: its state (ops->destroy), outputs, parameters, struct. */
RNN__HIDDEN void rnn__layer_free(rnn_layer *l);
/* Keras' class name of a layer ("LSTM", "Dense", "InputLayer"). */
RNN__HIDDEN const char *rnn__layer_type_name(const rnn_layer *l);
/* Parameter count that spec implies (overflow-checked: 0 on overflow with *ok = 0). */
RNN__HIDDEN uint64_t rnn__spec_params(const rnn__spec *s, int *ok);

/* Output k of a layer (an input layer's: the caller's tensor), NULL before a forward. */
RNN__HIDDEN const rnn_tensor *rnn__node_out(const rnn_layer *p, int k);
/* Producer k of a layer, its lengths, and where its gradient goes (NULL
 * when it has none, e.g. token ids). k = 0 is the main input. */
RNN__HIDDEN const rnn_tensor *rnn__layer_input(const rnn_layer *l, int k);
RNN__HIDDEN const int32_t *rnn__layer_input_len(const rnn_layer *l, int k);
RNN__HIDDEN rnn_tensor *rnn__layer_input_grad(rnn_layer *l, int k);
#define rnn__layer_in(l) rnn__layer_input((l), 0)
#define rnn__layer_in_len(l) rnn__layer_input_len((l), 0)
#define rnn__layer_din(l) rnn__layer_input_grad((l), 0)
/* 1 when producer k's gradient may be written instead of added to (in_fresh). */
#define rnn__layer_input_fresh(l, k) ((l)->in_fresh[(k)])

/* Makes *t an owned tensor of dtype and shape, reusing its buffer when large
 * enough (and of that dtype). Contents are unspecified unless zero is set. */
RNN__HIDDEN rnn_status rnn__tensor_ensure_as(rnn_tensor **t, rnn_dtype dtype, int rank,
                                             const int64_t *dims, int zero);
RNN__HIDDEN rnn_status rnn__tensor_ensure(rnn_tensor **t, int rank, const int64_t *dims,
                                          int zero);
static inline float *rnn__f32(const rnn_tensor *t)
{
    return (float *)t->data;
}

/* Applies an activation in place on [rows][n] (softmax and log-softmax over each row). */
RNN__HIDDEN void rnn__activate(rnn_activation a, float *y, int64_t rows, int64_t n);
/* From the activation's output y and the gradient dy, writes (or adds, when
 * accumulate) the gradient before the activation into dz. */
RNN__HIDDEN void rnn__activation_grad(rnn_activation a, const float *y, const float *dy,
                                      float *dz, int64_t rows, int64_t n, int accumulate);

/* A dropout mask of count values, each 0 or 1/(1-rate), drawn from r->rng
 * unless r->freeze_masks and the mask was drawn for the same count. */
typedef struct rnn__mask {
    rnn__fbuf m;
    int64_t drawn; /* count the current mask was drawn for (0: none) */
} rnn__mask;
RNN__HIDDEN rnn_status rnn__mask_draw(rnn__mask *k, const rnn__run *r, float rate, int64_t count);
/* The dropout kinds (Dropout, SpatialDropout1D: layer/mask.c) share their
 * options, state, field table, forward, backward and destroy; each kind's
 * file has its infer and, for SpatialDropout1D, a build that sets
 * per_feature. Forward: out[0] = input 0, times a mask drawn when training
 * with rate > 0: one value per element, or with per_feature one per (sample,
 * feature) of a sequence applied at every step. Backward adds dy (times the
 * mask when one was applied) into the input's gradient. */
typedef struct rnn__dropout_opts {
    float rate;
} rnn__dropout_opts;
typedef struct rnn__dropout {
    rnn__mask mask;  /* of the last training forward */
    int masked;      /* the last forward applied it */
    int per_feature; /* SpatialDropout1D */
} rnn__dropout;
RNN__HIDDEN extern const rnn__field rnn__dropout_fields[];
RNN__HIDDEN rnn_status rnn__dropout_forward(rnn_layer *l, const rnn__run *r);
RNN__HIDDEN rnn_status rnn__dropout_backward(rnn_layer *l, const rnn__run *r);
RNN__HIDDEN void rnn__dropout_destroy(rnn_layer *l);

/* ------------------------------------------------------------ the registry */

/* Every kind, by model-file key (registry.c): NULL when unknown. */
RNN__HIDDEN const rnn__layer_ops *rnn__kind_find(const char *kind);

#endif
