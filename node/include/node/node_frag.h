/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Datagrams of any size the seam allows (ENV_MSG_MAX) over a transport that carries fewer bytes
 * per datagram: a shared AF_XDP or PCI port carries one Ethernet frame of at most its MTU (1408
 * bytes of datagram on a 1500-byte MTU, dataplane/env_dpdk.h), while the shard sends Rabia
 * batches up to 8 KiB and snapshot chunks of NODE_SHARD_CHUNK_SIZE bytes. A pass-through env
 * (like node_peers) between the transport and its user: send splits, recv joins, every other
 * member passes through unchanged.
 *
 * Wire: every datagram through this layer, split or not, starts with a 6-byte header, little
 * endian: u16 message id, u16 total size, u8 index, u8 count; then the fragment's bytes. The
 * sender gives every datagram the next message id and cuts it into count =
 * ceil(total / (inner_max - 6)) fragments of piece = ceil(total / count) bytes (the last one
 * shorter), so the header alone fixes each fragment's offset (index * piece) and length: the
 * receiver checks both and drops anything else (count 0 or above NODE_FRAG_COUNT_MAX, index >=
 * count, total above ENV_MSG_MAX, a wrong length). A datagram of one fragment is delivered at
 * once; fragments are joined in one slot per sender, which a fragment of another message id
 * (or total, or count) restarts, dropping the unfinished one. The inner transport is
 * fair-loss, so losing one fragment loses the datagram (the protocol above retransmits):
 * splitting multiplies loss, which is why the layer is only put over shared ports. Who sent a
 * fragment is what the inner transport says (env_dpdk authenticates every frame), never the
 * payload.
 *
 * A sender restarted mid-message starts its ids from its clock, so a receiver's unfinished
 * slot is very unlikely to accept a fragment of the new life; if it did, the datagram
 * assembled would hold bytes of two messages, which the shard's decoders reject (every length
 * is checked, snapshots carry a checksum of the whole body).
 *
 * Memory: node_frag_create allocates one ENV_MSG_MAX slot per peer and two scratch buffers
 * (startup only). Context: the thread that owns the inner transport (the control lcore).
 */
#ifndef AETHER_NODE_NODE_FRAG_H
#define AETHER_NODE_NODE_FRAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "env/env.h"

#define NODE_FRAG_HEADER_SIZE 6u
/* Fragments of one datagram, at most (a 64-bit mask tracks them). */
#define NODE_FRAG_COUNT_MAX   64u
/* The smallest inner datagram the layer takes: ENV_MSG_MAX in NODE_FRAG_COUNT_MAX pieces. */
#define NODE_FRAG_INNER_MIN \
	(NODE_FRAG_HEADER_SIZE + (ENV_MSG_MAX + NODE_FRAG_COUNT_MAX - 1) / NODE_FRAG_COUNT_MAX)
#define NODE_FRAG_PEERS_MAX     64u
/* Inner datagrams one recv call examines before it returns -EAGAIN, so a flood of fragments
 * cannot keep the caller inside recv. */
#define NODE_FRAG_RECV_SCAN_MAX 64u

struct node_frag_config {
	/* The peers fragments are joined for (distinct); datagrams from others are dropped. */
	uint32_t peer_ids[NODE_FRAG_PEERS_MAX];
	size_t peer_count;
	/* The largest datagram the inner transport carries: NODE_FRAG_INNER_MIN .. ENV_MSG_MAX. */
	size_t inner_max;
};

/* Counters, only ever incremented. */
struct node_frag_stats {
	uint64_t sent_count;       /* datagrams sent whole (one fragment) */
	uint64_t sent_split_count; /* datagrams sent in two or more fragments */
	uint64_t fragments_sent;   /* inner datagrams sent, of both kinds */
	uint64_t delivered_count;  /* datagrams returned by recv, joined or not */
	uint64_t joined_count;     /* of those, joined from two or more fragments */
	uint64_t unfinished_count; /* partly joined datagrams dropped for a newer one */
	uint64_t duplicate_count;  /* fragments already held */
	uint64_t bad_count;        /* inner datagrams that are not a valid fragment */
	uint64_t unknown_count;    /* fragments from a sender that is not a peer */
	uint64_t too_big_count;    /* joined datagrams larger than recv's capacity (dropped) */
};

struct node_frag;

/*
 * Checks cfg (borrowed) and allocates the layer over inner (borrowed for the layer's life; a
 * valid table). Returns 0 and *out; -EINVAL (inner_max out of range, too many or duplicate
 * peers), -ENOMEM. Startup only.
 */
AE_MUST_CHECK int node_frag_create(const struct node_frag_config *cfg, const struct env_ops *inner,
				   struct node_frag **out);
/* NULL allowed. */
void node_frag_destroy(struct node_frag *f);

/*
 * The wrapped table (its ctx is f; borrowed until destroy). send returns what the seam
 * promises: 0, -EMSGSIZE above ENV_MSG_MAX, -EHOSTUNREACH for an unknown peer, or the inner
 * send's error for the first fragment it refused (the rest are not sent: fair loss).
 */
const struct env_ops *node_frag_ops(const struct node_frag *f);

void node_frag_stats_get(const struct node_frag *f, struct node_frag_stats *out);

/* One line: inner_max and the counters. */
void node_frag_dump(const struct node_frag *f, FILE *out);

#endif /* AETHER_NODE_NODE_FRAG_H */
