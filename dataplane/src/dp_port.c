/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/dp_port.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/run.h"
#include "dp_eal_int.h"
#include "dp_mempool_int.h"

#define MEMIF_NAME_PREFIX      "net_memif"
#define AF_XDP_NAME_PREFIX     "net_af_xdp"
/* Our bound on SO_BUSY_POLL_BUDGET (the kernel takes up to 65535; NAPI budgets are ~64). */
#define AF_XDP_BUSY_BUDGET_MAX 1024u
#define AF_XDP_QUEUE_MAX       65535u
/* The kernel puts XDP_PACKET_HEADROOM (256) in front of every frame it writes to the UMEM. */
#define AF_XDP_KERNEL_HEADROOM 256u
#define ETH_HEADER_SIZE        14u
#define MAC_SIZE               6u
#define DESC_MIN               64u
#define DESC_MAX               4096u
/* A client whose start failed (no server yet) tries again this soon. */
#define CONNECT_RETRY_NS       (50u * 1000u * 1000u)
#define WAIT_POLL_NS           (1000u * 1000u)
#define DEVARGS_MAX            (DP_PORT_PATH_MAX + 128u)
/* "dddd:bb:dd.f": how DPDK and sysfs name a PCI device. */
#define PCI_ADDR_LEN           12u
#define PCI_ADDR_SHORT_LEN     7u /* "bb:dd.f", domain 0 */
#define PCI_SYSFS_DEVICES      "/sys/bus/pci/devices"

static_assert(DP_PORT_NAME_MAX > PCI_ADDR_LEN, "a PCI port is named after its address");
static_assert(DP_PORT_PCI_ADDR_MAX > PCI_ADDR_LEN, "a normalized address fits");

struct dp_port {
	struct dp_port_config cfg;
	struct rte_mempool *mp; /* borrowed from the dp_mempool */
	struct base_log log;
	int ctl_fd;       /* AF_XDP: a datagram socket for the interface ioctls; -1 otherwise */
	size_t frame_max; /* the largest frame dp_port_send takes */
	uint8_t mac[MAC_SIZE];
	uint16_t port_id;
	bool is_started;
	bool is_up;
	bool last_start_failed;
	uint64_t last_start_ns; /* CLOCK_MONOTONIC of the last start attempt */
	uint16_t rx_count;      /* mbufs in rx_burst */
	uint16_t rx_next;       /* next one to hand out */
	struct rte_mbuf *rx_burst[DP_PORT_BURST_MAX];
	struct rte_mbuf *lent; /* the frame handed out by the last dp_port_recv */
	struct dp_port_stats stats;
	uint8_t scratch[DP_PORT_FRAME_MAX]; /* chained frames are copied here */
};

void
dp_port_config_default(struct dp_port_config *cfg)
{
	ASSERT(cfg != NULL);
	memset(cfg, 0, sizeof(*cfg));
	cfg->type = DP_PORT_MEMIF;
	cfg->memif.role = DP_MEMIF_SERVER;
	cfg->memif.ring_size_log2 = 10;
	cfg->memif.buffer_size = 2048;
	cfg->rx_desc_count = 1024;
	cfg->tx_desc_count = 1024;
	cfg->tx_retry_max = DP_PORT_TX_RETRY_DEFAULT;
	cfg->reconnect_interval_ns = 1000u * 1000u * 1000u;
	cfg->af_xdp.queue_id = 0;
	cfg->af_xdp.busy_budget = DP_PORT_AF_XDP_BUSY_BUDGET_DEFAULT;
}

int
dp_port_memif_link(uint32_t self_id, uint32_t peer_id, const char *run_dir,
		   struct dp_port_config *cfg)
{
	uint32_t low = self_id < peer_id ? self_id : peer_id;
	uint32_t high = self_id < peer_id ? peer_id : self_id;
	int n;

	ASSERT(run_dir != NULL && cfg != NULL);
	if (self_id == peer_id) {
		return -EINVAL;
	}
	cfg->type = DP_PORT_MEMIF;
	cfg->memif.role = self_id < peer_id ? DP_MEMIF_SERVER : DP_MEMIF_CLIENT;
	cfg->memif.interface_id = 0;
	n = snprintf(cfg->memif.socket_path, sizeof(cfg->memif.socket_path),
		     "%s/memif-%" PRIu32 "-%" PRIu32 ".sock", run_dir, low, high);
	if (n < 0 || (size_t)n >= sizeof(cfg->memif.socket_path)) {
		return -ENAMETOOLONG;
	}
	n = snprintf(cfg->name, sizeof(cfg->name), MEMIF_NAME_PREFIX "_%" PRIu32 "_%" PRIu32,
		     self_id, peer_id);
	ASSERT(n > 0 && (size_t)n < sizeof(cfg->name)); /* 9 + 2 * 11 characters fit */
	return 0;
}

