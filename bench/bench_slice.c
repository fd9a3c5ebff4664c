/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aether-bench slice: how long it takes to bring an example slice up, and to call it.
 *
 *  load     resolve (the repository index) + fetch with io_uring and verify XXH3-128 (the
 *           repository cache is cleared first, so every round reads the file) + dlopen from the
 *           sealed memfd on the hook thread + descriptor check + arena + start hook, until the
 *           instance is ACTIVE. Target: greeter ^1.0.0 (a lean slice). Unloading is not timed.
 *  dlopen   the baseline, same file, same run: open the .so and dlopen it through the same
 *           loader (/proc/self/fd path, RTLD_NOW | RTLD_LOCAL) and call its descriptor function.
 *  call     one call of counter-service `get` through slice_runtime_call and the host table,
 *           dispatched and completed by slice_runtime_poll on this thread (the same-lcore path),
 *           timed from submit to completion.
 * The control thread spins on slice_runtime_poll while waiting (no naps, as an lcore would),
 * yielding when a poll finds nothing, so the hook thread gets a CPU on a busy machine.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "slices/runtime.h"

#define BENCH_GREETER_SO BENCH_EXAMPLE_REPO "/org/aether/examples/greeter/1.1.0/greeter-1.1.0.so"

struct bench_slice {
	const char *repo_root;
	uint32_t iterations;
	uint32_t calls;
	bool is_json;
	struct numa_hwloc *hw;
	struct numa_topology topo;
	struct numa_cpuset allowed;
	struct numa_plan plan;
	struct slice_repo *repo;
	struct slice_runtime *rt;
	struct slice_repo_index *index;
	struct slice_resolution *resolution;
	uint64_t *load_ns;
	uint64_t *dlopen_ns;
	uint64_t *call_ns;
	bool is_arena_bound;
	bool is_call_done;
	int call_status;
};

static int
bench_fail(const char *what, const char *why)
{
	fprintf(stderr, "aether-bench slice: %s: %s\n", what, why);
	return 1;
}

/* Spins on the runtime until id reaches want; the instance disappearing counts for UNLOAD. */
static int
bench_spin(struct bench_slice *b, uint32_t id, enum slice_state want)
{
	uint64_t deadline = bench_now_ns() + UINT64_C(10000000000);
	struct slice_instance_info info;

	for (;;) {
		/* Idle polls yield, so a hook thread sharing this CPU gets to run. */
		if (slice_runtime_poll(b->rt) == 0) {
			(void)sched_yield();
		}
		if (slice_runtime_info(b->rt, id, &info) < 0) {
			return want == SLICE_STATE_UNLOAD ? 0 : -ENOENT;
		}
		if (info.state == want) {
			b->is_arena_bound = info.is_arena_bound;
			return 0;
		}
		if (info.state == SLICE_STATE_FAILED || bench_now_ns() > deadline) {
			return bench_fail("instance", info.state == SLICE_STATE_FAILED
							      ? info.reason
							      : "timed out");
		}
	}
}

static int
bench_setup(struct bench_slice *b)
{
	struct numa_plan_config pc = {
		.worker_count = 1, .process_count = 1, .allow_oversubscribe = true};
	struct slice_repo_config rc = {.root_count = 1};
	struct slice_runtime_config cfg = {0};
	struct slice_error err;

	if (numa_hwloc_create(&b->hw, NULL, NULL) < 0 ||
	    numa_hwloc_load(b->hw, &b->topo, NULL) < 0 ||
	    numa_hwloc_allowed(b->hw, &b->allowed) < 0 ||
	    numa_plan_init(&b->plan, &b->topo, &b->allowed, &pc, NULL) < 0) {
		return bench_fail("numa", "cannot load the topology or make a plan");
	}
	rc.roots[0] = b->repo_root;
	if (slice_repo_create(&rc, &b->repo, &err) < 0) {
		return bench_fail("repository", err.text);
	}
	cfg.repo = b->repo;
	cfg.plan = &b->plan;
	cfg.hwloc = b->hw;
	if (slice_runtime_create(&cfg, &b->rt, &err) < 0) {
		return bench_fail("runtime", err.text);
	}
	b->index = malloc(sizeof(*b->index));
	b->resolution = malloc(sizeof(*b->resolution));
	b->load_ns = calloc(b->iterations, sizeof(uint64_t));
	b->dlopen_ns = calloc(b->iterations, sizeof(uint64_t));
	b->call_ns = calloc(b->calls, sizeof(uint64_t));
	if (b->index == NULL || b->resolution == NULL || b->load_ns == NULL ||
	    b->dlopen_ns == NULL || b->call_ns == NULL) {
		return bench_fail("memory", "out of memory");
	}
	return 0;
}

