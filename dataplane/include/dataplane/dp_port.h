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
 *  - DP_PORT_AF_XDP: an AF_XDP socket on one queue of a Linux network interface (DPDK's
 *    net_af_xdp vdev: iface=<ifname>,start_queue=<queue_id>,queue_count=1,busy_budget=<n>).
 *    One port per node, shared by every peer on that interface: frames are told apart by the
 *    authenticated header, never by the port, and reach a peer through the MAC and IPv4
 *    address env_dpdk writes into the frame (struct env_dpdk_peer.endpoint). The XDP program
 *    takes every frame of the queue away from the kernel stack, so the port drops (and
 *    counts) frames whose destination MAC is not the interface's own: broadcast, multicast
 *    and other hosts' frames never reach the decoder. AF_XDP drops under load (no
 *    backpressure): the protocol above retransmits. Frames travel in one buffer: the largest
 *    is the interface MTU plus the Ethernet header, bounded by the mbuf size
 *    (dp_port_frame_max); a larger send is refused with -EMSGSIZE, never cut.
 *  - DP_PORT_PCI: a NIC that DPDK drives, named by its PCI address (dp_port_pci_link), shared
 *    like an AF_XDP port and on the same frame path: one frame per mbuf, at most the NIC's MTU
 *    plus the Ethernet header (dp_port_frame_max), and only frames to the port's own MAC are
 *    handed out (broadcast and multicast are dropped and counted). EAL must run with PCI
 *    (dp_eal_config.use_pci, the address in its allow-list): the NIC is then probed at EAL
 *    start, and dp_port_create takes it; a NIC EAL did not probe is probed by dp_port_create
 *    (rte_dev_probe). Before probing, sysfs is read: an address with no device is -ENODEV,
 *    and a device bound to a kernel driver DPDK cannot share (anything but vfio-pci,
 *    uio_pci_generic, igb_uio and the bifurcated mlx4/mlx5 drivers) is -EBUSY and never
 *    touched, so a wrong address cannot take the host's own NIC or disk away from the kernel.
 *
 * Link state. A memif client cannot start before its server listens, and a link needs up to
 * about a second to come up (PLATFORM-NOTES.md): dp_port_create only configures the port;
 * dp_port_wait_up polls until the link is up or a deadline passes (never a fixed sleep), and
 * dp_port_poll_link, called now and then from the control loop, restarts a client whose
 * server went away (after a peer restart the memif client must connect again). The af_xdp
 * driver reports "up" as soon as it starts, so an AF_XDP port is up only while the kernel
 * interface is also up with a carrier (IFF_UP and IFF_RUNNING: for a veth, both ends up).
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

#define DP_PORT_NAME_MAX                   32u  /* including the NUL */
#define DP_PORT_PATH_MAX                   108u /* sun_path, including the NUL */
#define DP_PORT_IFNAME_MAX                 16u  /* IFNAMSIZ */
#define DP_PORT_PCI_ADDR_MAX               32u
#define DP_PORT_BURST_MAX                  32u
#define DP_PORT_TX_RETRY_DEFAULT           64u
/* DPDK's default NAPI busy-poll budget for net_af_xdp. */
#define DP_PORT_AF_XDP_BUSY_BUDGET_DEFAULT 64u
/* Largest frame a port receives: anything longer is dropped and counted. */
#define DP_PORT_FRAME_MAX                  (9216u)

enum dp_port_type {
	DP_PORT_MEMIF = 1,
	DP_PORT_AF_XDP = 2, /* a Linux interface through an AF_XDP socket, shared by all peers */
	DP_PORT_PCI = 3,    /* a NIC DPDK drives, by PCI address, shared by all peers */
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
	char ifname[DP_PORT_IFNAME_MAX]; /* the kernel interface, in this network namespace */
	uint32_t queue_id;               /* the interface queue to bind (start_queue) */
	/*
	 * SO_BUSY_POLL_BUDGET for the socket (0 .. 1024, our bound). Non-zero also makes an empty
	 * receive poll the socket with a non-blocking recvfrom. Zero turns busy polling off, and
	 * then the 22.11 driver calls poll() with a ONE SECOND timeout on an empty receive whenever
	 * the kernel asks for a fill-ring wakeup (zero-copy NICs do; veth in copy mode does not),
	 * which would stall the lcore: keep the default unless the interface is known.
	 */
	uint32_t busy_budget;
};

