/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slice runtime (slices/runtime.h): instance table, loading, hook jobs and the lifecycle
 * driver. Calls and the host table are in runtime_call.c.
 *
 * The driver keeps one rule: the lifecycle machine decides, the runtime only reports what
 * happened (a job finished, a clock tick) and reacts to state changes in one place
 * (rt_after_lc), so timeouts and failures from any source take the same path.
 */
#include "slices/runtime.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/panic.h"
#include "runtime_int.h"
#include "slices/maps.h"

#define RT_MESSAGE_MAX    (1u << 20)
#define RT_GENERATION_MAX 0xffffffu
#define RT_WAIT_NAP_NS    50000L

static uint64_t
rt_clock_monotonic(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	ASSERT(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

uint64_t
rt_now(const struct slice_runtime *rt)
{
	return rt->clock(rt->clock_ctx);
}

static uint32_t
rt_id(const struct slice_instance *inst)
{
	return inst->generation << 8 | inst->slot;
}

struct slice_instance *
rt_instance_by_id(const struct slice_runtime *rt, uint32_t id)
{
	uint32_t slot = id & 0xffu;
	struct slice_instance *inst;

	if (slot >= rt->instances_max) {
		return NULL;
	}
	inst = &rt->instances[slot];
	return inst->is_used && inst->generation == id >> 8 ? inst : NULL;
}

/* Inputs the driver makes are legal by construction; only a deadline may overtake them. */
static void
rt_lc(int rc)
{
	ASSERT(rc == 0 || rc == -ETIMEDOUT);
}

static int
rt_config_check(const struct slice_runtime_config *cfg, struct slice_error *err)
{
	const struct slice_lifecycle_config *lc = &cfg->lifecycle;

	if (cfg->repo == NULL || cfg->plan == NULL) {
		return slice_error_set(err, -EINVAL,
				       "runtime: repository and numa plan are required");
	}
	if (cfg->instances_max > SLICE_RUNTIME_INSTANCES_MAX ||
	    cfg->calls_max > SLICE_RUNTIME_CALLS_MAX || cfg->message_size_max > RT_MESSAGE_MAX) {
		return slice_error_set(err, -EINVAL,
				       "runtime: instances, calls or message size above the limit");
	}
	if ((lc->load_timeout_ns | lc->activate_timeout_ns | lc->deactivate_timeout_ns |
	     lc->unload_timeout_ns | lc->hook_timeout_ns) != 0 &&
	    (lc->load_timeout_ns == 0 || lc->activate_timeout_ns == 0 ||
	     lc->deactivate_timeout_ns == 0 || lc->unload_timeout_ns == 0 ||
	     lc->hook_timeout_ns == 0)) {
		return slice_error_set(err, -EINVAL, "runtime: a lifecycle timeout is 0");
	}
	return 0;
}

static void
rt_config_apply(struct slice_runtime *rt, const struct slice_runtime_config *cfg)
{
	const struct slice_lifecycle_config zero = {0};

	rt->repo = cfg->repo;
	rt->loader = cfg->loader != NULL ? cfg->loader : &slice_loader_dl;
	rt->plan = cfg->plan;
	rt->hwloc = cfg->hwloc;
	rt->lifecycle = cfg->lifecycle;
	if (memcmp(&cfg->lifecycle, &zero, sizeof(zero)) == 0) {
		slice_lifecycle_config_default(&rt->lifecycle);
	}
	rt->instances_max =
		cfg->instances_max != 0 ? cfg->instances_max : SLICE_RUNTIME_INSTANCES_DEFAULT;
	rt->calls_max = cfg->calls_max != 0 ? cfg->calls_max : SLICE_RUNTIME_CALLS_DEFAULT;
	rt->message_size_max =
		cfg->message_size_max != 0 ? cfg->message_size_max : SLICE_RUNTIME_MESSAGE_DEFAULT;
	rt->arena_size_max =
		cfg->arena_size_max != 0 ? cfg->arena_size_max : SLICE_RUNTIME_ARENA_DEFAULT;
	rt->call_timeout_ns = cfg->call_timeout_ns != 0 ? cfg->call_timeout_ns
							: SLICE_RUNTIME_CALL_TIMEOUT_DEFAULT;
	rt->clock = cfg->clock != NULL ? cfg->clock : rt_clock_monotonic;
	rt->clock_ctx = cfg->clock_ctx;
	rt->log = cfg->log;
}

int
slice_runtime_create(const struct slice_runtime_config *cfg, struct slice_runtime **out,
		     struct slice_error *err)
{
	struct slice_runtime *rt;
	int rc;

	ASSERT(cfg != NULL);
	ASSERT(out != NULL);
	*out = NULL;
	rc = rt_config_check(cfg, err);
	if (rc < 0) {
		return rc;
	}
	rt = base_alloc(sizeof(*rt));
	if (rt == NULL) {
		return slice_error_set(err, -ENOMEM, "runtime: out of memory");
	}
	rt_config_apply(rt, cfg);
	rt->instances = base_alloc_array(rt->instances_max, sizeof(rt->instances[0]));
	if (rt->instances == NULL || rt_calls_init(rt) < 0) {
		rt_calls_fini(rt);
		base_free(rt->instances);
		base_free(rt);
		return slice_error_set(err, -ENOMEM, "runtime: out of memory");
	}
	for (uint32_t i = 0; i < rt->instances_max; i++) {
		rt->instances[i].rt = rt;
		rt->instances[i].slot = i;
		rt->instances[i].memfd = -1;
	}
	*out = rt;
	return 0;
}

/* Page-rounded arena on the instance's NUMA node (or plain memory, reported). */
static int
rt_arena_alloc(struct slice_runtime *rt, struct slice_instance *inst, struct slice_error *err)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = (size_t)inst->desc.arena_size;
	void *memory = NULL;
	bool is_bound = false;
	int rc = 0;

	if (size == 0) {
		base_arena_init(&inst->arena, NULL, 0);
		return 0;
	}
	size = (size + page - 1) / page * page;
	if (rt->hwloc != NULL) {
		rc = numa_hwloc_mem_alloc(rt->hwloc, size, inst->placement.node_os_index, &memory,
					  &is_bound);
	} else {
		memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			      0);
		rc = memory == MAP_FAILED ? -errno : 0;
	}
	if (rc < 0) {
		return slice_error_set(err, rc, "arena of %zu bytes: %s", size, base_strerror(rc));
	}
	if (!is_bound) {
		base_logf(&rt->log, BASE_LOG_WARN,
			  "slice=%s id=%u: arena of %zu bytes in plain memory, not bound to NUMA "
			  "node %u (%s)",
			  inst->coord_text, rt_id(inst), size, inst->placement.node_os_index,
			  rt->hwloc == NULL ? "no hwloc adapter" : "binding not available");
	}
	inst->arena_memory = memory;
	inst->arena_size = size;
	inst->is_arena_bound = is_bound;
	base_arena_init(&inst->arena, memory, size);
	return 0;
}

