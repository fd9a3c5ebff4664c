/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The typed key schema of the replicated KV store (ARCHITECTURE.md section 6). Every key the
 * cluster agrees on belongs to one family and parses into a `struct kv_key`; components react to
 * typed keys and select them with typed patterns, never with string globbing.
 *
 * Grammar (strict; the canonical text is the only accepted spelling, so parse(format(k)) == k
 * and format(parse(t)) == t for every accepted t):
 *   key        = "blueprints/" coord
 *              | "artifacts/" coord
 *              | "slices/" node-id "/" coord "/" instance
 *              | "endpoints/" coord "/" method "/" node-id "/" instance
 *              | "leader"
 *              | "nodes/" node-id
 *              | "routing/" name
 *   coord, name  as in slices/coord.h (group:artifact:version, group:artifact)
 *   node-id    = [a-z] [a-z0-9]* ("-" [a-z0-9]+)*    no trailing or double "-"; <= KV_NODE_ID_MAX
 *   method     = [a-z_] [a-z0-9_]*                  lowercase C identifier; <= KV_METHOD_MAX
 *   instance   = "0" | [1-9] [0-9]*                 decimal, no leading zeros, <= UINT32_MAX
 *
 * Limits and key-wide rules: at most KV_KEY_MAX bytes; bytes only from [A-Za-z0-9._:/-]
 * (upper case can only appear in a version qualifier); no NUL; no ".."; no empty segment; no
 * leading or trailing "/". A segment never holds a "/", so splitting at "/" is unambiguous.
 *
 * Errors: kv_key_parse and the check functions return 0 or a negative code and, when err is not
 * NULL, fill it with the byte offset into the input and a static description:
 *   -BASE_ERR_TOO_LONG        key over KV_KEY_MAX, or a segment over its own limit
 *   -BASE_ERR_EMPTY           empty key or empty segment (leading, doubled or trailing "/")
 *   -BASE_ERR_BAD_CHAR        NUL, a byte outside the key alphabet, or one a segment forbids
 *   -BASE_ERR_SYNTAX          "..", too few segments, bad node-id/method/instance shape
 *   -BASE_ERR_TRAILING        more segments than the family has
 *   -BASE_ERR_UNKNOWN_FAMILY  the first segment names no family (with a hint for near misses)
 *   -BASE_ERR_RANGE           instance over UINT32_MAX, or a version number out of range
 * plus whatever slice_coord_parse / slice_name_parse report for the coord or name segment, with
 * the offset moved to count from the start of the key. Formatters return the text length
 * (without NUL, which they always write) or -ENOBUFS when capacity < length + 1.
 *
 * Everything here is pure (no IO, no allocation, no global state): any thread. Cost is linear
 * in the key length.
 */
#ifndef AETHER_CONSENSUS_KV_KEY_H
#define AETHER_CONSENSUS_KV_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/parse.h"
#include "slices/coord.h"

/* Longest accepted key text, without NUL. Storage may size key buffers KV_KEY_MAX + 1. */
#define KV_KEY_MAX           512
#define KV_NODE_ID_MAX       32
#define KV_METHOD_MAX        64
/* Digits of UINT32_MAX. */
#define KV_INSTANCE_TEXT_MAX 10
/* The most "/"-separated segments any family has (endpoints: family plus four). */
#define KV_KEY_SEGMENTS_MAX  5

/* Longest endpoints key, the widest family (378); kv_key.c asserts it fits in KV_KEY_MAX. */
#define KV_KEY_ENDPOINT_TEXT_MAX                                                   \
	(sizeof("endpoints/") - 1 + SLICE_COORD_TEXT_MAX + 1 + KV_METHOD_MAX + 1 + \
	 KV_NODE_ID_MAX + 1 + KV_INSTANCE_TEXT_MAX)

/* Values are stable: they may be stored and compared; 0 is never a valid family. */
enum kv_key_family {
	KV_KEY_FAMILY_BLUEPRINTS = 1, /* blueprints/{coord}: desired instances, placement */
	KV_KEY_FAMILY_ARTIFACTS = 2,  /* artifacts/{coord}: digest, size, holders */
	KV_KEY_FAMILY_SLICES = 3,     /* slices/{node}/{coord}/{instance}: command or state */
	KV_KEY_FAMILY_ENDPOINTS = 4,  /* endpoints/{coord}/{method}/{node}/{instance}: lcore */
	KV_KEY_FAMILY_LEADER = 5,     /* leader: node id and term */
	KV_KEY_FAMILY_NODES = 6,      /* nodes/{node}: address, labels, state */
	KV_KEY_FAMILY_ROUTING = 7,    /* routing/{name}: version weights */
};
#define KV_KEY_FAMILY_COUNT 7

