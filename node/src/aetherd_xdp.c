/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared-port transports: af_xdp (an AF_XDP socket on a Linux interface) and pci (a NIC that
 * DPDK drives). Both are one port for every peer, on a real L2 wire: EAL, one mbuf pool, the
 * port, env_dpdk over it with each peer's MAC and IPv4 address from the peers line (nothing
 * resolves addresses: no ARP), and node_frag over env_dpdk, because one frame carries at most
 * the MTU (1408 bytes of datagram on a 1500-byte MTU) while the shard sends up to ENV_MSG_MAX.
 * This node's MAC is the port's; a MAC in its own peers entry must match it.
 *
 * pci: the address is checked in sysfs BEFORE EAL starts, since EAL probes the devices on its
 * allow-list while it starts: a device held by a kernel driver (the host's own NIC, say) is
 * refused without DPDK ever touching it.
 *
 * Startup does not wait for the link: a node restarted while its wire is down must still start,
 * and env_dpdk looks at the link from recv.
 */
#include "aetherd_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/dp_eal.h"
#include "dataplane/dp_mempool.h"
#include "dataplane/dp_port.h"
#include "dataplane/env_dpdk.h"
#include "dataplane/frame.h"
#include "node/node_frag.h"

#define XDP_OBJ_INCARNATION "incarnation"
/* The frame epoch; every member of a cluster uses the same one (as memif). */
#define XDP_EPOCH           1u
#define MAC_TEXT_SIZE       18u

struct node_xdp {
	const char *what; /* "af_xdp" or "pci", for messages */
	struct dp_mempool *pool;
	struct dp_port *port;
	struct env_dpdk *env;
	struct node_frag *frag;
	char file_prefix[DP_EAL_FILE_PREFIX_MAX];
	bool eal_started;
};

static void
mac_text(const uint8_t mac[6], char out[MAC_TEXT_SIZE])
{
	(void)snprintf(out, MAC_TEXT_SIZE, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		       mac[3], mac[4], mac[5]);
}

/* The port's config, and the checks that need no DPDK: the interface exists here, the PCI
 * device exists and no kernel driver holds it. */
static int
xdp_port_config(const struct node_config *cfg, const struct base_log *log,
		struct dp_port_config *pc, char *err, size_t err_size)
{
	int rc;

	dp_port_config_default(pc);
	if (cfg->transport == NODE_TRANSPORT_AF_XDP) {
		rc = dp_port_af_xdp_link(cfg->af_xdp.interface, pc);
		pc->af_xdp.queue_id = cfg->af_xdp.queue;
		if (rc == 0 && if_nametoindex(cfg->af_xdp.interface) == 0) {
			(void)snprintf(err, err_size,
				       "af_xdp: no interface '%s' in this network namespace "
				       "(af_xdp.interface)",
				       cfg->af_xdp.interface);
			return -ENODEV;
		}
		return rc;
	}
	rc = dp_port_pci_link(cfg->pci_address, pc);
	if (rc != 0) {
		(void)snprintf(err, err_size,
			       "pci: pci_address %s is not a PCI address (device 00..1f, "
			       "function 0..7)",
			       cfg->pci_address);
		return rc;
	}
	rc = dp_port_pci_check(pc->pci.address, log);
	if (rc == -ENODEV) {
		(void)snprintf(err, err_size,
			       "pci: no PCI device at %s on this machine (pci_address)",
			       pc->pci.address);
	} else if (rc == -EBUSY) {
		(void)snprintf(err, err_size,
			       "pci: %s is held by a kernel driver DPDK cannot share; bind it to "
			       "vfio-pci first (dpdk-devbind.py -b vfio-pci %s)",
			       pc->pci.address, pc->pci.address);
	}
	return rc;
}

/* EAL: PCI only for pci, with the NIC alone on the allow-list (without an allow-list EAL
 * would probe every device it can). */
static int
xdp_eal(struct node_xdp *x, const struct node_config *cfg, const struct dp_port_config *pc,
	const struct base_log *log, char *err, size_t err_size)
{
	struct dp_eal_config ec;
	const char *reason = NULL;
	int rc;

	dp_eal_config_default(&ec);
	(void)snprintf(x->file_prefix, sizeof(x->file_prefix), "aether-n%u-%ld",
		       (unsigned)cfg->node_id, (long)getpid());
	memcpy(ec.file_prefix, x->file_prefix, sizeof(ec.file_prefix));
	ec.use_hugepages = cfg->hugepages;
	/* The control lcore, then one per worker lcore (aetherd_lcore.c launches them). */
	ec.lcore_count = node_eal_lcores(cfg, ec.lcore_cpus, DP_EAL_LCORE_MAX);
	if (pc->type == DP_PORT_PCI) {
		static_assert(DP_EAL_PCI_ADDR_MAX >= DP_PORT_PCI_ADDR_MAX, "the address fits");
		ec.use_pci = true;
		memcpy(ec.pci_allow[0], pc->pci.address, sizeof(pc->pci.address));
		ec.pci_allow_count = 1;
	}
	rc = dp_eal_start(&ec, log, &reason);
	if (rc != 0) {
		(void)snprintf(err, err_size,
			       "DPDK EAL cannot start (%s: %s); transport = udp is the fallback",
			       reason != NULL ? reason : "rte_eal_init", strerror(-rc));
		return rc;
	}
	x->eal_started = true;
	return 0;
}

/* The port and what it says about itself: its MAC must be the one the peers line gives this
 * node (other nodes send to that one), and its MTU must leave room for fragments. */
static int
xdp_port(struct node_xdp *x, const struct node_config *cfg, const struct dp_port_config *pc,
	 const struct base_log *log, const struct node_config_peer *self, char *err,
	 size_t err_size)
{
	struct dp_mempool_config mc;
	uint8_t mac[6];
	char have[MAC_TEXT_SIZE];
	char want[MAC_TEXT_SIZE];
	const char *where = pc->type == DP_PORT_PCI ? pc->pci.address : pc->af_xdp.ifname;
	int rc;

	dp_mempool_config_default(&mc);
	rc = dp_mempool_create(&mc, log, &x->pool);
	if (rc == 0) {
		rc = dp_port_create(pc, x->pool, log, &x->port);
	}
	if (rc != 0) {
		(void)snprintf(err, err_size, "%s: cannot open the port on %s: %s", x->what, where,
			       strerror(-rc));
		return rc;
	}
	dp_port_mac_get(x->port, mac);
	mac_text(mac, have);
	if (self->has_mac && memcmp(self->mac, mac, sizeof(mac)) != 0) {
		mac_text(self->mac, want);
		(void)snprintf(err, err_size,
			       "%s: peers gives node %u the MAC %s, but %s has %s (fix peers)",
			       x->what, (unsigned)cfg->node_id, want, where, have);
		return -EINVAL;
	}
	if (dp_port_frame_max(x->port) < dp_frame_size(NODE_FRAG_INNER_MIN)) {
		(void)snprintf(err, err_size,
			       "%s: the MTU of %s is too small (frames of %zu bytes)", x->what,
			       where, dp_port_frame_max(x->port));
		return -EMSGSIZE;
	}
	return 0;
}

/* A peers entry's addresses as frame endpoints (node_config_check made host an IPv4 address). */
static void
xdp_endpoint(const struct node_config_peer *p, struct dp_frame_endpoint *ep)
{
	struct in_addr a;
	int is_ipv4 = inet_pton(AF_INET, p->host, &a);

	ASSERT(is_ipv4 == 1);
	memset(ep, 0, sizeof(*ep));
	memcpy(ep->mac, p->mac, sizeof(ep->mac));
	ep->ipv4 = ntohl(a.s_addr);
	ep->udp_port = p->port;
}

static void
xdp_env_config(const struct node_xdp *x, const struct node_config *cfg,
	       const struct node_secret *secret, const struct env_ops *storage,
	       const struct base_log *log, struct env_dpdk_config *ec)
{
	memset(ec, 0, sizeof(*ec));
	ec->node_id = cfg->node_id;
	ec->cluster_id = cfg->cluster_id;
	ec->epoch = XDP_EPOCH;
	ec->secret = secret->bytes;
	ec->secret_size = secret->size;
	ec->auth_disabled = !cfg->auth;
	ec->storage = storage;
	ec->seed = node_net_seed(cfg);
	ec->log = *log;
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct node_config_peer *p = &cfg->peers[i];
		struct env_dpdk_peer *ep = &ec->peers[ec->peer_count];

		if (p->node_id == cfg->node_id) {
			xdp_endpoint(p, &ec->endpoint);
			dp_port_mac_get(x->port, ec->endpoint.mac);
			continue;
		}
		ep->node_id = p->node_id;
		ep->port = x->port; /* one port for all */
		xdp_endpoint(p, &ep->endpoint);
		ec->peer_count++;
	}
}

