/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Linearizability checker for one register (one key of the KV store) with put, get and
 * compare-and-swap, using the Wing-Gong search with Lowe's memoisation ("WGL": J. M. Wing and
 * C. Gong, "Testing and verifying concurrent objects", 1993; G. Lowe, "Testing for
 * linearizability", 2017; the same algorithm as Knossos' "wgl" and Porcupine).
 *
 * Linearizability is local (Herlihy and Wing, 1990): a KV history is linearizable exactly when
 * the sub-history of every key is, so the simulator checks each key on its own.
 *
 * The history is a set of operations with invoke and complete times (virtual ns). Two operations
 * are ordered when one completes strictly before the other is invoked; equal times count as
 * concurrent (the permissive choice, so a tie never produces a false violation).
 *
 * Register semantics (state 0 means "absent"; written values must be non-zero):
 *   put(v)        -> ok; state := v
 *   get()         -> v;  allowed only when state == v
 *   cas(e, n)     -> ok when state == e (state := n), fail when state != e (unchanged)
 * An operation that never completed (complete_ns == SIM_LIN_PENDING: the client gave up or the
 * run ended) may have taken effect at any time after its invoke, or never: it is linearized with
 * its model effect (a pending cas swaps exactly when state == e) and may be placed after every
 * completed operation, which is the same as "never" for the observers. Pending gets carry no
 * information and are ignored. Operations that failed for sure (never applied) must not be
 * passed in.
 *
 * Search cost is exponential in the worst case; the memo (set of (linearized subset, state)
 * pairs) makes typical histories with a handful of concurrent clients cheap. The search is
 * bounded by step_max; if the bound is reached the result is SIM_LIN_INCONCLUSIVE, which callers
 * must report separately and never count as a pass. The memo lives in a fixed budget of bytes;
 * when it is full the search continues without adding entries (still exact, only slower).
 *
 * Memory: caller-owned block of sim_lin_checker_size(cfg) bytes. Context: one owner.
 */
#ifndef AETHER_SIM_LINEARIZABILITY_H
#define AETHER_SIM_LINEARIZABILITY_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

#define SIM_LIN_PENDING UINT64_MAX

enum sim_lin_kind {
	SIM_LIN_PUT = 1,
	SIM_LIN_GET = 2,
	SIM_LIN_CAS = 3,
};

struct sim_lin_op {
	uint64_t invoke_ns;
	uint64_t complete_ns; /* SIM_LIN_PENDING when no answer arrived */
	uint64_t value;       /* put: written; get: read (0 = absent); cas: new value */
	uint64_t expected;    /* cas only */
	uint32_t kind;        /* enum sim_lin_kind */
	uint32_t is_ok;       /* cas: 1 swapped, 0 value differed; ignored otherwise */
};

enum sim_lin_result {
	SIM_LIN_LINEARIZABLE = 0,
	SIM_LIN_VIOLATION = 1,
	SIM_LIN_INCONCLUSIVE = 2,
};

struct sim_lin_config {
	uint32_t ops_max;  /* most operations per check */
	uint64_t step_max; /* search steps before giving up (inconclusive) */
	size_t memo_bytes; /* memo budget */
};

struct sim_lin_report {
	enum sim_lin_result result;
	uint64_t step_count;
	uint32_t op_count;       /* operations searched (pending gets dropped) */
	uint32_t deepest_count;  /* most operations linearized on any search path */
	uint32_t blocking_index; /* on a violation: an operation (input index) that could not be
				  * linearized before it completed, on the deepest path */
};

struct sim_lin_entry;

struct sim_lin_checker {
	struct sim_lin_config cfg;
	struct sim_lin_entry *entries; /* 2 * ops_max + 1 (sentinel) */
	uint32_t *order;               /* sort scratch: 2 * ops_max */
	uint32_t *stack;               /* ops_max call entries */
	uint64_t *stack_state;         /* ops_max */
	uint64_t *bits;                /* the linearized set */
	uint8_t *memo;                 /* memo_bytes */
	uint32_t *input_index;         /* ops_max: search op -> caller's index */
	const struct sim_lin_op **ops; /* ops_max */
	uint32_t *memo_used;           /* memo slots in use, wiped after each check */
};

/* Bytes of caller memory for a checker with this configuration (asserts it is valid). */
size_t sim_lin_checker_size(const struct sim_lin_config *cfg);
void sim_lin_checker_init(struct sim_lin_checker *c, void *memory,
			  const struct sim_lin_config *cfg);

/*
 * Checks ops[0..count) (borrowed for the call) against a register that starts with
 * initial_value. Fills *report. Returns 0, -E2BIG when count > ops_max, -EINVAL when an
 * operation is malformed (unknown kind, complete before invoke, a put or cas writing 0).
 */
AE_MUST_CHECK int sim_lin_check(struct sim_lin_checker *c, const struct sim_lin_op *ops,
				size_t count, uint64_t initial_value,
				struct sim_lin_report *report);

/* "linearizable", "VIOLATION", "inconclusive". */
const char *sim_lin_result_name(enum sim_lin_result r);

#endif /* AETHER_SIM_LINEARIZABILITY_H */
