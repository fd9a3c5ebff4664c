/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The host services table (aether/slice.h) and call routing of the slice runtime
 * (slices/runtime.h). Calls live in a fixed table; two FIFOs of indexes (dispatch, completion)
 * carry them; slice_runtime_poll drains both, so a completion never runs inside the call that
 * asked for it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "runtime_int.h"
#include "slices/manifest.h"

/* How often unanswered calls are checked against their deadline. */
#define RT_TIMEOUT_SCAN_NS (UINT64_C(1000000))

static void
rt_fifo_push(struct rt_fifo *f, uint32_t capacity, uint32_t index)
{
	/* Every call sits in a FIFO at most once, so it can never overflow. */
	ASSERT(f->count < capacity);
	f->items[(f->head + f->count) % capacity] = index;
	f->count++;
}

static uint32_t
rt_fifo_pop(struct rt_fifo *f, uint32_t capacity)
{
	uint32_t index;

	ASSERT(f->count > 0);
	index = f->items[f->head];
	f->head = (f->head + 1) % capacity;
	f->count--;
	return index;
}

int
rt_calls_init(struct slice_runtime *rt)
{
	rt->calls = base_alloc_array(rt->calls_max, sizeof(rt->calls[0]));
	rt->buffers = base_alloc_array(rt->calls_max, rt->message_size_max);
	rt->free_calls = base_alloc_array(rt->calls_max, sizeof(uint32_t));
	rt->dispatch.items = base_alloc_array(rt->calls_max, sizeof(uint32_t));
	rt->completions.items = base_alloc_array(rt->calls_max, sizeof(uint32_t));
	if (rt->calls == NULL || rt->buffers == NULL || rt->free_calls == NULL ||
	    rt->dispatch.items == NULL || rt->completions.items == NULL) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rt->calls_max; i++) {
		rt->calls[i].buffer = rt->buffers + (size_t)i * rt->message_size_max;
		/* Handed out from the end, so call 0 goes first (easier to read in a debugger). */
		rt->free_calls[i] = rt->calls_max - 1 - i;
	}
	rt->free_count = rt->calls_max;
	rt->next_request_id = 1;
	rt->current = RT_NONE;
	return 0;
}

void
rt_calls_fini(struct slice_runtime *rt)
{
	base_free(rt->calls);
	base_free(rt->buffers);
	base_free(rt->free_calls);
	base_free(rt->dispatch.items);
	base_free(rt->completions.items);
}

static struct rt_call *
rt_call_take(struct slice_runtime *rt)
{
	struct rt_call *c;
	uint8_t *buffer;
	uint32_t generation;

	if (rt->free_count == 0) {
		return NULL;
	}
	c = &rt->calls[rt->free_calls[--rt->free_count]];
	ASSERT(!c->is_used);
	buffer = c->buffer;
	generation = c->generation + 1;
	memset(c, 0, sizeof(*c));
	c->buffer = buffer;
	c->generation = generation;
	c->is_used = true;
	c->is_caller_open = true;
	c->callee = RT_NONE;
	c->caller = RT_NONE;
	return c;
}

/* Frees the slot once neither side needs it any more. */
static void
rt_call_release_if_done(struct slice_runtime *rt, struct rt_call *c)
{
	if (c->callee_phase != RT_CALLEE_CLOSED || c->is_caller_open || c->is_caller_queued) {
		return;
	}
	c->is_used = false;
	ASSERT(rt->free_count < rt->calls_max);
	rt->free_calls[rt->free_count++] = (uint32_t)(c - rt->calls);
}

/* Gives the caller its completion (queued; delivered by the poll) unless it has one already. */
static void
rt_call_finish(struct slice_runtime *rt, struct rt_call *c, int status)
{
	if (!c->is_caller_open || c->is_caller_queued) {
		return;
	}
	c->status = status;
	if (status != 0) {
		c->size = 0;
	}
	c->is_caller_queued = true;
	rt_fifo_push(&rt->completions, rt->calls_max, (uint32_t)(c - rt->calls));
}

