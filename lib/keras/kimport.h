/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interface of librnn-keras: the configuration reader (kconfig.c)
 * and the weights reader (kweights.c), both over librnn's public API. */
#ifndef RNN_KERAS_KIMPORT_H
#define RNN_KERAS_KIMPORT_H

#include <rnn.h>
#include <stddef.h>

#include "kh5.h"

/* Limits of a hostile file (docs/guide/interchange-keras.md). */
#define RNN_KX_MAX_FILE ((size_t)0xffffffffu)     /* zip32: a .keras file */
#define RNN_KX_MAX_CONFIG ((size_t)64 << 20)      /* config.json */
#define RNN_KX_MAX_LAYERS 4096
#define RNN_KX_MAX_NODES 16 /* applications of one layer */
#define RNN_KX_MAX_OUT 8    /* outputs of one layer */

/* Where a layer's arrays are in the weights file, under its key. */
typedef enum rnn_kx_wlayout {
    RNN_KX_W_NONE = 0,
    RNN_KX_W_PLAIN, /* key/vars/0.. */
    RNN_KX_W_RNN,   /* key/cell/vars/0.. */
    RNN_KX_W_BIDI,  /* key/forward_layer/cell/vars/0.., key/backward_layer/cell/vars/0.. */
    RNN_KX_W_TD     /* key/layer/vars/0.. */
} rnn_kx_wlayout;

typedef struct rnn_kx_wentry {
    rnn_layer *layer;
    char key[192];
    rnn_kx_wlayout layout;
} rnn_kx_wentry;

/* An error: the status and the cause (without the public function). */
typedef struct rnn_kx_err {
    rnn_status status;
    char msg[480];
} rnn_kx_err;

/* Builds *out from config.json's text; fills entries (room for
 * RNN_KX_MAX_LAYERS) with each weighted layer's key and layout. */
int rnn_kx_build(const char *json, size_t len, const rnn_model_options *options,
                 rnn_model **out, rnn_kx_wentry *entries, int *n_entries, rnn_kx_err *e);
/* Reads every entry's arrays from h, checks them all, then sets them. */
int rnn_kx_load_weights(rnn_kh5 *h, const rnn_kx_wentry *entries, int n, rnn_kx_err *e);
/* Keras' snake_case of a class name ("SimpleRNN" -> "simple_rnn"). */
void rnn_kx_snake(const char *cls, char *out, size_t size);
/* e->msg = "prefix: " + the core's last error without its function name. */
int rnn_kx_core_fail(rnn_kx_err *e, rnn_status st, const char *prefix);

#endif