static void
rt_arena_free(struct slice_runtime *rt, struct slice_instance *inst)
{
	if (inst->arena_memory == NULL) {
		return;
	}
	if (rt->hwloc != NULL) {
		numa_hwloc_mem_free(rt->hwloc, inst->arena_memory, inst->arena_size);
	} else {
		(void)munmap(inst->arena_memory, inst->arena_size);
	}
	inst->arena_memory = NULL;
	inst->arena_size = 0;
}

/* The descriptor must say what the manifest says: the manifest was written from it. */
static int
rt_check_manifest(const struct slice_descriptor *d, const struct slice_manifest *m,
		  struct slice_error *err)
{
	if (!slice_coord_equal(&d->coord, &m->coord)) {
		return slice_error_set(err, -EBADMSG, "descriptor names another coordinate");
	}
	if (d->method_count != m->entry_count || d->dependency_count != m->dep_count) {
		return slice_error_set(
			err, -EBADMSG,
			"descriptor has %u methods and %u dependencies, the manifest "
			"%u and %u",
			d->method_count, d->dependency_count, m->entry_count, m->dep_count);
	}
	for (uint32_t i = 0; i < d->method_count; i++) {
		const struct slice_manifest_entry *e = slice_manifest_find_entry(
			m, d->method_names[i], strlen(d->method_names[i]));

		if (e == NULL || e->is_idempotent != d->method_is_idempotent[i]) {
			return slice_error_set(err, -EBADMSG, "method %s differs from the manifest",
					       d->method_names[i]);
		}
	}
	for (uint32_t i = 0; i < d->dependency_count; i++) {
		uint32_t j = 0;

		while (j < m->dep_count &&
		       (!slice_name_equal(&m->deps[j].name, &d->dependency_names[i]) ||
			memcmp(&m->deps[j].pattern, &d->dependency_patterns[i],
			       sizeof(m->deps[j].pattern)) != 0)) {
			j++;
		}
		if (j == m->dep_count) {
			return slice_error_set(err, -EBADMSG,
					       "dependency %u differs from the manifest", i);
		}
	}
	return 0;
}

