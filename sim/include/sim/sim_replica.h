/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A simulated replica: one Rabia instance (consensus/rabia.h) and one KV store
 * (consensus/kv_store.h) glued together over a struct env_ops, the way a node shard will glue
 * them. The consensus module has no replica composition yet, so this small layer lives here.
 *
 * What it does:
 *  - feeds every datagram from env->recv into rabia_step, ticks Rabia when its timer is due, and
 *    sends Rabia's output messages through env->send (RABIA_TO_ALL = every other member);
 *  - applies decided slots to the KV store in slot order; request p of slot s gets log index
 *    ((s + 1) << 16) | p, so indexes grow strictly and a snapshot's applied index never
 *    collides with a later slot;
 *  - proxy role: a client request is handed to rabia_submit; when Rabia pushes back (-ENOBUFS:
 *    queue full, or the durable batch mark is not confirmed yet) the request waits in a per-client
 *    slot and is retried on every poll. The replica answers a client it proxies when it applies
 *    that client's pending (client, seq), whatever slot carried it (retries elsewhere may have
 *    carried it); the KV store's dedupe table makes the answer identical everywhere (R8);
 *  - persists Rabia's durable record (R11) as object "rabia.hwm": put, sync, then
 *    RABIA_INPUT_STORAGE_DONE when the sync completes;
 *  - every checkpoint_slots slots writes a KV checkpoint "kv.ckpt" (slot + KV snapshot) and
 *    syncs it, so a restart does not depend on peers still holding old slots;
 *  - state transfer (R10): on RABIA_EVENT_NEED_TRANSFER it asks a peer for a snapshot
 *    (SNAP_REQ), receives it in chunks, installs it into the KV store and tells Rabia
 *    (RABIA_INPUT_STATE_INSTALLED); it serves SNAP_REQs from peers the same way;
 *  - restart (sim_replica_start after a crash): rebuilds Rabia and the KV store from the durable
 *    objects only: the checkpoint gives the KV state and start slot, "rabia.hwm" gives
 *    cfg.recovered.
 *
 * Wire: every datagram starts with one channel byte: SIM_REPLICA_CH_RABIA followed by a Rabia
 * message, or a snapshot-transfer frame (SNAP_REQ: u64 nonce; SNAP_CHUNK: u64 nonce, u64 slot,
 * u32 total, u32 offset, bytes). Malformed frames are counted and dropped.
 *
 * Observation: the simulator's checkers see decisions, applied requests, client answers and
 * Rabia events through struct sim_replica_hooks. The hooks are called synchronously from
 * sim_replica_poll / sim_replica_submit and must not call back into the replica.
 *
 * Memory: caller-owned block of sim_replica_size(cfg) bytes; Rabia and the KV store are
 * rebuilt in it on every start. env and hooks are borrowed for the replica's life.
 * Context: the simulator's single thread.
 */
#ifndef AETHER_SIM_SIM_REPLICA_H
#define AETHER_SIM_SIM_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/hash.h"
#include "consensus/kv_store.h"
#include "consensus/rabia.h"
#include "env/env.h"

#define SIM_REPLICA_CH_RABIA      1
#define SIM_REPLICA_CH_SNAP_REQ   2
#define SIM_REPLICA_CH_SNAP_CHUNK 3
/* Shortest wait between two ticks at the same replica (see sim_replica_poll). */
#define SIM_REPLICA_TICK_MIN_NS   1000u
/* Snapshot bytes per SNAP_CHUNK datagram. */
#define SIM_REPLICA_CHUNK_SIZE    8000u
/* A snapshot is at most this many chunks (the receiver tracks them in a 64-bit mask). */
#define SIM_REPLICA_CHUNKS_MAX    64u

struct sim_replica_hooks {
	void *ctx;
	/* A slot was delivered by Rabia (before its requests are applied). */
	void (*on_decided)(void *ctx, uint32_t node, const struct rabia_decided *d);
	/* Request `position` of `slot` was applied; result (kv_cmd.h encoding) borrowed. */
	void (*on_applied)(void *ctx, uint32_t node, uint64_t slot, uint32_t position,
			   const struct rabia_request *req, const uint8_t *result,
			   size_t result_size);
	/* The replica answers a client it proxies. */
	void (*on_reply)(void *ctx, uint32_t node, uint64_t client_id, uint64_t client_seq,
			 const uint8_t *result, size_t result_size);
	/* Rabia reported an event. */
	void (*on_event)(void *ctx, uint32_t node, const struct rabia_event *ev);
	/* A snapshot covering every slot <= slot replaced the KV state. */
	void (*on_installed)(void *ctx, uint32_t node, uint64_t slot);
};

/*
 * Deliberately wrong glue, so tests can prove the checkers see bugs that Rabia cannot cause:
 * LOCAL_READS answers a GET at once from this replica's state (the non-linearizable read of
 * kv_store.h, R9) instead of through the log; SKIP_APPLY makes replica 0 drop the requests of
 * every slot whose number is 50 modulo 64 (a divergent state machine); ACK_UNLOGGED makes
 * replica 0 acknowledge every PUT at once and never submit it (a lost acknowledged write).
 */
#define SIM_REPLICA_BREAK_LOCAL_READS  (1u << 0)
#define SIM_REPLICA_BREAK_SKIP_APPLY   (1u << 1)
#define SIM_REPLICA_BREAK_ACK_UNLOGGED (1u << 2)

