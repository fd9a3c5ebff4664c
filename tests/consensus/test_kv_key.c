/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the KV key grammar accepts exactly one spelling per key, rejects everything else with a
 * stable code and offset, and typed patterns select keys by field (their byte prefix being a
 * true prefix of every key they match). Method: tables of valid keys (exact round trips),
 * invalid keys (code and offset), grammar tables for node ids and methods, and a table of
 * patterns against a fixed key set; then a seeded property test that builds random valid keys
 * of every family from typed parts and independent text, and mutates them byte by byte:
 * every mutant is rejected cleanly or round-trips exactly. A failure prints the seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "consensus/kv_key.h"

/* The offset of the first byte after a literal prefix, for readable offset tables. */
#define OFF(prefix) (sizeof(prefix) - 1)

#define KV_TEST_SEED       UINT64_C(0x6b765f6b65790001)
#define KV_TEST_ITERATIONS 10000

struct fixture {
	struct kv_key key;
	struct kv_key other;
	struct base_parse_error err;
	char text[KV_KEY_MAX + 1];
	char big[2 * KV_KEY_MAX];
	struct base_prng prng;
	uint64_t seed;
	unsigned iteration;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	assert_non_null(f);
	f->seed = KV_TEST_SEED;
	base_prng_init(&f->prng, f->seed);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	test_free(*state);
	return 0;
}

static struct slice_coord
coord_of(const char *text)
{
	struct slice_coord c;

	assert_int_equal(slice_coord_parse(text, strlen(text), &c, NULL), 0);
	return c;
}

static struct slice_name
name_of(const char *text)
{
	struct slice_name n;

	assert_int_equal(slice_name_parse(text, strlen(text), &n, NULL), 0);
	return n;
}

static struct slice_version_pattern
versions_of(const char *text)
{
	struct slice_version_pattern p;

	assert_int_equal(slice_version_pattern_parse(text, strlen(text), &p, NULL), 0);
	return p;
}

static void
assert_key_round_trips(struct fixture *f, const char *text)
{
	int n;

	assert_int_equal(kv_key_parse(text, strlen(text), &f->key, &f->err), 0);
	n = kv_key_format(&f->key, f->text, sizeof(f->text));
	assert_int_equal(n, (int)strlen(text));
	assert_string_equal(f->text, text);
	assert_int_equal(kv_key_parse(f->text, (size_t)n, &f->other, NULL), 0);
	assert_true(kv_key_equal(&f->key, &f->other));
}

/* Rejects text[0..size) with code at offset and leaves the output key untouched. */
static void
assert_key_rejected(struct fixture *f, const char *text, size_t size, int code, size_t offset)
{
	struct kv_key before;

	memset(&f->key, 0xa5, sizeof(f->key));
	before = f->key;
	f->err.what = NULL;
	assert_int_equal(kv_key_parse(text, size, &f->key, &f->err), code);
	assert_int_equal(f->err.code, code);
	assert_int_equal(f->err.offset, offset);
	assert_non_null(f->err.what);
	assert_memory_equal(&f->key, &before, sizeof(before));
}

static void
test_kv_key_every_family_round_trips_exactly(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = {
		"blueprints/org.example:web:1.0.0",
		"blueprints/org.example:web:1.2.3-rc.1",
		"artifacts/com.acme.tools:db-pool:10.20.30",
		"artifacts/org.example:web:1.0.0-SNAPSHOT",
		"slices/node-1/org.example:web:1.0.0/0",
		"slices/n/org.example:web:4294967295.0.0/4294967295",
		"endpoints/org.example:web:1.0.0/handle_get/node-1/3",
		"endpoints/org.example:web:1.0.0-beta.2/_/a1/12",
		"leader",
		"nodes/node-1",
		"nodes/a",
		"nodes/abcdefghijklmnopqrstuvwxyz-12345",
		"routing/org.example:web",
	};

	for (size_t i = 0; i < AE_ARRAY_SIZE(keys); i++) {
		assert_key_round_trips(f, keys[i]);
	}
}

static void
test_kv_key_parse_fills_the_typed_fields(void **state)
{
	struct fixture *f = *state;
	const char *slice = "slices/node-1/org.example:web:1.2.3/7";
	const char *endpoint = "endpoints/org.example:web:1.2.3-rc1/get_user/node-2/9";

	assert_int_equal(kv_key_parse(slice, strlen(slice), &f->key, NULL), 0);
	assert_int_equal(f->key.family, KV_KEY_FAMILY_SLICES);
	assert_string_equal(f->key.slice.node_id, "node-1");
	assert_string_equal(f->key.slice.coord.name.group, "org.example");
	assert_string_equal(f->key.slice.coord.name.artifact, "web");
	assert_int_equal(f->key.slice.coord.version.major, 1);
	assert_int_equal(f->key.slice.coord.version.patch, 3);
	assert_int_equal(f->key.slice.instance, 7);

	assert_int_equal(kv_key_parse(endpoint, strlen(endpoint), &f->key, NULL), 0);
	assert_int_equal(f->key.family, KV_KEY_FAMILY_ENDPOINTS);
	assert_string_equal(f->key.endpoint.coord.version.qualifier, "rc1");
	assert_string_equal(f->key.endpoint.method, "get_user");
	assert_string_equal(f->key.endpoint.node_id, "node-2");
	assert_int_equal(f->key.endpoint.instance, 9);

	assert_int_equal(kv_key_parse("leader", 6, &f->key, NULL), 0);
	assert_int_equal(f->key.family, KV_KEY_FAMILY_LEADER);
	assert_string_equal(kv_key_family_name(KV_KEY_FAMILY_ROUTING), "routing");
	assert_null(kv_key_family_name((enum kv_key_family)0));
}

struct invalid_case {
	const char *text;
	size_t size; /* 0: strlen(text) */
	int code;
	size_t offset;
};

