/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dependency resolution: from a root slice and an index of available manifests, the set of
 * slices to load and the order to load them in (dependencies first). Pure: the index is a
 * table of two lookup functions the caller provides (or the array index below); the resolver
 * does no IO and allocates nothing. The repository (slices/repo) builds an index from its
 * directories; tests and the simulator use arrays.
 *
 * The rule, step by step:
 * 1. The root is the given coordinate, or the highest available version matching the given
 *    pattern (slice_version_pattern_pick).
 * 2. Breadth first from the root, each manifest's dependencies in their (sorted) manifest order:
 *    a dependency on a name not picked yet picks the highest available version matching its
 *    pattern; a dependency on a name already picked must be satisfied by that pick.
 *    "Nearest wins" (as in Maven): the requirement closest to the root decides, ties go to the
 *    one met first in that order. A later pattern the pick does not satisfy is a conflict,
 *    reported with both requirements; the resolver never backtracks to look for a version
 *    satisfying both, so an operator fixes a conflict by narrowing a nearer pattern (the root's
 *    manifest is nearest of all).
 *    One resolution thus holds one version per name, so the graph is consistent; two versions of
 *    one slice can still be loaded side by side from two separate resolutions.
 * 3. The picked graph must be acyclic; a cycle is reported with its whole path, for example
 *    "org.a:x:1.0.0 -> org.b:y:2.0.0 -> org.a:x:1.0.0" (a self-dependency is "a -> a").
 * 4. The longest dependency chain may hold at most SLICE_RESOLVE_DEPTH_MAX + 1 slices (the root
 *    plus DEPTH_MAX levels) and the graph at most SLICE_RESOLVE_NODES_MAX slices. A cycle
 *    longer than the depth limit is reported as a chain over the limit (the walk stops there),
 *    which keeps every reported path short enough for the message.
 * 5. The load order is a depth-first post-order from the root, dependencies visited in manifest
 *    order: every slice comes after all of its dependencies, the root comes last, and the same
 *    index gives the same order every time (nothing depends on pointer values or the order in
 *    which the index lists versions, except that among equal versions the first listed wins).
 *
 * Errors: slice_resolve and slice_resolve_pattern return 0 or a negative code and, when err is
 * not NULL, fill it with the code, a kind and an operator-readable message naming the slices
 * involved (coordinates in canonical text):
 *   -ENOENT             MISSING: no available version matches a pattern; the message names the
 *                       name, the pattern and who asked ("required by g:a:1.0.0" or "requested
 *                       as root")
 *   -EEXIST             CONFLICT: two requirements on one name that the pick cannot both meet;
 *                       names the pick, both patterns and both requesters
 *   -ELOOP              CYCLE: the whole path, first and last element equal
 *   -BASE_ERR_FULL      LIMIT: more than SLICE_RESOLVE_NODES_MAX slices
 *   -BASE_ERR_TOO_LONG  LIMIT: a chain longer than the depth limit; the message holds the chain
 *   any other code      INDEX: what an index function returned (for example -ENOBUFS when a
 *                       name has more than SLICE_RESOLVE_VERSIONS_MAX versions), or -EBADMSG
 *                       when the index is inconsistent (a listed version without a manifest,
 *                       or a manifest whose coordinate is not the one asked for)
 * On error *out is unspecified (it is scratch space during the resolution).
 */
#ifndef AETHER_SLICES_RESOLVER_H
#define AETHER_SLICES_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "slices/coord.h"
#include "slices/manifest.h"

#define SLICE_RESOLVE_NODES_MAX    64
#define SLICE_RESOLVE_DEPTH_MAX    16
/* Versions of one name the resolver asks an index for at once. */
#define SLICE_RESOLVE_VERSIONS_MAX 128
/* Room for the longest cycle or chain path plus the surrounding words, NUL included. */
#define SLICE_RESOLVE_MESSAGE_MAX  ((SLICE_RESOLVE_DEPTH_MAX + 2) * (SLICE_COORD_TEXT_MAX + 4) + 256)

/*
 * The index. Both functions borrow their arguments and are called only during a resolve.
 *
 * list_versions writes the versions of name the index holds into out[0..capacity), in any
 * order without duplicates, and returns how many (0 when none); or returns a negative code,
 * -ENOBUFS when there are more than capacity (capacity is SLICE_RESOLVE_VERSIONS_MAX).
 *
 * get_manifest sets *out to the manifest of coord and returns 0, or returns a negative code
 * (-ENOENT when it has none). The manifest is lent: it must stay valid and unchanged as long as
 * the caller uses the resolution, which points at it.
 */
typedef int slice_index_list_versions_fn(void *ctx, const struct slice_name *name,
					 struct slice_version *out, size_t capacity);
typedef int slice_index_get_manifest_fn(void *ctx, const struct slice_coord *coord,
					const struct slice_manifest **out);

struct slice_index_ops {
	slice_index_list_versions_fn *list_versions;
	slice_index_get_manifest_fn *get_manifest;
};

/*
 * A ready-made index over a caller's array of manifests (ctx = a struct slice_index_array *).
 * Lookups are linear scans; two manifests with the same coordinate are an inconsistent index
 * (get_manifest returns the first). The array is lent for as long as any resolution made from
 * it is used.
 */
struct slice_index_array {
	const struct slice_manifest *manifests;
	size_t count;
};

extern const struct slice_index_ops slice_index_array_ops;

/* One slice of a resolution. */
struct slice_resolved {
	struct slice_coord coord;
	const struct slice_manifest *manifest; /* lent by the index (see get_manifest) */
	/*
	 * dep_index[i] is the position in slice_resolution.order[] of the slice picked for
	 * manifest->deps[i], i < manifest->dep_count; always a smaller position than this one.
	 */
	uint32_t dep_index[SLICE_MANIFEST_DEPS_MAX];
};

/* The result: order[0..count) in load order; order[count - 1] is the root. */
struct slice_resolution {
	uint32_t count;
	struct slice_resolved order[SLICE_RESOLVE_NODES_MAX];
};

enum slice_resolve_failure {
	SLICE_RESOLVE_OK = 0,
	SLICE_RESOLVE_MISSING = 1,
	SLICE_RESOLVE_CONFLICT = 2,
	SLICE_RESOLVE_CYCLE = 3,
	SLICE_RESOLVE_LIMIT = 4,
	SLICE_RESOLVE_INDEX = 5,
};

struct slice_resolve_error {
	int code;                        /* the negative code returned */
	enum slice_resolve_failure kind; /* which rule failed */
	/* NUL-terminated; ends in "..." in the unlikely case it had to be cut. */
	char message[SLICE_RESOLVE_MESSAGE_MAX];
};

/*
 * Resolves root (which must be valid, from slice_coord_parse) against the index. On success
 * fills *out and returns 0. out and err are caller memory (out is about 20 KiB); err may be
 * NULL. Any thread, as long as the index functions are safe there. Cost: O(nodes * (deps +
 * versions)) index calls and comparisons, bounded by the limits above.
 */
AE_MUST_CHECK int slice_resolve(const struct slice_coord *root, struct slice_resolution *out,
				struct slice_resolve_error *err,
				const struct slice_index_ops *index, void *index_ctx);

/* As slice_resolve, with the root picked as the highest available version matching pattern. */
AE_MUST_CHECK int slice_resolve_pattern(const struct slice_name *name,
					const struct slice_version_pattern *pattern,
					struct slice_resolution *out,
					struct slice_resolve_error *err,
					const struct slice_index_ops *index, void *index_ctx);

#endif /* AETHER_SLICES_RESOLVER_H */
