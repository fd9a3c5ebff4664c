/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: a slice manifest has exactly one accepted spelling, every rejection names the right
 * code, byte offset and line, the bounds (entries, dependencies, line and text size) are exact,
 * and the builders keep the lists in the order the parser demands. Method: tables of valid
 * texts (parse, format, compare bytes) and invalid texts (code + line + offset), generated texts
 * at and one past every limit, and seeded property tests: random manifests built with the
 * builders round-trip through format and parse, and random one-byte mutations of valid text are
 * either rejected with a consistent error or round-trip exactly. Every input is parsed from an
 * exactly-sized heap copy so ASan catches a read past size.
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
#include "base/prng.h"
#include "coord_gen.h"
#include "slices/manifest.h"

#define PROPERTY_SEED       0x6d616e6966657374ULL
#define PROPERTY_ITERATIONS 1000

/* A text with an explicit size, so tables can hold NUL bytes. */
#define TEXT(s) (s), sizeof(s) - 1

/* The fixed lines of a small valid manifest, with their lengths in the comments. */
#define HEAD   "aether-manifest 1\n"                         /* 18, ends at 18 */
#define COORD  "coord org.a:x:1.0.0\n"                       /* 20, ends at 38 */
#define ABI    "abi 1\n"                                     /* 6, ends at 44 */
#define SIZE   "size 10\n"                                   /* 8, ends at 52 */
#define DIGEST "xxh3-128 000102030405060708090a0b0c0d0e0f\n" /* 42, ends at 94 */
#define PRE    HEAD COORD ABI SIZE DIGEST                    /* lines 1-5, 94 bytes */
#define ENTRY  "entry run\n"                                 /* 10, ends at 104 */

