/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One slot of Weak-MVC in the paper form (rabia.md 1.4): the exchange stage, then STATE/VOTE
 * phases p = 1, 2, ... Pure: records what members sent (one message per sender and key, R1)
 * and says what this replica does next; rabia.c turns that into messages.
 */
#include "rabia_int.h"

#include <string.h>

#include "base/bytes.h"
#include "base/hash.h"
#include "base/panic.h"

void
rabia_quorum_init(struct rabia_quorum *q, uint32_t n, uint32_t self, uint64_t epoch,
		  uint64_t coin_key)
{
	ASSERT(n >= 1 && n <= RABIA_NODES_MAX);
	ASSERT(self < n);
	q->n = n;
	q->f = (n - 1) / 2;
	q->majority = n / 2 + 1;
	q->wait = n - q->f;
	q->self = self;
	q->epoch = epoch;
	q->coin_key = coin_key;
	/* With f = floor((n-1)/2), n-f is exactly a majority: R7's induction relies on it. */
	ASSERT(q->wait == q->majority);
}

/* R5: a keyed hash of values every replica shares; nothing to keep in sync. */
int
rabia_coin(const struct rabia_quorum *q, uint64_t slot, uint32_t phase)
{
	uint8_t buf[20];

	base_store_le64(buf, q->epoch);
	base_store_le64(buf + 8, slot);
	base_store_le32(buf + 16, phase);
	return (int)(base_hash64(buf, sizeof(buf), q->coin_key) & 1);
}

static void
phase_rec_reset(struct rabia_phase_rec *rec, uint32_t phase)
{
	memset(rec, 0, sizeof(*rec));
	rec->phase = phase;
}

void
rabia_slot_reset(struct rabia_slot *s, uint64_t slot)
{
	memset(s, 0, sizeof(*s));
	s->slot = slot;
	phase_rec_reset(&s->rec[1], 1);
	phase_rec_reset(&s->rec[0], 2);
}

int
rabia_slot_sent(const struct rabia_slot *s, uint8_t type, uint32_t phase, uint8_t *value)
{
	const uint8_t *sent = type == RABIA_MSG_STATE ? s->sent_state : s->sent_vote;

	ASSERT(type == RABIA_MSG_STATE || type == RABIA_MSG_VOTE);
	if (phase == 0 || phase >= RABIA_PHASE_HISTORY || sent[phase] == 0) {
		return 0;
	}
	*value = (uint8_t)(sent[phase] - 1);
	return 1;
}

int
rabia_slot_has_proposals(const struct rabia_slot *s)
{
	return s->prop_from != 0;
}

