/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl/ctl_server.h"

#include <assert.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/panic.h"

/* Accepts per poll: enough to fill every slot and turn a few away, not enough to stall. */
#define ACCEPTS_PER_POLL (2 * CTL_SERVER_CONNECTIONS_MAX)
/* Supplementary groups examined per user (getgrouplist); more are not looked at. */
#define USER_GROUPS_MAX  1024
/* getpwuid_r / getgrnam_r scratch. */
#define NSS_BUFFER_SIZE  4096
#define GROUP_NAME_MAX   64
/* A connection-level error answer: header, status, message blob. */
#define SMALL_FRAME_SIZE (CTL_FRAME_HEADER_SIZE + 1 + 4 + CTL_MESSAGE_MAX)
#define NS_PER_MS        1000000ull

static_assert(sizeof(((struct sockaddr_un *)0)->sun_path) == CTL_SERVER_PATH_MAX + 1,
	      "CTL_SERVER_PATH_MAX must match sun_path");

enum conn_state {
	CONN_FREE = 0,
	CONN_READING, /* waiting for (the rest of) a request */
	CONN_PENDING, /* the handler deferred its answer */
	CONN_WRITING, /* an answer is being sent */
};

struct ctl_conn {
	int fd;
	enum conn_state state;
	uint32_t generation; /* bumped per request and per close: stale tickets never match */
	bool close_after_write;
	bool peer_closed; /* read saw EOF: answer what is buffered, then close */
	struct ctl_caller caller;
	uint64_t deadline_ns;
	struct ctl_stream in;
	uint8_t *out; /* CTL_RESPONSE_MAX bytes */
	size_t out_size;
	size_t out_sent;
	enum ctl_msg_type pending_type;
	uint64_t pending_id;
};

struct ctl_server {
	int listen_fd;
	dev_t sock_dev; /* identity of the bound socket file, so destroy unlinks only ours */
	ino_t sock_ino;
	char path[CTL_SERVER_PATH_MAX + 1];
	bool has_group;
	gid_t gid;
	char group_name[GROUP_NAME_MAX];
	uid_t euid;
	uint32_t max_connections;
	uint64_t read_timeout_ns;
	uint64_t reply_timeout_ns;
	uint64_t now_ns; /* of the latest poll */
	struct base_log log;
	ctl_handler_fn *handler;
	void *handler_ctx;
	struct ctl_server_stats stats;
	struct ctl_response *resp; /* scratch for answers built here */
	struct pollfd pfds[1 + CTL_SERVER_CONNECTIONS_MAX];
	uint32_t pfd_slot[1 + CTL_SERVER_CONNECTIONS_MAX];
	struct ctl_conn conns[CTL_SERVER_CONNECTIONS_MAX];
};

/* Writes one line for the operator into error (when given) and logs it. */
AE_PRINTF(4, 5)
static void
create_fail(const struct ctl_server_config *cfg, char *error, size_t error_size, const char *fmt,
	    ...)
{
	char line[CTL_SERVER_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (error != NULL && error_size > 0) {
		snprintf(error, error_size, "%s", line);
	}
	base_logf(&cfg->log, BASE_LOG_ERROR, "ctl: %s", line);
}

/* ---- Configuration and the operator group ---- */

static int
config_check(const struct ctl_server_config *cfg, char *error, size_t error_size)
{
	if (cfg->socket_path == NULL || cfg->socket_path[0] == '\0') {
		create_fail(cfg, error, error_size, "no socket path configured");
		return -EINVAL;
	}
	if (strlen(cfg->socket_path) > CTL_SERVER_PATH_MAX) {
		create_fail(cfg, error, error_size, "socket path %s is longer than %d bytes",
			    cfg->socket_path, CTL_SERVER_PATH_MAX);
		return -ENAMETOOLONG;
	}
	if (cfg->handler == NULL || cfg->max_connections > CTL_SERVER_CONNECTIONS_MAX) {
		create_fail(cfg, error, error_size, "invalid operator socket configuration");
		return -EINVAL;
	}
	return 0;
}

/* "1234" -> 1 and *gid; anything else -> 0. */
static bool
parse_numeric_gid(const char *text, gid_t *gid)
{
	char *end = NULL;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9') {
		return false;
	}
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX) {
		return false;
	}
	*gid = (gid_t)v;
	return true;
}

