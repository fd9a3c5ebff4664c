/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writes the seed corpora of fuzz_shard_frames and fuzz_shard_start into <dir>/shard_frames/
 * and <dir>/shard_start/ (usage: fuzz_shard_seeds tests/fuzz/corpus). Run it again when a
 * frame or object format changes, and keep the crash-* files.
 *
 * Frames seeds, mostly recordings: the three members run for real in the world of
 * fuzz_shard.h, and everything member 1 receives is written in fuzz_shard_frames' format (each
 * datagram held, then one tick frame per poll of member 1 with the time since its last poll),
 * so the target replays member 1's run exactly: it decides, checkpoints, pulls a snapshot or
 * changes epoch as it did. Member 1 starts at FUZZ_SHARD_T0_NS with empty storage, as the
 * target starts it. The rest are hand-made frames of node_shard.h's wire formats (STATUS that
 * makes it adopt an epoch, then the snapshot chunk it asks for; PROPOSE and PROMISE).
 *
 * Start seeds: edit scripts over the objects of fuzz_shard_real_run (fuzz_shard_start's
 * format), from no edit to torn, flipped and re-checksummed objects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/hash.h"
#include "base/panic.h"
#include "consensus/kv_cmd.h"
#include "consensus/kv_store.h"
#include "fuzz_shard.h"

#define US UINT64_C(1000)
#define MS UINT64_C(1000000)

#define SEED_MAX (1u << 20)

struct seed {
	uint8_t data[SEED_MAX];
	size_t size;
};

static const char *seed_dir;

static void
seed_bytes(struct seed *s, const void *data, size_t size)
{
	ASSERT(s->size + size <= SEED_MAX);
	memcpy(s->data + s->size, data, size);
	s->size += size;
}

static void
seed_u8(struct seed *s, uint8_t v)
{
	seed_bytes(s, &v, 1);
}

/* One frame: ctl, u16 size, bytes. */
static void
seed_frame(struct seed *s, uint8_t ctl, const void *data, size_t size)
{
	uint8_t h[3];

	ASSERT(size <= UINT16_MAX);
	h[0] = ctl;
	base_store_le16(h + 1, (uint16_t)size);
	seed_bytes(s, h, 3);
	seed_bytes(s, data, size);
}

static uint8_t
seed_advance(uint64_t ns)
{
	for (uint8_t i = 0; i < 8; i++) {
		if (fuzz_shard_advance_ns[i] == ns) {
			return (uint8_t)(i << FUZZ_FRAME_ADVANCE_SHIFT);
		}
	}
	PANIC("no frame advances time by %llu ns", (unsigned long long)ns);
}

static void
seed_tick(struct seed *s, uint64_t ns)
{
	seed_frame(s, (uint8_t)(FUZZ_FRAME_TICK | seed_advance(ns)), NULL, 0);
}

static void
seed_write(const char *target, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", seed_dir, target, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(s->data, 1, s->size, f) != s->size || fclose(f) != 0) {
		fprintf(stderr, "fuzz_shard_seeds: cannot write %s\n", path);
		exit(1);
	}
	printf("%s: %zu bytes\n", path, s->size);
}

/* ---- recordings ---- */

struct recorder {
	struct seed *s;
	uint64_t last_poll_ns;
};

static void
rec_on_recv(void *ctx, uint32_t to, uint32_t from, const uint8_t *data, size_t size)
{
	struct recorder *r = ctx;
	uint8_t code = from == 0 ? 0 : from == 2 ? 1 : from == FUZZ_SHARD_SELF ? 2 : 3;

	if (to == FUZZ_SHARD_SELF) {
		seed_frame(r->s, (uint8_t)(code | FUZZ_FRAME_HOLD), data, size);
	}
}

