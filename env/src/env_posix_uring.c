/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env_posix's io_uring storage backend (env_posix_int.h; the durability model is in
 * env_posix.h and env/README.md). The only file of env/ that includes liburing.h.
 *
 * Every operation is a small state machine of I/O steps, one step in the kernel at a time:
 *   put:    openat(.<name>.tmp, O_CREAT|O_TRUNC) -> write... -> fsync -> close -> renameat;
 *           after any failure: close -> unlinkat(.<name>.tmp) -> the completion
 *   append: openat(name, O_APPEND) [-ENOENT: openat(name, O_APPEND|O_CREAT)] -> write... -> close
 *   sync:   openat(name, O_RDONLY) -> fsync -> close [-> fsync(dir) when a rename or a creation
 *           finished since the directory's last successful fsync]
 * A short write resubmits the rest. close() runs inline when its step completes: on a local
 * file system it only drops a reference and never waits for the disk.
 *
 * Ordering is per-name serialization in user space rather than IOSQE_IO_LINK or IOSQE_IO_DRAIN.
 * Each name has a FIFO of its operations and only the head one runs; when it finishes, the
 * next starts. Links order steps within one submission only, and a short write breaks a chain
 * (the kernel cancels the linked rest); drain would queue every name behind the slowest fsync.
 * Per-name FIFOs keep different names concurrent, make a short write an ordinary step, and give
 * a sync what it needs: when it starts, every earlier put and append of its name has finished,
 * so its fsync covers them.
 *
 * Memory, all claimed at create: one operation slot per completion-ring entry, a byte ring of
 * bytes_max for the copied data, and the name table. Slots and bytes are allocated in call
 * order and released in call order (an operation finished out of order waits for the older
 * ones), so a slow fsync can hold back reuse (backpressure, -ENOBUFS) but never corrupt it.
 */
#include "env_posix_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "base/alloc.h"
#include "base/panic.h"

#define OP_NONE UINT32_MAX

enum uring_stage {
	STAGE_OPEN,      /* put: the temporary file; append and sync: the object */
	STAGE_CREATE,    /* append: the object did not exist */
	STAGE_WRITE,     /* put and append, until every byte is written */
	STAGE_FSYNC,     /* put: the temporary file; sync: the object */
	STAGE_RENAME,    /* put: the temporary file over the object */
	STAGE_DIR_FSYNC, /* sync: the directory, after a rename or a creation */
	STAGE_UNLINK,    /* put, failed: the temporary file */
};

struct uring_name {
	char name[ENV_STORAGE_NAME_MAX + 1]; /* "" when the entry is free */
	char tmp[ENV_POSIX_TMP_NAME_MAX + 1];
	uint32_t busy_count; /* operations accepted and not finished */
	uint32_t head;       /* the running one (OP_NONE when idle) */
	uint32_t tail;       /* the last accepted one */
	bool is_size_known;
	uint64_t size;     /* the object's size once every accepted put and append succeeds */
	uint64_t last_use; /* an idle entry is reused least recently used first */
};

struct uring_op {
	uint64_t token;
	uint64_t seq;      /* call order */
	uint64_t dir_mark; /* sync: dir_changes when its directory fsync was prepared */
	enum env_storage_op kind;
	enum uring_stage stage;
	int status; /* put: the failure reported after the cleanup */
	int fd;
	uint32_t name_index;
	uint32_t next_same;  /* the next operation on the same name */
	uint32_t next_ready; /* the next operation waiting for a submission slot */
	uint32_t data_off;
	uint32_t size;
	uint32_t written;
	bool is_finished;
};

struct env_posix_uring {
	struct io_uring ring;
	int dir_fd;
	struct base_ring *completions;
	struct env_posix_stats *stats;
	struct uring_op *ops; /* op_max slots */
	uint32_t op_max;      /* the completion ring's capacity, a power of two */
	uint32_t *free_ops;   /* a stack of free slots */
	uint32_t free_count;
	uint32_t *order; /* a ring of op_max slots in call order, oldest first */
	uint32_t order_head;
	uint32_t order_count;
	uint64_t accepted;   /* operations accepted so far (the next seq) */
	uint32_t unfinished; /* accepted, completion not yet pushed */
	uint32_t ready_head; /* operations whose next step waits for a submission slot */
	uint32_t ready_tail;
	uint32_t outstanding; /* steps prepared and not reaped (<= DEPTH) */
	uint8_t *bytes;
	uint32_t bytes_max;
	uint32_t bytes_head; /* next free byte */
	uint32_t bytes_tail; /* oldest byte in use */
	bool is_bytes_wrapped;
	uint64_t dir_changes; /* renames and creations finished */
	uint64_t dir_synced;  /* dir_changes covered by a successful directory fsync */
	uint64_t use_clock;
	struct uring_name names[ENV_POSIX_STORAGE_NAMES_MAX];
};

static_assert(ENV_STORAGE_OBJECT_MAX <= UINT32_MAX, "object sizes are kept in uint32_t");
static_assert(ENV_POSIX_STORAGE_BYTES_MAX <= UINT32_MAX, "buffer offsets are uint32_t");

/* ---- The byte ring: [tail, head) in use, or [tail, end) and [0, head) once wrapped ---- */

static bool
bytes_alloc(struct env_posix_uring *u, uint32_t size, uint32_t *off)
{
	*off = 0;
	if (size == 0) {
		return true;
	}
	if (u->order_count == 0) {
		/* Nothing in flight: start over, so touched memory follows the largest burst. */
		u->bytes_head = 0;
		u->bytes_tail = 0;
		u->is_bytes_wrapped = false;
	}
	if (!u->is_bytes_wrapped && u->bytes_max - u->bytes_head >= size) {
		*off = u->bytes_head;
	} else if (!u->is_bytes_wrapped && u->bytes_tail >= size) {
		u->is_bytes_wrapped = true;
		u->bytes_head = 0;
	} else if (!u->is_bytes_wrapped || u->bytes_tail - u->bytes_head < size) {
		return false;
	} else {
		*off = u->bytes_head;
	}
	u->bytes_head += size;
	ASSERT(u->bytes_head <= u->bytes_max);
	return true;
}

/* Releases the oldest allocation (they go in call order). */
static void
bytes_release(struct env_posix_uring *u, const struct uring_op *op)
{
	if (op->size == 0) {
		return;
	}
	if (op->data_off < u->bytes_tail) {
		/* The first allocation after the wrap: everything before it is released. */
		ASSERT(u->is_bytes_wrapped);
		u->is_bytes_wrapped = false;
	}
	u->bytes_tail = op->data_off + op->size;
	ASSERT(u->bytes_tail <= u->bytes_max);
}

/* ---- Queues ---- */

static void
ready_push(struct env_posix_uring *u, uint32_t idx)
{
	u->ops[idx].next_ready = OP_NONE;
	if (u->ready_tail == OP_NONE) {
		u->ready_head = idx;
	} else {
		u->ops[u->ready_tail].next_ready = idx;
	}
	u->ready_tail = idx;
}

static uint32_t
ready_pop(struct env_posix_uring *u)
{
	uint32_t idx = u->ready_head;

	ASSERT(idx != OP_NONE);
	u->ready_head = u->ops[idx].next_ready;
	if (u->ready_head == OP_NONE) {
		u->ready_tail = OP_NONE;
	}
	return idx;
}

/* Frees the slots (and bytes) of the finished operations at the head of the call order. */
static void
order_advance(struct env_posix_uring *u)
{
	while (u->order_count > 0) {
		uint32_t idx = u->order[u->order_head];

		if (!u->ops[idx].is_finished) {
			return;
		}
		bytes_release(u, &u->ops[idx]);
		u->free_ops[u->free_count++] = idx;
		u->order_head = (u->order_head + 1) & (u->op_max - 1);
		u->order_count--;
	}
	ASSERT(u->free_count == u->op_max);
}

/* ---- Steps ---- */

static void
op_next(struct env_posix_uring *u, uint32_t idx, enum uring_stage stage)
{
	u->ops[idx].stage = stage;
	ready_push(u, idx);
}

static int
op_close(struct uring_op *op)
{
	int fd = op->fd;

	if (fd < 0) {
		return 0;
	}
	op->fd = -1;
	/* Linux releases the descriptor even when close reports an error: never retried. */
	return close(fd) == 0 ? 0 : -errno;
}

/* Pushes the one completion, and starts the name's next operation. */
static void
op_finish(struct env_posix_uring *u, uint32_t idx, int status)
{
	struct uring_op *op = &u->ops[idx];
	struct uring_name *n = &u->names[op->name_index];
	struct env_storage_completion c = {.token = op->token, .op = op->kind, .status = status};
	int rc;

	ASSERT(!op->is_finished && op->fd < 0);
	ASSERT(n->head == idx && n->busy_count > 0);
	ASSERT(status <= 0);
	if (status != 0) {
		u->stats->storage_error_count++;
	}
	if (status != 0 && op->kind != ENV_STORAGE_SYNC) {
		/* A failed put or append leaves the object's size unknown until a stat says. */
		n->is_size_known = false;
	}
	rc = base_ring_push(u->completions, &c);
	ASSERT(rc == 0); /* every unfinished operation has a reserved entry (has_room) */
	n->busy_count--;
	n->head = op->next_same;
	if (n->head == OP_NONE) {
		n->tail = OP_NONE;
	} else {
		ready_push(u, n->head);
	}
	op->is_finished = true;
	u->unfinished--;
	order_advance(u);
}

/* A put removes its temporary file before it reports the failure; the others report it now. */
static void
op_fail(struct env_posix_uring *u, uint32_t idx, int err)
{
	struct uring_op *op = &u->ops[idx];

	ASSERT(err < 0);
	(void)op_close(op); /* the operation already failed; its close adds nothing */
	if (op->kind == ENV_STORAGE_PUT) {
		op->status = err;
		op_next(u, idx, STAGE_UNLINK);
		return;
	}
	op_finish(u, idx, err);
}

/* Every byte is in the file: a put makes it durable before the rename, an append is done. */
static void
step_data_written(struct env_posix_uring *u, uint32_t idx)
{
	struct uring_op *op = &u->ops[idx];
	int rc;

	if (op->kind == ENV_STORAGE_PUT) {
		op_next(u, idx, STAGE_FSYNC);
		return;
	}
	rc = op_close(op);
	op_finish(u, idx, rc);
}

static void
step_opened(struct env_posix_uring *u, uint32_t idx, int res)
{
	struct uring_op *op = &u->ops[idx];

	if (res == -ENOENT && op->kind == ENV_STORAGE_APPEND && op->stage == STAGE_OPEN) {
		op_next(u, idx, STAGE_CREATE);
		return;
	}
	if (res < 0) {
		op_fail(u, idx, res);
		return;
	}
	op->fd = res;
	if (op->stage == STAGE_CREATE) {
		u->dir_changes++; /* the new name must reach the disk before a sync completes */
	}
	if (op->kind == ENV_STORAGE_SYNC) {
		op_next(u, idx, STAGE_FSYNC);
	} else if (op->size > 0) {
		op_next(u, idx, STAGE_WRITE);
	} else {
		step_data_written(u, idx);
	}
}

static void
step_written(struct env_posix_uring *u, uint32_t idx, int res)
{
	struct uring_op *op = &u->ops[idx];

	if (res <= 0) {
		/* A regular file never accepts 0 bytes of a non-empty write. */
		op_fail(u, idx, res < 0 ? res : -EIO);
		return;
	}
	ASSERT((uint32_t)res <= op->size - op->written);
	op->written += (uint32_t)res;
	if (op->written < op->size) {
		op_next(u, idx, STAGE_WRITE); /* a short write: the rest goes next */
		return;
	}
	step_data_written(u, idx);
}

static void
step_fsynced(struct env_posix_uring *u, uint32_t idx, int res)
{
	struct uring_op *op = &u->ops[idx];
	int rc = op_close(op);

	if (res < 0 || rc != 0) {
		op_fail(u, idx, res < 0 ? res : rc);
		return;
	}
	if (op->kind == ENV_STORAGE_PUT) {
		op_next(u, idx, STAGE_RENAME);
		return;
	}
	if (u->dir_changes == u->dir_synced) {
		op_finish(u, idx, 0);
		return;
	}
	/* This fsync covers every rename and creation finished so far, not the later ones. */
	op->dir_mark = u->dir_changes;
	op_next(u, idx, STAGE_DIR_FSYNC);
}

static void
step_done(struct env_posix_uring *u, uint32_t idx, int res)
{
	struct uring_op *op = &u->ops[idx];

	switch (op->stage) {
	case STAGE_OPEN:
	case STAGE_CREATE:
		step_opened(u, idx, res);
		return;
	case STAGE_WRITE:
		step_written(u, idx, res);
		return;
	case STAGE_FSYNC:
		step_fsynced(u, idx, res);
		return;
	case STAGE_RENAME:
		if (res < 0) {
			op_fail(u, idx, res);
			return;
		}
		u->dir_changes++;
		op_finish(u, idx, 0);
		return;
	case STAGE_DIR_FSYNC:
		if (res == 0 && op->dir_mark > u->dir_synced) {
			u->dir_synced = op->dir_mark;
		}
		u->stats->storage_dir_fsync_count += res == 0 ? 1u : 0u;
		op_finish(u, idx, res);
		return;
	case STAGE_UNLINK:
		/* Best effort: a leftover temporary file is never loaded; the next put truncates
		 * it. */
		op_finish(u, idx, op->status);
		return;
	}
	PANIC("storage operation %u in unknown stage %d", idx, (int)op->stage);
}

static int
open_flags(enum env_storage_op kind)
{
	switch (kind) {
	case ENV_STORAGE_PUT:
		return O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC;
	case ENV_STORAGE_APPEND:
		return O_WRONLY | O_APPEND | O_CLOEXEC;
	case ENV_STORAGE_SYNC:
		return O_RDONLY | O_CLOEXEC;
	}
	PANIC("unknown storage operation %d", (int)kind);
}

/* The kernel copies the paths when it takes the step; they live in the name entry anyway. */
static void
step_prep(struct env_posix_uring *u, uint32_t idx, struct io_uring_sqe *sqe)
{
	struct uring_op *op = &u->ops[idx];
	const struct uring_name *n = &u->names[op->name_index];

	switch (op->stage) {
	case STAGE_OPEN:
		io_uring_prep_openat(sqe, u->dir_fd, op->kind == ENV_STORAGE_PUT ? n->tmp : n->name,
				     open_flags(op->kind), 0640);
		break;
	case STAGE_CREATE:
		io_uring_prep_openat(sqe, u->dir_fd, n->name,
				     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		break;
	case STAGE_WRITE:
		/* O_APPEND writes at the end whatever the offset; -1 means "the file position". */
		io_uring_prep_write(sqe, op->fd, u->bytes + op->data_off + op->written,
				    op->size - op->written,
				    op->kind == ENV_STORAGE_PUT ? op->written : UINT64_MAX);
		break;
	case STAGE_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, 0);
		break;
	case STAGE_DIR_FSYNC:
		io_uring_prep_fsync(sqe, u->dir_fd, 0);
		break;
	case STAGE_RENAME:
		io_uring_prep_renameat(sqe, u->dir_fd, n->tmp, u->dir_fd, n->name, 0);
		break;
	case STAGE_UNLINK:
		io_uring_prep_unlinkat(sqe, u->dir_fd, n->tmp, 0);
		break;
	}
	io_uring_sqe_set_data64(sqe, idx);
}

/* Prepares the waiting steps while the kernel has room, then submits (never waits). */
static void
uring_pump(struct env_posix_uring *u)
{
	while (u->ready_head != OP_NONE && u->outstanding < ENV_POSIX_STORAGE_URING_DEPTH) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

		/* The queue has DEPTH entries, and fewer than DEPTH steps hold one. */
		ASSERT(sqe != NULL);
		step_prep(u, ready_pop(u), sqe);
		u->outstanding++;
	}
	if (io_uring_sq_ready(&u->ring) > 0) {
		/* A failed submit (-EAGAIN, -EBUSY, -EINTR) leaves the steps queued for next time.
		 */
		(void)io_uring_submit(&u->ring);
	}
}

