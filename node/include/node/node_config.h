/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node configuration: a documented text file plus command-line overrides (ARCHITECTURE.md
 * section 7; node/aetherd.conf.example shows every option with its default and a comment).
 *
 * Format (one option per line):
 *
 *   # a comment, from '#' to the end of the line; also after a value ("key = 1  # why")
 *   node_id = 1
 *   peers = 1@127.0.0.1:7001, 2@127.0.0.1:7002, 3
 *   secret_file = "/path/with # hash"      double quotes keep '#' and edge blanks; \" and \\
 *   [idle]                                  a section: later keys are idle.<key>
 *   spin_count = 64                         the same as idle.spin_count = 64 before any section
 *
 * Blank lines and surrounding blanks are ignored; CRLF line ends are accepted. Each option may
 * appear once per file. Sections are optional: every option can be written with its full dotted
 * name before the first section. Control characters and NUL bytes are rejected.
 *
 * Options (name, type, default):
 *   node_id           1..4294967295                     1
 *   cluster_id        0..2^64-1, decimal or 0x hex       1
 *   secret_file       path                              /etc/aether/cluster.secret
 *   peers             id[@host:port] list, commas or     empty (a one-node cluster)
 *                     blanks between entries; all the
 *                     cluster's members, this node too
 *   transport         memif | udp                       memif
 *   lcores            CPU list "0", "0-3", "0,2-3"      empty (the CPUs the process may use)
 *   data_dir          path                              /var/lib/aether
 *   idle.spin_count   empty polls before yielding       64
 *   idle.yield_count  yields before sleeping            64
 *   idle.sleep_max_us longest idle sleep, 1..1000000    100
 *   socket_path       operator socket, <= 107 bytes     /run/aether/aether.sock
 *   operator_group    group name or gid; empty = none   aether
 *   log_level         error | warn | info | debug       info
 *   hugepages         boolean                           false (EAL runs with --no-huge)
 *   auth              boolean                           true (turning it off is logged)
 * Booleans: true/false, yes/no, on/off, 1/0.
 *
 * Errors: every function returns 0 or a negative code and fills err (when not NULL) with a
 * one-line text naming where: "aetherd.conf:7: unknown option 'idel.spin_count'" or
 * "--set 'transport=tcp': transport must be memif or udp, not 'tcp'". Codes: -BASE_ERR_SYNTAX
 * (line shape, unknown section, bad quoting), -ENOENT (unknown option), -EEXIST (an option or
 * peer given twice), -EINVAL (a bad value, or an inconsistent config from node_config_check),
 * -BASE_ERR_RANGE (a number out of range), -BASE_ERR_TOO_LONG (a value over its limit),
 * -BASE_ERR_BAD_CHAR (control character or NUL), -EFBIG (text over NODE_CONFIG_TEXT_MAX).
 *
 * Typical use: node_config_defaults, node_config_parse (the file), node_config_set for each
 * override, then node_config_check. Pure: no IO, no allocation, no global state; any thread.
 */
#ifndef AETHER_NODE_NODE_CONFIG_H
#define AETHER_NODE_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/log.h"

/* Cluster members (RABIA_NODES_MAX). */
#define NODE_CONFIG_PEERS_MAX       64
/* A DNS name (RFC 1035) or an IPv4 address. */
#define NODE_CONFIG_HOST_MAX        253
#define NODE_CONFIG_PATH_MAX        255
/* sun_path holds 108 bytes with the NUL. */
#define NODE_CONFIG_SOCKET_PATH_MAX 107
#define NODE_CONFIG_GROUP_MAX       32
#define NODE_CONFIG_LCORES_MAX      127
/* Highest CPU number in lcores. */
#define NODE_CONFIG_CPU_MAX         1023
#define NODE_CONFIG_SLEEP_MAX_US    1000000u
#define NODE_CONFIG_TEXT_MAX        (1024u * 1024u)
#define NODE_CONFIG_ERROR_MAX       256

enum node_transport {
	NODE_TRANSPORT_MEMIF = 1, /* DPDK memif between processes on one host */
	NODE_TRANSPORT_UDP = 2,   /* the kernel UDP fallback (env/ POSIX) */
};

/* A cluster member. host is "" and port 0 when the entry gave only an id. */
struct node_config_peer {
	uint32_t node_id;
	char host[NODE_CONFIG_HOST_MAX + 1];
	uint16_t port;
};

/* The run loop's idle policy: spin, then yield, then sleep in growing steps up to a bound. */
struct node_config_idle {
	uint32_t spin_count;
	uint32_t yield_count;
	uint32_t sleep_max_us;
};

/* Strings are NUL-terminated and NUL-padded to their array size. */
struct node_config {
	uint32_t node_id;
	uint64_t cluster_id;
	char secret_file[NODE_CONFIG_PATH_MAX + 1];
	size_t peer_count;
	struct node_config_peer peers[NODE_CONFIG_PEERS_MAX];
	enum node_transport transport;
	char lcores[NODE_CONFIG_LCORES_MAX + 1];
	char data_dir[NODE_CONFIG_PATH_MAX + 1];
	struct node_config_idle idle;
	char socket_path[NODE_CONFIG_SOCKET_PATH_MAX + 1];
	char operator_group[NODE_CONFIG_GROUP_MAX + 1];
	enum base_log_level log_level;
	bool hugepages;
	bool auth;
};

/* Where and why a config was rejected. line is 1-based; 0 for overrides and node_config_check. */
struct node_config_error {
	int code;
	size_t line;
	char text[NODE_CONFIG_ERROR_MAX];
};

/* Fills cfg with every default (zeroing everything else, padding included). */
void node_config_defaults(struct node_config *cfg);

/*
 * Applies the options in text[0..size) (not NUL-terminated) onto cfg, which normally holds the
 * defaults. source names the text in error messages (the file name). On error cfg is partly
 * updated: start again from the defaults. Cost: linear in size.
 */
AE_MUST_CHECK int node_config_parse(struct node_config *cfg, const char *text, size_t size,
				    const char *source, struct node_config_error *err);

/*
 * Applies one "name=value" override (a command-line --set): the full dotted name, blanks around
 * both parts ignored, the value taken literally (no comments) unless it is double-quoted.
 * A list option (peers) is replaced, not extended. On error cfg is unchanged.
 */
AE_MUST_CHECK int node_config_set(struct node_config *cfg, const char *assignment,
				  struct node_config_error *err);

/*
 * Checks what single options cannot: with peers given, node_id is among them; the udp transport
 * needs host:port for every peer. Errors: -EINVAL.
 */
AE_MUST_CHECK int node_config_check(const struct node_config *cfg, struct node_config_error *err);

/*
 * Writes cfg as a config file that node_config_parse reads back to an equal struct (every
 * option, canonical spelling). Returns the length (without the NUL it always writes) or
 * -ENOBUFS when capacity is too small. For `aetherd --print-config` and the fuzz target.
 */
AE_MUST_CHECK int node_config_format(const struct node_config *cfg, char *buf, size_t capacity);

/* "memif", "udp"; "?" when unknown. */
const char *node_transport_name(enum node_transport transport);

#endif /* AETHER_NODE_NODE_CONFIG_H */
