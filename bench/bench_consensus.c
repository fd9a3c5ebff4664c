/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aether-bench consensus: KV write commit latency and throughput of a real multi-process
 * cluster, per transport (ARCHITECTURE.md section 9; issue 4, "aether-bench").
 *
 * For each transport it starts a fresh cluster of aetherd processes (bench_cluster.c: a
 * temporary run directory; one node per CPU, round robin), then asks
 * the load node (the one with a CPU of its own) over the operator socket to run BENCH
 * (ctl_proto.h): the node's own control loop submits KV PUTs through consensus and times each
 * from submission to answer (aetherd_int.h, "Benchmark"). Timing inside the node is the point:
 * a unix socket round trip per write would cost more than the commit.
 *
 *  warm-up     BENCH with K in flight for WARMUP_MS, discarded (links, caches, first slots)
 *  latency     K = 1, closed loop, for --duration: commit p50 / p99 / p99.9 / max
 *  throughput  K = --inflight, for --duration: writes per second (batched by Rabia's proxy)
 *
 * Durability (--durability, each node's `durability` option) decides when a write is answered.
 * replicated, the default: once Rabia has decided it, the log synced in the background; that
 * is the commit the latency and throughput targets are about (ARCHITECTURE.md section 9), and
 * the run directory goes on tmpfs (/dev/shm) so background syncs do not compete with the disk
 * of a shared machine. sync: once a majority has it on disk; then the run directory goes on a
 * disk-backed file system (/var/tmp), because on tmpfs fsync is free and the figure would be
 * meaningless. The output names the directory and its file system either way.
 *
 * A BENCH run lasts at most CTL_BENCH_DURATION_MS_MAX; longer durations are several runs whose
 * histograms (base/hist.h) merge exactly. The cluster is stopped after each transport, on
 * errors, on SIGINT/SIGTERM/SIGHUP, and (by the nodes' parent-death signal) even when this
 * process is killed.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/hist.h"
#include "ctl/ctl_proto.h"

#define TRANSPORTS_MAX 2
#define WARMUP_MS      300u
/* Memif nodes start DPDK (about 1 s each under load); three of them on two CPUs take a while. */
#define READY_NS       (60ull * BENCH_NS_PER_S)
/* A run's answer comes after its duration and the node's drain; the server's reply timeout is
 * the true bound, this only keeps a dead node from hanging the bench. */
#define RUN_SLACK_NS   (15ull * BENCH_NS_PER_S)
#define MS_NS          UINT64_C(1000000)
/* statfs f_type values (linux/magic.h) of the file systems worth naming in the output. */
#define FS_TMPFS       0x01021994
#define FS_RAMFS       0x858458f6
#define FS_EXT4        0xef53
#define FS_XFS         0x58465342
#define FS_BTRFS       0x9123683e
#define FS_OVERLAY     0x794c7630
#define FS_ZFS         0x2fc12fc1

struct bench_mode {
	struct base_hist hist;
	uint64_t ops;
	uint64_t errors;
	uint64_t lost;
	uint64_t elapsed_ns;
};

struct bench_result {
	const char *transport;
	uint32_t load_node;
	uint32_t load_cpu;
	uint32_t cpu_count;
	bool is_node_failed;          /* a node crashed or did not stop cleanly */
	struct bench_mode latency;    /* K = 1 */
	struct bench_mode throughput; /* K = inflight */
};

struct bench_consensus {
	uint32_t nodes;
	const char *transports[TRANSPORTS_MAX];
	size_t transport_count;
	uint64_t duration_ms;
	uint32_t inflight;
	uint32_t value_size;
	bool is_json;
	bool keep;
	bool is_auth_off;
	const char *durability; /* "replicated" or "sync" */
	const char *aetherd;
	const char *run_dir; /* NULL until chosen: --run-dir, else by durability */
	const char *run_dir_fs;
	uint16_t base_port;
	uint64_t request_id;
	char cpu_model[128];
	char loadavg[64];
	struct bench_result results[TRANSPORTS_MAX];
};

static void
on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	/* No SA_RESTART: a signal cuts a wait short, and every wait checks the flag. */
	sa.sa_handler = on_signal;
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
}

/* ---- One mode: BENCH runs of at most CTL_BENCH_DURATION_MS_MAX, merged ---- */

static int
mode_add(struct bench_mode *m, const struct ctl_bench_result *r)
{
	uint64_t total = 0;

	for (size_t i = 0; i < r->bucket_count; i++) {
		base_hist_record_n(&m->hist, r->buckets[i].value_ns, r->buckets[i].count);
		total += r->buckets[i].count;
	}
	if (total != r->ops) {
		fprintf(stderr, "aether-bench: the node's histogram holds %llu writes, not %llu\n",
			(unsigned long long)total, (unsigned long long)r->ops);
		return -EBADMSG;
	}
	/* Buckets carry their lowest value; the node's exact extremes replace them. */
	if (r->ops > 0) {
		m->hist.min = r->min_ns < m->hist.min ? r->min_ns : m->hist.min;
		m->hist.max = r->max_ns > m->hist.max ? r->max_ns : m->hist.max;
	}
	m->ops += r->ops;
	m->errors += r->errors;
	m->lost += r->lost;
	m->elapsed_ns += r->elapsed_ns;
	return 0;
}

static int
run_mode(struct bench_consensus *b, const char *sock, uint32_t k, uint64_t duration_ms,
	 struct bench_mode *m)
{
	static struct ctl_response resp;

	memset(m, 0, sizeof(*m));
	base_hist_reset(&m->hist);
	while (duration_ms > 0) {
		uint64_t ms = duration_ms < CTL_BENCH_DURATION_MS_MAX ? duration_ms
								      : CTL_BENCH_DURATION_MS_MAX;
		struct ctl_request req = {.type = CTL_MSG_BENCH, .request_id = ++b->request_id};
		int rc;

		req.bench.inflight = k;
		req.bench.duration_ms = (uint32_t)ms;
		req.bench.value_size = b->value_size;
		rc = bench_ctl_call(sock, &req, &resp, ms * MS_NS + RUN_SLACK_NS);
		if (rc != 0) {
			fprintf(stderr, "aether-bench: BENCH on %s: %s\n", sock, strerror(-rc));
			return rc;
		}
		if (resp.status != CTL_STATUS_OK) {
			fprintf(stderr, "aether-bench: BENCH refused (%s): %.*s\n",
				ctl_status_name(resp.status), (int)resp.message_size, resp.message);
			return -EPROTO;
		}
		rc = mode_add(m, &resp.bench);
		if (rc != 0) {
			return rc;
		}
		duration_ms -= ms;
	}
	return 0;
}

/* Starts a cluster over one transport, runs the three phases, stops it. */
static int
run_transport(struct bench_consensus *b, const char *transport, struct bench_result *out)
{
	static struct bench_cluster c;
	struct bench_mode warmup;
	char sock[BENCH_PATH_MAX];
	int rc;

	memset(&c, 0, sizeof(c));
	c.aetherd = b->aetherd;
	c.parent_dir = b->run_dir;
	c.transport = transport;
	c.nodes = b->nodes;
	c.base_port = b->base_port;
	c.cluster_id = (uint64_t)getpid();
	c.keep = b->keep;
	c.is_auth_off = b->is_auth_off;
	c.durability = b->durability;
	rc = bench_cluster_start(&c, READY_NS);
	if (rc == 0) {
		out->transport = transport;
		out->load_node = c.load_node;
		out->load_cpu = c.cpu[c.load_node];
		out->cpu_count = c.cpu_count;
		bench_cluster_node_path(&c, sock, sizeof(sock), c.load_node, ".sock");
		rc = run_mode(b, sock, b->inflight, WARMUP_MS, &warmup);
	}
	if (rc == 0) {
		rc = run_mode(b, sock, 1, b->duration_ms, &out->latency);
	}
	if (rc == 0) {
		rc = run_mode(b, sock, b->inflight, b->duration_ms, &out->throughput);
	}
	if (rc != 0 && !bench_interrupted && c.dir[0] != '\0') {
		/* Keep the logs of a failed run: they say why. */
		c.keep = true;
	}
	out->is_node_failed = bench_cluster_stop(&c) != 0;
	return rc;
}

/* ---- Output ---- */

static double
us_at(const struct bench_mode *m, uint32_t per_million)
{
	return (double)base_hist_percentile(&m->hist, per_million) / 1000.0;
}

static double
ops_per_s(const struct bench_mode *m)
{
	return m->elapsed_ns == 0 ? 0.0 : (double)m->ops * 1e9 / (double)m->elapsed_ns;
}

static void
json_one(const struct bench_consensus *b, const struct bench_result *r)
{
	const struct bench_mode *l = &r->latency;
	const struct bench_mode *t = &r->throughput;

	printf("{\"transport\": \"%s\", \"nodes\": %u, \"p50_us\": %.1f, \"p99_us\": %.1f, "
	       "\"p999_us\": %.1f, \"max_us\": %.1f, \"ops_per_s\": %.0f, "
	       "\"closed_loop_ops_per_s\": %.0f, \"inflight\": %u, \"load_p50_us\": %.1f, "
	       "\"load_p99_us\": %.1f, \"load_p999_us\": %.1f, \"duration_s\": %.3f, "
	       "\"value_size\": %u, \"writes\": %llu, \"errors\": %llu, \"lost\": %llu, "
	       "\"load_node\": %u, \"load_cpu\": %u, \"cpus\": %u, \"cpu_model\": \"%s\", "
	       "\"loadavg\": \"%s\", \"auth\": %s, \"durability\": \"%s\", \"run_dir\": \"%s\", "
	       "\"run_dir_fs\": \"%s\"}",
	       r->transport, (unsigned)b->nodes, us_at(l, 500000), us_at(l, 990000),
	       us_at(l, 999000), us_at(l, BASE_HIST_PER_MILLION), ops_per_s(t), ops_per_s(l),
	       (unsigned)b->inflight, us_at(t, 500000), us_at(t, 990000), us_at(t, 999000),
	       (double)b->duration_ms / 1000.0, (unsigned)b->value_size,
	       (unsigned long long)(l->ops + t->ops), (unsigned long long)(l->errors + t->errors),
	       (unsigned long long)(l->lost + t->lost), (unsigned)r->load_node,
	       (unsigned)r->load_cpu, (unsigned)r->cpu_count, b->cpu_model, b->loadavg,
	       b->is_auth_off ? "false" : "true", b->durability, b->run_dir, b->run_dir_fs);
}

static void
print_json(const struct bench_consensus *b)
{
	if (b->transport_count == 1) {
		json_one(b, &b->results[0]);
		putchar('\n');
		return;
	}
	/* Several transports: one object keyed by transport, each value a full single result. */
	putchar('{');
	for (size_t i = 0; i < b->transport_count; i++) {
		printf("%s\"%s\": ", i > 0 ? ", " : "", b->results[i].transport);
		json_one(b, &b->results[i]);
	}
	puts("}");
}

static void
print_text(const struct bench_consensus *b)
{
	const struct bench_result *r0 = &b->results[0];

	printf("aether-bench consensus: %u nodes on %u cpus (%s), load average %s\n",
	       (unsigned)b->nodes, (unsigned)r0->cpu_count, b->cpu_model, b->loadavg);
	printf("load generator inside node %u (cpu %u); %u-byte PUTs; %.1f s per mode\n",
	       (unsigned)r0->load_node, (unsigned)r0->load_cpu, (unsigned)b->value_size,
	       (double)b->duration_ms / 1000.0);
	printf("memif frames %s\n",
	       b->is_auth_off ? "NOT authenticated (--no-auth)" : "authenticated (udp never is)");
	printf("durability %s: a write is answered once %s; run directory in %s (%s)\n\n",
	       b->durability,
	       strcmp(b->durability, "sync") == 0 ? "a majority has it on disk"
						  : "decided (log synced in the background)",
	       b->run_dir, b->run_dir_fs);
	printf("%-9s %-40s %s\n", "", "commit latency, 1 in flight (us)", "throughput");
	printf("%-9s %8s %8s %8s %8s %10s   %5s %12s %8s %8s\n", "transport", "p50", "p99", "p99.9",
	       "max", "ops/s", "K", "ops/s", "p50 us", "p99 us");
	for (size_t i = 0; i < b->transport_count; i++) {
		const struct bench_result *r = &b->results[i];

		printf("%-9s %8.1f %8.1f %8.1f %8.1f %10.0f   %5u %12.0f %8.1f %8.1f\n",
		       r->transport, us_at(&r->latency, 500000), us_at(&r->latency, 990000),
		       us_at(&r->latency, 999000), us_at(&r->latency, BASE_HIST_PER_MILLION),
		       ops_per_s(&r->latency), (unsigned)b->inflight, ops_per_s(&r->throughput),
		       us_at(&r->throughput, 500000), us_at(&r->throughput, 990000));
	}
	for (size_t i = 1; i < b->transport_count; i++) {
		const struct bench_result *a = &b->results[0];
		const struct bench_result *o = &b->results[i];

		printf("\n%s vs %s: p50 %.2fx lower, p99 %.2fx lower, throughput %.2fx higher\n",
		       a->transport, o->transport,
		       us_at(&o->latency, 500000) / us_at(&a->latency, 500000),
		       us_at(&o->latency, 990000) / us_at(&a->latency, 990000),
		       ops_per_s(&a->throughput) / ops_per_s(&o->throughput));
	}
}

/* ---- Arguments and the machine ---- */

/* The first line of path starting with prefix, after it, trimmed; "?" when absent. */
static void
read_fact(const char *path, const char *prefix, char *out, size_t size)
{
	char line[256];
	FILE *f = fopen(path, "r");

	(void)snprintf(out, size, "?");
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, prefix, strlen(prefix)) == 0) {
			const char *v = line + strlen(prefix);

			v += strspn(v, " \t:");
			(void)snprintf(out, size, "%.*s", (int)strcspn(v, "\n\""), v);
			break;
		}
	}
	(void)fclose(f);
}

