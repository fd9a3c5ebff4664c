/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the SMR loop around Weak-MVC keeps its promises: a decided batch is never queued or
 * proposed again; DECISIONs are adopted (also ahead of time) and delivered in order; laggards
 * are answered; a replica too far behind or too far ahead is told to transfer state; timers
 * only retransmit; R11's high-water mark gates every vote, also after a restart; every bound
 * gives a clear error or counter. Method: one replica (member index 0, node id 1) driven by
 * hand-built messages, ticks and storage completions; the test checks each step's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/err.h"
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

	trt_cfg(&f->cfg, 3, 0);
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

static const struct rabia_batch_id own_a = {.proxy = 1, .reserved = 0, .seq = 0};

static struct rabia_msg
decision(uint64_t slot, const struct rabia_batch_id *id)
{
	struct rabia_msg m = {.type = RABIA_MSG_DECISION, .slot = slot};

	if (id != NULL) {
		m.value = RABIA_DECISION_ID;
		m.id = *id;
	}
	return m;
}

static int
recv_raw(struct trt *t, uint32_t from_id, const uint8_t *data, size_t size)
{
	struct rabia_input in = {.type = RABIA_INPUT_MESSAGE, .now_ns = t->now_ns};

	in.message.from = from_id;
	in.message.data = data;
	in.message.size = size;
	return trt_step(t, &in);
}

/* No PROPOSAL, STATE or VOTE about any slot below `slot` in the capture. */
static void
assert_no_votes_below(const struct trt *t, uint64_t slot)
{
	for (size_t i = 0; i < t->cap.msg_count; i++) {
		const struct rabia_msg *m = &t->cap.msgs[i].m;

		if (m->type == RABIA_MSG_PROPOSAL || m->type == RABIA_MSG_STATE ||
		    m->type == RABIA_MSG_VOTE) {
			assert_true(m->slot >= slot);
		}
	}
}

static void
test_rabia_decided_batch_is_never_queued_or_proposed_again(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg req = trt_req(f->buf, sizeof(f->buf), 1, 0, 900);
	struct rabia_batch_id b = req.id;
	const struct trt_msg *m;

	trt_start(t, &f->cfg);
	assert_int_equal(trt_recv(t, 1, req), 0);
	m = trt_find(t, RABIA_MSG_REQ_ACK, 0);
	assert_non_null(m);
	assert_int_equal(m->to, trt_id(1));
	trt_submit(t, 500, 1);
	assert_int_equal(rabia_pending_count(t->r), 2);

	trt_clear(t);
	trt_recv(t, 1, decision(0, &b));
	assert_int_equal(t->cap.decided_count, 1);
	assert_true(rabia_batch_id_equal(t->cap.decided[0].id, b));
	assert_true(t->cap.decided[0].client_id[0] == 900); /* body came from the queue */

	/* A late retransmission of b is acknowledged (so the proxy stops) but not queued. */
	trt_clear(t);
	trt_recv(t, 1, req);
	assert_non_null(trt_find(t, RABIA_MSG_REQ_ACK, 1));
	assert_int_equal(rabia_pending_count(t->r), 1);

	trt_recv(t, 2, decision(1, &own_a));
	trt_clear(t);
	trt_recv(t, 1, trt_proposal(2, NULL));
	m = trt_find(t, RABIA_MSG_PROPOSAL, 2);
	assert_non_null(m);
	assert_int_equal(m->m.value, 0); /* NULL: neither b nor own_a comes back */
}

