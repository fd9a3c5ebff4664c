/* SPDX-License-Identifier: Apache-2.0 */
#include "node/node_peers.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/panic.h"

static struct node_peer *
peers_find(struct node_peers *p, uint32_t node_id)
{
	for (size_t i = 0; i < p->cfg.peer_count; i++) {
		if (p->peers[i].node_id == node_id) {
			return &p->peers[i];
		}
	}
	return NULL;
}

/* The seam's recv, wrapped: note when the sender was last heard. */
static int
peers_recv(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size)
{
	struct node_peers *p = ctx;
	struct node_peer *peer;
	int rc = p->inner->recv(p->inner->ctx, peer_id, buf, capacity, size);

	if (rc != 0) {
		return rc;
	}
	p->recv_count++;
	peer = peers_find(p, *peer_id);
	if (peer == NULL) {
		p->from_unknown++;
		return 0;
	}
	peer->has_heard = 1;
	peer->last_heard_ns = p->inner->now_ns(p->inner->ctx);
	peer->datagrams_in++;
	return 0;
}

/* The members below pass straight through to the transport. */
static uint64_t
peers_now_ns(void *ctx)
{
	struct node_peers *p = ctx;

	return p->inner->now_ns(p->inner->ctx);
}

static uint64_t
peers_seed(void *ctx)
{
	struct node_peers *p = ctx;

	return p->inner->seed(p->inner->ctx);
}

static int
peers_send(void *ctx, uint32_t peer_id, const uint8_t *data, size_t size)
{
	struct node_peers *p = ctx;

	return p->inner->send(p->inner->ctx, peer_id, data, size);
}

static int
peers_storage_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct node_peers *p = ctx;

	return p->inner->storage_put(p->inner->ctx, name, data, size, token);
}

static int
peers_storage_append(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct node_peers *p = ctx;

	/* The inner env is at least version 2: checked at init. */
	return p->inner->storage_append(p->inner->ctx, name, data, size, token);
}

static int
peers_storage_sync(void *ctx, const char *name, uint64_t token)
{
	struct node_peers *p = ctx;

	return p->inner->storage_sync(p->inner->ctx, name, token);
}

static size_t
peers_storage_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	struct node_peers *p = ctx;

	return p->inner->storage_poll(p->inner->ctx, out, capacity);
}

static int
peers_storage_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	struct node_peers *p = ctx;

	return p->inner->storage_load(p->inner->ctx, name, buf, capacity, size);
}

static void
peers_config_assert(const struct node_peers_config *cfg)
{
	ASSERT(cfg->peer_count <= NODE_PEERS_MAX);
	ASSERT(cfg->suspect_after_ns > 0);
	ASSERT(cfg->down_after_ns > cfg->suspect_after_ns);
	for (size_t i = 0; i < cfg->peer_count; i++) {
		ASSERT(cfg->peer_ids[i] != cfg->self_id);
		for (size_t j = 0; j < i; j++) {
			ASSERT(cfg->peer_ids[i] != cfg->peer_ids[j]);
		}
	}
}

void
node_peers_init(struct node_peers *p, const struct node_peers_config *cfg,
		const struct env_ops *inner)
{
	ASSERT(p != NULL && cfg != NULL);
	env_ops_assert_valid(inner);
	ASSERT(inner->version >= 2); /* storage_append */
	peers_config_assert(cfg);
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->inner = inner;
	for (size_t i = 0; i < cfg->peer_count; i++) {
		p->peers[i].node_id = cfg->peer_ids[i];
	}
	p->ops.version = ENV_OPS_VERSION;
	p->ops.size = (uint32_t)sizeof(p->ops);
	p->ops.ctx = p;
	p->ops.now_ns = peers_now_ns;
	p->ops.seed = peers_seed;
	p->ops.send = peers_send;
	p->ops.recv = peers_recv;
	p->ops.storage_put = peers_storage_put;
	p->ops.storage_sync = peers_storage_sync;
	p->ops.storage_poll = peers_storage_poll;
	p->ops.storage_load = peers_storage_load;
	p->ops.storage_append = peers_storage_append;
	p->ops.log = inner->log;
	env_ops_assert_valid(&p->ops);
}

const struct env_ops *
node_peers_ops(const struct node_peers *p)
{
	ASSERT(p != NULL);
	ASSERT(p->ops.ctx == p);
	return &p->ops;
}

static enum node_peer_state
peer_state(const struct node_peers *p, const struct node_peer *peer, uint64_t now_ns)
{
	uint64_t silent;

	if (!peer->has_heard) {
		return NODE_PEER_UNKNOWN;
	}
	silent = now_ns > peer->last_heard_ns ? now_ns - peer->last_heard_ns : 0;
	if (silent < p->cfg.suspect_after_ns) {
		return NODE_PEER_UP;
	}
	return silent < p->cfg.down_after_ns ? NODE_PEER_SUSPECT : NODE_PEER_DOWN;
}

/* Logs each state change once (operators read these lines to follow a failure). */
size_t
node_peers_poll(struct node_peers *p, uint64_t now_ns)
{
	size_t changed = 0;

	ASSERT(p != NULL);
	ASSERT(p->ops.ctx == p);
	for (size_t i = 0; i < p->cfg.peer_count; i++) {
		struct node_peer *peer = &p->peers[i];
		enum node_peer_state s = peer_state(p, peer, now_ns);

		if (s == peer->reported) {
			continue;
		}
		base_logf(&p->inner->log, s == NODE_PEER_UP ? BASE_LOG_INFO : BASE_LOG_WARN,
			  "peer=%u state=%s (was %s)", (unsigned)peer->node_id,
			  node_peer_state_name(s), node_peer_state_name(peer->reported));
		peer->reported = s;
		changed++;
	}
	return changed;
}

int
node_peers_state(const struct node_peers *p, uint32_t node_id, uint64_t now_ns,
		 enum node_peer_state *state, uint64_t *last_heard_ns)
{
	ASSERT(p != NULL && state != NULL);
	for (size_t i = 0; i < p->cfg.peer_count; i++) {
		const struct node_peer *peer = &p->peers[i];

		if (peer->node_id != node_id) {
			continue;
		}
		*state = peer_state(p, peer, now_ns);
		if (last_heard_ns != NULL) {
			*last_heard_ns = peer->has_heard ? peer->last_heard_ns : UINT64_MAX;
		}
		return 0;
	}
	return -ENOENT;
}

const struct node_peer *
node_peers_at(const struct node_peers *p, size_t index)
{
	ASSERT(p != NULL);
	ASSERT(index < p->cfg.peer_count);
	return &p->peers[index];
}

const char *
node_peer_state_name(enum node_peer_state state)
{
	switch (state) {
	case NODE_PEER_UNKNOWN:
		return "unknown";
	case NODE_PEER_UP:
		return "up";
	case NODE_PEER_SUSPECT:
		return "suspect";
	case NODE_PEER_DOWN:
		return "down";
	}
	return "?";
}
