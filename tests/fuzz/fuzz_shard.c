/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node-shard fuzz world (fuzz_shard.h): three in-memory envs on one clock, the check of
 * every datagram a shard sends, and the real run that gives fuzz_shard_start valid objects.
 */
#include "fuzz_shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "consensus/rabia_msg.h"

#define US UINT64_C(1000)
#define MS UINT64_C(1000000)

/* The transfer frames of node_shard.h (STATUS and EPOCH sizes are private to
 * node_shard_epoch.c and still changing: only checked to have a body). */
#define FUZZ_REQ_SIZE   29u
#define FUZZ_CHUNK_HEAD 41u

const uint64_t fuzz_shard_advance_ns[8] = {
	0, 10 * US, 100 * US, 1 * MS, 2 * MS, 5 * MS, 20 * MS, 100 * MS,
};

void
fuzz_shard_config(struct node_shard_config *cfg, uint32_t self_id,
		  enum node_shard_durability durability)
{
	memset(cfg, 0, sizeof(*cfg));
	rabia_cfg_defaults(&cfg->rabia);
	cfg->rabia.cluster_id = 77;
	cfg->rabia.coin_key = 0x5eed;
	cfg->rabia.self_id = self_id;
	cfg->rabia.member_count = FUZZ_SHARD_NODES;
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		cfg->rabia.members[i] = i;
	}
	cfg->rabia.batch_count_max = 8;
	cfg->rabia.request_bytes_max = 256;
	cfg->rabia.batch_bytes_max = 2048;
	cfg->rabia.pending_max = 24;
	cfg->rabia.batch_timeout_ns = 50 * US;
	cfg->rabia.rto_ns = 1 * MS;
	cfg->rabia.heartbeat_ns = 5 * MS;
	cfg->rabia.window_slots = 16;
	cfg->rabia.ahead_slots = 8;
	cfg->rabia.decided_ids_max = 64;
	cfg->rabia.phase_max = 16;
	cfg->rabia.hwm_step = 8;
	cfg->rabia.out_msgs_max = 64;
	cfg->rabia.out_bytes_max = 64 * 1024;
	cfg->rabia.out_decided_max = 4;
	cfg->kv.max_keys = 64;
	cfg->kv.max_key_size = 16;
	cfg->kv.max_value_size = 128;
	cfg->kv.data_budget_size = 32 * 1024;
	cfg->kv.max_clients = 16;
	cfg->kv.index_seed = 3;
	cfg->clients_max = 8;
	cfg->checkpoint_slots = 8;
	cfg->transfer_window_chunks = 4;
	cfg->transfer_retry_ns = 2 * MS;
	cfg->transfer_timeout_ns = 20 * MS;
	cfg->leader_timeout_ns = 20 * MS;
	cfg->durability = durability;
	cfg->log_buffer_bytes = (uint32_t)(4 * node_shard_log_buffer_min(cfg));
	cfg->status_interval_ns = 2 * MS;
	cfg->stall_timeout_ns = 20 * MS;
}

/* ---- the env ---- */

static uint64_t
fz_now(void *ctx)
{
	struct fuzz_shard_node *n = ctx;

	return n->w->now_ns;
}

static uint64_t
fz_seed(void *ctx)
{
	struct fuzz_shard_node *n = ctx;

	return 1000 + n->id;
}

/* What a shard may send: exactly the frames node_shard.h defines. */
static void
fz_check_frame(uint32_t from, uint32_t to, const uint8_t *data, size_t size)
{
	struct rabia_msg m;

	ASSERT(to < FUZZ_SHARD_NODES);
	ASSERT(to != from);
	ASSERT(size >= 1 && size <= ENV_MSG_MAX);
	switch (data[0]) {
	case NODE_SHARD_CH_RABIA:
		ASSERT(rabia_msg_decode(data + 1, size - 1, &m) == 0);
		ASSERT(m.sender == from);
		break;
	case NODE_SHARD_CH_SNAP_REQ:
		ASSERT(size == FUZZ_REQ_SIZE);
		break;
	case NODE_SHARD_CH_SNAP_CHUNK:
		ASSERT(size > FUZZ_CHUNK_HEAD);
		ASSERT(size - FUZZ_CHUNK_HEAD <= NODE_SHARD_CHUNK_SIZE);
		break;
	case NODE_SHARD_CH_STATUS:
	case NODE_SHARD_CH_EPOCH:
		ASSERT(size > 1);
		break;
	default:
		PANIC("node %u sent a frame on unknown channel %u", from, data[0]);
	}
}

