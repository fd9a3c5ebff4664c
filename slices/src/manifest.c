/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slice manifest: a byte pre-pass that enforces the size, line length and alphabet bounds
 * before any field is read, then one pass line by line through a fixed sequence of stages. The
 * format is in slices/manifest.h and slices/README.md.
 */
#include "slices/manifest.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"

#define MF_STR_(x) #x
#define MF_STR(x)  MF_STR_(x)

/* Hex digits of an XXH3-128 digest. */
#define MF_DIGEST_HEX_LEN  (BASE_HASH128_HEX_SIZE - 1)
/* Digits of the largest number a manifest holds (UINT32_MAX, and sizes up to 2^30). */
#define MF_NUMBER_TEXT_MAX 10
/* Longest depends line, the longest line there is; the header promises 335. */
#define MF_DEPENDS_LINE_MAX \
	(sizeof("depends ") - 1 + SLICE_NAME_TEXT_MAX + 1 + SLICE_PATTERN_TEXT_MAX)
#define MF_ENTRY_LINE_MAX (sizeof("entry ") - 1 + SLICE_METHOD_MAX + sizeof(" idempotent") - 1)
/* Longest canonical text, newlines included. */
#define MF_CANON_TEXT_MAX                                                                          \
	(sizeof("aether-manifest " MF_STR(SLICE_MANIFEST_FORMAT_VERSION) "\n") - 1 +               \
	 sizeof("coord \n") - 1 + SLICE_COORD_TEXT_MAX + sizeof("abi \n") - 1 +                    \
	 MF_NUMBER_TEXT_MAX + sizeof("size \n") - 1 + MF_NUMBER_TEXT_MAX + sizeof("xxh3-128 \n") - \
	 1 + MF_DIGEST_HEX_LEN + SLICE_MANIFEST_ENTRIES_MAX * (MF_ENTRY_LINE_MAX + 1) +            \
	 SLICE_MANIFEST_DEPS_MAX * (MF_DEPENDS_LINE_MAX + 1))

_Static_assert(MF_DEPENDS_LINE_MAX == 335, "manifest.h documents the longest line");
_Static_assert(MF_DEPENDS_LINE_MAX <= SLICE_MANIFEST_LINE_MAX, "every valid line is accepted");
_Static_assert(MF_CANON_TEXT_MAX <= SLICE_MANIFEST_TEXT_MAX, "every valid manifest is accepted");
_Static_assert(SLICE_MANIFEST_SO_SIZE_MAX < UINT64_C(10000000000), "sizes fit in 10 digits");
_Static_assert(SLICE_MANIFEST_TEXT_MAX < INT32_MAX, "format returns the length as int");

/* The lines in their required order; ENTRY_OR_DEP and DEP repeat. */
enum mf_stage {
	MF_HEADER = 0,
	MF_COORD,
	MF_ABI,
	MF_SIZE,
	MF_DIGEST,
	MF_ENTRY,
	MF_ENTRY_OR_DEP,
	MF_DEP,
};

static const char *const mf_expected[] = {
	[MF_HEADER] =
		"first line must be 'aether-manifest " MF_STR(SLICE_MANIFEST_FORMAT_VERSION) "'",
	[MF_COORD] = "expected the 'coord' line",
	[MF_ABI] = "expected the 'abi' line",
	[MF_SIZE] = "expected the 'size' line",
	[MF_DIGEST] = "expected the 'xxh3-128' line",
	[MF_ENTRY] = "expected an 'entry' line",
	[MF_ENTRY_OR_DEP] = "expected an 'entry' or 'depends' line",
	[MF_DEP] = "expected a 'depends' line (entries come first)",
};

static const char *const mf_missing[] = {
	[MF_HEADER] = "missing the 'aether-manifest' line",
	[MF_COORD] = "missing the 'coord' line",
	[MF_ABI] = "missing the 'abi' line",
	[MF_SIZE] = "missing the 'size' line",
	[MF_DIGEST] = "missing the 'xxh3-128' line",
	[MF_ENTRY] = "missing an 'entry' line (a slice has at least one entry point)",
};

