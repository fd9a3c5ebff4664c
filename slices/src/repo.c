/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The artifact repository (slices/repo.h): the only file of slices/ that uses liburing (the
 * other is env/src/env_posix_uring.c, the storage backend; tests/lint enforces both). Opening goes
 * through io_uring too (openat2 with RESOLVE_*), so the no-symlink rule needs no raw system call.
 */
#include "slices/repo.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "aether/slice.h"
#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/panic.h"
#include "repo_int.h"

/* Linux 6.3 added MFD_EXEC; older headers lack it and older kernels refuse it (EINVAL). */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010u
#endif

#define REPO_CACHE_MAX 256u
#define REPO_DEPTH_MAX 256u
#define REPO_CHUNK_MIN (4u * 1024u)
#define REPO_CHUNK_MAX (16u * 1024u * 1024u)

struct repo_cache_entry {
	bool is_used;
	uint32_t root_index;
	uint64_t last_use;
	int fd; /* sealed memfd holding verified bytes */
	struct slice_manifest manifest;
};

struct slice_repo {
	uint32_t root_count;
	int root_fds[SLICE_REPO_ROOTS_MAX];
	char root_paths[SLICE_REPO_ROOTS_MAX][SLICE_REPO_ROOT_MAX + 1];
	uint64_t artifact_size_max;
	uint32_t chunk_size;
	uint32_t depth;
	uint32_t cache_count_max;
	uint64_t use_clock;
	bool is_ring_broken;
	struct io_uring ring;
	struct repo_cache_entry *cache;
};

/* Unique memfd names per process, so /proc/self/maps can tell instances apart. */
static _Atomic uint64_t repo_memfd_seq;

/* State of one file read: requests are either queued (SQEs not yet submitted) or in the kernel. */
struct repo_read {
	int fd;
	uint8_t *buf;
	uint64_t size;
	uint64_t next;
	uint32_t queued;
	uint32_t in_kernel;
	int rc;
};

static int
repo_config_check(const struct slice_repo_config *cfg, struct slice_error *err)
{
	if (cfg->root_count == 0 || cfg->root_count > SLICE_REPO_ROOTS_MAX) {
		return slice_error_set(err, -EINVAL, "repository: %u roots, want 1..%u",
				       cfg->root_count, SLICE_REPO_ROOTS_MAX);
	}
	for (uint32_t i = 0; i < cfg->root_count; i++) {
		if (cfg->roots[i] == NULL || strlen(cfg->roots[i]) > SLICE_REPO_ROOT_MAX ||
		    cfg->roots[i][0] == '\0') {
			return slice_error_set(err, -EINVAL,
					       "repository: root %u missing or too long", i);
		}
	}
	if (cfg->artifact_size_max > SLICE_MANIFEST_SO_SIZE_MAX) {
		return slice_error_set(err, -EINVAL, "repository: artifact_size_max above 1 GiB");
	}
	if (cfg->cache_count_max > REPO_CACHE_MAX || cfg->read_queue_depth > REPO_DEPTH_MAX) {
		return slice_error_set(err, -EINVAL, "repository: cache or queue depth above %u",
				       REPO_CACHE_MAX);
	}
	if (cfg->read_chunk_size != 0 &&
	    (!base_is_pow2(cfg->read_chunk_size) || cfg->read_chunk_size < REPO_CHUNK_MIN ||
	     cfg->read_chunk_size > REPO_CHUNK_MAX)) {
		return slice_error_set(
			err, -EINVAL,
			"repository: read chunk must be a power of two, 4 KiB..16 MiB");
	}
	return 0;
}

static int
repo_open_roots(struct slice_repo *repo, const struct slice_repo_config *cfg,
		struct slice_error *err)
{
	for (uint32_t i = 0; i < cfg->root_count; i++) {
		int fd = open(cfg->roots[i], O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0) {
			return slice_error_set(err, -errno, "repository root %s: %s", cfg->roots[i],
					       strerror(errno));
		}
		repo->root_fds[i] = fd;
		repo->root_count = i + 1;
		memcpy(repo->root_paths[i], cfg->roots[i], strlen(cfg->roots[i]) + 1);
	}
	return 0;
}

