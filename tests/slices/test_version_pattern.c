/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: version patterns parse strictly, format back to the exact text they came from, denote
 * the intervals slices/coord.h promises (inclusive and exclusive bounds, caret and tilde with
 * their 0.x and overflow rules, pre-releases of the next line excluded), and pick the highest
 * matching version. Method: tables of valid and invalid patterns (code + offset), bound and
 * match tables with the edge cases, pick cases, and seeded property tests: random pattern texts
 * round-trip, caret/tilde/comparison matching agrees with an independent oracle written from
 * the definitions, and random one-byte mutations are rejected cleanly or round-trip exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "coord_gen.h"
#include "slices/coord.h"

#define PROPERTY_SEED       0xa11ce5eed2024ULL
#define PROPERTY_ITERATIONS 10000

#define TEXT(s) (s), sizeof(s) - 1

/* Fails the test with a formatted message unless ok; keeps call sites flat. */
static void check(int ok, const char *fmt, ...) AE_PRINTF(2, 3);

static void
check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		return;
	}
	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	fail();
}

static struct slice_version
version_of(const char *text)
{
	struct slice_version v;

	check(slice_version_parse(text, strlen(text), &v, NULL) == 0,
	      "bad version in test table: %s", text);
	return v;
}

static struct slice_version_pattern
pattern_of(const char *text)
{
	struct slice_version_pattern p;
	struct base_parse_error err = {0, 0, NULL};
	int rc;

	rc = slice_version_pattern_parse(text, strlen(text), &p, &err);
	check(rc == 0, "\"%s\" rejected at %zu: %s", text, err.offset, err.what ? err.what : "");
	return p;
}

static void
test_pattern_valid_patterns_round_trip_with_their_kind(void **state)
{
	static const struct {
		const char *text;
		enum slice_pattern_kind kind;
	} cases[] = {
		{"1.2.3", SLICE_PATTERN_EXACT},
		{"1.2.3-rc.1", SLICE_PATTERN_EXACT},
		{"[1.0.0,2.0.0)", SLICE_PATTERN_RANGE},
		{"[1.0.0,2.0.0]", SLICE_PATTERN_RANGE},
		{"(1.0.0,2.0.0)", SLICE_PATTERN_RANGE},
		{"(1.0.0,2.0.0]", SLICE_PATTERN_RANGE},
		{"(1.0.0,]", SLICE_PATTERN_RANGE},
		{"(1.0.0,)", SLICE_PATTERN_RANGE},
		{"[1.0.0,)", SLICE_PATTERN_RANGE},
		{"[1.0.0,]", SLICE_PATTERN_RANGE},
		{"[,2.0.0]", SLICE_PATTERN_RANGE},
		{"(,2.0.0]", SLICE_PATTERN_RANGE},
		{"(,2.0.0)", SLICE_PATTERN_RANGE},
		{"[1.0.0,1.0.0]", SLICE_PATTERN_RANGE},
		{"[1.0.0-alpha,1.0.0]", SLICE_PATTERN_RANGE},
		{"[1.0.0-rc.1,1.0.0-rc.2)", SLICE_PATTERN_RANGE},
		{">=1.2.0", SLICE_PATTERN_COMPARE},
		{">1.2.0", SLICE_PATTERN_COMPARE},
		{"<=2.0.0", SLICE_PATTERN_COMPARE},
		{"<2.0.0", SLICE_PATTERN_COMPARE},
		{">=0.0.0-0", SLICE_PATTERN_COMPARE},
		{"^1.2.3", SLICE_PATTERN_CARET},
		{"^0.2.3", SLICE_PATTERN_CARET},
		{"^0.0.3", SLICE_PATTERN_CARET},
		{"^0.0.0", SLICE_PATTERN_CARET},
		{"^1.2.3-beta.2", SLICE_PATTERN_CARET},
		{"^4294967295.4294967295.4294967295", SLICE_PATTERN_CARET},
		{"~1.2.3", SLICE_PATTERN_TILDE},
		{"~0.0.0", SLICE_PATTERN_TILDE},
	};
	char buf[SLICE_PATTERN_TEXT_MAX + 1];

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(cases); i++) {
		struct slice_version_pattern p = pattern_of(cases[i].text);

		assert_int_equal(p.kind, cases[i].kind);
		assert_int_equal(slice_version_pattern_format(&p, buf, sizeof(buf)),
				 (int)strlen(cases[i].text));
		assert_string_equal(buf, cases[i].text);
	}
}