/* One field of a line: text[offset .. offset + len). */
struct mf_tok {
	size_t offset;
	size_t len;
};

struct mf_scan {
	const char *text;
	size_t size;
	size_t pos;    /* start of the next line */
	uint32_t line; /* 1-based number of the current line */
	enum mf_stage stage;
	struct mf_tok tok[3];
	size_t tok_count;
	size_t line_end;        /* offset of the current line's "\n" */
	struct mf_tok prev_dep; /* name text of the previous depends line */
	struct slice_manifest_error *err;
};

static int
mf_fail_line(struct slice_manifest_error *err, uint32_t line, size_t offset, int code,
	     const char *what)
{
	if (err != NULL) {
		err->line = line;
	}
	return base_parse_fail(err != NULL ? &err->parse : NULL, offset, code, what);
}

static int
mf_fail(const struct mf_scan *s, size_t offset, int code, const char *what)
{
	return mf_fail_line(s->err, s->line, offset, code, what);
}

/* A sub-parser's error, moved to count from the start of the manifest. */
static int
mf_fail_field(const struct mf_scan *s, const struct mf_tok *t, const struct base_parse_error *e)
{
	return mf_fail(s, t->offset + e->offset, e->code, e->what);
}

static int
mf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
mf_is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int
mf_tok_is(const struct mf_scan *s, const struct mf_tok *t, const char *word)
{
	size_t n = strlen(word);

	return t->len == n && memcmp(s->text + t->offset, word, n) == 0;
}

/* Bounds and alphabet over the raw bytes, before anything is interpreted. */
static int
mf_check_bytes(const char *text, size_t size, struct slice_manifest_error *err)
{
	uint32_t line = 1;
	size_t line_start = 0;

	if (size == 0) {
		return mf_fail_line(err, 1, 0, -BASE_ERR_EMPTY, "empty manifest");
	}
	for (size_t i = 0; i < size; i++) {
		int c = (unsigned char)text[i];

		if (i == SLICE_MANIFEST_TEXT_MAX) {
			return mf_fail_line(
				err, line, i, -BASE_ERR_TOO_LONG,
				"manifest longer than " MF_STR(SLICE_MANIFEST_TEXT_MAX) " bytes");
		}
		if (c == '\n') {
			line++;
			line_start = i + 1;
			continue;
		}
		if (i - line_start == SLICE_MANIFEST_LINE_MAX) {
			return mf_fail_line(
				err, line, i, -BASE_ERR_TOO_LONG,
				"line longer than " MF_STR(SLICE_MANIFEST_LINE_MAX) " bytes");
		}
		if (c < 0x20 || c > 0x7e) {
			return mf_fail_line(err, line, i, -BASE_ERR_BAD_CHAR,
					    "byte not allowed (only printable ASCII and newline)");
		}
	}
	if (text[size - 1] != '\n') {
		return mf_fail_line(err, line, size, -BASE_ERR_SYNTAX,
				    "last line does not end with a newline");
	}
	return 0;
}

/*
 * Splits the next line into single-space-separated fields. Returns 1 with s->tok filled, 0 at
 * the end of the text, or a negative code. The pre-pass guarantees every line ends in "\n".
 */
static int
mf_next_line(struct mf_scan *s)
{
	const char *nl;
	size_t p;

	if (s->pos == s->size) {
		return 0;
	}
	nl = memchr(s->text + s->pos, '\n', s->size - s->pos);
	ASSERT(nl != NULL);
	s->line++;
	s->line_end = (size_t)(nl - s->text);
	s->tok_count = 0;
	p = s->pos;
	s->pos = s->line_end + 1;
	if (p == s->line_end) {
		return mf_fail(s, p, -BASE_ERR_EMPTY, "blank line");
	}
	for (;;) {
		size_t q = p;

		while (q < s->line_end && s->text[q] != ' ') {
			q++;
		}
		if (q == p) {
			/* Point at the offending space itself, also for a trailing one. */
			return mf_fail(s, p == s->line_end ? p - 1 : p, -BASE_ERR_SYNTAX,
				       "doubled, leading or trailing space");
		}
		if (s->tok_count == AE_ARRAY_SIZE(s->tok)) {
			return mf_fail(s, p, -BASE_ERR_SYNTAX, "too many fields on this line");
		}
		s->tok[s->tok_count].offset = p;
		s->tok[s->tok_count].len = q - p;
		s->tok_count++;
		if (q == s->line_end) {
			return 1;
		}
		p = q + 1;
	}
}

