/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A node shard (STYLE.md section 6, "Shard"): one Rabia group (consensus/rabia.h) and its
 * replicated KV store (consensus/kv_store.h) glued together over the platform seam (env/env.h).
 * node_shard_poll(shard, now_ns) is its single entry point: the dataplane's lcore loop and the
 * simulator's scheduler both call it, so the code under test is the code that ships. It touches
 * the world only through struct env_ops: no clock, socket, thread or allocation after init.
 *
 * What one poll does, in order:
 *  1. storage completions: Rabia's durable record (R11) is confirmed when its sync completes
 *     (RABIA_INPUT_STORAGE_DONE); checkpoint syncs are noted;
 *  2. every received datagram: Rabia messages go to rabia_step, snapshot-transfer frames to the
 *     transfer code; any datagram refreshes its sender's liveness (node_leader.h);
 *  3. client requests Rabia pushed back (-ENOBUFS) are submitted again; Rabia is ticked when
 *     its timer is due or something was submitted;
 *  4. the leader rule (node_leader.h) may submit a CAS of the `leader` key; one that Rabia
 *     pushes back is retried at every poll before any client request, so client load cannot
 *     starve an election;
 *  5. the transfer timers (retransmission, next peer) and the KV checkpoint.
 * Every Rabia output is drained at once: messages to env->send (RABIA_TO_ALL = every other
 * member), decided slots applied to the KV store in slot order, the durable record put and
 * synced, events handled. Request p of slot s gets log index ((s + 1) << 16) | p, so indexes
 * grow strictly and a snapshot's applied index never collides with a later slot.
 *
 * Proxy role (node_shard_submit): a client request goes to rabia_submit; if Rabia pushes back it
 * waits in the proxy table and is retried on every poll. The shard answers (hooks->on_reply)
 * when it applies that client's pending (client id, seq), whichever proxy's batch carried it;
 * the KV store's dedupe table makes the answer identical everywhere (R8). The table holds
 * clients_max clients with an unanswered request; an entry leaves when its answer is given.
 *
 * Durability (R11, issue 3 "Durability"). Four objects, each written through the storage seam
 * and synced before it is relied on:
 *  - NODE_SHARD_OBJ_HWM, Rabia's R11 record (put, sync, then confirmed to Rabia);
 *  - NODE_SHARD_OBJ_LOG, the decided log (node_shard_log.c): every delivered slot is appended
 *    as a checksummed record by group commit (one append + one sync for all slots delivered
 *    since the last one, one group in flight) and applied from there once committed;
 *  - NODE_SHARD_OBJ_CKPT, the KV state at an applied slot (header + snapshot), written every
 *    checkpoint_slots applied slots or when half the log buffer is used; once it is durable the
 *    log keeps only later records (the object is rewritten from the buffer);
 *  - NODE_SHARD_OBJ_EPOCH, the epoch record (node_shard_epoch.c).
 * cfg.durability says when a slot is committed (applied and answered): REPLICATED at delivery;
 * SYNC once floor(n/2)+1 members report it durable (STATUS messages carry each member's durable
 * mark), so no crash pattern loses an acknowledged write. node_shard_start rebuilds the shard
 * from these objects only: checkpoint, then the log records that continue it (a torn or
 * corrupt tail ends the log: env.h), then Rabia after the last record with the recovered R11
 * marks. Under REPLICATED the recovered records are applied at once; under SYNC only below the
 * epoch's base, the rest once STATUS shows them committed. A record, checkpoint or epoch record
 * that exists but does not decode stops the start (-EBADMSG): the node must not vote with an
 * unknown mark.
 *
 * Epoch changes (node_shard_epoch.c): replicas restarted below their R11 marks cannot vote, so
 * when more than f of them restarted (a full-cluster restart, for one) Rabia alone would stop
 * for good. Replicas with work that see no progress for stall_timeout_ns are "stalled"; a
 * majority of stalled replicas moves to the next epoch through one coordinator, which picks the
 * longest durable log of a majority as the new epoch's base; Rabia starts over in the new epoch
 * after it, so no old message counts (R1). The protocol and why it keeps every committed slot
 * are in node_shard_epoch.c.
 *
 * State transfer (R10), with no size limit other than the store's own: a replica that Rabia
 * reports behind every window (RABIA_EVENT_NEED_TRANSFER) pulls a snapshot from a peer in
 * chunks of NODE_SHARD_CHUNK_SIZE bytes. It asks for a window of transfer_window_chunks chunks
 * by offset (SNAP_REQ), keeps the window full as the contiguous prefix grows, asks again for the
 * missing ones after transfer_retry_ns without progress, and moves to the next peer after
 * transfer_timeout_ns without progress. The server encodes its snapshot once into a cache and
 * serves byte ranges from it; every chunk names the snapshot (slot, size, body checksum), so a
 * receiver that sees a newer snapshot starts over and ignores chunks of an older one. The cache
 * is re-encoded for a new transfer only when no other peer pulled from it within
 * transfer_timeout_ns. Memory is fixed: one cache and one receive buffer of
 * node_shard_snapshot_size_max(kv) bytes each (the receive buffer doubles as the checkpoint's
 * scratch), a 64-bit window mask, and at most transfer_window_chunks chunks per request. The
 * received snapshot is checked (kv_snapshot_verify, kv_store_restore_begin) before it replaces
 * anything; then Rabia continues after its slot (RABIA_INPUT_STATE_INSTALLED).
 *
 * Log compaction (R12): Rabia keeps decided slots in a window of window_slots slots and forgets
 * slot j when it delivers slot j + window_slots. Both conditions of R12 hold at that moment:
 *  (a) kept locally: a delivered slot is in the shard's decided log until a durable checkpoint
 *      covers it (applied), so Rabia forgetting it loses nothing here;
 *  (b) a quorum has it: slot j + window_slots (>= j + 1) was decided by Weak-MVC, which
 *      needs n - f = floor(n/2) + 1 replicas to send STATE/VOTE for it, and a replica does so
 *      only as its current slot, after delivering (or installing a snapshot covering) every
 *      slot before it, j included. The decision itself is the quorum's report.
 * Slots older than the window are served by snapshot (STALE, then state transfer). A snapshot
 * is the applied state, which under SYNC lags delivery: the shard stops stepping Rabia while
 * the lag reaches window_slots / 2 (shard_may_step), so a laggard installing a snapshot finds
 * the decisions after it still in some peer's window. The simulator checks (b) on every
 * delivery (sim_check.c, "compaction").
 *
 * Leader (R15): the shard learns the `leader` key from its applied KV state after every
 * applied slot, install and start (hooks->on_leader on change, node_shard_leader), and runs the
 * rule of node_leader.h when leader_timeout_ns != 0.
 *
 * Wire: every datagram starts with one channel byte: NODE_SHARD_CH_RABIA and a Rabia message;
 * NODE_SHARD_CH_STATUS and NODE_SHARD_CH_EPOCH (node_shard_epoch.c);
 * NODE_SHARD_CH_SNAP_REQ {u64 nonce, u64 slot (NODE_SHARD_SNAP_ANY = the server's current),
 * u64 offset, u32 length}; NODE_SHARD_CH_SNAP_CHUNK {u64 nonce, u64 slot, u64 total, u64 body
 * checksum, u64 offset, bytes}. Malformed frames are counted (stats.bad_frames) and dropped.
 *
 * Observation (struct node_shard_hooks, every member optional): decisions, applied requests,
 * client answers, Rabia events, installs, leader changes and KV change notifications. Hooks are
 * called synchronously from node_shard_poll and must not call any node_shard_ function.
 *
 * Memory: node_shard_size(cfg) bytes of caller memory (node_shard_init), or node_shard_create
 * (startup only). Rabia and the KV store are rebuilt inside it by every start. env and hooks
 * are borrowed for the shard's life. Context: the owning lcore (or the simulator's thread).
 */
