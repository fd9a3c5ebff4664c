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
 *   peers = 1@10.0.0.1:7401/02:00:00:00:00:01, 2@10.0.0.2:7402/02:00:00:00:00:02
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
 *   peers             id[@host:port[/MAC]] list, commas  empty (a one-node cluster)
 *                     or blanks between entries; all the
 *                     cluster's members, this node too
 *   transport         memif | udp | af_xdp | pci        memif
 *   af_xdp.interface  Linux interface name, <= 15 bytes empty (needed by af_xdp)
 *   af_xdp.queue      interface queue, 0..65535         0
 *   pci_address       [dddd:]bb:dd.f                    empty (needed by pci)
 *   lcores            CPU list "0", "0-3", "0,2-3"      empty (the CPUs the process may use)
 *   data_dir          path                              /var/lib/aether
 *   repository        slice repository root (path)      empty (slice commands refused)
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
 * Peers on a shared wire (transport af_xdp or pci, one port for all peers): frames go to a
 * peer's MAC and IPv4 address, so every other member needs id@IPv4:port/MAC (a dotted-quad
 * IPv4 address, the UDP port written into its frames, and the MAC of its interface, as
 * xx:xx:xx:xx:xx:xx). This node's own entry needs id@IPv4:port (its source address); a MAC
 * there is optional, and when given the node checks it against its interface at start. The
 * MAC is accepted and ignored by memif and udp, so one peers line can serve every transport.
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
/* A Linux interface name: IFNAMSIZ without the NUL. */
#define NODE_CONFIG_IFNAME_MAX      15
#define NODE_CONFIG_QUEUE_MAX       65535u
/* "dddd:bb:dd.f" */
#define NODE_CONFIG_PCI_ADDRESS_MAX 12
#define NODE_CONFIG_TEXT_MAX        (1024u * 1024u)
#define NODE_CONFIG_ERROR_MAX       256

enum node_transport {
	NODE_TRANSPORT_MEMIF = 1,  /* DPDK memif between processes on one host */
	NODE_TRANSPORT_UDP = 2,    /* the kernel UDP fallback (env/ POSIX) */
	NODE_TRANSPORT_AF_XDP = 3, /* DPDK over an AF_XDP socket on a Linux interface */
	NODE_TRANSPORT_PCI = 4,    /* DPDK driving a PCI NIC */
};

/* A cluster member. host is "" and port 0 when the entry gave only an id; has_mac says
 * whether it gave a MAC (id@host:port/MAC). */
struct node_config_peer {
	uint32_t node_id;
	char host[NODE_CONFIG_HOST_MAX + 1];
	uint16_t port;
	bool has_mac;
	uint8_t mac[6];
};

/* transport = af_xdp: the interface (in the node's network namespace) and its queue. */
struct node_config_af_xdp {
	char interface[NODE_CONFIG_IFNAME_MAX + 1];
	uint32_t queue;
};

/* The run loop's idle policy: spin, then yield, then sleep in growing steps up to a bound. */
struct node_config_idle {
	uint32_t spin_count;
	uint32_t yield_count;
	uint32_t sleep_max_us;
};

/*
 * When a write is acknowledged (node_shard.h, enum node_shard_durability): SYNC (the default)
 * once a majority has it on disk, so no crash pattern loses it; REPLICATED once a majority has
 * decided it, with the log synced in the background (faster; a crash of more than f nodes at
 * once may lose the last group commit).
 */
enum node_durability {
	NODE_DURABILITY_SYNC = 0,
	NODE_DURABILITY_REPLICATED = 1,
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
	char repository[NODE_CONFIG_PATH_MAX + 1]; /* "": no slices (aetherd_lcore.c) */
	struct node_config_idle idle;
	char socket_path[NODE_CONFIG_SOCKET_PATH_MAX + 1];
	char operator_group[NODE_CONFIG_GROUP_MAX + 1];
	enum base_log_level log_level;
	bool hugepages;
	bool auth;
	struct node_config_af_xdp af_xdp;
	char pci_address[NODE_CONFIG_PCI_ADDRESS_MAX + 1];
	enum node_durability durability;
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
 * needs host:port for every peer; af_xdp and pci need their interface or address, at least
 * one other member, this node's entry as IPv4:port and every other as IPv4:port/MAC.
 * Errors: -EINVAL.
 */
AE_MUST_CHECK int node_config_check(const struct node_config *cfg, struct node_config_error *err);

/*
 * Writes cfg as a config file that node_config_parse reads back to an equal struct (every
 * option, canonical spelling). Returns the length (without the NUL it always writes) or
 * -ENOBUFS when capacity is too small. For `aetherd --print-config` and the fuzz target.
 */
AE_MUST_CHECK int node_config_format(const struct node_config *cfg, char *buf, size_t capacity);

/* "memif", "udp", "af_xdp", "pci"; "?" when unknown. */
const char *node_transport_name(enum node_transport transport);

#endif /* AETHER_NODE_NODE_CONFIG_H */
