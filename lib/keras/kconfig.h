/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the configuration reader's two files: klayers.c (one Keras
 * layer's configuration -> a librnn kind and options, inputs) and kgraph.c
 * (the Sequential or Functional graph). */
#ifndef RNN_KERAS_KCONFIG_H
#define RNN_KERAS_KCONFIG_H

#include <jansson.h>

#include "kimport.h"

typedef struct kx_layer {
    const char *name, *cls;
    json_t *cfg;
    int n_nodes;
    rnn_layer *node[RNN_KX_MAX_NODES];
    long long mask[RNN_KX_MAX_NODES][RNN_KX_MAX_OUT];
    int is_mask_op; /* NotEqual(tokens, 0): mask[][0] is the mask it computes */
} kx_layer;

typedef struct kx {
    rnn_model *m;
    rnn_kx_err *e;
    kx_layer *l;
    int n;
    const char *lname, *lcls; /* the layer being read, for messages */
} kx;

typedef struct kx_map {
    const char *kind;
    json_t *opts;
    rnn_kx_wlayout layout;
    long long out_mask[RNN_KX_MAX_OUT];
    int multi; /* takes 2 to 9 inputs (Concatenate, Attention) */
} kx_map;

/* Sets the error (prefixed with the current layer) and returns -1. */
int rnn_kx_fail(kx *x, rnn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The core's last error as this layer's cause; -1. */
int rnn_kx_core_layer_fail(kx *x, rnn_status st);
int rnn_kx_want_false(kx *x, json_t *c, const char *k);
int rnn_kx_is_rnn_class(const char *cls);
const char *rnn_kx_class_of(json_t *layer);
/* A Keras layer of class cls and configuration c on n_in inputs with those
 * masks -> r (r->opts to be json_decref'd by the caller on success). */
int rnn_kx_map_layer(kx *x, const char *cls, json_t *c, int n_in, const long long *in_mask,
                     kx_map *r);
/* Adds r's librnn layer on the sources; honours trainable=False. */
int rnn_kx_add_mapped(kx *x, kx_map *r, json_t *c, int n_in, rnn_layer *const *src,
                      const int *outs, rnn_layer **out);
/* An InputLayer's configuration -> rnn_model_add_input(). */
int rnn_kx_add_input(kx *x, json_t *c, rnn_layer **out);

#endif
