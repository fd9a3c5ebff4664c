/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl/ctl_proto.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"

/* The operator's kv commands go to the store unchanged, so the limits must agree. */
static_assert(CTL_KEY_MAX == KV_CMD_KEY_MAX, "ctl key limit must match the store's");
static_assert(CTL_VALUE_MAX <= KV_CMD_VALUE_MAX, "ctl values must fit the store's wire limit");
/* The largest put (two blobs at their limits) fits in one request frame. */
static_assert(CTL_FRAME_HEADER_SIZE + 4 + CTL_KEY_MAX + 4 + CTL_VALUE_MAX <= CTL_REQUEST_MAX,
	      "a maximal put must fit in a request");
/* The largest list (every entry at its limits) fits in one response frame. */
static_assert(CTL_FRAME_HEADER_SIZE + 1 + CTL_READ_INFO_MAX + 1 + 4 +
			      CTL_LIST_MAX * (4 + CTL_KEY_MAX + 8 + 4) <=
		      CTL_RESPONSE_MAX,
	      "a maximal list must fit in a response");
/* The largest list request (prefix and cursor at their limits) fits in one request frame. */
static_assert(CTL_FRAME_HEADER_SIZE + 2 * (4 + CTL_KEY_MAX) + 4 + 1 <= CTL_REQUEST_MAX,
	      "a maximal list request must fit in a request");
/* The largest bench answer (every bucket) fits in one response frame. */
static_assert(CTL_FRAME_HEADER_SIZE + 1 + 6 * 8 + 4 + CTL_BENCH_BUCKETS_MAX * (8 + 8) <=
		      CTL_RESPONSE_MAX,
	      "a maximal bench answer must fit in a response");
/* Counts travel as u16. */
static_assert(CTL_PEERS_MAX <= UINT16_MAX && CTL_NODES_MAX <= UINT16_MAX, "u16 counts");

#define NODE_FLAG_SELF          0x01u
#define NODE_FLAG_LEADER        0x02u
/* Offset of body_size in the header, patched once the body is written. */
#define HEADER_BODY_SIZE_OFFSET 16

static const char *const msg_type_names[CTL_MSG_TYPE_COUNT] = {
	"none",    "status", "nodes",      "kv_put",     "kv_get",       "kv_rm",
	"kv_list", "bench",  "slice_load", "slice_call", "slice_unload", "slice_list",
};

static const char *const status_names[CTL_STATUS_COUNT] = {
	"ok",   "not_found",   "denied",  "bad_request", "too_large", "unsupported",
	"busy", "unavailable", "timeout", "full",        "internal",
};

static const char *const peer_state_names[CTL_PEER_STATE_COUNT] = {
	"unknown",
	"up",
	"suspect",
	"down",
};

static const char *const transport_names[CTL_TRANSPORT_COUNT] = {"none", "memif", "udp", "af_xdp",
								 "pci"};

static const char *const consistency_names[CTL_CONSISTENCY_COUNT] = {"none", "linearizable",
								     "local"};

static const char *const slice_state_names[CTL_SLICE_STATE_COUNT] = {"loading", "active",
								     "unloading"};

const char *
ctl_msg_type_name(enum ctl_msg_type type)
{
	if ((unsigned)type >= CTL_MSG_TYPE_COUNT) {
		return "?";
	}
	return msg_type_names[type];
}

const char *
ctl_status_name(enum ctl_status status)
{
	if ((unsigned)status >= CTL_STATUS_COUNT) {
		return "?";
	}
	return status_names[status];
}

const char *
ctl_peer_state_name(enum ctl_peer_state state)
{
	if ((unsigned)state >= CTL_PEER_STATE_COUNT) {
		return "?";
	}
	return peer_state_names[state];
}

const char *
ctl_transport_name(enum ctl_transport transport)
{
	if ((unsigned)transport >= CTL_TRANSPORT_COUNT) {
		return "?";
	}
	return transport_names[transport];
}

const char *
ctl_consistency_name(enum ctl_consistency consistency)
{
	if ((unsigned)consistency >= CTL_CONSISTENCY_COUNT) {
		return "?";
	}
	return consistency_names[consistency];
}

const char *
ctl_slice_state_name(enum ctl_slice_state state)
{
	if ((unsigned)state >= CTL_SLICE_STATE_COUNT) {
		return "?";
	}
	return slice_state_names[state];
}

/* A consistency that may travel on the wire (NONE never does). */
static bool
is_wire_consistency(unsigned consistency)
{
	return consistency == CTL_CONSISTENCY_LINEARIZABLE || consistency == CTL_CONSISTENCY_LOCAL;
}

/* Types whose request says which consistency it wants and whose answer says which it got. */
static bool
is_read(unsigned type)
{
	return type == CTL_MSG_KV_GET || type == CTL_MSG_KV_LIST;
}

/* Byte order, a prefix before its extensions: the store's key order (kv_store.h). */
static int
key_order(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
	size_t n = base_min_size(a_size, b_size);
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0) {
		return c;
	}
	return a_size < b_size ? -1 : (a_size > b_size ? 1 : 0);
}

/* A transport that may travel with the counters (NONE never does). */
static bool
is_wire_transport(unsigned transport)
{
	return transport != CTL_TRANSPORT_NONE && transport < CTL_TRANSPORT_COUNT;
}

static bool
is_request_type(unsigned type)
{
	return type >= CTL_MSG_STATUS && type < CTL_MSG_TYPE_COUNT;
}

/* A (pointer, size) pair is usable: NULL only when empty. */
static bool
span_ok(const void *p, size_t size, size_t max)
{
	return size <= max && (p != NULL || size == 0);
}

