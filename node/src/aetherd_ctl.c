/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator request handler (ctl/ctl_server.h). STATUS, NODES and KV_LIST are answered at
 * once from this node's state; KV_PUT, KV_GET and KV_RM go through the Rabia log (R9: a GET
 * through the log is linearizable) and are answered from the shard's on_reply hook through the
 * request's ticket. A GET that asks for a LOCAL read and every KV_LIST page read the store at
 * once instead, and their answers say so (R9: local reads are labelled), with this node's id and
 * the slot its state reflects.
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

/* The transport's refusals, then what reached the shard and Rabia and was refused there. */
static void
ctl_status_counters(const struct aetherd *d, struct ctl_status_info *info)
{
	struct ctl_frame_counters *c = &info->counters;

	info->has_counters = true;
	node_net_counters(&d->net, &info->transport, c);
	c->bad_frames = node_shard_get_stats(d->shard)->bad_frames;
	if (node_shard_is_up(d->shard)) {
		struct rabia_stats rs;

		/* Summed over epochs: an epoch change builds a new Rabia. */
		node_shard_rabia_stats(d->shard, &rs);
		c->decode_errors = rs.decode_errors;
		c->rabia_foreign = rs.foreign;
		c->violations = rs.violations;
	}
}

static void
ctl_status(struct aetherd *d, struct ctl_response *resp)
{
	struct ctl_status_info *info = &resp->info;
	struct node_leader_value lv;
	uint64_t next = node_shard_applied_next(d->shard);

	info->node_id = d->cfg.node_id;
	info->cluster_id = d->cfg.cluster_id;
	if (node_shard_leader(d->shard, &lv)) {
		info->has_leader = true;
		info->leader_id = lv.node_id;
		info->term = lv.term;
	}
	/* The last slot applied; 0 also before the first one. */
	info->applied_slot = next > 0 ? next - 1 : 0;
	ctl_status_counters(d, info);
	node_workers_status(d, info);
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

/* Scan entries per store call: a small stack array; a page takes several calls. */
#define LIST_CHUNK 64

/*
 * A local read needs the store, which exists only while the shard is up; then labels the answer
 * with this node and the slot its state reflects (every slot before node_shard_applied_next
 * is applied, and handlers run outside node_shard_poll, so the state is exactly that). Returns
 * the store, or NULL after answering UNAVAILABLE.
 */
static const struct kv_store *
ctl_local_read(struct aetherd *d, struct ctl_response *resp)
{
	uint64_t next;

	if (!node_shard_is_up(d->shard)) {
		ctl_response_error(resp, CTL_STATUS_UNAVAILABLE, "the node's shard is not running");
		return NULL;
	}
	next = node_shard_applied_next(d->shard);
	resp->read.consistency = CTL_CONSISTENCY_LOCAL;
	resp->read.node_id = d->cfg.node_id;
	resp->read.applied_slot = next > 0 ? next - 1 : 0;
	return node_shard_kv(d->shard);
}

/* Appends a scan's entries to the page; keys and sizes borrow the store until the reply. */
static void
ctl_list_append(struct ctl_response *resp, const struct kv_store_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ASSERT(resp->entry_count < CTL_LIST_MAX);
		resp->entries[resp->entry_count++] = (struct ctl_kv_entry){
			e[i].key, e[i].key_size, e[i].mod_index, (uint32_t)e[i].value_size};
	}
}

/*
 * KV_LIST: one page of a LOCAL read (R9: not linearizable; it may miss writes this node has not
 * applied yet), the keys after req->after, up to req->limit, from the store's ordered scan. The
 * byte bound is not needed: values are not sent, and a full page of the longest keys fits a
 * response (ctl_proto.c checks that at compile time).
 */
static void
ctl_list(struct aetherd *d, const struct ctl_request *req, struct ctl_response *resp)
{
	struct kv_store_entry chunk[LIST_CHUNK];
	const struct kv_store *kv;
	struct kv_scan scan = {
		.prefix = req->key,
		.prefix_size = req->key_size,
		.after = req->after,
		.after_size = req->after_size,
		.bytes_max = SIZE_MAX,
	};
	int more = 1;

	if (req->consistency != CTL_CONSISTENCY_LOCAL) {
		ctl_response_error(resp, CTL_STATUS_UNSUPPORTED,
				   "this node lists keys by local read only (not linearizable)");
		return;
	}
	kv = ctl_local_read(d, resp);
	if (kv == NULL) {
		return;
	}
	while (more && resp->entry_count < req->limit) {
		size_t n = 0;
		int rc;

		scan.count_max = base_min_size(LIST_CHUNK, req->limit - resp->entry_count);
		rc = kv_store_scan_local_nonlinearizable(kv, &scan, chunk, &n, &more);
		ASSERT(rc == 0); /* bytes_max is unbounded: no key is too large */
		ctl_list_append(resp, chunk, n);
		if (n > 0) {
			/* The next chunk resumes after this one's last key (borrowed, unchanged:
			 * nothing writes the store during this handler). */
			scan.after = chunk[n - 1].key;
			scan.after_size = chunk[n - 1].key_size;
		}
	}
	resp->has_more = more != 0;
}

/* KV_GET with a LOCAL read: this node's applied value, at once (R9: not linearizable). */
static void
ctl_get_local(struct aetherd *d, const struct ctl_request *req, struct ctl_response *resp)
{
	const struct kv_store *kv = ctl_local_read(d, resp);
	struct kv_store_value v;
	char msg[CTL_MESSAGE_MAX];

	if (kv == NULL) {
		return;
	}
	if (kv_store_read_local_nonlinearizable(kv, req->key, req->key_size, &v) != 0) {
		ctl_response_error(resp, CTL_STATUS_NOT_FOUND, "key not found");
		return;
	}
	if (v.value_size > CTL_GET_VALUE_MAX) {
		(void)snprintf(msg, sizeof(msg), "the value is %zu bytes; an answer holds %u",
			       v.value_size, (unsigned)CTL_GET_VALUE_MAX);
		ctl_response_error(resp, CTL_STATUS_TOO_LARGE, msg);
		return;
	}
	resp->value = v.value;
	resp->value_size = v.value_size;
	resp->mod_index = v.mod_index;
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
	case CTL_MSG_KV_GET:
		if (req->consistency == CTL_CONSISTENCY_LOCAL) {
			ctl_get_local(d, req, resp);
			return CTL_REPLY_NOW;
		}
		return ctl_kv(d, req, ticket, resp);
	case CTL_MSG_KV_PUT:
	case CTL_MSG_KV_RM:
		return ctl_kv(d, req, ticket, resp);
	case CTL_MSG_KV_LIST:
		ctl_list(d, req, resp);
		return CTL_REPLY_NOW;
	case CTL_MSG_BENCH:
		return node_bench_start(d, req, ticket, resp);
	case CTL_MSG_SLICE_LOAD:
	case CTL_MSG_SLICE_CALL:
	case CTL_MSG_SLICE_UNLOAD:
	case CTL_MSG_SLICE_LIST:
		return node_slice_handle(d, req, ticket, resp);
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
			/* Answered as this node applied the GET in log order. */
			resp->read.consistency = CTL_CONSISTENCY_LINEARIZABLE;
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
