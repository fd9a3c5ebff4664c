/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_peer: one end of a memif link between two processes, each with its own EAL, talking
 * through env_dpdk. The integration test (tests/dataplane/test_dp_memif.c) and the latency
 * probe (dp_latency) start two of these.
 *
 *   dp_peer --role pong --id 2 --peer 1 --run-dir D --cpu 1
 *   dp_peer --role ping --id 1 --peer 2 --run-dir D --cpu 0 --count 200 [--inject]
 *           [--fault-seed S] [--latency] [--json] [--size B] [--no-auth]
 *           [--incarnation N] [--expect-delivered N] [--no-exit] [--timeout-ms T]
 *
 * Messages (env datagrams): byte 0 is the kind, bytes 1..8 a sequence number (LE), the rest a
 * payload derived from the sequence number. ping sends P(i) and waits for R(i) carrying the
 * same payload, count times (every seventh ping is 9000 bytes, so chained mbufs are
 * exercised). With --inject it then puts three frames straight on the port, bypassing
 * env_dpdk: garbage bytes, a frame sealed under a wrong key (forged) and a byte-exact rebuild
 * of its last ping frame (replayed). It then asks pong for its counters (Q -> S) and checks
 * that each injected frame was counted under its reason and none was delivered, and finally
 * sends X, which ends pong (--no-exit leaves pong running for a restarted ping, which passes
 * --incarnation 2 and checks that pong saw one restart). With --fault-seed the ping side sends
 * through a seeded fault hook (drop, corrupt, delay, reorder, duplicate) and retransmits pings
 * that get no answer.
 *
 * Exit status: 0 when every check passed, 1 on failure, 2 for bad usage, 3 when EAL cannot
 * start on this machine (the test then skips).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/panic.h"
#include "dataplane/auth.h"
#include "dataplane/dp_eal.h"
#include "dataplane/dp_port.h"
#include "dataplane/env_dpdk.h"
#include "dataplane/frame.h"
#include "dataplane/run.h"
#include "dp_tool.h"
#include "numa/numa_hwloc.h"

#define MSG_HEADER       9u
#define BIG_SIZE         9000u
#define COUNT_MAX        1000000u
#define SECRET_DEFAULT   "aether-dataplane-test-secret-0001"
#define WRONG_SECRET     "not-the-cluster-secret-at-all-42"
#define RETRY_NS         (20u * 1000u * 1000u)
#define NO_FAULT_WAIT_NS (3000u * 1000u * 1000u)
#define STAT_FIELDS      10u

enum phase { PHASE_PING, PHASE_INJECT, PHASE_QUERY, PHASE_EXIT };

struct options {
	const char *role;
	uint32_t id;
	uint32_t peer;
	const char *run_dir;
	uint32_t cpu;
	uint32_t count;
	uint32_t size;
	bool inject;
	bool latency;
	bool json;
	bool no_auth;
	bool has_fault;
	bool no_exit;
	uint64_t fault_seed;
	uint64_t timeout_ms;
	uint32_t incarnation;
	uint32_t expect_delivered; /* 0: count + 1 */
};

struct peer {
	struct options opt;
	struct dp_tool *tool;
	const struct env_ops *ops;
	uint64_t deadline_ns;
	enum phase phase;
	uint64_t seq;     /* ping being waited for */
	uint64_t sent_ns; /* when the current message was (re)sent */
	bool is_waiting;
	uint64_t retransmits;
	uint64_t *rtt_ns; /* one per ping (latency) */
	bool failed;
	uint64_t pong_stats[STAT_FIELDS];
	uint8_t msg[ENV_MSG_MAX];
	uint8_t in[ENV_MSG_MAX];
};

/* ---- messages ---- */

static size_t
ping_size(const struct options *o, uint64_t seq)
{
	if (o->size != 0) {
		return o->size;
	}
	return seq % 7u == 3u ? BIG_SIZE : MSG_HEADER + (size_t)(seq % 200u);
}

static size_t
msg_build(uint8_t *buf, char kind, uint64_t seq, size_t size)
{
	ASSERT(size >= MSG_HEADER && size <= ENV_MSG_MAX);
	buf[0] = (uint8_t)kind;
	base_store_le64(&buf[1], seq);
	for (size_t j = MSG_HEADER; j < size; j++) {
		buf[j] = (uint8_t)(seq * 31u + j);
	}
	return size;
}

static bool
msg_is(const uint8_t *buf, size_t size, char kind, uint64_t seq)
{
	return size >= MSG_HEADER && buf[0] == (uint8_t)kind && base_load_le64(&buf[1]) == seq;
}

