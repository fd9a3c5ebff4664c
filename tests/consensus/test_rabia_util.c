/* SPDX-License-Identifier: Apache-2.0 */
#include "test_rabia_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

void
trt_cfg(struct rabia_cfg *cfg, uint32_t n, uint32_t self)
{
	memset(cfg, 0, sizeof(*cfg));
	rabia_cfg_defaults(cfg);
	cfg->cluster_id = TRT_CLUSTER;
	cfg->epoch = TRT_EPOCH;
	cfg->coin_key = 42;
	cfg->self_id = trt_id(self);
	cfg->member_count = n;
	for (uint32_t i = 0; i < n; i++) {
		cfg->members[i] = trt_id(i);
	}
	cfg->batch_count_max = 8;
	cfg->batch_bytes_max = 1024;
	cfg->request_bytes_max = 64;
	cfg->pending_max = 32;
	cfg->window_slots = 16;
	cfg->ahead_slots = 4;
	cfg->decided_ids_max = 64;
	cfg->phase_max = 8;
	cfg->hwm_step = 16;
	cfg->catchup_max = 8;
	cfg->out_msgs_max = 64;
	cfg->out_bytes_max = 64 * 1024;
	cfg->out_decided_max = 4;
	cfg->rto_ns = 1000;
	cfg->batch_timeout_ns = 0;
	cfg->heartbeat_ns = 0;
}

static void
capture_msgs(struct trt_capture *c, const struct rabia_output *out)
{
	for (size_t i = 0; i < out->msg_count; i++) {
		struct trt_msg *m;

		assert_true(c->msg_count < TRT_CAP_MSGS);
		m = &c->msgs[c->msg_count++];
		m->to = out->msgs[i].to;
		assert_true(out->msgs[i].size <= RABIA_MSG_MAX);
		memcpy(m->bytes, out->msgs[i].data, out->msgs[i].size);
		m->size = out->msgs[i].size;
		assert_int_equal(rabia_msg_decode(m->bytes, m->size, &m->m), 0);
	}
}

static void
capture_decided(struct trt_capture *c, const struct rabia_output *out)
{
	for (size_t i = 0; i < out->decided_count; i++) {
		const struct rabia_decided *d = &out->decided[i];
		struct trt_decided *x;

		assert_true(c->decided_count < TRT_CAP_DECIDED);
		x = &c->decided[c->decided_count++];
		memset(x, 0, sizeof(*x));
		x->slot = d->slot;
		x->is_null = d->is_null;
		x->id = d->id;
		x->request_count = d->request_count;
		for (size_t k = 0; k < d->request_count && k < 8; k++) {
			x->client_id[k] = d->requests[k].client_id;
			x->client_seq[k] = d->requests[k].client_seq;
		}
	}
}

static void
capture(struct trt *t, const struct rabia_output *out)
{
	struct trt_capture *c = &t->cap;

	capture_msgs(c, out);
	capture_decided(c, out);
	for (size_t i = 0; i < out->event_count; i++) {
		assert_true(c->event_count < 64);
		c->events[c->event_count++] = out->events[i];
	}
	if (out->write != NULL) {
		c->has_write = 1;
		c->write = *out->write;
	}
	c->next_tick_ns = out->next_tick_ns;
}

int
trt_step(struct trt *t, const struct rabia_input *in)
{
	struct rabia_output out;
	int rc = rabia_step(t->r, in, &out);

	t->cap.last_rc = rc;
	capture(t, &out);
	if (t->auto_storage && out.write != NULL) {
		struct rabia_input done = {.type = RABIA_INPUT_STORAGE_DONE, .now_ns = t->now_ns};

		done.storage.token = out.write->token;
		done.storage.status = 0;
		assert_int_equal(rabia_step(t->r, &done, &out), 0);
		capture(t, &out);
	}
	return rc;
}

int
trt_tick(struct trt *t, uint64_t now_ns)
{
	struct rabia_input in = {.type = RABIA_INPUT_TICK};

	if (now_ns > t->now_ns) {
		t->now_ns = now_ns;
	}
	in.now_ns = t->now_ns;
	return trt_step(t, &in);
}

void
trt_clear(struct trt *t)
{
	memset(&t->cap, 0, sizeof(t->cap));
}

