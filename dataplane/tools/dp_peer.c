/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_peer: one end of a link between two processes, each with its own EAL, talking through
 * env_dpdk: memif (the default), or AF_XDP on a Linux interface (--af-xdp). The integration
 * tests (tests/dataplane/test_dp_memif.c, test_dp_af_xdp.sh) and the latency probe
 * (dp_latency) start two of these.
 *
 *   dp_peer --role pong --id 2 --peer 1 --run-dir D --cpu 1
 *   dp_peer --role ping --id 1 --peer 2 --run-dir D --cpu 0 --count 200 [--inject]
 *           [--fault-seed S] [--latency] [--json] [--size B] [--no-auth]
 *           [--incarnation N] [--expect-delivered N] [--no-exit] [--timeout-ms T]
 *           [--af-xdp IFNAME --ip A.B.C.D --peer-ip A.B.C.D --peer-mac xx:xx:xx:xx:xx:xx
 *            [--busy-budget N]]
 *
 * Messages (env datagrams): byte 0 is the kind, bytes 1..8 a sequence number (LE), the rest a
 * payload derived from the sequence number. ping sends P(i) and waits for R(i) carrying the
 * same payload, count times (every seventh ping is as large as the port carries, at most 9000
 * bytes, so chained mbufs are exercised over memif). With --inject it then puts frames
 * straight on the port, bypassing env_dpdk: garbage (a valid Ethernet header to pong, then
 * junk), a frame sealed under a wrong key (forged), a byte-exact rebuild of a ping frame pong
 * is known to have received (replayed; the last ping answered on its first send) and, over
 * AF_XDP, an authentic frame to another MAC (foreign: the port must filter it). It then asks
 * pong for its counters (Q -> S) and checks that each injected frame was counted under its
 * reason and none was delivered, and finally sends X, which ends pong, and over memif waits
 * until pong has closed its end, so X is read before the link drops (--no-exit leaves pong
 * running for a restarted ping, which passes --incarnation 2 and checks that pong saw one
 * restart). With --fault-seed the ping side sends through a seeded fault hook (drop, corrupt,
 * delay, reorder, duplicate) and retransmits pings that get no answer.
 *
 * AF_XDP drops frames (PLATFORM-NOTES.md), so with --af-xdp the ping side is lossy-tolerant:
 * it retransmits every message that gets no answer within RETRY_NS until its deadline; it
 * reads pong's counters before and after injecting and repeats the injection (at most
 * INJECT_ROUNDS_MAX times) until each injected kind was seen; pong acknowledges X with Y, and
 * X is retransmitted until Y arrives (bounded). The checks stay exact where loss cannot blur
 * them: no marked (forged or foreign) body is ever delivered, pong delivers no more pings
 * than ping sent, and no rejection other than the injected ones happens.
 *
 * Exit status: 0 when every check passed, 1 on failure, 2 for bad usage, 3 when EAL cannot
 * start on this machine (the test then skips).
 */
#include <arpa/inet.h>
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

#define MSG_HEADER            9u
#define BIG_SIZE              9000u
#define COUNT_MAX             1000000u
#define SECRET_DEFAULT        "aether-dataplane-test-secret-0001"
#define WRONG_SECRET          "not-the-cluster-secret-at-all-42"
#define RETRY_NS              (20u * 1000u * 1000u)
#define NO_FAULT_WAIT_NS      (3000u * 1000u * 1000u)
#define STAT_FIELDS           13u
/* Bodies of injected frames that must never be delivered carry sequence numbers from here. */
#define MARKER_SEQ            ((uint64_t)1 << 20)
#define INJECT_ROUNDS_MAX     5u
#define EXIT_TRIES_MAX        50u
/* The foreign frame's counter runs this far ahead of the link's (inside the replay window). */
#define FOREIGN_COUNTER_AHEAD 512u

