/* SPDX-License-Identifier: Apache-2.0 */
#include "consensus/rabia_msg.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"

_Static_assert(RABIA_BATCH_HEADER_SIZE == 4 + 8 + 2, "batch header layout");
_Static_assert(RABIA_REQUEST_HEADER_SIZE == 8 + 8 + 4, "request header layout");
_Static_assert(RABIA_MSG_HEADER_SIZE == 1 + 1 + 2 + 4 + 8 + 8 + 8, "message header layout");
_Static_assert(RABIA_BATCH_COUNT_MAX <= UINT16_MAX, "batch count is a u16 on the wire");

static const char *const rabia_type_names[] = {
	[RABIA_MSG_REQ] = "REQ",
	[RABIA_MSG_REQ_ACK] = "REQ_ACK",
	[RABIA_MSG_PROPOSAL] = "PROPOSAL",
	[RABIA_MSG_STATE] = "STATE",
	[RABIA_MSG_VOTE] = "VOTE",
	[RABIA_MSG_DECISION] = "DECISION",
	[RABIA_MSG_DEC_REQ] = "DEC_REQ",
	[RABIA_MSG_FETCH] = "FETCH",
	[RABIA_MSG_FETCH_REPLY] = "FETCH_REPLY",
	[RABIA_MSG_STALE] = "STALE",
};

const char *
rabia_msg_type_name(unsigned type)
{
	if (type == 0 || type > RABIA_MSG_TYPE_MAX) {
		return "?";
	}
	return rabia_type_names[type];
}

static void
read_id(struct base_reader *r, struct rabia_batch_id *id)
{
	uint32_t proxy = 0;
	uint64_t seq = 0;

	base_reader_u32(r, &proxy);
	base_reader_u64(r, &seq);
	*id = rabia_batch_id_make(proxy, seq);
}

/*
 * Reads one batch from r and validates it; the caller's reader error wins over ours when both
 * happen, so truncation is reported as truncation.
 */
static int
read_batch(struct base_reader *r, struct rabia_batch_id *id, uint16_t *count_out,
	   struct rabia_request *reqs, size_t reqs_cap)
{
	uint16_t count = 0;

	read_id(r, id);
	base_reader_u16(r, &count);
	if (r->err != 0) {
		return r->err;
	}
	if (count == 0) {
		return -EBADMSG;
	}
	if (count > RABIA_BATCH_COUNT_MAX) {
		return -BASE_ERR_TOO_LONG;
	}
	if (reqs != NULL && reqs_cap < count) {
		return -ENOBUFS;
	}
	for (uint16_t i = 0; i < count; i++) {
		struct rabia_request q = {0};

		base_reader_u64(r, &q.client_id);
		base_reader_u64(r, &q.client_seq);
		base_reader_blob(r, &q.body, &q.body_size, RABIA_MSG_MAX);
		if (r->err != 0) {
			return r->err;
		}
		if (reqs != NULL) {
			reqs[i] = q;
		}
	}
	*count_out = count;
	return 0;
}

int
rabia_batch_parse(const uint8_t *data, size_t size, struct rabia_batch_id *id_out,
		  uint16_t *count_out, struct rabia_request *reqs, size_t reqs_cap)
{
	struct base_reader r;
	int rc;

	ASSERT(id_out != NULL);
	ASSERT(count_out != NULL);
	if (data == NULL) {
		return -BASE_ERR_TRUNCATED;
	}
	base_reader_init(&r, data, size);
	rc = read_batch(&r, id_out, count_out, reqs, reqs_cap);
	if (rc != 0) {
		return rc;
	}
	return base_reader_finish(&r);
}

/* The batch is the rest of the message: parse it and remember where it lies. */
static int
decode_batch(struct base_reader *r, struct rabia_msg *m)
{
	size_t start = r->pos;
	int rc = read_batch(r, &m->id, &m->batch_count, NULL, 0);

	if (rc != 0) {
		return rc;
	}
	m->batch = r->data + start;
	m->batch_size = r->pos - start;
	return 0;
}

/* PROPOSAL, STATE, VOTE: an optional id whose presence depends on the value. */
static int
decode_valued(struct base_reader *r, struct rabia_msg *m, uint8_t value_max, int with_phase)
{
	if (with_phase) {
		base_reader_u32(r, &m->phase);
	}
	base_reader_u8(r, &m->value);
	if (r->err != 0) {
		return r->err;
	}
	if (m->value > value_max || (with_phase && m->phase == 0)) {
		return -EBADMSG;
	}
	if (m->value == 1) {
		read_id(r, &m->id);
	}
	return r->err;
}

