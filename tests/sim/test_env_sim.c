/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: env_sim implements the env.h contract with the durability model made exact: synced
 * objects survive a crash, un-synced puts vanish (with keep_unsynced_ppm = 0), un-synced appends
 * leave a torn tail (any prefix of the appended bytes, at record ends and inside records), a
 * sync covers exactly what was accepted before it, failed operations (storage-fail) report -EIO
 * and leave what env_sim.h promises, operations complete in FIFO order after their delay, stale
 * completions from before a crash are ignored, the skewed clock is monotonic, within its bounds
 * and invertible for timers, and everything is a function of the seed. Method: drive one node's
 * env through the env_ops table only, running the event queue by hand; properties are checked
 * over hundreds of PRNG seeds (fixed, so a failure names its seed in the assertion message).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "sim/env_sim.h"

#define QCAP 1024

struct fixture {
	struct sim_queue q;
	struct sim_net net;
	struct base_prng prng;
	struct env_sim env[2];
	void *mem[4];
	const struct env_ops *ops;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sim_net_config ncfg = {
		.node_count = 2, .small_count = 64, .large_count = 8, .inbox_max = 64};
	struct env_sim_config ecfg = {.objects_max = 4,
				      .object_size_max = 1024,
				      .storage_ops_max = 8,
				      .put_ns_min = 10,
				      .put_ns_max = 20,
				      .sync_ns_min = 100,
				      .sync_ns_max = 200,
				      .keep_unsynced_ppm = 0};
	struct base_log log = {0};

	assert_non_null(f);
	f->mem[0] = malloc(sim_queue_size(QCAP));
	f->mem[1] = malloc(sim_net_size(&ncfg));
	f->mem[2] = malloc(env_sim_size(&ecfg));
	f->mem[3] = malloc(env_sim_size(&ecfg));
	for (int i = 0; i < 4; i++) {
		assert_non_null(f->mem[i]);
	}
	sim_queue_init(&f->q, f->mem[0], QCAP);
	base_prng_init(&f->prng, 77);
	sim_net_init(&f->net, f->mem[1], &ncfg, &f->q, &f->prng);
	env_sim_init(&f->env[0], f->mem[2], &ecfg, 0, &f->net, &f->q, &f->prng, &log);
	env_sim_init(&f->env[1], f->mem[3], &ecfg, 1, &f->net, &f->q, &f->prng, &log);
	env_sim_reset(&f->env[0], 5);
	env_sim_reset(&f->env[1], 5);
	f->ops = &f->env[0].ops;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 4; i++) {
		free(f->mem[i]);
	}
	free(f);
	return 0;
}

/* Runs every storage event for node 0; returns the completions in order. */
static size_t
run_storage(struct fixture *f, struct env_storage_completion *out, size_t cap)
{
	struct sim_event ev;

	while (sim_queue_pop(&f->q, &ev) == 0) {
		assert_int_equal(ev.kind, SIM_EV_STORAGE_DONE);
		(void)env_sim_on_storage_done(&f->env[ev.target], ev.arg1);
	}
	return f->ops->storage_poll(f->ops->ctx, out, cap);
}

static void
put(struct fixture *f, const char *name, const char *text, uint64_t token)
{
	assert_int_equal(
		f->ops->storage_put(f->ops->ctx, name, (const uint8_t *)text, strlen(text), token),
		0);
}

static void
assert_loads(struct fixture *f, const char *name, const char *text)
{
	uint8_t buf[64];
	size_t size;

	assert_int_equal(f->ops->storage_load(f->ops->ctx, name, buf, sizeof(buf), &size), 0);
	assert_int_equal(size, strlen(text));
	assert_memory_equal(buf, text, size);
}

static void
test_env_sim_operations_complete_in_fifo_order(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];

	put(f, "a", "1", 1);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "a", 2), 0);
	put(f, "b", "2", 3);
	assert_int_equal(run_storage(f, done, 8), 3);
	assert_int_equal(done[0].token, 1);
	assert_int_equal(done[0].op, ENV_STORAGE_PUT);
	assert_int_equal(done[1].token, 2);
	assert_int_equal(done[1].op, ENV_STORAGE_SYNC);
	assert_int_equal(done[2].token, 3);
	assert_int_equal(done[2].status, 0);
	/* The sync completes after put (10-20 ns) plus sync (100-200 ns). */
	assert_in_range(sim_queue_now(&f->q), 120, 440);
}