static void
fail(struct peer *p, const char *what)
{
	fprintf(stderr, "dp_peer %s id=%u: FAIL: %s\n", p->opt.role, (unsigned)p->opt.id, what);
	p->failed = true;
}

/* Sends one datagram; -ENOBUFS is retried by the caller's next poll. */
static int
send_msg(struct peer *p, const uint8_t *buf, size_t size)
{
	int rc = p->ops->send(p->ops->ctx, p->opt.peer, buf, size);

	if (rc != 0 && rc != -ENOBUFS) {
		fail(p, "env send failed");
	}
	return rc;
}

/* ---- pong ---- */

static void
pong_stats_reply(struct peer *p, uint64_t seq)
{
	struct env_dpdk_stats s;
	uint64_t f[STAT_FIELDS];
	size_t size = MSG_HEADER + sizeof(f);

	env_dpdk_stats_get(dp_tool_env(p->tool), &s);
	f[0] = s.delivered_count;
	f[1] = s.recv_garbage_count;
	f[2] = s.auth.forged_count;
	f[3] = s.auth.replayed_count;
	f[4] = s.auth.too_old_count;
	f[5] = s.auth.stale_incarnation_count;
	f[6] = s.auth.foreign_count;
	f[7] = s.auth.unknown_sender_count;
	f[8] = s.auth.unauthenticated_count;
	f[9] = s.auth.new_incarnation_count;
	p->msg[0] = 'S';
	base_store_le64(&p->msg[1], seq);
	for (size_t i = 0; i < STAT_FIELDS; i++) {
		base_store_le64(&p->msg[MSG_HEADER + 8u * i], f[i]);
	}
	(void)send_msg(p, p->msg, size);
}

static int
pong_poll(void *ctx, uint64_t now_ns)
{
	struct peer *p = ctx;
	uint32_t from;
	size_t size;
	int rc;

	if (now_ns > p->deadline_ns) {
		fail(p, "deadline passed before X arrived");
		return DP_RUN_STOP;
	}
	rc = p->ops->recv(p->ops->ctx, &from, p->in, sizeof(p->in), &size);
	if (rc == -EAGAIN) {
		return 0;
	}
	if (rc != 0 || from != p->opt.peer || size < MSG_HEADER) {
		fail(p, "unexpected datagram");
		return DP_RUN_STOP;
	}
	switch (p->in[0]) {
	case 'P':
		p->in[0] = 'R';
		(void)send_msg(p, p->in, size);
		return 1;
	case 'Q':
		pong_stats_reply(p, base_load_le64(&p->in[1]));
		return 1;
	case 'X':
		return DP_RUN_STOP;
	default:
		fail(p, "unknown message kind");
		return DP_RUN_STOP;
	}
}

/* ---- ping: injection ---- */

static int
raw_frame(struct peer *p, const char *secret, uint64_t counter, const uint8_t *body,
	  size_t body_size, uint8_t *frame, size_t *frame_size)
{
	struct dp_auth_config ac;
	struct dp_frame_endpoint src;
	struct dp_frame_endpoint dst;
	struct dp_frame_header h;
	struct dp_auth *auth;
	int rc;

	memset(&ac, 0, sizeof(ac));
	ac.cluster_id = DP_TOOL_CLUSTER_ID;
	ac.epoch = DP_TOOL_EPOCH;
	ac.self_id = p->opt.id;
	ac.incarnation = p->opt.incarnation;
	ac.secret = (const uint8_t *)secret;
	ac.secret_size = strlen(secret);
	ac.peer_ids[0] = p->opt.peer;
	ac.peer_count = 1;
	rc = dp_auth_create(&ac, &auth);
	if (rc != 0) {
		return rc;
	}
	h = (struct dp_frame_header){.type = DP_FRAME_TYPE_DATA,
				     .flags = DP_FRAME_FLAG_AUTH,
				     .cluster_id = DP_TOOL_CLUSTER_ID,
				     .epoch = DP_TOOL_EPOCH,
				     .sender = p->opt.id,
				     .receiver = p->opt.peer,
				     .incarnation = p->opt.incarnation,
				     .counter = counter};
	dp_frame_endpoint_default(p->opt.id, &src);
	dp_frame_endpoint_default(p->opt.peer, &dst);
	rc = dp_frame_encode(&src, &dst, &h, body, body_size, frame, DP_FRAME_SIZE_MAX, frame_size);
	if (rc == 0) {
		rc = dp_auth_seal(auth, frame, *frame_size);
	}
	dp_auth_destroy(auth);
	return rc;
}