struct sim_replica_config {
	struct rabia_cfg rabia;     /* identity and limits; self_id is set per replica */
	uint32_t break_rules;       /* SIM_REPLICA_BREAK_*: 0 in every honest run */
	struct kv_store_config kv;  /* notify_buffer_size must be 0 */
	uint32_t checkpoint_slots;  /* 0: never checkpoint */
	uint32_t snapshot_size_max; /* <= SIM_REPLICA_CHUNKS_MAX * SIM_REPLICA_CHUNK_SIZE */
	uint32_t clients_max;       /* client ids are 1..clients_max */
	uint64_t transfer_timeout_ns;
};

struct sim_replica_stats {
	uint64_t slots_applied;
	uint64_t requests_applied;
	uint64_t replies;
	uint64_t submits_deferred;
	uint64_t rabia_errors; /* rabia_step returned an error for a message */
	uint64_t bad_frames;
	uint64_t checkpoints;
	uint64_t transfers_requested;
	uint64_t transfers_served;
	uint64_t transfers_installed;
	uint64_t storage_errors;
};

struct sim_replica {
	struct sim_replica_config cfg;
	struct sim_replica_stats stats;
	const struct env_ops *env;             /* borrowed */
	const struct sim_replica_hooks *hooks; /* borrowed */
	uint32_t node;
	int is_up;
	struct rabia *rabia;
	struct kv_store *kv;
	void *rabia_mem;
	void *kv_mem;
	size_t kv_mem_size;
	uint8_t *rx;     /* ENV_MSG_MAX */
	uint8_t *tx;     /* ENV_MSG_MAX */
	uint8_t *result; /* kv_store_result_size_max */
	size_t result_capacity;
	uint8_t *snap;           /* 8 + snapshot_size_max: outgoing snapshot or checkpoint */
	uint8_t *snap_in;        /* 8 + snapshot_size_max: incoming snapshot or loaded checkpoint */
	uint64_t *pending_seq;   /* [clients_max]: the seq this replica owes an answer, 0 = none */
	uint8_t *deferred_body;  /* [clients_max][request_bytes_max] */
	uint32_t *deferred_size; /* [clients_max]: 0 = nothing deferred */
	uint64_t next_tick_ns;
	uint64_t recovered_hwm; /* the slot mark it restarted with (R11) */
	int rabia_write_pending;
	uint64_t rabia_write_token;
	int hwm_put_status; /* a failed put fails the sync that follows it */
	int ckpt_pending;
	uint64_t ckpt_slot; /* last checkpoint written (or loaded) */
	int has_ckpt;
	int transfer_active;
	uint32_t transfer_peer;
	uint64_t transfer_nonce;
	uint64_t transfer_deadline_ns;
	uint64_t transfer_slot;
	uint32_t transfer_total;
	uint64_t transfer_mask;
	uint64_t nonce_counter;
};

/* Bytes for a replica with this configuration (asserts the configuration is valid). */
size_t sim_replica_size(const struct sim_replica_config *cfg);
/* Lays the replica out in memory; it starts down (call sim_replica_start). */
void sim_replica_init(struct sim_replica *r, void *memory, const struct sim_replica_config *cfg,
		      uint32_t node, const struct env_ops *env,
		      const struct sim_replica_hooks *hooks);

/*
 * Starts (or restarts) the replica from its durable objects only. Returns 0; -EBADMSG when a
 * durable object exists but does not decode (the replica must not run, rabia.h
 * rabia_durable_decode); or the error of rabia_init / kv_store_init / the restore.
 */
AE_MUST_CHECK int sim_replica_start(struct sim_replica *r);
/* The node crashed: everything not in durable storage is gone (the env handles storage). */
void sim_replica_crash(struct sim_replica *r);

/*
 * Runs everything that is ready: storage completions, received datagrams, deferred submits,
 * the Rabia timer and the transfer timer. Returns the next time it wants to be polled
 * (UINT64_MAX: only when something arrives).
 */
uint64_t sim_replica_poll(struct sim_replica *r);

/*
 * Proxy role: a client's request arrives. The replica will answer (on_reply) when it applies
 * (client_id, client_seq). Returns 0 (submitted or deferred), -EINVAL for a client id outside
 * 1..clients_max, -EMSGSIZE for a body over request_bytes_max, -EHOSTDOWN when down.
 */
AE_MUST_CHECK int sim_replica_submit(struct sim_replica *r, uint64_t client_id, uint64_t client_seq,
				     const uint8_t *body, size_t size);

/* The first slot not yet delivered (0 when down). */
uint64_t sim_replica_next_slot(const struct sim_replica *r);
/*
 * Restarted and still below the participation mark it recovered (R11): it may not vote in the
 * current slot, so for liveness it counts as failed. 0 when down.
 */
int sim_replica_is_passive(const struct sim_replica *r);
/* Batches in Rabia's pending queue plus deferred client requests (0 when down). */
size_t sim_replica_backlog(const struct sim_replica *r);
/* The KV digest (asserts the replica is up). */
struct base_hash128 sim_replica_digest(const struct sim_replica *r);
/* The KV store, for final reads by the checkers (asserts up). */
const struct kv_store *sim_replica_kv(const struct sim_replica *r);

#endif /* AETHER_SIM_SIM_REPLICA_H */