static int
decode_decision(struct base_reader *r, struct rabia_msg *m)
{
	base_reader_u8(r, &m->value);
	if (r->err != 0) {
		return r->err;
	}
	switch (m->value) {
	case RABIA_DECISION_NULL:
		return 0;
	case RABIA_DECISION_ID:
		read_id(r, &m->id);
		return r->err;
	case RABIA_DECISION_BATCH:
		return decode_batch(r, m);
	default:
		return -EBADMSG;
	}
}

static int
decode_body(struct base_reader *r, struct rabia_msg *m)
{
	switch (m->type) {
	case RABIA_MSG_REQ:
	case RABIA_MSG_FETCH_REPLY:
		return decode_batch(r, m);
	case RABIA_MSG_REQ_ACK:
	case RABIA_MSG_FETCH:
		read_id(r, &m->id);
		return r->err;
	case RABIA_MSG_PROPOSAL:
		return decode_valued(r, m, 1, 0);
	case RABIA_MSG_STATE:
		return decode_valued(r, m, 1, 1);
	case RABIA_MSG_VOTE:
		return decode_valued(r, m, RABIA_VOTE_UNKNOWN, 1);
	case RABIA_MSG_DECISION:
		return decode_decision(r, m);
	case RABIA_MSG_DEC_REQ:
	case RABIA_MSG_STALE:
		base_reader_u64(r, &m->slot_hi);
		return r->err;
	default:
		return -EBADMSG;
	}
}

int
rabia_msg_decode(const uint8_t *data, size_t size, struct rabia_msg *out)
{
	struct base_reader r;
	uint8_t version = 0;
	uint16_t flags = 0;
	int rc;

	ASSERT(out != NULL);
	memset(out, 0, sizeof(*out));
	if (size > RABIA_MSG_MAX) {
		return -BASE_ERR_TOO_LONG;
	}
	if (data == NULL) {
		return -BASE_ERR_TRUNCATED;
	}
	base_reader_init(&r, data, size);
	base_reader_u8(&r, &version);
	base_reader_u8(&r, &out->type);
	base_reader_u16(&r, &flags);
	base_reader_u32(&r, &out->sender);
	base_reader_u64(&r, &out->cluster_id);
	base_reader_u64(&r, &out->epoch);
	base_reader_u64(&r, &out->slot);
	if (r.err != 0) {
		return r.err;
	}
	if (version != RABIA_MSG_VERSION) {
		return -BASE_ERR_VERSION;
	}
	if (flags != 0 || out->type == 0 || out->type > RABIA_MSG_TYPE_MAX) {
		return -EBADMSG;
	}
	rc = decode_body(&r, out);
	if (rc != 0) {
		return rc;
	}
	return base_reader_finish(&r);
}

static int
type_has_batch(const struct rabia_msg *m)
{
	return m->type == RABIA_MSG_REQ || m->type == RABIA_MSG_FETCH_REPLY ||
	       (m->type == RABIA_MSG_DECISION && m->value == RABIA_DECISION_BATCH);
}

static int
type_has_id(const struct rabia_msg *m)
{
	switch (m->type) {
	case RABIA_MSG_REQ_ACK:
	case RABIA_MSG_FETCH:
		return 1;
	case RABIA_MSG_PROPOSAL:
	case RABIA_MSG_STATE:
	case RABIA_MSG_VOTE:
	case RABIA_MSG_DECISION:
		return m->value == 1;
	default:
		return 0;
	}
}

/* Programmer errors only: our own messages are well formed by construction. */
static void
assert_encodable(const struct rabia_msg *m)
{
	ASSERT(m->type >= 1 && m->type <= RABIA_MSG_TYPE_MAX);
	if (m->type == RABIA_MSG_STATE || m->type == RABIA_MSG_VOTE) {
		ASSERT(m->phase >= 1);
	}
	if (m->type == RABIA_MSG_PROPOSAL || m->type == RABIA_MSG_STATE) {
		ASSERT(m->value <= 1);
	}
	if (m->type == RABIA_MSG_VOTE) {
		ASSERT(m->value <= RABIA_VOTE_UNKNOWN);
	}
	if (m->type == RABIA_MSG_DECISION) {
		ASSERT(m->value <= RABIA_DECISION_BATCH);
	}
	if (type_has_batch(m)) {
		struct rabia_batch_id id;
		uint16_t count;

		ASSERT(m->batch != NULL);
		ASSERT(rabia_batch_parse(m->batch, m->batch_size, &id, &count, NULL, 0) == 0);
		ASSERT(rabia_batch_id_equal(id, m->id));
	}
}

