/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: coordinates, names and versions have exactly one accepted spelling, every rejection
 * names the right error code and byte offset, and versions sort by semver 2.0 precedence.
 * Method: tables of valid texts (round trip) and invalid texts (code + offset, including NUL
 * bytes and inputs that are not NUL-terminated), a sorted chain of versions compared pairwise,
 * and seeded property tests: random valid values round-trip through format and parse, and
 * random one-byte mutations of valid text are either rejected cleanly or round-trip exactly.
 * Mutated inputs live in exactly-sized heap buffers so ASan catches any read past size.
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

#define PROPERTY_SEED       0x5eedc0de2024ULL
#define PROPERTY_ITERATIONS 10000

/* A text with an explicit size, so tables can hold NUL bytes. */
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

struct invalid_case {
	const char *text;
	size_t size;
	int code;
	size_t offset;
};

typedef int parse_fn(const char *text, size_t size, void *out, struct base_parse_error *err);

static int
parse_version(const char *text, size_t size, void *out, struct base_parse_error *err)
{
	return slice_version_parse(text, size, out, err);
}

static int
parse_name(const char *text, size_t size, void *out, struct base_parse_error *err)
{
	return slice_name_parse(text, size, out, err);
}

static int
parse_coord(const char *text, size_t size, void *out, struct base_parse_error *err)
{
	return slice_coord_parse(text, size, out, err);
}

/*
 * Each case fails with its code at its offset, with a message, and leaves *out untouched. The
 * input is copied to an exactly-sized heap buffer so reading past size is an ASan error.
 */
static void
assert_invalid_cases(parse_fn *parse, const struct invalid_case *cases, size_t count)
{
	union {
		struct slice_coord coord;
		struct slice_name name;
		struct slice_version version;
	} out;
	unsigned char untouched[sizeof(out)];

	memset(untouched, 0xa5, sizeof(untouched));
	for (size_t i = 0; i < count; i++) {
		struct base_parse_error err = {0, 0, NULL};
		char *text = malloc(cases[i].size + 1);
		int rc;

		assert_non_null(text);
		memcpy(text, cases[i].text, cases[i].size);
		memset(&out, 0xa5, sizeof(out));
		rc = parse(text, cases[i].size, &out, &err);
		check(rc == cases[i].code && err.offset == cases[i].offset,
		      "case %zu \"%s\": got %s at %zu (%s), want %s at %zu", i, cases[i].text,
		      base_errname(rc), err.offset, err.what ? err.what : "(null)",
		      base_errname(cases[i].code), cases[i].offset);
		assert_int_equal(err.code, rc);
		assert_non_null(err.what);
		assert_true(strlen(err.what) > 0);
		assert_memory_equal(&out, untouched, sizeof(out));
		free(text);
	}
}

static void
assert_version_round_trips(const char *text)
{
	struct slice_version v;
	struct base_parse_error err = {0, 0, NULL};
	char buf[SLICE_VERSION_TEXT_MAX + 1];
	int rc;

	rc = slice_version_parse(text, strlen(text), &v, &err);
	check(rc == 0, "\"%s\" rejected at %zu: %s", text, err.offset, err.what ? err.what : "");
	assert_int_equal(slice_version_format(&v, buf, sizeof(buf)), (int)strlen(text));
	assert_string_equal(buf, text);
}

static struct slice_version
version_of(const char *text)
{
	struct slice_version v;

	assert_int_equal(slice_version_parse(text, strlen(text), &v, NULL), 0);
	return v;
}

static void
test_coord_valid_coordinates_round_trip_exactly(void **state)
{
	static const char *const valid[] = {
		"com.example:foo:1.0.0",
		"org.apache.commons:commons-lang3:3.12.0",
		"io.aether.slices:kv-store:0.0.1-rc.1",
		"a.b:c:0.0.0",
		"a1.b2.c3:x9-2-y:10.20.30-A.b.C",
		"com.example:foo-2-bar:4294967295.4294967295.4294967295-RC.1.x9",
	};
	struct slice_coord c;
	char buf[SLICE_COORD_TEXT_MAX + 1];

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(valid); i++) {
		struct base_parse_error err = {0, 0, NULL};
		int rc;

		rc = slice_coord_parse(valid[i], strlen(valid[i]), &c, &err);
		check(rc == 0, "\"%s\" rejected at %zu: %s", valid[i], err.offset,
		      err.what ? err.what : "");
		assert_int_equal(slice_coord_format(&c, buf, sizeof(buf)), (int)strlen(valid[i]));
		assert_string_equal(buf, valid[i]);
	}
}

