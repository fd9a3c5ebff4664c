/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: one slot of Weak-MVC follows Algorithm 2 line by line: the fast path, ⊥ when
 * proposals differ, line 12's adoption, line 13's coin, distinct-sender counting, NULL
 * proposals, R7's fetch of a decided body, and violations dropped and counted.
 * Method: one replica (member index 0, node id 1) fed hand-built messages from its peers; the
 * test inspects every message and decision the replica outputs after each input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/hash.h"
#include "consensus/rabia.h"
#include "test_rabia_util.h"

struct fixture {
	struct trt t;
	struct rabia_cfg cfg;
	uint8_t buf[1024];
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	trt_stop(&f->t);
	test_free(f);
	return 0;
}

static void
start(struct fixture *f, uint32_t n)
{
	trt_cfg(&f->cfg, n, 0);
	trt_start(&f->t, &f->cfg);
}

/* Replica 0's first own batch after trt_submit. */
static const struct rabia_batch_id own_a = {.proxy = 1, .reserved = 0, .seq = 0};

static void
assert_sent(const struct trt *t, uint8_t type, uint64_t slot, uint32_t phase, uint8_t value,
	    const struct rabia_batch_id *id)
{
	const struct trt_msg *m = trt_find_phase(t, type, slot, phase);

	assert_non_null(m);
	assert_int_equal(m->to, RABIA_TO_ALL);
	assert_int_equal(m->m.value, value);
	if (id != NULL) {
		assert_true(rabia_batch_id_equal(m->m.id, *id));
	}
}

static void
assert_decided(const struct trt *t, uint64_t slot, const struct rabia_batch_id *id)
{
	assert_int_equal(t->cap.decided_count, 1);
	assert_true(t->cap.decided[0].slot == slot);
	assert_int_equal(t->cap.decided[0].is_null, id == NULL);
	if (id != NULL) {
		assert_true(rabia_batch_id_equal(t->cap.decided[0].id, *id));
	}
}

/* The R5 coin, computed independently of the implementation. */
static int
expected_coin(uint64_t key, uint64_t slot, uint32_t phase)
{
	uint8_t buf[20];

	base_store_le64(buf, TRT_EPOCH);
	base_store_le64(buf + 8, slot);
	base_store_le32(buf + 16, phase);
	return (int)(base_hash64(buf, sizeof(buf), key) & 1);
}

static void
test_rabia_all_same_proposals_decide_in_phase_one(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	start(f, 3);
	trt_submit(t, 500, 1);
	assert_non_null(trt_find(t, RABIA_MSG_REQ, 0));
	assert_sent(t, RABIA_MSG_PROPOSAL, 0, 0, 1, &own_a);

	trt_clear(t);
	assert_int_equal(trt_recv(t, 1, trt_proposal(0, &own_a)), 0);
	assert_sent(t, RABIA_MSG_STATE, 0, 1, 1, &own_a);

	trt_clear(t);
	assert_int_equal(trt_recv(t, 1, trt_state(0, 1, 1, &own_a)), 0);
	assert_sent(t, RABIA_MSG_VOTE, 0, 1, 1, &own_a);
	assert_int_equal(t->cap.decided_count, 0);

	trt_clear(t);
	assert_int_equal(trt_recv(t, 1, trt_vote(0, 1, 1, &own_a)), 0);
	assert_sent(t, RABIA_MSG_DECISION, 0, 0, RABIA_DECISION_ID, &own_a);
	assert_decided(t, 0, &own_a);
	assert_int_equal(t->cap.decided[0].request_count, 1);
	assert_true(t->cap.decided[0].client_id[0] == 500);
	assert_true(t->cap.decided[0].client_seq[0] == 1);
	assert_true(rabia_next_slot(t->r) == 1);
	assert_true(rabia_get_stats(t->r)->coin_flips == 0);
	assert_int_equal(rabia_pending_count(t->r), 0);
}

static void
test_rabia_all_different_proposals_decide_null_and_requeue_own(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id x = rabia_batch_id_make(2, 0);

	start(f, 3);
	trt_submit(t, 500, 1);
	trt_clear(t);
	trt_recv(t, 1, trt_proposal(0, &x));
	assert_sent(t, RABIA_MSG_STATE, 0, 1, 0, NULL);
	trt_recv(t, 1, trt_state(0, 1, 0, NULL));
	assert_sent(t, RABIA_MSG_VOTE, 0, 1, 0, NULL);
	trt_clear(t);
	trt_recv(t, 1, trt_vote(0, 1, 0, NULL));
	assert_sent(t, RABIA_MSG_DECISION, 0, 0, RABIA_DECISION_NULL, NULL);
	assert_decided(t, 0, NULL);
	/* Algorithm 1 line 4: the losing proposal is proposed again in the next slot. */
	assert_sent(t, RABIA_MSG_PROPOSAL, 1, 0, 1, &own_a);
	assert_int_equal(rabia_pending_count(t->r), 1);
	assert_true(rabia_get_stats(t->r)->slots_null == 1);
}

