/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: aetherctl's JSON writer only ever produces valid JSON: text is escaped, and byte
 * strings that are not UTF-8 come out as null plus a hex field. Method: write into a memory
 * stream and compare with the expected text; check the UTF-8 validator on the boundary cases
 * of RFC 3629 (overlong forms, surrogates, above U+10FFFF, truncated sequences).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

struct fixture {
	char *text;
	size_t size;
	FILE *f;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->f = open_memstream(&fx->text, &fx->size);
	assert_non_null(fx->f);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	fclose(fx->f);
	free(fx->text);
	free(fx);
	return 0;
}

static void
assert_written(struct fixture *fx, const char *expected)
{
	assert_int_equal(fflush(fx->f), 0);
	assert_string_equal(fx->text, expected);
}

static bool
valid(const char *bytes, size_t n)
{
	return ctl_json_utf8_valid((const uint8_t *)bytes, n);
}

static void
test_ctl_json_string_escapes_quotes_backslashes_and_controls(void **state)
{
	struct fixture *fx = *state;
	static const char in[] = "a\"b\\c\n\t\r\b\f\x01\x7f\x00z";

	ctl_json_string(fx->f, (const uint8_t *)in, sizeof(in) - 1);
	assert_written(fx, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u007f\\u0000z\"");
}

static void
test_ctl_json_string_keeps_utf8_as_is(void **state)
{
	struct fixture *fx = *state;

	ctl_json_text(fx->f, "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_written(fx, "\"gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

static void
test_ctl_json_bytes_field_writes_text_or_hex(void **state)
{
	struct fixture *fx = *state;

	ctl_json_bytes_field(fx->f, "key", (const uint8_t *)"k1", 2);
	fputc(',', fx->f);
	ctl_json_bytes_field(fx->f, "value", (const uint8_t *)"\xff\x00\x41", 3);
	fputc(',', fx->f);
	ctl_json_bytes_field(fx->f, "empty", NULL, 0);
	assert_written(fx, "\"key\":\"k1\",\"value\":null,\"value_hex\":\"ff0041\",\"empty\":\"\"");
}

static void
test_ctl_json_utf8_validator_follows_rfc_3629(void **state)
{
	(void)state;
	assert_true(valid("", 0));
	assert_true(valid("\x7f", 1));
	assert_true(valid("\xc2\x80", 2));
	assert_true(valid("\xed\x9f\xbf", 3));      /* U+D7FF, just below the surrogates */
	assert_true(valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
	assert_false(valid("\x80", 1));             /* lone continuation */
	assert_false(valid("\xc0\xaf", 2));         /* overlong '/' */
	assert_false(valid("\xc1\xbf", 2));         /* overlong */
	assert_false(valid("\xe0\x9f\xbf", 3));     /* overlong 3-byte */
	assert_false(valid("\xed\xa0\x80", 3));     /* U+D800, a surrogate */
	assert_false(valid("\xf0\x8f\xbf\xbf", 4)); /* overlong 4-byte */
	assert_false(valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
	assert_false(valid("\xf5\x80\x80\x80", 4));
	assert_false(valid("\xe2\x82", 2));     /* truncated */
	assert_false(valid("\xe2\x28\xa1", 3)); /* bad continuation */
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_ctl_json_string_escapes_quotes_backslashes_and_controls),
		CASE(test_ctl_json_string_keeps_utf8_as_is),
		CASE(test_ctl_json_bytes_field_writes_text_or_hex),
		CASE(test_ctl_json_utf8_validator_follows_rfc_3629),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