static void
test_kv_key_invalid_keys_report_code_and_offset(void **state)
{
	struct fixture *f = *state;
	static const struct invalid_case cases[] = {
		/* key-wide rules */
		{"", 0, -BASE_ERR_EMPTY, 0},
		{"nodes/no\0de", 11, -BASE_ERR_BAD_CHAR, 8},
		{"nodes/node 1", 0, -BASE_ERR_BAD_CHAR, 10},
		{"nodes/n\xff", 0, -BASE_ERR_BAD_CHAR, 7},
		{"blueprints/org..example:web:1.0.0", 0, -BASE_ERR_SYNTAX, OFF("blueprints/org")},
		{"nodes/../x", 0, -BASE_ERR_SYNTAX, 6},
		{"/leader", 0, -BASE_ERR_EMPTY, 0},
		{"slices//org.example:web:1.0.0/0", 0, -BASE_ERR_EMPTY, OFF("slices/")},
		{"nodes/node-1/", 0, -BASE_ERR_EMPTY, OFF("nodes/node-1")},
		{"leader/", 0, -BASE_ERR_EMPTY, 6},
		/* families */
		{"blueprint/org.example:web:1.0.0", 0, -BASE_ERR_UNKNOWN_FAMILY, 0},
		{"foo/bar", 0, -BASE_ERR_UNKNOWN_FAMILY, 0},
		{"Leader", 0, -BASE_ERR_UNKNOWN_FAMILY, 0},
		{"leaderx", 0, -BASE_ERR_UNKNOWN_FAMILY, 0},
		/* segment counts */
		{"nodes", 0, -BASE_ERR_SYNTAX, 5},
		{"slices/node-1/org.example:web:1.0.0", 0, -BASE_ERR_SYNTAX,
		 OFF("slices/node-1/org.example:web:1.0.0")},
		{"endpoints/org.example:web:1.0.0/get/node-1", 0, -BASE_ERR_SYNTAX,
		 OFF("endpoints/org.example:web:1.0.0/get/node-1")},
		{"leader/x", 0, -BASE_ERR_TRAILING, 6},
		{"nodes/node-1/x", 0, -BASE_ERR_TRAILING, OFF("nodes/node-1")},
		{"blueprints/org.example:web:1.0.0/x", 0, -BASE_ERR_TRAILING,
		 OFF("blueprints/org.example:web:1.0.0")},
		{"endpoints/org.example:web:1.0.0/get/n/0/a/b", 0, -BASE_ERR_TRAILING,
		 OFF("endpoints/org.example:web:1.0.0/get/n/0")},
		/* node ids */
		{"nodes/node--1", 0, -BASE_ERR_SYNTAX, OFF("nodes/node-")},
		{"nodes/node-", 0, -BASE_ERR_SYNTAX, OFF("nodes/node")},
		{"nodes/1node", 0, -BASE_ERR_BAD_CHAR, OFF("nodes/")},
		{"nodes/Node", 0, -BASE_ERR_BAD_CHAR, OFF("nodes/")},
		{"nodes/no_de", 0, -BASE_ERR_BAD_CHAR, OFF("nodes/no")},
		{"nodes/abcdefghijklmnopqrstuvwxyz-123456", 0, -BASE_ERR_TOO_LONG,
		 OFF("nodes/") + KV_NODE_ID_MAX},
		{"slices/a:b/org.example:web:1.0.0/0", 0, -BASE_ERR_BAD_CHAR, OFF("slices/a")},
		/* instances */
		{"slices/n/org.example:web:1.0.0/01", 0, -BASE_ERR_SYNTAX,
		 OFF("slices/n/org.example:web:1.0.0/")},
		{"slices/n/org.example:web:1.0.0/4294967296", 0, -BASE_ERR_RANGE,
		 OFF("slices/n/org.example:web:1.0.0/")},
		{"slices/n/org.example:web:1.0.0/99999999999999999999", 0, -BASE_ERR_RANGE,
		 OFF("slices/n/org.example:web:1.0.0/")},
		{"slices/n/org.example:web:1.0.0/12a", 0, -BASE_ERR_BAD_CHAR,
		 OFF("slices/n/org.example:web:1.0.0/12")},
		{"endpoints/org.example:web:1.0.0/get/n/-1", 0, -BASE_ERR_BAD_CHAR,
		 OFF("endpoints/org.example:web:1.0.0/get/n/")},
		/* methods */
		{"endpoints/org.example:web:1.0.0/Get/n/0", 0, -BASE_ERR_BAD_CHAR,
		 OFF("endpoints/org.example:web:1.0.0/")},
		{"endpoints/org.example:web:1.0.0/9get/n/0", 0, -BASE_ERR_BAD_CHAR,
		 OFF("endpoints/org.example:web:1.0.0/")},
		{"endpoints/org.example:web:1.0.0/get-all/n/0", 0, -BASE_ERR_BAD_CHAR,
		 OFF("endpoints/org.example:web:1.0.0/get")},
		{"endpoints/org.example:web:1.0.0/get.all/n/0", 0, -BASE_ERR_BAD_CHAR,
		 OFF("endpoints/org.example:web:1.0.0/get")},
	};

	for (size_t i = 0; i < AE_ARRAY_SIZE(cases); i++) {
		const struct invalid_case *c = &cases[i];
		size_t size = c->size != 0 ? c->size : strlen(c->text);

		print_message("# case %zu: %s\n", i, c->text);
		assert_key_rejected(f, c->text, size, c->code, c->offset);
	}
}

static void
test_kv_key_over_long_segments_and_keys_are_rejected(void **state)
{
	struct fixture *f = *state;
	size_t n;

	/* A 65-byte method. */
	n = (size_t)snprintf(f->big, sizeof(f->big), "endpoints/org.example:web:1.0.0/%065d/n/0",
			     0);
	memset(f->big + OFF("endpoints/org.example:web:1.0.0/"), 'm', KV_METHOD_MAX + 1);
	assert_key_rejected(f, f->big, n, -BASE_ERR_TOO_LONG,
			    OFF("endpoints/org.example:web:1.0.0/") + KV_METHOD_MAX);
	/* One byte over KV_KEY_MAX, otherwise well formed up to that point. */
	memcpy(f->big, "nodes/", 6);
	memset(f->big + 6, 'a', KV_KEY_MAX + 1 - 6);
	assert_key_rejected(f, f->big, KV_KEY_MAX + 1, -BASE_ERR_TOO_LONG, KV_KEY_MAX);
	/* The longest valid key of the widest family still fits. */
	assert_true(KV_KEY_ENDPOINT_TEXT_MAX <= KV_KEY_MAX);
}

