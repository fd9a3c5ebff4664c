/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the slice manifest parser (slices/manifest.h).
 *
 * The input is the manifest text. A rejection must fill the error consistently: the same code,
 * an offset inside the text (or at its end), a message, and the line number that actually holds
 * that offset. An acceptance must format back to exactly the input (the format has one spelling
 * per manifest) and parse again to an equal manifest, equal as bytes too; every entry must be
 * found by name; and resolving the manifest against an index holding only itself must succeed
 * when it has no dependencies and report the first one missing otherwise. The text is an
 * exact-size heap copy, so ASan catches any read past the end.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"
#include "slices/manifest.h"
#include "slices/resolver.h"

/* Static: these are large, and the fuzzer calls the target millions of times. */
static struct slice_manifest fuzz_m;
static struct slice_manifest fuzz_again;
static struct slice_resolution fuzz_res;
static struct slice_resolve_error fuzz_err;
static char fuzz_buf[SLICE_MANIFEST_TEXT_MAX + 1];

static uint32_t
fuzz_line_of(const char *text, size_t size, size_t offset)
{
	uint32_t line = 1;

	for (size_t i = 0; i < offset && i < size; i++) {
		line += text[i] == '\n';
	}
	return line;
}

static void
fuzz_manifest_find(uint32_t i)
{
	const char *name = fuzz_m.entries[i].name;

	ASSERT(slice_manifest_find_entry(&fuzz_m, name, strlen(name)) == &fuzz_m.entries[i]);
}

static void
fuzz_manifest_accepted(const char *text, size_t size)
{
	struct slice_index_array index = {&fuzz_m, 1};
	int len = slice_manifest_format(&fuzz_m, fuzz_buf, sizeof(fuzz_buf));
	int has_deps = fuzz_m.dep_count > 0;
	int rc;

	ASSERT(len >= 0);
	ASSERT((size_t)len == size);
	ASSERT(memcmp(fuzz_buf, text, size) == 0);
	ASSERT(slice_manifest_parse(fuzz_buf, (size_t)len, &fuzz_again, NULL) == 0);
	ASSERT(slice_manifest_equal(&fuzz_m, &fuzz_again));
	ASSERT(memcmp(&fuzz_m, &fuzz_again, sizeof(fuzz_m)) == 0);
	for (uint32_t i = 0; i < fuzz_m.entry_count; i++) {
		fuzz_manifest_find(i);
	}
	/* Alone in its index, a manifest resolves exactly when it needs nothing else. */
	rc = slice_resolve(&fuzz_m.coord, &fuzz_res, &fuzz_err, &slice_index_array_ops, &index);
	ASSERT(rc == (has_deps ? -ENOENT : 0));
	ASSERT(has_deps || fuzz_res.count == 1);
	ASSERT(!has_deps || fuzz_err.kind == SLICE_RESOLVE_MISSING);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice_manifest_error err = {{0, 0, NULL}, 0};
	char *text = malloc(size > 0 ? size : 1);
	int rc;

	/* Exact-size heap copy: one byte past the end is an ASan report. */
	ASSERT(text != NULL);
	memcpy(text, data, size);
	rc = slice_manifest_parse(text, size, &fuzz_m, &err);
	ASSERT(rc == 0 || err.parse.code == rc);
	ASSERT(rc == 0 || err.parse.offset <= size);
	ASSERT(rc == 0 || err.parse.what != NULL);
	ASSERT(rc == 0 || err.line == fuzz_line_of(text, size, err.parse.offset));
	if (rc == 0) {
		fuzz_manifest_accepted(text, size);
	}
	free(text);
	return 0;
}
