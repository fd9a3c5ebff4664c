/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: dependency resolution picks the highest matching version per name with the nearest
 * requirement winning, shares a dependency reached twice, reports conflicts, cycles and missing
 * versions with every slice involved, stays within its node and depth limits, and yields the
 * same load order (dependencies first) whatever order the index lists things in. Method: small
 * hand-built indexes over the array index (manifests made with the manifest builders), exact
 * expected load orders and exact error messages, seeded shuffles of the index for determinism,
 * and a fake index whose functions fail or lie for the index error paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "slices/resolver.h"

#define MANIFESTS_MAX 160
#define SHUFFLE_SEED  0x7265736f6c766572ULL

struct fixture {
	struct slice_manifest manifests[MANIFESTS_MAX];
	size_t count;
	struct slice_index_array index;
	struct slice_resolution res;
	struct slice_resolve_error err;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->index.manifests = f->manifests;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static void
parse_coord(const char *text, struct slice_coord *c)
{
	assert_int_equal(slice_coord_parse(text, strlen(text), c, NULL), 0);
}

/* Adds "name pattern" as a dependency of m. */
static void
add_dep(struct slice_manifest *m, const char *dep)
{
	const char *space = strchr(dep, ' ');
	struct slice_name n;
	struct slice_version_pattern p;

	assert_non_null(space);
	assert_int_equal(slice_name_parse(dep, (size_t)(space - dep), &n, NULL), 0);
	assert_int_equal(slice_version_pattern_parse(space + 1, strlen(space + 1), &p, NULL), 0);
	assert_int_equal(slice_manifest_add_dep(m, &n, &p), 0);
}

/* Adds a manifest for coord with the given "name pattern" dependencies (NULL-terminated). */
static struct slice_manifest *
add(struct fixture *f, const char *coord, ...)
{
	struct slice_manifest *m;
	struct slice_coord c;
	struct base_hash128 h = {1, 2};
	const char *dep;
	va_list ap;

	assert_true(f->count < MANIFESTS_MAX);
	m = &f->manifests[f->count++];
	f->index.count = f->count;
	parse_coord(coord, &c);
	slice_manifest_init(m, &c, 1, 4096, h);
	assert_int_equal(slice_manifest_add_entry(m, "run", 3, 0), 0);
	va_start(ap, coord);
	while ((dep = va_arg(ap, const char *)) != NULL) {
		add_dep(m, dep);
	}
	va_end(ap);
	return m;
}

static int
resolve(struct fixture *f, const char *root)
{
	struct slice_coord c;

	parse_coord(root, &c);
	memset(&f->err, 0x5a, sizeof(f->err));
	return slice_resolve(&c, &f->res, &f->err, &slice_index_array_ops, &f->index);
}

static int
resolve_pattern(struct fixture *f, const char *name, const char *pattern)
{
	struct slice_name n;
	struct slice_version_pattern p;

	assert_int_equal(slice_name_parse(name, strlen(name), &n, NULL), 0);
	assert_int_equal(slice_version_pattern_parse(pattern, strlen(pattern), &p, NULL), 0);
	return slice_resolve_pattern(&n, &p, &f->res, &f->err, &slice_index_array_ops, &f->index);
}

/* The load order is exactly the given coordinates (NULL-terminated). */
static void
assert_order(const struct fixture *f, ...)
{
	char text[SLICE_COORD_TEXT_MAX + 1];
	const char *want;
	uint32_t i = 0;
	va_list ap;

	va_start(ap, f);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < f->res.count);
		assert_true(slice_coord_format(&f->res.order[i].coord, text, sizeof(text)) > 0);
		assert_string_equal(text, want);
		assert_true(slice_coord_equal(&f->res.order[i].manifest->coord,
					      &f->res.order[i].coord));
		i++;
	}
	va_end(ap);
	assert_int_equal(i, f->res.count);
}

/* Slice `at` has dependency `dep` satisfied by the slice at position `pos`. */
static void
assert_dep(const struct fixture *f, uint32_t at, uint32_t dep, uint32_t pos)
{
	assert_true(dep < f->res.order[at].manifest->dep_count);
	assert_int_equal(f->res.order[at].dep_index[dep], pos);
}