void
trt_start(struct trt *t, const struct rabia_cfg *cfg)
{
	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->auto_storage = 1;
	assert_int_equal(rabia_create(cfg, &t->r), 0);
	assert_int_equal(trt_tick(t, 0), 0);
	trt_clear(t);
}

void
trt_stop(struct trt *t)
{
	rabia_destroy(t->r);
	t->r = NULL;
}

int
trt_recv(struct trt *t, uint32_t from, struct rabia_msg m)
{
	uint8_t buf[RABIA_MSG_MAX];
	size_t size;
	struct rabia_input in = {.type = RABIA_INPUT_MESSAGE};

	m.sender = trt_id(from);
	m.cluster_id = TRT_CLUSTER;
	m.epoch = TRT_EPOCH;
	assert_int_equal(rabia_msg_encode(&m, buf, sizeof(buf), &size), 0);
	in.now_ns = t->now_ns;
	in.message.from = trt_id(from);
	in.message.data = buf;
	in.message.size = size;
	return trt_step(t, &in);
}

void
trt_submit(struct trt *t, uint64_t client_id, uint64_t client_seq)
{
	uint8_t body[8] = {'r', 'e', 'q'};

	assert_int_equal(rabia_submit(t->r, client_id, client_seq, body, sizeof(body)), 0);
	assert_int_equal(trt_tick(t, t->now_ns), 0);
}

struct rabia_msg
trt_proposal(uint64_t slot, const struct rabia_batch_id *id)
{
	struct rabia_msg m = {.type = RABIA_MSG_PROPOSAL, .slot = slot};

	if (id != NULL) {
		m.value = 1;
		m.id = *id;
	}
	return m;
}

struct rabia_msg
trt_state(uint64_t slot, uint32_t phase, uint8_t bit, const struct rabia_batch_id *id)
{
	struct rabia_msg m = {.type = RABIA_MSG_STATE, .slot = slot, .phase = phase, .value = bit};

	if (bit == 1) {
		assert_non_null(id);
		m.id = *id;
	}
	return m;
}

struct rabia_msg
trt_vote(uint64_t slot, uint32_t phase, uint8_t vote, const struct rabia_batch_id *id)
{
	struct rabia_msg m = {.type = RABIA_MSG_VOTE, .slot = slot, .phase = phase, .value = vote};

	if (vote == 1) {
		assert_non_null(id);
		m.id = *id;
	}
	return m;
}

struct rabia_msg
trt_req(uint8_t *buf, size_t cap, uint32_t proxy_index, uint64_t seq, uint64_t client_id)
{
	struct rabia_batch_builder b;
	struct rabia_msg m = {.type = RABIA_MSG_REQ};
	uint8_t body[4] = {1, 2, 3, 4};

	rabia_batch_begin(&b, buf, cap);
	assert_int_equal(rabia_batch_add(&b, client_id, 1, body, sizeof(body)), 0);
	m.id = rabia_batch_id_make(trt_id(proxy_index), seq);
	m.batch_size = rabia_batch_finish(&b, m.id);
	m.batch = buf;
	m.batch_count = 1;
	return m;
}

const struct trt_msg *
trt_find_phase(const struct trt *t, uint8_t type, uint64_t slot, uint32_t phase)
{
	for (size_t i = 0; i < t->cap.msg_count; i++) {
		const struct rabia_msg *m = &t->cap.msgs[i].m;

		if (m->type == type && m->slot == slot && (phase == 0 || m->phase == phase)) {
			return &t->cap.msgs[i];
		}
	}
	return NULL;
}

const struct trt_msg *
trt_find(const struct trt *t, uint8_t type, uint64_t slot)
{
	return trt_find_phase(t, type, slot, 0);
}

size_t
trt_count(const struct trt *t, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < t->cap.msg_count; i++) {
		n += t->cap.msgs[i].m.type == type;
	}
	return n;
}

const struct rabia_event *
trt_find_event(const struct trt *t, enum rabia_event_type type)
{
	for (size_t i = 0; i < t->cap.event_count; i++) {
		if (t->cap.events[i].type == type) {
			return &t->cap.events[i];
		}
	}
	return NULL;
}
