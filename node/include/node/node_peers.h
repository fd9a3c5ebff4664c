/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's failure detector, for operators: a thin layer between the transport (any struct
 * env_ops: env_posix over UDP, env_dpdk over memif) and the node shard, which sees it as its env.
 * Every call passes through unchanged; recv also records, per sender, when it last delivered a
 * datagram. The heartbeats are the shard's own: Rabia broadcasts a DEC_REQ every
 * rabia_cfg.heartbeat_ns even when idle, so a live member is heard at least that often.
 *
 * A peer's state follows from the silence since its last datagram:
 *      never heard                    NODE_PEER_UNKNOWN
 *      silent < suspect_after_ns      NODE_PEER_UP
 *      silent < down_after_ns         NODE_PEER_SUSPECT
 *      otherwise                      NODE_PEER_DOWN
 * The sender is the transport's peer id (authenticated by env_dpdk, an address for env_posix).
 * Liveness is for `aetherctl status` and the log; it decides nothing in consensus, whose
 * safety never depends on time.
 *
 * Memory: the struct is caller-owned (embedded in the daemon); inner is borrowed for its life.
 * Context: the thread that owns the transport (the control lcore). Not thread-safe.
 */
#ifndef AETHER_NODE_NODE_PEERS_H
#define AETHER_NODE_NODE_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "env/env.h"

/* Cluster members besides this node (RABIA_NODES_MAX - 1 would do; keep a round bound). */
#define NODE_PEERS_MAX 64

enum node_peer_state {
	NODE_PEER_UNKNOWN = 0,
	NODE_PEER_UP = 1,
	NODE_PEER_SUSPECT = 2,
	NODE_PEER_DOWN = 3,
};

struct node_peers_config {
	uint32_t self_id;
	/* The other members (distinct, none equal to self_id). */
	uint32_t peer_ids[NODE_PEERS_MAX];
	size_t peer_count;
	uint64_t suspect_after_ns; /* > 0; a few heartbeat intervals */
	uint64_t down_after_ns;    /* > suspect_after_ns */
};

struct node_peer {
	uint32_t node_id;
	int has_heard;
	uint64_t last_heard_ns;
	uint64_t datagrams_in;
	enum node_peer_state reported; /* the state last logged, to log each change once */
};

struct node_peers {
	struct env_ops ops;          /* the table the shard uses; ctx = this struct */
	const struct env_ops *inner; /* borrowed: the transport */
	struct node_peers_config cfg;
	struct node_peer peers[NODE_PEERS_MAX];
	uint64_t recv_count;   /* datagrams delivered, from anyone */
	uint64_t from_unknown; /* datagrams from an id that is not a configured peer */
};

/*
 * Sets p up over inner (borrowed, valid table). Asserts the config is valid (programmer error:
 * the daemon builds it from a checked node config).
 */
void node_peers_init(struct node_peers *p, const struct node_peers_config *cfg,
		     const struct env_ops *inner);

/* The wrapped table to hand to the shard; borrowed from p. */
const struct env_ops *node_peers_ops(const struct node_peers *p);

/*
 * Logs each peer whose state changed since the last call, once (through the transport's log:
 * operators follow failures in these lines). Returns how many changed.
 */
size_t node_peers_poll(struct node_peers *p, uint64_t now_ns);

/*
 * The state of peer node_id at now_ns; sets *last_heard_ns (may be NULL) to the time of the
 * last datagram (UINT64_MAX when never heard). Returns -ENOENT for an id that is not a peer.
 */
AE_MUST_CHECK int node_peers_state(const struct node_peers *p, uint32_t node_id, uint64_t now_ns,
				   enum node_peer_state *state, uint64_t *last_heard_ns);

/* The peer at index 0..cfg.peer_count-1 (borrowed). */
const struct node_peer *node_peers_at(const struct node_peers *p, size_t index);

/* "unknown", "up", "suspect", "down". */
const char *node_peer_state_name(enum node_peer_state state);

#endif /* AETHER_NODE_NODE_PEERS_H */
