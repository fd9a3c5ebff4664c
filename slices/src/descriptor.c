/* SPDX-License-Identifier: Apache-2.0 */
#include "slices/descriptor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"
#include "slices/manifest.h"

/* The ABI's limits are the manifest's: every checked descriptor has a manifest. */
_Static_assert(SLICE_METHOD_NAME_MAX == SLICE_METHOD_MAX, "method name limits differ");
_Static_assert(SLICE_METHODS_MAX == SLICE_MANIFEST_ENTRIES_MAX, "method count limits differ");
_Static_assert(SLICE_DEPENDENCIES_MAX == SLICE_MANIFEST_DEPS_MAX, "dependency limits differ");

/* Bounded length of a slice-owned string, or SIZE_MAX when it is NULL or longer than max. */
static size_t
desc_strlen(const char *s, size_t max)
{
	size_t n;

	if (s == NULL) {
		return SIZE_MAX;
	}
	n = strnlen(s, max + 1);
	return n > max ? SIZE_MAX : n;
}

/* The manifest's method grammar, which counter names share. */
static bool
desc_name_is_valid(const char *s)
{
	size_t n = desc_strlen(s, SLICE_METHOD_NAME_MAX);

	return n != SIZE_MAX && slice_method_check(s, n, NULL) == 0;
}

static int
desc_check_header(const struct slice_def *def, struct slice_error *err)
{
	if (def == NULL) {
		return slice_error_set(err, -EINVAL, "descriptor is NULL");
	}
	if (def->abi_version != SLICE_ABI_VERSION) {
		return slice_error_set(err, -BASE_ERR_VERSION,
				       "built for slice ABI %u, this host speaks %u",
				       def->abi_version, SLICE_ABI_VERSION);
	}
	if (def->def_size != sizeof(struct slice_def) ||
	    def->method_size != sizeof(struct slice_method) ||
	    def->dependency_size != sizeof(struct slice_dependency)) {
		return slice_error_set(err, -BASE_ERR_VERSION,
				       "struct sizes %u/%u/%u differ from the host's %zu/%zu/%zu "
				       "(built with another compiler, target or header)",
				       def->def_size, def->method_size, def->dependency_size,
				       sizeof(struct slice_def), sizeof(struct slice_method),
				       sizeof(struct slice_dependency));
	}
	if (def->host_size > sizeof(struct slice_host)) {
		return slice_error_set(err, -BASE_ERR_VERSION,
				       "needs a host table of %u bytes, this host has %zu",
				       def->host_size, sizeof(struct slice_host));
	}
	return 0;
}

static int
desc_check_coord(const struct slice_def *def, struct slice_descriptor *out, struct slice_error *err)
{
	char text[SLICE_COORD_TEXT_MAX + 1];
	struct base_parse_error perr;
	size_t g = desc_strlen(def->group, SLICE_GROUP_MAX);
	size_t a = desc_strlen(def->artifact, SLICE_ARTIFACT_MAX);
	size_t v = desc_strlen(def->version, SLICE_VERSION_TEXT_MAX);
	int n;

	if (g == SIZE_MAX || a == SIZE_MAX || v == SIZE_MAX) {
		return slice_error_set(err, -EINVAL, "coordinates missing or too long");
	}
	n = snprintf(text, sizeof(text), "%s:%s:%s", def->group, def->artifact, def->version);
	ASSERT(n > 0 && (size_t)n < sizeof(text));
	if (slice_coord_parse(text, (size_t)n, &out->coord, &perr) < 0) {
		return slice_error_set(err, -EINVAL, "coordinates \"%s\": %s at offset %zu", text,
				       perr.what, perr.offset);
	}
	return 0;
}

static int
desc_check_methods(const struct slice_def *def, struct slice_descriptor *out,
		   struct slice_error *err)
{
	if (def->method_count == 0 || def->method_count > SLICE_METHODS_MAX ||
	    def->methods == NULL) {
		return slice_error_set(err, -EINVAL, "method count %u not in 1..%u",
				       def->method_count, SLICE_METHODS_MAX);
	}
	for (uint32_t i = 0; i < def->method_count; i++) {
		const struct slice_method *m = &def->methods[i];

		if (!desc_name_is_valid(m->name)) {
			return slice_error_set(err, -EINVAL, "method %u has an invalid name", i);
		}
		if (m->handler == NULL || m->is_idempotent > 1 || m->reserved != 0) {
			return slice_error_set(err, -EINVAL, "method %s: no handler, or bad flags",
					       m->name);
		}
		for (uint32_t j = 0; j < i; j++) {
			if (strcmp(out->method_names[j], m->name) == 0) {
				return slice_error_set(err, -EINVAL, "method %s defined twice",
						       m->name);
			}
		}
		memcpy(out->method_names[i], m->name, strlen(m->name) + 1);
		out->method_is_idempotent[i] = (uint8_t)m->is_idempotent;
	}
	out->method_count = def->method_count;
	return 0;
}

