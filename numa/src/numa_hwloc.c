/* SPDX-License-Identifier: Apache-2.0 */
#include "numa/numa_hwloc.h"

#include <errno.h>

#include <hwloc.h>

#include "base/alloc.h"
#include "base/panic.h"

struct numa_hwloc {
	hwloc_topology_t topology;
	bool is_real;
};

static void
set_reason(const char **reason, const char *what)
{
	if (reason != NULL) {
		*reason = what;
	}
}

/* hwloc reports through errno; ENOSYS ("this OS cannot") is ENOTSUP to our callers. */
static int
hwloc_errno_code(int err)
{
	if (err == ENOSYS) {
		return -ENOTSUP;
	}
	return err > 0 ? -err : -EIO;
}

int
numa_hwloc_create(struct numa_hwloc **out, const char *synthetic, const char **reason)
{
	struct numa_hwloc *hw;
	int rc;

	ASSERT(out != NULL);
	*out = NULL;
	hw = base_alloc(sizeof(*hw));
	if (hw == NULL) {
		set_reason(reason, "out of memory");
		return -ENOMEM;
	}
	if (hwloc_topology_init(&hw->topology) != 0) {
		set_reason(reason, "hwloc could not initialize a topology");
		rc = -ENOMEM;
		goto err_free;
	}
	if (synthetic != NULL && hwloc_topology_set_synthetic(hw->topology, synthetic) != 0) {
		set_reason(reason, "the synthetic topology description does not parse");
		rc = -EINVAL;
		goto err_destroy;
	}
	if (hwloc_topology_load(hw->topology) != 0) {
		set_reason(reason, "hwloc could not load the topology");
		rc = hwloc_errno_code(errno);
		goto err_destroy;
	}
	/* Also false when HWLOC_SYNTHETIC or HWLOC_XMLFILE in the environment replaced the machine.
	 */
	hw->is_real = hwloc_topology_is_thissystem(hw->topology) != 0;
	*out = hw;
	return 0;

err_destroy:
	hwloc_topology_destroy(hw->topology);
err_free:
	base_free(hw);
	return rc;
}

void
numa_hwloc_destroy(struct numa_hwloc *hw)
{
	if (hw == NULL) {
		return;
	}
	hwloc_topology_destroy(hw->topology);
	base_free(hw);
}

bool
numa_hwloc_is_real(const struct numa_hwloc *hw)
{
	ASSERT(hw != NULL);
	return hw->is_real;
}

/* Model index of obj's package: 0 when hwloc has no package level (we add one), else NONE. */
static uint32_t
load_package_of(hwloc_topology_t t, hwloc_obj_t obj)
{
	hwloc_obj_t package;

	if (hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE) <= 0) {
		return 0;
	}
	package = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, obj);
	return package != NULL ? package->logical_index : NUMA_INDEX_NONE;
}

/* Model index of the first NUMA node local to obj (nodes are loaded in logical order). */
static uint32_t
load_node_of(hwloc_topology_t t, hwloc_obj_t obj)
{
	int first = hwloc_bitmap_first(obj->nodeset);
	hwloc_obj_t node;

	if (first < 0) {
		return NUMA_INDEX_NONE;
	}
	node = hwloc_get_numanode_obj_by_os_index(t, (unsigned)first);
	return node != NULL ? node->logical_index : NUMA_INDEX_NONE;
}

/* The i-th object of a type; hwloc guarantees it exists for i below the type's count. */
static hwloc_obj_t
load_obj(hwloc_topology_t t, hwloc_obj_type_t type, int i)
{
	hwloc_obj_t obj = hwloc_get_obj_by_type(t, type, (unsigned)i);

	ASSERT(obj != NULL);
	return obj;
}