static void
test_rabia_nothing_is_sent_before_the_durable_mark_is_confirmed(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id x = rabia_batch_id_make(2, 0);
	struct rabia_input done = {.type = RABIA_INPUT_STORAGE_DONE};

	t->cfg = f->cfg;
	assert_int_equal(rabia_create(&f->cfg, &t->r), 0);
	trt_tick(t, 0);
	assert_true(t->cap.has_write);
	assert_true(t->cap.write.value.slot_hwm == f->cfg.hwm_step);
	assert_int_equal(rabia_submit(t->r, 500, 1, f->buf, 8), 0);
	trt_recv(t, 1, trt_proposal(0, &x));
	trt_tick(t, 10);
	/* R11: no batch id and no vote until the mark covering them is durable. */
	assert_null(trt_find(t, RABIA_MSG_REQ, 0));
	assert_null(trt_find(t, RABIA_MSG_PROPOSAL, 0));

	done.storage.token = t->cap.write.token + 1;
	assert_int_equal(trt_step(t, &done), -ESTALE);
	done.storage.token = t->cap.write.token;
	trt_clear(t);
	assert_int_equal(trt_step(t, &done), 0);
	assert_non_null(trt_find(t, RABIA_MSG_REQ, 0));
	assert_non_null(trt_find(t, RABIA_MSG_PROPOSAL, 0));
	assert_true(rabia_durable_state(t->r).slot_hwm == f->cfg.hwm_step);
}

static void
test_rabia_failed_durable_write_is_reported_and_retried(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_input done = {.type = RABIA_INPUT_STORAGE_DONE};
	uint64_t token;

	t->cfg = f->cfg;
	assert_int_equal(rabia_create(&f->cfg, &t->r), 0);
	trt_tick(t, 0);
	token = t->cap.write.token;
	trt_clear(t);
	done.storage.token = token;
	done.storage.status = -EIO;
	assert_int_equal(trt_step(t, &done), 0);
	assert_non_null(trt_find_event(t, RABIA_EVENT_STORAGE_FAILED));
	assert_int_equal(trt_find_event(t, RABIA_EVENT_STORAGE_FAILED)->code, -EIO);
	assert_false(t->cap.has_write);
	assert_true(t->cap.next_tick_ns == f->cfg.rto_ns);
	assert_true(rabia_durable_state(t->r).slot_hwm == 0);
	trt_clear(t);
	trt_tick(t, f->cfg.rto_ns);
	assert_true(t->cap.has_write);
	assert_true(t->cap.write.token == token + 1);
}

static void
test_rabia_restarted_replica_never_votes_below_its_recovered_mark(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id x = rabia_batch_id_make(2, 7);
	const struct trt_msg *m;

	/* rabia.md 1.9-C: it may have voted in slots 0..2 before the crash. */
	f->cfg.recovered.epoch = TRT_EPOCH;
	f->cfg.recovered.slot_hwm = 3;
	f->cfg.recovered.batch_seq_hwm = 40;
	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &x));
	trt_recv(t, 1, trt_state(0, 1, 0, NULL));
	trt_recv(t, 2, trt_vote(0, 1, RABIA_VOTE_UNKNOWN, NULL));
	trt_tick(t, f->cfg.rto_ns);
	assert_no_votes_below(t, 3);
	m = trt_find(t, RABIA_MSG_REQ, 0);
	assert_non_null(m);
	assert_true(m->m.id.seq == 40);        /* batch ids continue above the recovered mark */
	m = trt_find(t, RABIA_MSG_DEC_REQ, 0); /* it asks for the slots it must learn */
	assert_non_null(m);
	assert_int_equal(m->to, RABIA_TO_ALL);

	trt_clear(t);
	trt_recv(t, 1, decision(0, NULL));
	trt_recv(t, 1, decision(1, NULL));
	trt_recv(t, 1, decision(2, NULL));
	assert_int_equal(t->cap.decided_count, 3);
	m = trt_find(t, RABIA_MSG_PROPOSAL, 3);
	assert_non_null(m);
	assert_true(m->m.id.seq == 40);
	assert_no_votes_below(t, 3);
}

static void
test_rabia_marks_of_an_older_epoch_do_not_keep_a_replica_passive(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	const struct trt_msg *m;

	/* The way out after more than f restarts: every replica comes back in the next epoch. */
	f->cfg.recovered.epoch = TRT_EPOCH - 1;
	f->cfg.recovered.slot_hwm = 50;
	f->cfg.recovered.batch_seq_hwm = 40;
	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	m = trt_find(t, RABIA_MSG_PROPOSAL, 0);
	assert_non_null(m);
	assert_true(m->m.id.seq == 40); /* batch ids still never repeat */
	assert_true(rabia_durable_state(t->r).epoch == TRT_EPOCH);
	f->cfg.recovered.epoch = TRT_EPOCH + 1;
	assert_int_equal(rabia_cfg_check(&f->cfg), -EINVAL);
}

