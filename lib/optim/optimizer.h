/* SPDX-License-Identifier: Apache-2.0 */
/* The optimizer's state, for saving and loading it with the model. */
#ifndef RNN_OPTIM_INTERNAL_H
#define RNN_OPTIM_INTERNAL_H

#include "internal.h"
#include "rnn/optim.h"

/* Slots follow the model's parameter order (layers, then their params). */
struct rnn_optimizer {
    rnn_optimizer_options o;
    rnn_model *model;
    int n_slots;   /* parameter tensors when created */
    float **m, **v; /* first and second moment (or velocity) per slot, may be NULL */
    int64_t iterations;
    double u_product; /* Nadam's momentum-schedule product */
};

#endif