/* Hook thread: map the object, check its descriptor; a refused object is unmapped at once. */
static int
rt_job_load(void *arg)
{
	struct slice_instance *inst = arg;
	const struct slice_loader_ops *ld = inst->rt->loader;
	const struct slice_def *def = NULL;
	struct slice_error close_err;
	int rc;

	rc = ld->open(ld->ctx, inst->memfd, inst->memfd_name, &inst->handle, &inst->job_err);
	if (rc < 0) {
		return rc;
	}
	rc = ld->descriptor(ld->ctx, inst->handle, &def, &inst->job_err);
	if (rc == 0) {
		rc = slice_descriptor_check(def, inst->rt->arena_size_max, &inst->desc,
					    &inst->job_err);
	}
	if (rc == 0) {
		rc = rt_check_manifest(&inst->desc, &inst->manifest, &inst->job_err);
	}
	if (rc == 0) {
		inst->def = def;
		inst->is_loaded = true;
		return 0;
	}
	if (ld->close(ld->ctx, inst->handle, inst->memfd_name, &close_err) < 0) {
		inst->is_quarantined = true;
		(void)slice_error_set(&inst->job_err, rc, "%.150s; and unloading it failed: %.150s",
				      inst->job_err.text, close_err.text);
	}
	inst->handle = NULL;
	return rc;
}

static int
rt_job_start(void *arg)
{
	struct slice_instance *inst = arg;

	inst->job_state = NULL;
	return inst->def->start(&rt_host, inst, &inst->job_state);
}

static int
rt_job_stop(void *arg)
{
	struct slice_instance *inst = arg;

	return inst->def->stop(&rt_host, inst, inst->state);
}

/* Hook thread: unmap the object and prove it is gone; or re-check a quarantined one. */
static int
rt_job_unload(void *arg)
{
	struct slice_instance *inst = arg;
	const struct slice_loader_ops *ld = inst->rt->loader;
	bool is_mapped = false;
	int rc;

	if (inst->is_loaded) {
		inst->is_loaded = false;
		rc = ld->close(ld->ctx, inst->handle, inst->memfd_name, &inst->job_err);
		inst->handle = NULL;
		inst->def = NULL;
		return rc;
	}
	if (!inst->is_quarantined) {
		return 0;
	}
	rc = slice_maps_has_memfd(inst->memfd_name, &is_mapped, &inst->job_err);
	if (rc == 0 && is_mapped) {
		rc = slice_error_set(&inst->job_err, -EBUSY, "%s: still mapped", inst->memfd_name);
	}
	return rc;
}

static void
rt_post(struct slice_instance *inst, enum rt_job job)
{
	static hook_job_fn *const jobs[] = {
		[RT_JOB_LOAD] = rt_job_load,
		[RT_JOB_START] = rt_job_start,
		[RT_JOB_STOP] = rt_job_stop,
		[RT_JOB_UNLOAD] = rt_job_unload,
	};

	ASSERT(inst->job == RT_JOB_NONE);
	ASSERT(job > RT_JOB_NONE && job <= RT_JOB_UNLOAD);
	slice_error_clear(&inst->job_err);
	/* job NONE means the last result was taken, so the runner is idle. */
	ASSERT(hook_runner_post(&inst->runner, jobs[job], inst) == 0);
	inst->job = job;
}

/* Posts a start or stop hook and tells the lifecycle it runs. */
static void
rt_post_hook(struct slice_instance *inst, enum rt_job job, uint64_t now_ns)
{
	int rc = slice_lifecycle_on_hook_begin(&inst->lc, now_ns);

	rt_lc(rc);
	if (rc == 0) {
		inst->is_hook_in_lc = true;
		rt_post(inst, job);
	}
}

