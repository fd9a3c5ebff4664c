/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: env_sim implements the env.h contract with the durability model made exact: synced
 * objects survive a crash, un-synced puts may vanish (always, with keep_unsynced_ppm = 0),
 * operations complete in FIFO order after their delay, stale completions from before a crash are
 * ignored, and time and transport come from the simulator. Method: drive one node's env through
 * the env_ops table only, running the event queue by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
