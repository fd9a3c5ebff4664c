/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the failure detector (node_peers.h) passes every env call through unchanged, notes when
 * each peer last delivered a datagram, derives unknown/up/suspect/down from the silence with
 * the configured thresholds, ignores senders that are not peers (counting them), and logs each
 * state change exactly once.
 * Method: a fake inner env with a virtual clock and a queue of scripted datagrams; the log sink
 * counts lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_peers.h"

#define MS 1000000ull

struct fake_msg {
	uint32_t from;
	uint8_t byte;
};

struct fixture {
	struct env_ops inner;
	uint64_t now_ns;
	struct fake_msg queue[8];
	size_t queue_count;
	size_t queue_head;
	uint32_t last_send_peer;
	size_t last_send_size;
	size_t storage_calls;
	size_t log_lines;
	struct node_peers peers;
};

static uint64_t
fake_now(void *ctx)
{
	return ((struct fixture *)ctx)->now_ns;
}

static uint64_t
fake_seed(void *ctx)
{
	(void)ctx;
	return 42;
}

static int
fake_send(void *ctx, uint32_t peer_id, const uint8_t *data, size_t size)
{
	struct fixture *f = ctx;

	(void)data;
	f->last_send_peer = peer_id;
	f->last_send_size = size;
	return peer_id == 99 ? -EHOSTUNREACH : 0;
}

static int
fake_recv(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size)
{
	struct fixture *f = ctx;

	if (f->queue_head == f->queue_count) {
		return -EAGAIN;
	}
	assert_true(capacity >= 1);
	*peer_id = f->queue[f->queue_head].from;
	buf[0] = f->queue[f->queue_head].byte;
	*size = 1;
	f->queue_head++;
	return 0;
}

static int
fake_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	(void)name, (void)data, (void)size, (void)token;
	((struct fixture *)ctx)->storage_calls++;
	return 0;
}

static int
fake_sync(void *ctx, const char *name, uint64_t token)
{
	(void)name, (void)token;
	((struct fixture *)ctx)->storage_calls++;
	return -ENOBUFS;
}

static int
fake_append(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	(void)name, (void)data, (void)size, (void)token;
	((struct fixture *)ctx)->storage_calls++;
	return -EFBIG;
}

static size_t
fake_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	(void)out, (void)capacity;
	((struct fixture *)ctx)->storage_calls++;
	return 3;
}

static int
fake_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	(void)name, (void)buf, (void)capacity, (void)size;
	((struct fixture *)ctx)->storage_calls++;
	return -ENOENT;
}