static void
test_rabia_decisions_ahead_are_kept_and_delivered_in_order(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id x = rabia_batch_id_make(2, 0);

	trt_start(t, &f->cfg);
	trt_recv(t, 1, decision(2, NULL));
	trt_recv(t, 2, decision(1, NULL));
	assert_int_equal(t->cap.decided_count, 0);
	trt_recv(t, 1, decision(0, NULL));
	assert_int_equal(t->cap.decided_count, 3);
	for (uint64_t s = 0; s < 3; s++) {
		assert_true(t->cap.decided[s].slot == s);
		assert_true(t->cap.decided[s].is_null);
	}
	assert_true(rabia_get_stats(t->r)->decisions_adopted == 3);
	/* A DECISION contradicting a known one is a violation, dropped. */
	trt_clear(t);
	assert_int_equal(trt_recv(t, 2, decision(1, &x)), -EPROTO);
	assert_int_equal(trt_find_event(t, RABIA_EVENT_VIOLATION)->code, RABIA_VIOLATION_DECISION);
}

static void
test_rabia_more_decisions_than_output_room_continue_next_step(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	f->cfg.out_decided_max = 1;
	trt_start(t, &f->cfg);
	t->now_ns = 50;
	trt_recv(t, 1, decision(2, NULL));
	trt_recv(t, 1, decision(1, NULL));
	trt_recv(t, 1, decision(0, NULL));
	assert_int_equal(t->cap.decided_count, 1);
	assert_true(t->cap.next_tick_ns == 50); /* wake up now: more to deliver */
	trt_tick(t, 50);
	trt_tick(t, 50);
	assert_int_equal(t->cap.decided_count, 3);
	assert_true(t->cap.decided[2].slot == 2);
}

static void
test_rabia_laggards_are_answered_with_decisions(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg req = trt_req(f->buf, sizeof(f->buf), 1, 0, 900);
	struct rabia_msg dec = req;
	struct rabia_msg ask = {.type = RABIA_MSG_DEC_REQ, .slot = 0, .slot_hi = 10};
	const struct trt_msg *m;

	trt_start(t, &f->cfg);
	dec.type = RABIA_MSG_DECISION;
	dec.slot = 0;
	dec.value = RABIA_DECISION_BATCH;
	trt_recv(t, 1, dec);
	trt_recv(t, 1, decision(1, NULL));
	trt_recv(t, 1, decision(2, NULL));
	assert_true(rabia_next_slot(t->r) == 3);

	/* Peer 2 still works on slot 0: it gets the decision, body included. */
	trt_clear(t);
	trt_recv(t, 2, trt_proposal(0, NULL));
	m = trt_find(t, RABIA_MSG_DECISION, 0);
	assert_non_null(m);
	assert_int_equal(m->to, trt_id(2));
	assert_int_equal(m->m.value, RABIA_DECISION_BATCH);
	assert_int_equal(m->m.batch_count, 1);

	trt_clear(t);
	trt_recv(t, 2, ask);
	assert_int_equal(trt_count(t, RABIA_MSG_DECISION), 3);
	assert_non_null(trt_find(t, RABIA_MSG_DECISION, 2));
}

static void
test_rabia_requests_older_than_the_window_get_stale(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg ask = {.type = RABIA_MSG_DEC_REQ, .slot = 5, .slot_hi = 10};
	const struct rabia_event *e;
	const struct trt_msg *m;

	trt_start(t, &f->cfg);
	for (uint64_t s = 0; s < 40; s++) {
		trt_recv(t, 1, decision(s, NULL));
	}
	assert_true(rabia_next_slot(t->r) == 40);
	trt_clear(t);
	trt_recv(t, 2, ask);
	m = trt_find(t, RABIA_MSG_STALE, 40);
	assert_non_null(m);
	assert_int_equal(m->to, trt_id(2));
	assert_true(m->m.slot_hi == 40 - f->cfg.window_slots); /* where our window starts */
	e = trt_find_event(t, RABIA_EVENT_PEER_NEEDS_TRANSFER);
	assert_non_null(e);
	assert_int_equal(e->peer, trt_id(2));
	assert_true(e->slot == 5);
	assert_null(trt_find(t, RABIA_MSG_DECISION, 5));
}

