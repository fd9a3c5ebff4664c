/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for every datagram a node shard decodes (node/node_shard.h "Wire"): Rabia
 * messages, SNAP_REQ, SNAP_CHUNK, STATUS and EPOCH frames from peers. Whatever peers send, a
 * shard must never abort, leak or send a malformed frame, and it must still restart from what
 * it wrote to storage ("bad input never crashes a node").
 *
 * The shard is member 1 of {0, 1, 2} over the in-memory env of fuzz_shard.h; the fuzzer plays
 * members 0 and 2 (and strangers): what the shard sends is checked and dropped. Each input
 * starts the shard afresh on empty storage at FUZZ_SHARD_T0_NS. Input:
 *   u8 flags        bit 0: SYNC durability (else REPLICATED); bit 1: three client PUTs are
 *                   submitted at the start, so the shard has work (proposals, stalls)
 *   then frames:    u8 ctl, u16 size (little endian, cut to what is left), bytes
 * ctl (FUZZ_FRAME_* in fuzz_shard.h): bits 0-1 the sender (node 0, node 2, node 1 itself, or a
 * stranger); bit 2 makes a Rabia message's header current (sender, cluster, epoch) so the
 * fuzzer reaches the protocol; bit 3 only queues the datagram; otherwise time advances by
 * fuzz_shard_advance_ns[ctl >> 5] and the shard is polled, with storage failing (-EIO, torn
 * appends) during that poll when bit 4 is set. Sender code 3 with no bytes queues nothing.
 * After the frames: 40 polls 1 ms apart (timers fire), then a crash and a restart from the
 * shard's own storage, which must succeed, and a few more polls.
 *
 * Seeds (corpus/shard_frames/) are recordings of what member 1 received in real three-member
 * runs, replayed exactly by this format, plus hand-made frames (fuzz_shard_seeds.c).
 */
#include "fuzz.h"

#include <string.h>

#include "base/bytes.h"
#include "base/panic.h"
#include "consensus/rabia_msg.h"
#include "fuzz_shard.h"

#define MS UINT64_C(1000000)

static struct fuzz_shard_world *frames_worlds[2];

static struct fuzz_shard_world *
frames_world(unsigned is_sync)
{
	if (frames_worlds[is_sync] == NULL) {
		frames_worlds[is_sync] = fuzz_shard_world_create(
			is_sync ? NODE_SHARD_DURABLE_SYNC : NODE_SHARD_DURABLE_REPLICATED,
			1u << FUZZ_SHARD_SELF);
	}
	return frames_worlds[is_sync];
}

static uint32_t
frames_sender(uint8_t ctl)
{
	static const uint32_t ids[4] = {0, 2, FUZZ_SHARD_SELF, FUZZ_SHARD_STRANGER};

	return ids[ctl & FUZZ_FRAME_SENDER_MASK];
}

/* Bit 2: a Rabia message that passes the header checks of rabia_step (R1). */
static void
frames_patch(const struct node_shard *s, uint32_t from, uint8_t *d, size_t size)
{
	if (size < 1 + RABIA_MSG_HEADER_SIZE || d[0] != NODE_SHARD_CH_RABIA) {
		return;
	}
	base_store_le32(d + 1 + 4, from);
	base_store_le64(d + 1 + 8, s->cfg.rabia.cluster_id);
	base_store_le64(d + 1 + 16, node_shard_epoch(s));
}

static void
frames_one(struct fuzz_shard_node *n, uint8_t ctl, const uint8_t *body, size_t size)
{
	static uint8_t d[ENV_MSG_MAX];
	uint32_t from = frames_sender(ctl);

	if ((ctl & FUZZ_FRAME_SENDER_MASK) != FUZZ_FRAME_TICK || size > 0) {
		memcpy(d, body, size);
		if ((ctl & FUZZ_FRAME_PATCH) != 0) {
			frames_patch(n->shard, from, d, size);
		}
		fuzz_shard_inbox_push(n, from, d, size);
	}
	if ((ctl & FUZZ_FRAME_HOLD) != 0) {
		return;
	}
	n->w->now_ns += fuzz_shard_advance_ns[ctl >> FUZZ_FRAME_ADVANCE_SHIFT];
	n->fail_storage = (ctl & FUZZ_FRAME_FAIL) != 0;
	(void)node_shard_poll(n->shard, n->w->now_ns);
	n->fail_storage = 0;
}

static void
frames_polls(struct fuzz_shard_node *n, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		n->w->now_ns += 1 * MS;
		(void)node_shard_poll(n->shard, n->w->now_ns);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags = size > 0 ? data[0] : 0;
	struct fuzz_shard_world *w = frames_world(flags & 1u);
	struct fuzz_shard_node *n = &w->nodes[FUZZ_SHARD_SELF];
	size_t off = size > 0 ? 1 : 0;

	fuzz_shard_node_crash(n);
	fuzz_shard_node_wipe(n);
	w->now_ns = FUZZ_SHARD_T0_NS;
	ASSERT(fuzz_shard_node_start(n) == 0);
	for (uint64_t i = 1; (flags & 2u) != 0 && i <= 3; i++) {
		ASSERT(fuzz_shard_put(n, 100 + i, 1, (uint32_t)i, 16) == 0);
	}
	while (size - off >= 3) {
		uint8_t ctl = data[off];
		size_t len = base_load_le16(data + off + 1);

		off += 3;
		len = base_min_size(base_min_size(len, size - off), ENV_MSG_MAX);
		frames_one(n, ctl, data + off, len);
		off += len;
	}
	frames_polls(n, 40);
	/* Whatever peers said, the shard must come back from its own storage. */
	fuzz_shard_node_crash(n);
	ASSERT(fuzz_shard_node_start(n) == 0);
	frames_polls(n, 5);
	fuzz_shard_node_crash(n);
	return 0;
}
