/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: the frame codec writes the documented layout (Ethernet, IPv4 with a valid checksum,
 * UDP, our little-endian header, body, tag) and its decoder trusts no length: every truncation,
 * every inconsistent length and every bad constant is rejected, and no input makes it read
 * outside the buffer. Method: exact byte checks of an encoded frame, round trips, a table of
 * targeted corruptions, IPv4 options and padding, and seeded random mutations (UBSan and ASan
 * catch misaligned or out-of-bounds reads in the sanitizer build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/prng.h"
#include "dataplane/frame.h"

#define BODY_SIZE 37u

struct fixture {
	struct dp_frame_endpoint src;
	struct dp_frame_endpoint dst;
	struct dp_frame_header header;
	uint8_t body[DP_FRAME_BODY_MAX];
	uint8_t buf[DP_FRAME_SIZE_MAX + 64];
	size_t size;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	dp_frame_endpoint_default(1, &f.src);
	dp_frame_endpoint_default(2, &f.dst);
	f.header = (struct dp_frame_header){.type = DP_FRAME_TYPE_DATA,
					    .flags = DP_FRAME_FLAG_AUTH,
					    .cluster_id = 0x1122334455667788u,
					    .epoch = 9,
					    .sender = 1,
					    .receiver = 2,
					    .incarnation = 7,
					    .counter = 0x0102030405060708u};
	for (size_t i = 0; i < sizeof(f.body); i++) {
		f.body[i] = (uint8_t)(i * 13u + 5u);
	}
	assert_int_equal(dp_frame_encode(&f.src, &f.dst, &f.header, f.body, BODY_SIZE, f.buf,
					 sizeof(f.buf), &f.size),
			 0);
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return 0;
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
assert_decodes_to_fixture(const struct fixture *f, const uint8_t *buf, size_t size)
{
	struct dp_frame_view v;

	assert_int_equal(dp_frame_decode(buf, size, &v), 0);
	assert_int_equal(v.header.type, DP_FRAME_TYPE_DATA);
	assert_int_equal(v.header.flags, DP_FRAME_FLAG_AUTH);
	assert_true(v.header.cluster_id == f->header.cluster_id);
	assert_true(v.header.epoch == f->header.epoch);
	assert_int_equal(v.header.sender, 1);
	assert_int_equal(v.header.receiver, 2);
	assert_int_equal(v.header.incarnation, 7);
	assert_true(v.header.counter == f->header.counter);
	assert_int_equal(v.body_size, BODY_SIZE);
	assert_memory_equal(v.body, f->body, BODY_SIZE);
	assert_int_equal(v.aad_size, DP_FRAME_HEADER_SIZE + BODY_SIZE);
	assert_ptr_equal(v.body, v.aad + DP_FRAME_HEADER_SIZE);
	assert_ptr_equal(v.tag, v.body + BODY_SIZE);
	assert_memory_equal(v.src.mac, f->src.mac, 6);
	assert_memory_equal(v.dst.mac, f->dst.mac, 6);
	assert_int_equal(v.src.ipv4, f->src.ipv4);
	assert_int_equal(v.dst.udp_port, f->dst.udp_port);
}

static void
test_frame_encode_writes_the_documented_layout(void **state)
{
	struct fixture *f = *state;
	const uint8_t *ip = f->buf + DP_FRAME_ETH_SIZE;
	const uint8_t *udp = ip + DP_FRAME_IPV4_SIZE;
	const uint8_t *h = f->buf + DP_FRAME_HEADER_OFFSET;

	assert_int_equal(f->size, DP_FRAME_OVERHEAD + BODY_SIZE);
	assert_memory_equal(f->buf, f->dst.mac, 6);
	assert_memory_equal(f->buf + 6, f->src.mac, 6);
	assert_int_equal(be16(f->buf + 12), 0x0800);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(be16(ip + 2), f->size - DP_FRAME_ETH_SIZE);
	assert_int_equal(be16(ip + 6), 0x4000); /* DF, offset 0 */
	assert_int_equal(ip[9], 17);
	assert_int_equal(dp_frame_inet_checksum(ip, DP_FRAME_IPV4_SIZE), 0);
	assert_int_equal(be16(udp + 4), f->size - DP_FRAME_ETH_SIZE - DP_FRAME_IPV4_SIZE);
	assert_int_equal(be16(udp + 6), 0);
	assert_int_equal(base_load_le32(h), DP_FRAME_MAGIC);
	assert_memory_equal(h, "AETH", 4);
	assert_int_equal(h[4], DP_FRAME_VERSION);
	assert_true(base_load_le64(h + 8) == 0x1122334455667788u);
	assert_int_equal(base_load_le16(h + 36), BODY_SIZE);
	assert_true(base_load_le64(h + 40) == 0x0102030405060708u);
	for (size_t i = 0; i < DP_FRAME_TAG_SIZE; i++) {
		assert_int_equal(f->buf[f->size - DP_FRAME_TAG_SIZE + i], 0);
	}
}

static void
test_frame_round_trip_keeps_every_field(void **state)
{
	struct fixture *f = *state;

	assert_decodes_to_fixture(f, f->buf, f->size);
}

static void
test_frame_empty_and_largest_bodies_round_trip(void **state)
{
	struct fixture *f = *state;
	struct dp_frame_view v;
	size_t size;

	assert_int_equal(dp_frame_encode(&f->src, &f->dst, &f->header, NULL, 0, f->buf,
					 sizeof(f->buf), &size),
			 0);
	assert_int_equal(dp_frame_decode(f->buf, size, &v), 0);
	assert_int_equal(v.body_size, 0);
	assert_int_equal(dp_frame_encode(&f->src, &f->dst, &f->header, f->body, DP_FRAME_BODY_MAX,
					 f->buf, sizeof(f->buf), &size),
			 0);
	assert_int_equal(size, DP_FRAME_SIZE_MAX);
	assert_int_equal(dp_frame_decode(f->buf, size, &v), 0);
	assert_int_equal(v.body_size, DP_FRAME_BODY_MAX);
	assert_memory_equal(v.body, f->body, DP_FRAME_BODY_MAX);
}

static void
test_frame_encode_rejects_oversized_body_and_small_buffer(void **state)
{
	struct fixture *f = *state;
	uint8_t small[DP_FRAME_OVERHEAD + 10];
	size_t size = 12345;

	assert_int_equal(dp_frame_encode(&f->src, &f->dst, &f->header, f->body,
					 DP_FRAME_BODY_MAX + 1, f->buf, sizeof(f->buf), &size),
			 -EMSGSIZE);
	assert_int_equal(dp_frame_encode(&f->src, &f->dst, &f->header, f->body, 11, small,
					 sizeof(small), &size),
			 -ENOBUFS);
	assert_int_equal(size, 12345);
}

static void
test_frame_every_truncation_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct dp_frame_view v;

	for (size_t n = 0; n < f->size; n++) {
		assert_int_equal(dp_frame_decode(f->buf, n, &v), -EBADMSG);
		assert_null(v.body);
	}
}

static void
test_frame_trailing_ethernet_padding_is_ignored(void **state)
{
	struct fixture *f = *state;

	memset(f->buf + f->size, 0xee, 20);
	assert_decodes_to_fixture(f, f->buf, f->size + 20);
}

/* Rewrites the IPv4 checksum after a deliberate change to the IPv4 header. */
static void
ipv4_fix_checksum(uint8_t *buf, size_t ihl_size)
{
	uint8_t *ip = buf + DP_FRAME_ETH_SIZE;
	uint16_t sum;

	ip[10] = 0;
	ip[11] = 0;
	sum = dp_frame_inet_checksum(ip, ihl_size);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

struct corruption {
	const char *what;
	size_t offset;
	uint8_t value;
	int is_ipv4_header; /* rewrite the checksum so only the change itself is tested */
};

static void
test_frame_each_inconsistency_is_rejected(void **state)
{
	struct fixture *f = *state;
	const size_t ip = DP_FRAME_ETH_SIZE;
	const size_t udp = ip + DP_FRAME_IPV4_SIZE;
	const size_t h = DP_FRAME_HEADER_OFFSET;
	const struct corruption cases[] = {
		{"ethertype", 12, 0x86, 0},
		{"ip version", ip, 0x65, 1},
		{"ip header too short", ip, 0x44, 1},
		{"ip total length +1", ip + 3, 0, 1},
		{"more fragments", ip + 6, 0x20, 1},
		{"fragment offset", ip + 7, 0x01, 1},
		{"not udp", ip + 9, 6, 1},
		{"bad ip checksum", ip + 10, 0x00, 0},
		{"udp length", udp + 5, 0, 0},
		{"magic", h, 'X', 0},
		{"version", h + 4, 2, 0},
		{"type 0", h + 5, 0, 0},
		{"type 2", h + 5, 2, 0},
		{"unknown flag", h + 6, 0x03, 0},
		{"reserved", h + 38, 1, 0},
		{"body size", h + 36, BODY_SIZE + 1, 0},
		{"counter 0", h + 40, 0, 0},
	};
	struct dp_frame_view v;
	uint8_t copy[DP_FRAME_SIZE_MAX];

	for (size_t i = 0; i < AE_ARRAY_SIZE(cases); i++) {
		memcpy(copy, f->buf, f->size);
		copy[cases[i].offset] = cases[i].value;
		if (strcmp(cases[i].what, "ip total length +1") == 0) {
			copy[cases[i].offset] = (uint8_t)(f->buf[cases[i].offset] + 1);
		}
		if (strcmp(cases[i].what, "counter 0") == 0) {
			memset(copy + h + 40, 0, 8);
		}
		if (strcmp(cases[i].what, "bad ip checksum") == 0) {
			copy[ip + 10] ^= 0xff;
		}
		if (cases[i].is_ipv4_header) {
			ipv4_fix_checksum(copy, DP_FRAME_IPV4_SIZE);
		}
		if (dp_frame_decode(copy, f->size, &v) != -EBADMSG) {
			fail_msg("corruption '%s' was accepted", cases[i].what);
		}
	}
}

static void
test_frame_ipv4_options_are_skipped(void **state)
{
	struct fixture *f = *state;
	uint8_t copy[DP_FRAME_SIZE_MAX + 8];
	const size_t ip = DP_FRAME_ETH_SIZE;
	size_t size = f->size + 4;
	struct dp_frame_view v;

	/* Insert 4 bytes of options (IHL 6) after the 20-byte IPv4 header. */
	memcpy(copy, f->buf, ip + DP_FRAME_IPV4_SIZE);
	memset(copy + ip + DP_FRAME_IPV4_SIZE, 1, 4); /* four NOP options */
	memcpy(copy + ip + 24, f->buf + ip + DP_FRAME_IPV4_SIZE, f->size - ip - DP_FRAME_IPV4_SIZE);
	copy[ip] = 0x46;
	copy[ip + 2] = (uint8_t)((size - ip) >> 8);
	copy[ip + 3] = (uint8_t)(size - ip);
	ipv4_fix_checksum(copy, 24);
	assert_int_equal(dp_frame_decode(copy, size, &v), 0);
	assert_int_equal(v.body_size, BODY_SIZE);
	assert_memory_equal(v.body, f->body, BODY_SIZE);
	assert_ptr_equal(v.aad, copy + DP_FRAME_HEADER_OFFSET + 4);
}

static void
test_frame_random_mutations_never_escape_the_buffer(void **state)
{
	struct fixture *f = *state;
	struct base_prng prng;
	uint8_t copy[DP_FRAME_SIZE_MAX];
	struct dp_frame_view v;
	size_t accepted = 0;

	base_prng_init(&prng, 0xf4a3e);
	for (int round = 0; round < 20000; round++) {
		size_t size = (size_t)base_prng_below(&prng, f->size + 1);
		int flips = (int)base_prng_below(&prng, 4);

		memcpy(copy, f->buf, f->size);
		for (int k = 0; k < flips; k++) {
			copy[base_prng_below(&prng, f->size)] ^=
				(uint8_t)base_prng_range(&prng, 1, 255);
		}
		if (dp_frame_decode(copy, size, &v) == 0) {
			accepted++;
			assert_true(v.tag + DP_FRAME_TAG_SIZE <= copy + size);
			assert_true(v.aad >= copy);
			assert_int_equal(v.aad_size, DP_FRAME_HEADER_SIZE + v.body_size);
		}
	}
	/* Mutations of body and tag (and some header fields) still decode: the tag catches them. */
	assert_true(accepted > 0);
}

static void
test_frame_default_endpoint_derives_from_the_node_id(void **state)
{
	struct dp_frame_endpoint ep;
	static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x01, 0x02, 0x03};

	(void)state;
	dp_frame_endpoint_default(0x010203, &ep);
	assert_memory_equal(ep.mac, mac, 6);
	assert_int_equal(ep.ipv4, (10u << 24) | 0x010203u);
	assert_int_equal(ep.udp_port, DP_FRAME_UDP_PORT_DEFAULT);
}

static void
test_frame_inet_checksum_matches_rfc_1071_example(void **state)
{
	/* RFC 1071 section 3: the sum of these words is 0xddf2, so the checksum is 0x220d. */
	static const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	(void)state;
	assert_int_equal(dp_frame_inet_checksum(data, sizeof(data)), 0x220d);
	/* An odd length pads the last byte with a zero byte. */
	assert_int_equal(dp_frame_inet_checksum(data, 1), 0xffff);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frame_encode_writes_the_documented_layout,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_round_trip_keeps_every_field, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_frame_empty_and_largest_bodies_round_trip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_frame_encode_rejects_oversized_body_and_small_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_every_truncation_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_frame_trailing_ethernet_padding_is_ignored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_each_inconsistency_is_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_frame_ipv4_options_are_skipped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_frame_random_mutations_never_escape_the_buffer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_frame_default_endpoint_derives_from_the_node_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_inet_checksum_matches_rfc_1071_example,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