static void
rt_instance_release(struct slice_runtime *rt, struct slice_instance *inst)
{
	ASSERT(inst->job == RT_JOB_NONE);
	ASSERT(!inst->is_loaded);
	ASSERT(inst->calls_in == 0 && inst->calls_out == 0);
	ASSERT(hook_runner_stop(&inst->runner) == 0);
	rt_arena_free(rt, inst);
	if (inst->is_placed) {
		numa_plan_release_instance(rt->plan, inst->placement.worker_index);
		inst->is_placed = false;
	}
	if (inst->is_quarantined) {
		/* Closing would let the fd number, and thus the loader's path, name another object.
		 */
		base_logf(&rt->log, BASE_LOG_ERROR,
			  "slice=%s: memfd %s (fd %d) kept open: still mapped", inst->coord_text,
			  inst->memfd_name, inst->memfd);
	} else if (inst->memfd >= 0) {
		(void)close(inst->memfd);
	}
	inst->memfd = -1;
	inst->is_used = false;
}

/* Reacts to a state change of inst's lifecycle: the one place that follows transitions. */
static void
rt_after_lc(struct slice_runtime *rt, struct slice_instance *inst)
{
	enum slice_state state = slice_lifecycle_state(&inst->lc);

	if (inst->lc.transition_count == inst->seen_transitions) {
		return;
	}
	inst->seen_transitions = inst->lc.transition_count;
	if (inst->lc.is_unloaded) {
		base_logf(&rt->log, BASE_LOG_INFO, "slice=%s id=%u state=UNLOADED",
			  inst->coord_text, rt_id(inst));
		rt_instance_release(rt, inst);
		return;
	}
	inst->is_routable = state == SLICE_STATE_ACTIVE;
	if (state == SLICE_STATE_FAILED) {
		base_logf(&rt->log, BASE_LOG_ERROR, "slice=%s id=%u state=FAILED reason=%s",
			  inst->coord_text, rt_id(inst), slice_lifecycle_reason(&inst->lc));
		inst->is_hook_in_lc = false;
		rt_calls_abandon_instance(rt, inst);
		return;
	}
	base_logf(&rt->log, BASE_LOG_INFO, "slice=%s id=%u state=%s", inst->coord_text, rt_id(inst),
		  slice_state_name(state));
}

static int
rt_find_free_slot(const struct slice_runtime *rt, struct slice_instance **out)
{
	for (uint32_t i = 0; i < rt->instances_max; i++) {
		if (!rt->instances[i].is_used) {
			*out = &rt->instances[i];
			return 0;
		}
	}
	return -ENOBUFS;
}

/* Resets a free slot for a new instance of the fetched artifact (takes art->fd). */
static void
rt_instance_prepare(struct slice_runtime *rt, struct slice_instance *inst,
		    const struct slice_artifact *art)
{
	uint32_t slot = inst->slot;
	uint32_t generation = inst->generation % RT_GENERATION_MAX + 1;

	memset(inst, 0, sizeof(*inst));
	inst->rt = rt;
	inst->slot = slot;
	inst->generation = generation;
	inst->memfd = art->fd;
	memcpy(inst->memfd_name, art->memfd_name, sizeof(inst->memfd_name));
	inst->manifest = art->manifest;
	inst->coord = art->manifest.coord;
	if (slice_coord_format(&inst->coord, inst->coord_text, sizeof(inst->coord_text)) < 0) {
		PANIC("a parsed coordinate always formats");
	}
}

static int
rt_load_start(struct slice_runtime *rt, struct slice_instance *inst, struct slice_error *err)
{
	uint64_t now_ns = rt_now(rt);
	char name[16];
	int rc;

	rc = numa_plan_place_instance(rt->plan, &inst->placement);
	if (rc < 0) {
		return slice_error_set(err, rc, "%s: every worker lcore is full", inst->coord_text);
	}
	inst->is_placed = true;
	(void)snprintf(name, sizeof(name), "ae-hook-%u", rt_id(inst));
	rc = hook_runner_start(&inst->runner, name);
	if (rc < 0) {
		return slice_error_set(err, -EAGAIN, "%s: hook thread: %s", inst->coord_text,
				       strerror(-rc));
	}
	rc = slice_lifecycle_init(&inst->lc, &rt->lifecycle, now_ns);
	ASSERT(rc == 0);
	rc = slice_lifecycle_on_request(&inst->lc, SLICE_STATE_LOADING, now_ns);
	ASSERT(rc == 0);
	inst->is_used = true;
	rt_post(inst, RT_JOB_LOAD);
	return 0;
}

int
slice_runtime_load(struct slice_runtime *rt, const struct slice_coord *coord, uint32_t *id,
		   struct slice_error *err)
{
	struct slice_instance *inst = NULL;
	struct slice_artifact art;
	int rc;

