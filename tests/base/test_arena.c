/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the bump arena returns aligned, non-overlapping pointers inside its buffer, fails
 * without side effects when a request does not fit (padding included), fits exactly to the last
 * byte, and frees everything on reset. Method: every power-of-two alignment from a deliberately
 * misaligned position, boundary cases around the capacity, and a seeded run of random requests
 * whose bytes are filled and re-checked for overlap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/compiler.h"
#include "base/prng.h"

#define ARENA_SIZE (4 * 4096)

struct fixture {
	struct base_arena arena;
	/* 4096-aligned, so the tests know the address alignment of every offset. */
	_Alignas(4096) uint8_t memory[ARENA_SIZE];
};

static int
setup(void **state)
{
	struct fixture *f = aligned_alloc(4096, sizeof(struct fixture));

	assert_non_null(f);
	base_arena_init(&f->arena, f->memory, ARENA_SIZE);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static size_t
offset_of(const struct fixture *f, const void *p)
{
	return (size_t)((const uint8_t *)p - f->memory);
}

static void
test_arena_starts_empty(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(base_arena_used(&f->arena), 0);
	assert_int_equal(base_arena_available(&f->arena), ARENA_SIZE);
	assert_int_equal(f->arena.high_water, 0);
}

static void
test_arena_aligns_every_power_of_two_up_to_4096(void **state)
{
	struct fixture *f = *state;

	for (size_t align = 1; align <= 4096; align *= 2) {
		uint8_t *p;

		base_arena_reset(&f->arena);
		/* One byte first, so the next start is misaligned for every align > 1. */
		assert_non_null(base_arena_alloc(&f->arena, 1, 1));
		p = base_arena_alloc(&f->arena, 3, align);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % align, 0);
		assert_int_equal(offset_of(f, p), align == 1 ? 1 : align);
		assert_int_equal(base_arena_used(&f->arena), offset_of(f, p) + 3);
	}
}

static void
test_arena_alignment_is_of_the_address_not_the_offset(void **state)
{
	struct fixture *f = *state;
	struct base_arena a;
	uint8_t *p;

	/* A buffer starting 3 bytes past a 4096 boundary: offset 0 is not 8-aligned. */
	base_arena_init(&a, f->memory + 3, ARENA_SIZE - 3);
	p = base_arena_alloc(&a, 8, 8);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 8, 0);
	assert_int_equal(base_arena_used(&a), 5 + 8);
}

static void
test_arena_out_of_space_returns_null_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	size_t used;
	size_t high;

	assert_non_null(base_arena_alloc(&f->arena, ARENA_SIZE - 10, 1));
	used = base_arena_used(&f->arena);
	high = f->arena.high_water;
	assert_null(base_arena_alloc(&f->arena, 11, 1));
	/* 10 bytes are left, but the padding to 4096 alone does not fit. */
	assert_null(base_arena_alloc(&f->arena, 1, 4096));
	/* Sizes that would overflow a naive `used + size` check. */
	assert_null(base_arena_alloc(&f->arena, SIZE_MAX, 1));
	assert_null(base_arena_alloc(&f->arena, SIZE_MAX - 4, 8));
	assert_int_equal(base_arena_used(&f->arena), used);
	assert_int_equal(f->arena.high_water, high);
	/* What does fit still works afterwards. */
	assert_non_null(base_arena_alloc(&f->arena, 10, 1));
}

static void
test_arena_exact_fit_uses_the_last_byte(void **state)
{
	struct fixture *f = *state;
	uint8_t *p = base_arena_alloc(&f->arena, ARENA_SIZE, 4096);

	assert_ptr_equal(p, f->memory);
	assert_int_equal(base_arena_available(&f->arena), 0);
	p[ARENA_SIZE - 1] = 0xaa; /* ASan would catch a pointer outside the buffer */
	assert_null(base_arena_alloc(&f->arena, 1, 1));
	assert_null(base_arena_alloc(&f->arena, 0, 1));
	assert_int_equal(base_arena_used(&f->arena), ARENA_SIZE);
}

static void
test_arena_size_zero_gives_distinct_pointers_inside_the_buffer(void **state)
{
	struct fixture *f = *state;
	uint8_t *a = base_arena_alloc(&f->arena, 0, 1);
	uint8_t *b = base_arena_alloc(&f->arena, 0, 1);

	assert_non_null(a);
	assert_non_null(b);
	assert_true(a != b);
	assert_true(offset_of(f, b) < ARENA_SIZE);
}

static void
test_arena_reset_frees_everything_and_keeps_high_water(void **state)
{
	struct fixture *f = *state;
	void *first = base_arena_alloc(&f->arena, 96, 16);

	assert_non_null(base_arena_alloc(&f->arena, 1000, 8));
	assert_int_equal(f->arena.high_water, base_arena_used(&f->arena));
	base_arena_reset(&f->arena);
	assert_int_equal(base_arena_used(&f->arena), 0);
	assert_int_equal(base_arena_available(&f->arena), ARENA_SIZE);
	assert_int_equal(f->arena.high_water, 1096);
	assert_ptr_equal(base_arena_alloc(&f->arena, 96, 16), first);
	assert_int_equal(f->arena.high_water, 1096);
}

static void
test_arena_with_no_memory_refuses_everything(void **state)
{
	struct base_arena a;

	(void)state;
	base_arena_init(&a, NULL, 0);
	assert_null(base_arena_alloc(&a, 1, 1));
	assert_null(base_arena_alloc(&a, 0, 1));
	assert_int_equal(base_arena_used(&a), 0);
}

static void
test_arena_random_allocations_never_overlap(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;
	uint8_t *ptrs[512];
	size_t sizes[512];
	size_t n = 0;

	base_prng_init(&prng, 31337);
	while (n < AE_ARRAY_SIZE(ptrs)) {
		size_t size = (size_t)base_prng_range(&prng, 1, 64);
		size_t align = (size_t)1 << base_prng_below(&prng, 7);
		uint8_t *p = base_arena_alloc(&f->arena, size, align);

		if (p == NULL) {
			break;
		}
		assert_int_equal((uintptr_t)p % align, 0);
		assert_true(offset_of(f, p) + size <= base_arena_used(&f->arena));
		memset(p, (int)(n & 0xff), size);
		ptrs[n] = p;
		sizes[n] = size;
		n++;
	}
	assert_true(n > 100);
	/* Each block still holds its own fill byte: no later block overwrote it. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < sizes[i]; j++) {
			assert_int_equal(ptrs[i][j], i & 0xff);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arena_starts_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arena_aligns_every_power_of_two_up_to_4096,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_arena_alignment_is_of_the_address_not_the_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_arena_out_of_space_returns_null_and_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arena_exact_fit_uses_the_last_byte, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_arena_size_zero_gives_distinct_pointers_inside_the_buffer, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arena_reset_frees_everything_and_keeps_high_water, setup, teardown),
		cmocka_unit_test(test_arena_with_no_memory_refuses_everything),
		cmocka_unit_test_setup_teardown(test_arena_random_allocations_never_overlap, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
