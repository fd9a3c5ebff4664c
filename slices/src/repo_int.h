/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the repository: what repo_index.c needs from repo.c. */
#ifndef AETHER_SLICES_REPO_INT_H
#define AETHER_SLICES_REPO_INT_H

#include <stdint.h>

#include "slices/repo.h"

/*
 * Opens path (relative to root root_index) for reading with the repository's safe rules
 * (openat2 beneath the root, no symbolic links) plus extra_flags (O_DIRECTORY). Returns the fd
 * (the caller closes it) or a negative errno.
 */
int repo_open_beneath(struct slice_repo *repo, uint32_t root_index, const char *path,
		      int extra_flags);

/*
 * Reads and checks coord's manifest from the first root that has it: sets *root_index and
 * *out. Returns 0, -ENOENT when no root has it, or the refusal (see slices/repo.h, step 2).
 */
int repo_read_manifest(struct slice_repo *repo, const struct slice_coord *coord,
		       uint32_t *root_index, struct slice_manifest *out, struct slice_error *err);

/* Number of roots, and the path of one (for messages). */
uint32_t repo_root_count(const struct slice_repo *repo);
const char *repo_root_path(const struct slice_repo *repo, uint32_t root_index);

#endif /* AETHER_SLICES_REPO_INT_H */
