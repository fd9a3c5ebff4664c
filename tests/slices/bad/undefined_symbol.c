/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A slice that needs a symbol nobody defines (as if it linked a host function): RTLD_NOW makes
 * that a load error instead of a crash at the first call.
 */
#include "aether/slice.h"

extern int aether_host_private_function(void);

static void
uses_host(const struct slice_host *host, struct slice_instance *self, void *state,
	  struct slice_call call, const uint8_t *request, size_t request_size)
{
	(void)state;
	(void)request;
	(void)request_size;
	(void)host->respond(self, call, aether_host_private_function(), NULL, 0);
}

static const struct slice_method methods[] = {{.name = "uses_host", .handler = uses_host}};

static const struct slice_def def = {
	SLICE_DEF_HEADER,   .group = "org.aether.bad", .artifact = "undefined-symbol",
	.version = "1.0.0", .methods = methods,        .method_count = 1,
};

SLICE_EXPORT const struct slice_def *
aether_slice_def(void)
{
	return &def;
}
