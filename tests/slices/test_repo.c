/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the repository hands out only artifacts whose exact bytes match their manifest, as a
 * sealed memfd nobody can change, searches its roots in order, caches verified artifacts, and
 * refuses every kind of bad artifact with its own code and a clear line, leaving nothing open.
 * Method: the example repository built by meson (read-only) and temporary repositories under
 * /tmp into which each test writes one deliberately broken artifact: flipped byte, truncated,
 * longer than declared, over the size limit, symbolic links (file, manifest, directory),
 * a manifest for another coordinate, a garbled manifest, a directory instead of a file. Open
 * file descriptors are counted before and after, so a refusal that leaks one fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "slice_test_util.h"
#include "slices/repo.h"

#define GREETER_1_0 "org.aether.examples:greeter:1.0.0"
#define GREETER_SO  SLICES_EXAMPLE_REPO "/org/aether/examples/greeter/1.0.0/greeter-1.0.0.so"

static const struct trepo_entry greet_entry[] = {{"greet", 1}};

struct fixture {
	char root[TREPO_PATH_MAX];
	struct slice_repo_config cfg;
	struct slice_repo *repo;
	struct slice_artifact art;
	struct slice_error err;
	uint8_t *greeter;
	size_t greeter_size;
	int fds_before;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	trepo_make(f->root, "repo");
	trepo_read_file(GREETER_SO, &f->greeter, &f->greeter_size);
	f->cfg.roots[0] = f->root;
	f->cfg.root_count = 1;
	f->fds_before = trepo_count_fds();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	slice_repo_destroy(f->repo);
	trepo_remove(f->root);
	/* Every fd a fetch handed out was closed by the test; nothing else may stay open. */
	assert_int_equal(trepo_count_fds(), f->fds_before);
	free(f->greeter);
	free(f);
	return 0;
}

static void
open_repo(struct fixture *f)
{
	slice_repo_destroy(f->repo);
	f->repo = NULL;
	assert_int_equal(slice_repo_create(&f->cfg, &f->repo, &f->err), 0);
}

static void
fetch_text(struct fixture *f, const char *coord_text, int expect)
{
	struct slice_coord coord;
	int rc;

	assert_int_equal(slice_coord_parse(coord_text, strlen(coord_text), &coord, NULL), 0);
	rc = slice_repo_fetch(f->repo, &coord, &f->art, &f->err);
	if (rc != expect) {
		fail_msg("fetch %s: %d (%s), expected %d", coord_text, rc,
			 rc < 0 ? f->err.text : "ok", expect);
	}
	if (rc < 0) {
		assert_int_equal(f->art.fd, -1);
		assert_int_equal(f->err.code, rc);
	}
}

/* A refused fetch: code, and a reason that names the file and contains words. */
static void
assert_refused(struct fixture *f, const char *coord_text, int code, const char *words)
{
	open_repo(f);
	fetch_text(f, coord_text, code);
	if (strstr(f->err.text, words) == NULL) {
		fail_msg("reason \"%s\" lacks \"%s\"", f->err.text, words);
	}
	assert_int_equal(slice_repo_cache_count(f->repo), 0);
}

