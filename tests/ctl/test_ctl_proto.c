/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the operator protocol codec round-trips every request and response type, rejects every
 * malformed, truncated, non-canonical or oversized frame with the documented code, and its
 * stream framing waits for partial frames and refuses an oversized one from its header alone.
 * Method: encode known messages, decode them back and re-encode (canonical bytes), cut frames
 * at every length, patch single fields, feed streams byte by byte, and throw seeded random
 * bytes at the decoders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "ctl/ctl_proto.h"

struct fixture {
	uint8_t buf[CTL_RESPONSE_MAX];
	uint8_t again[CTL_RESPONSE_MAX];
	uint8_t keys[CTL_LIST_MAX][CTL_KEY_MAX];
	struct ctl_response resp;
	struct ctl_response decoded;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	free(*state);
	return 0;
}

static struct ctl_request
request_of(enum ctl_msg_type type, const char *key, const char *value, uint32_t limit)
{
	struct ctl_request req = {.type = type, .request_id = 0x1122334455667788ull};

	if (key != NULL) {
		req.key = (const uint8_t *)key;
		req.key_size = strlen(key);
	}
	if (value != NULL) {
		req.value = (const uint8_t *)value;
		req.value_size = strlen(value);
	}
	req.limit = limit;
	/* What aetherctl asks by default: a get through the log, a list of local state. */
	if (type == CTL_MSG_KV_GET) {
		req.consistency = CTL_CONSISTENCY_LINEARIZABLE;
	} else if (type == CTL_MSG_KV_LIST) {
		req.consistency = CTL_CONSISTENCY_LOCAL;
	}
	return req;
}

/* A list request for the page after the key `after`. */
static struct ctl_request
list_request_of(const char *prefix, const char *after, uint32_t limit)
{
	struct ctl_request req = request_of(CTL_MSG_KV_LIST, prefix, NULL, limit);

	req.after = (const uint8_t *)after;
	req.after_size = strlen(after);
	return req;
}

static struct ctl_request
bench_request_of(uint32_t inflight, uint32_t duration_ms, uint32_t value_size)
{
	struct ctl_request req = request_of(CTL_MSG_BENCH, NULL, NULL, 0);

	req.bench.inflight = inflight;
	req.bench.duration_ms = duration_ms;
	req.bench.value_size = value_size;
	return req;
}

/* Encodes, decodes and re-encodes req; checks fields and canonical bytes. */
static void
assert_request_round_trip(struct fixture *f, const struct ctl_request *req)
{
	struct ctl_request out;
	struct ctl_frame frame;
	size_t size;
	size_t size2;

	assert_int_equal(ctl_request_encode(req, f->buf, CTL_REQUEST_MAX, &size), 0);
	assert_int_equal(ctl_frame_decode(f->buf, size, CTL_REQUEST_MAX, &frame), 0);
	assert_int_equal(frame.size, size);
	assert_int_equal(ctl_request_decode(&frame, &out), 0);
	assert_int_equal(out.type, req->type);
	assert_true(out.request_id == req->request_id);
	assert_int_equal(out.key_size, req->key_size);
	assert_memory_equal(out.key, req->key, req->key_size);
	assert_int_equal(out.value_size, req->value_size);
	if (req->value_size > 0) {
		assert_memory_equal(out.value, req->value, req->value_size);
	}
	assert_int_equal(out.limit, req->limit);
	assert_int_equal(out.after_size, req->after_size);
	if (req->after_size > 0) {
		assert_memory_equal(out.after, req->after, req->after_size);
	}
	assert_int_equal(out.consistency, req->consistency);
	assert_memory_equal(&out.bench, &req->bench, sizeof(out.bench));
	assert_int_equal(ctl_request_encode(&out, f->again, CTL_REQUEST_MAX, &size2), 0);
	assert_int_equal(size2, size);
	assert_memory_equal(f->again, f->buf, size);
}

/* Encodes f->resp, decodes into f->decoded, re-encodes: the bytes must be identical. */
static size_t
assert_response_round_trip(struct fixture *f)
{
	struct ctl_frame frame;
	size_t size;
	size_t size2;

	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), 0);
	assert_int_equal(ctl_frame_decode(f->buf, size, CTL_RESPONSE_MAX, &frame), 0);
	assert_int_equal(ctl_response_decode(&frame, &f->decoded), 0);
	assert_int_equal(f->decoded.type, f->resp.type);
	assert_int_equal(f->decoded.status, f->resp.status);
	assert_true(f->decoded.request_id == f->resp.request_id);
	assert_int_equal(ctl_response_encode(&f->decoded, f->again, CTL_RESPONSE_MAX, &size2), 0);
	assert_int_equal(size2, size);
	assert_memory_equal(f->again, f->buf, size);
	return size;
}

static void
fill_status(struct ctl_response *r)
{
	ctl_response_reset(r, CTL_MSG_STATUS, 9);
	r->info.node_id = 2;
	r->info.cluster_id = 0xfeedull;
	r->info.has_leader = true;
	r->info.leader_id = 3;
	r->info.term = 7;
	r->info.applied_slot = 12345;
	r->info.peer_count = 2;
	r->info.peers[0] = (struct ctl_peer_info){1, CTL_PEER_UP, 12};
	r->info.peers[1] = (struct ctl_peer_info){3, CTL_PEER_DOWN, CTL_NEVER};
}

static void
fill_nodes(struct ctl_response *r)
{
	ctl_response_reset(r, CTL_MSG_NODES, 10);
	r->node_count = 2;
	r->nodes[0] = (struct ctl_node_info){1, CTL_PEER_UP, true, false, "127.0.0.1:7001", 14};
	r->nodes[1] = (struct ctl_node_info){2, CTL_PEER_SUSPECT, false, true, "", 0};
}

/* ---- Round trips ---- */

static void
test_ctl_request_round_trips_for_every_type(void **state)
{
	struct fixture *f = *state;
	struct ctl_request reqs[] = {
		request_of(CTL_MSG_STATUS, NULL, NULL, 0),
		request_of(CTL_MSG_NODES, NULL, NULL, 0),
		request_of(CTL_MSG_KV_PUT, "nodes/n1", "hello", 0),
		request_of(CTL_MSG_KV_PUT, "k", "", 0),
		request_of(CTL_MSG_KV_GET, "leader", NULL, 0),
		request_of(CTL_MSG_KV_RM, "x\x01y", NULL, 0),
		request_of(CTL_MSG_KV_LIST, "", NULL, 1),
		request_of(CTL_MSG_KV_LIST, "slices/", NULL, CTL_LIST_MAX),
		list_request_of("slices/", "slices/n1/a", 7),
		list_request_of("", "\xff\x00", CTL_LIST_MAX),
		bench_request_of(256, 5000, 16),
		bench_request_of(1, 1, 1),
		bench_request_of(CTL_BENCH_INFLIGHT_MAX, CTL_BENCH_DURATION_MS_MAX,
				 CTL_BENCH_VALUE_MAX),
	};

	struct ctl_request local_get = request_of(CTL_MSG_KV_GET, "leader", NULL, 0);

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		assert_request_round_trip(f, &reqs[i]);
	}
	local_get.consistency = CTL_CONSISTENCY_LOCAL;
	assert_request_round_trip(f, &local_get);
}

