/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker lcores (aetherd_int.h, "Worker lcores"): every cpu of `lcores` after the first runs a
 * worker thread that owns a slice runtime and talks to the control lcore only through its
 * node_lcore channel. The control side keeps the slice table (which worker holds which
 * coordinate) and one request slot per operator connection, whose buffer the worker reads and
 * answers into.
 */
#include "aetherd_int.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/panic.h"
#include "dataplane/dp_eal.h"
#include "dataplane/dp_lcore.h"
#include "dataplane/run.h"
#include "node_lcore.h"
#include "numa/numa_hwloc.h"
#include "numa/plan.h"
#include "slices/coord.h"
#include "slices/repo.h"
#include "slices/runtime.h"

#define SECOND_NS       (1000ull * 1000 * 1000)
/* A load or unload not done by then is answered TIMEOUT by the worker: before ctl_server's
 * 10 s reply timeout, so the operator learns what happened. */
#define WORKER_OP_NS    (8 * SECOND_NS)
/* How long a stopping worker waits for slice hooks before abandoning them. */
#define WORKER_DRAIN_NS (2 * SECOND_NS)
/* A slot's buffer: a coordinate, or a method and an argument, or a result or error line. */
#define SLOT_BUF_SIZE   (CTL_METHOD_MAX + CTL_SLICE_DATA_MAX)
#define SLOTS           CTL_SERVER_CONNECTIONS_MAX

static_assert(SLOT_BUF_SIZE >= CTL_COORD_MAX && SLOT_BUF_SIZE >= SLICE_ERROR_TEXT_MAX,
	      "a slot buffer holds any request or error line");
static_assert(SLOTS < NODE_LCORE_RING_CAPACITY, "a ring never fills with every slot in flight");

/* A request in progress on the worker, by slot. */
enum op_phase {
	OP_IDLE = 0,
	OP_LOADING,      /* waiting for LOADED, then ACTIVE */
	OP_DEACTIVATING, /* waiting for LOADED, then unload */
	OP_UNLOADING,    /* waiting for the instance to disappear */
	OP_CALLING,      /* waiting for the call's completion */
};

struct worker_op {
	enum op_phase phase;
	struct node_lcore_msg msg;
	uint64_t deadline_ns;
	struct node_worker *w;
};

struct node_worker {
	uint32_t index;
	uint32_t cpu;
	struct node_workers *all;
	struct node_lcore_channel *ch;
	/* EAL lcore id when launched by the EAL (rte_rings), 0 for a pinned pthread (base_ring). */
	uint32_t lcore_id;
	struct dp_ring *rings[2];
	pthread_t thread;
	bool is_started;
	bool is_stopping;
	struct slice_repo *repo;
	struct slice_runtime *rt;
	struct numa_plan plan;
	struct worker_op ops[SLOTS];
	/* Replies a full ring refused, sent again at the next poll (at most one per slot). */
	uint32_t outbox_count;
	struct node_lcore_msg outbox[SLOTS];
	struct dp_run_stats stats;
	int loop_rc;
};

/* The control lcore's view of one request sent to a worker. */
struct ctl_slot {
	bool is_used;
	struct ctl_ticket ticket;
	enum ctl_msg_type type;
	uint32_t worker;
	uint32_t seq;
	int entry; /* slice table index (LOAD, UNLOAD) or -1 */
	uint8_t buf[SLOT_BUF_SIZE];
};

struct slice_entry {
	bool is_used;
	enum ctl_slice_state state;
	uint32_t worker;
	uint32_t instance_id;
	size_t coord_size;
	char coord[CTL_COORD_MAX];
};

struct node_workers {
	struct aetherd *d;
	uint32_t count;
	struct node_worker *workers; /* count */
	struct dp_idle_config idle;
	char repo_error[NODE_ERROR_MAX]; /* why slices are refused; "" when they are served */
	uint32_t seq_next;
	struct ctl_slot slots[SLOTS];
	struct slice_entry table[CTL_SLICES_MAX];
};

/* ---- The worker thread ---- */

/* Sends a reply now, or keeps it for the next poll when the ring is full. */
static void
worker_send(struct node_worker *w, const struct node_lcore_msg *msg)
{
	if (w->outbox_count == 0 && node_lcore_reply(w->ch, msg) == 0) {
		return;
	}
	ASSERT(w->outbox_count < SLOTS);
	w->outbox[w->outbox_count++] = *msg;
}

