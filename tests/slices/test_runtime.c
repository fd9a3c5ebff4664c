/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the runtime loads the example slices from a repository into their own sealed copies,
 * checks each before calling it, places it on a worker and a NUMA node, calls it (a lean slice,
 * a service slice with arena state and counters, a slice that calls another and answers from
 * the completion), keeps two versions of one slice apart, unloads cleanly (the mapping leaves
 * /proc/self/maps, the placement is released), and turns every bad slice into a refusal or a
 * FAILED instance with a reason: wrong ABI, no descriptor, an unresolved symbol, a descriptor
 * that disagrees with its manifest, start failing, start hanging (the caller is never blocked),
 * and calls nobody answers.
 * Method: the real loader, the example repository built by meson, bad slices built by meson and
 * put into a temporary repository with test-written manifests, the real hwloc topology, and a
 * clock that is the monotonic clock plus an offset the test can jump, so timeouts fire without
 * waiting and a hanging hook can be released. Suite slices-int: it loads .so files and runs
 * hook threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/err.h"
#include "slice_test_util.h"
#include "slices/maps.h"
#include "slices/runtime.h"

#define SECOND_NS       UINT64_C(1000000000)
#define WAIT_NS         (5 * SECOND_NS)
#define GREETER_1_0     "org.aether.examples:greeter:1.0.0"
#define GREETER_1_1     "org.aether.examples:greeter:1.1.0"
#define COUNTER_SERVICE "org.aether.examples:counter-service:1.0.0"
#define WELCOME         "org.aether.examples:welcome:1.0.0"
#define GREETER_SO      SLICES_EXAMPLE_REPO "/org/aether/examples/greeter/1.0.0/greeter-1.0.0.so"

struct fixture {
	char bad_root[TREPO_PATH_MAX];
	struct numa_hwloc *hw;
	struct numa_topology topo;
	struct numa_cpuset allowed;
	struct numa_plan plan;
	struct slice_repo *repo;
	struct slice_runtime *rt;
	struct slice_runtime_config cfg;
	struct slice_error err;
	_Atomic uint64_t clock_offset_ns;
	int fds_before;
	/* The last completion of call_sync. */
	bool is_done;
	int status;
	char response[512];
	size_t response_size;
};