#ifndef AETHER_NODE_NODE_SHARD_H
#define AETHER_NODE_NODE_SHARD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/hash.h"
#include "base/map.h"
#include "consensus/kv_store.h"
#include "consensus/rabia.h"
#include "env/env.h"
#include "node/node_leader.h"

#define NODE_SHARD_CH_RABIA      1
#define NODE_SHARD_CH_SNAP_REQ   2
#define NODE_SHARD_CH_SNAP_CHUNK 3
#define NODE_SHARD_CH_STATUS     4
#define NODE_SHARD_CH_EPOCH      5
/* SNAP_REQ slot meaning "whatever snapshot you serve now" (a new transfer). */
#define NODE_SHARD_SNAP_ANY      UINT64_MAX
/* Snapshot bytes per SNAP_CHUNK datagram. */
#define NODE_SHARD_CHUNK_SIZE    8000u
/* Chunks a receiver tracks beyond its contiguous prefix (a 64-bit mask). */
#define NODE_SHARD_WINDOW_MAX    64u
/* Shortest wait between two ticks at the same time (see node_shard_poll). */
#define NODE_SHARD_TICK_MIN_NS   1000u
/* Clients a shard proxies at once, at most. */
#define NODE_SHARD_CLIENTS_LIMIT (1u << 20)
/* Durable object names (env.h storage). */
#define NODE_SHARD_OBJ_HWM       "rabia.hwm"
#define NODE_SHARD_OBJ_CKPT      "kv.ckpt"
#define NODE_SHARD_OBJ_LOG       "kv.log"
#define NODE_SHARD_OBJ_EPOCH     "shard.epoch"
/* Decided-log record header: u32 size, u32 magic, u64 checksum, u64 epoch, u64 slot. */
#define NODE_SHARD_LOG_HEAD      32u
/* Checkpoint object: u32 magic, u32 version, u64 slot, u64 checksum, then the snapshot. */
#define NODE_SHARD_CKPT_HEADER   24u

