/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The KV key schema: parse, format, compare and match typed keys.
 *
 * Parsing runs in fixed stages so every rejection has one deterministic offset: total length,
 * then a byte scan (NUL, alphabet, ".."), then the split at "/" (empty segments), then the
 * family and its segment count, then each segment's own grammar. Formatting and pattern
 * prefixes share one walk over a per-family layout table, which is what keeps the prefix a
 * true prefix of every key a pattern matches.
 */
#include "consensus/kv_key.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"

_Static_assert(KV_KEY_ENDPOINT_TEXT_MAX <= KV_KEY_MAX, "the longest valid key must fit");
_Static_assert(KV_INSTANCE_TEXT_MAX == sizeof("4294967295") - 1, "digits of UINT32_MAX");

/* Fields that appear in the key text (VERSIONS is a pattern-only constraint). */
#define KV_TEXT_FIELDS                                                                        \
	(KV_KEY_FIELD_NODE | KV_KEY_FIELD_NAME | KV_KEY_FIELD_VERSION | KV_KEY_FIELD_METHOD | \
	 KV_KEY_FIELD_INSTANCE)

/* One field in the key text, followed by its terminator byte (0 for the last one). */
struct kv_component {
	unsigned field;
	char terminator;
};

static const struct kv_component kv_layout_coord[] = {
	{KV_KEY_FIELD_NAME, ':'},
	{KV_KEY_FIELD_VERSION, 0},
};
static const struct kv_component kv_layout_slices[] = {
	{KV_KEY_FIELD_NODE, '/'},
	{KV_KEY_FIELD_NAME, ':'},
	{KV_KEY_FIELD_VERSION, '/'},
	{KV_KEY_FIELD_INSTANCE, 0},
};
static const struct kv_component kv_layout_endpoints[] = {
	{KV_KEY_FIELD_NAME, ':'}, {KV_KEY_FIELD_VERSION, '/'}, {KV_KEY_FIELD_METHOD, '/'},
	{KV_KEY_FIELD_NODE, '/'}, {KV_KEY_FIELD_INSTANCE, 0},
};
static const struct kv_component kv_layout_nodes[] = {
	{KV_KEY_FIELD_NODE, 0},
};
static const struct kv_component kv_layout_routing[] = {
	{KV_KEY_FIELD_NAME, 0},
};

struct kv_family_def {
	const char *name;
	size_t name_size;
	size_t segment_count;   /* segments after the family */
	const char *count_what; /* the error text for a wrong segment count */
	unsigned fields;        /* the fields a pattern may constrain */
	const struct kv_component *layout;
	size_t layout_count;
};

#define KV_FAMILY_DEF(text, count, what, field_set, lay)                                          \
	{                                                                                         \
		(text), sizeof(text) - 1, (count), (what), (field_set), (lay), AE_ARRAY_SIZE(lay) \
	}

#define KV_COORD_FIELDS (KV_KEY_FIELD_NAME | KV_KEY_FIELD_VERSION | KV_KEY_FIELD_VERSIONS)

static const struct kv_family_def kv_families[KV_KEY_FAMILY_COUNT + 1] = {
	[KV_KEY_FAMILY_BLUEPRINTS] =
		KV_FAMILY_DEF("blueprints", 1, "blueprints key needs 1 segment after the family",
			      KV_COORD_FIELDS, kv_layout_coord),
	[KV_KEY_FAMILY_ARTIFACTS] =
		KV_FAMILY_DEF("artifacts", 1, "artifacts key needs 1 segment after the family",
			      KV_COORD_FIELDS, kv_layout_coord),
	[KV_KEY_FAMILY_SLICES] = KV_FAMILY_DEF(
		"slices", 3, "slices key needs 3 segments after the family",
		KV_COORD_FIELDS | KV_KEY_FIELD_NODE | KV_KEY_FIELD_INSTANCE, kv_layout_slices),
	[KV_KEY_FAMILY_ENDPOINTS] = KV_FAMILY_DEF(
		"endpoints", 4, "endpoints key needs 4 segments after the family",
		KV_COORD_FIELDS | KV_KEY_FIELD_NODE | KV_KEY_FIELD_METHOD | KV_KEY_FIELD_INSTANCE,
		kv_layout_endpoints),
	[KV_KEY_FAMILY_LEADER] = {"leader", sizeof("leader") - 1, 0,
				  "leader key has no segments after the family", 0, NULL, 0},
	[KV_KEY_FAMILY_NODES] =
		KV_FAMILY_DEF("nodes", 1, "nodes key needs 1 segment after the family",
			      KV_KEY_FIELD_NODE, kv_layout_nodes),
	[KV_KEY_FAMILY_ROUTING] =
		KV_FAMILY_DEF("routing", 1, "routing key needs 1 segment after the family",
			      KV_KEY_FIELD_NAME, kv_layout_routing),
};

