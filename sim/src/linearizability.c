/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/linearizability.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"
#include "sim_int.h"

#define LIN_NIL UINT32_MAX

/*
 * One call or return event in the doubly linked list the search walks. Index 0 is the sentinel
 * head. Lifting an operation unlinks its call and return entries; the entries keep their own
 * prev/next so unlifting puts them back in O(1) (Knuth's dancing links, as in Lowe's paper).
 */
struct sim_lin_entry {
	uint64_t time_ns;
	uint32_t prev;
	uint32_t next;
	uint32_t match; /* call: its return entry; return: its call entry */
	uint32_t op;    /* search op index */
	uint32_t is_call;
	uint32_t pad;
};

/* Memo slot header; the linearized bit set follows it. */
struct lin_memo_head {
	uint64_t hash; /* 0 = empty */
	uint64_t state;
};

static uint32_t
lin_words(uint32_t op_count)
{
	return (op_count + 63) / 64;
}

/* Most memo slots any check can use: every slot at least a header and one word. */
static size_t
lin_memo_slots_max(const struct sim_lin_config *cfg)
{
	return cfg->memo_bytes / (sizeof(struct lin_memo_head) + 8);
}

static void
lin_layout(struct sim_lin_checker *c, struct sim_carve *cv, const struct sim_lin_config *cfg)
{
	size_t n = cfg->ops_max;
	struct sim_lin_entry *entries = sim_carve_array(cv, 2 * n + 1, sizeof(*entries));
	uint32_t *order = sim_carve_array(cv, 2 * n, sizeof(uint32_t));
	uint32_t *stack = sim_carve_array(cv, n, sizeof(uint32_t));
	uint64_t *stack_state = sim_carve_array(cv, n, sizeof(uint64_t));
	uint64_t *bits = sim_carve_array(cv, lin_words(cfg->ops_max), sizeof(uint64_t));
	uint8_t *memo = sim_carve(cv, cfg->memo_bytes);
	uint32_t *input_index = sim_carve_array(cv, n, sizeof(uint32_t));
	const struct sim_lin_op **ops = sim_carve_array(cv, n, sizeof(*ops));
	uint32_t *memo_used = sim_carve_array(cv, lin_memo_slots_max(cfg), sizeof(uint32_t));

	if (c != NULL) {
		c->entries = entries;
		c->order = order;
		c->stack = stack;
		c->stack_state = stack_state;
		c->bits = bits;
		c->memo = memo;
		c->input_index = input_index;
		c->ops = ops;
		c->memo_used = memo_used;
	}
}

size_t
sim_lin_checker_size(const struct sim_lin_config *cfg)
{
	struct sim_carve cv = {NULL, 0};

	ASSERT(cfg != NULL);
	ASSERT(cfg->ops_max > 0 && cfg->ops_max < (UINT32_MAX - 1) / 2);
	ASSERT(cfg->step_max > 0);
	/* The memo must hold at least a few entries of the largest bit set. */
	ASSERT(cfg->memo_bytes >=
	       64 * (sizeof(struct lin_memo_head) + 8 * (size_t)lin_words(cfg->ops_max)));
	lin_layout(NULL, &cv, cfg);
	return sim_carve_size(&cv);
}

void
sim_lin_checker_init(struct sim_lin_checker *c, void *memory, const struct sim_lin_config *cfg)
{
	struct sim_carve cv = {memory, 0};

	ASSERT(c != NULL);
	ASSERT(memory != NULL);
	(void)sim_lin_checker_size(cfg);
	c->cfg = *cfg;
	lin_layout(c, &cv, cfg);
	/* The memo is all zero between checks: each check wipes the slots it used. */
	memset(c->memo, 0, cfg->memo_bytes);
}

const char *
sim_lin_result_name(enum sim_lin_result r)
{
	switch (r) {
	case SIM_LIN_LINEARIZABLE:
		return "linearizable";
	case SIM_LIN_VIOLATION:
		return "VIOLATION";
	case SIM_LIN_INCONCLUSIVE:
		return "inconclusive";
	}
	return "?";
}

/* The register model: 1 and *next when op may take effect in state, else 0. */
static int
lin_step(const struct sim_lin_op *op, uint64_t state, uint64_t *next)
{
	int is_pending = op->complete_ns == SIM_LIN_PENDING;

	*next = state;
	switch (op->kind) {
	case SIM_LIN_PUT:
		*next = op->value;
		return 1;
	case SIM_LIN_GET:
		return state == op->value;
	case SIM_LIN_CAS:
		if (state == op->expected) {
			*next = op->value;
			return is_pending || op->is_ok;
		}
		return is_pending || !op->is_ok;
	default:
		PANIC("unknown op kind %u", op->kind);
	}
}

