/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where and why a text parser rejected its input. Every grammar in the project (artifact
 * coordinates, versions, patterns, KV keys, config) reports through this struct so that an
 * operator sees "offset 14: character not allowed in artifact id" rather than "invalid".
 *
 * `what` points to a static string (never freed, never NULL after a failure).
 */
#ifndef AETHER_BASE_PARSE_H
#define AETHER_BASE_PARSE_H

#include <stddef.h>

struct base_parse_error {
	int code;         /* the negative code the parser returned */
	size_t offset;    /* byte offset into the input where the problem is */
	const char *what; /* static text: what is wrong */
};

/*
 * Records a failure into err (which may be NULL) and returns code, so parsers can write
 * `return base_parse_fail(err, i, -BASE_ERR_BAD_CHAR, "character not allowed in group");`.
 */
static inline int
base_parse_fail(struct base_parse_error *err, size_t offset, int code, const char *what)
{
	if (err != NULL) {
		err->code = code;
		err->offset = offset;
		err->what = what;
	}
	return code;
}

#endif /* AETHER_BASE_PARSE_H */
