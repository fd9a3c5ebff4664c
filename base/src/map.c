/* SPDX-License-Identifier: Apache-2.0 */
#include "base/map.h"

#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"

/* Entries start right after the struct; this keeps them (and so keys and values) 8-aligned. */
_Static_assert(sizeof(struct base_map) % 8 == 0, "map entries must start 8-byte aligned");

static size_t
map_slot_count(size_t capacity)
{
	size_t slots = 2;

	while (slots < 2 * capacity) {
		slots *= 2;
	}
	return slots;
}

/*
 * Entry layout: [key, padded to 8][value][used byte], padded to 8. The key and the value start
 * on 8-byte boundaries, so callers may cast the pointers base_map_get and base_map_next return
 * to structs of up to 8-byte alignment (a used byte in front would misalign both).
 */
static size_t
map_round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t
map_entry_size(size_t key_size, size_t value_size)
{
	return map_round8(map_round8(key_size) + value_size + 1);
}

static size_t
map_value_offset(const struct base_map *m)
{
	return map_round8(m->key_size);
}

static size_t
map_used_offset(const struct base_map *m)
{
	return map_value_offset(m) + m->value_size;
}

size_t
base_map_size(size_t capacity, size_t key_size, size_t value_size)
{
	ASSERT(capacity > 0);
	ASSERT(key_size > 0);
	/* Configuration limits keep these far from overflow; catch a wild value anyway. */
	ASSERT(capacity <= SIZE_MAX / 4);
	ASSERT(map_entry_size(key_size, value_size) <= SIZE_MAX / map_slot_count(capacity));
	return sizeof(struct base_map) +
	       map_slot_count(capacity) * map_entry_size(key_size, value_size);
}

struct base_map *
base_map_init(void *memory, size_t capacity, size_t key_size, size_t value_size, uint64_t seed)
{
	struct base_map *m = memory;

	ASSERT(memory != NULL);
	ASSERT((uintptr_t)memory % _Alignof(struct base_map) == 0);
	ASSERT(capacity > 0);
	ASSERT(key_size > 0);
	m->capacity = capacity;
	m->slot_count = map_slot_count(capacity);
	m->count = 0;
	m->key_size = key_size;
	m->value_size = value_size;
	m->entry_size = map_entry_size(key_size, value_size);
	m->seed = seed;
	m->entries = (uint8_t *)(m + 1);
	memset(m->entries, 0, m->slot_count * m->entry_size);
	return m;
}

static uint8_t *
map_entry(const struct base_map *m, size_t slot)
{
	return m->entries + slot * m->entry_size;
}

static int
map_is_used(const struct base_map *m, const uint8_t *e)
{
	return e[map_used_offset(m)] != 0;
}

static void
map_set_used(const struct base_map *m, uint8_t *e, uint8_t used)
{
	e[map_used_offset(m)] = used;
}

static size_t
map_home(const struct base_map *m, const void *key)
{
	return (size_t)base_hash64(key, m->key_size, m->seed) & (m->slot_count - 1);
}

/* The slot holding key, or the empty slot where it would go. The table is never full. */
static size_t
map_find(const struct base_map *m, const void *key, int *found)
{
	size_t slot = map_home(m, key);

	for (size_t probes = 0; probes < m->slot_count; probes++) {
		uint8_t *e = map_entry(m, slot);

		if (!map_is_used(m, e)) {
			*found = 0;
			return slot;
		}
		if (memcmp(e, key, m->key_size) == 0) {
			*found = 1;
			return slot;
		}
		slot = (slot + 1) & (m->slot_count - 1);
	}
	PANIC("map: no empty slot (count=%zu slots=%zu)", m->count, m->slot_count);
}

int
base_map_put(struct base_map *m, const void *key, const void *value)
{
	int found;
	size_t slot = map_find(m, key, &found);
	uint8_t *e = map_entry(m, slot);

	ASSERT(value != NULL || m->value_size == 0);
	if (!found) {
		if (m->count == m->capacity) {
			return -BASE_ERR_FULL;
		}
		memcpy(e, key, m->key_size);
		map_set_used(m, e, 1);
		m->count++;
	}
	if (m->value_size > 0) {
		memcpy(e + map_value_offset(m), value, m->value_size);
	}
	ASSERT(m->count <= m->capacity);
	return 0;
}

void *
base_map_get(const struct base_map *m, const void *key)
{
	int found;
	size_t slot = map_find(m, key, &found);

	return found ? map_entry(m, slot) + map_value_offset(m) : NULL;
}

/*
 * Backward-shift deletion: walk the cluster after the hole and move back every entry whose home
 * slot is not between the hole and its current slot (cyclically), so lookups never stop early.
 * It ends because at least half of the slots are empty.
 */
static void
map_close_hole(struct base_map *m, size_t hole)
{
	size_t mask = m->slot_count - 1;
	size_t slot = (hole + 1) & mask;

	for (;;) {
		uint8_t *e = map_entry(m, slot);
		size_t home;

		if (!map_is_used(m, e)) {
			break;
		}
		home = map_home(m, e);
		if (((slot - home) & mask) >= ((slot - hole) & mask)) {
			memcpy(map_entry(m, hole), e, m->entry_size);
			map_set_used(m, e, 0);
			hole = slot;
		}
		slot = (slot + 1) & mask;
	}
}

int
base_map_remove(struct base_map *m, const void *key, void *value_out)
{
	int found;
	size_t slot = map_find(m, key, &found);
	uint8_t *e = map_entry(m, slot);

	if (!found) {
		return -ENOENT;
	}
	ASSERT(m->count > 0);
	if (value_out != NULL && m->value_size > 0) {
		memcpy(value_out, e + map_value_offset(m), m->value_size);
	}
	map_set_used(m, e, 0);
	m->count--;
	map_close_hole(m, slot);
	return 0;
}

size_t
base_map_count(const struct base_map *m)
{
	return m->count;
}

void
base_map_clear(struct base_map *m)
{
	memset(m->entries, 0, m->slot_count * m->entry_size);
	m->count = 0;
}

int
base_map_next(const struct base_map *m, size_t *cursor, const void **key, void **value)
{
	ASSERT(*cursor <= m->slot_count);
	while (*cursor < m->slot_count) {
		uint8_t *e = map_entry(m, *cursor);

		(*cursor)++;
		if (map_is_used(m, e)) {
			*key = e;
			*value = e + map_value_offset(m);
			return 1;
		}
	}
	return 0;
}
