/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slice ABI: everything a slice author needs, and the only header a slice includes from
 * Aether. A slice is a shared object (.so) holding business logic; the node loads it, hands it
 * a table of host services, and routes calls to its methods (ARCHITECTURE.md sections 1 and 5).
 *
 * Shape (after SQLite's loadable extensions and canonical raft's versioned io table):
 *  - The slice exports exactly one symbol, SLICE_DEF_SYMBOL ("aether_slice_def"): a function
 *    returning a pointer to a constant `struct slice_def` (its descriptor). Everything else in
 *    the .so is hidden (-fvisibility=hidden plus the version script slice.map). The slice never
 *    links a host symbol: it reaches the host only through `const struct slice_host *`.
 *  - The host calls the descriptor function once per loaded instance, checks abi_version and
 *    every size field BEFORE it touches anything else, and refuses a mismatched build.
 *  - Lean slices have one method, service slices several; both are first-class. A call names a
 *    method by its text; a lean slice's one method may also be called with method NULL.
 *
 * Threads and blocking. Each instance belongs to one worker lcore of the node. Its handlers and
 * its call completions run there, one at a time, and must never block (no sleeping, no file or
 * socket IO that waits, no locks held across calls): a handler answers through host->respond,
 * at once or later from the completion of a call it made to another slice. The start and stop
 * hooks run on a separate hook thread of the host, bounded by a timeout; they may take a little
 * time (build tables, read the arena) but a hook that hangs makes the instance FAILED. Hooks
 * never run while a handler of the same instance runs.
 *
 * Ownership vocabulary (STYLE.md section 5): "borrows" = valid until the call returns; "takes" =
 * the callee frees it; "lends" = valid until the completion callback returns. Every string in
 * the descriptor must stay valid while the .so is loaded (string literals do).
 *
 * Errors are 0 or negative Linux errno values (include <errno.h> in the slice for the names).
 * The host never interprets a slice's own negative status beyond passing it to the caller.
 *
 * Evolution: SLICE_ABI_VERSION changes only when an existing member changes meaning, which
 * makes every older slice unloadable. `struct slice_host` is append-only: members are only ever
 * added at the end, `size` tells a slice which ones exist, and a host refuses a slice whose
 * descriptor says it was built against a larger table than the host has (host_size).
 *
 * This header includes only <stdint.h> and <stddef.h>, so it compiles with any C99 or later
 * compiler (and as C++ inside extern "C").
 */
#ifndef AETHER_SLICE_H
#define AETHER_SLICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes; stored in slice_def.abi_version and slice_host.abi_version. */
#define SLICE_ABI_VERSION 1u

/* The one symbol a slice exports. */
#define SLICE_DEF_SYMBOL "aether_slice_def"

/*
 * Limits the host enforces on a descriptor (a descriptor beyond them is refused at load).
 * Names of methods and counters: [a-z_][a-z0-9_]*, at most SLICE_METHOD_NAME_MAX bytes (the
 * method grammar of the manifest and of the cluster's endpoint keys).
 */
#define SLICE_METHOD_NAME_MAX  64u
#define SLICE_METHODS_MAX      32u
#define SLICE_DEPENDENCIES_MAX 16u
#define SLICE_COUNTERS_MAX     16u

/* Log levels for slice_host.log (the same order as the host's own log). */
#define SLICE_LOG_ERROR 0u
#define SLICE_LOG_WARN  1u
#define SLICE_LOG_INFO  2u
#define SLICE_LOG_DEBUG 3u

/* The host's object for one running instance. Opaque: a slice only passes it back. */
struct slice_instance;
struct slice_host;

/*
 * The handle of one inbound call, given to a handler by value. The slice may keep it (in its
 * arena) to answer later; it names the call, not memory, so a stale handle is harmless:
 * host->respond then returns -ESTALE.
 */
struct slice_call {
	uint64_t token;
};

/*
 * Starts an instance: allocate state from the arena (host->alloc), set *state (it is passed to
 * every handler, completion and stop; NULL is fine) and return 0, or return a negative errno to
 * refuse (the instance becomes FAILED with that code). Runs on the host's hook thread, bounded
 * by the host's start timeout. host->call and host->respond are not available here (-EPERM).
 */
typedef int slice_start_fn(const struct slice_host *host, struct slice_instance *self,
			   void **state);

