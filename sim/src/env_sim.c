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
	struct env_sim *e = env_of(ctx);

	return env_sim_local_ns(e, sim_queue_now(e->queue));
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
			o->is_prefix = 1;
			o->current_size = 0;
			o->durable_size = 0;
			o->put_gen = 0;
			o->mark_count = 0;
			return (int)i;
		}
	}
	return -ENOSPC;
}

/* 1 when the node's FIFO (pending operations and unpolled completions) has room for one more. */
static int
env_sim_has_room(const struct env_sim *e)
{
	return e->pending_count + e->done_count < e->cfg.storage_ops_max;
}

/* The outcome of the operation being accepted: -EIO by the storage-fail fault, else 0. */
static int
env_sim_draw_status(struct env_sim *e)
{
	/* No draw while the fault is off: runs without it keep their sequence of draws. */
	if (e->fail_ppm == 0 || !base_prng_chance(e->prng, e->fail_ppm)) {
		return 0;
	}
	e->stats.failed_count++;
	return -EIO;
}

/* Queues an accepted operation behind the node's earlier ones (one FIFO device queue). */
static void
env_sim_enqueue(struct env_sim *e, const struct env_sim_op *op)
{
	uint32_t mask = e->cfg.storage_ops_max - 1;
	int is_sync = op->op == ENV_STORAGE_SYNC;
	uint64_t lo = is_sync ? e->cfg.sync_ns_min : e->cfg.put_ns_min;
	uint64_t hi = is_sync ? e->cfg.sync_ns_max : e->cfg.put_ns_max;
	uint64_t now = sim_queue_now(e->queue);
	int rc;

	ASSERT(env_sim_has_room(e));
	ASSERT(op->object_index < e->cfg.objects_max);
	e->pending[(e->pending_head + e->pending_count) & mask] = *op;
	e->pending_count++;
	e->busy_until_ns = (e->busy_until_ns > now ? e->busy_until_ns : now) +
			   base_prng_range(e->prng, lo, hi);
	rc = sim_queue_push(e->queue, e->busy_until_ns, SIM_EV_STORAGE_DONE, e->node, 0,
			    e->incarnation);
	ASSERT(rc == 0); /* the queue is sized for every node's storage queue */
}

static void
env_sim_apply_put(struct env_sim_object *o, const uint8_t *data, size_t size)
{
	if (size > 0) {
		memcpy(o->current, data, size);
	}
	o->current_size = (uint32_t)size;
	o->has_current = 1;
	o->is_dirty = 1;
	o->is_prefix = 0;
	o->put_gen++;
	o->mark_count = 0;
}

static int
env_sim_storage_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct env_sim *e = env_of(ctx);
	struct env_sim_op op = {.token = token, .op = ENV_STORAGE_PUT};
	int index;

	if (env_storage_name_check(name) != 0 || (data == NULL && size > 0)) {
		return -EINVAL;
	}
	if (size > e->cfg.object_size_max) {
		return -EFBIG;
	}
	if (!env_sim_has_room(e)) {
		return -ENOBUFS;
	}
	index = env_sim_find_or_add(e, name);
	if (index < 0) {
		return index;
	}
	op.object_index = (uint32_t)index;
	op.status = env_sim_draw_status(e);
	/* A failed put is an atomic replace that failed before or after it took effect. */
	if (op.status == 0 || base_prng_chance(e->prng, 500000)) {
		env_sim_apply_put(&e->objects[index], data, size);
	}
	env_sim_enqueue(e, &op);
	e->stats.put_count++;
	return 0;
}

/* Appends data to current and remembers where it ends (a record boundary for torn tails). */
static void
env_sim_apply_append(struct env_sim_object *o, const uint8_t *data, size_t size)
{
	if (!o->has_current) {
		/* Created empty: nothing of it is durable yet, so the durable image is empty. */
		o->has_current = 1;
		o->current_size = 0;
		o->is_dirty = 1;
		o->is_prefix = 1;
	}
	if (size == 0) {
		return;
	}
	memcpy(o->current + o->current_size, data, size);
	o->current_size += (uint32_t)size;
	o->is_dirty = 1;
	if (o->mark_count == ENV_SIM_MARKS_MAX) {
		memmove(o->marks, o->marks + 1, (ENV_SIM_MARKS_MAX - 1) * sizeof(o->marks[0]));
		o->mark_count--;
	}
	o->marks[o->mark_count++] = o->current_size;
}