/* env_dpdk over the port, then node_frag over env_dpdk. */
static int
xdp_env(struct node_xdp *x, const struct node_config *cfg, const struct node_secret *secret,
	const struct env_ops *storage, const struct base_log *log, char *err, size_t err_size)
{
	struct env_dpdk_config ec;
	struct node_frag_config fc;
	uint64_t incarnation = 0;
	int rc;

	xdp_env_config(x, cfg, secret, storage, log, &ec);
	/* The incarnation is in every frame's nonce, so it must never repeat (auth.h). */
	rc = node_durable_reserve(storage, XDP_OBJ_INCARNATION, 1, &incarnation);
	ec.incarnation = (uint32_t)(incarnation + 1);
	if (rc != 0) {
		(void)snprintf(err, err_size, "%s: cannot persist the incarnation in %s: %s",
			       x->what, cfg->data_dir, strerror(-rc));
		return rc;
	}
	rc = env_dpdk_create(&ec, &x->env);
	if (rc != 0) {
		(void)snprintf(err, err_size, "%s: cannot create env_dpdk: %s", x->what,
			       strerror(-rc));
		return rc;
	}
	memset(&fc, 0, sizeof(fc));
	for (size_t i = 0; i < ec.peer_count; i++) {
		fc.peer_ids[fc.peer_count++] = ec.peers[i].node_id;
	}
	fc.inner_max = base_min_size(dp_port_frame_max(x->port) - dp_frame_size(0), ENV_MSG_MAX);
	rc = node_frag_create(&fc, env_dpdk_ops(x->env), &x->frag);
	if (rc != 0) {
		(void)snprintf(err, err_size, "%s: cannot create the fragmentation layer: %s",
			       x->what, strerror(-rc));
	}
	return rc;
}