static int
fz_send(void *ctx, uint32_t peer, const uint8_t *data, size_t size)
{
	struct fuzz_shard_node *n = ctx;
	struct fuzz_shard_world *w = n->w;

	fz_check_frame(n->id, peer, data, size);
	w->sent++;
	if (w->deliver && w->nodes[peer].is_up) {
		fuzz_shard_inbox_push(&w->nodes[peer], n->id, data, size);
	}
	return 0;
}

static int
fz_recv(void *ctx, uint32_t *peer, uint8_t *buf, size_t capacity, size_t *size)
{
	struct fuzz_shard_node *n = ctx;
	struct fuzz_shard_dgram *d;

	if (n->count == 0) {
		return -EAGAIN;
	}
	d = &n->inbox[n->head];
	n->head = (n->head + 1) % FUZZ_SHARD_INBOX;
	n->count--;
	if (d->size > capacity) {
		return -EMSGSIZE;
	}
	if (n->w->on_recv != NULL) {
		n->w->on_recv(n->w->on_recv_ctx, n->id, d->from, d->data, d->size);
	}
	memcpy(buf, d->data, d->size);
	*peer = d->from;
	*size = d->size;
	return 0;
}

static struct fuzz_shard_obj *
fz_object(struct fuzz_shard_node *n, const char *name, int create)
{
	for (uint32_t i = 0; i < FUZZ_SHARD_OBJECTS; i++) {
		if (n->objects[i].data != NULL && strcmp(n->objects[i].name, name) == 0) {
			return &n->objects[i];
		}
	}
	for (uint32_t i = 0; create && i < FUZZ_SHARD_OBJECTS; i++) {
		if (n->objects[i].data == NULL) {
			snprintf(n->objects[i].name, sizeof(n->objects[i].name), "%s", name);
			n->objects[i].data = malloc(1);
			ASSERT(n->objects[i].data != NULL);
			n->objects[i].size = 0;
			return &n->objects[i];
		}
	}
	ASSERT(!create); /* the shard uses four names */
	return NULL;
}

static int
fz_done(struct fuzz_shard_node *n, uint64_t token, enum env_storage_op op, int status)
{
	if (n->done_count == FUZZ_SHARD_DONE) {
		return -ENOBUFS;
	}
	n->done[n->done_count++] = (struct env_storage_completion){token, op, status};
	return 0;
}

/* Replaces o's contents with data[0, size) followed by nothing. */
static void
fz_object_write(struct fuzz_shard_obj *o, size_t keep, const uint8_t *data, size_t size)
{
	uint8_t *grown = realloc(o->data, keep + size + 1);

	ASSERT(grown != NULL);
	if (size > 0) {
		memcpy(grown + keep, data, size);
	}
	o->data = grown;
	o->size = keep + size;
}

static int
fz_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct fuzz_shard_node *n = ctx;

	if (env_storage_name_check(name) != 0) {
		return -EINVAL;
	}
	if (n->done_count == FUZZ_SHARD_DONE) {
		return -ENOBUFS;
	}
	if (!n->fail_storage) {
		fz_object_write(fz_object(n, name, 1), 0, data, size);
	}
	return fz_done(n, token, ENV_STORAGE_PUT, n->fail_storage ? -EIO : 0);
}

static int
fz_append(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct fuzz_shard_node *n = ctx;
	struct fuzz_shard_obj *o;

	if (env_storage_name_check(name) != 0) {
		return -EINVAL;
	}
	if (n->done_count == FUZZ_SHARD_DONE) {
		return -ENOBUFS;
	}
	o = fz_object(n, name, 1);
	/* A failed append may leave any prefix (env.h): half of it. */
	fz_object_write(o, o->size, data, n->fail_storage ? size / 2 : size);
	return fz_done(n, token, ENV_STORAGE_APPEND, n->fail_storage ? -EIO : 0);
}