static void
assert_error(const struct fixture *f, int rc, int code, enum slice_resolve_failure kind,
	     const char *message)
{
	if (rc != code || strcmp(f->err.message, message) != 0) {
		print_error("got %s: %s\nwant %s: %s\n", base_errname(rc), f->err.message,
			    base_errname(code), message);
	}
	assert_int_equal(rc, code);
	assert_int_equal(f->err.code, code);
	assert_int_equal(f->err.kind, kind);
	assert_string_equal(f->err.message, message);
}

static void
test_resolver_slice_without_dependencies_resolves_to_itself(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", NULL);
	assert_int_equal(resolve(f, "org.a:a:1.0.0"), 0);
	assert_order(f, "org.a:a:1.0.0", NULL);
	assert_ptr_equal(f->res.order[0].manifest, &f->manifests[0]);
}

static void
test_resolver_chain_loads_dependencies_first(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", NULL);
	add(f, "org.b:b:1.1.0", "org.c:c >=0.1.0", NULL);
	add(f, "org.c:c:0.3.0", NULL);
	assert_int_equal(resolve(f, "org.a:a:1.0.0"), 0);
	assert_order(f, "org.c:c:0.3.0", "org.b:b:1.1.0", "org.a:a:1.0.0", NULL);
	assert_dep(f, 1, 0, 0);
	assert_dep(f, 2, 0, 1);
}

static void
test_resolver_each_pattern_picks_the_highest_matching_version(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", "org.c:c ~2.1.0", "org.d:d [1.0.0,1.5.0)", NULL);
	add(f, "org.b:b:1.0.0", NULL);
	add(f, "org.b:b:1.9.3", NULL);
	add(f, "org.b:b:2.0.0", NULL);
	add(f, "org.b:b:1.10.0", NULL);
	add(f, "org.c:c:2.1.7", NULL);
	add(f, "org.c:c:2.2.0", NULL);
	add(f, "org.d:d:1.4.9", NULL);
	add(f, "org.d:d:1.5.0", NULL);
	assert_int_equal(resolve(f, "org.a:a:1.0.0"), 0);
	assert_order(f, "org.b:b:1.10.0", "org.c:c:2.1.7", "org.d:d:1.4.9", "org.a:a:1.0.0", NULL);
}

static void
test_resolver_diamond_shares_one_dependency(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", "org.c:c ^1.0.0", NULL);
	add(f, "org.b:b:1.0.0", "org.d:d ^1.0.0", NULL);
	add(f, "org.c:c:1.0.0", "org.d:d ~1.2.0", NULL);
	add(f, "org.d:d:1.2.0", NULL);
	add(f, "org.d:d:1.2.7", NULL);
	add(f, "org.d:d:2.0.0", NULL);
	assert_int_equal(resolve(f, "org.a:a:1.0.0"), 0);
	assert_order(f, "org.d:d:1.2.7", "org.b:b:1.0.0", "org.c:c:1.0.0", "org.a:a:1.0.0", NULL);
	assert_dep(f, 1, 0, 0);
	assert_dep(f, 2, 0, 0);
	assert_dep(f, 3, 0, 1);
	assert_dep(f, 3, 1, 2);
}

static void
test_resolver_nearest_requirement_wins(void **state)
{
	struct fixture *f = *state;

	/* Alone, b's ^1.0.0 would pick 1.3.0; the root's own ~1.2.0 is nearer and decides. */
	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", "org.d:d ~1.2.0", NULL);
	add(f, "org.b:b:1.0.0", "org.d:d ^1.0.0", NULL);
	add(f, "org.d:d:1.2.9", NULL);
	add(f, "org.d:d:1.3.0", NULL);
	assert_int_equal(resolve(f, "org.a:a:1.0.0"), 0);
	assert_order(f, "org.d:d:1.2.9", "org.b:b:1.0.0", "org.a:a:1.0.0", NULL);
}

