/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rabia steps and their output, applying decided slots to the KV store, the proxy table
 * (node_shard_submit) and the leader rule's glue. See node_shard.h.
 */
#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "node_shard_int.h"

void
shard_send(struct node_shard *s, uint32_t to, const uint8_t *frame, size_t size)
{
	/* Fair-loss transport: a refused send is a lost datagram; the protocols retransmit. */
	if (s->env->send(s->env->ctx, to, frame, size) != 0) {
		s->stats.send_errors++;
	}
}

static void
shard_send_rabia(struct node_shard *s, const struct rabia_out_msg *m)
{
	const struct rabia_cfg *rc = &s->cfg.rabia;

	ASSERT(m->size <= RABIA_MSG_MAX);
	s->tx[0] = NODE_SHARD_CH_RABIA;
	memcpy(s->tx + 1, m->data, m->size);
	if (m->to != RABIA_TO_ALL) {
		shard_send(s, m->to, s->tx, m->size + 1);
		return;
	}
	for (uint32_t i = 0; i < rc->member_count; i++) {
		if (rc->members[i] != s->node) {
			shard_send(s, rc->members[i], s->tx, m->size + 1);
		}
	}
}

void
shard_notify_drain(struct node_shard *s)
{
	struct kv_notification n;

	while (kv_store_notify_next(s->kv, &n)) {
		if (s->hooks->on_notify != NULL) {
			s->hooks->on_notify(s->hooks->ctx, s->node, &n);
		}
	}
}

void
shard_leader_refresh(struct node_shard *s)
{
	char key[NODE_LEADER_KEY_MAX];
	size_t key_size = node_leader_key(key);
	struct kv_store_value v;
	struct node_leader_value now;
	int changed;
	int has;

	if (kv_store_read_local_nonlinearizable(s->kv, (const uint8_t *)key, key_size, &v) == 0) {
		changed = node_leader_on_applied(&s->leader, v.value, v.value_size, v.mod_index);
	} else {
		changed = node_leader_on_applied(&s->leader, NULL, 0, 0);
	}
	if (changed && s->hooks->on_leader != NULL) {
		has = node_leader_get(&s->leader, &now);
		s->hooks->on_leader(s->hooks->ctx, s->node, has, has ? &now : NULL);
	}
}

static int
shard_skips(const struct node_shard *s, uint64_t slot)
{
	return (s->cfg.break_rules & NODE_SHARD_BREAK_SKIP_APPLY) != 0 && s->node == 0 &&
	       slot % 64 == 50;
}

/* kv_store_apply with notifications drained: -EAGAIN cannot outlast a drained buffer. */
static size_t
shard_kv_apply(struct node_shard *s, const struct kv_request *kq)
{
	size_t size = 0;
	int rc = kv_store_apply(s->kv, kq, s->result, s->result_capacity, &size);

	if (rc == -EAGAIN) {
		shard_notify_drain(s);
		rc = kv_store_apply(s->kv, kq, s->result, s->result_capacity, &size);
	}
	/* kv_store_config_check makes the buffer hold any one command's notifications. */
	ASSERT(rc == 0);
	shard_notify_drain(s);
	return size;
}

/* The answer for a proxied client or for this node's leader proposal. */
static void
shard_answer(struct node_shard *s, const struct rabia_request *q, size_t size)
{
	const uint32_t *found;
	uint32_t index;
	int rc;

	if ((q->client_id & NODE_LEADER_CLIENT_BIT) != 0) {
		if (q->client_id == node_leader_client_id(s->node)) {
			node_leader_on_result(&s->leader, q->client_seq);
		}
		return;
	}
	found = base_map_get(s->client_map, &q->client_id);
	if (found == NULL || s->clients[*found].client_seq != q->client_seq) {
		return;
	}
	/* Copied first: removal shifts the map's entries under `found`. */
	index = *found;
	s->deferred_count -= s->clients[index].is_deferred;
	rc = base_map_remove(s->client_map, &q->client_id, NULL);
	ASSERT(rc == 0);
	ASSERT(s->client_free_count < s->cfg.clients_max);
	s->client_free[s->client_free_count++] = index;
	memset(&s->clients[index], 0, sizeof(s->clients[index]));
	s->stats.replies++;
	if (s->hooks->on_reply != NULL) {
		s->hooks->on_reply(s->hooks->ctx, s->node, q->client_id, q->client_seq, s->result,
				   size);
	}
}

