/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_inject: a hostile cluster member for the node integration test
 * (tests/node/test_node_hostile.sh). It takes the place of one member of a running aetherd
 * cluster (node 3 of 3 by default) and floods the others with frames they must refuse, while
 * the test checks that the cluster keeps working, counts every refusal under its reason and
 * applies nothing forged.
 *
 *   dp_inject --mode memif --run-dir D --target 1 --target 2 [--self 3] [--cpu C]
 *             [--cluster-id N] [--duration-ms T] [--rate N] [--seed S]
 *             [--secret-file F --control N] [--link-timeout-ms T]
 *   dp_inject --mode udp --udp-base P --target 1 --target 2 [--self 3] [...] [--control N]
 *
 * memif: it connects node 3's memif links to each target the way aetherd would (node 3 is the
 * client of <run-dir>/memif-<target>-3.sock, one buffer per frame) and puts raw frames on the
 * ports, bypassing env_dpdk. udp: it binds node 3's address (127.0.0.1:<udp-base + 3>, as
 * scripts/cluster.sh lays ports out), so the fallback transport attributes its datagrams to
 * node 3, plus a second socket on another port (a stranger).
 *
 * Kinds, round robin over the targets at --rate frames per second (bodies that would decode
 * carry a Rabia REQ with a KV PUT of "forged/<kind>/<n>", so a forgery that got through would
 * show up in the store):
 *   garbage          random bytes (memif: half of them behind a real Ethernet header)
 *   truncated        a well-formed frame (memif) or Rabia REQ (udp) cut short
 *   bad_length       memif: body_size or the IPv4 total length (checksum fixed) disagree with
 *                    the bytes; udp: a request length that runs past the datagram
 *   oversize         udp only: a datagram above ENV_MSG_MAX (a memif port refuses to send a
 *                    frame above DP_PORT_FRAME_MAX, so no member can produce one)
 *   forged           memif: our own frame sealed with a WRONG secret; udp: such a frame sent
 *                    as a datagram (the fallback has no frame layer)
 *   spoofed          claims the other target as its sender (memif: wrong key, fresh counter;
 *                    udp: a Rabia REQ whose sender is not node 3)
 *   unknown_sender   memif: a sender id that is no member; udp: a valid REQ of node 3 from the
 *                    stranger's port
 *   unauthenticated  memif only: the authentication flag cleared
 *   foreign          another cluster id, epoch or (memif) receiver
 *   reflected        a frame or datagram the target sent us, sent back to it unchanged
 *   replayed         a frame or datagram the OTHER target sent us, sent to this one: memif
 *                    rewrites the receiver and sweeps the counter over +-1024 around the
 *                    captured one (so the target's replay window sees counters it already
 *                    accepted), and every eighth uses an older incarnation; udp sends it as is
 * --control N sends N valid writes ("control/<i>" = "v<i>") as node 3, spread over the run:
 * the positive control that proves the payloads above would have been applied had they been
 * accepted. Each write is its own batch of its own client (seq 1), and every write sent so far
 * is sent again every CONTROL_RETRY_NS until the run ends: a proxy retransmits what is not
 * decided, and an epoch change (node_shard.h) empties the pending queues of a stalled cluster,
 * which the flood can cause; Rabia and the store's per-client dedupe apply each write once.
 * memif needs the cluster secret for them (--secret-file) and sends each control frame's first
 * copy twice (an exact replay, refused as `replayed`).
 *
 * Output: one JSON line on stdout with what was sent per kind. Exit status: 0; 1 when a kind
 * that applies to the mode was never sent (for instance nothing was captured to replay), not
 * every control write was sent, or a link never came up; 2 for bad
 * usage; 3 when EAL cannot start here (the test then skips).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/panic.h"
#include "base/prng.h"
#include "dataplane/auth.h"
#include "dataplane/dp_eal.h"
#include "dataplane/dp_mempool.h"
#include "dataplane/dp_port.h"
#include "dataplane/frame.h"
#include "dataplane/run.h"
#include "dp_tool.h"
#include "env/env.h"

#define TARGETS_MAX      2u
#define BURST_MAX        32u
#define RX_BURST_MAX     64u
#define WRONG_SECRET     "not-the-cluster-secret-at-all-42"
#define SECRET_MAX       DP_AUTH_SECRET_MAX
/* Counters of frames sealed with the wrong key: far ahead of any real link's. */
#define FORGED_COUNTER   ((uint64_t)1 << 32)
#define SWEEP_HALF       1024
#define STALE_EVERY      8u
#define UNKNOWN_ID       0x7ffffff0u
/* The frame epoch every aetherd uses (aetherd_memif.c), until a captured frame says more. */
#define FRAME_EPOCH      1u
#define RABIA_EPOCH      1u
/* Wire constants of the node and Rabia (node_shard.h, rabia_msg.h, kv_cmd.h): written out
 * here on purpose, as an outsider would, so the dataplane does not depend on consensus. */
#define CH_RABIA         1u
#define RABIA_VERSION    1u
#define RABIA_REQ        1u
#define RABIA_HDR_SIZE   32u
#define KV_VERSION       1u
#define KV_PUT           1u
/* Control write k is client (self << 16) | (CONTROL_CLIENT + k). */
#define CONTROL_CLIENT   0x7f00u
#define FORGED_CLIENT    0x7ff1u
#define LINGER_NS        (500u * 1000u * 1000u)
#define CONTROL_RETRY_NS (100u * 1000u * 1000u)
#define NS_PER_MS        (1000u * 1000u)
#define UDP_DATAGRAM     1400u

