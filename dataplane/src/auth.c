/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/auth.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/modes.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/panic.h"

static_assert(DP_REPLAY_WINDOW % 64u == 0, "the window is whole blocks");
static_assert(DP_AUTH_NONCE_SIZE == 4u + 8u, "nonce = incarnation || counter");
static_assert(DP_FRAME_TAG_SIZE == 16u, "a full GCM tag");

#define KDF_LABEL      "aether"
#define KDF_LABEL_SIZE 6u
#define KDF_INFO_SIZE  (KDF_LABEL_SIZE + 8u + 8u + 4u + 4u)

/*
 * AES-128-GMAC under one link key: OpenSSL's GCM mode functions (CRYPTO_gcm128_*, modes.h)
 * with an EVP AES-128-ECB context as their block cipher. Why not EVP AES-128-GCM, which gives
 * the same tags: OpenSSL 3 routes every per-frame IV, tag get and tag set of an EVP AEAD
 * context through provider parameters (OSSL_PARAM construction and lookup), which cost about
 * three times the GMAC itself on our 100-byte frames. These are the same GHASH (PCLMULQDQ when
 * the CPU has it) and the same AES (AES-NI through EVP) without that layer. Per frame: one
 * AES block, E(K, nonce || 1), and the GHASH of the AAD; the key schedule and the GHASH key
 * H = E(K, 0) are computed once, at create.
 */
struct auth_gmac {
	EVP_CIPHER_CTX *aes; /* AES-128-ECB under the link key, no padding */
	GCM128_CONTEXT *gcm; /* H and the GHASH tables; calls gmac_block with this struct */
	/* The authenticator's is_block_failed: the block callback only gets a const key. */
	bool *is_block_failed;
};

struct auth_peer {
	uint32_t id;
	uint64_t tx_counter;     /* last counter used towards this peer */
	struct auth_gmac tx;     /* key K(self -> peer) */
	struct auth_gmac rx;     /* key K(peer -> self) */
	struct dp_replay replay; /* what we accepted from this peer */
};

struct dp_auth {
	uint64_t cluster_id;
	uint64_t epoch;
	uint32_t self_id;
	uint32_t incarnation;
	bool is_enabled;
	/* Set by gmac_block when AES failed during the current GMAC (never expected: ECB on one
	 * whole block has no failure mode short of a broken library); that GMAC then fails. */
	bool is_block_failed;
	struct base_log log;
	size_t peer_count;
	struct auth_peer peers[DP_AUTH_PEERS_MAX];
	struct dp_auth_stats stats;
};

/* ---- replay window ---- */

void
dp_replay_init(struct dp_replay *r)
{
	ASSERT(r != NULL);
	memset(r, 0, sizeof(*r));
}

static bool
replay_bit(const struct dp_replay *r, uint64_t counter)
{
	uint64_t block = r->blocks[(counter / 64u) % DP_REPLAY_BLOCKS];

	return ((block >> (counter % 64u)) & 1u) != 0;
}

enum dp_replay_verdict
dp_replay_check(const struct dp_replay *r, uint32_t incarnation, uint64_t counter)
{
	ASSERT(r != NULL);
	if (counter == 0) {
		return DP_REPLAY_TOO_OLD; /* senders start at 1; 0 is never valid */
	}
	if (!r->has_seen) {
		return DP_REPLAY_FRESH;
	}
	if (incarnation < r->incarnation) {
		return DP_REPLAY_STALE_INCARNATION;
	}
	if (incarnation > r->incarnation) {
		return DP_REPLAY_NEW_INCARNATION;
	}
	if (counter > r->highest) {
		return DP_REPLAY_FRESH;
	}
	if (r->highest - counter >= DP_REPLAY_WINDOW) {
		return DP_REPLAY_TOO_OLD;
	}
	return replay_bit(r, counter) ? DP_REPLAY_DUPLICATE : DP_REPLAY_FRESH;
}

