/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the slice lifecycle machine accepts exactly the transitions of its table, refuses
 * everything else without changing, fails every operation and hook at exactly its deadline with
 * a readable reason, and never leaves the set of legal states. Method: a fake clock (plain
 * now_ns values), a helper that drives a fresh machine to any state along a legal path, a loop
 * over every (state, request) pair compared with an independently written list of legal pairs,
 * deadline checks one nanosecond before and at each timeout, and a seeded random walk of
 * inputs that checks the invariants after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "slices/lifecycle.h"

#define SEED       0x6c6966656379636cULL
#define WALK_STEPS 200000
#define S          UINT64_C(1000000000)
#define T0         (UINT64_C(1000) * S) /* the clock does not start at zero */

struct fixture {
	struct slice_lifecycle lc;
	struct slice_lifecycle_config cfg;
	uint64_t now_ns;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	slice_lifecycle_config_default(&f->cfg);
	f->now_ns = T0;
	assert_int_equal(slice_lifecycle_init(&f->lc, &f->cfg, f->now_ns), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

/* The legal pairs, written out from java notes 1.B-1 plus the two documented changes. */
static const struct {
	enum slice_state from;
	enum slice_state to;
} legal_pairs[] = {
	{SLICE_STATE_LOAD, SLICE_STATE_LOADING},
	{SLICE_STATE_LOADING, SLICE_STATE_LOADED},
	{SLICE_STATE_LOADING, SLICE_STATE_FAILED},
	{SLICE_STATE_LOADED, SLICE_STATE_ACTIVATE},
	{SLICE_STATE_LOADED, SLICE_STATE_UNLOAD},
	{SLICE_STATE_ACTIVATE, SLICE_STATE_ACTIVATING},
	{SLICE_STATE_ACTIVATING, SLICE_STATE_ACTIVE},
	{SLICE_STATE_ACTIVATING, SLICE_STATE_FAILED},
	{SLICE_STATE_ACTIVE, SLICE_STATE_DEACTIVATE},
	{SLICE_STATE_DEACTIVATE, SLICE_STATE_DEACTIVATING},
	{SLICE_STATE_DEACTIVATING, SLICE_STATE_LOADED},
	{SLICE_STATE_DEACTIVATING, SLICE_STATE_FAILED},
	{SLICE_STATE_UNLOAD, SLICE_STATE_UNLOADING},
	{SLICE_STATE_UNLOADING, SLICE_STATE_FAILED},
	{SLICE_STATE_FAILED, SLICE_STATE_UNLOAD},
};

static int
is_legal_pair(int from, int to)
{
	for (size_t i = 0; i < AE_ARRAY_SIZE(legal_pairs); i++) {
		if ((int)legal_pairs[i].from == from && (int)legal_pairs[i].to == to) {
			return 1;
		}
	}
	return 0;
}

static int
is_operation(int state)
{
	return state == SLICE_STATE_LOADING || state == SLICE_STATE_ACTIVATING ||
	       state == SLICE_STATE_DEACTIVATING || state == SLICE_STATE_UNLOADING;
}

/* Operation states that may run a hook (start in ACTIVATING, stop in the other two). */
static int
has_hook(int state)
{
	return state == SLICE_STATE_ACTIVATING || state == SLICE_STATE_DEACTIVATING ||
	       state == SLICE_STATE_UNLOADING;
}

static void
request(struct fixture *f, enum slice_state to)
{
	assert_int_equal(slice_lifecycle_on_request(&f->lc, to, f->now_ns), 0);
	assert_int_equal(f->lc.state, to);
}

static void
done(struct fixture *f, enum slice_state expect)
{
	assert_int_equal(slice_lifecycle_on_done(&f->lc, f->now_ns), 0);
	assert_int_equal(f->lc.state, expect);
}

/* A fresh machine at f->now_ns, driven along a legal path into target. */
static void
drive_to(struct fixture *f, enum slice_state target)
{
	assert_int_equal(slice_lifecycle_init(&f->lc, &f->cfg, f->now_ns), 0);
	if (target == SLICE_STATE_LOAD) {
		return;
	}
	request(f, SLICE_STATE_LOADING);
	if (target == SLICE_STATE_LOADING) {
		return;
	}
	if (target == SLICE_STATE_FAILED) {
		assert_int_equal(slice_lifecycle_on_fail(&f->lc, f->now_ns, "test"), 0);
		return;
	}
	done(f, SLICE_STATE_LOADED);
	if (target == SLICE_STATE_LOADED) {
		return;
	}
	if (target == SLICE_STATE_UNLOAD || target == SLICE_STATE_UNLOADING) {
		request(f, SLICE_STATE_UNLOAD);
		if (target == SLICE_STATE_UNLOADING) {
			request(f, SLICE_STATE_UNLOADING);
		}
		return;
	}
	static const enum slice_state rest[] = {SLICE_STATE_ACTIVATE, SLICE_STATE_ACTIVATING,
						SLICE_STATE_ACTIVE, SLICE_STATE_DEACTIVATE,
						SLICE_STATE_DEACTIVATING};
	for (size_t i = 0; i < AE_ARRAY_SIZE(rest); i++) {
		request(f, rest[i]);
		if (rest[i] == target) {
			return;
		}
	}
	fail_msg("no path to state %d", (int)target);
}

static void
test_lifecycle_happy_path_runs_load_to_unload(void **state)
{
	struct fixture *f = *state;
	struct slice_lifecycle *lc = &f->lc;

	assert_int_equal(lc->state, SLICE_STATE_LOAD);
	assert_true(slice_lifecycle_deadline_ns(lc) == UINT64_MAX);
	request(f, SLICE_STATE_LOADING);
	assert_true(slice_lifecycle_deadline_ns(lc) == T0 + 120 * S);
	f->now_ns += S;
	done(f, SLICE_STATE_LOADED);
	request(f, SLICE_STATE_ACTIVATE);
	request(f, SLICE_STATE_ACTIVATING);
	f->now_ns += S;
	assert_int_equal(slice_lifecycle_on_hook_begin(lc, f->now_ns), 0);
	assert_true(slice_lifecycle_deadline_ns(lc) == f->now_ns + 5 * S);
	assert_int_equal(slice_lifecycle_on_hook_done(lc, f->now_ns + S, 0, NULL), 0);
	assert_int_equal(lc->state, SLICE_STATE_ACTIVATING);
	f->now_ns += 2 * S;
	done(f, SLICE_STATE_ACTIVE);
	request(f, SLICE_STATE_DEACTIVATE);
	request(f, SLICE_STATE_DEACTIVATING);
	assert_int_equal(slice_lifecycle_on_hook_begin(lc, f->now_ns), 0);
	assert_int_equal(slice_lifecycle_on_hook_done(lc, f->now_ns, 0, NULL), 0);
	done(f, SLICE_STATE_LOADED);
	request(f, SLICE_STATE_UNLOAD);
	request(f, SLICE_STATE_UNLOADING);
	assert_int_equal(lc->is_unloaded, 0);
	done(f, SLICE_STATE_UNLOADING);
	assert_int_equal(lc->is_unloaded, 1);
	assert_int_equal(lc->transition_count, 11);
	assert_string_equal(slice_lifecycle_reason(lc), "");
	assert_true(slice_lifecycle_deadline_ns(lc) == UINT64_MAX);
}

static void
test_lifecycle_transition_table_is_exactly_the_documented_one(void **state)
{
	(void)state;
	for (int from = -1; from <= SLICE_STATE_COUNT + 1; from++) {
		for (int to = -1; to <= SLICE_STATE_COUNT + 1; to++) {
			assert_int_equal(slice_state_transition_is_legal((enum slice_state)from,
									 (enum slice_state)to),
					 is_legal_pair(from, to));
		}
	}
}

static void
test_lifecycle_every_state_accepts_exactly_the_legal_requests(void **state)
{
	struct fixture *f = *state;

	for (int from = 1; from <= SLICE_STATE_COUNT; from++) {
		for (int to = 0; to <= SLICE_STATE_COUNT + 1; to++) {
			struct slice_lifecycle before;
			int want = 0;
			int rc;

			drive_to(f, (enum slice_state)from);
			memcpy(&before, &f->lc, sizeof(before));
			rc = slice_lifecycle_on_request(&f->lc, (enum slice_state)to, f->now_ns);
			if (to == from) {
				want = -EALREADY;
			} else if (!is_legal_pair(from, to) || to == SLICE_STATE_FAILED) {
				want = -EINVAL;
			}
			if (rc != want) {
				print_error("%s -> %d: got %d, want %d\n",
					    slice_state_name((enum slice_state)from), to, rc, want);
			}
			assert_int_equal(rc, want);
			if (rc == 0) {
				assert_int_equal(f->lc.state, to);
				assert_int_equal(f->lc.transition_count,
						 before.transition_count + 1);
			} else {
				assert_memory_equal(&f->lc, &before, sizeof(before));
			}
		}
	}
}

static void
test_lifecycle_completion_failure_and_hook_inputs_are_legal_exactly_in_operations(void **state)
{
	struct fixture *f = *state;

	for (int from = 1; from <= SLICE_STATE_COUNT; from++) {
		struct slice_lifecycle before;
		int op = is_operation(from);

		drive_to(f, (enum slice_state)from);
		memcpy(&before, &f->lc, sizeof(before));
		assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns),
				 has_hook(from) ? 0 : -EINVAL);
		assert_int_equal(f->lc.is_hook_running, has_hook(from));
		memcpy(&f->lc, &before, sizeof(before));
		assert_int_equal(slice_lifecycle_on_hook_done(&f->lc, f->now_ns, 0, NULL), -EINVAL);
		assert_memory_equal(&f->lc, &before, sizeof(before));
		assert_int_equal(slice_lifecycle_on_done(&f->lc, f->now_ns), op ? 0 : -EINVAL);
		if (!op) {
			assert_memory_equal(&f->lc, &before, sizeof(before));
		}
		memcpy(&f->lc, &before, sizeof(before));
		assert_int_equal(slice_lifecycle_on_fail(&f->lc, f->now_ns, "x"), op ? 0 : -EINVAL);
		assert_int_equal(f->lc.state, op ? SLICE_STATE_FAILED : (enum slice_state)from);
		assert_int_equal(op, is_legal_pair(from, SLICE_STATE_FAILED));
		assert_int_equal(op, slice_state_is_operation((enum slice_state)from));
	}
}