static void
uring_reap(struct env_posix_uring *u)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		uint64_t idx = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		ASSERT(idx < u->op_max);
		ASSERT(u->outstanding > 0);
		u->outstanding--;
		step_done(u, (uint32_t)idx, res);
	}
}

/* Blocks until the kernel finishes at least one step, and processes what finished. */
static void
uring_wait_one(struct env_posix_uring *u)
{
	int rc;

	uring_pump(u);
	/* The head operation of every busy name has a step in the kernel or in the ready list,
	 * and the pump emptied the ready list unless DEPTH steps are out. */
	ASSERT(u->outstanding > 0);
	do {
		rc = io_uring_submit_and_wait(&u->ring, 1);
	} while (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY);
	if (rc < 0) {
		/* Only a broken ring gets here (EBADF, EFAULT, EINVAL): our own state is wrong. */
		PANIC("io_uring_submit_and_wait: %s", strerror(-rc));
	}
	uring_reap(u);
}

/* ---- Names ---- */

/* The entry for name, taking a free or the least recently used idle one; OP_NONE if none. */
static uint32_t
name_find_or_add(struct env_posix_uring *u, const char *name)
{
	uint32_t victim = OP_NONE;
	struct uring_name *n;

	for (uint32_t i = 0; i < ENV_POSIX_STORAGE_NAMES_MAX; i++) {
		n = &u->names[i];
		if (strcmp(n->name, name) == 0) {
			n->last_use = ++u->use_clock;
			return i;
		}
		if (n->busy_count == 0 &&
		    (victim == OP_NONE || n->last_use < u->names[victim].last_use)) {
			victim = i;
		}
	}
	if (victim == OP_NONE) {
		return OP_NONE;
	}
	n = &u->names[victim];
	memset(n, 0, sizeof(*n));
	(void)snprintf(n->name, sizeof(n->name), "%s", name);
	env_posix_tmp_name(n->tmp, name);
	n->head = OP_NONE;
	n->tail = OP_NONE;
	n->last_use = ++u->use_clock;
	return victim;
}

