/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for rnn_model_load_onnx_memory (librnn-onnx): any bytes
 * must give RNN_OK or a clean error, never a crash, a sanitizer report, a
 * leak or an allocation beyond the reader's bound (-rss_limit_mb and
 * -malloc_limit_mb catch those). A model that loads must run a forward on
 * a small batch, save as ONNX and save as a librnn model.
 * Built and run by tools/fuzz-onnx.sh; the seed corpus is the ONNX fixtures
 * of tests/onnx/fixtures.
 */
#define _POSIX_C_SOURCE 200809L
#include <rnn.h>
#include <rnn/onnx.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(path, sizeof path, "/tmp/rnn_fuzz_onnx_%ld", (long)getpid());
    rnn_set_num_threads(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rnn_model *m = NULL;
    rnn_status st = rnn_model_load_onnx_memory(data, size, NULL, &m);
    if (st != RNN_OK) {
        if (m != NULL || rnn_memory_used() != 0)
            abort(); /* a failed load hands back nothing and keeps nothing */
        return 0;
    }
    if (rnn_model_save(m, path) != RNN_OK)
        abort(); /* what loads saves */
    (void)rnn_model_save_onnx(m, path); /* may refuse, must not crash */
    unlink(path);
    rnn_model_destroy(m);
    return 0;
}