/* A key: 1..CTL_KEY_MAX bytes (the store's rule; the kv schema is not enforced here). */
static bool
key_ok(const uint8_t *key, size_t size)
{
	return size > 0 && span_ok(key, size, CTL_KEY_MAX);
}

/* Types whose request body starts with a key. */
static bool
has_key(unsigned type)
{
	return type == CTL_MSG_KV_PUT || type == CTL_MSG_KV_GET || type == CTL_MSG_KV_RM;
}

/* Types whose request body starts with a key or a prefix blob. */
static bool
has_key_blob(unsigned type)
{
	return has_key(type) || type == CTL_MSG_KV_LIST;
}

/* Types whose request body starts with a slice coordinate. */
static bool
has_coord(unsigned type)
{
	return type == CTL_MSG_SLICE_LOAD || type == CTL_MSG_SLICE_CALL ||
	       type == CTL_MSG_SLICE_UNLOAD;
}

/* A coordinate's text: 1..CTL_COORD_MAX bytes (its grammar is the node's to judge). */
static bool
coord_ok(const uint8_t *coord, size_t size)
{
	return size > 0 && span_ok(coord, size, CTL_COORD_MAX);
}

/* BENCH's parameters are within their limits. */
static bool
bench_params_ok(const struct ctl_bench_params *b)
{
	return b->inflight >= 1 && b->inflight <= CTL_BENCH_INFLIGHT_MAX && b->duration_ms >= 1 &&
	       b->duration_ms <= CTL_BENCH_DURATION_MS_MAX && b->value_size >= 1 &&
	       b->value_size <= CTL_BENCH_VALUE_MAX;
}

/* ---- Frame header ---- */

int
ctl_frame_header_decode(const uint8_t *buf, size_t size, size_t frame_max,
			struct ctl_frame_header *out)
{
	uint8_t magic[4];
	uint16_t reserved;

	ASSERT(buf != NULL || size == 0);
	ASSERT(out != NULL);
	ASSERT(frame_max >= CTL_FRAME_HEADER_SIZE);
	memset(out, 0, sizeof(*out));
	/* Compare the magic on whatever prefix is there, so garbage fails on its first bytes. */
	base_store_le32(magic, CTL_MAGIC);
	if (size > 0 && memcmp(buf, magic, base_min_size(size, sizeof(magic))) != 0) {
		return -EBADMSG;
	}
	if (size <= 4) {
		return -EAGAIN;
	}
	out->version = buf[4];
	if (out->version != CTL_PROTO_VERSION) {
		return -BASE_ERR_VERSION;
	}
	if (size < CTL_FRAME_HEADER_SIZE) {
		return -EAGAIN;
	}
	out->type = buf[5];
	reserved = base_load_le16(buf + 6);
	out->request_id = base_load_le64(buf + 8);
	out->body_size = base_load_le32(buf + HEADER_BODY_SIZE_OFFSET);
	if (reserved != 0) {
		return -EBADMSG;
	}
	if ((size_t)out->body_size > frame_max - CTL_FRAME_HEADER_SIZE) {
		return -BASE_ERR_TOO_LONG;
	}
	return 0;
}

int
ctl_frame_decode(const uint8_t *buf, size_t size, size_t frame_max, struct ctl_frame *out)
{
	size_t total;
	int rc;

	ASSERT(out != NULL);
	memset(out, 0, sizeof(*out));
	rc = ctl_frame_header_decode(buf, size, frame_max, &out->header);
	if (rc == -EAGAIN) {
		return -BASE_ERR_TRUNCATED;
	}
	if (rc != 0) {
		return rc;
	}
	total = CTL_FRAME_HEADER_SIZE + (size_t)out->header.body_size;
	if (size < total) {
		return -BASE_ERR_TRUNCATED;
	}
	if (size > total) {
		return -BASE_ERR_TRAILING;
	}
	out->body = buf + CTL_FRAME_HEADER_SIZE;
	out->size = total;
	return 0;
}

/* Writes a header whose body_size frame_end() patches. */
static void
frame_begin(struct base_writer *w, uint8_t type, uint64_t request_id)
{
	base_writer_u32(w, CTL_MAGIC);
	base_writer_u8(w, CTL_PROTO_VERSION);
	base_writer_u8(w, type);
	base_writer_u16(w, 0);
	base_writer_u64(w, request_id);
	base_writer_u32(w, 0);
}

static int
frame_end(const struct base_writer *w, uint8_t *buf, size_t frame_max, size_t *out_size)
{
	size_t size = base_writer_size(w);
	int rc = base_writer_status(w);

	if (rc != 0) {
		return rc;
	}
	/* The check functions bound every field, so this is a programmer error if it fires. */
	ASSERT(size >= CTL_FRAME_HEADER_SIZE);
	ASSERT(size <= frame_max);
	base_store_le32(buf + HEADER_BODY_SIZE_OFFSET, (uint32_t)(size - CTL_FRAME_HEADER_SIZE));
	*out_size = size;
	return 0;
}

/* ---- Requests ---- */

