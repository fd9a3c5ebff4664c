/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The machine's shape as plain data: packages, NUMA nodes (with their memory), cores and PUs
 * (processing units: hardware threads), each with the operating system's index. The planner
 * (numa/plan.h) reads only this model, never hwloc, so placement decisions are pure and can be
 * tested on any topology built by hand; numa/numa_hwloc.h fills the model from the real machine
 * or from an hwloc synthetic description.
 *
 * The model is filled by value into caller memory (no pointers inside), with fixed maximum
 * counts: it can be copied, compared with memcmp after numa_topology_init, and sent to a test.
 * Objects refer to each other by *model index* (position in their array, 0-based); the OS
 * index (`os_index`) is what the kernel calls the object (cpu number, NUMA node number).
 *
 * Invariants (checked by numa_topology_validate):
 *  - every count is at most its _MAX, every reference is a valid model index;
 *  - PU OS indexes are unique and below NUMA_OS_INDEX_MAX; NUMA node OS indexes are unique and
 *    below NUMA_OS_INDEX_MAX; package OS indexes are unique;
 *  - core OS indexes may repeat: Linux numbers cores within their package.
 *
 * Context: any thread; nothing here allocates or touches the machine.
 */
#ifndef AETHER_NUMA_TOPOLOGY_H
#define AETHER_NUMA_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"

/*
 * Limits. A two-socket server with 96 cores per socket and SMT 2 has 384 PUs; the limits leave
 * room above that while keeping the model about 16 KiB.
 */
#define NUMA_PACKAGE_MAX 16u
#define NUMA_NODE_MAX    64u
#define NUMA_CORE_MAX    512u
#define NUMA_PU_MAX      1024u

/* PU and NUMA node OS indexes are below this (like CPU_SETSIZE). */
#define NUMA_OS_INDEX_MAX 1024u

/* "No such object": a NUMA node that spans packages has this as its package_index. */
#define NUMA_INDEX_NONE UINT32_MAX

/* A set of PUs by OS index (cpu numbers), like cpu_set_t but fixed and pure. */
struct numa_cpuset {
	uint64_t words[NUMA_OS_INDEX_MAX / 64u];
};

struct numa_package {
	uint32_t os_index;
};

struct numa_node {
	uint32_t os_index;      /* the kernel's NUMA node number */
	uint32_t package_index; /* containing package, or NUMA_INDEX_NONE (machine-wide memory) */
	uint64_t memory_size;   /* bytes of memory local to this node */
};

struct numa_core {
	uint32_t os_index;      /* the kernel's core id (may repeat across packages) */
	uint32_t package_index; /* containing package */
	uint32_t node_index;    /* the NUMA node whose memory is local to this core */
};

struct numa_pu {
	uint32_t os_index;   /* the kernel's cpu number: what sched_getcpu() returns */
	uint32_t core_index; /* containing core */
};

struct numa_topology {
	uint32_t package_count;
	uint32_t node_count;
	uint32_t core_count;
	uint32_t pu_count;
	struct numa_package packages[NUMA_PACKAGE_MAX];
	struct numa_node nodes[NUMA_NODE_MAX];
	struct numa_core cores[NUMA_CORE_MAX];
	struct numa_pu pus[NUMA_PU_MAX];
};

/* Empties the set. */
static inline void
numa_cpuset_zero(struct numa_cpuset *set)
{
	for (uint32_t i = 0; i < NUMA_OS_INDEX_MAX / 64u; i++) {
		set->words[i] = 0;
	}
}

/*
 * Adds cpu os_index. Returns 0, or -ERANGE when os_index >= NUMA_OS_INDEX_MAX (the index may
 * come from a config file, so this is an operating error, not an assertion).
 */
AE_MUST_CHECK int numa_cpuset_add(struct numa_cpuset *set, uint32_t os_index);

/* Whether cpu os_index is in the set; false for indexes the set cannot hold. */
static inline bool
numa_cpuset_has(const struct numa_cpuset *set, uint32_t os_index)
{
	if (os_index >= NUMA_OS_INDEX_MAX) {
		return false;
	}
	return (set->words[os_index / 64u] >> (os_index % 64u)) & 1u;
}

/* Number of cpus in the set. */
uint32_t numa_cpuset_count(const struct numa_cpuset *set);

/* Makes *topo the empty topology (all counts 0, every byte zeroed so memcmp compares models). */
void numa_topology_init(struct numa_topology *topo);

/*
 * Builders: append one object and return its model index in *index_out (may be NULL). Objects
 * are appended in the order the planner will prefer them (hwloc's logical order). Errors:
 *  -ENOBUFS  the array is full (the topology exceeds the model's limits);
 *  -ERANGE   a PU or NUMA node OS index >= NUMA_OS_INDEX_MAX;
 *  -EEXIST   a PU, NUMA node or package OS index that is already present;
 *  -EINVAL   a reference to a model index that does not exist yet (package_index of a node may
 *            be NUMA_INDEX_NONE).
 * On error the topology is unchanged.
 */
AE_MUST_CHECK int numa_topology_add_package(struct numa_topology *topo, uint32_t os_index,
					    uint32_t *index_out);
AE_MUST_CHECK int numa_topology_add_node(struct numa_topology *topo, uint32_t os_index,
					 uint32_t package_index, uint64_t memory_size,
					 uint32_t *index_out);
AE_MUST_CHECK int numa_topology_add_core(struct numa_topology *topo, uint32_t os_index,
					 uint32_t package_index, uint32_t node_index,
					 uint32_t *index_out);
AE_MUST_CHECK int numa_topology_add_pu(struct numa_topology *topo, uint32_t os_index,
				       uint32_t core_index, uint32_t *index_out);

/* The shape of a regular machine, for numa_topology_build_uniform. */
struct numa_uniform_shape {
	uint32_t package_count;
	uint32_t nodes_per_package;
	uint32_t cores_per_node;
	uint32_t pus_per_core;
	uint64_t memory_per_node; /* bytes */
};

/*
 * Builds a regular topology numbered the way hwloc numbers a synthetic one ("pack:P numa:N
 * core:C pu:T"): packages, NUMA nodes, cores and PUs each get consecutive OS indexes in order,
 * so the PUs of one core are adjacent (cpu 0 and 1 are SMT siblings). Used by tests and by the
 * simulator, which has no hwloc. Returns 0, -EINVAL when a count is 0, or -ENOBUFS when the
 * shape exceeds the model's limits (the topology is then left empty).
 */
AE_MUST_CHECK int numa_topology_build_uniform(struct numa_topology *topo,
					      const struct numa_uniform_shape *shape);

/*
 * Checks the invariants listed at the top of this file. Returns 0, or -EINVAL with a static
 * sentence in *reason (reason may be NULL). The planner calls it on its input, because a
 * topology may come from outside the process (a file, a test).
 */
AE_MUST_CHECK int numa_topology_validate(const struct numa_topology *topo, const char **reason);

/* The NUMA node (model index) of PU pu_index. pu_index must be valid (asserted). */
uint32_t numa_topology_pu_node(const struct numa_topology *topo, uint32_t pu_index);

/* Writes a human-readable description, one object per line, to out. */
void numa_topology_dump(const struct numa_topology *topo, FILE *out);

#endif /* AETHER_NUMA_TOPOLOGY_H */
