/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"
#include "sim/sim_fault.h"

#define MS UINT64_C(1000000)

static const char usage[] =
	"usage: aether-sim [--nodes N] [--seeds A:B | --seed S] [--ops M] [--faults LIST]\n"
	"                  [--break NAME] [--clients C] [--keys K] [--value-bytes V]\n"
	"                  [--period-ms P] [--bound-ms B] [--regress FILE] [--verbose]\n"
	"                  [--debug] [--help]\n"
	"\n"
	"Runs a simulated Rabia + KV cluster per seed, with faults, and checks agreement,\n"
	"validity, exactly-once execution, KV digests, linearizability, lost writes, liveness.\n"
	"  --nodes N       replicas (1..7, default 3)\n"
	"  --seeds A:B     seeds A..B-1 (default 0:1)\n"
	"  --seed S        one seed, with details: replays a failure bit for bit\n"
	"  --ops M         client operations per seed (default 1000)\n"
	"  --faults LIST   all | none | a list of: loss, dup, reorder, corrupt, partition,\n"
	"                  crash, restart, pause, storage-fail (puts, appends and syncs fail\n"
	"                  with -EIO, failed appends leave a partial record), clock-skew (each\n"
	"                  node's clock has its own offset and a rate error up to 1 %),\n"
	"                  crash-all (every node crashes at once, then restarts)\n"
	"                  (default all)\n"
	"  --durability D  sync (default: writes answered once a majority has them on disk;\n"
	"                  any number of nodes may crash at once) | replicated (answered once\n"
	"                  decided; at most f nodes crash at once)\n"
	"  --break NAME    a deliberately wrong rule, to see the checkers catch it:\n"
	"                  nf-fast-path | count-messages (Rabia rules);\n"
	"                  local-reads | skip-apply | ack-unlogged | leader-put (shard glue)\n"
	"  --clients C     clients (default 2 per node), --keys K keys (default 4)\n"
	"  --value-bytes V bytes per written value, 8..7000 (default 8): large stores\n"
	"  --period-ms P   fault period (default 300), --bound-ms B liveness bound (2000)\n"
	"  --regress FILE  run each line of FILE (arguments with --seed), after the seeds\n"
	"                  if --seed or --seeds is given\n"
	"  --verbose, --debug   more diagnostics on stderr\n"
	"The last line is: sim: seeds= nodes= ops= slots= null_slots= violations=\n"
	"nonlinearizable= stalls= lost_acked=; exit 0 when all checks pass, 1 when not,\n"
	"2 for bad arguments.\n";

const char *
sim_args_usage(void)
{
	return usage;
}

/* Parses a decimal u64 that is the whole string. */
static int
args_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9') {
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
args_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v;

	if (args_u64(s, &v) != 0 || v < lo || v > hi) {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
args_seeds(const char *s, struct sim_args *a)
{
	const char *colon = s == NULL ? NULL : strchr(s, ':');
	char first[32];

	if (colon == NULL || (size_t)(colon - s) >= sizeof(first)) {
		return -EINVAL;
	}
	memcpy(first, s, (size_t)(colon - s));
	first[colon - s] = '\0';
	if (args_u64(first, &a->seed_first) != 0 || args_u64(colon + 1, &a->seed_end) != 0 ||
	    a->seed_first >= a->seed_end) {
		return -EINVAL;
	}
	return 0;
}

static int
args_fail(char *error, size_t size, const char *opt, const char *val, const char *what)
{
	snprintf(error, size, "%s%s%s: %s", opt, val != NULL ? " " : "", val != NULL ? val : "",
		 what);
	return -EINVAL;
}

/* Options that take a number. Returns 0, -EINVAL, or -ENOENT when opt is not one of them. */
static int
args_number(struct sim_args *a, const char *opt, const char *val)
{
	struct sim_config *c = &a->cfg;
	uint32_t ms;

	if (strcmp(opt, "--nodes") == 0) {
		return args_u32(val, 1, SIM_NODES_MAX, &c->node_count);
	}
	if (strcmp(opt, "--ops") == 0) {
		return args_u32(val, 1, 10000000, &c->op_count);
	}
	if (strcmp(opt, "--clients") == 0) {
		return args_u32(val, 1, SIM_CLIENTS_MAX, &c->client_count);
	}
	if (strcmp(opt, "--keys") == 0) {
		return args_u32(val, 1, SIM_KEYS_MAX, &c->key_count);
	}
	if (strcmp(opt, "--value-bytes") == 0) {
		return args_u32(val, 8, SIM_VALUE_MAX, &c->value_size);
	}
	if (strcmp(opt, "--period-ms") == 0 || strcmp(opt, "--bound-ms") == 0) {
		if (args_u32(val, 1, 3600000, &ms) != 0) {
			return -EINVAL;
		}
		*(opt[2] == 'p' ? &c->fault_period_ns : &c->liveness_bound_ns) = ms * MS;
		return 0;
	}
	if (strcmp(opt, "--seed") == 0) {
		a->is_single = 1;
		a->has_seeds = 1;
		if (args_u64(val, &a->seed_first) != 0 || a->seed_first == UINT64_MAX) {
			return -EINVAL;
		}
		a->seed_end = a->seed_first + 1;
		return 0;
	}
	return -ENOENT;
}

/* One option with a value. Returns 0 or -EINVAL (error filled). */
static int
args_valued(struct sim_args *a, const char *opt, const char *val, char *error, size_t size)
{
	const char *bad;
	int rc;

	if (val == NULL) {
		return args_fail(error, size, opt, NULL, "needs a value");
	}
	rc = args_number(a, opt, val);
	if (rc != -ENOENT) {
		return rc == 0 ? 0 : args_fail(error, size, opt, val, "bad number or out of range");
	}
	if (strcmp(opt, "--seeds") == 0) {
		a->is_single = 0;
		a->has_seeds = 1;
		return args_seeds(val, a) == 0
			       ? 0
			       : args_fail(error, size, opt, val, "expected A:B, A < B");
	}
	if (strcmp(opt, "--faults") == 0) {
		if (sim_fault_parse(val, &a->cfg.fault_mask, &bad) != 0) {
			return args_fail(error, size, opt, val, "unknown fault name");
		}
		return 0;
	}
	if (strcmp(opt, "--break") == 0) {
		if (sim_break_parse(val, &a->cfg.break_rule) != 0) {
			return args_fail(error, size, opt, val,
					 "unknown rule (nf-fast-path, count-messages, local-reads, "
					 "skip-apply, ack-unlogged, leader-put)");
		}
		return 0;
	}
	if (strcmp(opt, "--durability") == 0) {
		if (strcmp(val, "sync") == 0 || strcmp(val, "replicated") == 0) {
			a->cfg.is_replicated = strcmp(val, "replicated") == 0;
			return 0;
		}
		return args_fail(error, size, opt, val, "expected sync or replicated");
	}
	if (strcmp(opt, "--regress") == 0) {
		a->regress_path = val;
		return 0;
	}
	return args_fail(error, size, opt, NULL, "unknown option");
}

static int
args_flag(struct sim_args *a, const char *opt)
{
	if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
		a->is_help = 1;
	} else if (strcmp(opt, "--verbose") == 0 || strcmp(opt, "-v") == 0) {
		a->verbosity = a->verbosity > 1 ? a->verbosity : 1;
	} else if (strcmp(opt, "--debug") == 0) {
		a->verbosity = 2;
	} else {
		return 0;
	}
	return 1;
}

