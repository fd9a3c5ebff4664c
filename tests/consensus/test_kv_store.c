/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the replicated KV store is a deterministic state machine with the documented semantics:
 * put/get/remove, CAS by mod index, all-or-nothing batches, R8 dedupe with deterministic
 * eviction, notifications with old values, results (not asserts) for full conditions,
 * snapshots that restore to an equal digest and report the diff, refusal of corrupt snapshots,
 * and a digest that depends on contents only.
 * Method: a small store per test driven through kv_store_apply() with encoded commands exactly
 * as the replica layer will; hand-made snapshot bodies for the decoder's refusals; a fault loop
 * on kv_store_create; and a seeded property test where two differently seeded stores and a
 * simple reference model (arrays) must agree on every result byte and every digest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/prng.h"
#include "consensus/kv_cmd.h"
#include "consensus/kv_store.h"

#define VALUE_MAX  64
#define RESULT_CAP (KV_RESULT_HEADER_SIZE + VALUE_MAX)
#define SNAP_CAP   (64 * 1024)

struct fixture {
	struct kv_store_config cfg;
	struct kv_store *s;
	uint64_t log;       /* last log index handed to the store */
	uint64_t seq;       /* client 1's last sequence number */
	uint8_t body[4096]; /* the last encoded command */
	size_t body_size;
	uint8_t result[RESULT_CAP];
	size_t result_size;
	struct kv_result res;
	uint8_t snap[SNAP_CAP];
	size_t snap_size;
};

static struct kv_store_config
small_config(uint64_t seed)
{
	struct kv_store_config cfg = {
		.max_keys = 8,
		.max_key_size = 32,
		.max_value_size = VALUE_MAX,
		.data_budget_size = 256,
		.max_clients = 4,
		.index_seed = seed,
	};

	cfg.notify_buffer_size = kv_store_notify_size_min(&cfg);
	return cfg;
}

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	f->cfg = small_config(1);
	*state = f;
	return kv_store_create(&f->cfg, &f->s) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	kv_store_destroy(f->s);
	test_free(f);
	return 0;
}

/* --- commands ------------------------------------------------------------------------------- */

static struct kv_cmd_op
op_make(enum kv_cmd_type type, const char *key, const char *value, uint64_t expected)
{
	struct kv_cmd_op op = {
		.type = type,
		.key = (const uint8_t *)key,
		.key_size = strlen(key),
		.expected_mod_index = expected,
	};

	if (value != NULL) {
		op.value = (const uint8_t *)value;
		op.value_size = strlen(value);
	}
	return op;
}

static struct kv_cmd
cmd_of(struct kv_cmd_op op)
{
	struct kv_cmd c = {.type = op.type, .op_count = 1};

	c.ops[0] = op;
	return c;
}

/* Applies raw body bytes as the next log entry; returns apply's code, decodes the result. */
static int
apply_body(struct fixture *f, struct kv_store *s, uint64_t client, uint64_t seq)
{
	struct kv_request req = {
		.log_index = f->log + 1,
		.client_id = client,
		.client_seq = seq,
		.body = f->body,
		.body_size = f->body_size,
	};
	int rc = kv_store_apply(s, &req, f->result, sizeof(f->result), &f->result_size);

	if (rc == 0) {
		f->log++;
		assert_int_equal(kv_result_decode(f->result, f->result_size, &f->res), 0);
	}
	return rc;
}

static int
apply_as(struct fixture *f, uint64_t client, uint64_t seq, struct kv_cmd c)
{
	assert_int_equal(kv_cmd_encode(&c, f->body, sizeof(f->body), &f->body_size), 0);
	return apply_body(f, f->s, client, seq);
}

/* Runs c as client 1's next request; returns the result status. */
static enum kv_result_status
run(struct fixture *f, struct kv_cmd c)
{
	assert_int_equal(apply_as(f, 1, ++f->seq, c), 0);
	return f->res.status;
}

static enum kv_result_status
put(struct fixture *f, const char *key, const char *value)
{
	return run(f, cmd_of(op_make(KV_CMD_PUT, key, value, 0)));
}

static enum kv_result_status
del(struct fixture *f, const char *key)
{
	return run(f, cmd_of(op_make(KV_CMD_REMOVE, key, NULL, 0)));
}

static enum kv_result_status
cas(struct fixture *f, const char *key, uint64_t expected, const char *value)
{
	return run(f, cmd_of(op_make(KV_CMD_CAS, key, value, expected)));
}

static enum kv_result_status
get(struct fixture *f, const char *key)
{
	return run(f, cmd_of(op_make(KV_CMD_GET, key, NULL, 0)));
}

static void
assert_stored(struct kv_store *s, const char *key, const char *value, uint64_t mod_index)
{
	struct kv_store_value v;

	assert_int_equal(
		kv_store_read_local_nonlinearizable(s, (const uint8_t *)key, strlen(key), &v), 0);
	assert_int_equal(v.value_size, strlen(value));
	assert_memory_equal(v.value, value, v.value_size);
	assert_true(v.mod_index == mod_index);
}

static void
assert_absent(struct kv_store *s, const char *key)
{
	struct kv_store_value v;

	assert_int_equal(
		kv_store_read_local_nonlinearizable(s, (const uint8_t *)key, strlen(key), &v),
		-ENOENT);
}

static void
assert_digest_equal(struct kv_store *a, struct kv_store *b)
{
	assert_true(base_hash128_equal(kv_store_digest(a), kv_store_digest(b)));
}

static void
assert_notification(const struct kv_notification *n, enum kv_notify_type type, const char *key,
		    const char *old_value, const char *value, uint64_t log_index)
{
	assert_int_equal(n->type, type);
	assert_int_equal(n->key_size, strlen(key));
	assert_memory_equal(n->key, key, n->key_size);
	assert_int_equal(n->has_old, old_value != NULL);
	if (old_value != NULL) {
		assert_int_equal(n->old_value_size, strlen(old_value));
		assert_memory_equal(n->old_value, old_value, n->old_value_size);
	}
	if (value != NULL) {
		assert_int_equal(n->value_size, strlen(value));
		assert_memory_equal(n->value, value, n->value_size);
	}
	assert_true(n->log_index == log_index);
}

static void
assert_next_notification(struct fixture *f, enum kv_notify_type type, const char *key,
			 const char *old_value, const char *value, uint64_t log_index)
{
	struct kv_notification n;

	assert_int_equal(kv_store_notify_next(f->s, &n), 1);
	assert_notification(&n, type, key, old_value, value, log_index);
}

static void
drain_notifications(struct kv_store *s)
{
	struct kv_notification n;

	while (kv_store_notify_next(s, &n) == 1) {
	}
}

/* Snapshot of f->s into f->snap. */
static void
take_snapshot(struct fixture *f)
{
	assert_int_equal(kv_store_snapshot_encode(f->s, f->snap, sizeof(f->snap), &f->snap_size),
			 0);
	assert_int_equal(f->snap_size, kv_store_snapshot_size(f->s));
}

/* Verifies and restores snap into s, with no interest in the diff. */
static int
restore_quietly(struct kv_store *s, const uint8_t *snap, size_t size)
{
	const uint8_t *body;
	size_t body_size;
	int rc = kv_snapshot_verify(snap, size, &body, &body_size);

	if (rc == 0) {
		rc = kv_store_restore_begin(s, body, body_size);
	}
	if (rc == 0) {
		kv_store_restore_commit(s);
	}
	return rc;
}

/* --- basic semantics ------------------------------------------------------------------------ */

static void
test_kv_store_put_get_remove_round_trip(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put(f, "a", "1"), KV_RESULT_OK);
	assert_true(f->res.mod_index == f->log);
	assert_stored(f->s, "a", "1", f->log);
	assert_int_equal(get(f, "a"), KV_RESULT_OK);
	assert_true(f->res.mod_index == f->log - 1);
	assert_int_equal(f->res.value_size, 1);
	assert_memory_equal(f->res.value, "1", 1);
	assert_int_equal(del(f, "a"), KV_RESULT_OK);
	assert_int_equal(get(f, "a"), KV_RESULT_NOT_FOUND);
	assert_int_equal(del(f, "a"), KV_RESULT_NOT_FOUND);
	assert_absent(f->s, "a");
	assert_int_equal(kv_store_key_count(f->s), 0);
	assert_int_equal(kv_store_data_size(f->s), 0);
	assert_true(kv_store_applied_index(f->s) == f->log);
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_store_put_overwrites_value_and_mod_index(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put(f, "a", "1"), KV_RESULT_OK);
	assert_int_equal(put(f, "a", "two"), KV_RESULT_OK);
	assert_stored(f->s, "a", "two", f->log);
	assert_int_equal(put(f, "a", ""), KV_RESULT_OK);
	assert_stored(f->s, "a", "", f->log);
	assert_int_equal(kv_store_key_count(f->s), 1);
	assert_int_equal(kv_store_data_size(f->s), 1);
}

