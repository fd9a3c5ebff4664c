/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster leader as a replicated fact (rabia.md R15, ARCHITECTURE.md section 6): the value
 * of the KV key `leader` (node id and a term that only grows), written only by compare-and-set
 * through the Rabia log, never a local guess. A pure unit: the shard (node_shard.h) feeds it
 * peer liveness and the applied KV state, and submits the proposals it asks for.
 *
 * The value (NODE_LEADER_VALUE_SIZE bytes, little endian):
 *
 *   u8 version (NODE_LEADER_VALUE_VERSION)  u8[3] zero  u32 node_id  u64 term (>= 1)
 *
 * The rule, evaluated by node_leader_poll on every shard poll:
 *
 *   if (no leader is known, or the leader has not been heard from for timeout_ns)
 *      and this node is the lowest member id among the live ones (itself always counts)
 *      and no proposal of this node is outstanding:
 *          propose CAS(leader, expected mod index of the applied value (0 = absent),
 *                      {self, applied term + 1})
 *
 * Why it is safe: the CAS names the mod index of the exact value the proposer read, so it
 * succeeds only if nobody wrote the key since; each successful write therefore takes term t to
 * t + 1 (terms only grow), and two nodes that both propose term t + 1 from the same value
 * cannot both succeed (at most one node per term). Liveness is a heuristic (messages seen, a
 * timeout) and only decides WHO tries: a wrong guess costs an extra term, never a second
 * leader for one term. Everything learned comes from APPLIED KV state (node_leader_on_applied),
 * so every replica that applied the same log prefix names the same leader.
 *
 * Liveness: any message from a peer refreshes it (node_leader_on_peer); the shard's Rabia
 * heartbeat keeps idle peers heard. At init every peer counts as just heard, so after a start
 * the lowest id proposes first and the others wait one timeout before they step in.
 *
 * Proposals: client id NODE_LEADER_CLIENT_BIT | self_id, client seq = the proposed term, so a
 * retry of the same proposal is deduplicated by the KV store (R8) and a later proposal always
 * has a higher seq. A proposal stays outstanding until the shard applies a request with its
 * (client id, seq) (node_leader_on_result) or for timeout_ns, whichever comes first; then the
 * rule may propose again.
 *
 * Invalid values under `leader` (not written by this rule) count as "no leader, term 0", so
 * the rule overwrites them. Memory: the struct itself, caller-owned. Context: the shard's
 * owning thread; no function allocates or does I/O.
 */
#ifndef AETHER_NODE_NODE_LEADER_H
#define AETHER_NODE_NODE_LEADER_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

#define NODE_LEADER_VALUE_VERSION 1
#define NODE_LEADER_VALUE_SIZE    16
/* Members tracked (RABIA_NODES_MAX). */
#define NODE_LEADER_MEMBERS_MAX   64
/* Client ids with this bit set belong to leader proposers; client proxies must not use them. */
#define NODE_LEADER_CLIENT_BIT    (UINT64_C(1) << 63)
/* The key text "leader" (kv_key.h) and room for its NUL. */
#define NODE_LEADER_KEY_MAX       16
/* Largest encoded proposal (a kv_cmd.h CAS of the key and a value). */
#define NODE_LEADER_CMD_MAX       64

struct node_leader_value {
	uint32_t node_id;
	uint64_t term;
};

/* Encodes v (term >= 1, asserted) into out. */
void node_leader_value_encode(const struct node_leader_value *v,
			      uint8_t out[NODE_LEADER_VALUE_SIZE]);
/*
 * Decodes a value read from the store (data borrowed). Returns 0, -BASE_ERR_TRUNCATED /
 * -BASE_ERR_TRAILING for a wrong size, -BASE_ERR_VERSION, or -EBADMSG (reserved bytes not
 * zero, term 0). Never asserts on the input.
 */
AE_MUST_CHECK int node_leader_value_decode(const uint8_t *data, size_t size,
					   struct node_leader_value *out);

/* Writes the key text ("leader", from kv_key_format) and a NUL; returns its length. */
size_t node_leader_key(char out[NODE_LEADER_KEY_MAX]);

/* The client id this node proposes with. */
static inline uint64_t
node_leader_client_id(uint32_t node_id)
{
	return NODE_LEADER_CLIENT_BIT | node_id;
}

struct node_leader_config {
	uint32_t self_id;
	uint32_t member_count; /* 1..NODE_LEADER_MEMBERS_MAX, self among them */
	uint32_t members[NODE_LEADER_MEMBERS_MAX];
	uint64_t timeout_ns; /* > 0: a peer unheard for longer is not live */
};

/* A CAS for the shard to submit as client (client_id, client_seq) with body cmd. */
struct node_leader_proposal {
	uint64_t client_id;
	uint64_t client_seq;
	uint64_t expected_mod_index;
	struct node_leader_value value;
	uint8_t cmd[NODE_LEADER_CMD_MAX];
	size_t cmd_size;
};

struct node_leader {
	struct node_leader_config cfg;
	uint64_t last_seen_ns[NODE_LEADER_MEMBERS_MAX]; /* by member index */
	/* Learned from applied state only. */
	int has_leader;
	struct node_leader_value current;
	uint64_t mod_index; /* the key's mod index; 0 when absent */
	/* This node's proposer. */
	int is_outstanding;
	uint64_t outstanding_seq;
	uint64_t outstanding_ns;
	uint64_t proposal_count;
};

/* 0 when cfg is usable, -EINVAL otherwise. */
AE_MUST_CHECK int node_leader_config_check(const struct node_leader_config *cfg);
/* Starts with no leader known; every peer counts as heard at now_ns. cfg is copied. */
void node_leader_init(struct node_leader *l, const struct node_leader_config *cfg, uint64_t now_ns);
/* A message from node_id arrived (ids that are not members are ignored). */
void node_leader_on_peer(struct node_leader *l, uint32_t node_id, uint64_t now_ns);
/*
 * The applied value of `leader` (borrowed) and its mod index, or value NULL and mod_index 0
 * when the key is absent. Returns 1 when the learned leader or term changed, else 0.
 */
int node_leader_on_applied(struct node_leader *l, const uint8_t *value, size_t value_size,
			   uint64_t mod_index);
/* The shard applied this node's proposal with client_seq (any outcome): no longer outstanding. */
void node_leader_on_result(struct node_leader *l, uint64_t client_seq);
/* 1 when node_id is self, or a member heard from within timeout_ns of now_ns. */
int node_leader_is_live(const struct node_leader *l, uint32_t node_id, uint64_t now_ns);
/*
 * The rule above. Returns 1 and fills *out when this node should propose now (and counts the
 * proposal as outstanding from now_ns), else 0.
 */
int node_leader_poll(struct node_leader *l, uint64_t now_ns, struct node_leader_proposal *out);
/*
 * The earliest time after now_ns at which node_leader_poll's answer can change with no other
 * input (a peer or the outstanding proposal timing out), or UINT64_MAX. Drivers that sleep use
 * it as a wake-up time.
 */
uint64_t node_leader_next_ns(const struct node_leader *l, uint64_t now_ns);
/* 1 and *out when a leader is known from applied state, else 0. */
int node_leader_get(const struct node_leader *l, struct node_leader_value *out);

#endif /* AETHER_NODE_NODE_LEADER_H */
