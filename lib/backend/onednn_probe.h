/* SPDX-License-Identifier: Apache-2.0 */
/* Probes of raw oneDNN behaviour (backend/onednn_probe.c), for tools/onednn_traps. */
#ifndef RNN_ONEDNN_PROBE_H
#define RNN_ONEDNN_PROBE_H

#include "backend/backend.h"

/* Largest relative difference of diff_weights_iter between a backward with
 * src_iter omitted and one with an explicit zero src_iter (0 = no trap). */
RNN__HIDDEN rnn_status rnn__dnnl_probe_null_src_iter(int cell, double *rel_diff);
/* Second backward's diff_weights_iter over the first's, without zeroing
 * (2 = accumulate, 1 = overwrite). */
RNN__HIDDEN rnn_status rnn__dnnl_probe_accumulation(int cell, double *ratio);
/* Creates the primitives in this thread and runs them in another, with the
 * user or the library scratchpad. May crash: call it in a child process. */
RNN__HIDDEN rnn_status rnn__dnnl_probe_other_thread(int cell, int user_scratchpad);

#endif