struct invalid_pattern {
	const char *text;
	size_t size;
	int code;
	size_t offset;
};

static const struct invalid_pattern invalid_patterns[] = {
	{TEXT(""), -BASE_ERR_EMPTY, 0},
	{TEXT(" "), -BASE_ERR_BAD_CHAR, 0},
	{TEXT("=1.0.0"), -BASE_ERR_BAD_CHAR, 0},
	{TEXT("v1.0.0"), -BASE_ERR_BAD_CHAR, 0},
	{TEXT("{1.0.0,2.0.0}"), -BASE_ERR_BAD_CHAR, 0},
	{TEXT("\0001.0.0"), -BASE_ERR_BAD_CHAR, 0},
	{TEXT("1.0"), -BASE_ERR_SYNTAX, 3},
	{TEXT("1.2.3-"), -BASE_ERR_EMPTY, 6},
	{TEXT("1.0.0 "), -BASE_ERR_BAD_CHAR, 5},
	{TEXT(">= 1.0.0"), -BASE_ERR_BAD_CHAR, 2},
	{TEXT(">"), -BASE_ERR_EMPTY, 1},
	{TEXT(">="), -BASE_ERR_EMPTY, 2},
	{TEXT("=>1.0.0"), -BASE_ERR_BAD_CHAR, 0},
	{TEXT(">==1.0.0"), -BASE_ERR_BAD_CHAR, 2},
	{TEXT("<>1.0.0"), -BASE_ERR_BAD_CHAR, 1},
	{TEXT("^"), -BASE_ERR_EMPTY, 1},
	{TEXT("^^1.0.0"), -BASE_ERR_BAD_CHAR, 1},
	{TEXT("~>1.0.0"), -BASE_ERR_BAD_CHAR, 1},
	{TEXT("^1.0"), -BASE_ERR_SYNTAX, 4},
	{TEXT("^01.0.0"), -BASE_ERR_SYNTAX, 1},
	{TEXT("^1.0.0\0"), -BASE_ERR_BAD_CHAR, 6},
	{TEXT("~4294967296.0.0"), -BASE_ERR_RANGE, 1},
	{TEXT("["), -BASE_ERR_EMPTY, 1},
	{TEXT("[]"), -BASE_ERR_EMPTY, 1},
	{TEXT("[,]"), -BASE_ERR_EMPTY, 2},
	{TEXT("(,)"), -BASE_ERR_EMPTY, 2},
	{TEXT("[1.0.0]"), -BASE_ERR_SYNTAX, 6},
	{TEXT("[1.0.0"), -BASE_ERR_SYNTAX, 6},
	{TEXT("[1.0.0,"), -BASE_ERR_SYNTAX, 7},
	{TEXT("[1.0.0,2.0.0"), -BASE_ERR_SYNTAX, 12},
	{TEXT("[1.0.0,2.0.0,3.0.0]"), -BASE_ERR_SYNTAX, 12},
	{TEXT("[1.0.0,2.0.0)x"), -BASE_ERR_SYNTAX, 13},
	{TEXT("[1.0.0,2.0.0))"), -BASE_ERR_SYNTAX, 13},
	{TEXT("[1.0.0,2.0.0)\0"), -BASE_ERR_SYNTAX, 13},
	{TEXT("[2.0.0,1.0.0]"), -BASE_ERR_RANGE, 7},
	{TEXT("[1.0.0,1.0.0)"), -BASE_ERR_RANGE, 7},
	{TEXT("(1.0.0,1.0.0]"), -BASE_ERR_RANGE, 7},
	{TEXT("[1.0.0,1.0.0-rc.1]"), -BASE_ERR_RANGE, 7},
	{TEXT("[ 1.0.0,2.0.0)"), -BASE_ERR_BAD_CHAR, 1},
	{TEXT("[1.0.0 ,2.0.0)"), -BASE_ERR_BAD_CHAR, 6},
	{TEXT("[1.0.0, 2.0.0)"), -BASE_ERR_BAD_CHAR, 7},
	{TEXT("[1.0.0;2.0.0)"), -BASE_ERR_BAD_CHAR, 6},
	{TEXT("[1.0,2.0.0)"), -BASE_ERR_SYNTAX, 4},
	{TEXT("[1.0.0-,2.0.0)"), -BASE_ERR_EMPTY, 7},
	{TEXT("[1.0.0-rc.,2.0.0)"), -BASE_ERR_EMPTY, 10},
	{TEXT("[1.0.0,2.0.0-)"), -BASE_ERR_EMPTY, 13},
	{TEXT("[4294967296.0.0,)"), -BASE_ERR_RANGE, 1},
	{TEXT("[1.0.0,2.0.0-a\0)"), -BASE_ERR_BAD_CHAR, 14},
};

