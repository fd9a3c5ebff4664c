/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for Rabia's step function (consensus/rabia.h): whatever peers send, a replica
 * must never abort, and its output must stay well formed.
 *
 * The input is a script of frames for one replica (member 1 of {1, 2, 3}), each starting with
 * an op byte:
 *   op % 6 == 0  message: u8 from, u16 size, bytes; the header's cluster, epoch and sender are
 *                patched to plausible values so the fuzzer reaches the protocol logic
 *   op % 6 == 1  tick: u16, time advances by that many microseconds
 *   op % 6 == 2  storage completion of the last write: u8 status (0 ok, else -EIO)
 *   op % 6 == 3  state installed: u16, that many slots past the current one
 *   op % 6 == 4  client submit: u8 size, body
 *   op % 6 == 5  message as above but unpatched
 * After every step: decided slots are consecutive, every output message decodes and names us
 * as sender, and no count exceeds its configured bound.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/panic.h"
#include "consensus/rabia.h"
#include "consensus/rabia_msg.h"

#define FUZZ_CLUSTER 7
#define FUZZ_EPOCH   3

struct fuzz_run {
	struct rabia *r;
	struct rabia_cfg cfg;
	const uint8_t *p;
	size_t left;
	uint64_t now;
	uint64_t token;
	int has_token;
	uint64_t client_seq;
};

static void
fuzz_cfg(struct rabia_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	rabia_cfg_defaults(cfg);
	cfg->cluster_id = FUZZ_CLUSTER;
	cfg->epoch = FUZZ_EPOCH;
	cfg->coin_key = 42;
	cfg->self_id = 1;
	cfg->member_count = 3;
	cfg->members[0] = 1;
	cfg->members[1] = 2;
	cfg->members[2] = 3;
	cfg->batch_count_max = 4;
	cfg->batch_bytes_max = 512;
	cfg->request_bytes_max = 64;
	cfg->pending_max = 12;
	cfg->window_slots = 8;
	cfg->ahead_slots = 4;
	cfg->decided_ids_max = 16;
	cfg->phase_max = 4;
	cfg->hwm_step = 4;
	cfg->catchup_max = 4;
	cfg->out_msgs_max = 32;
	cfg->out_bytes_max = 64 * 1024;
	cfg->out_decided_max = 2;
	cfg->rto_ns = 1000;
	cfg->batch_timeout_ns = 0;
	cfg->heartbeat_ns = 5000;
}

static void
fuzz_check(struct fuzz_run *run, uint64_t next_before, const struct rabia_output *out)
{
	ASSERT(out->msg_count <= run->cfg.out_msgs_max);
	ASSERT(out->decided_count <= run->cfg.out_decided_max);
	ASSERT(out->event_count <= RABIA_OUT_EVENTS_MAX);
	for (size_t i = 0; i < out->msg_count; i++) {
		struct rabia_msg m;

		ASSERT(rabia_msg_decode(out->msgs[i].data, out->msgs[i].size, &m) == 0);
		ASSERT(m.sender == run->cfg.self_id);
		ASSERT(out->msgs[i].to != run->cfg.self_id);
	}
	for (size_t i = 0; i < out->decided_count; i++) {
		const struct rabia_decided *d = &out->decided[i];

		ASSERT(d->slot == next_before + i);
		ASSERT(d->is_null || d->request_count >= 1);
		ASSERT(d->request_count <= run->cfg.batch_count_max);
	}
	if (out->decided_count > 0) {
		ASSERT(rabia_next_slot(run->r) == out->decided[out->decided_count - 1].slot + 1);
	}
	if (out->write != NULL) {
		struct rabia_durable d;

		ASSERT(rabia_durable_decode(out->write->data, out->write->size, &d) == 0);
		run->token = out->write->token;
		run->has_token = 1;
	}
}