/* The memfd is sealed every way and holds exactly the manifest's bytes. */
static void
assert_sealed_copy(const struct slice_artifact *art, const uint8_t *bytes, size_t size)
{
	struct stat st;
	uint8_t *copy = malloc(size);

	assert_non_null(copy);
	assert_int_equal(fcntl(art->fd, F_GET_SEALS),
			 F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	assert_int_equal(fstat(art->fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)size);
	assert_int_equal(pread(art->fd, copy, size, 0), (ssize_t)size);
	assert_memory_equal(copy, bytes, size);
	assert_true(base_hash128_equal(base_hash128(copy, size), art->manifest.xxh3_128));
	assert_int_equal(pwrite(art->fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(art->fd, 1), -1);
	free(copy);
}

static void
test_repo_fetch_verifies_and_seals_an_example_slice(void **state)
{
	struct fixture *f = *state;

	f->cfg.roots[0] = SLICES_EXAMPLE_REPO;
	open_repo(f);
	fetch_text(f, GREETER_1_0, 0);
	assert_false(f->art.is_from_cache);
	assert_int_equal(f->art.root_index, 0);
	assert_int_equal(f->art.manifest.size, f->greeter_size);
	assert_non_null(strstr(f->art.memfd_name, "aether-slice#"));
	assert_non_null(strstr(f->art.memfd_name, ":greeter-1.0.0"));
	assert_sealed_copy(&f->art, f->greeter, f->greeter_size);
	assert_int_equal(close(f->art.fd), 0);
	assert_int_equal(slice_repo_cache_count(f->repo), 1);
}

static void
test_repo_second_fetch_is_a_fresh_verified_copy_from_the_cache(void **state)
{
	struct fixture *f = *state;
	char first_name[SLICE_MEMFD_NAME_MAX + 1];
	struct stat a;
	struct stat b;
	int first;

	f->cfg.roots[0] = SLICES_EXAMPLE_REPO;
	open_repo(f);
	fetch_text(f, GREETER_1_0, 0);
	first = f->art.fd;
	memcpy(first_name, f->art.memfd_name, sizeof(first_name));
	fetch_text(f, GREETER_1_0, 0);
	assert_true(f->art.is_from_cache);
	assert_string_not_equal(first_name, f->art.memfd_name);
	/* Two instances must be two objects for the dynamic linker: two inodes. */
	assert_int_equal(fstat(first, &a), 0);
	assert_int_equal(fstat(f->art.fd, &b), 0);
	assert_true(a.st_ino != b.st_ino);
	assert_sealed_copy(&f->art, f->greeter, f->greeter_size);
	assert_int_equal(close(first), 0);
	assert_int_equal(close(f->art.fd), 0);
	slice_repo_cache_clear(f->repo);
	assert_int_equal(slice_repo_cache_count(f->repo), 0);
}

static void
test_repo_reads_in_small_chunks_with_several_requests_in_flight(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[3 * 1024 * 1024 + 123];

	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = (uint8_t)(i * 2654435761u >> 13);
	}
	trepo_put_so(f->root, "org.aether.test:big:1.0.0", big, sizeof(big));
	trepo_put_manifest(f->root, "org.aether.test:big:1.0.0", sizeof(big),
			   base_hash128(big, sizeof(big)), greet_entry, 1, NULL, 0);
	f->cfg.read_chunk_size = 4096;
	f->cfg.read_queue_depth = 16;
	open_repo(f);
	fetch_text(f, "org.aether.test:big:1.0.0", 0);
	assert_sealed_copy(&f->art, big, sizeof(big));
	assert_int_equal(close(f->art.fd), 0);
}

static void
test_repo_searches_roots_in_order(void **state)
{
	struct fixture *f = *state;

	f->cfg.roots[1] = SLICES_EXAMPLE_REPO;
	f->cfg.root_count = 2;
	open_repo(f);
	fetch_text(f, GREETER_1_0, 0);
	assert_int_equal(f->art.root_index, 1);
	assert_int_equal(close(f->art.fd), 0);
	/* Now the first root has it too: the local directory wins. */
	trepo_put_slice(f->root, GREETER_1_0, GREETER_SO, greet_entry, 1);
	open_repo(f);
	fetch_text(f, GREETER_1_0, 0);
	assert_int_equal(f->art.root_index, 0);
	assert_int_equal(close(f->art.fd), 0);
}

static void
test_repo_refuses_a_corrupt_artifact_without_falling_back(void **state)
{
	struct fixture *f = *state;

	trepo_put_slice(f->root, GREETER_1_0, GREETER_SO, greet_entry, 1);
	f->greeter[f->greeter_size / 2] ^= 0x01;
	trepo_put_so(f->root, GREETER_1_0, f->greeter, f->greeter_size);
	/* The example repository behind it has a good copy; corruption must not be hidden. */
	f->cfg.roots[1] = SLICES_EXAMPLE_REPO;
	f->cfg.root_count = 2;
	assert_refused(f, GREETER_1_0, -BASE_ERR_CHECKSUM, "does not match the manifest");
	assert_non_null(strstr(f->err.text, f->root));
}

static void
test_repo_refuses_truncated_longer_and_oversized_artifacts(void **state)
{
	struct fixture *f = *state;

	trepo_put_slice(f->root, GREETER_1_0, GREETER_SO, greet_entry, 1);
	trepo_put_so(f->root, GREETER_1_0, f->greeter, f->greeter_size - 100);
	assert_refused(f, GREETER_1_0, -BASE_ERR_TRUNCATED, "truncated");
	f->greeter = realloc(f->greeter, f->greeter_size + 1);
	assert_non_null(f->greeter);
	f->greeter[f->greeter_size] = 0;
	trepo_put_so(f->root, GREETER_1_0, f->greeter, f->greeter_size + 1);
	assert_refused(f, GREETER_1_0, -EBADMSG, "the manifest says");
	trepo_put_so(f->root, GREETER_1_0, f->greeter, f->greeter_size);
	f->cfg.artifact_size_max = 4096;
	assert_refused(f, GREETER_1_0, -EFBIG, "above the repository limit of 4096");
}

static void
test_repo_refuses_symbolic_links_anywhere_below_the_root(void **state)
{
	struct fixture *f = *state;
	char so[TREPO_PATH_MAX];
	char dir[TREPO_PATH_MAX + 64];
	char moved[TREPO_PATH_MAX + 72];

	trepo_put_slice(f->root, GREETER_1_0, GREETER_SO, greet_entry, 1);
	trepo_path(f->root, GREETER_1_0, ".so", so);
	assert_int_equal(unlink(so), 0);
	assert_int_equal(symlink(GREETER_SO, so), 0);
	assert_refused(f, GREETER_1_0, -ELOOP, "symbolic link");
	/* A real .so, but its version directory is a link to elsewhere. */
	assert_int_equal(unlink(so), 0);
	trepo_put_slice(f->root, GREETER_1_0, GREETER_SO, greet_entry, 1);
	(void)snprintf(dir, sizeof(dir), "%s/org/aether/examples/greeter/1.0.0", f->root);
	(void)snprintf(moved, sizeof(moved), "%s.real", dir);
	assert_int_equal(rename(dir, moved), 0);
	assert_int_equal(symlink(moved, dir), 0);
	assert_refused(f, GREETER_1_0, -ELOOP, "symbolic link");
}

static void
test_repo_refuses_manifests_that_lie_or_do_not_parse(void **state)
{
	struct fixture *f = *state;
	char path[TREPO_PATH_MAX];
	FILE *fp;

	/* A 1.2.0 directory holding 1.0.0's manifest. */
	trepo_put_slice(f->root, "org.aether.examples:greeter:1.2.0", GREETER_SO, greet_entry, 1);
	trepo_put_manifest(f->root, GREETER_1_0, f->greeter_size,
			   base_hash128(f->greeter, f->greeter_size), greet_entry, 1, NULL, 0);
	trepo_path(f->root, GREETER_1_0, ".manifest", path);
	{
		char other[TREPO_PATH_MAX];

		trepo_path(f->root, "org.aether.examples:greeter:1.2.0", ".manifest", other);
		assert_int_equal(rename(path, other), 0);
	}
	assert_refused(f, "org.aether.examples:greeter:1.2.0", -EBADMSG, "another coordinate");
	trepo_put_slice(f->root, GREETER_1_0, GREETER_SO, greet_entry, 1);
	fp = fopen(path, "a");
	assert_non_null(fp);
	fputs("garbage here\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_refused(f, GREETER_1_0, -EBADMSG, ".manifest:7:");
}

static void
test_repo_refuses_a_directory_and_reports_a_missing_artifact(void **state)
{
	struct fixture *f = *state;
	char so[TREPO_PATH_MAX];

	trepo_put_slice(f->root, GREETER_1_0, GREETER_SO, greet_entry, 1);
	trepo_path(f->root, GREETER_1_0, ".so", so);
	assert_int_equal(unlink(so), 0);
	assert_int_equal(mkdir(so, 0755), 0);
	assert_refused(f, GREETER_1_0, -EINVAL, "not a regular file");
	assert_refused(f, "org.aether.examples:nobody:1.0.0", -ENOENT, "not found in any of 1");
}

static void
test_repo_create_refuses_bad_configs(void **state)
{
	struct fixture *f = *state;
	struct slice_repo *repo = NULL;

	f->cfg.roots[0] = "/nonexistent/aether/repo";
	assert_int_equal(slice_repo_create(&f->cfg, &repo, &f->err), -ENOENT);
	assert_null(repo);
	assert_non_null(strstr(f->err.text, "/nonexistent/aether/repo"));
	f->cfg.roots[0] = f->root;
	f->cfg.read_chunk_size = 5000;
	assert_int_equal(slice_repo_create(&f->cfg, &repo, &f->err), -EINVAL);
	f->cfg.read_chunk_size = 0;
	f->cfg.root_count = 0;
	assert_int_equal(slice_repo_create(&f->cfg, &repo, &f->err), -EINVAL);
}

/* The SQLite/raft fault loop: fail the n-th allocation until create succeeds. */
static void
test_repo_create_cleans_up_after_every_failed_allocation(void **state)
{
	struct fixture *f = *state;
	long live = base_alloc_live();
	unsigned long n;

	for (n = 1;; n++) {
		int rc;

		base_alloc_fail_at(n);
		rc = slice_repo_create(&f->cfg, &f->repo, &f->err);
		base_alloc_fail_at(0);
		if (rc == 0) {
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(f->repo);
		assert_int_equal(base_alloc_live(), live);
	}
	assert_true(n > 1);
	slice_repo_destroy(f->repo);
	f->repo = NULL;
	assert_int_equal(base_alloc_live(), live);
}

static void
test_repo_resolves_a_slice_with_its_dependency(void **state)
{
	struct fixture *f = *state;
	struct slice_repo_index *index = malloc(sizeof(*index));
	struct slice_resolution *res = malloc(sizeof(*res));
	struct slice_resolve_error rerr;
	struct slice_version versions[4];
	struct slice_name name;
	struct slice_version_pattern pattern;

	assert_non_null(index);
	assert_non_null(res);
	f->cfg.roots[0] = SLICES_EXAMPLE_REPO;
	open_repo(f);
	slice_repo_index_init(index, f->repo);
	assert_int_equal(slice_name_parse("org.aether.examples:greeter", 27, &name, NULL), 0);
	assert_int_equal(slice_repo_index_ops.list_versions(index, &name, versions, 4), 2);
	assert_int_equal(slice_name_parse("org.aether.examples:welcome", 27, &name, NULL), 0);
	assert_int_equal(slice_version_pattern_parse("^1.0.0", 6, &pattern, NULL), 0);
	assert_int_equal(slice_repo_resolve(index, &name, &pattern, res, &rerr), 0);
	assert_int_equal(res->count, 2);
	/* The dependency first, at the highest version its pattern allows. */
	assert_string_equal(res->order[0].coord.name.artifact, "greeter");
	assert_int_equal(res->order[0].coord.version.minor, 1);
	assert_string_equal(res->order[1].coord.name.artifact, "welcome");
	assert_int_equal(slice_name_parse("org.aether.examples:nobody", 26, &name, NULL), 0);
	assert_int_equal(slice_repo_resolve(index, &name, &pattern, res, &rerr), -ENOENT);
	free(index);
	free(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_repo_fetch_verifies_and_seals_an_example_slice),
		T(test_repo_second_fetch_is_a_fresh_verified_copy_from_the_cache),
		T(test_repo_reads_in_small_chunks_with_several_requests_in_flight),
		T(test_repo_searches_roots_in_order),
		T(test_repo_refuses_a_corrupt_artifact_without_falling_back),
		T(test_repo_refuses_truncated_longer_and_oversized_artifacts),
		T(test_repo_refuses_symbolic_links_anywhere_below_the_root),
		T(test_repo_refuses_manifests_that_lie_or_do_not_parse),
		T(test_repo_refuses_a_directory_and_reports_a_missing_artifact),
		T(test_repo_create_refuses_bad_configs),
		T(test_repo_create_cleans_up_after_every_failed_allocation),
		T(test_repo_resolves_a_slice_with_its_dependency),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