static void
test_coord_parse_fills_every_field(void **state)
{
	struct slice_coord c;

	(void)state;
	assert_int_equal(
		slice_coord_parse(TEXT("io.aether.slices:kv-store:12.0.345-rc.1"), &c, NULL), 0);
	assert_string_equal(c.name.group, "io.aether.slices");
	assert_string_equal(c.name.artifact, "kv-store");
	assert_int_equal(c.version.major, 12);
	assert_int_equal(c.version.minor, 0);
	assert_int_equal(c.version.patch, 345);
	assert_string_equal(c.version.qualifier, "rc.1");
}

static void
test_coord_valid_names_round_trip_exactly(void **state)
{
	static const char *const valid[] = {
		"com.example:foo",
		"a.b:c",
		"org.apache.commons:commons-lang3",
		"x.y.z.w:a-1-b-2",
	};
	struct slice_name n;
	char buf[SLICE_NAME_TEXT_MAX + 1];

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(valid); i++) {
		assert_int_equal(slice_name_parse(valid[i], strlen(valid[i]), &n, NULL), 0);
		assert_int_equal(slice_name_format(&n, buf, sizeof(buf)), (int)strlen(valid[i]));
		assert_string_equal(buf, valid[i]);
	}
	assert_int_equal(slice_name_parse(TEXT("org.apache.commons:commons-lang3"), &n, NULL), 0);
	assert_string_equal(n.group, "org.apache.commons");
	assert_string_equal(n.artifact, "commons-lang3");
}

static void
test_coord_valid_versions_round_trip_exactly(void **state)
{
	static const char *const valid[] = {
		"0.0.0",
		"1.2.3",
		"1.2.3-0",
		"1.2.3-rc1",
		"1.2.3-alpha.1.beta",
		"10.20.30-A.b.C",
		"4294967295.4294967295.4294967295",
		"1.0.0-0.3.7",
		"1.0.0-x.7.z.92",
		"1.0.0-01a",
		"1.0.0-a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p",
	};
	struct slice_version v;

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(valid); i++) {
		assert_version_round_trips(valid[i]);
	}
	v = version_of("4294967295.0.7-x.1");
	assert_int_equal(v.major, UINT32_MAX);
	assert_int_equal(v.minor, 0);
	assert_int_equal(v.patch, 7);
	assert_string_equal(v.qualifier, "x.1");
}

static void
test_coord_invalid_versions_report_code_and_offset(void **state)
{
	static const struct invalid_case cases[] = {
		{TEXT(""), -BASE_ERR_EMPTY, 0},
		{TEXT("1"), -BASE_ERR_SYNTAX, 1},
		{TEXT("1.2"), -BASE_ERR_SYNTAX, 3},
		{TEXT("1.2-rc1"), -BASE_ERR_SYNTAX, 3},
		{TEXT("1.2."), -BASE_ERR_EMPTY, 4},
		{TEXT("1..2"), -BASE_ERR_EMPTY, 2},
		{TEXT(".1.2"), -BASE_ERR_EMPTY, 0},
		{TEXT("01.2.3"), -BASE_ERR_SYNTAX, 0},
		{TEXT("1.02.3"), -BASE_ERR_SYNTAX, 2},
		{TEXT("1.2.03"), -BASE_ERR_SYNTAX, 4},
		{TEXT("1.2.00"), -BASE_ERR_SYNTAX, 4},
		{TEXT("1.2.3.4"), -BASE_ERR_SYNTAX, 5},
		{TEXT("1.2.3-"), -BASE_ERR_EMPTY, 6},
		{TEXT("1.2.3-rc..1"), -BASE_ERR_EMPTY, 9},
		{TEXT("1.2.3-rc."), -BASE_ERR_EMPTY, 9},
		{TEXT("1.2.3-.rc"), -BASE_ERR_EMPTY, 6},
		{TEXT("1.2.3-rc_1"), -BASE_ERR_BAD_CHAR, 8},
		{TEXT("1.2.3-+build"), -BASE_ERR_BAD_CHAR, 6},
		{TEXT("1.2.3-01"), -BASE_ERR_SYNTAX, 6},
		{TEXT("1.2.3-rc.01"), -BASE_ERR_SYNTAX, 9},
		{TEXT("1.2.3rc1"), -BASE_ERR_BAD_CHAR, 5},
		{TEXT("1.2.3 "), -BASE_ERR_BAD_CHAR, 5},
		{TEXT(" 1.2.3"), -BASE_ERR_BAD_CHAR, 0},
		{TEXT("v1.2.3"), -BASE_ERR_BAD_CHAR, 0},
		{TEXT("1.a.3"), -BASE_ERR_BAD_CHAR, 2},
		{TEXT("1x.2.3"), -BASE_ERR_BAD_CHAR, 1},
		{TEXT("1.2.3\0"), -BASE_ERR_BAD_CHAR, 5},
		{TEXT("\0001.2.3"), -BASE_ERR_BAD_CHAR, 0},
		{TEXT("1.\0.3"), -BASE_ERR_BAD_CHAR, 2},
		{TEXT("1.2.3-r\0c"), -BASE_ERR_BAD_CHAR, 7},
		{TEXT("1.2.3-\xc3\xa9"), -BASE_ERR_BAD_CHAR, 6},
		{TEXT("4294967296.0.0"), -BASE_ERR_RANGE, 0},
		{TEXT("1.99999999999999999999.0"), -BASE_ERR_RANGE, 2},
		{TEXT("1.2.4294967296"), -BASE_ERR_RANGE, 4},
	};

	(void)state;
	assert_invalid_cases(parse_version, cases, AE_ARRAY_SIZE(cases));
}

