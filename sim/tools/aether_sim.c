/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aether-sim: runs the deterministic simulator over a range of seeds and reports every failure
 * with its seed, the commit and the command that replays it (sim/README.md). This file is the
 * only part of sim/ that prints; it reads the regression file with stdio and nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "sim/sim_args.h"
#include "sim/sim_fault.h"
#include "sim/sim_world.h"
#include "sim_commit.h"

#define MS               UINT64_C(1000000)
#define REGRESS_ARGS_MAX 32
#define REGRESS_LINE_MAX 512

struct totals {
	uint64_t seeds;
	uint64_t failed_seeds;
	uint64_t ops;
	uint64_t ops_ok;
	uint64_t ops_pending;
	uint64_t slots;
	uint64_t null_slots;
	uint64_t violations;
	uint64_t nonlinearizable;
	uint64_t inconclusive;
	uint64_t stalls;
	uint64_t lost_acked;
	uint64_t crashes;
	uint64_t crashes_skipped;
	uint64_t epoch_changes;
	uint64_t restarts;
	uint64_t transfers;
	uint64_t leader_terms; /* summed over seeds */
	uint64_t transfer_chunks;
	uint64_t phase_max;
	uint64_t rejected;
	uint32_t node_mask; /* node counts seen, bit n */
};

static int
result_failed(const struct sim_result *r)
{
	return r->violations + r->nonlinearizable + r->inconclusive + r->stalls + r->lost_acked > 0;
}

static void
totals_add(struct totals *t, const struct sim_result *r, uint32_t nodes)
{
	t->seeds++;
	t->failed_seeds += (uint64_t)result_failed(r);
	t->ops += r->ops_invoked;
	t->ops_ok += r->ops_ok;
	t->ops_pending += r->ops_pending;
	t->slots += r->slots;
	t->null_slots += r->null_slots;
	t->violations += r->violations;
	t->nonlinearizable += r->nonlinearizable;
	t->inconclusive += r->inconclusive;
	t->stalls += r->stalls;
	t->lost_acked += r->lost_acked;
	t->crashes += r->crashes;
	t->crashes_skipped += r->crashes_skipped;
	t->epoch_changes += r->epoch_changes;
	t->restarts += r->restarts;
	t->transfers += r->transfers;
	t->leader_terms += r->leader_terms;
	t->transfer_chunks += r->transfer_chunks;
	t->phase_max = r->phase_max > t->phase_max ? r->phase_max : t->phase_max;
	t->rejected += r->net.rejected_count;
	t->node_mask |= 1u << nodes;
}

static void
print_details(const struct sim_args *a, const struct sim_result *r)
{
	const struct sim_net_stats *n = &r->net;

	printf("sim: seed=%llu trace=%016llx events=%llu end_ms=%llu ops=%llu ok=%llu "
	       "pending=%llu slots=%llu null_slots=%llu phase_max=%llu\n",
	       (unsigned long long)r->seed, (unsigned long long)r->trace_digest,
	       (unsigned long long)r->events, (unsigned long long)(r->end_ns / MS),
	       (unsigned long long)r->ops_invoked, (unsigned long long)r->ops_ok,
	       (unsigned long long)r->ops_pending, (unsigned long long)r->slots,
	       (unsigned long long)r->null_slots, (unsigned long long)r->phase_max);
	printf("sim: seed=%llu net sent=%llu delivered=%llu lost=%llu dup=%llu corrupted=%llu "
	       "rejected=%llu partition_drops=%llu down_drops=%llu full_drops=%llu tail=%llu "
	       "crashes=%llu restarts=%llu transfers=%llu chunks=%llu leader_terms=%llu nodes=%u\n",
	       (unsigned long long)r->seed, (unsigned long long)n->sent_count,
	       (unsigned long long)n->delivered_count, (unsigned long long)n->lost_count,
	       (unsigned long long)n->duplicated_count, (unsigned long long)n->corrupted_count,
	       (unsigned long long)n->rejected_count, (unsigned long long)n->partition_drop_count,
	       (unsigned long long)n->down_drop_count, (unsigned long long)n->full_drop_count,
	       (unsigned long long)n->tail_count, (unsigned long long)r->crashes,
	       (unsigned long long)r->restarts, (unsigned long long)r->transfers,
	       (unsigned long long)r->transfer_chunks, (unsigned long long)r->leader_terms,
	       a->cfg.node_count);
}

static void
print_failure(const struct sim_args *a, const struct sim_result *r)
{
	char replay[512];

	sim_args_replay(a, r->seed, replay, sizeof(replay));
	printf("sim: FAIL seed=%llu nodes=%u commit=%s violations=%llu nonlinearizable=%llu "
	       "inconclusive=%llu stalls=%llu lost_acked=%llu: %s\n",
	       (unsigned long long)r->seed, a->cfg.node_count, SIM_COMMIT,
	       (unsigned long long)r->violations, (unsigned long long)r->nonlinearizable,
	       (unsigned long long)r->inconclusive, (unsigned long long)r->stalls,
	       (unsigned long long)r->lost_acked, r->failure);
	printf("sim: replay: %s\n", replay);
}

