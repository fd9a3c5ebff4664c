/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the topology model holds exactly what its builders were given, refuses what it cannot
 * hold (full arrays, large OS indexes, duplicates, dangling references) without changing, and
 * its validator names every broken invariant. Method: hand-built topologies, the uniform
 * builder checked object by object against hwloc's synthetic numbering, and corrupted copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa/topology.h"

struct fixture {
	struct numa_topology topo;
	const char *reason;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	assert_non_null(f);
	numa_topology_init(&f->topo);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	test_free(*state);
	return 0;
}

static void
build_uniform(struct fixture *f, uint32_t packages, uint32_t nodes, uint32_t cores, uint32_t pus)
{
	struct numa_uniform_shape shape = {packages, nodes, cores, pus, 1ull << 30};

	assert_int_equal(numa_topology_build_uniform(&f->topo, &shape), 0);
	assert_int_equal(numa_topology_validate(&f->topo, NULL), 0);
}

static void
assert_invalid(struct fixture *f, const char *expected_reason)
{
	f->reason = NULL;
	assert_int_equal(numa_topology_validate(&f->topo, &f->reason), -EINVAL);
	assert_non_null(f->reason);
	assert_string_equal(f->reason, expected_reason);
}

static void
test_cpuset_adds_counts_and_rejects_indexes_it_cannot_hold(void **state)
{
	struct numa_cpuset set;

	(void)state;
	numa_cpuset_zero(&set);
	assert_int_equal(numa_cpuset_count(&set), 0);
	assert_int_equal(numa_cpuset_add(&set, 0), 0);
	assert_int_equal(numa_cpuset_add(&set, 63), 0);
	assert_int_equal(numa_cpuset_add(&set, 64), 0);
	assert_int_equal(numa_cpuset_add(&set, NUMA_OS_INDEX_MAX - 1), 0);
	assert_int_equal(numa_cpuset_add(&set, 64), 0); /* adding twice is idempotent */
	assert_int_equal(numa_cpuset_count(&set), 4);
	assert_true(numa_cpuset_has(&set, 63));
	assert_true(numa_cpuset_has(&set, 64));
	assert_false(numa_cpuset_has(&set, 65));
	assert_int_equal(numa_cpuset_add(&set, NUMA_OS_INDEX_MAX), -ERANGE);
	assert_false(numa_cpuset_has(&set, NUMA_OS_INDEX_MAX));
	assert_false(numa_cpuset_has(&set, UINT32_MAX));
	assert_int_equal(numa_cpuset_count(&set), 4);
}

static void
test_builders_link_objects_by_model_index(void **state)
{
	struct fixture *f = *state;
	uint32_t package;
	uint32_t node;
	uint32_t core;
	uint32_t pu;

	assert_int_equal(numa_topology_add_package(&f->topo, 5, &package), 0);
	assert_int_equal(numa_topology_add_node(&f->topo, 3, package, 4096, &node), 0);
	assert_int_equal(numa_topology_add_core(&f->topo, 9, package, node, &core), 0);
	assert_int_equal(numa_topology_add_pu(&f->topo, 17, core, &pu), 0);
	assert_int_equal(package, 0);
	assert_int_equal(node, 0);
	assert_int_equal(core, 0);
	assert_int_equal(pu, 0);
	assert_int_equal(f->topo.packages[0].os_index, 5);
	assert_int_equal(f->topo.nodes[0].os_index, 3);
	assert_int_equal(f->topo.nodes[0].memory_size, 4096);
	assert_int_equal(f->topo.cores[0].os_index, 9);
	assert_int_equal(f->topo.pus[0].os_index, 17);
	assert_int_equal(numa_topology_pu_node(&f->topo, 0), 0);
	assert_int_equal(numa_topology_validate(&f->topo, NULL), 0);
}

