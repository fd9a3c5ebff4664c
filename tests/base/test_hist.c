/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the log-linear histogram tiles the value range without gaps or overlaps, keeps every
 * bucket within 1/64 of its values, reports percentiles by nearest rank that never understate
 * and overstate by at most one bucket, clamps huge values visibly, and merges exactly. Method:
 * a walk over every bucket; seeded random samples over nine decades compared with the exact
 * percentile of the sorted samples; small exact values where the answer is known by hand;
 * counts near 2^62 for the rank arithmetic; merge compared with recording both sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/hist.h"
#include "base/prng.h"

#define SAMPLE_COUNT 20000
#define SEED         0x5eed1234u

struct fixture {
	struct base_hist a;
	struct base_hist b;
	uint64_t samples[SAMPLE_COUNT];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	base_hist_reset(&f->a);
	base_hist_reset(&f->b);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x;
	uint64_t b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* Log-uniform over [1, 2^30): latencies from nanoseconds to a second. */
static uint64_t
random_value(struct base_prng *p)
{
	uint64_t bits = base_prng_range(p, 0, 29);

	return base_prng_range(p, UINT64_C(1) << bits, (UINT64_C(2) << bits) - 1);
}

/* The exact nearest-rank percentile of sorted samples. */
static uint64_t
exact_percentile(const uint64_t *sorted, size_t count, uint32_t per_million)
{
	uint64_t rank =
		((uint64_t)count * per_million + BASE_HIST_PER_MILLION - 1) / BASE_HIST_PER_MILLION;

	return sorted[rank == 0 ? 0 : rank - 1];
}

static void
test_hist_buckets_tile_the_range_without_gaps(void **state)
{
	(void)state;
	assert_int_equal(base_hist_bucket_low(0), 0);
	for (size_t i = 0; i < BASE_HIST_BUCKETS; i++) {
		uint64_t low = base_hist_bucket_low(i);
		uint64_t high = base_hist_bucket_high(i);

		assert_true(low <= high);
		assert_int_equal(base_hist_bucket_index(low), i);
		assert_int_equal(base_hist_bucket_index(high), i);
		/* The width is at most 1/64 of the bucket's lowest value. */
		assert_true((high - low) * 64 <= low);
		if (i + 1 < BASE_HIST_BUCKETS) {
			assert_int_equal(base_hist_bucket_low(i + 1), high + 1);
		}
	}
	assert_int_equal(base_hist_bucket_high(BASE_HIST_BUCKETS - 1), BASE_HIST_VALUE_LIMIT - 1);
}

static void
test_hist_small_values_are_exact(void **state)
{
	struct fixture *f = *state;

	for (uint64_t v = 1; v <= 40; v++) {
		base_hist_record(&f->a, v);
	}
	assert_int_equal(f->a.total, 40);
	assert_int_equal(base_hist_percentile(&f->a, 0), 1);
	assert_int_equal(base_hist_percentile(&f->a, 25000), 1);
	assert_int_equal(base_hist_percentile(&f->a, 25001), 2);
	assert_int_equal(base_hist_percentile(&f->a, 500000), 20);
	assert_int_equal(base_hist_percentile(&f->a, 990000), 40);
	assert_int_equal(base_hist_percentile(&f->a, BASE_HIST_PER_MILLION), 40);
}

static void
test_hist_percentiles_never_understate_and_stay_within_a_bucket(void **state)
{
	static const uint32_t points[] = {1,      10000,  500000, 900000,
					  990000, 999000, 999900, BASE_HIST_PER_MILLION};
	struct fixture *f = *state;
	struct base_prng p;

	base_prng_init(&p, SEED);
	for (size_t i = 0; i < SAMPLE_COUNT; i++) {
		f->samples[i] = random_value(&p);
		base_hist_record(&f->a, f->samples[i]);
	}
	qsort(f->samples, SAMPLE_COUNT, sizeof(f->samples[0]), cmp_u64);
	assert_int_equal(f->a.min, f->samples[0]);
	assert_int_equal(f->a.max, f->samples[SAMPLE_COUNT - 1]);
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		uint64_t exact = exact_percentile(f->samples, SAMPLE_COUNT, points[i]);
		uint64_t got = base_hist_percentile(&f->a, points[i]);

		assert_true(got >= exact);
		assert_true(got - exact <= exact / 64);
		assert_true(got <= f->a.max);
	}
}

static void
test_hist_empty_reports_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->a.total, 0);
	assert_int_equal(base_hist_percentile(&f->a, 0), 0);
	assert_int_equal(base_hist_percentile(&f->a, 500000), 0);
	assert_int_equal(base_hist_percentile(&f->a, BASE_HIST_PER_MILLION), 0);
}

static void
test_hist_values_over_the_limit_are_clamped_and_counted(void **state)
{
	struct fixture *f = *state;

	base_hist_record(&f->a, 7);
	base_hist_record(&f->a, UINT64_MAX);
	base_hist_record_n(&f->a, BASE_HIST_VALUE_LIMIT, 2);
	assert_int_equal(f->a.total, 4);
	assert_int_equal(f->a.clamped, 3);
	assert_int_equal(f->a.max, BASE_HIST_VALUE_LIMIT - 1);
	assert_int_equal(f->a.counts[BASE_HIST_BUCKETS - 1], 3);
	assert_int_equal(base_hist_percentile(&f->a, BASE_HIST_PER_MILLION),
			 BASE_HIST_VALUE_LIMIT - 1);
	assert_int_equal(base_hist_percentile(&f->a, 250000), 7);
}

static void
test_hist_rank_does_not_overflow_with_huge_counts(void **state)
{
	struct fixture *f = *state;

	base_hist_record_n(&f->a, 5, UINT64_C(1) << 62);
	base_hist_record(&f->a, 10);
	assert_int_equal(base_hist_percentile(&f->a, 999999), 5);
	assert_int_equal(base_hist_percentile(&f->a, BASE_HIST_PER_MILLION), 10);
	base_hist_record_n(&f->a, 9, 0);
	assert_int_equal(f->a.total, (UINT64_C(1) << 62) + 1);
}

static void
test_hist_merge_equals_recording_both_sets(void **state)
{
	struct fixture *f = *state;
	struct base_hist *both = malloc(sizeof(*both));
	struct base_prng p;

	assert_non_null(both);
	base_hist_reset(both);
	base_prng_init(&p, SEED + 1);
	for (size_t i = 0; i < 1000; i++) {
		uint64_t v = random_value(&p);

		base_hist_record(i % 3 == 0 ? &f->a : &f->b, v);
		base_hist_record(both, v);
	}
	base_hist_merge(&f->a, &f->b);
	assert_memory_equal(&f->a, both, sizeof(*both));
	/* Merging into itself doubles every count and keeps min and max. */
	base_hist_merge(both, both);
	assert_int_equal(both->total, 2000);
	assert_int_equal(both->min, f->a.min);
	assert_int_equal(both->max, f->a.max);
	/* Merging an empty histogram changes nothing, not even min. */
	base_hist_reset(&f->b);
	base_hist_merge(&f->a, &f->b);
	assert_int_equal(f->a.total, 1000);
	free(both);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_buckets_tile_the_range_without_gaps),
		cmocka_unit_test_setup_teardown(test_hist_small_values_are_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_hist_percentiles_never_understate_and_stay_within_a_bucket, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_hist_empty_reports_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_hist_values_over_the_limit_are_clamped_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist_rank_does_not_overflow_with_huge_counts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hist_merge_equals_recording_both_sets, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
