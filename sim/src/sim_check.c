/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's checkers (sim_world.h lists them): online checks at every delivered slot and
 * applied request, and the end-of-run checks.
 */
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "sim_world_int.h"

#define MS UINT64_C(1000000)

void
sim_check_reset(struct sim_world *w)
{
	memset(w->truth, 0, (size_t)w->truth_hi * sizeof(w->truth[0]));
	w->truth_hi = 0;
	memset(w->term_owner, 0, (size_t)w->term_hi * sizeof(w->term_owner[0]));
	w->term_hi = 0;
}

/*
 * R12 (node_shard.h, "Log compaction"): delivering slot k makes Rabia forget slot
 * k - window_slots. That is only allowed once a majority has applied it; the world knows who
 * has (any incarnation counts: each one reported it through its votes when it had).
 */
static void
check_compaction(struct sim_world *w, uint32_t node, uint64_t slot)
{
	uint64_t window = w->scfg.rabia.window_slots;
	uint32_t majority = w->cfg.node_count / 2 + 1;
	uint32_t count = 0;
	uint64_t gone;

	if (slot < window) {
		return;
	}
	gone = slot - window;
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		count += w->nodes[i].reached > gone;
	}
	if (count < majority) {
		sim_world_fail(w, &w->res->violations,
			       "compaction: node %u forgot slot %llu, applied by %u replicas only",
			       node, (unsigned long long)gone, count);
	}
}

void
sim_check_on_installed(struct sim_world *w, uint32_t node, uint64_t slot)
{
	struct sim_node *n = &w->nodes[node];

	n->reached = slot + 1 > n->reached ? slot + 1 : n->reached;
}

/*
 * R15: on every replica the learned term only grows (within an incarnation: a restart goes
 * back to its checkpoint) and never disappears; cluster-wide a term names one node.
 */
void
sim_check_on_leader(struct sim_world *w, uint32_t node, int has_leader,
		    const struct node_leader_value *v)
{
	struct sim_node *n = &w->nodes[node];
	uint64_t words[3] = {node, has_leader ? v->node_id : UINT64_MAX, has_leader ? v->term : 0};

	sim_world_trace(w, words, sizeof(words));
	if (!has_leader) {
		sim_world_fail(w, &w->res->violations,
			       "leader: node %u lost its leader (term %llu before)", node,
			       (unsigned long long)n->leader_term);
		return;
	}
	if (v->term <= n->leader_term || v->node_id >= w->cfg.node_count) {
		sim_world_fail(w, &w->res->violations,
			       "leader: node %u learned leader %u term %llu after term %llu", node,
			       v->node_id, (unsigned long long)v->term,
			       (unsigned long long)n->leader_term);
	}
	n->leader_term = v->term;
	w->res->leader_terms = v->term > w->res->leader_terms ? v->term : w->res->leader_terms;
	if (v->term >= SIM_TERMS_MAX) {
		sim_world_fail(w, &w->res->violations, "leader: term %llu beyond the term table",
			       (unsigned long long)v->term);
		return;
	}
	if (w->term_owner[v->term] == 0) {
		w->term_owner[v->term] = v->node_id + 1;
		w->term_hi = v->term + 1 > w->term_hi ? v->term + 1 : w->term_hi;
	} else if (w->term_owner[v->term] != v->node_id + 1) {
		sim_world_fail(w, &w->res->violations,
			       "leader: term %llu names node %u on node %u and node %u elsewhere",
			       (unsigned long long)v->term, v->node_id, node,
			       w->term_owner[v->term] - 1);
	}
}

