/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated world's internals, shared by sim_world.c (setup, event loop, faults, shard
 * hooks), sim_client.c (the closed-loop clients and the history) and sim_check.c (checkers).
 */
#ifndef AETHER_SIM_SIM_WORLD_INT_H
#define AETHER_SIM_SIM_WORLD_INT_H

#include <stdint.h>

#include "base/hash.h"
#include "base/prng.h"
#include "node/node_shard.h"
#include "sim/env_sim.h"
#include "sim/linearizability.h"
#include "sim/sim_fault.h"
#include "sim/sim_net.h"
#include "sim/sim_queue.h"
#include "sim/sim_world.h"

/* Slots the agreement table can hold; a run that goes past it is reported, not ignored. */
#define SIM_SLOTS_MAX (1u << 17)
/* Leader terms the one-node-per-term table can hold; beyond is reported, not ignored. */
#define SIM_TERMS_MAX (1u << 16)
/* Largest client command: a CAS with a short key and the largest value, with room to spare. */
#define SIM_BODY_MAX  (SIM_VALUE_MAX + 64)

enum sim_op_kind {
	SIM_OP_PUT = 1,
	SIM_OP_GET = 2,
	SIM_OP_CAS = 3,
};

/* Operation status in the history (beyond enum kv_result_status). */
#define SIM_OP_STATUS_PENDING 0xffu

/* One client operation: what was asked, what came back, where it executed. */
struct sim_op {
	uint64_t invoke_ns;
	uint64_t complete_ns; /* SIM_LIN_PENDING until answered */
	uint64_t seq;
	uint64_t value;        /* put/cas: the unique value written */
	uint64_t expected;     /* cas: the value whose mod index is expected (0 = absent) */
	uint64_t expected_mod; /* cas: the mod index sent */
	uint64_t result_value; /* get: the value read (0 = absent) */
	uint64_t result_mod;
	uint64_t body_hash;
	uint64_t exec_slot; /* first log position that executed it */
	uint64_t exec_result_hash;
	uint32_t exec_pos;
	uint32_t client;
	uint32_t key;
	uint8_t kind;   /* enum sim_op_kind */
	uint8_t status; /* enum kv_result_status, or SIM_OP_STATUS_PENDING */
	uint8_t has_exec;
	uint8_t is_final; /* the closing read of its key */
};

struct sim_client {
	uint64_t id; /* index + 1: the KV client id */
	uint64_t seq;
	uint32_t op_index; /* current op in the history */
	uint32_t proxy;
	uint32_t attempt;
	int is_waiting;
	int is_idle; /* no more operations to issue (for now) */
	int has_reply;
	uint8_t reply_status;
	uint64_t reply_value;
	uint64_t reply_mod;
	uint8_t body[SIM_BODY_MAX];
	uint32_t body_size;
	uint64_t known_value[SIM_KEYS_MAX]; /* last value seen per key (0 = absent) */
	uint64_t known_mod[SIM_KEYS_MAX];
};

struct sim_node {
	struct env_sim env;
	struct node_shard shard;
	void *shard_mem; /* the shard is laid out here again for every run */
	int is_crashed;
	int is_stopped; /* crash-stop: never restarts */
	int is_paused;
	int wake_pending;
	uint64_t tick_at;       /* earliest pending tick, UINT64_MAX when none */
	uint64_t expected_slot; /* next slot it must deliver; UINT64_MAX: unknown after a start */
	uint64_t reached;       /* slots below it were applied here once (any incarnation) */
	uint64_t leader_term;   /* last leader term learned in this incarnation (0: none) */
};

struct sim_slot_truth {
	uint64_t batch_hash;
	struct rabia_batch_id id;
	uint8_t is_decided;
	uint8_t is_null;
};

struct sim_world {
	struct sim_config cfg;
	struct sim_queue queue;
	struct base_prng prng;
	struct sim_net net;
	struct sim_node nodes[SIM_NODES_MAX];
	struct node_shard_config scfg;
	struct node_shard_hooks hooks;
	struct sim_client clients[SIM_CLIENTS_MAX];
	struct sim_op *ops;
	uint32_t ops_max;
	uint32_t op_count; /* entries used */
	uint32_t *op_of;   /* [client][seq] -> op index + 1 (0 = none) */
	uint32_t seqs_max; /* per client */
	struct sim_slot_truth *truth;
	uint32_t truth_hi;    /* slots [0, truth_hi) may be set */
	uint32_t *term_owner; /* [SIM_TERMS_MAX]: leader node + 1 of each term, 0 = none yet */
	uint64_t term_hi;     /* terms [0, term_hi) may be set */
	struct sim_lin_checker lin;
	struct sim_lin_op *lin_ops;
	uint32_t *lin_index; /* lin_ops[i] is ops[lin_index[i]] */
	struct sim_fault_plan plan;
	struct base_hash_stream trace;
	struct sim_result *res;
	uint64_t seed;
	uint64_t heal_ns;
	uint64_t deadline_ns;
	uint32_t invoked; /* regular operations issued */
	uint32_t reserve;
	uint32_t final_next; /* next key for the final reads */
	int is_healed;
	int is_done;
	void *memory;
};

/* sim_world.c */
void sim_world_fail(struct sim_world *w, uint64_t *counter, const char *fmt, ...) AE_PRINTF(3, 4);
void sim_world_node_wake(struct sim_world *w, uint32_t node);
void sim_world_trace(struct sim_world *w, const void *data, size_t size);

/* sim_client.c */
void sim_client_start_all(struct sim_world *w);
void sim_client_on_next(struct sim_world *w, uint32_t client);
void sim_client_on_timeout(struct sim_world *w, uint32_t client, uint64_t seq, uint64_t attempt);
void sim_client_on_reply(struct sim_world *w, uint32_t client, uint64_t seq);
void sim_client_on_request(struct sim_world *w, uint32_t node, uint32_t client, uint64_t seq);
/* A replica answered (client_id, seq) with result bytes: remember it until the reply lands. */
void sim_client_answer(struct sim_world *w, uint32_t node, uint64_t client_id, uint64_t seq,
		       const uint8_t *result, size_t size);
/* All clients finished, final reads included. */
int sim_client_all_done(const struct sim_world *w);
/* The history entry for (client index, seq), or NULL. */
struct sim_op *sim_client_op(struct sim_world *w, uint32_t client, uint64_t seq);

/* sim_check.c */
void sim_check_reset(struct sim_world *w);
void sim_check_on_decided(struct sim_world *w, uint32_t node, const struct rabia_decided *d);
void sim_check_on_committed(struct sim_world *w, uint32_t node, uint64_t epoch,
			    const struct rabia_decided *d);
void sim_check_on_applied(struct sim_world *w, uint32_t node, uint64_t slot, uint32_t pos,
			  const struct rabia_request *req, const uint8_t *result, size_t size);
void sim_check_on_event(struct sim_world *w, uint32_t node, const struct rabia_event *ev);
void sim_check_on_installed(struct sim_world *w, uint32_t node, uint64_t slot);
void sim_check_on_leader(struct sim_world *w, uint32_t node, int has_leader,
			 const struct node_leader_value *v);
/* Quiescence: every live replica up, same next slot, nothing pending, one live leader. */
int sim_check_is_quiescent(struct sim_world *w);
/* The end-of-run checks (digests, linearizability, lost writes, stalls). */
void sim_check_final(struct sim_world *w);

#endif /* AETHER_SIM_SIM_WORLD_INT_H */
