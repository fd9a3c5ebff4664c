/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aether-bench subcommands (ARCHITECTURE.md section 9): each measures one path and prints its
 * percentiles next to a baseline measured in the same run, as text or as one JSON object.
 */
#ifndef AETHER_BENCH_BENCH_H
#define AETHER_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* The p-th percentile (0..100) of samples[0..count), which it sorts in place. */
uint64_t bench_percentile(uint64_t *samples, size_t count, double p);

/* `aether-bench slice ...`: argc/argv start after the subcommand. Returns the exit status. */
int bench_slice_main(int argc, char **argv);

#endif /* AETHER_BENCH_BENCH_H */