static int
request_check(const struct ctl_request *req)
{
	switch (req->type) {
	case CTL_MSG_STATUS:
	case CTL_MSG_NODES:
		return 0;
	case CTL_MSG_KV_PUT:
		if (!span_ok(req->value, req->value_size, CTL_VALUE_MAX)) {
			return -EINVAL;
		}
		return key_ok(req->key, req->key_size) ? 0 : -EINVAL;
	case CTL_MSG_KV_GET:
		if (!is_wire_consistency((unsigned)req->consistency)) {
			return -EINVAL;
		}
		return key_ok(req->key, req->key_size) ? 0 : -EINVAL;
	case CTL_MSG_KV_RM:
		return key_ok(req->key, req->key_size) ? 0 : -EINVAL;
	case CTL_MSG_KV_LIST:
		if (req->limit == 0 || req->limit > CTL_LIST_MAX ||
		    !is_wire_consistency((unsigned)req->consistency)) {
			return -EINVAL;
		}
		if (!span_ok(req->after, req->after_size, CTL_KEY_MAX)) {
			return -EINVAL;
		}
		return span_ok(req->key, req->key_size, CTL_KEY_MAX) ? 0 : -EINVAL;
	case CTL_MSG_BENCH:
		return bench_params_ok(&req->bench) ? 0 : -EINVAL;
	case CTL_MSG_SLICE_CALL:
		if (!span_ok(req->method, req->method_size, CTL_METHOD_MAX) ||
		    !span_ok(req->value, req->value_size, CTL_SLICE_DATA_MAX)) {
			return -EINVAL;
		}
		return coord_ok(req->key, req->key_size) ? 0 : -EINVAL;
	case CTL_MSG_SLICE_LOAD:
	case CTL_MSG_SLICE_UNLOAD:
		return coord_ok(req->key, req->key_size) ? 0 : -EINVAL;
	case CTL_MSG_SLICE_LIST:
		return 0;
	default:
		return -EINVAL;
	}
}

/* The slice requests' bodies (nothing for the other types). */
static void
request_write_slice(struct base_writer *w, const struct ctl_request *req)
{
	if (has_coord(req->type)) {
		base_writer_blob(w, req->key, req->key_size);
	}
	if (req->type == CTL_MSG_SLICE_LOAD) {
		base_writer_u32(w, req->worker);
	}
	if (req->type == CTL_MSG_SLICE_CALL) {
		base_writer_blob(w, (const uint8_t *)req->method, req->method_size);
		base_writer_blob(w, req->value, req->value_size);
	}
}

/* The slice requests' bodies; checked by the caller once the reader is finished. */
static void
request_read_slice(struct base_reader *r, unsigned type, struct ctl_request *out)
{
	if (has_coord(type)) {
		base_reader_blob(r, &out->key, &out->key_size, CTL_COORD_MAX);
	}
	if (type == CTL_MSG_SLICE_LOAD) {
		base_reader_u32(r, &out->worker);
	}
	if (type == CTL_MSG_SLICE_CALL) {
		const uint8_t *method = NULL;

		base_reader_blob(r, &method, &out->method_size, CTL_METHOD_MAX);
		out->method = (const char *)method;
		base_reader_blob(r, &out->value, &out->value_size, CTL_SLICE_DATA_MAX);
	}
}

int
ctl_request_encode(const struct ctl_request *req, uint8_t *buf, size_t capacity, size_t *out_size)
{
	struct base_writer w;
	int rc;

	ASSERT(req != NULL);
	ASSERT(buf != NULL);
	ASSERT(out_size != NULL);
	rc = request_check(req);
	if (rc != 0) {
		return rc;
	}
	base_writer_init(&w, buf, capacity);
	frame_begin(&w, (uint8_t)req->type, req->request_id);
	if (has_key_blob(req->type)) {
		base_writer_blob(&w, req->key, req->key_size);
	}
	if (req->type == CTL_MSG_KV_PUT) {
		base_writer_blob(&w, req->value, req->value_size);
	}
	if (req->type == CTL_MSG_KV_LIST) {
		base_writer_blob(&w, req->after, req->after_size);
		base_writer_u32(&w, req->limit);
	}
	if (is_read(req->type)) {
		base_writer_u8(&w, (uint8_t)req->consistency);
	}
	if (req->type == CTL_MSG_BENCH) {
		base_writer_u32(&w, req->bench.inflight);
		base_writer_u32(&w, req->bench.duration_ms);
		base_writer_u32(&w, req->bench.value_size);
	}
	request_write_slice(&w, req);
	return frame_end(&w, buf, CTL_REQUEST_MAX, out_size);
}

int
ctl_request_decode(const struct ctl_frame *frame, struct ctl_request *out)
{
	struct base_reader r;
	unsigned type;
	int rc;

	ASSERT(frame != NULL);
	ASSERT(out != NULL);
	memset(out, 0, sizeof(*out));
	type = frame->header.type;
	if (!is_request_type(type)) {
		return -EBADMSG;
	}
	out->type = (enum ctl_msg_type)type;
	out->request_id = frame->header.request_id;
	base_reader_init(&r, frame->body, frame->header.body_size);
	if (has_key_blob(type)) {
		base_reader_blob(&r, &out->key, &out->key_size, CTL_KEY_MAX);
	}
	if (type == CTL_MSG_KV_PUT) {
		base_reader_blob(&r, &out->value, &out->value_size, CTL_VALUE_MAX);
	}
	if (type == CTL_MSG_KV_LIST) {
		base_reader_blob(&r, &out->after, &out->after_size, CTL_KEY_MAX);
		base_reader_u32(&r, &out->limit);
	}
	if (is_read(type)) {
		uint8_t consistency = 0;

		base_reader_u8(&r, &consistency);
		out->consistency = (enum ctl_consistency)consistency;
	}
	if (type == CTL_MSG_BENCH) {
		base_reader_u32(&r, &out->bench.inflight);
		base_reader_u32(&r, &out->bench.duration_ms);
		base_reader_u32(&r, &out->bench.value_size);
	}
	request_read_slice(&r, type, out);
	rc = base_reader_finish(&r);
	if (rc != 0) {
		return rc;
	}
	if (type == CTL_MSG_KV_LIST && (out->limit == 0 || out->limit > CTL_LIST_MAX)) {
		return -EBADMSG;
	}
	if (is_read(type) && !is_wire_consistency((unsigned)out->consistency)) {
		return -EBADMSG;
	}
	if (has_key(type) && out->key_size == 0) {
		return -EBADMSG;
	}
	if (type == CTL_MSG_BENCH && !bench_params_ok(&out->bench)) {
		return -EBADMSG;
	}
	if (has_coord(type) && out->key_size == 0) {
		return -EBADMSG;
	}
	return 0;
}

