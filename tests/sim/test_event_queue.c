/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the simulator's event queue runs events in (time, seq) order and its virtual clock only
 * moves forward, so a run depends on nothing but its seed. Method: push events out of order and
 * with equal times, pop them all, and compare with the expected order; check the bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "base/err.h"
#include "base/prng.h"
#include "sim/sim_queue.h"

#define CAPACITY 64

struct fixture {
	struct sim_queue q;
	void *memory;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->memory = malloc(sim_queue_size(CAPACITY));
	assert_non_null(f->memory);
	sim_queue_init(&f->q, f->memory, CAPACITY);
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
push(struct fixture *f, uint64_t time_ns, uint64_t tag)
{
	assert_int_equal(sim_queue_push(&f->q, time_ns, SIM_EV_NODE_TICK, 0, tag, 0), 0);
}

static uint64_t
pop_tag(struct fixture *f)
{
	struct sim_event ev;

	assert_int_equal(sim_queue_pop(&f->q, &ev), 0);
	return ev.arg0;
}

static void
test_sim_queue_pops_earliest_time_first(void **state)
{
	struct fixture *f = *state;

	push(f, 300, 3);
	push(f, 100, 1);
	push(f, 200, 2);
	assert_int_equal(pop_tag(f), 1);
	assert_int_equal(sim_queue_now(&f->q), 100);
	assert_int_equal(pop_tag(f), 2);
	assert_int_equal(pop_tag(f), 3);
	assert_int_equal(sim_queue_now(&f->q), 300);
}

static void
test_sim_queue_runs_equal_times_in_push_order(void **state)
{
	struct fixture *f = *state;

	for (uint64_t i = 0; i < 20; i++) {
		push(f, 50, i);
	}
	for (uint64_t i = 0; i < 20; i++) {
		assert_int_equal(pop_tag(f), i);
	}
}

static void
test_sim_queue_push_after_is_relative_to_the_clock(void **state)
{
	struct fixture *f = *state;
	struct sim_event ev;

	push(f, 1000, 0);
	assert_int_equal(pop_tag(f), 0);
	assert_int_equal(sim_queue_push_after(&f->q, 5, SIM_EV_NODE_WAKE, 2, 7, 9), 0);
	assert_int_equal(sim_queue_pop(&f->q, &ev), 0);
	assert_int_equal(ev.time_ns, 1005);
	assert_int_equal(ev.kind, SIM_EV_NODE_WAKE);
	assert_int_equal(ev.target, 2);
	assert_int_equal(ev.arg1, 9);
}

static void
test_sim_queue_reports_full_and_empty(void **state)
{
	struct fixture *f = *state;
	struct sim_event ev;

	assert_int_equal(sim_queue_pop(&f->q, &ev), -EAGAIN);
	assert_null(sim_queue_peek(&f->q));
	for (uint64_t i = 0; i < CAPACITY; i++) {
		push(f, i, i);
	}
	assert_int_equal(sim_queue_push(&f->q, 1, SIM_EV_NODE_TICK, 0, 0, 0), -ENOBUFS);
	assert_int_equal(sim_queue_count(&f->q), CAPACITY);
	assert_int_equal(sim_queue_peek(&f->q)->arg0, 0);
}

static void
test_sim_queue_random_pushes_pop_sorted_by_time_then_seq(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;
	struct sim_event prev = {0};

	base_prng_init(&prng, 42);
	for (int round = 0; round < 50; round++) {
		uint64_t now = sim_queue_now(&f->q);

		for (int i = 0; i < 40; i++) {
			push(f, now + base_prng_below(&prng, 10), 0);
		}
		for (int i = 0; i < 40; i++) {
			struct sim_event ev;

			assert_int_equal(sim_queue_pop(&f->q, &ev), 0);
			assert_true(ev.time_ns > prev.time_ns ||
				    (ev.time_ns == prev.time_ns && ev.seq > prev.seq) ||
				    (round == 0 && i == 0));
			prev = ev;
		}
	}
	assert_int_equal(f->q.popped_count, 2000);
}

static void
test_sim_queue_reset_rewinds_clock_and_sequence(void **state)
{
	struct fixture *f = *state;
	struct sim_event ev;

	push(f, 500, 1);
	push(f, 600, 2);
	assert_int_equal(pop_tag(f), 1);
	sim_queue_reset(&f->q);
	assert_int_equal(sim_queue_now(&f->q), 0);
	assert_int_equal(sim_queue_count(&f->q), 0);
	push(f, 10, 3);
	assert_int_equal(sim_queue_pop(&f->q, &ev), 0);
	assert_int_equal(ev.seq, 0);
	assert_int_equal(ev.arg0, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sim_queue_pops_earliest_time_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sim_queue_runs_equal_times_in_push_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_queue_push_after_is_relative_to_the_clock,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_queue_reports_full_and_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_sim_queue_random_pushes_pop_sorted_by_time_then_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_queue_reset_rewinds_clock_and_sequence,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
