/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State transfer (R10), both sides: the puller asks for byte ranges of a peer's snapshot by
 * offset and keeps a window of chunks in flight; the server encodes its snapshot once into a
 * cache and serves ranges from it. Frames and rules are in node_shard.h.
 */
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"
#include "node_shard_int.h"

static uint32_t
xfer_member_index(const struct node_shard *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		if (s->cfg.rabia.members[i] == id) {
			return i;
		}
	}
	return UINT32_MAX;
}

/* ---- serving ---- */

/* Another peer pulled from the cache recently: re-encoding would restart its transfer. */
static int
serve_is_pinned(const struct node_shard *s, uint32_t index)
{
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		uint64_t t = s->serve.pulled_ns[i];

		if (i != index && t != 0 && s->now_ns - t < s->cfg.transfer_timeout_ns) {
			return 1;
		}
	}
	return 0;
}

/* Encodes the KV state as of the last applied slot into the cache. */
static void
serve_encode(struct node_shard *s)
{
	uint64_t next = s->applied_next;
	size_t size;
	int rc;

	ASSERT(next > 0);
	rc = kv_store_snapshot_encode(s->kv, s->snap_out, s->snap_max, &size);
	ASSERT(rc == 0); /* snap_max bounds every snapshot of this configuration */
	s->serve.is_valid = 1;
	s->serve.slot = next - 1;
	s->serve.size = size;
	s->serve.sum = base_load_le64(s->snap_out + 16); /* the snapshot's body checksum */
	s->stats.snapshots_served++;
}

static void
serve_chunks(struct node_shard *s, uint32_t to, uint64_t nonce, uint64_t offset, uint64_t length)
{
	const struct node_shard_serve *c = &s->serve;
	uint64_t end =
		offset + base_min_size(length, NODE_SHARD_WINDOW_MAX * NODE_SHARD_CHUNK_SIZE);
	uint8_t *f = s->tx;

	end = end < c->size ? end : c->size;
	for (uint64_t off = offset; off < end; off += NODE_SHARD_CHUNK_SIZE) {
		size_t len = base_min_size(NODE_SHARD_CHUNK_SIZE, c->size - off);

		f[0] = NODE_SHARD_CH_SNAP_CHUNK;
		base_store_le64(f + 1, nonce);
		base_store_le64(f + 9, c->slot);
		base_store_le64(f + 17, c->size);
		base_store_le64(f + 25, c->sum);
		base_store_le64(f + 33, off);
		memcpy(f + SHARD_CHUNK_HEAD, s->snap_out + off, len);
		if (s->env->send(s->env->ctx, to, f, SHARD_CHUNK_HEAD + len) != 0) {
			s->stats.send_errors++;
			return; /* the queue is full: the puller asks again */
		}
		s->stats.chunks_served++;
	}
}

void
shard_on_snap_req(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size)
{
	uint32_t index = xfer_member_index(s, from);
	uint64_t next = s->applied_next;
	uint64_t nonce;
	uint64_t slot;
	uint64_t offset;

	if (size != SHARD_REQ_SIZE || index == UINT32_MAX || from == s->node) {
		s->stats.bad_frames++;
		return;
	}
	nonce = base_load_le64(f + 1);
	slot = base_load_le64(f + 9);
	offset = base_load_le64(f + 17);
	if (offset % NODE_SHARD_CHUNK_SIZE != 0) {
		s->stats.bad_frames++;
		return;
	}
	if (next == 0 || s->need_install) {
		return; /* nothing applied yet, or a state being replaced: nothing to serve */
	}
	/* A transfer in progress keeps its snapshot; a new one gets a fresh one if nobody else
	 * is pulling the cached one. */
	if (!s->serve.is_valid ||
	    (slot != s->serve.slot && s->serve.slot + 1 < next && !serve_is_pinned(s, index))) {
		serve_encode(s);
	}
	if (slot != s->serve.slot) {
		offset = 0; /* another snapshot than asked for: the puller starts over with it */
	}
	s->serve.pulled_ns[index] = s->now_ns != 0 ? s->now_ns : 1;
	serve_chunks(s, from, nonce, offset, base_load_le32(f + 25));
}

/* ---- pulling ---- */

static uint64_t
pull_chunks(const struct node_shard_pull *p)
{
	return (p->total + NODE_SHARD_CHUNK_SIZE - 1) / NODE_SHARD_CHUNK_SIZE;
}