enum kind {
	KIND_GARBAGE,
	KIND_TRUNCATED,
	KIND_BAD_LENGTH,
	KIND_OVERSIZE,
	KIND_FORGED,
	KIND_SPOOFED,
	KIND_UNKNOWN_SENDER,
	KIND_UNAUTHENTICATED,
	KIND_FOREIGN,
	KIND_REFLECTED,
	KIND_REPLAYED,
	KIND_COUNT,
};

static const char *const kind_names[KIND_COUNT] = {
	"garbage",        "truncated",       "bad_length", "oversize",  "forged",   "spoofed",
	"unknown_sender", "unauthenticated", "foreign",    "reflected", "replayed",
};

struct options {
	bool is_memif;
	uint32_t self_id;
	uint32_t targets[TARGETS_MAX];
	size_t target_count;
	uint64_t cluster_id;
	const char *run_dir;
	uint32_t udp_base;
	uint32_t cpu;
	uint64_t duration_ms;
	uint32_t rate;
	uint64_t seed;
	const char *secret_file;
	uint32_t control;
	uint64_t link_timeout_ms;
};

struct target {
	uint32_t node_id;
	struct dp_port *port;    /* memif */
	struct sockaddr_in addr; /* udp */
	uint64_t forged_counter;
	/* The newest frame (memif) or datagram (udp) this target sent us, and what it says. */
	uint8_t capture[DP_PORT_FRAME_MAX];
	size_t capture_size;
	uint64_t capture_count;
	uint32_t incarnation;
	uint64_t counter;
	uint64_t frame_epoch;
	uint64_t slot;
	uint64_t rabia_epoch;
	int64_t sweep; /* the replay sweep's next offset */
	uint64_t replays;
};

struct inject {
	struct options opt;
	struct base_prng prng;
	struct base_log log;
	struct target targets[TARGETS_MAX];
	uint32_t members[TARGETS_MAX + 1];
	size_t member_count;
	/* memif */
	bool eal_started;
	struct dp_mempool *pool;
	struct dp_auth *wrong[TARGETS_MAX + 1]; /* sealing as members[i] with the wrong secret */
	struct dp_auth *real;                   /* node 3 with the cluster secret, or NULL */
	/* udp */
	int fd_self;
	int fd_stranger;
	/* the run */
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t shots;
	uint64_t sent[KIND_COUNT];
	uint64_t refused; /* sends our own side refused (ring full) */
	uint64_t skipped; /* shots with nothing to send yet (no capture) */
	uint64_t controls_sent;
	uint64_t control_replays;
	uint64_t control_retries;
	uint64_t control_retry_ns;
	bool failed;
	uint8_t body[ENV_MSG_MAX];
	uint8_t frame[DP_PORT_FRAME_MAX + 512];
};

static void
fail(struct inject *inj, const char *what)
{
	fprintf(stderr, "dp_inject: FAIL: %s\n", what);
	inj->failed = true;
}

static bool
kind_applies(const struct inject *inj, enum kind k)
{
	if (inj->opt.is_memif) {
		return k != KIND_OVERSIZE;
	}
	return k != KIND_UNAUTHENTICATED;
}

/* The other target (for spoofing and replays); NULL with a single target. */
static struct target *
other_target(struct inject *inj, const struct target *t)
{
	if (inj->opt.target_count < 2) {
		return NULL;
	}
	return t == &inj->targets[0] ? &inj->targets[1] : &inj->targets[0];
}

/* ---- bodies: channel byte, Rabia REQ with one KV PUT ---- */

struct req_spec {
	uint32_t sender;
	uint64_t cluster_id;
	uint64_t epoch;
	uint64_t slot;
	uint64_t client_id;
	uint64_t client_seq;
	uint64_t batch_seq;
	char key[48];
	char value[24];
};

/* Writes the datagram a member's shard would send for spec into buf; returns its size. */
static size_t
req_build(const struct req_spec *spec, uint8_t *buf, size_t capacity)
{
	struct base_writer w;
	size_t key_size = strlen(spec->key);
	size_t value_size = strlen(spec->value);
	uint32_t cmd_size = (uint32_t)(2u + 4u + key_size + 4u + value_size);

	base_writer_init(&w, buf, capacity);
	base_writer_u8(&w, CH_RABIA);
	base_writer_u8(&w, RABIA_VERSION);
	base_writer_u8(&w, RABIA_REQ);
	base_writer_u16(&w, 0);
	base_writer_u32(&w, spec->sender);
	base_writer_u64(&w, spec->cluster_id);
	base_writer_u64(&w, spec->epoch);
	base_writer_u64(&w, spec->slot);
	/* The batch: id (proxy = sender, seq), one request {client, seq, body}. */
	base_writer_u32(&w, spec->sender);
	base_writer_u64(&w, spec->batch_seq);
	base_writer_u16(&w, 1);
	base_writer_u64(&w, spec->client_id);
	base_writer_u64(&w, spec->client_seq);
	base_writer_u32(&w, cmd_size);
	base_writer_u8(&w, KV_VERSION);
	base_writer_u8(&w, KV_PUT);
	base_writer_blob(&w, (const uint8_t *)spec->key, key_size);
	base_writer_blob(&w, (const uint8_t *)spec->value, value_size);
	ASSERT(w.err == 0);
	return base_writer_size(&w);
}

/* A forged write's REQ, as `sender` would send it to t, into inj->body. */
static size_t
forged_body(struct inject *inj, const struct target *t, uint32_t sender, enum kind k)
{
	struct req_spec spec = {.sender = sender,
				.cluster_id = inj->opt.cluster_id,
				.epoch = t->rabia_epoch,
				.slot = t->slot,
				.client_id = ((uint64_t)sender << 16) | FORGED_CLIENT,
				.client_seq = 1u + inj->shots,
				.batch_seq = 1000000u + inj->shots};

	(void)snprintf(spec.key, sizeof(spec.key), "forged/%s/%" PRIu64, kind_names[k], inj->shots);
	(void)snprintf(spec.value, sizeof(spec.value), "x");
	return req_build(&spec, inj->body, sizeof(inj->body));
}