static void
test_kv_store_cas_checks_mod_index_and_must_not_exist(void **state)
{
	struct fixture *f = *state;
	uint64_t created;

	assert_int_equal(cas(f, "lock", 5, "x"), KV_RESULT_CAS_FAILED);
	assert_true(f->res.mod_index == 0);
	assert_int_equal(cas(f, "lock", 0, "n1"), KV_RESULT_OK);
	created = f->log;
	assert_int_equal(cas(f, "lock", 0, "n2"), KV_RESULT_CAS_FAILED);
	assert_true(f->res.mod_index == created);
	assert_int_equal(cas(f, "lock", created + 1, "n2"), KV_RESULT_CAS_FAILED);
	assert_true(f->res.mod_index == created);
	assert_stored(f->s, "lock", "n1", created);
	assert_int_equal(cas(f, "lock", created, "n2"), KV_RESULT_OK);
	assert_stored(f->s, "lock", "n2", f->log);
}

static void
test_kv_store_batch_applies_all_ops_with_one_mod_index(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 3};

	assert_int_equal(put(f, "old", "o"), KV_RESULT_OK);
	c.ops[0] = op_make(KV_CMD_PUT, "a", "1", 0);
	c.ops[1] = op_make(KV_CMD_CAS, "b", "2", 0);
	c.ops[2] = op_make(KV_CMD_REMOVE, "old", NULL, 0);
	assert_int_equal(run(f, c), KV_RESULT_OK);
	assert_true(f->res.mod_index == f->log);
	assert_stored(f->s, "a", "1", f->log);
	assert_stored(f->s, "b", "2", f->log);
	assert_absent(f->s, "old");
}

static void
test_kv_store_batch_ops_see_earlier_ops_of_the_batch(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 4};

	/* The CAS expects the mod index the PUT before it gives: this request's log index. */
	c.ops[0] = op_make(KV_CMD_PUT, "k", "1", 0);
	c.ops[1] = op_make(KV_CMD_CAS, "k", "2", f->log + 1);
	c.ops[2] = op_make(KV_CMD_REMOVE, "k", NULL, 0);
	c.ops[3] = op_make(KV_CMD_CAS, "k", "3", 0);
	assert_int_equal(run(f, c), KV_RESULT_OK);
	assert_stored(f->s, "k", "3", f->log);
	assert_int_equal(kv_store_key_count(f->s), 1);
	assert_next_notification(f, KV_NOTIFY_PUT, "k", NULL, "1", f->log);
	assert_next_notification(f, KV_NOTIFY_PUT, "k", "1", "2", f->log);
	assert_next_notification(f, KV_NOTIFY_REMOVE, "k", "2", NULL, f->log);
	assert_next_notification(f, KV_NOTIFY_PUT, "k", NULL, "3", f->log);
	assert_int_equal(kv_store_notify_pending(f->s), 0);
}

static void
test_kv_store_batch_with_failing_cas_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 4};
	uint64_t b_mod;
	size_t data;

	assert_int_equal(put(f, "a", "1"), KV_RESULT_OK);
	assert_int_equal(put(f, "b", "2"), KV_RESULT_OK);
	b_mod = f->log;
	drain_notifications(f->s);
	data = kv_store_data_size(f->s);
	c.ops[0] = op_make(KV_CMD_PUT, "x", "new", 0);
	c.ops[1] = op_make(KV_CMD_REMOVE, "a", NULL, 0);
	c.ops[2] = op_make(KV_CMD_CAS, "b", "3", b_mod + 100);
	c.ops[3] = op_make(KV_CMD_PUT, "y", "new", 0);
	assert_int_equal(run(f, c), KV_RESULT_CAS_FAILED);
	assert_int_equal(f->res.op_index, 2);
	assert_true(f->res.mod_index == b_mod);
	assert_stored(f->s, "a", "1", b_mod - 1);
	assert_stored(f->s, "b", "2", b_mod);
	assert_absent(f->s, "x");
	assert_absent(f->s, "y");
	assert_int_equal(kv_store_key_count(f->s), 2);
	assert_int_equal(kv_store_data_size(f->s), data);
	assert_int_equal(kv_store_notify_pending(f->s), 0);
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_store_batch_cas_after_remove_reports_the_key_as_absent(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 2};

	/* Found by the property test: the failing CAS must not report the batch's own index. */
	assert_int_equal(put(f, "k", "1"), KV_RESULT_OK);
	c.ops[0] = op_make(KV_CMD_REMOVE, "k", NULL, 0);
	c.ops[1] = op_make(KV_CMD_CAS, "k", "2", f->log);
	assert_int_equal(run(f, c), KV_RESULT_CAS_FAILED);
	assert_int_equal(f->res.op_index, 1);
	assert_true(f->res.mod_index == 0);
	assert_stored(f->s, "k", "1", f->log - 1);
}

static void
test_kv_store_batch_remove_of_absent_key_fails_the_batch(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 2};

	c.ops[0] = op_make(KV_CMD_PUT, "a", "1", 0);
	c.ops[1] = op_make(KV_CMD_REMOVE, "nope", NULL, 0);
	assert_int_equal(run(f, c), KV_RESULT_NOT_FOUND);
	assert_int_equal(f->res.op_index, 1);
	assert_absent(f->s, "a");
}

/* --- limits --------------------------------------------------------------------------------- */

static void
test_kv_store_oversized_key_or_value_is_too_large(void **state)
{
	struct fixture *f = *state;
	char key[34];
	char value[VALUE_MAX + 2];

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	assert_int_equal(put(f, key, "1"), KV_RESULT_TOO_LARGE);
	assert_int_equal(get(f, key), KV_RESULT_TOO_LARGE);
	assert_int_equal(put(f, "a", value), KV_RESULT_TOO_LARGE);
	value[VALUE_MAX] = '\0';
	key[32] = '\0';
	assert_int_equal(put(f, key, value), KV_RESULT_OK);
	assert_int_equal(kv_store_key_count(f->s), 1);
}

