/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replica: configuration, memory layout, the step function and its timers, the SMR loop
 * (Algorithm 1) that feeds one slot at a time to rabia_slot.c, and the output arrays.
 */
#include "consensus/rabia.h"

#include <inttypes.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/panic.h"
#include "rabia_int.h"

/* Bounds that keep every size computation far from overflow. */
#define RABIA_PENDING_LIMIT   (1u << 20)
#define RABIA_WINDOW_LIMIT    (1u << 22)
#define RABIA_IDS_LIMIT       (1u << 24)
#define RABIA_OUT_MSGS_LIMIT  (1u << 16)
#define RABIA_OUT_BYTES_LIMIT (1u << 28)
/* Progress steps per rabia_step: a bound on the loop, never reached in practice. */
#define RABIA_PROGRESS_GUARD  4096

void
rabia_cfg_defaults(struct rabia_cfg *cfg)
{
	ASSERT(cfg != NULL);
	cfg->epoch = 1;
	cfg->batch_count_max = 64;
	cfg->batch_bytes_max = 4096;
	cfg->request_bytes_max = 1024;
	cfg->pending_max = 256;
	cfg->window_slots = 1024;
	cfg->ahead_slots = 32;
	cfg->decided_ids_max = 4096;
	cfg->phase_max = 64;
	cfg->hwm_step = 64;
	cfg->catchup_max = 16;
	cfg->out_msgs_max = 256;
	cfg->out_bytes_max = 256u * 1024u;
	cfg->out_decided_max = 8;
	cfg->rto_ns = 2000000;
	cfg->batch_timeout_ns = 1000000;
	cfg->heartbeat_ns = 40000000;
	cfg->start_slot = 0;
	cfg->recovered.slot_hwm = 0;
	cfg->recovered.batch_seq_hwm = 0;
}

static int
cfg_members_ok(const struct rabia_cfg *cfg)
{
	int self_seen = 0;

	if (cfg->member_count < 1 || cfg->member_count > RABIA_NODES_MAX) {
		return 0;
	}
	for (uint32_t i = 0; i < cfg->member_count; i++) {
		for (uint32_t j = i + 1; j < cfg->member_count; j++) {
			if (cfg->members[i] == cfg->members[j]) {
				return 0;
			}
		}
		self_seen |= cfg->members[i] == cfg->self_id;
	}
	return self_seen && cfg->self_id != RABIA_TO_ALL;
}

static int
cfg_limits_ok(const struct rabia_cfg *cfg)
{
	uint64_t largest = RABIA_BATCH_HEADER_SIZE + RABIA_REQUEST_HEADER_SIZE +
			   (uint64_t)cfg->request_bytes_max;

	return cfg->batch_count_max >= 1 && cfg->batch_count_max <= RABIA_BATCH_COUNT_MAX &&
	       cfg->batch_bytes_max <= RABIA_BATCH_BYTES_MAX && largest <= cfg->batch_bytes_max &&
	       cfg->pending_max >= cfg->member_count && cfg->pending_max <= RABIA_PENDING_LIMIT &&
	       cfg->window_slots >= 2 && cfg->window_slots <= RABIA_WINDOW_LIMIT &&
	       cfg->ahead_slots >= 1 && cfg->ahead_slots <= cfg->window_slots &&
	       cfg->decided_ids_max >= cfg->window_slots + cfg->ahead_slots &&
	       cfg->decided_ids_max <= RABIA_IDS_LIMIT && cfg->phase_max >= 1 &&
	       cfg->hwm_step >= 1 && cfg->catchup_max >= 1 && cfg->out_msgs_max >= 8 &&
	       cfg->out_msgs_max <= RABIA_OUT_MSGS_LIMIT && cfg->out_bytes_max >= RABIA_MSG_MAX &&
	       cfg->out_bytes_max <= RABIA_OUT_BYTES_LIMIT && cfg->out_decided_max >= 1 &&
	       cfg->out_decided_max <= 1024 && cfg->rto_ns > 0;
}

int
rabia_cfg_check(const struct rabia_cfg *cfg)
{
	ASSERT(cfg != NULL);
	if (!cfg_members_ok(cfg) || !cfg_limits_ok(cfg) || (cfg->break_rules & ~RABIA_BREAK_ALL)) {
		return -EINVAL;
	}
	/* Slots and sequence numbers are u64 counters; keep far from wrapping. */
	if (cfg->start_slot > UINT64_MAX / 4 || cfg->recovered.slot_hwm > UINT64_MAX / 4 ||
	    cfg->recovered.batch_seq_hwm > UINT64_MAX / 4 || cfg->recovered.epoch > cfg->epoch) {
		return -EINVAL;
	}
	return 0;
}