/*
 * Singular/plural slips and the Java runtime's family names get a hint, because an operator
 * typing `blueprint/...` should learn the right spelling from the error alone.
 */
static const struct {
	const char *text;
	const char *what;
} kv_near_misses[] = {
	{"blueprint", "unknown key family 'blueprint' (the family is 'blueprints')"},
	{"app-blueprint", "unknown key family 'app-blueprint' (the family is 'blueprints')"},
	{"artifact", "unknown key family 'artifact' (the family is 'artifacts')"},
	{"slice", "unknown key family 'slice' (the family is 'slices')"},
	{"endpoint", "unknown key family 'endpoint' (the family is 'endpoints')"},
	{"leaders", "unknown key family 'leaders' (the family is 'leader')"},
	{"node", "unknown key family 'node' (the family is 'nodes')"},
	{"version-routing", "unknown key family 'version-routing' (the family is 'routing')"},
	{"route", "unknown key family 'route' (the family is 'routing')"},
};

struct kv_segment {
	size_t offset;
	size_t size;
};

/* count keeps counting past the stored segments so "too many" is still detected. */
struct kv_split {
	struct kv_segment seg[KV_KEY_SEGMENTS_MAX + 1];
	size_t count;
};

/* The text fields of a key or the pinned fields of a pattern, as one shape. */
struct kv_view {
	enum kv_key_family family;
	unsigned fields;
	const char *node_id;
	const struct slice_name *name;
	const struct slice_version *version;
	const char *method;
	uint32_t instance;
};

static int
kv_is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static int
kv_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
kv_is_key_byte(char c)
{
	if (kv_is_lower(c) || kv_is_digit(c) || (c >= 'A' && c <= 'Z')) {
		return 1;
	}
	return c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
}

static const struct kv_family_def *
kv_family_def(enum kv_key_family family)
{
	ASSERT(family >= KV_KEY_FAMILY_BLUEPRINTS);
	ASSERT(family <= KV_KEY_FAMILY_ROUTING);
	return &kv_families[family];
}

const char *
kv_key_family_name(enum kv_key_family family)
{
	if (family < KV_KEY_FAMILY_BLUEPRINTS || family > KV_KEY_FAMILY_ROUTING) {
		return NULL;
	}
	return kv_families[family].name;
}

int
kv_key_node_id_check(const char *text, size_t size, struct base_parse_error *err)
{
	ASSERT(text != NULL || size == 0);
	if (size == 0) {
		return base_parse_fail(err, 0, -BASE_ERR_EMPTY, "empty node id");
	}
	if (size > KV_NODE_ID_MAX) {
		return base_parse_fail(err, KV_NODE_ID_MAX, -BASE_ERR_TOO_LONG,
				       "node id longer than 32 bytes");
	}
	if (!kv_is_lower(text[0])) {
		return base_parse_fail(err, 0, -BASE_ERR_BAD_CHAR,
				       "node id must start with a lowercase letter");
	}
	for (size_t i = 1; i < size; i++) {
		if (text[i] == '-' && text[i - 1] == '-') {
			return base_parse_fail(err, i, -BASE_ERR_SYNTAX, "double '-' in node id");
		}
		if (text[i] != '-' && !kv_is_lower(text[i]) && !kv_is_digit(text[i])) {
			return base_parse_fail(err, i, -BASE_ERR_BAD_CHAR,
					       "character not allowed in node id");
		}
	}
	if (text[size - 1] == '-') {
		return base_parse_fail(err, size - 1, -BASE_ERR_SYNTAX, "node id ends with '-'");
	}
	return 0;
}

int
kv_key_method_check(const char *text, size_t size, struct base_parse_error *err)
{
	ASSERT(text != NULL || size == 0);
	if (size == 0) {
		return base_parse_fail(err, 0, -BASE_ERR_EMPTY, "empty method");
	}
	if (size > KV_METHOD_MAX) {
		return base_parse_fail(err, KV_METHOD_MAX, -BASE_ERR_TOO_LONG,
				       "method longer than 64 bytes");
	}
	if (!kv_is_lower(text[0]) && text[0] != '_') {
		return base_parse_fail(err, 0, -BASE_ERR_BAD_CHAR,
				       "method must start with a lowercase letter or '_'");
	}
	for (size_t i = 1; i < size; i++) {
		if (!kv_is_lower(text[i]) && !kv_is_digit(text[i]) && text[i] != '_') {
			return base_parse_fail(err, i, -BASE_ERR_BAD_CHAR,
					       "character not allowed in method");
		}
	}
	return 0;
}

