/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim_world.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "sim_int.h"
#include "sim_world_int.h"

#define MS UINT64_C(1000000)
#define US UINT64_C(1000)

/* Failure lines logged per run; the counters keep counting after that. */
#define FAIL_LOG_MAX 20
/* A run that needs more events than this is reported as a stall (a livelock in the sim). */
#define EVENTS_MAX   UINT64_C(200000000)

static const struct {
	uint32_t rule;
	const char *name;
} break_names[] = {
	{SIM_BREAK_NONE, "none"},
	{SIM_BREAK_NF_FAST_PATH, "nf-fast-path"},
	{SIM_BREAK_COUNT_MESSAGES, "count-messages"},
	{SIM_BREAK_LOCAL_READS, "local-reads"},
	{SIM_BREAK_SKIP_APPLY, "skip-apply"},
	{SIM_BREAK_ACK_UNLOGGED, "ack-unlogged"},
	{SIM_BREAK_LEADER_PUT, "leader-put"},
};

const char *
sim_break_name(uint32_t break_rule)
{
	for (size_t i = 0; i < AE_ARRAY_SIZE(break_names); i++) {
		if (break_names[i].rule == break_rule) {
			return break_names[i].name;
		}
	}
	return NULL;
}

int
sim_break_parse(const char *name, uint32_t *out)
{
	ASSERT(name != NULL && out != NULL);
	for (size_t i = 0; i < AE_ARRAY_SIZE(break_names); i++) {
		if (strcmp(break_names[i].name, name) == 0) {
			*out = break_names[i].rule;
			return 0;
		}
	}
	return -EINVAL;
}

int
sim_config_check(const struct sim_config *cfg)
{
	ASSERT(cfg != NULL);
	if (cfg->node_count < 1 || cfg->node_count > SIM_NODES_MAX || cfg->op_count < 1 ||
	    cfg->op_count > 10000000) {
		return -EINVAL;
	}
	if ((cfg->fault_mask & ~SIM_FAULT_ALL) != 0 || sim_break_name(cfg->break_rule) == NULL) {
		return -EINVAL;
	}
	if (cfg->client_count > SIM_CLIENTS_MAX || cfg->key_count > SIM_KEYS_MAX) {
		return -EINVAL;
	}
	if (cfg->value_size != 0 && (cfg->value_size < 8 || cfg->value_size > SIM_VALUE_MAX)) {
		return -EINVAL;
	}
	return 0;
}

void
sim_world_fail(struct sim_world *w, uint64_t *counter, const char *fmt, ...)
{
	char text[SIM_FAILURE_TEXT_MAX];
	uint64_t total;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	(*counter)++;
	total = w->res->violations + w->res->nonlinearizable + w->res->inconclusive +
		w->res->stalls + w->res->lost_acked;
	if (w->res->failure[0] == '\0') {
		snprintf(w->res->failure, sizeof(w->res->failure), "%s", text);
	}
	if (total <= FAIL_LOG_MAX) {
		base_logf(&w->cfg.log, BASE_LOG_ERROR, "seed=%llu t=%lluns: %s",
			  (unsigned long long)w->seed, (unsigned long long)sim_queue_now(&w->queue),
			  text);
	}
}

void
sim_world_trace(struct sim_world *w, const void *data, size_t size)
{
	base_hash_stream_update(&w->trace, data, size);
}

int
sim_break_supported(uint32_t break_rule)
{
	switch (break_rule) {
	case SIM_BREAK_NONE:
	case SIM_BREAK_LOCAL_READS:
	case SIM_BREAK_SKIP_APPLY:
	case SIM_BREAK_ACK_UNLOGGED:
	case SIM_BREAK_LEADER_PUT:
		return 1;
#ifdef RABIA_BREAK_NF_FAST_PATH
	case SIM_BREAK_NF_FAST_PATH:
		return 1;
#endif
#ifdef RABIA_BREAK_COUNT_MESSAGES
	case SIM_BREAK_COUNT_MESSAGES:
		return 1;
#endif
	default:
		return 0;
	}
}

