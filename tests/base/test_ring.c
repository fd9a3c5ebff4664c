/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the ring is a bounded FIFO whose full and empty answers are backpressure that leaves it
 * untouched, and whose free-running head/tail counters survive any number of wraps (of the slot
 * index and of size_t itself). Method: direct cases on a small ring, a white-box start near
 * SIZE_MAX, and a seeded random push/pop/peek sequence checked step by step against an array
 * model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/compiler.h"
#include "base/err.h"
#include "base/prng.h"
#include "base/ring.h"

#define RING_CAP 8

/* An odd-sized element, so slot arithmetic with elem_size != 1, 4, 8 is exercised. */
struct ring_item {
	uint32_t seq;
	uint8_t tag[8];
};

struct fixture {
	struct base_ring *ring;
	void *memory;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->memory = malloc(base_ring_size(RING_CAP, sizeof(struct ring_item)));
	assert_non_null(f->memory);
	f->ring = base_ring_init(f->memory, RING_CAP, sizeof(struct ring_item));
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

static struct ring_item
item(uint32_t seq)
{
	struct ring_item it;

	memset(&it, 0, sizeof(it));
	it.seq = seq;
	for (size_t i = 0; i < sizeof(it.tag); i++) {
		it.tag[i] = (uint8_t)(seq * 31u + i);
	}
	return it;
}

static void
push_ok(struct base_ring *r, uint32_t seq)
{
	struct ring_item it = item(seq);

	assert_int_equal(base_ring_push(r, &it), 0);
}

static void
pop_expect(struct base_ring *r, uint32_t seq)
{
	struct ring_item want = item(seq);
	struct ring_item got;

	assert_int_equal(base_ring_pop(r, &got), 0);
	assert_memory_equal(&got, &want, sizeof(got));
}

static void
test_ring_size_covers_struct_and_slots(void **state)
{
	(void)state;
	assert_int_equal(base_ring_size(1, 1), sizeof(struct base_ring) + 1);
	assert_int_equal(base_ring_size(16, 12), sizeof(struct base_ring) + 16 * 12);
}

static void
test_ring_pops_in_fifo_order(void **state)
{
	struct fixture *f = *state;

	for (uint32_t i = 0; i < 5; i++) {
		push_ok(f->ring, i);
	}
	for (uint32_t i = 0; i < 5; i++) {
		pop_expect(f->ring, i);
	}
	assert_true(base_ring_is_empty(f->ring));
}

static void
test_ring_push_on_full_returns_enobufs_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct ring_item extra = item(999);

	for (uint32_t i = 0; i < RING_CAP; i++) {
		push_ok(f->ring, i);
	}
	assert_true(base_ring_is_full(f->ring));
	assert_int_equal(base_ring_push(f->ring, &extra), -ENOBUFS);
	assert_int_equal(base_ring_push(f->ring, &extra), -ENOBUFS);
	assert_int_equal(base_ring_count(f->ring), RING_CAP);
	assert_int_equal(((const struct ring_item *)base_ring_peek(f->ring))->seq, 0);
	for (uint32_t i = 0; i < RING_CAP; i++) {
		pop_expect(f->ring, i);
	}
	assert_true(base_ring_is_empty(f->ring));
}

static void
test_ring_pop_on_empty_returns_eagain_and_leaves_output_alone(void **state)
{
	struct fixture *f = *state;
	struct ring_item out = item(7);
	struct ring_item before = out;

	assert_int_equal(base_ring_pop(f->ring, &out), -EAGAIN);
	assert_memory_equal(&out, &before, sizeof(out));
	assert_null(base_ring_peek(f->ring));
	assert_int_equal(base_ring_count(f->ring), 0);
	/* Drained after use: empty again, same answer. */
	push_ok(f->ring, 1);
	pop_expect(f->ring, 1);
	assert_int_equal(base_ring_pop(f->ring, &out), -EAGAIN);
	assert_false(base_ring_is_full(f->ring));
}

static void
test_ring_peek_shows_oldest_without_removing_it(void **state)
{
	struct fixture *f = *state;
	const struct ring_item *p;

	push_ok(f->ring, 10);
	push_ok(f->ring, 11);
	p = base_ring_peek(f->ring);
	assert_non_null(p);
	assert_int_equal(p->seq, 10);
	assert_ptr_equal(base_ring_peek(f->ring), p);
	assert_int_equal(base_ring_count(f->ring), 2);
	pop_expect(f->ring, 10);
	assert_int_equal(((const struct ring_item *)base_ring_peek(f->ring))->seq, 11);
}

