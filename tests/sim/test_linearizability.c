/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the WGL checker accepts exactly the linearizable register histories (put, get, cas,
 * including operations that never completed), and reports a bounded search as inconclusive,
 * never as a pass. Method: hand-made histories with known answers (classic stale reads, lost
 * writes, cas semantics, pending operations), then seeded random histories generated from a
 * sequential execution (always linearizable) and the same histories with one read changed to a
 * value nobody wrote (never linearizable).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/prng.h"
#include "sim/linearizability.h"

#define OPS_MAX 2048
#define P       SIM_LIN_PENDING

struct fixture {
	struct sim_lin_checker checker;
	void *memory;
	struct sim_lin_op ops[OPS_MAX];
	size_t count;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_lin_config cfg = {
		.ops_max = OPS_MAX, .step_max = 5000000, .memo_bytes = 8 << 20};

	assert_non_null(f);
	f->memory = malloc(sim_lin_checker_size(&cfg));
	assert_non_null(f->memory);
	sim_lin_checker_init(&f->checker, f->memory, &cfg);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->memory);
	free(f);
	return 0;
}

static void
add(struct fixture *f, uint32_t kind, uint64_t inv, uint64_t cmp, uint64_t value, uint64_t exp,
    uint32_t is_ok)
{
	struct sim_lin_op *op = &f->ops[f->count++];

	op->kind = kind;
	op->invoke_ns = inv;
	op->complete_ns = cmp;
	op->value = value;
	op->expected = exp;
	op->is_ok = is_ok;
}

static void
put(struct fixture *f, uint64_t inv, uint64_t cmp, uint64_t v)
{
	add(f, SIM_LIN_PUT, inv, cmp, v, 0, 1);
}

static void
get(struct fixture *f, uint64_t inv, uint64_t cmp, uint64_t v)
{
	add(f, SIM_LIN_GET, inv, cmp, v, 0, 1);
}

static void
cas(struct fixture *f, uint64_t inv, uint64_t cmp, uint64_t e, uint64_t n, uint32_t ok)
{
	add(f, SIM_LIN_CAS, inv, cmp, n, e, ok);
}

static enum sim_lin_result
check(struct fixture *f, uint64_t initial)
{
	struct sim_lin_report report;

	assert_int_equal(sim_lin_check(&f->checker, f->ops, f->count, initial, &report), 0);
	return report.result;
}

static void
assert_linearizable(struct fixture *f)
{
	assert_int_equal(check(f, 0), SIM_LIN_LINEARIZABLE);
}

static void
assert_violation(struct fixture *f)
{
	assert_int_equal(check(f, 0), SIM_LIN_VIOLATION);
}

static void
test_lin_empty_history_is_linearizable(void **state)
{
	assert_linearizable(*state);
}

static void
test_lin_sequential_put_then_get_is_linearizable(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	get(f, 20, 30, 1);
	put(f, 40, 50, 2);
	get(f, 60, 70, 2);
	assert_linearizable(f);
}

static void
test_lin_read_of_a_value_never_written_is_a_violation(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	get(f, 20, 30, 7);
	assert_violation(f);
}

static void
test_lin_stale_read_after_overwrite_completed_is_a_violation(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	put(f, 20, 30, 2);
	get(f, 40, 50, 1);
	assert_violation(f);
}

static void
test_lin_read_concurrent_with_put_may_see_old_or_new(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	put(f, 20, 60, 2);
	get(f, 30, 40, 1);
	get(f, 30, 50, 2);
	assert_linearizable(f);
}

static void
test_lin_new_value_then_old_value_in_real_time_is_a_violation(void **state)
{
	struct fixture *f = *state;

	/* Both reads overlap put(2), but once one read saw 2 a later read cannot see 1. */
	put(f, 0, 10, 1);
	put(f, 20, 100, 2);
	get(f, 30, 40, 2);
	get(f, 50, 60, 1);
	assert_violation(f);
}

static void
test_lin_read_before_any_write_sees_absent(void **state)
{
	struct fixture *f = *state;

	get(f, 0, 5, 0);
	put(f, 10, 20, 1);
	assert_linearizable(f);
}

static void
test_lin_read_of_absent_after_completed_put_is_a_violation(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	get(f, 20, 30, 0);
	assert_violation(f);
}

static void
test_lin_cas_succeeds_only_on_the_expected_value(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	cas(f, 20, 30, 1, 2, 1);
	get(f, 40, 50, 2);
	assert_linearizable(f);

	f->count = 0;
	put(f, 0, 10, 3);
	cas(f, 20, 30, 1, 2, 1);
	assert_violation(f);
}

