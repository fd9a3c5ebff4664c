/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the POSIX env's storage, with each of its two backends (io_uring and the synchronous
 * fallback), replaces objects atomically, appends in call order (creating the object), keeps
 * the per-name order of put, append, sync and load, reports every accepted operation as
 * exactly one completion with its token and op, refuses bad names, oversize data and full
 * queues (-EINVAL, -EFBIG, -ENOBUFS) without touching the disk or producing a completion,
 * reports I/O failures (a directory in the way, a full file system) as a completion status,
 * and loads what was put (also after a restart). Method: every case runs once per backend
 * (the "[io_uring]" and "[sync]" names); a real data directory in a mkdtemp scratch directory
 * whose whole listing is compared after each step (no temporary file may survive a completed
 * put, successful or not); completions are awaited with poll() on the ring's descriptor and a
 * timeout, never a sleep; the full file system is a 64 KiB tmpfs mounted in a private mount
 * namespace (skipped when the process may not create one). Without io_uring in the kernel the
 * "[io_uring]" cases are skipped, visibly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/err.h"
#include "env/env.h"
#include "env/env_posix.h"
#include "env_test.h"

#define QUEUE_MAX  4
#define WAIT_MS    5000
/* The tiny file system's size, and a write that cannot fit in it. */
#define TINY_FS    "size=64k,mode=0700"
#define TINY_WRITE (256u * 1024u)

struct fixture {
	enum env_posix_storage_backend backend;
	char dir[ENV_TEST_PATH_MAX];
	char data[ENV_TEST_PATH_MAX];
	struct env_posix_config cfg;
	struct env_posix *e;
	const struct env_ops *ops;
	long live_before;
};

static enum env_posix_storage_backend backend_uring = ENV_POSIX_STORAGE_URING;
/* Whether an env with the io_uring backend can be created here (main finds out). */
static bool uring_is_available;
static enum env_posix_storage_backend backend_sync = ENV_POSIX_STORAGE_SYNC;

/* The tiny tmpfs (main mounts it before any io_uring exists: unshare needs one thread). */
static char tiny_dir[ENV_TEST_PATH_MAX];
static bool has_tiny_fs;

static void
fixture_open(struct fixture *f)
{
	assert_int_equal(env_posix_create(&f->cfg, &f->e), 0);
	assert_int_equal(env_posix_storage_backend_get(f->e), f->backend);
	f->ops = env_posix_ops(f->e);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->backend = *(const enum env_posix_storage_backend *)*state;
	f->live_before = base_alloc_live();
	env_test_dir_make(f->dir, sizeof(f->dir));
	env_test_path_join(f->data, sizeof(f->data), f->dir, "data");
	env_test_config(&f->cfg, 1, f->data);
	f->cfg.completion_queue_max = QUEUE_MAX;
	f->cfg.storage_backend = f->backend;
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

/* Replaces the env with one made from f->cfg (changed by the caller). */
static void
fixture_reopen(struct fixture *f)
{
	env_posix_destroy(f->e);
	fixture_open(f);
}

static int
put_text(struct fixture *f, const char *name, const char *text, uint64_t token)
{
	return f->ops->storage_put(f->ops->ctx, name, (const uint8_t *)text, strlen(text), token);
}

static int
append_text(struct fixture *f, const char *name, const char *text, uint64_t token)
{
	return f->ops->storage_append(f->ops->ctx, name, (const uint8_t *)text, strlen(text),
				      token);
}

static int
sync_name(struct fixture *f, const char *name, uint64_t token)
{
	return f->ops->storage_sync(f->ops->ctx, name, token);
}

/* Waits for the kernel to finish a step of the io_uring backend (the sync one never waits). */
static void
wait_io(struct fixture *f)
{
	struct pollfd p = {.fd = env_posix_storage_fd(f->e), .events = POLLIN};

	assert_true(p.fd >= 0); /* the synchronous backend has nothing left to wait for */
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
}

/*
 * Makes the env finish every operation accepted so far without taking completions (a poll of
 * capacity 0 only makes progress), so a test can then look at the completion queue as it is.
 */
static void
wait_finished(struct fixture *f)
{
	uint64_t mark = env_posix_storage_mark(f->e);

	while (!env_posix_storage_reached(f->e, mark)) {
		assert_int_equal(f->ops->storage_poll(f->ops->ctx, NULL, 0), 0);
		if (!env_posix_storage_reached(f->e, mark)) {
			wait_io(f);
		}
	}
}

/* Takes exactly n completions into out, waiting for them; then none may be left. */
static void
collect(struct fixture *f, struct env_storage_completion *out, size_t n)
{
	struct env_storage_completion extra;
	size_t got = 0;

	for (;;) {
		got += f->ops->storage_poll(f->ops->ctx, out + got, n - got);
		if (got == n) {
			break;
		}
		wait_io(f);
	}
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, &extra, 1), 0);
}