/* ---- Responses: checks ---- */

static int
check_status_info(const struct ctl_status_info *info)
{
	if (info->peer_count > CTL_PEERS_MAX) {
		return -EINVAL;
	}
	if (!info->has_leader && info->leader_id != 0) {
		return -EINVAL;
	}
	if (info->has_counters && !is_wire_transport((unsigned)info->transport)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < info->peer_count; i++) {
		if ((unsigned)info->peers[i].state >= CTL_PEER_STATE_COUNT) {
			return -EINVAL;
		}
	}
	return info->worker_count <= CTL_WORKERS_MAX ? 0 : -EINVAL;
}

static int
check_slices(const struct ctl_response *resp)
{
	if (resp->slice_count > CTL_SLICES_MAX ||
	    (resp->type == CTL_MSG_SLICE_LOAD && resp->slice_count != 1)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < resp->slice_count; i++) {
		const struct ctl_slice_info *sl = &resp->slices[i];

		if (!coord_ok((const uint8_t *)sl->coord, sl->coord_size) ||
		    (unsigned)sl->state >= CTL_SLICE_STATE_COUNT) {
			return -EINVAL;
		}
	}
	return 0;
}

static int
check_nodes(const struct ctl_response *resp)
{
	if (resp->node_count > CTL_NODES_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < resp->node_count; i++) {
		const struct ctl_node_info *n = &resp->nodes[i];

		if ((unsigned)n->state >= CTL_PEER_STATE_COUNT) {
			return -EINVAL;
		}
		if (!span_ok(n->address, n->address_size, CTL_ADDRESS_MAX)) {
			return -EINVAL;
		}
	}
	return 0;
}

/* A read label: a wire consistency, and no node or slot unless LOCAL. */
static bool
read_info_ok(const struct ctl_read_info *read)
{
	if (!is_wire_consistency((unsigned)read->consistency)) {
		return false;
	}
	return read->consistency == CTL_CONSISTENCY_LOCAL ||
	       (read->node_id == 0 && read->applied_slot == 0);
}

/* Entry i's key sorts after entry i - 1's: the client's cursor then always moves forward. */
static bool
entry_ascends(const struct ctl_response *resp, size_t i)
{
	const struct ctl_kv_entry *prev = &resp->entries[i - 1];
	const struct ctl_kv_entry *e = &resp->entries[i];

	return key_order(prev->key, prev->key_size, e->key, e->key_size) < 0;
}

static int
check_entries(const struct ctl_response *resp)
{
	if (resp->entry_count > CTL_LIST_MAX || (resp->has_more && resp->entry_count == 0)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < resp->entry_count; i++) {
		const struct ctl_kv_entry *e = &resp->entries[i];

		if (e->key_size == 0 || !span_ok(e->key, e->key_size, CTL_KEY_MAX)) {
			return -EINVAL;
		}
		if (i > 0 && !entry_ascends(resp, i)) {
			return -EINVAL;
		}
	}
	return 0;
}

/* At most CTL_BENCH_BUCKETS_MAX buckets, values strictly increasing, counts >= 1. */
static bool
bench_buckets_ok(const struct ctl_bench_result *b)
{
	if (b->bucket_count > CTL_BENCH_BUCKETS_MAX) {
		return false;
	}
	for (size_t i = 0; i < b->bucket_count; i++) {
		if (b->buckets[i].count == 0) {
			return false;
		}
		if (i > 0 && b->buckets[i].value_ns <= b->buckets[i - 1].value_ns) {
			return false;
		}
	}
	return true;
}

static int
response_check(const struct ctl_response *resp)
{
	if ((unsigned)resp->type >= CTL_MSG_TYPE_COUNT ||
	    (unsigned)resp->status >= CTL_STATUS_COUNT) {
		return -EINVAL;
	}
	if (resp->status != CTL_STATUS_OK) {
		return span_ok(resp->message, resp->message_size, CTL_MESSAGE_MAX) ? 0 : -EINVAL;
	}
	switch (resp->type) {
	case CTL_MSG_STATUS:
		return check_status_info(&resp->info);
	case CTL_MSG_NODES:
		return check_nodes(resp);
	case CTL_MSG_KV_GET:
		if (!read_info_ok(&resp->read)) {
			return -EINVAL;
		}
		return span_ok(resp->value, resp->value_size, CTL_GET_VALUE_MAX) ? 0 : -EINVAL;
	case CTL_MSG_KV_LIST:
		return read_info_ok(&resp->read) ? check_entries(resp) : -EINVAL;
	case CTL_MSG_KV_PUT:
	case CTL_MSG_KV_RM:
		return 0;
	case CTL_MSG_BENCH:
		return bench_buckets_ok(&resp->bench) ? 0 : -EINVAL;
	case CTL_MSG_SLICE_LOAD:
	case CTL_MSG_SLICE_LIST:
		return check_slices(resp);
	case CTL_MSG_SLICE_CALL:
		return span_ok(resp->value, resp->value_size, CTL_SLICE_DATA_MAX) ? 0 : -EINVAL;
	case CTL_MSG_SLICE_UNLOAD:
		return 0;
	default:
		/* CTL_MSG_NONE answers only what could not be identified: never OK. */
		return -EINVAL;
	}
}

