/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the slice integration tests: temporary repository directories, and artifacts put
 * into them byte by byte with a manifest written by the test (so a test can make the manifest
 * and the bytes disagree in exactly one way). Failures abort the test through cmocka.
 */
#ifndef AETHER_TESTS_SLICE_TEST_UTIL_H
#define AETHER_TESTS_SLICE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"

#define TREPO_PATH_MAX 4096

struct trepo_entry {
	const char *name;
	int is_idempotent;
};

/* Makes a fresh directory /tmp/aether-<tag>-XXXXXX into root (TREPO_PATH_MAX bytes). */
void trepo_make(char *root, const char *tag);

/* Removes root and everything below it (symbolic links are removed, never followed). */
void trepo_remove(const char *root);

/* How many file descriptors this process has open (a leak check around a test). */
int trepo_count_fds(void);

/* Reads a whole file into a malloc'd buffer (*bytes, *size); the caller frees it. */
void trepo_read_file(const char *path, uint8_t **bytes, size_t *size);

/* The path of coord_text's file with suffix under root: root/<group path>/.../<a>-<v><suffix>. */
void trepo_path(const char *root, const char *coord_text, const char *suffix, char *out);

/* Writes bytes as coord_text's .so under root, creating directories. */
void trepo_put_so(const char *root, const char *coord_text, const uint8_t *bytes, size_t size);

/*
 * Writes coord_text's manifest under root: the given size and hash, entries, and dependencies
 * given as pairs of name and pattern text (dep_count pairs in deps[2 * i], deps[2 * i + 1]).
 */
void trepo_put_manifest(const char *root, const char *coord_text, uint64_t size,
			struct base_hash128 hash, const struct trepo_entry *entries,
			size_t entry_count, const char *const *deps, size_t dep_count);

/* Both: the .so from so_path and a manifest that describes those bytes exactly. */
void trepo_put_slice(const char *root, const char *coord_text, const char *so_path,
		     const struct trepo_entry *entries, size_t entry_count);

#endif /* AETHER_TESTS_SLICE_TEST_UTIL_H */
