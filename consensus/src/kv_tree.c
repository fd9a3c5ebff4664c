/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's key-order index and the prefix scan built on it (kv_store.h,
 * kv_store_scan_local_nonlinearizable).
 *
 * A treap: a binary search tree over the live entries by key (kv_key_compare) that is also a
 * max-heap by priority, the high 32 bits of the entry's seeded index hash. Why a treap: it needs
 * no balance bookkeeping beyond the links, and its expected depth is O(log n) whatever the
 * insertion order (a restore inserts keys in ascending order, which turns a plain search tree
 * into a list). The priorities are unpredictable to anyone without index_seed, the same
 * flooding defence as the hash index. Links are entry numbers with parent pointers, so every
 * walk is a loop (no recursion, no stack) and an in-order walk costs O(1) amortized per key.
 *
 * The tree's shape depends on index_seed, which is local, but nothing observable does: scans,
 * snapshots and the digest see key order only. No allocation: the links live in the entries.
 */
#include "consensus/kv_store.h"

#include <errno.h>
#include <string.h>

#include "base/panic.h"
#include "kv_store_int.h"

static uint32_t
tree_priority(const struct kv_store *s, uint32_t e)
{
	return (uint32_t)(s->entries[e].key_hash >> 32);
}

/* Entry e's key against key: < 0, 0 or > 0 as kv_key_compare. */
static int
tree_compare(const struct kv_store *s, uint32_t e, const uint8_t *key, size_t key_size)
{
	const struct kv_entry *ent = &s->entries[e];

	return kv_key_compare(kv_entry_key(s, ent), ent->key_size, key, key_size);
}

/* Points parent's link to old at child instead (the root when parent is KV_NONE). */
static void
tree_relink(struct kv_store *s, uint32_t parent, uint32_t old, uint32_t child)
{
	if (parent == KV_NONE) {
		ASSERT(s->tree_root == old);
		s->tree_root = child;
	} else if (s->entries[parent].tree_left == old) {
		s->entries[parent].tree_left = child;
	} else {
		ASSERT(s->entries[parent].tree_right == old);
		s->entries[parent].tree_right = child;
	}
	if (child != KV_NONE) {
		s->entries[child].tree_parent = parent;
	}
}

/* Rotates e above its parent; key order is kept, the subtree between them changes sides. */
static void
tree_rotate_up(struct kv_store *s, uint32_t e)
{
	struct kv_entry *ent = &s->entries[e];
	uint32_t p = ent->tree_parent;
	struct kv_entry *pe;
	uint32_t moved;

	ASSERT(p != KV_NONE);
	pe = &s->entries[p];
	tree_relink(s, pe->tree_parent, p, e);
	if (pe->tree_left == e) {
		moved = ent->tree_right;
		pe->tree_left = moved;
		ent->tree_right = p;
	} else {
		ASSERT(pe->tree_right == e);
		moved = ent->tree_left;
		pe->tree_right = moved;
		ent->tree_left = p;
	}
	if (moved != KV_NONE) {
		s->entries[moved].tree_parent = p;
	}
	pe->tree_parent = e;
}

void
kv_tree_insert(struct kv_store *s, uint32_t e)
{
	struct kv_entry *ent = &s->entries[e];
	const uint8_t *key = kv_entry_key(s, ent);
	uint32_t *link = &s->tree_root;
	uint32_t parent = KV_NONE;

	ASSERT(e < s->cfg.max_keys);
	/* Descend to the leaf position of the key... */
	while (*link != KV_NONE) {
		int c;

		parent = *link;
		c = tree_compare(s, parent, key, ent->key_size);
		ASSERT(c != 0);
		link = c > 0 ? &s->entries[parent].tree_left : &s->entries[parent].tree_right;
	}
	*link = e;
	ent->tree_parent = parent;
	ent->tree_left = KV_NONE;
	ent->tree_right = KV_NONE;
	/* ...then restore the heap order by rotating it up. */
	while (ent->tree_parent != KV_NONE &&
	       tree_priority(s, ent->tree_parent) < tree_priority(s, e)) {
		tree_rotate_up(s, e);
	}
}

void
kv_tree_remove(struct kv_store *s, uint32_t e)
{
	struct kv_entry *ent = &s->entries[e];
	uint32_t child;

	ASSERT(e < s->cfg.max_keys);
	ASSERT(ent->tree_parent != KV_NONE || s->tree_root == e);
	/* Rotate the higher-priority child up until e has at most one child, then splice e out:
	 * the heap order holds at every step, and no key is compared. */
	while (ent->tree_left != KV_NONE && ent->tree_right != KV_NONE) {
		uint32_t l = ent->tree_left;
		uint32_t r = ent->tree_right;

		tree_rotate_up(s, tree_priority(s, l) >= tree_priority(s, r) ? l : r);
	}
	child = ent->tree_left != KV_NONE ? ent->tree_left : ent->tree_right;
	tree_relink(s, ent->tree_parent, e, child);
	ent->tree_left = KV_NONE;
	ent->tree_right = KV_NONE;
	ent->tree_parent = KV_NONE;
}

static uint32_t
tree_leftmost(const struct kv_store *s, uint32_t e)
{
	if (e == KV_NONE) {
		return KV_NONE;
	}
	while (s->entries[e].tree_left != KV_NONE) {
		e = s->entries[e].tree_left;
	}
	return e;
}

uint32_t
kv_tree_first(const struct kv_store *s)
{
	return tree_leftmost(s, s->tree_root);
}

