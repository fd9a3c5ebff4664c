/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/env_sim.h"

#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"
#include "sim_int.h"

static void
env_sim_layout(struct env_sim *e, struct sim_carve *c, const struct env_sim_config *cfg)
{
	struct env_sim_object *objects =
		sim_carve_array(c, cfg->objects_max, sizeof(struct env_sim_object));
	struct env_sim_op *pending =
		sim_carve_array(c, cfg->storage_ops_max, sizeof(struct env_sim_op));
	struct env_sim_op *done =
		sim_carve_array(c, cfg->storage_ops_max, sizeof(struct env_sim_op));

	for (uint32_t i = 0; i < cfg->objects_max; i++) {
		uint8_t *current = sim_carve(c, cfg->object_size_max);
		uint8_t *durable = sim_carve(c, cfg->object_size_max);

		if (e != NULL) {
			objects[i].current = current;
			objects[i].durable = durable;
		}
	}
	if (e != NULL) {
		e->objects = objects;
		e->pending = pending;
		e->done = done;
	}
}

size_t
env_sim_size(const struct env_sim_config *cfg)
{
	struct sim_carve c = {NULL, 0};

	ASSERT(cfg != NULL);
	ASSERT(cfg->objects_max > 0);
	ASSERT(cfg->object_size_max > 0 && cfg->object_size_max <= ENV_STORAGE_OBJECT_MAX);
	ASSERT(base_is_pow2(cfg->storage_ops_max));
	ASSERT(cfg->put_ns_min <= cfg->put_ns_max);
	ASSERT(cfg->sync_ns_min <= cfg->sync_ns_max);
	env_sim_layout(NULL, &c, cfg);
	return sim_carve_size(&c);
}

static struct env_sim *
env_of(void *ctx)
{
	ASSERT(ctx != NULL);
	return ctx;
}

static uint64_t
env_sim_now_ns(void *ctx)
{
	return sim_queue_now(env_of(ctx)->queue);
}

static uint64_t
env_sim_seed(void *ctx)
{
	struct env_sim *e = env_of(ctx);
	uint64_t words[3] = {e->run_seed, e->node, e->incarnation};

	return base_hash64(words, sizeof(words), 0x656e765f73696d00ULL);
}

static int
env_sim_send(void *ctx, uint32_t peer_id, const uint8_t *data, size_t size)
{
	struct env_sim *e = env_of(ctx);

	return sim_net_send(e->net, e->node, peer_id, data, size);
}

static int
env_sim_recv(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size)
{
	struct env_sim *e = env_of(ctx);

	return sim_net_recv(e->net, e->node, peer_id, buf, capacity, size);
}

/* Index of the object called name, or -ENOENT. */
static int
env_sim_find(const struct env_sim *e, const char *name)
{
	for (uint32_t i = 0; i < e->cfg.objects_max; i++) {
		const struct env_sim_object *o = &e->objects[i];

		if (o->is_used && strcmp(o->name, name) == 0) {
			return (int)i;
		}
	}
	return -ENOENT;
}

/* Index of the object called name, creating it; -ENOSPC when every object is in use. */
static int
env_sim_find_or_add(struct env_sim *e, const char *name)
{
	int found = env_sim_find(e, name);

	if (found >= 0) {
		return found;
	}
	for (uint32_t i = 0; i < e->cfg.objects_max; i++) {
		struct env_sim_object *o = &e->objects[i];

		if (!o->is_used) {
			memset(o->name, 0, sizeof(o->name));
			memcpy(o->name, name, strlen(name));
			o->is_used = 1;
			o->has_current = 0;
			o->has_durable = 0;
			o->is_dirty = 0;
			return (int)i;
		}
	}
	return -ENOSPC;
}

