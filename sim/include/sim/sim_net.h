/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated network: fair-loss datagram links between n nodes, with every fault the
 * simulator can inject on a link (rabia.md Part 3a, "Network model").
 *
 *  - loss:        a datagram vanishes with probability loss_ppm / 1e6;
 *  - duplication: a second copy travels with its own delay (dup_ppm);
 *  - delay:       uniform in [delay_min_ns, delay_max_ns]; when min < max datagrams on one link
 *                 overtake each other (reorder). With probability tail_ppm a datagram also gets
 *                 an extra delay up to tail_max_ns (the long tail that reorders across rounds);
 *  - corruption:  with probability corrupt_ppm one to three bytes are flipped or the datagram is
 *                 truncated in flight. Every datagram carries a keyed XXH3 tag over (sender,
 *                 receiver, bytes) standing in for the transport's authentication tag
 *                 (rabia.md R14); sim_net_recv rejects any datagram whose tag does not match and
 *                 counts it, so corrupted bytes never reach a protocol decoder;
 *  - partitions:  per directed link "blocked" flags (isolate one node, split, one-way links);
 *                 a blocked link drops at send and again at arrival (a cable cut mid-flight);
 *  - node down:   datagrams to a crashed node are dropped on arrival and its inbox is emptied.
 *
 * A paused node still receives into its inbox (the kernel's socket buffer) until the inbox is
 * full; then arrivals are dropped.
 *
 * Datagrams live in a fixed pool of small and large buffers; when the pool or an inbox is full
 * the datagram is dropped and counted (fair loss), never queued without bound.
 *
 * Memory: caller-owned block of sim_net_size(cfg) bytes. The queue and PRNG are borrowed for the
 * network's life. Context: the simulator's single thread.
 */
#ifndef AETHER_SIM_SIM_NET_H
#define AETHER_SIM_SIM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/prng.h"
#include "base/ring.h"
#include "sim/sim_queue.h"

/* Most nodes in one simulated cluster. */
#define SIM_NODES_MAX      7
/* Small pool buffers hold datagrams up to this size; larger ones take a large buffer. */
#define SIM_NET_SMALL_SIZE 256u

struct sim_net_config {
	uint32_t node_count;  /* 1..SIM_NODES_MAX */
	uint32_t small_count; /* datagrams of <= SIM_NET_SMALL_SIZE bytes in flight or queued */
	uint32_t large_count; /* larger datagrams (up to ENV_MSG_MAX bytes) */
	uint32_t inbox_max;   /* per node; power of two */
};

/* The link fault parameters in force now; the driver changes them between fault periods. */
struct sim_net_faults {
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t corrupt_ppm;
	uint32_t tail_ppm;
	uint64_t delay_min_ns;
	uint64_t delay_max_ns; /* >= delay_min_ns */
	uint64_t tail_max_ns;
};

struct sim_net_stats {
	uint64_t sent_count;
	uint64_t delivered_count; /* handed to a receiver by sim_net_recv */
	uint64_t lost_count;
	uint64_t duplicated_count;
	uint64_t corrupted_count;
	uint64_t rejected_count; /* tag mismatches caught at the receiver */
	uint64_t partition_drop_count;
	uint64_t down_drop_count;
	uint64_t full_drop_count; /* pool or inbox full */
	uint64_t tail_count;
	uint64_t bytes_sent;
};

struct sim_net_msg {
	uint64_t tag;
	uint32_t src;
	uint32_t dst;
	uint32_t size;
	uint32_t is_in_use;
};

struct sim_net {
	struct sim_net_config cfg;
	struct sim_net_faults faults;
	struct sim_net_stats stats;
	struct sim_queue *queue; /* borrowed */
	struct base_prng *prng;  /* borrowed */
	uint64_t tag_key;
	uint32_t msg_count; /* small_count + large_count */
	struct sim_net_msg *msgs;
	uint8_t *small_bufs;
	uint8_t *large_bufs;
	uint32_t *free_small;
	uint32_t free_small_count;
	uint32_t *free_large;
	uint32_t free_large_count;
	uint8_t is_up[SIM_NODES_MAX];
	uint8_t is_blocked[SIM_NODES_MAX][SIM_NODES_MAX]; /* [src][dst] */
	struct base_ring *inbox[SIM_NODES_MAX];
};

/* Bytes of caller memory for a network with this configuration (asserts it is valid). */
size_t sim_net_size(const struct sim_net_config *cfg);
/* Lays the network out in memory (sim_net_size bytes) with every node down and no faults. */
void sim_net_init(struct sim_net *net, void *memory, const struct sim_net_config *cfg,
		  struct sim_queue *queue, struct base_prng *prng);
/*
 * Empties every buffer and inbox, clears stats, faults and partitions, marks every node up, and
 * sets the tag key (between seeds). Pending delivery events in the queue must be gone too.
 */
void sim_net_reset(struct sim_net *net, uint64_t tag_key);

/*
 * Sends one datagram (bytes borrowed for the call) from src to dst, applying the current faults.
 * Returns 0 when accepted (it may still be lost: fair loss), -EMSGSIZE when size > ENV_MSG_MAX
 * or size == 0, -EHOSTUNREACH when dst is not a node. A full queue is a programmer error in the
 * simulator's sizing (asserted).
 */
AE_MUST_CHECK int sim_net_send(struct sim_net *net, uint32_t src, uint32_t dst, const uint8_t *data,
			       size_t size);
/*
 * Handles a SIM_EV_NET_DELIVER event for message msg_index: moves it into the destination's inbox
 * or drops it. Returns the destination node when queued (the driver wakes it), -1 when dropped.
 */
int sim_net_on_deliver(struct sim_net *net, uint64_t msg_index);
/*
 * Takes the next intact datagram for node into buf. Returns 0 with *src and *size set, -EAGAIN
 * when nothing is pending, -EMSGSIZE when the datagram exceeded capacity (it is dropped).
 * Datagrams that fail the tag check are counted in rejected_count and skipped.
 */
AE_MUST_CHECK int sim_net_recv(struct sim_net *net, uint32_t node, uint32_t *src, uint8_t *buf,
			       size_t capacity, size_t *size);
/* Datagrams waiting in node's inbox. */
size_t sim_net_pending(const struct sim_net *net, uint32_t node);

/* Marks a node crashed (its inbox is emptied; arrivals are dropped) or up again. */
void sim_net_node_down(struct sim_net *net, uint32_t node);
void sim_net_node_up(struct sim_net *net, uint32_t node);
/* Blocks or unblocks the directed link src -> dst. */
void sim_net_link_block(struct sim_net *net, uint32_t src, uint32_t dst, int is_blocked);
/* Unblocks every link (the end of a partition). */
void sim_net_unblock_all(struct sim_net *net);
/* Replaces the link fault parameters (asserts delay_min_ns <= delay_max_ns). */
void sim_net_set_faults(struct sim_net *net, const struct sim_net_faults *faults);
/* Datagrams currently in the pool (in flight or in an inbox). */
uint32_t sim_net_in_flight(const struct sim_net *net);

#endif /* AETHER_SIM_SIM_NET_H */