static void
test_resolver_conflict_names_both_requirements(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", "org.c:c ^1.0.0", NULL);
	add(f, "org.b:b:1.0.0", "org.d:d ^1.0.0", NULL);
	add(f, "org.c:c:1.0.0", "org.d:d ~1.2.0", NULL);
	add(f, "org.d:d:1.2.9", NULL);
	add(f, "org.d:d:1.3.0", NULL);
	assert_error(f, resolve(f, "org.a:a:1.0.0"), -EEXIST, SLICE_RESOLVE_CONFLICT,
		     "conflict on org.d:d: org.d:d:1.3.0 was picked for ^1.0.0 required by "
		     "org.b:b:1.0.0, but org.c:c:1.0.0 requires ~1.2.0");
}

static void
test_resolver_conflict_with_the_root_names_the_root(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", NULL);
	add(f, "org.a:a:2.0.0", NULL);
	add(f, "org.b:b:1.0.0", "org.a:a ^2.0.0", NULL);
	assert_error(f, resolve(f, "org.a:a:1.0.0"), -EEXIST, SLICE_RESOLVE_CONFLICT,
		     "conflict on org.a:a: org.a:a:1.0.0 is the root, but org.b:b:1.0.0 requires "
		     "^2.0.0");
	/* Picked by pattern, the root's message names the pattern. */
	assert_error(f, resolve_pattern(f, "org.a:a", "<2.0.0"), -EEXIST, SLICE_RESOLVE_CONFLICT,
		     "conflict on org.a:a: org.a:a:1.0.0 was picked for <2.0.0 requested as root, "
		     "but org.b:b:1.0.0 requires ^2.0.0");
}

static void
test_resolver_self_cycle_is_reported(void **state)
{
	struct fixture *f = *state;
	struct slice_manifest *m = add(f, "org.a:a:1.0.0", NULL);

	/* The manifest parser and builder refuse a self-dependency; an index could still hold one.
	 */
	memcpy(&m->deps[0].name, &m->coord.name, sizeof(m->deps[0].name));
	assert_int_equal(slice_version_pattern_parse("^1.0.0", 6, &m->deps[0].pattern, NULL), 0);
	m->dep_count = 1;
	assert_error(f, resolve(f, "org.a:a:1.0.0"), -ELOOP, SLICE_RESOLVE_CYCLE,
		     "dependency cycle: org.a:a:1.0.0 -> org.a:a:1.0.0");
}

static void
test_resolver_two_cycle_is_reported_with_its_path(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^2.0.0", NULL);
	add(f, "org.b:b:2.0.0", "org.a:a ^1.0.0", NULL);
	assert_error(f, resolve(f, "org.a:a:1.0.0"), -ELOOP, SLICE_RESOLVE_CYCLE,
		     "dependency cycle: org.a:a:1.0.0 -> org.b:b:2.0.0 -> org.a:a:1.0.0");
}

static void
test_resolver_longer_cycle_is_reported_from_where_it_closes(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", NULL);
	add(f, "org.b:b:1.0.0", "org.c:c ^1.0.0", NULL);
	add(f, "org.c:c:1.0.0", "org.d:d ^1.0.0", "org.e:e ^1.0.0", NULL);
	add(f, "org.d:d:1.0.0", NULL);
	add(f, "org.e:e:1.0.0", "org.b:b ^1.0.0", NULL);
	assert_error(f, resolve(f, "org.a:a:1.0.0"), -ELOOP, SLICE_RESOLVE_CYCLE,
		     "dependency cycle: org.b:b:1.0.0 -> org.c:c:1.0.0 -> org.e:e:1.0.0 -> "
		     "org.b:b:1.0.0");
}

static void
test_resolver_missing_dependency_names_pattern_and_asker(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", NULL);
	add(f, "org.b:b:1.0.0", "org.c:c ^2.0.0", "org.x:gone 1.0.0", NULL);
	add(f, "org.c:c:1.9.0", NULL);
	add(f, "org.c:c:3.0.0", NULL);
	assert_error(f, resolve(f, "org.a:a:1.0.0"), -ENOENT, SLICE_RESOLVE_MISSING,
		     "no version of org.c:c matches ^2.0.0 (required by org.b:b:1.0.0)");
	add(f, "org.c:c:2.0.1", NULL);
	assert_error(f, resolve(f, "org.a:a:1.0.0"), -ENOENT, SLICE_RESOLVE_MISSING,
		     "no version of org.x:gone matches 1.0.0 (required by org.b:b:1.0.0)");
}

