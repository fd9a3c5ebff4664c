/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dependency resolution in three passes over at most SLICE_RESOLVE_NODES_MAX slices: a
 * breadth-first walk that picks one version per name (nearest requirement wins, later ones
 * must agree), a depth-first walk that finds cycles and the load order (post-order), and a
 * longest-chain check. The slices are first stored in discovery order and permuted into load
 * order at the end. The rules are in slices/resolver.h.
 */
#include "slices/resolver.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"

#define RS_NONE    UINT32_MAX
#define RS_STR_(x) #x
#define RS_STR(x)  RS_STR_(x)

_Static_assert(SLICE_RESOLVE_NODES_MAX <= 255, "discovery indices fit the scratch arrays");

/* A bounded message; text that does not fit is cut and ends in "...". */
struct rs_msg {
	char *buf;
	size_t capacity;
	size_t len;
	int is_cut;
};

/* Resolution state; out->order[] holds the slices in discovery (breadth-first) order. */
struct rs {
	const struct slice_index_ops *index;
	void *index_ctx;
	struct slice_resolution *out;
	struct slice_resolve_error *err;
	struct rs_msg msg;
	/* Why each slice is in: the slice whose dependency picked it (RS_NONE for the root)... */
	uint32_t picked_by[SLICE_RESOLVE_NODES_MAX];
	/* ...and the pattern it was picked for (NULL for a root given as a coordinate). */
	const struct slice_version_pattern *picked_for[SLICE_RESOLVE_NODES_MAX];
};

static void
rs_msg_str(struct rs_msg *m, const char *text)
{
	for (size_t i = 0; text[i] != '\0'; i++) {
		/* Keep room for "..." and the NUL. */
		if (m->is_cut || m->len + 4 >= m->capacity) {
			m->is_cut = 1;
			return;
		}
		m->buf[m->len++] = text[i];
	}
}

static void
rs_msg_coord(struct rs_msg *m, const struct slice_coord *c)
{
	char text[SLICE_COORD_TEXT_MAX + 1];

	ASSERT(slice_coord_format(c, text, sizeof(text)) > 0);
	rs_msg_str(m, text);
}

static void
rs_msg_name(struct rs_msg *m, const struct slice_name *n)
{
	char text[SLICE_NAME_TEXT_MAX + 1];

	ASSERT(slice_name_format(n, text, sizeof(text)) > 0);
	rs_msg_str(m, text);
}

static void
rs_msg_pattern(struct rs_msg *m, const struct slice_version_pattern *p)
{
	char text[SLICE_PATTERN_TEXT_MAX + 1];

	ASSERT(slice_version_pattern_format(p, text, sizeof(text)) > 0);
	rs_msg_str(m, text);
}

/* "required by g:a:1.0.0" or "requested as root", for the slice that asked for node. */
static void
rs_msg_asker(struct rs *r, uint32_t asker)
{
	if (asker == RS_NONE) {
		rs_msg_str(&r->msg, "requested as root");
		return;
	}
	rs_msg_str(&r->msg, "required by ");
	rs_msg_coord(&r->msg, &r->out->order[asker].coord);
}

/* Finishes the message and fills err; returns code. */
static int
rs_fail(struct rs *r, int code, enum slice_resolve_failure kind)
{
	struct rs_msg *m = &r->msg;

	ASSERT(code < 0);
	ASSERT(kind != SLICE_RESOLVE_OK);
	if (r->err == NULL) {
		return code;
	}
	/* rs_msg_str kept room for the mark and the NUL. */
	ASSERT(m->len + 4 <= m->capacity);
	if (m->is_cut) {
		memcpy(m->buf + m->len, "...", 3);
		m->len += 3;
	}
	m->buf[m->len] = '\0';
	r->err->code = code;
	r->err->kind = kind;
	return code;
}

