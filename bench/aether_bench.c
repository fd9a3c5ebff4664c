/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aether-bench: the latency harness. Never part of `meson test` (a smoke test only checks that
 * each subcommand runs and prints its keys). Figures are only meaningful next to the baseline
 * printed with them: absolute times on shared machines drift.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static int
bench_compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t
bench_percentile(uint64_t *samples, size_t count, double p)
{
	size_t index;

	if (count == 0) {
		return 0;
	}
	qsort(samples, count, sizeof(samples[0]), bench_compare_u64);
	/* Nearest rank: the smallest sample with at least p% of samples at or below it. */
	index = (size_t)((p / 100.0) * (double)count + 0.999999);
	index = index == 0 ? 0 : index - 1;
	return samples[index < count ? index : count - 1];
}

static const char usage[] =
	"usage: aether-bench SUBCOMMAND [options]\n"
	"\n"
	"subcommands:\n"
	"  slice      resolve+verify+load+activate and same-lcore call latency of the\n"
	"             example slices, next to raw dlopen of the same file\n"
	"  consensus  KV write commit latency and throughput of a real local cluster\n"
	"             (aetherd processes it starts itself), memif next to kernel UDP\n"
	"\n"
	"`aether-bench SUBCOMMAND --help` describes its options.\n";

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "slice") == 0) {
		return bench_slice_main(argc - 1, argv + 1);
	}
	if (argc >= 2 && strcmp(argv[1], "consensus") == 0) {
		return bench_consensus_main(argc - 1, argv + 1);
	}
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	return 2;
}
