/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the mempool wrapper's layout, shared with dp_port.c. */
#ifndef AETHER_DATAPLANE_DP_MEMPOOL_INT_H
#define AETHER_DATAPLANE_DP_MEMPOOL_INT_H

#include <rte_mempool.h>

struct dp_mempool {
	struct rte_mempool *mp;
};

#endif /* AETHER_DATAPLANE_DP_MEMPOOL_INT_H */