static void
test_pattern_invalid_patterns_report_code_and_offset(void **state)
{
	struct slice_version_pattern out;
	struct slice_version_pattern untouched;

	(void)state;
	memset(&untouched, 0xa5, sizeof(untouched));
	for (size_t i = 0; i < AE_ARRAY_SIZE(invalid_patterns); i++) {
		struct base_parse_error err = {0, 0, NULL};
		/* Exactly size bytes on the heap: any read past the end is an ASan report. */
		char *text = malloc(invalid_patterns[i].size + 1);
		int rc;

		assert_non_null(text);
		memcpy(text, invalid_patterns[i].text, invalid_patterns[i].size);
		memset(&out, 0xa5, sizeof(out));
		rc = slice_version_pattern_parse(text, invalid_patterns[i].size, &out, &err);
		check(rc == invalid_patterns[i].code && err.offset == invalid_patterns[i].offset,
		      "case %zu \"%s\": got %s at %zu (%s), want %s at %zu", i,
		      invalid_patterns[i].text, base_errname(rc), err.offset,
		      err.what ? err.what : "(null)", base_errname(invalid_patterns[i].code),
		      invalid_patterns[i].offset);
		assert_int_equal(err.code, rc);
		assert_non_null(err.what);
		assert_memory_equal(&out, &untouched, sizeof(out));
		free(text);
	}
}

/* A bound as text: "-" when unset, else "[v" / "(v" for lower or "v]" / "v)" for upper. */
static void
bound_text(const struct slice_version_bound *b, int is_lower, char text[SLICE_VERSION_TEXT_MAX + 3])
{
	char v[SLICE_VERSION_TEXT_MAX + 1];
	size_t n;

	if (!b->is_set) {
		memcpy(text, "-", 2);
		return;
	}
	assert_true(slice_version_format(&b->version, v, sizeof(v)) > 0);
	n = strlen(v);
	if (is_lower) {
		text[0] = b->is_inclusive ? '[' : '(';
		memcpy(text + 1, v, n + 1);
	} else {
		memcpy(text, v, n);
		text[n] = b->is_inclusive ? ']' : ')';
		text[n + 1] = '\0';
	}
}

