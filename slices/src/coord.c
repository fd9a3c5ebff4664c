/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Artifact coordinates, versions and version patterns: strict left-to-right scanners over
 * (text, size). Each scanner stops at the first byte that breaks the grammar and reports that
 * byte's absolute offset, so an error inside the version of a coordinate still points into the
 * coordinate text. The grammar is in slices/coord.h and slices/README.md.
 */
#include "slices/coord.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"

#define COORD_STR_(x) #x
#define COORD_STR(x)  COORD_STR_(x)

/* A cursor over the whole input; offsets in errors are absolute. */
struct coord_scan {
	const char *text;
	size_t size;
	size_t pos;
	struct base_parse_error *err;
};

static int
scan_fail(const struct coord_scan *s, size_t offset, int code, const char *what)
{
	return base_parse_fail(s->err, offset, code, what);
}

/* The byte at the cursor, or -1 at the end of the input. */
static int
scan_peek(const struct coord_scan *s)
{
	if (s->pos >= s->size) {
		return -1;
	}
	return (unsigned char)s->text[s->pos];
}

static int
is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int
is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_lower(c) || is_upper(c) || is_digit(c);
}

/*
 * True at the end of the input or at one of the bytes in stop, which end a version where it
 * is embedded (",])" inside a range). A NUL byte never stops: strchr would match the string's
 * own terminator.
 */
static int
scan_at_stop(const struct coord_scan *s, const char *stop)
{
	int c = scan_peek(s);

	if (c < 0) {
		return 1;
	}
	return c != 0 && strchr(stop, c) != NULL;
}

/* One group segment, [a-z][a-z0-9]*, ending at '.', ':' or the end of the input. */
static int
scan_group_segment(struct coord_scan *s, size_t group_start)
{
	size_t segment_start = s->pos;
	int c;

	while ((c = scan_peek(s)) >= 0 && c != '.' && c != ':') {
		if (s->pos - group_start >= SLICE_GROUP_MAX) {
			return scan_fail(
				s, s->pos, -BASE_ERR_TOO_LONG,
				"group is longer than " COORD_STR(SLICE_GROUP_MAX) " bytes");
		}
		if (is_upper(c)) {
			return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
					 "uppercase letter in group");
		}
		if (s->pos == segment_start && is_digit(c)) {
			return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
					 "group segment must start with a letter");
		}
		if (!is_lower(c) && !is_digit(c)) {
			return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
					 "character not allowed in group");
		}
		s->pos++;
	}
	if (s->pos == segment_start) {
		return scan_fail(s, s->pos, -BASE_ERR_EMPTY, "empty group segment");
	}
	return 0;
}

static int
scan_group(struct coord_scan *s, char group[SLICE_GROUP_MAX + 1])
{
	size_t start = s->pos;
	size_t segment_count = 0;
	int rc;

	for (;;) {
		rc = scan_group_segment(s, start);
		if (rc != 0) {
			return rc;
		}
		segment_count++;
		if (scan_peek(s) != '.') {
			break;
		}
		s->pos++;
	}
	if (segment_count < 2) {
		return scan_fail(s, s->pos, -BASE_ERR_SYNTAX, "group needs at least two segments");
	}
	ASSERT(s->pos - start <= SLICE_GROUP_MAX);
	memcpy(group, s->text + start, s->pos - start);
	group[s->pos - start] = '\0';
	return 0;
}

/* One artifact word, [a-z0-9]+ (the first word starts with a letter), ending at '-' or ':'. */
static int
scan_artifact_word(struct coord_scan *s, size_t artifact_start)
{
	size_t word_start = s->pos;
	int c;

	while ((c = scan_peek(s)) >= 0 && c != '-' && c != ':') {
		if (s->pos - artifact_start >= SLICE_ARTIFACT_MAX) {
			return scan_fail(s, s->pos, -BASE_ERR_TOO_LONG,
					 "artifact id is longer than " COORD_STR(
						 SLICE_ARTIFACT_MAX) " bytes");
		}
		if (is_upper(c)) {
			return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
					 "uppercase letter in artifact id");
		}
		if (s->pos == artifact_start && is_digit(c)) {
			return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
					 "artifact id must start with a letter");
		}
		if (!is_lower(c) && !is_digit(c)) {
			return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
					 "character not allowed in artifact id");
		}
		s->pos++;
	}
	if (s->pos == word_start) {
		return scan_fail(s, s->pos, -BASE_ERR_EMPTY, "empty word in artifact id");
	}
	return 0;
}