/*
 * The one synchronous lookup of the backend: the size of an object this env has not loaded or
 * written yet (or whose last put or append failed). A stat that fails leaves the size unknown
 * and the append unchecked; its I/O then reports what is wrong.
 */
static void
name_learn_size(struct env_posix_uring *u, struct uring_name *n)
{
	struct stat st;

	ASSERT(n->busy_count == 0);
	if (fstatat(u->dir_fd, n->name, &st, 0) == 0) {
		n->size = (uint64_t)st.st_size;
		n->is_size_known = true;
	} else if (errno == ENOENT) {
		n->size = 0;
		n->is_size_known = true;
	}
}

/* ---- Accepting ---- */

/* A free slot, and a completion entry for it next to those of every unfinished operation. */
static bool
has_room(const struct env_posix_uring *u)
{
	return u->free_count > 0 && u->unfinished + base_ring_count(u->completions) < u->op_max;
}

static void
op_start(struct env_posix_uring *u, enum env_storage_op kind, uint32_t name_index,
	 const uint8_t *data, uint32_t size, uint32_t off, uint64_t token)
{
	struct uring_name *n = &u->names[name_index];
	uint32_t idx;
	struct uring_op *op;

	ASSERT(u->free_count > 0 && u->order_count < u->op_max);
	idx = u->free_ops[--u->free_count];
	op = &u->ops[idx];
	memset(op, 0, sizeof(*op));
	op->token = token;
	op->seq = u->accepted++;
	op->kind = kind;
	op->stage = STAGE_OPEN;
	op->fd = -1;
	op->name_index = name_index;
	op->next_same = OP_NONE;
	op->data_off = off;
	op->size = size;
	if (size > 0) {
		memcpy(u->bytes + off, data, size);
	}
	u->order[(u->order_head + u->order_count) & (u->op_max - 1)] = idx;
	u->order_count++;
	u->unfinished++;
	n->busy_count++;
	if (n->tail == OP_NONE) {
		n->head = idx;
		ready_push(u, idx);
	} else {
		u->ops[n->tail].next_same =
			idx; /* runs when the name's earlier operations are done */
	}
	n->tail = idx;
	uring_pump(u);
}

