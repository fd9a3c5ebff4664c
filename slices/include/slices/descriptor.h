/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks a slice's descriptor (struct slice_def from aether/slice.h) before the host uses any of
 * it, and copies what the host needs into host memory. The host loader and the packaging tool
 * (aether-pack) run the same check, so a slice that packs also loads.
 *
 * A descriptor comes from a loaded shared object: it is input, never trusted, and a bad one is
 * an operating error (never an assertion). The check reads the header fields first and stops at
 * the first mismatch, so a slice built against another ABI is refused before any pointer in it
 * is followed:
 *   1. abi_version == SLICE_ABI_VERSION                      else -BASE_ERR_VERSION
 *   2. def_size, method_size, dependency_size equal this host's sizeof   else -BASE_ERR_VERSION
 *   3. host_size <= sizeof(struct slice_host) (the slice may use members this host lacks
 *      otherwise)                                            else -BASE_ERR_VERSION
 *   4. coordinates parse (slices/coord.h), method_count in 1..SLICE_METHODS_MAX, every method
 *      has a unique name in the manifest's method grammar and a handler, is_idempotent is 0 or 1,
 * reserved is 0; dependencies parse as name + version pattern; counter names valid; arena_size
 * within arena_size_max                                        else -EINVAL (or -EFBIG for arena)
 * Strings are read with a bound (strnlen), so a missing NUL is refused, not overrun.
 *
 * Pure apart from reading the descriptor; any thread; O(methods^2 + strings).
 */
#ifndef AETHER_SLICES_DESCRIPTOR_H
#define AETHER_SLICES_DESCRIPTOR_H

#include <stdint.h>

#include "aether/slice.h"
#include "base/compiler.h"
#include "slices/coord.h"
#include "slices/error.h"

/* What the host keeps from a checked descriptor (plain data, no pointers into the slice). */
struct slice_descriptor {
	struct slice_coord coord;
	uint32_t method_count;
	uint32_t dependency_count;
	uint32_t counter_count;
	uint64_t arena_size;
	struct slice_name dependency_names[SLICE_DEPENDENCIES_MAX];
	struct slice_version_pattern dependency_patterns[SLICE_DEPENDENCIES_MAX];
	char method_names[SLICE_METHODS_MAX][SLICE_METHOD_NAME_MAX + 1];
	uint8_t method_is_idempotent[SLICE_METHODS_MAX];
};

/*
 * Checks def (borrowed; may be NULL, which is refused) as above and fills *out (caller memory;
 * its contents are unspecified after a failure). Returns 0, -BASE_ERR_VERSION, -EINVAL or -EFBIG,
 * with the reason in err (a sentence naming the field, e.g. "method 2 has no handler").
 */
AE_MUST_CHECK int slice_descriptor_check(const struct slice_def *def, uint64_t arena_size_max,
					 struct slice_descriptor *out, struct slice_error *err);

/*
 * The index of the method called `name` (NUL-terminated, borrowed) in a checked descriptor, or
 * -ENOSYS. name NULL picks the only method of a lean slice (-ENOSYS when there are several).
 */
AE_MUST_CHECK int slice_descriptor_method(const struct slice_descriptor *d, const char *name,
					  uint32_t *index);

#endif /* AETHER_SLICES_DESCRIPTOR_H */