/*
 * Garbage, a forged frame (wrong key, fresh counter), and a rebuild of the last ping's frame:
 * same header, body and key, so exactly the bytes env_dpdk sent last. Its counter is the
 * link's last one: every stamp on this single-peer env counts in sealed_count, and the last
 * stamp was the last ping (sends refused with -ENOBUFS also use up a counter, so "1" would
 * not do).
 */
static void
ping_inject(struct peer *p)
{
	static uint8_t frame[DP_FRAME_SIZE_MAX];
	struct dp_port *port = dp_tool_port(p->tool);
	struct env_dpdk_stats s;
	uint64_t last = p->opt.count - 1u;
	size_t size;

	env_dpdk_stats_get(dp_tool_env(p->tool), &s);

	memset(frame, 0xab, 100);
	if (dp_port_send(port, frame, 100) != 0) {
		fail(p, "cannot inject garbage");
	}
	size = msg_build(p->msg, 'P', 1u << 20, 64);
	if (raw_frame(p, WRONG_SECRET, (uint64_t)1 << 40, p->msg, size, frame, &size) != 0 ||
	    dp_port_send(port, frame, size) != 0) {
		fail(p, "cannot inject the forged frame");
	}
	size = msg_build(p->msg, 'P', last, ping_size(&p->opt, last));
	if (raw_frame(p, SECRET_DEFAULT, s.auth.sealed_count, p->msg, size, frame, &size) != 0 ||
	    dp_port_send(port, frame, size) != 0) {
		fail(p, "cannot inject the replayed frame");
	}
}

/*
 * Sends X. Through a fault hook X could be dropped, or held until after this process exits,
 * and pong would wait for its deadline; so with faults X goes straight to the port, sealed with
 * the link's next counter (env_dpdk sends nothing after it).
 */
static int
ping_send_exit(struct peer *p)
{
	static uint8_t frame[DP_FRAME_SIZE_MAX];
	struct env_dpdk_stats s;
	size_t size = msg_build(p->msg, 'X', 0, MSG_HEADER);

	if (!p->opt.has_fault) {
		return send_msg(p, p->msg, size);
	}
	env_dpdk_stats_get(dp_tool_env(p->tool), &s);
	if (raw_frame(p, SECRET_DEFAULT, s.auth.sealed_count + 1u, p->msg, size, frame, &size) !=
	    0) {
		fail(p, "cannot build X");
		return -EIO;
	}
	return dp_port_send(dp_tool_port(p->tool), frame, size);
}

/* ---- ping: checks ---- */

static void
check_eq(struct peer *p, const char *name, uint64_t got, uint64_t want)
{
	if (got != want) {
		fprintf(stderr, "dp_peer ping: %s is %" PRIu64 ", expected %" PRIu64 "\n", name,
			got, want);
		fail(p, "pong's counters are wrong");
	}
}

static void
ping_check_stats(struct peer *p)
{
	const uint64_t *f = p->pong_stats;
	uint64_t other = f[4] + f[5] + f[6] + f[7] + f[8];
	struct dp_fault_stats fs;

	printf("pong: delivered=%" PRIu64 " garbage=%" PRIu64 " forged=%" PRIu64
	       " replayed=%" PRIu64 " other_rejected=%" PRIu64 " new_incarnation=%" PRIu64 "\n",
	       f[0], f[1], f[2], f[3], other, f[9]);
	/* A restarted ping (incarnation n) was seen restarting n - 1 times. */
	check_eq(p, "new incarnations", f[9], p->opt.incarnation - 1u);
	if (!p->opt.has_fault) {
		/* count pings plus the query; the injected frames are counted, not delivered */
		check_eq(p, "delivered", f[0],
			 p->opt.expect_delivered != 0 ? p->opt.expect_delivered
						      : (uint64_t)p->opt.count + 1u);
		check_eq(p, "garbage", f[1], p->opt.inject ? 1u : 0u);
		check_eq(p, "forged", f[2], p->opt.inject ? 1u : 0u);
		check_eq(p, "replayed", f[3], p->opt.inject ? 1u : 0u);
		check_eq(p, "other rejections", other, 0);
		return;
	}
	if (env_dpdk_fault_stats_get(dp_tool_env(p->tool), p->opt.peer, &fs) != 0) {
		fail(p, "no fault stats");
		return;
	}
	printf("ping faults: frames=%" PRIu64 " dropped=%" PRIu64 " corrupted=%" PRIu64
	       " delayed=%" PRIu64 " reordered=%" PRIu64 " duplicated=%" PRIu64
	       " retransmits=%" PRIu64 "\n",
	       fs.frame_count, fs.dropped_count, fs.corrupted_count, fs.delayed_count,
	       fs.reordered_count, fs.duplicated_count, p->retransmits);
	if (fs.corrupted_count > 0 && f[1] + f[2] + other == 0) {
		fail(p, "corrupted frames were not rejected");
	}
	if (fs.duplicated_count > 0 && f[3] == 0) {
		fail(p, "duplicated frames were not counted as replays");
	}
	if (f[0] < p->opt.count) {
		fail(p, "pong delivered fewer pings than were answered");
	}
}