static void
test_kv_key_near_miss_family_names_say_the_right_one(void **state)
{
	struct fixture *f = *state;
	const char *text = "blueprint/org.example:web:1.0.0";

	assert_int_equal(kv_key_parse(text, strlen(text), &f->key, &f->err),
			 -BASE_ERR_UNKNOWN_FAMILY);
	assert_non_null(strstr(f->err.what, "'blueprint'"));
	assert_non_null(strstr(f->err.what, "'blueprints'"));
	assert_int_equal(kv_key_parse("nodes", 5, &f->key, &f->err), -BASE_ERR_SYNTAX);
	assert_string_equal(f->err.what, "nodes key needs 1 segment after the family");
	text = "endpoints/org.example:web:1.0.0/get";
	assert_int_equal(kv_key_parse(text, strlen(text), &f->key, &f->err), -BASE_ERR_SYNTAX);
	assert_string_equal(f->err.what, "endpoints key needs 4 segments after the family");
}

/*
 * A bad coordinate or name is reported by the coordinate grammar; the key parser only moves the
 * offset to count from the start of the key. Compare against that grammar directly.
 */
static void
test_kv_key_bad_coordinates_keep_the_coordinate_error(void **state)
{
	struct fixture *f = *state;
	static const char *const parts[][3] = {
		{"blueprints/", "org.example:web", ""},
		{"blueprints/", "org.example:Web:1.0.0", ""},
		{"artifacts/", "org.example:web:1.0", ""},
		{"artifacts/", "org.example:web:01.0.0", ""},
		{"artifacts/", "org.example:web:4294967296.0.0", ""},
		{"slices/node-1/", "org:web:1.0.0", "/0"},
		{"endpoints/", "org.example:web:1.0.0-", "/get/n/0"},
		{"endpoints/", "org.example:web:1.0.0-rc.01", "/get/n/0"},
		{"routing/", "org.example:web:1.0.0", ""},
		{"routing/", "org.example", ""},
	};

	for (size_t i = 0; i < AE_ARRAY_SIZE(parts); i++) {
		const char *seg = parts[i][1];
		struct base_parse_error want = {0, 0, NULL};
		int n = snprintf(f->text, sizeof(f->text), "%s%s%s", parts[i][0], seg, parts[i][2]);
		int rc;

		if (strcmp(parts[i][0], "routing/") == 0) {
			struct slice_name name;

			rc = slice_name_parse(seg, strlen(seg), &name, &want);
		} else {
			struct slice_coord coord;

			rc = slice_coord_parse(seg, strlen(seg), &coord, &want);
		}
		print_message("# case %zu: %s\n", i, f->text);
		assert_true(rc < 0);
		assert_key_rejected(f, f->text, (size_t)n, rc, strlen(parts[i][0]) + want.offset);
		assert_string_equal(f->err.what, want.what);
	}
}

static void
test_kv_key_node_id_and_method_grammars(void **state)
{
	static const char *const good_nodes[] = {
		"a", "a1", "node-1", "a-b-c", "z9-0", "abcdefghijklmnopqrstuvwxyz-12345"};
	static const struct invalid_case bad_nodes[] = {
		{"", 0, -BASE_ERR_EMPTY, 0},
		{"-a", 0, -BASE_ERR_BAD_CHAR, 0},
		{"a-", 0, -BASE_ERR_SYNTAX, 1},
		{"a--b", 0, -BASE_ERR_SYNTAX, 2},
		{"A", 0, -BASE_ERR_BAD_CHAR, 0},
		{"1a", 0, -BASE_ERR_BAD_CHAR, 0},
		{"a_b", 0, -BASE_ERR_BAD_CHAR, 1},
		{"aB", 0, -BASE_ERR_BAD_CHAR, 1},
		{"abcdefghijklmnopqrstuvwxyz-123456", 0, -BASE_ERR_TOO_LONG, 32},
	};
	static const char *const good_methods[] = {"_", "get", "get_user2", "__x", "a0_"};
	static const struct invalid_case bad_methods[] = {
		{"", 0, -BASE_ERR_EMPTY, 0},       {"Get", 0, -BASE_ERR_BAD_CHAR, 0},
		{"9a", 0, -BASE_ERR_BAD_CHAR, 0},  {"a-b", 0, -BASE_ERR_BAD_CHAR, 1},
		{"a.b", 0, -BASE_ERR_BAD_CHAR, 1}, {"aB", 0, -BASE_ERR_BAD_CHAR, 1},
	};
	char method[KV_METHOD_MAX + 2];
	struct base_parse_error err;

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(good_nodes); i++) {
		assert_int_equal(kv_key_node_id_check(good_nodes[i], strlen(good_nodes[i]), NULL),
				 0);
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(bad_nodes); i++) {
		const char *t = bad_nodes[i].text;

		assert_int_equal(kv_key_node_id_check(t, strlen(t), &err), bad_nodes[i].code);
		assert_int_equal(err.offset, bad_nodes[i].offset);
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(good_methods); i++) {
		const char *t = good_methods[i];

		assert_int_equal(kv_key_method_check(t, strlen(t), NULL), 0);
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(bad_methods); i++) {
		const char *t = bad_methods[i].text;

		assert_int_equal(kv_key_method_check(t, strlen(t), &err), bad_methods[i].code);
		assert_int_equal(err.offset, bad_methods[i].offset);
	}
	memset(method, 'm', sizeof(method));
	assert_int_equal(kv_key_method_check(method, KV_METHOD_MAX, NULL), 0);
	assert_int_equal(kv_key_method_check(method, KV_METHOD_MAX + 1, &err), -BASE_ERR_TOO_LONG);
	assert_int_equal(err.offset, KV_METHOD_MAX);
}