static int
kv_instance_scan(const char *text, size_t size, uint32_t *out, struct base_parse_error *err)
{
	uint64_t value = 0;

	for (size_t i = 0; i < size; i++) {
		if (!kv_is_digit(text[i])) {
			return base_parse_fail(err, i, -BASE_ERR_BAD_CHAR,
					       "instance must be decimal digits");
		}
	}
	if (size > 1 && text[0] == '0') {
		return base_parse_fail(err, 0, -BASE_ERR_SYNTAX, "instance has a leading zero");
	}
	for (size_t i = 0; i < size; i++) {
		value = value * 10 + (uint64_t)(text[i] - '0');
		if (value > UINT32_MAX) {
			return base_parse_fail(err, 0, -BASE_ERR_RANGE, "instance over 4294967295");
		}
	}
	*out = (uint32_t)value;
	return 0;
}

/* Rejects bytes no key may hold, before any grammar sees them. */
static int
kv_scan_bytes(const char *text, size_t size, struct base_parse_error *err)
{
	for (size_t i = 0; i < size; i++) {
		if (text[i] == '\0') {
			return base_parse_fail(err, i, -BASE_ERR_BAD_CHAR, "NUL byte in key");
		}
		if (!kv_is_key_byte(text[i])) {
			return base_parse_fail(err, i, -BASE_ERR_BAD_CHAR,
					       "byte not allowed in a key");
		}
		if (text[i] == '.' && i > 0 && text[i - 1] == '.') {
			return base_parse_fail(err, i - 1, -BASE_ERR_SYNTAX, "'..' in key");
		}
	}
	return 0;
}

static int
kv_split(const char *text, size_t size, struct kv_split *s, struct base_parse_error *err)
{
	size_t start = 0;

	s->count = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && text[i] != '/') {
			continue;
		}
		if (i == start && i == size) {
			return base_parse_fail(err, size - 1, -BASE_ERR_EMPTY, "key ends with '/'");
		}
		if (i == start) {
			return base_parse_fail(err, start, -BASE_ERR_EMPTY, "empty segment");
		}
		if (s->count < AE_ARRAY_SIZE(s->seg)) {
			s->seg[s->count].offset = start;
			s->seg[s->count].size = i - start;
		}
		s->count++;
		start = i + 1;
	}
	ASSERT(s->count >= 1);
	return 0;
}

/* The family whose name is the segment, or 0. */
static int
kv_family_lookup(const char *text, const struct kv_segment *f)
{
	for (int i = KV_KEY_FAMILY_BLUEPRINTS; i <= KV_KEY_FAMILY_ROUTING; i++) {
		if (kv_families[i].name_size == f->size &&
		    memcmp(kv_families[i].name, text + f->offset, f->size) == 0) {
			return i;
		}
	}
	return 0;
}

static int
kv_family_unknown(const char *text, const struct kv_segment *f, struct base_parse_error *err)
{
	for (size_t i = 0; i < AE_ARRAY_SIZE(kv_near_misses); i++) {
		const char *miss = kv_near_misses[i].text;

		if (strlen(miss) == f->size && memcmp(miss, text + f->offset, f->size) == 0) {
			return base_parse_fail(err, 0, -BASE_ERR_UNKNOWN_FAMILY,
					       kv_near_misses[i].what);
		}
	}
	return base_parse_fail(err, 0, -BASE_ERR_UNKNOWN_FAMILY, "unknown key family");
}

static int
kv_parse_family(const char *text, size_t size, const struct kv_split *s, enum kv_key_family *out,
		struct base_parse_error *err)
{
	int family = kv_family_lookup(text, &s->seg[0]);
	const struct kv_family_def *def;

	if (family == 0) {
		return kv_family_unknown(text, &s->seg[0], err);
	}
	def = &kv_families[family];
	ASSERT(def->segment_count + 1 < AE_ARRAY_SIZE(s->seg));
	if (s->count - 1 < def->segment_count) {
		return base_parse_fail(err, size, -BASE_ERR_SYNTAX, def->count_what);
	}
	if (s->count - 1 > def->segment_count) {
		/* Point at the "/" that opens the first segment the family does not have. */
		return base_parse_fail(err, s->seg[def->segment_count + 1].offset - 1,
				       -BASE_ERR_TRAILING, def->count_what);
	}
	*out = (enum kv_key_family)family;
	return 0;
}

