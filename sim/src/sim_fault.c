/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim_fault.h"

#include <assert.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"
#include "sim/env_sim.h"

#define MS UINT64_C(1000000)
#define US UINT64_C(1000)

/* Index i names bit 1 << i (enum sim_fault_bit). */
static const char *const fault_names[] = {"loss",         "dup",        "reorder",  "corrupt",
					  "partition",    "crash",      "restart",  "pause",
					  "storage-fail", "clock-skew", "crash-all"};

static_assert(AE_ARRAY_SIZE(fault_names) == 11 && SIM_FAULT_ALL == (1u << 11) - 1,
	      "one name per fault bit");

int
sim_fault_parse(const char *list, uint32_t *mask, const char **bad)
{
	const char *p = list;

	ASSERT(list != NULL && mask != NULL && bad != NULL);
	*mask = 0;
	*bad = list;
	if (strcmp(list, "all") == 0) {
		*mask = SIM_FAULT_ALL;
		return 0;
	}
	if (strcmp(list, "none") == 0) {
		return 0;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		uint32_t bit = 0;

		for (size_t i = 0; i < AE_ARRAY_SIZE(fault_names); i++) {
			if (len == strlen(fault_names[i]) && strncmp(p, fault_names[i], len) == 0) {
				bit = 1u << i;
			}
		}
		if (bit == 0) {
			*bad = p;
			return -EINVAL;
		}
		*mask |= bit;
		if (p[len] == '\0') {
			return 0;
		}
		p += len + 1;
	}
}

void
sim_fault_names(uint32_t mask, char out[SIM_FAULT_NAMES_SIZE])
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < AE_ARRAY_SIZE(fault_names); i++) {
		size_t len = strlen(fault_names[i]);

		if ((mask & (1u << i)) == 0) {
			continue;
		}
		ASSERT(at + len + 2 <= SIM_FAULT_NAMES_SIZE);
		if (at > 0) {
			out[at++] = ',';
		}
		memcpy(out + at, fault_names[i], len + 1);
		at += len;
	}
	if (at == 0) {
		memcpy(out, "none", 5);
	}
}

static void
plan_add(struct sim_fault_plan *plan, uint64_t time_ns, uint32_t kind, uint32_t node, uint32_t peer)
{
	struct sim_fault_action *a;

	if (plan->action_count == SIM_FAULT_ACTIONS_MAX) {
		return; /* the plan is long enough; later episodes are simply not scheduled */
	}
	a = &plan->actions[plan->action_count++];
	a->time_ns = time_ns;
	a->kind = kind;
	a->node = node;
	a->peer = peer;
	a->is_permanent = 0;
}

static void
plan_net(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t mask)
{
	struct sim_net_faults *h = &plan->net_healthy;
	struct sim_net_faults *f = &plan->net_faulty;

	memset(h, 0, sizeof(*h));
	h->delay_min_ns = 100 * US;
	h->delay_max_ns = 100 * US;
	if (mask & SIM_FAULT_REORDER) {
		h->delay_min_ns = 20 * US;
		h->delay_max_ns = 400 * US;
	}
	*f = *h;
	if (mask & SIM_FAULT_LOSS) {
		f->loss_ppm = (uint32_t)base_prng_range(prng, 0, 300000);
	}
	if (mask & SIM_FAULT_DUP) {
		f->dup_ppm = (uint32_t)base_prng_range(prng, 0, 50000);
	}
	if (mask & SIM_FAULT_REORDER) {
		f->tail_ppm = 10000;
		f->tail_max_ns = 50 * MS;
	}
	if (mask & SIM_FAULT_CORRUPT) {
		f->corrupt_ppm = (uint32_t)base_prng_range(prng, 1000, 20000);
	}
}

/* Picks k distinct nodes (not `avoid`) into out; returns how many it found. */
static uint32_t
plan_pick(struct base_prng *prng, uint32_t n, uint32_t k, uint32_t avoid, uint32_t *out)
{
	uint32_t order[SIM_NODES_MAX];
	uint32_t count = 0;

	for (uint32_t i = 0; i < n; i++) {
		order[i] = i;
	}
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = (uint32_t)base_prng_below(prng, i);
		uint32_t t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < n && count < k; i++) {
		if (order[i] != avoid) {
			out[count++] = order[i];
		}
	}
	return count;
}

static void
plan_isolate(struct sim_fault_plan *plan, uint64_t t, uint32_t n, uint32_t node)
{
	for (uint32_t p = 0; p < n; p++) {
		if (p != node) {
			plan_add(plan, t, SIM_FA_BLOCK, node, p);
			plan_add(plan, t, SIM_FA_BLOCK, p, node);
		}
	}
}