int
env_posix_uring_put(struct env_posix_uring *u, const char *name, const uint8_t *data, size_t size,
		    uint64_t token)
{
	uint32_t ni;
	uint32_t off;

	ASSERT(u != NULL && name != NULL);
	ASSERT(data != NULL || size == 0);
	if (size > u->bytes_max) {
		return -EFBIG;
	}
	if (!has_room(u)) {
		return -ENOBUFS;
	}
	ni = name_find_or_add(u, name);
	if (ni == OP_NONE || !bytes_alloc(u, (uint32_t)size, &off)) {
		return -ENOBUFS;
	}
	u->names[ni].size = size;
	u->names[ni].is_size_known = true;
	op_start(u, ENV_STORAGE_PUT, ni, data, (uint32_t)size, off, token);
	return 0;
}

int
env_posix_uring_append(struct env_posix_uring *u, const char *name, const uint8_t *data,
		       size_t size, uint64_t token)
{
	struct uring_name *n;
	uint32_t ni;
	uint32_t off;

	ASSERT(u != NULL && name != NULL);
	ASSERT(data != NULL || size == 0);
	if (size > u->bytes_max) {
		return -EFBIG;
	}
	if (!has_room(u)) {
		return -ENOBUFS;
	}
	ni = name_find_or_add(u, name);
	if (ni == OP_NONE) {
		return -ENOBUFS;
	}
	n = &u->names[ni];
	if (!n->is_size_known && n->busy_count > 0) {
		return -ENOBUFS; /* after a failure on this name: the size is known once it is idle
				  */
	}
	if (!n->is_size_known) {
		name_learn_size(u, n);
	}
	if (n->is_size_known && n->size + size > ENV_STORAGE_OBJECT_MAX) {
		return -EFBIG;
	}
	if (!bytes_alloc(u, (uint32_t)size, &off)) {
		return -ENOBUFS;
	}
	n->size += size;
	op_start(u, ENV_STORAGE_APPEND, ni, data, (uint32_t)size, off, token);
	return 0;
}

