/* SPDX-License-Identifier: Apache-2.0 */
#include "consensus/kv_store.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "kv_store_int.h"

#define KV_STORE_MAGIC      0x6b7673746f726531ull /* "kvstore1" */
/*
 * Entry and client hashes whose input (header and data) fits in this many bytes are computed
 * in one shot over a stack copy. XXH3's streaming interface (reset, buffered updates, digest)
 * costs several times the hash of a short input, and it ran once or twice per applied write;
 * by XXH3's definition the one-shot hash of the concatenation is the same value, so digests do
 * not change (test_kv_store_digest_of_a_fixed_history_matches_the_recorded_vector).
 */
#define KV_HASH_ONESHOT_MAX 256u

/* Sizes below are computed in size_t; the configuration limits keep them far from overflow. */
static_assert(sizeof(size_t) >= 8, "kv_store assumes a 64-bit size_t");

/* Header of one notification record in the notify buffer; key, old value, value follow. */
struct kv_notify_record {
	uint64_t log_index;
	uint64_t old_mod_index;
	uint32_t key_size;
	uint32_t old_size;
	uint32_t value_size;
	uint8_t type;
	uint8_t has_old;
	uint8_t pad[2];
};
static_assert(sizeof(struct kv_notify_record) == 32, "notify record header is 32 bytes");

/* Offsets of every region inside the store's memory block. */
struct kv_layout {
	size_t entries;
	size_t index;
	size_t index_slots;
	size_t arena;
	size_t arena_capacity;
	size_t clients;
	size_t results;
	size_t result_capacity;
	size_t client_map;
	size_t scratch;
	size_t notify;
	size_t total;
};

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t
align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

static size_t
notify_record_size(size_t key_size, size_t old_size, size_t value_size)
{
	return align8(sizeof(struct kv_notify_record) + key_size + old_size + value_size);
}

size_t
kv_store_notify_size_min(const struct kv_store_config *cfg)
{
	ASSERT(cfg != NULL);
	ASSERT(cfg->max_key_size <= KV_CMD_KEY_MAX);
	ASSERT(cfg->max_value_size <= KV_CMD_VALUE_MAX);
	return KV_CMD_BATCH_MAX *
	       notify_record_size(cfg->max_key_size, cfg->max_value_size, cfg->max_value_size);
}

int
kv_store_config_check(const struct kv_store_config *cfg)
{
	if (cfg == NULL) {
		return -EINVAL;
	}
	if (cfg->max_keys == 0 || cfg->max_keys > KV_STORE_KEYS_LIMIT) {
		return -EINVAL;
	}
	if (cfg->max_key_size == 0 || cfg->max_key_size > KV_CMD_KEY_MAX) {
		return -EINVAL;
	}
	if (cfg->max_value_size > KV_CMD_VALUE_MAX) {
		return -EINVAL;
	}
	if (cfg->data_budget_size == 0 || cfg->data_budget_size > KV_STORE_DATA_BUDGET_LIMIT) {
		return -EINVAL;
	}
	if (cfg->max_clients == 0 || cfg->max_clients > KV_STORE_CLIENTS_LIMIT) {
		return -EINVAL;
	}
	if (cfg->notify_buffer_size != 0 &&
	    (cfg->notify_buffer_size < kv_store_notify_size_min(cfg) ||
	     cfg->notify_buffer_size > KV_STORE_NOTIFY_LIMIT)) {
		return -EINVAL;
	}
	return 0;
}

static void
kv_layout_compute(const struct kv_store_config *cfg, struct kv_layout *l)
{
	size_t off = align64(sizeof(struct kv_store));

	l->index_slots = 2;
	while (l->index_slots < 2 * cfg->max_keys) {
		l->index_slots *= 2;
	}
	l->entries = off;
	off += align64(cfg->max_keys * sizeof(struct kv_entry));
	l->index = off;
	off += align64(l->index_slots * sizeof(uint32_t));
	l->arena_capacity = cfg->data_budget_size + KV_ARENA_OVERHEAD * cfg->max_keys;
	l->arena = off;
	off += align64(l->arena_capacity);
	l->clients = off;
	off += align64(cfg->max_clients * sizeof(struct kv_client));
	l->result_capacity = align8(KV_RESULT_HEADER_SIZE + cfg->max_value_size);
	l->results = off;
	off += align64(cfg->max_clients * l->result_capacity);
	l->client_map = off;
	off += align64(base_map_size(cfg->max_clients, sizeof(uint64_t), sizeof(uint32_t)));
	l->scratch = off;
	off += align64(base_max_size(cfg->max_keys, cfg->max_clients) * sizeof(uint32_t));
	l->notify = off;
	off += align64(cfg->notify_buffer_size);
	l->total = off;
}

size_t
kv_store_size(const struct kv_store_config *cfg)
{
	struct kv_layout l;

	if (kv_store_config_check(cfg) != 0) {
		return 0;
	}
	kv_layout_compute(cfg, &l);
	return l.total;
}

static void
kv_store_assert(const struct kv_store *s)
{
	ASSERT(s != NULL);
	ASSERT(s->magic == KV_STORE_MAGIC);
}

void
kv_store_clear(struct kv_store *s)
{
	size_t n = s->cfg.max_keys;

	for (size_t i = 0; i < n; i++) {
		s->entries[i].block_offset = i + 1 < n ? i + 1 : KV_NONE;
	}
	s->entry_free = 0;
	s->key_count = 0;
	s->data_size = 0;
	s->entry_sum = (struct base_hash128){0, 0};
	memset(s->index, 0xff, (s->index_mask + 1) * sizeof(uint32_t));
	s->tree_root = KV_NONE;
	s->arena_tail = 0;
	s->client_count = 0;
	s->result_bytes = 0;
	s->lru_head = KV_NONE;
	s->lru_tail = KV_NONE;
	base_map_clear(s->client_map);
	s->client_sum = (struct base_hash128){0, 0};
}

