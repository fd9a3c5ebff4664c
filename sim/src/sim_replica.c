/* SPDX-License-Identifier: Apache-2.0 */
#include "sim/sim_replica.h"

#include <assert.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "sim_int.h"

#define REPLICA_OBJ_HWM   "rabia.hwm"
#define REPLICA_OBJ_CKPT  "kv.ckpt"
#define CKPT_MAGIC        0x54504b43u /* "CKPT" little endian */
#define CKPT_HEADER_SIZE  16u
#define CHUNK_HEADER_SIZE 25u

/* Storage tokens: the kind in the top 4 bits, Rabia's token (or 0) below. */
#define TOK_SHIFT     60
#define TOK_MASK      ((UINT64_C(1) << TOK_SHIFT) - 1)
#define TOK_HWM_PUT   UINT64_C(1)
#define TOK_HWM_SYNC  UINT64_C(2)
#define TOK_CKPT_PUT  UINT64_C(3)
#define TOK_CKPT_SYNC UINT64_C(4)

static_assert(RABIA_MSG_MAX + 1 <= ENV_MSG_MAX, "a Rabia message plus the channel byte fits");
static_assert(CHUNK_HEADER_SIZE + SIM_REPLICA_CHUNK_SIZE <= ENV_MSG_MAX, "a chunk fits");

static size_t
replica_result_capacity(const struct sim_replica_config *cfg)
{
	return KV_RESULT_HEADER_SIZE + cfg->kv.max_value_size;
}

static void
replica_layout(struct sim_replica *r, struct sim_carve *c, const struct sim_replica_config *cfg)
{
	size_t kv_size = kv_store_size(&cfg->kv);
	void *rabia_mem = sim_carve(c, rabia_size(&cfg->rabia));
	void *kv_mem = sim_carve(c, kv_size);
	uint8_t *rx = sim_carve(c, ENV_MSG_MAX);
	uint8_t *tx = sim_carve(c, ENV_MSG_MAX);
	uint8_t *result = sim_carve(c, replica_result_capacity(cfg));
	uint8_t *snap = sim_carve(c, CKPT_HEADER_SIZE + (size_t)cfg->snapshot_size_max);
	uint8_t *snap_in = sim_carve(c, CKPT_HEADER_SIZE + (size_t)cfg->snapshot_size_max);
	uint64_t *pending_seq = sim_carve_array(c, cfg->clients_max, sizeof(uint64_t));
	uint8_t *deferred_body = sim_carve_array(c, cfg->clients_max, cfg->rabia.request_bytes_max);
	uint32_t *deferred_size = sim_carve_array(c, cfg->clients_max, sizeof(uint32_t));

	if (r != NULL) {
		r->rabia_mem = rabia_mem;
		r->kv_mem = kv_mem;
		r->kv_mem_size = kv_size;
		r->rx = rx;
		r->tx = tx;
		r->result = result;
		r->result_capacity = replica_result_capacity(cfg);
		r->snap = snap;
		r->snap_in = snap_in;
		r->pending_seq = pending_seq;
		r->deferred_body = deferred_body;
		r->deferred_size = deferred_size;
	}
}

size_t
sim_replica_size(const struct sim_replica_config *cfg)
{
	struct sim_carve c = {NULL, 0};

	ASSERT(cfg != NULL);
	ASSERT(rabia_cfg_check(&cfg->rabia) == 0);
	ASSERT(kv_store_config_check(&cfg->kv) == 0);
	ASSERT(cfg->kv.notify_buffer_size == 0);
	ASSERT(cfg->clients_max > 0);
	ASSERT(cfg->snapshot_size_max > 0);
	ASSERT(cfg->snapshot_size_max <= SIM_REPLICA_CHUNKS_MAX * SIM_REPLICA_CHUNK_SIZE);
	ASSERT(cfg->transfer_timeout_ns > 0);
	replica_layout(NULL, &c, cfg);
	return sim_carve_size(&c);
}