/* ---- ping: the state machine run by dp_run ---- */

/* (Re)sends the current message of the phase when nothing is outstanding or its wait ran out. */
static int
ping_send_current(struct peer *p, uint64_t now_ns)
{
	size_t size;
	char kind = p->phase == PHASE_PING ? 'P' : 'Q';
	uint64_t wait_ns = p->opt.has_fault ? RETRY_NS : NO_FAULT_WAIT_NS;

	if (p->is_waiting && now_ns - p->sent_ns < wait_ns) {
		return 0;
	}
	if (p->is_waiting && !p->opt.has_fault) {
		fail(p, "no answer within 3 s on a lossless link");
		return DP_RUN_STOP;
	}
	p->retransmits += p->is_waiting ? 1u : 0u;
	size = kind == 'P' ? ping_size(&p->opt, p->seq) : MSG_HEADER;
	size = msg_build(p->msg, kind, p->seq, size);
	if (send_msg(p, p->msg, size) == 0) {
		p->is_waiting = true;
		p->sent_ns = now_ns;
	}
	return p->failed ? DP_RUN_STOP : 1;
}

/* Handles one received datagram; answers to earlier (retransmitted) messages are ignored. */
static void
ping_on_answer(struct peer *p, const uint8_t *buf, size_t size, uint64_t now_ns)
{
	if (p->phase == PHASE_PING && msg_is(buf, size, 'R', p->seq)) {
		size_t want = ping_size(&p->opt, p->seq);

		msg_build(p->msg, 'P', p->seq, want);
		if (size != want || memcmp(buf + 1, p->msg + 1, size - 1) != 0) {
			fail(p, "echo does not match the ping");
			return;
		}
		p->rtt_ns[p->seq] = now_ns - p->sent_ns;
		p->is_waiting = false;
		if (++p->seq == p->opt.count) {
			p->phase = p->opt.inject ? PHASE_INJECT : PHASE_QUERY;
			p->seq = 0;
		}
	} else if (p->phase == PHASE_QUERY && msg_is(buf, size, 'S', p->seq) &&
		   size == MSG_HEADER + 8u * STAT_FIELDS) {
		for (size_t i = 0; i < STAT_FIELDS; i++) {
			p->pong_stats[i] = base_load_le64(&buf[MSG_HEADER + 8u * i]);
		}
		p->is_waiting = false;
		p->phase = PHASE_EXIT;
	}
}

static int
ping_poll(void *ctx, uint64_t now_ns)
{
	struct peer *p = ctx;
	uint32_t from;
	size_t size;
	int rc;

	if (now_ns > p->deadline_ns) {
		fail(p, "deadline passed");
		return DP_RUN_STOP;
	}
	rc = p->ops->recv(p->ops->ctx, &from, p->in, sizeof(p->in), &size);
	if (rc == 0) {
		ping_on_answer(p, p->in, size, now_ns);
		return p->failed ? DP_RUN_STOP : 1;
	}
	switch (p->phase) {
	case PHASE_PING:
	case PHASE_QUERY:
		return ping_send_current(p, now_ns);
	case PHASE_INJECT:
		ping_inject(p);
		p->phase = PHASE_QUERY;
		return 1;
	case PHASE_EXIT:
		if (p->opt.no_exit) {
			return DP_RUN_STOP; /* leave pong running for the next ping process */
		}
		if (ping_send_exit(p) == -ENOBUFS) {
			return 0; /* ring full: try again on the next poll */
		}
		return DP_RUN_STOP;
	}
	return DP_RUN_STOP;
}

static int
u64_compare(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Nearest-rank percentile of sorted values. */
static uint64_t
percentile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	rank = rank == 0 ? 1 : (rank > n ? n : rank);
	return sorted[rank - 1];
}

