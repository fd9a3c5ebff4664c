/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aetherd: one Aether node. Startup claims everything (config, secret, pinning, operator socket,
 * transport, durable counters, shard), then seals the heap and runs one pinned loop until
 * SIGTERM or SIGINT; shutdown releases everything in reverse order and removes the socket.
 * aetherd_int.h describes the loop and the files; docs/operators.md the operator's view.
 */
#include "aetherd_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "dataplane/idle.h"
#include "dataplane/run.h"
#include "numa/numa_hwloc.h"

#define MS_NS               1000000ull
/* Operator requests are looked at this often when idle (each look is one poll() call). */
#define CTL_POLL_NS         (1 * MS_NS)
#define PEERS_POLL_NS       (10 * MS_NS)
/* Rabia event lines logged per window (aetherd_on_event). */
#define EVENT_LOG_BURST     20u
#define EVENT_LOG_WINDOW_NS (1000 * MS_NS)
/* STATUS period (durable marks, epochs), and how long a replica with work pending may see
 * no progress before it counts as stalled (node_shard_epoch.c). */
#define STATUS_INTERVAL_NS  (20 * MS_NS)
#define STALL_TIMEOUT_NS    (500 * MS_NS)
/* Rabia's idle heartbeat (DEC_REQ) and the silences that make a peer suspect, then down. */
#define HEARTBEAT_NS        (40 * MS_NS)
#define SUSPECT_AFTER_NS    (200 * MS_NS)
#define DOWN_AFTER_NS       (1000 * MS_NS)
#define LEADER_TIMEOUT_NS   (500 * MS_NS)
/* Client sequence numbers reserved per start (ctl.seq); a restart skips the unused rest. */
#define SEQ_RESERVE         (UINT64_C(1) << 32)
#define SEQ_OBJECT          "ctl.seq"
/* How long shutdown waits for the shard's storage writes to finish (env_posix, io_uring). */
#define STORAGE_DRAIN_NS    (5000 * MS_NS)

static volatile sig_atomic_t aetherd_stop_flag;

static void
aetherd_on_signal(int sig)
{
	aetherd_stop_flag = sig;
}

static const char aetherd_usage[] =
	"usage: aetherd [--config PATH] [--set NAME=VALUE]... [--node-id N] [--socket PATH]\n"
	"               [--print-config] [--help] [--version]\n"
	"\n"
	"Runs one Aether node until SIGTERM or SIGINT.\n"
	"\n"
	"  --config PATH     the configuration file (node/aetherd.conf.example documents every\n"
	"                    option and its default); without it, the defaults\n"
	"  --set NAME=VALUE  overrides one option (full dotted name, e.g. idle.spin_count=0);\n"
	"                    repeatable, applied in order after the file\n"
	"  --node-id N       the same as --set node_id=N\n"
	"  --socket PATH     the same as --set socket_path=PATH (the operator socket)\n"
	"  --print-config    prints the resulting configuration and exits\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 after a clean shutdown, 1 when the node cannot start or run (socket in\n"
	"use, transport, storage), 2 for a bad command line, configuration or secret file.\n"
	"Logs go to stderr. Operate the node with aetherctl --socket PATH.\n";

/* Members and their addresses, for NODES and the shard's Rabia membership. */
static void
aetherd_members(struct aetherd *d)
{
	const struct node_config *cfg = &d->cfg;

	if (cfg->peer_count == 0) {
		d->member_count = 1;
		d->members[0] = cfg->node_id;
		return;
	}
	d->member_count = cfg->peer_count;
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct node_config_peer *p = &cfg->peers[i];

		d->members[i] = p->node_id;
		if (p->port != 0) {
			(void)snprintf(d->member_addr[i], sizeof(d->member_addr[i]), "%s:%u",
				       p->host, (unsigned)p->port);
		}
	}
}

