/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The wire frame between nodes: Ethernet II + IPv4 + UDP (so frames cross real switches when the
 * port is AF_XDP or a NIC; memif carries the very same bytes between processes), then our
 * header, the body (one env datagram), and a 16-byte authentication tag:
 *
 *   offset  size  field
 *        0    14  Ethernet: dst MAC, src MAC, ethertype 0x0800
 *       14    20  IPv4: no options sent, DF set, TTL 64, protocol 17, header checksum
 *       34     8  UDP: checksum 0 (allowed for IPv4 by RFC 768; the tag gives integrity)
 *       42    48  our header, little endian (DP_FRAME_HEADER_SIZE):
 *                   0 magic u32 "AETH"   4 version u8   5 type u8   6 flags u16
 *                   8 cluster_id u64    16 epoch u64   24 sender u32   28 receiver u32
 *                  32 incarnation u32   36 body_size u16   38 reserved u16 (zero)
 *                  40 counter u64
 *       90     n  body
 *    90+n     16  tag: AES-128-GMAC over our header and the body (dataplane/auth.h); zero when
 *                 the DP_FRAME_FLAG_AUTH flag is clear
 *
 * Network headers are big endian as the RFCs say; our header is little endian like every other
 * project codec (base/bytes.h). Every field is read and written with memcpy-based accessors:
 * the IPv4 header starts 14 bytes into the buffer, so casting it to a struct would be a
 * misaligned access (UBSan reports it).
 *
 * Decoding never trusts a length: the IPv4 total length, the IPv4 header length, the UDP length
 * and our body_size must all agree with each other and fit in the buffer (trailing Ethernet
 * padding after the IPv4 packet is allowed and ignored). A decoded view points into the
 * caller's buffer (borrowed); nothing is copied.
 *
 * This file is pure (no DPDK, no clock, no allocation): the fuzzer and the unit tests run it
 * as is. Any thread may call these functions; they touch only their arguments.
 */
#ifndef AETHER_DATAPLANE_FRAME_H
#define AETHER_DATAPLANE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

#define DP_FRAME_ETH_SIZE      14u
#define DP_FRAME_IPV4_SIZE     20u /* the header we send (no options) */
#define DP_FRAME_UDP_SIZE      8u
#define DP_FRAME_HEADER_SIZE   48u /* our header */
#define DP_FRAME_TAG_SIZE      16u
/* Offset of our header in a frame we encode. */
#define DP_FRAME_HEADER_OFFSET (DP_FRAME_ETH_SIZE + DP_FRAME_IPV4_SIZE + DP_FRAME_UDP_SIZE)
/* Bytes around the body in a frame we encode. */
#define DP_FRAME_OVERHEAD      (DP_FRAME_HEADER_OFFSET + DP_FRAME_HEADER_SIZE + DP_FRAME_TAG_SIZE)
/* Largest body: one env datagram (env/env.h ENV_MSG_MAX; env_dpdk.c asserts they agree). */
#define DP_FRAME_BODY_MAX      9000u
/* Largest frame we encode; decode also accepts up to 60 bytes of IPv4 options. */
#define DP_FRAME_SIZE_MAX      (DP_FRAME_OVERHEAD + DP_FRAME_BODY_MAX)

#define DP_FRAME_MAGIC            0x48544541u /* "AETH" in little endian */
#define DP_FRAME_VERSION          1u
#define DP_FRAME_UDP_PORT_DEFAULT 7400u

/* Header flags. Unknown flags are rejected by decode, so a new flag needs a new version. */
#define DP_FRAME_FLAG_AUTH   0x0001u /* the tag is a GMAC; clear only when authentication is off */
#define DP_FRAME_FLAGS_KNOWN DP_FRAME_FLAG_AUTH

/* Frame types (the `type` byte). The body's own message type lives inside the body. */
enum dp_frame_type {
	DP_FRAME_TYPE_DATA = 1, /* one env datagram */
	DP_FRAME_TYPE_MAX = DP_FRAME_TYPE_DATA,
};

/* The link-layer and network addresses of one end of a link. ipv4 is in HOST byte order. */
struct dp_frame_endpoint {
	uint8_t mac[6];
	uint32_t ipv4;
	uint16_t udp_port;
};

/* Our header, decoded (body_size lives in struct dp_frame_view). */
struct dp_frame_header {
	uint8_t type; /* enum dp_frame_type */
	uint16_t flags;
	uint64_t cluster_id;
	uint64_t epoch;
	uint32_t sender;      /* node id of the sender */
	uint32_t receiver;    /* node id the frame is for */
	uint32_t incarnation; /* the sender's incarnation: bumped on every restart */
	uint64_t counter;     /* per directed link, starts at 1 each incarnation */
};

/* A decoded frame: every pointer borrows the buffer given to dp_frame_decode. */
struct dp_frame_view {
	struct dp_frame_endpoint src;
	struct dp_frame_endpoint dst;
	struct dp_frame_header header;
	const uint8_t *aad; /* our header followed by the body: what the tag covers */
	size_t aad_size;    /* DP_FRAME_HEADER_SIZE + body_size */
	const uint8_t *body;
	size_t body_size;   /* at most DP_FRAME_BODY_MAX */
	const uint8_t *tag; /* DP_FRAME_TAG_SIZE bytes */
};

/*
 * The endpoint a node uses when the config gives none: MAC 02:00:<node id, big endian> (a
 * locally administered unicast address), IPv4 10.<id bits 16..23>.<8..15>.<0..7> and UDP port
 * DP_FRAME_UDP_PORT_DEFAULT. Only the low 24 bits of the id reach the IPv4 address.
 */
void dp_frame_endpoint_default(uint32_t node_id, struct dp_frame_endpoint *out);

/* DP_FRAME_OVERHEAD + body_size: the size dp_frame_encode produces. */
static inline size_t
dp_frame_size(size_t body_size)
{
	return DP_FRAME_OVERHEAD + body_size;
}

/*
 * Writes a complete frame for body (borrowed, body_size bytes; body may be NULL when
 * body_size is 0) into buf with a zero tag, and sets *size_out. src, dst and header are
 * borrowed; header->type must be a known type and header->flags known flags (asserted: the
 * caller builds them). The tag is filled later by dp_auth_seal (or stays zero with
 * authentication off). Errors: -EMSGSIZE when body_size > DP_FRAME_BODY_MAX, -ENOBUFS when
 * capacity < dp_frame_size(body_size); buf is untouched then.
 */
AE_MUST_CHECK int dp_frame_encode(const struct dp_frame_endpoint *src,
				  const struct dp_frame_endpoint *dst,
				  const struct dp_frame_header *header, const uint8_t *body,
				  size_t body_size, uint8_t *buf, size_t capacity,
				  size_t *size_out);

/*
 * Parses buf (size bytes, borrowed; the view points into it). Returns 0, or -EBADMSG when the
 * bytes are not one of our frames: too short, not IPv4 (ethertype, version, header length,
 * header checksum), fragmented, not UDP, lengths that disagree or overrun the buffer, wrong
 * magic, unknown version, type or flags, non-zero reserved field, or a counter of 0. On
 * error *out is zeroed. The tag is not checked here (dp_auth_open does that), so the fuzzer
 * reaches every field.
 */
AE_MUST_CHECK int dp_frame_decode(const uint8_t *buf, size_t size, struct dp_frame_view *out);

/* The Internet checksum (RFC 1071) of size bytes, as stored in the header (host order value). */
uint16_t dp_frame_inet_checksum(const uint8_t *data, size_t size);

#endif /* AETHER_DATAPLANE_FRAME_H */