static void
assert_key_text(struct fixture *f, const struct kv_key *k, const char *want)
{
	assert_int_equal(kv_key_format(k, f->text, sizeof(f->text)), (int)strlen(want));
	assert_string_equal(f->text, want);
	assert_int_equal(kv_key_parse(want, strlen(want), &f->other, NULL), 0);
	assert_true(kv_key_equal(k, &f->other));
}

static void
test_kv_key_constructors_build_the_parsed_key(void **state)
{
	struct fixture *f = *state;
	struct slice_coord c = coord_of("org.example:web:1.2.3-rc.1");
	struct slice_name n = name_of("org.example:web");
	struct kv_key k;

	kv_key_init_blueprint(&k, &c);
	assert_key_text(f, &k, "blueprints/org.example:web:1.2.3-rc.1");
	kv_key_init_artifact(&k, &c);
	assert_key_text(f, &k, "artifacts/org.example:web:1.2.3-rc.1");
	assert_int_equal(kv_key_init_slice(&k, "node-1", &c, 4), 0);
	assert_key_text(f, &k, "slices/node-1/org.example:web:1.2.3-rc.1/4");
	assert_int_equal(kv_key_init_endpoint(&k, &c, "get", "node-2", 0), 0);
	assert_key_text(f, &k, "endpoints/org.example:web:1.2.3-rc.1/get/node-2/0");
	kv_key_init_leader(&k);
	assert_key_text(f, &k, "leader");
	assert_int_equal(kv_key_init_node(&k, "node-3"), 0);
	assert_key_text(f, &k, "nodes/node-3");
	kv_key_init_routing(&k, &n);
	assert_key_text(f, &k, "routing/org.example:web");
}

static void
test_kv_key_constructors_reject_bad_names_and_leave_the_key(void **state)
{
	struct slice_coord c = coord_of("org.example:web:1.0.0");
	struct kv_key k;
	struct kv_key before;

	(void)state;
	memset(&k, 0x5a, sizeof(k));
	before = k;
	assert_int_equal(kv_key_init_slice(&k, "Node", &c, 0), -BASE_ERR_BAD_CHAR);
	assert_int_equal(kv_key_init_slice(&k, "node-", &c, 0), -BASE_ERR_SYNTAX);
	assert_int_equal(kv_key_init_endpoint(&k, &c, "get-x", "n", 0), -BASE_ERR_BAD_CHAR);
	assert_int_equal(kv_key_init_endpoint(&k, &c, "get", "", 0), -BASE_ERR_EMPTY);
	assert_int_equal(kv_key_init_node(&k, "abcdefghijklmnopqrstuvwxyz-1234567890"),
			 -BASE_ERR_TOO_LONG);
	assert_memory_equal(&k, &before, sizeof(k));
}

static void
test_kv_key_equal_tells_each_field_apart(void **state)
{
	struct fixture *f = *state;
	static const char *const pairs[][2] = {
		{"slices/node-1/org.example:web:1.0.0/0", "slices/node-2/org.example:web:1.0.0/0"},
		{"slices/node-1/org.example:web:1.0.0/0", "slices/node-1/org.example:api:1.0.0/0"},
		{"slices/node-1/org.example:web:1.0.0/0", "slices/node-1/org.other:web:1.0.0/0"},
		{"slices/node-1/org.example:web:1.0.0/0", "slices/node-1/org.example:web:1.0.1/0"},
		{"slices/node-1/org.example:web:1.0.0/0",
		 "slices/node-1/org.example:web:1.0.0-a/0"},
		{"slices/node-1/org.example:web:1.0.0/0", "slices/node-1/org.example:web:1.0.0/1"},
		{"endpoints/org.example:web:1.0.0/get/n/0",
		 "endpoints/org.example:web:1.0.0/put/n/0"},
		{"endpoints/org.example:web:1.0.0/get/n/0",
		 "endpoints/org.example:web:1.0.0/get/m/0"},
		{"endpoints/org.example:web:1.0.0-a/get/n/0",
		 "endpoints/org.example:web:1.0.0-b/get/n/0"},
		{"blueprints/org.example:web:1.0.0", "artifacts/org.example:web:1.0.0"},
		{"nodes/a", "nodes/b"},
		{"routing/org.example:web", "routing/org.example:api"},
		{"leader", "nodes/leader"},
	};

	for (size_t i = 0; i < AE_ARRAY_SIZE(pairs); i++) {
		const char *a = pairs[i][0];
		const char *b = pairs[i][1];

		assert_int_equal(kv_key_parse(a, strlen(a), &f->key, NULL), 0);
		assert_int_equal(kv_key_parse(b, strlen(b), &f->other, NULL), 0);
		assert_false(kv_key_equal(&f->key, &f->other));
		assert_false(kv_key_equal(&f->other, &f->key));
		assert_true(kv_key_equal(&f->key, &f->key));
	}
}

static void
test_kv_key_format_reports_enobufs_for_every_short_buffer(void **state)
{
	struct fixture *f = *state;
	const char *text = "endpoints/org.example:web:1.0.0/get/node-1/42";
	size_t len = strlen(text);
	struct kv_key_pattern p;

	assert_int_equal(kv_key_parse(text, len, &f->key, NULL), 0);
	assert_int_equal(kv_key_format(&f->key, NULL, 0), -ENOBUFS);
	for (size_t cap = 1; cap <= len; cap++) {
		memset(f->text, 'x', sizeof(f->text));
		assert_int_equal(kv_key_format(&f->key, f->text, cap), -ENOBUFS);
		assert_int_equal(f->text[0], '\0');
		assert_int_equal(f->text[cap], 'x');
	}
	assert_int_equal(kv_key_format(&f->key, f->text, len + 1), (int)len);
	assert_string_equal(f->text, text);

	assert_int_equal(kv_key_pattern_slices_of_node(&p, "node-1"), 0);
	assert_int_equal(kv_key_pattern_prefix(&p, f->text, OFF("slices/node-1/")), -ENOBUFS);
	assert_int_equal(kv_key_pattern_prefix(&p, f->text, sizeof("slices/node-1/")),
			 (int)OFF("slices/node-1/"));
}

