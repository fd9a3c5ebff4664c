/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Assertions for programmer errors (STYLE.md section 4).
 *
 * ASSERT(x) stays compiled in every build type (the project sets b_ndebug=false and these macros
 * do not depend on NDEBUG anyway). DEBUG_ASSERT(x) is for O(n) checks and compiles away when
 * AE_NO_DEBUG_ASSERT is defined. PANIC(fmt, ...) prints file and line and aborts.
 *
 * Never assert on data from outside the process: bad input is an operating error that returns a
 * negative errno. Any context may call these.
 */
#ifndef AETHER_BASE_PANIC_H
#define AETHER_BASE_PANIC_H

#include "base/compiler.h"

/* Prints "file:line: panic: <message>" to stderr, flushes, and aborts. */
AE_NORETURN void base_panic(const char *file, int line, const char *fmt, ...) AE_PRINTF(3, 4);

#define PANIC(...) base_panic(__FILE__, __LINE__, __VA_ARGS__)

#define ASSERT(x)                                                                   \
	do {                                                                        \
		if (AE_UNLIKELY(!(x))) {                                            \
			base_panic(__FILE__, __LINE__, "assertion failed: %s", #x); \
		}                                                                   \
	} while (0)

#ifdef AE_NO_DEBUG_ASSERT
#define DEBUG_ASSERT(x) \
	do {            \
	} while (0)
#else
#define DEBUG_ASSERT(x) ASSERT(x)
#endif

#endif /* AETHER_BASE_PANIC_H */
