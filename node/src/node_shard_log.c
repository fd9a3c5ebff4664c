/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The decided log: every slot Rabia delivers becomes a record in log_buf, is written to the
 * object NODE_SHARD_OBJ_LOG by group commit (one append and one sync for everything delivered
 * since the last one, at most one group in flight), and is applied to the KV store once it may
 * be (commit_next: at once under REPLICATED, once a majority has it on disk under SYNC).
 * Records leave the buffer when a durable checkpoint covers them (or a snapshot is installed);
 * the object is then rewritten from the buffer with a put, so it never holds more than the
 * buffer does.
 *
 * Record: u32 size (the whole record), u32 LOG_MAGIC, u64 XXH3 of bytes [16, size), u64 epoch,
 * u64 slot, then the encoded batch (nothing for ⊥). A restart reads the checkpoint (slots <
 * C), then the records C, C+1, ... in order; it stops at the first record that is torn, fails
 * its checksum or does not continue the sequence (env.h: un-synced appends may leave any
 * prefix), so it recovers exactly the synced records that continue the checkpoint.
 *
 * durable_next (what a restart recovers) only counts synced records that continue the durable
 * checkpoint: after an install the buffer starts past it until the install's checkpoint is
 * durable.
 */
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/hash.h"
#include "base/panic.h"
#include "node_shard_int.h"

#define LOG_MAGIC 0x474f4c52u /* "RLOG" little endian */

size_t
shard_log_record_max(const struct node_shard_config *cfg)
{
	return NODE_SHARD_LOG_HEAD + cfg->rabia.batch_bytes_max;
}

size_t
node_shard_log_buffer_min(const struct node_shard_config *cfg)
{
	ASSERT(cfg != NULL);
	/* Two steps' worth: one being checkpointed away while the next arrives. */
	return 2 * (size_t)cfg->rabia.out_decided_max * shard_log_record_max(cfg);
}

static uint64_t
log_checksum(const uint8_t *rec, size_t size)
{
	return base_hash64(rec + 16, size - 16, LOG_MAGIC);
}

int
shard_may_step(struct node_shard *s)
{
	size_t reserve = (size_t)s->cfg.rabia.out_decided_max * shard_log_record_max(&s->cfg);
	uint64_t lag_max = s->cfg.rabia.window_slots / 2;

	/* Commit lag stays below half of Rabia's window, so the snapshot a laggard installs
	 * (applied state) is still followed by decisions some peer keeps. */
	if (s->ep.promised > s->ep.epoch || s->cfg.log_buffer_bytes - s->log_len < reserve ||
	    (s->log_end > s->applied_next && s->log_end - s->applied_next >= lag_max)) {
		s->stats.log_full_waits++;
		return 0;
	}
	return 1;
}

void
shard_log_add(struct node_shard *s, const struct rabia_decided *d)
{
	size_t batch = d->is_null ? 0 : d->batch_size;
	size_t size = NODE_SHARD_LOG_HEAD + batch;
	uint8_t *rec = s->log_buf + s->log_len;

	ASSERT(s->log_len + size <= s->cfg.log_buffer_bytes);
	if (s->log_len == 0) {
		s->log_first = d->slot;
		s->log_end = d->slot;
	}
	ASSERT(d->slot == s->log_end); /* Rabia delivers in order, without gaps */
	base_store_le32(rec, (uint32_t)size);
	base_store_le32(rec + 4, LOG_MAGIC);
	base_store_le64(rec + 16, s->epoch);
	base_store_le64(rec + 24, d->slot);
	if (batch != 0) {
		memcpy(rec + NODE_SHARD_LOG_HEAD, d->batch, batch);
	}
	base_store_le64(rec + 8, log_checksum(rec, size));
	s->log_len += size;
	s->log_end = d->slot + 1;
	s->stats.log_records++;
	if (s->cfg.durability == NODE_SHARD_DURABLE_REPLICATED) {
		s->commit_next = s->log_end;
	}
}

/* The record at off: its size, slot and epoch (the buffer only holds good records). */
static size_t
log_rec(const struct node_shard *s, size_t off, uint64_t *slot, uint64_t *epoch)
{
	const uint8_t *rec = s->log_buf + off;

	*epoch = base_load_le64(rec + 16);
	*slot = base_load_le64(rec + 24);
	return base_load_le32(rec);
}

