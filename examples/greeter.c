/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A lean slice: one method, no state, no hooks. `greet` answers "hello, <request>" and says
 * which version answered, how many calls this loaded copy has served, and the request id, so
 * tests can tell two loaded versions apart and follow a request across slices.
 *
 * Built twice by examples/meson.build (GREETER_VERSION 1.0.0 and 1.1.0) to show two versions of
 * one slice loaded side by side.
 */
#include <stdio.h>

#include "aether/slice.h"

#ifndef GREETER_VERSION
#define GREETER_VERSION "1.0.0"
#endif

/* Per loaded object: two versions (two objects) count separately. */
static uint64_t greet_count;

static void
greet(const struct slice_host *host, struct slice_instance *self, void *state,
      struct slice_call call, const uint8_t *request, size_t request_size)
{
	char text[256];
	int n;

	(void)state;
	greet_count++;
	n = snprintf(text, sizeof(text), "hello, %.*s (greeter %s, call %llu, request %llu)",
		     (int)(request_size > 64 ? 64 : request_size), (const char *)request,
		     GREETER_VERSION, (unsigned long long)greet_count,
		     (unsigned long long)host->request_id(self));
	/* A handler answers exactly once; respond copies the bytes before it returns. */
	(void)host->respond(self, call, 0, (const uint8_t *)text, (size_t)n);
}

static const struct slice_method greeter_methods[] = {
	{.name = "greet", .handler = greet, .is_idempotent = 1},
};

static const struct slice_def greeter_def = {
	SLICE_DEF_HEADER,           .group = "org.aether.examples", .artifact = "greeter",
	.version = GREETER_VERSION, .methods = greeter_methods,     .method_count = 1,
};

SLICE_EXPORT const struct slice_def *
aether_slice_def(void)
{
	return &greeter_def;
}
