/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shard's durable state through env storage: Rabia's R11 record (NODE_SHARD_OBJ_HWM), the
 * KV checkpoint (NODE_SHARD_OBJ_CKPT), their completions, and loading both at start.
 *
 * Checkpoint object: u32 magic CKPT_MAGIC, u32 version, u64 slot (every slot <= slot is in),
 * u64 XXH3 of those 16 bytes seeded with the snapshot's body checksum, then the KV snapshot
 * (kv_store.h, itself checksummed). The header checksum binds the slot to the snapshot, so a
 * torn header cannot name another slot for a good snapshot.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"
#include "node_shard_int.h"

#define CKPT_MAGIC   0x54504b43u /* "CKPT" little endian */
#define CKPT_VERSION 1u

/* Storage tokens: the kind in the top 4 bits, Rabia's token (or 0) below. */
#define TOK_SHIFT     60
#define TOK_MASK      ((UINT64_C(1) << TOK_SHIFT) - 1)
#define TOK_HWM_PUT   UINT64_C(1)
#define TOK_HWM_SYNC  UINT64_C(2)
#define TOK_CKPT_PUT  UINT64_C(3)
#define TOK_CKPT_SYNC UINT64_C(4)

static_assert(NODE_SHARD_CKPT_HEADER == 24, "checkpoint header layout");

int
shard_load_hwm(struct node_shard *s, struct rabia_durable *out)
{
	uint8_t buf[RABIA_DURABLE_SIZE + 1];
	size_t size;
	int rc;

	rc = s->env->storage_load(s->env->ctx, NODE_SHARD_OBJ_HWM, buf, sizeof(buf), &size);
	if (rc != 0) {
		return rc == -ENOENT ? -ENOENT : -EBADMSG;
	}
	return rabia_durable_decode(buf, size, out) == 0 ? 0 : -EBADMSG;
}

int
shard_restore(struct node_shard *s, const uint8_t *snap, size_t size)
{
	const int is_notifying = s->cfg.kv.notify_buffer_size != 0 && s->hooks->on_notify != NULL;
	const uint8_t *body;
	size_t body_size;
	struct kv_notification n;
	int rc;

	rc = kv_snapshot_verify(snap, size, &body, &body_size);
	if (rc != 0) {
		return rc;
	}
	shard_notify_drain(s); /* what is queued comes before the restore's changes */
	rc = kv_store_restore_begin(s->kv, body, body_size);
	if (rc != 0) {
		return rc;
	}
	/* Subscribers see the difference old -> new before it replaces the state (kv_store.h). */
	while (is_notifying && kv_store_restore_next(s->kv, &n)) {
		s->hooks->on_notify(s->hooks->ctx, s->node, &n);
	}
	kv_store_restore_commit(s->kv);
	shard_leader_refresh(s);
	return 0;
}

static uint64_t
ckpt_checksum(const uint8_t *header, const uint8_t *snap)
{
	/* snap + 16: the snapshot header's body checksum (kv_store.h layout). */
	return base_hash64(header, 16, base_load_le64(snap + 16));
}

int
shard_load_ckpt(struct node_shard *s, uint64_t *slot)
{
	size_t cap = NODE_SHARD_CKPT_HEADER + s->snap_max;
	const uint8_t *b = s->snap_in;
	size_t size;
	int rc;

	rc = s->env->storage_load(s->env->ctx, NODE_SHARD_OBJ_CKPT, s->snap_in, cap, &size);
	if (rc != 0) {
		return rc == -ENOENT ? -ENOENT : -EBADMSG;
	}
	if (size < NODE_SHARD_CKPT_HEADER + KV_SNAPSHOT_HEADER_SIZE ||
	    base_load_le32(b) != CKPT_MAGIC || base_load_le32(b + 4) != CKPT_VERSION ||
	    base_load_le64(b + 16) != ckpt_checksum(b, b + NODE_SHARD_CKPT_HEADER)) {
		return -EBADMSG;
	}
	*slot = base_load_le64(b + 8);
	rc = shard_restore(s, b + NODE_SHARD_CKPT_HEADER, size - NODE_SHARD_CKPT_HEADER);
	return rc == 0 ? 0 : -EBADMSG;
}

