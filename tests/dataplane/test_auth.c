/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: a frame is accepted only when its tag verifies under the key of its directed link,
 * cluster and epoch, and only once: forged tags, wrong keys, other epochs or clusters, frames
 * for someone else, unknown senders, replays, frames below the window and frames from an older
 * incarnation are rejected and each is counted under its own reason; reordering inside the
 * window is fine; a restarted sender (new incarnation) is accepted. The wire format does not
 * drift: tags match a recorded vector and, over thousands of frames through the same long-lived
 * contexts, a fresh textbook AES-128-GCM computation (itself checked against a NIST vector).
 * Method: real OpenSSL GMAC between authenticators built like two nodes; the replay window is
 * also checked alone against a naive reference model over seeded random counter sequences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/bytes.h"
#include "base/prng.h"
#include "dataplane/auth.h"

#define SECRET       "correct horse battery staple!!"
#define OTHER_SECRET "incorrect horse battery staple!"
#define CLUSTER      0xc1u
#define EPOCH        3u

struct frame {
	uint8_t buf[DP_FRAME_SIZE_MAX];
	size_t size;
};

struct fixture {
	struct dp_auth *a1; /* node 1: peers 2 and 3 */
	struct dp_auth *a2; /* node 2: peers 1 and 3 */
	char log_text[1024];
};

static void
capture_log(void *ctx, enum base_log_level level, const char *line)
{
	struct fixture *f = ctx;
	size_t used = strlen(f->log_text);

	(void)level;
	if (used + strlen(line) + 2 < sizeof(f->log_text)) {
		memcpy(f->log_text + used, line, strlen(line));
		memcpy(f->log_text + used + strlen(line), "\n", 2);
	}
}

static struct dp_auth *
make_auth(struct fixture *f, const char *secret, uint64_t cluster, uint64_t epoch, uint32_t self,
	  uint32_t incarnation, const uint32_t *peers, size_t peer_count, bool is_disabled)
{
	struct dp_auth_config c;
	struct dp_auth *a = NULL;

	memset(&c, 0, sizeof(c));
	c.cluster_id = cluster;
	c.epoch = epoch;
	c.self_id = self;
	c.incarnation = incarnation;
	c.secret = (const uint8_t *)secret;
	c.secret_size = secret != NULL ? strlen(secret) : 0;
	c.peer_count = peer_count;
	memcpy(c.peer_ids, peers, peer_count * sizeof(peers[0]));
	c.is_disabled = is_disabled;
	base_log_init(&c.log, capture_log, f, BASE_LOG_DEBUG);
	assert_int_equal(dp_auth_create(&c, &a), 0);
	return a;
}

static int
setup(void **state)
{
	static struct fixture f;
	static const uint32_t p1[] = {2, 3};
	static const uint32_t p2[] = {1, 3};

	memset(&f, 0, sizeof(f));
	f.a1 = make_auth(&f, SECRET, CLUSTER, EPOCH, 1, 1, p1, 2, false);
	f.a2 = make_auth(&f, SECRET, CLUSTER, EPOCH, 2, 1, p2, 2, false);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	dp_auth_destroy(f->a1);
	dp_auth_destroy(f->a2);
	return 0;
}

/* A sealed frame from `from` (the authenticator) to peer `to` with a short body. */
static void
seal(struct dp_auth *from, uint32_t to, const char *body, struct frame *out)
{
	struct dp_frame_header h = {.type = DP_FRAME_TYPE_DATA};
	struct dp_frame_endpoint src;
	struct dp_frame_endpoint dst;

	dp_frame_endpoint_default(1, &src);
	dp_frame_endpoint_default(to, &dst);
	assert_int_equal(dp_auth_stamp(from, to, &h), 0);
	assert_int_equal(dp_frame_encode(&src, &dst, &h, (const uint8_t *)body, strlen(body),
					 out->buf, sizeof(out->buf), &out->size),
			 0);
	assert_int_equal(dp_auth_seal(from, out->buf, out->size), 0);
}

static int
open_frame(struct dp_auth *to, const struct frame *fr)
{
	struct dp_frame_view v;

	assert_int_equal(dp_frame_decode(fr->buf, fr->size, &v), 0);
	return dp_auth_open(to, &v);
}