/* ---- memif frames ---- */

/* Seals with `auth` when given, else writes a random tag. Returns 0 or a negative errno. */
static int
frame_build(struct inject *inj, const struct target *t, const struct dp_frame_header *h,
	    struct dp_auth *auth, size_t body_size, size_t *size)
{
	struct dp_frame_endpoint src;
	struct dp_frame_endpoint dst;
	int rc;

	dp_frame_endpoint_default(inj->opt.self_id, &src);
	dp_frame_endpoint_default(t->node_id, &dst);
	rc = dp_frame_encode(&src, &dst, h, inj->body, body_size, inj->frame, sizeof(inj->frame),
			     size);
	if (rc != 0) {
		return rc;
	}
	if (auth != NULL) {
		return dp_auth_seal(auth, inj->frame, *size);
	}
	for (size_t i = *size - DP_FRAME_TAG_SIZE; i < *size; i++) {
		inj->frame[i] = (uint8_t)base_prng_next(&inj->prng);
	}
	return 0;
}

static struct dp_auth *
wrong_auth(struct inject *inj, uint32_t sender)
{
	for (size_t i = 0; i < inj->member_count; i++) {
		if (inj->members[i] == sender) {
			return inj->wrong[i];
		}
	}
	return NULL;
}

/* A frame from `sender` to t with a forged body, sealed with the wrong secret (or not at all
 * for a sender that is no member), in inj->frame. */
static int
forged_frame(struct inject *inj, const struct target *t, uint32_t sender, uint32_t incarnation,
	     enum kind k, size_t *size)
{
	struct dp_frame_header h = {.type = DP_FRAME_TYPE_DATA,
				    .flags = DP_FRAME_FLAG_AUTH,
				    .cluster_id = inj->opt.cluster_id,
				    .epoch = t->frame_epoch,
				    .sender = sender,
				    .receiver = t->node_id,
				    .incarnation = incarnation,
				    .counter = FORGED_COUNTER + inj->shots};

	return frame_build(inj, t, &h, wrong_auth(inj, sender), forged_body(inj, t, sender, k),
			   size);
}

static void
count_send(struct inject *inj, enum kind k, int rc)
{
	if (rc == 0) {
		inj->sent[k]++;
	} else if (rc == -ENOBUFS) {
		inj->refused++; /* the target's ring is full: it is busy, which is the point */
	} else {
		fprintf(stderr, "dp_inject: send %s: %s\n", kind_names[k], strerror(-rc));
		fail(inj, "a send failed");
	}
}

static void
memif_send(struct inject *inj, struct target *t, enum kind k, const uint8_t *data, size_t size)
{
	count_send(inj, k, dp_port_send(t->port, data, size));
}

/* Junk; half of it behind an Ethernet header to the target with a foreign ethertype. */
static void
memif_garbage(struct inject *inj, struct target *t)
{
	size_t size = (size_t)base_prng_range(&inj->prng, 1, 1500);
	struct dp_frame_endpoint src;
	struct dp_frame_endpoint dst;

	for (size_t i = 0; i < size; i++) {
		inj->frame[i] = (uint8_t)base_prng_next(&inj->prng);
	}
	if (size >= DP_FRAME_ETH_SIZE && base_prng_chance(&inj->prng, 500000)) {
		dp_frame_endpoint_default(inj->opt.self_id, &src);
		dp_frame_endpoint_default(t->node_id, &dst);
		memcpy(&inj->frame[0], dst.mac, 6);
		memcpy(&inj->frame[6], src.mac, 6);
		inj->frame[12] = 0xab;
	}
	memif_send(inj, t, KIND_GARBAGE, inj->frame, size);
}

