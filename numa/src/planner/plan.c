/* SPDX-License-Identifier: Apache-2.0 */
#include "numa/plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/panic.h"

/* A sort key: objects are ordered by (major, minor); index is the object's model index. */
struct plan_key {
	uint32_t index;
	uint32_t major;
	uint32_t minor;
};

/*
 * Working memory of one numa_plan_init call, on the stack: the rules in plan.h become three
 * ordered lists (cores, PUs, this process's share of PUs).
 */
struct plan_scratch {
	uint32_t core_count;                /* allowed cores */
	uint32_t core_order[NUMA_CORE_MAX]; /* rule 2: allowed cores, spread across nodes */
	uint32_t core_pos[NUMA_CORE_MAX];   /* position of a core in core_order, or NONE */
	uint32_t pu_count;                  /* allowed PUs */
	uint32_t pu_order[NUMA_PU_MAX];     /* rule 3: allowed PUs, one per core first */
	uint32_t share_count;
	uint32_t share[NUMA_PU_MAX]; /* rule 4: this process's PUs, in PU order */
	struct plan_key keys[NUMA_PU_MAX];
};

static int
plan_key_compare(const void *a, const void *b)
{
	const struct plan_key *x = a;
	const struct plan_key *y = b;

	if (x->major != y->major) {
		return x->major < y->major ? -1 : 1;
	}
	if (x->minor != y->minor) {
		return x->minor < y->minor ? -1 : 1;
	}
	/* Keys are unique by construction; the index keeps qsort's result total anyway. */
	return x->index < y->index ? -1 : (x->index > y->index);
}

static int
plan_fail(struct numa_plan *plan, const char **reason, const char *what)
{
	memset(plan, 0, sizeof(*plan));
	if (reason != NULL) {
		*reason = what;
	}
	return -EINVAL;
}

static const char *
plan_check_config(const struct numa_plan_config *cfg)
{
	if (cfg->worker_count == 0) {
		return "at least one worker lcore is needed: slice instances run only on workers";
	}
	if (cfg->worker_count > NUMA_WORKER_MAX) {
		return "more worker lcores than NUMA_WORKER_MAX";
	}
	if (cfg->process_count == 0) {
		return "process count must be at least 1";
	}
	if (cfg->process_index >= cfg->process_count) {
		return "process index must be below the process count";
	}
	return NULL;
}

/* Rule 2: the allowed cores, first core of each node, then the second of each, ... */
static void
plan_order_cores(struct plan_scratch *s, const struct numa_topology *topo,
		 const struct numa_cpuset *allowed)
{
	uint32_t node_seen[NUMA_NODE_MAX] = {0};
	bool core_allowed[NUMA_CORE_MAX] = {false};
	uint32_t n = 0;

	for (uint32_t i = 0; i < topo->pu_count; i++) {
		if (numa_cpuset_has(allowed, topo->pus[i].os_index)) {
			core_allowed[topo->pus[i].core_index] = true;
		}
	}
	for (uint32_t c = 0; c < topo->core_count; c++) {
		s->core_pos[c] = NUMA_INDEX_NONE;
		if (core_allowed[c]) {
			uint32_t node = topo->cores[c].node_index;

			s->keys[n++] = (struct plan_key){c, node_seen[node]++, node};
		}
	}
	qsort(s->keys, n, sizeof(s->keys[0]), plan_key_compare);
	for (uint32_t i = 0; i < n; i++) {
		s->core_order[i] = s->keys[i].index;
		s->core_pos[s->keys[i].index] = i;
	}
	s->core_count = n;
}

/* Rule 3: the allowed PUs, the first PU of every core (in core order), then the second, ... */
static void
plan_order_pus(struct plan_scratch *s, const struct numa_topology *topo,
	       const struct numa_cpuset *allowed)
{
	uint32_t core_seen[NUMA_CORE_MAX] = {0};
	uint32_t n = 0;

	for (uint32_t p = 0; p < topo->pu_count; p++) {
		uint32_t core = topo->pus[p].core_index;

		if (numa_cpuset_has(allowed, topo->pus[p].os_index)) {
			ASSERT(s->core_pos[core] != NUMA_INDEX_NONE);
			s->keys[n++] = (struct plan_key){p, core_seen[core]++, s->core_pos[core]};
		}
	}
	qsort(s->keys, n, sizeof(s->keys[0]), plan_key_compare);
	for (uint32_t i = 0; i < n; i++) {
		s->pu_order[i] = s->keys[i].index;
	}
	s->pu_count = n;
}

