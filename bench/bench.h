/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aether-bench subcommands (ARCHITECTURE.md section 9): each measures one path and prints its
 * percentiles next to a baseline measured in the same run, as text or as one JSON object.
 */
#ifndef AETHER_BENCH_BENCH_H
#define AETHER_BENCH_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* The p-th percentile (0..100) of samples[0..count), which it sorts in place. */
uint64_t bench_percentile(uint64_t *samples, size_t count, double p);

/* `aether-bench slice ...`: argc/argv start after the subcommand. Returns the exit status. */
int bench_slice_main(int argc, char **argv);

/* `aether-bench consensus ...` (bench_consensus.c), same conventions. */
int bench_consensus_main(int argc, char **argv);

/* ---- A local cluster of real aetherd processes (bench_cluster.c) ---- */

#define BENCH_NS_PER_S  UINT64_C(1000000000)
#define BENCH_NODES_MAX 7
#define BENCH_PATH_MAX  256

/* Set by the bench's SIGINT/SIGTERM/SIGHUP handler; every wait gives up when it is set. */
extern volatile sig_atomic_t bench_interrupted;

/*
 * The caller fills the first block; bench_cluster_start fills the rest. Node i (1..nodes) is
 * pinned to cpu[i], the CPUs this process may use taken round robin; load_node is the node
 * with a CPU of its own (node 1 when there is none), where the load generator belongs.
 */
struct bench_cluster {
	const char *aetherd;    /* the daemon's path */
	const char *parent_dir; /* where the temporary run directory goes */
	const char *transport;  /* "memif" or "udp" */
	uint32_t nodes;         /* 1..BENCH_NODES_MAX */
	uint16_t base_port;     /* node i listens on base_port + i (udp) */
	uint64_t cluster_id;
	bool keep;        /* keep the run directory (logs) after stopping */
	bool is_auth_off; /* auth = false: memif frames unauthenticated (closed machines only) */
	const char *durability; /* "sync" or "replicated", written as each node's durability */

	char dir[BENCH_PATH_MAX]; /* the run directory; empty when not started */
	uint32_t cpu_count;
	uint32_t cpu[BENCH_NODES_MAX + 1];
	pid_t pid[BENCH_NODES_MAX + 1];      /* running; 0 once reaped */
	pid_t launched[BENCH_NODES_MAX + 1]; /* as started, kept after reaping */
	int wait_status[BENCH_NODES_MAX + 1];
	uint32_t load_node;
};

/*
 * Creates the run directory, writes the secret and one config per node, starts every node and
 * waits (bounded by ready_timeout_ns) until each answers STATUS knowing a leader. On failure it
 * prints why (with the end of the failing node's log) and returns a negative errno; the caller
 * still calls bench_cluster_stop. Registers an atexit handler that stops a started cluster.
 */
int bench_cluster_start(struct bench_cluster *c, uint64_t ready_timeout_ns);
/*
 * SIGTERM, a bounded wait, SIGKILL for stragglers; removes the nodes' DPDK runtime directories
 * (a node that crashed or was killed leaves its own behind) and the run directory unless keep.
 * A node that did not exit 0 is reported on stderr, its logs are kept, and the result is
 * -ECHILD (else 0).
 */
int bench_cluster_stop(struct bench_cluster *c);
/* "<dir>/node-<node><suffix>" into out (size >= BENCH_PATH_MAX). */
void bench_cluster_node_path(const struct bench_cluster *c, char *out, size_t size, uint32_t node,
			     const char *suffix);

struct ctl_request;
struct ctl_response;
/*
 * One request on a new connection to the operator socket at path, answered within timeout_ns.
 * resp's views borrow a static buffer until the next call. Returns 0 (resp may still carry a
 * non-OK status), -ETIMEDOUT, -EINTR (interrupted), -EBADMSG, or the socket's negative errno.
 */
int bench_ctl_call(const char *path, const struct ctl_request *req, struct ctl_response *resp,
		   uint64_t timeout_ns);

#endif /* AETHER_BENCH_BENCH_H */
