/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: node_shard.h as a whole: three shards answer clients and agree, a replica far behind
 * pulls a snapshot far larger than the old 64 x 8000-byte limit through a lossy network, a
 * restarted replica comes back from its own checkpoint, leadership moves when the leader stops,
 * bad durable objects stop a start, bad transfer frames are counted, bad requests are refused,
 * and creation fails cleanly under allocation faults. R12 is checked on every delivery: when a
 * shard delivers slot k, a majority must already have applied slot k - window_slots.
 * Method: a small in-memory cluster written here (struct env_ops per node: a seeded lossy
 * datagram inbox and in-memory storage with immediate completions) and a virtual clock that
 * advances in fixed steps, polling every live shard at each step. The simulator (aether-sim)
 * runs the same shards under every fault; this harness pins specific scenarios.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "consensus/kv_cmd.h"
#include "node/node_shard.h"

#define T_NODES   3
#define T_INBOX   8192
#define T_OBJECTS 4
#define T_DONE    64
#define US        UINT64_C(1000)
#define MS        UINT64_C(1000000)
#define T_STEP_NS (50 * US)
#define T_VALUE   4000

struct t_cluster;

struct t_dgram {
	uint32_t from;
	uint32_t size;
	uint8_t *data;
};

struct t_object {
	char name[ENV_STORAGE_NAME_MAX + 1];
	uint8_t *data; /* NULL: unused */
	size_t size;
};

struct t_node {
	struct t_cluster *c;
	uint32_t id;
	struct env_ops ops;
	struct t_dgram inbox[T_INBOX];
	uint32_t head;
	uint32_t count;
	struct t_object objects[T_OBJECTS];
	struct env_storage_completion done[T_DONE];
	size_t done_count;
	struct node_shard *shard;
	int is_up;
	uint64_t reached; /* slots below were applied here once */
	int has_leader;
	struct node_leader_value leader;
	uint64_t notifications;
};

struct t_cluster {
	struct t_node nodes[T_NODES];
	uint64_t now;
	struct base_prng prng;
	uint32_t loss_ppm;
	int drop_chunks; /* lose every SNAP_CHUNK (the test injects its own) */
	struct node_shard_config cfg;
	struct node_shard_hooks hooks;
	uint64_t replies;
	uint64_t reply_errors; /* answers that are not OK */
	uint64_t compaction_violations;
};

/* ---- the env ---- */

static uint64_t
t_now(void *ctx)
{
	struct t_node *n = ctx;

	return n->c->now;
}

static uint64_t
t_seed(void *ctx)
{
	struct t_node *n = ctx;

	return 1000 + n->id;
}

static int
t_send(void *ctx, uint32_t peer, const uint8_t *data, size_t size)
{
	struct t_node *n = ctx;
	struct t_cluster *c = n->c;
	struct t_node *to;
	struct t_dgram *d;

	if (size > ENV_MSG_MAX) {
		return -EMSGSIZE;
	}
	if (peer >= T_NODES) {
		return -EHOSTUNREACH;
	}
	to = &c->nodes[peer];
	if (!to->is_up || to->count == T_INBOX ||
	    (c->drop_chunks && size > 0 && data[0] == NODE_SHARD_CH_SNAP_CHUNK) ||
	    (c->loss_ppm != 0 && base_prng_chance(&c->prng, c->loss_ppm))) {
		return 0; /* lost on the way: fair-loss */
	}
	d = &to->inbox[(to->head + to->count) % T_INBOX];
	d->from = n->id;
	d->size = (uint32_t)size;
	d->data = malloc(size);
	assert_non_null(d->data);
	memcpy(d->data, data, size);
	to->count++;
	return 0;
}

static int
t_recv(void *ctx, uint32_t *peer, uint8_t *buf, size_t capacity, size_t *size)
{
	struct t_node *n = ctx;
	struct t_dgram *d;
	int rc = 0;

	if (n->count == 0) {
		return -EAGAIN;
	}
	d = &n->inbox[n->head];
	n->head = (n->head + 1) % T_INBOX;
	n->count--;
	if (d->size > capacity) {
		rc = -EMSGSIZE;
	} else {
		memcpy(buf, d->data, d->size);
		*peer = d->from;
		*size = d->size;
	}
	free(d->data);
	d->data = NULL;
	return rc;
}

static struct t_object *
t_object(struct t_node *n, const char *name, int create)
{
	for (int i = 0; i < T_OBJECTS; i++) {
		if (n->objects[i].data != NULL && strcmp(n->objects[i].name, name) == 0) {
			return &n->objects[i];
		}
	}
	for (int i = 0; create && i < T_OBJECTS; i++) {
		if (n->objects[i].data == NULL) {
			snprintf(n->objects[i].name, sizeof(n->objects[i].name), "%s", name);
			return &n->objects[i];
		}
	}
	return NULL;
}