/* The Rabia test hook for a break rule (only called when sim_break_supported). */
static void
world_apply_break(struct rabia_cfg *rc, uint32_t break_rule)
{
	(void)rc;
	switch (break_rule) {
#ifdef RABIA_BREAK_NF_FAST_PATH
	case SIM_BREAK_NF_FAST_PATH:
		rc->break_rules |= RABIA_BREAK_NF_FAST_PATH;
		break;
#endif
#ifdef RABIA_BREAK_COUNT_MESSAGES
	case SIM_BREAK_COUNT_MESSAGES:
		rc->break_rules |= RABIA_BREAK_COUNT_MESSAGES;
		break;
#endif
	default:
		break;
	}
}

static uint32_t
world_shard_break(uint32_t break_rule)
{
	switch (break_rule) {
	case SIM_BREAK_LOCAL_READS:
		return NODE_SHARD_BREAK_LOCAL_READS;
	case SIM_BREAK_SKIP_APPLY:
		return NODE_SHARD_BREAK_SKIP_APPLY;
	case SIM_BREAK_ACK_UNLOGGED:
		return NODE_SHARD_BREAK_ACK_UNLOGGED;
	case SIM_BREAK_LEADER_PUT:
		return NODE_SHARD_BREAK_LEADER_PUT;
	default:
		return 0;
	}
}

static void
world_defaults(struct sim_config *cfg)
{
	if (cfg->client_count == 0) {
		cfg->client_count = 2 * cfg->node_count;
	}
	if (cfg->key_count == 0) {
		cfg->key_count = 4;
	}
	if (cfg->value_size == 0) {
		cfg->value_size = 8;
	}
	if (cfg->fault_period_ns == 0) {
		cfg->fault_period_ns = 300 * MS;
	}
	if (cfg->liveness_bound_ns == 0) {
		cfg->liveness_bound_ns = 2000 * MS;
	}
}

/* The shard configuration every node runs; node_shard_init sets self_id per node. */
static void
world_shard_config(struct sim_world *w)
{
	struct node_shard_config *rc = &w->scfg;

	memset(rc, 0, sizeof(*rc));
	rabia_cfg_defaults(&rc->rabia);
	rc->rabia.cluster_id = 0x53494d;
	rc->rabia.member_count = w->cfg.node_count;
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		rc->rabia.members[i] = i;
	}
	rc->rabia.self_id = 0;
	/* Room for a CAS of the largest value; 64 bytes (the leader's CAS) at the least. */
	rc->rabia.request_bytes_max = w->cfg.value_size <= 8 ? 64 : w->cfg.value_size + 64;
	if (rc->rabia.batch_bytes_max <
	    RABIA_BATCH_HEADER_SIZE + RABIA_REQUEST_HEADER_SIZE + rc->rabia.request_bytes_max) {
		rc->rabia.batch_bytes_max = RABIA_BATCH_BYTES_MAX;
	}
	rc->rabia.batch_timeout_ns = 300 * US;
	rc->rabia.heartbeat_ns = 10 * MS;
	/* A small decided window, so restarted replicas also need state transfer (R10). */
	rc->rabia.window_slots = 32;
	world_apply_break(&rc->rabia, w->cfg.break_rule);
	rc->break_rules = world_shard_break(w->cfg.break_rule);
	/* One more key for `leader`, one more dedupe entry per node for its proposer. */
	rc->kv.max_keys = SIM_KEYS_MAX + 1;
	rc->kv.max_key_size = 16;
	rc->kv.max_value_size = w->cfg.value_size > 16 ? w->cfg.value_size : 16;
	rc->kv.data_budget_size = 64 * 1024;
	if (rc->kv.data_budget_size < (SIM_KEYS_MAX + 1) * (16 + rc->kv.max_value_size)) {
		rc->kv.data_budget_size = (SIM_KEYS_MAX + 1) * (16 + rc->kv.max_value_size);
	}
	rc->kv.max_clients = SIM_CLIENTS_MAX + SIM_NODES_MAX;
	rc->kv.notify_buffer_size = 0;
	rc->kv.index_seed = 1;
	rc->checkpoint_slots = 64;
	rc->clients_max = SIM_CLIENTS_MAX;
	rc->transfer_window_chunks = 16;
	rc->transfer_retry_ns = 5 * MS;
	rc->transfer_timeout_ns = 20 * MS;
	rc->leader_timeout_ns = 20 * MS;
	/* SYNC: acknowledged writes survive any crash pattern, so crashes are not limited to f
	 * at a time (world_may_crash) and the epoch change brings a cluster back. */
	rc->durability =
		w->cfg.is_replicated ? NODE_SHARD_DURABLE_REPLICATED : NODE_SHARD_DURABLE_SYNC;
	rc->log_buffer_bytes = (uint32_t)(4 * node_shard_log_buffer_min(rc));
	rc->status_interval_ns = 5 * MS;
	rc->stall_timeout_ns = 60 * MS;
	rc->log_flush_interval_ns = 1 * MS;
}

