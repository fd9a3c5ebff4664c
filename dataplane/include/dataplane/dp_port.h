/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A port: where frames (dataplane/frame.h) leave and enter the node. The port layer hides
 * DPDK's ethdev and mbufs behind byte buffers, so env_dpdk and the tools never see rte_*.h.
 *
 * Port types (enum dp_port_type):
 *  - DP_PORT_MEMIF: shared-memory packet interface between processes on one host (the
 *    default; 1.5 us round trips, backpressure instead of loss). One port per peer link: the
 *    node with the lower id is the memif server and owns the unix socket
 *    <run_dir>/memif-<low>-<high>.sock; the other is the client (dp_port_memif_link).
 *  - DP_PORT_AF_XDP and DP_PORT_PCI: one port per node shared by every peer (frames are told
 *    apart by the authenticated header, not by the port). Their configuration is part of this
 *    header so the node config can carry them, but dp_port_create answers -ENOTSUP for now
 *    (dataplane/README.md, "Not done yet").
 *
 * Link state. A memif client cannot start before its server listens, and a link needs up to
 * about a second to come up (PLATFORM-NOTES.md): dp_port_create only configures the port;
 * dp_port_wait_up polls until the link is up or a deadline passes (never a fixed sleep), and
 * dp_port_poll_link, called now and then from the control loop, restarts a client whose
 * server went away (after a peer restart the memif client must connect again).
 *
 * Sending copies the frame into mbufs (chained when it exceeds one mbuf) and retries a full
 * ring a bounded number of times: after a memif peer closes, tx_burst returns 0 forever.
 * Receiving hands out one frame at a time, borrowed until the next dp_port_recv (the mbuf is
 * freed then); a frame spread over several mbufs is copied into the port's scratch buffer.
 *
 * Context: create, wait_up, poll_link and destroy on the control thread; send and recv on the
 * lcore that owns the port (one owner: a port has one rx and one tx queue and no locks).
 */
#ifndef AETHER_DATAPLANE_DP_PORT_H
#define AETHER_DATAPLANE_DP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/compiler.h"
#include "base/log.h"

struct dp_mempool;

#define DP_PORT_NAME_MAX         32u  /* including the NUL */
#define DP_PORT_PATH_MAX         108u /* sun_path, including the NUL */
#define DP_PORT_IFNAME_MAX       16u  /* IFNAMSIZ */
#define DP_PORT_PCI_ADDR_MAX     32u
#define DP_PORT_BURST_MAX        32u
#define DP_PORT_TX_RETRY_DEFAULT 64u
/* Largest frame a port receives: anything longer is dropped and counted. */
#define DP_PORT_FRAME_MAX        (9216u)

enum dp_port_type {
	DP_PORT_MEMIF = 1,
	DP_PORT_AF_XDP = 2, /* not implemented yet: -ENOTSUP */
	DP_PORT_PCI = 3,    /* not implemented yet: -ENOTSUP */
};

enum dp_memif_role {
	DP_MEMIF_SERVER = 1, /* listens on the socket (the lower node id) */
	DP_MEMIF_CLIENT = 2, /* connects, and creates the shared memory */
};

struct dp_memif_config {
	enum dp_memif_role role;
	char socket_path[DP_PORT_PATH_MAX]; /* a filesystem path (not the abstract namespace) */
	uint32_t interface_id;              /* memif id; both ends use the same */
	uint32_t ring_size_log2;            /* memif rsize: 1 .. 14, default 10 */
	uint32_t buffer_size;               /* memif bsize: 128 .. 65535, default 2048 */
};

struct dp_af_xdp_config {
	char ifname[DP_PORT_IFNAME_MAX];
	uint32_t queue_id;
};

struct dp_pci_config {
	char address[DP_PORT_PCI_ADDR_MAX]; /* "0000:03:00.0" */
};

struct dp_port_config {
	enum dp_port_type type;
	/* DPDK device name, unique in the process; memif names must start with "net_memif". */
	char name[DP_PORT_NAME_MAX];
	struct dp_memif_config memif;   /* type DP_PORT_MEMIF */
	struct dp_af_xdp_config af_xdp; /* type DP_PORT_AF_XDP */
	struct dp_pci_config pci;       /* type DP_PORT_PCI */
	uint16_t rx_desc_count;         /* rx and tx queue sizes (powers of two, 64 .. 4096) */
	uint16_t tx_desc_count;
	uint32_t tx_retry_max; /* tx_burst calls per frame before giving up, >= 1 */
	/* Minimum time between two reconnection attempts of a memif client. */
	uint64_t reconnect_interval_ns;
};