static void
test_pattern_every_kind_denotes_the_documented_interval(void **state)
{
	static const struct {
		const char *pattern;
		const char *lower;
		const char *upper;
	} cases[] = {
		{"1.2.3", "[1.2.3", "1.2.3]"},
		{"1.2.3-rc.1", "[1.2.3-rc.1", "1.2.3-rc.1]"},
		{"[1.0.0,2.0.0)", "[1.0.0", "2.0.0)"},
		{"(1.0.0,2.0.0]", "(1.0.0", "2.0.0]"},
		{"[1.0.0,]", "[1.0.0", "-"},
		{"(,2.0.0)", "-", "2.0.0)"},
		{">=1.2.0", "[1.2.0", "-"},
		{">1.2.0", "(1.2.0", "-"},
		{"<=2.0.0", "-", "2.0.0]"},
		{"<2.0.0", "-", "2.0.0)"},
		/* Caret and tilde stop below the first pre-release of the next line. */
		{"^1.2.3", "[1.2.3", "2.0.0-0)"},
		{"^1.2.3-beta.2", "[1.2.3-beta.2", "2.0.0-0)"},
		{"^0.2.3", "[0.2.3", "0.3.0-0)"},
		{"^0.0.3", "[0.0.3", "0.0.4-0)"},
		{"^0.0.0", "[0.0.0", "0.0.1-0)"},
		{"~1.2.3", "[1.2.3", "1.3.0-0)"},
		{"~0.0.3", "[0.0.3", "0.1.0-0)"},
		/* A number at UINT32_MAX carries; when the major would carry there is no bound. */
		{"^0.0.4294967295", "[0.0.4294967295", "0.1.0-0)"},
		{"^0.4294967295.0", "[0.4294967295.0", "1.0.0-0)"},
		{"~1.4294967295.0", "[1.4294967295.0", "2.0.0-0)"},
		{"^4294967295.0.0", "[4294967295.0.0", "-"},
		{"~4294967295.4294967295.1", "[4294967295.4294967295.1", "-"},
	};

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(cases); i++) {
		struct slice_version_pattern p = pattern_of(cases[i].pattern);
		char lower[SLICE_VERSION_TEXT_MAX + 3];
		char upper[SLICE_VERSION_TEXT_MAX + 3];

		bound_text(&p.lower, 1, lower);
		bound_text(&p.upper, 0, upper);
		check(strcmp(lower, cases[i].lower) == 0 && strcmp(upper, cases[i].upper) == 0,
		      "%s: got %s,%s want %s,%s", cases[i].pattern, lower, upper, cases[i].lower,
		      cases[i].upper);
	}
}

static void
test_pattern_fields_record_what_was_written(void **state)
{
	struct slice_version_pattern p;
	struct slice_version v = version_of("1.2.3-rc.1");

	(void)state;
	p = pattern_of(">=1.2.3-rc.1");
	assert_string_equal(p.op, ">=");
	assert_int_equal(slice_version_compare(&p.version, &v), 0);
	p = pattern_of("<1.2.3-rc.1");
	assert_string_equal(p.op, "<");
	p = pattern_of("^1.2.3-rc.1");
	assert_string_equal(p.op, "");
	assert_int_equal(slice_version_compare(&p.version, &v), 0);
	/* An unset range bound remembers its bracket for the round trip only. */
	p = pattern_of("[,2.0.0)");
	assert_false(p.lower.is_set);
	assert_true(p.lower.is_inclusive);
	p = pattern_of("(,2.0.0)");
	assert_false(p.lower.is_set);
	assert_false(p.lower.is_inclusive);
	assert_int_equal(p.version.major, 0);
	assert_string_equal(p.version.qualifier, "");
}

struct match_case {
	const char *pattern;
	const char *version;
	int is_match;
};