/* The line must hold between min and max fields. */
static int
mf_fields(const struct mf_scan *s, size_t min, size_t max)
{
	ASSERT(min >= 1);
	ASSERT(max <= AE_ARRAY_SIZE(s->tok));
	if (s->tok_count < min) {
		return mf_fail(s, s->line_end, -BASE_ERR_EMPTY, "missing value");
	}
	if (s->tok_count > max) {
		return mf_fail(s, s->tok[max].offset, -BASE_ERR_SYNTAX,
			       "too many fields on this line");
	}
	return 0;
}

/* "0" | [1-9][0-9]*, at most max (which leaves room to multiply by ten without overflow). */
static int
mf_number(const struct mf_scan *s, const struct mf_tok *t, uint64_t max, const char *too_large,
	  uint64_t *out)
{
	const char *p = s->text + t->offset;
	uint64_t value = 0;

	ASSERT(max <= UINT32_MAX);
	ASSERT(t->len > 0);
	if (t->len > 1 && p[0] == '0') {
		return mf_fail(s, t->offset, -BASE_ERR_SYNTAX, "leading zero in number");
	}
	for (size_t i = 0; i < t->len; i++) {
		if (!mf_is_digit(p[i])) {
			return mf_fail(s, t->offset + i, -BASE_ERR_BAD_CHAR, "not a decimal digit");
		}
		value = value * 10 + (uint64_t)(p[i] - '0');
		if (value > max) {
			return mf_fail(s, t->offset, -BASE_ERR_RANGE, too_large);
		}
	}
	*out = value;
	return 0;
}

static int
mf_header(struct mf_scan *s, struct slice_manifest *m)
{
	uint64_t version = 0;
	int rc = mf_fields(s, 2, 2);

	(void)m;
	if (rc == 0) {
		rc = mf_number(s, &s->tok[1], UINT32_MAX, "format version out of range", &version);
	}
	if (rc == 0 && version != SLICE_MANIFEST_FORMAT_VERSION) {
		rc = mf_fail(s, s->tok[1].offset, -BASE_ERR_VERSION,
			     "unsupported manifest format version (this build reads "
			     "version " MF_STR(SLICE_MANIFEST_FORMAT_VERSION) ")");
	}
	return rc;
}

static int
mf_coord(struct mf_scan *s, struct slice_manifest *m)
{
	struct base_parse_error e;
	int rc = mf_fields(s, 2, 2);

	if (rc != 0) {
		return rc;
	}
	rc = slice_coord_parse(s->text + s->tok[1].offset, s->tok[1].len, &m->coord, &e);
	return rc != 0 ? mf_fail_field(s, &s->tok[1], &e) : 0;
}

static int
mf_abi(struct mf_scan *s, struct slice_manifest *m)
{
	uint64_t abi = 0;
	int rc = mf_fields(s, 2, 2);

	if (rc == 0) {
		rc = mf_number(s, &s->tok[1], UINT32_MAX, "abi version over 4294967295", &abi);
	}
	if (rc == 0 && abi == 0) {
		rc = mf_fail(s, s->tok[1].offset, -BASE_ERR_RANGE, "abi version 0 does not exist");
	}
	if (rc == 0) {
		m->abi_version = (uint32_t)abi;
	}
	return rc;
}

static int
mf_size(struct mf_scan *s, struct slice_manifest *m)
{
	uint64_t size = 0;
	int rc = mf_fields(s, 2, 2);

	if (rc == 0) {
		rc = mf_number(s, &s->tok[1], SLICE_MANIFEST_SO_SIZE_MAX,
			       "size over the 1 GiB limit", &size);
	}
	if (rc == 0 && size == 0) {
		rc = mf_fail(s, s->tok[1].offset, -BASE_ERR_RANGE, "size must be at least 1 byte");
	}
	if (rc == 0) {
		m->size = size;
	}
	return rc;
}

