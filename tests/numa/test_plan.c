/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the planner follows the rules written in numa/plan.h on every machine shape the node
 * meets: this project's 2-core VM, two packages, four NUMA nodes, SMT siblings numbered the
 * Linux way, several node processes on one host, restricted cpu sets, oversubscription, and
 * instance placement; and it rejects every impossible request with its reason. Method: topologies
 * built by hand or with the uniform builder, exact expected PUs per lcore, and properties
 * (disjoint shares, balanced lcores) checked over ranges of process counts.
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

#include "numa/plan.h"

struct fixture {
	struct numa_topology topo;
	struct numa_cpuset allowed;
	struct numa_plan_config cfg;
	struct numa_plan plan;
	const char *reason;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	assert_non_null(f);
	numa_topology_init(&f->topo);
	numa_cpuset_zero(&f->allowed);
	f->cfg.worker_count = 1;
	f->cfg.process_count = 1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	test_free(*state);
	return 0;
}

/* A regular machine; every PU allowed. */
static void
machine_uniform(struct fixture *f, uint32_t packages, uint32_t nodes, uint32_t cores, uint32_t pus)
{
	struct numa_uniform_shape shape = {packages, nodes, cores, pus, 1ull << 30};

	assert_int_equal(numa_topology_build_uniform(&f->topo, &shape), 0);
	for (uint32_t i = 0; i < f->topo.pu_count; i++) {
		assert_int_equal(numa_cpuset_add(&f->allowed, f->topo.pus[i].os_index), 0);
	}
}

/* This project's build machine: 1 package, 1 NUMA node, 2 cores, cpus 0 and 1. */
static void
machine_this(struct fixture *f)
{
	machine_uniform(f, 1, 1, 2, 1);
}

/*
 * SMT the way Linux numbers it: core c has cpus c and c + cores (siblings far apart), added in
 * hwloc's logical order (both PUs of core 0 first).
 */
static void
machine_smt_linux(struct fixture *f, uint32_t cores)
{
	uint32_t core;

	assert_int_equal(numa_topology_add_package(&f->topo, 0, NULL), 0);
	assert_int_equal(numa_topology_add_node(&f->topo, 0, 0, 1ull << 30, NULL), 0);
	for (uint32_t c = 0; c < cores; c++) {
		assert_int_equal(numa_topology_add_core(&f->topo, c, 0, 0, &core), 0);
		assert_int_equal(numa_topology_add_pu(&f->topo, c, core, NULL), 0);
		assert_int_equal(numa_topology_add_pu(&f->topo, c + cores, core, NULL), 0);
		assert_int_equal(numa_cpuset_add(&f->allowed, c), 0);
		assert_int_equal(numa_cpuset_add(&f->allowed, c + cores), 0);
	}
}

static void
plan_ok(struct fixture *f)
{
	f->reason = NULL;
	assert_int_equal(numa_plan_init(&f->plan, &f->topo, &f->allowed, &f->cfg, &f->reason), 0);
	assert_null(f->reason);
}

static void
plan_fails(struct fixture *f, const char *expected_reason)
{
	struct numa_plan zero;

	memset(&zero, 0, sizeof(zero));
	f->reason = NULL;
	assert_int_equal(numa_plan_init(&f->plan, &f->topo, &f->allowed, &f->cfg, &f->reason),
			 -EINVAL);
	assert_non_null(f->reason);
	assert_string_equal(f->reason, expected_reason);
	assert_memory_equal(&f->plan, &zero, sizeof(zero));
	/* The reason pointer is optional. */
	assert_int_equal(numa_plan_init(&f->plan, &f->topo, &f->allowed, &f->cfg, NULL), -EINVAL);
}

/* cpus[0] is the control lcore's cpu, cpus[1 + i] worker i's. */
static void
assert_cpus(const struct fixture *f, const uint32_t *cpus, uint32_t count)
{
	assert_int_equal(f->plan.worker_count + 1, count);
	assert_int_equal(f->plan.control.pu_os_index, cpus[0]);
	for (uint32_t w = 0; w < f->plan.worker_count; w++) {
		assert_int_equal(f->plan.workers[w].pu_os_index, cpus[1 + w]);
	}
}