static int
load_packages_nodes(hwloc_topology_t t, struct numa_topology *topo)
{
	int packages = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
	int nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
	int rc;

	if (packages <= 0) {
		/* No package level (some VMs, "numa:4 core:2" synthetics): one package, OS index 0.
		 */
		rc = numa_topology_add_package(topo, 0, NULL);
		if (rc != 0) {
			return rc;
		}
	}
	for (int i = 0; i < packages; i++) {
		hwloc_obj_t obj = load_obj(t, HWLOC_OBJ_PACKAGE, i);
		/* Some platforms cannot number packages; the logical index is unique anyway. */
		unsigned os =
			obj->os_index != HWLOC_UNKNOWN_INDEX ? obj->os_index : obj->logical_index;

		rc = numa_topology_add_package(topo, os, NULL);
		if (rc != 0) {
			return rc;
		}
	}
	for (int i = 0; i < nodes; i++) {
		hwloc_obj_t obj = load_obj(t, HWLOC_OBJ_NUMANODE, i);

		rc = numa_topology_add_node(topo, obj->os_index, load_package_of(t, obj),
					    (uint64_t)obj->attr->numanode.local_memory, NULL);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* Adds the core of PU obj when hwloc has a core level; otherwise makes the PU its own core. */
static int
load_core_of(hwloc_topology_t t, hwloc_obj_t pu, struct numa_topology *topo, uint32_t *core_index)
{
	hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);

	if (core != NULL) {
		/* Cores were added in logical order, so the logical index is the model index. */
		*core_index = core->logical_index;
		return 0;
	}
	return numa_topology_add_core(topo, pu->os_index, load_package_of(t, pu),
				      load_node_of(t, pu), core_index);
}

static int
load_cores_pus(hwloc_topology_t t, struct numa_topology *topo)
{
	int cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
	int pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
	uint32_t core_index;
	int rc;

	for (int i = 0; i < cores; i++) {
		hwloc_obj_t obj = load_obj(t, HWLOC_OBJ_CORE, i);

		rc = numa_topology_add_core(topo, obj->os_index, load_package_of(t, obj),
					    load_node_of(t, obj), NULL);
		if (rc != 0) {
			return rc;
		}
	}
	for (int i = 0; i < pus; i++) {
		hwloc_obj_t obj = load_obj(t, HWLOC_OBJ_PU, i);

		rc = load_core_of(t, obj, topo, &core_index);
		if (rc != 0) {
			return rc;
		}
		rc = numa_topology_add_pu(topo, obj->os_index, core_index, NULL);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int
numa_hwloc_load(const struct numa_hwloc *hw, struct numa_topology *topo, const char **reason)
{
	int rc;

	ASSERT(hw != NULL);
	ASSERT(topo != NULL);
	numa_topology_init(topo);
	rc = load_packages_nodes(hw->topology, topo);
	if (rc == 0) {
		rc = load_cores_pus(hw->topology, topo);
	}
	if (rc == 0 && numa_topology_validate(topo, reason) != 0) {
		rc = -EINVAL;
	} else if (rc == -ENOBUFS) {
		set_reason(reason,
			   "the machine has more objects than the model holds (NUMA_*_MAX)");
	} else if (rc == -ERANGE) {
		set_reason(reason, "a cpu or NUMA node number is above NUMA_OS_INDEX_MAX");
	} else if (rc != 0) {
		set_reason(reason, "hwloc reported a topology shape the model cannot express");
		rc = -EINVAL;
	}
	if (rc != 0) {
		numa_topology_init(topo);
	}
	return rc;
}

/* Copies a finite hwloc cpu set into the model's set. */
static int
allowed_copy(hwloc_const_bitmap_t set, struct numa_cpuset *allowed)
{
	int rc;

	if (hwloc_bitmap_weight(set) < 0) {
		return -ERANGE; /* infinite set: cannot be a real list of cpus */
	}
	for (int id = hwloc_bitmap_first(set); id >= 0; id = hwloc_bitmap_next(set, id)) {
		rc = numa_cpuset_add(allowed, (uint32_t)id);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int
numa_hwloc_allowed(const struct numa_hwloc *hw, struct numa_cpuset *allowed)
{
	hwloc_bitmap_t set;
	hwloc_bitmap_t bound;
	int rc = 0;

	ASSERT(hw != NULL);
	ASSERT(allowed != NULL);
	numa_cpuset_zero(allowed);
	set = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(hw->topology));
	bound = hwloc_bitmap_alloc();
	if (set == NULL || bound == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	/* A real process may have been started under taskset: honour its affinity too. */
	if (hw->is_real && hwloc_get_cpubind(hw->topology, bound, HWLOC_CPUBIND_PROCESS) == 0) {
		hwloc_bitmap_and(set, set, bound);
	}
	rc = allowed_copy(set, allowed);
	if (rc != 0) {
		numa_cpuset_zero(allowed);
	}
out_free:
	hwloc_bitmap_free(bound);
	hwloc_bitmap_free(set);
	return rc;
}

int
numa_hwloc_bind_thread(struct numa_hwloc *hw, uint32_t pu_os_index)
{
	hwloc_obj_t pu;

	ASSERT(hw != NULL);
	if (!hw->is_real) {
		return -ENOTSUP; /* the synthetic backend would report success without binding */
	}
	pu = hwloc_get_pu_obj_by_os_index(hw->topology, pu_os_index);
	if (pu == NULL) {
		return -ENOENT;
	}
	if (hwloc_set_cpubind(hw->topology, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
		return hwloc_errno_code(errno);
	}
	return 0;
}

int
numa_hwloc_mem_alloc(struct numa_hwloc *hw, size_t size, uint32_t node_os_index, void **out,
		     bool *is_bound)
{
	const struct hwloc_topology_support *support;
	hwloc_obj_t node;
	void *ptr;

	ASSERT(hw != NULL);
	ASSERT(out != NULL);
	ASSERT(is_bound != NULL);
	*out = NULL;
	*is_bound = false;
	if (size == 0) {
		return -EINVAL;
	}
	node = hwloc_get_numanode_obj_by_os_index(hw->topology, node_os_index);
	if (node == NULL) {
		return -ENOENT;
	}
	support = hwloc_topology_get_support(hw->topology);
	if (hw->is_real && support->membind->alloc_membind) {
		/* STRICT: without it hwloc may hand back unbound memory and still succeed. */
		ptr = hwloc_alloc_membind(hw->topology, size, node->nodeset, HWLOC_MEMBIND_BIND,
					  HWLOC_MEMBIND_BYNODESET | HWLOC_MEMBIND_STRICT);
		if (ptr != NULL) {
			*out = ptr;
			*is_bound = true;
			return 0;
		}
		if (errno == ENOMEM) {
			return -ENOMEM;
		}
	}
	/*
	 * Fallback for every other failure to bind: ENOSYS (no support), EXDEV (cannot enforce),
	 * EPERM (containers whose seccomp profile forbids mbind without CAP_SYS_NICE). The node
	 * runs with unbound memory rather than not at all; *is_bound says so.
	 */
	ptr = hwloc_alloc(hw->topology, size);
	if (ptr == NULL) {
		return -ENOMEM;
	}
	*out = ptr;
	return 0;
}

void
numa_hwloc_mem_free(struct numa_hwloc *hw, void *ptr, size_t size)
{
	int rc;

	ASSERT(hw != NULL);
	if (ptr == NULL) {
		return;
	}
	rc = hwloc_free(hw->topology, ptr, size);
	ASSERT(rc == 0); /* munmap fails only for a pointer or size we did not hand out */
}

int
numa_hwloc_mem_location(struct numa_hwloc *hw, const void *ptr, size_t size,
			uint32_t *node_os_index)
{
	hwloc_bitmap_t set;
	int weight;
	int rc = 0;

	ASSERT(hw != NULL);
	ASSERT(node_os_index != NULL);
	if (!hw->is_real ||
	    !hwloc_topology_get_support(hw->topology)->membind->get_area_memlocation) {
		return -ENOTSUP;
	}
	set = hwloc_bitmap_alloc();
	if (set == NULL) {
		return -ENOMEM;
	}
	if (hwloc_get_area_memlocation(hw->topology, ptr, size, set, HWLOC_MEMBIND_BYNODESET) !=
	    0) {
		rc = hwloc_errno_code(errno);
		goto out_free;
	}
	weight = hwloc_bitmap_weight(set);
	if (weight == 0) {
		rc = -ENOENT;
	} else if (weight != 1) {
		rc = -EXDEV;
	} else {
		*node_os_index = (uint32_t)hwloc_bitmap_first(set);
	}
out_free:
	hwloc_bitmap_free(set);
	return rc;
}
