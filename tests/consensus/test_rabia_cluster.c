/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: 3 and 5 Rabia replicas agree on every slot and decide every submitted request exactly
 * once, over a network that delays, reorders, loses and duplicates messages, and across a
 * crash and restart with state transfer. Method: a single-threaded harness with one seeded
 * PRNG and an event queue ordered by (time, sequence); replicas are stepped with the messages,
 * ticks and storage completions they asked for. Every decided slot is checked against the
 * first decision any replica made for it; a failure prints the seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/heap.h"
#include "base/prng.h"
#include "consensus/rabia.h"
#include "test_rabia_util.h"

#define CL_NODES_MAX  5
#define CL_SLOTS_MAX  4000
#define CL_REQS_MAX   2000
#define CL_EVENTS_MAX 200000

enum cl_kind { CL_MSG = 1, CL_STORAGE = 2 };

struct cl_event {
	uint64_t at;
	uint64_t seq;
	int kind;
	uint32_t from;
	uint32_t to;  /* member index */
	uint32_t gen; /* the recipient's incarnation when sent */
	uint8_t *data;
	size_t size;
	uint64_t token;
	struct rabia_durable value;
};

struct cl_entry {
	int set;
	int is_null;
	struct rabia_batch_id id;
	uint64_t hash;
};

struct cl_node {
	struct rabia *r;
	uint32_t gen;
	int up;
	uint64_t next_tick;
	uint64_t delivered;           /* slots delivered (its log length) */
	struct rabia_durable durable; /* what a crash leaves on disk */
	uint64_t down_until;
	uint32_t count[CL_REQS_MAX]; /* times each request appears in its log */
};

struct cl_params {
	uint32_t n;
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t requests;
	int crash;       /* crash and restart one replica mid-run */
	uint32_t window; /* decided window (small forces a state transfer) */
	uint64_t gap_ns; /* mean gap between client requests; 0 = 160 us */
};

struct cl {
	struct cl_params p;
	uint64_t seed;
	struct base_prng prng;
	struct rabia_cfg cfg;
	struct cl_node nodes[CL_NODES_MAX];
	struct cl_entry truth[CL_SLOTS_MAX];
	struct base_heap *events;
	void *events_mem;
	uint64_t seq;
	uint64_t now;
	uint32_t submitted; /* requests handed to replicas */
	uint64_t next_submit;
	uint32_t target[CL_REQS_MAX];
	int eligible[CL_REQS_MAX]; /* must be decided (its proxy never crashed) */
	uint32_t crash_node;
	uint64_t crash_at;
	uint64_t installs;
};

