/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env_sim: the simulator's implementation of the platform seam (env/env.h), one per simulated
 * node. The code under test talks to it exactly as it talks to env_posix or env_dpdk.
 *
 *  - now_ns:  the simulator's virtual clock (the time of the event being handled);
 *  - seed:    a per-node seed derived from the run seed, the node id and its incarnation;
 *  - send:    into the simulated network (sim_net), with its faults;
 *  - recv:    from the node's inbox, after the transport's tag check;
 *  - storage: in memory, with the durability model of env.h made exact. A put replaces the
 *    object's current contents at once (storage_load sees it); put and sync go through one FIFO
 *    per node and complete after a seeded delay, reported by storage_poll. A sync makes the
 *    current contents durable when it completes. On a crash (env_sim_crash) pending operations
 *    and completions vanish, and each object whose current contents were not made durable is,
 *    by a seeded draw, either kept or rolled back to its last durable contents (env.h: "a crash
 *    may lose any put that was not synced"). Objects that were never synced may vanish entirely.
 *
 * Memory: caller-owned block of env_sim_size(cfg) bytes. The network, queue and PRNG are
 * borrowed for the env's life. Context: the simulator's single thread.
 */
#ifndef AETHER_SIM_ENV_SIM_H
#define AETHER_SIM_ENV_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/log.h"
#include "base/prng.h"
#include "env/env.h"
#include "sim/sim_net.h"
#include "sim/sim_queue.h"

struct env_sim_config {
	uint32_t objects_max;     /* storage objects per node */
	uint32_t object_size_max; /* bytes per object (<= ENV_STORAGE_OBJECT_MAX) */
	uint32_t storage_ops_max; /* pending puts and syncs per node; power of two */
	uint64_t put_ns_min;      /* put latency range */
	uint64_t put_ns_max;
	uint64_t sync_ns_min; /* sync latency range */
	uint64_t sync_ns_max;
	uint32_t keep_unsynced_ppm; /* chance that an un-synced object survives a crash */
};

struct env_sim_object {
	char name[ENV_STORAGE_NAME_MAX + 1];
	uint8_t is_used;
	uint8_t has_current;
	uint8_t has_durable;
	uint8_t is_dirty; /* current differs from durable */
	uint32_t current_size;
	uint32_t durable_size;
	uint8_t *current; /* object_size_max bytes each */
	uint8_t *durable;
};

struct env_sim_op {
	uint64_t token;
	uint32_t op; /* enum env_storage_op */
	uint32_t object_index;
	int status;
};

struct env_sim_stats {
	uint64_t put_count;
	uint64_t sync_count;
	uint64_t crash_count;
	uint64_t lost_object_count; /* un-synced objects rolled back or erased by crashes */
};

struct env_sim {
	struct env_ops ops; /* the table handed to the code under test; ops.ctx == this */
	struct env_sim_config cfg;
	struct env_sim_stats stats;
	struct sim_net *net;     /* borrowed */
	struct sim_queue *queue; /* borrowed */
	struct base_prng *prng;  /* borrowed: the run's single PRNG */
	uint32_t node;
	uint32_t incarnation; /* bumped by every crash; stale storage events carry the old one */
	uint64_t run_seed;
	uint64_t busy_until_ns; /* completion time of the last queued storage operation */
	struct env_sim_object *objects;
	struct env_sim_op *pending; /* FIFO of queued operations */
	uint32_t pending_head;
	uint32_t pending_count;
	struct env_sim_op *done; /* completions not yet polled */
	uint32_t done_count;
};

/* Bytes of caller memory for one node's env with this configuration (asserts it is valid). */
size_t env_sim_size(const struct env_sim_config *cfg);
/*
 * Lays out the env of node `node` in memory and fills e->ops. The log sink is copied into the
 * table. Storage starts empty.
 */
void env_sim_init(struct env_sim *e, void *memory, const struct env_sim_config *cfg, uint32_t node,
		  struct sim_net *net, struct sim_queue *queue, struct base_prng *prng,
		  const struct base_log *log);
/* Empties storage and queues, sets incarnation 0 and the run seed (between seeds). */
void env_sim_reset(struct env_sim *e, uint64_t run_seed);

/* The node crashes: pending storage work vanishes and un-synced objects may be lost. */
void env_sim_crash(struct env_sim *e);
/*
 * Handles a SIM_EV_STORAGE_DONE event carrying `incarnation`: completes the oldest queued
 * operation. Returns 1 when a completion became available (the driver wakes the node), 0 for a
 * stale event from before a crash.
 */
int env_sim_on_storage_done(struct env_sim *e, uint64_t incarnation);

/* Durable bytes of object name (for checkers and tests): 0, -ENOENT, -EFBIG. */
AE_MUST_CHECK int env_sim_durable(const struct env_sim *e, const char *name, const uint8_t **data,
				  size_t *size);

#endif /* AETHER_SIM_ENV_SIM_H */
