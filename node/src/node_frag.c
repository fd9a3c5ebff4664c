/* SPDX-License-Identifier: Apache-2.0 */
#include "node/node_frag.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/panic.h"

/* One sender's datagram being joined. */
struct frag_slot {
	uint32_t node_id;
	bool is_active;
	uint16_t msg_id;
	uint16_t total;
	uint8_t count;
	uint64_t have_mask; /* bit i: fragment i is in buf */
	uint8_t buf[ENV_MSG_MAX];
};

struct node_frag {
	struct env_ops ops; /* ops.ctx == this */
	const struct env_ops *inner;
	size_t inner_max;
	uint16_t next_id;
	size_t slot_count;
	struct frag_slot *slots;
	struct node_frag_stats stats;
	uint8_t tx[ENV_MSG_MAX];
	uint8_t rx[ENV_MSG_MAX];
};

struct frag_header {
	uint16_t msg_id;
	uint16_t total;
	uint8_t index;
	uint8_t count;
};

/* The piece every fragment but the last carries, and fragment index's length. */
static size_t
frag_piece(size_t total, size_t count)
{
	return (total + count - 1) / count;
}

static size_t
frag_length(size_t total, size_t count, size_t index)
{
	size_t offset = index * frag_piece(total, count);

	return offset >= total ? 0 : base_min_size(frag_piece(total, count), total - offset);
}

/* ---- send ---- */

static int
frag_send_one(struct node_frag *f, uint32_t peer_id, const struct frag_header *h,
	      const uint8_t *data)
{
	size_t offset = (size_t)h->index * frag_piece(h->total, h->count);
	size_t n = frag_length(h->total, h->count, h->index);
	int rc;

	ASSERT(NODE_FRAG_HEADER_SIZE + n <= f->inner_max);
	base_store_le16(&f->tx[0], h->msg_id);
	base_store_le16(&f->tx[2], h->total);
	f->tx[4] = h->index;
	f->tx[5] = h->count;
	if (n > 0) {
		memcpy(&f->tx[NODE_FRAG_HEADER_SIZE], data + offset, n);
	}
	rc = f->inner->send(f->inner->ctx, peer_id, f->tx, NODE_FRAG_HEADER_SIZE + n);
	if (rc == 0) {
		f->stats.fragments_sent++;
	}
	return rc;
}

static int
frag_send(void *ctx, uint32_t peer_id, const uint8_t *data, size_t size)
{
	struct node_frag *f = ctx;
	size_t room = f->inner_max - NODE_FRAG_HEADER_SIZE;
	struct frag_header h;

	ASSERT(f != NULL && (data != NULL || size == 0));
	if (size > ENV_MSG_MAX) {
		return -EMSGSIZE;
	}
	h.msg_id = f->next_id++;
	h.total = (uint16_t)size;
	h.count = (uint8_t)(size == 0 ? 1 : (size + room - 1) / room);
	ASSERT(h.count >= 1 && h.count <= NODE_FRAG_COUNT_MAX); /* inner_max >= INNER_MIN */
	for (h.index = 0; h.index < h.count; h.index++) {
		int rc = frag_send_one(f, peer_id, &h, data);

		if (rc != 0) {
			return rc; /* the rest would be useless: the receiver drops the datagram */
		}
	}
	if (h.count == 1) {
		f->stats.sent_count++;
	} else {
		f->stats.sent_split_count++;
	}
	return 0;
}

/* ---- recv ---- */

static struct frag_slot *
slot_find(struct node_frag *f, uint32_t node_id)
{
	for (size_t i = 0; i < f->slot_count; i++) {
		if (f->slots[i].node_id == node_id) {
			return &f->slots[i];
		}
	}
	return NULL;
}

/* Decodes and checks an inner datagram's header and length; false for anything else. */
static bool
frag_decode(const uint8_t *d, size_t size, struct frag_header *h)
{
	if (size < NODE_FRAG_HEADER_SIZE) {
		return false;
	}
	h->msg_id = base_load_le16(&d[0]);
	h->total = base_load_le16(&d[2]);
	h->index = d[4];
	h->count = d[5];
	if (h->count == 0 || h->count > NODE_FRAG_COUNT_MAX || h->index >= h->count ||
	    h->total > ENV_MSG_MAX) {
		return false;
	}
	return size - NODE_FRAG_HEADER_SIZE == frag_length(h->total, h->count, h->index);
}

