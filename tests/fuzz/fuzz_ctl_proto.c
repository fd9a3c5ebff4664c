/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the operator protocol codec (ctl/ctl_proto.h), the decoder a node runs on
 * bytes from any local process that can reach its socket.
 *
 * The input is tried two ways. As one exact frame: an accepted request or response must
 * re-encode to exactly the input bytes (the encoding is canonical). As a byte stream cut into
 * chunks whose sizes come from the input itself, fed through a ctl_stream the way the server
 * reads a connection: every frame it yields must decode or be rejected cleanly, and a broken
 * stream must stay rejected. The input is a heap copy of the exact size, so ASan catches any
 * read past the end. Decoded read answers must also hold what aetherctl relies on to page
 * through a list and to label a read (R9): a consistency other than NONE, list keys strictly
 * ascending (so the cursor only moves forward) and has_more only with a key to go on from.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "ctl/ctl_proto.h"

static uint8_t out_buf[CTL_RESPONSE_MAX];
static uint8_t stream_buf[CTL_REQUEST_MAX];
static struct ctl_response response;

static void
fuzz_request_round_trip(const struct ctl_frame *frame)
{
	struct ctl_request req;
	size_t n;

	if (ctl_request_decode(frame, &req) != 0) {
		return;
	}
	ASSERT(ctl_request_encode(&req, out_buf, sizeof(out_buf), &n) == 0);
	ASSERT(n == frame->size);
	ASSERT(memcmp(out_buf, frame->body - CTL_FRAME_HEADER_SIZE, n) == 0);
}

/* Byte order, a prefix first (the store's key order). */
static int
key_before(const struct ctl_kv_entry *a, const struct ctl_kv_entry *b)
{
	int c = memcmp(a->key, b->key, base_min_size(a->key_size, b->key_size));

	return c < 0 || (c == 0 && a->key_size < b->key_size);
}

static void
fuzz_read_answer_invariants(const struct ctl_response *r)
{
	if (r->status != CTL_STATUS_OK ||
	    (r->type != CTL_MSG_KV_GET && r->type != CTL_MSG_KV_LIST)) {
		return;
	}
	ASSERT(r->read.consistency == CTL_CONSISTENCY_LINEARIZABLE ||
	       r->read.consistency == CTL_CONSISTENCY_LOCAL);
	ASSERT(r->read.consistency == CTL_CONSISTENCY_LOCAL || r->read.node_id == 0);
	ASSERT(!r->has_more || r->entry_count >= 1);
	for (size_t i = 1; i < r->entry_count; i++) {
		ASSERT(key_before(&r->entries[i - 1], &r->entries[i]));
	}
}

static void
fuzz_response_round_trip(const struct ctl_frame *frame)
{
	size_t n;

	if (ctl_response_decode(frame, &response) != 0) {
		return;
	}
	fuzz_read_answer_invariants(&response);
	ASSERT(ctl_response_encode(&response, out_buf, sizeof(out_buf), &n) == 0);
	ASSERT(n == frame->size);
	ASSERT(memcmp(out_buf, frame->body - CTL_FRAME_HEADER_SIZE, n) == 0);
}

/* Feeds data through a stream in chunks of 1..16 bytes chosen by the data. */
static void
fuzz_stream(const uint8_t *data, size_t size)
{
	struct ctl_stream s;
	struct ctl_frame frame;
	size_t pos = 0;

	ctl_stream_init(&s, stream_buf, sizeof(stream_buf));
	while (pos < size) {
		size_t space;
		uint8_t *dst = ctl_stream_space(&s, &space);
		size_t chunk = base_min_size(
			base_min_size(1 + (size_t)(data[pos] & 15), size - pos), space);
		int rc;

		ASSERT(space > 0); /* a full buffer always holds a whole frame, consumed below */
		memcpy(dst, data + pos, chunk);
		ctl_stream_commit(&s, chunk);
		pos += chunk;
		while ((rc = ctl_stream_next(&s, &frame)) == 1) {
			ASSERT(frame.size <= ctl_stream_buffered(&s));
			fuzz_request_round_trip(&frame);
			ctl_stream_consume(&s, frame.size);
		}
		if (rc < 0) {
			return; /* the server would answer and close here */
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = calloc(1, size > 0 ? size : 1);
	struct ctl_frame frame;

	ASSERT(copy != NULL);
	if (size > 0) {
		memcpy(copy, data, size);
	}
	if (ctl_frame_decode(copy, size, CTL_RESPONSE_MAX, &frame) == 0) {
		ASSERT(frame.size == size);
		fuzz_request_round_trip(&frame);
		fuzz_response_round_trip(&frame);
	}
	fuzz_stream(copy, size);
	free(copy);
	return 0;
}