static void
worker_flush(struct node_worker *w)
{
	uint32_t sent = 0;

	while (sent < w->outbox_count && node_lcore_reply(w->ch, &w->outbox[sent]) == 0) {
		sent++;
	}
	memmove(w->outbox, w->outbox + sent, (w->outbox_count - sent) * sizeof(w->outbox[0]));
	w->outbox_count -= sent;
}

/* Answers op's request with status and, for errors, one line of text in its buffer. */
static void
op_finish(struct worker_op *op, int status, const char *text)
{
	struct node_lcore_msg r = op->msg;

	r.type = NODE_LCORE_MSG_REPLY;
	r.status = status;
	if (text != NULL) {
		int n = snprintf((char *)r.buf, r.capacity, "%s", text);

		r.out_size = (uint32_t)(n < 0                      ? 0
					: (uint32_t)n < r.capacity ? (uint32_t)n
								   : r.capacity - 1);
	}
	op->phase = OP_IDLE;
	worker_send(op->w, &r);
}

AE_PRINTF(3, 4)
static void
op_fail(struct worker_op *op, int status, const char *fmt, ...)
{
	char line[SLOT_BUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	op_finish(op, status, line);
}

static void
worker_load(struct node_worker *w, struct worker_op *op, uint64_t now_ns)
{
	struct slice_coord coord;
	struct base_parse_error pe;
	struct slice_error err;
	uint32_t id = 0;

	if (slice_coord_parse((const char *)op->msg.buf, op->msg.in_size, &coord, &pe) != 0) {
		op_fail(op, -EINVAL,
			"bad coordinate '%.*s': %s at byte %zu (want "
			"group:artifact:version)",
			(int)op->msg.in_size, (const char *)op->msg.buf, pe.what, pe.offset);
		return;
	}
	slice_error_clear(&err);
	if (slice_runtime_load(w->rt, &coord, &id, &err) != 0) {
		op_fail(op, err.code != 0 ? err.code : -EIO, "%s", err.text);
		return;
	}
	op->msg.instance_id = id;
	op->phase = OP_LOADING;
	op->deadline_ns = now_ns + WORKER_OP_NS;
}

static void
worker_on_call_done(void *ctx, int status, const uint8_t *response, size_t response_size)
{
	struct worker_op *op = ctx;
	struct node_lcore_msg *m = &op->msg;

	if (status == -ENOSYS) {
		/* The method text is still at the start of the buffer (formatted before reuse). */
		op_fail(op, -ENOENT, "the slice has no method '%.*s'", (int)m->method_size,
			(const char *)m->buf);
		return;
	}
	if (status != 0) {
		op_fail(op, status, "the call failed: %s", strerror(-status));
		return;
	}
	if (response_size > m->capacity) {
		op_fail(op, -EMSGSIZE, "%s", "the slice's answer is over 4096 bytes");
		return;
	}
	memcpy(m->buf, response, response_size);
	m->out_size = (uint32_t)response_size;
	op_finish(op, 0, NULL);
}

static void
worker_call(struct node_worker *w, struct worker_op *op)
{
	char method[CTL_METHOD_MAX + 1];
	const struct node_lcore_msg *m = &op->msg;
	int rc;

	ASSERT(m->method_size <= CTL_METHOD_MAX && m->method_size <= m->in_size);
	memcpy(method, m->buf, m->method_size);
	method[m->method_size] = '\0';
	op->phase = OP_CALLING;
	rc = slice_runtime_call(w->rt, m->instance_id, NULL, m->method_size > 0 ? method : NULL,
				m->buf + m->method_size, m->in_size - m->method_size, 0, op,
				worker_on_call_done);
	if (rc != 0) {
		op_fail(op, rc, "the call was refused: %s",
			rc == -EINVAL ? "no such method" : strerror(-rc));
	}
}

static void
worker_unload(struct node_worker *w, struct worker_op *op, uint64_t now_ns)
{
	struct slice_instance_info info;
	struct slice_error err;
	int rc;

	if (slice_runtime_info(w->rt, op->msg.instance_id, &info) != 0) {
		op_fail(op, -ENOENT, "%s", "no such instance on this worker");
		return;
	}
	op->deadline_ns = now_ns + WORKER_OP_NS;
	if (info.state == SLICE_STATE_ACTIVE) {
		rc = slice_runtime_deactivate(w->rt, op->msg.instance_id, &err);
		op->phase = OP_DEACTIVATING;
	} else {
		rc = slice_runtime_unload(w->rt, op->msg.instance_id, &err);
		op->phase = OP_UNLOADING;
	}
	if (rc != 0) {
		op_fail(op, rc, "cannot unload: %s", err.text);
	}
}

/* Takes one request from the control lcore; 1 when there was one. */
static int
worker_take(struct node_worker *w, uint64_t now_ns)
{
	struct node_lcore_msg m;
	struct worker_op *op;

	if (node_lcore_recv(w->ch, &m) != 0) {
		return 0;
	}
	if (m.type == NODE_LCORE_MSG_STOP) {
		w->is_stopping = true;
		return 1;
	}
	ASSERT(m.slot < SLOTS && w->ops[m.slot].phase == OP_IDLE);
	op = &w->ops[m.slot];
	op->msg = m;
	op->msg.out_size = 0;
	op->w = w;
	if (w->rt == NULL) {
		op_fail(op, -ENODEV, "%s", "this worker has no slice runtime");
	} else if (m.type == NODE_LCORE_MSG_LOAD) {
		worker_load(w, op, now_ns);
	} else if (m.type == NODE_LCORE_MSG_CALL) {
		worker_call(w, op);
	} else if (m.type == NODE_LCORE_MSG_UNLOAD) {
		worker_unload(w, op, now_ns);
	} else {
		op_fail(op, -EINVAL, "%s", "unknown request");
	}
	return 1;
}

/* A load that reached LOADED is started; ACTIVE answers; FAILED answers and unloads. */
static void
op_step_load(struct node_worker *w, struct worker_op *op, const struct slice_instance_info *info)
{
	struct slice_error err;

	if (info->state == SLICE_STATE_LOADED) {
		if (slice_runtime_activate(w->rt, info->id, &err) != 0) {
			op_fail(op, -EIO, "cannot start the slice: %s", err.text);
		}
	} else if (info->state == SLICE_STATE_ACTIVE) {
		op_finish(op, 0, NULL);
	} else if (info->state == SLICE_STATE_FAILED) {
		op_fail(op, -EIO, "the slice failed: %s", info->reason);
		/* Nobody waits for this unload: the runtime finishes it in its polls. */
		if (slice_runtime_unload(w->rt, info->id, &err) != 0) {
			base_logf(&w->all->d->log.log, BASE_LOG_WARN,
				  "worker %u: cannot unload failed instance %u: %s",
				  (unsigned)w->index, (unsigned)info->id, err.text);
		}
	}
}

/* Moves op on from its instance's state, or answers it on a timeout. */
static void
op_step(struct node_worker *w, struct worker_op *op, uint64_t now_ns)
{
	struct slice_instance_info info;
	struct slice_error err;
	int rc = slice_runtime_info(w->rt, op->msg.instance_id, &info);

	if (rc != 0) {
		/* Gone: the end of an unload (or of a discarded load). */
		if (op->phase == OP_UNLOADING) {
			op_finish(op, 0, NULL);
		} else {
			op_fail(op, -EIO, "%s", "the instance disappeared");
		}
		return;
	}
	if (op->phase == OP_LOADING) {
		op_step_load(w, op, &info);
	} else if (op->phase == OP_DEACTIVATING && info.state == SLICE_STATE_LOADED) {
		if (slice_runtime_unload(w->rt, info.id, &err) != 0) {
			op_fail(op, -EIO, "cannot unload: %s", err.text);
			return;
		}
		op->phase = OP_UNLOADING;
	} else if (op->phase == OP_DEACTIVATING && info.state == SLICE_STATE_FAILED) {
		op->phase =
			slice_runtime_unload(w->rt, info.id, &err) == 0 ? OP_UNLOADING : op->phase;
	}
	if ((op->phase == OP_LOADING || op->phase == OP_DEACTIVATING ||
	     op->phase == OP_UNLOADING) &&
	    now_ns >= op->deadline_ns) {
		op_fail(op, -ETIMEDOUT, "%s", "the slice did not finish in time");
	}
}

static int
worker_poll(void *ctx, uint64_t now_ns)
{
	struct node_worker *w = ctx;
	int work = 0;

	worker_flush(w);
	while (!w->is_stopping && work < 16 && worker_take(w, now_ns) == 1) {
		work++;
	}
	if (w->is_stopping) {
		return DP_RUN_STOP;
	}
	if (w->rt == NULL) {
		return work;
	}
	work += (int)slice_runtime_poll(w->rt);
	for (uint32_t i = 0; i < SLOTS; i++) {
		struct worker_op *op = &w->ops[i];

		if (op->phase != OP_IDLE && op->phase != OP_CALLING) {
			op_step(w, op, now_ns);
		}
	}
	return work;
}

static int
worker_run(struct node_worker *w)
{
	struct dp_run_config rc;

	dp_run_config_default(&rc);
	rc.idle = w->all->idle;
	/* An EAL lcore is pinned by the EAL (--lcores); a pthread pins itself here. */
	rc.hwloc = w->lcore_id == 0 ? w->all->d->hwloc : NULL;
	rc.pu_os_index = w->cpu;
	w->loop_rc = dp_run(&rc, worker_poll, w, &w->stats);
	/* The runtime belongs to this thread: torn down here, hooks drained (bounded). */
	slice_runtime_destroy(w->rt, WORKER_DRAIN_NS);
	w->rt = NULL;
	return w->loop_rc;
}

static void *
worker_thread_main(void *arg)
{
	(void)worker_run(arg);
	return NULL;
}

static int
worker_lcore_main(void *arg)
{
	return worker_run(arg);
}

/* ---- Startup and shutdown (control thread) ---- */

uint32_t
node_lcores_cpus(const char *list, uint32_t *cpus, uint32_t max)
{
	uint32_t count = 0;
	const char *p = list;

	while (*p != '\0' && count < max) {
		uint32_t lo = 0;
		uint32_t hi;

		while (*p >= '0' && *p <= '9') {
			lo = lo * 10u + (uint32_t)(*p++ - '0');
		}
		hi = lo;
		if (*p == '-') {
			p++;
			hi = 0;
			while (*p >= '0' && *p <= '9') {
				hi = hi * 10u + (uint32_t)(*p++ - '0');
			}
		}
		for (uint32_t c = lo; c <= hi && count < max; c++) {
			cpus[count++] = c;
		}
		while (*p == ',' || *p == ' ') {
			p++;
		}
	}
	return count;
}

/* The worker's repository, plan and runtime: one of each per worker, owned by its thread. */
static int
worker_runtime_open(struct node_workers *all, struct node_worker *w, char *err, size_t err_size)
{
	struct numa_plan_config pc = {
		.worker_count = 1, .process_count = 1, .allow_oversubscribe = true};
	struct slice_repo_config rc = {.root_count = 1};
	struct slice_runtime_config cfg;
	struct numa_topology topo;
	struct numa_cpuset allowed;
	struct slice_error se;
	int rc_;

	rc_ = numa_hwloc_load(all->d->hwloc, &topo, NULL);
	if (rc_ == 0) {
		rc_ = numa_hwloc_allowed(all->d->hwloc, &allowed);
	}
	if (rc_ == 0) {
		rc_ = numa_plan_init(&w->plan, &topo, &allowed, &pc, NULL);
	}
	if (rc_ != 0) {
		(void)snprintf(err, err_size, "worker %u: no numa plan: %s", (unsigned)w->index,
			       strerror(-rc_));
		return rc_;
	}
	slice_error_clear(&se);
	rc.roots[0] = all->d->cfg.repository;
	if (slice_repo_create(&rc, &w->repo, &se) != 0) {
		(void)snprintf(err, err_size, "cannot open the slice repository: %.300s", se.text);
		return se.code != 0 ? se.code : -EIO;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.repo = w->repo;
	cfg.plan = &w->plan;
	/* Arenas in plain memory: the hwloc adapter stays the control thread's. */
	cfg.hwloc = NULL;
	cfg.log = all->d->log.log;
	if (slice_runtime_create(&cfg, &w->rt, &se) != 0) {
		(void)snprintf(err, err_size, "worker %u: slice runtime: %s", (unsigned)w->index,
			       se.text);
		return se.code != 0 ? se.code : -EIO;
	}
	return 0;
}

static void
workers_idle(struct node_workers *all)
{
	uint64_t max_ns = (uint64_t)all->d->cfg.idle.sleep_max_us * 1000u;

	if (max_ns > DP_IDLE_SLEEP_NS_MAX) {
		max_ns = DP_IDLE_SLEEP_NS_MAX;
	}
	all->idle.spin_polls = all->d->cfg.idle.spin_count;
	all->idle.yield_polls = all->d->cfg.idle.yield_count;
	all->idle.sleep_ns_max = max_ns;
	all->idle.sleep_ns_min = max_ns < 1000u ? max_ns : 1000u;
}

static int
rte_push(void *ring, const struct node_lcore_msg *msg)
{
	return dp_ring_push(ring, msg);
}

static int
rte_pop(void *ring, struct node_lcore_msg *out)
{
	return dp_ring_pop(ring, out);
}

/* Two rte_rings created SP/SC in EAL memory. */
static int
worker_channel_rte(struct node_worker *w, char *err, size_t err_size)
{
	char name[32];
	int rc = 0;

	w->ch = base_alloc(sizeof(*w->ch));
	if (w->ch == NULL) {
		(void)snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < 2 && rc == 0; i++) {
		(void)snprintf(name, sizeof(name), "ae-w%u-%s", (unsigned)w->index,
			       i == 0 ? "in" : "out");
		rc = dp_ring_create_spsc(name, NODE_LCORE_RING_CAPACITY, NODE_LCORE_MSG_SIZE,
					 &w->rings[i]);
	}
	if (rc != 0) {
		(void)snprintf(err, err_size, "worker %u: cannot create its rte_rings: %s",
			       (unsigned)w->index, strerror(-rc));
		return rc;
	}
	node_lcore_channel_init_rings(w->ch, w->rings[0], w->rings[1], rte_push, rte_pop);
	return 0;
}

static int
worker_channel_base(struct node_worker *w, size_t ch_size, char *err, size_t err_size)
{
	void *mem = base_alloc(ch_size);

	if (mem == NULL) {
		(void)snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	w->ch = node_lcore_channel_init(mem, NODE_LCORE_RING_CAPACITY);
	return 0;
}

/* Channels and runtimes for every worker (before the heap is sealed). */
static int
workers_create(struct node_workers *all, const uint32_t *cpus, char *err, size_t err_size)
{
	size_t ch_size = node_lcore_channel_size(NODE_LCORE_RING_CAPACITY);

	all->workers = base_alloc_array(all->count, sizeof(all->workers[0]));
	if (all->workers == NULL) {
		(void)snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	memset(all->workers, 0, all->count * sizeof(all->workers[0]));
	for (uint32_t i = 0; i < all->count; i++) {
		struct node_worker *w = &all->workers[i];
		int rc;

		w->index = i;
		w->cpu = cpus[i + 1];
		w->all = all;
		/* The EAL's lcore i + 1 runs on this cpu (node_eal_lcores) when the EAL is up. */
		w->lcore_id = i + 1 < dp_lcore_count() ? i + 1 : 0;
		rc = w->lcore_id != 0 ? worker_channel_rte(w, err, err_size)
				      : worker_channel_base(w, ch_size, err, err_size);
		if (rc != 0) {
			return rc;
		}
		if (all->repo_error[0] == '\0') {
			char why[NODE_ERROR_MAX];

			if (worker_runtime_open(all, w, why, sizeof(why)) != 0) {
				/* Slices are refused with this line; the node itself runs. */
				(void)snprintf(all->repo_error, sizeof(all->repo_error), "%s", why);
				base_logf(&all->d->log.log, BASE_LOG_WARN, "slices disabled: %s",
					  why);
			}
		}
	}
	return 0;
}

static int
worker_launch(struct node_worker *w)
{
	if (w->lcore_id != 0) {
		return dp_lcore_launch(w->lcore_id, worker_lcore_main, w);
	}
	return -pthread_create(&w->thread, NULL, worker_thread_main, w);
}

uint32_t
node_eal_lcores(const struct node_config *cfg, uint32_t *cpus, uint32_t max)
{
	uint32_t all[DP_EAL_LCORE_MAX];
	uint32_t n;

	ASSERT(max <= DP_EAL_LCORE_MAX);
	n = cfg->lcores[0] == '\0' ? 0 : node_lcores_cpus(cfg->lcores, all, max);
	cpus[0] = node_dpdk_cpu(cfg);
	for (uint32_t i = 1; i < n; i++) {
		cpus[i] = all[i];
	}
	return n > 1 ? n : 1;
}

int
node_workers_open(struct aetherd *d, char *err, size_t err_size)
{
	uint32_t cpus[CTL_WORKERS_MAX + 1];
	struct node_workers *all;
	uint32_t n;
	int rc;

	n = d->cfg.lcores[0] == '\0' ? 0
				     : node_lcores_cpus(d->cfg.lcores, cpus, CTL_WORKERS_MAX + 1);
	if (n < 2) {
		return 0; /* no workers: one control lcore only */
	}
	all = base_alloc(sizeof(*all));
	if (all == NULL) {
		(void)snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	memset(all, 0, sizeof(*all));
	all->d = d;
	all->count = n - 1;
	d->workers = all;
	workers_idle(all);
	if (d->cfg.repository[0] == '\0') {
		(void)snprintf(all->repo_error, sizeof(all->repo_error),
			       "this node has no slice repository (set repository in its config)");
	}
	rc = workers_create(all, cpus, err, err_size);
	if (rc != 0) {
		return rc;
	}
	for (uint32_t i = 0; i < all->count; i++) {
		struct node_worker *w = &all->workers[i];

		rc = worker_launch(w);
		if (rc != 0) {
			(void)snprintf(err, err_size, "cannot start worker %u: %s", (unsigned)i,
				       strerror(-rc));
			return rc;
		}
		w->is_started = true;
		base_logf(&d->log.log, BASE_LOG_INFO, "worker lcore %u on cpu %u: %s%s",
			  (unsigned)i, (unsigned)w->cpu,
			  w->lcore_id != 0 ? "EAL lcore (rte_eal_remote_launch), SP/SC rte_rings"
					   : "pinned pthread (no EAL), base_ring SPSC rings",
			  w->rt != NULL ? ", hosting slices" : "");
	}
	return 0;
}

/* Sends STOP (retrying while the ring is full: the worker drains it) and joins. */
static void
worker_stop(struct node_workers *all, struct node_worker *w)
{
	struct node_lcore_msg m;
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = 100000};

	memset(&m, 0, sizeof(m));
	m.type = NODE_LCORE_MSG_STOP;
	while (node_lcore_send(w->ch, &m) != 0) {
		(void)nanosleep(&nap, NULL);
	}
	if (w->lcore_id != 0) {
		(void)dp_lcore_wait(w->lcore_id);
	} else {
		(void)pthread_join(w->thread, NULL);
	}
	base_logf(&all->d->log.log, BASE_LOG_INFO,
		  "worker lcore %u stopped: polls=%llu busy=%llu sleeps=%llu rc=%d",
		  (unsigned)w->index, (unsigned long long)w->stats.poll_count,
		  (unsigned long long)w->stats.busy_count, (unsigned long long)w->stats.sleep_count,
		  w->loop_rc);
}

void
node_workers_close(struct aetherd *d)
{
	struct node_workers *all = d->workers;

	if (all == NULL) {
		return;
	}
	for (uint32_t i = 0; all->workers != NULL && i < all->count; i++) {
		struct node_worker *w = &all->workers[i];

		if (w->is_started) {
			worker_stop(all, w);
		} else {
			slice_runtime_destroy(w->rt, WORKER_DRAIN_NS);
		}
		slice_repo_destroy(w->repo);
		dp_ring_free(w->rings[0]);
		dp_ring_free(w->rings[1]);
		base_free(w->ch);
	}
	base_free(all->workers);
	base_free(all);
	d->workers = NULL;
}

/* ---- Operator requests (control thread) ---- */

static int
table_find(const struct node_workers *all, const uint8_t *coord, size_t size)
{
	for (int i = 0; i < (int)CTL_SLICES_MAX; i++) {
		const struct slice_entry *e = &all->table[i];

		if (e->is_used && e->coord_size == size && memcmp(e->coord, coord, size) == 0) {
			return i;
		}
	}
	return -1;
}

static uint32_t
worker_slice_count(const struct node_workers *all, uint32_t worker)
{
	uint32_t n = 0;

	for (size_t i = 0; i < CTL_SLICES_MAX; i++) {
		n += all->table[i].is_used && all->table[i].worker == worker ? 1u : 0u;
	}
	return n;
}

/* The worker asked for, or the one holding the fewest slices. */
static uint32_t
worker_pick(const struct node_workers *all)
{
	uint32_t best = 0;
	uint32_t best_count = UINT32_MAX;

	for (uint32_t i = 0; i < all->count; i++) {
		uint32_t n = worker_slice_count(all, i);

		if (n < best_count) {
			best = i;
			best_count = n;
		}
	}
	return best;
}

/* Refuses what cannot reach a worker; NULL when the request may go on. */
static const char *
slice_refusal(const struct aetherd *d, enum ctl_status *status)
{
	*status = CTL_STATUS_UNAVAILABLE;
	if (d->workers == NULL) {
		return "this node has no worker lcores (lcores names one cpu, or none)";
	}
	if (d->workers->repo_error[0] != '\0') {
		return d->workers->repo_error;
	}
	return NULL;
}

static void
slice_list(const struct node_workers *all, struct ctl_response *resp)
{
	for (size_t i = 0; i < CTL_SLICES_MAX; i++) {
		const struct slice_entry *e = &all->table[i];
		struct ctl_slice_info *out;

		if (!e->is_used) {
			continue;
		}
		out = &resp->slices[resp->slice_count++];
		out->coord = e->coord;
		out->coord_size = e->coord_size;
		out->worker = e->worker;
		out->instance_id = e->instance_id;
		out->state = e->state;
	}
}

/* A LOAD's table entry (LOADING) and message; -1 with resp filled when refused. */
static int
slice_prepare_load(struct node_workers *all, const struct ctl_request *req,
		   struct ctl_response *resp, struct ctl_slot *s, struct node_lcore_msg *m)
{
	int free_index = -1;
	struct slice_entry *e;

	for (int i = 0; free_index < 0 && i < (int)CTL_SLICES_MAX; i++) {
		free_index = all->table[i].is_used ? -1 : i;
	}
	if (table_find(all, req->key, req->key_size) >= 0) {
		ctl_response_error(resp, CTL_STATUS_BAD_REQUEST, "that slice is already loaded");
		return -1;
	}
	if (req->worker != CTL_WORKER_ANY && req->worker >= all->count) {
		ctl_response_error(resp, CTL_STATUS_BAD_REQUEST, "no such worker on this node");
		return -1;
	}
	if (free_index < 0) {
		ctl_response_error(resp, CTL_STATUS_FULL,
				   "this node hosts as many slices as it can");
		return -1;
	}
	e = &all->table[free_index];
	memset(e, 0, sizeof(*e));
	e->is_used = true;
	e->state = CTL_SLICE_LOADING;
	e->worker = req->worker == CTL_WORKER_ANY ? worker_pick(all) : req->worker;
	e->coord_size = req->key_size;
	memcpy(e->coord, req->key, req->key_size);
	s->entry = free_index;
	s->worker = e->worker;
	memcpy(s->buf, req->key, req->key_size);
	m->type = NODE_LCORE_MSG_LOAD;
	m->in_size = (uint32_t)req->key_size;
	return 0;
}

/* A CALL's or UNLOAD's message to the worker holding the slice; -1 when refused. */
static int
slice_prepare_other(struct node_workers *all, const struct ctl_request *req,
		    struct ctl_response *resp, struct ctl_slot *s, struct node_lcore_msg *m)
{
	int index = table_find(all, req->key, req->key_size);
	struct slice_entry *e;

	if (index < 0) {
		ctl_response_error(resp, CTL_STATUS_NOT_FOUND, "no such slice loaded on this node");
		return -1;
	}
	e = &all->table[index];
	if (e->state != CTL_SLICE_ACTIVE) {
		ctl_response_error(resp, CTL_STATUS_UNAVAILABLE,
				   "that slice is still loading or unloading");
		return -1;
	}
	s->worker = e->worker;
	m->instance_id = e->instance_id;
	if (req->type == CTL_MSG_SLICE_UNLOAD) {
		e->state = CTL_SLICE_UNLOADING;
		s->entry = index;
		m->type = NODE_LCORE_MSG_UNLOAD;
		return 0;
	}
	m->type = NODE_LCORE_MSG_CALL;
	m->method_size = (uint16_t)req->method_size;
	memcpy(s->buf, req->method, req->method_size);
	if (req->value_size > 0) {
		memcpy(s->buf + req->method_size, req->value, req->value_size);
	}
	m->in_size = (uint32_t)(req->method_size + req->value_size);
	return 0;
}

enum ctl_reply
node_slice_handle(struct aetherd *d, const struct ctl_request *req, struct ctl_ticket ticket,
		  struct ctl_response *resp)
{
	struct node_workers *all = d->workers;
	enum ctl_status status;
	const char *why = slice_refusal(d, &status);
	struct node_lcore_msg m;
	struct ctl_slot *s;
	int rc;

	if (why != NULL) {
		ctl_response_error(resp, status, why);
		return CTL_REPLY_NOW;
	}
	if (req->type == CTL_MSG_SLICE_LIST) {
		slice_list(all, resp);
		return CTL_REPLY_NOW;
	}
	ASSERT(ticket.slot < SLOTS);
	s = &all->slots[ticket.slot];
	if (s->is_used) {
		/* The worker still holds this slot's buffer (an earlier request timed out). */
		ctl_response_error(resp, CTL_STATUS_BUSY,
				   "the previous slice request on this "
				   "connection is still running");
		return CTL_REPLY_NOW;
	}
	memset(&m, 0, sizeof(m));
	s->entry = -1;
	rc = req->type == CTL_MSG_SLICE_LOAD ? slice_prepare_load(all, req, resp, s, &m)
					     : slice_prepare_other(all, req, resp, s, &m);
	if (rc != 0) {
		return CTL_REPLY_NOW;
	}
	m.slot = (uint16_t)ticket.slot;
	m.seq = ++all->seq_next;
	m.buf = s->buf;
	m.capacity = SLOT_BUF_SIZE;
	if (node_lcore_send(all->workers[s->worker].ch, &m) != 0) {
		if (s->entry >= 0 && req->type == CTL_MSG_SLICE_LOAD) {
			all->table[s->entry].is_used = false;
		} else if (s->entry >= 0) {
			all->table[s->entry].state = CTL_SLICE_ACTIVE;
		}
		ctl_response_error(resp, CTL_STATUS_BUSY, "the worker's ring is full");
		return CTL_REPLY_NOW;
	}
	s->is_used = true;
	s->ticket = ticket;
	s->type = req->type;
	s->seq = m.seq;
	return CTL_REPLY_LATER;
}

static enum ctl_status
status_of(int rc)
{
	switch (rc) {
	case -ENOENT:
		return CTL_STATUS_NOT_FOUND;
	case -EINVAL:
		return CTL_STATUS_BAD_REQUEST;
	case -EMSGSIZE:
		return CTL_STATUS_TOO_LARGE;
	case -ETIMEDOUT:
		return CTL_STATUS_TIMEOUT;
	case -ENOBUFS:
	case -EAGAIN:
		return CTL_STATUS_FULL;
	default:
		return CTL_STATUS_UNAVAILABLE;
	}
}

/* Updates the table from a LOAD's or UNLOAD's answer. */
static void
table_on_reply(struct node_workers *all, const struct ctl_slot *s, const struct node_lcore_msg *m)
{
	struct slice_entry *e;

	if (s->entry < 0) {
		return;
	}
	e = &all->table[s->entry];
	if (s->type == CTL_MSG_SLICE_LOAD && m->status == 0) {
		e->state = CTL_SLICE_ACTIVE;
		e->instance_id = m->instance_id;
	} else if (s->type == CTL_MSG_SLICE_LOAD || m->status == 0) {
		e->is_used = false; /* a load that failed, or an unload done */
	} else {
		e->state = CTL_SLICE_ACTIVE; /* an unload refused: still there */
	}
}

static void
slot_answer(struct node_workers *all, struct ctl_slot *s, const struct node_lcore_msg *m)
{
	struct aetherd *d = all->d;
	char line[CTL_MESSAGE_MAX];

	table_on_reply(all, s, m);
	ctl_response_reset(d->reply, s->type, 0);
	if (m->status != 0) {
		(void)snprintf(line, sizeof(line), "%.*s", (int)m->out_size, (const char *)m->buf);
		ctl_response_error(d->reply, status_of(m->status), line);
	} else if (s->type == CTL_MSG_SLICE_LOAD) {
		const struct slice_entry *e = &all->table[s->entry];

		d->reply->slice_count = 1;
		d->reply->slices[0] = (struct ctl_slice_info){e->coord, e->coord_size, e->worker,
							      e->instance_id, e->state};
	} else if (s->type == CTL_MSG_SLICE_CALL) {
		d->reply->value = m->buf;
		d->reply->value_size = m->out_size;
	}
	s->is_used = false;
	if (ctl_server_reply(d->ctl, s->ticket, d->reply) != 0) {
		base_logf(&d->log.log, BASE_LOG_DEBUG,
			  "slice %s: the operator left before the answer",
			  ctl_msg_type_name(s->type));
	}
}

int
node_workers_poll(struct aetherd *d)
{
	struct node_workers *all = d->workers;
	struct node_lcore_msg m;
	int work = 0;

	if (all == NULL) {
		return 0;
	}
	for (uint32_t i = 0; i < all->count; i++) {
		while (node_lcore_take(all->workers[i].ch, &m) == 0) {
			struct ctl_slot *s = m.slot < SLOTS ? &all->slots[m.slot] : NULL;

			work++;
			if (s == NULL || !s->is_used || s->seq != m.seq) {
				base_logf(&d->log.log, BASE_LOG_ERROR,
					  "worker %u: a reply nobody asked for (slot %u)",
					  (unsigned)i, (unsigned)m.slot);
				continue;
			}
			slot_answer(all, s, &m);
		}
	}
	return work;
}

void
node_workers_status(struct aetherd *d, struct ctl_status_info *info)
{
	struct node_workers *all = d->workers;

	info->worker_count = 0;
	for (uint32_t i = 0; all != NULL && i < all->count && i < CTL_WORKERS_MAX; i++) {
		struct ctl_worker_info *out = &info->workers[info->worker_count++];
		struct node_lcore_stats st;

		node_lcore_stats(all->workers[i].ch, &st);
		out->cpu = all->workers[i].cpu;
		out->messages_in = st.messages_in;
		out->messages_out = st.messages_out;
		out->ring_full = st.ring_full;
		out->slice_count = worker_slice_count(all, i);
	}
}