struct dp_port_stats {
	uint64_t rx_count; /* frames handed out */
	uint64_t rx_bytes;
	uint64_t rx_scattered_count; /* frames copied out of an mbuf chain */
	uint64_t rx_too_big_count;   /* frames dropped: longer than DP_PORT_FRAME_MAX */
	uint64_t tx_count;
	uint64_t tx_bytes;
	uint64_t tx_full_count;   /* frames dropped: ring still full after tx_retry_max tries */
	uint64_t tx_down_count;   /* frames refused: link down */
	uint64_t tx_nombuf_count; /* frames refused: mempool empty */
	uint64_t link_up_count;   /* transitions to up */
	uint64_t link_down_count; /* transitions to down */
	uint64_t reconnect_count; /* client restarts */
};

struct dp_port;

/* Defaults: memif, ring 2^10, buffer 2048, 1024 descriptors, 64 tx tries, 200 ms reconnect. */
void dp_port_config_default(struct dp_port_config *cfg);

/*
 * Fills cfg (after dp_port_config_default) for the memif link between self_id and peer_id:
 * role (server when self_id < peer_id), socket <run_dir>/memif-<low>-<high>.sock, interface
 * id 0, name "net_memif_<self>_<peer>". run_dir is borrowed. Returns 0, -EINVAL when the ids
 * are equal, -ENAMETOOLONG when the socket path does not fit DP_PORT_PATH_MAX.
 */
AE_MUST_CHECK int dp_port_memif_link(uint32_t self_id, uint32_t peer_id, const char *run_dir,
				     struct dp_port_config *cfg);

/*
 * Creates the DPDK device, configures one rx and one tx queue on pool (borrowed for the
 * port's life) and tries to start it. A memif server removes a stale socket file left by a
 * killed process first. Returns 0 and *out; -EINVAL (bad config), -ENOTSUP (AF_XDP, PCI),
 * -EEXIST (name in use), -ENOMEM, or another negative errno from DPDK. The link is usually not
 * up yet: see dp_port_wait_up. Logs through log (copied; may be NULL).
 */
AE_MUST_CHECK int dp_port_create(const struct dp_port_config *cfg, struct dp_mempool *pool,
				 const struct base_log *log, struct dp_port **out);

/* Stops and closes the device and removes it (the memif server removes its socket). Frees
 * a frame still lent by dp_port_recv. NULL allowed. */
void dp_port_destroy(struct dp_port *p);

/*
 * Polls the link (and restarts a disconnected memif client, at most once per
 * reconnect_interval_ns) until it is up or timeout_ns passed. Returns 0 when up, -ETIMEDOUT.
 * Sleeps 1 ms between polls: this is the control path at startup.
 */
AE_MUST_CHECK int dp_port_wait_up(struct dp_port *p, uint64_t timeout_ns);

/*
 * One non-blocking look at the link at now_ns (CLOCK_MONOTONIC): updates the up/down counters,
 * restarts a disconnected memif client when reconnect_interval_ns passed since its last try.
 * Returns whether the link is up.
 */
bool dp_port_poll_link(struct dp_port *p, uint64_t now_ns);

/* The link state seen by the last dp_port_poll_link / dp_port_wait_up. */
bool dp_port_is_up(const struct dp_port *p);

/*
 * Sends one frame (borrowed for the call; copied into mbufs). Returns 0; -EMSGSIZE when size
 * is 0 or above DP_PORT_FRAME_MAX; -ENOTCONN when the link is down; -ENOBUFS when the mempool
 * is empty or the ring stayed full for tx_retry_max tries (the frame is dropped; fair loss).
 */
AE_MUST_CHECK int dp_port_send(struct dp_port *p, const uint8_t *frame, size_t size);

/*
 * Takes the next received frame: *frame and *size describe it, borrowed until the next
 * dp_port_recv or dp_port_destroy. Returns 0, or -EAGAIN when nothing is pending. Frames above
 * DP_PORT_FRAME_MAX are dropped and counted, never returned.
 */
AE_MUST_CHECK int dp_port_recv(struct dp_port *p, const uint8_t **frame, size_t *size);

/* The port's configuration (borrowed) and counters. */
const struct dp_port_config *dp_port_config_get(const struct dp_port *p);
void dp_port_stats_get(const struct dp_port *p, struct dp_port_stats *out);

/* One line: name, type, role, link state, counters. */
void dp_port_dump(const struct dp_port *p, FILE *out);

#endif /* AETHER_DATAPLANE_DP_PORT_H */
