/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the fragmentation layer (node/node_frag.h) carries every datagram size the seam allows
 * over an inner transport with small datagrams, byte for byte, and stays fair-loss: a lost
 * fragment loses only its datagram, duplicates and reordering inside a datagram are absorbed,
 * malformed fragments and strangers are dropped and counted (and never stop recv), a joined
 * datagram too large for the caller is refused, every other seam member passes through, and
 * create refuses bad configs and fails cleanly on every allocation.
 * Method: two layers (nodes 1 and 2) over a fake wire: each node's inner env queues its sends
 * for the other, where the test can drop, duplicate or swap them, or inject raw datagrams.
 * Deterministic: no clock, sockets or threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "node/node_frag.h"

#define WIRE_MAX  256
#define INNER_MAX 1408u /* a 1500-byte MTU through env_dpdk */

struct packet {
	uint32_t from;
	size_t size;
	uint8_t data[ENV_MSG_MAX];
};

/* The datagrams waiting for one node. */
struct queue {
	size_t count;
	struct packet packets[WIRE_MAX];
};

struct fake_env {
	struct env_ops ops;
	uint32_t self;
	struct queue *out; /* the other node's queue */
	struct queue in;
	int fail_send_at; /* the n-th send (1-based) fails with -ENOBUFS; 0: none */
	int sends;
	int puts;
};

struct fixture {
	struct fake_env env[2];
	struct node_frag *frag[2];
	uint8_t msg[ENV_MSG_MAX];
	uint8_t got[ENV_MSG_MAX];
	long live;
};

static uint64_t
fake_now(void *ctx)
{
	(void)ctx;
	return 123456789;
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
	struct fake_env *e = ctx;
	struct packet *p;

	e->sends++;
	if (e->sends == e->fail_send_at) {
		return -ENOBUFS;
	}
	if (peer_id == e->self || peer_id > 2) {
		return -EHOSTUNREACH;
	}
	assert_true(size <= INNER_MAX);
	assert_true(e->out->count < WIRE_MAX);
	p = &e->out->packets[e->out->count++];
	p->from = e->self;
	p->size = size;
	memcpy(p->data, data, size);
	return 0;
}

static int
fake_recv(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size)
{
	struct fake_env *e = ctx;
	struct packet *p = &e->in.packets[0];

	if (e->in.count == 0) {
		return -EAGAIN;
	}
	assert_true(p->size <= capacity);
	*peer_id = p->from;
	*size = p->size;
	memcpy(buf, p->data, p->size);
	memmove(&e->in.packets[0], &e->in.packets[1], (e->in.count - 1) * sizeof(*p));
	e->in.count--;
	return 0;
}

static int
fake_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct fake_env *e = ctx;

	(void)name;
	(void)data;
	(void)size;
	(void)token;
	e->puts++;
	return 0;
}

static int
fake_sync(void *ctx, const char *name, uint64_t token)
{
	(void)ctx;
	(void)name;
	(void)token;
	return -ENOBUFS;
}

static size_t
fake_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	(void)ctx;
	(void)out;
	return capacity > 0 ? 1 : 0;
}

static int
fake_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	(void)ctx;
	(void)name;
	(void)buf;
	(void)capacity;
	*size = 7;
	return -EFBIG;
}

static void
fake_env_init(struct fake_env *e, uint32_t self, struct queue *out)
{
	memset(e, 0, sizeof(*e));
	e->self = self;
	e->out = out;
	e->ops = (struct env_ops){
		.version = ENV_OPS_VERSION,
		.size = sizeof(e->ops),
		.ctx = e,
		.now_ns = fake_now,
		.seed = fake_seed,
		.send = fake_send,
		.recv = fake_recv,
		.storage_put = fake_put,
		.storage_sync = fake_sync,
		.storage_poll = fake_poll,
		.storage_load = fake_load,
		.storage_append = fake_put,
	};
}