static void
count_line(void *ctx, enum base_log_level level, const char *line)
{
	(void)level, (void)line;
	((struct fixture *)ctx)->log_lines++;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct node_peers_config cfg = {
		.self_id = 1,
		.peer_ids = {2, 3},
		.peer_count = 2,
		.suspect_after_ns = 200 * MS,
		.down_after_ns = 1000 * MS,
	};

	assert_non_null(f);
	f->inner = (struct env_ops){
		.version = ENV_OPS_VERSION,
		.size = sizeof(struct env_ops),
		.ctx = f,
		.now_ns = fake_now,
		.seed = fake_seed,
		.send = fake_send,
		.recv = fake_recv,
		.storage_put = fake_put,
		.storage_append = fake_append,
		.storage_sync = fake_sync,
		.storage_poll = fake_poll,
		.storage_load = fake_load,
	};
	base_log_init(&f->inner.log, count_line, f, BASE_LOG_DEBUG);
	f->now_ns = 5 * MS;
	node_peers_init(&f->peers, &cfg, &f->inner);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static void
push(struct fixture *f, uint32_t from, uint8_t byte)
{
	assert_true(f->queue_count < 8);
	f->queue[f->queue_count].from = from;
	f->queue[f->queue_count].byte = byte;
	f->queue_count++;
}

static void
assert_peer_state(struct fixture *f, uint32_t id, enum node_peer_state want)
{
	enum node_peer_state got;

	assert_int_equal(node_peers_state(&f->peers, id, f->now_ns, &got, NULL), 0);
	assert_string_equal(node_peer_state_name(got), node_peer_state_name(want));
}

static void
test_node_peers_passes_every_call_through(void **state)
{
	struct fixture *f = *state;
	const struct env_ops *ops = node_peers_ops(&f->peers);
	uint8_t buf[4];
	uint32_t from = 0;
	size_t size = 0;

	env_ops_assert_valid(ops);
	assert_ptr_equal(ops->ctx, &f->peers);
	assert_int_equal(ops->now_ns(ops->ctx), 5 * MS);
	assert_int_equal(ops->seed(ops->ctx), 42);
	assert_int_equal(ops->send(ops->ctx, 3, buf, 4), 0);
	assert_int_equal(f->last_send_peer, 3);
	assert_int_equal(f->last_send_size, 4);
	assert_int_equal(ops->send(ops->ctx, 99, buf, 1), -EHOSTUNREACH);
	assert_int_equal(ops->storage_put(ops->ctx, "x", buf, 1, 7), 0);
	assert_int_equal(ops->storage_sync(ops->ctx, "x", 8), -ENOBUFS);
	assert_int_equal(ops->storage_poll(ops->ctx, NULL, 0), 3);
	assert_int_equal(ops->storage_load(ops->ctx, "x", buf, 4, &size), -ENOENT);
	assert_int_equal(ops->storage_append(ops->ctx, "x", buf, 2, 9), -EFBIG);
	assert_int_equal(f->storage_calls, 5);
	assert_int_equal(ops->recv(ops->ctx, &from, buf, sizeof(buf), &size), -EAGAIN);
	push(f, 2, 0xab);
	assert_int_equal(ops->recv(ops->ctx, &from, buf, sizeof(buf), &size), 0);
	assert_int_equal(from, 2);
	assert_int_equal(buf[0], 0xab);
	assert_int_equal(size, 1);
}

static void
test_node_peers_state_follows_the_silence_since_the_last_datagram(void **state)
{
	struct fixture *f = *state;
	const struct env_ops *ops = node_peers_ops(&f->peers);
	uint64_t last = 0;
	enum node_peer_state s;
	uint8_t buf[4];
	uint32_t from;
	size_t size;

	assert_int_equal(node_peers_state(&f->peers, 2, f->now_ns, &s, &last), 0);
	assert_int_equal(s, NODE_PEER_UNKNOWN);
	assert_true(last == UINT64_MAX);
	push(f, 2, 1);
	assert_int_equal(ops->recv(ops->ctx, &from, buf, sizeof(buf), &size), 0);
	assert_int_equal(node_peers_state(&f->peers, 2, f->now_ns, &s, &last), 0);
	assert_int_equal(last, 5 * MS);
	assert_peer_state(f, 2, NODE_PEER_UP);
	assert_peer_state(f, 3, NODE_PEER_UNKNOWN);
	f->now_ns = 5 * MS + 200 * MS - 1;
	assert_peer_state(f, 2, NODE_PEER_UP);
	f->now_ns = 5 * MS + 200 * MS;
	assert_peer_state(f, 2, NODE_PEER_SUSPECT);
	f->now_ns = 5 * MS + 1000 * MS;
	assert_peer_state(f, 2, NODE_PEER_DOWN);
	push(f, 2, 1);
	assert_int_equal(ops->recv(ops->ctx, &from, buf, sizeof(buf), &size), 0);
	assert_peer_state(f, 2, NODE_PEER_UP);
	assert_int_equal(node_peers_at(&f->peers, 0)->datagrams_in, 2);
	assert_int_equal(f->peers.recv_count, 2);
}

static void
test_node_peers_ignores_senders_that_are_not_peers(void **state)
{
	struct fixture *f = *state;
	const struct env_ops *ops = node_peers_ops(&f->peers);
	enum node_peer_state s;
	uint8_t buf[4];
	uint32_t from;
	size_t size;

	push(f, 7, 1);
	assert_int_equal(ops->recv(ops->ctx, &from, buf, sizeof(buf), &size), 0);
	assert_int_equal(from, 7);
	assert_int_equal(f->peers.from_unknown, 1);
	assert_int_equal(node_peers_state(&f->peers, 7, f->now_ns, &s, NULL), -ENOENT);
	assert_int_equal(node_peers_state(&f->peers, 1, f->now_ns, &s, NULL), -ENOENT);
	assert_peer_state(f, 2, NODE_PEER_UNKNOWN);
}

static void
test_node_peers_logs_each_state_change_once(void **state)
{
	struct fixture *f = *state;
	const struct env_ops *ops = node_peers_ops(&f->peers);
	uint8_t buf[4];
	uint32_t from;
	size_t size;

	assert_int_equal(node_peers_poll(&f->peers, f->now_ns), 0);
	assert_int_equal(f->log_lines, 0);
	push(f, 2, 1);
	push(f, 3, 1);
	assert_int_equal(ops->recv(ops->ctx, &from, buf, sizeof(buf), &size), 0);
	assert_int_equal(ops->recv(ops->ctx, &from, buf, sizeof(buf), &size), 0);
	assert_int_equal(node_peers_poll(&f->peers, f->now_ns), 2);
	assert_int_equal(node_peers_poll(&f->peers, f->now_ns), 0);
	assert_int_equal(f->log_lines, 2);
	f->now_ns += 2000 * MS;
	assert_int_equal(node_peers_poll(&f->peers, f->now_ns), 2);
	assert_int_equal(node_peers_poll(&f->peers, f->now_ns + 1), 0);
	assert_int_equal(f->log_lines, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_peers_passes_every_call_through, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_node_peers_state_follows_the_silence_since_the_last_datagram, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_node_peers_ignores_senders_that_are_not_peers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_peers_logs_each_state_change_once, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
