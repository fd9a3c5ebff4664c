/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim_queue.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

/* Earlier time first; at equal times the event scheduled first runs first. */
static int
sim_event_cmp(const void *a, const void *b)
{
	const struct sim_event *x = a;
	const struct sim_event *y = b;

	if (x->time_ns != y->time_ns) {
		return x->time_ns < y->time_ns ? -1 : 1;
	}
	if (x->seq != y->seq) {
		return x->seq < y->seq ? -1 : 1;
	}
	return 0;
}

size_t
sim_queue_size(size_t capacity)
{
	ASSERT(capacity > 0);
	return base_heap_size(capacity, sizeof(struct sim_event));
}

void
sim_queue_init(struct sim_queue *q, void *memory, size_t capacity)
{
	ASSERT(q != NULL);
	ASSERT(memory != NULL);
	memset(q, 0, sizeof(*q));
	q->heap = base_heap_init(memory, capacity, sizeof(struct sim_event), sim_event_cmp);
}

void
sim_queue_reset(struct sim_queue *q)
{
	ASSERT(q != NULL);
	ASSERT(q->heap != NULL);
	base_heap_clear(q->heap);
	q->now_ns = 0;
	q->next_seq = 0;
	q->popped_count = 0;
}

int
sim_queue_push(struct sim_queue *q, uint64_t time_ns, uint32_t kind, uint32_t target, uint64_t arg0,
	       uint64_t arg1)
{
	struct sim_event ev;
	int rc;

	ASSERT(q != NULL);
	ASSERT(time_ns >= q->now_ns);
	ev.time_ns = time_ns;
	ev.seq = q->next_seq;
	ev.kind = kind;
	ev.target = target;
	ev.arg0 = arg0;
	ev.arg1 = arg1;
	rc = base_heap_push(q->heap, &ev);
	if (rc != 0) {
		return rc;
	}
	q->next_seq++;
	return 0;
}

int
sim_queue_push_after(struct sim_queue *q, uint64_t delay_ns, uint32_t kind, uint32_t target,
		     uint64_t arg0, uint64_t arg1)
{
	ASSERT(q != NULL);
	ASSERT(delay_ns <= UINT64_MAX - q->now_ns);
	return sim_queue_push(q, q->now_ns + delay_ns, kind, target, arg0, arg1);
}

int
sim_queue_pop(struct sim_queue *q, struct sim_event *out)
{
	int rc;

	ASSERT(q != NULL);
	ASSERT(out != NULL);
	rc = base_heap_pop(q->heap, out);
	if (rc != 0) {
		return rc;
	}
	ASSERT(out->time_ns >= q->now_ns);
	q->now_ns = out->time_ns;
	q->popped_count++;
	return 0;
}

const struct sim_event *
sim_queue_peek(const struct sim_queue *q)
{
	ASSERT(q != NULL);
	return base_heap_peek(q->heap);
}

size_t
sim_queue_count(const struct sim_queue *q)
{
	ASSERT(q != NULL);
	return base_heap_count(q->heap);
}