static void
test_coord_invalid_names_report_code_and_offset(void **state)
{
	static const struct invalid_case cases[] = {
		{TEXT(""), -BASE_ERR_EMPTY, 0},
		{TEXT("com"), -BASE_ERR_SYNTAX, 3},
		{TEXT("com:foo"), -BASE_ERR_SYNTAX, 3},
		{TEXT("com.example"), -BASE_ERR_SYNTAX, 11},
		{TEXT("com.example:"), -BASE_ERR_EMPTY, 12},
		{TEXT(":foo"), -BASE_ERR_EMPTY, 0},
		{TEXT(".com.example:foo"), -BASE_ERR_EMPTY, 0},
		{TEXT("com..example:foo"), -BASE_ERR_EMPTY, 4},
		{TEXT("com.example.:foo"), -BASE_ERR_EMPTY, 12},
		{TEXT("Com.example:foo"), -BASE_ERR_BAD_CHAR, 0},
		{TEXT("com.exAmple:foo"), -BASE_ERR_BAD_CHAR, 6},
		{TEXT("com.1example:foo"), -BASE_ERR_BAD_CHAR, 4},
		{TEXT("com.ex_ample:foo"), -BASE_ERR_BAD_CHAR, 6},
		{TEXT("com.ex-ample:foo"), -BASE_ERR_BAD_CHAR, 6},
		{TEXT("com.example:Foo"), -BASE_ERR_BAD_CHAR, 12},
		{TEXT("com.example:fOo"), -BASE_ERR_BAD_CHAR, 13},
		{TEXT("com.example:1foo"), -BASE_ERR_BAD_CHAR, 12},
		{TEXT("com.example:foo-"), -BASE_ERR_EMPTY, 16},
		{TEXT("com.example:-foo"), -BASE_ERR_EMPTY, 12},
		{TEXT("com.example:foo--bar"), -BASE_ERR_EMPTY, 16},
		{TEXT("com.example:foo.bar"), -BASE_ERR_BAD_CHAR, 15},
		{TEXT("com.example:foo bar"), -BASE_ERR_BAD_CHAR, 15},
		{TEXT("com.example:foo:1.0.0"), -BASE_ERR_SYNTAX, 15},
		{TEXT("com.example:foo\0"), -BASE_ERR_BAD_CHAR, 15},
		{TEXT("com.exa\0mple:foo"), -BASE_ERR_BAD_CHAR, 7},
	};

	(void)state;
	assert_invalid_cases(parse_name, cases, AE_ARRAY_SIZE(cases));
}