static int
env_sim_storage_append(void *ctx, const char *name, const uint8_t *data, size_t size,
		       uint64_t token)
{
	struct env_sim *e = env_of(ctx);
	struct env_sim_op op = {.token = token, .op = ENV_STORAGE_APPEND};
	int index;
	size_t have;
	size_t written = size;

	if (env_storage_name_check(name) != 0 || (data == NULL && size > 0)) {
		return -EINVAL;
	}
	index = env_sim_find(e, name);
	have = index >= 0 && e->objects[index].has_current ? e->objects[index].current_size : 0;
	if (size > e->cfg.object_size_max - have) {
		return -EFBIG;
	}
	if (!env_sim_has_room(e)) {
		return -ENOBUFS;
	}
	index = env_sim_find_or_add(e, name);
	if (index < 0) {
		return index;
	}
	op.object_index = (uint32_t)index;
	op.status = env_sim_draw_status(e);
	if (op.status != 0) {
		written = (size_t)base_prng_range(e->prng, 0, size); /* env.h: any prefix */
	}
	env_sim_apply_append(&e->objects[index], data, written);
	env_sim_enqueue(e, &op);
	e->stats.append_count++;
	return 0;
}

static int
env_sim_storage_sync(void *ctx, const char *name, uint64_t token)
{
	struct env_sim *e = env_of(ctx);
	struct env_sim_op op = {.token = token, .op = ENV_STORAGE_SYNC};
	int index;

	if (env_storage_name_check(name) != 0) {
		return -EINVAL;
	}
	index = env_sim_find(e, name);
	if (index < 0 || !e->objects[index].has_current) {
		return -ENOENT;
	}
	if (!env_sim_has_room(e)) {
		return -ENOBUFS;
	}
	/* What the sync covers: the object as it is now (env.h), checked at completion. */
	op.object_index = (uint32_t)index;
	op.size_at = e->objects[index].current_size;
	op.put_gen_at = e->objects[index].put_gen;
	op.status = env_sim_draw_status(e);
	env_sim_enqueue(e, &op);
	e->stats.sync_count++;
	return 0;
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
	e->ops.storage_append = env_sim_storage_append;
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
	e->fail_ppm = 0;
	e->drift_ppm = 0;
	e->offset_ns = 0;
}

/* Forgets the append ends at or below size: they are inside the durable image now. */
static void
env_sim_marks_drop(struct env_sim_object *o, uint32_t size)
{
	uint32_t keep = 0;

	for (uint32_t i = 0; i < o->mark_count; i++) {
		if (o->marks[i] > size) {
			o->marks[keep++] = o->marks[i];
		}
	}
	o->mark_count = keep;
}

/*
 * How many bytes of current an object keeps in a crash (a prefix of current), or UINT32_MAX
 * when it rolls back to its durable image.
 */
static uint32_t
env_sim_crash_keep(struct env_sim *e, const struct env_sim_object *o)
{
	uint32_t base = o->durable_size;

	if (base_prng_chance(e->prng, e->cfg.keep_unsynced_ppm)) {
		return o->current_size; /* the page cache happened to reach the disk */
	}
	if (!o->is_prefix) {
		return UINT32_MAX; /* a put since the durable image: no tail to tear */
	}
	ASSERT(base <= o->current_size);
	switch (base_prng_below(e->prng, 4)) {
	case 0:
		return base;
	case 1:
		return o->current_size;
	case 2:
		/* Whole records: up to the end of one of the appends. */
		if (o->mark_count == 0) {
			return o->current_size;
		}
		return o->marks[base_prng_below(e->prng, o->mark_count)];
	default:
		/* Any byte: usually inside a record, which its checksum must reveal. */
		return (uint32_t)base_prng_range(e->prng, base, o->current_size);
	}
}

