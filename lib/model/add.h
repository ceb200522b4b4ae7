/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one entry point of the model graph that the layers' public
 * constructors (rnn_model_add_dense() and the like, each in its kind's file)
 * call. It declares no model internals: struct rnn_model stays opaque to
 * lib/layers/.
 */
#ifndef RNN_MODEL_ADD_H
#define RNN_MODEL_ADD_H

#include "layer/layer.h"

/* Creates a layer of kind ops with options opts and appends it, reading
 * in[0..n_in) (n_in = 0: the next producer, see rnn_model_connect_next()),
 * with a unique Keras-style name. Checks that the producers belong to m.
 * The public constructors in lib/layers/ are thin wrappers around it. */
RNN__HIDDEN rnn_status rnn__model_add(const char *func, rnn_model *m, const rnn__layer_ops *ops,
                                      const void *opts, int n_in, const rnn__port *in,
                                      rnn_layer **out);
/* Checks that port p is an output of a layer of m; what names it in errors. */
RNN__HIDDEN rnn_status rnn__model_check_port(const char *func, const char *what,
                                             const rnn_model *m, rnn__port p);
/* After a layer's connections changed (recurrent initial states). */
RNN__HIDDEN void rnn__model_changed(rnn_model *m);

#endif