/* Rule 4: this process's share of the host. Returns whether another process uses its PU. */
static bool
plan_share(struct plan_scratch *s, const struct numa_topology *topo,
	   const struct numa_plan_config *cfg)
{
	uint32_t count = cfg->process_count;
	uint32_t index = cfg->process_index;

	ASSERT(s->core_count > 0);
	ASSERT(s->pu_count >= s->core_count);
	s->share_count = 0;
	if (count > s->core_count) {
		uint32_t position = index % s->pu_count;

		s->share[s->share_count++] = s->pu_order[position];
		/* Processes position, position + P, ... get this PU: shared when there are two. */
		return position + s->pu_count < count;
	}
	for (uint32_t i = 0; i < s->pu_count; i++) {
		uint32_t core = topo->pus[s->pu_order[i]].core_index;

		if (s->core_pos[core] % count == index) {
			s->share[s->share_count++] = s->pu_order[i];
		}
	}
	ASSERT(s->share_count > 0);
	return false;
}

static void
plan_lcore_set(struct numa_lcore *lcore, const struct numa_topology *topo, uint32_t pu_index)
{
	uint32_t node_index = numa_topology_pu_node(topo, pu_index);

	lcore->pu_index = pu_index;
	lcore->pu_os_index = topo->pus[pu_index].os_index;
	lcore->core_index = topo->pus[pu_index].core_index;
	lcore->node_index = node_index;
	lcore->node_os_index = topo->nodes[node_index].os_index;
	lcore->mempool_index = NUMA_INDEX_NONE;
}

/* One mempool per NUMA node hosting an lcore, in node order; each lcore names its pool. */
static void
plan_mempools(struct numa_plan *plan, const struct numa_topology *topo)
{
	uint32_t lcores_on_node[NUMA_NODE_MAX] = {0};
	uint32_t pool_of_node[NUMA_NODE_MAX];

	lcores_on_node[plan->control.node_index]++;
	for (uint32_t w = 0; w < plan->worker_count; w++) {
		lcores_on_node[plan->workers[w].node_index]++;
	}
	plan->mempool_count = 0;
	for (uint32_t n = 0; n < topo->node_count; n++) {
		pool_of_node[n] = NUMA_INDEX_NONE;
		if (lcores_on_node[n] > 0) {
			struct numa_mempool *pool = &plan->mempools[plan->mempool_count];

			pool->node_index = n;
			pool->node_os_index = topo->nodes[n].os_index;
			pool->lcore_count = lcores_on_node[n];
			pool_of_node[n] = plan->mempool_count++;
		}
	}
	plan->control.mempool_index = pool_of_node[plan->control.node_index];
	for (uint32_t w = 0; w < plan->worker_count; w++) {
		plan->workers[w].mempool_index = pool_of_node[plan->workers[w].node_index];
		ASSERT(plan->workers[w].mempool_index < plan->mempool_count);
	}
	ASSERT(plan->control.mempool_index < plan->mempool_count);
}

/* Rule 5: lcore m runs on share PU m mod S; rule 6 decides whether that is oversubscribed. */
static void
plan_assign(struct numa_plan *plan, const struct plan_scratch *s, const struct numa_topology *topo,
	    const struct numa_plan_config *cfg)
{
	uint32_t lcore_count = 1 + cfg->worker_count;

	plan_lcore_set(&plan->control, topo, s->share[0]);
	plan->worker_count = cfg->worker_count;
	for (uint32_t w = 0; w < cfg->worker_count; w++) {
		plan_lcore_set(&plan->workers[w], topo, s->share[(1 + w) % s->share_count]);
	}
	plan->share_pu_count = s->share_count;
	plan->is_oversubscribed = lcore_count > s->share_count || plan->shares_pus_with_processes;
	plan->instances_per_worker_max = cfg->instances_per_worker_max != 0
						 ? cfg->instances_per_worker_max
						 : NUMA_INSTANCES_PER_WORKER_DEFAULT;
	plan_mempools(plan, topo);
}

