/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_latency: the memif round-trip probe. Starts two dp_peer processes (each with its own EAL
 * without hugepages, pinned to its own cpu) connected by memif, lets the ping side send COUNT
 * pings of SIZE bytes through env_dpdk one at a time (closed loop) and prints the round-trip
 * p50, p99 and p99.9, as text or one JSON object. Authentication is on unless --no-auth.
 *
 *   dp_latency [--count N] [--size B] [--no-auth] [--json] [--cpus A,B]
 *
 * dp_peer must sit next to this binary (both are built into build/dataplane/tools/).
 * Exit status: dp_peer's (0 ok, 1 failure, 3 EAL cannot start here).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/run.h"
#include "dp_tool.h"

#define DEADLINE_NS (120ull * 1000u * 1000u * 1000u)

struct args {
	char *count;
	char *size;
	char cpus[2][16];
	bool no_auth;
	bool json;
};

static int
parse_cpus(struct args *a, const char *list)
{
	const char *comma = strchr(list, ',');
	size_t first = comma != NULL ? (size_t)(comma - list) : 0;

	if (comma == NULL || first == 0 || first >= sizeof(a->cpus[0]) || strlen(comma + 1) == 0 ||
	    strlen(comma + 1) >= sizeof(a->cpus[1])) {
		return -EINVAL;
	}
	memcpy(a->cpus[0], list, first);
	a->cpus[0][first] = '\0';
	memcpy(a->cpus[1], comma + 1, strlen(comma + 1) + 1);
	return 0;
}

static int
parse(int argc, char **argv, struct args *a)
{
	static char count_default[] = "20000";
	static char size_default[] = "64";

	memset(a, 0, sizeof(*a));
	a->count = count_default;
	a->size = size_default;
	a->cpus[0][0] = '0';
	a->cpus[1][0] = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? '1' : '0';
	for (int i = 1; i < argc; i++) {
		bool has_value = i + 1 < argc;

		if (strcmp(argv[i], "--no-auth") == 0) {
			a->no_auth = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			a->json = true;
		} else if (strcmp(argv[i], "--count") == 0 && has_value) {
			a->count = argv[++i];
		} else if (strcmp(argv[i], "--size") == 0 && has_value) {
			a->size = argv[++i];
		} else if (strcmp(argv[i], "--cpus") == 0 && has_value) {
			if (parse_cpus(a, argv[++i]) != 0) {
				return -EINVAL;
			}
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/* <directory of this executable>/dp_peer */
static int
peer_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int m;

	if (n <= 0) {
		return -errno;
	}
	self[n] = '\0';
	m = snprintf(out, size, "%s/dp_peer", dirname(self));
	return m > 0 && (size_t)m < size ? 0 : -ENAMETOOLONG;
}

/* Appends the options both peers share. */
static size_t
common_args(char **argv, size_t n, struct args *a, char *dir, char *role, char *id, char *peer,
	    char *cpu)
{
	static char timeout[] = "110000";

	argv[n++] = "--role";
	argv[n++] = role;
	argv[n++] = "--id";
	argv[n++] = id;
	argv[n++] = "--peer";
	argv[n++] = peer;
	argv[n++] = "--run-dir";
	argv[n++] = dir;
	argv[n++] = "--cpu";
	argv[n++] = cpu;
	argv[n++] = "--timeout-ms";
	argv[n++] = timeout;
	if (a->no_auth) {
		argv[n++] = "--no-auth";
	}
	return n;
}

static int
run(struct args *a, char *peer, char *dir)
{
	char *pong[24] = {peer};
	char *ping[24] = {peer};
	size_t n;
	pid_t pids[2];
	int status[2];

	(void)common_args(pong, 1, a, dir, "pong", "2", "1", a->cpus[1]);
	n = common_args(ping, 1, a, dir, "ping", "1", "2", a->cpus[0]);
	ping[n++] = "--latency";
	ping[n++] = "--count";
	ping[n++] = a->count;
	ping[n++] = "--size";
	ping[n++] = a->size;
	if (a->json) {
		ping[n++] = "--json";
	}
	pids[0] = dp_tool_spawn(pong, false);
	pids[1] = pids[0] > 0 ? dp_tool_spawn(ping, false) : -1;
	if (pids[1] < 0) {
		fprintf(stderr, "dp_latency: cannot start dp_peer\n");
		return 1;
	}
	if (dp_tool_wait_all(pids, status, 2, dp_run_now_ns() + DEADLINE_NS) != 0) {
		fprintf(stderr, "dp_latency: timed out\n");
	}
	dp_tool_remove_runtime_dir(pids[0]);
	dp_tool_remove_runtime_dir(pids[1]);
	return status[1] != 0 ? status[1] : (status[0] != 0 ? status[0] : 0);
}

/* The peers leave their (empty) storage directories; remove them and the run directory. */
static void
run_dir_remove(const char *dir)
{
	char path[PATH_MAX];

	for (int id = 1; id <= 2; id++) {
		if (snprintf(path, sizeof(path), "%s/node-%d", dir, id) < (int)sizeof(path)) {
			(void)rmdir(path);
		}
	}
	(void)rmdir(dir);
}

int
main(int argc, char **argv)
{
	struct args a;
	char peer[PATH_MAX];
	char dir[] = "/tmp/aether-dp-latency-XXXXXX";
	int rc;

	if (parse(argc, argv, &a) != 0) {
		fprintf(stderr, "usage: dp_latency [--count N] [--size B] [--no-auth] [--json] "
				"[--cpus A,B]\n");
		return 2;
	}
	if (peer_path(peer, sizeof(peer)) != 0 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "dp_latency: cannot find dp_peer or make a run directory\n");
		return 1;
	}
	rc = run(&a, peer, dir);
	run_dir_remove(dir);
	return rc;
}