static void
test_ctl_request_with_longest_key_and_value_fits_in_a_request(void **state)
{
	struct fixture *f = *state;
	static uint8_t value[CTL_VALUE_MAX];
	struct ctl_request req = request_of(CTL_MSG_KV_PUT, NULL, NULL, 0);
	size_t size;

	memset(f->keys[0], 'k', CTL_KEY_MAX);
	memset(value, 'v', sizeof(value));
	req.key = f->keys[0];
	req.key_size = CTL_KEY_MAX;
	req.value = value;
	req.value_size = CTL_VALUE_MAX;
	assert_request_round_trip(f, &req);
	assert_int_equal(ctl_request_encode(&req, f->buf, CTL_REQUEST_MAX, &size), 0);
	assert_true(size <= CTL_REQUEST_MAX);
}

static void
test_ctl_response_round_trips_for_every_type(void **state)
{
	struct fixture *f = *state;

	fill_status(&f->resp);
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.info.peer_count, 2);
	assert_true(f->decoded.info.peers[1].last_heard_ms == CTL_NEVER);
	assert_int_equal(f->decoded.info.leader_id, 3);

	fill_nodes(&f->resp);
	assert_response_round_trip(f);
	assert_true(f->decoded.nodes[0].is_self);
	assert_true(f->decoded.nodes[1].is_leader);
	assert_memory_equal(f->decoded.nodes[0].address, "127.0.0.1:7001", 14);

	ctl_response_reset(&f->resp, CTL_MSG_KV_GET, 11);
	f->resp.read.consistency = CTL_CONSISTENCY_LINEARIZABLE;
	f->resp.mod_index = 44;
	f->resp.value = (const uint8_t *)"\x00\xff";
	f->resp.value_size = 2;
	assert_response_round_trip(f);
	assert_true(f->decoded.mod_index == 44);
	assert_memory_equal(f->decoded.value, "\x00\xff", 2);
	assert_int_equal(f->decoded.read.consistency, CTL_CONSISTENCY_LINEARIZABLE);
	f->resp.read = (struct ctl_read_info){CTL_CONSISTENCY_LOCAL, 3, 0x0102030405ull};
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.read.consistency, CTL_CONSISTENCY_LOCAL);
	assert_int_equal(f->decoded.read.node_id, 3);
	assert_true(f->decoded.read.applied_slot == 0x0102030405ull);

	ctl_response_reset(&f->resp, CTL_MSG_KV_LIST, 15);
	f->resp.read = (struct ctl_read_info){CTL_CONSISTENCY_LOCAL, 2, 77};
	f->resp.entry_count = 3;
	f->resp.entries[0] = (struct ctl_kv_entry){(const uint8_t *)"a", 1, 5, 0};
	f->resp.entries[1] = (struct ctl_kv_entry){(const uint8_t *)"ab", 2, 6, 1};
	f->resp.entries[2] = (struct ctl_kv_entry){(const uint8_t *)"b\x00", 2, 7, 9};
	f->resp.has_more = true;
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.entry_count, 3);
	assert_true(f->decoded.has_more);
	assert_int_equal(f->decoded.read.node_id, 2);
	assert_int_equal(f->decoded.read.applied_slot, 77);
	assert_memory_equal(f->decoded.entries[2].key, "b\x00", 2);
	f->resp.entry_count = 0;
	f->resp.has_more = false;
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.entry_count, 0);

	ctl_response_reset(&f->resp, CTL_MSG_KV_PUT, 12);
	f->resp.mod_index = 45;
	assert_response_round_trip(f);
	ctl_response_reset(&f->resp, CTL_MSG_KV_RM, 13);
	assert_response_round_trip(f);
}

/* A bench answer with count buckets: values 10, 20, ... and counts 1, 2, ... */
static void
fill_bench(struct ctl_response *r, size_t count)
{
	ctl_response_reset(r, CTL_MSG_BENCH, 14);
	r->bench.ops = count * (count + 1) / 2;
	r->bench.elapsed_ns = 5000000000ull;
	r->bench.errors = 2;
	r->bench.lost = 1;
	r->bench.min_ns = 10;
	r->bench.max_ns = count * 10 + 9;
	r->bench.bucket_count = count;
	for (size_t i = 0; i < count; i++) {
		r->bench.buckets[i] = (struct ctl_bench_bucket){(i + 1) * 10, i + 1};
	}
}

static void
test_ctl_bench_response_with_every_bucket_round_trips_and_fits(void **state)
{
	struct fixture *f = *state;
	size_t size;

	fill_bench(&f->resp, CTL_BENCH_BUCKETS_MAX);
	size = assert_response_round_trip(f);
	assert_true(size <= CTL_RESPONSE_MAX);
	assert_true(f->decoded.bench.ops == f->resp.bench.ops);
	assert_true(f->decoded.bench.elapsed_ns == 5000000000ull);
	assert_int_equal(f->decoded.bench.errors, 2);
	assert_int_equal(f->decoded.bench.lost, 1);
	assert_int_equal(f->decoded.bench.min_ns, 10);
	assert_int_equal(f->decoded.bench.max_ns, CTL_BENCH_BUCKETS_MAX * 10 + 9);
	assert_int_equal(f->decoded.bench.bucket_count, CTL_BENCH_BUCKETS_MAX);
	assert_int_equal(f->decoded.bench.buckets[99].value_ns, 1000);
	assert_int_equal(f->decoded.bench.buckets[99].count, 100);
	/* An empty run (no writes answered) is a valid answer too. */
	fill_bench(&f->resp, 0);
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.bench.bucket_count, 0);
}

static void
test_ctl_bench_rejects_parameters_and_buckets_out_of_bounds(void **state)
{
	struct fixture *f = *state;
	struct ctl_request bad[] = {
		bench_request_of(0, 1000, 16),
		bench_request_of(CTL_BENCH_INFLIGHT_MAX + 1, 1000, 16),
		bench_request_of(1, 0, 16),
		bench_request_of(1, CTL_BENCH_DURATION_MS_MAX + 1, 16),
		bench_request_of(1, 1000, 0),
		bench_request_of(1, 1000, CTL_BENCH_VALUE_MAX + 1),
	};
	size_t size;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctl_request_encode(&bad[i], f->buf, CTL_REQUEST_MAX, &size),
				 -EINVAL);
	}
	fill_bench(&f->resp, 3);
	f->resp.bench.buckets[1].count = 0;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	fill_bench(&f->resp, 3);
	f->resp.bench.buckets[2].value_ns = f->resp.bench.buckets[1].value_ns;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	fill_bench(&f->resp, 3);
	f->resp.bench.bucket_count = CTL_BENCH_BUCKETS_MAX + 1;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
}

static void
test_ctl_response_error_carries_status_and_message(void **state)
{
	struct fixture *f = *state;

	ctl_response_reset(&f->resp, CTL_MSG_NONE, 0);
	ctl_response_error(&f->resp, CTL_STATUS_DENIED, "permission denied: uid 7");
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.status, CTL_STATUS_DENIED);
	assert_int_equal(f->decoded.message_size, strlen("permission denied: uid 7"));
	assert_memory_equal(f->decoded.message, "permission denied: uid 7",
			    f->decoded.message_size);

	ctl_response_reset(&f->resp, CTL_MSG_KV_GET, 5);
	ctl_response_error(&f->resp, CTL_STATUS_NOT_FOUND, "key not found");
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.type, CTL_MSG_KV_GET);
}

