/* SPDX-License-Identifier: Apache-2.0 */
/* The registry: the one list of every layer kind. Model files name kinds by
 * ops->kind; nothing else in the library lists or switches on kinds. */
#include <string.h>

#include "layer/layer.h"

extern const rnn__layer_ops rnn__input_ops, rnn__recurrent_ops, rnn__dense_ops,
    rnn__embedding_ops, rnn__dropout_ops, rnn__activation_ops, rnn__global_pooling_ops,
    rnn__spatial_dropout1d_ops, rnn__conv1d_ops, rnn__max_pooling1d_ops, rnn__flatten_ops,
    rnn__repeat_vector_ops, rnn__concatenate_ops, rnn__attention_ops;

static const rnn__layer_ops *const KINDS[] = {
    &rnn__input_ops,
    &rnn__recurrent_ops,
    &rnn__dense_ops,
    &rnn__embedding_ops,
    &rnn__dropout_ops,
    &rnn__activation_ops,
    &rnn__global_pooling_ops,
    &rnn__spatial_dropout1d_ops,
    &rnn__conv1d_ops,
    &rnn__max_pooling1d_ops,
    &rnn__flatten_ops,
    &rnn__repeat_vector_ops,
    &rnn__concatenate_ops,
    &rnn__attention_ops,
};

const rnn__layer_ops *rnn__kind_find(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof KINDS / sizeof *KINDS; i++)
        if (!strcmp(KINDS[i]->kind, kind))
            return KINDS[i];
    return NULL;
}