/* ---- Responses: encoding ---- */

/* In the order of struct ctl_frame_counters (the wire order). */
static void
write_counters(struct base_writer *w, const struct ctl_frame_counters *c)
{
	base_writer_u64(w, c->garbage);
	base_writer_u64(w, c->oversize);
	base_writer_u64(w, c->forged);
	base_writer_u64(w, c->unauthenticated);
	base_writer_u64(w, c->replayed);
	base_writer_u64(w, c->stale);
	base_writer_u64(w, c->foreign);
	base_writer_u64(w, c->unknown_sender);
	base_writer_u64(w, c->bad_frames);
	base_writer_u64(w, c->decode_errors);
	base_writer_u64(w, c->rabia_foreign);
	base_writer_u64(w, c->violations);
}

static void
write_status_info(struct base_writer *w, const struct ctl_status_info *info)
{
	base_writer_u32(w, info->node_id);
	base_writer_u64(w, info->cluster_id);
	base_writer_u8(w, info->has_leader ? 1 : 0);
	base_writer_u32(w, info->leader_id);
	base_writer_u64(w, info->term);
	base_writer_u64(w, info->applied_slot);
	base_writer_u16(w, (uint16_t)info->peer_count);
	for (size_t i = 0; i < info->peer_count; i++) {
		base_writer_u32(w, info->peers[i].node_id);
		base_writer_u8(w, (uint8_t)info->peers[i].state);
		base_writer_u64(w, info->peers[i].last_heard_ms);
	}
	base_writer_u8(w, info->has_counters ? 1 : 0);
	if (info->has_counters) {
		base_writer_u8(w, (uint8_t)info->transport);
		write_counters(w, &info->counters);
	}
	base_writer_u16(w, (uint16_t)info->worker_count);
	for (size_t i = 0; i < info->worker_count; i++) {
		const struct ctl_worker_info *wk = &info->workers[i];

		base_writer_u32(w, wk->cpu);
		base_writer_u64(w, wk->messages_in);
		base_writer_u64(w, wk->messages_out);
		base_writer_u64(w, wk->ring_full);
		base_writer_u32(w, wk->slice_count);
	}
}

static void
write_slice(struct base_writer *w, const struct ctl_slice_info *sl)
{
	base_writer_blob(w, (const uint8_t *)sl->coord, sl->coord_size);
	base_writer_u32(w, sl->worker);
	base_writer_u32(w, sl->instance_id);
	base_writer_u8(w, (uint8_t)sl->state);
}

static void
write_nodes(struct base_writer *w, const struct ctl_response *resp)
{
	base_writer_u16(w, (uint16_t)resp->node_count);
	for (size_t i = 0; i < resp->node_count; i++) {
		const struct ctl_node_info *n = &resp->nodes[i];
		unsigned flags =
			(n->is_self ? NODE_FLAG_SELF : 0) | (n->is_leader ? NODE_FLAG_LEADER : 0);

		base_writer_u32(w, n->node_id);
		base_writer_u8(w, (uint8_t)n->state);
		base_writer_u8(w, (uint8_t)flags);
		base_writer_blob(w, (const uint8_t *)n->address, n->address_size);
	}
}

static void
write_read_info(struct base_writer *w, const struct ctl_read_info *read)
{
	base_writer_u8(w, (uint8_t)read->consistency);
	if (read->consistency == CTL_CONSISTENCY_LOCAL) {
		base_writer_u32(w, read->node_id);
		base_writer_u64(w, read->applied_slot);
	}
}

static void
write_entries(struct base_writer *w, const struct ctl_response *resp)
{
	write_read_info(w, &resp->read);
	base_writer_u8(w, resp->has_more ? 1 : 0);
	base_writer_u32(w, (uint32_t)resp->entry_count);
	for (size_t i = 0; i < resp->entry_count; i++) {
		const struct ctl_kv_entry *e = &resp->entries[i];

		base_writer_blob(w, e->key, e->key_size);
		base_writer_u64(w, e->mod_index);
		base_writer_u32(w, e->value_size);
	}
}

static void
write_bench(struct base_writer *w, const struct ctl_bench_result *b)
{
	base_writer_u64(w, b->ops);
	base_writer_u64(w, b->elapsed_ns);
	base_writer_u64(w, b->errors);
	base_writer_u64(w, b->lost);
	base_writer_u64(w, b->min_ns);
	base_writer_u64(w, b->max_ns);
	base_writer_u32(w, (uint32_t)b->bucket_count);
	for (size_t i = 0; i < b->bucket_count; i++) {
		base_writer_u64(w, b->buckets[i].value_ns);
		base_writer_u64(w, b->buckets[i].count);
	}
}

