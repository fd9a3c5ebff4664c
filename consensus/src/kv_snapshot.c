/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshots of struct kv_store: encode, verify, and the three-step restore (rabia.md R10 state
 * transfer). The format is in kv_store.h. Restore decodes untrusted bytes: restore_begin checks
 * the whole body against the store's limits before anything changes, so restore_next and commit
 * can treat the body as trusted (and assert on it).
 */
#include "consensus/kv_store.h"

#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "kv_store_int.h"

/* applied_index, entry_count, client_count. */
#define SNAP_BODY_HEAD_SIZE  16
/* Per entry beside key and value: two length prefixes and mod_index. */
#define SNAP_ENTRY_OVERHEAD  16
/* Per client beside its result: id, highest seq, last index, result length prefix. */
#define SNAP_CLIENT_OVERHEAD 28

struct snap_entry {
	const uint8_t *key;
	size_t key_size;
	uint64_t mod_index;
	const uint8_t *value;
	size_t value_size;
};

struct snap_client {
	uint64_t client_id;
	uint64_t highest_seq;
	uint64_t last_index;
	const uint8_t *result;
	size_t result_size;
};

size_t
kv_store_snapshot_size(const struct kv_store *s)
{
	ASSERT(s != NULL);
	return KV_SNAPSHOT_HEADER_SIZE + SNAP_BODY_HEAD_SIZE + s->key_count * SNAP_ENTRY_OVERHEAD +
	       s->data_size + s->client_count * SNAP_CLIENT_OVERHEAD + s->result_bytes;
}

static int
sort_by_client_id(const struct kv_store *s, uint32_t a, uint32_t b)
{
	uint64_t ia = s->clients[a].client_id;
	uint64_t ib = s->clients[b].client_id;

	if (ia != ib) {
		return ia < ib ? -1 : 1;
	}
	return 0;
}

static void
snap_write_entries(struct kv_store *s, struct base_writer *w)
{
	size_t n = kv_store_sorted_keys(s);

	for (size_t i = 0; i < n; i++) {
		const struct kv_entry *e = &s->entries[s->scratch[i]];

		base_writer_blob(w, kv_entry_key(s, e), e->key_size);
		base_writer_u64(w, e->mod_index);
		base_writer_blob(w, kv_entry_value(s, e), e->value_size);
	}
}

static void
snap_write_clients(struct kv_store *s, struct base_writer *w)
{
	for (uint32_t i = 0; i < s->client_count; i++) {
		s->scratch[i] = i;
	}
	kv_sort(s, s->scratch, s->client_count, sort_by_client_id);
	for (size_t i = 0; i < s->client_count; i++) {
		uint32_t slot = s->scratch[i];
		const struct kv_client *c = &s->clients[slot];

		base_writer_u64(w, c->client_id);
		base_writer_u64(w, c->highest_seq);
		base_writer_u64(w, c->last_index);
		base_writer_blob(w, kv_client_result(s, slot), c->result_size);
	}
}

int
kv_store_snapshot_encode(struct kv_store *s, uint8_t *buf, size_t capacity, size_t *out_size)
{
	size_t size = kv_store_snapshot_size(s);
	size_t body_size = size - KV_SNAPSHOT_HEADER_SIZE;
	struct base_writer w;
	int rc;

	ASSERT(buf != NULL || capacity == 0);
	ASSERT(out_size != NULL);
	ASSERT(!s->restore.is_open);
	if (capacity < size) {
		return -ENOBUFS;
	}
	base_writer_init(&w, buf + KV_SNAPSHOT_HEADER_SIZE, body_size);
	base_writer_u64(&w, s->applied_index);
	base_writer_u32(&w, (uint32_t)s->key_count);
	base_writer_u32(&w, (uint32_t)s->client_count);
	snap_write_entries(s, &w);
	snap_write_clients(s, &w);
	rc = base_writer_status(&w);
	ASSERT(rc == 0);
	ASSERT(base_writer_size(&w) == body_size);
	base_writer_init(&w, buf, KV_SNAPSHOT_HEADER_SIZE);
	base_writer_u32(&w, KV_SNAPSHOT_MAGIC);
	base_writer_u16(&w, KV_SNAPSHOT_VERSION);
	base_writer_u16(&w, 0);
	base_writer_u64(&w, body_size);
	base_writer_u64(&w, base_hash64(buf + KV_SNAPSHOT_HEADER_SIZE, body_size, 0));
	rc = base_writer_status(&w);
	ASSERT(rc == 0);
	*out_size = size;
	return 0;
}

