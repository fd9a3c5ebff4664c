/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env_sim: the simulator's implementation of the platform seam (env/env.h), one per simulated
 * node. The code under test talks to it exactly as it talks to env_posix or env_dpdk.
 *
 *  - now_ns:  the node's clock: the simulator's virtual clock (the time of the event being
 *    handled) seen through the node's skew (env_sim_set_clock; none by default);
 *  - seed:    a per-node seed derived from the run seed, the node id and its incarnation;
 *  - send:    into the simulated network (sim_net), with its faults;
 *  - recv:    from the node's inbox, after the transport's tag check;
 *  - storage: in memory, with the durability model of env.h made exact (below).
 *
 * Storage model. Put, append and sync take effect on the object's current contents when they
 * are accepted (storage_load sees them at once), go through one FIFO per node and complete after
 * a seeded delay, reported by storage_poll. Each object also has a durable image: what a crash
 * leaves. A sync that completes makes durable the contents the object had when the sync was
 * called (env.h: "a sync covers every put and append accepted before the sync call"); only
 * when a put replaced the object between the call and the completion is the current contents
 * made durable instead (more than promised, which env.h allows: a crash *may* lose un-synced
 * data). On a crash (env_sim_crash) pending operations and completions vanish, and each object
 * changed since its durable image is, by seeded draws:
 *  - with keep_unsynced_ppm, kept whole (the page cache happened to reach the disk);
 *  - else, when only appends followed the durable image, cut to the durable image plus a prefix
 *    of the appended bytes (a torn tail): none of them, all of them, up to the end of one of
 *    the appends, or up to any byte (usually inside a record), each a quarter of the time;
 *  - else rolled back to the durable image.
 * An object that was never made durable and keeps no byte vanishes. Whatever a crash leaves is
 * what the disk holds: it becomes the object's durable image.
 *
 * Storage failures (env_sim_set_storage_fail, the `storage-fail` fault): each accepted put,
 * append or sync fails with the configured chance; the outcome is drawn when the operation is
 * accepted and reported as status -EIO in its completion. A failed put leaves the old contents
 * or, half of the time, the new ones (an atomic replace that failed before or after it took
 * effect, like write-to-temp-and-rename); a failed append writes a seeded prefix of its data
 * (possibly nothing, possibly all of it), so later appends land after a partial record; a
 * failed sync makes nothing durable. No draw is made while the rate is 0, so runs without the
 * fault keep their sequence of draws.
 *
 * Clock skew (env_sim_set_clock, the `clock-skew` fault): the node's clock reads
 * offset_ns + sim_ns * (1e6 + drift_ppm) / 1e6 (rounded down): monotonic, a fixed function of
 * the simulator's clock for the whole run (crashes included). The driver hands the node its own
 * time (env_sim_local_ns) and turns the deadline the node asks for back into simulator time
 * (env_sim_sim_ns), so a node's timeouts run on its own clock only.
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
	uint32_t storage_ops_max; /* pending puts, appends and syncs per node; power of two */
	uint64_t put_ns_min;      /* put and append latency range */
	uint64_t put_ns_max;
	uint64_t sync_ns_min; /* sync latency range */
	uint64_t sync_ns_max;
	uint32_t keep_unsynced_ppm; /* chance that an un-synced object survives a crash whole */
};

/* Append ends remembered per object since its durable image (torn tails cut at one of them). */
#define ENV_SIM_MARKS_MAX     16
/* Bounds of env_sim_set_clock's drift: +-10 %, far beyond any real oscillator. */
#define ENV_SIM_DRIFT_PPM_MAX 100000

struct env_sim_object {
	char name[ENV_STORAGE_NAME_MAX + 1];
	uint8_t is_used;
	uint8_t has_current;
	uint8_t has_durable;
	uint8_t is_dirty;  /* current differs from durable */
	uint8_t is_prefix; /* current starts with durable: only appends since the durable image */
	uint32_t current_size;
	uint32_t durable_size;
	uint32_t put_gen;    /* puts that changed current (a sync compares it at completion) */
	uint32_t mark_count; /* marks[0, mark_count): ascending ends of appends past durable */
	uint32_t marks[ENV_SIM_MARKS_MAX];
	uint8_t *current; /* object_size_max bytes each */
	uint8_t *durable;
};

struct env_sim_op {
	uint64_t token;
	uint32_t op; /* enum env_storage_op */
	uint32_t object_index;
	int status;          /* decided when the operation is accepted */
	uint32_t size_at;    /* sync: the object's size when the sync was called */
	uint32_t put_gen_at; /* sync: the object's put_gen when the sync was called */
};

struct env_sim_stats {
	uint64_t put_count;
	uint64_t append_count;
	uint64_t sync_count;
	uint64_t crash_count;
	uint64_t lost_object_count; /* objects that lost un-synced data (or vanished) in crashes */
	uint64_t torn_tail_count;   /* of those, objects that kept part of their un-synced tail */
	uint64_t failed_count;      /* operations completed with -EIO by the storage-fail fault */
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
	uint32_t fail_ppm;      /* chance that a put, append or sync fails (-EIO) */
	int32_t drift_ppm;      /* clock: rate error */
	uint64_t offset_ns;     /* clock: reading at simulator time 0 */
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
/*
 * Empties storage and queues, sets incarnation 0 and the run seed (between seeds); no storage
 * failures and no clock skew until they are set again.
 */
void env_sim_reset(struct env_sim *e, uint64_t run_seed);

/* The node crashes: pending storage work vanishes; objects follow the crash model above. */
void env_sim_crash(struct env_sim *e);
/*
 * Handles a SIM_EV_STORAGE_DONE event carrying `incarnation`: completes the oldest queued
 * operation. Returns 1 when a completion became available (the driver wakes the node), 0 for a
 * stale event from before a crash.
 */
int env_sim_on_storage_done(struct env_sim *e, uint64_t incarnation);

/*
 * Makes each later put, append and sync fail (-EIO) with chance fail_ppm / 1e6 (0: never;
 * at most 1e6). Operations already accepted keep their outcome.
 */
void env_sim_set_storage_fail(struct env_sim *e, uint32_t fail_ppm);
/*
 * Skews the node's clock: it reads offset_ns + sim_ns * (1e6 + drift_ppm) / 1e6. |drift_ppm|
 * at most ENV_SIM_DRIFT_PPM_MAX. Set it before the node first reads its clock (between reset
 * and start): changing it later could move the clock backwards.
 */
void env_sim_set_clock(struct env_sim *e, uint64_t offset_ns, int32_t drift_ppm);
/* The node's clock reading at simulator time sim_ns (saturates at UINT64_MAX). */
uint64_t env_sim_local_ns(const struct env_sim *e, uint64_t sim_ns);
/*
 * The earliest simulator time at which the node's clock reads local_ns or more (0 when it
 * already did at time 0; UINT64_MAX when never): a timer the node set for local_ns fires
 * there, never before its own deadline.
 */
uint64_t env_sim_sim_ns(const struct env_sim *e, uint64_t local_ns);

/* Durable bytes of object name (for checkers and tests): 0, -ENOENT, -EFBIG. */
AE_MUST_CHECK int env_sim_durable(const struct env_sim *e, const char *name, const uint8_t **data,
				  size_t *size);

#endif /* AETHER_SIM_ENV_SIM_H */
