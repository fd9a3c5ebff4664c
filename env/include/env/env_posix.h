/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env_posix: the FALLBACK implementation of the platform seam (env/env.h) on plain POSIX:
 * kernel UDP sockets for the transport, files in one data directory for storage,
 * CLOCK_MONOTONIC for time. It exists for machines where DPDK cannot start and for dev/CI; the
 * production transport is dataplane/src/env_dpdk.c. Kernel UDP costs about 8 us per loopback
 * round trip busy-polling (PLATFORM-NOTES.md), and storage calls run synchronously inside
 * storage_put/storage_sync (they may block on the disk for milliseconds), so this env is correct
 * but not fast.
 *
 * Lifecycle: env_posix_create (startup, allocates everything through base_alloc), then the ops
 * table from env_posix_ops is used by one thread, then env_posix_destroy. Nothing is allocated
 * after create, so it is safe to call base_alloc_seal() once create has returned.
 *
 * Transport: one non-blocking IPv4 UDP socket bound to the configured address. Each peer is a
 * node id mapped to one IPv4 address and port in a fixed table of ENV_POSIX_PEERS_MAX entries.
 * Received datagrams are attributed to a peer by their source address and port; datagrams from
 * any other address are dropped and counted (struct env_posix_stats). The sender id is only as
 * trustworthy as the network: authentication belongs to the layer above (rabia.md R14).
 *
 * Storage: objects are files named after the object in the data directory. A put writes a
 * temporary file, fsyncs it and renames it over the object (atomic replace: a reader or a crash
 * sees the old or the new contents, never a mix); a sync fsyncs the object and the directory,
 * which makes the rename itself durable. See env/README.md for the full durability model.
 *
 * Context: every function below is for the thread that owns the env (the control lcore or a
 * test), unless it says otherwise.
 */
#ifndef AETHER_ENV_ENV_POSIX_H
#define AETHER_ENV_ENV_POSIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/log.h"
#include "env/env.h"

/* Size of the peer table (config and run time together). */
#define ENV_POSIX_PEERS_MAX            16
/* Upper bound on completion_queue_max (a power of two). */
#define ENV_POSIX_COMPLETION_QUEUE_MAX 65536u
/* Upper bound on send_queue_max and recv_queue_max (datagrams of ENV_MSG_MAX bytes). */
#define ENV_POSIX_SOCKET_QUEUE_MAX     4096u
/*
 * How many datagrams from unknown addresses one recv call drops before it gives up and returns
 * -EAGAIN, so that a flood from a stranger cannot keep the caller inside recv forever.
 */
#define ENV_POSIX_RECV_DROP_BURST      64u

/* An IPv4 endpoint, both fields in HOST byte order (127.0.0.1 is 0x7f000001). */
struct env_posix_addr {
	uint32_t ipv4;
	uint16_t port;
};

/* Builds a host-order IPv4 address from its four dotted parts: env_posix_ipv4(127, 0, 0, 1). */
static inline uint32_t
env_posix_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return ((uint32_t)a << 24) | ((uint32_t)b << 16) | ((uint32_t)c << 8) | (uint32_t)d;
}

struct env_posix_peer {
	uint32_t node_id;
	struct env_posix_addr addr; /* ipv4 != 0 and port != 0 */
};

