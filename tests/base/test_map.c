/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the map behaves like a bounded dictionary (put, replace, get, remove, clear, iterate),
 * refuses a new key when full without changing, and keeps every key reachable after deletions.
 * Method: direct cases, then long seeded random put/remove/get sequences on a tiny table (8
 * entries, 16 slots, keys from a small universe) checked against an array model after every
 * step. That table forms clusters that wrap past the last slot, which is what backward-shift
 * deletion must handle; the test counts wrapped entries to prove the case was reached, and
 * checks the probe invariant (no empty slot between an entry's home slot and its slot).
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
#include "base/hash.h"
#include "base/map.h"
#include "base/prng.h"

#define MAP_CAP      8
#define MAP_SEED     0x1234
#define KEY_UNIVERSE 24

struct fixture {
	struct base_map *map; /* uint64_t -> uint64_t */
	void *memory;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->memory = malloc(base_map_size(MAP_CAP, sizeof(uint64_t), sizeof(uint64_t)));
	assert_non_null(f->memory);
	f->map = base_map_init(f->memory, MAP_CAP, sizeof(uint64_t), sizeof(uint64_t), MAP_SEED);
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
put_ok(struct base_map *m, uint64_t key, uint64_t value)
{
	assert_int_equal(base_map_put(m, &key, &value), 0);
}

static void
assert_value(const struct base_map *m, uint64_t key, uint64_t want)
{
	const uint64_t *v = base_map_get(m, &key);

	assert_non_null(v);
	assert_int_equal(*v, want);
}

static void
assert_absent(const struct base_map *m, uint64_t key)
{
	assert_null(base_map_get(m, &key));
}

static void
test_map_slot_count_is_a_power_of_two_at_least_twice_capacity(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->map->slot_count, 16);
	assert_int_equal(f->map->capacity, MAP_CAP);
	assert_true(base_map_size(5, 4, 4) >= sizeof(struct base_map) + 16 * (4 + 4 + 1));
	assert_true(base_map_size(1, 1, 0) >= sizeof(struct base_map) + 2 * 2);
}

static void
test_map_put_get_replace_and_remove(void **state)
{
	struct fixture *f = *state;
	uint64_t key = 2;
	uint64_t out = 0;

	assert_absent(f->map, 1);
	put_ok(f->map, 1, 100);
	put_ok(f->map, 2, 200);
	assert_value(f->map, 1, 100);
	assert_value(f->map, 2, 200);
	assert_int_equal(base_map_count(f->map), 2);
	put_ok(f->map, 1, 101); /* replace: count unchanged */
	assert_value(f->map, 1, 101);
	assert_int_equal(base_map_count(f->map), 2);
	assert_int_equal(base_map_remove(f->map, &key, &out), 0);
	assert_int_equal(out, 200);
	assert_absent(f->map, 2);
	assert_int_equal(base_map_remove(f->map, &key, &out), -ENOENT);
	key = 1;
	assert_int_equal(base_map_remove(f->map, &key, NULL), 0);
	assert_int_equal(base_map_count(f->map), 0);
}

static void
test_map_get_returns_a_value_writable_in_place(void **state)
{
	struct fixture *f = *state;
	uint64_t key = 5;
	uint64_t *v;

	put_ok(f->map, key, 1);
	v = base_map_get(f->map, &key);
	assert_non_null(v);
	*v = 55;
	assert_value(f->map, key, 55);
}

static void
test_regress_map_value_pointer_was_misaligned_by_the_used_byte(void **state)
{
	/* Odd key size: with a used byte in front, the value used to start at offset 4. */
	uint8_t key[3] = {1, 2, 3};
	uint64_t value = 0x0102030405060708ULL;
	void *memory = malloc(base_map_size(4, sizeof(key), sizeof(value)));
	struct base_map *m;
	const void *k;
	void *v;
	size_t cursor = 0;

	(void)state;
	assert_non_null(memory);
	m = base_map_init(memory, 4, sizeof(key), sizeof(value), 9);
	assert_int_equal(base_map_put(m, key, &value), 0);
	v = base_map_get(m, key);
	assert_non_null(v);
	assert_int_equal((uintptr_t)v % 8, 0);
	assert_true(*(uint64_t *)v == value); /* UBSan checks the aligned load */
	assert_int_equal(base_map_next(m, &cursor, &k, &v), 1);
	assert_int_equal((uintptr_t)k % 8, 0);
	assert_int_equal((uintptr_t)v % 8, 0);
	assert_memory_equal(k, key, sizeof(key));
	free(memory);
}

static void
test_map_with_zero_value_size_works_as_a_set(void **state)
{
	uint32_t key = 17;
	void *memory = malloc(base_map_size(4, sizeof(key), 0));
	struct base_map *m;

	(void)state;
	assert_non_null(memory);
	m = base_map_init(memory, 4, sizeof(key), 0, 1);
	assert_int_equal(base_map_put(m, &key, NULL), 0);
	assert_non_null(base_map_get(m, &key));
	assert_int_equal(base_map_remove(m, &key, NULL), 0);
	assert_null(base_map_get(m, &key));
	free(memory);
}

static void
test_map_put_of_new_key_when_full_returns_full_and_changes_nothing(void **state)
{
	/* A snapshot of the whole entry table proves the refused put changed nothing. */
	struct fixture *f = *state;
	size_t table_size = f->map->slot_count * f->map->entry_size;
	uint8_t *before = malloc(table_size);
	uint64_t key = 1000;
	uint64_t value = 1;

	assert_non_null(before);
	for (uint64_t k = 0; k < MAP_CAP; k++) {
		put_ok(f->map, k, k * 10);
	}
	memcpy(before, f->map->entries, table_size);
	assert_int_equal(base_map_put(f->map, &key, &value), -BASE_ERR_FULL);
	assert_int_equal(base_map_count(f->map), MAP_CAP);
	assert_memory_equal(f->map->entries, before, table_size);
	assert_absent(f->map, 1000);
	/* Replacing an existing key still works on a full map. */
	put_ok(f->map, 3, 333);
	assert_value(f->map, 3, 333);
	for (uint64_t k = 0; k < MAP_CAP; k++) {
		assert_value(f->map, k, k == 3 ? 333 : k * 10);
	}
	free(before);
}

static void
test_map_iteration_visits_each_entry_once(void **state)
{
	struct fixture *f = *state;
	int seen[KEY_UNIVERSE] = {0};
	size_t cursor = 0;
	size_t visited = 0;
	const void *k;
	void *v;

	for (uint64_t key = 3; key < 3 + MAP_CAP; key++) {
		put_ok(f->map, key, key + 1000);
	}
	while (base_map_next(f->map, &cursor, &k, &v)) {
		uint64_t key = *(const uint64_t *)k;

		assert_true(key >= 3 && key < 3 + MAP_CAP);
		assert_int_equal(*(uint64_t *)v, key + 1000);
		seen[key]++;
		visited++;
	}
	assert_int_equal(visited, MAP_CAP);
	for (uint64_t key = 3; key < 3 + MAP_CAP; key++) {
		assert_int_equal(seen[key], 1);
	}
	/* The end is sticky: another call still says 0. */
	assert_int_equal(base_map_next(f->map, &cursor, &k, &v), 0);
}

static void
test_map_iteration_order_is_the_same_for_the_same_seed_and_history(void **state)
{
	struct fixture *f = *state;
	void *memory = malloc(base_map_size(MAP_CAP, sizeof(uint64_t), sizeof(uint64_t)));
	struct base_map *twin;
	size_t c1 = 0;
	size_t c2 = 0;
	const void *k1;
	const void *k2;
	void *v;

	assert_non_null(memory);
	twin = base_map_init(memory, MAP_CAP, sizeof(uint64_t), sizeof(uint64_t), MAP_SEED);
	/*
	 * The same operations on a map at another address: the order depends on the seed and the
	 * history (linear probing places colliding keys by insertion order), never on addresses.
	 */
	for (uint64_t key = 0; key < 2 * MAP_CAP - 2; key++) {
		put_ok(f->map, key * 7, key);
		put_ok(twin, key * 7, key);
		if (key % 2 == 1) {
			uint64_t gone = (key - 1) * 7;

			assert_int_equal(base_map_remove(f->map, &gone, NULL), 0);
			assert_int_equal(base_map_remove(twin, &gone, NULL), 0);
		}
	}
	while (base_map_next(f->map, &c1, &k1, &v)) {
		assert_int_equal(base_map_next(twin, &c2, &k2, &v), 1);
		assert_memory_equal(k1, k2, sizeof(uint64_t));
	}
	assert_int_equal(base_map_next(twin, &c2, &k2, &v), 0);
	free(memory);
}

static void
test_map_clear_removes_everything(void **state)
{
	struct fixture *f = *state;
	size_t cursor = 0;
	const void *k;
	void *v;

	for (uint64_t key = 0; key < MAP_CAP; key++) {
		put_ok(f->map, key, key);
	}
	base_map_clear(f->map);
	assert_int_equal(base_map_count(f->map), 0);
	for (uint64_t key = 0; key < MAP_CAP; key++) {
		assert_absent(f->map, key);
	}
	assert_int_equal(base_map_next(f->map, &cursor, &k, &v), 0);
	for (uint64_t key = 100; key < 100 + MAP_CAP; key++) {
		put_ok(f->map, key, key);
	}
	assert_int_equal(base_map_count(f->map), MAP_CAP);
}

struct map_model {
	int present[KEY_UNIVERSE];
	uint64_t value[KEY_UNIVERSE];
	size_t count;
	unsigned wrapped_seen; /* entries seen sitting before their home slot (wrapped) */
};

static size_t
map_home_of(const struct base_map *m, const void *key)
{
	return (size_t)base_hash64(key, m->key_size, m->seed) & (m->slot_count - 1);
}

/*
 * White box: every entry's probe path from its home slot to its slot has no empty slot (else
 * a lookup would stop early), and the map holds exactly the model's entries.
 */
static void
assert_map_matches_model(const struct base_map *m, struct map_model *model)
{
	size_t cursor = 0;
	size_t visited = 0;
	const void *k;
	void *v;

	while (base_map_next(m, &cursor, &k, &v)) {
		uint64_t key = *(const uint64_t *)k;
		size_t slot = cursor - 1;
		size_t home = map_home_of(m, k);

		assert_true(key < KEY_UNIVERSE);
		assert_true(model->present[key]);
		assert_int_equal(*(uint64_t *)v, model->value[key]);
		for (size_t s = home; s != slot; s = (s + 1) & (m->slot_count - 1)) {
			size_t probe_cursor = s;
			const void *pk;
			void *pv;

			/* Slot s must be occupied: base_map_next from s returns slot s itself. */
			assert_int_equal(base_map_next(m, &probe_cursor, &pk, &pv), 1);
			assert_int_equal(probe_cursor, s + 1);
		}
		model->wrapped_seen += slot < home;
		visited++;
	}
	assert_int_equal(visited, model->count);
	assert_int_equal(base_map_count(m), model->count);
}

static void
map_model_step(struct base_map *m, struct map_model *model, struct base_prng *prng)
{
	uint64_t key = base_prng_below(prng, KEY_UNIVERSE);
	uint64_t value = base_prng_next(prng);
	uint64_t op = base_prng_below(prng, 10);
	uint64_t out = 0;

	if (op < 5) {
		int want = !model->present[key] && model->count == MAP_CAP ? -BASE_ERR_FULL : 0;

		assert_int_equal(base_map_put(m, &key, &value), want);
		if (want == 0) {
			model->count += !model->present[key];
			model->present[key] = 1;
			model->value[key] = value;
		}
	} else if (op < 9) {
		int rc = base_map_remove(m, &key, &out);

		assert_int_equal(rc, model->present[key] ? 0 : -ENOENT);
		if (rc == 0) {
			assert_int_equal(out, model->value[key]);
			model->present[key] = 0;
			model->count--;
		}
	} else {
		const uint64_t *got = base_map_get(m, &key);

		assert_true((got != NULL) == (model->present[key] != 0));
		if (got != NULL) {
			assert_int_equal(*got, model->value[key]);
		}
	}
}

static void
test_map_random_put_remove_get_matches_reference_model(void **state)
{
	struct fixture *f = *state;
	unsigned wrapped_total = 0;

	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct map_model model;
		struct base_prng prng;

		memset(&model, 0, sizeof(model));
		base_prng_init(&prng, seed);
		/* A different table seed per run moves clusters around the table. */
		f->map = base_map_init(f->memory, MAP_CAP, sizeof(uint64_t), sizeof(uint64_t),
				       seed * 0x9e37);
		print_message("# seed=%" PRIu64 "\n", seed);
		for (int step = 0; step < 5000; step++) {
			map_model_step(f->map, &model, &prng);
			assert_map_matches_model(f->map, &model);
		}
		for (uint64_t key = 0; key < KEY_UNIVERSE; key++) {
			assert_true((base_map_get(f->map, &key) != NULL) ==
				    (model.present[key] != 0));
		}
		wrapped_total += model.wrapped_seen;
	}
	/* Proof that clusters did wrap past the end of the table during the run. */
	assert_true(wrapped_total > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_map_slot_count_is_a_power_of_two_at_least_twice_capacity, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_map_put_get_replace_and_remove, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_get_returns_a_value_writable_in_place,
						setup, teardown),
		cmocka_unit_test(test_regress_map_value_pointer_was_misaligned_by_the_used_byte),
		cmocka_unit_test(test_map_with_zero_value_size_works_as_a_set),
		cmocka_unit_test_setup_teardown(
			test_map_put_of_new_key_when_full_returns_full_and_changes_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_map_iteration_visits_each_entry_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_map_iteration_order_is_the_same_for_the_same_seed_and_history, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_map_clear_removes_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_map_random_put_remove_get_matches_reference_model, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
