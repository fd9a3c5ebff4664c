/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EAL worker lcores and SP/SC rings for code outside dataplane, which may not include rte_*.h
 * (ARCHITECTURE.md section 3). aetherd's worker lcores (node/src/aetherd_lcore.c) run on the
 * lcores dp_eal_start was given (lcore i on cpu lcore_cpus[i]; lcore 0 is the calling thread)
 * and talk to the control lcore over these rings when the EAL is up.
 *
 * Context: launch and wait on the main lcore only (rte_eal_remote_launch's rule); a ring's push
 * on its one producer thread, pop on its one consumer thread (RING_F_SP_ENQ | RING_F_SC_DEQ).
 * Rings are created at startup (EAL memory) and freed at shutdown, before dp_eal_stop.
 */
#ifndef AETHER_DATAPLANE_DP_LCORE_H
#define AETHER_DATAPLANE_DP_LCORE_H

#include <stdint.h>

#include "base/compiler.h"

/* The function an lcore runs; its return value is dp_lcore_wait's. */
typedef int dp_lcore_fn(void *arg);

/* Lcores the running EAL has (the main one included); 0 when the EAL is not running. */
uint32_t dp_lcore_count(void);

/*
 * Runs fn(arg) on worker lcore lcore_id (1 .. dp_lcore_count() - 1). Returns 0, -EINVAL (no
 * such worker lcore, or the EAL is not running) or -EBUSY (it is running something already).
 */
AE_MUST_CHECK int dp_lcore_launch(uint32_t lcore_id, dp_lcore_fn *fn, void *arg);

/* Waits until lcore_id's function returns; returns its value (0 when it never ran). */
int dp_lcore_wait(uint32_t lcore_id);

struct dp_ring;

/*
 * Creates a single-producer single-consumer ring of `count` elements (a power of two; it holds
 * count - 1) of elem_size bytes (a multiple of 4) in EAL memory, named name (unique per
 * process). Returns 0 and *out, or a negative errno (-EINVAL, -ENOMEM, -EEXIST, -ENOSPC).
 */
AE_MUST_CHECK int dp_ring_create_spsc(const char *name, uint32_t count, uint32_t elem_size,
				      struct dp_ring **out);
/* NULL allowed. */
void dp_ring_free(struct dp_ring *r);
/* Producer: copies elem in. 0, or -ENOBUFS when full. */
AE_MUST_CHECK int dp_ring_push(struct dp_ring *r, const void *elem);
/* Consumer: copies the oldest element out. 0, or -EAGAIN when empty. */
AE_MUST_CHECK int dp_ring_pop(struct dp_ring *r, void *elem);

#endif /* AETHER_DATAPLANE_DP_LCORE_H */