struct env_posix_config {
	uint32_t node_id; /* this node; informational (logs, dump) */
	/* Where the socket binds. port 0 picks an ephemeral port; env_posix_port() reports it. */
	struct env_posix_addr bind;
	/*
	 * Peers known at startup; more can be added with env_posix_set_peer. Node ids and
	 * addresses must each be distinct. Copied at create.
	 */
	struct env_posix_peer peers[ENV_POSIX_PEERS_MAX];
	size_t peer_count;
	/*
	 * Directory holding the storage objects (borrowed for the call, shorter than PATH_MAX).
	 * Created with mode 0750 when missing; its parent must exist.
	 */
	const char *data_dir;
	uint64_t seed;       /* returned by ops->seed */
	struct base_log log; /* copied into ops->log; fn == NULL disables logging */
	/*
	 * Kernel socket buffer sizes, in datagrams of ENV_MSG_MAX bytes (SO_SNDBUF / SO_RCVBUF =
	 * n * ENV_MSG_MAX; the kernel may clamp to net.core.wmem_max / rmem_max). 0 keeps the
	 * kernel default. At most ENV_POSIX_SOCKET_QUEUE_MAX. When the send buffer is full, send
	 * returns -ENOBUFS; when the receive buffer is full, the kernel drops (fair loss).
	 */
	uint32_t send_queue_max;
	uint32_t recv_queue_max;
	/*
	 * Storage completions that may wait for storage_poll: a power of two, 1 to
	 * ENV_POSIX_COMPLETION_QUEUE_MAX. When the queue is full, put and sync return -ENOBUFS.
	 */
	uint32_t completion_queue_max;
};

/* Counters, only ever incremented. */
struct env_posix_stats {
	uint64_t recv_unknown_count;  /* datagrams dropped: source not in the peer table */
	uint64_t recv_too_big_count;  /* datagrams dropped: larger than the recv capacity */
	uint64_t send_full_count;     /* sends refused with -ENOBUFS (socket buffer full) */
	uint64_t send_dropped_count;  /* sends the kernel refused for routing reasons (lost) */
	uint64_t storage_error_count; /* completions with a non-zero status */
};

/* Opaque; one per node. */
struct env_posix;

/*
 * Validates cfg (borrowed), allocates the env through base_alloc, opens (creating if needed)
 * the data directory, binds the UDP socket and fills the ops table. On success *out owns the
 * env (free it with env_posix_destroy). Startup only.
 *
 * Errors (nothing is left allocated or open): -EINVAL for a bad config (completion_queue_max
 * not a power of two or too large, a queue bound over its maximum, peer_count over
 * ENV_POSIX_PEERS_MAX, a peer with address or port 0, duplicate peer ids or addresses, data_dir
 * NULL or too long), -ENOMEM, -ENOENT when the data directory's parent does not exist,
 * -ENOTDIR, -EADDRINUSE, -EADDRNOTAVAIL, or another negative errno from mkdir, open, socket,
 * setsockopt or bind.
 */
AE_MUST_CHECK int env_posix_create(const struct env_posix_config *cfg, struct env_posix **out);
/* Closes the socket and the directory and frees the env. Undelivered completions are lost. */
void env_posix_destroy(struct env_posix *e);

/* The filled, valid seam table; its ctx is e. Borrowed: valid until env_posix_destroy. */
const struct env_ops *env_posix_ops(const struct env_posix *e);

/*
 * Adds peer node_id at addr, or moves an existing node_id to addr (ephemeral ports are known
 * only after the peer has bound). Returns 0; -EINVAL when addr has ipv4 0 or port 0; -EEXIST
 * when another node id already uses addr; -ENOBUFS when the table already holds
 * ENV_POSIX_PEERS_MAX other peers. Never allocates.
 */
AE_MUST_CHECK int env_posix_set_peer(struct env_posix *e, uint32_t node_id,
				     const struct env_posix_addr *addr);

/* The bound UDP port in host byte order (the ephemeral one when the config said 0). */
uint16_t env_posix_port(const struct env_posix *e);
/*
 * The socket, for poll()/epoll (POLLIN means recv has something to look at; it may still return
 * -EAGAIN after dropping datagrams from unknown sources). Borrowed: do not close or read it.
 */
int env_posix_fd(const struct env_posix *e);

/* Copies the counters into *out. */
void env_posix_stats_get(const struct env_posix *e, struct env_posix_stats *out);

/* One human-readable block: node id, port, peers, counters, completions waiting. */
void env_posix_dump(const struct env_posix *e, FILE *out);

#endif /* AETHER_ENV_ENV_POSIX_H */
