/* SPDX-License-Identifier: Apache-2.0 */
#include "consensus/kv_cmd.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_key.h"

/* Keys in the store are the schema's key texts, so the wire limit must admit every one. */
static_assert(KV_CMD_KEY_MAX == KV_KEY_MAX, "kv_cmd key limit must match the key schema");
/* op_index travels as u16 and the batch count as u8. */
static_assert(KV_CMD_BATCH_MAX <= 255, "batch count is a u8 on the wire");

static int
cmd_op_has_value(enum kv_cmd_type type)
{
	return type == KV_CMD_PUT || type == KV_CMD_CAS;
}

/* 0 when op is a valid op of its type; in_batch restricts the type to writes. */
static int
cmd_op_check(const struct kv_cmd_op *op, int in_batch)
{
	switch (op->type) {
	case KV_CMD_PUT:
	case KV_CMD_REMOVE:
	case KV_CMD_CAS:
		break;
	case KV_CMD_GET:
		if (in_batch) {
			return -EINVAL;
		}
		break;
	default:
		return -EINVAL;
	}
	if (op->key_size == 0 || op->key_size > KV_CMD_KEY_MAX || op->key == NULL) {
		return -EINVAL;
	}
	if (cmd_op_has_value(op->type)) {
		if (op->value_size > KV_CMD_VALUE_MAX ||
		    (op->value == NULL && op->value_size > 0)) {
			return -EINVAL;
		}
	}
	return 0;
}

static int
cmd_batch_check(const struct kv_cmd *c)
{
	if (c->op_count == 0 || c->op_count > KV_CMD_BATCH_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < c->op_count; i++) {
		if (cmd_op_check(&c->ops[i], 1) != 0) {
			return -EINVAL;
		}
	}
	return 0;
}

static int
cmd_check(const struct kv_cmd *c)
{
	if (c->type == KV_CMD_BATCH) {
		return cmd_batch_check(c);
	}
	if (c->op_count != 1 || c->ops[0].type != c->type) {
		return -EINVAL;
	}
	return cmd_op_check(&c->ops[0], 0);
}

/* type byte, key blob, then the CAS index and the value blob where the type has them. */
static size_t
cmd_op_size(const struct kv_cmd_op *op)
{
	size_t n = 1 + 4 + op->key_size;

	if (op->type == KV_CMD_CAS) {
		n += 8;
	}
	if (cmd_op_has_value(op->type)) {
		n += 4 + op->value_size;
	}
	return n;
}

size_t
kv_cmd_encoded_size(const struct kv_cmd *c)
{
	size_t n = 1;

	ASSERT(c != NULL);
	if (cmd_check(c) != 0) {
		return 0;
	}
	if (c->type == KV_CMD_BATCH) {
		n += 2;
	}
	for (size_t i = 0; i < c->op_count; i++) {
		n += cmd_op_size(&c->ops[i]);
	}
	return n;
}

static void
cmd_op_write(struct base_writer *w, const struct kv_cmd_op *op)
{
	base_writer_u8(w, (uint8_t)op->type);
	base_writer_blob(w, op->key, op->key_size);
	if (op->type == KV_CMD_CAS) {
		base_writer_u64(w, op->expected_mod_index);
	}
	if (cmd_op_has_value(op->type)) {
		base_writer_blob(w, op->value, op->value_size);
	}
}

int
kv_cmd_encode(const struct kv_cmd *c, uint8_t *buf, size_t capacity, size_t *out_size)
{
	struct base_writer w;
	int rc;

	ASSERT(c != NULL);
	ASSERT(out_size != NULL);
	ASSERT(buf != NULL || capacity == 0);
	if (cmd_check(c) != 0) {
		return -EINVAL;
	}
	base_writer_init(&w, buf, capacity);
	base_writer_u8(&w, KV_CMD_VERSION);
	if (c->type == KV_CMD_BATCH) {
		base_writer_u8(&w, KV_CMD_BATCH);
		base_writer_u8(&w, (uint8_t)c->op_count);
	}
	for (size_t i = 0; i < c->op_count; i++) {
		cmd_op_write(&w, &c->ops[i]);
	}
	rc = base_writer_status(&w);
	if (rc != 0) {
		return rc;
	}
	*out_size = base_writer_size(&w);
	ASSERT(*out_size == kv_cmd_encoded_size(c));
	return 0;
}

static int
cmd_key_read(struct base_reader *r, struct kv_cmd_op *op)
{
	int rc = base_reader_blob(r, &op->key, &op->key_size, KV_CMD_KEY_MAX);

	if (rc != 0) {
		return rc;
	}
	return op->key_size == 0 ? -EBADMSG : 0;
}

/* Reads one op whose type byte is already consumed into op->type. */
static int
cmd_op_read(struct base_reader *r, struct kv_cmd_op *op)
{
	int rc = cmd_key_read(r, op);

	op->value = NULL;
	op->value_size = 0;
	op->expected_mod_index = 0;
	if (rc != 0) {
		return rc;
	}
	if (op->type == KV_CMD_CAS) {
		base_reader_u64(r, &op->expected_mod_index);
	}
	if (cmd_op_has_value(op->type)) {
		rc = base_reader_blob(r, &op->value, &op->value_size, KV_CMD_VALUE_MAX);
	}
	return rc != 0 ? rc : r->err;
}