static void
write_payload(struct base_writer *w, const struct ctl_response *resp)
{
	switch (resp->type) {
	case CTL_MSG_STATUS:
		write_status_info(w, &resp->info);
		break;
	case CTL_MSG_NODES:
		write_nodes(w, resp);
		break;
	case CTL_MSG_KV_PUT:
	case CTL_MSG_KV_RM:
		base_writer_u64(w, resp->mod_index);
		break;
	case CTL_MSG_KV_GET:
		write_read_info(w, &resp->read);
		base_writer_u64(w, resp->mod_index);
		base_writer_blob(w, resp->value, resp->value_size);
		break;
	case CTL_MSG_KV_LIST:
		write_entries(w, resp);
		break;
	case CTL_MSG_BENCH:
		write_bench(w, &resp->bench);
		break;
	case CTL_MSG_SLICE_LOAD:
		write_slice(w, &resp->slices[0]);
		break;
	case CTL_MSG_SLICE_LIST:
		base_writer_u16(w, (uint16_t)resp->slice_count);
		for (size_t i = 0; i < resp->slice_count; i++) {
			write_slice(w, &resp->slices[i]);
		}
		break;
	case CTL_MSG_SLICE_CALL:
		base_writer_blob(w, resp->value, resp->value_size);
		break;
	case CTL_MSG_SLICE_UNLOAD:
		break;
	default:
		PANIC("response_check let type %d through", (int)resp->type);
	}
}

int
ctl_response_encode(const struct ctl_response *resp, uint8_t *buf, size_t capacity,
		    size_t *out_size)
{
	struct base_writer w;
	int rc;

	ASSERT(resp != NULL);
	ASSERT(buf != NULL);
	ASSERT(out_size != NULL);
	rc = response_check(resp);
	if (rc != 0) {
		return rc;
	}
	base_writer_init(&w, buf, capacity);
	frame_begin(&w, (uint8_t)(CTL_MSG_RESPONSE | (unsigned)resp->type), resp->request_id);
	base_writer_u8(&w, (uint8_t)resp->status);
	if (resp->status != CTL_STATUS_OK) {
		base_writer_blob(&w, (const uint8_t *)resp->message, resp->message_size);
	} else {
		write_payload(&w, resp);
	}
	return frame_end(&w, buf, CTL_RESPONSE_MAX, out_size);
}

/* ---- Responses: decoding ---- */

/* Reads a canonical boolean (0 or 1); other bytes are -EBADMSG. */
static int
read_bool(struct base_reader *r, bool *out)
{
	uint8_t v = 0;

	base_reader_u8(r, &v);
	if (v > 1) {
		return -EBADMSG;
	}
	*out = v == 1;
	return 0;
}

/* Reads a peer state byte; unknown values are -EBADMSG. */
static int
read_peer_state(struct base_reader *r, enum ctl_peer_state *out)
{
	uint8_t v = 0;

	base_reader_u8(r, &v);
	if (v >= CTL_PEER_STATE_COUNT) {
		return -EBADMSG;
	}
	*out = (enum ctl_peer_state)v;
	return 0;
}

static void
read_counters(struct base_reader *r, struct ctl_frame_counters *c)
{
	base_reader_u64(r, &c->garbage);
	base_reader_u64(r, &c->oversize);
	base_reader_u64(r, &c->forged);
	base_reader_u64(r, &c->unauthenticated);
	base_reader_u64(r, &c->replayed);
	base_reader_u64(r, &c->stale);
	base_reader_u64(r, &c->foreign);
	base_reader_u64(r, &c->unknown_sender);
	base_reader_u64(r, &c->bad_frames);
	base_reader_u64(r, &c->decode_errors);
	base_reader_u64(r, &c->rabia_foreign);
	base_reader_u64(r, &c->violations);
}

/* The optional counters after the peers: a flag, then the transport and the counters. */
static int
read_status_counters(struct base_reader *r, struct ctl_status_info *info)
{
	uint8_t transport = 0;

	if (read_bool(r, &info->has_counters) != 0) {
		return -EBADMSG;
	}
	if (!info->has_counters) {
		return 0;
	}
	if (base_reader_u8(r, &transport) != 0) {
		return r->err; /* a body cut short says so, not "bad message" */
	}
	if (!is_wire_transport(transport)) {
		return -EBADMSG;
	}
	info->transport = (enum ctl_transport)transport;
	read_counters(r, &info->counters);
	return 0;
}

static int
read_workers(struct base_reader *r, struct ctl_status_info *info)
{
	uint16_t count = 0;

	base_reader_u16(r, &count);
	if (count > CTL_WORKERS_MAX) {
		return -EBADMSG;
	}
	info->worker_count = count;
	for (size_t i = 0; i < count; i++) {
		struct ctl_worker_info *wk = &info->workers[i];

		base_reader_u32(r, &wk->cpu);
		base_reader_u64(r, &wk->messages_in);
		base_reader_u64(r, &wk->messages_out);
		base_reader_u64(r, &wk->ring_full);
		base_reader_u32(r, &wk->slice_count);
	}
	return 0;
}

static int
read_status_info(struct base_reader *r, struct ctl_status_info *info)
{
	uint16_t count = 0;
	int rc;

	base_reader_u32(r, &info->node_id);
	base_reader_u64(r, &info->cluster_id);
	if (read_bool(r, &info->has_leader) != 0) {
		return -EBADMSG;
	}
	base_reader_u32(r, &info->leader_id);
	if (!info->has_leader && info->leader_id != 0) {
		return -EBADMSG;
	}
	base_reader_u64(r, &info->term);
	base_reader_u64(r, &info->applied_slot);
	base_reader_u16(r, &count);
	if (count > CTL_PEERS_MAX) {
		return -EBADMSG;
	}
	info->peer_count = count;
	for (size_t i = 0; i < count; i++) {
		base_reader_u32(r, &info->peers[i].node_id);
		if (read_peer_state(r, &info->peers[i].state) != 0) {
			return -EBADMSG;
		}
		base_reader_u64(r, &info->peers[i].last_heard_ms);
	}
	rc = read_status_counters(r, info);
	if (rc != 0) {
		return rc;
	}
	return read_workers(r, info);
}

