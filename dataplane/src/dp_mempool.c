/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/dp_mempool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dp_mempool_int.h"
#include "numa/plan.h"

#define MBUF_COUNT_MIN 64u
#define MBUF_COUNT_MAX 1048575u
#define DATA_ROOM_MIN  (256u + RTE_PKTMBUF_HEADROOM)

void
dp_mempool_config_default(struct dp_mempool_config *cfg)
{
	ASSERT(cfg != NULL);
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->name, "aether-0", sizeof("aether-0"));
	cfg->mbuf_count = DP_MEMPOOL_MBUF_COUNT_DEFAULT;
	cfg->cache_size = DP_MEMPOOL_CACHE_SIZE_DEFAULT;
	cfg->data_room_size = DP_MEMPOOL_DATA_ROOM_DEFAULT;
}

static int
config_check(const struct dp_mempool_config *cfg)
{
	size_t name_len = strnlen(cfg->name, sizeof(cfg->name));

	if (name_len == 0 || name_len == sizeof(cfg->name)) {
		return -EINVAL;
	}
	if (cfg->mbuf_count < MBUF_COUNT_MIN || cfg->mbuf_count > MBUF_COUNT_MAX) {
		return -EINVAL;
	}
	/* rte_mempool_create refuses a cache above this (RTE_MEMPOOL_CACHE_MAX_SIZE, 1.5x). */
	if (cfg->cache_size > RTE_MEMPOOL_CACHE_MAX_SIZE ||
	    (uint64_t)cfg->cache_size * 3u > (uint64_t)cfg->mbuf_count * 2u) {
		return -EINVAL;
	}
	return cfg->data_room_size < DATA_ROOM_MIN ? -EINVAL : 0;
}

int
dp_mempool_create(const struct dp_mempool_config *cfg, const struct base_log *log,
		  struct dp_mempool **out)
{
	static const struct base_log quiet;
	struct dp_mempool *pool;
	struct rte_mempool *mp;
	int rc;

	ASSERT(cfg != NULL && out != NULL);
	*out = NULL;
	log = log != NULL ? log : &quiet;
	rc = config_check(cfg);
	if (rc != 0) {
		return rc;
	}
	pool = base_alloc(sizeof(*pool));
	if (pool == NULL) {
		return -ENOMEM;
	}
	mp = rte_pktmbuf_pool_create(cfg->name, cfg->mbuf_count, cfg->cache_size, 0,
				     cfg->data_room_size, (int)cfg->node_os_index);
	if (mp == NULL && rte_errno == ENOMEM) {
		/* No memory on that node: without hugepages EAL only has SOCKET_ID_ANY. */
		base_logf(log, BASE_LOG_WARN,
			  "mempool: name=%s no memory on node %u, falling back to any node",
			  cfg->name, (unsigned)cfg->node_os_index);
		mp = rte_pktmbuf_pool_create(cfg->name, cfg->mbuf_count, cfg->cache_size, 0,
					     cfg->data_room_size, SOCKET_ID_ANY);
	}
	if (mp == NULL) {
		rc = rte_errno > 0 ? -rte_errno : -ENOMEM;
		base_free(pool);
		return rc;
	}
	pool->mp = mp;
	base_logf(log, BASE_LOG_INFO, "mempool: name=%s mbufs=%u data_room=%u socket=%d", cfg->name,
		  (unsigned)cfg->mbuf_count, (unsigned)cfg->data_room_size, mp->socket_id);
	*out = pool;
	return 0;
}

void
dp_mempool_destroy(struct dp_mempool *pool)
{
	if (pool == NULL) {
		return;
	}
	rte_mempool_free(pool->mp);
	base_free(pool);
}

int
dp_mempool_socket(const struct dp_mempool *pool)
{
	ASSERT(pool != NULL);
	return pool->mp->socket_id;
}

uint32_t
dp_mempool_available(const struct dp_mempool *pool)
{
	ASSERT(pool != NULL);
	return rte_mempool_avail_count(pool->mp);
}

int
dp_mempool_create_for_plan(const struct numa_plan *plan, const struct dp_mempool_config *tmpl,
			   const struct base_log *log,
			   struct dp_mempool *pools[DP_MEMPOOL_PLAN_MAX])
{
	struct dp_mempool_config cfg;
	int rc;

	ASSERT(plan != NULL && tmpl != NULL && pools != NULL);
	memset(pools, 0, sizeof(pools[0]) * DP_MEMPOOL_PLAN_MAX);
	if (plan->mempool_count > DP_MEMPOOL_PLAN_MAX) {
		return -ENOBUFS;
	}
	for (uint32_t i = 0; i < plan->mempool_count; i++) {
		cfg = *tmpl;
		cfg.node_os_index = plan->mempools[i].node_os_index;
		rc = snprintf(cfg.name, sizeof(cfg.name), "%.16s-%u", tmpl->name, (unsigned)i);
		ASSERT(rc > 0 && (size_t)rc < sizeof(cfg.name)); /* 16 + 1 + 3 digits fit */
		rc = dp_mempool_create(&cfg, log, &pools[i]);
		if (rc != 0) {
			for (uint32_t j = 0; j < i; j++) {
				dp_mempool_destroy(pools[j]);
				pools[j] = NULL;
			}
			return rc;
		}
	}
	return 0;
}