/* Offsets of every array inside the replica's memory block. */
struct rabia_layout {
	size_t pool;
	size_t pool_data;
	size_t free_list;
	size_t queue;
	size_t pool_ids;
	size_t ring;
	size_t ring_data;
	size_t dec_ids;
	size_t dec_fifo;
	size_t out_msgs;
	size_t out_bytes;
	size_t out_decided;
	size_t out_reqs;
	size_t total;
};

static size_t
layout_take(size_t *pos, size_t size)
{
	size_t at = (*pos + 15) & ~(size_t)15;

	*pos = at + size;
	return at;
}

static void
layout_compute(const struct rabia_cfg *c, struct rabia_layout *l)
{
	size_t pos = sizeof(struct rabia);
	size_t ring = (size_t)c->window_slots + c->ahead_slots;
	size_t body = ((size_t)c->batch_bytes_max + 15) & ~(size_t)15;
	size_t id = sizeof(struct rabia_batch_id);

	l->pool = layout_take(&pos, c->pending_max * sizeof(struct rabia_pent));
	l->pool_data = layout_take(&pos, c->pending_max * body);
	l->free_list = layout_take(&pos, c->pending_max * sizeof(uint32_t));
	l->queue = layout_take(&pos, base_heap_size(c->pending_max, sizeof(struct rabia_qent)));
	l->pool_ids = layout_take(&pos, base_map_size(c->pending_max, id, sizeof(uint32_t)));
	l->ring = layout_take(&pos, ring * sizeof(struct rabia_dec));
	l->ring_data = layout_take(&pos, ring * body);
	l->dec_ids = layout_take(&pos, base_map_size(c->decided_ids_max, id, sizeof(uint64_t)));
	l->dec_fifo = layout_take(&pos, c->decided_ids_max * id);
	l->out_msgs = layout_take(&pos, c->out_msgs_max * sizeof(struct rabia_out_msg));
	l->out_bytes = layout_take(&pos, c->out_bytes_max);
	l->out_decided = layout_take(&pos, c->out_decided_max * sizeof(struct rabia_decided));
	l->out_reqs = layout_take(&pos, (size_t)c->out_decided_max * c->batch_count_max *
						sizeof(struct rabia_request));
	l->total = layout_take(&pos, 0);
}

size_t
rabia_size(const struct rabia_cfg *cfg)
{
	struct rabia_layout l;

	ASSERT(rabia_cfg_check(cfg) == 0);
	layout_compute(cfg, &l);
	return l.total;
}

static int
qent_cmp(const void *a, const void *b)
{
	const struct rabia_qent *x = a;
	const struct rabia_qent *y = b;

	/* (proxy batch seq, proxy id): rabia.md 1.7 row 3; identical on every replica. */
	if (x->seq != y->seq) {
		return x->seq < y->seq ? -1 : 1;
	}
	if (x->proxy != y->proxy) {
		return x->proxy < y->proxy ? -1 : 1;
	}
	return 0;
}

static uint32_t
member_index_of(const struct rabia_cfg *cfg, uint32_t id)
{
	for (uint32_t i = 0; i < cfg->member_count; i++) {
		if (cfg->members[i] == id) {
			return i;
		}
	}
	return UINT32_MAX;
}

static void
init_arrays(struct rabia *r, uint8_t *base, const struct rabia_layout *l)
{
	const struct rabia_cfg *c = &r->cfg;
	size_t body = ((size_t)c->batch_bytes_max + 15) & ~(size_t)15;
	size_t id = sizeof(struct rabia_batch_id);

	r->pool = (struct rabia_pent *)(void *)(base + l->pool);
	r->free_list = (uint32_t *)(void *)(base + l->free_list);
	for (uint32_t i = 0; i < c->pending_max; i++) {
		r->pool[i].data = base + l->pool_data + i * body;
		r->free_list[i] = c->pending_max - 1 - i;
	}
	r->free_count = c->pending_max;
	r->queue = base_heap_init(base + l->queue, c->pending_max, sizeof(struct rabia_qent),
				  qent_cmp);
	r->pool_ids = base_map_init(base + l->pool_ids, c->pending_max, id, sizeof(uint32_t),
				    c->coin_key ^ 0x706f6f6cull);
	r->ring_size = c->window_slots + c->ahead_slots;
	r->ring = (struct rabia_dec *)(void *)(base + l->ring);
	for (uint32_t i = 0; i < r->ring_size; i++) {
		r->ring[i].data = base + l->ring_data + i * body;
	}
	r->dec_ids = base_map_init(base + l->dec_ids, c->decided_ids_max, id, sizeof(uint64_t),
				   c->coin_key ^ 0x646563ull);
	r->dec_fifo = (struct rabia_batch_id *)(void *)(base + l->dec_fifo);
	r->out_msgs = (struct rabia_out_msg *)(void *)(base + l->out_msgs);
	r->out_bytes = base + l->out_bytes;
	r->out_decided = (struct rabia_decided *)(void *)(base + l->out_decided);
	r->out_reqs = (struct rabia_request *)(void *)(base + l->out_reqs);
}

