/* SPDX-License-Identifier: Apache-2.0 */
/* The control/worker message channel: two base_ring SPSC rings and four counters. */
#include "node_lcore.h"

#include <assert.h>
#include <errno.h>

#include "base/panic.h"

static_assert(sizeof(struct node_lcore_msg) == NODE_LCORE_MSG_SIZE,
	      "a lcore message is one fixed size");

/* Each ring starts 8-byte aligned after the previous part. */
static size_t
align8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

size_t
node_lcore_channel_size(size_t capacity)
{
	size_t ring = align8(base_ring_size(capacity, sizeof(struct node_lcore_msg)));

	return align8(sizeof(struct node_lcore_channel)) + 2 * ring;
}

static int
base_push(void *ring, const struct node_lcore_msg *msg)
{
	return base_ring_push(ring, msg);
}

static int
base_pop(void *ring, struct node_lcore_msg *out)
{
	return base_ring_pop(ring, out);
}

struct node_lcore_channel *
node_lcore_channel_init(void *memory, size_t capacity)
{
	struct node_lcore_channel *ch = memory;
	uint8_t *p = memory;
	size_t ring = align8(base_ring_size(capacity, sizeof(struct node_lcore_msg)));

	ASSERT(memory != NULL);
	ASSERT(((uintptr_t)memory & 7u) == 0);
	p += align8(sizeof(*ch));
	node_lcore_channel_init_rings(
		ch, base_ring_init(p, capacity, sizeof(struct node_lcore_msg)),
		base_ring_init(p + ring, capacity, sizeof(struct node_lcore_msg)), base_push,
		base_pop);
	return ch;
}

void
node_lcore_channel_init_rings(struct node_lcore_channel *ch, void *to_worker, void *to_control,
			      node_lcore_push_fn *push, node_lcore_pop_fn *pop)
{
	ASSERT(ch != NULL && to_worker != NULL && to_control != NULL);
	ASSERT(push != NULL && pop != NULL);
	ch->to_worker = to_worker;
	ch->to_control = to_control;
	ch->push = push;
	ch->pop = pop;
	atomic_init(&ch->messages_in, 0);
	atomic_init(&ch->messages_out, 0);
	atomic_init(&ch->full_to_worker, 0);
	atomic_init(&ch->full_to_control, 0);
}

/* A counter with one writer: a plain load and store, atomic only so the reader never tears. */
static void
count(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

int
node_lcore_send(struct node_lcore_channel *ch, const struct node_lcore_msg *msg)
{
	int rc = ch->push(ch->to_worker, msg);

	if (rc != 0) {
		count(&ch->full_to_worker);
	}
	return rc;
}

int
node_lcore_recv(struct node_lcore_channel *ch, struct node_lcore_msg *out)
{
	int rc = ch->pop(ch->to_worker, out);

	if (rc == 0) {
		count(&ch->messages_in);
	}
	return rc;
}

int
node_lcore_reply(struct node_lcore_channel *ch, const struct node_lcore_msg *msg)
{
	int rc = ch->push(ch->to_control, msg);

	if (rc != 0) {
		count(&ch->full_to_control);
		return rc;
	}
	count(&ch->messages_out);
	return 0;
}

int
node_lcore_take(struct node_lcore_channel *ch, struct node_lcore_msg *out)
{
	return ch->pop(ch->to_control, out);
}

void
node_lcore_stats(struct node_lcore_channel *ch, struct node_lcore_stats *out)
{
	out->messages_in = atomic_load_explicit(&ch->messages_in, memory_order_relaxed);
	out->messages_out = atomic_load_explicit(&ch->messages_out, memory_order_relaxed);
	out->ring_full = atomic_load_explicit(&ch->full_to_worker, memory_order_relaxed) +
			 atomic_load_explicit(&ch->full_to_control, memory_order_relaxed);
}
