/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a fuzz target over files without libFuzzer: every argument is a file or a directory of
 * files, each fed once to LLVMFuzzerTestOneInput. This is how the corpus (and every crasher
 * ever found, saved into it) is replayed in each normal test run. Exit 0 when all inputs ran;
 * a bug in the target shows up as a crash or a sanitizer report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_INPUT_MAX (1u << 20)

static int
replay_file(const char *path, uint8_t *buf)
{
	FILE *f = fopen(path, "rb");
	uint8_t *exact;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	n = fread(buf, 1, REPLAY_INPUT_MAX, f);
	fclose(f);
	/* An exact-size copy, so a sanitizer sees any read past the input's end. */
	exact = malloc(n == 0 ? 1 : n);
	if (exact == NULL) {
		return -1;
	}
	memcpy(exact, buf, n);
	(void)LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int
replay_dir(const char *path, uint8_t *buf, unsigned *count)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char child[4096];

	if (d == NULL) {
		fprintf(stderr, "replay: cannot open directory %s\n", path);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		if (replay_file(child, buf) != 0) {
			closedir(d);
			return -1;
		}
		(*count)++;
	}
	closedir(d);
	return 0;
}

int
main(int argc, char **argv)
{
	uint8_t *buf = calloc(1, REPLAY_INPUT_MAX);
	unsigned count = 0;
	int rc = 0;

	if (buf == NULL) {
		return 1;
	}
	/* An empty input always runs: targets must accept it. */
	(void)LLVMFuzzerTestOneInput(buf, 0);
	for (int i = 1; i < argc && rc == 0; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s does not exist\n", argv[i]);
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = replay_dir(argv[i], buf, &count);
		} else {
			rc = replay_file(argv[i], buf);
			count++;
		}
	}
	free(buf);
	printf("replay: %u inputs\n", count);
	return rc == 0 ? 0 : 1;
}