/* Queues a storage operation behind the node's earlier ones (one FIFO device queue). */
static int
env_sim_enqueue(struct env_sim *e, uint32_t op, uint32_t object_index, uint64_t token)
{
	uint32_t mask = e->cfg.storage_ops_max - 1;
	uint64_t lo = op == ENV_STORAGE_PUT ? e->cfg.put_ns_min : e->cfg.sync_ns_min;
	uint64_t hi = op == ENV_STORAGE_PUT ? e->cfg.put_ns_max : e->cfg.sync_ns_max;
	uint64_t now = sim_queue_now(e->queue);
	struct env_sim_op *slot;
	int rc;

	if (e->pending_count + e->done_count >= e->cfg.storage_ops_max) {
		return -ENOBUFS;
	}
	slot = &e->pending[(e->pending_head + e->pending_count) & mask];
	slot->token = token;
	slot->op = op;
	slot->object_index = object_index;
	slot->status = 0;
	e->pending_count++;
	e->busy_until_ns = (e->busy_until_ns > now ? e->busy_until_ns : now) +
			   base_prng_range(e->prng, lo, hi);
	rc = sim_queue_push(e->queue, e->busy_until_ns, SIM_EV_STORAGE_DONE, e->node, 0,
			    e->incarnation);
	ASSERT(rc == 0); /* the queue is sized for every node's storage queue */
	return 0;
}

static int
env_sim_storage_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct env_sim *e = env_of(ctx);
	struct env_sim_object *o;
	int index;
	int rc;

	if (env_storage_name_check(name) != 0 || (data == NULL && size > 0)) {
		return -EINVAL;
	}
	if (size > e->cfg.object_size_max) {
		return -EFBIG;
	}
	index = env_sim_find_or_add(e, name);
	if (index < 0) {
		return index;
	}
	rc = env_sim_enqueue(e, ENV_STORAGE_PUT, (uint32_t)index, token);
	if (rc != 0) {
		return rc;
	}
	o = &e->objects[index];
	if (size > 0) {
		memcpy(o->current, data, size);
	}
	o->current_size = (uint32_t)size;
	o->has_current = 1;
	o->is_dirty = 1;
	e->stats.put_count++;
	return 0;
}

static int
env_sim_storage_sync(void *ctx, const char *name, uint64_t token)
{
	struct env_sim *e = env_of(ctx);
	int index;

	if (env_storage_name_check(name) != 0) {
		return -EINVAL;
	}
	index = env_sim_find(e, name);
	if (index < 0) {
		return index;
	}
	e->stats.sync_count++;
	return env_sim_enqueue(e, ENV_STORAGE_SYNC, (uint32_t)index, token);
}

static size_t
env_sim_storage_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	struct env_sim *e = env_of(ctx);
	size_t n = base_min_size(capacity, e->done_count);

	ASSERT(out != NULL || capacity == 0);
	for (size_t i = 0; i < n; i++) {
		out[i].token = e->done[i].token;
		out[i].op = (enum env_storage_op)e->done[i].op;
		out[i].status = e->done[i].status;
	}
	memmove(e->done, e->done + n, (e->done_count - n) * sizeof(e->done[0]));
	e->done_count -= (uint32_t)n;
	return n;
}

static int
env_sim_storage_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	struct env_sim *e = env_of(ctx);
	const struct env_sim_object *o;
	int index;

	if (env_storage_name_check(name) != 0 || size == NULL) {
		return -EINVAL;
	}
	index = env_sim_find(e, name);
	if (index < 0 || !e->objects[index].has_current) {
		return -ENOENT;
	}
	o = &e->objects[index];
	if (o->current_size > capacity) {
		return -EFBIG;
	}
	if (o->current_size > 0) {
		memcpy(buf, o->current, o->current_size);
	}
	*size = o->current_size;
	return 0;
}

