/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A throwaway local cluster for aether-bench consensus (bench.h): real aetherd processes in a
 * temporary run directory, pinned one per CPU (round robin), and a minimal operator-socket
 * client. It mirrors scripts/cluster.sh's layout (node-I.conf, node-I.sock, node-I/, node-I.log,
 * cluster.secret) but is driven from C, so the benchmark controls pinning, choice of the load
 * node and cleanup on every exit path: the nodes get SIGTERM when the bench process dies for
 * any reason (PR_SET_PDEATHSIG), and bench_cluster_stop runs from atexit as well.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/panic.h"
#include "ctl/ctl_proto.h"

#define STOP_WAIT_NS     (10ull * BENCH_NS_PER_S)
#define READY_POLL_NS    (20ull * 1000 * 1000)
#define STATUS_WAIT_NS   (1ull * BENCH_NS_PER_S)
#define DPDK_RUNTIME_DIR "/var/run/dpdk"
#define RUN_DIR_PATTERN  "/aether-bench-XXXXXX"
#define LONGEST_SOCKET   "/memif-4294967295-4294967295.sock"
#define SOCKET_PATH_MAX  107

volatile sig_atomic_t bench_interrupted;

/* The cluster atexit stops; one at a time. */
static struct bench_cluster *cluster_active;

static uint8_t ctl_in_buf[CTL_RESPONSE_MAX];
static uint8_t ctl_out_buf[CTL_REQUEST_MAX];

static void
bench_nap_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / BENCH_NS_PER_S),
			      .tv_nsec = (long)(ns % BENCH_NS_PER_S)};

	(void)nanosleep(&ts, NULL);
}

/* ---- The operator socket ---- */

static int
ctl_connect(const char *path, int *out)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = errno;

		(void)close(fd);
		return -err;
	}
	*out = fd;
	return 0;
}

/* Reads until one whole frame is in, the peer hangs up, or the deadline passes. */
static int
ctl_receive(int fd, struct ctl_stream *in, struct ctl_frame *frame, uint64_t deadline_ns)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint64_t now = bench_now_ns();
		uint64_t wait_ms;
		size_t space = 0;
		uint8_t *dst;
		ssize_t n;
		int rc = ctl_stream_next(in, frame);

		if (rc != 0) {
			return rc < 0 ? rc : 0;
		}
		if (bench_interrupted) {
			return -EINTR;
		}
		if (now >= deadline_ns) {
			return -ETIMEDOUT;
		}
		/* Wake at least every 100 ms to notice an interruption. */
		wait_ms = (deadline_ns - now) / 1000000u;
		if (poll(&p, 1, (int)(wait_ms < 100 ? wait_ms + 1 : 100)) <= 0) {
			continue;
		}
		dst = ctl_stream_space(in, &space);
		n = recv(fd, dst, space, 0);
		if (n <= 0) {
			return n == 0 ? -ECONNRESET : -errno;
		}
		ctl_stream_commit(in, (size_t)n);
	}
}

int
bench_ctl_call(const char *path, const struct ctl_request *req, struct ctl_response *resp,
	       uint64_t timeout_ns)
{
	struct ctl_stream in;
	struct ctl_frame frame;
	size_t size = 0;
	int fd = -1;
	int rc = ctl_request_encode(req, ctl_out_buf, sizeof(ctl_out_buf), &size);

	if (rc == 0) {
		rc = ctl_connect(path, &fd);
	}
	if (rc == 0 && send(fd, ctl_out_buf, size, MSG_NOSIGNAL) != (ssize_t)size) {
		rc = -EIO;
	}
	if (rc == 0) {
		ctl_stream_init(&in, ctl_in_buf, sizeof(ctl_in_buf));
		rc = ctl_receive(fd, &in, &frame, bench_now_ns() + timeout_ns);
	}
	if (rc == 0) {
		rc = ctl_response_decode(&frame, resp);
	}
	if (rc == 0 && (resp->type != req->type || resp->request_id != req->request_id)) {
		rc = -EBADMSG;
	}
	if (fd >= 0) {
		(void)close(fd);
	}
	return rc;
}

/* ---- Files ---- */

void
bench_cluster_node_path(const struct bench_cluster *c, char *out, size_t size, uint32_t node,
			const char *suffix)
{
	int n = snprintf(out, size, "%s/node-%u%s", c->dir, (unsigned)node, suffix);

	/* The run directory's name is bounded well below BENCH_PATH_MAX (mkdtemp's pattern). */
	ASSERT(n > 0 && (size_t)n < size);
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);
	int rc = 0;

	if (fd < 0) {
		return -errno;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		rc = -EIO;
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
	}
	return rc;
}

static int
write_secret(const struct bench_cluster *c)
{
	uint8_t raw[32];
	char hex[2 * sizeof(raw) + 1];
	char path[BENCH_PATH_MAX];
	int n;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		(void)snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	}
	n = snprintf(path, sizeof(path), "%s/cluster.secret", c->dir);
	ASSERT(n > 0 && (size_t)n < sizeof(path));
	return write_file(path, hex, 0600);
}