/* The fixed key set the pattern table selects from. */
static const char *const pattern_keys[] = {
	"blueprints/org.example:web:1.0.0",                /* 0 */
	"blueprints/org.example:web:2.1.0",                /* 1 */
	"blueprints/org.example:api:1.0.0",                /* 2 */
	"artifacts/org.example:web:1.0.0",                 /* 3 */
	"slices/node-1/org.example:web:1.0.0/0",           /* 4 */
	"slices/node-1/org.example:api:1.0.0/1",           /* 5 */
	"slices/node-2/org.example:web:1.0.0/0",           /* 6 */
	"endpoints/org.example:web:1.0.0/get/node-1/0",    /* 7 */
	"endpoints/org.example:web:1.0.0/put/node-2/1",    /* 8 */
	"endpoints/org.example:web:2.0.0/get/node-1/0",    /* 9 */
	"endpoints/org.example:api:1.0.0/get/node-1/0",    /* 10 */
	"leader",                                          /* 11 */
	"nodes/node-1",                                    /* 12 */
	"nodes/node-2",                                    /* 13 */
	"routing/org.example:web",                         /* 14 */
	"routing/org.example:api",                         /* 15 */
	"slices/node-10/org.example:web:1.0.0/0",          /* 16 */
	"endpoints/org.example:web-ui:1.0.0/get/node-1/0", /* 17 */
	"slices/node-1/org.example:web:1.0.0-rc1/0",       /* 18 */
};

#define K(i) (1u << (i))

enum pattern_helper {
	HELPER_NONE,
	HELPER_SLICES_OF_NODE,
	HELPER_ENDPOINTS_OF_NAME,
	HELPER_ENDPOINTS_OF_METHOD,
	HELPER_BLUEPRINTS_MATCHING,
};

struct pattern_case {
	enum pattern_helper helper;
	enum kv_key_family family;
	const char *node;     /* NULL: unconstrained */
	const char *name;     /* group:artifact */
	const char *coord;    /* name and exact version */
	const char *versions; /* a version pattern */
	const char *method;
	int64_t instance; /* -1: unconstrained */
	uint32_t matches; /* K(i) for each pattern_keys[i] that matches */
	const char *prefix;
};

static void
pattern_build(const struct pattern_case *c, struct kv_key_pattern *p)
{
	struct slice_coord coord;
	struct slice_name name;
	struct slice_version_pattern versions;

	switch (c->helper) {
	case HELPER_SLICES_OF_NODE:
		assert_int_equal(kv_key_pattern_slices_of_node(p, c->node), 0);
		return;
	case HELPER_ENDPOINTS_OF_NAME:
		name = name_of(c->name);
		kv_key_pattern_endpoints_of_name(p, &name);
		return;
	case HELPER_ENDPOINTS_OF_METHOD:
		coord = coord_of(c->coord);
		assert_int_equal(kv_key_pattern_endpoints_of_method(p, &coord, c->method), 0);
		return;
	case HELPER_BLUEPRINTS_MATCHING:
		name = name_of(c->name);
		versions = versions_of(c->versions);
		kv_key_pattern_blueprints_matching(p, &name, &versions);
		return;
	case HELPER_NONE:
		break;
	}
	kv_key_pattern_init(p, c->family);
	if (c->node != NULL) {
		assert_int_equal(kv_key_pattern_set_node(p, c->node), 0);
	}
	if (c->name != NULL) {
		name = name_of(c->name);
		kv_key_pattern_set_name(p, &name);
	}
	if (c->coord != NULL) {
		coord = coord_of(c->coord);
		kv_key_pattern_set_coord(p, &coord);
	}
	if (c->versions != NULL) {
		versions = versions_of(c->versions);
		kv_key_pattern_set_versions(p, &versions);
	}
	if (c->method != NULL) {
		assert_int_equal(kv_key_pattern_set_method(p, c->method), 0);
	}
	if (c->instance >= 0) {
		kv_key_pattern_set_instance(p, (uint32_t)c->instance);
	}
}

