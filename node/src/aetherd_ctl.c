/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator request handler (ctl/ctl_server.h). STATUS, NODES and KV_LIST are answered at
 * once from this node's state; KV_PUT, KV_GET and KV_RM go through the Rabia log (R9: a GET
 * through the log is linearizable) and are answered from the shard's on_reply hook through the
 * request's ticket.
 *
 * Clients: each operator connection slot is one KV client, id (node_id << 16) | (slot + 1), so
 * ids are unique in the cluster and never carry NODE_LEADER_CLIENT_BIT. A connection has at
 * most one request in flight (ctl_server.h), which is exactly what the KV store's dedupe table
 * (R8) expects of a client. Sequence numbers come from a durably reserved range, so a restarted
 * node never reuses one (the store would answer a reused one with the old result).
 */
#include "aetherd_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"

#define CLIENT_SLOT_BITS 16
#define NS_PER_MS        1000000u

uint64_t
node_ctl_client_id(uint32_t node_id, uint32_t slot)
{
	ASSERT(slot < CTL_SERVER_CONNECTIONS_MAX);
	return ((uint64_t)node_id << CLIENT_SLOT_BITS) | (uint64_t)(slot + 1);
}

static enum ctl_peer_state
ctl_peer_state_of(enum node_peer_state s)
{
	switch (s) {
	case NODE_PEER_UNKNOWN:
		return CTL_PEER_UNKNOWN;
	case NODE_PEER_UP:
		return CTL_PEER_UP;
	case NODE_PEER_SUSPECT:
		return CTL_PEER_SUSPECT;
	case NODE_PEER_DOWN:
		return CTL_PEER_DOWN;
	}
	PANIC("unknown peer state %d", (int)s);
}

static void
ctl_status(struct aetherd *d, struct ctl_response *resp)
{
	struct ctl_status_info *info = &resp->info;
	struct node_leader_value lv;
	uint64_t next = node_shard_next_slot(d->shard);

	info->node_id = d->cfg.node_id;
	info->cluster_id = d->cfg.cluster_id;
	if (node_shard_leader(d->shard, &lv)) {
		info->has_leader = true;
		info->leader_id = lv.node_id;
		info->term = lv.term;
	}
	/* The last slot applied; 0 also before the first one. */
	info->applied_slot = next > 0 ? next - 1 : 0;
	for (size_t i = 0; i < d->peers.cfg.peer_count && i < CTL_PEERS_MAX; i++) {
		const struct node_peer *p = node_peers_at(&d->peers, i);
		struct ctl_peer_info *out = &info->peers[info->peer_count++];
		enum node_peer_state s = NODE_PEER_UNKNOWN;
		uint64_t last = UINT64_MAX;
		int rc = node_peers_state(&d->peers, p->node_id, d->now_ns, &s, &last);

		ASSERT(rc == 0);
		out->node_id = p->node_id;
		out->state = ctl_peer_state_of(s);
		out->last_heard_ms = CTL_NEVER;
		if (last != UINT64_MAX) {
			out->last_heard_ms = (d->now_ns > last ? d->now_ns - last : 0) / NS_PER_MS;
		}
	}
}

static void
ctl_nodes(struct aetherd *d, struct ctl_response *resp)
{
	struct node_leader_value lv;
	int has_leader = node_shard_leader(d->shard, &lv);

	for (size_t i = 0; i < d->member_count && i < CTL_NODES_MAX; i++) {
		struct ctl_node_info *n = &resp->nodes[resp->node_count++];
		enum node_peer_state s = NODE_PEER_UP;

		n->node_id = d->members[i];
		n->is_self = n->node_id == d->cfg.node_id;
		if (!n->is_self) {
			int rc = node_peers_state(&d->peers, n->node_id, d->now_ns, &s, NULL);

			ASSERT(rc == 0);
		}
		n->state = ctl_peer_state_of(s);
		n->is_leader = has_leader && lv.node_id == n->node_id;
		n->address = d->member_addr[i];
		n->address_size = strlen(d->member_addr[i]);
	}
}

/*
 * KV_LIST is a LOCAL read (R9: not linearizable; it may miss writes this node has not applied
 * yet). The store has no iterator: the keys come from a snapshot encoding, which is sorted.
 */