int
kv_store_init(void *memory, size_t memory_size, const struct kv_store_config *cfg,
	      struct kv_store **out)
{
	struct kv_layout l;
	struct kv_store *s = memory;
	uint8_t *base = memory;

	ASSERT(memory != NULL);
	ASSERT(out != NULL);
	ASSERT(((uintptr_t)memory & 63) == 0);
	if (kv_store_config_check(cfg) != 0) {
		return -EINVAL;
	}
	kv_layout_compute(cfg, &l);
	ASSERT(memory_size >= l.total);
	memset(s, 0, sizeof(*s));
	s->magic = KV_STORE_MAGIC;
	s->cfg = *cfg;
	s->entries = (struct kv_entry *)(void *)(base + l.entries);
	s->index = (uint32_t *)(void *)(base + l.index);
	s->index_mask = l.index_slots - 1;
	s->arena = base + l.arena;
	s->arena_capacity = l.arena_capacity;
	s->clients = (struct kv_client *)(void *)(base + l.clients);
	s->results = base + l.results;
	s->result_capacity = l.result_capacity;
	s->client_map = base_map_init(base + l.client_map, cfg->max_clients, sizeof(uint64_t),
				      sizeof(uint32_t), cfg->index_seed);
	s->scratch = (uint32_t *)(void *)(base + l.scratch);
	s->notify = base + l.notify;
	s->notify_capacity = cfg->notify_buffer_size;
	kv_store_clear(s);
	*out = s;
	return 0;
}

void
kv_store_fini(struct kv_store *s)
{
	kv_store_assert(s);
	ASSERT(!s->restore.is_open);
	s->magic = 0;
}

int
kv_store_create(const struct kv_store_config *cfg, struct kv_store **out)
{
	size_t size = kv_store_size(cfg);
	uint8_t *raw;
	uint8_t *aligned;
	int rc;

	ASSERT(out != NULL);
	*out = NULL;
	if (size == 0) {
		return -EINVAL;
	}
	/* base_alloc only promises malloc alignment; the layout wants 64-byte regions. */
	raw = base_alloc(size + 63);
	if (raw == NULL) {
		return -ENOMEM;
	}
	aligned = raw + ((64 - ((uintptr_t)raw & 63)) & 63);
	rc = kv_store_init(aligned, size, cfg, out);
	ASSERT(rc == 0);
	(*out)->allocation = raw;
	return 0;
}

void
kv_store_destroy(struct kv_store *s)
{
	void *raw;

	if (s == NULL) {
		return;
	}
	raw = s->allocation;
	ASSERT(raw != NULL);
	kv_store_fini(s);
	base_free(raw);
}

/* --- digest terms --------------------------------------------------------------------------- */

static struct base_hash128
sum_add(struct base_hash128 a, struct base_hash128 b)
{
	struct base_hash128 r;

	r.low = a.low + b.low;
	r.high = a.high + b.high + (r.low < a.low ? 1u : 0u);
	return r;
}

static struct base_hash128
sum_sub(struct base_hash128 a, struct base_hash128 b)
{
	struct base_hash128 r;

	r.low = a.low - b.low;
	r.high = a.high - b.high - (a.low < b.low ? 1u : 0u);
	return r;
}

struct base_hash128
kv_entry_hash(const uint8_t *key, size_t key_size, const uint8_t *value, size_t value_size,
	      uint64_t mod_index)
{
	struct base_hash_stream st;
	uint8_t head[16];

	/* Lengths first, so (key, value) pairs that concatenate alike still hash apart. */
	base_store_le64(head, mod_index);
	base_store_le32(head + 8, (uint32_t)key_size);
	base_store_le32(head + 12, (uint32_t)value_size);
	if (key_size <= KV_HASH_ONESHOT_MAX - sizeof(head) &&
	    value_size <= KV_HASH_ONESHOT_MAX - sizeof(head) - key_size) {
		uint8_t all[KV_HASH_ONESHOT_MAX];

		memcpy(all, head, sizeof(head));
		memcpy(all + sizeof(head), key, key_size);
		if (value_size > 0) {
			memcpy(all + sizeof(head) + key_size, value, value_size);
		}
		return base_hash128(all, sizeof(head) + key_size + value_size);
	}
	base_hash128_stream_init(&st);
	base_hash128_stream_update(&st, head, sizeof(head));
	base_hash128_stream_update(&st, key, key_size);
	if (value_size > 0) {
		base_hash128_stream_update(&st, value, value_size);
	}
	return base_hash128_stream_final(&st);
}

struct base_hash128
kv_client_hash(const struct kv_client *c, const uint8_t *result)
{
	struct base_hash_stream st;
	uint8_t head[28];

	base_store_le64(head, c->client_id);
	base_store_le64(head + 8, c->highest_seq);
	base_store_le64(head + 16, c->last_index);
	base_store_le32(head + 24, c->result_size);
	if (c->result_size <= KV_HASH_ONESHOT_MAX - sizeof(head)) {
		uint8_t all[KV_HASH_ONESHOT_MAX];

		memcpy(all, head, sizeof(head));
		if (c->result_size > 0) {
			memcpy(all + sizeof(head), result, c->result_size);
		}
		return base_hash128(all, sizeof(head) + c->result_size);
	}
	base_hash128_stream_init(&st);
	base_hash128_stream_update(&st, head, sizeof(head));
	base_hash128_stream_update(&st, result, c->result_size);
	return base_hash128_stream_final(&st);
}

