/* SPDX-License-Identifier: Apache-2.0 */
#include "env/env.h"

#include <string.h>

#include "base/err.h"
#include "base/panic.h"

int
env_storage_name_check(const char *name)
{
	size_t len;

	if (name == NULL) {
		return -EINVAL;
	}
	len = strnlen(name, ENV_STORAGE_NAME_MAX + 1);
	if (len == 0 || len > ENV_STORAGE_NAME_MAX) {
		return -EINVAL;
	}
	if (name[0] == '.') {
		return -EINVAL; /* no hidden files, no "." or ".." */
	}
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			 c == '-';

		if (!ok) {
			return -EINVAL;
		}
	}
	return 0;
}

void
env_ops_assert_valid(const struct env_ops *ops)
{
	ASSERT(ops != NULL);
	ASSERT(ops->version >= 1);
	ASSERT(ops->size >= sizeof(struct env_ops) || ops->version < ENV_OPS_VERSION);
	ASSERT(ops->now_ns != NULL);
	ASSERT(ops->seed != NULL);
	ASSERT(ops->send != NULL);
	ASSERT(ops->recv != NULL);
	ASSERT(ops->storage_put != NULL);
	ASSERT(ops->storage_sync != NULL);
	ASSERT(ops->storage_poll != NULL);
	ASSERT(ops->storage_load != NULL);
	ASSERT(ops->version < 2 || ops->storage_append != NULL);
}
