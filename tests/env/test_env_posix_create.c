/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: env_posix_create either returns a complete, valid seam table or fails with a clean
 * error that leaves no allocation and no open descriptor behind; and the table carries the
 * configured seed, log and a monotonic clock. Method: the SQLite/raft fault loop (fail the N-th
 * base_alloc for N = 1, 2, ... until create succeeds), bad configs one field at a time, real
 * failures of the operating system (port taken, missing parent directory, io_uring blocked by
 * seccomp in a child process), and descriptor and allocation counts before and after each
 * attempt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "env/env.h"
#include "env/env_posix.h"
#include "env_test.h"

struct fixture {
	char dir[ENV_TEST_PATH_MAX];
	char data[ENV_TEST_PATH_MAX]; /* dir/data, created by the env under test */
	struct env_posix_config cfg;
	long live_before;
	int fds_before;
};

struct log_capture {
	int line_count;
	char last[BASE_LOG_LINE_MAX];
};

static void
log_capture_sink(void *ctx, enum base_log_level level, const char *line)
{
	struct log_capture *c = ctx;

	(void)level;
	c->line_count++;
	snprintf(c->last, sizeof(c->last), "%s", line);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	env_test_dir_make(f->dir, sizeof(f->dir));
	env_test_path_join(f->data, sizeof(f->data), f->dir, "data");
	env_test_config(&f->cfg, 1, f->data);
	f->live_before = base_alloc_live();
	f->fds_before = env_test_fd_count();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	base_alloc_fail_at(0);
	env_test_dir_remove(f->dir);
	free(f);
	return 0;
}

/* Nothing allocated through base_alloc and no descriptor is left open since setup. */
static void
assert_nothing_leaked(const struct fixture *f)
{
	assert_int_equal(base_alloc_live(), f->live_before);
	assert_int_equal(env_test_fd_count(), f->fds_before);
}

static void
assert_create_fails(struct fixture *f, int expected)
{
	struct env_posix *e = NULL;

	assert_int_equal(env_posix_create(&f->cfg, &e), expected);
	assert_null(e);
	assert_nothing_leaked(f);
}

static void
test_env_posix_create_fails_cleanly_at_every_allocation_until_it_succeeds(void **state)
{
	struct fixture *f = *state;
	struct env_posix *e = NULL;
	int failures = 0;
	int rc = -ENOMEM;

	for (unsigned long n = 1; rc != 0; n++) {
		assert_true(n < 100); /* create makes a handful of allocations, not hundreds */
		base_alloc_fail_at(n);
		rc = env_posix_create(&f->cfg, &e);
		if (rc != 0) {
			assert_int_equal(rc, -ENOMEM);
			assert_true(base_alloc_injected());
			assert_null(e);
			assert_nothing_leaked(f);
			failures++;
		}
	}
	/* The success must be a real one: the armed failure never fired. */
	assert_false(base_alloc_injected());
	base_alloc_fail_at(0);
	assert_true(failures >= 1);
	assert_non_null(e);
	env_ops_assert_valid(env_posix_ops(e));
	env_posix_destroy(e);
	assert_nothing_leaked(f);
}

static void
test_env_posix_ops_table_is_valid_and_carries_seed_clock_and_log(void **state)
{
	struct fixture *f = *state;
	struct log_capture capture = {0};
	const struct env_ops *ops;
	struct env_posix *e;
	uint64_t t0;
	uint64_t t1;

	base_log_init(&f->cfg.log, log_capture_sink, &capture, BASE_LOG_DEBUG);
	f->cfg.seed = 0x1234567890abcdefULL;
	assert_int_equal(env_posix_create(&f->cfg, &e), 0);
	ops = env_posix_ops(e);
	env_ops_assert_valid(ops);
	assert_int_equal(ops->version, ENV_OPS_VERSION);
	assert_int_equal(ops->size, sizeof(struct env_ops));
	assert_ptr_equal(ops->ctx, e);
	assert_true(ops->seed(ops->ctx) == 0x1234567890abcdefULL);
	t0 = ops->now_ns(ops->ctx);
	t1 = ops->now_ns(ops->ctx);
	assert_true(t0 > 0);
	assert_true(t1 >= t0);
	assert_ptr_equal(ops->log.fn, log_capture_sink);
	assert_ptr_equal(ops->log.ctx, &capture);
	/* Create announces itself in one line, labelled as the fallback, naming its storage. */
	assert_int_equal(capture.line_count, 1);
	assert_non_null(strstr(capture.last, "fallback"));
	assert_non_null(
		strstr(capture.last, env_posix_storage_backend_get(e) == ENV_POSIX_STORAGE_URING
					     ? "storage=io_uring"
					     : "storage=sync fallback"));
	base_logf(&ops->log, BASE_LOG_INFO, "through the table");
	assert_int_equal(capture.line_count, 2);
	assert_string_equal(capture.last, "through the table");
	env_posix_destroy(e);
	assert_nothing_leaked(f);
}