static void
ping_report_latency(struct peer *p)
{
	size_t n = p->opt.count;
	double p50;
	double p99;
	double p999;

	qsort(p->rtt_ns, n, sizeof(p->rtt_ns[0]), u64_compare);
	p50 = (double)percentile(p->rtt_ns, n, 0.50) / 1000.0;
	p99 = (double)percentile(p->rtt_ns, n, 0.99) / 1000.0;
	p999 = (double)percentile(p->rtt_ns, n, 0.999) / 1000.0;
	if (p->opt.json) {
		printf("{\"transport\": \"memif\", \"auth\": %s, \"count\": %zu, \"size\": %u, "
		       "\"rtt_p50_us\": %.2f, \"rtt_p99_us\": %.2f, \"rtt_p999_us\": %.2f}\n",
		       p->opt.no_auth ? "false" : "true", n, (unsigned)p->opt.size, p50, p99, p999);
	} else {
		printf("memif round trip through env_dpdk (auth %s, %zu pings of %u B): "
		       "p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n",
		       p->opt.no_auth ? "off" : "on", n, (unsigned)p->opt.size, p50, p99, p999);
	}
}

/* ---- main ---- */

static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int rc = parse_u64(s, max, &v);

	*out = (uint32_t)v;
	return rc;
}

/* One "--name value" or "--flag"; returns how many argv entries it used, or -EINVAL. */
static int
parse_option(struct options *o, const char *name, const char *value)
{
	static const char *const flag_names[] = {"--inject", "--latency", "--json", "--no-auth",
						 "--no-exit"};
	bool *flags[] = {&o->inject, &o->latency, &o->json, &o->no_auth, &o->no_exit};
	uint64_t ms;

	for (size_t i = 0; i < AE_ARRAY_SIZE(flag_names); i++) {
		if (strcmp(name, flag_names[i]) == 0) {
			*flags[i] = true;
			return 1;
		}
	}
	if (value == NULL) {
		return -EINVAL;
	}
	if (strcmp(name, "--role") == 0) {
		o->role = value;
		return 2;
	}
	if (strcmp(name, "--run-dir") == 0) {
		o->run_dir = value;
		return 2;
	}
	if (strcmp(name, "--fault-seed") == 0) {
		o->has_fault = true;
		return parse_u64(value, UINT64_MAX, &o->fault_seed) == 0 ? 2 : -EINVAL;
	}
	if (strcmp(name, "--timeout-ms") == 0) {
		if (parse_u64(value, 3600000u, &ms) != 0) {
			return -EINVAL;
		}
		o->timeout_ms = ms;
		return 2;
	}
	return -EINVAL;
}

static int
parse_number_option(struct options *o, const char *name, const char *value)
{
	static const char *const names[] = {"--id",
					    "--peer",
					    "--cpu",
					    "--count",
					    "--size",
					    "--incarnation",
					    "--expect-delivered"};
	uint32_t *fields[] = {&o->id,
			      &o->peer,
			      &o->cpu,
			      &o->count,
			      &o->size,
			      &o->incarnation,
			      &o->expect_delivered};
	const uint32_t maxes[] = {UINT32_MAX,  UINT32_MAX, DP_EAL_CPU_MAX, COUNT_MAX,
				  ENV_MSG_MAX, UINT32_MAX, UINT32_MAX};

	for (size_t i = 0; i < AE_ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			if (value == NULL || parse_u32(value, maxes[i], fields[i]) != 0) {
				return -EINVAL;
			}
			return 2;
		}
	}
	return parse_option(o, name, value);
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->count = 200;
	o->timeout_ms = 20000;
	o->incarnation = 1;
	for (int i = 1; i < argc;) {
		int used = parse_number_option(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL);

		if (used < 0) {
			fprintf(stderr, "dp_peer: bad option %s\n", argv[i]);
			return -EINVAL;
		}
		i += used;
	}
	if (o->role == NULL || o->run_dir == NULL || o->id == o->peer || o->count == 0 ||
	    (strcmp(o->role, "ping") != 0 && strcmp(o->role, "pong") != 0) ||
	    (o->size != 0 && o->size < MSG_HEADER) ||
	    (o->inject && (o->no_auth || o->has_fault || o->incarnation != 1)) ||
	    o->incarnation == 0) {
		fprintf(stderr,
			"usage: dp_peer --role ping|pong --id N --peer N --run-dir DIR "
			"--cpu C [--count N] [--size B] [--inject] [--fault-seed S] "
			"[--latency] [--json] [--no-auth] [--timeout-ms T] [--incarnation N] "
			"[--expect-delivered N] [--no-exit]\n");
		return -EINVAL;
	}
	return 0;
}

