/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rabia internals shared by rabia*.c: the replica struct and the functions one file offers
 * another. Not part of the API; tests use rabia.h only.
 *
 * Files: rabia_slot.c (one slot's Weak-MVC, pure, no I/O), rabia_queue.c (pending queue, batch
 * pool, open batch, decided-id memory), rabia_window.c (decided window, DECISION, DEC_REQ,
 * FETCH, STALE), rabia_durable.c (the R11 record), rabia.c (init, step, timers, output).
 */
#ifndef AETHER_CONSENSUS_RABIA_INT_H
#define AETHER_CONSENSUS_RABIA_INT_H

#include <stdint.h>

#include "base/heap.h"
#include "base/map.h"
#include "consensus/rabia.h"
#include "consensus/rabia_msg.h"

/* ---- one slot's Weak-MVC (rabia_slot.c) ---- */

/*
 * Phases whose own STATE/VOTE a slot remembers. A replica that fell behind in a slot needs
 * them: the replicas ahead may have advanced with the help of one that crashed since, and then
 * they cannot advance further without it (answer_old_phase in rabia.c). Slots running longer than
 * this are beyond any probability worth a byte (each phase ends the slot with p >= 1/2).
 */
#define RABIA_PHASE_HISTORY 256

struct rabia_quorum {
	uint32_t n;
	uint32_t f;        /* floor((n-1)/2) */
	uint32_t majority; /* floor(n/2)+1 */
	uint32_t wait;     /* n-f: how many messages each wait needs */
	uint32_t self;     /* this replica's member index */
	uint64_t epoch;
	uint64_t coin_key;
	uint32_t break_rules; /* RABIA_BREAK_*, tests only */
};

/* Senders of one phase's STATE and VOTE messages, as masks over member indexes. */
struct rabia_phase_rec {
	uint32_t phase;
	uint64_t state_from;
	uint64_t state_one;
	uint64_t vote_from;
	uint64_t vote_one;
	uint64_t vote_zero; /* "?" = vote_from & ~vote_one & ~vote_zero */
};

struct rabia_slot {
	uint64_t slot;
	/* Exchange stage: who proposed what. */
	uint64_t prop_from;
	uint64_t prop_null;
	struct rabia_batch_id prop_id[RABIA_NODES_MAX];
	int maj_known; /* the majority batch is known (from proposals or a 1-valued message) */
	struct rabia_batch_id maj_id;
	/* Phases max(1, phase) and that + 1, at index phase & 1. */
	struct rabia_phase_rec rec[2];
	/* This replica's progress. */
	uint32_t phase; /* 0: exchange stage; p >= 1: in phase p */
	int proposed;
	int my_prop_null;
	struct rabia_batch_id my_prop;
	int state_sent;
	int vote_sent;
	uint8_t my_state;
	uint8_t my_vote;
	/* What this replica sent in each phase, value + 1 (0: not sent), to re-send on demand. */
	uint8_t sent_state[RABIA_PHASE_HISTORY];
	uint8_t sent_vote[RABIA_PHASE_HISTORY];
	int decided;
	uint8_t decision;    /* 0: ⊥; 1: maj_id */
	uint32_t anomalies;  /* impossible mixes seen (counted as violations by the caller) */
	uint32_t coin_flips; /* line 13 taken */
	int alarmed;         /* RABIA_EVENT_PHASE_ALARM reported */
};

enum rabia_record {
	RABIA_REC_NEW = 0,  /* recorded */
	RABIA_REC_DUP,      /* identical to what we had: ignored */
	RABIA_REC_CONFLICT, /* different from what we had: equivocation, dropped */
	RABIA_REC_WRONG_ID, /* 1-valued with another majority id: dropped */
	RABIA_REC_OLD,      /* a phase we have finished: ignored */
	RABIA_REC_AHEAD,    /* a phase too far ahead to buffer: dropped */
};

enum rabia_act_type {
	RABIA_ACT_NONE = 0,
	RABIA_ACT_STATE, /* send STATE(phase, value) */
	RABIA_ACT_VOTE,  /* send VOTE(phase, value) */
	RABIA_ACT_DECIDE /* decided `value` (1: maj_id, 0: ⊥) */
};

struct rabia_act {
	enum rabia_act_type type;
	uint32_t phase;
	uint8_t value;
};

void rabia_quorum_init(struct rabia_quorum *q, uint32_t n, uint32_t self, uint64_t epoch,
		       uint64_t coin_key);
int rabia_coin(const struct rabia_quorum *q, uint64_t slot, uint32_t phase);
void rabia_slot_reset(struct rabia_slot *s, uint64_t slot);
/* Records a PROPOSAL, STATE or VOTE from member `index` (any member but self). */
enum rabia_record rabia_slot_record(struct rabia_slot *s, uint32_t index,
				    const struct rabia_msg *m);
/* The same, honouring the quorum's test-only break rules. */
enum rabia_record rabia_slot_record_q(struct rabia_slot *s, const struct rabia_quorum *q,
				      uint32_t index, const struct rabia_msg *m);
