/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The repository as a resolver index (slices/repo.h, slices/resolver.h): version directories
 * are listed with readdir, manifests read with the repository's safe open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/panic.h"
#include "repo_int.h"
#include "slices/repo.h"

void
slice_repo_index_init(struct slice_repo_index *index, struct slice_repo *repo)
{
	ASSERT(index != NULL);
	ASSERT(repo != NULL);
	index->repo = repo;
	index->count = 0;
}

/* Adds the versions found in one open directory (takes dir_fd) to out[*count..capacity). */
static int
index_scan_dir(int dir_fd, struct slice_version *out, size_t capacity, size_t *count)
{
	DIR *dir = fdopendir(dir_fd);
	struct dirent *de;
	int rc = 0;

	if (dir == NULL) {
		rc = -errno;
		(void)close(dir_fd);
		return rc;
	}
	while ((de = readdir(dir)) != NULL) {
		struct slice_version v;
		size_t i;

		/* Anything that is not a version (".", "..", stray files) is not an artifact. */
		if (slice_version_parse(de->d_name, strlen(de->d_name), &v, NULL) < 0) {
			continue;
		}
		for (i = 0; i < *count && slice_version_compare(&out[i], &v) != 0; i++) {
		}
		if (i < *count) {
			continue;
		}
		if (*count == capacity) {
			rc = -ENOBUFS;
			break;
		}
		out[(*count)++] = v;
	}
	(void)closedir(dir);
	return rc;
}

static int
index_list_versions(void *ctx, const struct slice_name *name, struct slice_version *out,
		    size_t capacity)
{
	struct slice_repo_index *index = ctx;
	char path[SLICE_GROUP_MAX + SLICE_ARTIFACT_MAX + 2];
	size_t count = 0;

	ASSERT(index != NULL);
	ASSERT(name != NULL);
	(void)snprintf(path, sizeof(path), "%s/%s", name->group, name->artifact);
	for (char *p = path; *p != '/'; p++) {
		*p = *p == '.' ? '/' : *p;
	}
	for (uint32_t r = 0; r < repo_root_count(index->repo); r++) {
		int fd = repo_open_beneath(index->repo, r, path, O_DIRECTORY);
		int rc;

		if (fd == -ENOENT) {
			continue;
		}
		if (fd < 0) {
			return fd;
		}
		rc = index_scan_dir(fd, out, capacity, &count);
		if (rc < 0) {
			return rc;
		}
	}
	return (int)count;
}

static int
index_get_manifest(void *ctx, const struct slice_coord *coord, const struct slice_manifest **out)
{
	struct slice_repo_index *index = ctx;
	uint32_t root_index;
	int rc;

	ASSERT(index != NULL);
	for (uint32_t i = 0; i < index->count; i++) {
		if (slice_coord_equal(&index->manifests[i].coord, coord)) {
			*out = &index->manifests[i];
			return 0;
		}
	}
	if (index->count == SLICE_RESOLVE_NODES_MAX) {
		return -ENOBUFS;
	}
	rc = repo_read_manifest(index->repo, coord, &root_index, &index->manifests[index->count],
				NULL);
	if (rc < 0) {
		return rc;
	}
	*out = &index->manifests[index->count++];
	return 0;
}

const struct slice_index_ops slice_repo_index_ops = {
	.list_versions = index_list_versions,
	.get_manifest = index_get_manifest,
};

int
slice_repo_resolve(struct slice_repo_index *index, const struct slice_name *name,
		   const struct slice_version_pattern *pattern, struct slice_resolution *out,
		   struct slice_resolve_error *err)
{
	ASSERT(index != NULL);
	index->count = 0;
	return slice_resolve_pattern(name, pattern, out, err, &slice_repo_index_ops, index);
}
