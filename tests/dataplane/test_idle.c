/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the idle policy spins, then yields, then sleeps with a doubling step capped at its
 * bound, starts over after any work, and rejects inconsistent bounds; the run loop applies it
 * and ends exactly as its poll function asks. Method: step the pure policy call by call; run
 * dp_run with a policy that never sleeps and a counting poll function (no hwloc pinning).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dataplane/idle.h"
#include "dataplane/run.h"

struct fixture {
	struct dp_idle_config cfg;
	struct dp_idle idle;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.cfg = (struct dp_idle_config){
		.spin_polls = 3, .yield_polls = 2, .sleep_ns_min = 3, .sleep_ns_max = 10};
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return 0;
}

static void
assert_next(struct dp_idle *idle, bool did_work, enum dp_idle_action want, uint64_t want_ns)
{
	uint64_t ns = 12345;

	assert_int_equal(dp_idle_next(idle, did_work, &ns), want);
	assert_true(ns == want_ns);
}

static void
test_idle_spins_then_yields_then_sleeps_doubling_to_the_bound(void **state)
{
	struct fixture *f = *state;

	dp_idle_init(&f->idle, &f->cfg);
	for (int i = 0; i < 3; i++) {
		assert_next(&f->idle, false, DP_IDLE_SPIN, 0);
	}
	assert_next(&f->idle, false, DP_IDLE_YIELD, 0);
	assert_next(&f->idle, false, DP_IDLE_YIELD, 0);
	assert_next(&f->idle, false, DP_IDLE_SLEEP, 3);
	assert_next(&f->idle, false, DP_IDLE_SLEEP, 6);
	assert_next(&f->idle, false, DP_IDLE_SLEEP, 10);
	assert_next(&f->idle, false, DP_IDLE_SLEEP, 10);
}

static void
test_idle_work_starts_the_policy_over(void **state)
{
	struct fixture *f = *state;

	dp_idle_init(&f->idle, &f->cfg);
	for (int i = 0; i < 8; i++) {
		uint64_t ns;
		(void)dp_idle_next(&f->idle, false, &ns);
	}
	assert_next(&f->idle, true, DP_IDLE_SPIN, 0);
	for (int i = 0; i < 3; i++) {
		assert_next(&f->idle, false, DP_IDLE_SPIN, 0);
	}
	assert_next(&f->idle, false, DP_IDLE_YIELD, 0);
	assert_next(&f->idle, false, DP_IDLE_YIELD, 0);
	assert_next(&f->idle, false, DP_IDLE_SLEEP, 3); /* the sleep step restarted too */
}

static void
test_idle_without_sleep_bound_yields_forever(void **state)
{
	struct fixture *f = *state;

	f->cfg.sleep_ns_max = 0;
	f->cfg.sleep_ns_min = 0;
	dp_idle_init(&f->idle, &f->cfg);
	for (int i = 0; i < 3; i++) {
		assert_next(&f->idle, false, DP_IDLE_SPIN, 0);
	}
	for (int i = 0; i < 1000; i++) {
		assert_next(&f->idle, false, DP_IDLE_YIELD, 0);
	}
}

static void
test_idle_without_spins_or_yields_sleeps_at_once(void **state)
{
	struct fixture *f = *state;

	f->cfg.spin_polls = 0;
	f->cfg.yield_polls = 0;
	dp_idle_init(&f->idle, &f->cfg);
	assert_next(&f->idle, false, DP_IDLE_SLEEP, 3);
	assert_next(&f->idle, true, DP_IDLE_SPIN, 0);
	assert_next(&f->idle, false, DP_IDLE_SLEEP, 3);
}

static void
test_idle_config_check_rejects_inconsistent_bounds(void **state)
{
	struct dp_idle_config c;

	(void)state;
	dp_idle_config_default(&c);
	assert_int_equal(dp_idle_config_check(&c), 0);
	c.sleep_ns_min = 0;
	assert_int_equal(dp_idle_config_check(&c), -EINVAL);
	dp_idle_config_default(&c);
	c.sleep_ns_min = c.sleep_ns_max + 1;
	assert_int_equal(dp_idle_config_check(&c), -EINVAL);
	dp_idle_config_default(&c);
	c.sleep_ns_max = DP_IDLE_SLEEP_NS_MAX + 1;
	assert_int_equal(dp_idle_config_check(&c), -EINVAL);
}

struct counter {
	int polls;
	int stop_after;
	int stop_code;
	uint64_t last_now;
	bool time_went_back;
};

/* Reports work on every other poll and stops after stop_after polls. */
static int
counting_poll(void *ctx, uint64_t now_ns)
{
	struct counter *c = ctx;

	c->time_went_back |= now_ns < c->last_now;
	c->last_now = now_ns;
	if (++c->polls == c->stop_after) {
		return c->stop_code;
	}
	return c->polls % 2;
}

static void
test_run_loop_polls_until_asked_to_stop(void **state)
{
	struct dp_run_config cfg;
	struct dp_run_stats stats;
	struct counter c = {.stop_after = 100, .stop_code = DP_RUN_STOP};

	(void)state;
	dp_run_config_default(&cfg);
	cfg.idle = (struct dp_idle_config){.spin_polls = 0, .yield_polls = 5};
	assert_int_equal(dp_run(&cfg, counting_poll, &c, &stats), 0);
	assert_int_equal(c.polls, 100);
	assert_false(c.time_went_back);
	assert_int_equal(stats.poll_count, 100);
	assert_int_equal(stats.busy_count, 50);  /* the odd polls 1 .. 99 */
	assert_int_equal(stats.yield_count, 49); /* the even polls 2 .. 98; poll 100 stopped */
	assert_int_equal(stats.sleep_count, 0);
}

static void
test_run_loop_returns_the_poll_error_and_rejects_bad_policy(void **state)
{
	struct dp_run_config cfg;
	struct counter c = {.stop_after = 3, .stop_code = -EIO};

	(void)state;
	dp_run_config_default(&cfg);
	cfg.idle.sleep_ns_max = 0;
	cfg.idle.sleep_ns_min = 0;
	assert_int_equal(dp_run(&cfg, counting_poll, &c, NULL), -EIO);
	cfg.idle.sleep_ns_max = DP_IDLE_SLEEP_NS_MAX + 1;
	c.polls = 0;
	assert_int_equal(dp_run(&cfg, counting_poll, &c, NULL), -EINVAL);
	assert_int_equal(c.polls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_idle_spins_then_yields_then_sleeps_doubling_to_the_bound, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_idle_work_starts_the_policy_over, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_without_sleep_bound_yields_forever, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_without_spins_or_yields_sleeps_at_once,
						setup, teardown),
		cmocka_unit_test(test_idle_config_check_rejects_inconsistent_bounds),
		cmocka_unit_test(test_run_loop_polls_until_asked_to_stop),
		cmocka_unit_test(test_run_loop_returns_the_poll_error_and_rejects_bad_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
