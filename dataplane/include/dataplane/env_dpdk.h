/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env_dpdk: the production implementation of the platform seam (env/env.h) over DPDK ports.
 *
 * Transport. send(peer, datagram) stamps a header for the link (dataplane/auth.h), encodes one
 * frame (dataplane/frame.h), writes its GMAC tag and puts it on the peer's port (optionally
 * through the peer's seeded fault hook, dataplane/fault.h). recv polls the ports round robin,
 * decodes each frame, authenticates it and checks it against the sender's replay window, and
 * delivers the body with the sender id taken from the AUTHENTICATED header, never from the
 * port it came in on (rabia.md R14). Frames that fail are dropped and counted by reason:
 * garbage (not a frame), forged, replayed, too old, stale incarnation, foreign (other
 * cluster, epoch or receiver), unknown sender, unauthenticated.
 *
 * Send is fair-loss, as the seam promises: a frame to a peer whose link is down is dropped
 * (counted, returns 0); a ring still full after the port's bounded retries returns -ENOBUFS.
 * A datagram whose frame exceeds what the peer's port carries (dp_port_frame_max: an AF_XDP
 * port is bounded by its interface MTU, 1408-byte datagrams on a 1500-byte MTU) is refused
 * with -EMSGSIZE before anything is stamped: nothing fragments frames, and dropping them
 * silently would look like a peer that never answers.
 * recv also releases frames held by fault hooks and looks at the links every
 * ENV_DPDK_LINK_POLL_NS (restarting memif clients whose server came back).
 *
 * Storage. storage_put, storage_append, storage_sync, storage_poll and storage_load are
 * forwarded to another env given at create (env_posix, whose storage runs on io_uring); it
 * must fill version 2 of the table for storage_append.
 *
 * Addresses. Every frame carries Ethernet, IPv4 and UDP headers (dataplane/frame.h) built from
 * this node's endpoint and the peer's. Over memif they are only labels (the defaults
 * 02:00:<id> / 10.<id> do). Over a shared port on a real L2 link (AF_XDP) they must be real:
 * this node's MAC must be the port's (dp_port_mac_get; the port drops frames to any other
 * MAC) and each peer's MAC and IPv4 address come from the cluster config, since nothing
 * resolves them (no ARP). env_dpdk cannot check this: it never looks inside the ports.
 *
 * Time is CLOCK_MONOTONIC (dp_run_now_ns), the same clock as the run loop and env_posix.
 *
 * Lifecycle: create after the ports are up (startup; allocates), use from the one lcore that
 * owns the ports, destroy before the ports. Ports and the storage env are borrowed.
 */
#ifndef AETHER_DATAPLANE_ENV_DPDK_H
#define AETHER_DATAPLANE_ENV_DPDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/log.h"
#include "dataplane/auth.h"
#include "dataplane/fault.h"
#include "dataplane/frame.h"
#include "env/env.h"

struct dp_port;

#define ENV_DPDK_PEERS_MAX     DP_AUTH_PEERS_MAX
/* Frames one recv call examines (rejected ones included) before it returns -EAGAIN, so a
 * flood of garbage cannot keep the caller inside recv. */
#define ENV_DPDK_RECV_SCAN_MAX 64u
/* How often recv looks at the links. */
#define ENV_DPDK_LINK_POLL_NS  (10u * 1000u * 1000u)

struct env_dpdk_peer {
	uint32_t node_id;
	struct dp_port *port; /* borrowed; memif: this peer's own port; shared ports may repeat */
	/* The peer's addresses; all zero means dp_frame_endpoint_default(node_id), which only a
	 * memif link may use: over AF_XDP give the peer's real interface MAC and IPv4 address. */
	struct dp_frame_endpoint endpoint;
	/* The seeded fault hook on frames to this peer (borrowed for create); NULL: none. */
	const struct dp_fault_config *fault;
};

struct env_dpdk_config {
	uint32_t node_id;
	uint64_t cluster_id;
	uint64_t epoch;
	uint32_t incarnation;  /* persisted and bumped by the node on every start */
	const uint8_t *secret; /* the cluster secret, borrowed for create (dataplane/auth.h) */
	size_t secret_size;
	bool auth_disabled; /* explicit "auth off": logged as a warning at create */
	/* This node's addresses; all zero means dp_frame_endpoint_default(node_id). */
	struct dp_frame_endpoint endpoint;
	struct env_dpdk_peer peers[ENV_DPDK_PEERS_MAX];
	size_t peer_count;
	/* The env whose storage members this one forwards to (borrowed for the env's life). */
	const struct env_ops *storage;
	uint64_t seed;       /* returned by ops->seed */
	struct base_log log; /* copied into ops->log */
};

/* Counters, only ever incremented. */
struct env_dpdk_stats {
	uint64_t sent_count;         /* frames handed to a port */
	uint64_t send_full_count;    /* sends refused with -ENOBUFS */
	uint64_t send_too_big_count; /* sends refused with -EMSGSIZE: above the port's frame max */
	uint64_t send_link_down_count; /* frames dropped: the peer's link is down */
	uint64_t send_error_count;     /* frames dropped: authentication failed (OpenSSL) */
	uint64_t delivered_count;      /* datagrams returned by recv */
	uint64_t recv_garbage_count;   /* frames that do not decode */
	uint64_t recv_too_big_count;   /* authentic datagrams larger than recv's capacity */
	struct dp_auth_stats auth;     /* forged, replayed, too old, foreign, ... */
};

struct env_dpdk;

/*
 * Validates cfg (borrowed), creates the authenticator and the fault hooks and fills the ops
 * table. Returns 0 and *out; -EINVAL (no peers, peer_count over the max, a NULL port,
 * duplicate or self peer ids, no storage env, a bad secret while authentication is on, a bad
 * fault config), -ENOMEM, -EIO (OpenSSL). Startup only.
 */
AE_MUST_CHECK int env_dpdk_create(const struct env_dpdk_config *cfg, struct env_dpdk **out);
/* Frees the env (not the ports nor the storage env). NULL allowed. */
void env_dpdk_destroy(struct env_dpdk *e);

/* The filled, valid seam table; its ctx is e. Borrowed: valid until env_dpdk_destroy. */
const struct env_ops *env_dpdk_ops(const struct env_dpdk *e);

/* Looks at every link now (normally recv does it every ENV_DPDK_LINK_POLL_NS); returns how
 * many peers have their link up. */
size_t env_dpdk_poll_links(struct env_dpdk *e);

/* Copies the counters (its own, the authenticator's) into *out. */
void env_dpdk_stats_get(const struct env_dpdk *e, struct env_dpdk_stats *out);

/* Counters of the fault hook towards peer_id; -ENOENT when that peer has none. */
AE_MUST_CHECK int env_dpdk_fault_stats_get(const struct env_dpdk *e, uint32_t peer_id,
					   struct dp_fault_stats *out);

/* Human-readable: node, peers and their ports, authenticator, fault hooks, counters. */
void env_dpdk_dump(const struct env_dpdk *e, FILE *out);

#endif /* AETHER_DATAPLANE_ENV_DPDK_H */
