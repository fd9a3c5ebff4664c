/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shard's layout, lifecycle, poll loop and queries (node_shard.h). The work itself lives in
 * node_shard_apply.c, node_shard_store.c and node_shard_xfer.c (node_shard_int.h).
 */
#include "node/node_shard.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "node_shard_int.h"

static_assert(RABIA_MSG_MAX + 1 <= ENV_MSG_MAX, "a Rabia message plus the channel byte fits");
static_assert(SHARD_CHUNK_HEAD + NODE_SHARD_CHUNK_SIZE <= ENV_MSG_MAX, "a chunk fits");
static_assert(RABIA_BATCH_COUNT_MAX < (1u << 16), "a slot's positions fit 16 bits of a log index");
static_assert(NODE_LEADER_MEMBERS_MAX == RABIA_NODES_MAX, "the leader tracks every member");

/* The kv_store.h snapshot layout, per part (kv_snapshot.c holds the same constants). */
#define SNAP_BODY_HEAD_SIZE  16u /* applied_index, entry_count, client_count */
#define SNAP_ENTRY_OVERHEAD  16u /* two length prefixes and mod_index */
#define SNAP_CLIENT_OVERHEAD 28u /* id, highest seq, last index, result length prefix */

size_t
node_shard_snapshot_size_max(const struct kv_store_config *kv)
{
	ASSERT(kv != NULL);
	ASSERT(kv_store_config_check(kv) == 0);
	/* The limits of kv_store.h keep every term far below 2^64. */
	return KV_SNAPSHOT_HEADER_SIZE + SNAP_BODY_HEAD_SIZE + kv->max_keys * SNAP_ENTRY_OVERHEAD +
	       kv->data_budget_size +
	       kv->max_clients *
		       (SNAP_CLIENT_OVERHEAD + KV_RESULT_HEADER_SIZE + kv->max_value_size);
}

static int
shard_leader_config_ok(const struct node_shard_config *cfg)
{
	/* The proposal (a CAS of "leader") must fit every limit it passes through. */
	return cfg->kv.max_key_size >= sizeof("leader") - 1 &&
	       cfg->kv.max_value_size >= NODE_LEADER_VALUE_SIZE &&
	       cfg->rabia.request_bytes_max >= NODE_LEADER_CMD_MAX;
}

int
node_shard_config_check(const struct node_shard_config *cfg)
{
	ASSERT(cfg != NULL);
	if (rabia_cfg_check(&cfg->rabia) != 0 || kv_store_config_check(&cfg->kv) != 0) {
		return -EINVAL;
	}
	if (cfg->clients_max < 1 || cfg->clients_max > NODE_SHARD_CLIENTS_LIMIT ||
	    cfg->transfer_window_chunks < 1 ||
	    cfg->transfer_window_chunks > NODE_SHARD_WINDOW_MAX || cfg->transfer_retry_ns == 0 ||
	    cfg->transfer_timeout_ns == 0 || (cfg->break_rules & ~NODE_SHARD_BREAK_ALL) != 0) {
		return -EINVAL;
	}
	/* R12 (a): a slot stays in Rabia's window for the whole step that delivers it. */
	if (cfg->rabia.out_decided_max > cfg->rabia.window_slots) {
		return -EINVAL;
	}
	if (cfg->leader_timeout_ns != 0 && !shard_leader_config_ok(cfg)) {
		return -EINVAL;
	}
	if ((cfg->durability != NODE_SHARD_DURABLE_REPLICATED &&
	     cfg->durability != NODE_SHARD_DURABLE_SYNC) ||
	    cfg->log_buffer_bytes < node_shard_log_buffer_min(cfg) ||
	    cfg->log_buffer_bytes > ENV_STORAGE_OBJECT_MAX || cfg->status_interval_ns == 0) {
		return -EINVAL;
	}
	if (cfg->checkpoint_slots != 0 &&
	    NODE_SHARD_CKPT_HEADER + node_shard_snapshot_size_max(&cfg->kv) >
		    ENV_STORAGE_OBJECT_MAX) {
		return -EINVAL;
	}
	return 0;
}