static void
aetherd_shard_config(const struct aetherd *d, struct node_shard_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	rabia_cfg_defaults(&sc->rabia);
	sc->rabia.cluster_id = d->cfg.cluster_id;
	/* The coin must be common to all members (R5): derived from the shared secret. */
	sc->rabia.coin_key = base_hash64(d->secret.bytes, d->secret.size, d->cfg.cluster_id);
	sc->rabia.self_id = d->cfg.node_id;
	sc->rabia.member_count = (uint32_t)d->member_count;
	memcpy(sc->rabia.members, d->members, d->member_count * sizeof(d->members[0]));
	/* One batch fills one datagram; one request may fill a batch. */
	sc->rabia.batch_bytes_max = RABIA_BATCH_BYTES_MAX;
	sc->rabia.request_bytes_max =
		RABIA_BATCH_BYTES_MAX - RABIA_BATCH_HEADER_SIZE - RABIA_REQUEST_HEADER_SIZE;
	sc->rabia.heartbeat_ns = HEARTBEAT_NS;
	/*
	 * Seal the open batch at the next step: the loop steps the shard on every poll, so a
	 * batch holds what arrived since the last poll (one write when the node is quiet, a full
	 * batch under load) and no write waits for a timer (the default 1 ms would be the whole
	 * commit latency).
	 */
	sc->rabia.batch_timeout_ns = 0;
	/* A batch is bounded by its bytes (one datagram), not by a count: small writes pack
	 * about 120 to a batch, which doubled aether-bench's throughput over the default 64. */
	sc->rabia.batch_count_max = RABIA_BATCH_COUNT_MAX;
	sc->kv.max_keys = 16384;
	sc->kv.max_key_size = KV_CMD_KEY_MAX;
	sc->kv.max_value_size = sc->rabia.request_bytes_max;
	sc->kv.data_budget_size = 8u * 1024u * 1024u;
	sc->kv.max_clients = 1024;
	sc->kv.index_seed = node_net_seed(&d->cfg);
	/* The operators' connections, and every BENCH client (aetherd_bench.c). */
	sc->clients_max = 4 * CTL_SERVER_CONNECTIONS_MAX + CTL_BENCH_INFLIGHT_MAX;
	sc->checkpoint_slots = 64;
	sc->transfer_window_chunks = 16;
	sc->transfer_retry_ns = 20 * MS_NS;
	sc->transfer_timeout_ns = 1000 * MS_NS;
	sc->leader_timeout_ns = LEADER_TIMEOUT_NS;
	sc->durability = d->cfg.durability == NODE_DURABILITY_SYNC ? NODE_SHARD_DURABLE_SYNC
								   : NODE_SHARD_DURABLE_REPLICATED;
	/* Room for a burst of full batches before a checkpoint must make room. */
	sc->log_buffer_bytes = 32u * 1024u * 1024u;
	sc->status_interval_ns = STATUS_INTERVAL_NS;
	sc->stall_timeout_ns = STALL_TIMEOUT_NS;
	/* replicated: group commits at most every millisecond (what a crash of more than f nodes
	 * at once may lose); sync flushes every commit group at once. */
	sc->log_flush_interval_ns = 1 * MS_NS;
}

static void
aetherd_on_leader(void *ctx, uint32_t node, int has_leader, const struct node_leader_value *v)
{
	struct aetherd *d = ctx;

	(void)node;
	if (has_leader) {
		base_logf(&d->log.log, BASE_LOG_INFO, "leader=%u term=%llu", (unsigned)v->node_id,
			  (unsigned long long)v->term);
	} else {
		base_logf(&d->log.log, BASE_LOG_WARN, "no leader in the applied state");
	}
}

static void
aetherd_on_epoch(void *ctx, uint32_t node, uint64_t epoch, uint64_t base_next)
{
	struct aetherd *d = ctx;

	(void)node;
	base_logf(&d->log.log, BASE_LOG_WARN,
		  "epoch=%llu starts at slot %llu (the cluster stalled)", (unsigned long long)epoch,
		  (unsigned long long)base_next);
}