static int
scan_artifact(struct coord_scan *s, char artifact[SLICE_ARTIFACT_MAX + 1])
{
	size_t start = s->pos;
	int c = scan_peek(s);
	int rc;

	if (c < 0 || c == ':') {
		return scan_fail(s, s->pos, -BASE_ERR_EMPTY, "empty artifact id");
	}
	for (;;) {
		rc = scan_artifact_word(s, start);
		if (rc != 0) {
			return rc;
		}
		if (scan_peek(s) != '-') {
			break;
		}
		s->pos++;
	}
	ASSERT(s->pos - start <= SLICE_ARTIFACT_MAX);
	memcpy(artifact, s->text + start, s->pos - start);
	artifact[s->pos - start] = '\0';
	return 0;
}

/* group ":" artifact; stops at the ':' before a version or at the end of the input. */
static int
scan_name(struct coord_scan *s, struct slice_name *name)
{
	int rc = scan_group(s, name->group);

	if (rc != 0) {
		return rc;
	}
	/* The group stops only at ':' or at the end. */
	if (scan_peek(s) != ':') {
		return scan_fail(s, s->pos, -BASE_ERR_SYNTAX,
				 "missing ':' and artifact id after group");
	}
	s->pos++;
	return scan_artifact(s, name->artifact);
}

static int
scan_number(struct coord_scan *s, const char *stop, uint32_t *out)
{
	size_t start = s->pos;
	uint64_t value = 0;
	int c = scan_peek(s);

	if (!is_digit(c)) {
		if (c == '.' || c == '-' || scan_at_stop(s, stop)) {
			return scan_fail(s, s->pos, -BASE_ERR_EMPTY, "empty version number");
		}
		return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
				 "character not allowed in version number");
	}
	if (c == '0' && s->pos + 1 < s->size && is_digit((unsigned char)s->text[s->pos + 1])) {
		return scan_fail(s, start, -BASE_ERR_SYNTAX, "leading zero in version number");
	}
	while (is_digit(c = scan_peek(s))) {
		value = value * 10 + (uint64_t)(c - '0');
		if (value > UINT32_MAX) {
			return scan_fail(s, start, -BASE_ERR_RANGE,
					 "version number is above 4294967295");
		}
		s->pos++;
	}
	*out = (uint32_t)value;
	return 0;
}

static int
scan_version_dot(struct coord_scan *s, const char *stop)
{
	int c = scan_peek(s);

	if (c == '.') {
		s->pos++;
		return 0;
	}
	if (c == '-' || scan_at_stop(s, stop)) {
		return scan_fail(s, s->pos, -BASE_ERR_SYNTAX,
				 "version needs three numbers: major.minor.patch");
	}
	return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR, "character not allowed in version number");
}

/* One qualifier identifier, [A-Za-z0-9]+, numeric ones without leading zeros. */
static int
scan_qualifier_ident(struct coord_scan *s, const char *stop, size_t qualifier_start)
{
	size_t ident_start = s->pos;
	int is_numeric = 1;
	int c;

	while (is_alnum(c = scan_peek(s))) {
		if (s->pos - qualifier_start >= SLICE_QUALIFIER_MAX) {
			return scan_fail(s, s->pos, -BASE_ERR_TOO_LONG,
					 "qualifier is longer than " COORD_STR(
						 SLICE_QUALIFIER_MAX) " bytes");
		}
		is_numeric = is_numeric && is_digit(c);
		s->pos++;
	}
	if (s->pos == ident_start) {
		if (c == '.' || scan_at_stop(s, stop)) {
			return scan_fail(s, s->pos, -BASE_ERR_EMPTY, "empty qualifier identifier");
		}
		return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
				 "character not allowed in qualifier");
	}
	/* "01" would compare equal to "1" although the texts differ: one spelling only. */
	if (is_numeric && s->pos - ident_start > 1 && s->text[ident_start] == '0') {
		return scan_fail(s, ident_start, -BASE_ERR_SYNTAX,
				 "leading zero in numeric qualifier identifier");
	}
	return 0;
}

