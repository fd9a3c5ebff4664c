/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The operator protocol between `aetherctl` and a node, spoken on the node's unix socket
 * (ARCHITECTURE.md section 7, rabia.md 3d (2)). Requests and responses are frames:
 *
 *   header (CTL_FRAME_HEADER_SIZE = 20 bytes, little endian, base/bytes.h):
 *     u32 magic       CTL_MAGIC ("AECT")
 *     u8  version     CTL_PROTO_VERSION
 *     u8  type        a request type (enum ctl_msg_type), or CTL_MSG_RESPONSE | request type
 *     u16 reserved    0
 *     u64 request_id  chosen by the client, echoed by the response
 *     u32 body_size   bytes after the header
 *   body (by type; "blob" = u32 length + bytes):
 *     STATUS, NODES   empty
 *     KV_PUT          blob key (1..CTL_KEY_MAX), blob value (0..CTL_VALUE_MAX)
 *     KV_GET          blob key (1..CTL_KEY_MAX), u8 consistency (enum ctl_consistency)
 *     KV_RM           blob key (1..CTL_KEY_MAX)
 *     KV_LIST         blob prefix (0..CTL_KEY_MAX), blob after (0..CTL_KEY_MAX: the cursor,
 *                     the last key of the previous page; empty = from the first key),
 *                     u32 limit (1..CTL_LIST_MAX), u8 consistency (enum ctl_consistency)
 *     BENCH           u32 inflight (1..CTL_BENCH_INFLIGHT_MAX), u32 duration_ms
 *                     (1..CTL_BENCH_DURATION_MS_MAX), u32 value_size (1..CTL_BENCH_VALUE_MAX)
 *     SLICE_LOAD      blob coord (1..CTL_COORD_MAX), u32 worker (CTL_WORKER_ANY: the node picks)
 *     SLICE_CALL      blob coord (1..CTL_COORD_MAX), blob method (0..CTL_METHOD_MAX; empty: the
 *                     only method of a lean slice), blob argument (0..CTL_SLICE_DATA_MAX)
 *     SLICE_UNLOAD    blob coord (1..CTL_COORD_MAX)
 *     SLICE_LIST      empty
 *   response body: u8 status (enum ctl_status), then
 *     status != OK    blob message (0..CTL_MESSAGE_MAX): one line for the operator
 *     STATUS          u32 node_id, u64 cluster_id, u8 has_leader, u32 leader_id (0 without a
 *                     leader), u64 term, u64 applied_slot, u16 peer_count (..CTL_PEERS_MAX),
 *                     peer_count x {u32 node_id, u8 state, u64 last_heard_ms},
 *                     u8 has_counters, then when 1: u8 transport (enum ctl_transport),
 *                     CTL_COUNTER_COUNT x u64 in the order of struct ctl_frame_counters,
 *                     then u16 worker_count (..CTL_WORKERS_MAX), worker_count x {u32 cpu,
 *                     u64 messages_in, u64 messages_out, u64 ring_full, u32 slice_count}
 *     NODES           u16 node_count (..CTL_NODES_MAX),
 *                     node_count x {u32 node_id, u8 state, u8 flags (bit 0 self, bit 1 leader),
 *                     blob address (0..CTL_ADDRESS_MAX)}
 *     KV_PUT, KV_RM   u64 mod_index (the log index of the write)
 *     KV_GET          read, u64 mod_index, blob value (0..CTL_GET_VALUE_MAX)
 *     KV_LIST         read, u8 has_more, u32 entry_count (..CTL_LIST_MAX),
 *                     entry_count x {blob key (1..CTL_KEY_MAX), u64 mod_index, u32 value_size}
 *                     with keys strictly ascending (byte order, a prefix first) and has_more
 *                     only when entry_count >= 1
 *     read            u8 consistency (enum ctl_consistency, never NONE), then for LOCAL:
 *                     u32 node_id, u64 applied_slot (the node read and its last applied slot)
 *     BENCH           u64 ops, u64 elapsed_ns, u64 errors, u64 lost, u64 min_ns, u64 max_ns,
 *                     u32 bucket_count (..CTL_BENCH_BUCKETS_MAX), bucket_count x
 *                     {u64 value_ns, u64 count} with value_ns strictly increasing and every
 *                     count >= 1
 *     SLICE_LOAD      one slice entry (the instance loaded and started)
 *     SLICE_CALL      blob result (0..CTL_SLICE_DATA_MAX): the slice's answer
 *     SLICE_UNLOAD    empty
 *     SLICE_LIST      u16 slice_count (..CTL_SLICES_MAX), slice_count x slice entry
 *     slice entry     blob coord (1..CTL_COORD_MAX), u32 worker, u32 instance_id,
 *                     u8 state (enum ctl_slice_state)
 *
 * Slices (aetherd_int.h, "Worker lcores"): the node hosts slice instances on its worker lcores.
 * SLICE_LOAD fetches the coordinate from the node's repository and starts it on a worker (the
 * given one, or the least loaded); SLICE_CALL calls a method of the loaded instance with that
 * coordinate; SLICE_UNLOAD stops and unloads it; SLICE_LIST says which worker holds what. A node
 * without a repository, or without workers, answers UNAVAILABLE; an unknown coordinate NOT_FOUND.
 *
 * Reads (rabia.md R9: "Any local/fast read path must be labelled non-linearizable in the API"):
 * a KV_GET or KV_LIST request says how it wants to be served, and the answer says how it was.
 * LINEARIZABLE goes through the Rabia log; LOCAL reads the answering node's applied state, which
 * may lag the cluster, and names that node and its last applied slot. A node that cannot serve
 * the asked consistency answers UNSUPPORTED rather than serve another one. A list larger than
 * one answer is read in pages: the client asks again with the last key it got as `after` while
 * has_more is set. Pages are separate local reads, each at the slot its answer names, so a key
 * written between two pages may be missing (behind the cursor) or appear (ahead of it); keys
 * come in strictly ascending order and never twice.
 *
 * BENCH asks the node to run a KV write load generator inside its control loop (aetherd_int.h,
 * "Benchmark"): `inflight` writes of value_size bytes kept in flight through consensus for
 * duration_ms, each timed from submission to the node's answer. The answer: writes answered
 * (ops; errors of them were not OK), writes still unanswered when the node gave up waiting
 * (lost), the time from the first submission to the last answer, the smallest and largest
 * latency (0 when ops is 0), and the latency histogram as its non-empty buckets (each bucket's
 * lowest value; base/hist.h), which a client merges across runs exactly. A run is bounded so
 * its answer beats the server's reply timeout; longer measurements are several runs.
 *
 * A response to a request it could not identify (bad frame, refused caller, busy server) has
 * type CTL_MSG_RESPONSE | CTL_MSG_NONE, request id 0 unless the header was readable, and a
 * non-OK status. The magic and version stay the first five bytes in every future version, so a
 * server can always tell an old or new client which version it speaks.
 *
 * Sizes are bounded everywhere: a request frame is at most CTL_REQUEST_MAX bytes, a response
 * frame at most CTL_RESPONSE_MAX, and a frame whose header declares more is rejected as soon as
 * the header is in, before any of its body is read. Decoders never trust a length, reject
 * unknown values, reserved bits and trailing bytes, so the encoding is canonical: every frame
 * that decodes re-encodes to the same bytes (the fuzz target checks this).
 *
 * Decoded views (keys, values, messages, addresses) BORROW the frame's buffer. Everything here
 * is pure: no IO, no allocation, no clocks; any thread.
 */