	ASSERT(rt != NULL);
	ASSERT(coord != NULL);
	ASSERT(id != NULL);
	if (rt_find_free_slot(rt, &inst) < 0) {
		return slice_error_set(err, -ENOBUFS, "runtime: all %u instance slots in use",
				       rt->instances_max);
	}
	rc = slice_repo_fetch(rt->repo, coord, &art, err);
	if (rc < 0) {
		return rc;
	}
	rt_instance_prepare(rt, inst, &art);
	rc = rt_load_start(rt, inst, err);
	if (rc < 0) {
		/* Nothing ran yet: undo the placement and the fetch; the slot stays free. */
		if (inst->is_placed) {
			numa_plan_release_instance(rt->plan, inst->placement.worker_index);
			inst->is_placed = false;
		}
		(void)close(inst->memfd);
		inst->memfd = -1;
		return rc;
	}
	inst->seen_transitions = inst->lc.transition_count;
	base_logf(&rt->log, BASE_LOG_INFO,
		  "slice=%s id=%u state=LOADING worker=%u node=%u memfd=%s", inst->coord_text,
		  rt_id(inst), inst->placement.worker_index, inst->placement.node_os_index,
		  inst->memfd_name);
	*id = rt_id(inst);
	return 0;
}

/* Tells the lifecycle a hook it was told about has returned; true when it succeeded. */
static bool
rt_hook_done(struct slice_instance *inst, int rc, uint64_t now_ns)
{
	char reason[64];
	int lrc;

	if (!inst->is_hook_in_lc) {
		/* The lifecycle gave up on this hook (timeout); its result changes nothing now. */
		return false;
	}
	inst->is_hook_in_lc = false;
	(void)snprintf(reason, sizeof(reason), "returned %d (%s)", rc, base_strerror(rc));
	lrc = slice_lifecycle_on_hook_done(&inst->lc, now_ns, rc > 0 ? -EINVAL : rc, reason);
	rt_lc(lrc);
	return lrc == 0 && rc == 0;
}

static void
rt_on_load_done(struct slice_runtime *rt, struct slice_instance *inst, int rc, uint64_t now_ns)
{
	struct slice_error err;

	if (slice_lifecycle_state(&inst->lc) != SLICE_STATE_LOADING) {
		/* Timed out meanwhile: is_loaded tells a later unload what to close. */
		return;
	}
	if (rc < 0) {
		rt_lc(slice_lifecycle_on_fail(&inst->lc, now_ns, inst->job_err.text));
		return;
	}
	if (rt_arena_alloc(rt, inst, &err) < 0) {
		rt_lc(slice_lifecycle_on_fail(&inst->lc, now_ns, err.text));
		return;
	}
	rt_lc(slice_lifecycle_on_done(&inst->lc, now_ns));
}

static void
rt_on_unload_done(struct slice_instance *inst, int rc, uint64_t now_ns)
{
	bool is_unloading = slice_lifecycle_state(&inst->lc) == SLICE_STATE_UNLOADING;

	inst->is_quarantined = rc < 0;
	if (is_unloading && rc < 0) {
		rt_lc(slice_lifecycle_on_fail(&inst->lc, now_ns, inst->job_err.text));
	} else if (is_unloading) {
		rt_lc(slice_lifecycle_on_done(&inst->lc, now_ns));
	}
}

static void
rt_job_finished(struct slice_runtime *rt, struct slice_instance *inst, enum rt_job job, int rc,
		uint64_t now_ns)
{
	enum slice_state state = slice_lifecycle_state(&inst->lc);

	switch (job) {
	case RT_JOB_LOAD:
		rt_on_load_done(rt, inst, rc, now_ns);
		break;
	case RT_JOB_START:
		if (rc == 0) {
			inst->is_started = true;
			inst->state = inst->job_state;
		}
		if (rt_hook_done(inst, rc, now_ns) && state == SLICE_STATE_ACTIVATING) {
			rt_lc(slice_lifecycle_on_done(&inst->lc, now_ns));
		}
		break;
	case RT_JOB_STOP:
		inst->is_started = false;
		if (rt_hook_done(inst, rc, now_ns) && state == SLICE_STATE_DEACTIVATING) {
			rt_lc(slice_lifecycle_on_done(&inst->lc, now_ns));
		}
		break;
	case RT_JOB_UNLOAD:
		rt_on_unload_done(inst, rc, now_ns);
		break;
	case RT_JOB_NONE:
		PANIC("no job finished");
	}
}