static const struct env_sim_config world_env_defaults = {
	.objects_max = 4,
	.object_size_max = 96 * 1024, /* raised to fit a checkpoint of the fullest store */
	.storage_ops_max = 64,
	.put_ns_min = 5 * US,
	.put_ns_max = 50 * US,
	.sync_ns_min = 100 * US,
	.sync_ns_max = 2 * MS,
	.keep_unsynced_ppm = 250000,
};

/* The storage model, with objects large enough for a checkpoint of the fullest store. */
static struct env_sim_config
world_env_config(const struct sim_world *w)
{
	struct env_sim_config e = world_env_defaults;
	size_t ckpt = NODE_SHARD_CKPT_HEADER + node_shard_snapshot_size_max(&w->scfg.kv);

	if (e.object_size_max < ckpt) {
		e.object_size_max = (uint32_t)ckpt;
	}
	if (e.object_size_max < w->scfg.log_buffer_bytes) {
		e.object_size_max = w->scfg.log_buffer_bytes;
	}
	return e;
}

static struct sim_net_config
world_net_cfg(const struct sim_config *cfg)
{
	struct sim_net_config n = {
		.node_count = cfg->node_count,
		.small_count = 16384,
		.large_count = 1024,
		.inbox_max = 4096,
	};

	return n;
}

static size_t
world_queue_capacity(const struct sim_config *cfg)
{
	struct sim_net_config n = world_net_cfg(cfg);

	return (size_t)n.small_count + n.large_count + 65536 +
	       (size_t)cfg->node_count * world_env_defaults.storage_ops_max;
}

static const struct sim_lin_config world_lin_cfg = {
	.ops_max = 20000,
	.step_max = 20000000,
	.memo_bytes = 16u << 20,
};

static struct sim_lin_config
world_lin_config(const struct sim_world *w)
{
	struct sim_lin_config c = world_lin_cfg;

	c.ops_max = w->ops_max;
	return c;
}

static void
world_layout(struct sim_world *w, struct sim_carve *c)
{
	const struct sim_config *cfg = &w->cfg;
	struct sim_net_config ncfg = world_net_cfg(cfg);
	struct sim_lin_config lcfg = world_lin_config(w);
	size_t qcap = world_queue_capacity(cfg);
	void *qmem = sim_carve(c, sim_queue_size(qcap));
	void *nmem = sim_carve(c, sim_net_size(&ncfg));
	void *lmem = sim_carve(c, sim_lin_checker_size(&lcfg));
	struct sim_op *ops = sim_carve_array(c, w->ops_max, sizeof(struct sim_op));
	uint32_t *op_of = sim_carve_array(c, (size_t)cfg->client_count * w->seqs_max, 4);
	struct sim_slot_truth *truth = sim_carve_array(c, SIM_SLOTS_MAX, sizeof(*truth));
	struct sim_lin_op *lin_ops = sim_carve_array(c, w->ops_max, sizeof(struct sim_lin_op));
	uint32_t *lin_index = sim_carve_array(c, w->ops_max, sizeof(uint32_t));
	uint32_t *term_owner = sim_carve_array(c, SIM_TERMS_MAX, sizeof(uint32_t));
	struct env_sim_config ecfg = world_env_config(w);
	void *emem[SIM_NODES_MAX];
	void *rmem[SIM_NODES_MAX];

	for (uint32_t i = 0; i < cfg->node_count; i++) {
		emem[i] = sim_carve(c, env_sim_size(&ecfg));
		rmem[i] = sim_carve(c, node_shard_size(&w->scfg));
	}
	if (c->base == NULL) {
		return;
	}
	sim_queue_init(&w->queue, qmem, qcap);
	sim_net_init(&w->net, nmem, &ncfg, &w->queue, &w->prng);
	sim_lin_checker_init(&w->lin, lmem, &lcfg);
	w->ops = ops;
	w->op_of = op_of;
	w->truth = truth;
	w->lin_ops = lin_ops;
	w->lin_index = lin_index;
	w->term_owner = term_owner;
	for (uint32_t i = 0; i < cfg->node_count; i++) {
		struct sim_node *n = &w->nodes[i];

		env_sim_init(&n->env, emem[i], &ecfg, i, &w->net, &w->queue, &w->prng, &cfg->log);
		n->shard_mem = rmem[i];
	}
}