void
sim_replica_init(struct sim_replica *r, void *memory, const struct sim_replica_config *cfg,
		 uint32_t node, const struct env_ops *env, const struct sim_replica_hooks *hooks)
{
	struct sim_carve c = {memory, 0};

	ASSERT(r != NULL && memory != NULL);
	ASSERT(env != NULL && hooks != NULL);
	memset(r, 0, sizeof(*r));
	(void)sim_replica_size(cfg);
	r->cfg = *cfg;
	r->node = node;
	r->env = env;
	r->hooks = hooks;
	replica_layout(r, &c, cfg);
}

/* Reads the R11 record; -ENOENT when there is none, -EBADMSG when it does not decode. */
static int
replica_load_hwm(struct sim_replica *r, struct rabia_durable *out)
{
	uint8_t buf[RABIA_DURABLE_SIZE + 1];
	size_t size;
	int rc;

	rc = r->env->storage_load(r->env->ctx, REPLICA_OBJ_HWM, buf, sizeof(buf), &size);
	if (rc != 0) {
		return rc == -ENOENT ? -ENOENT : -EBADMSG;
	}
	return rabia_durable_decode(buf, size, out) == 0 ? 0 : -EBADMSG;
}

/* Restores the KV store from an encoded snapshot (header + body) of size bytes. */
static int
replica_restore(struct sim_replica *r, const uint8_t *snap, size_t size)
{
	const uint8_t *body;
	size_t body_size;
	int rc;

	rc = kv_snapshot_verify(snap, size, &body, &body_size);
	if (rc != 0) {
		return rc;
	}
	rc = kv_store_restore_begin(r->kv, body, body_size);
	if (rc != 0) {
		return rc;
	}
	kv_store_restore_commit(r->kv);
	return 0;
}

/* Loads "kv.ckpt" into the fresh KV store; sets *slot. -ENOENT when there is none. */
static int
replica_load_ckpt(struct sim_replica *r, uint64_t *slot)
{
	size_t cap = CKPT_HEADER_SIZE + (size_t)r->cfg.snapshot_size_max;
	size_t size;
	int rc;

	rc = r->env->storage_load(r->env->ctx, REPLICA_OBJ_CKPT, r->snap_in, cap, &size);
	if (rc != 0) {
		return rc == -ENOENT ? -ENOENT : -EBADMSG;
	}
	if (size < CKPT_HEADER_SIZE || base_load_le32(r->snap_in) != CKPT_MAGIC) {
		return -EBADMSG;
	}
	*slot = base_load_le64(r->snap_in + 8);
	rc = replica_restore(r, r->snap_in + CKPT_HEADER_SIZE, size - CKPT_HEADER_SIZE);
	return rc == 0 ? 0 : -EBADMSG;
}

static void
replica_reset_volatile(struct sim_replica *r)
{
	memset(r->pending_seq, 0, r->cfg.clients_max * sizeof(uint64_t));
	memset(r->deferred_size, 0, r->cfg.clients_max * sizeof(uint32_t));
	r->next_tick_ns = 0;
	r->rabia_write_pending = 0;
	r->rabia_write_token = 0;
	r->hwm_put_status = 0;
	r->ckpt_pending = 0;
	r->has_ckpt = 0;
	r->ckpt_slot = 0;
	r->transfer_active = 0;
}

int
sim_replica_start(struct sim_replica *r)
{
	struct rabia_cfg rc = r->cfg.rabia;
	uint64_t ckpt_slot = 0;
	int err;

	ASSERT(r != NULL);
	ASSERT(!r->is_up);
	replica_reset_volatile(r);
	rc.self_id = r->node;
	rc.start_slot = 0;
	memset(&rc.recovered, 0, sizeof(rc.recovered));
	err = replica_load_hwm(r, &rc.recovered);
	if (err != 0 && err != -ENOENT) {
		return err;
	}
	err = kv_store_init(r->kv_mem, r->kv_mem_size, &r->cfg.kv, &r->kv);
	if (err != 0) {
		return err;
	}
	err = replica_load_ckpt(r, &ckpt_slot);
	if (err == 0) {
		rc.start_slot = ckpt_slot + 1;
		r->ckpt_slot = ckpt_slot;
		r->has_ckpt = 1;
	} else if (err != -ENOENT) {
		goto err_fini_kv;
	}
	err = rabia_init(r->rabia_mem, &rc, &r->rabia);
	if (err != 0) {
		goto err_fini_kv;
	}
	r->recovered_hwm = rc.recovered.slot_hwm;
	r->is_up = 1;
	return 0;

err_fini_kv:
	kv_store_fini(r->kv);
	r->kv = NULL;
	return err;
}

