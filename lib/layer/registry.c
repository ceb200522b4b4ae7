/* SPDX-License-Identifier: Apache-2.0 */
/* The registry: the one list of every layer kind, generated from
 * `layer_kinds` in lib/meson.build (layer_kinds.h). Model files name kinds by
 * ops->kind; nothing else in the library lists or switches on kinds. */
#include <string.h>

#include "layer/layer.h"
#include "layer_kinds.h"

#define RNN__KIND(k) extern const rnn__layer_ops rnn__##k##_ops;
RNN__KINDS
#undef RNN__KIND

static const rnn__layer_ops *const KINDS[] = {
#define RNN__KIND(k) &rnn__##k##_ops,
    RNN__KINDS
#undef RNN__KIND
};

const rnn__layer_ops *rnn__kind_find(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof KINDS / sizeof *KINDS; i++)
        if (!strcmp(KINDS[i]->kind, kind))
            return KINDS[i];
    return NULL;
}