static void
test_resolver_missing_root_is_reported(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", NULL);
	assert_error(f, resolve(f, "org.a:a:1.0.1"), -ENOENT, SLICE_RESOLVE_MISSING,
		     "no manifest for org.a:a:1.0.1 in the index (requested as root)");
	assert_error(f, resolve_pattern(f, "org.a:a", "^2.0.0"), -ENOENT, SLICE_RESOLVE_MISSING,
		     "no version of org.a:a matches ^2.0.0 (requested as root)");
}

static void
test_resolver_root_pattern_picks_the_highest_version(void **state)
{
	struct fixture *f = *state;

	add(f, "org.a:a:1.0.0", NULL);
	add(f, "org.a:a:1.4.0", "org.b:b 1.0.0", NULL);
	add(f, "org.a:a:2.0.0", NULL);
	add(f, "org.b:b:1.0.0", NULL);
	assert_int_equal(resolve_pattern(f, "org.a:a", "^1.0.0"), 0);
	assert_order(f, "org.b:b:1.0.0", "org.a:a:1.4.0", NULL);
}

/* A wide graph: every slice in layer k depends on every slice in layer k + 1. */
static void
build_layers(struct fixture *f)
{
	static const char *const layers[][3] = {
		{"org.l0:a:1.0.0", NULL, NULL},
		{"org.l1:a:1.0.0", "org.l1:b:1.0.0", "org.l1:c:1.0.0"},
		{"org.l2:a:1.0.0", "org.l2:b:1.0.0", NULL},
		{"org.l3:a:1.0.0", NULL, NULL},
	};

	for (size_t k = 0; k < AE_ARRAY_SIZE(layers); k++) {
		for (size_t i = 0; i < 3 && layers[k][i] != NULL; i++) {
			struct slice_manifest *m = add(f, layers[k][i], NULL);

			for (size_t j = 0; k + 1 < AE_ARRAY_SIZE(layers) && j < 3; j++) {
				char dep[64];
				const char *next = layers[k + 1][j];

				if (next == NULL) {
					continue;
				}
				snprintf(dep, sizeof(dep), "%.*s ^1.0.0", (int)(strlen(next) - 6),
					 next);
				add_dep(m, dep);
			}
		}
	}
}

static void
test_resolver_load_order_ignores_index_order(void **state)
{
	struct fixture *f = *state;
	struct slice_resolution first;
	struct base_prng prng;

	build_layers(f);
	/* Versions nobody asks for, listed in between, must not matter either. */
	add(f, "org.l3:a:0.9.0", NULL);
	add(f, "org.l3:a:2.0.0", NULL);
	assert_int_equal(resolve(f, "org.l0:a:1.0.0"), 0);
	assert_order(f, "org.l3:a:1.0.0", "org.l2:a:1.0.0", "org.l2:b:1.0.0", "org.l1:a:1.0.0",
		     "org.l1:b:1.0.0", "org.l1:c:1.0.0", "org.l0:a:1.0.0", NULL);
	memcpy(&first, &f->res, sizeof(first));
	base_prng_init(&prng, SHUFFLE_SEED);
	for (int round = 0; round < 50; round++) {
		for (size_t i = f->count - 1; i > 0; i--) {
			size_t j = (size_t)base_prng_below(&prng, i + 1);
			struct slice_manifest t = f->manifests[i];

			f->manifests[i] = f->manifests[j];
			f->manifests[j] = t;
		}
		assert_int_equal(resolve(f, "org.l0:a:1.0.0"), 0);
		assert_int_equal(f->res.count, first.count);
		for (uint32_t i = 0; i < first.count; i++) {
			assert_true(
				slice_coord_equal(&f->res.order[i].coord, &first.order[i].coord));
			assert_memory_equal(f->res.order[i].dep_index, first.order[i].dep_index,
					    sizeof(first.order[i].dep_index));
		}
	}
}