void
sim_replica_crash(struct sim_replica *r)
{
	ASSERT(r != NULL);
	if (!r->is_up) {
		return;
	}
	kv_store_fini(r->kv);
	r->kv = NULL;
	r->rabia = NULL; /* its memory is rebuilt by the next start */
	r->is_up = 0;
}

static void
replica_send(struct sim_replica *r, uint32_t to, const uint8_t *frame, size_t size)
{
	/* Fair-loss transport: a refused send is a lost datagram, Rabia retransmits. */
	(void)!r->env->send(r->env->ctx, to, frame, size);
}

static void
replica_send_rabia(struct sim_replica *r, const struct rabia_out_msg *m)
{
	uint32_t n = r->cfg.rabia.member_count;

	ASSERT(m->size <= RABIA_MSG_MAX);
	r->tx[0] = SIM_REPLICA_CH_RABIA;
	memcpy(r->tx + 1, m->data, m->size);
	if (m->to != RABIA_TO_ALL) {
		replica_send(r, m->to, r->tx, m->size + 1);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t peer = r->cfg.rabia.members[i];

		if (peer != r->node) {
			replica_send(r, peer, r->tx, m->size + 1);
		}
	}
}

static int
replica_skips(const struct sim_replica *r, uint64_t slot)
{
	return (r->cfg.break_rules & SIM_REPLICA_BREAK_SKIP_APPLY) != 0 && r->node == 0 &&
	       slot % 64 == 50;
}

/* Applies one delivered slot to the KV store and answers the clients waiting here. */
static void
replica_apply(struct sim_replica *r, const struct rabia_decided *d)
{
	const struct sim_replica_hooks *h = r->hooks;

	h->on_decided(h->ctx, r->node, d);
	r->stats.slots_applied++;
	for (size_t i = 0; !d->is_null && i < d->request_count; i++) {
		const struct rabia_request *q = &d->requests[i];
		struct kv_request kq = {((d->slot + 1) << 16) | i, q->client_id, q->client_seq,
					q->body, q->body_size};
		size_t size;

		/* An out-of-order delivery is Rabia's bug: the checker reports it; skip it here
		 * rather than trip the store's assertion. */
		if (kq.log_index <= kv_store_applied_index(r->kv) || replica_skips(r, d->slot)) {
			continue;
		}
		if (kv_store_apply(r->kv, &kq, r->result, r->result_capacity, &size) != 0) {
			PANIC("kv_store_apply failed with notifications off");
		}
		r->stats.requests_applied++;
		h->on_applied(h->ctx, r->node, d->slot, (uint32_t)i, q, r->result, size);
		if (q->client_id >= 1 && q->client_id <= r->cfg.clients_max &&
		    r->pending_seq[q->client_id - 1] == q->client_seq) {
			r->pending_seq[q->client_id - 1] = 0;
			r->deferred_size[q->client_id - 1] = 0;
			r->stats.replies++;
			h->on_reply(h->ctx, r->node, q->client_id, q->client_seq, r->result, size);
		}
	}
}

static void
replica_write_hwm(struct sim_replica *r, const struct rabia_storage_write *w)
{
	const struct env_ops *e = r->env;
	int rc;

	ASSERT(w->token <= TOK_MASK);
	r->rabia_write_pending = 1;
	r->rabia_write_token = w->token;
	rc = e->storage_put(e->ctx, REPLICA_OBJ_HWM, w->data, w->size,
			    (TOK_HWM_PUT << TOK_SHIFT) | w->token);
	if (rc == 0) {
		rc = e->storage_sync(e->ctx, REPLICA_OBJ_HWM,
				     (TOK_HWM_SYNC << TOK_SHIFT) | w->token);
	}
	if (rc != 0) {
		/* Reported to Rabia as a failed write on the next poll; it retries. */
		r->stats.storage_errors++;
		r->rabia_write_pending = -1;
	}
}

static void replica_transfer_begin(struct sim_replica *r, uint32_t peer, uint64_t now);