static const struct pattern_case pattern_cases[] = {
	{HELPER_SLICES_OF_NODE, 0, "node-1", NULL, NULL, NULL, NULL, -1, K(4) | K(5) | K(18),
	 "slices/node-1/"},
	{HELPER_ENDPOINTS_OF_NAME, 0, NULL, "org.example:web", NULL, NULL, NULL, -1,
	 K(7) | K(8) | K(9), "endpoints/org.example:web:"},
	{HELPER_ENDPOINTS_OF_METHOD, 0, NULL, NULL, "org.example:web:1.0.0", NULL, "get", -1, K(7),
	 "endpoints/org.example:web:1.0.0/get/"},
	{HELPER_BLUEPRINTS_MATCHING, 0, NULL, "org.example:web", NULL, "^1.0.0", NULL, -1, K(0),
	 "blueprints/org.example:web:"},
	{HELPER_BLUEPRINTS_MATCHING, 0, NULL, "org.example:web", NULL, ">=1.0.0", NULL, -1,
	 K(0) | K(1), "blueprints/org.example:web:"},
	{HELPER_NONE, KV_KEY_FAMILY_BLUEPRINTS, NULL, NULL, NULL, NULL, NULL, -1,
	 K(0) | K(1) | K(2), "blueprints/"},
	{HELPER_NONE, KV_KEY_FAMILY_LEADER, NULL, NULL, NULL, NULL, NULL, -1, K(11), "leader"},
	{HELPER_NONE, KV_KEY_FAMILY_NODES, NULL, NULL, NULL, NULL, NULL, -1, K(12) | K(13),
	 "nodes/"},
	{HELPER_NONE, KV_KEY_FAMILY_NODES, "node-2", NULL, NULL, NULL, NULL, -1, K(13),
	 "nodes/node-2"},
	{HELPER_NONE, KV_KEY_FAMILY_ROUTING, NULL, "org.example:web", NULL, NULL, NULL, -1, K(14),
	 "routing/org.example:web"},
	{HELPER_NONE, KV_KEY_FAMILY_ENDPOINTS, "node-1", NULL, NULL, NULL, NULL, -1,
	 K(7) | K(9) | K(10) | K(17), "endpoints/"},
	{HELPER_NONE, KV_KEY_FAMILY_ENDPOINTS, NULL, NULL, NULL, NULL, NULL, 1, K(8), "endpoints/"},
	{HELPER_NONE, KV_KEY_FAMILY_SLICES, NULL, NULL, "org.example:web:1.0.0", NULL, NULL, -1,
	 K(4) | K(6) | K(16), "slices/"},
	{HELPER_NONE, KV_KEY_FAMILY_SLICES, "node-1", NULL, "org.example:web:1.0.0", NULL, NULL, 0,
	 K(4), "slices/node-1/org.example:web:1.0.0/0"},
	{HELPER_NONE, KV_KEY_FAMILY_SLICES, "node-1", "org.example:web", NULL, NULL, NULL, -1,
	 K(4) | K(18), "slices/node-1/org.example:web:"},
	{HELPER_NONE, KV_KEY_FAMILY_SLICES, "node-1", "org.example:web", NULL, "[1.0.0,2.0.0)",
	 NULL, -1, K(4), "slices/node-1/org.example:web:"},
	{HELPER_NONE, KV_KEY_FAMILY_ARTIFACTS, NULL, NULL, NULL, "[1.0.0,2.0.0)", NULL, -1, K(3),
	 "artifacts/"},
	{HELPER_NONE, KV_KEY_FAMILY_ENDPOINTS, NULL, NULL, NULL, "<1.0.0", NULL, -1, 0,
	 "endpoints/"},
};

/* The pattern of row i has the row's prefix and matches exactly the row's keys. */
static void
assert_pattern_case(struct fixture *f, size_t i)
{
	const struct pattern_case *c = &pattern_cases[i];
	struct kv_key_pattern p;

	pattern_build(c, &p);
	assert_int_equal(kv_key_pattern_prefix(&p, f->text, sizeof(f->text)),
			 (int)strlen(c->prefix));
	assert_string_equal(f->text, c->prefix);
	for (size_t k = 0; k < AE_ARRAY_SIZE(pattern_keys); k++) {
		const char *t = pattern_keys[k];
		int want = (c->matches & K(k)) != 0;

		assert_int_equal(kv_key_parse(t, strlen(t), &f->key, NULL), 0);
		if (kv_key_pattern_matches(&p, &f->key) != want) {
			print_error("pattern %zu on key %s: want %d\n", i, t, want);
			fail();
		}
		/* Every key a pattern matches starts with its prefix. */
		assert_true(!want || strncmp(t, c->prefix, strlen(c->prefix)) == 0);
	}
}

static void
test_kv_key_patterns_select_typed_fields(void **state)
{
	for (size_t i = 0; i < AE_ARRAY_SIZE(pattern_cases); i++) {
		assert_pattern_case(*state, i);
	}
}

static void
test_kv_key_pattern_setters_reject_bad_names(void **state)
{
	struct kv_key_pattern p;

	(void)state;
	kv_key_pattern_init(&p, KV_KEY_FAMILY_ENDPOINTS);
	assert_int_equal(kv_key_pattern_set_node(&p, "node--1"), -BASE_ERR_SYNTAX);
	assert_int_equal(kv_key_pattern_set_method(&p, "Get"), -BASE_ERR_BAD_CHAR);
	assert_int_equal(p.fields, 0);
	assert_int_equal(kv_key_pattern_slices_of_node(&p, ""), -BASE_ERR_EMPTY);
	assert_int_equal(p.fields, 0);
}

/* Property test helpers: random parts that follow the grammars, written as text. */

static char
rand_from(struct fixture *f, const char *set)
{
	return set[base_prng_below(&f->prng, strlen(set))];
}

static const char kv_lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char kv_lower_digit[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* Appends n bytes: the first from first, the rest from rest. */
static size_t
rand_word(struct fixture *f, char *out, size_t n, const char *first, const char *rest)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = rand_from(f, i == 0 ? first : rest);
	}
	return n;
}

static size_t
rand_len(struct fixture *f, size_t usual, size_t rare)
{
	/* One time in ten use the long range so limits get exercised. */
	size_t max = base_prng_chance(&f->prng, 100000) ? rare : usual;

	return (size_t)base_prng_range(&f->prng, 1, max);
}

/* A node id of 1..32 bytes: words joined by single '-'. */
static void
rand_node_id(struct fixture *f, char *out)
{
	size_t target = rand_len(f, 10, KV_NODE_ID_MAX);
	size_t n = rand_word(f, out, 1, kv_lower, kv_lower);

	while (n < target) {
		if (out[n - 1] != '-' && n + 1 < target && base_prng_chance(&f->prng, 150000)) {
			out[n++] = '-';
		} else {
			out[n++] = rand_from(f, kv_lower_digit);
		}
	}
	out[n] = '\0';
}

static void
rand_method(struct fixture *f, char *out)
{
	size_t n = rand_word(f, out, rand_len(f, 12, KV_METHOD_MAX), "abcdefghijklmnopqrstuvwxyz_",
			     "abcdefghijklmnopqrstuvwxyz0123456789_");

	out[n] = '\0';
}

static uint32_t
rand_u32(struct fixture *f)
{
	switch (base_prng_below(&f->prng, 4)) {
	case 0:
		return 0;
	case 1:
		return (uint32_t)base_prng_below(&f->prng, 20);
	case 2:
		return UINT32_MAX;
	default:
		return (uint32_t)base_prng_next(&f->prng);
	}
}