int
rabia_init(void *memory, const struct rabia_cfg *cfg, struct rabia **out)
{
	struct rabia_layout l;
	struct rabia *r = memory;

	ASSERT(memory != NULL);
	ASSERT(out != NULL);
	ASSERT((uintptr_t)memory % 16 == 0);
	if (rabia_cfg_check(cfg) != 0) {
		return -EINVAL;
	}
	layout_compute(cfg, &l);
	memset(memory, 0, l.total);
	r->cfg = *cfg;
	rabia_quorum_init(&r->q, cfg->member_count, member_index_of(cfg, cfg->self_id), cfg->epoch,
			  cfg->coin_key);
	r->q.break_rules = cfg->break_rules;
	init_arrays(r, memory, &l);
	r->open_index = -1;
	r->quota = cfg->pending_max / cfg->member_count;
	r->cur = cfg->start_slot;
	r->hist_low = cfg->start_slot;
	r->durable = cfg->recovered;
	r->durable.epoch = cfg->epoch;
	r->batch_seq_next = cfg->recovered.batch_seq_hwm;
	if (cfg->recovered.epoch == cfg->epoch) {
		r->passive_below = cfg->recovered.slot_hwm;
	} else {
		/* Nothing this replica sent in an older epoch can be counted now (R11 binds per
		 * epoch). */
		r->durable.slot_hwm = 0;
	}
	rabia_slot_reset(&r->slots[r->cur & 1], r->cur);
	rabia_slot_reset(&r->slots[(r->cur + 1) & 1], r->cur + 1);
	for (uint32_t i = 0; i < RABIA_NODES_MAX; i++) {
		r->answered_slot[i] = UINT64_MAX;
	}
	*out = r;
	return 0;
}

int
rabia_create(const struct rabia_cfg *cfg, struct rabia **out)
{
	void *memory;
	int rc;

	ASSERT(out != NULL);
	if (rabia_cfg_check(cfg) != 0) {
		return -EINVAL;
	}
	memory = base_alloc(rabia_size(cfg));
	if (memory == NULL) {
		return -ENOMEM;
	}
	rc = rabia_init(memory, cfg, out);
	ASSERT(rc == 0);
	(*out)->allocated = 1;
	return 0;
}

void
rabia_destroy(struct rabia *r)
{
	if (r == NULL) {
		return;
	}
	ASSERT(r->allocated);
	base_free(r);
}

/* ---- helpers shared with the other rabia files ---- */

uint32_t
rabia_member_index(const struct rabia *r, uint32_t id)
{
	return member_index_of(&r->cfg, id);
}

uint32_t
rabia_member_id(const struct rabia *r, uint32_t index)
{
	ASSERT(index < r->q.n);
	return r->cfg.members[index];
}

void
rabia_send(struct rabia *r, uint32_t to, struct rabia_msg *m)
{
	size_t size;
	int rc;

	ASSERT(to != r->cfg.self_id);
	if (r->q.n == 1) {
		return;
	}
	m->sender = r->cfg.self_id;
	m->cluster_id = r->cfg.cluster_id;
	m->epoch = r->cfg.epoch;
	size = rabia_msg_encoded_size(m);
	if (r->out_msg_count == r->cfg.out_msgs_max ||
	    size > r->cfg.out_bytes_max - r->out_bytes_used) {
		/* Like a lost datagram: retransmission covers it. */
		r->stats.msgs_out_dropped++;
		return;
	}
	rc = rabia_msg_encode(m, r->out_bytes + r->out_bytes_used,
			      r->cfg.out_bytes_max - r->out_bytes_used, &size);
	ASSERT(rc == 0);
	r->out_msgs[r->out_msg_count].to = to;
	r->out_msgs[r->out_msg_count].data = r->out_bytes + r->out_bytes_used;
	r->out_msgs[r->out_msg_count].size = size;
	r->out_msg_count++;
	r->out_bytes_used += size;
	r->stats.msgs_out++;
}

