/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replicated KV store: a pure, deterministic state machine fed with decided requests.
 *
 * The replica layer glues Rabia to this store: for every request of every decided slot, in log
 * order, it calls kv_store_apply() with a log index, the client id and sequence number and the
 * opaque body (a command encoded by kv_cmd.h). The store never sees Rabia types. Two stores fed
 * the same requests in the same order hold the same state, give the same results byte for byte
 * and have the same kv_store_digest(), whatever their memory layout or configuration seed.
 *
 * Semantics (rabia.md 1.3 and R8 to R12):
 *  - PUT, REMOVE, CAS (by per-key mod index; expected 0 = "must not exist"), GET and BATCH of
 *    PUT/REMOVE/CAS. A batch is all or nothing: it applies only if every op, run in order on the
 *    state left by the ops before it, would succeed; otherwise nothing changes (no writes, no
 *    notifications) and the result names the first failing op.
 *  - Every key's mod_index is the log index of the request that last wrote it; all writes of one
 *    batch share it. applied_index is the log index of the last applied request.
 *  - Limits are results, not errors: a full store answers KV_RESULT_FULL, an oversized key or
 *    value KV_RESULT_TOO_LARGE, a malformed body KV_RESULT_BAD_COMMAND, identically everywhere.
 *    Fullness depends only on the logical contents (key count, key + value bytes), never on
 *    fragmentation, so a replica restored from a snapshot decides exactly like one that
 *    replayed the log.
 *  - R8 dedupe: per client, the highest executed sequence number and the encoded result. A
 *    request with seq == highest gets that result again byte for byte without executing; seq <
 *    highest gets KV_RESULT_STALE. The table holds max_clients clients; a new client when it is
 *    full evicts the client whose last executed request has the lowest log index (ties: lowest
 *    client id). An evicted client's retry executes again: the table is a bounded window.
 *  - R9 reads: GET goes through the log and is linearizable. kv_store_read_local_nonlinearizable
 *    and kv_store_scan_local_nonlinearizable (keys with a prefix, in key order, in pages) read
 *    this replica's state, which may lag the cluster; the names say so on purpose.
 *  - Change notifications (PUT with the old value, REMOVE with the old value) are copied, in log
 *    order, into a bounded queue that the caller drains with kv_store_notify_next(); there are no
 *    callbacks. Notifications are local: they never influence results or the digest.
 *  - R10 state transfer: kv_store_snapshot_encode() and a restore in three calls that reports
 *    the difference between the old and the new state before committing (see below).
 *
 * Memory (STYLE.md section 5): every capacity comes from struct kv_store_config and is claimed
 * at init, either in caller memory (kv_store_size + kv_store_init) or with one base_alloc
 * (kv_store_create). Nothing grows afterwards. The largest parts are the data arena
 * (data_budget_size + 15 bytes per key), the per-key metadata (64 bytes per key, the key-order
 * index included, plus 8 bytes of hash index), the dedupe results (max_clients * (16 +
 * max_value_size), since a cached GET result holds its value) and the notification buffer.
 *
 * Context: one owner (the control lcore's shard); no function is thread-safe. No function
 * allocates after init, none touches clocks or I/O except kv_store_dump.
 */
#ifndef AETHER_CONSENSUS_KV_STORE_H
#define AETHER_CONSENSUS_KV_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/hash.h"

struct kv_store;

/* Upper bounds on configuration fields, so that every size computation fits in 64 bits. */
#define KV_STORE_KEYS_LIMIT        (1u << 24)
#define KV_STORE_CLIENTS_LIMIT     (1u << 20)
#define KV_STORE_DATA_BUDGET_LIMIT (1ull << 40)
#define KV_STORE_NOTIFY_LIMIT      (1ull << 40)

/*
 * All capacities. kv_store_config_check() names the rules; every field except index_seed is
 * replicated state's shape, so every replica should use the same values (a smaller limit on one
 * replica would make it answer FULL or TOO_LARGE where others succeed).
 */
struct kv_store_config {
	/* Keys held at most: 1..KV_STORE_KEYS_LIMIT. */
	size_t max_keys;
	/* Longest key: 1..KV_CMD_KEY_MAX (512, the key schema's KV_KEY_MAX). */
	size_t max_key_size;
	/* Longest value: 0..KV_CMD_VALUE_MAX. */
	size_t max_value_size;
	/* Sum of key bytes plus value bytes over all keys: 1..KV_STORE_DATA_BUDGET_LIMIT. */
	size_t data_budget_size;
	/* Clients in the dedupe table: 1..KV_STORE_CLIENTS_LIMIT. */
	size_t max_clients;
	/* Notification buffer bytes: 0 turns notifications off; otherwise at least
	 * kv_store_notify_size_min(cfg), so that any single command's notifications fit. */
	size_t notify_buffer_size;
	/* Seeds the key index hash (flooding resistance). Local: it never changes results,
	 * snapshots or the digest. */
	uint64_t index_seed;
};

/* 0 when cfg satisfies the limits above, else -EINVAL. */
AE_MUST_CHECK int kv_store_config_check(const struct kv_store_config *cfg);

/*
 * The smallest non-zero notify_buffer_size for cfg's key and value limits: room for the
 * notifications of a full batch (KV_CMD_BATCH_MAX ops, each with key, old and new value).
 */
size_t kv_store_notify_size_min(const struct kv_store_config *cfg);

/* Bytes kv_store_init needs for cfg, or 0 when cfg is invalid. */
size_t kv_store_size(const struct kv_store_config *cfg);

/*
 * Builds an empty store in memory (borrowed for the store's life; at least kv_store_size(cfg)
 * bytes, 64-byte aligned). Sets *out (which points into memory). Errors: -EINVAL (bad cfg).
 */
AE_MUST_CHECK int kv_store_init(void *memory, size_t memory_size, const struct kv_store_config *cfg,
				struct kv_store **out);
/* Ends a store built by kv_store_init; the caller then frees the memory. */
void kv_store_fini(struct kv_store *s);

/*
 * kv_store_init into one base_alloc block (startup only). Errors: -EINVAL, -ENOMEM.
 * kv_store_destroy frees it; it accepts NULL.
 */
AE_MUST_CHECK int kv_store_create(const struct kv_store_config *cfg, struct kv_store **out);
void kv_store_destroy(struct kv_store *s);

/* One decided client request, as the replica layer hands it over. body is borrowed. */
struct kv_request {
	/* Log position; strictly greater than every index applied before (asserted) and >= 1.
	 * A slot holds several requests, so the replica numbers requests, e.g. a running
	 * count of executed requests or (slot << 16 | position). */
	uint64_t log_index;
	uint64_t client_id;
	uint64_t client_seq;
	const uint8_t *body;
	size_t body_size;
};

/* Bytes that always suffice for an encoded result: KV_RESULT_HEADER_SIZE + max_value_size. */
size_t kv_store_result_size_max(const struct kv_store *s);

/*
 * Applies one decided request and writes its encoded result (kv_cmd.h) into result (borrowed;
 * result_capacity >= kv_store_result_size_max(s), asserted), setting *result_size.
 *
 * Returns 0 for every body, good or bad: what happened is in the result. The one error is
 * -EAGAIN: notifications are on and the queue lacks room for this command's notifications;
 * then NOTHING changed (not even the dedupe table or applied_index), and the caller drains
 * the queue and applies the same request again. Cost: O(ops * (key + value bytes)), plus
 * O(log n) expected key comparisons for each key created or removed (the key-order index;
 * overwrites do not touch it) and an occasional arena compaction O(data bytes) when freed space
 * must be reclaimed.
 * Asserts: no restore in progress; log_index > kv_store_applied_index(s).
 */
AE_MUST_CHECK int kv_store_apply(struct kv_store *s, const struct kv_request *req, uint8_t *result,
				 size_t result_capacity, size_t *result_size);

/* A value read from this replica. value borrows the store until its next mutating call. */
struct kv_store_value {
	const uint8_t *value;
	size_t value_size;
	uint64_t mod_index;
};

/*
 * NOT LINEARIZABLE (R9): reads this replica's applied state, which may lag the cluster; use a
 * GET through the log when the answer must reflect every write acknowledged so far.
 * Returns 0, or -ENOENT when the key is absent (also for keys no store could hold).
 */
AE_MUST_CHECK int kv_store_read_local_nonlinearizable(const struct kv_store *s, const uint8_t *key,
						      size_t key_size, struct kv_store_value *out);

/* One key found by a scan. Pointers borrow the store until its next kv_store_apply or
 * kv_store_restore_commit: copy the last key before then if it is the next call's cursor. */
struct kv_store_entry {
	const uint8_t *key;
	size_t key_size;
	const uint8_t *value;
	size_t value_size;
	uint64_t mod_index;
};

/* What one scan call looks for. Pointers borrow for the call. */
struct kv_scan {
	/* Keys that start with these bytes; prefix_size 0 selects every key. */
	const uint8_t *prefix;
	size_t prefix_size;
	/* The cursor: only keys strictly greater (kv_key_compare order) than these bytes, i.e.
	 * the last key the previous call returned; after_size 0 starts at the first key. The key
	 * need not exist any more: a cursor is a position in key order, not an entry. */
	const uint8_t *after;
	size_t after_size;
	/* Entries at most in one call (>= 1): the out array's length. */
	size_t count_max;
	/* Key plus value bytes at most, summed over one call's entries (>= 1). */
	size_t bytes_max;
};

/*
 * NOT LINEARIZABLE (R9): a prefix scan of this replica's applied state, which may lag the
 * cluster. Fills out[0..*out_count) with the keys that start with scan->prefix and sort after
 * scan->after, in ascending key order (memcmp order, a prefix before its extensions), as many
 * as fit count_max and bytes_max, and sets *has_more to 1 when another such key exists after
 * the last one returned (call again with it as the cursor), else 0.
 *
 * Paging is not a snapshot: each call reads the state as it is then. Across calls with writes
 * in between, every key that existed under the prefix for the whole scan is returned exactly
 * once and in order; a key put behind the cursor is missed, a key removed after it was returned
 * stays returned, and a value reflects its state at the call that returned it.
 *
 * Returns 0 (also with no entries), or -EMSGSIZE when the first key due is alone over bytes_max
 * (nothing returned: give at least max_key_size + max_value_size to never see it). Cost:
 * O(log n) expected to find the start (key comparisons down the key-order index), then O(1)
 * amortized per key returned, plus one key to learn has_more; no allocation, no store change.
 * Any context that may read the store; allowed while a restore is open (it sees the old state).
 */
AE_MUST_CHECK int kv_store_scan_local_nonlinearizable(const struct kv_store *s,
						      const struct kv_scan *scan,
						      struct kv_store_entry *out, size_t *out_count,
						      int *has_more);

uint64_t kv_store_applied_index(const struct kv_store *s);
size_t kv_store_key_count(const struct kv_store *s);
/* Key bytes plus value bytes held (what data_budget_size limits). */
size_t kv_store_data_size(const struct kv_store *s);
size_t kv_store_client_count(const struct kv_store *s);

/*
 * Digest of the replicated state: every (key, value, mod_index), every dedupe entry (client,
 * highest seq, last index, cached result) and applied_index. Entries are hashed one by one with
 * XXH3-128 and added (mod 2^128), so the digest is independent of insertion history, memory
 * layout and index_seed: equal contents give equal digests. O(1): the sums are kept up to date.
 */
struct base_hash128 kv_store_digest(const struct kv_store *s);

enum kv_notify_type {
	KV_NOTIFY_PUT = 1,
	KV_NOTIFY_REMOVE = 2,
};

/*
 * One change. log_index: the mod index of the write (for PUT) or the log index that removed
 * the key (REMOVE; for a restore, the snapshot's applied index). has_old: the key existed
 * before; old_value and old_mod_index then describe it. value: the new value (PUT only).
 * All pointers borrow the store: valid until the next kv_store_apply or restore call.
 */
struct kv_notification {
	enum kv_notify_type type;
	uint64_t log_index;
	const uint8_t *key;
	size_t key_size;
	int has_old;
	const uint8_t *old_value;
	size_t old_value_size;
	uint64_t old_mod_index;
	const uint8_t *value;
	size_t value_size;
};

/* Takes the oldest queued notification: returns 1 and fills *out, or 0 when none is left. */
int kv_store_notify_next(struct kv_store *s, struct kv_notification *out);
/* Notifications queued and not yet taken. */
size_t kv_store_notify_pending(const struct kv_store *s);

/*
 * Snapshots (R10 state transfer). Layout:
 *
 *   header: u32 magic KV_SNAPSHOT_MAGIC, u16 version, u16 reserved (0), u64 body_size,
 *           u64 checksum (XXH3-64, seed 0, over the body)
 *   body:   u64 applied_index, u32 entry_count, u32 client_count,
 *           entry_count x { blob key, u64 mod_index, blob value }     strictly ascending keys
 *           client_count x { u64 client_id, u64 highest_seq, u64 last_index, blob result }
 *                                                                    strictly ascending ids
 *
 * Keys compare as bytes (memcmp), a prefix before its extensions. Snapshots are canonical:
 * equal states encode to equal bytes, and every body that restores re-encodes to itself.
 */
#define KV_SNAPSHOT_MAGIC       0x53564b41u /* "AKVS" little endian */
#define KV_SNAPSHOT_VERSION     1
#define KV_SNAPSHOT_HEADER_SIZE 24

/* Exact bytes of kv_store_snapshot_encode's output; O(1). Lets a caller size a buffer or plan
 * chunks before encoding. */
size_t kv_store_snapshot_size(const struct kv_store *s);

/*
 * Encodes the whole state into buf (borrowed). Errors: -ENOBUFS when capacity <
 * kv_store_snapshot_size(s). Ordering uses the store's scratch space, hence the non-const store;
 * the replicated state is not changed. Cost: O(keys + clients log clients) (keys come from the
 * key-order index, clients are sorted).
 */
AE_MUST_CHECK int kv_store_snapshot_encode(struct kv_store *s, uint8_t *buf, size_t capacity,
					   size_t *out_size);

/*
 * Checks a whole snapshot's header and checksum and points *body at its body (borrowing snap).
 * Errors: -BASE_ERR_TRUNCATED (shorter than the header or the declared body), -EBADMSG (magic
 * or reserved field), -BASE_ERR_VERSION, -BASE_ERR_TRAILING (bytes after the body),
 * -BASE_ERR_CHECKSUM. Kept apart from the body decoder so a fuzzer reaches the body.
 */
AE_MUST_CHECK int kv_snapshot_verify(const uint8_t *snap, size_t size, const uint8_t **body,
				     size_t *body_size);

/*
 * Restore, in three steps, so that the caller sees what changes while the old state is still
 * there and no queue has to hold a whole store's worth of notifications:
 *
 *   kv_store_restore_begin(s, body, size)   decodes and checks the whole body (a verified one:
 *                                           kv_snapshot_verify) against s's limits; changes
 *                                           nothing. The body stays borrowed until commit or
 *                                           abort.
 *   while (kv_store_restore_next(s, &n))    the difference old -> new in ascending key order:
 *                                           PUT for new or changed keys (has_old for changed
 *                                           ones; changed = value or mod index differs),
 *                                           REMOVE for vanished keys. Optional.
 *   kv_store_restore_commit(s)              replaces the whole state (entries, dedupe table,
 *                                           applied_index). Cannot fail.
 *
 * or kv_store_restore_abort(s) to drop it. Notifications already queued stay queued (drain them
 * first to keep order). While a restore is open, only restore_next/commit/abort and the read
 * functions may be called. begin errors (state unchanged): -BASE_ERR_TRUNCATED,
 * -BASE_ERR_TRAILING, -EBADMSG (bad ordering, empty key, mod or last index 0 or above the
 * applied index, bad cached result), -BASE_ERR_TOO_LONG (a key, value or result over s's
 * limits), -BASE_ERR_FULL (more keys, clients or data than s holds). Cost: O(n log n).
 */
AE_MUST_CHECK int kv_store_restore_begin(struct kv_store *s, const uint8_t *body, size_t body_size);
int kv_store_restore_next(struct kv_store *s, struct kv_notification *out);
void kv_store_restore_commit(struct kv_store *s);
void kv_store_restore_abort(struct kv_store *s);

/*
 * Recomputes every derived fact (index, sums, counts, dedupe order, arena) and compares; 0 when
 * consistent, -EFAULT otherwise. O(n); for tests, fuzzers and the simulator.
 */
AE_MUST_CHECK int kv_store_check(const struct kv_store *s);

/* One summary line (counts, bytes, applied index, digest) to f. Control thread. */
void kv_store_dump(const struct kv_store *s, FILE *f);

#endif /* AETHER_CONSENSUS_KV_STORE_H */