struct base_hash128
kv_store_digest(const struct kv_store *s)
{
	uint8_t buf[8 + 16 + 16 + 8 + 8 + 8];

	kv_store_assert(s);
	memcpy(buf, "KVDIGST1", 8);
	base_store_le64(buf + 8, s->entry_sum.low);
	base_store_le64(buf + 16, s->entry_sum.high);
	base_store_le64(buf + 24, s->client_sum.low);
	base_store_le64(buf + 32, s->client_sum.high);
	base_store_le64(buf + 40, (uint64_t)s->key_count);
	base_store_le64(buf + 48, (uint64_t)s->client_count);
	base_store_le64(buf + 56, s->applied_index);
	return base_hash128(buf, sizeof(buf));
}

/* --- key index ------------------------------------------------------------------------------ */

int
kv_key_compare(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
	int c = memcmp(a, b, base_min_size(a_size, b_size));

	if (c != 0) {
		return c < 0 ? -1 : 1;
	}
	if (a_size != b_size) {
		return a_size < b_size ? -1 : 1;
	}
	return 0;
}

static uint64_t
index_hash(const struct kv_store *s, const uint8_t *key, size_t key_size)
{
	return base_hash64(key, key_size, s->cfg.index_seed);
}

static int
entry_matches(const struct kv_store *s, const struct kv_entry *e, const uint8_t *key,
	      size_t key_size, uint64_t hash)
{
	return e->key_hash == hash && e->key_size == key_size &&
	       memcmp(kv_entry_key(s, e), key, key_size) == 0;
}

/* The slot holding key, or the empty slot where it would go (the table is never full). */
static size_t
index_find(const struct kv_store *s, const uint8_t *key, size_t key_size, uint64_t hash, int *found)
{
	size_t slot = (size_t)hash & s->index_mask;

	for (size_t probes = 0; probes <= s->index_mask; probes++) {
		uint32_t e = s->index[slot];

		if (e == KV_NONE) {
			*found = 0;
			return slot;
		}
		if (entry_matches(s, &s->entries[e], key, key_size, hash)) {
			*found = 1;
			return slot;
		}
		slot = (slot + 1) & s->index_mask;
	}
	PANIC("kv_store: index has no empty slot (keys=%zu)", s->key_count);
}

/* Backward-shift deletion: later entries of the probe run move into the hole, no tombstones. */
static void
index_delete(struct kv_store *s, size_t slot)
{
	size_t hole = slot;
	size_t j = slot;

	for (size_t probes = 0; probes <= s->index_mask; probes++) {
		uint32_t e;
		size_t home;

		j = (j + 1) & s->index_mask;
		e = s->index[j];
		if (e == KV_NONE) {
			break;
		}
		home = (size_t)s->entries[e].key_hash & s->index_mask;
		/* e may fill the hole when the hole lies on its probe path home..j. */
		if (((j - home) & s->index_mask) >= ((j - hole) & s->index_mask)) {
			s->index[hole] = e;
			hole = j;
		}
	}
	s->index[hole] = KV_NONE;
}

uint32_t
kv_store_lookup(const struct kv_store *s, const uint8_t *key, size_t key_size)
{
	int found;
	size_t slot = index_find(s, key, key_size, index_hash(s, key, key_size), &found);

	return found ? s->index[slot] : KV_NONE;
}

/* --- data arena ----------------------------------------------------------------------------- */

static void
block_header_read(const struct kv_store *s, size_t off, uint32_t *owner, uint32_t *size)
{
	memcpy(owner, s->arena + off, sizeof(*owner));
	memcpy(size, s->arena + off + 4, sizeof(*size));
}

/* Moves the block at rd down to *wr when it is live; returns its size. */
static size_t
arena_compact_block(struct kv_store *s, size_t rd, size_t *wr)
{
	uint32_t owner;
	uint32_t size;

	block_header_read(s, rd, &owner, &size);
	ASSERT(size >= KV_BLOCK_HEADER_SIZE && size % 8 == 0);
	ASSERT(size <= s->arena_tail - rd);
	if (owner == KV_NONE) {
		return size;
	}
	memmove(s->arena + *wr, s->arena + rd, size);
	s->entries[owner].block_offset = *wr;
	*wr += size;
	return size;
}

/* Slides live blocks down over dead ones; the relative order of live blocks is kept. */
static void
arena_compact(struct kv_store *s)
{
	size_t rd = 0;
	size_t wr = 0;

	while (rd < s->arena_tail) {
		rd += arena_compact_block(s, rd, &wr);
	}
	s->arena_tail = wr;
}

/* Places key and value of entry e in a new block. Fits after compaction: see kv_store_int.h. */
static void
arena_store(struct kv_store *s, uint32_t e, const uint8_t *key, const uint8_t *value)
{
	struct kv_entry *ent = &s->entries[e];
	size_t size = align8(KV_BLOCK_HEADER_SIZE + ent->key_size + ent->value_size);
	uint32_t size32 = (uint32_t)size;

	if (s->arena_capacity - s->arena_tail < size) {
		arena_compact(s);
	}
	ASSERT(s->arena_capacity - s->arena_tail >= size);
	ent->block_offset = s->arena_tail;
	memcpy(s->arena + s->arena_tail, &e, sizeof(e));
	memcpy(s->arena + s->arena_tail + 4, &size32, sizeof(size32));
	memcpy(s->arena + s->arena_tail + KV_BLOCK_HEADER_SIZE, key, ent->key_size);
	if (ent->value_size > 0) {
		memcpy(s->arena + s->arena_tail + KV_BLOCK_HEADER_SIZE + ent->key_size, value,
		       ent->value_size);
	}
	s->arena_tail += size;
}