/* Moves operations on that wait for nothing but the runtime itself; returns events. */
static uint32_t
rt_advance(struct slice_instance *inst, uint64_t now_ns)
{
	enum slice_state state = slice_lifecycle_state(&inst->lc);
	bool has_stop;

	/* While a job runs, the hook thread owns def: look at it only once the job is taken. */
	if (inst->job != RT_JOB_NONE || inst->lc.is_hook_running) {
		return 0;
	}
	has_stop = inst->is_started && inst->def != NULL && inst->def->stop != NULL;
	if (state == SLICE_STATE_DEACTIVATING) {
		if (inst->calls_in > 0 || inst->calls_out > 0) {
			return 0;
		}
		if (has_stop) {
			rt_post_hook(inst, RT_JOB_STOP, now_ns);
		} else {
			inst->is_started = false;
			rt_lc(slice_lifecycle_on_done(&inst->lc, now_ns));
		}
		return 1;
	}
	if (state == SLICE_STATE_UNLOADING) {
		if (has_stop) {
			rt_post_hook(inst, RT_JOB_STOP, now_ns);
		} else {
			rt_post(inst, RT_JOB_UNLOAD);
		}
		return 1;
	}
	return 0;
}

static uint32_t
rt_poll_instance(struct slice_runtime *rt, struct slice_instance *inst, uint64_t now_ns)
{
	uint32_t n = 0;
	int rc;

	if (inst->job != RT_JOB_NONE && hook_runner_take(&inst->runner, &rc)) {
		enum rt_job job = inst->job;

		inst->job = RT_JOB_NONE;
		rt_job_finished(rt, inst, job, rc, now_ns);
		rt_after_lc(rt, inst);
		n++;
	}
	if (!inst->is_used) {
		return n;
	}
	if (slice_lifecycle_on_tick(&inst->lc, now_ns) != 0) {
		rt_after_lc(rt, inst);
		n++;
	}
	n += rt_advance(inst, now_ns);
	rt_after_lc(rt, inst);
	return n;
}

uint32_t
slice_runtime_poll(struct slice_runtime *rt)
{
	uint64_t now_ns = rt_now(rt);
	uint32_t n = 0;

	ASSERT(rt != NULL);
	for (uint32_t i = 0; i < rt->instances_max; i++) {
		if (rt->instances[i].is_used) {
			n += rt_poll_instance(rt, &rt->instances[i], now_ns);
		}
	}
	return n + rt_calls_poll(rt, now_ns);
}

/* Applies one lifecycle request for id; the code and a clear line on refusal. *out is set on
 * success only. The refusals return their code directly rather than slice_error_set's result:
 * the callers read *out whenever the result is not negative, and only a literal negative return
 * lets the compiler (and a reader) see that *out is set on every such path. */
static int
rt_request(struct slice_runtime *rt, uint32_t id, enum slice_state command,
	   enum slice_state operation, struct slice_instance **out, struct slice_error *err)
{
	struct slice_instance *inst = rt_instance_by_id(rt, id);
	uint64_t now_ns = rt_now(rt);
	int rc;

	if (inst == NULL) {
		(void)slice_error_set(err, -ENOENT, "no slice instance %u", id);
		return -ENOENT;
	}
	rc = slice_lifecycle_on_request(&inst->lc, command, now_ns);
	if (rc == 0) {
		rc = slice_lifecycle_on_request(&inst->lc, operation, now_ns);
		ASSERT(rc == 0);
	}
	rt_after_lc(rt, inst);
	if (rc < 0) {
		(void)slice_error_set(err, rc, "slice=%s id=%u: cannot %s in state %s (%s)",
				      inst->coord_text, id, slice_state_name(command),
				      slice_state_name(slice_lifecycle_state(&inst->lc)),
				      base_strerror(rc));
		return rc;
	}
	*out = inst;
	return 0;
}