void
sim_check_on_decided(struct sim_world *w, uint32_t node, const struct rabia_decided *d)
{
	struct sim_node *n = &w->nodes[node];
	uint64_t hash = d->is_null ? 0 : base_hash64(d->batch, d->batch_size, 0);
	uint64_t words[4] = {node, d->slot, (uint64_t)d->is_null, hash};

	sim_world_trace(w, words, sizeof(words));
	n->reached = d->slot + 1 > n->reached ? d->slot + 1 : n->reached;
	check_compaction(w, node, d->slot);
	if (n->expected_slot != UINT64_MAX && d->slot != n->expected_slot) {
		sim_world_fail(w, &w->res->violations,
			       "order: node %u delivered slot %llu, expected %llu", node,
			       (unsigned long long)d->slot, (unsigned long long)n->expected_slot);
	}
	n->expected_slot = d->slot + 1;
}

/*
 * Agreement and validity on what replicas APPLY (commit), across epochs: a slot one epoch
 * decided and an epoch change then cut (never applied, never acknowledged) may be decided
 * again differently, but two replicas never apply different values for one slot.
 */
void
sim_check_on_committed(struct sim_world *w, uint32_t node, uint64_t epoch,
		       const struct rabia_decided *d)
{
	uint64_t hash = d->is_null ? 0 : base_hash64(d->batch, d->batch_size, 0);
	uint64_t words[4] = {node, d->slot, epoch, hash};
	struct sim_slot_truth *t;

	sim_world_trace(w, words, sizeof(words));
	if (d->slot >= SIM_SLOTS_MAX) {
		sim_world_fail(w, &w->res->violations, "slot %llu beyond the agreement table",
			       (unsigned long long)d->slot);
		return;
	}
	if (!d->is_null && (d->id.proxy >= w->cfg.node_count || d->request_count == 0)) {
		sim_world_fail(
			w, &w->res->violations,
			"validity: slot %llu decided a batch from proxy %u with %zu requests",
			(unsigned long long)d->slot, d->id.proxy, d->request_count);
	}
	t = &w->truth[d->slot];
	if (!t->is_decided) {
		t->is_decided = 1;
		t->is_null = (uint8_t)(d->is_null != 0);
		t->id = d->id;
		t->batch_hash = hash;
		w->truth_hi = d->slot + 1 > w->truth_hi ? (uint32_t)(d->slot + 1) : w->truth_hi;
		w->res->slots++;
		w->res->null_slots += t->is_null;
		return;
	}
	if (t->is_null != (d->is_null != 0) || t->batch_hash != hash ||
	    (!d->is_null && !rabia_batch_id_equal(t->id, d->id))) {
		sim_world_fail(
			w, &w->res->violations,
			"agreement: slot %llu: node %u applied %s (%u:%llu, epoch %llu), another "
			"replica %s (%u:%llu)",
			(unsigned long long)d->slot, node, d->is_null ? "null" : "a batch",
			d->id.proxy, (unsigned long long)d->id.seq, (unsigned long long)epoch,
			t->is_null ? "null" : "a batch", t->id.proxy,
			(unsigned long long)t->id.seq);
	}
}

static int
check_is_stale(const uint8_t *result, size_t size)
{
	struct kv_result r;

	return kv_result_decode(result, size, &r) == 0 && r.status == KV_RESULT_STALE;
}

/*
 * A leader proposal (node_leader.h) must be a CAS of `leader` naming its proposer and term. A
 * PUT passes too: the leader-put break sends those, and the term checkers must catch it.
 */
static void
check_leader_request(struct sim_world *w, uint32_t node, uint64_t slot,
		     const struct rabia_request *req)
{
	uint64_t proposer = req->client_id & ~NODE_LEADER_CLIENT_BIT;
	char key[NODE_LEADER_KEY_MAX];
	size_t key_size = node_leader_key(key);
	struct node_leader_value v;
	struct kv_cmd cmd;

	if (proposer < w->cfg.node_count && kv_cmd_decode(req->body, req->body_size, &cmd) == 0 &&
	    (cmd.type == KV_CMD_CAS || cmd.type == KV_CMD_PUT) && cmd.ops[0].key_size == key_size &&
	    memcmp(cmd.ops[0].key, key, key_size) == 0 &&
	    node_leader_value_decode(cmd.ops[0].value, cmd.ops[0].value_size, &v) == 0 &&
	    v.node_id == proposer && v.term == req->client_seq) {
		return;
	}
	sim_world_fail(w, &w->res->violations,
		       "validity: node %u executed a leader request of client %llx at slot %llu "
		       "that no proposer sent",
		       node, (unsigned long long)req->client_id, (unsigned long long)slot);
}