/* Strings below are NUL-terminated and NUL-padded to their array size. */
struct kv_key_slice {
	char node_id[KV_NODE_ID_MAX + 1];
	struct slice_coord coord;
	uint32_t instance;
};

struct kv_key_endpoint {
	struct slice_coord coord;
	char method[KV_METHOD_MAX + 1];
	char node_id[KV_NODE_ID_MAX + 1];
	uint32_t instance;
};

/* A tagged union: `family` says which member is meaningful; LEADER has none. */
struct kv_key {
	enum kv_key_family family;
	union {
		struct slice_coord blueprint;    /* BLUEPRINTS */
		struct slice_coord artifact;     /* ARTIFACTS */
		struct kv_key_slice slice;       /* SLICES */
		struct kv_key_endpoint endpoint; /* ENDPOINTS */
		char node[KV_NODE_ID_MAX + 1];   /* NODES */
		struct slice_name routing;       /* ROUTING */
	};
};

/*
 * Parses text[0..size) (not NUL-terminated; a NUL inside is rejected). On success writes *out
 * (unused union bytes zeroed) and returns 0; on failure *out is untouched. Borrows text; text
 * may be NULL only when size is 0.
 */
AE_MUST_CHECK int kv_key_parse(const char *text, size_t size, struct kv_key *out,
			       struct base_parse_error *err);

/*
 * Writes the canonical text of k and a NUL into buf. Returns the length (<= KV_KEY_MAX) or
 * -ENOBUFS, leaving buf an empty string when capacity > 0. k must be valid (from kv_key_parse or a
 * kv_key_init_* function): an unknown family or a malformed node id or method is a programmer error
 * and panics.
 */
AE_MUST_CHECK int kv_key_format(const struct kv_key *k, char *buf, size_t capacity);

/* 1 when a and b denote the same key (same family and equal fields), else 0. */
int kv_key_equal(const struct kv_key *a, const struct kv_key *b);

/* The family's text ("blueprints", ..., "leader"), or NULL for a value outside the enum. */
const char *kv_key_family_name(enum kv_key_family family);

/*
 * Check one node id / method against its grammar above; offsets in err count from text.
 * Return 0 or -BASE_ERR_EMPTY, -BASE_ERR_TOO_LONG, -BASE_ERR_BAD_CHAR, -BASE_ERR_SYNTAX.
 */
AE_MUST_CHECK int kv_key_node_id_check(const char *text, size_t size, struct base_parse_error *err);
AE_MUST_CHECK int kv_key_method_check(const char *text, size_t size, struct base_parse_error *err);

/*
 * Build keys from typed parts. Coordinates and names are copied and must be valid (as produced
 * by slice_coord_parse / slice_name_parse). node_id and method are NUL-terminated strings
 * checked against their grammar: on a bad one these return the check's code and leave *k
 * untouched. Every pointer is borrowed.
 */
void kv_key_init_blueprint(struct kv_key *k, const struct slice_coord *coord);
void kv_key_init_artifact(struct kv_key *k, const struct slice_coord *coord);
AE_MUST_CHECK int kv_key_init_slice(struct kv_key *k, const char *node_id,
				    const struct slice_coord *coord, uint32_t instance);
AE_MUST_CHECK int kv_key_init_endpoint(struct kv_key *k, const struct slice_coord *coord,
				       const char *method, const char *node_id, uint32_t instance);
void kv_key_init_leader(struct kv_key *k);
AE_MUST_CHECK int kv_key_init_node(struct kv_key *k, const char *node_id);
void kv_key_init_routing(struct kv_key *k, const struct slice_name *name);