/* A devargs value ends at a comma, and kvargs splits pairs at '='. */
static bool
devargs_value_is_valid(const char *v, size_t capacity)
{
	size_t len = strnlen(v, capacity);

	return len > 0 && len < capacity && strpbrk(v, ",=") == NULL;
}

int
dp_port_af_xdp_link(const char *ifname, struct dp_port_config *cfg)
{
	int n;

	ASSERT(ifname != NULL && cfg != NULL);
	if (!devargs_value_is_valid(ifname, sizeof(cfg->af_xdp.ifname))) {
		return -EINVAL;
	}
	cfg->type = DP_PORT_AF_XDP;
	memset(cfg->af_xdp.ifname, 0, sizeof(cfg->af_xdp.ifname));
	memcpy(cfg->af_xdp.ifname, ifname, strlen(ifname));
	n = snprintf(cfg->name, sizeof(cfg->name), AF_XDP_NAME_PREFIX "_%s", ifname);
	ASSERT(n > 0 && (size_t)n < sizeof(cfg->name)); /* 11 + 15 characters fit */
	return 0;
}

/* Takes `digits` hex digits at in[*pos] followed by `end` (NUL: the end of the string). */
static bool
pci_hex_take(const char *in, size_t *pos, size_t digits, char end, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < digits; i++) {
		char c = in[*pos + i];
		unsigned d;

		if (c >= '0' && c <= '9') {
			d = (unsigned)(c - '0');
		} else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
			d = (unsigned)((c | 0x20) - 'a' + 10);
		} else {
			return false;
		}
		v = v * 16u + d;
	}
	if (in[*pos + digits] != end) {
		return false;
	}
	*pos += digits + 1;
	*out = v;
	return true;
}

/* "[dddd:]bb:dd.f" (hex, device <= 0x1f, function <= 7) to the lowercase "dddd:bb:dd.f" DPDK
 * names the device by (and the ethdev after it). out holds DP_PORT_PCI_ADDR_MAX bytes. */