/*
 * Tests only: deliberately wrong glue, so the simulator proves its checkers see bugs that
 * Rabia cannot cause. LOCAL_READS answers a GET at once from local state (the non-linearizable
 * read of kv_store.h, R9); SKIP_APPLY makes node 0 drop the requests of every slot whose number
 * is 50 modulo 64 (a divergent state machine); ACK_UNLOGGED makes node 0 acknowledge every PUT
 * at once and never submit it (a lost acknowledged write); LEADER_PUT writes leader proposals
 * with a plain PUT instead of the CAS of node_leader.h (two nodes can then claim one term).
 * Never set in production.
 */
#define NODE_SHARD_BREAK_LOCAL_READS  (1u << 0)
#define NODE_SHARD_BREAK_SKIP_APPLY   (1u << 1)
#define NODE_SHARD_BREAK_ACK_UNLOGGED (1u << 2)
#define NODE_SHARD_BREAK_LEADER_PUT   (1u << 3)
#define NODE_SHARD_BREAK_ALL                                          \
	(NODE_SHARD_BREAK_LOCAL_READS | NODE_SHARD_BREAK_SKIP_APPLY | \
	 NODE_SHARD_BREAK_ACK_UNLOGGED | NODE_SHARD_BREAK_LEADER_PUT)

/*
 * When a decided slot is applied (and its clients answered). REPLICATED: at once, when this
 * replica learns the decision; the slot is logged and synced in the background, so up to f
 * replicas may crash at once without losing anything, but a crash of more than f replicas at
 * once may lose acknowledged writes of the last group commit. SYNC: only once floor(n/2)+1
 * replicas (this one counted) report the slot on disk (STATUS), so no crash pattern loses an
 * acknowledged write; it costs one sync and one message per commit group.
 */
enum node_shard_durability {
	NODE_SHARD_DURABLE_REPLICATED = 0,
	NODE_SHARD_DURABLE_SYNC = 1,
};

struct node_shard_config {
	struct rabia_cfg rabia;          /* identity and limits; rabia.self_id is this node */
	struct kv_store_config kv;       /* notifications go to hooks->on_notify when on */
	uint32_t clients_max;            /* proxied clients with an open request, 1..LIMIT */
	uint32_t checkpoint_slots;       /* 0: never checkpoint */
	uint32_t transfer_window_chunks; /* 1..NODE_SHARD_WINDOW_MAX */
	uint64_t transfer_retry_ns;      /* > 0: ask again for missing chunks */
	uint64_t transfer_timeout_ns;    /* > 0: no progress for this long, next peer */
	uint64_t leader_timeout_ns;      /* 0: no leader proposals; else node_leader timeout */
	uint32_t break_rules;            /* NODE_SHARD_BREAK_*: tests only, 0 otherwise */
	enum node_shard_durability durability;
	uint32_t log_buffer_bytes;   /* decided records not yet checkpointed; at least
					node_shard_log_buffer_min(cfg) */
	uint64_t status_interval_ns; /* > 0: STATUS broadcast period */
	uint64_t stall_timeout_ns;   /* 0: never change epoch; else no progress for this long
					with work pending makes a replica "stalled" */
	uint64_t
		log_flush_interval_ns; /* REPLICATED: shortest time between two group commits
					  (0: as soon as the last one ends); SYNC flushes at once */
};

