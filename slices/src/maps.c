/* SPDX-License-Identifier: Apache-2.0 */
#include "slices/maps.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/panic.h"

#define MAPS_PREFIX "/memfd:"
/* A maps line is at most about 80 bytes of fields plus a path of PATH_MAX (4096). */
#define MAPS_CHUNK  (16u * 1024u)

bool
slice_maps_line_has_memfd(const char *line, size_t line_size, const char *name)
{
	size_t name_size;
	const char *path;
	size_t rest;

	ASSERT(line != NULL);
	ASSERT(name != NULL);
	name_size = strlen(name);
	path = memchr(line, '/', line_size);
	/* The path is the last field and the only one that starts with '/'. */
	if (path == NULL) {
		return false;
	}
	rest = line_size - (size_t)(path - line);
	if (rest < sizeof(MAPS_PREFIX) - 1 + name_size) {
		return false;
	}
	if (memcmp(path, MAPS_PREFIX, sizeof(MAPS_PREFIX) - 1) != 0 ||
	    memcmp(path + sizeof(MAPS_PREFIX) - 1, name, name_size) != 0) {
		return false;
	}
	rest -= sizeof(MAPS_PREFIX) - 1 + name_size;
	/* Exactly the name: the path ends here, or the kernel's " (deleted)" follows. */
	return rest == 0 || path[sizeof(MAPS_PREFIX) - 1 + name_size] == ' ';
}

bool
slice_maps_text_has_memfd(const char *text, size_t size, const char *name)
{
	size_t start = 0;

	ASSERT(text != NULL || size == 0);
	while (start < size) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl == NULL ? size : (size_t)(nl - text);

		if (slice_maps_line_has_memfd(text + start, end - start, name)) {
			return true;
		}
		start = end + 1;
	}
	return false;
}

/* Scans the complete lines in buf[0..*used) and moves the unfinished tail to the front. */
static bool
maps_scan_chunk(char *buf, size_t *used, const char *name)
{
	const char *last_nl = NULL;
	size_t done;

	for (size_t i = *used; i > 0; i--) {
		if (buf[i - 1] == '\n') {
			last_nl = buf + i - 1;
			break;
		}
	}
	if (last_nl == NULL) {
		/* A line longer than the buffer cannot be a path of ours; drop it. */
		if (*used == MAPS_CHUNK) {
			*used = 0;
		}
		return false;
	}
	done = (size_t)(last_nl - buf) + 1;
	if (slice_maps_text_has_memfd(buf, done, name)) {
		return true;
	}
	memmove(buf, buf + done, *used - done);
	*used -= done;
	return false;
}

int
slice_maps_has_memfd(const char *name, bool *found, struct slice_error *err)
{
	char buf[MAPS_CHUNK];
	size_t used = 0;
	int fd;

	ASSERT(name != NULL);
	ASSERT(found != NULL);
	*found = false;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return slice_error_set(err, -errno, "/proc/self/maps: %s", strerror(errno));
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, MAPS_CHUNK - used);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			int code = -errno;

			(void)close(fd);
			return slice_error_set(err, code, "/proc/self/maps: %s", strerror(-code));
		}
		if (n == 0) {
			*found = slice_maps_text_has_memfd(buf, used, name);
			break;
		}
		used += (size_t)n;
		if (maps_scan_chunk(buf, &used, name)) {
			*found = true;
			break;
		}
	}
	(void)close(fd);
	return 0;
}
