/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The message layer between aetherd's control lcore and one worker lcore (ARCHITECTURE.md
 * section 5: "Lcores talk only through fixed-size messages on SPSC rings"). A channel is two
 * single-producer single-consumer rings of struct node_lcore_msg, one each way, plus counters:
 *
 *   control --node_lcore_send-->  to_worker  --node_lcore_recv-->       worker
 *   control <--node_lcore_take--  to_control <--node_lcore_reply--      worker
 *
 * Every message is NODE_LCORE_MSG_SIZE bytes. A payload larger than a message travels by
 * reference: `buf` points to a buffer the SENDER of the request owns; the worker reads the
 * request from it and writes the answer into it, and the sender must neither touch nor free it
 * until the reply carrying the same slot and seq has been taken. So nothing is copied twice and
 * nothing is allocated on the data path.
 *
 * Rings: any single-producer single-consumer ring behind two functions. With the EAL up, two
 * rte_rings created SP/SC (dataplane/dp_lcore.h, node_lcore_channel_init_rings); without it,
 * base/ring.h's SPSC ring (C11 acquire/release on head and tail; node_lcore_channel_init). No
 * locks anywhere: each counter has exactly one writer (the side named in its comment) and is
 * read by the other with relaxed atomics, so a STATUS may see a count one message behind, never
 * a torn one.
 *
 * Sends never block: a full ring returns -ENOBUFS and counts it; the caller keeps the message
 * and retries on a later poll. Memory: the caller owns the channel's memory
 * (node_lcore_channel_size / _init, the DPDK split); nothing grows.
 * Context: send/take on the control thread only; recv/reply on the worker thread only; stats
 * from the control thread.
 */
#ifndef AETHER_NODE_NODE_LCORE_H
#define AETHER_NODE_NODE_LCORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/ring.h"

/* One message: a cache line. */
#define NODE_LCORE_MSG_SIZE      64u
/* Messages in flight each way; a power of two, above the operator connections (16) so that a
 * ring is full only when a worker is stuck. */
#define NODE_LCORE_RING_CAPACITY 64u

/* What a message asks (control to worker) or says (worker to control). Values are private. */
enum node_lcore_msg_type {
	NODE_LCORE_MSG_NONE = 0,
	NODE_LCORE_MSG_STOP = 1,   /* finish: tear the slices down and end the loop; no reply */
	NODE_LCORE_MSG_LOAD = 2,   /* buf[0..in_size): a coordinate's text; reply: instance_id */
	NODE_LCORE_MSG_CALL = 3,   /* instance_id; buf: method (method_size bytes), then the
				    * argument; reply: the result in buf (out_size bytes) */
	NODE_LCORE_MSG_UNLOAD = 4, /* instance_id; reply: status only */
	NODE_LCORE_MSG_REPLY = 5,  /* the answer to the request with the same slot and seq */
};

/*
 * One message. A reply echoes type REPLY, slot and seq, and sets status (0 or a negative
 * errno); on an error buf holds out_size bytes of one line for the operator, on success the
 * result (CALL) or nothing.
 */
struct node_lcore_msg {
	uint16_t type;        /* enum node_lcore_msg_type */
	uint16_t slot;        /* the sender's request slot, echoed */
	int32_t status;       /* replies */
	uint32_t seq;         /* the sender's sequence number, echoed (stale replies show) */
	uint32_t instance_id; /* CALL, UNLOAD; LOAD's reply */
	uint8_t *buf;         /* owned by the request's sender until the reply is taken */
	uint32_t capacity;    /* bytes the worker may write into buf */
	uint32_t in_size;     /* request bytes in buf */
	uint32_t out_size;    /* reply bytes written into buf */
	uint16_t method_size; /* CALL: the method's bytes at the start of buf (0: the only one) */
	uint16_t reserved;
	uint8_t pad[NODE_LCORE_MSG_SIZE - 40];
};

struct node_lcore_stats {
	uint64_t messages_in;  /* taken by the worker (node_lcore_recv) */
	uint64_t messages_out; /* sent by the worker (node_lcore_reply) */
	uint64_t ring_full;    /* sends refused because a ring was full, both directions */
};

/* A ring's two ends: push 0 or -ENOBUFS (full), pop 0 or -EAGAIN (empty). */
typedef int node_lcore_push_fn(void *ring, const struct node_lcore_msg *msg);
typedef int node_lcore_pop_fn(void *ring, struct node_lcore_msg *out);

struct node_lcore_channel {
	void *to_worker;
	void *to_control;
	node_lcore_push_fn *push;
	node_lcore_pop_fn *pop;
	_Atomic uint64_t messages_in;     /* worker writes */
	_Atomic uint64_t messages_out;    /* worker writes */
	_Atomic uint64_t full_to_worker;  /* control writes */
	_Atomic uint64_t full_to_control; /* worker writes */
};

/* Bytes for a channel whose rings hold capacity messages each (a power of two, asserted). */
size_t node_lcore_channel_size(size_t capacity);

/*
 * Builds a channel in memory of node_lcore_channel_size(capacity) bytes, 8-byte aligned (the
 * caller owns it; base_alloc memory is). Returns the channel (at the start of memory).
 */
struct node_lcore_channel *node_lcore_channel_init(void *memory, size_t capacity);

/*
 * Builds a channel in caller memory (ch) over two rings the caller created and owns (they must
 * outlive the channel): to_worker and to_control, each used through push and pop.
 */
void node_lcore_channel_init_rings(struct node_lcore_channel *ch, void *to_worker, void *to_control,
				   node_lcore_push_fn *push, node_lcore_pop_fn *pop);

/* Control: queues msg for the worker. 0, or -ENOBUFS (ring full; counted, msg not sent). */
AE_MUST_CHECK int node_lcore_send(struct node_lcore_channel *ch, const struct node_lcore_msg *msg);

/* Worker: the next request into *out. 0, or -EAGAIN when there is none. */
AE_MUST_CHECK int node_lcore_recv(struct node_lcore_channel *ch, struct node_lcore_msg *out);

/* Worker: queues a reply for the control lcore. 0, or -ENOBUFS (ring full; counted). */
AE_MUST_CHECK int node_lcore_reply(struct node_lcore_channel *ch, const struct node_lcore_msg *msg);

/* Control: the next reply into *out. 0, or -EAGAIN when there is none. */
AE_MUST_CHECK int node_lcore_take(struct node_lcore_channel *ch, struct node_lcore_msg *out);

/* Control: the channel's counters (relaxed reads: each may lag by a message). */
void node_lcore_stats(struct node_lcore_channel *ch, struct node_lcore_stats *out);

#endif /* AETHER_NODE_NODE_LCORE_H */