static struct dp_auth_stats
stats(const struct dp_auth *a)
{
	struct dp_auth_stats s;

	dp_auth_stats_get(a, &s);
	return s;
}

static void
test_auth_sealed_frame_is_accepted_once(void **state)
{
	struct fixture *f = *state;
	struct frame fr;

	seal(f->a1, 2, "hello", &fr);
	assert_int_equal(open_frame(f->a2, &fr), 0);
	assert_int_equal(open_frame(f->a2, &fr), -EALREADY);
	assert_int_equal(stats(f->a2).accepted_count, 1);
	assert_int_equal(stats(f->a2).replayed_count, 1);
	assert_int_equal(stats(f->a1).sealed_count, 1);
}

static void
test_auth_forged_tag_is_rejected_and_does_not_move_the_window(void **state)
{
	struct fixture *f = *state;
	struct frame fr;

	seal(f->a1, 2, "hello", &fr);
	fr.buf[fr.size - 1] ^= 0x01;
	assert_int_equal(open_frame(f->a2, &fr), -EACCES);
	fr.buf[fr.size - 1] ^= 0x01; /* the genuine frame with the same counter still opens */
	assert_int_equal(open_frame(f->a2, &fr), 0);
	assert_int_equal(stats(f->a2).forged_count, 1);
}

static void
test_auth_changed_body_or_header_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct frame fr;
	const size_t incarnation_at = DP_FRAME_HEADER_OFFSET + 32u;

	seal(f->a1, 2, "hello", &fr);
	fr.buf[DP_FRAME_HEADER_OFFSET + DP_FRAME_HEADER_SIZE] ^= 0x20; /* body */
	assert_int_equal(open_frame(f->a2, &fr), -EACCES);
	seal(f->a1, 2, "hello", &fr);
	fr.buf[incarnation_at] ^= 0x01; /* header field covered by the tag */
	assert_int_equal(open_frame(f->a2, &fr), -EACCES);
	assert_int_equal(stats(f->a2).forged_count, 2);
	assert_int_equal(stats(f->a2).accepted_count, 0);
}

static void
test_auth_wrong_secret_is_rejected(void **state)
{
	struct fixture *f = *state;
	static const uint32_t peers[] = {2};
	struct dp_auth *bad = make_auth(f, OTHER_SECRET, CLUSTER, EPOCH, 1, 1, peers, 1, false);
	struct frame fr;

	seal(bad, 2, "hello", &fr);
	assert_int_equal(open_frame(f->a2, &fr), -EACCES);
	assert_int_equal(stats(f->a2).forged_count, 1);
	dp_auth_destroy(bad);
}

static void
test_auth_other_epoch_or_cluster_is_foreign_and_relabelling_is_forged(void **state)
{
	struct fixture *f = *state;
	static const uint32_t peers[] = {2};
	struct dp_auth *old_epoch = make_auth(f, SECRET, CLUSTER, EPOCH - 1, 1, 1, peers, 1, false);
	struct dp_auth *other = make_auth(f, SECRET, CLUSTER + 1, EPOCH, 1, 1, peers, 1, false);
	struct frame fr;

	seal(old_epoch, 2, "hello", &fr);
	assert_int_equal(open_frame(f->a2, &fr), -EXDEV);
	/* Relabel the epoch: the header now matches, but the key was the old epoch's. */
	base_store_le64(fr.buf + DP_FRAME_HEADER_OFFSET + 16u, EPOCH);
	assert_int_equal(open_frame(f->a2, &fr), -EACCES);
	seal(other, 2, "hello", &fr);
	assert_int_equal(open_frame(f->a2, &fr), -EXDEV);
	base_store_le64(fr.buf + DP_FRAME_HEADER_OFFSET + 8u, CLUSTER);
	assert_int_equal(open_frame(f->a2, &fr), -EACCES);
	assert_int_equal(stats(f->a2).foreign_count, 2);
	assert_int_equal(stats(f->a2).forged_count, 2);
	dp_auth_destroy(old_epoch);
	dp_auth_destroy(other);
}