static void
ctl_list(struct aetherd *d, const struct ctl_request *req, struct ctl_response *resp)
{
	const uint8_t *body;
	struct base_reader r;
	size_t n = 0;
	size_t body_size = 0;
	uint64_t applied;
	uint32_t count = 0;
	uint32_t clients;

	/*
	 * node_shard_kv() is const, and kv_store_snapshot_encode sorts in the store's scratch
	 * space without changing replicated state; the shard's public kv field is the way in.
	 */
	if (kv_store_snapshot_encode(d->shard->kv, d->list_buf, d->list_capacity, &n) != 0 ||
	    kv_snapshot_verify(d->list_buf, n, &body, &body_size) != 0) {
		ctl_response_error(resp, CTL_STATUS_INTERNAL,
				   "cannot encode the store for listing");
		return;
	}
	base_reader_init(&r, body, body_size);
	(void)base_reader_u64(&r, &applied);
	(void)base_reader_u32(&r, &count);
	(void)base_reader_u32(&r, &clients);
	for (uint32_t i = 0; i < count; i++) {
		struct ctl_kv_entry e;
		const uint8_t *value;
		size_t value_size = 0;

		(void)base_reader_blob(&r, &e.key, &e.key_size, KV_CMD_KEY_MAX);
		(void)base_reader_u64(&r, &e.mod_index);
		if (base_reader_blob(&r, &value, &value_size, KV_CMD_VALUE_MAX) != 0) {
			break; /* cannot happen: the snapshot verified; stop rather than loop on
				  junk */
		}
		e.value_size = (uint32_t)value_size;
		if (e.key_size < req->key_size || memcmp(e.key, req->key, req->key_size) != 0) {
			continue;
		}
		if (resp->entry_count == req->limit) {
			resp->has_more = true;
			break;
		}
		resp->entries[resp->entry_count++] = e;
	}
}

/* Encodes the request as a kv_cmd into d->cmd; -EMSGSIZE when it exceeds one request. */
static int
ctl_kv_encode(struct aetherd *d, const struct ctl_request *req, size_t *size)
{
	struct kv_cmd c;

	memset(&c, 0, sizeof(c));
	c.op_count = 1;
	c.ops[0].key = req->key;
	c.ops[0].key_size = req->key_size;
	if (req->type == CTL_MSG_KV_PUT) {
		c.type = KV_CMD_PUT;
		c.ops[0].value = req->value;
		c.ops[0].value_size = req->value_size;
	} else {
		c.type = req->type == CTL_MSG_KV_GET ? KV_CMD_GET : KV_CMD_REMOVE;
	}
	c.ops[0].type = c.type;
	if (kv_cmd_encoded_size(&c) > d->cmd_capacity) {
		return -EMSGSIZE;
	}
	return kv_cmd_encode(&c, d->cmd, d->cmd_capacity, size);
}

static enum ctl_reply
ctl_kv_fail(struct aetherd *d, struct ctl_response *resp, int rc)
{
	char msg[CTL_MESSAGE_MAX];

	if (rc == -EMSGSIZE) {
		(void)snprintf(msg, sizeof(msg),
			       "too large for one consensus request: key and value together must "
			       "stay under %zu bytes",
			       d->cmd_capacity - 16);
		ctl_response_error(resp, CTL_STATUS_TOO_LARGE, msg);
	} else if (rc == -ENOBUFS) {
		ctl_response_error(resp, CTL_STATUS_UNAVAILABLE,
				   "too many requests are waiting for consensus; try again");
	} else if (rc == -EHOSTDOWN) {
		ctl_response_error(resp, CTL_STATUS_UNAVAILABLE, "the node's shard is not running");
	} else {
		(void)snprintf(msg, sizeof(msg), "cannot submit the request: %s", strerror(-rc));
		ctl_response_error(resp, CTL_STATUS_INTERNAL, msg);
	}
	return CTL_REPLY_NOW;
}

static enum ctl_reply
ctl_kv(struct aetherd *d, const struct ctl_request *req, struct ctl_ticket ticket,
       struct ctl_response *resp)
{
	struct node_pending *p;
	size_t size = 0;
	int rc;