/* Adds coord as the next slice in discovery order, with its manifest from the index. */
static int
rs_add(struct rs *r, const struct slice_coord *coord, uint32_t asker,
       const struct slice_version_pattern *pattern)
{
	struct slice_resolution *out = r->out;
	const struct slice_manifest *m = NULL;
	struct slice_resolved *node;
	int rc;

	if (out->count == SLICE_RESOLVE_NODES_MAX) {
		rs_msg_str(&r->msg,
			   "more than " RS_STR(SLICE_RESOLVE_NODES_MAX) " slices to resolve, at ");
		rs_msg_coord(&r->msg, coord);
		return rs_fail(r, -BASE_ERR_FULL, SLICE_RESOLVE_LIMIT);
	}
	rc = r->index->get_manifest(r->index_ctx, coord, &m);
	if (rc == 0 && (m == NULL || !slice_coord_equal(&m->coord, coord))) {
		rc = -EBADMSG;
	}
	if (rc != 0) {
		int is_missing_root = asker == RS_NONE && pattern == NULL && rc == -ENOENT;

		/* A version the index listed but cannot produce: the index contradicts itself. */
		if (rc == -ENOENT && !is_missing_root) {
			rc = -EBADMSG;
		}

		rs_msg_str(&r->msg, "no manifest for ");
		rs_msg_coord(&r->msg, coord);
		rs_msg_str(&r->msg, " in the index (");
		rs_msg_asker(r, asker);
		rs_msg_str(&r->msg, ")");
		return rs_fail(r, rc,
			       is_missing_root ? SLICE_RESOLVE_MISSING : SLICE_RESOLVE_INDEX);
	}
	node = &out->order[out->count];
	memset(node, 0, sizeof(*node));
	memcpy(&node->coord, coord, sizeof(*coord));
	node->manifest = m;
	r->picked_by[out->count] = asker;
	r->picked_for[out->count] = pattern;
	out->count++;
	return 0;
}

/* The highest available version of name matching pattern; -ENOENT (MISSING) when none. */
static int
rs_pick(struct rs *r, const struct slice_name *name, const struct slice_version_pattern *pattern,
	uint32_t asker, struct slice_coord *picked)
{
	struct slice_version versions[SLICE_RESOLVE_VERSIONS_MAX];
	size_t at = 0;
	int n = r->index->list_versions(r->index_ctx, name, versions, AE_ARRAY_SIZE(versions));

	if (n < 0 || (size_t)n > AE_ARRAY_SIZE(versions)) {
		rs_msg_str(&r->msg, "the index could not list the versions of ");
		rs_msg_name(&r->msg, name);
		return rs_fail(r, n < 0 ? n : -EBADMSG, SLICE_RESOLVE_INDEX);
	}
	if (slice_version_pattern_pick(pattern, versions, (size_t)n, &at) != 0) {
		rs_msg_str(&r->msg, "no version of ");
		rs_msg_name(&r->msg, name);
		rs_msg_str(&r->msg, " matches ");
		rs_msg_pattern(&r->msg, pattern);
		rs_msg_str(&r->msg, " (");
		rs_msg_asker(r, asker);
		rs_msg_str(&r->msg, ")");
		return rs_fail(r, -ENOENT, SLICE_RESOLVE_MISSING);
	}
	memset(picked, 0, sizeof(*picked));
	memcpy(&picked->name, name, sizeof(*name));
	memcpy(&picked->version, &versions[at], sizeof(versions[at]));
	return 0;
}

/* The discovery index of the slice already picked for name, or RS_NONE. */
static uint32_t
rs_find(const struct rs *r, const struct slice_name *name)
{
	for (uint32_t i = 0; i < r->out->count; i++) {
		if (slice_name_equal(&r->out->order[i].coord.name, name)) {
			return i;
		}
	}
	return RS_NONE;
}