/* Puts the IPv4 header checksum right after a change (RFC 1071, stored big endian). */
static void
ipv4_checksum_fix(uint8_t *frame)
{
	uint8_t *ip = frame + DP_FRAME_ETH_SIZE;
	uint16_t sum;

	ip[10] = 0;
	ip[11] = 0;
	sum = dp_frame_inet_checksum(ip, DP_FRAME_IPV4_SIZE);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

/* A forged frame whose lengths disagree: our body_size, or the IPv4 total length. */
static void
memif_bad_length(struct inject *inj, struct target *t)
{
	uint8_t *hdr = inj->frame + DP_FRAME_HEADER_OFFSET;
	uint8_t *ip = inj->frame + DP_FRAME_ETH_SIZE;
	uint16_t delta = (uint16_t)base_prng_range(&inj->prng, 1, 64);
	size_t size;

	if (forged_frame(inj, t, inj->opt.self_id, 1, KIND_BAD_LENGTH, &size) != 0) {
		fail(inj, "cannot build a frame");
		return;
	}
	if (inj->shots % 2 == 0) {
		base_store_le16(hdr + 36, (uint16_t)(base_load_le16(hdr + 36) + delta));
	} else {
		uint16_t total = (uint16_t)((ip[2] << 8) | ip[3]);

		total = (uint16_t)(inj->shots % 4 == 1 ? total + delta : total - delta);
		ip[2] = (uint8_t)(total >> 8);
		ip[3] = (uint8_t)total;
		ipv4_checksum_fix(inj->frame);
	}
	memif_send(inj, t, KIND_BAD_LENGTH, inj->frame, size);
}

/* Well-formed frames with one identity field wrong; none needs the secret to be refused. */
static void
memif_identity(struct inject *inj, struct target *t, enum kind k)
{
	struct target *other = other_target(inj, t);
	uint32_t sender = inj->opt.self_id;
	uint32_t incarnation = 1;
	size_t size;

	if (k == KIND_SPOOFED) {
		sender = other != NULL ? other->node_id : t->node_id;
		incarnation = other != NULL && other->incarnation != 0 ? other->incarnation : 1;
	} else if (k == KIND_UNKNOWN_SENDER) {
		sender = UNKNOWN_ID;
	}
	if (forged_frame(inj, t, sender, incarnation, k, &size) != 0) {
		fail(inj, "cannot build a frame");
		return;
	}
	if (k == KIND_UNAUTHENTICATED) {
		/* flags (offset 6 of our header) cleared, tag zero: how an auth-off node sends */
		base_store_le16(inj->frame + DP_FRAME_HEADER_OFFSET + 6, 0);
		memset(inj->frame + size - DP_FRAME_TAG_SIZE, 0, DP_FRAME_TAG_SIZE);
	} else if (k == KIND_FOREIGN) {
		uint8_t *hdr = inj->frame + DP_FRAME_HEADER_OFFSET;

		if (inj->shots % 3 == 0) {
			base_store_le64(hdr + 8, inj->opt.cluster_id ^ 0x5a5au); /* cluster */
		} else if (inj->shots % 3 == 1) {
			base_store_le64(hdr + 16, t->frame_epoch + 1u); /* epoch */
		} else {
			base_store_le32(hdr + 28, UNKNOWN_ID); /* receiver */
		}
	}
	memif_send(inj, t, k, inj->frame, size);
}

/*
 * reflected: t's own frame back to it. replayed: the other target's frame to t with the
 * receiver rewritten and the counter swept around the captured one (t has accepted most
 * counters in that range from the other target on their own link); every STALE_EVERY-th with
 * the previous incarnation. The tag no longer matches, but the replay window is consulted
 * first (dataplane/auth.h), so counters t already took are refused as replays.
 */
static void
memif_replay(struct inject *inj, struct target *t, enum kind k)
{
	struct target *src = k == KIND_REFLECTED ? t : other_target(inj, t);
	uint8_t *hdr = inj->frame + DP_FRAME_HEADER_OFFSET;
	int64_t counter;

	if (src == NULL || src->capture_size == 0) {
		inj->skipped++;
		return;
	}
	memcpy(inj->frame, src->capture, src->capture_size);
	if (k == KIND_REPLAYED) {
		counter = (int64_t)src->counter + src->sweep;
		src->sweep = src->sweep >= SWEEP_HALF ? -SWEEP_HALF : src->sweep + 1;
		base_store_le32(hdr + 28, t->node_id);
		base_store_le64(hdr + 40, counter >= 1 ? (uint64_t)counter : 1u);
		if (src->replays++ % STALE_EVERY == 0) {
			base_store_le32(hdr + 32, src->incarnation - 1u);
		}
	}
	memif_send(inj, t, k, inj->frame, src->capture_size);
}

static void
memif_shot(struct inject *inj, struct target *t, enum kind k)
{
	size_t size;

	switch (k) {
	case KIND_GARBAGE:
		memif_garbage(inj, t);
		return;
	case KIND_TRUNCATED:
		if (forged_frame(inj, t, inj->opt.self_id, 1, k, &size) != 0) {
			fail(inj, "cannot build a frame");
			return;
		}
		memif_send(inj, t, k, inj->frame, (size_t)base_prng_range(&inj->prng, 1, size - 1));
		return;
	case KIND_BAD_LENGTH:
		memif_bad_length(inj, t);
		return;
	case KIND_FORGED:
		if (forged_frame(inj, t, inj->opt.self_id, 1, k, &size) == 0) {
			memif_send(inj, t, k, inj->frame, size);
		}
		return;
	case KIND_REFLECTED:
	case KIND_REPLAYED:
		memif_replay(inj, t, k);
		return;
	default:
		memif_identity(inj, t, k);
		return;
	}
}

/* ---- udp datagrams ---- */

static void
udp_send(struct inject *inj, int fd, struct target *t, enum kind k, const uint8_t *data,
	 size_t size)
{
	ssize_t n = sendto(fd, data, size, MSG_DONTWAIT, (const struct sockaddr *)&t->addr,
			   sizeof(t->addr));

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
		count_send(inj, k, -ENOBUFS);
	} else {
		count_send(inj, k, n == (ssize_t)size ? 0 : -EIO);
	}
}

static void
udp_random(struct inject *inj, struct target *t, enum kind k, size_t lo, size_t hi)
{
	size_t size = (size_t)base_prng_range(&inj->prng, lo, hi);

	ASSERT(hi <= sizeof(inj->frame));
	for (size_t i = 0; i < size; i++) {
		inj->frame[i] = (uint8_t)base_prng_next(&inj->prng);
	}
	udp_send(inj, inj->fd_self, t, k, inj->frame, size);
}

/* A REQ of node 3 whose one request claims more body bytes than the datagram holds. */
static void
udp_bad_length(struct inject *inj, struct target *t)
{
	/* channel, Rabia header, batch id and count, client id and seq: then the body size */
	const size_t body_size_at = 1u + RABIA_HDR_SIZE + 14u + 16u;
	size_t size = forged_body(inj, t, inj->opt.self_id, KIND_BAD_LENGTH);
	uint32_t claimed = base_load_le32(inj->body + body_size_at);

	base_store_le32(inj->body + body_size_at,
			claimed + (uint32_t)base_prng_range(&inj->prng, 1, 4096));
	udp_send(inj, inj->fd_self, t, KIND_BAD_LENGTH, inj->body, size);
}