static void
assert_mempool(const struct fixture *f, uint32_t index, uint32_t node_os, uint32_t lcores)
{
	assert_true(index < f->plan.mempool_count);
	assert_int_equal(f->plan.mempools[index].node_os_index, node_os);
	assert_int_equal(f->plan.mempools[index].lcore_count, lcores);
}

/* Every lcore's node and mempool agree with the topology. */
static void
assert_lcores_consistent(const struct fixture *f)
{
	const struct numa_lcore *all[NUMA_WORKER_MAX + 1];

	all[0] = &f->plan.control;
	for (uint32_t w = 0; w < f->plan.worker_count; w++) {
		all[1 + w] = &f->plan.workers[w];
	}
	for (uint32_t i = 0; i <= f->plan.worker_count; i++) {
		const struct numa_lcore *l = all[i];

		assert_int_equal(f->topo.pus[l->pu_index].os_index, l->pu_os_index);
		assert_int_equal(f->topo.pus[l->pu_index].core_index, l->core_index);
		assert_int_equal(numa_topology_pu_node(&f->topo, l->pu_index), l->node_index);
		assert_int_equal(f->topo.nodes[l->node_index].os_index, l->node_os_index);
		assert_true(l->mempool_index < f->plan.mempool_count);
		assert_int_equal(f->plan.mempools[l->mempool_index].node_index, l->node_index);
	}
}

static void
test_plan_this_machine_puts_control_and_worker_on_separate_cores(void **state)
{
	struct fixture *f = *state;
	static const uint32_t cpus[] = {0, 1};

	machine_this(f);
	plan_ok(f);
	assert_cpus(f, cpus, 2);
	assert_false(f->plan.is_oversubscribed);
	assert_false(f->plan.shares_pus_with_processes);
	assert_int_equal(f->plan.share_pu_count, 2);
	assert_int_equal(f->plan.mempool_count, 1);
	assert_mempool(f, 0, 0, 2);
	assert_lcores_consistent(f);
}

static void
test_plan_two_packages_alternate_workers_across_nodes(void **state)
{
	struct fixture *f = *state;
	static const uint32_t three[] = {0, 4, 1, 5};
	static const uint32_t seven[] = {0, 4, 1, 5, 2, 6, 3, 7};

	machine_uniform(f, 2, 1, 4, 1);
	f->cfg.worker_count = 3;
	plan_ok(f);
	assert_cpus(f, three, 4);
	assert_int_equal(f->plan.workers[0].node_os_index, 1);
	assert_int_equal(f->plan.workers[1].node_os_index, 0);
	assert_int_equal(f->plan.mempool_count, 2);
	assert_mempool(f, 0, 0, 2);
	assert_mempool(f, 1, 1, 2);
	assert_lcores_consistent(f);

	f->cfg.worker_count = 7;
	plan_ok(f);
	assert_cpus(f, seven, 8);
	assert_false(f->plan.is_oversubscribed);
	assert_mempool(f, 0, 0, 4);
	assert_mempool(f, 1, 1, 4);
	assert_lcores_consistent(f);
}

static void
test_plan_four_nodes_give_each_node_a_worker_before_any_gets_two(void **state)
{
	struct fixture *f = *state;
	static const uint32_t three[] = {0, 2, 4, 6};
	static const uint32_t seven[] = {0, 2, 4, 6, 1, 3, 5, 7};

	machine_uniform(f, 1, 4, 2, 1);
	f->cfg.worker_count = 3;
	plan_ok(f);
	assert_cpus(f, three, 4);
	assert_int_equal(f->plan.mempool_count, 4);
	for (uint32_t n = 0; n < 4; n++) {
		assert_mempool(f, n, n, 1);
	}
	f->cfg.worker_count = 7;
	plan_ok(f);
	assert_cpus(f, seven, 8);
	for (uint32_t n = 0; n < 4; n++) {
		assert_mempool(f, n, n, 2);
	}
	assert_lcores_consistent(f);
}