/* Algorithm 2 line 1: records this replica's own proposal. */
void rabia_slot_propose(struct rabia_slot *s, const struct rabia_quorum *q, int is_null,
			struct rabia_batch_id id);
/* The next step this replica can take in the slot (and records its own message). */
struct rabia_act rabia_slot_advance(struct rabia_slot *s, const struct rabia_quorum *q);
/* 1 and *value when this replica sent a STATE or VOTE (type) in `phase` of the slot. */
int rabia_slot_sent(const struct rabia_slot *s, uint8_t type, uint32_t phase, uint8_t *value);
/* Does the slot have a proposal from anybody (so an empty queue proposes NULL)? */
int rabia_slot_has_proposals(const struct rabia_slot *s);

/* ---- pool, queue, decided ids (rabia_queue.c) ---- */

struct rabia_pent {
	struct rabia_batch_id id;
	uint8_t *data; /* batch_bytes_max bytes */
	uint32_t size;
	uint16_t count;
	uint8_t in_use;
	uint8_t own;
	uint8_t proxy_index; /* member index of id.proxy */
	uint8_t sent;        /* own: the first REQ went out */
	uint64_t acked;      /* own: members known to hold it (self included) */
};

/* A heap element: the queue key (seq, proxy) and where the batch lives. */
struct rabia_qent {
	uint64_t seq;
	uint32_t proxy;
	uint32_t index;
};

enum rabia_dec_state {
	RABIA_DEC_EMPTY = 0,
	RABIA_DEC_NULL,  /* ⊥ */
	RABIA_DEC_BATCH, /* batch with body */
	RABIA_DEC_WANT,  /* batch id known, body being fetched */
};

struct rabia_dec {
	uint64_t slot;
	uint8_t state;
	struct rabia_batch_id id;
	uint32_t size;
	uint16_t count;
	uint8_t *data; /* batch_bytes_max bytes */
};

struct rabia {
	struct rabia_cfg cfg;
	struct rabia_quorum q;
	int allocated; /* made by rabia_create */
	uint64_t now_ns;
	uint64_t cur;               /* first undelivered slot */
	struct rabia_slot slots[2]; /* cur at cur & 1, cur + 1 at the other */

	/* Pending batches. */
	struct rabia_pent *pool;
	uint32_t *free_list;
	uint32_t free_count;
	struct base_heap *queue;
	struct base_map *pool_ids;             /* id -> u32 pool index */
	uint32_t proxy_count[RABIA_NODES_MAX]; /* pool entries per proxy (member index) */
	uint32_t quota;       /* pending_max / n: each proxy's share of every replica's pool */
	uint32_t own_unacked; /* own batches some peer has not acknowledged */
	uint32_t own_unsent;
	int open_index; /* pool entry of the open batch, -1 when none */
	struct rabia_batch_builder open;
	int open_timed;      /* a step has seen the open batch and started its timeout */
	uint64_t open_ns;    /* when that step ran */
	uint32_t req_cursor; /* where the next REQ retransmission scan starts */
	uint64_t batch_seq_next;

	/* Decided window: window_slots + ahead_slots entries, slot s at s % ring_size. */
	struct rabia_dec *ring;
	uint32_t ring_size;
	uint32_t want_count;      /* entries in RABIA_DEC_WANT */
	uint64_t hist_low;        /* every decided slot in [hist_low, cur) is in the ring */
	struct base_map *dec_ids; /* id -> u64 slot */
	struct rabia_batch_id *dec_fifo;
	uint32_t dec_fifo_head;
	uint32_t dec_fifo_count;

	/* R11. */
	struct rabia_durable durable; /* confirmed */
	struct rabia_durable writing;
	int write_inflight;
	uint64_t write_token;
	uint64_t write_retry_ns;
	uint64_t passive_below; /* recovered slot_hwm: never vote below it */
	uint8_t write_buf[RABIA_DURABLE_SIZE];

	/* Peers, by member index. */
	uint64_t peer_slot[RABIA_NODES_MAX];
	uint64_t answered_slot[RABIA_NODES_MAX];
	uint64_t answered_ns[RABIA_NODES_MAX];
	uint32_t answered_phase[RABIA_NODES_MAX];
	uint64_t answered_phase_ns[RABIA_NODES_MAX];

	/* Timers. */
	uint64_t activity_ns; /* the current slot last moved (or was retransmitted) */
	uint64_t req_retx_ns; /* REQs were last retransmitted */
	uint64_t heartbeat_last_ns;
	uint64_t dec_req_ns;
	uint64_t dec_req_hi;
	uint64_t transfer_event_ns;
	int more_work;

	/* Output of the current step. */
	struct rabia_out_msg *out_msgs;
	size_t out_msg_count;
	uint8_t *out_bytes;
	size_t out_bytes_used;
	struct rabia_decided *out_decided;
	size_t out_decided_count;
	struct rabia_request *out_reqs; /* out_decided_max * batch_count_max */
	struct rabia_event out_events[RABIA_OUT_EVENTS_MAX];
	size_t out_event_count;
	struct rabia_storage_write out_write;
	int has_write;

