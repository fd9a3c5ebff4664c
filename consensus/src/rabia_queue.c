/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pending queue PQ_i of Algorithm 1 and what feeds it: the batch pool (bodies of undecided
 * batches), the proxy's open batch, REQ forwarding with acknowledgements, and the memory of
 * decided batch ids that keeps a decided batch from being queued or proposed again (R3).
 */
#include "rabia_int.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

static uint64_t
all_members(const struct rabia *r)
{
	return r->q.n == 64 ? UINT64_MAX : (1ull << r->q.n) - 1;
}

int
rabia_pool_find(const struct rabia *r, struct rabia_batch_id id)
{
	const uint32_t *index = base_map_get(r->pool_ids, &id);

	return index == NULL ? -1 : (int)*index;
}

/*
 * Each proxy may hold at most `quota` entries of any pool, so one busy proxy can never fill a
 * replica's queue and make it drop (and so miss) other proxies' batches: replicas whose queues
 * hold different sets propose different heads and decide ⊥ slot after slot.
 */
static int
pool_alloc(struct rabia *r, uint32_t proxy_index)
{
	uint32_t index;

	ASSERT(proxy_index < r->q.n);
	if (r->free_count == 0 || r->proxy_count[proxy_index] >= r->quota) {
		return -1;
	}
	index = r->free_list[--r->free_count];
	ASSERT(!r->pool[index].in_use);
	r->pool[index].in_use = 1;
	r->pool[index].proxy_index = (uint8_t)proxy_index;
	r->proxy_count[proxy_index]++;
	return (int)index;
}

static void
pool_release(struct rabia *r, uint32_t index)
{
	struct rabia_pent *p = &r->pool[index];
	uint8_t *data = p->data;

	ASSERT(p->in_use);
	ASSERT(r->free_count < r->cfg.pending_max);
	ASSERT(r->proxy_count[p->proxy_index] > 0);
	r->proxy_count[p->proxy_index]--;
	memset(p, 0, sizeof(*p));
	p->data = data;
	r->free_list[r->free_count++] = index;
}

/* Heap and map have the pool's capacity, so neither can be full here. */
static void
queue_insert(struct rabia *r, uint32_t index)
{
	struct rabia_pent *p = &r->pool[index];
	struct rabia_qent e = {.seq = p->id.seq, .proxy = p->id.proxy, .index = index};
	int rc;

	rc = base_heap_push(r->queue, &e);
	ASSERT(rc == 0);
	rc = base_map_put(r->pool_ids, &p->id, &index);
	ASSERT(rc == 0);
}

int
rabia_pool_add(struct rabia *r, struct rabia_batch_id id, const uint8_t *data, size_t size,
	       uint16_t count)
{
	int index;
	struct rabia_pent *p;

	ASSERT(size <= r->cfg.batch_bytes_max);
	ASSERT(rabia_pool_find(r, id) < 0);
	index = pool_alloc(r, rabia_member_index(r, id.proxy));
	if (index < 0) {
		return -ENOBUFS;
	}
	p = &r->pool[index];
	memcpy(p->data, data, size);
	p->id = id;
	p->size = (uint32_t)size;
	p->count = count;
	queue_insert(r, (uint32_t)index);
	return 0;
}

static void
queue_remove(struct rabia *r, uint32_t index)
{
	size_t count = base_heap_count(r->queue);

	for (size_t i = 0; i < count; i++) {
		const struct rabia_qent *e = base_heap_at(r->queue, i);

		if (e->index == index) {
			base_heap_remove_at(r->queue, i);
			return;
		}
	}
	PANIC("rabia: pool entry %u is not queued", index);
}

/* Cost: O(pending) for the heap scan; once per decided batch. */
void
rabia_pool_remove(struct rabia *r, int index)
{
	struct rabia_pent *p;
	int rc;

	ASSERT(index >= 0 && (uint32_t)index < r->cfg.pending_max);
	ASSERT(index != r->open_index);
	p = &r->pool[index];
	queue_remove(r, (uint32_t)index);
	rc = base_map_remove(r->pool_ids, &p->id, NULL);
	ASSERT(rc == 0);
	if (p->own && p->acked != all_members(r)) {
		ASSERT(r->own_unacked > 0);
		r->own_unacked--;
	}
	if (p->own && !p->sent) {
		ASSERT(r->own_unsent > 0);
		r->own_unsent--;
	}
	pool_release(r, (uint32_t)index);
}

