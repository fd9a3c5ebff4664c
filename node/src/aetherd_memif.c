/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The memif transport: EAL, one mbuf pool, one memif port per peer link and env_dpdk over
 * them (dataplane/README.md, "Entry points"). The memif sockets live in the directory of the
 * operator socket (socket_path), which every node of a local cluster shares: the lower node id
 * of a link listens on <dir>/memif-<low>-<high>.sock.
 *
 * Startup does not wait for links: a node restarted while a peer is down must still start, and
 * env_dpdk restarts memif clients whose server comes back (it looks at the links from recv).
 */
#include "aetherd_int.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/dp_eal.h"
#include "dataplane/dp_mempool.h"
#include "dataplane/dp_port.h"
#include "dataplane/env_dpdk.h"

#define MEMIF_OBJ_INCARNATION "incarnation"
#define MEMIF_RUNTIME_DIR     "/var/run/dpdk"
/* The frame epoch; every member of a cluster uses the same one. */
#define MEMIF_EPOCH           1u

struct node_memif {
	struct dp_mempool *pool;
	struct dp_port *ports[ENV_DPDK_PEERS_MAX];
	size_t port_count;
	struct env_dpdk *env;
	char file_prefix[DP_EAL_FILE_PREFIX_MAX];
	bool eal_started;
};

uint32_t
node_dpdk_cpu(const struct node_config *cfg)
{
	cpu_set_t set;

	if (cfg->lcores[0] != '\0') {
		return node_lcores_first(cfg->lcores);
	}
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (uint32_t c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, &set)) {
				return c;
			}
		}
	}
	return 0;
}

static int
memif_eal(struct node_memif *m, const struct node_config *cfg, const struct base_log *log,
	  char *err, size_t err_size)
{
	struct dp_eal_config ec;
	const char *reason = NULL;
	int rc;

	dp_eal_config_default(&ec);
	(void)snprintf(m->file_prefix, sizeof(m->file_prefix), "aether-n%u-%ld",
		       (unsigned)cfg->node_id, (long)getpid());
	memcpy(ec.file_prefix, m->file_prefix, sizeof(ec.file_prefix));
	ec.use_hugepages = cfg->hugepages;
	/* The control lcore, then one per worker lcore (aetherd_lcore.c launches them). */
	ec.lcore_count = node_eal_lcores(cfg, ec.lcore_cpus, DP_EAL_LCORE_MAX);
	rc = dp_eal_start(&ec, log, &reason);
	if (rc != 0) {
		(void)snprintf(err, err_size,
			       "DPDK EAL cannot start (%s: %s); transport = udp is "
			       "the fallback",
			       reason != NULL ? reason : "rte_eal_init", strerror(-rc));
		return rc;
	}
	m->eal_started = true;
	return 0;
}

/* The directory part of the operator socket path ("." when it has none). */
static int
memif_run_dir(const struct node_config *cfg, char *dir, size_t size)
{
	const char *slash = strrchr(cfg->socket_path, '/');
	size_t n = slash == NULL ? 0 : (size_t)(slash - cfg->socket_path);

	if (slash == NULL) {
		return snprintf(dir, size, ".") > 0 ? 0 : -EINVAL;
	}
	if (n == 0) {
		n = 1; /* "/x.sock": the root directory */
	}
	if (n >= size) {
		return -ENAMETOOLONG;
	}
	memcpy(dir, cfg->socket_path, n);
	dir[n] = '\0';
	return 0;
}

static int
memif_ports(struct node_memif *m, const struct node_config *cfg, const struct base_log *log,
	    char *err, size_t err_size)
{
	struct dp_mempool_config mc;
	char dir[NODE_CONFIG_SOCKET_PATH_MAX + 1];
	int rc;

	dp_mempool_config_default(&mc);
	rc = dp_mempool_create(&mc, log, &m->pool);
	if (rc != 0) {
		(void)snprintf(err, err_size, "memif: cannot create the mbuf pool: %s",
			       strerror(-rc));
		return rc;
	}
	rc = memif_run_dir(cfg, dir, sizeof(dir));
	for (size_t i = 0; rc == 0 && i < cfg->peer_count; i++) {
		struct dp_port_config pc;
		uint32_t peer = cfg->peers[i].node_id;

		if (peer == cfg->node_id) {
			continue;
		}
		dp_port_config_default(&pc);
		/*
		 * One memif buffer per frame: frames never span chained descriptors. With the
		 * default 2048-byte buffers, Rabia batches (up to 8 KiB) are chained, and DPDK
		 * 22.11's memif copy-mode Tx (as we read its source) never clears the chain flag of
		 * a packet's FIRST descriptor, so a later one-buffer packet in that ring slot reads
		 * as chained: the receiver runs past the ring's tail and delivers stale frames
		 * again. Measured with aether-bench consensus: ~430,000 frames dropped as replays
		 * for ~3,500 sent, 30 ms commits; with one buffer per frame, no replays. Costs
		 * 2 x 1024 x 9216 bytes of shared memory per link.
		 */
		pc.memif.buffer_size = DP_PORT_FRAME_MAX;
		rc = dp_port_memif_link(cfg->node_id, peer, dir, &pc);
		if (rc == 0) {
			rc = dp_port_create(&pc, m->pool, log, &m->ports[m->port_count]);
		}
		if (rc == 0) {
			m->port_count++;
		} else {
			(void)snprintf(err, err_size,
				       "memif: cannot create the port to peer %u: %s",
				       (unsigned)peer, strerror(-rc));
		}
	}
	return rc;
}

