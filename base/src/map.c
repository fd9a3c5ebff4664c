/* SPDX-License-Identifier: Apache-2.0 */
#include "base/map.h"

#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"

static size_t
map_slot_count(size_t capacity)
{
	size_t slots = 2;

	while (slots < 2 * capacity) {
		slots *= 2;
	}
	return slots;
}

static size_t
map_entry_size(size_t key_size, size_t value_size)
{
	return (1 + key_size + value_size + 7) & ~(size_t)7;
}

size_t
base_map_size(size_t capacity, size_t key_size, size_t value_size)
{
	ASSERT(capacity > 0);
	ASSERT(key_size > 0);
	return sizeof(struct base_map) +
	       map_slot_count(capacity) * map_entry_size(key_size, value_size);
}

struct base_map *
base_map_init(void *memory, size_t capacity, size_t key_size, size_t value_size, uint64_t seed)
{
	struct base_map *m = memory;

	ASSERT(memory != NULL);
	ASSERT(capacity > 0 && key_size > 0);
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

/* Entry layout: [used byte][key][value], padded to entry_size. */
static uint8_t *
map_entry(const struct base_map *m, size_t slot)
{
	return m->entries + slot * m->entry_size;
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

		if (e[0] == 0) {
			*found = 0;
			return slot;
		}
		if (memcmp(e + 1, key, m->key_size) == 0) {
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

	if (!found) {
		if (m->count == m->capacity) {
			return -BASE_ERR_FULL;
		}
		e[0] = 1;
		memcpy(e + 1, key, m->key_size);
		m->count++;
	}
	if (m->value_size > 0) {
		memcpy(e + 1 + m->key_size, value, m->value_size);
	}
	ASSERT(m->count <= m->capacity);
	return 0;
}

void *
base_map_get(const struct base_map *m, const void *key)
{
	int found;
	size_t slot = map_find(m, key, &found);

	return found ? map_entry(m, slot) + 1 + m->key_size : NULL;
}

/*
 * Backward-shift deletion: walk the cluster after the hole and move back every entry whose home
 * slot is not between the hole and its current slot (cyclically), so lookups never stop early.
 */
static void
map_close_hole(struct base_map *m, size_t hole)
{
	size_t mask = m->slot_count - 1;
	size_t slot = (hole + 1) & mask;

	for (;;) {
		uint8_t *e = map_entry(m, slot);
		size_t home;

		if (e[0] == 0) {
			break;
		}
		home = map_home(m, e + 1);
		if (((slot - home) & mask) >= ((slot - hole) & mask)) {
			memcpy(map_entry(m, hole), e, m->entry_size);
			e[0] = 0;
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
	if (value_out != NULL && m->value_size > 0) {
		memcpy(value_out, e + 1 + m->key_size, m->value_size);
	}
	e[0] = 0;
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
	while (*cursor < m->slot_count) {
		uint8_t *e = map_entry(m, *cursor);

		(*cursor)++;
		if (e[0] != 0) {
			*key = e + 1;
			*value = e + 1 + m->key_size;
			return 1;
		}
	}
	return 0;
}