/*
 * Stops an instance before unload: every call has been answered or cancelled and no handler
 * runs again. Release anything outside the arena (the arena itself is released by the host).
 * Returns 0 or a negative errno (the instance becomes FAILED, and is still unloaded). Runs on
 * the hook thread, bounded by the stop timeout.
 */
typedef int slice_stop_fn(const struct slice_host *host, struct slice_instance *self, void *state);

/*
 * Handles one call to a method. request is lent until host->respond is called for `call` (so a
 * handler that answers later must copy what it needs into its arena). Must answer exactly once
 * through host->respond, now or later; until then the call counts as outstanding. Runs on the
 * instance's lcore; must not block.
 */
typedef void slice_handler_fn(const struct slice_host *host, struct slice_instance *self,
			      void *state, struct slice_call call, const uint8_t *request,
			      size_t request_size);

/*
 * Completion of a call this instance made with host->call: status is 0 and response holds the
 * callee's answer, or status is negative: the callee's own error, or the host's (-ENOENT no
 * instance matches the target, -ENOSYS no such method, -ETIMEDOUT no answer in time,
 * -ECANCELED this instance is being deactivated, -EMSGSIZE the answer was too large).
 * response is lent until the callback returns. ctx is the caller's, unchanged. Runs on this
 * instance's lcore, never inside host->call itself. The callback may call host->respond and
 * host->call.
 */
typedef void slice_done_fn(const struct slice_host *host, struct slice_instance *self, void *state,
			   void *ctx, int status, const uint8_t *response, size_t response_size);

struct slice_method {
	const char *name;          /* [a-z_][a-z0-9_]*, unique within the slice */
	slice_handler_fn *handler; /* never NULL */
	/*
	 * 1 when running the method twice with the same request has the same effect as once: the
	 * host may then retry it on another instance after a timeout. 0 otherwise (no retry).
	 */
	uint32_t is_idempotent;
	uint32_t reserved; /* 0 */
};

/*
 * A slice this one calls. The packaging tool copies these into the manifest, and the resolver
 * loads a matching version before this slice. Calls may still name any target.
 */
struct slice_dependency {
	const char *name;    /* "group:artifact" */
	const char *pattern; /* version pattern: "1.2.3", "^1.2.0", "~1.2.0", "[1.0.0,2.0.0)",
				">=1.0.0" */
};

/*
 * The descriptor. Fill the first five members with SLICE_DEF_HEADER; the host checks them
 * before reading anything else. Coordinates follow the grammar group:artifact:version
 * (`org.example`, `order-service`, `1.2.0` or `1.2.0-rc.1`); the packaging tool refuses
 * coordinates that do not parse, and the manifest is written from these fields, so the
 * manifest cannot disagree with the binary.
 */
struct slice_def {
	uint32_t abi_version;      /* SLICE_ABI_VERSION */
	uint32_t def_size;         /* sizeof(struct slice_def) */
	uint32_t method_size;      /* sizeof(struct slice_method) */
	uint32_t dependency_size;  /* sizeof(struct slice_dependency) */
	uint32_t host_size;        /* sizeof(struct slice_host) the slice was compiled against */
	uint32_t method_count;     /* 1 .. SLICE_METHODS_MAX */
	uint32_t dependency_count; /* 0 .. SLICE_DEPENDENCIES_MAX */
	uint32_t counter_count;    /* 0 .. SLICE_COUNTERS_MAX */

	const char *group;    /* "org.example" */
	const char *artifact; /* "greeter" */
	const char *version;  /* "1.0.0" */

	const struct slice_method *methods;
	const struct slice_dependency *dependencies; /* NULL when dependency_count is 0 */
	/* Names of the instance's counters (host->counter_add index i adds to name i). */
	const char *const *counter_names; /* NULL when counter_count is 0 */

	/* Bytes of instance arena the slice needs; the host refuses sizes above its limit. */
	uint64_t arena_size;

	slice_start_fn *start; /* NULL: nothing to start, state is NULL */
	slice_stop_fn *stop;   /* NULL: nothing to stop */
};

/* Designated initializers for the checked header of a descriptor. */
#define SLICE_DEF_HEADER                                                                  \
	.abi_version = SLICE_ABI_VERSION, .def_size = (uint32_t)sizeof(struct slice_def), \
	.method_size = (uint32_t)sizeof(struct slice_method),                             \
	.dependency_size = (uint32_t)sizeof(struct slice_dependency),                     \
	.host_size = (uint32_t)sizeof(struct slice_host)