/* The next completion must be exactly (token, op, status), and it must be the only one. */
static void
assert_one_completion(struct fixture *f, uint64_t token, enum env_storage_op op, int status)
{
	struct env_storage_completion c;

	collect(f, &c, 1);
	assert_true(c.token == token);
	assert_int_equal(c.op, op);
	assert_int_equal(c.status, status);
}

/* Nothing is queued and nothing is on its way. */
static void
assert_no_completion(struct fixture *f)
{
	struct env_storage_completion c;

	wait_finished(f);
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, &c, 1), 0);
}

static void
assert_loads(struct fixture *f, const char *name, const char *text)
{
	uint8_t buf[512];
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

static uint64_t
error_count(const struct fixture *f)
{
	struct env_posix_stats st;

	env_posix_stats_get(f->e, &st);
	return st.storage_error_count;
}

static uint64_t
dir_fsync_count(const struct fixture *f)
{
	struct env_posix_stats st;

	env_posix_stats_get(f->e, &st);
	return st.storage_dir_fsync_count;
}

/* ---- Round trips and order ---- */

static void
test_env_posix_storage_put_sync_load_round_trip(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put_text(f, "state", "hello, disk", 7), 0);
	assert_one_completion(f, 7, ENV_STORAGE_PUT, 0);
	assert_int_equal(sync_name(f, "state", 8), 0);
	assert_one_completion(f, 8, ENV_STORAGE_SYNC, 0);
	assert_loads(f, "state", "hello, disk");
	assert_data_dir_is(f, "state");
	assert_no_completion(f);
}

static void
test_env_posix_storage_append_creates_the_object_and_grows_it_in_order(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion c[3];

	assert_int_equal(append_text(f, "log", "one;", 1), 0);
	assert_int_equal(append_text(f, "log", "two;", 2), 0);
	assert_int_equal(append_text(f, "log", "", 3), 0); /* an empty append is a no-op */
	collect(f, c, 3);
	for (uint64_t i = 0; i < 3; i++) {
		/* One name: call order. */
		assert_true(c[i].token == i + 1);
		assert_int_equal(c[i].op, ENV_STORAGE_APPEND);
		assert_int_equal(c[i].status, 0);
	}
	assert_loads(f, "log", "one;two;");
	assert_data_dir_is(f, "log");
}

/* A put then appends queued back to back, none polled in between: the load sees all, in order. */
static void
test_env_posix_storage_put_then_appends_then_load_sees_all_in_order(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion c[QUEUE_MAX];

	assert_int_equal(append_text(f, "obj", "old tail, replaced;", 1), 0);
	assert_one_completion(f, 1, ENV_STORAGE_APPEND, 0);
	assert_int_equal(put_text(f, "obj", "base;", 2), 0);
	assert_int_equal(append_text(f, "obj", "a;", 3), 0);
	assert_int_equal(append_text(f, "obj", "b;", 4), 0);
	assert_int_equal(sync_name(f, "obj", 5), 0);
	/* Load first: it waits for the name's operations, whose completions stay queued. */
	assert_loads(f, "obj", "base;a;b;");
	collect(f, c, 4);
	for (uint64_t i = 0; i < 4; i++) {
		assert_true(c[i].token == i + 2);
		assert_int_equal(c[i].status, 0);
	}
	assert_int_equal(c[0].op, ENV_STORAGE_PUT);
	assert_int_equal(c[3].op, ENV_STORAGE_SYNC);
	assert_data_dir_is(f, "obj");
}

