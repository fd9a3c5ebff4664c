/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet buffer pools (DPDK mbuf mempools), one per NUMA node that hosts an lcore, as the numa
 * planner decides (numa/plan.h, "Memory"). Every port draws its receive and send buffers from
 * the pool of the node its lcore runs on, so frames never cross the interconnect.
 *
 * Without hugepages EAL has memory only on socket 0 (in fact on "any" socket): a pool that
 * cannot be placed on its node falls back to SOCKET_ID_ANY and says so in the log, so the
 * node still runs (as numa_hwloc_mem_alloc does for plain memory).
 *
 * Context: the control thread at startup, after dp_eal_start; destroy before dp_eal_stop.
 */
#ifndef AETHER_DATAPLANE_DP_MEMPOOL_H
#define AETHER_DATAPLANE_DP_MEMPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/log.h"

struct numa_plan;

#define DP_MEMPOOL_NAME_MAX           24u   /* including the NUL; DPDK's limit is 26 */
#define DP_MEMPOOL_MBUF_COUNT_DEFAULT 8191u /* 2^n - 1 is what rte_mempool sizes best */
#define DP_MEMPOOL_CACHE_SIZE_DEFAULT 256u
/* Data room of one mbuf: DPDK's default (2048 + 128 headroom). Bigger frames are chained. */
#define DP_MEMPOOL_DATA_ROOM_DEFAULT  (2048u + 128u)
/* The pool for the numa_plan's mempool i is named "<prefix>-<i>". */
#define DP_MEMPOOL_PLAN_MAX           8u

struct dp_mempool_config {
	char name[DP_MEMPOOL_NAME_MAX]; /* unique in the process */
	uint32_t node_os_index;         /* NUMA node (DPDK socket id) to place it on */
	uint32_t mbuf_count;            /* 64 .. 1048575 */
	uint32_t cache_size;            /* per-lcore cache, at most 512 and mbuf_count / 1.5 */
	uint16_t data_room_size;        /* 256 + 128 headroom at least */
};

struct dp_mempool;

/* Defaults above; name "aether-0", node 0. */
void dp_mempool_config_default(struct dp_mempool_config *cfg);

/*
 * Creates the pool (rte_pktmbuf_pool_create). Returns 0 and *out; -EINVAL for a bad config,
 * -EEXIST when the name is taken, -ENOMEM when there is no memory even on any socket, or
 * another negative rte_errno. Logs the placement (and a fallback) through log (may be NULL).
 */
AE_MUST_CHECK int dp_mempool_create(const struct dp_mempool_config *cfg, const struct base_log *log,
				    struct dp_mempool **out);

/* Frees the pool; every mbuf must have been returned (ports destroyed first). NULL allowed. */
void dp_mempool_destroy(struct dp_mempool *pool);

/* The NUMA node the pool's memory is on, as DPDK reports it (-1 for "any"). */
int dp_mempool_socket(const struct dp_mempool *pool);

/* Mbufs currently in the pool (free); for tests and dumps. */
uint32_t dp_mempool_available(const struct dp_mempool *pool);

/*
 * Creates plan->mempool_count pools, pools[i] on plan->mempools[i]'s NUMA node, each from
 * tmpl (name and node are replaced: "<tmpl.name>-<i>"). pools must hold DP_MEMPOOL_PLAN_MAX
 * entries. Returns 0, -ENOBUFS when the plan has more pools than DP_MEMPOOL_PLAN_MAX, or the
 * first create error (pools created before it are destroyed; every entry is NULL then).
 */
AE_MUST_CHECK int dp_mempool_create_for_plan(const struct numa_plan *plan,
					     const struct dp_mempool_config *tmpl,
					     const struct base_log *log,
					     struct dp_mempool *pools[DP_MEMPOOL_PLAN_MAX]);

#endif /* AETHER_DATAPLANE_DP_MEMPOOL_H */