/* A REQ with one identity field wrong (or, from the stranger's port, none). */
static void
udp_identity(struct inject *inj, struct target *t, enum kind k)
{
	struct target *other = other_target(inj, t);
	uint32_t sender = inj->opt.self_id;
	int fd = inj->fd_self;
	size_t size;

	if (k == KIND_SPOOFED) {
		sender = other != NULL && inj->shots % 2 == 0 ? other->node_id : t->node_id;
	} else if (k == KIND_UNKNOWN_SENDER) {
		fd = inj->fd_stranger;
	}
	size = forged_body(inj, t, sender, k);
	if (k == KIND_FOREIGN && inj->shots % 2 == 0) {
		base_store_le64(inj->body + 1 + 8, inj->opt.cluster_id ^ 0x5a5au);
	} else if (k == KIND_FOREIGN) {
		base_store_le64(inj->body + 1 + 16, t->rabia_epoch + 1u);
	}
	udp_send(inj, fd, t, k, inj->body, size);
}

static void
udp_shot(struct inject *inj, struct target *t, enum kind k)
{
	struct target *src = k == KIND_REFLECTED ? t : other_target(inj, t);
	size_t size;

	switch (k) {
	case KIND_GARBAGE:
		udp_random(inj, t, k, 1, UDP_DATAGRAM);
		return;
	case KIND_OVERSIZE:
		udp_random(inj, t, k, ENV_MSG_MAX + 1u, ENV_MSG_MAX + 512u);
		return;
	case KIND_TRUNCATED:
		size = forged_body(inj, t, inj->opt.self_id, k);
		udp_send(inj, inj->fd_self, t, k, inj->body,
			 (size_t)base_prng_range(&inj->prng, 1, size - 1));
		return;
	case KIND_BAD_LENGTH:
		udp_bad_length(inj, t);
		return;
	case KIND_FORGED:
		if (forged_frame(inj, t, inj->opt.self_id, 1, k, &size) == 0) {
			udp_send(inj, inj->fd_self, t, k, inj->frame, size);
		}
		return;
	case KIND_REFLECTED:
	case KIND_REPLAYED:
		if (src == NULL || src->capture_size == 0) {
			inj->skipped++;
			return;
		}
		udp_send(inj, inj->fd_self, t, k, src->capture, src->capture_size);
		return;
	default:
		udp_identity(inj, t, k);
		return;
	}
}

/* ---- capture: what the targets send to the member we play ---- */

/* Notes the Rabia epoch and slot of a captured body (channel, then a Rabia header). */
static void
capture_note_body(struct target *t, const uint8_t *body, size_t size)
{
	if (size >= 1u + RABIA_HDR_SIZE && body[0] == CH_RABIA && body[1] == RABIA_VERSION) {
		t->rabia_epoch = base_load_le64(body + 1 + 16);
		t->slot = base_load_le64(body + 1 + 24);
	}
}

static void
capture_keep(struct target *t, const uint8_t *data, size_t size)
{
	memcpy(t->capture, data, size);
	t->capture_size = size;
	t->capture_count++;
}

static int
memif_drain(struct inject *inj)
{
	int work = 0;

	for (size_t i = 0; i < inj->opt.target_count; i++) {
		struct target *t = &inj->targets[i];
		const uint8_t *frame;
		size_t size;
		struct dp_frame_view v;

		for (uint32_t n = 0; n < RX_BURST_MAX && dp_port_recv(t->port, &frame, &size) == 0;
		     n++) {
			work++;
			if (dp_frame_decode(frame, size, &v) != 0 ||
			    v.header.sender != t->node_id ||
			    v.header.receiver != inj->opt.self_id) {
				continue;
			}
			capture_keep(t, frame, size);
			t->incarnation = v.header.incarnation;
			t->counter = v.header.counter;
			t->frame_epoch = v.header.epoch;
			capture_note_body(t, v.body, v.body_size);
		}
	}
	return work;
}

static struct target *
target_by_addr(struct inject *inj, const struct sockaddr_in *from)
{
	for (size_t i = 0; i < inj->opt.target_count; i++) {
		struct target *t = &inj->targets[i];

		if (t->addr.sin_port == from->sin_port &&
		    t->addr.sin_addr.s_addr == from->sin_addr.s_addr) {
			return t;
		}
	}
	return NULL;
}

static int
udp_drain(struct inject *inj)
{
	int work = 0;

	for (uint32_t n = 0; n < RX_BURST_MAX; n++) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof(from);
		ssize_t got = recvfrom(inj->fd_self, inj->frame, sizeof(inj->frame), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &from_len);
		struct target *t;

		if (got <= 0) {
			break;
		}
		work++;
		t = target_by_addr(inj, &from);
		if (t != NULL && (size_t)got <= sizeof(t->capture)) {
			capture_keep(t, inj->frame, (size_t)got);
			capture_note_body(t, inj->frame, (size_t)got);
		}
	}
	return work;
}

/* ---- control writes: what node 3 may legitimately do ---- */

/* Control write k (1-based): batch (self, k) holding request 1 of client CONTROL_CLIENT + k. */
static size_t
control_body(struct inject *inj, const struct target *t, uint64_t k)
{
	struct req_spec spec = {.sender = inj->opt.self_id,
				.cluster_id = inj->opt.cluster_id,
				.epoch = t->rabia_epoch,
				.slot = t->slot,
				.client_id =
					((uint64_t)inj->opt.self_id << 16) | (CONTROL_CLIENT + k),
				.client_seq = 1,
				.batch_seq = k};

	ASSERT(k >= 1 && k <= 1000u);
	(void)snprintf(spec.key, sizeof(spec.key), "control/%" PRIu64, k);
	(void)snprintf(spec.value, sizeof(spec.value), "v%" PRIu64, k);
	return req_build(&spec, inj->body, sizeof(inj->body));
}