static const struct match_case match_cases[] = {
	{"1.2.3", "1.2.3", 1},
	{"1.2.3", "1.2.4", 0},
	{"1.2.3", "1.2.2", 0},
	{"1.2.3", "1.2.3-rc.1", 0},
	{"1.2.3-rc.1", "1.2.3-rc.1", 1},
	{"1.2.3-rc.1", "1.2.3", 0},
	{"[1.0.0,2.0.0)", "1.0.0", 1},
	{"[1.0.0,2.0.0)", "0.9.9", 0},
	{"[1.0.0,2.0.0)", "1.0.0-rc.1", 0},
	{"[1.0.0,2.0.0)", "1.9.9", 1},
	{"[1.0.0,2.0.0)", "2.0.0", 0},
	/* Plain ordering: an explicit bound admits pre-releases below it. */
	{"[1.0.0,2.0.0)", "2.0.0-rc.1", 1},
	{"(1.0.0,2.0.0]", "1.0.0", 0},
	{"(1.0.0,2.0.0]", "1.0.1-0", 1},
	{"(1.0.0,2.0.0]", "2.0.0", 1},
	{"(1.0.0,2.0.0]", "2.0.1", 0},
	{"[1.0.0,)", "4294967295.4294967295.4294967295", 1},
	{"[1.0.0,)", "0.0.0", 0},
	{"(,2.0.0]", "0.0.0", 1},
	{"(,2.0.0]", "2.0.0", 1},
	{"(,2.0.0]", "2.0.1", 0},
	{"[,2.0.0]", "0.0.0-0", 1},
	{"(,2.0.0)", "2.0.0", 0},
	{"[1.0.0,1.0.0]", "1.0.0", 1},
	{"[1.0.0,1.0.0]", "1.0.1", 0},
	{"[1.0.0,1.0.0]", "1.0.0-rc.1", 0},
	{">=1.2.0", "1.2.0", 1},
	{">=1.2.0", "1.1.9", 0},
	{">=1.2.0", "1.2.0-rc.1", 0},
	{">=1.2.0", "9.0.0", 1},
	{">1.2.0", "1.2.0", 0},
	{">1.2.0", "1.2.1-0", 1},
	{"<=2.0.0", "2.0.0", 1},
	{"<=2.0.0", "2.0.1", 0},
	{"<=2.0.0", "0.0.0", 1},
	{"<2.0.0", "2.0.0", 0},
	{"<2.0.0", "1.99.99", 1},
	{"<2.0.0", "2.0.0-rc.1", 1},
	{"^1.2.3", "1.2.3", 1},
	{"^1.2.3", "1.2.2", 0},
	{"^1.2.3", "1.2.3-rc.1", 0},
	{"^1.2.3", "1.9.0", 1},
	{"^1.2.3", "1.4294967295.4294967295", 1},
	{"^1.2.3", "2.0.0", 0},
	{"^1.2.3", "2.0.0-rc.1", 0},
	{"^1.2.3", "2.0.0-0", 0},
	{"^0.2.3", "0.2.3", 1},
	{"^0.2.3", "0.2.9", 1},
	{"^0.2.3", "0.2.2", 0},
	{"^0.2.3", "0.3.0", 0},
	{"^0.2.3", "0.3.0-alpha", 0},
	{"^0.2.3", "1.0.0", 0},
	{"^0.0.3", "0.0.3", 1},
	{"^0.0.3", "0.0.2", 0},
	{"^0.0.3", "0.0.4", 0},
	{"^0.0.3", "0.0.4-rc", 0},
	{"^0.0.0", "0.0.0", 1},
	{"^0.0.0", "0.0.1-0", 0},
	{"^1.2.3-beta.2", "1.2.3-beta.2", 1},
	{"^1.2.3-beta.2", "1.2.3-beta.11", 1},
	{"^1.2.3-beta.2", "1.2.3-beta.1", 0},
	{"^1.2.3-beta.2", "1.2.3", 1},
	{"~1.2.3", "1.2.3", 1},
	{"~1.2.3", "1.2.99", 1},
	{"~1.2.3", "1.2.2", 0},
	{"~1.2.3", "1.3.0", 0},
	{"~1.2.3", "1.3.0-rc.1", 0},
	{"~0.0.3", "0.0.9", 1},
	{"~0.0.3", "0.1.0", 0},
	{"^4294967295.0.0", "4294967295.4294967295.4294967295", 1},
	{"^4294967295.0.0", "4294967294.9.9", 0},
	{"~1.4294967295.0", "1.4294967295.7", 1},
	{"~1.4294967295.0", "2.0.0-0", 0},
	{"^0.0.4294967295", "0.0.4294967295", 1},
	{"^0.0.4294967295", "0.1.0", 0},
};