void
env_sim_init(struct env_sim *e, void *memory, const struct env_sim_config *cfg, uint32_t node,
	     struct sim_net *net, struct sim_queue *queue, struct base_prng *prng,
	     const struct base_log *log)
{
	struct sim_carve c = {memory, 0};

	ASSERT(e != NULL && memory != NULL);
	ASSERT(net != NULL && queue != NULL && prng != NULL && log != NULL);
	ASSERT(node < net->cfg.node_count);
	memset(e, 0, sizeof(*e));
	(void)env_sim_size(cfg);
	e->cfg = *cfg;
	e->node = node;
	e->net = net;
	e->queue = queue;
	e->prng = prng;
	env_sim_layout(e, &c, cfg);
	e->ops.version = ENV_OPS_VERSION;
	e->ops.size = sizeof(struct env_ops);
	e->ops.ctx = e;
	e->ops.now_ns = env_sim_now_ns;
	e->ops.seed = env_sim_seed;
	e->ops.send = env_sim_send;
	e->ops.recv = env_sim_recv;
	e->ops.storage_put = env_sim_storage_put;
	e->ops.storage_sync = env_sim_storage_sync;
	e->ops.storage_poll = env_sim_storage_poll;
	e->ops.storage_load = env_sim_storage_load;
	e->ops.log = *log;
	env_ops_assert_valid(&e->ops);
	env_sim_reset(e, 0);
}

void
env_sim_reset(struct env_sim *e, uint64_t run_seed)
{
	ASSERT(e != NULL);
	for (uint32_t i = 0; i < e->cfg.objects_max; i++) {
		e->objects[i].is_used = 0;
	}
	memset(&e->stats, 0, sizeof(e->stats));
	e->run_seed = run_seed;
	e->incarnation = 0;
	e->busy_until_ns = 0;
	e->pending_head = 0;
	e->pending_count = 0;
	e->done_count = 0;
}

/* Rolls one object back to its durable contents, or keeps it, by a seeded draw. */
static void
env_sim_crash_object(struct env_sim *e, struct env_sim_object *o)
{
	if (!o->is_used || !o->is_dirty) {
		return;
	}
	if (base_prng_chance(e->prng, e->cfg.keep_unsynced_ppm)) {
		return; /* the page cache happened to reach the disk */
	}
	e->stats.lost_object_count++;
	if (!o->has_durable) {
		o->is_used = 0;
		return;
	}
	memcpy(o->current, o->durable, o->durable_size);
	o->current_size = o->durable_size;
	o->is_dirty = 0;
}

void
env_sim_crash(struct env_sim *e)
{
	ASSERT(e != NULL);
	for (uint32_t i = 0; i < e->cfg.objects_max; i++) {
		env_sim_crash_object(e, &e->objects[i]);
	}
	e->stats.crash_count++;
	e->incarnation++;
	e->pending_head = 0;
	e->pending_count = 0;
	e->done_count = 0;
	e->busy_until_ns = 0;
}

static void
env_sim_complete_sync(struct env_sim_object *o)
{
	if (!o->is_used || !o->has_current) {
		return;
	}
	memcpy(o->durable, o->current, o->current_size);
	o->durable_size = o->current_size;
	o->has_durable = 1;
	o->is_dirty = 0;
}

int
env_sim_on_storage_done(struct env_sim *e, uint64_t incarnation)
{
	uint32_t mask;
	struct env_sim_op op;

	ASSERT(e != NULL);
	if (incarnation != e->incarnation) {
		return 0;
	}
	ASSERT(e->pending_count > 0);
	mask = e->cfg.storage_ops_max - 1;
	op = e->pending[e->pending_head];
	e->pending_head = (e->pending_head + 1) & mask;
	e->pending_count--;
	if (op.op == ENV_STORAGE_SYNC) {
		env_sim_complete_sync(&e->objects[op.object_index]);
	}
	ASSERT(e->done_count < e->cfg.storage_ops_max);
	e->done[e->done_count++] = op;
	return 1;
}

int
env_sim_durable(const struct env_sim *e, const char *name, const uint8_t **data, size_t *size)
{
	int index;

	ASSERT(e != NULL && data != NULL && size != NULL);
	index = env_sim_find(e, name);
	if (index < 0 || !e->objects[index].has_durable) {
		return -ENOENT;
	}
	*data = e->objects[index].durable;
	*size = e->objects[index].durable_size;
	return 0;
}