/*
 * Many operations on two names queued at once (the io_uring backend runs the names
 * concurrently): every token comes back exactly once with its op and status 0, each name's
 * completions come back in call order, and each object holds its records in call order.
 */
static void
test_env_posix_storage_tokens_come_back_exactly_once_with_their_op(void **state)
{
	enum { OPS = 48 };
	struct fixture *f = *state;
	struct env_storage_completion c[OPS];
	enum env_storage_op want[OPS];
	char expect[2][256] = {"", ""};
	uint64_t last[2] = {0, 0};
	bool seen[OPS] = {false};

	f->cfg.completion_queue_max = 64;
	fixture_reopen(f);
	for (uint64_t t = 0; t < OPS; t++) {
		const char *name = t % 2 == 0 ? "even" : "odd";
		char rec[8];

		snprintf(rec, sizeof(rec), "%02u;", (unsigned)t);
		if (t < 2 || t % 7 == 0) {
			want[t] = ENV_STORAGE_PUT;
			snprintf(expect[t % 2], sizeof(expect[0]), "%s", rec);
			assert_int_equal(put_text(f, name, rec, t), 0);
		} else if (t % 5 == 0) {
			want[t] = ENV_STORAGE_SYNC;
			assert_int_equal(sync_name(f, name, t), 0);
		} else {
			want[t] = ENV_STORAGE_APPEND;
			strncat(expect[t % 2], rec, sizeof(expect[0]) - strlen(expect[t % 2]) - 1);
			assert_int_equal(append_text(f, name, rec, t), 0);
		}
	}
	collect(f, c, OPS);
	for (size_t i = 0; i < OPS; i++) {
		uint64_t t = c[i].token;

		assert_true(t < OPS);
		assert_false(seen[t]);
		seen[t] = true;
		assert_int_equal(c[i].op, want[t]);
		assert_int_equal(c[i].status, 0);
		assert_true(t >= last[t % 2]); /* call order within a name */
		last[t % 2] = t;
	}
	assert_loads(f, "even", expect[0]);
	assert_loads(f, "odd", expect[1]);
	assert_data_dir_is(f, "even,odd");
}

/* A short out array takes the oldest completions first and leaves the rest queued. */
static void
test_env_posix_storage_poll_takes_the_oldest_first(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion c[QUEUE_MAX];

	assert_int_equal(put_text(f, "a", "1", 100), 0);
	assert_int_equal(append_text(f, "a", "2", 101), 0);
	assert_int_equal(sync_name(f, "a", 102), 0);
	wait_finished(f);
	assert_int_equal(f->ops->storage_poll(f->ops->ctx, c, 2), 2);
	assert_true(c[0].token == 100 && c[0].op == ENV_STORAGE_PUT);
	assert_true(c[1].token == 101 && c[1].op == ENV_STORAGE_APPEND);
	assert_one_completion(f, 102, ENV_STORAGE_SYNC, 0);
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

/* The seam's order covers load too: it sees a put accepted before it, polled or not. */
static void
test_env_posix_storage_load_sees_a_put_not_yet_polled(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put_text(f, "obj", "first", 1), 0);
	assert_one_completion(f, 1, ENV_STORAGE_PUT, 0);
	assert_int_equal(put_text(f, "obj", "second", 2), 0);
	assert_int_equal(append_text(f, "obj", "+", 3), 0);
	assert_loads(f, "obj", "second+");
	collect(f, (struct env_storage_completion[2]){0}, 2);
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
	assert_int_equal(append_text(f, name, ", longer", 2), 0);
	assert_one_completion(f, 2, ENV_STORAGE_APPEND, 0);
	assert_loads(f, name, "long name, longer");
	assert_data_dir_is(f, name);
}

/* What a node finds after a restart: a new env on the same directory loads the synced object. */
static void
test_env_posix_storage_object_survives_env_restart(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put_text(f, "snapshot", "kept across restart", 1), 0);
	assert_int_equal(append_text(f, "snapshot", ", grown", 2), 0);
	assert_int_equal(sync_name(f, "snapshot", 3), 0);
	/* Destroy finishes what was accepted, even unpolled. */
	fixture_reopen(f);
	assert_no_completion(f);
	assert_loads(f, "snapshot", "kept across restart, grown");
}

/*
 * A sync fsyncs the directory only when a put renamed or an append created an object since the
 * last directory fsync: appends to an existing object change no directory entry.
 */