static int
event_cmp(const void *a, const void *b)
{
	const struct cl_event *x = a;
	const struct cl_event *y = b;

	if (x->at != y->at) {
		return x->at < y->at ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static void
cl_push(struct cl *c, struct cl_event *e)
{
	e->seq = c->seq++;
	if (base_heap_push(c->events, e) != 0) {
		fail_msg("seed %llu: event queue full", (unsigned long long)c->seed);
	}
}

static void
cl_send_one(struct cl *c, uint32_t from, uint32_t to, const uint8_t *data, size_t size)
{
	int copies = 1;

	if (base_prng_chance(&c->prng, c->p.loss_ppm)) {
		return;
	}
	if (base_prng_chance(&c->prng, c->p.dup_ppm)) {
		copies = 2;
	}
	for (int i = 0; i < copies; i++) {
		struct cl_event e = {0};

		e.at = c->now + base_prng_range(&c->prng, 50000, 400000);
		e.kind = CL_MSG;
		e.from = from;
		e.to = to;
		e.gen = c->nodes[to].gen;
		e.data = malloc(size);
		assert_non_null(e.data);
		memcpy(e.data, data, size);
		e.size = size;
		cl_push(c, &e);
	}
}

static uint32_t
cl_index(uint32_t id)
{
	return id - 1;
}

static void cl_stalled(struct cl *c, uint64_t iter);

static void
cl_record(struct cl *c, uint32_t i, const struct rabia_decided *d)
{
	struct cl_node *nd = &c->nodes[i];
	struct cl_entry *t;
	uint64_t hash = d->is_null ? 0 : base_hash64(d->batch, d->batch_size, 1);

	if (d->slot >= CL_SLOTS_MAX) {
		cl_stalled(c, 0);
	}
	if (d->slot != nd->delivered) {
		fail_msg("seed %llu: node %u delivered slot %llu, expected %llu",
			 (unsigned long long)c->seed, i, (unsigned long long)d->slot,
			 (unsigned long long)nd->delivered);
	}
	nd->delivered++;
	t = &c->truth[d->slot];
	if (!t->set) {
		t->set = 1;
		t->is_null = d->is_null;
		t->id = d->id;
		t->hash = hash;
	} else if (t->is_null != d->is_null || t->hash != hash ||
		   (!d->is_null && !rabia_batch_id_equal(t->id, d->id))) {
		fail_msg("seed %llu: agreement violated at slot %llu (node %u)",
			 (unsigned long long)c->seed, (unsigned long long)d->slot, i);
	}
	for (size_t k = 0; k < d->request_count; k++) {
		uint64_t req = d->requests[k].client_id - 1;

		assert_true(req < c->p.requests);
		if (++nd->count[req] > 1) {
			fail_msg("seed %llu: node %u decided request %llu twice",
				 (unsigned long long)c->seed, i, (unsigned long long)req);
		}
	}
}

/* Emulates the replica layer's state transfer: copy the peer's log position and counts. */
static void cl_step(struct cl *c, uint32_t i, const struct rabia_input *in);

static void
cl_install(struct cl *c, uint32_t i, uint32_t peer)
{
	struct cl_node *nd = &c->nodes[i];
	struct cl_node *src = &c->nodes[cl_index(peer)];
	struct rabia_input in = {.type = RABIA_INPUT_STATE_INSTALLED, .now_ns = c->now};

	if (!src->up || src->delivered <= nd->delivered) {
		return;
	}
	nd->delivered = src->delivered;
	memcpy(nd->count, src->count, sizeof(nd->count));
	in.installed.slot = src->delivered - 1;
	c->installs++;
	cl_step(c, i, &in);
}

static void
cl_output(struct cl *c, uint32_t i, const struct rabia_output *out)
{
	for (size_t k = 0; k < out->msg_count; k++) {
		const struct rabia_out_msg *m = &out->msgs[k];

		for (uint32_t j = 0; j < c->p.n; j++) {
			if (j != i && (m->to == RABIA_TO_ALL || cl_index(m->to) == j)) {
				cl_send_one(c, i, j, m->data, m->size);
			}
		}
	}
	for (size_t k = 0; k < out->decided_count; k++) {
		cl_record(c, i, &out->decided[k]);
	}
	if (out->write != NULL) {
		struct cl_event e = {0};

		e.at = c->now + base_prng_range(&c->prng, 10000, 100000);
		e.kind = CL_STORAGE;
		e.to = i;
		e.gen = c->nodes[i].gen;
		e.token = out->write->token;
		e.value = out->write->value;
		cl_push(c, &e);
	}
	c->nodes[i].next_tick = out->next_tick_ns;
}

static void
cl_step(struct cl *c, uint32_t i, const struct rabia_input *in)
{
	struct rabia_output out;
	struct rabia_event events[RABIA_OUT_EVENTS_MAX];
	size_t event_count;
	int rc = rabia_step(c->nodes[i].r, in, &out);

	/* Correct replicas never violate the protocol; duplicates and old messages return 0. */
	if (rc == -EPROTO) {
		fail_msg("seed %llu: node %u saw a protocol violation", (unsigned long long)c->seed,
			 i);
	}
	cl_output(c, i, &out);
	/* The install below steps again, which reuses the output buffers: copy first. */
	event_count = out.event_count;
	memcpy(events, out.events, event_count * sizeof(events[0]));
	for (size_t k = 0; k < event_count; k++) {
		if (events[k].type == RABIA_EVENT_NEED_TRANSFER) {
			cl_install(c, i, events[k].peer);
		}
	}
}

static void
cl_tick(struct cl *c, uint32_t i)
{
	struct rabia_input in = {.type = RABIA_INPUT_TICK, .now_ns = c->now};

	cl_step(c, i, &in);
}

static void
cl_node_start(struct cl *c, uint32_t i)
{
	struct rabia_cfg cfg = c->cfg;
	struct cl_node *nd = &c->nodes[i];

	cfg.self_id = trt_id(i);
	cfg.recovered = nd->durable;
	cfg.start_slot = 0;
	assert_int_equal(rabia_create(&cfg, &nd->r), 0);
	nd->up = 1;
	nd->delivered = 0;
	memset(nd->count, 0, sizeof(nd->count));
	cl_tick(c, i);
}

static void
cl_node_crash(struct cl *c, uint32_t i)
{
	struct cl_node *nd = &c->nodes[i];

	rabia_destroy(nd->r);
	nd->r = NULL;
	nd->up = 0;
	nd->gen++; /* messages and completions in flight to it are lost */
	nd->down_until = c->now + base_prng_range(&c->prng, 20000000, 50000000);
}

static void
cl_deliver(struct cl *c, struct cl_event *e)
{
	struct cl_node *nd = &c->nodes[e->to];
	struct rabia_input in = {.now_ns = c->now};

	if (!nd->up || e->gen != nd->gen) {
		free(e->data);
		return;
	}
	if (e->kind == CL_MSG) {
		in.type = RABIA_INPUT_MESSAGE;
		in.message.from = trt_id(e->from);
		in.message.data = e->data;
		in.message.size = e->size;
		cl_step(c, e->to, &in);
		free(e->data);
		return;
	}
	nd->durable = e->value; /* synced: this is what survives a crash */
	in.type = RABIA_INPUT_STORAGE_DONE;
	in.storage.token = e->token;
	in.storage.status = 0;
	cl_step(c, e->to, &in);
}

static void
cl_submit(struct cl *c)
{
	uint32_t k = c->submitted;
	uint32_t i = (uint32_t)base_prng_below(&c->prng, c->p.n);
	uint8_t body[8];
	int rc;

	if (!c->nodes[i].up) {
		c->next_submit = c->now + 10000;
		return;
	}
	base_store_le64(body, k);
	rc = rabia_submit(c->nodes[i].r, k + 1, 1, body, sizeof(body));
	if (rc == -ENOBUFS) {
		c->next_submit = c->now + 200000; /* backpressure */
		return;
	}
	assert_int_equal(rc, 0);
	c->target[k] = i;
	c->eligible[k] = !c->p.crash || i != c->crash_node;
	c->submitted++;
	c->next_submit = c->now + base_prng_range(&c->prng, c->p.gap_ns / 8, 2 * c->p.gap_ns);
	cl_tick(c, i);
}

static int
cl_done(const struct cl *c)
{
	if (c->submitted < c->p.requests) {
		return 0;
	}
	for (uint32_t i = 0; i < c->p.n; i++) {
		if (!c->nodes[i].up) {
			return 0;
		}
		for (uint32_t k = 0; k < c->p.requests; k++) {
			if (c->eligible[k] && c->nodes[i].count[k] == 0) {
				return 0;
			}
		}
	}
	return 1;
}

/* The next thing to happen: 0 event, 1 + i tick of node i, -1 submit, -2 crash/restart. */
static int
cl_next(struct cl *c, uint64_t *at)
{
	const struct cl_event *e = base_heap_peek(c->events);
	int what = 0;

	*at = e != NULL ? e->at : UINT64_MAX;
	for (uint32_t i = 0; i < c->p.n; i++) {
		if (c->nodes[i].up && c->nodes[i].next_tick < *at) {
			*at = c->nodes[i].next_tick;
			what = 1 + (int)i;
		}
	}
	if (c->submitted < c->p.requests && c->next_submit < *at) {
		*at = c->next_submit;
		what = -1;
	}
	if (c->p.crash && c->crash_at < *at) {
		*at = c->crash_at;
		what = -2;
	}
	return what;
}

static void
cl_crash_or_restart(struct cl *c)
{
	uint32_t i = c->crash_node;

	if (c->nodes[i].up) {
		cl_node_crash(c, i);
		c->crash_at = c->nodes[i].down_until;
	} else {
		cl_node_start(c, i);
		c->crash_at = UINT64_MAX;
	}
}

static void
cl_stalled(struct cl *c, uint64_t iter)
{
	for (uint32_t i = 0; i < c->p.n; i++) {
		if (c->nodes[i].up) {
			rabia_dump(c->nodes[i].r, stderr);
		}
	}
	fail_msg("seed %llu: no progress (now %llu ns, iter %llu)", (unsigned long long)c->seed,
		 (unsigned long long)c->now, (unsigned long long)iter);
}

static void
cl_run(struct cl *c)
{
	for (uint64_t iter = 0; !cl_done(c); iter++) {
		struct cl_event e;
		uint64_t at;
		int what = cl_next(c, &at);

		if (iter > 3000000 || at > 30000000000ull) {
			cl_stalled(c, iter);
		}
		c->now = at > c->now ? at : c->now;
		if (what == 0) {
			assert_int_equal(base_heap_pop(c->events, &e), 0);
			cl_deliver(c, &e);
		} else if (what > 0) {
			cl_tick(c, (uint32_t)(what - 1));
		} else if (what == -1) {
			cl_submit(c);
		} else {
			cl_crash_or_restart(c);
		}
	}
}

static void
cl_init(struct cl *c, const struct cl_params *p, uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->p = *p;
	if (c->p.gap_ns == 0) {
		c->p.gap_ns = 160000;
	}
	c->seed = seed;
	base_prng_init(&c->prng, seed);
	trt_cfg(&c->cfg, p->n, 0);
	c->cfg.rto_ns = 2000000;
	c->cfg.heartbeat_ns = 20000000;
	c->cfg.batch_timeout_ns = 100000;
	c->cfg.pending_max = 64;
	c->cfg.window_slots = p->window;
	c->cfg.ahead_slots = 8;
	c->cfg.decided_ids_max = 4 * p->window;
	c->cfg.out_decided_max = 4;
	c->cfg.coin_key = seed;
	if (getenv("CL_BREAK") != NULL) {
		/* A deliberately broken Rabia (RABIA_BREAK_*), to see this harness catch it. */
		c->cfg.break_rules = (uint32_t)strtoul(getenv("CL_BREAK"), NULL, 10);
	}
	c->events_mem = malloc(base_heap_size(CL_EVENTS_MAX, sizeof(struct cl_event)));
	assert_non_null(c->events_mem);
	c->events =
		base_heap_init(c->events_mem, CL_EVENTS_MAX, sizeof(struct cl_event), event_cmp);
	c->crash_node = (uint32_t)base_prng_below(&c->prng, p->n);
	c->crash_at = p->crash ? base_prng_range(&c->prng, 5000000, 30000000) : UINT64_MAX;
	for (uint32_t i = 0; i < p->n; i++) {
		cl_node_start(c, i);
	}
}

static void
cl_fini(struct cl *c)
{
	struct cl_event e;

	while (base_heap_pop(c->events, &e) == 0) {
		free(e.data);
	}
	for (uint32_t i = 0; i < c->p.n; i++) {
		rabia_destroy(c->nodes[i].r);
	}
	free(c->events_mem);
}

static void
run_seeds(const struct cl_params *p, uint64_t first_seed, int seeds)
{
	struct cl *c = malloc(sizeof(*c));
	const char *more = getenv("CL_SEEDS");

	/* CL_SEEDS=N runs N seeds per case instead (a longer sweep, outside the unit budget). */
	if (more != NULL && strtol(more, NULL, 10) > 0) {
		seeds = (int)strtol(more, NULL, 10);
	}
	assert_non_null(c);
	for (int s = 0; s < seeds; s++) {
		uint64_t slots = 0;

		cl_init(c, p, first_seed + (uint64_t)s);
		cl_run(c);
		for (uint32_t i = 0; i < p->n; i++) {
			slots = c->nodes[i].delivered > slots ? c->nodes[i].delivered : slots;
		}
		/* Requests go into batches: never more slots than requests plus ⊥ slots. */
		assert_true(slots > 0);
		if (p->crash && p->window < 64) {
			assert_true(c->installs > 0);
		}
		if (getenv("CL_SUMMARY") != NULL) {
			const struct rabia_stats *st = rabia_get_stats(c->nodes[0].r);

			fprintf(stderr,
				"seed %llu: slots %llu null %llu sim %llu us installs %llu "
				"node0: msgs_in %llu retx %llu fetch %llu adopted %llu max_phase "
				"%llu "
				"dups %llu\n",
				(unsigned long long)c->seed, (unsigned long long)slots,
				(unsigned long long)st->slots_null,
				(unsigned long long)(c->now / 1000),
				(unsigned long long)c->installs, (unsigned long long)st->msgs_in,
				(unsigned long long)st->retransmits,
				(unsigned long long)st->fetches,
				(unsigned long long)st->decisions_adopted,
				(unsigned long long)st->phase_max_seen,
				(unsigned long long)st->duplicates);
		}
		cl_fini(c);
	}
	free(c);
}

static void
test_rabia_cluster_of_three_agrees_on_a_reliable_network(void **state)
{
	const struct cl_params p = {.n = 3, .requests = 300, .window = 256};

	(void)state;
	run_seeds(&p, 1, 3);
}

static void
test_rabia_cluster_of_three_agrees_under_loss_and_duplication(void **state)
{
	const struct cl_params p = {
		.n = 3, .loss_ppm = 150000, .dup_ppm = 30000, .requests = 300, .window = 256};

	(void)state;
	run_seeds(&p, 100, 3);
}

static void
test_rabia_cluster_of_three_agrees_under_bursts_and_heavy_loss(void **state)
{
	const struct cl_params p = {.n = 3,
				    .loss_ppm = 300000,
				    .dup_ppm = 20000,
				    .requests = 1500,
				    .window = 256,
				    .gap_ns = 10000};

	(void)state;
	run_seeds(&p, 150, 3);
}

static void
test_rabia_cluster_of_five_agrees_under_loss_and_duplication(void **state)
{
	const struct cl_params p = {
		.n = 5, .loss_ppm = 100000, .dup_ppm = 20000, .requests = 200, .window = 256};

	(void)state;
	run_seeds(&p, 200, 2);
}

static void
test_rabia_cluster_survives_a_crash_restart_with_catch_up(void **state)
{
	const struct cl_params p = {.n = 3,
				    .loss_ppm = 50000,
				    .dup_ppm = 10000,
				    .requests = 300,
				    .crash = 1,
				    .window = 256};

	(void)state;
	run_seeds(&p, 300, 3);
}

static void
test_rabia_cluster_restart_beyond_the_window_installs_state(void **state)
{
	const struct cl_params p = {
		.n = 3, .loss_ppm = 50000, .requests = 400, .crash = 1, .window = 16};

	(void)state;
	run_seeds(&p, 400, 2);
}

static void
test_rabia_cluster_of_five_survives_a_crash_restart(void **state)
{
	const struct cl_params p = {.n = 5,
				    .loss_ppm = 50000,
				    .dup_ppm = 10000,
				    .requests = 200,
				    .crash = 1,
				    .window = 256};

	(void)state;
	run_seeds(&p, 500, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rabia_cluster_of_three_agrees_on_a_reliable_network),
		cmocka_unit_test(test_rabia_cluster_of_three_agrees_under_loss_and_duplication),
		cmocka_unit_test(test_rabia_cluster_of_three_agrees_under_bursts_and_heavy_loss),
		cmocka_unit_test(test_rabia_cluster_of_five_agrees_under_loss_and_duplication),
		cmocka_unit_test(test_rabia_cluster_survives_a_crash_restart_with_catch_up),
		cmocka_unit_test(test_rabia_cluster_restart_beyond_the_window_installs_state),
		cmocka_unit_test(test_rabia_cluster_of_five_survives_a_crash_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
