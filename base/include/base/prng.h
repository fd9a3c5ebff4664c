/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded pseudo-random generator (xoshiro256**, seeded through splitmix64). Deterministic: the
 * same seed gives the same sequence on every machine, which is what the simulator's replay and
 * property tests rely on. Not cryptographic. The state lives in the caller's struct; there is
 * no global generator. One owner; not thread-safe.
 */
#ifndef AETHER_BASE_PRNG_H
#define AETHER_BASE_PRNG_H

#include <stdint.h>

struct base_prng {
	uint64_t s[4];
};

void base_prng_init(struct base_prng *p, uint64_t seed);
uint64_t base_prng_next(struct base_prng *p);
/* Uniform in [0, bound) without modulo bias; bound must be > 0. */
uint64_t base_prng_below(struct base_prng *p, uint64_t bound);
/* Uniform in [lo, hi] inclusive; lo <= hi. */
uint64_t base_prng_range(struct base_prng *p, uint64_t lo, uint64_t hi);
/* True with probability per_million / 1e6. */
int base_prng_chance(struct base_prng *p, uint32_t per_million);

#endif /* AETHER_BASE_PRNG_H */