static int
write_config(const struct bench_cluster *c, uint32_t i)
{
	char peers[BENCH_NODES_MAX * 32] = "";
	char text[4096];
	char path[BENCH_PATH_MAX];
	size_t used = 0;

	for (uint32_t j = 1; j <= c->nodes; j++) {
		used += (size_t)snprintf(peers + used, sizeof(peers) - used, "%s%u@127.0.0.1:%u",
					 j > 1 ? ", " : "", (unsigned)j,
					 (unsigned)(c->base_port + j));
	}
	(void)snprintf(text, sizeof(text),
		       "# Written by aether-bench consensus.\n"
		       "node_id = %u\ncluster_id = %llu\nsecret_file = \"%s/cluster.secret\"\n"
		       "peers = %s\ntransport = %s\nlcores = %u\ndata_dir = \"%s/node-%u\"\n"
		       "socket_path = \"%s/node-%u.sock\"\noperator_group =\nlog_level = info\n"
		       "auth = %s\ndurability = %s\n",
		       (unsigned)i, (unsigned long long)c->cluster_id, c->dir, peers, c->transport,
		       (unsigned)c->cpu[i], c->dir, (unsigned)i, c->dir, (unsigned)i,
		       c->is_auth_off ? "false" : "true", c->durability);
	bench_cluster_node_path(c, path, sizeof(path), i, ".conf");
	return write_file(path, text, 0644);
}

/* ---- Processes ---- */

static int
launch(struct bench_cluster *c, uint32_t i)
{
	char conf[BENCH_PATH_MAX];
	char log[BENCH_PATH_MAX];
	pid_t parent = getpid();
	pid_t pid;

	bench_cluster_node_path(c, conf, sizeof(conf), i, ".conf");
	bench_cluster_node_path(c, log, sizeof(log), i, ".log");
	pid = fork();
	if (pid < 0) {
		return -errno;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int null = open("/dev/null", O_RDONLY);

		/* The node must not outlive the bench, however the bench ends. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent || fd < 0 ||
		    null < 0) {
			_exit(127);
		}
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		execl(c->aetherd, "aetherd", "--config", conf, (char *)NULL);
		_exit(127);
	}
	c->pid[i] = pid;
	c->launched[i] = pid;
	return 0;
}

/* Prints the end of node i's log to stderr (why it did not start). */
static void
log_tail(const struct bench_cluster *c, uint32_t i)
{
	char path[BENCH_PATH_MAX];
	char buf[1024];
	FILE *f;
	size_t n;

	bench_cluster_node_path(c, path, sizeof(path), i, ".log");
	f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	if (fseek(f, -(long)(sizeof(buf) - 1), SEEK_END) != 0) {
		rewind(f);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	(void)fclose(f);
	fprintf(stderr, "--- the end of %s:\n%s\n---\n", path, buf);
}

/* Whether node i still runs (reaps it when it has exited). */
static bool
node_alive(struct bench_cluster *c, uint32_t i)
{
	int status;

	if (c->pid[i] <= 0) {
		return false;
	}
	if (waitpid(c->pid[i], &status, WNOHANG) == c->pid[i]) {
		c->pid[i] = 0;
		c->wait_status[i] = status;
		return false;
	}
	return true;
}

/* Waits (bounded) until node i answers STATUS and knows a leader. */
static int
wait_ready(struct bench_cluster *c, uint32_t i, uint64_t deadline_ns)
{
	static struct ctl_response resp;
	struct ctl_request req = {.type = CTL_MSG_STATUS, .request_id = i};
	char sock[BENCH_PATH_MAX];

	bench_cluster_node_path(c, sock, sizeof(sock), i, ".sock");
	while (bench_now_ns() < deadline_ns && !bench_interrupted) {
		if (!node_alive(c, i)) {
			fprintf(stderr, "aether-bench: node %u exited while starting\n",
				(unsigned)i);
			log_tail(c, i);
			return -ECHILD;
		}
		if (bench_ctl_call(sock, &req, &resp, STATUS_WAIT_NS) == 0 &&
		    resp.status == CTL_STATUS_OK && resp.info.has_leader) {
			return 0;
		}
		bench_nap_ns(READY_POLL_NS);
	}
	if (bench_interrupted) {
		return -EINTR;
	}
	fprintf(stderr, "aether-bench: node %u is not ready in time\n", (unsigned)i);
	log_tail(c, i);
	return -ETIMEDOUT;
}

/* CPUs this process may use, round robin for the nodes; the load node has one of its own. */
static int
place_nodes(struct bench_cluster *c)
{
	uint32_t cpus[CPU_SETSIZE];
	uint32_t users[CPU_SETSIZE] = {0};
	uint32_t count = 0;
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		return -errno;
	}
	for (uint32_t cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &set)) {
			cpus[count++] = cpu;
		}
	}
	if (count == 0) {
		return -ENODEV;
	}
	c->cpu_count = count;
	for (uint32_t i = 1; i <= c->nodes; i++) {
		c->cpu[i] = cpus[(i - 1) % count];
		users[(i - 1) % count]++;
	}
	/* The last node with a CPU of its own (3 nodes on 2 CPUs: node 2 on the second CPU), so
	 * the generator is never descheduled for another node; node 1 when every CPU is shared. */
	c->load_node = 1;
	for (uint32_t i = 1; i <= c->nodes; i++) {
		if (users[(i - 1) % count] == 1) {
			c->load_node = i;
		}
	}
	return 0;
}