/* pong's counters as sent in S, in this order. */
enum stat_field {
	STAT_DELIVERED,
	STAT_GARBAGE,
	STAT_FORGED,
	STAT_REPLAYED,
	STAT_TOO_OLD,
	STAT_STALE_INCARNATION,
	STAT_FOREIGN,
	STAT_UNKNOWN_SENDER,
	STAT_UNAUTHENTICATED,
	STAT_NEW_INCARNATION,
	STAT_PINGS_DELIVERED,  /* P datagrams pong delivered (lossy: since the last restart) */
	STAT_MARKED_DELIVERED, /* P datagrams with a MARKER_SEQ body: must stay 0 */
	STAT_PORT_FILTERED,    /* frames the port dropped: not to its MAC */
};

enum phase { PHASE_PING, PHASE_BASE_QUERY, PHASE_INJECT, PHASE_QUERY, PHASE_EXIT };

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
	uint32_t busy_budget;      /* AF_XDP */
	const char *af_xdp;        /* NULL: memif */
	uint32_t ipv4;             /* AF_XDP: this node's and the peer's addresses */
	uint32_t peer_ipv4;
	uint8_t peer_mac[6];
	bool has_peer_mac;
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
	bool is_lossy;       /* AF_XDP: retransmit, and check what loss cannot blur */
	size_t body_max;     /* the largest datagram the port carries */
	uint64_t pings_sent; /* P datagrams env_dpdk took */
	/* The replay candidate: a ping answered after exactly one send, so pong saw that frame. */
	uint32_t seq_sends;
	uint64_t seq_counter;
	bool has_replay;
	uint64_t replay_seq;
	uint64_t replay_counter;
	uint32_t inject_rounds;
	uint32_t exit_tries;
	bool exit_acked;
	uint64_t pings_delivered; /* pong: since the sender's last restart when lossy */
	uint64_t seen_incarnations;
	uint64_t marked_delivered;
	uint64_t base_stats[STAT_FIELDS]; /* pong's counters before the injection (lossy) */
	uint64_t pong_stats[STAT_FIELDS];
	uint8_t msg[ENV_MSG_MAX];
	uint8_t in[ENV_MSG_MAX];
};

/* ---- messages ---- */

static size_t
ping_size(const struct peer *p, uint64_t seq)
{
	if (p->opt.size != 0) {
		return p->opt.size;
	}
	return seq % 7u == 3u ? base_min_size(BIG_SIZE, p->body_max)
			      : MSG_HEADER + (size_t)(seq % 200u);
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
	struct dp_port_stats ps;
	uint64_t f[STAT_FIELDS];
	size_t size = MSG_HEADER + sizeof(f);

	env_dpdk_stats_get(dp_tool_env(p->tool), &s);
	dp_port_stats_get(dp_tool_port(p->tool), &ps);
	f[STAT_DELIVERED] = s.delivered_count;
	f[STAT_GARBAGE] = s.recv_garbage_count;
	f[STAT_FORGED] = s.auth.forged_count;
	f[STAT_REPLAYED] = s.auth.replayed_count;
	f[STAT_TOO_OLD] = s.auth.too_old_count;
	f[STAT_STALE_INCARNATION] = s.auth.stale_incarnation_count;
	f[STAT_FOREIGN] = s.auth.foreign_count;
	f[STAT_UNKNOWN_SENDER] = s.auth.unknown_sender_count;
	f[STAT_UNAUTHENTICATED] = s.auth.unauthenticated_count;
	f[STAT_NEW_INCARNATION] = s.auth.new_incarnation_count;
	f[STAT_PINGS_DELIVERED] = p->pings_delivered;
	f[STAT_MARKED_DELIVERED] = p->marked_delivered;
	f[STAT_PORT_FILTERED] = ps.rx_filtered_count;
	p->msg[0] = 'S';
	base_store_le64(&p->msg[1], seq);
	for (size_t i = 0; i < STAT_FIELDS; i++) {
		base_store_le64(&p->msg[MSG_HEADER + 8u * i], f[i]);
	}
	(void)send_msg(p, p->msg, size);
}

