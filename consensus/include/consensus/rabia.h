/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rabia state-machine replication as a pure step function (STYLE.md section 6): inputs are
 * messages, ticks carrying now_ns, storage completions and "state installed"; outputs go to
 * bounded arrays the caller drains after each step. No clock, socket, thread, callback or
 * allocation after init. The specification is /work/shared/design/rabia.md (Part 1); the
 * paper is Pan et al., "Rabia: Simplifying State-Machine Replication Through Randomization",
 * SOSP 2021. Quotes below are from its Algorithms 1-3 as transcribed in rabia.md 1.3-1.4.
 *
 * == The SMR loop (Algorithm 1), one outstanding slot at a time (rabia.md 1.7 row 9) ==
 *
 *   "1  proposal_i <- first element of PQ_i that is not already in log"
 *   "2  output <- Weak-MVC(proposal_i, seq)"
 *   "3  log[seq] <- output"
 *   "4  if output = ⊥ or output != proposal_i: PQ_i.push(proposal_i)"
 *   "5  seq <- seq + 1"
 *   "6  PQ_i.push(request); forward request to all other replicas"
 *
 * Requests are batched by the replica that receives them (its proxy role, rabia_submit). A
 * batch is named (proxy node id, proxy batch seq); the proxy forwards it to every replica in a
 * REQ message, retransmitted until each peer acknowledges it or it is decided, and every
 * replica keeps it in its pending queue ordered by (proxy batch seq, proxy id), a key all
 * replicas compute identically (rabia.md 1.7 row 3). The proposal for a slot is the head of
 * the queue; decided batches leave the queue at once and their ids are remembered, so a
 * decided batch is never proposed again (R3, line 1). Line 4's push-back is implicit: the
 * proposal is only peeked, so after ⊥ or after losing to another batch it is still queued and
 * is proposed again. A replica with an empty queue proposes nothing until a PROPOSAL for its
 * current slot arrives, then proposes NULL, which never counts towards a majority (R3).
 *
 * Queue heads only coincide if replicas hold the same batches, so two rules keep the queues
 * alike (found with the cluster harness; neither affects safety): each proxy may hold at most
 * pending_max / n entries of any replica's queue, a full share evicting that proxy's batch
 * with the largest key (the smallest keys are the ones heads need first); and a PROPOSAL
 * naming a batch this replica does not hold makes it FETCH the batch from the proposer (after
 * crashes a batch held by a minority would otherwise lose every slot, all ⊥). A PROPOSAL naming
 * a batch known to be decided is answered with that DECISION, so stale queues heal.
 *
 * == Weak-MVC, paper form (Algorithm 2; rabia.md 1.4, rule R4) ==
 *
 *   "1  send (PROPOSAL, q) to all"
 *   "2  wait until >= n-f PROPOSAL messages received"
 *   "3  if some request appears >= floor(n/2)+1 times among them: state <- 1 else state <- 0"
 *   "6    send (STATE, p, state) to all"
 *   "7    wait until >= n-f phase-p STATE messages"
 *   "8    if some v in {0,1} appears >= floor(n/2)+1 times: vote <- v else vote <- ?"
 *   "9    send (VOTE, p, vote) to all"
 *   "10   wait until >= n-f phase-p VOTE messages"
 *   "11   if some non-? v appears >= f+1 times: return FindReturnValue(v)"
 *   "12   else if some non-? v appears at least once: state <- v"
 *   "13   else: state <- CommonCoinFlip(p)"
 *   "14   p <- p+1"
 *
 * f = floor((n-1)/2). Messages are counted by DISTINCT SENDER (a bitmask per slot, phase and
 * round; R1): an identical duplicate is ignored silently, a second different message from the
 * same sender for the same key is a protocol violation, dropped and counted, never
 * overwritten. Each wait ends the first time its threshold is met; messages arriving later
 * are still recorded (R4) but do not change the decision already taken. Own messages count
 * at once (self-delivery, R2). Messages for the next slot and the next phase are buffered;
 * messages further ahead are dropped and come back through retransmission.
 *
 * Coin (R5): CommonCoinFlip(p) for slot s is the low bit of base_hash64(epoch, s, p) seeded
 * with the cluster's coin key: every replica computes the same bit, there is no state.
 *
 * FindReturnValue (R7 fix of rabia.md 1.9-A): every 1-valued STATE and VOTE carries the id of
 * the slot's majority batch, so a replica that decides 1 always knows which batch it decided.
 * If it lacks the body it broadcasts FETCH(id) until a peer answers from its queue or decided
 * window; the slot is delivered once the body is there.
 *
 * == Decisions and catch-up (R6, R10) ==
 *
 * A replica that decides broadcasts DECISION; any replica adopts a DECISION for a slot it has
 * not decided (decisions up to `ahead_slots` beyond its current slot are stored and used when
 * it gets there). A message about a slot this replica has decided is answered with that
 * slot's DECISION, so laggards catch up; DEC_REQ(from, to) asks a peer for a range. Decided
 * slots stay in a window of `window_slots` slots for these answers. A request older than the
 * window gets a STALE reply and a RABIA_EVENT_PEER_NEEDS_TRANSFER event; a replica that sees
 * a peer more than `window_slots` ahead of it, or receives STALE, emits
 * RABIA_EVENT_NEED_TRANSFER. The snapshot transfer itself belongs to the replica layer, which
 * reports the result with RABIA_INPUT_STATE_INSTALLED(S): Rabia then continues at slot S+1.
 *
 * == Time (fair-loss links) ==
 *
 * A tick never decides anything: timers only retransmit, so safety never depends on time.
 * When the current slot has not moved for rto_ns, the replica re-sends its PROPOSAL and its
 * STATE/VOTE of the current and previous phase, re-sends FETCH for a missing body, and asks a
 * peer that is ahead for decisions. REQs are re-sent every rto_ns to peers that have not
 * acknowledged them. A peer still in an older phase of our slot gets our STATE/VOTE of that
 * phase on demand: the replicas ahead may have got there with a replica that crashed since,
 * and then nobody could move without them. Every output carries the next time the driver must
 * tick.
 *
 * == Crash recovery (R11) ==
 *
 * The participation high-water mark H ("this replica has sent no PROPOSAL, STATE or VOTE for
 * any slot >= H") and the batch-sequence mark ("no batch with seq >= this was formed") are
 * persisted through storage-write outputs that the driver puts, syncs and confirms with
 * RABIA_INPUT_STORAGE_DONE. Rabia sends nothing for slot s until a durable H > s is confirmed,
 * and reserves hwm_step slots per write. A replica restarted with the recovered marks
 * (cfg.recovered) never sends PROPOSAL, STATE or VOTE for a slot below the recovered H: it
 * learns those slots only from DECISIONs (it asks for them with DEC_REQ on every timer).
 * R11's text says "do not send ... for any slot <= H" with H inclusive; here H is exclusive
 * (the first slot never touched), which is the same rule.
 *
 * Known limit: if more than f replicas restart before the cluster gets past their recovered
 * marks, fewer than n-f replicas may vote in those slots and the cluster stops (R11 cannot tell
 * which messages were sent before a crash, and the marks run up to hwm_step slots ahead; even
 * hwm_step 1 covers the slot that was in progress). The way out is a new epoch, in which no
 * earlier message counts (see struct rabia_durable): the replica layer runs that change itself
 * (node/src/node_shard_epoch.c: stalled replicas agree on the next epoch and its first slot
 * through one coordinator, then build a new Rabia with cfg.epoch and cfg.start_slot). Up to f
 * restarts at a time need no epoch change.
 *
 * == Bounds (R13) ==
 *
 * Everything is sized from struct rabia_cfg at init. Submitting when this proxy's queue share
 * is full returns -ENOBUFS; REQs that find their proxy's share full (and nothing larger to
 * evict) are dropped unacknowledged (the proxy retries); batches over the configured size or count
 * are protocol violations; a slot that passes phase_max phases raises RABIA_EVENT_PHASE_ALARM once
 * and keeps going (termination is probabilistic); output overflow drops the message (as a lossy
 * link would) and counts it.
 *
 * Concurrency: one owner thread (the control lcore or the simulator); no internal locking.
 */