static void
test_pattern_matches_respect_bounds_and_pre_releases(void **state)
{
	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(match_cases); i++) {
		struct slice_version_pattern p = pattern_of(match_cases[i].pattern);
		struct slice_version v = version_of(match_cases[i].version);

		check(slice_version_pattern_matches(&p, &v) == match_cases[i].is_match,
		      "%s matches %s should be %d", match_cases[i].pattern, match_cases[i].version,
		      match_cases[i].is_match);
	}
}

/* Parses a NULL-terminated list of versions into out; returns the count. */
static size_t
versions_of(const char *const *texts, struct slice_version *out)
{
	size_t n = 0;

	while (texts[n] != NULL) {
		out[n] = version_of(texts[n]);
		n++;
	}
	return n;
}

static void
test_pattern_pick_chooses_the_highest_match(void **state)
{
	static const char *const available[] = {
		"1.1.0",      "1.2.0",      "1.5.3", "1.10.0", "2.0.0",
		"2.0.0-rc.1", "1.5.3-rc.1", "0.9.0", NULL,
	};
	struct slice_version v[16];
	size_t n = versions_of(available, v);
	size_t index = 99;
	struct slice_version_pattern p;

	(void)state;
	p = pattern_of("^1.2.0");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), 0);
	assert_int_equal(index, 3);
	p = pattern_of("~1.5.0");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), 0);
	assert_int_equal(index, 2);
	p = pattern_of("<2.0.0");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), 0);
	assert_int_equal(index, 5);
	p = pattern_of("(,2.0.0]");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), 0);
	assert_int_equal(index, 4);
	p = pattern_of("1.5.3-rc.1");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), 0);
	assert_int_equal(index, 6);
	p = pattern_of("^0.9.0");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), 0);
	assert_int_equal(index, 7);
}

static void
test_pattern_pick_reports_no_match_and_keeps_index(void **state)
{
	static const char *const available[] = {"1.0.0", "1.1.0", "2.0.0-rc.1", NULL};
	struct slice_version v[8];
	size_t n = versions_of(available, v);
	size_t index = 99;
	struct slice_version_pattern p;

	(void)state;
	p = pattern_of("^2.0.0");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), -BASE_ERR_NO_MATCH);
	assert_int_equal(index, 99);
	p = pattern_of("(1.1.0,2.0.0-rc.1)");
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), -BASE_ERR_NO_MATCH);
	assert_int_equal(slice_version_pattern_pick(&p, NULL, 0, &index), -BASE_ERR_NO_MATCH);
	assert_int_equal(index, 99);
}

static void
test_pattern_pick_prefers_the_first_of_equal_versions(void **state)
{
	static const char *const available[] = {"1.0.0", "1.2.0", "1.1.0", "1.2.0", NULL};
	struct slice_version v[8];
	size_t n = versions_of(available, v);
	size_t index = 99;
	struct slice_version_pattern p = pattern_of(">=1.0.0");

	(void)state;
	assert_int_equal(slice_version_pattern_pick(&p, v, n, &index), 0);
	assert_int_equal(index, 1);
}

static void
test_pattern_format_reports_a_buffer_too_small(void **state)
{
	struct slice_version_pattern p = pattern_of("[1.0.0,2.0.0-rc.1)");
	char buf[32];

	(void)state;
	assert_int_equal(slice_version_pattern_format(&p, buf, 18), -ENOBUFS);
	assert_string_equal(buf, "");
	assert_int_equal(slice_version_pattern_format(&p, NULL, 0), -ENOBUFS);
	assert_int_equal(slice_version_pattern_format(&p, buf, 19), 18);
	assert_string_equal(buf, "[1.0.0,2.0.0-rc.1)");
}

