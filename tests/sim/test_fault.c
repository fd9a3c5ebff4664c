/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: fault names parse exactly, and fault plans are deterministic, well formed (sorted,
 * inside the fault period, every crash and pause undone unless it is the one crash-stop, node
 * faults within f) and cover every kind of episode; the env faults (storage-fail, clock-skew)
 * are drawn within their bounds, only when selected, without changing the rest of the plan, and
 * reach each node's env (rate during the fault period only, the clock for the whole run).
 * Method: parse fixed strings; draw plans for many seeds and node counts and replay each plan's
 * actions on a small model of the cluster; hand a plan to real env_sim instances.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/env_sim.h"
#include "sim/sim_fault.h"

#define PERIOD (300 * UINT64_C(1000000))

struct fixture {
	struct sim_fault_plan plan;
	struct sim_fault_plan other;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static void
make(struct sim_fault_plan *plan, uint64_t seed, uint32_t n, uint32_t mask)
{
	struct base_prng prng;

	base_prng_init(&prng, seed);
	sim_fault_plan_make(plan, &prng, n, mask, PERIOD);
}

static void
test_sim_fault_parse_accepts_names_all_and_none(void **state)
{
	uint32_t mask;
	const char *bad;

	(void)state;
	assert_int_equal(sim_fault_parse("all", &mask, &bad), 0);
	assert_int_equal(mask, SIM_FAULT_ALL);
	assert_int_equal(sim_fault_parse("none", &mask, &bad), 0);
	assert_int_equal(mask, 0);
	assert_int_equal(sim_fault_parse("loss,pause,corrupt", &mask, &bad), 0);
	assert_int_equal(mask, SIM_FAULT_LOSS | SIM_FAULT_PAUSE | SIM_FAULT_CORRUPT);
	assert_int_equal(sim_fault_parse("partition,crash,restart,dup,reorder", &mask, &bad), 0);
	assert_int_equal(mask, SIM_FAULT_PARTITION | SIM_FAULT_CRASH | SIM_FAULT_RESTART |
				       SIM_FAULT_DUP | SIM_FAULT_REORDER);
	assert_int_equal(sim_fault_parse("storage-fail,clock-skew", &mask, &bad), 0);
	assert_int_equal(mask, SIM_FAULT_STORAGE_FAIL | SIM_FAULT_CLOCK_SKEW);
	assert_int_equal(sim_fault_parse("all", &mask, &bad), 0);
	assert_true((mask & SIM_FAULT_STORAGE_FAIL) && (mask & SIM_FAULT_CLOCK_SKEW));
}

static void
test_sim_fault_parse_rejects_unknown_and_empty_names(void **state)
{
	uint32_t mask;
	const char *bad;

	(void)state;
	assert_int_equal(sim_fault_parse("loss,fire", &mask, &bad), -EINVAL);
	assert_string_equal(bad, "fire");
	assert_int_equal(sim_fault_parse("", &mask, &bad), -EINVAL);
	assert_int_equal(sim_fault_parse("loss,", &mask, &bad), -EINVAL);
	assert_int_equal(sim_fault_parse("Loss", &mask, &bad), -EINVAL);
	assert_int_equal(sim_fault_parse("lossy", &mask, &bad), -EINVAL);
	assert_int_equal(sim_fault_parse("clock", &mask, &bad), -EINVAL);
	assert_int_equal(sim_fault_parse("storage-fail,", &mask, &bad), -EINVAL);
}

static void
test_sim_fault_names_round_trip(void **state)
{
	char names[SIM_FAULT_NAMES_SIZE];
	uint32_t mask;
	const char *bad;

	(void)state;
	for (uint32_t m = 0; m <= SIM_FAULT_ALL; m++) {
		sim_fault_names(m, names);
		assert_int_equal(sim_fault_parse(names, &mask, &bad), 0);
		assert_int_equal(mask, m);
	}
	sim_fault_names(0, names);
	assert_string_equal(names, "none");
}

static void
test_sim_fault_plan_without_faults_is_empty_and_clean(void **state)
{
	struct fixture *f = *state;

	make(&f->plan, 1, 3, 0);
	assert_int_equal(f->plan.action_count, 0);
	assert_int_equal(f->plan.net_faulty.loss_ppm, 0);
	assert_int_equal(f->plan.net_faulty.delay_min_ns, f->plan.net_faulty.delay_max_ns);
	assert_memory_equal(&f->plan.net_faulty, &f->plan.net_healthy, sizeof(f->plan.net_faulty));
	assert_int_equal(f->plan.heal_ns, PERIOD);
}

static void
test_sim_fault_plan_is_a_function_of_the_seed(void **state)
{
	struct fixture *f = *state;

	make(&f->plan, 77, 5, SIM_FAULT_ALL);
	make(&f->other, 77, 5, SIM_FAULT_ALL);
	assert_memory_equal(&f->plan, &f->other, sizeof(f->plan));
	make(&f->other, 78, 5, SIM_FAULT_ALL);
	assert_true(memcmp(&f->plan, &f->other, sizeof(f->plan)) != 0);
}

/*
 * Replays a plan on a model: checks order, bounds, undo of every fault, and the f budget (which
 * crash-all, and only it, exceeds on purpose: every node down at once).
 */
static void
check_plan(const struct sim_fault_plan *p, uint32_t n)
{
	int is_crash_all = (p->mask & SIM_FAULT_CRASH_ALL) != 0;
	uint8_t crashed[SIM_NODES_MAX] = {0};
	uint8_t paused[SIM_NODES_MAX] = {0};
	uint32_t f = (n - 1) / 2;
	uint32_t stops = 0;

	for (uint32_t i = 0; i < p->action_count; i++) {
		const struct sim_fault_action *a = &p->actions[i];
		uint32_t down = 0;

		assert_true(i == 0 || p->actions[i - 1].time_ns <= a->time_ns);
		assert_true(a->time_ns <= p->heal_ns);
		assert_true(a->node < n);
		if (a->kind == SIM_FA_CRASH) {
			crashed[a->node] = 1;
			stops += a->is_permanent;
		} else if (a->kind == SIM_FA_RESTART) {
			/* crash-all may overlap an episode on the same node: the world ignores a
			 * crash of a crashed node and a restart of a running one. */
			assert_true(crashed[a->node] || is_crash_all);
			crashed[a->node] = 0;
		} else if (a->kind == SIM_FA_PAUSE) {
			paused[a->node] = 1;
		} else if (a->kind == SIM_FA_RESUME) {
			paused[a->node] = 0;
		} else if (a->kind == SIM_FA_BLOCK) {
			assert_true(a->peer < n && a->peer != a->node);
		}
		for (uint32_t k = 0; k < n; k++) {
			down += crashed[k];
		}
		assert_true(down <= f || is_crash_all);
	}
	assert_true(stops <= 1);
	for (uint32_t k = 0; k < n; k++) {
		assert_int_equal(paused[k], 0);
	}
}

static void
test_sim_fault_plans_are_well_formed_for_every_node_count(void **state)
{
	struct fixture *f = *state;

	for (uint32_t n = 1; n <= SIM_NODES_MAX; n++) {
		for (uint64_t seed = 0; seed < 300; seed++) {
			make(&f->plan, seed, n, SIM_FAULT_ALL);
			check_plan(&f->plan, n);
			assert_in_range(f->plan.net_faulty.loss_ppm, 0, 300000);
			assert_in_range(f->plan.net_faulty.dup_ppm, 0, 50000);
			assert_in_range(f->plan.net_faulty.corrupt_ppm, 1000, 20000);
			assert_true(f->plan.net_healthy.loss_ppm == 0 &&
				    f->plan.net_healthy.tail_ppm == 0);
		}
	}
}

static void
test_sim_fault_plans_cover_every_episode_kind(void **state)
{
	struct fixture *f = *state;
	uint32_t seen[8] = {0};
	uint32_t stops = 0;

	for (uint64_t seed = 0; seed < 200; seed++) {
		make(&f->plan, seed, 5, SIM_FAULT_ALL);
		for (uint32_t i = 0; i < f->plan.action_count; i++) {
			seen[f->plan.actions[i].kind]++;
			stops += f->plan.actions[i].is_permanent;
		}
	}
	assert_true(seen[SIM_FA_BLOCK] > 0);
	assert_true(seen[SIM_FA_UNBLOCK_ALL] > 0);
	assert_true(seen[SIM_FA_CRASH] > stops);
	assert_true(seen[SIM_FA_RESTART] > 0);
	assert_true(seen[SIM_FA_PAUSE] > 0);
	assert_int_equal(stops, 200);
}

static void
test_sim_fault_plan_honours_the_selection(void **state)
{
	struct fixture *f = *state;

	for (uint64_t seed = 0; seed < 100; seed++) {
		make(&f->plan, seed, 3, SIM_FAULT_PAUSE);
		for (uint32_t i = 0; i < f->plan.action_count; i++) {
			uint32_t k = f->plan.actions[i].kind;

			assert_true(k == SIM_FA_PAUSE || k == SIM_FA_RESUME);
		}
		assert_int_equal(f->plan.net_faulty.loss_ppm, 0);
		make(&f->plan, seed, 3, SIM_FAULT_LOSS | SIM_FAULT_CORRUPT);
		assert_int_equal(f->plan.action_count, 0);
		assert_true(f->plan.net_faulty.corrupt_ppm > 0);
		assert_int_equal(f->plan.net_faulty.dup_ppm, 0);
	}
}

static void
test_sim_fault_env_faults_are_drawn_within_bounds_only_when_selected(void **state)
{
	struct fixture *f = *state;
	static const struct sim_fault_clock zero;
	const uint32_t env = SIM_FAULT_STORAGE_FAIL | SIM_FAULT_CLOCK_SKEW;

	for (uint64_t seed = 0; seed < 200; seed++) {
		uint32_t n = (uint32_t)(seed % SIM_NODES_MAX) + 1;
		int has_skew = 0;

		make(&f->plan, seed, n, env);
		assert_in_range(f->plan.storage_fail_ppm, SIM_FAULT_STORAGE_FAIL_PPM_MIN,
				SIM_FAULT_STORAGE_FAIL_PPM_MAX);
		assert_int_equal(f->plan.action_count, 0);
		for (uint32_t i = 0; i < SIM_NODES_MAX; i++) {
			const struct sim_fault_clock *c = &f->plan.clocks[i];

			if (i >= n) {
				assert_memory_equal(c, &zero, sizeof(zero));
				continue;
			}
			assert_true(c->offset_ns <= SIM_FAULT_CLOCK_OFFSET_NS_MAX);
			assert_true(c->drift_ppm >= -SIM_FAULT_CLOCK_DRIFT_PPM_MAX &&
				    c->drift_ppm <= SIM_FAULT_CLOCK_DRIFT_PPM_MAX);
			has_skew |= c->offset_ns != 0 || c->drift_ppm != 0;
		}
		assert_true(has_skew);
		make(&f->plan, seed, n, SIM_FAULT_ALL & ~env);
		assert_int_equal(f->plan.storage_fail_ppm, 0);
		for (uint32_t i = 0; i < SIM_NODES_MAX; i++) {
			assert_memory_equal(&f->plan.clocks[i], &zero, sizeof(zero));
		}
	}
}

/*
 * Adding storage-fail, clock-skew and crash-all keeps every other draw of the plan (old seeds
 * replay); crash-all only adds its own actions.
 */
static void
test_sim_fault_env_faults_leave_the_rest_of_the_plan_unchanged(void **state)
{
	struct fixture *f = *state;
	const uint32_t env = SIM_FAULT_STORAGE_FAIL | SIM_FAULT_CLOCK_SKEW | SIM_FAULT_CRASH_ALL;

	for (uint64_t seed = 0; seed < 100; seed++) {
		make(&f->plan, seed, 5, SIM_FAULT_ALL & ~env);
		make(&f->other, seed, 5, SIM_FAULT_ALL & ~(uint32_t)SIM_FAULT_CRASH_ALL);
		assert_int_equal(f->plan.action_count, f->other.action_count);
		assert_memory_equal(f->plan.actions, f->other.actions,
				    f->plan.action_count * sizeof(f->plan.actions[0]));
		assert_memory_equal(&f->plan.net_faulty, &f->other.net_faulty,
				    sizeof(f->plan.net_faulty));
		assert_int_equal(f->plan.episode_count, f->other.episode_count);
	}
}

/* The envs of a 3-node world, enough to hand them a plan. */
struct env_world {
	struct sim_queue q;
	struct sim_net net;
	struct base_prng prng;
	struct env_sim env[3];
	void *mem[5];
};

static void
env_world_init(struct env_world *w)
{
	struct sim_net_config ncfg = {
		.node_count = 3, .small_count = 16, .large_count = 4, .inbox_max = 16};
	struct env_sim_config ecfg = {.objects_max = 1,
				      .object_size_max = 64,
				      .storage_ops_max = 4,
				      .put_ns_max = 1,
				      .sync_ns_max = 1};
	struct base_log log = {0};

	w->mem[0] = malloc(sim_queue_size(64));
	w->mem[1] = malloc(sim_net_size(&ncfg));
	for (int i = 0; i < 3; i++) {
		w->mem[2 + i] = malloc(env_sim_size(&ecfg));
	}
	for (int i = 0; i < 5; i++) {
		assert_non_null(w->mem[i]);
	}
	sim_queue_init(&w->q, w->mem[0], 64);
	base_prng_init(&w->prng, 1);
	sim_net_init(&w->net, w->mem[1], &ncfg, &w->q, &w->prng);
	for (uint32_t i = 0; i < 3; i++) {
		env_sim_init(&w->env[i], w->mem[2 + i], &ecfg, i, &w->net, &w->q, &w->prng, &log);
	}
}

static void
test_sim_fault_plan_env_sets_each_nodes_clock_and_the_rate_until_the_heal(void **state)
{
	struct fixture *f = *state;
	struct env_world *w = calloc(1, sizeof(*w));
	const uint64_t t = 1000000000ULL;

	assert_non_null(w);
	env_world_init(w);
	make(&f->plan, 5, 3, SIM_FAULT_STORAGE_FAIL | SIM_FAULT_CLOCK_SKEW);
	for (uint32_t i = 0; i < 3; i++) {
		const struct sim_fault_clock *c = &f->plan.clocks[i];
		uint64_t expect = c->offset_ns + (uint64_t)((int64_t)t + c->drift_ppm * 1000);

		sim_fault_plan_env(&f->plan, &w->env[i], 1);
		assert_int_equal(w->env[i].fail_ppm, f->plan.storage_fail_ppm);
		assert_int_equal(env_sim_local_ns(&w->env[i], t), expect);
		sim_fault_plan_env(&f->plan, &w->env[i], 0);
		assert_int_equal(w->env[i].fail_ppm, 0);
		assert_int_equal(env_sim_local_ns(&w->env[i], t), expect);
	}
	assert_true(env_sim_local_ns(&w->env[0], t) != env_sim_local_ns(&w->env[1], t));
	/* Without the faults, the plan leaves the envs as they are after a reset. */
	make(&f->plan, 5, 3, SIM_FAULT_LOSS);
	sim_fault_plan_env(&f->plan, &w->env[0], 1);
	assert_int_equal(w->env[0].fail_ppm, 0);
	assert_int_equal(env_sim_local_ns(&w->env[0], t), t);
	for (int i = 0; i < 5; i++) {
		free(w->mem[i]);
	}
	free(w);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sim_fault_parse_accepts_names_all_and_none),
		T(test_sim_fault_parse_rejects_unknown_and_empty_names),
		T(test_sim_fault_names_round_trip),
		T(test_sim_fault_plan_without_faults_is_empty_and_clean),
		T(test_sim_fault_plan_is_a_function_of_the_seed),
		T(test_sim_fault_plans_are_well_formed_for_every_node_count),
		T(test_sim_fault_plans_cover_every_episode_kind),
		T(test_sim_fault_plan_honours_the_selection),
		T(test_sim_fault_env_faults_are_drawn_within_bounds_only_when_selected),
		T(test_sim_fault_env_faults_leave_the_rest_of_the_plan_unchanged),
		T(test_sim_fault_plan_env_sets_each_nodes_clock_and_the_rate_until_the_heal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