/* Applies the crash model to one object; what it keeps becomes its durable image. */
static void
env_sim_crash_object(struct env_sim *e, struct env_sim_object *o)
{
	uint32_t keep;
	int is_lost = 0;

	if (!o->is_used || !o->is_dirty) {
		return;
	}
	keep = env_sim_crash_keep(e, o);
	if (keep == UINT32_MAX) {
		keep = o->durable_size;
		memcpy(o->current, o->durable, keep);
		is_lost = 1;
	} else if (keep < o->current_size) {
		ASSERT(o->is_prefix && keep >= o->durable_size);
		if (keep > o->durable_size) {
			e->stats.torn_tail_count++;
		}
		is_lost = 1;
	}
	e->stats.lost_object_count += (uint64_t)is_lost;
	if (is_lost && !o->has_durable && keep == 0) {
		o->is_used = 0; /* never durable and nothing reached the disk */
		return;
	}
	o->current_size = keep;
	memcpy(o->durable, o->current, keep);
	o->durable_size = keep;
	o->has_durable = 1;
	o->is_dirty = 0;
	o->is_prefix = 1;
	o->mark_count = 0;
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

/*
 * A sync completed: the contents the object had at the sync call become durable. A put since
 * the call overwrote them, so the current contents are made durable instead (more than
 * promised, which env.h allows).
 */
static void
env_sim_complete_sync(struct env_sim_object *o, const struct env_sim_op *op)
{
	uint32_t size = o->put_gen == op->put_gen_at ? op->size_at : o->current_size;

	if (!o->is_used || !o->has_current || op->status != 0) {
		return;
	}
	ASSERT(size <= o->current_size);
	if (o->is_prefix && o->has_durable && size <= o->durable_size) {
		return; /* an earlier sync already made more durable; never shrink the image */
	}
	if (o->is_prefix && o->has_durable) {
		memcpy(o->durable + o->durable_size, o->current + o->durable_size,
		       size - o->durable_size);
	} else {
		memcpy(o->durable, o->current, size);
	}
	o->durable_size = size;
	o->has_durable = 1;
	o->is_prefix = 1;
	o->is_dirty = size != o->current_size;
	env_sim_marks_drop(o, size);
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
		env_sim_complete_sync(&e->objects[op.object_index], &op);
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

void
env_sim_set_storage_fail(struct env_sim *e, uint32_t fail_ppm)
{
	ASSERT(e != NULL);
	ASSERT(fail_ppm <= 1000000);
	e->fail_ppm = fail_ppm;
}

void
env_sim_set_clock(struct env_sim *e, uint64_t offset_ns, int32_t drift_ppm)
{
	ASSERT(e != NULL);
	ASSERT(drift_ppm >= -ENV_SIM_DRIFT_PPM_MAX && drift_ppm <= ENV_SIM_DRIFT_PPM_MAX);
	ASSERT(offset_ns <= UINT64_MAX / 2);
	e->offset_ns = offset_ns;
	e->drift_ppm = drift_ppm;
}

#define PPM UINT64_C(1000000)

/* The clock's rate in parts per million of the simulator's (1e6: no drift). */
static uint64_t
env_sim_rate(const struct env_sim *e)
{
	return (uint64_t)((int64_t)PPM + e->drift_ppm);
}

uint64_t
env_sim_local_ns(const struct env_sim *e, uint64_t sim_ns)
{
	uint64_t rate;
	uint64_t q = sim_ns / PPM;
	uint64_t r = sim_ns % PPM;

	ASSERT(e != NULL);
	rate = env_sim_rate(e);
	/* floor(sim_ns * rate / 1e6), split so that no product overflows. */
	if (q > (UINT64_MAX - 2 * PPM - e->offset_ns) / rate) {
		return UINT64_MAX;
	}
	return e->offset_ns + q * rate + r * rate / PPM;
}

uint64_t
env_sim_sim_ns(const struct env_sim *e, uint64_t local_ns)
{
	uint64_t rate;
	uint64_t d;

	ASSERT(e != NULL);
	rate = env_sim_rate(e);
	if (local_ns <= e->offset_ns) {
		return 0;
	}
	/* The least t with floor(t * rate / 1e6) >= d is ceil(d * 1e6 / rate); d = a*rate + b. */
	d = local_ns - e->offset_ns;
	if (d / rate > (UINT64_MAX - PPM) / PPM) {
		return UINT64_MAX;
	}
	return d / rate * PPM + ((d % rate) * PPM + rate - 1) / rate;
}