static uint64_t
test_clock(void *ctx)
{
	struct fixture *f = ctx;
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * SECOND_NS + (uint64_t)ts.tv_nsec +
	       atomic_load(&f->clock_offset_ns);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct numa_plan_config pc = {
		.worker_count = 2, .process_count = 1, .allow_oversubscribe = true};
	struct slice_repo_config rc = {.root_count = 2};

	assert_non_null(f);
	f->fds_before = trepo_count_fds();
	trepo_make(f->bad_root, "runtime");
	assert_int_equal(numa_hwloc_create(&f->hw, NULL, NULL), 0);
	assert_int_equal(numa_hwloc_load(f->hw, &f->topo, NULL), 0);
	assert_int_equal(numa_hwloc_allowed(f->hw, &f->allowed), 0);
	assert_int_equal(numa_plan_init(&f->plan, &f->topo, &f->allowed, &pc, NULL), 0);
	/* The temporary root first, so a test can shadow an example with a broken copy. */
	rc.roots[0] = f->bad_root;
	rc.roots[1] = SLICES_EXAMPLE_REPO;
	assert_int_equal(slice_repo_create(&rc, &f->repo, &f->err), 0);
	f->cfg.repo = f->repo;
	f->cfg.plan = &f->plan;
	f->cfg.hwloc = f->hw;
	slice_lifecycle_config_default(&f->cfg.lifecycle);
	f->cfg.lifecycle.hook_timeout_ns = SECOND_NS;
	/* The hanging hook is released by moving the clock an hour: unloading must outlast it. */
	f->cfg.lifecycle.unload_timeout_ns = 24 * 3600 * SECOND_NS;
	f->cfg.clock = test_clock;
	f->cfg.clock_ctx = f;
	f->cfg.call_timeout_ns = SECOND_NS;
	base_log_init(&f->cfg.log, base_log_file_sink, stderr, BASE_LOG_WARN);
	assert_int_equal(slice_runtime_create(&f->cfg, &f->rt, &f->err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	slice_runtime_destroy(f->rt, WAIT_NS);
	/* Every instance was released: the plan carries no instance any more. */
	for (uint32_t i = 0; i < f->plan.worker_count; i++) {
		assert_int_equal(f->plan.instance_counts[i], 0);
	}
	slice_repo_destroy(f->repo);
	numa_hwloc_destroy(f->hw);
	trepo_remove(f->bad_root);
	/* Every instance's memfd was closed at unload (none was quarantined). */
	assert_int_equal(trepo_count_fds(), f->fds_before);
	free(f);
	return 0;
}

static struct slice_coord
coord_of(const char *text)
{
	struct slice_coord c;

	assert_int_equal(slice_coord_parse(text, strlen(text), &c, NULL), 0);
	return c;
}

static void
wait_state(struct fixture *f, uint32_t id, enum slice_state want)
{
	int rc = slice_runtime_wait(f->rt, id, want, WAIT_NS, &f->err);

	if (rc != 0) {
		/* The whole table helps more than one line when a wait fails. */
		slice_runtime_dump(f->rt, stderr);
		fail_msg("waiting for %s: %d %s", slice_state_name(want), rc, f->err.text);
	}
}

static uint32_t
load(struct fixture *f, const char *coord_text)
{
	struct slice_coord c = coord_of(coord_text);
	uint32_t id = 0;
	int rc = slice_runtime_load(f->rt, &c, &id, &f->err);

	if (rc != 0) {
		fail_msg("load %s: %d %s", coord_text, rc, f->err.text);
	}
	return id;
}

static uint32_t
load_active(struct fixture *f, const char *coord_text)
{
	uint32_t id = load(f, coord_text);

	wait_state(f, id, SLICE_STATE_LOADED);
	assert_int_equal(slice_runtime_activate(f->rt, id, &f->err), 0);
	wait_state(f, id, SLICE_STATE_ACTIVE);
	return id;
}

/* Fails with the instance's state and reason (it must be FAILED with `words` in the reason). */
static void
assert_failed_with(struct fixture *f, uint32_t id, const char *words)
{
	struct slice_instance_info info;

	assert_int_equal(slice_runtime_wait(f->rt, id, SLICE_STATE_FAILED, WAIT_NS, &f->err), 0);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	if (strstr(info.reason, words) == NULL) {
		fail_msg("reason \"%s\" lacks \"%s\"", info.reason, words);
	}
}

static void
unload_gone(struct fixture *f, uint32_t id)
{
	struct slice_instance_info info;
	bool is_mapped = true;

	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	if (info.state == SLICE_STATE_ACTIVE) {
		assert_int_equal(slice_runtime_deactivate(f->rt, id, &f->err), 0);
		wait_state(f, id, SLICE_STATE_LOADED);
	}
	assert_int_equal(slice_runtime_unload(f->rt, id, &f->err), 0);
	wait_state(f, id, SLICE_STATE_UNLOAD);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), -ENOENT);
	assert_int_equal(slice_maps_has_memfd(info.memfd_name, &is_mapped, NULL), 0);
	assert_false(is_mapped);
}

static void
on_done(void *ctx, int status, const uint8_t *response, size_t response_size)
{
	struct fixture *f = ctx;

	assert_false(f->is_done);
	f->is_done = true;
	f->status = status;
	f->response_size = response_size;
	assert_true(response_size < sizeof(f->response));
	if (response_size > 0) {
		memcpy(f->response, response, response_size);
	}
	f->response[response_size] = '\0';
}

/* Calls and polls until the completion arrives; returns its status. */
static int
call_sync(struct fixture *f, uint32_t id, const char *target, const char *method,
	  const void *request, size_t request_size, uint64_t request_id)
{
	uint64_t deadline = test_clock(f) + WAIT_NS;

	f->is_done = false;
	assert_int_equal(slice_runtime_call(f->rt, id, target, method, request, request_size,
					    request_id, f, on_done),
			 0);
	while (!f->is_done) {
		(void)slice_runtime_poll(f->rt);
		assert_true(test_clock(f) < deadline);
	}
	return f->status;
}

