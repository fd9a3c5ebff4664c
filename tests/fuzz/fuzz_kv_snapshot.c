/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the KV snapshot decoder (consensus/kv_store.h).
 *
 * The input is a snapshot BODY fed straight to kv_store_restore_begin, bypassing the checksum
 * (STYLE.md section 9), unless it is a whole snapshot that passes kv_snapshot_verify, in which
 * case its body is used. The target store already holds a few keys, so the diff has removes and
 * changes. A refused body must leave the store's digest unchanged. An accepted one must produce
 * a diff in strictly ascending key order, commit to a consistent store (kv_store_check), and
 * re-encode to exactly the input body (snapshots are canonical). The restored store must then
 * still apply a request. The input is a heap copy of the exact size, so ASan catches any read
 * past the end.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "consensus/kv_store.h"

#define FUZZ_SNAP_VALUE_MAX  128
#define FUZZ_SNAP_RESULT_CAP (KV_RESULT_HEADER_SIZE + FUZZ_SNAP_VALUE_MAX)

static int
fuzz_key_compare(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
	int c = memcmp(a, b, base_min_size(a_size, b_size));

	if (c != 0) {
		return c;
	}
	return a_size < b_size ? -1 : (a_size > b_size ? 1 : 0);
}

static void
fuzz_apply_put(struct kv_store *s, uint64_t log, const char *key, const char *value)
{
	struct kv_cmd c = {.type = KV_CMD_PUT, .op_count = 1};
	uint8_t body[128];
	uint8_t result[FUZZ_SNAP_RESULT_CAP];
	size_t body_size;
	size_t result_size;
	struct kv_request req = {log, 100, log, body, 0};

	c.ops[0] = (struct kv_cmd_op){
		.type = KV_CMD_PUT,
		.key = (const uint8_t *)key,
		.key_size = strlen(key),
		.value = (const uint8_t *)value,
		.value_size = strlen(value),
	};
	ASSERT(kv_cmd_encode(&c, body, sizeof(body), &body_size) == 0);
	req.body_size = body_size;
	ASSERT(kv_store_apply(s, &req, result, sizeof(result), &result_size) == 0);
}

/* One change of the diff: well formed and after the previous key (prev_size 0: first). */
static void
fuzz_check_change(const struct kv_notification *n, const uint8_t *prev, size_t prev_size)
{
	ASSERT(n->key_size > 0 && n->key_size <= KV_CMD_KEY_MAX);
	ASSERT(n->type == KV_NOTIFY_PUT || n->type == KV_NOTIFY_REMOVE);
	ASSERT(n->type == KV_NOTIFY_PUT || n->has_old);
	ASSERT(prev_size == 0 || fuzz_key_compare(prev, prev_size, n->key, n->key_size) < 0);
}

/* Walks the diff: keys strictly ascending, every change well formed. */
static void
fuzz_walk_diff(struct kv_store *s)
{
	struct kv_notification n;
	uint8_t prev[KV_CMD_KEY_MAX];
	size_t prev_size = 0;

	while (kv_store_restore_next(s, &n) == 1) {
		fuzz_check_change(&n, prev, prev_size);
		memcpy(prev, n.key, n.key_size);
		prev_size = n.key_size;
	}
}

static void
fuzz_restored(struct kv_store *s, const uint8_t *body, size_t body_size)
{
	size_t size = kv_store_snapshot_size(s);
	uint8_t *snap = malloc(size);
	const uint8_t *again;
	size_t again_size;

	ASSERT(snap != NULL);
	ASSERT(kv_store_check(s) == 0);
	ASSERT(kv_store_snapshot_encode(s, snap, size, &size) == 0);
	ASSERT(kv_snapshot_verify(snap, size, &again, &again_size) == 0);
	ASSERT(again_size == body_size);
	ASSERT(memcmp(again, body, body_size) == 0);
	free(snap);
	if (kv_store_applied_index(s) < UINT64_MAX) {
		fuzz_apply_put(s, kv_store_applied_index(s) + 1, "after", "restore");
		ASSERT(kv_store_check(s) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_store_config cfg = {
		.max_keys = 32,
		.max_key_size = 64,
		.max_value_size = FUZZ_SNAP_VALUE_MAX,
		.data_budget_size = 4096,
		.max_clients = 8,
		.notify_buffer_size = 0,
		.index_seed = 3,
	};
	uint8_t *copy = malloc(size > 0 ? size : 1);
	const uint8_t *body = copy;
	size_t body_size = size;
	struct kv_store *s;
	struct base_hash128 before;

	ASSERT(copy != NULL);
	if (size > 0) {
		memcpy(copy, data, size);
	}
	if (kv_snapshot_verify(copy, size, &body, &body_size) != 0) {
		body = copy;
		body_size = size;
	}
	ASSERT(kv_store_create(&cfg, &s) == 0);
	fuzz_apply_put(s, 1, "a", "old");
	fuzz_apply_put(s, 2, "m", "old");
	fuzz_apply_put(s, 3, "z", "old");
	before = kv_store_digest(s);
	if (kv_store_restore_begin(s, body, body_size) == 0) {
		fuzz_walk_diff(s);
		kv_store_restore_commit(s);
		fuzz_restored(s, body, body_size);
	} else {
		ASSERT(base_hash128_equal(before, kv_store_digest(s)));
	}
	kv_store_destroy(s);
	free(copy);
	return 0;
}
