/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: a log sink sees exactly the lines at or below its level, each bounded by
 * BASE_LOG_LINE_MAX with a visible "..." when cut, and a disabled sink is a safe no-op. Method:
 * a capture sink that records every line, lines at and around the length limit, and the file
 * sink writing into a memory stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

#define CAPTURE_MAX 8

struct fixture {
	struct base_log log;
	size_t count;
	enum base_log_level levels[CAPTURE_MAX];
	char lines[CAPTURE_MAX][BASE_LOG_LINE_MAX];
};

static void
capture_sink(void *ctx, enum base_log_level level, const char *line)
{
	struct fixture *f = ctx;

	assert_true(f->count < CAPTURE_MAX);
	/* The contract: the sink never receives more than BASE_LOG_LINE_MAX - 1 characters. */
	assert_true(strlen(line) < BASE_LOG_LINE_MAX);
	f->levels[f->count] = level;
	memcpy(f->lines[f->count], line, strlen(line) + 1);
	f->count++;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	base_log_init(&f->log, capture_sink, f, BASE_LOG_INFO);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static void
test_log_formats_and_passes_the_level(void **state)
{
	struct fixture *f = *state;

	base_logf(&f->log, BASE_LOG_WARN, "slot=%u decided value=%s", 7u, "abc");
	assert_int_equal(f->count, 1);
	assert_int_equal(f->levels[0], BASE_LOG_WARN);
	assert_string_equal(f->lines[0], "slot=7 decided value=abc");
}

static void
test_log_drops_lines_above_the_level_max(void **state)
{
	struct fixture *f = *state;

	base_logf(&f->log, BASE_LOG_DEBUG, "dropped");
	base_logf(&f->log, BASE_LOG_INFO, "info");
	base_logf(&f->log, BASE_LOG_WARN, "warn");
	base_logf(&f->log, BASE_LOG_ERROR, "error");
	assert_int_equal(f->count, 3);
	assert_string_equal(f->lines[0], "info");
	assert_string_equal(f->lines[2], "error");
	/* At level ERROR only errors pass. */
	base_log_init(&f->log, capture_sink, f, BASE_LOG_ERROR);
	base_logf(&f->log, BASE_LOG_WARN, "dropped");
	base_logf(&f->log, BASE_LOG_ERROR, "kept");
	assert_int_equal(f->count, 4);
	assert_string_equal(f->lines[3], "kept");
}

static void
test_log_cuts_long_lines_and_ends_them_with_dots(void **state)
{
	struct fixture *f = *state;
	char big[2 * BASE_LOG_LINE_MAX];
	size_t cut = BASE_LOG_LINE_MAX - 1;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	base_logf(&f->log, BASE_LOG_ERROR, "%s", big);
	assert_int_equal(strlen(f->lines[0]), cut);
	assert_string_equal(f->lines[0] + cut - 3, "...");
	assert_memory_equal(f->lines[0], big, cut - 3);
}

static void
test_log_line_of_exactly_the_limit_is_not_cut(void **state)
{
	struct fixture *f = *state;
	char line[BASE_LOG_LINE_MAX + 1];

	/* BASE_LOG_LINE_MAX - 1 characters fit with the NUL: delivered whole. */
	memset(line, 'a', BASE_LOG_LINE_MAX - 1);
	line[BASE_LOG_LINE_MAX - 1] = '\0';
	base_logf(&f->log, BASE_LOG_ERROR, "%s", line);
	assert_string_equal(f->lines[0], line);
	/* One more character does not fit: cut, with the dots. */
	line[BASE_LOG_LINE_MAX - 1] = 'b';
	line[BASE_LOG_LINE_MAX] = '\0';
	base_logf(&f->log, BASE_LOG_ERROR, "%s", line);
	assert_int_equal(strlen(f->lines[1]), BASE_LOG_LINE_MAX - 1);
	assert_string_equal(f->lines[1] + BASE_LOG_LINE_MAX - 4, "...");
}

static void
test_log_disabled_sink_drops_everything(void **state)
{
	struct fixture *f = *state;
	struct base_log off;

	base_log_init(&off, NULL, f, BASE_LOG_DEBUG);
	base_logf(&off, BASE_LOG_ERROR, "nobody hears this %d", 1);
	/* A NULL log is also allowed: pure code may be handed no sink at all. */
	base_logf(NULL, BASE_LOG_ERROR, "nor this");
	assert_int_equal(f->count, 0);
}

static void vlog_wrapper(const struct base_log *log, const char *fmt, ...) AE_PRINTF(2, 3);

static void
vlog_wrapper(const struct base_log *log, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	base_vlogf(log, BASE_LOG_INFO, fmt, ap);
	va_end(ap);
}

static void
test_log_vlogf_takes_a_va_list(void **state)
{
	struct fixture *f = *state;

	vlog_wrapper(&f->log, "peer=%d state=%s", 3, "up");
	assert_int_equal(f->count, 1);
	assert_string_equal(f->lines[0], "peer=3 state=up");
}

static void
test_log_level_names_round_trip(void **state)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	(void)state;
	for (int i = BASE_LOG_ERROR; i <= BASE_LOG_DEBUG; i++) {
		enum base_log_level level = (enum base_log_level)i;
		enum base_log_level back = BASE_LOG_ERROR;

		assert_string_equal(base_log_level_name(level), names[i]);
		assert_int_equal(base_log_level_parse(base_log_level_name(level), &back), 0);
		assert_int_equal(back, level);
	}
}

static void
test_log_level_parse_rejects_unknown_names(void **state)
{
	static const char *const bad[] = {"", "warning", "ERROR", "inf", "debug ", "trace"};
	enum base_log_level out = BASE_LOG_WARN;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(base_log_level_parse(bad[i], &out), -EINVAL);
		assert_int_equal(out, BASE_LOG_WARN);
	}
}

static void
test_log_file_sink_writes_level_and_line(void **state)
{
	char buf[128];
	FILE *mem = fmemopen(buf, sizeof(buf), "w");
	struct base_log log;

	(void)state;
	assert_non_null(mem);
	base_log_init(&log, base_log_file_sink, mem, BASE_LOG_DEBUG);
	base_logf(&log, BASE_LOG_WARN, "slot=%d", 12);
	base_logf(&log, BASE_LOG_DEBUG, "x");
	/* The sink flushes each line, so the text is there before fclose. */
	assert_memory_equal(buf, "warn: slot=12\ndebug: x\n", 23);
	fclose(mem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_formats_and_passes_the_level, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_drops_lines_above_the_level_max, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_cuts_long_lines_and_ends_them_with_dots,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_line_of_exactly_the_limit_is_not_cut,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_disabled_sink_drops_everything, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_vlogf_takes_a_va_list, setup, teardown),
		cmocka_unit_test(test_log_level_names_round_trip),
		cmocka_unit_test(test_log_level_parse_rejects_unknown_names),
		cmocka_unit_test(test_log_file_sink_writes_level_and_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