static void
frag_config(struct node_frag_config *c, uint32_t peer)
{
	memset(c, 0, sizeof(*c));
	c->peer_ids[0] = peer;
	c->peer_count = 1;
	c->inner_max = INNER_MAX;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct node_frag_config c;

	assert_non_null(f);
	f->live = base_alloc_live();
	fake_env_init(&f->env[0], 1, &f->env[1].in);
	fake_env_init(&f->env[1], 2, &f->env[0].in);
	for (int i = 0; i < 2; i++) {
		frag_config(&c, (uint32_t)(2 - i));
		assert_int_equal(node_frag_create(&c, &f->env[i].ops, &f->frag[i]), 0);
	}
	for (size_t i = 0; i < sizeof(f->msg); i++) {
		f->msg[i] = (uint8_t)(i * 7 + i / 251);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	node_frag_destroy(f->frag[0]);
	node_frag_destroy(f->frag[1]);
	assert_int_equal(base_alloc_live(), f->live);
	free(f);
	return 0;
}

static const struct env_ops *
ops(const struct fixture *f, int node)
{
	return node_frag_ops(f->frag[node - 1]);
}

static int
send_msg(struct fixture *f, int from, size_t size)
{
	return ops(f, from)->send(ops(f, from)->ctx, (uint32_t)(3 - from), f->msg, size);
}

static int
recv_at(struct fixture *f, int node, size_t capacity, size_t *size)
{
	uint32_t from = 0;
	int rc = ops(f, node)->recv(ops(f, node)->ctx, &from, f->got, capacity, size);

	if (rc == 0) {
		assert_int_equal(from, (uint32_t)(3 - node));
	}
	return rc;
}

/* Node `to` receives exactly the first `size` bytes of msg. */
static void
assert_received(struct fixture *f, int to, size_t size)
{
	size_t got = 0;

	assert_int_equal(recv_at(f, to, sizeof(f->got), &got), 0);
	assert_int_equal(got, size);
	assert_memory_equal(f->got, f->msg, size);
}

static void
assert_nothing_pending(struct fixture *f, int node)
{
	size_t got = 0;

	assert_int_equal(recv_at(f, node, sizeof(f->got), &got), -EAGAIN);
}

static struct queue *
wire_to(struct fixture *f, int node)
{
	return &f->env[node - 1].in;
}

static struct node_frag_stats
stats(const struct fixture *f, int node)
{
	struct node_frag_stats s;

	node_frag_stats_get(f->frag[node - 1], &s);
	return s;
}

static void
test_node_frag_small_datagram_travels_whole_with_a_six_byte_header(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_msg(f, 1, 100), 0);
	assert_int_equal(wire_to(f, 2)->count, 1);
	assert_int_equal(wire_to(f, 2)->packets[0].size, 100 + NODE_FRAG_HEADER_SIZE);
	assert_received(f, 2, 100);
	assert_nothing_pending(f, 2);
	assert_int_equal(send_msg(f, 2, 0), 0); /* empty datagrams are datagrams too */
	assert_received(f, 1, 0);
	assert_int_equal(stats(f, 1).sent_count, 1);
	assert_int_equal(stats(f, 2).delivered_count, 1);
	assert_int_equal(stats(f, 2).joined_count, 0);
}

static void
test_node_frag_largest_datagram_is_split_to_fit_and_joined_byte_for_byte(void **state)
{
	struct fixture *f = *state;
	struct queue *w = wire_to(f, 2);

	assert_int_equal(send_msg(f, 1, ENV_MSG_MAX), 0);
	assert_int_equal(w->count, 7); /* ceil(9000 / 1402) */
	for (size_t i = 0; i < w->count; i++) {
		assert_true(w->packets[i].size <= INNER_MAX);
	}
	/* Fragments share the datagram evenly: 6 of 1286 bytes and a last of 1284. */
	assert_int_equal(w->packets[0].size, NODE_FRAG_HEADER_SIZE + 1286);
	assert_int_equal(w->packets[6].size, NODE_FRAG_HEADER_SIZE + 1284);
	assert_received(f, 2, ENV_MSG_MAX);
	assert_nothing_pending(f, 2);
	assert_int_equal(stats(f, 1).sent_split_count, 1);
	assert_int_equal(stats(f, 1).fragments_sent, 7);
	assert_int_equal(stats(f, 2).joined_count, 1);
	/* Sizes around the split points. */
	for (size_t size = 1395; size <= 1410; size++) {
		assert_int_equal(send_msg(f, 1, size), 0);
		assert_received(f, 2, size);
	}
}

static void
test_node_frag_lost_fragment_loses_only_its_datagram(void **state)
{
	struct fixture *f = *state;
	struct queue *w = wire_to(f, 2);

	assert_int_equal(send_msg(f, 1, 5000), 0);
	memmove(&w->packets[1], &w->packets[2], (w->count - 2) * sizeof(w->packets[0]));
	w->count--; /* fragment 1 of 4 is lost */
	assert_nothing_pending(f, 2);
	assert_int_equal(send_msg(f, 1, 3000), 0);
	assert_received(f, 2, 3000);
	assert_int_equal(stats(f, 2).unfinished_count, 1);
	assert_int_equal(stats(f, 2).delivered_count, 1);
}

