/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeded generators of valid coordinates, names, versions and pattern texts, and a byte
 * mutator, shared by the coordinate property tests. Everything is drawn from a caller-owned
 * base_prng, so a failing seed replays the same inputs. Generated values always satisfy the
 * grammar in slices/coord.h, including the length limits; numbers favour the edges (0, 1,
 * UINT32_MAX) where off-by-one errors live.
 */
#ifndef AETHER_TESTS_SLICES_COORD_GEN_H
#define AETHER_TESTS_SLICES_COORD_GEN_H

#include <stdint.h>
#include <string.h>

#include "base/prng.h"
#include "slices/coord.h"

static const char gen_lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char gen_lower_digit[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char gen_alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/* Bytes the parsers treat specially, so mutations hit the interesting branches often. */
static const char gen_special[] = "0123456789.-:,[]()^~<>=aAzZ_ \x7f\xff";

static inline char
gen_pick(struct base_prng *prng, const char *set)
{
	return set[base_prng_below(prng, strlen(set))];
}

static inline uint32_t
gen_number(struct base_prng *prng)
{
	switch (base_prng_below(prng, 6)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return UINT32_MAX;
	case 3:
		return (uint32_t)base_prng_next(prng);
	default:
		return (uint32_t)base_prng_below(prng, 20);
	}
}

/* Appends one qualifier identifier of up to room bytes (room >= 1) at q[len]. */
static inline size_t
gen_ident(struct base_prng *prng, char *q, size_t len, size_t room)
{
	size_t n = 1 + (size_t)base_prng_below(prng, room < 6 ? room : 6);

	if (base_prng_chance(prng, 400000)) {
		/* Numeric: no leading zero unless the identifier is "0". */
		q[len] = n == 1 ? gen_pick(prng, "0123456789") : gen_pick(prng, "123456789");
		for (size_t i = 1; i < n; i++) {
			q[len + i] = gen_pick(prng, "0123456789");
		}
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		q[len + i] = gen_pick(prng, gen_alnum);
	}
	/* The draw may be all digits; then it is numeric and must not start with 0. */
	if (n > 1 && q[len] == '0' && strspn(q + len, "0123456789") >= n) {
		q[len] = '1';
	}
	return n;
}

static inline void
gen_version(struct base_prng *prng, struct slice_version *v)
{
	size_t len = 0;

	memset(v, 0, sizeof(*v));
	v->major = gen_number(prng);
	v->minor = gen_number(prng);
	v->patch = gen_number(prng);
	if (base_prng_chance(prng, 500000)) {
		return;
	}
	len = gen_ident(prng, v->qualifier, 0, SLICE_QUALIFIER_MAX);
	while (len + 2 <= SLICE_QUALIFIER_MAX && base_prng_chance(prng, 500000)) {
		v->qualifier[len++] = '.';
		len += gen_ident(prng, v->qualifier, len, SLICE_QUALIFIER_MAX - len);
	}
}

static inline void
gen_name(struct base_prng *prng, struct slice_name *n)
{
	size_t len = 0;
	size_t segment_count = 2 + (size_t)base_prng_below(prng, 3);
	/* Sometimes run right up to the limits. */
	size_t group_max = base_prng_chance(prng, 100000) ? SLICE_GROUP_MAX : 40;
	size_t artifact_max = base_prng_chance(prng, 100000) ? SLICE_ARTIFACT_MAX : 30;

	memset(n, 0, sizeof(*n));
	for (size_t s = 0; s < segment_count; s++) {
		/* Leave two bytes for each segment still to come. */
		size_t room = group_max - len - (s > 0) - 2 * (segment_count - s - 1);
		size_t cap = group_max == SLICE_GROUP_MAX ? room : 12;
		size_t seg_len = 1 + (size_t)base_prng_below(prng, room < cap ? room : cap);

		if (s > 0) {
			n->group[len++] = '.';
		}
		n->group[len++] = gen_pick(prng, gen_lower);
		for (size_t i = 1; i < seg_len; i++) {
			n->group[len++] = gen_pick(prng, gen_lower_digit);
		}
	}
	len = 0;
	do {
		size_t room = artifact_max - len - (len > 0);
		size_t word_len = 1 + (size_t)base_prng_below(prng, room < 12 ? room : 12);

		if (len > 0) {
			n->artifact[len++] = '-';
		}
		n->artifact[len] = gen_pick(prng, len == 0 ? gen_lower : gen_lower_digit);
		for (size_t i = 1; i < word_len; i++) {
			n->artifact[len + i] = gen_pick(prng, gen_lower_digit);
		}
		len += word_len;
	} while (len + 2 <= artifact_max && base_prng_chance(prng, 500000));
}

static inline void
gen_coord(struct base_prng *prng, struct slice_coord *c)
{
	/* Zero the padding between the members too, so whole structs compare as bytes. */
	memset(c, 0, sizeof(*c));
	gen_name(prng, &c->name);
	gen_version(prng, &c->version);
}

/* Appends the canonical text of v to buf at *len (buf holds SLICE_PATTERN_TEXT_MAX + 1). */
static inline void
gen_append_version(char *buf, size_t *len, const struct slice_version *v)
{
	int rc = slice_version_format(v, buf + *len, SLICE_PATTERN_TEXT_MAX + 1 - *len);

	if (rc > 0) {
		*len += (size_t)rc;
	}
}

/*
 * A valid pattern text into buf (SLICE_PATTERN_TEXT_MAX + 1 bytes); returns its length. Ranges
 * get ordered bounds, and equal bounds are both inclusive, so the range is never empty.
 */
static inline size_t
gen_pattern_text(struct base_prng *prng, char *buf)
{
	static const char *const prefixes[] = {"", ">=", ">", "<=", "<", "^", "~"};
	struct slice_version a;
	struct slice_version b;
	size_t len = 0;
	uint64_t kind = base_prng_below(prng, AE_ARRAY_SIZE(prefixes) + 2);
	int shape;

	gen_version(prng, &a);
	if (kind < AE_ARRAY_SIZE(prefixes)) {
		len = strlen(prefixes[kind]);
		memcpy(buf, prefixes[kind], len);
		gen_append_version(buf, &len, &a);
		return len;
	}
	gen_version(prng, &b);
	if (slice_version_compare(&a, &b) > 0) {
		struct slice_version t = a;

		a = b;
		b = t;
	}
	shape = (int)base_prng_below(prng, 3); /* 0 both bounds, 1 lower only, 2 upper only */
	buf[len++] = base_prng_chance(prng, 500000) ? '[' : '(';
	if (slice_version_compare(&a, &b) == 0 && shape == 0) {
		buf[0] = '[';
	}
	if (shape != 2) {
		gen_append_version(buf, &len, &a);
	}
	buf[len++] = ',';
	if (shape != 1) {
		gen_append_version(buf, &len, &b);
	}
	buf[len++] = base_prng_chance(prng, 500000) ? ']' : ')';
	if (slice_version_compare(&a, &b) == 0 && shape == 0) {
		buf[len - 1] = ']';
	}
	buf[len] = '\0';
	return len;
}

/*
 * Flips a bit, inserts a byte or deletes a byte of text[0..len) in place; text has room for
 * len + 1 bytes. Returns the new length.
 */
static inline size_t
gen_mutate(struct base_prng *prng, char *text, size_t len)
{
	size_t at = (size_t)base_prng_below(prng, len + 1);
	char byte = base_prng_chance(prng, 700000) ? gen_pick(prng, gen_special)
						   : (char)base_prng_below(prng, 256);

	switch (base_prng_below(prng, 3)) {
	case 0:
		if (at < len) {
			text[at] = (char)(text[at] ^ (1 << base_prng_below(prng, 8)));
		}
		return len;
	case 1:
		memmove(text + at + 1, text + at, len - at);
		text[at] = byte;
		return len + 1;
	default:
		if (at < len) {
			memmove(text + at, text + at + 1, len - at - 1);
			return len - 1;
		}
		return len;
	}
}

#endif /* AETHER_TESTS_SLICES_COORD_GEN_H */
