/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slice manifest: the small text file stored next to every `.so` in a repository. It says
 * what the artifact is (coordinates), which host ABI it was built for, its exact size and
 * XXH3-128 digest (the repository refuses any bytes that do not match both), its entry points
 * and the slices it depends on, each with a version pattern.
 *
 * Format (version 1). Lines end with "\n" (LF only, the last line too); one space separates
 * fields; nothing else is allowed: no blank lines, comments, tabs, CR, or trailing spaces. The
 * lines come in this order:
 *
 *   aether-manifest 1                          format version; another number is refused
 *   coord org.example:greeter:1.2.0            slices/coord.h coordinate
 *   abi 1                                      host ABI version, 1..UINT32_MAX
 *   size 16384                                 bytes of the .so, 1..SLICE_MANIFEST_SO_SIZE_MAX
 *   xxh3-128 0123456789abcdef0123456789abcdef  32 lowercase hex digits, high word first
 *   entry greet idempotent                     1..SLICE_MANIFEST_ENTRIES_MAX entry points
 *   entry shout
 *   depends org.example:text-utils ^1.0.0      0..SLICE_MANIFEST_DEPS_MAX dependencies
 *
 * - numbers: "0" | [1-9][0-9]* (no leading zeros, no sign).
 * - entry:   method name, then optionally the single flag word "idempotent" (the runtime may
 *            retry an idempotent method on another instance; others are called at most once).
 *            Entries are sorted strictly ascending by name (bytewise), so no duplicates.
 * - method:  [a-z_] [a-z0-9_]*, at most SLICE_METHOD_MAX bytes: exactly the method grammar and
 *            limit of the KV key schema (consensus/kv_key.h, kv_key_method_check and
 *            KV_METHOD_MAX). slices/ may not include consensus/, so the rule is restated here;
 *            the two must change together (an entry point becomes an endpoints/ key).
 * - depends: a slices/coord.h name (group:artifact), a space, a version pattern. Sorted
 *            strictly ascending by name text (bytewise), so one pattern per name; a slice may
 *            not depend on its own name.
 *
 * Because every field has exactly one spelling and lists are sorted, the text is canonical:
 * slice_manifest_format(parse(t)) == t for every accepted t, and two manifests are equal
 * exactly when their texts are. Bounds: the text is at most SLICE_MANIFEST_TEXT_MAX bytes and a
 * line at most SLICE_MANIFEST_LINE_MAX bytes (without its "\n"); both are checked before any
 * field is read, so a hostile file costs at most one pass over its first TEXT_MAX bytes.
 *
 * Errors (parse): 0 or a negative code; err, when not NULL, gets the code, the absolute byte
 * offset of the first offending byte in the whole text, a static description and the 1-based
 * line number of that offset:
 *   -BASE_ERR_EMPTY     empty text, a blank line, or a line without its value
 *   -BASE_ERR_TOO_LONG  text over SLICE_MANIFEST_TEXT_MAX, a line over SLICE_MANIFEST_LINE_MAX,
 *                       or a method name over SLICE_METHOD_MAX
 *   -BASE_ERR_BAD_CHAR  a byte outside printable ASCII (NUL, CR, tab, UTF-8, ...), a non-digit
 *                       in a number, an upper-case or non-hex digit in the digest, a character
 *                       the method grammar forbids
 *   -BASE_ERR_SYNTAX    a missing, misplaced or unknown line; a doubled, leading or trailing
 *                       space; too many fields; a missing final "\n"; a leading zero; a digest
 *                       that is not 32 digits; an unknown entry flag; entries or depends out of
 *                       order or doubled; a self-dependency
 *   -BASE_ERR_VERSION   "aether-manifest N" with N other than SLICE_MANIFEST_FORMAT_VERSION
 *   -BASE_ERR_RANGE     abi 0, size 0 or over SLICE_MANIFEST_SO_SIZE_MAX, a number too large
 *   -BASE_ERR_FULL      more than SLICE_MANIFEST_ENTRIES_MAX entries or SLICE_MANIFEST_DEPS_MAX
 *                       depends (at the first line too many)
 * plus what slice_coord_parse, slice_name_parse and slice_version_pattern_parse report for
 * their field, with the offset moved to count from the start of the text.
 *
 * Everything here is pure (no IO, no allocation, no global state): any thread. Parse and
 * format are linear in the text size.
 */
#ifndef AETHER_SLICES_MANIFEST_H
#define AETHER_SLICES_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/hash.h"
#include "base/parse.h"
#include "slices/coord.h"

