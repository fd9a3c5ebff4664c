/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform seam: everything the deterministic core needs from the outside world, as one
 * versioned table of operations (after sqlite3_vfs and canonical raft's struct raft_io).
 *
 * Three implementations provide it: env/src/env_posix.c (kernel UDP sockets, files, the
 * monotonic clock; the labelled fallback and the dev/CI path), sim/src/env_sim.c (in memory,
 * virtual time, faults) and dataplane/src/env_dpdk.c (DPDK ports).
 *
 * Versioning: the table is append-only. `version` says which members the implementation fills;
 * a caller that needs a member added in version V checks `ops->version >= V` first. Members of
 * version 1 are all mandatory.
 *
 * Concurrency: an env instance belongs to one thread (the control lcore, or the simulator's
 * single thread). None of these calls block for long: send queues, storage operations complete
 * later through storage_poll.
 *
 * Storage model: named objects (`name` is a short file-name-like string: [a-z0-9._-], at most
 * ENV_STORAGE_NAME_MAX bytes), replaced as a whole (put) or grown at the end (append, version
 * 2). Operations on one name take effect in the order they were accepted. Nothing is durable
 * until a later sync of that name completes; a sync covers every put and append of that name
 * accepted before the sync call. A crash may lose whatever was not synced: after a crash an
 * object holds its last synced contents, and when only appends followed that sync, any prefix
 * of the appended bytes may survive as well (a torn tail: records written by append must carry
 * their own length and checksum). The simulator does exactly that. Put, append and sync
 * complete asynchronously; each returns a caller-chosen token that comes back in a completion
 * from storage_poll. Load is synchronous and meant for startup.
 */
#ifndef AETHER_ENV_ENV_H
#define AETHER_ENV_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/log.h"

#define ENV_OPS_VERSION 2

/* Largest datagram the transport carries (header and payload of one message). */
#define ENV_MSG_MAX            9000
/* Longest storage object name, without the NUL. */
#define ENV_STORAGE_NAME_MAX   64
/* Largest storage object. */
#define ENV_STORAGE_OBJECT_MAX (64u * 1024u * 1024u)

enum env_storage_op {
	ENV_STORAGE_PUT = 1,
	ENV_STORAGE_SYNC = 2,
	ENV_STORAGE_APPEND = 3,
};

struct env_storage_completion {
	uint64_t token;
	enum env_storage_op op;
	int status; /* 0 or a negative errno */
};

struct env_ops {
	uint32_t version; /* ENV_OPS_VERSION of the implementation */
	uint32_t size;    /* sizeof(struct env_ops) the implementation was built with */
	void *ctx;        /* passed to every member */

	/* Monotonic time in nanoseconds. Never goes backwards. */
	uint64_t (*now_ns)(void *ctx);
	/* The initial seed for this node's PRNGs (config, or the simulator's per-node seed). */
	uint64_t (*seed)(void *ctx);

	/*
	 * Queues one datagram (borrowed for the call) to peer node `peer_id`. Fair-loss: it may be
	 * dropped, duplicated, delayed or reordered; the protocol retransmits. Returns 0, -ENOBUFS
	 * when the send queue is full (try later), -EMSGSIZE when size > ENV_MSG_MAX, -EHOSTUNREACH
	 * for an unknown peer.
	 */
	int (*send)(void *ctx, uint32_t peer_id, const uint8_t *data, size_t size);
	/*
	 * Takes the next received datagram into buf (capacity `capacity`). Returns 0 and sets
	 * *peer_id and *size; -EAGAIN when nothing is pending; -EMSGSIZE when a datagram did not
	 * fit (it is dropped). The sender id is what the transport knows, not what the payload
	 * claims; authentication is the transport's job (rabia.md R14).
	 */
	int (*recv)(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size);

	/*
	 * Starts replacing object `name` with data (copied before return). Returns 0 when the
	 * put was accepted: its I/O result (0 or a negative errno such as -EIO or -ENOSPC) comes
	 * back later as the status of exactly one completion carrying `token`. Returns -EINVAL
	 * for a bad name, -EFBIG when size > ENV_STORAGE_OBJECT_MAX, -ENOBUFS when the
	 * completion queue is full; in those cases nothing was done and no completion follows.
	 */
	int (*storage_put)(void *ctx, const char *name, const uint8_t *data, size_t size,
			   uint64_t token);
	/*
	 * Starts making every completed put of `name` durable. Returns like storage_put (0,
	 * -EINVAL, -ENOBUFS); the completion's status is -ENOENT when the object does not exist.
	 */
	int (*storage_sync)(void *ctx, const char *name, uint64_t token);
	/*
	 * Copies up to `capacity` completions into out; returns how many (0 when none). The
	 * seam does not promise completion order; match them by token.
	 */
	size_t (*storage_poll)(void *ctx, struct env_storage_completion *out, size_t capacity);
	/*
	 * Reads the durable (or last put) contents of `name` into buf. Returns 0 and sets *size,
	 * -EINVAL for a bad name, -ENOENT when the object does not exist, -EFBIG when it exceeds
	 * capacity (buf's contents are then unspecified).
	 */
	int (*storage_load)(void *ctx, const char *name, uint8_t *buf, size_t capacity,
			    size_t *size);

	/* Where this node's log lines go. */
	struct base_log log;

	/* ---- version 2 ---- */

	/*
	 * Starts appending data (copied before return) at the end of object `name`, creating it
	 * empty first when it does not exist. Returns and completes like storage_put; a failed
	 * append (-EIO, -ENOSPC) may have written any prefix of data, so the caller must treat
	 * the object's tail as unknown until it writes the object again with a put. -EFBIG when
	 * the object would exceed ENV_STORAGE_OBJECT_MAX (nothing done, no completion).
	 */
	int (*storage_append)(void *ctx, const char *name, const uint8_t *data, size_t size,
			      uint64_t token);
};

/* 0 when name is a valid storage object name, -EINVAL otherwise. */
AE_MUST_CHECK int env_storage_name_check(const char *name);

/* Asserts that the table is complete for ENV_OPS_VERSION (programmer error otherwise). */
void env_ops_assert_valid(const struct env_ops *ops);

#endif /* AETHER_ENV_ENV_H */
