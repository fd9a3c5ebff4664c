/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STATUS exchange, the SYNC commit rule, and epoch changes: the way out when more than f
 * replicas cannot vote (Rabia's R11 marks after a crash of more than f, rabia.h "Known limit").
 *
 * STATUS (every status_interval_ns, and at once when the durable mark moves under SYNC):
 * {epoch, base_next, base_epoch, promised, durable_next, next_slot, flags (1: stalled)}.
 * Under SYNC a replica applies slot s once floor(n/2)+1 members of its epoch (itself counted)
 * report durable_next > s: an applied, acknowledged slot is then on the disk of a majority.
 *
 * Epoch change, in the manner of Viewstamped Replication's view change with one coordinator
 * per epoch (members[e mod n]):
 *  1. A replica is stalled when it has work (queued batches or requests, passive, records not
 *     applied) and neither its next slot nor its applied slot moved for stall_timeout_ns. A
 *     stalled replica that hears floor(n/2)+1 stalled members of its epoch (itself counted)
 *     promises epoch e = max(epoch, promised) + 1 and sends PROPOSE(e). A replica joins a
 *     PROPOSE(e) when it is stalled itself, or when the proposer is locked out (promised past
 *     its own epoch, which is older than ours): a healthy majority ignores a lone minority.
 *  2. To promise e: stop stepping Rabia (nothing more is sent or decided in the old epoch),
 *     freeze the durable mark reported from now on, write promised = e to the epoch record and
 *     sync it, then send PROMISE(e, epoch, base_next, durable) to the coordinator of e.
 *  3. The coordinator, once it holds floor(n/2)+1 promises for e (its own counted), takes the
 *     highest epoch E among them and base_next' = the largest max(base_next_i, durable_i) of
 *     the promises from E, and adopts (e, base_next', E). It decides once: the epoch record
 *     with epoch e is durable before any STATUS names e.
 *  4. Adopting (e, b, E): drop log records at or after b (or, for a replica whose epoch is not
 *     E, at or after its own base_next: its later records may have been decided otherwise in
 *     an epoch it missed), rewrite and sync the log, write and sync the epoch record, then run
 *     Rabia in epoch e from slot b. A replica whose applied state passed the cut, or whose log
 *     does not reach b, installs a snapshot of slot >= b - 1 from a member already in e. Any
 *     replica adopts (e, b, E) from a STATUS of epoch e >= its promise.
 *
 * Why nothing acknowledged is lost under SYNC: a slot s applied anywhere was durable on a
 * majority in its epoch; the coordinator's majority shares one member with it, whose promise
 * reports durable > s (reports are frozen at the promise and only grow before it), or whose
 * epoch is later, whose base covers s by the same argument one epoch earlier. So b > s, and
 * no replica cuts s: those in E cut at b, the others at their own base_next, below which
 * everything is committed. Messages of other epochs are dropped by Rabia (R1), so nothing sent
 * before the change is counted after it.
 */
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/hash.h"
#include "base/panic.h"
#include "node_shard_int.h"

#define EPOCH_MAGIC   0x48435045u /* "EPCH" little endian */
#define EPOCH_VERSION 2u
#define LINEAGE_SIZE  (8u + 16u * NODE_SHARD_LINEAGE) /* count, then (epoch, base) pairs */
#define EPOCH_SIZE    (8u + 16u + LINEAGE_SIZE + 8u)  /* magic, version, promised, ..., sum */
#define STATUS_SIZE   (1u + 8u + 8u + 8u + 1u + LINEAGE_SIZE)
#define PROPOSE_TYPE  1u
#define PROMISE_TYPE  2u
#define PROPOSE_SIZE  34u
#define PROMISE_SIZE  (1u + 1u + 8u + 8u + LINEAGE_SIZE)
#define FLAG_STALLED  1u
/* Epochs and slots from peers beyond this are refused: Rabia's own bound (rabia_cfg_check),
 * and far from overflow when incremented. */
#define VALUE_MAX     (UINT64_MAX / 4)

uint32_t
shard_member_index(const struct node_shard *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		if (s->cfg.rabia.members[i] == id) {
			return i;
		}
	}
	return UINT32_MAX;
}

static uint32_t
epoch_quorum(const struct node_shard *s)
{
	return s->cfg.rabia.member_count / 2 + 1;
}

static uint32_t
epoch_coordinator(const struct node_shard *s, uint64_t epoch)
{
	return s->cfg.rabia.members[epoch % s->cfg.rabia.member_count];
}

/* ---- the durable record ---- */

static void
lineage_store(const struct node_shard_epoch_rec *r, uint8_t *out)
{
	base_store_le64(out, r->lineage_count);
	for (uint32_t k = 0; k < NODE_SHARD_LINEAGE; k++) {
		base_store_le64(out + 8 + 16 * k, r->lineage[k].epoch);
		base_store_le64(out + 16 + 16 * k, r->lineage[k].base_next);
	}
}

/* Reads a lineage into r (epoch, base_next and base_epoch follow from it); 0 or -EBADMSG. */
static int
lineage_load(const uint8_t *in, struct node_shard_epoch_rec *r)
{
	r->lineage_count = base_load_le64(in);
	if (r->lineage_count < 1 || r->lineage_count > NODE_SHARD_LINEAGE) {
		return -EBADMSG;
	}
	for (uint32_t k = 0; k < NODE_SHARD_LINEAGE; k++) {
		r->lineage[k].epoch = base_load_le64(in + 8 + 16 * k);
		r->lineage[k].base_next = base_load_le64(in + 16 + 16 * k);
		if (r->lineage[k].epoch > VALUE_MAX || r->lineage[k].base_next > VALUE_MAX) {
			return -EBADMSG;
		}
	}
	/* Older links are older epochs with bases no later (coordinator: base only grows). */
	for (uint64_t k = 1; k < r->lineage_count; k++) {
		if (r->lineage[k].epoch >= r->lineage[k - 1].epoch ||
		    r->lineage[k].base_next > r->lineage[k - 1].base_next) {
			return -EBADMSG;
		}
	}
	r->epoch = r->lineage[0].epoch;
	r->base_next = r->lineage[0].base_next;
	r->base_epoch = r->lineage_count > 1 ? r->lineage[1].epoch : r->epoch;
	return 0;
}

static void
epoch_encode(const struct node_shard_epoch_rec *r, uint8_t out[EPOCH_SIZE])
{
	base_store_le32(out, EPOCH_MAGIC);
	base_store_le32(out + 4, EPOCH_VERSION);
	base_store_le64(out + 8, r->promised);
	base_store_le64(out + 16, 0); /* reserved */
	lineage_store(r, out + 24);
	base_store_le64(out + EPOCH_SIZE - 8, base_hash64(out, EPOCH_SIZE - 8, EPOCH_MAGIC));
}

int
shard_epoch_load(struct node_shard *s)
{
	uint8_t b[EPOCH_SIZE + 1];
	size_t size;
	int rc = s->env->storage_load(s->env->ctx, NODE_SHARD_OBJ_EPOCH, b, sizeof(b), &size);

	if (rc != 0) {
		return rc == -ENOENT ? -ENOENT : -EBADMSG;
	}
	if (size != EPOCH_SIZE || base_load_le32(b) != EPOCH_MAGIC ||
	    base_load_le32(b + 4) != EPOCH_VERSION ||
	    base_load_le64(b + EPOCH_SIZE - 8) != base_hash64(b, EPOCH_SIZE - 8, EPOCH_MAGIC) ||
	    lineage_load(b + 24, &s->ep) != 0) {
		return -EBADMSG;
	}
	s->ep.promised = base_load_le64(b + 8);
	return 0;
}

static void
epoch_write(struct node_shard *s)
{
	const struct env_ops *e = s->env;
	uint8_t b[EPOCH_SIZE];

	if (s->epoch_write != 0 || memcmp(&s->ep_want, &s->ep_durable, sizeof(s->ep_want)) == 0) {
		return;
	}
	s->ep_writing = s->ep_want;
	epoch_encode(&s->ep_writing, b);
	if (e->storage_put(e->ctx, NODE_SHARD_OBJ_EPOCH, b, sizeof(b),
			   TOK_EPOCH_PUT << TOK_SHIFT) != 0) {
		s->stats.storage_errors++;
		return; /* retried at the next poll */
	}
	s->epoch_write = 2;
	s->epoch_write_failed = 0;
	if (e->storage_sync(e->ctx, NODE_SHARD_OBJ_EPOCH, TOK_EPOCH_SYNC << TOK_SHIFT) != 0) {
		s->stats.storage_errors++;
		s->epoch_write = 1;
		s->epoch_write_failed = 1;
	}
}

/* ---- messages ---- */

static void
status_send(struct node_shard *s, uint32_t to, int is_stalled)
{
	uint8_t f[STATUS_SIZE];
	uint64_t durable = s->ep.promised > s->ep.epoch ? s->durable_frozen : s->durable_next;

	f[0] = NODE_SHARD_CH_STATUS;
	base_store_le64(f + 1, s->ep.promised);
	base_store_le64(f + 9, durable);
	base_store_le64(f + 17, rabia_next_slot(s->rabia));
	f[25] = is_stalled ? FLAG_STALLED : 0;
	lineage_store(&s->ep, f + 26);
	shard_send(s, to, f, sizeof(f));
	s->stats.status_sent++;
}

static int
epoch_is_stalled(const struct node_shard *s)
{
	return s->cfg.stall_timeout_ns != 0 && s->progress_ns != 0 &&
	       s->now_ns - s->progress_ns >= s->cfg.stall_timeout_ns;
}

void
shard_status_broadcast(struct node_shard *s)
{
	int is_stalled = epoch_is_stalled(s);

	if (!s->is_up) {
		return; /* starting: the first poll sends it */
	}
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		if (s->cfg.rabia.members[i] != s->node) {
			status_send(s, s->cfg.rabia.members[i], is_stalled);
		}
	}
}

