/* SPDX-License-Identifier: Apache-2.0 */
#include "dp_tool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/dp_eal.h"
#include "dataplane/dp_mempool.h"
#include "dataplane/dp_port.h"
#include "dataplane/env_dpdk.h"
#include "dataplane/run.h"
#include "env/env_posix.h"
#include "numa/numa_hwloc.h"
#include "numa/plan.h"
#include "numa/topology.h"

#define RUNTIME_DIR "/var/run/dpdk"

struct dp_tool {
	struct dp_mempool *pools[DP_MEMPOOL_PLAN_MAX];
	struct dp_mempool *pool; /* the control lcore's: pools[plan.control.mempool_index] */
	struct dp_port *port;
	struct env_posix *storage;
	struct env_dpdk *env;
	struct dp_frame_endpoint self;
	struct dp_frame_endpoint peer;
	bool eal_started;
};

void
dp_tool_file_prefix(pid_t pid, char *buf, size_t size)
{
	int n = snprintf(buf, size, "aether-dp-%ld", (long)pid);

	ASSERT(n > 0 && (size_t)n < size);
}

static int
eal_start(const struct dp_tool_config *cfg, bool *eal_failed, const char **what)
{
	struct dp_eal_config ec;
	int rc;

	dp_eal_config_default(&ec);
	dp_tool_file_prefix(getpid(), ec.file_prefix, sizeof(ec.file_prefix));
	ec.lcore_cpus[0] = cfg->cpu;
	rc = dp_eal_start(&ec, &cfg->log, NULL);
	if (rc != 0) {
		/* dp_eal_start logged rte_eal_init's reason; the caller prints strerror(-rc). */
		*eal_failed = true;
		*what = "EAL cannot start";
	}
	return rc;
}

static int
storage_start(const struct dp_tool_config *cfg, struct dp_tool *t)
{
	struct env_posix_config pc;
	char dir[256];
	int n;

	n = snprintf(dir, sizeof(dir), "%s/node-%u", cfg->run_dir, (unsigned)cfg->self_id);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		return -ENAMETOOLONG;
	}
	memset(&pc, 0, sizeof(pc));
	pc.node_id = cfg->self_id;
	pc.bind.ipv4 = env_posix_ipv4(127, 0, 0, 1);
	pc.data_dir = dir;
	pc.completion_queue_max = 64;
	pc.log = cfg->log;
	return env_posix_create(&pc, &t->storage);
}

static int
env_start(const struct dp_tool_config *cfg, struct dp_tool *t)
{
	struct env_dpdk_config ec;

	memset(&ec, 0, sizeof(ec));
	ec.node_id = cfg->self_id;
	ec.cluster_id = DP_TOOL_CLUSTER_ID;
	ec.epoch = DP_TOOL_EPOCH;
	ec.incarnation = cfg->incarnation;
	ec.secret = cfg->secret;
	ec.secret_size = cfg->secret_size;
	ec.auth_disabled = cfg->auth_disabled;
	ec.endpoint = t->self;
	ec.peer_count = 1;
	ec.peers[0].node_id = cfg->peer_id;
	ec.peers[0].port = t->port;
	ec.peers[0].endpoint = t->peer;
	ec.peers[0].fault = cfg->fault;
	ec.storage = env_posix_ops(t->storage);
	ec.seed = cfg->self_id;
	ec.log = cfg->log;
	return env_dpdk_create(&ec, &t->env);
}

/*
 * The mempools the numa planner asks for on this machine (one per NUMA node hosting an lcore:
 * one here), as the node will create them; the tool's single lcore uses the control lcore's.
 * Each of the two peers is one process of two on this host.
 */
static int
pools_start(const struct dp_tool_config *cfg, struct dp_tool *t, const char **what)
{
	struct numa_plan_config pc = {.worker_count = 1,
				      .process_index = cfg->self_id % 2u,
				      .process_count = 2,
				      .allow_oversubscribe = true};
	struct dp_mempool_config mc;
	struct numa_topology *topo = base_alloc(sizeof(*topo));
	struct numa_plan *plan = base_alloc(sizeof(*plan));
	struct numa_cpuset allowed;
	struct numa_hwloc *hw = NULL;
	int rc = topo == NULL || plan == NULL ? -ENOMEM : 0;

	*what = "numa plan";
	if (rc == 0) {
		rc = numa_hwloc_create(&hw, NULL, NULL);
	}
	if (rc == 0) {
		rc = numa_hwloc_load(hw, topo, NULL);
	}
	if (rc == 0) {
		rc = numa_hwloc_allowed(hw, &allowed);
	}
	if (rc == 0) {
		rc = numa_plan_init(plan, topo, &allowed, &pc, NULL);
	}
	if (rc == 0) {
		dp_mempool_config_default(&mc);
		*what = "mempools";
		rc = dp_mempool_create_for_plan(plan, &mc, &cfg->log, t->pools);
		t->pool = rc == 0 ? t->pools[plan->control.mempool_index] : NULL;
	}
	numa_hwloc_destroy(hw);
	base_free(plan);
	base_free(topo);
	return rc;
}

/* memif: the default endpoints (labels only). AF_XDP: the real addresses of the wire. */
static void
endpoints_pick(const struct dp_tool_config *cfg, struct dp_tool *t)
{
	dp_frame_endpoint_default(cfg->self_id, &t->self);
	dp_frame_endpoint_default(cfg->peer_id, &t->peer);
	if (cfg->af_xdp_ifname == NULL) {
		return;
	}
	dp_port_mac_get(t->port, t->self.mac);
	t->self.ipv4 = cfg->self_ipv4;
	memcpy(t->peer.mac, cfg->peer_mac, sizeof(t->peer.mac));
	t->peer.ipv4 = cfg->peer_ipv4;
}