static void
test_env_sim_synced_object_survives_crash(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];

	put(f, "hwm", "v1", 1);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "hwm", 2), 0);
	assert_int_equal(run_storage(f, done, 8), 2);
	env_sim_crash(&f->env[0]);
	assert_loads(f, "hwm", "v1");
}

static void
test_env_sim_unsynced_put_vanishes_on_crash(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];
	uint8_t buf[16];
	size_t size;

	put(f, "hwm", "v1", 1);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "hwm", 2), 0);
	assert_int_equal(run_storage(f, done, 8), 2);
	put(f, "hwm", "v2", 3);
	put(f, "new", "x", 4);
	assert_int_equal(run_storage(f, done, 8), 2);
	assert_loads(f, "hwm", "v2"); /* visible before the crash */
	env_sim_crash(&f->env[0]);
	assert_loads(f, "hwm", "v1");
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "new", buf, sizeof(buf), &size),
			 -ENOENT);
	assert_int_equal(f->env[0].stats.lost_object_count, 2);
}

static void
test_env_sim_crash_discards_pending_work_and_stale_events(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];
	const uint8_t *data;
	size_t size;

	put(f, "a", "1", 1);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "a", 2), 0);
	env_sim_crash(&f->env[0]);
	assert_int_equal(run_storage(f, done, 8), 0);
	assert_int_equal(env_sim_durable(&f->env[0], "a", &data, &size), -ENOENT);
}

static void
test_env_sim_storage_rejects_bad_names_and_sizes(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[1025];

	assert_int_equal(f->ops->storage_put(f->ops->ctx, "Bad", big, 1, 0), -EINVAL);
	assert_int_equal(f->ops->storage_put(f->ops->ctx, "ok", big, sizeof(big), 0), -EFBIG);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "missing", 0), -ENOENT);
	for (int i = 0; i < 4; i++) {
		char name[8] = {'o', (char)('0' + i), 0};

		assert_int_equal(f->ops->storage_put(f->ops->ctx, name, big, 1, 0), 0);
	}
	assert_int_equal(f->ops->storage_put(f->ops->ctx, "o9", big, 1, 0), -ENOSPC);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(f->ops->storage_put(f->ops->ctx, "o0", big, 1, 0), 0);
	}
	assert_int_equal(f->ops->storage_put(f->ops->ctx, "o0", big, 1, 0), -ENOBUFS);
}

static void
test_env_sim_time_and_transport_come_from_the_simulator(void **state)
{
	struct fixture *f = *state;
	struct sim_net_faults faults = {.delay_min_ns = 50, .delay_max_ns = 50};
	const struct env_ops *peer = &f->env[1].ops;
	struct sim_event ev;
	uint8_t buf[16];
	uint32_t src;
	size_t size;

	sim_net_set_faults(&f->net, &faults);
	assert_int_equal(f->ops->now_ns(f->ops->ctx), 0);
	assert_int_equal(f->ops->send(f->ops->ctx, 1, (const uint8_t *)"hi", 2), 0);
	assert_int_equal(peer->recv(peer->ctx, &src, buf, sizeof(buf), &size), -EAGAIN);
	assert_int_equal(sim_queue_pop(&f->q, &ev), 0);
	assert_int_equal(sim_net_on_deliver(&f->net, ev.arg0), 1);
	assert_int_equal(peer->now_ns(peer->ctx), 50);
	assert_int_equal(peer->recv(peer->ctx, &src, buf, sizeof(buf), &size), 0);
	assert_int_equal(src, 0);
	assert_int_equal(size, 2);
	assert_int_not_equal(f->ops->seed(f->ops->ctx), peer->seed(peer->ctx));
}

static void
append(struct fixture *f, const char *name, const char *text, uint64_t token)
{
	assert_int_equal(f->ops->storage_append(f->ops->ctx, name, (const uint8_t *)text,
						strlen(text), token),
			 0);
}

static void
sync_name(struct fixture *f, const char *name, uint64_t token)
{
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, name, token), 0);
}

/* Empties node 0's storage and reseeds the run's PRNG: one independent trial per seed. */
static void
trial_start(struct fixture *f, uint64_t seed)
{
	struct env_storage_completion done[8];

	(void)run_storage(f, done, 8);
	env_sim_reset(&f->env[0], seed);
	base_prng_init(&f->prng, seed);
}

/* Loads name into buf (capacity 256); returns the size, or -1 when it does not exist. */
static long
load_size(struct fixture *f, const char *name, uint8_t *buf)
{
	size_t size;
	int rc = f->ops->storage_load(f->ops->ctx, name, buf, 256, &size);

	if (rc == -ENOENT) {
		return -1;
	}
	assert_int_equal(rc, 0);
	return (long)size;
}