static int
pci_address_normalize(const char *in, char *out)
{
	size_t len = strnlen(in, DP_PORT_PCI_ADDR_MAX);
	size_t pos = 0;
	unsigned domain = 0;
	unsigned bus;
	unsigned dev;
	unsigned fn;
	int n;

	if (len != PCI_ADDR_LEN && len != PCI_ADDR_SHORT_LEN) {
		return -EINVAL;
	}
	if (len == PCI_ADDR_LEN && !pci_hex_take(in, &pos, 4, ':', &domain)) {
		return -EINVAL;
	}
	if (!pci_hex_take(in, &pos, 2, ':', &bus) || !pci_hex_take(in, &pos, 2, '.', &dev) ||
	    !pci_hex_take(in, &pos, 1, '\0', &fn) || dev > 0x1fu || fn > 7u) {
		return -EINVAL;
	}
	n = snprintf(out, DP_PORT_PCI_ADDR_MAX, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
	ASSERT(n == (int)PCI_ADDR_LEN);
	return 0;
}

int
dp_port_pci_link(const char *address, struct dp_port_config *cfg)
{
	char norm[DP_PORT_PCI_ADDR_MAX];

	ASSERT(address != NULL && cfg != NULL);
	if (pci_address_normalize(address, norm) != 0) {
		return -EINVAL;
	}
	cfg->type = DP_PORT_PCI;
	memcpy(cfg->pci.address, norm, sizeof(norm));
	memset(cfg->name, 0, sizeof(cfg->name));
	memcpy(cfg->name, norm, PCI_ADDR_LEN);
	return 0;
}

static bool
desc_count_is_valid(uint16_t n)
{
	return n >= DESC_MIN && n <= DESC_MAX && base_is_pow2(n);
}

static int
memif_config_check(const struct dp_port_config *cfg)
{
	const struct dp_memif_config *m = &cfg->memif;
	size_t path_len = strnlen(m->socket_path, sizeof(m->socket_path));

	if (strncmp(cfg->name, MEMIF_NAME_PREFIX, strlen(MEMIF_NAME_PREFIX)) != 0) {
		return -EINVAL;
	}
	if (m->role != DP_MEMIF_SERVER && m->role != DP_MEMIF_CLIENT) {
		return -EINVAL;
	}
	if (path_len == 0 || path_len == sizeof(m->socket_path) || m->socket_path[0] != '/' ||
	    strchr(m->socket_path, ',') != NULL) {
		return -EINVAL; /* a comma would end the devargs value */
	}
	if (m->ring_size_log2 < 1 || m->ring_size_log2 > 14 || m->buffer_size < 128 ||
	    m->buffer_size > UINT16_MAX) {
		return -EINVAL;
	}
	return 0;
}

static int
af_xdp_config_check(const struct dp_port_config *cfg)
{
	const struct dp_af_xdp_config *x = &cfg->af_xdp;

	if (strncmp(cfg->name, AF_XDP_NAME_PREFIX, strlen(AF_XDP_NAME_PREFIX)) != 0) {
		return -EINVAL;
	}
	if (!devargs_value_is_valid(x->ifname, sizeof(x->ifname))) {
		return -EINVAL;
	}
	if (x->queue_id > AF_XDP_QUEUE_MAX || x->busy_budget > AF_XDP_BUSY_BUDGET_MAX) {
		return -EINVAL;
	}
	return 0;
}

/* The address in its normalized form, and the port named after it (as DPDK names the ethdev). */
static int
pci_config_check(const struct dp_port_config *cfg)
{
	char norm[DP_PORT_PCI_ADDR_MAX];

	if (pci_address_normalize(cfg->pci.address, norm) != 0 ||
	    strcmp(norm, cfg->pci.address) != 0 || strcmp(cfg->name, norm) != 0) {
		return -EINVAL;
	}
	return 0;
}

static int
config_check(const struct dp_port_config *cfg)
{
	size_t name_len = strnlen(cfg->name, sizeof(cfg->name));

	if (name_len == 0 || name_len == sizeof(cfg->name) || strchr(cfg->name, ',') != NULL) {
		return -EINVAL;
	}
	if (!desc_count_is_valid(cfg->rx_desc_count) || !desc_count_is_valid(cfg->tx_desc_count) ||
	    cfg->tx_retry_max == 0) {
		return -EINVAL;
	}
	switch (cfg->type) {
	case DP_PORT_MEMIF:
		return memif_config_check(cfg);
	case DP_PORT_AF_XDP:
		return af_xdp_config_check(cfg);
	case DP_PORT_PCI:
		return pci_config_check(cfg);
	}
	return -EINVAL;
}

/* A server must own its socket path: a file left by a killed server would make bind fail. */
static void
memif_remove_stale_socket(const struct dp_port *p)
{
	struct stat st;

	if (p->cfg.memif.role != DP_MEMIF_SERVER) {
		return;
	}
	if (lstat(p->cfg.memif.socket_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		base_logf(&p->log, BASE_LOG_INFO, "port: name=%s removing stale socket %s",
			  p->cfg.name, p->cfg.memif.socket_path);
		(void)unlink(p->cfg.memif.socket_path);
	}
}

static void
memif_devargs(struct dp_port *p, char *args, size_t size)
{
	const struct dp_memif_config *m = &p->cfg.memif;
	int n;

	n = snprintf(args, size,
		     "role=%s,id=%" PRIu32 ",socket=%s,socket-abstract=no,rsize=%" PRIu32
		     ",bsize=%" PRIu32,
		     m->role == DP_MEMIF_SERVER ? "server" : "client", m->interface_id,
		     m->socket_path, m->ring_size_log2, m->buffer_size);
	ASSERT(n > 0 && (size_t)n < size); /* sized for the longest path */
	memif_remove_stale_socket(p);
}

/* One queue pair: the port has one owner lcore (dp_port.h). The driver's parameter names are
 * DPDK 22.11's (PMD_INFO_STRING of librte_net_af_xdp: iface, start_queue, queue_count,
 * shared_umem, xdp_prog, busy_budget, force_copy). */
static void
af_xdp_devargs(const struct dp_port *p, char *args, size_t size)
{
	const struct dp_af_xdp_config *x = &p->cfg.af_xdp;
	int n;

	n = snprintf(args, size,
		     "iface=%s,start_queue=%" PRIu32 ",queue_count=1,busy_budget=%" PRIu32,
		     x->ifname, x->queue_id, x->busy_budget);
	ASSERT(n > 0 && (size_t)n < size); /* ifname is at most 15 characters */
}

/* The bus DPDK's hotplug calls name: memif and AF_XDP ports are virtual devices. */
static const char *
port_bus(const struct dp_port *p)
{
	return p->cfg.type == DP_PORT_PCI ? "pci" : "vdev";
}

/* Drivers through which DPDK can drive a NIC: the user-space I/O ones, and the bifurcated
 * Mellanox drivers (their PMDs run next to the kernel driver). */
static bool
pci_driver_is_usable(const char *driver)
{
	static const char *const usable[] = {"vfio-pci", "uio_pci_generic", "igb_uio", "mlx4_core",
					     "mlx5_core"};

	for (size_t i = 0; i < AE_ARRAY_SIZE(usable); i++) {
		if (strcmp(driver, usable[i]) == 0) {
			return true;
		}
	}
	return false;
}

int
dp_port_pci_check(const char *address, const struct base_log *log)
{
	char addr[DP_PORT_PCI_ADDR_MAX];
	char path[sizeof(PCI_SYSFS_DEVICES) + DP_PORT_PCI_ADDR_MAX + 8];
	char link[256];
	const char *driver;
	ssize_t n;

	ASSERT(address != NULL);
	if (pci_address_normalize(address, addr) != 0) {
		return -EINVAL;
	}
	(void)snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s", addr);
	if (access(path, F_OK) != 0) {
		base_logf(log, BASE_LOG_ERROR,
			  "port: pci=%s no PCI device at this address on this machine (see "
			  "ls " PCI_SYSFS_DEVICES ")",
			  addr);
		return -ENODEV;
	}
	(void)snprintf(path, sizeof(path), PCI_SYSFS_DEVICES "/%s/driver", addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		return 0; /* no driver bound: DPDK's probe decides */
	}
	link[n] = '\0';
	driver = strrchr(link, '/');
	driver = driver != NULL ? driver + 1 : link;
	if (!pci_driver_is_usable(driver)) {
		base_logf(log, BASE_LOG_ERROR,
			  "port: pci=%s is bound to kernel driver %s, which DPDK cannot share; "
			  "bind it to vfio-pci first (dpdk-devbind.py -b vfio-pci %s)",
			  addr, driver, addr);
		return -EBUSY;
	}
	return 0;
}

/* A NIC EAL probed at start (its allow-list) is used as is; any other is probed now. */
static int
pci_probe(struct dp_port *p)
{
	const char *addr = p->cfg.pci.address;
	int rc;

	if (rte_eal_has_pci() == 0) {
		base_logf(&p->log, BASE_LOG_ERROR,
			  "port: name=%s EAL runs with --no-pci (dp_eal_config.use_pci)",
			  p->cfg.name);
		return -ENOTSUP;
	}
	if (rte_eth_dev_get_port_by_name(addr, &p->port_id) == 0) {
		return 0;
	}
	rc = dp_port_pci_check(addr, &p->log);
	if (rc != 0) {
		return rc;
	}
	rc = rte_dev_probe(addr);
	if (rc < 0) {
		return rc;
	}
	if (rte_eth_dev_get_port_by_name(addr, &p->port_id) != 0) {
		/* Probed, but no ethdev: no DPDK driver took it (not a NIC DPDK drives). */
		(void)rte_eal_hotplug_remove("pci", addr);
		base_logf(&p->log, BASE_LOG_ERROR,
			  "port: name=%s no DPDK network driver took PCI device %s", p->cfg.name,
			  addr);
		return -ENOTSUP;
	}
	return 0;
}

static int
port_probe(struct dp_port *p)
{
	char args[DEVARGS_MAX];
	int rc;

	if (p->cfg.type == DP_PORT_PCI) {
		return pci_probe(p);
	}
	if (p->cfg.type == DP_PORT_MEMIF) {
		memif_devargs(p, args, sizeof(args));
	} else {
		ASSERT(p->cfg.type == DP_PORT_AF_XDP);
		/* The driver would only log "no such device"; say it with an errno. */
		if (if_nametoindex(p->cfg.af_xdp.ifname) == 0) {
			return -ENODEV;
		}
		af_xdp_devargs(p, args, sizeof(args));
	}
	rc = rte_eal_hotplug_add("vdev", p->cfg.name, args);
	if (rc < 0) {
		return rc;
	}
	rc = rte_eth_dev_get_port_by_name(p->cfg.name, &p->port_id);
	if (rc < 0) {
		(void)rte_eal_hotplug_remove("vdev", p->cfg.name);
		return rc;
	}
	return 0;
}

static int
queues_setup(struct dp_port *p)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t rx_desc = p->cfg.rx_desc_count;
	uint16_t tx_desc = p->cfg.tx_desc_count;
	int socket = p->mp->socket_id;
	int rc;

	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		return rc;
	}
	memset(&conf, 0, sizeof(conf));
	/* Frames above one mbuf travel as chains (memif chains on its own either way). */
	conf.txmode.offloads = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	conf.rxmode.offloads = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	rc = rte_eth_dev_configure(p->port_id, 1, 1, &conf);
	if (rc == 0) {
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &rx_desc, &tx_desc);
	}
	if (rc == 0) {
		rc = rte_eth_rx_queue_setup(p->port_id, 0, rx_desc, (unsigned)socket, NULL, p->mp);
	}
	if (rc == 0) {
		rc = rte_eth_tx_queue_setup(p->port_id, 0, tx_desc, (unsigned)socket, NULL);
	}
	return rc;
}