static void
test_kv_store_full_key_count_answers_full_until_a_remove(void **state)
{
	struct fixture *f = *state;
	char key[24];
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 2};

	for (size_t i = 0; i < f->cfg.max_keys; i++) {
		snprintf(key, sizeof(key), "k%zu", i);
		assert_int_equal(put(f, key, "v"), KV_RESULT_OK);
	}
	assert_int_equal(put(f, "extra", "v"), KV_RESULT_FULL);
	assert_int_equal(cas(f, "extra", 0, "v"), KV_RESULT_FULL);
	assert_int_equal(put(f, "k0", "overwrite"), KV_RESULT_OK);
	/* Sequential semantics: the PUT would exceed the limit before the REMOVE frees a key. */
	c.ops[0] = op_make(KV_CMD_PUT, "extra", "v", 0);
	c.ops[1] = op_make(KV_CMD_REMOVE, "k1", NULL, 0);
	assert_int_equal(run(f, c), KV_RESULT_FULL);
	assert_int_equal(f->res.op_index, 0);
	c.ops[0] = op_make(KV_CMD_REMOVE, "k1", NULL, 0);
	c.ops[1] = op_make(KV_CMD_PUT, "extra", "v", 0);
	assert_int_equal(run(f, c), KV_RESULT_OK);
	assert_int_equal(kv_store_key_count(f->s), f->cfg.max_keys);
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_store_data_budget_answers_full(void **state)
{
	struct fixture *f = *state;
	char value[VALUE_MAX + 1];

	/* Budget 256: three 1-byte keys with 64-byte values use 195 bytes. */
	memset(value, 'v', VALUE_MAX);
	value[VALUE_MAX] = '\0';
	assert_int_equal(put(f, "a", value), KV_RESULT_OK);
	assert_int_equal(put(f, "b", value), KV_RESULT_OK);
	assert_int_equal(put(f, "c", value), KV_RESULT_OK);
	assert_int_equal(put(f, "d", value), KV_RESULT_FULL);
	value[60] = '\0';
	assert_int_equal(put(f, "d", value), KV_RESULT_OK);
	assert_int_equal(kv_store_data_size(f->s), 256);
	assert_int_equal(put(f, "e", ""), KV_RESULT_FULL);
	assert_int_equal(put(f, "d", "small"), KV_RESULT_OK);
	assert_int_equal(put(f, "e", ""), KV_RESULT_OK);
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_store_malformed_body_answers_bad_command(void **state)
{
	struct fixture *f = *state;
	uint8_t first[RESULT_CAP];
	size_t first_size;

	memcpy(f->body, "\x01\x04\xff\xff", 4);
	f->body_size = 4;
	assert_int_equal(apply_body(f, f->s, 9, 1), 0);
	assert_int_equal(f->res.status, KV_RESULT_BAD_COMMAND);
	memcpy(first, f->result, f->result_size);
	first_size = f->result_size;
	f->body_size = 0;
	assert_int_equal(apply_body(f, f->s, 9, 2), 0);
	assert_int_equal(f->res.status, KV_RESULT_BAD_COMMAND);
	assert_int_equal(apply_body(f, f->s, 9, 1), 0);
	assert_int_equal(f->res.status, KV_RESULT_STALE);
	assert_int_equal(f->result_size, first_size);
	assert_int_equal(kv_store_key_count(f->s), 0);
	assert_int_equal(kv_store_check(f->s), 0);
}

/* --- dedupe (R8) ---------------------------------------------------------------------------- */

static void
test_kv_store_retry_returns_the_original_result_byte_for_byte(void **state)
{
	struct fixture *f = *state;
	uint8_t first[RESULT_CAP];
	size_t first_size;
	uint64_t put_log;

	assert_int_equal(put(f, "k", "v1"), KV_RESULT_OK);
	assert_int_equal(apply_as(f, 7, 1, cmd_of(op_make(KV_CMD_GET, "k", NULL, 0))), 0);
	memcpy(first, f->result, f->result_size);
	first_size = f->result_size;
	assert_int_equal(put(f, "k", "v2"), KV_RESULT_OK);
	put_log = f->log;
	/* The retried GET answers what the first execution saw, not today's value. */
	assert_int_equal(apply_as(f, 7, 1, cmd_of(op_make(KV_CMD_GET, "k", NULL, 0))), 0);
	assert_int_equal(f->result_size, first_size);
	assert_memory_equal(f->result, first, first_size);
	/* A retried write is not executed again: no new mod index, no notification. */
	drain_notifications(f->s);
	assert_int_equal(apply_as(f, 1, f->seq, cmd_of(op_make(KV_CMD_PUT, "k", "v2", 0))), 0);
	assert_true(f->res.mod_index == put_log);
	assert_stored(f->s, "k", "v2", put_log);
	assert_int_equal(kv_store_notify_pending(f->s), 0);
	assert_true(kv_store_applied_index(f->s) == f->log);
}

static void
test_kv_store_older_sequence_number_is_stale(void **state)
{
	struct fixture *f = *state;
	size_t keys;

	assert_int_equal(apply_as(f, 7, 5, cmd_of(op_make(KV_CMD_PUT, "a", "1", 0))), 0);
	keys = kv_store_key_count(f->s);
	assert_int_equal(apply_as(f, 7, 3, cmd_of(op_make(KV_CMD_PUT, "b", "1", 0))), 0);
	assert_int_equal(f->res.status, KV_RESULT_STALE);
	assert_absent(f->s, "b");
	assert_int_equal(kv_store_key_count(f->s), keys);
	assert_int_equal(apply_as(f, 7, 6, cmd_of(op_make(KV_CMD_PUT, "b", "1", 0))), 0);
	assert_int_equal(f->res.status, KV_RESULT_OK);
}

static void
test_kv_store_full_client_table_evicts_least_recently_executed(void **state)
{
	struct fixture *f = *state;
	uint8_t c3_result[RESULT_CAP];
	size_t c3_size = 0;

	/* Clients 1..4 fill the table; client 1 executes again, so client 2 is now oldest. */
	for (uint64_t c = 1; c <= 4; c++) {
		assert_int_equal(apply_as(f, c, 1, cmd_of(op_make(KV_CMD_PUT, "k", "v", 0))), 0);
		if (c == 3) {
			memcpy(c3_result, f->result, f->result_size);
			c3_size = f->result_size;
		}
	}
	assert_int_equal(apply_as(f, 1, 2, cmd_of(op_make(KV_CMD_GET, "k", NULL, 0))), 0);
	assert_int_equal(apply_as(f, 5, 1, cmd_of(op_make(KV_CMD_GET, "k", NULL, 0))), 0);
	assert_int_equal(kv_store_client_count(f->s), 4);
	/* Client 2 was evicted: its retry executes again and gets a fresh mod index. */
	assert_int_equal(apply_as(f, 2, 1, cmd_of(op_make(KV_CMD_PUT, "k", "v", 0))), 0);
	assert_int_equal(f->res.status, KV_RESULT_OK);
	assert_true(f->res.mod_index == f->log);
	/* That evicted client 3 (the oldest now); client 4 is still remembered. */
	assert_int_equal(apply_as(f, 4, 1, cmd_of(op_make(KV_CMD_PUT, "k", "v", 0))), 0);
	assert_true(f->res.mod_index == 4);
	assert_int_equal(apply_as(f, 3, 1, cmd_of(op_make(KV_CMD_PUT, "k", "v", 0))), 0);
	assert_true(f->res.mod_index == f->log);
	assert_false(f->result_size == c3_size && memcmp(f->result, c3_result, c3_size) == 0);
	assert_int_equal(kv_store_check(f->s), 0);
}

/* --- notifications -------------------------------------------------------------------------- */

static void
test_kv_store_notifications_follow_log_order_with_old_values(void **state)
{
	struct fixture *f = *state;
	uint64_t first;

	assert_int_equal(put(f, "a", "1"), KV_RESULT_OK);
	first = f->log;
	assert_int_equal(put(f, "a", "2"), KV_RESULT_OK);
	assert_int_equal(get(f, "a"), KV_RESULT_OK);
	assert_int_equal(cas(f, "a", 1, "x"), KV_RESULT_CAS_FAILED);
	assert_int_equal(del(f, "a"), KV_RESULT_OK);
	assert_int_equal(kv_store_notify_pending(f->s), 3);
	assert_next_notification(f, KV_NOTIFY_PUT, "a", NULL, "1", first);
	assert_next_notification(f, KV_NOTIFY_PUT, "a", "1", "2", first + 1);
	assert_next_notification(f, KV_NOTIFY_REMOVE, "a", "2", NULL, f->log);
	assert_int_equal(kv_store_notify_pending(f->s), 0);
}

static void
test_kv_store_apply_waits_for_notification_room_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct base_hash128 before;
	uint64_t log;
	char key[24];
	int rc = 0;
	int i;

	/* Overwrite 4 keys until the undrained queue refuses: -EAGAIN. */
	for (i = 0; i < 1000 && rc == 0; i++) {
		snprintf(key, sizeof(key), "k%d", i % 4);
		before = kv_store_digest(f->s);
		log = f->log;
		rc = apply_as(f, 1, ++f->seq, cmd_of(op_make(KV_CMD_PUT, key, "value", 0)));
	}
	assert_int_equal(rc, -EAGAIN);
	assert_true(base_hash128_equal(before, kv_store_digest(f->s)));
	assert_true(kv_store_applied_index(f->s) == log);
	assert_int_equal(kv_store_check(f->s), 0);
	drain_notifications(f->s);
	/* The same request (same log index, client and seq) goes through after draining. */
	assert_int_equal(apply_body(f, f->s, 1, f->seq), 0);
	assert_int_equal(f->res.status, KV_RESULT_OK);
	assert_int_equal(kv_store_notify_pending(f->s), 1);
}