int
kv_snapshot_verify(const uint8_t *snap, size_t size, const uint8_t **body, size_t *body_size)
{
	struct base_reader r;
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	uint64_t declared;
	uint64_t checksum;

	ASSERT(snap != NULL || size == 0);
	ASSERT(body != NULL && body_size != NULL);
	base_reader_init(&r, snap, size);
	base_reader_u32(&r, &magic);
	base_reader_u16(&r, &version);
	base_reader_u16(&r, &reserved);
	base_reader_u64(&r, &declared);
	base_reader_u64(&r, &checksum);
	if (r.err != 0) {
		return r.err;
	}
	if (magic != KV_SNAPSHOT_MAGIC || reserved != 0) {
		return -EBADMSG;
	}
	if (version != KV_SNAPSHOT_VERSION) {
		return -BASE_ERR_VERSION;
	}
	if (declared > base_reader_remaining(&r)) {
		return -BASE_ERR_TRUNCATED;
	}
	if (declared < base_reader_remaining(&r)) {
		return -BASE_ERR_TRAILING;
	}
	if (base_hash64(snap + KV_SNAPSHOT_HEADER_SIZE, (size_t)declared, 0) != checksum) {
		return -BASE_ERR_CHECKSUM;
	}
	*body = snap + KV_SNAPSHOT_HEADER_SIZE;
	*body_size = (size_t)declared;
	return 0;
}

/* --- body decoding -------------------------------------------------------------------------- */

static int
snap_entry_read(struct base_reader *r, const struct kv_store_config *cfg, struct snap_entry *e)
{
	base_reader_blob(r, &e->key, &e->key_size, cfg->max_key_size);
	base_reader_u64(r, &e->mod_index);
	base_reader_blob(r, &e->value, &e->value_size, cfg->max_value_size);
	return r->err;
}

static int
snap_client_read(struct base_reader *r, size_t result_max, struct snap_client *c)
{
	base_reader_u64(r, &c->client_id);
	base_reader_u64(r, &c->highest_seq);
	base_reader_u64(r, &c->last_index);
	base_reader_blob(r, &c->result, &c->result_size, result_max);
	return r->err;
}

static int
restore_check_entries(const struct kv_store *s, struct base_reader *r, const struct kv_restore *rs)
{
	struct snap_entry prev = {0};
	struct snap_entry e;
	size_t data = 0;

	for (size_t i = 0; i < rs->entry_count; i++) {
		int rc = snap_entry_read(r, &s->cfg, &e);

		if (rc != 0) {
			return rc;
		}
		if (e.key_size == 0 || e.mod_index == 0 || e.mod_index > rs->applied_index) {
			return -EBADMSG;
		}
		/* Strictly ascending: canonical, and no key twice. */
		if (i > 0 && kv_key_compare(prev.key, prev.key_size, e.key, e.key_size) >= 0) {
			return -EBADMSG;
		}
		data += e.key_size + e.value_size;
		if (data > s->cfg.data_budget_size) {
			return -BASE_ERR_FULL;
		}
		prev = e;
	}
	return 0;
}

static int
restore_check_clients(const struct kv_store *s, struct base_reader *r, const struct kv_restore *rs)
{
	struct snap_client c;
	struct kv_result res;
	uint64_t prev_id = 0;

	for (size_t i = 0; i < rs->client_count; i++) {
		int rc = snap_client_read(r, kv_store_result_size_max(s), &c);

		if (rc != 0) {
			return rc;
		}
		if (i > 0 && c.client_id <= prev_id) {
			return -EBADMSG;
		}
		if (c.last_index == 0 || c.last_index > rs->applied_index) {
			return -EBADMSG;
		}
		/* A cached result is replayed to clients verbatim: it must be a valid result. */
		if (kv_result_decode(c.result, c.result_size, &res) != 0) {
			return -EBADMSG;
		}
		prev_id = c.client_id;
	}
	return 0;
}

int
kv_store_restore_begin(struct kv_store *s, const uint8_t *body, size_t body_size)
{
	struct kv_restore rs;
	struct base_reader r;
	uint32_t entry_count;
	uint32_t client_count;
	int rc;

	ASSERT(s != NULL);
	ASSERT(body != NULL || body_size == 0);
	ASSERT(!s->restore.is_open);
	memset(&rs, 0, sizeof(rs));
	base_reader_init(&r, body, body_size);
	base_reader_u64(&r, &rs.applied_index);
	base_reader_u32(&r, &entry_count);
	base_reader_u32(&r, &client_count);
	if (r.err != 0) {
		return r.err;
	}
	if (entry_count > s->cfg.max_keys || client_count > s->cfg.max_clients) {
		return -BASE_ERR_FULL;
	}
	rs.entry_count = entry_count;
	rs.client_count = client_count;
	rc = restore_check_entries(s, &r, &rs);
	if (rc != 0) {
		return rc;
	}
	rs.clients_offset = r.pos;
	rc = restore_check_clients(s, &r, &rs);
	if (rc != 0) {
		return rc;
	}
	rc = base_reader_finish(&r);
	if (rc != 0) {
		return rc;
	}
	rs.is_open = 1;
	rs.body = body;
	rs.body_size = body_size;
	rs.old_count = kv_store_sorted_keys(s);
	rs.new_left = rs.entry_count;
	rs.new_offset = SNAP_BODY_HEAD_SIZE;
	s->restore = rs;
	return 0;
}

