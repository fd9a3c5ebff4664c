/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slice runtime of one node: loads slice instances from the repository, drives each through
 * the lifecycle (slices/lifecycle.h), gives each the host services table of aether/slice.h, and
 * routes calls between instances and from the outside.
 *
 * Loading an instance (slice_runtime_load):
 *   1. the repository fetches and verifies the artifact into a sealed memfd (slices/repo.h);
 *   2. the numa plan places the instance on a worker lcore (numa_plan_place_instance);
 *   3. on the instance's hook thread, the loader (slices/loader.h) maps the memfd and calls the
 *      descriptor function, and the descriptor is checked (slices/descriptor.h) before anything
 *      else of it is used; the manifest's coordinate, ABI and entry points must agree with it;
 *   4. the instance arena (descriptor arena_size) comes from the worker's NUMA node through
 *      numa_hwloc_mem_alloc, or plain page-aligned memory when no hwloc adapter was given or the
 *      node cannot bind memory (reported in the log and in slice_instance_info.is_arena_bound).
 * Two versions of one slice are two instances with two memfds, so the dynamic linker sees two
 * objects and they answer independently; so are two instances of one version.
 *
 * Hooks off the caller's thread. Everything that runs slice code outside a call (ELF
 * constructors and the descriptor at load, start, stop, ELF destructors at unload) runs on a
 * small hook thread owned by the instance. The control thread posts the job and returns; later
 * slice_runtime_poll collects the result. The lifecycle machine bounds every operation and hook
 * with its timeouts: a hook that hangs makes the instance FAILED with "start hook timed out
 * after ..." while the caller carries on. A hung hook thread keeps its instance's object mapped
 * (nothing is unloaded under a running hook); an UNLOAD of that instance waits for the hook to
 * return, within the unload timeout.
 *
 * Unloading (slice_runtime_unload, from LOADED or FAILED): stop runs if start had succeeded and
 * stop has not run; then the loader dlcloses on the hook thread and checks /proc/self/maps; the
 * arena goes back to the node, the placement is released, and the instance disappears
 * (slice_runtime_info returns -ENOENT). If the object is still mapped, the instance becomes
 * FAILED with that reason and its memfd stays open forever: such a slice is reported, never
 * silently kept or reused.
 *
 * Calls. Every call (from outside with slice_runtime_call, or from a slice with host->call)
 * takes one slot of a fixed call table (calls_max), copies the request into it (at most
 * message_size_max bytes), and waits in a FIFO. slice_runtime_poll dispatches: it picks the
 * target instance (ACTIVE only; by instance id, or by name and version pattern: the highest
 * matching version, round robin among equal ones), calls the method's handler, and delivers
 * completions once handlers answer with host->respond. A completion is never delivered inside
 * the call that asked for it. Calls that get no answer in call_timeout_ns complete with
 * -ETIMEDOUT. Deactivating an instance first stops routing to it, completes its own pending
 * calls with -ECANCELED, and waits (within the deactivate timeout) for it to answer every call it
 * holds before the stop hook runs.
 *
 * Context: one control thread owns the runtime and calls every function here; handlers and
 * completions run inside slice_runtime_poll on that thread (the same-lcore path; per-worker
 * dispatch arrives with the node's lcore loops). The clock and the log sink must be safe to call
 * from hook threads too. Memory: create allocates the instance and call tables; load allocates
 * an instance's arena (and its hook thread); nothing else allocates.
 */
#ifndef AETHER_SLICES_RUNTIME_H
#define AETHER_SLICES_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/log.h"
#include "numa/numa_hwloc.h"
#include "numa/plan.h"
#include "slices/coord.h"
#include "slices/error.h"
#include "slices/lifecycle.h"
#include "slices/loader.h"
#include "slices/repo.h"

#define SLICE_RUNTIME_INSTANCES_MAX 256u
#define SLICE_RUNTIME_CALLS_MAX     65536u

#define SLICE_RUNTIME_INSTANCES_DEFAULT    64u
#define SLICE_RUNTIME_CALLS_DEFAULT        1024u
#define SLICE_RUNTIME_MESSAGE_DEFAULT      4096u
#define SLICE_RUNTIME_ARENA_DEFAULT        (UINT64_C(64) << 20)
#define SLICE_RUNTIME_CALL_TIMEOUT_DEFAULT (UINT64_C(1000000000))

/* A clock: monotonic nanoseconds; must be callable from any thread. */
typedef uint64_t slice_runtime_clock_fn(void *ctx);

struct slice_runtime_config {
	struct slice_repo *repo;               /* borrowed; required */
	const struct slice_loader_ops *loader; /* borrowed; NULL means &slice_loader_dl */
	struct numa_plan *plan;                /* borrowed; required: instances are placed on it */
	struct numa_hwloc *hwloc;              /* borrowed; NULL: arenas in plain memory */
	struct slice_lifecycle_config lifecycle; /* all zero: slice_lifecycle_config_default */
	uint32_t instances_max;        /* 0: default; at most SLICE_RUNTIME_INSTANCES_MAX */
	uint32_t calls_max;            /* 0: default; at most SLICE_RUNTIME_CALLS_MAX */
	uint32_t message_size_max;     /* request or response bytes; 0: default; at most 1 MiB */
	uint64_t arena_size_max;       /* largest arena a slice may ask for; 0: default */
	uint64_t call_timeout_ns;      /* 0: default (1 s) */
	slice_runtime_clock_fn *clock; /* NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
	struct base_log log; /* state changes, one line each; sink must be thread-safe */
};

struct slice_runtime;

/* What slice_runtime_info reports about one instance. */
struct slice_instance_info {
	uint32_t id;
	struct slice_coord coord;
	enum slice_state state;
	char reason[SLICE_LIFECYCLE_REASON_MAX + 1]; /* "" unless FAILED */
	struct numa_placement placement;
	bool is_arena_bound; /* arena memory bound to placement.node_os_index */
	uint64_t arena_size;
	uint64_t arena_used;
	bool is_hook_running;                      /* the hook thread is inside slice code */
	char memfd_name[SLICE_MEMFD_NAME_MAX + 1]; /* its line in /proc/self/maps */
	uint32_t counter_count;
	uint64_t counters[SLICE_COUNTERS_MAX];
	uint32_t calls_open; /* calls it holds plus calls it made, not finished */
};

/*
 * Creates a runtime. Returns 0 and *out, or -EINVAL (a config value, named in err), -ENOMEM.
 * Startup only.
 */
AE_MUST_CHECK int slice_runtime_create(const struct slice_runtime_config *cfg,
				       struct slice_runtime **out, struct slice_error *err);

/*
 * Tears every instance down (deactivate, unload) waiting at most drain_timeout_ns in total for
 * hooks, then frees the runtime (takes rt; NULL allowed). An instance whose hook thread is still
 * inside slice code then is logged and abandoned (its thread detached, its object mapped), never
 * freed under a running thread.
 */
void slice_runtime_destroy(struct slice_runtime *rt, uint64_t drain_timeout_ns);

/*
 * Starts loading coord: fetches and verifies it, places it, and posts the load to its hook
 * thread. Returns 0 with *id set (the instance is LOADING; poll until LOADED or FAILED), or
 * fails with nothing left behind: the repository's refusals (slices/repo.h), -ENOBUFS (no free
 * instance slot, or the plan's workers are full), -EAGAIN (no thread could be started).
 */
AE_MUST_CHECK int slice_runtime_load(struct slice_runtime *rt, const struct slice_coord *coord,
				     uint32_t *id, struct slice_error *err);

/*
 * Lifecycle requests for instance id. Each returns 0 when the request was taken (the operation
 * then runs, and slice_runtime_poll finishes it), or: -ENOENT no such instance; the lifecycle's
 * -EINVAL (not legal in this state) / -EALREADY; -EBUSY the hook thread is still busy.
 *   activate:   LOADED -> ACTIVATING (start hook) -> ACTIVE
 *   deactivate: ACTIVE -> DEACTIVATING (drain calls, stop hook) -> LOADED
 *   unload:     LOADED or FAILED -> UNLOADING (stop if needed, dlclose, maps check) -> gone
 */
AE_MUST_CHECK int slice_runtime_activate(struct slice_runtime *rt, uint32_t id,
					 struct slice_error *err);
AE_MUST_CHECK int slice_runtime_deactivate(struct slice_runtime *rt, uint32_t id,
					   struct slice_error *err);
AE_MUST_CHECK int slice_runtime_unload(struct slice_runtime *rt, uint32_t id,
				       struct slice_error *err);

/*
 * Does the pending work: collects hook results and moves lifecycles on, applies timeouts,
 * dispatches queued calls and delivers completions (bounded work per poll, so a ping-pong of
 * calls cannot hold the thread). Returns the number of events handled (0 when idle).
 */
uint32_t slice_runtime_poll(struct slice_runtime *rt);

/*
 * Polls until instance id reaches state `want` (or FAILED, or disappears) or timeout_ns passes,
 * yielding the CPU between polls. Returns 0 when it reached `want` (for want == UNLOAD: when the
 * instance is gone), -ENOENT when it disappeared, the instance's -EIO when it is FAILED (reason
 * in err), -ETIMEDOUT. For tools, tests and benchmarks; never on an lcore.
 */
AE_MUST_CHECK int slice_runtime_wait(struct slice_runtime *rt, uint32_t id, enum slice_state want,
				     uint64_t timeout_ns, struct slice_error *err);

/* Fills *out for instance id. Returns 0 or -ENOENT. */
AE_MUST_CHECK int slice_runtime_info(const struct slice_runtime *rt, uint32_t id,
				     struct slice_instance_info *out);

/*
 * Completion of an outside call: status 0 and the response (lent until return), or a negative
 * errno as for slice_done_fn in aether/slice.h.
 */
typedef void slice_runtime_done_fn(void *ctx, int status, const uint8_t *response,
				   size_t response_size);

/*
 * Calls `method` (NULL: the only method of a lean slice) of instance id, or (target != NULL,
 * then id is ignored) of the instance that host->call would pick for target
 * ("group:artifact[:pattern]"). request is borrowed (copied). request_id 0 asks the runtime to
 * number the call. Returns 0 when queued: done then runs exactly once from a later
 * slice_runtime_poll. Otherwise (done never runs): -EINVAL bad target or method text,
 * -EMSGSIZE request too large, -EAGAIN call table full.
 */
AE_MUST_CHECK int slice_runtime_call(struct slice_runtime *rt, uint32_t id, const char *target,
				     const char *method, const uint8_t *request,
				     size_t request_size, uint64_t request_id, void *ctx,
				     slice_runtime_done_fn *done);

/* Writes one line per instance (id, coordinate, state, placement, arena, calls) to out. */
void slice_runtime_dump(const struct slice_runtime *rt, FILE *out);

#endif /* AETHER_SLICES_RUNTIME_H */