static void
test_node_frag_duplicates_and_reordering_inside_a_datagram_are_absorbed(void **state)
{
	struct fixture *f = *state;
	struct queue *w = wire_to(f, 2);
	struct packet tmp;

	assert_int_equal(send_msg(f, 1, 4000), 0);
	assert_int_equal(w->count, 3);
	tmp = w->packets[0];
	w->packets[0] = w->packets[2];
	w->packets[2] = w->packets[1]; /* 2, 1, 1, 0, 0 */
	w->packets[3] = tmp;
	w->packets[4] = tmp;
	w->count = 5;
	assert_received(f, 2, 4000);
	assert_int_equal(stats(f, 2).duplicate_count, 1);
	/* The late copy of 0 starts a slot that never completes; the next datagram drops it. */
	assert_nothing_pending(f, 2);
	assert_int_equal(send_msg(f, 1, 2000), 0);
	assert_received(f, 2, 2000);
	assert_int_equal(stats(f, 2).unfinished_count, 1);
	assert_int_equal(stats(f, 2).delivered_count, 2);
}

/* Puts a raw inner datagram on the wire to node 2, as node `from`. */
static void
inject(struct fixture *f, uint32_t from, uint16_t id, uint16_t total, uint8_t index, uint8_t count,
       size_t payload)
{
	struct queue *w = wire_to(f, 2);
	struct packet *p = &w->packets[w->count++];

	p->from = from;
	p->size = NODE_FRAG_HEADER_SIZE + payload;
	base_store_le16(&p->data[0], id);
	base_store_le16(&p->data[2], total);
	p->data[4] = index;
	p->data[5] = count;
	memset(&p->data[NODE_FRAG_HEADER_SIZE], 0xab, payload);
}

static void
test_node_frag_malformed_fragments_and_strangers_are_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	struct queue *w = wire_to(f, 2);

	w->packets[w->count++] = (struct packet){.from = 1, .size = 5}; /* shorter than a header */
	inject(f, 1, 1, 10, 0, 0, 10);                                  /* count 0 */
	inject(f, 1, 1, 10, 2, 2, 5);                                   /* index >= count */
	inject(f, 1, 1, 10, 0, 65, 1);                                  /* count above 64 */
	inject(f, 1, 1, ENV_MSG_MAX + 1, 0, 64, 141);                   /* total above max */
	inject(f, 1, 1, 10, 0, 1, 9);                                   /* length != total */
	inject(f, 1, 1, 10, 1, 2, 4);                                   /* last piece is 5 */
	inject(f, 3, 1, 10, 0, 1, 10);                                  /* not a peer */
	assert_int_equal(send_msg(f, 1, 33), 0);
	assert_received(f, 2, 33); /* recv went past all of them */
	assert_int_equal(stats(f, 2).bad_count, 7);
	assert_int_equal(stats(f, 2).unknown_count, 1);
	assert_int_equal(stats(f, 2).delivered_count, 1);
}

static void
test_node_frag_recv_examines_a_bounded_number_of_fragments_per_call(void **state)
{
	struct fixture *f = *state;
	size_t got = 0;

	for (unsigned i = 0; i < NODE_FRAG_RECV_SCAN_MAX + 1; i++) {
		inject(f, 1, 1, 10, 0, 0, 10);
	}
	assert_int_equal(send_msg(f, 1, 33), 0);
	assert_int_equal(recv_at(f, 2, sizeof(f->got), &got), -EAGAIN);
	assert_received(f, 2, 33);
}

static void
test_node_frag_joined_datagram_too_large_for_the_caller_is_refused(void **state)
{
	struct fixture *f = *state;
	size_t got = 0;

	assert_int_equal(send_msg(f, 1, 3000), 0);
	assert_int_equal(recv_at(f, 2, 2999, &got), -EMSGSIZE);
	assert_int_equal(stats(f, 2).too_big_count, 1);
	assert_int_equal(send_msg(f, 1, 50), 0);
	assert_int_equal(recv_at(f, 2, 49, &got), -EMSGSIZE);
	assert_int_equal(send_msg(f, 1, 50), 0);
	assert_received(f, 2, 50);
}

