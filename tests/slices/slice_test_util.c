/* SPDX-License-Identifier: Apache-2.0 */
#include "slice_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slices/coord.h"
#include "slices/manifest.h"
#include "slices/repo.h"

void
trepo_make(char *root, const char *tag)
{
	(void)snprintf(root, TREPO_PATH_MAX, "/tmp/aether-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(root));
}

static int
trepo_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
trepo_remove(const char *root)
{
	/* FTW_PHYS: a symbolic link is removed itself, its target is left alone. */
	assert_int_equal(nftw(root, trepo_remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

int
trepo_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(dir);
	while (readdir(dir) != NULL) {
		n++;
	}
	assert_int_equal(closedir(dir), 0);
	return n;
}

void
trepo_read_file(const char *path, uint8_t **bytes, size_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fail_msg("%s: %s", path, strerror(errno));
	}
	assert_int_equal(fstat(fd, &st), 0);
	*size = (size_t)st.st_size;
	*bytes = malloc(*size + 1);
	assert_non_null(*bytes);
	assert_int_equal(read(fd, *bytes, *size), (ssize_t)*size);
	assert_int_equal(close(fd), 0);
}

static void
trepo_coord(const char *coord_text, struct slice_coord *coord)
{
	assert_int_equal(slice_coord_parse(coord_text, strlen(coord_text), coord, NULL), 0);
}

void
trepo_path(const char *root, const char *coord_text, const char *suffix, char *out)
{
	struct slice_coord coord;
	char rel[SLICE_REPO_PATH_MAX + 1];

	trepo_coord(coord_text, &coord);
	assert_true(slice_repo_path(&coord, suffix, rel, sizeof(rel)) > 0);
	(void)snprintf(out, TREPO_PATH_MAX, "%s/%s", root, rel);
}

static void
trepo_mkdirs(char *path)
{
	for (char *s = strchr(path + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) < 0) {
			assert_int_equal(errno, EEXIST);
		}
		*s = '/';
	}
}

static void
trepo_write(char *path, const void *bytes, size_t size)
{
	int fd;

	trepo_mkdirs(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fail_msg("%s: %s", path, strerror(errno));
	}
	assert_int_equal(write(fd, bytes, size), (ssize_t)size);
	assert_int_equal(close(fd), 0);
}

void
trepo_put_so(const char *root, const char *coord_text, const uint8_t *bytes, size_t size)
{
	char path[TREPO_PATH_MAX];

	trepo_path(root, coord_text, ".so", path);
	trepo_write(path, bytes, size);
}

void
trepo_put_manifest(const char *root, const char *coord_text, uint64_t size,
		   struct base_hash128 hash, const struct trepo_entry *entries, size_t entry_count,
		   const char *const *deps, size_t dep_count)
{
	static struct slice_manifest m;
	static char text[SLICE_MANIFEST_TEXT_MAX + 1];
	char path[TREPO_PATH_MAX];
	struct slice_coord coord;
	int n;

	trepo_coord(coord_text, &coord);
	slice_manifest_init(&m, &coord, 1, size, hash);
	for (size_t i = 0; i < entry_count; i++) {
		assert_int_equal(slice_manifest_add_entry(&m, entries[i].name,
							  strlen(entries[i].name),
							  entries[i].is_idempotent),
				 0);
	}
	for (size_t i = 0; i < dep_count; i++) {
		struct slice_name name;
		struct slice_version_pattern pattern;

		assert_int_equal(slice_name_parse(deps[2 * i], strlen(deps[2 * i]), &name, NULL),
				 0);
		assert_int_equal(slice_version_pattern_parse(
					 deps[2 * i + 1], strlen(deps[2 * i + 1]), &pattern, NULL),
				 0);
		assert_int_equal(slice_manifest_add_dep(&m, &name, &pattern), 0);
	}
	n = slice_manifest_format(&m, text, sizeof(text));
	assert_true(n > 0);
	trepo_path(root, coord_text, ".manifest", path);
	trepo_write(path, text, (size_t)n);
}

void
trepo_put_slice(const char *root, const char *coord_text, const char *so_path,
		const struct trepo_entry *entries, size_t entry_count)
{
	uint8_t *bytes;
	size_t size;

	trepo_read_file(so_path, &bytes, &size);
	trepo_put_so(root, coord_text, bytes, size);
	trepo_put_manifest(root, coord_text, size, base_hash128(bytes, size), entries, entry_count,
			   NULL, 0);
	free(bytes);
}
