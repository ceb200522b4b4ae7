/* SPDX-License-Identifier: Apache-2.0 */
/* Reference backend: plain C, written for obviousness rather than speed.
 * It is the oracle for the oneDNN backend in the tests. Accumulates in
 * double so that it is the more accurate of the two. */
#include "backend/backend.h"

rnn_status rnn__ref_matmul(int ta, int tb, int64_t M, int64_t K, int64_t N, const float *A,
                           const float *B, const float *bias, float beta, float *C)
{
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double acc = bias ? bias[n] : 0.0;
            for (int64_t k = 0; k < K; k++)
                acc += (double)(ta ? A[k * M + m] : A[m * K + k]) *
                       (double)(tb ? B[n * K + k] : B[k * N + n]);
            C[m * N + n] = (float)(beta != 0.0f ? C[m * N + n] + acc : acc);
        }
    return RNN_OK;
}

int rnn__cell_gates(rnn__cell cell)
{
    switch (cell) {
    case RNN__CELL_RNN_TANH:
    case RNN__CELL_RNN_RELU: return 1;
    case RNN__CELL_LSTM: return 4;
    case RNN__CELL_GRU:
    case RNN__CELL_LBR_GRU: return 3;
    }
    return 0;
}

int rnn__cell_bias_gates(rnn__cell cell)
{
    return cell == RNN__CELL_LBR_GRU ? 4 : rnn__cell_gates(cell);
}

int rnn__cell_has_c(rnn__cell cell)
{
    return cell == RNN__CELL_LSTM;
}