static void
test_env_posix_storage_sync_fsyncs_the_directory_only_after_a_rename_or_create(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put_text(f, "x", "1", 1), 0);
	assert_int_equal(sync_name(f, "x", 2), 0);
	collect(f, (struct env_storage_completion[2]){0}, 2);
	assert_int_equal(dir_fsync_count(f), 1);
	assert_int_equal(append_text(f, "x", "2", 3), 0);
	assert_int_equal(sync_name(f, "x", 4), 0);
	collect(f, (struct env_storage_completion[2]){0}, 2);
	assert_int_equal(dir_fsync_count(f), 1);
	assert_int_equal(append_text(f, "y", "new", 5), 0); /* creates y */
	assert_int_equal(sync_name(f, "y", 6), 0);
	collect(f, (struct env_storage_completion[2]){0}, 2);
	assert_int_equal(dir_fsync_count(f), 2);
	assert_int_equal(sync_name(f, "x", 7), 0);
	assert_one_completion(f, 7, ENV_STORAGE_SYNC, 0);
	assert_int_equal(dir_fsync_count(f), 2);
}

/* ---- Refusals: nothing done, no completion ---- */

static void
test_env_posix_storage_bad_names_are_einval_and_change_nothing(void **state)
{
	struct fixture *f = *state;
	char too_long[ENV_STORAGE_NAME_MAX + 2];
	const char *bad[] = {"",      ".",      "..",      "a/b",   "../escape",
			     "Upper", "sp ace", ".hidden", too_long};
	char parent[1024];
	uint8_t buf[8];
	size_t size;

	memset(too_long, 'x', ENV_STORAGE_NAME_MAX + 1);
	too_long[ENV_STORAGE_NAME_MAX + 1] = '\0';
	for (size_t i = 0; i < AE_ARRAY_SIZE(bad); i++) {
		assert_int_equal(put_text(f, bad[i], "data", i), -EINVAL);
		assert_int_equal(append_text(f, bad[i], "data", i), -EINVAL);
		assert_int_equal(sync_name(f, bad[i], i), -EINVAL);
		assert_int_equal(f->ops->storage_load(f->ops->ctx, bad[i], buf, sizeof(buf), &size),
				 -EINVAL);
	}
	assert_no_completion(f);
	assert_data_dir_is(f, "");
	/* "../escape" did not land next to the data directory either. */
	env_test_dir_list(f->dir, parent, sizeof(parent));
	assert_string_equal(parent, "data");
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
	collect(f, (struct env_storage_completion[2]){0}, 2);
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "eight", buf, 7, &size), -EFBIG);
	/* An exact fit is not too big. */
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "eight", buf, 8, &size), 0);
	assert_int_equal(size, 8);
	assert_memory_equal(buf, "12345678", 8);
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "empty", NULL, 0, &size), 0);
	assert_int_equal(size, 0);
}

static void
test_env_posix_storage_data_over_object_max_is_efbig_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	static const uint8_t byte = 0;
	const size_t huge = (size_t)ENV_STORAGE_OBJECT_MAX + 1;

	/* The size is refused before a single byte of data is read. */
	assert_int_equal(f->ops->storage_put(f->ops->ctx, "huge", &byte, huge, 1), -EFBIG);
	assert_int_equal(f->ops->storage_append(f->ops->ctx, "huge", &byte, huge, 2), -EFBIG);
	assert_no_completion(f);
	assert_data_dir_is(f, "");
}

/* The object (sparse, made outside the env) is 4 bytes short of the seam's bound. */
static void
test_env_posix_storage_append_past_object_max_is_efbig_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char path[ENV_TEST_PATH_MAX];
	struct stat st;
	int fd;

	env_test_path_join(path, sizeof(path), f->data, "big");
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)ENV_STORAGE_OBJECT_MAX - 4), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(append_text(f, "big", "12345", 1), -EFBIG);
	assert_int_equal(append_text(f, "big", "1234", 2), 0);
	/* Refused while the accepted append is still in flight, and after it finished. */
	assert_int_equal(append_text(f, "big", "5", 3), -EFBIG);
	assert_one_completion(f, 2, ENV_STORAGE_APPEND, 0);
	assert_int_equal(append_text(f, "big", "5", 4), -EFBIG);
	assert_int_equal(append_text(f, "big", "", 5), 0); /* exactly at the bound */
	assert_one_completion(f, 5, ENV_STORAGE_APPEND, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, ENV_STORAGE_OBJECT_MAX);
	assert_data_dir_is(f, "big");
}

