/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the slice runtime: the instance and call tables shared by runtime.c (lifecycle,
 * loading, hook jobs) and runtime_call.c (the host services table and call routing).
 */
#ifndef AETHER_SLICES_RUNTIME_INT_H
#define AETHER_SLICES_RUNTIME_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "aether/slice.h"
#include "base/arena.h"
#include "hook_runner.h"
#include "slices/descriptor.h"
#include "slices/runtime.h"

#define RT_NONE UINT32_MAX

/* The job an instance's hook thread is doing. */
enum rt_job {
	RT_JOB_NONE = 0,
	RT_JOB_LOAD = 1,
	RT_JOB_START = 2,
	RT_JOB_STOP = 3,
	RT_JOB_UNLOAD = 4,
};

/*
 * One instance. Fields marked (job) are written by the hook thread while a job runs and read by
 * the control thread only after hook_runner_take returned the job, which orders the accesses.
 */
struct slice_instance {
	struct slice_runtime *rt;
	uint32_t slot;
	uint32_t generation; /* 24 bits; id = generation << 8 | slot */
	bool is_used;
	bool is_loaded;      /* the loader holds the object: close needed */
	bool is_started;     /* start succeeded and stop has not run */
	bool is_routable;    /* ACTIVE: takes calls */
	bool is_quarantined; /* an unload left the object mapped: its memfd stays open */
	bool is_hook_in_lc;  /* on_hook_begin was given to the lifecycle for the current job */
	bool is_arena_bound;
	enum rt_job job;
	uint64_t seen_transitions;
	struct slice_lifecycle lc;
	struct slice_coord coord;
	char coord_text[SLICE_COORD_TEXT_MAX + 1];
	struct slice_manifest manifest;
	int memfd;
	char memfd_name[SLICE_MEMFD_NAME_MAX + 1];
	struct numa_placement placement;
	bool is_placed;
	void *arena_memory;
	size_t arena_size;
	struct base_arena arena;
	_Atomic uint64_t counters[SLICE_COUNTERS_MAX]; /* one writer at a time; relaxed */
	uint32_t calls_in;                             /* calls dispatched to it and not answered */
	uint32_t calls_out; /* calls it made whose completion it has not had */
	/* (job) results of the load job and of hooks: */
	void *handle;
	const struct slice_def *def;
	struct slice_descriptor desc;
	void *state;
	void *job_state;
	struct slice_error job_err;
	struct hook_runner runner;
};

enum rt_callee_phase {
	RT_CALLEE_QUEUED = 0,  /* in the dispatch FIFO */
	RT_CALLEE_RUNNING = 1, /* a handler has it and must respond */
	RT_CALLEE_CLOSED = 2,  /* answered, or its instance went away */
};

struct rt_call {
	uint32_t generation; /* token = generation << 32 | index */
	bool is_used;
	bool is_caller_open;   /* the caller still expects a completion */
	bool is_caller_queued; /* the completion is in the completion FIFO */
	bool has_target;       /* routed by name and pattern, else by instance */
	bool has_pattern;
	bool is_method_default; /* NULL method: the only one of a lean slice */
	uint8_t callee_phase;
	uint32_t callee; /* instance slot (RT_NONE before dispatch for targets) */
	uint32_t callee_generation;
	uint32_t caller; /* instance slot, RT_NONE for an outside caller */
	uint32_t caller_generation;
	int status;
	uint32_t size; /* request bytes, then response bytes */
	uint64_t request_id;
	uint64_t deadline_ns;
	uint8_t *buffer; /* message_size_max bytes: the request, then the response */
	char method[SLICE_METHOD_NAME_MAX + 1];
	struct slice_name target_name;
	struct slice_version_pattern target_pattern;
	slice_done_fn *done;
	void *done_ctx;
	slice_runtime_done_fn *outside_done;
	void *outside_ctx;
};

/* A FIFO of call indexes; a call is in a FIFO at most once, so capacity calls_max suffices. */
struct rt_fifo {
	uint32_t *items;
	uint32_t head;
	uint32_t count;
};

struct slice_runtime {
	struct slice_repo *repo;
	const struct slice_loader_ops *loader;
	struct numa_plan *plan;
	struct numa_hwloc *hwloc;
	struct slice_lifecycle_config lifecycle;
	uint32_t instances_max;
	uint32_t calls_max;
	uint32_t message_size_max;
	uint64_t arena_size_max;
	uint64_t call_timeout_ns;
	slice_runtime_clock_fn *clock;
	void *clock_ctx;
	struct base_log log;
	bool is_abandoned; /* a hook thread was left running: the tables must never be freed */

	struct slice_instance *instances;

	struct rt_call *calls;
	uint8_t *buffers;
	uint32_t *free_calls;
	uint32_t free_count;
	struct rt_fifo dispatch;
	struct rt_fifo completions;
	uint64_t next_request_id;
	uint64_t next_timeout_scan_ns;
	uint32_t round_robin;
	/* The instance whose handler or completion is running, and its request id. */
	uint32_t current;
	uint64_t current_request_id;
};

extern const struct slice_host rt_host;

/* now from the runtime's clock. */
uint64_t rt_now(const struct slice_runtime *rt);

/* The instance for an id, or NULL (stale or unknown). */
struct slice_instance *rt_instance_by_id(const struct slice_runtime *rt, uint32_t id);

/* Call table setup (runtime_call.c); create/destroy own the memory. */
int rt_calls_init(struct slice_runtime *rt);
void rt_calls_fini(struct slice_runtime *rt);

/* Completes every call inst made with -ECANCELED (deactivation: inst still runs code). */
void rt_calls_cancel_caller(struct slice_runtime *rt, struct slice_instance *inst);

/* Forgets inst on both sides of every call (it failed or is unloading; no more code of it). */
void rt_calls_abandon_instance(struct slice_runtime *rt, struct slice_instance *inst);

/* Dispatches calls, delivers completions and applies call timeouts; returns events handled. */
uint32_t rt_calls_poll(struct slice_runtime *rt, uint64_t now_ns);

#endif /* AETHER_SLICES_RUNTIME_INT_H */
