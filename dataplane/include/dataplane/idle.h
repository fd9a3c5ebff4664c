/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The idle policy of a polling loop: what to do after a poll that found no work. Busy polling
 * gives the best latency (memif p50 1.5 us) but three pollers on two cores starve each other
 * unless they give the cpu away when idle (PLATFORM-NOTES.md, "More busy pollers than cores"):
 *
 *   1. spin:  the first spin_polls empty polls in a row just poll again;
 *   2. yield: the next yield_polls empty polls call sched_yield();
 *   3. sleep: after that every empty poll sleeps, starting at sleep_ns_min and doubling up to
 *             sleep_ns_max.
 * Any poll that did work starts over at step 1. With spin_polls 0 and yield_polls 0 the loop
 * sleeps at once; with sleep_ns_max 0 it never sleeps (yields forever after the spins).
 *
 * This header is the pure decision (so tests pin the arithmetic); dataplane/run.h applies it.
 * One owner; any thread.
 */
#ifndef AETHER_DATAPLANE_IDLE_H
#define AETHER_DATAPLANE_IDLE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/compiler.h"

/* Bounds: a sleep longer than 10 ms would make the node miss consensus timeouts. */
#define DP_IDLE_SLEEP_NS_MAX 10000000u

/* Defaults: about 20 us of spinning, then yields, then 1 us to 200 us sleeps. */
#define DP_IDLE_SPIN_POLLS_DEFAULT   1024u
#define DP_IDLE_YIELD_POLLS_DEFAULT  64u
#define DP_IDLE_SLEEP_NS_MIN_DEFAULT 1000u
#define DP_IDLE_SLEEP_NS_MAX_DEFAULT 200000u

struct dp_idle_config {
	uint32_t spin_polls;   /* empty polls that just spin */
	uint32_t yield_polls;  /* then this many empty polls that yield */
	uint64_t sleep_ns_min; /* first sleep; 0 < sleep_ns_min <= sleep_ns_max unless max is 0 */
	uint64_t sleep_ns_max; /* longest sleep, at most DP_IDLE_SLEEP_NS_MAX; 0: never sleep */
};

enum dp_idle_action {
	DP_IDLE_SPIN = 0,
	DP_IDLE_YIELD = 1,
	DP_IDLE_SLEEP = 2,
};

struct dp_idle {
	struct dp_idle_config cfg;
	uint32_t empty_polls; /* empty polls in a row, saturating */
	uint64_t sleep_ns;    /* next sleep */
};

/* Fills cfg with the defaults above. */
void dp_idle_config_default(struct dp_idle_config *cfg);

/* Returns 0 or -EINVAL when the sleep bounds are inconsistent or above DP_IDLE_SLEEP_NS_MAX. */
AE_MUST_CHECK int dp_idle_config_check(const struct dp_idle_config *cfg);

/* Starts the policy (cfg borrowed and copied; it must pass dp_idle_config_check, asserted). */
void dp_idle_init(struct dp_idle *idle, const struct dp_idle_config *cfg);

/*
 * Tells the policy how the last poll went and returns what to do now; for DP_IDLE_SLEEP it
 * sets *sleep_ns (otherwise 0). did_work resets the policy and returns DP_IDLE_SPIN.
 */
enum dp_idle_action dp_idle_next(struct dp_idle *idle, bool did_work, uint64_t *sleep_ns);

#endif /* AETHER_DATAPLANE_IDLE_H */