/* A later requirement (asker's dependency dep) that the earlier pick `held` does not meet. */
static int
rs_conflict(struct rs *r, uint32_t held, uint32_t asker, const struct slice_manifest_dep *dep)
{
	rs_msg_str(&r->msg, "conflict on ");
	rs_msg_name(&r->msg, &dep->name);
	rs_msg_str(&r->msg, ": ");
	rs_msg_coord(&r->msg, &r->out->order[held].coord);
	if (r->picked_for[held] == NULL) {
		rs_msg_str(&r->msg, " is the root");
	} else {
		rs_msg_str(&r->msg, " was picked for ");
		rs_msg_pattern(&r->msg, r->picked_for[held]);
		rs_msg_str(&r->msg, " ");
		rs_msg_asker(r, r->picked_by[held]);
	}
	rs_msg_str(&r->msg, ", but ");
	rs_msg_coord(&r->msg, &r->out->order[asker].coord);
	rs_msg_str(&r->msg, " requires ");
	rs_msg_pattern(&r->msg, &dep->pattern);
	return rs_fail(r, -EEXIST, SLICE_RESOLVE_CONFLICT);
}

/* Dependency i of the slice at discovery index head: the slice already held, or a new pick. */
static int
rs_walk_dep(struct rs *r, uint32_t head, uint32_t i)
{
	const struct slice_manifest_dep *dep = &r->out->order[head].manifest->deps[i];
	uint32_t held = rs_find(r, &dep->name);
	const struct slice_version *held_version;
	struct slice_coord picked;
	int rc;

	if (held != RS_NONE) {
		held_version = &r->out->order[held].coord.version;
		if (!slice_version_pattern_matches(&dep->pattern, held_version)) {
			return rs_conflict(r, held, head, dep);
		}
		r->out->order[head].dep_index[i] = held;
		return 0;
	}
	rc = rs_pick(r, &dep->name, &dep->pattern, head, &picked);
	if (rc == 0) {
		rc = rs_add(r, &picked, head, &dep->pattern);
	}
	if (rc == 0) {
		r->out->order[head].dep_index[i] = r->out->count - 1;
	}
	return rc;
}

/* Every dependency of the slice at discovery index head, in manifest order. */
static int
rs_walk_slice(struct rs *r, uint32_t head)
{
	uint32_t dep_count = r->out->order[head].manifest->dep_count;
	int rc = 0;

	ASSERT(dep_count <= SLICE_MANIFEST_DEPS_MAX);
	for (uint32_t i = 0; i < dep_count && rc == 0; i++) {
		rc = rs_walk_dep(r, head, i);
	}
	return rc;
}

/* Pass 1: breadth first from the root, one version per name; dep_index in discovery order. */
static int
rs_walk(struct rs *r)
{
	int rc = 0;

	/* The queue is out->order itself: slices are appended as they are picked. */
	for (uint32_t head = 0; head < r->out->count && rc == 0; head++) {
		rc = rs_walk_slice(r, head);
	}
	return rc;
}

/* "a -> b -> c" for the discovery indices path[0..count). */
static void
rs_msg_path(struct rs *r, const uint32_t *path, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (i > 0) {
			rs_msg_str(&r->msg, " -> ");
		}
		rs_msg_coord(&r->msg, &r->out->order[path[i]].coord);
	}
}

static int
rs_too_deep(struct rs *r, const uint32_t *path, size_t count)
{
	rs_msg_str(&r->msg,
		   "dependency chain deeper than " RS_STR(SLICE_RESOLVE_DEPTH_MAX) " levels: ");
	rs_msg_path(r, path, count);
	return rs_fail(r, -BASE_ERR_TOO_LONG, SLICE_RESOLVE_LIMIT);
}

/* Depth-first walk state: the stack is the current path from the root. */
struct rs_dfs {
	uint32_t stack[SLICE_RESOLVE_NODES_MAX + 1];
	uint32_t next_dep[SLICE_RESOLVE_NODES_MAX + 1];
	uint8_t color[SLICE_RESOLVE_NODES_MAX]; /* 0 unseen, 1 on the stack, 2 done */
	size_t depth;
};

/* Reports the cycle closed by an edge from the stack top back to child (on the stack). */
static int
rs_cycle(struct rs *r, struct rs_dfs *d, uint32_t child)
{
	size_t from = 0;

	while (d->stack[from] != child) {
		from++;
	}
	ASSERT(from < d->depth);
	d->stack[d->depth] = child;
	rs_msg_str(&r->msg, "dependency cycle: ");
	rs_msg_path(r, &d->stack[from], d->depth - from + 1);
	return rs_fail(r, -ELOOP, SLICE_RESOLVE_CYCLE);
}

