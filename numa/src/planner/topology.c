/* SPDX-License-Identifier: Apache-2.0 */
#include "numa/topology.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "base/panic.h"

int
numa_cpuset_add(struct numa_cpuset *set, uint32_t os_index)
{
	ASSERT(set != NULL);
	if (os_index >= NUMA_OS_INDEX_MAX) {
		return -ERANGE;
	}
	set->words[os_index / 64u] |= (uint64_t)1 << (os_index % 64u);
	ASSERT(numa_cpuset_has(set, os_index));
	return 0;
}

uint32_t
numa_cpuset_count(const struct numa_cpuset *set)
{
	uint32_t count = 0;

	ASSERT(set != NULL);
	for (uint32_t i = 0; i < AE_ARRAY_SIZE(set->words); i++) {
		count += (uint32_t)__builtin_popcountll(set->words[i]);
	}
	ASSERT(count <= NUMA_OS_INDEX_MAX);
	return count;
}

void
numa_topology_init(struct numa_topology *topo)
{
	ASSERT(topo != NULL);
	memset(topo, 0, sizeof(*topo));
}

static void
set_index(uint32_t *index_out, uint32_t index)
{
	if (index_out != NULL) {
		*index_out = index;
	}
}

int
numa_topology_add_package(struct numa_topology *topo, uint32_t os_index, uint32_t *index_out)
{
	ASSERT(topo != NULL);
	ASSERT(topo->package_count <= NUMA_PACKAGE_MAX);
	if (topo->package_count == NUMA_PACKAGE_MAX) {
		return -ENOBUFS;
	}
	for (uint32_t i = 0; i < topo->package_count; i++) {
		if (topo->packages[i].os_index == os_index) {
			return -EEXIST;
		}
	}
	topo->packages[topo->package_count].os_index = os_index;
	set_index(index_out, topo->package_count);
	topo->package_count++;
	return 0;
}

int
numa_topology_add_node(struct numa_topology *topo, uint32_t os_index, uint32_t package_index,
		       uint64_t memory_size, uint32_t *index_out)
{
	struct numa_node *node;

	ASSERT(topo != NULL);
	ASSERT(topo->node_count <= NUMA_NODE_MAX);
	if (topo->node_count == NUMA_NODE_MAX) {
		return -ENOBUFS;
	}
	if (os_index >= NUMA_OS_INDEX_MAX) {
		return -ERANGE;
	}
	if (package_index != NUMA_INDEX_NONE && package_index >= topo->package_count) {
		return -EINVAL;
	}
	for (uint32_t i = 0; i < topo->node_count; i++) {
		if (topo->nodes[i].os_index == os_index) {
			return -EEXIST;
		}
	}
	node = &topo->nodes[topo->node_count];
	node->os_index = os_index;
	node->package_index = package_index;
	node->memory_size = memory_size;
	set_index(index_out, topo->node_count);
	topo->node_count++;
	return 0;
}

int
numa_topology_add_core(struct numa_topology *topo, uint32_t os_index, uint32_t package_index,
		       uint32_t node_index, uint32_t *index_out)
{
	struct numa_core *core;

	ASSERT(topo != NULL);
	ASSERT(topo->core_count <= NUMA_CORE_MAX);
	if (topo->core_count == NUMA_CORE_MAX) {
		return -ENOBUFS;
	}
	if (package_index >= topo->package_count || node_index >= topo->node_count) {
		return -EINVAL;
	}
	/* Core OS indexes are not checked for uniqueness: Linux numbers cores per package. */
	core = &topo->cores[topo->core_count];
	core->os_index = os_index;
	core->package_index = package_index;
	core->node_index = node_index;
	set_index(index_out, topo->core_count);
	topo->core_count++;
	return 0;
}

