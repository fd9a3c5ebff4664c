/* SPDX-License-Identifier: Apache-2.0 */
#include "env/env_posix.h"

#include <arpa/inet.h>
#include <assert.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/panic.h"
#include "base/ring.h"
#include "env_posix_int.h"

struct posix_peer {
	uint32_t node_id;
	struct env_posix_addr addr;
	struct sockaddr_in sa; /* addr in network order, ready for sendto and for matching */
};

struct env_posix {
	struct env_ops ops; /* ops.ctx == this */
	uint32_t node_id;
	uint64_t seed;
	int sock_fd;
	int dir_fd;
	uint16_t port;
	size_t peer_count;
	struct posix_peer peers[ENV_POSIX_PEERS_MAX];
	struct base_ring *completions;          /* struct env_storage_completion, own allocation */
	enum env_posix_storage_backend backend; /* URING or SYNC */
	struct env_posix_uring *uring;          /* the io_uring backend; NULL with SYNC */
	/* The synchronous backend: operations accepted, directory changes made and fsynced. */
	uint64_t sync_accepted;
	uint64_t dir_changes;
	uint64_t dir_synced;
	struct env_posix_stats stats;
};

static bool
addr_equal(const struct env_posix_addr *a, const struct env_posix_addr *b)
{
	return a->ipv4 == b->ipv4 && a->port == b->port;
}

static bool
addr_is_valid(const struct env_posix_addr *a)
{
	return a->ipv4 != 0 && a->port != 0;
}

static struct sockaddr_in
addr_to_sockaddr(const struct env_posix_addr *a)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(a->ipv4);
	sa.sin_port = htons(a->port);
	return sa;
}

static struct posix_peer *
peer_by_id(struct env_posix *e, uint32_t node_id)
{
	for (size_t i = 0; i < e->peer_count; i++) {
		if (e->peers[i].node_id == node_id) {
			return &e->peers[i];
		}
	}
	return NULL;
}

static const struct posix_peer *
peer_by_sockaddr(const struct env_posix *e, const struct sockaddr_in *sa, socklen_t len)
{
	if (len != sizeof(*sa) || sa->sin_family != AF_INET) {
		return NULL;
	}
	for (size_t i = 0; i < e->peer_count; i++) {
		const struct sockaddr_in *p = &e->peers[i].sa;

		if (p->sin_addr.s_addr == sa->sin_addr.s_addr && p->sin_port == sa->sin_port) {
			return &e->peers[i];
		}
	}
	return NULL;
}

/* ---- Config validation ---- */

