/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the binary reader and writer never touch memory outside their buffers, encode little
 * endian, and make errors sticky. Method: round trips, every truncation point of a known
 * message, and seeded random byte strings fed to a decoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"

static size_t
encode_sample(uint8_t *buf, size_t cap)
{
	struct base_writer w;
	static const uint8_t blob[] = {'a', 'b', 'c'};

	base_writer_init(&w, buf, cap);
	assert_int_equal(base_writer_u8(&w, 0x11), 0);
	assert_int_equal(base_writer_u16(&w, 0x2233), 0);
	assert_int_equal(base_writer_u32(&w, 0x44556677u), 0);
	assert_int_equal(base_writer_u64(&w, 0x8899aabbccddeeffULL), 0);
	assert_int_equal(base_writer_blob(&w, blob, sizeof(blob)), 0);
	return base_writer_size(&w);
}

/* Decodes the sample; returns the reader's final status. */
static int
decode_sample(const uint8_t *buf, size_t size)
{
	struct base_reader r;
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	const uint8_t *blob;
	size_t blob_size;

	base_reader_init(&r, buf, size);
	base_reader_u8(&r, &a);
	base_reader_u16(&r, &b);
	base_reader_u32(&r, &c);
	base_reader_u64(&r, &d);
	base_reader_blob(&r, &blob, &blob_size, 16);
	if (base_reader_finish(&r) == 0) {
		assert_int_equal(a, 0x11);
		assert_int_equal(b, 0x2233);
		assert_int_equal(c, 0x44556677u);
		assert_true(d == 0x8899aabbccddeeffULL);
		assert_int_equal(blob_size, 3);
		assert_memory_equal(blob, "abc", 3);
	}
	return base_reader_finish(&r);
}

static void
test_bytes_round_trip_is_little_endian(void **state)
{
	uint8_t buf[64];
	size_t n;

	(void)state;
	n = encode_sample(buf, sizeof(buf));
	assert_int_equal(n, 1 + 2 + 4 + 8 + 4 + 3);
	assert_int_equal(buf[1], 0x33);
	assert_int_equal(buf[2], 0x22);
	assert_int_equal(buf[3], 0x77);
	assert_int_equal(decode_sample(buf, n), 0);
}

static void
test_bytes_every_truncation_is_rejected(void **state)
{
	uint8_t buf[64];
	size_t n;

	(void)state;
	n = encode_sample(buf, sizeof(buf));
	for (size_t cut = 0; cut < n; cut++) {
		assert_int_equal(decode_sample(buf, cut), -BASE_ERR_TRUNCATED);
	}
}

static void
test_bytes_trailing_bytes_are_rejected(void **state)
{
	uint8_t buf[64];
	size_t n;

	(void)state;
	n = encode_sample(buf, sizeof(buf));
	assert_int_equal(decode_sample(buf, n + 1), -BASE_ERR_TRAILING);
}

static void
test_bytes_writer_stops_at_capacity_and_stays_failed(void **state)
{
	uint8_t buf[5];
	struct base_writer w;

	(void)state;
	base_writer_init(&w, buf, sizeof(buf));
	assert_int_equal(base_writer_u32(&w, 1), 0);
	assert_int_equal(base_writer_u16(&w, 2), -ENOBUFS);
	/* Sticky: even a write that would fit now fails. */
	assert_int_equal(base_writer_u8(&w, 3), -ENOBUFS);
	assert_int_equal(base_writer_size(&w), 4);
}

static void
test_bytes_blob_length_over_bound_is_rejected_before_reading(void **state)
{
	uint8_t buf[8] = {0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4};
	struct base_reader r;
	const uint8_t *p;
	size_t size;

	(void)state;
	base_reader_init(&r, buf, sizeof(buf));
	assert_int_equal(base_reader_blob(&r, &p, &size, 1024), -BASE_ERR_TOO_LONG);
	assert_null(p);
	assert_int_equal(size, 0);
	assert_int_equal(base_reader_remaining(&r), 0);
}

static void
test_bytes_random_input_never_reads_out_of_bounds(void **state)
{
	struct base_prng prng;
	uint8_t buf[40];

	(void)state;
	base_prng_init(&prng, 42);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)base_prng_below(&prng, sizeof(buf) + 1);
		int rc;

		for (size_t j = 0; j < n; j++) {
			buf[j] = (uint8_t)base_prng_next(&prng);
		}
		rc = decode_sample(buf, n);
		assert_true(rc == 0 || rc == -BASE_ERR_TRUNCATED || rc == -BASE_ERR_TOO_LONG ||
			    rc == -BASE_ERR_TRAILING);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_round_trip_is_little_endian),
		cmocka_unit_test(test_bytes_every_truncation_is_rejected),
		cmocka_unit_test(test_bytes_trailing_bytes_are_rejected),
		cmocka_unit_test(test_bytes_writer_stops_at_capacity_and_stays_failed),
		cmocka_unit_test(test_bytes_blob_length_over_bound_is_rejected_before_reading),
		cmocka_unit_test(test_bytes_random_input_never_reads_out_of_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