static unsigned
popcount64(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* The record for `phase` if it is buffered (the current phase or the next one). */
static struct rabia_phase_rec *
slot_rec(struct rabia_slot *s, uint32_t phase)
{
	uint32_t base = s->phase > 1 ? s->phase : 1;
	struct rabia_phase_rec *rec;

	if (phase < base || phase - base > 1) {
		return NULL;
	}
	rec = &s->rec[phase & 1];
	ASSERT(rec->phase == phase);
	return rec;
}

static enum rabia_record
record_proposal(struct rabia_slot *s, uint32_t index, const struct rabia_msg *m)
{
	uint64_t bit = 1ull << index;
	int is_null = m->value == 0;

	if (s->prop_from & bit) {
		int was_null = (s->prop_null & bit) != 0;

		if (was_null == is_null &&
		    (is_null || rabia_batch_id_equal(s->prop_id[index], m->id))) {
			return RABIA_REC_DUP;
		}
		return RABIA_REC_CONFLICT;
	}
	s->prop_from |= bit;
	if (is_null) {
		s->prop_null |= bit;
	} else {
		s->prop_id[index] = m->id;
	}
	return RABIA_REC_NEW;
}

/*
 * R7: 1-valued STATE and VOTE messages name the slot's majority batch. There is at most one
 * (two majorities of proposals intersect), so a different id is a faulty peer.
 */
static int
maj_conflicts(const struct rabia_slot *s, const struct rabia_msg *m)
{
	return m->value == 1 && s->maj_known && !rabia_batch_id_equal(s->maj_id, m->id);
}

static void
maj_learn(struct rabia_slot *s, struct rabia_batch_id id)
{
	if (!s->maj_known) {
		s->maj_known = 1;
		s->maj_id = id;
	}
}

static enum rabia_record
record_state(struct rabia_slot *s, uint32_t index, const struct rabia_msg *m)
{
	uint64_t bit = 1ull << index;
	struct rabia_phase_rec *rec = slot_rec(s, m->phase);

	if (rec == NULL) {
		return m->phase < s->phase ? RABIA_REC_OLD : RABIA_REC_AHEAD;
	}
	if (rec->state_from & bit) {
		int was_one = (rec->state_one & bit) != 0;

		if (was_one != (m->value == 1) || maj_conflicts(s, m)) {
			return RABIA_REC_CONFLICT;
		}
		return RABIA_REC_DUP;
	}
	if (maj_conflicts(s, m)) {
		return RABIA_REC_WRONG_ID;
	}
	rec->state_from |= bit;
	if (m->value == 1) {
		rec->state_one |= bit;
		maj_learn(s, m->id);
	}
	return RABIA_REC_NEW;
}

static uint8_t
rec_vote_of(const struct rabia_phase_rec *rec, uint64_t bit)
{
	if (rec->vote_one & bit) {
		return 1;
	}
	if (rec->vote_zero & bit) {
		return 0;
	}
	return RABIA_VOTE_UNKNOWN;
}

static enum rabia_record
record_vote(struct rabia_slot *s, uint32_t index, const struct rabia_msg *m)
{
	uint64_t bit = 1ull << index;
	struct rabia_phase_rec *rec = slot_rec(s, m->phase);

	if (rec == NULL) {
		return m->phase < s->phase ? RABIA_REC_OLD : RABIA_REC_AHEAD;
	}
	if (rec->vote_from & bit) {
		if (rec_vote_of(rec, bit) != m->value || maj_conflicts(s, m)) {
			return RABIA_REC_CONFLICT;
		}
		return RABIA_REC_DUP;
	}
	if (maj_conflicts(s, m)) {
		return RABIA_REC_WRONG_ID;
	}
	rec->vote_from |= bit;
	if (m->value == 1) {
		rec->vote_one |= bit;
		maj_learn(s, m->id);
	} else if (m->value == 0) {
		rec->vote_zero |= bit;
	}
	return RABIA_REC_NEW;
}

/*
 * RABIA_BREAK_COUNT_MESSAGES (tests only): like the Go artifact, count every message, so a
 * repeated or changed message from one sender is booked under a member that has not spoken.
 */
static enum rabia_record record_one(struct rabia_slot *s, uint32_t index,
				    const struct rabia_msg *m);

static enum rabia_record
record_counting_messages(struct rabia_slot *s, uint32_t n, uint32_t self, uint32_t index,
			 const struct rabia_msg *m)
{
	enum rabia_record rc = record_one(s, index, m);

	for (uint32_t other = 0; other < n && (rc == RABIA_REC_DUP || rc == RABIA_REC_CONFLICT);
	     other++) {
		if (other != self && other != index) {
			rc = record_one(s, other, m);
		}
	}
	return rc;
}

enum rabia_record
rabia_slot_record_q(struct rabia_slot *s, const struct rabia_quorum *q, uint32_t index,
		    const struct rabia_msg *m)
{
	if (q->break_rules & RABIA_BREAK_COUNT_MESSAGES) {
		return record_counting_messages(s, q->n, q->self, index, m);
	}
	return record_one(s, index, m);
}

enum rabia_record
rabia_slot_record(struct rabia_slot *s, uint32_t index, const struct rabia_msg *m)
{
	return record_one(s, index, m);
}

static enum rabia_record
record_one(struct rabia_slot *s, uint32_t index, const struct rabia_msg *m)
{
	ASSERT(index < RABIA_NODES_MAX);
	ASSERT(m->slot == s->slot);
	switch (m->type) {
	case RABIA_MSG_PROPOSAL:
		return record_proposal(s, index, m);
	case RABIA_MSG_STATE:
		return record_state(s, index, m);
	case RABIA_MSG_VOTE:
		return record_vote(s, index, m);
	default:
		PANIC("rabia_slot_record: type %u is not a slot message", m->type);
	}
}

void
rabia_slot_propose(struct rabia_slot *s, const struct rabia_quorum *q, int is_null,
		   struct rabia_batch_id id)
{
	uint64_t bit = 1ull << q->self;

	ASSERT(!s->proposed);
	/* Nobody else may speak for this replica: the caller drops messages claiming to. */
	ASSERT((s->prop_from & bit) == 0);
	s->proposed = 1;
	s->my_prop_null = is_null;
	s->my_prop = id;
	s->prop_from |= bit;
	if (is_null) {
		s->prop_null |= bit;
	} else {
		s->prop_id[q->self] = id;
	}
}

/* Algorithm 2 line 3: the batch proposed by a majority of distinct senders, if any. */
static int
majority_proposal(const struct rabia_slot *s, const struct rabia_quorum *q,
		  struct rabia_batch_id *out)
{
	uint64_t real = s->prop_from & ~s->prop_null;

	for (uint32_t i = 0; i < q->n; i++) {
		uint32_t count = 0;

		if ((real & (1ull << i)) == 0) {
			continue;
		}
		for (uint32_t j = 0; j < q->n; j++) {
			if ((real & (1ull << j)) &&
			    rabia_batch_id_equal(s->prop_id[i], s->prop_id[j])) {
				count++;
			}
		}
		if (count >= q->majority) {
			*out = s->prop_id[i];
			return 1;
		}
	}
	return 0;
}

static struct rabia_act
send_state(struct rabia_slot *s, const struct rabia_quorum *q, uint8_t state)
{
	struct rabia_phase_rec *rec = slot_rec(s, s->phase);
	uint64_t bit = 1ull << q->self;
	struct rabia_act act = {RABIA_ACT_STATE, s->phase, state};

	ASSERT(rec != NULL);
	ASSERT((rec->state_from & bit) == 0);
	/* A 1-valued STATE must carry the majority id (R7). */
	ASSERT(state == 0 || s->maj_known);
	s->my_state = state;
	s->state_sent = 1;
	s->vote_sent = 0;
	if (s->phase < RABIA_PHASE_HISTORY) {
		s->sent_state[s->phase] = (uint8_t)(state + 1);
	}
	rec->state_from |= bit;
	if (state == 1) {
		rec->state_one |= bit;
	}
	return act;
}

/* Lines 2-3, then line 6 for p = 1. */
static struct rabia_act
exchange_done(struct rabia_slot *s, const struct rabia_quorum *q)
{
	struct rabia_batch_id m;
	uint8_t state = 0;
	struct rabia_act none = {RABIA_ACT_NONE, 0, 0};

	if (popcount64(s->prop_from) < q->wait) {
		return none;
	}
	if (majority_proposal(s, q, &m)) {
		if (s->maj_known && !rabia_batch_id_equal(s->maj_id, m)) {
			/* Impossible with correct peers; state 0 is always a legal outcome. */
			s->anomalies++;
		} else {
			maj_learn(s, m);
			state = 1;
		}
	}
	s->phase = 1;
	return send_state(s, q, state);
}

/* Lines 7-9. */
static struct rabia_act
states_done(struct rabia_slot *s, const struct rabia_quorum *q)
{
	struct rabia_phase_rec *rec = slot_rec(s, s->phase);
	uint64_t bit = 1ull << q->self;
	struct rabia_act act = {RABIA_ACT_NONE, s->phase, 0};
	unsigned ones;
	unsigned zeros;

	ASSERT(rec != NULL);
	if (popcount64(rec->state_from) < q->wait) {
		return act;
	}
	ones = popcount64(rec->state_one);
	zeros = popcount64(rec->state_from) - ones;
	act.value = ones >= q->majority ? 1 : zeros >= q->majority ? 0 : RABIA_VOTE_UNKNOWN;
	if ((q->break_rules & RABIA_BREAK_NF_FAST_PATH) && act.value != RABIA_VOTE_UNKNOWN) {
		/* Tests only: the unsafe shortcut of rabia.md 1.9-B. */
		s->decided = 1;
		s->decision = act.value;
		act.type = RABIA_ACT_DECIDE;
		return act;
	}
	/* State-1 bits are set only with the id known, so a 1 vote can name it. */
	ASSERT(act.value != 1 || s->maj_known);
	ASSERT((rec->vote_from & bit) == 0);
	rec->vote_from |= bit;
	if (act.value == 1) {
		rec->vote_one |= bit;
	} else if (act.value == 0) {
		rec->vote_zero |= bit;
	}
	s->my_vote = act.value;
	s->vote_sent = 1;
	if (s->phase < RABIA_PHASE_HISTORY) {
		s->sent_vote[s->phase] = (uint8_t)(act.value + 1);
	}
	act.type = RABIA_ACT_VOTE;
	return act;
}

/* Lines 12-14: the state for the next phase, then line 6 again. */
static struct rabia_act
next_phase(struct rabia_slot *s, const struct rabia_quorum *q, unsigned ones, unsigned zeros)
{
	uint8_t state;

	if (ones > 0) {
		state = 1;
	} else if (zeros > 0) {
		state = 0;
	} else {
		state = (uint8_t)rabia_coin(q, s->slot, s->phase);
		s->coin_flips++;
		if (state == 1 && !s->maj_known) {
			/*
			 * Cannot happen (a "?" vote means both states were seen, one of them
			 * 1-valued with the id) but a 1 state needs the id; any state is safe
			 * here because nobody decided in this phase.
			 */
			s->anomalies++;
			state = 0;
		}
	}
	ASSERT(s->phase < UINT32_MAX - 2);
	phase_rec_reset(&s->rec[s->phase & 1], s->phase + 2);
	s->phase++;
	return send_state(s, q, state);
}

/* Lines 10-11, else next_phase. */
static struct rabia_act
votes_done(struct rabia_slot *s, const struct rabia_quorum *q)
{
	struct rabia_phase_rec *rec = slot_rec(s, s->phase);
	struct rabia_act act = {RABIA_ACT_NONE, s->phase, 0};
	unsigned ones;
	unsigned zeros;

	ASSERT(rec != NULL);
	if (popcount64(rec->vote_from) < q->wait) {
		return act;
	}
	ones = popcount64(rec->vote_one);
	zeros = popcount64(rec->vote_zero);
	if (ones > 0 && zeros > 0) {
		/* Votes need a majority of equal states: two values in one phase is a fault. */
		s->anomalies++;
	}
	if (ones >= q->f + 1 || zeros >= q->f + 1) {
		s->decided = 1;
		s->decision = ones >= q->f + 1 ? 1 : 0;
		ASSERT(s->decision == 0 || s->maj_known);
		act.type = RABIA_ACT_DECIDE;
		act.value = s->decision;
		return act;
	}
	return next_phase(s, q, ones, zeros);
}

struct rabia_act
rabia_slot_advance(struct rabia_slot *s, const struct rabia_quorum *q)
{
	struct rabia_act none = {RABIA_ACT_NONE, 0, 0};

	if (s->decided || !s->proposed) {
		return none;
	}
	if (s->phase == 0) {
		return exchange_done(s, q);
	}
	ASSERT(s->state_sent);
	if (!s->vote_sent) {
		return states_done(s, q);
	}
	return votes_done(s, q);
}
