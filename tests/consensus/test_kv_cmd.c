/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the KV command and result codec round-trips every command shape, is canonical, and
 * rejects every malformed input with the documented error instead of reading out of bounds.
 * Method: round trips of each command type (including a full batch and empty values), every
 * truncation of each encoding, a table of hand-made malformed inputs, encode-side validation,
 * and seeded random byte strings whose successful decodes must re-encode to the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "consensus/kv_cmd.h"

#define BUF_SIZE 8192

struct fixture {
	uint8_t buf[BUF_SIZE];
	uint8_t buf2[BUF_SIZE];
	size_t size;
	struct kv_cmd decoded;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));

	*state = f;
	return f == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	test_free(*state);
	return 0;
}

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
cmd_single(struct kv_cmd_op op)
{
	struct kv_cmd c = {.type = op.type, .op_count = 1};

	c.ops[0] = op;
	return c;
}

static void
assert_op_equal(const struct kv_cmd_op *a, const struct kv_cmd_op *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->key_size, b->key_size);
	assert_memory_equal(a->key, b->key, a->key_size);
	assert_int_equal(a->value_size, b->value_size);
	if (a->value_size > 0) {
		assert_memory_equal(a->value, b->value, a->value_size);
	}
	assert_true(a->expected_mod_index == b->expected_mod_index);
}

/* Encodes c, checks the predicted size, decodes, compares, and re-encodes byte for byte. */
static void
assert_round_trip(struct fixture *f, const struct kv_cmd *c)
{
	size_t size2;

	assert_int_equal(kv_cmd_encode(c, f->buf, sizeof(f->buf), &f->size), 0);
	assert_int_equal(f->size, kv_cmd_encoded_size(c));
	assert_int_equal(kv_cmd_decode(f->buf, f->size, &f->decoded), 0);
	assert_int_equal(f->decoded.type, c->type);
	assert_int_equal(f->decoded.op_count, c->op_count);
	for (size_t i = 0; i < c->op_count; i++) {
		assert_op_equal(&f->decoded.ops[i], &c->ops[i]);
	}
	assert_int_equal(kv_cmd_encode(&f->decoded, f->buf2, sizeof(f->buf2), &size2), 0);
	assert_int_equal(size2, f->size);
	assert_memory_equal(f->buf, f->buf2, f->size);
}

static void
test_kv_cmd_each_type_round_trips(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c;

	c = cmd_single(op_make(KV_CMD_PUT, "nodes/a", "addr=1", 0));
	assert_round_trip(f, &c);
	c = cmd_single(op_make(KV_CMD_PUT, "k", "", 0));
	assert_round_trip(f, &c);
	c = cmd_single(op_make(KV_CMD_REMOVE, "nodes/a", NULL, 0));
	assert_round_trip(f, &c);
	c = cmd_single(op_make(KV_CMD_CAS, "leader", "n1", 0));
	assert_round_trip(f, &c);
	c = cmd_single(op_make(KV_CMD_CAS, "leader", "n2", UINT64_MAX));
	assert_round_trip(f, &c);
	c = cmd_single(op_make(KV_CMD_GET, "leader", NULL, 0));
	assert_round_trip(f, &c);
}

static void
test_kv_cmd_full_batch_round_trips(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = KV_CMD_BATCH_MAX};
	static const enum kv_cmd_type types[] = {KV_CMD_PUT, KV_CMD_REMOVE, KV_CMD_CAS};

	for (size_t i = 0; i < KV_CMD_BATCH_MAX; i++) {
		enum kv_cmd_type t = types[i % 3];

		c.ops[i] = op_make(t, "key", t == KV_CMD_REMOVE ? NULL : "value",
				   t == KV_CMD_CAS ? i : 0);
	}
	assert_round_trip(f, &c);
}

static void
test_kv_cmd_max_key_round_trips_and_longer_is_rejected(void **state)
{
	struct fixture *f = *state;
	static uint8_t key[KV_CMD_KEY_MAX + 1];
	struct kv_cmd c = cmd_single(op_make(KV_CMD_GET, "x", NULL, 0));

	memset(key, 'k', sizeof(key));
	c.ops[0].key = key;
	c.ops[0].key_size = KV_CMD_KEY_MAX;
	assert_round_trip(f, &c);
	c.ops[0].key_size = KV_CMD_KEY_MAX + 1;
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	assert_int_equal(kv_cmd_encoded_size(&c), 0);
}