void
rabia_event(struct rabia *r, enum rabia_event_type type, uint32_t peer, uint64_t slot, int code)
{
	struct rabia_event *e;

	if (r->out_event_count == RABIA_OUT_EVENTS_MAX) {
		r->stats.events_dropped++;
		return;
	}
	e = &r->out_events[r->out_event_count++];
	e->type = type;
	e->peer = peer;
	e->slot = slot;
	e->code = code;
}

int
rabia_violation(struct rabia *r, uint32_t peer_id, uint64_t slot, enum rabia_violation v)
{
	r->stats.violations++;
	if (v == RABIA_VIOLATION_EQUIVOCATION) {
		r->stats.equivocations++;
	}
	rabia_event(r, RABIA_EVENT_VIOLATION, peer_id, slot, (int)v);
	return -EPROTO;
}

int
rabia_batch_check(const struct rabia *r, const uint8_t *data, size_t size, uint16_t count)
{
	ASSERT(data != NULL);
	if (size > r->cfg.batch_bytes_max || count > r->cfg.batch_count_max) {
		return -EPROTO;
	}
	return 0;
}

/* ---- the SMR loop ---- */

static struct rabia_slot *
cur_slot(struct rabia *r)
{
	struct rabia_slot *s = &r->slots[r->cur & 1];

	ASSERT(s->slot == r->cur);
	return s;
}

static void
send_slot_msg(struct rabia *r, uint32_t to, uint8_t type, uint32_t phase, uint8_t value)
{
	struct rabia_slot *s = cur_slot(r);
	struct rabia_msg m = {0};

	m.type = type;
	m.slot = s->slot;
	m.phase = phase;
	m.value = value;
	if (type == RABIA_MSG_PROPOSAL) {
		m.id = s->my_prop;
	} else if (value == 1) {
		/* R7: 1-valued STATE and VOTE name the majority batch. */
		ASSERT(s->maj_known);
		m.id = s->maj_id;
	}
	rabia_send(r, to, &m);
}

/* Algorithm 1 line 1 (and R3's NULL): the head of the queue, peeked, not popped. */
static int
slot_propose(struct rabia *r, struct rabia_slot *s)
{
	const struct rabia_pent *head = rabia_queue_head(r);
	struct rabia_batch_id none = rabia_batch_id_make(0, 0);

	if (head == NULL && !rabia_slot_has_proposals(s)) {
		return 0;
	}
	rabia_slot_propose(s, &r->q, head == NULL, head == NULL ? none : head->id);
	send_slot_msg(r, RABIA_TO_ALL, RABIA_MSG_PROPOSAL, 0, head == NULL ? 0 : 1);
	r->activity_ns = r->now_ns;
	return 1;
}

static void
slot_decided(struct rabia *r, struct rabia_slot *s, uint8_t value)
{
	struct rabia_dec *d;

	/* R6: tell everybody; the body travels only on request (they have it from REQ). */
	rabia_ring_store(r, s->slot, value == 0, s->maj_id, NULL, 0, 0);
	d = rabia_ring_get(r, s->slot);
	ASSERT(d != NULL);
	rabia_send_decision(r, RABIA_TO_ALL, d, 0);
}

static void
phase_alarm(struct rabia *r, struct rabia_slot *s)
{
	if (s->phase > r->stats.phase_max_seen) {
		r->stats.phase_max_seen = s->phase;
	}
	if (s->phase > r->cfg.phase_max && !s->alarmed) {
		s->alarmed = 1;
		r->stats.phase_alarms++;
		rabia_event(r, RABIA_EVENT_PHASE_ALARM, r->cfg.self_id, s->slot, (int)s->phase);
	}
}

/* One Weak-MVC action in the current slot; 1 when something happened. */
static int
slot_step(struct rabia *r)
{
	struct rabia_slot *s = cur_slot(r);
	uint32_t anomalies = s->anomalies;
	uint32_t flips = s->coin_flips;
	struct rabia_act act;

	if (!rabia_may_participate(r)) {
		return 0;
	}
	if (!s->proposed) {
		return slot_propose(r, s);
	}
	act = rabia_slot_advance(s, &r->q);
	r->stats.violations += s->anomalies - anomalies;
	r->stats.coin_flips += s->coin_flips - flips;
	switch (act.type) {
	case RABIA_ACT_NONE:
		return 0;
	case RABIA_ACT_STATE:
		send_slot_msg(r, RABIA_TO_ALL, RABIA_MSG_STATE, act.phase, act.value);
		phase_alarm(r, s);
		break;
	case RABIA_ACT_VOTE:
		send_slot_msg(r, RABIA_TO_ALL, RABIA_MSG_VOTE, act.phase, act.value);
		break;
	case RABIA_ACT_DECIDE:
		slot_decided(r, s, act.value);
		break;
	}
	r->activity_ns = r->now_ns;
	return 1;
}

