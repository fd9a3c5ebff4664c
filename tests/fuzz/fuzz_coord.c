/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the artifact coordinate grammar (slices/coord.h).
 *
 * The first byte chooses the parser (low two bits: 0 version, 1 name, 2 coordinate, 3 version
 * pattern; the ASCII digits '0' to '3' do, so corpus files stay readable); the rest is the text. A
 * rejection must fill the error consistently (same code, an offset inside the text, a message). An
 * acceptance must format back to exactly the input text, and that text must parse again to an equal
 * value: the grammar has one spelling per value. A parsed version must compare equal to itself, and
 * a parsed pattern must match the version it was written with wherever that version lies inside its
 * own interval. The text is an exact-size heap copy, so ASan catches any read past the end.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"
#include "slices/coord.h"

enum fuzz_coord_parser {
	FUZZ_COORD_VERSION = 0,
	FUZZ_COORD_NAME = 1,
	FUZZ_COORD_COORD = 2,
	FUZZ_COORD_PATTERN = 3,
};

/* The formatted text equals the input exactly. */
static void
fuzz_coord_assert_same_text(int len, const char *buf, const char *text, size_t size)
{
	ASSERT(len >= 0);
	ASSERT((size_t)len == size);
	ASSERT(memcmp(buf, text, size) == 0);
}

static int
fuzz_coord_version(const char *text, size_t size, struct base_parse_error *err)
{
	struct slice_version v;
	struct slice_version w;
	char buf[SLICE_VERSION_TEXT_MAX + 1];
	int len;
	int rc = slice_version_parse(text, size, &v, err);

	if (rc != 0) {
		return rc;
	}
	len = slice_version_format(&v, buf, sizeof(buf));
	fuzz_coord_assert_same_text(len, buf, text, size);
	ASSERT(slice_version_parse(buf, (size_t)len, &w, NULL) == 0);
	ASSERT(slice_version_compare(&v, &w) == 0);
	ASSERT(memcmp(&v, &w, sizeof(v)) == 0);
	return 0;
}

static int
fuzz_coord_name(const char *text, size_t size, struct base_parse_error *err)
{
	struct slice_name n;
	struct slice_name m;
	char buf[SLICE_NAME_TEXT_MAX + 1];
	int len;
	int rc = slice_name_parse(text, size, &n, err);

	if (rc != 0) {
		return rc;
	}
	len = slice_name_format(&n, buf, sizeof(buf));
	fuzz_coord_assert_same_text(len, buf, text, size);
	ASSERT(slice_name_parse(buf, (size_t)len, &m, NULL) == 0);
	ASSERT(slice_name_equal(&n, &m));
	ASSERT(memcmp(&n, &m, sizeof(n)) == 0);
	return 0;
}

static int
fuzz_coord_coord(const char *text, size_t size, struct base_parse_error *err)
{
	struct slice_coord c;
	struct slice_coord d;
	char buf[SLICE_COORD_TEXT_MAX + 1];
	int len;
	int rc = slice_coord_parse(text, size, &c, err);

	if (rc != 0) {
		return rc;
	}
	len = slice_coord_format(&c, buf, sizeof(buf));
	fuzz_coord_assert_same_text(len, buf, text, size);
	ASSERT(slice_coord_parse(buf, (size_t)len, &d, NULL) == 0);
	ASSERT(slice_coord_equal(&c, &d));
	ASSERT(memcmp(&c, &d, sizeof(c)) == 0);
	return 0;
}

static int
fuzz_coord_pattern(const char *text, size_t size, struct base_parse_error *err)
{
	struct slice_version_pattern p;
	struct slice_version_pattern q;
	char buf[SLICE_PATTERN_TEXT_MAX + 1];
	size_t index = 0;
	int is_strict;
	int len;
	int rc = slice_version_pattern_parse(text, size, &p, err);

	if (rc != 0) {
		return rc;
	}
	len = slice_version_pattern_format(&p, buf, sizeof(buf));
	fuzz_coord_assert_same_text(len, buf, text, size);
	ASSERT(slice_version_pattern_parse(buf, (size_t)len, &q, NULL) == 0);
	ASSERT(memcmp(&p, &q, sizeof(p)) == 0);
	if (p.kind == SLICE_PATTERN_RANGE) {
		return 0;
	}
	/* Every kind but a strict comparison contains the version it was written with. */
	is_strict = p.kind == SLICE_PATTERN_COMPARE && p.op[1] == '\0';
	ASSERT(slice_version_pattern_matches(&p, &p.version) == !is_strict);
	rc = slice_version_pattern_pick(&p, &p.version, 1, &index);
	ASSERT(rc == (is_strict ? -BASE_ERR_NO_MATCH : 0));
	ASSERT(index == 0);
	return 0;
}

typedef int fuzz_coord_fn(const char *text, size_t size, struct base_parse_error *err);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static fuzz_coord_fn *const parsers[] = {
		[FUZZ_COORD_VERSION] = fuzz_coord_version,
		[FUZZ_COORD_NAME] = fuzz_coord_name,
		[FUZZ_COORD_COORD] = fuzz_coord_coord,
		[FUZZ_COORD_PATTERN] = fuzz_coord_pattern,
	};
	struct base_parse_error err = {0, 0, NULL};
	size_t text_size;
	char *text;
	int rc;

	if (size == 0) {
		return 0;
	}
	/* Exact-size heap copy: one byte past the end is an ASan report. */
	text_size = size - 1;
	text = malloc(text_size > 0 ? text_size : 1);
	ASSERT(text != NULL);
	memcpy(text, data + 1, text_size);
	rc = parsers[data[0] & 3](text, text_size, &err);
	ASSERT(rc == 0 || err.code == rc);
	ASSERT(rc == 0 || err.offset <= text_size);
	ASSERT(rc == 0 || err.what != NULL);
	free(text);
	return 0;
}