static int
config_check_peers(const struct env_posix_config *cfg)
{
	if (cfg->peer_count > ENV_POSIX_PEERS_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		if (!addr_is_valid(&cfg->peers[i].addr)) {
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (cfg->peers[j].node_id == cfg->peers[i].node_id ||
			    addr_equal(&cfg->peers[j].addr, &cfg->peers[i].addr)) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int
config_check(const struct env_posix_config *cfg)
{
	uint32_t cq = cfg->completion_queue_max;

	if (cq == 0 || cq > ENV_POSIX_COMPLETION_QUEUE_MAX || !base_is_pow2(cq)) {
		return -EINVAL;
	}
	if (cfg->send_queue_max > ENV_POSIX_SOCKET_QUEUE_MAX ||
	    cfg->recv_queue_max > ENV_POSIX_SOCKET_QUEUE_MAX) {
		return -EINVAL;
	}
	if (cfg->data_dir == NULL || cfg->data_dir[0] == '\0' ||
	    strnlen(cfg->data_dir, PATH_MAX) >= PATH_MAX) {
		return -EINVAL;
	}
	if (cfg->storage_backend != ENV_POSIX_STORAGE_AUTO &&
	    cfg->storage_backend != ENV_POSIX_STORAGE_URING &&
	    cfg->storage_backend != ENV_POSIX_STORAGE_SYNC) {
		return -EINVAL;
	}
	if (cfg->storage_bytes_max > ENV_POSIX_STORAGE_BYTES_MAX) {
		return -EINVAL;
	}
	return config_check_peers(cfg);
}

/* ---- Small syscall wrappers: retry EINTR, return 0 or -errno ---- */

static int
open_at(int dir_fd, const char *name, int flags, mode_t mode)
{
	for (;;) {
		int fd = openat(dir_fd, name, flags | O_CLOEXEC, mode);

		if (fd >= 0) {
			return fd;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}

static int
fsync_fd(int fd)
{
	while (fsync(fd) != 0) {
		if (errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

/* Writes all of data, continuing after short writes and EINTR. */
static int
write_all(int fd, const uint8_t *data, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		if (n == 0) {
			return -EIO; /* a regular file never accepts 0 bytes of a non-empty write */
		}
		done += (size_t)n;
	}
	return 0;
}

static ssize_t
read_retry(int fd, void *buf, size_t size)
{
	for (;;) {
		ssize_t n = read(fd, buf, size);

		if (n >= 0 || errno != EINTR) {
			return n;
		}
	}
}

/*
 * Reads the whole file into buf. Reading until EOF (rather than trusting fstat's size) stays
 * right even if the file changes size underneath; one probe byte past capacity detects -EFBIG.
 */
static int
read_all(int fd, uint8_t *buf, size_t capacity, size_t *size)
{
	size_t done = 0;
	uint8_t probe;
	ssize_t n;

	while (done < capacity) {
		n = read_retry(fd, buf + done, capacity - done);
		if (n < 0) {
			return -errno;
		}
		if (n == 0) {
			*size = done;
			return 0;
		}
		done += (size_t)n;
	}
	n = read_retry(fd, &probe, 1);
	if (n < 0) {
		return -errno;
	}
	if (n > 0) {
		return -EFBIG;
	}
	*size = done;
	return 0;
}

/* ---- Clock, seed ---- */

static uint64_t
posix_now_ns(void *ctx)
{
	struct timespec ts;
	int rc;

	(void)ctx;
	rc = clock_gettime(CLOCK_MONOTONIC, &ts);
	/* CLOCK_MONOTONIC cannot fail with a valid clock id and pointer. */
	ASSERT(rc == 0);
	ASSERT(ts.tv_sec >= 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
posix_seed(void *ctx)
{
	const struct env_posix *e = ctx;

	ASSERT(e != NULL);
	return e->seed;
}

/* ---- Transport ---- */

/*
 * Maps a sendto failure. A full socket buffer is backpressure (-ENOBUFS). Routing failures are
 * what a fair-loss link does anyway, so they count as a lost datagram (the protocol
 * retransmits) rather than -EHOSTUNREACH, which the seam reserves for "no such peer".
 */
static int
send_error(struct env_posix *e, int err)
{
	switch (err) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case ENOBUFS:
		e->stats.send_full_count++;
		return -ENOBUFS;
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
	case ECONNREFUSED:
	case EPERM: /* a local firewall rule */
		e->stats.send_dropped_count++;
		return 0;
	default:
		return -err;
	}
}

static int
posix_send(void *ctx, uint32_t peer_id, const uint8_t *data, size_t size)
{
	struct env_posix *e = ctx;
	const struct posix_peer *p;
	ssize_t n;

	ASSERT(e != NULL);
	ASSERT(data != NULL || size == 0);
	if (size > ENV_MSG_MAX) {
		return -EMSGSIZE;
	}
	p = peer_by_id(e, peer_id);
	if (p == NULL) {
		return -EHOSTUNREACH;
	}
	do {
		n = sendto(e->sock_fd, data, size, MSG_DONTWAIT, (const struct sockaddr *)&p->sa,
			   sizeof(p->sa));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return send_error(e, errno);
	}
	ASSERT((size_t)n == size); /* UDP sends whole datagrams or nothing */
	return 0;
}

/*
 * MSG_TRUNC makes recvfrom return the datagram's real length, so an oversize datagram is
 * detected (and dropped: UDP discards the rest) instead of delivered cut short.
 */
static int
posix_recv(void *ctx, uint32_t *peer_id, uint8_t *buf, size_t capacity, size_t *size)
{
	struct env_posix *e = ctx;

	ASSERT(e != NULL);
	ASSERT(buf != NULL || capacity == 0);
	for (unsigned drops = 0; drops < ENV_POSIX_RECV_DROP_BURST;) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(e->sock_fd, buf, capacity, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &from_len);
		const struct posix_peer *p;

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -EAGAIN : -errno;
		}
		p = peer_by_sockaddr(e, &from, from_len);
		if (p == NULL) {
			e->stats.recv_unknown_count++;
			drops++;
			continue;
		}
		if ((size_t)n > capacity) {
			e->stats.recv_too_big_count++;
			return -EMSGSIZE;
		}
		*peer_id = p->node_id;
		*size = (size_t)n;
		return 0;
	}
	return -EAGAIN;
}

/* ---- Storage ---- */

void
env_posix_tmp_name(char *out, const char *name)
{
	int len = snprintf(out, ENV_POSIX_TMP_NAME_MAX + 1, ".%s.tmp", name);

	ASSERT(len > 0);
	ASSERT(len <=
	       ENV_POSIX_TMP_NAME_MAX); /* the name was checked against ENV_STORAGE_NAME_MAX */
}

static void
completion_push(struct env_posix *e, uint64_t token, enum env_storage_op op, int status)
{
	struct env_storage_completion c = {.token = token, .op = op, .status = status};
	int rc;

	ASSERT(status <= 0);
	if (status != 0) {
		e->stats.storage_error_count++;
	}
	rc = base_ring_push(e->completions, &c);
	/* The callers checked for room before doing any I/O, and nothing else pushes. */
	ASSERT(rc == 0);
	e->sync_accepted++;
}

/*
 * Writes data to ".<name>.tmp", fsyncs it, and renames it over name. The fsync before the
 * rename is what makes the replace atomic across a crash: without it, a crash after the rename
 * reached the disk but before the data did leaves an empty or partial object, destroying the
 * old (possibly synced) contents. On failure the temporary file is removed.
 */
static int
storage_replace(struct env_posix *e, const char *name, const uint8_t *data, size_t size)
{
	char tmp[ENV_POSIX_TMP_NAME_MAX + 1];
	int fd;
	int rc;

	env_posix_tmp_name(tmp, name);
	fd = open_at(e->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		return fd;
	}
	rc = write_all(fd, data, size);
	if (rc == 0) {
		rc = fsync_fd(fd);
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	if (rc == 0 && renameat(e->dir_fd, tmp, e->dir_fd, name) != 0) {
		rc = -errno;
	}
	if (rc != 0) {
		/*
		 * Best effort, so its own result is ignored: a leftover temp file is never loaded
		 * and the next put of the same name truncates it.
		 */
		(void)unlinkat(e->dir_fd, tmp, 0);
		return rc;
	}
	e->dir_changes++;
	return 0;
}

/*
 * Opens name for an append and checks ENV_STORAGE_OBJECT_MAX on the descriptor before a byte
 * is written; a missing object is created only then, so a refusal changes nothing. Returns
 * -EFBIG (refused, nothing open) or 0 with *fd the descriptor or the negative errno the
 * completion must report.
 */
static int
storage_append_open(struct env_posix *e, const char *name, size_t size, int *fd)
{
	struct stat st;

	*fd = open_at(e->dir_fd, name, O_WRONLY | O_APPEND, 0);
	if (*fd == -ENOENT) {
		*fd = open_at(e->dir_fd, name, O_WRONLY | O_APPEND | O_CREAT, 0640);
		/* A new name: the next sync must fsync the directory too. */
		e->dir_changes += *fd >= 0 ? 1u : 0u;
		return 0;
	}
	if (*fd < 0) {
		return 0;
	}
	if (fstat(*fd, &st) != 0) {
		int err = -errno;

		close(*fd);
		*fd = err;
		return 0;
	}
	if ((uint64_t)st.st_size + size > ENV_STORAGE_OBJECT_MAX) {
		close(*fd);
		*fd = -1;
		return -EFBIG;
	}
	return 0;
}

/*
 * fsync(name), then fsync(dir) when a put renamed or an append created an object since the
 * directory was last fsynced: that makes the new directory entry itself durable.
 */
static int
storage_fsync(struct env_posix *e, const char *name)
{
	int fd = open_at(e->dir_fd, name, O_RDONLY, 0);
	uint64_t mark = e->dir_changes;
	int rc;

	if (fd < 0) {
		return fd;
	}
	rc = fsync_fd(fd);
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	if (rc == 0 && mark != e->dir_synced) {
		rc = fsync_fd(e->dir_fd);
	}
	if (rc == 0 && mark != e->dir_synced) {
		e->dir_synced = mark;
		e->stats.storage_dir_fsync_count++;
	}
	return rc;
}

/* The checks every backend shares: the name, and the seam's bound on an object. */
static int
storage_check(const char *name, size_t size)
{
	int rc = env_storage_name_check(name);

	if (rc != 0) {
		return rc;
	}
	return size > (size_t)ENV_STORAGE_OBJECT_MAX ? -EFBIG : 0;
}

static int
posix_storage_put(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct env_posix *e = ctx;
	int rc;

	ASSERT(e != NULL);
	ASSERT(data != NULL || size == 0);
	rc = storage_check(name, size);
	if (rc != 0) {
		return rc;
	}
	if (e->uring != NULL) {
		return env_posix_uring_put(e->uring, name, data, size, token);
	}
	if (base_ring_is_full(e->completions)) {
		return -ENOBUFS;
	}
	completion_push(e, token, ENV_STORAGE_PUT, storage_replace(e, name, data, size));
	return 0;
}

static int
posix_storage_append(void *ctx, const char *name, const uint8_t *data, size_t size, uint64_t token)
{
	struct env_posix *e = ctx;
	int fd;
	int rc;

	ASSERT(e != NULL);
	ASSERT(data != NULL || size == 0);
	rc = storage_check(name, size);
	if (rc != 0) {
		return rc;
	}
	if (e->uring != NULL) {
		return env_posix_uring_append(e->uring, name, data, size, token);
	}
	if (base_ring_is_full(e->completions)) {
		return -ENOBUFS;
	}
	rc = storage_append_open(e, name, size, &fd);
	if (rc != 0) {
		return rc;
	}
	if (fd >= 0) {
		int status = write_all(fd, data, size);

		if (close(fd) != 0 && status == 0) {
			status = -errno;
		}
		fd = status;
	}
	completion_push(e, token, ENV_STORAGE_APPEND, fd);
	return 0;
}

static int
posix_storage_sync(void *ctx, const char *name, uint64_t token)
{
	struct env_posix *e = ctx;
	int rc;

	ASSERT(e != NULL);
	rc = storage_check(name, 0);
	if (rc != 0) {
		return rc;
	}
	if (e->uring != NULL) {
		return env_posix_uring_sync(e->uring, name, token);
	}
	if (base_ring_is_full(e->completions)) {
		return -ENOBUFS;
	}
	completion_push(e, token, ENV_STORAGE_SYNC, storage_fsync(e, name));
	return 0;
}

static size_t
posix_storage_poll(void *ctx, struct env_storage_completion *out, size_t capacity)
{
	struct env_posix *e = ctx;
	size_t count = 0;

	ASSERT(e != NULL);
	ASSERT(out != NULL || capacity == 0);
	if (e->uring != NULL) {
		env_posix_uring_progress(e->uring);
	}
	while (count < capacity && base_ring_pop(e->completions, &out[count]) == 0) {
		count++;
	}
	return count;
}

/*
 * With io_uring, operations on name still in flight finish first (blocking), so that the load
 * sees every put and append accepted before it, as the seam's per-name order promises.
 */
static int
posix_storage_load(void *ctx, const char *name, uint8_t *buf, size_t capacity, size_t *size)
{
	struct env_posix *e = ctx;
	int fd;
	int rc;

	ASSERT(e != NULL);
	ASSERT(buf != NULL || capacity == 0);
	ASSERT(size != NULL);
	rc = env_storage_name_check(name);
	if (rc != 0) {
		return rc;
	}
	if (e->uring != NULL) {
		env_posix_uring_settle(e->uring, name);
	}
	fd = open_at(e->dir_fd, name, O_RDONLY, 0);
	rc = fd < 0 ? fd : read_all(fd, buf, capacity, size);
	if (fd >= 0 && close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	if (e->uring != NULL) {
		env_posix_uring_note_load(e->uring, name, rc, rc == 0 ? *size : 0);
	}
	return rc;
}

/* ---- Create / destroy ---- */

/*
 * fsyncs the parent of a directory we just created, so that the directory entry (and with it
 * every object synced later) survives a crash.
 */
static int
dir_parent_fsync(const char *path)
{
	char parent[PATH_MAX];
	size_t len = strnlen(path, PATH_MAX);
	int fd;
	int rc;

	ASSERT(len < PATH_MAX);
	memcpy(parent, path, len + 1);
	while (len > 1 && parent[len - 1] == '/') {
		parent[--len] = '\0';
	}
	while (len > 0 && parent[len - 1] != '/') {
		parent[--len] = '\0';
	}
	if (len == 0) {
		memcpy(parent, ".", 2);
	}
	fd = open_at(AT_FDCWD, parent, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		return fd;
	}
	rc = fsync_fd(fd);
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	return rc;
}

/* Opens the data directory, creating it 0750 (and making the creation durable) when missing. */
static int
dir_open(const char *path)
{
	if (mkdir(path, 0750) == 0) {
		int rc = dir_parent_fsync(path);

		if (rc != 0) {
			return rc;
		}
	} else if (errno != EEXIST) {
		return -errno;
	}
	return open_at(AT_FDCWD, path, O_RDONLY | O_DIRECTORY, 0);
}

static int
socket_set_buffer(int fd, int option, uint32_t datagrams)
{
	int bytes = (int)(datagrams * ENV_MSG_MAX);

	static_assert(ENV_POSIX_SOCKET_QUEUE_MAX * (uint64_t)ENV_MSG_MAX <= INT_MAX,
		      "socket buffer size must fit the int that setsockopt takes");
	if (datagrams == 0) {
		return 0;
	}
	if (setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof(bytes)) != 0) {
		return -errno;
	}
	return 0;
}

/* Creates, sizes and binds the socket; stores it and the bound port in e. */
static int
socket_open(struct env_posix *e, const struct env_posix_config *cfg)
{
	struct sockaddr_in sa = addr_to_sockaddr(&cfg->bind);
	socklen_t sa_len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0) {
		return -errno;
	}
	rc = socket_set_buffer(fd, SO_SNDBUF, cfg->send_queue_max);
	if (rc == 0) {
		rc = socket_set_buffer(fd, SO_RCVBUF, cfg->recv_queue_max);
	}
	if (rc == 0 && bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
	}
	if (rc == 0 && getsockname(fd, (struct sockaddr *)&sa, &sa_len) != 0) {
		rc = -errno;
	}
	if (rc != 0) {
		close(fd);
		return rc;
	}
	e->sock_fd = fd;
	e->port = ntohs(sa.sin_port);
	return 0;
}

/*
 * Picks the storage backend. AUTO falls back to the synchronous one when io_uring is
 * unavailable here (its error goes to *uring_error for the log); an allocation failure is
 * -ENOMEM whatever the choice.
 */
static int
storage_open(struct env_posix *e, const struct env_posix_config *cfg, int *uring_error)
{
	struct env_posix_uring_config uc = {
		.dir_fd = e->dir_fd,
		.completions = e->completions,
		.bytes_max = cfg->storage_bytes_max != 0 ? cfg->storage_bytes_max
							 : ENV_POSIX_STORAGE_BYTES_DEFAULT,
		.stats = &e->stats,
	};
	bool is_unavailable = false;
	int rc;

	*uring_error = 0;
	e->backend = ENV_POSIX_STORAGE_SYNC;
	if (cfg->storage_backend == ENV_POSIX_STORAGE_SYNC) {
		return 0;
	}
	rc = env_posix_uring_create(&uc, &e->uring, &is_unavailable);
	if (rc == 0) {
		e->backend = ENV_POSIX_STORAGE_URING;
		return 0;
	}
	if (!is_unavailable || cfg->storage_backend == ENV_POSIX_STORAGE_URING) {
		return rc;
	}
	*uring_error = rc;
	return 0;
}

/* The one line create logs: what this env is, and which storage backend runs and why. */
static void
create_log(const struct env_posix *e, const struct env_posix_config *cfg, int uring_error)
{
	char why[96] = "";

	if (uring_error != 0) {
		(void)snprintf(why, sizeof(why), " fallback (io_uring unavailable: %s)",
			       strerror(-uring_error));
	} else if (e->backend == ENV_POSIX_STORAGE_SYNC) {
		(void)snprintf(why, sizeof(why), " fallback (configured)");
	}
	base_logf(&e->ops.log, BASE_LOG_INFO,
		  "env_posix node=%u port=%u data_dir=%s: kernel UDP fallback, not the DPDK "
		  "dataplane; storage=%s%s",
		  e->node_id, (unsigned)e->port, cfg->data_dir,
		  env_posix_storage_backend_name(e->backend), why);
}

static void
ops_fill(struct env_posix *e, const struct base_log *log)
{
	struct env_ops *ops = &e->ops;

	ops->version = ENV_OPS_VERSION;
	ops->size = (uint32_t)sizeof(*ops);
	ops->ctx = e;
	ops->now_ns = posix_now_ns;
	ops->seed = posix_seed;
	ops->send = posix_send;
	ops->recv = posix_recv;
	ops->storage_put = posix_storage_put;
	ops->storage_sync = posix_storage_sync;
	ops->storage_poll = posix_storage_poll;
	ops->storage_load = posix_storage_load;
	ops->log = *log;
	ops->storage_append = posix_storage_append;
	env_ops_assert_valid(ops);
}

/* Allocates the env and its completion ring (the only two allocations this module makes). */
static int
env_alloc(const struct env_posix_config *cfg, struct env_posix **out)
{
	size_t cq = cfg->completion_queue_max;
	struct env_posix *e = base_alloc(sizeof(*e));
	void *ring_mem;

	if (e == NULL) {
		return -ENOMEM;
	}
	ring_mem = base_alloc(base_ring_size(cq, sizeof(struct env_storage_completion)));
	if (ring_mem == NULL) {
		base_free(e);
		return -ENOMEM;
	}
	e->completions = base_ring_init(ring_mem, cq, sizeof(struct env_storage_completion));
	e->sock_fd = -1;
	e->dir_fd = -1;
	*out = e;
	return 0;
}

static void
env_free(struct env_posix *e)
{
	base_free(e->completions);
	base_free(e);
}

int
env_posix_create(const struct env_posix_config *cfg, struct env_posix **out)
{
	struct env_posix *e;
	int uring_error;
	int rc;

	ASSERT(cfg != NULL);
	ASSERT(out != NULL);
	rc = config_check(cfg);
	if (rc != 0) {
		return rc;
	}
	rc = env_alloc(cfg, &e);
	if (rc != 0) {
		return rc;
	}
	e->node_id = cfg->node_id;
	e->seed = cfg->seed;
	e->dir_fd = dir_open(cfg->data_dir);
	if (e->dir_fd < 0) {
		rc = e->dir_fd;
		goto err_free;
	}
	rc = storage_open(e, cfg, &uring_error);
	if (rc != 0) {
		goto err_close_dir;
	}
	rc = socket_open(e, cfg);
	if (rc != 0) {
		goto err_close_storage;
	}
	for (size_t i = 0; i < cfg->peer_count; i++) {
		rc = env_posix_set_peer(e, cfg->peers[i].node_id, &cfg->peers[i].addr);
		/* config_check ruled out every failure of set_peer. */
		ASSERT(rc == 0);
	}
	ops_fill(e, &cfg->log);
	create_log(e, cfg, uring_error);
	*out = e;
	return 0;

err_close_storage:
	env_posix_uring_destroy(e->uring);
err_close_dir:
	close(e->dir_fd);
err_free:
	env_free(e);
	return rc;
}

void
env_posix_destroy(struct env_posix *e)
{
	if (e == NULL) {
		return;
	}
	ASSERT(e->sock_fd >= 0);
	ASSERT(e->dir_fd >= 0);
	/* Before the directory closes: the ring's steps name files relative to it. */
	env_posix_uring_destroy(e->uring);
	close(e->sock_fd);
	close(e->dir_fd);
	env_free(e);
}

const struct env_ops *
env_posix_ops(const struct env_posix *e)
{
	ASSERT(e != NULL);
	ASSERT(e->ops.ctx == e);
	return &e->ops;
}

int
env_posix_set_peer(struct env_posix *e, uint32_t node_id, const struct env_posix_addr *addr)
{
	struct posix_peer *p;

	ASSERT(e != NULL);
	ASSERT(addr != NULL);
	if (!addr_is_valid(addr)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < e->peer_count; i++) {
		if (e->peers[i].node_id != node_id && addr_equal(&e->peers[i].addr, addr)) {
			return -EEXIST;
		}
	}
	p = peer_by_id(e, node_id);
	if (p == NULL) {
		if (e->peer_count == ENV_POSIX_PEERS_MAX) {
			return -ENOBUFS;
		}
		p = &e->peers[e->peer_count++];
		p->node_id = node_id;
	}
	p->addr = *addr;
	p->sa = addr_to_sockaddr(addr);
	ASSERT(e->peer_count <= ENV_POSIX_PEERS_MAX);
	return 0;
}

uint16_t
env_posix_port(const struct env_posix *e)
{
	ASSERT(e != NULL);
	return e->port;
}

int
env_posix_fd(const struct env_posix *e)
{
	ASSERT(e != NULL);
	ASSERT(e->sock_fd >= 0);
	return e->sock_fd;
}

enum env_posix_storage_backend
env_posix_storage_backend_get(const struct env_posix *e)
{
	ASSERT(e != NULL);
	ASSERT((e->backend == ENV_POSIX_STORAGE_URING) == (e->uring != NULL));
	return e->backend;
}

const char *
env_posix_storage_backend_name(enum env_posix_storage_backend backend)
{
	switch (backend) {
	case ENV_POSIX_STORAGE_AUTO:
		return "auto";
	case ENV_POSIX_STORAGE_URING:
		return "io_uring";
	case ENV_POSIX_STORAGE_SYNC:
		return "sync";
	}
	return "unknown";
}

int
env_posix_storage_fd(const struct env_posix *e)
{
	ASSERT(e != NULL);
	return e->uring != NULL ? env_posix_uring_fd(e->uring) : -1;
}

uint64_t
env_posix_storage_mark(const struct env_posix *e)
{
	ASSERT(e != NULL);
	return e->uring != NULL ? env_posix_uring_mark(e->uring) : e->sync_accepted;
}

bool
env_posix_storage_reached(const struct env_posix *e, uint64_t mark)
{
	ASSERT(e != NULL);
	if (e->uring != NULL) {
		return env_posix_uring_reached(e->uring, mark);
	}
	/* The synchronous backend finishes each operation before accepting the next. */
	ASSERT(mark <= e->sync_accepted);
	return true;
}

void
env_posix_stats_get(const struct env_posix *e, struct env_posix_stats *out)
{
	ASSERT(e != NULL);
	ASSERT(out != NULL);
	*out = e->stats;
}

void
env_posix_dump(const struct env_posix *e, FILE *out)
{
	const struct env_posix_stats *s;

	ASSERT(e != NULL);
	ASSERT(out != NULL);
	s = &e->stats;
	fprintf(out, "env_posix node=%u port=%u (kernel UDP fallback) storage=%s\n", e->node_id,
		(unsigned)e->port, env_posix_storage_backend_name(e->backend));
	for (size_t i = 0; i < e->peer_count; i++) {
		const struct posix_peer *p = &e->peers[i];
		uint32_t a = p->addr.ipv4;

		fprintf(out, "  peer node=%u addr=%u.%u.%u.%u:%u\n", p->node_id, a >> 24,
			(a >> 16) & 0xffu, (a >> 8) & 0xffu, a & 0xffu, (unsigned)p->addr.port);
	}
	fprintf(out,
		"  recv_unknown=%llu recv_too_big=%llu send_full=%llu send_dropped=%llu "
		"storage_errors=%llu dir_fsyncs=%llu in_flight=%u completions_waiting=%zu\n",
		(unsigned long long)s->recv_unknown_count,
		(unsigned long long)s->recv_too_big_count, (unsigned long long)s->send_full_count,
		(unsigned long long)s->send_dropped_count,
		(unsigned long long)s->storage_error_count,
		(unsigned long long)s->storage_dir_fsync_count,
		e->uring != NULL ? env_posix_uring_in_flight(e->uring) : 0u,
		base_ring_count(e->completions));
}