static void
advance_slot(struct rabia *r)
{
	struct rabia_slot *old = cur_slot(r);

	r->cur++;
	rabia_slot_reset(old, r->cur + 1);
	ASSERT(r->slots[r->cur & 1].slot == r->cur);
	if (r->cur - r->hist_low > r->cfg.window_slots) {
		r->hist_low = r->cur - r->cfg.window_slots;
	}
	r->activity_ns = r->now_ns;
}

/* Algorithm 1 line 3: log[seq] <- output, handed to the driver in slot order. */
static void
deliver(struct rabia *r, const struct rabia_dec *d)
{
	struct rabia_decided *o = &r->out_decided[r->out_decided_count];
	struct rabia_request *reqs =
		r->out_reqs + r->out_decided_count * (size_t)r->cfg.batch_count_max;
	struct rabia_batch_id id;
	uint16_t count = 0;
	int rc;

	ASSERT(d->slot == r->cur);
	memset(o, 0, sizeof(*o));
	o->slot = d->slot;
	o->is_null = d->state == RABIA_DEC_NULL;
	if (!o->is_null) {
		rc = rabia_batch_parse(d->data, d->size, &id, &count, reqs, r->cfg.batch_count_max);
		ASSERT(rc == 0);
		ASSERT(rabia_batch_id_equal(id, d->id));
		o->id = d->id;
		o->request_count = count;
		o->requests = reqs;
		o->batch = d->data;
		o->batch_size = d->size;
	} else {
		r->stats.slots_null++;
	}
	r->out_decided_count++;
	r->stats.slots_decided++;
	advance_slot(r);
}

static void
progress(struct rabia *r)
{
	for (int guard = 0; guard < RABIA_PROGRESS_GUARD; guard++) {
		const struct rabia_dec *d = rabia_ring_get(r, r->cur);

		if (d == NULL) {
			if (!slot_step(r)) {
				return;
			}
			continue;
		}
		if (d->state == RABIA_DEC_WANT) {
			return;
		}
		if (r->out_decided_count == r->cfg.out_decided_max) {
			r->more_work = 1;
			return;
		}
		deliver(r, d);
	}
	r->more_work = 1;
}

/* ---- inputs ---- */

/*
 * A peer proposed a batch. If we know it was decided, the peer's queue is stale (it skipped
 * slots by state transfer): tell it. If we do not have it, fetch it, so that our queue head
 * can match: a batch only a minority holds would otherwise lose slot after slot.
 */
static void
proposal_seen(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	uint64_t done;

	if (rabia_decided_find(r, m->id, &done)) {
		struct rabia_msg d = {
			.type = RABIA_MSG_DECISION, .slot = done, .value = 1, .id = m->id};

		rabia_send(r, rabia_member_id(r, index), &d);
	} else if (rabia_pool_find(r, m->id) < 0) {
		rabia_send_fetch(r, rabia_member_id(r, index), m->id);
	}
}

static void resend_phase(struct rabia *r, uint32_t to, uint32_t phase);

/*
 * The sender is in a phase of our current slot that we have finished. The replicas that helped
 * us through it may have crashed since; without our messages of that phase it could never
 * finish it (and we could never finish ours without it). Our timer re-sends only the last two
 * phases, so answer on demand, once per peer and phase per half RTO.
 */
static void
answer_old_phase(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	if (m->slot != r->cur || !rabia_may_participate(r)) {
		return;
	}
	if (r->answered_phase[index] == m->phase &&
	    r->now_ns - r->answered_phase_ns[index] < r->cfg.rto_ns / 2) {
		return;
	}
	r->answered_phase[index] = m->phase;
	r->answered_phase_ns[index] = r->now_ns;
	resend_phase(r, rabia_member_id(r, index), m->phase);
}

/* PROPOSAL, STATE, VOTE. */
static int
on_slot_msg(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	struct rabia_slot *s;

	if (m->slot < r->cur || rabia_ring_get(r, m->slot) != NULL) {
		/* R6/R10: the sender is behind us in this slot; hand it the decision. */
		rabia_answer_decided(r, index, m->slot);
		return 0;
	}
	if (m->slot - r->cur > 1) {
		r->stats.ahead_drops++;
		rabia_request_decisions(r, index, m->slot, 0);
		return 0;
	}
	if (m->type == RABIA_MSG_PROPOSAL && m->value == 1) {
		proposal_seen(r, index, m);
	}
	s = &r->slots[m->slot & 1];
	switch (rabia_slot_record_q(s, &r->q, index, m)) {
	case RABIA_REC_NEW:
		return 0;
	case RABIA_REC_OLD:
		answer_old_phase(r, index, m);
		return 0;
	case RABIA_REC_DUP:
		r->stats.duplicates++;
		return 0;
	case RABIA_REC_AHEAD:
		r->stats.ahead_drops++;
		return 0;
	case RABIA_REC_CONFLICT:
		return rabia_violation(r, m->sender, m->slot, RABIA_VIOLATION_EQUIVOCATION);
	case RABIA_REC_WRONG_ID:
		return rabia_violation(r, m->sender, m->slot, RABIA_VIOLATION_WRONG_ID);
	}
	return 0;
}

