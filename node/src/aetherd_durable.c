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

#include "base/bytes.h"
#include "base/panic.h"

/* env_posix completes put and sync inside the call; the loop only bounds a broken env. */
#define DURABLE_POLLS_MAX 1000

static int
durable_wait(const struct env_ops *st, uint64_t token)
{
	struct env_storage_completion c;

	for (int i = 0; i < DURABLE_POLLS_MAX; i++) {
		if (st->storage_poll(st->ctx, &c, 1) == 1 && c.token == token) {
			return c.status;
		}
	}
	return -ETIMEDOUT;
}

int
node_durable_reserve(const struct env_ops *storage, const char *name, uint64_t step, uint64_t *out)
{
	uint8_t buf[8];
	size_t size = 0;
	uint64_t old = 0;
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
	if (rc == 0) {
		rc = durable_wait(storage, 1);
	}
	if (rc == 0) {
		rc = storage->storage_sync(storage->ctx, name, 2);
	}
	if (rc == 0) {
		rc = durable_wait(storage, 2);
	}
	if (rc == 0) {
		*out = old;
	}
	return rc;
}