int
slice_repo_create(const struct slice_repo_config *cfg, struct slice_repo **out,
		  struct slice_error *err)
{
	struct slice_repo *repo;
	int rc;

	ASSERT(cfg != NULL);
	ASSERT(out != NULL);
	*out = NULL;
	rc = repo_config_check(cfg, err);
	if (rc < 0) {
		return rc;
	}
	repo = base_alloc(sizeof(*repo));
	if (repo == NULL) {
		return slice_error_set(err, -ENOMEM, "repository: out of memory");
	}
	repo->artifact_size_max = cfg->artifact_size_max != 0 ? cfg->artifact_size_max
							      : SLICE_REPO_ARTIFACT_SIZE_DEFAULT;
	repo->cache_count_max =
		cfg->cache_count_max != 0 ? cfg->cache_count_max : SLICE_REPO_CACHE_DEFAULT;
	repo->chunk_size =
		cfg->read_chunk_size != 0 ? cfg->read_chunk_size : SLICE_REPO_CHUNK_DEFAULT;
	repo->depth = cfg->read_queue_depth != 0 ? cfg->read_queue_depth : SLICE_REPO_DEPTH_DEFAULT;
	repo->cache = base_alloc_array(repo->cache_count_max, sizeof(repo->cache[0]));
	if (repo->cache == NULL) {
		rc = slice_error_set(err, -ENOMEM, "repository: out of memory");
		goto err_free;
	}
	rc = repo_open_roots(repo, cfg, err);
	if (rc < 0) {
		goto err_free;
	}
	rc = io_uring_queue_init(repo->depth, &repo->ring, 0);
	if (rc < 0) {
		rc = slice_error_set(err, rc, "repository: io_uring_queue_init: %s", strerror(-rc));
		goto err_free;
	}
	*out = repo;
	return 0;

err_free:
	slice_repo_destroy(repo);
	return rc;
}

void
slice_repo_destroy(struct slice_repo *repo)
{
	if (repo == NULL) {
		return;
	}
	if (repo->cache != NULL) {
		slice_repo_cache_clear(repo);
		base_free(repo->cache);
	}
	for (uint32_t i = 0; i < repo->root_count; i++) {
		(void)close(repo->root_fds[i]);
	}
	if (repo->ring.ring_fd > 0 && !repo->is_ring_broken) {
		io_uring_queue_exit(&repo->ring);
	}
	base_free(repo);
}

int
slice_repo_path(const struct slice_coord *coord, const char *suffix, char *buf, size_t capacity)
{
	char group[SLICE_GROUP_MAX + 1];
	char version[SLICE_VERSION_TEXT_MAX + 1];
	int n;

	ASSERT(coord != NULL);
	ASSERT(suffix != NULL);
	ASSERT(buf != NULL);
	memcpy(group, coord->name.group, sizeof(group));
	for (char *p = group; *p != '\0'; p++) {
		*p = *p == '.' ? '/' : *p;
	}
	n = slice_version_format(&coord->version, version, sizeof(version));
	ASSERT(n > 0);
	n = snprintf(buf, capacity, "%s/%s/%s/%s-%s%s", group, coord->name.artifact, version,
		     coord->name.artifact, version, suffix);
	if (n < 0 || (size_t)n >= capacity) {
		if (capacity > 0) {
			buf[0] = '\0';
		}
		return -ENOBUFS;
	}
	return n;
}

/* Waits for the one request the ring holds and returns its result. */
static int
repo_ring_wait_one(struct slice_repo *repo)
{
	struct io_uring_cqe *cqe;
	int rc;

	do {
		rc = io_uring_submit_and_wait(&repo->ring, 1);
	} while (rc == -EINTR);
	if (rc < 0) {
		return rc;
	}
	do {
		rc = io_uring_wait_cqe(&repo->ring, &cqe);
	} while (rc == -EINTR);
	if (rc < 0) {
		return rc;
	}
	rc = cqe->res;
	io_uring_cqe_seen(&repo->ring, cqe);
	return rc;
}