const struct rabia_pent *
rabia_queue_head(const struct rabia *r)
{
	const struct rabia_qent *e = base_heap_peek(r->queue);

	if (e == NULL) {
		return NULL;
	}
	ASSERT(r->pool[e->index].in_use);
	return &r->pool[e->index];
}

void
rabia_decided_note(struct rabia *r, struct rabia_batch_id id, uint64_t slot)
{
	uint32_t cap = r->cfg.decided_ids_max;
	int rc;

	if (base_map_get(r->dec_ids, &id) != NULL) {
		return;
	}
	if (r->dec_fifo_count == cap) {
		/* Forget the oldest: by now every replica has long moved past it. */
		rc = base_map_remove(r->dec_ids, &r->dec_fifo[r->dec_fifo_head], NULL);
		ASSERT(rc == 0);
		r->dec_fifo_head = (r->dec_fifo_head + 1) % cap;
		r->dec_fifo_count--;
	}
	r->dec_fifo[(r->dec_fifo_head + r->dec_fifo_count) % cap] = id;
	r->dec_fifo_count++;
	rc = base_map_put(r->dec_ids, &id, &slot);
	ASSERT(rc == 0);
}

int
rabia_decided_find(const struct rabia *r, struct rabia_batch_id id, uint64_t *slot)
{
	const uint64_t *s = base_map_get(r->dec_ids, &id);

	if (s == NULL) {
		return 0;
	}
	*slot = *s;
	return 1;
}

/*
 * Seals the open batch into the queue. R11: the id must be covered by the durable batch mark,
 * otherwise a restart could hand out the same id twice; until the mark is confirmed the batch
 * stays open.
 */
int
rabia_open_seal(struct rabia *r, int force)
{
	struct rabia_pent *p;
	struct rabia_batch_id id;

	if (r->open_index < 0 || r->open.count == 0) {
		return 0;
	}
	if (!force && !(r->open_timed && r->now_ns - r->open_ns >= r->cfg.batch_timeout_ns)) {
		return 0;
	}
	if (r->batch_seq_next >= r->durable.batch_seq_hwm) {
		return 0;
	}
	id = rabia_batch_id_make(r->cfg.self_id, r->batch_seq_next++);
	p = &r->pool[r->open_index];
	p->size = (uint32_t)rabia_batch_finish(&r->open, id);
	p->count = r->open.count;
	p->id = id;
	p->own = 1;
	p->sent = 0;
	p->acked = 1ull << r->q.self;
	queue_insert(r, (uint32_t)r->open_index);
	r->own_unsent++;
	if (p->acked != all_members(r)) {
		r->own_unacked++;
	}
	r->open_index = -1;
	r->open_timed = 0;
	return 1;
}

static int
open_fits(const struct rabia *r, size_t size)
{
	return r->open.count < r->cfg.batch_count_max &&
	       rabia_batch_request_size(size) <= r->cfg.batch_bytes_max - r->open.size;
}

int
rabia_open_submit(struct rabia *r, uint64_t client_id, uint64_t client_seq, const uint8_t *body,
		  size_t size)
{
	int index;
	int rc;

	if (size > r->cfg.request_bytes_max) {
		return -EMSGSIZE;
	}
	if (r->open_index >= 0 && !open_fits(r, size) && !rabia_open_seal(r, 1)) {
		return -ENOBUFS;
	}
	if (r->open_index < 0) {
		index = pool_alloc(r, r->q.self);
		if (index < 0) {
			return -ENOBUFS;
		}
		r->open_index = index;
		r->open_timed = 0;
		rabia_batch_begin(&r->open, r->pool[index].data, r->cfg.batch_bytes_max);
	}
	/* rabia_cfg_check guarantees an empty batch takes the largest request. */
	ASSERT(open_fits(r, size));
	rc = rabia_batch_add(&r->open, client_id, client_seq, body, size);
	ASSERT(rc == 0);
	return 0;
}

static void
send_req(struct rabia *r, uint32_t to, const struct rabia_pent *p)
{
	struct rabia_msg m = {0};

	m.type = RABIA_MSG_REQ;
	m.slot = r->cur;
	m.id = p->id;
	m.batch = p->data;
	m.batch_size = p->size;
	m.batch_count = p->count;
	rabia_send(r, to, &m);
}

