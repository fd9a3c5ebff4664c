/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated clients (closed loop, one operation at a time) and the history they record.
 * See sim_world.h for the workload; the history feeds sim_check.c.
 */
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "sim_world_int.h"

#define US UINT64_C(1000)
#define MS UINT64_C(1000000)

/* Client <-> proxy delay, and how long a client waits before trying another replica. */
#define CLIENT_LINK_MIN_NS  (20 * US)
#define CLIENT_LINK_MAX_NS  (100 * US)
#define CLIENT_RETRY_NS     (20 * MS)
#define CLIENT_THINK_MAX_NS (500 * US)

static void
client_push(struct sim_world *w, uint64_t delay, uint32_t kind, uint32_t target, uint64_t a0,
	    uint64_t a1)
{
	int rc = sim_queue_push_after(&w->queue, delay, kind, target, a0, a1);

	ASSERT(rc == 0);
}

/* Client links lose datagrams like the cluster's links while the faults last. */
static int
client_link_drops(struct sim_world *w)
{
	uint32_t loss = w->net.faults.loss_ppm;

	return loss > 0 && base_prng_chance(&w->prng, loss);
}

static uint64_t
client_link_delay(struct sim_world *w)
{
	return base_prng_range(&w->prng, CLIENT_LINK_MIN_NS, CLIENT_LINK_MAX_NS);
}

struct sim_op *
sim_client_op(struct sim_world *w, uint32_t client, uint64_t seq)
{
	uint32_t index;

	if (client >= w->cfg.client_count || seq == 0 || seq >= w->seqs_max) {
		return NULL;
	}
	index = w->op_of[(size_t)client * w->seqs_max + seq];
	return index == 0 ? NULL : &w->ops[index - 1];
}

void
sim_client_start_all(struct sim_world *w)
{
	uint32_t cc = w->cfg.client_count;
	uint32_t reserve = w->cfg.op_count / 10;

	reserve = reserve > cc ? reserve : cc;
	w->reserve = reserve < w->cfg.op_count ? reserve : w->cfg.op_count;
	w->invoked = 0;
	w->op_count = 0;
	w->final_next = 0;
	memset(w->op_of, 0, (size_t)cc * w->seqs_max * sizeof(uint32_t));
	for (uint32_t c = 0; c < cc; c++) {
		struct sim_client *cl = &w->clients[c];

		memset(cl, 0, sizeof(*cl));
		cl->id = c + 1;
		cl->proxy = c % w->cfg.node_count;
		client_push(w, base_prng_range(&w->prng, 0, MS), SIM_EV_CLIENT_NEXT, c, 0, 0);
	}
}

static void
client_send(struct sim_world *w, uint32_t c)
{
	struct sim_client *cl = &w->clients[c];

	if (!client_link_drops(w)) {
		client_push(w, client_link_delay(w), SIM_EV_CLIENT_REQ, cl->proxy, c, cl->seq);
	}
	client_push(w, CLIENT_RETRY_NS + base_prng_range(&w->prng, 0, 5 * MS),
		    SIM_EV_CLIENT_TIMEOUT, c, cl->seq, cl->attempt);
}

/*
 * Encodes the operation's command into the client's body buffer. A value is value_size bytes:
 * the unique u64 the checkers follow, then filler derived from it (large stores, R10).
 */
static void
client_encode(const struct sim_world *w, struct sim_client *cl, const struct sim_op *op)
{
	struct kv_cmd cmd;
	uint8_t key[4] = {'k', (uint8_t)('0' + op->key / 10), (uint8_t)('0' + op->key % 10), 0};
	uint8_t value[SIM_VALUE_MAX];
	size_t size;

	memset(&cmd, 0, sizeof(cmd));
	base_store_le64(value, op->value);
	for (uint32_t i = 8; i < w->cfg.value_size; i++) {
		value[i] = (uint8_t)(op->value >> (i % 8 * 8));
	}
	cmd.type = op->kind == SIM_OP_PUT   ? KV_CMD_PUT
		   : op->kind == SIM_OP_GET ? KV_CMD_GET
					    : KV_CMD_CAS;
	cmd.op_count = 1;
	cmd.ops[0].type = cmd.type;
	cmd.ops[0].key = key;
	cmd.ops[0].key_size = 3;
	if (op->kind != SIM_OP_GET) {
		cmd.ops[0].value = value;
		cmd.ops[0].value_size = w->cfg.value_size;
	}
	cmd.ops[0].expected_mod_index = op->expected_mod;
	if (kv_cmd_encode(&cmd, cl->body, sizeof(cl->body), &size) != 0) {
		PANIC("cannot encode a client command");
	}
	cl->body_size = (uint32_t)size;
}