/* The interface's MTU (SIOCGIFMTU, in this network namespace), or a negative errno. */
static int
af_xdp_iface_mtu(const struct dp_port *p, size_t *mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->cfg.af_xdp.ifname, strlen(p->cfg.af_xdp.ifname));
	if (ioctl(p->ctl_fd, SIOCGIFMTU, &ifr) != 0) {
		return -errno;
	}
	if (ifr.ifr_mtu <= 0) {
		return -EINVAL;
	}
	*mtu = (size_t)ifr.ifr_mtu;
	return 0;
}

/* The af_xdp driver says "up" from start on; the wire is up when the interface is up and has
 * a carrier (a veth: both ends up). The carrier comes from ETHTOOL_GLINK, which the driver
 * answers at once: IFF_RUNNING follows the operstate, which the kernel's linkwatch updates up
 * to a second late (a port started just after its peer went down would see "running").
 * IFF_RUNNING only when the driver has no get_link. Two ioctls: cheap enough for every poll. */
static bool
af_xdp_iface_is_running(const struct dp_port *p)
{
	struct ifreq ifr;
	struct ethtool_value link = {.cmd = ETHTOOL_GLINK, .data = 0};
	short flags;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->cfg.af_xdp.ifname, strlen(p->cfg.af_xdp.ifname));
	if (ioctl(p->ctl_fd, SIOCGIFFLAGS, &ifr) != 0) {
		return false;
	}
	flags = ifr.ifr_flags;
	if ((flags & IFF_UP) == 0) {
		return false;
	}
	ifr.ifr_data = (char *)&link;
	if (ioctl(p->ctl_fd, SIOCETHTOOL, &ifr) != 0) {
		return (flags & IFF_RUNNING) != 0;
	}
	return link.data != 0;
}

