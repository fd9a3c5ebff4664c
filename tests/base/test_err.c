/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: project error codes never collide with errno or with each other, and every code (errno
 * or project, negative or positive, known or not) turns into a stable text and name without
 * crashing. Method: walk the X-macro table itself, then probe errno values, both signs, unknown
 * codes and the int extremes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "base/compiler.h"
#include "base/err.h"

struct err_row {
	int value;
	const char *name;
	const char *text;
};

static const struct err_row rows[] = {
#define ERR_ROW(name, value, text) {(value), #name, (text)},
	BASE_ERR_TABLE(ERR_ROW)
#undef ERR_ROW
};

static void
test_err_table_values_are_distinct_and_above_errno_space(void **state)
{
	(void)state;
	assert_true(AE_ARRAY_SIZE(rows) > 0);
	for (size_t i = 0; i < AE_ARRAY_SIZE(rows); i++) {
		assert_true(rows[i].value >= 4096);
		assert_true(rows[i].value >= BASE_ERR_FIRST);
		assert_non_null(rows[i].text);
		assert_true(strlen(rows[i].text) > 0);
		assert_int_equal(strncmp(rows[i].name, "BASE_ERR_", 9), 0);
		for (size_t j = 0; j < i; j++) {
			assert_int_not_equal(rows[i].value, rows[j].value);
			assert_string_not_equal(rows[i].name, rows[j].name);
		}
	}
}

static void
test_err_strerror_of_project_codes_is_the_table_text_for_either_sign(void **state)
{
	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(rows); i++) {
		assert_string_equal(base_strerror(rows[i].value), rows[i].text);
		assert_string_equal(base_strerror(-rows[i].value), rows[i].text);
	}
	assert_string_equal(base_strerror(-BASE_ERR_FULL), "fixed-capacity container is full");
}

static void
test_err_strerror_of_errno_values_matches_libc(void **state)
{
	static const int codes[] = {EINVAL,    ENOBUFS, EAGAIN, EBADMSG,
				    ETIMEDOUT, ENOENT,  ENOMEM, EXDEV};

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(codes); i++) {
		assert_string_equal(base_strerror(-codes[i]), strerror(codes[i]));
		assert_string_equal(base_strerror(codes[i]), strerror(codes[i]));
	}
}

static void
test_err_strerror_of_zero_is_success(void **state)
{
	(void)state;
	assert_string_equal(base_strerror(0), "success");
	assert_string_equal(base_errname(0), "OK");
}

static void
test_err_unknown_codes_get_a_fixed_text_and_name(void **state)
{
	/* Gaps in errno space, just past the table, and far beyond it. */
	static const int codes[] = {4000, 4095, BASE_ERR_PROTOCOL + 1, 5000, 1 << 20, INT_MAX};

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(codes); i++) {
		assert_string_equal(base_strerror(codes[i]), "unknown error");
		assert_string_equal(base_strerror(-codes[i]), "unknown error");
		assert_string_equal(base_errname(codes[i]), "E?");
		assert_string_equal(base_errname(-codes[i]), "E?");
	}
}

static void
test_regress_err_int_min_overflowed_when_taking_the_absolute_value(void **state)
{
	/* -INT_MIN is undefined behaviour; UBSan caught it before err_abs special-cased it. */
	(void)state;
	assert_string_equal(base_strerror(INT_MIN), "unknown error");
	assert_string_equal(base_errname(INT_MIN), "E?");
}

static void
test_err_errname_gives_symbolic_names(void **state)
{
	(void)state;
	assert_string_equal(base_errname(-EINVAL), "EINVAL");
	assert_string_equal(base_errname(EINVAL), "EINVAL");
	assert_string_equal(base_errname(-ENOBUFS), "ENOBUFS");
	assert_string_equal(base_errname(-EAGAIN), "EAGAIN");
	assert_string_equal(base_errname(-ETIMEDOUT), "ETIMEDOUT");
	assert_string_equal(base_errname(-ECONNRESET), "ECONNRESET");
	for (size_t i = 0; i < AE_ARRAY_SIZE(rows); i++) {
		assert_string_equal(base_errname(-rows[i].value), rows[i].name);
		assert_string_equal(base_errname(rows[i].value), rows[i].name);
	}
}

static void
test_err_errname_knows_libc_errno_names_beyond_the_project_list(void **state)
{
	(void)state;
#ifdef __GLIBC__
	/* EXDEV is not in the project's own list; glibc's name table supplies it. */
	assert_string_equal(base_errname(-EXDEV), "EXDEV");
	for (int code = 1; code < 100; code++) {
		if (strerrorname_np(code) != NULL) {
			assert_string_not_equal(base_errname(-code), "E?");
		}
	}
#else
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_table_values_are_distinct_and_above_errno_space),
		cmocka_unit_test(
			test_err_strerror_of_project_codes_is_the_table_text_for_either_sign),
		cmocka_unit_test(test_err_strerror_of_errno_values_matches_libc),
		cmocka_unit_test(test_err_strerror_of_zero_is_success),
		cmocka_unit_test(test_err_unknown_codes_get_a_fixed_text_and_name),
		cmocka_unit_test(
			test_regress_err_int_min_overflowed_when_taking_the_absolute_value),
		cmocka_unit_test(test_err_errname_gives_symbolic_names),
		cmocka_unit_test(test_err_errname_knows_libc_errno_names_beyond_the_project_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