/* Counts pings since the sender's last restart (lossy checks compare them with what that
 * process sent); the new-incarnation counter tells a restart. */
static void
pong_count_ping(struct peer *p)
{
	struct env_dpdk_stats s;

	if (p->is_lossy) {
		env_dpdk_stats_get(dp_tool_env(p->tool), &s);
		if (s.auth.new_incarnation_count != p->seen_incarnations) {
			p->seen_incarnations = s.auth.new_incarnation_count;
			p->pings_delivered = 0;
		}
	}
	p->pings_delivered++;
	p->marked_delivered += base_load_le64(&p->in[1]) >= MARKER_SEQ ? 1u : 0u;
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
		pong_count_ping(p);
		p->in[0] = 'R';
		(void)send_msg(p, p->in, size);
		return 1;
	case 'Q':
		pong_stats_reply(p, base_load_le64(&p->in[1]));
		return 1;
	case 'X':
		if (p->is_lossy) {
			/* ping retransmits X until this arrives (or gives up) */
			(void)send_msg(p, p->msg, msg_build(p->msg, 'Y', 0, MSG_HEADER));
		}
		return DP_RUN_STOP;
	default:
		fail(p, "unknown message kind");
		return DP_RUN_STOP;
	}
}

/* ---- ping: injection ---- */

/* A frame as env_dpdk would build it, sealed with secret; is_foreign sends it to a MAC that
 * is not pong's (still unicast). */
static int
raw_frame(struct peer *p, const char *secret, uint64_t counter, bool is_foreign,
	  const uint8_t *body, size_t body_size, uint8_t *frame, size_t *frame_size)
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
	dp_tool_endpoints(p->tool, &src, &dst);
	if (is_foreign) {
		dst.mac[5] ^= 0x80u;
	}
	rc = dp_frame_encode(&src, &dst, &h, body, body_size, frame, DP_FRAME_SIZE_MAX, frame_size);
	if (rc == 0) {
		rc = dp_auth_seal(auth, frame, *frame_size);
	}
	dp_auth_destroy(auth);
	return rc;
}

/* Garbage with a real Ethernet header to pong, so that it passes a port's MAC filter and is
 * rejected by the frame decoder (ethertype 0xabab). */
static int
inject_garbage(struct peer *p, uint8_t *frame)
{
	struct dp_frame_endpoint self;
	struct dp_frame_endpoint peer;

	dp_tool_endpoints(p->tool, &self, &peer);
	memset(frame, 0xab, 100);
	memcpy(&frame[0], peer.mac, 6);
	memcpy(&frame[6], self.mac, 6);
	return dp_port_send(dp_tool_port(p->tool), frame, 100);
}

/*
 * Garbage, a forged frame (wrong key, fresh counter), a rebuild of the replay candidate's
 * frame (same header, body and key: exactly the bytes env_dpdk sent then; its counter was
 * read from sealed_count right after that send, as every stamp on this single-peer env counts
 * there), and over AF_XDP an authentic frame to another MAC (the port must drop it).
 */
