/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the operator socket server enforces rabia.md 3d (2): directory 0750 and socket 0660
 * with the operator group, no second server on a live path, stale sockets removed, a
 * connection limit, a request size limit checked from the header, a read timeout per partial
 * frame, and answers that match requests even when pipelined or deferred.
 * Method: a real server on a socket in a temporary directory (ctl_test_util.h), driven by raw
 * protocol clients in the same process; time is virtual, so timeouts need no sleeping.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/bytes.h"
#include "ctl_test_util.h"

#define SECOND_NS 1000000000ull

static struct ctl_request
req_of(enum ctl_msg_type type, const char *key, const char *value, uint64_t id)
{
	struct ctl_request r = {.type = type, .request_id = id};

	if (key != NULL) {
		r.key = (const uint8_t *)key;
		r.key_size = strlen(key);
	}
	if (value != NULL) {
		r.value = (const uint8_t *)value;
		r.value_size = strlen(value);
	}
	r.limit = type == CTL_MSG_KV_LIST ? 10 : 0;
	if (type == CTL_MSG_KV_GET) {
		r.consistency = CTL_CONSISTENCY_LINEARIZABLE;
	} else if (type == CTL_MSG_KV_LIST) {
		r.consistency = CTL_CONSISTENCY_LOCAL;
	}
	return r;
}

static void
assert_answer(struct ctl_test *t, struct ctl_test_client *c, enum ctl_status status,
	      const char *text)
{
	assert_int_equal(ctl_test_answer(t, c), 0);
	assert_int_equal(t->answer.status, status);
	if (text != NULL && strstr(t->answer_text, text) == NULL) {
		fail_msg("answer '%s' lacks '%s'", t->answer_text, text);
	}
}