static void
client_invoke(struct sim_world *w, uint32_t c, uint8_t kind, uint32_t key, int is_final)
{
	struct sim_client *cl = &w->clients[c];
	struct sim_op *op;

	ASSERT(w->op_count < w->ops_max);
	ASSERT(cl->seq + 1 < w->seqs_max);
	op = &w->ops[w->op_count];
	memset(op, 0, sizeof(*op));
	cl->seq++;
	w->op_of[(size_t)c * w->seqs_max + cl->seq] = ++w->op_count;
	op->invoke_ns = sim_queue_now(&w->queue);
	op->complete_ns = SIM_LIN_PENDING;
	op->seq = cl->seq;
	op->client = c;
	op->key = key;
	op->kind = kind;
	op->status = SIM_OP_STATUS_PENDING;
	op->is_final = (uint8_t)is_final;
	if (kind != SIM_OP_GET) {
		op->value = (cl->id << 40) | cl->seq; /* unique and never 0 */
	}
	if (kind == SIM_OP_CAS) {
		op->expected = cl->known_value[key];
		op->expected_mod = cl->known_mod[key];
	}
	client_encode(w, cl, op);
	op->body_hash = base_hash64(cl->body, cl->body_size, 0);
	cl->op_index = w->op_count - 1;
	cl->is_waiting = 1;
	cl->has_reply = 0;
	cl->attempt = 0;
	client_send(w, c);
}

void
sim_client_on_next(struct sim_world *w, uint32_t c)
{
	struct sim_client *cl = &w->clients[c];
	uint32_t limit = w->is_healed ? w->cfg.op_count : w->cfg.op_count - w->reserve;
	uint64_t r;

	if (cl->is_waiting) {
		return;
	}
	if (w->invoked < w->cfg.op_count) {
		if (w->invoked >= limit) {
			cl->is_idle = 1; /* the reserve waits for the heal */
			return;
		}
		w->invoked++;
		r = base_prng_below(&w->prng, 100);
		client_invoke(w, c,
			      r < 40   ? SIM_OP_PUT
			      : r < 70 ? SIM_OP_GET
				       : SIM_OP_CAS,
			      (uint32_t)base_prng_below(&w->prng, w->cfg.key_count), 0);
		return;
	}
	/* Client 0 closes the run with one read per key, each after every other op ended. */
	if (c == 0 && w->final_next < w->cfg.key_count) {
		for (uint32_t i = 0; i < w->cfg.client_count; i++) {
			if (w->clients[i].is_waiting) {
				return;
			}
		}
		client_invoke(w, 0, SIM_OP_GET, w->final_next++, 1);
	}
}

void
sim_client_on_request(struct sim_world *w, uint32_t node, uint32_t c, uint64_t seq)
{
	struct sim_node *n = &w->nodes[node];
	struct sim_client *cl = &w->clients[c];

	/* A request for an older seq is one the client gave up on: like a lost datagram. */
	if (n->is_crashed || n->is_paused || !cl->is_waiting || cl->seq != seq) {
		return;
	}
	if (node_shard_submit(&n->shard, cl->id, seq, cl->body, cl->body_size) == 0) {
		sim_world_node_wake(w, node);
	}
}

/* Decodes a GET value: value_size bytes, the first 8 the unique u64 (little endian). */
static int
client_value(const struct sim_world *w, const struct kv_result *r, uint64_t *out)
{
	if (r->value_size != w->cfg.value_size) {
		return -EBADMSG;
	}
	*out = base_load_le64(r->value);
	return 0;
}

