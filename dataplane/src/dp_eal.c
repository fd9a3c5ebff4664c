/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/dp_eal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "base/panic.h"

/*
 * EAL is process-wide state (one rte_eal_init per process), so its arguments live here: EAL
 * may keep pointers into argv after init.
 */
static struct dp_eal_args eal_args;
static bool eal_is_running;

bool
dp_eal_is_running(void)
{
	return eal_is_running;
}

uint64_t
dp_eal_tsc_hz(void)
{
	return eal_is_running ? rte_get_tsc_hz() : 0;
}

static void
log_args(const struct base_log *log, const struct dp_eal_args *args)
{
	char line[DP_EAL_ARGS_SIZE];
	size_t used = 0;

	line[0] = '\0';
	for (int i = 1; i < args->argc && used < sizeof(line); i++) {
		int n = snprintf(line + used, sizeof(line) - used, " %s", args->argv[i]);

		if (n < 0) {
			break;
		}
		used += (size_t)n;
	}
	base_logf(log, BASE_LOG_INFO, "eal: starting with%s", line);
}

static int
ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL) == 0 ? 0 : -errno;
}

int
dp_eal_start(const struct dp_eal_config *cfg, const struct base_log *log, const char **reason)
{
	static const struct base_log quiet;
	int rc;

	ASSERT(cfg != NULL);
	if (log == NULL) {
		log = &quiet;
	}
	if (eal_is_running) {
		if (reason != NULL) {
			*reason = "EAL already runs in this process";
		}
		return -EALREADY;
	}
	rc = dp_eal_args_build(cfg, &eal_args);
	if (rc != 0) {
		if (reason != NULL) {
			*reason = "invalid EAL configuration";
		}
		return rc;
	}
	rc = ignore_sigpipe();
	if (rc != 0) {
		if (reason != NULL) {
			*reason = "cannot ignore SIGPIPE";
		}
		return rc;
	}
	log_args(log, &eal_args);
	if (rte_eal_init(eal_args.argc, eal_args.argv) < 0) {
		rc = rte_errno > 0 ? -rte_errno : -EIO;
		if (reason != NULL) {
			*reason = rte_strerror(rte_errno);
		}
		base_logf(log, BASE_LOG_ERROR, "eal: rte_eal_init failed: %s", rte_strerror(-rc));
		return rc;
	}
	eal_is_running = true;
	base_logf(log, BASE_LOG_INFO, "eal: running, tsc_hz=%llu",
		  (unsigned long long)rte_get_tsc_hz());
	return 0;
}

void
dp_eal_stop(void)
{
	/*
	 * No rte_eal_cleanup here: in DPDK 22.11 it unmaps EAL memory while the interrupt thread
	 * still runs, and a memif control channel closed with a pending unregistration stays in
	 * that thread's source list; the next wakeup reads the unmapped handle and the process
	 * crashes in rte_intr_fd_get (seen when both memif peers exit together). The process is
	 * about to exit; with --no-huge or --in-memory nothing but /var/run/dpdk/<prefix> is left.
	 */
	eal_is_running = false;
}
