/* SPDX-License-Identifier: Apache-2.0 */
/* The README's first example: create a tensor, use it, handle errors. */
#include <rnn.h>
#include <stdio.h>

int main(void)
{
    printf("librnn %s, %d threads\n", rnn_version_string(), rnn_get_num_threads());

    int64_t dims[2] = {2, 3};
    rnn_tensor *t = NULL;
    if (rnn_tensor_create(RNN_F32, 2, dims, &t) != RNN_OK) {
        fprintf(stderr, "%s\n", rnn_last_error());
        return 1;
    }
    rnn_tensor_fill_f32(t, 0.5f);
    int64_t at[2] = {1, 2};
    float v;
    rnn_tensor_get_f32(t, 2, at, &v);
    printf("t[1][2] = %g\n", v);

    /* Misuse gets a status and a message naming the function and argument. */
    int64_t bad[2] = {1, 7};
    rnn_status st = rnn_tensor_get_f32(t, 2, bad, &v);
    printf("error %d (%s): %s\n", st, rnn_status_string(st), rnn_last_error());

    rnn_tensor_destroy(t);
    return 0;
}
