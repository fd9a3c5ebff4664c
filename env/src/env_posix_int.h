/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env_posix's private seam between the env (env_posix.c: config, transport, the synchronous
 * storage fallback, the completion queue) and its io_uring storage backend
 * (env_posix_uring.c, the only file of env/ that includes liburing.h, so that a liburing
 * upgrade or a port touches one file).
 *
 * The env validates the name and the ENV_STORAGE_OBJECT_MAX bound before calling the backend;
 * the backend checks everything else (room for the completion, the data, the name table) and
 * pushes exactly one completion per accepted operation into the env's completion ring, which
 * it shares. Context: the env's owning thread only.
 */
#ifndef AETHER_ENV_ENV_POSIX_INT_H
#define AETHER_ENV_ENV_POSIX_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "base/ring.h"
#include "env/env.h"
#include "env/env_posix.h"

/* ".<name>.tmp": the leading dot keeps it out of the valid object names, so no object clashes. */
#define ENV_POSIX_TMP_NAME_MAX (ENV_STORAGE_NAME_MAX + 6)

/* Writes ".<name>.tmp" into out (ENV_POSIX_TMP_NAME_MAX + 1 bytes); name was checked. */
void env_posix_tmp_name(char *out, const char *name);

struct env_posix_uring;

struct env_posix_uring_config {
	int dir_fd; /* the data directory; borrowed for the backend's life */
	/*
	 * The env's completion ring (borrowed for the backend's life, power-of-two capacity): one
	 * operation slot per entry, and an operation is accepted only while every unfinished
	 * operation still has a reserved entry, so a push never fails.
	 */
	struct base_ring *completions;
	uint32_t bytes_max;            /* checked: 1 to ENV_POSIX_STORAGE_BYTES_MAX */
	struct env_posix_stats *stats; /* borrowed: storage_error_count, storage_dir_fsync_count */
};

/*
 * Sets up the ring and allocates the backend (through base_alloc). Returns 0; -ENOMEM when an
 * allocation failed (*is_unavailable false); otherwise io_uring itself is unusable here
 * (*is_unavailable true): the error of io_uring_queue_init (-ENOSYS, -EPERM, ...), or
 * -EOPNOTSUPP when the kernel lacks an opcode. Nothing is left allocated or open on failure.
 */
AE_MUST_CHECK int env_posix_uring_create(const struct env_posix_uring_config *cfg,
					 struct env_posix_uring **out, bool *is_unavailable);
/* Runs every accepted operation to its end (blocking), then closes the ring and frees. */
void env_posix_uring_destroy(struct env_posix_uring *u);

/*
 * The storage calls, after the env checked the name and ENV_STORAGE_OBJECT_MAX. Return 0
 * (accepted, data copied, first step submitted), -ENOBUFS (no room for the completion, the
 * data or the name; nothing done) or -EFBIG (size over bytes_max, or an append that would grow
 * the object past ENV_STORAGE_OBJECT_MAX; nothing done).
 */
AE_MUST_CHECK int env_posix_uring_put(struct env_posix_uring *u, const char *name,
				      const uint8_t *data, size_t size, uint64_t token);
AE_MUST_CHECK int env_posix_uring_append(struct env_posix_uring *u, const char *name,
					 const uint8_t *data, size_t size, uint64_t token);
AE_MUST_CHECK int env_posix_uring_sync(struct env_posix_uring *u, const char *name, uint64_t token);

/* Reaps finished steps, starts the next ones and submits; never blocks. From storage_poll. */
void env_posix_uring_progress(struct env_posix_uring *u);
/*
 * Blocks until no operation on name is in flight, so that a synchronous load sees every put
 * and append accepted before it (the seam's per-name order). Startup only, like load.
 */
void env_posix_uring_settle(struct env_posix_uring *u, const char *name);
/* After a load: caches the object's size (rc 0) or its absence (rc -ENOENT) for appends. */
void env_posix_uring_note_load(struct env_posix_uring *u, const char *name, int rc, size_t size);

int env_posix_uring_fd(const struct env_posix_uring *u);
uint64_t env_posix_uring_mark(const struct env_posix_uring *u);
bool env_posix_uring_reached(const struct env_posix_uring *u, uint64_t mark);
/* Operations accepted and not finished, for the dump. */
uint32_t env_posix_uring_in_flight(const struct env_posix_uring *u);

#endif /* AETHER_ENV_ENV_POSIX_INT_H */
