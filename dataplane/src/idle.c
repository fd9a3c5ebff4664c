/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/idle.h"

#include <errno.h>
#include <string.h>

#include "base/panic.h"

void
dp_idle_config_default(struct dp_idle_config *cfg)
{
	ASSERT(cfg != NULL);
	cfg->spin_polls = DP_IDLE_SPIN_POLLS_DEFAULT;
	cfg->yield_polls = DP_IDLE_YIELD_POLLS_DEFAULT;
	cfg->sleep_ns_min = DP_IDLE_SLEEP_NS_MIN_DEFAULT;
	cfg->sleep_ns_max = DP_IDLE_SLEEP_NS_MAX_DEFAULT;
}

int
dp_idle_config_check(const struct dp_idle_config *cfg)
{
	ASSERT(cfg != NULL);
	if (cfg->sleep_ns_max > DP_IDLE_SLEEP_NS_MAX) {
		return -EINVAL;
	}
	if (cfg->sleep_ns_max != 0 &&
	    (cfg->sleep_ns_min == 0 || cfg->sleep_ns_min > cfg->sleep_ns_max)) {
		return -EINVAL;
	}
	return 0;
}

void
dp_idle_init(struct dp_idle *idle, const struct dp_idle_config *cfg)
{
	ASSERT(idle != NULL);
	ASSERT(dp_idle_config_check(cfg) == 0);
	memset(idle, 0, sizeof(*idle));
	idle->cfg = *cfg;
	idle->sleep_ns = cfg->sleep_ns_min;
}

enum dp_idle_action
dp_idle_next(struct dp_idle *idle, bool did_work, uint64_t *sleep_ns)
{
	const struct dp_idle_config *c = &idle->cfg;
	uint64_t spin_yield = (uint64_t)c->spin_polls + c->yield_polls;

	ASSERT(idle != NULL && sleep_ns != NULL);
	*sleep_ns = 0;
	if (did_work) {
		idle->empty_polls = 0;
		idle->sleep_ns = c->sleep_ns_min;
		return DP_IDLE_SPIN;
	}
	if (idle->empty_polls < UINT32_MAX) {
		idle->empty_polls++;
	}
	if (idle->empty_polls <= c->spin_polls) {
		return DP_IDLE_SPIN;
	}
	if (idle->empty_polls <= spin_yield || c->sleep_ns_max == 0) {
		return DP_IDLE_YIELD;
	}
	*sleep_ns = idle->sleep_ns;
	idle->sleep_ns =
		idle->sleep_ns > c->sleep_ns_max / 2u ? c->sleep_ns_max : idle->sleep_ns * 2u;
	ASSERT(*sleep_ns >= c->sleep_ns_min && *sleep_ns <= c->sleep_ns_max);
	return DP_IDLE_SLEEP;
}
