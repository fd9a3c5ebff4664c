/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The artifact repository: finds a slice's `.so` and manifest in one of several repository
 * directories, reads it with io_uring, verifies it, and hands out a sealed in-memory copy to load
 * from (ARCHITECTURE.md section 5, "Artifact IO").
 *
 * Layout (Maven-like), under each root:
 *   <group with '.' as '/'>/<artifact>/<version>/<artifact>-<version>.so
 *   <group with '.' as '/'>/<artifact>/<version>/<artifact>-<version>.manifest
 * e.g. org/example/greeter/1.0.0/greeter-1.0.0.so. The manifest format is slices/manifest.h.
 *
 * Roots are searched in the order given (the local directory first, then others): the first
 * root that HAS the artifact's manifest decides. An artifact that is present but bad in an
 * earlier root is refused; it is never skipped in favour of a later root, because silently
 * loading another copy would hide the corruption from the operator.
 *
 * What fetch does, and what it refuses (each with its own code and a one-line reason naming the
 * coordinate and the file):
 *  1. Opens the manifest and the .so relative to the root with openat2 (an io_uring request)
 *     with O_NOFOLLOW | O_CLOEXEC and RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 *     RESOLVE_NO_MAGICLINKS: a symbolic link anywhere below the root, or a path escaping it, is
 *     refused (-ELOOP / -EXDEV). The manifest must be a regular file of at most
 *     SLICE_MANIFEST_TEXT_MAX bytes (-EINVAL / -EFBIG).
 *  2. The manifest must parse and name exactly the requested coordinate (-EBADMSG), with the
 *     ABI this host speaks (-BASE_ERR_VERSION).
 *  3. fstat of the opened .so: a regular file (-EINVAL otherwise), not above artifact_size_max
 *     (-EFBIG, before any byte is read), and exactly the manifest's size (-BASE_ERR_TRUNCATED
 *     when shorter, -EBADMSG when longer).
 *  4. Reads the file with up to read_queue_depth io_uring reads of read_chunk_size bytes in
 *     flight, straight into a new memfd (memfd_create with MFD_ALLOW_SEALING) mapped for
 *     writing; a file that ends early is -BASE_ERR_TRUNCATED.
 *  5. Hashes exactly those bytes (XXH3-128) and compares with the manifest (-BASE_ERR_CHECKSUM).
 *  6. Unmaps the buffer and seals the memfd (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
 *     F_SEAL_WRITE): from then on nobody, this process included, can change those bytes, so the
 *     object the loader maps is the object that was verified.
 * -ENOENT means no root has the manifest; other negative errno values come from the OS.
 *
 * Cache: a verified artifact is remembered (its sealed memfd and manifest) for the coordinate,
 * at most cache_count_max of them, least recently used first out. A later fetch of the same
 * coordinate copies the cached bytes into a fresh sealed memfd and verifies the copy's hash
 * again (cheap, and every fd handed out has been hashed where it lives) without touching the
 * directories. Artifacts are immutable once published (a version is never rebuilt in place);
 * slice_repo_cache_clear forgets everything for operators who broke that rule.
 *
 * Every fetch returns a NEW memfd with a unique name ("aether-slice#<n>:<artifact>-<version>",
 * n counting up per process), so each loaded instance is its own object in the dynamic linker
 * and its mapping can be found in /proc/self/maps (slices/maps.h).
 *
 * Context: one thread (the control thread) owns a repository; fetch blocks that thread for the
 * IO (local files: well under a millisecond for a small .so). create and destroy at startup and
 * shutdown; create allocates everything (the ring, the cache table).
 */
#ifndef AETHER_SLICES_REPO_H
#define AETHER_SLICES_REPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "slices/coord.h"
#include "slices/error.h"
#include "slices/manifest.h"
#include "slices/resolver.h"

#define SLICE_REPO_ROOTS_MAX 8u
/* Longest root path, without NUL. */
#define SLICE_REPO_ROOT_MAX  1024u
/* Longest path of an artifact file below a root, without NUL. */
#define SLICE_REPO_PATH_MAX \
	(2u * SLICE_GROUP_MAX + 2u * SLICE_ARTIFACT_MAX + 2u * SLICE_VERSION_TEXT_MAX + 16u)
/* Longest memfd name (the kernel allows 249 bytes), without NUL. */
#define SLICE_MEMFD_NAME_MAX 200u

