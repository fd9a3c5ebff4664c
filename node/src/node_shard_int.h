/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shard internals shared by node_shard*.c: node_shard.c (layout, lifecycle, poll, queries),
 * node_shard_apply.c (Rabia steps and their output, applying slots, the proxy table, the
 * leader rule), node_shard_store.c (the R11 record, checkpoints, storage completions, restores)
 * and node_shard_xfer.c (state transfer, both sides).
 *
 * Carving: the shard lays out its arrays in one caller block. The same layout function runs
 * twice, first with base == NULL to add up the size, then with the block, so size and layout
 * cannot drift apart. Pieces are 64-byte aligned in absolute terms (the KV store needs it), so
 * the size includes NODE_CARVE_ALIGN bytes of slack for a block that is not itself aligned.
 */
#ifndef AETHER_NODE_NODE_SHARD_INT_H
#define AETHER_NODE_NODE_SHARD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/panic.h"
#include "node/node_shard.h"

#define NODE_CARVE_ALIGN 64u

/* SNAP_REQ: channel, nonce, slot, offset, length. */
#define SHARD_REQ_SIZE   29u
/* SNAP_CHUNK header: channel, nonce, slot, total, sum, offset. */
#define SHARD_CHUNK_HEAD 41u

struct node_carve {
	uint8_t *base; /* NULL while measuring */
	size_t offset;
};

static inline void *
node_carve(struct node_carve *c, size_t size)
{
	uintptr_t base = (uintptr_t)c->base;
	size_t at = (size_t)(((base + c->offset + NODE_CARVE_ALIGN - 1) &
			      ~(uintptr_t)(NODE_CARVE_ALIGN - 1)) -
			     base);

	ASSERT(size <= SIZE_MAX - at);
	c->offset = at + size;
	return c->base == NULL ? NULL : c->base + at;
}

static inline void *
node_carve_array(struct node_carve *c, size_t count, size_t elem_size)
{
	ASSERT(elem_size == 0 || count <= SIZE_MAX / elem_size);
	return node_carve(c, count * elem_size);
}

/* node_shard_apply.c */
/* Sends a frame to one peer; a refused send is a lost datagram (fair-loss links). */
void shard_send(struct node_shard *s, uint32_t to, const uint8_t *frame, size_t size);
/* Applies one committed slot to the KV store and answers the clients waiting here. */
void shard_apply(struct node_shard *s, uint64_t epoch, const struct rabia_decided *d);
/* Runs one Rabia input and drains its whole output. Returns rabia_step's code. */
int shard_step(struct node_shard *s, const struct rabia_input *in);
void shard_tick(struct node_shard *s);
/* Retries client requests Rabia pushed back; 1 when any went in. */
int shard_resubmit(struct node_shard *s);
/* Re-reads `leader` from the applied KV state (reports a change through the hook). */
void shard_leader_refresh(struct node_shard *s);
/* The leader rule: submits a proposal when node_leader_poll asks for one. */
void shard_leader_poll(struct node_shard *s);
/* Hands queued KV change notifications to hooks->on_notify. */
void shard_notify_drain(struct node_shard *s);
/* The answer to a GET/PUT under a break rule (tests only); 1 when answered here. */
int shard_break_answer(struct node_shard *s, uint64_t client_id, uint64_t client_seq,
		       const uint8_t *body, size_t size);

/* node_shard_store.c */
/* Reads the R11 record: 0, -ENOENT when there is none, -EBADMSG when it does not decode. */
int shard_load_hwm(struct node_shard *s, struct rabia_durable *out);
/* Loads the checkpoint into the fresh store, sets *slot: 0, -ENOENT, -EBADMSG. */
int shard_load_ckpt(struct node_shard *s, uint64_t *slot);
/* Replaces the KV state with an encoded snapshot (verified first); re-emits notifications. */
int shard_restore(struct node_shard *s, const uint8_t *snap, size_t size);
void shard_write_hwm(struct node_shard *s, const struct rabia_storage_write *w);
void shard_storage_poll(struct node_shard *s);
void shard_checkpoint(struct node_shard *s);
/* Replaces the checkpoint with an empty object (read as "none"): the state it held is not
 * valid any more (an epoch change rolled this replica back). */