static void
arena_free(struct kv_store *s, size_t off)
{
	uint32_t dead = KV_NONE;

	ASSERT(off < s->arena_tail);
	memcpy(s->arena + off, &dead, sizeof(dead));
}

/* --- entries -------------------------------------------------------------------------------- */

/* Writes value as e's content at mod_index (e's key_size is set, its old block is freed). */
static void
entry_write(struct kv_store *s, uint32_t e, const uint8_t *key, const uint8_t *value,
	    size_t value_size, uint64_t mod_index)
{
	struct kv_entry *ent = &s->entries[e];

	ent->value_size = (uint32_t)value_size;
	ent->mod_index = mod_index;
	arena_store(s, e, key, value);
	ent->hash = kv_entry_hash(key, ent->key_size, value, value_size, mod_index);
	s->entry_sum = sum_add(s->entry_sum, ent->hash);
	s->data_size += ent->key_size + value_size;
	ASSERT(s->data_size <= s->cfg.data_budget_size);
}

/* Takes e's content out of the sums and frees its block. */
static void
entry_unwrite(struct kv_store *s, uint32_t e)
{
	struct kv_entry *ent = &s->entries[e];

	s->entry_sum = sum_sub(s->entry_sum, ent->hash);
	ASSERT(s->data_size >= (size_t)ent->key_size + ent->value_size);
	s->data_size -= (size_t)ent->key_size + ent->value_size;
	arena_free(s, ent->block_offset);
}

static uint32_t
entry_insert_at(struct kv_store *s, size_t slot, uint64_t hash, const uint8_t *key, size_t key_size,
		const uint8_t *value, size_t value_size, uint64_t mod_index)
{
	uint32_t e = s->entry_free;

	ASSERT(e != KV_NONE);
	ASSERT(s->key_count < s->cfg.max_keys);
	s->entry_free = (uint32_t)s->entries[e].block_offset;
	s->entries[e].key_hash = hash;
	s->entries[e].key_size = (uint32_t)key_size;
	entry_write(s, e, key, value, value_size, mod_index);
	s->index[slot] = e;
	kv_tree_insert(s, e);
	s->key_count++;
	return e;
}

uint32_t
kv_store_insert(struct kv_store *s, const uint8_t *key, size_t key_size, const uint8_t *value,
		size_t value_size, uint64_t mod_index)
{
	uint64_t hash = index_hash(s, key, key_size);
	int found;
	size_t slot = index_find(s, key, key_size, hash, &found);

	ASSERT(!found);
	return entry_insert_at(s, slot, hash, key, key_size, value, value_size, mod_index);
}

/* --- notifications -------------------------------------------------------------------------- */

static size_t
notify_free(const struct kv_store *s)
{
	return s->notify_capacity - (s->notify_tail - s->notify_head);
}

/* Copies one change into the queue; the caller checked the room (kv_store_apply). */
static void
notify_push(struct kv_store *s, const struct kv_notification *n)
{
	struct kv_notify_record rec;
	size_t need;
	uint8_t *p;

	if (s->notify_capacity == 0) {
		return;
	}
	need = notify_record_size(n->key_size, n->old_value_size, n->value_size);
	if (s->notify_capacity - s->notify_tail < need) {
		memmove(s->notify, s->notify + s->notify_head, s->notify_tail - s->notify_head);
		s->notify_tail -= s->notify_head;
		s->notify_head = 0;
	}
	ASSERT(s->notify_capacity - s->notify_tail >= need);
	memset(&rec, 0, sizeof(rec));
	rec.log_index = n->log_index;
	rec.old_mod_index = n->old_mod_index;
	rec.key_size = (uint32_t)n->key_size;
	rec.old_size = (uint32_t)n->old_value_size;
	rec.value_size = (uint32_t)n->value_size;
	rec.type = (uint8_t)n->type;
	rec.has_old = (uint8_t)n->has_old;
	p = s->notify + s->notify_tail;
	memcpy(p, &rec, sizeof(rec));
	p += sizeof(rec);
	memcpy(p, n->key, n->key_size);
	if (n->old_value_size > 0) {
		memcpy(p + n->key_size, n->old_value, n->old_value_size);
	}
	if (n->value_size > 0) {
		memcpy(p + n->key_size + n->old_value_size, n->value, n->value_size);
	}
	s->notify_tail += need;
	s->notify_count++;
}

int
kv_store_notify_next(struct kv_store *s, struct kv_notification *out)
{
	struct kv_notify_record rec;
	const uint8_t *p;

	kv_store_assert(s);
	ASSERT(out != NULL);
	if (s->notify_count == 0) {
		return 0;
	}
	p = s->notify + s->notify_head;
	memcpy(&rec, p, sizeof(rec));
	p += sizeof(rec);
	out->type = (enum kv_notify_type)rec.type;
	out->log_index = rec.log_index;
	out->key = p;
	out->key_size = rec.key_size;
	out->has_old = rec.has_old;
	out->old_value = p + rec.key_size;
	out->old_value_size = rec.old_size;
	out->old_mod_index = rec.old_mod_index;
	out->value = p + rec.key_size + rec.old_size;
	out->value_size = rec.value_size;
	s->notify_head += notify_record_size(rec.key_size, rec.old_size, rec.value_size);
	s->notify_count--;
	ASSERT(s->notify_head <= s->notify_tail);
	if (s->notify_count == 0) {
		/* Rewind; the record just returned stays intact until the next push. */
		s->notify_head = 0;
		s->notify_tail = 0;
	}
	return 1;
}

size_t
kv_store_notify_pending(const struct kv_store *s)
{
	kv_store_assert(s);
	return s->notify_count;
}

/* --- writes --------------------------------------------------------------------------------- */