int
numa_topology_add_pu(struct numa_topology *topo, uint32_t os_index, uint32_t core_index,
		     uint32_t *index_out)
{
	ASSERT(topo != NULL);
	ASSERT(topo->pu_count <= NUMA_PU_MAX);
	if (topo->pu_count == NUMA_PU_MAX) {
		return -ENOBUFS;
	}
	if (os_index >= NUMA_OS_INDEX_MAX) {
		return -ERANGE;
	}
	if (core_index >= topo->core_count) {
		return -EINVAL;
	}
	for (uint32_t i = 0; i < topo->pu_count; i++) {
		if (topo->pus[i].os_index == os_index) {
			return -EEXIST;
		}
	}
	topo->pus[topo->pu_count].os_index = os_index;
	topo->pus[topo->pu_count].core_index = core_index;
	set_index(index_out, topo->pu_count);
	topo->pu_count++;
	return 0;
}

/* Adds the cores of one NUMA node and their PUs; the counters carry the next OS indexes. */
static int
uniform_add_cores(struct numa_topology *topo, const struct numa_uniform_shape *shape,
		  uint32_t package_index, uint32_t node_index, uint32_t *core_os, uint32_t *pu_os)
{
	uint32_t core_index;
	int rc;

	for (uint32_t c = 0; c < shape->cores_per_node; c++) {
		rc = numa_topology_add_core(topo, (*core_os)++, package_index, node_index,
					    &core_index);
		if (rc != 0) {
			return rc;
		}
		for (uint32_t t = 0; t < shape->pus_per_core; t++) {
			rc = numa_topology_add_pu(topo, (*pu_os)++, core_index, NULL);
			if (rc != 0) {
				return rc;
			}
		}
	}
	return 0;
}