static void
aetherd_on_event(void *ctx, uint32_t node, const struct rabia_event *ev)
{
	struct aetherd *d = ctx;
	enum base_log_level level = BASE_LOG_WARN;

	(void)node;
	if (ev->type == RABIA_EVENT_NEED_TRANSFER || ev->type == RABIA_EVENT_PEER_NEEDS_TRANSFER) {
		level = BASE_LOG_INFO;
	} else if (ev->type == RABIA_EVENT_STORAGE_FAILED) {
		level = BASE_LOG_ERROR;
	}
	/* A faulty or hostile peer can cause an event per message: at most EVENT_LOG_BURST lines
	 * per second, then one line saying how many were left out (counters keep them all). */
	if (d->now_ns - d->event_log_ns >= EVENT_LOG_WINDOW_NS) {
		if (d->event_log_dropped != 0) {
			base_logf(&d->log.log, BASE_LOG_WARN,
				  "rabia events: %llu more in the last second not logged",
				  (unsigned long long)d->event_log_dropped);
		}
		d->event_log_ns = d->now_ns;
		d->event_log_count = 0;
		d->event_log_dropped = 0;
	}
	if (d->event_log_count >= EVENT_LOG_BURST) {
		d->event_log_dropped++;
		return;
	}
	d->event_log_count++;
	base_logf(&d->log.log, level, "rabia event=%d peer=%u slot=%llu code=%d", (int)ev->type,
		  (unsigned)ev->peer, (unsigned long long)ev->slot, ev->code);
}

static void
aetherd_on_installed(void *ctx, uint32_t node, uint64_t slot)
{
	struct aetherd *d = ctx;

	(void)node;
	base_logf(&d->log.log, BASE_LOG_INFO, "installed a snapshot from a peer: slot=%llu",
		  (unsigned long long)slot);
}

/* Pins this (the control) thread to the first cpu of lcores, when lcores is set. */
static int
aetherd_pin(struct aetherd *d, char *err, size_t err_size)
{
	const char *reason = NULL;
	uint32_t cpu;
	int rc;

	if (d->cfg.lcores[0] == '\0') {
		return 0;
	}
	cpu = node_lcores_first(d->cfg.lcores);
	rc = numa_hwloc_create(&d->hwloc, NULL, &reason);
	if (rc == 0) {
		rc = numa_hwloc_bind_thread(d->hwloc, cpu);
	}
	if (rc != 0) {
		(void)snprintf(err, err_size, "cannot pin to cpu %u (lcores = %s): %s%s%s",
			       (unsigned)cpu, d->cfg.lcores, strerror(-rc), reason ? ": " : "",
			       reason ? reason : "");
		return rc;
	}
	base_logf(&d->log.log, BASE_LOG_INFO, "control lcore pinned to cpu %u", (unsigned)cpu);
	return 0;
}

static int
aetherd_ctl_open(struct aetherd *d, char *err, size_t err_size)
{
	struct ctl_server_config cc;

	memset(&cc, 0, sizeof(cc));
	cc.socket_path = d->cfg.socket_path;
	cc.operator_group = d->cfg.operator_group;
	cc.log = d->log.log;
	cc.handler = node_ctl_handle;
	cc.handler_ctx = d;
	return ctl_server_create(&cc, &d->ctl, err, err_size);
}