static void
test_ring_count_follows_pushes_and_pops(void **state)
{
	struct fixture *f = *state;

	assert_true(base_ring_is_empty(f->ring));
	for (uint32_t i = 0; i < RING_CAP; i++) {
		assert_int_equal(base_ring_count(f->ring), i);
		assert_false(base_ring_is_full(f->ring));
		push_ok(f->ring, i);
		assert_false(base_ring_is_empty(f->ring));
	}
	assert_true(base_ring_is_full(f->ring));
	for (uint32_t i = RING_CAP; i > 0; i--) {
		assert_int_equal(base_ring_count(f->ring), i);
		pop_expect(f->ring, RING_CAP - i);
	}
	assert_int_equal(base_ring_count(f->ring), 0);
}

static void
test_ring_wraps_around_over_many_cycles(void **state)
{
	struct fixture *f = *state;
	uint32_t next_push = 0;
	uint32_t next_pop = 0;

	/* Batches of 1..capacity, so the slot index wraps at every possible offset. */
	for (int cycle = 0; cycle < 1000; cycle++) {
		uint32_t batch = (uint32_t)(cycle % RING_CAP) + 1;

		for (uint32_t i = 0; i < batch; i++) {
			push_ok(f->ring, next_push++);
		}
		assert_int_equal(base_ring_count(f->ring), batch);
		for (uint32_t i = 0; i < batch; i++) {
			pop_expect(f->ring, next_pop++);
		}
	}
	assert_int_equal(next_pop, next_push);
	assert_true(base_ring_is_empty(f->ring));
}

static void
test_ring_counters_wrapping_past_size_max_keep_fifo_and_limits(void **state)
{
	struct fixture *f = *state;
	struct ring_item extra = item(0);

	/* White box: start the free-running counters just below the size_t wrap. */
	atomic_store(&f->ring->head, SIZE_MAX - 3);
	atomic_store(&f->ring->tail, SIZE_MAX - 3);
	for (uint32_t i = 0; i < RING_CAP; i++) {
		push_ok(f->ring, i);
	}
	assert_int_equal(base_ring_count(f->ring), RING_CAP);
	assert_int_equal(base_ring_push(f->ring, &extra), -ENOBUFS);
	for (uint32_t i = 0; i < RING_CAP; i++) {
		pop_expect(f->ring, i);
	}
	assert_int_equal(base_ring_pop(f->ring, &extra), -EAGAIN);
	assert_true(atomic_load(&f->ring->head) < RING_CAP); /* it did wrap */
}

/* The reference: a plain array queue of sequence numbers. */
struct ring_model {
	uint32_t seq[RING_CAP];
	size_t first;
	size_t count;
};

static void
ring_model_step(struct base_ring *r, struct ring_model *m, struct base_prng *prng,
		uint32_t *next_seq)
{
	uint64_t op = base_prng_below(prng, 3);
	struct ring_item it = item(*next_seq);
	const struct ring_item *peeked;

	if (op == 0) {
		int rc = base_ring_push(r, &it);

		assert_int_equal(rc, m->count == RING_CAP ? -ENOBUFS : 0);
		if (rc == 0) {
			m->seq[(m->first + m->count++) % RING_CAP] = (*next_seq)++;
		}
	} else if (op == 1) {
		int rc = base_ring_pop(r, &it);

		assert_int_equal(rc, m->count == 0 ? -EAGAIN : 0);
		if (rc == 0) {
			struct ring_item want = item(m->seq[m->first]);

			assert_memory_equal(&it, &want, sizeof(it));
			m->first = (m->first + 1) % RING_CAP;
			m->count--;
		}
	} else {
		peeked = base_ring_peek(r);
		assert_true((peeked == NULL) == (m->count == 0));
		if (peeked != NULL) {
			assert_int_equal(peeked->seq, m->seq[m->first]);
		}
	}
	assert_int_equal(base_ring_count(r), m->count);
}

static void
test_ring_matches_reference_model_for_random_ops(void **state)
{
	struct fixture *f = *state;
	static const uint64_t seeds[] = {1, 2, 0xdeadbeef};

	for (size_t s = 0; s < AE_ARRAY_SIZE(seeds); s++) {
		struct ring_model m = {.first = 0, .count = 0};
		struct base_prng prng;
		uint32_t next_seq = 0;

		f->ring = base_ring_init(f->memory, RING_CAP, sizeof(struct ring_item));
		base_prng_init(&prng, seeds[s]);
		print_message("# seed=%" PRIu64 "\n", seeds[s]);
		for (int step = 0; step < 20000; step++) {
			ring_model_step(f->ring, &m, &prng, &next_seq);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_size_covers_struct_and_slots),
		cmocka_unit_test_setup_teardown(test_ring_pops_in_fifo_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ring_push_on_full_returns_enobufs_and_changes_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_ring_pop_on_empty_returns_eagain_and_leaves_output_alone, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_ring_peek_shows_oldest_without_removing_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_count_follows_pushes_and_pops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_wraps_around_over_many_cycles, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_ring_counters_wrapping_past_size_max_keep_fifo_and_limits, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_ring_matches_reference_model_for_random_ops,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
