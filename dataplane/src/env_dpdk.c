/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/env_dpdk.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/dp_port.h"
#include "dataplane/run.h"

static_assert(DP_FRAME_BODY_MAX == ENV_MSG_MAX, "a frame carries any env datagram");
static_assert(DP_FRAME_SIZE_MAX <= DP_PORT_FRAME_MAX, "a port carries any frame");

/* Hold slots of a fault hook (frames delayed or reordered at the same time). */
#define FAULT_HOLD_DEFAULT 64u

struct dpdk_peer {
	uint32_t node_id;
	struct dp_port *port;
	struct dp_frame_endpoint endpoint;
	struct dp_fault *fault; /* NULL: no fault injection towards this peer */
};

struct env_dpdk {
	struct env_ops ops; /* ops.ctx == this */
	uint32_t node_id;
	uint64_t seed;
	const struct env_ops *storage;
	struct dp_frame_endpoint endpoint;
	struct dp_auth *auth;
	size_t peer_count;
	struct dpdk_peer peers[ENV_DPDK_PEERS_MAX];
	/* Distinct ports in peer order (shared ports appear once), polled round robin. */
	size_t port_count;
	struct dp_port *ports[ENV_DPDK_PEERS_MAX];
	size_t port_cursor;
	uint64_t link_poll_ns; /* next time recv looks at the links */
	struct env_dpdk_stats stats;
	struct dp_fault_emit emits[DP_FAULT_EMIT_MAX];
	uint8_t tx_frame[DP_FRAME_SIZE_MAX];
};

static bool
endpoint_is_zero(const struct dp_frame_endpoint *ep)
{
	static const struct dp_frame_endpoint zero;

	return memcmp(ep->mac, zero.mac, sizeof(zero.mac)) == 0 && ep->ipv4 == 0 &&
	       ep->udp_port == 0;
}

static void
endpoint_pick(uint32_t node_id, const struct dp_frame_endpoint *given,
	      struct dp_frame_endpoint *out)
{
	if (endpoint_is_zero(given)) {
		dp_frame_endpoint_default(node_id, out);
	} else {
		*out = *given;
	}
}

static struct dpdk_peer *
peer_find(struct env_dpdk *e, uint32_t node_id)
{
	for (size_t i = 0; i < e->peer_count; i++) {
		if (e->peers[i].node_id == node_id) {
			return &e->peers[i];
		}
	}
	return NULL;
}

/* ---- transport ---- */

/* Puts one frame on the peer's port; returns 0 or -ENOBUFS (the caller may retry). */
static int
port_put(struct env_dpdk *e, struct dpdk_peer *p, const uint8_t *frame, size_t size)
{
	int rc = dp_port_send(p->port, frame, size);

	if (rc == 0) {
		e->stats.sent_count++;
		return 0;
	}
	if (rc == -ENOTCONN) {
		e->stats.send_link_down_count++; /* fair loss: the protocol retransmits */
		return 0;
	}
	/* -EMSGSIZE cannot happen: send checked the size against the port's frame max, and the
	 * fault hook never makes a frame longer. */
	ASSERT(rc == -ENOBUFS);
	e->stats.send_full_count++;
	return -ENOBUFS;
}

/* Sends what a fault hook emitted; the first frame's result is the send's result. */
static int
fault_put(struct env_dpdk *e, struct dpdk_peer *p, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		int one = port_put(e, p, e->emits[i].data, e->emits[i].size);

		rc = rc != 0 ? rc : one;
	}
	return rc;
}