/* Copies a complete datagram out to the caller; 0, or -EMSGSIZE (counted, dropped). */
static int
frag_deliver(struct node_frag *f, const uint8_t *data, size_t size, uint8_t *buf, size_t capacity,
	     size_t *out_size)
{
	if (size > capacity) {
		f->stats.too_big_count++;
		return -EMSGSIZE;
	}
	if (size > 0) {
		memcpy(buf, data, size);
	}
	*out_size = size;
	f->stats.delivered_count++;
	return 0;
}

/* Adds a fragment to its sender's slot; true when that completed the datagram. */
static bool
slot_add(struct node_frag *f, struct frag_slot *s, const struct frag_header *h,
	 const uint8_t *bytes)
{
	uint64_t all = h->count == 64 ? UINT64_MAX : ((uint64_t)1 << h->count) - 1;
	uint64_t bit = (uint64_t)1 << h->index;
	size_t n = frag_length(h->total, h->count, h->index);

	if (!s->is_active || s->msg_id != h->msg_id || s->total != h->total ||
	    s->count != h->count) {
		if (s->is_active) {
			f->stats.unfinished_count++;
		}
		s->is_active = true;
		s->msg_id = h->msg_id;
		s->total = h->total;
		s->count = h->count;
		s->have_mask = 0;
	}
	if ((s->have_mask & bit) != 0) {
		f->stats.duplicate_count++;
		return false;
	}
	if (n > 0) {
		memcpy(&s->buf[(size_t)h->index * frag_piece(h->total, h->count)], bytes, n);
	}
	s->have_mask |= bit;
	if (s->have_mask != all) {
		return false;
	}
	s->is_active = false;
	return true;
}

/* One inner datagram: 0 with a datagram for the caller, -EAGAIN when it completed none. */
static int
frag_take(struct node_frag *f, uint32_t from, size_t size, uint8_t *buf, size_t capacity,
	  size_t *out_size)
{
	struct frag_header h;
	struct frag_slot *s;
	const uint8_t *bytes = &f->rx[NODE_FRAG_HEADER_SIZE];

	if (!frag_decode(f->rx, size, &h)) {
		f->stats.bad_count++;
		return -EAGAIN;
	}
	s = slot_find(f, from);
	if (s == NULL) {
		f->stats.unknown_count++;
		return -EAGAIN;
	}
	if (h.count == 1) {
		return frag_deliver(f, bytes, h.total, buf, capacity, out_size);
	}
	if (!slot_add(f, s, &h, bytes)) {
		return -EAGAIN;
	}
	f->stats.joined_count++;
	return frag_deliver(f, s->buf, s->total, buf, capacity, out_size);
}

static int
frag_recv(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size)
{
	struct node_frag *f = ctx;

	ASSERT(f != NULL && peer_id != NULL && size != NULL);
	ASSERT(buf != NULL || capacity == 0);
	for (size_t i = 0; i < NODE_FRAG_RECV_SCAN_MAX; i++) {
		size_t got = 0;
		int rc = f->inner->recv(f->inner->ctx, peer_id, f->rx, sizeof(f->rx), &got);

		if (rc != 0) {
			return rc; /* -EAGAIN: nothing more; or the inner transport's error */
		}
		rc = frag_take(f, *peer_id, got, buf, capacity, size);
		if (rc != -EAGAIN) {
			return rc;
		}
	}
	return -EAGAIN;
}

/* ---- pass-through ---- */

static uint64_t
frag_now_ns(void *ctx)
{
	const struct node_frag *f = ctx;

	return f->inner->now_ns(f->inner->ctx);
}

static uint64_t
frag_seed(void *ctx)
{
	const struct node_frag *f = ctx;

	return f->inner->seed(f->inner->ctx);
}

static int
frag_storage_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	const struct node_frag *f = ctx;

	return f->inner->storage_put(f->inner->ctx, name, data, size, token);
}