static void
store_put(struct kv_store *s, const struct kv_cmd_op *op, uint64_t log_index)
{
	uint64_t hash = index_hash(s, op->key, op->key_size);
	int found;
	size_t slot = index_find(s, op->key, op->key_size, hash, &found);
	struct kv_notification n = {
		.type = KV_NOTIFY_PUT,
		.log_index = log_index,
		.key = op->key,
		.key_size = op->key_size,
		.value = op->value,
		.value_size = op->value_size,
	};
	uint32_t e;

	if (!found) {
		notify_push(s, &n);
		entry_insert_at(s, slot, hash, op->key, op->key_size, op->value, op->value_size,
				log_index);
		return;
	}
	e = s->index[slot];
	n.has_old = 1;
	n.old_value = kv_entry_value(s, &s->entries[e]);
	n.old_value_size = s->entries[e].value_size;
	n.old_mod_index = s->entries[e].mod_index;
	/* Copy the old value out before its block is freed and possibly compacted over. */
	notify_push(s, &n);
	entry_unwrite(s, e);
	entry_write(s, e, op->key, op->value, op->value_size, log_index);
}

static void
store_remove(struct kv_store *s, const struct kv_cmd_op *op, uint64_t log_index)
{
	uint64_t hash = index_hash(s, op->key, op->key_size);
	int found;
	size_t slot = index_find(s, op->key, op->key_size, hash, &found);
	uint32_t e;
	struct kv_entry *ent;

	ASSERT(found);
	e = s->index[slot];
	ent = &s->entries[e];
	notify_push(s, &(struct kv_notification){
			       .type = KV_NOTIFY_REMOVE,
			       .log_index = log_index,
			       .key = op->key,
			       .key_size = op->key_size,
			       .has_old = 1,
			       .old_value = kv_entry_value(s, ent),
			       .old_value_size = ent->value_size,
			       .old_mod_index = ent->mod_index,
		       });
	kv_tree_remove(s, e);
	entry_unwrite(s, e);
	index_delete(s, slot);
	ent->block_offset = s->entry_free;
	s->entry_free = e;
	s->key_count--;
}

/* --- planning: decide a command's outcome before touching anything ----------------------- */

/* A key as the ops before it in the same batch would leave it. */
struct kv_key_state {
	int exists;
	uint64_t mod_index;
	size_t value_size;
};

struct kv_plan {
	enum kv_result_status status;
	uint32_t op_index;
	uint64_t mod_index; /* CAS_FAILED: the key's current mod index */
	size_t key_count;   /* after the ops so far */
	size_t data_size;
	size_t notify_size; /* bytes of notification records the command will queue */
};

static void
plan_key_state(const struct kv_store *s, const struct kv_cmd *cmd, size_t j, uint64_t log_index,
	       struct kv_key_state *st)
{
	const struct kv_cmd_op *op = &cmd->ops[j];
	uint32_t e;

	/* The latest earlier op on the same key wins; they all succeeded, or planning stopped. */
	for (size_t i = j; i-- > 0;) {
		const struct kv_cmd_op *prev = &cmd->ops[i];

		if (kv_key_compare(prev->key, prev->key_size, op->key, op->key_size) == 0) {
			st->exists = prev->type != KV_CMD_REMOVE;
			st->mod_index = st->exists ? log_index : 0;
			st->value_size = st->exists ? prev->value_size : 0;
			return;
		}
	}
	e = kv_store_lookup(s, op->key, op->key_size);
	st->exists = e != KV_NONE;
	st->mod_index = st->exists ? s->entries[e].mod_index : 0;
	st->value_size = st->exists ? s->entries[e].value_size : 0;
}

static int
plan_cas_matches(const struct kv_cmd_op *op, const struct kv_key_state *st)
{
	if (op->expected_mod_index == 0) {
		return !st->exists;
	}
	return st->exists && st->mod_index == op->expected_mod_index;
}

/* The status op would get on the planned state; on OK, the plan absorbs its effects. */
static enum kv_result_status
plan_op(const struct kv_store *s, const struct kv_cmd_op *op, const struct kv_key_state *st,
	struct kv_plan *plan)
{
	size_t old_bytes = st->exists ? op->key_size + st->value_size : 0;
	size_t key_count = plan->key_count + (st->exists ? 0 : 1);
	size_t data_size;

	if (op->key_size > s->cfg.max_key_size || op->value_size > s->cfg.max_value_size) {
		return KV_RESULT_TOO_LARGE;
	}
	if (op->type == KV_CMD_REMOVE) {
		if (!st->exists) {
			return KV_RESULT_NOT_FOUND;
		}
		plan->key_count--;
		plan->data_size -= old_bytes;
		plan->notify_size += notify_record_size(op->key_size, st->value_size, 0);
		return KV_RESULT_OK;
	}
	if (op->type == KV_CMD_CAS && !plan_cas_matches(op, st)) {
		plan->mod_index = st->mod_index;
		return KV_RESULT_CAS_FAILED;
	}
	data_size = plan->data_size - old_bytes + op->key_size + op->value_size;
	if (key_count > s->cfg.max_keys || data_size > s->cfg.data_budget_size) {
		return KV_RESULT_FULL;
	}
	plan->key_count = key_count;
	plan->data_size = data_size;
	plan->notify_size +=
		notify_record_size(op->key_size, st->exists ? st->value_size : 0, op->value_size);
	return KV_RESULT_OK;
}

static void
store_plan(const struct kv_store *s, const struct kv_cmd *cmd, uint64_t log_index,
	   struct kv_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->status = KV_RESULT_OK;
	plan->key_count = s->key_count;
	plan->data_size = s->data_size;
	for (size_t j = 0; j < cmd->op_count; j++) {
		struct kv_key_state st;
		enum kv_result_status status;

		plan_key_state(s, cmd, j, log_index, &st);
		status = plan_op(s, &cmd->ops[j], &st, plan);
		if (status != KV_RESULT_OK) {
			plan->status = status;
			plan->op_index = (uint32_t)j;
			return;
		}
	}
}