void
shard_log_apply(struct node_shard *s)
{
	while (!s->need_install && s->log_apply_off < s->log_len) {
		const uint8_t *rec = s->log_buf + s->log_apply_off;
		struct rabia_decided d;
		uint64_t epoch;
		uint16_t count = 0;
		size_t size = log_rec(s, s->log_apply_off, &d.slot, &epoch);
		int rc;

		if (d.slot >= s->commit_next || d.slot != s->applied_next) {
			return; /* not committed yet, or a gap an install must fill */
		}
		memset(&d.id, 0, sizeof(d.id));
		d.is_null = size == NODE_SHARD_LOG_HEAD;
		d.batch = d.is_null ? NULL : rec + NODE_SHARD_LOG_HEAD;
		d.batch_size = size - NODE_SHARD_LOG_HEAD;
		d.requests = s->reqs;
		if (!d.is_null) {
			rc = rabia_batch_parse(d.batch, d.batch_size, &d.id, &count, s->reqs,
					       s->cfg.rabia.batch_count_max);
			ASSERT(rc == 0); /* Rabia delivered it parsed; the checksum kept it */
		}
		d.request_count = count;
		shard_apply(s, epoch, &d);
		s->applied_next = d.slot + 1;
		s->log_apply_off += size;
	}
}

void
shard_log_durable_update(struct node_shard *s)
{
	uint64_t d = s->durable_next;

	if (s->ckpt_durable > d) {
		d = s->ckpt_durable;
	}
	/* The object continues the durable checkpoint when its first record is at most one
	 * past it (records below it are skipped at load). */
	if (s->log_first <= d && s->synced_end > d) {
		d = s->synced_end;
	}
	if (d != s->durable_next) {
		s->durable_next = d;
		if (s->cfg.durability == NODE_SHARD_DURABLE_SYNC) {
			shard_status_broadcast(s);
			shard_commit_update(s); /* this replica's mark counts too (alone: n = 1) */
		}
	}
}

void
shard_log_flush(struct node_shard *s)
{
	const struct env_ops *e = s->env;
	const uint64_t wtok = TOK_LOG_WRITE << TOK_SHIFT;
	int rc;

	if (s->flush_pending || (!s->log_put_needed && s->log_flushed == s->log_len)) {
		return;
	}
	/* REPLICATED answers without the disk: one fsync per interval is enough, and every
	 * flush costs the loop a system call and a context switch of io_uring's workers. */
	if (s->cfg.durability == NODE_SHARD_DURABLE_REPLICATED && s->flush_ns != 0 &&
	    s->now_ns - s->flush_ns < s->cfg.log_flush_interval_ns) {
		return;
	}
	if (s->log_put_needed) {
		rc = e->storage_put(e->ctx, NODE_SHARD_OBJ_LOG, s->log_buf, s->log_len, wtok);
		s->stats.log_rewrites++;
	} else {
		rc = e->storage_append(e->ctx, NODE_SHARD_OBJ_LOG, s->log_buf + s->log_flushed,
				       s->log_len - s->log_flushed, wtok);
	}
	if (rc == 0) {
		rc = e->storage_sync(e->ctx, NODE_SHARD_OBJ_LOG, TOK_LOG_SYNC << TOK_SHIFT);
		/* A refused sync after an accepted write: the write completes, the next
		 * flush rewrites. */
		s->flush_failed = rc != 0;
		s->flush_pending = rc == 0 ? 2 : 1;
	}
	if (rc != 0 && !s->flush_pending) {
		s->stats.storage_errors++;
		return; /* refused (queue full): the next poll tries again */
	}
	s->log_put_needed = 0;
	s->log_flushed = s->log_len;
	s->flush_end = s->log_end;
	s->flush_gen = s->log_gen;
	s->flush_ns = s->now_ns != 0 ? s->now_ns : 1;
	s->stats.log_flushes++;
}

void
shard_log_done(struct node_shard *s, uint64_t kind, int status)
{
	if (status != 0) {
		/* The object's tail is unknown (env.h): rewrite it from the buffer. */
		s->stats.storage_errors++;
		s->flush_failed = 1;
	}
	if (s->flush_pending > 0) {
		s->flush_pending--;
	}
	if (kind == TOK_LOG_WRITE && s->flush_pending > 0) {
		return; /* the sync follows */
	}
	if (s->flush_pending != 0) {
		return;
	}
	if (s->flush_failed) {
		s->flush_failed = 0;
		s->log_put_needed = 1;
		return;
	}
	s->synced_gen = s->flush_gen;
	if (s->flush_gen == s->log_gen && s->flush_end > s->synced_end) {
		s->synced_end = s->flush_end;
	}
	shard_log_durable_update(s);
}