/* Every message says how far its sender has got (the header slot, R10). */
static void
note_peer(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	if (m->slot > r->peer_slot[index]) {
		r->peer_slot[index] = m->slot;
	}
	if (m->slot > r->cur && m->slot - r->cur > r->cfg.window_slots) {
		rabia_request_decisions(r, index, m->slot, 0);
	}
}

static int
dispatch(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	switch (m->type) {
	case RABIA_MSG_REQ:
		return rabia_on_req(r, index, m);
	case RABIA_MSG_REQ_ACK:
		rabia_on_req_ack(r, index, m);
		return 0;
	case RABIA_MSG_PROPOSAL:
	case RABIA_MSG_STATE:
	case RABIA_MSG_VOTE:
		return on_slot_msg(r, index, m);
	case RABIA_MSG_DECISION:
		return rabia_on_decision(r, index, m);
	case RABIA_MSG_DEC_REQ:
		rabia_on_dec_req(r, index, m);
		return 0;
	case RABIA_MSG_FETCH:
		rabia_on_fetch(r, index, m);
		return 0;
	case RABIA_MSG_FETCH_REPLY:
		return rabia_on_fetch_reply(r, index, m);
	case RABIA_MSG_STALE:
		rabia_on_stale(r, index, m);
		return 0;
	default:
		/* The decoder accepts only the types above. */
		PANIC("rabia: decoded unknown type %u", m->type);
	}
}

static int
on_message(struct rabia *r, const struct rabia_input *in)
{
	struct rabia_msg m;
	uint32_t index;
	int rc;

	r->stats.msgs_in++;
	rc = rabia_msg_decode(in->message.data, in->message.size, &m);
	if (rc != 0) {
		r->stats.decode_errors++;
		return rc;
	}
	if (m.cluster_id != r->cfg.cluster_id || m.epoch != r->cfg.epoch) {
		r->stats.foreign++;
		return -ESTALE;
	}
	index = member_index_of(&r->cfg, m.sender);
	if (index == UINT32_MAX || index == r->q.self || m.sender != in->message.from) {
		return rabia_violation(r, in->message.from, m.slot, RABIA_VIOLATION_SENDER);
	}
	note_peer(r, index, &m);
	return dispatch(r, index, &m);
}

static int
on_installed(struct rabia *r, uint64_t slot)
{
	if (slot >= UINT64_MAX / 4 || slot < r->cur) {
		return -ESTALE;
	}
	/* Decisions learnt ahead for slots the snapshot covers are of no use any more. */
	for (uint32_t i = 0; i < r->ring_size; i++) {
		struct rabia_dec *d = &r->ring[i];

		if (d->state != RABIA_DEC_EMPTY && d->slot >= r->cur && d->slot <= slot) {
			r->want_count -= d->state == RABIA_DEC_WANT;
			d->state = RABIA_DEC_EMPTY;
		}
	}
	r->cur = slot + 1;
	r->hist_low = r->cur;
	rabia_slot_reset(&r->slots[r->cur & 1], r->cur);
	rabia_slot_reset(&r->slots[(r->cur + 1) & 1], r->cur + 1);
	r->activity_ns = r->now_ns;
	return 0;
}

/* ---- timers: they only retransmit (safety never depends on time) ---- */

static void
resend_phase(struct rabia *r, uint32_t to, uint32_t phase)
{
	const struct rabia_slot *s = cur_slot(r);
	uint8_t value;

	if (rabia_slot_sent(s, RABIA_MSG_STATE, phase, &value)) {
		send_slot_msg(r, to, RABIA_MSG_STATE, phase, value);
	}
	if (rabia_slot_sent(s, RABIA_MSG_VOTE, phase, &value)) {
		send_slot_msg(r, to, RABIA_MSG_VOTE, phase, value);
	}
}