#ifndef AETHER_CTL_CTL_PROTO_H
#define AETHER_CTL_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"

#define CTL_MAGIC             0x54434541u /* "AECT" little endian */
/* 2: KV_LIST pages with a cursor, read labels on KV_GET and KV_LIST, STATUS counters. */
#define CTL_PROTO_VERSION     2
#define CTL_FRAME_HEADER_SIZE 20

/* Whole frames, header included (rabia.md 3d (2): max request 64 KiB). */
#define CTL_REQUEST_MAX  (64u * 1024u)
#define CTL_RESPONSE_MAX (1024u * 1024u)

/* Key bytes: the KV store's wire limit (KV_CMD_KEY_MAX, checked in ctl_proto.c). */
#define CTL_KEY_MAX       512
/* A put's value: a round 60 KiB, so that a put with the longest key fits in a request. */
#define CTL_VALUE_MAX     (60u * 1024u)
/* A read label on the wire, at most: consistency, node id, applied slot. */
#define CTL_READ_INFO_MAX (1 + 4 + 8)
/* A get's value: whatever fits in a response (the store may hold values put by others). */
#define CTL_GET_VALUE_MAX (CTL_RESPONSE_MAX - CTL_FRAME_HEADER_SIZE - 1 - CTL_READ_INFO_MAX - 8 - 4)
/* Error text in a response. */
#define CTL_MESSAGE_MAX   512
/* "host:port" text of a node: a 253-byte host name, ':' and a port, with room to spare. */
#define CTL_ADDRESS_MAX   300
/* Cluster members (RABIA_NODES_MAX). */
#define CTL_PEERS_MAX     64
#define CTL_NODES_MAX     64
/* Keys in one list response; 1,024 of the longest keys still fit well inside a response. */
#define CTL_LIST_MAX      1024
/* last_heard_ms of a peer never heard from. */
#define CTL_NEVER         UINT64_MAX