size_t
rabia_msg_encoded_size(const struct rabia_msg *m)
{
	size_t size = RABIA_MSG_HEADER_SIZE;

	ASSERT(m != NULL);
	if (m->type == RABIA_MSG_STATE || m->type == RABIA_MSG_VOTE) {
		size += 4;
	}
	if (m->type == RABIA_MSG_PROPOSAL || m->type == RABIA_MSG_STATE ||
	    m->type == RABIA_MSG_VOTE || m->type == RABIA_MSG_DECISION) {
		size += 1;
	}
	if (m->type == RABIA_MSG_DEC_REQ || m->type == RABIA_MSG_STALE) {
		size += 8;
	}
	if (type_has_batch(m)) {
		size += m->batch_size;
	} else if (type_has_id(m)) {
		size += 12;
	}
	return size;
}

static void
write_body(struct base_writer *w, const struct rabia_msg *m)
{
	if (m->type == RABIA_MSG_STATE || m->type == RABIA_MSG_VOTE) {
		base_writer_u32(w, m->phase);
	}
	if (m->type == RABIA_MSG_PROPOSAL || m->type == RABIA_MSG_STATE ||
	    m->type == RABIA_MSG_VOTE || m->type == RABIA_MSG_DECISION) {
		base_writer_u8(w, m->value);
	}
	if (m->type == RABIA_MSG_DEC_REQ || m->type == RABIA_MSG_STALE) {
		base_writer_u64(w, m->slot_hi);
	}
	if (type_has_batch(m)) {
		base_writer_bytes(w, m->batch, m->batch_size);
	} else if (type_has_id(m)) {
		base_writer_u32(w, m->id.proxy);
		base_writer_u64(w, m->id.seq);
	}
}

int
rabia_msg_encode(const struct rabia_msg *m, uint8_t *buf, size_t capacity, size_t *size_out)
{
	struct base_writer w;
	int rc;

	ASSERT(m != NULL);
	ASSERT(buf != NULL);
	ASSERT(size_out != NULL);
	assert_encodable(m);
	base_writer_init(&w, buf, capacity);
	base_writer_u8(&w, RABIA_MSG_VERSION);
	base_writer_u8(&w, m->type);
	base_writer_u16(&w, 0);
	base_writer_u32(&w, m->sender);
	base_writer_u64(&w, m->cluster_id);
	base_writer_u64(&w, m->epoch);
	base_writer_u64(&w, m->slot);
	write_body(&w, m);
	rc = base_writer_status(&w);
	if (rc != 0) {
		return -ENOBUFS;
	}
	*size_out = base_writer_size(&w);
	ASSERT(*size_out == rabia_msg_encoded_size(m));
	return 0;
}

void
rabia_batch_begin(struct rabia_batch_builder *b, uint8_t *buf, size_t capacity)
{
	ASSERT(b != NULL);
	ASSERT(buf != NULL);
	ASSERT(capacity >= RABIA_BATCH_HEADER_SIZE);
	b->buf = buf;
	b->capacity = capacity;
	b->size = RABIA_BATCH_HEADER_SIZE;
	b->count = 0;
}

size_t
rabia_batch_request_size(size_t body_size)
{
	return RABIA_REQUEST_HEADER_SIZE + body_size;
}

int
rabia_batch_add(struct rabia_batch_builder *b, uint64_t client_id, uint64_t client_seq,
		const uint8_t *body, size_t body_size)
{
	uint8_t *p;

	ASSERT(b != NULL && b->buf != NULL);
	ASSERT(body != NULL || body_size == 0);
	if (b->count >= RABIA_BATCH_COUNT_MAX || body_size > RABIA_MSG_MAX ||
	    rabia_batch_request_size(body_size) > b->capacity - b->size) {
		return -ENOBUFS;
	}
	p = b->buf + b->size;
	base_store_le64(p, client_id);
	base_store_le64(p + 8, client_seq);
	base_store_le32(p + 16, (uint32_t)body_size);
	if (body_size > 0) {
		memcpy(p + RABIA_REQUEST_HEADER_SIZE, body, body_size);
	}
	b->size += rabia_batch_request_size(body_size);
	b->count++;
	return 0;
}

size_t
rabia_batch_finish(struct rabia_batch_builder *b, struct rabia_batch_id id)
{
	ASSERT(b != NULL && b->buf != NULL);
	ASSERT(b->count >= 1);
	base_store_le32(b->buf, id.proxy);
	base_store_le64(b->buf + 4, id.seq);
	base_store_le16(b->buf + 12, b->count);
	return b->size;
}