static void
test_kv_store_without_notify_buffer_queues_nothing(void **state)
{
	struct fixture *f = *state;
	struct kv_store_config cfg = small_config(3);
	struct kv_store *quiet;

	cfg.notify_buffer_size = 0;
	assert_int_equal(kv_store_create(&cfg, &quiet), 0);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(
			apply_as(f, 1, ++f->seq, cmd_of(op_make(KV_CMD_PUT, "k", "value", 0))), 0);
		f->log--;
		assert_int_equal(apply_body(f, quiet, 1, f->seq), 0);
		drain_notifications(f->s);
	}
	assert_int_equal(kv_store_notify_pending(quiet), 0);
	assert_digest_equal(f->s, quiet);
	kv_store_destroy(quiet);
}

/* --- snapshots ------------------------------------------------------------------------------ */

static void
fill_sample_state(struct fixture *f)
{
	assert_int_equal(put(f, "nodes/a", "addr-a"), KV_RESULT_OK);
	assert_int_equal(put(f, "nodes/b", "addr-b"), KV_RESULT_OK);
	assert_int_equal(put(f, "leader", "a"), KV_RESULT_OK);
	assert_int_equal(apply_as(f, 42, 9, cmd_of(op_make(KV_CMD_GET, "leader", NULL, 0))), 0);
	assert_int_equal(del(f, "nodes/b"), KV_RESULT_OK);
	assert_int_equal(put(f, "empty", ""), KV_RESULT_OK);
}

static void
test_kv_store_snapshot_restores_into_fresh_store_with_equal_digest(void **state)
{
	struct fixture *f = *state;
	struct kv_store_config cfg = small_config(77);
	struct kv_store *fresh;
	const uint8_t *body;
	size_t body_size;
	struct kv_notification n;
	static const char *const keys[] = {"empty", "leader", "nodes/a"};
	static uint8_t again[SNAP_CAP];
	size_t again_size;

	fill_sample_state(f);
	take_snapshot(f);
	assert_int_equal(kv_store_create(&cfg, &fresh), 0);
	assert_int_equal(kv_snapshot_verify(f->snap, f->snap_size, &body, &body_size), 0);
	assert_int_equal(kv_store_restore_begin(fresh, body, body_size), 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(kv_store_restore_next(fresh, &n), 1);
		assert_int_equal(n.type, KV_NOTIFY_PUT);
		assert_int_equal(n.has_old, 0);
		assert_int_equal(n.key_size, strlen(keys[i]));
		assert_memory_equal(n.key, keys[i], n.key_size);
	}
	assert_int_equal(kv_store_restore_next(fresh, &n), 0);
	kv_store_restore_commit(fresh);
	assert_digest_equal(f->s, fresh);
	assert_int_equal(kv_store_check(fresh), 0);
	assert_true(kv_store_applied_index(fresh) == f->log);
	assert_int_equal(kv_store_client_count(fresh), 2);
	/* Canonical: the restored store encodes to the very same bytes. */
	assert_int_equal(kv_store_snapshot_encode(fresh, again, sizeof(again), &again_size), 0);
	assert_int_equal(again_size, f->snap_size);
	assert_memory_equal(again, f->snap, again_size);
	/* The dedupe table came along: client 42's retry gets its cached GET of "leader". */
	assert_int_equal(
		kv_cmd_encode(&(struct kv_cmd){.type = KV_CMD_GET,
					       .op_count = 1,
					       .ops = {op_make(KV_CMD_GET, "nope", NULL, 0)}},
			      f->body, sizeof(f->body), &f->body_size),
		0);
	assert_int_equal(apply_body(f, fresh, 42, 9), 0);
	assert_int_equal(f->res.status, KV_RESULT_OK);
	assert_int_equal(f->res.value_size, 1);
	kv_store_destroy(fresh);
}

static void
test_kv_store_restore_reports_the_diff_in_key_order(void **state)
{
	struct fixture *f = *state;
	struct kv_store_config cfg = small_config(5);
	struct kv_store *other;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 3};
	const uint8_t *body;
	size_t body_size;
	struct kv_notification n;

	assert_int_equal(kv_store_create(&cfg, &other), 0);
	c.ops[0] = op_make(KV_CMD_PUT, "b", "2", 0);
	c.ops[1] = op_make(KV_CMD_PUT, "c", "3", 0);
	c.ops[2] = op_make(KV_CMD_PUT, "d", "4", 0);
	/* Both stores share log entry 1; then f->s moves on alone. */
	assert_int_equal(run(f, c), KV_RESULT_OK);
	assert_true(f->log == 1);
	assert_int_equal(kv_store_apply(other, &(struct kv_request){1, 1, 1, f->body, f->body_size},
					f->result, sizeof(f->result), &f->result_size),
			 0);
	assert_int_equal(put(f, "a", "1"), KV_RESULT_OK);
	assert_int_equal(put(f, "b", "22"), KV_RESULT_OK);
	assert_int_equal(del(f, "d"), KV_RESULT_OK);
	take_snapshot(f);
	assert_int_equal(kv_snapshot_verify(f->snap, f->snap_size, &body, &body_size), 0);
	assert_int_equal(kv_store_restore_begin(other, body, body_size), 0);
	assert_int_equal(kv_store_restore_next(other, &n), 1);
	assert_notification(&n, KV_NOTIFY_PUT, "a", NULL, "1", 2);
	assert_int_equal(kv_store_restore_next(other, &n), 1);
	assert_notification(&n, KV_NOTIFY_PUT, "b", "2", "22", 3);
	assert_int_equal(kv_store_restore_next(other, &n), 1);
	assert_notification(&n, KV_NOTIFY_REMOVE, "d", "4", NULL, 4);
	assert_int_equal(kv_store_restore_next(other, &n), 0);
	/* Nothing changed before the commit. */
	assert_stored(other, "d", "4", 1);
	kv_store_restore_commit(other);
	assert_digest_equal(f->s, other);
	assert_absent(other, "d");
	kv_store_destroy(other);
}

static void
test_kv_store_restore_abort_keeps_the_old_state(void **state)
{
	struct fixture *f = *state;
	struct kv_store_config cfg = small_config(5);
	struct kv_store *other;
	struct base_hash128 before;
	const uint8_t *body;
	size_t body_size;

	fill_sample_state(f);
	take_snapshot(f);
	assert_int_equal(kv_store_create(&cfg, &other), 0);
	before = kv_store_digest(other);
	assert_int_equal(kv_snapshot_verify(f->snap, f->snap_size, &body, &body_size), 0);
	assert_int_equal(kv_store_restore_begin(other, body, body_size), 0);
	kv_store_restore_abort(other);
	assert_true(base_hash128_equal(before, kv_store_digest(other)));
	assert_int_equal(kv_store_key_count(other), 0);
	kv_store_destroy(other);
}