static void
replica_output(struct sim_replica *r, const struct rabia_output *out, uint64_t now)
{
	for (size_t i = 0; i < out->msg_count; i++) {
		replica_send_rabia(r, &out->msgs[i]);
	}
	for (size_t i = 0; i < out->decided_count; i++) {
		replica_apply(r, &out->decided[i]);
	}
	if (out->write != NULL) {
		replica_write_hwm(r, out->write);
	}
	for (size_t i = 0; i < out->event_count; i++) {
		const struct rabia_event *ev = &out->events[i];

		r->hooks->on_event(r->hooks->ctx, r->node, ev);
		if (ev->type == RABIA_EVENT_NEED_TRANSFER && ev->peer != r->node) {
			replica_transfer_begin(r, ev->peer, now);
		}
	}
	r->next_tick_ns = out->next_tick_ns;
}

static int
replica_step(struct sim_replica *r, const struct rabia_input *in)
{
	struct rabia_output out;
	int rc = rabia_step(r->rabia, in, &out);

	replica_output(r, &out, in->now_ns);
	return rc;
}

static void
replica_tick(struct sim_replica *r, uint64_t now)
{
	struct rabia_input in = {.type = RABIA_INPUT_TICK, .now_ns = now};

	(void)!replica_step(r, &in);
}

static void
replica_storage_done(struct sim_replica *r, uint64_t token, int status, uint64_t now)
{
	struct rabia_input in = {.type = RABIA_INPUT_STORAGE_DONE, .now_ns = now};

	in.storage.token = token;
	in.storage.status = status;
	r->rabia_write_pending = 0;
	(void)!replica_step(r, &in);
}

/* Takes storage completions: Rabia's record is confirmed when its sync completes. */
static void
replica_storage(struct sim_replica *r, uint64_t now)
{
	struct env_storage_completion done[8];
	size_t count;

	if (r->rabia_write_pending < 0) {
		replica_storage_done(r, r->rabia_write_token, -EIO, now);
	}
	while ((count = r->env->storage_poll(r->env->ctx, done, AE_ARRAY_SIZE(done))) > 0) {
		for (size_t i = 0; i < count; i++) {
			uint64_t kind = done[i].token >> TOK_SHIFT;

			if (done[i].status != 0) {
				r->stats.storage_errors++;
			}
			if (kind == TOK_HWM_PUT) {
				r->hwm_put_status = done[i].status;
			} else if (kind == TOK_HWM_SYNC) {
				int status =
					r->hwm_put_status != 0 ? r->hwm_put_status : done[i].status;

				r->hwm_put_status = 0;
				replica_storage_done(r, done[i].token & TOK_MASK, status, now);
			} else if (kind == TOK_CKPT_SYNC) {
				r->ckpt_pending = 0;
			}
		}
	}
}

/* Sends this replica's KV state, as of its last delivered slot, to peer in chunks. */
static void
replica_serve_snapshot(struct sim_replica *r, uint32_t peer, uint64_t nonce)
{
	uint64_t next = rabia_next_slot(r->rabia);
	size_t size;

	if (next == 0 || kv_store_snapshot_size(r->kv) > r->cfg.snapshot_size_max) {
		return;
	}
	if (kv_store_snapshot_encode(r->kv, r->snap, r->cfg.snapshot_size_max, &size) != 0) {
		return;
	}
	r->stats.transfers_served++;
	for (size_t off = 0; off < size; off += SIM_REPLICA_CHUNK_SIZE) {
		size_t len = base_min_size(SIM_REPLICA_CHUNK_SIZE, size - off);
		uint8_t *f = r->tx;

		f[0] = SIM_REPLICA_CH_SNAP_CHUNK;
		base_store_le64(f + 1, nonce);
		base_store_le64(f + 9, next - 1);
		base_store_le32(f + 17, (uint32_t)size);
		base_store_le32(f + 21, (uint32_t)off);
		memcpy(f + CHUNK_HEADER_SIZE, r->snap + off, len);
		replica_send(r, peer, f, CHUNK_HEADER_SIZE + len);
	}
}

static void
replica_send_snap_req(struct sim_replica *r)
{
	uint8_t f[9];

	f[0] = SIM_REPLICA_CH_SNAP_REQ;
	base_store_le64(f + 1, r->transfer_nonce);
	replica_send(r, r->transfer_peer, f, sizeof(f));
}

