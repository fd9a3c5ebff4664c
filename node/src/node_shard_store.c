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
	if (size == 0) {
		return -ENOENT; /* invalidated by an epoch change (shard_ckpt_invalidate) */
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

/* Rabia hears of its write when it may be stepped (the log may be full): until then the
 * result waits in rabia_write_pending (2: succeeded, -2: failed). */
static void
shard_storage_done(struct node_shard *s, uint64_t token, int status)
{
	struct rabia_input in = {.type = RABIA_INPUT_STORAGE_DONE, .now_ns = s->now_ns};

	s->rabia_write_token = token;
	if (!shard_may_step(s)) {
		s->rabia_write_pending = status == 0 ? 2 : -2;
		return;
	}
	in.storage.token = token;
	in.storage.status = status;
	s->rabia_write_pending = 0;
	(void)!shard_step(s, &in);
}

static void shard_ckpt_done(struct node_shard *s, uint64_t next, int status);

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
	} else if (kind == TOK_CKPT_PUT) {
		s->ckpt_put_status = c->status != 0 ? c->status : s->ckpt_put_status;
	} else if (kind == TOK_CKPT_SYNC) {
		shard_ckpt_done(s, c->token & TOK_MASK,
				s->ckpt_put_status != 0 ? s->ckpt_put_status : c->status);
	} else if (kind == TOK_LOG_WRITE || kind == TOK_LOG_SYNC) {
		shard_log_done(s, kind, c->status);
	} else if (kind == TOK_EPOCH_PUT || kind == TOK_EPOCH_SYNC) {
		shard_epoch_done(s, kind, c->status);
	}
}

void
shard_storage_poll(struct node_shard *s)
{
	struct env_storage_completion done[8];
	size_t count;

	if (s->rabia_write_pending == -1 || s->rabia_write_pending == -2) {
		shard_storage_done(s, s->rabia_write_token, -EIO);
	} else if (s->rabia_write_pending == 2) {
		shard_storage_done(s, s->rabia_write_token, 0);
	}
	while ((count = s->env->storage_poll(s->env->ctx, done, AE_ARRAY_SIZE(done))) > 0) {
		for (size_t i = 0; i < count; i++) {
			shard_storage_one(s, &done[i]);
		}
	}
}

/* The checkpoint is durable: the log no longer needs the records it covers. */
static void
shard_ckpt_done(struct node_shard *s, uint64_t next, int status)
{
	if (s->ckpt_pending == 0) {
		return; /* not ours: an earlier incarnation's */
	}
	s->ckpt_pending--;
	s->ckpt_put_status = 0;
	if (next == 0 || next != s->ckpt_inflight) {
		if (next == 0 && status != 0) {
			s->ckpt_invalid_retry = 1; /* the invalidation must become durable */
		}
		return; /* an invalidation, or a checkpoint an invalidation overtook */
	}
	s->ckpt_inflight = 0;
	if (status != 0) {
		s->ckpt_force = 1; /* try again soon: the log buffer waits for it */
		return;
	}
	s->ckpt_durable = next;
	shard_log_drop_below(s, next);
	shard_log_durable_update(s);
}

void
shard_ckpt_invalidate(struct node_shard *s)
{
	const struct env_ops *e = s->env;

	/* An in-flight checkpoint completes first; its result is ignored (inflight 0). */
	s->ckpt_inflight = 0;
	s->ckpt_durable = 0;
	s->ckpt_slot = 0;
	if (e->storage_put(e->ctx, NODE_SHARD_OBJ_CKPT, s->snap_in, 0, TOK_CKPT_PUT << TOK_SHIFT) !=
		    0 ||
	    e->storage_sync(e->ctx, NODE_SHARD_OBJ_CKPT, TOK_CKPT_SYNC << TOK_SHIFT) != 0) {
		/* Without a durable invalidation the epoch change cannot go on: retried by
		 * the adoption poll through ckpt_force. */
		s->stats.storage_errors++;
		s->ckpt_invalid_retry = 1;
		return;
	}
	s->ckpt_invalid_retry = 0;
	s->ckpt_pending++;
}

/* Due: checkpoint_slots applied slots since the last one, half the log buffer used, or
 * forced (an install, a failed checkpoint). */
static int
shard_ckpt_due(const struct node_shard *s)
{
	uint64_t last = s->ckpt_durable;

	if (s->applied_next <= last || s->need_install) {
		return 0;
	}
	return s->ckpt_force ||
	       (s->cfg.checkpoint_slots != 0 && s->applied_next - last > s->cfg.checkpoint_slots) ||
	       s->log_len > s->cfg.log_buffer_bytes / 2;
}

void
shard_checkpoint(struct node_shard *s)
{
	const struct env_ops *e = s->env;
	uint64_t slot = s->applied_next - 1;
	uint8_t *b = s->snap_in;
	size_t size;
	int rc;

	if (s->ckpt_invalid_retry) {
		shard_ckpt_invalidate(s);
		return;
	}
	/* The receive buffer is the scratch: not while a transfer fills it. */
	if (s->ckpt_pending || s->pull.is_active || !shard_ckpt_due(s)) {
		return;
	}
	rc = kv_store_snapshot_encode(s->kv, b + NODE_SHARD_CKPT_HEADER, s->snap_max, &size);
	ASSERT(rc == 0); /* snap_max bounds every snapshot of this configuration */
	base_store_le32(b, CKPT_MAGIC);
	base_store_le32(b + 4, CKPT_VERSION);
	base_store_le64(b + 8, slot);
	base_store_le64(b + 16, ckpt_checksum(b, b + NODE_SHARD_CKPT_HEADER));
	s->ckpt_slot = slot;
	s->ckpt_force = 0;
	if (e->storage_put(e->ctx, NODE_SHARD_OBJ_CKPT, b, NODE_SHARD_CKPT_HEADER + size,
			   TOK_CKPT_PUT << TOK_SHIFT) != 0 ||
	    e->storage_sync(e->ctx, NODE_SHARD_OBJ_CKPT,
			    (TOK_CKPT_SYNC << TOK_SHIFT) | (slot + 1)) != 0) {
		/* A refused write (queue full) is tried again at a later poll. */
		s->stats.storage_errors++;
		s->ckpt_force = 1;
		return;
	}
	s->ckpt_inflight = slot + 1;
	s->ckpt_pending++;
	s->stats.checkpoints++;
}