/* PROPOSE {target, the proposer's epoch, its promise, 0}. */
static void
epoch_propose_send(struct node_shard *s, uint32_t to, uint64_t target)
{
	uint8_t f[PROPOSE_SIZE];

	f[0] = NODE_SHARD_CH_EPOCH;
	f[1] = PROPOSE_TYPE;
	base_store_le64(f + 2, target);
	base_store_le64(f + 10, s->ep.epoch);
	base_store_le64(f + 18, s->ep.promised);
	base_store_le64(f + 26, 0);
	shard_send(s, to, f, sizeof(f));
}

/* PROMISE {target, durable mark (frozen), the promiser's lineage}. */
static void
epoch_promise_send(struct node_shard *s, uint32_t to, uint64_t target)
{
	uint8_t f[PROMISE_SIZE];

	f[0] = NODE_SHARD_CH_EPOCH;
	f[1] = PROMISE_TYPE;
	base_store_le64(f + 2, target);
	base_store_le64(f + 10, s->durable_frozen);
	lineage_store(&s->ep, f + 18);
	shard_send(s, to, f, sizeof(f));
}

/* The SYNC commit rule: the (floor(n/2)+1)-th largest durable mark of this epoch. */
void
shard_commit_update(struct node_shard *s)
{
	uint64_t marks[RABIA_NODES_MAX];
	uint32_t count = 0;
	uint32_t q = epoch_quorum(s);
	uint64_t commit;

	if (s->cfg.durability != NODE_SHARD_DURABLE_SYNC) {
		return;
	}
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		const struct node_shard_member *m = &s->members[i];

		if (s->cfg.rabia.members[i] == s->node) {
			marks[count++] =
				s->ep.promised > s->ep.epoch ? s->durable_frozen : s->durable_next;
		} else if (m->heard_ns != 0 && m->epoch == s->ep.epoch) {
			marks[count++] = m->durable_next;
		}
	}
	if (count < q) {
		return;
	}
	/* Partial selection sort: the q largest first. */
	for (uint32_t i = 0; i < q; i++) {
		for (uint32_t j = i + 1; j < count; j++) {
			if (marks[j] > marks[i]) {
				uint64_t t = marks[i];

				marks[i] = marks[j];
				marks[j] = t;
			}
		}
	}
	commit = marks[q - 1];
	if (commit > s->commit_next) {
		s->commit_next = commit;
		shard_log_apply(s);
	}
}