/* group:artifact within SLICE_GROUP_MAX and SLICE_ARTIFACT_MAX by construction. */
static size_t
rand_name(struct fixture *f, char *out)
{
	size_t segments = 2 + (size_t)base_prng_below(&f->prng, 3);
	size_t words = 1 + (size_t)base_prng_below(&f->prng, 4);
	size_t n = 0;

	for (size_t i = 0; i < segments; i++) {
		if (i > 0) {
			out[n++] = '.';
		}
		n += rand_word(f, out + n, rand_len(f, 8, 31), kv_lower, kv_lower_digit);
	}
	out[n++] = ':';
	for (size_t i = 0; i < words; i++) {
		if (i > 0) {
			out[n++] = '-';
		}
		n += rand_word(f, out + n, rand_len(f, 6, 15), i == 0 ? kv_lower : kv_lower_digit,
			       kv_lower_digit);
	}
	out[n] = '\0';
	return n;
}

static size_t
rand_version(struct fixture *f, char *out, size_t capacity)
{
	int n = snprintf(out, capacity, "%" PRIu32 ".%" PRIu32 ".%" PRIu32, rand_u32(f),
			 rand_u32(f), rand_u32(f));
	size_t len = (size_t)n;

	if (base_prng_chance(&f->prng, 500000)) {
		size_t idents = 1 + (size_t)base_prng_below(&f->prng, 3);
		static const char alnum[] =
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

		for (size_t i = 0; i < idents; i++) {
			out[len++] = i == 0 ? '-' : '.';
			/* No leading '0': a numeric identifier must not have one. */
			len += rand_word(
				f, out + len, rand_len(f, 4, 10),
				"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ123456789",
				alnum);
		}
	}
	out[len] = '\0';
	return len;
}

static void
prop_check(struct fixture *f, int ok, const char *what, const char *text)
{
	if (!ok) {
		print_error("kv_key property failed: %s; seed=0x%016" PRIx64
			    " iteration=%u text=%s\n",
			    what, f->seed, f->iteration, text);
		fail();
	}
}

/*
 * Builds a random valid key of a random family twice: as independent text, and from typed
 * parts through the kv_key_init_* constructors. Leaves the text in f->text, the key in f->key.
 */
static void
rand_key(struct fixture *f)
{
	char name[SLICE_NAME_TEXT_MAX + 1];
	char coord_text[SLICE_COORD_TEXT_MAX + 1];
	char version[SLICE_VERSION_TEXT_MAX + 1];
	char node[KV_NODE_ID_MAX + 1];
	char method[KV_METHOD_MAX + 1];
	struct slice_coord coord;
	struct slice_name sname;
	uint32_t instance = rand_u32(f);
	enum kv_key_family family = (enum kv_key_family)base_prng_range(&f->prng, 1, 7);
	int rc = 0;

	rand_name(f, name);
	rand_version(f, version, sizeof(version));
	rand_node_id(f, node);
	rand_method(f, method);
	snprintf(coord_text, sizeof(coord_text), "%s:%s", name, version);
	prop_check(f, slice_coord_parse(coord_text, strlen(coord_text), &coord, NULL) == 0,
		   "generated coordinate parses", coord_text);
	prop_check(f, slice_name_parse(name, strlen(name), &sname, NULL) == 0,
		   "generated name parses", name);
	switch (family) {
	case KV_KEY_FAMILY_BLUEPRINTS:
		snprintf(f->text, sizeof(f->text), "blueprints/%s", coord_text);
		kv_key_init_blueprint(&f->key, &coord);
		break;
	case KV_KEY_FAMILY_ARTIFACTS:
		snprintf(f->text, sizeof(f->text), "artifacts/%s", coord_text);
		kv_key_init_artifact(&f->key, &coord);
		break;
	case KV_KEY_FAMILY_SLICES:
		snprintf(f->text, sizeof(f->text), "slices/%s/%s/%" PRIu32, node, coord_text,
			 instance);
		rc = kv_key_init_slice(&f->key, node, &coord, instance);
		break;
	case KV_KEY_FAMILY_ENDPOINTS:
		snprintf(f->text, sizeof(f->text), "endpoints/%s/%s/%s/%" PRIu32, coord_text,
			 method, node, instance);
		rc = kv_key_init_endpoint(&f->key, &coord, method, node, instance);
		break;
	case KV_KEY_FAMILY_LEADER:
		snprintf(f->text, sizeof(f->text), "leader");
		kv_key_init_leader(&f->key);
		break;
	case KV_KEY_FAMILY_NODES:
		snprintf(f->text, sizeof(f->text), "nodes/%s", node);
		rc = kv_key_init_node(&f->key, node);
		break;
	case KV_KEY_FAMILY_ROUTING:
		snprintf(f->text, sizeof(f->text), "routing/%s", name);
		kv_key_init_routing(&f->key, &sname);
		break;
	}
	prop_check(f, rc == 0, "constructor accepts generated parts", f->text);
}

static void
test_kv_key_random_valid_keys_round_trip(void **state)
{
	struct fixture *f = *state;
	char again[KV_KEY_MAX + 1];
	unsigned seen = 0;

	for (f->iteration = 0; f->iteration < KV_TEST_ITERATIONS; f->iteration++) {
		size_t len;
		int n;

		rand_key(f);
		seen |= 1u << f->key.family;
		len = strlen(f->text);
		prop_check(f, kv_key_parse(f->text, len, &f->other, &f->err) == 0,
			   "generated text parses", f->text);
		prop_check(f, kv_key_equal(&f->key, &f->other), "parsed key equals built key",
			   f->text);
		n = kv_key_format(&f->other, again, sizeof(again));
		prop_check(f, n == (int)len && strcmp(again, f->text) == 0, "format(parse(t)) == t",
			   f->text);
	}
	/* Every family was generated (bits 1..7). */
	assert_int_equal(seen, 0xfeu);
}

/* Any byte value, NUL and bytes over 0x7f included. */
static char
rand_byte(struct fixture *f)
{
	uint8_t raw = (uint8_t)base_prng_next(&f->prng);
	char byte;

	memcpy(&byte, &raw, 1);
	return byte;
}

