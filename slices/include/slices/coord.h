/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Artifact coordinates `group:artifact:version[-qualifier]`, versions and version patterns.
 *
 * Grammar (strict; the canonical text is the only accepted spelling, so parse(format(x)) == x
 * and format(parse(t)) == t for every accepted t):
 *   group      = segment ("." segment)+          two or more segments
 *   segment    = [a-z] [a-z0-9]*                 lowercase, starts with a letter
 *   artifact   = word ("-" word)*
 *   word       = [a-z0-9]+                        (the first word starts with a letter)
 *   version    = number "." number "." number ["-" qualifier]
 *   number     = "0" | [1-9][0-9]*                no leading zeros, fits in uint32
 *   qualifier  = ident ("." ident)*
 *   ident      = [A-Za-z0-9]+                     an all-digit ident has no leading zero
 *   coord      = group ":" artifact ":" version
 *   name       = group ":" artifact               (an artifact at any version)
 * Limits: SLICE_GROUP_MAX, SLICE_ARTIFACT_MAX, SLICE_QUALIFIER_MAX bytes (without NUL).
 *
 * Version order: major, minor, patch numerically; then a version with a qualifier sorts BEFORE
 * the same version without one (1.0.0-rc1 < 1.0.0); two qualifiers compare dot-separated
 * identifier by identifier, numeric identifiers numerically and below alphanumeric ones, a
 * shorter list of identifiers first when all shared ones are equal (semver 2.0 precedence).
 * Alphanumeric identifiers compare bytewise in ASCII ("RC" < "rc"). Because numeric
 * identifiers have no leading zeros, compare(a, b) == 0 exactly when a and b are equal.
 *
 * This unit is pure (no IO, no allocation). The KV key schema in consensus/ uses it, which is
 * why it is its own small library (ae_slices_coord) below the rest of slices/.
 *
 * Errors: every parser returns 0 or a negative code (-BASE_ERR_SYNTAX, -BASE_ERR_BAD_CHAR,
 * -BASE_ERR_EMPTY, -BASE_ERR_TOO_LONG, -BASE_ERR_RANGE) and, when err is not NULL, fills it with
 * the offset and a static description. The offset is absolute in the input (an error in the
 * version of a coordinate points into the coordinate) and names the first offending byte: for
 * -BASE_ERR_TOO_LONG the first byte past the limit, for -BASE_ERR_RANGE the first digit of the
 * number, for a missing part the end of the input. The codes: -BASE_ERR_EMPTY a required part
 * is empty (input, segment, word, number, qualifier identifier, range without bounds);
 * -BASE_ERR_SYNTAX the parts are wrong (one group segment, two or four numbers, a missing ':',
 * a leading zero, text after a range); -BASE_ERR_BAD_CHAR a byte not allowed where it stands
 * (NUL, space, uppercase in a group or artifact id); -BASE_ERR_TOO_LONG over a limit;
 * -BASE_ERR_RANGE a number above UINT32_MAX or a range no version satisfies. Parsers borrow text
 * (size bytes, no NUL needed) and write *out only on success. A parsed struct is zero in every
 * unused byte (string tails, struct padding, fields its kind does not use), so two parses of
 * the same text are equal bytes and may be hashed or memcmp'd as such.
 *
 * Formatters write the canonical text and a NUL and return the text length (without NUL), or
 * -ENOBUFS when the text and its NUL do not fit (buf then holds "" if capacity > 0). Passing a
 * struct the parser would not produce is a programmer error: a missing NUL or an unknown kind
 * trips ASSERT, anything else the DEBUG_ASSERT that re-parses the output. Any thread; no
 * allocation, O(text length).
 */
#ifndef AETHER_SLICES_COORD_H
#define AETHER_SLICES_COORD_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/parse.h"

#define SLICE_GROUP_MAX        128
#define SLICE_ARTIFACT_MAX     64
#define SLICE_QUALIFIER_MAX    32
/* Longest canonical version text: three 10-digit numbers, two dots, "-" and a qualifier. */
#define SLICE_VERSION_TEXT_MAX (3 * 10 + 2 + 1 + SLICE_QUALIFIER_MAX)
/* Longest canonical coordinate text, without NUL. */
#define SLICE_COORD_TEXT_MAX   (SLICE_GROUP_MAX + 1 + SLICE_ARTIFACT_MAX + 1 + SLICE_VERSION_TEXT_MAX)
/* Longest canonical name (group:artifact) text, without NUL. */
#define SLICE_NAME_TEXT_MAX    (SLICE_GROUP_MAX + 1 + SLICE_ARTIFACT_MAX)

struct slice_version {
	uint32_t major;
	uint32_t minor;
	uint32_t patch;
	char qualifier[SLICE_QUALIFIER_MAX + 1]; /* "" when none; NUL-padded */
};

/* group:artifact, an artifact at any version. Strings are NUL-terminated and NUL-padded. */
struct slice_name {
	char group[SLICE_GROUP_MAX + 1];
	char artifact[SLICE_ARTIFACT_MAX + 1];
};

