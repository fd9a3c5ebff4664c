/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the leader rule of node_leader.h: the `leader` value codec, liveness from messages and
 * a timeout, who proposes (the lowest live id, only when the leader is absent or silent, one
 * proposal at a time) and that compare-and-set keeps one node per term. Method: hand-built
 * sequences of peer messages, applied values and times fed to one or several leader units; the
 * race test applies their proposals to a real KV store in a chosen order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"
#include "consensus/kv_cmd.h"
#include "consensus/kv_store.h"
#include "node/node_leader.h"

#define MS      UINT64_C(1000000)
#define TIMEOUT (50 * MS)

struct fixture {
	struct node_leader l[3]; /* nodes 1, 2, 3 */
	struct kv_store *kv;
	uint64_t log_index;
};

static struct node_leader_config
leader_cfg(uint32_t self)
{
	struct node_leader_config c;

	memset(&c, 0, sizeof(c));
	c.self_id = self;
	c.member_count = 3;
	c.members[0] = 3; /* deliberately unordered: the rule compares ids, not positions */
	c.members[1] = 1;
	c.members[2] = 2;
	c.timeout_ns = TIMEOUT;
	return c;
}

static int
setup(void **state)
{
	static struct fixture f;
	struct kv_store_config kc = {
		.max_keys = 8,
		.max_key_size = 16,
		.max_value_size = 32,
		.data_budget_size = 1024,
		.max_clients = 8,
		.notify_buffer_size = 0,
		.index_seed = 7,
	};

	memset(&f, 0, sizeof(f));
	for (uint32_t i = 0; i < 3; i++) {
		struct node_leader_config c = leader_cfg(i + 1);

		node_leader_init(&f.l[i], &c, 0);
	}
	assert_int_equal(kv_store_create(&kc, &f.kv), 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	kv_store_destroy(f->kv);
	return 0;
}

/* Applies a proposal to the store as the log would; returns the result status. */
static enum kv_result_status
apply_proposal(struct fixture *f, const struct node_leader_proposal *p)
{
	uint8_t result[64];
	size_t size;
	struct kv_result r;
	struct kv_request q = {++f->log_index, p->client_id, p->client_seq, p->cmd, p->cmd_size};

	assert_int_equal(kv_store_apply(f->kv, &q, result, sizeof(result), &size), 0);
	assert_int_equal(kv_result_decode(result, size, &r), 0);
	return r.status;
}

/* Feeds the store's current `leader` to a unit, as the shard does after applying. */
static int
learn(struct fixture *f, struct node_leader *l)
{
	char key[NODE_LEADER_KEY_MAX];
	size_t key_size = node_leader_key(key);
	struct kv_store_value v;

	if (kv_store_read_local_nonlinearizable(f->kv, (const uint8_t *)key, key_size, &v) != 0) {
		return node_leader_on_applied(l, NULL, 0, 0);
	}
	return node_leader_on_applied(l, v.value, v.value_size, v.mod_index);
}

static void
assert_leader(const struct node_leader *l, uint32_t node, uint64_t term)
{
	struct node_leader_value v;

	assert_int_equal(node_leader_get(l, &v), 1);
	assert_int_equal(v.node_id, node);
	assert_int_equal(v.term, term);
}

static void
test_node_leader_value_round_trips_and_rejects_bad_bytes(void **state)
{
	struct node_leader_value v = {42, 7};
	struct node_leader_value out;
	uint8_t b[NODE_LEADER_VALUE_SIZE + 1];
	char key[NODE_LEADER_KEY_MAX];

	(void)state;
	node_leader_value_encode(&v, b);
	assert_int_equal(node_leader_value_decode(b, NODE_LEADER_VALUE_SIZE, &out), 0);
	assert_int_equal(out.node_id, 42);
	assert_int_equal(out.term, 7);
	assert_int_equal(node_leader_value_decode(b, NODE_LEADER_VALUE_SIZE - 1, &out),
			 -BASE_ERR_TRUNCATED);
	assert_int_equal(node_leader_value_decode(b, NODE_LEADER_VALUE_SIZE + 1, &out),
			 -BASE_ERR_TRAILING);
	b[0] = 9;
	assert_int_equal(node_leader_value_decode(b, NODE_LEADER_VALUE_SIZE, &out),
			 -BASE_ERR_VERSION);
	b[0] = NODE_LEADER_VALUE_VERSION;
	b[2] = 1;
	assert_int_equal(node_leader_value_decode(b, NODE_LEADER_VALUE_SIZE, &out), -EBADMSG);
	b[2] = 0;
	memset(b + 8, 0, 8); /* term 0 is never written */
	assert_int_equal(node_leader_value_decode(b, NODE_LEADER_VALUE_SIZE, &out), -EBADMSG);
	assert_int_equal(node_leader_key(key), 6);
	assert_string_equal(key, "leader");
}

static void
test_node_leader_config_check_rejects_missing_self_and_zero_timeout(void **state)
{
	struct node_leader_config c = leader_cfg(1);

	(void)state;
	assert_int_equal(node_leader_config_check(&c), 0);
	c.self_id = 9;
	assert_int_equal(node_leader_config_check(&c), -EINVAL);
	c = leader_cfg(1);
	c.timeout_ns = 0;
	assert_int_equal(node_leader_config_check(&c), -EINVAL);
	c = leader_cfg(1);
	c.member_count = 0;
	assert_int_equal(node_leader_config_check(&c), -EINVAL);
}

static void
test_node_leader_lowest_id_proposes_first_when_there_is_none(void **state)
{
	struct fixture *f = *state;
	struct node_leader_proposal p;

	assert_int_equal(node_leader_poll(&f->l[1], MS, &p), 0);
	assert_int_equal(node_leader_poll(&f->l[2], MS, &p), 0);
	assert_int_equal(node_leader_poll(&f->l[0], MS, &p), 1);
	assert_true(p.client_id == node_leader_client_id(1));
	assert_int_equal(p.client_seq, 1);
	assert_int_equal(p.expected_mod_index, 0);
	assert_int_equal(p.value.node_id, 1);
	assert_int_equal(p.value.term, 1);
	assert_int_equal(apply_proposal(f, &p), KV_RESULT_OK);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(learn(f, &f->l[i]), 1);
		assert_leader(&f->l[i], 1, 1);
		assert_int_equal(learn(f, &f->l[i]), 0); /* no change the second time */
	}
}

