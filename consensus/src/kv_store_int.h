/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private layout of struct kv_store, shared by kv_store.c (state, apply, notifications) and
 * kv_snapshot.c (snapshot encode, verify, restore).
 *
 * Memory regions, all carved from the one block sized by kv_store_size():
 *  - entries[max_keys]: per-key metadata; free entries are chained through block_offset.
 *  - index[index_slots]: open addressing (linear probing, backward-shift deletion) from key hash
 *    to entry number; KV_NONE marks an empty slot. index_slots is a power of two >= 2 * max_keys.
 *  - arena[arena_capacity]: one block per key, [u32 owner entry][u32 block size][key][value],
 *    8-byte aligned, bump-allocated. A freed block is marked dead (owner KV_NONE); when the bump
 *    pointer reaches the end, live blocks slide down (compaction). arena_capacity =
 *    data_budget_size + KV_ARENA_OVERHEAD * max_keys, so a state within the logical budget always
 *    fits after compaction: fullness is a function of contents only.
 *  - clients[max_clients] + results[max_clients * result_capacity]: the dedupe table, indexed by
 *    client id through client_map (base_map: u64 id -> u32 slot), kept in an LRU list ordered by
 *    last_index (each execution moves its client to the tail, and log indices only grow).
 *  - the key-order index (kv_tree.c): a treap threaded through the entries (tree_left,
 *    tree_right, tree_parent; root tree_root), by key (kv_key_compare) and, as a max-heap, by
 *    the high 32 bits of key_hash. It serves prefix scans, snapshots and the restore diff.
 *  - scratch[max(max_keys, max_clients)]: sort space for snapshots and restore.
 *  - notify[notify_capacity]: notification records, FIFO between notify_head and notify_tail.
 */
#ifndef AETHER_CONSENSUS_KV_STORE_INT_H
#define AETHER_CONSENSUS_KV_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/map.h"
#include "consensus/kv_store.h"

#define KV_NONE              UINT32_MAX
/* Arena block header: owner entry number and block size. */
#define KV_BLOCK_HEADER_SIZE 8
/* Worst-case bytes a block adds to its key and value: the header plus 7 bytes of padding. */
#define KV_ARENA_OVERHEAD    (KV_BLOCK_HEADER_SIZE + 7)

struct kv_entry {
	size_t block_offset; /* in the arena; for a free entry, the next free entry number */
	uint64_t key_hash;   /* index hash (index_seed); local only; high half = treap priority */
	uint64_t mod_index;
	uint32_t key_size;
	uint32_t value_size;
	struct base_hash128 hash; /* digest term of (key, value, mod_index) */
	/* Key-order treap links (entry numbers, KV_NONE for none); meaningful for live entries. */
	uint32_t tree_left;
	uint32_t tree_right;
	uint32_t tree_parent;
};

struct kv_client {
	uint64_t client_id;
	uint64_t highest_seq;
	uint64_t last_index;
	struct base_hash128 hash; /* digest term */
	uint32_t result_size;
	uint32_t lru_prev;
	uint32_t lru_next;
};

/* A restore between begin and commit/abort. */
struct kv_restore {
	int is_open;
	const uint8_t *body; /* borrows */
	size_t body_size;
	uint64_t applied_index;
	size_t entry_count;
	size_t client_count;
	size_t clients_offset; /* where the client records start in body */
	/* Diff cursor: old keys sorted in scratch[0..old_count), new entries read from body. */
	size_t old_count;
	size_t old_pos;
	size_t new_left;
	size_t new_offset;
};

struct kv_store {
	uint64_t magic;
	struct kv_store_config cfg;
	void *allocation; /* the base_alloc block, when built by kv_store_create */
	uint64_t applied_index;

	struct kv_entry *entries;
	uint32_t entry_free;
	size_t key_count;
	size_t data_size;
	struct base_hash128 entry_sum;

	uint32_t *index;
	size_t index_mask;
	uint32_t tree_root; /* the key-order treap; KV_NONE when empty */

	uint8_t *arena;
	size_t arena_capacity;
	size_t arena_tail;

	struct kv_client *clients;
	uint8_t *results;
	size_t result_capacity; /* per client */
	size_t client_count;
	size_t result_bytes; /* sum of cached result sizes */
	uint32_t lru_head;
	uint32_t lru_tail;
	struct base_map *client_map;
	struct base_hash128 client_sum;

	uint32_t *scratch;

	uint8_t *notify;
	size_t notify_capacity;
	size_t notify_head;
	size_t notify_tail;
	size_t notify_count;

	struct kv_restore restore;
};

static inline const uint8_t *
kv_entry_key(const struct kv_store *s, const struct kv_entry *e)
{
	return s->arena + e->block_offset + KV_BLOCK_HEADER_SIZE;
}

static inline const uint8_t *
kv_entry_value(const struct kv_store *s, const struct kv_entry *e)
{
	return kv_entry_key(s, e) + e->key_size;
}

static inline uint8_t *
kv_client_result(const struct kv_store *s, uint32_t slot)
{
	return s->results + (size_t)slot * s->result_capacity;
}

/* memcmp order, a prefix before its extensions: the snapshot's key order. */
int kv_key_compare(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size);

/* The entry number holding key, or KV_NONE. */
uint32_t kv_store_lookup(const struct kv_store *s, const uint8_t *key, size_t key_size);

/* Digest terms. */
struct base_hash128 kv_entry_hash(const uint8_t *key, size_t key_size, const uint8_t *value,
				  size_t value_size, uint64_t mod_index);
struct base_hash128 kv_client_hash(const struct kv_client *c, const uint8_t *result);

/* Inserts a key that is absent, within the limits; no notification. Returns the entry number. */
uint32_t kv_store_insert(struct kv_store *s, const uint8_t *key, size_t key_size,
			 const uint8_t *value, size_t value_size, uint64_t mod_index);
/* Inserts a client that is absent while the table has room; no eviction. */
void kv_client_insert(struct kv_store *s, uint64_t client_id, uint64_t highest_seq,
		      uint64_t last_index, const uint8_t *result, size_t result_size);
/* Relinks the LRU list in (last_index, client_id) order, after clients were inserted. */
void kv_client_lru_rebuild(struct kv_store *s);
/* Empties entries, index, arena and the dedupe table; the notification queue stays. */
void kv_store_clear(struct kv_store *s);

/*
 * The key-order treap (kv_tree.c). insert: e is live (key in the arena, key_hash set), not yet
 * in the tree, and no live entry has its key. remove: e is in the tree; its key need not be
 * readable. first/next: in-order walk, KV_NONE at the end; O(1) amortized per step. check: 0
 * when the links, key order, heap order and count agree with the entries, else -EFAULT; O(n).
 * Expected cost of insert and remove: O(log n) key comparisons.
 */
void kv_tree_insert(struct kv_store *s, uint32_t e);
void kv_tree_remove(struct kv_store *s, uint32_t e);
uint32_t kv_tree_first(const struct kv_store *s);
uint32_t kv_tree_next(const struct kv_store *s, uint32_t e);
int kv_tree_check(const struct kv_store *s);

/* Sorts v[0..n) ascending by cmp (heapsort: in place, no recursion, no allocation). */
typedef int kv_sort_cmp_fn(const struct kv_store *s, uint32_t a, uint32_t b);
void kv_sort(const struct kv_store *s, uint32_t *v, size_t n, kv_sort_cmp_fn *cmp);
/* Fills scratch with the live entry numbers in key order (a tree walk, O(n)); returns their
 * count. */
size_t kv_store_sorted_keys(struct kv_store *s);

#endif /* AETHER_CONSENSUS_KV_STORE_INT_H */