static void
test_lin_cas_fails_only_when_the_value_differs(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	cas(f, 20, 30, 5, 2, 0);
	get(f, 40, 50, 1);
	assert_linearizable(f);

	f->count = 0;
	put(f, 0, 10, 1);
	cas(f, 20, 30, 1, 2, 0);
	assert_violation(f);
}

static void
test_lin_failed_cas_writes_nothing(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	cas(f, 20, 30, 5, 2, 0);
	get(f, 40, 50, 2);
	assert_violation(f);
}

static void
test_lin_pending_put_may_take_effect_or_not(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	put(f, 20, P, 2);
	get(f, 30, 40, 2);
	assert_linearizable(f);

	f->count = 0;
	put(f, 0, 10, 1);
	put(f, 20, P, 2);
	get(f, 30, 40, 1);
	get(f, 100, 110, 1);
	assert_linearizable(f);
}

static void
test_lin_pending_put_cannot_act_before_its_invoke(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	get(f, 20, 30, 2);
	put(f, 40, P, 2);
	assert_violation(f);
}

static void
test_lin_pending_cas_swaps_when_the_value_matches(void **state)
{
	struct fixture *f = *state;

	put(f, 0, 10, 1);
	cas(f, 20, P, 1, 2, 0);
	get(f, 30, 40, 2);
	assert_linearizable(f);

	f->count = 0;
	put(f, 0, 10, 3);
	cas(f, 20, P, 1, 2, 0);
	get(f, 30, 40, 2);
	assert_violation(f);
}

static void
test_lin_pending_get_is_ignored(void **state)
{
	struct fixture *f = *state;
	struct sim_lin_report report;

	put(f, 0, 10, 1);
	get(f, 20, P, 99);
	assert_int_equal(sim_lin_check(&f->checker, f->ops, f->count, 0, &report), 0);
	assert_int_equal(report.result, SIM_LIN_LINEARIZABLE);
	assert_int_equal(report.op_count, 1);
}

static void
test_lin_initial_value_is_honoured(void **state)
{
	struct fixture *f = *state;

	get(f, 0, 10, 9);
	assert_int_equal(check(f, 9), SIM_LIN_LINEARIZABLE);
	assert_int_equal(check(f, 0), SIM_LIN_VIOLATION);
}

static void
test_lin_violation_names_the_blocking_operation(void **state)
{
	struct fixture *f = *state;
	struct sim_lin_report report;

	put(f, 0, 10, 1);
	put(f, 20, 30, 2);
	get(f, 40, 50, 1);
	assert_int_equal(sim_lin_check(&f->checker, f->ops, f->count, 0, &report), 0);
	assert_int_equal(report.result, SIM_LIN_VIOLATION);
	assert_int_equal(report.blocking_index, 2);
	assert_int_equal(report.deepest_count, 2);
}

static void
test_lin_rejects_malformed_and_oversized_histories(void **state)
{
	struct fixture *f = *state;
	struct sim_lin_report report;

	put(f, 10, 5, 1);
	assert_int_equal(sim_lin_check(&f->checker, f->ops, f->count, 0, &report), -EINVAL);
	f->count = 0;
	put(f, 0, 5, 0);
	assert_int_equal(sim_lin_check(&f->checker, f->ops, f->count, 0, &report), -EINVAL);
	f->count = 0;
	add(f, 9, 0, 5, 1, 0, 1);
	assert_int_equal(sim_lin_check(&f->checker, f->ops, f->count, 0, &report), -EINVAL);
	assert_int_equal(sim_lin_check(&f->checker, f->ops, OPS_MAX + 1, 0, &report), -E2BIG);
}

/*
 * A seeded history generated from a sequential execution: op i takes effect at time 100*i and
 * its interval is stretched around that point, so up to `width` operations overlap. Some puts
 * never complete; half of those never took effect at all.
 */
static void
gen_history(struct fixture *f, struct base_prng *prng, size_t count, uint64_t width)
{
	uint64_t state = 0;
	uint64_t next_value = 1;

	f->count = 0;
	for (size_t i = 0; i < count; i++) {
		uint64_t at = 1000 + 100 * (uint64_t)i;
		uint64_t inv = at - base_prng_below(prng, 100 * width);
		uint64_t cmp = at + base_prng_below(prng, 100 * width);
		uint64_t r = base_prng_below(prng, 10);

		if (r < 4) {
			int is_pending = base_prng_chance(prng, 50000);

			if (!is_pending || base_prng_chance(prng, 500000)) {
				state = next_value;
			}
			put(f, inv, is_pending ? P : cmp, next_value++);
		} else if (r < 7) {
			get(f, inv, cmp, state);
		} else {
			uint64_t e =
				base_prng_chance(prng, 500000) ? state : base_prng_below(prng, 4);
			int ok = e == state;

			cas(f, inv, cmp, e, next_value, (uint32_t)ok);
			if (ok) {
				state = next_value;
			}
			next_value++;
		}
	}
}