static void
test_coord_invalid_coordinates_report_code_and_offset(void **state)
{
	static const struct invalid_case cases[] = {
		{TEXT(""), -BASE_ERR_EMPTY, 0},
		{TEXT("com.example:foo"), -BASE_ERR_SYNTAX, 15},
		{TEXT("com.example:foo:"), -BASE_ERR_EMPTY, 16},
		{TEXT("com.example:foo:1.0"), -BASE_ERR_SYNTAX, 19},
		{TEXT("com.example:foo:1.0.0:"), -BASE_ERR_BAD_CHAR, 21},
		{TEXT("com.example:foo:01.0.0"), -BASE_ERR_SYNTAX, 16},
		{TEXT("com.example:foo:1.0.0-RC_1"), -BASE_ERR_BAD_CHAR, 24},
		{TEXT("com.example:foo:4294967296.0.0"), -BASE_ERR_RANGE, 16},
		{TEXT("com:foo:1.0.0"), -BASE_ERR_SYNTAX, 3},
		{TEXT("com.example:Foo:1.0.0"), -BASE_ERR_BAD_CHAR, 12},
		{TEXT("com.example::1.0.0"), -BASE_ERR_EMPTY, 12},
		{TEXT("com.example:foo:1.0.0\0"), -BASE_ERR_BAD_CHAR, 21},
		{TEXT("com.example:foo:1.0.0-rc.1.01"), -BASE_ERR_SYNTAX, 27},
		{TEXT("com.example:foo:1.0.0 "), -BASE_ERR_BAD_CHAR, 21},
	};

	(void)state;
	assert_invalid_cases(parse_coord, cases, AE_ARRAY_SIZE(cases));
}

static void
test_coord_limits_are_inclusive(void **state)
{
	char text[SLICE_COORD_TEXT_MAX + 2];
	char buf[SLICE_COORD_TEXT_MAX + 1];
	struct slice_coord c;
	size_t len = 0;

	(void)state;
	/* Exactly SLICE_GROUP_MAX, SLICE_ARTIFACT_MAX and SLICE_QUALIFIER_MAX bytes. */
	memcpy(text, "a.", 2);
	memset(text + 2, 'b', SLICE_GROUP_MAX - 2);
	len = SLICE_GROUP_MAX;
	text[len++] = ':';
	memset(text + len, 'c', SLICE_ARTIFACT_MAX);
	len += SLICE_ARTIFACT_MAX;
	memcpy(text + len, ":4294967295.4294967295.4294967295-", 34);
	len += 34;
	memset(text + len, 'q', SLICE_QUALIFIER_MAX);
	len += SLICE_QUALIFIER_MAX;
	assert_int_equal(len, SLICE_COORD_TEXT_MAX);
	assert_int_equal(slice_coord_parse(text, len, &c, NULL), 0);
	assert_int_equal(strlen(c.name.group), SLICE_GROUP_MAX);
	assert_int_equal(strlen(c.name.artifact), SLICE_ARTIFACT_MAX);
	assert_int_equal(strlen(c.version.qualifier), SLICE_QUALIFIER_MAX);
	assert_int_equal(slice_coord_format(&c, buf, sizeof(buf)), (int)SLICE_COORD_TEXT_MAX);
	assert_memory_equal(buf, text, len);
}

/* prefix, count copies of fill, then suffix into buf (NUL-terminated); returns the length. */
static size_t
build_text(char *buf, const char *prefix, char fill, size_t count, const char *suffix)
{
	size_t len = strlen(prefix);

	memcpy(buf, prefix, len);
	memset(buf + len, fill, count);
	len += count;
	memcpy(buf + len, suffix, strlen(suffix) + 1);
	return len + strlen(suffix);
}