static void
test_env_posix_storage_full_completion_queue_is_enobufs_and_does_nothing(void **state)
{
	struct fixture *f = *state;
	struct env_storage_completion c[QUEUE_MAX];
	const char *names[QUEUE_MAX] = {"q0", "q1", "q2", "q3"};
	bool seen[QUEUE_MAX] = {false};

	for (uint64_t i = 0; i < QUEUE_MAX; i++) {
		assert_int_equal(put_text(f, names[i], "x", i), 0);
	}
	assert_int_equal(put_text(f, "late", "x", 99), -ENOBUFS);
	assert_int_equal(append_text(f, "late", "x", 98), -ENOBUFS);
	assert_int_equal(sync_name(f, "q0", 97), -ENOBUFS);
	/* Finished and still queued: the queue is full until polled. */
	wait_finished(f);
	assert_int_equal(append_text(f, "late", "x", 96), -ENOBUFS);
	assert_data_dir_is(f, "q0,q1,q2,q3");
	collect(f, c, QUEUE_MAX);
	for (size_t i = 0; i < QUEUE_MAX; i++) {
		assert_true(c[i].token < QUEUE_MAX);
		assert_false(seen[c[i].token]);
		seen[c[i].token] = true;
		assert_int_equal(c[i].status, 0);
	}
	/* Draining the queue is the only thing needed to go on. */
	assert_int_equal(put_text(f, "late", "x", 99), 0);
	assert_one_completion(f, 99, ENV_STORAGE_PUT, 0);
	assert_data_dir_is(f, "late,q0,q1,q2,q3");
}

/* io_uring only: the data of operations in flight lives in a buffer of storage_bytes_max. */
static void
test_env_posix_storage_full_data_buffer_is_enobufs_and_does_nothing(void **state)
{
	struct fixture *f = *state;

	f->cfg.storage_bytes_max = 16;
	fixture_reopen(f);
	assert_int_equal(put_text(f, "a", "0123456789", 1), 0);
	/* Nothing was polled, so the first put still holds its 10 bytes. */
	assert_int_equal(put_text(f, "b", "0123456789", 2), -ENOBUFS);
	assert_int_equal(append_text(f, "b", "0123456789", 3), -ENOBUFS);
	/* More than the whole buffer could never fit: refused for good. */
	assert_int_equal(put_text(f, "b", "0123456789abcdefg", 4), -EFBIG);
	assert_int_equal(append_text(f, "b", "0123456789abcdefg", 5), -EFBIG);
	assert_int_equal(append_text(f, "b", "012345", 6), 0); /* what fits goes in */
	collect(f, (struct env_storage_completion[2]){0}, 2);
	assert_data_dir_is(f, "a,b");
	assert_loads(f, "b", "012345");
	assert_int_equal(put_text(f, "b", "0123456789abcdef", 7), 0); /* all of it, once free */
	assert_one_completion(f, 7, ENV_STORAGE_PUT, 0);
	assert_loads(f, "b", "0123456789abcdef");
}

/* The expected contents of one object in the wrap test (a model of put and append). */
struct wrap_model {
	uint8_t bytes[4096];
	size_t size;
};

/* Takes every completion that is ready; each must be a success. */
static size_t
drain_successes(struct fixture *f)
{
	struct env_storage_completion c[8];
	size_t total = 0;
	size_t n;

	while ((n = f->ops->storage_poll(f->ops->ctx, c, AE_ARRAY_SIZE(c))) > 0) {
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(c[i].status, 0);
		}
		total += n;
	}
	return total;
}

/*
 * io_uring only: a data buffer far smaller than the traffic is reused around its end many
 * times (records of 1 to 24 bytes through 64 bytes, on three names at once, each call retried
 * after a poll while it is -ENOBUFS), and every object still holds exactly the bytes of its
 * puts and appends in call order: no copy landed on bytes still in flight. The record sizes
 * come from a fixed seed. Wraps depend on timing (about 45 per run here); a wrap that
 * reused bytes still in flight shows as mixed records when the kernel read them late.
 */