/* Re-sends this replica's PROPOSAL and its STATE/VOTE of the current and previous phase. */
static void
retransmit_slot(struct rabia *r)
{
	struct rabia_slot *s = cur_slot(r);

	if (!s->proposed || !rabia_may_participate(r)) {
		return;
	}
	send_slot_msg(r, RABIA_TO_ALL, RABIA_MSG_PROPOSAL, 0, s->my_prop_null ? 0 : 1);
	if (s->phase >= 2) {
		resend_phase(r, RABIA_TO_ALL, s->phase - 1);
	}
	resend_phase(r, RABIA_TO_ALL, s->phase);
}

/* The member index of the peer furthest ahead, or UINT32_MAX when there is no peer. */
static uint32_t
most_advanced_peer(const struct rabia *r)
{
	uint32_t best = UINT32_MAX;

	for (uint32_t i = 0; i < r->q.n; i++) {
		if (i != r->q.self &&
		    (best == UINT32_MAX || r->peer_slot[i] > r->peer_slot[best])) {
			best = i;
		}
	}
	return best;
}

static int
peer_ahead(const struct rabia *r, uint32_t index)
{
	return index != UINT32_MAX && r->peer_slot[index] > r->cur;
}

/* Something in the current slot waits on other replicas. */
static int
slot_busy(struct rabia *r)
{
	const struct rabia_slot *s = cur_slot(r);
	const struct rabia_dec *d = rabia_ring_get(r, r->cur);
	uint32_t ahead = most_advanced_peer(r);

	if (d != NULL) {
		return d->state == RABIA_DEC_WANT;
	}
	return s->proposed || s->prop_from != 0 || r->cur < r->passive_below ||
	       peer_ahead(r, ahead);
}

static void
send_dec_req_all(struct rabia *r)
{
	struct rabia_msg m = {0};

	m.type = RABIA_MSG_DEC_REQ;
	m.slot = r->cur;
	m.slot_hi = r->cur + r->cfg.ahead_slots - 1;
	rabia_send(r, RABIA_TO_ALL, &m);
}

static void
slot_timer(struct rabia *r)
{
	const struct rabia_dec *d = rabia_ring_get(r, r->cur);
	uint32_t ahead = most_advanced_peer(r);

	if (!slot_busy(r) || r->now_ns - r->activity_ns < r->cfg.rto_ns) {
		return;
	}
	r->activity_ns = r->now_ns;
	r->stats.retransmits++;
	retransmit_slot(r);
	if (d != NULL && d->state == RABIA_DEC_WANT) {
		struct rabia_msg m = {.type = RABIA_MSG_FETCH, .slot = r->cur, .id = d->id};

		rabia_send(r, RABIA_TO_ALL, &m);
		r->stats.fetches++;
	}
	if (peer_ahead(r, ahead)) {
		rabia_request_decisions(r, ahead, r->peer_slot[ahead] + 1, 1);
	} else if (r->cur < r->passive_below) {
		/* R11 rejoin: slots below H are learnt only from DECISIONs; ask for them. */
		send_dec_req_all(r);
	}
}

