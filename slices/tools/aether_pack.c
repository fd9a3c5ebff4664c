/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aether-pack: packages a built slice into a repository (docs/slice-authors.md).
 *
 * The manifest is written from the slice's own descriptor, read by loading the exact bytes that
 * are hashed (from a sealed memfd, through the host's loader) and checked by the host's own
 * descriptor check, so a manifest can never disagree with its binary and a slice that packs is a
 * slice the host accepts. Files are installed by writing a temporary file and renaming it, the
 * .so before the manifest: a reader that finds a manifest always finds its complete .so.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aether/slice.h"
#include "base/err.h"
#include "base/hash.h"
#include "slices/descriptor.h"
#include "slices/error.h"
#include "slices/loader.h"
#include "slices/manifest.h"

#define PACK_PATH_MAX 4096

struct pack {
	const char *so_path;
	const char *repo;
	const char *stamp;
	bool is_print;
	uint8_t *bytes;
	size_t size;
	struct base_hash128 hash;
	struct slice_descriptor desc;
	struct slice_manifest manifest;
	char text[SLICE_MANIFEST_TEXT_MAX + 1];
	size_t text_size;
};

static const char usage[] =
	"usage: aether-pack [--repo DIR] [--print] [--stamp FILE] SLICE.so\n"
	"\n"
	"Loads SLICE.so the way the Aether host does, checks its descriptor (aether/slice.h),\n"
	"computes its size and XXH3-128, writes its manifest, and installs both into the\n"
	"repository DIR in Maven layout:\n"
	"  DIR/<group as path>/<artifact>/<version>/<artifact>-<version>.so\n"
	"  DIR/<group as path>/<artifact>/<version>/<artifact>-<version>.manifest\n"
	"\n"
	"  --repo DIR     repository root (created when missing)\n"
	"  --print        print the manifest on standard output\n"
	"  --stamp FILE   after installing, write FILE (a build-system output)\n"
	"  --help         this text\n"
	"\n"
	"Exit status: 0 done, 1 the slice or the repository was refused (one line on stderr),\n"
	"2 bad usage.\n";

static int
pack_fail(const char *what, const char *why)
{
	fprintf(stderr, "aether-pack: %s: %s\n", what, why);
	return 1;
}

static int
pack_read_so(struct pack *p)
{
	struct stat st;
	int fd = open(p->so_path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		return pack_fail(p->so_path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > SLICE_MANIFEST_SO_SIZE_MAX) {
		(void)close(fd);
		return pack_fail(p->so_path, "not a regular file of 1 byte to 1 GiB");
	}
	p->size = (size_t)st.st_size;
	p->bytes = malloc(p->size);
	for (size_t done = 0; rc == 0 && p->bytes != NULL && done < p->size;) {
		ssize_t n = pread(fd, p->bytes + done, p->size - done, (off_t)done);

		if (n <= 0) {
			rc = pack_fail(p->so_path,
				       n < 0 ? strerror(errno) : "file shrank while read");
		}
		done += n > 0 ? (size_t)n : 0;
	}
	(void)close(fd);
	if (p->bytes == NULL) {
		return pack_fail(p->so_path, "out of memory");
	}
	p->hash = base_hash128(p->bytes, p->size);
	return rc;
}

/* A sealed memfd with exactly the hashed bytes: what is loaded is what is described. */
static int
pack_memfd(const struct pack *p, char *name, size_t name_size)
{
	int fd;

	(void)snprintf(name, name_size, "aether-pack#%ld", (long)getpid());
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		return -errno;
	}
	for (size_t done = 0; done < p->size;) {
		ssize_t n = write(fd, p->bytes + done, p->size - done);

		if (n < 0) {
			int code = -errno;

			(void)close(fd);
			return code;
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
		int code = -errno;

		(void)close(fd);
		return code;
	}
	return fd;
}

static int
pack_build_manifest(struct pack *p)
{
	const struct slice_descriptor *d = &p->desc;
	int rc;

	slice_manifest_init(&p->manifest, &d->coord, SLICE_ABI_VERSION, p->size, p->hash);
	for (uint32_t i = 0; i < d->method_count; i++) {
		rc = slice_manifest_add_entry(&p->manifest, d->method_names[i],
					      strlen(d->method_names[i]),
					      d->method_is_idempotent[i]);
		if (rc < 0) {
			return pack_fail(d->method_names[i], base_strerror(rc));
		}
	}
	for (uint32_t i = 0; i < d->dependency_count; i++) {
		rc = slice_manifest_add_dep(&p->manifest, &d->dependency_names[i],
					    &d->dependency_patterns[i]);
		if (rc < 0) {
			return pack_fail(d->dependency_names[i].artifact,
					 rc == -EINVAL ? "a slice cannot depend on itself"
						       : "dependency named twice");
		}
	}
	rc = slice_manifest_format(&p->manifest, p->text, sizeof(p->text));
	if (rc < 0) {
		return pack_fail(p->so_path, "manifest does not fit");
	}
	p->text_size = (size_t)rc;
	return 0;
}

/* Loads the slice through the host loader and checks its descriptor like the host. */
static int
pack_describe(struct pack *p)
{
	const struct slice_loader_ops *ld = &slice_loader_dl;
	const struct slice_def *def = NULL;
	struct slice_error err;
	char name[64];
	void *handle = NULL;
	int fd = pack_memfd(p, name, sizeof(name));
	int rc;

	if (fd < 0) {
		return pack_fail("memfd", strerror(-fd));
	}
	rc = ld->open(ld->ctx, fd, name, &handle, &err);
	if (rc == 0) {
		rc = ld->descriptor(ld->ctx, handle, &def, &err);
	}
	if (rc == 0) {
		rc = slice_descriptor_check(def, UINT64_MAX, &p->desc, &err);
	}
	if (handle != NULL && ld->close(ld->ctx, handle, name, rc == 0 ? &err : NULL) < 0 &&
	    rc == 0) {
		rc = -EBUSY;
	}
	(void)close(fd);
	if (rc < 0) {
		return pack_fail(p->so_path, err.text);
	}
	return pack_build_manifest(p);
}

/* mkdir -p for the directories of path (the last component is a file). */
static int
pack_mkdirs(char *path)
{
	for (char *s = strchr(path + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int code = -errno;

			*s = '/';
			return code;
		}
		*s = '/';
	}
	return 0;
}

/* Writes bytes to path through a temporary file and a rename (atomic for readers). */
static int
pack_write_file(const char *path, const void *bytes, size_t size)
{
	char tmp[PACK_PATH_MAX + 32];
	int fd;
	size_t done = 0;

	(void)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		return pack_fail(tmp, strerror(errno));
	}
	while (done < size) {
		ssize_t n = write(fd, (const uint8_t *)bytes + done, size - done);

		if (n < 0) {
			(void)close(fd);
			(void)unlink(tmp);
			return pack_fail(tmp, strerror(errno));
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		(void)unlink(tmp);
		return pack_fail(path, strerror(errno));
	}
	return 0;
}

static int
pack_install(struct pack *p)
{
	char path[PACK_PATH_MAX];
	char version[SLICE_VERSION_TEXT_MAX + 1];
	char group[SLICE_GROUP_MAX + 1];
	const struct slice_coord *c = &p->desc.coord;
	int n;
	int rc;

	memcpy(group, c->name.group, sizeof(group));
	for (char *s = group; *s != '\0'; s++) {
		*s = *s == '.' ? '/' : *s;
	}
	if (slice_version_format(&c->version, version, sizeof(version)) < 0) {
		return pack_fail(p->so_path, "version does not format");
	}
	n = snprintf(path, sizeof(path), "%s/%s/%s/%s/%s-%s.so", p->repo, group, c->name.artifact,
		     version, c->name.artifact, version);
	if (n < 0 || (size_t)n >= sizeof(path) - sizeof(".manifest")) {
		return pack_fail(p->repo, "path too long");
	}
	rc = pack_mkdirs(path);
	if (rc < 0) {
		return pack_fail(path, strerror(-rc));
	}
	rc = pack_write_file(path, p->bytes, p->size);
	if (rc != 0) {
		return rc;
	}
	memcpy(path + n - 3, ".manifest", sizeof(".manifest"));
	return pack_write_file(path, p->text, p->text_size);
}

static int
pack_parse_args(struct pack *p, int argc, char **argv)
{
	static const struct option options[] = {
		{"repo", required_argument, NULL, 'r'},
		{"stamp", required_argument, NULL, 's'},
		{"print", no_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'r') {
			p->repo = optarg;
		} else if (opt == 's') {
			p->stamp = optarg;
		} else if (opt == 'p') {
			p->is_print = true;
		} else if (opt == 'h') {
			fputs(usage, stdout);
			exit(0);
		} else {
			return 2;
		}
	}
	if (optind != argc - 1 || (p->repo == NULL && !p->is_print)) {
		fprintf(stderr, "aether-pack: give one SLICE.so and --repo DIR or --print "
				"(--help for more)\n");
		return 2;
	}
	p->so_path = argv[optind];
	return 0;
}

int
main(int argc, char **argv)
{
	static struct pack p;
	int rc = pack_parse_args(&p, argc, argv);

	if (rc == 0) {
		rc = pack_read_so(&p);
	}
	if (rc == 0) {
		rc = pack_describe(&p);
	}
	if (rc == 0 && p.repo != NULL) {
		rc = pack_install(&p);
	}
	if (rc == 0 && p.is_print) {
		fputs(p.text, stdout);
	}
	if (rc == 0 && p.stamp != NULL) {
		rc = pack_write_file(p.stamp, p.text, p.text_size);
	}
	free(p.bytes);
	return rc;
}