#ifndef AETHER_CONSENSUS_RABIA_H
#define AETHER_CONSENSUS_RABIA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "consensus/rabia_msg.h"

/* Members per cluster: sender sets are 64-bit masks. */
#define RABIA_NODES_MAX            64
/* rabia_out_msg.to for a message to every member except this replica. */
#define RABIA_TO_ALL               UINT32_MAX
/* Events one step can report; further ones are counted in stats.events_dropped. */
#define RABIA_OUT_EVENTS_MAX       16
/*
 * Test only: deliberately wrong rules for rabia_cfg.break_rules, so the simulator can show that
 * its checkers catch a broken Rabia (rabia.md 3f, "mutation check"). Never set in production.
 */
#define RABIA_BREAK_NF_FAST_PATH   (1u << 0) /* decide on n-f equal STATEs (rabia.md 1.9-B) */
#define RABIA_BREAK_COUNT_MESSAGES (1u << 1) /* count messages, not senders (1.7 row 7) */
#define RABIA_BREAK_ALL            (RABIA_BREAK_NF_FAST_PATH | RABIA_BREAK_COUNT_MESSAGES)
/* Encoded size of struct rabia_durable. */
#define RABIA_DURABLE_SIZE         40

/*
 * The persisted record (R11). slot_hwm: no PROPOSAL/STATE/VOTE was ever sent for a slot >=
 * slot_hwm in `epoch`. batch_seq_hwm: no batch with seq >= batch_seq_hwm was ever formed by
 * this proxy, so batch ids stay unique across restarts.
 *
 * The slot mark binds only within its epoch: peers drop messages of other epochs, so nothing
 * sent before can be counted after an epoch change. That is the way out of the known limit
 * below (more than f replicas restarted): restart every replica with cfg.epoch one higher.
 */