/* The largest frame of a shared port: the MTU plus the Ethernet header, in one mbuf behind
 * `headroom` bytes (-EINVAL when the pool's mbufs cannot hold any frame). */
static int
shared_frame_max(struct dp_port *p, size_t mtu, size_t headroom)
{
	size_t room = rte_pktmbuf_data_room_size(p->mp);

	if (room <= headroom + ETH_HEADER_SIZE) {
		return -EINVAL;
	}
	room -= headroom;
	p->frame_max = base_min_size(base_min_size(mtu + ETH_HEADER_SIZE, room), DP_PORT_FRAME_MAX);
	return 0;
}

/*
 * Fixes the largest frame and reads the MAC. Frames of shared ports live in one mbuf and must
 * fit the MTU: AF_XDP behind the kernel's XDP headroom as well (the 22.11 driver sends only the
 * first segment of a chain), a PCI NIC behind the mbuf headroom (one path for both shared
 * types). memif chains mbufs, so only DP_PORT_FRAME_MAX bounds it.
 */
static int
port_limits(struct dp_port *p)
{
	struct rte_ether_addr mac;
	size_t mtu = 0;
	uint16_t nic_mtu = 0;
	int rc = 0;

	p->frame_max = DP_PORT_FRAME_MAX;
	if (p->cfg.type == DP_PORT_AF_XDP) {
		p->ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (p->ctl_fd < 0) {
			return -errno;
		}
		rc = af_xdp_iface_mtu(p, &mtu);
		if (rc == 0) {
			rc = shared_frame_max(p, mtu,
					      RTE_PKTMBUF_HEADROOM + AF_XDP_KERNEL_HEADROOM);
		}
	} else if (p->cfg.type == DP_PORT_PCI) {
		rc = rte_eth_dev_get_mtu(p->port_id, &nic_mtu);
		if (rc == 0) {
			rc = shared_frame_max(p, nic_mtu, RTE_PKTMBUF_HEADROOM);
		}
	}
	if (rc != 0) {
		return rc;
	}
	rc = rte_eth_macaddr_get(p->port_id, &mac);
	if (rc != 0) {
		return rc;
	}
	memcpy(p->mac, mac.addr_bytes, MAC_SIZE);
	return 0;
}

/*
 * Starts, stops and closes run with EAL's interrupt thread held (dp_eal_int.h): memif's
 * control channel runs there, and a peer hanging up meanwhile would make it disconnect the
 * device while this thread stops or closes it (a crash once the port is released). If the
 * thread cannot be held the operation still runs, as it would without the hold; the log says
 * so. Pair with dp_eal_intr_release (which does nothing when nothing was held).
 */
static void
port_ctl_begin(const struct dp_port *p)
{
	int rc = dp_eal_intr_hold();

	if (rc != 0) {
		base_logf(&p->log, BASE_LOG_WARN, "port: name=%s interrupt thread not held: %s",
			  p->cfg.name, strerror(-rc));
	}
}

/* One start attempt. A memif client first checks that the server's socket exists, so waiting
 * for a server that is not there yet does not fill the log with connect errors. */