/* Moves the top of the window to counter (> highest), clearing the blocks it passes. */
static void
replay_advance(struct dp_replay *r, uint64_t counter)
{
	uint64_t from = r->highest / 64u;
	uint64_t to = counter / 64u;

	ASSERT(counter > r->highest);
	if (to - from >= DP_REPLAY_BLOCKS) {
		memset(r->blocks, 0, sizeof(r->blocks));
	} else {
		for (uint64_t b = from + 1; b <= to; b++) {
			r->blocks[b % DP_REPLAY_BLOCKS] = 0;
		}
	}
	r->highest = counter;
}

void
dp_replay_commit(struct dp_replay *r, uint32_t incarnation, uint64_t counter)
{
	enum dp_replay_verdict v = dp_replay_check(r, incarnation, counter);

	ASSERT(v == DP_REPLAY_FRESH || v == DP_REPLAY_NEW_INCARNATION);
	if (!r->has_seen || v == DP_REPLAY_NEW_INCARNATION) {
		memset(r->blocks, 0, sizeof(r->blocks));
		r->has_seen = true;
		r->incarnation = incarnation;
		r->highest = counter;
	} else if (counter > r->highest) {
		replay_advance(r, counter);
	}
	r->blocks[(counter / 64u) % DP_REPLAY_BLOCKS] |= (uint64_t)1 << (counter % 64u);
	ASSERT(dp_replay_check(r, incarnation, counter) == DP_REPLAY_DUPLICATE);
}

/* ---- keys ---- */

int
dp_auth_derive_key(const uint8_t *secret, size_t secret_size, uint64_t cluster_id, uint64_t epoch,
		   uint32_t from, uint32_t to, uint8_t key[DP_AUTH_KEY_SIZE])
{
	uint8_t info[KDF_INFO_SIZE];
	size_t key_size = DP_AUTH_KEY_SIZE;
	EVP_PKEY_CTX *pctx;
	int ok;

	ASSERT(key != NULL);
	if (secret == NULL || secret_size < DP_AUTH_SECRET_MIN ||
	    secret_size > DP_AUTH_SECRET_MAX) {
		return -EINVAL;
	}
	memcpy(info, KDF_LABEL, KDF_LABEL_SIZE);
	base_store_le64(&info[KDF_LABEL_SIZE], cluster_id);
	base_store_le64(&info[KDF_LABEL_SIZE + 8u], epoch);
	base_store_le32(&info[KDF_LABEL_SIZE + 16u], from);
	base_store_le32(&info[KDF_LABEL_SIZE + 20u], to);
	pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	if (pctx == NULL) {
		return -EIO;
	}
	ok = EVP_PKEY_derive_init(pctx) > 0 && EVP_PKEY_CTX_set_hkdf_md(pctx, EVP_sha256()) > 0 &&
	     EVP_PKEY_CTX_set1_hkdf_key(pctx, secret, (int)secret_size) > 0 &&
	     EVP_PKEY_CTX_add1_hkdf_info(pctx, info, (int)sizeof(info)) > 0 &&
	     EVP_PKEY_derive(pctx, key, &key_size) > 0 && key_size == DP_AUTH_KEY_SIZE;
	EVP_PKEY_CTX_free(pctx);
	return ok ? 0 : -EIO;
}

/* GCM's block cipher: one AES-128 block under the link key (block128_f). */
static void
gmac_block(const unsigned char in[16], unsigned char out[16], const void *key)
{
	const struct auth_gmac *g = key;
	int len = 0;

	if (EVP_EncryptUpdate(g->aes, out, &len, in, 16) <= 0 || len != 16) {
		memset(out, 0, 16);
		*g->is_block_failed = true;
	}
}

/* Frees what gmac_init made; the contexts wipe their key material. Safe on a zeroed g. */
static void
gmac_fini(struct auth_gmac *g)
{
	CRYPTO_gcm128_release(g->gcm);
	EVP_CIPHER_CTX_free(g->aes);
	g->gcm = NULL;
	g->aes = NULL;
}

/* Prepares g for K(from -> to): 0, or the error of key derivation, -ENOMEM or -EIO. On error
 * the caller still calls gmac_fini. The key is wiped from the stack. */
static int
gmac_init(struct dp_auth *a, const struct dp_auth_config *cfg, uint32_t from, uint32_t to,
	  struct auth_gmac *g)
{
	uint8_t key[DP_AUTH_KEY_SIZE];
	int ok;
	int rc;