struct dp_pci_config {
	/* "0000:03:00.0": lowercase hex with the domain (dp_port_pci_link writes this form). */
	char address[DP_PORT_PCI_ADDR_MAX];
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
	uint64_t rx_filtered_count;  /* AF_XDP: frames dropped, destination MAC not ours */
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

/* Defaults: memif, ring 2^10, buffer 2048, 1024 descriptors, 64 tx tries, 1 s reconnect;
 * AF_XDP queue 0 and busy budget DP_PORT_AF_XDP_BUSY_BUDGET_DEFAULT. */
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
 * Fills cfg (after dp_port_config_default) for an AF_XDP port on interface ifname (borrowed),
 * queue 0: type, ifname, name "net_af_xdp_<ifname>". Returns 0, -EINVAL when ifname is empty,
 * does not fit DP_PORT_IFNAME_MAX or holds a comma or an equal sign (they would end the
 * devargs value).
 */
AE_MUST_CHECK int dp_port_af_xdp_link(const char *ifname, struct dp_port_config *cfg);

/*
 * Fills cfg (after dp_port_config_default) for the NIC at PCI address `address` (borrowed):
 * "dddd:bb:dd.f" or "bb:dd.f" (domain 0), hex in either case, device 0..1f, function 0..7.
 * Sets the type, the address in DPDK's form (lowercase, with the domain) and the name (the
 * same: DPDK names the ethdev after the device). Returns 0, or -EINVAL for anything else.
 * Pure: no DPDK call, any thread.
 */
AE_MUST_CHECK int dp_port_pci_link(const char *address, struct dp_port_config *cfg);

/*
 * Looks in sysfs (never at DPDK) at the device for a PCI port: 0 when it exists and is bound
 * to a driver DPDK can use, or to none (DPDK's probe decides then); -ENODEV when no device has
 * that address; -EBUSY when a kernel driver DPDK cannot share holds it; -EINVAL for a
 * malformed address. Failures are logged in one line naming the address (log borrowed; may
 * be NULL). EAL probes the devices on its allow-list while it starts, so call this BEFORE
 * dp_eal_start with the address on the allow-list; dp_port_create calls it again before it
 * probes a device itself. Any thread.
 */
AE_MUST_CHECK int dp_port_pci_check(const char *address, const struct base_log *log);

/*
 * Creates the DPDK device, configures one rx and one tx queue on pool (borrowed for the
 * port's life) and tries to start it. A memif server removes a stale socket file left by a
 * killed process first. An AF_XDP port registers the whole pool as its UMEM (the pool must
 * not be shared with another AF_XDP port on the same queue) and attaches libxdp's default XDP
 * program to the interface (detached again by dp_port_destroy; a killed process leaves it).
 * A PCI port takes the NIC (probing it when EAL did not, see DP_PORT_PCI above).
 * Returns 0 and *out; -EINVAL (bad config); -ENODEV (AF_XDP: no such interface here; PCI: no
 * device at that address); -EBUSY (PCI: bound to a kernel driver DPDK cannot share);
 * -ENOTSUP (PCI: EAL runs without PCI, or no DPDK driver took the device); -EEXIST (name in
 * use), -ENOMEM, or another negative errno from DPDK. Every failure is also logged in one
 * line naming the port. The link is usually not up yet: see dp_port_wait_up. Logs through
 * log (copied; may be NULL).
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
 * is 0 or above dp_port_frame_max; -ENOTCONN when the link is down; -ENOBUFS when the mempool
 * is empty or the ring stayed full for tx_retry_max tries (the frame is dropped; fair loss).
 * 0 means the driver took the frame, not that it arrived: AF_XDP may still drop it.
 */
AE_MUST_CHECK int dp_port_send(struct dp_port *p, const uint8_t *frame, size_t size);

/*
 * Takes the next received frame: *frame and *size describe it, borrowed until the next
 * dp_port_recv or dp_port_destroy. Returns 0, or -EAGAIN when nothing is pending. Frames above
 * DP_PORT_FRAME_MAX are dropped and counted, never returned.
 */
AE_MUST_CHECK int dp_port_recv(struct dp_port *p, const uint8_t **frame, size_t *size);

/*
 * The largest frame dp_port_send takes, fixed at create: DP_PORT_FRAME_MAX for memif (chained
 * mbufs); for AF_XDP the interface MTU plus the 14-byte Ethernet header, at most what one mbuf
 * of the pool holds behind the kernel's 256-byte XDP headroom (1514 on a 1500-byte MTU); for
 * a PCI NIC its MTU plus the Ethernet header, at most one mbuf's data room.
 */
size_t dp_port_frame_max(const struct dp_port *p);

/* The port's MAC address (AF_XDP: the interface's, read at create; memif, PCI: the driver's). */
void dp_port_mac_get(const struct dp_port *p, uint8_t mac[6]);

/* The port's configuration (borrowed) and counters. */
const struct dp_port_config *dp_port_config_get(const struct dp_port *p);
void dp_port_stats_get(const struct dp_port *p, struct dp_port_stats *out);

/* One line: name, type, role, link state, counters. */
void dp_port_dump(const struct dp_port *p, FILE *out);

#endif /* AETHER_DATAPLANE_DP_PORT_H */