/* One step of the world, member 1's poll recorded; one client PUT every put_every_ns. */
static void
rec_step(struct fuzz_shard_world *w, struct recorder *r, uint64_t put_every_ns, uint64_t *seq)
{
	if (put_every_ns != 0 && w->now_ns % put_every_ns == 0) {
		/* From the peers only: member 1's own clients are the flag's three. */
		struct fuzz_shard_node *n = &w->nodes[*seq % 2 == 0 ? 0 : 2];

		if (n->is_up) {
			(void)fuzz_shard_put(n, 200 + *seq % 4, *seq, (uint32_t)(*seq % 5),
					     8 + *seq % 64);
		}
		(*seq)++;
	}
	for (uint32_t i = 0; i < FUZZ_SHARD_NODES; i++) {
		struct fuzz_shard_node *n = &w->nodes[i];

		if (!n->is_up) {
			continue;
		}
		(void)node_shard_poll(n->shard, w->now_ns);
		if (i == FUZZ_SHARD_SELF && r != NULL) {
			seed_tick(r->s, w->now_ns - r->last_poll_ns);
			r->last_poll_ns = w->now_ns;
		}
	}
	w->now_ns += 100 * US;
}

static void
rec_run(struct fuzz_shard_world *w, struct recorder *r, uint64_t until_ns, uint64_t put_every_ns,
	uint64_t *seq)
{
	while (w->now_ns < until_ns) {
		rec_step(w, r, put_every_ns, seq);
	}
}

/* Member 1 starts at T0 like the target starts it (with its three PUTs under flag bit 1). */
static void
rec_start_self(struct fuzz_shard_world *w, struct recorder *r, uint8_t flags)
{
	struct fuzz_shard_node *n = &w->nodes[FUZZ_SHARD_SELF];

	ASSERT(w->now_ns == FUZZ_SHARD_T0_NS);
	ASSERT(fuzz_shard_node_start(n) == 0);
	for (uint64_t i = 1; (flags & 2u) != 0 && i <= 3; i++) {
		ASSERT(fuzz_shard_put(n, 100 + i, 1, (uint32_t)i, 16) == 0);
	}
	r->last_poll_ns = w->now_ns;
	seed_u8(r->s, flags);
	w->on_recv = rec_on_recv;
	w->on_recv_ctx = r;
}

static struct fuzz_shard_world *
rec_world(uint8_t flags)
{
	struct fuzz_shard_world *w = fuzz_shard_world_create(
		(flags & 1u) != 0 ? NODE_SHARD_DURABLE_SYNC : NODE_SHARD_DURABLE_REPLICATED,
		(1u << FUZZ_SHARD_NODES) - 1);

	w->deliver = 1;
	return w;
}

static void
rec_report(const struct fuzz_shard_world *w, const char *name)
{
	const struct node_shard_stats *st =
		node_shard_get_stats(w->nodes[FUZZ_SHARD_SELF].shard);

	printf("%s: member 1 applied %llu slots, installed %llu, epochs %llu, checkpoints %llu\n",
	       name, (unsigned long long)st->slots_applied,
	       (unsigned long long)st->transfers_installed, (unsigned long long)st->epoch_changes,
	       (unsigned long long)st->checkpoints);
}

/* All three from T0 with client load. */
static void
rec_steady(uint8_t flags, const char *name)
{
	static struct seed s;
	struct recorder r = {&s, 0};
	struct fuzz_shard_world *w = rec_world(flags);
	uint64_t seq = 1;

	s.size = 0;
	ASSERT(fuzz_shard_node_start(&w->nodes[0]) == 0);
	ASSERT(fuzz_shard_node_start(&w->nodes[2]) == 0);
	rec_start_self(w, &r, flags);
	rec_run(w, &r, FUZZ_SHARD_T0_NS + 8 * MS, 500 * US, &seq);
	rec_report(w, name);
	seed_write("shard_frames", name, &s);
	fuzz_shard_world_destroy(w);
}