static int
fz_sync(void *ctx, const char *name, uint64_t token)
{
	struct fuzz_shard_node *n = ctx;
	int status = fz_object(n, name, 0) != NULL ? 0 : -ENOENT;

	if (env_storage_name_check(name) != 0) {
		return -EINVAL;
	}
	return fz_done(n, token, ENV_STORAGE_SYNC, n->fail_storage ? -EIO : status);
}

static size_t
fz_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	struct fuzz_shard_node *n = ctx;
	size_t count = n->done_count < capacity ? n->done_count : capacity;

	memcpy(out, n->done, count * sizeof(*out));
	memmove(n->done, n->done + count, (n->done_count - count) * sizeof(*out));
	n->done_count -= count;
	return count;
}

static int
fz_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	struct fuzz_shard_node *n = ctx;
	const struct fuzz_shard_obj *o;

	if (env_storage_name_check(name) != 0) {
		return -EINVAL;
	}
	o = fz_object(n, name, 0);
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

/* ---- the world ---- */

static void
fz_node_init(struct fuzz_shard_world *w, uint32_t id)
{
	struct fuzz_shard_node *n = &w->nodes[id];

	n->w = w;
	n->id = id;
	n->ops = (struct env_ops){
		.version = ENV_OPS_VERSION,
		.size = sizeof(struct env_ops),
		.ctx = n,
		.now_ns = fz_now,
		.seed = fz_seed,
		.send = fz_send,
		.recv = fz_recv,
		.storage_put = fz_put,
		.storage_sync = fz_sync,
		.storage_poll = fz_poll,
		.storage_load = fz_load,
		.storage_append = fz_append,
	};
}

struct fuzz_shard_world *
fuzz_shard_world_create(enum node_shard_durability durability, uint32_t shard_mask)
{
	struct fuzz_shard_world *w = calloc(1, sizeof(*w));

	ASSERT(w != NULL);
	w->now_ns = FUZZ_SHARD_T0_NS;
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		struct node_shard_config cfg;

		fz_node_init(w, i);
		if ((shard_mask & (1u << i)) == 0) {
			continue;
		}
		fuzz_shard_config(&cfg, i, durability);
		ASSERT(node_shard_create(&cfg, &w->nodes[i].ops, &w->hooks, &w->nodes[i].shard) ==
		       0);
	}
	return w;
}

void
fuzz_shard_node_wipe(struct fuzz_shard_node *n)
{
	for (uint32_t i = 0; i < FUZZ_SHARD_OBJECTS; i++) {
		free(n->objects[i].data);
		n->objects[i].data = NULL;
		n->objects[i].size = 0;
	}
	n->head = 0;
	n->count = 0;
	n->done_count = 0;
	n->fail_storage = 0;
}

void
fuzz_shard_world_destroy(struct fuzz_shard_world *w)
{
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		node_shard_destroy(w->nodes[i].shard);
		fuzz_shard_node_wipe(&w->nodes[i]);
	}
	free(w);
}

void
fuzz_shard_node_crash(struct fuzz_shard_node *n)
{
	if (n->shard != NULL) {
		node_shard_stop(n->shard);
	}
	n->is_up = 0;
	n->head = 0;
	n->count = 0;
	n->done_count = 0;
	n->fail_storage = 0;
}

int
fuzz_shard_node_start(struct fuzz_shard_node *n)
{
	int rc;

	ASSERT(n->shard != NULL);
	ASSERT(!n->is_up);
	rc = node_shard_start(n->shard, n->w->now_ns);
	n->is_up = rc == 0;
	return rc;
}

const struct fuzz_shard_obj *
fuzz_shard_obj_get(const struct fuzz_shard_node *n, const char *name)
{
	return fz_object((struct fuzz_shard_node *)(uintptr_t)n, name, 0);
}

void
fuzz_shard_obj_set(struct fuzz_shard_node *n, const char *name, const uint8_t *data, size_t size)
{
	fz_object_write(fz_object(n, name, 1), 0, data, size);
}

void
fuzz_shard_obj_delete(struct fuzz_shard_node *n, const char *name)
{
	struct fuzz_shard_obj *o = fz_object(n, name, 0);

	if (o != NULL) {
		free(o->data);
		o->data = NULL;
		o->size = 0;
	}
}

