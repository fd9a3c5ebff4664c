/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bump arena over caller-owned memory. Allocation is a pointer bump; there is no per-object
 * free, only base_arena_reset (everything at once), which is how a slice instance's memory is
 * released at unload. Running out returns NULL: the caller turns that into -ENOMEM/-ENOBUFS.
 *
 * Ownership: the arena borrows its buffer for its whole life. One owner; not thread-safe.
 */
#ifndef AETHER_BASE_ARENA_H
#define AETHER_BASE_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct base_arena {
	uint8_t *base; /* borrows */
	size_t capacity;
	size_t used;
	size_t high_water; /* largest `used` ever seen; survives reset */
};

void base_arena_init(struct base_arena *a, void *memory, size_t capacity);
/*
 * size bytes aligned to align (a power of two, at most 4096; asserted); NULL when it does not
 * fit, with nothing consumed. The alignment is of the address, whatever the buffer's own.
 * size 0 is served as 1 byte, so every returned pointer is distinct and inside the buffer.
 */
void *base_arena_alloc(struct base_arena *a, size_t size, size_t align);
/* Frees everything at once: used becomes 0, high_water stays. */
void base_arena_reset(struct base_arena *a);
size_t base_arena_used(const struct base_arena *a);
size_t base_arena_available(const struct base_arena *a);

#endif /* AETHER_BASE_ARENA_H */