/* Asserts that buf[0, size) is `synced` followed by a prefix of `tail`. */
static void
assert_synced_then_prefix(const uint8_t *buf, long size, const char *synced, const char *tail,
			  uint64_t seed)
{
	size_t s = strlen(synced);

	if (size < (long)s || (size_t)size > s + strlen(tail) || memcmp(buf, synced, s) != 0 ||
	    memcmp(buf + s, tail, (size_t)size - s) != 0) {
		fail_msg("seed %llu: %ld bytes are not '%s' + a prefix of '%s'",
			 (unsigned long long)seed, size, synced, tail);
	}
}

static void
test_env_sim_append_grows_the_object_and_completes(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];

	append(f, "log", "ab", 1);
	append(f, "log", "", 2);
	append(f, "log", "cde", 3);
	assert_loads(f, "log", "abcde");
	assert_int_equal(run_storage(f, done, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(done[i].token, (uint64_t)i + 1);
		assert_int_equal(done[i].op, ENV_STORAGE_APPEND);
		assert_int_equal(done[i].status, 0);
	}
	assert_int_equal(f->env[0].stats.append_count, 3);
}

static void
test_env_sim_append_rejects_growth_past_the_object_size(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[1024];

	assert_int_equal(f->ops->storage_append(f->ops->ctx, "log", big, 1000, 1), 0);
	assert_int_equal(f->ops->storage_append(f->ops->ctx, "log", big, 25, 2), -EFBIG);
	assert_int_equal(f->ops->storage_append(f->ops->ctx, "log", big, 24, 3), 0);
	assert_int_equal(f->ops->storage_append(f->ops->ctx, "Log", big, 1, 4), -EINVAL);
	assert_int_equal(f->ops->storage_append(f->ops->ctx, "log", NULL, 1, 5), -EINVAL);
	assert_int_equal(f->env[0].objects[0].current_size, 1024);
}

/*
 * After a crash an appended object holds its synced contents plus a prefix of what was
 * appended since; over many seeds every kind of cut happens: nothing, everything, a record end,
 * inside a record. What a crash leaves is durable: a second crash changes nothing.
 */
static void
test_env_sim_crash_keeps_synced_data_and_a_prefix_of_later_appends(void **state)
{
	static const char *const records[] = {"r1:aaaa|", "r2:bbbbbbbbbb|", "r3:cc|"};
	struct fixture *f = *state;
	struct env_storage_completion done[8];
	uint32_t seen[4] = {0}; /* none, all, at a record end, inside a record */
	uint8_t buf[256];
	uint8_t again[256];
	const uint8_t *data;
	size_t durable_size;

	for (uint64_t seed = 0; seed < 400; seed++) {
		const char *tail = "r1:aaaa|r2:bbbbbbbbbb|r3:cc|";
		long size;

		trial_start(f, seed);
		append(f, "log", "synced|", 1);
		sync_name(f, "log", 2);
		assert_int_equal(run_storage(f, done, 8), 2);
		for (size_t i = 0; i < AE_ARRAY_SIZE(records); i++) {
			append(f, "log", records[i], 3 + i);
		}
		env_sim_crash(&f->env[0]);
		size = load_size(f, "log", buf);
		assert_synced_then_prefix(buf, size, "synced|", tail, seed);
		if (size == 7) {
			seen[0]++;
		} else if ((size_t)size == 7 + strlen(tail)) {
			seen[1]++;
		} else if (buf[size - 1] == '|') {
			seen[2]++;
		} else {
			seen[3]++;
		}
		assert_int_equal(env_sim_durable(&f->env[0], "log", &data, &durable_size), 0);
		assert_int_equal(durable_size, size);
		assert_memory_equal(data, buf, durable_size);
		env_sim_crash(&f->env[0]);
		assert_int_equal(load_size(f, "log", again), size);
		assert_memory_equal(again, buf, (size_t)size);
	}
	for (int k = 0; k < 4; k++) {
		assert_true(seen[k] >= 40); /* each about a quarter of 400 */
	}
	assert_true(f->env[0].stats.torn_tail_count > 0);
}

