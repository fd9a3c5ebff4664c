/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the heap always yields its smallest element by the caller's comparator, keeps the heap
 * property through remove_at at any position, and answers full/empty without changing. Method:
 * seeded random pushes popped and compared with qsort of the same values; random removals with a
 * full heap-property check after each; a hand-built case where the moved last element must rise;
 * (time, seq) events showing that ties are the comparator's to break.
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
#include "base/heap.h"
#include "base/prng.h"

#define HEAP_CAP 64

/* Simulator-style event: ordered by time, ties broken by sequence number. */
struct heap_event {
	uint64_t time_ns;
	uint64_t seq;
};

struct fixture {
	struct base_heap *heap; /* of uint32_t */
	void *memory;
};

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x;
	uint32_t y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

static int
cmp_event(const void *a, const void *b)
{
	const struct heap_event *x = a;
	const struct heap_event *y = b;

	if (x->time_ns != y->time_ns) {
		return x->time_ns < y->time_ns ? -1 : 1;
	}
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->memory = malloc(base_heap_size(HEAP_CAP, sizeof(uint32_t)));
	assert_non_null(f->memory);
	f->heap = base_heap_init(f->memory, HEAP_CAP, sizeof(uint32_t), cmp_u32);
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
push_u32(struct base_heap *h, uint32_t v)
{
	assert_int_equal(base_heap_push(h, &v), 0);
}

static uint32_t
pop_u32(struct base_heap *h)
{
	uint32_t v;

	assert_int_equal(base_heap_pop(h, &v), 0);
	return v;
}

/* Every parent sorts no later than its children. */
static void
assert_heap_ordered(const struct base_heap *h)
{
	for (size_t i = 1; i < base_heap_count(h); i++) {
		assert_true(h->cmp(base_heap_at(h, (i - 1) / 2), base_heap_at(h, i)) <= 0);
	}
}

static void
test_heap_pops_come_out_sorted_for_random_pushes(void **state)
{
	struct fixture *f = *state;
	uint32_t want[HEAP_CAP];

	for (uint64_t seed = 1; seed <= 50; seed++) {
		struct base_prng prng;
		size_t n;

		base_prng_init(&prng, seed);
		n = (size_t)base_prng_range(&prng, 1, HEAP_CAP);
		base_heap_clear(f->heap);
		for (size_t i = 0; i < n; i++) {
			/* A small range, so duplicates are common. */
			want[i] = (uint32_t)base_prng_below(&prng, 20);
			push_u32(f->heap, want[i]);
			assert_heap_ordered(f->heap);
		}
		qsort(want, n, sizeof(want[0]), cmp_u32);
		for (size_t i = 0; i < n; i++) {
			if (pop_u32(f->heap) != want[i]) {
				fail_msg("seed=%" PRIu64 " index=%zu", seed, i);
			}
		}
		assert_int_equal(base_heap_count(f->heap), 0);
	}
}

static void
test_heap_push_on_full_returns_enobufs_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	uint32_t small = 0;

	for (uint32_t i = 0; i < HEAP_CAP; i++) {
		push_u32(f->heap, HEAP_CAP - i);
	}
	assert_int_equal(base_heap_count(f->heap), HEAP_CAP);
	/* Even an element that would become the new minimum is refused. */
	assert_int_equal(base_heap_push(f->heap, &small), -ENOBUFS);
	assert_int_equal(base_heap_count(f->heap), HEAP_CAP);
	assert_int_equal(*(const uint32_t *)base_heap_peek(f->heap), 1);
	assert_heap_ordered(f->heap);
	for (uint32_t i = 1; i <= HEAP_CAP; i++) {
		assert_int_equal(pop_u32(f->heap), i);
	}
}

static void
test_heap_pop_on_empty_returns_eagain(void **state)
{
	struct fixture *f = *state;
	uint32_t out = 77;

	assert_null(base_heap_peek(f->heap));
	assert_int_equal(base_heap_pop(f->heap, &out), -EAGAIN);
	assert_int_equal(out, 77);
	push_u32(f->heap, 5);
	assert_int_equal(pop_u32(f->heap), 5);
	assert_int_equal(base_heap_pop(f->heap, &out), -EAGAIN);
	assert_null(base_heap_peek(f->heap));
}

static void
test_heap_peek_is_the_minimum_and_does_not_remove(void **state)
{
	struct fixture *f = *state;

	push_u32(f->heap, 9);
	push_u32(f->heap, 3);
	push_u32(f->heap, 6);
	assert_int_equal(*(const uint32_t *)base_heap_peek(f->heap), 3);
	assert_int_equal(base_heap_count(f->heap), 3);
	assert_int_equal(pop_u32(f->heap), 3);
	assert_int_equal(*(const uint32_t *)base_heap_peek(f->heap), 6);
}

static void
test_heap_remove_at_moves_a_small_last_element_up(void **state)
{
	struct fixture *f = *state;
	/* Pushed in this order each value is >= its parent, so the array is exactly this. */
	static const uint32_t values[] = {0, 100, 1, 101, 102, 2, 3};

	for (size_t i = 0; i < AE_ARRAY_SIZE(values); i++) {
		push_u32(f->heap, values[i]);
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(values); i++) {
		assert_int_equal(*(const uint32_t *)base_heap_at(f->heap, i), values[i]);
	}
	/* 101 leaves index 3; the last element (3) lands under 100 and must sift up. */
	base_heap_remove_at(f->heap, 3);
	assert_heap_ordered(f->heap);
	assert_int_equal(*(const uint32_t *)base_heap_at(f->heap, 1), 3);
	/* Removing the last index needs no move at all. */
	base_heap_remove_at(f->heap, base_heap_count(f->heap) - 1);
	assert_heap_ordered(f->heap);
	assert_int_equal(pop_u32(f->heap), 0);
	assert_int_equal(pop_u32(f->heap), 1);
	assert_int_equal(pop_u32(f->heap), 3);
}