static int
lin_op_check(const struct sim_lin_op *op)
{
	if (op->kind != SIM_LIN_PUT && op->kind != SIM_LIN_GET && op->kind != SIM_LIN_CAS) {
		return -EINVAL;
	}
	if (op->complete_ns < op->invoke_ns) {
		return -EINVAL;
	}
	if (op->kind != SIM_LIN_GET && op->value == 0) {
		return -EINVAL;
	}
	return 0;
}

/* Sort key for entries: time, then calls before returns (ties are concurrent), then op. */
static int
lin_entry_cmp(const void *a, const void *b)
{
	const struct sim_lin_entry *x = a;
	const struct sim_lin_entry *y = b;

	if (x->time_ns != y->time_ns) {
		return x->time_ns < y->time_ns ? -1 : 1;
	}
	if (x->is_call != y->is_call) {
		return x->is_call ? -1 : 1;
	}
	if (x->op != y->op) {
		return x->op < y->op ? -1 : 1;
	}
	return 0;
}

/* Builds the sorted, linked entry list for ops c->ops[0..n). */
static void
lin_build(struct sim_lin_checker *c, uint32_t n)
{
	struct sim_lin_entry *e = c->entries + 1;

	for (uint32_t i = 0; i < n; i++) {
		memset(&e[2 * i], 0, 2 * sizeof(*e));
		e[2 * i].time_ns = c->ops[i]->invoke_ns;
		e[2 * i].op = i;
		e[2 * i].is_call = 1;
		e[2 * i + 1].time_ns = c->ops[i]->complete_ns;
		e[2 * i + 1].op = i;
	}
	qsort(e, 2 * (size_t)n, sizeof(*e), lin_entry_cmp);
	/* order[] maps an op to its call entry, then to its return entry. */
	for (uint32_t i = 0; i < 2 * n; i++) {
		c->order[2 * e[i].op + (e[i].is_call ? 0 : 1)] = i + 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		c->entries[c->order[2 * i]].match = c->order[2 * i + 1];
		c->entries[c->order[2 * i + 1]].match = c->order[2 * i];
	}
	for (uint32_t i = 0; i <= 2 * n; i++) {
		c->entries[i].prev = i == 0 ? LIN_NIL : i - 1;
		c->entries[i].next = i == 2 * n ? LIN_NIL : i + 1;
	}
}

static void
lin_lift(struct sim_lin_entry *e, uint32_t call)
{
	uint32_t ret = e[call].match;

	e[e[call].prev].next = e[call].next;
	e[e[call].next].prev = e[call].prev; /* a call is always followed by its return */
	e[e[ret].prev].next = e[ret].next;
	if (e[ret].next != LIN_NIL) {
		e[e[ret].next].prev = e[ret].prev;
	}
}

static void
lin_unlift(struct sim_lin_entry *e, uint32_t call)
{
	uint32_t ret = e[call].match;

	e[e[ret].prev].next = ret;
	if (e[ret].next != LIN_NIL) {
		e[e[ret].next].prev = ret;
	}
	e[e[call].prev].next = call;
	e[e[call].next].prev = call;
}

struct lin_memo {
	uint8_t *base;
	uint32_t *used; /* slot indices in use, so the wipe costs what the check used */
	size_t entry_size;
	uint32_t words;
	uint64_t slot_mask;
	uint32_t used_count;
	uint32_t used_max;
};

static void
lin_memo_start(struct sim_lin_checker *c, struct lin_memo *m, uint32_t n)
{
	size_t slots = 1;

	m->base = c->memo;
	m->used = c->memo_used;
	m->words = lin_words(n);
	m->entry_size = sizeof(struct lin_memo_head) + 8 * (size_t)m->words;
	while (slots * 2 * m->entry_size <= c->cfg.memo_bytes) {
		slots *= 2;
	}
	m->slot_mask = slots - 1;
	m->used_max = (uint32_t)base_min_size(slots / 4 * 3, UINT32_MAX);
	ASSERT(m->used_max <= lin_memo_slots_max(&c->cfg));
	m->used_count = 0;
}

/*
 * Adds (bits, state) to the memo. Returns 1 when it was new (or the memo is full and cannot
 * tell), 0 when this configuration was explored before.
 */