static int
mf_digest(struct mf_scan *s, struct slice_manifest *m)
{
	const struct mf_tok *t = &s->tok[1];
	const char *p;
	int rc = mf_fields(s, 2, 2);

	if (rc != 0) {
		return rc;
	}
	p = s->text + t->offset;
	for (size_t i = 0; i < t->len; i++) {
		if (p[i] >= 'A' && p[i] <= 'F') {
			return mf_fail(s, t->offset + i, -BASE_ERR_BAD_CHAR,
				       "hex digits must be lower case");
		}
		if (!mf_is_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f')) {
			return mf_fail(s, t->offset + i, -BASE_ERR_BAD_CHAR, "not a hex digit");
		}
	}
	if (t->len != MF_DIGEST_HEX_LEN) {
		return mf_fail(s, t->offset, -BASE_ERR_SYNTAX, "digest must be 32 hex digits");
	}
	rc = base_hash128_parse(p, t->len, &m->xxh3_128);
	ASSERT(rc == 0);
	return 0;
}

int
slice_method_check(const char *text, size_t size, struct base_parse_error *err)
{
	ASSERT(text != NULL || size == 0);
	if (size == 0) {
		return base_parse_fail(err, 0, -BASE_ERR_EMPTY, "empty method");
	}
	if (size > SLICE_METHOD_MAX) {
		return base_parse_fail(err, SLICE_METHOD_MAX, -BASE_ERR_TOO_LONG,
				       "method longer than " MF_STR(SLICE_METHOD_MAX) " bytes");
	}
	if (!mf_is_lower(text[0]) && text[0] != '_') {
		return base_parse_fail(err, 0, -BASE_ERR_BAD_CHAR,
				       "method must start with a lowercase letter or '_'");
	}
	for (size_t i = 1; i < size; i++) {
		if (!mf_is_lower(text[i]) && !mf_is_digit(text[i]) && text[i] != '_') {
			return base_parse_fail(err, i, -BASE_ERR_BAD_CHAR,
					       "character not allowed in method");
		}
	}
	return 0;
}

/* Bytewise order of (a, a_len) and (b, b_len), a shorter prefix first; like strcmp. */
static int
mf_text_compare(const char *a, size_t a_len, const char *b, size_t b_len)
{
	int c = memcmp(a, b, base_min_size(a_len, b_len));

	if (c != 0) {
		return c;
	}
	return (a_len > b_len) - (a_len < b_len);
}

static int
mf_entry(struct mf_scan *s, struct slice_manifest *m)
{
	const struct mf_tok *t = &s->tok[1];
	struct slice_manifest_entry *e;
	struct base_parse_error pe;
	int rc = mf_fields(s, 2, 3);

	if (rc != 0) {
		return rc;
	}
	if (m->entry_count == SLICE_MANIFEST_ENTRIES_MAX) {
		return mf_fail(s, s->tok[0].offset, -BASE_ERR_FULL,
			       "more than " MF_STR(SLICE_MANIFEST_ENTRIES_MAX) " entries");
	}
	rc = slice_method_check(s->text + t->offset, t->len, &pe);
	if (rc != 0) {
		return mf_fail_field(s, t, &pe);
	}
	if (s->tok_count == 3 && !mf_tok_is(s, &s->tok[2], "idempotent")) {
		return mf_fail(s, s->tok[2].offset, -BASE_ERR_SYNTAX,
			       "unknown entry flag (the only flag is 'idempotent')");
	}
	if (m->entry_count > 0) {
		const char *prev = m->entries[m->entry_count - 1].name;

		if (mf_text_compare(prev, strlen(prev), s->text + t->offset, t->len) >= 0) {
			return mf_fail(s, t->offset, -BASE_ERR_SYNTAX,
				       "entries must be sorted by name, without duplicates");
		}
	}
	e = &m->entries[m->entry_count++];
	memcpy(e->name, s->text + t->offset, t->len);
	e->is_idempotent = s->tok_count == 3;
	return 0;
}