/* BENCH: writes in flight (more did not raise throughput on the project's machines, and each
 * is an entry of the node's proxy table), one run's length (well under the server's 10 s reply
 * timeout, with room to drain), the value written, latency buckets in an answer (at least
 * BASE_HIST_BUCKETS). */
#define CTL_BENCH_INFLIGHT_MAX    256
#define CTL_BENCH_DURATION_MS_MAX 5000
#define CTL_BENCH_VALUE_MAX       1024
#define CTL_BENCH_BUCKETS_MAX     2560

/* Slices: a coordinate's text (slices/coord.h: group, artifact and version with room to spare),
 * a method name, a call's argument or result (the runtime's default message size), slices
 * one node hosts (SLICE_RUNTIME_INSTANCES_MAX), worker lcores (NUMA_WORKER_MAX). */
#define CTL_COORD_MAX      256
#define CTL_METHOD_MAX     64
#define CTL_SLICE_DATA_MAX 4096
#define CTL_SLICES_MAX     256
#define CTL_WORKERS_MAX    127
#define CTL_WORKER_ANY     UINT32_MAX

/* Request types; a response carries CTL_MSG_RESPONSE | the request's type. Values are wire. */
enum ctl_msg_type {
	CTL_MSG_NONE = 0, /* responses only: the request could not be identified */
	CTL_MSG_STATUS = 1,
	CTL_MSG_NODES = 2,
	CTL_MSG_KV_PUT = 3,
	CTL_MSG_KV_GET = 4,
	CTL_MSG_KV_RM = 5,
	CTL_MSG_KV_LIST = 6,
	CTL_MSG_BENCH = 7,
	CTL_MSG_SLICE_LOAD = 8,
	CTL_MSG_SLICE_CALL = 9,
	CTL_MSG_SLICE_UNLOAD = 10,
	CTL_MSG_SLICE_LIST = 11,
};
#define CTL_MSG_TYPE_COUNT 12
#define CTL_MSG_RESPONSE   0x80

/* What happened to a request. Values are wire; append only. */
enum ctl_status {
	CTL_STATUS_OK = 0,
	CTL_STATUS_NOT_FOUND = 1,   /* the key does not exist */
	CTL_STATUS_DENIED = 2,      /* the caller is not an operator */
	CTL_STATUS_BAD_REQUEST = 3, /* malformed frame or body, unknown request type */
	CTL_STATUS_TOO_LARGE = 4,   /* a frame, key or value over a limit */
	CTL_STATUS_UNSUPPORTED = 5, /* another protocol version, or a command this node lacks */
	CTL_STATUS_BUSY = 6,        /* every connection slot is taken */
	CTL_STATUS_UNAVAILABLE = 7, /* the node cannot serve this now (starting, no quorum) */
	CTL_STATUS_TIMEOUT = 8,     /* a request arrived too slowly, or no answer came in time */
	CTL_STATUS_FULL = 9,        /* the store is full */
	CTL_STATUS_INTERNAL = 10,   /* a bug in the node; the message says what */
};
#define CTL_STATUS_COUNT 11