void
shard_apply(struct node_shard *s, uint64_t epoch, const struct rabia_decided *d)
{
	const struct node_shard_hooks *h = s->hooks;

	if (h->on_committed != NULL) {
		h->on_committed(h->ctx, s->node, epoch, d);
	}
	s->stats.slots_applied++;
	for (size_t i = 0; !d->is_null && i < d->request_count; i++) {
		const struct rabia_request *q = &d->requests[i];
		struct kv_request kq = {((d->slot + 1) << 16) | i, q->client_id, q->client_seq,
					q->body, q->body_size};
		size_t size;

		/* An out-of-order delivery is Rabia's bug: the simulator reports it; skip it
		 * here rather than trip the store's assertion. */
		if (kq.log_index <= kv_store_applied_index(s->kv) || shard_skips(s, d->slot)) {
			continue;
		}
		size = shard_kv_apply(s, &kq);
		s->stats.requests_applied++;
		if (h->on_applied != NULL) {
			h->on_applied(h->ctx, s->node, d->slot, (uint32_t)i, q, s->result, size);
		}
		shard_answer(s, q, size);
	}
	if (!d->is_null) {
		shard_leader_refresh(s);
	}
}

static void
shard_output(struct node_shard *s, const struct rabia_output *out)
{
	for (size_t i = 0; i < out->msg_count; i++) {
		shard_send_rabia(s, &out->msgs[i]);
	}
	for (size_t i = 0; i < out->decided_count; i++) {
		if (s->hooks->on_decided != NULL) {
			s->hooks->on_decided(s->hooks->ctx, s->node, &out->decided[i]);
		}
		shard_log_add(s, &out->decided[i]);
	}
	if (out->decided_count != 0) {
		shard_log_apply(s);
	}
	if (out->write != NULL) {
		shard_write_hwm(s, out->write);
	}
	for (size_t i = 0; i < out->event_count; i++) {
		const struct rabia_event *ev = &out->events[i];

		if (s->hooks->on_event != NULL) {
			s->hooks->on_event(s->hooks->ctx, s->node, ev);
		}
		if (ev->type == RABIA_EVENT_NEED_TRANSFER && ev->peer != s->node) {
			shard_pull_begin(s, ev->peer);
		}
	}
	s->next_tick_ns = out->next_tick_ns;
}

int
shard_step(struct node_shard *s, const struct rabia_input *in)
{
	struct rabia_output out;
	int rc = rabia_step(s->rabia, in, &out);

	shard_output(s, &out);
	return rc;
}

void
shard_tick(struct node_shard *s)
{
	struct rabia_input in = {.type = RABIA_INPUT_TICK, .now_ns = s->now_ns};

	if (shard_may_step(s)) {
		(void)!shard_step(s, &in);
	}
}

int
shard_resubmit(struct node_shard *s)
{
	const struct node_leader_proposal *p = &s->leader_waiting;
	size_t cap = s->cfg.rabia.request_bytes_max;
	int any = 0;

	if (s->ep.promised > s->ep.epoch || (s->deferred_count == 0 && !s->has_leader_waiting)) {
		return 0; /* an epoch change is under way: the next Rabia takes them */
	}
	/* The leader's proposal first: an election must not wait behind client load. */
	if (s->has_leader_waiting) {
		if (rabia_submit(s->rabia, p->client_id, p->client_seq, p->cmd, p->cmd_size) ==
		    -ENOBUFS) {
			return 0;
		}
		s->has_leader_waiting = 0;
		s->stats.leader_proposals++;
		any = 1;
	}
	for (uint32_t i = 0; i < s->cfg.clients_max && s->deferred_count != 0; i++) {
		struct node_shard_client *c = &s->clients[i];
		int rc;

		if (!c->is_used || !c->is_deferred) {
			continue;
		}
		rc = rabia_submit(s->rabia, c->client_id, c->client_seq, s->client_body + i * cap,
				  c->body_size);
		if (rc == -ENOBUFS) {
			break;
		}
		c->is_deferred = 0;
		s->deferred_count--;
		any = 1;
	}
	return any;
}

/* The table entry of client_id, allocated when new; UINT32_MAX when the table is full. */
static uint32_t
shard_client_entry(struct node_shard *s, uint64_t client_id)
{
	const uint32_t *found = base_map_get(s->client_map, &client_id);
	uint32_t index;
	int rc;

	if (found != NULL) {
		return *found;
	}
	if (s->client_free_count == 0) {
		return UINT32_MAX;
	}
	index = s->client_free[--s->client_free_count];
	rc = base_map_put(s->client_map, &client_id, &index);
	ASSERT(rc == 0); /* the map holds clients_max entries, like the free list */
	s->clients[index].is_used = 1;
	s->clients[index].client_id = client_id;
	return index;
}