int
repo_open_beneath(struct slice_repo *repo, uint32_t root_index, const char *path, int extra_flags)
{
	struct open_how how;
	struct io_uring_sqe *sqe;

	ASSERT(root_index < repo->root_count);
	ASSERT(path != NULL);
	if (repo->is_ring_broken) {
		return -EIO;
	}
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(uint32_t)(O_RDONLY | O_NOFOLLOW | O_CLOEXEC | extra_flags);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	sqe = io_uring_get_sqe(&repo->ring);
	/* The ring is empty between operations, so a slot is always free. */
	ASSERT(sqe != NULL);
	io_uring_prep_openat2(sqe, repo->root_fds[root_index], path, &how);
	return repo_ring_wait_one(repo);
}

uint32_t
repo_root_count(const struct slice_repo *repo)
{
	return repo->root_count;
}

const char *
repo_root_path(const struct slice_repo *repo, uint32_t root_index)
{
	ASSERT(root_index < repo->root_count);
	return repo->root_paths[root_index];
}

/* The operator's words for the refusals an open can produce. */
static const char *
repo_open_reason(int code)
{
	switch (code) {
	case -ELOOP:
		return "is or passes through a symbolic link (refused)";
	case -EXDEV:
		return "resolves outside the repository root (refused)";
	default:
		return strerror(-code);
	}
}

static int
repo_read_all(int fd, char *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, buf + done, size - done, (off_t)done);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		if (n == 0) {
			return -BASE_ERR_TRUNCATED;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Reads, parses and checks one manifest file that is already open. */
static int
repo_parse_manifest_fd(int fd, const struct slice_coord *coord, const char *where,
		       struct slice_manifest *out, struct slice_error *err)
{
	char text[SLICE_MANIFEST_TEXT_MAX];
	struct slice_manifest_error perr;
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0) {
		return slice_error_set(err, -errno, "%s: %s", where, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		return slice_error_set(err, -EINVAL, "%s: not a regular file", where);
	}
	if (st.st_size > (off_t)sizeof(text) || st.st_size == 0) {
		return slice_error_set(err, -EFBIG, "%s: %lld bytes, a manifest has 1..%zu", where,
				       (long long)st.st_size, sizeof(text));
	}
	rc = repo_read_all(fd, text, (size_t)st.st_size);
	if (rc < 0) {
		return slice_error_set(err, rc, "%s: %s", where, base_strerror(rc));
	}
	rc = slice_manifest_parse(text, (size_t)st.st_size, out, &perr);
	if (rc < 0) {
		return slice_error_set(err, -EBADMSG, "%s:%u: %s", where, perr.line,
				       perr.parse.what);
	}
	if (!slice_coord_equal(&out->coord, coord)) {
		return slice_error_set(err, -EBADMSG, "%s: describes another coordinate", where);
	}
	if (out->abi_version != SLICE_ABI_VERSION) {
		return slice_error_set(err, -BASE_ERR_VERSION,
				       "%s: built for slice ABI %u, host has %u", where,
				       out->abi_version, SLICE_ABI_VERSION);
	}
	return 0;
}

int
repo_read_manifest(struct slice_repo *repo, const struct slice_coord *coord, uint32_t *root_index,
		   struct slice_manifest *out, struct slice_error *err)
{
	char path[SLICE_REPO_PATH_MAX + 1];
	char where[SLICE_REPO_ROOT_MAX + SLICE_REPO_PATH_MAX + 2];
	int rc = slice_repo_path(coord, ".manifest", path, sizeof(path));

	ASSERT(rc > 0);
	for (uint32_t i = 0; i < repo->root_count; i++) {
		int fd = repo_open_beneath(repo, i, path, 0);

		(void)snprintf(where, sizeof(where), "%s/%s", repo->root_paths[i], path);
		if (fd == -ENOENT) {
			continue;
		}
		if (fd < 0) {
			return slice_error_set(err, fd, "%s: %s", where, repo_open_reason(fd));
		}
		rc = repo_parse_manifest_fd(fd, coord, where, out, err);
		(void)close(fd);
		*root_index = i;
		return rc;
	}
	return slice_error_set(err, -ENOENT, "%s: not found in any of %u repositories", path,
			       repo->root_count);
}

static void
repo_read_queue(struct slice_repo *repo, struct repo_read *rd, uint64_t off, uint32_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&repo->ring);

	/* At most depth requests exist at once, and the ring has depth entries. */
	ASSERT(sqe != NULL);
	io_uring_prep_read(sqe, rd->fd, rd->buf + off, len, off);
	/* Offsets are below 1 GiB and lengths below 16 MiB: both fit in 32 bits. */
	io_uring_sqe_set_data64(sqe, (off << 32) | len);
	rd->queued++;
}