/* Members 0 and 2 run ahead for 30 ms: member 1 is behind every window and pulls a snapshot. */
static void
rec_catchup(const char *name)
{
	static struct seed s;
	struct recorder r = {&s, 0};
	struct fuzz_shard_world *w = rec_world(0);
	uint64_t seq = 1;

	s.size = 0;
	w->now_ns = FUZZ_SHARD_T0_NS - 30 * MS;
	ASSERT(fuzz_shard_node_start(&w->nodes[0]) == 0);
	ASSERT(fuzz_shard_node_start(&w->nodes[2]) == 0);
	rec_run(w, NULL, FUZZ_SHARD_T0_NS, 200 * US, &seq);
	rec_start_self(w, &r, 0);
	rec_run(w, &r, FUZZ_SHARD_T0_NS + 12 * MS, 0, &seq);
	rec_report(w, name);
	seed_write("shard_frames", name, &s);
	fuzz_shard_world_destroy(w);
}

/*
 * Members 0 and 2 run, crash together and restart at T0 with member 1 new: two of three
 * cannot vote below their R11 marks, so the three change epoch.
 */
static void
rec_epoch(uint8_t flags, const char *name)
{
	static struct seed s;
	struct recorder r = {&s, 0};
	struct fuzz_shard_world *w = rec_world(flags);
	uint64_t seq = 1;

	s.size = 0;
	w->now_ns = FUZZ_SHARD_T0_NS - 20 * MS;
	ASSERT(fuzz_shard_node_start(&w->nodes[0]) == 0);
	ASSERT(fuzz_shard_node_start(&w->nodes[2]) == 0);
	rec_run(w, NULL, FUZZ_SHARD_T0_NS, 500 * US, &seq);
	fuzz_shard_node_crash(&w->nodes[0]);
	fuzz_shard_node_crash(&w->nodes[2]);
	ASSERT(fuzz_shard_node_start(&w->nodes[0]) == 0);
	ASSERT(fuzz_shard_node_start(&w->nodes[2]) == 0);
	rec_start_self(w, &r, flags);
	rec_run(w, &r, FUZZ_SHARD_T0_NS + 80 * MS, 0, &seq);
	rec_report(w, name);
	seed_write("shard_frames", name, &s);
	fuzz_shard_world_destroy(w);
}

/* ---- hand-made frames ---- */

static size_t
seed_status(uint8_t *f, uint64_t epoch, uint64_t base_next, uint64_t promised, uint64_t durable,
	    int is_stalled)
{
	f[0] = NODE_SHARD_CH_STATUS;
	base_store_le64(f + 1, epoch);
	base_store_le64(f + 9, base_next);
	base_store_le64(f + 17, epoch);
	base_store_le64(f + 25, promised);
	base_store_le64(f + 33, durable);
	base_store_le64(f + 41, durable);
	f[49] = is_stalled ? 1 : 0;
	return 50;
}

static size_t
seed_epoch_msg(uint8_t *f, uint8_t type, uint64_t target, uint64_t a, uint64_t b, uint64_t c)
{
	f[0] = NODE_SHARD_CH_EPOCH;
	f[1] = type;
	base_store_le64(f + 2, target);
	base_store_le64(f + 10, a);
	base_store_le64(f + 18, b);
	base_store_le64(f + 26, c);
	return 34;
}

/* A snapshot of a store with this configuration holding a few keys. */
static size_t
seed_snapshot(uint8_t *out, size_t cap)
{
	struct node_shard_config cfg;
	struct kv_store *kv;
	uint8_t body[128];
	uint8_t result[256];
	size_t size;

	fuzz_shard_config(&cfg, FUZZ_SHARD_SELF, NODE_SHARD_DURABLE_REPLICATED);
	ASSERT(kv_store_create(&cfg.kv, &kv) == 0);
	for (uint64_t i = 1; i <= 3; i++) {
		char key[8];
		struct kv_cmd cmd = {.type = KV_CMD_PUT, .op_count = 1};
		struct kv_request req = {i, 500, i, body, 0};

		snprintf(key, sizeof(key), "s%u", (unsigned)i);
		cmd.ops[0] = (struct kv_cmd_op){.type = KV_CMD_PUT,
						.key = (const uint8_t *)key,
						.key_size = strlen(key),
						.value = (const uint8_t *)"value",
						.value_size = 5};
		ASSERT(kv_cmd_encode(&cmd, body, sizeof(body), &req.body_size) == 0);
		ASSERT(kv_store_apply(kv, &req, result, sizeof(result), &size) == 0);
	}
	ASSERT(kv_store_snapshot_encode(kv, out, cap, &size) == 0);
	kv_store_destroy(kv);
	return size;
}

