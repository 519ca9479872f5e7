/*
 * Open-addressing hash maps, so that every lookup in the mount code is O(1):
 * a container can have 10,000 mounts, and list scans made upstream quadratic.
 * Keys are either 64-bit integers or NUL-terminated strings (not copied:
 * the caller keeps them alive). Values are pointers; NULL means "absent" to
 * hmap_get_*. There is no removal.
 *
 * The members of struct hmap are private: use the functions below, and
 * hmap_for_each() or hmap_next() to visit the entries.
 */
#ifndef CRIU_HASHMAP_H
#define CRIU_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	uint64_t hash; /* 0: empty slot */
	uint64_t ikey;
	const char *skey;
	void *val;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap; /* power of two */
	size_t len;
};

void hmap_init(struct hmap *m);
void hmap_free(struct hmap *m);

/* Insert or replace; returns the previous value (NULL if none). Replacing
 * the value of a key already in the map never moves an entry. */
void *hmap_put_int(struct hmap *m, uint64_t key, void *val);
void *hmap_get_int(const struct hmap *m, uint64_t key);
void *hmap_put_str(struct hmap *m, const char *key, void *val);
void *hmap_get_str(const struct hmap *m, const char *key);
/* Lookup by the first `len` bytes of `key` (for walking path prefixes). */
void *hmap_get_strn(const struct hmap *m, const char *key, size_t len);

/* How many keys the map holds (values stored as NULL included). */
size_t hmap_len(const struct hmap *m);

/*
 * One entry of a walk over a map: its key (skey for a string key, else NULL
 * and ikey) and its value.
 */
struct hmap_iter {
	size_t next; /* private: the slot to look at next */
	uint64_t ikey;
	const char *skey;
	void *val;
};

#define HMAP_ITER_INIT                                                                                                 \
	{                                                                                                              \
		0, 0, NULL, NULL                                                                                       \
	}

/*
 * Moves `it` (set to HMAP_ITER_INIT first) to the next entry; false when
 * every entry has been visited. Each key is visited exactly once, in no
 * particular order. During a walk, the map may have values replaced
 * (hmap_put_* of a key it holds) but must not get new keys: a new key may
 * move every entry.
 */
bool hmap_next(const struct hmap *m, struct hmap_iter *it);

/*
 * Walks every entry of map `m` with `it`, a struct hmap_iter declared for
 * the loop:
 *
 *	hmap_for_each(&c->inodes, it)
 *		free(it.val);
 */
#define hmap_for_each(m, it) for (struct hmap_iter it = HMAP_ITER_INIT; hmap_next((m), &it);)

#endif