struct slice_coord {
	struct slice_name name;
	struct slice_version version;
};

AE_MUST_CHECK int slice_version_parse(const char *text, size_t size, struct slice_version *out,
				      struct base_parse_error *err);
AE_MUST_CHECK int slice_version_format(const struct slice_version *v, char *buf, size_t capacity);
/* <0, 0, >0 as a sorts before, equal to, after b (order above). Both must be valid. */
int slice_version_compare(const struct slice_version *a, const struct slice_version *b);

AE_MUST_CHECK int slice_name_parse(const char *text, size_t size, struct slice_name *out,
				   struct base_parse_error *err);
AE_MUST_CHECK int slice_name_format(const struct slice_name *n, char *buf, size_t capacity);
/* 1 when both strings are equal, else 0. */
int slice_name_equal(const struct slice_name *a, const struct slice_name *b);

AE_MUST_CHECK int slice_coord_parse(const char *text, size_t size, struct slice_coord *out,
				    struct base_parse_error *err);
AE_MUST_CHECK int slice_coord_format(const struct slice_coord *c, char *buf, size_t capacity);
/* 1 when name and version are equal, else 0. */
int slice_coord_equal(const struct slice_coord *a, const struct slice_coord *b);

/*
 * Version patterns:
 *   exact        1.2.3 or 1.2.3-rc1          only that version
 *   range        [1.0.0,2.0.0)  (1.0.0,]  [,2.0.0]  with inclusive [ ] or exclusive ( )
 *                bounds; an empty bound is unbounded; at least one bound is present
 *   comparison   >=1.2.0  >1.2.0  <=2.0.0  <2.0.0
 *   caret        ^1.2.3  >=1.2.3 and <2.0.0; for 0.x: ^0.2.3 means <0.3.0, ^0.0.3 means <0.0.4
 *   tilde        ~1.2.3  >=1.2.3 and <1.3.0
 * Qualified versions match only patterns whose bounds they satisfy by plain ordering.
 * The canonical text of a pattern is the text it was parsed from (no spaces anywhere).
 *
 * Details the short table leaves open:
 * - Caret and tilde upper bounds are exclusive and carry the qualifier "0", the lowest
 *   qualifier there is: ^1.2.3 is [1.2.3,2.0.0-0), so 2.0.0-rc.1 does NOT match (as in npm).
 *   A number at UINT32_MAX carries into the one above (~1.4294967295.0 is <2.0.0-0); when the
 *   major would carry, the pattern has no upper bound (upper.is_set == 0).
 * - A range whose lower bound is above its upper bound, or that no version can satisfy
 *   ([1.0.0,1.0.0) ), is rejected with -BASE_ERR_RANGE at the upper bound. [1.0.0,1.0.0] is fine.
 * - An empty bound may be written with either bracket ((,2.0.0] and [,2.0.0] both parse); the
 *   unset bound's is_inclusive records which, so the text round-trips. Matching ignores it.
 */
enum slice_pattern_kind {
	SLICE_PATTERN_EXACT = 1,
	SLICE_PATTERN_RANGE = 2,
	SLICE_PATTERN_COMPARE = 3,
	SLICE_PATTERN_CARET = 4,
	SLICE_PATTERN_TILDE = 5,
};

/* One bound of the normalized interval every pattern reduces to. */
struct slice_version_bound {
	int is_set;       /* 0: unbounded on this side */
	int is_inclusive; /* 1: the bound itself matches */
	struct slice_version version;
};

struct slice_version_pattern {
	enum slice_pattern_kind kind;
	/* For COMPARE: the operator text (">=", ">", "<=", "<"); empty otherwise. */
	char op[3];
	/* The version written in the pattern (EXACT, COMPARE, CARET, TILDE); zero for RANGE. */
	struct slice_version version;
	/* The interval the pattern denotes; EXACT is [v, v]. */
	struct slice_version_bound lower;
	struct slice_version_bound upper;
};

/* Longest canonical pattern text, without NUL. */
#define SLICE_PATTERN_TEXT_MAX (2 * SLICE_VERSION_TEXT_MAX + 3)

AE_MUST_CHECK int slice_version_pattern_parse(const char *text, size_t size,
					      struct slice_version_pattern *out,
					      struct base_parse_error *err);
AE_MUST_CHECK int slice_version_pattern_format(const struct slice_version_pattern *p, char *buf,
					       size_t capacity);
/* 1 when v lies inside the pattern's interval (lower and upper above), else 0. */
int slice_version_pattern_matches(const struct slice_version_pattern *p,
				  const struct slice_version *v);
/*
 * Picks the highest version in versions[0..count) that matches; among equal versions, the
 * lowest index. Returns 0 and sets *index_out, or -BASE_ERR_NO_MATCH (also when count is 0;
 * versions may then be NULL). Borrows versions; O(count).
 */
AE_MUST_CHECK int slice_version_pattern_pick(const struct slice_version_pattern *p,
					     const struct slice_version *versions, size_t count,
					     size_t *index_out);

#endif /* AETHER_SLICES_COORD_H */
