/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replicated KV store's command and result codec.
 *
 * Rabia decides batches of opaque client requests {client_id, client_seq, body}; the body is a
 * command encoded here, and what the store answers is a result encoded here (rabia.md R8: the
 * dedupe table caches the ENCODED result, so a retry gets the original bytes back).
 *
 * Command wire format (little endian, base/bytes.h; "blob" = u32 length + bytes):
 *
 *   u8 version (KV_CMD_VERSION)
 *   op:  u8 type, then by type
 *        PUT     blob key, blob value
 *        REMOVE  blob key
 *        CAS     blob key, u64 expected_mod_index (0 = key must not exist), blob value
 *        GET     blob key
 *        BATCH   u8 op_count (1..KV_CMD_BATCH_MAX), then op_count ops of type PUT, REMOVE or CAS
 *
 * Keys are opaque bytes, 1..KV_CMD_KEY_MAX long (the typed schema of kv_key.h is checked at the
 * API edge, not here); values are 0..KV_CMD_VALUE_MAX bytes. These are WIRE limits: anything
 * beyond them is malformed. A store may configure smaller limits and answer KV_RESULT_TOO_LARGE.
 * The encoding is canonical: every byte string that decodes re-encodes to the same bytes.
 *
 * Result wire format:
 *
 *   u8 version (KV_RESULT_VERSION), u8 status, u16 op_index, u64 mod_index, blob value
 *
 * Decoders never trust a length: every prefix is checked against the bytes left and the wire
 * limit before use. Decoded views BORROW the input buffer. Pure functions; any thread.
 */
#ifndef AETHER_CONSENSUS_KV_CMD_H
#define AETHER_CONSENSUS_KV_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

#define KV_CMD_VERSION   1
/* Equal to KV_KEY_MAX in consensus/kv_key.h (checked by a static_assert in kv_cmd.c). */
#define KV_CMD_KEY_MAX   512
/* 16 MiB: far above any control-plane value, small enough that sizes never overflow. */
#define KV_CMD_VALUE_MAX (16u * 1024u * 1024u)
/* Operations in one BATCH; also bounds the notifications one command can produce. */
#define KV_CMD_BATCH_MAX 16

enum kv_cmd_type {
	KV_CMD_PUT = 1,
	KV_CMD_REMOVE = 2,
	KV_CMD_CAS = 3,
	KV_CMD_GET = 4,
	KV_CMD_BATCH = 5,
};

/*
 * One operation. key and value BORROW the caller's (or the decoded buffer's) bytes. value is
 * used by PUT and CAS only; expected_mod_index by CAS only (0 means "must not exist").
 */
struct kv_cmd_op {
	enum kv_cmd_type type;
	const uint8_t *key;
	size_t key_size;
	const uint8_t *value;
	size_t value_size;
	uint64_t expected_mod_index;
};

/*
 * A decoded command. For PUT, REMOVE, CAS and GET, op_count is 1 and ops[0] holds the
 * operation (ops[0].type == type). For BATCH, ops[0..op_count) are PUT, REMOVE or CAS.
 */
struct kv_cmd {
	enum kv_cmd_type type;
	size_t op_count;
	struct kv_cmd_op ops[KV_CMD_BATCH_MAX];
};

/*
 * Bytes kv_cmd_encode would write for c, or 0 if c is not a valid command (see kv_cmd_encode).
 */
size_t kv_cmd_encoded_size(const struct kv_cmd *c);

/*
 * Encodes c into buf (borrowed, capacity bytes) and sets *out_size.
 * Errors: -EINVAL when c is not valid (unknown type, key empty or over KV_CMD_KEY_MAX, value
 * over KV_CMD_VALUE_MAX, op_count not 1 for a single op or outside 1..KV_CMD_BATCH_MAX for a
 * batch, GET or BATCH inside a batch); -ENOBUFS when capacity is too small. Nothing is
 * guaranteed about buf on error.
 */
AE_MUST_CHECK int kv_cmd_encode(const struct kv_cmd *c, uint8_t *buf, size_t capacity,
				size_t *out_size);

/*
 * Decodes exactly size bytes into *out, whose views borrow buf.
 * Errors: -BASE_ERR_TRUNCATED (input ends early), -BASE_ERR_VERSION, -EBADMSG (unknown type,
 * empty key, bad batch count, GET or BATCH inside a batch), -BASE_ERR_TOO_LONG (a key or value
 * over its wire limit), -BASE_ERR_TRAILING (bytes after the command). *out is undefined on error.
 */
AE_MUST_CHECK int kv_cmd_decode(const uint8_t *buf, size_t size, struct kv_cmd *out);

#define KV_RESULT_VERSION     1
/* version, status, op_index, mod_index and the value's length prefix. */
#define KV_RESULT_HEADER_SIZE 16

/*
 * What the store answers. Every replica computes the same status for the same request, so these
 * are results, not errors: a full store is KV_RESULT_FULL on every replica, never an assert.
 */
enum kv_result_status {
	KV_RESULT_OK = 0,
	/* REMOVE or GET of an absent key. */
	KV_RESULT_NOT_FOUND = 1,
	/* CAS: the key's mod index differs from the expected one; mod_index carries the current
	 * one (0 when the key is absent). */
	KV_RESULT_CAS_FAILED = 2,
	/* The key count or the data budget would be exceeded. */
	KV_RESULT_FULL = 3,
	/* A key or value over the store's configured limit. */
	KV_RESULT_TOO_LARGE = 4,
	/* The client already executed a request with a higher sequence number. */
	KV_RESULT_STALE = 5,
	/* The body did not decode as a command. */
	KV_RESULT_BAD_COMMAND = 6,
};
#define KV_RESULT_STATUS_COUNT 7

/*
 * A decoded result. mod_index: on OK for writes, the log index of this request (the keys' new
 * mod index); on OK for GET, the key's mod index; on CAS_FAILED, the key's current mod index;
 * otherwise 0. op_index: for a failed BATCH, the index of the first failing op; otherwise 0.
 * value (GET OK only) borrows the decoded buffer or the store.
 */
struct kv_result {
	enum kv_result_status status;
	uint32_t op_index;
	uint64_t mod_index;
	const uint8_t *value;
	size_t value_size;
};

/* KV_RESULT_HEADER_SIZE + value_size. */
size_t kv_result_encoded_size(const struct kv_result *r);

/*
 * Encodes r into buf. Errors: -EINVAL (unknown status, op_index >= KV_CMD_BATCH_MAX, value over
 * KV_CMD_VALUE_MAX), -ENOBUFS (capacity too small).
 */
AE_MUST_CHECK int kv_result_encode(const struct kv_result *r, uint8_t *buf, size_t capacity,
				   size_t *out_size);

/*
 * Decodes exactly size bytes. Errors: -BASE_ERR_TRUNCATED, -BASE_ERR_VERSION, -EBADMSG (unknown
 * status, op_index out of range), -BASE_ERR_TOO_LONG, -BASE_ERR_TRAILING.
 */
AE_MUST_CHECK int kv_result_decode(const uint8_t *buf, size_t size, struct kv_result *out);

/* "OK", "NOT_FOUND", ...; "?" for an unknown value. */
const char *kv_result_status_name(enum kv_result_status status);

#endif /* AETHER_CONSENSUS_KV_CMD_H */
