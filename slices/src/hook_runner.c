/* SPDX-License-Identifier: Apache-2.0 */
#include "hook_runner.h"

#include <errno.h>
#include <string.h>

#include "base/panic.h"

static _Thread_local bool hook_thread_flag;

static void *
hook_runner_main(void *arg)
{
	struct hook_runner *r = arg;

	hook_thread_flag = true;
	ASSERT(pthread_mutex_lock(&r->mu) == 0);
	for (;;) {
		while (atomic_load(&r->phase) != HOOK_QUEUED && !r->is_exit_requested) {
			ASSERT(pthread_cond_wait(&r->cv, &r->mu) == 0);
		}
		if (r->is_exit_requested) {
			break;
		}
		atomic_store(&r->phase, HOOK_RUNNING);
		ASSERT(pthread_mutex_unlock(&r->mu) == 0);
		/* Slice code runs here, without the lock, so posting never waits for it. */
		r->result = r->fn(r->arg);
		ASSERT(pthread_mutex_lock(&r->mu) == 0);
		atomic_store_explicit(&r->phase, HOOK_DONE, memory_order_release);
	}
	ASSERT(pthread_mutex_unlock(&r->mu) == 0);
	return NULL;
}

int
hook_runner_start(struct hook_runner *r, const char *name)
{
	int rc;

	ASSERT(r != NULL);
	ASSERT(!r->is_started);
	memset(r, 0, sizeof(*r));
	(void)strncpy(r->name, name, sizeof(r->name) - 1);
	rc = pthread_mutex_init(&r->mu, NULL);
	if (rc != 0) {
		return -rc;
	}
	rc = pthread_cond_init(&r->cv, NULL);
	if (rc != 0) {
		(void)pthread_mutex_destroy(&r->mu);
		return -rc;
	}
	rc = pthread_create(&r->thread, NULL, hook_runner_main, r);
	if (rc != 0) {
		(void)pthread_cond_destroy(&r->cv);
		(void)pthread_mutex_destroy(&r->mu);
		return -rc;
	}
	/* A name only helps debuggers; failing to set it changes nothing. */
	(void)pthread_setname_np(r->thread, r->name);
	r->is_started = true;
	return 0;
}

int
hook_runner_post(struct hook_runner *r, hook_job_fn *fn, void *arg)
{
	ASSERT(r->is_started);
	ASSERT(fn != NULL);
	if (atomic_load(&r->phase) != HOOK_IDLE) {
		return -EBUSY;
	}
	ASSERT(pthread_mutex_lock(&r->mu) == 0);
	r->fn = fn;
	r->arg = arg;
	atomic_store(&r->phase, HOOK_QUEUED);
	ASSERT(pthread_cond_signal(&r->cv) == 0);
	ASSERT(pthread_mutex_unlock(&r->mu) == 0);
	return 0;
}

bool
hook_runner_take(struct hook_runner *r, int *result)
{
	ASSERT(result != NULL);
	if (!r->is_started || atomic_load_explicit(&r->phase, memory_order_acquire) != HOOK_DONE) {
		return false;
	}
	*result = r->result;
	atomic_store(&r->phase, HOOK_IDLE);
	return true;
}

bool
hook_runner_is_busy(struct hook_runner *r)
{
	int phase = atomic_load(&r->phase);

	return r->is_started && (phase == HOOK_QUEUED || phase == HOOK_RUNNING);
}

int
hook_runner_stop(struct hook_runner *r)
{
	if (!r->is_started) {
		return 0;
	}
	if (hook_runner_is_busy(r)) {
		return -EBUSY;
	}
	ASSERT(pthread_mutex_lock(&r->mu) == 0);
	r->is_exit_requested = true;
	ASSERT(pthread_cond_signal(&r->cv) == 0);
	ASSERT(pthread_mutex_unlock(&r->mu) == 0);
	ASSERT(pthread_join(r->thread, NULL) == 0);
	(void)pthread_cond_destroy(&r->cv);
	(void)pthread_mutex_destroy(&r->mu);
	r->is_started = false;
	return 0;
}

void
hook_runner_abandon(struct hook_runner *r)
{
	if (!r->is_started) {
		return;
	}
	ASSERT(pthread_mutex_lock(&r->mu) == 0);
	r->is_exit_requested = true;
	ASSERT(pthread_cond_signal(&r->cv) == 0);
	ASSERT(pthread_mutex_unlock(&r->mu) == 0);
	/* The thread still uses the runner's memory: the caller must never free it. */
	ASSERT(pthread_detach(r->thread) == 0);
	r->is_started = false;
}

bool
hook_runner_on_hook_thread(void)
{
	return hook_thread_flag;
}