static int
memif_env(struct node_memif *m, const struct node_config *cfg, const struct node_secret *secret,
	  const struct env_ops *storage, const struct base_log *log, char *err, size_t err_size)
{
	struct env_dpdk_config ec;
	uint64_t incarnation = 0;
	size_t port = 0;
	int rc;

	memset(&ec, 0, sizeof(ec));
	ec.node_id = cfg->node_id;
	ec.cluster_id = cfg->cluster_id;
	ec.epoch = MEMIF_EPOCH;
	ec.secret = secret->bytes;
	ec.secret_size = secret->size;
	ec.auth_disabled = !cfg->auth;
	ec.storage = storage;
	ec.seed = node_net_seed(cfg);
	ec.log = *log;
	/* The incarnation is in every frame's nonce, so it must never repeat (auth.h). */
	rc = node_durable_reserve(storage, MEMIF_OBJ_INCARNATION, 1, &incarnation);
	ec.incarnation = (uint32_t)(incarnation + 1);
	if (rc != 0) {
		(void)snprintf(err, err_size, "memif: cannot persist the incarnation in %s: %s",
			       cfg->data_dir, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		if (cfg->peers[i].node_id != cfg->node_id) {
			ec.peers[ec.peer_count].node_id = cfg->peers[i].node_id;
			ec.peers[ec.peer_count].port = m->ports[port++];
			ec.peer_count++;
		}
	}
	rc = env_dpdk_create(&ec, &m->env);
	if (rc != 0) {
		(void)snprintf(err, err_size, "memif: cannot create env_dpdk: %s", strerror(-rc));
	}
	return rc;
}

int
node_memif_open(struct node_memif **out, const struct node_config *cfg,
		const struct node_secret *secret, const struct env_ops *storage,
		const struct base_log *log, char *err, size_t err_size)
{
	struct node_memif *m;
	int rc;

	ASSERT(out != NULL && cfg != NULL && secret != NULL);
	ASSERT(storage != NULL);
	*out = NULL;
	if (cfg->peer_count < 2) {
		(void)snprintf(err, err_size,
			       "memif needs peers (a one-node cluster: transport = udp)");
		return -EINVAL;
	}
	if (cfg->peer_count - 1 > ENV_DPDK_PEERS_MAX) {
		(void)snprintf(err, err_size, "memif takes at most %u peers", ENV_DPDK_PEERS_MAX);
		return -EINVAL;
	}
	m = base_alloc(sizeof(*m));
	if (m == NULL) {
		(void)snprintf(err, err_size, "memif: out of memory");
		return -ENOMEM;
	}
	rc = memif_eal(m, cfg, log, err, err_size);
	if (rc == 0) {
		rc = memif_ports(m, cfg, log, err, err_size);
	}
	if (rc == 0) {
		rc = memif_env(m, cfg, secret, storage, log, err, err_size);
	}
	if (rc != 0) {
		node_memif_close(m);
		return rc;
	}
	base_logf(log, BASE_LOG_INFO, "transport=memif links=%zu auth=%s", m->port_count,
		  cfg->auth ? "on" : "OFF");
	*out = m;
	return 0;
}

const struct env_ops *
node_memif_ops(const struct node_memif *m)
{
	ASSERT(m != NULL && m->env != NULL);
	return env_dpdk_ops(m->env);
}

void
node_memif_counters(const struct node_memif *m, struct ctl_frame_counters *out)
{
	struct env_dpdk_stats s;

	ASSERT(m != NULL && m->env != NULL && out != NULL);
	env_dpdk_stats_get(m->env, &s);
	out->garbage = s.recv_garbage_count;
	/* Too long for a port (never reaches the decoder) or for the shard's receive buffer. */
	out->oversize = s.recv_too_big_count;
	for (size_t i = 0; i < m->port_count; i++) {
		struct dp_port_stats ps;

		dp_port_stats_get(m->ports[i], &ps);
		out->oversize += ps.rx_too_big_count;
	}
	out->forged = s.auth.forged_count;
	out->unauthenticated = s.auth.unauthenticated_count;
	out->replayed = s.auth.replayed_count;
	out->stale = s.auth.too_old_count + s.auth.stale_incarnation_count;
	out->foreign = s.auth.foreign_count;
	out->unknown_sender = s.auth.unknown_sender_count;
}

void
node_dpdk_runtime_dir_remove(const char *prefix)
{
	char path[128];
	DIR *dir;
	struct dirent *de;

	if (snprintf(path, sizeof(path), MEMIF_RUNTIME_DIR "/%s", prefix) >= (int)sizeof(path)) {
		return;
	}
	dir = opendir(path);
	if (dir == NULL) {
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.') {
			(void)unlinkat(dirfd(dir), de->d_name, 0);
		}
	}
	(void)closedir(dir);
	(void)rmdir(path);
}

void
node_memif_close(struct node_memif *m)
{
	if (m == NULL) {
		return;
	}
	env_dpdk_destroy(m->env);
	for (size_t i = 0; i < m->port_count; i++) {
		dp_port_destroy(m->ports[i]);
	}
	dp_mempool_destroy(m->pool);
	if (m->eal_started) {
		dp_eal_stop();
		node_dpdk_runtime_dir_remove(m->file_prefix);
	}
	base_free(m);
}