/* Control write k as an authentic frame of node 3 on its link to t; `copies` 2 sends the
 * same bytes again (an exact replay). */
static int
control_memif(struct inject *inj, struct target *t, uint64_t k, int copies)
{
	struct dp_frame_header h = {.type = DP_FRAME_TYPE_DATA};
	size_t size;
	int rc = dp_auth_stamp(inj->real, t->node_id, &h);

	if (rc == 0) {
		rc = frame_build(inj, t, &h, inj->real, control_body(inj, t, k), &size);
	}
	for (int copy = 0; rc == 0 && copy < copies; copy++) {
		/* memif is lossless while the link is up: a full ring only needs another try */
		do {
			rc = dp_port_send(t->port, inj->frame, size);
		} while (rc == -ENOBUFS && dp_run_now_ns() < inj->end_ns + LINGER_NS);
	}
	if (rc == 0 && copies == 2) {
		inj->control_replays++;
	}
	return rc;
}

/* Sends control write k to every target; is_first: its first time (memif adds the replay). */
static void
control_send(struct inject *inj, uint64_t k, bool is_first)
{
	for (size_t i = 0; i < inj->opt.target_count; i++) {
		struct target *t = &inj->targets[i];
		int rc;

		if (inj->opt.is_memif) {
			rc = control_memif(inj, t, k, is_first ? 2 : 1);
		} else {
			size_t size = control_body(inj, t, k);
			ssize_t n = sendto(inj->fd_self, inj->body, size, 0,
					   (const struct sockaddr *)&t->addr, sizeof(t->addr));

			rc = n == (ssize_t)size ? 0 : -EIO;
		}
		if (rc != 0) {
			fail(inj, "cannot send a control write");
		}
	}
}

/* The next control write when due, else every one sent so far when the retry timer fired. */
static int
control_poll(struct inject *inj, uint64_t now_ns)
{
	uint64_t elapsed = now_ns - inj->start_ns;
	uint64_t due = elapsed * (inj->opt.control + 1u) / (inj->end_ns - inj->start_ns);

	if (inj->controls_sent < inj->opt.control && due > inj->controls_sent) {
		control_send(inj, ++inj->controls_sent, true);
		return 1;
	}
	if (inj->controls_sent == 0 || now_ns < inj->control_retry_ns) {
		return 0;
	}
	inj->control_retry_ns = now_ns + CONTROL_RETRY_NS;
	for (uint64_t k = 1; k <= inj->controls_sent; k++) {
		control_send(inj, k, false);
		inj->control_retries++;
	}
	return 1;
}

/* ---- the run ---- */

static int
inject_poll(void *ctx, uint64_t now_ns)
{
	struct inject *inj = ctx;
	uint64_t elapsed = now_ns - inj->start_ns;
	uint64_t due = elapsed / 1000u * inj->opt.rate / 1000000u;
	int work = inj->opt.is_memif ? memif_drain(inj) : udp_drain(inj);

	/* Control writes go on while the flood lingers: the last one needs time to commit. */
	work += control_poll(inj, now_ns);
	if (now_ns >= inj->end_ns) {
		return now_ns >= inj->end_ns + LINGER_NS || inj->failed ? DP_RUN_STOP : work;
	}
	for (uint32_t n = 0; n < BURST_MAX && inj->shots < due; n++) {
		size_t count = inj->opt.target_count;
		enum kind k = (enum kind)(inj->shots % KIND_COUNT);
		struct target *t = &inj->targets[(inj->shots / KIND_COUNT) % count];

		if (kind_applies(inj, k)) {
			if (inj->opt.is_memif) {
				memif_shot(inj, t, k);
			} else {
				udp_shot(inj, t, k);
			}
		}
		inj->shots++;
		work++;
	}
	return inj->failed ? DP_RUN_STOP : work;
}

static void
report(const struct inject *inj)
{
	printf("{\"mode\":\"%s\",\"shots\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"skipped\":%" PRIu64
	       ",\"controls\":%" PRIu64 ",\"control_replays\":%" PRIu64
	       ",\"control_retries\":%" PRIu64 ",\"captured\":[",
	       inj->opt.is_memif ? "memif" : "udp", inj->shots, inj->refused, inj->skipped,
	       inj->controls_sent, inj->control_replays, inj->control_retries);
	for (size_t i = 0; i < inj->opt.target_count; i++) {
		printf("%s%" PRIu64, i > 0 ? "," : "", inj->targets[i].capture_count);
	}
	printf("],\"sent\":{");
	for (size_t k = 0; k < KIND_COUNT; k++) {
		printf("%s\"%s\":%" PRIu64, k > 0 ? "," : "", kind_names[k], inj->sent[k]);
	}
	printf("}}\n");
}

/* Every kind that applies was sent at least once (else the test's expectations are void). */
static void
check_coverage(struct inject *inj)
{
	for (size_t k = 0; k < KIND_COUNT; k++) {
		if (kind_applies(inj, (enum kind)k) && inj->sent[k] == 0) {
			fprintf(stderr, "dp_inject: no %s frame was sent\n", kind_names[k]);
			fail(inj, "a kind was never sent");
		}
	}
	if (inj->controls_sent < inj->opt.control) {
		fail(inj, "not every control write was sent");
	}
}

/* ---- setup ---- */

static int
auth_create(struct inject *inj, uint32_t self, const uint8_t *secret, size_t secret_size,
	    struct dp_auth **out)
{
	struct dp_auth_config ac;

	memset(&ac, 0, sizeof(ac));
	ac.cluster_id = inj->opt.cluster_id;
	ac.epoch = FRAME_EPOCH;
	ac.self_id = self;
	ac.incarnation = 1;
	ac.secret = secret;
	ac.secret_size = secret_size;
	for (size_t i = 0; i < inj->member_count; i++) {
		if (inj->members[i] != self) {
			ac.peer_ids[ac.peer_count++] = inj->members[i];
		}
	}
	return dp_auth_create(&ac, out);
}