static void
test_lin_random_histories_from_sequential_runs_are_linearizable(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;

	base_prng_init(&prng, 7);
	for (int i = 0; i < 200; i++) {
		size_t count = 1 + base_prng_below(&prng, 300);
		uint64_t width = 1 + base_prng_below(&prng, 8);

		gen_history(f, &prng, count, width);
		if (check(f, 0) != SIM_LIN_LINEARIZABLE) {
			fail_msg("history %d (count %zu width %llu) rejected", i, count,
				 (unsigned long long)width);
		}
	}
}

static void
test_lin_random_histories_with_one_bad_read_are_violations(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;
	int checked = 0;

	base_prng_init(&prng, 11);
	while (checked < 200) {
		size_t bad = SIZE_MAX;

		gen_history(f, &prng, 2 + base_prng_below(&prng, 300),
			    1 + base_prng_below(&prng, 8));
		for (size_t i = 0; i < f->count; i++) {
			if (f->ops[i].kind == SIM_LIN_GET && bad == SIZE_MAX) {
				bad = i;
			}
		}
		if (bad == SIZE_MAX) {
			continue;
		}
		f->ops[bad].value = 1000000007; /* nobody wrote this */
		if (check(f, 0) != SIM_LIN_VIOLATION) {
			fail_msg("corrupted history %d passed", checked);
		}
		checked++;
	}
}

static void
test_lin_bounded_search_reports_inconclusive_not_pass(void **state)
{
	struct fixture *f = *state;
	struct sim_lin_checker small;
	struct sim_lin_config cfg = {.ops_max = OPS_MAX, .step_max = 10, .memo_bytes = 1 << 20};
	struct sim_lin_report report;
	struct base_prng prng;
	void *memory = malloc(sim_lin_checker_size(&cfg));

	assert_non_null(memory);
	sim_lin_checker_init(&small, memory, &cfg);
	base_prng_init(&prng, 3);
	gen_history(f, &prng, 200, 6);
	assert_int_equal(sim_lin_check(&small, f->ops, f->count, 0, &report), 0);
	assert_int_equal(report.result, SIM_LIN_INCONCLUSIVE);
	assert_string_equal(sim_lin_result_name(report.result), "inconclusive");
	free(memory);
}

static void
test_lin_long_concurrent_history_checks_quickly(void **state)
{
	struct fixture *f = *state;
	struct sim_lin_report report;
	struct base_prng prng;

	base_prng_init(&prng, 5);
	gen_history(f, &prng, OPS_MAX, 6);
	assert_int_equal(sim_lin_check(&f->checker, f->ops, f->count, 0, &report), 0);
	assert_int_equal(report.result, SIM_LIN_LINEARIZABLE);
	assert_true(report.step_count < 1000000);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lin_empty_history_is_linearizable),
		T(test_lin_sequential_put_then_get_is_linearizable),
		T(test_lin_read_of_a_value_never_written_is_a_violation),
		T(test_lin_stale_read_after_overwrite_completed_is_a_violation),
		T(test_lin_read_concurrent_with_put_may_see_old_or_new),
		T(test_lin_new_value_then_old_value_in_real_time_is_a_violation),
		T(test_lin_read_before_any_write_sees_absent),
		T(test_lin_read_of_absent_after_completed_put_is_a_violation),
		T(test_lin_cas_succeeds_only_on_the_expected_value),
		T(test_lin_cas_fails_only_when_the_value_differs),
		T(test_lin_failed_cas_writes_nothing),
		T(test_lin_pending_put_may_take_effect_or_not),
		T(test_lin_pending_put_cannot_act_before_its_invoke),
		T(test_lin_pending_cas_swaps_when_the_value_matches),
		T(test_lin_pending_get_is_ignored),
		T(test_lin_initial_value_is_honoured),
		T(test_lin_violation_names_the_blocking_operation),
		T(test_lin_rejects_malformed_and_oversized_histories),
		T(test_lin_random_histories_from_sequential_runs_are_linearizable),
		T(test_lin_random_histories_with_one_bad_read_are_violations),
		T(test_lin_bounded_search_reports_inconclusive_not_pass),
		T(test_lin_long_concurrent_history_checks_quickly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