	struct rabia_stats stats;
};

int rabia_pool_find(const struct rabia *r, struct rabia_batch_id id);
/* Copies a validated batch into the pool and queues it; -ENOBUFS when full. */
int rabia_pool_add(struct rabia *r, struct rabia_batch_id id, const uint8_t *data, size_t size,
		   uint16_t count);
void rabia_pool_remove(struct rabia *r, int index);
/*
 * Queues a batch unless it is known decided or already queued; when the proxy's share is
 * full, evicts one of its batches with a larger key. 1 when the batch is held afterwards.
 */
int rabia_queue_offer(struct rabia *r, struct rabia_batch_id id, const uint8_t *data, size_t size,
		      uint16_t count);
/* The queue head, or NULL. */
const struct rabia_pent *rabia_queue_head(const struct rabia *r);
/* Remembers that id was decided in slot (evicting the oldest id when full). */
void rabia_decided_note(struct rabia *r, struct rabia_batch_id id, uint64_t slot);
/* 1 and *slot when id is remembered as decided. */
int rabia_decided_find(const struct rabia *r, struct rabia_batch_id id, uint64_t *slot);
/* Seals the open batch when its timeout is due (or at once with force); 1 when it sealed. */
int rabia_open_seal(struct rabia *r, int force);
int rabia_open_submit(struct rabia *r, uint64_t client_id, uint64_t client_seq, const uint8_t *body,
		      size_t size);
/* Sends REQ for own batches never sent; with retransmit, re-sends to peers that have not acked. */
void rabia_reqs_send(struct rabia *r, int retransmit);
int rabia_on_req(struct rabia *r, uint32_t index, const struct rabia_msg *m);
void rabia_on_req_ack(struct rabia *r, uint32_t index, const struct rabia_msg *m);

/* ---- decided window and catch-up (rabia_window.c) ---- */

struct rabia_dec *rabia_ring_get(struct rabia *r, uint64_t slot);
/*
 * Stores a decision for slot (cur <= slot < cur + ahead_slots). For a batch, takes the body
 * from `body` when given, else from the pool, else marks it wanted and broadcasts FETCH.
 */
void rabia_ring_store(struct rabia *r, uint64_t slot, int is_null, struct rabia_batch_id id,
		      const uint8_t *body, size_t body_size, uint16_t count);
/* A batch body arrived (REQ, FETCH_REPLY, DECISION): fill wanted entries. */
void rabia_ring_body(struct rabia *r, struct rabia_batch_id id, const uint8_t *body, size_t size,
		     uint16_t count);
int rabia_on_decision(struct rabia *r, uint32_t index, const struct rabia_msg *m);
void rabia_on_dec_req(struct rabia *r, uint32_t index, const struct rabia_msg *m);
void rabia_on_fetch(struct rabia *r, uint32_t index, const struct rabia_msg *m);
void rabia_on_stale(struct rabia *r, uint32_t index, const struct rabia_msg *m);
int rabia_on_fetch_reply(struct rabia *r, uint32_t index, const struct rabia_msg *m);
/* Answers a message about a slot this replica knows the decision of (or STALE if forgotten). */
void rabia_answer_decided(struct rabia *r, uint32_t index, uint64_t slot);
/* Sends DEC_REQ to `index` (rate limited) when it is ahead of us. */
void rabia_request_decisions(struct rabia *r, uint32_t index, uint64_t peer_slot, int force);
void rabia_send_decision(struct rabia *r, uint32_t to, const struct rabia_dec *d, int with_body);
void rabia_send_fetch(struct rabia *r, uint32_t to, struct rabia_batch_id id);

/* ---- the durable record (rabia_durable.c) ---- */

/* Outputs a storage write when the reserved slots or batch seqs run low (one at a time). */
void rabia_durable_maybe_write(struct rabia *r);
int rabia_on_storage(struct rabia *r, uint64_t token, int status);
/* R11: may this replica send PROPOSAL/STATE/VOTE for its current slot? */
int rabia_may_participate(const struct rabia *r);

/* ---- shared helpers (rabia.c) ---- */

uint32_t rabia_member_id(const struct rabia *r, uint32_t index);
/* The member index of node id, or UINT32_MAX. */
uint32_t rabia_member_index(const struct rabia *r, uint32_t id);
/* Encodes and queues a message (header filled in here); counts a drop when output is full. */
void rabia_send(struct rabia *r, uint32_t to, struct rabia_msg *m);
void rabia_event(struct rabia *r, enum rabia_event_type type, uint32_t peer, uint64_t slot,
		 int code);
/* Counts and reports a violation by node `peer_id`; returns -EPROTO for the caller to pass on. */
int rabia_violation(struct rabia *r, uint32_t peer_id, uint64_t slot, enum rabia_violation v);
/* Validates a peer's batch against the configured limits (0 or -EPROTO). */
int rabia_batch_check(const struct rabia *r, const uint8_t *data, size_t size, uint16_t count);

#endif /* AETHER_CONSENSUS_RABIA_INT_H */