/* A root with `count` - 1 other slices below it, no chain longer than three. */
static void
build_wide(struct fixture *f, size_t count)
{
	char coord[64];
	char dep[64];
	struct slice_manifest *root = add(f, "org.w:root:1.0.0", NULL);
	size_t made = 1;

	for (size_t i = 0; i < SLICE_MANIFEST_DEPS_MAX && made < count; i++) {
		struct slice_manifest *mid;

		snprintf(coord, sizeof(coord), "org.w:m%02zu:1.0.0", i);
		mid = add(f, coord, NULL);
		snprintf(dep, sizeof(dep), "org.w:m%02zu 1.0.0", i);
		add_dep(root, dep);
		made++;
		for (size_t j = 0; j < SLICE_MANIFEST_DEPS_MAX && made < count; j++) {
			snprintf(coord, sizeof(coord), "org.w:m%02zu-l%02zu:1.0.0", i, j);
			add(f, coord, NULL);
			snprintf(dep, sizeof(dep), "org.w:m%02zu-l%02zu 1.0.0", i, j);
			add_dep(mid, dep);
			made++;
		}
	}
	assert_int_equal(made, count);
}

static void
test_resolver_node_limit_is_exact(void **state)
{
	struct fixture *f = *state;

	build_wide(f, SLICE_RESOLVE_NODES_MAX);
	assert_int_equal(resolve(f, "org.w:root:1.0.0"), 0);
	assert_int_equal(f->res.count, SLICE_RESOLVE_NODES_MAX);
	assert_string_equal(f->res.order[SLICE_RESOLVE_NODES_MAX - 1].coord.name.artifact, "root");

	f->count = 0;
	build_wide(f, SLICE_RESOLVE_NODES_MAX + 1);
	assert_int_equal(resolve(f, "org.w:root:1.0.0"), -BASE_ERR_FULL);
	assert_int_equal(f->err.kind, SLICE_RESOLVE_LIMIT);
	assert_non_null(strstr(f->err.message, "more than 64 slices"));
}

/* A chain org.c:cNN -> org.c:c(NN-1) -> ... -> org.c:c01, and its head as the root's dep. */
static void
build_chain(struct fixture *f, int length, const char *extra_root_dep)
{
	char coord[64];
	char dep[64];

	for (int i = 1; i <= length; i++) {
		snprintf(coord, sizeof(coord), "org.c:c%02d:1.0.0", i);
		snprintf(dep, sizeof(dep), "org.c:c%02d 1.0.0", i - 1);
		if (i == 1) {
			add(f, coord, NULL);
		} else {
			add(f, coord, dep, NULL);
		}
	}
	snprintf(dep, sizeof(dep), "org.c:c%02d 1.0.0", length);
	add(f, "org.r:root:1.0.0", dep, extra_root_dep, NULL);
}

static void
test_resolver_depth_limit_is_exact(void **state)
{
	struct fixture *f = *state;

	/* The root plus SLICE_RESOLVE_DEPTH_MAX levels is fine. */
	build_chain(f, SLICE_RESOLVE_DEPTH_MAX, NULL);
	assert_int_equal(resolve(f, "org.r:root:1.0.0"), 0);
	assert_int_equal(f->res.count, SLICE_RESOLVE_DEPTH_MAX + 1);

	f->count = 0;
	build_chain(f, SLICE_RESOLVE_DEPTH_MAX + 1, NULL);
	assert_int_equal(resolve(f, "org.r:root:1.0.0"), -BASE_ERR_TOO_LONG);
	assert_int_equal(f->err.kind, SLICE_RESOLVE_LIMIT);
	assert_non_null(strstr(f->err.message, "dependency chain deeper than 16 levels: "
					       "org.r:root:1.0.0 -> org.c:c17:1.0.0 -> "));
	assert_non_null(strstr(f->err.message, "-> org.c:c01:1.0.0"));
}