int
env_posix_uring_sync(struct env_posix_uring *u, const char *name, uint64_t token)
{
	uint32_t ni;

	ASSERT(u != NULL && name != NULL);
	if (!has_room(u)) {
		return -ENOBUFS;
	}
	ni = name_find_or_add(u, name);
	if (ni == OP_NONE) {
		return -ENOBUFS;
	}
	op_start(u, ENV_STORAGE_SYNC, ni, NULL, 0, 0, token);
	return 0;
}

/* ---- Progress, queries ---- */

void
env_posix_uring_progress(struct env_posix_uring *u)
{
	ASSERT(u != NULL);
	uring_reap(u);
	uring_pump(u);
}

void
env_posix_uring_settle(struct env_posix_uring *u, const char *name)
{
	ASSERT(u != NULL && name != NULL);
	for (uint32_t i = 0; i < ENV_POSIX_STORAGE_NAMES_MAX; i++) {
		if (strcmp(u->names[i].name, name) != 0) {
			continue;
		}
		while (u->names[i].busy_count > 0) {
			uring_wait_one(u);
		}
		return;
	}
}

void
env_posix_uring_note_load(struct env_posix_uring *u, const char *name, int rc, size_t size)
{
	uint32_t ni;

	ASSERT(u != NULL && name != NULL);
	if (rc != 0 && rc != -ENOENT) {
		return;
	}
	ni = name_find_or_add(u, name);
	if (ni == OP_NONE || u->names[ni].busy_count > 0) {
		return; /* no room to remember, or it changes under way: learnt later */
	}
	u->names[ni].size = rc == 0 ? size : 0;
	u->names[ni].is_size_known = true;
}