static void
test_runtime_calls_a_lean_slice(void **state)
{
	struct fixture *f = *state;
	uint32_t id = load_active(f, GREETER_1_0);
	struct slice_instance_info info;
	bool is_mapped = false;

	assert_int_equal(call_sync(f, id, NULL, "greet", "world", 5, 7), 0);
	assert_string_equal(f->response, "hello, world (greeter 1.0.0, call 1, request 7)");
	/* A lean slice's one method answers to NULL too. */
	assert_int_equal(call_sync(f, id, NULL, NULL, "ana", 3, 8), 0);
	assert_string_equal(f->response, "hello, ana (greeter 1.0.0, call 2, request 8)");
	assert_int_equal(call_sync(f, id, NULL, "nope", NULL, 0, 0), -ENOSYS);
	assert_int_equal(call_sync(f, id + 256, NULL, "greet", NULL, 0, 0), -ENOENT);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_int_equal(info.state, SLICE_STATE_ACTIVE);
	assert_true(info.placement.worker_index < f->plan.worker_count);
	assert_int_equal(f->plan.instance_counts[info.placement.worker_index], 1);
	assert_int_equal(slice_maps_has_memfd(info.memfd_name, &is_mapped, NULL), 0);
	assert_true(is_mapped);
	unload_gone(f, id);
}

static uint64_t
u64le(const char *bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v |= (uint64_t)(uint8_t)bytes[i] << (8 * i);
	}
	return v;
}

static void
test_runtime_service_slice_keeps_arena_state_and_counts(void **state)
{
	struct fixture *f = *state;
	uint32_t id = load_active(f, COUNTER_SERVICE);
	uint8_t five[8] = {5};
	uint8_t seven[8] = {7};
	struct slice_instance_info info;

	assert_int_equal(call_sync(f, id, NULL, "add", five, 8, 0), 0);
	assert_int_equal(call_sync(f, id, NULL, "add", seven, 8, 0), 0);
	assert_int_equal(u64le(f->response), 12);
	assert_int_equal(call_sync(f, id, NULL, "get", NULL, 0, 0), 0);
	assert_int_equal(u64le(f->response), 12);
	assert_int_equal(call_sync(f, id, NULL, "add", five, 3, 0), -EINVAL);
	assert_int_equal(call_sync(f, id, NULL, "reset", NULL, 0, 0), 0);
	assert_int_equal(f->response_size, 0);
	assert_int_equal(call_sync(f, id, NULL, "get", NULL, 0, 0), 0);
	assert_int_equal(u64le(f->response), 0);
	/* Several methods: NULL is ambiguous. */
	assert_int_equal(call_sync(f, id, NULL, NULL, NULL, 0, 0), -ENOSYS);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_int_equal(info.counter_count, 3);
	assert_int_equal(info.counters[0], 2);
	assert_int_equal(info.counters[1], 2);
	assert_int_equal(info.counters[2], 1);
	assert_true(info.arena_size >= 64 * 1024);
	assert_true(info.arena_used >= 8);
	unload_gone(f, id);
}

