/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The slice lifecycle state machine: a table of legal next states, one deadline per operation
 * state plus one per running hook, and bounded, sanitized failure reasons. The rules are in
 * slices/lifecycle.h; the code only follows the table.
 */
#include "slices/lifecycle.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/panic.h"

#define LC_BIT(state) (UINT32_C(1) << (state))
#define LC_NS_PER_S   UINT64_C(1000000000)

_Static_assert(SLICE_STATE_FAILED == SLICE_STATE_COUNT, "states are 1..SLICE_STATE_COUNT");

/* Legal next states, as a bit set per state (java notes 1.B-1 plus the two documented changes). */
static const uint32_t lc_next[SLICE_STATE_COUNT + 1] = {
	[SLICE_STATE_LOAD] = LC_BIT(SLICE_STATE_LOADING),
	[SLICE_STATE_LOADING] = LC_BIT(SLICE_STATE_LOADED) | LC_BIT(SLICE_STATE_FAILED),
	[SLICE_STATE_LOADED] = LC_BIT(SLICE_STATE_ACTIVATE) | LC_BIT(SLICE_STATE_UNLOAD),
	[SLICE_STATE_ACTIVATE] = LC_BIT(SLICE_STATE_ACTIVATING),
	[SLICE_STATE_ACTIVATING] = LC_BIT(SLICE_STATE_ACTIVE) | LC_BIT(SLICE_STATE_FAILED),
	[SLICE_STATE_ACTIVE] = LC_BIT(SLICE_STATE_DEACTIVATE),
	[SLICE_STATE_DEACTIVATE] = LC_BIT(SLICE_STATE_DEACTIVATING),
	[SLICE_STATE_DEACTIVATING] = LC_BIT(SLICE_STATE_LOADED) | LC_BIT(SLICE_STATE_FAILED),
	[SLICE_STATE_UNLOAD] = LC_BIT(SLICE_STATE_UNLOADING),
	[SLICE_STATE_UNLOADING] = LC_BIT(SLICE_STATE_FAILED),
	[SLICE_STATE_FAILED] = LC_BIT(SLICE_STATE_UNLOAD),
};

static const char *const lc_names[SLICE_STATE_COUNT + 1] = {
	[SLICE_STATE_LOAD] = "LOAD",
	[SLICE_STATE_LOADING] = "LOADING",
	[SLICE_STATE_LOADED] = "LOADED",
	[SLICE_STATE_ACTIVATE] = "ACTIVATE",
	[SLICE_STATE_ACTIVATING] = "ACTIVATING",
	[SLICE_STATE_ACTIVE] = "ACTIVE",
	[SLICE_STATE_DEACTIVATE] = "DEACTIVATE",
	[SLICE_STATE_DEACTIVATING] = "DEACTIVATING",
	[SLICE_STATE_UNLOAD] = "UNLOAD",
	[SLICE_STATE_UNLOADING] = "UNLOADING",
	[SLICE_STATE_FAILED] = "FAILED",
};

/* What each operation state does, for deadlines, completion and reason texts. */
struct lc_op {
	const char *name;      /* "activate": "<name> failed: ...", "<name> timed out after ..." */
	const char *hook_name; /* "start hook", or NULL when the operation runs no hook */
	enum slice_state done; /* where on_done leads; the operation's own state for UNLOADING */
};

static const struct lc_op lc_ops[SLICE_STATE_COUNT + 1] = {
	[SLICE_STATE_LOADING] = {"load", NULL, SLICE_STATE_LOADED},
	[SLICE_STATE_ACTIVATING] = {"activate", "start hook", SLICE_STATE_ACTIVE},
	[SLICE_STATE_DEACTIVATING] = {"deactivate", "stop hook", SLICE_STATE_LOADED},
	[SLICE_STATE_UNLOADING] = {"unload", "stop hook", SLICE_STATE_UNLOADING},
};

static int
lc_is_valid(enum slice_state state)
{
	return (int)state >= 1 && (int)state <= SLICE_STATE_COUNT;
}

const char *
slice_state_name(enum slice_state state)
{
	return lc_is_valid(state) ? lc_names[state] : NULL;
}

