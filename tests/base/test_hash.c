/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: base_hash64/base_hash128 are exactly XXH3 (digests are stored and compared across
 * nodes and versions), streaming equals one-shot wherever the input is split, and the hex form
 * round-trips and rejects anything but 32 hex digits. Method: known vectors; seeded random
 * inputs cut at random points; every position of the hex text tried with bad characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/compiler.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/prng.h"

#define LONG_INPUT 5000

struct hash_vector {
	const char *name;
	size_t size; /* bytes of the input: text, or the i & 0xff pattern when text is NULL */
	const char *text;
	uint64_t xxh3_64;   /* seed 0 */
	const char *xxh128; /* canonical hex, high word first */
};

/*
 * Expected values from the xxhsum 0.8.1 tool (Debian package xxhash) run on files holding these
 * exact bytes: `xxhsum -H3 FILE` for the 64-bit value and `xxh128sum FILE` for the 128-bit one,
 * which prints the canonical form (high word first), the same as base_hash128_hex.
 */
static const struct hash_vector vectors[] = {
	{"empty", 0, "", 0x2d06800538d394c2ULL, "99aa06d3014798d86001c324468d497f"},
	{"abc", 3, "abc", 0x78af5f94892f3950ULL, "06b05ab6733a618578af5f94892f3950"},
	{"fox", 43, "The quick brown fox jumps over the lazy dog", 0xce7d19a5418fb365ULL,
	 "ddd650205ca3e7fa24a1cc2e3a8a7651"},
	{"seq1000", 1000, NULL, 0xd33dd80b46f60e50ULL, "076f7e02b7120d2ad33dd80b46f60e50"},
	{"seq5000", LONG_INPUT, NULL, 0x1b74bda2c82a8c7aULL, "7a681524919c28221b74bda2c82a8c7a"},
};

static const uint8_t *
vector_bytes(const struct hash_vector *v, uint8_t *buf)
{
	if (v->text != NULL) {
		return (const uint8_t *)v->text;
	}
	for (size_t i = 0; i < v->size; i++) {
		buf[i] = (uint8_t)(i & 0xff);
	}
	return buf;
}

static void
test_hash_matches_xxhsum_vectors(void **state)
{
	static uint8_t buf[LONG_INPUT];
	char hex[BASE_HASH128_HEX_SIZE];

	(void)state;
	for (size_t i = 0; i < AE_ARRAY_SIZE(vectors); i++) {
		const uint8_t *data = vector_bytes(&vectors[i], buf);

		assert_true(base_hash64(data, vectors[i].size, 0) == vectors[i].xxh3_64);
		base_hash128_hex(base_hash128(data, vectors[i].size), hex);
		assert_string_equal(hex, vectors[i].xxh128);
	}
}

static void
test_hash64_with_seed_matches_library_vectors(void **state)
{
	/*
	 * xxhsum has no seed option; these come from a one-off program calling
	 * XXH3_64bits_withSeed from the system xxHash 0.8.1 directly.
	 */
	static uint8_t buf[1000];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = (uint8_t)(i & 0xff);
	}
	assert_true(base_hash64("", 0, 1) == 0x4dc5b0cc826f6703ULL);
	assert_true(base_hash64("abc", 3, 0x9e3779b97f4a7c15ULL) == 0xfc1ae99bb3de2336ULL);
	assert_true(base_hash64(buf, sizeof(buf), 42) == 0x1ba5b309df6f67d3ULL);
	assert_true(base_hash64(buf, sizeof(buf), 42) != base_hash64(buf, sizeof(buf), 43));
}

static void
fill_random(struct base_prng *p, uint8_t *buf, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		buf[i] = (uint8_t)base_prng_next(p);
	}
}

/* Feeds data in random pieces, zero-length pieces included. */
static void
stream_in_pieces(struct base_prng *p, struct base_hash_stream *s, const uint8_t *data, size_t size,
		 int wide)
{
	size_t pos = 0;

	while (pos < size) {
		size_t piece = (size_t)base_prng_below(p, base_min_size(size - pos, 300) + 1);

		if (wide) {
			base_hash128_stream_update(s, data + pos, piece);
		} else {
			base_hash_stream_update(s, data + pos, piece);
		}
		pos += piece;
	}
}

static void
test_hash_streaming_equals_one_shot_for_random_splits(void **state)
{
	static uint8_t data[3 * LONG_INPUT];
	struct base_prng p;
	struct base_hash_stream s;

	(void)state;
	base_prng_init(&p, 77);
	for (int round = 0; round < 300; round++) {
		/* Lengths across every XXH3 path: <=16, <=128, <=240, one stripe, many blocks. */
		size_t size = (size_t)base_prng_below(&p, round < 150 ? 300 : sizeof(data) + 1);

		fill_random(&p, data, size);
		base_hash_stream_init(&s);
		stream_in_pieces(&p, &s, data, size, 0);
		assert_true(base_hash_stream_final64(&s) == base_hash64(data, size, 0));
		base_hash128_stream_init(&s);
		stream_in_pieces(&p, &s, data, size, 1);
		assert_true(base_hash128_equal(base_hash128_stream_final(&s),
					       base_hash128(data, size)));
	}
}