static struct slice_instance *
rt_call_side(struct slice_runtime *rt, uint32_t slot, uint32_t generation)
{
	struct slice_instance *inst;

	if (slot == RT_NONE) {
		return NULL;
	}
	inst = &rt->instances[slot];
	return inst->is_used && inst->generation == generation ? inst : NULL;
}

/* The caller side is over: its completion was delivered or dropped. */
static void
rt_call_close_caller(struct slice_runtime *rt, struct rt_call *c)
{
	struct slice_instance *caller = rt_call_side(rt, c->caller, c->caller_generation);

	ASSERT(c->is_caller_open);
	c->is_caller_open = false;
	if (caller != NULL) {
		ASSERT(caller->calls_out > 0);
		caller->calls_out--;
	}
}

static void
rt_call_close_callee(struct slice_runtime *rt, struct rt_call *c)
{
	struct slice_instance *callee = rt_call_side(rt, c->callee, c->callee_generation);

	if (c->callee_phase == RT_CALLEE_RUNNING && callee != NULL) {
		ASSERT(callee->calls_in > 0);
		callee->calls_in--;
	}
	c->callee_phase = RT_CALLEE_CLOSED;
}

/* Highest routable version matching the call's target; round robin among equal versions. */
static struct slice_instance *
rt_route_target(struct slice_runtime *rt, const struct rt_call *c)
{
	struct slice_instance *best = NULL;
	uint32_t ties = 0;
	uint32_t pick;

	for (uint32_t i = 0; i < rt->instances_max; i++) {
		struct slice_instance *inst = &rt->instances[i];
		int cmp;

		if (!inst->is_used || !inst->is_routable ||
		    !slice_name_equal(&inst->coord.name, &c->target_name) ||
		    (c->has_pattern &&
		     !slice_version_pattern_matches(&c->target_pattern, &inst->coord.version))) {
			continue;
		}
		cmp = best == NULL
			      ? 1
			      : slice_version_compare(&inst->coord.version, &best->coord.version);
		if (cmp > 0) {
			best = inst;
			ties = 0;
		}
		ties += cmp >= 0 ? 1u : 0u;
	}
	if (best == NULL || ties == 1) {
		return best;
	}
	pick = rt->round_robin++ % ties;
	for (uint32_t i = 0; i < rt->instances_max; i++) {
		struct slice_instance *inst = &rt->instances[i];

		if (inst->is_used && inst->is_routable &&
		    slice_name_equal(&inst->coord.name, &c->target_name) &&
		    slice_version_compare(&inst->coord.version, &best->coord.version) == 0 &&
		    pick-- == 0) {
			return inst;
		}
	}
	return best;
}

static void
rt_dispatch_one(struct slice_runtime *rt, struct rt_call *c)
{
	struct slice_instance *callee;
	uint32_t method;
	struct slice_call handle;

	if (!c->is_caller_open || c->is_caller_queued) {
		/* Timed out or cancelled before it was dispatched: the handler never sees it. */
		c->callee_phase = RT_CALLEE_CLOSED;
		rt_call_release_if_done(rt, c);
		return;
	}
	callee = c->has_target ? rt_route_target(rt, c)
			       : rt_call_side(rt, c->callee, c->callee_generation);
	if (callee == NULL || !callee->is_routable) {
		c->callee_phase = RT_CALLEE_CLOSED;
		rt_call_finish(rt, c, -ENOENT);
		return;
	}
	if (slice_descriptor_method(&callee->desc, c->is_method_default ? NULL : c->method,
				    &method) < 0) {
		c->callee_phase = RT_CALLEE_CLOSED;
		rt_call_finish(rt, c, -ENOSYS);
		return;
	}
	c->callee = callee->slot;
	c->callee_generation = callee->generation;
	c->callee_phase = RT_CALLEE_RUNNING;
	callee->calls_in++;
	handle.token = (uint64_t)c->generation << 32 | (uint32_t)(c - rt->calls);
	rt->current = callee->slot;
	rt->current_request_id = c->request_id;
	callee->def->methods[method].handler(&rt_host, callee, callee->state, handle, c->buffer,
					     c->size);
	rt->current = RT_NONE;
	rt->current_request_id = 0;
}