static int
env_dpdk_send(void *ctx, uint32_t peer_id, const uint8_t *data, size_t size)
{
	struct env_dpdk *e = ctx;
	struct dp_frame_header h = {.type = DP_FRAME_TYPE_DATA};
	struct dpdk_peer *p;
	size_t frame_size;
	size_t n;

	ASSERT(e != NULL && (data != NULL || size == 0));
	if (size > ENV_MSG_MAX) {
		return -EMSGSIZE;
	}
	p = peer_find(e, peer_id);
	if (p == NULL) {
		return -EHOSTUNREACH;
	}
	/* Before the stamp: a refused datagram does not use up a link counter. */
	if (dp_frame_size(size) > dp_port_frame_max(p->port)) {
		e->stats.send_too_big_count++;
		return -EMSGSIZE;
	}
	if (dp_auth_stamp(e->auth, peer_id, &h) != 0 ||
	    dp_frame_encode(&e->endpoint, &p->endpoint, &h, data, size, e->tx_frame,
			    sizeof(e->tx_frame), &frame_size) != 0 ||
	    dp_auth_seal(e->auth, e->tx_frame, frame_size) != 0) {
		/* Only OpenSSL failing (or 2^64 frames on one link) gets here. */
		e->stats.send_error_count++;
		return -ENOBUFS;
	}
	if (p->fault == NULL) {
		return port_put(e, p, e->tx_frame, frame_size);
	}
	n = dp_fault_on_send(p->fault, dp_run_now_ns(), e->tx_frame, frame_size, e->emits,
			     AE_ARRAY_SIZE(e->emits));
	return fault_put(e, p, n);
}

/* Releases frames the fault hooks held until now, and looks at the links when it is time. */
static void
recv_housekeeping(struct env_dpdk *e)
{
	uint64_t now = dp_run_now_ns();

	for (size_t i = 0; i < e->peer_count; i++) {
		struct dpdk_peer *p = &e->peers[i];

		if (p->fault != NULL && dp_fault_held(p->fault) > 0) {
			(void)fault_put(
				e, p,
				dp_fault_poll(p->fault, now, e->emits, AE_ARRAY_SIZE(e->emits)));
		}
	}
	if (now >= e->link_poll_ns) {
		e->link_poll_ns = now + ENV_DPDK_LINK_POLL_NS;
		(void)env_dpdk_poll_links(e);
	}
}

/*
 * Checks one received frame; returns 0 with *v describing an authentic frame for us, or a
 * negative errno (counted: garbage here, every other reason by the authenticator).
 */
static int
frame_accept(struct env_dpdk *e, const uint8_t *frame, size_t size, struct dp_frame_view *v)
{
	if (dp_frame_decode(frame, size, v) != 0) {
		e->stats.recv_garbage_count++;
		return -EBADMSG;
	}
	return dp_auth_open(e->auth, v);
}

static int
env_dpdk_recv(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size)
{
	struct env_dpdk *e = ctx;
	struct dp_frame_view v;
	size_t scanned = 0;
	size_t idle_ports = 0;

	ASSERT(e != NULL && peer_id != NULL && size != NULL);
	ASSERT(buf != NULL || capacity == 0);
	recv_housekeeping(e);
	while (scanned < ENV_DPDK_RECV_SCAN_MAX && idle_ports < e->port_count) {
		struct dp_port *port = e->ports[e->port_cursor];
		const uint8_t *frame;
		size_t frame_size;

		if (dp_port_recv(port, &frame, &frame_size) != 0) {
			idle_ports++;
			e->port_cursor = (e->port_cursor + 1) % e->port_count;
			continue;
		}
		scanned++;
		/* Every frame, refused or not, moves to the next port: one busy link (a peer
		 * flooding garbage) cannot starve the others. */
		e->port_cursor = (e->port_cursor + 1) % e->port_count;
		if (frame_accept(e, frame, frame_size, &v) != 0) {
			continue;
		}
		if (v.body_size > capacity) {
			e->stats.recv_too_big_count++;
			return -EMSGSIZE;
		}
		memcpy(buf, v.body, v.body_size);
		*peer_id = v.header.sender;
		*size = v.body_size;
		e->stats.delivered_count++;
		return 0;
	}
	return -EAGAIN;
}

/* ---- time, seed, storage: forwarded ---- */

static uint64_t
env_dpdk_now_ns(void *ctx)
{
	(void)ctx;
	return dp_run_now_ns();
}

static uint64_t
env_dpdk_seed(void *ctx)
{
	const struct env_dpdk *e = ctx;

	return e->seed;
}

static int
env_dpdk_storage_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	const struct env_dpdk *e = ctx;

	return e->storage->storage_put(e->storage->ctx, name, data, size, token);
}