static int
lin_memo_add(struct lin_memo *m, const uint64_t *bits, uint64_t state)
{
	size_t bytes = 8 * (size_t)m->words;
	uint64_t hash = base_hash64(bits, bytes, state) | 1;

	for (uint64_t i = hash & m->slot_mask;; i = (i + 1) & m->slot_mask) {
		uint8_t *slot = m->base + i * m->entry_size;
		struct lin_memo_head head;

		memcpy(&head, slot, sizeof(head));
		if (head.hash == 0) {
			if (m->used_count >= m->used_max) {
				return 1;
			}
			head.hash = hash;
			head.state = state;
			memcpy(slot, &head, sizeof(head));
			memcpy(slot + sizeof(head), bits, bytes);
			m->used[m->used_count++] = (uint32_t)i;
			return 1;
		}
		if (head.hash == hash && head.state == state &&
		    memcmp(slot + sizeof(head), bits, bytes) == 0) {
			return 0;
		}
	}
}

/* Wipes every slot the check used, so the next check (of any width) starts from zeros. */
static void
lin_memo_finish(struct lin_memo *m)
{
	for (uint32_t i = 0; i < m->used_count; i++) {
		memset(m->base + (size_t)m->used[i] * m->entry_size, 0, m->entry_size);
	}
	m->used_count = 0;
}

struct lin_search {
	struct sim_lin_checker *c;
	struct lin_memo memo;
	struct sim_lin_report *report;
	uint32_t depth;
	uint64_t state;
};

/* Tries to linearize the op of call entry `call` now. Returns 1 when it was lifted. */
static int
lin_try(struct lin_search *s, uint32_t call)
{
	struct sim_lin_checker *c = s->c;
	uint32_t op = c->entries[call].op;
	uint64_t next;
	int is_new;

	if (!lin_step(c->ops[op], s->state, &next)) {
		return 0;
	}
	c->bits[op / 64] |= (uint64_t)1 << (op % 64);
	is_new = lin_memo_add(&s->memo, c->bits, next);
	if (!is_new) {
		c->bits[op / 64] &= ~((uint64_t)1 << (op % 64));
		return 0;
	}
	c->stack[s->depth] = call;
	c->stack_state[s->depth] = s->state;
	s->depth++;
	s->state = next;
	lin_lift(c->entries, call);
	return 1;
}

/* Undoes the last linearization; returns the entry after its call, or LIN_NIL if none. */
static uint32_t
lin_backtrack(struct lin_search *s, uint32_t ret)
{
	struct sim_lin_checker *c = s->c;
	uint32_t call;
	uint32_t op;

	if (s->depth > s->report->deepest_count || s->report->deepest_count == 0) {
		s->report->deepest_count = s->depth;
		s->report->blocking_index = c->input_index[c->entries[ret].op];
	}
	if (s->depth == 0) {
		return LIN_NIL;
	}
	s->depth--;
	call = c->stack[s->depth];
	op = c->entries[call].op;
	s->state = c->stack_state[s->depth];
	c->bits[op / 64] &= ~((uint64_t)1 << (op % 64));
	lin_unlift(c->entries, call);
	return c->entries[call].next;
}

static enum sim_lin_result
lin_search_run(struct lin_search *s)
{
	struct sim_lin_entry *e = s->c->entries;
	uint32_t at = e[0].next;

	while (e[0].next != LIN_NIL) {
		if (++s->report->step_count > s->c->cfg.step_max) {
			return SIM_LIN_INCONCLUSIVE;
		}
		ASSERT(at != LIN_NIL); /* a return entry is reached before the list runs out */
		if (!e[at].is_call) {
			at = lin_backtrack(s, at);
			if (at == LIN_NIL) {
				return SIM_LIN_VIOLATION;
			}
			continue;
		}
		at = lin_try(s, at) ? e[0].next : e[at].next;
	}
	return SIM_LIN_LINEARIZABLE;
}

int
sim_lin_check(struct sim_lin_checker *c, const struct sim_lin_op *ops, size_t count,
	      uint64_t initial_value, struct sim_lin_report *report)
{
	struct lin_search s;
	uint32_t n = 0;

	ASSERT(c != NULL && report != NULL);
	ASSERT(ops != NULL || count == 0);
	memset(report, 0, sizeof(*report));
	if (count > c->cfg.ops_max) {
		return -E2BIG;
	}
	for (size_t i = 0; i < count; i++) {
		if (lin_op_check(&ops[i]) != 0) {
			return -EINVAL;
		}
		if (ops[i].kind == SIM_LIN_GET && ops[i].complete_ns == SIM_LIN_PENDING) {
			continue; /* an unanswered read constrains nothing */
		}
		c->input_index[n] = (uint32_t)i;
		c->ops[n++] = &ops[i];
	}
	report->op_count = n;
	lin_build(c, n);
	memset(c->bits, 0, 8 * (size_t)lin_words(n == 0 ? 1 : n));
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.report = report;
	s.state = initial_value;
	lin_memo_start(c, &s.memo, n == 0 ? 1 : n);
	report->result = lin_search_run(&s);
	lin_memo_finish(&s.memo);
	return 0;
}
