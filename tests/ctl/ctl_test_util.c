/* SPDX-License-Identifier: Apache-2.0 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/log.h"
#include "consensus/kv_cmd.h"

/* Bound on any wait for a child or for bytes: generous for loaded CI machines. */
#define WAIT_MS 20000

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- The in-memory node ---- */

static void
capture_log(void *ctx, enum base_log_level level, const char *line)
{
	struct ctl_test *t = ctx;

	(void)level;
	if (t->log_count < CTL_TEST_LOG_LINES) {
		snprintf(t->log[t->log_count++], BASE_LOG_LINE_MAX, "%s", line);
	}
}

static enum ctl_status
status_of(enum kv_result_status s)
{
	switch (s) {
	case KV_RESULT_OK:
		return CTL_STATUS_OK;
	case KV_RESULT_NOT_FOUND:
		return CTL_STATUS_NOT_FOUND;
	case KV_RESULT_TOO_LARGE:
		return CTL_STATUS_TOO_LARGE;
	case KV_RESULT_FULL:
		return CTL_STATUS_FULL;
	default:
		return CTL_STATUS_INTERNAL;
	}
}

/* Applies a put or remove as the next log entry and fills resp from the store's result. */
static void
node_write(struct ctl_test *t, enum ctl_msg_type type, const uint8_t *key, size_t key_size,
	   const uint8_t *value, size_t value_size, struct ctl_response *resp)
{
	struct kv_cmd c = {.type = type == CTL_MSG_KV_PUT ? KV_CMD_PUT : KV_CMD_REMOVE,
			   .op_count = 1};
	struct kv_request req;
	struct kv_result res;
	size_t n;
	size_t rn;

	c.ops[0] = (struct kv_cmd_op){c.type, key, key_size, value, value_size, 0};
	assert_int_equal(kv_cmd_encode(&c, t->cmd_buf, sizeof(t->cmd_buf), &n), 0);
	t->log_index++;
	req = (struct kv_request){t->log_index, 1, t->log_index, t->cmd_buf, n};
	assert_int_equal(kv_store_apply(t->store, &req, t->result_buf, sizeof(t->result_buf), &rn),
			 0);
	assert_int_equal(kv_result_decode(t->result_buf, rn, &res), 0);
	if (res.status != KV_RESULT_OK) {
		ctl_response_error(resp, status_of(res.status),
				   res.status == KV_RESULT_NOT_FOUND
					   ? "key not found"
					   : kv_result_status_name(res.status));
		return;
	}
	resp->mod_index = res.mod_index;
}

/* The label of a local read: node 1, the store's applied index standing in for the slot. */
static void
node_label_local(const struct ctl_test *t, struct ctl_response *resp)
{
	resp->read.consistency = CTL_CONSISTENCY_LOCAL;
	resp->read.node_id = 1;
	resp->read.applied_slot = kv_store_applied_index(t->store);
}

/* A get "through the log" (one replica applying in order: linearizable), or a local one. */
static void
node_read(struct ctl_test *t, const struct ctl_request *req, struct ctl_response *resp)
{
	struct kv_store_value v;

	if (kv_store_read_local_nonlinearizable(t->store, req->key, req->key_size, &v) != 0) {
		ctl_response_error(resp, CTL_STATUS_NOT_FOUND, "key not found");
		return;
	}
	resp->value = v.value;
	resp->value_size = v.value_size;
	resp->mod_index = v.mod_index;
	resp->read.consistency = CTL_CONSISTENCY_LINEARIZABLE;
	if (req->consistency == CTL_CONSISTENCY_LOCAL) {
		node_label_local(t, resp);
	}
}

/* One page of a local listing from the store's scan, as aetherd answers it; list_page_max and
 * list_writes make pages short and the state move between them. */
static void
node_list(struct ctl_test *t, const struct ctl_request *req, struct ctl_response *resp)
{
	static struct kv_store_entry found[CTL_LIST_MAX];
	struct kv_scan scan = {req->key,        req->key_size, req->after,
			       req->after_size, req->limit,    SIZE_MAX};
	size_t n = 0;
	int more = 0;

	t->list_pages++;
	if (req->consistency != CTL_CONSISTENCY_LOCAL) {
		ctl_response_error(resp, CTL_STATUS_UNSUPPORTED, "local lists only");
		return;
	}
	if (t->list_writes && req->after_size > 0) {
		char key[32];

		snprintf(key, sizeof(key), "written-%zu", t->list_pages);
		ctl_test_store_put(t, key, "w");
	}
	if (t->list_page_max > 0 && scan.count_max > t->list_page_max) {
		scan.count_max = t->list_page_max;
	}
	assert_int_equal(kv_store_scan_local_nonlinearizable(t->store, &scan, found, &n, &more), 0);
	for (size_t i = 0; i < n; i++) {
		resp->entries[i] =
			(struct ctl_kv_entry){found[i].key, found[i].key_size, found[i].mod_index,
					      (uint32_t)found[i].value_size};
	}
	resp->entry_count = n;
	resp->has_more = more != 0;
	node_label_local(t, resp);
}

