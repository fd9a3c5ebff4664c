/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/dp_eal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_interrupts.h>

#include "base/panic.h"
#include "dataplane/run.h"
#include "dp_eal_int.h"

/* How often the holder and the parked interrupt thread look at the hold state. */
#define INTR_HOLD_POLL_NS 10000L

/*
 * EAL is process-wide state (one rte_eal_init per process), so its arguments live here: EAL
 * may keep pointers into argv after init.
 */
static struct dp_eal_args eal_args;
static bool eal_is_running;

/* The interrupt-thread hold (dp_eal_int.h): hold_lock makes one holder at a time; hold_state
 * goes IDLE -> REQUESTED (alarm set) -> PARKED (the callback waits) -> IDLE (released). */
enum intr_hold_state { INTR_HOLD_IDLE, INTR_HOLD_REQUESTED, INTR_HOLD_PARKED };

static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int hold_state = INTR_HOLD_IDLE;
/* Whether this thread holds the interrupt thread now (and owns hold_lock). */
static _Thread_local bool this_thread_holds;

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
	 * No rte_eal_cleanup here. DPDK 22.11's cleanup unmaps EAL memory but does not stop the
	 * interrupt thread, and memif leaves an interrupt source behind: closing a server port
	 * frees its listener socket without unregistering the listener's callback
	 * (memif_socket_remove_device), so that source's handle, in EAL memory, would be read
	 * when the thread next handles an event. With --no-huge or --in-memory cleanup frees
	 * nothing the exit does not (/var/run/dpdk/<prefix> stays either way). The crash at exit
	 * when both memif peers exited together is a different race, the interrupt thread
	 * disconnecting a port the application was closing: dp_port holds that thread while it
	 * starts, stops and closes ports (dp_eal_int.h).
	 */
	eal_is_running = false;
}

static void
intr_hold_pause(void)
{
	struct timespec pause = {.tv_sec = 0, .tv_nsec = INTR_HOLD_POLL_NS};

	(void)nanosleep(&pause, NULL);
}

/* The alarm callback, on the interrupt thread: waits there until released. A holder that gave
 * up before it ran has set IDLE already; then it returns at once. */
static void
intr_hold_park(void *arg)
{
	int expected = INTR_HOLD_REQUESTED;

	(void)arg;
	if (!atomic_compare_exchange_strong(&hold_state, &expected, INTR_HOLD_PARKED)) {
		return;
	}
	/* Unbounded on purpose: the holder always releases (dp_eal_int.h), and giving up early
	 * would let a memif callback race the port operation this hold protects. */
	while (atomic_load(&hold_state) == INTR_HOLD_PARKED) {
		intr_hold_pause();
	}
}

/* Ends a hold (or a hold attempt): the parked callback returns, one not run yet does nothing;
 * rte_eal_alarm_cancel removes it if still pending and waits for it if running. */
static void
intr_hold_end(void)
{
	atomic_store(&hold_state, INTR_HOLD_IDLE);
	(void)rte_eal_alarm_cancel(intr_hold_park, NULL);
	(void)pthread_mutex_unlock(&hold_lock);
}

static bool
intr_hold_is_needed(void)
{
	return eal_is_running && rte_thread_is_intr() == 0;
}

int
dp_eal_intr_hold(void)
{
	uint64_t deadline = dp_run_now_ns() + DP_EAL_INTR_HOLD_TIMEOUT_NS;
	int rc;

	ASSERT(!this_thread_holds); /* holds do not nest */
	if (!intr_hold_is_needed()) {
		return 0;
	}
	(void)pthread_mutex_lock(&hold_lock);
	atomic_store(&hold_state, INTR_HOLD_REQUESTED);
	rc = rte_eal_alarm_set(1, intr_hold_park, NULL);
	if (rc != 0) {
		atomic_store(&hold_state, INTR_HOLD_IDLE);
		(void)pthread_mutex_unlock(&hold_lock);
		return rc < 0 ? rc : -EIO;
	}
	while (atomic_load(&hold_state) != INTR_HOLD_PARKED) {
		if (dp_run_now_ns() >= deadline) {
			intr_hold_end();
			return -ETIMEDOUT;
		}
		intr_hold_pause();
	}
	this_thread_holds = true;
	return 0;
}

void
dp_eal_intr_release(void)
{
	if (!this_thread_holds) {
		return; /* dp_eal_intr_hold had nothing to hold */
	}
	ASSERT(atomic_load(&hold_state) == INTR_HOLD_PARKED);
	this_thread_holds = false;
	intr_hold_end();
}
