/* SPDX-License-Identifier: Apache-2.0 */
#include "base/arena.h"

#include "base/compiler.h"
#include "base/panic.h"

void
base_arena_init(struct base_arena *a, void *memory, size_t capacity)
{
	ASSERT(a != NULL);
	ASSERT(memory != NULL || capacity == 0);
	a->base = memory;
	a->capacity = capacity;
	a->used = 0;
	a->high_water = 0;
}

void *
base_arena_alloc(struct base_arena *a, size_t size, size_t align)
{
	uintptr_t start;
	uintptr_t aligned;
	size_t pad;

	ASSERT(base_is_pow2(align));
	ASSERT(align <= 4096);
	ASSERT(a->used <= a->capacity);
	/* One byte for size 0, so every pointer returned is distinct and inside the buffer. */
	if (size == 0) {
		size = 1;
	}
	start = (uintptr_t)a->base + a->used;
	aligned = (start + (align - 1)) & ~(uintptr_t)(align - 1);
	pad = (size_t)(aligned - start);
	if (pad > a->capacity - a->used || size > a->capacity - a->used - pad) {
		return NULL;
	}
	a->used += pad + size;
	ASSERT(a->used <= a->capacity);
	if (a->used > a->high_water) {
		a->high_water = a->used;
	}
	return (void *)aligned;
}

void
base_arena_reset(struct base_arena *a)
{
	ASSERT(a->used <= a->capacity);
	a->used = 0;
}

size_t
base_arena_used(const struct base_arena *a)
{
	return a->used;
}

size_t
base_arena_available(const struct base_arena *a)
{
	return a->capacity - a->used;
}