static void
test_plan_smt_uses_siblings_only_after_every_core_has_an_lcore(void **state)
{
	struct fixture *f = *state;
	static const uint32_t four[] = {0, 1, 2, 3};
	static const uint32_t six[] = {0, 1, 2, 3, 4, 5};

	machine_smt_linux(f, 4);
	f->cfg.worker_count = 3;
	plan_ok(f);
	assert_cpus(f, four, 4);
	for (uint32_t w = 0; w < 3; w++) {
		assert_int_not_equal(f->plan.workers[w].core_index, f->plan.control.core_index);
	}
	f->cfg.worker_count = 5;
	plan_ok(f);
	assert_cpus(f, six, 6);
	/* Worker 3 is cpu 4: the control lcore's SMT sibling, the first sibling to be used. */
	assert_int_equal(f->plan.workers[3].core_index, f->plan.control.core_index);
	assert_int_equal(f->plan.share_pu_count, 8);
	assert_false(f->plan.is_oversubscribed);
	assert_lcores_consistent(f);
}

static void
test_plan_uses_the_model_index_and_the_os_number_of_nodes(void **state)
{
	struct fixture *f = *state;
	uint32_t core;

	/* Two NUMA nodes numbered 2 and 5 by the kernel (holes happen after hot-unplug). */
	assert_int_equal(numa_topology_add_package(&f->topo, 0, NULL), 0);
	assert_int_equal(numa_topology_add_node(&f->topo, 2, 0, 1, NULL), 0);
	assert_int_equal(numa_topology_add_node(&f->topo, 5, 0, 1, NULL), 0);
	for (uint32_t n = 0; n < 2; n++) {
		assert_int_equal(numa_topology_add_core(&f->topo, n, 0, n, &core), 0);
		assert_int_equal(numa_topology_add_pu(&f->topo, 10 + n, core, NULL), 0);
		assert_int_equal(numa_cpuset_add(&f->allowed, 10 + n), 0);
	}
	plan_ok(f);
	assert_int_equal(f->plan.workers[0].pu_os_index, 11);
	assert_int_equal(f->plan.workers[0].node_index, 1);
	assert_int_equal(f->plan.workers[0].node_os_index, 5);
	assert_int_equal(f->plan.workers[0].mempool_index, 1);
	assert_mempool(f, 0, 2, 1);
	assert_mempool(f, 1, 5, 1);
	assert_lcores_consistent(f);
}

static void
test_plan_stays_inside_the_allowed_cpus(void **state)
{
	struct fixture *f = *state;
	static const uint32_t cpus[] = {4, 5};

	machine_uniform(f, 2, 1, 4, 1);
	numa_cpuset_zero(&f->allowed);
	assert_int_equal(numa_cpuset_add(&f->allowed, 4), 0);
	assert_int_equal(numa_cpuset_add(&f->allowed, 5), 0);
	assert_int_equal(numa_cpuset_add(&f->allowed, 900), 0); /* not in the topology: ignored */
	plan_ok(f);
	assert_cpus(f, cpus, 2);
	assert_int_equal(f->plan.share_pu_count, 2);
	assert_int_equal(f->plan.mempool_count, 1);
	assert_mempool(f, 0, 1, 2);
	assert_lcores_consistent(f);
}

static void
test_plan_oversubscription_spreads_lcores_evenly_over_pus(void **state)
{
	struct fixture *f = *state;
	static const uint32_t cpus[] = {0, 1, 0, 1};

	machine_this(f);
	f->cfg.worker_count = 3;
	f->cfg.allow_oversubscribe = true;
	plan_ok(f);
	assert_cpus(f, cpus, 4);
	assert_true(f->plan.is_oversubscribed);
	assert_false(f->plan.shares_pus_with_processes);
	assert_mempool(f, 0, 0, 4);
	assert_lcores_consistent(f);

	f->cfg.worker_count = NUMA_WORKER_MAX;
	plan_ok(f);
	for (uint32_t w = 0; w < NUMA_WORKER_MAX; w++) {
		assert_int_equal(f->plan.workers[w].pu_os_index, (1 + w) % 2);
	}
}

