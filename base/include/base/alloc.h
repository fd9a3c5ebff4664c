/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The project's heap allocator front: every startup allocation goes through base_alloc so that
 *  - after base_alloc_seal() any allocation PANICs (STYLE.md section 5: allocate at init, then
 *    run without growing), and
 *  - tests can fail the N-th allocation (base_alloc_fail_at) to prove that every init path
 *    cleans up after itself (the SQLite/raft fault loop).
 *
 * The counters are process-wide and meant for the control thread during init and for tests;
 * they are not synchronized.
 */
#ifndef AETHER_BASE_ALLOC_H
#define AETHER_BASE_ALLOC_H

#include <stddef.h>

#include "base/compiler.h"

/* Zeroed memory, or NULL (out of memory, or the injected failure). PANICs on a sealed heap. */
void *base_alloc(size_t size);
/* Zeroed array of count * size bytes; NULL on overflow. */
void *base_alloc_array(size_t count, size_t size);
void base_free(void *ptr);

/*
 * After this, base_alloc PANICs; base_free stays allowed (drain/fini frees after the seal).
 * base_alloc_unseal exists for tests only.
 */
void base_alloc_seal(void);
void base_alloc_unseal(void);

/*
 * Fault injection: the n-th base_alloc call from now (1-based) returns NULL; 0 disables.
 * Returns nothing; base_alloc_injected() says whether the failure fired.
 */
void base_alloc_fail_at(unsigned long n);
int base_alloc_injected(void);
/* Allocations minus frees made through base_alloc since process start. */
long base_alloc_live(void);

#endif /* AETHER_BASE_ALLOC_H */