static void
test_lifecycle_unload_from_active_requires_deactivate_first(void **state)
{
	struct fixture *f = *state;

	drive_to(f, SLICE_STATE_ACTIVE);
	assert_int_equal(slice_lifecycle_on_request(&f->lc, SLICE_STATE_UNLOAD, f->now_ns),
			 -EINVAL);
	assert_int_equal(f->lc.state, SLICE_STATE_ACTIVE);
	request(f, SLICE_STATE_DEACTIVATE);
	request(f, SLICE_STATE_DEACTIVATING);
	done(f, SLICE_STATE_LOADED);
	request(f, SLICE_STATE_UNLOAD);
}

struct timeout_case {
	enum slice_state state;
	uint64_t timeout_ns;
	const char *reason;
};

static const struct timeout_case op_timeouts[] = {
	{SLICE_STATE_LOADING, 120 * S, "load timed out after 120 s"},
	{SLICE_STATE_ACTIVATING, 60 * S, "activate timed out after 60 s"},
	{SLICE_STATE_DEACTIVATING, 30 * S, "deactivate timed out after 30 s"},
	{SLICE_STATE_UNLOADING, 120 * S, "unload timed out after 120 s"},
};

static void
test_lifecycle_each_operation_fails_exactly_at_its_timeout(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < AE_ARRAY_SIZE(op_timeouts); i++) {
		const struct timeout_case *c = &op_timeouts[i];
		uint64_t start;

		f->now_ns = T0 + i * 1000 * S;
		drive_to(f, c->state);
		start = f->now_ns;
		assert_true(slice_lifecycle_deadline_ns(&f->lc) == start + c->timeout_ns);
		assert_int_equal(slice_lifecycle_on_tick(&f->lc, start + c->timeout_ns - 1), 0);
		assert_int_equal(f->lc.state, c->state);
		assert_string_equal(f->lc.reason, "");
		assert_int_equal(slice_lifecycle_on_tick(&f->lc, start + c->timeout_ns), 1);
		assert_int_equal(f->lc.state, SLICE_STATE_FAILED);
		assert_string_equal(slice_lifecycle_reason(&f->lc), c->reason);
		assert_true(slice_lifecycle_deadline_ns(&f->lc) == UINT64_MAX);
		/* Later ticks change nothing. */
		assert_int_equal(slice_lifecycle_on_tick(&f->lc, start + 10 * c->timeout_ns), 0);
	}
}