static void
test_ctl_response_with_a_full_list_of_longest_keys_fits(void **state)
{
	struct fixture *f = *state;
	size_t size;

	ctl_response_reset(&f->resp, CTL_MSG_KV_LIST, 1);
	f->resp.read = (struct ctl_read_info){CTL_CONSISTENCY_LOCAL, UINT32_MAX, UINT64_MAX};
	for (size_t i = 0; i < CTL_LIST_MAX; i++) {
		/* Ascending keys: the index big endian in front. */
		memset(f->keys[i], 'a', CTL_KEY_MAX);
		f->keys[i][0] = (uint8_t)(i >> 8);
		f->keys[i][1] = (uint8_t)i;
		f->resp.entries[i] = (struct ctl_kv_entry){f->keys[i], CTL_KEY_MAX, i + 1, 7};
	}
	f->resp.entry_count = CTL_LIST_MAX;
	f->resp.has_more = true;
	size = assert_response_round_trip(f);
	assert_true(size <= CTL_RESPONSE_MAX);
	assert_int_equal(f->decoded.entry_count, CTL_LIST_MAX);
	assert_true(f->decoded.has_more);
	assert_memory_equal(f->decoded.entries[99].key, f->keys[99], CTL_KEY_MAX);
}

static void
test_ctl_response_get_value_is_bounded_by_the_response_size(void **state)
{
	struct fixture *f = *state;
	static uint8_t value[CTL_GET_VALUE_MAX + 1];
	size_t size;

	ctl_response_reset(&f->resp, CTL_MSG_KV_GET, 1);
	/* The longest label, so the frame is exactly the largest. */
	f->resp.read = (struct ctl_read_info){CTL_CONSISTENCY_LOCAL, 1, 2};
	f->resp.value = value;
	f->resp.value_size = CTL_GET_VALUE_MAX;
	assert_int_equal(assert_response_round_trip(f), CTL_RESPONSE_MAX);
	f->resp.value_size = CTL_GET_VALUE_MAX + 1;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
}

/* ---- Encoder checks ---- */

static void
test_ctl_request_encode_rejects_invalid_requests(void **state)
{
	struct fixture *f = *state;
	struct ctl_request bad[] = {
		request_of(CTL_MSG_NONE, NULL, NULL, 0),
		request_of((enum ctl_msg_type)(CTL_MSG_RESPONSE | CTL_MSG_STATUS), NULL, NULL, 0),
		request_of(CTL_MSG_KV_PUT, "", "v", 0),
		request_of(CTL_MSG_KV_GET, "", NULL, 0),
		request_of(CTL_MSG_KV_RM, NULL, NULL, 0),
		request_of(CTL_MSG_KV_LIST, "", NULL, 0),
		request_of(CTL_MSG_KV_LIST, "", NULL, CTL_LIST_MAX + 1),
	};
	struct ctl_request no_consistency[] = {
		request_of(CTL_MSG_KV_GET, "k", NULL, 0),
		request_of(CTL_MSG_KV_LIST, "", NULL, 1),
	};
	struct ctl_request long_cursor = request_of(CTL_MSG_KV_LIST, "", NULL, 1);
	struct ctl_request too_long = request_of(CTL_MSG_KV_GET, NULL, NULL, 0);
	struct ctl_request big_value = request_of(CTL_MSG_KV_PUT, "k", NULL, 0);
	size_t size;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctl_request_encode(&bad[i], f->buf, CTL_REQUEST_MAX, &size),
				 -EINVAL);
	}
	for (size_t i = 0; i < 2; i++) {
		no_consistency[i].consistency = CTL_CONSISTENCY_NONE;
		assert_int_equal(
			ctl_request_encode(&no_consistency[i], f->buf, CTL_REQUEST_MAX, &size),
			-EINVAL);
		no_consistency[i].consistency = (enum ctl_consistency)CTL_CONSISTENCY_COUNT;
		assert_int_equal(
			ctl_request_encode(&no_consistency[i], f->buf, CTL_REQUEST_MAX, &size),
			-EINVAL);
	}
	long_cursor.after = f->keys[0];
	long_cursor.after_size = CTL_KEY_MAX + 1;
	assert_int_equal(ctl_request_encode(&long_cursor, f->buf, CTL_REQUEST_MAX, &size), -EINVAL);
	too_long.key = f->keys[0];
	too_long.key_size = CTL_KEY_MAX + 1;
	assert_int_equal(ctl_request_encode(&too_long, f->buf, CTL_REQUEST_MAX, &size), -EINVAL);
	big_value.value = f->buf;
	big_value.value_size = CTL_VALUE_MAX + 1;
	assert_int_equal(ctl_request_encode(&big_value, f->again, CTL_REQUEST_MAX, &size), -EINVAL);
}

static void
test_ctl_request_encode_reports_a_small_buffer(void **state)
{
	struct fixture *f = *state;
	struct ctl_request req = request_of(CTL_MSG_KV_PUT, "key", "value", 0);
	size_t size;

	assert_int_equal(ctl_request_encode(&req, f->buf, CTL_REQUEST_MAX, &size), 0);
	for (size_t cap = 0; cap < size; cap++) {
		size_t ignored;

		assert_int_equal(ctl_request_encode(&req, f->again, cap, &ignored), -ENOBUFS);
	}
}

static void
test_ctl_response_encode_rejects_invalid_responses(void **state)
{
	struct fixture *f = *state;
	size_t size;

	fill_status(&f->resp);
	f->resp.info.peer_count = CTL_PEERS_MAX + 1;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	fill_status(&f->resp);
	f->resp.info.peers[0].state = (enum ctl_peer_state)CTL_PEER_STATE_COUNT;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	fill_status(&f->resp);
	f->resp.info.has_leader = false;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	fill_nodes(&f->resp);
	f->resp.nodes[0].address_size = CTL_ADDRESS_MAX + 1;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	ctl_response_reset(&f->resp, CTL_MSG_NONE, 0);
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	ctl_response_reset(&f->resp, CTL_MSG_KV_LIST, 0);
	f->resp.read.consistency = CTL_CONSISTENCY_LOCAL;
	f->resp.entry_count = 1;
	f->resp.entries[0] = (struct ctl_kv_entry){(const uint8_t *)"", 0, 1, 0};
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	ctl_response_reset(&f->resp, CTL_MSG_KV_GET, 0);
	f->resp.status = (enum ctl_status)CTL_STATUS_COUNT;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
}

static void
test_ctl_read_answers_must_be_labelled_and_lists_must_ascend(void **state)
{
	struct fixture *f = *state;
	size_t size;

	/* A read answer nobody labelled is refused rather than sent looking linearizable. */
	ctl_response_reset(&f->resp, CTL_MSG_KV_GET, 1);
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.read = (struct ctl_read_info){CTL_CONSISTENCY_LINEARIZABLE, 1, 0};
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.read = (struct ctl_read_info){CTL_CONSISTENCY_LINEARIZABLE, 0, 5};
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.read = (struct ctl_read_info){(enum ctl_consistency)CTL_CONSISTENCY_COUNT, 0, 0};
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	ctl_response_reset(&f->resp, CTL_MSG_KV_LIST, 1);
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.read.consistency = CTL_CONSISTENCY_LOCAL;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), 0);
	/* has_more without a key would leave the client no cursor to go on from. */
	f->resp.has_more = true;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	/* Keys out of order or twice would let a client's cursor go back. */
	f->resp.entry_count = 2;
	f->resp.entries[0] = (struct ctl_kv_entry){(const uint8_t *)"ab", 2, 1, 0};
	f->resp.entries[1] = (struct ctl_kv_entry){(const uint8_t *)"a", 1, 1, 0};
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.entries[1] = f->resp.entries[0];
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.entries[1] = (struct ctl_kv_entry){(const uint8_t *)"b", 1, 1, 0};
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), 0);
}

