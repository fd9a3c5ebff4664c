/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of the ctl integration tests (suite ctl-int): a real operator socket server in
 * the test process on a socket in a fresh temporary directory, answering from a tiny in-memory
 * node backed by a real kv_store; a runner for the built aetherctl binary (path from the
 * AETHERCTL environment variable) that keeps polling the server while the child runs; raw
 * protocol clients for the cases aetherctl never produces; and a JSON checker that runs
 * python3 (AETHER_TEST_PYTHON) on aetherctl's output.
 *
 * Time is virtual: the server sees f->now_ns, which only tests advance, so timeouts are tested
 * without sleeping. Waiting for a child or for bytes uses poll() with a bound, never a sleep.
 */
#ifndef AETHER_TESTS_CTL_TEST_UTIL_H
#define AETHER_TESTS_CTL_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "consensus/kv_store.h"
#include "ctl/ctl_proto.h"
#include "ctl/ctl_server.h"

#define CTL_TEST_PATH_MAX    256
#define CTL_TEST_LOG_LINES   128
#define CTL_TEST_OUT_MAX     (64 * 1024)
#define CTL_TEST_CLIENT_BUF  (64 * 1024)
#define CTL_TEST_CLIENTS_MAX (CTL_SERVER_CONNECTIONS_MAX + 2)
/* The operator group of every test server: exists on Debian and holds neither root nor nobody. */
#define CTL_TEST_GROUP       "daemon"
#define CTL_TEST_NOBODY      65534u

/* A raw protocol client: a non-blocking socket and its own framing buffer. */
struct ctl_test_client {
	int fd;
	struct ctl_stream in;
	uint8_t buf[CTL_TEST_CLIENT_BUF];
};

/* What a finished aetherctl run printed and returned. */
struct ctl_test_run {
	int code; /* exit status, or 128 + signal */
	pid_t pid;
	char out[CTL_TEST_OUT_MAX];
	size_t out_size;
	char err[CTL_TEST_OUT_MAX];
	size_t err_size;
};

/* Credentials a child switches to before running aetherctl (needs root). */
struct ctl_test_ids {
	uid_t uid;
	gid_t gid;
	size_t group_count;
	gid_t groups[4];
};

struct ctl_test {
	char dir[32];       /* mkdtemp, mode 0755 so nobody can reach the socket */
	char sock_dir[40];  /* dir/run: the server creates it */
	char sock_path[64]; /* fits in sun_path */
	const char *aetherctl;
	const char *python;
	gid_t group_gid;
	uint64_t now_ns;
	struct ctl_server_config cfg;
	struct ctl_server *srv;
	/* The in-memory node. */
	struct kv_store *store;
	uint64_t log_index;
	bool defer_writes; /* answer puts and removes later, as consensus would */
	bool has_counters; /* STATUS carries refusal counters (udp, 1 .. 12), as aetherd's does */
	size_t list_page_max; /* KV_LIST pages hold at most this many keys (0: the request's) */
	bool list_writes;     /* a write lands before every KV_LIST page but the first */
	size_t list_pages;    /* KV_LIST requests served */
	bool has_deferred;
	struct ctl_ticket deferred_ticket;
	enum ctl_msg_type deferred_type;
	size_t deferred_key_size;
	size_t deferred_value_size;
	uint8_t deferred_key[CTL_KEY_MAX];
	uint8_t deferred_value[CTL_VALUE_MAX];
	uint8_t cmd_buf[CTL_VALUE_MAX + CTL_KEY_MAX + 64];
	uint8_t result_buf[CTL_VALUE_MAX + 64];
	struct ctl_response reply;
	/* Captured log lines. */
	size_t log_count;
	char log[CTL_TEST_LOG_LINES][BASE_LOG_LINE_MAX];
	/* The latest raw answer, its message copied as text. */
	struct ctl_response answer;
	char answer_text[CTL_MESSAGE_MAX + 1];
	struct ctl_test_client clients[CTL_TEST_CLIENTS_MAX];
	struct ctl_test_run run;
};

/* cmocka setup/teardown: temp dir, store, server listening on sock_path. */
int ctl_test_setup(void **state);
int ctl_test_teardown(void **state);

/* The config setup used, for creating a second server. */
void ctl_test_config(struct ctl_test *t, struct ctl_server_config *cfg);

/* Polls the server once at t->now_ns and completes a deferred write if one is waiting. */
void ctl_test_pump(struct ctl_test *t);

/* Runs aetherctl with args (NULL-terminated), as ids (NULL: as root), with AETHER_SOCKET set
 * to env_socket (NULL: unset), serving the socket until it exits. Result in t->run. */
void ctl_test_aetherctl(struct ctl_test *t, const struct ctl_test_ids *ids, const char *env_socket,
			const char *const *args);

/* Runs aetherctl --socket <sock_path> args... as root and checks the exit code. */
void ctl_test_aetherctl_ok(struct ctl_test *t, int code, const char *const *args);

/* Checks with python3 that text is exactly one JSON document d for which expr is true. */
void ctl_test_assert_json(struct ctl_test *t, const char *text, const char *expr);

/* True when some captured log line contains every one of the NULL-terminated needles. */
bool ctl_test_log_has(const struct ctl_test *t, const char *const *needles);

/* Raw clients: connect client i, send bytes or a request, read one answer (0) or EOF (-1). */
struct ctl_test_client *ctl_test_connect(struct ctl_test *t, size_t i);
void ctl_test_send(struct ctl_test_client *c, const void *data, size_t size);
void ctl_test_request(struct ctl_test_client *c, const struct ctl_request *req);
int ctl_test_answer(struct ctl_test *t, struct ctl_test_client *c);
/* True when the server closed c (after draining any answer bytes first is the caller's job). */
bool ctl_test_closed(struct ctl_test *t, struct ctl_test_client *c);
void ctl_test_disconnect(struct ctl_test_client *c);

/* Puts key=value straight into the store, as if a write had been committed. */
void ctl_test_store_put(struct ctl_test *t, const char *key, const char *value);

#endif /* AETHER_TESTS_CTL_TEST_UTIL_H */