struct fixture {
	struct slice_manifest m;
	struct slice_manifest again;
	struct slice_manifest_error err;
	char buf[SLICE_MANIFEST_TEXT_MAX + 1];
	char text[SLICE_MANIFEST_TEXT_MAX + 64];
	struct base_prng prng;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	base_prng_init(&f->prng, PROPERTY_SEED);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

/* Parses text[0..size) from an exactly-sized heap copy. */
static int
parse_copy(const char *text, size_t size, struct slice_manifest *out,
	   struct slice_manifest_error *err)
{
	char *copy = malloc(size > 0 ? size : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, size);
	rc = slice_manifest_parse(copy, size, out, err);
	free(copy);
	return rc;
}

/* The 1-based line holding offset in text. */
static uint32_t
line_of(const char *text, size_t size, size_t offset)
{
	uint32_t line = 1;

	for (size_t i = 0; i < offset && i < size; i++) {
		line += text[i] == '\n';
	}
	return line;
}

/* Parses, formats and compares: the text must come back byte for byte. */
static void
assert_round_trips(struct fixture *f, const char *text, size_t size)
{
	int rc = parse_copy(text, size, &f->m, &f->err);
	int len;

	if (rc != 0) {
		print_error("rejected (%s at line %u offset %zu): %.*s\n", f->err.parse.what,
			    f->err.line, f->err.parse.offset, (int)size, text);
	}
	assert_int_equal(rc, 0);
	len = slice_manifest_format(&f->m, f->buf, sizeof(f->buf));
	assert_int_equal(len, (int)size);
	assert_memory_equal(f->buf, text, size);
	assert_int_equal(slice_manifest_parse(f->buf, (size_t)len, &f->again, NULL), 0);
	assert_true(slice_manifest_equal(&f->m, &f->again));
	assert_memory_equal(&f->m, &f->again, sizeof(f->m));
}

static void
test_manifest_valid_texts_round_trip_exactly(void **state)
{
	static const char *const valid[] = {
		PRE ENTRY,
		PRE "entry greet idempotent\nentry shout\n"
		    "depends org.example:text-utils ^1.0.0\n",
		HEAD "coord org.example.deep:greeter-v2:1.2.0-rc.1\nabi 4294967295\n"
		     "size 1073741824\nxxh3-128 ffffffffffffffffffffffffffffffff\n"
		     "entry _private idempotent\nentry a1\nentry a_b\n"
		     "depends org.a:b [1.0.0,2.0.0)\ndepends org.a:b-c ~0.2.3\n"
		     "depends org.b:a >=1.0.0-alpha\ndepends org.b:a0 (,3.0.0]\n"
		     "depends org.c:d 1.0.0\n",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < AE_ARRAY_SIZE(valid); i++) {
		assert_round_trips(f, valid[i], strlen(valid[i]));
	}
}

static void
test_manifest_parse_fills_every_field(void **state)
{
	static const char text[] = HEAD "coord org.example:greeter:1.2.0\nabi 3\nsize 16384\n"
					"xxh3-128 0123456789abcdef00112233445566ff\n"
					"entry greet idempotent\nentry shout\n"
					"depends org.example:text-utils ^1.0.0\n";
	struct fixture *f = *state;
	char pattern[SLICE_PATTERN_TEXT_MAX + 1];

	assert_int_equal(parse_copy(TEXT(text), &f->m, &f->err), 0);
	assert_string_equal(f->m.coord.name.group, "org.example");
	assert_string_equal(f->m.coord.name.artifact, "greeter");
	assert_int_equal(f->m.coord.version.major, 1);
	assert_int_equal(f->m.coord.version.minor, 2);
	assert_int_equal(f->m.abi_version, 3);
	assert_int_equal(f->m.size, 16384);
	assert_true(f->m.xxh3_128.high == 0x0123456789abcdefULL);
	assert_true(f->m.xxh3_128.low == 0x00112233445566ffULL);
	assert_int_equal(f->m.entry_count, 2);
	assert_string_equal(f->m.entries[0].name, "greet");
	assert_int_equal(f->m.entries[0].is_idempotent, 1);
	assert_string_equal(f->m.entries[1].name, "shout");
	assert_int_equal(f->m.entries[1].is_idempotent, 0);
	assert_int_equal(f->m.dep_count, 1);
	assert_string_equal(f->m.deps[0].name.artifact, "text-utils");
	assert_int_equal(
		slice_version_pattern_format(&f->m.deps[0].pattern, pattern, sizeof(pattern)), 6);
	assert_string_equal(pattern, "^1.0.0");
}

struct invalid_case {
	const char *text;
	size_t size;
	int code;
	uint32_t line;
	size_t offset;
};

static void
test_manifest_invalid_texts_report_code_line_and_offset(void **state)
{
	static const struct invalid_case cases[] = {
		{TEXT(""), -BASE_ERR_EMPTY, 1, 0},
		{TEXT("aether-manifest 1"), -BASE_ERR_SYNTAX, 1, 17},
		{TEXT("aether-manifest 2\n"), -BASE_ERR_VERSION, 1, 16},
		{TEXT("aether-manifest 01\n"), -BASE_ERR_SYNTAX, 1, 16},
		{TEXT("aether-manifest 99999999999\n"), -BASE_ERR_RANGE, 1, 16},
		{TEXT("aether-manifest  1\n"), -BASE_ERR_SYNTAX, 1, 16},
		{TEXT("aether-manifest 1 \n"), -BASE_ERR_SYNTAX, 1, 17},
		{TEXT(" aether-manifest 1\n"), -BASE_ERR_SYNTAX, 1, 0},
		{TEXT("aether-manifest\n"), -BASE_ERR_EMPTY, 1, 15},
		{TEXT("aether-manifest 1\r\n"), -BASE_ERR_BAD_CHAR, 1, 17},
		{TEXT("aether-manifest\t1\n"), -BASE_ERR_BAD_CHAR, 1, 15},
		{TEXT("aether-manifest 1\n\0"), -BASE_ERR_BAD_CHAR, 2, 18},
		{TEXT("aether-manifest 1\n\xc3\xa9"), -BASE_ERR_BAD_CHAR, 2, 18},
		{TEXT("manifest 1\n"), -BASE_ERR_SYNTAX, 1, 0},
		{TEXT(HEAD "\n"), -BASE_ERR_EMPTY, 2, 18},
		{TEXT(HEAD), -BASE_ERR_SYNTAX, 2, 18},
		{TEXT(HEAD "abi 1\n"), -BASE_ERR_SYNTAX, 2, 18},
		{TEXT(HEAD "coord org.a:X:1.0.0\n"), -BASE_ERR_BAD_CHAR, 2, 30},
		{TEXT(HEAD "coord org.a:x:1.0\n"), -BASE_ERR_SYNTAX, 2, 35},
		{TEXT(HEAD "coord org.a:x:1.0.0 extra\n"), -BASE_ERR_SYNTAX, 2, 38},
		{TEXT(HEAD COORD "abi 0\n"), -BASE_ERR_RANGE, 3, 42},
		{TEXT(HEAD COORD "abi 4294967296\n"), -BASE_ERR_RANGE, 3, 42},
		{TEXT(HEAD COORD "abi x\n"), -BASE_ERR_BAD_CHAR, 3, 42},
		{TEXT(HEAD COORD "abi -1\n"), -BASE_ERR_BAD_CHAR, 3, 42},
		{TEXT(HEAD COORD "size 10\n"), -BASE_ERR_SYNTAX, 3, 38},
		{TEXT(HEAD COORD ABI "size 0\n"), -BASE_ERR_RANGE, 4, 49},
		{TEXT(HEAD COORD ABI "size 1073741825\n"), -BASE_ERR_RANGE, 4, 49},
		{TEXT(HEAD COORD ABI SIZE "xxh3-128 000102030405060708090A0b0c0d0e0f\n"),
		 -BASE_ERR_BAD_CHAR, 5, 82},
		{TEXT(HEAD COORD ABI SIZE "xxh3-128 000102030405060708090g0b0c0d0e0f\n"),
		 -BASE_ERR_BAD_CHAR, 5, 82},
		{TEXT(HEAD COORD ABI SIZE "xxh3-128 000102030405060708090a0b0c0d0e0\n"),
		 -BASE_ERR_SYNTAX, 5, 61},
		{TEXT(HEAD COORD ABI SIZE "xxh3-128 000102030405060708090a0b0c0d0e0f0\n"),
		 -BASE_ERR_SYNTAX, 5, 61},
		{TEXT(PRE), -BASE_ERR_SYNTAX, 6, 94},
		{TEXT(PRE "depends org.b:y ^1.0.0\n"), -BASE_ERR_SYNTAX, 6, 94},
		{TEXT(PRE "entry Run\n"), -BASE_ERR_BAD_CHAR, 6, 100},
		{TEXT(PRE "entry 1run\n"), -BASE_ERR_BAD_CHAR, 6, 100},
		{TEXT(PRE "entry ru-n\n"), -BASE_ERR_BAD_CHAR, 6, 102},
		{TEXT(PRE "entry run fast\n"), -BASE_ERR_SYNTAX, 6, 104},
		{TEXT(PRE "entry run idempotent extra\n"), -BASE_ERR_SYNTAX, 6, 115},
		{TEXT(PRE "entry b\nentry a\n"), -BASE_ERR_SYNTAX, 7, 108},
		{TEXT(PRE "entry a\nentry a\n"), -BASE_ERR_SYNTAX, 7, 108},
		{TEXT(PRE "entry ab\nentry a\n"), -BASE_ERR_SYNTAX, 7, 109},
		{TEXT(PRE ENTRY "depends org.b:y ^1.0.0\nentry z\n"), -BASE_ERR_SYNTAX, 8, 127},
		{TEXT(PRE ENTRY "depends org.a:x ^2.0.0\n"), -BASE_ERR_SYNTAX, 7, 112},
		{TEXT(PRE ENTRY "depends org.c:y ^1.0.0\ndepends org.b:y ^1.0.0\n"),
		 -BASE_ERR_SYNTAX, 8, 135},
		{TEXT(PRE ENTRY "depends org.b:y ^1.0.0\ndepends org.b:y ^2.0.0\n"),
		 -BASE_ERR_SYNTAX, 8, 135},
		{TEXT(PRE ENTRY "depends org.b:y\n"), -BASE_ERR_EMPTY, 7, 119},
		{TEXT(PRE ENTRY "depends org.b:y ^1.0\n"), -BASE_ERR_SYNTAX, 7, 124},
		{TEXT(PRE ENTRY "depends org.b ^1.0.0\n"), -BASE_ERR_SYNTAX, 7, 117},
		{TEXT(PRE ENTRY "depends org.b:y:1.0.0 ^1.0.0\n"), -BASE_ERR_SYNTAX, 7, 119},
		{TEXT(PRE ENTRY "bogus\n"), -BASE_ERR_SYNTAX, 7, 104},
		{TEXT(PRE ENTRY "\n"), -BASE_ERR_EMPTY, 7, 104},
		{TEXT(PRE ENTRY "entry"), -BASE_ERR_SYNTAX, 7, 109},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < AE_ARRAY_SIZE(cases); i++) {
		const struct invalid_case *c = &cases[i];
		int rc;

		memset(&f->m, 0x5a, sizeof(f->m));
		memset(&f->err, 0, sizeof(f->err));
		rc = parse_copy(c->text, c->size, &f->m, &f->err);
		if (rc != c->code || f->err.line != c->line || f->err.parse.offset != c->offset) {
			print_error("case %zu: got %s line %u offset %zu (%s), want %s line %u "
				    "offset %zu\n",
				    i, base_errname(rc), f->err.line, f->err.parse.offset,
				    f->err.parse.what ? f->err.parse.what : "-",
				    base_errname(c->code), c->line, c->offset);
		}
		assert_int_equal(rc, c->code);
		assert_int_equal(f->err.parse.code, c->code);
		assert_int_equal(f->err.line, c->line);
		assert_int_equal(f->err.parse.offset, c->offset);
		assert_non_null(f->err.parse.what);
		/* The line field always names the line that holds the offset. */
		assert_int_equal(f->err.line, line_of(c->text, c->size, c->offset));
		/* *out is untouched on failure. */
		for (size_t b = 0; b < sizeof(f->m); b++) {
			assert_int_equal(((const unsigned char *)&f->m)[b], 0x5a);
		}
	}
}

/* Appends text to f->text at *len. */
static void
put(struct fixture *f, size_t *len, const char *text)
{
	size_t n = strlen(text);

	assert_true(*len + n <= sizeof(f->text));
	memcpy(f->text + *len, text, n);
	*len += n;
}

/* PRE plus count entries e000, e001, ... and dep_count depends org.d:d000, ... */
static size_t
build_text(struct fixture *f, size_t count, size_t dep_count, size_t *last_line_offset)
{
	char line[64];
	size_t len = 0;

	put(f, &len, PRE);
	for (size_t i = 0; i < count; i++) {
		*last_line_offset = len;
		snprintf(line, sizeof(line), "entry e%03zu\n", i);
		put(f, &len, line);
	}
	for (size_t i = 0; i < dep_count; i++) {
		*last_line_offset = len;
		snprintf(line, sizeof(line), "depends org.d:d%03zu ^1.0.0\n", i);
		put(f, &len, line);
	}
	return len;
}

static void
test_manifest_entry_and_dependency_limits_are_exact(void **state)
{
	struct fixture *f = *state;
	size_t last = 0;
	size_t len;

	len = build_text(f, SLICE_MANIFEST_ENTRIES_MAX, SLICE_MANIFEST_DEPS_MAX, &last);
	assert_round_trips(f, f->text, len);
	assert_int_equal(f->m.entry_count, SLICE_MANIFEST_ENTRIES_MAX);
	assert_int_equal(f->m.dep_count, SLICE_MANIFEST_DEPS_MAX);

	len = build_text(f, SLICE_MANIFEST_ENTRIES_MAX + 1, 0, &last);
	assert_int_equal(parse_copy(f->text, len, &f->m, &f->err), -BASE_ERR_FULL);
	assert_int_equal(f->err.parse.offset, last);
	assert_int_equal(f->err.line, 5 + SLICE_MANIFEST_ENTRIES_MAX + 1);

	len = build_text(f, 1, SLICE_MANIFEST_DEPS_MAX + 1, &last);
	assert_int_equal(parse_copy(f->text, len, &f->m, &f->err), -BASE_ERR_FULL);
	assert_int_equal(f->err.parse.offset, last);
	assert_int_equal(f->err.line, 5 + 1 + SLICE_MANIFEST_DEPS_MAX + 1);
}

static void
test_manifest_line_and_text_limits_are_exact(void **state)
{
	struct fixture *f = *state;
	size_t len = 0;

	/* A 512-byte line passes the byte bounds and fails only on the method's own limit. */
	put(f, &len, PRE "entry ");
	memset(f->text + len, 'a', SLICE_MANIFEST_LINE_MAX - 6);
	len += SLICE_MANIFEST_LINE_MAX - 6;
	put(f, &len, "\n");
	assert_int_equal(parse_copy(f->text, len, &f->m, &f->err), -BASE_ERR_TOO_LONG);
	assert_int_equal(f->err.parse.offset, 94 + 6 + SLICE_METHOD_MAX);

	/* One byte more and the line itself is too long, at its 513th byte. */
	f->text[len - 1] = 'a';
	put(f, &len, "\n");
	assert_int_equal(parse_copy(f->text, len, &f->m, &f->err), -BASE_ERR_TOO_LONG);
	assert_int_equal(f->err.parse.offset, 94 + SLICE_MANIFEST_LINE_MAX);
	assert_int_equal(f->err.line, 6);

	/* Exactly TEXT_MAX bytes pass the bounds (and fail later, on a field); one more does not.
	 */
	len = 0;
	put(f, &len, PRE);
	while (len + 8 <= SLICE_MANIFEST_TEXT_MAX) {
		put(f, &len, "entry a\n");
	}
	memset(f->text + len, 'x', SLICE_MANIFEST_TEXT_MAX - len);
	len = SLICE_MANIFEST_TEXT_MAX;
	f->text[len - 1] = '\n';
	assert_int_not_equal(parse_copy(f->text, len, &f->m, &f->err), -BASE_ERR_TOO_LONG);
	f->text[len++] = '\n';
	assert_int_equal(parse_copy(f->text, len, &f->m, &f->err), -BASE_ERR_TOO_LONG);
	assert_int_equal(f->err.parse.offset, SLICE_MANIFEST_TEXT_MAX);
	assert_int_equal(f->err.line, line_of(f->text, len, SLICE_MANIFEST_TEXT_MAX));
}

static void
test_manifest_format_reports_a_buffer_too_small(void **state)
{
	static const char text[] = PRE ENTRY;
	struct fixture *f = *state;
	size_t size = sizeof(text) - 1;

	assert_int_equal(parse_copy(TEXT(text), &f->m, NULL), 0);
	assert_int_equal(slice_manifest_format(&f->m, f->buf, size), -ENOBUFS);
	assert_string_equal(f->buf, "");
	assert_int_equal(slice_manifest_format(&f->m, NULL, 0), -ENOBUFS);
	assert_int_equal(slice_manifest_format(&f->m, f->buf, size + 1), (int)size);
	assert_string_equal(f->buf, text);
}

static void
test_manifest_method_grammar_matches_the_kv_key_schema(void **state)
{
	static const char *const good[] = {
		"a",     "_",
		"greet", "do_it_2",
		"_x9",   "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"};
	static const struct {
		const char *text;
		int code;
		size_t offset;
	} bad[] = {
		{"", -BASE_ERR_EMPTY, 0},
		{"Greet", -BASE_ERR_BAD_CHAR, 0},
		{"9a", -BASE_ERR_BAD_CHAR, 0},
		{"a-b", -BASE_ERR_BAD_CHAR, 1},
		{"a.b", -BASE_ERR_BAD_CHAR, 1},
		{"aB", -BASE_ERR_BAD_CHAR, 1},
		{"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345",
		 -BASE_ERR_TOO_LONG, SLICE_METHOD_MAX},
	};
	struct base_parse_error err;

	(void)state;
	assert_int_equal(SLICE_METHOD_MAX, 64);
	for (size_t i = 0; i < AE_ARRAY_SIZE(good); i++) {
		assert_int_equal(slice_method_check(good[i], strlen(good[i]), &err), 0);
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(slice_method_check(bad[i].text, strlen(bad[i].text), &err),
				 bad[i].code);
		assert_int_equal(err.offset, bad[i].offset);
	}
}

static void
parse_name_pattern(const char *name, const char *pattern, struct slice_name *n,
		   struct slice_version_pattern *p)
{
	assert_int_equal(slice_name_parse(name, strlen(name), n, NULL), 0);
	assert_int_equal(slice_version_pattern_parse(pattern, strlen(pattern), p, NULL), 0);
}

static void
test_manifest_builders_keep_lists_sorted_and_refuse_duplicates(void **state)
{
	static const char want[] = HEAD "coord org.a:x:1.0.0\nabi 2\nsize 99\n"
					"xxh3-128 00000000000000010000000000000002\n"
					"entry alpha\nentry beta idempotent\nentry gamma\n"
					"depends org.b0:y ^1.0.0\ndepends org.b:y ~1.2.0\n"
					"depends org.c:z >=2.0.0\n";
	struct fixture *f = *state;
	struct slice_coord c;
	struct slice_name n;
	struct slice_version_pattern p;
	struct base_hash128 h = {2, 1};

	assert_int_equal(slice_coord_parse(TEXT("org.a:x:1.0.0"), &c, NULL), 0);
	slice_manifest_init(&f->m, &c, 2, 99, h);
	assert_int_equal(slice_manifest_add_entry(&f->m, TEXT("gamma"), 0), 0);
	assert_int_equal(slice_manifest_add_entry(&f->m, TEXT("alpha"), 0), 0);
	assert_int_equal(slice_manifest_add_entry(&f->m, TEXT("beta"), 1), 0);
	assert_int_equal(slice_manifest_add_entry(&f->m, TEXT("beta"), 0), -EEXIST);
	assert_int_equal(slice_manifest_add_entry(&f->m, TEXT("Beta"), 0), -BASE_ERR_BAD_CHAR);
	assert_int_equal(slice_manifest_add_entry(&f->m, TEXT(""), 0), -BASE_ERR_EMPTY);
	parse_name_pattern("org.c:z", ">=2.0.0", &n, &p);
	assert_int_equal(slice_manifest_add_dep(&f->m, &n, &p), 0);
	/*
	 * "org.b0:y" sorts before "org.b:y" as text ('0' < ':'), although the group "org.b" sorts
	 * first as a string: the order is that of the lines an operator reads.
	 */
	parse_name_pattern("org.b0:y", "^1.0.0", &n, &p);
	assert_int_equal(slice_manifest_add_dep(&f->m, &n, &p), 0);
	parse_name_pattern("org.b:y", "~1.2.0", &n, &p);
	assert_int_equal(slice_manifest_add_dep(&f->m, &n, &p), 0);
	assert_int_equal(slice_manifest_add_dep(&f->m, &n, &p), -EEXIST);
	parse_name_pattern("org.a:x", "^1.0.0", &n, &p);
	assert_int_equal(slice_manifest_add_dep(&f->m, &n, &p), -EINVAL);
	assert_int_equal(slice_manifest_format(&f->m, f->buf, sizeof(f->buf)),
			 (int)sizeof(want) - 1);
	assert_string_equal(f->buf, want);
	assert_round_trips(f, want, sizeof(want) - 1);
}

static void
test_manifest_builders_stop_at_the_limits(void **state)
{
	struct fixture *f = *state;
	struct slice_coord c;
	struct slice_name n;
	struct slice_version_pattern p;
	struct base_hash128 h = {0, 0};
	char name[32];

	assert_int_equal(slice_coord_parse(TEXT("org.a:x:1.0.0"), &c, NULL), 0);
	slice_manifest_init(&f->m, &c, 1, 1, h);
	for (int i = 0; i < SLICE_MANIFEST_ENTRIES_MAX; i++) {
		int len = snprintf(name, sizeof(name), "m%02d", SLICE_MANIFEST_ENTRIES_MAX - i);

		assert_int_equal(slice_manifest_add_entry(&f->m, name, (size_t)len, i % 2), 0);
	}
	assert_int_equal(slice_manifest_add_entry(&f->m, TEXT("zz"), 0), -BASE_ERR_FULL);
	for (int i = 0; i < SLICE_MANIFEST_DEPS_MAX; i++) {
		snprintf(name, sizeof(name), "org.d:d%02d", SLICE_MANIFEST_DEPS_MAX - i);
		parse_name_pattern(name, "1.0.0", &n, &p);
		assert_int_equal(slice_manifest_add_dep(&f->m, &n, &p), 0);
	}
	parse_name_pattern("org.e:e", "1.0.0", &n, &p);
	assert_int_equal(slice_manifest_add_dep(&f->m, &n, &p), -BASE_ERR_FULL);
	assert_int_equal(f->m.entry_count, SLICE_MANIFEST_ENTRIES_MAX);
	assert_int_equal(f->m.dep_count, SLICE_MANIFEST_DEPS_MAX);
	assert_string_equal(f->m.entries[0].name, "m01");
	assert_string_equal(f->m.deps[0].name.artifact, "d01");
	assert_true(slice_manifest_format(&f->m, f->buf, sizeof(f->buf)) > 0);
	assert_round_trips(f, f->buf, strlen(f->buf));
}

static void
test_manifest_find_entry_finds_exactly_the_listed_names(void **state)
{
	static const char text[] = PRE "entry a\nentry ab idempotent\nentry b\n";
	struct fixture *f = *state;
	const struct slice_manifest_entry *e;

	assert_int_equal(parse_copy(TEXT(text), &f->m, NULL), 0);
	e = slice_manifest_find_entry(&f->m, TEXT("ab"));
	assert_non_null(e);
	assert_string_equal(e->name, "ab");
	assert_int_equal(e->is_idempotent, 1);
	assert_non_null(slice_manifest_find_entry(&f->m, TEXT("a")));
	assert_non_null(slice_manifest_find_entry(&f->m, TEXT("b")));
	assert_null(slice_manifest_find_entry(&f->m, TEXT("abc")));
	assert_null(slice_manifest_find_entry(&f->m, "ab", 0));
	assert_null(slice_manifest_find_entry(&f->m, TEXT("c")));
	assert_null(slice_manifest_find_entry(&f->m, TEXT("0")));
}

static void
test_manifest_equality_compares_every_field(void **state)
{
	static const char base[] = PRE "entry a idempotent\ndepends org.b:y ^1.0.0\n";
	static const char *const others[] = {
		HEAD "coord org.a:x:1.0.1\n" ABI SIZE DIGEST "entry a idempotent\n"
		     "depends org.b:y ^1.0.0\n",
		HEAD COORD "abi 2\n" SIZE DIGEST "entry a idempotent\ndepends org.b:y ^1.0.0\n",
		HEAD COORD ABI "size 11\n" DIGEST "entry a idempotent\ndepends org.b:y ^1.0.0\n",
		HEAD COORD ABI SIZE "xxh3-128 000102030405060708090a0b0c0d0e0e\n"
				    "entry a idempotent\ndepends org.b:y ^1.0.0\n",
		PRE "entry a\ndepends org.b:y ^1.0.0\n",
		PRE "entry b idempotent\ndepends org.b:y ^1.0.0\n",
		PRE "entry a idempotent\nentry b\ndepends org.b:y ^1.0.0\n",
		PRE "entry a idempotent\n",
		PRE "entry a idempotent\ndepends org.b:z ^1.0.0\n",
		PRE "entry a idempotent\ndepends org.b:y ~1.0.0\n",
	};
	struct fixture *f = *state;

	assert_int_equal(parse_copy(TEXT(base), &f->m, NULL), 0);
	assert_true(slice_manifest_equal(&f->m, &f->m));
	for (size_t i = 0; i < AE_ARRAY_SIZE(others); i++) {
		assert_int_equal(parse_copy(others[i], strlen(others[i]), &f->again, NULL), 0);
		assert_false(slice_manifest_equal(&f->m, &f->again));
		assert_false(slice_manifest_equal(&f->again, &f->m));
	}
}

/* A random valid manifest built with the builders. */
static void
gen_manifest(struct fixture *f, struct slice_manifest *m)
{
	struct slice_coord c;
	struct base_hash128 h = {base_prng_next(&f->prng), base_prng_next(&f->prng)};
	size_t entries = 1 + (size_t)base_prng_below(&f->prng, SLICE_MANIFEST_ENTRIES_MAX);
	size_t deps = (size_t)base_prng_below(&f->prng, SLICE_MANIFEST_DEPS_MAX + 1);
	char name[SLICE_METHOD_MAX];

	gen_coord(&f->prng, &c);
	slice_manifest_init(m, &c, 1 + (uint32_t)base_prng_below(&f->prng, UINT32_MAX),
			    1 + base_prng_below(&f->prng, SLICE_MANIFEST_SO_SIZE_MAX), h);
	while (m->entry_count < entries) {
		size_t len = 1 + (size_t)base_prng_below(&f->prng, sizeof(name));

		name[0] = gen_pick(&f->prng, "abcxyz_");
		for (size_t i = 1; i < len; i++) {
			name[i] = gen_pick(&f->prng, "ab_09");
		}
		/* Duplicates are refused; the loop simply draws again. */
		(void)!slice_manifest_add_entry(m, name, len, (int)base_prng_below(&f->prng, 2));
	}
	while (m->dep_count < deps) {
		struct slice_name n;
		struct slice_version_pattern p;
		char text[SLICE_PATTERN_TEXT_MAX + 1];
		size_t len = gen_pattern_text(&f->prng, text);

		gen_name(&f->prng, &n);
		assert_int_equal(slice_version_pattern_parse(text, len, &p, NULL), 0);
		(void)!slice_manifest_add_dep(m, &n, &p);
	}
}

static void
test_manifest_random_manifests_round_trip(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		struct slice_manifest built;
		int len;

		gen_manifest(f, &built);
		len = slice_manifest_format(&built, f->text, sizeof(f->text));
		assert_true(len > 0);
		assert_true(len <= SLICE_MANIFEST_TEXT_MAX);
		assert_round_trips(f, f->text, (size_t)len);
		assert_true(slice_manifest_equal(&built, &f->m));
	}
}