static void
test_kv_store_every_corruption_of_a_snapshot_is_refused(void **state)
{
	struct fixture *f = *state;
	static uint8_t bad[SNAP_CAP];
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	struct base_hash128 before;
	const uint8_t *body;
	size_t body_size;

	fill_sample_state(f);
	take_snapshot(f);
	before = kv_store_digest(f->s);
	for (size_t n = 0; n < f->snap_size; n++) {
		assert_int_not_equal(restore_quietly(f->s, f->snap, n), 0);
	}
	memcpy(bad, f->snap, f->snap_size);
	bad[f->snap_size] = 0;
	assert_int_equal(restore_quietly(f->s, bad, f->snap_size + 1), -BASE_ERR_TRAILING);
	for (size_t i = 0; i < f->snap_size; i++) {
		for (size_t k = 0; k < sizeof(flips); k++) {
			memcpy(bad, f->snap, f->snap_size);
			bad[i] ^= flips[k];
			assert_int_not_equal(
				kv_snapshot_verify(bad, f->snap_size, &body, &body_size), 0);
		}
	}
	assert_true(base_hash128_equal(before, kv_store_digest(f->s)));
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_store_body_decoder_refuses_or_accepts_flipped_bodies_without_change(void **state)
{
	struct fixture *f = *state;
	struct kv_store_config cfg = small_config(5);
	struct kv_store *other;
	static uint8_t body[SNAP_CAP];
	size_t body_size;
	struct base_hash128 before;
	unsigned refused = 0;

	fill_sample_state(f);
	take_snapshot(f);
	body_size = f->snap_size - KV_SNAPSHOT_HEADER_SIZE;
	assert_int_equal(kv_store_create(&cfg, &other), 0);
	assert_int_equal(put(f, "x", "y"), KV_RESULT_OK);
	assert_int_equal(restore_quietly(other, f->snap, f->snap_size), 0);
	before = kv_store_digest(other);
	/* Checksum bypassed: begin alone must refuse bad bodies and never change the store. */
	for (size_t i = 0; i < body_size; i++) {
		memcpy(body, f->snap + KV_SNAPSHOT_HEADER_SIZE, body_size);
		body[i] ^= 0x80;
		if (kv_store_restore_begin(other, body, body_size) == 0) {
			kv_store_restore_abort(other);
		} else {
			refused++;
		}
		assert_true(base_hash128_equal(before, kv_store_digest(other)));
	}
	/* Both outcomes happen: value bytes may change freely, lengths and order may not. */
	assert_true(refused > body_size / 2);
	assert_true(refused < body_size);
	assert_int_equal(kv_store_check(other), 0);
	kv_store_destroy(other);
}

struct body_builder {
	uint8_t buf[1024];
	struct base_writer w;
};

static void
body_start(struct body_builder *b, uint64_t applied, uint32_t entries, uint32_t clients)
{
	base_writer_init(&b->w, b->buf, sizeof(b->buf));
	base_writer_u64(&b->w, applied);
	base_writer_u32(&b->w, entries);
	base_writer_u32(&b->w, clients);
}

static void
body_entry(struct body_builder *b, const char *key, uint64_t mod, const char *value)
{
	base_writer_blob(&b->w, (const uint8_t *)key, strlen(key));
	base_writer_u64(&b->w, mod);
	base_writer_blob(&b->w, (const uint8_t *)value, strlen(value));
}

static void
body_client(struct body_builder *b, uint64_t id, uint64_t last, const uint8_t *result, size_t size)
{
	base_writer_u64(&b->w, id);
	base_writer_u64(&b->w, 1);
	base_writer_u64(&b->w, last);
	base_writer_blob(&b->w, result, size);
}

static int
body_begin(struct fixture *f, struct body_builder *b)
{
	int rc = kv_store_restore_begin(f->s, b->buf, base_writer_size(&b->w));

	assert_int_equal(base_writer_status(&b->w), 0);
	if (rc == 0) {
		kv_store_restore_abort(f->s);
	}
	return rc;
}

static void
test_kv_store_restore_refuses_invalid_bodies(void **state)
{
	struct fixture *f = *state;
	struct body_builder b;
	static const uint8_t ok_result[KV_RESULT_HEADER_SIZE] = {1};
	static const uint8_t bad_result[KV_RESULT_HEADER_SIZE] = {1, 99};
	char long_key[34];

	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	body_start(&b, 5, 2, 1);
	body_entry(&b, "a", 1, "x");
	body_entry(&b, "b", 5, "y");
	body_client(&b, 3, 5, ok_result, sizeof(ok_result));
	assert_int_equal(body_begin(f, &b), 0);
	body_start(&b, 5, 2, 0);
	body_entry(&b, "b", 1, "x");
	body_entry(&b, "a", 1, "y");
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 2, 0);
	body_entry(&b, "a", 1, "x");
	body_entry(&b, "a", 1, "y");
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 1, 0);
	body_entry(&b, "a", 6, "x");
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 1, 0);
	body_entry(&b, "a", 0, "x");
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 1, 0);
	body_entry(&b, "", 1, "x");
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 1, 0);
	body_entry(&b, long_key, 1, "x");
	assert_int_equal(body_begin(f, &b), -BASE_ERR_TOO_LONG);
	body_start(&b, 5, 9, 0);
	assert_int_equal(body_begin(f, &b), -BASE_ERR_FULL);
	body_start(&b, 5, 0, 5);
	assert_int_equal(body_begin(f, &b), -BASE_ERR_FULL);
	body_start(&b, 5, 0, 1);
	body_client(&b, 3, 5, bad_result, sizeof(bad_result));
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 0, 1);
	body_client(&b, 3, 6, ok_result, sizeof(ok_result));
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 0, 2);
	body_client(&b, 3, 5, ok_result, sizeof(ok_result));
	body_client(&b, 3, 5, ok_result, sizeof(ok_result));
	assert_int_equal(body_begin(f, &b), -EBADMSG);
	body_start(&b, 5, 1, 0);
	body_entry(&b, "a", 1, "x");
	base_writer_u8(&b.w, 0);
	assert_int_equal(body_begin(f, &b), -BASE_ERR_TRAILING);
	body_start(&b, 5, 2, 0);
	body_entry(&b, "a", 1, "x");
	assert_int_equal(body_begin(f, &b), -BASE_ERR_TRUNCATED);
	assert_int_equal(kv_store_key_count(f->s), 0);
}

static void
test_kv_store_restore_refuses_more_data_than_the_budget(void **state)
{
	struct fixture *f = *state;
	struct body_builder b;
	char value[VALUE_MAX + 1];

	memset(value, 'v', VALUE_MAX);
	value[VALUE_MAX] = '\0';
	body_start(&b, 5, 4, 0);
	body_entry(&b, "a", 1, value);
	body_entry(&b, "b", 1, value);
	body_entry(&b, "c", 1, value);
	body_entry(&b, "d", 1, value);
	assert_int_equal(body_begin(f, &b), -BASE_ERR_FULL);
}

/* --- digest --------------------------------------------------------------------------------- */

static void
apply_batch_to(struct fixture *f, struct kv_store *s, uint64_t log, uint64_t seq,
	       const struct kv_cmd *c)
{
	struct kv_request req = {log, 1, seq, f->body, 0};

	assert_int_equal(kv_cmd_encode(c, f->body, sizeof(f->body), &req.body_size), 0);
	assert_int_equal(kv_store_apply(s, &req, f->result, sizeof(f->result), &f->result_size), 0);
}

static void
test_kv_store_digest_ignores_insertion_order_and_layout(void **state)
{
	struct fixture *f = *state;
	struct kv_store_config cfg_b = small_config(0xdeadbeef);
	struct kv_store *b;
	struct kv_cmd a1 = {.type = KV_CMD_BATCH, .op_count = 5};
	struct kv_cmd b1 = {.type = KV_CMD_BATCH, .op_count = 8};
	struct kv_cmd both2 = {.type = KV_CMD_BATCH, .op_count = 1};
	static uint8_t snap_b[SNAP_CAP];
	size_t snap_b_size;

	/* Same mod indices (same log entries), different op order and detours inside them. */
	a1.ops[0] = op_make(KV_CMD_PUT, "a", "1", 0);
	a1.ops[1] = op_make(KV_CMD_PUT, "b", "2", 0);
	a1.ops[2] = op_make(KV_CMD_PUT, "c", "3", 0);
	a1.ops[3] = op_make(KV_CMD_PUT, "x", "x", 0);
	a1.ops[4] = op_make(KV_CMD_PUT, "dd", "4", 0);
	b1.ops[0] = op_make(KV_CMD_PUT, "x", "x", 0);
	b1.ops[1] = op_make(KV_CMD_PUT, "tmp", "t", 0);
	b1.ops[2] = op_make(KV_CMD_PUT, "dd", "4", 0);
	b1.ops[3] = op_make(KV_CMD_PUT, "c", "junk", 0);
	b1.ops[4] = op_make(KV_CMD_PUT, "c", "3", 0);
	b1.ops[5] = op_make(KV_CMD_PUT, "b", "2", 0);
	b1.ops[6] = op_make(KV_CMD_REMOVE, "tmp", NULL, 0);
	b1.ops[7] = op_make(KV_CMD_PUT, "a", "1", 0);
	both2.ops[0] = op_make(KV_CMD_REMOVE, "x", NULL, 0);
	assert_int_equal(kv_store_create(&cfg_b, &b), 0);
	apply_batch_to(f, f->s, 1, 1, &a1);
	apply_batch_to(f, b, 1, 1, &b1);
	apply_batch_to(f, f->s, 2, 2, &both2);
	apply_batch_to(f, b, 2, 2, &both2);
	assert_digest_equal(f->s, b);
	take_snapshot(f);
	assert_int_equal(kv_store_snapshot_encode(b, snap_b, sizeof(snap_b), &snap_b_size), 0);
	assert_int_equal(snap_b_size, f->snap_size);
	assert_memory_equal(snap_b, f->snap, snap_b_size);
	/* And the digest does see contents: one more write separates them. */
	both2.ops[0] = op_make(KV_CMD_PUT, "a", "9", 0);
	apply_batch_to(f, b, 3, 3, &both2);
	assert_false(base_hash128_equal(kv_store_digest(f->s), kv_store_digest(b)));
	kv_store_destroy(b);
}