static void
test_ctl_response_error_cuts_long_messages(void **state)
{
	struct fixture *f = *state;
	char message[CTL_MESSAGE_MAX + 50];

	memset(message, 'm', sizeof(message) - 1);
	message[sizeof(message) - 1] = '\0';
	ctl_response_reset(&f->resp, CTL_MSG_STATUS, 1);
	ctl_response_error(&f->resp, CTL_STATUS_INTERNAL, message);
	assert_int_equal(f->resp.message_size, CTL_MESSAGE_MAX);
	assert_response_round_trip(f);
}

/* ---- Frame headers ---- */

static size_t
encode_put(struct fixture *f)
{
	struct ctl_request req = request_of(CTL_MSG_KV_PUT, "key", "value", 0);
	size_t size;

	assert_int_equal(ctl_request_encode(&req, f->buf, CTL_REQUEST_MAX, &size), 0);
	return size;
}

static void
test_ctl_frame_header_waits_for_every_partial_header(void **state)
{
	struct fixture *f = *state;
	struct ctl_frame_header h;

	encode_put(f);
	for (size_t cut = 0; cut < CTL_FRAME_HEADER_SIZE; cut++) {
		assert_int_equal(ctl_frame_header_decode(f->buf, cut, CTL_REQUEST_MAX, &h),
				 -EAGAIN);
	}
	assert_int_equal(
		ctl_frame_header_decode(f->buf, CTL_FRAME_HEADER_SIZE, CTL_REQUEST_MAX, &h), 0);
	assert_int_equal(h.type, CTL_MSG_KV_PUT);
	assert_int_equal(h.body_size, 4 + 3 + 4 + 5);
}

static void
test_ctl_frame_header_rejects_a_bad_magic_on_its_first_byte(void **state)
{
	struct fixture *f = *state;
	struct ctl_frame_header h;

	encode_put(f);
	f->buf[0] = 'G'; /* "GET / HTTP/1.1" */
	assert_int_equal(ctl_frame_header_decode(f->buf, 1, CTL_REQUEST_MAX, &h), -EBADMSG);
	encode_put(f);
	f->buf[3] ^= 1;
	assert_int_equal(ctl_frame_header_decode(f->buf, 3, CTL_REQUEST_MAX, &h), -EAGAIN);
	assert_int_equal(ctl_frame_header_decode(f->buf, 4, CTL_REQUEST_MAX, &h), -EBADMSG);
}

static void
test_ctl_frame_header_names_another_version_from_five_bytes(void **state)
{
	struct fixture *f = *state;
	struct ctl_frame_header h;

	encode_put(f);
	f->buf[4] = CTL_PROTO_VERSION + 1;
	assert_int_equal(ctl_frame_header_decode(f->buf, 5, CTL_REQUEST_MAX, &h),
			 -BASE_ERR_VERSION);
	assert_int_equal(h.version, CTL_PROTO_VERSION + 1);
	/* Version 1 (before paged lists and read labels) is another version too. */
	f->buf[4] = 1;
	assert_int_equal(ctl_frame_header_decode(f->buf, 5, CTL_REQUEST_MAX, &h),
			 -BASE_ERR_VERSION);
}

static void
test_ctl_frame_header_rejects_reserved_bits(void **state)
{
	struct fixture *f = *state;
	struct ctl_frame_header h;
	size_t size = encode_put(f);

	f->buf[7] = 0x80;
	assert_int_equal(ctl_frame_header_decode(f->buf, size, CTL_REQUEST_MAX, &h), -EBADMSG);
}

static void
test_ctl_frame_header_rejects_an_oversized_frame_before_its_body(void **state)
{
	struct fixture *f = *state;
	struct ctl_frame_header h;

	encode_put(f);
	base_store_le32(f->buf + 16, CTL_REQUEST_MAX - CTL_FRAME_HEADER_SIZE + 1);
	/* Only the header is there: the body never has to arrive to be refused. */
	assert_int_equal(
		ctl_frame_header_decode(f->buf, CTL_FRAME_HEADER_SIZE, CTL_REQUEST_MAX, &h),
		-BASE_ERR_TOO_LONG);
	assert_int_equal(h.body_size, CTL_REQUEST_MAX - CTL_FRAME_HEADER_SIZE + 1);
	base_store_le32(f->buf + 16, CTL_REQUEST_MAX - CTL_FRAME_HEADER_SIZE);
	assert_int_equal(
		ctl_frame_header_decode(f->buf, CTL_FRAME_HEADER_SIZE, CTL_REQUEST_MAX, &h), 0);
	base_store_le32(f->buf + 16, UINT32_MAX);
	assert_int_equal(
		ctl_frame_header_decode(f->buf, CTL_FRAME_HEADER_SIZE, CTL_RESPONSE_MAX, &h),
		-BASE_ERR_TOO_LONG);
}

static void
test_ctl_frame_decode_rejects_every_truncation_and_trailing_bytes(void **state)
{
	struct fixture *f = *state;
	struct ctl_frame frame;
	size_t size = encode_put(f);

	for (size_t cut = 0; cut < size; cut++) {
		assert_int_equal(ctl_frame_decode(f->buf, cut, CTL_REQUEST_MAX, &frame),
				 -BASE_ERR_TRUNCATED);
	}
	assert_int_equal(ctl_frame_decode(f->buf, size + 1, CTL_REQUEST_MAX, &frame),
			 -BASE_ERR_TRAILING);
}

/* ---- Body decoders ---- */

/* A frame around an arbitrary body, for crafting malformed messages. */
static void
frame_of(struct fixture *f, uint8_t type, const uint8_t *body, size_t body_size,
	 struct ctl_frame *out)
{
	size_t size;
	struct ctl_request req = request_of(CTL_MSG_STATUS, NULL, NULL, 0);

	assert_int_equal(ctl_request_encode(&req, f->buf, CTL_REQUEST_MAX, &size), 0);
	f->buf[5] = type;
	base_store_le32(f->buf + 16, (uint32_t)body_size);
	if (body_size > 0) {
		memcpy(f->buf + CTL_FRAME_HEADER_SIZE, body, body_size);
	}
	assert_int_equal(
		ctl_frame_decode(f->buf, CTL_FRAME_HEADER_SIZE + body_size, CTL_RESPONSE_MAX, out),
		0);
}