static int
group_resolve(struct ctl_server *srv, const struct ctl_server_config *cfg, char *error,
	      size_t error_size)
{
	const char *name = cfg->operator_group;
	char buf[NSS_BUFFER_SIZE];
	struct group gr;
	struct group *res = NULL;

	if (name == NULL || name[0] == '\0') {
		return 0;
	}
	srv->has_group = true;
	if (parse_numeric_gid(name, &srv->gid)) {
		/* A number names the group even when no name exists for it. */
		if (getgrgid_r(srv->gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL) {
			name = gr.gr_name;
		}
		snprintf(srv->group_name, sizeof(srv->group_name), "%s", name);
		return 0;
	}
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
		create_fail(cfg, error, error_size,
			    "operator group '%s' does not exist (create it or configure another)",
			    name);
		return -ENOENT;
	}
	srv->gid = gr.gr_gid;
	snprintf(srv->group_name, sizeof(srv->group_name), "%s", name);
	return 0;
}

/* The user's groups from the group database include gid. May block on NSS lookups. */
static bool
user_in_group(uid_t uid, gid_t gid)
{
	char buf[NSS_BUFFER_SIZE];
	gid_t groups[USER_GROUPS_MAX];
	int count = USER_GROUPS_MAX;
	struct passwd pw;
	struct passwd *res = NULL;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		return false;
	}
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &count) < 0) {
		/* Too many groups: glibc filled the first USER_GROUPS_MAX; look at those. */
		count = USER_GROUPS_MAX;
	}
	for (int i = 0; i < count && i < USER_GROUPS_MAX; i++) {
		if (groups[i] == gid) {
			return true;
		}
	}
	return false;
}

/* rabia.md 3d (2): uid 0, the service's uid, or a member of the operator group. */
static bool
caller_allowed(const struct ctl_server *srv, const struct ctl_caller *caller)
{
	if (caller->uid == 0 || caller->uid == srv->euid) {
		return true;
	}
	if (!srv->has_group) {
		return false;
	}
	if (caller->gid == srv->gid) {
		return true;
	}
	return user_in_group(caller->uid, srv->gid);
}

/* ---- The socket file ---- */

static int
dir_prepare(struct ctl_server *srv, const struct ctl_server_config *cfg, char *error,
	    size_t error_size)
{
	char dir[CTL_SERVER_PATH_MAX + 1];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", srv->path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		return 0; /* the working directory or "/": nothing to create */
	}
	*slash = '\0';
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			create_fail(cfg, error, error_size, "%s is not a directory", dir);
			return -EEXIST;
		}
		return 0;
	}
	if (errno != ENOENT || mkdir(dir, 0750) != 0) {
		int rc = -errno;

		create_fail(cfg, error, error_size, "cannot create socket directory %s: %s", dir,
			    strerror(errno));
		return rc;
	}
	/* mkdir's mode passed through the umask: set it exactly. */
	if (chmod(dir, 0750) != 0 || (srv->has_group && chown(dir, (uid_t)-1, srv->gid) != 0)) {
		int rc = -errno;

		create_fail(cfg, error, error_size, "cannot set owner or mode of %s: %s", dir,
			    strerror(errno));
		return rc;
	}
	base_logf(&srv->log, BASE_LOG_INFO, "ctl: created socket directory %s (mode 0750)", dir);
	return 0;
}

static struct sockaddr_un
sock_addr(const char *path)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* The length was checked at create; the first byte is never NUL (no abstract names). */
	memcpy(sa.sun_path, path, strlen(path));
	return sa;
}

