/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the hwloc adapter turns real and synthetic topologies into the model exactly, really
 * pins threads, really binds memory, and refuses to pretend on synthetic topologies. Method:
 * the real machine (sane counts, a plan from it, binding checked with sched_getcpu(), memory
 * location checked with hwloc after touching the pages) and synthetic descriptions with several
 * NUMA nodes compared byte for byte with the uniform builder. Suite numa-hw, not unit: it
 * changes the calling thread's affinity and needs the kernel's NUMA calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "numa/numa_hwloc.h"
#include "numa/plan.h"

struct fixture {
	struct numa_hwloc *hw;
	struct numa_topology topo;
	struct numa_topology expected;
	struct numa_cpuset allowed;
	struct numa_plan plan;
	const char *reason;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	numa_hwloc_destroy(f->hw);
	test_free(f);
	return 0;
}

static void
open_topology(struct fixture *f, const char *synthetic)
{
	f->reason = NULL;
	assert_int_equal(numa_hwloc_create(&f->hw, synthetic, &f->reason), 0);
	assert_non_null(f->hw);
	assert_int_equal(numa_hwloc_load(f->hw, &f->topo, &f->reason), 0);
	assert_int_equal(numa_topology_validate(&f->topo, NULL), 0);
	assert_int_equal(numa_hwloc_allowed(f->hw, &f->allowed), 0);
}

/* The synthetic description loads into exactly the model the uniform builder makes. */
static void
assert_synthetic_is_uniform(struct fixture *f, const char *synthetic, uint32_t packages,
			    uint32_t nodes, uint32_t cores, uint32_t pus)
{
	struct numa_uniform_shape shape = {packages, nodes, cores, pus, 1ull << 30};

	open_topology(f, synthetic);
	assert_false(numa_hwloc_is_real(f->hw));
	assert_int_equal(numa_topology_build_uniform(&f->expected, &shape), 0);
	assert_memory_equal(&f->topo, &f->expected, sizeof(f->topo));
	assert_int_equal(numa_cpuset_count(&f->allowed), f->topo.pu_count);
}

static void
test_real_topology_loads_and_is_sane(void **state)
{
	struct fixture *f = *state;

	open_topology(f, NULL);
	assert_true(numa_hwloc_is_real(f->hw));
	assert_true(f->topo.package_count >= 1);
	assert_true(f->topo.node_count >= 1);
	assert_true(f->topo.core_count >= 1);
	assert_true(f->topo.pu_count >= f->topo.core_count);
	assert_true(f->topo.nodes[0].memory_size > 0);
	numa_topology_dump(&f->topo, stderr);
}

static void
test_real_allowed_cpus_are_pus_of_the_topology_and_can_be_planned(void **state)
{
	struct fixture *f = *state;
	struct numa_plan_config cfg = {
		.worker_count = 1, .process_count = 1, .allow_oversubscribe = true};
	uint32_t in_topology = 0;

	open_topology(f, NULL);
	assert_true(numa_cpuset_count(&f->allowed) >= 1);
	for (uint32_t i = 0; i < f->topo.pu_count; i++) {
		in_topology += numa_cpuset_has(&f->allowed, f->topo.pus[i].os_index);
	}
	assert_int_equal(in_topology, numa_cpuset_count(&f->allowed));
	assert_int_equal(numa_plan_init(&f->plan, &f->topo, &f->allowed, &cfg, &f->reason), 0);
	assert_true(numa_cpuset_has(&f->allowed, f->plan.control.pu_os_index));
	numa_plan_dump(&f->plan, stderr);
}

static void
test_real_binding_moves_the_thread_to_each_allowed_cpu(void **state)
{
	struct fixture *f = *state;
	uint32_t bound = 0;

	open_topology(f, NULL);
	for (uint32_t i = 0; i < f->topo.pu_count; i++) {
		uint32_t cpu = f->topo.pus[i].os_index;

		if (!numa_cpuset_has(&f->allowed, cpu)) {
			continue;
		}
		assert_int_equal(numa_hwloc_bind_thread(f->hw, cpu), 0);
		/* Pinned to one cpu, the thread can only be running there. */
		assert_int_equal(sched_getcpu(), (int)cpu);
		bound++;
	}
	assert_true(bound >= 1);
	assert_int_equal(numa_hwloc_bind_thread(f->hw, NUMA_OS_INDEX_MAX + 7), -ENOENT);
}

static void
test_real_membind_puts_touched_pages_on_the_node(void **state)
{
	struct fixture *f = *state;
	const size_t size = 4u << 20;
	uint32_t node_os = UINT32_MAX;
	bool is_bound = false;
	void *mem = NULL;

	open_topology(f, NULL);
	for (uint32_t n = 0; n < f->topo.node_count; n++) {
		uint32_t want = f->topo.nodes[n].os_index;

		assert_int_equal(numa_hwloc_mem_alloc(f->hw, size, want, &mem, &is_bound), 0);
		assert_non_null(mem);
		if (!is_bound) {
			numa_hwloc_mem_free(f->hw, mem, size);
			printf("# memory binding refused by this kernel or container\n");
			skip();
		}
		assert_int_equal(numa_hwloc_mem_location(f->hw, mem, size, &node_os), -ENOENT);
		memset(mem, 0x5a, size);
		assert_int_equal(numa_hwloc_mem_location(f->hw, mem, size, &node_os), 0);
		assert_int_equal(node_os, want);
		numa_hwloc_mem_free(f->hw, mem, size);
	}
	assert_int_equal(numa_hwloc_mem_alloc(f->hw, 0, 0, &mem, &is_bound), -EINVAL);
	assert_int_equal(numa_hwloc_mem_alloc(f->hw, size, NUMA_OS_INDEX_MAX, &mem, &is_bound),
			 -ENOENT);
	assert_null(mem);
}

