/* SPDX-License-Identifier: Apache-2.0 */
#include "base/hash.h"

#include <string.h>

/* Header-only use of xxHash: the functions inline into this unit and nothing else links it. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "base/err.h"
#include "base/panic.h"

_Static_assert(sizeof(XXH3_state_t) <= sizeof(struct base_hash_stream),
	       "base_hash_stream too small for XXH3_state_t");
_Static_assert(_Alignof(XXH3_state_t) <= _Alignof(struct base_hash_stream),
	       "base_hash_stream under-aligned for XXH3_state_t");

static XXH3_state_t *
stream_state(struct base_hash_stream *s)
{
	return (XXH3_state_t *)(void *)s->opaque;
}

uint64_t
base_hash64(const void *data, size_t size, uint64_t seed)
{
	ASSERT(data != NULL || size == 0);
	return XXH3_64bits_withSeed(data, size, seed);
}

struct base_hash128
base_hash128(const void *data, size_t size)
{
	XXH128_hash_t h;
	struct base_hash128 out;

	ASSERT(data != NULL || size == 0);
	h = XXH3_128bits(data, size);
	out.low = h.low64;
	out.high = h.high64;
	return out;
}

int
base_hash128_equal(struct base_hash128 a, struct base_hash128 b)
{
	return a.low == b.low && a.high == b.high;
}

void
base_hash128_hex(struct base_hash128 h, char out[BASE_HASH128_HEX_SIZE])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[i] = digits[(h.high >> (60 - 4 * i)) & 0xf];
		out[16 + i] = digits[(h.low >> (60 - 4 * i)) & 0xf];
	}
	out[32] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

int
base_hash128_parse(const char *text, size_t size, struct base_hash128 *out)
{
	uint64_t words[2] = {0, 0};

	ASSERT(text != NULL || size == 0);
	ASSERT(out != NULL);
	if (size != 32) {
		return -BASE_ERR_SYNTAX;
	}
	for (size_t i = 0; i < 32; i++) {
		int v = hex_value(text[i]);

		if (v < 0) {
			return -BASE_ERR_SYNTAX;
		}
		words[i / 16] = (words[i / 16] << 4) | (uint64_t)v;
	}
	out->high = words[0];
	out->low = words[1];
	return 0;
}

void
base_hash_stream_init(struct base_hash_stream *s)
{
	XXH3_64bits_reset(stream_state(s));
}

void
base_hash_stream_update(struct base_hash_stream *s, const void *data, size_t size)
{
	ASSERT(data != NULL || size == 0);
	XXH3_64bits_update(stream_state(s), data, size);
}

uint64_t
base_hash_stream_final64(const struct base_hash_stream *s)
{
	return XXH3_64bits_digest((const XXH3_state_t *)(const void *)s->opaque);
}

void
base_hash128_stream_init(struct base_hash_stream *s)
{
	XXH3_128bits_reset(stream_state(s));
}

void
base_hash128_stream_update(struct base_hash_stream *s, const void *data, size_t size)
{
	ASSERT(data != NULL || size == 0);
	XXH3_128bits_update(stream_state(s), data, size);
}

struct base_hash128
base_hash128_stream_final(const struct base_hash_stream *s)
{
	XXH128_hash_t h = XXH3_128bits_digest((const XXH3_state_t *)(const void *)s->opaque);
	struct base_hash128 out = {.low = h.low64, .high = h.high64};

	return out;
}
