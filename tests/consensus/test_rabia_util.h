/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the Rabia tests: a small configuration, one replica driven by hand-built
 * messages, and a capture of everything one step output (copied, so it outlives the step).
 * Node ids are 1..n; member index i has id i + 1.
 */
#ifndef AETHER_TESTS_TEST_RABIA_UTIL_H
#define AETHER_TESTS_TEST_RABIA_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/rabia.h"
#include "consensus/rabia_msg.h"

#define TRT_CLUSTER     7
#define TRT_EPOCH       3
#define TRT_CAP_MSGS    256
#define TRT_CAP_DECIDED 64

struct trt_msg {
	uint32_t to;
	struct rabia_msg m; /* decoded; m.batch points into bytes */
	uint8_t bytes[RABIA_MSG_MAX];
	size_t size;
};

struct trt_decided {
	uint64_t slot;
	int is_null;
	struct rabia_batch_id id;
	size_t request_count;
	uint64_t client_id[8];
	uint64_t client_seq[8];
};

/* Everything one or more steps output, copied. */
struct trt_capture {
	size_t msg_count;
	struct trt_msg msgs[TRT_CAP_MSGS];
	size_t decided_count;
	struct trt_decided decided[TRT_CAP_DECIDED];
	size_t event_count;
	struct rabia_event events[64];
	int has_write;
	struct rabia_storage_write write;
	uint64_t next_tick_ns;
	int last_rc;
};

struct trt {
	struct rabia *r;
	struct rabia_cfg cfg;
	uint64_t now_ns;
	struct trt_capture cap;
	int auto_storage; /* complete durable writes at once (the default) */
};

/* A small configuration for member `self` (0-based) of n; heartbeat and batch timeout off. */
void trt_cfg(struct rabia_cfg *cfg, uint32_t n, uint32_t self);
/* Creates the replica and confirms its first durable write, so it may participate. */
void trt_start(struct trt *t, const struct rabia_cfg *cfg);
void trt_stop(struct trt *t);

/* Clears the capture; each step below appends to it. */
void trt_clear(struct trt *t);
int trt_step(struct trt *t, const struct rabia_input *in);
int trt_tick(struct trt *t, uint64_t now_ns);
/* Encodes m as sent by member index `from` (header fields filled) and steps it. */
int trt_recv(struct trt *t, uint32_t from, struct rabia_msg m);
/* Submits one request and steps a tick so the batch is sealed and forwarded. */
void trt_submit(struct trt *t, uint64_t client_id, uint64_t client_seq);

/* Builders for hand-made messages (slot, phase, value, id as named). */
struct rabia_msg trt_proposal(uint64_t slot, const struct rabia_batch_id *id);
struct rabia_msg trt_state(uint64_t slot, uint32_t phase, uint8_t bit,
			   const struct rabia_batch_id *id);
struct rabia_msg trt_vote(uint64_t slot, uint32_t phase, uint8_t vote,
			  const struct rabia_batch_id *id);
/* A REQ carrying a one-request batch (proxy = member index + 1). */
struct rabia_msg trt_req(uint8_t *buf, size_t cap, uint32_t proxy_index, uint64_t seq,
			 uint64_t client_id);

/* Captured messages of a type (optionally about a slot/phase), or NULL. */
const struct trt_msg *trt_find(const struct trt *t, uint8_t type, uint64_t slot);
const struct trt_msg *trt_find_phase(const struct trt *t, uint8_t type, uint64_t slot,
				     uint32_t phase);
size_t trt_count(const struct trt *t, uint8_t type);
const struct rabia_event *trt_find_event(const struct trt *t, enum rabia_event_type type);

static inline uint32_t
trt_id(uint32_t index)
{
	return index + 1;
}

#endif /* AETHER_TESTS_TEST_RABIA_UTIL_H */