static void
test_lifecycle_hooks_fail_at_their_own_timeout(void **state)
{
	static const struct timeout_case hooks[] = {
		{SLICE_STATE_ACTIVATING, 5 * S, "start hook timed out after 5 s"},
		{SLICE_STATE_DEACTIVATING, 5 * S, "stop hook timed out after 5 s"},
		{SLICE_STATE_UNLOADING, 5 * S, "stop hook timed out after 5 s"},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < AE_ARRAY_SIZE(hooks); i++) {
		const struct timeout_case *c = &hooks[i];
		uint64_t begin;

		drive_to(f, c->state);
		begin = f->now_ns + 2 * S;
		assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, begin), 0);
		assert_true(slice_lifecycle_deadline_ns(&f->lc) == begin + c->timeout_ns);
		assert_int_equal(slice_lifecycle_on_tick(&f->lc, begin + c->timeout_ns - 1), 0);
		assert_int_equal(slice_lifecycle_on_tick(&f->lc, begin + c->timeout_ns), 1);
		assert_int_equal(f->lc.state, SLICE_STATE_FAILED);
		assert_int_equal(f->lc.is_hook_running, 0);
		assert_string_equal(f->lc.reason, c->reason);
		f->now_ns = begin + c->timeout_ns;
	}
}

