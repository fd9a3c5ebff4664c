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
 * target starts it. The recordings carry every STATUS, PROPOSE and PROMISE frame in whatever
 * layout node_shard_epoch.c uses, so they follow format changes when regenerated. The rest are
 * hand-made from the public formats only (Rabia messages, node_shard.h's transfer frames): a
 * STALE that makes member 1 pull the snapshot chunk that follows, SNAP_REQs, refused frames.
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
	if (size == 0) {
		return; /* data may be NULL */
	}
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
	const struct node_shard_stats *st = node_shard_get_stats(w->nodes[FUZZ_SHARD_SELF].shard);

	printf("%s: member 1 applied %llu slots, installed %llu, epochs %llu, checkpoints %llu\n",
	       name, (unsigned long long)st->slots_applied,
	       (unsigned long long)st->transfers_installed, (unsigned long long)st->epoch_changes,
	       (unsigned long long)st->checkpoints);
}

static void
rec_finish(struct fuzz_shard_world *w, const char *name, const struct seed *s)
{
	rec_report(w, name);
	seed_write("shard_frames", name, s);
	fuzz_shard_world_destroy(w);
}

/* Member 0 or 2 answers SNAP_REQs of member 1's state: one in order, one misaligned. */
static void
seed_snap_reqs(struct seed *s)
{
	uint8_t f[29];

	f[0] = NODE_SHARD_CH_SNAP_REQ;
	base_store_le64(f + 1, 77);
	base_store_le64(f + 9, NODE_SHARD_SNAP_ANY);
	base_store_le64(f + 17, 0);
	base_store_le32(f + 25, 4 * NODE_SHARD_CHUNK_SIZE);
	seed_frame(s, 0 | seed_advance(1 * MS), f, sizeof(f));
	base_store_le64(f + 17, 3);
	seed_frame(s, 1 | seed_advance(1 * MS), f, sizeof(f));
}

/* All three from T0 with client load; then (steady only) peers pull member 1's snapshot. */
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
	rec_run(w, &r, FUZZ_SHARD_T0_NS + 6 * MS, 500 * US, &seq);
	rec_finish(w, name, &s);
	if ((flags & 1u) == 0) {
		seed_snap_reqs(&s);
		seed_write("shard_frames", "steady-snap-req", &s);
	}
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
	rec_finish(w, name, &s);
}

/*
 * Members 0 and 2 run, crash together and restart at T0 with member 1 new: two of three
 * cannot vote below their R11 marks, so the three change epoch (STATUS, PROPOSE, PROMISE).
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
	rec_run(w, &r, FUZZ_SHARD_T0_NS + 70 * MS, 0, &seq);
	rec_finish(w, name, &s);
}

/*
 * Members 0 and 2 change epoch without member 1 (both crash and restart), then member 1
 * starts new: it adopts their epoch from STATUS and installs a snapshot.
 */
static void
rec_late_joiner(const char *name)
{
	static struct seed s;
	struct recorder r = {&s, 0};
	struct fuzz_shard_world *w = rec_world(0);
	uint64_t seq = 1;

	s.size = 0;
	w->now_ns = FUZZ_SHARD_T0_NS - 150 * MS;
	ASSERT(fuzz_shard_node_start(&w->nodes[0]) == 0);
	ASSERT(fuzz_shard_node_start(&w->nodes[2]) == 0);
	rec_run(w, NULL, FUZZ_SHARD_T0_NS - 130 * MS, 500 * US, &seq);
	fuzz_shard_node_crash(&w->nodes[0]);
	fuzz_shard_node_crash(&w->nodes[2]);
	ASSERT(fuzz_shard_node_start(&w->nodes[0]) == 0);
	ASSERT(fuzz_shard_node_start(&w->nodes[2]) == 0);
	rec_run(w, NULL, FUZZ_SHARD_T0_NS, 0, &seq);
	rec_start_self(w, &r, 0);
	rec_run(w, &r, FUZZ_SHARD_T0_NS + 15 * MS, 0, &seq);
	rec_finish(w, name, &s);
}

/* ---- hand-made frames (public formats only: Rabia and the transfer frames) ---- */

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

/* A Rabia STALE from member 0 (epoch 1, the configured one): its window starts at slot 50. */
static size_t
seed_stale(uint8_t *f)
{
	f[0] = NODE_SHARD_CH_RABIA;
	f[1] = 1;                     /* RABIA_MSG_VERSION */
	f[2] = 10;                    /* RABIA_MSG_STALE */
	base_store_le16(f + 3, 0);    /* flags */
	base_store_le32(f + 5, 0);    /* sender */
	base_store_le64(f + 9, 77);   /* cluster */
	base_store_le64(f + 17, 1);   /* epoch */
	base_store_le64(f + 25, 100); /* the sender's slot */
	base_store_le64(f + 33, 50);  /* slot_hi */
	return 41;
}

