/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Is a memfd still mapped into this process? The loader answers that after dlclose by reading
 * /proc/self/maps, where the kernel shows a memfd mapping as "/memfd:<name> (deleted)": the
 * slice runtime gives every loaded instance a memfd with a unique name (aether-slice#<seq>:...),
 * so a leftover line proves that dlclose did not unmap the slice.
 *
 * The text scan is pure (unit-tested on captured maps text); slice_maps_has_memfd does the IO.
 */
#ifndef AETHER_SLICES_MAPS_H
#define AETHER_SLICES_MAPS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/compiler.h"
#include "slices/error.h"

/*
 * Whether one line of /proc/<pid>/maps (line_size bytes, no newline needed; borrowed) maps the
 * memfd called name (NUL-terminated; borrowed): its path is exactly "/memfd:<name>", optionally
 * followed by " (deleted)". A name that is a prefix of another does not match it.
 */
bool slice_maps_line_has_memfd(const char *line, size_t line_size, const char *name);

/* The same for a whole maps text of size bytes: whether any line matches. */
bool slice_maps_text_has_memfd(const char *text, size_t size, const char *name);

/*
 * Reads /proc/self/maps and sets *found. Returns 0, or a negative errno (with text in err) when
 * the file cannot be read. Cost: one pass over the maps (a few hundred lines; thousands under
 * ASan); control or hook thread only.
 */
AE_MUST_CHECK int slice_maps_has_memfd(const char *name, bool *found, struct slice_error *err);

#endif /* AETHER_SLICES_MAPS_H */