void shard_ckpt_invalidate(struct node_shard *s);

/* Storage tokens: the kind in the top 4 bits, Rabia's token (or 0) below. */
#define TOK_SHIFT      60
#define TOK_MASK       ((UINT64_C(1) << TOK_SHIFT) - 1)
#define TOK_HWM_PUT    UINT64_C(1)
#define TOK_HWM_SYNC   UINT64_C(2)
#define TOK_CKPT_PUT   UINT64_C(3)
#define TOK_CKPT_SYNC  UINT64_C(4)
#define TOK_LOG_WRITE  UINT64_C(5) /* append or put */
#define TOK_LOG_SYNC   UINT64_C(6)
#define TOK_EPOCH_PUT  UINT64_C(7)
#define TOK_EPOCH_SYNC UINT64_C(8)

/* node_shard_log.c */
/* The largest record of one slot. */
size_t shard_log_record_max(const struct node_shard_config *cfg);
/* 1 when Rabia may be stepped: room for a whole step's decisions, commit lag bounded. */
int shard_may_step(struct node_shard *s);
/* Adds a delivered slot to the log buffer (shard_may_step made room). */
void shard_log_add(struct node_shard *s, const struct rabia_decided *d);
/* Applies buffered records below commit_next, in slot order. */
void shard_log_apply(struct node_shard *s);
/* Starts a group commit of the unflushed records (or a rewrite) when none is in flight. */
void shard_log_flush(struct node_shard *s);
/* A TOK_LOG_* completion. */
void shard_log_done(struct node_shard *s, uint64_t kind, int status);
/* Drops records of slots < next (checkpointed or installed); the object is rewritten. */
void shard_log_drop_below(struct node_shard *s, uint64_t next);
/* Drops records of slots >= next (an epoch change); the object is rewritten. */
void shard_log_cut_from(struct node_shard *s, uint64_t next);
/* Recomputes durable_next from the durable checkpoint and the synced records. */
void shard_log_durable_update(struct node_shard *s);
/* At start: reads the object, keeps the valid records that follow slot `from` - 1. */
int shard_log_load(struct node_shard *s, uint64_t from);

/* node_shard_epoch.c */
/* Reads the epoch record: 0, -ENOENT, -EBADMSG. */
int shard_epoch_load(struct node_shard *s);
void shard_epoch_done(struct node_shard *s, uint64_t kind, int status);
void shard_on_status(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size);
void shard_on_epoch_msg(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size);
/* STATUS timer, stall detection, promises: once per poll. */
void shard_epoch_poll(struct node_shard *s);
uint64_t shard_epoch_next_ns(const struct node_shard *s);
/* SYNC: moves commit_next to the majority's durable mark and applies up to it. */
void shard_commit_update(struct node_shard *s);
/* Sends STATUS to every member now (the durable mark moved). */
void shard_status_broadcast(struct node_shard *s);
/* The member index of node id `id`, or UINT32_MAX. */
uint32_t shard_member_index(const struct node_shard *s, uint32_t id);
/* (Re)builds Rabia for s->epoch starting at slot `start`. */
int shard_rabia_begin(struct node_shard *s, uint64_t start);

/* node_shard_xfer.c */
void shard_pull_begin(struct node_shard *s, uint32_t peer);
void shard_on_snap_req(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size);
void shard_on_chunk(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size);
void shard_xfer_timer(struct node_shard *s);
/* The earliest transfer timer, or UINT64_MAX. */
uint64_t shard_xfer_next_ns(const struct node_shard *s);

#endif /* AETHER_NODE_NODE_SHARD_INT_H */