static void
rt_deliver_one(struct slice_runtime *rt, struct rt_call *c)
{
	struct slice_instance *caller;
	const uint8_t *response = c->status == 0 ? c->buffer : NULL;

	ASSERT(c->is_caller_queued);
	c->is_caller_queued = false;
	if (!c->is_caller_open) {
		rt_call_release_if_done(rt, c);
		return;
	}
	caller = rt_call_side(rt, c->caller, c->caller_generation);
	rt_call_close_caller(rt, c);
	if (c->caller == RT_NONE) {
		c->outside_done(c->outside_ctx, c->status, response, c->size);
	} else if (caller != NULL) {
		rt->current = caller->slot;
		rt->current_request_id = c->request_id;
		c->done(&rt_host, caller, caller->state, c->done_ctx, c->status, response, c->size);
		rt->current = RT_NONE;
		rt->current_request_id = 0;
	}
	rt_call_release_if_done(rt, c);
}

static uint32_t
rt_calls_expire(struct slice_runtime *rt, uint64_t now_ns)
{
	uint32_t n = 0;

	if (now_ns < rt->next_timeout_scan_ns) {
		return 0;
	}
	rt->next_timeout_scan_ns = now_ns + RT_TIMEOUT_SCAN_NS;
	for (uint32_t i = 0; i < rt->calls_max; i++) {
		struct rt_call *c = &rt->calls[i];

		if (c->is_used && c->is_caller_open && !c->is_caller_queued &&
		    now_ns >= c->deadline_ns) {
			rt_call_finish(rt, c, -ETIMEDOUT);
			n++;
		}
	}
	return n;
}

uint32_t
rt_calls_poll(struct slice_runtime *rt, uint64_t now_ns)
{
	/* Bounded, so calls that keep making calls cannot hold the control thread forever. */
	uint32_t budget = 2 * rt->calls_max;
	uint32_t n = rt_calls_expire(rt, now_ns);

	while (budget > 0 && (rt->dispatch.count > 0 || rt->completions.count > 0)) {
		uint32_t batch = rt->dispatch.count;

		for (; batch > 0 && budget > 0; batch--, budget--, n++) {
			rt_dispatch_one(rt, &rt->calls[rt_fifo_pop(&rt->dispatch, rt->calls_max)]);
		}
		batch = rt->completions.count;
		for (; batch > 0 && budget > 0; batch--, budget--, n++) {
			rt_deliver_one(rt,
				       &rt->calls[rt_fifo_pop(&rt->completions, rt->calls_max)]);
		}
	}
	return n;
}

void
rt_calls_cancel_caller(struct slice_runtime *rt, struct slice_instance *inst)
{
	for (uint32_t i = 0; i < rt->calls_max; i++) {
		struct rt_call *c = &rt->calls[i];

		if (c->is_used && c->caller == inst->slot &&
		    c->caller_generation == inst->generation) {
			rt_call_finish(rt, c, -ECANCELED);
		}
	}
}

void
rt_calls_abandon_instance(struct slice_runtime *rt, struct slice_instance *inst)
{
	for (uint32_t i = 0; i < rt->calls_max; i++) {
		struct rt_call *c = &rt->calls[i];

		if (!c->is_used) {
			continue;
		}
		if (c->callee == inst->slot && c->callee_generation == inst->generation &&
		    c->callee_phase == RT_CALLEE_RUNNING) {
			rt_call_close_callee(rt, c);
			rt_call_finish(rt, c, -ECANCELED);
		}
		if (c->caller == inst->slot && c->caller_generation == inst->generation &&
		    c->is_caller_open) {
			/* No more code of inst runs: its completion is dropped, not delivered. */
			rt_call_close_caller(rt, c);
		}
		rt_call_release_if_done(rt, c);
	}
	ASSERT(inst->calls_in == 0);
	ASSERT(inst->calls_out == 0);
}