/* The synchronous backend, when asked for, says so once: an operator must see the fallback. */
static void
test_env_posix_create_logs_a_configured_sync_storage_as_the_fallback(void **state)
{
	struct fixture *f = *state;
	struct log_capture capture = {0};
	struct env_posix *e;

	base_log_init(&f->cfg.log, log_capture_sink, &capture, BASE_LOG_DEBUG);
	f->cfg.storage_backend = ENV_POSIX_STORAGE_SYNC;
	assert_int_equal(env_posix_create(&f->cfg, &e), 0);
	assert_int_equal(env_posix_storage_backend_get(e), ENV_POSIX_STORAGE_SYNC);
	assert_int_equal(capture.line_count, 1);
	assert_non_null(strstr(capture.last, "storage=sync fallback (configured)"));
	env_posix_destroy(e);
	assert_nothing_leaked(f);
}

/* Makes io_uring_setup fail with ENOSYS in this process, as Docker's default profile does. */
static int
seccomp_block_io_uring(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = (unsigned short)AE_ARRAY_SIZE(filter), .filter = filter};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		return -1;
	}
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* The child's checks; returns 0 or the number of the first one that failed (no cmocka here). */
static int
child_without_io_uring(struct fixture *f)
{
	struct log_capture capture = {0};
	struct env_storage_completion c;
	const struct env_ops *ops;
	struct env_posix *e;

	if (seccomp_block_io_uring() != 0) {
		return 2;
	}
	f->cfg.storage_backend = ENV_POSIX_STORAGE_URING;
	if (env_posix_create(&f->cfg, &e) != -ENOSYS) {
		return 3; /* asked for io_uring explicitly: no silent fallback */
	}
	base_log_init(&f->cfg.log, log_capture_sink, &capture, BASE_LOG_DEBUG);
	f->cfg.storage_backend = ENV_POSIX_STORAGE_AUTO;
	if (env_posix_create(&f->cfg, &e) != 0) {
		return 4;
	}
	if (env_posix_storage_backend_get(e) != ENV_POSIX_STORAGE_SYNC || capture.line_count != 1 ||
	    strstr(capture.last, "storage=sync fallback (io_uring unavailable: ") == NULL) {
		return 5;
	}
	ops = env_posix_ops(e);
	if (ops->storage_put(ops->ctx, "obj", (const uint8_t *)"x", 1, 9) != 0 ||
	    ops->storage_poll(ops->ctx, &c, 1) != 1 || c.token != 9 || c.status != 0) {
		return 6;
	}
	env_posix_destroy(e);
	return 0;
}

/*
 * Where io_uring is blocked (seccomp, kernel.io_uring_disabled, an old kernel), AUTO takes the
 * synchronous fallback and says why in its one log line; URING refuses to start. The child
 * process carries the seccomp filter, so the rest of this program keeps io_uring.
 */