struct node_shard_hooks {
	void *ctx;
	/* A slot was delivered by Rabia (before its requests are applied). */
	void (*on_decided)(void *ctx, uint32_t node, const struct rabia_decided *d);
	/* Request `position` of `slot` was applied; result (kv_cmd.h encoding) borrowed. */
	void (*on_applied)(void *ctx, uint32_t node, uint64_t slot, uint32_t position,
			   const struct rabia_request *req, const uint8_t *result,
			   size_t result_size);
	/* The answer to a client this shard proxies (result borrowed). */
	void (*on_reply)(void *ctx, uint32_t node, uint64_t client_id, uint64_t client_seq,
			 const uint8_t *result, size_t result_size);
	/* Rabia reported an event. */
	void (*on_event)(void *ctx, uint32_t node, const struct rabia_event *ev);
	/* A snapshot covering every slot <= slot replaced the KV state. */
	void (*on_installed)(void *ctx, uint32_t node, uint64_t slot);
	/* The leader learned from applied state changed (has_leader 0: none or invalid). */
	void (*on_leader)(void *ctx, uint32_t node, int has_leader,
			  const struct node_leader_value *v);
	/* A KV change notification, in log order (kv_store.h; borrowed for the call). */
	void (*on_notify)(void *ctx, uint32_t node, const struct kv_notification *n);
	/* A decided slot is applied to the KV store (committed), in slot order; `epoch` is the
	 * epoch that decided it. Called before its requests' on_applied. */
	void (*on_committed)(void *ctx, uint32_t node, uint64_t epoch,
			     const struct rabia_decided *d);
	/* This replica moved to `epoch`, whose first slot is base + 1. */
	void (*on_epoch)(void *ctx, uint32_t node, uint64_t epoch, uint64_t base);
};

struct node_shard_stats {
	uint64_t slots_applied;
	uint64_t requests_applied;
	uint64_t replies;
	uint64_t submits_deferred;
	uint64_t rabia_errors; /* rabia_step returned an error for a message */
	uint64_t bad_frames;
	uint64_t send_errors; /* env->send refused (a lost datagram; protocols retransmit) */
	uint64_t checkpoints;
	uint64_t storage_errors;
	uint64_t transfers_requested;
	uint64_t transfers_installed;
	uint64_t transfers_abandoned; /* no progress: moved to the next peer */
	uint64_t transfer_restarts;   /* a newer snapshot appeared mid-transfer */
	uint64_t transfer_retries;    /* missing chunks asked for again */
	uint64_t chunks_received;
	uint64_t chunks_stale;     /* of another transfer or an older snapshot */
	uint64_t snapshots_served; /* cache (re-)encodings */
	uint64_t chunks_served;
	uint64_t leader_proposals;
	uint64_t log_records;    /* decided records added to the log buffer */
	uint64_t log_flushes;    /* group commits (append + sync) */
	uint64_t log_rewrites;   /* whole-log puts (after a checkpoint, a failure, an epoch) */
	uint64_t log_full_waits; /* polls that left Rabia alone: log buffer or commit lag */
	uint64_t status_sent;
	uint64_t status_received;
	uint64_t epoch_changes;   /* epochs adopted */
	uint64_t epoch_proposals; /* epoch changes this replica asked for */
	uint64_t promises_sent;
	uint64_t resets; /* state rolled back to a snapshot at an epoch change */
};

/* One proxied client with an unanswered request (its body is kept until answered, so an
 * epoch change can submit it again). */
struct node_shard_client {
	uint64_t client_id;
	uint64_t client_seq;
	uint32_t body_size;
	uint32_t is_deferred; /* waits for rabia_submit */
	uint32_t is_used;
};