/* 1 when text equals name ignoring ASCII case (for the "names are upper case" hint). */
static int
lc_equal_ignoring_case(const char *text, size_t size, const char *name)
{
	if (strlen(name) != size) {
		return 0;
	}
	for (size_t i = 0; i < size; i++) {
		char c = text[i];

		if (c >= 'a' && c <= 'z') {
			c = (char)(c - 'a' + 'A');
		}
		if (c != name[i]) {
			return 0;
		}
	}
	return 1;
}

int
slice_state_parse(const char *text, size_t size, enum slice_state *out,
		  struct base_parse_error *err)
{
	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	if (size == 0) {
		return base_parse_fail(err, 0, -BASE_ERR_EMPTY, "empty slice state");
	}
	if (size > SLICE_STATE_NAME_MAX) {
		return base_parse_fail(err, SLICE_STATE_NAME_MAX, -BASE_ERR_TOO_LONG,
				       "slice state name too long");
	}
	for (int s = 1; s <= SLICE_STATE_COUNT; s++) {
		if (strlen(lc_names[s]) == size && memcmp(lc_names[s], text, size) == 0) {
			*out = (enum slice_state)s;
			return 0;
		}
	}
	for (int s = 1; s <= SLICE_STATE_COUNT; s++) {
		if (lc_equal_ignoring_case(text, size, lc_names[s])) {
			return base_parse_fail(err, 0, -BASE_ERR_SYNTAX,
					       "slice state names are upper case");
		}
	}
	return base_parse_fail(err, 0, -BASE_ERR_SYNTAX, "unknown slice state");
}

int
slice_state_transition_is_legal(enum slice_state from, enum slice_state to)
{
	if (!lc_is_valid(from) || !lc_is_valid(to)) {
		return 0;
	}
	return (lc_next[from] & LC_BIT(to)) != 0;
}

int
slice_state_is_command(enum slice_state state)
{
	return state == SLICE_STATE_LOAD || state == SLICE_STATE_ACTIVATE ||
	       state == SLICE_STATE_DEACTIVATE || state == SLICE_STATE_UNLOAD;
}

int
slice_state_is_operation(enum slice_state state)
{
	return lc_is_valid(state) && lc_ops[state].name != NULL;
}

void
slice_lifecycle_config_default(struct slice_lifecycle_config *cfg)
{
	ASSERT(cfg != NULL);
	cfg->load_timeout_ns = SLICE_LIFECYCLE_LOAD_TIMEOUT_NS;
	cfg->activate_timeout_ns = SLICE_LIFECYCLE_ACTIVATE_TIMEOUT_NS;
	cfg->deactivate_timeout_ns = SLICE_LIFECYCLE_DEACTIVATE_TIMEOUT_NS;
	cfg->unload_timeout_ns = SLICE_LIFECYCLE_UNLOAD_TIMEOUT_NS;
	cfg->hook_timeout_ns = SLICE_LIFECYCLE_HOOK_TIMEOUT_NS;
}

int
slice_lifecycle_init(struct slice_lifecycle *lc, const struct slice_lifecycle_config *cfg,
		     uint64_t now_ns)
{
	ASSERT(lc != NULL);
	ASSERT(cfg != NULL);
	if (cfg->load_timeout_ns == 0 || cfg->activate_timeout_ns == 0 ||
	    cfg->deactivate_timeout_ns == 0 || cfg->unload_timeout_ns == 0 ||
	    cfg->hook_timeout_ns == 0) {
		return -EINVAL;
	}
	memset(lc, 0, sizeof(*lc));
	lc->cfg = *cfg;
	lc->state = SLICE_STATE_LOAD;
	lc->now_ns = now_ns;
	return 0;
}

static uint64_t
lc_op_timeout_ns(const struct slice_lifecycle *lc)
{
	switch (lc->state) {
	case SLICE_STATE_LOADING:
		return lc->cfg.load_timeout_ns;
	case SLICE_STATE_ACTIVATING:
		return lc->cfg.activate_timeout_ns;
	case SLICE_STATE_DEACTIVATING:
		return lc->cfg.deactivate_timeout_ns;
	case SLICE_STATE_UNLOADING:
		return lc->cfg.unload_timeout_ns;
	default:
		PANIC("no timeout for state %d", (int)lc->state);
	}
}