static void
test_builders_reject_bad_input_and_leave_the_topology_unchanged(void **state)
{
	struct fixture *f = *state;
	struct numa_topology before;

	assert_int_equal(numa_topology_add_package(&f->topo, 0, NULL), 0);
	assert_int_equal(numa_topology_add_node(&f->topo, 0, 0, 1, NULL), 0);
	assert_int_equal(numa_topology_add_core(&f->topo, 0, 0, 0, NULL), 0);
	assert_int_equal(numa_topology_add_pu(&f->topo, 0, 0, NULL), 0);
	memcpy(&before, &f->topo, sizeof(before));

	assert_int_equal(numa_topology_add_package(&f->topo, 0, NULL), -EEXIST);
	assert_int_equal(numa_topology_add_node(&f->topo, 0, 0, 1, NULL), -EEXIST);
	assert_int_equal(numa_topology_add_node(&f->topo, NUMA_OS_INDEX_MAX, 0, 1, NULL), -ERANGE);
	assert_int_equal(numa_topology_add_node(&f->topo, 1, 1, 1, NULL), -EINVAL);
	assert_int_equal(numa_topology_add_core(&f->topo, 1, 1, 0, NULL), -EINVAL);
	assert_int_equal(numa_topology_add_core(&f->topo, 1, 0, 1, NULL), -EINVAL);
	assert_int_equal(numa_topology_add_pu(&f->topo, 0, 0, NULL), -EEXIST);
	assert_int_equal(numa_topology_add_pu(&f->topo, 1, 1, NULL), -EINVAL);
	assert_int_equal(numa_topology_add_pu(&f->topo, NUMA_OS_INDEX_MAX, 0, NULL), -ERANGE);
	assert_memory_equal(&before, &f->topo, sizeof(before));

	/* Core OS indexes repeat across packages on Linux, and a node may span packages. */
	assert_int_equal(numa_topology_add_core(&f->topo, 0, 0, 0, NULL), 0);
	assert_int_equal(numa_topology_add_node(&f->topo, 1, NUMA_INDEX_NONE, 1, NULL), 0);
}

static void
test_builders_report_a_full_model_as_enobufs(void **state)
{
	struct fixture *f = *state;

	for (uint32_t i = 0; i < NUMA_PACKAGE_MAX; i++) {
		assert_int_equal(numa_topology_add_package(&f->topo, i, NULL), 0);
	}
	assert_int_equal(numa_topology_add_package(&f->topo, NUMA_PACKAGE_MAX, NULL), -ENOBUFS);
	for (uint32_t i = 0; i < NUMA_NODE_MAX; i++) {
		assert_int_equal(numa_topology_add_node(&f->topo, i, 0, 1, NULL), 0);
	}
	assert_int_equal(numa_topology_add_node(&f->topo, NUMA_NODE_MAX, 0, 1, NULL), -ENOBUFS);
	for (uint32_t i = 0; i < NUMA_CORE_MAX; i++) {
		assert_int_equal(numa_topology_add_core(&f->topo, i, 0, i % NUMA_NODE_MAX, NULL),
				 0);
	}
	assert_int_equal(numa_topology_add_core(&f->topo, 0, 0, 0, NULL), -ENOBUFS);
	for (uint32_t i = 0; i < NUMA_PU_MAX; i++) {
		assert_int_equal(numa_topology_add_pu(&f->topo, i, i % NUMA_CORE_MAX, NULL), 0);
	}
	assert_int_equal(numa_topology_add_pu(&f->topo, 0, 0, NULL), -ENOBUFS);
	assert_int_equal(numa_topology_validate(&f->topo, NULL), 0);
}

