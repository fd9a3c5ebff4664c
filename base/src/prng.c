/* SPDX-License-Identifier: Apache-2.0 */
#include "base/prng.h"

#include "base/panic.h"

/* splitmix64 spreads any seed (including 0) over the whole xoshiro state. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void
base_prng_init(struct base_prng *p, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++) {
		p->s[i] = splitmix64(&x);
	}
	ASSERT((p->s[0] | p->s[1] | p->s[2] | p->s[3]) != 0);
}

uint64_t
base_prng_next(struct base_prng *p)
{
	uint64_t *s = p->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t
base_prng_below(struct base_prng *p, uint64_t bound)
{
	uint64_t threshold;
	uint64_t r;

	ASSERT(bound > 0);
	/* Reject the short top range so every residue is equally likely. */
	threshold = (0 - bound) % bound;
	do {
		r = base_prng_next(p);
	} while (r < threshold);
	return r % bound;
}

uint64_t
base_prng_range(struct base_prng *p, uint64_t lo, uint64_t hi)
{
	ASSERT(lo <= hi);
	if (lo == 0 && hi == UINT64_MAX) {
		return base_prng_next(p);
	}
	return lo + base_prng_below(p, hi - lo + 1);
}

int
base_prng_chance(struct base_prng *p, uint32_t per_million)
{
	return base_prng_below(p, 1000000) < per_million;
}