static void
test_rabia_replica_far_behind_asks_for_state_transfer(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id x = rabia_batch_id_make(2, 0);
	const struct rabia_event *e;

	trt_start(t, &f->cfg);
	trt_recv(t, 1, trt_proposal(100, &x));
	e = trt_find_event(t, RABIA_EVENT_NEED_TRANSFER);
	assert_non_null(e);
	assert_int_equal(e->peer, trt_id(1));
	assert_true(e->slot == 100);
	assert_non_null(trt_find(t, RABIA_MSG_DEC_REQ, 0));

	/* While it stays behind, the timer keeps asking (once per RTO). */
	trt_clear(t);
	trt_tick(t, 10 * f->cfg.rto_ns);
	assert_non_null(trt_find_event(t, RABIA_EVENT_NEED_TRANSFER));
	assert_non_null(trt_find(t, RABIA_MSG_DEC_REQ, 0));
}

static void
test_rabia_stale_reply_asks_for_state_transfer(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg stale = {.type = RABIA_MSG_STALE, .slot = 10, .slot_hi = 5};
	const struct rabia_event *e;

	trt_start(t, &f->cfg);
	trt_recv(t, 2, stale);
	e = trt_find_event(t, RABIA_EVENT_NEED_TRANSFER);
	assert_non_null(e);
	assert_int_equal(e->peer, trt_id(2));
	assert_true(e->slot == 10);
}

static void
test_rabia_installed_state_continues_at_the_next_slot(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_input in = {.type = RABIA_INPUT_STATE_INSTALLED};
	struct rabia_msg ask = {.type = RABIA_MSG_DEC_REQ, .slot = 10, .slot_hi = 20};

	trt_start(t, &f->cfg);
	in.installed.slot = 41;
	assert_int_equal(trt_step(t, &in), 0);
	assert_true(rabia_next_slot(t->r) == 42);
	in.installed.slot = 30;
	assert_int_equal(trt_step(t, &in), -ESTALE);
	trt_clear(t);
	trt_recv(t, 2, ask);
	assert_non_null(trt_find(t, RABIA_MSG_STALE, 42));
	trt_recv(t, 1, decision(42, NULL));
	assert_int_equal(t->cap.decided_count, 1);
	assert_true(t->cap.decided[0].slot == 42);
}

static void
test_rabia_timer_retransmits_slot_messages_and_unacked_reqs(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg ack = {.type = RABIA_MSG_REQ_ACK, .id = own_a};
	const struct trt_msg *m;

	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, ack);
	trt_clear(t);
	trt_tick(t, f->cfg.rto_ns - 1);
	assert_int_equal(t->cap.msg_count, 0);
	trt_tick(t, f->cfg.rto_ns);
	assert_non_null(trt_find(t, RABIA_MSG_PROPOSAL, 0));
	m = trt_find(t, RABIA_MSG_REQ, 0);
	assert_non_null(m);
	assert_int_equal(m->to, trt_id(2)); /* only the peer that has not acknowledged */
	assert_int_equal(trt_count(t, RABIA_MSG_REQ), 1);

	trt_recv(t, 1, trt_proposal(0, &own_a));
	trt_recv(t, 1, trt_state(0, 1, 1, &own_a));
	trt_clear(t);
	trt_tick(t, 3 * f->cfg.rto_ns);
	assert_non_null(trt_find(t, RABIA_MSG_PROPOSAL, 0));
	assert_non_null(trt_find_phase(t, RABIA_MSG_STATE, 0, 1));
	assert_non_null(trt_find_phase(t, RABIA_MSG_VOTE, 0, 1));
	assert_true(rabia_get_stats(t->r)->retransmits >= 2);
}

