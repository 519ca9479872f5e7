/*
 * Open-addressing hash maps, so that every lookup in the mount code is O(1):
 * a container can have 10,000 mounts, and list scans made upstream quadratic.
 * Keys are either 64-bit integers or NUL-terminated strings (not copied:
 * the caller keeps them alive). Values are pointers; NULL means "absent".
 */
#ifndef CRIU_HASHMAP_H
#define CRIU_HASHMAP_H

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

/* Insert or replace; returns the previous value (NULL if none). */
void *hmap_put_int(struct hmap *m, uint64_t key, void *val);
void *hmap_get_int(const struct hmap *m, uint64_t key);
void *hmap_put_str(struct hmap *m, const char *key, void *val);
void *hmap_get_str(const struct hmap *m, const char *key);
/* Lookup by the first `len` bytes of `key` (for walking path prefixes). */
void *hmap_get_strn(const struct hmap *m, const char *key, size_t len);

#endif
