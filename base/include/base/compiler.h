/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compiler helpers shared by every module.
 *
 * AE_MUST_CHECK marks every public function that returns an operating error (0 or a negative
 * errno): ignoring the result is a compile error under -Werror.
 */
#ifndef AETHER_BASE_COMPILER_H
#define AETHER_BASE_COMPILER_H

#include <stddef.h>

#define AE_MUST_CHECK                    __attribute__((warn_unused_result))
#define AE_UNUSED                        __attribute__((unused))
#define AE_NORETURN                      _Noreturn
#define AE_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))

#define AE_LIKELY(x)   __builtin_expect(!!(x), 1)
#define AE_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Number of elements of a true array (not a pointer). */
#define AE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The smaller / larger of two values of the same type, each evaluated once. */
static inline size_t
base_min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static inline size_t
base_max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* True when x is a non-zero power of two. */
static inline int
base_is_pow2(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

#endif /* AETHER_BASE_COMPILER_H */