struct rabia_durable {
	uint64_t epoch;
	uint64_t slot_hwm;
	uint64_t batch_seq_hwm;
};

/* Writes the versioned, checksummed RABIA_DURABLE_SIZE-byte form. */
void rabia_durable_encode(const struct rabia_durable *d, uint8_t out[RABIA_DURABLE_SIZE]);
/*
 * Reads it back. Returns 0, -BASE_ERR_TRUNCATED / -BASE_ERR_TRAILING for a wrong size,
 * -BASE_ERR_VERSION, or -BASE_ERR_CHECKSUM for a torn or corrupted record; the caller must
 * not start a replica that had a record it cannot read (its H is unknown).
 */
AE_MUST_CHECK int rabia_durable_decode(const uint8_t *data, size_t size, struct rabia_durable *out);

struct rabia_cfg {
	uint64_t cluster_id;
	uint64_t epoch;
	uint64_t coin_key; /* shared by all members (R5) */
	uint32_t self_id;
	uint32_t member_count;             /* n, 1..RABIA_NODES_MAX */
	uint32_t members[RABIA_NODES_MAX]; /* node ids, distinct, self_id among them */

	uint32_t batch_count_max;   /* requests per batch, 1..RABIA_BATCH_COUNT_MAX */
	uint32_t batch_bytes_max;   /* encoded batch, up to RABIA_BATCH_BYTES_MAX */
	uint32_t request_bytes_max; /* one request body; header + one request fit a batch */
	uint32_t pending_max;       /* queued batches, own and forwarded, >= n; pending_max / n
				       per proxy */
	uint32_t window_slots;      /* decided slots kept for laggards (R10), >= 2 */
	uint32_t ahead_slots;       /* decisions accepted beyond the current slot, >= 1 */
	uint32_t decided_ids_max;   /* decided batch ids remembered, >= window + ahead */
	uint32_t phase_max;         /* phases per slot before RABIA_EVENT_PHASE_ALARM */
	uint32_t hwm_step;          /* slots and batch seqs reserved per durable write, >= 1 */
	uint32_t catchup_max;       /* DECISIONs sent for one DEC_REQ */
	uint32_t out_msgs_max;      /* messages per step, >= 8 */
	uint32_t out_bytes_max;     /* encoded bytes per step, >= RABIA_MSG_MAX */
	uint32_t out_decided_max;   /* decided slots per step */