/* Removes one occurrence of v from the model (an unsorted multiset). */
static void
model_remove(uint32_t *model, size_t *count, uint32_t v)
{
	for (size_t i = 0; i < *count; i++) {
		if (model[i] == v) {
			model[i] = model[--*count];
			return;
		}
	}
	fail_msg("value %" PRIu32 " not in the model", v);
}

static void
test_heap_remove_at_random_positions_keeps_heap_order(void **state)
{
	struct fixture *f = *state;
	uint32_t model[HEAP_CAP];

	for (uint64_t seed = 100; seed < 140; seed++) {
		struct base_prng prng;
		size_t count = 0;

		base_prng_init(&prng, seed);
		base_heap_clear(f->heap);
		while (count < HEAP_CAP) {
			model[count] = (uint32_t)base_prng_below(&prng, 1000);
			push_u32(f->heap, model[count++]);
		}
		/* Remove down to a handful, checking the whole heap each time. */
		while (count > 4) {
			size_t at = (size_t)base_prng_below(&prng, count);
			uint32_t v = *(const uint32_t *)base_heap_at(f->heap, at);

			base_heap_remove_at(f->heap, at);
			model_remove(model, &count, v);
			assert_int_equal(base_heap_count(f->heap), count);
			assert_heap_ordered(f->heap);
		}
		qsort(model, count, sizeof(model[0]), cmp_u32);
		for (size_t i = 0; i < count; i++) {
			assert_int_equal(pop_u32(f->heap), model[i]);
		}
	}
}

static void
test_heap_ties_are_broken_by_the_comparator(void **state)
{
	struct base_prng prng;
	struct heap_event ev[HEAP_CAP];
	struct heap_event out;
	void *memory = malloc(base_heap_size(HEAP_CAP, sizeof(struct heap_event)));
	struct base_heap *h;

	(void)state;
	assert_non_null(memory);
	h = base_heap_init(memory, HEAP_CAP, sizeof(struct heap_event), cmp_event);
	/* Four distinct times, sixteen events each; push them in a shuffled order. */
	for (uint64_t i = 0; i < HEAP_CAP; i++) {
		ev[i].time_ns = (i % 4) * 1000;
		ev[i].seq = i;
	}
	base_prng_init(&prng, 7);
	for (size_t i = HEAP_CAP - 1; i > 0; i--) {
		size_t j = (size_t)base_prng_below(&prng, i + 1);
		struct heap_event t = ev[i];

		ev[i] = ev[j];
		ev[j] = t;
	}
	for (size_t i = 0; i < HEAP_CAP; i++) {
		assert_int_equal(base_heap_push(h, &ev[i]), 0);
	}
	/* Expected: all time 0 in seq order (0, 4, 8, ...), then time 1000 (1, 5, ...), ... */
	for (uint64_t t = 0; t < 4; t++) {
		for (uint64_t k = 0; k < HEAP_CAP / 4; k++) {
			assert_int_equal(base_heap_pop(h, &out), 0);
			assert_int_equal(out.time_ns, t * 1000);
			assert_int_equal(out.seq, k * 4 + t);
		}
	}
	free(memory);
}

static void
test_heap_interleaved_push_and_pop_always_yield_the_minimum(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;
	uint32_t model[HEAP_CAP];
	size_t count = 0;

	base_prng_init(&prng, 0x5eed);
	for (int step = 0; step < 20000; step++) {
		uint32_t v = (uint32_t)base_prng_below(&prng, 500);

		if (base_prng_chance(&prng, 550000)) {
			assert_int_equal(base_heap_push(f->heap, &v),
					 count == HEAP_CAP ? -ENOBUFS : 0);
			if (count < HEAP_CAP) {
				model[count++] = v;
			}
		} else if (count == 0) {
			assert_int_equal(base_heap_pop(f->heap, &v), -EAGAIN);
		} else {
			uint32_t min = model[0];

			for (size_t i = 1; i < count; i++) {
				min = model[i] < min ? model[i] : min;
			}
			assert_int_equal(pop_u32(f->heap), min);
			model_remove(model, &count, min);
		}
		assert_int_equal(base_heap_count(f->heap), count);
	}
}

static void
test_heap_clear_empties_and_allows_reuse(void **state)
{
	struct fixture *f = *state;

	for (uint32_t i = 0; i < HEAP_CAP; i++) {
		push_u32(f->heap, i);
	}
	base_heap_clear(f->heap);
	assert_int_equal(base_heap_count(f->heap), 0);
	assert_null(base_heap_peek(f->heap));
	push_u32(f->heap, 42);
	assert_int_equal(pop_u32(f->heap), 42);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heap_pops_come_out_sorted_for_random_pushes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_heap_push_on_full_returns_enobufs_and_changes_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_heap_pop_on_empty_returns_eagain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_heap_peek_is_the_minimum_and_does_not_remove,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_heap_remove_at_moves_a_small_last_element_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_heap_remove_at_random_positions_keeps_heap_order, setup, teardown),
		cmocka_unit_test(test_heap_ties_are_broken_by_the_comparator),
		cmocka_unit_test_setup_teardown(
			test_heap_interleaved_push_and_pop_always_yield_the_minimum, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_heap_clear_empties_and_allows_reuse, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