void
shard_write_hwm(struct node_shard *s, const struct rabia_storage_write *w)
{
	const struct env_ops *e = s->env;
	int rc;

	ASSERT(w->token <= TOK_MASK);
	s->rabia_write_pending = 1;
	s->rabia_write_token = w->token;
	rc = e->storage_put(e->ctx, NODE_SHARD_OBJ_HWM, w->data, w->size,
			    (TOK_HWM_PUT << TOK_SHIFT) | w->token);
	if (rc == 0) {
		rc = e->storage_sync(e->ctx, NODE_SHARD_OBJ_HWM,
				     (TOK_HWM_SYNC << TOK_SHIFT) | w->token);
	}
	if (rc != 0) {
		/* Reported to Rabia as a failed write at the next poll; it retries. */
		s->stats.storage_errors++;
		s->rabia_write_pending = -1;
	}
}

static void
shard_storage_done(struct node_shard *s, uint64_t token, int status)
{
	struct rabia_input in = {.type = RABIA_INPUT_STORAGE_DONE, .now_ns = s->now_ns};

	in.storage.token = token;
	in.storage.status = status;
	s->rabia_write_pending = 0;
	(void)!shard_step(s, &in);
}

static void
shard_storage_one(struct node_shard *s, const struct env_storage_completion *c)
{
	uint64_t kind = c->token >> TOK_SHIFT;
	int status;

	if (c->status != 0) {
		s->stats.storage_errors++;
	}
	if (kind == TOK_HWM_PUT) {
		s->hwm_put_status = c->status;
	} else if (kind == TOK_HWM_SYNC) {
		/* Confirmed only when both the put and its sync succeeded. */
		status = s->hwm_put_status != 0 ? s->hwm_put_status : c->status;
		s->hwm_put_status = 0;
		shard_storage_done(s, c->token & TOK_MASK, status);
	} else if (kind == TOK_CKPT_SYNC) {
		s->ckpt_pending = 0;
	}
}

void
shard_storage_poll(struct node_shard *s)
{
	struct env_storage_completion done[8];
	size_t count;

	if (s->rabia_write_pending < 0) {
		shard_storage_done(s, s->rabia_write_token, -EIO);
	}
	while ((count = s->env->storage_poll(s->env->ctx, done, AE_ARRAY_SIZE(done))) > 0) {
		for (size_t i = 0; i < count; i++) {
			shard_storage_one(s, &done[i]);
		}
	}
}

void
shard_checkpoint(struct node_shard *s)
{
	const struct env_ops *e = s->env;
	uint64_t next = rabia_next_slot(s->rabia);
	uint8_t *b = s->snap_in;
	size_t size;
	int rc;

	/* The receive buffer is the scratch: not while a transfer fills it. */
	if (s->cfg.checkpoint_slots == 0 || s->ckpt_pending || s->pull.is_active || next == 0 ||
	    next - 1 < s->ckpt_slot + s->cfg.checkpoint_slots) {
		return;
	}
	rc = kv_store_snapshot_encode(s->kv, b + NODE_SHARD_CKPT_HEADER, s->snap_max, &size);
	ASSERT(rc == 0); /* snap_max bounds every snapshot of this configuration */
	base_store_le32(b, CKPT_MAGIC);
	base_store_le32(b + 4, CKPT_VERSION);
	base_store_le64(b + 8, next - 1);
	base_store_le64(b + 16, ckpt_checksum(b, b + NODE_SHARD_CKPT_HEADER));
	/* A refused write is skipped, not retried at every poll: the next one is due later. */
	s->ckpt_slot = next - 1;
	if (e->storage_put(e->ctx, NODE_SHARD_OBJ_CKPT, b, NODE_SHARD_CKPT_HEADER + size,
			   TOK_CKPT_PUT << TOK_SHIFT) != 0 ||
	    e->storage_sync(e->ctx, NODE_SHARD_OBJ_CKPT, TOK_CKPT_SYNC << TOK_SHIFT) != 0) {
		s->stats.storage_errors++;
		return;
	}
	s->ckpt_pending = 1;
	s->stats.checkpoints++;
}
