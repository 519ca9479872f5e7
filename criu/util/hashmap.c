/*
 * Open addressing with linear probing (see hashmap.h). A slot's hash is
 * never 0, so 0 marks an empty slot; the table doubles before it is 3/4
 * full, so a probe always ends at an empty slot.
 */
#include <string.h>

#include "util/hashmap.h"
#include "util/util.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x | 1; /* never 0: 0 marks an empty slot */
}

static uint64_t hash_strn(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return mix64(h);
}

void hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	hmap_init(m);
}

static struct hmap_slot *find_slot(const struct hmap *m, uint64_t hash, uint64_t ikey, const char *skey, size_t slen)
{
	size_t mask = m->cap - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct hmap_slot *s = &m->slots[i];

		if (!s->hash)
			return s;
		if (s->hash != hash)
			continue;
		if (skey) {
			if (s->skey && !strncmp(s->skey, skey, slen) && s->skey[slen] == '\0')
				return s;
		} else if (!s->skey && s->ikey == ikey) {
			return s;
		}
	}
}

static void grow(struct hmap *m)
{
	struct hmap_slot *old = m->slots;
	size_t oldcap = m->cap;

	m->cap = oldcap ? oldcap * 2 : 64;
	m->slots = xzalloc(m->cap * sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].hash)
			continue;
		struct hmap_slot *s =
			find_slot(m, old[i].hash, old[i].ikey, old[i].skey, old[i].skey ? strlen(old[i].skey) : 0);
		*s = old[i];
	}
	free(old);
}

static void *put(struct hmap *m, uint64_t hash, uint64_t ikey, const char *skey, void *val)
{
	size_t slen = skey ? strlen(skey) : 0;
	struct hmap_slot *s = m->cap ? find_slot(m, hash, ikey, skey, slen) : NULL;
	void *prev;

	/* A new key: grow first, so the table stays under 3/4 full. A key
	 * already in the map is replaced where it is (a walk may be on). */
	if (!s || !s->hash) {
		if ((m->len + 1) * 4 >= m->cap * 3) {
			grow(m);
			s = find_slot(m, hash, ikey, skey, slen);
		}
		s->hash = hash;
		s->ikey = ikey;
		s->skey = skey;
		s->val = NULL;
		m->len++;
	}
	prev = s->val;
	s->val = val;
	return prev;
}

void *hmap_put_int(struct hmap *m, uint64_t key, void *val)
{
	return put(m, mix64(key), key, NULL, val);
}

void *hmap_get_int(const struct hmap *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	return find_slot(m, mix64(key), key, NULL, 0)->val;
}

void *hmap_put_str(struct hmap *m, const char *key, void *val)
{
	return put(m, hash_strn(key, strlen(key)), 0, key, val);
}

void *hmap_get_strn(const struct hmap *m, const char *key, size_t len)
{
	if (!m->cap)
		return NULL;
	return find_slot(m, hash_strn(key, len), 0, key, len)->val;
}

void *hmap_get_str(const struct hmap *m, const char *key)
{
	return hmap_get_strn(m, key, strlen(key));
}

size_t hmap_len(const struct hmap *m)
{
	return m->len;
}

bool hmap_next(const struct hmap *m, struct hmap_iter *it)
{
	while (it->next < m->cap) {
		const struct hmap_slot *s = &m->slots[it->next++];

		if (!s->hash)
			continue;
		it->ikey = s->ikey;
		it->skey = s->skey;
		it->val = s->val;
		return true;
	}
	return false;
}