void
sim_client_answer(struct sim_world *w, uint32_t node, uint64_t client_id, uint64_t seq,
		  const uint8_t *result, size_t size)
{
	struct sim_client *cl;
	struct kv_result r;
	uint64_t value = 0;

	if (client_id == 0 || client_id > w->cfg.client_count) {
		sim_world_fail(w, &w->res->violations, "node %u answered unknown client %llu", node,
			       (unsigned long long)client_id);
		return;
	}
	cl = &w->clients[client_id - 1];
	if (!cl->is_waiting || cl->seq != seq) {
		return; /* an answer to a request the client already has */
	}
	if (kv_result_decode(result, size, &r) != 0 ||
	    (r.status == KV_RESULT_OK && w->ops[cl->op_index].kind == SIM_OP_GET &&
	     client_value(w, &r, &value) != 0)) {
		sim_world_fail(w, &w->res->violations,
			       "node %u sent client %llu an undecodable result", node,
			       (unsigned long long)client_id);
		return;
	}
	if (cl->has_reply) {
		/* Every replica must give the same answer (R8); the first one stands. */
		if (cl->reply_status != r.status || cl->reply_value != value ||
		    cl->reply_mod != r.mod_index) {
			sim_world_fail(
				w, &w->res->violations,
				"client %llu seq %llu: node %u answered %s %llx@%llu, another "
				"replica %s %llx@%llu",
				(unsigned long long)client_id, (unsigned long long)seq, node,
				kv_result_status_name(r.status), (unsigned long long)value,
				(unsigned long long)r.mod_index,
				kv_result_status_name(cl->reply_status),
				(unsigned long long)cl->reply_value,
				(unsigned long long)cl->reply_mod);
		}
	} else {
		cl->has_reply = 1;
		cl->reply_status = (uint8_t)r.status;
		cl->reply_value = value;
		cl->reply_mod = r.mod_index;
	}
	if (!client_link_drops(w)) {
		client_push(w, client_link_delay(w), SIM_EV_CLIENT_REPLY, (uint32_t)client_id - 1,
			    seq, 0);
	}
}

/* The value written at log index mod (0 when unknown): what a CAS_FAILED answer points to. */
static uint64_t
client_value_at(const struct sim_world *w, uint64_t mod)
{
	for (uint32_t i = 0; i < w->op_count && mod != 0; i++) {
		const struct sim_op *op = &w->ops[i];

		if (op->has_exec && op->kind != SIM_OP_GET &&
		    (((op->exec_slot + 1) << 16) | op->exec_pos) == mod) {
			return op->value;
		}
	}
	return 0;
}

/* What the client learns about its key from the answer (the CAS expectations). */
static void
client_learn(struct sim_world *w, struct sim_client *cl, const struct sim_op *op)
{
	uint32_t k = op->key;

	switch (op->status) {
	case KV_RESULT_OK:
		cl->known_value[k] = op->kind == SIM_OP_GET ? op->result_value : op->value;
		cl->known_mod[k] = op->result_mod;
		break;
	case KV_RESULT_NOT_FOUND:
		cl->known_value[k] = 0;
		cl->known_mod[k] = 0;
		break;
	case KV_RESULT_CAS_FAILED:
		cl->known_value[k] = client_value_at(w, op->result_mod);
		cl->known_mod[k] = cl->known_value[k] != 0 ? op->result_mod : 0;
		break;
	default:
		break;
	}
}

void
sim_client_on_reply(struct sim_world *w, uint32_t c, uint64_t seq)
{
	struct sim_client *cl = &w->clients[c];
	struct sim_op *op;

	if (!cl->is_waiting || cl->seq != seq || !cl->has_reply) {
		return;
	}
	op = &w->ops[cl->op_index];
	op->complete_ns = sim_queue_now(&w->queue);
	op->status = cl->reply_status;
	op->result_value = cl->reply_value;
	op->result_mod = cl->reply_mod;
	if (op->status != KV_RESULT_OK && op->status != KV_RESULT_NOT_FOUND &&
	    (op->status != KV_RESULT_CAS_FAILED || op->kind != SIM_OP_CAS)) {
		sim_world_fail(w, &w->res->violations, "client %u seq %llu got %s", c,
			       (unsigned long long)seq, kv_result_status_name(op->status));
	}
	client_learn(w, cl, op);
	cl->is_waiting = 0;
	w->res->ops_ok++;
	client_push(w, base_prng_range(&w->prng, 0, CLIENT_THINK_MAX_NS), SIM_EV_CLIENT_NEXT, c, 0,
		    0);
	if (c != 0 && w->invoked == w->cfg.op_count) {
		client_push(w, 0, SIM_EV_CLIENT_NEXT, 0, 0, 0);
	}
}

void
sim_client_on_timeout(struct sim_world *w, uint32_t c, uint64_t seq, uint64_t attempt)
{
	struct sim_client *cl = &w->clients[c];

	if (!cl->is_waiting || cl->seq != seq || cl->attempt != attempt) {
		return;
	}
	/* Same (client, seq) to the next replica: the KV dedupe keeps it exactly once. */
	cl->attempt++;
	cl->proxy = (cl->proxy + 1) % w->cfg.node_count;
	client_send(w, c);
}

int
sim_client_all_done(const struct sim_world *w)
{
	if (w->invoked < w->cfg.op_count || w->final_next < w->cfg.key_count) {
		return 0;
	}
	for (uint32_t c = 0; c < w->cfg.client_count; c++) {
		if (w->clients[c].is_waiting) {
			return 0;
		}
	}
	return 1;
}
