/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/frame.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "base/bytes.h"
#include "base/panic.h"

#define ETHERTYPE_IPV4    0x0800u
#define IPV4_PROTO_UDP    17u
#define IPV4_FLAG_DF      0x4000u
#define IPV4_FLAG_MF      0x2000u
#define IPV4_OFFSET_MASK  0x1fffu
#define IPV4_TTL          64u
#define IPV4_IHL_MAX_SIZE 60u

/* Offsets inside our header. */
#define HDR_MAGIC       0u
#define HDR_VERSION     4u
#define HDR_TYPE        5u
#define HDR_FLAGS       6u
#define HDR_CLUSTER     8u
#define HDR_EPOCH       16u
#define HDR_SENDER      24u
#define HDR_RECEIVER    28u
#define HDR_INCARNATION 32u
#define HDR_BODY_SIZE   36u
#define HDR_RESERVED    38u
#define HDR_COUNTER     40u

static_assert(HDR_COUNTER + 8u == DP_FRAME_HEADER_SIZE, "our header layout");
static_assert(DP_FRAME_SIZE_MAX + IPV4_IHL_MAX_SIZE < 65535u, "IPv4 total length fits 16 bits");
static_assert(DP_FRAME_BODY_MAX <= UINT16_MAX, "body_size fits its u16 field");

static uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)(((unsigned)p[0] << 8) | (unsigned)p[1]);
}

static uint32_t
load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       (uint32_t)p[3];
}

static void
store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
dp_frame_endpoint_default(uint32_t node_id, struct dp_frame_endpoint *out)
{
	ASSERT(out != NULL);
	memset(out, 0, sizeof(*out));
	out->mac[0] = 0x02; /* locally administered, unicast */
	store_be32(&out->mac[2], node_id);
	out->ipv4 = (10u << 24) | (node_id & 0x00ffffffu);
	out->udp_port = DP_FRAME_UDP_PORT_DEFAULT;
}