static void
fail_seeded(uint64_t seed, int iteration, const char *what, const char *text, size_t size)
{
	fail_msg("seed=%llu iteration=%d: %s: \"%.*s\" (%zu bytes)", (unsigned long long)seed,
		 iteration, what, (int)size, text, size);
}

static void
test_pattern_random_patterns_round_trip(void **state)
{
	struct base_prng prng;
	uint64_t seed = PROPERTY_SEED;
	char text[SLICE_PATTERN_TEXT_MAX + 1];
	char buf[SLICE_PATTERN_TEXT_MAX + 1];

	(void)state;
	base_prng_init(&prng, seed);
	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		struct slice_version_pattern p;
		struct slice_version_pattern q;
		struct base_parse_error err = {0, 0, NULL};
		size_t len = gen_pattern_text(&prng, text);
		int rc;

		assert_true(len <= SLICE_PATTERN_TEXT_MAX);
		if (slice_version_pattern_parse(text, len, &p, &err) != 0) {
			fail_seeded(seed, i, err.what, text, len);
		}
		rc = slice_version_pattern_format(&p, buf, sizeof(buf));
		if (rc < 0 || (size_t)rc != len || memcmp(buf, text, len) != 0) {
			fail_seeded(seed, i, "format(parse(t)) != t", text, len);
		}
		assert_int_equal(slice_version_pattern_parse(buf, (size_t)rc, &q, NULL), 0);
		if (memcmp(&p, &q, sizeof(p)) != 0) {
			fail_seeded(seed, i, "parse(format(p)) != p", text, len);
		}
	}
}

/* What the pattern means, written from the definitions rather than from its bounds. */
static int
oracle_matches(const struct slice_version_pattern *p, const struct slice_version *v)
{
	const struct slice_version *w = &p->version;
	int cmp = slice_version_compare(v, w);

	switch (p->kind) {
	case SLICE_PATTERN_COMPARE:
		if (p->op[0] == '>') {
			return p->op[1] == '=' ? cmp >= 0 : cmp > 0;
		}
		return p->op[1] == '=' ? cmp <= 0 : cmp < 0;
	case SLICE_PATTERN_TILDE:
		return cmp >= 0 && v->major == w->major && v->minor == w->minor;
	case SLICE_PATTERN_CARET:
		if (w->major != 0) {
			return cmp >= 0 && v->major == w->major;
		}
		if (w->minor != 0) {
			return cmp >= 0 && v->major == 0 && v->minor == w->minor;
		}
		return cmp >= 0 && v->major == 0 && v->minor == 0 && v->patch == w->patch;
	case SLICE_PATTERN_EXACT:
		return cmp == 0;
	default:
		return -1;
	}
}

/* A version near w: equal, one number nudged, or another qualifier; ties are likely. */
static void
gen_version_near(struct base_prng *prng, const struct slice_version *w, struct slice_version *v)
{
	uint32_t *parts[3] = {&v->major, &v->minor, &v->patch};
	uint64_t which = base_prng_below(prng, 3);

	gen_version(prng, v);
	if (base_prng_chance(prng, 100000)) {
		return;
	}
	v->major = w->major;
	v->minor = w->minor;
	v->patch = w->patch;
	if (base_prng_chance(prng, 300000)) {
		*parts[which] += base_prng_chance(prng, 500000) ? 1u : UINT32_MAX;
	}
	if (base_prng_chance(prng, 300000)) {
		memcpy(v->qualifier, w->qualifier, sizeof(v->qualifier));
	}
}