static void
test_lifecycle_operation_deadline_wins_when_it_comes_before_the_hooks(void **state)
{
	struct fixture *f = *state;
	uint64_t start;

	drive_to(f, SLICE_STATE_ACTIVATING);
	start = f->now_ns;
	/* A start hook begun 58 s into a 60 s activation has 2 s left, not 5. */
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, start + 58 * S), 0);
	assert_true(slice_lifecycle_deadline_ns(&f->lc) == start + 60 * S);
	assert_int_equal(slice_lifecycle_on_tick(&f->lc, start + 60 * S), 1);
	assert_string_equal(f->lc.reason, "activate timed out after 60 s");
}

static void
test_lifecycle_late_input_reports_the_timeout_instead(void **state)
{
	struct fixture *f = *state;
	uint64_t start;

	drive_to(f, SLICE_STATE_LOADING);
	start = f->now_ns;
	/* No tick came in between: the done arrives at the deadline and loses to it. */
	assert_int_equal(slice_lifecycle_on_done(&f->lc, start + 120 * S), -ETIMEDOUT);
	assert_int_equal(f->lc.state, SLICE_STATE_FAILED);
	assert_string_equal(f->lc.reason, "load timed out after 120 s");
	/* The next input sees FAILED as usual. */
	f->now_ns = start + 120 * S;
	request(f, SLICE_STATE_UNLOAD);
	assert_string_equal(f->lc.reason, "");

	drive_to(f, SLICE_STATE_DEACTIVATING);
	start = f->now_ns;
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, start), 0);
	assert_int_equal(slice_lifecycle_on_hook_done(&f->lc, start + 5 * S, 0, NULL), -ETIMEDOUT);
	assert_string_equal(f->lc.reason, "stop hook timed out after 5 s");
}

