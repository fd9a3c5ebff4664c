/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed-capacity priority queue (binary min-heap) of fixed-size elements ordered by a caller
 * comparator. Used for Rabia's pending-request queue (ordered by a key every replica computes
 * identically) and the simulator's event queue (ordered by time, then sequence). Ties must be
 * broken by the comparator: the heap itself is not stable.
 *
 * Push on a full heap returns -ENOBUFS; pop on an empty heap returns -EAGAIN.
 * Memory comes from the caller (base_heap_size/base_heap_init), aligned for struct base_heap;
 * elements sit 8-byte aligned if elem_size is a multiple of 8. One owner; not thread-safe.
 * Push and pop cost O(log n) element swaps.
 */
#ifndef AETHER_BASE_HEAP_H
#define AETHER_BASE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

/* Negative when a sorts first, positive when b does, 0 when equal. */
typedef int base_heap_cmp_fn(const void *a, const void *b);

struct base_heap {
	base_heap_cmp_fn *cmp;
	size_t capacity;
	size_t count;
	size_t elem_size;
	uint8_t *elems; /* capacity + 1 elements; the extra one is swap space */
};

size_t base_heap_size(size_t capacity, size_t elem_size);
struct base_heap *base_heap_init(void *memory, size_t capacity, size_t elem_size,
				 base_heap_cmp_fn *cmp);

AE_MUST_CHECK int base_heap_push(struct base_heap *h, const void *elem);
AE_MUST_CHECK int base_heap_pop(struct base_heap *h, void *elem_out);
/* The smallest element, or NULL when empty. Valid until the next push or pop. */
const void *base_heap_peek(const struct base_heap *h);
/* Element i (0 <= i < count) in heap order, for scans; not sorted. */
const void *base_heap_at(const struct base_heap *h, size_t index);
/*
 * Removes element index (as seen by base_heap_at) and restores the heap. Scans that remove while
 * iterating must restart or walk backwards.
 */
void base_heap_remove_at(struct base_heap *h, size_t index);
size_t base_heap_count(const struct base_heap *h);
void base_heap_clear(struct base_heap *h);

#endif /* AETHER_BASE_HEAP_H */