/* Epochs of an epoch's lineage carried in records and messages (node_shard_epoch.c). */
#define NODE_SHARD_LINEAGE 4

/* One epoch of a lineage: its number and first slot. */
struct node_shard_epoch_link {
	uint64_t epoch;
	uint64_t base_next;
};

/*
 * The durable epoch record (NODE_SHARD_OBJ_EPOCH). lineage[0] is this epoch (epoch,
 * base_next); lineage[k + 1] is the epoch whose log lineage[k]'s base was taken from, so
 * records of lineage[k + 1].epoch are valid below lineage[k].base_next. Unused links are 0.
 */
struct node_shard_epoch_rec {
	uint64_t epoch;         /* Rabia runs this epoch (== lineage[0].epoch) */
	uint64_t base_next;     /* the epoch's first slot: every slot below is committed */
	uint64_t base_epoch;    /* the epoch whose log base_next was taken from (lineage[1]) */
	uint64_t promised;      /* no participation in any epoch below this */
	uint64_t lineage_count; /* 1..NODE_SHARD_LINEAGE */
	struct node_shard_epoch_link lineage[NODE_SHARD_LINEAGE];
};

/* What this replica knows of one member (STATUS). */
struct node_shard_member {
	uint64_t epoch;
	uint64_t promised;
	uint64_t durable_next; /* first slot not on its disk (in its epoch) */
	uint64_t heard_ns;     /* 0: never */
	int is_stalled;
	/* The coordinator's promise table for `promise_epoch`: the promiser's epoch lineage
	 * (lineage[0] its epoch and base) and its durable mark. */
	uint64_t promise_epoch;
	uint64_t promise_durable_next;
	uint64_t promise_lineage_count;
	struct node_shard_epoch_link promise_lineage[NODE_SHARD_LINEAGE];
};

/* The pulling side of a state transfer. */
struct node_shard_pull {
	int is_active;
	uint32_t peer;
	uint64_t nonce;
	int has_snap; /* the fields below name the snapshot being pulled */
	uint64_t slot;
	uint64_t total;
	uint64_t sum;
	uint64_t base;   /* chunks [0, base) are in */
	uint64_t mask;   /* bit i: chunk base + i is in */
	uint64_t req_hi; /* chunks below this were asked for */
	uint64_t retry_ns;
	uint64_t deadline_ns;
};

/* The serving side: one cached snapshot. */
struct node_shard_serve {
	int is_valid;
	uint64_t slot;
	uint64_t size;
	uint64_t sum;
	uint64_t pulled_ns[RABIA_NODES_MAX]; /* last pull, by member index; 0 = never */
};

struct node_shard {
	struct node_shard_config cfg;
	struct node_shard_stats stats;
	const struct env_ops *env;            /* borrowed */
	const struct node_shard_hooks *hooks; /* borrowed */
	uint32_t node;                        /* cfg.rabia.self_id */
	int is_up;
	void *block; /* node_shard_create's allocation, else NULL */
	struct rabia *rabia;
	struct kv_store *kv;
	struct node_leader leader;
	struct node_leader_proposal leader_waiting; /* refused by Rabia, retried first */
	int has_leader_waiting;
	void *rabia_mem;
	void *kv_mem;
	size_t kv_mem_size;
	uint8_t *rx;     /* ENV_MSG_MAX */
	uint8_t *tx;     /* ENV_MSG_MAX */
	uint8_t *result; /* KV_RESULT_HEADER_SIZE + kv.max_value_size */
	size_t result_capacity;
	size_t snap_max;   /* node_shard_snapshot_size_max(&cfg.kv) */
	uint8_t *snap_out; /* snap_max: the served snapshot */
	uint8_t *snap_in;  /* CKPT_HEADER + snap_max: pulled snapshot, checkpoint scratch */
	struct node_shard_client *clients; /* [clients_max] */
	uint8_t *client_body;              /* [clients_max][request_bytes_max] */
	uint32_t *client_free;             /* free entry indexes */
	uint32_t client_free_count;
	uint32_t deferred_count;     /* clients with is_deferred */
	struct base_map *client_map; /* client id -> u32 entry index */
	uint64_t now_ns;
	uint64_t next_tick_ns;
	int kick; /* something was submitted: tick at the next poll */
	uint64_t recovered_hwm;
	int rabia_write_pending; /* 1 in flight, -1 failed before it started */
	uint64_t rabia_write_token;
	int hwm_put_status; /* a failed put fails the sync that follows it */
	int ckpt_pending;
	uint64_t ckpt_slot; /* last checkpoint loaded or attempted */
	struct node_shard_pull pull;
	struct node_shard_serve serve;
	uint64_t nonce_next;