static int
mf_dep(struct mf_scan *s, struct slice_manifest *m)
{
	const struct mf_tok *n = &s->tok[1];
	const struct mf_tok *p = &s->tok[2];
	struct slice_manifest_dep *d;
	struct base_parse_error pe;
	int rc = mf_fields(s, 3, 3);

	if (rc != 0) {
		return rc;
	}
	if (m->dep_count == SLICE_MANIFEST_DEPS_MAX) {
		return mf_fail(s, s->tok[0].offset, -BASE_ERR_FULL,
			       "more than " MF_STR(SLICE_MANIFEST_DEPS_MAX) " dependencies");
	}
	d = &m->deps[m->dep_count];
	rc = slice_name_parse(s->text + n->offset, n->len, &d->name, &pe);
	if (rc == 0) {
		rc = slice_version_pattern_parse(s->text + p->offset, p->len, &d->pattern, &pe);
		n = rc != 0 ? p : n;
	}
	if (rc != 0) {
		memset(d, 0, sizeof(*d));
		return mf_fail_field(s, n, &pe);
	}
	if (slice_name_equal(&d->name, &m->coord.name)) {
		rc = mf_fail(s, n->offset, -BASE_ERR_SYNTAX, "a slice cannot depend on itself");
	} else if (m->dep_count > 0 &&
		   mf_text_compare(s->text + s->prev_dep.offset, s->prev_dep.len,
				   s->text + n->offset, n->len) >= 0) {
		rc = mf_fail(s, n->offset, -BASE_ERR_SYNTAX,
			     "depends must be sorted by name, without duplicates");
	}
	if (rc != 0) {
		/* Keep unused slots zero, so a later successful parse stays comparable. */
		memset(d, 0, sizeof(*d));
		return rc;
	}
	s->prev_dep = *n;
	m->dep_count++;
	return 0;
}

typedef int mf_field_fn(struct mf_scan *s, struct slice_manifest *m);

/* The single lines that open every manifest, in order (stages MF_HEADER .. MF_DIGEST). */
static const struct {
	const char *keyword;
	mf_field_fn *parse;
} mf_fixed[] = {
	[MF_HEADER] = {"aether-manifest", mf_header},
	[MF_COORD] = {"coord", mf_coord},
	[MF_ABI] = {"abi", mf_abi},
	[MF_SIZE] = {"size", mf_size},
	[MF_DIGEST] = {"xxh3-128", mf_digest},
};

/* The repeated lines: entries, then depends. */
static int
mf_list_line(struct mf_scan *s, struct slice_manifest *m)
{
	if (mf_tok_is(s, &s->tok[0], "entry") && s->stage != MF_DEP) {
		s->stage = MF_ENTRY_OR_DEP;
		return mf_entry(s, m);
	}
	if (mf_tok_is(s, &s->tok[0], "depends") && s->stage != MF_ENTRY) {
		s->stage = MF_DEP;
		return mf_dep(s, m);
	}
	return mf_fail(s, s->tok[0].offset, -BASE_ERR_SYNTAX, mf_expected[s->stage]);
}

/* Checks the keyword for the current stage and parses the line; advances the stage. */
static int
mf_line(struct mf_scan *s, struct slice_manifest *m)
{
	if (s->stage <= MF_DIGEST) {
		mf_field_fn *parse = mf_fixed[s->stage].parse;

		if (!mf_tok_is(s, &s->tok[0], mf_fixed[s->stage].keyword)) {
			return mf_fail(s, s->tok[0].offset, -BASE_ERR_SYNTAX,
				       mf_expected[s->stage]);
		}
		s->stage = (enum mf_stage)(s->stage + 1);
		return parse(s, m);
	}
	return mf_list_line(s, m);
}