static void world_hook_decided(void *ctx, uint32_t node, const struct rabia_decided *d);
static void world_hook_committed(void *ctx, uint32_t node, uint64_t epoch,
				 const struct rabia_decided *d);
static void world_hook_epoch(void *ctx, uint32_t node, uint64_t epoch, uint64_t base);
static void world_hook_applied(void *ctx, uint32_t node, uint64_t slot, uint32_t position,
			       const struct rabia_request *req, const uint8_t *result,
			       size_t result_size);
static void world_hook_reply(void *ctx, uint32_t node, uint64_t client_id, uint64_t client_seq,
			     const uint8_t *result, size_t result_size);
static void world_hook_event(void *ctx, uint32_t node, const struct rabia_event *ev);
static void world_hook_installed(void *ctx, uint32_t node, uint64_t slot);
static void world_hook_leader(void *ctx, uint32_t node, int has_leader,
			      const struct node_leader_value *v);

int
sim_world_create(const struct sim_config *cfg, struct sim_world **out)
{
	struct sim_carve c = {NULL, 0};
	struct sim_world *w;

	ASSERT(cfg != NULL && out != NULL);
	if (sim_config_check(cfg) != 0) {
		return -EINVAL;
	}
	if (!sim_break_supported(cfg->break_rule)) {
		return -ENOTSUP;
	}
	w = base_alloc(sizeof(*w));
	if (w == NULL) {
		return -ENOMEM;
	}
	w->cfg = *cfg;
	world_defaults(&w->cfg);
	w->ops_max = w->cfg.op_count + w->cfg.key_count;
	w->seqs_max = w->ops_max + 1;
	world_shard_config(w);
	w->hooks = (struct node_shard_hooks){
		.ctx = w,
		.on_decided = world_hook_decided,
		.on_committed = world_hook_committed,
		.on_epoch = world_hook_epoch,
		.on_applied = world_hook_applied,
		.on_reply = world_hook_reply,
		.on_event = world_hook_event,
		.on_installed = world_hook_installed,
		.on_leader = world_hook_leader,
	};
	world_layout(w, &c);
	w->memory = base_alloc(sim_carve_size(&c));
	if (w->memory == NULL) {
		base_free(w);
		return -ENOMEM;
	}
	c.base = w->memory;
	c.offset = 0;
	world_layout(w, &c);
	*out = w;
	return 0;
}

void
sim_world_destroy(struct sim_world *w)
{
	if (w == NULL) {
		return;
	}
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		node_shard_stop(&w->nodes[i].shard);
	}
	base_free(w->memory);
	base_free(w);
}

static void
world_push(struct sim_world *w, uint64_t time_ns, uint32_t kind, uint32_t target, uint64_t arg0,
	   uint64_t arg1)
{
	int rc = sim_queue_push(&w->queue, time_ns, kind, target, arg0, arg1);

	ASSERT(rc == 0); /* the queue is sized for every source of events */
}

