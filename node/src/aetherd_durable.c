/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable counters that must never repeat after a restart, whatever crashed: the operator
 * clients' sequence numbers (the KV store's dedupe table would answer a reused one with an old
 * result, R8) and memif's frame incarnation (a reused one would reuse GCM nonces). The value is
 * advanced and synced BEFORE any of the reserved range is used, as Rabia does with its slot mark
 * (R11).
 */
#include "aetherd_int.h"

#include <errno.h>
#include <time.h>

#include "base/bytes.h"
#include "base/panic.h"

/* Between empty polls: the completion is a disk write away, no need to spin a core meanwhile. */
#define DURABLE_NAP_NS 50000

/*
 * Polls until the completions of tokens 1 to count have all arrived (env_posix's io_uring
 * storage finishes put and sync after the calls return), for at most NODE_DURABLE_WAIT_NS.
 * Returns the first failed status in token order, 0, or -ETIMEDOUT. Nothing else uses the
 * storage before the shard starts, so every completion seen here is ours.
 */
static int
durable_wait(const struct env_ops *st, uint64_t count)
{
	const struct timespec nap = {.tv_sec = 0, .tv_nsec = DURABLE_NAP_NS};
	uint64_t deadline = st->now_ns(st->ctx) + NODE_DURABLE_WAIT_NS;
	int status[2] = {1, 1}; /* 1: not arrived yet */
	uint64_t arrived = 0;
	struct env_storage_completion c;

	ASSERT(count >= 1 && count <= 2);
	while (arrived < count) {
		if (st->storage_poll(st->ctx, &c, 1) == 1) {
			ASSERT(c.token >= 1 && c.token <= count && status[c.token - 1] > 0);
			status[c.token - 1] = c.status;
			arrived++;
			continue;
		}
		if (st->now_ns(st->ctx) >= deadline) {
			return -ETIMEDOUT;
		}
		(void)nanosleep(&nap, NULL);
	}
	return status[0] != 0 ? status[0] : (count == 2 ? status[1] : 0);
}

int
node_durable_reserve(const struct env_ops *storage, const char *name, uint64_t step, uint64_t *out)
{
	uint8_t buf[8];
	size_t size = 0;
	uint64_t old = 0;
	int wait_rc;
	int rc;

	ASSERT(storage != NULL && name != NULL && out != NULL);
	ASSERT(step > 0);
	rc = storage->storage_load(storage->ctx, name, buf, sizeof(buf), &size);
	if (rc == 0 && size != sizeof(buf)) {
		return -EBADMSG;
	}
	if (rc == 0) {
		old = base_load_le64(buf);
	} else if (rc != -ENOENT) {
		return rc == -EFBIG ? -EBADMSG : rc;
	}
	if (old > UINT64_MAX - step) {
		return -EOVERFLOW;
	}
	base_store_le64(buf, old + step);
	rc = storage->storage_put(storage->ctx, name, buf, sizeof(buf), 1);
	if (rc != 0) {
		return rc;
	}
	/* The seam orders one name's operations: the sync covers the put queued before it. */
	rc = storage->storage_sync(storage->ctx, name, 2);
	/* The put was accepted, so its completion is awaited whatever the sync call said. */
	wait_rc = durable_wait(storage, rc == 0 ? 2 : 1);
	rc = rc != 0 ? rc : wait_rc;
	if (rc == 0) {
		*out = old;
	}
	return rc;
}