static void
test_ctl_request_decode_rejects_every_truncated_body(void **state)
{
	struct fixture *f = *state;
	struct ctl_request req = request_of(CTL_MSG_KV_PUT, "key", "value", 0);
	struct ctl_request out;
	struct ctl_frame frame;
	uint8_t body[64];
	size_t size;

	assert_int_equal(ctl_request_encode(&req, f->buf, CTL_REQUEST_MAX, &size), 0);
	memcpy(body, f->buf + CTL_FRAME_HEADER_SIZE, size - CTL_FRAME_HEADER_SIZE);
	for (size_t cut = 0; cut < size - CTL_FRAME_HEADER_SIZE; cut++) {
		frame_of(f, CTL_MSG_KV_PUT, body, cut, &frame);
		assert_int_equal(ctl_request_decode(&frame, &out), -BASE_ERR_TRUNCATED);
	}
	body[size - CTL_FRAME_HEADER_SIZE] = 0;
	frame_of(f, CTL_MSG_KV_PUT, body, size - CTL_FRAME_HEADER_SIZE + 1, &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -BASE_ERR_TRAILING);
}

static void
test_ctl_request_decode_rejects_unknown_and_response_types(void **state)
{
	struct fixture *f = *state;
	struct ctl_request out;
	struct ctl_frame frame;

	frame_of(f, CTL_MSG_NONE, NULL, 0, &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_TYPE_COUNT, NULL, 0, &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_RESPONSE | CTL_MSG_STATUS, NULL, 0, &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
}

static void
test_ctl_request_decode_rejects_empty_keys_long_keys_and_bad_limits(void **state)
{
	struct fixture *f = *state;
	static const uint8_t empty_key[] = {0, 0, 0, 0, CTL_CONSISTENCY_LOCAL};
	static const uint8_t long_key[] = {0x01, 0x02, 0, 0}; /* 513 */
	/* prefix blob, cursor blob, u32 limit, u8 consistency */
	static const uint8_t limit_0[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	static const uint8_t limit_over[] = {0, 0,    0,    0, 0, 0, 0,
					     0, 0x01, 0x04, 0, 0, 2};        /* 1025 */
	static const uint8_t long_cursor[] = {0, 0, 0, 0, 0x01, 0x02, 0, 0}; /* 513 */
	static const uint8_t list_none[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	static const uint8_t list_ok[] = {0, 0, 0, 0, 1, 0, 0, 0, 'k', 1, 0, 0, 0, 2};
	static const uint8_t get_unknown[] = {1, 0, 0, 0, 'k', CTL_CONSISTENCY_COUNT};
	static const uint8_t empty_put[] = {0, 0, 0, 0, 1, 0, 0, 0, 'v'};
	struct ctl_request out;
	struct ctl_frame frame;

	frame_of(f, CTL_MSG_KV_GET, empty_key, sizeof(empty_key), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_KV_PUT, empty_put, sizeof(empty_put), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_KV_RM, long_key, sizeof(long_key), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -BASE_ERR_TOO_LONG);
	frame_of(f, CTL_MSG_KV_LIST, limit_0, sizeof(limit_0), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_KV_LIST, limit_over, sizeof(limit_over), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_KV_LIST, long_cursor, sizeof(long_cursor), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -BASE_ERR_TOO_LONG);
	frame_of(f, CTL_MSG_KV_LIST, list_none, sizeof(list_none), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_KV_GET, get_unknown, sizeof(get_unknown), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_KV_LIST, list_ok, sizeof(list_ok), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), 0);
	assert_int_equal(out.after_size, 1);
	assert_int_equal(out.after[0], 'k');
	assert_int_equal(out.consistency, CTL_CONSISTENCY_LOCAL);
	for (size_t cut = 0; cut < sizeof(list_ok); cut++) {
		frame_of(f, CTL_MSG_KV_LIST, list_ok, cut, &frame);
		assert_int_equal(ctl_request_decode(&frame, &out), -BASE_ERR_TRUNCATED);
	}
}

/* Encodes f->resp, flips one body byte to v, and expects decode to fail with code. */
static void
assert_patched_response_fails(struct fixture *f, size_t body_offset, uint8_t v, int code)
{
	struct ctl_frame frame;
	size_t size;

	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), 0);
	f->buf[CTL_FRAME_HEADER_SIZE + body_offset] = v;
	assert_int_equal(ctl_frame_decode(f->buf, size, CTL_RESPONSE_MAX, &frame), 0);
	assert_int_equal(ctl_response_decode(&frame, &f->decoded), code);
}

static void
test_ctl_bench_decode_rejects_parameters_out_of_range_and_bad_buckets(void **state)
{
	struct fixture *f = *state;
	/* u32 inflight, u32 duration_ms, u32 value_size */
	static const uint8_t ok[] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
	static const uint8_t no_inflight[] = {0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0};
	static const uint8_t long_run[] = {1, 0, 0, 0, 0x89, 0x13, 0, 0, 1, 0, 0, 0}; /* 5001 */
	static const uint8_t no_value[] = {1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
	/* status(1) ops elapsed errors lost min max (6 x 8) count(4): the first bucket at 53 */
	const size_t second_value = 1 + 6 * 8 + 4 + 16;
	struct ctl_request out;
	struct ctl_frame frame;

	frame_of(f, CTL_MSG_BENCH, ok, sizeof(ok), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), 0);
	assert_int_equal(out.bench.inflight, 1);
	frame_of(f, CTL_MSG_BENCH, no_inflight, sizeof(no_inflight), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_BENCH, long_run, sizeof(long_run), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_BENCH, no_value, sizeof(no_value), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_BENCH, ok, sizeof(ok) - 1, &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -BASE_ERR_TRUNCATED);
	/* The second bucket's value (20, low byte) made equal to the first's (10). */
	fill_bench(&f->resp, 2);
	assert_patched_response_fails(f, second_value, 10, -EBADMSG);
	/* Its count (2) made 0. */
	fill_bench(&f->resp, 2);
	assert_patched_response_fails(f, second_value + 8, 0, -EBADMSG);
	/* A bucket count over the limit: the count's third byte. */
	fill_bench(&f->resp, 2);
	assert_patched_response_fails(f, 1 + 6 * 8 + 2, 0x7f, -EBADMSG);
}

static void
test_ctl_response_decode_rejects_non_canonical_bytes(void **state)
{
	struct fixture *f = *state;

	fill_status(&f->resp);
	/* body: status(1) node(4) cluster(8) has_leader(1) leader(4) term(8) slot(8) count(2) */
	assert_patched_response_fails(f, 0, CTL_STATUS_COUNT, -EBADMSG);
	assert_patched_response_fails(f, 13, 2, -EBADMSG);
	f->resp.info.has_leader = false;
	f->resp.info.leader_id = 0;
	assert_patched_response_fails(f, 14, 5, -EBADMSG);
	fill_status(&f->resp);
	assert_patched_response_fails(f, 34, CTL_PEERS_MAX + 1, -EBADMSG);
	assert_patched_response_fails(f, 36 + 4, CTL_PEER_STATE_COUNT, -EBADMSG);
	fill_nodes(&f->resp);
	/* body: status(1) count(2) then node: id(4) state(1) flags(1) */
	assert_patched_response_fails(f, 8, 4, -EBADMSG);
	/* body: status(1) consistency(1) node(4) slot(8) has_more(1) count(4), entries */
	ctl_response_reset(&f->resp, CTL_MSG_KV_LIST, 1);
	f->resp.read = (struct ctl_read_info){CTL_CONSISTENCY_LOCAL, 3, 9};
	assert_patched_response_fails(f, 1, CTL_CONSISTENCY_NONE, -EBADMSG);
	assert_patched_response_fails(f, 1, CTL_CONSISTENCY_COUNT, -EBADMSG);
	assert_patched_response_fails(f, 14, 2, -EBADMSG);
	/* has_more with no entries. */
	assert_patched_response_fails(f, 14, 1, -EBADMSG);
	/* A second key ("b", blob at 28) made equal to the first ("a"). */
	f->resp.entry_count = 2;
	f->resp.entries[0] = (struct ctl_kv_entry){(const uint8_t *)"a", 1, 1, 0};
	f->resp.entries[1] = (struct ctl_kv_entry){(const uint8_t *)"b", 1, 1, 0};
	assert_patched_response_fails(f, 19 + 17 + 4, 'a', -EBADMSG);
	assert_patched_response_fails(f, 19 + 17 + 4, '0', -EBADMSG);
	ctl_response_reset(&f->resp, CTL_MSG_KV_GET, 1);
	f->resp.read.consistency = CTL_CONSISTENCY_LINEARIZABLE;
	assert_patched_response_fails(f, 1, CTL_CONSISTENCY_NONE, -EBADMSG);
}