/* A peer's liveness as the node's failure detector sees it. Values are wire. */
enum ctl_peer_state {
	CTL_PEER_UNKNOWN = 0, /* not heard from since start */
	CTL_PEER_UP = 1,
	CTL_PEER_SUSPECT = 2, /* heartbeats late */
	CTL_PEER_DOWN = 3,
};
#define CTL_PEER_STATE_COUNT 4

/*
 * How a read is asked for and how it was served (R9). Values are wire. NONE is never valid on
 * the wire: a server that forgets to label a read fails to encode its answer (the client gets
 * INTERNAL) instead of sending a local read that looks linearizable.
 */
enum ctl_consistency {
	CTL_CONSISTENCY_NONE = 0,
	CTL_CONSISTENCY_LINEARIZABLE = 1, /* through the Rabia log: sees every write acknowledged
					     before the request */
	CTL_CONSISTENCY_LOCAL = 2,        /* the answering node's applied state: may miss writes
					     it has not applied yet */
};
#define CTL_CONSISTENCY_COUNT 3

struct ctl_frame_header {
	uint8_t version;
	uint8_t type;
	uint64_t request_id;
	uint32_t body_size;
};

/* One whole frame inside a buffer: body borrows it; size = header + body bytes. */
struct ctl_frame {
	struct ctl_frame_header header;
	const uint8_t *body;
	size_t size;
};

/* BENCH's parameters (limits above). */
struct ctl_bench_params {
	uint32_t inflight;
	uint32_t duration_ms;
	uint32_t value_size;
};

/*
 * A request. key holds the key (PUT, GET, RM), the prefix (LIST) or the coordinate's text
 * (SLICE_LOAD, SLICE_CALL, SLICE_UNLOAD); value is PUT's value or SLICE_CALL's argument; after
 * (the cursor) and limit are LIST's; consistency is GET's and LIST's (never NONE); bench is
 * BENCH's; method is SLICE_CALL's, worker SLICE_LOAD's. Unused fields are ignored by the
 * encoder and zero after decoding. Pointers borrow.
 */
struct ctl_request {
	enum ctl_msg_type type;
	uint64_t request_id;
	const uint8_t *key;
	size_t key_size;
	const uint8_t *value;
	size_t value_size;
	const uint8_t *after;
	size_t after_size;
	uint32_t limit;
	enum ctl_consistency consistency;
	struct ctl_bench_params bench;
	const char *method; /* not NUL-terminated */
	size_t method_size;
	uint32_t worker;
};

/* How a KV_GET or KV_LIST answer was read. node_id and applied_slot are LOCAL's (zero for
 * LINEARIZABLE): the node whose state was read and the last slot it had applied then. */
struct ctl_read_info {
	enum ctl_consistency consistency;
	uint32_t node_id;
	uint64_t applied_slot;
};

/* Where a slice instance is in its life, as the node's control lcore knows it. Values are wire. */
enum ctl_slice_state {
	CTL_SLICE_LOADING = 0,   /* the worker is fetching, loading or starting it */
	CTL_SLICE_ACTIVE = 1,    /* started: calls reach it */
	CTL_SLICE_UNLOADING = 2, /* the worker is stopping and unloading it */
};
#define CTL_SLICE_STATE_COUNT 3

/* The transport a node's peers talk over (STATUS counters). Values are wire. */
enum ctl_transport {
	CTL_TRANSPORT_NONE = 0, /* never on the wire: has_counters is false then */
	CTL_TRANSPORT_MEMIF = 1,
	CTL_TRANSPORT_UDP = 2,
	CTL_TRANSPORT_AF_XDP = 3,
	CTL_TRANSPORT_PCI = 4,
};
#define CTL_TRANSPORT_COUNT 5

/*
 * What a node refused on the way in from its peers, by reason (STATUS, docs/operators.md
 * "Refused frames"): counters since the node started, only ever growing. The first eight are
 * the transport's: frames checked by env_dpdk and its ports (memif, af_xdp, pci;
 * dataplane/auth.h names every reason), or UDP datagrams checked by env_posix (only
 * unknown_sender and oversize: the UDP fallback has no frame header and no authentication).
 * The last four are the shard's (node_shard.h bad_frames) and its Rabia replica's (rabia.h
 * decode_errors, foreign, violations): what reached consensus and was still refused there.
 * Rabia's three restart at 0 with each Rabia instance (an epoch change, a shard restart).
 */
