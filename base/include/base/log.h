/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A log sink with levels. Modules never print: they hold a `struct base_log` (a function and
 * its context) and log through it, once per state change, naming the object (`slot=...`).
 * The sink decides where lines go: stderr for tools, a ring buffer for the node, a capture
 * buffer in tests, the simulator's trace.
 *
 * A disabled sink (fn == NULL) drops everything, so pure code can always log.
 * The sink is called synchronously on the caller's thread.
 */
#ifndef AETHER_BASE_LOG_H
#define AETHER_BASE_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "base/compiler.h"

enum base_log_level {
	BASE_LOG_ERROR = 0,
	BASE_LOG_WARN = 1,
	BASE_LOG_INFO = 2,
	BASE_LOG_DEBUG = 3,
};

/* Receives one formatted line without a trailing newline; line is borrowed. */
typedef void base_log_fn(void *ctx, enum base_log_level level, const char *line);

struct base_log {
	base_log_fn *fn;
	void *ctx;
	enum base_log_level level_max; /* lines above this level are dropped before formatting */
};

/* Longest line a sink receives; longer lines are cut and end in "...". */
#define BASE_LOG_LINE_MAX 512

void base_log_init(struct base_log *log, base_log_fn *fn, void *ctx, enum base_log_level max);
void base_logf(const struct base_log *log, enum base_log_level level, const char *fmt, ...)
	AE_PRINTF(3, 4);
void base_vlogf(const struct base_log *log, enum base_log_level level, const char *fmt, va_list ap)
	AE_PRINTF(3, 0);

/* "error", "warn", "info", "debug". */
const char *base_log_level_name(enum base_log_level level);
/* Parses a level name; -EINVAL when unknown. */
AE_MUST_CHECK int base_log_level_parse(const char *name, enum base_log_level *out);

/* A ready sink that writes "<level>: <line>\n" to the FILE * passed as ctx. */
void base_log_file_sink(void *ctx, enum base_log_level level, const char *line);

#endif /* AETHER_BASE_LOG_H */