static void
test_rabia_batch_timeout_delays_sealing(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	f->cfg.batch_timeout_ns = 500;
	trt_start(t, &f->cfg);
	trt_tick(t, 0);
	assert_true(t->cap.next_tick_ns == UINT64_MAX); /* idle, no heartbeat: no timer */
	assert_int_equal(rabia_submit(t->r, 1, 1, f->buf, 4), 0);
	assert_int_equal(rabia_submit(t->r, 2, 1, f->buf, 4), 0);
	trt_tick(t, 100);
	assert_null(trt_find(t, RABIA_MSG_REQ, 0));
	assert_true(t->cap.next_tick_ns == 600);
	trt_tick(t, 600);
	assert_non_null(trt_find(t, RABIA_MSG_REQ, 0));
	assert_int_equal(trt_find(t, RABIA_MSG_REQ, 0)->m.batch_count, 2);
	assert_non_null(trt_find(t, RABIA_MSG_PROPOSAL, 0));
}

static void
test_rabia_heartbeat_asks_peers_for_missed_decisions(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	const struct trt_msg *m;

	f->cfg.heartbeat_ns = 5000;
	trt_start(t, &f->cfg);
	trt_clear(t);
	trt_tick(t, 5000);
	m = trt_find(t, RABIA_MSG_DEC_REQ, 0);
	assert_non_null(m);
	assert_int_equal(m->to, RABIA_TO_ALL);
	assert_true(t->cap.next_tick_ns == 10000);
}

static void
test_rabia_submit_bounds_give_clear_errors(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	uint8_t big[128] = {0};
	int accepted = 0;
	int rc = 0;

	trt_start(t, &f->cfg);
	assert_int_equal(rabia_submit(t->r, 1, 1, big, f->cfg.request_bytes_max + 1), -EMSGSIZE);
	/* This proxy's share is pending_max / n batches of batch_count_max requests. */
	while (accepted < 1000 && (rc = rabia_submit(t->r, 1, (uint64_t)accepted, big, 8)) == 0) {
		accepted++;
	}
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(accepted, (f->cfg.pending_max / 3) * f->cfg.batch_count_max);
	assert_int_equal(rabia_pending_count(t->r), f->cfg.pending_max / 3);
	assert_true(rabia_get_stats(t->r)->submit_rejects == 2);
}

static void
test_rabia_oversized_or_misattributed_batches_are_violations(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_builder b;
	struct rabia_msg req = {.type = RABIA_MSG_REQ};

	trt_start(t, &f->cfg);
	rabia_batch_begin(&b, f->buf, sizeof(f->buf));
	for (uint32_t i = 0; i <= f->cfg.batch_count_max; i++) {
		assert_int_equal(rabia_batch_add(&b, i, 1, NULL, 0), 0);
	}
	req.id = rabia_batch_id_make(trt_id(1), 0);
	req.batch_size = rabia_batch_finish(&b, req.id);
	req.batch = f->buf;
	req.batch_count = b.count;
	assert_int_equal(trt_recv(t, 1, req), -EPROTO);
	assert_int_equal(trt_find_event(t, RABIA_EVENT_VIOLATION)->code, RABIA_VIOLATION_BATCH);
	/* A REQ whose batch names another proxy than its sender. */
	req = trt_req(f->buf, sizeof(f->buf), 2, 0, 1);
	assert_int_equal(trt_recv(t, 1, req), -EPROTO);
	assert_int_equal(rabia_pending_count(t->r), 0);
	assert_null(trt_find(t, RABIA_MSG_REQ_ACK, 0));
}

static void
test_rabia_foreign_garbled_and_spoofed_messages_are_rejected(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_msg m = trt_proposal(0, NULL);
	uint8_t buf[RABIA_MSG_MAX];
	size_t size;
	const struct rabia_stats *st;

	trt_start(t, &f->cfg);
	st = rabia_get_stats(t->r);
	m.sender = trt_id(1);
	m.cluster_id = TRT_CLUSTER + 1;
	m.epoch = TRT_EPOCH;
	assert_int_equal(rabia_msg_encode(&m, buf, sizeof(buf), &size), 0);
	assert_int_equal(recv_raw(t, trt_id(1), buf, size), -ESTALE);
	assert_true(st->foreign == 1);

	m.cluster_id = TRT_CLUSTER;
	assert_int_equal(rabia_msg_encode(&m, buf, sizeof(buf), &size), 0);
	assert_int_equal(recv_raw(t, trt_id(2), buf, size), -EPROTO); /* header says node 2 */
	assert_int_equal(trt_find_event(t, RABIA_EVENT_VIOLATION)->code, RABIA_VIOLATION_SENDER);
	m.sender = trt_id(0);
	assert_int_equal(rabia_msg_encode(&m, buf, sizeof(buf), &size), 0);
	assert_int_equal(recv_raw(t, trt_id(0), buf, size), -EPROTO); /* claims to be us */

	buf[0] = 99;
	assert_true(recv_raw(t, trt_id(1), buf, size) < 0);
	assert_true(st->decode_errors == 1);
	assert_null(trt_find(t, RABIA_MSG_PROPOSAL, 0)); /* none of them counted as a proposal */
}