int
slice_manifest_parse(const char *text, size_t size, struct slice_manifest *out,
		     struct slice_manifest_error *err)
{
	struct slice_manifest m;
	struct mf_scan s;
	int rc;

	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	rc = mf_check_bytes(text, size, err);
	if (rc != 0) {
		return rc;
	}
	/* Zero every byte, padding included, so equal manifests are equal bytes. */
	memset(&m, 0, sizeof(m));
	memset(&s, 0, sizeof(s));
	s.text = text;
	s.size = size;
	s.err = err;
	s.stage = MF_HEADER;
	while ((rc = mf_next_line(&s)) == 1) {
		rc = mf_line(&s, &m);
		if (rc != 0) {
			return rc;
		}
	}
	if (rc != 0) {
		return rc;
	}
	if (s.stage < MF_ENTRY_OR_DEP) {
		return mf_fail_line(err, s.line + 1, size, -BASE_ERR_SYNTAX, mf_missing[s.stage]);
	}
	ASSERT(m.entry_count >= 1);
	memcpy(out, &m, sizeof(m));
	return 0;
}

/* Output into a caller buffer; overflow is sticky and reported once at the end. */
struct mf_out {
	char *buf;
	size_t capacity;
	size_t len;
};

static void
mf_out_bytes(struct mf_out *o, const char *bytes, size_t n)
{
	/* Keep one byte for the NUL. */
	for (size_t i = 0; i < n; i++) {
		if (o->len + 1 < o->capacity) {
			o->buf[o->len] = bytes[i];
		}
		o->len++;
	}
}

static void
mf_out_str(struct mf_out *o, const char *str)
{
	mf_out_bytes(o, str, strlen(str));
}