/* Splits "group:artifact[:pattern]" (NUL-terminated, bounded) into the call's target. */
static int
rt_parse_target(struct rt_call *c, const char *target)
{
	size_t size = strnlen(target, SLICE_NAME_TEXT_MAX + 1 + SLICE_PATTERN_TEXT_MAX + 1);
	const char *first = memchr(target, ':', size);
	const char *second =
		first != NULL ? memchr(first + 1, ':', size - (size_t)(first + 1 - target)) : NULL;
	size_t name_size = second != NULL ? (size_t)(second - target) : size;

	if (size > SLICE_NAME_TEXT_MAX + 1 + SLICE_PATTERN_TEXT_MAX) {
		return -EINVAL;
	}
	if (slice_name_parse(target, name_size, &c->target_name, NULL) < 0) {
		return -EINVAL;
	}
	c->has_target = true;
	if (second == NULL) {
		return 0;
	}
	c->has_pattern = true;
	return slice_version_pattern_parse(second + 1, size - name_size - 1, &c->target_pattern,
					   NULL) < 0
		       ? -EINVAL
		       : 0;
}

/* Fills a fresh call from the arguments both call paths share; -EINVAL on bad text. */
static int
rt_call_fill(struct slice_runtime *rt, struct rt_call *c, const char *target, const char *method,
	     const uint8_t *request, size_t request_size)
{
	if (target != NULL && rt_parse_target(c, target) < 0) {
		return -EINVAL;
	}
	if (method == NULL) {
		c->is_method_default = true;
	} else {
		size_t n = strnlen(method, SLICE_METHOD_NAME_MAX + 1);

		if (n > SLICE_METHOD_NAME_MAX || slice_method_check(method, n, NULL) < 0) {
			return -EINVAL;
		}
		memcpy(c->method, method, n);
	}
	if (request_size > 0) {
		memcpy(c->buffer, request, request_size);
	}
	c->size = (uint32_t)request_size;
	c->deadline_ns = rt_now(rt) + rt->call_timeout_ns;
	return 0;
}

static void
rt_call_abort(struct slice_runtime *rt, struct rt_call *c)
{
	c->is_caller_open = false;
	c->callee_phase = RT_CALLEE_CLOSED;
	rt_call_release_if_done(rt, c);
}

int
slice_runtime_call(struct slice_runtime *rt, uint32_t id, const char *target, const char *method,
		   const uint8_t *request, size_t request_size, uint64_t request_id, void *ctx,
		   slice_runtime_done_fn *done)
{
	struct slice_instance *inst;
	struct rt_call *c;

	ASSERT(rt != NULL);
	ASSERT(done != NULL);
	ASSERT(request != NULL || request_size == 0);
	if (request_size > rt->message_size_max) {
		return -EMSGSIZE;
	}
	c = rt_call_take(rt);
	if (c == NULL) {
		return -EAGAIN;
	}
	if (rt_call_fill(rt, c, target, method, request, request_size) < 0) {
		rt_call_abort(rt, c);
		return -EINVAL;
	}
	inst = target == NULL ? rt_instance_by_id(rt, id) : NULL;
	if (inst != NULL) {
		c->callee = inst->slot;
		c->callee_generation = inst->generation;
	}
	c->request_id = request_id != 0 ? request_id : rt->next_request_id++;
	c->outside_done = done;
	c->outside_ctx = ctx;
	rt_fifo_push(&rt->dispatch, rt->calls_max, (uint32_t)(c - rt->calls));
	return 0;
}

static void
rt_host_log(struct slice_instance *self, uint32_t level, const char *text, size_t text_size)
{
	enum base_log_level lv =
		level > SLICE_LOG_DEBUG ? BASE_LOG_DEBUG : (enum base_log_level)level;
	int size = (int)base_min_size(text_size, BASE_LOG_LINE_MAX);

	base_logf(&self->rt->log, lv, "slice=%s id=%u: %.*s", self->coord_text,
		  self->generation << 8 | self->slot, size, text);
}