static void
test_node_leader_nobody_proposes_while_the_leader_is_heard(void **state)
{
	struct fixture *f = *state;
	struct node_leader_proposal p;

	assert_int_equal(node_leader_poll(&f->l[0], 0, &p), 1);
	assert_int_equal(apply_proposal(f, &p), KV_RESULT_OK);
	node_leader_on_result(&f->l[0], p.client_seq);
	for (uint32_t i = 0; i < 3; i++) {
		(void)learn(f, &f->l[i]);
	}
	/* Node 1 keeps talking: 10 timeouts later nobody has proposed. */
	for (uint64_t t = 0; t <= 10 * TIMEOUT; t += TIMEOUT / 4) {
		node_leader_on_peer(&f->l[1], 1, t);
		node_leader_on_peer(&f->l[2], 1, t);
		node_leader_on_peer(&f->l[1], 3, t);
		node_leader_on_peer(&f->l[2], 2, t);
		for (uint32_t i = 0; i < 3; i++) {
			assert_int_equal(node_leader_poll(&f->l[i], t, &p), 0);
		}
	}
}

static void
test_node_leader_silent_leader_is_replaced_by_lowest_live_with_next_term(void **state)
{
	struct fixture *f = *state;
	struct node_leader_proposal p;

	assert_int_equal(node_leader_poll(&f->l[0], 0, &p), 1);
	assert_int_equal(apply_proposal(f, &p), KV_RESULT_OK);
	(void)learn(f, &f->l[1]);
	(void)learn(f, &f->l[2]);
	/* Node 1 falls silent at 0; 2 and 3 hear each other. */
	node_leader_on_peer(&f->l[1], 3, TIMEOUT);
	node_leader_on_peer(&f->l[2], 2, TIMEOUT);
	assert_int_equal(node_leader_poll(&f->l[1], TIMEOUT, &p), 0);     /* not yet */
	assert_int_equal(node_leader_poll(&f->l[2], TIMEOUT + 1, &p), 0); /* 2 is lower */
	assert_true(node_leader_next_ns(&f->l[1], TIMEOUT) == TIMEOUT + 1);
	assert_int_equal(node_leader_poll(&f->l[1], TIMEOUT + 1, &p), 1);
	assert_int_equal(p.value.node_id, 2);
	assert_int_equal(p.value.term, 2);
	assert_int_equal(p.client_seq, 2);
	assert_int_equal(p.expected_mod_index, 1); /* the log index that wrote term 1 */
	assert_int_equal(apply_proposal(f, &p), KV_RESULT_OK);
	assert_int_equal(learn(f, &f->l[2]), 1);
	assert_leader(&f->l[2], 2, 2);
}

