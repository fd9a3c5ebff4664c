/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the control/worker channel (node/src/node_lcore.h) carries fixed-size messages intact
 * and in order each way, refuses a send on a full ring with -ENOBUFS and counts it (then works
 * again once drained), counts what the worker took and sent, and stays correct between two real
 * threads (one control, one worker echoing), with payloads passed by reference.
 * Method: a channel in test memory; one case per property; the threaded case runs a worker
 * thread that echoes 50000 requests (more than 6000 times the ring) while the control side
 * sends and takes without ever waiting on a lock, then checks every reply's order and payload.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node_lcore.h"

#define CAPACITY 8u
#define ECHOES   50000u

struct fixture {
	void *memory;
	struct node_lcore_channel *ch;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->memory = malloc(node_lcore_channel_size(CAPACITY)); /* 16-byte aligned */
	assert_non_null(f->memory);
	f->ch = node_lcore_channel_init(f->memory, CAPACITY);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	free(f->memory);
	free(f);
	return 0;
}

static struct node_lcore_msg
msg_of(uint16_t type, uint16_t slot, uint32_t seq)
{
	struct node_lcore_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.slot = slot;
	m.seq = seq;
	return m;
}

static void
test_node_lcore_messages_cross_intact_and_in_order_both_ways(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[32] = "method+argument";
	struct node_lcore_msg m = msg_of(NODE_LCORE_MSG_CALL, 3, 41);
	struct node_lcore_msg out;
	struct node_lcore_stats st;

	assert_int_equal(sizeof(struct node_lcore_msg), NODE_LCORE_MSG_SIZE);
	m.instance_id = 256;
	m.buf = buf;
	m.capacity = sizeof(buf);
	m.in_size = 15;
	m.method_size = 6;
	assert_int_equal(node_lcore_send(f->ch, &m), 0);
	m.seq = 42;
	assert_int_equal(node_lcore_send(f->ch, &m), 0);

	assert_int_equal(node_lcore_recv(f->ch, &out), 0);
	assert_int_equal(out.seq, 41);
	assert_int_equal(out.type, NODE_LCORE_MSG_CALL);
	assert_int_equal(out.slot, 3);
	assert_int_equal(out.instance_id, 256);
	assert_ptr_equal(out.buf, buf);
	assert_int_equal(out.in_size, 15);
	assert_int_equal(out.method_size, 6);
	assert_int_equal(node_lcore_recv(f->ch, &out), 0);
	assert_int_equal(out.seq, 42);
	assert_int_equal(node_lcore_recv(f->ch, &out), -EAGAIN);

	/* The reply goes the other way, and only that way. */
	out.type = NODE_LCORE_MSG_REPLY;
	out.status = -ENOENT;
	assert_int_equal(node_lcore_reply(f->ch, &out), 0);
	assert_int_equal(node_lcore_recv(f->ch, &m), -EAGAIN);
	assert_int_equal(node_lcore_take(f->ch, &m), 0);
	assert_int_equal(m.type, NODE_LCORE_MSG_REPLY);
	assert_int_equal(m.status, -ENOENT);
	assert_int_equal(m.seq, 42);
	assert_int_equal(node_lcore_take(f->ch, &m), -EAGAIN);

	node_lcore_stats(f->ch, &st);
	assert_true(st.messages_in == 2 && st.messages_out == 1 && st.ring_full == 0);
}

