/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The placement planner: given the machine (struct numa_topology), the cpus this process may
 * use, how many worker lcores it wants and its index among the node processes on this host, it
 * decides which PU each lcore runs on, which NUMA node's memory each lcore uses, which mempools
 * to create, and on which worker lcore each slice instance runs. It is pure (no hwloc, no
 * threads, no clock): the node applies the plan through numa/numa_hwloc.h and the dataplane.
 *
 * Lcores: one control lcore (consensus, KV, deployment managers, operator socket) and
 * worker_count worker lcores (slice instances and their calls). Each lcore is one thread pinned
 * to one PU.
 *
 * How PUs are chosen (deterministic; the tests pin every rule):
 *  1. Allowed PUs are the topology's PUs whose OS index is in the allowed cpu set; a core is
 *     allowed when it has at least one allowed PU.
 *  2. Core order spreads across NUMA nodes: the first allowed core of each node (nodes in model
 *     order), then the second core of each node, and so on.
 *  3. PU order prefers one PU per core: the first allowed PU of every core in core order, then
 *     the second PU (the SMT sibling) of every core, and so on.
 *  4. Several node processes on one host (process_count N, this is process_index p) split the
 *     host round robin, one core at a time: with C allowed cores and N <= C, process p owns the
 *     cores at positions p, p+N, p+2N, ... of the core order (all their allowed PUs). With
 *     N > C, process p gets the single PU at position p mod P of the PU order (P = allowed
 *     PUs); when N > P that PU is also used by another process.
 *  5. Within the process's share (its PUs, kept in PU order), lcore m (m = 0 is the control
 *     lcore, m = 1 + i is worker i) runs on share PU m mod S (S = share size). So the control
 *     lcore gets the first core, workers alternate across NUMA nodes, SMT siblings are used only
 *     when every core already has an lcore, and when lcores outnumber PUs each PU carries at
 *     most one lcore more than any other.
 *  6. A plan is oversubscribed when a PU carries two lcores of this process, or when its PU is
 *     also given to another process (rule 4 with N > P). That is an error unless
 * allow_oversubscribe is set: pinned busy pollers sharing a PU need the idle policy
 * (PLATFORM-NOTES.md).
 *
 * Memory: one mempool per NUMA node that hosts at least one lcore (the control lcore included:
 * it sends and receives consensus frames), in NUMA node order. Each lcore names its mempool.
 *
 * Slice instances: numa_plan_place_instance picks the worker with the fewest instances (ties go
 * to the lowest worker index) and counts the instance there; the instance's arena comes from
 * that worker's NUMA node. numa_plan_release_instance undoes it at unload.
 *
 * Context: the control thread. A plan is plain data in caller memory (about 4.5 KiB) and holds
 * no pointers; numa_plan_init uses about 30 KiB of stack.
 */
#ifndef AETHER_NUMA_PLAN_H
#define AETHER_NUMA_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "numa/topology.h"

/* DPDK's default RTE_MAX_LCORE is 128: one control lcore and up to 127 workers. */
#define NUMA_WORKER_MAX                   127u
/* Instances one worker lcore carries when the config says 0. */
#define NUMA_INSTANCES_PER_WORKER_DEFAULT 64u

struct numa_plan_config {
	uint32_t worker_count;    /* worker lcores wanted: 1 .. NUMA_WORKER_MAX */
	uint32_t process_index;   /* this process among the node processes on this host: 0-based */
	uint32_t process_count;   /* node processes sharing this host: >= 1 */
	bool allow_oversubscribe; /* permit several lcores (or processes) on one PU */
	uint32_t instances_per_worker_max; /* 0 means NUMA_INSTANCES_PER_WORKER_DEFAULT */
};

/* Where one lcore runs. Model indexes refer to the topology the plan was made from. */
struct numa_lcore {
	uint32_t pu_index;      /* model index of its PU */
	uint32_t pu_os_index;   /* cpu number to pin to */
	uint32_t core_index;    /* model index of the PU's core */
	uint32_t node_index;    /* model index of the NUMA node whose memory it uses */
	uint32_t node_os_index; /* that node's kernel number (for membind and socket ids) */
	uint32_t mempool_index; /* index into plan->mempools */
};

/* One mempool to create, on one NUMA node. */
struct numa_mempool {
	uint32_t node_index;    /* model index */
	uint32_t node_os_index; /* kernel number */
	uint32_t lcore_count;   /* lcores (control included) that draw from it */
};

/* Where a slice instance was placed. */
struct numa_placement {
	uint32_t worker_index;  /* 0-based worker lcore (not the control lcore) */
	uint32_t pu_os_index;   /* cpu that worker is pinned to */
	uint32_t node_index;    /* model index of the NUMA node for the instance's arena */
	uint32_t node_os_index; /* kernel number of that node */
	uint32_t mempool_index; /* the worker's mempool */
};

struct numa_plan {
	struct numa_lcore control;
	uint32_t worker_count;
	struct numa_lcore workers[NUMA_WORKER_MAX];
	uint32_t mempool_count;
	struct numa_mempool mempools[NUMA_NODE_MAX];
	uint32_t share_pu_count;        /* PUs this process was given (S in rule 5) */
	bool is_oversubscribed;         /* rule 6 */
	bool shares_pus_with_processes; /* another process of this host gets our PU (N > P) */
	uint32_t instances_per_worker_max;
	uint32_t instance_counts[NUMA_WORKER_MAX]; /* instances placed on each worker */
};

/*
 * Computes the plan into caller memory; *plan is fully overwritten (instance counts start at
 * 0). topo, allowed and cfg are borrowed. Returns 0, or -EINVAL with a static sentence in
 * *reason (reason may be NULL) when:
 *  - the topology is invalid (numa_topology_validate's reason);
 *  - worker_count is 0 or above NUMA_WORKER_MAX, process_count is 0, or process_index is not
 *    below process_count;
 *  - the allowed cpu set is empty, or contains no PU of the topology;
 *  - the plan is oversubscribed (rule 6) and allow_oversubscribe is false.
 * On error *plan is zeroed.
 */
AE_MUST_CHECK int numa_plan_init(struct numa_plan *plan, const struct numa_topology *topo,
				 const struct numa_cpuset *allowed,
				 const struct numa_plan_config *cfg, const char **reason);

/*
 * Places one slice instance on the least-loaded worker (fewest instances, ties to the lowest
 * worker index), counts it, and describes the placement in *out. Returns 0, or -ENOBUFS when
 * every worker already carries instances_per_worker_max instances (nothing is counted then).
 */
AE_MUST_CHECK int numa_plan_place_instance(struct numa_plan *plan, struct numa_placement *out);

/*
 * Forgets one instance on worker_index (at unload). Releasing an instance that was never
 * placed is a programmer error (asserted).
 */
void numa_plan_release_instance(struct numa_plan *plan, uint32_t worker_index);

/* Writes the plan (lcores, mempools, instance counts), one item per line, to out. */
void numa_plan_dump(const struct numa_plan *plan, FILE *out);

#endif /* AETHER_NUMA_PLAN_H */