/* Pass 2: cycles and the post-order (load order) into post[0..count). */
static int
rs_order(struct rs *r, uint32_t *post)
{
	struct rs_dfs d;
	size_t post_count = 0;

	memset(&d, 0, sizeof(d));
	d.stack[d.depth++] = 0;
	d.color[0] = 1;
	while (d.depth > 0) {
		uint32_t top = d.stack[d.depth - 1];
		const struct slice_resolved *node = &r->out->order[top];
		uint32_t child;

		if (d.next_dep[d.depth - 1] == node->manifest->dep_count) {
			d.color[top] = 2;
			post[post_count++] = top;
			d.depth--;
			continue;
		}
		child = node->dep_index[d.next_dep[d.depth - 1]++];
		if (d.color[child] == 1) {
			return rs_cycle(r, &d, child);
		}
		if (d.color[child] == 2) {
			continue;
		}
		d.stack[d.depth] = child;
		d.next_dep[d.depth] = 0;
		d.color[child] = 1;
		/* The stack is a real chain: over the limit already, whatever else follows. */
		if (++d.depth > SLICE_RESOLVE_DEPTH_MAX + 1) {
			return rs_too_deep(r, d.stack, d.depth);
		}
	}
	ASSERT(post_count == r->out->count);
	return 0;
}

/* The first dependency of at in manifest order that starts a longest chain below at. */
static uint32_t
rs_tallest_dep(const struct rs *r, const uint32_t *height, uint32_t at)
{
	const struct slice_resolved *node = &r->out->order[at];

	ASSERT(height[at] > 1);
	for (uint32_t j = 0; j < node->manifest->dep_count; j++) {
		if (height[node->dep_index[j]] + 1 == height[at]) {
			return node->dep_index[j];
		}
	}
	PANIC("slice %u of height %u has no dependency one lower", at, height[at]);
}

/* Pass 3: the longest chain, by heights in load order (dependencies are already done). */
static int
rs_check_depth(struct rs *r, const uint32_t *post)
{
	uint32_t height[SLICE_RESOLVE_NODES_MAX];
	uint32_t chain[SLICE_RESOLVE_DEPTH_MAX + 2];
	size_t count = 0;
	uint32_t at = 0;

	memset(height, 0, sizeof(height));
	for (uint32_t i = 0; i < r->out->count; i++) {
		const struct slice_resolved *node = &r->out->order[post[i]];
		uint32_t h = 0;

		for (uint32_t j = 0; j < node->manifest->dep_count; j++) {
			uint32_t hj = height[node->dep_index[j]];

			h = hj > h ? hj : h;
		}
		height[post[i]] = h + 1;
	}
	if (height[0] <= SLICE_RESOLVE_DEPTH_MAX + 1) {
		return 0;
	}
	/* Follow the tallest dependency from the root; the first tallest in manifest order. */
	for (;;) {
		chain[count++] = at;
		if (count == AE_ARRAY_SIZE(chain)) {
			break;
		}
		at = rs_tallest_dep(r, height, at);
	}
	return rs_too_deep(r, chain, count);
}

/* Moves the slices from discovery order into load order post[] and remaps dep_index. */
static void
rs_permute(struct slice_resolution *out, const uint32_t *post)
{
	uint32_t pos[SLICE_RESOLVE_NODES_MAX];
	struct slice_resolved tmp;

	for (uint32_t i = 0; i < out->count; i++) {
		pos[post[i]] = i;
	}
	for (uint32_t i = 0; i < out->count; i++) {
		for (uint32_t j = 0; j < out->order[i].manifest->dep_count; j++) {
			out->order[i].dep_index[j] = pos[out->order[i].dep_index[j]];
		}
	}
	/* Cycle walk: swap each slice into its place until position i holds its own. */
	for (uint32_t i = 0; i < out->count; i++) {
		while (pos[i] != i) {
			uint32_t j = pos[i];

			tmp = out->order[j];
			out->order[j] = out->order[i];
			out->order[i] = tmp;
			pos[i] = pos[j];
			pos[j] = j;
		}
	}
}

