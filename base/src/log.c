/* SPDX-License-Identifier: Apache-2.0 */
#include "base/log.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
base_log_init(struct base_log *log, base_log_fn *fn, void *ctx, enum base_log_level max)
{
	ASSERT(log != NULL);
	ASSERT(max <= BASE_LOG_DEBUG);
	log->fn = fn;
	log->ctx = ctx;
	log->level_max = max;
}

void
base_vlogf(const struct base_log *log, enum base_log_level level, const char *fmt, va_list ap)
{
	char line[BASE_LOG_LINE_MAX];
	int n;

	if (log == NULL || log->fn == NULL || level > log->level_max) {
		return;
	}
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0) {
		return;
	}
	if ((size_t)n >= sizeof(line)) {
		memcpy(line + sizeof(line) - 4, "...", 4);
	}
	log->fn(log->ctx, level, line);
}

void
base_logf(const struct base_log *log, enum base_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	base_vlogf(log, level, fmt, ap);
	va_end(ap);
}

const char *
base_log_level_name(enum base_log_level level)
{
	ASSERT(level <= BASE_LOG_DEBUG);
	return level_names[level];
}

int
base_log_level_parse(const char *name, enum base_log_level *out)
{
	ASSERT(name != NULL);
	ASSERT(out != NULL);
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum base_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void
base_log_file_sink(void *ctx, enum base_log_level level, const char *line)
{
	FILE *f = ctx;

	fprintf(f, "%s: %s\n", base_log_level_name(level), line);
	fflush(f);
}