static void
port_try_start(struct dp_port *p, uint64_t now_ns)
{
	struct stat st;

	p->last_start_ns = now_ns;
	p->last_start_failed = true;
	if (p->cfg.type == DP_PORT_MEMIF && p->cfg.memif.role == DP_MEMIF_CLIENT &&
	    (stat(p->cfg.memif.socket_path, &st) != 0 || !S_ISSOCK(st.st_mode))) {
		return;
	}
	if (rte_eth_dev_start(p->port_id) == 0) {
		p->is_started = true;
		p->last_start_failed = false;
	}
}

static void
port_log_created(const struct dp_port *p)
{
	const uint8_t *m = p->mac;

	if (p->cfg.type == DP_PORT_PCI) {
		base_logf(&p->log, BASE_LOG_INFO,
			  "port: name=%s pci address=%s mac=%02x:%02x:%02x:%02x:%02x:%02x "
			  "frame_max=%zu created",
			  p->cfg.name, p->cfg.pci.address, m[0], m[1], m[2], m[3], m[4], m[5],
			  p->frame_max);
		return;
	}
	if (p->cfg.type == DP_PORT_AF_XDP) {
		base_logf(&p->log, BASE_LOG_INFO,
			  "port: name=%s af_xdp iface=%s queue=%" PRIu32
			  " mac=%02x:%02x:%02x:%02x:%02x:%02x frame_max=%zu created",
			  p->cfg.name, p->cfg.af_xdp.ifname, p->cfg.af_xdp.queue_id, m[0], m[1],
			  m[2], m[3], m[4], m[5], p->frame_max);
		return;
	}
	base_logf(&p->log, BASE_LOG_INFO, "port: name=%s memif %s socket=%s created", p->cfg.name,
		  p->cfg.memif.role == DP_MEMIF_SERVER ? "server" : "client",
		  p->cfg.memif.socket_path);
}

int
dp_port_create(const struct dp_port_config *cfg, struct dp_mempool *pool,
	       const struct base_log *log, struct dp_port **out)
{
	struct dp_port *p;
	int rc;

	ASSERT(cfg != NULL && pool != NULL && out != NULL);
	*out = NULL;
	rc = config_check(cfg);
	if (rc != 0) {
		return rc;
	}
	p = base_alloc(sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	p->cfg = *cfg;
	p->mp = pool->mp;
	p->ctl_fd = -1;
	if (log != NULL) {
		p->log = *log;
	}
	rc = port_probe(p);
	if (rc != 0) {
		goto err_free;
	}
	rc = port_limits(p);
	if (rc == 0) {
		rc = queues_setup(p);
	}
	if (rc != 0) {
		goto err_remove;
	}
	port_ctl_begin(p);
	port_try_start(p, dp_run_now_ns());
	dp_eal_intr_release();
	/* Only a memif client may wait (for its server); every other port must start. */
	if (!p->is_started &&
	    (p->cfg.type != DP_PORT_MEMIF || p->cfg.memif.role == DP_MEMIF_SERVER)) {
		rc = -EIO;
		goto err_remove;
	}
	port_log_created(p);
	ASSERT(p->frame_max > 0 && p->frame_max <= DP_PORT_FRAME_MAX);
	*out = p;
	return 0;
err_remove:
	port_ctl_begin(p);
	(void)rte_eth_dev_close(p->port_id);
	(void)rte_eal_hotplug_remove(port_bus(p), p->cfg.name);
	dp_eal_intr_release();
err_free:
	base_logf(&p->log, BASE_LOG_ERROR, "port: name=%s cannot be created: %s", cfg->name,
		  rte_strerror(-rc));
	if (p->ctl_fd >= 0) {
		(void)close(p->ctl_fd);
	}
	base_free(p);
	return rc;
}

static void
rx_release(struct dp_port *p)
{
	if (p->lent != NULL) {
		rte_pktmbuf_free(p->lent);
		p->lent = NULL;
	}
}

void
dp_port_destroy(struct dp_port *p)
{
	if (p == NULL) {
		return;
	}
	rx_release(p);
	for (uint16_t i = p->rx_next; i < p->rx_count; i++) {
		rte_pktmbuf_free(p->rx_burst[i]);
	}
	port_ctl_begin(p);
	if (p->is_started) {
		(void)rte_eth_dev_stop(p->port_id);
	}
	/* Closing a memif server also removes its socket file; closing an AF_XDP port deletes
	 * its socket and UMEM and detaches the XDP program from the interface; removing a PCI
	 * device detaches it from its DPDK driver, so a later create probes it again. */
	(void)rte_eth_dev_close(p->port_id);
	(void)rte_eal_hotplug_remove(port_bus(p), p->cfg.name);
	dp_eal_intr_release();
	if (p->ctl_fd >= 0) {
		(void)close(p->ctl_fd);
	}
	base_free(p);
}

static void
link_note(struct dp_port *p, bool is_up)
{
	if (is_up == p->is_up) {
		return;
	}
	p->is_up = is_up;
	if (is_up) {
		p->stats.link_up_count++;
	} else {
		p->stats.link_down_count++;
	}
	base_logf(&p->log, BASE_LOG_INFO, "port: name=%s link %s", p->cfg.name,
		  is_up ? "up" : "down");
}

/* Restarts a memif client whose link is down: after its server restarted it must connect
 * again. A failed start (no server) is retried soon, a start that did not bring the link up
 * only after reconnect_interval_ns (the handshake may be slow on a loaded machine). */
static void
client_reconnect(struct dp_port *p, uint64_t now_ns)
{
	uint64_t wait_ns = p->last_start_failed ? CONNECT_RETRY_NS : p->cfg.reconnect_interval_ns;

	if (now_ns - p->last_start_ns < wait_ns) {
		return;
	}
	port_ctl_begin(p);
	if (p->is_started) {
		(void)rte_eth_dev_stop(p->port_id);
		p->is_started = false;
		p->stats.reconnect_count++;
	}
	port_try_start(p, now_ns);
	dp_eal_intr_release();
}

/* What the driver says, and for AF_XDP what the kernel says about the interface. */
static bool
link_is_up(const struct dp_port *p)
{
	struct rte_eth_link link;

	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->port_id, &link) != 0 ||
	    link.link_status != RTE_ETH_LINK_UP) {
		return false;
	}
	return p->cfg.type != DP_PORT_AF_XDP || af_xdp_iface_is_running(p);
}