static int
scan_qualifier(struct coord_scan *s, const char *stop, char qualifier[SLICE_QUALIFIER_MAX + 1])
{
	size_t start = s->pos;
	int rc;

	for (;;) {
		rc = scan_qualifier_ident(s, stop, start);
		if (rc != 0) {
			return rc;
		}
		if (scan_peek(s) != '.') {
			break;
		}
		if (s->pos - start >= SLICE_QUALIFIER_MAX) {
			return scan_fail(s, s->pos, -BASE_ERR_TOO_LONG,
					 "qualifier is longer than " COORD_STR(
						 SLICE_QUALIFIER_MAX) " bytes");
		}
		s->pos++;
	}
	if (!scan_at_stop(s, stop)) {
		return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR,
				 "character not allowed in qualifier");
	}
	ASSERT(s->pos - start <= SLICE_QUALIFIER_MAX);
	memcpy(qualifier, s->text + start, s->pos - start);
	qualifier[s->pos - start] = '\0';
	return 0;
}

/*
 * major.minor.patch[-qualifier], ending at the end of the input or at a byte of stop. out must
 * be zeroed by the caller so the qualifier stays NUL-padded.
 */
static int
scan_version(struct coord_scan *s, const char *stop, struct slice_version *out)
{
	uint32_t *parts[3] = {&out->major, &out->minor, &out->patch};
	int rc;
	int c;

	if (scan_at_stop(s, stop)) {
		return scan_fail(s, s->pos, -BASE_ERR_EMPTY, "empty version");
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(parts); i++) {
		rc = i == 0 ? 0 : scan_version_dot(s, stop);
		if (rc == 0) {
			rc = scan_number(s, stop, parts[i]);
		}
		if (rc != 0) {
			return rc;
		}
	}
	c = scan_peek(s);
	if (scan_at_stop(s, stop)) {
		return 0;
	}
	if (c == '-') {
		s->pos++;
		return scan_qualifier(s, stop, out->qualifier);
	}
	if (c == '.') {
		return scan_fail(s, s->pos, -BASE_ERR_SYNTAX,
				 "version has more than three numbers");
	}
	if (is_alnum(c)) {
		return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR, "qualifier must follow a '-'");
	}
	return scan_fail(s, s->pos, -BASE_ERR_BAD_CHAR, "character not allowed after version");
}

int
slice_version_parse(const char *text, size_t size, struct slice_version *out,
		    struct base_parse_error *err)
{
	struct coord_scan s = {text, size, 0, err};
	struct slice_version v;
	int rc;

	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	memset(&v, 0, sizeof(v));
	rc = scan_version(&s, "", &v);
	if (rc != 0) {
		return rc;
	}
	ASSERT(s.pos == size);
	/* memcpy, not assignment: padding bytes stay zero, so callers may hash the bytes. */
	memcpy(out, &v, sizeof(*out));
	return 0;
}

int
slice_name_parse(const char *text, size_t size, struct slice_name *out,
		 struct base_parse_error *err)
{
	struct coord_scan s = {text, size, 0, err};
	struct slice_name n;
	int rc;

	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	memset(&n, 0, sizeof(n));
	if (size == 0) {
		return scan_fail(&s, 0, -BASE_ERR_EMPTY, "empty name");
	}
	rc = scan_name(&s, &n);
	if (rc != 0) {
		return rc;
	}
	/* The artifact stops only at ':' or at the end. */
	if (s.pos != size) {
		return scan_fail(&s, s.pos, -BASE_ERR_SYNTAX,
				 "a name has no version: expected group:artifact");
	}
	memcpy(out, &n, sizeof(*out));
	return 0;
}