int
numa_plan_init(struct numa_plan *plan, const struct numa_topology *topo,
	       const struct numa_cpuset *allowed, const struct numa_plan_config *cfg,
	       const char **reason)
{
	struct plan_scratch s;
	const char *what = NULL;

	ASSERT(plan != NULL);
	ASSERT(topo != NULL);
	ASSERT(allowed != NULL);
	ASSERT(cfg != NULL);
	memset(plan, 0, sizeof(*plan));
	if (numa_topology_validate(topo, &what) != 0) {
		return plan_fail(plan, reason, what);
	}
	what = plan_check_config(cfg);
	if (what != NULL) {
		return plan_fail(plan, reason, what);
	}
	if (numa_cpuset_count(allowed) == 0) {
		return plan_fail(plan, reason, "the allowed cpu set is empty");
	}
	plan_order_cores(&s, topo, allowed);
	if (s.core_count == 0) {
		return plan_fail(plan, reason,
				 "the allowed cpu set contains no PU of the topology");
	}
	plan_order_pus(&s, topo, allowed);
	plan->shares_pus_with_processes = plan_share(&s, topo, cfg);
	plan_assign(plan, &s, topo, cfg);
	if (plan->is_oversubscribed && !cfg->allow_oversubscribe) {
		return plan_fail(plan, reason,
				 plan->shares_pus_with_processes
					 ? "more node processes than PUs on this host (allow "
					   "oversubscription to share PUs)"
					 : "more lcores than PUs available to this process (allow "
					   "oversubscription to share PUs)");
	}
	return 0;
}

int
numa_plan_place_instance(struct numa_plan *plan, struct numa_placement *out)
{
	uint32_t best = NUMA_INDEX_NONE;
	const struct numa_lcore *lcore;

	ASSERT(plan != NULL);
	ASSERT(out != NULL);
	ASSERT(plan->worker_count > 0 && plan->worker_count <= NUMA_WORKER_MAX);
	for (uint32_t w = 0; w < plan->worker_count; w++) {
		if (plan->instance_counts[w] >= plan->instances_per_worker_max) {
			continue;
		}
		/* Strictly fewer: a tie keeps the lower worker index found first. */
		if (best == NUMA_INDEX_NONE ||
		    plan->instance_counts[w] < plan->instance_counts[best]) {
			best = w;
		}
	}
	if (best == NUMA_INDEX_NONE) {
		return -ENOBUFS;
	}
	plan->instance_counts[best]++;
	lcore = &plan->workers[best];
	out->worker_index = best;
	out->pu_os_index = lcore->pu_os_index;
	out->node_index = lcore->node_index;
	out->node_os_index = lcore->node_os_index;
	out->mempool_index = lcore->mempool_index;
	return 0;
}

void
numa_plan_release_instance(struct numa_plan *plan, uint32_t worker_index)
{
	ASSERT(plan != NULL);
	ASSERT(worker_index < plan->worker_count);
	ASSERT(plan->instance_counts[worker_index] > 0);
	plan->instance_counts[worker_index]--;
}

static void
plan_dump_lcore(FILE *out, const char *role, uint32_t index, const struct numa_lcore *lcore,
		uint32_t instances)
{
	fprintf(out,
		"lcore role=%s index=%" PRIu32 " cpu=%" PRIu32 " core=%" PRIu32 " node=%" PRIu32
		" node_os=%" PRIu32 " mempool=%" PRIu32 " instances=%" PRIu32 "\n",
		role, index, lcore->pu_os_index, lcore->core_index, lcore->node_index,
		lcore->node_os_index, lcore->mempool_index, instances);
}

void
numa_plan_dump(const struct numa_plan *plan, FILE *out)
{
	ASSERT(plan != NULL);
	ASSERT(out != NULL);
	fprintf(out,
		"plan workers=%" PRIu32 " share_pus=%" PRIu32 " oversubscribed=%d"
		" shared_with_processes=%d mempools=%" PRIu32 "\n",
		plan->worker_count, plan->share_pu_count, plan->is_oversubscribed,
		plan->shares_pus_with_processes, plan->mempool_count);
	plan_dump_lcore(out, "control", 0, &plan->control, 0);
	for (uint32_t w = 0; w < plan->worker_count; w++) {
		plan_dump_lcore(out, "worker", w, &plan->workers[w], plan->instance_counts[w]);
	}
	for (uint32_t m = 0; m < plan->mempool_count; m++) {
		fprintf(out,
			"mempool=%" PRIu32 " node=%" PRIu32 " node_os=%" PRIu32 " lcores=%" PRIu32
			"\n",
			m, plan->mempools[m].node_index, plan->mempools[m].node_os_index,
			plan->mempools[m].lcore_count);
	}
}