static void
node_status(struct ctl_test *t, struct ctl_response *resp)
{
	struct ctl_status_info *info = &resp->info;

	info->node_id = 1;
	info->cluster_id = 7;
	info->has_leader = true;
	info->leader_id = 2;
	info->term = 3;
	info->applied_slot = kv_store_applied_index(t->store);
	info->peer_count = 2;
	info->peers[0] = (struct ctl_peer_info){2, CTL_PEER_UP, 5};
	info->peers[1] = (struct ctl_peer_info){3, CTL_PEER_DOWN, CTL_NEVER};
	if (t->has_counters) {
		info->has_counters = true;
		info->transport = CTL_TRANSPORT_UDP;
		info->counters = (struct ctl_frame_counters){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	}
}

static void
node_nodes(struct ctl_response *resp)
{
	resp->node_count = 3;
	resp->nodes[0] = (struct ctl_node_info){1, CTL_PEER_UP, true, false, "127.0.0.1:7001", 14};
	resp->nodes[1] = (struct ctl_node_info){2, CTL_PEER_UP, false, true, "127.0.0.1:7002", 14};
	resp->nodes[2] =
		(struct ctl_node_info){3, CTL_PEER_DOWN, false, false, "127.0.0.1:7003", 14};
}

/* Keeps a write for later, as a node waiting for consensus would. */
static enum ctl_reply
node_defer(struct ctl_test *t, const struct ctl_request *req, struct ctl_ticket ticket)
{
	assert_false(t->has_deferred);
	t->has_deferred = true;
	t->deferred_ticket = ticket;
	t->deferred_type = req->type;
	t->deferred_key_size = req->key_size;
	t->deferred_value_size = req->value_size;
	memcpy(t->deferred_key, req->key, req->key_size);
	if (req->value_size > 0) {
		memcpy(t->deferred_value, req->value, req->value_size);
	}
	return CTL_REPLY_LATER;
}

static enum ctl_reply
node_handle(void *ctx, const struct ctl_request *req, const struct ctl_caller *caller,
	    struct ctl_ticket ticket, struct ctl_response *resp)
{
	struct ctl_test *t = ctx;

	assert_int_equal(resp->status, CTL_STATUS_OK);
	(void)caller;
	switch (req->type) {
	case CTL_MSG_STATUS:
		node_status(t, resp);
		break;
	case CTL_MSG_NODES:
		node_nodes(resp);
		break;
	case CTL_MSG_KV_PUT:
	case CTL_MSG_KV_RM:
		if (t->defer_writes) {
			return node_defer(t, req, ticket);
		}
		node_write(t, req->type, req->key, req->key_size, req->value, req->value_size,
			   resp);
		break;
	case CTL_MSG_KV_GET:
		node_read(t, req, resp);
		break;
	case CTL_MSG_KV_LIST:
		node_list(t, req, resp);
		break;
	default:
		fail_msg("unexpected request type %d", (int)req->type);
	}
	return CTL_REPLY_NOW;
}

void
ctl_test_pump(struct ctl_test *t)
{
	if (t->srv == NULL) {
		return; /* the case stopped the server */
	}
	assert_true(ctl_server_poll(t->srv, t->now_ns) >= 0);
	if (!t->has_deferred) {
		return;
	}
	t->has_deferred = false;
	ctl_response_reset(&t->reply, t->deferred_type, 0);
	node_write(t, t->deferred_type, t->deferred_key, t->deferred_key_size, t->deferred_value,
		   t->deferred_value_size, &t->reply);
	assert_int_equal(ctl_server_reply(t->srv, t->deferred_ticket, &t->reply), 0);
}

void
ctl_test_store_put(struct ctl_test *t, const char *key, const char *value)
{
	ctl_response_reset(&t->reply, CTL_MSG_KV_PUT, 0);
	node_write(t, CTL_MSG_KV_PUT, (const uint8_t *)key, strlen(key), (const uint8_t *)value,
		   strlen(value), &t->reply);
	assert_int_equal(t->reply.status, CTL_STATUS_OK);
}

/* ---- Setup ---- */

void
ctl_test_config(struct ctl_test *t, struct ctl_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_path = t->sock_path;
	cfg->operator_group = CTL_TEST_GROUP;
	base_log_init(&cfg->log, capture_log, t, BASE_LOG_DEBUG);
	cfg->handler = node_handle;
	cfg->handler_ctx = t;
}

static void
store_create(struct ctl_test *t)
{
	/* Room for more keys than one list page holds. */
	struct kv_store_config cfg = {
		.max_keys = CTL_LIST_MAX + 256,
		.max_key_size = KV_CMD_KEY_MAX,
		.max_value_size = CTL_VALUE_MAX,
		.data_budget_size = 512 * 1024,
		.max_clients = 4,
		.index_seed = 1,
	};

	assert_int_equal(kv_store_create(&cfg, &t->store), 0);
}

int
ctl_test_setup(void **state)
{
	struct ctl_test *t = calloc(1, sizeof(*t));
	struct group *g = getgrnam(CTL_TEST_GROUP);
	char error[CTL_SERVER_ERROR_MAX];

	assert_non_null(t);
	assert_non_null(g);
	t->group_gid = g->gr_gid;
	t->aetherctl = getenv("AETHERCTL");
	t->python = getenv("AETHER_TEST_PYTHON");
	assert_non_null(t->aetherctl);
	assert_non_null(t->python);
	snprintf(t->dir, sizeof(t->dir), "/tmp/aether-ctl-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	/* Others must reach the socket directory for the non-root cases. */
	assert_int_equal(chmod(t->dir, 0755), 0);
	snprintf(t->sock_dir, sizeof(t->sock_dir), "%s/run", t->dir);
	snprintf(t->sock_path, sizeof(t->sock_path), "%s/node.sock", t->sock_dir);
	for (size_t i = 0; i < CTL_TEST_CLIENTS_MAX; i++) {
		t->clients[i].fd = -1;
	}
	store_create(t);
	ctl_test_config(t, &t->cfg);
	t->now_ns = 1000000000ull;
	assert_int_equal(ctl_server_create(&t->cfg, &t->srv, error, sizeof(error)), 0);
	*state = t;
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
ctl_test_teardown(void **state)
{
	struct ctl_test *t = *state;

	for (size_t i = 0; i < CTL_TEST_CLIENTS_MAX; i++) {
		ctl_test_disconnect(&t->clients[i]);
	}
	ctl_server_destroy(t->srv);
	kv_store_destroy(t->store);
	assert_int_equal(nftw(t->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(t);
	return 0;
}

bool
ctl_test_log_has(const struct ctl_test *t, const char *const *needles)
{
	for (size_t i = 0; i < t->log_count; i++) {
		bool all = true;

		for (size_t k = 0; needles[k] != NULL && all; k++) {
			all = strstr(t->log[i], needles[k]) != NULL;
		}
		if (all) {
			return true;
		}
	}
	return false;
}

/* ---- Running aetherctl ---- */

static void
child_exec(const struct ctl_test *t, const struct ctl_test_ids *ids, const char *env_socket,
	   const char *const *args, int out_fd, int err_fd)
{
	const char *argv[32] = {"aetherctl"};
	char *mutable_argv[32];
	size_t n = 1;

	dup2(out_fd, 1);
	dup2(err_fd, 2);
	if (ids != NULL && (setgroups(ids->group_count, ids->groups) != 0 ||
			    setgid(ids->gid) != 0 || setuid(ids->uid) != 0)) {
		_exit(99);
	}
	if (env_socket != NULL) {
		setenv("AETHER_SOCKET", env_socket, 1);
	} else {
		unsetenv("AETHER_SOCKET");
	}
	while (args[n - 1] != NULL && n < 31) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	/* execv's prototype predates const; copy the pointers rather than cast them. */
	memcpy(mutable_argv, argv, sizeof(argv));
	execv(t->aetherctl, mutable_argv);
	_exit(98);
}

/* Appends what fd has to buf; returns false at EOF. */
static bool
drain(int fd, char *buf, size_t *size)
{
	ssize_t n = read(fd, buf + *size, CTL_TEST_OUT_MAX - 1 - *size);

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return true;
	}
	if (n <= 0) {
		return false;
	}
	*size += (size_t)n;
	buf[*size] = '\0';
	return true;
}

/* Serves the socket until the child has exited and closed both pipes. */
static void
serve_child(struct ctl_test *t, pid_t pid, int out_fd, int err_fd)
{
	struct ctl_test_run *r = &t->run;
	bool out_open = true;
	bool err_open = true;
	bool exited = false;
	uint64_t deadline = wall_ms() + WAIT_MS;
	int status = 0;

	while (out_open || err_open || !exited) {
		struct pollfd p[2] = {{.fd = out_open ? out_fd : -1, .events = POLLIN},
				      {.fd = err_open ? err_fd : -1, .events = POLLIN}};

		assert_true(wall_ms() < deadline);
		ctl_test_pump(t);
		(void)poll(p, 2, 1);
		if (out_open && p[0].revents != 0) {
			out_open = drain(out_fd, r->out, &r->out_size);
		}
		if (err_open && p[1].revents != 0) {
			err_open = drain(err_fd, r->err, &r->err_size);
		}
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = true;
		}
	}
	r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void
ctl_test_aetherctl(struct ctl_test *t, const struct ctl_test_ids *ids, const char *env_socket,
		   const char *const *args)
{
	int out[2];
	int err[2];
	pid_t pid;

	memset(&t->run, 0, sizeof(t->run));
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_exec(t, ids, env_socket, args, out[1], err[1]);
	}
	t->run.pid = pid;
	close(out[1]);
	close(err[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	serve_child(t, pid, out[0], err[0]);
	close(out[0]);
	close(err[0]);
}

void
ctl_test_aetherctl_ok(struct ctl_test *t, int code, const char *const *args)
{
	const char *full[24] = {"--socket", t->sock_path};
	size_t n = 2;

	while (args[n - 2] != NULL && n < 23) {
		full[n] = args[n - 2];
		n++;
	}
	full[n] = NULL;
	ctl_test_aetherctl(t, NULL, NULL, full);
	if (t->run.code != code) {
		print_error("aetherctl exit %d, wanted %d\nstdout: %s\nstderr: %s\n", t->run.code,
			    code, t->run.out, t->run.err);
	}
	assert_int_equal(t->run.code, code);
}

void
ctl_test_assert_json(struct ctl_test *t, const char *text, const char *expr)
{
	char code[2048];
	int in[2];
	int status = 0;
	pid_t pid;

	snprintf(code, sizeof(code),
		 "import json, sys\nd = json.loads(sys.stdin.read())\nsys.exit(0 if (%s) else 1)\n",
		 expr);
	assert_int_equal(pipe(in), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[1]);
		execl(t->python, "python3", "-c", code, (char *)NULL);
		_exit(98);
	}
	close(in[0]);
	assert_true(write(in[1], text, strlen(text)) == (ssize_t)strlen(text));
	close(in[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("JSON check failed: %s\non: %s\n", expr, text);
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- Raw clients ---- */

struct ctl_test_client *
ctl_test_connect(struct ctl_test *t, size_t i)
{
	struct ctl_test_client *c = &t->clients[i];
	struct sockaddr_un sa;

	assert_true(i < CTL_TEST_CLIENTS_MAX);
	assert_int_equal(c->fd, -1);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t->sock_path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
	ctl_stream_init(&c->in, c->buf, sizeof(c->buf));
	return c;
}

void
ctl_test_send(struct ctl_test_client *c, const void *data, size_t size)
{
	assert_true(send(c->fd, data, size, MSG_NOSIGNAL) == (ssize_t)size);
}

void
ctl_test_request(struct ctl_test_client *c, const struct ctl_request *req)
{
	static uint8_t buf[CTL_REQUEST_MAX];
	size_t size;

	assert_int_equal(ctl_request_encode(req, buf, sizeof(buf), &size), 0);
	ctl_test_send(c, buf, size);
}

/* Decodes the first buffered frame into t->answer (message copied) and drops it. */
static void
take_answer(struct ctl_test *t, struct ctl_test_client *c, const struct ctl_frame *frame)
{
	assert_int_equal(ctl_response_decode(frame, &t->answer), 0);
	snprintf(t->answer_text, sizeof(t->answer_text), "%.*s", (int)t->answer.message_size,
		 t->answer.message != NULL ? t->answer.message : "");
	t->answer.message = NULL;
	t->answer.value = NULL;
	ctl_stream_consume(&c->in, frame->size);
}

int
ctl_test_answer(struct ctl_test *t, struct ctl_test_client *c)
{
	uint64_t deadline = wall_ms() + WAIT_MS;

	for (;;) {
		struct ctl_frame frame;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		size_t space;
		uint8_t *dst;
		ssize_t n;

		if (ctl_stream_next(&c->in, &frame) == 1) {
			take_answer(t, c, &frame);
			return 0;
		}
		assert_true(wall_ms() < deadline);
		ctl_test_pump(t);
		dst = ctl_stream_space(&c->in, &space);
		n = recv(c->fd, dst, space, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			return -1;
		}
		if (n > 0) {
			ctl_stream_commit(&c->in, (size_t)n);
		} else {
			(void)poll(&p, 1, 1);
		}
	}
}

bool
ctl_test_closed(struct ctl_test *t, struct ctl_test_client *c)
{
	for (int i = 0; i < 20; i++) {
		uint8_t byte;
		ssize_t n;

		ctl_test_pump(t);
		n = recv(c->fd, &byte, 1, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			return true;
		}
		if (n > 0) {
			return false; /* unexpected bytes */
		}
	}
	return false;
}

void
ctl_test_disconnect(struct ctl_test_client *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}
