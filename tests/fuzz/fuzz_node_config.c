/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the node configuration parser (node/node_config.h).
 *
 * The input is parsed as a config file; an accepted one must survive node_config_format and a
 * second parse unchanged (byte-equal structs: both start from node_config_defaults, which zeroes
 * padding), and node_config_check must not crash on it. The input, cut at its first NUL, is
 * also applied as a --set override, which must leave the config untouched when it fails.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "node/node_config.h"

static struct node_config cfg;
static struct node_config again;
static struct node_config before;
static char formatted[64 * 1024];

static void
fuzz_override(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	char *text = malloc(n + 1);
	struct node_config_error err;

	ASSERT(text != NULL);
	memcpy(text, data, n);
	text[n] = '\0';
	node_config_defaults(&cfg);
	before = cfg;
	if (node_config_set(&cfg, text, &err) != 0) {
		ASSERT(memcmp(&cfg, &before, sizeof(cfg)) == 0);
		ASSERT(err.code < 0 && err.text[0] != '\0');
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = calloc(1, size > 0 ? size : 1);
	struct node_config_error err;
	int n;

	ASSERT(copy != NULL);
	if (size > 0) {
		memcpy(copy, data, size);
	}
	node_config_defaults(&cfg);
	if (node_config_parse(&cfg, copy, size, "fuzz.conf", &err) == 0) {
		(void)!node_config_check(&cfg, &err);
		n = node_config_format(&cfg, formatted, sizeof(formatted));
		ASSERT(n > 0);
		node_config_defaults(&again);
		ASSERT(node_config_parse(&again, formatted, (size_t)n, "formatted", &err) == 0);
		ASSERT(memcmp(&cfg, &again, sizeof(cfg)) == 0);
	} else {
		ASSERT(err.code < 0 && err.text[0] != '\0');
	}
	fuzz_override((const uint8_t *)copy, size);
	free(copy);
	return 0;
}
