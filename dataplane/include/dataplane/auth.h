/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Frame authentication and replay protection (rabia.md section 3d): every frame between nodes
 * carries an AES-128-GMAC tag (AES-128-GCM with our header and the body as associated data and
 * an empty plaintext) under a key of its directed link, and every receiver rejects frames it
 * has already accepted.
 *
 * Keys. K(from -> to) = HKDF-SHA256(ikm = cluster secret, no salt,
 *   info = "aether" || cluster_id (u64 LE) || epoch (u64 LE) || from (u32 LE) || to (u32 LE)),
 * 16 bytes. A key therefore belongs to one cluster, one epoch and one direction of one link: a
 * frame replayed into another link, epoch or cluster fails the tag check.
 *
 * Nonces. nonce = incarnation (u32 LE) || counter (u64 LE), 12 bytes: the sender's incarnation
 * (bumped and persisted on every restart by the node) and a per-link counter that starts at 1.
 * A (key, nonce) pair is never used twice as long as incarnations never repeat; the node owns
 * that promise. Both fields are in the authenticated header.
 *
 * Replay window (struct dp_replay, per peer): the peer's incarnation, the highest counter
 * accepted and a 1024-entry sliding bitmap. An older incarnation is rejected; a newer one
 * (authenticated) resets the window; within one incarnation a counter is accepted once, in
 * any order, while it is less than DP_REPLAY_WINDOW below the highest. The window is updated
 * only after the tag verified, so forged frames cannot move it.
 *
 * Authentication is on by default. `is_disabled` turns it off explicitly (benchmarks against
 * unauthenticated peers, debugging); create then logs a warning, seal leaves the tag zero and
 * the flag clear, and open only checks cluster, epoch, receiver and sender. A receiver with
 * authentication on rejects unauthenticated frames, so a mixed cluster fails loudly (counted as
 * `unauthenticated`).
 *
 * Cost: seal and open are one GMAC each, no allocation: per frame one AES block and the GHASH
 * of header and body, through OpenSSL's GCM mode functions rather than the EVP AEAD interface,
 * whose per-frame parameter handling cost more than the GMAC (auth.c, struct auth_gmac).
 * Measured on the 2-vCPU EPYC guest (2026-11-27): seal about 0.13 us and open 0.1 us for a
 * 64-byte body, 0.17 to 0.22 and 0.14 to 0.17 us for 200 bytes, 1.2 to 1.5 us for 8000 bytes
 * (the EVP path took 0.37 / 0.31 us for 64 bytes). Create allocates (OpenSSL contexts) and
 * belongs before base_alloc_seal(). Context: one owner thread (the lcore that runs the env);
 * not thread-safe.
 */
#ifndef AETHER_DATAPLANE_AUTH_H
#define AETHER_DATAPLANE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/log.h"
#include "dataplane/frame.h"

/* Peers one node authenticates with (matches env_posix's peer table). */
#define DP_AUTH_PEERS_MAX  16u
#define DP_AUTH_KEY_SIZE   16u
#define DP_AUTH_NONCE_SIZE 12u
#define DP_AUTH_SECRET_MIN 16u
#define DP_AUTH_SECRET_MAX 64u
/* Counters accepted below the highest one (any order, each once). */
#define DP_REPLAY_WINDOW   1024u
/* The bitmap has one 64-bit block more than the window, so that every counter in the window
 * has its own bit even when the window is not aligned to 64 (after RFC 6479). */
#define DP_REPLAY_BLOCKS   (DP_REPLAY_WINDOW / 64u + 1u)

/* ---- replay window (pure) ---- */

struct dp_replay {
	bool has_seen;        /* false until the first accepted frame */
	uint32_t incarnation; /* of the peer, from its last accepted frame */
	uint64_t highest;     /* highest counter accepted in that incarnation */
	uint64_t blocks[DP_REPLAY_BLOCKS];
};

enum dp_replay_verdict {
	DP_REPLAY_FRESH = 0,             /* accept (same incarnation, or the first frame ever) */
	DP_REPLAY_NEW_INCARNATION = 1,   /* accept; the window restarts for the new incarnation */
	DP_REPLAY_DUPLICATE = 2,         /* already accepted */
	DP_REPLAY_TOO_OLD = 3,           /* at least DP_REPLAY_WINDOW below the highest */
	DP_REPLAY_STALE_INCARNATION = 4, /* from an incarnation older than the current one */
};

/* Empties the window (no frame seen). */
void dp_replay_init(struct dp_replay *r);
/* Classifies (incarnation, counter) without changing anything. counter 0 is never fresh. */
enum dp_replay_verdict dp_replay_check(const struct dp_replay *r, uint32_t incarnation,
				       uint64_t counter);
/* Records an accepted frame. Only after dp_replay_check said FRESH or NEW_INCARNATION for the
 * same pair (asserted). */
void dp_replay_commit(struct dp_replay *r, uint32_t incarnation, uint64_t counter);

