/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rabia wire format: the messages replicas exchange (rabia.md R2) and the request batch they
 * agree on. Pure codec: no state, no allocation, any thread.
 *
 * Every message starts with a 32-byte header, little endian:
 *
 *   u8 version (RABIA_MSG_VERSION)  u8 type  u16 flags (0)  u32 sender
 *   u64 cluster_id  u64 epoch  u64 slot
 *
 * `slot` is the slot the message is about for PROPOSAL, STATE, VOTE and DECISION; for every
 * other type it is the sender's current (first undecided) slot, so any message tells the
 * receiver how far the sender has got (used for catch-up, R10). The body depends on the type:
 *
 *   REQ          batch                      proxy -> all: a new batch for the pending queues
 *   REQ_ACK      id                         "your batch is in my queue (or already decided)"
 *   PROPOSAL     u8 has_id [id]             exchange stage; has_id 0 is the NULL proposal (R3)
 *   STATE        u32 phase u8 bit [id]      round 1 of phase >= 1; id present iff bit == 1 (R7)
 *   VOTE         u32 phase u8 vote [id]     round 2; vote 0, 1 or 2 (= "?"); id iff vote == 1
 *   DECISION     u8 kind [id | batch]       kind 0 = null (the paper's ⊥), 1 = batch id only,
 *                                           2 = batch id and body (the batch itself)
 *   DEC_REQ      u64 slot_hi                "send me the decisions for [slot, slot_hi]"
 *   FETCH        id                         "send me the body of this batch" (R7)
 *   FETCH_REPLY  batch                      answer to FETCH
 *   STALE        u64 slot_hi                "what you asked for is older than my decided window,
 *                                           which starts at slot_hi: do a state transfer"
 *
 * An id is `u32 proxy, u64 seq` (the replica that formed the batch and its batch counter). A
 * batch is `u32 proxy, u64 seq, u16 count` followed by `count` requests, each `u64 client_id,
 * u64 client_seq, u32 body_size, body`; count is 1..RABIA_BATCH_COUNT_MAX. A batch always ends
 * its message, so it has no length prefix.
 *
 * The decoder never trusts its input: every length is bounded before use, unknown types,
 * reserved bits, out-of-range values and trailing bytes are rejected, so exactly one byte
 * string encodes each message (decode then encode gives back the input, which the fuzz target
 * checks). Configuration limits that are tighter than the codec's (batch size, request count)
 * are checked by rabia_step, not here.
 */
#ifndef AETHER_CONSENSUS_RABIA_MSG_H
#define AETHER_CONSENSUS_RABIA_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

#define RABIA_MSG_VERSION         1
#define RABIA_MSG_HEADER_SIZE     32
/*
 * Largest encoded message. It must fit one transport datagram (ENV_MSG_MAX, 9000 bytes); the
 * replica layer that joins the two checks this with a static assertion.
 */
#define RABIA_MSG_MAX             8192
/* The codec's bound on requests in one batch; the configuration may set a lower one. */
#define RABIA_BATCH_COUNT_MAX     1024
/* Bytes of a batch before its first request, and per request besides its body. */
#define RABIA_BATCH_HEADER_SIZE   14
#define RABIA_REQUEST_HEADER_SIZE 20
/* Largest body of the largest batch that still fits a message of any type. */
#define RABIA_BATCH_BYTES_MAX     (RABIA_MSG_MAX - RABIA_MSG_HEADER_SIZE - 1)

/* VOTE value "?" (Algorithm 2 line 8: "else vote <- ?"). */
#define RABIA_VOTE_UNKNOWN 2

enum rabia_msg_type {
	RABIA_MSG_REQ = 1,
	RABIA_MSG_REQ_ACK = 2,
	RABIA_MSG_PROPOSAL = 3,
	RABIA_MSG_STATE = 4,
	RABIA_MSG_VOTE = 5,
	RABIA_MSG_DECISION = 6,
	RABIA_MSG_DEC_REQ = 7,
	RABIA_MSG_FETCH = 8,
	RABIA_MSG_FETCH_REPLY = 9,
	RABIA_MSG_STALE = 10,
};
#define RABIA_MSG_TYPE_MAX RABIA_MSG_STALE

enum rabia_decision_kind {
	RABIA_DECISION_NULL = 0, /* the slot decided ⊥: nothing to execute */
	RABIA_DECISION_ID = 1,   /* a batch, by id only (the receiver fetches the body if needed) */
	RABIA_DECISION_BATCH = 2, /* a batch with its body */
};

/*
 * Identifies a batch cluster-wide. `reserved` is always 0 so the struct can be a hash-map key
 * compared bytewise (base/map.h); build ids with rabia_batch_id_make.
 */
struct rabia_batch_id {
	uint32_t proxy;
	uint32_t reserved;
	uint64_t seq;
};

static inline struct rabia_batch_id
rabia_batch_id_make(uint32_t proxy, uint64_t seq)
{
	struct rabia_batch_id id = {.proxy = proxy, .reserved = 0, .seq = seq};

	return id;
}

static inline int
rabia_batch_id_equal(struct rabia_batch_id a, struct rabia_batch_id b)
{
	return a.proxy == b.proxy && a.seq == b.seq;
}

/* One client request inside a batch. `body` borrows the batch's bytes. */
struct rabia_request {
	uint64_t client_id;
	uint64_t client_seq;
	const uint8_t *body;
	size_t body_size;
};

/*
 * A decoded message. Which fields are meaningful depends on `type` (see the table above);
 * the others are zero after decoding. `batch` borrows the decoded buffer: for REQ,
 * FETCH_REPLY and DECISION kind 2 it covers the encoded batch (its id is copied into `id`,
 * its request count into `batch_count`).
 */
struct rabia_msg {
	uint8_t type;
	uint32_t sender;
	uint64_t cluster_id;
	uint64_t epoch;
	uint64_t slot;
	uint32_t phase;   /* STATE, VOTE: >= 1 */
	uint8_t value;    /* PROPOSAL has_id, STATE bit, VOTE vote, DECISION kind */
	uint64_t slot_hi; /* DEC_REQ, STALE */
	struct rabia_batch_id id;
	const uint8_t *batch;
	size_t batch_size;
	uint16_t batch_count;
};

/*
 * Decodes one message from data (borrowed; `out->batch` points into it).
 * Returns 0, or a negative code and leaves *out unspecified:
 *   -BASE_ERR_TRUNCATED  the input ends early;
 *   -BASE_ERR_TRAILING   bytes after the end of the message;
 *   -BASE_ERR_VERSION    unknown version;
 *   -EBADMSG             unknown type, non-zero flags, a value out of range, phase 0, a batch
 *                        with no requests;
 *   -BASE_ERR_TOO_LONG   a batch count above RABIA_BATCH_COUNT_MAX, a body above
 *                        RABIA_MSG_MAX, or size > RABIA_MSG_MAX.
 * Never asserts on the input.
 */
AE_MUST_CHECK int rabia_msg_decode(const uint8_t *data, size_t size, struct rabia_msg *out);

/*
 * Encodes m into buf (capacity bytes). Returns 0 and sets *size_out, or -ENOBUFS when buf is
 * too small (nothing useful is left in buf then). m must be well formed (a programmer error
 * otherwise: asserted), and m->batch must hold a batch that rabia_batch_parse accepts.
 */
AE_MUST_CHECK int rabia_msg_encode(const struct rabia_msg *m, uint8_t *buf, size_t capacity,
				   size_t *size_out);

/* The exact size rabia_msg_encode would produce for m. */
size_t rabia_msg_encoded_size(const struct rabia_msg *m);

/* "REQ", "PROPOSAL", ... or "?" for an unknown value; a static string. */
const char *rabia_msg_type_name(unsigned type);

/*
 * Parses an encoded batch (data borrowed). On success returns 0, sets *id_out and *count_out,
 * and, when reqs is not NULL, fills reqs[0..count) (their bodies point into data); reqs_cap
 * must then be >= the count or -ENOBUFS is returned. Errors as rabia_msg_decode.
 */
AE_MUST_CHECK int rabia_batch_parse(const uint8_t *data, size_t size, struct rabia_batch_id *id_out,
				    uint16_t *count_out, struct rabia_request *reqs,
				    size_t reqs_cap);

/*
 * Builds a batch in caller memory: begin, add requests, finish with the id. The header is
 * written by finish, so the id may be chosen after the requests are known (the proxy assigns
 * its batch sequence number only when the batch is sealed).
 */
struct rabia_batch_builder {
	uint8_t *buf; /* borrows */
	size_t capacity;
	size_t size;
	uint16_t count;
};

/* capacity must be at least RABIA_BATCH_HEADER_SIZE (asserted). */
void rabia_batch_begin(struct rabia_batch_builder *b, uint8_t *buf, size_t capacity);
/*
 * Appends one request (body borrowed, copied). Returns 0, -ENOBUFS when it does not fit the
 * capacity or the batch already holds RABIA_BATCH_COUNT_MAX requests.
 */
AE_MUST_CHECK int rabia_batch_add(struct rabia_batch_builder *b, uint64_t client_id,
				  uint64_t client_seq, const uint8_t *body, size_t body_size);
/* Bytes a request with this body adds to a batch. */
size_t rabia_batch_request_size(size_t body_size);
/* Writes the header; the batch must hold at least one request (asserted). Returns its size. */
size_t rabia_batch_finish(struct rabia_batch_builder *b, struct rabia_batch_id id);

#endif /* AETHER_CONSENSUS_RABIA_MSG_H */