/* Makes every proxied request wait for rabia_submit again (a new Rabia forgot them). */
static void
epoch_resubmit_all(struct node_shard *s)
{
	s->deferred_count = 0;
	for (uint32_t i = 0; i < s->cfg.clients_max; i++) {
		if (s->clients[i].is_used) {
			s->clients[i].is_deferred = 1;
			s->deferred_count++;
		}
	}
	s->kick = 1;
}

/* Step 4's end: the record naming the new epoch is durable. */
static void
epoch_start(struct node_shard *s)
{
	const struct node_shard_epoch_rec *a = &s->adopt;
	uint64_t start;
	int rc;

	s->adopting = 0;
	s->ep = *a;
	s->epoch = a->epoch;
	s->durable_frozen = 0;
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		s->members[i].promise_epoch = 0;
	}
	if (a->base_next > s->commit_next) {
		s->commit_next = a->base_next;
	}
	/* An install that already happened moved the state past the base. */
	start = !s->need_install && s->applied_next > a->base_next ? s->applied_next : a->base_next;
	if (start > s->log_end) {
		shard_log_drop_below(s, start); /* below the snapshot still to install */
	}
	rc = shard_rabia_begin(s, start);
	ASSERT(rc == 0); /* the configuration passed rabia_cfg_check at start */
	epoch_resubmit_all(s);
	s->stats.epoch_changes++;
	s->progress_ns = s->now_ns;
	if (s->hooks->on_epoch != NULL) {
		s->hooks->on_epoch(s->hooks->ctx, s->node, a->epoch, a->base_next);
	}
	shard_log_apply(s);
	shard_status_broadcast(s);
}