/* Moves a sub-parser's failure (offset relative to its segment) to key offsets. */
static int
kv_segment_fail(struct base_parse_error *err, const struct kv_segment *seg, int rc,
		const struct base_parse_error *local)
{
	ASSERT(rc < 0);
	ASSERT(local->offset <= seg->size);
	return base_parse_fail(err, seg->offset + local->offset, rc, local->what);
}

static int
kv_segment_node_id(const char *text, const struct kv_segment *seg, char *out,
		   struct base_parse_error *err)
{
	struct base_parse_error local;
	int rc = kv_key_node_id_check(text + seg->offset, seg->size, &local);

	if (rc != 0) {
		return kv_segment_fail(err, seg, rc, &local);
	}
	memcpy(out, text + seg->offset, seg->size);
	out[seg->size] = '\0';
	return 0;
}

static int
kv_segment_method(const char *text, const struct kv_segment *seg, char *out,
		  struct base_parse_error *err)
{
	struct base_parse_error local;
	int rc = kv_key_method_check(text + seg->offset, seg->size, &local);

	if (rc != 0) {
		return kv_segment_fail(err, seg, rc, &local);
	}
	memcpy(out, text + seg->offset, seg->size);
	out[seg->size] = '\0';
	return 0;
}

static int
kv_segment_instance(const char *text, const struct kv_segment *seg, uint32_t *out,
		    struct base_parse_error *err)
{
	struct base_parse_error local;
	int rc = kv_instance_scan(text + seg->offset, seg->size, out, &local);

	return rc != 0 ? kv_segment_fail(err, seg, rc, &local) : 0;
}

static int
kv_segment_coord(const char *text, const struct kv_segment *seg, struct slice_coord *out,
		 struct base_parse_error *err)
{
	struct base_parse_error local = {0, 0, NULL};
	int rc = slice_coord_parse(text + seg->offset, seg->size, out, &local);

	return rc != 0 ? kv_segment_fail(err, seg, rc, &local) : 0;
}

static int
kv_segment_name(const char *text, const struct kv_segment *seg, struct slice_name *out,
		struct base_parse_error *err)
{
	struct base_parse_error local = {0, 0, NULL};
	int rc = slice_name_parse(text + seg->offset, seg->size, out, &local);

	return rc != 0 ? kv_segment_fail(err, seg, rc, &local) : 0;
}

static int
kv_parse_slice(const char *text, const struct kv_split *s, struct kv_key_slice *out,
	       struct base_parse_error *err)
{
	int rc = kv_segment_node_id(text, &s->seg[1], out->node_id, err);

	if (rc == 0) {
		rc = kv_segment_coord(text, &s->seg[2], &out->coord, err);
	}
	if (rc == 0) {
		rc = kv_segment_instance(text, &s->seg[3], &out->instance, err);
	}
	return rc;
}

static int
kv_parse_endpoint(const char *text, const struct kv_split *s, struct kv_key_endpoint *out,
		  struct base_parse_error *err)
{
	int rc = kv_segment_coord(text, &s->seg[1], &out->coord, err);

	if (rc == 0) {
		rc = kv_segment_method(text, &s->seg[2], out->method, err);
	}
	if (rc == 0) {
		rc = kv_segment_node_id(text, &s->seg[3], out->node_id, err);
	}
	if (rc == 0) {
		rc = kv_segment_instance(text, &s->seg[4], &out->instance, err);
	}
	return rc;
}

static int
kv_parse_fields(const char *text, const struct kv_split *s, struct kv_key *k,
		struct base_parse_error *err)
{
	switch (k->family) {
	case KV_KEY_FAMILY_BLUEPRINTS:
		return kv_segment_coord(text, &s->seg[1], &k->blueprint, err);
	case KV_KEY_FAMILY_ARTIFACTS:
		return kv_segment_coord(text, &s->seg[1], &k->artifact, err);
	case KV_KEY_FAMILY_SLICES:
		return kv_parse_slice(text, s, &k->slice, err);
	case KV_KEY_FAMILY_ENDPOINTS:
		return kv_parse_endpoint(text, s, &k->endpoint, err);
	case KV_KEY_FAMILY_LEADER:
		return 0;
	case KV_KEY_FAMILY_NODES:
		return kv_segment_node_id(text, &s->seg[1], k->node, err);
	case KV_KEY_FAMILY_ROUTING:
		return kv_segment_name(text, &s->seg[1], &k->routing, err);
	}
	PANIC("kv_key: family %d has no parser", (int)k->family);
}