static void
bench_teardown(struct bench_slice *b)
{
	slice_runtime_destroy(b->rt, UINT64_C(5000000000));
	slice_repo_destroy(b->repo);
	numa_hwloc_destroy(b->hw);
	free(b->index);
	free(b->resolution);
	free(b->load_ns);
	free(b->dlopen_ns);
	free(b->call_ns);
}

/* One timed round of resolve + verify + load + activate, then an untimed unload. */
static int
bench_load_once(struct bench_slice *b, uint64_t *elapsed_ns)
{
	struct slice_name name = {.group = "org.aether.examples", .artifact = "greeter"};
	struct slice_version_pattern pattern;
	struct slice_error err;
	uint64_t start;
	uint32_t id;

	if (slice_version_pattern_parse("^1.0.0", 6, &pattern, NULL) < 0) {
		return bench_fail("pattern", "does not parse");
	}
	slice_repo_cache_clear(b->repo);
	slice_repo_index_init(b->index, b->repo);
	start = bench_now_ns();
	if (slice_repo_resolve(b->index, &name, &pattern, b->resolution, NULL) < 0) {
		return bench_fail("resolve", "greeter ^1.0.0 not in the repository");
	}
	if (slice_runtime_load(b->rt, &b->resolution->order[0].coord, &id, &err) < 0) {
		return bench_fail("load", err.text);
	}
	if (bench_spin(b, id, SLICE_STATE_LOADED) != 0 ||
	    slice_runtime_activate(b->rt, id, &err) < 0 || bench_spin(b, id, SLICE_STATE_ACTIVE)) {
		return bench_fail("activate", "did not become ACTIVE");
	}
	*elapsed_ns = bench_now_ns() - start;
	if (slice_runtime_deactivate(b->rt, id, &err) < 0 ||
	    bench_spin(b, id, SLICE_STATE_LOADED) != 0 ||
	    slice_runtime_unload(b->rt, id, &err) < 0 ||
	    bench_spin(b, id, SLICE_STATE_UNLOAD) != 0) {
		return bench_fail("unload", err.text);
	}
	return 0;
}

/* The baseline: raw dlopen of the same file through the same loader, plus its descriptor. */
static int
bench_dlopen_once(uint64_t *elapsed_ns)
{
	const struct slice_loader_ops *ld = &slice_loader_dl;
	const struct slice_def *def;
	struct slice_error err;
	void *handle = NULL;
	uint64_t start;
	int fd = open(BENCH_GREETER_SO, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		return bench_fail(BENCH_GREETER_SO, strerror(errno));
	}
	start = bench_now_ns();
	rc = ld->open(ld->ctx, fd, "greeter", &handle, &err);
	if (rc == 0) {
		rc = ld->descriptor(ld->ctx, handle, &def, &err);
	}
	*elapsed_ns = bench_now_ns() - start;
	/* Unloading is not timed; "greeter" is no memfd, so the maps check passes trivially. */
	if (handle != NULL && ld->close(ld->ctx, handle, "greeter", NULL) < 0) {
		rc = -EBUSY;
	}
	(void)close(fd);
	return rc < 0 ? bench_fail("dlopen", err.text) : 0;
}

static void
bench_on_done(void *ctx, int status, const uint8_t *response, size_t response_size)
{
	struct bench_slice *b = ctx;

	(void)response;
	(void)response_size;
	b->is_call_done = true;
	b->call_status = status;
}

static int
bench_calls(struct bench_slice *b)
{
	struct slice_coord coord;
	struct slice_error err;
	uint32_t id;

	if (slice_coord_parse("org.aether.examples:counter-service:1.0.0", 41, &coord, NULL) < 0 ||
	    slice_runtime_load(b->rt, &coord, &id, &err) < 0 ||
	    bench_spin(b, id, SLICE_STATE_LOADED) != 0 ||
	    slice_runtime_activate(b->rt, id, &err) < 0 || bench_spin(b, id, SLICE_STATE_ACTIVE)) {
		return bench_fail("counter-service", "did not become ACTIVE");
	}
	for (uint32_t i = 0; i < b->calls; i++) {
		uint64_t start = bench_now_ns();

		b->is_call_done = false;
		if (slice_runtime_call(b->rt, id, NULL, "get", NULL, 0, 0, b, bench_on_done) < 0) {
			return bench_fail("call", "refused");
		}
		while (!b->is_call_done) {
			(void)slice_runtime_poll(b->rt);
		}
		b->call_ns[i] = bench_now_ns() - start;
		if (b->call_status != 0) {
			return bench_fail("call", base_strerror(b->call_status));
		}
	}
	return 0;
}