int
env_posix_uring_fd(const struct env_posix_uring *u)
{
	ASSERT(u != NULL);
	return u->ring.ring_fd;
}

uint64_t
env_posix_uring_mark(const struct env_posix_uring *u)
{
	ASSERT(u != NULL);
	return u->accepted;
}

bool
env_posix_uring_reached(const struct env_posix_uring *u, uint64_t mark)
{
	uint64_t settled;

	ASSERT(u != NULL);
	ASSERT(mark <= u->accepted);
	/* Every operation older than the oldest unreleased one has finished. */
	settled = u->order_count == 0 ? u->accepted : u->ops[u->order[u->order_head]].seq;
	return settled >= mark;
}

uint32_t
env_posix_uring_in_flight(const struct env_posix_uring *u)
{
	ASSERT(u != NULL);
	return u->unfinished;
}

/* ---- Create / destroy ---- */

static void
uring_free(struct env_posix_uring *u)
{
	base_free(u->bytes);
	base_free(u->free_ops); /* free_ops and order share one allocation */
	base_free(u->ops);
	base_free(u);
}

static int
uring_alloc(const struct env_posix_uring_config *cfg, struct env_posix_uring **out)
{
	uint32_t op_max = (uint32_t)cfg->completions->capacity;
	struct env_posix_uring *u = base_alloc(sizeof(*u));

	if (u == NULL) {
		return -ENOMEM;
	}
	u->ops = base_alloc_array(op_max, sizeof(*u->ops));
	u->free_ops = base_alloc_array(2 * (size_t)op_max, sizeof(*u->free_ops));
	u->bytes = u->ops == NULL || u->free_ops == NULL ? NULL : base_alloc(cfg->bytes_max);
	if (u->bytes == NULL) {
		uring_free(u);
		return -ENOMEM;
	}
	u->order = u->free_ops + op_max;
	u->op_max = op_max;
	for (uint32_t i = 0; i < op_max; i++) {
		u->free_ops[i] = op_max - 1 - i;
	}
	u->free_count = op_max;
	u->ready_head = OP_NONE;
	u->ready_tail = OP_NONE;
	u->dir_fd = cfg->dir_fd;
	u->completions = cfg->completions;
	u->stats = cfg->stats;
	u->bytes_max = cfg->bytes_max;
	*out = u;
	return 0;
}