int
slice_coord_parse(const char *text, size_t size, struct slice_coord *out,
		  struct base_parse_error *err)
{
	struct coord_scan s = {text, size, 0, err};
	struct slice_coord c;
	int rc;

	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	memset(&c, 0, sizeof(c));
	if (size == 0) {
		return scan_fail(&s, 0, -BASE_ERR_EMPTY, "empty coordinate");
	}
	rc = scan_name(&s, &c.name);
	if (rc != 0) {
		return rc;
	}
	if (s.pos == size) {
		return scan_fail(&s, s.pos, -BASE_ERR_SYNTAX,
				 "missing ':' and version after artifact id");
	}
	s.pos++;
	rc = scan_version(&s, "", &c.version);
	if (rc != 0) {
		return rc;
	}
	ASSERT(s.pos == size);
	memcpy(out, &c, sizeof(*out));
	return 0;
}

/* Output into a caller buffer; overflow is sticky and reported once at the end. */
struct coord_out {
	char *buf;
	size_t capacity;
	size_t len;
};

static void
out_char(struct coord_out *o, char c)
{
	/* Keep one byte for the NUL. */
	if (o->len + 1 < o->capacity) {
		o->buf[o->len] = c;
	}
	o->len++;
}

static void
out_str(struct coord_out *o, const char *str, size_t max)
{
	/* The struct contract: strings are NUL-terminated inside their arrays. */
	ASSERT(memchr(str, '\0', max + 1) != NULL);
	for (size_t i = 0; str[i] != '\0'; i++) {
		out_char(o, str[i]);
	}
}

static void
out_u32(struct coord_out *o, uint32_t value)
{
	char digits[10];
	size_t count = 0;

	do {
		digits[count++] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	while (count > 0) {
		out_char(o, digits[--count]);
	}
}

static void
out_version(struct coord_out *o, const struct slice_version *v)
{
	out_u32(o, v->major);
	out_char(o, '.');
	out_u32(o, v->minor);
	out_char(o, '.');
	out_u32(o, v->patch);
	if (v->qualifier[0] != '\0') {
		out_char(o, '-');
		out_str(o, v->qualifier, SLICE_QUALIFIER_MAX);
	}
}

/* Terminates the text; text_max is the longest text this formatter can produce. */
static int
out_finish(struct coord_out *o, size_t text_max)
{
	ASSERT(o->len <= text_max);
	if (o->len >= o->capacity) {
		if (o->capacity > 0) {
			o->buf[0] = '\0';
		}
		return -ENOBUFS;
	}
	o->buf[o->len] = '\0';
	return (int)o->len;
}

static int
version_equal(const struct slice_version *a, const struct slice_version *b)
{
	return a->major == b->major && a->minor == b->minor && a->patch == b->patch &&
	       strcmp(a->qualifier, b->qualifier) == 0;
}

int
slice_version_format(const struct slice_version *v, char *buf, size_t capacity)
{
	struct coord_out o = {buf, capacity, 0};
	struct slice_version check;
	int rc;

	ASSERT(v != NULL);
	ASSERT(buf != NULL || capacity == 0);
	out_version(&o, v);
	rc = out_finish(&o, SLICE_VERSION_TEXT_MAX);
	/* A struct the parser would not produce is a programmer error, caught before it leaves. */
	DEBUG_ASSERT(rc < 0 || (slice_version_parse(buf, (size_t)rc, &check, NULL) == 0 &&
				version_equal(&check, v)));
	return rc;
}

int
slice_name_format(const struct slice_name *n, char *buf, size_t capacity)
{
	struct coord_out o = {buf, capacity, 0};
	struct slice_name check;
	int rc;

	ASSERT(n != NULL);
	ASSERT(buf != NULL || capacity == 0);
	out_str(&o, n->group, SLICE_GROUP_MAX);
	out_char(&o, ':');
	out_str(&o, n->artifact, SLICE_ARTIFACT_MAX);
	rc = out_finish(&o, SLICE_NAME_TEXT_MAX);
	DEBUG_ASSERT(rc < 0 || (slice_name_parse(buf, (size_t)rc, &check, NULL) == 0 &&
				slice_name_equal(&check, n)));
	return rc;
}

int
slice_coord_format(const struct slice_coord *c, char *buf, size_t capacity)
{
	struct coord_out o = {buf, capacity, 0};
	struct slice_coord check;
	int rc;

	ASSERT(c != NULL);
	ASSERT(buf != NULL || capacity == 0);
	out_str(&o, c->name.group, SLICE_GROUP_MAX);
	out_char(&o, ':');
	out_str(&o, c->name.artifact, SLICE_ARTIFACT_MAX);
	out_char(&o, ':');
	out_version(&o, &c->version);
	rc = out_finish(&o, SLICE_COORD_TEXT_MAX);
	DEBUG_ASSERT(rc < 0 || (slice_coord_parse(buf, (size_t)rc, &check, NULL) == 0 &&
				slice_coord_equal(&check, c)));
	return rc;
}

int
slice_name_equal(const struct slice_name *a, const struct slice_name *b)
{
	ASSERT(a != NULL);
	ASSERT(b != NULL);
	return strncmp(a->group, b->group, sizeof(a->group)) == 0 &&
	       strncmp(a->artifact, b->artifact, sizeof(a->artifact)) == 0;
}

int
slice_coord_equal(const struct slice_coord *a, const struct slice_coord *b)
{
	ASSERT(a != NULL);
	ASSERT(b != NULL);
	return slice_name_equal(&a->name, &b->name) && version_equal(&a->version, &b->version);
}

/* The length of the dot-separated identifier starting at p. */
static size_t
ident_len(const char *p)
{
	size_t n = 0;

	while (p[n] != '\0' && p[n] != '.') {
		n++;
	}
	return n;
}

static int
ident_is_numeric(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!is_digit((unsigned char)p[i])) {
			return 0;
		}
	}
	return 1;
}