static void
test_node_frag_send_refuses_oversize_and_reports_inner_failures(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_msg(f, 1, ENV_MSG_MAX + 1), -EMSGSIZE);
	assert_int_equal(wire_to(f, 2)->count, 0);
	f->env[0].fail_send_at = f->env[0].sends + 2; /* the second fragment */
	assert_int_equal(send_msg(f, 1, 3000), -ENOBUFS);
	assert_int_equal(wire_to(f, 2)->count, 1); /* the rest was not sent */
	assert_int_equal(ops(f, 1)->send(ops(f, 1)->ctx, 7, f->msg, 3000), -EHOSTUNREACH);
	assert_int_equal(send_msg(f, 1, 3000), 0);
	assert_received(f, 2, 3000); /* after dropping the unfinished one */
	assert_int_equal(stats(f, 1).sent_split_count, 1);
}

static void
test_node_frag_passes_every_other_member_through(void **state)
{
	struct fixture *f = *state;
	const struct env_ops *o = ops(f, 1);
	struct env_storage_completion c;
	uint8_t b[4];
	size_t n = 0;

	env_ops_assert_valid(o);
	assert_int_equal(o->version, ENV_OPS_VERSION);
	assert_true(o->now_ns(o->ctx) == 123456789);
	assert_true(o->seed(o->ctx) == 42);
	assert_int_equal(o->storage_put(o->ctx, "a", b, 0, 1), 0);
	assert_int_equal(o->storage_append(o->ctx, "a", b, 0, 2), 0);
	assert_int_equal(f->env[0].puts, 2);
	assert_int_equal(o->storage_sync(o->ctx, "a", 3), -ENOBUFS);
	assert_int_equal(o->storage_poll(o->ctx, &c, 1), 1);
	assert_int_equal(o->storage_load(o->ctx, "a", b, sizeof(b), &n), -EFBIG);
	assert_int_equal(n, 7);
}

static void
test_node_frag_create_refuses_bad_configs_and_survives_every_failed_allocation(void **state)
{
	struct fixture *f = *state;
	struct node_frag_config c;
	struct node_frag *x = NULL;
	int rc;

	frag_config(&c, 2);
	c.inner_max = NODE_FRAG_INNER_MIN - 1;
	assert_int_equal(node_frag_create(&c, &f->env[0].ops, &x), -EINVAL);
	c.inner_max = ENV_MSG_MAX + 1;
	assert_int_equal(node_frag_create(&c, &f->env[0].ops, &x), -EINVAL);
	frag_config(&c, 2);
	c.peer_ids[1] = 2;
	c.peer_count = 2;
	assert_int_equal(node_frag_create(&c, &f->env[0].ops, &x), -EINVAL);
	c.peer_count = NODE_FRAG_PEERS_MAX + 1;
	assert_int_equal(node_frag_create(&c, &f->env[0].ops, &x), -EINVAL);
	assert_null(x);
	frag_config(&c, 2);
	c.inner_max = NODE_FRAG_INNER_MIN; /* the largest datagram still fits 64 fragments */
	for (unsigned long n = 1;; n++) {
		long live = base_alloc_live();

		base_alloc_fail_at(n);
		rc = node_frag_create(&c, &f->env[0].ops, &x);
		base_alloc_fail_at(0);
		if (rc == 0) {
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(x);
		assert_int_equal(base_alloc_live(), live);
	}
	node_frag_destroy(f->frag[0]);
	f->frag[0] = x;
	assert_int_equal(send_msg(f, 1, ENV_MSG_MAX), 0);
	assert_int_equal(wire_to(f, 2)->count, NODE_FRAG_COUNT_MAX);
	assert_received(f, 2, ENV_MSG_MAX);
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_node_frag_small_datagram_travels_whole_with_a_six_byte_header),
		CASE(test_node_frag_largest_datagram_is_split_to_fit_and_joined_byte_for_byte),
		CASE(test_node_frag_lost_fragment_loses_only_its_datagram),
		CASE(test_node_frag_duplicates_and_reordering_inside_a_datagram_are_absorbed),
		CASE(test_node_frag_malformed_fragments_and_strangers_are_dropped_and_counted),
		CASE(test_node_frag_recv_examines_a_bounded_number_of_fragments_per_call),
		CASE(test_node_frag_joined_datagram_too_large_for_the_caller_is_refused),
		CASE(test_node_frag_send_refuses_oversize_and_reports_inner_failures),
		CASE(test_node_frag_passes_every_other_member_through),
		CASE(test_node_frag_create_refuses_bad_configs_and_survives_every_failed_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