/*
 * The host services table. The host passes the same table to every callback; `self` names the
 * instance. Which members exist: every member whose end offset is at most `size`. Context: the
 * instance's lcore (handlers and completions) unless a member says otherwise; none blocks.
 */
struct slice_host {
	uint32_t size;        /* sizeof(struct slice_host) the host was built with: always first */
	uint32_t abi_version; /* SLICE_ABI_VERSION of the host */

	/*
	 * Writes one log line, tagged with the instance's coordinates, at level SLICE_LOG_*.
	 * text is borrowed (text_size bytes, no NUL needed; long lines are cut). Any context,
	 * hooks included. Meant for state changes, not for every call (use counters there).
	 */
	void (*log)(struct slice_instance *self, uint32_t level, const char *text,
		    size_t text_size);

	/*
	 * Allocates size bytes aligned to align (a power of two, at most 4096) from the instance's
	 * arena (slice_def.arena_size bytes, on the NUMA node of the instance's lcore). There is
	 * no free: the whole arena is released at unload. Returns NULL when the arena is exhausted
	 * or align is invalid. Any context of the instance (hooks included), never concurrently.
	 */
	void *(*alloc)(struct slice_instance *self, size_t size, size_t align);

	/* Monotonic time in nanoseconds (the node's clock; virtual in the simulator). */
	uint64_t (*now_ns)(struct slice_instance *self);

	/*
	 * The request id of the call being handled: inside a handler, its call's id; inside a
	 * completion, the id of the call during which host->call was made; 0 in hooks. Calls made
	 * with host->call carry the current id, so one id follows a request across slices.
	 */
	uint64_t (*request_id)(struct slice_instance *self);

	/*
	 * Adds delta to the instance's counter counter_index (< slice_def.counter_count; others are
	 * ignored). Counters are per instance, read by the host's metrics. Cost: a few ns.
	 */
	void (*counter_add)(struct slice_instance *self, uint32_t counter_index, uint64_t delta);

	/*
	 * Calls method `method` of a slice instance matching `target`, asynchronously.
	 *  target:  "group:artifact" (any version) or "group:artifact:pattern" (e.g.
	 *           "org.example:greeter:^1.0.0"); the host picks an active instance of the highest
	 *           matching version. NUL-terminated, borrowed.
	 *  method:  NUL-terminated, borrowed; NULL calls the target's only method (lean slices).
	 *  request: borrowed (copied before return); request_size may be 0 (request may be NULL).
	 * Returns 0 when the call was queued: done(..., ctx, status, ...) then runs exactly once,
	 * later, on this instance's lcore (never inside this function). Returns without queuing
	 * (done never runs): -EINVAL target or method text invalid; -EMSGSIZE request larger than
	 * the host's limit; -EAGAIN the host's call table is full (retry later); -EPERM called from
	 * a hook; -ESHUTDOWN this instance is being deactivated (it takes no new work). Problems
	 * with the target itself (none active, no such method, timeout) arrive in done.
	 */
	int (*call)(struct slice_instance *self, const char *target, const char *method,
		    const uint8_t *request, size_t request_size, void *ctx, slice_done_fn *done);

	/*
	 * Answers inbound call `call` exactly once: status 0 with response bytes (borrowed, copied
	 * before return; may be empty), or a negative errno for the caller (response ignored).
	 * Returns 0; -ESTALE when the call was already answered, timed out or cancelled (or the
	 * handle is not this instance's; a timed-out call is closed by this answer, which goes
	 * nowhere); -EMSGSIZE when the response is larger than the host's limit (the call stays
	 * open: answer again, e.g. with an error); -EINVAL for a positive status; -EPERM from a
	 * hook.
	 */
	int (*respond)(struct slice_instance *self, struct slice_call call, int status,
		       const uint8_t *response, size_t response_size);
};

/*
 * The exported descriptor function every slice defines exactly once, e.g.
 *   SLICE_EXPORT const struct slice_def *aether_slice_def(void) { return &my_def; }
 * It must return the same pointer every time and do nothing else (no allocation, no IO): the
 * host and the packaging tool call it before any check has been made.
 */
#if defined(__GNUC__) || defined(__clang__)
#define SLICE_EXPORT __attribute__((visibility("default")))
#else
#define SLICE_EXPORT
#endif

typedef const struct slice_def *slice_def_fn(void);

SLICE_EXPORT const struct slice_def *aether_slice_def(void);

#ifdef __cplusplus
}
#endif

#endif /* AETHER_SLICE_H */
