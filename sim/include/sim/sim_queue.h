/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulator's event queue and virtual clock (STYLE.md section 6, "Simulator rules").
 *
 * Events are ordered by (time_ns, seq): seq is a counter the queue assigns at push, so two events
 * due at the same instant run in the order they were scheduled. Nothing depends on pointer values
 * or hash order, so a run is a pure function of its seed. Popping an event advances the virtual
 * clock to its time; the clock never goes backwards and pushing an event in the past is a
 * programmer error.
 *
 * Memory: the caller provides sim_queue_size(capacity) bytes (sim_queue_init) and owns them.
 * Errors: push on a full queue returns -ENOBUFS; pop on an empty queue returns -EAGAIN.
 * Context: one owner (the simulator's single thread). Push and pop cost O(log count).
 */
#ifndef AETHER_SIM_SIM_QUEUE_H
#define AETHER_SIM_SIM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/heap.h"

/*
 * What an event means. The queue itself does not look at the kind; it is listed here so that
 * every part of the simulator (network, storage, clients, faults) schedules into one queue with
 * one numbering, and the replay trace names them the same way.
 */
enum sim_event_kind {
	SIM_EV_NET_DELIVER = 1,  /* arg0: message index in the network pool */
	SIM_EV_NODE_WAKE = 2,    /* target: node */
	SIM_EV_NODE_TICK = 3,    /* target: node (stale unless its time is the node's tick time) */
	SIM_EV_STORAGE_DONE = 4, /* target: node; arg1: incarnation */
	SIM_EV_CLIENT_REQ = 5,   /* target: node; arg0: client index; arg1: client seq */
	SIM_EV_CLIENT_REPLY = 6, /* target: client; arg0: seq */
	SIM_EV_CLIENT_TIMEOUT = 7, /* target: client; arg0: seq; arg1: attempt */
	SIM_EV_CLIENT_NEXT = 8,    /* target: client */
	SIM_EV_FAULT = 9,          /* arg0: index into the fault plan */
	SIM_EV_HEAL = 10,
	SIM_EV_CHECK = 11, /* periodic end-of-run check after the heal */
	SIM_EV_KIND_MAX = 12,
};

/* One scheduled event. The meaning of kind, target and the two arguments is the driver's. */
struct sim_event {
	uint64_t time_ns;
	uint64_t seq; /* assigned by sim_queue_push */
	uint32_t kind;
	uint32_t target; /* a node or client index */
	uint64_t arg0;
	uint64_t arg1;
};

struct sim_queue {
	struct base_heap *heap; /* inside the caller's memory */
	uint64_t now_ns;        /* time of the last popped event */
	uint64_t next_seq;
	uint64_t popped_count; /* events run so far; part of the replay trace */
};

/* Bytes of caller memory for a queue of `capacity` pending events (capacity > 0). */
size_t sim_queue_size(size_t capacity);
/* Starts an empty queue at time 0 in `memory` (borrowed for the queue's life). */
void sim_queue_init(struct sim_queue *q, void *memory, size_t capacity);
/* Empties the queue and resets the clock and sequence to 0 (between seeds). */
void sim_queue_reset(struct sim_queue *q);

/*
 * Schedules an event at absolute time time_ns (>= now: asserted). Returns 0 or -ENOBUFS when
 * the queue is full.
 */
AE_MUST_CHECK int sim_queue_push(struct sim_queue *q, uint64_t time_ns, uint32_t kind,
				 uint32_t target, uint64_t arg0, uint64_t arg1);
/* Schedules an event delay_ns after now. Same errors as sim_queue_push. */
AE_MUST_CHECK int sim_queue_push_after(struct sim_queue *q, uint64_t delay_ns, uint32_t kind,
				       uint32_t target, uint64_t arg0, uint64_t arg1);
/*
 * Removes the earliest event into *out and advances the clock to its time. Returns 0 or -EAGAIN
 * when empty.
 */
AE_MUST_CHECK int sim_queue_pop(struct sim_queue *q, struct sim_event *out);
/* The earliest event without removing it, or NULL when empty (valid until the next push/pop). */
const struct sim_event *sim_queue_peek(const struct sim_queue *q);
size_t sim_queue_count(const struct sim_queue *q);

/* The virtual clock: the time of the event being handled. */
static inline uint64_t
sim_queue_now(const struct sim_queue *q)
{
	return q->now_ns;
}

#endif /* AETHER_SIM_SIM_QUEUE_H */