static void
shard_layout(struct node_shard *s, struct node_carve *c, const struct node_shard_config *cfg)
{
	size_t kv_size = kv_store_size(&cfg->kv);
	size_t snap_max = node_shard_snapshot_size_max(&cfg->kv);
	size_t result_cap = KV_RESULT_HEADER_SIZE + cfg->kv.max_value_size;
	size_t map_size = base_map_size(cfg->clients_max, sizeof(uint64_t), sizeof(uint32_t));
	void *rabia_mem = node_carve(c, rabia_size(&cfg->rabia));
	void *kv_mem = node_carve(c, kv_size);
	uint8_t *rx = node_carve(c, ENV_MSG_MAX);
	uint8_t *tx = node_carve(c, ENV_MSG_MAX);
	uint8_t *result = node_carve(c, result_cap);
	uint8_t *snap_out = node_carve(c, snap_max);
	uint8_t *snap_in = node_carve(c, NODE_SHARD_CKPT_HEADER + snap_max);
	struct node_shard_client *clients =
		node_carve_array(c, cfg->clients_max, sizeof(struct node_shard_client));
	uint8_t *body = node_carve_array(c, cfg->clients_max, cfg->rabia.request_bytes_max);
	uint32_t *free_list = node_carve_array(c, cfg->clients_max, sizeof(uint32_t));
	void *map_mem = node_carve(c, map_size);
	uint8_t *log_buf = node_carve(c, cfg->log_buffer_bytes);
	struct rabia_request *reqs =
		node_carve_array(c, cfg->rabia.batch_count_max, sizeof(struct rabia_request));
	struct node_shard_member *members =
		node_carve_array(c, cfg->rabia.member_count, sizeof(struct node_shard_member));

	if (s == NULL) {
		return;
	}
	s->rabia_mem = rabia_mem;
	s->kv_mem = kv_mem;
	s->kv_mem_size = kv_size;
	s->rx = rx;
	s->tx = tx;
	s->result = result;
	s->result_capacity = result_cap;
	s->snap_max = snap_max;
	s->snap_out = snap_out;
	s->snap_in = snap_in;
	s->clients = clients;
	s->client_body = body;
	s->client_free = free_list;
	s->log_buf = log_buf;
	s->reqs = reqs;
	s->members = members;
	s->client_map = base_map_init(map_mem, cfg->clients_max, sizeof(uint64_t), sizeof(uint32_t),
				      cfg->kv.index_seed);
}

size_t
node_shard_size(const struct node_shard_config *cfg)
{
	struct node_carve c = {NULL, 0};

	ASSERT(cfg != NULL);
	ASSERT(node_shard_config_check(cfg) == 0);
	shard_layout(NULL, &c, cfg);
	return c.offset + NODE_CARVE_ALIGN;
}

void
node_shard_init(struct node_shard *s, void *memory, const struct node_shard_config *cfg,
		const struct env_ops *env, const struct node_shard_hooks *hooks)
{
	struct node_carve c = {memory, 0};

	ASSERT(s != NULL && memory != NULL);
	ASSERT(env != NULL && hooks != NULL);
	env_ops_assert_valid(env);
	(void)node_shard_size(cfg);
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->node = cfg->rabia.self_id;
	s->env = env;
	s->hooks = hooks;
	shard_layout(s, &c, cfg);
}