static void
test_auth_frame_for_another_node_or_from_a_stranger_is_rejected(void **state)
{
	struct fixture *f = *state;
	static const uint32_t peers[] = {2};
	struct dp_auth *stranger = make_auth(f, SECRET, CLUSTER, EPOCH, 4, 1, peers, 1, false);
	struct frame fr;

	seal(f->a1, 3, "for node 3", &fr);
	assert_int_equal(open_frame(f->a2, &fr), -EXDEV);
	seal(stranger, 2, "hello", &fr);
	assert_int_equal(open_frame(f->a2, &fr), -ENOENT);
	assert_int_equal(stats(f->a2).foreign_count, 1);
	assert_int_equal(stats(f->a2).unknown_sender_count, 1);
	dp_auth_destroy(stranger);
}

static void
test_auth_reordered_frames_inside_the_window_are_accepted_once(void **state)
{
	struct fixture *f = *state;
	static struct frame fr[40];

	for (size_t i = 0; i < AE_ARRAY_SIZE(fr); i++) {
		seal(f->a1, 2, "burst", &fr[i]);
	}
	for (size_t i = AE_ARRAY_SIZE(fr); i-- > 0;) {
		assert_int_equal(open_frame(f->a2, &fr[i]), 0);
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(fr); i++) {
		assert_int_equal(open_frame(f->a2, &fr[i]), -EALREADY);
	}
	assert_int_equal(stats(f->a2).accepted_count, AE_ARRAY_SIZE(fr));
	assert_int_equal(stats(f->a2).replayed_count, AE_ARRAY_SIZE(fr));
}

static void
test_auth_frame_below_the_window_is_too_old(void **state)
{
	struct fixture *f = *state;
	struct frame kept;
	struct frame fr;

	seal(f->a1, 2, "late", &kept); /* counter 1, held back */
	for (unsigned i = 0; i < DP_REPLAY_WINDOW; i++) {
		seal(f->a1, 2, "x", &fr); /* counters 2 .. 1025 */
		assert_int_equal(open_frame(f->a2, &fr), 0);
	}
	assert_int_equal(open_frame(f->a2, &kept), -ESTALE);
	assert_int_equal(stats(f->a2).too_old_count, 1);
}

static void
test_auth_new_incarnation_resets_the_window_and_old_one_is_stale(void **state)
{
	struct fixture *f = *state;
	static const uint32_t peers[] = {2};
	struct dp_auth *restarted = make_auth(f, SECRET, CLUSTER, EPOCH, 1, 2, peers, 1, false);
	struct frame before;
	struct frame late;
	struct frame after;

	seal(f->a1, 2, "before", &before);
	seal(f->a1, 2, "late", &late);
	assert_int_equal(open_frame(f->a2, &before), 0);
	seal(restarted, 2, "after", &after); /* counter 1 again, incarnation 2 */
	assert_int_equal(open_frame(f->a2, &after), 0);
	assert_int_equal(open_frame(f->a2, &late), -ESTALE); /* never seen, but incarnation 1 */
	assert_int_equal(open_frame(f->a2, &after), -EALREADY);
	assert_int_equal(stats(f->a2).new_incarnation_count, 1);
	assert_int_equal(stats(f->a2).stale_incarnation_count, 1);
	assert_non_null(strstr(f->log_text, "incarnation 1 -> 2"));
	dp_auth_destroy(restarted);
}

static void
test_auth_unauthenticated_frame_is_rejected_when_auth_is_on(void **state)
{
	struct fixture *f = *state;
	static const uint32_t peers[] = {2};
	struct dp_auth *off = make_auth(f, NULL, CLUSTER, EPOCH, 1, 1, peers, 1, true);
	struct frame fr;

	assert_false(dp_auth_is_enabled(off));
	assert_non_null(strstr(f->log_text, "authentication is OFF"));
	seal(off, 2, "plain", &fr);
	for (size_t i = 0; i < DP_FRAME_TAG_SIZE; i++) {
		assert_int_equal(fr.buf[fr.size - DP_FRAME_TAG_SIZE + i], 0);
	}
	assert_int_equal(open_frame(f->a2, &fr), -EPERM);
	assert_int_equal(stats(f->a2).unauthenticated_count, 1);
	dp_auth_destroy(off);
}