/* Runs every seed of one configuration. Returns 0, or 2 when the world cannot be built. */
static int
run_config(const struct sim_args *a, struct totals *t)
{
	struct sim_config cfg = a->cfg;
	struct sim_world *w;
	int rc;

	base_log_init(&cfg.log, base_log_file_sink, stderr,
		      a->verbosity >= 2   ? BASE_LOG_DEBUG
		      : a->verbosity == 1 ? BASE_LOG_INFO
					  : BASE_LOG_ERROR);
	rc = sim_world_create(&cfg, &w);
	if (rc == -ENOTSUP) {
		fprintf(stderr,
			"aether-sim: --break %s: the linked Rabia has no test hook for this rule "
			"(struct rabia_cfg needs break_rules)\n",
			sim_break_name(cfg.break_rule));
		return 2;
	}
	if (rc != 0) {
		fprintf(stderr, "aether-sim: cannot build the simulated world: %s\n",
			base_strerror(rc));
		return 2;
	}
	for (uint64_t seed = a->seed_first; seed < a->seed_end; seed++) {
		struct sim_result r;

		sim_world_run(w, seed, &r);
		totals_add(t, &r, cfg.node_count);
		if (a->is_single || a->verbosity > 0) {
			print_details(a, &r);
		}
		if (result_failed(&r)) {
			print_failure(a, &r);
		}
		fflush(stdout);
	}
	sim_world_destroy(w);
	return 0;
}

/* Splits line into whitespace-separated words (in place); returns the count. */
static int
split_words(char *line, char **argv, int max)
{
	int argc = 1; /* argv[0] is the program name */

	for (char *p = line; *p != '\0' && argc < max;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			*p++ = '\0';
		}
		if (*p == '\0' || *p == '#') {
			*p = '\0';
			break;
		}
		argv[argc++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			p++;
		}
	}
	return argc;
}

/* Runs each line of the regression file. Returns 0, or 2 for a bad file or line. */
static int
run_regress(const char *path, int verbosity, struct totals *t)
{
	char line[REGRESS_LINE_MAX];
	char error[256];
	FILE *f = fopen(path, "r");
	int lineno = 0;
	int rc = 0;

	if (f == NULL) {
		fprintf(stderr, "aether-sim: --regress %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *argv[REGRESS_ARGS_MAX] = {"aether-sim"};
		int argc = split_words(line, argv, REGRESS_ARGS_MAX);
		struct sim_args a;

		lineno++;
		if (argc == 1) {
			continue;
		}
		if (sim_args_parse(argc, argv, &a, error, sizeof(error)) != 0 || !a.is_single ||
		    a.regress_path != NULL) {
			fprintf(stderr, "aether-sim: %s:%d: %s\n", path, lineno,
				error[0] != '\0' ? error
						 : "each line needs --seed and no --regress");
			rc = 2;
			break;
		}
		a.verbosity = verbosity;
		rc = run_config(&a, t);
	}
	fclose(f);
	return rc;
}

static void
print_summary(const struct totals *t)
{
	char nodes[64] = "";
	size_t at = 0;

	for (uint32_t n = 1; n <= SIM_NODES_MAX; n++) {
		if ((t->node_mask & (1u << n)) != 0 && at + 4 < sizeof(nodes)) {
			at += (size_t)snprintf(nodes + at, sizeof(nodes) - at, "%s%u",
					       at ? "," : "", n);
		}
	}
	printf("sim: failed_seeds=%llu inconclusive=%llu ops_ok=%llu ops_pending=%llu crashes=%llu "
	       "crashes_skipped=%llu epoch_changes=%llu restarts=%llu transfers=%llu chunks=%llu "
	       "leader_terms=%llu "
	       "rejected_corrupt=%llu phase_max=%llu commit=%s\n",
	       (unsigned long long)t->failed_seeds, (unsigned long long)t->inconclusive,
	       (unsigned long long)t->ops_ok, (unsigned long long)t->ops_pending,
	       (unsigned long long)t->crashes, (unsigned long long)t->crashes_skipped,
	       (unsigned long long)t->epoch_changes, (unsigned long long)t->restarts,
	       (unsigned long long)t->transfers, (unsigned long long)t->transfer_chunks,
	       (unsigned long long)t->leader_terms, (unsigned long long)t->rejected,
	       (unsigned long long)t->phase_max, SIM_COMMIT);
	printf("sim: seeds=%llu nodes=%s ops=%llu slots=%llu null_slots=%llu violations=%llu "
	       "nonlinearizable=%llu stalls=%llu lost_acked=%llu\n",
	       (unsigned long long)t->seeds, at > 0 ? nodes : "0", (unsigned long long)t->ops,
	       (unsigned long long)t->slots, (unsigned long long)t->null_slots,
	       (unsigned long long)t->violations, (unsigned long long)t->nonlinearizable,
	       (unsigned long long)t->stalls, (unsigned long long)t->lost_acked);
}

int
main(int argc, char **argv)
{
	struct totals t;
	struct sim_args a;
	char error[256];
	int rc;

	memset(&t, 0, sizeof(t));
	if (sim_args_parse(argc, argv, &a, error, sizeof(error)) != 0) {
		fprintf(stderr, "aether-sim: %s (try --help)\n", error);
		return 2;
	}
	if (a.is_help) {
		fputs(sim_args_usage(), stdout);
		return 0;
	}
	rc = a.has_seeds || a.regress_path == NULL ? run_config(&a, &t) : 0;
	if (rc == 0 && a.regress_path != NULL) {
		rc = run_regress(a.regress_path, a.verbosity, &t);
	}
	if (rc != 0) {
		return rc;
	}
	print_summary(&t);
	return t.violations + t.nonlinearizable + t.inconclusive + t.stalls + t.lost_acked > 0;
}
