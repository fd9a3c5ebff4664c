/* SPDX-License-Identifier: Apache-2.0 */
/* EAL lcore launch and SP/SC rte_rings behind dp_lcore.h. */
#include "dataplane/dp_lcore.h"

#include <errno.h>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/dp_eal.h"

/* rte_ring does not keep its element size; every call needs it. */
struct dp_ring {
	struct rte_ring *r;
	uint32_t elem_size;
};

uint32_t
dp_lcore_count(void)
{
	return dp_eal_is_running() ? rte_lcore_count() : 0;
}

int
dp_lcore_launch(uint32_t lcore_id, dp_lcore_fn *fn, void *arg)
{
	if (!dp_eal_is_running() || lcore_id == 0 || lcore_id >= RTE_MAX_LCORE ||
	    !rte_lcore_is_enabled(lcore_id)) {
		return -EINVAL;
	}
	return rte_eal_remote_launch(fn, arg, lcore_id);
}

int
dp_lcore_wait(uint32_t lcore_id)
{
	ASSERT(lcore_id < RTE_MAX_LCORE);
	return rte_eal_wait_lcore(lcore_id);
}

int
dp_ring_create_spsc(const char *name, uint32_t count, uint32_t elem_size, struct dp_ring **out)
{
	struct dp_ring *ring;

	ring = base_alloc(sizeof(*ring));
	if (ring == NULL) {
		return -ENOMEM;
	}
	ring->elem_size = elem_size;
	ring->r = rte_ring_create_elem(name, elem_size, count, SOCKET_ID_ANY,
				       RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ring->r == NULL) {
		int rc = rte_errno;

		base_free(ring);
		return rc > 0 ? -rc : -ENOMEM;
	}
	*out = ring;
	return 0;
}

void
dp_ring_free(struct dp_ring *r)
{
	if (r == NULL) {
		return;
	}
	rte_ring_free(r->r);
	base_free(r);
}

int
dp_ring_push(struct dp_ring *r, const void *elem)
{
	/* rte_ring's prototype is not const-correct; it only reads elem. */
	return rte_ring_sp_enqueue_elem(r->r, (void *)(uintptr_t)elem, r->elem_size) == 0
		       ? 0
		       : -ENOBUFS;
}

int
dp_ring_pop(struct dp_ring *r, void *elem)
{
	return rte_ring_sc_dequeue_elem(r->r, elem, r->elem_size) == 0 ? 0 : -EAGAIN;
}