static void
test_auth_off_on_both_sides_accepts_without_checks(void **state)
{
	struct fixture *f = *state;
	static const uint32_t to2[] = {2};
	static const uint32_t to1[] = {1};
	struct dp_auth *off1 = make_auth(f, NULL, CLUSTER, EPOCH, 1, 1, to2, 1, true);
	struct dp_auth *off2 = make_auth(f, NULL, CLUSTER, EPOCH, 2, 1, to1, 1, true);
	struct frame fr;

	seal(off1, 2, "plain", &fr);
	assert_int_equal(open_frame(off2, &fr), 0);
	assert_int_equal(open_frame(off2, &fr), 0); /* off means off: no replay window either */
	dp_auth_destroy(off1);
	dp_auth_destroy(off2);
}

static void
test_auth_create_rejects_bad_configs(void **state)
{
	struct dp_auth_config c;
	struct dp_auth *a = NULL;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.self_id = 1;
	c.secret = (const uint8_t *)SECRET;
	c.secret_size = DP_AUTH_SECRET_MIN - 1;
	assert_int_equal(dp_auth_create(&c, &a), -EINVAL);
	assert_null(a);
	c.secret_size = DP_AUTH_SECRET_MAX + 1;
	assert_int_equal(dp_auth_create(&c, &a), -EINVAL);
	c.secret_size = strlen(SECRET);
	c.peer_count = 1;
	c.peer_ids[0] = 1; /* self */
	assert_int_equal(dp_auth_create(&c, &a), -EINVAL);
	c.peer_count = 2;
	c.peer_ids[0] = 5;
	c.peer_ids[1] = 5;
	assert_int_equal(dp_auth_create(&c, &a), -EINVAL);
	c.peer_count = DP_AUTH_PEERS_MAX + 1;
	assert_int_equal(dp_auth_create(&c, &a), -EINVAL);
}

static void
test_auth_stamp_counts_per_link_and_refuses_strangers(void **state)
{
	struct fixture *f = *state;
	struct dp_frame_header h;

	assert_int_equal(dp_auth_stamp(f->a1, 9, &h), -ENOENT);
	for (uint64_t i = 1; i <= 3; i++) {
		assert_int_equal(dp_auth_stamp(f->a1, 2, &h), 0);
		assert_true(h.counter == i);
	}
	assert_int_equal(dp_auth_stamp(f->a1, 3, &h), 0);
	assert_true(h.counter == 1);
	assert_int_equal(h.sender, 1);
	assert_int_equal(h.receiver, 3);
	assert_int_equal(h.flags, DP_FRAME_FLAG_AUTH);
	assert_true(h.cluster_id == CLUSTER && h.epoch == EPOCH && h.incarnation == 1);
}

static void
test_auth_keys_differ_per_direction_epoch_and_cluster(void **state)
{
	const uint8_t *s = (const uint8_t *)SECRET;
	size_t n = strlen(SECRET);
	uint8_t k[6][DP_AUTH_KEY_SIZE];
	uint8_t again[DP_AUTH_KEY_SIZE];

	(void)state;
	assert_int_equal(dp_auth_derive_key(s, n, 1, 1, 1, 2, k[0]), 0);
	assert_int_equal(dp_auth_derive_key(s, n, 1, 1, 2, 1, k[1]), 0);
	assert_int_equal(dp_auth_derive_key(s, n, 1, 2, 1, 2, k[2]), 0);
	assert_int_equal(dp_auth_derive_key(s, n, 2, 1, 1, 2, k[3]), 0);
	assert_int_equal(dp_auth_derive_key(s, n, 1, 1, 1, 3, k[4]), 0);
	assert_int_equal(dp_auth_derive_key(s, n - 1, 1, 1, 1, 2, k[5]), 0);
	for (size_t i = 0; i < 6; i++) {
		for (size_t j = 0; j < i; j++) {
			assert_memory_not_equal(k[i], k[j], DP_AUTH_KEY_SIZE);
		}
	}
	assert_int_equal(dp_auth_derive_key(s, n, 1, 1, 1, 2, again), 0);
	assert_memory_equal(again, k[0], DP_AUTH_KEY_SIZE);
	assert_int_equal(dp_auth_derive_key(s, 15, 1, 1, 1, 2, again), -EINVAL);
	assert_int_equal(dp_auth_derive_key(NULL, 20, 1, 1, 1, 2, again), -EINVAL);
}