static void
bench_report(struct bench_slice *b)
{
	double load50 = (double)bench_percentile(b->load_ns, b->iterations, 50) / 1000.0;
	double load99 = (double)bench_percentile(b->load_ns, b->iterations, 99) / 1000.0;
	double dl50 = (double)bench_percentile(b->dlopen_ns, b->iterations, 50) / 1000.0;
	double dl99 = (double)bench_percentile(b->dlopen_ns, b->iterations, 99) / 1000.0;
	uint64_t call50 = bench_percentile(b->call_ns, b->calls, 50);
	uint64_t call99 = bench_percentile(b->call_ns, b->calls, 99);

	if (b->is_json) {
		printf("{\"bench\": \"slice\", \"iterations\": %u, \"calls\": %u, "
		       "\"load_p50_us\": %.1f, \"load_p99_us\": %.1f, "
		       "\"dlopen_p50_us\": %.1f, \"dlopen_p99_us\": %.1f, "
		       "\"load_over_dlopen_p50\": %.2f, "
		       "\"call_p50_ns\": %llu, \"call_p99_ns\": %llu, \"arena_numa_bound\": %s}\n",
		       b->iterations, b->calls, load50, load99, dl50, dl99,
		       dl50 > 0 ? load50 / dl50 : 0.0, (unsigned long long)call50,
		       (unsigned long long)call99, b->is_arena_bound ? "true" : "false");
		return;
	}
	printf("slice load (resolve+verify+load+activate), %u rounds: p50 %.1f us, p99 %.1f us\n",
	       b->iterations, load50, load99);
	printf("raw dlopen of the same file (baseline):      p50 %.1f us, p99 %.1f us "
	       "(load/dlopen p50 = %.2f)\n",
	       dl50, dl99, dl50 > 0 ? load50 / dl50 : 0.0);
	printf("same-lcore call through the host table, %u calls: p50 %llu ns, p99 %llu ns\n",
	       b->calls, (unsigned long long)call50, (unsigned long long)call99);
	printf("instance arena bound to its NUMA node: %s\n", b->is_arena_bound ? "yes" : "no");
}

static const char slice_usage[] =
	"usage: aether-bench slice [--json] [--iterations N] [--calls N] [--repo DIR]\n"
	"\n"
	"  --iterations N  load rounds and dlopen rounds (default 200)\n"
	"  --calls N       timed calls (default 100000)\n"
	"  --repo DIR      repository with the example slices (default: the build's)\n"
	"  --json          one JSON object: load_p50_us load_p99_us dlopen_p50_us dlopen_p99_us\n"
	"                  call_p50_ns call_p99_ns ...\n";

static int
bench_slice_args(struct bench_slice *b, int argc, char **argv)
{
	static const struct option options[] = {
		{"json", no_argument, NULL, 'j'},
		{"iterations", required_argument, NULL, 'i'},
		{"calls", required_argument, NULL, 'c'},
		{"repo", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	b->repo_root = BENCH_EXAMPLE_REPO;
	b->iterations = 200;
	b->calls = 100000;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end = NULL;
		unsigned long v = 0;

		if (opt == 'i' || opt == 'c') {
			v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v == 0 || v > 100000000ul) {
				fprintf(stderr, "aether-bench slice: bad count \"%s\"\n", optarg);
				return 2;
			}
		}
		if (opt == 'j') {
			b->is_json = true;
		} else if (opt == 'i') {
			b->iterations = (uint32_t)v;
		} else if (opt == 'c') {
			b->calls = (uint32_t)v;
		} else if (opt == 'r') {
			b->repo_root = optarg;
		} else {
			fputs(slice_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 1 : 2;
		}
	}
	return optind == argc ? 0 : 2;
}

int
bench_slice_main(int argc, char **argv)
{
	static struct bench_slice b;
	int rc = bench_slice_args(&b, argc, argv);

	if (rc != 0) {
		return rc == 1 ? 0 : rc;
	}
	rc = bench_setup(&b);
	for (uint32_t i = 0; rc == 0 && i < b.iterations; i++) {
		rc = bench_load_once(&b, &b.load_ns[i]);
		if (rc == 0) {
			rc = bench_dlopen_once(&b.dlopen_ns[i]);
		}
	}
	if (rc == 0) {
		rc = bench_calls(&b);
	}
	if (rc == 0) {
		bench_report(&b);
	}
	bench_teardown(&b);
	return rc;
}