/* 1 when a server answers on path, 0 when nobody does, or a negative errno. */
static int
sock_probe(const char *path)
{
	struct sockaddr_un sa = sock_addr(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc;

	if (fd < 0) {
		return -errno;
	}
	rc = connect(fd, (const struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0) {
		/* A full backlog (EAGAIN) still means a live listener. */
		rc = errno == ECONNREFUSED ? 0 : errno == EAGAIN ? 1 : -errno;
	} else {
		rc = 1;
	}
	close(fd);
	return rc;
}

static int
stale_remove(struct ctl_server *srv, const struct ctl_server_config *cfg, char *error,
	     size_t error_size)
{
	struct stat st;
	int rc;

	if (lstat(srv->path, &st) != 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		create_fail(cfg, error, error_size,
			    "%s exists and is not a socket; not removing it", srv->path);
		return -EEXIST;
	}
	rc = sock_probe(srv->path);
	if (rc == 1) {
		create_fail(cfg, error, error_size,
			    "socket %s is in use by a running server (is another node using it?)",
			    srv->path);
		return -EADDRINUSE;
	}
	if (rc < 0 || unlink(srv->path) != 0) {
		rc = rc < 0 ? rc : -errno;
		create_fail(cfg, error, error_size, "cannot check or remove old socket %s: %s",
			    srv->path, strerror(-rc));
		return rc;
	}
	base_logf(&srv->log, BASE_LOG_INFO, "ctl: removed stale socket %s", srv->path);
	return 0;
}

/* Binds with a umask so the file never exists with wider permissions, then sets them exactly. */
static int
sock_bind(struct ctl_server *srv)
{
	struct sockaddr_un sa = sock_addr(srv->path);
	struct stat st;
	mode_t old_mask;
	int rc;

	old_mask = umask(0117);
	rc = bind(srv->listen_fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc != 0) {
		return -errno;
	}
	if (chmod(srv->path, 0660) != 0 ||
	    (srv->has_group && chown(srv->path, (uid_t)-1, srv->gid) != 0) ||
	    listen(srv->listen_fd, CTL_SERVER_CONNECTIONS_MAX) != 0 || stat(srv->path, &st) != 0) {
		rc = -errno;
		unlink(srv->path);
		return rc;
	}
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	return 0;
}

static int
sock_listen(struct ctl_server *srv, const struct ctl_server_config *cfg, char *error,
	    size_t error_size)
{
	int rc;

	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0) {
		rc = -errno;
		create_fail(cfg, error, error_size, "cannot create a unix socket: %s",
			    strerror(errno));
		return rc;
	}
	rc = sock_bind(srv);
	if (rc != 0) {
		create_fail(cfg, error, error_size, "cannot listen on %s: %s", srv->path,
			    strerror(-rc));
		close(srv->listen_fd);
		srv->listen_fd = -1;
		return rc;
	}
	return 0;
}

/* ---- Create and destroy ---- */

static int
buffers_alloc(struct ctl_server *srv)
{
	srv->resp = base_alloc(sizeof(*srv->resp));
	if (srv->resp == NULL) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < srv->max_connections; i++) {
		struct ctl_conn *c = &srv->conns[i];
		uint8_t *in = base_alloc(CTL_REQUEST_MAX);

		c->fd = -1;
		c->out = base_alloc(CTL_RESPONSE_MAX);
		if (in == NULL || c->out == NULL) {
			base_free(in);
			return -ENOMEM;
		}
		ctl_stream_init(&c->in, in, CTL_REQUEST_MAX);
	}
	return 0;
}

static void
buffers_free(struct ctl_server *srv)
{
	for (uint32_t i = 0; i < srv->max_connections; i++) {
		base_free(srv->conns[i].in.buf);
		base_free(srv->conns[i].out);
	}
	base_free(srv->resp);
}

static void
server_init_fields(struct ctl_server *srv, const struct ctl_server_config *cfg)
{
	srv->listen_fd = -1;
	snprintf(srv->path, sizeof(srv->path), "%s", cfg->socket_path);
	srv->euid = geteuid();
	srv->max_connections =
		cfg->max_connections != 0 ? cfg->max_connections : CTL_SERVER_CONNECTIONS_MAX;
	srv->read_timeout_ns =
		cfg->read_timeout_ns != 0 ? cfg->read_timeout_ns : CTL_SERVER_READ_TIMEOUT_NS;
	srv->reply_timeout_ns =
		cfg->reply_timeout_ns != 0 ? cfg->reply_timeout_ns : CTL_SERVER_REPLY_TIMEOUT_NS;
	srv->log = cfg->log;
	srv->handler = cfg->handler;
	srv->handler_ctx = cfg->handler_ctx;
	for (uint32_t i = 0; i < CTL_SERVER_CONNECTIONS_MAX; i++) {
		srv->conns[i].fd = -1;
	}
}

