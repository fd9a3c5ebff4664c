/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: two processes, each with its own EAL (no hugepages, its own file prefix, pinned to its
 * own cpu), connected by memif, exchange authenticated datagrams through env_dpdk both ways;
 * forged, replayed and garbage frames put straight on the wire are counted and never
 * delivered; a seeded fault hook on the send path (drop, corrupt, delay, reorder, duplicate)
 * does not stop a retransmitting sender and its corruptions and duplicates are rejected by the
 * receiver; and a restarted peer (new incarnation) reconnects over the same memif socket.
 * Method: fork + exec two dp_peer processes per case (dataplane/tools/dp_peer.c does the
 * checks and exits 0 when they hold), bounded by a deadline; no fixed sleeps (children are
 * polled for exit every 5 ms until the deadline). Prints TAP; when EAL cannot start here it prints
 * "1..0 # SKIP" and exits 0.
 *
 * Usage: test_dp_memif <path to dp_peer>
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/run.h"
#include "dp_tool.h"

#define CASE_DEADLINE_NS (30ull * 1000u * 1000u * 1000u)

struct driver {
	char *peer;
	char cpus[2][16];
	char dir[64];
	int case_index;
	bool skipped;
	int failures;
};

/* The first two cpus this process may use (one when there is only one). */
static void
pick_cpus(struct driver *d)
{
	cpu_set_t set;
	int found = 0;

	snprintf(d->cpus[0], sizeof(d->cpus[0]), "0");
	snprintf(d->cpus[1], sizeof(d->cpus[1]), "0");
	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		return;
	}
	for (unsigned cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
		if (CPU_ISSET(cpu, &set)) {
			snprintf(d->cpus[found++], sizeof(d->cpus[0]), "%u", cpu);
		}
	}
	if (found == 1) {
		snprintf(d->cpus[1], sizeof(d->cpus[1]), "%s", d->cpus[0]);
	}
}

static void
argv_fill(struct driver *d, char **argv, char *role, char *id, char *peer, char *cpu,
	  char *const *extra)
{
	size_t n = 0;

	argv[n++] = d->peer;
	argv[n++] = "--role";
	argv[n++] = role;
	argv[n++] = "--id";
	argv[n++] = id;
	argv[n++] = "--peer";
	argv[n++] = peer;
	argv[n++] = "--run-dir";
	argv[n++] = d->dir;
	argv[n++] = "--cpu";
	argv[n++] = cpu;
	for (size_t i = 0; extra[i] != NULL; i++) {
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
}

/*
 * Runs pong and one or two ping processes in turn (extra arguments are NULL-terminated lists;
 * ping2 may be NULL); returns true when every process exited 0. Sets d->skipped when EAL
 * cannot start.
 */
static bool
run_peers(struct driver *d, char *const *pong_extra, char *const *ping_extra,
	  char *const *ping2_extra)
{
	char *pong[32];
	char *ping[32];
	pid_t pids[3] = {-1, -1, -1};
	int status[3] = {-1, -1, -1};
	uint64_t deadline = dp_run_now_ns() + CASE_DEADLINE_NS;
	size_t last = 1; /* index of the ping still running at the end */

	argv_fill(d, pong, "pong", "2", "1", d->cpus[1], pong_extra);
	argv_fill(d, ping, "ping", "1", "2", d->cpus[0], ping_extra);
	pids[0] = dp_tool_spawn(pong, true);
	pids[1] = pids[0] > 0 ? dp_tool_spawn(ping, true) : -1;
	if (pids[1] > 0 && ping2_extra != NULL) {
		/* The first ping must be gone before its successor takes over the memif socket. */
		if (dp_tool_wait_all(&pids[1], &status[1], 1, deadline) != 0) {
			printf("# the first ping missed the deadline\n");
		}
		argv_fill(d, ping, "ping", "1", "2", d->cpus[0], ping2_extra);
		pids[2] = dp_tool_spawn(ping, true);
		last = 2;
	}
	if (pids[last] < 0) {
		printf("# cannot spawn dp_peer\n");
		return false;
	}
	{
		/* Each child is reaped exactly once: the first ping of a restart was reaped above.
		 */
		pid_t running[2] = {pids[0], pids[last]};
		int codes[2] = {-1, -1};

		if (dp_tool_wait_all(running, codes, 2, deadline) != 0) {
			printf("# deadline passed: children killed\n");
		}
		status[0] = codes[0];
		status[last] = codes[1];
	}
	for (size_t i = 0; i <= last; i++) {
		dp_tool_remove_runtime_dir(pids[i]);
		d->skipped |= status[i] == DP_TOOL_EXIT_NO_EAL;
		printf("# process %zu exit %d\n", i, status[i]);
	}
	return status[0] == 0 && status[1] == 0 && (last == 1 || status[2] == 0);
}

/* Removes what the peers leave in the run directory (empty storage directories). */
static void
run_dir_remove(const struct driver *d)
{
	char path[128];

	for (int id = 1; id <= 2; id++) {
		if (snprintf(path, sizeof(path), "%s/node-%d", d->dir, id) < (int)sizeof(path)) {
			(void)rmdir(path);
		}
	}
	(void)rmdir(d->dir);
}

static void
report(struct driver *d, bool ok, const char *what)
{
	d->case_index++;
	printf("%s %d - %s\n", ok ? "ok" : "not ok", d->case_index, what);
	d->failures += ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct driver d;
	char *none[] = {NULL};
	char *inject[] = {"--count", "200", "--inject", NULL};
	char *faults[] = {"--count", "300", "--fault-seed", "20240611", NULL};
	char *first[] = {"--count", "50", "--no-exit", NULL};
	char *restarted[] = {"--count", "50", "--incarnation", "2", "--expect-delivered",
			     "102",     NULL};
	bool ok;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: test_dp_memif <dp_peer>\n");
		return 2;
	}
	memset(&d, 0, sizeof(d));
	d.peer = argv[1];
	pick_cpus(&d);
	snprintf(d.dir, sizeof(d.dir), "/tmp/aether-dp-test-XXXXXX");
	if (mkdtemp(d.dir) == NULL) {
		printf("1..0 # SKIP cannot create a run directory: %s\n", strerror(errno));
		return 0;
	}
	printf("# run dir %s, cpus %s and %s\n", d.dir, d.cpus[0], d.cpus[1]);
	ok = run_peers(&d, none, inject, NULL);
	if (d.skipped) {
		printf("1..0 # SKIP EAL cannot start on this machine (see stderr)\n");
		run_dir_remove(&d);
		return 0;
	}
	printf("1..3\n");
	report(&d, ok,
	       "200 authenticated ping-pongs over memif; forged, replayed and garbage "
	       "frames counted and not delivered");
	ok = run_peers(&d, none, faults, NULL);
	report(&d, ok,
	       "seeded drop/corrupt/delay/reorder/duplicate on the send path: all 300 "
	       "pings answered, corruptions and duplicates rejected");
	ok = run_peers(&d, none, first, restarted);
	report(&d, ok,
	       "the memif server restarts with a new incarnation: the client reconnects "
	       "and accepts it (51 + 51 datagrams delivered)");
	run_dir_remove(&d);
	return d.failures == 0 ? 0 : 1;
}