static const char consensus_usage[] =
	"usage: aether-bench consensus [--nodes N] [--transport memif|udp|memif,udp]\n"
	"                              [--duration S] [--inflight K] [--value-size B] [--json]\n"
	"                              [--aetherd PATH] [--run-dir DIR] [--base-port P] [--keep]\n"
	"                              [--no-auth] [--durability replicated|sync]\n"
	"\n"
	"Starts an N-node aetherd cluster per transport on this machine (one node per CPU,\n"
	"round robin), has the node with a CPU of its own write to the replicated KV store\n"
	"through consensus, and reports commit latency with 1 write in flight and throughput\n"
	"with K in flight, both timed inside that node. Then stops the cluster.\n"
	"\n"
	"  --nodes N        cluster size, 1..7 (default 3)\n"
	"  --transport T    memif, udp, or both comma separated, first one the reference\n"
	"                   (default memif,udp)\n"
	"  --duration S     seconds per mode, e.g. 5 or 0.5 (default 5)\n"
	"  --inflight K     writes in flight for the throughput mode, 1..256 (default 256)\n"
	"  --value-size B   bytes per value, 1..1024 (default 16)\n"
	"  --json           one JSON object (p50_us p99_us p999_us ops_per_s transport nodes\n"
	"                   ...); with several transports, an object keyed by transport\n"
	"  --aetherd PATH   the daemon (default: the build's)\n"
	"  --durability D   each node's durability option (default replicated):\n"
	"                   replicated: a write is answered once Rabia has decided it, the log\n"
	"                   is synced in the background; this is the commit the latency and\n"
	"                   throughput targets are about. sync: answered once a majority has\n"
	"                   it on disk (fsync)\n"
	"  --run-dir DIR    where the temporary run directory goes. Default: with replicated\n"
	"                   /dev/shm (tmpfs, so background syncs do not wait on a shared disk;\n"
	"                   /tmp without it); with sync /var/tmp, on disk, since on tmpfs fsync\n"
	"                   is free. The output names the directory and its file system\n"
	"  --base-port P    udp: node I listens on P + I (default: derived from the pid)\n"
	"  --keep           keep the run directory (configs, logs) afterwards\n"
	"  --no-auth        run the nodes with auth = false (memif frames unauthenticated, as\n"
	"                   udp frames always are): shows what authentication costs\n"
	"\n"
	"Exit status: 0, 1 when the cluster fails, writes fail or a node does not end cleanly\n"
	"(the figures are still printed), 2 for bad arguments, 130 when interrupted.\n";