int
slice_runtime_activate(struct slice_runtime *rt, uint32_t id, struct slice_error *err)
{
	struct slice_instance *inst;
	uint64_t now_ns;
	int rc;

	ASSERT(rt != NULL);
	inst = rt_instance_by_id(rt, id);
	if (inst != NULL && inst->job != RT_JOB_NONE) {
		return slice_error_set(err, -EBUSY, "slice=%s id=%u: hook thread busy",
				       inst->coord_text, id);
	}
	rc = rt_request(rt, id, SLICE_STATE_ACTIVATE, SLICE_STATE_ACTIVATING, &inst, err);
	if (rc < 0) {
		return rc;
	}
	now_ns = rt_now(rt);
	if (inst->def->start != NULL) {
		rt_post_hook(inst, RT_JOB_START, now_ns);
	} else {
		inst->is_started = true;
		rt_lc(slice_lifecycle_on_done(&inst->lc, now_ns));
	}
	rt_after_lc(rt, inst);
	return 0;
}

int
slice_runtime_deactivate(struct slice_runtime *rt, uint32_t id, struct slice_error *err)
{
	struct slice_instance *inst;
	int rc;

	ASSERT(rt != NULL);
	rc = rt_request(rt, id, SLICE_STATE_DEACTIVATE, SLICE_STATE_DEACTIVATING, &inst, err);
	if (rc < 0) {
		return rc;
	}
	/* Stop routing first, then let the slice see its own pending calls end. */
	inst->is_routable = false;
	rt_calls_cancel_caller(rt, inst);
	return 0;
}

int
slice_runtime_unload(struct slice_runtime *rt, uint32_t id, struct slice_error *err)
{
	struct slice_instance *inst;

	ASSERT(rt != NULL);
	return rt_request(rt, id, SLICE_STATE_UNLOAD, SLICE_STATE_UNLOADING, &inst, err);
}

static void
rt_nap(void)
{
	struct timespec ts = {0, RT_WAIT_NAP_NS};

	(void)nanosleep(&ts, NULL);
}

int
slice_runtime_wait(struct slice_runtime *rt, uint32_t id, enum slice_state want,
		   uint64_t timeout_ns, struct slice_error *err)
{
	uint64_t deadline_ns = rt_now(rt) + timeout_ns;

	ASSERT(rt != NULL);
	for (;;) {
		uint32_t n = slice_runtime_poll(rt);
		struct slice_instance *inst = rt_instance_by_id(rt, id);
		enum slice_state state;

		if (inst == NULL) {
			return want == SLICE_STATE_UNLOAD
				       ? 0
				       : slice_error_set(err, -ENOENT, "instance %u is gone", id);
		}
		state = slice_lifecycle_state(&inst->lc);
		if (state == want && (want != SLICE_STATE_FAILED || !inst->is_hook_in_lc)) {
			return 0;
		}
		if (state == SLICE_STATE_FAILED) {
			return slice_error_set(err, -EIO, "slice=%s id=%u FAILED: %s",
					       inst->coord_text, id,
					       slice_lifecycle_reason(&inst->lc));
		}
		if (rt_now(rt) >= deadline_ns) {
			return slice_error_set(err, -ETIMEDOUT, "slice=%s id=%u still %s",
					       inst->coord_text, id, slice_state_name(state));
		}
		if (n == 0) {
			rt_nap();
		}
	}
}

