/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aetherd's log sink: one line per event on stderr, with wall-clock time (operators compare
 * logs of several nodes) and the node id (cluster.sh may merge them).
 */
#include "aetherd_int.h"

#include <stdio.h>
#include <time.h>

#include "base/panic.h"

static void
log_sink(void *ctx, enum base_log_level level, const char *line)
{
	const struct node_log *l = ctx;
	struct timespec ts = {0, 0};
	struct tm tm;
	char stamp[32] = "?";

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm) != NULL) {
		(void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	fprintf(stderr, "%s.%03ldZ aetherd[%u] %s: %s\n", stamp, ts.tv_nsec / 1000000L,
		(unsigned)l->node_id, base_log_level_name(level), line);
	/* stderr is unbuffered, but a redirect may make it a pipe: keep lines whole and prompt. */
	(void)fflush(stderr);
}

void
node_log_init(struct node_log *l, uint32_t node_id, enum base_log_level level)
{
	ASSERT(l != NULL);
	ASSERT(level <= BASE_LOG_DEBUG);
	l->node_id = node_id;
	base_log_init(&l->log, log_sink, l, level);
}