static int
t_done(struct t_node *n, uint64_t token, enum env_storage_op op, int status)
{
	if (n->done_count == T_DONE) {
		return -ENOBUFS;
	}
	n->done[n->done_count++] = (struct env_storage_completion){token, op, status};
	return 0;
}

static int
t_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct t_node *n = ctx;
	struct t_object *o = t_object(n, name, 1);
	uint8_t *copy = malloc(size + 1);

	assert_non_null(o);
	assert_non_null(copy);
	if (o == NULL || copy == NULL) {
		abort(); /* not reached: keeps -Wnull-dereference quiet at -O3 */
	}
	memcpy(copy, data, size);
	free(o->data);
	o->data = copy;
	o->size = size;
	return t_done(n, token, ENV_STORAGE_PUT, 0);
}

static int
t_append(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct t_node *n = ctx;
	struct t_object *o = t_object(n, name, 1);
	uint8_t *grown;

	assert_non_null(o);
	if (o == NULL) {
		abort(); /* not reached: keeps -Wnull-dereference quiet at -O3 */
	}
	grown = realloc(o->data, o->size + size + 1);
	assert_non_null(grown);
	if (grown == NULL) {
		abort();
	}
	memcpy(grown + o->size, data, size);
	o->data = grown;
	o->size += size;
	return t_done(n, token, ENV_STORAGE_APPEND, 0);
}

static int
t_sync(void *ctx, const char *name, uint64_t token)
{
	struct t_node *n = ctx;

	return t_done(n, token, ENV_STORAGE_SYNC, t_object(n, name, 0) != NULL ? 0 : -ENOENT);
}

static size_t
t_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	struct t_node *n = ctx;
	size_t count = n->done_count < capacity ? n->done_count : capacity;

	memcpy(out, n->done, count * sizeof(*out));
	memmove(n->done, n->done + count, (n->done_count - count) * sizeof(*out));
	n->done_count -= count;
	return count;
}

static int
t_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	struct t_node *n = ctx;
	struct t_object *o = t_object(n, name, 0);

	if (o == NULL) {
		return -ENOENT;
	}
	if (o->size > capacity) {
		return -EFBIG;
	}
	memcpy(buf, o->data, o->size);
	*size = o->size;
	return 0;
}

/* ---- hooks: observations and the R12 check ---- */

static void
t_on_decided(void *ctx, uint32_t node, const struct rabia_decided *d)
{
	struct t_cluster *c = ctx;
	uint64_t window = c->cfg.rabia.window_slots;
	uint32_t count = 0;

	c->nodes[node].reached = d->slot + 1;
	if (d->slot < window) {
		return;
	}
	for (uint32_t i = 0; i < T_NODES; i++) {
		count += c->nodes[i].reached > d->slot - window;
	}
	c->compaction_violations += count < T_NODES / 2 + 1;
}

static void
t_on_installed(void *ctx, uint32_t node, uint64_t slot)
{
	struct t_cluster *c = ctx;

	c->nodes[node].reached = slot + 1;
}

static void
t_on_reply(void *ctx, uint32_t node, uint64_t client_id, uint64_t client_seq, const uint8_t *result,
	   size_t size)
{
	struct t_cluster *c = ctx;
	struct kv_result r;

	(void)node;
	(void)client_id;
	(void)client_seq;
	c->replies++;
	if (kv_result_decode(result, size, &r) != 0 || r.status != KV_RESULT_OK) {
		c->reply_errors++;
	}
}

static void
t_on_leader(void *ctx, uint32_t node, int has_leader, const struct node_leader_value *v)
{
	struct t_cluster *c = ctx;

	c->nodes[node].has_leader = has_leader;
	if (has_leader) {
		c->nodes[node].leader = *v;
	}
}

static void
t_on_notify(void *ctx, uint32_t node, const struct kv_notification *n)
{
	struct t_cluster *c = ctx;

	(void)n;
	c->nodes[node].notifications++;
}

/* ---- the cluster ---- */

