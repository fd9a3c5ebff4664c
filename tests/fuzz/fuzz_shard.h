/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The world the node-shard fuzz targets run in (fuzz_shard_frames.c, fuzz_shard_start.c): three
 * members (node ids 0, 1 and 2) behind an in-memory struct env_ops each, on one virtual clock.
 *
 * Each node has a bounded datagram inbox (a full inbox drops: fair-loss), in-memory storage
 * objects whose contents are always the last put or append (one outcome env.h allows after a
 * crash), and a completion queue that storage_poll drains; -ENOBUFS when it is full. With
 * `fail_storage` set, every storage operation completes with -EIO, a failed put leaves the old
 * contents and a failed append writes half its bytes (a torn tail, as env.h allows).
 *
 * Every datagram a shard sends is checked before anything else happens to it: a known channel,
 * the size of its frame kind (exact for the transfer frames, a body for STATUS and EPOCH, whose
 * layout is private to node_shard_epoch.c), a Rabia message that decodes and names its sender,
 * a member other than the sender as destination. A shard emitting anything else is a bug (ASSERT).
 * With `deliver` set the datagram then goes to the peer's inbox when that peer is up (a real run);
 * otherwise it is dropped (the fuzzer plays the peers).
 *
 * fuzz_shard_real_run runs all three shards with client PUTs and a full-cluster restart, so
 * the storage of every node then holds each durable object kind as the shard writes it (the
 * valid starting point fuzz_shard_start corrupts). on_recv sees every datagram a node takes,
 * which is how fuzz_shard_seeds.c records member 1's runs as seeds.
 *
 * Memory: a world is large (inboxes of ENV_MSG_MAX-byte datagrams): allocate it. Object data is
 * malloc'd and freed by fuzz_shard_node_wipe / fuzz_shard_world_destroy. Single thread.
 */
#ifndef AETHER_TESTS_FUZZ_SHARD_H
#define AETHER_TESTS_FUZZ_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "env/env.h"
#include "node/node_shard.h"

#define FUZZ_SHARD_NODES    3u
/* The member the targets fuzz. */
#define FUZZ_SHARD_SELF     1u
/* A node id that is no member. */
#define FUZZ_SHARD_STRANGER 9u
/* Where every fuzzed run starts on the virtual clock. */
#define FUZZ_SHARD_T0_NS    UINT64_C(1000000000)
#define FUZZ_SHARD_INBOX    128u
#define FUZZ_SHARD_OBJECTS  8u
#define FUZZ_SHARD_DONE     64u

/* fuzz_shard_frames input: one control byte per frame (see fuzz_shard_frames.c). */
#define FUZZ_FRAME_SENDER_MASK   0x03u /* 0: node 0, 1: node 2, 2: node 1 (self), 3: stranger */
#define FUZZ_FRAME_PATCH         0x04u /* Rabia header: sender, cluster and epoch made current */
#define FUZZ_FRAME_HOLD          0x08u /* queue only; the next frame without it polls */
#define FUZZ_FRAME_FAIL          0x10u /* storage fails during this poll */
#define FUZZ_FRAME_ADVANCE_SHIFT 5u    /* bits 5-7: index into fuzz_shard_advance_ns */
/* Sender code 3 with an empty body: no datagram, only the poll. */
#define FUZZ_FRAME_TICK          0x03u

struct fuzz_shard_world;

struct fuzz_shard_dgram {
	uint32_t from;
	uint32_t size;
	uint8_t data[ENV_MSG_MAX];
};

struct fuzz_shard_obj {
	char name[ENV_STORAGE_NAME_MAX + 1];
	uint8_t *data; /* NULL: the slot is free */
	size_t size;
};

struct fuzz_shard_node {
	struct fuzz_shard_world *w;
	uint32_t id;
	struct env_ops ops;
	struct fuzz_shard_dgram inbox[FUZZ_SHARD_INBOX];
	uint32_t head;
	uint32_t count;
	struct fuzz_shard_obj objects[FUZZ_SHARD_OBJECTS];
	struct env_storage_completion done[FUZZ_SHARD_DONE];
	size_t done_count;
	int fail_storage;
	struct node_shard *shard; /* NULL: this node only has an env */
	int is_up;
};

/* Called with every datagram a node is about to receive (recording seeds). */
typedef void fuzz_shard_recv_fn(void *ctx, uint32_t to, uint32_t from, const uint8_t *data,
				size_t size);

struct fuzz_shard_world {
	struct fuzz_shard_node nodes[FUZZ_SHARD_NODES];
	uint64_t now_ns;
	int deliver;
	uint64_t sent;
	struct node_shard_hooks hooks;
	fuzz_shard_recv_fn *on_recv;
	void *on_recv_ctx;
};

/* Time advances of the frame control byte's bits 5-7. */
extern const uint64_t fuzz_shard_advance_ns[8];

/* The configuration every node runs (small limits, so a run is cheap and checkpoints often). */
void fuzz_shard_config(struct node_shard_config *cfg, uint32_t self_id,
		       enum node_shard_durability durability);

/*
 * A world whose nodes in shard_mask (bit i: node i) get a shard of this durability (created,
 * not started). Asserts on allocation failure (a harness without memory cannot run).
 */
struct fuzz_shard_world *fuzz_shard_world_create(enum node_shard_durability durability,
						 uint32_t shard_mask);
void fuzz_shard_world_destroy(struct fuzz_shard_world *w);

/* Drops a node's objects, inbox and queued completions (a fresh disk). */
void fuzz_shard_node_wipe(struct fuzz_shard_node *n);
/* A crash: the shard stops, its inbox and queued completions are gone; storage stays. */
void fuzz_shard_node_crash(struct fuzz_shard_node *n);
/* Starts a node's shard at the world's time; node_shard_start's code. */
int fuzz_shard_node_start(struct fuzz_shard_node *n);

/* An object's current contents, or NULL. */
const struct fuzz_shard_obj *fuzz_shard_obj_get(const struct fuzz_shard_node *n, const char *name);
/* Replaces (creates) an object with a copy of data. */
void fuzz_shard_obj_set(struct fuzz_shard_node *n, const char *name, const uint8_t *data,
			size_t size);
void fuzz_shard_obj_delete(struct fuzz_shard_node *n, const char *name);

/* Queues a datagram (copied) for node n as if `from` sent it; dropped when the inbox is full. */
void fuzz_shard_inbox_push(struct fuzz_shard_node *n, uint32_t from, const uint8_t *data,
			   size_t size);

/* Polls every up shard once at the world's time. */
void fuzz_shard_world_poll(struct fuzz_shard_world *w);

/*
 * Submits a PUT of key "k<key>" (a value of value_size bytes derived from seq) as client
 * client_id's request seq to node n; node_shard_submit's code.
 */
int fuzz_shard_put(struct fuzz_shard_node *n, uint64_t client_id, uint64_t seq, uint32_t key,
		   size_t value_size);

/*
 * The real run, from FUZZ_SHARD_T0_NS - 300 ms to FUZZ_SHARD_T0_NS - 100 ms: all three members
 * start empty, take client PUTs, checkpoint, then all crash at once and restart, which moves
 * them to a new epoch. Leaves the shards down and the clock where it was. Storage then holds
 * every object kind; asserts that it does.
 */
void fuzz_shard_real_run(struct fuzz_shard_world *w);

#endif /* AETHER_TESTS_FUZZ_SHARD_H */