static void
test_env_posix_create_auto_falls_back_to_sync_storage_without_io_uring(void **state)
{
	struct fixture *f = *state;
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		_exit(child_without_io_uring(f));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_env_posix_create_rejects_each_bad_config_field(void **state)
{
	struct fixture *f = *state;
	const struct env_posix_config good = f->cfg;
	const uint32_t bad_cq[] = {0, 3, 24, 2 * ENV_POSIX_COMPLETION_QUEUE_MAX};
	const struct env_posix_addr a1 = {.ipv4 = env_posix_ipv4(127, 0, 0, 1), .port = 5001};
	const struct env_posix_addr a2 = {.ipv4 = env_posix_ipv4(127, 0, 0, 1), .port = 5002};

	for (size_t i = 0; i < AE_ARRAY_SIZE(bad_cq); i++) {
		f->cfg = good;
		f->cfg.completion_queue_max = bad_cq[i];
		assert_create_fails(f, -EINVAL);
	}
	f->cfg = good;
	f->cfg.send_queue_max = ENV_POSIX_SOCKET_QUEUE_MAX + 1;
	assert_create_fails(f, -EINVAL);
	f->cfg = good;
	f->cfg.recv_queue_max = ENV_POSIX_SOCKET_QUEUE_MAX + 1;
	assert_create_fails(f, -EINVAL);
	f->cfg = good;
	f->cfg.peer_count = ENV_POSIX_PEERS_MAX + 1;
	assert_create_fails(f, -EINVAL);
	f->cfg = good;
	f->cfg.storage_backend = (enum env_posix_storage_backend)3;
	assert_create_fails(f, -EINVAL);
	f->cfg = good;
	f->cfg.storage_bytes_max = ENV_POSIX_STORAGE_BYTES_MAX + 1;
	assert_create_fails(f, -EINVAL);
	f->cfg = good;
	f->cfg.data_dir = NULL;
	assert_create_fails(f, -EINVAL);
	f->cfg = good;
	f->cfg.data_dir = "";
	assert_create_fails(f, -EINVAL);
	f->cfg = good;
	f->cfg.peer_count = 1;
	f->cfg.peers[0] = (struct env_posix_peer){.node_id = 2, .addr = {.ipv4 = 0, .port = 1}};
	assert_create_fails(f, -EINVAL);
	f->cfg.peers[0] = (struct env_posix_peer){.node_id = 2, .addr = {.ipv4 = 1, .port = 0}};
	assert_create_fails(f, -EINVAL);
	f->cfg.peer_count = 2;
	f->cfg.peers[0] = (struct env_posix_peer){.node_id = 2, .addr = a1};
	f->cfg.peers[1] = (struct env_posix_peer){.node_id = 2, .addr = a2}; /* same id */
	assert_create_fails(f, -EINVAL);
	f->cfg.peers[1] = (struct env_posix_peer){.node_id = 3, .addr = a1}; /* same address */
	assert_create_fails(f, -EINVAL);
	/* A bad config is refused before anything touches the disk. */
	assert_int_equal(access(f->data, F_OK), -1);
}

static void
test_env_posix_create_makes_the_data_dir_with_mode_0750(void **state)
{
	struct fixture *f = *state;
	struct env_posix *e;
	struct stat st;
	mode_t old = umask(022);

	assert_int_equal(env_posix_create(&f->cfg, &e), 0);
	umask(old);
	assert_int_equal(stat(f->data, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	env_posix_destroy(e);
	/* An existing directory is reused as it is. */
	assert_int_equal(env_posix_create(&f->cfg, &e), 0);
	env_posix_destroy(e);
	assert_nothing_leaked(f);
}

static void
test_env_posix_create_fails_cleanly_when_the_port_is_taken(void **state)
{
	struct fixture *f = *state;
	struct env_posix *first;
	struct env_posix *second = NULL;
	long live;
	int fds;

	assert_int_equal(env_posix_create(&f->cfg, &first), 0);
	live = base_alloc_live();
	fds = env_test_fd_count();
	f->cfg.bind.port = env_posix_port(first);
	f->cfg.node_id = 2;
	/* No SO_REUSEADDR: two nodes on one port would steal each other's datagrams. */
	assert_int_equal(env_posix_create(&f->cfg, &second), -EADDRINUSE);
	assert_null(second);
	assert_int_equal(base_alloc_live(), live);
	assert_int_equal(env_test_fd_count(), fds);
	env_posix_destroy(first);
	assert_nothing_leaked(f);
}

static void
test_env_posix_create_fails_cleanly_when_the_data_dir_parent_is_missing(void **state)
{
	struct fixture *f = *state;
	char deep[ENV_TEST_PATH_MAX];

	env_test_path_join(deep, sizeof(deep), f->data, "child");
	f->cfg.data_dir = deep;
	assert_create_fails(f, -ENOENT);
}

static void
test_env_posix_create_fails_cleanly_when_the_data_dir_is_a_file(void **state)
{
	struct fixture *f = *state;
	int fd = open(f->data, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	assert_create_fails(f, -ENOTDIR);
}

static void
test_env_posix_queue_bounds_size_the_socket_buffers(void **state)
{
	struct fixture *f = *state;
	struct env_posix *e;
	int bytes = 0;
	socklen_t len = sizeof(bytes);

	f->cfg.send_queue_max = 4;
	f->cfg.recv_queue_max = 8;
	assert_int_equal(env_posix_create(&f->cfg, &e), 0);
	/* Linux doubles the value for its own bookkeeping; at least the request must be there. */
	assert_int_equal(getsockopt(env_posix_fd(e), SOL_SOCKET, SO_SNDBUF, &bytes, &len), 0);
	assert_true(bytes >= 4 * ENV_MSG_MAX);
	assert_int_equal(getsockopt(env_posix_fd(e), SOL_SOCKET, SO_RCVBUF, &bytes, &len), 0);
	assert_true(bytes >= 8 * ENV_MSG_MAX);
	env_posix_destroy(e);
	assert_nothing_leaked(f);
}

/* Peers in the config are usable as soon as create returns, without env_posix_set_peer. */
static void
test_env_posix_config_peers_are_usable_at_once(void **state)
{
	struct fixture *f = *state;
	char data_b[ENV_TEST_PATH_MAX];
	struct env_posix_config cfg_b;
	struct env_posix *a;
	struct env_posix *b;
	const struct env_ops *ops_a;
	const struct env_ops *ops_b;
	struct env_posix_addr addr;
	uint8_t buf[8];
	uint32_t peer = 0;
	size_t size = 0;
	struct pollfd p;

	env_test_path_join(data_b, sizeof(data_b), f->dir, "data_b");
	env_test_config(&cfg_b, 2, data_b);
	assert_int_equal(env_posix_create(&cfg_b, &b), 0);
	f->cfg.peer_count = 1;
	f->cfg.peers[0] = (struct env_posix_peer){.node_id = 2, .addr = env_test_addr_of(b)};
	assert_int_equal(env_posix_create(&f->cfg, &a), 0);
	addr = env_test_addr_of(a);
	assert_int_equal(env_posix_set_peer(b, 1, &addr), 0);
	ops_a = env_posix_ops(a);
	ops_b = env_posix_ops(b);
	assert_int_equal(ops_a->send(ops_a->ctx, 2, (const uint8_t *)"hi", 2), 0);
	p = (struct pollfd){.fd = env_posix_fd(b), .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(ops_b->recv(ops_b->ctx, &peer, buf, sizeof(buf), &size), 0);
	assert_int_equal(peer, 1);
	assert_int_equal(size, 2);
	env_posix_destroy(a);
	env_posix_destroy(b);
	assert_nothing_leaked(f);
}

static void
test_env_posix_dump_names_the_node_peers_and_counters(void **state)
{
	struct fixture *f = *state;
	struct env_posix *e;
	char *text = NULL;
	size_t text_size = 0;
	FILE *out = open_memstream(&text, &text_size);

	assert_non_null(out);
	f->cfg.node_id = 7;
	f->cfg.peer_count = 1;
	f->cfg.peers[0] = (struct env_posix_peer){
		.node_id = 9, .addr = {.ipv4 = env_posix_ipv4(10, 1, 2, 3), .port = 4242}};
	assert_int_equal(env_posix_create(&f->cfg, &e), 0);
	env_posix_dump(e, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(text, "node=7"));
	assert_non_null(strstr(text, "peer node=9 addr=10.1.2.3:4242"));
	assert_non_null(strstr(text, "recv_unknown=0"));
	free(text);
	env_posix_destroy(e);
	assert_nothing_leaked(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_env_posix_create_fails_cleanly_at_every_allocation_until_it_succeeds,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_ops_table_is_valid_and_carries_seed_clock_and_log, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_create_logs_a_configured_sync_storage_as_the_fallback, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_create_auto_falls_back_to_sync_storage_without_io_uring,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_posix_create_rejects_each_bad_config_field,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_create_makes_the_data_dir_with_mode_0750, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_create_fails_cleanly_when_the_port_is_taken, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_create_fails_cleanly_when_the_data_dir_parent_is_missing,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_create_fails_cleanly_when_the_data_dir_is_a_file, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_env_posix_queue_bounds_size_the_socket_buffers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_posix_config_peers_are_usable_at_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_env_posix_dump_names_the_node_peers_and_counters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