static void
repo_read_reap(struct slice_repo *repo, struct repo_read *rd)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&repo->ring, &cqe) == 0) {
		uint64_t data = io_uring_cqe_get_data64(cqe);
		uint64_t off = data >> 32;
		uint32_t len = (uint32_t)data;
		int res = cqe->res;

		io_uring_cqe_seen(&repo->ring, cqe);
		ASSERT(rd->in_kernel > 0);
		rd->in_kernel--;
		if (rd->rc != 0) {
			continue;
		}
		if (res < 0) {
			rd->rc = res;
		} else if (res == 0) {
			/* The file ended before the size fstat reported: it shrank under us. */
			rd->rc = -BASE_ERR_TRUNCATED;
		} else if ((uint32_t)res < len) {
			repo_read_queue(repo, rd, off + (uint32_t)res, len - (uint32_t)res);
		}
	}
}

/*
 * io_uring_enter failed for good: wait for what the kernel holds (it still writes into our
 * buffer), then rebuild the ring, because the queued SQEs would otherwise be submitted later
 * with pointers into a buffer that no longer exists.
 */
static int
repo_read_abort(struct slice_repo *repo, struct repo_read *rd, int code)
{
	struct io_uring_cqe *cqe;

	while (rd->in_kernel > 0) {
		if (io_uring_wait_cqe(&repo->ring, &cqe) == 0) {
			io_uring_cqe_seen(&repo->ring, cqe);
			rd->in_kernel--;
		}
	}
	io_uring_queue_exit(&repo->ring);
	if (io_uring_queue_init(repo->depth, &repo->ring, 0) < 0) {
		repo->is_ring_broken = true;
	}
	return code;
}

static int
repo_read_uring(struct slice_repo *repo, int fd, uint8_t *buf, uint64_t size)
{
	struct repo_read rd = {.fd = fd, .buf = buf, .size = size};

	ASSERT(size <= SLICE_MANIFEST_SO_SIZE_MAX);
	while (rd.in_kernel + rd.queued > 0 || (rd.rc == 0 && rd.next < size)) {
		int n;

		while (rd.rc == 0 && rd.next < size && rd.in_kernel + rd.queued < repo->depth) {
			uint32_t len = (uint32_t)base_min_size(repo->chunk_size, size - rd.next);

			repo_read_queue(repo, &rd, rd.next, len);
			rd.next += len;
		}
		n = io_uring_submit_and_wait(&repo->ring, 1);
		if (n == -EINTR) {
			continue;
		}
		if (n < 0) {
			return repo_read_abort(repo, &rd, n);
		}
		rd.queued -= (uint32_t)n;
		rd.in_kernel += (uint32_t)n;
		repo_read_reap(repo, &rd);
	}
	return rd.rc;
}

