/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed-capacity FIFO ring of fixed-size elements in caller memory (the DPDK size/init split).
 * Capacity is a power of two. Push on a full ring returns -ENOBUFS (backpressure); pop on an
 * empty ring returns -EAGAIN. Nothing ever grows.
 *
 * Concurrency: single-threaded by default. It is also safe for exactly one producer thread and
 * one consumer thread (SPSC): head and tail are C11 atomics with acquire/release ordering. Across
 * lcores in the dataplane, DPDK's rte_ring is used instead; this ring serves the pure modules,
 * the simulator and the POSIX env.
 */
#ifndef AETHER_BASE_RING_H
#define AETHER_BASE_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

struct base_ring {
	_Atomic size_t head; /* next slot to pop (consumer) */
	_Atomic size_t tail; /* next slot to push (producer) */
	size_t capacity;     /* power of two */
	size_t elem_size;
	uint8_t *slots; /* capacity * elem_size bytes, right after the struct */
};

/* Bytes needed for a ring of capacity elements of elem_size bytes (struct included). */
size_t base_ring_size(size_t capacity, size_t elem_size);
/*
 * Initializes a ring in memory of base_ring_size() bytes (suitably aligned for the struct);
 * slots sit 8-byte aligned if elem_size is a multiple of 8.
 * capacity must be a power of two and elem_size > 0 (asserted: programmer error).
 */
struct base_ring *base_ring_init(void *memory, size_t capacity, size_t elem_size);

AE_MUST_CHECK int base_ring_push(struct base_ring *r, const void *elem);
AE_MUST_CHECK int base_ring_pop(struct base_ring *r, void *elem_out);
/* Pointer to the oldest element without removing it, or NULL when empty. Consumer only. */
const void *base_ring_peek(const struct base_ring *r);
size_t base_ring_count(const struct base_ring *r);
int base_ring_is_empty(const struct base_ring *r);
int base_ring_is_full(const struct base_ring *r);

#endif /* AETHER_BASE_RING_H */
