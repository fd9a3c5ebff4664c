/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Goal: kv_store_scan_local_nonlinearizable returns exactly the keys with a prefix, in byte
 * order, after a cursor, within its count and byte limits, says when more exist, and resumes
 * correctly when keys are put and removed between calls; the key-order index behind it stays
 * consistent (kv_store_check) through removals, restores and arena compaction.
 * Method: small stores driven through kv_store_apply() with encoded commands, as the replica
 * layer does; hand-picked keys for ordering, prefixes, cursors and limits; and a seeded property
 * test where several paged scans run interleaved with random puts and removes, every call
 * compared with a naive model (a sorted array of every possible key).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "consensus/kv_cmd.h"
#include "consensus/kv_store.h"

#define VALUE_MAX  64
#define RESULT_CAP (KV_RESULT_HEADER_SIZE + VALUE_MAX)
#define OUT_MAX    64
#define SNAP_CAP   (256 * 1024)

struct fixture {
	struct kv_store_config cfg;
	struct kv_store *s;
	uint64_t log;
	uint8_t body[1024];
	uint8_t result[RESULT_CAP];
	struct kv_store_entry out[OUT_MAX];
	size_t n;
	int more;
	uint8_t snap[SNAP_CAP];
};

static struct kv_store_config
scan_config(size_t max_keys, uint64_t seed)
{
	struct kv_store_config cfg = {
		.max_keys = max_keys,
		.max_key_size = 32,
		.max_value_size = VALUE_MAX,
		.data_budget_size = max_keys * (32 + VALUE_MAX),
		.max_clients = 2,
		.index_seed = seed,
	};

	return cfg;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	f->cfg = scan_config(256, 7);
	*state = f;
	return kv_store_create(&f->cfg, &f->s) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	kv_store_destroy(f->s);
	free(f);
	return 0;
}

/* --- driving the store ---------------------------------------------------------------------- */

/* Applies one PUT (value != NULL) or REMOVE of key as the next log entry; returns its status. */
static enum kv_result_status
write_bytes(struct fixture *f, struct kv_store *s, const uint8_t *key, size_t key_size,
	    const uint8_t *value, size_t value_size)
{
	struct kv_cmd c = {.type = value != NULL ? KV_CMD_PUT : KV_CMD_REMOVE, .op_count = 1};
	struct kv_request req;
	struct kv_result res;
	size_t body_size;
	size_t result_size;

	c.ops[0] = (struct kv_cmd_op){c.type, key, key_size, value, value_size, 0};
	assert_int_equal(kv_cmd_encode(&c, f->body, sizeof(f->body), &body_size), 0);
	f->log++;
	req = (struct kv_request){f->log, 1, f->log, f->body, body_size};
	assert_int_equal(kv_store_apply(s, &req, f->result, sizeof(f->result), &result_size), 0);
	assert_int_equal(kv_result_decode(f->result, result_size, &res), 0);
	return res.status;
}

static void
put(struct fixture *f, const char *key, const char *value)
{
	assert_int_equal(write_bytes(f, f->s, (const uint8_t *)key, strlen(key),
				     (const uint8_t *)value, strlen(value)),
			 KV_RESULT_OK);
}

static void
rm(struct fixture *f, const char *key)
{
	assert_int_equal(write_bytes(f, f->s, (const uint8_t *)key, strlen(key), NULL, 0),
			 KV_RESULT_OK);
}

/* One scan call into f->out; returns its code. after NULL: from the start. */
static int
scan(struct fixture *f, const char *prefix, const char *after, size_t count_max, size_t bytes_max)
{
	struct kv_scan sc = {
		.prefix = (const uint8_t *)prefix,
		.prefix_size = strlen(prefix),
		.after = (const uint8_t *)after,
		.after_size = after != NULL ? strlen(after) : 0,
		.count_max = count_max,
		.bytes_max = bytes_max,
	};

	assert_true(count_max <= OUT_MAX);
	return kv_store_scan_local_nonlinearizable(f->s, &sc, f->out, &f->n, &f->more);
}