static int
read_node(struct base_reader *r, struct ctl_node_info *n)
{
	const uint8_t *address = NULL;
	uint8_t flags = 0;

	base_reader_u32(r, &n->node_id);
	if (read_peer_state(r, &n->state) != 0) {
		return -EBADMSG;
	}
	base_reader_u8(r, &flags);
	if ((flags & ~(NODE_FLAG_SELF | NODE_FLAG_LEADER)) != 0) {
		return -EBADMSG;
	}
	n->is_self = (flags & NODE_FLAG_SELF) != 0;
	n->is_leader = (flags & NODE_FLAG_LEADER) != 0;
	base_reader_blob(r, &address, &n->address_size, CTL_ADDRESS_MAX);
	n->address = (const char *)address;
	return 0;
}

static int
read_nodes(struct base_reader *r, struct ctl_response *out)
{
	uint16_t count = 0;

	base_reader_u16(r, &count);
	if (count > CTL_NODES_MAX) {
		return -EBADMSG;
	}
	out->node_count = count;
	for (size_t i = 0; i < count; i++) {
		if (read_node(r, &out->nodes[i]) != 0) {
			return -EBADMSG;
		}
	}
	return 0;
}

/* A read label; a body cut short is left to base_reader_finish, which says so. */
static int
read_read_info(struct base_reader *r, struct ctl_read_info *read)
{
	uint8_t consistency = 0;

	base_reader_u8(r, &consistency);
	if (r->err != 0) {
		return 0;
	}
	if (!is_wire_consistency(consistency)) {
		return -EBADMSG;
	}
	read->consistency = (enum ctl_consistency)consistency;
	if (read->consistency == CTL_CONSISTENCY_LOCAL) {
		base_reader_u32(r, &read->node_id);
		base_reader_u64(r, &read->applied_slot);
	}
	return 0;
}

static int
read_entries(struct base_reader *r, struct ctl_response *out)
{
	uint32_t count = 0;

	if (read_read_info(r, &out->read) != 0 || read_bool(r, &out->has_more) != 0) {
		return -EBADMSG;
	}
	base_reader_u32(r, &count);
	if (count > CTL_LIST_MAX || (r->err == 0 && out->has_more && count == 0)) {
		return -EBADMSG;
	}
	out->entry_count = count;
	for (size_t i = 0; i < count; i++) {
		struct ctl_kv_entry *e = &out->entries[i];

		base_reader_blob(r, &e->key, &e->key_size, CTL_KEY_MAX);
		base_reader_u64(r, &e->mod_index);
		base_reader_u32(r, &e->value_size);
		/* Judge a key only when the blob was actually read; truncation is the reader's. */
		if (r->err == 0 && (e->key_size == 0 || (i > 0 && !entry_ascends(out, i)))) {
			return -EBADMSG;
		}
	}
	return 0;
}

static int
read_bench(struct base_reader *r, struct ctl_bench_result *b)
{
	uint32_t count = 0;

	base_reader_u64(r, &b->ops);
	base_reader_u64(r, &b->elapsed_ns);
	base_reader_u64(r, &b->errors);
	base_reader_u64(r, &b->lost);
	base_reader_u64(r, &b->min_ns);
	base_reader_u64(r, &b->max_ns);
	base_reader_u32(r, &count);
	if (count > CTL_BENCH_BUCKETS_MAX) {
		return -EBADMSG;
	}
	b->bucket_count = count;
	for (size_t i = 0; i < count; i++) {
		base_reader_u64(r, &b->buckets[i].value_ns);
		base_reader_u64(r, &b->buckets[i].count);
	}
	/* Judge the order only on what was actually read; truncation is the reader's error. */
	if (r->err == 0 && !bench_buckets_ok(b)) {
		return -EBADMSG;
	}
	return 0;
}

/* One slice entry; a body cut short is left to base_reader_finish, which says so. */
static int
read_slice(struct base_reader *r, struct ctl_slice_info *sl)
{
	const uint8_t *coord = NULL;
	uint8_t state = 0;

	base_reader_blob(r, &coord, &sl->coord_size, CTL_COORD_MAX);
	sl->coord = (const char *)coord;
	base_reader_u32(r, &sl->worker);
	base_reader_u32(r, &sl->instance_id);
	base_reader_u8(r, &state);
	if (r->err != 0) {
		return 0;
	}
	if (sl->coord_size == 0 || state >= CTL_SLICE_STATE_COUNT) {
		return -EBADMSG;
	}
	sl->state = (enum ctl_slice_state)state;
	return 0;
}

static int
read_slices(struct base_reader *r, struct ctl_response *out)
{
	uint16_t count = 1;

	if (out->type == CTL_MSG_SLICE_LIST) {
		base_reader_u16(r, &count);
	}
	if (count > CTL_SLICES_MAX) {
		return -EBADMSG;
	}
	out->slice_count = count;
	for (size_t i = 0; i < count; i++) {
		if (read_slice(r, &out->slices[i]) != 0) {
			return -EBADMSG;
		}
	}
	return 0;
}

