/* SPDX-License-Identifier: Apache-2.0 */
#include "base/heap.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

/* Elements start right after the struct; this keeps them 8-byte aligned. */
_Static_assert(sizeof(struct base_heap) % 8 == 0, "heap elements must start 8-byte aligned");

size_t
base_heap_size(size_t capacity, size_t elem_size)
{
	ASSERT(capacity > 0);
	ASSERT(elem_size > 0);
	ASSERT(capacity < (SIZE_MAX - sizeof(struct base_heap)) / elem_size);
	return sizeof(struct base_heap) + (capacity + 1) * elem_size;
}

struct base_heap *
base_heap_init(void *memory, size_t capacity, size_t elem_size, base_heap_cmp_fn *cmp)
{
	struct base_heap *h = memory;

	ASSERT(memory != NULL);
	ASSERT(cmp != NULL);
	ASSERT(capacity > 0 && elem_size > 0);
	h->cmp = cmp;
	h->capacity = capacity;
	h->count = 0;
	h->elem_size = elem_size;
	h->elems = (uint8_t *)(h + 1);
	return h;
}

static uint8_t *
heap_elem(const struct base_heap *h, size_t i)
{
	return h->elems + i * h->elem_size;
}

static void
heap_swap(struct base_heap *h, size_t a, size_t b)
{
	uint8_t *tmp = heap_elem(h, h->capacity); /* the spare slot */

	memcpy(tmp, heap_elem(h, a), h->elem_size);
	memcpy(heap_elem(h, a), heap_elem(h, b), h->elem_size);
	memcpy(heap_elem(h, b), tmp, h->elem_size);
}

static void
heap_sift_up(struct base_heap *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->cmp(heap_elem(h, i), heap_elem(h, parent)) >= 0) {
			break;
		}
		heap_swap(h, i, parent);
		i = parent;
	}
}

static void
heap_sift_down(struct base_heap *h, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1;
		size_t right = left + 1;
		size_t smallest = i;

		if (left < h->count && h->cmp(heap_elem(h, left), heap_elem(h, smallest)) < 0) {
			smallest = left;
		}
		if (right < h->count && h->cmp(heap_elem(h, right), heap_elem(h, smallest)) < 0) {
			smallest = right;
		}
		if (smallest == i) {
			return;
		}
		heap_swap(h, i, smallest);
		i = smallest;
	}
}

int
base_heap_push(struct base_heap *h, const void *elem)
{
	if (h->count == h->capacity) {
		return -ENOBUFS;
	}
	memcpy(heap_elem(h, h->count), elem, h->elem_size);
	h->count++;
	heap_sift_up(h, h->count - 1);
	return 0;
}

int
base_heap_pop(struct base_heap *h, void *elem_out)
{
	if (h->count == 0) {
		return -EAGAIN;
	}
	memcpy(elem_out, heap_elem(h, 0), h->elem_size);
	base_heap_remove_at(h, 0);
	return 0;
}

const void *
base_heap_peek(const struct base_heap *h)
{
	return h->count == 0 ? NULL : heap_elem(h, 0);
}

const void *
base_heap_at(const struct base_heap *h, size_t index)
{
	ASSERT(index < h->count);
	return heap_elem(h, index);
}

void
base_heap_remove_at(struct base_heap *h, size_t index)
{
	ASSERT(index < h->count);
	h->count--;
	if (index == h->count) {
		return;
	}
	memcpy(heap_elem(h, index), heap_elem(h, h->count), h->elem_size);
	/* The moved element may belong above or below its new position. */
	heap_sift_up(h, index);
	heap_sift_down(h, index);
}

size_t
base_heap_count(const struct base_heap *h)
{
	return h->count;
}

void
base_heap_clear(struct base_heap *h)
{
	h->count = 0;
}