/* The cluster secret as aetherd reads it: the bytes without one trailing newline. */
static int
secret_read(const char *path, uint8_t *buf, size_t *size)
{
	uint8_t raw[SECRET_MAX + 3];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		return -errno;
	}
	n = read(fd, raw, sizeof(raw));
	(void)close(fd);
	if (n < 0) {
		return -EIO;
	}
	if (n > 0 && raw[n - 1] == '\n') {
		n--;
	}
	if (n < (ssize_t)DP_AUTH_SECRET_MIN || n > (ssize_t)SECRET_MAX) {
		return -EINVAL;
	}
	memcpy(buf, raw, (size_t)n);
	*size = (size_t)n;
	return 0;
}

static int
auths_create(struct inject *inj)
{
	uint8_t secret[SECRET_MAX];
	size_t secret_size = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < inj->member_count; i++) {
		rc = auth_create(inj, inj->members[i], (const uint8_t *)WRONG_SECRET,
				 strlen(WRONG_SECRET), &inj->wrong[i]);
	}
	if (rc == 0 && inj->opt.secret_file != NULL) {
		rc = secret_read(inj->opt.secret_file, secret, &secret_size);
		if (rc != 0) {
			fprintf(stderr, "dp_inject: cannot read %s: %s\n", inj->opt.secret_file,
				strerror(-rc));
			return rc;
		}
		rc = auth_create(inj, inj->opt.self_id, secret, secret_size, &inj->real);
		memset(secret, 0, sizeof(secret));
	}
	return rc;
}

/* EAL, one mbuf pool, node 3's memif link to each target (client side), links up. */
static int
memif_open(struct inject *inj, bool *eal_failed)
{
	struct dp_eal_config ec;
	struct dp_mempool_config mc;
	int rc;

	dp_eal_config_default(&ec);
	dp_tool_file_prefix(getpid(), ec.file_prefix, sizeof(ec.file_prefix));
	ec.lcore_cpus[0] = inj->opt.cpu;
	rc = dp_eal_start(&ec, &inj->log, NULL);
	if (rc != 0) {
		*eal_failed = true;
		return rc;
	}
	inj->eal_started = true;
	dp_mempool_config_default(&mc);
	rc = dp_mempool_create(&mc, &inj->log, &inj->pool);
	for (size_t i = 0; rc == 0 && i < inj->opt.target_count; i++) {
		struct dp_port_config pc;

		dp_port_config_default(&pc);
		rc = dp_port_memif_link(inj->opt.self_id, inj->targets[i].node_id, inj->opt.run_dir,
					&pc);
		pc.memif.buffer_size = DP_PORT_FRAME_MAX; /* as aetherd: one buffer per frame */
		if (rc == 0) {
			rc = dp_port_create(&pc, inj->pool, &inj->log, &inj->targets[i].port);
		}
	}
	for (size_t i = 0; rc == 0 && i < inj->opt.target_count; i++) {
		rc = dp_port_wait_up(inj->targets[i].port, inj->opt.link_timeout_ms * NS_PER_MS);
		if (rc != 0) {
			fprintf(stderr, "dp_inject: the memif link to node %u never came up\n",
				(unsigned)inj->targets[i].node_id);
		}
	}
	return rc;
}

static int
udp_socket(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -errno;
	}
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (const struct sockaddr *)&a, sizeof(a)) != 0) {
		int rc = -errno;

		(void)close(fd);
		return rc;
	}
	return fd;
}

/* Node 3's own address (to be taken for node 3) and an ephemeral one (a stranger). */
static int
udp_open(struct inject *inj)
{
	uint32_t port = inj->opt.udp_base + inj->opt.self_id;

	for (size_t i = 0; i < inj->opt.target_count; i++) {
		struct target *t = &inj->targets[i];

		t->addr.sin_family = AF_INET;
		t->addr.sin_port = htons((uint16_t)(inj->opt.udp_base + t->node_id));
		t->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	inj->fd_self = udp_socket((uint16_t)port);
	if (inj->fd_self < 0) {
		fprintf(stderr, "dp_inject: cannot bind 127.0.0.1:%u: %s\n", (unsigned)port,
			strerror(-inj->fd_self));
		return inj->fd_self;
	}
	inj->fd_stranger = udp_socket(0);
	return inj->fd_stranger < 0 ? inj->fd_stranger : 0;
}

static void
inject_close(struct inject *inj)
{
	for (size_t i = 0; i < TARGETS_MAX; i++) {
		dp_port_destroy(inj->targets[i].port);
		inj->targets[i].port = NULL;
	}
	dp_mempool_destroy(inj->pool);
	for (size_t i = 0; i <= TARGETS_MAX; i++) {
		dp_auth_destroy(inj->wrong[i]);
	}
	dp_auth_destroy(inj->real);
	if (inj->eal_started) {
		dp_eal_stop();
		dp_tool_remove_runtime_dir(getpid());
	}
	if (inj->fd_self >= 0) {
		(void)close(inj->fd_self);
	}
	if (inj->fd_stranger >= 0) {
		(void)close(inj->fd_stranger);
	}
}

/* ---- command line ---- */

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
	uint64_t v = 0;
	int rc = parse_u64(s, max, &v);

	*out = (uint32_t)v;
	return rc;
}