	g->is_block_failed = &a->is_block_failed;
	rc = dp_auth_derive_key(cfg->secret, cfg->secret_size, cfg->cluster_id, cfg->epoch, from,
				to, key);
	if (rc != 0) {
		return rc;
	}
	g->aes = EVP_CIPHER_CTX_new();
	ok = g->aes != NULL && EVP_EncryptInit_ex(g->aes, EVP_aes_128_ecb(), NULL, key, NULL) > 0 &&
	     EVP_CIPHER_CTX_set_padding(g->aes, 0) > 0;
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok) {
		return g->aes == NULL ? -ENOMEM : -EIO;
	}
	/* Computes H = E(K, 0) through gmac_block, so g->aes must be ready first. */
	a->is_block_failed = false;
	g->gcm = CRYPTO_gcm128_new(g, gmac_block);
	if (g->gcm == NULL) {
		return -ENOMEM;
	}
	return a->is_block_failed ? -EIO : 0;
}

static int
config_check(const struct dp_auth_config *cfg)
{
	if (cfg->peer_count > DP_AUTH_PEERS_MAX) {
		return -EINVAL;
	}
	if (!cfg->is_disabled && (cfg->secret == NULL || cfg->secret_size < DP_AUTH_SECRET_MIN ||
				  cfg->secret_size > DP_AUTH_SECRET_MAX)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		if (cfg->peer_ids[i] == cfg->self_id) {
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (cfg->peer_ids[j] == cfg->peer_ids[i]) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int
peer_init(struct dp_auth *a, const struct dp_auth_config *cfg, struct auth_peer *p, uint32_t id)
{
	int rc = 0;

	p->id = id;
	dp_replay_init(&p->replay);
	if (!a->is_enabled) {
		return 0;
	}
	rc = gmac_init(a, cfg, cfg->self_id, id, &p->tx);
	if (rc == 0) {
		rc = gmac_init(a, cfg, id, cfg->self_id, &p->rx);
	}
	return rc;
}

int
dp_auth_create(const struct dp_auth_config *cfg, struct dp_auth **out)
{
	struct dp_auth *a;
	int rc;

	ASSERT(cfg != NULL && out != NULL);
	*out = NULL;
	rc = config_check(cfg);
	if (rc != 0) {
		return rc;
	}
	a = base_alloc(sizeof(*a));
	if (a == NULL) {
		return -ENOMEM;
	}
	/* Zeroed, so that destroy after a partial peer_init frees only what exists. */
	memset(a, 0, sizeof(*a));
	a->cluster_id = cfg->cluster_id;
	a->epoch = cfg->epoch;
	a->self_id = cfg->self_id;
	a->incarnation = cfg->incarnation;
	a->is_enabled = !cfg->is_disabled;
	a->log = cfg->log;
	for (size_t i = 0; i < cfg->peer_count; i++) {
		a->peer_count = i + 1; /* so destroy frees what peer_init made */
		rc = peer_init(a, cfg, &a->peers[i], cfg->peer_ids[i]);
		if (rc != 0) {
			dp_auth_destroy(a);
			return rc;
		}
	}
	if (!a->is_enabled) {
		base_logf(&a->log, BASE_LOG_WARN,
			  "auth: node=%" PRIu32 " frame authentication is OFF by configuration: "
			  "frames are neither authenticated nor checked for replay",
			  a->self_id);
	}
	*out = a;
	return 0;
}

void
dp_auth_destroy(struct dp_auth *a)
{
	if (a == NULL) {
		return;
	}
	for (size_t i = 0; i < a->peer_count; i++) {
		gmac_fini(&a->peers[i].tx);
		gmac_fini(&a->peers[i].rx);
	}
	OPENSSL_cleanse(a, sizeof(*a));
	base_free(a);
}

bool
dp_auth_is_enabled(const struct dp_auth *a)
{
	ASSERT(a != NULL);
	return a->is_enabled;
}

static struct auth_peer *
peer_find(struct dp_auth *a, uint32_t id)
{
	for (size_t i = 0; i < a->peer_count; i++) {
		if (a->peers[i].id == id) {
			return &a->peers[i];
		}
	}
	return NULL;
}

int
dp_auth_stamp(struct dp_auth *a, uint32_t peer_id, struct dp_frame_header *h)
{
	struct auth_peer *p;

	ASSERT(a != NULL && h != NULL);
	p = peer_find(a, peer_id);
	if (p == NULL) {
		return -ENOENT;
	}
	if (p->tx_counter == UINT64_MAX) {
		return -EOVERFLOW;
	}
	p->tx_counter++;
	h->flags = a->is_enabled ? DP_FRAME_FLAG_AUTH : 0;
	h->cluster_id = a->cluster_id;
	h->epoch = a->epoch;
	h->sender = a->self_id;
	h->receiver = peer_id;
	h->incarnation = a->incarnation;
	h->counter = p->tx_counter;
	a->stats.sealed_count++;
	return 0;
}

static void
nonce_build(uint32_t incarnation, uint64_t counter, uint8_t nonce[DP_AUTH_NONCE_SIZE])
{
	base_store_le32(&nonce[0], incarnation);
	base_store_le64(&nonce[4], counter);
}

/* GMAC of aad under g into tag: 0 or -EIO. */
static int
gmac_compute(struct dp_auth *a, struct auth_gmac *g, const uint8_t nonce[DP_AUTH_NONCE_SIZE],
	     const uint8_t *aad, size_t aad_size, uint8_t tag[DP_FRAME_TAG_SIZE])
{
	a->is_block_failed = false;
	/* A 96-bit IV is J0 = IV || 1 (no GHASH); setiv also restarts the AAD and length. */
	CRYPTO_gcm128_setiv(g->gcm, nonce, DP_AUTH_NONCE_SIZE);
	if (CRYPTO_gcm128_aad(g->gcm, aad, aad_size) != 0) {
		return -EIO;
	}
	CRYPTO_gcm128_tag(g->gcm, tag, DP_FRAME_TAG_SIZE);
	return a->is_block_failed ? -EIO : 0;
}

/* True when tag is the GMAC of aad under g; the comparison is constant time (CRYPTO_memcmp in
 * CRYPTO_gcm128_finish). */
static bool
gmac_verify(struct dp_auth *a, struct auth_gmac *g, const uint8_t nonce[DP_AUTH_NONCE_SIZE],
	    const uint8_t *aad, size_t aad_size, const uint8_t *tag)
{
	a->is_block_failed = false;
	CRYPTO_gcm128_setiv(g->gcm, nonce, DP_AUTH_NONCE_SIZE);
	return CRYPTO_gcm128_aad(g->gcm, aad, aad_size) == 0 &&
	       CRYPTO_gcm128_finish(g->gcm, tag, DP_FRAME_TAG_SIZE) == 0 && !a->is_block_failed;
}

int
dp_auth_seal(struct dp_auth *a, uint8_t *frame, size_t size)
{
	struct dp_frame_view v;
	struct auth_peer *p;
	uint8_t nonce[DP_AUTH_NONCE_SIZE];
	size_t tag_offset;

	ASSERT(a != NULL && frame != NULL);
	if (!a->is_enabled) {
		return 0;
	}
	if (dp_frame_decode(frame, size, &v) != 0 || v.header.sender != a->self_id) {
		return -EBADMSG;
	}
	p = peer_find(a, v.header.receiver);
	if (p == NULL) {
		return -ENOENT;
	}
	tag_offset = (size_t)(v.tag - frame);
	ASSERT(tag_offset + DP_FRAME_TAG_SIZE <= size);
	nonce_build(v.header.incarnation, v.header.counter, nonce);
	return gmac_compute(a, &p->tx, nonce, v.aad, v.aad_size, frame + tag_offset);
}

/* Maps a replay verdict to open's return code and counts it. */
static int
replay_reject(struct dp_auth *a, enum dp_replay_verdict verdict)
{
	switch (verdict) {
	case DP_REPLAY_DUPLICATE:
		a->stats.replayed_count++;
		return -EALREADY;
	case DP_REPLAY_TOO_OLD:
		a->stats.too_old_count++;
		return -ESTALE;
	case DP_REPLAY_STALE_INCARNATION:
		a->stats.stale_incarnation_count++;
		return -ESTALE;
	case DP_REPLAY_FRESH:
	case DP_REPLAY_NEW_INCARNATION:
		break;
	}
	PANIC("replay_reject called for an accepted verdict %d", (int)verdict);
}

static void
replay_accept(struct dp_auth *a, struct auth_peer *p, const struct dp_frame_header *h,
	      enum dp_replay_verdict verdict)
{
	if (verdict == DP_REPLAY_NEW_INCARNATION) {
		a->stats.new_incarnation_count++;
		base_logf(&a->log, BASE_LOG_INFO,
			  "auth: peer=%" PRIu32 " restarted: incarnation %" PRIu32 " -> %" PRIu32,
			  p->id, p->replay.incarnation, h->incarnation);
	}
	dp_replay_commit(&p->replay, h->incarnation, h->counter);
}

int
dp_auth_open(struct dp_auth *a, const struct dp_frame_view *v)
{
	const struct dp_frame_header *h;
	enum dp_replay_verdict verdict;
	uint8_t nonce[DP_AUTH_NONCE_SIZE];
	struct auth_peer *p;

	ASSERT(a != NULL && v != NULL);
	ASSERT(v->aad != NULL && v->tag != NULL);
	h = &v->header;
	if (h->cluster_id != a->cluster_id || h->epoch != a->epoch || h->receiver != a->self_id) {
		a->stats.foreign_count++;
		return -EXDEV;
	}
	p = peer_find(a, h->sender);
	if (p == NULL) {
		a->stats.unknown_sender_count++;
		return -ENOENT;
	}
	if (a->is_enabled) {
		if ((h->flags & DP_FRAME_FLAG_AUTH) == 0) {
			a->stats.unauthenticated_count++;
			return -EPERM;
		}
		/* The cheap window check first, so replays cost no GMAC; commit only after. */
		verdict = dp_replay_check(&p->replay, h->incarnation, h->counter);
		if (verdict != DP_REPLAY_FRESH && verdict != DP_REPLAY_NEW_INCARNATION) {
			return replay_reject(a, verdict);
		}
		nonce_build(h->incarnation, h->counter, nonce);
		if (!gmac_verify(a, &p->rx, nonce, v->aad, v->aad_size, v->tag)) {
			a->stats.forged_count++;
			return -EACCES;
		}
		replay_accept(a, p, h, verdict);
	}
	a->stats.accepted_count++;
	return 0;
}

void
dp_auth_stats_get(const struct dp_auth *a, struct dp_auth_stats *out)
{
	ASSERT(a != NULL && out != NULL);
	*out = a->stats;
}

void
dp_auth_dump(const struct dp_auth *a, FILE *out)
{
	const struct dp_auth_stats *s = &a->stats;

	ASSERT(a != NULL && out != NULL);
	fprintf(out,
		"auth: node=%" PRIu32 " mode=%s cluster=%" PRIu64 " epoch=%" PRIu64
		" incarnation=%" PRIu32 "\n",
		a->self_id, a->is_enabled ? "gmac" : "OFF", a->cluster_id, a->epoch,
		a->incarnation);
	for (size_t i = 0; i < a->peer_count; i++) {
		const struct auth_peer *p = &a->peers[i];

		fprintf(out,
			"  peer=%" PRIu32 " tx_counter=%" PRIu64 " rx_incarnation=%" PRIu32
			" rx_highest=%" PRIu64 "\n",
			p->id, p->tx_counter, p->replay.incarnation, p->replay.highest);
	}
	fprintf(out,
		"  sealed=%" PRIu64 " accepted=%" PRIu64 " forged=%" PRIu64 " replayed=%" PRIu64
		" too_old=%" PRIu64 " stale_incarnation=%" PRIu64 " foreign=%" PRIu64
		" unknown_sender=%" PRIu64 " unauthenticated=%" PRIu64 " new_incarnation=%" PRIu64
		"\n",
		s->sealed_count, s->accepted_count, s->forged_count, s->replayed_count,
		s->too_old_count, s->stale_incarnation_count, s->foreign_count,
		s->unknown_sender_count, s->unauthenticated_count, s->new_incarnation_count);
}