static void *
rt_host_alloc(struct slice_instance *self, size_t size, size_t align)
{
	if (!base_is_pow2(align) || align > 4096) {
		return NULL;
	}
	return base_arena_alloc(&self->arena, size, align);
}

static uint64_t
rt_host_now_ns(struct slice_instance *self)
{
	return rt_now(self->rt);
}

static uint64_t
rt_host_request_id(struct slice_instance *self)
{
	struct slice_runtime *rt = self->rt;

	if (hook_runner_on_hook_thread() || rt->current != self->slot) {
		return 0;
	}
	return rt->current_request_id;
}

static void
rt_host_counter_add(struct slice_instance *self, uint32_t counter_index, uint64_t delta)
{
	_Atomic uint64_t *c;

	if (counter_index >= self->desc.counter_count) {
		return;
	}
	c = &self->counters[counter_index];
	/* One writer at a time: a plain add published with relaxed atomics, no locked op. */
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + delta,
			      memory_order_relaxed);
}

static int
rt_host_call(struct slice_instance *self, const char *target, const char *method,
	     const uint8_t *request, size_t request_size, void *ctx, slice_done_fn *done)
{
	struct slice_runtime *rt = self->rt;
	struct rt_call *c;

	if (hook_runner_on_hook_thread()) {
		return -EPERM;
	}
	if (!self->is_routable) {
		return -ESHUTDOWN;
	}
	if (target == NULL || done == NULL || (request == NULL && request_size > 0)) {
		return -EINVAL;
	}
	if (request_size > rt->message_size_max) {
		return -EMSGSIZE;
	}
	c = rt_call_take(rt);
	if (c == NULL) {
		return -EAGAIN;
	}
	if (rt_call_fill(rt, c, target, method, request, request_size) < 0) {
		rt_call_abort(rt, c);
		return -EINVAL;
	}
	c->caller = self->slot;
	c->caller_generation = self->generation;
	c->request_id = rt->current == self->slot ? rt->current_request_id : 0;
	c->done = done;
	c->done_ctx = ctx;
	self->calls_out++;
	rt_fifo_push(&rt->dispatch, rt->calls_max, (uint32_t)(c - rt->calls));
	return 0;
}

static int
rt_host_respond(struct slice_instance *self, struct slice_call call, int status,
		const uint8_t *response, size_t response_size)
{
	struct slice_runtime *rt = self->rt;
	uint32_t index = (uint32_t)call.token;
	struct rt_call *c;
	bool is_delivered;

	if (hook_runner_on_hook_thread()) {
		return -EPERM;
	}
	if (index >= rt->calls_max) {
		return -ESTALE;
	}
	c = &rt->calls[index];
	if (!c->is_used || c->generation != (uint32_t)(call.token >> 32) ||
	    c->callee_phase != RT_CALLEE_RUNNING || c->callee != self->slot ||
	    c->callee_generation != self->generation) {
		return -ESTALE;
	}
	if (status > 0 || (status == 0 && response == NULL && response_size > 0)) {
		return -EINVAL;
	}
	if (status == 0 && response_size > rt->message_size_max) {
		return -EMSGSIZE;
	}
	is_delivered = c->is_caller_open && !c->is_caller_queued;
	if (is_delivered && status == 0) {
		/* The response may be the request itself, which lives in the same buffer. */
		if (response_size > 0) {
			memmove(c->buffer, response, response_size);
		}
		c->size = (uint32_t)response_size;
	}
	rt_call_close_callee(rt, c);
	rt_call_finish(rt, c, status);
	rt_call_release_if_done(rt, c);
	return is_delivered ? 0 : -ESTALE;
}

const struct slice_host rt_host = {
	.size = sizeof(struct slice_host),
	.abi_version = SLICE_ABI_VERSION,
	.log = rt_host_log,
	.alloc = rt_host_alloc,
	.now_ns = rt_host_now_ns,
	.request_id = rt_host_request_id,
	.counter_add = rt_host_counter_add,
	.call = rt_host_call,
	.respond = rt_host_respond,
};