uint16_t
dp_frame_inet_checksum(const uint8_t *data, size_t size)
{
	uint32_t sum = 0;
	size_t i = 0;

	ASSERT(data != NULL || size == 0);
	for (; i + 1 < size; i += 2) {
		sum += load_be16(&data[i]);
	}
	if (i < size) {
		sum += (uint32_t)data[i] << 8;
	}
	while (sum >> 16) {
		sum = (sum & 0xffffu) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static void
encode_l2_l4(const struct dp_frame_endpoint *src, const struct dp_frame_endpoint *dst,
	     size_t frame_size, uint8_t *buf)
{
	uint8_t *ip = buf + DP_FRAME_ETH_SIZE;
	uint8_t *udp = ip + DP_FRAME_IPV4_SIZE;
	size_t ip_size = frame_size - DP_FRAME_ETH_SIZE;

	memcpy(&buf[0], dst->mac, 6);
	memcpy(&buf[6], src->mac, 6);
	store_be16(&buf[12], ETHERTYPE_IPV4);
	ip[0] = 0x45; /* version 4, 5 words */
	ip[1] = 0;
	store_be16(&ip[2], (uint16_t)ip_size);
	store_be16(&ip[4], 0); /* identification: unused with DF set */
	store_be16(&ip[6], IPV4_FLAG_DF);
	ip[8] = IPV4_TTL;
	ip[9] = IPV4_PROTO_UDP;
	store_be16(&ip[10], 0);
	store_be32(&ip[12], src->ipv4);
	store_be32(&ip[16], dst->ipv4);
	store_be16(&ip[10], dp_frame_inet_checksum(ip, DP_FRAME_IPV4_SIZE));
	store_be16(&udp[0], src->udp_port);
	store_be16(&udp[2], dst->udp_port);
	store_be16(&udp[4], (uint16_t)(ip_size - DP_FRAME_IPV4_SIZE));
	store_be16(&udp[6], 0);
}

static void
encode_header(const struct dp_frame_header *h, size_t body_size, uint8_t *p)
{
	base_store_le32(&p[HDR_MAGIC], DP_FRAME_MAGIC);
	p[HDR_VERSION] = DP_FRAME_VERSION;
	p[HDR_TYPE] = h->type;
	base_store_le16(&p[HDR_FLAGS], h->flags);
	base_store_le64(&p[HDR_CLUSTER], h->cluster_id);
	base_store_le64(&p[HDR_EPOCH], h->epoch);
	base_store_le32(&p[HDR_SENDER], h->sender);
	base_store_le32(&p[HDR_RECEIVER], h->receiver);
	base_store_le32(&p[HDR_INCARNATION], h->incarnation);
	base_store_le16(&p[HDR_BODY_SIZE], (uint16_t)body_size);
	base_store_le16(&p[HDR_RESERVED], 0);
	base_store_le64(&p[HDR_COUNTER], h->counter);
}

int
dp_frame_encode(const struct dp_frame_endpoint *src, const struct dp_frame_endpoint *dst,
		const struct dp_frame_header *header, const uint8_t *body, size_t body_size,
		uint8_t *buf, size_t capacity, size_t *size_out)
{
	size_t size;
	uint8_t *hdr;

	ASSERT(src != NULL && dst != NULL && header != NULL);
	ASSERT(buf != NULL && size_out != NULL);
	ASSERT(body != NULL || body_size == 0);
	ASSERT(header->type >= DP_FRAME_TYPE_DATA && header->type <= DP_FRAME_TYPE_MAX);
	ASSERT((header->flags & ~DP_FRAME_FLAGS_KNOWN) == 0);
	ASSERT(header->counter != 0);
	if (body_size > DP_FRAME_BODY_MAX) {
		return -EMSGSIZE;
	}
	size = dp_frame_size(body_size);
	if (capacity < size) {
		return -ENOBUFS;
	}
	encode_l2_l4(src, dst, size, buf);
	hdr = buf + DP_FRAME_HEADER_OFFSET;
	encode_header(header, body_size, hdr);
	if (body_size > 0) {
		memcpy(hdr + DP_FRAME_HEADER_SIZE, body, body_size);
	}
	memset(hdr + DP_FRAME_HEADER_SIZE + body_size, 0, DP_FRAME_TAG_SIZE);
	*size_out = size;
	return 0;
}

/*
 * Checks Ethernet and IPv4 and returns the offset of the UDP header and the UDP datagram size
 * (IPv4 total length minus the IPv4 header), or -EBADMSG.
 */
static int
decode_l2_l3(const uint8_t *buf, size_t size, struct dp_frame_view *v, size_t *udp_offset,
	     size_t *udp_size)
{
	const uint8_t *ip = buf + DP_FRAME_ETH_SIZE;
	size_t ihl_size;
	size_t total;
	uint16_t frag;

	if (size < DP_FRAME_ETH_SIZE + DP_FRAME_IPV4_SIZE) {
		return -EBADMSG;
	}
	if (load_be16(&buf[12]) != ETHERTYPE_IPV4 || (ip[0] >> 4) != 4) {
		return -EBADMSG;
	}
	ihl_size = (size_t)(ip[0] & 0x0fu) * 4u;
	total = load_be16(&ip[2]);
	if (ihl_size < DP_FRAME_IPV4_SIZE || total < ihl_size || total > size - DP_FRAME_ETH_SIZE) {
		return -EBADMSG;
	}
	frag = load_be16(&ip[6]);
	if ((frag & IPV4_FLAG_MF) != 0 || (frag & IPV4_OFFSET_MASK) != 0 ||
	    ip[9] != IPV4_PROTO_UDP) {
		return -EBADMSG;
	}
	if (dp_frame_inet_checksum(ip, ihl_size) != 0) {
		return -EBADMSG;
	}
	memcpy(v->dst.mac, &buf[0], 6);
	memcpy(v->src.mac, &buf[6], 6);
	v->src.ipv4 = load_be32(&ip[12]);
	v->dst.ipv4 = load_be32(&ip[16]);
	*udp_offset = DP_FRAME_ETH_SIZE + ihl_size;
	*udp_size = total - ihl_size;
	return 0;
}

static int
decode_header(const uint8_t *p, struct dp_frame_header *h, size_t *body_size)
{
	if (base_load_le32(&p[HDR_MAGIC]) != DP_FRAME_MAGIC || p[HDR_VERSION] != DP_FRAME_VERSION) {
		return -EBADMSG;
	}
	h->type = p[HDR_TYPE];
	h->flags = base_load_le16(&p[HDR_FLAGS]);
	if (h->type < DP_FRAME_TYPE_DATA || h->type > DP_FRAME_TYPE_MAX ||
	    (h->flags & ~DP_FRAME_FLAGS_KNOWN) != 0 || base_load_le16(&p[HDR_RESERVED]) != 0) {
		return -EBADMSG;
	}
	h->cluster_id = base_load_le64(&p[HDR_CLUSTER]);
	h->epoch = base_load_le64(&p[HDR_EPOCH]);
	h->sender = base_load_le32(&p[HDR_SENDER]);
	h->receiver = base_load_le32(&p[HDR_RECEIVER]);
	h->incarnation = base_load_le32(&p[HDR_INCARNATION]);
	h->counter = base_load_le64(&p[HDR_COUNTER]);
	*body_size = base_load_le16(&p[HDR_BODY_SIZE]);
	if (h->counter == 0) {
		return -EBADMSG;
	}
	return 0;
}

static int
decode_frame(const uint8_t *buf, size_t size, struct dp_frame_view *v)
{
	size_t udp_offset;
	size_t udp_size;
	size_t body_size;
	const uint8_t *udp;
	const uint8_t *hdr;

	if (decode_l2_l3(buf, size, v, &udp_offset, &udp_size) != 0) {
		return -EBADMSG;
	}
	/* decode_l2_l3 proved udp_offset + udp_size <= size. */
	if (udp_size < DP_FRAME_UDP_SIZE + DP_FRAME_HEADER_SIZE + DP_FRAME_TAG_SIZE) {
		return -EBADMSG;
	}
	udp = buf + udp_offset;
	if (load_be16(&udp[4]) != udp_size) {
		return -EBADMSG;
	}
	v->src.udp_port = load_be16(&udp[0]);
	v->dst.udp_port = load_be16(&udp[2]);
	hdr = udp + DP_FRAME_UDP_SIZE;
	if (decode_header(hdr, &v->header, &body_size) != 0) {
		return -EBADMSG;
	}
	if (body_size > DP_FRAME_BODY_MAX ||
	    body_size != udp_size - DP_FRAME_UDP_SIZE - DP_FRAME_HEADER_SIZE - DP_FRAME_TAG_SIZE) {
		return -EBADMSG;
	}
	v->aad = hdr;
	v->aad_size = DP_FRAME_HEADER_SIZE + body_size;
	v->body = hdr + DP_FRAME_HEADER_SIZE;
	v->body_size = body_size;
	v->tag = v->body + body_size;
	return 0;
}

int
dp_frame_decode(const uint8_t *buf, size_t size, struct dp_frame_view *out)
{
	int rc;

	ASSERT(out != NULL);
	ASSERT(buf != NULL || size == 0);
	memset(out, 0, sizeof(*out));
	if (buf == NULL) {
		return -EBADMSG;
	}
	rc = decode_frame(buf, size, out);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	/* Pair assertions: what decode accepted stays inside the buffer. */
	ASSERT(out->tag + DP_FRAME_TAG_SIZE <= buf + size);
	ASSERT(out->body_size <= DP_FRAME_BODY_MAX);
	return 0;
}
