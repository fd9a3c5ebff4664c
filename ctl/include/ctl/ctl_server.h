/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's operator socket: a unix stream socket speaking ctl_proto.h, served from the node's
 * control loop without threads (rabia.md 3d (2), ARCHITECTURE.md section 7).
 *
 * Permission model:
 *  - The socket lives in a directory the server creates with mode 0750 when it is missing (an
 *    existing directory is left as the operator made it); the socket file is bound under a
 *    umask and then chmod'ed to 0660. Both get the operator group when one is configured.
 *    Never the abstract namespace: it has no file permissions.
 *  - On every accept the peer's credentials (SO_PEERCRED: pid, uid, gid as of connect) are
 *    checked: allowed are uid 0, the server's effective uid, and members of the operator group
 *    (the peer's gid, or the group among getgrouplist() of the uid's user name). A refused
 *    caller gets one response (status DENIED, "permission denied: uid 1001 is not in operator
 *    group 'aether'") and the connection is closed; the refusal is logged with pid and uid.
 *  - Limits: at most max_connections (<= CTL_SERVER_CONNECTIONS_MAX) at once (the next caller
 *    gets BUSY and is closed), requests of at most CTL_REQUEST_MAX bytes (a larger header is
 *    answered TOO_LARGE before its body is read, then closed), and each request must arrive
 *    whole within read_timeout_ns of the previous answer (or of accept): a partial frame then
 *    gets TIMEOUT and the connection closes, an idle one is closed quietly.
 *
 * Driving it: the caller's loop calls ctl_server_poll(srv, now_ns) regularly. It polls the
 * sockets with a zero timeout, accepts, reads, hands each complete request to the handler,
 * writes answers and enforces the timeouts; it never blocks and never starts a thread. Each call
 * costs one poll() system call plus the work found, so a busy-polling control loop should call
 * it every millisecond or so rather than on every iteration.
 *
 * The handler (fn + ctx in the config) gets a decoded request, the caller's credentials and a
 * response already reset to OK for that request. It either fills the response and returns
 * CTL_REPLY_NOW, or keeps the ticket and returns CTL_REPLY_LATER (for example a KV write that
 * waits for consensus) and later calls ctl_server_reply() with the ticket. A connection has at
 * most one request in flight; further requests it pipelines wait in its buffer. A deferred
 * request unanswered after reply_timeout_ns is answered TIMEOUT by the server, and the ticket
 * goes stale, as it does when the caller hangs up.
 *
 * Memory: everything is claimed at create (per connection a CTL_REQUEST_MAX input buffer and a
 * CTL_RESPONSE_MAX output buffer, plus one struct ctl_response); nothing is allocated later.
 * Context: one owner thread (the node's control lcore); create changes the process umask
 * briefly, so call it at startup before other threads exist. Not thread-safe.
 */
#ifndef AETHER_CTL_CTL_SERVER_H
#define AETHER_CTL_CTL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/log.h"
#include "ctl/ctl_proto.h"

#define CTL_SERVER_CONNECTIONS_MAX  16
#define CTL_SERVER_READ_TIMEOUT_NS  (5ull * 1000 * 1000 * 1000)
#define CTL_SERVER_REPLY_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)
/* sun_path holds 108 bytes including the NUL. */
#define CTL_SERVER_PATH_MAX         107
/* Room for any error text ctl_server_create writes. */
#define CTL_SERVER_ERROR_MAX        256
/* The socket path aetherctl and the node use when nothing else is configured. */
#define CTL_SERVER_DEFAULT_SOCKET   "/run/aether/aether.sock"

struct ctl_server;

/* Who is calling, from SO_PEERCRED at accept. */
struct ctl_caller {
	int32_t pid;
	uint32_t uid;
	uint32_t gid;
};

/* Names a deferred request; stale once answered, timed out or its connection closed. */
struct ctl_ticket {
	uint32_t slot;
	uint32_t generation;
};

enum ctl_reply {
	CTL_REPLY_NOW = 0,   /* resp is filled: send it */
	CTL_REPLY_LATER = 1, /* the handler keeps the ticket and calls ctl_server_reply */
};

/*
 * Handles one request. req's views borrow the connection's buffer until the handler returns
 * (copy what a deferred reply needs). resp is reset to OK for req; pointers the handler puts in
 * it must stay valid until it returns, as the server encodes it right away. Runs inside
 * ctl_server_poll on the owner thread; it must not call ctl_server_poll or destroy the server.
 */
typedef enum ctl_reply ctl_handler_fn(void *ctx, const struct ctl_request *req,
				      const struct ctl_caller *caller, struct ctl_ticket ticket,
				      struct ctl_response *resp);

struct ctl_server_config {
	/* Where to listen; copied at create; at most CTL_SERVER_PATH_MAX bytes, not empty. */
	const char *socket_path;
	/* Operator group: a group name or a numeric gid; NULL or "" for none (then only root and
	 * the server's own uid may connect). Resolved at create. */
	const char *operator_group;
	/* 1..CTL_SERVER_CONNECTIONS_MAX; 0 means CTL_SERVER_CONNECTIONS_MAX. */
	uint32_t max_connections;
	/* 0 means CTL_SERVER_READ_TIMEOUT_NS / CTL_SERVER_REPLY_TIMEOUT_NS. */
	uint64_t read_timeout_ns;
	uint64_t reply_timeout_ns;
	/* Where refusals, per-request audit lines and errors go; copied. */
	struct base_log log;
	ctl_handler_fn *handler;
	void *handler_ctx;
};

/*
 * Creates the directory when missing, removes a stale socket file, binds, listens, and
 * allocates every buffer. When error is not NULL, a failure also writes one line for the
 * operator there (e.g. "socket /run/aether/aether.sock is in use by a running server").
 * Errors: -EINVAL (empty or missing path or handler, max_connections too large),
 * -ENAMETOOLONG (path over CTL_SERVER_PATH_MAX), -ENOENT (operator group unknown, or the
 * directory's parent missing), -EADDRINUSE (a live server answers on the path), -EEXIST (the
 * path exists and is not a socket, or the directory path is not a directory), -ENOMEM, or the
 * negative errno of mkdir, chmod, chown, socket, bind or listen.
 */
AE_MUST_CHECK int ctl_server_create(const struct ctl_server_config *cfg, struct ctl_server **out,
				    char *error, size_t error_size);

/* Closes every connection and the listener and unlinks the socket file if it is still the one
 * this server bound. Accepts NULL. Outstanding tickets become stale. */
void ctl_server_destroy(struct ctl_server *srv);

/*
 * Does all the work available now (see above) and returns how many things happened (accepts,
 * requests, writes, closes, timeouts), so the caller's idle policy can tell work from idleness,
 * or a negative errno when poll() itself fails (never for a bad client). now_ns is monotonic;
 * it must not go backwards (asserted).
 */
AE_MUST_CHECK int ctl_server_poll(struct ctl_server *srv, uint64_t now_ns);

/*
 * Answers a deferred request (resp's type and request id are set by the server). The answer is
 * encoded at once and written by the following polls. Errors: -ENOENT when the ticket is stale
 * (answered, timed out or hung up). A response that does not encode (over a limit) is replaced
 * by an INTERNAL error to the caller and logged; that still returns 0.
 */
AE_MUST_CHECK int ctl_server_reply(struct ctl_server *srv, struct ctl_ticket ticket,
				   const struct ctl_response *resp);

struct ctl_server_stats {
	uint64_t accepted;    /* connections admitted */
	uint64_t refused;     /* callers outside the operator group */
	uint64_t busy;        /* connections turned away because every slot was taken */
	uint64_t requests;    /* requests handed to the handler */
	uint64_t bad_frames;  /* frames rejected (magic, version, size, body) */
	uint64_t timeouts;    /* read or reply timeouts */
	uint32_t connections; /* open now */
};

void ctl_server_stats(const struct ctl_server *srv, struct ctl_server_stats *out);
/* The socket path (NUL-terminated, owned by srv). */
const char *ctl_server_path(const struct ctl_server *srv);
/* One summary line (path, connections, counters) to f. Control thread. */
void ctl_server_dump(const struct ctl_server *srv, FILE *f);

#endif /* AETHER_CTL_CTL_SERVER_H */