static void
test_pattern_matching_agrees_with_an_oracle_on_random_inputs(void **state)
{
	struct base_prng prng;
	uint64_t seed = PROPERTY_SEED + 1;
	char text[SLICE_PATTERN_TEXT_MAX + 1];
	int match_count = 0;
	int checked_count = 0;

	(void)state;
	base_prng_init(&prng, seed);
	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		struct slice_version_pattern p;
		struct slice_version v;
		char vt[SLICE_VERSION_TEXT_MAX + 1];
		size_t len = gen_pattern_text(&prng, text);
		int want;
		int got;

		assert_int_equal(slice_version_pattern_parse(text, len, &p, NULL), 0);
		gen_version_near(&prng, &p.version, &v);
		want = oracle_matches(&p, &v);
		if (want < 0) {
			continue;
		}
		got = slice_version_pattern_matches(&p, &v);
		assert_true(slice_version_format(&v, vt, sizeof(vt)) > 0);
		check(got == want, "seed=%llu iteration=%d: %s matches %s: got %d, want %d",
		      (unsigned long long)seed, i, text, vt, got, want);
		match_count += got;
		checked_count++;
	}
	/* The generator must reach both outcomes, or the comparison proves little. */
	assert_true(match_count > checked_count / 10);
	assert_true(match_count < checked_count - checked_count / 10);
}

/*
 * Rejected cleanly or accepted with format(parse(m)) == m; never anything else. Returns 1 when
 * the mutant was accepted.
 */
static int
check_pattern_mutant(const char *m, size_t size, uint64_t seed, int iteration)
{
	struct slice_version_pattern p;
	struct base_parse_error err = {0, 0, NULL};
	char buf[SLICE_PATTERN_TEXT_MAX + 1];
	int rc = slice_version_pattern_parse(m, size, &p, &err);
	int len;

	if (rc != 0) {
		if (err.code != rc || err.offset > size || err.what == NULL) {
			fail_seeded(seed, iteration, "rejection without a consistent error", m,
				    size);
		}
		return 0;
	}
	len = slice_version_pattern_format(&p, buf, sizeof(buf));
	if (len < 0 || (size_t)len != size || memcmp(buf, m, size) != 0) {
		fail_seeded(seed, iteration, "accepted mutant does not round-trip", m, size);
	}
	return 1;
}

static void
test_pattern_mutated_text_is_rejected_or_round_trips(void **state)
{
	struct base_prng prng;
	uint64_t seed = PROPERTY_SEED + 2;
	char text[SLICE_PATTERN_TEXT_MAX + 8];
	int accepted_count = 0;

	(void)state;
	base_prng_init(&prng, seed);
	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		size_t len = gen_mutate(&prng, text, gen_pattern_text(&prng, text));
		/* Exactly len bytes on the heap: any read past the end is an ASan report. */
		char *m = malloc(len > 0 ? len : 1);

		assert_non_null(m);
		memcpy(m, text, len);
		accepted_count += check_pattern_mutant(m, len, seed, i);
		free(m);
	}
	assert_true(accepted_count > 0);
	assert_true(accepted_count < PROPERTY_ITERATIONS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_valid_patterns_round_trip_with_their_kind),
		cmocka_unit_test(test_pattern_invalid_patterns_report_code_and_offset),
		cmocka_unit_test(test_pattern_every_kind_denotes_the_documented_interval),
		cmocka_unit_test(test_pattern_fields_record_what_was_written),
		cmocka_unit_test(test_pattern_matches_respect_bounds_and_pre_releases),
		cmocka_unit_test(test_pattern_pick_chooses_the_highest_match),
		cmocka_unit_test(test_pattern_pick_reports_no_match_and_keeps_index),
		cmocka_unit_test(test_pattern_pick_prefers_the_first_of_equal_versions),
		cmocka_unit_test(test_pattern_format_reports_a_buffer_too_small),
		cmocka_unit_test(test_pattern_random_patterns_round_trip),
		cmocka_unit_test(test_pattern_matching_agrees_with_an_oracle_on_random_inputs),
		cmocka_unit_test(test_pattern_mutated_text_is_rejected_or_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
