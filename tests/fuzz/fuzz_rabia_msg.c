/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the Rabia wire codec (consensus/rabia_msg.h).
 *
 * The input is decoded as one message; an accepted message must re-encode to exactly the input
 * bytes (the encoding is canonical), report that size from rabia_msg_encoded_size, and decode
 * again to the same fields. The input is also parsed as a bare batch, whose requests must lie
 * inside the input. The input is a heap copy of the exact size, so ASan catches any read past
 * the end.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "consensus/rabia_msg.h"

static void
fuzz_msg_round_trip(const uint8_t *data, size_t size)
{
	struct rabia_msg m;
	struct rabia_msg again;
	uint8_t *out;
	size_t n;

	if (rabia_msg_decode(data, size, &m) != 0) {
		return;
	}
	ASSERT(rabia_msg_encoded_size(&m) == size);
	out = malloc(size);
	ASSERT(out != NULL);
	ASSERT(rabia_msg_encode(&m, out, size, &n) == 0);
	ASSERT(n == size);
	ASSERT(memcmp(out, data, size) == 0);
	ASSERT(rabia_msg_decode(out, n, &again) == 0);
	ASSERT(again.type == m.type && again.slot == m.slot && again.phase == m.phase);
	ASSERT(again.value == m.value && rabia_batch_id_equal(again.id, m.id));
	ASSERT(again.batch_size == m.batch_size && again.batch_count == m.batch_count);
	free(out);
}

static void
fuzz_batch_parse(const uint8_t *data, size_t size)
{
	static struct rabia_request reqs[RABIA_BATCH_COUNT_MAX];
	struct rabia_batch_id id;
	uint16_t count;

	if (rabia_batch_parse(data, size, &id, &count, reqs, RABIA_BATCH_COUNT_MAX) != 0) {
		return;
	}
	ASSERT(count >= 1 && count <= RABIA_BATCH_COUNT_MAX);
	for (uint16_t i = 0; i < count; i++) {
		ASSERT(reqs[i].body_size == 0 ||
		       (reqs[i].body >= data && reqs[i].body + reqs[i].body_size <= data + size));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size == 0 ? 1 : size);

	ASSERT(copy != NULL);
	if (size > 0) {
		memcpy(copy, data, size);
	}
	fuzz_msg_round_trip(copy, size);
	fuzz_batch_parse(copy, size);
	free(copy);
	return 0;
}