	/* The decided log (node_shard_log.c): records of slots [log_first, log_end) in
	 * log_buf[0, log_len); the storage object holds a prefix of them (after the durable
	 * checkpoint). */
	uint8_t *log_buf;
	size_t log_len;
	size_t log_flushed;   /* bytes handed to storage */
	size_t log_apply_off; /* the next record to apply */
	uint64_t log_first;   /* slot of the first record (== log_end when empty) */
	uint64_t log_end;     /* one past the last record */
	uint64_t flush_end;   /* log_end when the in-flight flush was issued */
	int flush_pending;
	uint64_t flush_ns; /* when the last group commit started */
	int flush_failed;
	int log_put_needed;     /* the object must be rewritten from the buffer */
	uint64_t log_gen;       /* bumped when records leave the buffer */
	uint64_t flush_gen;     /* log_gen of the in-flight flush */
	uint64_t synced_gen;    /* log_gen of the last synced flush */
	uint64_t synced_end;    /* records below this are synced in the object */
	uint64_t durable_next;  /* first slot a restart would not recover */
	uint64_t ckpt_durable;  /* durable checkpoint: slots < this */
	uint64_t ckpt_inflight; /* checkpoint being written: slots < this; 0 none */
	int ckpt_force;
	int ckpt_put_status;
	int ckpt_invalid_retry;
	uint64_t applied_next;      /* first slot not applied to the KV store */
	uint64_t commit_next;       /* slots below may be applied */
	struct rabia_request *reqs; /* [rabia.batch_count_max] */

	/* Epochs (node_shard_epoch.c). ep: in force; ep_want: to be written; ep_durable: on
	 * disk; ep_writing: in flight. */
	struct node_shard_epoch_rec ep, ep_want, ep_durable, ep_writing;
	uint64_t epoch;          /* == ep.epoch */
	uint64_t durable_frozen; /* durable_next reported after a promise */
	int epoch_write;         /* the epoch record is being written (2: put and sync) */
	int epoch_write_failed;
	int adopting; /* 1: log rewrite, 2: record write, then start the epoch */
	struct node_shard_epoch_rec adopt;
	int need_install; /* the KV state is not valid: install a snapshot >= need_slot */
	uint64_t need_slot;
	uint64_t progress_ns;
	uint64_t progress_key;
	uint64_t proposed_ns;
	uint64_t next_status_ns;
	uint64_t promise_sent_ns;
	struct node_shard_member *members; /* [member_count] by index */
	struct rabia_stats rabia_before;   /* the Rabias of earlier epochs, summed */
};

/* The largest snapshot a store with this configuration can encode (kv_store.h layout). */
size_t node_shard_snapshot_size_max(const struct kv_store_config *kv);
/* 0 when cfg is usable, -EINVAL otherwise (limits above, rabia_cfg_check, kv config check). */
AE_MUST_CHECK int node_shard_config_check(const struct node_shard_config *cfg);
/* Bytes for a shard with this configuration (asserts it is valid). */
size_t node_shard_size(const struct node_shard_config *cfg);
/*
 * Lays the shard out in memory (node_shard_size(cfg) bytes, any alignment; borrowed for the
 * shard's life). cfg is copied. It starts down: call node_shard_start.
 */
void node_shard_init(struct node_shard *s, void *memory, const struct node_shard_config *cfg,
		     const struct env_ops *env, const struct node_shard_hooks *hooks);
/* As node_shard_init into one base_alloc block (startup only). -EINVAL, -ENOMEM. */
AE_MUST_CHECK int node_shard_create(const struct node_shard_config *cfg, const struct env_ops *env,
				    const struct node_shard_hooks *hooks, struct node_shard **out);
