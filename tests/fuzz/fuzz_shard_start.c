/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for what node_shard_start decodes: the durable objects rabia.hwm (Rabia's R11
 * record), kv.ckpt (checkpoint header + KV snapshot), kv.log (decided-log records) and
 * shard.epoch (the epoch record). Whatever the disk holds, a start returns 0 or a negative code
 * (-EBADMSG for an object that exists but does not decode) and never aborts; a shard that
 * started survives polls, and restarts from what it then wrote.
 *
 * Input:
 *   u8 flags   bit 0: start from the objects member 1 wrote in a real run (fuzz_shard_real_run,
 *              once per process), else from empty storage; bit 1: SYNC durability (the real
 *              run's too); bit 2: recompute every checksum after the edits, so the decoders
 *              behind them see the fuzzer's bytes (STYLE.md section 9)
 *   then, for rabia.hwm, kv.ckpt, kv.log and shard.epoch in turn (missing: keep):
 *              u8 op, u16 size (little endian, cut to what is left), bytes
 * op % 8: 0 keep; 1 or 7 replace with the bytes; 2 append the bytes (a torn or extra tail);
 * 3 delete; 4 overwrite at offset (u16 at the bytes' start, modulo the object's size + 1) with
 * the rest; 5 truncate to (u16 at the bytes' start) modulo (size + 1); 6 xor at offset as 4.
 * The checksum fix-up knows the formats of node_shard_log.c, node_shard_store.c,
 * node_shard_epoch.c and rabia_durable.c (their private constants are repeated below: a change
 * there only makes the fix-up miss, it cannot make this target report a false crash).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/hash.h"
#include "base/panic.h"
#include "consensus/kv_store.h"
#include "fuzz_shard.h"

#define MS UINT64_C(1000000)

#define START_LOG_MAGIC   0x474f4c52u                /* node_shard_log.c LOG_MAGIC */
#define START_EPOCH_MAGIC 0x48435045u                /* node_shard_epoch.c EPOCH_MAGIC */
#define START_HWM_SEED    UINT64_C(0x52414249414857) /* rabia_durable.c RABIA_DURABLE_SEED */
#define START_OBJECTS     4u

static const char *const start_names[START_OBJECTS] = {
	NODE_SHARD_OBJ_HWM,
	NODE_SHARD_OBJ_CKPT,
	NODE_SHARD_OBJ_LOG,
	NODE_SHARD_OBJ_EPOCH,
};

/* Per durability: the world (three shards) and member 1's objects after the real run. */
struct start_base {
	struct fuzz_shard_world *w;
	uint8_t *data[START_OBJECTS];
	size_t size[START_OBJECTS];
};

static struct start_base start_bases[2];

static struct start_base *
start_base(unsigned is_sync)
{
	struct start_base *b = &start_bases[is_sync];

	if (b->w != NULL) {
		return b;
	}
	b->w = fuzz_shard_world_create(is_sync ? NODE_SHARD_DURABLE_SYNC
					       : NODE_SHARD_DURABLE_REPLICATED,
				       (1u << FUZZ_SHARD_NODES) - 1);
	fuzz_shard_real_run(b->w);
	for (unsigned i = 0; i < START_OBJECTS; i++) {
		const struct fuzz_shard_obj *o =
			fuzz_shard_obj_get(&b->w->nodes[FUZZ_SHARD_SELF], start_names[i]);

		b->size[i] = o->size;
		b->data[i] = malloc(o->size);
		ASSERT(b->data[i] != NULL);
		memcpy(b->data[i], o->data, o->size);
	}
	return b;
}

/* ---- edits ---- */

/* The object being edited: a private copy that grows as needed. */
struct start_obj {
	uint8_t *data;
	size_t size;
	int exists;
};

static void
start_reserve(struct start_obj *o, size_t size)
{
	uint8_t *grown = realloc(o->data, size + 1);

	ASSERT(grown != NULL);
	o->data = grown;
}

/* op 4 and 6: the first two bytes pick an offset, the rest is written (or xored) there. */
static void
start_patch(struct start_obj *o, const uint8_t *b, size_t n, int is_xor)
{
	size_t at;

	if (n < 2) {
		return;
	}
	at = base_load_le16(b) % (o->size + 1);
	b += 2;
	n -= 2;
	if (at + n > o->size) {
		start_reserve(o, at + n);
		memset(o->data + o->size, 0, at + n - o->size);
		o->size = at + n;
	}
	for (size_t i = 0; i < n; i++) {
		o->data[at + i] = is_xor ? (uint8_t)(o->data[at + i] ^ b[i]) : b[i];
	}
}

static void
start_edit(struct start_obj *o, uint8_t op, const uint8_t *b, size_t n)
{
	switch (op % 8) {
	case 1:
	case 7:
		start_reserve(o, n);
		memcpy(o->data, b, n);
		o->size = n;
		o->exists = 1;
		break;
	case 2:
		start_reserve(o, o->size + n);
		memcpy(o->data + o->size, b, n);
		o->size += n;
		o->exists = 1;
		break;
	case 3:
		o->size = 0;
		o->exists = 0;
		break;
	case 4:
	case 6:
		start_patch(o, b, n, op % 8 == 6);
		break;
	case 5:
		o->size = n >= 2 ? base_load_le16(b) % (o->size + 1) : o->size;
		break;
	default:
		break;
	}
}

/* ---- checksum fix-ups (flag bit 2) ---- */

static void
start_fix_hwm(struct start_obj *o)
{
	if (o->size == RABIA_DURABLE_SIZE) {
		base_store_le64(o->data + 32, base_hash64(o->data, 32, START_HWM_SEED));
	}
}

/* The record ends with the checksum of everything before it (any version of the layout). */
static void
start_fix_epoch(struct start_obj *o)
{
	if (o->size >= 16) {
		base_store_le64(o->data + o->size - 8,
				base_hash64(o->data, o->size - 8, START_EPOCH_MAGIC));
	}
}

/* Each whole record in turn; the walk stops at the first size that does not fit. */
static void
start_fix_log(struct start_obj *o)
{
	size_t off = 0;

	while (o->size - off >= NODE_SHARD_LOG_HEAD) {
		uint8_t *rec = o->data + off;
		size_t size = base_load_le32(rec);

		if (size < NODE_SHARD_LOG_HEAD || size > o->size - off) {
			return;
		}
		base_store_le64(rec + 8, base_hash64(rec + 16, size - 16, START_LOG_MAGIC));
		off += size;
	}
}

/* The snapshot's body checksum (kv_store.h layout), then the header's, which binds it. */
static void
start_fix_ckpt(struct start_obj *o)
{
	uint8_t *snap = o->data + NODE_SHARD_CKPT_HEADER;
	size_t snap_size;
	uint64_t body;

	if (o->size < NODE_SHARD_CKPT_HEADER + KV_SNAPSHOT_HEADER_SIZE) {
		return;
	}
	snap_size = o->size - NODE_SHARD_CKPT_HEADER;
	body = base_load_le64(snap + 8);
	if (body <= snap_size - KV_SNAPSHOT_HEADER_SIZE) {
		base_store_le64(snap + 16,
				base_hash64(snap + KV_SNAPSHOT_HEADER_SIZE, (size_t)body, 0));
	}
	base_store_le64(o->data + 16, base_hash64(o->data, 16, base_load_le64(snap + 16)));
}

/* ---- the run ---- */

static void
start_polls(struct fuzz_shard_node *n, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		n->w->now_ns += 1 * MS;
		(void)node_shard_poll(n->shard, n->w->now_ns);
	}
}

/* Builds the objects from the base and the input's edits, then stores them in n. */
static void
start_objects(struct fuzz_shard_node *n, const struct start_base *b, uint8_t flags,
	      const uint8_t *data, size_t size)
{
	static void (*const fix[START_OBJECTS])(struct start_obj *) = {
		start_fix_hwm, start_fix_ckpt, start_fix_log, start_fix_epoch};
	size_t off = 0;

	for (unsigned i = 0; i < START_OBJECTS; i++) {
		struct start_obj o = {0};

		if ((flags & 1u) != 0) {
			start_reserve(&o, b->size[i]);
			memcpy(o.data, b->data[i], b->size[i]);
			o.size = b->size[i];
			o.exists = 1;
		}
		if (size - off >= 3) {
			uint8_t op = data[off];
			size_t len = base_min_size(base_load_le16(data + off + 1), size - off - 3);

			start_edit(&o, op, data + off + 3, len);
			off += 3 + len;
		}
		if ((flags & 4u) != 0 && o.exists) {
			fix[i](&o);
		}
		if (o.exists) {
			fuzz_shard_obj_set(n, start_names[i], o.data, o.size);
		}
		free(o.data);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags = size > 0 ? data[0] : 0;
	struct start_base *b = start_base((flags >> 1) & 1u);
	struct fuzz_shard_node *n = &b->w->nodes[FUZZ_SHARD_SELF];
	int rc;

	fuzz_shard_node_crash(n);
	fuzz_shard_node_wipe(n);
	b->w->now_ns = FUZZ_SHARD_T0_NS;
	start_objects(n, b, flags, size > 0 ? data + 1 : data, size > 0 ? size - 1 : 0);
	rc = fuzz_shard_node_start(n);
	ASSERT(rc <= 0);
	if (rc != 0) {
		return 0;
	}
	start_polls(n, 30);
	/* It started, so it must start again from what it wrote since. */
	fuzz_shard_node_crash(n);
	ASSERT(fuzz_shard_node_start(n) == 0);
	start_polls(n, 5);
	fuzz_shard_node_crash(n);
	return 0;
}