static void
t_config(struct node_shard_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	rabia_cfg_defaults(&cfg->rabia);
	cfg->rabia.cluster_id = 77;
	cfg->rabia.coin_key = 0x5eed;
	cfg->rabia.member_count = T_NODES;
	for (uint32_t i = 0; i < T_NODES; i++) {
		cfg->rabia.members[i] = i;
	}
	cfg->rabia.request_bytes_max = T_VALUE + 64;
	cfg->rabia.batch_bytes_max = 8000;
	cfg->rabia.batch_timeout_ns = 50 * US;
	cfg->rabia.rto_ns = 1 * MS;
	cfg->rabia.heartbeat_ns = 5 * MS;
	cfg->rabia.window_slots = 16; /* small: a replica left behind needs a snapshot */
	cfg->rabia.ahead_slots = 8;
	cfg->kv.max_keys = 1024;
	cfg->kv.max_key_size = 16;
	cfg->kv.max_value_size = T_VALUE;
	cfg->kv.data_budget_size = 4u << 20;
	cfg->kv.max_clients = 128;
	cfg->kv.index_seed = 3;
	cfg->clients_max = 64;
	cfg->checkpoint_slots = 32;
	cfg->transfer_window_chunks = 16;
	cfg->transfer_retry_ns = 2 * MS;
	cfg->transfer_timeout_ns = 20 * MS;
	cfg->leader_timeout_ns = 20 * MS;
	cfg->log_buffer_bytes = (uint32_t)(4 * node_shard_log_buffer_min(cfg));
	cfg->status_interval_ns = 2 * MS;
	cfg->stall_timeout_ns = 50 * MS;
}

static void
t_cluster_build(struct t_cluster *c)
{
	c->now = 1 * MS;
	base_prng_init(&c->prng, 42);
	c->hooks = (struct node_shard_hooks){
		.ctx = c,
		.on_decided = t_on_decided,
		.on_reply = t_on_reply,
		.on_installed = t_on_installed,
		.on_leader = t_on_leader,
		.on_notify = t_on_notify,
	};
	for (uint32_t i = 0; i < T_NODES; i++) {
		struct t_node *n = &c->nodes[i];
		struct node_shard_config cfg = c->cfg;

		n->c = c;
		n->id = i;
		n->ops = (struct env_ops){
			.version = ENV_OPS_VERSION,
			.size = sizeof(struct env_ops),
			.ctx = n,
			.now_ns = t_now,
			.seed = t_seed,
			.send = t_send,
			.recv = t_recv,
			.storage_put = t_put,
			.storage_append = t_append,
			.storage_sync = t_sync,
			.storage_poll = t_poll,
			.storage_load = t_load,
		};
		cfg.rabia.self_id = i;
		assert_int_equal(node_shard_create(&cfg, &n->ops, &c->hooks, &n->shard), 0);
	}
}

static int
setup(void **state)
{
	struct t_cluster *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	t_config(&c->cfg);
	*state = c;
	return 0;
}

static void
t_drop_inbox(struct t_node *n)
{
	while (n->count > 0) {
		free(n->inbox[n->head].data);
		n->inbox[n->head].data = NULL;
		n->head = (n->head + 1) % T_INBOX;
		n->count--;
	}
}

static int
teardown(void **state)
{
	struct t_cluster *c = *state;

	for (uint32_t i = 0; i < T_NODES; i++) {
		struct t_node *n = &c->nodes[i];

		node_shard_destroy(n->shard);
		t_drop_inbox(n);
		for (int k = 0; k < T_OBJECTS; k++) {
			free(n->objects[k].data);
		}
	}
	free(c);
	return 0;
}

static void
t_start(struct t_cluster *c, uint32_t i)
{
	c->nodes[i].is_up = 1;
	assert_int_equal(node_shard_start(c->nodes[i].shard, c->now), 0);
}

/* A crash: volatile state, inbox and pending completions are gone; storage stays. */
static void
t_stop(struct t_cluster *c, uint32_t i)
{
	struct t_node *n = &c->nodes[i];

	node_shard_stop(n->shard);
	n->is_up = 0;
	n->done_count = 0;
	t_drop_inbox(n);
}

static void
t_step(struct t_cluster *c)
{
	for (uint32_t i = 0; i < T_NODES; i++) {
		if (c->nodes[i].is_up) {
			(void)node_shard_poll(c->nodes[i].shard, c->now);
		}
	}
	c->now += T_STEP_NS;
}

static void
t_run(struct t_cluster *c, uint64_t ns)
{
	for (uint64_t end = c->now + ns; c->now < end;) {
		t_step(c);
	}
}

/* Every live shard at one slot with nothing pending, or 0 after max_ns. */
static int
t_settle(struct t_cluster *c, uint64_t max_ns)
{
	for (uint64_t end = c->now + max_ns; c->now < end;) {
		uint64_t slot = UINT64_MAX;
		int same = 1;

		t_step(c);
		for (uint32_t i = 0; i < T_NODES; i++) {
			const struct node_shard *s = c->nodes[i].shard;

			if (!c->nodes[i].is_up) {
				continue;
			}
			same &= node_shard_backlog(s) == 0 && !node_shard_is_pulling(s) &&
				(slot == UINT64_MAX || node_shard_next_slot(s) == slot);
			slot = node_shard_next_slot(s);
		}
		if (same) {
			return 1;
		}
	}
	return 0;
}