/* Step 4: adopts (epoch, base_next, base_epoch); `from` may serve a snapshot. */
static void
epoch_adopt(struct node_shard *s, const struct node_shard_epoch_rec *r, uint32_t from)
{
	uint64_t cut = r->base_next;

	if (r->epoch <= s->ep.epoch || r->epoch < s->ep.promised ||
	    (s->adopting && r->epoch <= s->adopt.epoch)) {
		return;
	}
	/* Not in the base's epoch: records of this epoch are valid below the base of the
	 * epoch of r's lineage that was built from it; below what is known committed
	 * otherwise (under REPLICATED, nothing past this epoch's own base is). */
	if (s->ep.epoch != r->base_epoch) {
		uint64_t known = s->ep.base_next;

		if (s->cfg.durability == NODE_SHARD_DURABLE_SYNC && s->commit_next > known) {
			known = s->commit_next;
		}
		for (uint64_t k = 1; k + 1 < r->lineage_count; k++) {
			if (r->lineage[k + 1].epoch == s->ep.epoch &&
			    r->lineage[k].base_next > known) {
				known = r->lineage[k].base_next;
			}
		}
		cut = known < cut ? known : cut;
	}
	s->adopting = 1;
	s->adopt = *r;
	s->adopt.promised = r->epoch;
	s->ep.promised = r->epoch > s->ep.promised ? r->epoch : s->ep.promised;
	if (s->ep.promised > s->ep.epoch && s->durable_frozen == 0) {
		s->durable_frozen = s->durable_next;
	}
	shard_log_cut_from(s, cut);
	if (s->durable_next > cut) {
		s->durable_next = cut;
	}
	if (s->applied_next > cut) {
		/* The state passed the cut (REPLICATED): it is not valid in the new epoch, nor is
		 * its checkpoint, which must not survive a restart. */
		shard_ckpt_invalidate(s);
	}
	if (s->applied_next > cut || s->log_end < r->base_next) {
		s->need_install = 1;
		s->need_slot = r->base_next > 0 ? r->base_next - 1 : 0;
		s->stats.resets += s->applied_next > cut;
		if (from != s->node) {
			s->pull.is_active = 0;
			shard_pull_begin(s, from);
		}
	}
}