static int
frag_storage_append(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	const struct node_frag *f = ctx;

	return f->inner->storage_append(f->inner->ctx, name, data, size, token);
}

static int
frag_storage_sync(void *ctx, const char *name, uint64_t token)
{
	const struct node_frag *f = ctx;

	return f->inner->storage_sync(f->inner->ctx, name, token);
}

static size_t
frag_storage_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	const struct node_frag *f = ctx;

	return f->inner->storage_poll(f->inner->ctx, out, capacity);
}

static int
frag_storage_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	const struct node_frag *f = ctx;

	return f->inner->storage_load(f->inner->ctx, name, buf, capacity, size);
}

/* ---- lifecycle ---- */

static int
frag_config_check(const struct node_frag_config *cfg)
{
	if (cfg->inner_max < NODE_FRAG_INNER_MIN || cfg->inner_max > ENV_MSG_MAX ||
	    cfg->peer_count > NODE_FRAG_PEERS_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (cfg->peer_ids[i] == cfg->peer_ids[j]) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

static void
frag_ops_fill(struct node_frag *f)
{
	const struct env_ops *in = f->inner;

	f->ops = (struct env_ops){
		.version = in->version,
		.size = sizeof(f->ops),
		.ctx = f,
		.now_ns = frag_now_ns,
		.seed = frag_seed,
		.send = frag_send,
		.recv = frag_recv,
		.storage_put = frag_storage_put,
		.storage_sync = frag_storage_sync,
		.storage_poll = frag_storage_poll,
		.storage_load = frag_storage_load,
		.log = in->log,
		.storage_append = in->version >= 2 ? frag_storage_append : NULL,
	};
}

int
node_frag_create(const struct node_frag_config *cfg, const struct env_ops *inner,
		 struct node_frag **out)
{
	struct node_frag *f;

	ASSERT(cfg != NULL && out != NULL);
	env_ops_assert_valid(inner);
	*out = NULL;
	if (frag_config_check(cfg) != 0) {
		return -EINVAL;
	}
	f = base_alloc(sizeof(*f));
	if (f == NULL) {
		return -ENOMEM;
	}
	memset(f, 0, sizeof(*f));
	f->slots = base_alloc(sizeof(f->slots[0]) * (cfg->peer_count > 0 ? cfg->peer_count : 1));
	if (f->slots == NULL) {
		base_free(f);
		return -ENOMEM;
	}
	f->slot_count = cfg->peer_count;
	for (size_t i = 0; i < cfg->peer_count; i++) {
		f->slots[i].node_id = cfg->peer_ids[i];
		f->slots[i].is_active = false;
	}
	f->inner = inner;
	f->inner_max = cfg->inner_max;
	/* From the clock: a restarted sender does not reuse the ids of its last life. */
	f->next_id = (uint16_t)(inner->now_ns(inner->ctx) >> 10);
	frag_ops_fill(f);
	env_ops_assert_valid(&f->ops);
	*out = f;
	return 0;
}

void
node_frag_destroy(struct node_frag *f)
{
	if (f == NULL) {
		return;
	}
	base_free(f->slots);
	base_free(f);
}

const struct env_ops *
node_frag_ops(const struct node_frag *f)
{
	ASSERT(f != NULL);
	return &f->ops;
}

void
node_frag_stats_get(const struct node_frag *f, struct node_frag_stats *out)
{
	ASSERT(f != NULL && out != NULL);
	*out = f->stats;
}

void
node_frag_dump(const struct node_frag *f, FILE *out)
{
	const struct node_frag_stats *s = &f->stats;

	ASSERT(f != NULL && out != NULL);
	fprintf(out,
		"frag: inner_max=%zu sent=%" PRIu64 " sent_split=%" PRIu64 " fragments=%" PRIu64
		" delivered=%" PRIu64 " joined=%" PRIu64 " unfinished=%" PRIu64
		" duplicates=%" PRIu64 " bad=%" PRIu64 " unknown=%" PRIu64 " too_big=%" PRIu64 "\n",
		f->inner_max, s->sent_count, s->sent_split_count, s->fragments_sent,
		s->delivered_count, s->joined_count, s->unfinished_count, s->duplicate_count,
		s->bad_count, s->unknown_count, s->too_big_count);
}