int
ctl_server_create(const struct ctl_server_config *cfg, struct ctl_server **out, char *error,
		  size_t error_size)
{
	struct ctl_server *srv;
	int rc;

	ASSERT(cfg != NULL);
	ASSERT(out != NULL);
	*out = NULL;
	rc = config_check(cfg, error, error_size);
	if (rc != 0) {
		return rc;
	}
	srv = base_alloc(sizeof(*srv));
	if (srv == NULL) {
		create_fail(cfg, error, error_size, "out of memory for the operator socket");
		return -ENOMEM;
	}
	server_init_fields(srv, cfg);
	rc = buffers_alloc(srv);
	if (rc != 0) {
		create_fail(cfg, error, error_size, "out of memory for the operator socket");
		goto err_free;
	}
	rc = group_resolve(srv, cfg, error, error_size);
	if (rc == 0) {
		rc = dir_prepare(srv, cfg, error, error_size);
	}
	if (rc == 0) {
		rc = stale_remove(srv, cfg, error, error_size);
	}
	if (rc == 0) {
		rc = sock_listen(srv, cfg, error, error_size);
	}
	if (rc != 0) {
		goto err_free;
	}
	base_logf(&srv->log, BASE_LOG_INFO, "ctl: listening on %s (mode 0660, group %s)", srv->path,
		  srv->has_group ? srv->group_name : "none");
	*out = srv;
	return 0;
err_free:
	buffers_free(srv);
	base_free(srv);
	return rc;
}

static void
conn_close(struct ctl_server *srv, struct ctl_conn *c)
{
	ASSERT(c->state != CONN_FREE);
	ASSERT(c->fd >= 0);
	close(c->fd);
	c->fd = -1;
	c->state = CONN_FREE;
	c->generation++;
	ctl_stream_reset(&c->in);
	ASSERT(srv->stats.connections > 0);
	srv->stats.connections--;
}

void
ctl_server_destroy(struct ctl_server *srv)
{
	struct stat st;

	if (srv == NULL) {
		return;
	}
	for (uint32_t i = 0; i < srv->max_connections; i++) {
		if (srv->conns[i].state != CONN_FREE) {
			conn_close(srv, &srv->conns[i]);
		}
	}
	close(srv->listen_fd);
	/* Another server may have replaced the file since (after removing ours as stale). */
	if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev &&
	    st.st_ino == srv->sock_ino) {
		unlink(srv->path);
	}
	buffers_free(srv);
	base_free(srv);
}

/* ---- Answers ---- */

static bool
is_write_type(enum ctl_msg_type type)
{
	return type == CTL_MSG_KV_PUT || type == CTL_MSG_KV_RM;
}

/* The audit line: writes and failures at info, successful reads at debug. */
static void
audit(const struct ctl_server *srv, const struct ctl_conn *c, const struct ctl_response *resp)
{
	enum base_log_level level = BASE_LOG_DEBUG;

	if (resp->type == CTL_MSG_NONE) {
		return; /* connection-level errors are logged where they are detected */
	}
	if (is_write_type(resp->type) || resp->status != CTL_STATUS_OK) {
		level = BASE_LOG_INFO;
	}
	base_logf(&srv->log, level, "ctl: %s id=%" PRIu64 " pid=%d uid=%u: %s",
		  ctl_msg_type_name(resp->type), resp->request_id, (int)c->caller.pid,
		  (unsigned)c->caller.uid, ctl_status_name(resp->status));
}

/* Sends what is queued; closes the connection on a write error. Returns 1 if it did work. */
static int
conn_flush(struct ctl_server *srv, struct ctl_conn *c)
{
	while (c->out_sent < c->out_size) {
		ssize_t n = send(c->fd, c->out + c->out_sent, c->out_size - c->out_sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 0;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			conn_close(srv, c);
			return 1;
		}
		c->out_sent += (size_t)n;
	}
	if (c->close_after_write) {
		conn_close(srv, c);
		return 1;
	}
	/* Back to reading; requests pipelined behind this one are handled by conn_process. */
	c->state = CONN_READING;
	c->deadline_ns = srv->now_ns + srv->read_timeout_ns;
	return 1;
}