static void
test_lifecycle_failures_carry_their_reason(void **state)
{
	static const struct {
		enum slice_state state;
		int is_hook;
		const char *given;
		const char *reason;
	} cases[] = {
		{SLICE_STATE_LOADING, 0, "checksum mismatch", "load failed: checksum mismatch"},
		{SLICE_STATE_ACTIVATING, 0, "dependency has no endpoint",
		 "activate failed: dependency has no endpoint"},
		{SLICE_STATE_ACTIVATING, 1, "connection refused",
		 "start hook failed: connection refused"},
		{SLICE_STATE_DEACTIVATING, 1, "busy", "stop hook failed: busy"},
		{SLICE_STATE_UNLOADING, 0, "mapping still present",
		 "unload failed: mapping still present"},
		{SLICE_STATE_UNLOADING, 1, NULL, "stop hook failed: no reason given"},
		{SLICE_STATE_LOADING, 0, "", "load failed: no reason given"},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < AE_ARRAY_SIZE(cases); i++) {
		drive_to(f, cases[i].state);
		if (cases[i].is_hook) {
			assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns), 0);
			assert_int_equal(slice_lifecycle_on_hook_done(&f->lc, f->now_ns, -EIO,
								      cases[i].given),
					 0);
		} else {
			assert_int_equal(slice_lifecycle_on_fail(&f->lc, f->now_ns, cases[i].given),
					 0);
		}
		assert_int_equal(f->lc.state, SLICE_STATE_FAILED);
		assert_int_equal(f->lc.is_hook_running, 0);
		assert_string_equal(slice_lifecycle_reason(&f->lc), cases[i].reason);
	}
}

static void
test_lifecycle_reasons_are_bounded_and_printable(void **state)
{
	struct fixture *f = *state;
	char longer[SLICE_LIFECYCLE_REASON_MAX * 2];

	memset(longer, 'r', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	drive_to(f, SLICE_STATE_LOADING);
	assert_int_equal(slice_lifecycle_on_fail(&f->lc, f->now_ns, longer), 0);
	assert_int_equal(strlen(f->lc.reason), SLICE_LIFECYCLE_REASON_MAX);
	assert_memory_equal(f->lc.reason, "load failed: rrr", 16);

	drive_to(f, SLICE_STATE_LOADING);
	assert_int_equal(slice_lifecycle_on_fail(&f->lc, f->now_ns, "bad\x1b[31m\n\xff!"), 0);
	assert_string_equal(f->lc.reason, "load failed: bad?[31m?"
					  "?!");
}

static void
test_lifecycle_operations_cannot_finish_while_a_hook_runs(void **state)
{
	struct fixture *f = *state;

	drive_to(f, SLICE_STATE_ACTIVATING);
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns), 0);
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns), -EBUSY);
	assert_int_equal(slice_lifecycle_on_done(&f->lc, f->now_ns), -EBUSY);
	assert_int_equal(slice_lifecycle_on_request(&f->lc, SLICE_STATE_ACTIVE, f->now_ns), -EBUSY);
	assert_int_equal(f->lc.state, SLICE_STATE_ACTIVATING);
	assert_int_equal(slice_lifecycle_on_hook_done(&f->lc, f->now_ns, 0, NULL), 0);
	assert_int_equal(slice_lifecycle_on_hook_done(&f->lc, f->now_ns, 0, NULL), -EINVAL);
	/* A second hook in the same operation is fine once the first has finished. */
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns), 0);
	assert_int_equal(slice_lifecycle_on_hook_done(&f->lc, f->now_ns, 0, NULL), 0);
	request(f, SLICE_STATE_ACTIVE);
	/* The operation may still fail while its hook runs. */
	drive_to(f, SLICE_STATE_DEACTIVATING);
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns), 0);
	assert_int_equal(slice_lifecycle_on_fail(&f->lc, f->now_ns, "drain failed"), 0);
	assert_int_equal(f->lc.is_hook_running, 0);
	assert_string_equal(f->lc.reason, "deactivate failed: drain failed");
}