/* Mempools, port, link, storage, env: each step's failure names itself in *what. */
static int
stack_start(const struct dp_tool_config *cfg, struct dp_tool *t, const char **what)
{
	struct dp_port_config pc;
	int rc;

	rc = pools_start(cfg, t, what);
	if (rc != 0) {
		return rc;
	}
	dp_port_config_default(&pc);
	if (cfg->af_xdp_ifname != NULL) {
		*what = "af_xdp port config";
		rc = dp_port_af_xdp_link(cfg->af_xdp_ifname, &pc);
		pc.af_xdp.busy_budget = cfg->af_xdp_busy_budget;
	} else {
		*what = "memif link config";
		rc = dp_port_memif_link(cfg->self_id, cfg->peer_id, cfg->run_dir, &pc);
	}
	if (rc == 0) {
		*what = "port";
		rc = dp_port_create(&pc, t->pool, &cfg->log, &t->port);
	}
	if (rc == 0) {
		endpoints_pick(cfg, t);
	}
	if (rc == 0) {
		*what = "link up";
		rc = dp_port_wait_up(t->port, cfg->link_timeout_ns);
	}
	if (rc == 0) {
		*what = "storage env";
		rc = storage_start(cfg, t);
	}
	if (rc == 0) {
		*what = "env_dpdk";
		rc = env_start(cfg, t);
	}
	return rc;
}

int
dp_tool_start(const struct dp_tool_config *cfg, struct dp_tool **out, bool *eal_failed,
	      const char **what)
{
	struct dp_tool *t;
	int rc;

	ASSERT(cfg != NULL && out != NULL && eal_failed != NULL && what != NULL);
	*out = NULL;
	*eal_failed = false;
	t = base_alloc(sizeof(*t));
	if (t == NULL) {
		*what = "out of memory";
		return -ENOMEM;
	}
	rc = eal_start(cfg, eal_failed, what);
	if (rc != 0) {
		base_free(t);
		return rc;
	}
	t->eal_started = true;
	rc = stack_start(cfg, t, what);
	if (rc != 0) {
		dp_tool_stop(t);
		return rc;
	}
	*out = t;
	return 0;
}

void
dp_tool_stop(struct dp_tool *t)
{
	if (t == NULL) {
		return;
	}
	env_dpdk_destroy(t->env);
	env_posix_destroy(t->storage);
	dp_port_destroy(t->port);
	for (size_t i = 0; i < DP_MEMPOOL_PLAN_MAX; i++) {
		dp_mempool_destroy(t->pools[i]);
	}
	if (t->eal_started) {
		dp_eal_stop();
	}
	base_free(t);
}

struct env_dpdk *
dp_tool_env(struct dp_tool *t)
{
	return t->env;
}

struct dp_port *
dp_tool_port(struct dp_tool *t)
{
	return t->port;
}

void
dp_tool_endpoints(const struct dp_tool *t, struct dp_frame_endpoint *self,
		  struct dp_frame_endpoint *peer)
{
	ASSERT(t != NULL && self != NULL && peer != NULL);
	*self = t->self;
	*peer = t->peer;
}

void
dp_tool_remove_runtime_dir(pid_t pid)
{
	char prefix[64];
	char path[256];
	DIR *dir;
	struct dirent *de;
	int n;

	dp_tool_file_prefix(pid, prefix, sizeof(prefix));
	n = snprintf(path, sizeof(path), RUNTIME_DIR "/%s", prefix);
	ASSERT(n > 0 && (size_t)n < sizeof(path));
	dir = opendir(path);
	if (dir == NULL) {
		return;
	}
	/* EAL puts only plain files there (config, fbarray); no recursion needed. */
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.') {
			(void)unlinkat(dirfd(dir), de->d_name, 0);
		}
	}
	(void)closedir(dir);
	(void)rmdir(path);
}

pid_t
dp_tool_spawn(char *const argv[], bool stdout_to_stderr)
{
	pid_t pid;

	ASSERT(argv != NULL && argv[0] != NULL);
	(void)fflush(NULL); /* buffered output must not be written twice */
	pid = fork();
	if (pid < 0) {
		return -errno;
	}
	if (pid == 0) {
		if (stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			_exit(127);
		}
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static int
status_code(int status)
{
	if (WIFEXITED(status)) {
		return WEXITSTATUS(status);
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

int
dp_tool_wait_all(const pid_t *pids, int *statuses, size_t count, uint64_t deadline_ns)
{
	struct timespec pause = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
	size_t left = count;
	bool done[16] = {false};
	int rc = 0;

	ASSERT(count <= AE_ARRAY_SIZE(done));
	while (left > 0 && dp_run_now_ns() < deadline_ns) {
		for (size_t i = 0; i < count; i++) {
			int status;

			if (!done[i] && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				statuses[i] = status_code(status);
				done[i] = true;
				left--;
			}
		}
		(void)nanosleep(&pause, NULL); /* polling a child's exit, bounded by the deadline */
	}
	for (size_t i = 0; i < count; i++) {
		if (!done[i]) {
			(void)kill(pids[i], SIGKILL);
			(void)waitpid(pids[i], NULL, 0);
			statuses[i] = -1;
			rc = -ETIMEDOUT;
		}
	}
	return rc;
}
