/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed-capacity hash map with fixed-size keys and values stored inline (open addressing,
 * linear probing, backward-shift deletion so there are no tombstones). Keys are compared
 * bytewise, so zero any padding in key structs. Hashing is XXH3 with a per-map seed.
 *
 * Capacity (the number of entries it accepts) is fixed at init; the table has twice as many
 * slots, rounded up to a power of two, so probes stay short. Inserting into a full map returns
 * -BASE_ERR_FULL; nothing is resized.
 *
 * Memory comes from the caller (base_map_size/base_map_init), aligned for struct base_map.
 * Key and value pointers handed out are 8-byte aligned. One owner; not thread-safe.
 * Iteration order depends on the seed, never on pointer values: deterministic for a given seed.
 */
#ifndef AETHER_BASE_MAP_H
#define AETHER_BASE_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

struct base_map {
	size_t capacity;   /* entries accepted */
	size_t slot_count; /* power of two, >= 2 * capacity */
	size_t count;
	size_t key_size;
	size_t value_size;
	size_t entry_size; /* key (padded to 8) + value + 1 used byte, rounded to 8 */
	uint64_t seed;
	uint8_t *entries;
};

size_t base_map_size(size_t capacity, size_t key_size, size_t value_size);
struct base_map *base_map_init(void *memory, size_t capacity, size_t key_size, size_t value_size,
			       uint64_t seed);

/*
 * Inserts or replaces. Returns 0 and copies the value; -BASE_ERR_FULL when the key is new and
 * the map holds capacity entries.
 */
AE_MUST_CHECK int base_map_put(struct base_map *m, const void *key, const void *value);
/* Pointer to the stored value (writable in place) or NULL. Valid until the next put/remove. */
void *base_map_get(const struct base_map *m, const void *key);
/* 0 when removed (value copied to value_out if not NULL), -ENOENT when absent. */
AE_MUST_CHECK int base_map_remove(struct base_map *m, const void *key, void *value_out);
size_t base_map_count(const struct base_map *m);
void base_map_clear(struct base_map *m);

/*
 * Iteration: start with *cursor = 0; each call returns 1 and sets key/value pointers to the next
 * entry, or 0 at the end. Do not put or remove while iterating.
 */
int base_map_next(const struct base_map *m, size_t *cursor, const void **key, void **value);

#endif /* AETHER_BASE_MAP_H */
