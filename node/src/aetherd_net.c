/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport choice. Both transports give the shard the same struct env_ops; storage (the
 * data directory) is env_posix's in both cases:
 *  - udp:   env_posix is the transport too (kernel UDP sockets, the labelled fallback);
 *  - memif: env_dpdk over DPDK memif ports (aetherd_memif.c), storage forwarded to env_posix;
 *  - af_xdp, pci: node_frag over env_dpdk over one shared port (aetherd_xdp.c), storage as memif.
 */
#include "aetherd_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/panic.h"

#define NET_QUEUE_DATAGRAMS 256u
#define NET_COMPLETIONS_MAX 1024u

/* host is an IPv4 address or a name resolved once, now (startup may block on DNS). */
static int
net_resolve(const char *host, uint32_t *ipv4)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	struct in_addr a;

	if (inet_pton(AF_INET, host, &a) == 1) {
		*ipv4 = ntohl(a.s_addr);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		return -EHOSTUNREACH;
	}
	*ipv4 = ntohl(((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr.s_addr);
	freeaddrinfo(res);
	return 0;
}

uint64_t
node_net_seed(const struct node_config *cfg)
{
	/* Local PRNG seeds only (never the coin): distinct per node, stable across restarts. */
	return cfg->cluster_id * 0x9e3779b97f4a7c15ull ^ (uint64_t)cfg->node_id;
}

/* Fills the bind address and peer table of an env_posix from the config's peers. */
static int
net_udp_peers(const struct node_config *cfg, struct env_posix_config *pc, char *err,
	      size_t err_size)
{
	for (size_t i = 0; i < cfg->peer_count; i++) {
		const struct node_config_peer *peer = &cfg->peers[i];
		struct env_posix_addr addr = {0, peer->port};

		if (net_resolve(peer->host, &addr.ipv4) != 0) {
			(void)snprintf(err, err_size, "peer %u: cannot resolve host '%s'",
				       (unsigned)peer->node_id, peer->host);
			return -EHOSTUNREACH;
		}
		if (peer->node_id == cfg->node_id) {
			pc->bind = addr;
			continue;
		}
		if (pc->peer_count == ENV_POSIX_PEERS_MAX) {
			(void)snprintf(err, err_size, "the udp transport takes at most %d peers",
				       ENV_POSIX_PEERS_MAX);
			return -EINVAL;
		}
		pc->peers[pc->peer_count].node_id = peer->node_id;
		pc->peers[pc->peer_count].addr = addr;
		pc->peer_count++;
	}
	return 0;
}

static void
net_posix_config(const struct node_config *cfg, const struct base_log *log,
		 struct env_posix_config *pc)
{
	memset(pc, 0, sizeof(*pc));
	pc->node_id = cfg->node_id;
	/* Without peers (a one-node cluster, or memif's storage-only env): loopback, any port. */
	pc->bind.ipv4 = env_posix_ipv4(127, 0, 0, 1);
	pc->data_dir = cfg->data_dir;
	pc->seed = node_net_seed(cfg);
	pc->log = *log;
	pc->send_queue_max = NET_QUEUE_DATAGRAMS;
	pc->recv_queue_max = NET_QUEUE_DATAGRAMS;
	pc->completion_queue_max = NET_COMPLETIONS_MAX;
}

static int
net_posix_fail(const struct node_config *cfg, const struct env_posix_config *pc, int rc, char *err,
	       size_t err_size)
{
	struct in_addr a = {htonl(pc->bind.ipv4)};
	char ip[INET_ADDRSTRLEN] = "?";

	(void)inet_ntop(AF_INET, &a, ip, sizeof(ip));
	if (rc == -EADDRINUSE || rc == -EADDRNOTAVAIL || rc == -EACCES) {
		(void)snprintf(err, err_size, "cannot bind udp %s:%u: %s", ip,
			       (unsigned)pc->bind.port, strerror(-rc));
	} else if (rc == -ENOENT || rc == -ENOTDIR) {
		(void)snprintf(err, err_size, "data_dir %s: its parent directory does not exist",
			       cfg->data_dir);
	} else {
		(void)snprintf(err, err_size, "cannot start the udp transport (data_dir %s): %s",
			       cfg->data_dir, strerror(-rc));
	}
	return rc;
}

static int
net_open_udp(struct node_net *net, const struct node_config *cfg, const struct base_log *log,
	     char *err, size_t err_size)
{
	struct env_posix_config pc;
	int rc;

	net_posix_config(cfg, log, &pc);
	rc = net_udp_peers(cfg, &pc, err, err_size);
	if (rc != 0) {
		return rc;
	}
	rc = env_posix_create(&pc, &net->posix);
	if (rc != 0) {
		return net_posix_fail(cfg, &pc, rc, err, err_size);
	}
	net->ops = env_posix_ops(net->posix);
	base_logf(log, BASE_LOG_WARN,
		  "transport=udp port=%u peers=%zu: the kernel UDP FALLBACK (frames are not "
		  "authenticated; memif is the production transport)",
		  (unsigned)env_posix_port(net->posix), pc.peer_count);
	return 0;
}

static int
net_open_memif(struct node_net *net, const struct node_config *cfg,
	       const struct node_secret *secret, const struct base_log *log, char *err,
	       size_t err_size)
{
	struct env_posix_config pc;
	int rc;

	/* Storage only: the socket is bound to an ephemeral loopback port and never used. */
	net_posix_config(cfg, log, &pc);
	rc = env_posix_create(&pc, &net->posix);
	if (rc != 0) {
		return net_posix_fail(cfg, &pc, rc, err, err_size);
	}
	rc = node_memif_open(&net->memif, cfg, secret, env_posix_ops(net->posix), log, err,
			     err_size);
	if (rc != 0) {
		env_posix_destroy(net->posix);
		net->posix = NULL;
		return rc;
	}
	net->ops = node_memif_ops(net->memif);
	return 0;
}

/* af_xdp and pci, as memif: env_posix for storage only, the shared port for the transport. */
static int
net_open_xdp(struct node_net *net, const struct node_config *cfg, const struct node_secret *secret,
	     const struct base_log *log, char *err, size_t err_size)
{
	struct env_posix_config pc;
	int rc;

	net_posix_config(cfg, log, &pc);
	rc = env_posix_create(&pc, &net->posix);
	if (rc != 0) {
		return net_posix_fail(cfg, &pc, rc, err, err_size);
	}
	rc = node_xdp_open(&net->xdp, cfg, secret, env_posix_ops(net->posix), log, err, err_size);
	if (rc != 0) {
		env_posix_destroy(net->posix);
		net->posix = NULL;
		return rc;
	}
	net->ops = node_xdp_ops(net->xdp);
	return 0;
}

int
node_net_open(struct node_net *net, const struct node_config *cfg, const struct node_secret *secret,
	      const struct base_log *log, char *err, size_t err_size)
{
	ASSERT(net != NULL && cfg != NULL && secret != NULL);
	memset(net, 0, sizeof(*net));
	net->transport = cfg->transport;
	switch (cfg->transport) {
	case NODE_TRANSPORT_UDP:
		return net_open_udp(net, cfg, log, err, err_size);
	case NODE_TRANSPORT_MEMIF:
		return net_open_memif(net, cfg, secret, log, err, err_size);
	case NODE_TRANSPORT_AF_XDP:
	case NODE_TRANSPORT_PCI:
		return net_open_xdp(net, cfg, secret, log, err, err_size);
	}
	PANIC("unknown transport %d", (int)cfg->transport);
}

void
node_net_counters(const struct node_net *net, enum ctl_transport *transport,
		  struct ctl_frame_counters *out)
{
	struct env_posix_stats ps;

	ASSERT(net != NULL && transport != NULL && out != NULL);
	switch (net->transport) {
	case NODE_TRANSPORT_UDP:
		/* No frame header, no authentication on the fallback: only these two happen. */
		*transport = CTL_TRANSPORT_UDP;
		env_posix_stats_get(net->posix, &ps);
		out->unknown_sender = ps.recv_unknown_count;
		out->oversize = ps.recv_too_big_count;
		return;
	case NODE_TRANSPORT_MEMIF:
		*transport = CTL_TRANSPORT_MEMIF;
		break;
	case NODE_TRANSPORT_AF_XDP:
		*transport = CTL_TRANSPORT_AF_XDP;
		break;
	case NODE_TRANSPORT_PCI:
		*transport = CTL_TRANSPORT_PCI;
		break;
	}
	/* Every DPDK transport runs env_dpdk over its ports. */
	if (net->memif != NULL) {
		node_memif_counters(net->memif, out);
	}
	if (net->xdp != NULL) {
		node_xdp_counters(net->xdp, out);
	}
}

void
node_net_close(struct node_net *net)
{
	ASSERT(net != NULL);
	node_memif_close(net->memif);
	net->memif = NULL;
	node_xdp_close(net->xdp);
	net->xdp = NULL;
	env_posix_destroy(net->posix);
	net->posix = NULL;
	net->ops = NULL;
}