static void
test_ctl_server_makes_the_directory_0750_and_the_socket_0660(void **state)
{
	struct ctl_test *t = *state;
	struct stat st;

	assert_int_equal(stat(t->sock_dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_gid, t->group_gid);
	assert_int_equal(lstat(t->sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, t->group_gid);
	assert_string_equal(ctl_server_path(t->srv), t->sock_path);
}

static void
test_ctl_server_refuses_a_second_server_on_a_live_path(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_server_config cfg;
	struct ctl_server *second = NULL;
	char error[CTL_SERVER_ERROR_MAX];

	ctl_test_config(t, &cfg);
	assert_int_equal(ctl_server_create(&cfg, &second, error, sizeof(error)), -EADDRINUSE);
	assert_null(second);
	assert_non_null(strstr(error, "is in use by a running server"));
	assert_non_null(strstr(error, t->sock_path));
	/* The first server still serves. */
	assert_true(access(t->sock_path, F_OK) == 0);
	ctl_test_request(ctl_test_connect(t, 0), &(struct ctl_request){.type = CTL_MSG_STATUS});
	assert_answer(t, &t->clients[0], CTL_STATUS_OK, NULL);
}

/* A socket file nobody listens on, as a crashed node leaves behind. */
static void
make_stale_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	assert_int_equal(bind(fd, (const struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

static void
test_ctl_server_removes_a_stale_socket_and_starts(void **state)
{
	struct ctl_test *t = *state;
	const char *const removed[] = {"removed stale socket", NULL};
	char error[CTL_SERVER_ERROR_MAX];

	ctl_server_destroy(t->srv);
	t->srv = NULL;
	assert_int_equal(access(t->sock_path, F_OK), -1); /* destroy unlinked it */
	make_stale_socket(t->sock_path);
	assert_int_equal(ctl_server_create(&t->cfg, &t->srv, error, sizeof(error)), 0);
	assert_true(ctl_test_log_has(t, removed));
	ctl_test_request(ctl_test_connect(t, 0), &(struct ctl_request){.type = CTL_MSG_NODES});
	assert_answer(t, &t->clients[0], CTL_STATUS_OK, NULL);
	assert_int_equal(t->answer.node_count, 3);
}

static void
test_ctl_server_refuses_a_path_that_is_not_a_socket(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_server_config cfg;
	struct ctl_server *srv = NULL;
	char path[CTL_TEST_PATH_MAX];
	char error[CTL_SERVER_ERROR_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/file", t->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	ctl_test_config(t, &cfg);
	cfg.socket_path = path;
	assert_int_equal(ctl_server_create(&cfg, &srv, error, sizeof(error)), -EEXIST);
	assert_non_null(strstr(error, "is not a socket"));
	assert_int_equal(access(path, F_OK), 0); /* left alone */
}

static void
test_ctl_server_rejects_bad_configurations_clearly(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_server_config cfg;
	struct ctl_server *srv = NULL;
	char path[CTL_TEST_PATH_MAX];
	char error[CTL_SERVER_ERROR_MAX];

	ctl_test_config(t, &cfg);
	snprintf(path, sizeof(path), "%s/other.sock", t->dir);
	cfg.socket_path = path;
	cfg.operator_group = "no-such-group-here";
	assert_int_equal(ctl_server_create(&cfg, &srv, error, sizeof(error)), -ENOENT);
	assert_non_null(strstr(error, "operator group 'no-such-group-here' does not exist"));
	cfg.operator_group = NULL;
	cfg.socket_path = "/tmp/a-path-that-is-much-longer-than-a-unix-socket-address-may-be-"
			  "so-the-server-refuses-it-before-binding.sock";
	assert_int_equal(ctl_server_create(&cfg, &srv, error, sizeof(error)), -ENAMETOOLONG);
	cfg.socket_path = path;
	cfg.max_connections = CTL_SERVER_CONNECTIONS_MAX + 1;
	assert_int_equal(ctl_server_create(&cfg, &srv, NULL, 0), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing/parent/x.sock", t->dir);
	cfg.max_connections = 0;
	assert_int_equal(ctl_server_create(&cfg, &srv, error, sizeof(error)), -ENOENT);
	assert_non_null(strstr(error, "cannot create socket directory"));
	assert_null(srv);
}

static void
test_ctl_server_rejects_an_oversized_request_from_its_header(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	uint8_t header[CTL_FRAME_HEADER_SIZE];
	struct ctl_server_stats stats;
	size_t size;

	assert_int_equal(ctl_request_encode(&(struct ctl_request){.type = CTL_MSG_STATUS}, header,
					    sizeof(header), &size),
			 0);
	base_store_le32(header + 16, 70000);
	/* Only the header is sent: the body never comes, the answer does. */
	ctl_test_send(c, header, sizeof(header));
	assert_answer(t, c, CTL_STATUS_TOO_LARGE,
		      "request of 70020 bytes exceeds the limit of 65536 bytes");
	assert_true(ctl_test_closed(t, c));
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.bad_frames, 1);
	assert_int_equal(stats.connections, 0);
}

static void
test_ctl_server_times_out_a_partial_frame_after_5_s(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	uint8_t frame[64];
	struct ctl_server_stats stats;
	size_t size;

	assert_int_equal(ctl_request_encode(&(struct ctl_request){.type = CTL_MSG_NODES}, frame,
					    sizeof(frame), &size),
			 0);
	ctl_test_send(c, frame, 10);
	ctl_test_pump(t); /* accepted at now, 10 bytes read */
	t->now_ns += CTL_SERVER_READ_TIMEOUT_NS - 1;
	ctl_test_pump(t);
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.timeouts, 0);
	assert_int_equal(stats.connections, 1);
	t->now_ns += 1;
	assert_answer(t, c, CTL_STATUS_TIMEOUT, "request incomplete after 5000 ms (10 bytes");
	assert_true(ctl_test_closed(t, c));
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.timeouts, 1);
}

static void
test_ctl_server_closes_an_idle_connection_quietly(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	struct ctl_server_stats stats;

	ctl_test_pump(t);
	t->now_ns += CTL_SERVER_READ_TIMEOUT_NS;
	assert_true(ctl_test_closed(t, c));
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.connections, 0);
	assert_int_equal(stats.timeouts, 0);
}

static void
test_ctl_server_answers_garbage_and_other_versions_then_closes(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *a = ctl_test_connect(t, 0);
	struct ctl_test_client *b = ctl_test_connect(t, 1);
	uint8_t frame[64];
	size_t size;

	ctl_test_send(a, "GET / HTTP/1.0\r\n\r\n", 18);
	assert_answer(t, a, CTL_STATUS_BAD_REQUEST, "not an aether operator protocol frame");
	assert_int_equal(t->answer.type, CTL_MSG_NONE);
	assert_true(ctl_test_closed(t, a));
	assert_int_equal(ctl_request_encode(&(struct ctl_request){.type = CTL_MSG_STATUS}, frame,
					    sizeof(frame), &size),
			 0);
	frame[4] = 9;
	ctl_test_send(b, frame, size);
	assert_answer(t, b, CTL_STATUS_UNSUPPORTED,
		      "protocol version 9 is not supported (this node speaks version 2)");
	assert_true(ctl_test_closed(t, b));
}

static void
test_ctl_server_answers_a_malformed_body_and_keeps_the_connection(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	uint8_t frame[64];
	size_t size;

	assert_int_equal(
		ctl_request_encode(&(struct ctl_request){.type = CTL_MSG_STATUS, .request_id = 77},
				   frame, sizeof(frame), &size),
		0);
	frame[5] = CTL_MSG_KV_GET; /* a get without its key */
	ctl_test_send(c, frame, size);
	assert_answer(t, c, CTL_STATUS_BAD_REQUEST, "malformed kv_get request");
	assert_true(t->answer.request_id == 77);
	frame[5] = 42;
	ctl_test_send(c, frame, size);
	assert_answer(t, c, CTL_STATUS_BAD_REQUEST, "unknown request type 42");
	ctl_test_request(c, &(struct ctl_request){.type = CTL_MSG_STATUS, .request_id = 78});
	assert_answer(t, c, CTL_STATUS_OK, NULL);
	assert_true(t->answer.request_id == 78);
	assert_int_equal(t->answer.info.leader_id, 2);
}

static void
test_ctl_server_answers_pipelined_requests_in_order(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	uint8_t wire[256];
	size_t a;
	size_t b;
	struct ctl_request put = req_of(CTL_MSG_KV_PUT, "k", "v", 1);
	struct ctl_request get = req_of(CTL_MSG_KV_GET, "k", NULL, 2);

	assert_int_equal(ctl_request_encode(&put, wire, sizeof(wire), &a), 0);
	assert_int_equal(ctl_request_encode(&get, wire + a, sizeof(wire) - a, &b), 0);
	ctl_test_send(c, wire, a + b);
	assert_answer(t, c, CTL_STATUS_OK, NULL);
	assert_int_equal(t->answer.type, CTL_MSG_KV_PUT);
	assert_true(t->answer.request_id == 1);
	assert_answer(t, c, CTL_STATUS_OK, NULL);
	assert_int_equal(t->answer.type, CTL_MSG_KV_GET);
	assert_true(t->answer.request_id == 2);
	assert_int_equal(t->answer.value_size, 1);
}

static void
test_ctl_server_turns_away_the_17th_connection_as_busy(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_server_stats stats;
	struct ctl_test_client *extra;

	for (size_t i = 0; i < CTL_SERVER_CONNECTIONS_MAX; i++) {
		ctl_test_connect(t, i);
	}
	ctl_test_pump(t);
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.connections, CTL_SERVER_CONNECTIONS_MAX);
	extra = ctl_test_connect(t, CTL_SERVER_CONNECTIONS_MAX);
	assert_answer(t, extra, CTL_STATUS_BUSY, "every operator connection is in use");
	assert_true(ctl_test_closed(t, extra));
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.busy, 1);
	/* A freed slot is usable again. */
	ctl_test_disconnect(&t->clients[0]);
	ctl_test_pump(t);
	ctl_test_disconnect(extra);
	extra = ctl_test_connect(t, CTL_SERVER_CONNECTIONS_MAX);
	ctl_test_request(extra, &(struct ctl_request){.type = CTL_MSG_STATUS});
	assert_answer(t, extra, CTL_STATUS_OK, NULL);
}

static void
test_ctl_server_answers_a_deferred_write_when_it_commits(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	struct ctl_request put = req_of(CTL_MSG_KV_PUT, "deferred", "yes", 5);

	t->defer_writes = true;
	ctl_test_request(c, &put);
	assert_answer(t, c, CTL_STATUS_OK, NULL); /* ctl_test_pump replies on the next poll */
	assert_int_equal(t->answer.type, CTL_MSG_KV_PUT);
	assert_true(t->answer.request_id == 5);
	assert_true(t->answer.mod_index == 1);
}

/* Sends a write that the node defers and never completes on its own. */
static struct ctl_ticket
defer_one(struct ctl_test *t, struct ctl_test_client *c)
{
	struct ctl_server_stats stats;

	t->defer_writes = true;
	ctl_test_request(c, &(struct ctl_request){.type = CTL_MSG_KV_RM,
						  .request_id = 9,
						  .key = (const uint8_t *)"x",
						  .key_size = 1});
	for (int i = 0; i < 1000 && !t->has_deferred; i++) {
		assert_true(ctl_server_poll(t->srv, t->now_ns) >= 0);
	}
	assert_true(t->has_deferred);
	t->has_deferred = false; /* the test holds the ticket now */
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.requests, 1);
	return t->deferred_ticket;
}