void
sim_world_node_wake(struct sim_world *w, uint32_t node)
{
	struct sim_node *n = &w->nodes[node];

	if (n->wake_pending || n->is_crashed) {
		return;
	}
	n->wake_pending = 1;
	world_push(w, sim_queue_now(&w->queue), SIM_EV_NODE_WAKE, node, 0, 0);
}

/* Runs the replica and arms its timer for the time it asked for. */
static void
world_node_poll(struct sim_world *w, uint32_t node)
{
	struct sim_node *n = &w->nodes[node];
	uint64_t now = sim_queue_now(&w->queue);
	uint64_t next;

	if (n->is_crashed || n->is_paused) {
		return;
	}
	next = node_shard_poll(&n->shard, now);
	if (next == UINT64_MAX) {
		return;
	}
	next = next > now ? next : now;
	if (next < n->tick_at) {
		n->tick_at = next;
		world_push(w, next, SIM_EV_NODE_TICK, node, 0, 0);
	}
}

static void
world_node_crash(struct sim_world *w, uint32_t node, int is_permanent)
{
	struct sim_node *n = &w->nodes[node];

	if (n->is_crashed) {
		return;
	}
	base_logf(&w->cfg.log, BASE_LOG_DEBUG, "seed=%llu node=%u crash%s at slot %llu",
		  (unsigned long long)w->seed, node, is_permanent ? " (stop)" : "",
		  (unsigned long long)node_shard_next_slot(&n->shard));
	n->is_crashed = 1;
	n->is_stopped = is_permanent;
	n->is_paused = 0;
	n->wake_pending = 0;
	n->tick_at = UINT64_MAX;
	node_shard_stop(&n->shard);
	env_sim_crash(&n->env);
	sim_net_node_down(&w->net, node);
	w->res->crashes++;
}

static void
world_node_start(struct sim_world *w, uint32_t node)
{
	struct sim_node *n = &w->nodes[node];
	int rc;

	n->is_crashed = 0;
	n->is_paused = 0;
	n->tick_at = UINT64_MAX;
	n->expected_slot = UINT64_MAX;
	n->leader_term = 0; /* the restarted state comes from its checkpoint, maybe older */
	sim_net_node_up(&w->net, node);
	rc = node_shard_start(&n->shard, sim_queue_now(&w->queue));
	if (rc != 0) {
		n->is_crashed = 1;
		n->is_stopped = 1;
		sim_net_node_down(&w->net, node);
		sim_world_fail(w, &w->res->violations,
			       "node %u cannot restart from its storage: %s", node,
			       base_strerror(rc));
		return;
	}
	base_logf(&w->cfg.log, BASE_LOG_DEBUG, "seed=%llu node=%u start at slot %llu hwm %llu",
		  (unsigned long long)w->seed, node,
		  (unsigned long long)node_shard_next_slot(&n->shard),
		  (unsigned long long)node_shard_recovered_hwm(&n->shard));
	sim_world_node_wake(w, node);
}

/*
 * Whether a crash is in the fault model. Under SYNC with epoch changes any number of replicas
 * may crash and restart (that is the point: node_shard_epoch.c); only crash-stops stay at most
 * f, or the cluster could never move again. Otherwise (REPLICATED, or no epoch change) more
 * than f replicas without a usable memory (crashed, or restarted and still passive below their
 * recovered mark) would stop Rabia for good or lose acknowledged writes by design: skipped.
 */
static int
world_may_crash(struct sim_world *w, uint32_t node, int is_permanent)
{
	uint32_t f = (w->cfg.node_count - 1) / 2;
	uint32_t failed = 1;
	int any = w->scfg.durability == NODE_SHARD_DURABLE_SYNC && w->scfg.stall_timeout_ns != 0;

	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		const struct sim_node *n = &w->nodes[i];

		if (i != node &&
		    (any ? n->is_stopped : (n->is_crashed || node_shard_is_passive(&n->shard)))) {
			failed++;
		}
	}
	if (any && !is_permanent) {
		return 1;
	}
	if (failed <= f) {
		return 1;
	}
	w->res->crashes_skipped++;
	base_logf(&w->cfg.log, BASE_LOG_DEBUG, "seed=%llu node=%u crash skipped: f reached",
		  (unsigned long long)w->seed, node);
	return 0;
}

