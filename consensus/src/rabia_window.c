/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The decided window and everything that moves decisions between replicas: DECISION adoption
 * (R6), answers to laggards and DEC_REQ ranges (R10), FETCH of a decided body (R7), STALE
 * when a request is older than the window. The window is a ring of window_slots +
 * ahead_slots entries; slot s lives at s % ring_size. Slots [hist_low, cur) are always held;
 * entries at or above cur are decisions learnt ahead of time, used when cur gets there.
 */
#include "rabia_int.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

struct rabia_dec *
rabia_ring_get(struct rabia *r, uint64_t slot)
{
	struct rabia_dec *d = &r->ring[slot % r->ring_size];

	if (d->state == RABIA_DEC_EMPTY || d->slot != slot) {
		return NULL;
	}
	return d;
}

void
rabia_send_fetch(struct rabia *r, uint32_t to, struct rabia_batch_id id)
{
	struct rabia_msg m = {0};

	m.type = RABIA_MSG_FETCH;
	m.slot = r->cur;
	m.id = id;
	rabia_send(r, to, &m);
	r->stats.fetches++;
}

static void
dec_set_body(struct rabia_dec *d, const uint8_t *body, size_t size, uint16_t count)
{
	memcpy(d->data, body, size);
	d->size = (uint32_t)size;
	d->count = count;
	d->state = RABIA_DEC_BATCH;
}

void
rabia_ring_store(struct rabia *r, uint64_t slot, int is_null, struct rabia_batch_id id,
		 const uint8_t *body, size_t body_size, uint16_t count)
{
	struct rabia_dec *d = &r->ring[slot % r->ring_size];
	int index;

	ASSERT(slot >= r->cur && slot - r->cur < r->cfg.ahead_slots);
	/* Wanted entries all lie in [cur, cur + ahead), where distinct slots never share one. */
	ASSERT(d->state != RABIA_DEC_WANT);
	d->slot = slot;
	d->id = id;
	d->size = 0;
	d->count = 0;
	if (is_null) {
		d->state = RABIA_DEC_NULL;
		return;
	}
	rabia_decided_note(r, id, slot);
	index = rabia_pool_find(r, id);
	if (body != NULL) {
		dec_set_body(d, body, body_size, count);
	} else if (index >= 0) {
		dec_set_body(d, r->pool[index].data, r->pool[index].size, r->pool[index].count);
	} else {
		/* R7: we know which batch was decided but not its body; ask everybody. */
		d->state = RABIA_DEC_WANT;
		r->want_count++;
		rabia_send_fetch(r, RABIA_TO_ALL, id);
	}
	if (index >= 0) {
		rabia_pool_remove(r, index);
	}
}

void
rabia_ring_body(struct rabia *r, struct rabia_batch_id id, const uint8_t *body, size_t size,
		uint16_t count)
{
	for (uint64_t s = r->cur; r->want_count > 0 && s - r->cur < r->cfg.ahead_slots; s++) {
		struct rabia_dec *d = rabia_ring_get(r, s);

		if (d != NULL && d->state == RABIA_DEC_WANT && rabia_batch_id_equal(d->id, id)) {
			dec_set_body(d, body, size, count);
			r->want_count--;
		}
	}
}

void
rabia_send_decision(struct rabia *r, uint32_t to, const struct rabia_dec *d, int with_body)
{
	struct rabia_msg m = {0};

	m.type = RABIA_MSG_DECISION;
	m.slot = d->slot;
	m.id = d->id;
	if (d->state == RABIA_DEC_NULL) {
		m.value = RABIA_DECISION_NULL;
		m.id = rabia_batch_id_make(0, 0);
	} else if (d->state == RABIA_DEC_BATCH && with_body) {
		m.value = RABIA_DECISION_BATCH;
		m.batch = d->data;
		m.batch_size = d->size;
		m.batch_count = d->count;
	} else {
		m.value = RABIA_DECISION_ID;
	}
	rabia_send(r, to, &m);
}

static void
send_stale(struct rabia *r, uint32_t index, uint64_t asked)
{
	struct rabia_msg m = {0};

	m.type = RABIA_MSG_STALE;
	m.slot = r->cur;
	m.slot_hi = r->hist_low;
	rabia_send(r, rabia_member_id(r, index), &m);
	r->stats.stale_sent++;
	rabia_event(r, RABIA_EVENT_PEER_NEEDS_TRANSFER, rabia_member_id(r, index), asked, 0);
}

/* One answer per peer and slot per half RTO: retransmitted rounds come in bursts. */
static int
answer_limited(struct rabia *r, uint32_t index, uint64_t slot)
{
	if (r->answered_slot[index] == slot &&
	    r->now_ns - r->answered_ns[index] < r->cfg.rto_ns / 2) {
		return 1;
	}
	r->answered_slot[index] = slot;
	r->answered_ns[index] = r->now_ns;
	return 0;
}

void
rabia_answer_decided(struct rabia *r, uint32_t index, uint64_t slot)
{
	struct rabia_dec *d = rabia_ring_get(r, slot);

	if (answer_limited(r, index, slot)) {
		return;
	}
	if (d == NULL) {
		ASSERT(slot < r->cur);
		send_stale(r, index, slot);
		return;
	}
	rabia_send_decision(r, rabia_member_id(r, index), d, 1);
	r->stats.laggard_answers++;
}

/* A decision about a slot we are past is still a reliable "this batch is done" for the queue. */
static void
decision_forget_batch(struct rabia *r, const struct rabia_msg *m)
{
	int i;

	if (m->value == RABIA_DECISION_NULL) {
		return;
	}
	rabia_decided_note(r, m->id, m->slot);
	i = rabia_pool_find(r, m->id);
	if (i >= 0) {
		rabia_pool_remove(r, i);
	}
}