/* Every opcode the state machines use (renameat and unlinkat came with Linux 5.11). */
static int
uring_probe(struct io_uring *ring)
{
	static const int needed[] = {IORING_OP_OPENAT, IORING_OP_WRITE, IORING_OP_FSYNC,
				     IORING_OP_RENAMEAT, IORING_OP_UNLINKAT};
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	int rc = 0;

	if (probe == NULL) {
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < AE_ARRAY_SIZE(needed); i++) {
		if (!io_uring_opcode_supported(probe, needed[i])) {
			rc = -EOPNOTSUPP;
		}
	}
	io_uring_free_probe(probe);
	return rc;
}

static int
uring_ring_open(struct env_posix_uring *u)
{
	unsigned int workers[2] = {ENV_POSIX_STORAGE_URING_WORKERS,
				   ENV_POSIX_STORAGE_URING_WORKERS};
	int rc = io_uring_queue_init(ENV_POSIX_STORAGE_URING_DEPTH, &u->ring, 0);

	if (rc < 0) {
		return rc;
	}
	rc = uring_probe(&u->ring);
	if (rc != 0) {
		io_uring_queue_exit(&u->ring);
		return rc;
	}
	/*
	 * Bounds the kernel threads that run blocking steps (fsync, open). Linux before 5.15 lacks
	 * the call and keeps its own bound (RLIMIT_NPROC), so a refusal is not an error.
	 */
	(void)io_uring_register_iowq_max_workers(&u->ring, workers);
	return 0;
}

int
env_posix_uring_create(const struct env_posix_uring_config *cfg, struct env_posix_uring **out,
		       bool *is_unavailable)
{
	struct env_posix_uring *u;
	int rc;

	ASSERT(cfg != NULL && out != NULL && is_unavailable != NULL);
	ASSERT(cfg->completions != NULL && cfg->stats != NULL);
	ASSERT(cfg->bytes_max > 0 && cfg->bytes_max <= ENV_POSIX_STORAGE_BYTES_MAX);
	*is_unavailable = false;
	rc = uring_alloc(cfg, &u);
	if (rc != 0) {
		return rc;
	}
	rc = uring_ring_open(u);
	if (rc != 0) {
		*is_unavailable = true;
		uring_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

void
env_posix_uring_destroy(struct env_posix_uring *u)
{
	if (u == NULL) {
		return;
	}
	/* The kernel reads the byte ring until each write completes: it must outlive them. */
	while (u->unfinished > 0) {
		uring_wait_one(u);
	}
	ASSERT(u->outstanding == 0);
	io_uring_queue_exit(&u->ring);
	uring_free(u);
}