static void
test_env_posix_storage_small_data_buffer_wraps_without_mixing_data(void **state)
{
	static struct wrap_model model[3];
	static uint8_t got[4096];
	static const char *names[3] = {"w0", "w1", "w2"};
	struct fixture *f = *state;
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t done = 0;
	size_t size = 0;

	f->cfg.storage_bytes_max = 64;
	f->cfg.completion_queue_max = 16;
	fixture_reopen(f);
	memset(model, 0, sizeof(model));
	for (uint64_t t = 0; t < 300; t++) {
		struct wrap_model *m = &model[t % 3];
		uint8_t rec[24];
		size_t len;
		bool is_put;
		size_t n;
		int rc;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = 1 + (size_t)(x % sizeof(rec));
		is_put = x % 11 == 0 || m->size + len > sizeof(m->bytes);
		memset(rec, (int)('A' + t % 26), len);
		rec[0] = (uint8_t)t;
		for (;;) {
			rc = is_put ? f->ops->storage_put(f->ops->ctx, names[t % 3], rec, len, t)
				    : f->ops->storage_append(f->ops->ctx, names[t % 3], rec, len,
							     t);
			if (rc != -ENOBUFS) {
				break;
			}
			n = drain_successes(f);
			done += n;
			if (n == 0) {
				wait_io(f); /* nothing finished yet: something is still in flight */
			}
		}
		assert_int_equal(rc, 0);
		m->size = is_put ? 0 : m->size;
		memcpy(m->bytes + m->size, rec, len);
		m->size += len;
	}
	while (done < 300) {
		done += drain_successes(f);
		if (done < 300) {
			wait_io(f);
		}
	}
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(
			f->ops->storage_load(f->ops->ctx, names[i], got, sizeof(got), &size), 0);
		assert_int_equal(size, model[i].size);
		assert_memory_equal(got, model[i].bytes, size);
	}
}

/* ---- I/O failures: a negative status in the one completion ---- */

static void
test_env_posix_storage_sync_of_missing_object_completes_with_enoent(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(sync_name(f, "never-put", 5), 0);
	assert_one_completion(f, 5, ENV_STORAGE_SYNC, -ENOENT);
	assert_int_equal(error_count(f), 1);
}

/*
 * A directory sits where the object should be: the put's rename fails (and its temporary file
 * is removed), the append's open fails; neither changes the directory.
 */
static void
test_env_posix_storage_object_path_that_is_a_directory_fails_put_and_append(void **state)
{
	struct fixture *f = *state;
	char path[ENV_TEST_PATH_MAX];

	env_test_path_join(path, sizeof(path), f->data, "obj");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(put_text(f, "obj", "data", 3), 0);
	assert_one_completion(f, 3, ENV_STORAGE_PUT, -EISDIR);
	assert_int_equal(append_text(f, "obj", "data", 4), 0);
	assert_one_completion(f, 4, ENV_STORAGE_APPEND, -EISDIR);
	assert_data_dir_is(f, "obj");
	assert_int_equal(error_count(f), 2);
	/* The env goes on: another name works. */
	assert_int_equal(put_text(f, "other", "fine", 5), 0);
	assert_one_completion(f, 5, ENV_STORAGE_PUT, 0);
}

/*
 * A full file system: a put too large for it fails with -ENOSPC and leaves no temporary file
 * and the old object intact; an append fails with -ENOSPC, leaving the old contents and some
 * prefix of its data (the torn tail the seam warns about).
 */