/* A new memfd of size bytes with a unique name, not yet sealed. */
static int
repo_memfd_new(const struct slice_coord *coord, uint64_t size, char *name, size_t name_size)
{
	char version[SLICE_VERSION_TEXT_MAX + 1];
	uint64_t seq = atomic_fetch_add(&repo_memfd_seq, 1) + 1;
	int fd;

	if (slice_version_format(&coord->version, version, sizeof(version)) < 0) {
		PANIC("a parsed version always formats");
	}
	(void)snprintf(name, name_size, "aether-slice#%llu:%s-%s", (unsigned long long)seq,
		       coord->name.artifact, version);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL) {
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	}
	if (fd < 0) {
		return -errno;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		int code = -errno;

		(void)close(fd);
		return code;
	}
	return fd;
}

/*
 * Copies size bytes from src into a new memfd through io_uring, verifies their hash against the
 * manifest and seals the memfd. Fills out->fd and out->memfd_name.
 */
static int
repo_copy_verify(struct slice_repo *repo, int src, const struct slice_manifest *m,
		 const char *where, struct slice_artifact *out, struct slice_error *err)
{
	struct base_hash128 got = {0, 0};
	uint8_t *map;
	int fd;
	int rc;

	fd = repo_memfd_new(&m->coord, m->size, out->memfd_name, sizeof(out->memfd_name));
	if (fd < 0) {
		return slice_error_set(err, fd, "%s: memfd: %s", where, strerror(-fd));
	}
	map = mmap(NULL, (size_t)m->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		rc = slice_error_set(err, -errno, "%s: mmap: %s", where, strerror(errno));
		goto err_close;
	}
	rc = repo_read_uring(repo, src, map, m->size);
	if (rc == 0) {
		got = base_hash128(map, (size_t)m->size);
	}
	(void)munmap(map, (size_t)m->size);
	if (rc < 0) {
		rc = slice_error_set(err, rc, "%s: read: %s", where, base_strerror(rc));
		goto err_close;
	}
	if (!base_hash128_equal(got, m->xxh3_128)) {
		char want_hex[BASE_HASH128_HEX_SIZE];
		char got_hex[BASE_HASH128_HEX_SIZE];

		base_hash128_hex(m->xxh3_128, want_hex);
		base_hash128_hex(got, got_hex);
		rc = slice_error_set(err, -BASE_ERR_CHECKSUM,
				     "%s: XXH3-128 %s does not match the manifest's %s (refused)",
				     where, got_hex, want_hex);
		goto err_close;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		rc = slice_error_set(err, -errno, "%s: sealing the memfd: %s", where,
				     strerror(errno));
		goto err_close;
	}
	out->fd = fd;
	return 0;

err_close:
	(void)close(fd);
	return rc;
}

/* Step 3 of the contract: what fstat must say about the opened .so. */
static int
repo_check_so(const struct slice_repo *repo, int fd, const struct slice_manifest *m,
	      const char *where, struct slice_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		return slice_error_set(err, -errno, "%s: %s", where, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		return slice_error_set(err, -EINVAL, "%s: not a regular file (refused)", where);
	}
	if ((uint64_t)st.st_size > repo->artifact_size_max) {
		return slice_error_set(
			err, -EFBIG, "%s: %lld bytes, above the repository limit of %llu (refused)",
			where, (long long)st.st_size, (unsigned long long)repo->artifact_size_max);
	}
	if ((uint64_t)st.st_size < m->size) {
		return slice_error_set(
			err, -BASE_ERR_TRUNCATED,
			"%s: %lld bytes, the manifest says %llu: truncated (refused)", where,
			(long long)st.st_size, (unsigned long long)m->size);
	}
	if ((uint64_t)st.st_size > m->size) {
		return slice_error_set(err, -EBADMSG,
				       "%s: %lld bytes, the manifest says %llu (refused)", where,
				       (long long)st.st_size, (unsigned long long)m->size);
	}
	return 0;
}