int
kv_key_parse(const char *text, size_t size, struct kv_key *out, struct base_parse_error *err)
{
	struct kv_split split;
	struct kv_key k;
	int rc;

	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	if (size == 0) {
		return base_parse_fail(err, 0, -BASE_ERR_EMPTY, "empty key");
	}
	if (size > KV_KEY_MAX) {
		return base_parse_fail(err, KV_KEY_MAX, -BASE_ERR_TOO_LONG,
				       "key longer than 512 bytes");
	}
	rc = kv_scan_bytes(text, size, err);
	if (rc == 0) {
		rc = kv_split(text, size, &split, err);
	}
	memset(&k, 0, sizeof(k));
	if (rc == 0) {
		rc = kv_parse_family(text, size, &split, &k.family, err);
	}
	if (rc == 0) {
		rc = kv_parse_fields(text, &split, &k, err);
	}
	if (rc != 0) {
		return rc;
	}
	*out = k;
	return 0;
}

/* The view of a key: every text field of its family, pointing into k. */
static void
kv_view_of_key(const struct kv_key *k, struct kv_view *v)
{
	memset(v, 0, sizeof(*v));
	v->family = k->family;
	v->fields = kv_family_def(k->family)->fields & KV_TEXT_FIELDS;
	switch (k->family) {
	case KV_KEY_FAMILY_BLUEPRINTS:
	case KV_KEY_FAMILY_ARTIFACTS: {
		const struct slice_coord *c =
			k->family == KV_KEY_FAMILY_BLUEPRINTS ? &k->blueprint : &k->artifact;
		v->name = &c->name;
		v->version = &c->version;
		break;
	}
	case KV_KEY_FAMILY_SLICES:
		v->node_id = k->slice.node_id;
		v->name = &k->slice.coord.name;
		v->version = &k->slice.coord.version;
		v->instance = k->slice.instance;
		break;
	case KV_KEY_FAMILY_ENDPOINTS:
		v->node_id = k->endpoint.node_id;
		v->name = &k->endpoint.coord.name;
		v->version = &k->endpoint.coord.version;
		v->method = k->endpoint.method;
		v->instance = k->endpoint.instance;
		break;
	case KV_KEY_FAMILY_LEADER:
		break;
	case KV_KEY_FAMILY_NODES:
		v->node_id = k->node;
		break;
	case KV_KEY_FAMILY_ROUTING:
		v->name = &k->routing;
		break;
	}
}

/* The view of a pattern: only its pinned text fields. */
static void
kv_view_of_pattern(const struct kv_key_pattern *p, struct kv_view *v)
{
	memset(v, 0, sizeof(*v));
	v->family = p->family;
	v->fields = p->fields & KV_TEXT_FIELDS;
	v->node_id = p->node_id;
	v->name = &p->name;
	v->version = &p->version;
	v->method = p->method;
	v->instance = p->instance;
}

/*
 * Exact text equality of versions. slice_version_compare is an ordering, under which distinct
 * spellings of a qualifier could compare equal; keys need the exact spelling.
 */
static int
kv_version_equal(const struct slice_version *a, const struct slice_version *b)
{
	return a->major == b->major && a->minor == b->minor && a->patch == b->patch &&
	       strcmp(a->qualifier, b->qualifier) == 0;
}

static int
kv_view_field_equal(const struct kv_view *a, const struct kv_view *b, unsigned field)
{
	switch (field) {
	case KV_KEY_FIELD_NODE:
		return strcmp(a->node_id, b->node_id) == 0;
	case KV_KEY_FIELD_NAME:
		return strcmp(a->name->group, b->name->group) == 0 &&
		       strcmp(a->name->artifact, b->name->artifact) == 0;
	case KV_KEY_FIELD_VERSION:
		return kv_version_equal(a->version, b->version);
	case KV_KEY_FIELD_METHOD:
		return strcmp(a->method, b->method) == 0;
	case KV_KEY_FIELD_INSTANCE:
		return a->instance == b->instance;
	default:
		PANIC("kv_key: field %u is not a text field", field);
	}
}

/* 1 when every field in `fields` is equal in a and b. */
static int
kv_view_fields_equal(const struct kv_view *a, const struct kv_view *b, unsigned fields)
{
	for (unsigned field = 1; field <= KV_KEY_FIELD_INSTANCE; field <<= 1) {
		if ((fields & field) != 0 && !kv_view_field_equal(a, b, field)) {
			return 0;
		}
	}
	return 1;
}

