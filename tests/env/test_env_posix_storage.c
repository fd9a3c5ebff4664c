/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the POSIX env's storage replaces objects atomically, reports every outcome as exactly
 * one completion, refuses bad names and a full completion queue without touching the disk, and
 * loads what was put (also after a restart). Method: a real data directory in a mkdtemp scratch
 * directory; after each step the whole directory listing is compared with what must be there
 * (no temporary file may survive a completed put, successful or not).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "base/alloc.h"
#include "base/err.h"
#include "env/env.h"
#include "env/env_posix.h"
#include "env_test.h"

#define QUEUE_MAX 4

struct fixture {
	char dir[ENV_TEST_PATH_MAX];
	char data[ENV_TEST_PATH_MAX];
	struct env_posix_config cfg;
	struct env_posix *e;
	const struct env_ops *ops;
	long live_before;
};

static void
fixture_open(struct fixture *f)
{
	assert_int_equal(env_posix_create(&f->cfg, &f->e), 0);
	f->ops = env_posix_ops(f->e);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->live_before = base_alloc_live();
	env_test_dir_make(f->dir, sizeof(f->dir));
	env_test_path_join(f->data, sizeof(f->data), f->dir, "data");
	env_test_config(&f->cfg, 1, f->data);
	f->cfg.completion_queue_max = QUEUE_MAX;
	fixture_open(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	env_posix_destroy(f->e);
	assert_int_equal(base_alloc_live(), f->live_before);
	env_test_dir_remove(f->dir);
	free(f);
	return 0;
}

static int
put_text(struct fixture *f, const char *name, const char *text, uint64_t token)
{
	return f->ops->storage_put(f->ops->ctx, name, (const uint8_t *)text, strlen(text), token);
}

/* The next completion must be exactly (token, op, status), and it must be the only one. */
static void
assert_one_completion(struct fixture *f, uint64_t token, enum env_storage_op op, int status)
{
	struct env_storage_completion c[QUEUE_MAX];

	assert_int_equal(f->ops->storage_poll(f->ops->ctx, c, AE_ARRAY_SIZE(c)), 1);
	assert_true(c[0].token == token);
	assert_int_equal(c[0].op, op);
	assert_int_equal(c[0].status, status);
}

static void
assert_loads(struct fixture *f, const char *name, const char *text)
{
	uint8_t buf[256];
	size_t size = 0;

	assert_int_equal(f->ops->storage_load(f->ops->ctx, name, buf, sizeof(buf), &size), 0);
	assert_int_equal(size, strlen(text));
	assert_memory_equal(buf, text, size);
}

static void
assert_data_dir_is(const struct fixture *f, const char *listing)
{
	char got[1024];

	env_test_dir_list(f->data, got, sizeof(got));
	assert_string_equal(got, listing);
}

static void
test_env_posix_storage_put_sync_load_round_trip(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put_text(f, "state", "hello, disk", 7), 0);
	assert_one_completion(f, 7, ENV_STORAGE_PUT, 0);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "state", 8), 0);
	assert_one_completion(f, 8, ENV_STORAGE_SYNC, 0);
	assert_loads(f, "state", "hello, disk");
	assert_data_dir_is(f, "state");
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, NULL, 0), 0);
}

static void
test_env_posix_storage_completions_come_back_in_order(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion c[QUEUE_MAX];

	assert_int_equal(put_text(f, "a", "1", 100), 0);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "a", 101), 0);
	assert_int_equal(put_text(f, "b", "2", 102), 0);
	/* A short out array takes the oldest first and leaves the rest queued. */
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, c, 2), 2);
	assert_true(c[0].token == 100 && c[0].op == ENV_STORAGE_PUT);
	assert_true(c[1].token == 101 && c[1].op == ENV_STORAGE_SYNC);
	assert_one_completion(f, 102, ENV_STORAGE_PUT, 0);
}

/*
 * The replace is a rename of a new file, not a rewrite in place: a descriptor opened on the old
 * object still reads the old bytes, the name reads the new ones, and no temporary file is left.
 */
static void
test_env_posix_storage_put_replaces_atomically_and_leaves_no_tmp(void **state)
{
	struct fixture *f = *state;
	char path[ENV_TEST_PATH_MAX];
	char old[32] = {0};
	int fd;

	assert_int_equal(put_text(f, "obj", "version one, the longer", 1), 0);
	assert_one_completion(f, 1, ENV_STORAGE_PUT, 0);
	env_test_path_join(path, sizeof(path), f->data, "obj");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(put_text(f, "obj", "version two", 2), 0);
	assert_one_completion(f, 2, ENV_STORAGE_PUT, 0);
	assert_loads(f, "obj", "version two");
	assert_int_equal(read(fd, old, sizeof(old) - 1), 23);
	assert_string_equal(old, "version one, the longer");
	assert_int_equal(close(fd), 0);
	assert_data_dir_is(f, "obj");
}

static void
test_env_posix_storage_bad_names_are_einval_and_change_nothing(void **state)
{
	struct fixture *f = *state;
	char too_long[ENV_STORAGE_NAME_MAX + 2];
	const char *bad[] = {"",      ".",      "..",      "a/b",   "../escape",
			     "Upper", "sp ace", ".hidden", too_long};
	uint8_t buf[8];
	size_t size;

	memset(too_long, 'x', ENV_STORAGE_NAME_MAX + 1);
	too_long[ENV_STORAGE_NAME_MAX + 1] = '\0';
	for (size_t i = 0; i < AE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(put_text(f, bad[i], "data", i), -EINVAL);
		assert_int_equal(f->ops->storage_sync(f->ops->ctx, bad[i], i), -EINVAL);
		assert_int_equal(f->ops->storage_load(f->ops->ctx, bad[i], buf, sizeof(buf), &size),
				 -EINVAL);
	}
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, NULL, 0), 0);
	char parent[1024];

	assert_data_dir_is(f, "");
	/* "../escape" did not land next to the data directory either. */
	env_test_dir_list(f->dir, parent, sizeof(parent));
	assert_string_equal(parent, "data");
}

