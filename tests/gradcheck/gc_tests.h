/* SPDX-License-Identifier: Apache-2.0 */
/* The gradient-check program's parts: one per library file, each adding its tests to a TCase
 * (main.c runs the part named on the command line). */
#ifndef RNN_TEST_GC_TESTS_H
#define RNN_TEST_GC_TESTS_H

#include <check.h>

void gc_add_harness(TCase *tc);   /* test_harness.c: the harness itself can fail */
void gc_add_recurrent(TCase *tc); /* lib/layers/recurrent.c */
void gc_add_dense(TCase *tc);     /* lib/layers/dense.c */
void gc_add_embedding(TCase *tc); /* lib/layers/embedding.c */
void gc_add_simple(TCase *tc);    /* lib/layers/{dropout,spatial_dropout1d,activation,
                                     global_pooling}.c */
void gc_add_conv(TCase *tc);      /* lib/layers/conv1d.c, max_pooling1d.c */
void gc_add_shape(TCase *tc);     /* lib/layers/{flatten,repeat_vector,concatenate}.c */
void gc_add_layer_normalization(TCase *tc); /* lib/layers/layer_normalization.c */
void gc_add_attention(TCase *tc); /* lib/layers/attention.c */
void gc_add_model(TCase *tc);     /* lib/model/: functional graphs, shared layers */
void gc_add_loss(TCase *tc);      /* lib/train/loss.c */
void gc_add_compile(TCase *tc);   /* lib/train/compile.c: train_step, every optimizer */

#endif