/*
 * Semver 2.0 precedence of one identifier pair. Numeric identifiers have no leading zeros, so
 * the longer one is larger and equal lengths compare bytewise, with no overflow for any length.
 */
static int
ident_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int a_numeric = ident_is_numeric(a, a_len);
	int b_numeric = ident_is_numeric(b, b_len);
	int cmp;

	if (a_numeric != b_numeric) {
		return a_numeric ? -1 : 1;
	}
	if (a_numeric && a_len != b_len) {
		return a_len < b_len ? -1 : 1;
	}
	cmp = memcmp(a, b, base_min_size(a_len, b_len));
	if (cmp != 0) {
		return cmp < 0 ? -1 : 1;
	}
	if (a_len != b_len) {
		return a_len < b_len ? -1 : 1;
	}
	return 0;
}

/* Two non-empty qualifiers, identifier by identifier; a prefix list sorts first. */
static int
qualifier_compare(const char *a, const char *b)
{
	for (;;) {
		size_t a_len = ident_len(a);
		size_t b_len = ident_len(b);
		int cmp = ident_compare(a, a_len, b, b_len);

		if (cmp != 0) {
			return cmp;
		}
		a += a_len;
		b += b_len;
		if (*a == '\0' || *b == '\0') {
			return (*a != '\0') - (*b != '\0');
		}
		a++;
		b++;
	}
}