/* Applies one op as log entry index of client/seq into s, with a result buffer for big values. */
static void
apply_op_big(struct fixture *f, struct kv_store *s, uint64_t index, uint64_t client, uint64_t seq,
	     struct kv_cmd_op op)
{
	static uint8_t result[KV_RESULT_HEADER_SIZE + 1024];
	struct kv_cmd c = cmd_of(op);
	struct kv_request req = {
		.log_index = index, .client_id = client, .client_seq = seq, .body = f->body};
	struct kv_result res;
	size_t result_size;

	assert_int_equal(kv_cmd_encode(&c, f->body, sizeof(f->body), &req.body_size), 0);
	assert_int_equal(kv_store_apply(s, &req, result, sizeof(result), &result_size), 0);
	assert_int_equal(kv_result_decode(result, result_size, &res), 0);
	assert_int_equal(res.status, KV_RESULT_OK);
}

/*
 * The digest of a fixed history, recorded from the implementation that hashed every entry and
 * every client record through XXH3's streaming interface. A faster path must give the same
 * digests: replicas compare them, across versions too. Entry and client record sizes fall on
 * both sides of kv_store.c's one-shot bound (KV_HASH_ONESHOT_MAX, 256 bytes).
 */
static void
test_kv_store_digest_of_a_fixed_history_matches_the_recorded_vector(void **state)
{
	static const size_t value_sizes[] = {0, 1, 16, 200, 212, 213, 214, 230, 241, 300, 1000};
	static uint8_t value[1000];
	struct fixture *f = *state;
	struct kv_store_config cfg = {.max_keys = 32,
				      .max_key_size = 64,
				      .max_value_size = 1024,
				      .data_budget_size = 64 * 1024,
				      .max_clients = 4,
				      .index_seed = 7};
	char hex[BASE_HASH128_HEX_SIZE];
	uint64_t index = 0;
	struct kv_store *s;
	char key[64];

	for (size_t i = 0; i < sizeof(value); i++) {
		value[i] = (uint8_t)(i * 7u + 1u);
	}
	assert_int_equal(kv_store_create(&cfg, &s), 0);
	for (size_t i = 0; i < AE_ARRAY_SIZE(value_sizes); i++) {
		struct kv_cmd_op op = {.type = KV_CMD_PUT, .value = value};

		(void)snprintf(key, sizeof(key), "key-%zu-%s", i,
			       i % 2 ? "odd-and-longer" : "even");
		op.key = (const uint8_t *)key;
		op.key_size = strlen(key);
		op.value_size = value_sizes[i];
		apply_op_big(f, s, ++index, i % 3 + 1, i + 1, op);
		/* A GET's result carries the value: client 4's record grows past the bound. */
		op.type = KV_CMD_GET;
		op.value = NULL;
		op.value_size = 0;
		apply_op_big(f, s, ++index, 4, i + 1, op);
	}
	(void)snprintf(key, sizeof(key), "key-3-odd-and-longer");
	apply_op_big(f, s, ++index, 1, 100, op_make(KV_CMD_REMOVE, key, NULL, 0));
	base_hash128_hex(kv_store_digest(s), hex);
	assert_string_equal(hex, "9a60723b9ad2b1f7c5acfd22137b1182");
	kv_store_destroy(s);
}

static void
test_kv_store_arena_compaction_keeps_every_value(void **state)
{
	struct fixture *f = *state;
	char key[24];
	char value[VALUE_MAX + 1];
	struct base_prng prng;
	size_t sizes[6] = {0};

	base_prng_init(&prng, 12345);
	for (int i = 0; i < 2000; i++) {
		size_t k = (size_t)base_prng_below(&prng, 6);
		size_t size = (size_t)base_prng_below(&prng, 40);

		snprintf(key, sizeof(key), "key%zu", k);
		memset(value, 'a' + (int)(i % 26), size);
		value[size] = '\0';
		assert_int_equal(put(f, key, value), KV_RESULT_OK);
		sizes[k] = size;
		assert_stored(f->s, key, value, f->log);
		drain_notifications(f->s);
	}
	for (size_t k = 0; k < 6; k++) {
		struct kv_store_value v;

		snprintf(key, sizeof(key), "key%zu", k);
		assert_int_equal(kv_store_read_local_nonlinearizable(f->s, (const uint8_t *)key,
								     strlen(key), &v),
				 0);
		assert_int_equal(v.value_size, sizes[k]);
	}
	assert_int_equal(kv_store_check(f->s), 0);
}

/* --- lifecycle ------------------------------------------------------------------------------ */

static void
test_kv_store_config_check_rejects_bad_limits(void **state)
{
	struct kv_store_config cfg = small_config(1);
	struct kv_store *s;

	(void)state;
	assert_int_equal(kv_store_config_check(&cfg), 0);
	cfg.max_keys = 0;
	assert_int_equal(kv_store_config_check(&cfg), -EINVAL);
	assert_int_equal(kv_store_size(&cfg), 0);
	assert_int_equal(kv_store_create(&cfg, &s), -EINVAL);
	assert_null(s);
	cfg = small_config(1);
	cfg.max_key_size = KV_CMD_KEY_MAX + 1;
	assert_int_equal(kv_store_config_check(&cfg), -EINVAL);
	cfg = small_config(1);
	cfg.max_value_size = KV_CMD_VALUE_MAX + 1;
	assert_int_equal(kv_store_config_check(&cfg), -EINVAL);
	cfg = small_config(1);
	cfg.data_budget_size = 0;
	assert_int_equal(kv_store_config_check(&cfg), -EINVAL);
	cfg = small_config(1);
	cfg.max_clients = 0;
	assert_int_equal(kv_store_config_check(&cfg), -EINVAL);
	cfg = small_config(1);
	cfg.notify_buffer_size = kv_store_notify_size_min(&cfg) - 1;
	assert_int_equal(kv_store_config_check(&cfg), -EINVAL);
	assert_int_equal(kv_store_config_check(NULL), -EINVAL);
}

static void
test_kv_store_init_works_in_caller_memory(void **state)
{
	struct fixture *f = *state;
	size_t size = kv_store_size(&f->cfg);
	uint8_t *raw = test_malloc(size + 64);
	uint8_t *mem = raw + ((64 - ((uintptr_t)raw & 63)) & 63);
	struct kv_store *s;
	long live = base_alloc_live();

	assert_true(size > 0);
	assert_int_equal(kv_store_init(mem, size, &f->cfg, &s), 0);
	assert_int_equal(base_alloc_live(), live);
	f->log = 0;
	f->body_size = 0;
	assert_int_equal(apply_body(f, s, 1, 1), 0);
	assert_int_equal(f->res.status, KV_RESULT_BAD_COMMAND);
	kv_store_fini(s);
	test_free(raw);
}

static void
test_kv_store_create_fault_loop_fails_cleanly_and_leaks_nothing(void **state)
{
	struct fixture *f = *state;
	long live = base_alloc_live();
	struct kv_store *s = NULL;
	unsigned long n;
	int rc = -ENOMEM;

	for (n = 1; n < 100 && rc != 0; n++) {
		base_alloc_fail_at(n);
		rc = kv_store_create(&f->cfg, &s);
		if (rc != 0) {
			assert_int_equal(rc, -ENOMEM);
			assert_true(base_alloc_injected());
			assert_null(s);
			assert_int_equal(base_alloc_live(), live);
		}
	}
	base_alloc_fail_at(0);
	assert_int_equal(rc, 0);
	assert_true(n > 1);
	kv_store_destroy(s);
	assert_int_equal(base_alloc_live(), live);
}

/* --- property test: two stores and a reference model ----------------------------------------- */

#define P_KEYS      12
#define P_VALUE_MAX 16
#define P_CLIENTS   5
#define P_TABLE     3
#define P_RESULT    (KV_RESULT_HEADER_SIZE + P_VALUE_MAX)

static const char *const p_keys[P_KEYS] = {"k0", "k1", "k2", "k3", "k4",  "k5",
					   "k6", "k7", "k8", "k9", "k10", "k11"};

struct p_entry {
	int exists;
	uint8_t value[P_VALUE_MAX];
	size_t value_size;
	uint64_t mod;
};

struct p_state {
	struct p_entry e[P_KEYS];
	size_t count;
	size_t data;
};