static void
repo_cache_insert(struct slice_repo *repo, const struct slice_artifact *art)
{
	struct repo_cache_entry *victim = &repo->cache[0];

	for (uint32_t i = 0; i < repo->cache_count_max; i++) {
		struct repo_cache_entry *e = &repo->cache[i];

		if (!e->is_used) {
			victim = e;
			break;
		}
		if (e->last_use < victim->last_use) {
			victim = e;
		}
	}
	if (victim->is_used) {
		(void)close(victim->fd);
		victim->is_used = false;
	}
	/* The cache keeps its own reference to the sealed bytes; no cache is no error. */
	victim->fd = fcntl(art->fd, F_DUPFD_CLOEXEC, 0);
	if (victim->fd < 0) {
		return;
	}
	victim->is_used = true;
	victim->root_index = art->root_index;
	victim->last_use = ++repo->use_clock;
	victim->manifest = art->manifest;
}

static struct repo_cache_entry *
repo_cache_find(struct slice_repo *repo, const struct slice_coord *coord)
{
	for (uint32_t i = 0; i < repo->cache_count_max; i++) {
		struct repo_cache_entry *e = &repo->cache[i];

		if (e->is_used && slice_coord_equal(&e->manifest.coord, coord)) {
			e->last_use = ++repo->use_clock;
			return e;
		}
	}
	return NULL;
}

static int
repo_fetch_file(struct slice_repo *repo, const struct slice_coord *coord,
		struct slice_artifact *out, struct slice_error *err)
{
	char path[SLICE_REPO_PATH_MAX + 1];
	char where[SLICE_REPO_ROOT_MAX + SLICE_REPO_PATH_MAX + 2];
	int fd;
	int rc;

	rc = repo_read_manifest(repo, coord, &out->root_index, &out->manifest, err);
	if (rc < 0) {
		return rc;
	}
	rc = slice_repo_path(coord, ".so", path, sizeof(path));
	ASSERT(rc > 0);
	(void)snprintf(where, sizeof(where), "%s/%s", repo->root_paths[out->root_index], path);
	fd = repo_open_beneath(repo, out->root_index, path, 0);
	if (fd < 0) {
		return slice_error_set(err, fd, "%s: %s", where, repo_open_reason(fd));
	}
	rc = repo_check_so(repo, fd, &out->manifest, where, err);
	if (rc == 0) {
		rc = repo_copy_verify(repo, fd, &out->manifest, where, out, err);
	}
	(void)close(fd);
	if (rc == 0) {
		repo_cache_insert(repo, out);
	}
	return rc;
}

int
slice_repo_fetch(struct slice_repo *repo, const struct slice_coord *coord,
		 struct slice_artifact *out, struct slice_error *err)
{
	struct repo_cache_entry *hit;

	ASSERT(repo != NULL);
	ASSERT(coord != NULL);
	ASSERT(out != NULL);
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (repo->is_ring_broken) {
		return slice_error_set(err, -EIO,
				       "repository: the io_uring ring could not be rebuilt");
	}
	hit = repo_cache_find(repo, coord);
	if (hit == NULL) {
		return repo_fetch_file(repo, coord, out, err);
	}
	out->manifest = hit->manifest;
	out->root_index = hit->root_index;
	out->is_from_cache = true;
	return repo_copy_verify(repo, hit->fd, &hit->manifest, "cached artifact", out, err);
}

void
slice_repo_cache_clear(struct slice_repo *repo)
{
	ASSERT(repo != NULL);
	for (uint32_t i = 0; i < repo->cache_count_max; i++) {
		if (repo->cache[i].is_used) {
			(void)close(repo->cache[i].fd);
			repo->cache[i].is_used = false;
		}
	}
}

uint32_t
slice_repo_cache_count(const struct slice_repo *repo)
{
	uint32_t n = 0;

	ASSERT(repo != NULL);
	for (uint32_t i = 0; i < repo->cache_count_max; i++) {
		n += repo->cache[i].is_used ? 1u : 0u;
	}
	return n;
}