static int
env_dpdk_storage_append(void *ctx, const char *name, const uint8_t *data, size_t size,
			uint64_t token)
{
	const struct env_dpdk *e = ctx;

	/* Wiring a version 1 storage env under this version 2 table is a programmer error. */
	ASSERT(e->storage->version >= 2 && e->storage->storage_append != NULL);
	return e->storage->storage_append(e->storage->ctx, name, data, size, token);
}

static int
env_dpdk_storage_sync(void *ctx, const char *name, uint64_t token)
{
	const struct env_dpdk *e = ctx;

	return e->storage->storage_sync(e->storage->ctx, name, token);
}

static size_t
env_dpdk_storage_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	const struct env_dpdk *e = ctx;

	return e->storage->storage_poll(e->storage->ctx, out, capacity);
}

static int
env_dpdk_storage_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	const struct env_dpdk *e = ctx;

	return e->storage->storage_load(e->storage->ctx, name, buf, capacity, size);
}

/* ---- lifecycle ---- */

static int
config_check(const struct env_dpdk_config *cfg)
{
	if (cfg->peer_count == 0 || cfg->peer_count > ENV_DPDK_PEERS_MAX || cfg->storage == NULL) {
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		if (cfg->peers[i].port == NULL) {
			return -EINVAL;
		}
	}
	return 0; /* ids (distinct, not self) and the secret are checked by dp_auth_create */
}

static int
auth_create(struct env_dpdk *e, const struct env_dpdk_config *cfg)
{
	struct dp_auth_config ac;

	memset(&ac, 0, sizeof(ac));
	ac.cluster_id = cfg->cluster_id;
	ac.epoch = cfg->epoch;
	ac.self_id = cfg->node_id;
	ac.incarnation = cfg->incarnation;
	ac.secret = cfg->secret;
	ac.secret_size = cfg->secret_size;
	ac.is_disabled = cfg->auth_disabled;
	ac.log = cfg->log;
	ac.peer_count = cfg->peer_count;
	for (size_t i = 0; i < cfg->peer_count; i++) {
		ac.peer_ids[i] = cfg->peers[i].node_id;
	}
	return dp_auth_create(&ac, &e->auth);
}

static void
port_add(struct env_dpdk *e, struct dp_port *port)
{
	for (size_t i = 0; i < e->port_count; i++) {
		if (e->ports[i] == port) {
			return;
		}
	}
	e->ports[e->port_count++] = port;
}

static int
peers_init(struct env_dpdk *e, const struct env_dpdk_config *cfg)
{
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct env_dpdk_peer *src = &cfg->peers[i];
		struct dpdk_peer *p = &e->peers[i];

		p->node_id = src->node_id;
		p->port = src->port;
		endpoint_pick(src->node_id, &src->endpoint, &p->endpoint);
		e->peer_count = i + 1; /* so destroy frees the hooks made so far */
		port_add(e, src->port);
		if (src->fault != NULL) {
			struct dp_fault_config fc = *src->fault;
			int rc;

			fc.frame_size_max = DP_FRAME_SIZE_MAX;
			fc.hold_max = fc.hold_max != 0 ? fc.hold_max : FAULT_HOLD_DEFAULT;
			rc = dp_fault_create(&fc, &p->fault);
			if (rc != 0) {
				return rc;
			}
			base_logf(&cfg->log, BASE_LOG_WARN,
				  "env_dpdk: node=%" PRIu32 " FAULT INJECTION towards peer=%" PRIu32
				  " seed=%" PRIu64,
				  cfg->node_id, src->node_id, fc.seed);
		}
	}
	return 0;
}

static void
ops_fill(struct env_dpdk *e, const struct env_dpdk_config *cfg)
{
	e->ops.version = ENV_OPS_VERSION;
	e->ops.size = (uint32_t)sizeof(e->ops);
	e->ops.ctx = e;
	e->ops.now_ns = env_dpdk_now_ns;
	e->ops.seed = env_dpdk_seed;
	e->ops.send = env_dpdk_send;
	e->ops.recv = env_dpdk_recv;
	e->ops.storage_put = env_dpdk_storage_put;
	e->ops.storage_sync = env_dpdk_storage_sync;
	e->ops.storage_poll = env_dpdk_storage_poll;
	e->ops.storage_load = env_dpdk_storage_load;
	e->ops.log = cfg->log;
	e->ops.storage_append = env_dpdk_storage_append;
	env_ops_assert_valid(&e->ops);
}