struct ctl_frame_counters {
	uint64_t garbage;         /* memif frames that do not decode (short, bad lengths, junk) */
	uint64_t oversize;        /* frames or datagrams above the largest one the node takes */
	uint64_t forged;          /* the tag did not verify: wrong key, forged or corrupted */
	uint64_t unauthenticated; /* the authentication flag clear while authentication is on */
	uint64_t replayed;        /* a counter the node had already accepted */
	uint64_t stale;           /* below the replay window, or an older incarnation */
	uint64_t foreign;         /* another cluster or epoch, or addressed to another node */
	uint64_t unknown_sender;  /* memif: sender not a member; udp: source address not a peer */
	uint64_t bad_frames;      /* shard: unknown channel or malformed snapshot datagram */
	uint64_t decode_errors;   /* Rabia messages that do not decode */
	uint64_t rabia_foreign;   /* Rabia messages of another cluster or epoch */
	uint64_t violations;      /* Rabia messages breaking the protocol (a sender that lies) */
};
#define CTL_COUNTER_COUNT 12

/* One worker lcore in STATUS: its cpu and what crossed its two rings since the node started. */
struct ctl_worker_info {
	uint32_t cpu;
	uint64_t messages_in;  /* messages the worker took from the control lcore */
	uint64_t messages_out; /* messages it sent back */
	uint64_t ring_full;    /* sends refused by a full ring, either way (then retried) */
	uint32_t slice_count;  /* slice instances it holds */
};

/* One slice instance (SLICE_LOAD, SLICE_LIST). coord borrows and is not NUL-terminated. */
struct ctl_slice_info {
	const char *coord;
	size_t coord_size;
	uint32_t worker;
	uint32_t instance_id;
	enum ctl_slice_state state;
};

struct ctl_peer_info {
	uint32_t node_id;
	enum ctl_peer_state state;
	uint64_t last_heard_ms; /* CTL_NEVER when never heard from */
};

struct ctl_status_info {
	uint32_t node_id;
	uint64_t cluster_id;
	bool has_leader;
	uint32_t leader_id; /* 0 unless has_leader */
	uint64_t term;
	uint64_t applied_slot;
	/* Refusal counters; false from a server that does not report them (nothing sent). */
	bool has_counters;
	enum ctl_transport transport; /* CTL_TRANSPORT_NONE unless has_counters */
	struct ctl_frame_counters counters;
	size_t peer_count;
	struct ctl_peer_info peers[CTL_PEERS_MAX];
	size_t worker_count;
	struct ctl_worker_info workers[CTL_WORKERS_MAX];
};

struct ctl_node_info {
	uint32_t node_id;
	enum ctl_peer_state state;
	bool is_self;
	bool is_leader;
	const char *address; /* "host:port" or empty; borrows; not NUL-terminated */
	size_t address_size;
};

struct ctl_kv_entry {
	const uint8_t *key; /* borrows */
	size_t key_size;
	uint64_t mod_index;
	uint32_t value_size;
};

/* One non-empty latency bucket: its lowest value and how many writes fell in it. */
struct ctl_bench_bucket {
	uint64_t value_ns;
	uint64_t count;
};

/* BENCH's answer (see the wire format above). */
struct ctl_bench_result {
	uint64_t ops;
	uint64_t elapsed_ns;
	uint64_t errors;
	uint64_t lost;
	uint64_t min_ns;
	uint64_t max_ns;
	size_t bucket_count;
	struct ctl_bench_bucket buckets[CTL_BENCH_BUCKETS_MAX];
};

/*
 * A response. type is the request type it answers (CTL_MSG_NONE for connection-level errors).
 * Which fields are meaningful depends on status and type (see the wire format above); the
 * encoder ignores the others and the decoder zeroes them. message is for status != OK: one line
 * of text, not NUL-terminated. About 80 KiB (the list entries and the bench buckets): keep one
 * per owner, not one per call on a small stack.
 */
