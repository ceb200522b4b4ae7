/* SPDX-License-Identifier: Apache-2.0 */
/* Element-wise activations shared by Dense, Conv1D and Activation (softmax and
 * log-softmax over each row). */
#include <math.h>
#include <string.h>

#include "layer/layer.h"

static float row_max(const float *v, int64_t n)
{
    float mx = v[0];
    for (int64_t j = 1; j < n; j++)
        mx = v[j] > mx ? v[j] : mx;
    return mx;
}

void rnn__activate(rnn_activation a, float *y, int64_t rows, int64_t n)
{
    switch (a) {
    case RNN_ACT_LINEAR: return;
    case RNN_ACT_RELU:
        for (int64_t i = 0; i < rows * n; i++)
            y[i] = y[i] > 0 ? y[i] : 0;
        return;
    case RNN_ACT_TANH:
        for (int64_t i = 0; i < rows * n; i++)
            y[i] = tanhf(y[i]);
        return;
    case RNN_ACT_SIGMOID:
        for (int64_t i = 0; i < rows * n; i++)
            y[i] = 1.0f / (1.0f + expf(-y[i]));
        return;
    case RNN_ACT_SOFTMAX:
        for (int64_t r = 0; r < rows; r++) {
            float *v = y + r * n, mx = row_max(v, n);
            double sum = 0;
            for (int64_t j = 0; j < n; j++)
                sum += (v[j] = expf(v[j] - mx));
            for (int64_t j = 0; j < n; j++)
                v[j] = (float)(v[j] / sum);
        }
        return;
    case RNN_ACT_LOG_SOFTMAX:
        /* x - max - log(sum(exp(x - max))): no exp overflows, and the largest
         * term of the sum is 1, so the log is finite */
        for (int64_t r = 0; r < rows; r++) {
            float *v = y + r * n, mx = row_max(v, n);
            double sum = 0;
            for (int64_t j = 0; j < n; j++)
                sum += expf(v[j] - mx);
            const double lse = log(sum);
            for (int64_t j = 0; j < n; j++)
                v[j] = (float)((double)(v[j] - mx) - lse);
        }
        return;
    }
}

void rnn__activation_grad(rnn_activation a, const float *y, const float *dy, float *dz,
                          int64_t rows, int64_t n, int accumulate)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * n, *gr = dy + r * n;
        float *o = dz + r * n;
        /* softmax: dz = y (dy - sum(y dy)); log-softmax: dz = dy - exp(y) sum(dy) */
        double dot = 0;
        if (a == RNN_ACT_SOFTMAX)
            for (int64_t j = 0; j < n; j++)
                dot += (double)yr[j] * gr[j];
        else if (a == RNN_ACT_LOG_SOFTMAX)
            for (int64_t j = 0; j < n; j++)
                dot += gr[j];
        for (int64_t j = 0; j < n; j++) {
            float g = gr[j];
            switch (a) {
            case RNN_ACT_LINEAR: break;
            case RNN_ACT_RELU: g = yr[j] > 0 ? g : 0; break;
            case RNN_ACT_TANH: g *= 1 - yr[j] * yr[j]; break;
            case RNN_ACT_SIGMOID: g *= yr[j] * (1 - yr[j]); break;
            case RNN_ACT_SOFTMAX: g = yr[j] * (float)(g - dot); break;
            case RNN_ACT_LOG_SOFTMAX: g = (float)(g - exp((double)yr[j]) * dot); break;
            }
            o[j] = accumulate ? o[j] + g : g;
        }
    }
}