/* Step 2: promises `target` (asynchronously durable; PROMISE follows in shard_epoch_poll). */
static void
epoch_promise(struct node_shard *s, uint64_t target)
{
	if (target <= s->ep.promised || target <= s->ep.epoch || s->adopting) {
		return;
	}
	if (s->ep.promised <= s->ep.epoch) {
		s->durable_frozen = s->durable_next;
	}
	s->ep.promised = target;
	s->ep_want = s->ep;
	s->promise_sent_ns = 0;
	epoch_write(s);
}

/* Step 3, at the coordinator: a majority of promises for `target` decides its base. */
static void
epoch_coordinate(struct node_shard *s, uint64_t target)
{
	struct node_shard_epoch_rec r;
	const struct node_shard_member *from = NULL;
	uint64_t e_max = 0;
	uint32_t count = 0;

	if (epoch_coordinator(s, target) != s->node || s->ep_durable.promised != target ||
	    s->ep.promised != target || s->adopting) {
		return;
	}
	memset(&r, 0, sizeof(r));
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		const struct node_shard_member *m = &s->members[i];

		if (m->promise_epoch == target) {
			count++;
			e_max = m->promise_lineage[0].epoch > e_max ? m->promise_lineage[0].epoch
								    : e_max;
		}
	}
	if (count < epoch_quorum(s)) {
		return;
	}
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		const struct node_shard_member *m = &s->members[i];
		uint64_t d = m->promise_durable_next > m->promise_lineage[0].base_next
				     ? m->promise_durable_next
				     : m->promise_lineage[0].base_next;

		if (m->promise_epoch == target && m->promise_lineage[0].epoch == e_max) {
			from = m;
			r.base_next = d > r.base_next ? d : r.base_next;
		}
	}
	/* The new epoch, then the lineage of the epoch its base comes from. */
	r.lineage[0].epoch = target;
	r.lineage[0].base_next = r.base_next;
	r.lineage_count = 1;
	for (uint64_t k = 0;
	     k < from->promise_lineage_count && r.lineage_count < NODE_SHARD_LINEAGE; k++) {
		r.lineage[r.lineage_count++] = from->promise_lineage[k];
	}
	r.epoch = target;
	r.base_epoch = e_max;
	epoch_adopt(s, &r, s->node);
}

static void
epoch_on_promise(struct node_shard *s, uint32_t index, uint64_t target, const uint8_t *f)
{
	struct node_shard_member *m = &s->members[index];
	struct node_shard_epoch_rec r;

	if (lineage_load(f + 18, &r) != 0) {
		s->stats.bad_frames++;
		return;
	}
	m->promise_epoch = target;
	m->promise_durable_next = base_load_le64(f + 10);
	m->promise_lineage_count = r.lineage_count;
	memcpy(m->promise_lineage, r.lineage, sizeof(r.lineage));
	epoch_coordinate(s, target);
}