struct ctl_response {
	enum ctl_msg_type type;
	uint64_t request_id;
	enum ctl_status status;
	const char *message;
	size_t message_size;
	struct ctl_status_info info;               /* STATUS */
	size_t node_count;                         /* NODES */
	struct ctl_node_info nodes[CTL_NODES_MAX]; /* NODES */
	uint64_t mod_index;                        /* KV_PUT, KV_GET, KV_RM */
	const uint8_t *value;                      /* KV_GET; SLICE_CALL's result */
	size_t value_size;                         /* KV_GET, SLICE_CALL */
	struct ctl_read_info read;                 /* KV_GET, KV_LIST: how it was read */
	bool has_more;                             /* KV_LIST: more keys after the last one */
	size_t entry_count;                        /* KV_LIST */
	struct ctl_kv_entry entries[CTL_LIST_MAX]; /* KV_LIST */
	struct ctl_bench_result bench;             /* BENCH */
	size_t slice_count;                        /* SLICE_LOAD (1), SLICE_LIST */
	struct ctl_slice_info slices[CTL_SLICES_MAX];
};

/*
 * Checks the header at the start of buf (size bytes may be fewer than a header). Returns 0 when
 * a whole header is there and valid (*out filled); -EAGAIN when the bytes so far are a valid
 * start but the header is incomplete; -EBADMSG when the magic (checked on the bytes present,
 * so garbage is rejected early) or the reserved field is wrong; -BASE_ERR_VERSION when the
 * version differs (out->version says which); -BASE_ERR_TOO_LONG when header + body_size exceeds
 * frame_max (*out filled, so the caller can say by how much). The type is not checked here, so
 * a server can answer an unknown type with the request id.
 */
AE_MUST_CHECK int ctl_frame_header_decode(const uint8_t *buf, size_t size, size_t frame_max,
					  struct ctl_frame_header *out);

/*
 * Views exactly one frame occupying all of buf[0..size). Errors: those of
 * ctl_frame_header_decode (-EAGAIN becomes -BASE_ERR_TRUNCATED), -BASE_ERR_TRUNCATED when the
 * body is incomplete, -BASE_ERR_TRAILING when bytes follow it.
 */
AE_MUST_CHECK int ctl_frame_decode(const uint8_t *buf, size_t size, size_t frame_max,
				   struct ctl_frame *out);

/*
 * Encodes req as a whole frame into buf (borrowed, capacity bytes) and sets *out_size.
 * Errors: -EINVAL (type not a request type, key empty or over CTL_KEY_MAX for PUT/GET/RM,
 * prefix or cursor over CTL_KEY_MAX, value over CTL_VALUE_MAX, limit outside 1..CTL_LIST_MAX,
 * consistency not LINEARIZABLE or LOCAL for GET/LIST, NULL pointer with a non-zero size),
 * -ENOBUFS (capacity too small). Never more than CTL_REQUEST_MAX bytes.
 */
AE_MUST_CHECK int ctl_request_encode(const struct ctl_request *req, uint8_t *buf, size_t capacity,
				     size_t *out_size);

/*
 * Decodes a request frame's body into *out (views borrow frame's buffer). Errors: -EBADMSG
 * (not a request type, empty key, limit out of range, unknown or NONE consistency),
 * -BASE_ERR_TRUNCATED, -BASE_ERR_TOO_LONG (a key, prefix, cursor or value over its limit),
 * -BASE_ERR_TRAILING.
 */
AE_MUST_CHECK int ctl_request_decode(const struct ctl_frame *frame, struct ctl_request *out);

/*
 * Encodes resp as a whole frame (type CTL_MSG_RESPONSE | resp->type). Errors: -EINVAL (status
 * or type unknown, CTL_MSG_NONE with status OK, a count, key, address, message or value over
 * its limit, has_leader false with a leader id, an unknown peer state, has_counters with a
 * transport NONE or unknown, a KV_GET or KV_LIST answer whose read label is NONE or
 * unknown or LINEARIZABLE with a node or slot, list keys not strictly ascending, has_more with
 * no entries, NULL pointer with a non-zero size), -ENOBUFS (capacity too small). Never more
 * than CTL_RESPONSE_MAX bytes.
 */