/*
 * STALE makes member 1 pull a snapshot from member 0 (nonce 1001: its env seed, the first
 * nonce); the chunk answers with a whole snapshot of slot 60, which member 1 installs.
 */
static void
seed_stale_install(void)
{
	static struct seed s;
	uint8_t f[ENV_MSG_MAX];
	uint8_t snap[4096];
	size_t snap_size = seed_snapshot(snap, sizeof(snap));

	s.size = 0;
	seed_u8(&s, 0);
	seed_frame(&s, 0 | seed_advance(1 * MS), f, seed_stale(f));
	seed_tick(&s, 1 * MS);
	f[0] = NODE_SHARD_CH_SNAP_CHUNK;
	base_store_le64(f + 1, 1001);
	base_store_le64(f + 9, 60);
	base_store_le64(f + 17, snap_size);
	base_store_le64(f + 25, base_load_le64(snap + 16));
	base_store_le64(f + 33, 0);
	memcpy(f + 41, snap, snap_size);
	seed_frame(&s, 0 | seed_advance(1 * MS), f, 41 + snap_size);
	for (int i = 0; i < 3; i++) {
		seed_tick(&s, 2 * MS);
	}
	seed_write("shard_frames", "stale-install", &s);
}

/* Frames every decoder must refuse: empty, unknown channel, short, strangers, self. */
static void
seed_refused(void)
{
	static struct seed s;
	uint8_t f[64];

	s.size = 0;
	seed_u8(&s, 2);
	seed_frame(&s, 0, f, 0);
	memset(f, 0, sizeof(f));
	f[0] = 9;
	seed_frame(&s, 1, f, 1);
	f[0] = NODE_SHARD_CH_STATUS;
	seed_frame(&s, 0, f, 2);
	seed_frame(&s, 3, f, 50);
	seed_frame(&s, 2, f, 50);
	f[0] = NODE_SHARD_CH_EPOCH;
	f[1] = 3;
	seed_frame(&s, 0, f, 34);
	seed_frame(&s, 1, f, 2);
	f[0] = NODE_SHARD_CH_SNAP_REQ;
	seed_frame(&s, 0, f, 28);
	f[0] = NODE_SHARD_CH_SNAP_CHUNK;
	seed_frame(&s, 0, f, 41);
	f[0] = NODE_SHARD_CH_RABIA;
	seed_frame(&s, 1 | FUZZ_FRAME_PATCH, f, 20);
	seed_frame(&s, 3, f, seed_stale(f));
	seed_tick(&s, 1 * MS);
	seed_write("shard_frames", "refused", &s);
}

/* ---- start seeds ---- */

static void
seed_start(uint8_t flags, const char *name, int object, uint8_t op, const void *data, size_t size)
{
	static struct seed s;

	s.size = 0;
	seed_u8(&s, flags);
	for (int i = 0; i < 4 && object >= 0; i++) {
		if (i == object) {
			seed_frame(&s, op, data, size);
		} else {
			seed_frame(&s, 0, NULL, 0);
		}
	}
	seed_write("shard_start", name, &s);
}

/* Objects in input order: 0 rabia.hwm, 1 kv.ckpt, 2 kv.log, 3 shard.epoch. */
static void
seed_starts(void)
{
	uint8_t b[64];
	uint8_t rec[NODE_SHARD_LOG_HEAD];

	seed_start(0, "empty", -1, 0, NULL, 0);
	seed_start(1, "real-objects", -1, 0, NULL, 0);
	seed_start(3, "real-objects-sync", -1, 0, NULL, 0);
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
	/* A null record (header only) for a later slot, appended with its checksum fixed. */
	memset(rec, 0, sizeof(rec));
	base_store_le32(rec, NODE_SHARD_LOG_HEAD);
	base_store_le32(rec + 4, 0x474f4c52u); /* node_shard_log.c LOG_MAGIC */
	base_store_le64(rec + 16, 2);
	base_store_le64(rec + 24, 40);
	seed_start(5, "log-extra-record-fixed", 2, 2, rec, NODE_SHARD_LOG_HEAD);
	/* The epoch record's epoch and promise fields, wherever they are, hit by a patch. */
	base_store_le16(b, 8);
	memset(b + 2, 0x01, 8);
	seed_start(5, "epoch-patched-fixed", 3, 4, b, 10);
	base_store_le16(b, 16);
	seed_start(5, "epoch-patched-16-fixed", 3, 4, b, 10);
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
	rec_epoch(3, "epoch-change-sync");
	rec_late_joiner("late-joiner");
	seed_stale_install();
	seed_refused();
	seed_starts();
	return 0;
}
