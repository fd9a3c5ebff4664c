/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the KV key schema (consensus/kv_key.h).
 *
 * The input is a candidate key. A rejection must fill the error consistently (the returned
 * code, an offset inside the input, a reason). An accepted key must format back to exactly the
 * input bytes (one spelling per key) and re-parse to an equal key. Each accepted key is also run
 * against a few fixed patterns and against the pattern of its own family: whenever a pattern
 * matches, the key's text must start with the pattern's prefix. The input is a heap copy of the
 * exact size, so ASan catches any read past the end.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "base/panic.h"
#include "consensus/kv_key.h"

#define FUZZ_KV_PATTERNS 5

static struct kv_key_pattern fuzz_kv_patterns[FUZZ_KV_PATTERNS];
static int fuzz_kv_patterns_ready;

static void
fuzz_kv_patterns_init(void)
{
	static const char coord[] = "org.example:web:1.0.0";
	static const char caret[] = "^1.0.0";
	struct slice_coord c;
	struct slice_version_pattern v;

	ASSERT(slice_coord_parse(coord, sizeof(coord) - 1, &c, NULL) == 0);
	ASSERT(slice_version_pattern_parse(caret, sizeof(caret) - 1, &v, NULL) == 0);
	ASSERT(kv_key_pattern_slices_of_node(&fuzz_kv_patterns[0], "node-1") == 0);
	kv_key_pattern_endpoints_of_name(&fuzz_kv_patterns[1], &c.name);
	ASSERT(kv_key_pattern_endpoints_of_method(&fuzz_kv_patterns[2], &c, "get") == 0);
	kv_key_pattern_blueprints_matching(&fuzz_kv_patterns[3], &c.name, &v);
	kv_key_pattern_init(&fuzz_kv_patterns[4], KV_KEY_FAMILY_LEADER);
	fuzz_kv_patterns_ready = 1;
}

/* A matching pattern's prefix must start the key's text. */
static void
fuzz_kv_check_pattern(const struct kv_key_pattern *p, const struct kv_key *k, const char *text,
		      size_t size)
{
	char prefix[KV_KEY_MAX + 1];
	int n;

	if (!kv_key_pattern_matches(p, k)) {
		return;
	}
	n = kv_key_pattern_prefix(p, prefix, sizeof(prefix));
	ASSERT(n > 0);
	ASSERT((size_t)n <= size);
	ASSERT(memcmp(prefix, text, (size_t)n) == 0);
}

/* A rejection reports itself consistently. */
static void
fuzz_kv_check_rejected(int rc, const struct base_parse_error *err, size_t size)
{
	ASSERT(rc < 0);
	ASSERT(err->code == rc);
	ASSERT(err->offset <= size);
	ASSERT(err->what != NULL);
}

/* An accepted key has exactly one spelling: the input. */
static void
fuzz_kv_check_accepted(const struct kv_key *key, const char *text, size_t size)
{
	char formatted[KV_KEY_MAX + 1];
	struct kv_key again;
	struct kv_key_pattern family;
	int n = kv_key_format(key, formatted, sizeof(formatted));

	ASSERT(n >= 0);
	ASSERT((size_t)n == size);
	ASSERT(memcmp(formatted, text, size) == 0);
	ASSERT(kv_key_parse(formatted, (size_t)n, &again, NULL) == 0);
	ASSERT(kv_key_equal(key, &again));
	for (size_t i = 0; i < FUZZ_KV_PATTERNS; i++) {
		fuzz_kv_check_pattern(&fuzz_kv_patterns[i], key, text, size);
	}
	kv_key_pattern_init(&family, key->family);
	ASSERT(kv_key_pattern_matches(&family, key));
	fuzz_kv_check_pattern(&family, key, text, size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct kv_key key;
	struct base_parse_error err = {0, 0, NULL};
	int rc;

	ASSERT(text != NULL);
	if (!fuzz_kv_patterns_ready) {
		fuzz_kv_patterns_init();
	}
	if (size > 0) {
		memcpy(text, data, size);
	}
	rc = kv_key_parse(text, size, &key, &err);
	if (rc == 0) {
		fuzz_kv_check_accepted(&key, text, size);
	} else {
		fuzz_kv_check_rejected(rc, &err, size);
	}
	free(text);
	return 0;
}