/*
 * Structured patterns: a family plus optional constraints on typed fields, all of which must
 * hold (a conjunction). Fields a family does not have cannot be constrained:
 *
 *   family       NODE NAME VERSION VERSIONS METHOD INSTANCE
 *   blueprints         x    x       x
 *   artifacts          x    x       x
 *   slices       x     x    x       x                x
 *   endpoints    x     x    x       x        x       x
 *   leader
 *   nodes        x
 *   routing            x
 *
 * NAME compares group:artifact; VERSION is an exact version; VERSIONS is a
 * slice_version_pattern (slice_version_pattern_matches). NAME plus VERSION is an exact coord.
 * Constraining a field the family lacks is a programmer error and panics.
 */
enum kv_key_field {
	KV_KEY_FIELD_NODE = 1u << 0,
	KV_KEY_FIELD_NAME = 1u << 1,
	KV_KEY_FIELD_VERSION = 1u << 2,
	KV_KEY_FIELD_VERSIONS = 1u << 3,
	KV_KEY_FIELD_METHOD = 1u << 4,
	KV_KEY_FIELD_INSTANCE = 1u << 5,
};

/* Set fields only through the functions below; members not named in `fields` are ignored. */
struct kv_key_pattern {
	enum kv_key_family family;
	unsigned fields; /* OR of enum kv_key_field: the constrained ones */
	char node_id[KV_NODE_ID_MAX + 1];
	struct slice_name name;
	struct slice_version version;
	struct slice_version_pattern versions;
	char method[KV_METHOD_MAX + 1];
	uint32_t instance;
};

/* Every key of family (no constraints). */
void kv_key_pattern_init(struct kv_key_pattern *p, enum kv_key_family family);
/* Add one constraint. node_id and method are checked as in kv_key_init_*; all borrowed. */
AE_MUST_CHECK int kv_key_pattern_set_node(struct kv_key_pattern *p, const char *node_id);
void kv_key_pattern_set_name(struct kv_key_pattern *p, const struct slice_name *name);
void kv_key_pattern_set_version(struct kv_key_pattern *p, const struct slice_version *version);
/* Name and exact version of coord. */
void kv_key_pattern_set_coord(struct kv_key_pattern *p, const struct slice_coord *coord);
void kv_key_pattern_set_versions(struct kv_key_pattern *p,
				 const struct slice_version_pattern *versions);
AE_MUST_CHECK int kv_key_pattern_set_method(struct kv_key_pattern *p, const char *method);
void kv_key_pattern_set_instance(struct kv_key_pattern *p, uint32_t instance);

/* The common selections. Those taking a node id or method return its check's code. */
/* Every slices key of one node (what a node watches for its lifecycle commands). */
AE_MUST_CHECK int kv_key_pattern_slices_of_node(struct kv_key_pattern *p, const char *node_id);
/* Every endpoint of an artifact name at any version (a router's view of one service). */
void kv_key_pattern_endpoints_of_name(struct kv_key_pattern *p, const struct slice_name *name);
/* Every endpoint of one method of one exact coord, on any node and instance. */
AE_MUST_CHECK int kv_key_pattern_endpoints_of_method(struct kv_key_pattern *p,
						     const struct slice_coord *coord,
						     const char *method);
/* Blueprints of one name whose version matches versions. */
void kv_key_pattern_blueprints_matching(struct kv_key_pattern *p, const struct slice_name *name,
					const struct slice_version_pattern *versions);

/* 1 when k belongs to p's family and satisfies every constraint of p, else 0. */
int kv_key_pattern_matches(const struct kv_key_pattern *p, const struct kv_key *k);

/*
 * The longest byte prefix shared by the canonical text of every key p matches, written with a
 * NUL into buf: the family ("slices/"), then each leading field p pins, in key order (for
 * example "slices/node-1/" for slices_of_node, the whole key when every field is pinned).
 * Returns its length or -ENOBUFS; KV_KEY_MAX + 1 bytes always suffice.
 *
 * An optimisation only, for ordered scans: every matching key starts with the prefix, but a key
 * with the prefix need not match (a field pinned after an unpinned one, a VERSIONS constraint,
 * instance 1 prefixing instance 12), so callers still test each candidate with
 * kv_key_pattern_matches.
 */
AE_MUST_CHECK int kv_key_pattern_prefix(const struct kv_key_pattern *p, char *buf, size_t capacity);

#endif /* AETHER_CONSENSUS_KV_KEY_H */
