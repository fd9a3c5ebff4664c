/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One simulated cluster run end to end (rabia.md Part 3a): n replicas (node/node_shard.h, the
 * production composition of Rabia + KV store, over env_sim), closed-loop clients, a fault plan,
 * and the checkers.
 *
 * A run, for one seed:
 *  1. one PRNG is seeded; the fault plan, every delay, loss, client choice and node seed come
 *     from it, so the run is a pure function of (config, seed) and replays bit for bit;
 *  2. clients issue put / get / cas on key_count keys (small, so proposals contend and slots
 *     decide null) through a proxy replica, retrying on another replica after a timeout with the
 *     same (client id, seq), so the KV dedupe is exercised; every written value is unique, so a
 *     lost write is visible. During the fault period at most op_count - reserve operations are
 *     issued; the reserve (op_count / 10, at least one per client) runs after the heal;
 *  3. faults run until heal_ns; then every fault heals and the run continues until all
 *     operations are done, one final read per key went through the log, and every live replica
 *     has delivered the same slots with nothing pending (quiescence), or until the liveness
 *     deadline.
 *
 * Checkers. Online, at every delivered slot and applied request:
 *  - agreement: every replica delivers the same value (null, batch id, batch bytes) per slot;
 *  - order: a replica delivers slots in order without gaps (after a start or an install);
 *  - validity: every applied request was submitted by a client with exactly these bytes;
 *  - no double execution: a (client, seq) executes at one log position; later copies get the
 *    same result bytes back (R8) or STALE; the same position gives the same result everywhere;
 *  - Rabia's own protocol-violation events (equivocation and the like) are violations: no node
 *    in the simulator is malicious;
 *  - compaction (R12): when a replica delivers slot k, Rabia forgets slot k - window_slots;
 *    a majority of replicas must have applied that slot (in any incarnation);
 *  - leader (R15, node_leader.h): on every replica the learned term only grows (within an
 *    incarnation) and never disappears; one term names one node cluster-wide; every executed
 *    leader request is a proposer's CAS (or PUT) of `leader` naming itself and its term.
 * At the end:
 *  - KV digests of all live replicas are equal;
 *  - the history is linearizable per key (WGL, sim/linearizability.h); a search that hits its
 *    bound counts as inconclusive, never as a pass;
 *  - lost acknowledged writes: every acknowledged put/cas executed in the log, and no key's final
 *    read returns a value older (in real time) than an acknowledged write to that key;
 *  - stalls: an operation pending at the heal or invoked after it that does not complete within
 *    liveness_bound_ns of max(invoke, heal), and a cluster that does not reach quiescence
 *    (which includes: every live replica names the same leader and term, and it is live).
 *
 * Memory: sim_world_create allocates everything once (base_alloc); runs reuse it.
 * Context: one thread. Failures are described through cfg.log (ERROR lines naming the seed).
 */
#ifndef AETHER_SIM_SIM_WORLD_H
#define AETHER_SIM_SIM_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/log.h"
#include "sim/sim_net.h"

/*
 * Deliberately broken rules, to prove the checkers see bugs. The first two break Rabia itself
 * (rabia.md 1.9-B, 1.7 row 7) and need a test hook in Rabia's configuration (see
 * sim_break_supported); the others break the shard's glue (NODE_SHARD_BREAK_* in node_shard.h).
 */
enum sim_break {
	SIM_BREAK_NONE = 0,
	SIM_BREAK_NF_FAST_PATH = 1,   /* decide on n-f equal round-1 STATE values */
	SIM_BREAK_COUNT_MESSAGES = 2, /* count messages, not distinct senders */
	SIM_BREAK_LOCAL_READS = 3,    /* answer GETs from local state, not through the log */
	SIM_BREAK_SKIP_APPLY = 4,     /* replica 0 skips the requests of some slots */
	SIM_BREAK_ACK_UNLOGGED = 5,   /* replica 0 acknowledges PUTs it never submits */
	SIM_BREAK_LEADER_PUT = 6,     /* leader proposals overwrite `leader` without a CAS */
};

struct sim_config {
	uint32_t node_count;        /* 1..SIM_NODES_MAX */
	uint32_t op_count;          /* client operations per run, >= 1 */
	uint32_t fault_mask;        /* enum sim_fault_bit */
	uint32_t break_rule;        /* enum sim_break */
	uint32_t client_count;      /* 0: 2 * node_count; at most SIM_CLIENTS_MAX */
	uint32_t key_count;         /* 0: 4; at most SIM_KEYS_MAX */
	uint32_t value_size;        /* 0: 8; bytes per written value, 8..SIM_VALUE_MAX (large
				       values make large stores: multi-chunk state transfers) */
	uint64_t fault_period_ns;   /* 0: 300 ms */
	uint64_t liveness_bound_ns; /* 0: 2 s */
	uint32_t is_replicated;     /* 1: the shards run REPLICATED durability (default SYNC); at
				       most f replicas then crash at once */
	struct base_log log;        /* failure descriptions (ERROR) and progress (INFO, DEBUG) */
};

#define SIM_CLIENTS_MAX      32
#define SIM_KEYS_MAX         64
#define SIM_VALUE_MAX        7000
#define SIM_FAILURE_TEXT_MAX 256

struct sim_result {
	uint64_t seed;
	uint64_t ops_invoked;
	uint64_t ops_ok;
	uint64_t ops_pending; /* never answered (indeterminate) */
	uint64_t slots;       /* distinct slots decided */
	uint64_t null_slots;
	uint64_t violations;
	uint64_t nonlinearizable; /* keys whose history is not linearizable */
	uint64_t inconclusive;    /* keys whose check hit its bound */
	uint64_t stalls;
	uint64_t lost_acked;
	uint64_t crashes;
	uint64_t crashes_skipped; /* would have left fewer than n - f usable replicas */
	uint64_t epoch_changes;   /* epochs adopted, summed over replicas */
	uint64_t restarts;
	uint64_t transfers;
	uint64_t leader_terms;    /* highest leader term learned by any replica */
	uint64_t transfer_chunks; /* snapshot chunks received by all replicas */
	uint64_t phase_max;
	uint64_t events;
	uint64_t end_ns;
	uint64_t trace_digest; /* XXH3 over every event and decision: equal runs, equal digests */
	struct sim_net_stats net;
	char failure[SIM_FAILURE_TEXT_MAX]; /* the first thing that broke, or "" */
};

struct sim_world;

/* 0 when cfg is usable, -EINVAL otherwise (field limits above). */
AE_MUST_CHECK int sim_config_check(const struct sim_config *cfg);
/* Allocates a world for cfg. Errors: -EINVAL (cfg), -ENOMEM, -ENOTSUP (a break rule that the
 * linked Rabia cannot apply). */
AE_MUST_CHECK int sim_world_create(const struct sim_config *cfg, struct sim_world **out);
/* Frees a world; NULL is allowed. */
void sim_world_destroy(struct sim_world *w);
/* Runs one seed and fills *out. */
void sim_world_run(struct sim_world *w, uint64_t seed, struct sim_result *out);

/* 1 when Rabia exposes the test hook for this break rule. */
int sim_break_supported(uint32_t break_rule);
/*
 * "none", "nf-fast-path", "count-messages", "local-reads", "skip-apply", "ack-unlogged",
 * "leader-put"; NULL for an unknown value.
 */
const char *sim_break_name(uint32_t break_rule);
/* Parses a break name; -EINVAL when unknown. */
AE_MUST_CHECK int sim_break_parse(const char *name, uint32_t *out);

#endif /* AETHER_SIM_SIM_WORLD_H */
