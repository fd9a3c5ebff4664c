/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the env_posix tests: a scratch directory under /tmp, a directory listing to
 * compare against, an open-descriptor count (to prove error paths close what they opened) and
 * a default config on 127.0.0.1 with an ephemeral port. Include after <cmocka.h>.
 */
#ifndef AETHER_TESTS_ENV_ENV_TEST_H
#define AETHER_TESTS_ENV_ENV_TEST_H

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env/env_posix.h"

#define ENV_TEST_PATH_MAX 256

/* Creates a fresh directory /tmp/aether-env-XXXXXX; path receives its name. */
static inline void
env_test_dir_make(char *path, size_t capacity)
{
	int n = snprintf(path, capacity, "/tmp/aether-env-XXXXXX");

	assert_true(n > 0 && (size_t)n < capacity);
	assert_non_null(mkdtemp(path));
}

static inline int
env_test_remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Removes the directory and everything in it. */
static inline void
env_test_dir_remove(const char *path)
{
	assert_int_equal(nftw(path, env_test_remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* path = dir + "/" + leaf. */
static inline void
env_test_path_join(char *out, size_t capacity, const char *dir, const char *leaf)
{
	int n = snprintf(out, capacity, "%s/%s", dir, leaf);

	assert_true(n > 0 && (size_t)n < capacity);
}

static inline int
env_test_name_compare(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Writes the sorted entry names of dir (without "." and "..") joined by ',' into out, so a
 * test can compare a whole directory with one string ("" when empty).
 */
static inline void
env_test_dir_list(const char *dir, char *out, size_t capacity)
{
	char names[32][ENV_TEST_PATH_MAX];
	const char *sorted[32];
	size_t count = 0;
	size_t used = 0;
	struct dirent *d;
	DIR *h = opendir(dir);

	assert_non_null(h);
	while ((d = readdir(h)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) {
			continue;
		}
		assert_true(count < 32);
		snprintf(names[count], sizeof(names[count]), "%s", d->d_name);
		sorted[count] = names[count];
		count++;
	}
	assert_int_equal(closedir(h), 0);
	qsort(sorted, count, sizeof(sorted[0]), env_test_name_compare);
	out[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		int n = snprintf(out + used, capacity - used, "%s%s", i == 0 ? "" : ",", sorted[i]);

		assert_true(n > 0 && (size_t)n < capacity - used);
		used += (size_t)n;
	}
}

/* How many file descriptors below 1024 are open in this process. */
static inline int
env_test_fd_count(void)
{
	int count = 0;

	for (int fd = 0; fd < 1024; fd++) {
		if (fcntl(fd, F_GETFD) != -1) {
			count++;
		}
	}
	return count;
}

/* A valid config: node_id, 127.0.0.1 on an ephemeral port, no peers, data_dir borrowed. */
static inline void
env_test_config(struct env_posix_config *cfg, uint32_t node_id, const char *data_dir)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->node_id = node_id;
	cfg->bind.ipv4 = env_posix_ipv4(127, 0, 0, 1);
	cfg->bind.port = 0;
	cfg->data_dir = data_dir;
	cfg->seed = 0x5eed0000u + node_id;
	cfg->completion_queue_max = 16;
}

/* The loopback address of an env, for env_posix_set_peer. */
static inline struct env_posix_addr
env_test_addr_of(const struct env_posix *e)
{
	struct env_posix_addr a = {.ipv4 = env_posix_ipv4(127, 0, 0, 1), .port = env_posix_port(e)};

	return a;
}

#endif /* AETHER_TESTS_ENV_ENV_TEST_H */