static void
test_ctl_server_times_out_a_deferred_reply_and_stales_its_ticket(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	struct ctl_ticket ticket = defer_one(t, c);

	t->now_ns += CTL_SERVER_REPLY_TIMEOUT_NS;
	assert_answer(t, c, CTL_STATUS_TIMEOUT, "did not answer in time");
	assert_int_equal(t->answer.type, CTL_MSG_KV_RM);
	assert_true(t->answer.request_id == 9);
	ctl_response_reset(&t->reply, CTL_MSG_KV_RM, 0);
	assert_int_equal(ctl_server_reply(t->srv, ticket, &t->reply), -ENOENT);
	/* The connection goes on. */
	t->defer_writes = false;
	ctl_test_request(c, &(struct ctl_request){.type = CTL_MSG_STATUS});
	assert_answer(t, c, CTL_STATUS_OK, NULL);
}

static void
test_ctl_server_stales_a_ticket_when_the_caller_hangs_up(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	struct ctl_ticket ticket = defer_one(t, c);
	struct ctl_server_stats stats;

	ctl_test_disconnect(c);
	ctl_test_pump(t);
	ctl_server_stats(t->srv, &stats);
	assert_int_equal(stats.connections, 0);
	ctl_response_reset(&t->reply, CTL_MSG_KV_RM, 0);
	assert_int_equal(ctl_server_reply(t->srv, ticket, &t->reply), -ENOENT);
}