/* ---- keys ---- */

/*
 * Derives K(from -> to) into key (DP_AUTH_KEY_SIZE bytes) as described above. secret is
 * borrowed. Returns 0, -EINVAL when secret_size is outside [DP_AUTH_SECRET_MIN,
 * DP_AUTH_SECRET_MAX], or -EIO when OpenSSL fails.
 */
AE_MUST_CHECK int dp_auth_derive_key(const uint8_t *secret, size_t secret_size, uint64_t cluster_id,
				     uint64_t epoch, uint32_t from, uint32_t to,
				     uint8_t key[DP_AUTH_KEY_SIZE]);

/* ---- per-node authenticator ---- */

struct dp_auth_config {
	uint64_t cluster_id;
	uint64_t epoch;
	uint32_t self_id;
	uint32_t incarnation; /* this node's; the node persists and bumps it on every start */
	/* The cluster secret (borrowed for the call; only derived keys are kept). NULL is allowed
	 * when is_disabled. */
	const uint8_t *secret;
	size_t secret_size;
	uint32_t peer_ids[DP_AUTH_PEERS_MAX]; /* distinct, none equal to self_id */
	size_t peer_count;
	bool is_disabled; /* explicit "auth off" (logged at create) */
	struct base_log log;
};

/* Counters, only ever incremented. Each rejection reason has its own. */
struct dp_auth_stats {
	uint64_t sealed_count;            /* frames stamped for sending */
	uint64_t accepted_count;          /* frames that passed open */
	uint64_t forged_count;            /* tag did not verify (forged, corrupted, wrong key) */
	uint64_t replayed_count;          /* counter already accepted */
	uint64_t too_old_count;           /* counter below the window */
	uint64_t stale_incarnation_count; /* sender incarnation older than the one we know */
	uint64_t foreign_count;           /* other cluster or epoch, or not addressed to us */
	uint64_t unknown_sender_count;    /* sender is not a configured peer */
	uint64_t unauthenticated_count;   /* auth flag clear while authentication is on */
	uint64_t new_incarnation_count;   /* peers seen restarting (accepted) */
};

struct dp_auth;

/*
 * Validates cfg (borrowed), derives both keys of every link (self -> peer, peer -> self) and
 * prepares one GCM context per key. On success *out is the new authenticator (destroy with
 * dp_auth_destroy). Errors: -EINVAL (secret missing or outside the size bounds while
 * enabled, peer_count over DP_AUTH_PEERS_MAX, a duplicate peer, a peer equal to self_id),
 * -ENOMEM, -EIO (OpenSSL failed). Startup only.
 */
AE_MUST_CHECK int dp_auth_create(const struct dp_auth_config *cfg, struct dp_auth **out);
/* Frees the contexts after wiping the keys. NULL is allowed. */
void dp_auth_destroy(struct dp_auth *a);

/* Whether authentication is on (false only when the config said is_disabled). */
bool dp_auth_is_enabled(const struct dp_auth *a);

/*
 * Fills the identity of a frame to peer_id into *h: cluster id, epoch, sender, receiver,
 * incarnation, the link's next counter and the auth flag (type is left to the caller).
 * Returns 0, -ENOENT for an unknown peer, -EOVERFLOW when the link's counter is exhausted
 * (2^64 - 1 frames: restart with a new incarnation).
 */
AE_MUST_CHECK int dp_auth_stamp(struct dp_auth *a, uint32_t peer_id, struct dp_frame_header *h);

/*
 * Writes the tag of an encoded frame (frame, size: output of dp_frame_encode for a header
 * from dp_auth_stamp; borrowed and modified in place). With authentication off it does
 * nothing. Returns 0, -EBADMSG when the bytes are not a frame we encoded, -ENOENT when its
 * receiver is not a peer, -EIO when OpenSSL fails.
 */
AE_MUST_CHECK int dp_auth_seal(struct dp_auth *a, uint8_t *frame, size_t size);

/*
 * Decides whether a decoded frame (view borrowed) may be delivered, and if so records it in
 * the sender's replay window. Returns 0, or (each counted in the stats):
 *  -EXDEV    other cluster or epoch, or receiver is not this node (foreign);
 *  -ENOENT   the sender is not a configured peer;
 *  -EPERM    the auth flag is clear while authentication is on;
 *  -EACCES   the tag does not verify (forged, corrupted, another key);
 *  -EALREADY the counter was already accepted (replay or duplicate);
 *  -ESTALE   the counter is below the window, or the incarnation is older than the known one.
 */
AE_MUST_CHECK int dp_auth_open(struct dp_auth *a, const struct dp_frame_view *v);

/* Copies the counters into *out. */
void dp_auth_stats_get(const struct dp_auth *a, struct dp_auth_stats *out);

/* One human-readable block: mode, peers with their windows, counters. */
void dp_auth_dump(const struct dp_auth *a, FILE *out);

#endif /* AETHER_DATAPLANE_AUTH_H */