static void
world_fault(struct sim_world *w, const struct sim_fault_action *a)
{
	struct sim_node *n = &w->nodes[a->node];

	switch (a->kind) {
	case SIM_FA_BLOCK:
		sim_net_link_block(&w->net, a->node, a->peer, 1);
		break;
	case SIM_FA_UNBLOCK_ALL:
		sim_net_unblock_all(&w->net);
		break;
	case SIM_FA_CRASH:
		if (world_may_crash(w, a->node, (int)a->is_permanent)) {
			world_node_crash(w, a->node, (int)a->is_permanent);
		}
		break;
	case SIM_FA_RESTART:
		if (n->is_crashed && !n->is_stopped) {
			w->res->restarts++;
			world_node_start(w, a->node);
		}
		break;
	case SIM_FA_PAUSE:
		n->is_paused = !n->is_crashed;
		break;
	case SIM_FA_RESUME:
		n->is_paused = 0;
		sim_world_node_wake(w, a->node);
		break;
	default:
		PANIC("unknown fault action %u", a->kind);
	}
}

static void
world_heal(struct sim_world *w)
{
	base_logf(&w->cfg.log, BASE_LOG_DEBUG, "seed=%llu heal", (unsigned long long)w->seed);
	sim_net_set_faults(&w->net, &w->plan.net_healthy);
	sim_net_unblock_all(&w->net);
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		struct sim_node *n = &w->nodes[i];

		if (n->is_crashed && !n->is_stopped) {
			w->res->restarts++;
			world_node_start(w, i);
		}
		if (n->is_paused) {
			n->is_paused = 0;
			sim_world_node_wake(w, i);
		}
	}
	w->is_healed = 1;
	w->heal_ns = sim_queue_now(&w->queue);
	w->deadline_ns = w->heal_ns + w->cfg.liveness_bound_ns;
	for (uint32_t c = 0; c < w->cfg.client_count; c++) {
		if (w->clients[c].is_idle) {
			w->clients[c].is_idle = 0;
			world_push(w, w->heal_ns, SIM_EV_CLIENT_NEXT, c, 0, 0);
		}
	}
	world_push(w, w->heal_ns + MS, SIM_EV_CHECK, 0, 0, 0);
}

/* Logs each node's state: what a stall report needs to be understood. */
static void
world_log_nodes(struct sim_world *w)
{
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		struct sim_node *n = &w->nodes[i];
		const struct rabia_stats *st;
		struct node_leader_value leader;

		if (n->is_crashed) {
			base_logf(&w->cfg.log, BASE_LOG_ERROR, "seed=%llu node=%u %s",
				  (unsigned long long)w->seed, i,
				  n->is_stopped ? "crash-stopped" : "crashed");
			continue;
		}
		st = rabia_get_stats(node_shard_rabia(&n->shard));
		if (!node_shard_leader(&n->shard, &leader)) {
			leader.node_id = UINT32_MAX;
			leader.term = 0;
		}
		base_logf(&w->cfg.log, BASE_LOG_ERROR,
			  "seed=%llu node=%u next_slot=%llu backlog=%zu transfer=%d paused=%d "
			  "leader=%d term=%llu hwm=%llu decided=%llu adopted=%llu retransmits=%llu "
			  "phase_max=%llu violations=%llu ahead_drops=%llu",
			  (unsigned long long)w->seed, i,
			  (unsigned long long)node_shard_next_slot(&n->shard),
			  node_shard_backlog(&n->shard), node_shard_is_pulling(&n->shard),
			  n->is_paused, (int)leader.node_id, (unsigned long long)leader.term,
			  (unsigned long long)rabia_durable_state(node_shard_rabia(&n->shard))
				  .slot_hwm,
			  (unsigned long long)st->slots_decided,
			  (unsigned long long)st->decisions_adopted,
			  (unsigned long long)st->retransmits,
			  (unsigned long long)st->phase_max_seen,
			  (unsigned long long)st->violations, (unsigned long long)st->ahead_drops);
	}
}