static void
test_coord_one_byte_over_a_limit_is_too_long_at_that_byte(void **state)
{
	static char text[5][SLICE_COORD_TEXT_MAX * 2];
	struct invalid_case name_cases[2];
	struct invalid_case version_cases[2];
	struct invalid_case coord_cases[1];

	(void)state;
	/* A group of "a." and 127 more bytes: offset 128 is the first byte past the limit. */
	name_cases[0] = (struct invalid_case){
		text[0], build_text(text[0], "a.", 'b', SLICE_GROUP_MAX - 1, ":x"),
		-BASE_ERR_TOO_LONG, SLICE_GROUP_MAX};
	name_cases[1] = (struct invalid_case){
		text[1], build_text(text[1], "com.example:", 'a', SLICE_ARTIFACT_MAX + 1, ""),
		-BASE_ERR_TOO_LONG, 12 + SLICE_ARTIFACT_MAX};
	version_cases[0] = (struct invalid_case){
		text[2], build_text(text[2], "1.2.3-", 'a', SLICE_QUALIFIER_MAX + 1, ""),
		-BASE_ERR_TOO_LONG, 6 + SLICE_QUALIFIER_MAX};
	/* The byte past the limit is a '.', which counts as part of the qualifier. */
	version_cases[1] = (struct invalid_case){
		text[3], build_text(text[3], "1.2.3-", 'a', SLICE_QUALIFIER_MAX, ".b"),
		-BASE_ERR_TOO_LONG, 6 + SLICE_QUALIFIER_MAX};
	coord_cases[0] = (struct invalid_case){
		text[4], build_text(text[4], "a.b:c:1.2.3-", 'q', SLICE_QUALIFIER_MAX + 1, ""),
		-BASE_ERR_TOO_LONG, 12 + SLICE_QUALIFIER_MAX};
	assert_invalid_cases(parse_name, name_cases, AE_ARRAY_SIZE(name_cases));
	assert_invalid_cases(parse_version, version_cases, AE_ARRAY_SIZE(version_cases));
	assert_invalid_cases(parse_coord, coord_cases, AE_ARRAY_SIZE(coord_cases));
}

static void
test_coord_parse_reads_only_size_bytes(void **state)
{
	static const char text[] = "com.example:foo:1.2.3-rc.1XYZ";
	struct slice_coord c;
	struct slice_name n;
	struct slice_version v;

	(void)state;
	/* The bytes after size are not part of the input and must not be looked at. */
	assert_int_equal(slice_coord_parse(text, 26, &c, NULL), 0);
	assert_string_equal(c.version.qualifier, "rc.1");
	assert_int_equal(slice_name_parse(text, 15, &n, NULL), 0);
	assert_string_equal(n.artifact, "foo");
	assert_int_equal(slice_version_parse(text + 16, 5, &v, NULL), 0);
	assert_string_equal(v.qualifier, "");
	assert_int_equal(slice_version_parse(NULL, 0, &v, NULL), -BASE_ERR_EMPTY);
}

static void
test_coord_format_reports_a_buffer_too_small(void **state)
{
	struct slice_coord c;
	struct slice_name n;
	struct slice_version v;
	char buf[64];

	(void)state;
	assert_int_equal(slice_coord_parse(TEXT("com.example:foo:1.2.3-rc.1"), &c, NULL), 0);
	/* 26 bytes of text need 27 with the NUL. */
	assert_int_equal(slice_coord_format(&c, buf, 26), -ENOBUFS);
	assert_string_equal(buf, "");
	assert_int_equal(slice_coord_format(&c, buf, 27), 26);
	assert_string_equal(buf, "com.example:foo:1.2.3-rc.1");
	assert_int_equal(slice_coord_format(&c, NULL, 0), -ENOBUFS);

	n = c.name;
	assert_int_equal(slice_name_format(&n, buf, 15), -ENOBUFS);
	assert_int_equal(slice_name_format(&n, buf, 16), 15);
	v = c.version;
	assert_int_equal(slice_version_format(&v, buf, 10), -ENOBUFS);
	assert_int_equal(slice_version_format(&v, buf, 11), 10);
	assert_string_equal(buf, "1.2.3-rc.1");
}

static void
test_coord_equality_compares_every_field(void **state)
{
	struct slice_coord a;
	struct slice_coord b;

	(void)state;
	assert_int_equal(slice_coord_parse(TEXT("com.example:foo:1.2.3-rc.1"), &a, NULL), 0);
	assert_int_equal(slice_coord_parse(TEXT("com.example:foo:1.2.3-rc.1"), &b, NULL), 0);
	assert_true(slice_coord_equal(&a, &b));
	assert_true(slice_name_equal(&a.name, &b.name));
	assert_int_equal(slice_coord_parse(TEXT("com.example:foo:1.2.3-rc.2"), &b, NULL), 0);
	assert_false(slice_coord_equal(&a, &b));
	assert_true(slice_name_equal(&a.name, &b.name));
	assert_int_equal(slice_coord_parse(TEXT("com.example:foo:1.2.3"), &b, NULL), 0);
	assert_false(slice_coord_equal(&a, &b));
	assert_int_equal(slice_coord_parse(TEXT("com.example:fooo:1.2.3-rc.1"), &b, NULL), 0);
	assert_false(slice_coord_equal(&a, &b));
	assert_false(slice_name_equal(&a.name, &b.name));
	assert_int_equal(slice_coord_parse(TEXT("com.examples:foo:1.2.3-rc.1"), &b, NULL), 0);
	assert_false(slice_name_equal(&a.name, &b.name));
	assert_int_equal(slice_coord_parse(TEXT("com.example:foo:1.2.4-rc.1"), &b, NULL), 0);
	assert_false(slice_coord_equal(&a, &b));
}

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

