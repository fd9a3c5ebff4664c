/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aether-sim command line, parsed into a struct (pure; the program in sim/tools/ prints).
 *
 *   aether-sim [--nodes N] [--seeds A:B | --seed S] [--ops M] [--faults LIST] [--break NAME]
 *              [--clients C] [--keys K] [--value-bytes V] [--period-ms P] [--bound-ms B]
 *              [--regress FILE]
 *              [--verbose] [--debug] [--help]
 *
 * --seeds A:B runs seeds A, A+1, ..., B-1 (default 0:1); --seed S runs one seed and prints its
 * details: the replay of a failure (same arguments and seed give the same output, bit for bit).
 * --faults takes "all", "none" or a comma-separated list of loss, dup, reorder, corrupt,
 * partition, crash, restart, pause, storage-fail, clock-skew (default all; sim_fault.h).
 * --break runs with a deliberately wrong rule (nf-fast-path, count-messages, local-reads,
 * skip-apply, ack-unlogged, leader-put) so the checkers can prove they see it. --value-bytes V
 * makes every written value V bytes (8..7000), so stores and their state transfers grow large.
 * --regress FILE runs every line of FILE (arguments as above, with --seed; '#' starts a
 * comment), after the seeds if --seed or --seeds is also given.
 */
#ifndef AETHER_SIM_SIM_ARGS_H
#define AETHER_SIM_SIM_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "sim/sim_world.h"

struct sim_args {
	struct sim_config cfg; /* log is left empty */
	uint64_t seed_first;
	uint64_t seed_end; /* exclusive */
	int is_single;     /* --seed */
	int has_seeds;     /* --seed or --seeds given (else only --regress runs, if given) */
	int is_help;
	int verbosity;            /* 0, 1 (--verbose), 2 (--debug) */
	const char *regress_path; /* borrows argv */
};

/*
 * Parses argv[1..argc) (borrowed: regress_path points into it). Returns 0, or -EINVAL with a
 * one-line message in error (error_size bytes, NUL-terminated). Checks ranges: nodes
 * 1..SIM_NODES_MAX, ops >= 1, A < B, clients and keys within SIM_CLIENTS_MAX / SIM_KEYS_MAX,
 * value bytes 8..SIM_VALUE_MAX.
 */
AE_MUST_CHECK int sim_args_parse(int argc, char *const *argv, struct sim_args *out, char *error,
				 size_t error_size);

/* Writes the command line that replays `seed` under a's configuration (NUL-terminated). */
void sim_args_replay(const struct sim_args *a, uint64_t seed, char *buf, size_t size);

/* The usage text (static). */
const char *sim_args_usage(void);

#endif /* AETHER_SIM_SIM_ARGS_H */