/* The load order's promise: every dependency of slice i comes before it. */
static void
rs_assert_loads_after_deps(const struct slice_resolution *out, uint32_t i)
{
	uint32_t latest = 0;

	for (uint32_t j = 0; j < out->order[i].manifest->dep_count; j++) {
		uint32_t d = out->order[i].dep_index[j];

		latest = d > latest ? d : latest;
	}
	ASSERT(out->order[i].manifest->dep_count == 0 || latest < i);
}

static int
rs_run(struct rs *r)
{
	uint32_t post[SLICE_RESOLVE_NODES_MAX];
	int rc = rs_walk(r);

	if (rc == 0) {
		rc = rs_order(r, post);
	}
	if (rc == 0) {
		rc = rs_check_depth(r, post);
	}
	if (rc != 0) {
		return rc;
	}
	rs_permute(r->out, post);
	for (uint32_t i = 0; i < r->out->count; i++) {
		rs_assert_loads_after_deps(r->out, i);
	}
	ASSERT(r->out->count >= 1);
	return 0;
}

static void
rs_init(struct rs *r, struct slice_resolution *out, struct slice_resolve_error *err,
	const struct slice_index_ops *index, void *index_ctx)
{
	ASSERT(out != NULL);
	ASSERT(index != NULL);
	ASSERT(index->list_versions != NULL);
	ASSERT(index->get_manifest != NULL);
	memset(r, 0, sizeof(*r));
	r->index = index;
	r->index_ctx = index_ctx;
	r->out = out;
	r->err = err;
	out->count = 0;
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		r->msg.buf = err->message;
		r->msg.capacity = sizeof(err->message);
	}
}

int
slice_resolve(const struct slice_coord *root, struct slice_resolution *out,
	      struct slice_resolve_error *err, const struct slice_index_ops *index, void *index_ctx)
{
	struct rs r;
	int rc;

	ASSERT(root != NULL);
	rs_init(&r, out, err, index, index_ctx);
	rc = rs_add(&r, root, RS_NONE, NULL);
	return rc != 0 ? rc : rs_run(&r);
}

int
slice_resolve_pattern(const struct slice_name *name, const struct slice_version_pattern *pattern,
		      struct slice_resolution *out, struct slice_resolve_error *err,
		      const struct slice_index_ops *index, void *index_ctx)
{
	struct slice_coord root;
	struct rs r;
	int rc;

	ASSERT(name != NULL);
	ASSERT(pattern != NULL);
	rs_init(&r, out, err, index, index_ctx);
	rc = rs_pick(&r, name, pattern, RS_NONE, &root);
	if (rc == 0) {
		rc = rs_add(&r, &root, RS_NONE, pattern);
	}
	return rc != 0 ? rc : rs_run(&r);
}

static int
rs_array_list_versions(void *ctx, const struct slice_name *name, struct slice_version *out,
		       size_t capacity)
{
	const struct slice_index_array *a = ctx;
	size_t n = 0;

	ASSERT(a != NULL);
	for (size_t i = 0; i < a->count; i++) {
		if (!slice_name_equal(&a->manifests[i].coord.name, name)) {
			continue;
		}
		if (n == capacity) {
			return -ENOBUFS;
		}
		memcpy(&out[n++], &a->manifests[i].coord.version, sizeof(out[0]));
	}
	ASSERT(n <= INT32_MAX);
	return (int)n;
}

static int
rs_array_get_manifest(void *ctx, const struct slice_coord *coord, const struct slice_manifest **out)
{
	const struct slice_index_array *a = ctx;

	ASSERT(a != NULL);
	for (size_t i = 0; i < a->count; i++) {
		if (slice_coord_equal(&a->manifests[i].coord, coord)) {
			*out = &a->manifests[i];
			return 0;
		}
	}
	return -ENOENT;
}

const struct slice_index_ops slice_index_array_ops = {
	.list_versions = rs_array_list_versions,
	.get_manifest = rs_array_get_manifest,
};