/* Removes bytes [from, to) of the buffer, keeping the offsets pointing at the same records. */
static void
log_remove(struct node_shard *s, size_t from, size_t to)
{
	size_t gone = to - from;

	memmove(s->log_buf + from, s->log_buf + to, s->log_len - to);
	s->log_len -= gone;
	s->log_apply_off = s->log_apply_off >= to    ? s->log_apply_off - gone
			   : s->log_apply_off > from ? from
						     : s->log_apply_off;
	s->log_flushed = 0;
	s->log_put_needed = 1;
	s->log_gen++;
}

void
shard_log_drop_below(struct node_shard *s, uint64_t next)
{
	size_t off = 0;

	while (off < s->log_len) {
		uint64_t slot, epoch;
		size_t size = log_rec(s, off, &slot, &epoch);

		if (slot >= next) {
			break;
		}
		off += size;
	}
	if (off == 0 && s->log_first >= next) {
		return;
	}
	log_remove(s, 0, off);
	if (s->log_len == 0) {
		s->log_first = next > s->log_end ? next : s->log_end;
		s->log_end = s->log_first;
	} else {
		s->log_first = next;
	}
}

void
shard_log_cut_from(struct node_shard *s, uint64_t next)
{
	size_t off = 0;

	while (off < s->log_len) {
		uint64_t slot, epoch;
		size_t size = log_rec(s, off, &slot, &epoch);

		if (slot >= next) {
			break;
		}
		off += size;
	}
	if (off == s->log_len) {
		return;
	}
	log_remove(s, off, s->log_len);
	s->log_end = next > s->log_first ? next : s->log_first;
	if (s->synced_end > s->log_end) {
		s->synced_end = s->log_end;
	}
	if (s->commit_next > s->log_end && s->commit_next > s->applied_next) {
		s->commit_next = s->log_end > s->applied_next ? s->log_end : s->applied_next;
	}
}

/*
 * One record of a loaded object at off, checked (checksum, and a batch Rabia could have
 * delivered under this configuration); its size, or 0 when it is not good.
 */
static size_t
log_check(struct node_shard *s, size_t len, size_t off, uint64_t *slot, uint64_t *epoch)
{
	const uint8_t *rec = s->log_buf + off;
	struct rabia_batch_id id;
	uint16_t count;
	size_t size;

	if (len - off < NODE_SHARD_LOG_HEAD) {
		return 0;
	}
	size = base_load_le32(rec);
	if (size < NODE_SHARD_LOG_HEAD || size > len - off ||
	    base_load_le32(rec + 4) != LOG_MAGIC ||
	    base_load_le64(rec + 8) != log_checksum(rec, size) ||
	    size - NODE_SHARD_LOG_HEAD > s->cfg.rabia.batch_bytes_max) {
		return 0;
	}
	if (size > NODE_SHARD_LOG_HEAD &&
	    (rabia_batch_parse(rec + NODE_SHARD_LOG_HEAD, size - NODE_SHARD_LOG_HEAD, &id, &count,
			       s->reqs, s->cfg.rabia.batch_count_max) != 0 ||
	     count == 0)) {
		return 0;
	}
	*epoch = base_load_le64(rec + 16);
	*slot = base_load_le64(rec + 24);
	return size;
}

int
shard_log_load(struct node_shard *s, uint64_t from)
{
	size_t len = 0;
	size_t off = 0;
	size_t keep = 0;
	size_t first = 0;
	uint64_t expect = from;
	int rc = s->env->storage_load(s->env->ctx, NODE_SHARD_OBJ_LOG, s->log_buf,
				      s->cfg.log_buffer_bytes, &len);

	s->log_first = from;
	s->log_end = from;
	if (rc == -ENOENT) {
		return 0;
	}
	if (rc != 0) {
		return -EBADMSG; /* larger than any log this configuration writes */
	}
	while (off < len) {
		uint64_t slot, epoch;
		size_t size = log_check(s, len, off, &slot, &epoch);

		if (size == 0) {
			break; /* a torn tail: what follows is not recoverable */
		}
		if (slot < from && keep == 0) {
			off += size;
			first = off;
			continue;
		}
		if (slot != expect) {
			break; /* a gap (the object outlived an install) */
		}
		expect++;
		off += size;
		keep = off - first;
	}
	memmove(s->log_buf, s->log_buf + first, keep);
	s->log_len = keep;
	s->log_end = expect;
	s->log_flushed = keep;
	s->synced_end = expect;
	/* A torn tail stays in the object until rewritten: the next append must not follow it. */
	s->log_put_needed = keep != len;
	return 0;
}