/*
 * A STATUS of epoch 3 with base 5 from member 0: member 1 adopts it, has no log up to the base,
 * and asks member 0 for a snapshot (nonce 1001: its env seed, the first nonce); the chunk
 * answers with a snapshot of slot 4, then time lets the epoch record become durable.
 */
static void
seed_adopt_install(void)
{
	static struct seed s;
	uint8_t f[ENV_MSG_MAX];
	uint8_t snap[4096];
	size_t snap_size = seed_snapshot(snap, sizeof(snap));

	s.size = 0;
	seed_u8(&s, 0);
	seed_frame(&s, 0 | seed_advance(1 * MS), f, seed_status(f, 3, 5, 3, 5, 0));
	seed_tick(&s, 1 * MS);
	f[0] = NODE_SHARD_CH_SNAP_CHUNK;
	base_store_le64(f + 1, 1001);
	base_store_le64(f + 9, 4);
	base_store_le64(f + 17, snap_size);
	base_store_le64(f + 25, base_load_le64(snap + 16));
	base_store_le64(f + 33, 0);
	memcpy(f + 41, snap, snap_size);
	seed_frame(&s, 0 | seed_advance(1 * MS), f, 41 + snap_size);
	for (int i = 0; i < 5; i++) {
		seed_tick(&s, 2 * MS);
	}
	/* Member 2 reports the new epoch too; then a SNAP_REQ for member 1's state. */
	seed_frame(&s, 1 | seed_advance(1 * MS), f, seed_status(f, 3, 5, 3, 5, 0));
	f[0] = NODE_SHARD_CH_SNAP_REQ;
	base_store_le64(f + 1, 77);
	base_store_le64(f + 9, NODE_SHARD_SNAP_ANY);
	base_store_le64(f + 17, 0);
	base_store_le32(f + 25, 4 * NODE_SHARD_CHUNK_SIZE);
	seed_frame(&s, 1 | seed_advance(1 * MS), f, 29);
	seed_write("shard_frames", "adopt-install", &s);
}

/*
 * Member 1 has work (flag bit 1) and no quorum, so it stalls; stalled STATUS from both peers,
 * then PROPOSE(4) from member 0 (member 1 coordinates epoch 4: 4 mod 3) and both peers'
 * PROMISE(4): member 1 adopts epoch 4.
 */
static void
seed_propose_promise(uint8_t flags, const char *name)
{
	static struct seed s;
	uint8_t f[64];

	s.size = 0;
	seed_u8(&s, flags);
	/* Stalled stall_timeout_ns (20 ms) after its first poll. */
	seed_tick(&s, 20 * MS);
	seed_tick(&s, 20 * MS);
	seed_tick(&s, 5 * MS);
	seed_frame(&s, 0 | seed_advance(1 * MS), f, seed_status(f, 1, 0, 1, 0, 1));
	seed_frame(&s, 1 | seed_advance(1 * MS), f, seed_status(f, 1, 0, 1, 0, 1));
	seed_frame(&s, 0 | seed_advance(1 * MS), f, seed_epoch_msg(f, 1, 4, 1, 1, 0));
	seed_tick(&s, 1 * MS);
	seed_frame(&s, 0 | seed_advance(1 * MS), f, seed_epoch_msg(f, 2, 4, 1, 0, 0));
	seed_frame(&s, 1 | seed_advance(1 * MS), f, seed_epoch_msg(f, 2, 4, 1, 0, 0));
	for (int i = 0; i < 5; i++) {
		seed_tick(&s, 2 * MS);
	}
	seed_write("shard_frames", name, &s);
}