/* An object only ever appended to, never synced, keeps a prefix of its bytes or vanishes. */
static void
test_env_sim_never_synced_appends_leave_a_prefix_or_nothing(void **state)
{
	struct fixture *f = *state;
	uint32_t vanished = 0;
	uint32_t kept = 0;
	uint8_t buf[256];

	for (uint64_t seed = 0; seed < 200; seed++) {
		long size;

		trial_start(f, seed);
		append(f, "log", "first|", 1);
		append(f, "log", "second|", 2);
		env_sim_crash(&f->env[0]);
		size = load_size(f, "log", buf);
		if (size < 0) {
			vanished++;
			continue;
		}
		kept++;
		assert_true(size > 0);
		assert_synced_then_prefix(buf, size, "", "first|second|", seed);
	}
	assert_true(vanished > 0);
	assert_true(kept > 0);
}

/* A put since the last sync means there is no tail to tear: the synced contents come back. */
static void
test_env_sim_put_since_the_last_sync_reverts_to_the_synced_contents(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];

	for (uint64_t seed = 0; seed < 100; seed++) {
		trial_start(f, seed);
		append(f, "log", "base|", 1);
		sync_name(f, "log", 2);
		assert_int_equal(run_storage(f, done, 8), 2);
		append(f, "log", "tail|", 3);
		put(f, "log", "replaced", 4);
		append(f, "log", "more|", 5);
		env_sim_crash(&f->env[0]);
		assert_loads(f, "log", "base|");
	}
}

/*
 * A sync covers what was accepted before it was called: an append accepted while the sync is
 * queued stays un-synced (a crash may tear it), unless a later sync covers it.
 */
static void
test_env_sim_sync_covers_only_operations_accepted_before_it(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];
	const uint8_t *data;
	size_t size;
	uint8_t buf[256];

	for (uint64_t seed = 0; seed < 100; seed++) {
		long kept;

		trial_start(f, seed);
		append(f, "log", "A1|", 1);
		sync_name(f, "log", 2);
		append(f, "log", "B2B2|", 3);
		assert_int_equal(run_storage(f, done, 8), 3);
		assert_int_equal(env_sim_durable(&f->env[0], "log", &data, &size), 0);
		assert_int_equal(size, 3);
		assert_memory_equal(data, "A1|", 3);
		env_sim_crash(&f->env[0]);
		kept = load_size(f, "log", buf);
		assert_synced_then_prefix(buf, kept, "A1|", "B2B2|", seed);
	}
	/* A put after the sync call overwrote what it covered: the newer contents are durable. */
	put(f, "obj", "v1", 10);
	sync_name(f, "obj", 11);
	put(f, "obj", "v2", 12);
	assert_int_equal(run_storage(f, done, 8), 3);
	assert_int_equal(env_sim_durable(&f->env[0], "obj", &data, &size), 0);
	assert_int_equal(size, 2);
	assert_memory_equal(data, "v2", 2);
}

/* storage-fail at 100 %: every operation completes with -EIO and leaves what env_sim.h says. */
static void
test_env_sim_failed_operations_report_eio_and_leave_allowed_contents(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];
	uint32_t put_new = 0;
	uint32_t partial = 0;
	uint8_t buf[256];
	const uint8_t *data;
	size_t size;

	for (uint64_t seed = 0; seed < 100; seed++) {
		long got;

		trial_start(f, seed);
		put(f, "obj", "old", 1);
		sync_name(f, "obj", 2);
		assert_int_equal(run_storage(f, done, 8), 2);
		env_sim_set_storage_fail(&f->env[0], 1000000);
		put(f, "obj", "new", 3);
		append(f, "obj", "+more", 4);
		sync_name(f, "obj", 5);
		assert_int_equal(run_storage(f, done, 8), 3);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(done[i].token, (uint64_t)i + 3);
			assert_int_equal(done[i].status, -EIO);
		}
		assert_int_equal(done[0].op, ENV_STORAGE_PUT);
		assert_int_equal(done[1].op, ENV_STORAGE_APPEND);
		assert_int_equal(done[2].op, ENV_STORAGE_SYNC);
		assert_int_equal(f->env[0].stats.failed_count, 3);
		got = load_size(f, "obj", buf);
		assert_true(got >= 3);
		assert_true(memcmp(buf, "old", 3) == 0 || memcmp(buf, "new", 3) == 0);
		put_new += memcmp(buf, "new", 3) == 0;
		assert_synced_then_prefix(buf + 3, got - 3, "", "+more", seed);
		partial += got > 3 && got < 8;
		/* The failed sync made nothing durable. */
		assert_int_equal(env_sim_durable(&f->env[0], "obj", &data, &size), 0);
		assert_int_equal(size, 3);
		assert_memory_equal(data, "old", 3);
	}
	assert_true(put_new > 0 && put_new < 100);
	assert_true(partial > 0);
}

