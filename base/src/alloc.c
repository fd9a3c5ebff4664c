/* SPDX-License-Identifier: Apache-2.0 */
#include "base/alloc.h"

#include <stdint.h>
#include <stdlib.h>

#include "base/panic.h"

/* Process-wide by design: the seal and the fault injector must see every allocation. */
static int alloc_sealed;
static unsigned long alloc_fail_countdown;
static int alloc_fired;
static long alloc_live_count;

void *
base_alloc(size_t size)
{
	void *p;

	if (alloc_sealed) {
		PANIC("allocation of %zu bytes after base_alloc_seal()", size);
	}
	if (alloc_fail_countdown > 0) {
		alloc_fail_countdown--;
		if (alloc_fail_countdown == 0) {
			alloc_fired = 1;
			return NULL;
		}
	}
	p = calloc(1, size == 0 ? 1 : size);
	if (p != NULL) {
		alloc_live_count++;
	}
	return p;
}

void *
base_alloc_array(size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size) {
		return NULL;
	}
	return base_alloc(count * size);
}

void
base_free(void *ptr)
{
	if (ptr == NULL) {
		return;
	}
	alloc_live_count--;
	ASSERT(alloc_live_count >= 0);
	free(ptr);
}

void
base_alloc_seal(void)
{
	alloc_sealed = 1;
}

void
base_alloc_unseal(void)
{
	alloc_sealed = 0;
}

void
base_alloc_fail_at(unsigned long n)
{
	alloc_fail_countdown = n;
	alloc_fired = 0;
}

int
base_alloc_injected(void)
{
	return alloc_fired;
}

long
base_alloc_live(void)
{
	return alloc_live_count;
}