	uint64_t rto_ns;           /* retransmission timeout */
	uint64_t batch_timeout_ns; /* an open batch is sealed this long after its first request */
	uint64_t heartbeat_ns;     /* 0 = off; else broadcast DEC_REQ this often (idle catch-up) */

	/*
	 * Restart: the first slot to decide (0, or a snapshot's last slot + 1) and the recovered
	 * marks (all zero for a new replica). recovered.epoch must not exceed epoch; a record of
	 * an older epoch keeps only its batch mark.
	 */
	uint64_t start_slot;
	struct rabia_durable recovered;

	uint32_t break_rules; /* RABIA_BREAK_*: tests only, 0 otherwise */
};

/* Fills every field except identity (cluster_id, self_id, members) with the defaults. */
void rabia_cfg_defaults(struct rabia_cfg *cfg);
/* 0, or -EINVAL naming no field (use it before rabia_size; the limits are in the fields). */
AE_MUST_CHECK int rabia_cfg_check(const struct rabia_cfg *cfg);

enum rabia_input_type {
	RABIA_INPUT_MESSAGE = 1,
	RABIA_INPUT_TICK = 2,
	RABIA_INPUT_STORAGE_DONE = 3,
	RABIA_INPUT_STATE_INSTALLED = 4,
};

/* One input. now_ns is monotonic (a smaller value than before is treated as no change). */
struct rabia_input {
	enum rabia_input_type type;
	uint64_t now_ns;
	union {
		struct {
			uint32_t from;       /* the sender as the transport knows it */
			const uint8_t *data; /* borrows, for the call */
			size_t size;
		} message;
		struct {
			uint64_t token; /* from rabia_storage_write.token */
			int status;     /* 0 when put and sync both succeeded */
		} storage;
		struct {
			uint64_t slot; /* the installed snapshot covers every slot <= slot */
		} installed;
	};
};

struct rabia_out_msg {
	uint32_t to; /* a member's node id or RABIA_TO_ALL */
	const uint8_t *data;
	size_t size;
};

/* One decided slot, delivered in slot order with no gaps (after start or an install). */
struct rabia_decided {
	uint64_t slot;
	int is_null; /* ⊥: nothing to execute */
	struct rabia_batch_id id;
	size_t request_count;
	const struct rabia_request *requests;
	const uint8_t *batch; /* the encoded batch */
	size_t batch_size;
};

/* Put `data` as the durable record, sync it, then feed RABIA_INPUT_STORAGE_DONE(token). */
struct rabia_storage_write {
	uint64_t token;
	const uint8_t *data;
	size_t size;
	struct rabia_durable value; /* what data encodes */
};

enum rabia_event_type {
	RABIA_EVENT_NEED_TRANSFER = 1,       /* this replica is behind `peer`'s window: install a
						snapshot from it; slot = the peer's slot */
	RABIA_EVENT_PEER_NEEDS_TRANSFER = 2, /* `peer` asked for `slot`, older than our window */
	RABIA_EVENT_VIOLATION = 3,           /* `peer` broke the protocol; code: rabia_violation */
	RABIA_EVENT_PHASE_ALARM = 4,         /* `slot` passed phase_max phases (code: phase) */
	RABIA_EVENT_STORAGE_FAILED = 5,      /* durable write failed (code: status); retried */
};

enum rabia_violation {
	RABIA_VIOLATION_EQUIVOCATION = 1, /* a second, different message for the same key */
	RABIA_VIOLATION_WRONG_ID = 2,     /* a 1-valued message naming another majority batch */
	RABIA_VIOLATION_DECISION = 3,     /* a DECISION contradicting a known decision */
	RABIA_VIOLATION_SENDER = 4,       /* header sender is not the transport sender/a member */
	RABIA_VIOLATION_BATCH = 5,        /* batch over the configured limits, or REQ not from
					     its proxy */
	RABIA_VIOLATION_VOTES = 6,        /* both 0 and 1 votes in one phase (impossible unless
					     a peer is faulty) */
};

struct rabia_event {
	enum rabia_event_type type;
	uint32_t peer; /* node id, or this replica's */
	uint64_t slot;
	int code;
};