/* A failed append's partial record stays: later appends land after it. */
static void
test_env_sim_appends_after_a_failed_append_follow_its_partial_write(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];
	uint8_t buf[256];
	long size;

	env_sim_set_storage_fail(&f->env[0], 1000000);
	append(f, "log", "hello|", 1);
	env_sim_set_storage_fail(&f->env[0], 0);
	append(f, "log", "XY|", 2);
	sync_name(f, "log", 3);
	assert_int_equal(run_storage(f, done, 8), 3);
	assert_int_equal(done[0].status, -EIO);
	assert_int_equal(done[1].status, 0);
	assert_int_equal(done[2].status, 0);
	size = load_size(f, "log", buf);
	assert_true(size >= 3 && size <= 9);
	assert_memory_equal(buf + size - 3, "XY|", 3);
	assert_synced_then_prefix(buf, size - 3, "", "hello|", 0);
}

/* The failure rate is the configured one (10 % here: 300 operations, about 30 failures). */
static void
test_env_sim_storage_failures_follow_the_configured_rate(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion done[8];
	uint32_t failed = 0;

	env_sim_set_storage_fail(&f->env[0], 100000);
	for (int round = 0; round < 50; round++) {
		size_t n;

		for (int i = 0; i < 6; i++) {
			if (i % 3 == 2) {
				sync_name(f, "obj", 0);
			} else if (i % 3 == 1) {
				append(f, "obj", "x", 0);
			} else {
				put(f, "obj", "y", 0);
			}
		}
		n = run_storage(f, done, 8);
		assert_int_equal(n, 6);
		for (size_t i = 0; i < n; i++) {
			failed += done[i].status == -EIO;
			assert_true(done[i].status == 0 || done[i].status == -EIO);
		}
	}
	assert_in_range(failed, 15, 50);
	assert_int_equal(f->env[0].stats.failed_count, failed);
}

/* A scripted history with failures and crashes, hashed: completions, contents, stats. */
static uint64_t
scripted_history(struct fixture *f, uint64_t seed)
{
	struct env_storage_completion done[8];
	struct base_hash_stream h;
	uint8_t buf[256];

	trial_start(f, seed);
	base_hash_stream_init(&h);
	env_sim_set_storage_fail(&f->env[0], 200000);
	for (int round = 0; round < 20; round++) {
		size_t n;
		long size;

		append(f, "log", "rec|", (uint64_t)round);
		put(f, "obj", "val", (uint64_t)round);
		sync_name(f, "log", (uint64_t)round);
		n = run_storage(f, done, 8);
		base_hash_stream_update(&h, done, n * sizeof(done[0]));
		if (round % 5 == 4) {
			env_sim_crash(&f->env[0]);
		}
		size = load_size(f, "log", buf);
		base_hash_stream_update(&h, &size, sizeof(size));
	}
	base_hash_stream_update(&h, &f->env[0].stats, sizeof(f->env[0].stats));
	return base_hash_stream_final64(&h);
}

static void
test_env_sim_storage_history_is_a_function_of_the_seed(void **state)
{
	struct fixture *f = *state;
	uint64_t first = scripted_history(f, 11);
	int differs = 0;

	assert_int_equal(scripted_history(f, 11), first);
	for (uint64_t seed = 12; seed < 20; seed++) {
		differs |= scripted_history(f, seed) != first;
	}
	assert_true(differs);
}

static void
test_env_sim_clock_is_the_simulators_without_skew(void **state)
{
	struct fixture *f = *state;
	static const uint64_t times[] = {0, 1, 999999, 1000000, 123456789012ULL, UINT64_MAX / 2};

	for (size_t i = 0; i < AE_ARRAY_SIZE(times); i++) {
		assert_int_equal(env_sim_local_ns(&f->env[0], times[i]), times[i]);
		assert_int_equal(env_sim_sim_ns(&f->env[0], times[i]), times[i]);
	}
}