/* Drives phase 1 to a "?" vote everywhere, so line 13 flips the coin. */
static void
run_coin_slot(struct fixture *f, int coin)
{
	struct trt *t = &f->t;
	uint64_t key = 1;
	const struct rabia_batch_id *id = coin == 1 ? &own_a : NULL;

	while (expected_coin(key, 0, 1) != coin) {
		key++;
	}
	trt_cfg(&f->cfg, 3, 0);
	f->cfg.coin_key = key;
	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &own_a));
	trt_recv(t, 2, trt_state(0, 1, 0, NULL));
	assert_sent(t, RABIA_MSG_VOTE, 0, 1, RABIA_VOTE_UNKNOWN, NULL);
	trt_clear(t);
	trt_recv(t, 2, trt_vote(0, 1, RABIA_VOTE_UNKNOWN, NULL));
	assert_sent(t, RABIA_MSG_STATE, 0, 2, (uint8_t)coin, id);
	assert_true(rabia_get_stats(t->r)->coin_flips == 1);
	trt_recv(t, 2, trt_state(0, 2, (uint8_t)coin, id));
	trt_clear(t);
	trt_recv(t, 2, trt_vote(0, 2, (uint8_t)coin, id));
	assert_decided(t, 0, id);
}

static void
test_rabia_question_votes_flip_the_common_coin_to_one(void **state)
{
	run_coin_slot(*state, 1);
}

static void
test_rabia_question_votes_flip_the_common_coin_to_zero(void **state)
{
	run_coin_slot(*state, 0);
}

static void
test_rabia_a_seen_one_vote_is_adopted_without_the_coin(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	start(f, 3);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &own_a));
	trt_recv(t, 2, trt_state(0, 1, 0, NULL));
	trt_clear(t);
	/* Votes: own "?", peer's 1: fewer than f+1 ones, so adopt 1 (line 12). */
	trt_recv(t, 1, trt_vote(0, 1, 1, &own_a));
	assert_sent(t, RABIA_MSG_STATE, 0, 2, 1, &own_a);
	assert_int_equal(t->cap.decided_count, 0);
	assert_true(rabia_get_stats(t->r)->coin_flips == 0);
}

static void
test_rabia_counts_distinct_senders_and_drops_equivocation(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id x = rabia_batch_id_make(3, 0);
	struct rabia_batch_id y = rabia_batch_id_make(3, 1);
	const struct rabia_event *e;

	start(f, 5); /* n-f = 3 */
	trt_submit(t, 500, 1);
	trt_clear(t);
	assert_int_equal(trt_recv(t, 1, trt_proposal(0, &own_a)), 0);
	assert_int_equal(trt_recv(t, 1, trt_proposal(0, &own_a)), 0);
	assert_true(rabia_get_stats(t->r)->duplicates == 1);
	assert_null(trt_find(t, RABIA_MSG_STATE, 0)); /* two senders, however many messages */

	assert_int_equal(trt_recv(t, 2, trt_proposal(0, &x)), 0);
	assert_sent(t, RABIA_MSG_STATE, 0, 1, 0, NULL); /* own_a has 2 of the 3 needed */
	assert_int_equal(trt_recv(t, 2, trt_proposal(0, &y)), -EPROTO);
	assert_true(rabia_get_stats(t->r)->equivocations == 1);
	e = trt_find_event(t, RABIA_EVENT_VIOLATION);
	assert_non_null(e);
	assert_int_equal(e->peer, trt_id(2));
	assert_int_equal(e->code, RABIA_VIOLATION_EQUIVOCATION);

	/* The same holds per phase and round: a repeated STATE does not make a quorum. */
	trt_clear(t);
	trt_recv(t, 1, trt_state(0, 1, 0, NULL));
	trt_recv(t, 1, trt_state(0, 1, 0, NULL));
	assert_null(trt_find(t, RABIA_MSG_VOTE, 0));
	assert_int_equal(trt_recv(t, 1, trt_state(0, 1, 1, &own_a)), -EPROTO);
	trt_recv(t, 3, trt_state(0, 1, 0, NULL));
	assert_sent(t, RABIA_MSG_VOTE, 0, 1, 0, NULL);
	assert_true(rabia_get_stats(t->r)->equivocations == 2);
}