static void
test_node_lcore_a_full_ring_refuses_and_counts_then_drains(void **state)
{
	struct fixture *f = *state;
	struct node_lcore_msg m = msg_of(NODE_LCORE_MSG_LOAD, 0, 0);
	struct node_lcore_stats st;

	for (uint32_t i = 0; i < CAPACITY; i++) {
		m.seq = i;
		assert_int_equal(node_lcore_send(f->ch, &m), 0);
	}
	assert_int_equal(node_lcore_send(f->ch, &m), -ENOBUFS);
	assert_int_equal(node_lcore_send(f->ch, &m), -ENOBUFS);
	node_lcore_stats(f->ch, &st);
	assert_true(st.ring_full == 2);
	/* The refused sends left the ring as it was: exactly CAPACITY messages, in order. */
	for (uint32_t i = 0; i < CAPACITY; i++) {
		assert_int_equal(node_lcore_recv(f->ch, &m), 0);
		assert_int_equal(m.seq, i);
	}
	assert_int_equal(node_lcore_recv(f->ch, &m), -EAGAIN);
	assert_int_equal(node_lcore_send(f->ch, &m), 0);

	/* The worker's direction counts too, and a refused reply is not counted as sent. */
	for (uint32_t i = 0; i < CAPACITY; i++) {
		assert_int_equal(node_lcore_reply(f->ch, &m), 0);
	}
	assert_int_equal(node_lcore_reply(f->ch, &m), -ENOBUFS);
	node_lcore_stats(f->ch, &st);
	assert_true(st.ring_full == 3);
	assert_true(st.messages_out == CAPACITY);
	assert_true(st.messages_in == CAPACITY);
}

/* The worker: echoes every request with seq + 1 written into the sender's buffer. */
static void *
echo_worker(void *arg)
{
	struct node_lcore_channel *ch = arg;
	struct node_lcore_msg m;

	for (;;) {
		if (node_lcore_recv(ch, &m) != 0) {
			sched_yield();
			continue;
		}
		if (m.type == NODE_LCORE_MSG_STOP) {
			return NULL;
		}
		/* The buffer is the sender's until the reply: writing it here is the contract. */
		memcpy(m.buf, &m.seq, sizeof(m.seq));
		m.out_size = sizeof(m.seq);
		m.type = NODE_LCORE_MSG_REPLY;
		while (node_lcore_reply(ch, &m) != 0) {
			sched_yield();
		}
	}
}

static void
test_node_lcore_two_threads_echo_every_message_in_order(void **state)
{
	struct fixture *f = *state;
	static uint32_t bufs[CAPACITY];
	struct node_lcore_stats st;
	struct node_lcore_msg m;
	pthread_t worker;
	uint32_t sent = 0;
	uint32_t taken = 0;

	assert_int_equal(pthread_create(&worker, NULL, echo_worker, f->ch), 0);
	while (taken < ECHOES) {
		bool is_idle = true;

		/* At most CAPACITY in flight, each owning buffer seq % CAPACITY until its reply. */
		if (sent < ECHOES && sent - taken < CAPACITY) {
			m = msg_of(NODE_LCORE_MSG_CALL, (uint16_t)(sent % CAPACITY), sent);
			m.buf = (uint8_t *)&bufs[sent % CAPACITY];
			m.capacity = sizeof(bufs[0]);
			if (node_lcore_send(f->ch, &m) == 0) {
				sent++;
				is_idle = false;
			}
		}
		if (node_lcore_take(f->ch, &m) == 0) {
			assert_int_equal(m.type, NODE_LCORE_MSG_REPLY);
			assert_int_equal(m.seq, taken);
			assert_int_equal(m.out_size, sizeof(uint32_t));
			assert_int_equal(bufs[taken % CAPACITY], taken);
			taken++;
			is_idle = false;
		}
		if (is_idle) {
			sched_yield(); /* the worker may share this cpu (two cpus, many tests) */
		}
	}
	m = msg_of(NODE_LCORE_MSG_STOP, 0, 0);
	assert_int_equal(node_lcore_send(f->ch, &m), 0);
	assert_int_equal(pthread_join(worker, NULL), 0);
	node_lcore_stats(f->ch, &st);
	assert_true(st.messages_in == ECHOES + 1); /* the STOP too */
	assert_true(st.messages_out == ECHOES);
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_node_lcore_messages_cross_intact_and_in_order_both_ways),
		CASE(test_node_lcore_a_full_ring_refuses_and_counts_then_drains),
		CASE(test_node_lcore_two_threads_echo_every_message_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