int
kv_key_equal(const struct kv_key *a, const struct kv_key *b)
{
	struct kv_view va;
	struct kv_view vb;

	ASSERT(a != NULL);
	ASSERT(b != NULL);
	if (a->family != b->family) {
		return 0;
	}
	kv_view_of_key(a, &va);
	kv_view_of_key(b, &vb);
	return kv_view_fields_equal(&va, &vb, va.fields);
}

/*
 * A bounded text builder: it counts every byte it is given but stores only what fits, so one
 * pass both writes the text and learns its length for the -ENOBUFS check.
 */
struct kv_text {
	char *buf;
	size_t capacity;
	size_t size;
};

static void
kv_text_put(struct kv_text *t, const char *s, size_t n)
{
	if (t->size < t->capacity) {
		memcpy(t->buf + t->size, s, base_min_size(n, t->capacity - t->size));
	}
	t->size += n;
}

static int
kv_text_finish(struct kv_text *t)
{
	if (t->size >= t->capacity) {
		if (t->capacity > 0) {
			t->buf[0] = '\0';
		}
		return -ENOBUFS;
	}
	ASSERT(t->size <= KV_KEY_MAX);
	t->buf[t->size] = '\0';
	return (int)t->size;
}

static void
kv_text_u32(struct kv_text *t, uint32_t value)
{
	char digits[KV_INSTANCE_TEXT_MAX];
	size_t n = KV_INSTANCE_TEXT_MAX;

	do {
		digits[--n] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0);
	kv_text_put(t, digits + n, KV_INSTANCE_TEXT_MAX - n);
}

/* Node ids and methods must be valid: a bad one would break the round trip. */
static void
kv_text_node_id(struct kv_text *t, const char *node_id)
{
	size_t n = strnlen(node_id, KV_NODE_ID_MAX + 1);

	ASSERT(kv_key_node_id_check(node_id, n, NULL) == 0);
	kv_text_put(t, node_id, n);
}

static void
kv_text_method(struct kv_text *t, const char *method)
{
	size_t n = strnlen(method, KV_METHOD_MAX + 1);

	ASSERT(kv_key_method_check(method, n, NULL) == 0);
	kv_text_put(t, method, n);
}

static void
kv_text_name(struct kv_text *t, const struct slice_name *name)
{
	char tmp[SLICE_NAME_TEXT_MAX + 1];
	int n = slice_name_format(name, tmp, sizeof(tmp));

	ASSERT(n > 0);
	kv_text_put(t, tmp, (size_t)n);
}

static void
kv_text_version(struct kv_text *t, const struct slice_version *version)
{
	char tmp[SLICE_VERSION_TEXT_MAX + 1];
	int n = slice_version_format(version, tmp, sizeof(tmp));

	ASSERT(n > 0);
	kv_text_put(t, tmp, (size_t)n);
}

static void
kv_text_field(struct kv_text *t, const struct kv_view *v, unsigned field)
{
	switch (field) {
	case KV_KEY_FIELD_NODE:
		kv_text_node_id(t, v->node_id);
		return;
	case KV_KEY_FIELD_NAME:
		kv_text_name(t, v->name);
		return;
	case KV_KEY_FIELD_VERSION:
		kv_text_version(t, v->version);
		return;
	case KV_KEY_FIELD_METHOD:
		kv_text_method(t, v->method);
		return;
	case KV_KEY_FIELD_INSTANCE:
		kv_text_u32(t, v->instance);
		return;
	default:
		PANIC("kv_key: field %u is not a text field", field);
	}
}

/*
 * Writes the family, then each layout field while the view pins it. For a key every field is
 * pinned, giving the canonical text; for a pattern it stops at the first unpinned field, giving
 * the prefix. The terminator after a field is written only when the field is pinned.
 */
static void
kv_text_view(struct kv_text *t, const struct kv_view *v)
{
	const struct kv_family_def *def = kv_family_def(v->family);

	kv_text_put(t, def->name, def->name_size);
	if (def->layout_count > 0) {
		kv_text_put(t, "/", 1);
	}
	for (size_t i = 0; i < def->layout_count; i++) {
		const struct kv_component *c = &def->layout[i];

		if ((v->fields & c->field) == 0) {
			return;
		}
		kv_text_field(t, v, c->field);
		if (c->terminator != 0) {
			kv_text_put(t, &c->terminator, 1);
		}
	}
}

int
kv_key_format(const struct kv_key *k, char *buf, size_t capacity)
{
	struct kv_text t = {buf, capacity, 0};
	struct kv_view v;

	ASSERT(k != NULL);
	ASSERT(buf != NULL || capacity == 0);
	kv_view_of_key(k, &v);
	kv_text_view(&t, &v);
	return kv_text_finish(&t);
}