int
rabia_on_decision(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	int is_null = m->value == RABIA_DECISION_NULL;
	struct rabia_dec *d;

	if (m->batch != NULL) {
		if (rabia_batch_check(r, m->batch, m->batch_size, m->batch_count) != 0) {
			return rabia_violation(r, m->sender, m->slot, RABIA_VIOLATION_BATCH);
		}
		rabia_ring_body(r, m->id, m->batch, m->batch_size, m->batch_count);
	}
	d = rabia_ring_get(r, m->slot);
	if (d != NULL && ((d->state == RABIA_DEC_NULL) != is_null ||
			  (!is_null && !rabia_batch_id_equal(d->id, m->id)))) {
		return rabia_violation(r, m->sender, m->slot, RABIA_VIOLATION_DECISION);
	}
	if (m->slot < r->cur) {
		decision_forget_batch(r, m);
		return 0;
	}
	if (d != NULL) {
		return 0;
	}
	if (m->slot - r->cur >= r->cfg.ahead_slots) {
		rabia_request_decisions(r, index, m->slot + 1, 0);
		r->stats.ahead_drops++;
		return 0;
	}
	rabia_ring_store(r, m->slot, is_null, m->id, m->batch, m->batch_size, m->batch_count);
	r->stats.decisions_adopted++;
	return 0;
}

void
rabia_on_dec_req(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	uint32_t sent = 0;

	if (m->slot >= r->cur) {
		return;
	}
	if (m->slot < r->hist_low) {
		if (!answer_limited(r, index, m->slot)) {
			send_stale(r, index, m->slot);
		}
		return;
	}
	for (uint64_t s = m->slot; s < r->cur && s <= m->slot_hi && sent < r->cfg.catchup_max;
	     s++) {
		struct rabia_dec *d = rabia_ring_get(r, s);

		ASSERT(d != NULL);
		rabia_send_decision(r, rabia_member_id(r, index), d, 1);
		sent++;
	}
	r->stats.laggard_answers += sent;
}

static void
send_batch(struct rabia *r, uint32_t index, uint8_t type, struct rabia_batch_id id,
	   const uint8_t *data, size_t size, uint16_t count)
{
	struct rabia_msg m = {0};

	m.type = type;
	m.slot = r->cur;
	m.id = id;
	m.batch = data;
	m.batch_size = size;
	m.batch_count = count;
	rabia_send(r, rabia_member_id(r, index), &m);
}

/* Answers from the queue or the decided window, whichever still has the body. */
void
rabia_on_fetch(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	int i = rabia_pool_find(r, m->id);
	uint64_t slot;
	struct rabia_dec *d;

	if (i >= 0) {
		struct rabia_pent *p = &r->pool[i];

		send_batch(r, index, RABIA_MSG_FETCH_REPLY, p->id, p->data, p->size, p->count);
		return;
	}
	if (!rabia_decided_find(r, m->id, &slot)) {
		return;
	}
	d = rabia_ring_get(r, slot);
	if (d != NULL && d->state == RABIA_DEC_BATCH) {
		send_batch(r, index, RABIA_MSG_FETCH_REPLY, d->id, d->data, d->size, d->count);
	}
}

int
rabia_on_fetch_reply(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	(void)index;
	if (rabia_batch_check(r, m->batch, m->batch_size, m->batch_count) != 0) {
		return rabia_violation(r, m->sender, m->slot, RABIA_VIOLATION_BATCH);
	}
	rabia_ring_body(r, m->id, m->batch, m->batch_size, m->batch_count);
	/* Fetched because a peer proposed it: queue it so our head can match theirs. */
	(void)rabia_queue_offer(r, m->id, m->batch, m->batch_size, m->batch_count);
	return 0;
}

static void
need_transfer(struct rabia *r, uint32_t index, uint64_t slot)
{
	if (r->transfer_event_ns != 0 && r->now_ns - r->transfer_event_ns < r->cfg.rto_ns) {
		return;
	}
	r->transfer_event_ns = r->now_ns == 0 ? 1 : r->now_ns;
	rabia_event(r, RABIA_EVENT_NEED_TRANSFER, rabia_member_id(r, index), slot, 0);
}

void
rabia_on_stale(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	/* slot_hi is where the peer's window starts: only behind it do we need a snapshot. */
	if (m->slot_hi > r->cur) {
		need_transfer(r, index, m->slot);
	}
}

void
rabia_request_decisions(struct rabia *r, uint32_t index, uint64_t peer_slot, int force)
{
	struct rabia_msg m = {0};
	uint64_t hi;

	if (peer_slot <= r->cur) {
		return;
	}
	if (peer_slot - r->cur > r->cfg.window_slots) {
		need_transfer(r, index, peer_slot);
	}
	/* Once per RTO, or sooner when the previous answer has been used up. */
	if (!force && r->dec_req_ns != 0 && r->now_ns - r->dec_req_ns < r->cfg.rto_ns &&
	    r->cur <= r->dec_req_hi) {
		return;
	}
	hi = r->cur + r->cfg.ahead_slots - 1;
	if (peer_slot - 1 < hi) {
		hi = peer_slot - 1;
	}
	m.type = RABIA_MSG_DEC_REQ;
	m.slot = r->cur;
	m.slot_hi = hi;
	rabia_send(r, rabia_member_id(r, index), &m);
	r->dec_req_ns = r->now_ns == 0 ? 1 : r->now_ns;
	r->dec_req_hi = hi;
}
