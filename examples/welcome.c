/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A slice that depends on another: `welcome` asks the greeter slice (any 1.x) for a greeting
 * through host->call and answers its own caller from the completion, so the handler returns at
 * once and never blocks. The pending call's handle travels in an arena-allocated context.
 *
 * The dependency is declared in the descriptor, so aether-pack writes it into the manifest and
 * the resolver loads a matching greeter before this slice.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aether/slice.h"

/* Calls this instance may have waiting for the greeter at once. */
#define WELCOME_PENDING_MAX 64

struct welcome_pending {
	int is_used;
	struct slice_call call; /* our caller's call, answered in the completion */
};

struct welcome_state {
	struct welcome_pending pending[WELCOME_PENDING_MAX];
};

static int
welcome_start(const struct slice_host *host, struct slice_instance *self, void **state)
{
	struct welcome_state *s = host->alloc(self, sizeof(*s), _Alignof(struct welcome_state));

	if (s == NULL) {
		return -ENOMEM;
	}
	memset(s, 0, sizeof(*s));
	*state = s;
	return 0;
}

/* The greeter answered (or the host reports why not): answer our own caller now. */
static void
welcome_greeted(const struct slice_host *host, struct slice_instance *self, void *state, void *ctx,
		int status, const uint8_t *response, size_t response_size)
{
	struct welcome_pending *p = ctx;
	char text[512];
	int n;

	(void)state;
	p->is_used = 0;
	if (status != 0) {
		(void)host->respond(self, p->call, status, NULL, 0);
		return;
	}
	n = snprintf(text, sizeof(text), "welcome! %.*s", (int)response_size,
		     (const char *)response);
	(void)host->respond(self, p->call, 0, (const uint8_t *)text, (size_t)n);
}

static void
welcome(const struct slice_host *host, struct slice_instance *self, void *state,
	struct slice_call call, const uint8_t *request, size_t request_size)
{
	struct welcome_state *s = state;
	struct welcome_pending *p = NULL;
	int rc;

	for (int i = 0; i < WELCOME_PENDING_MAX && p == NULL; i++) {
		p = s->pending[i].is_used ? NULL : &s->pending[i];
	}
	if (p == NULL) {
		(void)host->respond(self, call, -EAGAIN, NULL, 0);
		return;
	}
	/* The request is copied by call; our own call stays open until the completion. */
	rc = host->call(self, "org.aether.examples:greeter:^1.0.0", "greet", request, request_size,
			p, welcome_greeted);
	if (rc < 0) {
		(void)host->respond(self, call, rc, NULL, 0);
		return;
	}
	p->is_used = 1;
	p->call = call;
}

static const struct slice_method welcome_methods[] = {
	{.name = "welcome", .handler = welcome},
};

static const struct slice_dependency welcome_dependencies[] = {
	{.name = "org.aether.examples:greeter", .pattern = "^1.0.0"},
};

static const struct slice_def welcome_def = {
	SLICE_DEF_HEADER,
	.group = "org.aether.examples",
	.artifact = "welcome",
	.version = "1.0.0",
	.methods = welcome_methods,
	.method_count = 1,
	.dependencies = welcome_dependencies,
	.dependency_count = 1,
	.arena_size = sizeof(struct welcome_state) + 64,
	.start = welcome_start,
};

SLICE_EXPORT const struct slice_def *
aether_slice_def(void)
{
	return &welcome_def;
}