/* Applies one random edit: replace, insert or delete a byte (mostly grammar punctuation). */
static size_t
mutate(struct fixture *f, char *buf, size_t len, size_t capacity)
{
	static const char interesting[] = "/:.-_0aZ9";
	size_t pos = (size_t)base_prng_below(&f->prng, len + 1);
	char byte = rand_byte(f);

	if (base_prng_chance(&f->prng, 700000)) {
		byte = rand_from(f, interesting);
	}
	switch (base_prng_below(&f->prng, 3)) {
	case 0:
		if (pos < len) {
			buf[pos] = byte;
		}
		return len;
	case 1:
		if (len + 1 < capacity) {
			memmove(buf + pos + 1, buf + pos, len - pos);
			buf[pos] = byte;
			return len + 1;
		}
		return len;
	default:
		if (pos < len) {
			memmove(buf + pos, buf + pos + 1, len - pos - 1);
			return len - 1;
		}
		return len;
	}
}

static void
test_kv_key_random_mutations_are_rejected_or_round_trip(void **state)
{
	struct fixture *f = *state;
	char again[KV_KEY_MAX + 1];
	unsigned accepted = 0;

	for (f->iteration = 0; f->iteration < KV_TEST_ITERATIONS; f->iteration++) {
		size_t len;
		int rc;
		unsigned edits = 1 + (unsigned)base_prng_below(&f->prng, 3);

		rand_key(f);
		len = strlen(f->text);
		memcpy(f->big, f->text, len);
		for (unsigned e = 0; e < edits; e++) {
			len = mutate(f, f->big, len, sizeof(f->big));
		}
		f->big[len] = '\0';
		f->err.what = NULL;
		rc = kv_key_parse(f->big, len, &f->other, &f->err);
		if (rc != 0) {
			prop_check(f, rc < 0 && f->err.code == rc && f->err.what != NULL,
				   "rejection fills the error", f->big);
			prop_check(f, f->err.offset <= len, "error offset inside the input",
				   f->big);
			continue;
		}
		accepted++;
		rc = kv_key_format(&f->other, again, sizeof(again));
		prop_check(f, rc == (int)len && memcmp(again, f->big, len) == 0,
			   "an accepted mutant round-trips exactly", f->big);
	}
	/* Some edits (a digit for a digit) keep the key valid: both branches must run. */
	assert_true(accepted > 0);
	assert_true(accepted < KV_TEST_ITERATIONS);
}

/* A pattern pinning a random subset of the fields of f->key. */
static void
rand_pattern_of_key(struct fixture *f, struct kv_key_pattern *p)
{
	const struct kv_key *k = &f->key;

	kv_key_pattern_init(p, k->family);
	if (k->family == KV_KEY_FAMILY_SLICES && base_prng_chance(&f->prng, 500000)) {
		assert_int_equal(kv_key_pattern_set_node(p, k->slice.node_id), 0);
	}
	if (k->family == KV_KEY_FAMILY_SLICES && base_prng_chance(&f->prng, 500000)) {
		kv_key_pattern_set_coord(p, &k->slice.coord);
	}
	if (k->family == KV_KEY_FAMILY_SLICES && base_prng_chance(&f->prng, 500000)) {
		kv_key_pattern_set_instance(p, k->slice.instance);
	}
	if (k->family == KV_KEY_FAMILY_ENDPOINTS && base_prng_chance(&f->prng, 500000)) {
		kv_key_pattern_set_name(p, &k->endpoint.coord.name);
	}
	if (k->family == KV_KEY_FAMILY_ENDPOINTS && base_prng_chance(&f->prng, 500000)) {
		assert_int_equal(kv_key_pattern_set_method(p, k->endpoint.method), 0);
	}
	if (k->family == KV_KEY_FAMILY_ENDPOINTS && base_prng_chance(&f->prng, 500000)) {
		assert_int_equal(kv_key_pattern_set_node(p, k->endpoint.node_id), 0);
	}
}

/*
 * Random patterns derived from random keys: a pattern pinning any subset of a key's fields
 * matches it, and the key's text starts with the pattern's prefix.
 */
static void
test_kv_key_random_patterns_match_their_keys_and_prefix_them(void **state)
{
	struct fixture *f = *state;
	char prefix[KV_KEY_MAX + 1];
	struct kv_key_pattern p;

	for (f->iteration = 0; f->iteration < KV_TEST_ITERATIONS; f->iteration++) {
		int n;

		rand_key(f);
		rand_pattern_of_key(f, &p);
		prop_check(f, kv_key_pattern_matches(&p, &f->key), "pattern from a key matches it",
			   f->text);
		n = kv_key_pattern_prefix(&p, prefix, sizeof(prefix));
		prop_check(f, n > 0 && strncmp(f->text, prefix, (size_t)n) == 0,
			   "the key starts with the pattern's prefix", f->text);
	}
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_kv_key_every_family_round_trips_exactly),
		T(test_kv_key_parse_fills_the_typed_fields),
		T(test_kv_key_invalid_keys_report_code_and_offset),
		T(test_kv_key_over_long_segments_and_keys_are_rejected),
		T(test_kv_key_near_miss_family_names_say_the_right_one),
		T(test_kv_key_bad_coordinates_keep_the_coordinate_error),
		T(test_kv_key_node_id_and_method_grammars),
		T(test_kv_key_constructors_build_the_parsed_key),
		T(test_kv_key_constructors_reject_bad_names_and_leave_the_key),
		T(test_kv_key_equal_tells_each_field_apart),
		T(test_kv_key_format_reports_enobufs_for_every_short_buffer),
		T(test_kv_key_patterns_select_typed_fields),
		T(test_kv_key_pattern_setters_reject_bad_names),
		T(test_kv_key_random_valid_keys_round_trip),
		T(test_kv_key_random_mutations_are_rejected_or_round_trip),
		T(test_kv_key_random_patterns_match_their_keys_and_prefix_them),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