AE_MUST_CHECK int ctl_response_encode(const struct ctl_response *resp, uint8_t *buf,
				      size_t capacity, size_t *out_size);

/*
 * Decodes a response frame into *out (views borrow frame's buffer). Errors: -EBADMSG (not a
 * response type, unknown status, peer state, transport or consistency, bad flags or booleans, a
 * count over its limit, CTL_MSG_NONE with status OK, empty key, list keys not strictly
 * ascending, has_more with no entries), -BASE_ERR_TRUNCATED, -BASE_ERR_TOO_LONG,
 * -BASE_ERR_TRAILING.
 */
AE_MUST_CHECK int ctl_response_decode(const struct ctl_frame *frame, struct ctl_response *out);

/*
 * Resets resp to an OK answer to (type, request_id) with every payload field zero. Servers call
 * it before handing resp to a handler.
 */
void ctl_response_reset(struct ctl_response *resp, enum ctl_msg_type type, uint64_t request_id);

/* Sets status and a static or borrowed NUL-terminated message (cut at CTL_MESSAGE_MAX). */
void ctl_response_error(struct ctl_response *resp, enum ctl_status status, const char *message);

/* "status", "nodes", "kv_put", ...; "none" for CTL_MSG_NONE; "?" when unknown. */
const char *ctl_msg_type_name(enum ctl_msg_type type);
/* "ok", "not_found", "denied", ...; "?" when unknown. */
const char *ctl_status_name(enum ctl_status status);
/* "unknown", "up", "suspect", "down"; "?" when unknown. */
const char *ctl_peer_state_name(enum ctl_peer_state state);
/* "none", "memif", "udp", "af_xdp", "pci"; "?" when unknown. */
const char *ctl_transport_name(enum ctl_transport transport);
/* "none", "linearizable", "local"; "?" when unknown. */
const char *ctl_consistency_name(enum ctl_consistency consistency);
/* "loading", "active", "unloading"; "?" when unknown. */
const char *ctl_slice_state_name(enum ctl_slice_state state);

/*
 * Incremental framing of a byte stream into a caller-owned buffer, for the server's connections
 * and the client. The owner reads into ctl_stream_space(), reports the bytes with
 * ctl_stream_commit(), asks ctl_stream_next() for a complete frame and drops it with
 * ctl_stream_consume() once handled. A partial frame waits for more bytes; a header declaring
 * more than frame_max bytes is rejected as soon as the header is in, before its body is read.
 * The buffer is borrowed for the stream's life; frames borrow the buffer until consumed.
 */
struct ctl_stream {
	uint8_t *buf;
	size_t capacity; /* also the largest frame accepted */
	size_t used;
};

/* capacity >= CTL_FRAME_HEADER_SIZE (asserted). */
void ctl_stream_init(struct ctl_stream *s, uint8_t *buf, size_t capacity);
/* Where to read the next bytes, and how many fit (0 when full: consume a frame first). */
uint8_t *ctl_stream_space(struct ctl_stream *s, size_t *space);
/* n bytes were written at ctl_stream_space() (n <= space, asserted). */
void ctl_stream_commit(struct ctl_stream *s, size_t n);
/*
 * 1 and *out filled when a complete frame starts the buffer; 0 when more bytes are needed;
 * a negative error of ctl_frame_header_decode (-EBADMSG, -BASE_ERR_VERSION,
 * -BASE_ERR_TOO_LONG, with out->header filled for the last two) when the stream is broken and
 * should be closed. Does not change the stream: call it again after consuming.
 */
AE_MUST_CHECK int ctl_stream_next(const struct ctl_stream *s, struct ctl_frame *out);
/* Drops the first frame_size bytes (a frame returned by ctl_stream_next). */
void ctl_stream_consume(struct ctl_stream *s, size_t frame_size);
/* Bytes buffered: 0 means no partial frame is waiting. */
size_t ctl_stream_buffered(const struct ctl_stream *s);
/* Forgets everything buffered. */
void ctl_stream_reset(struct ctl_stream *s);

#endif /* AETHER_CTL_CTL_PROTO_H */