struct p_client {
	int used;
	uint64_t id;
	uint64_t seq;
	uint64_t last;
	uint8_t result[P_RESULT];
	size_t result_size;
};

struct p_cmd {
	struct kv_cmd cmd;
	int key[KV_CMD_BATCH_MAX];
	uint8_t values[KV_CMD_BATCH_MAX][P_VALUE_MAX + 1];
};

struct p_world {
	struct kv_store_config cfg;
	struct kv_store *a; /* notifications on, drained at random moments */
	struct kv_store *b; /* notifications off, another index seed */
	struct kv_store *c; /* receives snapshots of a */
	struct p_state model;
	struct p_state mirror; /* rebuilt from a's notifications only */
	struct p_client clients[P_TABLE];
	uint64_t next_seq[P_CLIENTS + 1];
	struct base_prng prng;
	uint64_t log;
	uint8_t body[1024];
	size_t body_size;
	uint8_t snap[SNAP_CAP];
	unsigned status_seen[KV_RESULT_STATUS_COUNT];
};

static void
p_gen_op(struct p_world *w, struct p_cmd *pc, size_t i, enum kv_cmd_type type)
{
	struct kv_cmd_op *op = &pc->cmd.ops[i];
	int k = (int)base_prng_below(&w->prng, P_KEYS);
	size_t size = (size_t)base_prng_below(&w->prng, P_VALUE_MAX + 2);

	pc->key[i] = k;
	for (size_t j = 0; j < size; j++) {
		pc->values[i][j] = (uint8_t)base_prng_below(&w->prng, 256);
	}
	*op = op_make(type, p_keys[k], NULL, 0);
	if (type == KV_CMD_PUT || type == KV_CMD_CAS) {
		op->value = pc->values[i];
		op->value_size = size;
	}
	if (type == KV_CMD_CAS && w->model.e[k].exists && base_prng_chance(&w->prng, 600000)) {
		op->expected_mod_index = w->model.e[k].mod;
	} else if (type == KV_CMD_CAS && base_prng_chance(&w->prng, 500000)) {
		op->expected_mod_index = base_prng_below(&w->prng, w->log + 2);
	}
}

static enum kv_cmd_type
p_gen_type(struct p_world *w, int in_batch)
{
	static const enum kv_cmd_type types[] = {KV_CMD_PUT,    KV_CMD_PUT, KV_CMD_PUT,
						 KV_CMD_REMOVE, KV_CMD_CAS, KV_CMD_CAS,
						 KV_CMD_GET,    KV_CMD_GET, KV_CMD_BATCH};
	size_t n = in_batch ? 6 : AE_ARRAY_SIZE(types);

	return types[base_prng_below(&w->prng, n)];
}

/* A random body in w->body: a command (1 of 40: garbage bytes). */
static void
p_gen_body(struct p_world *w, struct p_cmd *pc)
{
	enum kv_cmd_type type = p_gen_type(w, 0);

	memset(&pc->cmd, 0, sizeof(pc->cmd));
	if (base_prng_chance(&w->prng, 25000)) {
		w->body_size = (size_t)base_prng_below(&w->prng, 12);
		for (size_t i = 0; i < w->body_size; i++) {
			w->body[i] = (uint8_t)base_prng_below(&w->prng, 8);
		}
		/* Version 0 keeps it malformed whatever follows. */
		if (w->body_size > 0) {
			w->body[0] = 0;
		}
		pc->cmd.type = (enum kv_cmd_type)0;
		return;
	}
	pc->cmd.type = type;
	pc->cmd.op_count = type == KV_CMD_BATCH ? (size_t)base_prng_range(&w->prng, 1, 5) : 1;
	for (size_t i = 0; i < pc->cmd.op_count; i++) {
		p_gen_op(w, pc, i, type == KV_CMD_BATCH ? p_gen_type(w, 1) : type);
	}
	assert_int_equal(kv_cmd_encode(&pc->cmd, w->body, sizeof(w->body), &w->body_size), 0);
}

/* One op on the model state, with the store's documented checks in the documented order. */
static enum kv_result_status
p_model_op(const struct p_world *w, struct p_state *st, const struct kv_cmd_op *op, int k,
	   uint64_t log, uint64_t *mod_out)
{
	struct p_entry *e = &st->e[k];
	size_t old = e->exists ? op->key_size + e->value_size : 0;

	if (op->value_size > w->cfg.max_value_size) {
		return KV_RESULT_TOO_LARGE;
	}
	if (op->type == KV_CMD_REMOVE) {
		if (!e->exists) {
			return KV_RESULT_NOT_FOUND;
		}
		e->exists = 0;
		st->count--;
		st->data -= old;
		return KV_RESULT_OK;
	}
	if (op->type == KV_CMD_CAS &&
	    (op->expected_mod_index == 0 ? e->exists
					 : !e->exists || e->mod != op->expected_mod_index)) {
		*mod_out = e->exists ? e->mod : 0;
		return KV_RESULT_CAS_FAILED;
	}
	if (st->count + !e->exists > w->cfg.max_keys ||
	    st->data - old + op->key_size + op->value_size > w->cfg.data_budget_size) {
		return KV_RESULT_FULL;
	}
	st->count += !e->exists;
	st->data = st->data - old + op->key_size + op->value_size;
	e->exists = 1;
	memcpy(e->value, op->value, op->value_size);
	e->value_size = op->value_size;
	e->mod = log;
	return KV_RESULT_OK;
}

/* The expected result of executing pc at log, applied to the model. */
static struct kv_result
p_model_execute(struct p_world *w, const struct p_cmd *pc, uint64_t log)
{
	struct kv_result r = {.status = KV_RESULT_OK};
	struct p_state next = w->model;

	if (pc->cmd.type == 0) {
		r.status = KV_RESULT_BAD_COMMAND;
		return r;
	}
	if (pc->cmd.type == KV_CMD_GET) {
		const struct p_entry *e = &w->model.e[pc->key[0]];

		r.status = e->exists ? KV_RESULT_OK : KV_RESULT_NOT_FOUND;
		r.mod_index = e->exists ? e->mod : 0;
		r.value = e->exists ? e->value : NULL;
		r.value_size = e->exists ? e->value_size : 0;
		return r;
	}
	for (size_t i = 0; i < pc->cmd.op_count; i++) {
		r.status = p_model_op(w, &next, &pc->cmd.ops[i], pc->key[i], log, &r.mod_index);
		if (r.status != KV_RESULT_OK) {
			r.op_index = (uint32_t)i;
			return r;
		}
	}
	w->model = next;
	r.mod_index = log;
	return r;
}

static struct p_client *
p_model_client(struct p_world *w, uint64_t id)
{
	for (size_t i = 0; i < P_TABLE; i++) {
		if (w->clients[i].used && w->clients[i].id == id) {
			return &w->clients[i];
		}
	}
	return NULL;
}

/* A free entry or the one with the lowest last index (ties: lowest id). */
static struct p_client *
p_model_client_victim(struct p_world *w)
{
	struct p_client *victim = NULL;

	for (size_t i = 0; i < P_TABLE; i++) {
		struct p_client *c = &w->clients[i];

		if (!c->used) {
			return c;
		}
		if (victim == NULL || c->last < victim->last ||
		    (c->last == victim->last && c->id < victim->id)) {
			victim = c;
		}
	}
	return victim;
}

/* The exact result bytes the store must answer, updating the model. */
static size_t
p_model_apply(struct p_world *w, const struct p_cmd *pc, uint64_t id, uint64_t seq, uint8_t *out)
{
	struct p_client *c = p_model_client(w, id);
	struct kv_result r = {.status = KV_RESULT_STALE};
	size_t size;

	if (c != NULL && seq == c->seq) {
		memcpy(out, c->result, c->result_size);
		return c->result_size;
	}
	if (c == NULL || seq > c->seq) {
		r = p_model_execute(w, pc, w->log);
	}
	assert_int_equal(kv_result_encode(&r, out, P_RESULT, &size), 0);
	if (c != NULL && seq < c->seq) {
		return size;
	}
	if (c == NULL) {
		c = p_model_client_victim(w);
	}
	*c = (struct p_client){.used = 1, .id = id, .seq = seq, .last = w->log};
	memcpy(c->result, out, size);
	c->result_size = size;
	return size;
}