static void
replica_transfer_begin(struct sim_replica *r, uint32_t peer, uint64_t now)
{
	if (r->transfer_active) {
		return;
	}
	r->transfer_active = 1;
	r->transfer_peer = peer;
	r->transfer_nonce = ++r->nonce_counter;
	r->transfer_total = 0;
	r->transfer_mask = 0;
	r->transfer_deadline_ns = now + r->cfg.transfer_timeout_ns;
	r->stats.transfers_requested++;
	replica_send_snap_req(r);
}

/* A transfer that timed out asks the next peer; Rabia asks again if it is still behind. */
static void
replica_transfer_timer(struct sim_replica *r, uint64_t now)
{
	uint32_t n = r->cfg.rabia.member_count;
	uint32_t index = 0;

	if (!r->transfer_active || now < r->transfer_deadline_ns) {
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (r->cfg.rabia.members[i] == r->transfer_peer) {
			index = i;
		}
	}
	do {
		index = (index + 1) % n;
	} while (r->cfg.rabia.members[index] == r->node);
	r->transfer_active = 0;
	replica_transfer_begin(r, r->cfg.rabia.members[index], now);
}

static void
replica_install(struct sim_replica *r, uint64_t now)
{
	struct rabia_input in = {.type = RABIA_INPUT_STATE_INSTALLED, .now_ns = now};

	r->transfer_active = 0;
	if (r->transfer_slot < rabia_next_slot(r->rabia)) {
		return; /* caught up by decisions meanwhile: the snapshot is older than our state */
	}
	if (replica_restore(r, r->snap_in, r->transfer_total) != 0) {
		r->stats.bad_frames++;
		return;
	}
	r->stats.transfers_installed++;
	r->hooks->on_installed(r->hooks->ctx, r->node, r->transfer_slot);
	in.installed.slot = r->transfer_slot;
	(void)!replica_step(r, &in);
}

static void
replica_on_chunk(struct sim_replica *r, uint32_t from, const uint8_t *f, size_t size, uint64_t now)
{
	uint64_t slot;
	uint32_t total;
	uint32_t off;
	uint32_t chunks;
	uint64_t bit;

	if (size < CHUNK_HEADER_SIZE || !r->transfer_active || from != r->transfer_peer ||
	    base_load_le64(f + 1) != r->transfer_nonce) {
		r->stats.bad_frames++;
		return;
	}
	slot = base_load_le64(f + 9);
	total = base_load_le32(f + 17);
	off = base_load_le32(f + 21);
	if (total == 0 || total > r->cfg.snapshot_size_max || off % SIM_REPLICA_CHUNK_SIZE != 0 ||
	    off >= total ||
	    size - CHUNK_HEADER_SIZE != base_min_size(SIM_REPLICA_CHUNK_SIZE, total - off) ||
	    (r->transfer_mask != 0 && (total != r->transfer_total || slot != r->transfer_slot))) {
		r->stats.bad_frames++;
		return;
	}
	r->transfer_total = total;
	r->transfer_slot = slot;
	memcpy(r->snap_in + off, f + CHUNK_HEADER_SIZE, size - CHUNK_HEADER_SIZE);
	bit = UINT64_C(1) << (off / SIM_REPLICA_CHUNK_SIZE);
	r->transfer_mask |= bit;
	chunks = (total - 1) / SIM_REPLICA_CHUNK_SIZE + 1;
	if (r->transfer_mask == (chunks == 64 ? UINT64_MAX : (UINT64_C(1) << chunks) - 1)) {
		replica_install(r, now);
	}
}

static void
replica_dispatch(struct sim_replica *r, uint32_t from, size_t size, uint64_t now)
{
	struct rabia_input in = {.type = RABIA_INPUT_MESSAGE, .now_ns = now};

	if (size == 0) {
		r->stats.bad_frames++;
		return;
	}
	switch (r->rx[0]) {
	case SIM_REPLICA_CH_RABIA:
		in.message.from = from;
		in.message.data = r->rx + 1;
		in.message.size = size - 1;
		if (replica_step(r, &in) != 0) {
			r->stats.rabia_errors++;
		}
		return;
	case SIM_REPLICA_CH_SNAP_REQ:
		if (size == 9) {
			replica_serve_snapshot(r, from, base_load_le64(r->rx + 1));
			return;
		}
		break;
	case SIM_REPLICA_CH_SNAP_CHUNK:
		replica_on_chunk(r, from, r->rx, size, now);
		return;
	default:
		break;
	}
	r->stats.bad_frames++;
}