uint32_t
kv_tree_next(const struct kv_store *s, uint32_t e)
{
	uint32_t p;

	ASSERT(e < s->cfg.max_keys);
	if (s->entries[e].tree_right != KV_NONE) {
		return tree_leftmost(s, s->entries[e].tree_right);
	}
	/* Climb while coming from a right child: those ancestors are all smaller. */
	p = s->entries[e].tree_parent;
	while (p != KV_NONE && s->entries[p].tree_right == e) {
		e = p;
		p = s->entries[p].tree_parent;
	}
	return p;
}

/* The first entry whose key is > key, or >= key when inclusive; KV_NONE when none. */
static uint32_t
tree_seek(const struct kv_store *s, const uint8_t *key, size_t key_size, int inclusive)
{
	uint32_t best = KV_NONE;
	uint32_t e = s->tree_root;

	while (e != KV_NONE) {
		int c = tree_compare(s, e, key, key_size);

		if (c > 0 || (c == 0 && inclusive)) {
			best = e;
			e = s->entries[e].tree_left;
		} else {
			e = s->entries[e].tree_right;
		}
	}
	return best;
}

/* --- scan ----------------------------------------------------------------------------------- */

static int
scan_matches(const struct kv_store *s, uint32_t e, const struct kv_scan *scan)
{
	const struct kv_entry *ent = &s->entries[e];

	/* memcmp is never handed a NULL prefix, even with a zero length (UBSan objects). */
	if (scan->prefix_size == 0) {
		return 1;
	}
	return ent->key_size >= scan->prefix_size &&
	       memcmp(kv_entry_key(s, ent), scan->prefix, scan->prefix_size) == 0;
}

/*
 * The first candidate: the first key > after when the cursor is at or past the prefix, else
 * the first key >= prefix. Keys with one prefix are contiguous in key order, so the scan ends
 * at the first key after this one that lacks the prefix.
 */
static uint32_t
scan_start(const struct kv_store *s, const struct kv_scan *scan)
{
	if (scan->after_size > 0 &&
	    (scan->prefix_size == 0 ||
	     kv_key_compare(scan->after, scan->after_size, scan->prefix, scan->prefix_size) >= 0)) {
		return tree_seek(s, scan->after, scan->after_size, 0);
	}
	if (scan->prefix_size == 0) {
		return kv_tree_first(s);
	}
	return tree_seek(s, scan->prefix, scan->prefix_size, 1);
}

static void
scan_fill(const struct kv_store *s, uint32_t e, struct kv_store_entry *out)
{
	const struct kv_entry *ent = &s->entries[e];

	out->key = kv_entry_key(s, ent);
	out->key_size = ent->key_size;
	out->value = kv_entry_value(s, ent);
	out->value_size = ent->value_size;
	out->mod_index = ent->mod_index;
}

int
kv_store_scan_local_nonlinearizable(const struct kv_store *s, const struct kv_scan *scan,
				    struct kv_store_entry *out, size_t *out_count, int *has_more)
{
	size_t bytes = 0;
	size_t n = 0;
	uint32_t e;

	ASSERT(s != NULL && scan != NULL);
	ASSERT(out != NULL && out_count != NULL && has_more != NULL);
	ASSERT(scan->prefix != NULL || scan->prefix_size == 0);
	ASSERT(scan->after != NULL || scan->after_size == 0);
	ASSERT(scan->count_max >= 1 && scan->bytes_max >= 1);
	*out_count = 0;
	*has_more = 0;
	for (e = scan_start(s, scan); e != KV_NONE; e = kv_tree_next(s, e)) {
		size_t size = (size_t)s->entries[e].key_size + s->entries[e].value_size;

		if (!scan_matches(s, e, scan)) {
			break;
		}
		if (n == scan->count_max || size > scan->bytes_max - bytes) {
			*has_more = 1;
			break;
		}
		scan_fill(s, e, &out[n++]);
		bytes += size;
	}
	if (n == 0 && *has_more) {
		/* The next key alone is over bytes_max: returning nothing would stall the caller.
		 */
		*has_more = 0;
		return -EMSGSIZE;
	}
	*out_count = n;
	ASSERT(bytes <= scan->bytes_max);
	return 0;
}

/* --- consistency check ---------------------------------------------------------------------- */

/* e's children point back at e, are valid entries and do not outrank it. */
static int
tree_check_node(const struct kv_store *s, uint32_t e)
{
	uint32_t children[2] = {s->entries[e].tree_left, s->entries[e].tree_right};

	for (size_t i = 0; i < 2; i++) {
		uint32_t c = children[i];

		if (c == KV_NONE) {
			continue;
		}
		if (c >= s->cfg.max_keys || s->entries[c].tree_parent != e ||
		    tree_priority(s, c) > tree_priority(s, e)) {
			return -EFAULT;
		}
	}
	return 0;
}

int
kv_tree_check(const struct kv_store *s)
{
	size_t count = 0;
	uint32_t prev = KV_NONE;

	if (s->tree_root != KV_NONE &&
	    (s->tree_root >= s->cfg.max_keys || s->entries[s->tree_root].tree_parent != KV_NONE)) {
		return -EFAULT;
	}
	for (uint32_t e = kv_tree_first(s); e != KV_NONE; e = kv_tree_next(s, e)) {
		const struct kv_entry *ent = &s->entries[e];

		/* The count bound also ends the walk should the links form a cycle. */
		if (e >= s->cfg.max_keys || ++count > s->key_count) {
			return -EFAULT;
		}
		if (tree_check_node(s, e) != 0 ||
		    kv_store_lookup(s, kv_entry_key(s, ent), ent->key_size) != e) {
			return -EFAULT;
		}
		if (prev != KV_NONE &&
		    tree_compare(s, prev, kv_entry_key(s, ent), ent->key_size) >= 0) {
			return -EFAULT;
		}
		prev = e;
	}
	return count == s->key_count ? 0 : -EFAULT;
}
