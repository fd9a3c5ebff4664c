/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the aether-sim command line parses into exactly the configuration it names, rejects
 * every malformed argument with a one-line message, and the replay command it prints for a
 * failure parses back to the same configuration and seed. Method: fixed argument vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "sim/sim_args.h"
#include "sim/sim_fault.h"

#define ARGV(...) ((char *[]){"aether-sim", __VA_ARGS__})
#define ARGC(...) ((int)(sizeof((char *[]){"aether-sim", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(a, err, ...) \
	sim_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err), sizeof(err))

static void
test_sim_args_defaults_are_three_nodes_all_faults_seed_zero(void **state)
{
	struct sim_args a;
	char err[128];
	char *argv[] = {"aether-sim"};

	(void)state;
	assert_int_equal(sim_args_parse(1, argv, &a, err, sizeof(err)), 0);
	assert_int_equal(a.cfg.node_count, 3);
	assert_int_equal(a.cfg.op_count, 1000);
	assert_int_equal(a.cfg.fault_mask, SIM_FAULT_ALL);
	assert_int_equal(a.cfg.break_rule, SIM_BREAK_NONE);
	assert_int_equal(a.seed_first, 0);
	assert_int_equal(a.seed_end, 1);
	assert_false(a.has_seeds);
	assert_false(a.is_single);
}

static void
test_sim_args_parse_every_option(void **state)
{
	struct sim_args a;
	char err[128];

	(void)state;
	assert_int_equal(PARSE(&a, err, "--nodes", "5", "--seeds", "10:20", "--ops", "77",
			       "--faults", "loss,crash", "--break", "skip-apply", "--clients", "9",
			       "--keys", "6", "--period-ms", "50", "--bound-ms", "900", "--regress",
			       "x.txt", "--value-bytes", "700", "--debug"),
			 0);
	assert_int_equal(a.cfg.node_count, 5);
	assert_int_equal(a.seed_first, 10);
	assert_int_equal(a.seed_end, 20);
	assert_int_equal(a.cfg.op_count, 77);
	assert_int_equal(a.cfg.fault_mask, SIM_FAULT_LOSS | SIM_FAULT_CRASH);
	assert_int_equal(a.cfg.break_rule, SIM_BREAK_SKIP_APPLY);
	assert_int_equal(a.cfg.client_count, 9);
	assert_int_equal(a.cfg.key_count, 6);
	assert_int_equal(a.cfg.value_size, 700);
	assert_true(a.cfg.fault_period_ns == 50 * UINT64_C(1000000));
	assert_true(a.cfg.liveness_bound_ns == 900 * UINT64_C(1000000));
	assert_string_equal(a.regress_path, "x.txt");
	assert_int_equal(a.verbosity, 2);
	assert_true(a.has_seeds);
}

static void
test_sim_args_single_seed_runs_just_that_seed(void **state)
{
	struct sim_args a;
	char err[128];

	(void)state;
	assert_int_equal(PARSE(&a, err, "--seed", "123456789012"), 0);
	assert_true(a.is_single);
	assert_true(a.seed_first == UINT64_C(123456789012));
	assert_true(a.seed_end == UINT64_C(123456789013));
}

static void
assert_rejected(int rc, const char *err, const char *mention)
{
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(err, mention));
	assert_null(strchr(err, '\n'));
}

static void
test_sim_args_reject_malformed_arguments(void **state)
{
	struct sim_args a;
	char err[128];

	(void)state;
	assert_rejected(PARSE(&a, err, "--nodes", "0"), err, "--nodes 0");
	assert_rejected(PARSE(&a, err, "--nodes", "8"), err, "--nodes 8");
	assert_rejected(PARSE(&a, err, "--nodes", "3x"), err, "--nodes");
	assert_rejected(PARSE(&a, err, "--nodes", "-3"), err, "--nodes");
	assert_rejected(PARSE(&a, err, "--ops", "0"), err, "--ops");
	assert_rejected(PARSE(&a, err, "--seeds", "5:5"), err, "A < B");
	assert_rejected(PARSE(&a, err, "--seeds", "9"), err, "--seeds");
	assert_rejected(PARSE(&a, err, "--seeds", "a:b"), err, "--seeds");
	assert_rejected(PARSE(&a, err, "--seed", "99999999999999999999999"), err, "--seed");
	assert_rejected(PARSE(&a, err, "--faults", "loss,fire"), err, "unknown fault");
	assert_rejected(PARSE(&a, err, "--break", "everything"), err, "unknown rule");
	assert_rejected(PARSE(&a, err, "--keys", "65"), err, "--keys");
	assert_rejected(PARSE(&a, err, "--value-bytes", "7"), err, "--value-bytes");
	assert_rejected(PARSE(&a, err, "--value-bytes", "7001"), err, "--value-bytes");
	assert_rejected(PARSE(&a, err, "--frobnicate", "1"), err, "unknown option");
	assert_rejected(PARSE(&a, err, "--ops"), err, "needs a value");
	assert_rejected(PARSE(&a, err, "17"), err, "unexpected argument");
}

static void
test_sim_args_help_flag_is_recognised(void **state)
{
	struct sim_args a;
	char err[128];

	(void)state;
	assert_int_equal(PARSE(&a, err, "--help"), 0);
	assert_true(a.is_help);
	assert_non_null(strstr(sim_args_usage(), "--faults"));
}

/* Splits a replay command line into argv at single spaces (in place) and parses it. */
static void
parse_line(char *line, struct sim_args *a)
{
	char *argv[32];
	int argc = 0;
	char err[128];

	for (char *p = line; p != NULL && argc < 32;) {
		argv[argc++] = p;
		p = strchr(p, ' ');
		if (p != NULL) {
			*p++ = '\0';
		}
	}
	assert_int_equal(sim_args_parse(argc, argv, a, err, sizeof(err)), 0);
}

static void
test_sim_args_replay_line_parses_back_to_the_same_run(void **state)
{
	struct sim_args a;
	struct sim_args b;
	char err[128];
	char line[512];

	(void)state;
	assert_int_equal(PARSE(&a, err, "--nodes", "5", "--seeds", "0:100", "--ops", "300",
			       "--faults", "dup,pause", "--break", "leader-put", "--keys", "3",
			       "--value-bytes", "64"),
			 0);
	sim_args_replay(&a, 42, line, sizeof(line));
	assert_non_null(strstr(line, "--seed 42"));
	parse_line(line, &b);
	assert_memory_equal(&a.cfg, &b.cfg, sizeof(a.cfg));
	assert_true(b.is_single && b.seed_first == 42);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_args_defaults_are_three_nodes_all_faults_seed_zero),
		cmocka_unit_test(test_sim_args_parse_every_option),
		cmocka_unit_test(test_sim_args_single_seed_runs_just_that_seed),
		cmocka_unit_test(test_sim_args_reject_malformed_arguments),
		cmocka_unit_test(test_sim_args_help_flag_is_recognised),
		cmocka_unit_test(test_sim_args_replay_line_parses_back_to_the_same_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