static void
test_kv_cmd_encode_rejects_invalid_commands(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c;

	c = cmd_single(op_make(KV_CMD_PUT, "", "v", 0));
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	c = cmd_single(op_make(KV_CMD_PUT, "k", "v", 0));
	c.type = (enum kv_cmd_type)9;
	c.ops[0].type = c.type;
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	c = cmd_single(op_make(KV_CMD_PUT, "k", "v", 0));
	c.op_count = 2;
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	c = (struct kv_cmd){.type = KV_CMD_BATCH, .op_count = 0};
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	c.op_count = KV_CMD_BATCH_MAX + 1;
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	c.op_count = 1;
	c.ops[0] = op_make(KV_CMD_GET, "k", NULL, 0);
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	c.ops[0].type = KV_CMD_BATCH;
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), -EINVAL);
}

static void
test_kv_cmd_encode_reports_short_buffer(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = cmd_single(op_make(KV_CMD_PUT, "key", "value", 0));
	size_t need = kv_cmd_encoded_size(&c);

	assert_int_equal(kv_cmd_encode(&c, f->buf, need - 1, &f->size), -ENOBUFS);
	assert_int_equal(kv_cmd_encode(&c, f->buf, need, &f->size), 0);
}

static void
test_kv_cmd_every_truncation_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 3};

	c.ops[0] = op_make(KV_CMD_PUT, "a", "1", 0);
	c.ops[1] = op_make(KV_CMD_CAS, "b", "2", 7);
	c.ops[2] = op_make(KV_CMD_REMOVE, "c", NULL, 0);
	assert_int_equal(kv_cmd_encode(&c, f->buf, sizeof(f->buf), &f->size), 0);
	for (size_t n = 0; n < f->size; n++) {
		assert_int_equal(kv_cmd_decode(f->buf, n, &f->decoded), -BASE_ERR_TRUNCATED);
	}
	assert_int_equal(kv_cmd_decode(f->buf, f->size, &f->decoded), 0);
}

struct malformed_case {
	const char *name;
	uint8_t bytes[32];
	size_t size;
	int err;
};

static void
test_kv_cmd_malformed_inputs_are_rejected(void **state)
{
	static const struct malformed_case cases[] = {
		{"empty", {0}, 0, -BASE_ERR_TRUNCATED},
		{"bad version", {2, 4, 1, 0, 0, 0, 'k'}, 7, -BASE_ERR_VERSION},
		{"type zero", {1, 0, 1, 0, 0, 0, 'k'}, 7, -EBADMSG},
		{"unknown type", {1, 6, 1, 0, 0, 0, 'k'}, 7, -EBADMSG},
		{"empty key", {1, 4, 0, 0, 0, 0}, 6, -EBADMSG},
		{"key over limit", {1, 4, 0x01, 0x02, 0, 0, 'k'}, 7, -BASE_ERR_TOO_LONG},
		{"key longer than input", {1, 4, 5, 0, 0, 0, 'k'}, 7, -BASE_ERR_TRUNCATED},
		{"trailing byte", {1, 4, 1, 0, 0, 0, 'k', 0}, 8, -BASE_ERR_TRAILING},
		{"value over limit",
		 {1, 1, 1, 0, 0, 0, 'k', 0x01, 0x00, 0x00, 0x01},
		 11,
		 -BASE_ERR_TOO_LONG},
		{"value huge length",
		 {1, 1, 1, 0, 0, 0, 'k', 0xff, 0xff, 0xff, 0xff},
		 11,
		 -BASE_ERR_TOO_LONG},
		{"batch of zero", {1, 5, 0}, 3, -EBADMSG},
		{"batch over max", {1, 5, KV_CMD_BATCH_MAX + 1}, 3, -EBADMSG},
		{"get inside batch", {1, 5, 1, 4, 1, 0, 0, 0, 'k'}, 9, -EBADMSG},
		{"batch inside batch", {1, 5, 1, 5, 1}, 5, -EBADMSG},
		{"batch count larger than ops",
		 {1, 5, 2, 2, 1, 0, 0, 0, 'k'},
		 9,
		 -BASE_ERR_TRUNCATED},
		{"cas without index", {1, 3, 1, 0, 0, 0, 'k', 0, 0}, 9, -BASE_ERR_TRUNCATED},
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = kv_cmd_decode(cases[i].bytes, cases[i].size, &f->decoded);

		if (rc != cases[i].err) {
			fail_msg("case '%s': got %d want %d", cases[i].name, rc, cases[i].err);
		}
	}
}

