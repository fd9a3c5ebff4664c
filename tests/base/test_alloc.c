/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: base_alloc hands out zeroed memory and counts it, the fault injector fails exactly the
 * N-th call and only once (what fault loops rely on), and after base_alloc_seal() an allocation
 * is a crash, not a silent success. Method: direct checks of the counters; a sample init path
 * driven by a fault loop; the sealed allocation runs in a forked child whose death by SIGABRT
 * (and panic text) the parent checks. The counters are process-wide, so every case restores
 * them (fail_at(0), unseal) and compares live counts relative to its start.
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

#include "base/alloc.h"
#include "base/compiler.h"
#include "base/err.h"

struct fixture {
	long live_at_start;
};

static int
setup(void **state)
{
	static struct fixture f;

	base_alloc_fail_at(0);
	base_alloc_unseal();
	f.live_at_start = base_alloc_live();
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	base_alloc_fail_at(0);
	base_alloc_unseal();
	/* Every case frees what it allocated. */
	assert_int_equal(base_alloc_live(), f->live_at_start);
	return 0;
}

static void
test_alloc_returns_zeroed_memory_and_counts_it(void **state)
{
	struct fixture *f = *state;
	uint8_t *p = base_alloc(100);
	uint8_t *q = base_alloc_array(10, 8);

	assert_non_null(p);
	assert_non_null(q);
	for (size_t i = 0; i < 100; i++) {
		assert_int_equal(p[i], 0);
	}
	for (size_t i = 0; i < 80; i++) {
		assert_int_equal(q[i], 0);
	}
	assert_int_equal(base_alloc_live(), f->live_at_start + 2);
	base_free(p);
	assert_int_equal(base_alloc_live(), f->live_at_start + 1);
	base_free(q);
	base_free(NULL); /* a no-op, not a count */
	assert_int_equal(base_alloc_live(), f->live_at_start);
}

static void
test_alloc_of_zero_bytes_gives_distinct_pointers(void **state)
{
	void *a = base_alloc(0);
	void *b = base_alloc(0);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a != b);
	base_free(a);
	base_free(b);
}

static void
test_alloc_array_overflow_returns_null_without_counting(void **state)
{
	struct fixture *f = *state;

	assert_null(base_alloc_array(SIZE_MAX / 2 + 1, 2));
	assert_null(base_alloc_array(2, SIZE_MAX));
	assert_int_equal(base_alloc_live(), f->live_at_start);
}

static void
test_alloc_fail_at_n_fails_exactly_the_nth_call_once(void **state)
{
	void *p[8];

	(void)state;
	for (unsigned long n = 1; n <= 6; n++) {
		base_alloc_fail_at(n);
		for (size_t i = 0; i < AE_ARRAY_SIZE(p); i++) {
			p[i] = base_alloc(16);
			/* injected() turns true on the failing call and stays true. */
			assert_int_equal(base_alloc_injected(), i + 1 >= n);
			if (i + 1 == n) {
				assert_null(p[i]);
			} else {
				assert_non_null(p[i]);
			}
		}
		for (size_t i = 0; i < AE_ARRAY_SIZE(p); i++) {
			base_free(p[i]);
		}
	}
}

static void
test_alloc_fail_at_zero_disables_and_resets_injected(void **state)
{
	void *p;

	(void)state;
	base_alloc_fail_at(1);
	assert_null(base_alloc(8));
	assert_true(base_alloc_injected());
	base_alloc_fail_at(0);
	assert_false(base_alloc_injected());
	for (int i = 0; i < 100; i++) {
		p = base_alloc(8);
		assert_non_null(p);
		base_free(p);
	}
	assert_false(base_alloc_injected());
	/* An injection that is re-armed before firing never fires. */
	base_alloc_fail_at(3);
	base_alloc_fail_at(0);
	for (int i = 0; i < 5; i++) {
		p = base_alloc(8);
		assert_non_null(p);
		base_free(p);
	}
}

/* A typical init path: three allocations, undone in reverse order on failure. */
struct sample {
	void *a;
	void *b;
	void *c;
};

static int
sample_init(struct sample *s)
{
	s->a = base_alloc(32);
	if (s->a == NULL) {
		return -ENOMEM;
	}
	s->b = base_alloc_array(4, 16);
	if (s->b == NULL) {
		goto err_free_a;
	}
	s->c = base_alloc(64);
	if (s->c == NULL) {
		goto err_free_b;
	}
	return 0;
err_free_b:
	base_free(s->b);
err_free_a:
	base_free(s->a);
	return -ENOMEM;
}

static void
sample_fini(struct sample *s)
{
	base_free(s->c);
	base_free(s->b);
	base_free(s->a);
}

static void
test_alloc_fault_loop_reaches_success_without_leaks(void **state)
{
	struct fixture *f = *state;
	struct sample s;
	unsigned long n;
	int rc = -1;

	/* The SQLite/raft loop: fail call N for N = 1, 2, ... until init succeeds. */
	for (n = 1; rc != 0; n++) {
		base_alloc_fail_at(n);
		rc = sample_init(&s);
		if (rc != 0) {
			assert_int_equal(rc, -ENOMEM);
			assert_true(base_alloc_injected());
			assert_int_equal(base_alloc_live(), f->live_at_start);
		}
	}
	/* Three allocations, so three failing runs, then success on the fourth. */
	assert_int_equal(n - 1, 4);
	assert_false(base_alloc_injected());
	base_alloc_fail_at(0);
	sample_fini(&s);
}

static void
test_alloc_unseal_allows_allocation_again_and_free_is_allowed_when_sealed(void **state)
{
	void *p = base_alloc(8);

	(void)state;
	assert_non_null(p);
	base_alloc_seal();
	/* drain/fini frees after the seal; only allocation is forbidden. */
	base_free(p);
	base_alloc_unseal();
	p = base_alloc(8);
	assert_non_null(p);
	base_free(p);
}

static void
test_alloc_after_seal_panics(void **state)
{
	int fds[2];
	char err[512] = {0};
	size_t got = 0;
	ssize_t n;
	int status;
	pid_t pid;

	(void)state;
	/* Unflushed cmocka output would otherwise be printed twice, once by the child. */
	fflush(stdout);
	fflush(stderr);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], STDERR_FILENO);
		base_alloc_seal();
		(void)base_alloc(24);
		_exit(0); /* reached only if the seal did not hold */
	}
	close(fds[1]);
	while ((n = read(fds[0], err + got, sizeof(err) - 1 - got)) > 0) {
		got += (size_t)n;
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_non_null(strstr(err, "panic: allocation of 24 bytes after base_alloc_seal()"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_returns_zeroed_memory_and_counts_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_of_zero_bytes_gives_distinct_pointers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_alloc_array_overflow_returns_null_without_counting, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_alloc_fail_at_n_fails_exactly_the_nth_call_once, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_alloc_fail_at_zero_disables_and_resets_injected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_fault_loop_reaches_success_without_leaks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_alloc_unseal_allows_allocation_again_and_free_is_allowed_when_sealed,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_after_seal_panics, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