int
env_dpdk_create(const struct env_dpdk_config *cfg, struct env_dpdk **out)
{
	struct env_dpdk *e;
	int rc;

	ASSERT(cfg != NULL && out != NULL);
	*out = NULL;
	rc = config_check(cfg);
	if (rc != 0) {
		return rc;
	}
	e = base_alloc(sizeof(*e));
	if (e == NULL) {
		return -ENOMEM;
	}
	e->node_id = cfg->node_id;
	e->seed = cfg->seed;
	e->storage = cfg->storage;
	endpoint_pick(cfg->node_id, &cfg->endpoint, &e->endpoint);
	rc = auth_create(e, cfg);
	if (rc == 0) {
		rc = peers_init(e, cfg);
	}
	if (rc != 0) {
		env_dpdk_destroy(e);
		return rc;
	}
	ops_fill(e, cfg);
	*out = e;
	return 0;
}

void
env_dpdk_destroy(struct env_dpdk *e)
{
	if (e == NULL) {
		return;
	}
	for (size_t i = 0; i < e->peer_count; i++) {
		dp_fault_destroy(e->peers[i].fault);
	}
	dp_auth_destroy(e->auth);
	base_free(e);
}

const struct env_ops *
env_dpdk_ops(const struct env_dpdk *e)
{
	ASSERT(e != NULL);
	return &e->ops;
}

size_t
env_dpdk_poll_links(struct env_dpdk *e)
{
	uint64_t now = dp_run_now_ns();
	size_t up = 0;

	ASSERT(e != NULL);
	for (size_t i = 0; i < e->port_count; i++) {
		(void)dp_port_poll_link(e->ports[i], now);
	}
	for (size_t i = 0; i < e->peer_count; i++) {
		up += dp_port_is_up(e->peers[i].port) ? 1u : 0u;
	}
	return up;
}

void
env_dpdk_stats_get(const struct env_dpdk *e, struct env_dpdk_stats *out)
{
	ASSERT(e != NULL && out != NULL);
	*out = e->stats;
	dp_auth_stats_get(e->auth, &out->auth);
}

int
env_dpdk_fault_stats_get(const struct env_dpdk *e, uint32_t peer_id, struct dp_fault_stats *out)
{
	ASSERT(e != NULL && out != NULL);
	for (size_t i = 0; i < e->peer_count; i++) {
		if (e->peers[i].node_id == peer_id && e->peers[i].fault != NULL) {
			dp_fault_stats_get(e->peers[i].fault, out);
			return 0;
		}
	}
	return -ENOENT;
}

void
env_dpdk_dump(const struct env_dpdk *e, FILE *out)
{
	const struct env_dpdk_stats *s = &e->stats;

	ASSERT(e != NULL && out != NULL);
	fprintf(out,
		"env_dpdk: node=%" PRIu32 " peers=%zu ports=%zu sent=%" PRIu64 " send_full=%" PRIu64
		" send_too_big=%" PRIu64 " send_link_down=%" PRIu64 " send_error=%" PRIu64
		" delivered=%" PRIu64 " garbage=%" PRIu64 " too_big=%" PRIu64 "\n",
		e->node_id, e->peer_count, e->port_count, s->sent_count, s->send_full_count,
		s->send_too_big_count, s->send_link_down_count, s->send_error_count,
		s->delivered_count, s->recv_garbage_count, s->recv_too_big_count);
	for (size_t i = 0; i < e->port_count; i++) {
		dp_port_dump(e->ports[i], out);
	}
	for (size_t i = 0; i < e->peer_count; i++) {
		if (e->peers[i].fault != NULL) {
			fprintf(out, "peer=%" PRIu32 " ", e->peers[i].node_id);
			dp_fault_dump(e->peers[i].fault, out);
		}
	}
	dp_auth_dump(e->auth, out);
}
