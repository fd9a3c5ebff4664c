/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env_posix: the FALLBACK implementation of the platform seam (env/env.h) on plain POSIX:
 * kernel UDP sockets for the transport, files in one data directory for storage,
 * CLOCK_MONOTONIC for time. It exists for machines where DPDK cannot start and for dev/CI; the
 * production transport is dataplane/src/env_dpdk.c. Kernel UDP costs about 8 us per loopback
 * round trip busy-polling (PLATFORM-NOTES.md). Storage has two backends (below): io_uring, which
 * aetherd uses for its snapshots, high-water mark and logs, and a synchronous one kept as the
 * labelled fallback for kernels or sandboxes without io_uring.
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
 * temporary file ".<name>.tmp", fsyncs it and renames it over the object (atomic replace: a
 * reader or a crash sees the old or the new contents, never a mix). An append opens the object
 * with O_APPEND (creating it when missing) and writes at its end. A sync fsyncs the object, and
 * then the directory when a put renamed or an append created an object since the directory was
 * last fsynced, which makes the rename or the creation itself durable. Operations on one name
 * run one after the other in call order, so a sync covers every put and append of that name
 * accepted before it. See env/README.md for the full durability model.
 *
 * Storage backends (config storage_backend; env_posix_storage_backend_get reports the choice and
 * create logs it once):
 *  - io_uring (ENV_POSIX_STORAGE_URING, env/src/env_posix_uring.c): put, append and sync copy
 *    their data into a buffer of storage_bytes_max bytes claimed at create, queue the steps
 *    (open, write, fsync, renameat, ...) on an io_uring and return; the steps run in the kernel
 *    and storage_poll reaps them, submits the next steps and hands out completions. The calls
 *    never wait for the disk: their only system call is one io_uring submit (and, for an
 *    append to a name neither loaded nor written since create or since a failed write, one
 *    fstatat to learn its size for the ENV_STORAGE_OBJECT_MAX check). Operations on
 *    different names run concurrently, so completions of different names may come back in
 *    any order (the seam allows it); those of one name come back in call order. storage_load
 *    first waits (blocking) for the operations in flight on its name.
 *  - synchronous (ENV_POSIX_STORAGE_SYNC, the FALLBACK): each call does its write/fsync/rename
 *    itself and queues the completion before returning (it may block for milliseconds).
 *    Completions come back in call order.
 *  - ENV_POSIX_STORAGE_AUTO (the default, 0): io_uring when the kernel offers it (the ring
 *    can be set up and supports every opcode used), else the synchronous fallback.
 *
 * Context: every function below is for the thread that owns the env (the control lcore or a
 * test), unless it says otherwise.
 */
#ifndef AETHER_ENV_ENV_POSIX_H
#define AETHER_ENV_ENV_POSIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/log.h"
#include "env/env.h"

/* Size of the peer table (config and run time together). */
#define ENV_POSIX_PEERS_MAX             16
/* Upper bound on completion_queue_max (a power of two). */
#define ENV_POSIX_COMPLETION_QUEUE_MAX  65536u
/* Upper bound on send_queue_max and recv_queue_max (datagrams of ENV_MSG_MAX bytes). */
#define ENV_POSIX_SOCKET_QUEUE_MAX      4096u
/*
 * How many datagrams from unknown addresses one recv call drops before it gives up and returns
 * -EAGAIN, so that a flood from a stranger cannot keep the caller inside recv forever.
 */
#define ENV_POSIX_RECV_DROP_BURST       64u
/* storage_bytes_max when the config says 0: every object the seam allows fits in flight. */
#define ENV_POSIX_STORAGE_BYTES_DEFAULT ENV_STORAGE_OBJECT_MAX
/* Upper bound on storage_bytes_max. */
#define ENV_POSIX_STORAGE_BYTES_MAX     (1u << 30)
/*
 * Names the io_uring backend tracks at once: names with operations in flight, and the cached
 * sizes that let append check ENV_STORAGE_OBJECT_MAX without asking the disk. An operation on a
 * new name when every entry has operations in flight is refused with -ENOBUFS.
 */
#define ENV_POSIX_STORAGE_NAMES_MAX     64u
/* I/O steps the io_uring backend keeps in the kernel at once (its submission queue size). */
#define ENV_POSIX_STORAGE_URING_DEPTH   128u
/* Kernel io-wq worker threads per env for the blocking steps (fsync, open), of each kind. */
#define ENV_POSIX_STORAGE_URING_WORKERS 4u

