/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private helpers shared by the simulator's units.
 *
 * Carving: each unit lays out its arrays in one caller-provided block. The same layout function
 * runs twice, first with base == NULL to add up the size (x_size), then with the real block to
 * hand out pointers (x_init), so size and layout cannot drift apart. Pieces are aligned to 64
 * bytes in absolute terms (the KV store needs it), so every x_size adds SIM_CARVE_ALIGN bytes
 * of slack (sim_carve_size) for a block that is not itself 64-byte aligned.
 */
#ifndef AETHER_SIM_SIM_INT_H
#define AETHER_SIM_SIM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/panic.h"

#define SIM_CARVE_ALIGN 64u

struct sim_carve {
	uint8_t *base; /* NULL while measuring */
	size_t offset;
};

/* Reserves size bytes (64-byte aligned) and returns them, or NULL while measuring. */
static inline void *
sim_carve(struct sim_carve *c, size_t size)
{
	uintptr_t base = (uintptr_t)c->base;
	size_t at = (size_t)(((base + c->offset + SIM_CARVE_ALIGN - 1) &
			      ~(uintptr_t)(SIM_CARVE_ALIGN - 1)) -
			     base);

	ASSERT(size <= SIZE_MAX - at);
	c->offset = at + size;
	return c->base == NULL ? NULL : c->base + at;
}

/* Reserves count elements of elem_size bytes; asserts the product does not overflow. */
static inline void *
sim_carve_array(struct sim_carve *c, size_t count, size_t elem_size)
{
	ASSERT(elem_size == 0 || count <= SIZE_MAX / elem_size);
	return sim_carve(c, count * elem_size);
}

/* The size to report for a measured layout: its length plus alignment slack. */
static inline size_t
sim_carve_size(const struct sim_carve *c)
{
	ASSERT(c->base == NULL);
	return c->offset + SIM_CARVE_ALIGN;
}

#endif /* AETHER_SIM_SIM_INT_H */