static void
cluster_atexit(void)
{
	if (cluster_active != NULL) {
		(void)bench_cluster_stop(cluster_active);
	}
}

int
bench_cluster_start(struct bench_cluster *c, uint64_t ready_timeout_ns)
{
	static bool has_atexit;
	char path[BENCH_PATH_MAX];
	uint64_t deadline;
	int rc;

	ASSERT(c->nodes >= 1 && c->nodes <= BENCH_NODES_MAX);
	ASSERT(c->durability != NULL);
	if (!has_atexit) {
		has_atexit = atexit(cluster_atexit) == 0;
	}
	/* Operator and memif sockets live in the run directory: sun_path holds 107 bytes. */
	if (strlen(c->parent_dir) + strlen(RUN_DIR_PATTERN) + strlen(LONGEST_SOCKET) >
	    SOCKET_PATH_MAX) {
		fprintf(stderr, "aether-bench: --run-dir %s is too long for socket paths\n",
			c->parent_dir);
		return -ENAMETOOLONG;
	}
	(void)snprintf(c->dir, sizeof(c->dir), "%s" RUN_DIR_PATTERN, c->parent_dir);
	if (mkdtemp(c->dir) == NULL) {
		fprintf(stderr, "aether-bench: cannot create a run directory in %s: %s\n",
			c->parent_dir, strerror(errno));
		return -errno;
	}
	cluster_active = c;
	rc = place_nodes(c);
	if (rc == 0) {
		rc = write_secret(c);
	}
	for (uint32_t i = 1; rc == 0 && i <= c->nodes; i++) {
		bench_cluster_node_path(c, path, sizeof(path), i, "");
		rc = mkdir(path, 0700) == 0 ? write_config(c, i) : -errno;
	}
	for (uint32_t i = 1; rc == 0 && i <= c->nodes; i++) {
		rc = launch(c, i);
	}
	deadline = bench_now_ns() + ready_timeout_ns;
	for (uint32_t i = 1; rc == 0 && i <= c->nodes; i++) {
		rc = wait_ready(c, i, deadline);
	}
	return rc;
}

/* Removes one file or directory of a tree (nftw, depth first). */
static int
remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	(void)remove(path);
	return 0;
}

/* SIGTERM to every node, up to STOP_WAIT_NS for them all to finish, then SIGKILL. */
static void
stop_nodes(struct bench_cluster *c)
{
	uint64_t deadline = bench_now_ns() + STOP_WAIT_NS;
	bool any = true;

	for (uint32_t i = 1; i <= c->nodes; i++) {
		if (c->pid[i] > 0) {
			(void)kill(c->pid[i], SIGTERM);
		}
	}
	while (any && bench_now_ns() < deadline) {
		any = false;
		for (uint32_t i = 1; i <= c->nodes; i++) {
			any |= node_alive(c, i);
		}
		if (any) {
			bench_nap_ns(READY_POLL_NS / 2);
		}
	}
	for (uint32_t i = 1; i <= c->nodes; i++) {
		if (node_alive(c, i)) {
			fprintf(stderr, "aether-bench: node %u did not stop in time; killing it\n",
				(unsigned)i);
			(void)kill(c->pid[i], SIGKILL);
			(void)waitpid(c->pid[i], &c->wait_status[i], 0);
			c->pid[i] = 0;
		}
	}
}

/* Whatever the way each node ended: its DPDK runtime directory goes, a bad end is reported. */
static int
reap_report(struct bench_cluster *c)
{
	int rc = 0;

	for (uint32_t i = 1; i <= c->nodes; i++) {
		char dpdk[BENCH_PATH_MAX];
		int st = c->wait_status[i];

		if (c->launched[i] <= 0) {
			continue;
		}
		/* A memif node removes it on a clean exit only (cluster.sh does the same). */
		(void)snprintf(dpdk, sizeof(dpdk), DPDK_RUNTIME_DIR "/aether-n%u-%ld", (unsigned)i,
			       (long)c->launched[i]);
		(void)nftw(dpdk, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "aether-bench: node %u ended badly (%s %d); see its log\n",
				(unsigned)i, WIFSIGNALED(st) ? "signal" : "exit status",
				WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			c->keep = true;
			rc = -ECHILD;
		}
		c->launched[i] = 0;
	}
	return rc;
}

int
bench_cluster_stop(struct bench_cluster *c)
{
	int rc;

	if (c->dir[0] == '\0') {
		return 0;
	}
	stop_nodes(c);
	rc = reap_report(c);
	if (c->keep) {
		fprintf(stderr, "aether-bench: run directory kept: %s\n", c->dir);
	} else {
		(void)nftw(c->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	c->dir[0] = '\0';
	if (cluster_active == c) {
		cluster_active = NULL;
	}
	return rc;
}