/* --- apply ---------------------------------------------------------------------------------- */

static int
store_write_cmd(struct kv_store *s, const struct kv_cmd *cmd, uint64_t log_index,
		struct kv_result *res)
{
	struct kv_plan plan;

	store_plan(s, cmd, log_index, &plan);
	if (plan.status != KV_RESULT_OK) {
		res->status = plan.status;
		res->op_index = plan.op_index;
		res->mod_index = plan.mod_index;
		return 0;
	}
	if (s->notify_capacity > 0 && plan.notify_size > notify_free(s)) {
		return -EAGAIN;
	}
	for (size_t i = 0; i < cmd->op_count; i++) {
		if (cmd->ops[i].type == KV_CMD_REMOVE) {
			store_remove(s, &cmd->ops[i], log_index);
		} else {
			store_put(s, &cmd->ops[i], log_index);
		}
	}
	ASSERT(s->key_count == plan.key_count);
	ASSERT(s->data_size == plan.data_size);
	res->status = KV_RESULT_OK;
	res->mod_index = log_index;
	return 0;
}

static void
store_get(const struct kv_store *s, const struct kv_cmd_op *op, struct kv_result *res)
{
	uint32_t e;

	if (op->key_size > s->cfg.max_key_size) {
		res->status = KV_RESULT_TOO_LARGE;
		return;
	}
	e = kv_store_lookup(s, op->key, op->key_size);
	if (e == KV_NONE) {
		res->status = KV_RESULT_NOT_FOUND;
		return;
	}
	res->status = KV_RESULT_OK;
	res->mod_index = s->entries[e].mod_index;
	res->value = kv_entry_value(s, &s->entries[e]);
	res->value_size = s->entries[e].value_size;
}

/* Executes the body and encodes the result; -EAGAIN (nothing changed) when notifications lack
 * room. */
static int
store_execute(struct kv_store *s, const struct kv_request *req, uint8_t *result,
	      size_t result_capacity, size_t *result_size)
{
	struct kv_cmd cmd;
	struct kv_result res = {.status = KV_RESULT_OK};
	int rc;

	if (kv_cmd_decode(req->body, req->body_size, &cmd) != 0) {
		res.status = KV_RESULT_BAD_COMMAND;
	} else if (cmd.type == KV_CMD_GET) {
		store_get(s, &cmd.ops[0], &res);
	} else {
		rc = store_write_cmd(s, &cmd, req->log_index, &res);
		if (rc != 0) {
			return rc;
		}
	}
	rc = kv_result_encode(&res, result, result_capacity, result_size);
	ASSERT(rc == 0);
	return 0;
}

/* --- dedupe table --------------------------------------------------------------------------- */

static uint32_t
client_find(const struct kv_store *s, uint64_t client_id)
{
	const uint32_t *slot = base_map_get(s->client_map, &client_id);

	return slot != NULL ? *slot : KV_NONE;
}

static void
lru_unlink(struct kv_store *s, uint32_t slot)
{
	struct kv_client *c = &s->clients[slot];

	if (c->lru_prev != KV_NONE) {
		s->clients[c->lru_prev].lru_next = c->lru_next;
	} else {
		s->lru_head = c->lru_next;
	}
	if (c->lru_next != KV_NONE) {
		s->clients[c->lru_next].lru_prev = c->lru_prev;
	} else {
		s->lru_tail = c->lru_prev;
	}
	c->lru_prev = KV_NONE;
	c->lru_next = KV_NONE;
}

static void
lru_append(struct kv_store *s, uint32_t slot)
{
	struct kv_client *c = &s->clients[slot];

	c->lru_prev = s->lru_tail;
	c->lru_next = KV_NONE;
	if (s->lru_tail != KV_NONE) {
		s->clients[s->lru_tail].lru_next = slot;
	} else {
		s->lru_head = slot;
	}
	s->lru_tail = slot;
}

/* Takes c's current content out of the sums (before it changes or goes away). */
static void
client_unaccount(struct kv_store *s, uint32_t slot)
{
	struct kv_client *c = &s->clients[slot];

	s->client_sum = sum_sub(s->client_sum, c->hash);
	ASSERT(s->result_bytes >= c->result_size);
	s->result_bytes -= c->result_size;
}

/* R8 eviction: the client with the lowest last_index (ties: lowest id) is the LRU head. */
static uint32_t
client_evict_oldest(struct kv_store *s)
{
	uint32_t slot = s->lru_head;
	int rc;

	ASSERT(slot != KV_NONE);
	ASSERT(s->client_count == s->cfg.max_clients);
	client_unaccount(s, slot);
	lru_unlink(s, slot);
	rc = base_map_remove(s->client_map, &s->clients[slot].client_id, NULL);
	ASSERT(rc == 0);
	return slot;
}

/* A slot for a new client: a free one, or the least recently executed client's. */
static uint32_t
client_take_slot(struct kv_store *s, uint64_t client_id)
{
	uint32_t slot;
	int rc;

	if (s->client_count < s->cfg.max_clients) {
		slot = (uint32_t)s->client_count++;
	} else {
		slot = client_evict_oldest(s);
	}
	rc = base_map_put(s->client_map, &client_id, &slot);
	ASSERT(rc == 0);
	s->clients[slot].client_id = client_id;
	s->clients[slot].lru_prev = KV_NONE;
	s->clients[slot].lru_next = KV_NONE;
	return slot;
}