static void
test_hash_stream_final_can_be_taken_midway_and_continued(void **state)
{
	static uint8_t data[LONG_INPUT];
	struct base_hash_stream s;
	struct base_hash_stream copy;

	(void)state;
	(void)vector_bytes(&vectors[4], data);
	base_hash_stream_init(&s);
	base_hash_stream_update(&s, data, 1000);
	/* final is const: a digest of the prefix does not end the stream. */
	assert_true(base_hash_stream_final64(&s) == vectors[3].xxh3_64);
	/* The state is plain bytes: a copy continues independently. */
	copy = s;
	base_hash_stream_update(&copy, data + 1000, LONG_INPUT - 1000);
	base_hash_stream_update(&s, data + 1000, LONG_INPUT - 1000);
	assert_true(base_hash_stream_final64(&s) == vectors[4].xxh3_64);
	assert_true(base_hash_stream_final64(&copy) == vectors[4].xxh3_64);
}

static void
test_hash128_hex_and_parse_round_trip(void **state)
{
	struct base_prng p;
	char hex[BASE_HASH128_HEX_SIZE];

	(void)state;
	base_prng_init(&p, 1);
	for (int i = 0; i < 1000; i++) {
		struct base_hash128 h = {.low = base_prng_next(&p), .high = base_prng_next(&p)};
		struct base_hash128 back = {0, 0};

		if (i == 0) {
			h.low = 0;
			h.high = UINT64_MAX;
		}
		base_hash128_hex(h, hex);
		assert_int_equal(strlen(hex), 32);
		assert_int_equal(strspn(hex, "0123456789abcdef"), 32);
		assert_int_equal(base_hash128_parse(hex, 32, &back), 0);
		assert_true(base_hash128_equal(h, back));
	}
}

static void
test_hash128_hex_puts_the_high_word_first(void **state)
{
	struct base_hash128 h = {.low = 0x0123456789abcdefULL, .high = 0xfedcba9876543210ULL};
	char hex[BASE_HASH128_HEX_SIZE];

	(void)state;
	base_hash128_hex(h, hex);
	assert_string_equal(hex, "fedcba98765432100123456789abcdef");
}

static void
test_hash128_parse_accepts_upper_case(void **state)
{
	struct base_hash128 h;

	(void)state;
	assert_int_equal(base_hash128_parse("DDD650205CA3E7FA24a1cc2e3a8a7651", 32, &h), 0);
	assert_true(h.high == 0xddd650205ca3e7faULL);
	assert_true(h.low == 0x24a1cc2e3a8a7651ULL);
}

static void
test_hash128_parse_rejects_bad_length(void **state)
{
	const char *text = "ddd650205ca3e7fa24a1cc2e3a8a7651ff";
	struct base_hash128 h = {.low = 7, .high = 8};

	(void)state;
	for (size_t size = 0; size <= 34; size++) {
		if (size == 32) {
			continue;
		}
		assert_int_equal(base_hash128_parse(text, size, &h), -BASE_ERR_SYNTAX);
	}
	/* A failed parse leaves the output alone. */
	assert_true(h.low == 7 && h.high == 8);
}

static void
test_hash128_parse_rejects_a_bad_character_at_every_position(void **state)
{
	static const char bad[] = {'g', 'G', 'x', ' ', '-', '\0', '/', ':', '@', '`', (char)0xff};
	char text[33];
	struct base_hash128 h;

	(void)state;
	for (size_t pos = 0; pos < 32; pos++) {
		for (size_t b = 0; b < sizeof(bad); b++) {
			memcpy(text, "0123456789abcdef0123456789ABCDEF", 33);
			text[pos] = bad[b];
			assert_int_equal(base_hash128_parse(text, 32, &h), -BASE_ERR_SYNTAX);
		}
	}
}

static void
test_hash128_equal_compares_both_words(void **state)
{
	struct base_hash128 a = {.low = 1, .high = 2};
	struct base_hash128 b = a;

	(void)state;
	assert_true(base_hash128_equal(a, b));
	b.low = 3;
	assert_false(base_hash128_equal(a, b));
	b = a;
	b.high = 3;
	assert_false(base_hash128_equal(a, b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_matches_xxhsum_vectors),
		cmocka_unit_test(test_hash64_with_seed_matches_library_vectors),
		cmocka_unit_test(test_hash_streaming_equals_one_shot_for_random_splits),
		cmocka_unit_test(test_hash_stream_final_can_be_taken_midway_and_continued),
		cmocka_unit_test(test_hash128_hex_and_parse_round_trip),
		cmocka_unit_test(test_hash128_hex_puts_the_high_word_first),
		cmocka_unit_test(test_hash128_parse_accepts_upper_case),
		cmocka_unit_test(test_hash128_parse_rejects_bad_length),
		cmocka_unit_test(test_hash128_parse_rejects_a_bad_character_at_every_position),
		cmocka_unit_test(test_hash128_equal_compares_both_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