static void
test_resolver_depth_limit_sees_a_long_path_found_after_a_short_one(void **state)
{
	struct fixture *f = *state;

	/*
	 * The root reaches c05 directly (visited first, c05 < c17) and again through c17 .. c06.
	 * The depth-first stack never exceeds the limit; the longest chain does.
	 */
	build_chain(f, SLICE_RESOLVE_DEPTH_MAX + 1, "org.c:c05 1.0.0");
	assert_int_equal(resolve(f, "org.r:root:1.0.0"), -BASE_ERR_TOO_LONG);
	assert_non_null(strstr(f->err.message, "org.r:root:1.0.0 -> org.c:c17:1.0.0 -> "));
	assert_non_null(strstr(f->err.message, "-> org.c:c01:1.0.0"));
	assert_null(strstr(f->err.message, "..."));

	f->count = 0;
	build_chain(f, SLICE_RESOLVE_DEPTH_MAX, "org.c:c05 1.0.0");
	assert_int_equal(resolve(f, "org.r:root:1.0.0"), 0);
	assert_string_equal(f->res.order[0].coord.name.artifact, "c01");
}

static void
test_resolver_longest_cycle_fits_in_the_message(void **state)
{
	static const char version[] =
		"4294967295.4294967295.4294967295-abcdefghijabcdefghijabcdefghij12";
	struct fixture *f = *state;
	char group[SLICE_GROUP_MAX + 1];
	char pad[SLICE_ARTIFACT_MAX - 3 + 1];
	char coord[2 * SLICE_COORD_TEXT_MAX];
	char dep[2 * SLICE_COORD_TEXT_MAX];

	/* Longest group, artifact and version; a cycle of DEPTH_MAX + 1 slices, the most the
	 * depth-first stack holds before the depth limit, so the longest cycle message there is. */
	memset(group, 'g', sizeof(group) - 1);
	group[1] = '.';
	group[sizeof(group) - 1] = '\0';
	memset(pad, 'a', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (int i = 0; i <= SLICE_RESOLVE_DEPTH_MAX; i++) {
		int next = (i + 1) % (SLICE_RESOLVE_DEPTH_MAX + 1);

		snprintf(coord, sizeof(coord), "%s:a%02d%s:%s", group, i, pad, version);
		snprintf(dep, sizeof(dep), "%s:a%02d%s %s", group, next, pad, version);
		assert_int_equal(strlen(coord), SLICE_COORD_TEXT_MAX);
		add(f, coord, dep, NULL);
	}
	snprintf(coord, sizeof(coord), "%s:a00%s:%s", group, pad, version);
	assert_int_equal(resolve(f, coord), -ELOOP);
	assert_null(strstr(f->err.message, "..."));
	assert_int_equal(strlen(f->err.message),
			 strlen("dependency cycle: ") +
				 (SLICE_RESOLVE_DEPTH_MAX + 2) * SLICE_COORD_TEXT_MAX +
				 (SLICE_RESOLVE_DEPTH_MAX + 1) * strlen(" -> "));
	assert_true(strlen(f->err.message) < sizeof(f->err.message));
}

/* An index that fails or lies, for the error paths. */
struct bad_index {
	struct slice_index_array inner;
	int list_rc;       /* returned by list_versions when non-zero */
	int list_too_many; /* list_versions claims more than capacity */
	int get_wrong;     /* get_manifest returns the wrong manifest */
	int get_missing;   /* get_manifest finds nothing */
};

static int
bad_list(void *ctx, const struct slice_name *name, struct slice_version *out, size_t capacity)
{
	struct bad_index *b = ctx;

	if (b->list_rc != 0) {
		return b->list_rc;
	}
	if (b->list_too_many) {
		return (int)capacity + 1;
	}
	return slice_index_array_ops.list_versions(&b->inner, name, out, capacity);
}

static int
bad_get(void *ctx, const struct slice_coord *coord, const struct slice_manifest **out)
{
	struct bad_index *b = ctx;
	int rc = slice_index_array_ops.get_manifest(&b->inner, coord, out);

	if (rc == 0 && b->get_wrong && !slice_coord_equal(coord, &b->inner.manifests[0].coord)) {
		*out = &b->inner.manifests[0];
	}
	return rc == 0 && b->get_missing && !slice_coord_equal(coord, &b->inner.manifests[0].coord)
		       ? -ENOENT
		       : rc;
}

static const struct slice_index_ops bad_ops = {bad_list, bad_get};

static void
test_resolver_index_failures_are_reported(void **state)
{
	struct fixture *f = *state;
	struct bad_index b;
	struct slice_coord root;

	add(f, "org.a:a:1.0.0", "org.b:b ^1.0.0", NULL);
	add(f, "org.b:b:1.0.0", NULL);
	parse_coord("org.a:a:1.0.0", &root);
	memset(&b, 0, sizeof(b));
	b.inner = f->index;
	b.list_rc = -EIO;
	assert_error(f, slice_resolve(&root, &f->res, &f->err, &bad_ops, &b), -EIO,
		     SLICE_RESOLVE_INDEX, "the index could not list the versions of org.b:b");
	b.list_rc = 0;
	b.list_too_many = 1;
	assert_error(f, slice_resolve(&root, &f->res, &f->err, &bad_ops, &b), -EBADMSG,
		     SLICE_RESOLVE_INDEX, "the index could not list the versions of org.b:b");
	b.list_too_many = 0;
	b.get_wrong = 1;
	assert_error(f, slice_resolve(&root, &f->res, &f->err, &bad_ops, &b), -EBADMSG,
		     SLICE_RESOLVE_INDEX,
		     "no manifest for org.b:b:1.0.0 in the index (required by org.a:a:1.0.0)");
	b.get_wrong = 0;
	b.get_missing = 1;
	assert_error(f, slice_resolve(&root, &f->res, &f->err, &bad_ops, &b), -EBADMSG,
		     SLICE_RESOLVE_INDEX,
		     "no manifest for org.b:b:1.0.0 in the index (required by org.a:a:1.0.0)");
	b.get_missing = 0;
	assert_int_equal(slice_resolve(&root, &f->res, NULL, &bad_ops, &b), 0);
	assert_int_equal(f->res.count, 2);
}

static void
test_resolver_array_index_refuses_a_name_with_too_many_versions(void **state)
{
	struct fixture *f = *state;
	char coord[64];

	add(f, "org.a:a:1.0.0", "org.b:b >=0.0.0", NULL);
	for (int i = 0; i <= SLICE_RESOLVE_VERSIONS_MAX; i++) {
		snprintf(coord, sizeof(coord), "org.b:b:0.0.%d", i);
		add(f, coord, NULL);
	}
	assert_int_equal(resolve(f, "org.a:a:1.0.0"), -ENOBUFS);
	assert_int_equal(f->err.kind, SLICE_RESOLVE_INDEX);
	f->count--;
	f->index.count--;
	assert_int_equal(resolve(f, "org.a:a:1.0.0"), 0);
	assert_order(f, "org.b:b:0.0.127", "org.a:a:1.0.0", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		CASE(test_resolver_slice_without_dependencies_resolves_to_itself),
		CASE(test_resolver_chain_loads_dependencies_first),
		CASE(test_resolver_each_pattern_picks_the_highest_matching_version),
		CASE(test_resolver_diamond_shares_one_dependency),
		CASE(test_resolver_nearest_requirement_wins),
		CASE(test_resolver_conflict_names_both_requirements),
		CASE(test_resolver_conflict_with_the_root_names_the_root),
		CASE(test_resolver_self_cycle_is_reported),
		CASE(test_resolver_two_cycle_is_reported_with_its_path),
		CASE(test_resolver_longer_cycle_is_reported_from_where_it_closes),
		CASE(test_resolver_missing_dependency_names_pattern_and_asker),
		CASE(test_resolver_missing_root_is_reported),
		CASE(test_resolver_root_pattern_picks_the_highest_version),
		CASE(test_resolver_load_order_ignores_index_order),
		CASE(test_resolver_node_limit_is_exact),
		CASE(test_resolver_depth_limit_is_exact),
		CASE(test_resolver_depth_limit_sees_a_long_path_found_after_a_short_one),
		CASE(test_resolver_longest_cycle_fits_in_the_message),
		CASE(test_resolver_index_failures_are_reported),
		CASE(test_resolver_array_index_refuses_a_name_with_too_many_versions),
#undef CASE
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