void
sim_check_on_applied(struct sim_world *w, uint32_t node, uint64_t slot, uint32_t pos,
		     const struct rabia_request *req, const uint8_t *result, size_t size)
{
	struct sim_op *op;
	uint64_t rh = base_hash64(result, size, 0);

	if ((req->client_id & NODE_LEADER_CLIENT_BIT) != 0) {
		check_leader_request(w, node, slot, req);
		return;
	}
	op = sim_client_op(w, (uint32_t)(req->client_id - 1), req->client_seq);
	if (op == NULL || base_hash64(req->body, req->body_size, 0) != op->body_hash) {
		sim_world_fail(
			w, &w->res->violations,
			"validity: node %u executed client %llu seq %llu at slot %llu, which no "
			"client sent with these bytes",
			node, (unsigned long long)req->client_id,
			(unsigned long long)req->client_seq, (unsigned long long)slot);
		return;
	}
	if (!op->has_exec) {
		op->has_exec = 1;
		op->exec_slot = slot;
		op->exec_pos = pos;
		op->exec_result_hash = rh;
		return;
	}
	if (op->exec_slot == slot && op->exec_pos == pos) {
		if (rh != op->exec_result_hash) {
			sim_world_fail(
				w, &w->res->violations,
				"determinism: slot %llu position %u gave node %u another result",
				(unsigned long long)slot, pos, node);
		}
		return;
	}
	if (rh != op->exec_result_hash && !check_is_stale(result, size)) {
		sim_world_fail(
			w, &w->res->violations,
			"double execution: client %llu seq %llu ran at slot %llu and again at "
			"slot %llu on node %u",
			(unsigned long long)req->client_id, (unsigned long long)req->client_seq,
			(unsigned long long)op->exec_slot, (unsigned long long)slot, node);
	}
}

void
sim_check_on_event(struct sim_world *w, uint32_t node, const struct rabia_event *ev)
{
	if (ev->type == RABIA_EVENT_VIOLATION) {
		sim_world_fail(
			w, &w->res->violations,
			"node %u: Rabia reports protocol violation %d by node %u at slot %llu",
			node, ev->code, ev->peer, (unsigned long long)ev->slot);
	} else if (ev->type == RABIA_EVENT_PHASE_ALARM) {
		base_logf(&w->cfg.log, BASE_LOG_INFO, "seed=%llu node=%u slot=%llu phase alarm",
			  (unsigned long long)w->seed, node, (unsigned long long)ev->slot);
	}
}

/*
 * R15 after the heal: every live replica names the same leader and term, and that node is
 * live (not crash-stopped, crashed or paused).
 */
static int
check_leader_settled(struct sim_world *w)
{
	struct node_leader_value first = {UINT32_MAX, 0};

	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		struct node_leader_value v;

		if (w->nodes[i].is_stopped) {
			continue;
		}
		if (!node_shard_leader(&w->nodes[i].shard, &v) || v.node_id >= w->cfg.node_count) {
			return 0;
		}
		if (first.term != 0 && (v.node_id != first.node_id || v.term != first.term)) {
			return 0;
		}
		first = v;
	}
	return first.term != 0 && !w->nodes[first.node_id].is_crashed &&
	       !w->nodes[first.node_id].is_paused;
}