/* status(1) node(4) cluster(8) has_leader(1) leader(4) term(8) slot(8) count(2), 2 peers of
 * 13: the counters' flag, then the transport. */
#define STATUS_COUNTERS_OFFSET (36u + 2u * 13u)

static void
fill_status_counters(struct ctl_response *r)
{
	fill_status(r);
	r->info.has_counters = true;
	r->info.transport = CTL_TRANSPORT_MEMIF;
	r->info.counters = (struct ctl_frame_counters){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
}

static void
test_ctl_status_counters_round_trip_in_field_order(void **state)
{
	struct fixture *f = *state;
	const struct ctl_frame_counters *c = &f->decoded.info.counters;
	size_t size;

	fill_status_counters(&f->resp);
	size = assert_response_round_trip(f);
	assert_true(f->decoded.info.has_counters);
	assert_int_equal(f->decoded.info.transport, CTL_TRANSPORT_MEMIF);
	assert_true(c->garbage == 1 && c->oversize == 2 && c->forged == 3);
	assert_true(c->unauthenticated == 4 && c->replayed == 5 && c->stale == 6);
	assert_true(c->foreign == 7 && c->unknown_sender == 8 && c->bad_frames == 9);
	assert_true(c->decode_errors == 10 && c->rabia_foreign == 11 && c->violations == 12);
	/* The flag, the transport, twelve counters and an empty worker list (u16). */
	assert_int_equal(size, CTL_FRAME_HEADER_SIZE + STATUS_COUNTERS_OFFSET + 2 + 8 * 12 + 2);

	/* Without counters: one zero byte, and the decoder leaves them zero. */
	fill_status(&f->resp);
	size = assert_response_round_trip(f);
	assert_int_equal(size, CTL_FRAME_HEADER_SIZE + STATUS_COUNTERS_OFFSET + 1 + 2);
	assert_false(f->decoded.info.has_counters);
	assert_int_equal(f->decoded.info.transport, CTL_TRANSPORT_NONE);
	assert_true(f->decoded.info.counters.violations == 0);
}

static void
test_ctl_status_counters_reject_a_bad_flag_transport_or_truncation(void **state)
{
	struct fixture *f = *state;
	uint8_t body[256];
	struct ctl_frame frame;
	size_t size;

	fill_status_counters(&f->resp);
	assert_patched_response_fails(f, STATUS_COUNTERS_OFFSET, 2, -EBADMSG);
	assert_patched_response_fails(f, STATUS_COUNTERS_OFFSET + 1, CTL_TRANSPORT_NONE, -EBADMSG);
	assert_patched_response_fails(f, STATUS_COUNTERS_OFFSET + 1, CTL_TRANSPORT_COUNT, -EBADMSG);
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), 0);
	size -= CTL_FRAME_HEADER_SIZE;
	assert_true(size <= sizeof(body));
	memcpy(body, f->buf + CTL_FRAME_HEADER_SIZE, size);
	for (size_t cut = STATUS_COUNTERS_OFFSET; cut < size; cut++) {
		frame_of(f, CTL_MSG_RESPONSE | CTL_MSG_STATUS, body, cut, &frame);
		assert_int_equal(ctl_response_decode(&frame, &f->decoded), -BASE_ERR_TRUNCATED);
	}
	f->resp.info.transport = CTL_TRANSPORT_NONE;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.info.transport = (enum ctl_transport)CTL_TRANSPORT_COUNT;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
}

static void
test_ctl_response_decode_rejects_requests_and_ok_without_a_type(void **state)
{
	struct fixture *f = *state;
	static const uint8_t ok[] = {0};
	struct ctl_frame frame;

	frame_of(f, CTL_MSG_STATUS, ok, 0, &frame);
	assert_int_equal(ctl_response_decode(&frame, &f->decoded), -EBADMSG);
	frame_of(f, CTL_MSG_RESPONSE | CTL_MSG_NONE, ok, sizeof(ok), &frame);
	assert_int_equal(ctl_response_decode(&frame, &f->decoded), -EBADMSG);
	frame_of(f, CTL_MSG_RESPONSE | CTL_MSG_TYPE_COUNT, ok, sizeof(ok), &frame);
	assert_int_equal(ctl_response_decode(&frame, &f->decoded), -EBADMSG);
}

static void
test_ctl_response_decode_rejects_every_truncation(void **state)
{
	struct fixture *f = *state;
	uint8_t body[256];
	struct ctl_frame frame;
	size_t size;

	fill_nodes(&f->resp);
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), 0);
	size -= CTL_FRAME_HEADER_SIZE;
	memcpy(body, f->buf + CTL_FRAME_HEADER_SIZE, size);
	for (size_t cut = 0; cut < size; cut++) {
		frame_of(f, CTL_MSG_RESPONSE | CTL_MSG_NODES, body, cut, &frame);
		assert_int_equal(ctl_response_decode(&frame, &f->decoded), -BASE_ERR_TRUNCATED);
	}
}

/* ---- Streams ---- */

static void
test_ctl_stream_assembles_frames_fed_one_byte_at_a_time(void **state)
{
	struct fixture *f = *state;
	static uint8_t wire[256];
	uint8_t sbuf[CTL_REQUEST_MAX];
	struct ctl_request a = request_of(CTL_MSG_KV_GET, "first", NULL, 0);
	struct ctl_request b = request_of(CTL_MSG_KV_LIST, "p", NULL, 3);
	struct ctl_stream s;
	struct ctl_frame frame;
	struct ctl_request out;
	size_t na;
	size_t nb;
	size_t got = 0;

	assert_int_equal(ctl_request_encode(&a, wire, sizeof(wire), &na), 0);
	assert_int_equal(ctl_request_encode(&b, wire + na, sizeof(wire) - na, &nb), 0);
	ctl_stream_init(&s, sbuf, sizeof(sbuf));
	for (size_t i = 0; i < na + nb; i++) {
		size_t space;
		uint8_t *dst = ctl_stream_space(&s, &space);

		assert_true(space > 0);
		*dst = wire[i];
		ctl_stream_commit(&s, 1);
		while (ctl_stream_next(&s, &frame) == 1) {
			assert_int_equal(ctl_request_decode(&frame, &out), 0);
			assert_int_equal(out.type, got == 0 ? CTL_MSG_KV_GET : CTL_MSG_KV_LIST);
			assert_int_equal(i + 1, got == 0 ? na : na + nb);
			ctl_stream_consume(&s, frame.size);
			got++;
		}
	}
	assert_int_equal(got, 2);
	assert_int_equal(ctl_stream_buffered(&s), 0);
	(void)f;
}