static void
test_runtime_dependent_slice_calls_its_dependency_and_answers_later(void **state)
{
	struct fixture *f = *state;
	struct slice_repo_index *index = malloc(sizeof(*index));
	struct slice_resolution *res = malloc(sizeof(*res));
	struct slice_version_pattern any;
	struct slice_coord welcome = coord_of(WELCOME);
	uint32_t ids[2];

	assert_non_null(index);
	assert_non_null(res);
	assert_int_equal(slice_version_pattern_parse(">=1.0.0", 7, &any, NULL), 0);
	slice_repo_index_init(index, f->repo);
	assert_int_equal(slice_repo_resolve(index, &welcome.name, &any, res, NULL), 0);
	assert_int_equal(res->count, 2);
	for (uint32_t i = 0; i < res->count; i++) {
		char text[SLICE_COORD_TEXT_MAX + 1];

		assert_true(slice_coord_format(&res->order[i].coord, text, sizeof(text)) > 0);
		ids[i] = load_active(f, text);
	}
	/* The welcome slice asks greeter 1.1.0 (the highest ^1.0.0) and passes request id 42. */
	assert_int_equal(call_sync(f, ids[1], NULL, "welcome", "ana", 3, 42), 0);
	assert_string_equal(f->response, "welcome! hello, ana (greeter 1.1.0, call 1, request 42)");
	/* Without its dependency, the callee's error comes back through the completion. */
	unload_gone(f, ids[0]);
	assert_int_equal(call_sync(f, ids[1], NULL, "welcome", "ana", 3, 0), -ENOENT);
	unload_gone(f, ids[1]);
	free(index);
	free(res);
}

static void
test_runtime_two_versions_answer_independently(void **state)
{
	struct fixture *f = *state;
	uint32_t old_id = load_active(f, GREETER_1_0);
	uint32_t new_id = load_active(f, GREETER_1_1);
	struct slice_instance_info a;
	struct slice_instance_info b;
	bool is_mapped = false;

	assert_int_equal(call_sync(f, old_id, NULL, "greet", "a", 1, 1), 0);
	assert_int_equal(call_sync(f, old_id, NULL, "greet", "a", 1, 2), 0);
	assert_string_equal(f->response, "hello, a (greeter 1.0.0, call 2, request 2)");
	/* Its own statics: the newer object has served nothing yet. */
	assert_int_equal(call_sync(f, new_id, NULL, "greet", "b", 1, 3), 0);
	assert_string_equal(f->response, "hello, b (greeter 1.1.0, call 1, request 3)");
	/* Routing by pattern picks the highest matching version. */
	assert_int_equal(call_sync(f, 0, "org.aether.examples:greeter", "greet", "c", 1, 4), 0);
	assert_string_equal(f->response, "hello, c (greeter 1.1.0, call 2, request 4)");
	assert_int_equal(call_sync(f, 0, "org.aether.examples:greeter:~1.0.0", "greet", "d", 1, 5),
			 0);
	assert_string_equal(f->response, "hello, d (greeter 1.0.0, call 3, request 5)");
	assert_int_equal(call_sync(f, 0, "org.aether.examples:greeter:^2.0.0", "greet", "e", 1, 6),
			 -ENOENT);
	assert_int_equal(slice_runtime_info(f->rt, old_id, &a), 0);
	assert_int_equal(slice_runtime_info(f->rt, new_id, &b), 0);
	assert_string_not_equal(a.memfd_name, b.memfd_name);
	/* Unloading one leaves the other mapped and answering. */
	unload_gone(f, old_id);
	assert_int_equal(slice_maps_has_memfd(b.memfd_name, &is_mapped, NULL), 0);
	assert_true(is_mapped);
	assert_int_equal(call_sync(f, new_id, NULL, "greet", "f", 1, 7), 0);
	assert_string_equal(f->response, "hello, f (greeter 1.1.0, call 3, request 7)");
	unload_gone(f, new_id);
}

static void
test_runtime_refuses_a_corrupt_artifact_and_loads_nothing(void **state)
{
	struct fixture *f = *state;
	struct slice_coord c = coord_of("org.aether.bad:corrupt:1.0.0");
	static const struct trepo_entry entry[] = {{"greet", 1}};
	uint8_t *bytes;
	size_t size;
	uint32_t id = 12345;

	trepo_read_file(GREETER_SO, &bytes, &size);
	trepo_put_manifest(f->bad_root, "org.aether.bad:corrupt:1.0.0", size,
			   base_hash128(bytes, size), entry, 1, NULL, 0);
	bytes[100] ^= 0x80;
	trepo_put_so(f->bad_root, "org.aether.bad:corrupt:1.0.0", bytes, size);
	assert_int_equal(slice_runtime_load(f->rt, &c, &id, &f->err), -BASE_ERR_CHECKSUM);
	assert_int_equal(id, 12345);
	assert_non_null(strstr(f->err.text, "does not match the manifest"));
	for (uint32_t i = 0; i < f->plan.worker_count; i++) {
		assert_int_equal(f->plan.instance_counts[i], 0);
	}
	free(bytes);
}