/* After the heal: stop at quiescence, or report a stall at the deadline. */
static void
world_check(struct sim_world *w)
{
	uint64_t now = sim_queue_now(&w->queue);

	if (sim_client_all_done(w) && sim_check_is_quiescent(w)) {
		w->is_done = 1;
		return;
	}
	if (now >= w->deadline_ns) {
		sim_world_fail(w, &w->res->stalls,
			       "no quiescence %llu ms after the heal (clients done: %s)",
			       (unsigned long long)(w->cfg.liveness_bound_ns / MS),
			       sim_client_all_done(w) ? "yes" : "no");
		world_log_nodes(w);
		w->is_done = 1;
		return;
	}
	world_push(w, now + MS, SIM_EV_CHECK, 0, 0, 0);
}

static void
world_event(struct sim_world *w, const struct sim_event *ev)
{
	struct sim_node *n = ev->target < SIM_NODES_MAX ? &w->nodes[ev->target] : NULL;
	int dst;

	sim_world_trace(w, ev, sizeof(*ev));
	switch (ev->kind) {
	case SIM_EV_NET_DELIVER:
		dst = sim_net_on_deliver(&w->net, ev->arg0);
		if (dst >= 0) {
			sim_world_node_wake(w, (uint32_t)dst);
		}
		break;
	case SIM_EV_NODE_WAKE:
		n->wake_pending = 0;
		world_node_poll(w, ev->target);
		break;
	case SIM_EV_NODE_TICK:
		if (ev->time_ns == n->tick_at) {
			n->tick_at = UINT64_MAX;
			world_node_poll(w, ev->target);
		}
		break;
	case SIM_EV_STORAGE_DONE:
		if (env_sim_on_storage_done(&n->env, ev->arg1)) {
			sim_world_node_wake(w, ev->target);
		}
		break;
	case SIM_EV_CLIENT_REQ:
		sim_client_on_request(w, ev->target, (uint32_t)ev->arg0, ev->arg1);
		break;
	case SIM_EV_CLIENT_REPLY:
		sim_client_on_reply(w, ev->target, ev->arg0);
		break;
	case SIM_EV_CLIENT_TIMEOUT:
		sim_client_on_timeout(w, ev->target, ev->arg0, ev->arg1);
		break;
	case SIM_EV_CLIENT_NEXT:
		sim_client_on_next(w, ev->target);
		break;
	case SIM_EV_FAULT:
		world_fault(w, &w->plan.actions[ev->arg0]);
		break;
	case SIM_EV_HEAL:
		world_heal(w);
		break;
	case SIM_EV_CHECK:
		world_check(w);
		break;
	default:
		PANIC("unknown event kind %u", ev->kind);
	}
}

static void
world_reset(struct sim_world *w, uint64_t seed, struct sim_result *out)
{
	memset(out, 0, sizeof(*out));
	out->seed = seed;
	w->res = out;
	w->seed = seed;
	base_prng_init(&w->prng, seed);
	sim_queue_reset(&w->queue);
	sim_net_reset(&w->net, base_prng_next(&w->prng));
	w->scfg.rabia.coin_key = base_prng_next(&w->prng);
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		struct sim_node *n = &w->nodes[i];
		struct node_shard_config sc = w->scfg;

		/* Laid out afresh: this seed's coin key, node i's identity, zero stats. */
		node_shard_stop(&n->shard);
		sc.rabia.self_id = i;
		node_shard_init(&n->shard, n->shard_mem, &sc, &n->env.ops, &w->hooks);
		env_sim_reset(&n->env, seed);
		n->reached = 0;
		n->leader_term = 0;
		n->is_crashed = 0;
		n->is_stopped = 0;
		n->is_paused = 0;
		n->wake_pending = 0;
		n->tick_at = UINT64_MAX;
		n->expected_slot = UINT64_MAX;
	}
	base_hash_stream_init(&w->trace);
	w->is_healed = 0;
	w->is_done = 0;
	w->heal_ns = 0;
	w->deadline_ns = UINT64_MAX;
	sim_check_reset(w);
}