static void
test_manifest_mutated_text_is_rejected_or_round_trips(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < PROPERTY_ITERATIONS; i++) {
		struct slice_manifest built;
		int len;
		size_t size;
		int rc;

		gen_manifest(f, &built);
		len = slice_manifest_format(&built, f->text, sizeof(f->text) - 8);
		assert_true(len > 0);
		size = gen_mutate(&f->prng, f->text, (size_t)len);
		size = gen_mutate(&f->prng, f->text, size);
		rc = parse_copy(f->text, size, &f->m, &f->err);
		if (rc == 0) {
			assert_round_trips(f, f->text, size);
			continue;
		}
		assert_int_equal(f->err.parse.code, rc);
		assert_true(f->err.parse.offset <= size);
		assert_non_null(f->err.parse.what);
		assert_int_equal(f->err.line, line_of(f->text, size, f->err.parse.offset));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		CASE(test_manifest_valid_texts_round_trip_exactly),
		CASE(test_manifest_parse_fills_every_field),
		CASE(test_manifest_invalid_texts_report_code_line_and_offset),
		CASE(test_manifest_entry_and_dependency_limits_are_exact),
		CASE(test_manifest_line_and_text_limits_are_exact),
		CASE(test_manifest_format_reports_a_buffer_too_small),
		CASE(test_manifest_method_grammar_matches_the_kv_key_schema),
		CASE(test_manifest_builders_keep_lists_sorted_and_refuse_duplicates),
		CASE(test_manifest_builders_stop_at_the_limits),
		CASE(test_manifest_find_entry_finds_exactly_the_listed_names),
		CASE(test_manifest_equality_compares_every_field),
		CASE(test_manifest_random_manifests_round_trip),
		CASE(test_manifest_mutated_text_is_rejected_or_round_trips),
#undef CASE
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
