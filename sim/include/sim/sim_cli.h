/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The aether-sim command line, as a library function so tests can drive it without a process.
 *
 *   aether-sim [--nodes N] [--seeds A:B | --seed S] [--ops M] [--faults LIST] [--break NAME]
 *              [--clients C] [--keys K] [--period-ms P] [--bound-ms B] [--regress FILE]
 *              [--verbose] [--debug] [--help]
 *
 * --seeds A:B runs seeds A, A+1, ..., B-1; --seed S runs one seed and prints its details (the
 * replay of a failure: same arguments, same seed, same output bit for bit). --faults takes
 * "all", "none" or a comma-separated list of loss,dup,reorder,corrupt,partition,crash,restart,
 * pause. --break runs with a deliberately wrong Rabia rule (nf-fast-path, count-messages): the
 * checkers must then report violations. --regress FILE runs every line of FILE (each line holds
 * arguments as above, '#' starts a comment) in addition to the seeds given.
 *
 * Output (to `out`): one line per failing seed naming the seed, what broke and how to replay it,
 * then "sim: inconclusive=<I> ..." and, LAST, exactly
 *   sim: seeds=<S> nodes=<N> ops=<O> slots=<X> null_slots=<Y> violations=<V> nonlinearizable=<L>
 *   stalls=<T> lost_acked=<W>
 * (one line). Diagnostics (--verbose, --debug, first failures) go to `err`.
 *
 * Exit status: 0 when every counter above (and inconclusive) is 0, 1 otherwise, 2 for bad
 * arguments (one line on `err`).
 */
#ifndef AETHER_SIM_SIM_CLI_H
#define AETHER_SIM_SIM_CLI_H

#include <stdio.h>

/* commit: the source revision to print with failures ("unknown" when not built from git). */
int sim_cli_main(int argc, char **argv, const char *commit, FILE *out, FILE *err);

#endif /* AETHER_SIM_SIM_CLI_H */