static void
ping_inject(struct peer *p)
{
	static uint8_t frame[DP_FRAME_SIZE_MAX];
	struct dp_port *port = dp_tool_port(p->tool);
	struct env_dpdk_stats s;
	size_t size;

	env_dpdk_stats_get(dp_tool_env(p->tool), &s);
	p->inject_rounds++;
	if (inject_garbage(p, frame) != 0) {
		fail(p, "cannot inject garbage");
	}
	size = msg_build(p->msg, 'P', MARKER_SEQ, 64);
	if (raw_frame(p, WRONG_SECRET, (uint64_t)1 << 40, false, p->msg, size, frame, &size) != 0 ||
	    dp_port_send(port, frame, size) != 0) {
		fail(p, "cannot inject the forged frame");
	}
	size = msg_build(p->msg, 'P', p->replay_seq, ping_size(p, p->replay_seq));
	if (!p->has_replay ||
	    raw_frame(p, SECRET_DEFAULT, p->replay_counter, false, p->msg, size, frame, &size) !=
		    0 ||
	    dp_port_send(port, frame, size) != 0) {
		fail(p, "cannot inject the replayed frame");
	}
	if (p->opt.af_xdp == NULL) {
		return; /* memif has no MAC filter: the frame would be delivered */
	}
	size = msg_build(p->msg, 'P', MARKER_SEQ + 1u, 64);
	if (raw_frame(p, SECRET_DEFAULT, s.auth.sealed_count + FOREIGN_COUNTER_AHEAD, true, p->msg,
		      size, frame, &size) != 0 ||
	    dp_port_send(port, frame, size) != 0) {
		fail(p, "cannot inject the foreign frame");
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
	if (raw_frame(p, SECRET_DEFAULT, s.auth.sealed_count + 1u, false, p->msg, size, frame,
		      &size) != 0) {
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

static uint64_t
other_rejections(const uint64_t *f)
{
	return f[STAT_TOO_OLD] + f[STAT_STALE_INCARNATION] + f[STAT_FOREIGN] +
	       f[STAT_UNKNOWN_SENDER] + f[STAT_UNAUTHENTICATED];
}

/* Lossless link (memif), no faults: every counter is exact. */
static void
ping_check_exact(struct peer *p)
{
	const uint64_t *f = p->pong_stats;
	uint64_t injected = p->opt.inject ? 1u : 0u;

	/* count pings plus the query; the injected frames are counted, not delivered */
	check_eq(p, "delivered", f[STAT_DELIVERED],
		 p->opt.expect_delivered != 0 ? p->opt.expect_delivered
					      : (uint64_t)p->opt.count + 1u);
	check_eq(p, "garbage", f[STAT_GARBAGE], injected);
	check_eq(p, "forged", f[STAT_FORGED], injected);
	check_eq(p, "replayed", f[STAT_REPLAYED], injected);
	check_eq(p, "other rejections", other_rejections(f), 0);
}

/* At least one, for a counter that loss can only lower. */
static void
check_seen(struct peer *p, const char *name, enum stat_field i)
{
	uint64_t delta = p->pong_stats[i] - p->base_stats[i];

	if (delta == 0) {
		fprintf(stderr, "dp_peer ping: no %s frame was counted in %u rounds\n", name,
			(unsigned)p->inject_rounds);
		fail(p, "an injected frame was not counted");
	}
}

/* Lossy link (AF_XDP): loss blurs delivery counts, never rejections of frames that arrived. */
static void
ping_check_lossy(struct peer *p)
{
	const uint64_t *f = p->pong_stats;

	check_eq(p, "marked (forged or foreign) bodies delivered", f[STAT_MARKED_DELIVERED], 0);
	check_eq(p, "other rejections", other_rejections(f), 0);
	if (f[STAT_PINGS_DELIVERED] < p->opt.count || f[STAT_PINGS_DELIVERED] > p->pings_sent) {
		fprintf(stderr,
			"dp_peer ping: pong delivered %" PRIu64 " pings, %" PRIu64 " sent\n",
			f[STAT_PINGS_DELIVERED], p->pings_sent);
		fail(p, "pong delivered fewer pings than were answered, or more than were sent");
	}
	if (!p->opt.inject) {
		return;
	}
	check_seen(p, "garbage", STAT_GARBAGE);
	check_seen(p, "forged", STAT_FORGED);
	check_seen(p, "replayed", STAT_REPLAYED);
	check_seen(p, "foreign (filtered)", STAT_PORT_FILTERED);
}

static void
ping_check_faults(struct peer *p)
{
	const uint64_t *f = p->pong_stats;
	uint64_t other = other_rejections(f);
	struct dp_fault_stats fs;

	if (env_dpdk_fault_stats_get(dp_tool_env(p->tool), p->opt.peer, &fs) != 0) {
		fail(p, "no fault stats");
		return;
	}
	printf("ping faults: frames=%" PRIu64 " dropped=%" PRIu64 " corrupted=%" PRIu64
	       " delayed=%" PRIu64 " reordered=%" PRIu64 " duplicated=%" PRIu64
	       " retransmits=%" PRIu64 "\n",
	       fs.frame_count, fs.dropped_count, fs.corrupted_count, fs.delayed_count,
	       fs.reordered_count, fs.duplicated_count, p->retransmits);
	if (fs.corrupted_count > 0 && f[STAT_GARBAGE] + f[STAT_FORGED] + other == 0) {
		fail(p, "corrupted frames were not rejected");
	}
	if (fs.duplicated_count > 0 && f[STAT_REPLAYED] == 0) {
		fail(p, "duplicated frames were not counted as replays");
	}
	if (f[STAT_DELIVERED] < p->opt.count) {
		fail(p, "pong delivered fewer pings than were answered");
	}
}

static void
ping_check_stats(struct peer *p)
{
	const uint64_t *f = p->pong_stats;

	printf("pong: delivered=%" PRIu64 " pings=%" PRIu64 " garbage=%" PRIu64 " forged=%" PRIu64
	       " replayed=%" PRIu64 " filtered=%" PRIu64 " other_rejected=%" PRIu64
	       " new_incarnation=%" PRIu64 "; ping: pings_sent=%" PRIu64 " retransmits=%" PRIu64
	       " inject_rounds=%u\n",
	       f[STAT_DELIVERED], f[STAT_PINGS_DELIVERED], f[STAT_GARBAGE], f[STAT_FORGED],
	       f[STAT_REPLAYED], f[STAT_PORT_FILTERED], other_rejections(f),
	       f[STAT_NEW_INCARNATION], p->pings_sent, p->retransmits, (unsigned)p->inject_rounds);
	/* A restarted ping (incarnation n) was seen restarting n - 1 times. */
	check_eq(p, "new incarnations", f[STAT_NEW_INCARNATION], p->opt.incarnation - 1u);
	check_eq(p, "marked (forged or foreign) bodies delivered", f[STAT_MARKED_DELIVERED], 0);
	if (p->opt.has_fault) {
		ping_check_faults(p);
	} else if (p->is_lossy) {
		ping_check_lossy(p);
	} else {
		ping_check_exact(p);
	}
}

/* ---- ping: the state machine run by dp_run ---- */

/* A ping env_dpdk took: remember its frame's counter, for the replay injection. */
static void
ping_note_sent(struct peer *p)
{
	struct env_dpdk_stats s;

	p->pings_sent++;
	p->seq_sends++;
	if (p->opt.inject) {
		env_dpdk_stats_get(dp_tool_env(p->tool), &s);
		p->seq_counter = s.auth.sealed_count;
	}
}

/* (Re)sends the current message of the phase when nothing is outstanding or its wait ran out. */
static int
ping_send_current(struct peer *p, uint64_t now_ns)
{
	size_t size;
	char kind = p->phase == PHASE_PING ? 'P' : 'Q';
	bool may_retransmit = p->opt.has_fault || p->is_lossy;
	uint64_t wait_ns = may_retransmit ? RETRY_NS : NO_FAULT_WAIT_NS;

	if (p->is_waiting && now_ns - p->sent_ns < wait_ns) {
		return 0;
	}
	if (p->is_waiting && !may_retransmit) {
		fail(p, "no answer within 3 s on a lossless link");
		return DP_RUN_STOP;
	}
	p->retransmits += p->is_waiting ? 1u : 0u;
	size = kind == 'P' ? ping_size(p, p->seq) : MSG_HEADER;
	size = msg_build(p->msg, kind, p->seq, size);
	if (send_msg(p, p->msg, size) == 0) {
		p->is_waiting = true;
		p->sent_ns = now_ns;
		if (kind == 'P') {
			ping_note_sent(p);
		}
	}
	return p->failed ? DP_RUN_STOP : 1;
}

static void
ping_on_echo(struct peer *p, const uint8_t *buf, size_t size, uint64_t now_ns)
{
	size_t want = ping_size(p, p->seq);

	msg_build(p->msg, 'P', p->seq, want);
	if (size != want || memcmp(buf + 1, p->msg + 1, size - 1) != 0) {
		fail(p, "echo does not match the ping");
		return;
	}
	if (p->seq_sends == 1) {
		p->has_replay = true;
		p->replay_seq = p->seq;
		p->replay_counter = p->seq_counter;
	}
	p->seq_sends = 0;
	p->rtt_ns[p->seq] = now_ns - p->sent_ns;
	p->is_waiting = false;
	if (++p->seq == p->opt.count) {
		if (!p->opt.inject) {
			p->phase = PHASE_QUERY;
		} else {
			p->phase = p->is_lossy ? PHASE_BASE_QUERY : PHASE_INJECT;
		}
		p->seq = 0;
	}
}

/* After a query: over a lossy link an injected frame may have been lost, so inject again
 * (bounded) until each kind was counted at least once. */
static enum phase
ping_after_query(const struct peer *p)
{
	const uint64_t *f = p->pong_stats;
	const uint64_t *b = p->base_stats;
	bool is_seen = f[STAT_GARBAGE] > b[STAT_GARBAGE] && f[STAT_FORGED] > b[STAT_FORGED] &&
		       f[STAT_REPLAYED] > b[STAT_REPLAYED] &&
		       f[STAT_PORT_FILTERED] > b[STAT_PORT_FILTERED];

	if (!p->is_lossy || !p->opt.inject || is_seen || p->inject_rounds >= INJECT_ROUNDS_MAX) {
		return PHASE_EXIT;
	}
	return PHASE_INJECT;
}

/* Handles one received datagram; answers to earlier (retransmitted) messages are ignored. */
static void
ping_on_answer(struct peer *p, const uint8_t *buf, size_t size, uint64_t now_ns)
{
	bool is_query = p->phase == PHASE_BASE_QUERY || p->phase == PHASE_QUERY;

	if (p->phase == PHASE_PING && msg_is(buf, size, 'R', p->seq)) {
		ping_on_echo(p, buf, size, now_ns);
	} else if (is_query && msg_is(buf, size, 'S', p->seq) &&
		   size == MSG_HEADER + 8u * STAT_FIELDS) {
		uint64_t *to = p->phase == PHASE_BASE_QUERY ? p->base_stats : p->pong_stats;

		for (size_t i = 0; i < STAT_FIELDS; i++) {
			to[i] = base_load_le64(&buf[MSG_HEADER + 8u * i]);
		}
		p->is_waiting = false;
		p->seq++; /* a late answer to this query cannot pass for the next one's */
		p->phase = p->phase == PHASE_BASE_QUERY ? PHASE_INJECT : ping_after_query(p);
	} else if (p->phase == PHASE_EXIT && msg_is(buf, size, 'Y', 0)) {
		p->exit_acked = true;
	}
}

/*
 * Lossless (memif): X once (see ping_send_exit), then stay until pong has closed its end (our
 * link goes down), bounded by the deadline. Leaving at once could lose X: when the sender
 * closes first, the receiver's driver drops the connection, and the frames still in the ring,
 * before its lcore reads them, and pong would wait for its deadline.
 */
static int
ping_exit_lossless(struct peer *p, uint64_t now_ns)
{
	int rc;

	if (p->exit_tries > 0) {
		return dp_port_poll_link(dp_tool_port(p->tool), now_ns) ? 0 : DP_RUN_STOP;
	}
	rc = ping_send_exit(p);
	if (rc == -ENOBUFS) {
		return 0; /* ring full: try again on the next poll */
	}
	p->exit_tries = 1;
	return rc == 0 ? 1 : DP_RUN_STOP;
}

/* Lossy: X until pong's Y, every RETRY_NS, at most EXIT_TRIES_MAX times (a lost Y only costs
 * the remaining tries: pong has gone). Otherwise see ping_exit_lossless. */
static int
ping_exit_step(struct peer *p, uint64_t now_ns)
{
	if (p->opt.no_exit) {
		return DP_RUN_STOP; /* leave pong running for the next ping process */
	}
	if (!p->is_lossy) {
		return ping_exit_lossless(p, now_ns);
	}
	if (p->exit_acked || p->exit_tries >= EXIT_TRIES_MAX) {
		return DP_RUN_STOP;
	}
	if (p->exit_tries > 0 && now_ns - p->sent_ns < RETRY_NS) {
		return 0;
	}
	if (send_msg(p, p->msg, msg_build(p->msg, 'X', 0, MSG_HEADER)) == 0) {
		p->exit_tries++;
		p->sent_ns = now_ns;
	}
	return p->failed ? DP_RUN_STOP : 1;
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
	case PHASE_BASE_QUERY:
	case PHASE_QUERY:
		return ping_send_current(p, now_ns);
	case PHASE_INJECT:
		ping_inject(p);
		p->phase = PHASE_QUERY;
		return 1;
	case PHASE_EXIT:
		return ping_exit_step(p, now_ns);
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
	const char *transport = p->opt.af_xdp != NULL ? "af_xdp" : "memif";
	double p50;
	double p99;
	double p999;

	qsort(p->rtt_ns, n, sizeof(p->rtt_ns[0]), u64_compare);
	p50 = (double)percentile(p->rtt_ns, n, 0.50) / 1000.0;
	p99 = (double)percentile(p->rtt_ns, n, 0.99) / 1000.0;
	p999 = (double)percentile(p->rtt_ns, n, 0.999) / 1000.0;
	if (p->opt.json) {
		printf("{\"transport\": \"%s\", \"auth\": %s, \"count\": %zu, \"size\": %u, "
		       "\"rtt_p50_us\": %.2f, \"rtt_p99_us\": %.2f, \"rtt_p999_us\": %.2f}\n",
		       transport, p->opt.no_auth ? "false" : "true", n, (unsigned)p->opt.size, p50,
		       p99, p999);
	} else {
		printf("%s round trip through env_dpdk (auth %s, %zu pings of %u B): "
		       "p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n",
		       transport, p->opt.no_auth ? "off" : "on", n, (unsigned)p->opt.size, p50, p99,
		       p999);
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

	/* v is set only on success; on failure *out keeps its value. */
	if (rc != 0) {
		return rc;
	}
	*out = (uint32_t)v;
	return 0;
}

/* A dotted IPv4 address, returned in host byte order; 0 is refused (it means "unset"). */
static int
parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0) {
		return -EINVAL;
	}
	*out = ntohl(a.s_addr);
	return 0;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	int used = 0;

	if (sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2], &mac[3],
		   &mac[4], &mac[5], &used) != 6 ||
	    (size_t)used != strlen(s)) {
		return -EINVAL;
	}
	return 0;
}