/* Appends to the reason, cut at SLICE_LIFECYCLE_REASON_MAX, non-printable bytes as '?'. */
static void
lc_reason_append(struct slice_lifecycle *lc, size_t *len, const char *text)
{
	for (size_t i = 0; text[i] != '\0' && *len < SLICE_LIFECYCLE_REASON_MAX; i++) {
		unsigned char c = (unsigned char)text[i];

		lc->reason[(*len)++] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	lc->reason[*len] = '\0';
}

/* Appends a duration in the largest unit that divides it: "60 s", "1500 ms", "7 ns". */
static void
lc_reason_duration(struct slice_lifecycle *lc, size_t *len, uint64_t ns)
{
	static const struct {
		uint64_t per;
		const char *unit;
	} units[] = {{LC_NS_PER_S, " s"}, {1000000, " ms"}, {1000, " us"}, {1, " ns"}};
	char digits[21];
	size_t at = sizeof(digits) - 1;
	size_t u = 0;

	while (ns % units[u].per != 0) {
		u++;
	}
	ns /= units[u].per;
	digits[at] = '\0';
	do {
		digits[--at] = (char)('0' + ns % 10);
		ns /= 10;
	} while (ns != 0);
	lc_reason_append(lc, len, digits + at);
	lc_reason_append(lc, len, units[u].unit);
}

/* Enters FAILED from an operation state; the reason is "<what> <verb><detail>". */
static void
lc_fail(struct slice_lifecycle *lc, const char *what, const char *verb, const char *detail,
	uint64_t timeout_ns)
{
	size_t len = 0;

	ASSERT(slice_state_is_operation(lc->state));
	ASSERT(slice_state_transition_is_legal(lc->state, SLICE_STATE_FAILED));
	lc_reason_append(lc, &len, what);
	lc_reason_append(lc, &len, verb);
	if (detail != NULL) {
		lc_reason_append(lc, &len, detail[0] != '\0' ? detail : "no reason given");
	} else {
		lc_reason_duration(lc, &len, timeout_ns);
	}
	lc->state = SLICE_STATE_FAILED;
	lc->is_hook_running = 0;
	lc->transition_count++;
}

/* Applies deadlines at now_ns; 1 when one fired. The hook's is checked first. */
static int
lc_expire(struct slice_lifecycle *lc, uint64_t now_ns)
{
	const struct lc_op *op;
	uint64_t timeout_ns;

	/* now_ns comes from the driver's monotonic clock: going back is a driver bug. */
	ASSERT(now_ns >= lc->now_ns);
	lc->now_ns = now_ns;
	if (lc->is_unloaded || !slice_state_is_operation(lc->state)) {
		return 0;
	}
	op = &lc_ops[lc->state];
	if (lc->is_hook_running && now_ns - lc->hook_start_ns >= lc->cfg.hook_timeout_ns) {
		lc_fail(lc, op->hook_name, " timed out after ", NULL, lc->cfg.hook_timeout_ns);
		return 1;
	}
	timeout_ns = lc_op_timeout_ns(lc);
	if (now_ns - lc->op_start_ns >= timeout_ns) {
		lc_fail(lc, op->name, " timed out after ", NULL, timeout_ns);
		return 1;
	}
	return 0;
}

static void
lc_enter(struct slice_lifecycle *lc, enum slice_state to, uint64_t now_ns)
{
	ASSERT(slice_state_transition_is_legal(lc->state, to));
	ASSERT(!lc->is_hook_running);
	if (lc->state == SLICE_STATE_FAILED) {
		lc->reason[0] = '\0';
	}
	lc->state = to;
	lc->transition_count++;
	if (slice_state_is_operation(to)) {
		lc->op_start_ns = now_ns;
	}
}

int
slice_lifecycle_on_request(struct slice_lifecycle *lc, enum slice_state to, uint64_t now_ns)
{
	ASSERT(lc != NULL);
	if (lc_expire(lc, now_ns)) {
		return -ETIMEDOUT;
	}
	if (lc->is_unloaded || !lc_is_valid(to)) {
		return -EINVAL;
	}
	if (to == lc->state) {
		return -EALREADY;
	}
	/* FAILED needs a reason: it is entered through on_fail or a timeout only. */
	if (to == SLICE_STATE_FAILED || !slice_state_transition_is_legal(lc->state, to)) {
		return -EINVAL;
	}
	if (lc->is_hook_running) {
		return -EBUSY;
	}
	lc_enter(lc, to, now_ns);
	return 0;
}

int
slice_lifecycle_on_done(struct slice_lifecycle *lc, uint64_t now_ns)
{
	ASSERT(lc != NULL);
	if (lc_expire(lc, now_ns)) {
		return -ETIMEDOUT;
	}
	if (lc->is_unloaded || !slice_state_is_operation(lc->state)) {
		return -EINVAL;
	}
	if (lc->is_hook_running) {
		return -EBUSY;
	}
	if (lc->state == SLICE_STATE_UNLOADING) {
		/* The KV key goes away; nothing may happen to this instance any more. */
		lc->is_unloaded = 1;
		lc->transition_count++;
		return 0;
	}
	lc_enter(lc, lc_ops[lc->state].done, now_ns);
	return 0;
}

int
slice_lifecycle_on_fail(struct slice_lifecycle *lc, uint64_t now_ns, const char *reason)
{
	ASSERT(lc != NULL);
	if (lc_expire(lc, now_ns)) {
		return -ETIMEDOUT;
	}
	if (lc->is_unloaded || !slice_state_is_operation(lc->state)) {
		return -EINVAL;
	}
	lc_fail(lc, lc_ops[lc->state].name, " failed: ", reason != NULL ? reason : "", 0);
	return 0;
}

int
slice_lifecycle_on_hook_begin(struct slice_lifecycle *lc, uint64_t now_ns)
{
	ASSERT(lc != NULL);
	if (lc_expire(lc, now_ns)) {
		return -ETIMEDOUT;
	}
	if (lc->is_unloaded || !slice_state_is_operation(lc->state) ||
	    lc_ops[lc->state].hook_name == NULL) {
		return -EINVAL;
	}
	if (lc->is_hook_running) {
		return -EBUSY;
	}
	lc->is_hook_running = 1;
	lc->hook_start_ns = now_ns;
	return 0;
}

int
slice_lifecycle_on_hook_done(struct slice_lifecycle *lc, uint64_t now_ns, int status,
			     const char *reason)
{
	ASSERT(lc != NULL);
	ASSERT(status <= 0);
	if (lc_expire(lc, now_ns)) {
		return -ETIMEDOUT;
	}
	if (lc->is_unloaded || !lc->is_hook_running) {
		return -EINVAL;
	}
	ASSERT(slice_state_is_operation(lc->state));
	if (status == 0) {
		lc->is_hook_running = 0;
		return 0;
	}
	lc_fail(lc, lc_ops[lc->state].hook_name, " failed: ", reason != NULL ? reason : "", 0);
	return 0;
}

int
slice_lifecycle_on_tick(struct slice_lifecycle *lc, uint64_t now_ns)
{
	ASSERT(lc != NULL);
	return lc_expire(lc, now_ns);
}

/* start + timeout, saturating at UINT64_MAX. */
static uint64_t
lc_deadline(uint64_t start_ns, uint64_t timeout_ns)
{
	return timeout_ns > UINT64_MAX - start_ns ? UINT64_MAX : start_ns + timeout_ns;
}

uint64_t
slice_lifecycle_deadline_ns(const struct slice_lifecycle *lc)
{
	uint64_t deadline;

	ASSERT(lc != NULL);
	if (lc->is_unloaded || !slice_state_is_operation(lc->state)) {
		return UINT64_MAX;
	}
	deadline = lc_deadline(lc->op_start_ns, lc_op_timeout_ns(lc));
	if (lc->is_hook_running) {
		uint64_t hook = lc_deadline(lc->hook_start_ns, lc->cfg.hook_timeout_ns);

		deadline = hook < deadline ? hook : deadline;
	}
	return deadline;
}
