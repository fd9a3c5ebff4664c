/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault plans: which faults a run injects and when (rabia.md Part 3a, "Network model" and
 * "Node faults"). A plan is drawn from the run's PRNG before the run starts, so it is part of
 * the seed; the driver schedules its actions as SIM_EV_FAULT events.
 *
 * Faults are selectable by name (sim_fault_parse):
 *   loss       datagrams dropped, 1 % to 30 % per run
 *   dup        datagrams duplicated, up to 5 %
 *   reorder    delays jitter (20 to 400 us) with a 1 % long tail up to 50 ms
 *   corrupt    bytes flipped in flight, up to 2 %; the receiver must reject them
 *   partition  episodes: one node isolated, a majority/minority split, flapping isolations,
 *              or one-way (asymmetric) links
 *   crash      crash-stop: one node stops for good
 *   restart    crash-restart episodes: up to f nodes crash, losing un-synced writes, and restart
 *   pause      episodes: up to f nodes stop stepping for a while (timers frozen, inbox filling)
 *   storage-fail  during the fault period every put, append and sync fails (-EIO in its
 *              completion) with a chance of 0.1 % to 1 % per run; a failed put leaves the old
 *              or the new contents, a failed append a prefix of its data (env_sim.h)
 *   clock-skew each node's clock has its own offset (0 to 3 s) and rate error (-1 % to +1 %)
 *              for the whole run, monotonic; the node's timeouts run on its own clock
 *
 * Link faults hold for the whole fault period; node and partition faults come in episodes of
 * 5 to 60 ms separated by gaps. Nodes that lose their memory (crash-stopped, or crashed and not
 * yet restarted) never exceed f at once, and crash-stopped nodes count against f for the rest of
 * the run: more would break Rabia's crash-recovery assumption (rabia.h, "Known limit"), which
 * is a configuration error, not a bug the checkers should report. The driver enforces the same
 * bound at run time (sim_world.c, world_may_crash): a restarted replica stays passive below the
 * participation mark it recovered (up to hwm_step slots past its crash), so it counts as failed
 * until the cluster passes that mark, and a crash that would exceed f is skipped. Partitions and
 * pauses are not limited: they only cost liveness during the fault period. At heal_ns every link
 * fault and partition ends, crashed (not crash-stopped) nodes restart and paused nodes resume.
 *
 * Storage failures and clock skew are not actions in time: the driver hands each node's env
 * its share of the plan (sim_fault_plan_env) before the node starts, and again at the heal.
 *
 * Pure: no I/O. Context: any single thread.
 */
#ifndef AETHER_SIM_SIM_FAULT_H
#define AETHER_SIM_SIM_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/prng.h"
#include "sim/sim_net.h"

enum sim_fault_bit {
	SIM_FAULT_LOSS = 1u << 0,
	SIM_FAULT_DUP = 1u << 1,
	SIM_FAULT_REORDER = 1u << 2,
	SIM_FAULT_CORRUPT = 1u << 3,
	SIM_FAULT_PARTITION = 1u << 4,
	SIM_FAULT_CRASH = 1u << 5,
	SIM_FAULT_RESTART = 1u << 6,
	SIM_FAULT_PAUSE = 1u << 7,
	SIM_FAULT_STORAGE_FAIL = 1u << 8,
	SIM_FAULT_CLOCK_SKEW = 1u << 9,
	SIM_FAULT_CRASH_ALL = 1u << 10, /* every live node crashes at once, then restarts */
};
#define SIM_FAULT_ALL        0x7ffu
#define SIM_FAULT_NAMES_SIZE 96

enum sim_fault_action_kind {
	SIM_FA_BLOCK = 1,   /* block link node -> peer */
	SIM_FA_UNBLOCK_ALL, /* every link open again */
	SIM_FA_CRASH,       /* node crashes; restarts later (or never: is_permanent) */
	SIM_FA_RESTART,
	SIM_FA_PAUSE,
	SIM_FA_RESUME,
};

struct sim_fault_action {
	uint64_t time_ns;
	uint32_t kind; /* enum sim_fault_action_kind */
	uint32_t node;
	uint32_t peer;
	uint32_t is_permanent; /* SIM_FA_CRASH: crash-stop */
};

#define SIM_FAULT_ACTIONS_MAX 512

/* Bounds of the clock-skew fault's draws. */
#define SIM_FAULT_CLOCK_OFFSET_NS_MAX  (3 * UINT64_C(1000000000))
#define SIM_FAULT_CLOCK_DRIFT_PPM_MAX  10000
/* Bounds of the storage-fail fault's rate. */
#define SIM_FAULT_STORAGE_FAIL_PPM_MIN 1000
#define SIM_FAULT_STORAGE_FAIL_PPM_MAX 10000

/* One node's clock: it reads offset_ns + t * (1e6 + drift_ppm) / 1e6 at simulator time t. */
struct sim_fault_clock {
	uint64_t offset_ns;
	int64_t drift_ppm; /* 64 bits: no padding, so plans compare with memcmp */
};

struct sim_fault_plan {
	uint32_t mask;
	struct sim_net_faults net_faulty;  /* during the fault period */
	struct sim_net_faults net_healthy; /* after heal_ns (and when no link fault is chosen) */
	uint64_t heal_ns;
	uint32_t crash_stop_count;
	uint32_t episode_count;
	uint32_t action_count;
	uint32_t storage_fail_ppm; /* storage-fail: during the fault period; 0 when off */
	struct sim_fault_clock clocks[SIM_NODES_MAX]; /* clock-skew: whole run; zeros when off */
	struct sim_fault_action actions[SIM_FAULT_ACTIONS_MAX]; /* sorted by time */
};

struct env_sim;

/*
 * Parses a comma-separated list of fault names, or "all", or "none", into a mask. Returns 0,
 * or -EINVAL for an empty list or an unknown name (*bad points at it, up to the next comma).
 */
AE_MUST_CHECK int sim_fault_parse(const char *list, uint32_t *mask, const char **bad);
/* Writes the names of mask ("loss,dup,..." or "none") into out (SIM_FAULT_NAMES_SIZE bytes). */
void sim_fault_names(uint32_t mask, char out[SIM_FAULT_NAMES_SIZE]);

/*
 * Draws a plan for node_count nodes (1..SIM_NODES_MAX) with the faults in mask, whose fault
 * period ends at period_ns (> 0). Uses prng; deterministic for a given PRNG state.
 */
void sim_fault_plan_make(struct sim_fault_plan *plan, struct base_prng *prng, uint32_t node_count,
			 uint32_t mask, uint64_t period_ns);

/*
 * Hands the node of env e (e->node) its share of the plan: its clock skew, and the storage
 * failure rate while is_fault_period (0 otherwise). Call it for every node after env_sim_reset
 * and before the node starts (is_fault_period = 1), and again at the heal (0); the clock it sets
 * is the same both times, so it never moves backwards. Does not draw from any PRNG.
 */
void sim_fault_plan_env(const struct sim_fault_plan *plan, struct env_sim *e, int is_fault_period);

#endif /* AETHER_SIM_SIM_FAULT_H */
