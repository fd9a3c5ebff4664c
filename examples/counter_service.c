/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A service slice: several methods over one piece of per-instance state.
 *   add    request: 8-byte little-endian delta; response: the new total (8 bytes LE)
 *   get    (idempotent) response: the total (8 bytes LE)
 *   reset  response: empty
 * The state lives in the instance arena (allocated in start, released by the host at unload),
 * and the slice counts its calls in host counters ("adds", "gets", "resets").
 */
#include <errno.h>
#include <string.h>

#include "aether/slice.h"

enum { COUNTER_ADDS = 0, COUNTER_GETS = 1, COUNTER_RESETS = 2 };

struct counter_state {
	uint64_t total;
};

static void
put_u64le(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint64_t
get_u64le(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v |= (uint64_t)in[i] << (8 * i);
	}
	return v;
}

static int
counter_start(const struct slice_host *host, struct slice_instance *self, void **state)
{
	struct counter_state *s = host->alloc(self, sizeof(*s), _Alignof(struct counter_state));
	static const char line[] = "counter-service started";

	if (s == NULL) {
		return -ENOMEM;
	}
	s->total = 0;
	*state = s;
	host->log(self, SLICE_LOG_INFO, line, sizeof(line) - 1);
	return 0;
}

static int
counter_stop(const struct slice_host *host, struct slice_instance *self, void *state)
{
	static const char line[] = "counter-service stopped";

	(void)state;
	host->log(self, SLICE_LOG_INFO, line, sizeof(line) - 1);
	return 0;
}

static void
counter_add(const struct slice_host *host, struct slice_instance *self, void *state,
	    struct slice_call call, const uint8_t *request, size_t request_size)
{
	struct counter_state *s = state;
	uint8_t out[8];

	if (request_size != 8) {
		(void)host->respond(self, call, -EINVAL, NULL, 0);
		return;
	}
	s->total += get_u64le(request);
	host->counter_add(self, COUNTER_ADDS, 1);
	put_u64le(out, s->total);
	(void)host->respond(self, call, 0, out, sizeof(out));
}

static void
counter_get(const struct slice_host *host, struct slice_instance *self, void *state,
	    struct slice_call call, const uint8_t *request, size_t request_size)
{
	struct counter_state *s = state;
	uint8_t out[8];

	(void)request;
	(void)request_size;
	host->counter_add(self, COUNTER_GETS, 1);
	put_u64le(out, s->total);
	(void)host->respond(self, call, 0, out, sizeof(out));
}

static void
counter_reset(const struct slice_host *host, struct slice_instance *self, void *state,
	      struct slice_call call, const uint8_t *request, size_t request_size)
{
	struct counter_state *s = state;

	(void)request;
	(void)request_size;
	s->total = 0;
	host->counter_add(self, COUNTER_RESETS, 1);
	(void)host->respond(self, call, 0, NULL, 0);
}

static const struct slice_method counter_methods[] = {
	{.name = "add", .handler = counter_add},
	{.name = "get", .handler = counter_get, .is_idempotent = 1},
	{.name = "reset", .handler = counter_reset, .is_idempotent = 1},
};

static const char *const counter_names[] = {"adds", "gets", "resets"};

static const struct slice_def counter_def = {
	SLICE_DEF_HEADER,
	.group = "org.aether.examples",
	.artifact = "counter-service",
	.version = "1.0.0",
	.methods = counter_methods,
	.method_count = 3,
	.counter_names = counter_names,
	.counter_count = 3,
	.arena_size = 64 * 1024,
	.start = counter_start,
	.stop = counter_stop,
};

SLICE_EXPORT const struct slice_def *
aether_slice_def(void)
{
	return &counter_def;
}