/*
 * The result of one step. Every pointer points into the replica's memory and stays valid until
 * the next rabia_step or rabia_submit on it.
 */
struct rabia_output {
	const struct rabia_out_msg *msgs;
	size_t msg_count;
	const struct rabia_decided *decided;
	size_t decided_count;
	const struct rabia_storage_write *write; /* NULL or one write */
	const struct rabia_event *events;
	size_t event_count;
	uint64_t next_tick_ns; /* tick at or after this time; UINT64_MAX: no timer is pending */
};

struct rabia_stats {
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t msgs_out_dropped; /* output full */
	uint64_t decode_errors;
	uint64_t foreign;    /* other cluster or epoch */
	uint64_t duplicates; /* identical duplicates ignored */
	uint64_t violations; /* includes equivocations */
	uint64_t equivocations;
	uint64_t ahead_drops;   /* slot or phase too far ahead to buffer */
	uint64_t slots_decided; /* delivered */
	uint64_t slots_null;
	uint64_t decisions_adopted; /* from DECISION messages */
	uint64_t retransmits;       /* timer firings that re-sent slot messages */
	uint64_t req_retransmits;
	uint64_t fetches;
	uint64_t laggard_answers;
	uint64_t stale_sent;
	uint64_t queue_full_drops; /* REQs dropped: pending queue full */
	uint64_t submit_rejects;
	uint64_t phase_alarms;
	uint64_t phase_max_seen;
	uint64_t storage_errors;
	uint64_t events_dropped;
	uint64_t coin_flips;
};

struct rabia;

/* Bytes rabia_init needs for cfg (which must pass rabia_cfg_check). Cost: O(1). */
size_t rabia_size(const struct rabia_cfg *cfg);
/*
 * Builds a replica in `memory` (rabia_size(cfg) bytes, 16-byte aligned, owned by the caller and
 * borrowed for the replica's life). cfg is copied. Returns 0 and sets *out, or -EINVAL.
 */
AE_MUST_CHECK int rabia_init(void *memory, const struct rabia_cfg *cfg, struct rabia **out);
/* As rabia_init with memory from base_alloc (startup only); -ENOMEM. */
AE_MUST_CHECK int rabia_create(const struct rabia_cfg *cfg, struct rabia **out);
/* Frees a replica made by rabia_create; NULL is allowed. */
void rabia_destroy(struct rabia *r);

/*
 * Proxy role: adds one client request (body borrowed, copied) to the open batch. The batch is
 * sealed when full or batch_timeout_ns after the step that first saw it, then forwarded; the
 * effects appear in the next rabia_step, so a driver steps (a tick is fine) after submitting.
 * Returns 0; -EMSGSIZE when size > request_bytes_max; -ENOBUFS when this proxy already has
 * pending_max / n batches queued or the durable batch mark has not been confirmed yet
 * (backpressure: retry after a step). It never touches the previous step's output.
 */
AE_MUST_CHECK int rabia_submit(struct rabia *r, uint64_t client_id, uint64_t client_seq,
			       const uint8_t *body, size_t size);

/*
 * Runs one input to completion and fills *out (always, whatever the return value; the caller
 * must drain it). Returns 0, or a negative code saying why a message input was rejected
 * (counted in the stats): decode errors, -ESTALE (other cluster or epoch, or a storage token
 * that is not the pending one, or an install behind the current slot), -EPROTO (a protocol
 * violation, also reported as an event). Never asserts on message contents.
 */
AE_MUST_CHECK int rabia_step(struct rabia *r, const struct rabia_input *in,
			     struct rabia_output *out);

/* The first slot not yet delivered. */
uint64_t rabia_next_slot(const struct rabia *r);
/* Batches in the pending queue (sealed, undecided). */
size_t rabia_pending_count(const struct rabia *r);
/* The confirmed durable record. */
struct rabia_durable rabia_durable_state(const struct rabia *r);
const struct rabia_stats *rabia_get_stats(const struct rabia *r);
/* One-line-per-fact dump for aetherctl and failing tests. */
void rabia_dump(const struct rabia *r, FILE *f);

#endif /* AETHER_CONSENSUS_RABIA_H */