/* ---- the tags on the wire ---- */

/*
 * The textbook GMAC: AES-128-GCM through a fresh EVP context per call, the associated data
 * only, the tag read at the end. auth.c must give the same tags through its long-lived ones.
 */
static void
reference_gmac(const uint8_t key[DP_AUTH_KEY_SIZE], const uint8_t nonce[DP_AUTH_NONCE_SIZE],
	       const uint8_t *aad, size_t aad_size, uint8_t tag[DP_FRAME_TAG_SIZE])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t none[16];
	int len = 0;

	assert_non_null(ctx);
	assert_true(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) > 0);
	assert_true(EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_size) > 0);
	assert_true(EVP_EncryptFinal_ex(ctx, none, &len) > 0);
	assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)DP_FRAME_TAG_SIZE, tag) >
		    0);
	EVP_CIPHER_CTX_free(ctx);
}

static void
test_auth_reference_gmac_matches_the_nist_vector(void **state)
{
	/* NIST CAVP gcmEncryptExtIV128.rsp: Keylen 128, IVlen 96, PTlen 0, AADlen 128, Count 0. */
	static const uint8_t key[] = {0x77, 0xbe, 0x63, 0x70, 0x89, 0x71, 0xc4, 0xe2,
				      0x40, 0xd1, 0xcb, 0x79, 0xe8, 0xd7, 0x7f, 0xeb};
	static const uint8_t iv[] = {0xe0, 0xe0, 0x0f, 0x19, 0xfe, 0xd7,
				     0xba, 0x01, 0x36, 0xa7, 0x97, 0xf3};
	static const uint8_t aad[] = {0x7a, 0x43, 0xec, 0x1d, 0x9c, 0x0a, 0x5a, 0x78,
				      0xa0, 0xb1, 0x65, 0x33, 0xa6, 0x21, 0x3c, 0xab};
	static const uint8_t want[] = {0x20, 0x9f, 0xcc, 0x8d, 0x36, 0x75, 0xed, 0x93,
				       0x8e, 0x9c, 0x71, 0x66, 0x70, 0x9d, 0xd9, 0x46};
	uint8_t tag[DP_FRAME_TAG_SIZE];

	(void)state;
	reference_gmac(key, iv, aad, sizeof(aad), tag);
	assert_memory_equal(tag, want, sizeof(want));
}

/* A sealed frame to `to` carrying body_size bytes of body; its decoded view into *v. */
static void
seal_bytes(struct dp_auth *from, uint32_t to, const uint8_t *body, size_t body_size,
	   struct frame *out, struct dp_frame_view *v)
{
	struct dp_frame_header h = {.type = DP_FRAME_TYPE_DATA};
	struct dp_frame_endpoint src;
	struct dp_frame_endpoint dst;

	dp_frame_endpoint_default(1, &src);
	dp_frame_endpoint_default(to, &dst);
	assert_int_equal(dp_auth_stamp(from, to, &h), 0);
	assert_int_equal(dp_frame_encode(&src, &dst, &h, body, body_size, out->buf,
					 sizeof(out->buf), &out->size),
			 0);
	assert_int_equal(dp_auth_seal(from, out->buf, out->size), 0);
	assert_int_equal(dp_frame_decode(out->buf, out->size, v), 0);
}