static void
test_ctl_server_logs_writes_with_pid_and_uid(void **state)
{
	struct ctl_test *t = *state;
	struct ctl_test_client *c = ctl_test_connect(t, 0);
	char pid[32];

	snprintf(pid, sizeof(pid), "pid=%d", (int)getpid());
	ctl_test_request(c, &(struct ctl_request){.type = CTL_MSG_KV_PUT,
						  .request_id = 3,
						  .key = (const uint8_t *)"a",
						  .key_size = 1});
	assert_answer(t, c, CTL_STATUS_OK, NULL);
	assert_true(ctl_test_log_has(t, (const char *const[]){"kv_put id=3", pid, "uid=0", NULL}));
}

static void
test_ctl_server_dump_names_the_path_and_counters(void **state)
{
	struct ctl_test *t = *state;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	ctl_test_request(ctl_test_connect(t, 0), &(struct ctl_request){.type = CTL_MSG_STATUS});
	assert_answer(t, &t->clients[0], CTL_STATUS_OK, NULL);
	ctl_server_dump(t->srv, f);
	fclose(f);
	assert_non_null(strstr(text, t->sock_path));
	assert_non_null(strstr(text, "connections=1/16 accepted=1 refused=0 busy=0 requests=1"));
	free(text);
}

static void
test_ctl_server_unlinks_its_socket_on_destroy(void **state)
{
	struct ctl_test *t = *state;

	assert_int_equal(access(t->sock_path, F_OK), 0);
	ctl_server_destroy(t->srv);
	t->srv = NULL;
	assert_int_equal(access(t->sock_path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, ctl_test_setup, ctl_test_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_ctl_server_makes_the_directory_0750_and_the_socket_0660),
		CASE(test_ctl_server_refuses_a_second_server_on_a_live_path),
		CASE(test_ctl_server_removes_a_stale_socket_and_starts),
		CASE(test_ctl_server_refuses_a_path_that_is_not_a_socket),
		CASE(test_ctl_server_rejects_bad_configurations_clearly),
		CASE(test_ctl_server_rejects_an_oversized_request_from_its_header),
		CASE(test_ctl_server_times_out_a_partial_frame_after_5_s),
		CASE(test_ctl_server_closes_an_idle_connection_quietly),
		CASE(test_ctl_server_answers_garbage_and_other_versions_then_closes),
		CASE(test_ctl_server_answers_a_malformed_body_and_keeps_the_connection),
		CASE(test_ctl_server_answers_pipelined_requests_in_order),
		CASE(test_ctl_server_turns_away_the_17th_connection_as_busy),
		CASE(test_ctl_server_answers_a_deferred_write_when_it_commits),
		CASE(test_ctl_server_times_out_a_deferred_reply_and_stales_its_ticket),
		CASE(test_ctl_server_stales_a_ticket_when_the_caller_hangs_up),
		CASE(test_ctl_server_logs_writes_with_pid_and_uid),
		CASE(test_ctl_server_dump_names_the_path_and_counters),
		CASE(test_ctl_server_unlinks_its_socket_on_destroy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