int
sim_check_is_quiescent(struct sim_world *w)
{
	uint64_t slot = UINT64_MAX;

	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		struct sim_node *n = &w->nodes[i];

		if (n->is_stopped) {
			continue;
		}
		if (n->is_crashed || n->is_paused || node_shard_backlog(&n->shard) != 0 ||
		    node_shard_is_pulling(&n->shard) ||
		    node_shard_applied_next(&n->shard) != node_shard_next_slot(&n->shard)) {
			return 0;
		}
		if (slot != UINT64_MAX && node_shard_next_slot(&n->shard) != slot) {
			return 0;
		}
		slot = node_shard_next_slot(&n->shard);
	}
	return check_leader_settled(w);
}

/* Replicas that applied the same slots must hold the same KV state. */
static void
check_digests(struct sim_world *w)
{
	for (uint32_t a = 0; a < w->cfg.node_count; a++) {
		for (uint32_t b = a + 1; b < w->cfg.node_count; b++) {
			struct sim_node *x = &w->nodes[a];
			struct sim_node *y = &w->nodes[b];

			if (x->is_crashed || y->is_crashed ||
			    node_shard_applied_next(&x->shard) !=
				    node_shard_applied_next(&y->shard)) {
				continue;
			}
			if (!base_hash128_equal(node_shard_digest(&x->shard),
						node_shard_digest(&y->shard))) {
				sim_world_fail(
					w, &w->res->violations,
					"KV digests differ: nodes %u and %u at slot %llu", a, b,
					(unsigned long long)node_shard_applied_next(&x->shard));
			}
		}
	}
}

/* The history of one key as register operations; returns how many. */
static size_t
check_key_history(struct sim_world *w, uint32_t key, uint32_t *index_of)
{
	size_t count = 0;

	for (uint32_t i = 0; i < w->op_count; i++) {
		const struct sim_op *op = &w->ops[i];
		struct sim_lin_op *l = &w->lin_ops[count];
		int is_pending = op->status == SIM_OP_STATUS_PENDING;

		if (op->key != key) {
			continue;
		}
		memset(l, 0, sizeof(*l));
		l->invoke_ns = op->invoke_ns;
		l->complete_ns = is_pending ? SIM_LIN_PENDING : op->complete_ns;
		if (op->kind == SIM_OP_PUT && (is_pending || op->status == KV_RESULT_OK)) {
			l->kind = SIM_LIN_PUT;
			l->value = op->value;
		} else if (op->kind == SIM_OP_GET && (is_pending || op->status == KV_RESULT_OK ||
						      op->status == KV_RESULT_NOT_FOUND)) {
			l->kind = SIM_LIN_GET;
			l->value = op->status == KV_RESULT_OK ? op->result_value : 0;
		} else if (op->kind == SIM_OP_CAS && (is_pending || op->status == KV_RESULT_OK ||
						      op->status == KV_RESULT_CAS_FAILED)) {
			l->kind = SIM_LIN_CAS;
			l->value = op->value;
			l->expected = op->expected;
			l->is_ok = op->status == KV_RESULT_OK;
		} else {
			continue; /* failed for sure: it did not happen */
		}
		index_of[count++] = i;
	}
	return count;
}

static void
check_linearizable(struct sim_world *w)
{
	for (uint32_t key = 0; key < w->cfg.key_count; key++) {
		uint32_t *index_of = w->lin_index;
		size_t count = check_key_history(w, key, index_of);
		struct sim_lin_report rep;
		const struct sim_op *op;
		int rc = sim_lin_check(&w->lin, w->lin_ops, count, 0, &rep);

		if (rc != 0 || rep.result == SIM_LIN_INCONCLUSIVE) {
			sim_world_fail(
				w, &w->res->inconclusive,
				"key k%02u: linearizability inconclusive (%zu ops, %llu steps)",
				key, count, (unsigned long long)rep.step_count);
			continue;
		}
		if (rep.result == SIM_LIN_LINEARIZABLE) {
			continue;
		}
		op = &w->ops[index_of[rep.blocking_index]];
		sim_world_fail(w, &w->res->nonlinearizable,
			       "key k%02u: not linearizable (%zu ops); stuck at client %u seq %llu "
			       "(kind %u, value %llx, read %llx) after %u ops",
			       key, count, op->client, (unsigned long long)op->seq, op->kind,
			       (unsigned long long)op->value, (unsigned long long)op->result_value,
			       rep.deepest_count);
	}
}

