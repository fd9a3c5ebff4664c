/* SPDX-License-Identifier: Apache-2.0 */
/* A slice built for another ABI: the host must refuse it before using anything else in it. */
#include "aether/slice.h"

static void
never(const struct slice_host *host, struct slice_instance *self, void *state,
      struct slice_call call, const uint8_t *request, size_t request_size)
{
	(void)state;
	(void)request;
	(void)request_size;
	(void)host->respond(self, call, 0, NULL, 0);
}

static const struct slice_method methods[] = {{.name = "never", .handler = never}};

static const struct slice_def def = {
	.abi_version = 99,
	.def_size = sizeof(struct slice_def),
	.method_size = sizeof(struct slice_method),
	.dependency_size = sizeof(struct slice_dependency),
	.host_size = sizeof(struct slice_host),
	.group = "org.aether.bad",
	.artifact = "bad-abi",
	.version = "1.0.0",
	.methods = methods,
	.method_count = 1,
};

SLICE_EXPORT const struct slice_def *
aether_slice_def(void)
{
	return &def;
}