static void
test_env_posix_storage_full_file_system_fails_put_and_append_with_enospc(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[TINY_WRITE];
	static uint8_t back[TINY_WRITE + 8];
	char data[ENV_TEST_PATH_MAX];
	size_t size = 0;

	if (!has_tiny_fs) {
		skip(); /* no private mount namespace for this process */
	}
	env_test_path_join(data, sizeof(data), tiny_dir,
			   env_posix_storage_backend_name(f->backend));
	f->cfg.data_dir = data;
	fixture_reopen(f);
	memcpy(f->data, data, sizeof(data)); /* assert_data_dir_is looks here now */
	memset(big, 'b', sizeof(big));
	assert_int_equal(put_text(f, "obj", "small", 1), 0);
	assert_one_completion(f, 1, ENV_STORAGE_PUT, 0);
	assert_int_equal(f->ops->storage_put(f->ops->ctx, "obj", big, sizeof(big), 2), 0);
	assert_one_completion(f, 2, ENV_STORAGE_PUT, -ENOSPC);
	assert_data_dir_is(f, "obj");
	assert_loads(f, "obj", "small");
	assert_int_equal(f->ops->storage_append(f->ops->ctx, "obj", big, sizeof(big), 3), 0);
	assert_one_completion(f, 3, ENV_STORAGE_APPEND, -ENOSPC);
	/* The object is its old contents followed by some prefix of the append, nothing else. */
	assert_int_equal(f->ops->storage_load(f->ops->ctx, "obj", back, sizeof(back), &size), 0);
	assert_true(size >= 5 && size < 5 + sizeof(big));
	assert_memory_equal(back, "small", 5);
	assert_memory_equal(back + 5, big, size - 5);
	assert_data_dir_is(f, "obj");
	assert_int_equal(error_count(f), 2);
	/* Back to the scratch directory, so teardown finds what it expects. */
	env_posix_destroy(f->e);
	env_test_dir_remove(data);
	env_test_path_join(f->data, sizeof(f->data), f->dir, "data");
	f->cfg.data_dir = f->data;
	fixture_open(f);
}

/* ---- The backend itself ---- */

static void
test_env_posix_storage_backend_is_reported_with_its_descriptor(void **state)
{
	struct fixture *f = *state;
	struct env_posix *e;
	uint64_t mark;

	if (f->backend == ENV_POSIX_STORAGE_URING) {
		assert_true(env_posix_storage_fd(f->e) >= 0);
	} else {
		assert_int_equal(env_posix_storage_fd(f->e), -1);
	}
	/* A mark is reached only once the operations before it have finished. */
	mark = env_posix_storage_mark(f->e);
	assert_true(env_posix_storage_reached(f->e, mark));
	assert_int_equal(put_text(f, "a", "1", 1), 0);
	mark = env_posix_storage_mark(f->e);
	assert_true(env_posix_storage_reached(f->e, mark) ==
		    (f->backend == ENV_POSIX_STORAGE_SYNC)); /* io_uring: nothing polled yet */
	wait_finished(f);
	assert_true(env_posix_storage_reached(f->e, mark));
	assert_one_completion(f, 1, ENV_STORAGE_PUT, 0);
	/* AUTO takes io_uring exactly when io_uring works here. */
	f->cfg.storage_backend = ENV_POSIX_STORAGE_AUTO;
	assert_int_equal(env_posix_create(&f->cfg, &e), 0);
	assert_int_equal(env_posix_storage_backend_get(e),
			 uring_is_available ? ENV_POSIX_STORAGE_URING : ENV_POSIX_STORAGE_SYNC);
	env_posix_destroy(e);
}

/* ---- main: the tiny file system, the io_uring probe, every case once per backend ---- */

static bool
write_text_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0) {
		return false;
	}
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	return close(fd) == 0 && ok;
}

/* Without CAP_SYS_ADMIN: a user namespace that maps our own ids, and a mount namespace. */
static bool
user_ns_enter(void)
{
	char uid_map[64];
	char gid_map[64];

	snprintf(uid_map, sizeof(uid_map), "%u %u 1", (unsigned)getuid(), (unsigned)getuid());
	snprintf(gid_map, sizeof(gid_map), "%u %u 1", (unsigned)getgid(), (unsigned)getgid());
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
		return false;
	}
	return write_text_file("/proc/self/setgroups", "deny") &&
	       write_text_file("/proc/self/uid_map", uid_map) &&
	       write_text_file("/proc/self/gid_map", gid_map);
}

/*
 * Mounts a 64 KiB tmpfs on a fresh directory in a private mount namespace of this process
 * only. Before anything else runs: unshare refuses a user namespace to a process with threads,
 * and io_uring may start kernel worker threads in this one.
 */