static int
desc_check_dependency(const struct slice_dependency *d, uint32_t i, struct slice_descriptor *out,
		      struct slice_error *err)
{
	struct base_parse_error perr;
	size_t n = desc_strlen(d->name, SLICE_NAME_TEXT_MAX);
	size_t p = desc_strlen(d->pattern, SLICE_PATTERN_TEXT_MAX);

	if (n == SIZE_MAX || p == SIZE_MAX) {
		return slice_error_set(err, -EINVAL, "dependency %u: name or pattern missing", i);
	}
	if (slice_name_parse(d->name, n, &out->dependency_names[i], &perr) < 0) {
		return slice_error_set(err, -EINVAL, "dependency %u \"%s\": %s", i, d->name,
				       perr.what);
	}
	if (slice_version_pattern_parse(d->pattern, p, &out->dependency_patterns[i], &perr) < 0) {
		return slice_error_set(err, -EINVAL, "dependency %s pattern \"%s\": %s", d->name,
				       d->pattern, perr.what);
	}
	return 0;
}

static int
desc_check_lists(const struct slice_def *def, struct slice_descriptor *out, struct slice_error *err)
{
	if (def->dependency_count > SLICE_DEPENDENCIES_MAX ||
	    (def->dependency_count > 0 && def->dependencies == NULL)) {
		return slice_error_set(err, -EINVAL, "dependency count %u above %u or list missing",
				       def->dependency_count, SLICE_DEPENDENCIES_MAX);
	}
	for (uint32_t i = 0; i < def->dependency_count; i++) {
		int rc = desc_check_dependency(&def->dependencies[i], i, out, err);

		if (rc < 0) {
			return rc;
		}
	}
	if (def->counter_count > SLICE_COUNTERS_MAX ||
	    (def->counter_count > 0 && def->counter_names == NULL)) {
		return slice_error_set(err, -EINVAL, "counter count %u above %u or names missing",
				       def->counter_count, SLICE_COUNTERS_MAX);
	}
	for (uint32_t i = 0; i < def->counter_count; i++) {
		if (!desc_name_is_valid(def->counter_names[i])) {
			return slice_error_set(err, -EINVAL, "counter %u has an invalid name", i);
		}
	}
	out->dependency_count = def->dependency_count;
	out->counter_count = def->counter_count;
	return 0;
}

int
slice_descriptor_check(const struct slice_def *def, uint64_t arena_size_max,
		       struct slice_descriptor *out, struct slice_error *err)
{
	int rc;

	ASSERT(out != NULL);
	memset(out, 0, sizeof(*out));
	rc = desc_check_header(def, err);
	if (rc == 0) {
		rc = desc_check_coord(def, out, err);
	}
	if (rc == 0) {
		rc = desc_check_methods(def, out, err);
	}
	if (rc == 0) {
		rc = desc_check_lists(def, out, err);
	}
	if (rc < 0) {
		return rc;
	}
	if (def->arena_size > arena_size_max) {
		return slice_error_set(err, -EFBIG, "asks for an arena of %llu bytes, limit %llu",
				       (unsigned long long)def->arena_size,
				       (unsigned long long)arena_size_max);
	}
	out->arena_size = def->arena_size;
	return 0;
}

int
slice_descriptor_method(const struct slice_descriptor *d, const char *name, uint32_t *index)
{
	ASSERT(d != NULL);
	ASSERT(index != NULL);
	if (name == NULL) {
		if (d->method_count != 1) {
			return -ENOSYS;
		}
		*index = 0;
		return 0;
	}
	for (uint32_t i = 0; i < d->method_count; i++) {
		if (strcmp(d->method_names[i], name) == 0) {
			*index = i;
			return 0;
		}
	}
	return -ENOSYS;
}