static void
test_rabia_phase_alarm_fires_once_and_the_slot_keeps_going(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;
	struct rabia_batch_id x = rabia_batch_id_make(2, 0);
	const struct trt_msg *m;

	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	trt_recv(t, 1, trt_proposal(0, &x)); /* a and x: state 0 */
	for (uint32_t p = 1; p <= f->cfg.phase_max + 3; p++) {
		uint8_t mine;

		m = trt_find_phase(t, RABIA_MSG_STATE, 0, p);
		assert_non_null(m);
		mine = m->m.value;
		/* The peer always holds the other state, then votes "?": no decision, ever. */
		trt_clear(t);
		trt_recv(t, 1, trt_state(0, p, (uint8_t)(1 - mine), &x));
		trt_recv(t, 1, trt_vote(0, p, RABIA_VOTE_UNKNOWN, NULL));
		assert_int_equal(t->cap.decided_count, 0);
	}
	assert_true(rabia_get_stats(t->r)->phase_alarms == 1);
	assert_true(rabia_get_stats(t->r)->phase_max_seen == f->cfg.phase_max + 4);
	assert_true(rabia_get_stats(t->r)->coin_flips == f->cfg.phase_max + 3);
}

static void
test_rabia_full_output_drops_messages_and_counts_them(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	f->cfg.out_msgs_max = 8;
	f->cfg.batch_count_max = 1;
	trt_start(t, &f->cfg);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(rabia_submit(t->r, 1, (uint64_t)i, f->buf, 4), 0);
	}
	trt_tick(t, 0);
	assert_int_equal(t->cap.msg_count, 8);
	assert_true(rabia_get_stats(t->r)->msgs_out_dropped >= 3);
}

static void
test_rabia_single_member_cluster_decides_alone(void **state)
{
	struct fixture *f = *state;
	struct trt *t = &f->t;

	trt_cfg(&f->cfg, 1, 0);
	trt_start(t, &f->cfg);
	trt_submit(t, 500, 1);
	trt_submit(t, 501, 1);
	assert_int_equal(t->cap.msg_count, 0);
	assert_int_equal(t->cap.decided_count, 2);
	assert_true(t->cap.decided[1].client_id[0] == 501);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_rabia_decided_batch_is_never_queued_or_proposed_again, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_nothing_is_sent_before_the_durable_mark_is_confirmed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_failed_durable_write_is_reported_and_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_restarted_replica_never_votes_below_its_recovered_mark, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_marks_of_an_older_epoch_do_not_keep_a_replica_passive, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_decisions_ahead_are_kept_and_delivered_in_order, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_more_decisions_than_output_room_continue_next_step, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_rabia_laggards_are_answered_with_decisions,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rabia_requests_older_than_the_window_get_stale,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_replica_far_behind_asks_for_state_transfer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rabia_stale_reply_asks_for_state_transfer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_installed_state_continues_at_the_next_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_timer_retransmits_slot_messages_and_unacked_reqs, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_rabia_batch_timeout_delays_sealing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_heartbeat_asks_peers_for_missed_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rabia_submit_bounds_give_clear_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_oversized_or_misattributed_batches_are_violations, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_foreign_garbled_and_spoofed_messages_are_rejected, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_phase_alarm_fires_once_and_the_slot_keeps_going, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_rabia_full_output_drops_messages_and_counts_them, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rabia_single_member_cluster_decides_alone,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