/*
 * Encodes resp as c's next answer (the caller then consumes the request it answers, since resp
 * may point into it, and calls conn_flush).
 */
static void
conn_queue(struct ctl_server *srv, struct ctl_conn *c, const struct ctl_response *resp)
{
	int rc;

	ASSERT(c->state == CONN_READING || c->state == CONN_PENDING);
	audit(srv, c, resp);
	rc = ctl_response_encode(resp, c->out, CTL_RESPONSE_MAX, &c->out_size);
	if (rc != 0) {
		struct ctl_response *fallback = srv->resp;

		base_logf(&srv->log, BASE_LOG_ERROR,
			  "ctl: %s answer id=%" PRIu64 " not encodable: %s",
			  ctl_msg_type_name(resp->type), resp->request_id, base_strerror(rc));
		ctl_response_reset(fallback, resp->type, resp->request_id);
		ctl_response_error(
			fallback, CTL_STATUS_INTERNAL,
			"internal error: the node built an answer over the protocol limits");
		rc = ctl_response_encode(fallback, c->out, CTL_RESPONSE_MAX, &c->out_size);
		ASSERT(rc == 0);
	}
	c->out_sent = 0;
	c->state = CONN_WRITING;
	c->deadline_ns = srv->now_ns + srv->read_timeout_ns;
}

