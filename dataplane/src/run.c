/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/run.h"

#include <sched.h>
#include <string.h>
#include <time.h>

#include "base/panic.h"
#include "numa/numa_hwloc.h"

void
dp_run_config_default(struct dp_run_config *cfg)
{
	ASSERT(cfg != NULL);
	memset(cfg, 0, sizeof(*cfg));
	dp_idle_config_default(&cfg->idle);
}

uint64_t
dp_run_now_ns(void)
{
	struct timespec ts;
	int rc = clock_gettime(CLOCK_MONOTONIC, &ts);

	/* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer. */
	ASSERT(rc == 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
idle_apply(enum dp_idle_action action, uint64_t sleep_ns, struct dp_run_stats *stats)
{
	struct timespec ts;

	switch (action) {
	case DP_IDLE_SPIN:
		return;
	case DP_IDLE_YIELD:
		stats->yield_count++;
		(void)sched_yield();
		return;
	case DP_IDLE_SLEEP:
		stats->sleep_count++;
		stats->sleep_ns += sleep_ns;
		ts.tv_sec = (time_t)(sleep_ns / 1000000000u);
		ts.tv_nsec = (long)(sleep_ns % 1000000000u);
		/* An interrupted sleep just ends early: the loop polls again. */
		(void)nanosleep(&ts, NULL);
		return;
	}
	PANIC("unknown idle action %d", (int)action);
}

int
dp_run(const struct dp_run_config *cfg, dp_run_poll_fn *poll, void *ctx, struct dp_run_stats *stats)
{
	struct dp_run_stats local;
	struct dp_idle idle;
	int rc;

	ASSERT(cfg != NULL && poll != NULL);
	if (stats == NULL) {
		stats = &local;
	}
	memset(stats, 0, sizeof(*stats));
	if (dp_idle_config_check(&cfg->idle) != 0) {
		return -EINVAL;
	}
	if (cfg->hwloc != NULL) {
		rc = numa_hwloc_bind_thread(cfg->hwloc, cfg->pu_os_index);
		if (rc != 0) {
			return rc;
		}
	}
	dp_idle_init(&idle, &cfg->idle);
	for (;;) {
		uint64_t sleep_ns;
		enum dp_idle_action action;

		rc = poll(ctx, dp_run_now_ns());
		stats->poll_count++;
		if (rc < 0) {
			return rc == DP_RUN_STOP ? 0 : rc;
		}
		stats->busy_count += rc > 0 ? 1u : 0u;
		action = dp_idle_next(&idle, rc > 0, &sleep_ns);
		idle_apply(action, sleep_ns, stats);
	}
}