static int
read_payload(struct base_reader *r, struct ctl_response *out)
{
	switch (out->type) {
	case CTL_MSG_STATUS:
		return read_status_info(r, &out->info);
	case CTL_MSG_NODES:
		return read_nodes(r, out);
	case CTL_MSG_KV_PUT:
	case CTL_MSG_KV_RM:
		base_reader_u64(r, &out->mod_index);
		return 0;
	case CTL_MSG_KV_GET:
		if (read_read_info(r, &out->read) != 0) {
			return -EBADMSG;
		}
		base_reader_u64(r, &out->mod_index);
		base_reader_blob(r, &out->value, &out->value_size, CTL_GET_VALUE_MAX);
		return 0;
	case CTL_MSG_KV_LIST:
		return read_entries(r, out);
	case CTL_MSG_BENCH:
		return read_bench(r, &out->bench);
	case CTL_MSG_SLICE_LOAD:
	case CTL_MSG_SLICE_LIST:
		return read_slices(r, out);
	case CTL_MSG_SLICE_CALL:
		base_reader_blob(r, &out->value, &out->value_size, CTL_SLICE_DATA_MAX);
		return 0;
	case CTL_MSG_SLICE_UNLOAD:
		return 0;
	default:
		return -EBADMSG;
	}
}

int
ctl_response_decode(const struct ctl_frame *frame, struct ctl_response *out)
{
	struct base_reader r;
	unsigned type;
	uint8_t status = 0;
	int rc;

	ASSERT(frame != NULL);
	ASSERT(out != NULL);
	type = frame->header.type;
	if ((type & CTL_MSG_RESPONSE) == 0 ||
	    (type & ~(unsigned)CTL_MSG_RESPONSE) >= CTL_MSG_TYPE_COUNT) {
		return -EBADMSG;
	}
	ctl_response_reset(out, (enum ctl_msg_type)(type & ~(unsigned)CTL_MSG_RESPONSE),
			   frame->header.request_id);
	base_reader_init(&r, frame->body, frame->header.body_size);
	base_reader_u8(&r, &status);
	if (status >= CTL_STATUS_COUNT) {
		return -EBADMSG;
	}
	out->status = (enum ctl_status)status;
	if (out->status != CTL_STATUS_OK) {
		const uint8_t *message = NULL;

		base_reader_blob(&r, &message, &out->message_size, CTL_MESSAGE_MAX);
		out->message = (const char *)message;
	} else {
		rc = read_payload(&r, out);
		if (rc != 0) {
			return rc;
		}
	}
	return base_reader_finish(&r);
}

void
ctl_response_reset(struct ctl_response *resp, enum ctl_msg_type type, uint64_t request_id)
{
	ASSERT(resp != NULL);
	ASSERT((unsigned)type < CTL_MSG_TYPE_COUNT);
	/* Only the scalar parts: the arrays are read up to their counts, which are zero now. */
	memset(resp, 0, offsetof(struct ctl_response, info.peers));
	resp->node_count = 0;
	resp->mod_index = 0;
	resp->value = NULL;
	resp->value_size = 0;
	/* NONE: a read answer must be labelled before it can be encoded. */
	resp->read = (struct ctl_read_info){CTL_CONSISTENCY_NONE, 0, 0};
	resp->has_more = false;
	resp->entry_count = 0;
	resp->bench.ops = 0;
	resp->bench.elapsed_ns = 0;
	resp->bench.errors = 0;
	resp->bench.lost = 0;
	resp->bench.min_ns = 0;
	resp->bench.max_ns = 0;
	resp->bench.bucket_count = 0;
	resp->info.worker_count = 0;
	resp->slice_count = 0;
	resp->type = type;
	resp->request_id = request_id;
	resp->status = CTL_STATUS_OK;
}

void
ctl_response_error(struct ctl_response *resp, enum ctl_status status, const char *message)
{
	ASSERT(resp != NULL);
	ASSERT(status != CTL_STATUS_OK);
	ASSERT(message != NULL);
	resp->status = status;
	resp->message = message;
	resp->message_size = strnlen(message, CTL_MESSAGE_MAX);
}

/* ---- Stream framing ---- */

void
ctl_stream_init(struct ctl_stream *s, uint8_t *buf, size_t capacity)
{
	ASSERT(s != NULL);
	ASSERT(buf != NULL);
	ASSERT(capacity >= CTL_FRAME_HEADER_SIZE);
	s->buf = buf;
	s->capacity = capacity;
	s->used = 0;
}

uint8_t *
ctl_stream_space(struct ctl_stream *s, size_t *space)
{
	ASSERT(s != NULL);
	ASSERT(s->used <= s->capacity);
	*space = s->capacity - s->used;
	return s->buf + s->used;
}

void
ctl_stream_commit(struct ctl_stream *s, size_t n)
{
	ASSERT(s != NULL);
	ASSERT(n <= s->capacity - s->used);
	s->used += n;
}

int
ctl_stream_next(const struct ctl_stream *s, struct ctl_frame *out)
{
	size_t total;
	int rc;

	ASSERT(s != NULL);
	ASSERT(out != NULL);
	memset(out, 0, sizeof(*out));
	rc = ctl_frame_header_decode(s->buf, s->used, s->capacity, &out->header);
	if (rc == -EAGAIN) {
		return 0;
	}
	if (rc != 0) {
		return rc;
	}
	total = CTL_FRAME_HEADER_SIZE + (size_t)out->header.body_size;
	ASSERT(total <= s->capacity);
	if (s->used < total) {
		return 0;
	}
	out->body = s->buf + CTL_FRAME_HEADER_SIZE;
	out->size = total;
	return 1;
}

void
ctl_stream_consume(struct ctl_stream *s, size_t frame_size)
{
	ASSERT(s != NULL);
	ASSERT(frame_size <= s->used);
	memmove(s->buf, s->buf + frame_size, s->used - frame_size);
	s->used -= frame_size;
}

size_t
ctl_stream_buffered(const struct ctl_stream *s)
{
	ASSERT(s != NULL);
	return s->used;
}

void
ctl_stream_reset(struct ctl_stream *s)
{
	ASSERT(s != NULL);
	s->used = 0;
}