int
slice_runtime_info(const struct slice_runtime *rt, uint32_t id, struct slice_instance_info *out)
{
	struct slice_instance *inst;

	ASSERT(rt != NULL);
	ASSERT(out != NULL);
	inst = rt_instance_by_id(rt, id);
	if (inst == NULL) {
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->coord = inst->coord;
	out->state = slice_lifecycle_state(&inst->lc);
	(void)snprintf(out->reason, sizeof(out->reason), "%s", slice_lifecycle_reason(&inst->lc));
	out->placement = inst->placement;
	out->is_arena_bound = inst->is_arena_bound;
	out->arena_size = inst->arena_size;
	out->is_hook_running = hook_runner_is_busy(&inst->runner);
	/* A running hook may be allocating; the arena is read only when no hook runs. */
	out->arena_used = out->is_hook_running ? 0 : base_arena_used(&inst->arena);
	memcpy(out->memfd_name, inst->memfd_name, sizeof(out->memfd_name));
	out->counter_count =
		inst->job == RT_JOB_NONE || inst->job == RT_JOB_START || inst->job == RT_JOB_STOP
			? inst->desc.counter_count
			: 0;
	for (uint32_t i = 0; i < out->counter_count; i++) {
		out->counters[i] = atomic_load_explicit(&inst->counters[i], memory_order_relaxed);
	}
	out->calls_open = inst->calls_in + inst->calls_out;
	return 0;
}

void
slice_runtime_dump(const struct slice_runtime *rt, FILE *out)
{
	ASSERT(rt != NULL);
	ASSERT(out != NULL);
	for (uint32_t i = 0; i < rt->instances_max; i++) {
		const struct slice_instance *inst = &rt->instances[i];

		if (!inst->is_used) {
			continue;
		}
		fprintf(out,
			"slice id=%u coord=%s state=%s worker=%u node=%u arena=%zu bound=%d "
			"calls_in=%u calls_out=%u job=%d memfd=%s%s%s\n",
			rt_id(inst), inst->coord_text,
			slice_state_name(slice_lifecycle_state(&inst->lc)),
			inst->placement.worker_index, inst->placement.node_os_index,
			inst->arena_size, inst->is_arena_bound, inst->calls_in, inst->calls_out,
			(int)inst->job, inst->memfd_name,
			inst->lc.reason[0] != '\0' ? " reason=" : "", inst->lc.reason);
	}
}

/* Waits until inst is in a state a request can act on (or gone); false on the deadline. */
static bool
rt_wait_settled(struct slice_runtime *rt, uint32_t id, uint64_t deadline_ns)
{
	for (;;) {
		struct slice_instance *inst;
		uint32_t n = slice_runtime_poll(rt);
		enum slice_state state;

		inst = rt_instance_by_id(rt, id);
		if (inst == NULL) {
			return true;
		}
		state = slice_lifecycle_state(&inst->lc);
		if (!slice_state_is_operation(state) && inst->job == RT_JOB_NONE) {
			return true;
		}
		if (rt_now(rt) >= deadline_ns) {
			return false;
		}
		if (n == 0) {
			rt_nap();
		}
	}
}

/* destroy: deactivate and unload one instance within the deadline; false if it is stuck. */
static bool
rt_teardown(struct slice_runtime *rt, struct slice_instance *inst, uint64_t deadline_ns)
{
	uint32_t id = rt_id(inst);

	for (int round = 0; round < 4; round++) {
		struct slice_error err;
		enum slice_state state;
		int rc = 0;

		if (!rt_wait_settled(rt, id, deadline_ns) || rt_instance_by_id(rt, id) == NULL) {
			break;
		}
		state = slice_lifecycle_state(&inst->lc);
		if (state == SLICE_STATE_ACTIVE) {
			rc = slice_runtime_deactivate(rt, id, &err);
		} else if (state == SLICE_STATE_LOADED || state == SLICE_STATE_FAILED) {
			rc = slice_runtime_unload(rt, id, &err);
		}
		if (rc < 0) {
			base_logf(&rt->log, BASE_LOG_WARN, "%s", err.text);
		}
	}
	return rt_instance_by_id(rt, id) == NULL;
}

/* destroy: an instance that would not go. Its thread, if busy, keeps the tables alive. */
static void
rt_abandon(struct slice_runtime *rt, struct slice_instance *inst)
{
	base_logf(&rt->log, BASE_LOG_ERROR, "slice=%s id=%u abandoned in state %s%s",
		  inst->coord_text, rt_id(inst), slice_state_name(slice_lifecycle_state(&inst->lc)),
		  hook_runner_is_busy(&inst->runner) ? " with a hook still running" : "");
	rt_calls_abandon_instance(rt, inst);
	if (inst->job != RT_JOB_NONE) {
		hook_runner_abandon(&inst->runner);
		rt->is_abandoned = true;
		return;
	}
	/* The thread is idle: the object may stay mapped, but nothing else is left behind. */
	inst->is_quarantined = inst->is_quarantined || inst->is_loaded;
	inst->is_loaded = false;
	rt_instance_release(rt, inst);
}

void
slice_runtime_destroy(struct slice_runtime *rt, uint64_t drain_timeout_ns)
{
	uint64_t deadline_ns;

	if (rt == NULL) {
		return;
	}
	deadline_ns = rt_now(rt) + drain_timeout_ns;
	for (uint32_t i = 0; i < rt->instances_max; i++) {
		struct slice_instance *inst = &rt->instances[i];

		if (inst->is_used && !rt_teardown(rt, inst, deadline_ns)) {
			rt_abandon(rt, inst);
		}
	}
	if (rt->is_abandoned) {
		/* A hook thread still points into these tables: leaking them is the safe choice. */
		return;
	}
	rt_calls_fini(rt);
	base_free(rt->instances);
	base_free(rt);
}