/* Re-sends one own batch to each member that has not acknowledged it. */
static void
req_resend(struct rabia *r, const struct rabia_pent *p)
{
	uint64_t missing = all_members(r) & ~p->acked;

	if (missing == (all_members(r) & ~(1ull << r->q.self))) {
		send_req(r, RABIA_TO_ALL, p);
		return;
	}
	for (uint32_t i = 0; i < r->q.n; i++) {
		if (missing & (1ull << i)) {
			send_req(r, rabia_member_id(r, i), p);
		}
	}
}

void
rabia_reqs_send(struct rabia *r, int retransmit)
{
	uint32_t cap = r->cfg.pending_max;

	if ((!retransmit && r->own_unsent == 0) || (retransmit && r->own_unacked == 0)) {
		return;
	}
	/* A rotating start, so a full output cannot starve the same batches every time. */
	for (uint32_t k = 0; k < cap; k++) {
		uint32_t i = (r->req_cursor + k) % cap;
		struct rabia_pent *p = &r->pool[i];

		if (!p->in_use || !p->own || (int)i == r->open_index) {
			continue;
		}
		if (!p->sent) {
			send_req(r, RABIA_TO_ALL, p);
			p->sent = 1;
			r->own_unsent--;
		} else if (retransmit && p->acked != all_members(r)) {
			req_resend(r, p);
			r->stats.req_retransmits++;
		}
	}
	r->req_cursor = (r->req_cursor + 1) % cap;
}

static void
send_ack(struct rabia *r, uint32_t index, struct rabia_batch_id id)
{
	struct rabia_msg m = {0};

	m.type = RABIA_MSG_REQ_ACK;
	m.slot = r->cur;
	m.id = id;
	rabia_send(r, rabia_member_id(r, index), &m);
}

/*
 * A full share keeps the proxy's batches with the smallest keys: those are the ones the
 * queue heads will need first. Evicting a larger one loses nothing for good: its proposal
 * makes us fetch it again when it matters (rabia_on_slot_msg).
 */
static int
evict_larger(struct rabia *r, uint32_t proxy_index, struct rabia_batch_id id)
{
	int worst = -1;

	for (uint32_t i = 0; i < r->cfg.pending_max; i++) {
		const struct rabia_pent *p = &r->pool[i];

		if (!p->in_use || p->own || p->proxy_index != proxy_index ||
		    (int)i == r->open_index) {
			continue;
		}
		if (worst < 0 || p->id.seq > r->pool[worst].id.seq) {
			worst = (int)i;
		}
	}
	if (worst < 0 || r->pool[worst].id.seq <= id.seq) {
		return 0;
	}
	rabia_pool_remove(r, worst);
	return 1;
}

int
rabia_queue_offer(struct rabia *r, struct rabia_batch_id id, const uint8_t *data, size_t size,
		  uint16_t count)
{
	uint64_t slot;
	uint32_t proxy_index = rabia_member_index(r, id.proxy);

	if (rabia_decided_find(r, id, &slot) || rabia_pool_find(r, id) >= 0) {
		return 1;
	}
	if (proxy_index == UINT32_MAX) {
		return 0;
	}
	if (rabia_pool_add(r, id, data, size, count) == 0) {
		return 1;
	}
	if (!evict_larger(r, proxy_index, id)) {
		r->stats.queue_full_drops++;
		return 0;
	}
	return rabia_pool_add(r, id, data, size, count) == 0;
}

/* Algorithm 1 line 6 on the receiving side: queue a forwarded batch and acknowledge it. */
int
rabia_on_req(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	if (m->id.proxy != m->sender ||
	    rabia_batch_check(r, m->batch, m->batch_size, m->batch_count) != 0) {
		return rabia_violation(r, m->sender, m->slot, RABIA_VIOLATION_BATCH);
	}
	rabia_ring_body(r, m->id, m->batch, m->batch_size, m->batch_count);
	/* Without an acknowledgement the proxy keeps retrying until there is room. */
	if (rabia_queue_offer(r, m->id, m->batch, m->batch_size, m->batch_count)) {
		send_ack(r, index, m->id);
	}
	return 0;
}

void
rabia_on_req_ack(struct rabia *r, uint32_t index, const struct rabia_msg *m)
{
	int i = rabia_pool_find(r, m->id);
	struct rabia_pent *p;

	if (i < 0 || !r->pool[i].own) {
		return;
	}
	p = &r->pool[i];
	if (p->acked == all_members(r)) {
		return;
	}
	p->acked |= 1ull << index;
	if (p->acked == all_members(r)) {
		ASSERT(r->own_unacked > 0);
		r->own_unacked--;
	}
}