static int
uniform_add_package(struct numa_topology *topo, const struct numa_uniform_shape *shape,
		    uint32_t package_os, uint32_t *node_os, uint32_t *core_os, uint32_t *pu_os)
{
	uint32_t package_index;
	uint32_t node_index;
	int rc;

	rc = numa_topology_add_package(topo, package_os, &package_index);
	if (rc != 0) {
		return rc;
	}
	for (uint32_t n = 0; n < shape->nodes_per_package; n++) {
		rc = numa_topology_add_node(topo, (*node_os)++, package_index,
					    shape->memory_per_node, &node_index);
		if (rc != 0) {
			return rc;
		}
		rc = uniform_add_cores(topo, shape, package_index, node_index, core_os, pu_os);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int
numa_topology_build_uniform(struct numa_topology *topo, const struct numa_uniform_shape *shape)
{
	uint32_t node_os = 0;
	uint32_t core_os = 0;
	uint32_t pu_os = 0;
	int rc;

	ASSERT(topo != NULL);
	ASSERT(shape != NULL);
	numa_topology_init(topo);
	if (shape->package_count == 0 || shape->nodes_per_package == 0 ||
	    shape->cores_per_node == 0 || shape->pus_per_core == 0) {
		return -EINVAL;
	}
	for (uint32_t p = 0; p < shape->package_count; p++) {
		rc = uniform_add_package(topo, shape, p, &node_os, &core_os, &pu_os);
		if (rc != 0) {
			/* Too many OS indexes surface as -ERANGE; to the caller it is "too big". */
			numa_topology_init(topo);
			return -ENOBUFS;
		}
	}
	return 0;
}

static int
validate_fail(const char **reason, const char *what)
{
	if (reason != NULL) {
		*reason = what;
	}
	return -EINVAL;
}

static int
validate_nodes(const struct numa_topology *topo, const char **reason)
{
	for (uint32_t i = 0; i < topo->node_count; i++) {
		const struct numa_node *node = &topo->nodes[i];

		if (node->os_index >= NUMA_OS_INDEX_MAX) {
			return validate_fail(reason, "NUMA node OS index too large for the model");
		}
		if (node->package_index != NUMA_INDEX_NONE &&
		    node->package_index >= topo->package_count) {
			return validate_fail(reason, "NUMA node refers to a missing package");
		}
		for (uint32_t j = 0; j < i; j++) {
			if (topo->nodes[j].os_index == node->os_index) {
				return validate_fail(reason, "two NUMA nodes share an OS index");
			}
		}
	}
	for (uint32_t i = 0; i < topo->package_count; i++) {
		for (uint32_t j = 0; j < i; j++) {
			if (topo->packages[j].os_index == topo->packages[i].os_index) {
				return validate_fail(reason, "two packages share an OS index");
			}
		}
	}
	return 0;
}

static int
validate_cores_pus(const struct numa_topology *topo, const char **reason)
{
	struct numa_cpuset seen;

	for (uint32_t i = 0; i < topo->core_count; i++) {
		if (topo->cores[i].package_index >= topo->package_count) {
			return validate_fail(reason, "core refers to a missing package");
		}
		if (topo->cores[i].node_index >= topo->node_count) {
			return validate_fail(reason, "core refers to a missing NUMA node");
		}
	}
	numa_cpuset_zero(&seen);
	for (uint32_t i = 0; i < topo->pu_count; i++) {
		const struct numa_pu *pu = &topo->pus[i];

		if (pu->core_index >= topo->core_count) {
			return validate_fail(reason, "PU refers to a missing core");
		}
		if (numa_cpuset_has(&seen, pu->os_index)) {
			return validate_fail(reason, "two PUs share an OS index");
		}
		if (numa_cpuset_add(&seen, pu->os_index) != 0) {
			return validate_fail(reason, "PU OS index too large for the model");
		}
	}
	return 0;
}

int
numa_topology_validate(const struct numa_topology *topo, const char **reason)
{
	ASSERT(topo != NULL);
	if (topo->package_count > NUMA_PACKAGE_MAX || topo->node_count > NUMA_NODE_MAX ||
	    topo->core_count > NUMA_CORE_MAX || topo->pu_count > NUMA_PU_MAX) {
		return validate_fail(reason, "topology counts exceed the model's limits");
	}
	if (topo->pu_count == 0) {
		return validate_fail(reason, "topology has no PU");
	}
	if (validate_nodes(topo, reason) != 0) {
		return -EINVAL;
	}
	return validate_cores_pus(topo, reason);
}

uint32_t
numa_topology_pu_node(const struct numa_topology *topo, uint32_t pu_index)
{
	uint32_t core_index;

	ASSERT(topo != NULL);
	ASSERT(pu_index < topo->pu_count);
	core_index = topo->pus[pu_index].core_index;
	ASSERT(core_index < topo->core_count);
	return topo->cores[core_index].node_index;
}

void
numa_topology_dump(const struct numa_topology *topo, FILE *out)
{
	ASSERT(topo != NULL);
	ASSERT(out != NULL);
	fprintf(out,
		"topology packages=%" PRIu32 " nodes=%" PRIu32 " cores=%" PRIu32 " pus=%" PRIu32
		"\n",
		topo->package_count, topo->node_count, topo->core_count, topo->pu_count);
	for (uint32_t i = 0; i < topo->node_count; i++) {
		const struct numa_node *n = &topo->nodes[i];

		fprintf(out,
			"node=%" PRIu32 " os=%" PRIu32 " package=%" PRId64 " memory=%" PRIu64 "\n",
			i, n->os_index,
			n->package_index == NUMA_INDEX_NONE ? (int64_t)-1
							    : (int64_t)n->package_index,
			n->memory_size);
	}
	for (uint32_t i = 0; i < topo->pu_count; i++) {
		const struct numa_pu *pu = &topo->pus[i];
		const struct numa_core *core;

		ASSERT(pu->core_index < topo->core_count);
		core = &topo->cores[pu->core_index];
		fprintf(out,
			"pu=%" PRIu32 " os=%" PRIu32 " core=%" PRIu32 " node=%" PRIu32
			" package=%" PRIu32 "\n",
			i, pu->os_index, pu->core_index, core->node_index, core->package_index);
	}
}
