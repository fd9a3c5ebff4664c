/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the frame codec (dataplane/frame.h) and the receive checks behind it
 * (dataplane/auth.h).
 *
 * The input is a candidate frame, copied to a heap buffer of its exact size so ASan catches
 * any read past the end (and UBSan any misaligned access after the 14-byte Ethernet header).
 * A rejected input must leave the view zeroed. An accepted one must describe bytes inside the
 * input with consistent sizes, must re-encode (canonical form: no IPv4 options, zero tag) and
 * decode again to the same header and body, and is then given to dp_auth_open of a fixed
 * receiver: random bytes never carry a valid GMAC, so it must be rejected, and must never
 * crash. (The tag check is separate from decoding, so the fuzzer reaches every header field.)
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "dataplane/auth.h"
#include "dataplane/frame.h"

static struct dp_auth *fuzz_frame_auth;

static void
fuzz_frame_auth_init(void)
{
	static const char secret[] = "fuzzing-secret-fuzzing-secret";
	struct dp_auth_config c;

	memset(&c, 0, sizeof(c));
	c.cluster_id = 1;
	c.epoch = 1;
	c.self_id = 2;
	c.incarnation = 1;
	c.secret = (const uint8_t *)secret;
	c.secret_size = sizeof(secret) - 1;
	c.peer_ids[0] = 1;
	c.peer_count = 1;
	ASSERT(dp_auth_create(&c, &fuzz_frame_auth) == 0);
}

static void
fuzz_frame_check_round_trip(const struct dp_frame_view *v)
{
	static uint8_t again[DP_FRAME_SIZE_MAX];
	struct dp_frame_view w;
	size_t size;

	ASSERT(dp_frame_encode(&v->src, &v->dst, &v->header, v->body, v->body_size, again,
			       sizeof(again), &size) == 0);
	ASSERT(size == dp_frame_size(v->body_size));
	ASSERT(dp_frame_decode(again, size, &w) == 0);
	ASSERT(memcmp(&w.header, &v->header, sizeof(w.header)) == 0);
	ASSERT(memcmp(&w.src, &v->src, sizeof(w.src)) == 0);
	ASSERT(memcmp(&w.dst, &v->dst, sizeof(w.dst)) == 0);
	ASSERT(w.body_size == v->body_size);
	ASSERT(v->body_size == 0 || memcmp(w.body, v->body, v->body_size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dp_frame_view zero;
	struct dp_frame_view v;
	uint8_t *copy;

	if (fuzz_frame_auth == NULL) {
		fuzz_frame_auth_init();
	}
	copy = malloc(size > 0 ? size : 1);
	ASSERT(copy != NULL);
	if (size > 0) {
		memcpy(copy, data, size);
	}
	if (dp_frame_decode(copy, size, &v) != 0) {
		ASSERT(memcmp(&v, &zero, sizeof(v)) == 0);
		free(copy);
		return 0;
	}
	ASSERT(v.aad >= copy && v.tag + DP_FRAME_TAG_SIZE <= copy + size);
	ASSERT(v.aad_size == DP_FRAME_HEADER_SIZE + v.body_size);
	ASSERT(v.body == v.aad + DP_FRAME_HEADER_SIZE && v.tag == v.body + v.body_size);
	fuzz_frame_check_round_trip(&v);
	ASSERT(dp_auth_open(fuzz_frame_auth, &v) != 0);
	free(copy);
	return 0;
}