int
node_shard_create(const struct node_shard_config *cfg, const struct env_ops *env,
		  const struct node_shard_hooks *hooks, struct node_shard **out)
{
	struct node_shard *s;
	void *memory;

	ASSERT(cfg != NULL && out != NULL);
	if (node_shard_config_check(cfg) != 0) {
		return -EINVAL;
	}
	s = base_alloc(sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	memory = base_alloc(node_shard_size(cfg));
	if (memory == NULL) {
		base_free(s);
		return -ENOMEM;
	}
	node_shard_init(s, memory, cfg, env, hooks);
	s->block = memory;
	*out = s;
	return 0;
}

void
node_shard_destroy(struct node_shard *s)
{
	if (s == NULL) {
		return;
	}
	ASSERT(s->block != NULL);
	node_shard_stop(s);
	base_free(s->block);
	base_free(s);
}

static void
shard_reset_volatile(struct node_shard *s)
{
	uint32_t n = s->cfg.clients_max;

	memset(s->clients, 0, (size_t)n * sizeof(s->clients[0]));
	for (uint32_t i = 0; i < n; i++) {
		s->client_free[i] = n - 1 - i; /* entry 0 is handed out first */
	}
	s->client_free_count = n;
	base_map_clear(s->client_map);
	s->next_tick_ns = 0;
	s->kick = 0;
	s->has_leader_waiting = 0;
	s->recovered_hwm = 0;
	s->rabia_write_pending = 0;
	s->rabia_write_token = 0;
	s->hwm_put_status = 0;
	s->ckpt_pending = 0;
	s->ckpt_slot = 0;
	s->ckpt_put_status = 0;
	s->ckpt_invalid_retry = 0;
	s->ckpt_force = 0;
	s->ckpt_inflight = 0;
	s->ckpt_durable = 0;
	memset(&s->pull, 0, sizeof(s->pull));
	memset(&s->serve, 0, sizeof(s->serve));
	s->deferred_count = 0;
	s->log_len = 0;
	s->log_flushed = 0;
	s->log_apply_off = 0;
	s->log_first = 0;
	s->log_end = 0;
	s->flush_end = 0;
	s->flush_pending = 0;
	s->flush_ns = 0;
	s->flush_failed = 0;
	s->log_put_needed = 0;
	s->log_gen = 0;
	s->flush_gen = 0;
	s->synced_gen = 0;
	s->synced_end = 0;
	s->durable_next = 0;
	s->applied_next = 0;
	s->commit_next = 0;
	s->durable_frozen = 0;
	s->epoch_write = 0;
	s->epoch_write_failed = 0;
	s->adopting = 0;
	s->need_install = 0;
	s->need_slot = 0;
	s->progress_ns = 0;
	s->progress_key = 0;
	s->proposed_ns = 0;
	s->next_status_ns = 0;
	s->promise_sent_ns = 0;
	memset(s->members, 0, (size_t)s->cfg.rabia.member_count * sizeof(s->members[0]));
}

static void
shard_leader_init(struct node_shard *s)
{
	struct node_leader_config lc;

	memset(&lc, 0, sizeof(lc));
	lc.self_id = s->node;
	lc.member_count = s->cfg.rabia.member_count;
	memcpy(lc.members, s->cfg.rabia.members, sizeof(lc.members));
	/* With proposals off the rule never runs; liveness is still tracked for the dump. */
	lc.timeout_ns = s->cfg.leader_timeout_ns != 0 ? s->cfg.leader_timeout_ns : UINT64_MAX;
	node_leader_init(&s->leader, &lc, s->now_ns);
}

int
shard_rabia_begin(struct node_shard *s, uint64_t start)
{
	struct rabia_cfg rc = s->cfg.rabia;
	int err;

	rc.epoch = s->ep.epoch;
	rc.start_slot = start;
	/* The running Rabia's record, else the one on disk: the batch mark never goes back. */
	if (s->rabia != NULL) {
		struct rabia_stats now;

		node_shard_rabia_stats(s, &now);
		s->rabia_before = now;
		rc.recovered = rabia_durable_state(s->rabia);
	} else {
		memset(&rc.recovered, 0, sizeof(rc.recovered));
		err = shard_load_hwm(s, &rc.recovered);
		if (err != 0 && err != -ENOENT) {
			return err;
		}
	}
	if (rc.recovered.epoch > rc.epoch) {
		return -EBADMSG; /* a record from an epoch this replica never adopted */
	}
	err = rabia_init(s->rabia_mem, &rc, &s->rabia);
	if (err != 0) {
		s->rabia = NULL;
		return err;
	}
	/* A mark of an older epoch does not bind (rabia.h, struct rabia_durable). */
	s->recovered_hwm = rc.recovered.epoch == rc.epoch ? rc.recovered.slot_hwm : 0;
	s->rabia_write_pending = 0;
	s->next_tick_ns = 0;
	return 0;
}

/* The epoch record, or the configured epoch for a new replica. */
static int
shard_start_epoch(struct node_shard *s)
{
	int err = shard_epoch_load(s);

	if (err == -ENOENT) {
		memset(&s->ep, 0, sizeof(s->ep));
		s->ep.epoch = s->cfg.rabia.epoch;
		s->ep.base_epoch = s->cfg.rabia.epoch;
		s->ep.promised = s->cfg.rabia.epoch;
		s->ep.lineage_count = 1;
		s->ep.lineage[0].epoch = s->cfg.rabia.epoch;
		memset(&s->ep_durable, 0, sizeof(s->ep_durable));
		s->ep_want = s->ep;
		err = 0;
	} else if (err == 0) {
		if (s->ep.epoch < s->cfg.rabia.epoch) {
			/* The operator moved every replica to a later epoch by hand. */
			memset(s->ep.lineage, 0, sizeof(s->ep.lineage));
			s->ep.epoch = s->cfg.rabia.epoch;
			s->ep.base_next = 0;
			s->ep.base_epoch = s->cfg.rabia.epoch;
			s->ep.lineage_count = 1;
			s->ep.lineage[0].epoch = s->cfg.rabia.epoch;
		}
		if (s->ep.promised < s->ep.epoch) {
			s->ep.promised = s->ep.epoch;
		}
		s->ep_durable = s->ep;
		s->ep_want = s->ep;
	}
	s->epoch = s->ep.epoch;
	return err;
}

/* Checkpoint, then the log records after it; the KV state is at the checkpoint. */
static int
shard_start_state(struct node_shard *s)
{
	uint64_t ckpt_slot = 0;
	int err = shard_load_ckpt(s, &ckpt_slot);

	if (err == 0) {
		s->ckpt_slot = ckpt_slot;
		s->ckpt_durable = ckpt_slot + 1;
		s->applied_next = ckpt_slot + 1;
	} else if (err != -ENOENT) {
		return err;
	}
	err = shard_log_load(s, s->applied_next);
	if (err != 0) {
		return err;
	}
	s->durable_next = s->applied_next;
	shard_log_durable_update(s);
	/* REPLICATED: every logged slot was decided, apply them all. SYNC: only what is known
	 * committed (below the epoch's base); STATUS from peers tells the rest. */
	s->commit_next =
		s->cfg.durability == NODE_SHARD_DURABLE_REPLICATED ? s->log_end : s->ep.base_next;
	if (s->log_end < s->ep.base_next) {
		/* Stopped during an epoch change, before its snapshot arrived. */
		s->need_install = 1;
		s->need_slot = s->ep.base_next - 1;
	}
	return 0;
}

int
node_shard_start(struct node_shard *s, uint64_t now_ns)
{
	int err;

	ASSERT(s != NULL);
	ASSERT(!s->is_up);
	s->rabia = NULL;
	memset(&s->rabia_before, 0, sizeof(s->rabia_before));
	shard_reset_volatile(s);
	s->now_ns = now_ns;
	s->nonce_next = s->env->seed(s->env->ctx);
	shard_leader_init(s);
	err = shard_start_epoch(s);
	if (err != 0) {
		return err;
	}
	err = kv_store_init(s->kv_mem, s->kv_mem_size, &s->cfg.kv, &s->kv);
	if (err != 0) {
		return err;
	}
	err = shard_start_state(s);
	if (err == 0) {
		uint64_t start = s->log_end > s->ep.base_next ? s->log_end : s->ep.base_next;

		if (start > s->log_end) {
			shard_log_drop_below(s, start); /* below the snapshot still to install */
		}
		err = shard_rabia_begin(s, start);
	}
	if (err != 0) {
		kv_store_fini(s->kv);
		s->kv = NULL;
		return err;
	}
	/* Restarted after a promise: report what is on disk now (it only grew since). */
	if (s->ep.promised > s->ep.epoch) {
		s->durable_frozen = s->durable_next;
	}
	s->is_up = 1;
	shard_log_apply(s);
	shard_leader_refresh(s);
	return 0;
}

void
node_shard_stop(struct node_shard *s)
{
	ASSERT(s != NULL);
	if (!s->is_up) {
		return;
	}
	kv_store_fini(s->kv);
	s->kv = NULL;
	s->rabia = NULL; /* its memory is rebuilt by the next start */
	s->is_up = 0;
}

static void
shard_dispatch(struct node_shard *s, uint32_t from, size_t size)
{
	struct rabia_input in = {.type = RABIA_INPUT_MESSAGE, .now_ns = s->now_ns};

	if (size == 0) {
		s->stats.bad_frames++;
		return;
	}
	switch (s->rx[0]) {
	case NODE_SHARD_CH_RABIA:
		if (!shard_may_step(s)) {
			return; /* a lost datagram: Rabia retransmits */
		}
		in.message.from = from;
		in.message.data = s->rx + 1;
		in.message.size = size - 1;
		if (shard_step(s, &in) != 0) {
			s->stats.rabia_errors++;
		}
		return;
	case NODE_SHARD_CH_SNAP_REQ:
		shard_on_snap_req(s, from, s->rx, size);
		return;
	case NODE_SHARD_CH_SNAP_CHUNK:
		shard_on_chunk(s, from, s->rx, size);
		return;
	case NODE_SHARD_CH_STATUS:
		shard_on_status(s, from, s->rx, size);
		return;
	case NODE_SHARD_CH_EPOCH:
		shard_on_epoch_msg(s, from, s->rx, size);
		return;
	default:
		s->stats.bad_frames++;
		return;
	}
}

static void
shard_receive(struct node_shard *s)
{
	for (;;) {
		uint32_t from;
		size_t size;
		int rc = s->env->recv(s->env->ctx, &from, s->rx, ENV_MSG_MAX, &size);

		if (rc == -EAGAIN) {
			return;
		}
		if (rc != 0) {
			s->stats.bad_frames++; /* too large: the env dropped it */
			continue;
		}
		/* Any datagram says its sender is alive (node_leader.h). */
		node_leader_on_peer(&s->leader, from, s->now_ns);
		shard_dispatch(s, from, size);
	}
}

static uint64_t
shard_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t
node_shard_poll(struct node_shard *s, uint64_t now_ns)
{
	uint64_t next;

	ASSERT(s != NULL);
	if (!s->is_up) {
		return UINT64_MAX;
	}
	if (now_ns > s->now_ns) {
		s->now_ns = now_ns;
	}
	shard_storage_poll(s);
	shard_receive(s);
	if (shard_resubmit(s) || s->kick || s->now_ns >= s->next_tick_ns) {
		s->kick = 0;
		shard_tick(s);
	}
	shard_leader_poll(s);
	shard_xfer_timer(s);
	shard_epoch_poll(s);
	shard_log_apply(s);
	shard_checkpoint(s);
	shard_log_flush(s);
	/*
	 * Rabia asks for a tick "at or after" next_tick_ns and may name a time that has passed
	 * (a batch timer that expired while the batch waits for the durable mark). Ticking again
	 * at the same time changes nothing and would spin: wait a little.
	 */
	next = s->next_tick_ns > s->now_ns ? s->next_tick_ns : s->now_ns + NODE_SHARD_TICK_MIN_NS;
	next = shard_min(next, shard_xfer_next_ns(s));
	next = shard_min(next, shard_epoch_next_ns(s));
	if (!s->flush_pending && s->log_flushed != s->log_len && s->flush_ns != 0) {
		next = shard_min(next, s->flush_ns + s->cfg.log_flush_interval_ns);
	}
	if (s->cfg.leader_timeout_ns != 0) {
		next = shard_min(next, node_leader_next_ns(&s->leader, s->now_ns));
	}
	return next;
}

uint64_t
node_shard_next_slot(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->is_up ? rabia_next_slot(s->rabia) : 0;
}

uint64_t
node_shard_applied_next(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->is_up ? s->applied_next : 0;
}

uint64_t
node_shard_durable_next(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->durable_next;
}

uint64_t
node_shard_epoch(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->is_up ? s->ep.epoch : 0;
}

uint64_t
node_shard_applied_index(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->is_up ? kv_store_applied_index(s->kv) : 0;
}

int
node_shard_is_passive(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->is_up && rabia_next_slot(s->rabia) < s->recovered_hwm;
}

uint64_t
node_shard_recovered_hwm(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->recovered_hwm;
}

int
node_shard_is_pulling(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->is_up && s->pull.is_active;
}

size_t
node_shard_backlog(const struct node_shard *s)
{
	ASSERT(s != NULL);
	if (!s->is_up) {
		return 0;
	}
	return rabia_pending_count(s->rabia) + s->deferred_count + (size_t)s->has_leader_waiting;
}

struct base_hash128
node_shard_digest(const struct node_shard *s)
{
	ASSERT(s != NULL);
	ASSERT(s->is_up);
	return kv_store_digest(s->kv);
}

const struct kv_store *
node_shard_kv(const struct node_shard *s)
{
	ASSERT(s != NULL);
	ASSERT(s->is_up);
	return s->kv;
}

const struct rabia *
node_shard_rabia(const struct node_shard *s)
{
	ASSERT(s != NULL);
	ASSERT(s->is_up);
	return s->rabia;
}

void
node_shard_rabia_stats(const struct node_shard *s, struct rabia_stats *out)
{
	const uint64_t *a = (const uint64_t *)&s->rabia_before;
	uint64_t *o = (uint64_t *)out;

	static_assert(sizeof(struct rabia_stats) % sizeof(uint64_t) == 0, "all u64 counters");
	ASSERT(s != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	if (!s->is_up || s->rabia == NULL) {
		return;
	}
	*out = *rabia_get_stats(s->rabia);
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++) {
		o[i] += a[i];
	}
	out->phase_max_seen =
		s->rabia_before.phase_max_seen > rabia_get_stats(s->rabia)->phase_max_seen
			? s->rabia_before.phase_max_seen
			: rabia_get_stats(s->rabia)->phase_max_seen;
}

int
node_shard_is_up(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return s->is_up;
}

const struct node_shard_stats *
node_shard_get_stats(const struct node_shard *s)
{
	ASSERT(s != NULL);
	return &s->stats;
}

int
node_shard_leader(const struct node_shard *s, struct node_leader_value *out)
{
	ASSERT(s != NULL && out != NULL);
	return s->is_up && node_leader_get(&s->leader, out);
}

static void
shard_dump_stats(const struct node_shard *s, FILE *f)
{
	const struct node_shard_stats *st = &s->stats;

	fprintf(f,
		"shard node=%" PRIu32 " applied slots=%" PRIu64 " requests=%" PRIu64
		" replies=%" PRIu64 " deferred=%" PRIu64 " rabia_errors=%" PRIu64
		" bad_frames=%" PRIu64 " send_errors=%" PRIu64 "\n",
		s->node, st->slots_applied, st->requests_applied, st->replies, st->submits_deferred,
		st->rabia_errors, st->bad_frames, st->send_errors);
	fprintf(f,
		"shard node=%" PRIu32 " checkpoints=%" PRIu64 " ckpt_slot=%" PRIu64
		" storage_errors=%" PRIu64 " leader_proposals=%" PRIu64 "\n",
		s->node, st->checkpoints, s->ckpt_slot, st->storage_errors, st->leader_proposals);
	fprintf(f,
		"shard node=%" PRIu32 " transfers requested=%" PRIu64 " installed=%" PRIu64
		" abandoned=%" PRIu64 " restarts=%" PRIu64 " retries=%" PRIu64 " chunks_in=%" PRIu64
		" chunks_stale=%" PRIu64 " served=%" PRIu64 " chunks_out=%" PRIu64 "\n",
		s->node, st->transfers_requested, st->transfers_installed, st->transfers_abandoned,
		st->transfer_restarts, st->transfer_retries, st->chunks_received, st->chunks_stale,
		st->snapshots_served, st->chunks_served);
}

void
node_shard_dump(const struct node_shard *s, FILE *f)
{
	struct node_leader_value v;
	char digest[BASE_HASH128_HEX_SIZE];

	ASSERT(s != NULL && f != NULL);
	if (!s->is_up) {
		fprintf(f, "shard node=%" PRIu32 " down\n", s->node);
		shard_dump_stats(s, f);
		return;
	}
	base_hash128_hex(kv_store_digest(s->kv), digest);
	fprintf(f,
		"shard node=%" PRIu32 " up next_slot=%" PRIu64 " applied_index=%" PRIu64
		" digest=%s backlog=%zu passive=%d pulling=%d\n",
		s->node, rabia_next_slot(s->rabia), kv_store_applied_index(s->kv), digest,
		node_shard_backlog(s), node_shard_is_passive(s), s->pull.is_active);
	if (node_leader_get(&s->leader, &v)) {
		fprintf(f, "shard node=%" PRIu32 " leader=%" PRIu32 " term=%" PRIu64 "\n", s->node,
			v.node_id, v.term);
	} else {
		fprintf(f, "shard node=%" PRIu32 " leader=none\n", s->node);
	}
	shard_dump_stats(s, f);
	rabia_dump(s->rabia, f);
	kv_store_dump(s->kv, f);
}