static void
test_lifecycle_unloaded_machine_refuses_everything(void **state)
{
	struct fixture *f = *state;
	struct slice_lifecycle before;

	drive_to(f, SLICE_STATE_UNLOADING);
	done(f, SLICE_STATE_UNLOADING);
	memcpy(&before, &f->lc, sizeof(before));
	for (int to = 0; to <= SLICE_STATE_COUNT; to++) {
		assert_int_equal(
			slice_lifecycle_on_request(&f->lc, (enum slice_state)to, f->now_ns),
			-EINVAL);
	}
	assert_int_equal(slice_lifecycle_on_done(&f->lc, f->now_ns), -EINVAL);
	assert_int_equal(slice_lifecycle_on_fail(&f->lc, f->now_ns, "x"), -EINVAL);
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns), -EINVAL);
	assert_int_equal(slice_lifecycle_on_hook_done(&f->lc, f->now_ns, 0, NULL), -EINVAL);
	assert_int_equal(slice_lifecycle_on_tick(&f->lc, f->now_ns + 1000 * S), 0);
	before.now_ns = f->lc.now_ns;
	assert_memory_equal(&f->lc, &before, sizeof(before));
	assert_true(slice_lifecycle_deadline_ns(&f->lc) == UINT64_MAX);
}

static void
test_lifecycle_config_sets_each_timeout(void **state)
{
	struct fixture *f = *state;
	struct slice_lifecycle_config bad;

	assert_true(f->cfg.load_timeout_ns == 120 * S);
	assert_true(f->cfg.activate_timeout_ns == 60 * S);
	assert_true(f->cfg.deactivate_timeout_ns == 30 * S);
	assert_true(f->cfg.unload_timeout_ns == 120 * S);
	assert_true(f->cfg.hook_timeout_ns == 5 * S);
	f->cfg.activate_timeout_ns = 1500000000u;
	f->cfg.hook_timeout_ns = 250000;
	f->cfg.load_timeout_ns = 7;
	drive_to(f, SLICE_STATE_LOADING);
	assert_int_equal(slice_lifecycle_on_tick(&f->lc, f->now_ns + 7), 1);
	assert_string_equal(f->lc.reason, "load timed out after 7 ns");
	f->cfg.load_timeout_ns = S;
	drive_to(f, SLICE_STATE_ACTIVATING);
	assert_int_equal(slice_lifecycle_on_tick(&f->lc, f->now_ns + 1500000000u), 1);
	assert_string_equal(f->lc.reason, "activate timed out after 1500 ms");
	drive_to(f, SLICE_STATE_ACTIVATING);
	assert_int_equal(slice_lifecycle_on_hook_begin(&f->lc, f->now_ns), 0);
	assert_int_equal(slice_lifecycle_on_tick(&f->lc, f->now_ns + 250000), 1);
	assert_string_equal(f->lc.reason, "start hook timed out after 250 us");
	for (int i = 0; i < 5; i++) {
		uint64_t *fields[] = {&bad.load_timeout_ns, &bad.activate_timeout_ns,
				      &bad.deactivate_timeout_ns, &bad.unload_timeout_ns,
				      &bad.hook_timeout_ns};

		slice_lifecycle_config_default(&bad);
		*fields[i] = 0;
		assert_int_equal(slice_lifecycle_init(&f->lc, &bad, 0), -EINVAL);
	}
}

