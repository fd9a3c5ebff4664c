/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slices whose hooks misbehave, one build per HOOKS_MODE:
 *   fail     start returns -EIO
 *   hang     start does not return until the host clock has moved an hour past its start (a
 *            test moves its clock to release it; with a real clock it hangs for an hour); it
 *            counts "entered" once it has read the clock, so a test knows when to move it
 *   silent   start and stop are fine; the method `ignore` never answers
 */
#include <errno.h>
#include <time.h>

#include "aether/slice.h"

#define HOOKS_HANG_NS (UINT64_C(3600) * 1000000000u)

#if defined(HOOKS_FAIL)
#define HOOKS_ARTIFACT "start-fails"
#elif defined(HOOKS_HANG)
#define HOOKS_ARTIFACT "start-hangs"
#else
#define HOOKS_ARTIFACT "silent"
#endif

static int
hooks_start(const struct slice_host *host, struct slice_instance *self, void **state)
{
#if defined(HOOKS_FAIL)
	(void)host;
	(void)self;
	(void)state;
	return -EIO;
#elif defined(HOOKS_HANG)
	uint64_t until = host->now_ns(self) + HOOKS_HANG_NS;
	struct timespec nap = {0, 1000000};

	(void)state;
	host->counter_add(self, 0, 1);
	while (host->now_ns(self) < until) {
		(void)nanosleep(&nap, NULL);
	}
	return 0;
#else
	(void)host;
	(void)self;
	(void)state;
	return 0;
#endif
}

static void
ignore(const struct slice_host *host, struct slice_instance *self, void *state,
       struct slice_call call, const uint8_t *request, size_t request_size)
{
	/* Never answers: the host must time the caller out and not wait for ever to stop. */
	(void)host;
	(void)self;
	(void)state;
	(void)call;
	(void)request;
	(void)request_size;
}

static const struct slice_method methods[] = {{.name = "ignore", .handler = ignore}};
static const char *const counters[] = {"entered"};

static const struct slice_def def = {
	SLICE_DEF_HEADER,          .group = "org.aether.bad", .artifact = HOOKS_ARTIFACT,
	.version = "1.0.0",        .methods = methods,        .method_count = 1,
	.counter_names = counters, .counter_count = 1,        .start = hooks_start,
};

SLICE_EXPORT const struct slice_def *
aether_slice_def(void)
{
	return &def;
}