/* Draws the fault plan and schedules it, the heal and the first client steps. */
static void
world_schedule(struct sim_world *w)
{
	sim_fault_plan_make(&w->plan, &w->prng, w->cfg.node_count, w->cfg.fault_mask,
			    w->cfg.fault_period_ns);
	sim_net_set_faults(&w->net, &w->plan.net_faulty);
	for (uint32_t i = 0; i < w->plan.action_count; i++) {
		world_push(w, w->plan.actions[i].time_ns, SIM_EV_FAULT, 0, i, 0);
	}
	world_push(w, w->plan.heal_ns, SIM_EV_HEAL, 0, 0, 0);
	for (uint32_t i = 0; i < w->cfg.node_count; i++) {
		world_node_start(w, i);
	}
	sim_client_start_all(w);
}

void
sim_world_run(struct sim_world *w, uint64_t seed, struct sim_result *out)
{
	struct sim_event ev;

	ASSERT(w != NULL && out != NULL);
	world_reset(w, seed, out);
	world_schedule(w);
	while (!w->is_done && sim_queue_pop(&w->queue, &ev) == 0) {
		world_event(w, &ev);
		if (++out->events > EVENTS_MAX) {
			sim_world_fail(w, &out->stalls, "event budget exhausted (livelock?)");
			break;
		}
	}
	if (!w->is_done && !w->is_healed) {
		sim_world_fail(w, &out->stalls, "the event queue ran dry before the heal");
	}
	out->end_ns = sim_queue_now(&w->queue);
	out->net = w->net.stats;
	sim_check_final(w);
	out->trace_digest = base_hash_stream_final64(&w->trace);
}

static void
world_hook_decided(void *ctx, uint32_t node, const struct rabia_decided *d)
{
	sim_check_on_decided(ctx, node, d);
}

static void
world_hook_committed(void *ctx, uint32_t node, uint64_t epoch, const struct rabia_decided *d)
{
	sim_check_on_committed(ctx, node, epoch, d);
}

static void
world_hook_epoch(void *ctx, uint32_t node, uint64_t epoch, uint64_t base)
{
	struct sim_world *w = ctx;

	/* Rabia starts over at the epoch's base: delivery order restarts there. */
	w->nodes[node].expected_slot = UINT64_MAX;
	w->res->epoch_changes++;
	base_logf(&w->cfg.log, BASE_LOG_DEBUG, "seed=%llu node=%u epoch %llu from slot %llu",
		  (unsigned long long)w->seed, node, (unsigned long long)epoch,
		  (unsigned long long)base);
}

static void
world_hook_applied(void *ctx, uint32_t node, uint64_t slot, uint32_t position,
		   const struct rabia_request *req, const uint8_t *result, size_t result_size)
{
	sim_check_on_applied(ctx, node, slot, position, req, result, result_size);
}

static void
world_hook_reply(void *ctx, uint32_t node, uint64_t client_id, uint64_t client_seq,
		 const uint8_t *result, size_t result_size)
{
	sim_client_answer(ctx, node, client_id, client_seq, result, result_size);
}

static void
world_hook_event(void *ctx, uint32_t node, const struct rabia_event *ev)
{
	sim_check_on_event(ctx, node, ev);
}

static void
world_hook_installed(void *ctx, uint32_t node, uint64_t slot)
{
	struct sim_world *w = ctx;
	uint64_t words[2] = {node, slot};

	/* Rabia jumps past the snapshot only when it was behind it (a snapshot can also just
	 * replace the KV state of a replica whose Rabia is ahead, or wait for an epoch). */
	if (w->nodes[node].expected_slot != UINT64_MAX && slot + 1 > w->nodes[node].expected_slot) {
		w->nodes[node].expected_slot = slot + 1;
	}
	w->res->transfers++;
	sim_world_trace(w, words, sizeof(words));
	sim_check_on_installed(w, node, slot);
}

static void
world_hook_leader(void *ctx, uint32_t node, int has_leader, const struct node_leader_value *v)
{
	sim_check_on_leader(ctx, node, has_leader, v);
}
