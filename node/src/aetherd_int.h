/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aetherd's private parts: the daemon is one struct aetherd, built at startup from the config,
 * then driven by one pinned loop on the control lcore (aetherd.c):
 *
 *   loop: node_shard_poll (consensus, KV, storage completions, transfers)
 *         ctl_server_poll about every millisecond (operator requests; KV writes are submitted to
 *                         the shard and answered from its on_reply hook through their ticket)
 *         node_peers_poll every 10 ms (logs peer state changes)
 *         node_bench_poll (only while an operator's BENCH runs: submits the next KV writes)
 *         node_workers_poll (the worker lcores' replies: answers slice requests)
 *         idle policy (dataplane/idle.h through dp_run): spin, yield, then growing sleeps
 *
 * Files: aetherd.c (main, startup, loop, shutdown), aetherd_args.c (command line, config file,
 * secret file), aetherd_ctl.c (the operator request handler), aetherd_bench.c (the BENCH load
 * generator), aetherd_net.c (transport choice:
 * udp over env_posix), aetherd_memif.c (memif over env_dpdk), aetherd_xdp.c (af_xdp and pci:
 * one shared port, env_dpdk and node_frag), aetherd_durable.c (counters that
 * must never repeat across restarts), aetherd_log.c (the stderr sink), aetherd_lcore.c and
 * node_lcore.c (worker lcores hosting slices, and their message channel).
 * Context: everything runs on the one control thread, except each worker lcore's loop
 * (aetherd_lcore.c), which shares nothing with it but its node_lcore channel.
 */
#ifndef AETHER_NODE_AETHERD_INT_H
#define AETHER_NODE_AETHERD_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/hist.h"
#include "base/log.h"
#include "ctl/ctl_server.h"
#include "env/env.h"
#include "env/env_posix.h"
#include "node/node_config.h"
#include "node/node_peers.h"
#include "node/node_shard.h"

/* Exit statuses (docs/operators.md). */
#define NODE_EXIT_OK      0
#define NODE_EXIT_RUNTIME 1 /* could not start or run: socket in use, transport, storage */
#define NODE_EXIT_USAGE   2 /* bad command line, bad config, missing or bad secret file */

#define NODE_ERROR_MAX 512

/* ---- Command line (aetherd_args.c) ---- */

#define NODE_ARGS_SETS_MAX      32
#define NODE_ARGS_SHORTCUTS_MAX 4
#define NODE_ARGS_SHORTCUT_SIZE (NODE_CONFIG_SOCKET_PATH_MAX + 32)

/* Strings borrow argv, except the shortcuts, which are built here. */
struct node_args {
	const char *config_path; /* NULL: defaults and overrides only */
	const char *sets[NODE_ARGS_SETS_MAX];
	size_t set_count;
	char shortcuts[NODE_ARGS_SHORTCUTS_MAX][NODE_ARGS_SHORTCUT_SIZE];
	size_t shortcut_count;
	bool help;
	bool version;
	bool print_config;
};

/*
 * Parses argv: --config PATH, --set NAME=VALUE (repeatable), --node-id N and --socket PATH
 * (shortcuts for --set node_id=N and --set socket_path=PATH), --print-config, --help, --version;
 * "--opt=value" works too. Overrides apply in order after the file. Returns 0, or -EINVAL with
 * one line in err.
 */
AE_MUST_CHECK int node_args_parse(struct node_args *a, int argc, char **argv, char *err,
				  size_t err_size);

/*
 * Defaults, then the config file (when given), then every override, then node_config_check.
 * Returns 0 or the parser's negative code with its one-line message (file and line) in err.
 */
AE_MUST_CHECK int node_args_load_config(const struct node_args *a, struct node_config *cfg,
					char *err, size_t err_size);

/* The cluster secret: the file's bytes without one trailing newline (dataplane/auth.h bounds). */
#define NODE_SECRET_MIN 16u
#define NODE_SECRET_MAX 64u

struct node_secret {
	uint8_t bytes[NODE_SECRET_MAX];
	size_t size;
};

/*
 * Reads secret_file. Returns 0; a negative errno (missing, unreadable) or -EINVAL (size out of
 * bounds) with one line in err. Warns through log when the file is readable by others.
 */
AE_MUST_CHECK int node_secret_load(const char *path, const struct base_log *log,
				   struct node_secret *out, char *err, size_t err_size);

/* The first CPU number of a checked lcores list ("3" of "3-5,7"). */
uint32_t node_lcores_first(const char *lcores);

/* ---- Log (aetherd_log.c) ---- */

struct node_log {
	struct base_log log;
	uint32_t node_id;
};

/* A sink writing "<UTC time> aetherd[<node>] <level>: <line>" to stderr. */
void node_log_init(struct node_log *l, uint32_t node_id, enum base_log_level level);

/* ---- Durable counters (aetherd_durable.c) ---- */

/* How long node_durable_reserve waits for its put and sync to complete. */
#define NODE_DURABLE_WAIT_NS (10ull * 1000 * 1000 * 1000)

/*
 * Reads the u64 stored in object `name` (0 when absent), stores old + step durably (put, sync,
 * both completions awaited by polling, at most NODE_DURABLE_WAIT_NS) and returns old in *out.
 * For values that must never repeat across restarts, whatever crashed. Startup only, before
 * the shard takes over storage completions. Returns 0, -EBADMSG for an object of the wrong
 * size, -ETIMEDOUT when the storage did not complete in time (a stalled disk), or the storage
 * error.
 */
AE_MUST_CHECK int node_durable_reserve(const struct env_ops *storage, const char *name,
				       uint64_t step, uint64_t *out);

/* ---- Transport (aetherd_net.c, aetherd_memif.c, aetherd_xdp.c) ---- */

struct node_memif;
struct node_xdp;

struct node_net {
	enum node_transport transport;
	struct env_posix *posix; /* udp: transport and storage; DPDK transports: storage only */
	struct node_memif *memif;
	struct node_xdp *xdp;      /* af_xdp, pci */
	const struct env_ops *ops; /* what the node uses: time, transport, storage */
};

/*
 * Opens the configured transport (and the data directory). Returns 0, or a negative errno with
 * one line in err (bind failure, unresolvable host, EAL failure, ...).
 */
AE_MUST_CHECK int node_net_open(struct node_net *net, const struct node_config *cfg,
				const struct node_secret *secret, const struct base_log *log,
				char *err, size_t err_size);
void node_net_close(struct node_net *net);
/* The seed for local PRNGs (never for the coin): stable per node. */
uint64_t node_net_seed(const struct node_config *cfg);
/*
 * The transport's refusal counters for STATUS (ctl_proto.h, struct ctl_frame_counters): fills
 * *transport and the first eight counters of *out (the shard's are the caller's); the others
 * are left alone. memif: env_dpdk's decoder and authenticator, plus frames its ports dropped
 * as too long; udp: env_posix's unknown sources and oversize datagrams.
 */
void node_net_counters(const struct node_net *net, enum ctl_transport *transport,
		       struct ctl_frame_counters *out);

AE_MUST_CHECK int node_memif_open(struct node_memif **out, const struct node_config *cfg,
				  const struct node_secret *secret, const struct env_ops *storage,
				  const struct base_log *log, char *err, size_t err_size);
const struct env_ops *node_memif_ops(const struct node_memif *m);
/* The memif half of node_net_counters. */
void node_memif_counters(const struct node_memif *m, struct ctl_frame_counters *out);
/* NULL allowed. */
void node_memif_close(struct node_memif *m);

/*
 * af_xdp and pci (aetherd_xdp.c): EAL, one mbuf pool, ONE port shared by every peer (frames are
 * addressed by the peer's MAC and IPv4 address from the peers line), env_dpdk over it, and
 * node_frag over that, so datagrams larger than the port's MTU still travel. Same contract as
 * node_memif_open; errors name the interface or PCI address and what to do.
 */
AE_MUST_CHECK int node_xdp_open(struct node_xdp **out, const struct node_config *cfg,
				const struct node_secret *secret, const struct env_ops *storage,
				const struct base_log *log, char *err, size_t err_size);
const struct env_ops *node_xdp_ops(const struct node_xdp *x);
/* The af_xdp/pci half of node_net_counters (env_dpdk, its port, and node_frag's bad). */
void node_xdp_counters(const struct node_xdp *x, struct ctl_frame_counters *out);
/* NULL allowed. */
void node_xdp_close(struct node_xdp *x);

/* Shared by the DPDK transports. The control lcore's cpu: the first of lcores, else the first
 * cpu the process may use. */
uint32_t node_dpdk_cpu(const struct node_config *cfg);
/* EAL leaves /var/run/dpdk/<prefix> behind (plain files only); a pid-named one per start would
 * pile up, so the node removes its own. */
void node_dpdk_runtime_dir_remove(const char *prefix);

/* ---- Benchmark (aetherd_bench.c) ---- */

/*
 * BENCH (ctl_proto.h) runs a KV write load generator inside this loop, so that what it times is
 * consensus (node_shard_submit to the shard's answer through on_reply), not the operator socket:
 * a unix socket round trip per write would cost more than the commit itself. `inflight` bench
 * clients each keep one PUT of key "bench/<node>/<index>" in flight; a client whose answer
 * arrives submits its next write at the next poll (hooks may not call the shard). Each write is
 * timed from just before its submission to its answer, on the node's monotonic clock, into a
 * base_hist. After duration_ms no new writes start; the answer goes out when every write in
 * flight is answered, or NODE_BENCH_DRAIN_NS later, the unanswered ones counted as lost. While
 * it runs the loop never idles (the generator always has work), which is the point: the figures
 * are those of a busy node. One run at a time per node; the ticket says who gets the answer.
 *
 * Bench clients have ids (node_id << 16) | (NODE_BENCH_CLIENT_BASE + index): unique in the
 * cluster, above every operator connection's id, without NODE_LEADER_CLIENT_BIT. Their sequence
 * numbers come from the same durably reserved range as the operators'. Memory: everything is
 * in struct aetherd (claimed at startup); the shard's proxy table has room for every bench
 * client next to the operators (aetherd_shard_config).
 */
#define NODE_BENCH_CLIENT_BASE 0x8000u
#define NODE_BENCH_DRAIN_NS    (2000ull * 1000 * 1000)
/* "bench/" + a u32 node id + "/" + an index below CTL_BENCH_INFLIGHT_MAX, and the NUL. */
#define NODE_BENCH_KEY_MAX     32

struct node_bench {
	bool is_running;
	struct ctl_ticket ticket;
	struct ctl_bench_params params;
	uint64_t start_ns;
	uint64_t end_ns;     /* no new write starts at or after this */
	uint64_t give_up_ns; /* writes unanswered by then are lost */
	uint64_t last_answer_ns;
	uint64_t ops;
	uint64_t errors;
	uint32_t inflight_count;
	/* Idle clients, a stack of indexes: a poll submits exactly the clients that are free. */
	uint32_t idle_count;
	uint32_t idle[CTL_BENCH_INFLIGHT_MAX];
	uint64_t seq[CTL_BENCH_INFLIGHT_MAX];       /* the write in flight; 0: idle */
	uint64_t submit_ns[CTL_BENCH_INFLIGHT_MAX]; /* when it was submitted */
	uint8_t key_size[CTL_BENCH_INFLIGHT_MAX];
	char key[CTL_BENCH_INFLIGHT_MAX][NODE_BENCH_KEY_MAX];
	uint8_t value[CTL_BENCH_VALUE_MAX];
	struct base_hist hist;
};

struct aetherd;

/*
 * Starts a run for req (type BENCH, parameters checked by the codec) answered later through
 * ticket. Returns CTL_REPLY_LATER, or CTL_REPLY_NOW with an error in resp: UNAVAILABLE when a
 * run is already going.
 */
enum ctl_reply node_bench_start(struct aetherd *d, const struct ctl_request *req,
				struct ctl_ticket ticket, struct ctl_response *resp);
/* Submits the free clients' next writes and ends the run when due; 1 while running, else 0. */
int node_bench_poll(struct aetherd *d, uint64_t now_ns);
/* From the shard's on_reply hook: true when client_id is a bench client (answer consumed). */
bool node_bench_on_reply(struct aetherd *d, uint64_t client_id, uint64_t client_seq,
			 const uint8_t *result, size_t result_size);

/* ---- Worker lcores (aetherd_lcore.c, node_lcore.h) ---- */

/*
 * Every cpu of `lcores` after the first runs a worker lcore: a thread pinned to that cpu
 * (numa_hwloc through dp_run) running the idle-policy loop of the config. It owns a slice
 * runtime (slices/runtime.h) with its own repository handle (the `repository` option) and numa
 * plan, and hears from the control lcore only through its node_lcore channel: fixed-size
 * messages on two SPSC rings, payloads by reference to a buffer of the control lcore's request
 * slot (one per operator connection), no locks. With the EAL up (memif, af_xdp, pci), the EAL
 * is started with one lcore per worker cpu (node_eal_lcores) and each worker is launched on
 * its lcore (rte_eal_remote_launch) over two rte_rings created SP/SC (dataplane/dp_lcore.h);
 * with udp (no EAL), a pthread pinned through hwloc over base/ring.h SPSC rings. The log says
 * which, per worker.
 *
 * The control lcore keeps the slice table (coordinate -> worker, instance, state): SLICE_LOAD,
 * SLICE_CALL and SLICE_UNLOAD go to the worker concerned and are answered (CTL_REPLY_LATER)
 * when its reply comes back through node_workers_poll; SLICE_LIST is answered from the table.
 * Without workers, without a repository, or when the repository cannot be opened, slice
 * requests are answered UNAVAILABLE with one line saying which. Shutdown sends STOP to each
 * worker, which tears its runtime down (hooks drained, bounded) and ends; then it is joined.
 */
struct node_workers;

/* Startup, before the heap is sealed: channels, runtimes, threads. No workers with fewer than
 * two cpus in lcores. Returns 0 or a negative errno with one line in err. */
AE_MUST_CHECK int node_workers_open(struct aetherd *d, char *err, size_t err_size);
/* The cpus of a checked lcores list in order ("0,2-3": 0 2 3); returns how many (<= max). */
uint32_t node_lcores_cpus(const char *lcores, uint32_t *cpus, uint32_t max);
/*
 * The EAL's lcores for dp_eal_config (aetherd_memif.c, aetherd_xdp.c): lcore 0 on the control
 * cpu (node_dpdk_cpu), then one per worker cpu of lcores; at most max (<= DP_EAL_LCORE_MAX, so
 * workers beyond it run as pthreads). Returns the count (>= 1).
 */
uint32_t node_eal_lcores(const struct node_config *cfg, uint32_t *cpus, uint32_t max);
/* STOP, join, free. NULL-safe (d->workers may be NULL). */
void node_workers_close(struct aetherd *d);
/* The control loop: takes the workers' replies and answers the operators; returns the work. */
int node_workers_poll(struct aetherd *d);
/* The ctl handler for SLICE_LOAD, SLICE_CALL, SLICE_UNLOAD and SLICE_LIST. */
enum ctl_reply node_slice_handle(struct aetherd *d, const struct ctl_request *req,
				 struct ctl_ticket ticket, struct ctl_response *resp);
/* Fills info's workers for STATUS. */
void node_workers_status(struct aetherd *d, struct ctl_status_info *info);

/* ---- The daemon ---- */

/* A KV request waiting for consensus; one per operator connection (ticket.slot). */
struct node_pending {
	bool is_used;
	struct ctl_ticket ticket;
	enum ctl_msg_type type;
	uint64_t client_seq;
};

struct aetherd {
	struct node_config cfg;
	struct node_log log;
	struct node_secret secret;
	struct node_net net;
	struct node_peers peers;
	struct node_shard_hooks hooks;
	struct node_shard *shard;
	struct ctl_server *ctl;
	struct numa_hwloc *hwloc;
	struct node_pending pending[CTL_SERVER_CONNECTIONS_MAX];
	/* The members (peers, or just this node) and their "host:port" for NODES. */
	size_t member_count;
	uint32_t members[NODE_CONFIG_PEERS_MAX];
	char member_addr[NODE_CONFIG_PEERS_MAX][NODE_CONFIG_HOST_MAX + 8];
	/* Client sequence numbers: [seq_next, seq_limit) is reserved durably (ctl.seq). */
	uint64_t seq_next;
	uint64_t seq_limit;
	uint64_t now_ns;
	/* Rabia event log rate limit (aetherd_on_event). */
	uint64_t event_log_ns;
	uint32_t event_log_count;
	uint64_t event_log_dropped;
	uint64_t next_ctl_ns;
	uint64_t next_peers_ns;
	uint64_t datagrams_seen; /* node_peers' total at the last poll: new ones mean work */
	uint8_t *cmd;            /* one encoded kv command (request_bytes_max) */
	size_t cmd_capacity;
	struct ctl_response *reply; /* the deferred answer being built */
	struct node_bench bench;
	struct node_workers *workers; /* NULL: no worker lcores */
	volatile sig_atomic_t *stop;
};

/* The ctl_server handler (aetherd_ctl.c); ctx is the struct aetherd. */
ctl_handler_fn node_ctl_handle;
/* The shard's on_reply hook: answers the operator waiting for (client_id, client_seq). */
void node_ctl_on_reply(void *ctx, uint32_t node, uint64_t client_id, uint64_t client_seq,
		       const uint8_t *result, size_t result_size);
/* The client id of operator connection slot `slot` on this node (unique in the cluster). */
uint64_t node_ctl_client_id(uint32_t node_id, uint32_t slot);

#endif /* AETHER_NODE_AETHERD_INT_H */