static void
test_rabia_one_valued_message_naming_another_batch_is_dropped(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id y = rabia_batch_id_make(3, 9);

	start(f, 3);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &own_a)); /* majority: own_a */
	trt_clear(t);
	assert_int_equal(trt_recv(t, 2, trt_state(0, 1, 1, &y)), -EPROTO);
	assert_int_equal(trt_find_event(t, RABIA_EVENT_VIOLATION)->code, RABIA_VIOLATION_WRONG_ID);
	assert_null(trt_find(t, RABIA_MSG_VOTE, 0));
}

static void
test_rabia_empty_queue_proposes_null_and_null_never_makes_a_majority(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	start(f, 3);
	trt_tick(t, 5000);
	assert_null(trt_find(t, RABIA_MSG_PROPOSAL, 0)); /* nothing to propose, nobody asked */
	trt_clear(t);
	trt_recv(t, 1, trt_proposal(0, NULL));
	/* R3: a proposal arrived, so propose NULL; two NULLs are "no majority": state 0. */
	assert_sent(t, RABIA_MSG_PROPOSAL, 0, 0, 0, NULL);
	assert_sent(t, RABIA_MSG_STATE, 0, 1, 0, NULL);
}

static void
test_rabia_decided_one_without_body_fetches_it_by_id(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg req = trt_req(f->buf, sizeof(f->buf), 1, 5, 900);
	struct rabia_batch_id m = req.id;
	struct rabia_msg reply = req;

	start(f, 3);
	/* rabia.md 1.9-A: replica 0 never saw m's REQ and proposes NULL. */
	trt_recv(t, 1, trt_proposal(0, &m));
	assert_sent(t, RABIA_MSG_STATE, 0, 1, 0, NULL);
	trt_recv(t, 1, trt_state(0, 1, 1, &m));
	assert_sent(t, RABIA_MSG_VOTE, 0, 1, RABIA_VOTE_UNKNOWN, NULL);
	trt_clear(t);
	trt_recv(t, 2, trt_vote(0, 1, 1, &m));
	/* It adopts 1 and can name the batch because the VOTE carried its id (R7). */
	assert_sent(t, RABIA_MSG_STATE, 0, 2, 1, &m);
	trt_recv(t, 1, trt_state(0, 2, 1, &m));
	trt_clear(t);
	trt_recv(t, 1, trt_vote(0, 2, 1, &m));
	assert_sent(t, RABIA_MSG_DECISION, 0, 0, RABIA_DECISION_ID, &m);
	assert_sent(t, RABIA_MSG_FETCH, 0, 0, 0, &m);
	assert_int_equal(t->cap.decided_count, 0); /* not deliverable without the body */

	trt_clear(t);
	trt_tick(t, f->cfg.rto_ns);
	assert_non_null(trt_find(t, RABIA_MSG_FETCH, 0)); /* the fetch is retransmitted */
	assert_int_equal(t->cap.decided_count, 0);

	trt_clear(t);
	reply.type = RABIA_MSG_FETCH_REPLY;
	assert_int_equal(trt_recv(t, 2, reply), 0);
	assert_decided(t, 0, &m);
	assert_true(t->cap.decided[0].client_id[0] == 900);
}

static void
test_rabia_fetch_is_answered_from_queue_and_from_decided_window(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg fetch = {.type = RABIA_MSG_FETCH, .id = own_a};
	const struct trt_msg *reply;

	start(f, 3);
	trt_submit(t, 500, 1);
	trt_clear(t);
	trt_recv(t, 2, fetch);
	reply = trt_find(t, RABIA_MSG_FETCH_REPLY, 0);
	assert_non_null(reply);
	assert_int_equal(reply->to, trt_id(2));
	assert_true(rabia_batch_id_equal(reply->m.id, own_a));

	/* Decide it, then ask again: the body now comes from the decided window. */
	trt_recv(t, 1, trt_proposal(0, &own_a));
	trt_recv(t, 1, trt_state(0, 1, 1, &own_a));
	trt_recv(t, 1, trt_vote(0, 1, 1, &own_a));
	assert_int_equal(rabia_pending_count(t->r), 0);
	trt_clear(t);
	trt_recv(t, 2, fetch);
	reply = trt_find(t, RABIA_MSG_FETCH_REPLY, 1);
	assert_non_null(reply);
	assert_int_equal(reply->m.batch_count, 1);
}

static void
test_rabia_next_slot_and_next_phase_messages_are_buffered(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	start(f, 3);
	trt_submit(t, 500, 1);
	/* Phase 1 VOTE and a slot-1 PROPOSAL arrive before the messages they follow. */
	trt_recv(t, 1, trt_vote(0, 1, 1, &own_a));
	trt_recv(t, 1, trt_proposal(1, NULL));
	trt_recv(t, 1, trt_proposal(0, &own_a));
	trt_clear(t);
	trt_recv(t, 1, trt_state(0, 1, 1, &own_a));
	/* The buffered VOTE completes the phase at once; slot 1 then has a proposal waiting. */
	assert_decided(t, 0, &own_a);
	assert_sent(t, RABIA_MSG_PROPOSAL, 1, 0, 0, NULL);
	assert_true(rabia_get_stats(t->r)->ahead_drops == 0);
}

