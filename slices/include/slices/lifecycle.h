/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The lifecycle of one slice instance on one node, as a pure state machine (ARCHITECTURE.md
 * section 2; the state names and transitions of the Java runtime's SliceState, java notes
 * 1.B-1). The node's deployment manager feeds it the commands it reads from the KV store and the
 * completions of the work it runs (load, start/stop hooks, unload), and writes the resulting
 * state back; the machine itself does no IO, reads no clock and never calls out. Time arrives as
 * now_ns (monotonic, never decreasing across calls) on every input.
 *
 * States. Commands are written by the leader, the others by the node:
 *
 *   state          kind          legal next states
 *   LOAD           command       LOADING
 *   LOADING        operation     LOADED, FAILED                load_timeout (2 min)
 *   LOADED         stable        ACTIVATE, UNLOAD
 *   ACTIVATE       command       ACTIVATING
 *   ACTIVATING     operation     ACTIVE, FAILED                activate_timeout (1 min)
 *   ACTIVE         stable        DEACTIVATE
 *   DEACTIVATE     command       DEACTIVATING
 *   DEACTIVATING   operation     LOADED, FAILED                deactivate_timeout (30 s)
 *   UNLOAD         command       UNLOADING
 *   UNLOADING      operation     FAILED, or done (removed)     unload_timeout (2 min)
 *   FAILED         stable        UNLOAD
 *
 * Two choices differ from the Java table:
 * - UNLOAD is NOT legal from ACTIVE (the Java leader writes it there and the node copes). Here
 *   the leader must write DEACTIVATE first and UNLOAD once the instance is LOADED, so endpoints
 *   are always withdrawn by a deactivation and the stop hook always runs before unload (the C
 *   port note in java notes section 5).
 * - UNLOADING may go to FAILED (an unload that times out or cannot unmap the object); the
 *   leader may then write UNLOAD again. A successful unload ends the machine (is_unloaded): the
 *   KV key is removed and every later input is refused.
 * Requests for the state the machine is already in (a notification delivered twice) return
 * -EALREADY; every other illegal request returns -EINVAL. Either way nothing changes.
 *
 * Inputs:
 * - on_request(state): a command, or the node moving on (LOAD -> LOADING starts the load).
 *   Entering an operation state arms its deadline. FAILED cannot be requested (it needs a
 *   reason: on_fail). Finishing an operation through on_request (LOADING -> LOADED) is the
 *   same as on_done.
 * - on_hook_begin / on_hook_done: a start hook (in ACTIVATING) or stop hook (in DEACTIVATING or
 *   UNLOADING) is running. It has its own deadline, hook_timeout (5 s), inside the operation's.
 *   Success lets the operation continue (the driver then calls on_done); failure goes to FAILED
 *   with "start hook failed: <reason>". While a hook runs the operation cannot finish (-EBUSY).
 * - on_done: the current operation finished (LOADING -> LOADED, ACTIVATING -> ACTIVE,
 *   DEACTIVATING -> LOADED, UNLOADING -> removed).
 * - on_fail(reason): the current operation failed: FAILED with "<op> failed: <reason>".
 * - on_tick: applies deadlines. At now_ns - start >= timeout the machine goes to FAILED with
 *   "<op> timed out after <T>" (for example "activate timed out after 60 s", "start hook timed
 *   out after 5 s"); the hook's deadline is checked before the operation's.
 * Every other input first does what on_tick would; if that fired a timeout the input itself is
 * not applied and returns -ETIMEDOUT, so the result never depends on how often ticks come.
 *
 * Reasons are kept in the struct (at most SLICE_LIFECYCLE_REASON_MAX bytes, cut at that length;
 * bytes outside printable ASCII become '?', because reasons come from slices and end up in KV
 * values and on operators' terminals). The reason is set on entering FAILED and cleared on
 * leaving it.
 *
 * Ownership: the caller owns struct slice_lifecycle (init into caller memory, no fini needed).
 * Context: one owner (the control lcore); no locking inside. All functions are O(1) apart from
 * copying the reason.
 */
#ifndef AETHER_SLICES_LIFECYCLE_H
#define AETHER_SLICES_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/parse.h"

/* Values are stable (they may be stored); 0 is never a valid state. */
enum slice_state {
	SLICE_STATE_LOAD = 1,
	SLICE_STATE_LOADING = 2,
	SLICE_STATE_LOADED = 3,
	SLICE_STATE_ACTIVATE = 4,
	SLICE_STATE_ACTIVATING = 5,
	SLICE_STATE_ACTIVE = 6,
	SLICE_STATE_DEACTIVATE = 7,
	SLICE_STATE_DEACTIVATING = 8,
	SLICE_STATE_UNLOAD = 9,
	SLICE_STATE_UNLOADING = 10,
	SLICE_STATE_FAILED = 11,
};
#define SLICE_STATE_COUNT    11
/* Longest state name ("DEACTIVATING"), without NUL. */
#define SLICE_STATE_NAME_MAX 12

/* The upper-case name ("LOAD", ..., "FAILED"), or NULL for a value outside the enum. */
const char *slice_state_name(enum slice_state state);

/*
 * Parses a state name: exactly one of the names above, upper case (the KV value and CLI
 * spelling). Returns 0 and sets *out, or -BASE_ERR_EMPTY, -BASE_ERR_TOO_LONG,
 * -BASE_ERR_SYNTAX (no such state) with err filled. Borrows text (no NUL needed).
 */
AE_MUST_CHECK int slice_state_parse(const char *text, size_t size, enum slice_state *out,
				    struct base_parse_error *err);

/* 1 when the table above allows from -> to (FAILED included), else 0; any two values. */
int slice_state_transition_is_legal(enum slice_state from, enum slice_state to);

/* 1 for LOAD, ACTIVATE, DEACTIVATE, UNLOAD (written by the leader), else 0. */
int slice_state_is_command(enum slice_state state);

/* 1 for LOADING, ACTIVATING, DEACTIVATING, UNLOADING (an operation with a deadline), else 0. */
int slice_state_is_operation(enum slice_state state);

#define SLICE_LIFECYCLE_REASON_MAX 160

#define SLICE_LIFECYCLE_LOAD_TIMEOUT_NS       (UINT64_C(120) * 1000000000u)
#define SLICE_LIFECYCLE_ACTIVATE_TIMEOUT_NS   (UINT64_C(60) * 1000000000u)
#define SLICE_LIFECYCLE_DEACTIVATE_TIMEOUT_NS (UINT64_C(30) * 1000000000u)
#define SLICE_LIFECYCLE_UNLOAD_TIMEOUT_NS     (UINT64_C(120) * 1000000000u)
#define SLICE_LIFECYCLE_HOOK_TIMEOUT_NS       (UINT64_C(5) * 1000000000u)

/* Every timeout must be > 0. */
struct slice_lifecycle_config {
	uint64_t load_timeout_ns;
	uint64_t activate_timeout_ns;
	uint64_t deactivate_timeout_ns;
	uint64_t unload_timeout_ns;
	uint64_t hook_timeout_ns; /* each start or stop hook */
};

/* Fills cfg with the defaults above. */
void slice_lifecycle_config_default(struct slice_lifecycle_config *cfg);

/*
 * Fields are read-only for callers (read them directly or through the accessors). Nothing in
 * the struct points anywhere, so it may be copied.
 */
struct slice_lifecycle {
	struct slice_lifecycle_config cfg;
	enum slice_state state;
	int is_unloaded;      /* 1 after UNLOADING finished; the machine is then inert */
	int is_hook_running;  /* a start or stop hook is between begin and done */
	uint64_t now_ns;      /* the latest time seen */
	uint64_t op_start_ns; /* when the current operation state was entered */
	uint64_t hook_start_ns;
	uint64_t transition_count; /* state changes so far; lets a driver spot a change */
	char reason[SLICE_LIFECYCLE_REASON_MAX + 1]; /* "" unless FAILED */
};

/*
 * Starts a machine in LOAD (an instance comes into being with the leader's LOAD command).
 * cfg is copied; returns 0, or -EINVAL when a timeout is 0 (config comes from operators).
 */
AE_MUST_CHECK int slice_lifecycle_init(struct slice_lifecycle *lc,
				       const struct slice_lifecycle_config *cfg, uint64_t now_ns);

/*
 * Inputs (see the top of this file). Each returns 0 when applied, else a negative code with the
 * machine unchanged apart from a timeout the input's now_ns fired first:
 *   -ETIMEDOUT  a deadline had passed: the machine is now FAILED, the input was not applied
 *   -EALREADY   on_request for the current state
 *   -EINVAL     not legal in this state, not a state at all, FAILED requested (on_fail
 *               does that), or the machine is unloaded
 *   -EBUSY      the operation cannot finish while a hook runs (on_done, on_request, hook_begin)
 * reason is a NUL-terminated string, borrowed; NULL or "" reads as "no reason given".
 */
AE_MUST_CHECK int slice_lifecycle_on_request(struct slice_lifecycle *lc, enum slice_state to,
					     uint64_t now_ns);
AE_MUST_CHECK int slice_lifecycle_on_done(struct slice_lifecycle *lc, uint64_t now_ns);
AE_MUST_CHECK int slice_lifecycle_on_fail(struct slice_lifecycle *lc, uint64_t now_ns,
					  const char *reason);
AE_MUST_CHECK int slice_lifecycle_on_hook_begin(struct slice_lifecycle *lc, uint64_t now_ns);
/* status 0: the hook succeeded; negative: it failed, with reason. */
AE_MUST_CHECK int slice_lifecycle_on_hook_done(struct slice_lifecycle *lc, uint64_t now_ns,
					       int status, const char *reason);

/* Applies deadlines at now_ns. Returns 1 when a timeout moved the machine to FAILED, else 0. */
int slice_lifecycle_on_tick(struct slice_lifecycle *lc, uint64_t now_ns);

/*
 * The earliest now_ns at which on_tick would fire a timeout, or UINT64_MAX when no deadline is
 * armed (so the driver can sleep until then).
 */
uint64_t slice_lifecycle_deadline_ns(const struct slice_lifecycle *lc);

static inline enum slice_state
slice_lifecycle_state(const struct slice_lifecycle *lc)
{
	return lc->state;
}

static inline const char *
slice_lifecycle_reason(const struct slice_lifecycle *lc)
{
	return lc->reason;
}

#endif /* AETHER_SLICES_LIFECYCLE_H */
