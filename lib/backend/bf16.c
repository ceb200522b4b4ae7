/* SPDX-License-Identifier: Apache-2.0 */
/* bf16 conversions (backend.h, "bf16"): round to nearest, ties to even, as
 * oneDNN's reorders and AVX512-BF16's vcvtneps2bf16 do; NaN stays NaN. */
#include <string.h>

#include "backend/backend.h"

/* Branch-free, so that the loops below vectorize. */
static inline uint16_t from_f32(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet = (u >> 16) | 0x0040u; /* NaN: keep it quiet, whatever its payload */
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);
}

static inline float to_f32(uint16_t v)
{
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t rnn__bf16_from_f32(float v)
{
    return from_f32(v);
}

float rnn__bf16_to_f32(uint16_t v)
{
    return to_f32(v);
}

float rnn__bf16_round(float v)
{
    return rnn__bf16_to_f32(rnn__bf16_from_f32(v));
}

void rnn__bf16_pack(uint16_t *dst, const float *src, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        dst[i] = from_f32(src[i]);
}

void rnn__bf16_unpack(float *dst, const uint16_t *src, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        dst[i] = to_f32(src[i]);
}

void rnn__bf16_round_n(float *dst, const float *src, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        dst[i] = to_f32(from_f32(src[i]));
}
