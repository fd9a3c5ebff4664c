/* SPDX-License-Identifier: Apache-2.0 */
#include "base/hist.h"

#include <assert.h>
#include <string.h>

#include "base/panic.h"

#define SUB_COUNT (UINT64_C(1) << BASE_HIST_SUB_BITS)

static_assert(BASE_HIST_SUB_BITS >= 1 && BASE_HIST_SUB_BITS < BASE_HIST_VALUE_BITS,
	      "a group must split a power of two and fit below the limit");
static_assert(BASE_HIST_VALUE_BITS < 63, "the top bucket's high end must not overflow");

void
base_hist_reset(struct base_hist *h)
{
	ASSERT(h != NULL);
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t
base_hist_bucket_index(uint64_t value)
{
	unsigned m;
	unsigned shift;

	if (value >= BASE_HIST_VALUE_LIMIT) {
		value = BASE_HIST_VALUE_LIMIT - 1;
	}
	if (value < SUB_COUNT) {
		return (size_t)value;
	}
	/* m = floor(log2 value) >= SUB_BITS; the group after the exact buckets is m - SUB_BITS + 1,
	 * and the sub-bucket is the SUB_BITS bits below the leading one. */
	m = 63u - (unsigned)__builtin_clzll(value);
	shift = m - BASE_HIST_SUB_BITS;
	return ((size_t)(shift + 1u) << BASE_HIST_SUB_BITS) +
	       (size_t)((value >> shift) - SUB_COUNT);
}

uint64_t
base_hist_bucket_low(size_t index)
{
	size_t group = index >> BASE_HIST_SUB_BITS;
	uint64_t sub = (uint64_t)(index & (SUB_COUNT - 1));

	ASSERT(index < BASE_HIST_BUCKETS);
	if (group == 0) {
		return (uint64_t)index;
	}
	return (SUB_COUNT + sub) << (group - 1);
}

uint64_t
base_hist_bucket_high(size_t index)
{
	size_t group = index >> BASE_HIST_SUB_BITS;

	ASSERT(index < BASE_HIST_BUCKETS);
	if (group == 0) {
		return (uint64_t)index;
	}
	return base_hist_bucket_low(index) + (UINT64_C(1) << (group - 1)) - 1;
}

void
base_hist_record_n(struct base_hist *h, uint64_t value, uint64_t n)
{
	ASSERT(h != NULL);
	if (n == 0) {
		return;
	}
	if (value >= BASE_HIST_VALUE_LIMIT) {
		h->clamped += n;
		value = BASE_HIST_VALUE_LIMIT - 1;
	}
	h->counts[base_hist_bucket_index(value)] += n;
	h->total += n;
	if (value < h->min) {
		h->min = value;
	}
	if (value > h->max) {
		h->max = value;
	}
}

void
base_hist_record(struct base_hist *h, uint64_t value)
{
	base_hist_record_n(h, value, 1);
}

void
base_hist_merge(struct base_hist *dst, const struct base_hist *src)
{
	ASSERT(dst != NULL);
	ASSERT(src != NULL);
	if (src->total == 0) {
		return;
	}
	/* Read src's scalars first: dst may be src. */
	dst->min = src->min < dst->min ? src->min : dst->min;
	dst->max = src->max > dst->max ? src->max : dst->max;
	dst->clamped += src->clamped;
	dst->total += src->total;
	for (size_t i = 0; i < BASE_HIST_BUCKETS; i++) {
		dst->counts[i] += src->counts[i];
	}
}

/* ceil(total * per_million / 1e6) without overflowing for any total. */
static uint64_t
hist_rank(uint64_t total, uint32_t per_million)
{
	uint64_t whole = total / BASE_HIST_PER_MILLION * per_million;
	uint64_t part = total % BASE_HIST_PER_MILLION * per_million;

	return whole + (part + BASE_HIST_PER_MILLION - 1) / BASE_HIST_PER_MILLION;
}

uint64_t
base_hist_percentile(const struct base_hist *h, uint32_t per_million)
{
	uint64_t rank;
	uint64_t seen = 0;

	ASSERT(h != NULL);
	ASSERT(per_million <= BASE_HIST_PER_MILLION);
	if (h->total == 0) {
		return 0;
	}
	if (per_million == 0) {
		return h->min;
	}
	rank = hist_rank(h->total, per_million);
	ASSERT(rank >= 1 && rank <= h->total);
	for (size_t i = 0; i < BASE_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t high = base_hist_bucket_high(i);

			return high < h->max ? high : h->max;
		}
	}
	PANIC("histogram counts sum to less than total=%llu", (unsigned long long)h->total);
}