/* One partition episode in [t, end): isolate, split, flapping or one-way. */
static void
plan_partition(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t n, uint64_t t,
	       uint64_t end)
{
	uint32_t nodes[SIM_NODES_MAX];
	uint32_t f = (n - 1) / 2;
	uint64_t variant = base_prng_below(prng, 4);

	if (variant == 0 || n < 3) {
		plan_isolate(plan, t, n, (uint32_t)base_prng_below(prng, n));
	} else if (variant == 1) {
		uint32_t k = plan_pick(prng, n, f, UINT32_MAX, nodes);
		uint8_t minority[SIM_NODES_MAX] = {0};

		for (uint32_t i = 0; i < k; i++) {
			minority[nodes[i]] = 1;
		}
		for (uint32_t a = 0; a < n; a++) {
			for (uint32_t b = 0; b < n && minority[a]; b++) {
				if (!minority[b]) {
					plan_add(plan, t, SIM_FA_BLOCK, a, b);
					plan_add(plan, t, SIM_FA_BLOCK, b, a);
				}
			}
		}
	} else if (variant == 2) {
		for (uint64_t at = t; at + 2 * MS < end; at += base_prng_range(prng, 2, 10) * MS) {
			plan_add(plan, at, SIM_FA_UNBLOCK_ALL, 0, 0);
			plan_isolate(plan, at, n, (uint32_t)base_prng_below(prng, n));
		}
	} else {
		uint32_t a = (uint32_t)base_prng_below(prng, n);
		uint32_t b = (a + 1 + (uint32_t)base_prng_below(prng, n - 1)) % n;

		plan_add(plan, t, SIM_FA_BLOCK, a, b);
		if (base_prng_chance(prng, 500000)) {
			for (uint32_t p = 0; p < n; p++) {
				if (p != a && p != b) {
					plan_add(plan, t, SIM_FA_BLOCK, a, p);
				}
			}
		}
	}
	plan_add(plan, end, SIM_FA_UNBLOCK_ALL, 0, 0);
}

/* Crash-restart or pause of up to `budget` nodes during [t, end). */
static void
plan_nodes(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t n, uint32_t budget,
	   uint32_t avoid, uint64_t t, uint64_t end, int is_crash)
{
	uint32_t nodes[SIM_NODES_MAX];
	uint32_t k;

	if (budget == 0) {
		return;
	}
	k = plan_pick(prng, n, (uint32_t)base_prng_range(prng, 1, budget), avoid, nodes);
	for (uint32_t i = 0; i < k; i++) {
		plan_add(plan, t, is_crash ? SIM_FA_CRASH : SIM_FA_PAUSE, nodes[i], 0);
		plan_add(plan, end, is_crash ? SIM_FA_RESTART : SIM_FA_RESUME, nodes[i], 0);
	}
}

/* Insertion sort by time; equal times keep insertion order (block after unblock). */
static void
plan_sort(struct sim_fault_plan *plan)
{
	for (uint32_t i = 1; i < plan->action_count; i++) {
		struct sim_fault_action a = plan->actions[i];
		uint32_t j = i;

		while (j > 0 && plan->actions[j - 1].time_ns > a.time_ns) {
			plan->actions[j] = plan->actions[j - 1];
			j--;
		}
		plan->actions[j] = a;
	}
}

/* Adds the crash-stop (if chosen); returns its time, or UINT64_MAX. */
static uint64_t
plan_crash_stop(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t n, uint64_t period_ns,
		uint32_t *node)
{
	uint64_t at;

	*node = UINT32_MAX;
	if ((plan->mask & SIM_FAULT_CRASH) == 0 || n < 3) {
		return UINT64_MAX;
	}
	*node = (uint32_t)base_prng_below(prng, n);
	at = base_prng_range(prng, period_ns / 8, period_ns * 3 / 4);
	plan_add(plan, at, SIM_FA_CRASH, *node, 0);
	plan->actions[plan->action_count - 1].is_permanent = 1;
	plan->crash_stop_count = 1;
	return at;
}

/*
 * The faults that live in each node's env: storage failures and clock skew. Drawn after every
 * other part of the plan and only when selected, so plans without them keep their draws.
 */