/* Sets the client's dedupe entry and moves it to the LRU tail. */
static void
client_set(struct kv_store *s, uint32_t slot, uint64_t seq, uint64_t last_index,
	   const uint8_t *result, size_t result_size)
{
	struct kv_client *c = &s->clients[slot];

	ASSERT(result_size <= s->result_capacity);
	c->highest_seq = seq;
	c->last_index = last_index;
	c->result_size = (uint32_t)result_size;
	memcpy(kv_client_result(s, slot), result, result_size);
	c->hash = kv_client_hash(c, result);
	s->client_sum = sum_add(s->client_sum, c->hash);
	s->result_bytes += result_size;
	lru_append(s, slot);
}

static void
client_record(struct kv_store *s, uint32_t slot, const struct kv_request *req,
	      const uint8_t *result, size_t result_size)
{
	if (slot == KV_NONE) {
		slot = client_take_slot(s, req->client_id);
	} else {
		client_unaccount(s, slot);
		lru_unlink(s, slot);
	}
	client_set(s, slot, req->client_seq, req->log_index, result, result_size);
}

void
kv_client_insert(struct kv_store *s, uint64_t client_id, uint64_t highest_seq, uint64_t last_index,
		 const uint8_t *result, size_t result_size)
{
	uint32_t slot;

	ASSERT(s->client_count < s->cfg.max_clients);
	ASSERT(client_find(s, client_id) == KV_NONE);
	slot = client_take_slot(s, client_id);
	client_set(s, slot, highest_seq, last_index, result, result_size);
}

size_t
kv_store_result_size_max(const struct kv_store *s)
{
	kv_store_assert(s);
	return KV_RESULT_HEADER_SIZE + s->cfg.max_value_size;
}

/* A retry (seq == highest: the cached bytes) or an older request (STALE). */
static void
apply_duplicate(const struct kv_store *s, uint32_t slot, const struct kv_request *req,
		uint8_t *result, size_t result_capacity, size_t *result_size)
{
	const struct kv_client *c = &s->clients[slot];
	struct kv_result res = {.status = KV_RESULT_STALE};
	int rc;

	if (req->client_seq == c->highest_seq) {
		memcpy(result, kv_client_result(s, slot), c->result_size);
		*result_size = c->result_size;
		return;
	}
	rc = kv_result_encode(&res, result, result_capacity, result_size);
	ASSERT(rc == 0);
}

int
kv_store_apply(struct kv_store *s, const struct kv_request *req, uint8_t *result,
	       size_t result_capacity, size_t *result_size)
{
	uint32_t slot;
	int rc;

	kv_store_assert(s);
	ASSERT(req != NULL && result != NULL && result_size != NULL);
	ASSERT(req->body != NULL || req->body_size == 0);
	ASSERT(!s->restore.is_open);
	ASSERT(req->log_index > s->applied_index);
	ASSERT(result_capacity >= kv_store_result_size_max(s));
	slot = client_find(s, req->client_id);
	if (slot != KV_NONE && req->client_seq <= s->clients[slot].highest_seq) {
		apply_duplicate(s, slot, req, result, result_capacity, result_size);
	} else {
		rc = store_execute(s, req, result, result_capacity, result_size);
		if (rc != 0) {
			return rc;
		}
		client_record(s, slot, req, result, *result_size);
	}
	s->applied_index = req->log_index;
	return 0;
}

/* --- reads and accessors -------------------------------------------------------------------- */

int
kv_store_read_local_nonlinearizable(const struct kv_store *s, const uint8_t *key, size_t key_size,
				    struct kv_store_value *out)
{
	uint32_t e;

	kv_store_assert(s);
	ASSERT(key != NULL || key_size == 0);
	ASSERT(out != NULL);
	if (key_size == 0 || key_size > s->cfg.max_key_size) {
		return -ENOENT;
	}
	e = kv_store_lookup(s, key, key_size);
	if (e == KV_NONE) {
		return -ENOENT;
	}
	out->value = kv_entry_value(s, &s->entries[e]);
	out->value_size = s->entries[e].value_size;
	out->mod_index = s->entries[e].mod_index;
	return 0;
}

uint64_t
kv_store_applied_index(const struct kv_store *s)
{
	kv_store_assert(s);
	return s->applied_index;
}

size_t
kv_store_key_count(const struct kv_store *s)
{
	kv_store_assert(s);
	return s->key_count;
}

size_t
kv_store_data_size(const struct kv_store *s)
{
	kv_store_assert(s);
	return s->data_size;
}

size_t
kv_store_client_count(const struct kv_store *s)
{
	kv_store_assert(s);
	return s->client_count;
}

void
kv_store_dump(const struct kv_store *s, FILE *f)
{
	char hex[BASE_HASH128_HEX_SIZE];

	kv_store_assert(s);
	base_hash128_hex(kv_store_digest(s), hex);
	fprintf(f,
		"kv_store applied=%" PRIu64 " keys=%zu/%zu data=%zu/%zu clients=%zu/%zu "
		"notify=%zu digest=%s\n",
		s->applied_index, s->key_count, s->cfg.max_keys, s->data_size,
		s->cfg.data_budget_size, s->client_count, s->cfg.max_clients, s->notify_count, hex);
}

/* --- sorting -------------------------------------------------------------------------------- */

static void
sort_sift_down(const struct kv_store *s, uint32_t *v, size_t root, size_t n, kv_sort_cmp_fn *cmp)
{
	while (2 * root + 1 < n) {
		size_t child = 2 * root + 1;
		uint32_t t;

		if (child + 1 < n && cmp(s, v[child], v[child + 1]) < 0) {
			child++;
		}
		if (cmp(s, v[root], v[child]) >= 0) {
			return;
		}
		t = v[root];
		v[root] = v[child];
		v[child] = t;
		root = child;
	}
}

