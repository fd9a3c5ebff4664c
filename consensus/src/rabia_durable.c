/* SPDX-License-Identifier: Apache-2.0 */
/*
 * R11: the participation high-water mark and the batch-sequence mark, reserved hwm_step at a
 * time through storage-write outputs, and the rule that nothing is sent for a slot the
 * durable mark does not cover. Record: u8 version, 7 zero bytes, u64 epoch, u64 slot_hwm,
 * u64 batch_seq_hwm, u64 XXH3 of the first 32 bytes.
 */
#include "rabia_int.h"

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"

#define RABIA_DURABLE_VERSION 1
/* Seed for the record checksum: any constant, fixed forever. */
#define RABIA_DURABLE_SEED    0x52414249414857ull

void
rabia_durable_encode(const struct rabia_durable *d, uint8_t out[RABIA_DURABLE_SIZE])
{
	ASSERT(d != NULL);
	ASSERT(out != NULL);
	memset(out, 0, RABIA_DURABLE_SIZE);
	out[0] = RABIA_DURABLE_VERSION;
	base_store_le64(out + 8, d->epoch);
	base_store_le64(out + 16, d->slot_hwm);
	base_store_le64(out + 24, d->batch_seq_hwm);
	base_store_le64(out + 32, base_hash64(out, 32, RABIA_DURABLE_SEED));
}

int
rabia_durable_decode(const uint8_t *data, size_t size, struct rabia_durable *out)
{
	ASSERT(out != NULL);
	if (data == NULL || size < RABIA_DURABLE_SIZE) {
		return -BASE_ERR_TRUNCATED;
	}
	if (size > RABIA_DURABLE_SIZE) {
		return -BASE_ERR_TRAILING;
	}
	if (base_load_le64(data + 32) != base_hash64(data, 32, RABIA_DURABLE_SEED)) {
		return -BASE_ERR_CHECKSUM;
	}
	if (data[0] != RABIA_DURABLE_VERSION) {
		return -BASE_ERR_VERSION;
	}
	for (int i = 1; i < 8; i++) {
		if (data[i] != 0) {
			return -EBADMSG;
		}
	}
	out->epoch = base_load_le64(data + 8);
	out->slot_hwm = base_load_le64(data + 16);
	out->batch_seq_hwm = base_load_le64(data + 24);
	return 0;
}

int
rabia_may_participate(const struct rabia *r)
{
	return r->cur >= r->passive_below && r->durable.slot_hwm > r->cur;
}

/*
 * Reserve ahead: a new write starts when half of the reserved range is used, so with a sync
 * faster than hwm_step/2 slots the protocol never waits for the disk.
 */
void
rabia_durable_maybe_write(struct rabia *r)
{
	uint64_t step = r->cfg.hwm_step;
	int need_slot;
	int need_seq;

	if (r->write_inflight || r->now_ns < r->write_retry_ns) {
		return;
	}
	need_slot = r->cur + step / 2 >= r->durable.slot_hwm;
	need_seq = r->batch_seq_next + step / 2 >= r->durable.batch_seq_hwm;
	if (!need_slot && !need_seq) {
		return;
	}
	r->writing = r->durable;
	r->writing.epoch = r->cfg.epoch;
	if (r->cur + step > r->writing.slot_hwm) {
		r->writing.slot_hwm = r->cur + step;
	}
	if (r->batch_seq_next + step > r->writing.batch_seq_hwm) {
		r->writing.batch_seq_hwm = r->batch_seq_next + step;
	}
	rabia_durable_encode(&r->writing, r->write_buf);
	r->write_inflight = 1;
	r->write_token++;
	r->out_write.token = r->write_token;
	r->out_write.data = r->write_buf;
	r->out_write.size = RABIA_DURABLE_SIZE;
	r->out_write.value = r->writing;
	r->has_write = 1;
}

int
rabia_on_storage(struct rabia *r, uint64_t token, int status)
{
	if (!r->write_inflight || token != r->write_token) {
		return -ESTALE;
	}
	r->write_inflight = 0;
	if (status != 0) {
		/* Not durable: keep the old mark and try again after an RTO. */
		r->stats.storage_errors++;
		r->write_retry_ns = r->now_ns + r->cfg.rto_ns;
		rabia_event(r, RABIA_EVENT_STORAGE_FAILED, r->cfg.self_id, r->cur, status);
		return 0;
	}
	/* Marks only grow: a write never lowers what an earlier one reserved. */
	ASSERT(r->writing.slot_hwm >= r->durable.slot_hwm);
	ASSERT(r->writing.batch_seq_hwm >= r->durable.batch_seq_hwm);
	r->durable = r->writing;
	return 0;
}