static void
test_plan_fills_a_large_machine_one_lcore_per_pu(void **state)
{
	struct fixture *f = *state;
	struct numa_cpuset used;

	/* 2 packages x 2 nodes x 16 cores x 2 PUs = 128 PUs for 128 lcores. */
	machine_uniform(f, 2, 2, 16, 2);
	f->cfg.worker_count = NUMA_WORKER_MAX;
	plan_ok(f);
	assert_false(f->plan.is_oversubscribed);
	numa_cpuset_zero(&used);
	assert_int_equal(numa_cpuset_add(&used, f->plan.control.pu_os_index), 0);
	for (uint32_t w = 0; w < NUMA_WORKER_MAX; w++) {
		assert_false(numa_cpuset_has(&used, f->plan.workers[w].pu_os_index));
		assert_int_equal(numa_cpuset_add(&used, f->plan.workers[w].pu_os_index), 0);
	}
	/* 64 cores, so the first 63 workers are on cores other than each other's and control's. */
	assert_int_equal(f->plan.workers[62].pu_os_index % 2, 0);
	assert_int_equal(f->plan.workers[63].pu_os_index % 2, 1);
	for (uint32_t m = 0; m < 4; m++) {
		assert_mempool(f, m, m, 32);
	}
	assert_lcores_consistent(f);
}

static void
test_plan_processes_on_one_host_take_cores_round_robin(void **state)
{
	struct fixture *f = *state;
	static const uint32_t proc0[] = {0, 1, 2, 3};
	static const uint32_t proc1[] = {4, 5, 6, 7};
	static const uint32_t proc2_of_4[] = {1, 3};

	/* Core order is 0 4 1 5 2 6 3 7, so two processes each get one whole NUMA node. */
	machine_uniform(f, 2, 1, 4, 1);
	f->cfg.worker_count = 3;
	f->cfg.process_count = 2;
	f->cfg.process_index = 0;
	plan_ok(f);
	assert_cpus(f, proc0, 4);
	assert_int_equal(f->plan.mempool_count, 1);
	assert_mempool(f, 0, 0, 4);
	f->cfg.process_index = 1;
	plan_ok(f);
	assert_cpus(f, proc1, 4);
	assert_mempool(f, 0, 1, 4);

	f->cfg.worker_count = 1;
	f->cfg.process_count = 4;
	f->cfg.process_index = 2;
	plan_ok(f);
	assert_cpus(f, proc2_of_4, 2);
	assert_false(f->plan.is_oversubscribed);
}

static void
test_plan_process_shares_are_disjoint_and_cover_the_host(void **state)
{
	struct fixture *f = *state;

	machine_uniform(f, 2, 1, 4, 1);
	f->cfg.allow_oversubscribe = true;
	for (uint32_t n = 1; n <= 8; n++) {
		struct numa_cpuset used;
		uint32_t covered = 0;

		numa_cpuset_zero(&used);
		f->cfg.process_count = n;
		for (uint32_t p = 0; p < n; p++) {
			f->cfg.process_index = p;
			plan_ok(f);
			/* No other process has any of this process's PUs. */
			assert_false(numa_cpuset_has(&used, f->plan.control.pu_os_index));
			assert_false(numa_cpuset_has(&used, f->plan.workers[0].pu_os_index));
			assert_false(f->plan.shares_pus_with_processes);
			assert_int_equal(f->plan.is_oversubscribed, f->plan.share_pu_count < 2);
			covered += f->plan.share_pu_count;
			assert_int_equal(numa_cpuset_add(&used, f->plan.control.pu_os_index), 0);
			assert_int_equal(numa_cpuset_add(&used, f->plan.workers[0].pu_os_index), 0);
		}
		assert_int_equal(covered, 8);
	}
}

