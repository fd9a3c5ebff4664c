/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The BENCH load generator (aetherd_int.h, "Benchmark"): KV writes through consensus, timed
 * inside the node from submission to answer, for aether-bench consensus.
 */
#include "aetherd_int.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/panic.h"
#include "consensus/kv_cmd.h"

#define CLIENT_LOW_BITS 16
#define CLIENT_LOW_MASK ((UINT64_C(1) << CLIENT_LOW_BITS) - 1)

/* Every bench client id fits in the low bits, above every operator connection's. */
static_assert(NODE_BENCH_CLIENT_BASE + CTL_BENCH_INFLIGHT_MAX <= (1u << CLIENT_LOW_BITS),
	      "bench client ids must fit in the low bits");
static_assert(NODE_BENCH_CLIENT_BASE > CTL_SERVER_CONNECTIONS_MAX,
	      "bench client ids must not collide with operator connections");
/* The whole histogram fits in one answer. */
static_assert(BASE_HIST_BUCKETS <= CTL_BENCH_BUCKETS_MAX, "a bench answer holds every bucket");
/* A run and its drain end before ctl_server answers TIMEOUT in its place. */
static_assert(CTL_BENCH_DURATION_MS_MAX * 1000000ull + NODE_BENCH_DRAIN_NS + 1000000000ull <
		      CTL_SERVER_REPLY_TIMEOUT_NS,
	      "a bench run must be answered before the reply timeout");

static uint64_t
bench_now(const struct aetherd *d)
{
	return d->net.ops->now_ns(d->net.ops->ctx);
}

enum ctl_reply
node_bench_start(struct aetherd *d, const struct ctl_request *req, struct ctl_ticket ticket,
		 struct ctl_response *resp)
{
	struct node_bench *b = &d->bench;
	uint32_t k = req->bench.inflight;

	ASSERT(req->type == CTL_MSG_BENCH);
	ASSERT(k >= 1 && k <= CTL_BENCH_INFLIGHT_MAX);
	ASSERT(req->bench.value_size >= 1 && req->bench.value_size <= CTL_BENCH_VALUE_MAX);
	if (b->is_running) {
		ctl_response_error(resp, CTL_STATUS_UNAVAILABLE,
				   "a benchmark is already running on this node");
		return CTL_REPLY_NOW;
	}
	b->is_running = true;
	b->ticket = ticket;
	b->params = req->bench;
	b->ops = 0;
	b->errors = 0;
	b->inflight_count = 0;
	b->idle_count = 0;
	/* Pushed in reverse, so client 0 is submitted first. */
	for (uint32_t i = k; i-- > 0;) {
		int n = snprintf(b->key[i], sizeof(b->key[i]), "bench/%u/%u",
				 (unsigned)d->cfg.node_id, (unsigned)i);

		ASSERT(n > 0 && (size_t)n < sizeof(b->key[i]));
		b->key_size[i] = (uint8_t)n;
		b->seq[i] = 0;
		b->idle[b->idle_count++] = i;
	}
	memset(b->value, 'v', b->params.value_size);
	base_hist_reset(&b->hist);
	b->start_ns = bench_now(d);
	b->end_ns = b->start_ns + (uint64_t)b->params.duration_ms * 1000000u;
	b->give_up_ns = b->end_ns + NODE_BENCH_DRAIN_NS;
	b->last_answer_ns = b->start_ns;
	base_logf(&d->log.log, BASE_LOG_INFO, "bench: start inflight=%u duration_ms=%u value=%u",
		  (unsigned)k, (unsigned)b->params.duration_ms, (unsigned)b->params.value_size);
	return CTL_REPLY_LATER;
}

/* Submits client i's next write (timestamped at now_ns); the shard's refusal is returned. */
static int
bench_submit(struct aetherd *d, uint32_t i, uint64_t now_ns)
{
	struct node_bench *b = &d->bench;
	struct kv_cmd c;
	size_t size = 0;
	int rc;

	memset(&c, 0, sizeof(c));
	c.type = KV_CMD_PUT;
	c.op_count = 1;
	c.ops[0].type = KV_CMD_PUT;
	c.ops[0].key = (const uint8_t *)b->key[i];
	c.ops[0].key_size = b->key_size[i];
	c.ops[0].value = b->value;
	c.ops[0].value_size = b->params.value_size;
	/* A bench key and value are far below one request (CTL_BENCH_VALUE_MAX), so this holds. */
	rc = kv_cmd_encode(&c, d->cmd, d->cmd_capacity, &size);
	ASSERT(rc == 0);
	if (d->seq_next == d->seq_limit) {
		return -ERANGE;
	}
	rc = node_shard_submit(d->shard,
			       ((uint64_t)d->cfg.node_id << CLIENT_LOW_BITS) |
				       (NODE_BENCH_CLIENT_BASE + i),
			       d->seq_next, d->cmd, size);
	if (rc != 0) {
		return rc;
	}
	b->seq[i] = d->seq_next++;
	b->submit_ns[i] = now_ns;
	b->inflight_count++;
	return 0;
}

