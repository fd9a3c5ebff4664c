/* SPDX-License-Identifier: Apache-2.0 */
#include "dataplane/dp_port.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/run.h"
#include "dp_mempool_int.h"

#define MEMIF_NAME_PREFIX "net_memif"
#define DESC_MIN          64u
#define DESC_MAX          4096u
/* A client whose start failed (no server yet) tries again this soon. */
#define CONNECT_RETRY_NS  (50u * 1000u * 1000u)
#define WAIT_POLL_NS      (1000u * 1000u)
#define DEVARGS_MAX       (DP_PORT_PATH_MAX + 128u)

struct dp_port {
	struct dp_port_config cfg;
	struct rte_mempool *mp; /* borrowed from the dp_mempool */
	struct base_log log;
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
	case DP_PORT_PCI:
		return -ENOTSUP;
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

static int
memif_probe(struct dp_port *p)
{
	const struct dp_memif_config *m = &p->cfg.memif;
	char args[DEVARGS_MAX];
	int n;
	int rc;

	n = snprintf(args, sizeof(args),
		     "role=%s,id=%" PRIu32 ",socket=%s,socket-abstract=no,rsize=%" PRIu32
		     ",bsize=%" PRIu32,
		     m->role == DP_MEMIF_SERVER ? "server" : "client", m->interface_id,
		     m->socket_path, m->ring_size_log2, m->buffer_size);
	ASSERT(n > 0 && (size_t)n < sizeof(args)); /* sized for the longest path */
	memif_remove_stale_socket(p);
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
	if (log != NULL) {
		p->log = *log;
	}
	rc = memif_probe(p);
	if (rc != 0) {
		goto err_free;
	}
	rc = queues_setup(p);
	if (rc != 0) {
		goto err_remove;
	}
	port_try_start(p, dp_run_now_ns());
	/* A server must start (it only listens); a client may wait for its server. */
	if (!p->is_started && p->cfg.memif.role == DP_MEMIF_SERVER) {
		rc = -EIO;
		goto err_remove;
	}
	base_logf(&p->log, BASE_LOG_INFO, "port: name=%s memif %s socket=%s created", p->cfg.name,
		  p->cfg.memif.role == DP_MEMIF_SERVER ? "server" : "client",
		  p->cfg.memif.socket_path);
	*out = p;
	return 0;
err_remove:
	(void)rte_eth_dev_close(p->port_id);
	(void)rte_eal_hotplug_remove("vdev", p->cfg.name);
err_free:
	base_logf(&p->log, BASE_LOG_ERROR, "port: name=%s cannot be created: %s", cfg->name,
		  rte_strerror(-rc));
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
	if (p->is_started) {
		(void)rte_eth_dev_stop(p->port_id);
	}
	/* Closing a memif server also removes its socket file. */
	(void)rte_eth_dev_close(p->port_id);
	(void)rte_eal_hotplug_remove("vdev", p->cfg.name);
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
	if (p->is_started) {
		(void)rte_eth_dev_stop(p->port_id);
		p->is_started = false;
		p->stats.reconnect_count++;
	}
	port_try_start(p, now_ns);
}

bool
dp_port_poll_link(struct dp_port *p, uint64_t now_ns)
{
	struct rte_eth_link link;
	bool is_up = false;

	ASSERT(p != NULL);
	if (p->is_started) {
		memset(&link, 0, sizeof(link));
		is_up = rte_eth_link_get_nowait(p->port_id, &link) == 0 &&
			link.link_status == RTE_ETH_LINK_UP;
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
	struct rte_eth_link link;

	ASSERT(p != NULL && frame != NULL);
	if (size == 0 || size > DP_PORT_FRAME_MAX) {
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
	/* Bounded: after a memif peer closes, tx_burst returns 0 forever. */
	for (uint32_t i = 0; i < p->cfg.tx_retry_max; i++) {
		if (rte_eth_tx_burst(p->port_id, 0, &m, 1) == 1) {
			p->stats.tx_count++;
			p->stats.tx_bytes += size;
			return 0;
		}
	}
	rte_pktmbuf_free(m);
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(p->port_id, &link) != 0 ||
	    link.link_status != RTE_ETH_LINK_UP) {
		link_note(p, false);
		p->stats.tx_down_count++;
		return -ENOTCONN;
	}
	p->stats.tx_full_count++;
	return -ENOBUFS;
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

void
dp_port_dump(const struct dp_port *p, FILE *out)
{
	const struct dp_port_stats *s = &p->stats;

	ASSERT(p != NULL && out != NULL);
	fprintf(out,
		"port: name=%s type=memif role=%s link=%s rx=%" PRIu64 " tx=%" PRIu64
		" rx_scattered=%" PRIu64 " rx_too_big=%" PRIu64 " tx_full=%" PRIu64
		" tx_down=%" PRIu64 " tx_nombuf=%" PRIu64 " up=%" PRIu64 " down=%" PRIu64
		" reconnects=%" PRIu64 "\n",
		p->cfg.name, p->cfg.memif.role == DP_MEMIF_SERVER ? "server" : "client",
		p->is_up ? "up" : "down", s->rx_count, s->tx_count, s->rx_scattered_count,
		s->rx_too_big_count, s->tx_full_count, s->tx_down_count, s->tx_nombuf_count,
		s->link_up_count, s->link_down_count, s->reconnect_count);
}