int
sim_args_parse(int argc, char *const *argv, struct sim_args *out, char *error, size_t error_size)
{
	ASSERT(argc >= 0 && (argv != NULL || argc == 0));
	ASSERT(out != NULL && error != NULL && error_size > 0);
	memset(out, 0, sizeof(*out));
	error[0] = '\0';
	out->cfg.node_count = 3;
	out->cfg.op_count = 1000;
	out->cfg.fault_mask = SIM_FAULT_ALL;
	out->seed_first = 0;
	out->seed_end = 1;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (args_flag(out, opt)) {
			continue;
		}
		if (strncmp(opt, "--", 2) != 0) {
			return args_fail(error, error_size, opt, NULL, "unexpected argument");
		}
		if (args_valued(out, opt, i + 1 < argc ? argv[i + 1] : NULL, error, error_size) !=
		    0) {
			return -EINVAL;
		}
		i++;
	}
	return 0;
}

void
sim_args_replay(const struct sim_args *a, uint64_t seed, char *buf, size_t size)
{
	char faults[SIM_FAULT_NAMES_SIZE];
	const struct sim_config *c = &a->cfg;
	int n;

	ASSERT(a != NULL && buf != NULL && size > 0);
	sim_fault_names(c->fault_mask, faults);
	n = snprintf(buf, size, "aether-sim --nodes %u --ops %u --faults %s", c->node_count,
		     c->op_count, faults);
	if (n > 0 && (size_t)n < size && c->break_rule != SIM_BREAK_NONE) {
		n += snprintf(buf + n, size - (size_t)n, " --break %s",
			      sim_break_name(c->break_rule));
	}
	if (n > 0 && (size_t)n < size && c->is_replicated) {
		n += snprintf(buf + n, size - (size_t)n, " --durability replicated");
	}
	if (n > 0 && (size_t)n < size && c->client_count != 0) {
		n += snprintf(buf + n, size - (size_t)n, " --clients %u", c->client_count);
	}
	if (n > 0 && (size_t)n < size && c->key_count != 0) {
		n += snprintf(buf + n, size - (size_t)n, " --keys %u", c->key_count);
	}
	if (n > 0 && (size_t)n < size && c->value_size != 0) {
		n += snprintf(buf + n, size - (size_t)n, " --value-bytes %u", c->value_size);
	}
	if (n > 0 && (size_t)n < size && c->fault_period_ns != 0) {
		n += snprintf(buf + n, size - (size_t)n, " --period-ms %llu",
			      (unsigned long long)(c->fault_period_ns / MS));
	}
	if (n > 0 && (size_t)n < size && c->liveness_bound_ns != 0) {
		n += snprintf(buf + n, size - (size_t)n, " --bound-ms %llu",
			      (unsigned long long)(c->liveness_bound_ns / MS));
	}
	if (n > 0 && (size_t)n < size) {
		snprintf(buf + n, size - (size_t)n, " --seed %llu", (unsigned long long)seed);
	}
}
