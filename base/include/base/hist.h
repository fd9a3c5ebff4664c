/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fixed-size log-linear histogram of u64 values (latencies in nanoseconds), after
 * HdrHistogram's layout: values below 2^BASE_HIST_SUB_BITS have one bucket each (exact); above,
 * every power of two [2^m, 2^(m+1)) is split into 2^BASE_HIST_SUB_BITS equal buckets, so a
 * bucket's width is at most 1/64 of its lowest value (relative error <= 1.6 %). Values at or
 * above BASE_HIST_VALUE_LIMIT (2^40 ns, about 18 minutes) are counted in the top bucket and in
 * `clamped`. No C HdrHistogram is packaged (PLATFORM-NOTES.md), hence this one.
 *
 * Recording is O(1) with no allocation (one count-leading-zeros), so a load generator records
 * every sample on the control lcore. Percentiles walk the buckets (BASE_HIST_BUCKETS of them):
 * a reporting-time cost. Two histograms merge by adding counts, which is how a benchmark made
 * of several rounds, or several nodes, adds up exactly.
 *
 * Bucket index i covers [base_hist_bucket_low(i), base_hist_bucket_high(i)]. A reported
 * percentile is the high end of its bucket, capped at the largest recorded value: it never
 * understates (the convention of HdrHistogram's highest equivalent value).
 *
 * Memory: struct base_hist is about 18 KiB, embedded in its owner (no pointers inside, so it
 * may be copied). Pure: no clock, no IO; one owner thread.
 */
#ifndef AETHER_BASE_HIST_H
#define AETHER_BASE_HIST_H

#include <stddef.h>
#include <stdint.h>

/* Buckets per power of two, as a shift: 64 buckets, at most 1/64 relative error. */
#define BASE_HIST_SUB_BITS    6u
/* Values are bounded by 2^BASE_HIST_VALUE_BITS; larger ones are clamped (and counted). */
#define BASE_HIST_VALUE_BITS  40u
#define BASE_HIST_VALUE_LIMIT (UINT64_C(1) << BASE_HIST_VALUE_BITS)
/* (VALUE_BITS - SUB_BITS + 1) groups of 2^SUB_BITS buckets: 2240. */
#define BASE_HIST_BUCKETS     ((BASE_HIST_VALUE_BITS - BASE_HIST_SUB_BITS + 1u) << BASE_HIST_SUB_BITS)
/* Percentiles are asked for in parts per million: p50 = 500000, p99.9 = 999000. */
#define BASE_HIST_PER_MILLION 1000000u

struct base_hist {
	uint64_t total;   /* values recorded */
	uint64_t min;     /* smallest recorded (UINT64_MAX while empty), after clamping */
	uint64_t max;     /* largest recorded (0 while empty), after clamping */
	uint64_t clamped; /* values at or above BASE_HIST_VALUE_LIMIT */
	uint64_t counts[BASE_HIST_BUCKETS];
};

/* Empties h. */
void base_hist_reset(struct base_hist *h);
/* Records value once. */
void base_hist_record(struct base_hist *h, uint64_t value);
/* Records value n times (n = 0 changes nothing); for decoding bucket lists and merging. */
void base_hist_record_n(struct base_hist *h, uint64_t value, uint64_t n);
/* Adds every count of src to dst (src borrowed; dst == src is allowed and doubles it). */
void base_hist_merge(struct base_hist *dst, const struct base_hist *src);

/*
 * The value at or below which per_million / 1e6 of the recorded values lie (nearest rank,
 * reported as its bucket's high end capped at max; see above). 0 when empty; per_million 0
 * gives min, BASE_HIST_PER_MILLION gives max. per_million <= BASE_HIST_PER_MILLION (asserted).
 */
uint64_t base_hist_percentile(const struct base_hist *h, uint32_t per_million);

/* The bucket of a value (values >= BASE_HIST_VALUE_LIMIT: the top bucket). */
size_t base_hist_bucket_index(uint64_t value);
/* The lowest and highest value of bucket index (< BASE_HIST_BUCKETS, asserted). */
uint64_t base_hist_bucket_low(size_t index);
uint64_t base_hist_bucket_high(size_t index);

#endif /* AETHER_BASE_HIST_H */