static int
p_key_number(const uint8_t *key, size_t key_size)
{
	for (int i = 0; i < P_KEYS; i++) {
		if (strlen(p_keys[i]) == key_size && memcmp(p_keys[i], key, key_size) == 0) {
			return i;
		}
	}
	fail_msg("notification for a key never written");
	return -1;
}

/* Mirrors a's notifications into w->mirror, checking each old value against it. */
static void
p_drain_into_mirror(struct p_world *w)
{
	struct kv_notification n;

	while (kv_store_notify_next(w->a, &n) == 1) {
		struct p_entry *e = &w->mirror.e[p_key_number(n.key, n.key_size)];

		assert_int_equal(n.has_old, e->exists);
		if (e->exists) {
			assert_int_equal(n.old_value_size, e->value_size);
			assert_memory_equal(n.old_value, e->value, e->value_size);
			assert_true(n.old_mod_index == e->mod);
		}
		e->exists = n.type == KV_NOTIFY_PUT;
		e->value_size = n.value_size;
		memcpy(e->value, n.value, n.value_size);
		e->mod = n.log_index;
	}
}

static void
p_apply_to(struct p_world *w, struct kv_store *s, const struct kv_request *req, uint8_t *out,
	   size_t *size)
{
	int rc = kv_store_apply(s, req, out, P_RESULT, size);

	if (rc == -EAGAIN && s == w->a) {
		p_drain_into_mirror(w);
		rc = kv_store_apply(s, req, out, P_RESULT, size);
	}
	assert_int_equal(rc, 0);
}

static void
p_step(struct p_world *w, uint64_t seed, int step)
{
	struct p_cmd pc;
	uint64_t id = base_prng_range(&w->prng, 1, P_CLIENTS);
	uint64_t seq = ++w->next_seq[id];
	uint8_t want[P_RESULT], got_a[P_RESULT], got_b[P_RESULT];
	size_t want_size, a_size, b_size;

	/* Retries (same seq) and stale requests (older seq) now and then. */
	if (seq > 2 && base_prng_chance(&w->prng, 150000)) {
		w->next_seq[id]--;
		seq = w->next_seq[id] - base_prng_below(&w->prng, 2);
	}
	p_gen_body(w, &pc);
	w->log += base_prng_range(&w->prng, 1, 3);
	want_size = p_model_apply(w, &pc, id, seq, want);
	p_apply_to(w, w->a, &(struct kv_request){w->log, id, seq, w->body, w->body_size}, got_a,
		   &a_size);
	p_apply_to(w, w->b, &(struct kv_request){w->log, id, seq, w->body, w->body_size}, got_b,
		   &b_size);
	if (a_size != want_size || memcmp(got_a, want, want_size) != 0 || b_size != a_size ||
	    memcmp(got_a, got_b, a_size) != 0) {
		fail_msg("seed %llu step %d: result differs from the model",
			 (unsigned long long)seed, step);
	}
	w->status_seen[got_a[1] % KV_RESULT_STATUS_COUNT]++;
	if (!base_hash128_equal(kv_store_digest(w->a), kv_store_digest(w->b))) {
		fail_msg("seed %llu step %d: digests differ", (unsigned long long)seed, step);
	}
	if (base_prng_chance(&w->prng, 300000)) {
		p_drain_into_mirror(w);
	}
}

static void
p_check_snapshot_and_mirror(struct p_world *w, uint64_t seed)
{
	size_t size;

	assert_int_equal(kv_store_check(w->a), 0);
	assert_int_equal(kv_store_check(w->b), 0);
	assert_int_equal(kv_store_snapshot_encode(w->a, w->snap, sizeof(w->snap), &size), 0);
	assert_int_equal(restore_quietly(w->c, w->snap, size), 0);
	if (!base_hash128_equal(kv_store_digest(w->a), kv_store_digest(w->c))) {
		fail_msg("seed %llu: restored digest differs", (unsigned long long)seed);
	}
	p_drain_into_mirror(w);
	for (int k = 0; k < P_KEYS; k++) {
		const struct p_entry *m = &w->model.e[k];
		const struct p_entry *n = &w->mirror.e[k];

		assert_int_equal(m->exists, n->exists);
		if (m->exists) {
			assert_int_equal(m->value_size, n->value_size);
			assert_memory_equal(m->value, n->value, m->value_size);
			assert_true(m->mod == n->mod);
		}
	}
}

static void
p_run_seed(struct p_world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->cfg = (struct kv_store_config){
		.max_keys = 8,
		.max_key_size = 8,
		.max_value_size = P_VALUE_MAX,
		.data_budget_size = 90,
		.max_clients = P_TABLE,
		.index_seed = seed,
	};
	w->cfg.notify_buffer_size = kv_store_notify_size_min(&w->cfg);
	assert_int_equal(kv_store_create(&w->cfg, &w->a), 0);
	w->cfg.notify_buffer_size = 0;
	w->cfg.index_seed = ~seed;
	assert_int_equal(kv_store_create(&w->cfg, &w->b), 0);
	assert_int_equal(kv_store_create(&w->cfg, &w->c), 0);
	base_prng_init(&w->prng, seed);
	for (int step = 0; step < 4000; step++) {
		p_step(w, seed, step);
		if (step % 500 == 499) {
			p_check_snapshot_and_mirror(w, seed);
		}
	}
	kv_store_destroy(w->a);
	kv_store_destroy(w->b);
	kv_store_destroy(w->c);
	/* The stream reached every outcome, so every path was compared. */
	for (int st = 0; st < KV_RESULT_STATUS_COUNT; st++) {
		if (w->status_seen[st] == 0) {
			fail_msg("seed %llu: status %s never seen", (unsigned long long)seed,
				 kv_result_status_name((enum kv_result_status)st));
		}
	}
}

static void
test_kv_store_random_streams_agree_with_the_model_and_each_other(void **state)
{
	static struct p_world w;
	const uint64_t seeds[] = {1, 2, 0x5eed};

	(void)state;
	for (size_t si = 0; si < AE_ARRAY_SIZE(seeds); si++) {
		p_run_seed(&w, seeds[si]);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_kv_store_put_get_remove_round_trip),
		T(test_kv_store_put_overwrites_value_and_mod_index),
		T(test_kv_store_cas_checks_mod_index_and_must_not_exist),
		T(test_kv_store_batch_applies_all_ops_with_one_mod_index),
		T(test_kv_store_batch_ops_see_earlier_ops_of_the_batch),
		T(test_kv_store_batch_with_failing_cas_changes_nothing),
		T(test_kv_store_batch_cas_after_remove_reports_the_key_as_absent),
		T(test_kv_store_batch_remove_of_absent_key_fails_the_batch),
		T(test_kv_store_oversized_key_or_value_is_too_large),
		T(test_kv_store_full_key_count_answers_full_until_a_remove),
		T(test_kv_store_data_budget_answers_full),
		T(test_kv_store_malformed_body_answers_bad_command),
		T(test_kv_store_retry_returns_the_original_result_byte_for_byte),
		T(test_kv_store_older_sequence_number_is_stale),
		T(test_kv_store_full_client_table_evicts_least_recently_executed),
		T(test_kv_store_notifications_follow_log_order_with_old_values),
		T(test_kv_store_apply_waits_for_notification_room_and_changes_nothing),
		T(test_kv_store_without_notify_buffer_queues_nothing),
		T(test_kv_store_snapshot_restores_into_fresh_store_with_equal_digest),
		T(test_kv_store_restore_reports_the_diff_in_key_order),
		T(test_kv_store_restore_abort_keeps_the_old_state),
		T(test_kv_store_every_corruption_of_a_snapshot_is_refused),
		T(test_kv_store_body_decoder_refuses_or_accepts_flipped_bodies_without_change),
		T(test_kv_store_restore_refuses_invalid_bodies),
		T(test_kv_store_restore_refuses_more_data_than_the_budget),
		T(test_kv_store_digest_ignores_insertion_order_and_layout),
		T(test_kv_store_digest_of_a_fixed_history_matches_the_recorded_vector),
		T(test_kv_store_arena_compaction_keeps_every_value),
		T(test_kv_store_config_check_rejects_bad_limits),
		T(test_kv_store_init_works_in_caller_memory),
		T(test_kv_store_create_fault_loop_fails_cleanly_and_leaks_nothing),
		T(test_kv_store_random_streams_agree_with_the_model_and_each_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