/* The operation that wrote value (unique per write), or NULL. */
static const struct sim_op *
check_writer_of(const struct sim_world *w, uint32_t key, uint64_t value)
{
	for (uint32_t i = 0; i < w->op_count && value != 0; i++) {
		const struct sim_op *op = &w->ops[i];

		if (op->key == key && op->kind != SIM_OP_GET && op->value == value) {
			return op;
		}
	}
	return NULL;
}

/*
 * Every acknowledged write must still show at the end: the final read of its key returns its
 * value or the value of a write not entirely before it in real time.
 */
static void
check_lost_writes(struct sim_world *w)
{
	for (uint32_t i = 0; i < w->op_count; i++) {
		const struct sim_op *f = &w->ops[i];
		const struct sim_op *src;
		uint64_t v;

		if (!f->is_final ||
		    (f->status != KV_RESULT_OK && f->status != KV_RESULT_NOT_FOUND)) {
			continue;
		}
		v = f->status == KV_RESULT_OK ? f->result_value : 0;
		src = check_writer_of(w, f->key, v);
		for (uint32_t j = 0; j < w->op_count; j++) {
			const struct sim_op *a = &w->ops[j];

			if (a->key != f->key || a->kind == SIM_OP_GET ||
			    a->status != KV_RESULT_OK || a == src) {
				continue;
			}
			if (src == NULL || src->complete_ns < a->invoke_ns) {
				sim_world_fail(w, &w->res->lost_acked,
					       "lost write: client %u seq %llu wrote %llx to k%02u "
					       "(acknowledged), final read sees %llx",
					       a->client, (unsigned long long)a->seq,
					       (unsigned long long)a->value, f->key,
					       (unsigned long long)v);
			}
		}
	}
}

/* Operations pending at the heal or invoked after it must end within the liveness bound. */
static void
check_stalls(struct sim_world *w)
{
	for (uint32_t i = 0; i < w->op_count; i++) {
		const struct sim_op *op = &w->ops[i];
		uint64_t from = op->invoke_ns > w->heal_ns ? op->invoke_ns : w->heal_ns;
		int is_pending = op->status == SIM_OP_STATUS_PENDING;

		w->res->ops_pending += (uint64_t)is_pending;
		if (!w->is_healed) {
			continue; /* the run stopped before the heal; reported already */
		}
		if (is_pending ||
		    (op->complete_ns > from && op->complete_ns - from > w->cfg.liveness_bound_ns)) {
			sim_world_fail(w, &w->res->stalls,
				       "stall: client %u seq %llu (k%02u) invoked at %llu ms %s",
				       op->client, (unsigned long long)op->seq, op->key,
				       (unsigned long long)(op->invoke_ns / MS),
				       is_pending ? "never completed" : "completed too late");
		}
	}
}

void
sim_check_final(struct sim_world *w)
{
	w->res->ops_invoked = w->op_count;
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		struct sim_node *n = &w->nodes[i];
		const struct rabia_stats *st;

		w->res->transfer_chunks += node_shard_get_stats(&n->shard)->chunks_received;
		if (n->is_crashed) {
			continue;
		}
		st = rabia_get_stats(node_shard_rabia(&n->shard));
		if (st->phase_max_seen > w->res->phase_max) {
			w->res->phase_max = st->phase_max_seen;
		}
	}
	check_digests(w);
	check_stalls(w);
	check_linearizable(w);
	check_lost_writes(w);
}
