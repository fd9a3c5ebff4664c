/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the KV command and result codec (consensus/kv_cmd.h) and for the store's
 * apply path (consensus/kv_store.h).
 *
 * The input is tried three ways: as a command (an accepted one must re-encode to exactly the
 * input bytes), as a result (same round trip), and as a request body applied to a small store
 * holding a few keys. The store must answer with a decodable result, give a retry the same bytes
 * back, and stay internally consistent (kv_store_check). Finally the input is split into a
 * stream of length-prefixed bodies from three clients, so the fuzzer can build up state. The
 * input is a heap copy of the exact size, so ASan catches any read past the end.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "consensus/kv_store.h"

#define FUZZ_KV_VALUE_MAX  256
#define FUZZ_KV_RESULT_CAP (KV_RESULT_HEADER_SIZE + FUZZ_KV_VALUE_MAX)

static void
fuzz_cmd_round_trip(const uint8_t *data, size_t size)
{
	struct kv_cmd cmd;
	uint8_t *out;
	size_t n;

	if (kv_cmd_decode(data, size, &cmd) != 0) {
		return;
	}
	ASSERT(kv_cmd_encoded_size(&cmd) == size);
	out = malloc(size);
	ASSERT(out != NULL);
	ASSERT(kv_cmd_encode(&cmd, out, size, &n) == 0);
	ASSERT(n == size);
	ASSERT(memcmp(out, data, size) == 0);
	free(out);
}

static void
fuzz_result_round_trip(const uint8_t *data, size_t size)
{
	struct kv_result res;
	uint8_t *out;
	size_t n;

	if (kv_result_decode(data, size, &res) != 0) {
		return;
	}
	out = malloc(size);
	ASSERT(out != NULL);
	ASSERT(kv_result_encode(&res, out, size, &n) == 0);
	ASSERT(n == size);
	ASSERT(memcmp(out, data, size) == 0);
	free(out);
}

/* Every queued change is well formed; called while draining. */
static void
fuzz_check_notification(const struct kv_notification *n)
{
	ASSERT(n->type == KV_NOTIFY_PUT || n->type == KV_NOTIFY_REMOVE);
	ASSERT(n->key_size > 0 && n->key_size <= KV_CMD_KEY_MAX);
	ASSERT(n->type == KV_NOTIFY_PUT || n->has_old);
}

/* Drains notifications, applies body as (log, client, seq) and checks the answer decodes. */
static void
fuzz_apply(struct kv_store *s, uint64_t log, uint64_t client, uint64_t seq, const uint8_t *body,
	   size_t size, uint8_t *result, size_t *result_size)
{
	struct kv_request req = {log, client, seq, body, size};
	struct kv_notification n;
	struct kv_result res;

	while (kv_store_notify_next(s, &n) == 1) {
		fuzz_check_notification(&n);
	}
	ASSERT(kv_store_notify_pending(s) == 0);
	/* With an empty queue every command's notifications fit: never -EAGAIN. */
	ASSERT(kv_store_apply(s, &req, result, FUZZ_KV_RESULT_CAP, result_size) == 0);
	ASSERT(kv_result_decode(result, *result_size, &res) == 0);
}

static void
fuzz_put(struct kv_store *s, uint64_t log, const char *key)
{
	struct kv_cmd c = {.type = KV_CMD_PUT, .op_count = 1};
	uint8_t body[64];
	uint8_t result[FUZZ_KV_RESULT_CAP];
	size_t body_size;
	size_t result_size;

	c.ops[0] = (struct kv_cmd_op){
		.type = KV_CMD_PUT,
		.key = (const uint8_t *)key,
		.key_size = strlen(key),
		.value = (const uint8_t *)"v",
		.value_size = 1,
	};
	ASSERT(kv_cmd_encode(&c, body, sizeof(body), &body_size) == 0);
	fuzz_apply(s, log, 100, log, body, body_size, result, &result_size);
}

static void
fuzz_preload(struct kv_store *s)
{
	fuzz_put(s, 1, "a");
	fuzz_put(s, 2, "leader");
	fuzz_put(s, 3, "nodes/n1");
}

/* Splits data into u8-length-prefixed bodies and applies them from three clients. */
static void
fuzz_stream(struct kv_store *s, uint64_t log, const uint8_t *data, size_t size)
{
	uint8_t result[FUZZ_KV_RESULT_CAP];
	size_t result_size;
	size_t pos = 0;

	while (pos < size) {
		size_t len = base_min_size(data[pos], size - pos - 1);
		uint64_t client = data[pos] % 3;

		log++;
		/* The sequence number repeats now and then, so retries are exercised too. */
		fuzz_apply(s, log, client, log / 2, data + pos + 1, len, result, &result_size);
		pos += 1 + len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_store_config cfg = {
		.max_keys = 16,
		.max_key_size = 64,
		.max_value_size = FUZZ_KV_VALUE_MAX,
		.data_budget_size = 2048,
		.max_clients = 4,
		.index_seed = 7,
	};
	uint8_t *copy = malloc(size > 0 ? size : 1);
	uint8_t first[FUZZ_KV_RESULT_CAP];
	uint8_t again[FUZZ_KV_RESULT_CAP];
	size_t first_size;
	size_t again_size;
	struct kv_store *s;

	ASSERT(copy != NULL);
	if (size > 0) {
		memcpy(copy, data, size);
	}
	fuzz_cmd_round_trip(copy, size);
	fuzz_result_round_trip(copy, size);
	cfg.notify_buffer_size = kv_store_notify_size_min(&cfg);
	ASSERT(kv_store_create(&cfg, &s) == 0);
	fuzz_preload(s);
	fuzz_apply(s, 10, 1, 1, copy, size, first, &first_size);
	fuzz_apply(s, 11, 1, 1, copy, size, again, &again_size);
	ASSERT(first_size == again_size);
	ASSERT(memcmp(first, again, first_size) == 0);
	ASSERT(kv_store_check(s) == 0);
	fuzz_stream(s, 11, copy, size);
	ASSERT(kv_store_check(s) == 0);
	kv_store_destroy(s);
	free(copy);
	return 0;
}