static void
test_ctl_stream_refuses_an_oversized_frame_from_its_header(void **state)
{
	struct fixture *f = *state;
	uint8_t sbuf[CTL_REQUEST_MAX];
	struct ctl_stream s;
	struct ctl_frame frame;
	size_t space;
	uint8_t *dst;

	encode_put(f);
	base_store_le32(f->buf + 16, 70000);
	ctl_stream_init(&s, sbuf, sizeof(sbuf));
	dst = ctl_stream_space(&s, &space);
	memcpy(dst, f->buf, CTL_FRAME_HEADER_SIZE - 1);
	ctl_stream_commit(&s, CTL_FRAME_HEADER_SIZE - 1);
	assert_int_equal(ctl_stream_next(&s, &frame), 0);
	dst = ctl_stream_space(&s, &space);
	*dst = f->buf[CTL_FRAME_HEADER_SIZE - 1];
	ctl_stream_commit(&s, 1);
	assert_int_equal(ctl_stream_next(&s, &frame), -BASE_ERR_TOO_LONG);
	assert_int_equal(frame.header.body_size, 70000);
	ctl_stream_reset(&s);
	assert_int_equal(ctl_stream_buffered(&s), 0);
}

static void
test_ctl_random_bytes_never_crash_the_decoders(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;
	uint8_t sbuf[CTL_REQUEST_MAX];

	base_prng_init(&prng, 20240601);
	for (int round = 0; round < 2000; round++) {
		size_t size = (size_t)base_prng_below(&prng, 96);
		struct ctl_frame frame;
		struct ctl_request req;
		struct ctl_stream s;
		size_t space;

		encode_put(f);
		/* Keep a valid header most of the time, so the body decoders are reached. */
		for (size_t i = base_prng_chance(&prng, 800000) ? CTL_FRAME_HEADER_SIZE : 0;
		     i < size; i++) {
			f->buf[i] = (uint8_t)base_prng_next(&prng);
		}
		base_store_le32(f->buf + 16, (uint32_t)(size > 20 ? size - 20 : 0));
		if (ctl_frame_decode(f->buf, size, CTL_RESPONSE_MAX, &frame) == 0) {
			(void)!ctl_request_decode(&frame, &req);
			(void)!ctl_response_decode(&frame, &f->decoded);
		}
		ctl_stream_init(&s, sbuf, sizeof(sbuf));
		memcpy(ctl_stream_space(&s, &space), f->buf, size);
		ctl_stream_commit(&s, size);
		(void)!ctl_stream_next(&s, &frame);
	}
}

static void
test_ctl_names_cover_every_value(void **state)
{
	(void)state;
	assert_string_equal(ctl_msg_type_name(CTL_MSG_KV_LIST), "kv_list");
	assert_string_equal(ctl_msg_type_name(CTL_MSG_BENCH), "bench");
	assert_string_equal(ctl_msg_type_name(CTL_MSG_SLICE_LOAD), "slice_load");
	assert_string_equal(ctl_msg_type_name(CTL_MSG_SLICE_LIST), "slice_list");
	assert_string_equal(ctl_slice_state_name(CTL_SLICE_ACTIVE), "active");
	assert_string_equal(ctl_slice_state_name((enum ctl_slice_state)CTL_SLICE_STATE_COUNT), "?");
	assert_string_equal(ctl_msg_type_name(CTL_MSG_NONE), "none");
	assert_string_equal(ctl_msg_type_name((enum ctl_msg_type)99), "?");
	assert_string_equal(ctl_status_name(CTL_STATUS_DENIED), "denied");
	assert_string_equal(ctl_status_name(CTL_STATUS_INTERNAL), "internal");
	assert_string_equal(ctl_status_name((enum ctl_status)CTL_STATUS_COUNT), "?");
	assert_string_equal(ctl_peer_state_name(CTL_PEER_SUSPECT), "suspect");
	assert_string_equal(ctl_peer_state_name((enum ctl_peer_state)9), "?");
	assert_string_equal(ctl_transport_name(CTL_TRANSPORT_MEMIF), "memif");
	assert_string_equal(ctl_transport_name(CTL_TRANSPORT_UDP), "udp");
	assert_string_equal(ctl_transport_name(CTL_TRANSPORT_PCI), "pci");
	assert_string_equal(ctl_transport_name((enum ctl_transport)CTL_TRANSPORT_COUNT), "?");
	assert_string_equal(ctl_consistency_name(CTL_CONSISTENCY_LOCAL), "local");
	assert_string_equal(ctl_consistency_name(CTL_CONSISTENCY_LINEARIZABLE), "linearizable");
	assert_string_equal(ctl_consistency_name((enum ctl_consistency)CTL_CONSISTENCY_COUNT), "?");
}

/* A slice request: the coordinate in key, SLICE_CALL's method and argument, LOAD's worker. */
static struct ctl_request
slice_request_of(enum ctl_msg_type type, const char *coord, const char *method, const char *arg,
		 uint32_t worker)
{
	struct ctl_request req = request_of(type, coord, arg, 0);

	req.method = method;
	req.method_size = method != NULL ? strlen(method) : 0;
	req.worker = worker;
	return req;
}

static void
test_ctl_slice_requests_round_trip_with_method_argument_and_worker(void **state)
{
	struct fixture *f = *state;
	struct ctl_request reqs[] = {
		slice_request_of(CTL_MSG_SLICE_LOAD, "org.a.b:greeter:1.0.0", NULL, NULL,
				 CTL_WORKER_ANY),
		slice_request_of(CTL_MSG_SLICE_LOAD, "x", NULL, NULL, 3),
		slice_request_of(CTL_MSG_SLICE_CALL, "org.a.b:greeter:1.0.0", "greet", "world", 0),
		slice_request_of(CTL_MSG_SLICE_CALL, "c", "", "", 0),
		slice_request_of(CTL_MSG_SLICE_UNLOAD, "org.a.b:greeter:1.0.0", NULL, NULL, 0),
		slice_request_of(CTL_MSG_SLICE_LIST, NULL, NULL, NULL, 0),
	};
	struct ctl_request out;
	struct ctl_frame frame;
	size_t size;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		assert_request_round_trip(f, &reqs[i]);
		assert_int_equal(ctl_request_encode(&reqs[i], f->buf, CTL_REQUEST_MAX, &size), 0);
		assert_int_equal(ctl_frame_decode(f->buf, size, CTL_REQUEST_MAX, &frame), 0);
		assert_int_equal(ctl_request_decode(&frame, &out), 0);
		assert_int_equal(out.method_size, reqs[i].method_size);
		assert_memory_equal(out.method, reqs[i].method != NULL ? reqs[i].method : "",
				    out.method_size);
		if (reqs[i].type == CTL_MSG_SLICE_LOAD) {
			assert_int_equal(out.worker, reqs[i].worker);
		}
	}
	/* Empty, oversized coordinates and oversized methods or arguments are refused. */
	reqs[0].key_size = 0;
	assert_int_equal(ctl_request_encode(&reqs[0], f->buf, CTL_REQUEST_MAX, &size), -EINVAL);
	reqs[0].key_size = CTL_COORD_MAX + 1;
	reqs[0].key = f->keys[0];
	assert_int_equal(ctl_request_encode(&reqs[0], f->buf, CTL_REQUEST_MAX, &size), -EINVAL);
	reqs[2].method_size = CTL_METHOD_MAX + 1;
	assert_int_equal(ctl_request_encode(&reqs[2], f->buf, CTL_REQUEST_MAX, &size), -EINVAL);
	reqs[2].method_size = 5;
	reqs[2].value = f->keys[0];
	reqs[2].value_size = CTL_SLICE_DATA_MAX + 1;
	assert_int_equal(ctl_request_encode(&reqs[2], f->buf, CTL_REQUEST_MAX, &size), -EINVAL);
}