/* Which storage backend runs the put/append/sync calls (see the file comment). */
enum env_posix_storage_backend {
	ENV_POSIX_STORAGE_AUTO = 0,  /* config only: io_uring when available, else sync */
	ENV_POSIX_STORAGE_URING = 1, /* asynchronous, through io_uring */
	ENV_POSIX_STORAGE_SYNC = 2,  /* the fallback: I/O inside the calls */
};

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
	 * ENV_POSIX_COMPLETION_QUEUE_MAX. It bounds the operations accepted and not yet polled
	 * (in flight or waiting in the queue): beyond it put, append and sync return -ENOBUFS.
	 */
	uint32_t completion_queue_max;
	/* The storage backend; 0 is ENV_POSIX_STORAGE_AUTO. */
	enum env_posix_storage_backend storage_backend;
	/*
	 * io_uring backend only: bytes of put/append data in flight (copied at the call, released
	 * when the operation completes), claimed at create. 0 means
	 * ENV_POSIX_STORAGE_BYTES_DEFAULT; at most ENV_POSIX_STORAGE_BYTES_MAX. When the data does
	 * not fit next to what is in flight, put and append return -ENOBUFS (try after a poll); a
	 * put or append larger than storage_bytes_max itself could never fit and returns -EFBIG,
	 * so a config below the default narrows the seam's ENV_STORAGE_OBJECT_MAX for this env.
	 * The buffer is reused from its start whenever nothing is in flight, so memory actually
	 * touched follows the largest burst, not the bound.
	 */
	uint32_t storage_bytes_max;
};

/* Counters, only ever incremented. */
struct env_posix_stats {
	uint64_t recv_unknown_count;  /* datagrams dropped: source not in the peer table */
	uint64_t recv_too_big_count;  /* datagrams dropped: larger than the recv capacity */
	uint64_t send_full_count;     /* sends refused with -ENOBUFS (socket buffer full) */
	uint64_t send_dropped_count;  /* sends the kernel refused for routing reasons (lost) */
	uint64_t storage_error_count; /* completions with a non-zero status */
	/* Directory fsyncs done by syncs (only after a put renamed or an append created). */
	uint64_t storage_dir_fsync_count;
};

/* Opaque; one per node. */
struct env_posix;

/*
 * Validates cfg (borrowed), allocates the env through base_alloc, opens (creating if needed)
 * the data directory, binds the UDP socket and fills the ops table. On success *out owns the
 * env (free it with env_posix_destroy). Startup only.
 *
 * With storage_backend AUTO, an io_uring that cannot be set up (no kernel support, seccomp,
 * kernel.io_uring_disabled, a missing opcode) selects the synchronous fallback; the log line
 * says why. With URING it fails create instead.
 *
 * Errors (nothing is left allocated or open): -EINVAL for a bad config (completion_queue_max
 * not a power of two or too large, a queue bound over its maximum, peer_count over
 * ENV_POSIX_PEERS_MAX, a peer with address or port 0, duplicate peer ids or addresses, data_dir
 * NULL or too long, an unknown storage_backend, storage_bytes_max over its maximum), -ENOMEM,
 * -ENOENT when the data directory's parent does not exist, -ENOTDIR, -EADDRINUSE,
 * -EADDRNOTAVAIL, another negative errno from mkdir, open, socket, setsockopt or bind, or
 * (storage_backend URING only) the error of io_uring_queue_init, or -EOPNOTSUPP when the
 * kernel lacks an opcode the backend needs.
 */
AE_MUST_CHECK int env_posix_create(const struct env_posix_config *cfg, struct env_posix **out);
/*
 * Finishes every accepted storage operation (io_uring: waits for the kernel, so it may block
 * on the disk), closes the socket, the ring and the directory, and frees the env. Completions
 * not yet polled are lost; the operations themselves are done. Callers that need the results
 * wait with env_posix_storage_mark / env_posix_storage_reached first.
 */
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

/* The storage backend in use: ENV_POSIX_STORAGE_URING or ENV_POSIX_STORAGE_SYNC, never AUTO. */
enum env_posix_storage_backend env_posix_storage_backend_get(const struct env_posix *e);
/* "io_uring", "sync" or "auto" (static strings, for logs and dumps). */
const char *env_posix_storage_backend_name(enum env_posix_storage_backend backend);

/*
 * The io_uring's descriptor, for poll()/epoll: POLLIN means the kernel finished a step and the
 * next storage_poll has something to reap (it may still return 0 when that step was not the
 * last of its operation). -1 with the synchronous backend, whose completions are queued before
 * the calls return. Borrowed: do not close, read or submit on it.
 */
int env_posix_storage_fd(const struct env_posix *e);

/*
 * A mark in the stream of accepted storage operations (how many put/append/sync calls were
 * accepted so far). env_posix_storage_reached(e, mark) is true once every operation accepted
 * before the mark was taken has finished: its I/O is over and its completion queued for
 * storage_poll (or already delivered). Finishing needs storage_poll calls with the io_uring
 * backend (a capacity of 0 makes progress without taking completions); with the synchronous
 * backend every accepted operation has already finished. For shutdown: take a mark, then poll
 * until reached or a deadline.
 */
uint64_t env_posix_storage_mark(const struct env_posix *e);
bool env_posix_storage_reached(const struct env_posix *e, uint64_t mark);

/* Copies the counters into *out. */
void env_posix_stats_get(const struct env_posix *e, struct env_posix_stats *out);

/*
 * One human-readable block: node id, port, storage backend, peers, counters, operations in
 * flight and completions waiting.
 */
void env_posix_dump(const struct env_posix *e, FILE *out);

#endif /* AETHER_ENV_ENV_POSIX_H */