static void
test_synthetic_two_packages_load_as_the_uniform_model(void **state)
{
	struct fixture *f = *state;
	struct numa_plan_config cfg = {.worker_count = 3, .process_count = 1};

	assert_synthetic_is_uniform(f, "pack:2 numa:1 core:4 pu:1", 2, 1, 4, 1);
	assert_int_equal(numa_plan_init(&f->plan, &f->topo, &f->allowed, &cfg, &f->reason), 0);
	assert_int_equal(f->plan.mempool_count, 2);
	assert_int_equal(f->plan.workers[0].node_os_index, 1);
}

static void
test_synthetic_four_nodes_with_smt_load_as_the_uniform_model(void **state)
{
	struct fixture *f = *state;
	struct numa_plan_config cfg = {.worker_count = 3, .process_count = 1};

	/* No package level in the description: the model gets one package. */
	assert_synthetic_is_uniform(f, "numa:4 core:2 pu:2", 1, 4, 2, 2);
	assert_int_equal(numa_plan_init(&f->plan, &f->topo, &f->allowed, &cfg, &f->reason), 0);
	assert_int_equal(f->plan.mempool_count, 4);
}

static void
test_synthetic_nodes_inside_packages_load_as_the_uniform_model(void **state)
{
	struct fixture *f = *state;

	assert_synthetic_is_uniform(f, "pack:2 numa:2 core:2 pu:2", 2, 2, 2, 2);
}

static void
test_synthetic_machine_wide_memory_belongs_to_no_package(void **state)
{
	struct fixture *f = *state;

	open_topology(f, "pack:2 [numa(memory=2GB)] core:2 pu:1");
	assert_int_equal(f->topo.package_count, 2);
	assert_int_equal(f->topo.node_count, 2);
	assert_int_equal(f->topo.nodes[1].memory_size, 2000000000ull);
	assert_int_equal(f->topo.nodes[1].package_index, 1);
	numa_hwloc_destroy(f->hw);
	f->hw = NULL;

	open_topology(f, "pack:2 core:2 pu:1");
	assert_int_equal(f->topo.node_count, 1);
	assert_int_equal(f->topo.nodes[0].package_index, NUMA_INDEX_NONE);
	assert_int_equal(f->topo.cores[3].package_index, 1);
	assert_int_equal(f->topo.cores[3].node_index, 0);
}

static void
test_synthetic_description_that_does_not_parse_is_einval(void **state)
{
	struct fixture *f = *state;

	f->reason = NULL;
	assert_int_equal(numa_hwloc_create(&f->hw, "pack:two core:oops", &f->reason), -EINVAL);
	assert_null(f->hw);
	assert_string_equal(f->reason, "the synthetic topology description does not parse");
}

static void
test_synthetic_topology_refuses_binding_and_falls_back_for_memory(void **state)
{
	struct fixture *f = *state;
	const size_t size = 64u << 10;
	uint32_t node_os = UINT32_MAX;
	bool is_bound = true;
	unsigned char *mem = NULL;

	open_topology(f, "pack:2 numa:1 core:2 pu:1");
	assert_int_equal(numa_hwloc_bind_thread(f->hw, 1), -ENOTSUP);
	assert_int_equal(numa_hwloc_mem_alloc(f->hw, size, 1, (void **)&mem, &is_bound), 0);
	assert_false(is_bound);
	assert_non_null(mem);
	memset(mem, 0xa5, size);
	assert_int_equal(mem[size - 1], 0xa5);
	assert_int_equal(numa_hwloc_mem_location(f->hw, mem, size, &node_os), -ENOTSUP);
	numa_hwloc_mem_free(f->hw, mem, size);
	assert_int_equal(numa_hwloc_mem_alloc(f->hw, size, 2, (void **)&mem, &is_bound), -ENOENT);
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_real_topology_loads_and_is_sane),
		CASE(test_real_allowed_cpus_are_pus_of_the_topology_and_can_be_planned),
		CASE(test_real_binding_moves_the_thread_to_each_allowed_cpu),
		CASE(test_real_membind_puts_touched_pages_on_the_node),
		CASE(test_synthetic_two_packages_load_as_the_uniform_model),
		CASE(test_synthetic_four_nodes_with_smt_load_as_the_uniform_model),
		CASE(test_synthetic_nodes_inside_packages_load_as_the_uniform_model),
		CASE(test_synthetic_machine_wide_memory_belongs_to_no_package),
		CASE(test_synthetic_description_that_does_not_parse_is_einval),
		CASE(test_synthetic_topology_refuses_binding_and_falls_back_for_memory),
	};

	/* Line-buffered so a sanitizer abort does not swallow the TAP lines already printed. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