static void
test_lifecycle_state_names_parse_and_format(void **state)
{
	static const char *const names[] = {"LOAD",       "LOADING",   "LOADED",     "ACTIVATE",
					    "ACTIVATING", "ACTIVE",    "DEACTIVATE", "DEACTIVATING",
					    "UNLOAD",     "UNLOADING", "FAILED"};
	static const struct {
		const char *text;
		size_t size;
		int code;
		size_t offset;
	} bad[] = {
		{"", 0, -BASE_ERR_EMPTY, 0},
		{"load", 4, -BASE_ERR_SYNTAX, 0},
		{"Active", 6, -BASE_ERR_SYNTAX, 0},
		{"LOADX", 5, -BASE_ERR_SYNTAX, 0},
		{"LOAD\0", 5, -BASE_ERR_SYNTAX, 0},
		{"LOA", 3, -BASE_ERR_SYNTAX, 0},
		{"DEACTIVATINGX", 13, -BASE_ERR_TOO_LONG, SLICE_STATE_NAME_MAX},
	};
	struct base_parse_error err;
	enum slice_state s;

	(void)state;
	assert_int_equal(AE_ARRAY_SIZE(names), SLICE_STATE_COUNT);
	for (int i = 0; i < SLICE_STATE_COUNT; i++) {
		enum slice_state want = (enum slice_state)(i + 1);

		assert_string_equal(slice_state_name(want), names[i]);
		assert_true(strlen(names[i]) <= SLICE_STATE_NAME_MAX);
		assert_int_equal(slice_state_parse(names[i], strlen(names[i]), &s, &err), 0);
		assert_int_equal(s, want);
		assert_int_equal(slice_state_is_command(want),
				 i == 0 || i == 3 || i == 6 || i == 8);
	}
	assert_null(slice_state_name((enum slice_state)0));
	assert_null(slice_state_name((enum slice_state)(SLICE_STATE_COUNT + 1)));
	for (size_t i = 0; i < AE_ARRAY_SIZE(bad); i++) {
		s = SLICE_STATE_ACTIVE;
		assert_int_equal(slice_state_parse(bad[i].text, bad[i].size, &s, &err),
				 bad[i].code);
		assert_int_equal(err.code, bad[i].code);
		assert_int_equal(err.offset, bad[i].offset);
		assert_non_null(err.what);
		assert_int_equal(s, SLICE_STATE_ACTIVE);
	}
	assert_int_equal(slice_state_parse("load", 4, &s, &err), -BASE_ERR_SYNTAX);
	assert_string_equal(err.what, "slice state names are upper case");
}

/* Invariants that hold after every input, whatever it was. */
static void
check_invariants(const struct slice_lifecycle *lc, uint64_t seed, long step)
{
	int ok = lc->state >= SLICE_STATE_LOAD && lc->state <= SLICE_STATE_FAILED;

	ok = ok && (!lc->is_hook_running || has_hook((int)lc->state));
	ok = ok && ((lc->reason[0] != '\0') == (lc->state == SLICE_STATE_FAILED));
	ok = ok && (!lc->is_unloaded || lc->state == SLICE_STATE_UNLOADING);
	/* An armed deadline always lies ahead: a passed one would have fired. */
	ok = ok && (slice_lifecycle_deadline_ns(lc) > lc->now_ns);
	ok = ok && (slice_lifecycle_deadline_ns(lc) == UINT64_MAX) ==
			   (lc->is_unloaded || !is_operation((int)lc->state));
	if (!ok) {
		fail_msg("seed %#llx step %ld: state %d hook %d reason '%s' unloaded %d",
			 (unsigned long long)seed, step, (int)lc->state, lc->is_hook_running,
			 lc->reason, lc->is_unloaded);
	}
}