static void
test_plan_three_processes_on_two_cores_share_a_pu_round_robin(void **state)
{
	struct fixture *f = *state;
	static const uint32_t expected_cpu[] = {0, 1, 0};
	static const bool expected_shared[] = {true, false, true};

	machine_this(f);
	f->cfg.process_count = 3;
	f->cfg.allow_oversubscribe = true;
	for (uint32_t p = 0; p < 3; p++) {
		f->cfg.process_index = p;
		plan_ok(f);
		assert_int_equal(f->plan.control.pu_os_index, expected_cpu[p]);
		assert_int_equal(f->plan.workers[0].pu_os_index, expected_cpu[p]);
		assert_int_equal(f->plan.share_pu_count, 1);
		assert_int_equal(f->plan.shares_pus_with_processes, expected_shared[p]);
		assert_true(f->plan.is_oversubscribed);
	}
	f->cfg.allow_oversubscribe = false;
	f->cfg.process_index = 0;
	plan_fails(f, "more node processes than PUs on this host (allow oversubscription to share "
		      "PUs)");
	f->cfg.process_index = 1;
	plan_fails(f, "more lcores than PUs available to this process (allow oversubscription to "
		      "share PUs)");
}

static void
test_plan_more_processes_than_cores_use_smt_siblings_before_sharing(void **state)
{
	struct fixture *f = *state;
	static const uint32_t expected_cpu[] = {0, 1, 2, 3};

	machine_smt_linux(f, 2);
	f->cfg.process_count = 4;
	f->cfg.allow_oversubscribe = true;
	for (uint32_t p = 0; p < 4; p++) {
		f->cfg.process_index = p;
		plan_ok(f);
		assert_int_equal(f->plan.control.pu_os_index, expected_cpu[p]);
		assert_false(f->plan.shares_pus_with_processes);
	}
}

static void
test_plan_rejects_each_impossible_request_with_its_reason(void **state)
{
	struct fixture *f = *state;

	machine_this(f);
	f->cfg.worker_count = 0;
	plan_fails(f, "at least one worker lcore is needed: slice instances run only on workers");
	f->cfg.worker_count = NUMA_WORKER_MAX + 1;
	f->cfg.allow_oversubscribe = true;
	plan_fails(f, "more worker lcores than NUMA_WORKER_MAX");
	f->cfg.allow_oversubscribe = false;
	f->cfg.worker_count = 2;
	plan_fails(f, "more lcores than PUs available to this process (allow oversubscription to "
		      "share PUs)");
	f->cfg.worker_count = 1;
	f->cfg.process_count = 0;
	plan_fails(f, "process count must be at least 1");
	f->cfg.process_count = 2;
	f->cfg.process_index = 2;
	plan_fails(f, "process index must be below the process count");
	f->cfg.process_count = 1;
	f->cfg.process_index = 0;

	numa_cpuset_zero(&f->allowed);
	plan_fails(f, "the allowed cpu set is empty");
	assert_int_equal(numa_cpuset_add(&f->allowed, 7), 0);
	plan_fails(f, "the allowed cpu set contains no PU of the topology");
	assert_int_equal(numa_cpuset_add(&f->allowed, 0), 0);
	assert_int_equal(numa_cpuset_add(&f->allowed, 1), 0);
	plan_ok(f);

	f->topo.pus[1].core_index = 9;
	plan_fails(f, "PU refers to a missing core");
	numa_topology_init(&f->topo);
	plan_fails(f, "topology has no PU");
}

static void
place(struct fixture *f, uint32_t expected_worker)
{
	struct numa_placement at;
	const struct numa_lcore *worker = &f->plan.workers[expected_worker];

	memset(&at, 0xff, sizeof(at));
	assert_int_equal(numa_plan_place_instance(&f->plan, &at), 0);
	assert_int_equal(at.worker_index, expected_worker);
	assert_int_equal(at.pu_os_index, worker->pu_os_index);
	assert_int_equal(at.node_index, worker->node_index);
	assert_int_equal(at.node_os_index, worker->node_os_index);
	assert_int_equal(at.mempool_index, worker->mempool_index);
}