/* The peers layer over the transport, then the shard over it, started from its storage. */
static int
aetherd_shard_open(struct aetherd *d, char *err, size_t err_size)
{
	struct node_peers_config pc;
	struct node_shard_config sc;
	int rc;

	memset(&pc, 0, sizeof(pc));
	pc.self_id = d->cfg.node_id;
	for (size_t i = 0; i < d->member_count; i++) {
		if (d->members[i] != d->cfg.node_id) {
			pc.peer_ids[pc.peer_count++] = d->members[i];
		}
	}
	pc.suspect_after_ns = SUSPECT_AFTER_NS;
	pc.down_after_ns = DOWN_AFTER_NS;
	node_peers_init(&d->peers, &pc, d->net.ops);
	aetherd_shard_config(d, &sc);
	d->hooks.ctx = d;
	d->hooks.on_reply = node_ctl_on_reply;
	d->hooks.on_leader = aetherd_on_leader;
	d->hooks.on_event = aetherd_on_event;
	d->hooks.on_installed = aetherd_on_installed;
	d->hooks.on_epoch = aetherd_on_epoch;
	rc = node_shard_create(&sc, node_peers_ops(&d->peers), &d->hooks, &d->shard);
	if (rc == 0) {
		rc = node_shard_start(d->shard, d->net.ops->now_ns(d->net.ops->ctx));
	}
	if (rc != 0) {
		(void)snprintf(err, err_size, "cannot start the shard from data_dir %s: %s%s",
			       d->cfg.data_dir, strerror(-rc),
			       rc == -EBADMSG ? " (a durable object is corrupt)" : "");
		return rc;
	}
	d->cmd_capacity = sc.rabia.request_bytes_max;
	d->cmd = base_alloc(d->cmd_capacity);
	d->reply = base_alloc(sizeof(*d->reply));
	if (d->cmd == NULL || d->reply == NULL) {
		(void)snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
aetherd_seq_reserve(struct aetherd *d, char *err, size_t err_size)
{
	int rc = node_durable_reserve(env_posix_ops(d->net.posix), SEQ_OBJECT, SEQ_RESERVE,
				      &d->seq_next);

	if (rc == -ETIMEDOUT) {
		(void)snprintf(err, err_size,
			       "cannot reserve client sequence numbers in %s: the disk did not "
			       "complete a write and fsync within %llu s",
			       d->cfg.data_dir, NODE_DURABLE_WAIT_NS / 1000000000ull);
		return rc;
	}
	if (rc != 0) {
		(void)snprintf(err, err_size, "cannot reserve client sequence numbers in %s: %s",
			       d->cfg.data_dir, strerror(-rc));
		return rc;
	}
	/* Sequence 0 is never used: the KV store's dedupe table starts every client at 0. */
	d->seq_next += 1;
	d->seq_limit = d->seq_next - 1 + SEQ_RESERVE;
	return 0;
}

/* Startup in dependency order; the caller's aetherd_close undoes whatever was done. */
static int
aetherd_open(struct aetherd *d, char *err, size_t err_size)
{
	int rc;

	aetherd_members(d);
	rc = aetherd_pin(d, err, err_size);
	if (rc == 0) {
		rc = aetherd_ctl_open(d, err, err_size);
	}
	if (rc == 0) {
		rc = node_net_open(&d->net, &d->cfg, &d->secret, &d->log.log, err, err_size);
	}
	if (rc == 0) {
		rc = aetherd_seq_reserve(d, err, err_size);
	}
	if (rc == 0) {
		rc = aetherd_shard_open(d, err, err_size);
	}
	if (rc == 0) {
		rc = node_workers_open(d, err, err_size);
	}
	return rc;
}

/*
 * env_posix's io_uring storage finishes puts, appends and syncs after the calls return, so
 * shutdown polls the shard (which consumes its completions) until every storage operation
 * accepted by then has finished: Rabia's last durable record is then the one on disk. Bounded
 * by STORAGE_DRAIN_NS; past it, env_posix_destroy still waits for the kernel.
 */
static void
aetherd_storage_drain(struct aetherd *d)
{
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = 50000};
	const struct env_ops *ops = d->net.ops;
	uint64_t now = ops->now_ns(ops->ctx);
	uint64_t deadline = now + STORAGE_DRAIN_NS;
	uint64_t mark;

	(void)node_shard_poll(d->shard, now); /* whatever the shard was about to write */
	mark = env_posix_storage_mark(d->net.posix);
	while (!env_posix_storage_reached(d->net.posix, mark)) {
		now = ops->now_ns(ops->ctx);
		if (now >= deadline) {
			base_logf(&d->log.log, BASE_LOG_ERROR,
				  "shutdown: storage writes in %s unfinished after %llu ms "
				  "(disk stalled?); waiting for the kernel without the shard",
				  d->cfg.data_dir, (unsigned long long)(STORAGE_DRAIN_NS / MS_NS));
			return;
		}
		(void)node_shard_poll(d->shard, now);
		(void)nanosleep(&nap, NULL);
	}
}

static void
aetherd_close(struct aetherd *d)
{
	node_workers_close(d);
	if (d->shard != NULL) {
		aetherd_storage_drain(d);
		node_shard_destroy(d->shard);
	}
	base_free(d->reply);
	base_free(d->cmd);
	if (d->net.ops != NULL) {
		node_net_close(&d->net);
	}
	ctl_server_destroy(d->ctl);
	numa_hwloc_destroy(d->hwloc);
}

/* One turn of the control loop; returns the work done (dp_run's idle policy) or DP_RUN_STOP. */
static int
aetherd_poll(void *ctx, uint64_t now_ns)
{
	struct aetherd *d = ctx;
	int work = 0;

	if (*d->stop != 0) {
		return DP_RUN_STOP;
	}
	d->now_ns = now_ns;
	(void)node_shard_poll(d->shard, now_ns);
	if (d->peers.recv_count != d->datagrams_seen) {
		d->datagrams_seen = d->peers.recv_count;
		work++;
	}
	if (now_ns >= d->next_ctl_ns) {
		int rc = ctl_server_poll(d->ctl, now_ns);

		if (rc < 0) {
			base_logf(&d->log.log, BASE_LOG_ERROR, "operator socket: %s",
				  strerror(-rc));
			return rc;
		}
		work += rc;
		/* After work, look again at once: a client often sends its next request next. */
		d->next_ctl_ns = rc > 0 ? now_ns : now_ns + CTL_POLL_NS;
	}
	if (now_ns >= d->next_peers_ns) {
		(void)node_peers_poll(&d->peers, now_ns);
		d->next_peers_ns = now_ns + PEERS_POLL_NS;
	}
	work += node_bench_poll(d, now_ns);
	work += node_workers_poll(d);
	return work;
}

static void
aetherd_idle(const struct aetherd *d, struct dp_idle_config *idle)
{
	uint64_t max_ns = (uint64_t)d->cfg.idle.sleep_max_us * 1000u;

	if (max_ns > DP_IDLE_SLEEP_NS_MAX) {
		base_logf(&d->log.log, BASE_LOG_WARN,
			  "idle.sleep_max_us=%u is above %u us: using %u us, so consensus timers "
			  "still fire on time",
			  (unsigned)d->cfg.idle.sleep_max_us, DP_IDLE_SLEEP_NS_MAX / 1000u,
			  DP_IDLE_SLEEP_NS_MAX / 1000u);
		max_ns = DP_IDLE_SLEEP_NS_MAX;
	}
	idle->spin_polls = d->cfg.idle.spin_count;
	idle->yield_polls = d->cfg.idle.yield_count;
	idle->sleep_ns_max = max_ns;
	idle->sleep_ns_min = max_ns < 1000u ? max_ns : 1000u;
}

static int
aetherd_run(struct aetherd *d)
{
	struct dp_run_config rc;
	struct dp_run_stats stats;
	int err;

	dp_run_config_default(&rc);
	aetherd_idle(d, &rc.idle);
	/* Already pinned by aetherd_pin (before EAL or anything else started threads). */
	rc.hwloc = NULL;
	err = dp_run(&rc, aetherd_poll, d, &stats);
	base_logf(&d->log.log, BASE_LOG_INFO,
		  "loop ended: polls=%llu busy=%llu yields=%llu sleeps=%llu",
		  (unsigned long long)stats.poll_count, (unsigned long long)stats.busy_count,
		  (unsigned long long)stats.yield_count, (unsigned long long)stats.sleep_count);
	return err;
}

static void
aetherd_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	/* No SA_RESTART: a signal cuts an idle sleep short, so shutdown starts at once. */
	sa.sa_handler = aetherd_on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
}