/* |local - offset - t| <= |drift| * t / 1e6 + 1, and local never goes backwards. */
static void
assert_clock_in_bounds(const struct env_sim *e, uint64_t offset, int32_t drift)
{
	uint64_t prev = 0;
	uint64_t t = 0;
	uint64_t mag = (uint64_t)(drift < 0 ? -(int64_t)drift : drift);

	for (int i = 0; i < 5000; i++) {
		uint64_t local = env_sim_local_ns(e, t);
		uint64_t ideal = offset + t;
		uint64_t err = local > ideal ? local - ideal : ideal - local;

		assert_true(local >= prev);
		assert_true(local >= offset);
		assert_true(err <= t / 1000000 * mag + mag + 1);
		assert_true(drift >= 0 ? local >= ideal : local <= ideal);
		prev = local;
		t += 1 + (uint64_t)i * (uint64_t)i * 997; /* from nanoseconds to about an hour */
	}
}

static void
test_env_sim_skewed_clock_is_monotonic_and_within_bounds(void **state)
{
	struct fixture *f = *state;
	static const int32_t drifts[] = {
		-10000, -1, 0, 1, 10000, -ENV_SIM_DRIFT_PPM_MAX, ENV_SIM_DRIFT_PPM_MAX};

	for (size_t i = 0; i < AE_ARRAY_SIZE(drifts); i++) {
		uint64_t offset = 2500000000ULL + i;

		env_sim_set_clock(&f->env[0], offset, drifts[i]);
		assert_clock_in_bounds(&f->env[0], offset, drifts[i]);
	}
	/* Through the table, at the simulator's current time. */
	env_sim_set_clock(&f->env[0], 3000000000ULL, 10000);
	assert_int_equal(f->ops->now_ns(f->ops->ctx), 3000000000ULL + sim_queue_now(&f->q));
	assert_int_equal(env_sim_local_ns(&f->env[0], 1000000000ULL), 4010000000ULL);
	assert_int_equal(f->env[1].ops.now_ns(f->env[1].ops.ctx), sim_queue_now(&f->q));
	env_sim_reset(&f->env[0], 5);
	assert_int_equal(env_sim_local_ns(&f->env[0], 1000000000ULL), 1000000000ULL);
}

/* A timer for local time L fires at the first simulator instant whose local time is >= L. */
static void
test_env_sim_timer_deadline_maps_to_the_first_instant_the_clock_reaches_it(void **state)
{
	struct fixture *f = *state;
	static const int32_t drifts[] = {
		-10000, -3, 0, 7, 10000, -ENV_SIM_DRIFT_PPM_MAX, ENV_SIM_DRIFT_PPM_MAX};
	struct base_prng prng;

	base_prng_init(&prng, 99);
	for (size_t i = 0; i < AE_ARRAY_SIZE(drifts); i++) {
		const struct env_sim *e = &f->env[0];

		env_sim_set_clock(&f->env[0], 1000000000ULL, drifts[i]);
		assert_int_equal(env_sim_sim_ns(e, 5), 0); /* before the offset: already passed */
		for (int k = 0; k < 3000; k++) {
			uint64_t local =
				1000000000ULL + base_prng_below(&prng, 1ULL << (k % 50 + 10));
			uint64_t t = env_sim_sim_ns(e, local);

			assert_true(env_sim_local_ns(e, t) >= local);
			assert_true(t == 0 || env_sim_local_ns(e, t - 1) < local);
		}
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_env_sim_operations_complete_in_fifo_order),
		T(test_env_sim_synced_object_survives_crash),
		T(test_env_sim_unsynced_put_vanishes_on_crash),
		T(test_env_sim_crash_discards_pending_work_and_stale_events),
		T(test_env_sim_storage_rejects_bad_names_and_sizes),
		T(test_env_sim_time_and_transport_come_from_the_simulator),
		T(test_env_sim_append_grows_the_object_and_completes),
		T(test_env_sim_append_rejects_growth_past_the_object_size),
		T(test_env_sim_crash_keeps_synced_data_and_a_prefix_of_later_appends),
		T(test_env_sim_never_synced_appends_leave_a_prefix_or_nothing),
		T(test_env_sim_put_since_the_last_sync_reverts_to_the_synced_contents),
		T(test_env_sim_sync_covers_only_operations_accepted_before_it),
		T(test_env_sim_failed_operations_report_eio_and_leave_allowed_contents),
		T(test_env_sim_appends_after_a_failed_append_follow_its_partial_write),
		T(test_env_sim_storage_failures_follow_the_configured_rate),
		T(test_env_sim_storage_history_is_a_function_of_the_seed),
		T(test_env_sim_clock_is_the_simulators_without_skew),
		T(test_env_sim_skewed_clock_is_monotonic_and_within_bounds),
		T(test_env_sim_timer_deadline_maps_to_the_first_instant_the_clock_reaches_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