void
kv_sort(const struct kv_store *s, uint32_t *v, size_t n, kv_sort_cmp_fn *cmp)
{
	if (n < 2) {
		return;
	}
	for (size_t i = n / 2; i-- > 0;) {
		sort_sift_down(s, v, i, n, cmp);
	}
	for (size_t end = n - 1; end > 0; end--) {
		uint32_t t = v[0];

		v[0] = v[end];
		v[end] = t;
		sort_sift_down(s, v, 0, end, cmp);
	}
}

size_t
kv_store_sorted_keys(struct kv_store *s)
{
	size_t n = 0;

	/* The key-order tree already holds the order: no sort. */
	for (uint32_t e = kv_tree_first(s); e != KV_NONE; e = kv_tree_next(s, e)) {
		ASSERT(n < s->key_count);
		s->scratch[n++] = e;
	}
	ASSERT(n == s->key_count);
	return n;
}

static int
sort_by_last_index(const struct kv_store *s, uint32_t a, uint32_t b)
{
	const struct kv_client *ca = &s->clients[a];
	const struct kv_client *cb = &s->clients[b];

	if (ca->last_index != cb->last_index) {
		return ca->last_index < cb->last_index ? -1 : 1;
	}
	if (ca->client_id != cb->client_id) {
		return ca->client_id < cb->client_id ? -1 : 1;
	}
	return 0;
}

void
kv_client_lru_rebuild(struct kv_store *s)
{
	for (uint32_t i = 0; i < s->client_count; i++) {
		s->scratch[i] = i;
	}
	kv_sort(s, s->scratch, s->client_count, sort_by_last_index);
	s->lru_head = KV_NONE;
	s->lru_tail = KV_NONE;
	for (size_t i = 0; i < s->client_count; i++) {
		lru_append(s, s->scratch[i]);
	}
}

/* --- consistency check ---------------------------------------------------------------------- */

static int
check_entries(const struct kv_store *s)
{
	size_t count = 0;
	size_t data = 0;
	struct base_hash128 sum = {0, 0};

	for (size_t slot = 0; slot <= s->index_mask; slot++) {
		uint32_t e = s->index[slot];
		const struct kv_entry *ent;
		uint32_t owner;
		uint32_t size;

		if (e == KV_NONE) {
			continue;
		}
		if (e >= s->cfg.max_keys) {
			return -EFAULT;
		}
		ent = &s->entries[e];
		if (ent->block_offset >= s->arena_tail) {
			return -EFAULT;
		}
		block_header_read(s, ent->block_offset, &owner, &size);
		if (owner != e || kv_store_lookup(s, kv_entry_key(s, ent), ent->key_size) != e) {
			return -EFAULT;
		}
		if (ent->mod_index == 0 || ent->mod_index > s->applied_index) {
			return -EFAULT;
		}
		count++;
		data += (size_t)ent->key_size + ent->value_size;
		sum = sum_add(sum, kv_entry_hash(kv_entry_key(s, ent), ent->key_size,
						 kv_entry_value(s, ent), ent->value_size,
						 ent->mod_index));
	}
	if (count != s->key_count || data != s->data_size || data > s->cfg.data_budget_size) {
		return -EFAULT;
	}
	return base_hash128_equal(sum, s->entry_sum) ? 0 : -EFAULT;
}

static int
check_arena(const struct kv_store *s)
{
	size_t off = 0;
	size_t live = 0;
	size_t free_count = 0;

	while (off < s->arena_tail) {
		uint32_t owner;
		uint32_t size;

		block_header_read(s, off, &owner, &size);
		if (size < KV_BLOCK_HEADER_SIZE || size % 8 != 0 || size > s->arena_tail - off) {
			return -EFAULT;
		}
		if (owner != KV_NONE) {
			live++;
		}
		off += size;
	}
	for (uint32_t e = s->entry_free; e != KV_NONE; e = (uint32_t)s->entries[e].block_offset) {
		if (e >= s->cfg.max_keys || ++free_count > s->cfg.max_keys) {
			return -EFAULT;
		}
	}
	if (live != s->key_count || free_count + s->key_count != s->cfg.max_keys) {
		return -EFAULT;
	}
	return 0;
}

static int
check_clients(const struct kv_store *s)
{
	struct base_hash128 sum = {0, 0};
	size_t bytes = 0;
	size_t walked = 0;
	uint32_t prev = KV_NONE;

	for (uint32_t i = 0; i < s->client_count; i++) {
		const struct kv_client *c = &s->clients[i];

		if (client_find(s, c->client_id) != i || c->last_index > s->applied_index) {
			return -EFAULT;
		}
		sum = sum_add(sum, kv_client_hash(c, kv_client_result(s, i)));
		bytes += c->result_size;
	}
	for (uint32_t i = s->lru_head; i != KV_NONE; i = s->clients[i].lru_next) {
		if (++walked > s->client_count || s->clients[i].lru_prev != prev ||
		    (prev != KV_NONE && sort_by_last_index(s, prev, i) >= 0)) {
			return -EFAULT;
		}
		prev = i;
	}
	if (walked != s->client_count || prev != s->lru_tail || bytes != s->result_bytes ||
	    base_map_count(s->client_map) != s->client_count) {
		return -EFAULT;
	}
	return base_hash128_equal(sum, s->client_sum) ? 0 : -EFAULT;
}

int
kv_store_check(const struct kv_store *s)
{
	kv_store_assert(s);
	if (s->notify_head > s->notify_tail || s->notify_tail > s->notify_capacity) {
		return -EFAULT;
	}
	if (check_entries(s) != 0 || check_arena(s) != 0 || kv_tree_check(s) != 0) {
		return -EFAULT;
	}
	return check_clients(s);
}