static void
fuzz_step(struct fuzz_run *run, struct rabia_input *in)
{
	struct rabia_output out;
	uint64_t next = rabia_next_slot(run->r);
	int rc;

	in->now_ns = run->now;
	rc = rabia_step(run->r, in, &out);
	(void)rc;
	/* An install moves the next slot forward without delivering anything. */
	if (in->type == RABIA_INPUT_STATE_INSTALLED && rc == 0) {
		next = in->installed.slot + 1;
	}
	fuzz_check(run, next, &out);
}

static int
take(struct fuzz_run *run, size_t n, const uint8_t **out)
{
	if (run->left < n) {
		return 0;
	}
	*out = run->p;
	run->p += n;
	run->left -= n;
	return 1;
}

static void
fuzz_message(struct fuzz_run *run, int patch)
{
	const uint8_t *h;
	const uint8_t *body;
	uint8_t buf[RABIA_MSG_MAX];
	struct rabia_input in = {.type = RABIA_INPUT_MESSAGE};
	size_t size;
	uint32_t from;

	if (!take(run, 3, &h)) {
		return;
	}
	from = h[0] % 4 == 3 ? 99 : (uint32_t)(h[0] % 4) + 1;
	size = base_load_le16(h + 1);
	if (size > sizeof(buf) || !take(run, size, &body)) {
		return;
	}
	memcpy(buf, body, size);
	if (patch && size >= RABIA_MSG_HEADER_SIZE) {
		base_store_le32(buf + 4, from);
		base_store_le64(buf + 8, FUZZ_CLUSTER);
		base_store_le64(buf + 16, FUZZ_EPOCH);
	}
	in.message.from = from;
	in.message.data = buf;
	in.message.size = size;
	fuzz_step(run, &in);
}

static void
fuzz_other(struct fuzz_run *run, uint8_t op)
{
	struct rabia_input in = {.type = RABIA_INPUT_TICK};
	const uint8_t *arg;

	if (op == 1 && take(run, 2, &arg)) {
		run->now += (uint64_t)base_load_le16(arg) * 1000;
		fuzz_step(run, &in);
	} else if (op == 2 && take(run, 1, &arg) && run->has_token) {
		in.type = RABIA_INPUT_STORAGE_DONE;
		in.storage.token = run->token;
		in.storage.status = arg[0] == 0 ? 0 : -EIO;
		fuzz_step(run, &in);
	} else if (op == 3 && take(run, 2, &arg)) {
		in.type = RABIA_INPUT_STATE_INSTALLED;
		in.installed.slot = rabia_next_slot(run->r) + base_load_le16(arg);
		fuzz_step(run, &in);
	} else if (op == 4 && take(run, 1, &arg)) {
		const uint8_t *body;
		size_t size = arg[0];

		if (take(run, size, &body)) {
			int rc = rabia_submit(run->r, 1000, ++run->client_seq, body, size);

			ASSERT(rc == 0 || rc == -ENOBUFS || rc == -EMSGSIZE);
			ASSERT(rc != -EMSGSIZE || size > run->cfg.request_bytes_max);
			fuzz_step(run, &in);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_run run = {0};
	struct rabia_input in = {.type = RABIA_INPUT_TICK};
	void *memory;
	uint8_t *copy = malloc(size == 0 ? 1 : size);

	ASSERT(copy != NULL);
	if (size > 0) {
		memcpy(copy, data, size);
	}
	fuzz_cfg(&run.cfg);
	memory = aligned_alloc(16, (rabia_size(&run.cfg) + 15) & ~(size_t)15);
	ASSERT(memory != NULL);
	ASSERT(rabia_init(memory, &run.cfg, &run.r) == 0);
	/* Start with a confirmed durable mark so the replica takes part in slots. */
	fuzz_step(&run, &in);
	in.type = RABIA_INPUT_STORAGE_DONE;
	in.storage.token = run.token;
	fuzz_step(&run, &in);
	run.p = copy;
	run.left = size;
	while (run.left > 0) {
		uint8_t op = run.p[0] % 6;

		run.p++;
		run.left--;
		if (op == 0 || op == 5) {
			fuzz_message(&run, op == 0);
		} else {
			fuzz_other(&run, op);
		}
	}
	free(memory);
	free(copy);
	return 0;
}