static void
tiny_fs_mount(void)
{
	snprintf(tiny_dir, sizeof(tiny_dir), "/tmp/aether-env-tiny-XXXXXX");
	if (mkdtemp(tiny_dir) == NULL) {
		tiny_dir[0] = '\0';
		return;
	}
	if (unshare(CLONE_NEWNS) != 0 && !user_ns_enter()) {
		return;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		return;
	}
	has_tiny_fs = mount("tmpfs", tiny_dir, "tmpfs", MS_NOSUID | MS_NODEV, TINY_FS) == 0;
}

static void
tiny_fs_unmount(void)
{
	if (has_tiny_fs) {
		(void)umount2(tiny_dir, MNT_DETACH);
	}
	if (tiny_dir[0] != '\0') {
		(void)rmdir(tiny_dir);
	}
}

static void
uring_probe(void)
{
	char dir[ENV_TEST_PATH_MAX];
	struct env_posix_config cfg;
	struct env_posix *e;

	env_test_dir_make(dir, sizeof(dir));
	env_test_config(&cfg, 1, dir);
	cfg.storage_backend = ENV_POSIX_STORAGE_URING;
	uring_is_available = env_posix_create(&cfg, &e) == 0;
	if (uring_is_available) {
		env_posix_destroy(e);
	} else {
		printf("# io_uring unavailable: the [io_uring] cases are skipped\n");
	}
	env_test_dir_remove(dir);
}

static void
skip_without_uring(void **state)
{
	(void)state;
	skip();
}

/* The io_uring case (skipped, without fixture, when io_uring is unavailable) and the sync one. */
#define URING_CASE(fn)                                                                           \
	{                                                                                        \
#fn " [io_uring]", uring_is_available ? fn : skip_without_uring,                 \
			uring_is_available ? setup : NULL, uring_is_available ? teardown : NULL, \
			&backend_uring                                                           \
	}
#define SYNC_CASE(fn)                                             \
	{                                                         \
#fn " [sync]", fn, setup, teardown, &backend_sync \
	}
#define BOTH(fn) URING_CASE(fn), SYNC_CASE(fn)

int
main(void)
{
	int rc;

	tiny_fs_mount();
	uring_probe();
	{
		const struct CMUnitTest tests[] = {
			BOTH(test_env_posix_storage_put_sync_load_round_trip),
			BOTH(test_env_posix_storage_append_creates_the_object_and_grows_it_in_order),
			BOTH(test_env_posix_storage_put_then_appends_then_load_sees_all_in_order),
			BOTH(test_env_posix_storage_tokens_come_back_exactly_once_with_their_op),
			BOTH(test_env_posix_storage_poll_takes_the_oldest_first),
			BOTH(test_env_posix_storage_put_replaces_atomically_and_leaves_no_tmp),
			BOTH(test_env_posix_storage_load_sees_a_put_not_yet_polled),
			BOTH(test_env_posix_storage_longest_valid_name_round_trips),
			BOTH(test_env_posix_storage_object_survives_env_restart),
			BOTH(test_env_posix_storage_sync_fsyncs_the_directory_only_after_a_rename_or_create),
			BOTH(test_env_posix_storage_bad_names_are_einval_and_change_nothing),
			BOTH(test_env_posix_storage_load_of_missing_object_is_enoent),
			BOTH(test_env_posix_storage_load_larger_than_capacity_is_efbig),
			BOTH(test_env_posix_storage_data_over_object_max_is_efbig_and_writes_nothing),
			BOTH(test_env_posix_storage_append_past_object_max_is_efbig_and_changes_nothing),
			BOTH(test_env_posix_storage_full_completion_queue_is_enobufs_and_does_nothing),
			URING_CASE(
				test_env_posix_storage_full_data_buffer_is_enobufs_and_does_nothing),
			URING_CASE(
				test_env_posix_storage_small_data_buffer_wraps_without_mixing_data),
			BOTH(test_env_posix_storage_sync_of_missing_object_completes_with_enoent),
			BOTH(test_env_posix_storage_object_path_that_is_a_directory_fails_put_and_append),
			BOTH(test_env_posix_storage_full_file_system_fails_put_and_append_with_enospc),
			BOTH(test_env_posix_storage_backend_is_reported_with_its_descriptor),
		};

		rc = cmocka_run_group_tests(tests, NULL, NULL);
	}
	tiny_fs_unmount();
	return rc;
}