/* Frames every decoder must refuse: empty, unknown channel, wrong sizes, strangers, self. */
static void
seed_refused(void)
{
	static struct seed s;
	uint8_t f[64];

	s.size = 0;
	seed_u8(&s, 2);
	seed_frame(&s, 0, f, 0);
	f[0] = 9;
	seed_frame(&s, 1, f, 1);
	seed_status(f, 1, 0, 1, 0, 0);
	seed_frame(&s, 0, f, 49);
	seed_frame(&s, 3, f, 50);
	seed_frame(&s, 2, f, 50);
	seed_epoch_msg(f, 3, 2, 1, 0, 0);
	seed_frame(&s, 0, f, 34);
	seed_frame(&s, 1, f, 33);
	f[0] = NODE_SHARD_CH_SNAP_REQ;
	seed_frame(&s, 0, f, 28);
	f[0] = NODE_SHARD_CH_SNAP_CHUNK;
	seed_frame(&s, 0, f, 41);
	f[0] = NODE_SHARD_CH_RABIA;
	seed_frame(&s, 1 | FUZZ_FRAME_PATCH, f, 20);
	seed_tick(&s, 1 * MS);
	seed_write("shard_frames", "refused", &s);
}

/* ---- start seeds ---- */

static void
seed_edit(struct seed *s, uint8_t op, const void *data, size_t size)
{
	seed_frame(s, op, data, size);
}

static void
seed_start(uint8_t flags, const char *name, int object, uint8_t op, const void *data, size_t size)
{
	static struct seed s;

	s.size = 0;
	seed_u8(&s, flags);
	for (int i = 0; i < 4 && object >= 0; i++) {
		if (i == object) {
			seed_edit(&s, op, data, size);
		} else {
			seed_edit(&s, 0, NULL, 0);
		}
	}
	seed_write("shard_start", name, &s);
}

static void
seed_starts(void)
{
	uint8_t b[64];
	uint8_t rec[NODE_SHARD_LOG_HEAD + 8];

	seed_start(0, "empty", -1, 0, NULL, 0);
	seed_start(1, "real-objects", -1, 0, NULL, 0);
	seed_start(3, "real-objects-sync", -1, 0, NULL, 0);
	/* hwm, ckpt, log, epoch: 0..3 */
	memset(b, 0xa5, sizeof(b));
	seed_start(1, "hwm-garbage", 0, 1, b, 40);
	seed_start(5, "hwm-garbage-fixed", 0, 1, b, 40);
	base_store_le16(b, 40);
	b[2] = 0x10;
	seed_start(1, "ckpt-flip", 1, 6, b, 3);
	seed_start(5, "ckpt-flip-fixed", 1, 6, b, 3);
	base_store_le16(b, 7);
	seed_start(1, "ckpt-truncated", 1, 5, b, 2);
	seed_start(1, "log-torn", 2, 2, b, 7);
	/* A null record (header only) for some slot, appended with its checksum fixed. */
	memset(rec, 0, sizeof(rec));
	base_store_le32(rec, NODE_SHARD_LOG_HEAD);
	base_store_le32(rec + 4, 0x474f4c52u);
	base_store_le64(rec + 16, 2);
	base_store_le64(rec + 24, 40);
	seed_start(5, "log-extra-record-fixed", 2, 2, rec, NODE_SHARD_LOG_HEAD);
	base_store_le16(b, 16);
	memset(b + 2, 0xff, 8);
	seed_start(5, "epoch-huge-base-fixed", 3, 4, b, 10);
	base_store_le16(b, 8);
	b[2] = 9;
	seed_start(5, "epoch-later-fixed", 3, 4, b, 3);
	seed_start(1, "epoch-deleted", 3, 3, NULL, 0);
	seed_start(1, "ckpt-deleted", 1, 3, NULL, 0);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_shard_seeds CORPUS_DIR (tests/fuzz/corpus)\n");
		return 2;
	}
	seed_dir = argv[1];
	rec_steady(2, "steady");
	rec_steady(3, "steady-sync");
	rec_catchup("catchup");
	rec_epoch(0, "epoch-change");
	seed_adopt_install();
	seed_propose_promise(2, "propose-promise");
	seed_propose_promise(3, "propose-promise-sync");
	seed_refused();
	seed_starts();
	return 0;
}