/* The answer: counters and the histogram's non-empty buckets. */
static void
bench_answer(struct aetherd *d, uint64_t lost)
{
	struct node_bench *b = &d->bench;
	struct ctl_bench_result *r = &d->reply->bench;
	uint64_t end = b->last_answer_ns > b->end_ns ? b->last_answer_ns : b->end_ns;

	ctl_response_reset(d->reply, CTL_MSG_BENCH, 0);
	r->ops = b->ops;
	r->errors = b->errors;
	r->lost = lost;
	r->elapsed_ns = end - b->start_ns;
	r->min_ns = b->ops > 0 ? b->hist.min : 0;
	r->max_ns = b->hist.max;
	for (size_t i = 0; i < BASE_HIST_BUCKETS; i++) {
		if (b->hist.counts[i] != 0) {
			r->buckets[r->bucket_count].value_ns = base_hist_bucket_low(i);
			r->buckets[r->bucket_count].count = b->hist.counts[i];
			r->bucket_count++;
		}
	}
	base_logf(&d->log.log, BASE_LOG_INFO,
		  "bench: done ops=%llu errors=%llu lost=%llu elapsed_ms=%llu",
		  (unsigned long long)b->ops, (unsigned long long)b->errors,
		  (unsigned long long)lost, (unsigned long long)(r->elapsed_ns / 1000000u));
	if (ctl_server_reply(d->ctl, b->ticket, d->reply) != 0) {
		base_logf(&d->log.log, BASE_LOG_WARN, "bench: the operator left before the answer");
	}
}

/* Ends the run: writes still in flight are lost (their late answers are ignored). */
static void
bench_finish(struct aetherd *d)
{
	struct node_bench *b = &d->bench;
	uint64_t lost = b->inflight_count;

	bench_answer(d, lost);
	for (uint32_t i = 0; i < b->params.inflight; i++) {
		b->seq[i] = 0;
	}
	b->inflight_count = 0;
	b->is_running = false;
}

/* Errors that will not go away by retrying end the run with what it measured so far. */
static void
bench_fail(struct aetherd *d, int rc)
{
	base_logf(&d->log.log, BASE_LOG_ERROR, "bench: cannot submit a write: %s",
		  rc == -ERANGE ? "client sequence numbers exhausted" : strerror(-rc));
	/* No new writes; those in flight still get the drain time. */
	d->bench.end_ns = d->bench.start_ns;
}

int
node_bench_poll(struct aetherd *d, uint64_t now_ns)
{
	struct node_bench *b = &d->bench;

	if (!b->is_running) {
		return 0;
	}
	if (now_ns < b->end_ns && b->idle_count > 0) {
		/* One timestamp for the whole burst: they all ride the same batch. */
		uint64_t t = bench_now(d);

		while (b->idle_count > 0) {
			int rc = bench_submit(d, b->idle[b->idle_count - 1], t);

			if (rc == -ENOBUFS) {
				break; /* the proxy table is full: the next poll tries again */
			}
			if (rc != 0) {
				bench_fail(d, rc);
				break;
			}
			b->idle_count--;
		}
	}
	if ((now_ns >= b->end_ns && b->inflight_count == 0) || now_ns >= b->give_up_ns) {
		bench_finish(d);
	}
	return 1;
}

bool
node_bench_on_reply(struct aetherd *d, uint64_t client_id, uint64_t client_seq,
		    const uint8_t *result, size_t result_size)
{
	struct node_bench *b = &d->bench;
	uint64_t low = client_id & CLIENT_LOW_MASK;
	struct kv_result r;
	uint64_t now;
	uint32_t i;

	if (client_id >> CLIENT_LOW_BITS != d->cfg.node_id || low < NODE_BENCH_CLIENT_BASE ||
	    low >= NODE_BENCH_CLIENT_BASE + CTL_BENCH_INFLIGHT_MAX) {
		return false;
	}
	i = (uint32_t)(low - NODE_BENCH_CLIENT_BASE);
	if (!b->is_running || i >= b->params.inflight || b->seq[i] != client_seq) {
		return true; /* a write of an earlier run, answered after it gave up */
	}
	now = bench_now(d);
	base_hist_record(&b->hist, now - b->submit_ns[i]);
	b->last_answer_ns = now;
	b->ops++;
	if (kv_result_decode(result, result_size, &r) != 0 || r.status != KV_RESULT_OK) {
		b->errors++;
	}
	b->seq[i] = 0;
	b->inflight_count--;
	ASSERT(b->idle_count < b->params.inflight);
	b->idle[b->idle_count++] = i;
	return true;
}