void
shard_on_epoch_msg(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size)
{
	uint32_t index = shard_member_index(s, from);
	uint64_t target;

	if (size < 2 || index == UINT32_MAX || from == s->node ||
	    size != (f[1] == PROMISE_TYPE ? PROMISE_SIZE : PROPOSE_SIZE) ||
	    (f[1] != PROMISE_TYPE && f[1] != PROPOSE_TYPE)) {
		s->stats.bad_frames++;
		return;
	}
	target = base_load_le64(f + 2);
	if (target > VALUE_MAX) {
		s->stats.bad_frames++;
		return;
	}
	if (f[1] == PROMISE_TYPE) {
		epoch_on_promise(s, index, target, f);
		return;
	}
	/* Join when stalled, or when the proposer is locked out by a promise past its epoch. */
	if (epoch_is_stalled(s) || s->ep.promised > s->ep.epoch ||
	    (base_load_le64(f + 10) < s->ep.epoch && base_load_le64(f + 18) > s->ep.epoch)) {
		epoch_promise(s, target);
	}
}

void
shard_on_status(struct node_shard *s, uint32_t from, const uint8_t *f, size_t size)
{
	uint32_t index = shard_member_index(s, from);
	struct node_shard_member *m;
	struct node_shard_epoch_rec r;

	if (size != STATUS_SIZE || index == UINT32_MAX || from == s->node) {
		s->stats.bad_frames++;
		return;
	}
	if (lineage_load(f + 26, &r) != 0) {
		s->stats.bad_frames++;
		return;
	}
	r.promised = base_load_le64(f + 1);
	if (r.promised > VALUE_MAX) {
		s->stats.bad_frames++;
		return;
	}
	s->stats.status_received++;
	m = &s->members[index];
	m->epoch = r.epoch;
	m->promised = r.promised;
	m->durable_next = base_load_le64(f + 9);
	m->is_stalled = (f[25] & FLAG_STALLED) != 0 || r.promised > r.epoch;
	m->heard_ns = s->now_ns != 0 ? s->now_ns : 1;
	if (r.epoch > s->ep.epoch && r.epoch >= s->ep.promised) {
		epoch_adopt(s, &r, from);
	} else if (r.epoch < s->ep.epoch) {
		status_send(s, from, epoch_is_stalled(s)); /* tell a laggard about our epoch */
	}
	shard_commit_update(s);
}

/* ---- completions and timers ---- */

void
shard_epoch_done(struct node_shard *s, uint64_t kind, int status)
{
	if (status != 0) {
		s->stats.storage_errors++;
		s->epoch_write_failed = 1;
	}
	if (s->epoch_write > 0) {
		s->epoch_write--;
	}
	if (kind != TOK_EPOCH_SYNC || s->epoch_write != 0) {
		return;
	}
	if (!s->epoch_write_failed) {
		s->ep_durable = s->ep_writing;
	}
	s->epoch_write_failed = 0;
}

/* Stall bookkeeping: progress is a new next slot or applied slot, or no work at all. */
static void
epoch_track_progress(struct node_shard *s)
{
	uint64_t key =
		base_hash64(&s->applied_next, sizeof(s->applied_next), rabia_next_slot(s->rabia));
	int has_work = rabia_pending_count(s->rabia) > 0 || node_shard_backlog(s) > 0 ||
		       node_shard_is_passive(s) || s->log_end > s->applied_next ||
		       s->ep.promised > s->ep.epoch || s->need_install;

	if (!has_work || key != s->progress_key || s->progress_ns == 0) {
		s->progress_key = key;
		s->progress_ns = s->now_ns != 0 ? s->now_ns : 1;
	}
}

