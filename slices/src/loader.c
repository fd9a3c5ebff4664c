/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dlopen-based slice loader: the only file in the project that includes <dlfcn.h>
 * (ARCHITECTURE.md section 3). See slices/loader.h for the contract.
 */
#include "slices/loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/panic.h"
#include "slices/maps.h"

/* dlerror() text, or a fallback: the dynamic linker's message is the clearest reason. */
static const char *
loader_dlerror(void)
{
	const char *text = dlerror();

	return text != NULL ? text : "unknown dynamic linker error";
}

static int
loader_dl_open(void *ctx, int fd, const char *name, void **handle, struct slice_error *err)
{
	char path[64];
	void *dl;

	(void)ctx;
	ASSERT(fd >= 0);
	ASSERT(name != NULL);
	ASSERT(handle != NULL);
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		return slice_error_set(err, -ELIBBAD, "%s: cannot load: %s", name,
				       loader_dlerror());
	}
	*handle = dl;
	return 0;
}

static int
loader_dl_descriptor(void *ctx, void *handle, const struct slice_def **def, struct slice_error *err)
{
	slice_def_fn *fn;
	void *sym;

	(void)ctx;
	ASSERT(handle != NULL);
	ASSERT(def != NULL);
	(void)dlerror();
	sym = dlsym(handle, SLICE_DEF_SYMBOL);
	if (sym == NULL) {
		return slice_error_set(err, -ENOENT, "does not export %s: %s", SLICE_DEF_SYMBOL,
				       loader_dlerror());
	}
	/* POSIX guarantees that a dlsym result converts to a function pointer. */
	memcpy(&fn, &sym, sizeof(fn));
	*def = fn();
	if (*def == NULL) {
		return slice_error_set(err, -EINVAL, "%s returned NULL", SLICE_DEF_SYMBOL);
	}
	return 0;
}

static int
loader_dl_close(void *ctx, void *handle, const char *name, struct slice_error *err)
{
	bool is_mapped = false;
	int rc;

	(void)ctx;
	ASSERT(handle != NULL);
	ASSERT(name != NULL);
	if (dlclose(handle) != 0) {
		return slice_error_set(err, -ELIBBAD, "%s: dlclose failed: %s", name,
				       loader_dlerror());
	}
	rc = slice_maps_has_memfd(name, &is_mapped, err);
	if (rc < 0) {
		return rc;
	}
	if (is_mapped) {
		return slice_error_set(err, -EBUSY,
				       "%s: still mapped after dlclose (NODELETE, TLS destructor "
				       "or a symbol bound by another object)",
				       name);
	}
	return 0;
}

const struct slice_loader_ops slice_loader_dl = {
	.ctx = NULL,
	.open = loader_dl_open,
	.descriptor = loader_dl_descriptor,
	.close = loader_dl_close,
};