static int
aetherd_print_config(const struct node_config *cfg)
{
	/* 64 peers of the longest host name fit: 64 * (253 + 20) plus the other options. */
	size_t capacity = 64u * 1024u;
	char *text = base_alloc(capacity);
	int n;

	if (text == NULL) {
		fprintf(stderr, "aetherd: out of memory\n");
		return NODE_EXIT_RUNTIME;
	}
	n = node_config_format(cfg, text, capacity);
	ASSERT(n > 0);
	fputs(text, stdout);
	base_free(text);
	return NODE_EXIT_OK;
}

/* Command line, config and secret; returns an exit status, or -1 to go on and run. */
static int
aetherd_configure(struct aetherd *d, int argc, char **argv)
{
	struct node_args args;
	char err[NODE_ERROR_MAX];

	if (node_args_parse(&args, argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "aetherd: %s\n", err);
		return NODE_EXIT_USAGE;
	}
	if (args.help || args.version) {
		fputs(args.help ? aetherd_usage : "aetherd " AETHERD_VERSION "\n", stdout);
		return NODE_EXIT_OK;
	}
	if (node_args_load_config(&args, &d->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "aetherd: %s\n", err);
		return NODE_EXIT_USAGE;
	}
	if (args.print_config) {
		return aetherd_print_config(&d->cfg);
	}
	node_log_init(&d->log, d->cfg.node_id, d->cfg.log_level);
	if (node_secret_load(d->cfg.secret_file, &d->log.log, &d->secret, err, sizeof(err)) != 0) {
		fprintf(stderr, "aetherd: %s\n", err);
		return NODE_EXIT_USAGE;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct aetherd *d = base_alloc(sizeof(*d));
	char err[NODE_ERROR_MAX];
	int status;

	if (d == NULL) {
		fprintf(stderr, "aetherd: out of memory\n");
		return NODE_EXIT_RUNTIME;
	}
	status = aetherd_configure(d, argc, argv);
	if (status >= 0) {
		base_free(d);
		return status;
	}
	d->stop = &aetherd_stop_flag;
	aetherd_signals();
	if (aetherd_open(d, err, sizeof(err)) != 0) {
		fprintf(stderr, "aetherd: %s\n", err);
		aetherd_close(d);
		base_free(d);
		return NODE_EXIT_RUNTIME;
	}
	base_alloc_seal();
	base_logf(&d->log.log, BASE_LOG_INFO,
		  "ready: node=%u cluster=%llu members=%zu transport=%s socket=%s data_dir=%s "
		  "next_slot=%llu recovered_hwm=%llu%s",
		  (unsigned)d->cfg.node_id, (unsigned long long)d->cfg.cluster_id, d->member_count,
		  node_transport_name(d->cfg.transport), d->cfg.socket_path, d->cfg.data_dir,
		  (unsigned long long)node_shard_next_slot(d->shard),
		  (unsigned long long)node_shard_recovered_hwm(d->shard),
		  node_shard_is_passive(d->shard) ? " (passive: may not vote below that mark, R11)"
						  : "");
	status = aetherd_run(d) == 0 ? NODE_EXIT_OK : NODE_EXIT_RUNTIME;
	base_logf(&d->log.log, BASE_LOG_INFO, "stopping (signal %d)", (int)aetherd_stop_flag);
	aetherd_close(d);
	base_free(d);
	return status;
}