static void
test_env_posix_storage_longest_valid_name_round_trips(void **state)
{
	struct fixture *f = *state;
	char name[ENV_STORAGE_NAME_MAX + 1];

	memset(name, 'n', ENV_STORAGE_NAME_MAX);
	name[ENV_STORAGE_NAME_MAX] = '\0';
	assert_int_equal(put_text(f, name, "long name", 1), 0);
	assert_one_completion(f, 1, ENV_STORAGE_PUT, 0);
	assert_loads(f, name, "long name");
	assert_data_dir_is(f, name);
}

static void
test_env_posix_storage_load_of_missing_object_is_enoent(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[8];
	size_t size;

	assert_int_equal(f->ops->storage_load(f->ops->ctx, "nothing", buf, sizeof(buf), &size),
			 -ENOENT);
}

static void
test_env_posix_storage_load_larger_than_capacity_is_efbig(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[16];
	size_t size = 0;

	assert_int_equal(put_text(f, "eight", "12345678", 1), 0);
	assert_int_equal(put_text(f, "empty", "", 2), 0);
	assert_int_equal(
		f->ops->storage_poll(f->ops->ctx, (struct env_storage_completion[2]){0}, 2), 2);
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "eight", buf, 7, &size), -EFBIG);
	/* An exact fit is not too big. */
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "eight", buf, 8, &size), 0);
	assert_int_equal(size, 8);
	assert_memory_equal(buf, "12345678", 8);
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "empty", NULL, 0, &size), 0);
	assert_int_equal(size, 0);
}

static void
test_env_posix_storage_put_over_object_max_is_efbig_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	static const uint8_t byte = 0;

	/* The size is refused before a single byte of data is read. */
	assert_int_equal(f->ops->storage_put(f->ops->ctx, "huge", &byte,
					     (size_t)ENV_STORAGE_OBJECT_MAX + 1, 1),
			 -EFBIG);
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, NULL, 0), 0);
	assert_data_dir_is(f, "");
}

static void
test_env_posix_storage_full_completion_queue_is_enobufs_and_does_nothing(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion c[QUEUE_MAX];
	const char *names[QUEUE_MAX] = {"q0", "q1", "q2", "q3"};

	for (uint64_t i = 0; i < QUEUE_MAX; i++) {
		assert_int_equal(put_text(f, names[i], "x", i), 0);
	}
	assert_int_equal(put_text(f, "late", "x", 99), -ENOBUFS);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "q0", 98), -ENOBUFS);
	assert_data_dir_is(f, "q0,q1,q2,q3");
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, c, AE_ARRAY_SIZE(c)), QUEUE_MAX);
	for (uint64_t i = 0; i < QUEUE_MAX; i++) {
		assert_true(c[i].token == i);
		assert_int_equal(c[i].status, 0);
	}
	/* Draining the queue is the only thing needed to go on. */
	assert_int_equal(put_text(f, "late", "x", 99), 0);
	assert_one_completion(f, 99, ENV_STORAGE_PUT, 0);
}

static void
test_env_posix_storage_sync_of_missing_object_completes_with_enoent(void **state)
{
	struct fixture *f = *state;
	struct env_posix_stats st;

	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "never-put", 5), 0);
	assert_one_completion(f, 5, ENV_STORAGE_SYNC, -ENOENT);
	env_posix_stats_get(f->e, &st);
	assert_int_equal(st.storage_error_count, 1);
}

/*
 * An I/O failure arrives as the completion status, and the failed put leaves neither a
 * temporary file nor a change to the object: here a directory sits where the object should be,
 * so the rename fails.
 */
static void
test_env_posix_storage_failed_put_reports_status_and_removes_its_tmp(void **state)
{
	struct fixture *f = *state;
	char path[ENV_TEST_PATH_MAX];
	struct env_posix_stats st;

	env_test_path_join(path, sizeof(path), f->data, "obj");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(put_text(f, "obj", "data", 3), 0);
	assert_one_completion(f, 3, ENV_STORAGE_PUT, -EISDIR);
	assert_data_dir_is(f, "obj");
	env_posix_stats_get(f->e, &st);
	assert_int_equal(st.storage_error_count, 1);
}

/* What a node finds after a restart: a new env on the same directory loads the synced object. */
static void
test_env_posix_storage_object_survives_env_restart(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put_text(f, "snapshot", "kept across restart", 1), 0);
	assert_int_equal(f->ops->storage_sync(f->ops->ctx, "snapshot", 2), 0);
	env_posix_destroy(f->e);
	fixture_open(f);
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, NULL, 0), 0);
	assert_loads(f, "snapshot", "kept across restart");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_env_posix_storage_put_sync_load_round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_completions_come_back_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_put_replaces_atomically_and_leaves_no_tmp, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_bad_names_are_einval_and_change_nothing, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_longest_valid_name_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_load_of_missing_object_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_load_larger_than_capacity_is_efbig, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_put_over_object_max_is_efbig_and_writes_nothing,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_full_completion_queue_is_enobufs_and_does_nothing,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_sync_of_missing_object_completes_with_enoent, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_storage_failed_put_reports_status_and_removes_its_tmp, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_env_posix_storage_object_survives_env_restart,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