static const struct node_config_peer *
xdp_self(const struct node_config *cfg)
{
	for (size_t i = 0; i < cfg->peer_count; i++) {
		if (cfg->peers[i].node_id == cfg->node_id) {
			return &cfg->peers[i];
		}
	}
	PANIC("node_config_check lets no config without this node through");
}

static void
xdp_log_ready(const struct node_xdp *x, const struct node_config *cfg,
	      const struct dp_port_config *pc, const struct base_log *log)
{
	uint8_t mac[6];
	char text[MAC_TEXT_SIZE];

	dp_port_mac_get(x->port, mac);
	mac_text(mac, text);
	base_logf(log, BASE_LOG_INFO,
		  "transport=%s port=%s mac=%s frame_max=%zu peers=%zu auth=%s (one shared port, "
		  "datagrams above the MTU travel in fragments)",
		  x->what, pc->type == DP_PORT_PCI ? pc->pci.address : pc->af_xdp.ifname, text,
		  dp_port_frame_max(x->port), cfg->peer_count - 1, cfg->auth ? "on" : "OFF");
}

int
node_xdp_open(struct node_xdp **out, const struct node_config *cfg,
	      const struct node_secret *secret, const struct env_ops *storage,
	      const struct base_log *log, char *err, size_t err_size)
{
	struct dp_port_config pc;
	struct node_xdp *x;
	int rc;

	ASSERT(out != NULL && cfg != NULL && secret != NULL && storage != NULL);
	ASSERT(cfg->transport == NODE_TRANSPORT_AF_XDP || cfg->transport == NODE_TRANSPORT_PCI);
	*out = NULL;
	if (cfg->peer_count < 2 || cfg->peer_count - 1 > ENV_DPDK_PEERS_MAX) {
		(void)snprintf(err, err_size, "%s takes 1 to %u peers",
			       node_transport_name(cfg->transport), ENV_DPDK_PEERS_MAX);
		return -EINVAL;
	}
	x = base_alloc(sizeof(*x));
	if (x == NULL) {
		(void)snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	memset(x, 0, sizeof(*x));
	x->what = node_transport_name(cfg->transport);
	rc = xdp_port_config(cfg, log, &pc, err, err_size);
	if (rc == 0) {
		rc = xdp_eal(x, cfg, &pc, log, err, err_size);
	}
	if (rc == 0) {
		rc = xdp_port(x, cfg, &pc, log, xdp_self(cfg), err, err_size);
	}
	if (rc == 0) {
		rc = xdp_env(x, cfg, secret, storage, log, err, err_size);
	}
	if (rc != 0) {
		node_xdp_close(x);
		return rc;
	}
	xdp_log_ready(x, cfg, &pc, log);
	*out = x;
	return 0;
}

const struct env_ops *
node_xdp_ops(const struct node_xdp *x)
{
	ASSERT(x != NULL && x->frag != NULL);
	return node_frag_ops(x->frag);
}

void
node_xdp_counters(const struct node_xdp *x, struct ctl_frame_counters *out)
{
	struct env_dpdk_stats s;
	struct dp_port_stats ps;
	struct node_frag_stats fs;

	ASSERT(x != NULL && x->env != NULL && out != NULL);
	env_dpdk_stats_get(x->env, &s);
	dp_port_stats_get(x->port, &ps);
	node_frag_stats_get(x->frag, &fs);
	/* Not a frame, or an authentic frame that is not a fragment. */
	out->garbage = s.recv_garbage_count + fs.bad_count;
	out->oversize = s.recv_too_big_count + ps.rx_too_big_count + fs.too_big_count;
	out->forged = s.auth.forged_count;
	out->unauthenticated = s.auth.unauthenticated_count;
	out->replayed = s.auth.replayed_count;
	out->stale = s.auth.too_old_count + s.auth.stale_incarnation_count;
	out->foreign = s.auth.foreign_count;
	out->unknown_sender = s.auth.unknown_sender_count + fs.unknown_count;
}

void
node_xdp_close(struct node_xdp *x)
{
	if (x == NULL) {
		return;
	}
	node_frag_destroy(x->frag);
	env_dpdk_destroy(x->env);
	dp_port_destroy(x->port);
	dp_mempool_destroy(x->pool);
	if (x->eal_started) {
		dp_eal_stop();
		node_dpdk_runtime_dir_remove(x->file_prefix);
	}
	base_free(x);
}
