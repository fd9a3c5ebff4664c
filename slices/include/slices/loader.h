/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seam between the slice runtime and the dynamic linker (STYLE.md section 6): the runtime
 * never calls dlopen itself, it calls a `struct slice_loader_ops`. slice_loader_dl is the real
 * one (src/loader.c, the only file that includes <dlfcn.h>); tests provide their own table to
 * link slices statically and still drive the whole runtime (repository, lifecycle, calls).
 *
 * The real loader:
 *  - open: dlopen("/proc/self/fd/<fd>", RTLD_NOW | RTLD_LOCAL). The fd is a sealed memfd holding
 *    the verified bytes, so what is loaded is exactly what was hashed (no window between check
 *    and load). RTLD_NOW makes an unresolved symbol a load error instead of a crash at the first
 *    call; RTLD_LOCAL keeps the slice's symbols out of the global scope, so two versions of one
 *    slice (each from its own memfd, so a different inode) are two independent objects.
 *  - descriptor: dlsym(SLICE_DEF_SYMBOL) and one call of it. This runs slice code.
 *  - close: dlclose, then reads /proc/self/maps and fails with -EBUSY when a mapping of the
 *    memfd is still there (a slice marked NODELETE, a thread-local destructor, or a symbol
 *    another object bound to): such a slice is reported, never silently kept.
 *
 * glibc matches an already-loaded object by path before it looks at the inode, so the fd number
 * in "/proc/self/fd/<fd>" must stay open (and thus unique) while the object is loaded: the
 * caller keeps the memfd open from open until close returns 0, and keeps it open forever if
 * close fails (the path would otherwise name a different object later).
 *
 * Sanitizers: under clang's ASan and UBSan (clang 14, glibc 2.36) dlclose really unmaps a slice,
 * so the maps check and its tests behave exactly as in a plain build; the slice objects are then
 * instrumented too and resolve the sanitizer runtime from the executable (RTLD_LOCAL does not
 * hide the global scope from the object's own undefined symbols).
 *
 * Context: open, descriptor and close run slice code (ELF constructors and destructors, the
 * descriptor function), so the runtime calls them on its hook thread, never on the control or
 * worker lcores. The dynamic linker serializes them internally; any thread may call them.
 */
#ifndef AETHER_SLICES_LOADER_H
#define AETHER_SLICES_LOADER_H

#include <stdint.h>

#include "aether/slice.h"
#include "base/compiler.h"
#include "slices/error.h"

struct slice_loader_ops {
	void *ctx; /* passed to every member */
	/*
	 * Loads the object whose bytes are in fd (borrowed; a sealed memfd named `name`, the name
	 * the kernel shows in /proc/self/maps as "/memfd:<name> (deleted)"). Sets *handle.
	 * Returns 0, or -ELIBBAD with the dynamic linker's message in err (bad ELF, unresolved
	 * symbol, wrong architecture).
	 */
	int (*open)(void *ctx, int fd, const char *name, void **handle, struct slice_error *err);
	/*
	 * Finds the descriptor function and calls it once. Sets *def (lent until close). Returns
	 * 0, -ENOENT when the object does not export SLICE_DEF_SYMBOL, -EINVAL when it returned
	 * NULL.
	 */
	int (*descriptor)(void *ctx, void *handle, const struct slice_def **def,
			  struct slice_error *err);
	/*
	 * Unloads the object (takes handle, even on failure). Returns 0 once the mapping named
	 * `name` is gone, -EBUSY when it is still mapped after unloading, -ELIBBAD when the
	 * dynamic linker refused.
	 */
	int (*close)(void *ctx, void *handle, const char *name, struct slice_error *err);
};

/* The dlopen-based loader. ctx is unused. */
extern const struct slice_loader_ops slice_loader_dl;

#endif /* AETHER_SLICES_LOADER_H */