static void
pull_request(struct node_shard *s, uint64_t first, uint64_t count)
{
	const struct node_shard_pull *p = &s->pull;
	uint8_t f[SHARD_REQ_SIZE];

	ASSERT(count > 0 && count <= NODE_SHARD_WINDOW_MAX);
	f[0] = NODE_SHARD_CH_SNAP_REQ;
	base_store_le64(f + 1, p->nonce);
	base_store_le64(f + 9, p->has_snap ? p->slot : NODE_SHARD_SNAP_ANY);
	base_store_le64(f + 17, first * NODE_SHARD_CHUNK_SIZE);
	base_store_le32(f + 25, (uint32_t)(count * NODE_SHARD_CHUNK_SIZE));
	shard_send(s, p->peer, f, sizeof(f));
}

/* The end of the window: base + window chunks, or the last chunk. */
static uint64_t
pull_window_end(const struct node_shard *s)
{
	const struct node_shard_pull *p = &s->pull;
	uint64_t end = p->base + s->cfg.transfer_window_chunks;

	return p->has_snap && end > pull_chunks(p) ? pull_chunks(p) : end;
}

/* Keeps the window full, asking in runs of at least half a window (fewer requests). */
static void
pull_fill(struct node_shard *s)
{
	struct node_shard_pull *p = &s->pull;
	uint64_t end = pull_window_end(s);
	uint64_t half = (s->cfg.transfer_window_chunks + 1) / 2;

	if (end > p->req_hi && (end - p->req_hi >= half || end == pull_chunks(p))) {
		pull_request(s, p->req_hi, end - p->req_hi);
		p->req_hi = end;
	}
}

void
shard_pull_begin(struct node_shard *s, uint32_t peer)
{
	struct node_shard_pull *p = &s->pull;

	if (p->is_active) {
		return;
	}
	memset(p, 0, sizeof(*p));
	p->is_active = 1;
	p->peer = peer;
	p->nonce = s->nonce_next++;
	p->retry_ns = s->now_ns + s->cfg.transfer_retry_ns;
	p->deadline_ns = s->now_ns + s->cfg.transfer_timeout_ns;
	p->req_hi = s->cfg.transfer_window_chunks;
	s->stats.transfers_requested++;
	pull_request(s, 0, s->cfg.transfer_window_chunks);
}

static void
pull_install(struct node_shard *s)
{
	struct node_shard_pull *p = &s->pull;
	struct rabia_input in = {.type = RABIA_INPUT_STATE_INSTALLED, .now_ns = s->now_ns};

	p->is_active = 0;
	if (!s->need_install && p->slot < s->applied_next) {
		return; /* caught up by decisions meanwhile: the snapshot is older than our state */
	}
	if (shard_restore(s, s->snap_in, p->total) != 0) {
		s->stats.bad_frames++; /* a peer served bytes that do not verify; Rabia asks again
					*/
		return;
	}
	s->stats.transfers_installed++;
	s->need_install = 0;
	s->applied_next = p->slot + 1;
	if (s->commit_next < s->applied_next) {
		s->commit_next = s->applied_next;
	}
	shard_log_drop_below(s, s->applied_next);
	s->ckpt_force = 1; /* the log restarts past the checkpoint: make it continuous */
	if (s->hooks->on_installed != NULL) {
		s->hooks->on_installed(s->hooks->ctx, s->node, p->slot);
	}
	if (p->slot >= rabia_next_slot(s->rabia) && !s->adopting && shard_may_step(s)) {
		in.installed.slot = p->slot;
		(void)!shard_step(s, &in);
	}
	shard_log_apply(s);
}

/*
 * Which snapshot a chunk belongs to: 1 to store it (adopting its snapshot when it is the first
 * or a newer one), 0 to drop it.
 */
