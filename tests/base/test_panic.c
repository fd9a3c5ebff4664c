/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: a failed ASSERT (and PANIC, and DEBUG_ASSERT in normal builds) kills the process with
 * SIGABRT after printing "file:line: panic: ..." naming the exact source line, and a passing
 * ASSERT does nothing. Method: each failure runs in a forked child whose stderr is a pipe; the
 * parent checks the exit signal and the text. The expected line is obtained by calling the same
 * function in a dry-run mode that returns __LINE__ from the same macro invocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/panic.h"

/*
 * In dry-run mode returns the line of this invocation; otherwise runs stmt. Every __LINE__ in a
 * macro expansion is the invocation's line, so the ASSERT inside stmt reports that same line.
 */
#define AT_LINE(dry_run, stmt)           \
	do {                             \
		if (dry_run) {           \
			return __LINE__; \
		}                        \
		stmt;                    \
	} while (0)

typedef int child_fn(int dry_run);

struct child_result {
	int status;
	char err[1024];
};

/* Runs fn(0) in a child with stderr captured; the child exits 0 if fn returns. */
static void
run_child(child_fn *fn, struct child_result *out)
{
	int fds[2];
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	memset(out, 0, sizeof(*out));
	/* Unflushed cmocka output would otherwise be printed twice, once by the child. */
	fflush(stdout);
	fflush(stderr);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		(void)fn(0);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out->err + got, sizeof(out->err) - 1 - got)) > 0) {
		got += (size_t)n;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &out->status, 0), pid);
}

static void
assert_died_of_abort(const struct child_result *r)
{
	assert_true(WIFSIGNALED(r->status));
	assert_int_equal(WTERMSIG(r->status), SIGABRT);
}

/* "<path ending in test_panic.c>:<line>: panic: <message>\n" */
static void
assert_panic_text(const struct child_result *r, int line, const char *message)
{
	char tail[256];
	const char *at;

	snprintf(tail, sizeof(tail), "test_panic.c:%d: panic: %s\n", line, message);
	at = strstr(r->err, tail);
	assert_non_null(at);
	/* Nothing after the message: one line, newline-terminated. */
	assert_string_equal(at, tail);
}

static volatile int one = 1;

static int
child_failing_assert(int dry_run)
{
	AT_LINE(dry_run, ASSERT(one == 2));
	return 0;
}

static int
child_passing_assert(int dry_run)
{
	AT_LINE(dry_run, ASSERT(one == 1));
	return 0;
}

static int
child_panic(int dry_run)
{
	AT_LINE(dry_run, PANIC("slot=%d value=%s", 42, "x"));
	return 0;
}

static int
child_failing_debug_assert(int dry_run)
{
	AT_LINE(dry_run, DEBUG_ASSERT(one == 3));
	return 0;
}

static void
test_panic_failed_assert_aborts_naming_file_line_and_expression(void **state)
{
	struct child_result r;

	(void)state;
	run_child(child_failing_assert, &r);
	assert_died_of_abort(&r);
	assert_panic_text(&r, child_failing_assert(1), "assertion failed: one == 2");
}

static void
test_panic_passing_assert_does_nothing(void **state)
{
	struct child_result r;

	(void)state;
	run_child(child_passing_assert, &r);
	assert_true(WIFEXITED(r.status));
	assert_int_equal(WEXITSTATUS(r.status), 0);
	assert_string_equal(r.err, "");
}

static void
test_panic_formats_its_message(void **state)
{
	struct child_result r;

	(void)state;
	run_child(child_panic, &r);
	assert_died_of_abort(&r);
	assert_panic_text(&r, child_panic(1), "slot=42 value=x");
}

static void
test_panic_debug_assert_is_compiled_in_by_default(void **state)
{
	struct child_result r;

	(void)state;
	run_child(child_failing_debug_assert, &r);
	assert_died_of_abort(&r);
	assert_panic_text(&r, child_failing_debug_assert(1), "assertion failed: one == 3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_panic_failed_assert_aborts_naming_file_line_and_expression),
		cmocka_unit_test(test_panic_passing_assert_does_nothing),
		cmocka_unit_test(test_panic_formats_its_message),
		cmocka_unit_test(test_panic_debug_assert_is_compiled_in_by_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