/* Puts a bad slice built by meson into the temporary repository and loads it. */
static uint32_t
load_bad(struct fixture *f, const char *file, const char *artifact, const char *method)
{
	char so[TREPO_PATH_MAX];
	char coord[128];
	const struct trepo_entry entry[] = {{method, 0}};

	(void)snprintf(so, sizeof(so), "%s/%s", SLICES_BAD_DIR, file);
	(void)snprintf(coord, sizeof(coord), "org.aether.bad:%s:1.0.0", artifact);
	trepo_put_slice(f->bad_root, coord, so, entry, 1);
	return load(f, coord);
}

/* A refused object must not stay mapped, and unloading the FAILED instance removes it. */
static void
assert_refused_unmapped(struct fixture *f, uint32_t id, const char *words)
{
	struct slice_instance_info info;
	bool is_mapped = true;

	assert_failed_with(f, id, words);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_int_equal(slice_maps_has_memfd(info.memfd_name, &is_mapped, NULL), 0);
	assert_false(is_mapped);
	assert_int_equal(slice_runtime_activate(f->rt, id, &f->err), -EINVAL);
	unload_gone(f, id);
}

static void
test_runtime_refuses_wrong_abi_missing_descriptor_and_unresolved_symbols(void **state)
{
	struct fixture *f = *state;

	assert_refused_unmapped(f, load_bad(f, "bad_abi.so", "bad-abi", "never"),
				"built for slice ABI 99");
	assert_refused_unmapped(f, load_bad(f, "no_symbol.so", "no-symbol", "x"),
				"does not export aether_slice_def");
	assert_refused_unmapped(f,
				load_bad(f, "undefined_symbol.so", "undefined-symbol", "uses_host"),
				"aether_host_private_function");
}

static void
test_runtime_refuses_a_descriptor_that_disagrees_with_its_manifest(void **state)
{
	struct fixture *f = *state;
	static const struct trepo_entry entry[] = {{"hello", 1}};

	trepo_put_slice(f->bad_root, "org.aether.examples:greeter:9.0.0", GREETER_SO, entry, 1);
	assert_refused_unmapped(f, load(f, "org.aether.examples:greeter:9.0.0"),
				"descriptor names another coordinate");
	/* Right coordinate, but the manifest lists another method. */
	trepo_put_slice(f->bad_root, GREETER_1_0, GREETER_SO, entry, 1);
	assert_refused_unmapped(f, load(f, GREETER_1_0), "method greet differs from the manifest");
}

static void
test_runtime_start_failing_makes_the_instance_failed(void **state)
{
	struct fixture *f = *state;
	uint32_t id = load_bad(f, "start_fails.so", "start-fails", "ignore");

	wait_state(f, id, SLICE_STATE_LOADED);
	assert_int_equal(slice_runtime_activate(f->rt, id, &f->err), 0);
	assert_failed_with(f, id, "start hook failed: returned -5");
	unload_gone(f, id);
}