static void
plan_node_env(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t n, uint32_t mask)
{
	const uint64_t drift = SIM_FAULT_CLOCK_DRIFT_PPM_MAX;

	if (mask & SIM_FAULT_STORAGE_FAIL) {
		plan->storage_fail_ppm = (uint32_t)base_prng_range(
			prng, SIM_FAULT_STORAGE_FAIL_PPM_MIN, SIM_FAULT_STORAGE_FAIL_PPM_MAX);
	}
	for (uint32_t i = 0; i < n && (mask & SIM_FAULT_CLOCK_SKEW); i++) {
		plan->clocks[i].offset_ns = base_prng_range(prng, 0, SIM_FAULT_CLOCK_OFFSET_NS_MAX);
		plan->clocks[i].drift_ppm =
			(int64_t)base_prng_range(prng, 0, 2 * drift) - (int64_t)drift;
	}
}

/*
 * crash-all: once, every node but the crash-stopped one crashes within 2 ms of the others
 * (each losing what it had not synced) and restarts 10 to 80 ms later; no node can then vote
 * in the slots below its R11 mark, so the cluster must change epoch (node_shard_epoch.c).
 * Drawn last and only when selected, so plans without it keep their draws.
 */
static void
plan_crash_all(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t n, uint64_t period_ns,
	       uint32_t stop_node)
{
	uint64_t at;

	if ((plan->mask & SIM_FAULT_CRASH_ALL) == 0) {
		return;
	}
	at = base_prng_range(prng, period_ns / 4, period_ns * 3 / 4);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t = at + base_prng_range(prng, 0, 2) * MS;

		if (i == stop_node) {
			continue;
		}
		uint64_t back = t + base_prng_range(prng, 10, 80) * MS;

		plan_add(plan, t < period_ns ? t : period_ns, SIM_FA_CRASH, i, 0);
		plan_add(plan, back < period_ns ? back : period_ns, SIM_FA_RESTART, i, 0);
	}
	plan->episode_count++;
}

void
sim_fault_plan_make(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t node_count,
		    uint32_t mask, uint64_t period_ns)
{
	uint32_t kinds[3];
	uint32_t kind_count = 0;
	uint32_t f = (node_count - 1) / 2;
	uint32_t stop_node;
	uint64_t stop_at;
	uint64_t t;

	ASSERT(plan != NULL && prng != NULL);
	ASSERT(node_count >= 1 && node_count <= SIM_NODES_MAX);
	ASSERT(period_ns > 0);
	memset(plan, 0, sizeof(*plan));
	plan->mask = mask;
	plan->heal_ns = period_ns;
	plan_net(plan, prng, mask);
	stop_at = plan_crash_stop(plan, prng, node_count, period_ns, &stop_node);
	if ((mask & SIM_FAULT_PARTITION) && node_count >= 2) {
		kinds[kind_count++] = SIM_FAULT_PARTITION;
	}
	if ((mask & SIM_FAULT_RESTART) && f >= 1) {
		kinds[kind_count++] = SIM_FAULT_RESTART;
	}
	if ((mask & SIM_FAULT_PAUSE) && f >= 1) {
		kinds[kind_count++] = SIM_FAULT_PAUSE;
	}
	t = base_prng_range(prng, 1, 10) * MS;
	while (kind_count > 0 && t + 5 * MS < period_ns) {
		uint32_t kind = kinds[base_prng_below(prng, kind_count)];
		uint64_t end = t + base_prng_range(prng, 5, 60) * MS;
		uint64_t gap = base_prng_range(prng, 2, 30) * MS;

		end = end < period_ns ? end : period_ns;
		if (kind == SIM_FAULT_PARTITION) {
			plan_partition(plan, prng, node_count, t, end);
		} else if (kind == SIM_FAULT_PAUSE) {
			plan_nodes(plan, prng, node_count, f, stop_node, t, end, 0);
		} else {
			/* A restarted node cannot vote in slots it touched before: leave time
			 * for those to be decided before more nodes lose their memory. */
			uint32_t stopped = stop_at <= end + 50 * MS ? 1 : 0;

			plan_nodes(plan, prng, node_count, f - stopped, stop_node, t, end, 1);
			gap += 40 * MS;
		}
		plan->episode_count++;
		t = end + gap;
	}
	plan_node_env(plan, prng, node_count, mask);
	plan_crash_all(plan, prng, node_count, period_ns, stop_node);
	plan_sort(plan);
}

void
sim_fault_plan_env(const struct sim_fault_plan *plan, struct env_sim *e, int is_fault_period)
{
	const struct sim_fault_clock *c;

	ASSERT(plan != NULL && e != NULL);
	ASSERT(e->node < SIM_NODES_MAX);
	c = &plan->clocks[e->node];
	env_sim_set_clock(e, c->offset_ns, (int32_t)c->drift_ppm);
	env_sim_set_storage_fail(e, is_fault_period ? plan->storage_fail_ppm : 0);
}