/*
 * Regression (aether-sim seed 157): replica 0 reached phase 3 with peer 1's help, then peer 1
 * crashed. Peer 2 is still in phase 1 and needs our phase-1 messages, which the timer no
 * longer re-sends (it covers the last two phases); without them neither side can move.
 */
static void
test_rabia_peer_behind_in_phases_gets_old_phase_messages_on_demand(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	const struct trt_msg *m;

	start(f, 3);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &own_a)); /* state 1 */
	for (uint32_t p = 1; p <= 2; p++) {
		uint8_t mine = trt_find_phase(t, RABIA_MSG_STATE, 0, p)->m.value;

		trt_recv(t, 1, trt_state(0, p, (uint8_t)(1 - mine), &own_a));
		trt_recv(t, 1, trt_vote(0, p, RABIA_VOTE_UNKNOWN, NULL));
	}
	assert_non_null(trt_find_phase(t, RABIA_MSG_STATE, 0, 3));
	trt_clear(t);
	assert_int_equal(trt_recv(t, 2, trt_state(0, 1, 0, NULL)), 0);
	m = trt_find_phase(t, RABIA_MSG_STATE, 0, 1);
	assert_non_null(m);
	assert_int_equal(m->to, trt_id(2));
	assert_int_equal(m->m.value, 1);
	m = trt_find_phase(t, RABIA_MSG_VOTE, 0, 1);
	assert_non_null(m);
	assert_int_equal(m->to, trt_id(2));
	assert_int_equal(m->m.value, RABIA_VOTE_UNKNOWN);
	/* Once per peer and phase per half RTO: a retransmitted copy gets no second answer. */
	trt_clear(t);
	trt_recv(t, 2, trt_vote(0, 1, RABIA_VOTE_UNKNOWN, NULL));
	assert_int_equal(t->cap.msg_count, 0);
}

/* The simulator's mutation checks rely on these test-only wrong rules doing what they say. */
static void
test_rabia_break_rules_change_the_protocol_as_named(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	trt_cfg(&f->cfg, 3, 0);
	f->cfg.break_rules = RABIA_BREAK_NF_FAST_PATH;
	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &own_a));
	trt_clear(t);
	trt_recv(t, 1, trt_state(0, 1, 1, &own_a));
	assert_decided(t, 0, &own_a); /* on n-f equal STATEs, without a VOTE round */
	assert_null(trt_find(t, RABIA_MSG_VOTE, 0));
	trt_stop(t);

	trt_cfg(&f->cfg, 5, 0); /* n-f = 3 */
	f->cfg.break_rules = RABIA_BREAK_COUNT_MESSAGES;
	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	trt_clear(t);
	trt_recv(t, 1, trt_proposal(0, NULL));
	assert_null(trt_find(t, RABIA_MSG_STATE, 0));
	trt_recv(t, 1, trt_proposal(0, NULL));
	/* own_a, NULL, and the repeated NULL counted as a third sender. */
	assert_non_null(trt_find_phase(t, RABIA_MSG_STATE, 0, 1));
	assert_int_equal(rabia_get_stats(t->r)->duplicates, 0);
}

static void
test_rabia_ticks_alone_never_decide(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	start(f, 3);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &own_a));
	trt_recv(t, 1, trt_state(0, 1, 1, &own_a));
	for (uint64_t now = 0; now < 100 * f->cfg.rto_ns; now += f->cfg.rto_ns / 3) {
		trt_clear(t);
		trt_tick(t, now);
		assert_int_equal(t->cap.decided_count, 0);
	}
	/* The timer did run: it re-sent the slot's messages. */
	assert_true(rabia_get_stats(t->r)->retransmits >= 50);
	assert_true(rabia_next_slot(t->r) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rabia_all_same_proposals_decide_in_phase_one,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_all_different_proposals_decide_null_and_requeue_own, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_question_votes_flip_the_common_coin_to_one, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_question_votes_flip_the_common_coin_to_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_a_seen_one_vote_is_adopted_without_the_coin, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_counts_distinct_senders_and_drops_equivocation, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_one_valued_message_naming_another_batch_is_dropped, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_empty_queue_proposes_null_and_null_never_makes_a_majority, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_decided_one_without_body_fetches_it_by_id, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_fetch_is_answered_from_queue_and_from_decided_window, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_next_slot_and_next_phase_messages_are_buffered, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_peer_behind_in_phases_gets_old_phase_messages_on_demand, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_rabia_break_rules_change_the_protocol_as_named,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rabia_ticks_alone_never_decide, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