static size_t
t_put_cmd(uint8_t *buf, size_t cap, uint32_t key, uint64_t tag, size_t value_size)
{
	char k[16];
	uint8_t value[T_VALUE];
	struct kv_cmd cmd;
	size_t size;

	assert_true(value_size <= sizeof(value));
	snprintf(k, sizeof(k), "k%u", key);
	for (size_t i = 0; i < value_size; i++) {
		value[i] = (uint8_t)(tag * 31 + i);
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = KV_CMD_PUT;
	cmd.op_count = 1;
	cmd.ops[0].type = KV_CMD_PUT;
	cmd.ops[0].key = (const uint8_t *)k;
	cmd.ops[0].key_size = strlen(k);
	cmd.ops[0].value = value;
	cmd.ops[0].value_size = value_size;
	assert_int_equal(kv_cmd_encode(&cmd, buf, cap, &size), 0);
	return size;
}

/*
 * Writes `count` puts of value_size bytes to distinct keys, `parallel` at a time, spread over
 * the live proxies; waits for every answer.
 */
static void
t_write(struct t_cluster *c, uint32_t count, uint32_t parallel, size_t value_size)
{
	uint8_t body[T_VALUE + 64];
	uint64_t want = c->replies + count;

	for (uint32_t i = 0; i < count; i++) {
		uint32_t proxy = i % T_NODES;
		size_t size = t_put_cmd(body, sizeof(body), i, c->now + i, value_size);

		while (!c->nodes[proxy].is_up) {
			proxy = (proxy + 1) % T_NODES;
		}
		/* Client i % parallel, a fresh seq per put: one request per client at a time. */
		assert_int_equal(node_shard_submit(c->nodes[proxy].shard, 1 + i % parallel,
						   c->now + i, body, size),
				 0);
		if (i % parallel == parallel - 1 || i == count - 1) {
			uint64_t wait = c->replies + (i % parallel) + 1;

			for (uint64_t end = c->now + 10000 * MS;
			     c->replies < wait && c->now < end;) {
				t_step(c);
			}
			assert_true(c->replies >= wait);
		}
	}
	assert_int_equal(c->replies, want);
	assert_int_equal(c->reply_errors, 0);
}

static void
assert_digests_equal(const struct t_cluster *c)
{
	for (uint32_t i = 1; i < T_NODES; i++) {
		assert_true(base_hash128_equal(node_shard_digest(c->nodes[0].shard),
					       node_shard_digest(c->nodes[i].shard)));
	}
}

static void
assert_leader_everywhere(const struct t_cluster *c, uint32_t node, uint64_t term)
{
	for (uint32_t i = 0; i < T_NODES; i++) {
		struct node_leader_value v;

		if (!c->nodes[i].is_up) {
			continue;
		}
		assert_int_equal(node_shard_leader(c->nodes[i].shard, &v), 1);
		assert_int_equal(v.node_id, node);
		assert_int_equal(v.term, term);
		assert_int_equal(c->nodes[i].leader.node_id, node); /* the hook agrees */
		assert_int_equal(c->nodes[i].leader.term, term);
	}
}

/* ---- tests ---- */

static void
test_node_shard_config_check_rejects_bad_limits(void **state)
{
	struct t_cluster *c = *state;
	struct node_shard_config cfg = c->cfg;

	assert_int_equal(node_shard_config_check(&cfg), 0);
	cfg.transfer_window_chunks = 0;
	assert_int_equal(node_shard_config_check(&cfg), -EINVAL);
	cfg.transfer_window_chunks = NODE_SHARD_WINDOW_MAX + 1;
	assert_int_equal(node_shard_config_check(&cfg), -EINVAL);
	cfg = c->cfg;
	cfg.rabia.out_decided_max = cfg.rabia.window_slots + 1; /* R12 (a) */
	assert_int_equal(node_shard_config_check(&cfg), -EINVAL);
	cfg = c->cfg;
	cfg.kv.max_value_size = NODE_LEADER_VALUE_SIZE - 1; /* the leader value does not fit */
	assert_int_equal(node_shard_config_check(&cfg), -EINVAL);
	cfg.leader_timeout_ns = 0; /* fine without the leader rule */
	assert_int_equal(node_shard_config_check(&cfg), 0);
	cfg = c->cfg;
	cfg.clients_max = 0;
	assert_int_equal(node_shard_config_check(&cfg), -EINVAL);
	cfg = c->cfg;
	cfg.break_rules = 1u << 30;
	assert_int_equal(node_shard_config_check(&cfg), -EINVAL);
}

/* The transfer buffers are sized by this bound: a store filled to every limit fits it. */
static void
test_node_shard_snapshot_bound_holds_for_a_full_store(void **state)
{
	struct kv_store_config kc = {.max_keys = 4,
				     .max_key_size = 8,
				     .max_value_size = 100,
				     .data_budget_size = 4 * 108,
				     .max_clients = 3,
				     .notify_buffer_size = 0,
				     .index_seed = 1};
	uint8_t body[256];
	uint8_t result[KV_RESULT_HEADER_SIZE + 100];
	struct kv_store *kv;
	size_t size;

	(void)state;
	assert_int_equal(kv_store_create(&kc, &kv), 0);
	for (uint32_t i = 0; i < 4; i++) {
		struct kv_cmd cmd;
		char key[9];
		uint8_t value[100];
		struct kv_request q;

		memset(value, (int)i, sizeof(value));
		snprintf(key, sizeof(key), "key%05u", i);
		memset(&cmd, 0, sizeof(cmd));
		cmd.type = KV_CMD_PUT;
		cmd.op_count = 1;
		cmd.ops[0] = (struct kv_cmd_op){KV_CMD_PUT, (const uint8_t *)key, 8, value, 100, 0};
		assert_int_equal(kv_cmd_encode(&cmd, body, sizeof(body), &size), 0);
		q = (struct kv_request){i + 1, 1 + i % 3, 1 + i, body, size};
		assert_int_equal(kv_store_apply(kv, &q, result, sizeof(result), &size), 0);
	}
	/* Cached GET results hold whole values: the largest dedupe entries there are. */
	for (uint32_t i = 0; i < 3; i++) {
		struct kv_cmd cmd;
		struct kv_request q;

		memset(&cmd, 0, sizeof(cmd));
		cmd.type = KV_CMD_GET;
		cmd.op_count = 1;
		cmd.ops[0] =
			(struct kv_cmd_op){KV_CMD_GET, (const uint8_t *)"key00000", 8, NULL, 0, 0};
		assert_int_equal(kv_cmd_encode(&cmd, body, sizeof(body), &size), 0);
		q = (struct kv_request){10 + i, 1 + i, 100, body, size};
		assert_int_equal(kv_store_apply(kv, &q, result, sizeof(result), &size), 0);
	}
	assert_int_equal(kv_store_key_count(kv), 4);
	assert_int_equal(kv_store_client_count(kv), 3);
	assert_true(kv_store_snapshot_size(kv) <= node_shard_snapshot_size_max(&kc));
	assert_true(kv_store_snapshot_size(kv) + 64 > node_shard_snapshot_size_max(&kc));
	kv_store_destroy(kv);
}

static void
test_node_shard_three_replicas_answer_clients_and_agree(void **state)
{
	struct t_cluster *c = *state;

	t_cluster_build(c);
	for (uint32_t i = 0; i < T_NODES; i++) {
		t_start(c, i);
	}
	t_write(c, 60, 6, 100);
	assert_true(t_settle(c, 200 * MS));
	assert_digests_equal(c);
	/* Nobody was ever silent: the lowest id took term 1 and kept it. */
	assert_leader_everywhere(c, 0, 1);
	assert_int_equal(c->compaction_violations, 0);
	assert_true(node_shard_next_slot(c->nodes[0].shard) > c->cfg.rabia.window_slots);
	assert_int_equal(node_shard_get_stats(c->nodes[0].shard)->leader_proposals, 1);
}

static void
test_node_shard_submit_refuses_bad_requests_and_a_full_table(void **state)
{
	struct t_cluster *c = *state;
	struct node_shard *s;
	uint8_t body[T_VALUE + 128];
	size_t size = t_put_cmd(body, sizeof(body), 1, 1, 10);

	c->cfg.clients_max = 4;
	t_cluster_build(c);
	s = c->nodes[0].shard;
	assert_int_equal(node_shard_submit(s, 1, 1, body, size), -EHOSTDOWN);
	t_start(c, 0);
	assert_int_equal(node_shard_submit(s, 0, 1, body, size), -EINVAL);
	assert_int_equal(node_shard_submit(s, NODE_LEADER_CLIENT_BIT | 1, 1, body, size), -EINVAL);
	assert_int_equal(node_shard_submit(s, 1, 1, body, 0), -EMSGSIZE);
	assert_int_equal(node_shard_submit(s, 1, 1, body, c->cfg.rabia.request_bytes_max + 1),
			 -EMSGSIZE);
	for (uint64_t id = 1; id <= 4; id++) {
		assert_int_equal(node_shard_submit(s, id, 1, body, size), 0);
	}
	/* A fifth client waits for a free entry; a known client replaces its request. */
	assert_int_equal(node_shard_submit(s, 5, 1, body, size), -ENOBUFS);
	assert_int_equal(node_shard_submit(s, 4, 2, body, size), 0);
	node_shard_stop(s);
	assert_int_equal(node_shard_next_slot(s), 0);
	assert_int_equal(node_shard_backlog(s), 0);
}

/*
 * The point of issue 3's "no single-message size limit": node 2 stays down while the others
 * write about 2.4 MB (300 chunks, more than four times the old 64-chunk cap) and move far past the
 * decided window; when it starts it must pull the whole store by chunk ranges, through 10 %
 * loss (so chunks and requests are retransmitted), and end with the same digest.
 */
static void
test_node_shard_state_transfer_moves_a_store_far_larger_than_512k(void **state)
{
	struct t_cluster *c = *state;
	const struct node_shard_stats *st;
	size_t snap;

	t_cluster_build(c);
	t_start(c, 0);
	t_start(c, 1);
	t_write(c, 600, 8, T_VALUE);
	snap = kv_store_snapshot_size(node_shard_kv(c->nodes[0].shard));
	assert_true(snap > 4 * 512 * 1024 / 2);
	assert_true(snap / NODE_SHARD_CHUNK_SIZE > 4 * 64);
	c->loss_ppm = 100000;
	t_start(c, 2);
	assert_true(t_settle(c, 3000 * MS));
	c->loss_ppm = 0;
	assert_true(t_settle(c, 200 * MS));
	st = node_shard_get_stats(c->nodes[2].shard);
	assert_true(st->transfers_installed >= 1);
	assert_true(st->chunks_received >= snap / NODE_SHARD_CHUNK_SIZE);
	assert_true(st->transfer_retries > 0); /* loss made it ask again */
	assert_int_equal(kv_store_key_count(node_shard_kv(c->nodes[2].shard)), 600 + 1);
	assert_digests_equal(c);
	assert_leader_everywhere(c, 0, 1);
	assert_int_equal(c->compaction_violations, 0);
	/* The serving side encoded its cache once or a few times, never once per chunk. */
	assert_true(node_shard_get_stats(c->nodes[0].shard)->snapshots_served +
			    node_shard_get_stats(c->nodes[1].shard)->snapshots_served <
		    8);
}

static void
test_node_shard_restart_recovers_from_its_checkpoint(void **state)
{
	struct t_cluster *c = *state;

	t_cluster_build(c);
	for (uint32_t i = 0; i < T_NODES; i++) {
		t_start(c, i);
	}
	t_write(c, 80, 4, 200);
	assert_true(t_settle(c, 200 * MS));
	assert_true(node_shard_get_stats(c->nodes[1].shard)->checkpoints > 0);
	t_stop(c, 1);
	c->nodes[1].has_leader = 0;
	t_write(c, 10, 2, 200);
	t_start(c, 1);
	/* The checkpoint alone gives back the KV state, leader included (the hook fired). */
	assert_true(node_shard_next_slot(c->nodes[1].shard) > 32);
	assert_true(node_shard_applied_index(c->nodes[1].shard) > 0);
	assert_int_equal(c->nodes[1].has_leader, 1);
	assert_true(node_shard_recovered_hwm(c->nodes[1].shard) > 0);
	assert_true(t_settle(c, 1000 * MS));
	assert_digests_equal(c);
	assert_int_equal(c->compaction_violations, 0);
}

/*
 * Every replica stops at once (SYNC durability): each restarts passive below its R11 mark, so
 * Rabia alone could never decide again; the stalled replicas change epoch and go on, and every
 * acknowledged write is still there.
 */
static void
test_node_shard_full_cluster_restart_keeps_acknowledged_writes(void **state)
{
	struct t_cluster *c = *state;
	struct kv_store_value v;

	c->cfg.durability = NODE_SHARD_DURABLE_SYNC;
	t_cluster_build(c);
	for (uint32_t i = 0; i < T_NODES; i++) {
		t_start(c, i);
	}
	t_write(c, 60, 3, 100);
	for (uint32_t i = 0; i < T_NODES; i++) {
		assert_int_equal(node_shard_epoch(c->nodes[i].shard), c->cfg.rabia.epoch);
		t_stop(c, i);
	}
	for (uint32_t i = 0; i < T_NODES; i++) {
		t_start(c, i);
		assert_true(node_shard_recovered_hwm(c->nodes[i].shard) > 0);
	}
	/* New writes need the epoch change: t_write fails if they are not answered. */
	t_write(c, 30, 3, 100);
	assert_true(t_settle(c, 2000 * MS));
	for (uint32_t i = 0; i < T_NODES; i++) {
		const struct kv_store *kv = node_shard_kv(c->nodes[i].shard);

		assert_true(node_shard_epoch(c->nodes[i].shard) > c->cfg.rabia.epoch);
		/* Keys k0..k59 were all acknowledged before the stop, and `leader`. */
		assert_int_equal(kv_store_key_count(kv), 61);
		assert_int_equal(
			kv_store_read_local_nonlinearizable(kv, (const uint8_t *)"k59", 3, &v), 0);
	}
	assert_digests_equal(c);
	assert_true(node_shard_get_stats(c->nodes[0].shard)->epoch_changes >= 1);
}

static void
test_node_shard_leader_moves_when_the_leader_stops(void **state)
{
	struct t_cluster *c = *state;

	t_cluster_build(c);
	for (uint32_t i = 0; i < T_NODES; i++) {
		t_start(c, i);
	}
	t_write(c, 10, 2, 50);
	assert_true(t_settle(c, 100 * MS));
	assert_leader_everywhere(c, 0, 1);
	t_stop(c, 0);
	t_run(c, 200 * MS);
	assert_true(t_settle(c, 200 * MS));
	assert_leader_everywhere(c, 1, 2);
	/* Writes still go through the two that are left. */
	t_write(c, 10, 2, 50);
	assert_int_equal(node_shard_get_stats(c->nodes[2].shard)->leader_proposals, 0);
}

static void
test_node_shard_start_refuses_unreadable_durable_objects(void **state)
{
	struct t_cluster *c = *state;
	struct t_node *n;
	const uint8_t junk[5] = {1, 2, 3, 4, 5};

	t_cluster_build(c);
	n = &c->nodes[0];
	assert_int_equal(t_put(n, NODE_SHARD_OBJ_HWM, junk, sizeof(junk), 0), 0);
	assert_int_equal(node_shard_start(n->shard, c->now), -EBADMSG);
	free(n->objects[0].data);
	n->objects[0].data = NULL;
	assert_int_equal(t_put(n, NODE_SHARD_OBJ_CKPT, junk, sizeof(junk), 0), 0);
	assert_int_equal(node_shard_start(n->shard, c->now), -EBADMSG);
	assert_int_equal(node_shard_next_slot(n->shard), 0);
}

static void
t_inject(struct t_cluster *c, uint32_t to, uint32_t from, const uint8_t *f, size_t size)
{
	struct t_node *src = &c->nodes[from];

	assert_int_equal(t_send(src, to, f, size), 0);
}

static void
test_node_shard_malformed_transfer_frames_are_counted_and_dropped(void **state)
{
	struct t_cluster *c = *state;
	const struct node_shard_stats *st;
	uint8_t f[64];
	uint64_t bad;
	uint64_t stale;

	t_cluster_build(c);
	for (uint32_t i = 0; i < T_NODES; i++) {
		t_start(c, i);
	}
	t_write(c, 4, 2, 50);
	st = node_shard_get_stats(c->nodes[0].shard);
	bad = st->bad_frames;
	stale = st->chunks_stale;
	memset(f, 0, sizeof(f));
	f[0] = NODE_SHARD_CH_SNAP_REQ; /* wrong size */
	t_inject(c, 0, 1, f, 10);
	f[0] = 99; /* unknown channel */
	t_inject(c, 0, 1, f, 10);
	f[0] = NODE_SHARD_CH_SNAP_REQ; /* offset not on a chunk boundary */
	base_store_le64(f + 17, 5);
	t_inject(c, 0, 1, f, 29);
	f[0] = NODE_SHARD_CH_SNAP_CHUNK; /* a chunk nobody asked for */
	t_inject(c, 0, 1, f, 60);
	t_inject(c, 0, 1, f, 0);
	t_step(c);
	assert_int_equal(st->bad_frames, bad + 4);
	assert_int_equal(st->chunks_stale, stale + 1);
	/* A good request is served: the peer gets chunks (and, not pulling, drops them). */
	memset(f, 0, sizeof(f));
	f[0] = NODE_SHARD_CH_SNAP_REQ;
	base_store_le64(f + 9, NODE_SHARD_SNAP_ANY);
	base_store_le32(f + 25, NODE_SHARD_CHUNK_SIZE);
	t_inject(c, 0, 1, f, 29);
	t_step(c);
	assert_int_equal(st->chunks_served, 1);
	assert_true(t_settle(c, 100 * MS));
	assert_digests_equal(c);
}

/* A chunk of snapshot (slot, total) at offset, as the pulling node's current server sends it. */
static void
t_chunk(struct t_cluster *c, uint32_t to, uint64_t slot, uint64_t total, uint64_t offset)
{
	const struct node_shard_pull *p = &c->nodes[to].shard->pull;
	uint8_t f[41 + NODE_SHARD_CHUNK_SIZE];
	size_t len =
		total - offset < NODE_SHARD_CHUNK_SIZE ? total - offset : NODE_SHARD_CHUNK_SIZE;

	memset(f, 0xab, sizeof(f));
	f[0] = NODE_SHARD_CH_SNAP_CHUNK;
	base_store_le64(f + 1, p->nonce);
	base_store_le64(f + 9, slot);
	base_store_le64(f + 17, total);
	base_store_le64(f + 25, 0x1234);
	base_store_le64(f + 33, offset);
	c->drop_chunks = 0;
	t_inject(c, to, p->peer, f, 41 + len);
	c->drop_chunks = 1;
	t_step(c);
}

/*
 * A pull follows the newest snapshot it is offered: chunks of an older one are ignored, a
 * chunk naming the same slot with another size is refused, a newer one starts the pull over.
 */
static void
test_node_shard_pull_follows_the_newest_snapshot(void **state)
{
	struct t_cluster *c = *state;
	const struct node_shard_stats *st;
	const struct node_shard_pull *p;
	uint64_t bad;

	t_cluster_build(c);
	t_start(c, 0);
	t_start(c, 1);
	t_write(c, 60, 4, 100);
	c->drop_chunks = 1;
	t_start(c, 2);
	t_run(c, 5 * MS);
	assert_true(node_shard_is_pulling(c->nodes[2].shard));
	p = &c->nodes[2].shard->pull;
	st = node_shard_get_stats(c->nodes[2].shard);
	t_chunk(c, 2, 5, 2 * NODE_SHARD_CHUNK_SIZE, NODE_SHARD_CHUNK_SIZE);
	assert_int_equal(p->has_snap, 1);
	assert_int_equal(p->slot, 5);
	assert_int_equal(p->base, 0);
	assert_true(p->mask == 2);
	t_chunk(c, 2, 4, 2 * NODE_SHARD_CHUNK_SIZE, 0); /* older */
	assert_int_equal(p->slot, 5);
	assert_int_equal(p->base, 0);
	bad = st->bad_frames;
	t_chunk(c, 2, 5, 3 * NODE_SHARD_CHUNK_SIZE, 0); /* same slot, another snapshot */
	assert_int_equal(st->bad_frames, bad + 1);
	assert_int_equal(p->base, 0);
	t_chunk(c, 2, 6, 3 * NODE_SHARD_CHUNK_SIZE, 0); /* newer: start over with it */
	assert_int_equal(st->transfer_restarts, 1);
	assert_int_equal(p->slot, 6);
	assert_int_equal(p->base, 1);
	assert_true(p->mask == 0);
	/* The real server's snapshot is newer still: the pull ends with it, and verified. */
	c->drop_chunks = 0;
	assert_true(t_settle(c, 500 * MS));
	assert_true(st->transfers_installed >= 1);
	assert_digests_equal(c);
}

static void
test_node_shard_notifications_reach_the_hook(void **state)
{
	struct t_cluster *c = *state;

	c->cfg.kv.notify_buffer_size = kv_store_notify_size_min(&c->cfg.kv);
	t_cluster_build(c);
	for (uint32_t i = 0; i < T_NODES; i++) {
		t_start(c, i);
	}
	t_write(c, 12, 3, 20);
	assert_true(t_settle(c, 100 * MS));
	/* Twelve puts and the leader's one write, on every replica. */
	for (uint32_t i = 0; i < T_NODES; i++) {
		assert_int_equal(c->nodes[i].notifications, 13);
	}
}

static void
test_node_shard_create_fault_loop_fails_cleanly(void **state)
{
	struct t_cluster *c = *state;
	struct node_shard *s = NULL;
	unsigned long n;
	int rc = -ENOMEM;
	long live;

	t_cluster_build(c); /* for an env table */
	live = base_alloc_live();
	for (n = 1; n < 10 && rc != 0; n++) {
		base_alloc_fail_at(n);
		rc = node_shard_create(&c->cfg, &c->nodes[0].ops, &c->hooks, &s);
		if (rc != 0) {
			assert_int_equal(rc, -ENOMEM);
			assert_true(base_alloc_injected());
			assert_int_equal(base_alloc_live(), live);
		}
	}
	base_alloc_fail_at(0);
	assert_int_equal(rc, 0);
	assert_true(n > 2);
	node_shard_destroy(s);
	assert_int_equal(base_alloc_live(), live);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_shard_config_check_rejects_bad_limits,
						setup, teardown),
		cmocka_unit_test(test_node_shard_snapshot_bound_holds_for_a_full_store),
		cmocka_unit_test_setup_teardown(
			test_node_shard_three_replicas_answer_clients_and_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_node_shard_submit_refuses_bad_requests_and_a_full_table, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_node_shard_state_transfer_moves_a_store_far_larger_than_512k, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_node_shard_restart_recovers_from_its_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_node_shard_full_cluster_restart_keeps_acknowledged_writes, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_node_shard_leader_moves_when_the_leader_stops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_node_shard_start_refuses_unreadable_durable_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_node_shard_malformed_transfer_frames_are_counted_and_dropped, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_node_shard_pull_follows_the_newest_snapshot,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_shard_notifications_reach_the_hook, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_node_shard_create_fault_loop_fails_cleanly,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