static void
test_coord_versions_sort_by_semver_precedence(void **state)
{
	/* Strictly ascending. */
	static const char *const chain[] = {
		"0.0.0",          "0.0.1",
		"0.1.0",          "0.9.0",
		"0.10.0",         "1.0.0-0",
		"1.0.0-1",        "1.0.0-2",
		"1.0.0-10",       "1.0.0-1a",
		"1.0.0-RC",       "1.0.0-alpha",
		"1.0.0-alpha.1",  "1.0.0-alpha.beta",
		"1.0.0-beta",     "1.0.0-beta.2",
		"1.0.0-beta.11",  "1.0.0-rc.1",
		"1.0.0-rc1",      "1.0.0",
		"1.0.1",          "1.0.10",
		"1.1.0",          "2.0.0-0",
		"2.0.0",          "10.0.0",
		"4294967295.0.0", "4294967295.4294967295.4294967295",
	};
	struct slice_version v[AE_ARRAY_SIZE(chain)];

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(chain); i++) {
		v[i] = version_of(chain[i]);
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(chain); i++) {
		for (size_t j = 0; j < AE_ARRAY_SIZE(chain); j++) {
			int want = (i > j) - (i < j);

			check(sign(slice_version_compare(&v[i], &v[j])) == want,
			      "compare(%s, %s) should be %d", chain[i], chain[j], want);
		}
	}
}

static void
fail_seeded(uint64_t seed, int iteration, const char *what, const char *text, size_t size)
{
	fail_msg("seed=%llu iteration=%d: %s: \"%.*s\" (%zu bytes)", (unsigned long long)seed,
		 iteration, what, (int)size, text, size);
}

static void
test_coord_random_valid_values_round_trip(void **state)
{
	struct base_prng prng;
	uint64_t seed = PROPERTY_SEED;
	char buf[SLICE_COORD_TEXT_MAX + 1];

	(void)state;
	base_prng_init(&prng, seed);
	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		struct slice_coord c;
		struct slice_coord back;
		struct base_parse_error err = {0, 0, NULL};
		int len;

		memset(&back, 0, sizeof(back));
		gen_coord(&prng, &c);
		len = slice_coord_format(&c, buf, sizeof(buf));
		if (len <= 0 || slice_coord_parse(buf, (size_t)len, &back, &err) != 0) {
			fail_seeded(seed, i, err.what ? err.what : "format failed", buf,
				    strlen(buf));
		}
		/* NUL padding included: a parsed struct can be hashed or memcmp'd as bytes. */
		if (!slice_coord_equal(&c, &back) || memcmp(&c, &back, sizeof(c)) != 0) {
			fail_seeded(seed, i, "parse(format(c)) != c", buf, (size_t)len);
		}
	}
}

static void
test_coord_version_order_is_a_total_order_on_random_versions(void **state)
{
	struct base_prng prng;
	uint64_t seed = PROPERTY_SEED + 1;
	char text[SLICE_VERSION_TEXT_MAX + 1];

	(void)state;
	base_prng_init(&prng, seed);
	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		struct slice_version a;
		struct slice_version b;
		struct slice_version c;
		int ab;
		int bc;

		gen_version(&prng, &a);
		gen_version(&prng, &b);
		/* Often share the numbers so the qualifier comparison decides. */
		if (base_prng_chance(&prng, 700000)) {
			b.major = a.major;
			b.minor = a.minor;
			b.patch = a.patch;
		}
		c = b;
		ab = sign(slice_version_compare(&a, &b));
		bc = sign(slice_version_compare(&b, &c));
		assert_int_equal(slice_version_format(&a, text, sizeof(text)) > 0, 1);
		if (ab != -sign(slice_version_compare(&b, &a)) || bc != 0 ||
		    (ab == 0) != (memcmp(&a, &b, sizeof(a)) == 0)) {
			fail_seeded(seed, i, "compare is not antisymmetric or not exact", text,
				    strlen(text));
		}
		gen_version(&prng, &c);
		c.major = b.major;
		if (ab <= 0 && sign(slice_version_compare(&b, &c)) <= 0 &&
		    slice_version_compare(&a, &c) > 0) {
			fail_seeded(seed, i, "compare is not transitive", text, strlen(text));
		}
	}
}