void
kv_key_init_blueprint(struct kv_key *k, const struct slice_coord *coord)
{
	ASSERT(k != NULL);
	ASSERT(coord != NULL);
	memset(k, 0, sizeof(*k));
	k->family = KV_KEY_FAMILY_BLUEPRINTS;
	k->blueprint = *coord;
}

void
kv_key_init_artifact(struct kv_key *k, const struct slice_coord *coord)
{
	ASSERT(k != NULL);
	ASSERT(coord != NULL);
	memset(k, 0, sizeof(*k));
	k->family = KV_KEY_FAMILY_ARTIFACTS;
	k->artifact = *coord;
}

/* Checks a NUL-terminated node id and copies it into out (KV_NODE_ID_MAX + 1 bytes). */
static int
kv_copy_node_id(char *out, const char *node_id)
{
	size_t n = strnlen(node_id, KV_NODE_ID_MAX + 1);
	int rc = kv_key_node_id_check(node_id, n, NULL);

	if (rc == 0) {
		memset(out, 0, KV_NODE_ID_MAX + 1);
		memcpy(out, node_id, n);
	}
	return rc;
}

static int
kv_copy_method(char *out, const char *method)
{
	size_t n = strnlen(method, KV_METHOD_MAX + 1);
	int rc = kv_key_method_check(method, n, NULL);

	if (rc == 0) {
		memset(out, 0, KV_METHOD_MAX + 1);
		memcpy(out, method, n);
	}
	return rc;
}

int
kv_key_init_slice(struct kv_key *k, const char *node_id, const struct slice_coord *coord,
		  uint32_t instance)
{
	struct kv_key tmp;
	int rc;

	ASSERT(k != NULL);
	ASSERT(node_id != NULL);
	ASSERT(coord != NULL);
	memset(&tmp, 0, sizeof(tmp));
	rc = kv_copy_node_id(tmp.slice.node_id, node_id);
	if (rc != 0) {
		return rc;
	}
	tmp.family = KV_KEY_FAMILY_SLICES;
	tmp.slice.coord = *coord;
	tmp.slice.instance = instance;
	*k = tmp;
	return 0;
}

int
kv_key_init_endpoint(struct kv_key *k, const struct slice_coord *coord, const char *method,
		     const char *node_id, uint32_t instance)
{
	struct kv_key tmp;
	int rc;

	ASSERT(k != NULL);
	ASSERT(coord != NULL);
	ASSERT(method != NULL);
	ASSERT(node_id != NULL);
	memset(&tmp, 0, sizeof(tmp));
	rc = kv_copy_method(tmp.endpoint.method, method);
	if (rc == 0) {
		rc = kv_copy_node_id(tmp.endpoint.node_id, node_id);
	}
	if (rc != 0) {
		return rc;
	}
	tmp.family = KV_KEY_FAMILY_ENDPOINTS;
	tmp.endpoint.coord = *coord;
	tmp.endpoint.instance = instance;
	*k = tmp;
	return 0;
}

void
kv_key_init_leader(struct kv_key *k)
{
	ASSERT(k != NULL);
	memset(k, 0, sizeof(*k));
	k->family = KV_KEY_FAMILY_LEADER;
}

int
kv_key_init_node(struct kv_key *k, const char *node_id)
{
	struct kv_key tmp;
	int rc;

	ASSERT(k != NULL);
	ASSERT(node_id != NULL);
	memset(&tmp, 0, sizeof(tmp));
	rc = kv_copy_node_id(tmp.node, node_id);
	if (rc != 0) {
		return rc;
	}
	tmp.family = KV_KEY_FAMILY_NODES;
	*k = tmp;
	return 0;
}

void
kv_key_init_routing(struct kv_key *k, const struct slice_name *name)
{
	ASSERT(k != NULL);
	ASSERT(name != NULL);
	memset(k, 0, sizeof(*k));
	k->family = KV_KEY_FAMILY_ROUTING;
	k->routing = *name;
}

void
kv_key_pattern_init(struct kv_key_pattern *p, enum kv_key_family family)
{
	ASSERT(p != NULL);
	(void)kv_family_def(family);
	memset(p, 0, sizeof(*p));
	p->family = family;
}

/* Constraining a field the family does not have is a programmer error. */
static void
kv_pattern_allow(const struct kv_key_pattern *p, unsigned field)
{
	ASSERT(p != NULL);
	ASSERT((kv_family_def(p->family)->fields & field) == field);
}