static int
parse_text(struct options *o, const char *name, const char *value)
{
	if (strcmp(name, "--mode") == 0) {
		o->is_memif = strcmp(value, "memif") == 0;
		return o->is_memif || strcmp(value, "udp") == 0 ? 0 : -EINVAL;
	}
	if (strcmp(name, "--run-dir") == 0) {
		o->run_dir = value;
		return 0;
	}
	if (strcmp(name, "--secret-file") == 0) {
		o->secret_file = value;
		return 0;
	}
	if (strcmp(name, "--target") == 0) {
		if (o->target_count == TARGETS_MAX) {
			return -EINVAL;
		}
		return parse_u32(value, UINT32_MAX, &o->targets[o->target_count++]);
	}
	return -EINVAL;
}

static int
parse_option(struct options *o, const char *name, const char *value)
{
	static const char *const u32_names[] = {"--self", "--udp-base", "--cpu", "--rate",
						"--control"};
	uint32_t *u32s[] = {&o->self_id, &o->udp_base, &o->cpu, &o->rate, &o->control};
	const uint32_t u32_maxes[] = {UINT32_MAX, 65000u, DP_EAL_CPU_MAX, 10000000u, 1000u};
	static const char *const u64_names[] = {"--cluster-id", "--duration-ms", "--seed",
						"--link-timeout-ms"};
	uint64_t *u64s[] = {&o->cluster_id, &o->duration_ms, &o->seed, &o->link_timeout_ms};
	const uint64_t u64_maxes[] = {UINT64_MAX, 3600000u, UINT64_MAX, 3600000u};

	for (size_t i = 0; i < AE_ARRAY_SIZE(u32_names); i++) {
		if (strcmp(name, u32_names[i]) == 0) {
			return parse_u32(value, u32_maxes[i], u32s[i]);
		}
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(u64_names); i++) {
		if (strcmp(name, u64_names[i]) == 0) {
			return parse_u64(value, u64_maxes[i], u64s[i]);
		}
	}
	return parse_text(o, name, value);
}

static bool
options_valid(const struct options *o, bool has_mode)
{
	bool ok = has_mode && o->target_count >= 1 && o->rate >= 1 && o->duration_ms >= 1 &&
		  o->self_id != 0;

	for (size_t i = 0; i < o->target_count; i++) {
		ok = ok && o->targets[i] != 0 && o->targets[i] != o->self_id;
	}
	if (o->target_count == 2) {
		ok = ok && o->targets[0] != o->targets[1];
	}
	if (o->is_memif) {
		return ok && o->run_dir != NULL && (o->control == 0 || o->secret_file != NULL);
	}
	return ok && o->udp_base != 0 && o->udp_base + o->self_id <= 65535u &&
	       o->udp_base + o->targets[0] <= 65535u;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
	bool has_mode = false;

	memset(o, 0, sizeof(*o));
	o->self_id = 3;
	o->cluster_id = 1;
	o->duration_ms = 5000;
	o->rate = 20000;
	o->seed = 1;
	o->link_timeout_ms = 10000;
	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc || parse_option(o, argv[i], argv[i + 1]) != 0) {
			fprintf(stderr, "dp_inject: bad option %s\n", argv[i]);
			return -EINVAL;
		}
		has_mode = has_mode || strcmp(argv[i], "--mode") == 0;
	}
	if (!options_valid(o, has_mode)) {
		fprintf(stderr, "usage: dp_inject --mode memif|udp --target N [--target N] "
				"(--run-dir DIR | --udp-base PORT) [--self N] [--cpu C] "
				"[--cluster-id N] [--duration-ms T] [--rate N] [--seed S] "
				"[--secret-file F] [--control N] [--link-timeout-ms T]\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- main ---- */

static void
inject_init(struct inject *inj)
{
	inj->fd_self = -1;
	inj->fd_stranger = -1;
	base_prng_init(&inj->prng, inj->opt.seed);
	base_log_init(&inj->log, base_log_file_sink, stderr, BASE_LOG_WARN);
	for (size_t i = 0; i < inj->opt.target_count; i++) {
		struct target *t = &inj->targets[i];

		t->node_id = inj->opt.targets[i];
		t->frame_epoch = FRAME_EPOCH;
		t->rabia_epoch = RABIA_EPOCH;
		t->sweep = -SWEEP_HALF;
		inj->members[inj->member_count++] = t->node_id;
	}
	inj->members[inj->member_count++] = inj->opt.self_id;
}

static int
inject_run(struct inject *inj)
{
	struct dp_run_config rc_cfg;

	dp_run_config_default(&rc_cfg);
	inj->start_ns = dp_run_now_ns();
	inj->end_ns = inj->start_ns + inj->opt.duration_ms * NS_PER_MS;
	return dp_run(&rc_cfg, inject_poll, inj, NULL);
}

int
main(int argc, char **argv)
{
	struct inject *inj;
	bool eal_failed = false;
	bool failed;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	inj = base_alloc(sizeof(*inj));
	ASSERT(inj != NULL);
	if (parse_args(argc, argv, &inj->opt) != 0) {
		base_free(inj);
		return DP_TOOL_EXIT_USAGE;
	}
	inject_init(inj);
	rc = auths_create(inj);
	if (rc == 0) {
		rc = inj->opt.is_memif ? memif_open(inj, &eal_failed) : udp_open(inj);
	}
	if (rc == 0 && inject_run(inj) != 0) {
		fail(inj, "run loop failed");
	}
	if (rc == 0) {
		check_coverage(inj);
		report(inj);
	}
	failed = rc != 0 || inj->failed;
	inject_close(inj);
	base_free(inj);
	if (eal_failed) {
		fprintf(stderr, "dp_inject: EAL cannot start: %s\n", strerror(-rc));
		return DP_TOOL_EXIT_NO_EAL;
	}
	return failed ? DP_TOOL_EXIT_FAIL : DP_TOOL_EXIT_OK;
}