bool
dp_port_poll_link(struct dp_port *p, uint64_t now_ns)
{
	bool is_up = false;

	ASSERT(p != NULL);
	if (p->is_started) {
		is_up = link_is_up(p);
	}
	link_note(p, is_up);
	if (!is_up && p->cfg.type == DP_PORT_MEMIF && p->cfg.memif.role == DP_MEMIF_CLIENT) {
		client_reconnect(p, now_ns);
	}
	return p->is_up;
}

bool
dp_port_is_up(const struct dp_port *p)
{
	ASSERT(p != NULL);
	return p->is_up;
}

int
dp_port_wait_up(struct dp_port *p, uint64_t timeout_ns)
{
	uint64_t start = dp_run_now_ns();
	struct timespec pause = {.tv_sec = 0, .tv_nsec = WAIT_POLL_NS};

	ASSERT(p != NULL);
	for (;;) {
		uint64_t now = dp_run_now_ns();

		if (dp_port_poll_link(p, now)) {
			return 0;
		}
		if (now - start >= timeout_ns) {
			return -ETIMEDOUT;
		}
		(void)nanosleep(&pause, NULL);
	}
}

/* Copies frame into a fresh mbuf chain from the port's pool; NULL when the pool is empty. */
static struct rte_mbuf *
mbuf_build(struct dp_port *p, const uint8_t *frame, size_t size)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(p->mp);
	struct rte_mbuf *last = head;
	size_t done = 0;

	while (head != NULL && done < size) {
		size_t room = rte_pktmbuf_tailroom(last);
		size_t n = base_min_size(room, size - done);
		char *dst;

		if (n == 0) {
			last = rte_pktmbuf_alloc(p->mp);
			if (last == NULL || rte_pktmbuf_chain(head, last) != 0) {
				rte_pktmbuf_free(last);
				break;
			}
			continue;
		}
		dst = rte_pktmbuf_append(head, (uint16_t)n);
		ASSERT(dst != NULL); /* n fits the last segment's tailroom */
		memcpy(dst, frame + done, n);
		done += n;
	}
	if (head != NULL && done < size) {
		rte_pktmbuf_free(head);
		head = NULL;
	}
	return head;
}

int
dp_port_send(struct dp_port *p, const uint8_t *frame, size_t size)
{
	struct rte_mbuf *m;

	ASSERT(p != NULL && frame != NULL);
	if (size == 0 || size > p->frame_max) {
		return -EMSGSIZE;
	}
	if (!p->is_started) {
		/* A stopped ethdev's burst functions are stubs that log an error on every call. */
		p->stats.tx_down_count++;
		return -ENOTCONN;
	}
	m = mbuf_build(p, frame, size);
	if (m == NULL) {
		p->stats.tx_nombuf_count++;
		return -ENOBUFS;
	}
	/* frame_max keeps a shared port's frame in one mbuf (AF_XDP sends first segments only). */
	ASSERT(p->cfg.type == DP_PORT_MEMIF || m->nb_segs == 1);
	/* Bounded: after a memif peer closes, tx_burst returns 0 forever. */
	for (uint32_t i = 0; i < p->cfg.tx_retry_max; i++) {
		if (rte_eth_tx_burst(p->port_id, 0, &m, 1) == 1) {
			p->stats.tx_count++;
			p->stats.tx_bytes += size;
			return 0;
		}
	}
	rte_pktmbuf_free(m);
	if (!link_is_up(p)) {
		link_note(p, false);
		p->stats.tx_down_count++;
		return -ENOTCONN;
	}
	p->stats.tx_full_count++;
	return -ENOBUFS;
}

