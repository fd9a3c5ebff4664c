/* SPDX-License-Identifier: Apache-2.0 */
#include "base/ring.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

/* Slots start right after the struct; this keeps them 8-byte aligned. */
_Static_assert(sizeof(struct base_ring) % 8 == 0, "ring slots must start 8-byte aligned");

size_t
base_ring_size(size_t capacity, size_t elem_size)
{
	ASSERT(base_is_pow2(capacity));
	ASSERT(elem_size > 0);
	ASSERT(capacity <= (SIZE_MAX - sizeof(struct base_ring)) / elem_size);
	return sizeof(struct base_ring) + capacity * elem_size;
}

struct base_ring *
base_ring_init(void *memory, size_t capacity, size_t elem_size)
{
	struct base_ring *r = memory;

	ASSERT(memory != NULL);
	ASSERT(base_is_pow2(capacity));
	ASSERT(elem_size > 0);
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->capacity = capacity;
	r->elem_size = elem_size;
	r->slots = (uint8_t *)(r + 1);
	return r;
}

/*
 * head and tail count pushes and pops forever (size_t wraps, capacity is a power of two), so
 * tail - head is the fill level and index & (capacity - 1) the slot.
 */
int
base_ring_push(struct base_ring *r, const void *elem)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (tail - head >= r->capacity) {
		return -ENOBUFS;
	}
	memcpy(r->slots + (tail & (r->capacity - 1)) * r->elem_size, elem, r->elem_size);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

int
base_ring_pop(struct base_ring *r, void *elem_out)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (tail == head) {
		return -EAGAIN;
	}
	ASSERT(tail - head <= r->capacity);
	memcpy(elem_out, r->slots + (head & (r->capacity - 1)) * r->elem_size, r->elem_size);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

const void *
base_ring_peek(const struct base_ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (tail == head) {
		return NULL;
	}
	return r->slots + (head & (r->capacity - 1)) * r->elem_size;
}

size_t
base_ring_count(const struct base_ring *r)
{
	/*
	 * head first: head <= tail at every instant and tail only grows, so reading head before
	 * tail never sees tail < head (a wrapped, huge count) from any thread.
	 */
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	return tail - head;
}

int
base_ring_is_empty(const struct base_ring *r)
{
	return base_ring_count(r) == 0;
}

int
base_ring_is_full(const struct base_ring *r)
{
	return base_ring_count(r) >= r->capacity;
}