static void
test_kv_cmd_mutated_bytes_decode_canonically_or_fail(void **state)
{
	struct fixture *f = *state;
	struct kv_cmd c = {.type = KV_CMD_BATCH, .op_count = 3};
	struct base_prng prng;
	const uint64_t seed = 0x6b76636d64ull;
	uint8_t base[64];
	size_t base_size;
	unsigned accepted = 0;
	unsigned rejected = 0;

	c.ops[0] = op_make(KV_CMD_PUT, "ab", "12", 0);
	c.ops[1] = op_make(KV_CMD_CAS, "b", "2", 7);
	c.ops[2] = op_make(KV_CMD_REMOVE, "c", NULL, 0);
	assert_int_equal(kv_cmd_encode(&c, base, sizeof(base), &base_size), 0);
	base_prng_init(&prng, seed);
	for (int iter = 0; iter < 20000; iter++) {
		size_t size = base_size - (size_t)base_prng_below(&prng, 3);
		size_t size2;
		uint64_t flips = base_prng_range(&prng, 1, 3);

		memcpy(f->buf, base, base_size);
		for (uint64_t k = 0; k < flips; k++) {
			f->buf[base_prng_below(&prng, size)] = (uint8_t)base_prng_below(&prng, 256);
		}
		if (kv_cmd_decode(f->buf, size, &f->decoded) != 0) {
			rejected++;
			continue;
		}
		accepted++;
		if (kv_cmd_encode(&f->decoded, f->buf2, sizeof(f->buf2), &size2) != 0 ||
		    size2 != size || memcmp(f->buf, f->buf2, size) != 0) {
			fail_msg("seed %llu iter %d: decode/encode not canonical",
				 (unsigned long long)seed, iter);
		}
	}
	assert_true(accepted > 100);
	assert_true(rejected > 100);
}

static void
test_kv_result_round_trips(void **state)
{
	struct fixture *f = *state;
	struct kv_result r = {
		.status = KV_RESULT_OK,
		.op_index = 0,
		.mod_index = 42,
		.value = (const uint8_t *)"hello",
		.value_size = 5,
	};
	struct kv_result d;

	assert_int_equal(kv_result_encode(&r, f->buf, sizeof(f->buf), &f->size), 0);
	assert_int_equal(f->size, KV_RESULT_HEADER_SIZE + 5);
	assert_int_equal(kv_result_decode(f->buf, f->size, &d), 0);
	assert_int_equal(d.status, KV_RESULT_OK);
	assert_true(d.mod_index == 42);
	assert_int_equal(d.value_size, 5);
	assert_memory_equal(d.value, "hello", 5);
	r = (struct kv_result){.status = KV_RESULT_CAS_FAILED, .op_index = 3, .mod_index = 9};
	assert_int_equal(kv_result_encode(&r, f->buf, sizeof(f->buf), &f->size), 0);
	assert_int_equal(kv_result_decode(f->buf, f->size, &d), 0);
	assert_int_equal(d.status, KV_RESULT_CAS_FAILED);
	assert_int_equal(d.op_index, 3);
	assert_true(d.mod_index == 9);
	assert_int_equal(d.value_size, 0);
	assert_string_equal(kv_result_status_name(KV_RESULT_STALE), "STALE");
	assert_string_equal(kv_result_status_name((enum kv_result_status)99), "?");
}

static void
test_kv_result_malformed_inputs_are_rejected(void **state)
{
	struct fixture *f = *state;
	struct kv_result r = {.status = KV_RESULT_NOT_FOUND};
	struct kv_result d;

	assert_int_equal(kv_result_encode(&r, f->buf, sizeof(f->buf), &f->size), 0);
	for (size_t n = 0; n < f->size; n++) {
		assert_int_equal(kv_result_decode(f->buf, n, &d), -BASE_ERR_TRUNCATED);
	}
	f->buf[f->size] = 0;
	assert_int_equal(kv_result_decode(f->buf, f->size + 1, &d), -BASE_ERR_TRAILING);
	f->buf[0] = 2;
	assert_int_equal(kv_result_decode(f->buf, f->size, &d), -BASE_ERR_VERSION);
	f->buf[0] = 1;
	f->buf[1] = KV_RESULT_STATUS_COUNT;
	assert_int_equal(kv_result_decode(f->buf, f->size, &d), -EBADMSG);
	f->buf[1] = 0;
	f->buf[2] = KV_CMD_BATCH_MAX;
	assert_int_equal(kv_result_decode(f->buf, f->size, &d), -EBADMSG);
	r.op_index = KV_CMD_BATCH_MAX;
	assert_int_equal(kv_result_encode(&r, f->buf, sizeof(f->buf), &f->size), -EINVAL);
	r.op_index = 0;
	assert_int_equal(kv_result_encode(&r, f->buf, KV_RESULT_HEADER_SIZE - 1, &f->size),
			 -ENOBUFS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kv_cmd_each_type_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_cmd_full_batch_round_trips, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_kv_cmd_max_key_round_trips_and_longer_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_cmd_encode_rejects_invalid_commands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kv_cmd_encode_reports_short_buffer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kv_cmd_every_truncation_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kv_cmd_malformed_inputs_are_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_kv_cmd_mutated_bytes_decode_canonically_or_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_result_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_result_malformed_inputs_are_rejected, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