static int
pull_accept(struct node_shard *s, uint64_t slot, uint64_t total, uint64_t sum)
{
	struct node_shard_pull *p = &s->pull;

	if (slot > UINT64_MAX / 4) {
		s->stats.bad_frames++; /* beyond any slot Rabia can reach (rabia_cfg_check) */
		return 0;
	}
	if ((p->has_snap && slot < p->slot) || (s->need_install && slot < s->need_slot)) {
		s->stats.chunks_stale++;
		return 0;
	}
	if (p->has_snap && slot == p->slot) {
		if (total != p->total || sum != p->sum) {
			s->stats.bad_frames++; /* one slot, one canonical snapshot (kv_store.h) */
			return 0;
		}
		return 1;
	}
	if (p->has_snap) {
		s->stats.transfer_restarts++;
	}
	p->has_snap = 1;
	p->slot = slot;
	p->total = total;
	p->sum = sum;
	p->base = 0;
	p->mask = 0;
	p->req_hi = s->cfg.transfer_window_chunks; /* the server answered the window from 0 */
	return 1;
}

void
shard_on_chunk(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size)
{
	struct node_shard_pull *p = &s->pull;
	uint64_t slot, total, sum, offset, index, bit;
	size_t len = size - SHARD_CHUNK_HEAD;

	if (size <= SHARD_CHUNK_HEAD) {
		s->stats.bad_frames++;
		return;
	}
	if (!p->is_active || from != p->peer || base_load_le64(f + 1) != p->nonce) {
		s->stats.chunks_stale++; /* an earlier transfer's, or a duplicate after the end */
		return;
	}
	slot = base_load_le64(f + 9);
	total = base_load_le64(f + 17);
	sum = base_load_le64(f + 25);
	offset = base_load_le64(f + 33);
	if (total < KV_SNAPSHOT_HEADER_SIZE || total > s->snap_max ||
	    offset % NODE_SHARD_CHUNK_SIZE != 0 || offset >= total ||
	    len != base_min_size(NODE_SHARD_CHUNK_SIZE, total - offset)) {
		s->stats.bad_frames++;
		return;
	}
	if (!pull_accept(s, slot, total, sum)) {
		return;
	}
	index = offset / NODE_SHARD_CHUNK_SIZE;
	bit = index >= p->base && index - p->base < 64 ? UINT64_C(1) << (index - p->base) : 0;
	if (bit == 0 || (p->mask & bit) != 0) {
		s->stats.chunks_stale++; /* a duplicate, or beyond the tracked window */
		return;
	}
	memcpy(s->snap_in + offset, f + SHARD_CHUNK_HEAD, len);
	p->mask |= bit;
	s->stats.chunks_received++;
	while ((p->mask & 1) != 0) {
		p->mask >>= 1;
		p->base++;
	}
	p->retry_ns = s->now_ns + s->cfg.transfer_retry_ns;
	p->deadline_ns = s->now_ns + s->cfg.transfer_timeout_ns;
	if (p->base * NODE_SHARD_CHUNK_SIZE >= p->total) {
		pull_install(s);
		return;
	}
	pull_fill(s);
}

/* No progress for transfer_timeout_ns: the next member (not self) serves it. */
static void
pull_next_peer(struct node_shard *s)
{
	uint32_t n = s->cfg.rabia.member_count;
	uint32_t index = xfer_member_index(s, s->pull.peer);

	s->stats.transfers_abandoned++;
	s->pull.is_active = 0;
	if (n < 2 || index == UINT32_MAX) {
		return;
	}
	do {
		index = (index + 1) % n;
	} while (s->cfg.rabia.members[index] == s->node);
	shard_pull_begin(s, s->cfg.rabia.members[index]);
}

void
shard_xfer_timer(struct node_shard *s)
{
	struct node_shard_pull *p = &s->pull;
	uint64_t end;

	if (!p->is_active) {
		return;
	}
	if (p->has_snap && p->slot < s->applied_next && !s->need_install) {
		p->is_active = 0; /* decisions got us past it: it can only be discarded */
		return;
	}
	if (s->now_ns >= p->deadline_ns) {
		pull_next_peer(s);
		return;
	}
	if (s->now_ns < p->retry_ns) {
		return;
	}
	/* Ask again for the whole window; chunks already in are dropped as duplicates. */
	s->stats.transfer_retries++;
	p->retry_ns = s->now_ns + s->cfg.transfer_retry_ns;
	end = pull_window_end(s);
	pull_request(s, p->base, end - p->base);
	p->req_hi = end;
}

uint64_t
shard_xfer_next_ns(const struct node_shard *s)
{
	const struct node_shard_pull *p = &s->pull;

	if (!p->is_active) {
		return UINT64_MAX;
	}
	return p->retry_ns < p->deadline_ns ? p->retry_ns : p->deadline_ns;
}