/* The AF_XDP options: the interface and the addresses of both ends. */
static int
parse_address_option(struct options *o, const char *name, const char *value)
{
	if (strcmp(name, "--af-xdp") == 0) {
		o->af_xdp = value;
		return 2;
	}
	if (strcmp(name, "--ip") == 0) {
		return parse_ipv4(value, &o->ipv4) == 0 ? 2 : -EINVAL;
	}
	if (strcmp(name, "--peer-ip") == 0) {
		return parse_ipv4(value, &o->peer_ipv4) == 0 ? 2 : -EINVAL;
	}
	if (strcmp(name, "--peer-mac") == 0) {
		o->has_peer_mac = parse_mac(value, o->peer_mac) == 0;
		return o->has_peer_mac ? 2 : -EINVAL;
	}
	return -EINVAL;
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
	return parse_address_option(o, name, value);
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
					    "--expect-delivered",
					    "--busy-budget"};
	uint32_t *fields[] = {&o->id,
			      &o->peer,
			      &o->cpu,
			      &o->count,
			      &o->size,
			      &o->incarnation,
			      &o->expect_delivered,
			      &o->busy_budget};
	/* --busy-budget is checked by dp_port_create (-EINVAL above its bound). */
	const uint32_t maxes[] = {UINT32_MAX,  UINT32_MAX, DP_EAL_CPU_MAX, COUNT_MAX,
				  ENV_MSG_MAX, UINT32_MAX, UINT32_MAX,     UINT32_MAX};

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
	o->busy_budget = DP_PORT_AF_XDP_BUSY_BUDGET_DEFAULT;
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
	    o->incarnation == 0 ||
	    (o->af_xdp != NULL && (o->ipv4 == 0 || o->peer_ipv4 == 0 || !o->has_peer_mac))) {
		fprintf(stderr,
			"usage: dp_peer --role ping|pong --id N --peer N --run-dir DIR "
			"--cpu C [--count N] [--size B] [--inject] [--fault-seed S] "
			"[--latency] [--json] [--no-auth] [--timeout-ms T] [--incarnation N] "
			"[--expect-delivered N] [--no-exit] [--af-xdp IFNAME --ip A.B.C.D "
			"--peer-ip A.B.C.D --peer-mac xx:xx:xx:xx:xx:xx [--busy-budget N]]\n");
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

/*
 * The largest datagram is what the port carries (an AF_XDP port: its MTU). A larger one must
 * be refused with -EMSGSIZE before it is stamped, never sent and lost: the ping side checks
 * that once, and that the refusal used up no link counter.
 */
static void
peer_check_size_limit(struct peer *p)
{
	struct env_dpdk_stats before;
	struct env_dpdk_stats after;
	int rc;

	p->body_max = base_min_size(dp_port_frame_max(dp_tool_port(p->tool)) - DP_FRAME_OVERHEAD,
				    ENV_MSG_MAX);
	if (p->opt.size > p->body_max) {
		fprintf(stderr, "dp_peer: --size %u is above what the port carries (%zu)\n",
			(unsigned)p->opt.size, p->body_max);
		fail(p, "datagram size");
		return;
	}
	if (strcmp(p->opt.role, "ping") != 0 || p->body_max == ENV_MSG_MAX) {
		return;
	}
	env_dpdk_stats_get(dp_tool_env(p->tool), &before);
	memset(p->msg, 0, p->body_max + 1u);
	rc = p->ops->send(p->ops->ctx, p->opt.peer, p->msg, p->body_max + 1u);
	env_dpdk_stats_get(dp_tool_env(p->tool), &after);
	if (rc != -EMSGSIZE || after.auth.sealed_count != before.auth.sealed_count ||
	    after.send_too_big_count != before.send_too_big_count + 1u) {
		fail(p, "a datagram above the port's frame size was not refused with -EMSGSIZE");
	}
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
	tc.af_xdp_ifname = p->opt.af_xdp;
	tc.af_xdp_busy_budget = p->opt.busy_budget;
	tc.self_ipv4 = p->opt.ipv4;
	tc.peer_ipv4 = p->opt.peer_ipv4;
	memcpy(tc.peer_mac, p->opt.peer_mac, sizeof(tc.peer_mac));
	p->is_lossy = p->opt.af_xdp != NULL;
	base_log_init(&tc.log, base_log_file_sink, stderr, BASE_LOG_WARN);
	rc = dp_tool_start(&tc, &p->tool, &eal_failed, &what);
	if (rc != 0) {
		fprintf(stderr, "dp_peer %s id=%u: %s: %s\n", p->opt.role, (unsigned)p->opt.id,
			what, strerror(-rc));
		return eal_failed ? DP_TOOL_EXIT_NO_EAL : DP_TOOL_EXIT_FAIL;
	}
	p->ops = env_dpdk_ops(dp_tool_env(p->tool));
	peer_check_size_limit(p);
	rc = p->failed ? 0 : peer_run(p);
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