static void
test_place_instance_picks_the_least_loaded_worker_ties_to_lowest(void **state)
{
	struct fixture *f = *state;
	static const uint32_t order[] = {0, 1, 2, 0, 1, 2, 0};

	machine_uniform(f, 2, 1, 4, 1);
	f->cfg.worker_count = 3;
	plan_ok(f);
	assert_int_equal(f->plan.instances_per_worker_max, NUMA_INSTANCES_PER_WORKER_DEFAULT);
	for (uint32_t i = 0; i < AE_ARRAY_SIZE(order); i++) {
		place(f, order[i]);
	}
	assert_int_equal(f->plan.instance_counts[0], 3);
	assert_int_equal(f->plan.instance_counts[1], 2);
	assert_int_equal(f->plan.instance_counts[2], 2);
	/* Instances on worker 0 land on NUMA node 1: the worker's node, not the control's. */
	assert_int_equal(f->plan.workers[0].node_os_index, 1);

	numa_plan_release_instance(&f->plan, 2);
	numa_plan_release_instance(&f->plan, 2);
	place(f, 2);
	place(f, 2);
	place(f, 1);
	assert_int_equal(f->plan.instance_counts[2], 2);
	assert_int_equal(f->plan.instance_counts[1], 3);
}

static void
test_place_instance_stops_at_the_per_worker_limit(void **state)
{
	struct fixture *f = *state;
	struct numa_placement at;

	machine_uniform(f, 1, 1, 3, 1);
	f->cfg.worker_count = 2;
	f->cfg.instances_per_worker_max = 2;
	plan_ok(f);
	place(f, 0);
	place(f, 1);
	place(f, 0);
	place(f, 1);
	assert_int_equal(numa_plan_place_instance(&f->plan, &at), -ENOBUFS);
	assert_int_equal(f->plan.instance_counts[0], 2);
	assert_int_equal(f->plan.instance_counts[1], 2);
	numa_plan_release_instance(&f->plan, 1);
	place(f, 1);
	assert_int_equal(numa_plan_place_instance(&f->plan, &at), -ENOBUFS);
}

static void
test_plan_dump_names_every_lcore_and_mempool(void **state)
{
	struct fixture *f = *state;
	char *text = NULL;
	size_t size = 0;
	FILE *out;

	machine_uniform(f, 2, 1, 4, 1);
	f->cfg.worker_count = 2;
	plan_ok(f);
	place(f, 0);
	out = open_memstream(&text, &size);
	assert_non_null(out);
	numa_plan_dump(&f->plan, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(text, "plan workers=2 share_pus=8 oversubscribed=0"));
	assert_non_null(strstr(text, "lcore role=control index=0 cpu=0 core=0 node=0"));
	assert_non_null(strstr(text, "lcore role=worker index=0 cpu=4 core=4 node=1 node_os=1 "
				     "mempool=1 instances=1\n"));
	assert_non_null(strstr(text, "mempool=1 node=1 node_os=1 lcores=1\n"));
	free(text);
}

#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_plan_this_machine_puts_control_and_worker_on_separate_cores),
		CASE(test_plan_two_packages_alternate_workers_across_nodes),
		CASE(test_plan_four_nodes_give_each_node_a_worker_before_any_gets_two),
		CASE(test_plan_smt_uses_siblings_only_after_every_core_has_an_lcore),
		CASE(test_plan_uses_the_model_index_and_the_os_number_of_nodes),
		CASE(test_plan_stays_inside_the_allowed_cpus),
		CASE(test_plan_oversubscription_spreads_lcores_evenly_over_pus),
		CASE(test_plan_fills_a_large_machine_one_lcore_per_pu),
		CASE(test_plan_processes_on_one_host_take_cores_round_robin),
		CASE(test_plan_process_shares_are_disjoint_and_cover_the_host),
		CASE(test_plan_three_processes_on_two_cores_share_a_pu_round_robin),
		CASE(test_plan_more_processes_than_cores_use_smt_siblings_before_sharing),
		CASE(test_plan_rejects_each_impossible_request_with_its_reason),
		CASE(test_place_instance_picks_the_least_loaded_worker_ties_to_lowest),
		CASE(test_place_instance_stops_at_the_per_worker_limit),
		CASE(test_plan_dump_names_every_lcore_and_mempool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