	ASSERT(ticket.slot < CTL_SERVER_CONNECTIONS_MAX);
	rc = ctl_kv_encode(d, req, &size);
	if (rc != 0) {
		return ctl_kv_fail(d, resp, rc);
	}
	if (d->seq_next == d->seq_limit) {
		ctl_response_error(resp, CTL_STATUS_UNAVAILABLE,
				   "client sequence numbers exhausted; restart the node");
		return CTL_REPLY_NOW;
	}
	rc = node_shard_submit(d->shard, node_ctl_client_id(d->cfg.node_id, ticket.slot),
			       d->seq_next, d->cmd, size);
	if (rc != 0) {
		return ctl_kv_fail(d, resp, rc);
	}
	p = &d->pending[ticket.slot];
	p->is_used = true;
	p->ticket = ticket;
	p->type = req->type;
	p->client_seq = d->seq_next++;
	return CTL_REPLY_LATER;
}

enum ctl_reply
node_ctl_handle(void *ctx, const struct ctl_request *req, const struct ctl_caller *caller,
		struct ctl_ticket ticket, struct ctl_response *resp)
{
	struct aetherd *d = ctx;

	ASSERT(d != NULL && req != NULL && resp != NULL);
	(void)caller; /* ctl_server checked and logged the caller */
	switch (req->type) {
	case CTL_MSG_STATUS:
		ctl_status(d, resp);
		return CTL_REPLY_NOW;
	case CTL_MSG_NODES:
		ctl_nodes(d, resp);
		return CTL_REPLY_NOW;
	case CTL_MSG_KV_PUT:
	case CTL_MSG_KV_GET:
	case CTL_MSG_KV_RM:
		return ctl_kv(d, req, ticket, resp);
	case CTL_MSG_KV_LIST:
		ctl_list(d, req, resp);
		return CTL_REPLY_NOW;
	case CTL_MSG_BENCH:
		return node_bench_start(d, req, ticket, resp);
	case CTL_MSG_NONE:
		break;
	}
	ctl_response_error(resp, CTL_STATUS_UNSUPPORTED, "this node does not serve that command");
	return CTL_REPLY_NOW;
}

/* Turns the store's result into the operator's answer. */
static void
ctl_result(struct ctl_response *resp, enum ctl_msg_type type, const struct kv_result *r)
{
	switch (r->status) {
	case KV_RESULT_OK:
		resp->mod_index = r->mod_index;
		if (type == CTL_MSG_KV_GET) {
			resp->value = r->value;
			resp->value_size = r->value_size;
		}
		return;
	case KV_RESULT_NOT_FOUND:
		ctl_response_error(resp, CTL_STATUS_NOT_FOUND, "key not found");
		return;
	case KV_RESULT_FULL:
		ctl_response_error(resp, CTL_STATUS_FULL, "the store is full");
		return;
	case KV_RESULT_TOO_LARGE:
		ctl_response_error(resp, CTL_STATUS_TOO_LARGE,
				   "key or value over the store's limit");
		return;
	case KV_RESULT_CAS_FAILED:
	case KV_RESULT_STALE:
	case KV_RESULT_BAD_COMMAND:
		break;
	}
	ctl_response_error(resp, CTL_STATUS_INTERNAL, kv_result_status_name(r->status));
}

void
node_ctl_on_reply(void *ctx, uint32_t node, uint64_t client_id, uint64_t client_seq,
		  const uint8_t *result, size_t result_size)
{
	struct aetherd *d = ctx;
	uint64_t slot = (client_id & ((UINT64_C(1) << CLIENT_SLOT_BITS) - 1)) - 1;
	struct node_pending *p;
	struct kv_result r;

	ASSERT(d != NULL && node == d->cfg.node_id);
	if (node_bench_on_reply(d, client_id, client_seq, result, result_size)) {
		return;
	}
	if (client_id >> CLIENT_SLOT_BITS != d->cfg.node_id || slot >= CTL_SERVER_CONNECTIONS_MAX) {
		return; /* not an operator client of this node (the leader proposer) */
	}
	p = &d->pending[slot];
	if (!p->is_used || p->client_seq != client_seq) {
		return; /* answered already, or replaced by a newer request of that connection */
	}
	p->is_used = false;
	ctl_response_reset(d->reply, p->type, 0);
	if (kv_result_decode(result, result_size, &r) != 0) {
		ctl_response_error(d->reply, CTL_STATUS_INTERNAL,
				   "the store's result does not decode");
	} else {
		ctl_result(d->reply, p->type, &r);
	}
	if (ctl_server_reply(d->ctl, p->ticket, d->reply) != 0) {
		base_logf(&d->log.log, BASE_LOG_DEBUG,
			  "client=%llu seq=%llu: the operator left before the answer",
			  (unsigned long long)client_id, (unsigned long long)client_seq);
	}
}