static void
test_node_leader_one_proposal_outstanding_until_result_or_timeout(void **state)
{
	struct fixture *f = *state;
	struct node_leader_proposal p;
	struct node_leader_proposal again;

	assert_int_equal(node_leader_poll(&f->l[0], 0, &p), 1);
	assert_int_equal(node_leader_poll(&f->l[0], TIMEOUT - 1, &again), 0);
	assert_true(node_leader_next_ns(&f->l[0], 0) <= TIMEOUT + 1);
	/* Lost: after the timeout the same proposal goes again (same seq, KV dedupe). */
	assert_int_equal(node_leader_poll(&f->l[0], TIMEOUT, &again), 1);
	assert_int_equal(again.client_seq, p.client_seq);
	assert_memory_equal(again.cmd, p.cmd, p.cmd_size);
	/* Another node's result does not count; this node's does. */
	node_leader_on_result(&f->l[0], p.client_seq + 1);
	assert_int_equal(node_leader_poll(&f->l[0], TIMEOUT + 1, &again), 0);
	node_leader_on_result(&f->l[0], p.client_seq);
	assert_int_equal(node_leader_poll(&f->l[0], TIMEOUT + 2, &again), 1);
	assert_int_equal(node_leader_get(&f->l[0], &again.value), 0);
}

/* Two nodes that both believe they should lead propose the same term: CAS lets one through. */
static void
test_node_leader_racing_proposals_give_one_node_per_term(void **state)
{
	struct fixture *f = *state;
	struct node_leader_proposal p1;
	struct node_leader_proposal p2;

	/* Asymmetric view: node 1 hears nobody, node 2 does not hear node 1. */
	assert_int_equal(node_leader_poll(&f->l[0], 0, &p1), 1);
	node_leader_on_peer(&f->l[1], 3, 2 * TIMEOUT);
	assert_int_equal(node_leader_poll(&f->l[1], 2 * TIMEOUT, &p2), 1);
	assert_int_equal(p1.value.term, p2.value.term);
	/* The log orders them: the first wins, the second finds the key changed. */
	assert_int_equal(apply_proposal(f, &p2), KV_RESULT_OK);
	assert_int_equal(apply_proposal(f, &p1), KV_RESULT_CAS_FAILED);
	for (uint32_t i = 0; i < 3; i++) {
		(void)learn(f, &f->l[i]);
		assert_leader(&f->l[i], 2, 1);
	}
	/* Node 1's next try builds on what it learned: term 2 over mod index 1. */
	node_leader_on_result(&f->l[0], p1.client_seq);
	assert_int_equal(node_leader_poll(&f->l[0], 4 * TIMEOUT, &p1), 1);
	assert_int_equal(p1.value.term, 2);
	assert_int_equal(p1.expected_mod_index, 1);
	assert_int_equal(apply_proposal(f, &p1), KV_RESULT_OK);
	(void)learn(f, &f->l[2]);
	assert_leader(&f->l[2], 1, 2);
}

static void
test_node_leader_invalid_value_counts_as_none_and_is_overwritten(void **state)
{
	struct fixture *f = *state;
	struct node_leader_proposal p;
	const uint8_t junk[3] = {1, 2, 3};

	assert_int_equal(node_leader_on_applied(&f->l[0], junk, sizeof(junk), 5), 0);
	assert_int_equal(node_leader_get(&f->l[0], &p.value), 0);
	assert_int_equal(node_leader_poll(&f->l[0], 0, &p), 1);
	assert_int_equal(p.value.term, 1);
	assert_int_equal(p.expected_mod_index, 5);
}

static void
test_node_leader_messages_from_strangers_do_not_count(void **state)
{
	struct fixture *f = *state;

	node_leader_on_peer(&f->l[1], 99, 10 * TIMEOUT);
	assert_int_equal(node_leader_is_live(&f->l[1], 99, 10 * TIMEOUT), 0);
	assert_int_equal(node_leader_is_live(&f->l[1], 1, 10 * TIMEOUT), 0);
	assert_int_equal(node_leader_is_live(&f->l[1], 2, 10 * TIMEOUT), 1); /* itself */
	node_leader_on_peer(&f->l[1], 1, 10 * TIMEOUT);
	assert_int_equal(node_leader_is_live(&f->l[1], 1, 10 * TIMEOUT + TIMEOUT), 1);
	assert_int_equal(node_leader_is_live(&f->l[1], 1, 10 * TIMEOUT + TIMEOUT + 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_leader_value_round_trips_and_rejects_bad_bytes),
		cmocka_unit_test(
			test_node_leader_config_check_rejects_missing_self_and_zero_timeout),
		cmocka_unit_test_setup_teardown(
			test_node_leader_lowest_id_proposes_first_when_there_is_none, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_node_leader_nobody_proposes_while_the_leader_is_heard, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_node_leader_silent_leader_is_replaced_by_lowest_live_with_next_term,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_node_leader_one_proposal_outstanding_until_result_or_timeout, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_node_leader_racing_proposals_give_one_node_per_term, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_node_leader_invalid_value_counts_as_none_and_is_overwritten, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_node_leader_messages_from_strangers_do_not_count, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