/* On a shared wire the XDP program (or the NIC, for broadcast and multicast) hands us frames
 * for others: keep only those sent to our MAC (the data segment holds at least the Ethernet
 * header of any real frame). */
static bool
shared_frame_is_ours(const struct dp_port *p, const struct rte_mbuf *m)
{
	if (m->data_len < ETH_HEADER_SIZE) {
		return false;
	}
	return memcmp(rte_pktmbuf_mtod(m, const uint8_t *), p->mac, MAC_SIZE) == 0;
}

int
dp_port_recv(struct dp_port *p, const uint8_t **frame, size_t *size)
{
	bool has_polled = false;

	ASSERT(p != NULL && frame != NULL && size != NULL);
	rx_release(p);
	for (;;) {
		struct rte_mbuf *m;

		if (p->rx_next == p->rx_count) {
			/* One rx_burst per call at most, so a flood of oversized frames cannot
			 * keep the caller here. */
			if (has_polled || !p->is_started) {
				return -EAGAIN;
			}
			has_polled = true;
			p->rx_next = 0;
			p->rx_count =
				rte_eth_rx_burst(p->port_id, 0, p->rx_burst, DP_PORT_BURST_MAX);
			continue;
		}
		m = p->rx_burst[p->rx_next++];
		if (m->pkt_len > DP_PORT_FRAME_MAX) {
			p->stats.rx_too_big_count++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (p->cfg.type != DP_PORT_MEMIF && !shared_frame_is_ours(p, m)) {
			p->stats.rx_filtered_count++;
			rte_pktmbuf_free(m);
			continue;
		}
		p->lent = m;
		*size = m->pkt_len;
		if (m->nb_segs == 1) {
			*frame = rte_pktmbuf_mtod(m, const uint8_t *);
		} else {
			*frame = rte_pktmbuf_read(m, 0, m->pkt_len, p->scratch);
			p->stats.rx_scattered_count++;
		}
		ASSERT(*frame != NULL); /* pkt_len fits the scratch buffer */
		p->stats.rx_count++;
		p->stats.rx_bytes += m->pkt_len;
		return 0;
	}
}

size_t
dp_port_frame_max(const struct dp_port *p)
{
	ASSERT(p != NULL);
	return p->frame_max;
}

void
dp_port_mac_get(const struct dp_port *p, uint8_t mac[6])
{
	ASSERT(p != NULL && mac != NULL);
	memcpy(mac, p->mac, MAC_SIZE);
}

const struct dp_port_config *
dp_port_config_get(const struct dp_port *p)
{
	ASSERT(p != NULL);
	return &p->cfg;
}

void
dp_port_stats_get(const struct dp_port *p, struct dp_port_stats *out)
{
	ASSERT(p != NULL && out != NULL);
	*out = p->stats;
}

static const char *
port_type_name(enum dp_port_type type)
{
	switch (type) {
	case DP_PORT_MEMIF:
		return "memif";
	case DP_PORT_AF_XDP:
		return "af_xdp";
	case DP_PORT_PCI:
		return "pci";
	}
	return "?";
}

void
dp_port_dump(const struct dp_port *p, FILE *out)
{
	const struct dp_port_stats *s = &p->stats;
	const char *where;

	ASSERT(p != NULL && out != NULL);
	if (p->cfg.type == DP_PORT_AF_XDP) {
		where = p->cfg.af_xdp.ifname;
	} else if (p->cfg.type == DP_PORT_PCI) {
		where = p->cfg.pci.address;
	} else {
		where = p->cfg.memif.role == DP_MEMIF_SERVER ? "server" : "client";
	}
	fprintf(out,
		"port: name=%s type=%s at=%s link=%s frame_max=%zu rx=%" PRIu64 " tx=%" PRIu64
		" rx_scattered=%" PRIu64 " rx_too_big=%" PRIu64 " rx_filtered=%" PRIu64
		" tx_full=%" PRIu64 " tx_down=%" PRIu64 " tx_nombuf=%" PRIu64 " up=%" PRIu64
		" down=%" PRIu64 " reconnects=%" PRIu64 "\n",
		p->cfg.name, port_type_name(p->cfg.type), where, p->is_up ? "up" : "down",
		p->frame_max, s->rx_count, s->tx_count, s->rx_scattered_count, s->rx_too_big_count,
		s->rx_filtered_count, s->tx_full_count, s->tx_down_count, s->tx_nombuf_count,
		s->link_up_count, s->link_down_count, s->reconnect_count);
}