static void
mf_out_u64(struct mf_out *o, uint64_t value)
{
	char digits[20];
	size_t count = 0;

	do {
		digits[sizeof(digits) - 1 - count++] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	mf_out_bytes(o, digits + sizeof(digits) - count, count);
}

/* Writes a field through one of the coord.h formatters, which assert the field is valid. */
static void
mf_out_field(struct mf_out *o, int len, const char *text)
{
	ASSERT(len > 0);
	mf_out_bytes(o, text, (size_t)len);
}

static void
mf_out_dep(struct mf_out *o, const struct slice_manifest_dep *d)
{
	char name[SLICE_NAME_TEXT_MAX + 1];
	char pattern[SLICE_PATTERN_TEXT_MAX + 1];

	mf_out_str(o, "depends ");
	mf_out_field(o, slice_name_format(&d->name, name, sizeof(name)), name);
	mf_out_str(o, " ");
	mf_out_field(o, slice_version_pattern_format(&d->pattern, pattern, sizeof(pattern)),
		     pattern);
	mf_out_str(o, "\n");
}

/* Bytewise order of the canonical texts of two names (the order of depends lines). */
static int
mf_name_compare(const struct slice_name *a, const struct slice_name *b)
{
	char ta[SLICE_NAME_TEXT_MAX + 1];
	char tb[SLICE_NAME_TEXT_MAX + 1];

	/* Formatting asserts that both names are ones the parser would produce. */
	ASSERT(slice_name_format(a, ta, sizeof(ta)) > 0);
	ASSERT(slice_name_format(b, tb, sizeof(tb)) > 0);
	return strcmp(ta, tb);
}

static void
mf_assert_entry(const struct slice_manifest *m, uint32_t i)
{
	const char *name = m->entries[i].name;

	ASSERT(slice_method_check(name, strnlen(name, sizeof(m->entries[i].name)), NULL) == 0);
	ASSERT(m->entries[i].is_idempotent == 0 || m->entries[i].is_idempotent == 1);
	ASSERT(i == 0 || strcmp(m->entries[i - 1].name, name) < 0);
}

static void
mf_assert_dep(const struct slice_manifest *m, uint32_t i)
{
	ASSERT(!slice_name_equal(&m->deps[i].name, &m->coord.name));
	ASSERT(i == 0 || mf_name_compare(&m->deps[i - 1].name, &m->deps[i].name) < 0);
}

/* The formatter's contract: m is something the parser could have produced. */
static void
mf_assert_valid(const struct slice_manifest *m)
{
	ASSERT(m->abi_version >= 1);
	ASSERT(m->size >= 1);
	ASSERT(m->size <= SLICE_MANIFEST_SO_SIZE_MAX);
	ASSERT(m->entry_count >= 1);
	ASSERT(m->entry_count <= SLICE_MANIFEST_ENTRIES_MAX);
	ASSERT(m->dep_count <= SLICE_MANIFEST_DEPS_MAX);
	for (uint32_t i = 0; i < m->entry_count; i++) {
		mf_assert_entry(m, i);
	}
	for (uint32_t i = 0; i < m->dep_count; i++) {
		mf_assert_dep(m, i);
	}
}

int
slice_manifest_format(const struct slice_manifest *m, char *buf, size_t capacity)
{
	struct mf_out o = {buf, capacity, 0};
	char coord[SLICE_COORD_TEXT_MAX + 1];
	char hex[BASE_HASH128_HEX_SIZE];

	ASSERT(m != NULL);
	ASSERT(buf != NULL || capacity == 0);
	mf_assert_valid(m);
	mf_out_str(&o, "aether-manifest " MF_STR(SLICE_MANIFEST_FORMAT_VERSION) "\ncoord ");
	mf_out_field(&o, slice_coord_format(&m->coord, coord, sizeof(coord)), coord);
	mf_out_str(&o, "\nabi ");
	mf_out_u64(&o, m->abi_version);
	mf_out_str(&o, "\nsize ");
	mf_out_u64(&o, m->size);
	base_hash128_hex(m->xxh3_128, hex);
	mf_out_str(&o, "\nxxh3-128 ");
	mf_out_str(&o, hex);
	mf_out_str(&o, "\n");
	for (uint32_t i = 0; i < m->entry_count; i++) {
		mf_out_str(&o, "entry ");
		mf_out_str(&o, m->entries[i].name);
		mf_out_str(&o, m->entries[i].is_idempotent ? " idempotent\n" : "\n");
	}
	for (uint32_t i = 0; i < m->dep_count; i++) {
		mf_out_dep(&o, &m->deps[i]);
	}
	ASSERT(o.len <= MF_CANON_TEXT_MAX);
	if (o.len >= o.capacity) {
		if (o.capacity > 0) {
			o.buf[0] = '\0';
		}
		return -ENOBUFS;
	}
	o.buf[o.len] = '\0';
	return (int)o.len;
}

static int
mf_pattern_equal(const struct slice_version_pattern *a, const struct slice_version_pattern *b)
{
	char ta[SLICE_PATTERN_TEXT_MAX + 1];
	char tb[SLICE_PATTERN_TEXT_MAX + 1];

	/* The canonical text is the pattern's identity (two spellings never parse alike). */
	ASSERT(slice_version_pattern_format(a, ta, sizeof(ta)) > 0);
	ASSERT(slice_version_pattern_format(b, tb, sizeof(tb)) > 0);
	return strcmp(ta, tb) == 0;
}

int
slice_manifest_equal(const struct slice_manifest *a, const struct slice_manifest *b)
{
	ASSERT(a != NULL);
	ASSERT(b != NULL);
	if (!slice_coord_equal(&a->coord, &b->coord) || a->abi_version != b->abi_version ||
	    a->size != b->size || !base_hash128_equal(a->xxh3_128, b->xxh3_128) ||
	    a->entry_count != b->entry_count || a->dep_count != b->dep_count) {
		return 0;
	}
	for (uint32_t i = 0; i < a->entry_count; i++) {
		if (strcmp(a->entries[i].name, b->entries[i].name) != 0 ||
		    a->entries[i].is_idempotent != b->entries[i].is_idempotent) {
			return 0;
		}
	}
	for (uint32_t i = 0; i < a->dep_count; i++) {
		if (!slice_name_equal(&a->deps[i].name, &b->deps[i].name) ||
		    !mf_pattern_equal(&a->deps[i].pattern, &b->deps[i].pattern)) {
			return 0;
		}
	}
	return 1;
}

void
slice_manifest_init(struct slice_manifest *m, const struct slice_coord *coord, uint32_t abi_version,
		    uint64_t size, struct base_hash128 xxh3_128)
{
	char text[SLICE_COORD_TEXT_MAX + 1];

	ASSERT(m != NULL);
	ASSERT(coord != NULL);
	ASSERT(abi_version >= 1);
	ASSERT(size >= 1);
	ASSERT(size <= SLICE_MANIFEST_SO_SIZE_MAX);
	/* Formatting asserts the coordinate is one the parser would produce. */
	ASSERT(slice_coord_format(coord, text, sizeof(text)) > 0);
	memset(m, 0, sizeof(*m));
	memcpy(&m->coord, coord, sizeof(*coord));
	m->abi_version = abi_version;
	m->size = size;
	m->xxh3_128 = xxh3_128;
}

/* The position of (name, size) in the sorted entries: where it is, or where it would go. */
static uint32_t
mf_entry_position(const struct slice_manifest *m, const char *name, size_t size, int *is_found)
{
	uint32_t lo = 0;
	uint32_t hi = m->entry_count;

	*is_found = 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const char *e = m->entries[mid].name;
		int c = mf_text_compare(e, strlen(e), name, size);

		if (c == 0) {
			*is_found = 1;
			return mid;
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

int
slice_manifest_add_entry(struct slice_manifest *m, const char *name, size_t size, int is_idempotent)
{
	int is_found;
	uint32_t at;
	int rc;

	ASSERT(m != NULL);
	ASSERT(is_idempotent == 0 || is_idempotent == 1);
	rc = slice_method_check(name, size, NULL);
	if (rc != 0) {
		return rc;
	}
	at = mf_entry_position(m, name, size, &is_found);
	if (is_found) {
		return -EEXIST;
	}
	if (m->entry_count == SLICE_MANIFEST_ENTRIES_MAX) {
		return -BASE_ERR_FULL;
	}
	memmove(&m->entries[at + 1], &m->entries[at],
		(m->entry_count - at) * sizeof(m->entries[0]));
	memset(&m->entries[at], 0, sizeof(m->entries[at]));
	memcpy(m->entries[at].name, name, size);
	m->entries[at].is_idempotent = is_idempotent;
	m->entry_count++;
	return 0;
}

int
slice_manifest_add_dep(struct slice_manifest *m, const struct slice_name *name,
		       const struct slice_version_pattern *pattern)
{
	char text[SLICE_NAME_TEXT_MAX + 1];
	char check[SLICE_PATTERN_TEXT_MAX + 1];
	uint32_t at = 0;

	ASSERT(m != NULL);
	/* Formatting asserts that name and pattern are ones the parsers would produce. */
	ASSERT(slice_name_format(name, text, sizeof(text)) > 0);
	ASSERT(slice_version_pattern_format(pattern, check, sizeof(check)) > 0);
	if (slice_name_equal(name, &m->coord.name)) {
		return -EINVAL;
	}
	/* Linear: at most SLICE_MANIFEST_DEPS_MAX names. */
	for (; at < m->dep_count; at++) {
		int c = mf_name_compare(&m->deps[at].name, name);

		if (c == 0) {
			return -EEXIST;
		}
		if (c > 0) {
			break;
		}
	}
	if (m->dep_count == SLICE_MANIFEST_DEPS_MAX) {
		return -BASE_ERR_FULL;
	}
	memmove(&m->deps[at + 1], &m->deps[at], (m->dep_count - at) * sizeof(m->deps[0]));
	memcpy(&m->deps[at].name, name, sizeof(*name));
	memcpy(&m->deps[at].pattern, pattern, sizeof(*pattern));
	m->dep_count++;
	return 0;
}

const struct slice_manifest_entry *
slice_manifest_find_entry(const struct slice_manifest *m, const char *name, size_t size)
{
	int is_found;
	uint32_t at;

	ASSERT(m != NULL);
	ASSERT(name != NULL || size == 0);
	if (size == 0) {
		return NULL;
	}
	at = mf_entry_position(m, name, size, &is_found);
	return is_found ? &m->entries[at] : NULL;
}