#define SLICE_REPO_ARTIFACT_SIZE_DEFAULT (UINT64_C(64) << 20)
#define SLICE_REPO_CACHE_DEFAULT         16u
#define SLICE_REPO_CHUNK_DEFAULT         (64u * 1024u)
#define SLICE_REPO_DEPTH_DEFAULT         8u

struct slice_repo_config {
	const char *roots[SLICE_REPO_ROOTS_MAX]; /* borrowed during create; searched in order */
	uint32_t root_count;                     /* 1..SLICE_REPO_ROOTS_MAX */
	uint64_t artifact_size_max; /* 0: SLICE_REPO_ARTIFACT_SIZE_DEFAULT; at most 1 GiB */
	uint32_t cache_count_max;   /* 0: SLICE_REPO_CACHE_DEFAULT; 1..256 */
	uint32_t read_chunk_size;   /* 0: SLICE_REPO_CHUNK_DEFAULT; 4 KiB..16 MiB, power of two */
	uint32_t read_queue_depth;  /* 0: SLICE_REPO_DEPTH_DEFAULT; 1..256 */
};

struct slice_repo;

/* A verified artifact, ready to load. */
struct slice_artifact {
	int fd; /* sealed memfd; the caller owns it (close it) */
	char memfd_name[SLICE_MEMFD_NAME_MAX + 1];
	struct slice_manifest manifest;
	uint32_t root_index; /* the root it came from (the original fetch's, for a cache hit) */
	bool is_from_cache;
};

/*
 * Opens every root (each must be an existing directory) and sets up the io_uring ring and the
 * cache. Returns 0 and *out, or: -EINVAL for a bad config value (named in err); -ENOENT or
 * -ENOTDIR for a root; -ENOMEM; a negative errno from io_uring_queue_init (-ENOSYS, -EPERM
 * when io_uring is disabled).
 */
AE_MUST_CHECK int slice_repo_create(const struct slice_repo_config *cfg, struct slice_repo **out,
				    struct slice_error *err);

/* Closes the roots, the ring and every cached memfd (takes repo). NULL is allowed. */
void slice_repo_destroy(struct slice_repo *repo);

/*
 * Fetches and verifies coord (see the top of this file). On success fills *out (caller memory)
 * and returns 0; the caller closes out->fd. On failure *out->fd is -1 and nothing stays open.
 */
AE_MUST_CHECK int slice_repo_fetch(struct slice_repo *repo, const struct slice_coord *coord,
				   struct slice_artifact *out, struct slice_error *err);

/* Forgets every cached artifact. */
void slice_repo_cache_clear(struct slice_repo *repo);

/* How many artifacts the cache holds. */
uint32_t slice_repo_cache_count(const struct slice_repo *repo);

/*
 * Writes the path of coord's file below a root, "<group path>/<artifact>/<version>/
 * <artifact>-<version><suffix>" (suffix ".so" or ".manifest", borrowed), and a NUL into buf.
 * Returns the length, or -ENOBUFS. Pure; any thread.
 */
AE_MUST_CHECK int slice_repo_path(const struct slice_coord *coord, const char *suffix, char *buf,
				  size_t capacity);

/*
 * The repository as a resolver index (slices/resolver.h): list_versions lists the version
 * directories of a name across all roots (without duplicates; a directory whose name is not a
 * version is ignored), get_manifest reads and parses a manifest from the first root holding it.
 * The manifests live in the caller's struct slice_repo_index (about 0.6 MiB: allocate it, do not
 * put it on a stack) and stay valid until the index is initialized or used to resolve again.
 */
struct slice_repo_index {
	struct slice_repo *repo;
	uint32_t count;
	struct slice_manifest manifests[SLICE_RESOLVE_NODES_MAX];
};

void slice_repo_index_init(struct slice_repo_index *index, struct slice_repo *repo);

extern const struct slice_index_ops slice_repo_index_ops;

/*
 * Resolves name at the highest version matching pattern, with its dependencies, against the
 * repository (slice_resolve_pattern over slice_repo_index_ops). index (initialized) is emptied
 * first and then holds the manifests out points at; out and err as in slices/resolver.h.
 */
AE_MUST_CHECK int slice_repo_resolve(struct slice_repo_index *index, const struct slice_name *name,
				     const struct slice_version_pattern *pattern,
				     struct slice_resolution *out, struct slice_resolve_error *err);

#endif /* AETHER_SLICES_REPO_H */