static int
parse_u32(const char *text, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end = NULL;
	unsigned long v = strtoul(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_duration(const char *text, uint64_t *out_ms)
{
	char *end = NULL;
	double s = strtod(text, &end);

	if (*text == '\0' || *end != '\0' || !(s >= 0.001 && s <= 3600.0)) {
		return -EINVAL;
	}
	*out_ms = (uint64_t)(s * 1000.0 + 0.5);
	return 0;
}

static int
parse_transports(struct bench_consensus *b, char *text)
{
	char *save = NULL;

	b->transport_count = 0;
	for (char *t = strtok_r(text, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if ((strcmp(t, "memif") != 0 && strcmp(t, "udp") != 0) ||
		    b->transport_count == TRANSPORTS_MAX ||
		    (b->transport_count == 1 && strcmp(b->transports[0], t) == 0)) {
			return -EINVAL;
		}
		b->transports[b->transport_count++] = t;
	}
	return b->transport_count > 0 ? 0 : -EINVAL;
}

static void
defaults(struct bench_consensus *b)
{
	b->nodes = 3;
	b->transports[0] = "memif";
	b->transports[1] = "udp";
	b->transport_count = 2;
	b->duration_ms = 5000;
	b->inflight = 256;
	b->value_size = 16;
	b->aetherd = BENCH_AETHERD;
	b->durability = "replicated";
	b->run_dir = NULL;
	/* Below the kernel's ephemeral range, spread by pid so parallel runs rarely collide. */
	b->base_port = (uint16_t)(20000u + (uint32_t)getpid() % 1500u * 8u);
}

/* One option into b; 0, 1 for --help, or 2 for a bad value. */
static int
apply_option(struct bench_consensus *b, int opt, char *arg)
{
	uint32_t v = 0;
	int rc = 0;

	switch (opt) {
	case 'n':
		rc = parse_u32(arg, 1, BENCH_NODES_MAX, &b->nodes);
		break;
	case 't':
		rc = parse_transports(b, arg);
		break;
	case 'd':
		rc = parse_duration(arg, &b->duration_ms);
		break;
	case 'k':
		rc = parse_u32(arg, 1, CTL_BENCH_INFLIGHT_MAX, &b->inflight);
		break;
	case 'v':
		rc = parse_u32(arg, 1, CTL_BENCH_VALUE_MAX, &b->value_size);
		break;
	case 'p':
		rc = parse_u32(arg, 1024, 65535 - BENCH_NODES_MAX, &v);
		b->base_port = (uint16_t)v;
		break;
	case 'j':
		b->is_json = true;
		break;
	case 'K':
		b->keep = true;
		break;
	case 'A':
		b->is_auth_off = true;
		break;
	case 'a':
		b->aetherd = arg;
		break;
	case 'D':
		rc = strcmp(arg, "sync") == 0 || strcmp(arg, "replicated") == 0 ? 0 : -EINVAL;
		b->durability = arg;
		break;
	case 'r':
		b->run_dir = arg;
		break;
	case 'h':
		return 1;
	default:
		return 2;
	}
	if (rc != 0) {
		fprintf(stderr, "aether-bench consensus: bad value \"%s\"\n", arg);
		return 2;
	}
	return 0;
}

/* The name of the file system path is on ("?" when statfs fails or the type is not listed). */
static const char *
fs_name(const char *path)
{
	static const struct {
		long type;
		const char *name;
	} names[] = {{FS_TMPFS, "tmpfs"}, {FS_RAMFS, "ramfs"}, {FS_EXT4, "ext4"},
		     {FS_XFS, "xfs"},     {FS_BTRFS, "btrfs"}, {FS_OVERLAY, "overlay"},
		     {FS_ZFS, "zfs"}};
	struct statfs st;

	if (statfs(path, &st) != 0) {
		return "?";
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((long)st.f_type == names[i].type) {
			return names[i].name;
		}
	}
	return "other";
}

static bool
is_writable_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && access(path, W_OK) == 0;
}

/* The run directory's parent, unless --run-dir gave it: tmpfs for replicated (syncs in the
 * background should cost what the code asks for, not what a shared disk does), a disk for sync
 * (where fsync is the point). Warns when sync would run on memory. */
static void
choose_run_dir(struct bench_consensus *b)
{
	bool is_sync = strcmp(b->durability, "sync") == 0;

	if (b->run_dir == NULL) {
		if (is_sync) {
			b->run_dir = is_writable_dir("/var/tmp") ? "/var/tmp" : "/tmp";
		} else {
			b->run_dir = is_writable_dir("/dev/shm") ? "/dev/shm" : "/tmp";
		}
	}
	b->run_dir_fs = fs_name(b->run_dir);
	if (is_sync &&
	    (strcmp(b->run_dir_fs, "tmpfs") == 0 || strcmp(b->run_dir_fs, "ramfs") == 0)) {
		fprintf(stderr,
			"aether-bench: warning: --durability sync with the run directory on %s "
			"(%s): "
			"fsync is free there, so these are not on-disk figures\n",
			b->run_dir, b->run_dir_fs);
	}
}

static int
parse_args(struct bench_consensus *b, int argc, char **argv)
{
	static const struct option options[] = {
		{"nodes", required_argument, NULL, 'n'},
		{"transport", required_argument, NULL, 't'},
		{"duration", required_argument, NULL, 'd'},
		{"inflight", required_argument, NULL, 'k'},
		{"value-size", required_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'},
		{"aetherd", required_argument, NULL, 'a'},
		{"run-dir", required_argument, NULL, 'r'},
		{"base-port", required_argument, NULL, 'p'},
		{"keep", no_argument, NULL, 'K'},
		{"no-auth", no_argument, NULL, 'A'},
		{"durability", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	defaults(b);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int rc = apply_option(b, opt, optarg);

		if (rc != 0) {
			fputs(consensus_usage, rc == 1 ? stdout : stderr);
			return rc;
		}
	}
	if (optind != argc) {
		fputs(consensus_usage, stderr);
		return 2;
	}
	choose_run_dir(b);
	return 0;
}

/* Exit status 1 when a write failed, nothing was written, or a node did not end cleanly. */
static int
judge(const struct bench_consensus *b)
{
	int status = 0;

	for (size_t i = 0; i < b->transport_count; i++) {
		const struct bench_result *r = &b->results[i];
		uint64_t errors = r->latency.errors + r->throughput.errors;
		uint64_t lost = r->latency.lost + r->throughput.lost;

		if (errors > 0 || r->latency.ops == 0 || r->throughput.ops == 0) {
			fprintf(stderr, "aether-bench: %s: %llu writes failed\n", r->transport,
				(unsigned long long)errors);
			status = 1;
		}
		if (lost > 0) {
			fprintf(stderr, "aether-bench: %s: %llu writes were never answered\n",
				r->transport, (unsigned long long)lost);
		}
		if (r->is_node_failed) {
			fprintf(stderr, "aether-bench: %s: a node did not end cleanly\n",
				r->transport);
			status = 1;
		}
	}
	return status;
}

int
bench_consensus_main(int argc, char **argv)
{
	static struct bench_consensus b;
	int rc = parse_args(&b, argc, argv);

	if (rc != 0) {
		return rc == 1 ? 0 : rc;
	}
	install_signals();
	read_fact("/proc/cpuinfo", "model name", b.cpu_model, sizeof(b.cpu_model));
	read_fact("/proc/loadavg", "", b.loadavg, sizeof(b.loadavg));
	for (size_t i = 0; rc == 0 && i < b.transport_count; i++) {
		rc = run_transport(&b, b.transports[i], &b.results[i]);
	}
	if (bench_interrupted) {
		fprintf(stderr, "aether-bench: interrupted\n");
		return 130;
	}
	if (rc != 0) {
		return 1;
	}
	if (b.is_json) {
		print_json(&b);
	} else {
		print_text(&b);
	}
	return judge(&b);
}
