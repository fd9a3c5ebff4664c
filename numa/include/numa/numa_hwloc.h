/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one place that talks to hwloc (ARCHITECTURE.md section 3): it loads the machine's
 * topology (or a synthetic one) into the pure model of numa/topology.h, pins the calling thread
 * to a PU, allocates memory on a NUMA node and tells where a buffer's pages live. Everything is
 * named by OS index (cpu number, NUMA node number), as in struct numa_lcore; this header does
 * not include <hwloc.h>, so callers stay hwloc-free.
 *
 * Real versus synthetic: with a synthetic description ("pack:2 numa:1 core:4 pu:1", see hwloc's
 * "Synthetic topologies" page) the topology describes no real machine. hwloc's synthetic backend
 * answers every binding call with a silent success, so this adapter refuses to pretend:
 * binding a thread or asking for a memory location returns -ENOTSUP, and memory allocation falls
 * back to plain memory and says so.
 *
 * Context: create and destroy on the control thread at startup and shutdown. After create, any
 * thread may call the other functions (hwloc allows concurrent read-only use of a loaded
 * topology), but never concurrently with destroy. hwloc allocates its own memory with malloc
 * during create (outside base_alloc's accounting): create before base_alloc_seal().
 */
#ifndef AETHER_NUMA_NUMA_HWLOC_H
#define AETHER_NUMA_NUMA_HWLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "numa/topology.h"

struct numa_hwloc;

/*
 * Loads a topology: the real machine when synthetic is NULL, else the synthetic description
 * (borrowed). On success *out is a new adapter the caller destroys. Errors, with a static
 * sentence in *reason (reason may be NULL):
 *  -ENOMEM  out of memory;
 *  -EINVAL  the synthetic description does not parse;
 *  other negative errno from hwloc's topology load.
 */
AE_MUST_CHECK int numa_hwloc_create(struct numa_hwloc **out, const char *synthetic,
				    const char **reason);

/* Frees the adapter (takes hw). NULL is allowed. Memory from numa_hwloc_mem_alloc must have
 * been freed before. */
void numa_hwloc_destroy(struct numa_hwloc *hw);

/* Whether the topology is the machine this process runs on (false for synthetic ones). */
bool numa_hwloc_is_real(const struct numa_hwloc *hw);

/*
 * Fills *topo (caller memory, fully overwritten) with the loaded topology, objects in hwloc's
 * logical order. A topology without a package level gets one package (OS index 0); one without
 * a core level gets one core per PU; a core's node is the first NUMA node local to it; a NUMA
 * node above the packages (machine-wide memory) has package_index NUMA_INDEX_NONE. Returns 0,
 * or with a static sentence in *reason (reason may be NULL) and *topo left empty:
 *  -ENOBUFS / -ERANGE  the machine exceeds the model's limits (numa/topology.h);
 *  -EINVAL             hwloc reported a shape the model cannot express (a core outside every
 *                      package or without local memory).
 */
AE_MUST_CHECK int numa_hwloc_load(const struct numa_hwloc *hw, struct numa_topology *topo,
				  const char **reason);

/*
 * Fills *allowed with the cpus this process may use: hwloc's allowed cpu set (cgroups) and,
 * on a real topology, the process's current cpu binding (taskset). Call it at startup, before
 * any lcore thread pins itself. Returns 0, -ERANGE when a cpu number is too large for the
 * model, or a negative errno from hwloc.
 */
AE_MUST_CHECK int numa_hwloc_allowed(const struct numa_hwloc *hw, struct numa_cpuset *allowed);

/*
 * Pins the calling thread to the PU with cpu number pu_os_index (hwloc_set_cpubind with
 * HWLOC_CPUBIND_THREAD). Returns 0, or:
 *  -ENOTSUP  synthetic topology, or the OS cannot bind threads;
 *  -ENOENT   no PU with that number in the topology;
 *  -EXDEV    the binding cannot be enforced;
 *  other negative errno from the OS (-EINVAL for a cpu outside this process's cgroup).
 */
AE_MUST_CHECK int numa_hwloc_bind_thread(struct numa_hwloc *hw, uint32_t pu_os_index);

/*
 * Allocates size bytes (page aligned, not zeroed, pages not yet touched) bound to the NUMA
 * node with number node_os_index, strictly (HWLOC_MEMBIND_BIND | HWLOC_MEMBIND_STRICT). When
 * binding fails for any reason but lack of memory (ENOSYS: no support; EXDEV: cannot enforce;
 * EPERM: a container forbids mbind) or the topology is synthetic, it falls back to plain
 * page-aligned memory so the node still runs, and sets *is_bound = false so the caller can log
 * it once. On success *out is set and the caller frees it with
 * numa_hwloc_mem_free with the same size. Errors: -ENOENT no NUMA node with that number;
 * -EINVAL size 0; -ENOMEM out of memory. Cost: an mmap system call; control thread only.
 */
AE_MUST_CHECK int numa_hwloc_mem_alloc(struct numa_hwloc *hw, size_t size, uint32_t node_os_index,
				       void **out, bool *is_bound);

/* Frees memory from numa_hwloc_mem_alloc (takes ptr). ptr NULL is allowed. */
void numa_hwloc_mem_free(struct numa_hwloc *hw, void *ptr, size_t size);

/*
 * Tells on which NUMA node the pages of [ptr, ptr + size) are (hwloc_get_area_memlocation);
 * only pages already touched have a location. Returns 0 and the node's number in
 * *node_os_index when every located page is on one node, or:
 *  -ENOENT   no page of the range is allocated yet;
 *  -EXDEV    pages lie on several nodes;
 *  -ENOTSUP  synthetic topology, or the OS cannot tell.
 * For tests and diagnostics (it walks the page tables; not for the data path).
 */
AE_MUST_CHECK int numa_hwloc_mem_location(struct numa_hwloc *hw, const void *ptr, size_t size,
					  uint32_t *node_os_index);

#endif /* AETHER_NUMA_NUMA_HWLOC_H */
