/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the dataplane tools (dp_peer, dp_latency) and the integration test driver:
 * bringing up one node's dataplane for a single link, memif or AF_XDP (EAL without hugepages, a
 * mempool, the port, an env_posix for storage, env_dpdk), and launching child processes with a
 * deadline.
 * Not a public API: the node (node/) wires the dataplane from its own configuration.
 */
#ifndef AETHER_DATAPLANE_TOOLS_DP_TOOL_H
#define AETHER_DATAPLANE_TOOLS_DP_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/compiler.h"
#include "base/log.h"
#include "dataplane/fault.h"
#include "dataplane/frame.h"

/* Exit codes of dp_peer (the driver maps them to TAP). */
#define DP_TOOL_EXIT_OK     0
#define DP_TOOL_EXIT_FAIL   1
#define DP_TOOL_EXIT_USAGE  2
#define DP_TOOL_EXIT_NO_EAL 3 /* EAL cannot start here: the test skips */

/* The test cluster's identity (both peers use the same). */
#define DP_TOOL_CLUSTER_ID 0xae7e0001u
#define DP_TOOL_EPOCH      1u

struct dp_tool_config {
	uint32_t self_id;
	uint32_t peer_id;
	const char *run_dir; /* memif socket and storage directory live here */
	uint32_t cpu;        /* the cpu to pin to (EAL lcore 0 and hwloc) */
	bool auth_disabled;
	uint32_t incarnation;
	const uint8_t *secret;
	size_t secret_size;
	const struct dp_fault_config *fault; /* NULL: none */
	uint64_t link_timeout_ns;
	struct base_log log;
	/*
	 * NULL: a memif link in run_dir. Otherwise the AF_XDP port on this interface (borrowed):
	 * this node's endpoint is the port's MAC with self_ipv4, the peer's is peer_mac with
	 * peer_ipv4 (host byte order), both on DP_FRAME_UDP_PORT_DEFAULT.
	 */
	const char *af_xdp_ifname;
	uint32_t af_xdp_busy_budget; /* dp_port_config.af_xdp.busy_budget */
	uint32_t self_ipv4;
	uint8_t peer_mac[6];
	uint32_t peer_ipv4;
};

struct dp_tool;

/*
 * Starts everything for one node. Returns 0 and *out; DP_TOOL_EXIT_NO_EAL-worthy failures of
 * EAL come back as -EACCES/-EPERM/-ENOMEM etc. with *eal_failed set so the caller can skip;
 * other negative errnos with a message in *what.
 */
AE_MUST_CHECK int dp_tool_start(const struct dp_tool_config *cfg, struct dp_tool **out,
				bool *eal_failed, const char **what);
void dp_tool_stop(struct dp_tool *t);

struct env_dpdk *dp_tool_env(struct dp_tool *t);
struct dp_port *dp_tool_port(struct dp_tool *t);

/* The addresses env_dpdk writes into frames: this node's and the peer's. */
void dp_tool_endpoints(const struct dp_tool *t, struct dp_frame_endpoint *self,
		       struct dp_frame_endpoint *peer);

/* The EAL file prefix this process uses ("aether-dp-<pid>"), so a driver can clean it up. */
void dp_tool_file_prefix(pid_t pid, char *buf, size_t size);

/* Removes /var/run/dpdk/<prefix> (and its files) that EAL leaves behind; best effort. */
void dp_tool_remove_runtime_dir(pid_t pid);

/*
 * fork + execv(argv[0], argv); returns the child's pid or a negative errno. With
 * stdout_to_stderr the child's standard output goes to the parent's standard error (a TAP
 * driver keeps its stdout for TAP lines).
 */
AE_MUST_CHECK pid_t dp_tool_spawn(char *const argv[], bool stdout_to_stderr);

/*
 * Waits for every pid (count of them) until deadline_ns (CLOCK_MONOTONIC); kills the ones still
 * running then (SIGKILL) and reaps them. statuses[i] is the exit code, or -1 when killed by the
 * deadline, or 128 + signal when a signal ended it. Returns 0, or -ETIMEDOUT if any was killed.
 */
AE_MUST_CHECK int dp_tool_wait_all(const pid_t *pids, int *statuses, size_t count,
				   uint64_t deadline_ns);

#endif /* AETHER_DATAPLANE_TOOLS_DP_TOOL_H */