/* Stops and frees a shard made by node_shard_create; NULL is allowed. */
void node_shard_destroy(struct node_shard *s);

/*
 * Starts (or restarts) from the durable objects only: fresh when there are none. Returns 0;
 * -EBADMSG when an object exists but does not decode (the node must not run); or the error of
 * rabia_init / kv_store_init. now_ns starts the leader's liveness clock.
 */
AE_MUST_CHECK int node_shard_start(struct node_shard *s, uint64_t now_ns);
/* Drops all volatile state (a crash or a shutdown); storage is the env's. Idempotent. */
void node_shard_stop(struct node_shard *s);

/*
 * The single entry point: runs everything that is ready at now_ns (see the list above).
 * Returns when it next wants to be polled even if nothing arrives (UINT64_MAX: only when
 * something arrives). Polling earlier is harmless. Does nothing when the shard is down.
 */
uint64_t node_shard_poll(struct node_shard *s, uint64_t now_ns);

/*
 * Proxy role: a client's request (body borrowed, copied). The answer comes through
 * hooks->on_reply once the shard applies (client_id, client_seq); poll soon after (the next
 * poll ticks Rabia). A second request of the same client replaces the first here (the first
 * still executes if it was submitted, but is not answered). Returns 0 (submitted or waiting in
 * the proxy table); -EINVAL for client id 0 or one with NODE_LEADER_CLIENT_BIT; -EMSGSIZE for a
 * body over rabia.request_bytes_max or an empty one; -ENOBUFS when clients_max clients already
 * wait for answers; -EHOSTDOWN when the shard is down.
 */
AE_MUST_CHECK int node_shard_submit(struct node_shard *s, uint64_t client_id, uint64_t client_seq,
				    const uint8_t *body, size_t size);

/* The first slot not yet delivered (0 when down). */
uint64_t node_shard_next_slot(const struct node_shard *s);
/* The first slot not yet applied to the KV store (0 when down). */
uint64_t node_shard_applied_next(const struct node_shard *s);
/* The first slot a restart would not recover from this replica's disk. */
uint64_t node_shard_durable_next(const struct node_shard *s);
/* The epoch Rabia runs (0 when down). */
uint64_t node_shard_epoch(const struct node_shard *s);
/* The smallest log_buffer_bytes this configuration accepts. */
size_t node_shard_log_buffer_min(const struct node_shard_config *cfg);
/* The KV store's applied log index (0 when down). */
uint64_t node_shard_applied_index(const struct node_shard *s);
/*
 * Restarted and still below the participation mark it recovered (R11): it may not vote in its
 * current slot, so for liveness it counts as failed. 0 when down.
 */
int node_shard_is_passive(const struct node_shard *s);
/* The R11 slot mark it (re)started with. */
uint64_t node_shard_recovered_hwm(const struct node_shard *s);
/* A state transfer is being pulled. */
int node_shard_is_pulling(const struct node_shard *s);
/* Batches in Rabia's pending queue plus client requests waiting to be submitted. */
size_t node_shard_backlog(const struct node_shard *s);
/* The KV digest (asserts the shard is up). */
struct base_hash128 node_shard_digest(const struct node_shard *s);
/* The KV store, for reads and checkers (asserts up). */
const struct kv_store *node_shard_kv(const struct node_shard *s);
/* Rabia, for its stats and durable state (asserts up). */
const struct rabia *node_shard_rabia(const struct node_shard *s);
/* Rabia's counters summed over every epoch of this incarnation (a new epoch builds a new
 * Rabia); phase_max_seen is the largest. Zero when down. */
void node_shard_rabia_stats(const struct node_shard *s, struct rabia_stats *out);
/* The shard is started. */
int node_shard_is_up(const struct node_shard *s);
const struct node_shard_stats *node_shard_get_stats(const struct node_shard *s);
/* 1 and *out when the applied KV state names a leader, else 0 (also when down). */
int node_shard_leader(const struct node_shard *s, struct node_leader_value *out);
/* Shard facts one per line, then rabia_dump and kv_store_dump when up. Control thread. */
void node_shard_dump(const struct node_shard *s, FILE *f);

#endif /* AETHER_NODE_NODE_SHARD_H */
