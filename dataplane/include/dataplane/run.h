/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The per-lcore run loop: pin the calling thread to its PU (numa/numa_hwloc.h), then call one
 * poll function again and again, applying the idle policy (dataplane/idle.h) after polls that
 * found no work. The node's control lcore and worker lcores, the simulator-free integration
 * tools and the latency probe all run this loop, so the idle behaviour measured is the one
 * that ships.
 *
 * Context: the thread that will run the loop (it pins itself). Time comes from
 * CLOCK_MONOTONIC.
 */
#ifndef AETHER_DATAPLANE_RUN_H
#define AETHER_DATAPLANE_RUN_H

#include <errno.h>
#include <stdint.h>

#include "base/compiler.h"
#include "dataplane/idle.h"

struct numa_hwloc;

/* A poll's way to end the loop cleanly (dp_run then returns 0). */
#define DP_RUN_STOP (-ECANCELED)

/*
 * One poll of the loop's work. Returns how many items it handled (0 when idle), DP_RUN_STOP to
 * end the loop, or another negative errno to end it with that error.
 */
typedef int dp_run_poll_fn(void *ctx, uint64_t now_ns);

struct dp_run_config {
	struct dp_idle_config idle;
	/* The adapter to pin with (borrowed for the whole loop); NULL leaves the thread where the
	 * caller (or EAL's --lcores) put it. */
	struct numa_hwloc *hwloc;
	uint32_t pu_os_index; /* cpu number to pin to, when hwloc is set */
};

/* Counters of one loop. */
struct dp_run_stats {
	uint64_t poll_count;
	uint64_t busy_count; /* polls that did work */
	uint64_t yield_count;
	uint64_t sleep_count;
	uint64_t sleep_ns; /* total asked for */
};

/* Fills cfg: default idle policy, no pinning. */
void dp_run_config_default(struct dp_run_config *cfg);

/*
 * Pins the thread (when cfg->hwloc is set), then polls until poll asks to stop. cfg, poll's
 * ctx and stats (may be NULL) are borrowed for the whole loop; stats is written as it goes.
 * Returns 0 when poll returned DP_RUN_STOP, the negative errno poll returned otherwise,
 * -EINVAL for a bad idle policy, or the error of numa_hwloc_bind_thread (nothing polled then).
 */
AE_MUST_CHECK int dp_run(const struct dp_run_config *cfg, dp_run_poll_fn *poll, void *ctx,
			 struct dp_run_stats *stats);

/* CLOCK_MONOTONIC in nanoseconds (the run loop's clock). */
uint64_t dp_run_now_ns(void);

#endif /* AETHER_DATAPLANE_RUN_H */
