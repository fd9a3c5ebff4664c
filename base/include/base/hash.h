/* SPDX-License-Identifier: Apache-2.0 */
/*
 * XXH3 hashing (xxHash 0.8): 64-bit for hash tables and digests, 128-bit for artifact
 * verification. XXH3 is not a MAC: never use it where an attacker chooses the input and the
 * hash is trusted (that is what the transport's authentication tag is for).
 *
 * Pure functions, any thread.
 */
#ifndef AETHER_BASE_HASH_H
#define AETHER_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

struct base_hash128 {
	uint64_t low;
	uint64_t high;
};

/* Hex text of a 128-bit hash: 32 lowercase hex digits, high word first, plus NUL. */
#define BASE_HASH128_HEX_SIZE 33

uint64_t base_hash64(const void *data, size_t size, uint64_t seed);
struct base_hash128 base_hash128(const void *data, size_t size);
int base_hash128_equal(struct base_hash128 a, struct base_hash128 b);
/* Writes BASE_HASH128_HEX_SIZE bytes into out. */
void base_hash128_hex(struct base_hash128 h, char out[BASE_HASH128_HEX_SIZE]);
/* Parses exactly 32 hex digits (either case); -BASE_ERR_SYNTAX otherwise. */
int base_hash128_parse(const char *text, size_t size, struct base_hash128 *out);

/*
 * Streaming digest (for a whole KV store or a file read in pieces). The state is opaque bytes
 * large enough for XXH3's state; init, update any number of times, then final.
 */
struct base_hash_stream {
	_Alignas(64) unsigned char opaque[640];
};

void base_hash_stream_init(struct base_hash_stream *s);
void base_hash_stream_update(struct base_hash_stream *s, const void *data, size_t size);
uint64_t base_hash_stream_final64(const struct base_hash_stream *s);

/* Streaming 128-bit digest (artifact files read in chunks). */
void base_hash128_stream_init(struct base_hash_stream *s);
void base_hash128_stream_update(struct base_hash_stream *s, const void *data, size_t size);
struct base_hash128 base_hash128_stream_final(const struct base_hash_stream *s);

#endif /* AETHER_BASE_HASH_H */