static void
test_runtime_start_hanging_fails_without_blocking_the_caller(void **state)
{
	struct fixture *f = *state;
	uint32_t id = load_bad(f, "start_hangs.so", "start-hangs", "ignore");
	struct slice_instance_info info;
	uint64_t real_start;

	wait_state(f, id, SLICE_STATE_LOADED);
	real_start = test_clock(f);
	assert_int_equal(slice_runtime_activate(f->rt, id, &f->err), 0);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_int_equal(info.state, SLICE_STATE_ACTIVATING);
	/* The clock may move only once the hook has read it (it counts "entered" then). */
	while (info.counters[0] == 0) {
		assert_true(test_clock(f) - real_start < WAIT_NS);
		assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	}
	/* The hook timeout (1 s) passes on the runtime's clock; the hook is still inside. */
	atomic_fetch_add(&f->clock_offset_ns, 2 * SECOND_NS);
	assert_failed_with(f, id, "start hook timed out after 1 s");
	/* Real time spent: the caller was never held by the hook (which is still inside). */
	assert_true(test_clock(f) - real_start - 2 * SECOND_NS < SECOND_NS / 2);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_true(info.is_hook_running);
	/* Unloading waits for the hook: nothing is unmapped under a running thread. */
	assert_int_equal(slice_runtime_unload(f->rt, id, &f->err), 0);
	for (int i = 0; i < 50; i++) {
		(void)slice_runtime_poll(f->rt);
	}
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_int_equal(info.state, SLICE_STATE_UNLOADING);
	/* An hour later on the host clock the hook returns, and the unload completes. */
	atomic_fetch_add(&f->clock_offset_ns, 3700 * SECOND_NS);
	wait_state(f, id, SLICE_STATE_UNLOAD);
}

static void
test_runtime_times_out_unanswered_calls_and_deactivation(void **state)
{
	struct fixture *f = *state;
	uint32_t id = load_bad(f, "silent.so", "silent", "ignore");
	struct slice_instance_info info;

	wait_state(f, id, SLICE_STATE_LOADED);
	assert_int_equal(slice_runtime_activate(f->rt, id, &f->err), 0);
	wait_state(f, id, SLICE_STATE_ACTIVE);
	f->is_done = false;
	assert_int_equal(slice_runtime_call(f->rt, id, NULL, "ignore", NULL, 0, 0, f, on_done), 0);
	(void)slice_runtime_poll(f->rt);
	assert_false(f->is_done);
	atomic_fetch_add(&f->clock_offset_ns, 2 * SECOND_NS);
	while (!f->is_done) {
		(void)slice_runtime_poll(f->rt);
	}
	assert_int_equal(f->status, -ETIMEDOUT);
	/* The slice still holds the call: deactivation waits for it, then gives up. */
	assert_int_equal(slice_runtime_deactivate(f->rt, id, &f->err), 0);
	(void)slice_runtime_poll(f->rt);
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_int_equal(info.state, SLICE_STATE_DEACTIVATING);
	assert_int_equal(info.calls_open, 1);
	atomic_fetch_add(&f->clock_offset_ns, 31 * SECOND_NS);
	assert_failed_with(f, id, "deactivate timed out after 30 s");
	unload_gone(f, id);
}

static void
test_runtime_refuses_calls_it_cannot_take(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[SLICE_RUNTIME_MESSAGE_DEFAULT + 1];

	assert_int_equal(
		slice_runtime_call(f->rt, 0, "not a target", "greet", NULL, 0, 0, f, on_done),
		-EINVAL);
	assert_int_equal(
		slice_runtime_call(f->rt, 0, "org.a:b:^x", "greet", NULL, 0, 0, f, on_done),
		-EINVAL);
	assert_int_equal(slice_runtime_call(f->rt, 0, "org.a:b", "Greet", NULL, 0, 0, f, on_done),
			 -EINVAL);
	assert_int_equal(
		slice_runtime_call(f->rt, 0, "org.a:b", "greet", big, sizeof(big), 0, f, on_done),
		-EMSGSIZE);
	assert_int_equal(slice_runtime_poll(f->rt), 0);
}

/* A statically linked slice, for the loader seam: its handler echoes the request. */
static void
static_echo(const struct slice_host *host, struct slice_instance *self, void *state,
	    struct slice_call call, const uint8_t *request, size_t request_size)
{
	(void)state;
	(void)host->respond(self, call, 0, request, request_size);
}

static const struct slice_method static_methods[] = {{.name = "echo", .handler = static_echo}};

static const struct slice_def static_def = {
	SLICE_DEF_HEADER,   .group = "org.aether.test", .artifact = "static-echo",
	.version = "1.0.0", .methods = static_methods,  .method_count = 1,
	.arena_size = 4096,
};

/* What the static loader hands out as its handle. */
static int static_handle;

