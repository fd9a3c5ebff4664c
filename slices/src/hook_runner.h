/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the runtime: one thread that runs one job at a time for one slice instance, so that
 * slice code outside calls (constructors, descriptor, start, stop, destructors) never runs on the
 * control thread. The control thread posts a job and later takes its result without waiting;
 * the phase is an atomic, so looking costs a load. Only this file pair uses threads.
 */
#ifndef AETHER_SLICES_HOOK_RUNNER_H
#define AETHER_SLICES_HOOK_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

enum hook_phase {
	HOOK_IDLE = 0,
	HOOK_QUEUED = 1,
	HOOK_RUNNING = 2,
	HOOK_DONE = 3,
};

typedef int hook_job_fn(void *arg);

struct hook_runner {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic int phase; /* enum hook_phase */
	hook_job_fn *fn;
	void *arg;
	int result;
	bool is_exit_requested;
	bool is_started;
	char name[16];
};

/* Starts the thread (named `name`, cut to 15 bytes). Returns 0 or a negative errno. */
int hook_runner_start(struct hook_runner *r, const char *name);

/* Posts a job; returns 0, or -EBUSY unless the runner is idle. */
int hook_runner_post(struct hook_runner *r, hook_job_fn *fn, void *arg);

/* When the posted job has finished: sets *result, makes the runner idle, returns true. */
bool hook_runner_take(struct hook_runner *r, int *result);

/* A job is queued or running. */
bool hook_runner_is_busy(struct hook_runner *r);

/*
 * Ends the thread and joins it; the runner must not be busy (-EBUSY otherwise). A runner that
 * was never started is fine.
 */
int hook_runner_stop(struct hook_runner *r);

/* Gives up on a busy runner: detaches its thread (which exits after its job). */
void hook_runner_abandon(struct hook_runner *r);

/* Whether the calling thread is a hook thread (slices may not call or respond from hooks). */
bool hook_runner_on_hook_thread(void);

#endif /* AETHER_SLICES_HOOK_RUNNER_H */