static void
replica_receive(struct sim_replica *r, uint64_t now)
{
	for (;;) {
		uint32_t from;
		size_t size;
		int rc = r->env->recv(r->env->ctx, &from, r->rx, ENV_MSG_MAX, &size);

		if (rc == -EAGAIN) {
			return;
		}
		if (rc != 0) {
			r->stats.bad_frames++;
			continue;
		}
		replica_dispatch(r, from, size, now);
		if (!r->is_up) {
			return;
		}
	}
}

/* Writes a KV checkpoint every checkpoint_slots delivered slots, one at a time. */
static void
replica_checkpoint(struct sim_replica *r)
{
	const struct env_ops *e = r->env;
	uint64_t next = rabia_next_slot(r->rabia);
	size_t size;

	if (r->cfg.checkpoint_slots == 0 || r->ckpt_pending || next == 0 ||
	    next - 1 < r->ckpt_slot + r->cfg.checkpoint_slots) {
		return;
	}
	if (kv_store_snapshot_size(r->kv) > r->cfg.snapshot_size_max ||
	    kv_store_snapshot_encode(r->kv, r->snap + CKPT_HEADER_SIZE, r->cfg.snapshot_size_max,
				     &size) != 0) {
		return;
	}
	base_store_le32(r->snap, CKPT_MAGIC);
	base_store_le32(r->snap + 4, 0);
	base_store_le64(r->snap + 8, next - 1);
	if (e->storage_put(e->ctx, REPLICA_OBJ_CKPT, r->snap, CKPT_HEADER_SIZE + size,
			   TOK_CKPT_PUT << TOK_SHIFT) != 0 ||
	    e->storage_sync(e->ctx, REPLICA_OBJ_CKPT, TOK_CKPT_SYNC << TOK_SHIFT) != 0) {
		r->stats.storage_errors++;
		return;
	}
	r->ckpt_pending = 1;
	r->ckpt_slot = next - 1;
	r->stats.checkpoints++;
}

/* Retries requests Rabia pushed back; returns 1 when any went in. */
static int
replica_resubmit(struct sim_replica *r)
{
	size_t cap = r->cfg.rabia.request_bytes_max;
	int any = 0;

	for (uint32_t i = 0; i < r->cfg.clients_max; i++) {
		int rc;

		if (r->deferred_size[i] == 0) {
			continue;
		}
		rc = rabia_submit(r->rabia, i + 1, r->pending_seq[i], r->deferred_body + i * cap,
				  r->deferred_size[i]);
		if (rc == -ENOBUFS) {
			break;
		}
		r->deferred_size[i] = 0;
		any = 1;
	}
	return any;
}

uint64_t
sim_replica_poll(struct sim_replica *r)
{
	uint64_t now;
	uint64_t next;

	ASSERT(r != NULL);
	if (!r->is_up) {
		return UINT64_MAX;
	}
	now = r->env->now_ns(r->env->ctx);
	replica_storage(r, now);
	replica_receive(r, now);
	if (replica_resubmit(r) || now >= r->next_tick_ns) {
		replica_tick(r, now);
	}
	replica_transfer_timer(r, now);
	replica_checkpoint(r);
	/*
	 * Rabia asks for a tick "at or after" next_tick_ns and may name a time that has passed
	 * (a batch timer that expired while the batch waits for the durable mark). Ticking again
	 * at the same virtual time changes nothing and would spin forever: wait a little.
	 */
	next = r->next_tick_ns > now ? r->next_tick_ns : now + SIM_REPLICA_TICK_MIN_NS;
	if (r->transfer_active && r->transfer_deadline_ns < next) {
		next = r->transfer_deadline_ns;
	}
	return next;
}