/* One random input; returns its code. Time mostly creeps, sometimes jumps past deadlines. */
static int
random_input(struct fixture *f, struct base_prng *prng)
{
	uint64_t advance = base_prng_chance(prng, 20000) ? base_prng_below(prng, 200 * S)
							 : base_prng_below(prng, S / 10);

	f->now_ns += advance;
	switch (base_prng_below(prng, 7)) {
	case 0:
	case 1:
		return slice_lifecycle_on_request(
			&f->lc, (enum slice_state)(1 + base_prng_below(prng, SLICE_STATE_COUNT)),
			f->now_ns);
	case 2:
		return slice_lifecycle_on_done(&f->lc, f->now_ns);
	case 3:
		return base_prng_chance(prng, 100000)
			       ? slice_lifecycle_on_fail(&f->lc, f->now_ns, "random failure")
			       : slice_lifecycle_on_tick(&f->lc, f->now_ns);
	case 4:
		return slice_lifecycle_on_hook_begin(&f->lc, f->now_ns);
	case 5:
		return slice_lifecycle_on_hook_done(&f->lc, f->now_ns,
						    base_prng_chance(prng, 100000) ? -EIO : 0,
						    "random hook failure");
	default:
		return slice_lifecycle_on_tick(&f->lc, f->now_ns);
	}
}

static void
test_lifecycle_random_inputs_keep_the_machine_in_legal_states(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;
	int seen[SLICE_STATE_COUNT + 1] = {0};

	base_prng_init(&prng, SEED);
	drive_to(f, SLICE_STATE_LOAD);
	for (long step = 0; step < WALK_STEPS; step++) {
		struct slice_lifecycle before;
		int rc;

		/* Whole-struct copies, padding included, so refused inputs compare as bytes. */
		memcpy(&before, &f->lc, sizeof(before));
		rc = random_input(f, &prng);

		check_invariants(&f->lc, SEED, step);
		if (f->lc.state != before.state) {
			/* Every change follows the table; FAILED only from an operation. */
			if (!is_legal_pair((int)before.state, (int)f->lc.state)) {
				fail_msg("seed %#llx step %ld: illegal %s -> %s",
					 (unsigned long long)SEED, step,
					 slice_state_name(before.state),
					 slice_state_name(f->lc.state));
			}
			assert_int_equal(f->lc.transition_count, before.transition_count + 1);
		}
		if (rc < 0 && rc != -ETIMEDOUT) {
			/* A refused input changes nothing but the clock. */
			before.now_ns = f->lc.now_ns;
			assert_memory_equal(&f->lc, &before, sizeof(before));
		}
		seen[f->lc.state]++;
		if (f->lc.is_unloaded) {
			drive_to(f, SLICE_STATE_LOAD);
		}
	}
	/* The walk reached every state, so the invariants were checked in each. */
	for (int s = 1; s <= SLICE_STATE_COUNT; s++) {
		assert_true(seen[s] > 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		CASE(test_lifecycle_happy_path_runs_load_to_unload),
		CASE(test_lifecycle_transition_table_is_exactly_the_documented_one),
		CASE(test_lifecycle_every_state_accepts_exactly_the_legal_requests),
		CASE(test_lifecycle_completion_failure_and_hook_inputs_are_legal_exactly_in_operations),
		CASE(test_lifecycle_unload_from_active_requires_deactivate_first),
		CASE(test_lifecycle_each_operation_fails_exactly_at_its_timeout),
		CASE(test_lifecycle_hooks_fail_at_their_own_timeout),
		CASE(test_lifecycle_operation_deadline_wins_when_it_comes_before_the_hooks),
		CASE(test_lifecycle_late_input_reports_the_timeout_instead),
		CASE(test_lifecycle_failures_carry_their_reason),
		CASE(test_lifecycle_reasons_are_bounded_and_printable),
		CASE(test_lifecycle_operations_cannot_finish_while_a_hook_runs),
		CASE(test_lifecycle_unloaded_machine_refuses_everything),
		CASE(test_lifecycle_config_sets_each_timeout),
		CASE(test_lifecycle_state_names_parse_and_format),
		CASE(test_lifecycle_random_inputs_keep_the_machine_in_legal_states),
#undef CASE
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
