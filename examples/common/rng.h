/* SPDX-License-Identifier: Apache-2.0 */
/* splitmix64 (Steele, Lea & Flood): the examples' small seeded generator and hash step. */
#ifndef EX_RNG_H
#define EX_RNG_H

#include <stdint.h>

/* Advances *s and returns the next 64 random bits. */
static inline uint64_t ex_splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