static int
static_open(void *ctx, int fd, const char *name, void **handle, struct slice_error *err)
{
	int *opens = ctx;

	(void)name;
	(void)err;
	assert_true(fd >= 0);
	(*opens)++;
	*handle = &static_handle;
	return 0;
}

static int
static_descriptor(void *ctx, void *handle, const struct slice_def **def, struct slice_error *err)
{
	(void)ctx;
	(void)err;
	assert_ptr_equal(handle, &static_handle);
	*def = &static_def;
	return 0;
}

static int
static_close(void *ctx, void *handle, const char *name, struct slice_error *err)
{
	int *opens = ctx;

	(void)handle;
	(void)name;
	(void)err;
	(*opens)--;
	return 0;
}

static void
test_runtime_runs_a_statically_linked_slice_through_the_loader_seam(void **state)
{
	struct fixture *f = *state;
	static const struct trepo_entry entry[] = {{"echo", 0}};
	static const uint8_t artifact[] = "not an ELF file: the static loader ignores the bytes";
	/* Static: the runtime keeps pointing at its loader until teardown destroys it. */
	static int opens;
	static struct slice_loader_ops ops = {&opens, static_open, static_descriptor, static_close};
	struct slice_instance_info info;
	uint32_t id;

	/* A second runtime, with the static loader and no hwloc: plain arena memory, reported. */
	slice_runtime_destroy(f->rt, WAIT_NS);
	f->cfg.loader = &ops;
	f->cfg.hwloc = NULL;
	assert_int_equal(slice_runtime_create(&f->cfg, &f->rt, &f->err), 0);
	trepo_put_so(f->bad_root, "org.aether.test:static-echo:1.0.0", artifact, sizeof(artifact));
	trepo_put_manifest(f->bad_root, "org.aether.test:static-echo:1.0.0", sizeof(artifact),
			   base_hash128(artifact, sizeof(artifact)), entry, 1, NULL, 0);
	id = load_active(f, "org.aether.test:static-echo:1.0.0");
	assert_int_equal(opens, 1);
	assert_int_equal(call_sync(f, id, NULL, "echo", "ping", 4, 0), 0);
	assert_string_equal(f->response, "ping");
	assert_int_equal(slice_runtime_info(f->rt, id, &info), 0);
	assert_false(info.is_arena_bound);
	assert_true(info.arena_size >= 4096);
	unload_gone(f, id);
	assert_int_equal(opens, 0);
}

/* The fault loop: fail the n-th allocation until create succeeds; nothing may leak. */
static void
test_runtime_create_cleans_up_after_every_failed_allocation(void **state)
{
	struct fixture *f = *state;
	struct slice_runtime *rt = NULL;
	long live = base_alloc_live();
	unsigned long n;

	for (n = 1;; n++) {
		int rc;

		base_alloc_fail_at(n);
		rc = slice_runtime_create(&f->cfg, &rt, &f->err);
		base_alloc_fail_at(0);
		if (rc == 0) {
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(rt);
		assert_int_equal(base_alloc_live(), live);
	}
	assert_true(n > 2);
	slice_runtime_destroy(rt, 0);
	assert_int_equal(base_alloc_live(), live);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_runtime_calls_a_lean_slice),
		T(test_runtime_service_slice_keeps_arena_state_and_counts),
		T(test_runtime_dependent_slice_calls_its_dependency_and_answers_later),
		T(test_runtime_two_versions_answer_independently),
		T(test_runtime_refuses_a_corrupt_artifact_and_loads_nothing),
		T(test_runtime_refuses_wrong_abi_missing_descriptor_and_unresolved_symbols),
		T(test_runtime_refuses_a_descriptor_that_disagrees_with_its_manifest),
		T(test_runtime_start_failing_makes_the_instance_failed),
		T(test_runtime_start_hanging_fails_without_blocking_the_caller),
		T(test_runtime_times_out_unanswered_calls_and_deactivation),
		T(test_runtime_refuses_calls_it_cannot_take),
		T(test_runtime_runs_a_statically_linked_slice_through_the_loader_seam),
		T(test_runtime_create_cleans_up_after_every_failed_allocation),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