static void
test_auth_tags_of_fixed_frames_match_the_recorded_vectors(void **state)
{
	/* Recorded from the implementation that ran EVP AES-128-GCM per frame: node 1,
	 * incarnation 7, to node 2, counters 1 to 3, SECRET, CLUSTER, EPOCH, this body. The
	 * vectors pin key derivation, nonce layout and the associated data. */
	static const uint8_t want[3][DP_FRAME_TAG_SIZE] = {
		{0xf3, 0xc8, 0xcc, 0x19, 0x25, 0xf3, 0xb0, 0x57, 0xc4, 0xd7, 0xa5, 0x02, 0x4c, 0xd5,
		 0xb6, 0x27},
		{0x0b, 0x53, 0xbd, 0x60, 0xa5, 0x68, 0xdd, 0x20, 0x7f, 0xb2, 0xaf, 0x43, 0x91, 0x6e,
		 0xfd, 0x2a},
		{0x04, 0x02, 0xde, 0x38, 0x2b, 0x08, 0xce, 0xd9, 0x28, 0xcf, 0x22, 0x25, 0x70, 0x9f,
		 0x0b, 0xaa},
	};
	static const char body[] = "Rabia, a fixed test frame";
	static const uint32_t peers[] = {2};
	struct fixture *f = *state;
	struct dp_auth *a = make_auth(f, SECRET, CLUSTER, EPOCH, 1, 7, peers, 1, false);
	struct dp_frame_view v;
	struct frame fr;

	for (size_t i = 0; i < AE_ARRAY_SIZE(want); i++) {
		seal_bytes(a, 2, (const uint8_t *)body, strlen(body), &fr, &v);
		assert_int_equal(v.header.counter, i + 1);
		assert_memory_equal(v.tag, want[i], DP_FRAME_TAG_SIZE);
		assert_int_equal(dp_auth_open(f->a2, &v), 0);
	}
	dp_auth_destroy(a);
}

/* The tag of v as the textbook GMAC computes it under K(sender -> receiver). */
static void
assert_tag_is_reference(const struct dp_frame_view *v)
{
	uint8_t key[DP_AUTH_KEY_SIZE];
	uint8_t nonce[DP_AUTH_NONCE_SIZE];
	uint8_t tag[DP_FRAME_TAG_SIZE];

	assert_int_equal(dp_auth_derive_key((const uint8_t *)SECRET, strlen(SECRET), CLUSTER, EPOCH,
					    v->header.sender, v->header.receiver, key),
			 0);
	base_store_le32(&nonce[0], v->header.incarnation);
	base_store_le64(&nonce[4], v->header.counter);
	reference_gmac(key, nonce, v->aad, v->aad_size, tag);
	assert_memory_equal(v->tag, tag, DP_FRAME_TAG_SIZE);
}

static void
test_auth_contexts_reused_across_many_frames_give_the_reference_tags(void **state)
{
	static const uint32_t p3[] = {1, 2};
	static uint8_t body[DP_FRAME_BODY_MAX];
	struct fixture *f = *state;
	struct dp_auth *a3 = make_auth(f, SECRET, CLUSTER, EPOCH, 3, 1, p3, 2, false);
	struct base_prng prng;
	struct dp_frame_view v;
	struct frame fr;

	base_prng_init(&prng, 4);
	for (size_t i = 0; i < sizeof(body); i++) {
		body[i] = (uint8_t)base_prng_next(&prng);
	}
	/* Both directions of two links, every body size class: empty, short (partial GHASH
	 * blocks), whole blocks, up to the largest frame; each frame is also opened. */
	for (int i = 0; i < 2000; i++) {
		size_t size = base_prng_chance(&prng, 50000)
				      ? (size_t)base_prng_below(&prng, DP_FRAME_BODY_MAX + 1)
				      : (size_t)base_prng_below(&prng, 300);
		struct dp_auth *from = i % 3 == 0 ? f->a1 : (i % 3 == 1 ? f->a2 : a3);
		struct dp_auth *to = i % 3 == 0 ? f->a2 : (i % 3 == 1 ? a3 : f->a1);
		uint32_t to_id = i % 3 == 0 ? 2u : (i % 3 == 1 ? 3u : 1u);

		seal_bytes(from, to_id, body, size, &fr, &v);
		assert_tag_is_reference(&v);
		if (dp_auth_open(to, &v) != 0) {
			fail_msg("frame %d (%zu bytes) rejected", i, size);
		}
	}
	assert_int_equal(stats(a3).accepted_count, 667);
	dp_auth_destroy(a3);
}

/* ---- the replay window alone ---- */