static void
test_uniform_build_numbers_objects_like_hwloc_synthetic(void **state)
{
	struct fixture *f = *state;

	build_uniform(f, 2, 2, 2, 2);
	assert_int_equal(f->topo.package_count, 2);
	assert_int_equal(f->topo.node_count, 4);
	assert_int_equal(f->topo.core_count, 8);
	assert_int_equal(f->topo.pu_count, 16);
	for (uint32_t n = 0; n < 4; n++) {
		assert_int_equal(f->topo.nodes[n].os_index, n);
		assert_int_equal(f->topo.nodes[n].package_index, n / 2);
		assert_int_equal(f->topo.nodes[n].memory_size, 1ull << 30);
	}
	for (uint32_t c = 0; c < 8; c++) {
		assert_int_equal(f->topo.cores[c].os_index, c);
		assert_int_equal(f->topo.cores[c].node_index, c / 2);
		assert_int_equal(f->topo.cores[c].package_index, c / 4);
	}
	/* SMT siblings are adjacent: cpu 2c and 2c+1 share core c. */
	for (uint32_t p = 0; p < 16; p++) {
		assert_int_equal(f->topo.pus[p].os_index, p);
		assert_int_equal(f->topo.pus[p].core_index, p / 2);
		assert_int_equal(numa_topology_pu_node(&f->topo, p), p / 4);
	}
}

static void
test_uniform_build_rejects_zero_counts_and_oversized_shapes(void **state)
{
	struct fixture *f = *state;
	struct numa_uniform_shape zero = {2, 1, 0, 1, 0};
	struct numa_uniform_shape huge = {2, 2, 200, 2, 0}; /* 800 cores > NUMA_CORE_MAX */

	build_uniform(f, 1, 1, 1, 1);
	assert_int_equal(numa_topology_build_uniform(&f->topo, &zero), -EINVAL);
	assert_int_equal(numa_topology_build_uniform(&f->topo, &huge), -ENOBUFS);
	assert_int_equal(f->topo.pu_count, 0);
	assert_int_equal(f->topo.core_count, 0);
	assert_int_equal(f->topo.package_count, 0);
}

static void
test_validate_names_each_broken_invariant(void **state)
{
	struct fixture *f = *state;
	struct numa_topology good;

	build_uniform(f, 2, 1, 2, 1);
	memcpy(&good, &f->topo, sizeof(good));

	f->topo.pu_count = NUMA_PU_MAX + 1;
	assert_invalid(f, "topology counts exceed the model's limits");
	f->topo.pu_count = 0;
	assert_invalid(f, "topology has no PU");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.nodes[1].os_index = NUMA_OS_INDEX_MAX;
	assert_invalid(f, "NUMA node OS index too large for the model");
	f->topo.nodes[1].os_index = 0;
	assert_invalid(f, "two NUMA nodes share an OS index");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.nodes[0].package_index = 2;
	assert_invalid(f, "NUMA node refers to a missing package");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.packages[1].os_index = 0;
	assert_invalid(f, "two packages share an OS index");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.cores[3].package_index = 2;
	assert_invalid(f, "core refers to a missing package");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.cores[3].node_index = 2;
	assert_invalid(f, "core refers to a missing NUMA node");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.pus[3].core_index = 4;
	assert_invalid(f, "PU refers to a missing core");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.pus[3].os_index = 1;
	assert_invalid(f, "two PUs share an OS index");
	memcpy(&f->topo, &good, sizeof(good));
	f->topo.pus[3].os_index = NUMA_OS_INDEX_MAX;
	assert_invalid(f, "PU OS index too large for the model");
}

static void
test_dump_lists_every_node_and_pu(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	build_uniform(f, 1, 2, 1, 2);
	numa_topology_dump(&f->topo, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(text, "topology packages=1 nodes=2 cores=2 pus=4\n"));
	assert_non_null(strstr(text, "node=1 os=1 package=0 memory=1073741824\n"));
	assert_non_null(strstr(text, "pu=3 os=3 core=1 node=1 package=0\n"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuset_adds_counts_and_rejects_indexes_it_cannot_hold),
		cmocka_unit_test_setup_teardown(test_builders_link_objects_by_model_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_builders_reject_bad_input_and_leave_the_topology_unchanged, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_builders_report_a_full_model_as_enobufs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_uniform_build_numbers_objects_like_hwloc_synthetic, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_uniform_build_rejects_zero_counts_and_oversized_shapes, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_validate_names_each_broken_invariant, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dump_lists_every_node_and_pu, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