void
fuzz_shard_inbox_push(struct fuzz_shard_node *n, uint32_t from, const uint8_t *data, size_t size)
{
	struct fuzz_shard_dgram *d;

	ASSERT(size <= ENV_MSG_MAX);
	if (n->count == FUZZ_SHARD_INBOX) {
		return; /* lost on the way: fair-loss */
	}
	d = &n->inbox[(n->head + n->count) % FUZZ_SHARD_INBOX];
	d->from = from;
	d->size = (uint32_t)size;
	if (size > 0) {
		memcpy(d->data, data, size);
	}
	n->count++;
}

void
fuzz_shard_world_poll(struct fuzz_shard_world *w)
{
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		if (w->nodes[i].is_up) {
			(void)node_shard_poll(w->nodes[i].shard, w->now_ns);
		}
	}
}

int
fuzz_shard_put(struct fuzz_shard_node *n, uint64_t client_id, uint64_t seq, uint32_t key,
	       size_t value_size)
{
	char k[16];
	uint8_t value[128];
	uint8_t body[256];
	struct kv_cmd cmd;
	size_t size;

	ASSERT(value_size <= sizeof(value));
	snprintf(k, sizeof(k), "k%u", key);
	for (size_t i = 0; i < value_size; i++) {
		value[i] = (uint8_t)(seq * 31 + i);
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.type = KV_CMD_PUT;
	cmd.op_count = 1;
	cmd.ops[0].type = KV_CMD_PUT;
	cmd.ops[0].key = (const uint8_t *)k;
	cmd.ops[0].key_size = strlen(k);
	cmd.ops[0].value = value;
	cmd.ops[0].value_size = value_size;
	ASSERT(kv_cmd_encode(&cmd, body, sizeof(body), &size) == 0);
	return node_shard_submit(n->shard, client_id, seq, body, size);
}

/* Runs the up shards for ns, one client PUT every put_every_ns from node (seq % 3). */
static void
fz_run(struct fuzz_shard_world *w, uint64_t ns, uint64_t put_every_ns, uint64_t *seq)
{
	for (uint64_t end = w->now_ns + ns; w->now_ns < end; w->now_ns += 100 * US) {
		if (put_every_ns != 0 && w->now_ns % put_every_ns == 0) {
			struct fuzz_shard_node *n = &w->nodes[*seq % FUZZ_SHARD_NODES];

			if (n->is_up) {
				(void)fuzz_shard_put(n, 100 + *seq % 4, *seq, (uint32_t)(*seq % 5),
						     8 + *seq % 64);
			}
			(*seq)++;
		}
		fuzz_shard_world_poll(w);
	}
}

void
fuzz_shard_real_run(struct fuzz_shard_world *w)
{
	const char *names[] = {NODE_SHARD_OBJ_HWM, NODE_SHARD_OBJ_CKPT, NODE_SHARD_OBJ_LOG,
			       NODE_SHARD_OBJ_EPOCH};
	uint64_t t = w->now_ns;
	uint64_t seq = 1;

	w->deliver = 1;
	w->now_ns = FUZZ_SHARD_T0_NS - 300 * MS;
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		fuzz_shard_node_wipe(&w->nodes[i]);
		ASSERT(fuzz_shard_node_start(&w->nodes[i]) == 0);
	}
	fz_run(w, 40 * MS, 1 * MS, &seq);
	/* More than f crash at once: they restart passive and change epoch. */
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		fuzz_shard_node_crash(&w->nodes[i]);
		ASSERT(fuzz_shard_node_start(&w->nodes[i]) == 0);
	}
	fz_run(w, 150 * MS, 0, &seq);
	/* A few slots past the last checkpoint, so the log holds records. */
	fz_run(w, 5 * MS, 1 * MS, &seq);
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		fuzz_shard_node_crash(&w->nodes[i]);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct fuzz_shard_obj *o =
			fuzz_shard_obj_get(&w->nodes[FUZZ_SHARD_SELF], names[i]);

		ASSERT(o != NULL && o->size > 0);
	}
	w->deliver = 0;
	w->now_ns = t;
}