static int
u32_compare(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

int
slice_version_compare(const struct slice_version *a, const struct slice_version *b)
{
	int cmp;

	ASSERT(a != NULL);
	ASSERT(b != NULL);
	cmp = u32_compare(a->major, b->major);
	if (cmp == 0) {
		cmp = u32_compare(a->minor, b->minor);
	}
	if (cmp == 0) {
		cmp = u32_compare(a->patch, b->patch);
	}
	if (cmp != 0) {
		return cmp;
	}
	/* A qualified version precedes its release: 1.0.0-rc.1 < 1.0.0. */
	if (a->qualifier[0] == '\0' || b->qualifier[0] == '\0') {
		return (a->qualifier[0] == '\0') - (b->qualifier[0] == '\0');
	}
	return qualifier_compare(a->qualifier, b->qualifier);
}

static void
bound_set(struct slice_version_bound *b, const struct slice_version *v, int is_inclusive)
{
	b->is_set = 1;
	b->is_inclusive = is_inclusive;
	b->version = *v;
}

/*
 * The lowest version above every version that shares v's numbers up to level (0 major,
 * 1 minor, 2 patch): the next number at that level, lower numbers zero, qualifier "0" (the
 * lowest qualifier there is), so pre-releases of the next line stay out. A number at
 * UINT32_MAX carries into the level above; returns 0 when even the major carries, which means
 * no upper bound at all.
 */
static int
version_next_line(const struct slice_version *v, int level, struct slice_version *out)
{
	uint32_t parts[3] = {v->major, v->minor, v->patch};
	int i = level;

	ASSERT(level >= 0 && level <= 2);
	while (i >= 0 && parts[i] == UINT32_MAX) {
		i--;
	}
	if (i < 0) {
		return 0;
	}
	parts[i]++;
	for (int j = i + 1; j < 3; j++) {
		parts[j] = 0;
	}
	memset(out, 0, sizeof(*out));
	out->major = parts[0];
	out->minor = parts[1];
	out->patch = parts[2];
	out->qualifier[0] = '0';
	return 1;
}

static int
scan_exact(struct coord_scan *s, struct slice_version_pattern *p)
{
	int rc = scan_version(s, "", &p->version);

	if (rc != 0) {
		return rc;
	}
	p->kind = SLICE_PATTERN_EXACT;
	bound_set(&p->lower, &p->version, 1);
	bound_set(&p->upper, &p->version, 1);
	return 0;
}

static int
scan_compare(struct coord_scan *s, struct slice_version_pattern *p)
{
	int op = scan_peek(s);
	int is_or_equal;
	int rc;

	ASSERT(op == '>' || op == '<');
	s->pos++;
	is_or_equal = scan_peek(s) == '=';
	if (is_or_equal) {
		s->pos++;
	}
	rc = scan_version(s, "", &p->version);
	if (rc != 0) {
		return rc;
	}
	p->kind = SLICE_PATTERN_COMPARE;
	p->op[0] = (char)op;
	p->op[1] = is_or_equal ? '=' : '\0';
	bound_set(op == '>' ? &p->lower : &p->upper, &p->version, is_or_equal);
	return 0;
}

static int
scan_caret_tilde(struct coord_scan *s, struct slice_version_pattern *p)
{
	int is_caret = scan_peek(s) == '^';
	const struct slice_version *v = &p->version;
	int level;
	int rc;

	s->pos++;
	rc = scan_version(s, "", &p->version);
	if (rc != 0) {
		return rc;
	}
	p->kind = is_caret ? SLICE_PATTERN_CARET : SLICE_PATTERN_TILDE;
	/* Caret keeps the leftmost non-zero number fixed; tilde keeps major.minor fixed. */
	if (!is_caret) {
		level = 1;
	} else {
		level = v->major != 0 ? 0 : v->minor != 0 ? 1 : 2;
	}
	bound_set(&p->lower, v, 1);
	p->upper.is_set = version_next_line(v, level, &p->upper.version);
	return 0;
}

/* '[' or '(' and the lower bound, which may be empty, up to and including the ','. */
static int
scan_range_lower(struct coord_scan *s, struct slice_version_bound *b)
{
	int c;
	int rc;

	b->is_inclusive = scan_peek(s) == '[';
	s->pos++;
	c = scan_peek(s);
	if (c < 0 || c == ']' || c == ')') {
		return scan_fail(s, s->pos, -BASE_ERR_EMPTY, "range needs at least one bound");
	}
	if (c != ',') {
		rc = scan_version(s, ",])", &b->version);
		if (rc != 0) {
			return rc;
		}
		b->is_set = 1;
	}
	if (scan_peek(s) != ',') {
		return scan_fail(s, s->pos, -BASE_ERR_SYNTAX, "range needs ',' between its bounds");
	}
	s->pos++;
	return 0;
}

/* The upper bound, which may be empty, and the closing ']' or ')'. */
static int
scan_range_upper(struct coord_scan *s, struct slice_version_bound *b)
{
	int c = scan_peek(s);
	int rc;

	if (c >= 0 && c != ']' && c != ')') {
		rc = scan_version(s, "]),", &b->version);
		if (rc != 0) {
			return rc;
		}
		b->is_set = 1;
		c = scan_peek(s);
	}
	if (c == ']' || c == ')') {
		b->is_inclusive = c == ']';
		s->pos++;
		return 0;
	}
	if (c == ',') {
		return scan_fail(s, s->pos, -BASE_ERR_SYNTAX, "range has more than two bounds");
	}
	return scan_fail(s, s->pos, -BASE_ERR_SYNTAX, "range must end with ']' or ')'");
}

static int
scan_range(struct coord_scan *s, struct slice_version_pattern *p)
{
	size_t upper_start;
	int cmp;
	int rc;

	p->kind = SLICE_PATTERN_RANGE;
	rc = scan_range_lower(s, &p->lower);
	if (rc != 0) {
		return rc;
	}
	upper_start = s->pos;
	rc = scan_range_upper(s, &p->upper);
	if (rc != 0) {
		return rc;
	}
	if (!p->lower.is_set && !p->upper.is_set) {
		return scan_fail(s, upper_start, -BASE_ERR_EMPTY, "range needs at least one bound");
	}
	if (s->pos != s->size) {
		return scan_fail(s, s->pos, -BASE_ERR_SYNTAX, "unexpected text after range");
	}
	if (!p->lower.is_set || !p->upper.is_set) {
		return 0;
	}
	/* A range no version can satisfy is an operator mistake, not a pattern. */
	cmp = slice_version_compare(&p->lower.version, &p->upper.version);
	if (cmp > 0) {
		return scan_fail(s, upper_start, -BASE_ERR_RANGE,
				 "range lower bound is above its upper bound");
	}
	if (cmp == 0 && !(p->lower.is_inclusive && p->upper.is_inclusive)) {
		return scan_fail(s, upper_start, -BASE_ERR_RANGE, "range is empty");
	}
	return 0;
}

int
slice_version_pattern_parse(const char *text, size_t size, struct slice_version_pattern *out,
			    struct base_parse_error *err)
{
	struct coord_scan s = {text, size, 0, err};
	struct slice_version_pattern p;
	int c = -1;
	int rc;

	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	memset(&p, 0, sizeof(p));
	c = scan_peek(&s);
	if (c < 0) {
		return scan_fail(&s, 0, -BASE_ERR_EMPTY, "empty pattern");
	}
	if (c == '[' || c == '(') {
		rc = scan_range(&s, &p);
	} else if (c == '>' || c == '<') {
		rc = scan_compare(&s, &p);
	} else if (c == '^' || c == '~') {
		rc = scan_caret_tilde(&s, &p);
	} else if (is_digit(c)) {
		rc = scan_exact(&s, &p);
	} else {
		rc = scan_fail(&s, 0, -BASE_ERR_BAD_CHAR,
			       "pattern must start with a digit or one of [ ( > < ^ ~");
	}
	if (rc != 0) {
		return rc;
	}
	ASSERT(s.pos == size);
	memcpy(out, &p, sizeof(*out));
	return 0;
}

static void
out_range(struct coord_out *o, const struct slice_version_pattern *p)
{
	/* An unset bound keeps the bracket it was written with, so the text round-trips. */
	out_char(o, p->lower.is_inclusive ? '[' : '(');
	if (p->lower.is_set) {
		out_version(o, &p->lower.version);
	}
	out_char(o, ',');
	if (p->upper.is_set) {
		out_version(o, &p->upper.version);
	}
	out_char(o, p->upper.is_inclusive ? ']' : ')');
}

static void
out_compare(struct coord_out *o, const struct slice_version_pattern *p)
{
	ASSERT(p->op[0] == '>' || p->op[0] == '<');
	ASSERT(p->op[1] == '=' || p->op[1] == '\0');
	out_str(o, p->op, 2);
	out_version(o, &p->version);
}

static void
out_pattern(struct coord_out *o, const struct slice_version_pattern *p)
{
	switch (p->kind) {
	case SLICE_PATTERN_EXACT:
		out_version(o, &p->version);
		break;
	case SLICE_PATTERN_RANGE:
		out_range(o, p);
		break;
	case SLICE_PATTERN_COMPARE:
		out_compare(o, p);
		break;
	case SLICE_PATTERN_CARET:
	case SLICE_PATTERN_TILDE:
		out_char(o, p->kind == SLICE_PATTERN_CARET ? '^' : '~');
		out_version(o, &p->version);
		break;
	default:
		PANIC("unknown version pattern kind %d", (int)p->kind);
	}
}

static int
bound_equal(const struct slice_version_bound *a, const struct slice_version_bound *b)
{
	if (a->is_set != b->is_set || a->is_inclusive != b->is_inclusive) {
		return 0;
	}
	return !a->is_set || version_equal(&a->version, &b->version);
}

/* Whether p is exactly what parsing text yields; the formatter's self-check. */
static int
pattern_reparses_to(const char *text, size_t size, const struct slice_version_pattern *p)
{
	struct slice_version_pattern q;

	if (slice_version_pattern_parse(text, size, &q, NULL) != 0) {
		return 0;
	}
	return q.kind == p->kind && strcmp(q.op, p->op) == 0 &&
	       version_equal(&q.version, &p->version) && bound_equal(&q.lower, &p->lower) &&
	       bound_equal(&q.upper, &p->upper);
}

int
slice_version_pattern_format(const struct slice_version_pattern *p, char *buf, size_t capacity)
{
	struct coord_out o = {buf, capacity, 0};
	int rc;

	ASSERT(p != NULL);
	ASSERT(buf != NULL || capacity == 0);
	out_pattern(&o, p);
	rc = out_finish(&o, SLICE_PATTERN_TEXT_MAX);
	DEBUG_ASSERT(rc < 0 || pattern_reparses_to(buf, (size_t)rc, p));
	return rc;
}

int
slice_version_pattern_matches(const struct slice_version_pattern *p, const struct slice_version *v)
{
	int cmp;

	ASSERT(p != NULL);
	ASSERT(v != NULL);
	if (p->lower.is_set) {
		cmp = slice_version_compare(v, &p->lower.version);
		if (cmp < 0 || (cmp == 0 && !p->lower.is_inclusive)) {
			return 0;
		}
	}
	if (p->upper.is_set) {
		cmp = slice_version_compare(v, &p->upper.version);
		if (cmp > 0 || (cmp == 0 && !p->upper.is_inclusive)) {
			return 0;
		}
	}
	return 1;
}

int
slice_version_pattern_pick(const struct slice_version_pattern *p,
			   const struct slice_version *versions, size_t count, size_t *index_out)
{
	size_t best = 0;
	int is_found = 0;

	ASSERT(p != NULL);
	ASSERT(versions != NULL || count == 0);
	ASSERT(index_out != NULL);
	for (size_t i = 0; i < count; i++) {
		if (!slice_version_pattern_matches(p, &versions[i])) {
			continue;
		}
		/* Strictly greater: among equal versions the first one wins. */
		if (!is_found || slice_version_compare(&versions[i], &versions[best]) > 0) {
			best = i;
			is_found = 1;
		}
	}
	if (!is_found) {
		return -BASE_ERR_NO_MATCH;
	}
	*index_out = best;
	return 0;
}