/* Step 1: enough stalled members of this epoch (self counted) to ask for the next one. */
static void
epoch_maybe_propose(struct node_shard *s)
{
	uint32_t stalled = 1;
	uint64_t target;

	if (!epoch_is_stalled(s) || s->adopting ||
	    (s->proposed_ns != 0 && s->now_ns - s->proposed_ns < s->cfg.stall_timeout_ns)) {
		return;
	}
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		const struct node_shard_member *m = &s->members[i];

		stalled += s->cfg.rabia.members[i] != s->node && m->is_stalled &&
			   m->epoch == s->ep.epoch && m->heard_ns != 0 &&
			   s->now_ns - m->heard_ns < 2 * s->cfg.stall_timeout_ns;
	}
	if (stalled < epoch_quorum(s) && s->ep.promised <= s->ep.epoch) {
		return;
	}
	target = (s->ep.promised > s->ep.epoch ? s->ep.promised : s->ep.epoch) + 1;
	s->proposed_ns = s->now_ns;
	s->stats.epoch_proposals++;
	epoch_promise(s, target);
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		if (s->cfg.rabia.members[i] != s->node) {
			epoch_propose_send(s, s->cfg.rabia.members[i], target);
		}
	}
}

/* Step 2's end: the promise is durable; tell the coordinator (again every interval). */
static void
epoch_send_promise(struct node_shard *s)
{
	uint64_t target = s->ep.promised;
	uint32_t coord;

	if (target <= s->ep.epoch || s->ep_durable.promised != target || s->adopting ||
	    (s->promise_sent_ns != 0 &&
	     s->now_ns - s->promise_sent_ns < s->cfg.status_interval_ns)) {
		return;
	}
	s->promise_sent_ns = s->now_ns != 0 ? s->now_ns : 1;
	coord = epoch_coordinator(s, target);
	s->stats.promises_sent++;
	if (coord == s->node) {
		uint32_t self = shard_member_index(s, s->node);
		struct node_shard_member *m = &s->members[self];

		m->promise_epoch = target;
		m->promise_durable_next = s->durable_frozen;
		m->promise_lineage_count = s->ep.lineage_count;
		memcpy(m->promise_lineage, s->ep.lineage, sizeof(s->ep.lineage));
		epoch_coordinate(s, target);
		return;
	}
	epoch_promise_send(s, coord, target);
}

/* Step 4's middle: the log is rewritten, then the record, then the epoch starts. */
static void
epoch_adopt_poll(struct node_shard *s)
{
	if (s->adopting == 1 && !s->flush_pending && !s->log_put_needed &&
	    s->synced_gen == s->log_gen && !s->ckpt_pending) {
		s->adopting = 2;
		s->ep_want = s->adopt;
	}
	if (s->adopting == 2 && s->ep_durable.epoch == s->adopt.epoch) {
		epoch_start(s);
	}
}

/* A state to install and no transfer running (after a restart, or every peer tried): pull
 * from a member of this epoch. */
static void
epoch_install_poll(struct node_shard *s)
{
	if (!s->need_install || s->pull.is_active) {
		return;
	}
	for (uint32_t i = 0; i < s->cfg.rabia.member_count; i++) {
		uint32_t id = s->cfg.rabia.members[(i + s->stats.transfers_requested) %
						   s->cfg.rabia.member_count];
		const struct node_shard_member *m = &s->members[shard_member_index(s, id)];

		if (id != s->node && m->heard_ns != 0 && m->epoch >= s->ep.epoch) {
			shard_pull_begin(s, id);
			return;
		}
	}
}

void
shard_epoch_poll(struct node_shard *s)
{
	epoch_track_progress(s);
	epoch_adopt_poll(s);
	epoch_install_poll(s);
	epoch_write(s);
	if (s->cfg.stall_timeout_ns != 0) {
		epoch_maybe_propose(s);
		epoch_send_promise(s);
	}
	if (s->now_ns >= s->next_status_ns) {
		s->next_status_ns = s->now_ns + s->cfg.status_interval_ns;
		shard_status_broadcast(s);
	}
}

uint64_t
shard_epoch_next_ns(const struct node_shard *s)
{
	uint64_t next = s->next_status_ns;

	if (s->cfg.stall_timeout_ns != 0 && s->progress_ns != 0) {
		uint64_t stall = s->progress_ns + s->cfg.stall_timeout_ns;

		next = stall > s->now_ns && stall < next ? stall : next;
	}
	return next;
}