/* Answers with an error built from a format; close: the stream cannot continue. */
AE_PRINTF(6, 7)
static void
conn_fail(struct ctl_server *srv, struct ctl_conn *c, enum ctl_msg_type type, uint64_t id,
	  enum ctl_status status, const char *fmt, ...)
{
	char message[CTL_MESSAGE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	base_logf(&srv->log, BASE_LOG_WARN, "ctl: pid=%d uid=%u: %s", (int)c->caller.pid,
		  (unsigned)c->caller.uid, message);
	ctl_response_reset(srv->resp, type, id);
	ctl_response_error(srv->resp, status, message);
	c->close_after_write = true;
	conn_queue(srv, c, srv->resp);
	conn_flush(srv, c);
}

/* ---- Requests ---- */

static void
conn_reject_frame(struct ctl_server *srv, struct ctl_conn *c, int rc,
		  const struct ctl_frame_header *h)
{
	srv->stats.bad_frames++;
	if (rc == -BASE_ERR_VERSION) {
		conn_fail(srv, c, CTL_MSG_NONE, 0, CTL_STATUS_UNSUPPORTED,
			  "protocol version %u is not supported (this node speaks version %u)",
			  (unsigned)h->version, (unsigned)CTL_PROTO_VERSION);
	} else if (rc == -BASE_ERR_TOO_LONG) {
		conn_fail(srv, c, CTL_MSG_NONE, h->request_id, CTL_STATUS_TOO_LARGE,
			  "request of %zu bytes exceeds the limit of %u bytes",
			  (size_t)h->body_size + CTL_FRAME_HEADER_SIZE, (unsigned)CTL_REQUEST_MAX);
	} else {
		conn_fail(srv, c, CTL_MSG_NONE, 0, CTL_STATUS_BAD_REQUEST,
			  "not an aether operator protocol frame (bad magic or header)");
	}
}

/* A well-framed request that does not decode: answer it and go on with the next frame. */
static void
conn_reject_body(struct ctl_server *srv, struct ctl_conn *c, const struct ctl_frame *f, int rc)
{
	char message[CTL_MESSAGE_MAX + 1];
	unsigned type = f->header.type;

	srv->stats.bad_frames++;
	if (type >= CTL_MSG_STATUS && type < CTL_MSG_TYPE_COUNT) {
		snprintf(message, sizeof(message), "malformed %s request: %s",
			 ctl_msg_type_name((enum ctl_msg_type)type), base_strerror(rc));
	} else {
		snprintf(message, sizeof(message), "unknown request type %u", type);
		type = CTL_MSG_NONE;
	}
	ctl_response_reset(srv->resp, (enum ctl_msg_type)type, f->header.request_id);
	ctl_response_error(srv->resp, CTL_STATUS_BAD_REQUEST, message);
	conn_queue(srv, c, srv->resp);
}

static void
conn_dispatch(struct ctl_server *srv, struct ctl_conn *c, const struct ctl_frame *f)
{
	struct ctl_request req;
	struct ctl_ticket ticket;
	enum ctl_reply reply;
	int rc = ctl_request_decode(f, &req);

	if (rc != 0) {
		conn_reject_body(srv, c, f, rc);
		ctl_stream_consume(&c->in, f->size);
		conn_flush(srv, c);
		return;
	}
	c->generation++;
	ticket = (struct ctl_ticket){.slot = (uint32_t)(c - srv->conns),
				     .generation = c->generation};
	ctl_response_reset(srv->resp, req.type, req.request_id);
	srv->stats.requests++;
	reply = srv->handler(srv->handler_ctx, &req, &c->caller, ticket, srv->resp);
	if (reply == CTL_REPLY_LATER) {
		ctl_stream_consume(&c->in, f->size);
		c->state = CONN_PENDING;
		c->pending_type = req.type;
		c->pending_id = req.request_id;
		c->deadline_ns = srv->now_ns + srv->reply_timeout_ns;
		return;
	}
	ASSERT(reply == CTL_REPLY_NOW);
	srv->resp->type = req.type;
	srv->resp->request_id = req.request_id;
	/* Encode before consuming: the answer may point into the request (an echoed key). */
	conn_queue(srv, c, srv->resp);
	ctl_stream_consume(&c->in, f->size);
	conn_flush(srv, c);
}

/*
 * Handles every complete frame buffered while the connection is free to answer: a loop, not
 * recursion, however many requests a client pipelined.
 */
static void
conn_process(struct ctl_server *srv, struct ctl_conn *c)
{
	struct ctl_frame frame;

	while (c->state == CONN_READING) {
		int rc = ctl_stream_next(&c->in, &frame);

		if (rc == 0) {
			break;
		}
		if (rc < 0) {
			conn_reject_frame(srv, c, rc, &frame.header);
			return;
		}
		conn_dispatch(srv, c, &frame);
	}
	if (c->state == CONN_READING && c->peer_closed) {
		conn_close(srv, c);
	}
}

/* Reads what is there; returns 1 (did work). */
static int
conn_read(struct ctl_server *srv, struct ctl_conn *c)
{
	for (;;) {
		size_t space;
		uint8_t *dst = ctl_stream_space(&c->in, &space);
		ssize_t n;

		if (space == 0) {
			break; /* a whole frame is buffered: answer it first */
		}
		n = recv(c->fd, dst, space, MSG_DONTWAIT);
		if (n > 0) {
			ctl_stream_commit(&c->in, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		c->peer_closed = true; /* EOF, or a reset: either way nothing more comes */
		break;
	}
	conn_process(srv, c);
	return 1;
}

/* ---- Accept ---- */

/* Answers a connection that gets no slot, then closes it. The frame is tiny and the socket
 * fresh, so one non-blocking send suffices. */
static void
turn_away(struct ctl_server *srv, int fd, enum ctl_status status, const char *message)
{
	uint8_t frame[SMALL_FRAME_SIZE];
	size_t size;

	ctl_response_reset(srv->resp, CTL_MSG_NONE, 0);
	ctl_response_error(srv->resp, status, message);
	if (ctl_response_encode(srv->resp, frame, sizeof(frame), &size) == 0) {
		(void)!send(fd, frame, size, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	close(fd);
}

static void
refuse(struct ctl_server *srv, int fd, const struct ctl_caller *caller)
{
	char message[CTL_MESSAGE_MAX + 1];

	if (srv->has_group) {
		snprintf(message, sizeof(message),
			 "permission denied: uid %u is not in operator group '%s'",
			 (unsigned)caller->uid, srv->group_name);
	} else {
		snprintf(message, sizeof(message),
			 "permission denied: uid %u is not root or the node's user (no operator "
			 "group is configured)",
			 (unsigned)caller->uid);
	}
	srv->stats.refused++;
	base_logf(&srv->log, BASE_LOG_WARN, "ctl: refused connection pid=%d uid=%u gid=%u: %s",
		  (int)caller->pid, (unsigned)caller->uid, (unsigned)caller->gid, message);
	turn_away(srv, fd, CTL_STATUS_DENIED, message);
}

static struct ctl_conn *
conn_free_slot(struct ctl_server *srv)
{
	for (uint32_t i = 0; i < srv->max_connections; i++) {
		if (srv->conns[i].state == CONN_FREE) {
			return &srv->conns[i];
		}
	}
	return NULL;
}

static void
conn_admit(struct ctl_server *srv, int fd, const struct ctl_caller *caller)
{
	struct ctl_conn *c = conn_free_slot(srv);

	if (c == NULL) {
		srv->stats.busy++;
		base_logf(&srv->log, BASE_LOG_WARN,
			  "ctl: turned away pid=%d uid=%u: all %u connections in use",
			  (int)caller->pid, (unsigned)caller->uid, (unsigned)srv->max_connections);
		turn_away(srv, fd, CTL_STATUS_BUSY,
			  "busy: every operator connection is in use; try again");
		return;
	}
	c->fd = fd;
	c->state = CONN_READING;
	c->generation++;
	c->close_after_write = false;
	c->peer_closed = false;
	c->caller = *caller;
	c->deadline_ns = srv->now_ns + srv->read_timeout_ns;
	ctl_stream_reset(&c->in);
	srv->stats.accepted++;
	srv->stats.connections++;
	base_logf(&srv->log, BASE_LOG_DEBUG, "ctl: connection pid=%d uid=%u", (int)caller->pid,
		  (unsigned)caller->uid);
}

/* Accepts what is waiting; returns the number accepted or turned away. */
static int
accept_some(struct ctl_server *srv)
{
	int work = 0;

	for (int i = 0; i < ACCEPTS_PER_POLL; i++) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct ctl_caller caller;
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == ECONNABORTED || errno == EINTR) {
				continue;
			}
			/* EAGAIN: nothing left. EMFILE and the like: the backlog keeps it. */
			break;
		}
		work++;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
			base_logf(&srv->log, BASE_LOG_WARN, "ctl: no peer credentials: %s",
				  strerror(errno));
			close(fd);
			continue;
		}
		caller = (struct ctl_caller){.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
		if (!caller_allowed(srv, &caller)) {
			refuse(srv, fd, &caller);
			continue;
		}
		conn_admit(srv, fd, &caller);
	}
	return work;
}

/* ---- Poll ---- */

static void
conn_expire(struct ctl_server *srv, struct ctl_conn *c)
{
	uint64_t waited_ms = srv->read_timeout_ns / NS_PER_MS;

	switch (c->state) {
	case CONN_READING:
		if (ctl_stream_buffered(&c->in) == 0) {
			conn_close(srv, c); /* idle: nothing to answer */
			return;
		}
		srv->stats.timeouts++;
		conn_fail(srv, c, CTL_MSG_NONE, 0, CTL_STATUS_TIMEOUT,
			  "timeout: request incomplete after %" PRIu64 " ms (%zu bytes received)",
			  waited_ms, ctl_stream_buffered(&c->in));
		return;
	case CONN_PENDING:
		srv->stats.timeouts++;
		c->generation++; /* the handler's ticket is stale from now on */
		ctl_response_reset(srv->resp, c->pending_type, c->pending_id);
		ctl_response_error(srv->resp, CTL_STATUS_TIMEOUT,
				   "timeout: the node did not answer in time");
		conn_queue(srv, c, srv->resp);
		conn_flush(srv, c);
		conn_process(srv, c);
		return;
	case CONN_WRITING:
		srv->stats.timeouts++;
		base_logf(&srv->log, BASE_LOG_WARN, "ctl: pid=%d uid=%u does not read its answer",
			  (int)c->caller.pid, (unsigned)c->caller.uid);
		conn_close(srv, c);
		return;
	default:
		PANIC("expiring a free connection");
	}
}

static short
conn_events(const struct ctl_conn *c)
{
	if (c->state == CONN_READING) {
		return POLLIN;
	}
	if (c->state == CONN_WRITING) {
		return POLLOUT;
	}
	return 0; /* pending: only hang-ups (always reported) matter */
}

static nfds_t
pollfds_build(struct ctl_server *srv)
{
	nfds_t n = 1;

	srv->pfds[0] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
	for (uint32_t i = 0; i < srv->max_connections; i++) {
		const struct ctl_conn *c = &srv->conns[i];

		if (c->state == CONN_FREE) {
			continue;
		}
		srv->pfds[n] = (struct pollfd){.fd = c->fd, .events = conn_events(c)};
		srv->pfd_slot[n] = i;
		n++;
	}
	return n;
}

static int
conn_on_events(struct ctl_server *srv, struct ctl_conn *c, short revents)
{
	if (c->state == CONN_FREE || revents == 0) {
		return 0; /* closed earlier in this poll, or nothing happened */
	}
	if ((revents & POLLNVAL) != 0) {
		conn_close(srv, c);
		return 1;
	}
	if (c->state == CONN_READING && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
		return conn_read(srv, c);
	}
	if (c->state == CONN_WRITING && (revents & (POLLOUT | POLLHUP | POLLERR)) != 0) {
		int work = conn_flush(srv, c);

		conn_process(srv, c);
		return work;
	}
	if (c->state == CONN_PENDING && (revents & (POLLHUP | POLLERR)) != 0) {
		conn_close(srv, c); /* the caller hung up: the ticket goes stale */
		return 1;
	}
	return 0;
}

int
ctl_server_poll(struct ctl_server *srv, uint64_t now_ns)
{
	nfds_t n;
	int work = 0;

	ASSERT(srv != NULL);
	ASSERT(now_ns >= srv->now_ns);
	srv->now_ns = now_ns;
	n = pollfds_build(srv);
	if (poll(srv->pfds, n, 0) < 0) {
		return errno == EINTR ? 0 : -errno;
	}
	for (nfds_t i = 1; i < n; i++) {
		work += conn_on_events(srv, &srv->conns[srv->pfd_slot[i]], srv->pfds[i].revents);
	}
	if ((srv->pfds[0].revents & POLLIN) != 0) {
		work += accept_some(srv);
	}
	for (uint32_t i = 0; i < srv->max_connections; i++) {
		struct ctl_conn *c = &srv->conns[i];

		if (c->state != CONN_FREE && now_ns >= c->deadline_ns) {
			conn_expire(srv, c);
			work++;
		}
	}
	return work;
}

int
ctl_server_reply(struct ctl_server *srv, struct ctl_ticket ticket, const struct ctl_response *resp)
{
	struct ctl_conn *c;

	ASSERT(srv != NULL);
	ASSERT(resp != NULL);
	if (ticket.slot >= srv->max_connections) {
		return -ENOENT;
	}
	c = &srv->conns[ticket.slot];
	if (c->state != CONN_PENDING || c->generation != ticket.generation) {
		return -ENOENT;
	}
	if (resp != srv->resp) {
		memcpy(srv->resp, resp, sizeof(*resp));
	}
	srv->resp->type = c->pending_type;
	srv->resp->request_id = c->pending_id;
	conn_queue(srv, c, srv->resp);
	conn_flush(srv, c);
	conn_process(srv, c);
	return 0;
}

void
ctl_server_stats(const struct ctl_server *srv, struct ctl_server_stats *out)
{
	ASSERT(srv != NULL);
	ASSERT(out != NULL);
	*out = srv->stats;
}

const char *
ctl_server_path(const struct ctl_server *srv)
{
	ASSERT(srv != NULL);
	return srv->path;
}

void
ctl_server_dump(const struct ctl_server *srv, FILE *f)
{
	const struct ctl_server_stats *s = &srv->stats;

	ASSERT(f != NULL);
	fprintf(f,
		"ctl: path=%s connections=%u/%u accepted=%" PRIu64 " refused=%" PRIu64
		" busy=%" PRIu64 " requests=%" PRIu64 " bad_frames=%" PRIu64 " timeouts=%" PRIu64
		"\n",
		srv->path, (unsigned)s->connections, (unsigned)srv->max_connections, s->accepted,
		s->refused, s->busy, s->requests, s->bad_frames, s->timeouts);
}