/*
 * The broken glue of SIM_REPLICA_BREAK_LOCAL_READS (a GET answered from local state) and
 * SIM_REPLICA_BREAK_ACK_UNLOGGED (replica 0 acknowledges a PUT and drops it). Returns 1 when the
 * request was answered here.
 */
static int
replica_break_answer(struct sim_replica *r, uint64_t client_id, uint64_t client_seq,
		     const uint8_t *body, size_t size)
{
	int is_local_read = (r->cfg.break_rules & SIM_REPLICA_BREAK_LOCAL_READS) != 0;
	int is_fake_ack =
		(r->cfg.break_rules & SIM_REPLICA_BREAK_ACK_UNLOGGED) != 0 && r->node == 0;
	struct kv_store_value v;
	struct kv_result res = {0};
	struct kv_cmd cmd;
	size_t out;

	if (kv_cmd_decode(body, size, &cmd) != 0 || !((is_local_read && cmd.type == KV_CMD_GET) ||
						      (is_fake_ack && cmd.type == KV_CMD_PUT))) {
		return 0;
	}
	res.status = cmd.type == KV_CMD_PUT ? KV_RESULT_OK : KV_RESULT_NOT_FOUND;
	res.mod_index = kv_store_applied_index(r->kv) + 1;
	if (cmd.type == KV_CMD_GET &&
	    kv_store_read_local_nonlinearizable(r->kv, cmd.ops[0].key, cmd.ops[0].key_size, &v) ==
		    0) {
		res.status = KV_RESULT_OK;
		res.mod_index = v.mod_index;
		res.value = v.value;
		res.value_size = v.value_size;
	}
	if (kv_result_encode(&res, r->result, r->result_capacity, &out) != 0) {
		return 0;
	}
	r->hooks->on_reply(r->hooks->ctx, r->node, client_id, client_seq, r->result, out);
	return 1;
}

int
sim_replica_submit(struct sim_replica *r, uint64_t client_id, uint64_t client_seq,
		   const uint8_t *body, size_t size)
{
	size_t cap;
	int rc;

	ASSERT(r != NULL);
	ASSERT(body != NULL && size > 0);
	if (!r->is_up) {
		return -EHOSTDOWN;
	}
	if (client_id == 0 || client_id > r->cfg.clients_max) {
		return -EINVAL;
	}
	cap = r->cfg.rabia.request_bytes_max;
	if (size > cap) {
		return -EMSGSIZE;
	}
	if (r->cfg.break_rules != 0 && replica_break_answer(r, client_id, client_seq, body, size)) {
		return 0;
	}
	r->pending_seq[client_id - 1] = client_seq;
	r->deferred_size[client_id - 1] = 0;
	rc = rabia_submit(r->rabia, client_id, client_seq, body, size);
	if (rc == -ENOBUFS) {
		memcpy(r->deferred_body + (client_id - 1) * cap, body, size);
		r->deferred_size[client_id - 1] = (uint32_t)size;
		r->stats.submits_deferred++;
	} else if (rc != 0) {
		return rc;
	}
	/* rabia.h: the batch timer starts at the next step, so step now. */
	replica_tick(r, r->env->now_ns(r->env->ctx));
	return 0;
}

uint64_t
sim_replica_next_slot(const struct sim_replica *r)
{
	ASSERT(r != NULL);
	return r->is_up ? rabia_next_slot(r->rabia) : 0;
}

int
sim_replica_is_passive(const struct sim_replica *r)
{
	ASSERT(r != NULL);
	return r->is_up && rabia_next_slot(r->rabia) < r->recovered_hwm;
}

size_t
sim_replica_backlog(const struct sim_replica *r)
{
	size_t deferred = 0;

	ASSERT(r != NULL);
	if (!r->is_up) {
		return 0;
	}
	for (uint32_t i = 0; i < r->cfg.clients_max; i++) {
		deferred += r->deferred_size[i] != 0;
	}
	return rabia_pending_count(r->rabia) + deferred;
}

struct base_hash128
sim_replica_digest(const struct sim_replica *r)
{
	ASSERT(r != NULL);
	ASSERT(r->is_up);
	return kv_store_digest(r->kv);
}

const struct kv_store *
sim_replica_kv(const struct sim_replica *r)
{
	ASSERT(r != NULL);
	ASSERT(r->is_up);
	return r->kv;
}