int
node_shard_submit(struct node_shard *s, uint64_t client_id, uint64_t client_seq,
		  const uint8_t *body, size_t size)
{
	size_t cap;
	uint32_t index;
	int rc;

	ASSERT(s != NULL);
	ASSERT(body != NULL || size == 0);
	if (!s->is_up) {
		return -EHOSTDOWN;
	}
	cap = s->cfg.rabia.request_bytes_max;
	if (client_id == 0 || (client_id & NODE_LEADER_CLIENT_BIT) != 0) {
		return -EINVAL;
	}
	if (size == 0 || size > cap) {
		return -EMSGSIZE;
	}
	if (s->cfg.break_rules != 0 && shard_break_answer(s, client_id, client_seq, body, size)) {
		return 0;
	}
	index = shard_client_entry(s, client_id);
	if (index == UINT32_MAX) {
		return -ENOBUFS;
	}
	s->clients[index].client_seq = client_seq;
	s->deferred_count -= s->clients[index].is_deferred;
	s->clients[index].is_deferred = 0;
	/* Kept until answered: an epoch change submits it again to the next Rabia. */
	memcpy(s->client_body + index * cap, body, size);
	s->clients[index].body_size = (uint32_t)size;
	/* Behind a waiting leader proposal or an epoch change: the next free room
	 * (shard_resubmit). */
	rc = s->has_leader_waiting || s->ep.promised > s->ep.epoch
		     ? -ENOBUFS
		     : rabia_submit(s->rabia, client_id, client_seq, body, size);
	if (rc == -ENOBUFS) {
		s->clients[index].is_deferred = 1;
		s->deferred_count++;
		s->stats.submits_deferred++;
	}
	/* -EMSGSIZE cannot happen (checked above); rabia.h: the batch timer starts at a step. */
	ASSERT(rc == 0 || rc == -ENOBUFS);
	s->kick = 1;
	return 0;
}

/* NODE_SHARD_BREAK_LEADER_PUT (tests only): the proposal without its compare-and-set. */
static void
shard_break_leader_put(struct node_leader_proposal *p)
{
	uint8_t out[NODE_LEADER_CMD_MAX];
	struct kv_cmd cmd;
	int rc = kv_cmd_decode(p->cmd, p->cmd_size, &cmd);

	ASSERT(rc == 0);
	cmd.type = KV_CMD_PUT;
	cmd.ops[0].type = KV_CMD_PUT;
	/* The ops borrow p->cmd: encode into a copy. */
	rc = kv_cmd_encode(&cmd, out, sizeof(out), &p->cmd_size);
	ASSERT(rc == 0);
	memcpy(p->cmd, out, p->cmd_size);
}

void
shard_leader_poll(struct node_shard *s)
{
	struct node_leader_proposal p;
	int rc;

	if (s->cfg.leader_timeout_ns == 0 || !node_leader_poll(&s->leader, s->now_ns, &p)) {
		return;
	}
	if ((s->cfg.break_rules & NODE_SHARD_BREAK_LEADER_PUT) != 0) {
		shard_break_leader_put(&p);
	}
	rc = s->ep.promised > s->ep.epoch
		     ? -ENOBUFS
		     : rabia_submit(s->rabia, p.client_id, p.client_seq, p.cmd, p.cmd_size);
	if (rc == -ENOBUFS) {
		/* Queue share full or durable mark pending: retried first at every poll. A newer
		 * proposal (after the rule's timeout) replaces a waiting one. */
		s->leader_waiting = p;
		s->has_leader_waiting = 1;
		return;
	}
	ASSERT(rc == 0); /* the config check makes the proposal fit request_bytes_max */
	s->has_leader_waiting = 0;
	s->stats.leader_proposals++;
	shard_tick(s);
}

/*
 * The broken glue of NODE_SHARD_BREAK_LOCAL_READS (a GET answered from local state) and
 * NODE_SHARD_BREAK_ACK_UNLOGGED (node 0 acknowledges a PUT and drops it). Tests only.
 */
int
shard_break_answer(struct node_shard *s, uint64_t client_id, uint64_t client_seq,
		   const uint8_t *body, size_t size)
{
	int is_local_read = (s->cfg.break_rules & NODE_SHARD_BREAK_LOCAL_READS) != 0;
	int is_fake_ack = (s->cfg.break_rules & NODE_SHARD_BREAK_ACK_UNLOGGED) != 0 && s->node == 0;
	struct kv_store_value v;
	struct kv_result res = {0};
	struct kv_cmd cmd;
	size_t out;

	if (kv_cmd_decode(body, size, &cmd) != 0 || !((is_local_read && cmd.type == KV_CMD_GET) ||
						      (is_fake_ack && cmd.type == KV_CMD_PUT))) {
		return 0;
	}
	res.status = cmd.type == KV_CMD_PUT ? KV_RESULT_OK : KV_RESULT_NOT_FOUND;
	res.mod_index = kv_store_applied_index(s->kv) + 1;
	if (cmd.type == KV_CMD_GET &&
	    kv_store_read_local_nonlinearizable(s->kv, cmd.ops[0].key, cmd.ops[0].key_size, &v) ==
		    0) {
		res.status = KV_RESULT_OK;
		res.mod_index = v.mod_index;
		res.value = v.value;
		res.value_size = v.value_size;
	}
	if (kv_result_encode(&res, s->result, s->result_capacity, &out) != 0) {
		return 0;
	}
	if (s->hooks->on_reply != NULL) {
		s->hooks->on_reply(s->hooks->ctx, s->node, client_id, client_seq, s->result, out);
	}
	return 1;
}