static int
cmd_batch_read(struct base_reader *r, struct kv_cmd *out)
{
	uint8_t count;
	int rc = base_reader_u8(r, &count);

	if (rc != 0) {
		return rc;
	}
	if (count == 0 || count > KV_CMD_BATCH_MAX) {
		return -EBADMSG;
	}
	out->op_count = count;
	for (size_t i = 0; i < count; i++) {
		uint8_t type;
		struct kv_cmd_op *op = &out->ops[i];

		rc = base_reader_u8(r, &type);
		if (rc != 0) {
			return rc;
		}
		if (type != KV_CMD_PUT && type != KV_CMD_REMOVE && type != KV_CMD_CAS) {
			return -EBADMSG;
		}
		op->type = (enum kv_cmd_type)type;
		rc = cmd_op_read(r, op);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

int
kv_cmd_decode(const uint8_t *buf, size_t size, struct kv_cmd *out)
{
	struct base_reader r;
	uint8_t version;
	uint8_t type;
	int rc;

	ASSERT(buf != NULL || size == 0);
	ASSERT(out != NULL);
	base_reader_init(&r, buf, size);
	base_reader_u8(&r, &version);
	rc = base_reader_u8(&r, &type);
	if (rc != 0) {
		return rc;
	}
	if (version != KV_CMD_VERSION) {
		return -BASE_ERR_VERSION;
	}
	if (type < KV_CMD_PUT || type > KV_CMD_BATCH) {
		return -EBADMSG;
	}
	out->type = (enum kv_cmd_type)type;
	if (out->type == KV_CMD_BATCH) {
		rc = cmd_batch_read(&r, out);
	} else {
		out->op_count = 1;
		out->ops[0].type = out->type;
		rc = cmd_op_read(&r, &out->ops[0]);
	}
	if (rc != 0) {
		return rc;
	}
	rc = base_reader_finish(&r);
	ASSERT(rc != 0 || cmd_check(out) == 0);
	return rc;
}

size_t
kv_result_encoded_size(const struct kv_result *r)
{
	ASSERT(r != NULL);
	return KV_RESULT_HEADER_SIZE + r->value_size;
}

int
kv_result_encode(const struct kv_result *r, uint8_t *buf, size_t capacity, size_t *out_size)
{
	struct base_writer w;
	int rc;

	ASSERT(r != NULL);
	ASSERT(out_size != NULL);
	if ((unsigned)r->status >= KV_RESULT_STATUS_COUNT || r->op_index >= KV_CMD_BATCH_MAX) {
		return -EINVAL;
	}
	if (r->value_size > KV_CMD_VALUE_MAX || (r->value == NULL && r->value_size > 0)) {
		return -EINVAL;
	}
	base_writer_init(&w, buf, capacity);
	base_writer_u8(&w, KV_RESULT_VERSION);
	base_writer_u8(&w, (uint8_t)r->status);
	base_writer_u16(&w, (uint16_t)r->op_index);
	base_writer_u64(&w, r->mod_index);
	base_writer_blob(&w, r->value, r->value_size);
	rc = base_writer_status(&w);
	if (rc != 0) {
		return rc;
	}
	*out_size = base_writer_size(&w);
	ASSERT(*out_size == kv_result_encoded_size(r));
	return 0;
}

int
kv_result_decode(const uint8_t *buf, size_t size, struct kv_result *out)
{
	struct base_reader r;
	uint8_t version;
	uint8_t status;
	uint16_t op_index;

	ASSERT(buf != NULL || size == 0);
	ASSERT(out != NULL);
	base_reader_init(&r, buf, size);
	base_reader_u8(&r, &version);
	base_reader_u8(&r, &status);
	base_reader_u16(&r, &op_index);
	base_reader_u64(&r, &out->mod_index);
	if (r.err != 0) {
		return r.err;
	}
	if (version != KV_RESULT_VERSION) {
		return -BASE_ERR_VERSION;
	}
	if (status >= KV_RESULT_STATUS_COUNT || op_index >= KV_CMD_BATCH_MAX) {
		return -EBADMSG;
	}
	out->status = (enum kv_result_status)status;
	out->op_index = op_index;
	base_reader_blob(&r, &out->value, &out->value_size, KV_CMD_VALUE_MAX);
	return base_reader_finish(&r);
}

const char *
kv_result_status_name(enum kv_result_status status)
{
	static const char *const names[KV_RESULT_STATUS_COUNT] = {
		"OK", "NOT_FOUND", "CAS_FAILED", "FULL", "TOO_LARGE", "STALE", "BAD_COMMAND",
	};

	if ((unsigned)status >= KV_RESULT_STATUS_COUNT) {
		return "?";
	}
	return names[status];
}