#define SLICE_MANIFEST_FORMAT_VERSION 1
/* Same value and grammar as KV_METHOD_MAX in consensus/kv_key.h (see above). */
#define SLICE_METHOD_MAX              64
#define SLICE_MANIFEST_ENTRIES_MAX    32
#define SLICE_MANIFEST_DEPS_MAX       16
/* Longest accepted line, without "\n"; the longest line a valid manifest can hold is 335. */
#define SLICE_MANIFEST_LINE_MAX       512
/* Longest accepted text; every valid manifest fits (manifest.c asserts it statically). */
#define SLICE_MANIFEST_TEXT_MAX       16384
/* Largest .so a manifest may describe (1 GiB); a repository may impose a smaller limit. */
#define SLICE_MANIFEST_SO_SIZE_MAX    (UINT64_C(1) << 30)

struct slice_manifest_entry {
	char name[SLICE_METHOD_MAX + 1]; /* NUL-terminated and NUL-padded */
	int is_idempotent;               /* 0 or 1 */
};

struct slice_manifest_dep {
	struct slice_name name;
	struct slice_version_pattern pattern;
};

/*
 * A parsed (or built) manifest. Unused array slots and string tails are zero, so two equal
 * manifests are equal bytes (memcmp, hashing). entries[] and deps[] are sorted as above.
 */
struct slice_manifest {
	struct slice_coord coord;
	uint32_t abi_version;
	uint64_t size;
	struct base_hash128 xxh3_128;
	uint32_t entry_count;
	uint32_t dep_count;
	struct slice_manifest_entry entries[SLICE_MANIFEST_ENTRIES_MAX];
	struct slice_manifest_dep deps[SLICE_MANIFEST_DEPS_MAX];
};

struct slice_manifest_error {
	struct base_parse_error parse; /* code, absolute byte offset, static what */
	uint32_t line;                 /* 1-based line holding parse.offset */
};

/*
 * Parses text[0..size) (no NUL needed; a NUL inside is rejected). On success writes *out
 * (zero-padded) and returns 0; on failure *out is untouched. Borrows text; text may be NULL
 * only when size is 0; err may be NULL.
 */
AE_MUST_CHECK int slice_manifest_parse(const char *text, size_t size, struct slice_manifest *out,
				       struct slice_manifest_error *err);

/*
 * Writes the canonical text of m and a NUL into buf. Returns the text length (at most
 * SLICE_MANIFEST_TEXT_MAX), or -ENOBUFS when text and NUL do not fit (buf then holds "" when
 * capacity > 0). A buffer of SLICE_MANIFEST_TEXT_MAX + 1 bytes always fits. m must be valid
 * (from slice_manifest_parse or the builders below): anything the parser would refuse
 * (unsorted lists, bad names, zero size, ...) is a programmer error and panics.
 */
AE_MUST_CHECK int slice_manifest_format(const struct slice_manifest *m, char *buf, size_t capacity);

/* 1 when a and b are the same manifest (every field), else 0. Both must be valid. */
int slice_manifest_equal(const struct slice_manifest *a, const struct slice_manifest *b);

/*
 * Builders, for the packaging tool and for tests. init zeroes *m and sets the fixed fields;
 * coord must be valid (from slice_coord_parse), abi_version >= 1 and
 * 1 <= size <= SLICE_MANIFEST_SO_SIZE_MAX (programmer errors otherwise: a packer checks the
 * file it measured before building its manifest).
 */
void slice_manifest_init(struct slice_manifest *m, const struct slice_coord *coord,
			 uint32_t abi_version, uint64_t size, struct base_hash128 xxh3_128);

/*
 * Adds an entry point, keeping entries[] sorted. name is (name, size) text checked against
 * the method grammar. Returns 0, or the method check's code (-BASE_ERR_EMPTY,
 * -BASE_ERR_TOO_LONG, -BASE_ERR_BAD_CHAR), -EEXIST when the name is already there, or
 * -BASE_ERR_FULL at SLICE_MANIFEST_ENTRIES_MAX. *m is unchanged on error. Borrows name.
 */
AE_MUST_CHECK int slice_manifest_add_entry(struct slice_manifest *m, const char *name, size_t size,
					   int is_idempotent);

/*
 * Adds a dependency, keeping deps[] sorted. name and pattern must be valid (from their
 * parsers). Returns 0, -EEXIST when name already has a dependency, -EINVAL when name is the
 * manifest's own name, or -BASE_ERR_FULL at SLICE_MANIFEST_DEPS_MAX. *m is unchanged on error.
 */
AE_MUST_CHECK int slice_manifest_add_dep(struct slice_manifest *m, const struct slice_name *name,
					 const struct slice_version_pattern *pattern);

/* The entry called (name, size), or NULL. O(log entry_count). Borrows m and name. */
const struct slice_manifest_entry *slice_manifest_find_entry(const struct slice_manifest *m,
							     const char *name, size_t size);

/*
 * Checks one method name against the grammar above; offsets in err count from text.
 * Returns 0 or -BASE_ERR_EMPTY, -BASE_ERR_TOO_LONG, -BASE_ERR_BAD_CHAR.
 */
AE_MUST_CHECK int slice_method_check(const char *text, size_t size, struct base_parse_error *err);

#endif /* AETHER_SLICES_MANIFEST_H */