static void
test_replay_window_edges_are_exact(void **state)
{
	struct dp_replay r;

	(void)state;
	dp_replay_init(&r);
	assert_int_equal(dp_replay_check(&r, 1, 0), DP_REPLAY_TOO_OLD);
	dp_replay_commit(&r, 1, 5000);
	assert_int_equal(dp_replay_check(&r, 1, 5000 - (DP_REPLAY_WINDOW - 1)), DP_REPLAY_FRESH);
	assert_int_equal(dp_replay_check(&r, 1, 5000 - DP_REPLAY_WINDOW), DP_REPLAY_TOO_OLD);
	assert_int_equal(dp_replay_check(&r, 1, 5000), DP_REPLAY_DUPLICATE);
	assert_int_equal(dp_replay_check(&r, 1, 5001), DP_REPLAY_FRESH);
	assert_int_equal(dp_replay_check(&r, 0, 9999), DP_REPLAY_STALE_INCARNATION);
	assert_int_equal(dp_replay_check(&r, 2, 1), DP_REPLAY_NEW_INCARNATION);
	/* A jump far ahead leaves no stale bits behind in the reused blocks. */
	dp_replay_commit(&r, 1, 5000 + 17u * 64u);
	for (uint64_t c = 5000 + 17u * 64u - (DP_REPLAY_WINDOW - 1); c < 5000 + 17u * 64u; c++) {
		assert_int_equal(dp_replay_check(&r, 1, c), DP_REPLAY_FRESH);
	}
}

/* The naive model: a set of accepted counters (as a bitmap over a small range) and the top. */
static enum dp_replay_verdict
model_check(const uint8_t *seen, uint64_t highest, bool any, uint64_t c)
{
	if (!any || c > highest) {
		return DP_REPLAY_FRESH;
	}
	if (highest - c >= DP_REPLAY_WINDOW) {
		return DP_REPLAY_TOO_OLD;
	}
	return seen[c] ? DP_REPLAY_DUPLICATE : DP_REPLAY_FRESH;
}

static void
test_replay_window_matches_a_naive_model_on_random_sequences(void **state)
{
	enum { RANGE = 65536 };
	static uint8_t seen[RANGE];

	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct base_prng prng;
		struct dp_replay r;
		uint64_t highest = 0;
		bool any = false;

		base_prng_init(&prng, seed);
		dp_replay_init(&r);
		memset(seen, 0, sizeof(seen));
		for (int i = 0; i < 4000; i++) {
			/* Mostly near the top (reordering), sometimes far behind or far ahead. */
			uint64_t lo = highest > 1200 ? highest - 1200 : 1;
			uint64_t hi = highest + (base_prng_chance(&prng, 10000) ? 300 : 8);
			uint64_t c = base_prng_range(&prng, lo, hi < RANGE ? hi : RANGE - 1);
			enum dp_replay_verdict want = model_check(seen, highest, any, c);

			if (dp_replay_check(&r, 1, c) != want) {
				fail_msg("seed %llu step %d counter %llu", (unsigned long long)seed,
					 i, (unsigned long long)c);
			}
			if (want == DP_REPLAY_FRESH) {
				dp_replay_commit(&r, 1, c);
				seen[c] = 1;
				highest = c > highest ? c : highest;
				any = true;
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_sealed_frame_is_accepted_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_forged_tag_is_rejected_and_does_not_move_the_window, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_auth_changed_body_or_header_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_auth_wrong_secret_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_other_epoch_or_cluster_is_foreign_and_relabelling_is_forged,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_frame_for_another_node_or_from_a_stranger_is_rejected, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_reordered_frames_inside_the_window_are_accepted_once, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_auth_frame_below_the_window_is_too_old, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_new_incarnation_resets_the_window_and_old_one_is_stale, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_unauthenticated_frame_is_rejected_when_auth_is_on, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_auth_off_on_both_sides_accepts_without_checks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_create_rejects_bad_configs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_stamp_counts_per_link_and_refuses_strangers, setup, teardown),
		cmocka_unit_test(test_auth_keys_differ_per_direction_epoch_and_cluster),
		cmocka_unit_test(test_auth_reference_gmac_matches_the_nist_vector),
		cmocka_unit_test_setup_teardown(
			test_auth_tags_of_fixed_frames_match_the_recorded_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_auth_contexts_reused_across_many_frames_give_the_reference_tags, setup,
			teardown),
		cmocka_unit_test(test_replay_window_edges_are_exact),
		cmocka_unit_test(test_replay_window_matches_a_naive_model_on_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