/*
 * Rejected cleanly or accepted with format(parse(m)) == m; never anything else. Returns 1 when
 * the mutant was accepted.
 */
static int
check_mutant(parse_fn *parse, const char *m, size_t size, uint64_t seed, int iteration)
{
	union {
		struct slice_coord coord;
		struct slice_name name;
		struct slice_version version;
	} out;
	struct base_parse_error err = {0, 0, NULL};
	char buf[SLICE_COORD_TEXT_MAX + 1];
	int rc = parse(m, size, &out, &err);
	int len;

	if (rc != 0) {
		if (err.code != rc || err.offset > size || err.what == NULL) {
			fail_seeded(seed, iteration, "rejection without a consistent error", m,
				    size);
		}
		return 0;
	}
	if (parse == parse_coord) {
		len = slice_coord_format(&out.coord, buf, sizeof(buf));
	} else if (parse == parse_name) {
		len = slice_name_format(&out.name, buf, sizeof(buf));
	} else {
		len = slice_version_format(&out.version, buf, sizeof(buf));
	}
	if (len < 0 || (size_t)len != size || memcmp(buf, m, size) != 0) {
		fail_seeded(seed, iteration, "accepted mutant does not round-trip", m, size);
	}
	return 1;
}

static void
test_coord_mutated_text_is_rejected_or_round_trips(void **state)
{
	struct base_prng prng;
	uint64_t seed = PROPERTY_SEED + 2;
	char text[SLICE_COORD_TEXT_MAX + 8];
	int accepted_count = 0;

	(void)state;
	base_prng_init(&prng, seed);
	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		struct slice_coord c;
		int which = (int)base_prng_below(&prng, 3);
		parse_fn *parse = which == 0   ? parse_coord
				  : which == 1 ? parse_name
					       : parse_version;
		int rc;
		size_t len;
		char *m;

		gen_coord(&prng, &c);
		if (which == 0) {
			rc = slice_coord_format(&c, text, sizeof(text));
		} else if (which == 1) {
			rc = slice_name_format(&c.name, text, sizeof(text));
		} else {
			rc = slice_version_format(&c.version, text, sizeof(text));
		}
		assert_true(rc > 0);
		len = gen_mutate(&prng, text, (size_t)rc);
		/* Exactly len bytes on the heap: any read past the end is an ASan report. */
		m = malloc(len > 0 ? len : 1);
		assert_non_null(m);
		memcpy(m, text, len);
		accepted_count += check_mutant(parse, m, len, seed, i);
		free(m);
	}
	/* Both outcomes must occur, or the property says little. */
	assert_true(accepted_count > 0);
	assert_true(accepted_count < PROPERTY_ITERATIONS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coord_valid_coordinates_round_trip_exactly),
		cmocka_unit_test(test_coord_parse_fills_every_field),
		cmocka_unit_test(test_coord_valid_names_round_trip_exactly),
		cmocka_unit_test(test_coord_valid_versions_round_trip_exactly),
		cmocka_unit_test(test_coord_invalid_versions_report_code_and_offset),
		cmocka_unit_test(test_coord_invalid_names_report_code_and_offset),
		cmocka_unit_test(test_coord_invalid_coordinates_report_code_and_offset),
		cmocka_unit_test(test_coord_limits_are_inclusive),
		cmocka_unit_test(test_coord_one_byte_over_a_limit_is_too_long_at_that_byte),
		cmocka_unit_test(test_coord_parse_reads_only_size_bytes),
		cmocka_unit_test(test_coord_format_reports_a_buffer_too_small),
		cmocka_unit_test(test_coord_equality_compares_every_field),
		cmocka_unit_test(test_coord_versions_sort_by_semver_precedence),
		cmocka_unit_test(test_coord_random_valid_values_round_trip),
		cmocka_unit_test(test_coord_version_order_is_a_total_order_on_random_versions),
		cmocka_unit_test(test_coord_mutated_text_is_rejected_or_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