/* The last scan returned exactly the NULL-terminated keys, in order. */
static void
assert_keys(const struct fixture *f, const char *const *keys)
{
	size_t i = 0;

	for (; keys[i] != NULL; i++) {
		if (i >= f->n) {
			fail_msg("scan returned %zu keys; key %zu should be '%s'", f->n, i,
				 keys[i]);
		}
		if (f->out[i].key_size != strlen(keys[i]) ||
		    memcmp(f->out[i].key, keys[i], f->out[i].key_size) != 0) {
			fail_msg("key %zu is '%.*s', wanted '%s'", i, (int)f->out[i].key_size,
				 (const char *)f->out[i].key, keys[i]);
		}
	}
	assert_int_equal(f->n, i);
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_KEYS   ((const char *const[]){NULL})

/* --- cases ---------------------------------------------------------------------------------- */

static void
test_kv_scan_returns_every_key_in_byte_order_with_value_and_mod_index(void **state)
{
	struct fixture *f = *state;

	/* Byte order: 0x01 < 'B' < 'a' < "a" + anything < 'b' < 0xff; a prefix before its
	 * extensions. Inserted scrambled. */
	put(f, "b", "4");
	put(f, "\xff", "6");
	put(f, "ab", "3");
	put(f, "a", "2");
	put(f, "B", "1");
	put(f, "\x01", "0");
	put(f, "aa", "22");
	assert_int_equal(scan(f, "", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("\x01", "B", "a", "aa", "ab", "b", "\xff"));
	assert_false(f->more);
	assert_int_equal(f->out[3].value_size, 2);
	assert_memory_equal(f->out[3].value, "22", 2);
	assert_int_equal(f->out[3].mod_index, 7);
	assert_int_equal(f->out[0].mod_index, 6);
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_scan_selects_exactly_the_keys_with_the_prefix(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = {"a", "ap", "app", "apple", "apply", "apt", "aq", "b"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		put(f, keys[i], "v");
	}
	assert_int_equal(scan(f, "app", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("app", "apple", "apply"));
	assert_int_equal(scan(f, "ap", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("ap", "app", "apple", "apply", "apt"));
	assert_int_equal(scan(f, "apple", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("apple"));
	assert_int_equal(scan(f, "applesauce", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, NO_KEYS);
	assert_int_equal(scan(f, "c", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, NO_KEYS);
	assert_int_equal(scan(f, "0", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, NO_KEYS);
	assert_false(f->more);
}

static void
test_kv_scan_of_an_empty_store_returns_nothing(void **state)
{
	struct fixture *f = *state;

	f->more = 1;
	assert_int_equal(scan(f, "", NULL, 1, 1), 0);
	assert_keys(f, NO_KEYS);
	assert_false(f->more);
	put(f, "k", "v");
	rm(f, "k");
	assert_int_equal(scan(f, "", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, NO_KEYS);
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_scan_stops_at_the_count_limit_and_reports_more(void **state)
{
	struct fixture *f = *state;

	put(f, "k1", "a");
	put(f, "k2", "b");
	put(f, "k3", "c");
	put(f, "x", "d");
	assert_int_equal(scan(f, "k", NULL, 2, SIZE_MAX), 0);
	assert_keys(f, KEYS("k1", "k2"));
	assert_true(f->more);
	/* Exactly the remaining keys: nothing more, although a key without the prefix follows. */
	assert_int_equal(scan(f, "k", "k2", 1, SIZE_MAX), 0);
	assert_keys(f, KEYS("k3"));
	assert_false(f->more);
	assert_int_equal(scan(f, "", NULL, 4, SIZE_MAX), 0);
	assert_false(f->more);
	assert_int_equal(scan(f, "", NULL, 3, SIZE_MAX), 0);
	assert_true(f->more);
}

static void
test_kv_scan_stops_at_the_byte_limit_and_refuses_a_key_that_cannot_fit(void **state)
{
	struct fixture *f = *state;

	put(f, "k1", "aaaa"); /* 6 bytes of key and value */
	put(f, "k2", "bb");   /* 4 */
	put(f, "k3", "");     /* 2 */
	assert_int_equal(scan(f, "", NULL, OUT_MAX, 10), 0);
	assert_keys(f, KEYS("k1", "k2"));
	assert_true(f->more);
	assert_int_equal(scan(f, "", NULL, OUT_MAX, 9), 0);
	assert_keys(f, KEYS("k1"));
	assert_true(f->more);
	assert_int_equal(scan(f, "", NULL, OUT_MAX, 12), 0);
	assert_keys(f, KEYS("k1", "k2", "k3"));
	assert_false(f->more);
	/* The first key due does not fit at all: an error, not an empty page that would stall. */
	assert_int_equal(scan(f, "", NULL, OUT_MAX, 5), -EMSGSIZE);
	assert_int_equal(f->n, 0);
	assert_false(f->more);
	assert_int_equal(scan(f, "", "k1", OUT_MAX, 5), 0);
	assert_keys(f, KEYS("k2"));
	assert_true(f->more);
}

static void
test_kv_scan_cursor_outside_the_prefix_range_starts_or_ends_the_scan(void **state)
{
	struct fixture *f = *state;

	put(f, "a", "v");
	put(f, "m1", "v");
	put(f, "m2", "v");
	put(f, "z", "v");
	/* A cursor before the range starts at its first key; one after it ends the scan. */
	assert_int_equal(scan(f, "m", "a", OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("m1", "m2"));
	assert_int_equal(scan(f, "m", "m", OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("m1", "m2"));
	assert_int_equal(scan(f, "m", "m15", OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("m2"));
	assert_int_equal(scan(f, "m", "m2", OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, NO_KEYS);
	assert_int_equal(scan(f, "m", "n", OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, NO_KEYS);
	assert_false(f->more);
	/* A cursor that names no key is a position all the same. */
	assert_int_equal(scan(f, "", "b", OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("m1", "m2", "z"));
}

static void
test_kv_scan_resumes_across_puts_and_removes_between_calls(void **state)
{
	struct fixture *f = *state;
	char cursor[8];

	put(f, "k2", "v");
	put(f, "k4", "v");
	put(f, "k6", "v");
	put(f, "k8", "v");
	assert_int_equal(scan(f, "k", NULL, 2, SIZE_MAX), 0);
	assert_keys(f, KEYS("k2", "k4"));
	assert_true(f->more);
	/* The cursor borrows the store: copy it before writing. */
	snprintf(cursor, sizeof(cursor), "%.*s", (int)f->out[1].key_size,
		 (const char *)f->out[1].key);
	put(f, "k1", "v");  /* behind the cursor: missed */
	put(f, "k5", "v");  /* ahead: seen */
	rm(f, "k6");        /* ahead: gone */
	rm(f, "k4");        /* the cursor itself: still a position */
	put(f, "k8", "v2"); /* ahead, changed: seen with its new value */
	assert_int_equal(scan(f, "k", cursor, 2, SIZE_MAX), 0);
	assert_keys(f, KEYS("k5", "k8"));
	assert_memory_equal(f->out[1].value, "v2", 2);
	assert_false(f->more);
	assert_int_equal(scan(f, "k", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_keys(f, KEYS("k1", "k2", "k5", "k8"));
	assert_int_equal(kv_store_check(f->s), 0);
}

/* Many keys inserted in ascending order (a restore's order), removed in a scattered order:
 * the index stays consistent and a paged scan still sees every key once, in order. */
static void
test_kv_scan_pages_through_a_store_built_in_ascending_order(void **state)
{
	struct fixture *f = *state;
	char key[16];
	char cursor[16] = "";
	size_t seen = 0;
	int more = 1;

	for (int i = 0; i < 256; i++) {
		snprintf(key, sizeof(key), "key%03d", i);
		put(f, key, "v");
	}
	for (int i = 0; i < 256; i += 3) {
		snprintf(key, sizeof(key), "key%03d", (i * 7) % 256);
		rm(f, key);
	}
	assert_int_equal(kv_store_check(f->s), 0);
	while (more) {
		assert_int_equal(scan(f, "key", cursor[0] != '\0' ? cursor : NULL, 10, SIZE_MAX),
				 0);
		for (size_t i = 0; i < f->n; i++) {
			snprintf(key, sizeof(key), "%.*s", (int)f->out[i].key_size,
				 (const char *)f->out[i].key);
			assert_true(strcmp(key, cursor) > 0);
			snprintf(cursor, sizeof(cursor), "%s", key);
		}
		seen += f->n;
		more = f->more;
	}
	assert_int_equal(seen, kv_store_key_count(f->s));
}

static void
test_kv_scan_after_a_restore_matches_the_source_store(void **state)
{
	struct fixture *f = *state;
	struct kv_store *copy;
	struct kv_store_entry a[OUT_MAX];
	const uint8_t *body;
	size_t body_size;
	size_t size;
	size_t n;
	int more;
	struct kv_scan all = {.count_max = OUT_MAX, .bytes_max = SIZE_MAX};

	put(f, "c", "3");
	put(f, "a", "1");
	put(f, "b", "2");
	rm(f, "b");
	put(f, "ba", "4");
	assert_int_equal(kv_store_snapshot_encode(f->s, f->snap, sizeof(f->snap), &size), 0);
	assert_int_equal(kv_snapshot_verify(f->snap, size, &body, &body_size), 0);
	assert_int_equal(kv_store_create(&f->cfg, &copy), 0);
	assert_int_equal(kv_store_restore_begin(copy, body, body_size), 0);
	/* While the restore is open, scans still see the old (empty) state. */
	assert_int_equal(kv_store_scan_local_nonlinearizable(copy, &all, a, &n, &more), 0);
	assert_int_equal(n, 0);
	kv_store_restore_commit(copy);
	assert_int_equal(kv_store_check(copy), 0);
	assert_int_equal(kv_store_scan_local_nonlinearizable(copy, &all, a, &n, &more), 0);
	assert_int_equal(scan(f, "", NULL, OUT_MAX, SIZE_MAX), 0);
	assert_int_equal(n, f->n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a[i].key_size, f->out[i].key_size);
		assert_memory_equal(a[i].key, f->out[i].key, a[i].key_size);
		assert_int_equal(a[i].mod_index, f->out[i].mod_index);
	}
	kv_store_destroy(copy);
}

/* --- property test: paged scans against a naive model ---------------------------------------- */

/* Every key over the alphabet {a, b, c} of 1 to 4 letters: 120 keys, in key order. */
#define M_ALPHABET 3
#define M_LEN_MAX  4
#define M_KEYS     (3 + 9 + 27 + 81)
#define M_SESSIONS 3
#define M_STEPS    1500
#define M_SEEDS    12

struct m_key {
	char text[M_LEN_MAX + 1];
	size_t size;
	int exists;
	uint8_t value[8];
	size_t value_size;
	uint64_t mod;
};

/* A paged scan in progress: its prefix and its cursor (the last key returned). */
struct m_session {
	int is_open;
	char prefix[M_LEN_MAX + 1];
	char cursor[M_LEN_MAX + 1];
	size_t count_max;
	size_t bytes_max;
};

struct m_world {
	struct fixture *f;
	struct base_prng prng;
	uint64_t seed;
	struct m_key keys[M_KEYS];
	struct m_session sessions[M_SESSIONS];
	struct kv_store_entry want[OUT_MAX];
	size_t want_n;
	int want_more;
	int want_rc;
};

static int
m_key_order(const void *a, const void *b)
{
	const struct m_key *x = a;
	const struct m_key *y = b;
	int c = memcmp(x->text, y->text, x->size < y->size ? x->size : y->size);

	if (c != 0) {
		return c;
	}
	return x->size < y->size ? -1 : (x->size > y->size ? 1 : 0);
}

static void
m_init_keys(struct m_world *w)
{
	size_t n = 0;

	for (size_t len = 1; len <= M_LEN_MAX; len++) {
		size_t combos = 1;

		for (size_t i = 0; i < len; i++) {
			combos *= M_ALPHABET;
		}
		for (size_t c = 0; c < combos; c++) {
			size_t v = c;

			for (size_t i = 0; i < len; i++) {
				w->keys[n].text[len - 1 - i] = (char)('a' + v % M_ALPHABET);
				v /= M_ALPHABET;
			}
			w->keys[n].size = len;
			n++;
		}
	}
	assert_int_equal(n, M_KEYS);
	qsort(w->keys, M_KEYS, sizeof(w->keys[0]), m_key_order);
}

/* A random key text of 0..len_max letters (0 only when allow_empty). */
static void
m_random_text(struct m_world *w, char *out, int allow_empty)
{
	size_t len = (size_t)base_prng_range(&w->prng, allow_empty ? 0 : 1, M_LEN_MAX);

	for (size_t i = 0; i < len; i++) {
		out[i] = (char)('a' + base_prng_below(&w->prng, M_ALPHABET));
	}
	out[len] = '\0';
}

static void
m_write(struct m_world *w)
{
	struct m_key *k = &w->keys[base_prng_below(&w->prng, M_KEYS)];
	int is_put = base_prng_chance(&w->prng, 600000);
	enum kv_result_status st;

	if (!is_put) {
		st = write_bytes(w->f, w->f->s, (const uint8_t *)k->text, k->size, NULL, 0);
		assert_int_equal(st, k->exists ? KV_RESULT_OK : KV_RESULT_NOT_FOUND);
		k->exists = 0;
		return;
	}
	k->value_size = (size_t)base_prng_below(&w->prng, sizeof(k->value) + 1);
	for (size_t i = 0; i < k->value_size; i++) {
		k->value[i] = (uint8_t)base_prng_next(&w->prng);
	}
	st = write_bytes(w->f, w->f->s, (const uint8_t *)k->text, k->size, k->value, k->value_size);
	assert_int_equal(st, KV_RESULT_OK);
	k->exists = 1;
	k->mod = w->f->log;
}

/* What the model says one call of session m returns, into w->want*. */
static void
m_expect(struct m_world *w, const struct m_session *m)
{
	size_t prefix_size = strlen(m->prefix);
	size_t cursor_size = strlen(m->cursor);
	struct m_key cur = {.size = cursor_size};
	size_t bytes = 0;

	memcpy(cur.text, m->cursor, cursor_size);
	w->want_n = 0;
	w->want_more = 0;
	w->want_rc = 0;
	for (size_t i = 0; i < M_KEYS; i++) {
		const struct m_key *k = &w->keys[i];

		if (!k->exists || k->size < prefix_size ||
		    memcmp(k->text, m->prefix, prefix_size) != 0) {
			continue;
		}
		if (cursor_size > 0 && m_key_order(k, &cur) <= 0) {
			continue;
		}
		if (w->want_n == m->count_max || k->size + k->value_size > m->bytes_max - bytes) {
			w->want_more = 1;
			break;
		}
		w->want[w->want_n++] = (struct kv_store_entry){(const uint8_t *)k->text, k->size,
							       k->value, k->value_size, k->mod};
		bytes += k->size + k->value_size;
	}
	if (w->want_n == 0 && w->want_more) {
		w->want_more = 0;
		w->want_rc = -EMSGSIZE;
	}
}

static void
m_open(struct m_world *w, struct m_session *m)
{
	m->is_open = 1;
	m_random_text(w, m->prefix, 1);
	m->cursor[0] = '\0';
	m->count_max = (size_t)base_prng_range(&w->prng, 1, 8);
	/* Mostly roomy, sometimes tight enough to cut pages and to refuse a key. */
	m->bytes_max = base_prng_chance(&w->prng, 300000) ? (size_t)base_prng_range(&w->prng, 1, 14)
							  : SIZE_MAX;
}

/* One call of session m, checked against the model; the session ends when nothing is left. */
static void
m_step(struct m_world *w, struct m_session *m)
{
	struct fixture *f = w->f;
	int rc;

	m_expect(w, m);
	rc = scan(f, m->prefix, m->cursor[0] != '\0' ? m->cursor : NULL, m->count_max,
		  m->bytes_max);
	if (rc != w->want_rc || f->n != w->want_n || f->more != w->want_more) {
		fail_msg("seed %llu: prefix '%s' after '%s' count %zu bytes %zu: got rc %d n %zu "
			 "more %d, model rc %d n %zu more %d",
			 (unsigned long long)w->seed, m->prefix, m->cursor, m->count_max,
			 m->bytes_max, rc, f->n, f->more, w->want_rc, w->want_n, w->want_more);
	}
	for (size_t i = 0; i < f->n; i++) {
		assert_int_equal(f->out[i].key_size, w->want[i].key_size);
		assert_memory_equal(f->out[i].key, w->want[i].key, f->out[i].key_size);
		assert_int_equal(f->out[i].value_size, w->want[i].value_size);
		if (f->out[i].value_size > 0) {
			assert_memory_equal(f->out[i].value, w->want[i].value,
					    f->out[i].value_size);
		}
		assert_int_equal(f->out[i].mod_index, w->want[i].mod_index);
	}
	if (rc != 0 || !f->more) {
		m->is_open = 0;
		return;
	}
	snprintf(m->cursor, sizeof(m->cursor), "%.*s", (int)f->out[f->n - 1].key_size,
		 (const char *)f->out[f->n - 1].key);
}

static void
m_run_seed(struct fixture *f, uint64_t seed)
{
	static struct m_world w;

	memset(&w, 0, sizeof(w));
	w.f = f;
	w.seed = seed;
	base_prng_init(&w.prng, seed);
	m_init_keys(&w);
	for (int step = 0; step < M_STEPS; step++) {
		struct m_session *m = &w.sessions[base_prng_below(&w.prng, M_SESSIONS)];

		if (base_prng_chance(&w.prng, 550000)) {
			m_write(&w);
		} else if (!m->is_open) {
			m_open(&w, m);
		} else {
			m_step(&w, m);
		}
		if (step % 100 == 0 && kv_store_check(f->s) != 0) {
			fail_msg("seed %llu: kv_store_check failed at step %d",
				 (unsigned long long)seed, step);
		}
	}
	assert_int_equal(kv_store_check(f->s), 0);
}

static void
test_kv_scan_random_paged_scans_agree_with_a_naive_model(void **state)
{
	struct fixture *f = *state;

	for (uint64_t seed = 1; seed <= M_SEEDS; seed++) {
		kv_store_destroy(f->s);
		f->cfg = scan_config(M_KEYS, seed * 1000003u);
		assert_int_equal(kv_store_create(&f->cfg, &f->s), 0);
		f->log = 0;
		m_run_seed(f, seed);
	}
}

#define CASE(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(test_kv_scan_returns_every_key_in_byte_order_with_value_and_mod_index),
		CASE(test_kv_scan_selects_exactly_the_keys_with_the_prefix),
		CASE(test_kv_scan_of_an_empty_store_returns_nothing),
		CASE(test_kv_scan_stops_at_the_count_limit_and_reports_more),
		CASE(test_kv_scan_stops_at_the_byte_limit_and_refuses_a_key_that_cannot_fit),
		CASE(test_kv_scan_cursor_outside_the_prefix_range_starts_or_ends_the_scan),
		CASE(test_kv_scan_resumes_across_puts_and_removes_between_calls),
		CASE(test_kv_scan_pages_through_a_store_built_in_ascending_order),
		CASE(test_kv_scan_after_a_restore_matches_the_source_store),
		CASE(test_kv_scan_random_paged_scans_agree_with_a_naive_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