/* Reads the entry at *offset of the (checked) body and advances *offset. */
static void
restore_entry_at(const struct kv_store *s, size_t *offset, struct snap_entry *e)
{
	const struct kv_restore *rs = &s->restore;
	struct base_reader r;
	int rc;

	base_reader_init(&r, rs->body + *offset, rs->body_size - *offset);
	rc = snap_entry_read(&r, &s->cfg, e);
	ASSERT(rc == 0);
	*offset += r.pos;
}

static void
restore_fill_old(const struct kv_store *s, const struct kv_entry *old, struct kv_notification *n)
{
	n->key = kv_entry_key(s, old);
	n->key_size = old->key_size;
	n->has_old = 1;
	n->old_value = kv_entry_value(s, old);
	n->old_value_size = old->value_size;
	n->old_mod_index = old->mod_index;
}

/* Which comes next: the old key (< 0), the new entry (> 0), or both with one key (0). */
static int
restore_order(const struct kv_store *s, const struct kv_entry *old, const struct snap_entry *e)
{
	if (s->restore.new_left == 0) {
		return -1;
	}
	if (old == NULL) {
		return 1;
	}
	return kv_key_compare(kv_entry_key(s, old), old->key_size, e->key, e->key_size);
}

int
kv_store_restore_next(struct kv_store *s, struct kv_notification *out)
{
	struct kv_restore *rs = &s->restore;

	ASSERT(rs->is_open);
	ASSERT(out != NULL);
	while (rs->old_pos < rs->old_count || rs->new_left > 0) {
		const struct kv_entry *old = NULL;
		struct snap_entry e = {0};
		size_t next = rs->new_offset;
		int order;

		if (rs->old_pos < rs->old_count) {
			old = &s->entries[s->scratch[rs->old_pos]];
		}
		if (rs->new_left > 0) {
			restore_entry_at(s, &next, &e);
		}
		order = restore_order(s, old, &e);
		memset(out, 0, sizeof(*out));
		if (order <= 0) {
			rs->old_pos++;
			restore_fill_old(s, old, out);
		}
		if (order >= 0) {
			rs->new_offset = next;
			rs->new_left--;
			out->key = e.key;
			out->key_size = e.key_size;
		}
		if (order < 0) {
			out->type = KV_NOTIFY_REMOVE;
			out->log_index = rs->applied_index;
			return 1;
		}
		if (order == 0 && old->mod_index == e.mod_index &&
		    old->value_size == e.value_size &&
		    memcmp(kv_entry_value(s, old), e.value, e.value_size) == 0) {
			continue;
		}
		out->type = KV_NOTIFY_PUT;
		out->log_index = e.mod_index;
		out->value = e.value;
		out->value_size = e.value_size;
		return 1;
	}
	return 0;
}

/* Loads the next entry of the checked body (restore_begin accepted it, so it reads). */
static void
restore_load_entry(struct kv_store *s, struct base_reader *r)
{
	struct snap_entry e;
	int rc = snap_entry_read(r, &s->cfg, &e);

	ASSERT(rc == 0);
	kv_store_insert(s, e.key, e.key_size, e.value, e.value_size, e.mod_index);
}

static void
restore_load_client(struct kv_store *s, struct base_reader *r)
{
	struct snap_client c;
	int rc = snap_client_read(r, kv_store_result_size_max(s), &c);

	ASSERT(rc == 0);
	kv_client_insert(s, c.client_id, c.highest_seq, c.last_index, c.result, c.result_size);
}

void
kv_store_restore_commit(struct kv_store *s)
{
	struct kv_restore *rs = &s->restore;
	struct base_reader r;

	ASSERT(rs->is_open);
	kv_store_clear(s);
	base_reader_init(&r, rs->body + SNAP_BODY_HEAD_SIZE, rs->body_size - SNAP_BODY_HEAD_SIZE);
	for (size_t i = 0; i < rs->entry_count; i++) {
		restore_load_entry(s, &r);
	}
	ASSERT(SNAP_BODY_HEAD_SIZE + r.pos == rs->clients_offset);
	for (size_t i = 0; i < rs->client_count; i++) {
		restore_load_client(s, &r);
	}
	ASSERT(base_reader_finish(&r) == 0);
	kv_client_lru_rebuild(s);
	s->applied_index = rs->applied_index;
	memset(rs, 0, sizeof(*rs));
	DEBUG_ASSERT(kv_store_check(s) == 0);
}

void
kv_store_restore_abort(struct kv_store *s)
{
	ASSERT(s != NULL);
	ASSERT(s->restore.is_open);
	memset(&s->restore, 0, sizeof(s->restore));
}