static void
test_ctl_slice_request_decode_rejects_an_empty_coordinate(void **state)
{
	struct fixture *f = *state;
	/* blob coord (empty), u32 worker */
	static const uint8_t empty_coord[] = {0, 0, 0, 0, 1, 0, 0, 0};
	static const uint8_t one_byte[] = {1, 0, 0, 0, 'c', 1, 0, 0, 0};
	struct ctl_request out;
	struct ctl_frame frame;

	frame_of(f, CTL_MSG_SLICE_LOAD, empty_coord, sizeof(empty_coord), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -EBADMSG);
	frame_of(f, CTL_MSG_SLICE_LOAD, one_byte, sizeof(one_byte), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), 0);
	assert_int_equal(out.worker, 1);
	frame_of(f, CTL_MSG_SLICE_UNLOAD, one_byte, sizeof(one_byte), &frame);
	assert_int_equal(ctl_request_decode(&frame, &out), -BASE_ERR_TRAILING);
}

static void
test_ctl_slice_answers_and_status_workers_round_trip(void **state)
{
	struct fixture *f = *state;
	size_t size;

	ctl_response_reset(&f->resp, CTL_MSG_SLICE_LIST, 5);
	f->resp.slice_count = 2;
	f->resp.slices[0] = (struct ctl_slice_info){"a.b:c:1.0.0", 11, 0, 256, CTL_SLICE_ACTIVE};
	f->resp.slices[1] = (struct ctl_slice_info){"a.b:d:1.0.0", 11, 1, 257, CTL_SLICE_LOADING};
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.slice_count, 2);
	assert_int_equal(f->decoded.slices[1].worker, 1);
	assert_int_equal(f->decoded.slices[1].instance_id, 257);
	assert_int_equal(f->decoded.slices[1].state, CTL_SLICE_LOADING);
	assert_memory_equal(f->decoded.slices[0].coord, "a.b:c:1.0.0", 11);

	/* LOAD answers exactly one entry. */
	f->resp.type = CTL_MSG_SLICE_LOAD;
	f->resp.slice_count = 1;
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.slice_count, 1);
	f->resp.slice_count = 2;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	f->resp.slice_count = 1;
	f->resp.slices[0].state = (enum ctl_slice_state)CTL_SLICE_STATE_COUNT;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
	/* A bad state byte on the wire (the last byte of the one entry). */
	f->resp.slices[0].state = CTL_SLICE_ACTIVE;
	assert_patched_response_fails(f, 1 + 4 + 11 + 4 + 4, CTL_SLICE_STATE_COUNT, -EBADMSG);

	ctl_response_reset(&f->resp, CTL_MSG_SLICE_CALL, 6);
	f->resp.value = (const uint8_t *)"hello";
	f->resp.value_size = 5;
	assert_response_round_trip(f);
	assert_memory_equal(f->decoded.value, "hello", 5);
	ctl_response_reset(&f->resp, CTL_MSG_SLICE_UNLOAD, 7);
	assert_response_round_trip(f);

	fill_status(&f->resp);
	f->resp.info.worker_count = 2;
	f->resp.info.workers[0] = (struct ctl_worker_info){1, 10, 9, 0, 1};
	f->resp.info.workers[1] = (struct ctl_worker_info){3, 4, 4, 2, 0};
	assert_response_round_trip(f);
	assert_int_equal(f->decoded.info.worker_count, 2);
	assert_int_equal(f->decoded.info.workers[1].cpu, 3);
	assert_true(f->decoded.info.workers[0].messages_in == 10);
	assert_true(f->decoded.info.workers[0].messages_out == 9);
	assert_true(f->decoded.info.workers[1].ring_full == 2);
	assert_int_equal(f->decoded.info.workers[0].slice_count, 1);
	f->resp.info.worker_count = CTL_WORKERS_MAX + 1;
	assert_int_equal(ctl_response_encode(&f->resp, f->buf, CTL_RESPONSE_MAX, &size), -EINVAL);
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_ctl_request_round_trips_for_every_type),
		CASE(test_ctl_request_with_longest_key_and_value_fits_in_a_request),
		CASE(test_ctl_response_round_trips_for_every_type),
		CASE(test_ctl_bench_response_with_every_bucket_round_trips_and_fits),
		CASE(test_ctl_bench_rejects_parameters_and_buckets_out_of_bounds),
		CASE(test_ctl_response_error_carries_status_and_message),
		CASE(test_ctl_response_with_a_full_list_of_longest_keys_fits),
		CASE(test_ctl_response_get_value_is_bounded_by_the_response_size),
		CASE(test_ctl_request_encode_rejects_invalid_requests),
		CASE(test_ctl_request_encode_reports_a_small_buffer),
		CASE(test_ctl_response_encode_rejects_invalid_responses),
		CASE(test_ctl_read_answers_must_be_labelled_and_lists_must_ascend),
		CASE(test_ctl_response_error_cuts_long_messages),
		CASE(test_ctl_frame_header_waits_for_every_partial_header),
		CASE(test_ctl_frame_header_rejects_a_bad_magic_on_its_first_byte),
		CASE(test_ctl_frame_header_names_another_version_from_five_bytes),
		CASE(test_ctl_frame_header_rejects_reserved_bits),
		CASE(test_ctl_frame_header_rejects_an_oversized_frame_before_its_body),
		CASE(test_ctl_frame_decode_rejects_every_truncation_and_trailing_bytes),
		CASE(test_ctl_request_decode_rejects_every_truncated_body),
		CASE(test_ctl_bench_decode_rejects_parameters_out_of_range_and_bad_buckets),
		CASE(test_ctl_request_decode_rejects_unknown_and_response_types),
		CASE(test_ctl_request_decode_rejects_empty_keys_long_keys_and_bad_limits),
		CASE(test_ctl_response_decode_rejects_non_canonical_bytes),
		CASE(test_ctl_status_counters_round_trip_in_field_order),
		CASE(test_ctl_status_counters_reject_a_bad_flag_transport_or_truncation),
		CASE(test_ctl_response_decode_rejects_requests_and_ok_without_a_type),
		CASE(test_ctl_response_decode_rejects_every_truncation),
		CASE(test_ctl_stream_assembles_frames_fed_one_byte_at_a_time),
		CASE(test_ctl_stream_refuses_an_oversized_frame_from_its_header),
		CASE(test_ctl_random_bytes_never_crash_the_decoders),
		CASE(test_ctl_names_cover_every_value),
		CASE(test_ctl_slice_requests_round_trip_with_method_argument_and_worker),
		CASE(test_ctl_slice_request_decode_rejects_an_empty_coordinate),
		CASE(test_ctl_slice_answers_and_status_workers_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