static void
fault_config(const struct options *o, struct dp_fault_config *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->drop_ppm = 50000;
	fc->corrupt_ppm = 50000;
	fc->delay_ppm = 50000;
	fc->reorder_ppm = 50000;
	fc->duplicate_ppm = 50000;
	fc->delay_ns_min = 1000u * 1000u;
	fc->delay_ns_max = 5u * 1000u * 1000u;
	fc->reorder_ns_max = 2u * 1000u * 1000u;
	fc->seed = o->fault_seed;
}

/* Pins through hwloc too (EAL's --lcores already bound the thread; this is what the node's
 * lcores do), then runs the role's poll function under the default idle policy. */
static int
peer_run(struct peer *p)
{
	struct dp_run_config rc_cfg;
	struct numa_hwloc *hw = NULL;
	const char *why = NULL;
	bool is_ping = strcmp(p->opt.role, "ping") == 0;
	int rc;

	dp_run_config_default(&rc_cfg);
	rc = numa_hwloc_create(&hw, NULL, &why);
	if (rc != 0) {
		fprintf(stderr, "dp_peer: hwloc: %s\n", why != NULL ? why : "failed");
		return rc;
	}
	rc_cfg.hwloc = hw;
	rc_cfg.pu_os_index = p->opt.cpu;
	rc = dp_run(&rc_cfg, is_ping ? ping_poll : pong_poll, p, NULL);
	numa_hwloc_destroy(hw);
	return rc;
}

static int
peer_main(struct peer *p)
{
	struct dp_tool_config tc;
	struct dp_fault_config fc;
	bool eal_failed = false;
	const char *what = NULL;
	int rc;

	memset(&tc, 0, sizeof(tc));
	tc.self_id = p->opt.id;
	tc.peer_id = p->opt.peer;
	tc.run_dir = p->opt.run_dir;
	tc.cpu = p->opt.cpu;
	tc.auth_disabled = p->opt.no_auth;
	tc.incarnation = p->opt.incarnation;
	tc.secret = (const uint8_t *)SECRET_DEFAULT;
	tc.secret_size = strlen(SECRET_DEFAULT);
	fault_config(&p->opt, &fc);
	tc.fault = p->opt.has_fault ? &fc : NULL;
	tc.link_timeout_ns = p->opt.timeout_ms * 1000u * 1000u / 2u;
	base_log_init(&tc.log, base_log_file_sink, stderr, BASE_LOG_WARN);
	rc = dp_tool_start(&tc, &p->tool, &eal_failed, &what);
	if (rc != 0) {
		fprintf(stderr, "dp_peer %s id=%u: %s: %s\n", p->opt.role, (unsigned)p->opt.id,
			what, strerror(-rc));
		return eal_failed ? DP_TOOL_EXIT_NO_EAL : DP_TOOL_EXIT_FAIL;
	}
	p->ops = env_dpdk_ops(dp_tool_env(p->tool));
	rc = peer_run(p);
	if (rc != 0) {
		fail(p, "run loop failed");
	}
	if (!p->failed && strcmp(p->opt.role, "ping") == 0) {
		ping_check_stats(p);
		if (p->opt.latency) {
			ping_report_latency(p);
		}
	}
	if (p->failed) {
		env_dpdk_dump(dp_tool_env(p->tool), stderr);
	}
	dp_tool_stop(p->tool);
	return p->failed ? DP_TOOL_EXIT_FAIL : DP_TOOL_EXIT_OK;
}

int
main(int argc, char **argv)
{
	struct peer *p;
	int rc;

	/* Line-buffered: a sanitizer abort must not lose what was printed (PLATFORM-NOTES). */
	setvbuf(stdout, NULL, _IOLBF, 0);
	p = base_alloc(sizeof(*p));
	ASSERT(p != NULL);
	if (parse_args(argc, argv, &p->opt) != 0) {
		base_free(p);
		return DP_TOOL_EXIT_USAGE;
	}
	p->rtt_ns = base_alloc_array(p->opt.count, sizeof(p->rtt_ns[0]));
	ASSERT(p->rtt_ns != NULL);
	p->deadline_ns = dp_run_now_ns() + p->opt.timeout_ms * 1000u * 1000u;
	rc = peer_main(p);
	base_free(p->rtt_ns);
	base_free(p);
	return rc;
}