int
kv_key_pattern_set_node(struct kv_key_pattern *p, const char *node_id)
{
	int rc;

	kv_pattern_allow(p, KV_KEY_FIELD_NODE);
	ASSERT(node_id != NULL);
	rc = kv_copy_node_id(p->node_id, node_id);
	if (rc == 0) {
		p->fields |= KV_KEY_FIELD_NODE;
	}
	return rc;
}

void
kv_key_pattern_set_name(struct kv_key_pattern *p, const struct slice_name *name)
{
	kv_pattern_allow(p, KV_KEY_FIELD_NAME);
	ASSERT(name != NULL);
	p->name = *name;
	p->fields |= KV_KEY_FIELD_NAME;
}

void
kv_key_pattern_set_version(struct kv_key_pattern *p, const struct slice_version *version)
{
	kv_pattern_allow(p, KV_KEY_FIELD_VERSION);
	ASSERT(version != NULL);
	p->version = *version;
	p->fields |= KV_KEY_FIELD_VERSION;
}

void
kv_key_pattern_set_coord(struct kv_key_pattern *p, const struct slice_coord *coord)
{
	ASSERT(coord != NULL);
	kv_key_pattern_set_name(p, &coord->name);
	kv_key_pattern_set_version(p, &coord->version);
}

void
kv_key_pattern_set_versions(struct kv_key_pattern *p, const struct slice_version_pattern *versions)
{
	kv_pattern_allow(p, KV_KEY_FIELD_VERSIONS);
	ASSERT(versions != NULL);
	p->versions = *versions;
	p->fields |= KV_KEY_FIELD_VERSIONS;
}

int
kv_key_pattern_set_method(struct kv_key_pattern *p, const char *method)
{
	int rc;

	kv_pattern_allow(p, KV_KEY_FIELD_METHOD);
	ASSERT(method != NULL);
	rc = kv_copy_method(p->method, method);
	if (rc == 0) {
		p->fields |= KV_KEY_FIELD_METHOD;
	}
	return rc;
}

void
kv_key_pattern_set_instance(struct kv_key_pattern *p, uint32_t instance)
{
	kv_pattern_allow(p, KV_KEY_FIELD_INSTANCE);
	p->instance = instance;
	p->fields |= KV_KEY_FIELD_INSTANCE;
}

int
kv_key_pattern_slices_of_node(struct kv_key_pattern *p, const char *node_id)
{
	kv_key_pattern_init(p, KV_KEY_FAMILY_SLICES);
	return kv_key_pattern_set_node(p, node_id);
}

void
kv_key_pattern_endpoints_of_name(struct kv_key_pattern *p, const struct slice_name *name)
{
	kv_key_pattern_init(p, KV_KEY_FAMILY_ENDPOINTS);
	kv_key_pattern_set_name(p, name);
}

int
kv_key_pattern_endpoints_of_method(struct kv_key_pattern *p, const struct slice_coord *coord,
				   const char *method)
{
	kv_key_pattern_init(p, KV_KEY_FAMILY_ENDPOINTS);
	kv_key_pattern_set_coord(p, coord);
	return kv_key_pattern_set_method(p, method);
}

void
kv_key_pattern_blueprints_matching(struct kv_key_pattern *p, const struct slice_name *name,
				   const struct slice_version_pattern *versions)
{
	kv_key_pattern_init(p, KV_KEY_FAMILY_BLUEPRINTS);
	kv_key_pattern_set_name(p, name);
	kv_key_pattern_set_versions(p, versions);
}

int
kv_key_pattern_matches(const struct kv_key_pattern *p, const struct kv_key *k)
{
	struct kv_view pv;
	struct kv_view kv;

	ASSERT(p != NULL);
	ASSERT(k != NULL);
	ASSERT((p->fields & ~kv_family_def(p->family)->fields) == 0);
	if (p->family != k->family) {
		return 0;
	}
	kv_view_of_pattern(p, &pv);
	kv_view_of_key(k, &kv);
	if (!kv_view_fields_equal(&pv, &kv, pv.fields)) {
		return 0;
	}
	if ((p->fields & KV_KEY_FIELD_VERSIONS) != 0 &&
	    !slice_version_pattern_matches(&p->versions, kv.version)) {
		return 0;
	}
	return 1;
}

int
kv_key_pattern_prefix(const struct kv_key_pattern *p, char *buf, size_t capacity)
{
	struct kv_text t = {buf, capacity, 0};
	struct kv_view v;

	ASSERT(p != NULL);
	ASSERT(buf != NULL || capacity == 0);
	kv_view_of_pattern(p, &v);
	kv_text_view(&t, &v);
	return kv_text_finish(&t);
}