static void
timers(struct rabia *r)
{
	slot_timer(r);
	if (r->own_unacked > 0 && r->now_ns - r->req_retx_ns >= r->cfg.rto_ns) {
		r->req_retx_ns = r->now_ns;
		rabia_reqs_send(r, 1);
	}
	if (r->cfg.heartbeat_ns != 0 && r->now_ns - r->heartbeat_last_ns >= r->cfg.heartbeat_ns) {
		r->heartbeat_last_ns = r->now_ns;
		send_dec_req_all(r);
	}
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
next_tick(struct rabia *r)
{
	uint64_t t = UINT64_MAX;

	if (r->more_work) {
		return r->now_ns;
	}
	if (r->open_index >= 0 && r->open_timed) {
		t = min_u64(t, r->open_ns + r->cfg.batch_timeout_ns);
	}
	if (slot_busy(r)) {
		t = min_u64(t, r->activity_ns + r->cfg.rto_ns);
	}
	if (r->own_unacked > 0) {
		t = min_u64(t, r->req_retx_ns + r->cfg.rto_ns);
	}
	if (!r->write_inflight && r->write_retry_ns > r->now_ns) {
		t = min_u64(t, r->write_retry_ns);
	}
	if (r->cfg.heartbeat_ns != 0) {
		t = min_u64(t, r->heartbeat_last_ns + r->cfg.heartbeat_ns);
	}
	return t < r->now_ns ? r->now_ns : t;
}

/* ---- step ---- */

static void
output_reset(struct rabia *r)
{
	r->out_msg_count = 0;
	r->out_bytes_used = 0;
	r->out_decided_count = 0;
	r->out_event_count = 0;
	r->has_write = 0;
	r->more_work = 0;
}

static void
output_fill(struct rabia *r, struct rabia_output *out)
{
	out->msgs = r->out_msgs;
	out->msg_count = r->out_msg_count;
	out->decided = r->out_decided;
	out->decided_count = r->out_decided_count;
	out->write = r->has_write ? &r->out_write : NULL;
	out->events = r->out_events;
	out->event_count = r->out_event_count;
	out->next_tick_ns = next_tick(r);
}

static void
run(struct rabia *r)
{
	if (r->open_index >= 0 && !r->open_timed) {
		r->open_timed = 1;
		r->open_ns = r->now_ns;
	}
	(void)rabia_open_seal(r, 0);
	/* New batches go out before the proposal that may name them. */
	rabia_reqs_send(r, 0);
	progress(r);
	timers(r);
	rabia_durable_maybe_write(r);
}

int
rabia_step(struct rabia *r, const struct rabia_input *in, struct rabia_output *out)
{
	int rc = 0;

	ASSERT(r != NULL);
	ASSERT(in != NULL);
	ASSERT(out != NULL);
	output_reset(r);
	if (in->now_ns > r->now_ns) {
		r->now_ns = in->now_ns;
	}
	switch (in->type) {
	case RABIA_INPUT_MESSAGE:
		rc = on_message(r, in);
		break;
	case RABIA_INPUT_TICK:
		break;
	case RABIA_INPUT_STORAGE_DONE:
		rc = rabia_on_storage(r, in->storage.token, in->storage.status);
		break;
	case RABIA_INPUT_STATE_INSTALLED:
		rc = on_installed(r, in->installed.slot);
		break;
	default:
		PANIC("rabia_step: input type %d", (int)in->type);
	}
	run(r);
	output_fill(r, out);
	ASSERT(out->msg_count <= r->cfg.out_msgs_max);
	ASSERT(out->decided_count <= r->cfg.out_decided_max);
	return rc;
}

int
rabia_submit(struct rabia *r, uint64_t client_id, uint64_t client_seq, const uint8_t *body,
	     size_t size)
{
	int rc;

	ASSERT(r != NULL);
	ASSERT(body != NULL || size == 0);
	rc = rabia_open_submit(r, client_id, client_seq, body, size);
	if (rc != 0) {
		r->stats.submit_rejects++;
	}
	return rc;
}

/* ---- queries ---- */

uint64_t
rabia_next_slot(const struct rabia *r)
{
	return r->cur;
}

size_t
rabia_pending_count(const struct rabia *r)
{
	return base_heap_count(r->queue);
}

struct rabia_durable
rabia_durable_state(const struct rabia *r)
{
	return r->durable;
}

const struct rabia_stats *
rabia_get_stats(const struct rabia *r)
{
	return &r->stats;
}

void
rabia_dump(const struct rabia *r, FILE *f)
{
	const struct rabia_slot *s = &r->slots[r->cur & 1];
	const struct rabia_stats *st = &r->stats;

	fprintf(f,
		"rabia node=%" PRIu32 " n=%" PRIu32 " slot=%" PRIu64 " phase=%" PRIu32
		" proposed=%d pending=%zu hwm=%" PRIu64 " passive_below=%" PRIu64 "\n",
		r->cfg.self_id, r->q.n, r->cur, s->phase, s->proposed, base_heap_count(r->queue),
		r->durable.slot_hwm, r->passive_below);
	fprintf(f,
		"rabia decided=%" PRIu64 " null=%" PRIu64 " adopted=%" PRIu64 " violations=%" PRIu64
		" equivocations=%" PRIu64 " duplicates=%" PRIu64 " retransmits=%" PRIu64
		" fetches=%" PRIu64 " max_phase=%" PRIu64 "\n",
		st->slots_decided, st->slots_null, st->decisions_adopted, st->violations,
		st->equivocations, st->duplicates, st->retransmits, st->fetches,
		st->phase_max_seen);
	if (rabia_queue_head(r) != NULL) {
		const struct rabia_pent *h = rabia_queue_head(r);

		fprintf(f, "rabia queue_head=%" PRIu32 "/%" PRIu64 " own=%d acked=%#" PRIx64 "\n",
			h->id.proxy, h->id.seq, h->own, h->acked);
	}
	fprintf(f,
		"rabia msgs_in=%" PRIu64 " msgs_out=%" PRIu64 " out_dropped=%" PRIu64
		" decode_errors=%" PRIu64 " ahead_drops=%" PRIu64 " queue_full=%" PRIu64 "\n",
		st->msgs_in, st->msgs_out, st->msgs_out_dropped, st->decode_errors, st->ahead_drops,
		st->queue_full_drops);
}
